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
 *
 * With --changelog the window is kept per source partition (the
 * partition field leads every key) in a compacted Kafka topic, one
 * entry per partition and batch, so that it follows its partitions
 * across the members of a consumer group, as ds-state's state does.
 */
#include <err.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "kafka/kafka.h"

enum {
	OPT_TOP = DS_OPT_FIRST_TOOL, OPT_INVERSE, OPT_NOINVERSE,
	OPT_CHECKPOINT, OPT_ORIGIN, OPT_CHANGELOG, OPT_PARTFIELD
};

#define CKPT_NAME	"window"

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
	struct ds_winq	 wq;		/* the batches in the window */
	struct ds_offsets pend;		/* offsets of batches not emitted */
	const char	*ckdir;		/* --checkpoint */
	struct ds_stst	 ss;		/* the checkpoint */
	struct ds_buf	 spec;		/* options, to match a checkpoint */
	struct ds_buf	 out;
	struct ds_grouper gr;
	struct dk_scope	 sc;		/* --changelog */
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ds-window [-hV] -w LENGTH [-s SLIDE] [-k FIELD[,FIELD...]] "
	    "[-a [NAME=]AGG]...\n"
	    "                 [--top N:FIELD] [--inverse | --no-inverse] "
	    "[--checkpoint DIR]\n"
	    "                 [--origin MS|first] [--changelog TOPIC -b BROKERS "
	    "[-X PROP=VAL]\n"
	    "                 [--partition-field F]]\n"
	    "                 " DS_COMMON_USAGE " [FILE...]\n");
	exit(status);
}

/*
 * --changelog: is the source partition of the record just scanned
 * assigned here?  It is the first key field, which the scan found.
 */
static int
owned(struct win *w)
{
	int64_t p;

	return w->gr.found[0] && ds_json_int(w->gr.vals[0], &p) == 0 &&
	    dk_scope_ownsp(&w->sc, p);
}

/*
 * ds-kafka-cat's assign and revoke records (--changelog): a revoked
 * partition's groups leave the window, an assigned one's are read back.
 */
static void
control(void *ctx, const struct ds_line *l)
{
	struct win *w = ctx;
	int assign = ds_is_assign(l->p, l->len);

	if (w->sc.topic != NULL && (assign || ds_is_revoke(l->p, l->len)) &&
	    dk_window_control(&w->sc, l, assign, &w->wq) == -1)
		errx(1, "%s:%lu: %s", l->src, l->lineno, w->sc.err);
	ds_out_line(l->p, l->len);
}

static void
data(void *ctx, const struct ds_line *l)
{
	struct win *w = ctx;
	const char *why;

	if (w->raw) {
		if (ds_check_line(l, 0) == -1)
			return;
		ds_buf_add(&w->currecs, l->p, l->len);
		ds_buf_addc(&w->currecs, '\n');
		w->ncur++;
		return;
	}
	if (ds_check_line_scan(l, 0, ds_grouper_scan(&w->gr)) == -1)
		return;
	if (w->sc.topic != NULL && !owned(w))
		ds_bad(l, "%s", dk_scope_why(w->keys[0].text));
	else if (ds_grouper_add(&w->gr, &w->cur, l->p, l->len, &why) == -1)
		ds_bad(l, "%s", why);
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
	struct ds_grp *g;
	size_t n;

	if (w->raw) {
		ds_winq_records(&w->wq);
		return;
	}
	memset(&tmp, 0, sizeof(tmp));
	n = ds_winq_groups(&w->wq, &tmp, &g);
	emitgroups(w, g, n);
	free(g);
	ds_groups_free(&tmp, &w->aggs);
}

/*
 * A checkpoint is a snapshot of the window: a header with the options,
 * the grid and the offsets of the batches not emitted yet, then the
 * batches as ds_winq_save writes them.
 */
static void
ckpt_save(struct win *w)
{
	struct ds_buf b = { 0 };
	char msg[512];
	json_t *h;

	h = json_pack("{s:I,s:I,s:s,s:o}", "interval",
	    (json_int_t)w->interval, "origin", (json_int_t)w->origin,
	    "spec", w->spec.p, "offsets", ds_offsets_json(&w->pend));
	if (h == NULL)
		errx(1, "checkpoint: cannot encode the header");
	ds_winq_save(&w->wq, &b);
	if (ds_stst_save(&w->ss, h, &b, msg, sizeof(msg)) == -1)
		errx(1, "%s", msg);
	ds_buf_free(&b);
}

/* The checkpoint's header: the same options; the grid, the pending. */
static int
ckpt_header(void *arg, json_t *h, char *msg, size_t msglen)
{
	struct win *w = arg;
	const char *spec = json_string_value(json_object_get(h, "spec"));

	if (spec == NULL || strcmp(spec, w->spec.p) != 0) {
		snprintf(msg, msglen, "%s: checkpoint made with other options "
		    "(%s), not %s", w->ckdir, spec ? spec : "?", w->spec.p);
		return -1;
	}
	w->interval = ds_marker_int(h, "interval");
	w->origin = ds_marker_int(h, "origin");
	w->originfirst = 0;
	ds_offsets_merge_json(&w->pend, json_object_get(h, "offsets"));
	return 0;
}

/* The batches of the window, as ckpt_save wrote them. */
static int
ckpt_records(void *arg, char *p, char *e, char *msg, size_t msglen)
{
	struct win *w = arg;

	if (ds_winq_load(&w->wq, p, e) == -1) {
		snprintf(msg, msglen, "%s: malformed checkpoint", w->ss.path);
		return -1;
	}
	return 0;
}

static void
ckpt_load(struct win *w)
{
	struct ds_stst_load ld = { ckpt_header, ckpt_records, w };
	char msg[1024];

	if (ds_stst_load(&w->ss, &ld, msg, sizeof(msg)) == -1)
		errx(1, "%s", msg);
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

/* Drop the batches that no later window can cover. */
static void
evict(struct win *w, int64_t t)
{
	if (ds_winq_evict(&w->wq, t) == -1)
		errx(1, "internal error: key left the window twice");
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
		json_object_set_new(m, "commit", ds_stst_commit(&w->ss, m, 0));
	ds_marker_emit(m);
}

/*
 * --changelog: the batch's groups go to the changelog, those of the
 * batches leaving the window come out of it, and every marker is
 * written, committing its own offsets: the changelog has the batch.
 */
static void
scoped(struct win *w, json_t *m, int64_t t)
{
	json_t *win;

	dk_window_write(w->sc.topic, &w->wq, t);
	dk_window_evicting(w->sc.topic, &w->wq, t);
	evict(w, t);
	if ((t - w->origin) % w->slide == 0) {
		results(w);
		win = json_pack("{s:I,s:I}", "start",
		    (json_int_t)(t - w->length), "end", (json_int_t)t);
		json_object_set_new(m, "window", win);
	}
	json_object_set_new(m, "commit", dk_scope_commit(m));
	ds_marker_emit(m);
}

static void
marker(void *ctx, json_t *m, const struct ds_line *l)
{
	struct win *w = ctx;
	int64_t seq = ds_marker_int(m, "seq"), t = ds_marker_int(m, "time");

	setinterval(w, ds_marker_int(m, "interval"), t);
	json_decref(w->held);
	w->held = NULL;
	if (w->sc.topic != NULL && l == NULL) {
		/* cut short by the end of input: a restart reads it again */
		ds_groups_clear(&w->cur, &w->aggs);
		json_decref(m);
		return;
	}
	if (ds_stst_applied(&w->ss, m)) {
		/* replayed: applied (and emitted) before the restart */
		ds_groups_clear(&w->cur, &w->aggs);
		ds_buf_clear(&w->currecs);
		w->ncur = 0;
		json_decref(m);
		return;
	}
	/* the batch's partials (or records) move into the window */
	ds_winq_push(&w->wq, t, seq, &w->cur, &w->currecs, w->ncur);
	w->ncur = 0;
	if (w->sc.topic != NULL) {
		scoped(w, m, t);
		json_decref(m);
		return;
	}
	evict(w, t);
	ds_offsets_merge_json(&w->pend, json_object_get(m, "offsets"));
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
		ds_stst_apply(&w->ss, m);
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

static void
winfree(struct win *w)
{
	ds_winq_free(&w->wq);
	ds_groups_free(&w->cur, &w->aggs);
	ds_offsets_free(&w->pend);
	ds_stst_free(&w->ss);
	json_decref(w->held);
	ds_aggs_free(&w->aggs);
	ds_paths_free(w->keys, w->nkeys);
	ds_buf_free(&w->currecs);
	ds_buf_free(&w->spec);
	ds_buf_free(&w->out);
	ds_grouper_free(&w->gr);
	dk_scope_free(&w->sc);
}

/*
 * --changelog: the window's home is Kafka, its groups kept per source
 * partition (the field partfield leads every key), merged at each emit.
 */
static void
scope(struct win *w, const char *partfield)
{
	if (w->raw || w->sc.dk.brokers == NULL || w->ckdir != NULL)
		errx(2, "--changelog needs -k or -a and -b BROKERS, and takes "
		    "no --checkpoint");
	ds_opt_keys_lead(partfield, &w->keys, &w->nkeys);
	w->inverse = 0;
}

/* After the options: the mode, the grouper, the window, the checkpoint. */
static void
setup(struct win *w, int inv, const char *partfield)
{
	char ebuf[512];

	if (w->length == 0) {
		warnx("-w LENGTH is required");
		usage(2);
	}
	w->raw = w->aggs.n == 0 && w->nkeys == 0;
	if (!w->raw && w->aggs.n == 0 && ds_aggs_add(&w->aggs, "count", ebuf,
	    sizeof(ebuf)) == -1)
		errx(2, "%s", ebuf);
	if (inv == 1 && (w->raw || !w->aggs.invertible))
		errx(2, "--inverse: only count, sum and avg have an inverse");
	w->inverse = !w->raw && w->aggs.invertible && inv != 0;
	if (w->sc.topic != NULL)
		scope(w, partfield);
	ds_buf_addc(&w->spec, '\0');
	if (ds_grouper_init(&w->gr, &w->aggs, w->keys, w->nkeys, ebuf,
	    sizeof(ebuf)) == -1)
		errx(2, "%s", ebuf);
	ds_winq_init(&w->wq, &w->aggs, w->length, w->raw, w->inverse);
	ds_stst_init(&w->ss, w->ckdir, CKPT_NAME, 0);
	ckpt_load(w);
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
		{ "changelog",	required_argument, NULL, OPT_CHANGELOG },
		{ "partition-field", required_argument, NULL, OPT_PARTFIELD },
		{ "length",	required_argument, NULL, 'w' },
		{ "slide",	required_argument, NULL, 's' },
		{ "key",	required_argument, NULL, 'k' },
		{ "agg",	required_argument, NULL, 'a' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct win w;
	struct ds_stage st = { data, marker, control, end, &w, 0 };
	char ebuf[512], *spec;
	const char *errstr, *partfield = "partition";
	int ch, inv = -1;

	memset(&w, 0, sizeof(w));
	ds_signals();
	while ((ch = getopt_long(argc, argv, "a:b:hk:s:Vw:X:", longopts,
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
			ds_opt_keys(optarg, &w.keys, &w.nkeys);
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
		case OPT_CHANGELOG:
			dk_scope_init(&w.sc, optarg);
			break;
		case OPT_PARTFIELD:
			partfield = optarg;
			break;
		case 'b':
			w.sc.dk.brokers = optarg;
			break;
		case 'X':
			if (dk_conf_arg(&w.sc.dk, optarg) == -1)
				errx(2, "-X %s: expected PROP=VAL",
				    dk_secret(optarg) ? "(secret)" : optarg);
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

	setup(&w, inv, partfield);

	ds_stage_run(&st, argv, argc);

	winfree(&w);
	return 0;
}
