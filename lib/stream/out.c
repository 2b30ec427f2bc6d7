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

/* Raw bytes: data records already formatted, counted by their newlines. */
void
ds_out(const void *p, size_t n)
{
	const char *s = p, *e;

	if (n == 0)
		return;		/* p may be NULL: an empty buffer */
	e = s + n;
	while (s < e && (s = memchr(s, '\n', (size_t)(e - s))) != NULL) {
		ds_stats.out++;
		s++;
	}
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
