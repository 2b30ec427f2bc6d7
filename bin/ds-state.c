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
	OPT_CHANGELOG,
	OPT_PARTFIELD
};

#define CKNAME	"state"		/* DIR/state, the deltas in DIR/state.log */

struct state {
	/* options; -k, -a and their texts are the state's */
	struct ds_expr	*ex;		/* -e */
	int		 outall;	/* --emit all, --snapshot */
	int		 runall;	/* -e --emit all: idle keys too */
	int64_t		 ttl;
	long		 every;		/* --checkpoint-every */

	/* the state and its checkpoint */
	struct ds_kstate ks;
	uint64_t	 napply;	/* apply() calls, for ds_kval.upd */
	long		 sinceck;	/* batches applied since it */
	int		 replaywarned;

	/* the batch: -a partials by key, -e values in the keys touched */
	struct ds_grouper gr;
	struct ds_groups cur;
	const char	*lastsrc;	/* where the last marker was */
	unsigned long	 lastlineno;

	struct dk_scope	 sc;		/* --changelog: state per partition */

	struct ds_buf	 kb, res;
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

/* --- data ---------------------------------------------------------- */

static void
ondata(void *ctx, const struct ds_line *l)
{
	struct state *S = ctx;
	const char *why;
	struct ds_kval *v;

	if (S->ex == NULL) {
		if (ds_check_line_scan(l, 0, ds_grouper_scan(&S->gr)) == 0 &&
		    ds_grouper_add(&S->gr, &S->cur, l->p, l->len, &why) == -1)
			ds_bad(l, "%s", why);
		return;
	}
	if (ds_check_line(l, 0) == -1)
		return;
	ds_buf_clear(&S->kb);
	if (ds_key_make(l->p, l->len, S->ks.keys, S->ks.nkeys, &S->kb,
	    &why) == -1) {
		ds_bad(l, "%s", why);
		return;
	}
	if (!dk_scope_owns(&S->sc, S->kb.p, S->kb.len)) {
		ds_bad(l, "%s", dk_scope_why(S->ks.keys[0].text));
		return;
	}
	v = ds_kstate_get(&S->ks, S->kb.p, S->kb.len);
	ds_buf_addc(&v->vals, v->vals.len == 0 ? '[' : ',');
	ds_buf_add(&v->vals, l->p, l->len);
	ds_keytab_touch(&S->ks.kt, &v->k);
}

/* -a: the batch's partials are merged into the keys' state. */
static void
takegroups(struct state *S)
{
	struct ds_grp *g;
	size_t i = 0;

	while ((g = ds_groups_next(&S->cur, &i)) != NULL) {
		if (dk_scope_owns(&S->sc, g->key, g->klen))
			ds_kstate_take(&S->ks, g);
		else
			keybad(S, g->key, g->klen,
			    dk_scope_why(S->ks.keys[0].text));
	}
	ds_groups_clear(&S->cur, &S->ks.aggs);
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
 * Run the -e program for key s with its values of this batch.  Returns
 * 1 when the key was removed (the program gave null), else 0.
 */
static int
update(struct state *S, struct ds_kval *s)
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
		/* so that a sink can delete it too */
		ds_kstate_emit(&S->ks, s, 1, 0);
		ds_kstate_del(&S->ks, s);
		return 1;
	}
	ds_kstate_setjs(&S->ks, s, S->res.p, S->res.len);
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
	struct ds_keytab *kt = &S->ks.kt;
	struct ds_kval *s;
	size_t i = 0;

	S->napply++;
	ds_kstate_stamp(&S->ks, t);
	takegroups(S);
	while ((s = ds_keytab_nexttouched(kt, &i)) != NULL) {
		s->upd = S->napply;
		if (S->ex != NULL && update(S, s))
			continue;
		if (S->ex != NULL && s->js == NULL) {
			/* a new key whose program gave no output */
			if (!s->k.live)
				ds_kstate_del(&S->ks, s);
			continue;
		}
		ds_keytab_live(kt, &s->k, t);
		if (!S->outall)
			ds_kstate_emit(&S->ks, s, 0, 0);
	}
	if (S->runall)
		for (i = 0; i < kt->n; i++)
			if ((s = (struct ds_kval *)kt->ord[i]) != NULL &&
			    s->k.live && s->upd != S->napply)
				update(S, s);
	ds_kstate_expire(&S->ks, t, S->ttl);
	if (S->outall)
		ds_kstate_emitall(&S->ks);
}

/* Write a checkpoint; *ms is the time it took, *full its kind. */
static void
ckpt_write(struct state *S, double *ms, int *full)
{
	struct timespec t0, t1;
	char msg[512];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((*full = ds_kstate_save(&S->ks, msg, sizeof(msg))) == -1)
		errx(1, "%s", msg);
	S->sinceck = 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	*ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

/*
 * ds-kafka-cat's assign and revoke records (--changelog): the state of
 * a revoked partition is dropped, an assigned one's read back.
 */
static void
oncontrol(void *ctx, const struct ds_line *l)
{
	struct state *S = ctx;
	struct ds_staterec r = ds_kstate_rec(&S->ks);
	int assign = ds_is_assign(l->p, l->len);

	if (S->sc.topic != NULL && (assign || ds_is_revoke(l->p, l->len)) &&
	    dk_scope_control(&S->sc, l, assign, &S->ks.kt, ds_kstate_drop,
	    &r) == -1)
		errx(1, "%s:%lu: %s", l->src, l->lineno, S->sc.err);
	ds_out_line(l->p, l->len);
}

/* --init: a bad record of the initial state. */
static void
initbad(void *arg, const struct ds_line *l, const char *why)
{
	(void)arg;
	ds_bad(l, "%s", why);
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
	ds_kstate_replay(&S->ks, &S->cur, 0);
	json_decref(m);
}

/* A new batch: apply it, write it to the changelog or a checkpoint. */
static void
newbatch(struct state *S, json_t *m, double *ms, int *ck, int *full)
{
	struct ds_staterec r = ds_kstate_rec(&S->ks);

	bindbatch(S, m);
	apply(S, ds_marker_int(m, "time"));
	ds_stst_apply(&S->ks.ss, m);
	if (S->sc.topic != NULL && dk_scope_write(&S->sc, &S->ks.kt,
	    &r) == -1)
		errx(1, "%s", S->sc.err);
	if (S->ks.ss.dir != NULL && ++S->sinceck >= S->every) {
		ckpt_write(S, ms, full);
		*ck = 1;
	}
}

static void
onmarker(void *ctx, json_t *m, const struct ds_line *l)
{
	struct state *S = ctx;
	struct ds_stst *ss = &S->ks.ss;
	int64_t seq = ds_marker_int(m, "seq");
	size_t nrec = S->ks.kt.ntouch + ds_groups_count(&S->cur);
	double ms = 0;
	int replayed = 0, ck = 0, full = 0;

	if (l == NULL && (ss->dir != NULL || S->sc.topic != NULL)) {
		cutshort(S, m);
		return;
	}
	if (l != NULL) {
		S->lastsrc = l->src;
		S->lastlineno = l->lineno;
	}
	if (ds_stst_applied(ss, m)) {
		if (!S->replaywarned++)
			warnx("batch %lld is in the checkpoint (seq %lld): "
			    "replayed batches are not applied again",
			    (long long)seq, (long long)ss->applied.seq);
		ds_kstate_replay(&S->ks, &S->cur, !S->outall);
		if (S->outall)
			ds_kstate_emitall(&S->ks);
		replayed = 1;
	} else
		newbatch(S, m, &ms, &ck, &full);
	ds_keytab_compact(&S->ks.kt);
	/* the changelog has the batch: its own offsets are safe */
	json_object_set_new(m, "commit", S->sc.topic != NULL ?
	    dk_scope_commit(m) : ds_stst_commit(ss, m, replayed));
	if (ds_opts.stats)
		fprintf(stderr, "ds-state: batch %lld: %zu keys, %zu touched, "
		    "%s%s", (long long)seq, ds_hash_count(&S->ks.kt.h), nrec,
		    replayed ? "replayed, not applied" : "applied",
		    ck ? "" : "\n");
	if (ds_opts.stats && ck)
		fprintf(stderr, ", checkpoint %.3f ms (%zu bytes, %s)\n", ms,
		    ss->lastbytes, full ? "snapshot" : "delta");
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
	if (S->ks.ss.dir != NULL && (nmarkers == 0 || S->sinceck > 0))
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
	ds_opt_keys_lead(partfield, &S->ks.keys, &S->ks.nkeys);
}

/* The options the program was started with, as given. */
struct args {
	const char	*exsrc;		/* -e */
	const char	*init;		/* --init */
	const char	*ckdir;		/* --checkpoint */
	const char	*partfield;	/* --partition-field */
	int		 emitall, snapshot;
};

/* -a, -k and the options of ds-state's own. */
static void
options(struct state *S, int argc, char *argv[], struct args *a)
{
	static struct option longopts[] = {
		DS_COMMON_LONGOPTS,
		{ "emit",		required_argument, NULL, OPT_EMIT },
		{ "ttl",		required_argument, NULL, OPT_TTL },
		{ "init",		required_argument, NULL, OPT_INIT },
		{ "snapshot",		no_argument,	   NULL, OPT_SNAPSHOT },
		{ "checkpoint",		required_argument, NULL, OPT_CKPT },
		{ "checkpoint-every",	required_argument, NULL, OPT_CKEVERY },
		{ "changelog",		required_argument, NULL, OPT_CHANGELOG },
		{ "partition-field",	required_argument, NULL, OPT_PARTFIELD },
		{ "help",		no_argument,	   NULL, 'h' },
		{ "version",		no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *errstr;
	char msg[512];
	int ch;

	while ((ch = getopt_long(argc, argv, "a:b:e:hk:VX:", longopts,
	    NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'a':
			if (ds_kstate_addagg(&S->ks, optarg, msg,
			    sizeof(msg)) == -1) {
				warnx("-a %s: %s", optarg, msg);
				usage(2);
			}
			break;
		case 'b':
			S->sc.dk.brokers = optarg;
			break;
		case 'e':
			a->exsrc = optarg;
			break;
		case 'h':
			usage(0);
		case 'k':
			S->ks.keytext = optarg;
			ds_opt_keys(optarg, &S->ks.keys, &S->ks.nkeys);
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
			a->partfield = optarg;
			break;
		case OPT_EMIT:
			if (strcmp(optarg, "all") != 0 &&
			    strcmp(optarg, "changed") != 0) {
				warnx("--emit %s: expected all or changed",
				    optarg);
				usage(2);
			}
			a->emitall = strcmp(optarg, "all") == 0;
			break;
		case OPT_TTL:
			if (ds_duration(optarg, &S->ttl, 0) == -1) {
				warnx("--ttl %s: bad duration", optarg);
				usage(2);
			}
			break;
		case OPT_INIT:
			a->init = optarg;
			break;
		case OPT_SNAPSHOT:
			a->snapshot = 1;
			break;
		case OPT_CKPT:
			a->ckdir = optarg;
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
		default:
			usage(2);
		}
	}
	S->outall = a->emitall || a->snapshot;
	S->runall = a->exsrc != NULL && a->emitall;
	if (S->sc.topic != NULL)
		clog_opts(S, a->partfield, a->ckdir != NULL || a->init != NULL);
}

/* After the options: the state, the -e program or the grouper. */
static void
setup(struct state *S, const struct args *a)
{
	static const char *const vars[] = { "state", "values", "__batch" };
	char msg[512];

	ds_kstate_init(&S->ks, a->ckdir, CKNAME, S->ttl > 0,
	    a->ckdir != NULL || S->sc.topic != NULL);
	if ((S->ks.aggs.n > 0) == (a->exsrc != NULL)) {
		warnx("give -a AGG (running aggregates) or -e EXPR "
		    "(an update), not both");
		usage(2);
	}
	S->ks.expr = a->exsrc != NULL;
	if (a->exsrc != NULL && (S->ex = ds_expr_compile(a->exsrc, vars, 3,
	    msg, sizeof(msg))) == NULL) {
		warnx("-e: %s", msg);
		usage(2);
	}
	if (S->ex != NULL)
		ds_expr_limits(S->ex, ds_opts.maxdepth, ds_opts.maxline);
	else if (ds_grouper_init(&S->gr, &S->ks.aggs, S->ks.keys,
	    S->ks.nkeys, msg, sizeof(msg)) == -1)
		errx(2, "%s", msg);
}

int
main(int argc, char *argv[])
{
	static struct state S;
	struct ds_stage st = { ondata, onmarker, oncontrol, onend, &S, 0 };
	struct args a = { NULL, NULL, NULL, "partition", 0, 0 };
	char msg[1024];
	int rc;

	ds_signals();
	S.ks.keytext = "";
	S.every = 1;
	S.lastsrc = "<stdin>";
	ds_buf_grow(&S.kb, 64);	/* never hash from NULL, even the empty key */
	options(&S, argc, argv, &a);
	argc -= optind;
	argv += optind;
	setup(&S, &a);
	if ((rc = ds_kstate_load(&S.ks, msg, sizeof(msg))) == -1)
		errx(1, "%s", msg);
	if (rc == 0 && a.init != NULL &&
	    ds_kstate_initfile(&S.ks, a.init, initbad, &S) == -1)
		err(1, "%s", a.init);
	ds_stage_run(&st, argv, argc);

	ds_groups_free(&S.cur, &S.ks.aggs);
	if (S.ex == NULL)
		ds_grouper_free(&S.gr);
	else
		ds_expr_free(S.ex);
	ds_kstate_free(&S.ks);
	dk_scope_free(&S.sc);
	ds_buf_free(&S.kb);
	ds_buf_free(&S.res);
	return 0;
}
