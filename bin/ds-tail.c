/*
 * ds-tail -- follow log files into a ds pipeline, as Flume's TAILDIR
 * source does: files and globs followed through rotation by rename and
 * by copy-truncate, each line written as an NDJSON envelope (or raw),
 * each file's position kept in a position file and saved once written
 * or, in ack mode, once the last stage acknowledged the batch.  The
 * following itself (rotation, copies, truncation) is lib/stream's
 * follower; this file holds the envelopes, the positions and the acks.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds.h"

#define ACKWAIT_MS	60000
#define DRAIN_MS	5000		/* for the sink to close the acks */

enum {
	OPT_ACKS = DS_OPT_FIRST_TOOL, OPT_INFLIGHT, OPT_SEEN, OPT_RESUME
};

/* A line written in ack mode, waiting for its batch's ack. */
struct flight {
	struct ds_fent *e;
	off_t	 end;
	int64_t	 t;		/* when it was written */
};

static struct {
	struct ds_follow  f;
	int		  raw, eof;
	char		 *posdir, *posname;	/* NULL: no position file */
	const char	 *acks;		/* NULL: no ack mode */
	struct ds_ackin	  ack;
	int64_t		  interval;
	struct flight	 *q;		/* f.blocked: the queue is full */
	size_t		  qcap, qh, qn;
	int		  warned;
	int		  anyack;	/* a batch was acknowledged */
	struct ds_buf	  ob;
	int64_t		  saved;	/* when positions were saved last */
} T;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: ds-tail [-eR] [-i INTERVAL] [-p POSFILE] [--acks PATH]\n"
	    "               [--max-inflight N] [--seen FILE] [--progress]\n"
	    "               [--no-progress] [--stats] [--max-line BYTES]\n"
	    "               [--skip-bad] [--dead-letter FILE] FILE|GLOB ...\n"
	    "       ds-tail -p POSFILE --resume-time\n");
	exit(status);
}

/* Write one line of e, from byte at of its file to end. */
static void
emit(void *ctx, struct ds_fent *e, const char *p, size_t len, off_t at,
    off_t end)
{
	struct flight *f;

	ds_stats.in++;
	if (T.raw)
		ds_out_line(p, len);
	else {
		ds_buf_clear(&T.ob);
		ds_buf_adds(&T.ob, "{\"file\":");
		ds_buf_addq(&T.ob, e->path, strlen(e->path));
		ds_buf_addf(&T.ob, ",\"fp\":\"%016" PRIx64 "\",\"inode\":%llu,"
		    "\"offset\":%lld,\"line\":", e->fp,
		    (unsigned long long)e->ino, (long long)at);
		ds_buf_addq(&T.ob, p, len);
		ds_buf_addc(&T.ob, '}');
		ds_out_buf(&T.ob);
	}
	if (T.acks == NULL)
		return;
	f = &T.q[(T.qh + T.qn++) % T.qcap];
	f->e = e;
	f->end = end;
	f->t = ds_now_ms();
	e->pend++;
	T.f.blocked = T.qn == T.qcap;
}

/* A line over --max-line: a bad record (its first bytes). */
static void
toolong(void *ctx, struct ds_fent *e, const char *p, size_t len)
{
	struct ds_line l;

	l.p = p;
	l.len = len;
	l.lineno = e->lineno;
	l.src = e->path;
	l.toolong = 1;
	ds_bad(&l, "line longer than %zu bytes", ds_opts.maxline);
}

/* ------------------------------------------------------------------ */
/* the position file */

static void
save(int now)
{
	struct ds_buf b = { 0 };
	struct ds_fent *e;
	size_t i;
	int first = 1;

	if (T.posname == NULL || !T.f.dirty || (!now &&
	    ds_now_ms() - T.saved < T.interval))
		return;
	ds_buf_addf(&b, "{\"since\":%lld,\"files\":[", (long long)(T.qn > 0 ?
	    T.q[T.qh].t : ds_now_ms()));
	for (i = 0; i < T.f.n; i++) {
		e = T.f.e[i];
		if (e->dead)
			continue;
		ds_buf_addf(&b, "%s{\"fp\":\"%016" PRIx64 "\",\"inode\":%llu,"
		    "\"path\":", first ? "" : ",", e->fp,
		    (unsigned long long)e->ino);
		ds_buf_addq(&b, e->path, strlen(e->path));
		ds_buf_addf(&b, ",\"offset\":%lld}", (long long)e->acked);
		first = 0;
	}
	ds_buf_adds(&b, "]}");
	if (ds_ckpt_write(T.posdir, T.posname, b.p, b.len) == -1)
		err(1, "%s/%s", T.posdir, T.posname);
	ds_buf_free(&b);
	T.f.dirty = 0;
	T.saved = ds_now_ms();
}

/* Read the position file; returns its "since" (0 when none). */
static int64_t
load(void)
{
	json_t *j, *f, *v;
	json_error_t je;
	struct ds_fent *e;
	char *data;
	size_t len, i;
	int64_t since;

	if (T.posname == NULL)
		return 0;
	switch (ds_ckpt_read(T.posdir, T.posname, &data, &len)) {
	case 0:
		return 0;
	case -1:
		exit(1);
	}
	if ((j = json_loadb(data, len, 0, &je)) == NULL ||
	    !json_is_array(json_object_get(j, "files")))
		errx(1, "%s/%s: not a position file", T.posdir, T.posname);
	since = json_integer_value(json_object_get(j, "since"));
	json_array_foreach(json_object_get(j, "files"), i, f) {
		v = json_object_get(f, "fp");
		if (!json_is_string(v) || !json_is_string(json_object_get(f,
		    "path")))
			errx(1, "%s/%s: not a position file", T.posdir,
			    T.posname);
		e = ds_follow_add(&T.f, strtoull(json_string_value(v), NULL, 16),
		    json_string_value(json_object_get(f, "path")),
		    (off_t)json_integer_value(json_object_get(f, "offset")));
		e->ino = (ino_t)json_integer_value(json_object_get(f,
		    "inode"));
	}
	json_decref(j);
	free(data);
	T.f.dirty = 0;
	return since;
}

/*
 * --seen: records already delivered (ds-tail envelopes, or records or
 * Kafka envelopes whose value holds "inode", "offset" and best "line")
 * move the positions of the contents they came from past them.  They
 * are not lines of ours: the run summary's in leaves them out.
 */
static void
seen(const char *path)
{
	struct ds_in *in;
	struct ds_line l;
	json_t *r, *v, *line;
	json_int_t ino, off;
	uint64_t nin = ds_stats.in;

	if ((in = ds_in_open(path, ds_opts.maxline)) == NULL)
		err(1, "%s", path);
	while (ds_in_next(in, &l)) {
		if ((r = json_loadb(l.p, l.len, 0, NULL)) == NULL)
			continue;
		v = json_object_get(r, "value");
		v = json_is_object(v) ? v : r;
		ino = json_integer_value(json_object_get(v, "inode"));
		off = json_integer_value(json_object_get(v, "offset"));
		line = json_object_get(v, "line");
		if (ino > 0 && off >= 0)
			ds_follow_seen(&T.f, (ino_t)ino, (off_t)off,
			    json_string_value(line), json_string_length(line));
		json_decref(r);
	}
	ds_in_close(in);
	ds_stats.in = nin;
}

/* ------------------------------------------------------------------ */
/* ack mode: the same channel as ds-kafka-cat --acks */

/* A batch acknowledged: its records' positions can be saved. */
static void
ackline(void *ctx, json_t *m)
{
	int64_t count = 0;
	struct flight *f;

	if (ds_marker_is_batch(m)) {
		count = ds_marker_int(m, "count");
		T.anyack = 1;
	}
	if (count > (int64_t)T.qn && !T.warned++)
		warnx("%s: an ack counts more records than were written: "
		    "is a stage between ds-tail and ds-batch adding records?",
		    T.acks);
	for (; count > 0 && T.qn > 0; count--) {
		f = &T.q[T.qh];
		f->e->acked = f->end;
		f->e->pend--;
		T.qh = (T.qh + 1) % T.qcap;
		T.qn--;
		T.f.dirty = 1;
	}
	T.f.blocked = 0;
}

/* Read the acks there are; returns 1 at the end of the channel. */
static int
ackpoll(void)
{
	int r;

	if (T.acks == NULL)
		return 1;
	if ((r = ds_ackin_read(&T.ack, ackline, NULL)) == -1)
		err(1, "%s", T.acks);
	return r;
}

/*
 * -e in ack mode: close standard output so the pipeline drains, and
 * wait for the acks of what was written, so that a finished run leaves
 * its positions saved.  Ends when the channel has no writer left (the
 * sink is done: it may ack empty batches up to its end, and must not
 * find the channel closed), DRAIN_MS after everything is acknowledged,
 * or after ACKWAIT_MS without an ack.
 */
static void
ackwait(void)
{
	struct pollfd pfd;
	int64_t last = ds_now_ms();
	size_t was = T.qn;

	if (ds_ackin_drain(&T.ack) == -1)
		err(1, "/dev/null");
	while (!ds_stop) {
		pfd.fd = T.ack.fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) == 1 && (pfd.revents & POLLHUP))
			poll(NULL, 0, 200);	/* no writer: poll says so at once */
		/*
		 * The end of a FIFO counts once a sink wrote to it: before,
		 * the last stage may not have opened it yet.
		 */
		if (ackpoll() && (T.anyack || !T.ack.fifo))
			break;
		save(0);
		if (T.qn != was) {
			was = T.qn;
			last = ds_now_ms();
		} else if (T.qn == 0 && ds_now_ms() - last > DRAIN_MS)
			break;	/* all acknowledged, the sink lingers */
		else if (ds_now_ms() - last > ACKWAIT_MS) {
			warnx("%s: no ack for %d s, exiting with %zu line(s) "
			    "unacknowledged", T.acks, ACKWAIT_MS / 1000, T.qn);
			break;
		}
	}
}

/* ------------------------------------------------------------------ */

/* One pass over the followed files; returns the bytes consumed. */
static off_t
pass(void)
{
	struct ds_fent *e;
	off_t got;
	size_t i;

	if ((got = ds_follow_pass(&T.f)) == -1)
		err(1, "%s", T.f.failed);
	ds_out_flush();
	for (i = 0; T.acks == NULL && i < T.f.n; i++) {
		e = T.f.e[i];
		if (e->acked != e->off) {
			e->acked = e->off;	/* written is saved */
			T.f.dirty = 1;
		}
	}
	return got;
}

static void
progress(int caughtup)
{
	struct ds_fent *e;
	int64_t done = 0, total = 0;
	size_t i;

	for (i = 0; i < T.f.n; i++) {
		e = T.f.e[i];
		if (e->fd != -1) {
			done += e->off;
			total += e->size > e->off ? e->size : e->off;
		}
	}
	if (caughtup)
		ds_progress_end(done, total, "bytes");
	else
		ds_progress(done, total, "bytes");
}

static void
setpos(const char *path)
{
	char *s;

	if ((s = strrchr(path, '/')) == NULL) {
		T.posdir = strdup(".");
		T.posname = strdup(path);
	} else {
		T.posdir = strndup(path, s == path ? 1 : (size_t)(s - path));
		T.posname = strdup(s + 1);
	}
	if (T.posdir == NULL || T.posname == NULL)
		err(1, NULL);
	if (*T.posname == '\0')
		errx(2, "-p %s: not a file name", path);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		DS_COMMON_LONGOPTS,
		{ "acks",	  required_argument, NULL, OPT_ACKS },
		{ "max-inflight", required_argument, NULL, OPT_INFLIGHT },
		{ "seen",	  required_argument, NULL, OPT_SEEN },
		{ "resume-time",  no_argument,	     NULL, OPT_RESUME },
		{ "help",	  no_argument,	     NULL, 'h' },
		{ "version",	  no_argument,	     NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *errstr, *seenf = NULL;
	struct pollfd pfd;
	int ch, resume = 0, caughtup = 0;
	off_t got;

	ds_signals();
	T.interval = 250;
	T.qcap = 100000;
	while ((ch = getopt_long(argc, argv, "ehi:p:RV", longopts,
	    NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'e':
			T.eof = 1;
			break;
		case 'i':
			if (ds_duration(optarg, &T.interval, 0) == -1)
				errx(2, "-i %s: expected a duration such as "
				    "250ms or 1s", optarg);
			break;
		case 'p':
			setpos(optarg);
			break;
		case 'R':
			T.raw = 1;
			break;
		case OPT_ACKS:
			T.acks = optarg;
			break;
		case OPT_INFLIGHT:
			T.qcap = (size_t)strtonum(optarg, 1, 100000000, &errstr);
			if (errstr != NULL)
				errx(2, "--max-inflight %s: %s", optarg, errstr);
			break;
		case OPT_SEEN:
			seenf = optarg;
			break;
		case OPT_RESUME:
			resume = 1;
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

	if (resume) {
		if (T.posname == NULL || argc != 0)
			errx(2, "--resume-time needs -p POSFILE and no files");
		printf("%lld\n", (long long)load());
		return 0;
	}
	if (argc == 0)
		usage(2);
	if (T.acks != NULL && T.posname == NULL)
		errx(2, "--acks needs -p POSFILE (the positions it saves)");
	ds_follow_init(&T.f, argv, argc, ds_opts.maxline);
	T.f.line = emit;
	T.f.toolong = toolong;
	if (T.acks != NULL) {
		if ((T.q = calloc(T.qcap, sizeof(*T.q))) == NULL)
			err(1, NULL);
		if (ds_ackin_open(&T.ack, T.acks) == -1)
			err(1, "%s", T.acks);
	}
	load();
	if (ds_follow_scan(&T.f) == -1)
		err(1, "%s", T.f.failed);
	if (seenf != NULL)
		seen(seenf);
	for (;;) {
		got = pass();
		ackpoll();
		ds_follow_reap(&T.f);
		save(0);
		if (!caughtup && got == 0 && !T.f.blocked) {
			caughtup = 1;
			progress(1);
		} else if (!caughtup)
			progress(0);
		ds_stats_check();
		if (ds_stop || (T.eof && got == 0 && !T.f.blocked))
			break;
		if (got > 0 && !T.f.blocked)
			continue;
		pfd.fd = T.acks != NULL && T.ack.fifo ? T.ack.fd : -1;
		pfd.events = POLLIN;
		poll(&pfd, 1, (int)T.interval);
	}
	if (T.acks != NULL && T.eof && !ds_stop)
		ackwait();
	ds_out_flush();
	save(1);
	if (T.acks != NULL)
		ds_ackin_close(&T.ack);
	ds_follow_free(&T.f);
	free(T.q);
	ds_buf_free(&T.ob);
	return 0;
}
