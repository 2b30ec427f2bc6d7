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

#include "ds.h"

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
}

void
ds_out(const void *p, size_t n)
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

void
ds_out_line(const void *p, size_t n)
{
	if (outlen + n + 1 <= OUTSZ) {
		memcpy(outbuf + outlen, p, n);
		outbuf[outlen + n] = '\n';
		outlen += n + 1;
		return;
	}
	ds_out(p, n);
	ds_out("\n", 1);
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
