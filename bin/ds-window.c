/*
 * ds-window -- sliding windows over batches: Spark's window,
 * reduceByKeyAndWindow (with and without invFunc), countByWindow,
 * countByValueAndWindow and reduceByWindow.
 *
 * Each batch is reduced to one partial per key as it arrives and kept
 * while it is inside the window; raw records are kept only in window()
 * mode (no -k, no -a).  Windows end at batch times that are multiples of
 * the slide after the origin (the epoch, or --origin) and cover the
 * batches with time in (end - length, end]; a slide longer than the
 * window leaves the batches in between out (Spark's non-overlapping
 * window).
 * Invertible aggregates keep one running total per key: the entering
 * batch is merged in, the leaving one subtracted (keys whose count falls
 * to 0 are dropped); the others merge the partials of the window at
 * each emit.  Memory is keys x batches in the window.
 */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"

enum {
	OPT_TOP = DS_OPT_FIRST_TOOL, OPT_INVERSE, OPT_NOINVERSE,
	OPT_CHECKPOINT, OPT_ORIGIN
};

#define CKPT_NAME	"window"

struct pgroup {
	size_t		 off;	/* key in part.keys */
	size_t		 len;
	struct ds_aggst	*st;
};

struct part {			/* one batch inside the window */
	int64_t		 time;
	int64_t		 seq;
	struct ds_buf	 keys;	/* aggregate mode: the groups' keys */
	struct pgroup	*g;
	size_t		 n;
	struct ds_buf	 recs;	/* window() mode: the lines, \n-ended */
	size_t		 nrecs;
};

struct win {
	int64_t		 length, slide, interval;
	int		 slideopt;	/* -s given (else the interval) */
	int64_t		 origin;	/* windows end at origin + k slide */
	int		 originfirst;	/* --origin first: not yet known */
	json_t		*held;		/* the last marker not written */
	int		 raw;		/* window(): re-emit records */
	int		 inverse;
	struct ds_aggs	 aggs;
	struct ds_path	*keys;
	int		 nkeys;
	struct ds_groups cur;		/* the batch being read */
	struct ds_buf	 currecs;
	size_t		 ncur;
	struct part	*q;		/* oldest first */
	size_t		 qn, qcap;
	struct ds_hash	 run;		/* inverse: key -> running partial */
	struct ds_offsets pend;		/* offsets of batches not emitted */
	struct ds_offsets cum;		/* offsets of every applied batch */
	json_t		*ckcum;		/* cum as of the last checkpoint */
	const char	*ckdir;
	struct ds_applied last;		/* last applied (from checkpoint) */
	struct ds_buf	 spec;		/* options, to match a checkpoint */
	struct ds_buf	 out;
	struct ds_grouper gr;
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ds-window [-hV] -w LENGTH [-s SLIDE] [-k FIELD[,FIELD...]] "
	    "[-a [NAME=]AGG]...\n"
	    "                 [--top N:FIELD] [--inverse | --no-inverse] "
	    "[--checkpoint DIR]\n"
	    "                 [--origin MS|first]\n"
	    "                 " DS_COMMON_USAGE " [FILE...]\n");
	exit(status);
}

static void
data(void *ctx, const struct ds_line *l)
{
	struct win *w = ctx;
	const char *why;

	if (ds_check_line(l, 0) == -1)
		return;
	if (w->raw) {
		ds_buf_add(&w->currecs, l->p, l->len);
		ds_buf_addc(&w->currecs, '\n');
		w->ncur++;
		return;
	}
	if (ds_grouper_add(&w->gr, &w->cur, l->p, l->len, &why) == -1)
		ds_bad(l, "%s", why);
}

/* The key of group i of part p ("" when there are no key fields). */
#define PKEY(p, i)	((p)->keys.p != NULL ? (p)->keys.p + (p)->g[i].off : "")

static struct part *
newpart(struct win *w, int64_t time, int64_t seq)
{
	struct part *p;

	if (w->qn == w->qcap) {
		w->qcap = w->qcap ? w->qcap * 2 : 16;
		if ((w->q = reallocarray(w->q, w->qcap, sizeof(*w->q))) == NULL)
			err(1, NULL);
	}
	p = &w->q[w->qn++];
	memset(p, 0, sizeof(*p));
	p->time = time;
	p->seq = seq;
	return p;
}

static void
partadd(struct part *p, const char *k, size_t klen, struct ds_aggst *st)
{
	if ((p->n & (p->n - 1)) == 0 && (p->g = reallocarray(p->g,
	    p->n ? p->n * 2 : 1, sizeof(*p->g))) == NULL)
		err(1, NULL);
	p->g[p->n].off = p->keys.len;
	p->g[p->n].len = klen;
	p->g[p->n].st = st;
	p->n++;
	ds_buf_add(&p->keys, k, klen);
}

static void
partfree(struct win *w, struct part *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		ds_agg_free(&w->aggs, p->g[i].st);
	free(p->g);
	ds_buf_free(&p->keys);
	ds_buf_free(&p->recs);
}

/* The running total of key k, created when absent. */
static struct ds_aggst *
running(struct win *w, const char *k, size_t klen)
{
	struct ds_hent *e;
	int isnew;

	e = ds_hash_put(&w->run, k, klen, &isnew);
	if (isnew)
		e->val = ds_agg_new(&w->aggs);
	return e->val;
}

/* A batch enters the window (and the running totals). */
static void
enter(struct win *w, struct part *p)
{
	size_t i;

	if (!w->inverse)
		return;
	for (i = 0; i < p->n; i++)
		ds_agg_merge(&w->aggs, running(w, PKEY(p, i),
		    p->g[i].len), p->g[i].st);
}

/* Drop the batches that no later window can cover. */
static void
evict(struct win *w, int64_t t)
{
	struct ds_hent *e;
	struct part *p;
	size_t i, k = 0;

	while (k < w->qn && w->q[k].time <= t - w->length) {
		p = &w->q[k++];
		for (i = 0; w->inverse && i < p->n; i++) {
			e = ds_hash_get(&w->run, PKEY(p, i),
			    p->g[i].len);
			if (e == NULL)
				errx(1, "internal error: key left the window "
				    "twice");
			ds_agg_sub(&w->aggs, e->val, p->g[i].st);
			if (ds_agg_count(e->val) <= 0) {
				ds_agg_free(&w->aggs, e->val);
				ds_hash_del(&w->run, e);
			}
		}
		partfree(w, p);
	}
	if (k > 0) {
		memmove(w->q, w->q + k, (w->qn - k) * sizeof(*w->q));
		w->qn -= k;
	}
}

static int
grpcmp(const void *a, const void *b)
{
	const struct ds_grp *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->key, y->key, n);

	if (c != 0)
		return c;
	return x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* Write the groups sorted by key (so both modes print the same). */
static void
emitgroups(struct win *w, struct ds_grp *g, size_t n)
{
	struct ds_aggst *empty;
	size_t i;

	if (w->nkeys == 0 && n == 0) {
		empty = ds_agg_new(&w->aggs);
		ds_buf_clear(&w->out);
		ds_group_emit(&w->aggs, NULL, 0, "", 0, empty, &w->out);
		ds_out_buf(&w->out);
		ds_agg_free(&w->aggs, empty);
		return;
	}
	if (n > 1)
		qsort(g, n, sizeof(*g), grpcmp);
	for (i = 0; i < n; i++) {
		ds_buf_clear(&w->out);
		ds_group_emit(&w->aggs, w->keys, w->nkeys, g[i].key, g[i].klen,
		    g[i].st, &w->out);
		ds_out_buf(&w->out);
	}
}

/* Write the groups of gs, sorted (a copy: gs keeps its order). */
static void
emitset(struct win *w, struct ds_groups *gs)
{
	struct ds_grp *g, *v;
	size_t i = 0, n = 0;

	v = ds_reallocarray(NULL, ds_groups_count(gs) + 1, sizeof(*v));
	while ((g = ds_groups_next(gs, &i)) != NULL)
		v[n++] = *g;
	emitgroups(w, v, n);
	free(v);
}

/* The results of the window over the batches now held. */
static void
results(struct win *w)
{
	struct ds_groups tmp;
	struct ds_grp *g = NULL;
	struct ds_hent *e;
	struct part *p;
	size_t i, k, n = 0;
	int isnew;

	if (w->raw) {
		for (k = 0; k < w->qn; k++)
			ds_out(w->q[k].recs.p, w->q[k].recs.len);
		return;
	}
	if (w->inverse) {
		g = ds_reallocarray(NULL, ds_hash_count(&w->run) + 1,
		    sizeof(*g));
		i = 0;
		while ((e = ds_hash_next(&w->run, &i)) != NULL) {
			g[n].key = e->key;
			g[n].klen = e->klen;
			g[n++].st = e->val;
		}
		emitgroups(w, g, n);
		free(g);
		return;
	}
	memset(&tmp, 0, sizeof(tmp));
	for (k = 0; k < w->qn; k++) {
		p = &w->q[k];
		for (i = 0; i < p->n; i++)
			ds_agg_merge(&w->aggs, ds_groups_get(&tmp, &w->aggs,
			    PKEY(p, i), p->g[i].len, &isnew),
			    p->g[i].st);
	}
	emitset(w, &tmp);
	ds_groups_free(&tmp, &w->aggs);
}

static void
ckpt_save(struct win *w)
{
	struct ds_buf b = { 0 };
	json_t *h;
	char *hs;
	struct part *p;
	size_t i, k;

	json_decref(w->ckcum);
	w->ckcum = ds_offsets_json(&w->cum);
	h = json_pack("{s:I,s:I,s:s,s:o,s:O}", "interval",
	    (json_int_t)w->interval, "origin", (json_int_t)w->origin,
	    "spec", w->spec.p,
	    "offsets", ds_offsets_json(&w->pend), "cum", w->ckcum);
	if (h != NULL)
		ds_applied_save(&w->last, h);
	if (h == NULL || (hs = json_dumps(h, JSON_COMPACT)) == NULL)
		errx(1, "checkpoint: cannot encode the header");
	ds_buf_adds(&b, hs);
	ds_buf_addc(&b, '\n');
	free(hs);
	json_decref(h);
	for (k = 0; k < w->qn; k++) {
		p = &w->q[k];
		ds_buf_addf(&b, "[%" PRId64 ",%" PRId64 ",%zu]\n", p->time,
		    p->seq, w->raw ? p->nrecs : p->n);
		if (w->raw) {
			ds_buf_add(&b, p->recs.p, p->recs.len);
			continue;
		}
		for (i = 0; i < p->n; i++) {
			ds_buf_adds(&b, "[[");
			ds_buf_add(&b, PKEY(p, i), p->g[i].len);
			ds_buf_adds(&b, "],");
			ds_agg_save(&w->aggs, p->g[i].st, &b);
			ds_buf_adds(&b, "]\n");
		}
	}
	if (ds_ckpt_write(w->ckdir, CKPT_NAME, b.p, b.len) == -1)
		err(1, "%s/%s", w->ckdir, CKPT_NAME);
	ds_buf_free(&b);
}

static void
ckpt_load(struct win *w)
{
	char *data, *line, *e, *nl, *q;
	size_t len;
	json_t *h;
	json_error_t je;
	const char *spec;
	struct part *p = NULL;
	struct ds_aggst *st;
	long long t, s;
	size_t n;
	int rc;

	if ((rc = ds_ckpt_read(w->ckdir, CKPT_NAME, &data, &len)) == 0)
		return;
	if (rc == -1)
		errx(1, "%s: no usable checkpoint", w->ckdir);
	e = data + len;
	if ((nl = memchr(data, '\n', len)) == NULL ||
	    (h = json_loadb(data, nl - data, 0, &je)) == NULL)
		goto bad;
	spec = json_string_value(json_object_get(h, "spec"));
	if (spec == NULL || strcmp(spec, w->spec.p) != 0)
		errx(2, "%s: checkpoint made with other options (%s), not %s",
		    w->ckdir, spec ? spec : "?", w->spec.p);
	ds_applied_load(&w->last, h);
	w->interval = ds_marker_int(h, "interval");
	w->origin = ds_marker_int(h, "origin");
	w->originfirst = 0;
	ds_offsets_merge_json(&w->pend, json_object_get(h, "offsets"));
	ds_offsets_merge_json(&w->cum, json_object_get(h, "cum"));
	w->ckcum = ds_offsets_json(&w->cum);
	json_decref(h);
	n = 0;	/* lines left in the current batch */
	for (line = nl + 1; line < e; line = nl + 1) {
		if ((nl = memchr(line, '\n', e - line)) == NULL)
			nl = e;
		if (n == 0) {
			/* [time,seq,n] opens a batch of n lines */
			if (sscanf(line, "[%lld,%lld,%zu]", &t, &s, &n) != 3)
				goto bad;
			p = newpart(w, t, s);
			continue;
		}
		n--;
		if (w->raw) {
			ds_buf_add(&p->recs, line, nl - line);
			ds_buf_addc(&p->recs, '\n');
			p->nrecs++;
			continue;
		}
		/* [[key],state] */
		if (nl - line < 5 || line[0] != '[' || line[1] != '[')
			goto bad;
		q = (char *)ds_json_skip(line + 1, nl);
		if (q >= nl || *q != ',' || nl[-1] != ']' || q[-1] != ']')
			goto bad;
		if ((st = ds_agg_load(&w->aggs, q + 1, nl - 1 - (q + 1))) ==
		    NULL)
			goto bad;
		partadd(p, line + 2, q - 1 - (line + 2), st);
	}
	if (n != 0)
		goto bad;
	free(data);
	for (n = 0; n < w->qn; n++)
		enter(w, &w->q[n]);
	return;
bad:
	errx(1, "%s/%s: malformed checkpoint", w->ckdir, CKPT_NAME);
}

/*
 * The offsets safe to commit given our checkpoint (every batch it holds
 * can be recovered from it), lowered to what an upstream stage already
 * said in the marker's own "commit".
 */
static json_t *
commit(struct win *w, json_t *m)
{
	return ds_offsets_lower(w->ckcum, json_object_get(m, "commit"));
}

/* The first marker fixes the interval; LENGTH and SLIDE must fit it. */
static void
setinterval(struct win *w, int64_t iv, int64_t t)
{
	if (iv <= 0)
		errx(1, "batch marker without an interval: ds-window needs "
		    "batches from ds-batch");
	if (w->interval != 0 && w->interval != iv)
		errx(1, "the batch interval changed from %" PRId64 "ms to %"
		    PRId64 "ms", w->interval, iv);
	w->interval = iv;
	if (!w->slideopt)
		w->slide = iv;
	if (w->length % iv != 0 || w->slide % iv != 0)
		errx(2, "window length %" PRId64 "ms and slide %" PRId64 "ms "
		    "must be multiples of the batch interval %" PRId64 "ms",
		    w->length, w->slide, iv);
	if (w->originfirst) {
		/* Spark's zero time: one interval before the first batch */
		w->origin = t - iv;
		w->originfirst = 0;
	} else if (w->origin % iv != 0)
		errx(2, "--origin %" PRId64 " is not on the grid of the batch "
		    "interval %" PRId64 "ms", w->origin, iv);
}

/* Write the window ending at end over the batches held, then m. */
static void
window(struct win *w, json_t *m, int64_t end)
{
	json_t *win;

	results(w);
	json_object_set_new(m, "offsets", ds_offsets_json(&w->pend));
	ds_offsets_clear(&w->pend);
	win = json_pack("{s:I,s:I}", "start",
	    (json_int_t)(end - w->length), "end", (json_int_t)end);
	json_object_set_new(m, "window", win);
	if (w->ckdir != NULL)
		json_object_set_new(m, "commit", commit(w, m));
	ds_marker_emit(m);
}

static void
marker(void *ctx, json_t *m, const struct ds_line *l)
{
	struct win *w = ctx;
	struct part *p;
	struct ds_grp *g;
	int64_t seq = ds_marker_int(m, "seq"), t = ds_marker_int(m, "time");
	size_t i;

	setinterval(w, ds_marker_int(m, "interval"), t);
	json_decref(w->held);
	w->held = NULL;
	if (w->ckdir != NULL && ds_applied_replay(&w->last, m)) {
		/* replayed: applied (and emitted) before the restart */
		ds_groups_clear(&w->cur, &w->aggs);
		ds_buf_clear(&w->currecs);
		w->ncur = 0;
		json_decref(m);
		return;
	}
	p = newpart(w, t, seq);
	if (w->raw) {
		p->recs = w->currecs;
		p->nrecs = w->ncur;
		memset(&w->currecs, 0, sizeof(w->currecs));
		w->ncur = 0;
	} else {
		/* the batch's partials move into the window */
		i = 0;
		while ((g = ds_groups_next(&w->cur, &i)) != NULL) {
			partadd(p, g->key, g->klen, g->st);
			g->st = NULL;
		}
		ds_groups_clear(&w->cur, &w->aggs);
	}
	enter(w, p);
	evict(w, t);
	ds_offsets_merge_json(&w->pend, json_object_get(m, "offsets"));
	ds_offsets_merge_json(&w->cum, json_object_get(m, "offsets"));
	if ((t - w->origin) % w->slide == 0)
		window(w, m, t);
	/*
	 * A final marker closes a batch cut short by the end of input; a
	 * restarted upstream replays that batch whole under the same seq,
	 * so it must not reach the checkpoint.  A batch off the grid
	 * that is not checkpointed waits for end(), which flushes it.
	 */
	else if (w->ckdir == NULL || json_is_true(json_object_get(m, "final")))
		w->held = json_incref(m);
	if (w->ckdir != NULL && !json_is_true(json_object_get(m, "final"))) {
		ds_applied_set(&w->last, m);
		ckpt_save(w);
	}
	json_decref(m);
}

static void
end(void *ctx, unsigned long nmarkers)
{
	struct win *w = ctx;
	int64_t t;

	if (w->held != NULL) {
		/*
		 * End of input flushes state (ds(7)), whatever the last
		 * marker says: the window that would end at the next slide
		 * boundary is written now, so no batch of a finite input is
		 * left out of every window.
		 */
		t = ds_marker_int(w->held, "time");
		t = w->origin + (ds_floordiv(t - w->origin, w->slide) + 1) *
		    w->slide;
		evict(w, t);
		window(w, w->held, t);
		json_decref(w->held);
		w->held = NULL;
	}
	if (nmarkers > 0)
		return;
	/* plain input: one batch, one window, plain results */
	if (w->raw)
		ds_out(w->currecs.p, w->currecs.len);
	else
		emitset(w, &w->cur);
}

static void
addspec(struct win *w, const char *opt, const char *arg)
{
	ds_buf_adds(&w->spec, opt);
	ds_buf_adds(&w->spec, arg);
	ds_buf_addc(&w->spec, ' ');
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		DS_COMMON_LONGOPTS,
		{ "top",	required_argument, NULL, OPT_TOP },
		{ "inverse",	no_argument,	   NULL, OPT_INVERSE },
		{ "no-inverse",	no_argument,	   NULL, OPT_NOINVERSE },
		{ "checkpoint",	required_argument, NULL, OPT_CHECKPOINT },
		{ "origin",	required_argument, NULL, OPT_ORIGIN },
		{ "length",	required_argument, NULL, 'w' },
		{ "slide",	required_argument, NULL, 's' },
		{ "key",	required_argument, NULL, 'k' },
		{ "agg",	required_argument, NULL, 'a' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct win w;
	struct ds_stage st = { data, marker, NULL, end, &w };
	char ebuf[512], *spec;
	const char *errstr;
	int ch, inv = -1;
	size_t k;

	memset(&w, 0, sizeof(w));
	ds_signals();
	while ((ch = getopt_long(argc, argv, "a:hk:s:Vw:", longopts,
	    NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'a':
			if (ds_aggs_add(&w.aggs, optarg, ebuf, sizeof(ebuf)) == -1)
				errx(2, "-a %s", ebuf);
			addspec(&w, "-a", optarg);
			break;
		case OPT_TOP:
			if (asprintf(&spec, "top:%s", optarg) == -1)
				err(1, NULL);
			if (ds_aggs_add(&w.aggs, spec, ebuf, sizeof(ebuf)) == -1)
				errx(2, "--top %s", ebuf);
			addspec(&w, "-a", spec);
			free(spec);
			break;
		case 'k':
			if (w.keys != NULL)
				errx(2, "-k: give the key fields once, "
				    "comma-separated");
			if ((w.nkeys = ds_paths_parse(optarg, &w.keys)) == -1)
				errx(2, "-k %s: bad field list", optarg);
			if (ds_key_check(w.keys, w.nkeys, ebuf,
			    sizeof(ebuf)) == -1)
				errx(2, "-k: %s", ebuf);
			addspec(&w, "-k", optarg);
			break;
		case 'w':
			if (ds_duration(optarg, &w.length, 0) == -1)
				errx(2, "-w %s: expected a duration such as 6s",
				    optarg);
			addspec(&w, "-w", optarg);
			break;
		case 's':
			if (ds_duration(optarg, &w.slide, 0) == -1)
				errx(2, "-s %s: expected a duration such as 2s",
				    optarg);
			w.slideopt = 1;
			addspec(&w, "-s", optarg);
			break;
		case OPT_INVERSE:
			inv = 1;
			break;
		case OPT_NOINVERSE:
			inv = 0;
			break;
		case OPT_CHECKPOINT:
			w.ckdir = optarg;
			break;
		case OPT_ORIGIN:
			w.originfirst = strcmp(optarg, "first") == 0;
			if (!w.originfirst) {
				w.origin = strtonum(optarg, -(1LL << 60),
				    1LL << 60, &errstr);
				if (errstr != NULL)
					errx(2, "--origin %s: expected epoch "
					    "milliseconds or first", optarg);
			}
			addspec(&w, "--origin", optarg);
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

	if (w.length == 0) {
		warnx("-w LENGTH is required");
		usage(2);
	}
	w.raw = w.aggs.n == 0 && w.nkeys == 0;
	if (!w.raw && w.aggs.n == 0 && ds_aggs_add(&w.aggs, "count", ebuf,
	    sizeof(ebuf)) == -1)
		errx(2, "%s", ebuf);
	if (inv == 1 && (w.raw || !w.aggs.invertible))
		errx(2, "--inverse: only count, sum and avg have an inverse");
	w.inverse = !w.raw && w.aggs.invertible && inv != 0;
	ds_buf_addc(&w.spec, '\0');
	if (ds_grouper_init(&w.gr, &w.aggs, w.keys, w.nkeys, ebuf,
	    sizeof(ebuf)) == -1)
		errx(2, "%s", ebuf);
	if (w.ckdir != NULL)
		ckpt_load(&w);

	ds_stage_run(&st, argv, argc);

	for (k = 0; k < w.qn; k++)
		partfree(&w, &w.q[k]);
	free(w.q);
	k = 0;
	{
		struct ds_hent *e;

		while ((e = ds_hash_next(&w.run, &k)) != NULL)
			ds_agg_free(&w.aggs, e->val);
	}
	ds_hash_free(&w.run);
	ds_groups_free(&w.cur, &w.aggs);
	ds_offsets_free(&w.pend);
	ds_offsets_free(&w.cum);
	json_decref(w.ckcum);
	json_decref(w.held);
	ds_aggs_free(&w.aggs);
	ds_paths_free(w.keys, w.nkeys);
	ds_buf_free(&w.currecs);
	ds_buf_free(&w.spec);
	ds_buf_free(&w.out);
	ds_grouper_free(&w.gr);
	return 0;
}
