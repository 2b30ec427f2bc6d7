/*
 * stream/merge.c -- several inputs read as their lines arrive (Spark's
 * union), with a clock that runs while they are idle.
 */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#include "stream/stream.h"

/*
 * Drain what the open inputs have buffered, ask m->tick what to do
 * (after the drain, so lines read before a tick belong to the batch it
 * closes), and wait in poll(2) for more input or the tick's deadline.
 */
static int
loop(struct ds_in **in, int n, const struct ds_merge *m, struct pollfd *pfd,
    int *idx)
{
	struct ds_line l;
	int64_t wait;
	int i, nopen, np;

	for (;;) {
		nopen = np = 0;
		for (i = 0; i < n; i++) {
			if (in[i] == NULL)
				continue;
			while (!ds_stop && !m->paused(m->arg) &&
			    ds_in_line(in[i], &l))
				m->record(m->arg, &l);
			if (m->paused(m->arg)) {
				nopen++;	/* read on after the tick */
				continue;
			}
			if (in[i]->eof && !ds_stop) {
				ds_in_close(in[i]);
				in[i] = NULL;
				continue;
			}
			nopen++;
			pfd[np].fd = in[i]->fd;
			pfd[np].events = POLLIN;
			idx[np++] = i;
		}
		if ((wait = m->tick(m->arg, nopen)) == DS_MERGE_END ||
		    ds_stop)
			return 0;
		if (wait > INT_MAX)
			wait = INT_MAX;
		if (poll(pfd, np, (int)wait) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (i = 0; i < np; i++)
			if (pfd[i].revents != 0)
				ds_in_fill(in[idx[i]]);
	}
}

int
ds_in_merge(struct ds_in **in, int n, const struct ds_merge *m)
{
	struct pollfd *pfd;
	int *idx, i, rv, serrno;

	if ((pfd = calloc(n, sizeof(*pfd))) == NULL ||
	    (idx = calloc(n, sizeof(*idx))) == NULL)
		err(1, NULL);
	rv = loop(in, n, m, pfd, idx);
	serrno = errno;
	for (i = 0; i < n; i++) {
		ds_in_close(in[i]);
		in[i] = NULL;
	}
	free(pfd);
	free(idx);
	errno = serrno;
	return rv;
}
