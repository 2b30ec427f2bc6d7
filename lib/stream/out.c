/*
 * out.c -- the buffered stdout writer.  Output between markers sits in
 * one buffer; ds_out_flush() at every marker hands the batch downstream.
 * A failed write is fatal and loud (exit 1), except EPIPE: a downstream
 * that stopped reading (head) ends us quietly, as SIGPIPE would.
 */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/stream.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define OUTSZ	(256 * 1024)

static char outbuf[OUTSZ];
static size_t outlen;

static void
writeall(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(STDOUT_FILENO, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {
				signal(SIGPIPE, SIG_DFL);
				raise(SIGPIPE);
				_exit(1);
			}
			err(1, "stdout");
		}
		p += w;
		n -= (size_t)w;
	}
}

void
ds_out_flush(void)
{
	writeall(outbuf, outlen);
	outlen = 0;
	ds_stats_check();
}

/* Count what a line written whole is, for the run summary. */
static void
count(const char *p, size_t n)
{
	if (!ds_is_control(p, n))
		ds_stats.out++;
	else if (n >= 14 && memcmp(p, "{\"@ds\":\"batch\"", 14) == 0)
		ds_stats.batches++;
}

static void
put(const void *p, size_t n)
{
	if (n == 0)
		return;		/* p may be NULL: an empty buffer */
	if (outlen + n > OUTSZ) {
		ds_out_flush();
		if (n > OUTSZ) {
			writeall(p, n);
			return;
		}
	}
	memcpy(outbuf + outlen, p, n);
	outlen += n;
}

/*
 * The newlines in s[0..n), 16 bytes at a time: a call to memchr for
 * each one cost more than the word count's whole split.
 */
static size_t
newlines(const char *s, size_t n)
{
	size_t i = 0, k = 0;
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
	__m128i x, acc;
	size_t j;

	while (i + 16 <= n) {
		/* 16 byte counters (a match is -1), summed before 255 */
		acc = zero;
		for (j = 0; j < 255 && i + 16 <= n; j++, i += 16) {
			x = _mm_loadu_si128((const __m128i *)(s + i));
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(x, nl));
		}
		acc = _mm_sad_epu8(acc, zero);
		k += _mm_cvtsi128_si32(acc) + _mm_extract_epi16(acc, 4);
	}
#endif
	for (; i < n; i++)
		k += s[i] == '\n';
	return k;
}

/* Raw bytes: data records already formatted, counted by their newlines. */
void
ds_out(const void *p, size_t n)
{
	if (n == 0)
		return;		/* p may be NULL: an empty buffer */
	ds_stats.out += newlines(p, n);
	put(p, n);
}

void
ds_out_line(const void *p, size_t n)
{
	count(p, n);
	if (outlen + n + 1 <= OUTSZ) {
		memcpy(outbuf + outlen, p, n);
		outbuf[outlen + n] = '\n';
		outlen += n + 1;
		return;
	}
	put(p, n);
	put("\n", 1);
}

void
ds_out_buf(struct ds_buf *b)
{
	ds_out_line(b->p, b->len);
}

void
ds_out_json(json_t *j)
{
	char *s;

	if ((s = json_dumps(j, JSON_COMPACT)) == NULL)
		errx(1, "cannot encode JSON output");
	ds_out_line(s, strlen(s));
	free(s);
}
