/*
 * ds-batch -- cut NDJSON into micro-batches (Spark's batchDuration).
 *
 * The ingress of a pipeline: every line is validated (JSON, UTF-8,
 * limits, no forged control records), written out compact, and each
 * batch is closed with a marker.  Batches follow the wall clock (-i,
 * aligned to multiples of the interval, ticking while the input is
 * idle), a record or byte count (-n, -B), or the records' own event
 * time (-T).  Offsets of ds-kafka-cat envelopes go into the markers, and
 * --log DIR makes the boundaries replayable after a crash.
 * --max-rate-per-partition bounds what a batch takes of each partition
 * (Spark's maxRatePerPartition); the rest waits for later batches.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds.h"

enum {
	OPT_TIMEUNIT = DS_OPT_FIRST_TOOL, OPT_LATENESS, OPT_CREATED, OPT_LOG,
	OPT_MAXRATE
};

/* Empty event-time batches we are willing to emit between two records. */
#define MAXGAP	1000000

/* A batch: its counts, offsets and the records held until its turn. */
struct batch {
	int64_t		 k;	/* event time: index of [kI, (k+1)I) */
	int64_t		 count;
	int64_t		 bytes;
	struct ds_buf	 held;	/* lines, each with its '\n' */
	struct ds_offsets off;
};

static int64_t	 ival = 1000;		/* -i, ms */
static int64_t	 maxn, maxbytes;	/* -n, -B; 0: none */
static int	 evmode;		/* -T */
static struct ds_path tpath;
static int	 tpre = -1;		/* tval: 1 found, 0 absent, -1 unknown */
static struct ds_span tval;		/* the time field of this line */
static enum ds_tunit tunit = DS_TU_MS;
static int64_t	 lateness;
static int	 wantcreated;		/* --created */
static char	 streamid[40];		/* the markers' "stream", or "" */
static const char *logdir;
static struct ds_blog blog;
static int	 status;

static int64_t	 seq;			/* of the last marker emitted */
static int64_t	 lasttime = INT64_MIN;	/* its time */
static struct ds_buf scratch, topicbuf;

/*
 * The offsets seen in this run (a record at one of them came again),
 * during a replay also where the source said it starts; the replay
 * reads it to tell which logged batches are complete.
 */
static struct ds_offsets seen;
static int64_t	 redelivered;		/* since the last marker */

/* processing time: the open batch and the end of its interval */
static struct batch cur;
static int64_t	 tickend;

/*
 * --max-rate-per-partition: each partition's records in the open batch,
 * and the records that wait for a later batch, oldest first.
 */
struct pcount {
	int64_t		 n;		/* in the open batch */
	int64_t		 held;		/* waiting */
	uint64_t	 full;		/* the release pass that found it full */
};
static int64_t	 quota;			/* records a partition, 0: none */
static struct ds_hash parts;		/* topic \0 partition -> pcount */
static struct ds_buf held, keybuf;	/* waiting lines, each \n-ended */
static int64_t	 nheld;
static uint64_t	 npass;

/* event time: batches below lo are closed; lo's records are written
 * through, later batches (with records) are held in ob, sorted by k */
static struct batch *ob;
static size_t	 nob, obcap;
static int	 have, started;
static int64_t	 lo, maxt;

/* --log replay, and the new records that wait for it */
static struct ds_replay *rp;
static int	 replaying;
static struct batch nb;

static void
usage(int st)
{
	fprintf(st ? stderr : stdout, "usage: ds-batch [-i DURATION] "
	    "[-n N] [-B BYTES] [-T FIELD] [--time-unit s|ms|us]\n"
	    "\t[--lateness DURATION] [--created] [--log DIR] "
	    "[--max-rate-per-partition N]\n\t" DS_COMMON_USAGE
	    " [FILE ...]\n");
	exit(st);
}

static void
count(struct batch *b, size_t len, const struct ds_env *e)
{
	b->count++;
	b->bytes += (int64_t)len + 1;
	if (e != NULL)
		ds_offsets_see(&b->off, e->topic, e->tlen, e->part, e->off);
}

static void
hold(struct batch *b, const char *p, size_t len)
{
	ds_buf_add(&b->held, p, len);
	ds_buf_addc(&b->held, '\n');
}

static void
unhold(struct batch *b)
{
	ds_out(b->held.p, b->held.len);
	ds_buf_clear(&b->held);
}

static void
freebatch(struct batch *b)
{
	ds_buf_free(&b->held);
	ds_offsets_free(&b->off);
	memset(b, 0, sizeof(*b));
}

/* Write the marker, after logging it when --log is on. */
static void
put(json_t *m, int log)
{
	if (evmode && !wantcreated)
		json_object_del(m, "created");	/* reproducible output */
	if (streamid[0] != '\0')
		json_object_set_new(m, "stream", json_string(streamid));
	if (redelivered > 0) {
		warnx("batch %lld: dropped %lld record(s) delivered again "
		    "(offsets already seen: the source re-read after a "
		    "rebalance)", (long long)ds_marker_int(m, "seq"),
		    (long long)redelivered);
		redelivered = 0;
	}
	if (log && logdir != NULL)
		ds_blog_append(&blog, m);
	ds_marker_emit(m);
	json_decref(m);
}

static void	pt_release(void);
static void	pt_write(const char *, size_t, const struct ds_env *);

/* Close batch b with a new marker; times never go backwards. */
static void
emit(int64_t time, struct batch *b)
{
	if (time <= lasttime)
		time = lasttime + 1;
	put(ds_marker_new(++seq, time, ival, b->count,
	    ds_offsets_json(&b->off)), 1);
	lasttime = time;
	b->count = b->bytes = 0;
	ds_offsets_clear(&b->off);
	if (quota > 0 && !evmode)
		pt_release();
}

/* ---- processing time ---- */

/* The counts of a record's partition (records without offsets: one). */
static struct pcount *
pcount(const struct ds_env *e)
{
	struct ds_hent *h;
	int isnew;

	ds_buf_clear(&keybuf);
	if (e != NULL) {
		ds_buf_add(&keybuf, e->topic, e->tlen);
		ds_buf_addc(&keybuf, '\0');
		ds_buf_add(&keybuf, &e->part, sizeof(e->part));
	}
	h = ds_hash_put(&parts, keybuf.p != NULL ? keybuf.p : "", keybuf.len,
	    &isnew);
	if (isnew && (h->val = calloc(1, sizeof(struct pcount))) == NULL)
		err(1, NULL);
	return h->val;
}

/* Does the rate bound keep records waiting?  Then stop reading. */
static int
heldfull(void)
{
	return quota > 0 && nheld > 0 &&
	    nheld >= quota * (int64_t)ds_hash_count(&parts);
}

/*
 * A new batch began: the waiting records go in, oldest first, as far as
 * each partition's bound allows; a partition that is full keeps its
 * later records waiting too, so its offsets stay in order.
 */
static void
pt_release(void)
{
	struct ds_hent *h;
	struct pcount *pc;
	struct ds_env env;
	struct ds_buf rest = { 0 };
	const char *p, *e, *nl;
	size_t i = 0;
	int ise;

	while ((h = ds_hash_next(&parts, &i)) != NULL)
		((struct pcount *)h->val)->n = 0;
	if (nheld == 0)
		return;
	npass++;
	for (p = held.p, e = held.p + held.len; p < e; p = nl + 1) {
		nl = memchr(p, '\n', e - p);
		ise = ds_envelope(p, nl - p, &topicbuf, &env);
		pc = pcount(ise ? &env : NULL);
		if (pc->full == npass || pc->n >= quota) {
			pc->full = npass;
			ds_buf_add(&rest, p, nl - p + 1);
			continue;
		}
		pc->held--;
		nheld--;
		pc->n++;
		pt_write(p, nl - p, ise ? &env : NULL);
	}
	ds_buf_free(&held);
	held = rest;
}

static void
pt_settick(int64_t now)
{
	int64_t t = now > lasttime ? now : lasttime;

	tickend = (ds_floordiv(t, ival) + 1) * ival;
}

/* Close the batches whose interval has ended. */
static void
pt_tick(int64_t now)
{
	while (now >= tickend) {
		emit(tickend, &cur);
		tickend += ival;
		if (now - tickend > 1000 * ival)
			pt_settick(now);	/* asleep for long: jump */
	}
}

/* -n or -B reached: close early, at the current time. */
static void
pt_close(void)
{
	int64_t now = ds_now_ms();

	emit(now < tickend ? now : tickend, &cur);
	if (lasttime >= tickend)
		pt_settick(lasttime);
}

/*
 * End of input (or a signal): close the open batch as the one of its
 * interval, so its time stays on the grid windows are aligned to, and
 * mark it final: later stages flush their state on it (ds(7)).
 */
static void
pt_final(void)
{
	json_t *m;

	m = ds_marker_new(++seq, tickend > lasttime ? tickend : lasttime + 1,
	    ival, cur.count, ds_offsets_json(&cur.off));
	json_object_set_new(m, "final", json_true());
	lasttime = ds_marker_int(m, "time");
	put(m, 1);
	cur.count = cur.bytes = 0;
	ds_offsets_clear(&cur.off);
}

static void
pt_write(const char *p, size_t len, const struct ds_env *e)
{
	ds_out_line(p, len);
	count(&cur, len, e);
}

static void
pt_add(const char *p, size_t len, const struct ds_env *e)
{
	struct pcount *pc;

	if (quota > 0) {
		pc = pcount(e);
		if (pc->held > 0 || pc->n >= quota) {
			/* over the bound: wait for a later batch */
			pc->held++;
			nheld++;
			ds_buf_add(&held, p, len);
			ds_buf_addc(&held, '\n');
			return;
		}
		pc->n++;
	}
	pt_write(p, len, e);
	if ((maxn > 0 && cur.count >= maxn) ||
	    (maxbytes > 0 && cur.bytes >= maxbytes))
		pt_close();
}

/* ---- event time ---- */

static struct batch *
ev_batch(int64_t k)
{
	size_t i = nob;

	while (i > 0 && ob[i - 1].k > k)
		i--;
	if (i > 0 && ob[i - 1].k == k)
		return &ob[i - 1];
	if (nob == obcap) {
		struct batch *nob_ = reallocarray(ob, obcap ? obcap * 2 : 16,
		    sizeof(*ob));

		if (nob_ == NULL)
			err(1, NULL);
		ob = nob_;
		obcap = obcap ? obcap * 2 : 16;
	}
	memmove(&ob[i + 1], &ob[i], (nob - i) * sizeof(*ob));
	memset(&ob[i], 0, sizeof(*ob));
	ob[i].k = k;
	nob++;
	return &ob[i];
}

/*
 * Close every batch below nl in order, empty ones included once the
 * stream has started, then write out the held records of the new lo.
 */
static void
ev_advance(int64_t nl)
{
	struct batch empty = { 0 };

	while (lo < nl) {
		if (nob > 0 && ob[0].k == lo) {
			unhold(&ob[0]);
			emit((lo + 1) * ival, &ob[0]);
			started = 1;
			freebatch(&ob[0]);
			memmove(&ob[0], &ob[1], (--nob) * sizeof(*ob));
		} else if (started)
			emit((lo + 1) * ival, &empty);
		else if (nob > 0 && ob[0].k < nl) {
			lo = ob[0].k;	/* nothing before the first record */
			continue;
		} else {
			lo = nl;
			break;
		}
		lo++;
	}
	if (nob > 0 && ob[0].k == lo)
		unhold(&ob[0]);
	freebatch(&empty);
}

/* The event time of a record, or a bad record reported (-1). */
static int
ev_time(const struct ds_line *l, const char *p, size_t len, int64_t *t)
{
	struct ds_span v = tval;

	if (tpre == 0 || (tpre == -1 && !ds_json_get(p, len, &tpath, &v))) {
		ds_bad(l, "no time field \"%s\"", tpath.text);
		return -1;
	}
	if (ds_evtime(v, tunit, t) == -1 || *t < -(1LL << 60) ||
	    *t > (1LL << 60)) {
		ds_bad(l, "field \"%s\" is not a time: %.*s", tpath.text,
		    v.len > 64 ? 64 : (int)v.len, v.p);
		return -1;
	}
	return 0;
}

static void
ev_add(const struct ds_line *l, const char *p, size_t len,
    const struct ds_env *e)
{
	struct batch *b;
	int64_t t, k, nl;

	if (ev_time(l, p, len, &t) == -1)
		return;
	k = ds_floordiv(t, ival);
	if (have && k < lo) {
		ds_bad(l, "late record: time %lld is in batch %lld..%lld, "
		    "already closed (lateness %lld ms)", (long long)t,
		    (long long)(k * ival), (long long)((k + 1) * ival),
		    (long long)lateness);
		return;
	}
	/* the empty batches between would be markers: bound them */
	if (have && (started || nob > 0) &&
	    k - (started ? lo : ob[0].k) > MAXGAP + lateness / ival) {
		ds_bad(l, "time %lld is more than %d intervals after the "
		    "open batches", (long long)t, MAXGAP);
		return;
	}
	if (!have) {
		have = 1;
		maxt = t;
		lo = ds_floordiv(t - lateness, ival);
	} else if (t > maxt) {
		maxt = t;
		nl = ds_floordiv(t - lateness, ival);
		if (nl > lo)
			ev_advance(nl);
	}
	b = ev_batch(k);
	count(b, len, e);
	if (k == lo)
		ds_out_line(p, len);
	else
		hold(b, p, len);
}

/* End of input: close every open batch, up to the one of maxt. */
static void
ev_finish(void)
{
	if (have)
		ev_advance(ds_floordiv(maxt, ival) + 1);
}

/* ---- --log replay ---- */

static void
add(const struct ds_line *l, const char *p, size_t len,
    const struct ds_env *e)
{
	if (evmode)
		ev_add(l, p, len, e);
	else
		pt_add(p, len, e);
}

static void
replay_end(void)
{
	struct ds_line l = { 0 };
	struct ds_env env;
	const char *p, *e, *nl;
	struct ds_buf held = nb.held;

	replaying = 0;
	if (evmode) {
		have = 1;
		lo = ds_floordiv(lasttime, ival);
		maxt = INT64_MIN / 2;
		started = 0;
	} else
		pt_settick(ds_now_ms());
	/* the new records that waited for the log's batches */
	memset(&nb.held, 0, sizeof(nb.held));
	l.src = "(held during replay)";
	tpre = -1;
	for (p = held.p, e = held.len > 0 ? p + held.len : p; p < e;
	    p = nl + 1) {
		nl = memchr(p, '\n', e - p);
		add(&l, p, nl - p, ds_envelope(p, nl - p, &topicbuf, &env) ?
		    &env : NULL);
	}
	ds_buf_free(&held);
	freebatch(&nb);
}

/* A logged batch's marker, as it was the first time. */
static void
replayed(void *arg, json_t *m)
{
	put(m, 0);
}

static void
replay_pump(int final)
{
	if (replaying && ds_replay_pump(rp, final))
		replay_end();
}

static void
replay_route(const struct ds_line *l, const char *p, size_t len,
    const struct ds_env *e)
{
	char why[256];
	int64_t t;

	switch (ds_replay_route(rp, p, len, e, why, sizeof(why))) {
	case DS_RP_HELD:
		replay_pump(0);
		return;
	case DS_RP_BAD:
		ds_bad(l, "%s", why);
		return;
	}
	/* beyond the log: a new batch, after the logged ones */
	if (evmode) {
		if (ev_time(l, p, len, &t) == -1)
			return;
		if (t < lasttime) {
			ds_bad(l, "late record: time %lld is before the last "
			    "logged batch (%lld)", (long long)t,
			    (long long)lasttime);
			return;
		}
	}
	hold(&nb, p, len);
	replay_pump(0);
}

static void
replay_init(void)
{
	ds_blog_open(&blog, logdir);
	if (blog.stream != NULL)	/* the same stream, continued */
		strlcpy(streamid, blog.stream, sizeof(streamid));
	if ((rp = ds_replay_new(&blog, &seen, replayed, NULL)) == NULL)
		return;
	seq = blog.e[blog.n - 1].seq;
	lasttime = blog.e[blog.n - 1].time;
	replaying = 1;
	replay_pump(0);
}

static void
cleanup(void)
{
	struct ds_hent *h;
	size_t i;

	ds_replay_free(rp);
	freebatch(&nb);
	freebatch(&cur);
	for (i = 0; i < nob; i++)
		freebatch(&ob[i]);
	free(ob);
	ds_buf_free(&scratch);
	ds_buf_free(&topicbuf);
	ds_offsets_free(&seen);
	i = 0;
	while ((h = ds_hash_next(&parts, &i)) != NULL)
		free(h->val);
	ds_hash_free(&parts);
	ds_buf_free(&held);
	ds_buf_free(&keybuf);
	if (evmode)
		ds_path_free(&tpath);
	if (logdir != NULL)
		ds_blog_close(&blog);
}

/* ---- input ---- */

#define ASSIGN	"{\"@ds\":\"assign\","

/*
 * ds-kafka-cat's assign record (ack mode): where the newly assigned
 * partitions start.  A replay learns from it which logged batches were
 * committed; it is not passed on.
 */
static void
assigned(const struct ds_line *l)
{
	json_t *m, *o, *e, *pa, *from;
	const char *t;
	size_t i;

	if ((m = json_loadb(l->p, l->len, 0, NULL)) == NULL ||
	    !json_is_array(o = json_object_get(m, "offsets"))) {
		ds_bad(l, "malformed assign record");
		json_decref(m);
		return;
	}
	json_array_foreach(o, i, e) {
		t = json_string_value(json_object_get(e, "topic"));
		pa = json_object_get(e, "partition");
		from = json_object_get(e, "from");
		if (t == NULL || !json_is_integer(pa)) {
			ds_bad(l, "malformed assign record");
			break;
		}
		if (replaying)
			ds_replay_start(rp, t, strlen(t),
			    (int32_t)json_integer_value(pa),
			    json_is_integer(from) ? json_integer_value(from) :
			    -1);
	}
	json_decref(m);
	replay_pump(0);
}

static void
record(const struct ds_line *l)
{
	const char *p = l->p;
	size_t len = l->len;
	struct ds_env e;
	int ise;

	if (ds_line_blank(l))
		return;
	if (len > sizeof(ASSIGN) - 1 && memcmp(p, ASSIGN,
	    sizeof(ASSIGN) - 1) == 0) {
		assigned(l);
		return;
	}
	if (evmode && tpath.n == 1) {
		/* find the time in the validating pass: -T costs one scan */
		if ((tpre = ds_check_line_get(l, 1, tpath.key[0],
		    tpath.klen[0], &tval)) == -1)
			return;
	} else if (ds_check_line(l, 1) == -1)
		return;
	if (ds_json_hadws()) {
		ds_buf_clear(&scratch);
		ds_json_compact(p, len, &scratch);
		p = scratch.p;
		len = scratch.len;
	}
	/* Kafka delivers a partition in offset order: a record at an
	 * offset already seen comes again (a rebalance re-reads from the
	 * committed offset) and is in a batch already */
	ise = ds_envelope(p, len, &topicbuf, &e);
	if (ise && !ds_offsets_fresh(&seen, e.topic, e.tlen, e.part, e.off)) {
		redelivered++;
		return;
	}
	if (replaying)
		replay_route(l, p, len, ise ? &e : NULL);
	else
		add(l, p, len, ise ? &e : NULL);
}

/*
 * The loop: drain what every input has buffered, close the batches
 * whose time has come (after the drain, so records read before a tick
 * belong to the batch it closes), and wait in poll(2) for more input
 * or the next tick, so the clock runs while the inputs are idle.  Several inputs
 * are merged as their lines arrive (Spark's union).
 */
static void
run(char **files, int nfiles)
{
	static char *stdinv[] = { "-" };
	struct ds_in **in;
	struct pollfd *pfd;
	struct ds_line l;
	int64_t now, wait;
	int i, nopen, np, *idx;

	if (nfiles == 0) {
		files = stdinv;
		nfiles = 1;
	}
	if ((in = calloc(nfiles, sizeof(*in))) == NULL ||
	    (pfd = calloc(nfiles, sizeof(*pfd))) == NULL ||
	    (idx = calloc(nfiles, sizeof(*idx))) == NULL)
		err(1, NULL);
	for (i = 0; i < nfiles; i++)
		in[i] = ds_in_open(files[i], ds_opts.maxline);
	pt_settick(ds_now_ms());
	for (;;) {
		nopen = np = 0;
		for (i = 0; i < nfiles; i++) {
			if (in[i] == NULL)
				continue;
			while (!ds_stop && !heldfull() &&
			    ds_in_line(in[i], &l))
				record(&l);
			if (heldfull()) {
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
		/* after the drain: what arrived before the tick is in */
		if (!evmode && !replaying)
			pt_tick(ds_now_ms());
		/* at the end, the waiting records still go at their rate */
		if ((nopen == 0 && (nheld == 0 || evmode)) || ds_stop)
			break;
		wait = -1;
		if (!evmode && !replaying) {
			now = ds_now_ms();
			wait = tickend > now ? tickend - now : 0;
			if (wait > INT_MAX)
				wait = INT_MAX;
		}
		if (poll(pfd, np, (int)wait) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		for (i = 0; i < np; i++)
			if (pfd[i].revents != 0)
				ds_in_fill(in[idx[i]]);
	}
	for (i = 0; i < nfiles; i++)
		ds_in_close(in[i]);
	free(in);
	free(pfd);
	free(idx);
}

int
main(int argc, char *argv[])
{
	static struct option lopts[] = {
		DS_COMMON_LONGOPTS,
		{ "time-unit",	required_argument, NULL, OPT_TIMEUNIT },
		{ "lateness",	required_argument, NULL, OPT_LATENESS },
		{ "created",	no_argument,	   NULL, OPT_CREATED },
		{ "log",	required_argument, NULL, OPT_LOG },
		{ "max-rate-per-partition", required_argument, NULL,
		    OPT_MAXRATE },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *errstr, *tfield = NULL;
	int64_t rate = 0;
	int ch, evopts = 0;

	ds_signals();
	while ((ch = getopt_long(argc, argv, "B:hi:n:T:V", lopts,
	    NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'B':
			if (ds_bytesize(optarg, &maxbytes) == -1 ||
			    maxbytes < 1)
				errx(2, "-B: %s: expected a size", optarg);
			break;
		case 'h':
			usage(0);
			break;
		case 'i':
			if (ds_duration(optarg, &ival, 0) == -1)
				errx(2, "-i: %s: expected a duration like "
				    "500ms, 2s, 1m", optarg);
			break;
		case 'n':
			maxn = strtonum(optarg, 1, INT64_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "-n: %s is %s", optarg, errstr);
			break;
		case 'T':
			tfield = optarg;
			break;
		case 'V':
			ds_version();
			break;
		case OPT_TIMEUNIT:
			evopts = 1;
			if (strcmp(optarg, "ms") == 0)
				tunit = DS_TU_MS;
			else if (strcmp(optarg, "s") == 0)
				tunit = DS_TU_S;
			else if (strcmp(optarg, "us") == 0)
				tunit = DS_TU_US;
			else
				errx(2, "--time-unit: %s: expected s, ms or us",
				    optarg);
			break;
		case OPT_LATENESS:
			evopts = 1;
			if (ds_duration(optarg, &lateness, 1) == -1)
				errx(2, "--lateness: %s: expected a duration",
				    optarg);
			break;
		case OPT_CREATED:
			evopts = 1;
			wantcreated = 1;
			break;
		case OPT_LOG:
			logdir = optarg;
			break;
		case OPT_MAXRATE:
			rate = strtonum(optarg, 1, 1000000000, &errstr);
			if (errstr != NULL)
				errx(2, "--max-rate-per-partition: %s is %s",
				    optarg, errstr);
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;

	if (tfield != NULL) {
		evmode = 1;
		if (ds_path_parse(tfield, &tpath) == -1)
			errx(2, "-T: %s: bad field path", tfield);
		if (maxn > 0 || maxbytes > 0)
			errx(2, "-n and -B cut processing-time batches; "
			    "they do not go with -T");
	} else if (evopts)
		errx(2, "--time-unit, --lateness and --created go with -T");
	if (rate > 0 && (evmode || maxn > 0 || maxbytes > 0))
		errx(2, "--max-rate-per-partition bounds the batches of -i; "
		    "it does not go with -T, -n or -B");
	if (rate > 0) {
		/* Spark: rate x batch seconds, at least 1 */
		if ((quota = rate * ival / 1000) < 1)
			quota = 1;
	}

	/*
	 * Each run is a new stream, so stages with a checkpoint do not take
	 * its batches (seq from 1 again) for replays; --log continues the
	 * logged stream.  Event-time output stays reproducible: no id
	 * without --log.
	 */
	if (!evmode || logdir != NULL)
		snprintf(streamid, sizeof(streamid), "%" PRIx64 "-%08" PRIx32,
		    (uint64_t)ds_now_ms(), arc4random());
	if (logdir != NULL)
		replay_init();
	run(argv, argc);
	/* end of input or SIGINT/SIGTERM: close what is open */
	if (replaying)
		replay_pump(1);
	while (nheld > 0)		/* stopped by a signal: write them */
		pt_tick(tickend);
	if (evmode)
		ev_finish();
	else if (cur.count > 0 || ds_bad_count > 0)	/* bad ones count too */
		pt_final();
	ds_out_flush();
	if (rp != NULL && ds_replay_errors(rp) > 0)
		status = 1;	/* an incomplete replay is an error */
	cleanup();
	return status;
}
