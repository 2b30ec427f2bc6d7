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
 *
 * With --changelog the state is kept per source partition (the
 * partition field leads every key) in a compacted Kafka topic instead:
 * each batch's changes go out as changelog records for the transactional
 * producer downstream, and an assigned partition's state is read back
 * before its records, so it follows the partition across the members of
 * a consumer group.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ds.h"
#include "kafka/kafka.h"

enum {
	OPT_EMIT = DS_OPT_FIRST_TOOL,
	OPT_TTL,
	OPT_INIT,
	OPT_SNAPSHOT,
	OPT_CKPT,
	OPT_CKEVERY,
	OPT_STATS,
	OPT_CHANGELOG,
	OPT_PARTFIELD
};

#define CKNAME	"state"		/* DIR/state, the deltas in DIR/state.log */

/* One key of the state (and of the current batch). */
struct sk {
	struct ds_key	 k;		/* first: the key table's part */
	struct ds_aggst	*st;		/* -a: the running aggregates */
	char		*js;		/* -e: the state as JSON text */
	struct ds_buf	 vals;		/* -e: "[v,v,..." of this batch */
	uint64_t	 upd;		/* the apply() that last updated it */
};

#define KEY(t, i)	((struct sk *)(t).ord[i])

struct state;
static struct ds_staterec staterec(struct state *);

struct state {
	/* options */
	struct ds_path	*keys;
	int		 nkeys;
	const char	*keytext;	/* -k as given */
	struct ds_aggs	 aggs;
	char		**aggspecs;	/* -a as given */
	struct ds_expr	*ex;		/* -e */
	int		 outall;	/* --emit all, --snapshot */
	int		 runall;	/* -e --emit all: idle keys too */
	int		 stats;
	int64_t		 ttl;
	long		 every;		/* --checkpoint-every */

	/* the state */
	struct ds_keytab kt;
	int		 needtime;	/* keys without a time exist */
	uint64_t	 napply;	/* apply() calls, for sk.upd */

	/* the batch: -a partials by key, -e values in the keys touched */
	struct ds_grouper gr;
	struct ds_groups cur;
	const char	*lastsrc;	/* where the last marker was */
	unsigned long	 lastlineno;

	/* the checkpoint */
	struct ds_stst	 ss;
	long		 sinceck;	/* batches applied since it */
	int		 replaywarned;

	struct dk_scope	 sc;		/* --changelog: state per partition */

	struct ds_buf	 kb, ob, res;
	int		 gotres;
};

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
	    "                [--changelog TOPIC -b BROKERS [-X PROP=VAL] "
	    "[--partition-field F]]\n"
	    "                [--max-line BYTES] [--max-depth N] [FILE ...]\n"
	    "       ds-state [-k FIELD[,FIELD...]] -e EXPR [options as above] "
	    "[FILE ...]\n"
	    "                (EXPR sees $state, $values and the marker "
	    "$__batch)\n");
	exit(status);
}

/* --- the key table ------------------------------------------------- */

static struct sk *
getkey(struct state *S, const char *k, size_t n)
{
	return ds_keytab_get(&S->kt, k, n);
}

/* Free what s holds (not s: the key table does). */
static void
freeval(struct state *S, struct sk *s)
{
	ds_agg_free(&S->aggs, s->st);
	free(s->js);
	ds_buf_free(&s->vals);
}

static void
delkey(struct state *S, struct sk *s)
{
	freeval(S, s);
	ds_keytab_del(&S->kt, &s->k);
}

/*
 * A bad record at the batch's marker (the key's records are folded
 * already): raw is what the dead-letter file gets.
 */
static void
keybad(struct state *S, const char *raw, size_t n, const char *why)
{
	struct ds_line l;

	memset(&l, 0, sizeof(l));
	l.p = raw;
	l.len = n;
	l.src = S->lastsrc;
	l.lineno = S->lastlineno;
	ds_bad(&l, "%s", why);
}

/* --- the changelog (--changelog) ------------------------------------ */

/* --- output -------------------------------------------------------- */

/* Write s as {<key fields>,<aggregates>} or {<key fields>,"state":S}. */
static void
emit(struct state *S, struct sk *s, int gone, int timedout)
{
	struct ds_buf *b = &S->ob;
	size_t mark;

	ds_buf_clear(b);
	ds_buf_addc(b, '{');
	ds_key_emit(s->k.key, s->k.klen, S->keys, S->nkeys, b);
	mark = b->len;
	if (S->ex == NULL)
		ds_agg_emit(&S->aggs, s->st, b);
	else {
		ds_buf_adds(b, ",\"state\":");
		ds_buf_adds(b, gone || s->js == NULL ? "null" : s->js);
	}
	if (timedout)
		ds_buf_adds(b, ",\"timedOut\":true");
	if (mark == 1 && b->len > 1 && b->p[1] == ',') {
		memmove(b->p + 1, b->p + 2, b->len - 2);
		b->len--;
	}
	ds_buf_addc(b, '}');
	ds_out_buf(b);
}

static void
emitall(struct state *S)
{
	size_t i;

	for (i = 0; i < S->kt.n; i++)
		if (KEY(S->kt, i) != NULL && KEY(S->kt, i)->k.live)
			emit(S, KEY(S->kt, i), 0, 0);
}

/* --- data ---------------------------------------------------------- */

static void
ondata(void *ctx, const struct ds_line *l)
{
	struct state *S = ctx;
	const char *why;
	struct sk *s;

	if (S->ex == NULL) {
		if (ds_check_line_scan(l, 0, ds_grouper_scan(&S->gr)) == 0 &&
		    ds_grouper_add(&S->gr, &S->cur, l->p, l->len, &why) == -1)
			ds_bad(l, "%s", why);
		return;
	}
	if (ds_check_line(l, 0) == -1)
		return;
	ds_buf_clear(&S->kb);
	if (ds_key_make(l->p, l->len, S->keys, S->nkeys, &S->kb, &why) == -1) {
		ds_bad(l, "%s", why);
		return;
	}
	if (!dk_scope_owns(&S->sc, S->kb.p, S->kb.len)) {
		ds_bad(l, "%s", dk_scope_why(S->keys[0].text));
		return;
	}
	s = getkey(S, S->kb.p, S->kb.len);
	ds_buf_addc(&s->vals, s->vals.len == 0 ? '[' : ',');
	ds_buf_add(&s->vals, l->p, l->len);
	ds_keytab_touch(&S->kt, &s->k);
}

/* -a: the batch's partials are merged into the keys' state. */
static void
takegroups(struct state *S)
{
	struct ds_grp *g;
	struct sk *s;
	size_t i = 0;

	while ((g = ds_groups_next(&S->cur, &i)) != NULL) {
		if (!dk_scope_owns(&S->sc, g->key, g->klen)) {
			keybad(S, g->key, g->klen,
			    dk_scope_why(S->keys[0].text));
			continue;
		}
		s = getkey(S, g->key, g->klen);
		if (s->st == NULL) {
			s->st = g->st;
			g->st = NULL;
		} else
			ds_agg_merge(&S->aggs, s->st, g->st);
		ds_keytab_touch(&S->kt, &s->k);
	}
	ds_groups_clear(&S->cur, &S->aggs);
}

/* --- applying a batch ---------------------------------------------- */

static void
onresult(void *arg, const char *out, size_t n)
{
	struct state *S = arg;

	if (S->gotres)
		return;
	S->gotres = 1;
	ds_buf_clear(&S->res);
	ds_buf_add(&S->res, out, n);
}

/*
 * Run the -e program for s with its values of this batch.  Returns 1
 * when the key was removed (the program gave null), else 0.
 */
static int
update(struct state *S, struct sk *s)
{
	const char *why, *st = s->js ? s->js : "null", *v = "[]";
	char msg[512];
	size_t vlen = 2;
	int ok;

	if (s->vals.len > 0) {
		ds_buf_addc(&s->vals, ']');
		v = s->vals.p;
		vlen = s->vals.len;
	}
	S->gotres = 0;
	ok = ds_expr_bind(S->ex, 0, st, strlen(st)) == 0 &&
	    ds_expr_bind(S->ex, 1, v, vlen) == 0 &&
	    ds_expr_run(S->ex, st, strlen(st), onresult, S, &why) == 0;
	if (!ok) {
		snprintf(msg, sizeof(msg), "update of the key's state "
		    "failed: %s", why ? why : "cannot bind $state/$values");
		keybad(S, v, vlen, msg);
		ds_buf_clear(&s->vals);
		return 0;
	}
	ds_buf_clear(&s->vals);
	if (!S->gotres)		/* no output: the state stays as it is */
		return 0;
	if (S->res.len == 4 && memcmp(S->res.p, "null", 4) == 0) {
		emit(S, s, 1, 0);	/* so that a sink can delete it too */
		delkey(S, s);
		return 1;
	}
	free(s->js);
	if ((s->js = strndup(S->res.p, S->res.len)) == NULL)
		err(1, NULL);
	if (s->k.live)
		ds_keytab_changed(&S->kt, &s->k);
	return 0;
}

/* -e: bind $__batch to the batch's marker m (NULL: plain input). */
static void
bindbatch(struct state *S, json_t *m)
{
	char *s;

	if (S->ex == NULL)
		return;
	if (m == NULL) {
		ds_expr_bind(S->ex, 2, "null", 4);
		return;
	}
	if ((s = json_dumps(m, JSON_COMPACT)) == NULL)
		err(1, NULL);
	ds_expr_bind(S->ex, 2, s, strlen(s));
	free(s);
}

/* Apply this batch's partials or values; t is the batch time. */
static void
apply(struct state *S, int64_t t)
{
	struct sk *s;
	size_t i = 0;

	S->napply++;
	if (S->needtime && t != DS_KEY_NOTIME) {
		ds_keytab_stamp(&S->kt, t);
		S->needtime = 0;
	}
	takegroups(S);
	while ((s = ds_keytab_nexttouched(&S->kt, &i)) != NULL) {
		s->upd = S->napply;
		if (S->ex != NULL && update(S, s))
			continue;
		if (S->ex != NULL && s->js == NULL) {
			/* a new key whose program gave no output */
			if (!s->k.live)
				delkey(S, s);
			continue;
		}
		ds_keytab_live(&S->kt, &s->k, t);
		if (!S->outall)
			emit(S, s, 0, 0);
	}
	if (S->runall)
		for (i = 0; i < S->kt.n; i++)
			if ((s = KEY(S->kt, i)) != NULL && s->k.live &&
			    s->upd != S->napply)
				update(S, s);
	while ((s = ds_keytab_expired(&S->kt, t, S->ttl)) != NULL) {
		emit(S, s, 0, 1);
		delkey(S, s);
	}
	if (S->outall)
		emitall(S);
}

/*
 * A batch the checkpoint already holds: do not apply it again, but
 * write the current (absolute) values of the keys it touched, so that a
 * sink that lost the first outputs still converges.
 */
static void
replay(struct state *S, int quiet)
{
	struct ds_grp *g;
	struct sk *s;
	size_t i = 0;

	while ((g = ds_groups_next(&S->cur, &i)) != NULL)
		if ((s = ds_keytab_find(&S->kt, g->key, g->klen)) != NULL &&
		    !quiet && !S->outall && s->k.live)
			emit(S, s, 0, 0);
	ds_groups_clear(&S->cur, &S->aggs);
	i = 0;
	while ((s = ds_keytab_nexttouched(&S->kt, &i)) != NULL) {
		ds_buf_clear(&s->vals);
		if (!quiet && !S->outall)
			emit(S, s, !s->k.live, 0);
		if (!s->k.live)
			delkey(S, s);
	}
	if (!quiet && S->outall)
		emitall(S);
}

/* --- checkpoints --------------------------------------------------- */

/*
 * A checkpoint (ds_stst_save) is a header line, then one state record
 * per key: the snapshot has every key, a delta the keys changed or
 * removed since the checkpoint before.
 */

/* A key's value in its state record: the aggregates, or the state. */
static void
saveval(void *arg, struct ds_key *k, struct ds_buf *b)
{
	struct state *S = arg;
	struct sk *e = (struct sk *)k;

	if (S->ex == NULL)
		ds_agg_save(&S->aggs, e->st, b);
	else
		ds_buf_adds(b, e->js);
}

/* The options a checkpoint was written with: a snapshot's header. */
static json_t *
ckpt_opts(struct state *S)
{
	json_t *a, *hd;
	int k;

	a = json_array();
	for (k = 0; k < S->aggs.n; k++)
		json_array_append_new(a, json_string(S->aggspecs[k]));
	hd = json_pack("{s:i,s:s,s:s,s:o}", "ds-state", 1,
	    "mode", S->ex ? "expression" : "aggregate",
	    "key", S->keytext, "aggs", a);
	if (hd == NULL)
		errx(1, "checkpoint: cannot encode its header");
	return hd;
}

/* Write a checkpoint; *ms is the time it took, *full its kind. */
static void
ckpt_write(struct state *S, double *ms, int *full)
{
	struct ds_staterec r = staterec(S);
	struct ds_buf b = { 0 };
	struct timespec t0, t1;
	char msg[512];
	json_t *hd;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((*full = ds_stst_wantfull(&S->ss)))
		hd = ckpt_opts(S);
	else if ((hd = json_object()) == NULL)
		errx(1, "checkpoint: cannot encode its header");
	ds_staterec_body(&S->kt, *full, &r, &b);
	if (ds_stst_save(&S->ss, hd, &b, msg, sizeof(msg)) == -1)
		errx(1, "%s", msg);
	ds_keytab_settled(&S->kt);
	ds_buf_free(&b);
	S->sinceck = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

/* Does the checkpoint's header match this run's -k/-a/-e? */
static int
ckpt_header(void *arg, json_t *hd, char *msg, size_t msglen)
{
	struct state *S = arg;
	json_t *want = ckpt_opts(S);
	int rv;

	rv = ds_stst_sameopts(&S->ss, hd, want, msg, msglen);
	json_decref(want);
	return rv;
}

/* A key's state record: v NULL, it was removed. */
static int
loadval(void *arg, const char *key, size_t klen, int64_t last,
    const struct ds_span *v, const char **why)
{
	struct state *S = arg;
	struct sk *s = getkey(S, key, klen);

	if (v == NULL) {
		delkey(S, s);
		return 0;
	}
	if (last == DS_KEY_NOTIME)
		S->needtime = 1;
	if (S->ex == NULL) {
		ds_agg_free(&S->aggs, s->st);
		if ((s->st = ds_agg_load(&S->aggs, v->p, v->len)) == NULL) {
			*why = "bad aggregate state";
			delkey(S, s);
			return -1;
		}
	} else {
		free(s->js);
		if ((s->js = strndup(v->p, v->len)) == NULL)
			err(1, NULL);
	}
	ds_keytab_live(&S->kt, &s->k, last);
	return 0;
}

/* How a checkpoint or the changelog holds a key: its state record. */
static struct ds_staterec
staterec(struct state *S)
{
	struct ds_staterec r = { S->keys, S->nkeys, S->ex ? "s" : "a",
	    saveval, loadval, S };

	return r;
}

/* Apply the state records p[0..end) (after a header line). */
static int
ckpt_records(void *arg, char *p, char *end, char *msg, size_t msglen)
{
	struct state *S = arg;
	struct ds_staterec r = staterec(S);

	return ds_staterec_load(&r, S->ss.path, p, end, msg, msglen);
}

/* Load DIR/state and its deltas; returns 1 when a state was loaded. */
static int
ckpt_load(struct state *S)
{
	struct ds_stst_load ld = { ckpt_header, ckpt_records, S };
	char msg[1024];
	int rc;

	if (S->ss.dir == NULL)
		return 0;
	S->kt.track = 0;	/* what is loaded is in the checkpoint */
	if ((rc = ds_stst_load(&S->ss, &ld, msg, sizeof(msg))) == -1)
		errx(1, "%s", msg);
	S->kt.track = 1;
	ds_keytab_sortage(&S->kt);
	return rc;
}

/* --- partitions: the changelog's side ------------------------------ */

static void
dropkey(void *arg, struct ds_key *k)
{
	delkey(arg, (struct sk *)k);
}

/*
 * ds-kafka-cat's assign and revoke records (--changelog): the state of
 * a revoked partition is dropped, an assigned one's read back.
 */
static void
oncontrol(void *ctx, const struct ds_line *l)
{
	struct state *S = ctx;
	struct ds_staterec r = staterec(S);
	int assign = ds_is_assign(l->p, l->len);

	if (S->sc.topic != NULL && (assign || ds_is_revoke(l->p, l->len)) &&
	    dk_scope_control(&S->sc, l, assign, &S->kt, dropkey, &r) == -1)
		errx(1, "%s:%lu: %s", l->src, l->lineno, S->sc.err);
	ds_out_line(l->p, l->len);
}

static void
initbad(void *arg, const struct ds_line *l, const char *why)
{
	(void)arg;
	ds_bad(l, "%s", why);
}

/* --init FILE: -a folds the records; -e takes {<key>,"state":S}. */
static void
initrec(void *arg, const struct ds_line *l, const char *key, size_t klen,
    const struct ds_span *v)
{
	struct state *S = arg;
	struct sk *s = getkey(S, key, klen);
	const char *why;

	if (S->ex == NULL) {
		if (s->st == NULL)
			s->st = ds_agg_new(&S->aggs);
		if (ds_agg_add(&S->aggs, s->st, l->p, l->len, &why) == -1) {
			ds_bad(l, "%s", why);
			if (ds_agg_count(s->st) == 0) {
				ds_agg_free(&S->aggs, s->st);
				s->st = NULL;
			}
		}
	} else {
		free(s->js);
		s->js = NULL;
		if (!(v->len == 4 && memcmp(v->p, "null", 4) == 0) &&
		    (s->js = strndup(v->p, v->len)) == NULL)
			err(1, NULL);
	}
	if (s->st == NULL && s->js == NULL) {
		delkey(S, s);
		return;
	}
	if (!s->k.live)
		ds_keytab_live(&S->kt, &s->k, DS_KEY_NOTIME);
	S->needtime = 1;
}

static void
loadinit(struct state *S, const char *file)
{
	struct ds_stateinit si = { S->keys, S->nkeys,
	    S->ex ? "state" : NULL, initrec, initbad, S };

	if (ds_staterec_init(&si, file) == -1)
		err(1, "%s", file);
}

/* --- markers ------------------------------------------------------- */

/*
 * Records after the last marker at end of input (or at a signal): with
 * a checkpoint this is most likely a batch cut short by a crash
 * upstream.  Applying it under the next seq would make the restart skip
 * the whole batch, so drop it: the replay brings it back whole.
 */
static void
cutshort(struct state *S, json_t *m)
{
	warnx("end of input inside batch %lld: its %lld records are "
	    "not applied (a restart replays them)",
	    (long long)ds_marker_int(m, "seq"),
	    (long long)ds_marker_int(m, "count"));
	replay(S, 1);
	json_decref(m);
}

static void
onmarker(void *ctx, json_t *m, const struct ds_line *l)
{
	struct state *S = ctx;
	struct ds_staterec r = staterec(S);
	int64_t seq = ds_marker_int(m, "seq");
	size_t nrec = S->kt.ntouch + ds_groups_count(&S->cur);
	double ms = 0;
	int replayed = 0, ck = 0, full = 0;

	if (l == NULL && (S->ss.dir != NULL || S->sc.topic != NULL)) {
		cutshort(S, m);
		return;
	}
	if (l != NULL) {
		S->lastsrc = l->src;
		S->lastlineno = l->lineno;
	}
	if (ds_stst_applied(&S->ss, m)) {
		if (!S->replaywarned++)
			warnx("batch %lld is in the checkpoint (seq %lld): "
			    "replayed batches are not applied again",
			    (long long)seq, (long long)S->ss.applied.seq);
		replay(S, 0);
		replayed = 1;
	} else {
		bindbatch(S, m);
		apply(S, ds_marker_int(m, "time"));
		ds_stst_apply(&S->ss, m);
		if (S->sc.topic != NULL && dk_scope_write(&S->sc, &S->kt,
		    &r) == -1)
			errx(1, "%s", S->sc.err);
		if (S->ss.dir != NULL && ++S->sinceck >= S->every) {
			ckpt_write(S, &ms, &full);
			ck = 1;
		}
	}
	ds_keytab_compact(&S->kt);
	/* the changelog has the batch: its own offsets are safe */
	json_object_set_new(m, "commit", S->sc.topic != NULL ?
	    dk_scope_commit(m) :
	    ds_stst_commit(&S->ss, m, replayed));
	if (S->stats)
		fprintf(stderr, "ds-state: batch %lld: %zu keys, %zu touched, "
		    "%s%s", (long long)seq, ds_hash_count(&S->kt.h), nrec,
		    replayed ? "replayed, not applied" : "applied",
		    ck ? "" : "\n");
	if (S->stats && ck)
		fprintf(stderr, ", checkpoint %.3f ms (%zu bytes, %s)\n", ms,
		    S->ss.lastbytes, full ? "snapshot" : "delta");
	ds_marker_emit(m);
	json_decref(m);
}

static void
onend(void *ctx, unsigned long nmarkers)
{
	struct state *S = ctx;
	double ms;
	int full;

	if (nmarkers == 0) {
		/* plain input: one batch, no time (no TTL), no marker */
		bindbatch(S, NULL);
		apply(S, DS_KEY_NOTIME);
	}
	if (S->ss.dir != NULL && (nmarkers == 0 || S->sinceck > 0))
		ckpt_write(S, &ms, &full);
}

/*
 * --changelog: the state's home is Kafka, and the source partition (the
 * field partfield) leads every key.
 */
static void
clog_opts(struct state *S, const char *partfield, int local)
{
	if (S->sc.dk.brokers == NULL || local) {
		warnx("--changelog needs -b BROKERS, and takes neither "
		    "--checkpoint nor --init");
		usage(2);
	}
	ds_opt_keys_lead(partfield, &S->keys, &S->nkeys);
}

/* -a, -k and the options of ds-state's own; *exsrc, *init as given. */
static void
options(struct state *S, int argc, char *argv[], const char **exsrc,
    const char **init)
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
		{ "changelog",		required_argument, NULL, OPT_CHANGELOG },
		{ "partition-field",	required_argument, NULL, OPT_PARTFIELD },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "version",		no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *errstr, *ckdir = NULL, *partfield = "partition";
	char msg[512];
	int ch, emitall = 0, snapshot = 0;

	while ((ch = getopt_long(argc, argv, "a:b:e:hk:VX:", longopts,
	    NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'a':
			if (ds_aggs_add(&S->aggs, optarg, msg,
			    sizeof(msg)) == -1) {
				warnx("-a %s: %s", optarg, msg);
				usage(2);
			}
			if ((S->aggspecs = reallocarray(S->aggspecs,
			    (size_t)S->aggs.n, sizeof(*S->aggspecs))) == NULL)
				err(1, NULL);
			S->aggspecs[S->aggs.n - 1] = optarg;
			break;
		case 'b':
			S->sc.dk.brokers = optarg;
			break;
		case 'e':
			*exsrc = optarg;
			break;
		case 'h':
			usage(0);
		case 'k':
			S->keytext = optarg;
			ds_opt_keys(optarg, &S->keys, &S->nkeys);
			break;
		case 'V':
			ds_version();
		case 'X':
			if (dk_conf_arg(&S->sc.dk, optarg) == -1) {
				warnx("-X %s: expected PROP=VAL",
				    dk_secret(optarg) ? "(secret)" : optarg);
				usage(2);
			}
			break;
		case OPT_CHANGELOG:
			dk_scope_init(&S->sc, optarg);
			break;
		case OPT_PARTFIELD:
			partfield = optarg;
			break;
		case OPT_EMIT:
			if (strcmp(optarg, "all") != 0 &&
			    strcmp(optarg, "changed") != 0) {
				warnx("--emit %s: expected all or changed",
				    optarg);
				usage(2);
			}
			emitall = strcmp(optarg, "all") == 0;
			break;
		case OPT_TTL:
			if (ds_duration(optarg, &S->ttl, 0) == -1) {
				warnx("--ttl %s: bad duration", optarg);
				usage(2);
			}
			break;
		case OPT_INIT:
			*init = optarg;
			break;
		case OPT_SNAPSHOT:
			snapshot = 1;
			break;
		case OPT_CKPT:
			ckdir = optarg;
			break;
		case OPT_CKEVERY:
			S->every = (long)strtonum(optarg, 1, 1000000000,
			    &errstr);
			if (errstr != NULL) {
				warnx("--checkpoint-every %s is %s", optarg,
				    errstr);
				usage(2);
			}
			break;
		case OPT_STATS:
			S->stats = 1;
			break;
		default:
			usage(2);
		}
	}
	/* the shared --stats (the run summary) comes first in longopts */
	S->stats = S->stats || ds_opts.stats;
	S->outall = emitall || snapshot;
	S->runall = *exsrc != NULL && emitall;
	ds_stst_init(&S->ss, ckdir, CKNAME, 1);
	if (S->sc.topic != NULL)
		clog_opts(S, partfield, ckdir != NULL || *init != NULL);
}

int
main(int argc, char *argv[])
{
	static const char *const vars[] = { "state", "values", "__batch" };
	static struct state S;
	struct ds_stage st = { ondata, onmarker, oncontrol, onend, &S, 0 };
	const char *exsrc = NULL, *init = NULL;
	char msg[512];
	size_t i;

	ds_signals();
	S.keytext = "";
	S.every = 1;
	S.lastsrc = "<stdin>";
	ds_buf_grow(&S.kb, 64);	/* never hash from NULL, even the empty key */
	options(&S, argc, argv, &exsrc, &init);
	ds_keytab_init(&S.kt, sizeof(struct sk), S.ttl > 0,
	    S.ss.dir != NULL || S.sc.topic != NULL);
	argc -= optind;
	argv += optind;
	if ((S.aggs.n > 0) == (exsrc != NULL)) {
		warnx("give -a AGG (running aggregates) or -e EXPR "
		    "(an update), not both");
		usage(2);
	}
	if (exsrc != NULL && (S.ex = ds_expr_compile(exsrc, vars, 3, msg,
	    sizeof(msg))) == NULL) {
		warnx("-e: %s", msg);
		usage(2);
	}
	if (S.ex != NULL)
		ds_expr_limits(S.ex, ds_opts.maxdepth, ds_opts.maxline);
	if (S.ex == NULL)
		if (ds_grouper_init(&S.gr, &S.aggs, S.keys, S.nkeys, msg,
		    sizeof(msg)) == -1)
			errx(2, "%s", msg);
	if (!ckpt_load(&S) && init != NULL)
		loadinit(&S, init);
	ds_stage_run(&st, argv, argc);

	for (i = 0; i < S.kt.n; i++)
		if (KEY(S.kt, i) != NULL)
			freeval(&S, KEY(S.kt, i));
	ds_keytab_free(&S.kt);
	ds_groups_free(&S.cur, &S.aggs);
	if (S.ex == NULL)
		ds_grouper_free(&S.gr);
	ds_stst_free(&S.ss);
	free(S.aggspecs);
	ds_aggs_free(&S.aggs);
	if (S.ex != NULL)
		ds_expr_free(S.ex);
	ds_paths_free(S.keys, S.nkeys);
	dk_scope_free(&S.sc);
	ds_buf_free(&S.kb);
	ds_buf_free(&S.ob);
	ds_buf_free(&S.res);
	return 0;
}
