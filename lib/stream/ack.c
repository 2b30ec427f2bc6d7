/*
 * ack.c -- the ack path of a sink (--acks PATH): each batch marker, once
 * the batch is durably written, appended as one line to a file or a FIFO
 * read by ds-kafka-cat --commit acks, which then commits its offsets.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/stream.h"

/*
 * Open the ack path.  A FIFO whose reader (ds-kafka-cat --acks) is gone
 * must not block the sink, nor kill it: what the sink wrote is what
 * recovery relies on, so it warns and writes on; the source then just
 * commits less, and a restart replays what it did not commit.
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
			err(1, "%s", a->path);
		if (!a->warned++)
			warnx("%s: no reader: offsets are not acknowledged",
			    a->path);
		return -1;
	}
	/* blocking writes from here on: a slow reader is backpressure */
	if ((fl = fcntl(a->fd, F_GETFL)) != -1)
		fcntl(a->fd, F_SETFL, fl & ~O_NONBLOCK);
	return 0;
}

void
ds_acks_write(struct ds_acks *a, json_t *m)
{
	void (*old)(int);
	char *s;
	size_t n;
	ssize_t w;

	if (a->path == NULL || ackopen(a) == -1)
		return;
	if ((s = json_dumps(m, JSON_COMPACT)) == NULL)
		err(1, NULL);
	n = strlen(s);
	s[n++] = '\n';		/* replaces the NUL: one write, one line */
	old = signal(SIGPIPE, SIG_IGN);
	w = write(a->fd, s, n);
	signal(SIGPIPE, old);
	if (w == -1 && errno == EPIPE) {
		warnx("%s: the reader went away: offsets are not "
		    "acknowledged", a->path);
		close(a->fd);
		a->fd = -1;
	} else if (w != (ssize_t)n)
		err(1, "%s", a->path);
	free(s);
}

void
ds_acks_close(struct ds_acks *a)
{
	if (a->fd != -1 && close(a->fd) == -1)
		err(1, "%s", a->path);
	a->fd = -1;
}
