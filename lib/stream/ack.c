/*
 * ack.c -- the ack path (--acks PATH) between a sink and a source: the
 * sink appends each batch marker, once the batch is durably written, as
 * one line to a file or a FIFO; the source (ds-kafka-cat --commit acks,
 * ds-tail --acks) reads the lines and commits what they cover.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/stream.h"

/*
 * Open the ack path for writing.  A FIFO whose reader (the source) is
 * gone must not block the sink, nor kill it: what the sink wrote is what
 * recovery relies on, so it warns and writes on; the source then just
 * commits less, and a restart replays what it did not commit.  Returns
 * 0, 1 when there is no reader, or -1 with errno set.
 */
static int
ackopen(struct ds_acks *a)
{
	int fl;

	if (a->fd != -1)
		return 0;
	a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK |
	    O_CLOEXEC, 0666);
	if (a->fd == -1) {
		if (errno != ENXIO)
			return -1;
		if (!a->warned++)
			warnx("%s: no reader: offsets are not acknowledged",
			    a->path);
		return 1;
	}
	/* blocking writes from here on: a slow reader is backpressure */
	if ((fl = fcntl(a->fd, F_GETFL)) != -1)
		fcntl(a->fd, F_SETFL, fl & ~O_NONBLOCK);
	return 0;
}

int
ds_acks_write(struct ds_acks *a, json_t *m)
{
	void (*old)(int);
	char *s;
	size_t n;
	ssize_t w;
	int r;

	if (a->path == NULL || (r = ackopen(a)) == 1)
		return 0;
	if (r == -1)
		return -1;
	if ((s = json_dumps(m, JSON_COMPACT)) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	n = strlen(s);
	s[n++] = '\n';		/* replaces the NUL: one write, one line */
	old = signal(SIGPIPE, SIG_IGN);
	w = write(a->fd, s, n);
	signal(SIGPIPE, old);
	free(s);
	if (w == -1 && errno == EPIPE) {
		warnx("%s: the reader went away: offsets are not "
		    "acknowledged", a->path);
		close(a->fd);
		a->fd = -1;
	} else if (w != (ssize_t)n) {
		if (w != -1)
			errno = EIO;	/* a short write of one line */
		return -1;
	}
	return 0;
}

int
ds_acks_close(struct ds_acks *a)
{
	int r = 0;

	if (a->fd != -1)
		r = close(a->fd);
	a->fd = -1;
	return r;
}

/* ------------------------------------------------------------------ */
/* the reading end */

int
ds_ackin_open(struct ds_ackin *a, const char *path)
{
	struct stat st;

	memset(a, 0, sizeof(*a));
	a->path = path;
	a->wfd = -1;
	if ((a->fd = open(path, O_RDONLY | O_NONBLOCK | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		return -1;
	/* hold the FIFO open for writing too: no EOF when a sink restarts */
	if (fstat(a->fd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		a->fifo = 1;
		a->wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	}
	return 0;
}

/* One line: a control record goes to fn, anything else is not an ack. */
static void
ackline(struct ds_ackin *a, const char *s, size_t n,
    void (*fn)(void *, json_t *), void *ctx)
{
	json_t *m;

	if (!ds_is_control(s, n))
		return;
	if ((m = json_loadb(s, n, 0, NULL)) == NULL) {
		warnx("%s: malformed ack line ignored", a->path);
		return;
	}
	fn(ctx, m);
	json_decref(m);
}

int
ds_ackin_read(struct ds_ackin *a, void (*fn)(void *, json_t *), void *ctx)
{
	char buf[65536], *nl;
	ssize_t n;
	size_t off;

	while ((n = read(a->fd, buf, sizeof(buf))) > 0)
		ds_buf_add(&a->buf, buf, (size_t)n);
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		return -1;
	off = 0;
	while (a->buf.len > off && (nl = memchr(a->buf.p + off, '\n',
	    a->buf.len - off)) != NULL) {
		ackline(a, a->buf.p + off, (size_t)(nl - a->buf.p) - off, fn,
		    ctx);
		off = (size_t)(nl - a->buf.p) + 1;
	}
	if (off > 0) {
		memmove(a->buf.p, a->buf.p + off, a->buf.len - off);
		a->buf.len -= off;
	}
	return n == 0;
}

int
ds_ackin_drain(struct ds_ackin *a)
{
	int fd;

	ds_out_flush();
	if ((fd = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1)
		return -1;
	if (dup2(fd, STDOUT_FILENO) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	if (a->wfd != -1) {
		close(a->wfd);		/* our own writer: EOF when theirs go */
		a->wfd = -1;
	}
	return 0;
}

void
ds_ackin_close(struct ds_ackin *a)
{
	if (a->fd != -1)
		close(a->fd);
	if (a->wfd != -1)
		close(a->wfd);
	a->fd = a->wfd = -1;
	ds_buf_free(&a->buf);
}
