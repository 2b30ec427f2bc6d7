/*
 * ds-state -- state across batches: running aggregates per key (Spark's
 * updateStateByKey with a reduce function) or a jq-style update of each
 * key's state from the batch's values (updateStateByKey / mapWithState),
 * with timeouts, initial state and checkpoints that make a restart
 * resume exactly where the last checkpoint left off.
 *
 * A batch's records are first folded into per-key batch partials (or
 * value arrays) and only applied to the state at the batch's marker:
 * the marker's seq decides whether the batch is new or a replay of one
 * the checkpoint already holds, and a replay must not be applied twice.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ds.h"

enum {
	OPT_EMIT = DS_OPT_FIRST_TOOL,
	OPT_TTL,
	OPT_INIT,
	OPT_SNAPSHOT,
	OPT_CKPT,
	OPT_CKEVERY,
	OPT_STATS
};

#define UNSET	INT64_MIN	/* last-update time of keys from --init */
#define CKNAME	"state"		/* the full checkpoint in DIR */
#define CKLOG	"state.log"	/* the deltas after it */

/* One key of the state (and of the current batch). */
struct sk {
	const char	*key;		/* borrowed from the hash entry */
	size_t		 klen;
	struct ds_aggst	*st;		/* -a: the running aggregates */
	struct ds_aggst	*part;		/* -a: this batch's partial */
	char		*js;		/* -e: the state as JSON text */
	struct ds_buf	 vals;		/* -e: "[v,v,..." of this batch */
	int64_t		 last;		/* batch time of the last data */
	uint64_t	 upd;		/* the apply() that last updated it */
	size_t		 idx;		/* position in ord */
	size_t		 didx;		/* position in dirty */
	struct sk	*prev, *next;	/* the TTL list, oldest first */
	unsigned	 instate:1, touched:1, dirty:1;
};

static struct ds_path *keys;
static int nkeys;
static const char *keytext = "";
static struct ds_aggs aggs;
static char **aggspecs;
static struct ds_expr *ex;
static int outall, runall, stats;
static int64_t ttl;
static const char *ckdir;
static long every = 1;

static struct ds_hash h;
static struct sk **ord;		/* keys in first-seen order, NULL = hole */
static size_t nord, ordcap, holes;
static struct sk **touch;	/* keys with data in this batch */
static size_t ntouch, touchcap;
static struct sk *head, *tail;	/* instate keys by last update */
static int needtime;		/* keys with last == UNSET exist */

static uint64_t napply;		/* apply() calls, for sk.upd */
static struct ds_applied applied;	/* the last applied batch */
static long sinceck;		/* batches applied since the checkpoint */
static struct ds_offsets cum;	/* offsets of every applied batch */
static json_t *ckoffs;		/* cum as of the last checkpoint */
static uint64_t gen;		/* checkpoints written, ever */
static int needfull = 1;	/* the next checkpoint must be a snapshot */
static int loading;		/* reading a checkpoint: nothing is dirty */
static off_t basebytes, logbytes;
static struct sk **dirty;	/* keys changed since the checkpoint */
static size_t ndirty, dirtycap;
static struct ds_buf dels;	/* keys removed since the checkpoint */
static int replaywarned;
static struct ds_buf kb, ob, res;
static int gotres;
static const char *lastsrc = "<stdin>";
static unsigned long lastlineno;

static void	markdirty(struct sk *);

/* reallocarray(3) that exits on failure. */
static void *
grow(void *p, size_t n, size_t size)
{
	void *q;

	if ((q = reallocarray(p, n, size)) == NULL)
		err(1, NULL);
	return q;
}

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ds-state [-hV] [-k FIELD[,FIELD...]] -a [NAME=]AGG ... "
	    "[--emit all|changed]\n"
	    "                [--snapshot] [--ttl DURATION] [--init FILE] "
	    "[--checkpoint DIR]\n"
	    "                [--checkpoint-every N] [--stats] [--skip-bad] "
	    "[--dead-letter FILE]\n"
	    "                [--max-line BYTES] [--max-depth N] [FILE ...]\n"
	    "       ds-state [-k FIELD[,FIELD...]] -e EXPR [options as above] "
	    "[FILE ...]\n"
	    "                (EXPR sees $state, $values and the marker "
	    "$__batch)\n");
	exit(status);
}

/* --- the key table ------------------------------------------------- */

/*
 * The TTL list is kept only with --ttl: its pointer chasing costs 10%
 * of a run over 1M keys.
 */
static void
ttl_unlink(struct sk *s)
{
	if (ttl == 0)
		return;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else if (head == s)
		head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else if (tail == s)
		tail = s->prev;
	s->prev = s->next = NULL;
}

static void
ttl_append(struct sk *s)
{
	if (ttl == 0)
		return;
	s->prev = tail;
	s->next = NULL;
	if (tail != NULL)
		tail->next = s;
	else
		head = s;
	tail = s;
}

/* Find or create the key k[0..n). */
static struct sk *
getkey(const char *k, size_t n)
{
	struct ds_hent *e;
	struct sk *s;
	int isnew;

	e = ds_hash_put(&h, k, n, &isnew);
	if (!isnew)
		return e->val;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		err(1, NULL);
	s->key = e->key;
	s->klen = e->klen;
	s->last = UNSET;
	e->val = s;
	if (nord == ordcap) {
		ordcap = ordcap ? ordcap * 2 : 1024;
		ord = grow(ord, ordcap, sizeof(*ord));
	}
	s->idx = nord;
	ord[nord++] = s;
	return s;
}

static void
delkey(struct sk *s)
{
	struct ds_hent *e;

	if (s->instate)
		ttl_unlink(s);
	if (s->dirty)
		dirty[s->didx] = NULL;
	if (s->instate && ckdir != NULL && !loading && !needfull) {
		/* the delta of the next checkpoint removes it */
		ds_buf_adds(&dels, "{\"k\":{");
		ds_key_emit(s->key, s->klen, keys, nkeys, &dels);
		ds_buf_adds(&dels, "},\"d\":1}\n");
	}
	ord[s->idx] = NULL;
	holes++;
	if (s->st != NULL)
		ds_agg_free(&aggs, s->st);
	if (s->part != NULL)
		ds_agg_free(&aggs, s->part);
	free(s->js);
	ds_buf_free(&s->vals);
	if ((e = ds_hash_get(&h, s->key, s->klen)) != NULL)
		ds_hash_del(&h, e);
	free(s);
}

/* Close the holes deletions left in ord (never while iterating it). */
static void
compact(void)
{
	size_t i, j;

	if (holes < 64 || holes * 2 < nord)
		return;
	for (i = j = 0; i < nord; i++)
		if (ord[i] != NULL) {
			ord[i]->idx = j;
			ord[j++] = ord[i];
		}
	nord = j;
	holes = 0;
}

static void
dotouch(struct sk *s)
{
	if (s->touched)
		return;
	s->touched = 1;
	if (ntouch == touchcap) {
		touchcap = touchcap ? touchcap * 2 : 1024;
		touch = grow(touch, touchcap, sizeof(*touch));
	}
	touch[ntouch++] = s;
}

/* Set s's state as present, updated at time t. */
static void
setlive(struct sk *s, int64_t t)
{
	if (s->instate)
		ttl_unlink(s);
	s->instate = 1;
	s->last = t;
	ttl_append(s);
	markdirty(s);
}

/* --- output -------------------------------------------------------- */

/* Write s as {<key fields>,<aggregates>} or {<key fields>,"state":S}. */
static void
emit(struct sk *s, int gone, int timedout)
{
	size_t mark;

	ds_buf_clear(&ob);
	ds_buf_addc(&ob, '{');
	ds_key_emit(s->key, s->klen, keys, nkeys, &ob);
	mark = ob.len;
	if (ex == NULL)
		ds_agg_emit(&aggs, s->st, &ob);
	else {
		ds_buf_adds(&ob, ",\"state\":");
		if (gone || s->js == NULL)
			ds_buf_adds(&ob, "null");
		else
			ds_buf_adds(&ob, s->js);
	}
	if (timedout)
		ds_buf_adds(&ob, ",\"timedOut\":true");
	if (mark == 1 && ob.len > 1 && ob.p[1] == ',') {
		memmove(ob.p + 1, ob.p + 2, ob.len - 2);
		ob.len--;
	}
	ds_buf_addc(&ob, '}');
	ds_out_buf(&ob);
}

static void
emitall(void)
{
	size_t i;

	for (i = 0; i < nord; i++)
		if (ord[i] != NULL && ord[i]->instate)
			emit(ord[i], 0, 0);
}

/* --- data ---------------------------------------------------------- */

static void
ondata(void *ctx, const struct ds_line *l)
{
	const char *why;
	struct sk *s;
	int fresh;

	(void)ctx;
	if (ds_check_line(l, 0) == -1)
		return;
	ds_buf_clear(&kb);
	if (ds_key_make(l->p, l->len, keys, nkeys, &kb, &why) == -1) {
		ds_bad(l, "%s", why);
		return;
	}
	s = getkey(kb.p, kb.len);
	if (ex != NULL) {
		ds_buf_addc(&s->vals, s->vals.len == 0 ? '[' : ',');
		ds_buf_add(&s->vals, l->p, l->len);
		dotouch(s);
		return;
	}
	if ((fresh = s->part == NULL))
		s->part = ds_agg_new(&aggs);
	if (ds_agg_add(&aggs, s->part, l->p, l->len, &why) == -1) {
		if (fresh) {
			ds_agg_free(&aggs, s->part);
			s->part = NULL;
			if (!s->instate && !s->touched)
				delkey(s);
		}
		ds_bad(l, "%s", why);
		return;
	}
	dotouch(s);
}

/* --- applying a batch ---------------------------------------------- */

static void
onresult(void *arg, const char *out, size_t n)
{
	(void)arg;
	if (gotres)
		return;
	gotres = 1;
	ds_buf_clear(&res);
	ds_buf_add(&res, out, n);
}

/*
 * Run the -e program for s with its values of this batch.  Returns 1
 * when the key was removed (the program gave null), else 0.
 */
static int
update(struct sk *s, int64_t t)
{
	struct ds_line l;
	const char *why, *st = s->js ? s->js : "null";
	int ok;

	if (s->vals.len > 0)
		ds_buf_addc(&s->vals, ']');
	gotres = 0;
	ok = ds_expr_bind(ex, 0, st, strlen(st)) == 0 &&
	    ds_expr_bind(ex, 1, s->vals.len ? s->vals.p : "[]",
	    s->vals.len ? s->vals.len : 2) == 0 &&
	    ds_expr_run(ex, st, strlen(st), onresult, NULL, &why) == 0;
	if (!ok) {
		memset(&l, 0, sizeof(l));
		l.p = s->vals.len ? s->vals.p : "[]";
		l.len = s->vals.len ? s->vals.len : 2;
		l.src = lastsrc;
		l.lineno = lastlineno;
		ds_buf_clear(&s->vals);
		ds_bad(&l, "update of the key's state failed: %s",
		    why ? why : "cannot bind $state/$values");
		return 0;
	}
	ds_buf_clear(&s->vals);
	if (!gotres)		/* no output: the state stays as it is */
		return 0;
	if (res.len == 4 && memcmp(res.p, "null", 4) == 0) {
		emit(s, 1, 0);	/* so that a sink can delete it too */
		delkey(s);
		return 1;
	}
	free(s->js);
	if ((s->js = strndup(res.p, res.len)) == NULL)
		err(1, NULL);
	if (s->instate)
		markdirty(s);
	return 0;
}

/* -e: bind $__batch to the batch's marker m (NULL: plain input). */
static void
bindbatch(json_t *m)
{
	char *s;

	if (ex == NULL)
		return;
	if (m == NULL) {
		ds_expr_bind(ex, 2, "null", 4);
		return;
	}
	if ((s = json_dumps(m, JSON_COMPACT)) == NULL)
		err(1, NULL);
	ds_expr_bind(ex, 2, s, strlen(s));
	free(s);
}

/* Apply this batch's partials or values; t is the batch time. */
static void
apply(int64_t t)
{
	struct sk *s;
	size_t i;

	napply++;
	if (needtime && t != UNSET) {
		for (s = head; s != NULL; s = s->next)
			if (s->last == UNSET)
				s->last = t;
		needtime = 0;
	}
	for (i = 0; i < ntouch; i++) {
		s = touch[i];
		s->touched = 0;
		s->upd = napply;
		if (ex == NULL) {
			if (s->st == NULL)
				s->st = s->part;
			else {
				ds_agg_merge(&aggs, s->st, s->part);
				ds_agg_free(&aggs, s->part);
			}
			s->part = NULL;
		} else if (update(s, t))
			continue;
		if (ex != NULL && s->js == NULL) {
			/* a new key whose program gave no output */
			if (!s->instate)
				delkey(s);
			continue;
		}
		setlive(s, t);
		if (!outall)
			emit(s, 0, 0);
	}
	ntouch = 0;
	if (runall)
		for (i = 0; i < nord; i++)
			if ((s = ord[i]) != NULL && s->instate &&
			    s->upd != napply)
				update(s, t);
	if (ttl > 0 && t != UNSET)
		while ((s = head) != NULL && s->last != UNSET &&
		    t - s->last > ttl) {
			emit(s, 0, 1);
			delkey(s);
		}
	if (outall)
		emitall();
}

/*
 * A batch the checkpoint already holds: do not apply it again, but
 * write the current (absolute) values of the keys it touched, so that a
 * sink that lost the first outputs still converges.
 */
static void
replay(int quiet)
{
	struct sk *s;
	size_t i;

	for (i = 0; i < ntouch; i++) {
		s = touch[i];
		s->touched = 0;
		if (s->part != NULL) {
			ds_agg_free(&aggs, s->part);
			s->part = NULL;
		}
		ds_buf_clear(&s->vals);
		if (!quiet && !outall && (s->instate || ex != NULL))
			emit(s, !s->instate, 0);
		if (!s->instate)
			delkey(s);
	}
	ntouch = 0;
	if (!quiet && outall)
		emitall();
}

/* --- checkpoints --------------------------------------------------- */

/*
 * A checkpoint is a full snapshot DIR/state (header line, then one line
 * per key) plus a log DIR/state.log of deltas: one frame per later
 * checkpoint with the keys changed or removed since the one before.
 * Frames chain by generation (a frame applies to the state of its
 * "prev" generation only), so frames older than the snapshot, or left
 * behind by a fallback to state.prev, are never applied.  A new full
 * snapshot is written when the log outgrows it, which bounds the cost
 * of a checkpoint by the keys changed, amortized.
 */

/* One state record: {"k":{<key>},"t":LAST,"a":SAVED} or "s":STATE. */
static void
addrec(struct ds_buf *b, struct sk *e)
{
	ds_buf_adds(b, "{\"k\":{");
	ds_key_emit(e->key, e->klen, keys, nkeys, b);
	ds_buf_adds(b, "},\"t\":");
	if (e->last == UNSET)
		ds_buf_adds(b, "null");
	else
		ds_buf_addi(b, e->last);
	if (ex == NULL) {
		ds_buf_adds(b, ",\"a\":");
		ds_agg_save(&aggs, e->st, b);
	} else {
		ds_buf_adds(b, ",\"s\":");
		ds_buf_adds(b, e->js);
	}
	ds_buf_adds(b, "}\n");
}

static void
markdirty(struct sk *s)
{
	if (ckdir == NULL || s->dirty || loading)
		return;
	s->dirty = 1;
	if (ndirty == dirtycap) {
		dirtycap = dirtycap ? dirtycap * 2 : 1024;
		dirty = grow(dirty, dirtycap, sizeof(*dirty));
	}
	s->didx = ndirty;
	dirty[ndirty++] = s;
}

static void
ckpt_write(double *ms, size_t *bytes, int *full)
{
	struct ds_buf b = { 0 };
	struct timespec t0, t1;
	json_t *hd, *a;
	char *s;
	size_t i;
	int k;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	gen++;
	*full = needfull || logbytes > basebytes;
	if (*full) {
		a = json_array();
		for (k = 0; k < aggs.n; k++)
			json_array_append_new(a, json_string(aggspecs[k]));
		hd = json_pack("{s:i,s:I,s:s,s:s,s:o,s:o}", "ds-state", 1,
		    "gen", (json_int_t)gen,
		    "mode", ex ? "expression" : "aggregate", "key", keytext,
		    "aggs", a, "offsets", ds_offsets_json(&cum));
	} else
		hd = json_pack("{s:I,s:I,s:o}", "gen", (json_int_t)gen,
		    "prev", (json_int_t)(gen - 1),
		    "offsets", ds_offsets_json(&cum));
	if (hd != NULL)
		ds_applied_save(&applied, hd);
	if (hd == NULL || (s = json_dumps(hd, JSON_COMPACT)) == NULL)
		errx(1, "checkpoint: cannot encode its header");
	ds_buf_adds(&b, s);
	ds_buf_addc(&b, '\n');
	free(s);
	if (*full) {
		for (i = 0; i < nord; i++)
			if (ord[i] != NULL && ord[i]->instate)
				addrec(&b, ord[i]);
		if (ds_ckpt_write(ckdir, CKNAME, b.p, b.len) == -1)
			err(1, "checkpoint: %s/%s", ckdir, CKNAME);
		if (ds_ckptlog_reset(ckdir, CKLOG) == -1)
			err(1, "checkpoint: %s/%s", ckdir, CKLOG);
		basebytes = (off_t)b.len;
		logbytes = 0;
		needfull = 0;
	} else {
		ds_buf_add(&b, dels.p, dels.len);
		for (i = 0; i < ndirty; i++)
			if (dirty[i] != NULL && dirty[i]->instate)
				addrec(&b, dirty[i]);
		if (ds_ckptlog_append(ckdir, CKLOG, b.p, b.len) == -1)
			err(1, "checkpoint: %s/%s", ckdir, CKLOG);
		logbytes += (off_t)b.len;
	}
	for (i = 0; i < ndirty; i++)
		if (dirty[i] != NULL)
			dirty[i]->dirty = 0;
	ndirty = 0;
	ds_buf_clear(&dels);
	*bytes = b.len;
	ds_buf_free(&b);
	json_decref(ckoffs);
	ckoffs = json_object_get(hd, "offsets");
	json_incref(ckoffs);
	json_decref(hd);
	sinceck = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

static int
cmplast(const void *a, const void *b)
{
	const struct sk *x = *(struct sk *const *)a, *y = *(struct sk *const *)b;

	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Rebuild the TTL list in order of last update (after loading). */
static void
ttl_rebuild(void)
{
	struct sk **v;
	size_t i, n = 0;

	if (ttl == 0)
		return;
	if ((v = reallocarray(NULL, nord + 1, sizeof(*v))) == NULL)
		err(1, NULL);
	for (i = 0; i < nord; i++)
		if (ord[i] != NULL && ord[i]->instate)
			v[n++] = ord[i];
	qsort(v, n, sizeof(*v), cmplast);
	head = tail = NULL;
	for (i = 0; i < n; i++)
		ttl_append(v[i]);
	free(v);
}

/* Does the checkpoint's header match this run's -k/-a/-e? */
static void
ckpt_header(json_t *hd, const char *path)
{
	json_t *a;
	const char *mode = json_string_value(json_object_get(hd, "mode"));
	const char *key = json_string_value(json_object_get(hd, "key"));
	size_t i;

	if (mode == NULL || key == NULL ||
	    !json_is_integer(json_object_get(hd, "seq")))
		errx(1, "%s: not a ds-state checkpoint", path);
	if (strcmp(mode, ex ? "expression" : "aggregate") != 0 ||
	    strcmp(key, keytext) != 0)
		errx(1, "%s: written with a different -k or -a/-e (key \"%s\", "
		    "%s)", path, key, mode);
	a = json_object_get(hd, "aggs");
	if (ex == NULL && json_array_size(a) != (size_t)aggs.n)
		errx(1, "%s: written with different aggregates", path);
	for (i = 0; ex == NULL && i < (size_t)aggs.n; i++)
		if (strcmp(json_string_value(json_array_get(a, i)) ?
		    json_string_value(json_array_get(a, i)) : "",
		    aggspecs[i]) != 0)
			errx(1, "%s: written with -a %s, not -a %s", path,
			    json_string_value(json_array_get(a, i)),
			    aggspecs[i]);
}

/* Take a checkpoint header's gen, seq and offsets. */
static void
ckpt_pos(json_t *hd)
{
	gen = (uint64_t)json_integer_value(json_object_get(hd, "gen"));
	ds_applied_load(&applied, hd);
	ds_offsets_clear(&cum);
	ds_offsets_merge_json(&cum, json_object_get(hd, "offsets"));
	json_decref(ckoffs);
	ckoffs = json_object_get(hd, "offsets");
	json_incref(ckoffs);
}

/* Apply the state records p[0..len) (after a header line) to the state. */
static void
loadrecs(char *p, char *end, const char *path)
{
	static struct ds_path pk, pt, pv, pd;
	struct ds_span k, t, v;
	size_t lineno = 1;
	const char *why;
	struct sk *s;
	int64_t last;
	char *nl;

	if (pk.n == 0 && (ds_path_parse("k", &pk) == -1 ||
	    ds_path_parse("t", &pt) == -1 || ds_path_parse("d", &pd) == -1 ||
	    ds_path_parse(ex ? "s" : "a", &pv) == -1))
		errx(1, "ds_path_parse");
	for (; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (ds_json_check(p, (size_t)(nl - p), ds_opts.maxdepth,
		    &why) == -1 || !ds_json_get(p, (size_t)(nl - p), &pk, &k))
			errx(1, "%s:%zu: malformed state record", path, lineno);
		ds_buf_clear(&kb);
		if (ds_key_make(k.p, k.len, keys, nkeys, &kb, &why) == -1)
			errx(1, "%s:%zu: %s", path, lineno, why);
		if (ds_json_get(p, (size_t)(nl - p), &pd, &v)) {
			if ((s = getkey(kb.p, kb.len)) != NULL)
				delkey(s);
			continue;
		}
		if (!ds_json_get(p, (size_t)(nl - p), &pt, &t) ||
		    !ds_json_get(p, (size_t)(nl - p), &pv, &v))
			errx(1, "%s:%zu: malformed state record", path, lineno);
		s = getkey(kb.p, kb.len);
		if (ds_json_int(t, &last) == -1) {
			last = UNSET;
			needtime = 1;
		}
		if (ex == NULL) {
			if (s->st != NULL)
				ds_agg_free(&aggs, s->st);
			if ((s->st = ds_agg_load(&aggs, v.p, v.len)) == NULL)
				errx(1, "%s:%zu: bad aggregate state", path,
				    lineno);
		} else {
			free(s->js);
			if ((s->js = strndup(v.p, v.len)) == NULL)
				err(1, NULL);
		}
		s->instate = 1;
		s->last = last;
	}
}

/* One frame of DIR/state.log: apply it if it follows our generation. */
static int
loadframe(void *arg, char *data, size_t len)
{
	const char *path = arg;
	char *nl;
	json_t *hd;

	if ((nl = memchr(data, '\n', len)) == NULL)
		nl = data + len;
	if ((hd = json_loadb(data, (size_t)(nl - data), 0, NULL)) == NULL)
		errx(1, "%s: malformed frame header", path);
	if ((uint64_t)json_integer_value(json_object_get(hd, "prev")) != gen) {
		/* older than the snapshot, or after a lost one: stop */
		json_decref(hd);
		needfull = 1;
		return 1;
	}
	ckpt_pos(hd);
	json_decref(hd);
	if (nl < data + len)
		loadrecs(nl + 1, data + len, path);
	return 0;
}

/* Load DIR/state and DIR/state.log; returns 1 when a state was loaded. */
static int
ckpt_load(void)
{
	char *data, *nl, path[4096], lpath[4096];
	size_t len;
	json_t *hd;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", ckdir, CKNAME);
	snprintf(lpath, sizeof(lpath), "%s/%s", ckdir, CKLOG);
	if ((rc = ds_ckpt_read(ckdir, CKNAME, &data, &len)) == 0)
		return 0;
	if (rc == -1)
		errx(1, "%s: no usable checkpoint (remove the directory to "
		    "start from scratch)", path);
	if ((nl = memchr(data, '\n', len)) == NULL)
		nl = data + len;
	if ((hd = json_loadb(data, (size_t)(nl - data), 0, NULL)) == NULL)
		errx(1, "%s: not a ds-state checkpoint", path);
	ckpt_header(hd, path);
	ckpt_pos(hd);
	json_decref(hd);
	loading = 1;
	if (nl < data + len)
		loadrecs(nl + 1, data + len, path);
	basebytes = (off_t)len;
	free(data);
	if (ds_ckptlog_read(ckdir, CKLOG, loadframe, lpath, &logbytes) == -1)
		err(1, "%s", lpath);
	loading = 0;
	ttl_rebuild();
	return 1;
}

/* --init FILE: -a folds the records; -e takes {<key>,"state":S}. */
static void
loadinit(const char *file)
{
	struct ds_path ps;
	struct ds_span v;
	struct ds_in *in;
	struct ds_line l;
	const char *why;
	struct sk *s;

	if (ds_path_parse("state", &ps) == -1)
		errx(1, "ds_path_parse");
	in = ds_in_open(file, ds_opts.maxline);
	while (ds_in_next(in, &l)) {
		if (ds_check_line(&l, 1) == -1)
			continue;
		ds_buf_clear(&kb);
		if (ds_key_make(l.p, l.len, keys, nkeys, &kb, &why) == -1) {
			ds_bad(&l, "%s", why);
			continue;
		}
		if (ex != NULL && !ds_json_get(l.p, l.len, &ps, &v)) {
			ds_bad(&l, "initial state record without \"state\"");
			continue;
		}
		s = getkey(kb.p, kb.len);
		if (ex == NULL) {
			if (s->st == NULL)
				s->st = ds_agg_new(&aggs);
			if (ds_agg_add(&aggs, s->st, l.p, l.len, &why) == -1) {
				ds_bad(&l, "%s", why);
				if (ds_agg_count(s->st) == 0) {
					ds_agg_free(&aggs, s->st);
					s->st = NULL;
				}
			}
		} else {
			free(s->js);
			s->js = NULL;
			if (!(v.len == 4 && memcmp(v.p, "null", 4) == 0) &&
			    (s->js = strndup(v.p, v.len)) == NULL)
				err(1, NULL);
		}
		if (s->st == NULL && s->js == NULL) {
			delkey(s);
			continue;
		}
		if (!s->instate) {
			s->instate = 1;
			ttl_append(s);
		}
		needtime = 1;
	}
	ds_in_close(in);
	ds_path_free(&ps);
}

/* --- markers ------------------------------------------------------- */

/*
 * The offsets safe to commit given our checkpoint: ckoffs, lowered to
 * what an upstream stage said in the marker's own "commit", and, for a
 * replayed batch, to the batch's own offsets: our output has only got
 * that far, and a sink must not see offsets committed for batches it
 * has not been sent yet.
 */
static json_t *
commit(json_t *m, int replayed)
{
	json_t *c, *c2;

	c = ds_offsets_lower(ckoffs, json_object_get(m, "commit"));
	if (!replayed)
		return c;
	c2 = ds_offsets_lower(c, json_object_get(m, "offsets"));
	json_decref(c);
	return c2;
}

static void
onmarker(void *ctx, json_t *m, const struct ds_line *l)
{
	int64_t seq = ds_marker_int(m, "seq"), t = ds_marker_int(m, "time");
	double ms = 0;
	size_t bytes = 0, nrec = ntouch;
	int replayed = 0, ck = 0, full = 0;

	(void)ctx;
	if (l != NULL) {
		lastsrc = l->src;
		lastlineno = l->lineno;
	} else if (ckdir != NULL) {
		/*
		 * Records after the last marker at end of input (or at a
		 * signal): with a checkpoint this is most likely a batch cut
		 * short by a crash upstream.  Applying it under the next seq
		 * would make the restart skip the whole batch, so drop it:
		 * the replay brings it back whole.
		 */
		warnx("end of input inside batch %lld: its %lld records are "
		    "not applied (a restart replays them)", (long long)seq,
		    (long long)ds_marker_int(m, "count"));
		replay(1);
		json_decref(m);
		return;
	}
	if (ckdir != NULL && ds_applied_replay(&applied, m)) {
		if (!replaywarned++)
			warnx("batch %lld is in the checkpoint (seq %lld): "
			    "replayed batches are not applied again",
			    (long long)seq, (long long)applied.seq);
		replay(0);
		replayed = 1;
	} else {
		bindbatch(m);
		apply(t);
		ds_applied_set(&applied, m);
		ds_offsets_merge_json(&cum, json_object_get(m, "offsets"));
		if (ckdir != NULL && ++sinceck >= every) {
			ckpt_write(&ms, &bytes, &full);
			ck = 1;
		}
	}
	compact();
	if (ckoffs == NULL)
		ckoffs = json_array();
	json_object_set_new(m, "commit", commit(m, replayed));
	if (stats)
		fprintf(stderr, "ds-state: batch %lld: %zu keys, %zu touched, "
		    "%s%s", (long long)seq,
		    ds_hash_count(&h), nrec,
		    replayed ? "replayed, not applied" : "applied",
		    ck ? "" : "\n");
	if (stats && ck)
		fprintf(stderr, ", checkpoint %.3f ms (%zu bytes, %s)\n", ms,
		    bytes, full ? "snapshot" : "delta");
	ds_marker_emit(m);
	json_decref(m);
}

static void
onend(void *ctx, unsigned long nmarkers)
{
	double ms;
	size_t bytes;
	int full;

	(void)ctx;
	if (nmarkers == 0) {
		/* plain input: one batch, no time (no TTL), no marker */
		bindbatch(NULL);
		apply(UNSET);
		if (ckdir != NULL)
			ckpt_write(&ms, &bytes, &full);
	} else if (ckdir != NULL && sinceck > 0)
		ckpt_write(&ms, &bytes, &full);
}

int
main(int argc, char *argv[])
{
	static struct option longopts[] = {
		DS_COMMON_LONGOPTS,
		{ "emit",		required_argument, NULL, OPT_EMIT },
		{ "ttl",		required_argument, NULL, OPT_TTL },
		{ "init",		required_argument, NULL, OPT_INIT },
		{ "snapshot",		no_argument,	   NULL, OPT_SNAPSHOT },
		{ "checkpoint",		required_argument, NULL, OPT_CKPT },
		{ "checkpoint-every",	required_argument, NULL, OPT_CKEVERY },
		{ "stats",		no_argument,	   NULL, OPT_STATS },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "version",		no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const vars[] = { "state", "values", "__batch" };
	struct ds_stage st = { ondata, onmarker, NULL, onend, NULL };
	const char *exsrc = NULL, *init = NULL, *errstr;
	char msg[512];
	int ch, i, emitall = 0, snapshot = 0;

	ds_signals();
	ds_buf_grow(&kb, 64);	/* never hash from NULL, even the empty key */
	while ((ch = getopt_long(argc, argv, "a:e:hk:V", longopts,
	    NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'a':
			if (ds_aggs_add(&aggs, optarg, msg, sizeof(msg)) == -1) {
				warnx("-a %s: %s", optarg, msg);
				usage(2);
			}
			aggspecs = grow(aggspecs, (size_t)aggs.n,
			    sizeof(*aggspecs));
			aggspecs[aggs.n - 1] = optarg;
			break;
		case 'e':
			exsrc = optarg;
			break;
		case 'h':
			usage(0);
		case 'k':
			keytext = optarg;
			if ((nkeys = ds_paths_parse(optarg, &keys)) <= 0) {
				warnx("-k %s: bad field list", optarg);
				usage(2);
			}
			break;
		case 'V':
			ds_version();
		case OPT_EMIT:
			if (strcmp(optarg, "all") == 0)
				emitall = 1;
			else if (strcmp(optarg, "changed") == 0)
				emitall = 0;
			else {
				warnx("--emit %s: expected all or changed",
				    optarg);
				usage(2);
			}
			break;
		case OPT_TTL:
			if (ds_duration(optarg, &ttl, 0) == -1) {
				warnx("--ttl %s: bad duration", optarg);
				usage(2);
			}
			break;
		case OPT_INIT:
			init = optarg;
			break;
		case OPT_SNAPSHOT:
			snapshot = 1;
			break;
		case OPT_CKPT:
			ckdir = optarg;
			break;
		case OPT_CKEVERY:
			every = (long)strtonum(optarg, 1, 1000000000, &errstr);
			if (errstr != NULL) {
				warnx("--checkpoint-every %s is %s", optarg,
				    errstr);
				usage(2);
			}
			break;
		case OPT_STATS:
			stats = 1;
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	/* the shared --stats (the run summary) comes first in longopts */
	stats = stats || ds_opts.stats;
	if ((aggs.n > 0) == (exsrc != NULL)) {
		warnx("give -a AGG (running aggregates) or -e EXPR "
		    "(an update), not both");
		usage(2);
	}
	if (exsrc != NULL && (ex = ds_expr_compile(exsrc, vars, 3, msg,
	    sizeof(msg))) == NULL) {
		warnx("-e: %s", msg);
		usage(2);
	}
	if (ex != NULL)
		ds_expr_limits(ex, ds_opts.maxdepth, ds_opts.maxline);
	outall = emitall || snapshot;
	runall = ex != NULL && emitall;
	if (ckdir == NULL || !ckpt_load()) {
		if (init != NULL)
			loadinit(init);
	}
	ds_stage_run(&st, argv, argc);

	for (i = 0; i < (int)nord; i++)
		if (ord[i] != NULL)
			delkey(ord[i]);
	free(ord);
	free(touch);
	free(dirty);
	ds_buf_free(&dels);
	free(aggspecs);
	ds_hash_free(&h);
	ds_aggs_free(&aggs);
	if (ex != NULL)
		ds_expr_free(ex);
	ds_paths_free(keys, nkeys);
	ds_offsets_free(&cum);
	json_decref(ckoffs);
	ds_buf_free(&kb);
	ds_buf_free(&ob);
	ds_buf_free(&res);
	return 0;
}
