/*
 * ds-each -- any command on every batch: Spark's transform and
 * foreachRDD for the shell.  A batch's records are spooled to a
 * temporary file; at its marker COMMAND runs with them on its standard
 * input and the batch's seq, time, interval and stream in its
 * environment.  Its output becomes the batch's records (transform), or
 * is a side effect (--sink); either way the marker goes on only once
 * COMMAND succeeded.  With --persist one long-lived COMMAND gets every
 * batch, each followed by the batch's marker line, which it echoes when
 * it is done with the batch.
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ds.h"

#define WBUF		(256 * 1024)	/* spooled records held in memory */
#define BACKOFF_MAX	60000		/* ms */

enum {
	OPT_SINK = DS_OPT_FIRST_TOOL, OPT_PERSIST, OPT_EMPTY, OPT_TIMEOUT,
	OPT_RETRY, OPT_BACKOFF, OPT_SKIPFAILED, OPT_ACKS
};

/* A running COMMAND. */
struct cmd {
	struct ds_proc	 p;
	int		 in;		/* --persist: its stdin, or -1 */
	struct ds_in	*out;		/* --persist: its stdout */
};

static struct {
	char		*shv[4];	/* sh -c STRING */
	char		**argv;		/* COMMAND [ARG...] */
	const char	*name;		/* COMMAND, for messages */
	const char	*timeout_s;
	int		 sink, raw, persist, runempty, skipfailed, retry;
	int64_t		 timeout, backoff;
	struct ds_acks	 acks;
	int		 infd;		/* the batch's records */
	int		 outfd;		/* COMMAND's output for the batch */
	struct ds_buf	 ib;		/* records not yet in infd */
	struct ds_buf	 ob;		/* --persist: output not yet in outfd */
	int64_t		 nrec;		/* records in the batch */
	struct cmd	 c;
	char		 where[40];	/* "batch 7: " */
	char		 src[128];	/* the source of output lines */
	char		 tail[256];	/* COMMAND's last stderr line */
	char		 why[128];	/* how the last run failed */
	struct ds_buf	 q;		/* an output line, rewritten */
} E = { .acks = { NULL, -1, 0 }, .backoff = 1000,
	.c = { { -1, -1, { NULL, 0, 0 }, NULL, NULL }, -1, NULL } };

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ds-each [-hRV] [--sink [--acks PATH]] [--persist] "
	    "[--empty run|skip]\n"
	    "               [--timeout DURATION] [--retry N] "
	    "[--backoff DURATION] [--skip-failed]\n"
	    "               " DS_COMMON_USAGE "\n"
	    "               (-c STRING | [--] COMMAND [ARG...])\n");
	exit(status);
}

/* An unlinked temporary file, for a spool. */
static int
spool(void)
{
	const char *dir = getenv("TMPDIR");
	char *path;
	int fd;

	if (asprintf(&path, "%s/ds-each.XXXXXX",
	    dir != NULL && *dir != '\0' ? dir : "/tmp") == -1)
		err(1, NULL);
	if ((fd = mkostemp(path, O_CLOEXEC)) == -1)
		err(1, "%s", path);
	unlink(path);
	free(path);
	return fd;
}

static void
rewind_fd(int fd, int truncate)
{
	if (lseek(fd, 0, SEEK_SET) == -1 ||
	    (truncate && ftruncate(fd, 0) == -1))
		err(1, "spool");
}

/* A line reader on fd from its start (a new open file description). */
static struct ds_in *
reader(int fd, const char *name)
{
	struct ds_in *in;
	char path[32];

	snprintf(path, sizeof(path), "/dev/fd/%d", fd);
	if ((in = ds_in_open(path, ds_opts.maxline)) == NULL)
		err(1, "%s", path);
	in->name = name;
	return in;
}

static void
spill(int fd, struct ds_buf *b)
{
	if (ds_writeall(fd, b->p, b->len) == -1)
		err(1, "spool");
	ds_buf_clear(b);
}

static void
data(void *ctx, const struct ds_line *l)
{
	if (ds_check_line(l, 0) == -1)
		return;
	ds_buf_add(&E.ib, l->p, l->len);
	ds_buf_addc(&E.ib, '\n');
	E.nrec++;
	if (E.ib.len >= WBUF)
		spill(E.infd, &E.ib);
}

static void
setenvi(const char *k, int64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "%lld", (long long)v);
	if (setenv(k, b, 1) == -1)
		err(1, "setenv");
}

static void
setenvs(const char *k, const char *v)
{
	if (v == NULL)
		unsetenv(k);
	else if (setenv(k, v, 1) == -1)
		err(1, "setenv");
}

/* The batch in COMMAND's environment (m NULL: plain input). */
static void
env(json_t *m)
{
	json_t *w;
	static const char *const keys[] = { "DS_SEQ", "DS_TIME",
	    "DS_INTERVAL", "DS_STREAM", "DS_WINDOW_START", "DS_WINDOW_END" };
	size_t i;

	setenvi("DS_COUNT", E.nrec);
	if (m == NULL) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			unsetenv(keys[i]);
		return;
	}
	setenvi("DS_SEQ", ds_marker_int(m, "seq"));
	setenvi("DS_TIME", ds_marker_int(m, "time"));
	setenvi("DS_INTERVAL", ds_marker_int(m, "interval"));
	setenvs("DS_STREAM",
	    json_string_value(json_object_get(m, "stream")));
	w = json_object_get(m, "window");
	if (json_is_object(w)) {
		setenvi("DS_WINDOW_START", ds_marker_int(w, "start"));
		setenvi("DS_WINDOW_END", ds_marker_int(w, "end"));
	} else {
		unsetenv("DS_WINDOW_START");
		unsetenv("DS_WINDOW_END");
	}
}

/* One line of COMMAND's stderr: through, prefixed with the batch. */
static void
errline(void *ctx, const char *p, size_t n)
{
	warnx("%s%.*s", E.where, (int)n, p);
	if (n > 0) {
		if (n >= sizeof(E.tail))
			n = sizeof(E.tail) - 1;
		memcpy(E.tail, p, n);
		E.tail[n] = '\0';
	}
}

/* How COMMAND ended: 0 for exit 0, else -1 with E.why set. */
static int
status(int st, int timedout)
{
	if (timedout)
		snprintf(E.why, sizeof(E.why), "timed out after %s",
		    E.timeout_s);
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	else if (WIFEXITED(st))
		snprintf(E.why, sizeof(E.why), "exit status %d",
		    WEXITSTATUS(st));
	else
		snprintf(E.why, sizeof(E.why), "killed by signal %d",
		    WTERMSIG(st));
	return -1;
}

/* Wait for COMMAND to exit, relaying what it writes to stderr. */
static int
reap(struct cmd *c, int64_t deadline, int timedout)
{
	int st;

	if (ds_proc_wait(&c->p, deadline, &timedout, &st) == -1)
		err(1, "%s", E.name);
	return status(st, timedout);
}

/* Stop the co-process (killed when it failed). */
static void
coproc_stop(struct cmd *c, int force)
{
	if (c->in != -1)
		close(c->in);
	c->in = -1;
	if (force)
		kill(c->p.pid, SIGKILL);
	ds_in_close(c->out);
	c->out = NULL;
}

/* The co-process failed: kill it; why (NULL: how it ended) in E.why. */
static int
coproc_fail(struct cmd *c, const char *why, int timedout)
{
	char keep[sizeof(E.why)];

	if (why != NULL)
		snprintf(keep, sizeof(keep), "%s", why);
	coproc_stop(c, 1);
	reap(c, 0, timedout);
	if (why != NULL)
		snprintf(E.why, sizeof(E.why), "%s", keep);
	return -1;
}

static void
coproc_start(struct cmd *c)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		err(1, "pipe");
	if (ds_proc_spawn(&c->p, E.argv, in[0], out[1]) == -1)
		err(1, "%s", E.name);
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	if (fcntl(c->in, F_SETFL, O_NONBLOCK) == -1)
		err(1, "fcntl");
	c->out = reader(out[0], E.src);
	close(out[0]);
}

/*
 * A line of the co-process's output: 1 when it is the delimiter, the
 * marker of batch seq; -1 when it is another batch's marker; else 0.
 */
static int
coproc_line(const struct ds_line *l, int64_t seq)
{
	json_t *m;
	int64_t got;

	if (seq > 0 && !l->toolong && ds_is_control(l->p, l->len) &&
	    (m = ds_marker_parse(l)) != NULL) {
		got = ds_marker_is_batch(m) ? ds_marker_int(m, "seq") : 0;
		json_decref(m);
		if (got == seq)
			return 1;
		if (got != 0) {
			snprintf(E.why, sizeof(E.why), "echoed the marker of "
			    "batch %lld in batch %lld", (long long)got,
			    (long long)seq);
			return -1;
		}
	}
	if (E.sink)
		errline(NULL, l->p, l->len);
	else if (l->toolong)
		ds_bad(l, "line longer than %zu bytes", ds_opts.maxline);
	else {
		ds_buf_add(&E.ob, l->p, l->len);
		ds_buf_addc(&E.ob, '\n');
		if (E.ob.len >= WBUF)
			spill(E.outfd, &E.ob);
	}
	return 0;
}

/*
 * --persist: feed the spool (the batch and its marker line) to the
 * co-process and take its output up to the echoed marker of batch seq
 * (seq 0: up to the end of its output, after its input is closed).
 * One that stops reading (EPIPE) has usually exited, and the end of its
 * stdin may come before the end of its stdout: it is fed no more, and
 * reaped at the end of its output, so that the report names how it
 * ended whichever end we see first.
 */
static int
coproc_batch(struct cmd *c, int64_t seq, int64_t deadline)
{
	struct pollfd pfd[3];
	struct ds_line l;
	char buf[64 * 1024];
	off_t off = 0;
	ssize_t bl = 0, bo = 0, w;
	int n, r, lost = 0;

	if (c->p.pid == -1)
		coproc_start(c);
	for (;;) {
		while (ds_in_line(c->out, &l))
			if ((r = coproc_line(&l, seq)) == 1 && !lost)
				return 0;
			else if (r != 0)
				return coproc_fail(c, r == 1 ?
				    "closed its input" : E.why, 0);
		if (c->out->eof) {
			coproc_stop(c, 0);
			r = reap(c, deadline, 0);
			if (r == 0 && seq > 0)
				snprintf(E.why, sizeof(E.why), "ended without "
				    "echoing the marker");
			return seq > 0 ? -1 : r;
		}
		if (bo == bl && c->in != -1) {
			if ((bl = pread(E.infd, buf, sizeof(buf), off)) == -1)
				err(1, "spool");
			off += bl;
			bo = 0;
			if (bl == 0 && seq == 0) {
				close(c->in);	/* the end: no more input */
				c->in = -1;
			}
		}
		pfd[0].fd = bo < bl ? c->in : -1;
		pfd[0].events = POLLOUT;
		pfd[1].fd = c->out->fd;
		pfd[2].fd = c->p.err;
		pfd[1].events = pfd[2].events = POLLIN;
		if ((n = poll(pfd, 3, ds_poll_left(deadline))) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		if (n == 0)
			return coproc_fail(c, NULL, 1);
		if (pfd[0].revents != 0) {
			if ((w = write(c->in, buf + bo, bl - bo)) >= 0)
				bo += w;
			else if (errno != EAGAIN && errno != EINTR) {
				close(c->in);
				c->in = -1;
				bo = bl = 0;
				lost = 1;
			}
		}
		if (pfd[1].revents != 0)
			ds_in_fill(c->out);
		if (pfd[2].revents != 0 && ds_proc_errread(&c->p) == -2)
			err(1, "%s: stderr", E.name);
	}
}

/* Run COMMAND once on the spooled batch: 0 when it succeeded. */
static int
attempt(int64_t seq)
{
	int64_t deadline = E.timeout > 0 ? ds_now_ms() + E.timeout : 0;

	E.tail[0] = '\0';
	ds_buf_clear(&E.ob);
	if (!E.sink)
		rewind_fd(E.outfd, 1);
	if (E.persist)
		return coproc_batch(&E.c, seq, deadline);
	rewind_fd(E.infd, 0);
	/* --sink: what it writes is a side effect, relayed as stderr */
	if (ds_proc_spawn(&E.c.p, E.argv, E.infd, E.sink ? -1 : E.outfd) ==
	    -1)
		err(1, "%s", E.name);
	return reap(&E.c, deadline, 0);
}

/* The command's output as the batch's records (transform). */
static void
emit(void)
{
	struct ds_jscan js = { 0 };
	struct ds_in *in;
	struct ds_line l;

	spill(E.outfd, &E.ob);
	in = reader(E.outfd, E.src);
	for (;;) {
		if (!ds_in_line(in, &l)) {
			if (in->eof)
				break;
			ds_in_fill(in);
			continue;
		}
		if (ds_line_blank(&l))
			continue;
		if (E.raw) {
			if (l.toolong) {
				ds_bad(&l, "line longer than %zu bytes",
				    ds_opts.maxline);
				continue;
			}
			ds_buf_clear(&E.q);
			ds_buf_addq(&E.q, l.p, l.len);
			ds_out_buf(&E.q);
		} else if (ds_check_line_scan(&l, 1, &js) == 0) {
			if (js.hadws) {
				ds_buf_clear(&E.q);
				ds_json_compact(l.p, l.len, &E.q);
				ds_out_buf(&E.q);
			} else
				ds_out_line(l.p, l.len);
		}
	}
	ds_in_close(in);
}

static void
pause_ms(int64_t ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (!ds_stop && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Run the batch (m NULL: the plain input, or the end of the
 * co-process), with its retries; a batch that still fails ends us,
 * unless --skip-failed counts it as bad.  The command's output is read
 * through the shared reader, which counts what it reads as our input:
 * the run summary's in is put back to the records we read.
 */
static void
batch(json_t *m)
{
	int64_t seq = m != NULL ? ds_marker_int(m, "seq") : 0, delay, nbad;
	uint64_t in = ds_stats.in;
	char *s;
	int i;

	spill(E.infd, &E.ib);
	if (E.persist && m != NULL) {
		if ((s = json_dumps(m, JSON_COMPACT)) == NULL)
			err(1, NULL);
		ds_buf_adds(&E.ib, s);
		ds_buf_addc(&E.ib, '\n');
		free(s);
		spill(E.infd, &E.ib);
	}
	if (!E.persist)
		env(m);
	for (i = 0;; i++) {
		if (attempt(seq) == 0) {
			if (!E.sink)
				emit();
			break;
		}
		if (E.tail[0] != '\0')
			warnx("%s%s: %s (stderr: %s)", E.where, E.name, E.why,
			    E.tail);
		else
			warnx("%s%s: %s", E.where, E.name, E.why);
		if (i >= E.retry || ds_stop) {
			if (!E.skipfailed) {
				ds_stats.in = in;
				ds_out_flush();
				exit(1);
			}
			warnx("%sskipped, %lld record(s) counted as bad",
			    E.where, (long long)E.nrec);
			nbad = E.nrec > 0 ? E.nrec : 1;
			ds_bad_count += (unsigned long)nbad;
			ds_stats.bad += (uint64_t)nbad;
			break;
		}
		delay = E.backoff << (i < 16 ? i : 16);
		delay = delay > BACKOFF_MAX ? BACKOFF_MAX : delay;
		warnx("%sretry %d of %d in %lld ms", E.where, i + 1, E.retry,
		    (long long)delay);
		pause_ms(delay);
	}
	ds_stats.in = in;
	rewind_fd(E.infd, 1);
	E.nrec = 0;
}

static void
marker(void *ctx, json_t *m, const struct ds_line *l)
{
	long long seq = (long long)ds_marker_int(m, "seq");

	if (E.sink && ds_stop && json_is_true(json_object_get(m, "final"))) {
		/* cut short by a signal: not a real batch, leave it unacked */
		warnx("stopped: the last %lld record(s) not run",
		    (long long)E.nrec);
		json_decref(m);
		return;
	}
	snprintf(E.where, sizeof(E.where), "batch %lld: ", seq);
	snprintf(E.src, sizeof(E.src), "<%s output, batch %lld>", E.name,
	    seq);
	if (E.nrec > 0 || E.runempty)
		batch(m);
	ds_marker_emit(m);	/* only once the command succeeded */
	if (E.sink && ds_acks_write(&E.acks, m) == -1)
		err(1, "%s", E.acks.path);
	json_decref(m);
}

static void
end(void *ctx, unsigned long nmarkers)
{
	E.where[0] = '\0';
	snprintf(E.src, sizeof(E.src), "<%s output>", E.name);
	if (nmarkers == 0 ? E.nrec > 0 || E.runempty : E.c.p.pid != -1)
		batch(NULL);
}

static int64_t
duration(const char *opt, const char *s)
{
	int64_t ms;

	if (ds_duration(s, &ms, 0) == -1)
		errx(2, "%s: %s: expected a duration such as 500ms or 2s",
		    opt, s);
	return ms;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		DS_COMMON_LONGOPTS,
		{ "sink",	 no_argument,	    NULL, OPT_SINK },
		{ "persist",	 no_argument,	    NULL, OPT_PERSIST },
		{ "empty",	 required_argument, NULL, OPT_EMPTY },
		{ "timeout",	 required_argument, NULL, OPT_TIMEOUT },
		{ "retry",	 required_argument, NULL, OPT_RETRY },
		{ "backoff",	 required_argument, NULL, OPT_BACKOFF },
		{ "skip-failed", no_argument,	    NULL, OPT_SKIPFAILED },
		{ "acks",	 required_argument, NULL, OPT_ACKS },
		{ "raw",	 no_argument,	    NULL, 'R' },
		{ "help",	 no_argument,	    NULL, 'h' },
		{ "version",	 no_argument,	    NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct ds_stage st = { data, marker, NULL, end, NULL, 0 };
	const char *shell = NULL, *errstr;
	int ch;

	ds_signals();
	while ((ch = getopt_long(argc, argv, "+c:hRV", longopts,
	    NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'c':
			shell = optarg;
			break;
		case 'R':
			E.raw = 1;
			break;
		case OPT_SINK:
			E.sink = 1;
			break;
		case OPT_PERSIST:
			E.persist = 1;
			break;
		case OPT_EMPTY:
			if (strcmp(optarg, "run") != 0 &&
			    strcmp(optarg, "skip") != 0)
				errx(2, "--empty: %s: expected run or skip",
				    optarg);
			E.runempty = strcmp(optarg, "run") == 0;
			break;
		case OPT_TIMEOUT:
			E.timeout = duration("--timeout", optarg);
			E.timeout_s = optarg;
			break;
		case OPT_RETRY:
			E.retry = (int)strtonum(optarg, 0, 1000, &errstr);
			if (errstr != NULL)
				errx(2, "--retry: %s is %s", optarg, errstr);
			break;
		case OPT_BACKOFF:
			E.backoff = duration("--backoff", optarg);
			break;
		case OPT_SKIPFAILED:
			E.skipfailed = 1;
			break;
		case OPT_ACKS:
			E.acks.path = optarg;
			break;
		case 'h':
			usage(0);
		case 'V':
			ds_version();
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if ((shell == NULL) == (argc == 0)) {
		warnx("give either COMMAND or -c STRING");
		usage(2);
	}
	if (E.acks.path != NULL && !E.sink)
		errx(2, "--acks needs --sink");
	if (E.raw && E.sink)
		errx(2, "-R: --sink has no output records");
	if (shell != NULL) {
		E.shv[0] = "sh";
		E.shv[1] = "-c";
		E.shv[2] = (char *)shell;
		E.argv = E.shv;
		E.name = "sh -c";
	} else {
		E.argv = argv;
		E.name = argv[0];
	}
	E.c.p.errline = errline;
	/* a command that stops reading is its failure, not our death */
	signal(SIGPIPE, SIG_IGN);
	E.infd = spool();
	E.outfd = spool();

	ds_stage_run(&st, NULL, 0);

	if (ds_acks_close(&E.acks) == -1)
		err(1, "%s", E.acks.path);
	close(E.infd);
	close(E.outfd);
	ds_buf_free(&E.ib);
	ds_buf_free(&E.ob);
	ds_buf_free(&E.q);
	ds_buf_free(&E.c.p.el);
	return 0;
}
