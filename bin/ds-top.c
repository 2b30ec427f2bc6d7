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
 *
 * On a terminal the figures are drawn as the Streaming tab draws them:
 * per figure a timeline of the last batches and a histogram of the same
 * values, side by side on one vertical scale, the batch interval as the
 * line the processing time must stay under.
 */
#include <sys/ioctl.h>

#include <err.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ds.h"

#define HIST	1024	/* batches kept for the timelines */
#define LABELW	18	/* the column naming each chart */
#define AXISW	8	/* a band's upper bound, right of the timeline */
#define HISTW	12	/* the longest histogram bar */

struct row {
	int64_t	 seq, time, interval, count, bad;
	int64_t	 sched, proc, total;	/* ms; -1 when unknown */
	int	 slow;			/* processing > interval */
};

struct top {
	struct row *r;		/* ring of the last rows */
	int	 cap, n, head;
	int	 nrows;		/* rows of the terminal table (-n) */
	int	 tty;
	const struct glyphs *g;
	int64_t	 batches, records, nslow;
	int64_t	 sumproc, sumsched, sumtotal, ntimed;
	int64_t	 maxtotal, first, last;	/* receive times */
	int64_t	 t0;			/* time of the first batch */
};

/* The charts' figures, in the Streaming tab's order. */
enum { M_RATE, M_SCHED, M_PROC, M_TOTAL, NMETRIC };
static const char *mname[NMETRIC] = {
	"Input Rate", "Scheduling Delay", "Processing Time", "Total Delay"
};

/* What one screen draws: the last w batches on charts h rows high. */
struct view {
	int	 h, w;
	int	 first;		/* ring index (0 = oldest) of the first shown */
	int	 shown;		/* batches on the timelines, <= w */
	double	 top[NMETRIC];	/* each chart's scale */
	int64_t	 interval;	/* of the newest batch; 0 when unknown */
};

/* Block characters, and plain ASCII for a terminal that is not UTF-8. */
struct glyphs {
	const char *v[9];	/* a cell filled from below, in eighths */
	const char *h[9];	/* a cell filled from the left, in eighths */
	const char *line;	/* the batch interval */
	const char *sep;	/* between the timeline and the histogram */
};
static const struct glyphs utf8 = {
	{ " ", "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586",
	  "\u2587", "\u2588" },
	{ "", "\u258f", "\u258e", "\u258d", "\u258c", "\u258b", "\u258a",
	  "\u2589", "\u2588" },
	"\u2504", "\u2502"
};
static const struct glyphs ascii = {
	{ " ", ".", ".", ":", ":", "|", "|", "#", "#" },
	{ "", "", "", "", "#", "#", "#", "#", "#" },
	"-", "|"
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

/* A duration as a person reads it: "250 ms", "1.5 s", "2 min", "1.2 h". */
static void
fmtdur(char *b, size_t n, double v)
{
	static const struct { double ms; const char *unit; } u[] = {
		{ 3600000, "h" }, { 60000, "min" }, { 1000, "s" }
	};
	size_t i, len;

	if (v < 0) {
		snprintf(b, n, "-");
		return;
	}
	for (i = 0; i < sizeof(u) / sizeof(u[0]); i++)
		if (v >= u[i].ms)
			break;
	if (i == sizeof(u) / sizeof(u[0])) {
		snprintf(b, n, "%.0f ms", v);
		return;
	}
	snprintf(b, n, "%.1f", v / u[i].ms);
	len = strlen(b);
	if (len > 2 && strcmp(b + len - 2, ".0") == 0)
		b[len - 2] = '\0';
	len = strlen(b);
	snprintf(b + len, n - len, " %s", u[i].unit);
}

/* A rate for the axis: "0.5/s", "120/s", "12k/s". */
static void
fmtrate(char *b, size_t n, double v)
{
	if (v < 10)
		snprintf(b, n, "%.1f/s", v);
	else if (v < 100000)
		snprintf(b, n, "%.0f/s", v);
	else
		snprintf(b, n, "%.0fk/s", v / 1000);
}

/* A batch time in local time: "13:58:22", with ".250" under 1 s. */
static void
fmttime(char *b, size_t n, int64_t ms, int date, int64_t interval)
{
	struct tm tm;
	time_t t = ms / 1000;
	size_t len;

	if (localtime_r(&t, &tm) == NULL ||
	    (len = strftime(b, n, date ? "%Y/%m/%d %H:%M:%S" : "%H:%M:%S",
	    &tm)) == 0) {
		snprintf(b, n, "%lld", (long long)ms);
		return;
	}
	if (interval > 0 && interval < 1000)
		snprintf(b + len, n - len, ".%03d", (int)(ms % 1000));
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

/* Row i of the ring, 0 the oldest kept. */
static const struct row *
rowat(const struct top *tp, int i)
{
	return &tp->r[(tp->head - tp->n + i + tp->cap) % tp->cap];
}

/* Figure m of a batch; -1 when the batch does not tell. */
static double
value(const struct row *r, int m)
{
	switch (m) {
	case M_RATE:
		return rate(r);
	case M_SCHED:
		return r->sched;
	case M_PROC:
		return r->proc;
	default:
		return r->total;
	}
}

static void
fmtval(char *b, size_t n, int m, double v)
{
	if (m == M_RATE)
		fmtrate(b, n, v);
	else
		fmtdur(b, n, v);
}

/*
 * v on a scale of h rows of 8 eighths each, rounded up so that any
 * figure above zero shows; the band (0-based from the bottom) it falls
 * in is (eighths - 1) / 8.
 */
static int
eighths(double v, double top, int h)
{
	double e;

	if (v <= 0)
		return 0;
	e = ceil(v / top * h * 8 - 1e-9);
	return e > h * 8 ? h * 8 : e < 1 ? 1 : (int)e;
}

/* Append s, padded with blanks to cols columns (s is cols wide or less). */
static void
addpad(struct ds_buf *b, const char *s, int cols)
{
	int n = (int)strlen(s);

	ds_buf_adds(b, s);
	while (n++ < cols)
		ds_buf_addc(b, ' ');
}

/*
 * The batch interval as a line across the processing time's timeline,
 * between the bands under it and those over it; the batches that took
 * longer cross it in red.
 */
static void
linerow(struct ds_buf *b, const struct top *tp, const struct view *v)
{
	const struct row *r;
	char f[32];
	int i;

	addpad(b, "batch interval", LABELW);
	for (i = 0; i < v->w; i++) {
		r = i < v->shown ? rowat(tp, v->first + i) : NULL;
		if (r != NULL && r->slow) {
			ds_buf_adds(b, "\033[31m");
			ds_buf_adds(b, tp->g->v[8]);
			ds_buf_adds(b, "\033[0m");
		} else
			ds_buf_adds(b, tp->g->line);
	}
	fmtdur(f, sizeof(f), v->interval);
	ds_buf_addc(b, ' ');
	addpad(b, f, AXISW);
	ds_buf_adds(b, tp->g->sep);
	ds_buf_adds(b, "\033[K\n");
}

/*
 * One chart, h lines: the name and figures of the shown batches, their
 * timeline, each band's upper bound, and the histogram of the batches
 * per band.  The processing time's chart has one line more, the batch
 * interval, and paints red the batches over it.
 */
static void
chart(struct ds_buf *b, const struct top *tp, const struct view *v, int m)
{
	const struct glyphs *g = tp->g;
	const struct row *r;
	double x, sum = 0, max = 0, top = v->top[m];
	int hist[8] = { 0 }, nval = 0, maxc = 0, line = -1;
	int y, nl = 0, band, i, e, red, len;
	char lab[3][40], f[32];

	for (i = 0; i < v->shown; i++) {
		if ((x = value(rowat(tp, v->first + i), m)) < 0)
			continue;
		sum += x;
		if (x > max)
			max = x;
		nval++;
		e = eighths(x, top, v->h);
		band = e > 0 ? (e - 1) / 8 : 0;
		if (++hist[band] > maxc)
			maxc = hist[band];
	}
	memset(lab, 0, sizeof(lab));
	snprintf(lab[0], sizeof(lab[0]), "%s", mname[m]);
	if (nval > 0) {
		fmtval(f, sizeof(f), m, sum / nval);
		snprintf(lab[1], sizeof(lab[1]), "avg %s", f);
		fmtval(f, sizeof(f), m, max);
		snprintf(lab[2], sizeof(lab[2]), "max %s", f);
	}
	/* the line goes above the bands under the interval */
	if (m == M_PROC && v->interval > 0)
		line = (int)lround(v->interval / top * v->h);
	for (y = 0; y < v->h; y++) {
		band = v->h - 1 - y;
		if (band + 1 == line)
			linerow(b, tp, v);
		addpad(b, nl < 3 ? lab[nl++] : "", LABELW);
		for (i = red = 0; i < v->w; i++) {
			r = i < v->shown ? rowat(tp, v->first + i) : NULL;
			x = r != NULL ? value(r, m) : -1;
			if (m == M_PROC && (r != NULL && r->slow) != red) {
				red = !red;
				ds_buf_adds(b, red ? "\033[31m" : "\033[0m");
			}
			e = eighths(x, top, v->h) - band * 8;
			ds_buf_adds(b, g->v[e > 8 ? 8 : e > 0 ? e : 0]);
		}
		if (red)
			ds_buf_adds(b, "\033[0m");
		fmtval(f, sizeof(f), m, top * (band + 1) / v->h);
		ds_buf_addc(b, ' ');
		addpad(b, f, AXISW);
		ds_buf_adds(b, g->sep);
		if (hist[band] > 0) {
			len = (hist[band] * HISTW * 8 + maxc - 1) / maxc;
			for (; len >= 8; len -= 8)
				ds_buf_adds(b, g->h[8]);
			ds_buf_adds(b, g->h[len]);
			ds_buf_addf(b, " %d", hist[band]);
		}
		ds_buf_adds(b, "\033[K\n");
	}
	if (line == 0)
		linerow(b, tp, v);
}

/*
 * The scales.  The three delays share one, as in the Streaming tab, so
 * that they compare at a glance; it reaches at least the interval, and
 * where it can the interval falls on a band's upper bound, so that the
 * line means "this band and below is in time".
 */
static void
scales(const struct top *tp, struct view *v)
{
	const struct row *r;
	double maxd = 0, maxr = 0, iv;
	int i, k;

	for (i = 0; i < v->shown; i++) {
		r = rowat(tp, v->first + i);
		if (rate(r) > maxr)
			maxr = rate(r);
		if (r->total > maxd)
			maxd = r->total;
		if (r->interval > 0)
			v->interval = r->interval;
	}
	v->top[M_RATE] = maxr > 0 ? maxr : 1;
	iv = v->interval;
	if (iv > 0 && maxd <= iv * v->h) {
		k = maxd > 0 ? (int)(iv * v->h / maxd) : v->h;
		maxd = iv * v->h / (k < v->h ? k : v->h);
	} else if (maxd <= 0)
		maxd = 1;
	v->top[M_SCHED] = v->top[M_PROC] = v->top[M_TOTAL] = maxd;
}

/*
 * The whole screen, redrawn in place at each batch when the output is a
 * tty: totals, the charts, and a table of the last batches, all within
 * the terminal's size when it tells it.
 */
static void
screen(struct top *tp)
{
	static int cleared;
	struct ds_buf b = { 0 };
	struct winsize ws;
	struct view v = { 0 };
	const struct row *r;
	char s[64], p[32], t[32], f[32], l[32];
	int64_t ivl;
	double secs;
	int i, m, rows = 0, cols = 80, nt, fixed;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
		rows = ws.ws_row;
		cols = ws.ws_col;
	}
	/*
	 * lines besides the charts' bands: 3 heading, 1 title, 1 interval
	 * line, 1 time axis, 2 table
	 */
	fixed = 8 + (tp->nslow > 0);
	v.h = 4;
	while (rows > 0 && v.h > 2 && rows - 1 - fixed - 4 * v.h < 2)
		v.h--;
	nt = tp->n < tp->nrows ? tp->n : tp->nrows;
	if (rows > 0 && nt > rows - 1 - fixed - 4 * v.h)
		nt = rows - 1 - fixed - 4 * v.h;
	v.w = cols - LABELW - 1 - AXISW - 1 - HISTW - 6;
	if (v.w < 10)
		v.w = 10;
	v.shown = tp->n < v.w ? tp->n : v.w;
	v.first = tp->n - v.shown;
	scales(tp, &v);
	ivl = v.interval;

	ds_buf_adds(&b, cleared++ ? "\033[H" : "\033[H\033[2J");
	secs = tp->last > tp->first ? (tp->last - tp->first) / 1000.0 : 0;
	ds_buf_addf(&b, "ds-top: %lld batches, %lld records",
	    (long long)tp->batches, (long long)tp->records);
	if (secs >= 1) {
		fmtdur(f, sizeof(f), secs * 1000);
		ds_buf_addf(&b, ", %.1f records/s over %s",
		    tp->records / secs, f);
	}
	ds_buf_adds(&b, "\033[K\n");
	r = rowat(tp, tp->n - 1);
	fmtdur(p, sizeof(p), ivl);
	fmtdur(t, sizeof(t), r->time + ivl - tp->t0);
	fmttime(f, sizeof(f), tp->t0, 1, ivl);
	if (ivl > 0)
		ds_buf_addf(&b, "running batches of %s for %s since %s\033[K\n",
		    p, t, f);
	else
		ds_buf_addf(&b, "running batches since %s\033[K\n", f);
	if (tp->nslow > 0) {
		snprintf(s, sizeof(s), "%lld batch%s", (long long)tp->nslow,
		    tp->nslow == 1 ? "" : "es");
		ds_buf_addf(&b, "\033[1;31mWARNING: %s took longer to process "
		    "than the batch interval%s\033[0m\033[K\n", s,
		    cols >= 110 + (int)strlen(s) ? ": batches queue up; use a "
		    "longer interval or faster stages" : "");
	}
	ds_buf_adds(&b, "\033[K\n");

	snprintf(s, sizeof(s), "timeline, last %d batches", v.shown);
	addpad(&b, "", LABELW);
	addpad(&b, s, v.w + 1 + AXISW + 1);
	ds_buf_adds(&b, "histogram, batches\033[K\n");
	for (m = 0; m < NMETRIC; m++)
		chart(&b, tp, &v, m);
	fmttime(f, sizeof(f), rowat(tp, v.first)->time, 0, ivl);
	fmttime(l, sizeof(l), r->time, 0, ivl);
	addpad(&b, "", LABELW);
	if (v.shown > 1 && (int)(strlen(f) + 1 + strlen(l)) <= v.w) {
		addpad(&b, f, v.w - (int)strlen(l));
		ds_buf_adds(&b, l);
	} else
		ds_buf_adds(&b, f);
	ds_buf_adds(&b, "\033[K\n");

	if (nt > 0) {
		ds_buf_addf(&b, "\033[K\n%8s %12s %9s %11s %11s %11s %11s"
		    "\033[K\n", "batch", "time", "records", "records/s",
		    "scheduling", "processing", "total");
		for (i = tp->n - nt; i < tp->n; i++) {
			r = rowat(tp, i);
			fmttime(f, sizeof(f), r->time, 0, r->interval);
			fmtdur(s, sizeof(s), r->sched);
			fmtdur(p, sizeof(p), r->proc);
			fmtdur(t, sizeof(t), r->total);
			ds_buf_addf(&b, "%s%8lld %12s %9lld %11.1f %11s %11s "
			    "%11s%s\033[K\n", r->slow ? "\033[1;31m" : "",
			    (long long)r->seq, f, (long long)r->count, rate(r),
			    s, p, t, r->slow ? "\033[0m" : "");
		}
	}
	ds_buf_adds(&b, "\033[J");
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
	if (tp->batches++ == 0) {
		tp->first = recv;
		tp->t0 = r.time;
	}
	tp->last = recv;
	tp->records += r.count;
	tp->r[tp->head] = r;
	tp->head = (tp->head + 1) % tp->cap;
	if (tp->n < tp->cap)
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
		{ "version", no_argument, NULL, 'V' },
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
	tp.cap = tp.nrows > HIST ? tp.nrows : HIST;
	if ((tp.r = calloc(tp.cap, sizeof(*tp.r))) == NULL)
		err(1, NULL);
	if ((tp.tty = isatty(STDOUT_FILENO))) {
		/* block characters only where the terminal reads UTF-8 */
		setlocale(LC_CTYPE, "");
		tp.g = strcmp(nl_langinfo(CODESET), "UTF-8") == 0 ?
		    &utf8 : &ascii;
	}
	for (i = 0; i < argc && !ds_stop; i++) {
		if ((in = ds_in_open(argv[i], ds_opts.maxline)) == NULL)
			err(1, "%s", argv[i]);
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
