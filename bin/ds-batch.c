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
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds.h"

enum {
	OPT_TIMEUNIT = DS_OPT_FIRST_TOOL, OPT_LATENESS, OPT_CREATED, OPT_LOG,
	OPT_MAXRATE
};

struct batcher {
	/* options */
	int64_t		 ival;		/* -i, ms */
	int64_t		 maxn, maxbytes;	/* -n, -B; 0: none */
	int		 evmode;	/* -T */
	struct ds_path	 tpath;
	enum ds_tunit	 tunit;
	int64_t		 lateness;
	int		 wantcreated;	/* --created */
	char		 streamid[40];	/* the markers' "stream", or "" */
	const char	*logdir;
	struct ds_rate	 rate;		/* --max-rate-per-partition */

	int		 status;
	int64_t		 seq;		/* of the last marker emitted */
	int64_t		 lasttime;	/* its time */
	int		 tpre;		/* tval: 1 found, 0 not, -1 unknown */
	struct ds_span	 tval;		/* the time field of this line */
	struct ds_buf	 scratch, topicbuf;
	/*
	 * The offsets seen in this run (a record at one of them came
	 * again), during a replay also where the source said it starts;
	 * the replay reads it to tell which logged batches are complete.
	 */
	struct ds_offsets seen;
	int64_t		 redelivered;	/* since the last marker */

	/* processing time: the open batch and the end of its interval */
	struct ds_cutb	 cur;
	int64_t		 tickend;

	struct ds_evclk	 ev;		/* event time */

	/* --log: the log, its replay, and the new records that wait */
	struct ds_blog	 blog;
	struct ds_replay *rp;
	int		 replaying;
	struct ds_cutb	 nb;
};

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

/* Write the marker, after logging it when --log is on. */
static void
put(struct batcher *bt, json_t *m, int log)
{
	char msg[512];

	if (bt->evmode && !bt->wantcreated)
		json_object_del(m, "created");	/* reproducible output */
	if (bt->streamid[0] != '\0')
		json_object_set_new(m, "stream", json_string(bt->streamid));
	if (bt->redelivered > 0) {
		warnx("batch %lld: dropped %lld record(s) delivered again "
		    "(offsets already seen: the source re-read after a "
		    "rebalance)", (long long)ds_marker_int(m, "seq"),
		    (long long)bt->redelivered);
		bt->redelivered = 0;
	}
	if (log && bt->logdir != NULL &&
	    ds_blog_append(&bt->blog, m, msg, sizeof(msg)) == -1)
		errx(1, "%s", msg);
	ds_marker_emit(m);
	json_decref(m);
}

static void	pt_write(void *, const char *, size_t, const struct ds_env *);

/* Close batch b with a new marker; times never go backwards. */
static void
emit(void *arg, int64_t time, struct ds_cutb *b)
{
	struct batcher *bt = arg;

	if (time <= bt->lasttime)
		time = bt->lasttime + 1;
	put(bt, ds_marker_new(++bt->seq, time, bt->ival, b->count,
	    ds_offsets_json(&b->off)), 1);
	bt->lasttime = time;
	ds_cutb_closed(b);
	if (bt->rate.quota > 0 && !bt->evmode)
		ds_rate_release(&bt->rate, pt_write, bt);
}

/* ---- processing time ---- */

static void
pt_settick(struct batcher *bt, int64_t now)
{
	int64_t t = now > bt->lasttime ? now : bt->lasttime;

	bt->tickend = (ds_floordiv(t, bt->ival) + 1) * bt->ival;
}

/* Close the batches whose interval has ended. */
static void
pt_tick(struct batcher *bt, int64_t now)
{
	while (now >= bt->tickend) {
		emit(bt, bt->tickend, &bt->cur);
		bt->tickend += bt->ival;
		if (now - bt->tickend > 1000 * bt->ival)
			pt_settick(bt, now);	/* asleep for long: jump */
	}
}

/* -n or -B reached: close early, at the current time. */
static void
pt_close(struct batcher *bt)
{
	int64_t now = ds_now_ms();

	emit(bt, now < bt->tickend ? now : bt->tickend, &bt->cur);
	if (bt->lasttime >= bt->tickend)
		pt_settick(bt, bt->lasttime);
}

/*
 * End of input (or a signal): close the open batch as the one of its
 * interval, so its time stays on the grid windows are aligned to, and
 * mark it final: later stages flush their state on it (ds(7)).
 */
static void
pt_final(struct batcher *bt)
{
	json_t *m;

	m = ds_marker_new(++bt->seq, bt->tickend > bt->lasttime ?
	    bt->tickend : bt->lasttime + 1, bt->ival, bt->cur.count,
	    ds_offsets_json(&bt->cur.off));
	json_object_set_new(m, "final", json_true());
	bt->lasttime = ds_marker_int(m, "time");
	put(bt, m, 1);
	ds_cutb_closed(&bt->cur);
}

static void
pt_write(void *arg, const char *p, size_t len, const struct ds_env *e)
{
	struct batcher *bt = arg;

	ds_out_line(p, len);
	ds_cutb_count(&bt->cur, len, e);
}

static void
pt_add(struct batcher *bt, const char *p, size_t len, const struct ds_env *e)
{
	if (!ds_rate_admit(&bt->rate, p, len, e))
		return;		/* over the bound: waits for a later batch */
	pt_write(bt, p, len, e);
	if ((bt->maxn > 0 && bt->cur.count >= bt->maxn) ||
	    (bt->maxbytes > 0 && bt->cur.bytes >= bt->maxbytes))
		pt_close(bt);
}

/* ---- event time ---- */

/* The event time of a record, or a bad record reported (-1). */
static int
ev_time(struct batcher *bt, const struct ds_line *l, const char *p,
    size_t len, int64_t *t)
{
	struct ds_span v = bt->tval;

	if (bt->tpre == 0 || (bt->tpre == -1 &&
	    !ds_json_get(p, len, &bt->tpath, &v))) {
		ds_bad(l, "no time field \"%s\"", bt->tpath.text);
		return -1;
	}
	if (ds_evtime(v, bt->tunit, t) == -1 || *t < -(1LL << 60) ||
	    *t > (1LL << 60)) {
		ds_bad(l, "field \"%s\" is not a time: %.*s", bt->tpath.text,
		    v.len > 64 ? 64 : (int)v.len, v.p);
		return -1;
	}
	return 0;
}

static void
ev_add(struct batcher *bt, const struct ds_line *l, const char *p, size_t len,
    const struct ds_env *e)
{
	char why[256];
	int64_t t;

	if (ev_time(bt, l, p, len, &t) == -1)
		return;
	if (ds_evclk_add(&bt->ev, t, p, len, e, why, sizeof(why)) == -1)
		ds_bad(l, "%s", why);
}

/* ---- --log replay ---- */

static void
add(struct batcher *bt, const struct ds_line *l, const char *p, size_t len,
    const struct ds_env *e)
{
	if (bt->evmode)
		ev_add(bt, l, p, len, e);
	else
		pt_add(bt, p, len, e);
}

static void
replay_end(struct batcher *bt)
{
	struct ds_line l = { 0 };
	struct ds_env env;
	const char *p, *e, *nl;
	struct ds_buf waiting = bt->nb.held;

	bt->replaying = 0;
	if (bt->evmode)
		ds_evclk_resume(&bt->ev, bt->lasttime);
	else
		pt_settick(bt, ds_now_ms());
	/* the new records that waited for the log's batches */
	memset(&bt->nb.held, 0, sizeof(bt->nb.held));
	l.src = "(held during replay)";
	bt->tpre = -1;
	for (p = waiting.p, e = waiting.len > 0 ? p + waiting.len : p; p < e;
	    p = nl + 1) {
		nl = memchr(p, '\n', e - p);
		add(bt, &l, p, nl - p,
		    ds_envelope(p, nl - p, &bt->topicbuf, &env) ?
		    &env : NULL);
	}
	ds_buf_free(&waiting);
	ds_cutb_free(&bt->nb);
}

/* A logged batch's marker, as it was the first time. */
static void
replayed(void *arg, json_t *m)
{
	put(arg, m, 0);
}

static void
replay_pump(struct batcher *bt, int final)
{
	if (bt->replaying && ds_replay_pump(bt->rp, final))
		replay_end(bt);
}

static void
replay_route(struct batcher *bt, const struct ds_line *l, const char *p,
    size_t len, const struct ds_env *e)
{
	char why[256];
	int64_t t;

	switch (ds_replay_route(bt->rp, p, len, e, why, sizeof(why))) {
	case DS_RP_HELD:
		replay_pump(bt, 0);
		return;
	case DS_RP_BAD:
		ds_bad(l, "%s", why);
		return;
	}
	/* beyond the log: a new batch, after the logged ones */
	if (bt->evmode) {
		if (ev_time(bt, l, p, len, &t) == -1)
			return;
		if (t < bt->lasttime) {
			ds_bad(l, "late record: time %lld is before the last "
			    "logged batch (%lld)", (long long)t,
			    (long long)bt->lasttime);
			return;
		}
	}
	ds_cutb_hold(&bt->nb, p, len);
	replay_pump(bt, 0);
}

static void
replay_init(struct batcher *bt)
{
	char msg[512];

	if (ds_blog_open(&bt->blog, bt->logdir, msg, sizeof(msg)) == -1)
		errx(1, "%s", msg);
	if (bt->blog.stream != NULL)	/* the same stream, continued */
		strlcpy(bt->streamid, bt->blog.stream, sizeof(bt->streamid));
	if ((bt->rp = ds_replay_new(&bt->blog, &bt->seen, replayed,
	    bt)) == NULL)
		return;
	bt->seq = bt->blog.e[bt->blog.n - 1].seq;
	bt->lasttime = bt->blog.e[bt->blog.n - 1].time;
	bt->replaying = 1;
	replay_pump(bt, 0);
}

static void
cleanup(struct batcher *bt)
{
	ds_replay_free(bt->rp);
	ds_cutb_free(&bt->nb);
	ds_cutb_free(&bt->cur);
	ds_evclk_free(&bt->ev);
	ds_rate_free(&bt->rate);
	ds_buf_free(&bt->scratch);
	ds_buf_free(&bt->topicbuf);
	ds_offsets_free(&bt->seen);
	if (bt->evmode)
		ds_path_free(&bt->tpath);
	if (bt->logdir != NULL)
		ds_blog_close(&bt->blog);
}

/* ---- input ---- */

/*
 * ds-kafka-cat's assign and revoke records.  A replay learns from an
 * assignment which logged batches were committed.  Both are passed on
 * (stateful stages and a transactional producer act on them), after
 * the open batch is closed: a batch never holds records read under two
 * assignments, so a rebalance fences whole batches.
 */
static void
owners(struct batcher *bt, const struct ds_line *l)
{
	if (ds_is_assign(l->p, l->len) && ds_replay_assign(bt->replaying ?
	    bt->rp : NULL, l->p, l->len) == -1) {
		ds_bad(l, "malformed assign record");
		return;
	}
	if (!bt->evmode && !bt->replaying && bt->cur.count > 0)
		pt_close(bt);
	ds_out_line(l->p, l->len);
	ds_out_flush();
	if (bt->replaying)
		replay_pump(bt, 0);
}

static void
record(struct batcher *bt, const struct ds_line *l)
{
	const struct ds_path *tpp = &bt->tpath;
	struct ds_jscan js = { 0 };
	const char *p = l->p;
	size_t len = l->len;
	struct ds_env e;
	int ise;

	if (ds_line_blank(l))
		return;
	if (ds_is_assign(p, len) || ds_is_revoke(p, len)) {
		owners(bt, l);
		return;
	}
	if (bt->evmode) {
		/* find the time in the validating pass: -T costs one scan */
		js.paths = &tpp;
		js.npaths = 1;
		js.v = &bt->tval;
		js.found = &bt->tpre;
	}
	if (ds_check_line_scan(l, 1, &js) == -1)
		return;
	if (js.hadws) {
		ds_buf_clear(&bt->scratch);
		ds_json_compact(p, len, &bt->scratch);
		p = bt->scratch.p;
		len = bt->scratch.len;
	}
	/* Kafka delivers a partition in offset order: a record at an
	 * offset already seen comes again (a rebalance re-reads from the
	 * committed offset) and is in a batch already */
	ise = ds_envelope(p, len, &bt->topicbuf, &e);
	if (ise && !ds_offsets_fresh(&bt->seen, e.topic, e.tlen, e.part,
	    e.off)) {
		bt->redelivered++;
		return;
	}
	if (bt->replaying)
		replay_route(bt, l, p, len, ise ? &e : NULL);
	else
		add(bt, l, p, len, ise ? &e : NULL);
}

static void
onrecord(void *arg, const struct ds_line *l)
{
	record(arg, l);
}

static int
paused(void *arg)
{
	return ds_rate_full(&((struct batcher *)arg)->rate);
}

/*
 * The inputs were drained: close the batches whose time has come, and
 * wait for more input or the next tick, so the clock runs while the
 * inputs are idle.
 */
static int64_t
tick(void *arg, int nopen)
{
	struct batcher *bt = arg;
	int64_t now;

	if (!bt->evmode && !bt->replaying)
		pt_tick(bt, ds_now_ms());
	/* at the end, the waiting records still go at their rate */
	if (nopen == 0 && (bt->rate.nheld == 0 || bt->evmode))
		return DS_MERGE_END;
	if (bt->evmode || bt->replaying)
		return -1;
	now = ds_now_ms();
	return bt->tickend > now ? bt->tickend - now : 0;
}

/* Several inputs are merged as their lines arrive (Spark's union). */
static void
run(struct batcher *bt, char **files, int nfiles)
{
	static char *stdinv[] = { "-" };
	struct ds_merge m = { onrecord, paused, tick, bt };
	struct ds_in **in;
	int i;

	if (nfiles == 0) {
		files = stdinv;
		nfiles = 1;
	}
	if ((in = calloc(nfiles, sizeof(*in))) == NULL)
		err(1, NULL);
	for (i = 0; i < nfiles; i++)
		if ((in[i] = ds_in_open(files[i], ds_opts.maxline)) == NULL)
			err(1, "%s", files[i]);
	pt_settick(bt, ds_now_ms());
	if (ds_in_merge(in, nfiles, &m) == -1)
		err(1, "poll");
	free(in);
}

/* The command line; argv from optind on are the inputs. */
static void
options(struct batcher *bt, int argc, char *argv[])
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
	int64_t rate = 0, quota = 0;
	int ch, evopts = 0;

	while ((ch = getopt_long(argc, argv, "B:hi:n:T:V", lopts,
	    NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'B':
			if (ds_bytesize(optarg, &bt->maxbytes) == -1 ||
			    bt->maxbytes < 1)
				errx(2, "-B: %s: expected a size", optarg);
			break;
		case 'h':
			usage(0);
			break;
		case 'i':
			if (ds_duration(optarg, &bt->ival, 0) == -1)
				errx(2, "-i: %s: expected a duration like "
				    "500ms, 2s, 1m", optarg);
			break;
		case 'n':
			bt->maxn = strtonum(optarg, 1, INT64_MAX, &errstr);
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
				bt->tunit = DS_TU_MS;
			else if (strcmp(optarg, "s") == 0)
				bt->tunit = DS_TU_S;
			else if (strcmp(optarg, "us") == 0)
				bt->tunit = DS_TU_US;
			else
				errx(2, "--time-unit: %s: expected s, ms or us",
				    optarg);
			break;
		case OPT_LATENESS:
			evopts = 1;
			if (ds_duration(optarg, &bt->lateness, 1) == -1)
				errx(2, "--lateness: %s: expected a duration",
				    optarg);
			break;
		case OPT_CREATED:
			evopts = 1;
			bt->wantcreated = 1;
			break;
		case OPT_LOG:
			bt->logdir = optarg;
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
	if (tfield != NULL) {
		bt->evmode = 1;
		if (ds_path_parse(tfield, &bt->tpath) == -1)
			errx(2, "-T: %s: bad field path", tfield);
		if (bt->maxn > 0 || bt->maxbytes > 0)
			errx(2, "-n and -B cut processing-time batches; "
			    "they do not go with -T");
	} else if (evopts)
		errx(2, "--time-unit, --lateness and --created go with -T");
	if (rate > 0 && (bt->evmode || bt->maxn > 0 || bt->maxbytes > 0))
		errx(2, "--max-rate-per-partition bounds the batches of -i; "
		    "it does not go with -T, -n or -B");
	/* Spark: rate x batch seconds, at least 1 */
	if (rate > 0 && (quota = rate * bt->ival / 1000) < 1)
		quota = 1;
	ds_rate_init(&bt->rate, quota);
	ds_evclk_init(&bt->ev, bt->ival, bt->lateness, emit, bt);
}

int
main(int argc, char *argv[])
{
	static struct batcher b0;
	struct batcher *bt = &b0;

	bt->ival = 1000;
	bt->tunit = DS_TU_MS;
	bt->lasttime = INT64_MIN;
	bt->tpre = -1;
	ds_signals();
	options(bt, argc, argv);
	argc -= optind;
	argv += optind;

	/*
	 * Each run is a new stream, so stages with a checkpoint do not take
	 * its batches (seq from 1 again) for replays; --log continues the
	 * logged stream.  Event-time output stays reproducible: no id
	 * without --log.
	 */
	if (!bt->evmode || bt->logdir != NULL)
		snprintf(bt->streamid, sizeof(bt->streamid),
		    "%" PRIx64 "-%08" PRIx32,
		    (uint64_t)ds_now_ms(), arc4random());
	if (bt->logdir != NULL)
		replay_init(bt);
	run(bt, argv, argc);
	/* end of input or SIGINT/SIGTERM: close what is open */
	if (bt->replaying)
		replay_pump(bt, 1);
	while (bt->rate.nheld > 0)		/* stopped by a signal: write them */
		pt_tick(bt, bt->tickend);
	if (bt->evmode)
		ds_evclk_finish(&bt->ev);
	else if (bt->cur.count > 0 || ds_bad_count > 0)	/* bad ones count too */
		pt_final(bt);
	ds_out_flush();
	if (bt->rp != NULL && ds_replay_errors(bt->rp) > 0)
		bt->status = 1;	/* an incomplete replay is an error */
	cleanup(bt);
	return bt->status;
}
