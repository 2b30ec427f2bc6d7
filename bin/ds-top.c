/*
 * ds-top -- Spark's Streaming tab for a pipe: reads a stream's batch
 * markers and shows, per batch, the records, the input rate, the
 * scheduling delay, the processing time against the batch interval and
 * the total delay, with a warning when processing takes longer than the
 * interval (batches then queue up: the first tuning rule).
 *
 * The figures come from the marker's time (when the batch was due),
 * its created (when ds-batch closed it) and our own clock when the
 * marker reaches us, at the end of the pipe:
 *	scheduling delay = created - time
 *	processing time  = received - created
 *	total delay      = received - time
 * Data lines are not ours to check: they are skipped unread.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds.h"

struct row {
	int64_t	 seq, time, interval, count, bad;
	int64_t	 sched, proc, total;	/* ms; -1 when unknown */
	int	 slow;			/* processing > interval */
};

struct top {
	struct row *r;		/* ring of the last rows */
	int	 nrows, n, head;
	int	 tty;
	int64_t	 batches, records, nslow;
	int64_t	 sumproc, sumsched, sumtotal, ntimed;
	int64_t	 maxtotal, first, last;	/* receive times */
};

static void
usage(int st)
{
	fprintf(st ? stderr : stdout, "usage: ds-top [-n ROWS] "
	    DS_COMMON_USAGE " [FILE ...]\n");
	exit(st);
}

static void
fmtms(char *b, size_t n, int64_t v)
{
	if (v < 0)
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%lld ms", (long long)v);
}

static double
rate(const struct row *r)
{
	return r->interval > 0 ? r->count * 1000.0 / r->interval : 0;
}

/* One line per batch when the output is a file or a pipe. */
static void
plainrow(const struct row *r)
{
	char s[32], p[32], t[32];
	struct ds_buf b = { 0 };

	fmtms(s, sizeof(s), r->sched);
	fmtms(p, sizeof(p), r->proc);
	fmtms(t, sizeof(t), r->total);
	ds_buf_addf(&b, "batch %lld time %lld: %lld records, %.1f records/s, "
	    "scheduling delay %s, processing %s of %lld ms, total delay %s",
	    (long long)r->seq, (long long)r->time, (long long)r->count,
	    rate(r), s, p, (long long)r->interval, t);
	if (r->bad > 0)
		ds_buf_addf(&b, ", %lld bad", (long long)r->bad);
	if (r->slow)
		ds_buf_adds(&b, " WARNING: processing time exceeds the "
		    "batch interval");
	ds_out_buf(&b);
	ds_out_flush();
	ds_buf_free(&b);
}

/* The whole screen, redrawn at each batch when the output is a tty. */
static void
screen(struct top *tp)
{
	struct ds_buf b = { 0 };
	const struct row *r;
	char s[32], p[32], t[32];
	double secs;
	int i;

	secs = tp->last > tp->first ? (tp->last - tp->first) / 1000.0 : 0;
	ds_buf_adds(&b, "\033[H\033[2J");
	ds_buf_addf(&b, "ds-top: %lld batches, %lld records",
	    (long long)tp->batches, (long long)tp->records);
	if (secs > 0)
		ds_buf_addf(&b, ", %.1f records/s over %.0f s",
		    tp->records / secs, secs);
	ds_buf_addc(&b, '\n');
	if (tp->ntimed > 0)
		ds_buf_addf(&b, "avg scheduling delay %lld ms, avg processing "
		    "%lld ms, avg total delay %lld ms, max total delay "
		    "%lld ms\n", (long long)(tp->sumsched / tp->ntimed),
		    (long long)(tp->sumproc / tp->ntimed),
		    (long long)(tp->sumtotal / tp->ntimed),
		    (long long)tp->maxtotal);
	if (tp->nslow > 0)
		ds_buf_addf(&b, "\033[1;31mWARNING: %lld batch%s took longer "
		    "to process than the batch interval: batches queue up; "
		    "use a longer interval or faster stages\033[0m\n",
		    (long long)tp->nslow, tp->nslow == 1 ? "" : "es");
	ds_buf_addf(&b, "\n%8s %15s %9s %12s %11s %11s %11s %9s\n", "batch",
	    "time", "records", "records/s", "scheduling", "processing",
	    "total", "interval");
	for (i = 0; i < tp->n; i++) {
		r = &tp->r[(tp->head - tp->n + i + tp->nrows) % tp->nrows];
		fmtms(s, sizeof(s), r->sched);
		fmtms(p, sizeof(p), r->proc);
		fmtms(t, sizeof(t), r->total);
		ds_buf_addf(&b, "%s%8lld %15lld %9lld %12.1f %11s %11s %11s "
		    "%6lld ms%s\n", r->slow ? "\033[1;31m" : "",
		    (long long)r->seq, (long long)r->time,
		    (long long)r->count, rate(r), s, p, t,
		    (long long)r->interval, r->slow ? "\033[0m" : "");
	}
	ds_out(b.p, b.len);
	ds_out_flush();
	ds_buf_free(&b);
}

static void
batch(struct top *tp, json_t *m, int64_t recv)
{
	struct row r = { 0 };
	json_t *c = json_object_get(m, "created");

	r.seq = ds_marker_int(m, "seq");
	r.time = ds_marker_int(m, "time");
	r.interval = ds_marker_int(m, "interval");
	r.count = ds_marker_int(m, "count");
	r.bad = ds_marker_int(m, "bad");
	r.sched = r.proc = r.total = -1;
	if (json_is_integer(c)) {
		/* a batch closed early (-n) is not late: no negative delay */
		r.sched = json_integer_value(c) - r.time;
		if (r.sched < 0)
			r.sched = 0;
		r.proc = recv - json_integer_value(c);
		if (r.proc < 0)
			r.proc = 0;	/* clocks of two hosts */
		r.total = r.sched + r.proc;
		r.slow = r.interval > 0 && r.proc > r.interval;
		tp->sumsched += r.sched;
		tp->sumproc += r.proc;
		tp->sumtotal += r.total;
		tp->ntimed++;
		if (r.total > tp->maxtotal)
			tp->maxtotal = r.total;
		tp->nslow += r.slow;
	}
	if (tp->batches++ == 0)
		tp->first = recv;
	tp->last = recv;
	tp->records += r.count;
	tp->r[tp->head] = r;
	tp->head = (tp->head + 1) % tp->nrows;
	if (tp->n < tp->nrows)
		tp->n++;
	if (tp->tty)
		screen(tp);
	else
		plainrow(&r);
}

int
main(int argc, char *argv[])
{
	static struct option lopts[] = {
		DS_COMMON_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static char *stdinv[] = { "-" };
	struct top tp = { 0 };
	struct ds_in *in;
	struct ds_line l;
	const char *errstr;
	json_t *m;
	int ch, i;

	ds_signals();
	tp.nrows = 20;
	while ((ch = getopt_long(argc, argv, "hn:V", lopts, NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'h':
			usage(0);
			break;
		case 'n':
			tp.nrows = (int)strtonum(optarg, 1, 10000, &errstr);
			if (errstr != NULL)
				errx(2, "-n: %s is %s", optarg, errstr);
			break;
		case 'V':
			ds_version();
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		argv = stdinv;
		argc = 1;
	}
	if ((tp.r = calloc(tp.nrows, sizeof(*tp.r))) == NULL)
		err(1, NULL);
	tp.tty = isatty(STDOUT_FILENO);
	for (i = 0; i < argc && !ds_stop; i++) {
		in = ds_in_open(argv[i], ds_opts.maxline);
		while (ds_in_next(in, &l)) {
			if (l.toolong || !ds_is_control(l.p, l.len))
				continue;
			if ((m = ds_marker_parse(&l)) == NULL) {
				ds_bad(&l, "malformed control record");
				continue;
			}
			if (ds_marker_is_batch(m))
				batch(&tp, m, ds_now_ms());
			json_decref(m);
		}
		ds_in_close(in);
	}
	if (!tp.tty && tp.ntimed > 0) {
		struct ds_buf b = { 0 };

		ds_buf_addf(&b, "total: %lld batches, %lld records, avg "
		    "scheduling delay %lld ms, avg processing %lld ms, avg "
		    "total delay %lld ms, max total delay %lld ms, %lld "
		    "slower than the interval", (long long)tp.batches,
		    (long long)tp.records,
		    (long long)(tp.sumsched / tp.ntimed),
		    (long long)(tp.sumproc / tp.ntimed),
		    (long long)(tp.sumtotal / tp.ntimed),
		    (long long)tp.maxtotal, (long long)tp.nslow);
		ds_out_buf(&b);
		ds_buf_free(&b);
	}
	ds_out_flush();
	free(tp.r);
	return 0;
}
