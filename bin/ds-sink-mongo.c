/*
 * ds-sink-mongo -- write each batch to MongoDB with one unordered bulk
 * write, record the batch as applied, then forward its marker (Spark's
 * foreachRDD + foreachPartition with one connection, done right).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "ds.h"
#include "mongo/mongo.h"

enum {
	OPT_URI = DS_OPT_FIRST_TOOL, OPT_MODE, OPT_KEY, OPT_INDEX, OPT_W,
	OPT_BATCHSIZE, OPT_COLLFIELD, OPT_ACKS, OPT_ID, OPT_IDFORMAT,
	OPT_URIFILE, OPT_ENVELOPE
};

struct coll {
	char		*name;
	mongoc_collection_t *c;
	int32_t		*ops;		/* this batch's ops */
	size_t		 nops, cap;
};

struct counts {
	int64_t	 ins, match, mod, ups, dup;
};

static struct {
	struct ds_mbatch b;		/* the batch being read */
	const char	*db, *cname, *collfield, *id;
	bson_t		*idx;		/* --index key documents */
	int		 nidx;
	size_t		 bsize;
	struct ds_mongo	*m;
	struct ds_applied done;		/* the last recorded batch */
	struct ds_acks	 acks;
	struct ds_hash	 colls;
	struct coll	*fixed;		/* the -c collection */
	struct ds_buf	 tmp, topic;
	struct ds_path	 value;		/* --envelope: the message */
	int		 suspect;	/* a batch may be half applied */
	atomic_int	 busy;		/* talking to the server */
} S = { .acks = { NULL, -1, 0 }, .bsize = 0, .suspect = 1 };

static void
usage(FILE *f)
{
	fprintf(f, "usage: ds-sink-mongo [--uri URI] -d DB "
	    "(-c COLLECTION | --collection-field F)\n"
	    "    [--uri-file FILE]\n"
	    "    [--mode insert|upsert|merge|inc] [--key F[,F...]] "
	    "[--index SPEC]...\n"
	    "    [--id-format object|string] [--w N|majority] [--batch-size N]\n"
	    "    [--acks PATH] [--id NAME] [--envelope]\n"
	    "    " DS_COMMON_USAGE " [file ...]\n");
	exit(f == stdout ? 0 : 2);
}

static struct coll *
coll_get(const char *name, size_t n)
{
	struct ds_hent *h;
	struct coll *co;
	int isnew, i, was;

	h = ds_hash_put(&S.colls, name, n, &isnew);
	if (!isnew)
		return h->val;
	if ((co = calloc(1, sizeof(*co))) == NULL)
		err(1, NULL);
	co->name = h->key;
	co->c = mongoc_client_get_collection(S.m->client, S.db, co->name);
	/* the seeds' ensureIndex, once per collection per run */
	was = S.busy;
	S.busy = 1;
	for (i = 0; i < S.nidx; i++)
		if (ds_mongo_index(S.m, S.db, co->name, &S.idx[i]) == -1)
			errx(1, "%s", S.m->err);
	S.busy = was;
	h->val = co;
	return co;
}

/*
 * --envelope: the message of envelope l as the line *v and the document
 * *b, its source in *e, and in *k its key (for insert without --key:
 * the message's own _id, or "TOPIC:PARTITION:OFFSET").  Returns 0, or -1
 * when l is a bad record (said).
 */
static int
message(const struct ds_line *l, struct ds_line *v, struct ds_env *e,
    bson_t *b, bson_t *k)
{
	struct ds_span s;
	const char *why;
	char buf[512];
	bson_iter_t it;

	if (!ds_envelope(l->p, l->len, &S.topic, e) ||
	    !ds_json_get(l->p, l->len, &S.value, &s)) {
		ds_bad(l, "not a ds-kafka-cat envelope with a value "
		    "(--envelope)");
		return -1;
	}
	e->topic = S.topic.p;
	e->tlen = S.topic.len;
	*v = *l;
	v->p = s.p;
	v->len = s.len;
	if ((why = ds_mongo_doc(s.p, s.len, b, buf, sizeof(buf))) != NULL) {
		ds_bad(l, "value: %s", why);
		return -1;
	}
	if (S.b.nkey > 0)
		return 0;
	bson_init(k);
	if (bson_iter_init_find(&it, b, "_id"))
		bson_append_iter(k, "_id", 3, &it);
	else {
		ds_buf_clear(&S.tmp);
		ds_buf_add(&S.tmp, e->topic, e->tlen);
		ds_buf_addf(&S.tmp, ":%ld:%lld", (long)e->part,
		    (long long)e->off);
		bson_append_utf8(k, "_id", 3, S.tmp.p, (int)S.tmp.len);
	}
	return 0;
}

static void
data(void *ctx, const struct ds_line *l)
{
	struct ds_line vl;
	struct ds_env e;
	bson_t b, k;
	const char *why, *cn;
	char buf[512];
	uint32_t cl;
	struct coll *co = S.fixed;
	int32_t op;
	int keyed = 0;

	if (ds_check_line(l, 0) == -1)
		return;
	if (S.b.envelope) {
		if (message(l, &vl, &e, &b, &k) == -1)
			return;
		keyed = S.b.nkey == 0;
	} else if ((why = ds_mongo_doc(l->p, l->len, &b, buf,
	    sizeof(buf))) != NULL) {
		ds_bad(l, "%s", why);
		return;
	} else
		vl = *l;
	if (S.collfield != NULL) {
		if ((cn = ds_mongo_collname(&b, S.collfield, &cl)) == NULL) {
			ds_bad(l, "no usable collection name in %s",
			    S.collfield);
			goto out;
		}
		co = coll_get(cn, cl);
	}
	if (S.b.nkey > 0) {
		keyed = 1;
		if (ds_mbatch_key(&S.b, &b, &vl, &k) == -1) {
			ds_bad(l, "key field missing (--key)");
			goto out;
		}
	}
	if ((op = ds_mbatch_add(&S.b, co->name, &b, keyed ? &k : NULL,
	    S.b.envelope ? &e : NULL, l->lineno, l->src)) >= 0) {
		if (co->nops == co->cap) {
			co->cap = co->cap ? co->cap * 2 : 1024;
			if ((co->ops = reallocarray(co->ops, co->cap,
			    sizeof(*co->ops))) == NULL)
				err(1, NULL);
		}
		co->ops[co->nops++] = op;
	}
out:
	if (keyed)
		bson_destroy(&k);
	bson_destroy(&b);
}

/* A document the server refused: a bad record (the batch goes on). */
static void
refused(const struct ds_mop *o, const char *msg)
{
	struct ds_line l;
	char *js;

	js = ds_mbatch_json(&S.b, o, &l);
	ds_bad(&l, "refused by %s: %s", S.m->where, msg);
	bson_free(js);
}

static void	write_chunk(struct coll *, const int32_t *, size_t, int64_t,
		    struct counts *);

#define RACE_TRIES	8
#define FERRET_OPS	50	/* FerretDB 1.24 hangs at 100 updates a command */
#define NOT_SENT	((size_t)-1)
#define RACED		((size_t)-2)

/*
 * Execute ops[0..n) of co as one unordered bulk.  Returns how many ops
 * the server got to, or NOT_SENT when it could not be reached (the
 * caller waits and sends again).  FerretDB 1.24 stops an
 * unordered update at its first write error (and omits the counts), so
 * the caller resumes after the last reported error.
 *
 * An upsert of a new key can lose a race with another writer inserting
 * the same key (two pipelines around a rebalance): E11000.  MongoDB
 * retries such an upsert itself; FerretDB does not, so the sink sends
 * it again, now as an update of the existing document (absolute modes
 * only: the document's new value does not depend on the old one).
 *
 * With --envelope an E11000 says that a message's guard refused it,
 * perhaps for another writer's message: RACED, the counts dropped, and
 * the caller reads the guards back and writes the rest one by one.
 */
/* What the write errors of one bulk say (ds_mongo_write_errors). */
struct werr {
	const int32_t	*ops;
	size_t		 n;
	struct counts	*c;
	int		 dupok;		/* a duplicate key is no error */
	int32_t		*again;		/* ops lost to an insert race */
	size_t		 nagain;
	int64_t		 last;		/* the last op reported */
	int64_t		 nerr;
	int		 raced;		/* --envelope: a guard said no */
};

static int tries;	/* how deep in insert race retries */

static void
werror(void *ctx, int64_t idx, int64_t code, const char *msg)
{
	struct werr *w = ctx;

	if (idx < 0 || (size_t)idx >= w->n)
		return;
	w->nerr++;
	if (idx > w->last)
		w->last = idx;
	if (S.b.envelope && (code == 11000 || w->n > 1))
		w->raced = 1;	/* a guard said no, or which op failed is
				   unsure (FerretDB): one by one */
	else if (code == 11000 && w->dupok)
		w->c->dup++;	/* applied before a crash */
	else if (code == 11000 && tries < RACE_TRIES &&
	    (S.b.mode == DS_M_UPSERT || S.b.mode == DS_M_MERGE)) {
		if (w->again == NULL && (w->again = reallocarray(NULL, w->n,
		    sizeof(*w->again))) == NULL)
			err(1, NULL);
		w->again[w->nagain++] = w->ops[idx];
	} else
		refused(&S.b.o[w->ops[idx]], msg);
}

/* Does the reply hold a non-empty array key ("writeErrors")? */
static int
hasarray(const bson_t *reply, const char *key)
{
	bson_iter_t it, a;

	return bson_iter_init_find(&it, reply, key) &&
	    BSON_ITER_HOLDS_ARRAY(&it) && bson_iter_recurse(&it, &a) &&
	    bson_iter_next(&a);
}

static size_t
write_bulk(struct coll *co, const int32_t *ops, size_t n, int64_t seq,
    struct counts *c)
{
	struct werr w = { ops, n, c, 0, NULL, 0, -1, 0, 0 };
	mongoc_bulk_operation_t *bulk;
	bson_t opts = BSON_INITIALIZER, reply;
	bson_error_t e;
	uint32_t ok;
	size_t i;
	int nwe;
	int64_t done;

	BSON_APPEND_BOOL(&opts, "ordered", false);
	w.dupok = S.b.mode == DS_M_INC || (S.b.mode == DS_M_INSERT &&
	    S.b.nkey > 0);
	bulk = mongoc_collection_create_bulk_operation_with_opts(co->c, &opts);
	for (i = 0; i < n; i++)
		if (ds_mbatch_op(&S.b, bulk, &S.b.o[ops[i]], seq, &e) == -1)
			errx(1, "building a bulk write: %s", e.message);
	ok = mongoc_bulk_operation_execute(bulk, &reply, &e);
	mongoc_bulk_operation_destroy(bulk);
	bson_destroy(&opts);
	nwe = hasarray(&reply, "writeErrors");
	if (!ok && !nwe && (hasarray(&reply, "writeConcernErrors") ||
	    ds_mongo_transient(&e))) {
		bson_destroy(&reply);
		if (ds_mongo_wait(S.m, "bulk write", &e) == -1)
			errx(1, "%s", S.m->err);
		return NOT_SENT;
	}
	ds_mongo_ok(S.m);
	if (!ok && !nwe)
		errx(1, "%s: %s.%s: bulk write: %s", S.m->where, S.db,
		    co->name, e.message);
	ds_mongo_write_errors(&reply, werror, &w);
	if (w.raced) {
		bson_destroy(&reply);
		free(w.again);
		return RACED;
	}
	c->ins += ds_mongo_reply_int(&reply, "nInserted");
	c->match += ds_mongo_reply_int(&reply, "nMatched");
	c->mod += ds_mongo_reply_int(&reply, "nModified");
	c->ups += ds_mongo_reply_int(&reply, "nUpserted");
	done = ds_mongo_reply_int(&reply, "nInserted") +
	    ds_mongo_reply_int(&reply, "nMatched") +
	    ds_mongo_reply_int(&reply, "nUpserted");
	bson_destroy(&reply);
	if (w.nagain > 0) {
		tries++;
		usleep(10000 * tries);
		write_chunk(co, w.again, w.nagain, seq, c);
		tries--;
	}
	free(w.again);
	if (done + w.nerr < (int64_t)n && w.last >= 0)
		return (size_t)w.last + 1;	/* stopped early: resume */
	return n;
}

/*
 * Write ops[0..n) of co, resuming where a server stopped early and
 * sending again what an unreachable server may or may not have applied.
 * Guarded writes read their guards back first and leave out what the
 * documents have seen: inc's batch seq once the request is suspect, and
 * with --envelope always (after a crash, a rebalance, or beside another
 * member's writes, the guards in the filters keep each message applied
 * once).  An --envelope write that its guard refuses although the
 * read-back let it through (a writer that came first, or a duplicate
 * key of another index) sends the ops one by one, each read back again,
 * RACE_TRIES times at most.
 */
static void
write_chunk(struct coll *co, const int32_t *ops, size_t n, int64_t seq,
    struct counts *c)
{
	int32_t *p, *todo;
	ssize_t left;
	size_t i, k;
	int guarded = S.b.mode == DS_M_INC && seq > 0, races = 0;

	if ((todo = reallocarray(NULL, n ? n : 1, sizeof(*todo))) == NULL)
		err(1, NULL);
	memcpy(todo, ops, n * sizeof(*todo));
	for (p = todo; n > 0; p += k, n -= k) {
		if (S.b.envelope || (S.suspect && guarded)) {
			if ((left = ds_mbatch_unapplied(&S.b, S.m, co->c, p,
			    n, seq, &c->dup)) == -1)
				errx(1, "%s", S.m->err);
			n = (size_t)left;
		}
		if (n == 0)
			break;
		k = write_bulk(co, p, n, seq, c);
		if (k == NOT_SENT) {
			S.suspect = 1;
			k = 0;
		} else if (k == RACED && n > 1) {
			for (i = 0; i < n; i++)
				write_chunk(co, p + i, 1, seq, c);
			k = n;
		} else if (k == RACED && ++races < RACE_TRIES) {
			usleep(10000 * races);
			k = 0;
		} else if (k == RACED) {
			refused(&S.b.o[*p], "duplicate key error, "
			    "and not a message the document has seen");
			k = n;
		}
	}
	free(todo);
}

static void
write_batch(int64_t seq, struct counts *c)
{
	struct ds_hent *h;
	struct coll *co;
	size_t i, k, n;

	memset(c, 0, sizeof(*c));
	for (i = 0; (h = ds_hash_next(&S.colls, &i)) != NULL; ) {
		co = h->val;
		for (k = 0; k < co->nops; k += n) {
			n = co->nops - k < S.bsize ? co->nops - k : S.bsize;
			write_chunk(co, co->ops + k, n, seq, c);
		}
	}
}

static void
reset_batch(void)
{
	struct ds_hent *h;
	size_t i;

	for (i = 0; (h = ds_hash_next(&S.colls, &i)) != NULL; )
		((struct coll *)h->val)->nops = 0;
	ds_mbatch_clear(&S.b);
	S.b.stream = NULL;
}

/*
 * SIGTERM or SIGINT while the server does not answer must still stop the
 * sink promptly: libmongoc waits out socketTimeoutMS (5 minutes) on a
 * hung request, whatever signal arrives.  This thread ends the process
 * then, as a crash would: the batch is neither recorded nor forwarded,
 * so nothing downstream commits it.  It keeps SIGINT and SIGTERM
 * blocked, so that they interrupt the main thread's reads.
 */
static void *
watchdog(void *arg)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int ticks = 0;

	for (;;) {
		nanosleep(&ts, NULL);
		/* a second's grace: a retry's backoff stops by itself */
		ticks = ds_stop && S.busy ? ticks + 1 : 0;
		if (ticks == 20) {
			warnx("%s: stopped while waiting for the server: "
			    "batch not acknowledged", S.m->where);
			_exit(1);
		}
	}
	return arg;
}

static void
watchdog_start(void)
{
	sigset_t set, old;
	pthread_t t;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if ((errno = pthread_create(&t, NULL, watchdog, NULL)) != 0)
		err(1, "pthread_create");
	pthread_detach(t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
marker(void *ctx, json_t *m, const struct ds_line *l)
{
	struct counts c = { 0 };
	int64_t seq = ds_marker_int(m, "seq");
	const char *crash;
	int replay = 0;

	if (ds_stop && json_is_true(json_object_get(m, "final"))) {
		/* cut short by a signal: not a real batch, leave it unacked */
		warnx("stopped: the last %zu record(s) not written", S.b.nd);
		goto out;
	}
	/* --envelope: the guards are per message, not per batch */
	if (seq > 0 && !S.b.envelope && ds_applied_replay(&S.done, m))
		replay = 1;	/* recorded before: skip, still forward */
	else {
		S.b.stream = json_string_value(json_object_get(m, "stream"));
		S.busy = 1;
		write_batch(S.b.envelope ? 0 : seq, &c);
		crash = getenv("DS_SINK_MONGO_CRASH_AFTER_WRITE");
		if (crash != NULL && strtoll(crash, NULL, 10) == seq)
			raise(SIGKILL);		/* testing hook */
		if (seq > 0 && !S.b.envelope) {
			if (ds_mongo_progress_put(S.m, S.db, S.id, m) == -1)
				errx(1, "%s", S.m->err);
			ds_applied_set(&S.done, m);
			S.suspect = 0;	/* every later batch is new */
		}
		S.busy = 0;
	}
	json_object_set_new(m, "written", json_pack(replay ?
	    "{sI sI sI sI sI sb}" : "{sI sI sI sI sI}",
	    "inserted", (json_int_t)c.ins, "matched", (json_int_t)c.match,
	    "modified", (json_int_t)c.mod, "upserted", (json_int_t)c.ups,
	    "duplicate", (json_int_t)c.dup, "replayed", 1));
	ds_marker_emit(m);
	if (ds_acks_write(&S.acks, m) == -1)
		err(1, "%s", S.acks.path);
out:
	json_decref(m);
	reset_batch();
}

static void
end(void *ctx, unsigned long nmarkers)
{
	struct counts c;

	if (nmarkers == 0 && S.b.nd > 0)
		write_batch(0, &c);	/* plain input: one batch, no marker */
}

/* What the command line says beyond S. */
struct args {
	const char	*uri, *w;
	char		*keys, *urifile;
	char		**ixs;		/* --index SPEC, S.nidx of them */
	int		 idstr;		/* --id-format string */
};

/* The value of arg among names (NULL-terminated); usage error if none. */
static int
oneof(const char *opt, const char *arg, const char *const *names,
    const char *expected)
{
	int i;

	if ((i = ds_choice(arg, names)) == -1) {
		warnx("%s %s: %s", opt, arg, expected);
		usage(stderr);
	}
	return i;
}

static void
option(struct args *a, int ch, const char *arg)
{
	static const char *const modes[] = { "insert", "upsert", "merge",
		"inc", NULL };
	static const enum ds_mmode mmodes[] = { DS_M_INSERT, DS_M_UPSERT,
		DS_M_MERGE, DS_M_INC };
	static const char *const idformats[] = { "object", "string", NULL };
	const char *errstr;
	char **np;

	switch (ch) {
	case OPT_URI:
		a->uri = arg;
		if (ds_mongo_uri_password(arg))
			warnx("--uri: the password shows in ps to every local "
			    "user: use --uri-file FILE or DS_MONGO_URI");
		break;
	case OPT_URIFILE:
		free(a->urifile);
		a->uri = a->urifile = ds_secret_file(arg);
		break;
	case 'd':
		S.db = arg;
		break;
	case 'c':
		S.cname = arg;
		break;
	case OPT_COLLFIELD:
		S.collfield = arg;
		break;
	case OPT_MODE:
		S.b.mode = mmodes[oneof("--mode", arg, modes,
		    "insert, upsert, merge or inc")];
		break;
	case OPT_KEY:
		a->keys = (char *)arg;
		break;
	case OPT_INDEX:
		if ((np = reallocarray(a->ixs, S.nidx + 1,
		    sizeof(*a->ixs))) == NULL)
			err(1, NULL);
		a->ixs = np;
		a->ixs[S.nidx++] = (char *)arg;
		break;
	case OPT_W:
		a->w = arg;
		break;
	case OPT_BATCHSIZE:
		S.bsize = strtonum(arg, 1, 100000000, &errstr);
		if (errstr != NULL) {
			warnx("--batch-size %s: %s", arg, errstr);
			usage(stderr);
		}
		break;
	case OPT_ACKS:
		S.acks.path = arg;
		break;
	case OPT_ID:
		S.id = arg;
		break;
	case OPT_ENVELOPE:
		S.b.envelope = 1;
		break;
	case OPT_IDFORMAT:
		a->idstr = oneof("--id-format", arg, idformats,
		    "object or string");
		break;
	case 'h':
		usage(stdout);
		break;
	case 'V':
		ds_version();
		break;
	default:
		usage(stderr);
	}
}

/* --key F,F...: the key fields, and their paths for --id-format string. */
static void
setkeys(char *keys, int idstr)
{
	char **np, *f;
	int j;

	if (S.b.mode != DS_M_INSERT && keys == NULL)
		keys = "_id";
	while (keys != NULL && (f = strsep(&keys, ",")) != NULL) {
		if (*f == '\0' || *f == '$') {
			warnx("--key: bad field name \"%s\"", f);
			usage(stderr);
		}
		if ((np = reallocarray(S.b.key, S.b.nkey + 1,
		    sizeof(*S.b.key))) == NULL)
			err(1, NULL);
		S.b.key = np;
		S.b.key[S.b.nkey++] = f;
	}
	if (!idstr)
		return;
	if (S.b.nkey == 0) {
		warnx("--id-format string needs --key");
		usage(stderr);
	}
	if ((S.b.kpaths = calloc(S.b.nkey, sizeof(*S.b.kpaths))) == NULL)
		err(1, NULL);
	for (j = 0; j < S.b.nkey; j++)
		if (ds_path_parse(S.b.key[j], &S.b.kpaths[j]) == -1) {
			warnx("--key: bad field path \"%s\"", S.b.key[j]);
			usage(stderr);
		}
}

/* Check the command line, connect, and name our progress record. */
static void
setup(struct args *a)
{
	char errbuf[512];
	int j;

	if (S.db == NULL || (S.cname == NULL) == (S.collfield == NULL)) {
		warnx("need -d DB and one of -c COLLECTION, "
		    "--collection-field F");
		usage(stderr);
	}
	if (a->uri == NULL || *a->uri == '\0') {
		warnx("no MongoDB: give --uri URI, --uri-file FILE or set "
		    "DS_MONGO_URI");
		usage(stderr);
	}
	setkeys(a->keys, a->idstr);
	if (S.b.envelope && ds_path_parse("value", &S.value) == -1)
		errx(1, "cannot parse the path \"value\"");
	if ((S.idx = calloc(S.nidx + 1, sizeof(*S.idx))) == NULL)
		err(1, NULL);
	for (j = 0; j < S.nidx; j++)
		if (ds_mongo_index_parse(a->ixs[j], &S.idx[j], errbuf,
		    sizeof(errbuf)) == -1) {
			warnx("%s", errbuf);
			usage(stderr);
		}
	if ((S.m = ds_mongo_open(a->uri, a->w, errbuf, sizeof(errbuf))) ==
	    NULL) {
		warnx("%s", errbuf);
		usage(stderr);
	}
	ds_buf_clear(&S.tmp);
	ds_buf_addf(&S.tmp, "%s.%s%s", S.db, S.cname ? "" : "@",
	    S.cname ? S.cname : S.collfield);
	ds_buf_addc(&S.tmp, '\0');
	if ((S.id = strdup(S.id != NULL ? S.id : S.tmp.p)) == NULL)
		err(1, NULL);
}

/* At start: indexes, then where we stopped (both wait for MongoDB). */
static void
start(void)
{
	int ferret = 0;

	watchdog_start();
	S.busy = 1;
	if (S.b.mode != DS_M_INSERT && S.bsize == 0 &&
	    (ferret = ds_mongo_ferretdb(S.m)) == -1)
		errx(1, "%s", S.m->err);
	if (ferret)
		S.bsize = FERRET_OPS;	/* its inserts are not affected */
	if (S.bsize == 0)
		S.bsize = 10000;
	if (S.cname != NULL)
		S.fixed = coll_get(S.cname, strlen(S.cname));
	if (ds_mongo_progress_get(S.m, S.db, S.id, &S.done) == -1)
		errx(1, "%s", S.m->err);
	S.busy = 0;
}

static void
finish(void)
{
	struct ds_hent *h;
	struct coll *co;
	size_t i;
	int j;

	for (i = 0; (h = ds_hash_next(&S.colls, &i)) != NULL; ) {
		co = h->val;
		mongoc_collection_destroy(co->c);
		free(co->ops);
		free(co);
	}
	ds_hash_free(&S.colls);
	for (j = 0; j < S.nidx; j++)
		bson_destroy(&S.idx[j]);
	free(S.idx);
	free(S.b.key);
	free((char *)S.id);
	ds_mbatch_free(&S.b);
	ds_buf_free(&S.tmp);
	ds_buf_free(&S.topic);
	ds_path_free(&S.value);
	ds_mongo_close(S.m);
	if (ds_acks_close(&S.acks) == -1)
		err(1, "%s", S.acks.path);
}

int
main(int argc, char *argv[])
{
	static struct option longopts[] = {
		DS_COMMON_LONGOPTS,
		{ "uri",	required_argument, NULL, OPT_URI },
		{ "uri-file",	required_argument, NULL, OPT_URIFILE },
		{ "db",		required_argument, NULL, 'd' },
		{ "collection",	required_argument, NULL, 'c' },
		{ "collection-field", required_argument, NULL, OPT_COLLFIELD },
		{ "mode",	required_argument, NULL, OPT_MODE },
		{ "key",	required_argument, NULL, OPT_KEY },
		{ "index",	required_argument, NULL, OPT_INDEX },
		{ "w",		required_argument, NULL, OPT_W },
		{ "batch-size",	required_argument, NULL, OPT_BATCHSIZE },
		{ "acks",	required_argument, NULL, OPT_ACKS },
		{ "id",		required_argument, NULL, OPT_ID },
		{ "id-format",	required_argument, NULL, OPT_IDFORMAT },
		{ "envelope",	no_argument,	   NULL, OPT_ENVELOPE },
		{ "help",	no_argument,	   NULL, 'h' },
		{ "version",	no_argument,	   NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct ds_stage st = { data, marker, NULL, end, NULL, 0 };
	struct args a = { 0 };
	int ch;

	ds_signals();
	a.uri = getenv("DS_MONGO_URI");
	while ((ch = getopt_long(argc, argv, "c:d:hV", longopts, NULL)) != -1)
		if (!ds_common_opt(ch, optarg))
			option(&a, ch, optarg);
	argc -= optind;
	argv += optind;

	setup(&a);
	free(a.ixs);
	free(a.urifile);
	start();
	ds_stage_run(&st, argv, argc);
	finish();
	return 0;
}
