/*
 * in.c -- the NDJSON line reader: one large buffer per input, lines
 * returned in place (NUL-terminated, without \n or \r\n), line numbers,
 * a length limit that discards the rest of an over-long line, and a
 * final line without its newline.  The buffer stays bounded by maxline
 * plus one read, whatever the input's length.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/stream.h"

#define READSZ		(256 * 1024)
#define RAWKEEP		4096	/* bytes of an over-long line we report */

struct ds_in *
ds_in_open(const char *path, size_t maxline)
{
	struct ds_in *in;
	int fd = STDIN_FILENO;

	if (path != NULL && strcmp(path, "-") != 0 &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	if ((in = calloc(1, sizeof(*in))) == NULL)
		err(1, NULL);
	in->fd = fd;
	in->name = fd == STDIN_FILENO ? "<stdin>" : path;
	in->maxline = maxline;
	in->cap = READSZ + 1;
	if ((in->buf = malloc(in->cap)) == NULL)
		err(1, NULL);
	return in;
}

void
ds_in_close(struct ds_in *in)
{
	if (in == NULL)
		return;
	if (in->fd != STDIN_FILENO)
		close(in->fd);
	free(in->buf);
	free(in);
}

static void
setline(struct ds_in *in, struct ds_line *l, size_t len)
{
	char *p = in->buf + in->start;

	if (len > 0 && p[len - 1] == '\r')
		len--;
	p[len] = '\0';
	l->p = p;
	l->len = len;
	l->lineno = ++in->lineno;
	l->src = in->name;
	l->toolong = 0;
	if (!ds_is_control(p, len))
		ds_stats.in++;
}

int
ds_in_line(struct ds_in *in, struct ds_line *l)
{
	char *nl;
	size_t from, len;

	for (;;) {
		from = in->scan > in->start ? in->scan : in->start;
		nl = from < in->end ?
		    memchr(in->buf + from, '\n', in->end - from) : NULL;
		if (nl != NULL) {
			len = nl - (in->buf + in->start);
			if (in->skipping) {
				/* the tail of a line already reported */
				in->skipping = 0;
				in->start = in->scan = len + in->start + 1;
				continue;
			}
			setline(in, l, len);
			in->start += len + 1;
			in->scan = in->start;
			if (len > in->maxline) {
				l->len = l->len < RAWKEEP ? l->len : RAWKEEP;
				l->toolong = 1;
			}
			return 1;
		}
		in->scan = in->end;
		len = in->end - in->start;
		if (in->skipping) {
			in->start = in->scan = in->end;
			return 0;
		}
		if (len > in->maxline) {
			/* report the start now, drop the rest as it comes */
			setline(in, l, RAWKEEP < len ? RAWKEEP : len);
			l->toolong = 1;
			in->skipping = 1;
			in->start = in->scan = in->end;
			return 1;
		}
		if (in->eof && len > 0) {
			setline(in, l, len);
			in->start = in->scan = in->end;
			return 1;
		}
		return 0;
	}
}

ssize_t
ds_in_fill(struct ds_in *in)
{
	ssize_t n;
	size_t want;

	if (in->eof)
		return 0;
	if (in->start > 0) {
		memmove(in->buf, in->buf + in->start, in->end - in->start);
		in->end -= in->start;
		in->scan -= in->start;
		in->start = 0;
	}
	if (in->cap - 1 - in->end < READSZ / 2) {
		want = in->cap * 2;
		if ((in->buf = realloc(in->buf, want)) == NULL)
			err(1, NULL);
		in->cap = want;
	}
	n = read(in->fd, in->buf + in->end, in->cap - 1 - in->end);
	ds_stats_check();
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN)
			return -1;
		err(1, "%s", in->name);
	}
	if (n == 0)
		in->eof = 1;
	in->end += n;
	return n;
}

int
ds_in_next(struct ds_in *in, struct ds_line *l)
{
	for (;;) {
		if (ds_in_line(in, l))
			return 1;
		if (in->eof || ds_stop)
			return 0;
		ds_in_fill(in);
	}
}

int
ds_line_blank(const struct ds_line *l)
{
	size_t i;

	if (l->toolong)
		return 0;
	for (i = 0; i < l->len; i++)
		if (l->p[i] != ' ' && l->p[i] != '\t' && l->p[i] != '\r')
			return 0;
	return 1;
}
