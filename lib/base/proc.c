/*
 * proc.c -- a child process for a tool that runs commands: started with
 * its standard input and output where the tool says and its standard
 * error on a pipe, relayed line by line; waited for with a deadline,
 * its standard error read to the end meanwhile (a child that fills the
 * pipe would never exit).
 */
#include <sys/pidfd.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"

#define ERRLINE		4096		/* a longer stderr line is cut */

int
ds_proc_spawn(struct ds_proc *p, char *const argv[], int in, int out)
{
	int er[2];

	if (pipe2(er, O_CLOEXEC) == -1)
		return -1;
	if ((p->pid = fork()) == -1) {
		close(er[0]);
		close(er[1]);
		return -1;
	}
	if (p->pid == 0) {
		if (dup2(in, STDIN_FILENO) == -1 || dup2(out != -1 ? out :
		    er[1], STDOUT_FILENO) == -1 ||
		    dup2(er[1], STDERR_FILENO) == -1)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		warn("%s", argv[0]);
		_exit(127);
	}
	close(er[1]);
	p->err = er[0];
	return 0;
}

static void
errflush(struct ds_proc *p)
{
	if (p->el.len > 0)
		p->errline(p->ctx, p->el.p, p->el.len);
	ds_buf_clear(&p->el);
}

int
ds_proc_errread(struct ds_proc *p)
{
	char b[4096], *nl;
	ssize_t n;
	size_t k;

	if ((n = read(p->err, b, sizeof(b))) == -1)
		return errno == EINTR || errno == EAGAIN ? -1 : -2;
	if (n == 0) {
		errflush(p);
		close(p->err);
		p->err = -1;
		return 0;
	}
	ds_buf_add(&p->el, b, (size_t)n);
	while ((nl = memchr(p->el.p, '\n', p->el.len)) != NULL) {
		k = (size_t)(nl - p->el.p);
		p->errline(p->ctx, p->el.p, k);
		memmove(p->el.p, nl + 1, p->el.len - k - 1);
		p->el.len -= k + 1;
	}
	if (p->el.len >= ERRLINE)
		errflush(p);
	return 1;
}

int
ds_poll_left(int64_t deadline)
{
	int64_t ms;

	if (deadline == 0)
		return -1;
	ms = deadline - ds_now_ms();
	return ms < 0 ? 0 : ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* Until the child exits: relay its stderr, kill it at the deadline. */
static int
waitexit(struct ds_proc *p, int pidfd, int64_t deadline, int *timedout)
{
	struct pollfd pfd[2];
	int n;

	for (;;) {
		pfd[0].fd = pidfd;
		pfd[1].fd = p->err;
		pfd[0].events = pfd[1].events = POLLIN;
		n = poll(pfd, 2, *timedout ? -1 : ds_poll_left(deadline));
		if (n == -1 && errno != EINTR)
			return -1;
		if (n == 0) {
			kill(p->pid, SIGKILL);
			*timedout = 1;
			continue;
		}
		if (n > 0 && pfd[1].revents != 0 &&
		    ds_proc_errread(p) == -2)
			return -1;
		if (n > 0 && pfd[0].revents != 0)
			return 0;
	}
}

int
ds_proc_wait(struct ds_proc *p, int64_t deadline, int *timedout, int *st)
{
	int pidfd, r;

	if ((pidfd = pidfd_open(p->pid, 0)) == -1)
		return -1;
	r = waitexit(p, pidfd, deadline, timedout);
	close(pidfd);
	if (r == -1)
		return -1;
	while (waitpid(p->pid, st, 0) == -1)
		if (errno != EINTR)
			return -1;
	p->pid = -1;
	/* what it wrote before it exited: a child of it may hold the pipe */
	if (p->err != -1) {
		fcntl(p->err, F_SETFL, O_NONBLOCK);
		while (ds_proc_errread(p) == 1)
			;
		errflush(p);
		if (p->err != -1)
			close(p->err);
		p->err = -1;
	}
	return 0;
}
