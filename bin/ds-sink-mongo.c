/*
 * ds-sink-mongo -- write each batch to MongoDB with one unordered bulk
 * write, record the batch as applied, then forward its marker (Spark's
 * foreachRDD + foreachPartition with one connection, done right).
 */
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "ds.h"
#include "mongo.h"

enum mode { M_INSERT, M_UPSERT, M_MERGE, M_INC };

enum {
	OPT_URI = DS_OPT_FIRST_TOOL, OPT_MODE, OPT_KEY, OPT_INDEX, OPT_W,
	OPT_BATCHSIZE, OPT_COLLFIELD, OPT_ACKS, OPT_ID
};

#define GUARD	"_ds_seq"	/* per-document last applied seq (inc) */

struct doc {
	size_t		 off;		/* BSON bytes in S.docs */
	uint32_t	 len;
	int32_t		 next;		/* next doc of the same key, or -1 */
	unsigned long	 lineno;
	const char	*src;
};

struct op {				/* one write of the bulk */
	int32_t		 head, tail;	/* its docs, in input order */
	size_t		 koff;		/* {"_id":K} in S.keys */
	uint32_t	 klen;
	struct coll	*coll;
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
	enum mode	 mode;
	const char	*db, *cname, *collfield, *acks, *id;
	char		**key;		/* --key paths */
	int		 nkey;
	bson_t		*idx;		/* --index key documents */
	int		 nidx;
	size_t		 bsize;
	struct ds_mongo	*m;
	int64_t		 done;		/* last recorded seq */
	int		 ackfd;
	struct ds_buf	 docs, keys;
	struct doc	*d;
	size_t		 nd, dcap;
	struct op	*o;
	size_t		 no, ocap;
	struct ds_hash	 bykey, colls;
	struct coll	*fixed;		/* the -c collection */
	struct ds_buf	 tmp;
} S = { .ackfd = -1, .bsize = 10000 };

static void
usage(FILE *f)
{
	fprintf(f, "usage: ds-sink-mongo [--uri URI] -d DB "
	    "(-c COLLECTION | --collection-field F)\n"
	    "    [--mode insert|upsert|merge|inc] [--key F[,F...]] "
	    "[--index SPEC]...\n"
	    "    [--w N|majority] [--batch-size N] [--acks PATH] [--id NAME]\n"
	    "    " DS_COMMON_USAGE " [file ...]\n");
	exit(f == stdout ? 0 : 2);
}

static struct coll *
coll_get(const char *name, size_t n)
{
	struct ds_hent *h;
	struct coll *co;
	int isnew, i;

	h = ds_hash_put(&S.colls, name, n, &isnew);
	if (!isnew)
		return h->val;
	if ((co = calloc(1, sizeof(*co))) == NULL)
		err(1, NULL);
	co->name = h->key;
	co->c = mongoc_client_get_collection(S.m->client, S.db, co->name);
	/* the seeds' ensureIndex, once per collection per run */
	for (i = 0; i < S.nidx; i++)
		ds_mongo_index(S.m, S.db, co->name, &S.idx[i]);
	h->val = co;
	return co;
}

/* {"_id":K}: K is the key's value, or {f1:v1,...} for several fields. */
static int
make_key(const bson_t *b, bson_t *k)
{
	bson_iter_t it, v;
	bson_t sub;
	char name[256];
	int i;
	size_t j;

	bson_init(k);
	if (S.nkey == 1) {
		if (!bson_iter_init(&it, b) ||
		    !bson_iter_find_descendant(&it, S.key[0], &v))
			return -1;
		bson_append_iter(k, "_id", 3, &v);
		return 0;
	}
	bson_append_document_begin(k, "_id", 3, &sub);
	for (i = 0; i < S.nkey; i++) {
		if (!bson_iter_init(&it, b) ||
		    !bson_iter_find_descendant(&it, S.key[i], &v)) {
			bson_append_document_end(k, &sub);
			return -1;
		}
		/* dotted names are refused: geo.city is stored as geo_city */
		snprintf(name, sizeof(name), "%s", S.key[i]);
		for (j = 0; name[j] != '\0'; j++)
			if (name[j] == '.')
				name[j] = '_';
		bson_append_iter(&sub, name, -1, &v);
	}
	bson_append_document_end(k, &sub);
	return 0;
}

static void
data(void *ctx, const struct ds_line *l)
{
	bson_t b, k;
	bson_iter_t it, v;
	bson_error_t e;
	const char *why, *cn;
	uint32_t cl;
	struct coll *co = S.fixed;
	struct ds_hent *h;
	struct doc *d;
	struct op *o;
	int isnew, keyed = S.nkey > 0;

	if (ds_check_line(l, 0) == -1)
		return;
	if (ds_json_type(l->p, l->len) != DS_JOBJ) {
		ds_bad(l, "not a JSON object");
		return;
	}
	if (!bson_init_from_json(&b, l->p, (ssize_t)l->len, &e)) {
		ds_bad(l, "cannot convert to BSON: %s", e.message);
		return;
	}
	if ((why = ds_mongo_check(&b)) != NULL) {
		ds_bad(l, "%s", why);
		goto out;
	}
	if (S.collfield != NULL) {
		if (!bson_iter_init(&it, &b) ||
		    !bson_iter_find_descendant(&it, S.collfield, &v) ||
		    !BSON_ITER_HOLDS_UTF8(&v) ||
		    (cn = bson_iter_utf8(&v, &cl)) == NULL || cl == 0 ||
		    cl > 200 || cn[0] == '$' || strlen(cn) != cl) {
			ds_bad(l, "no usable collection name in %s",
			    S.collfield);
			goto out;
		}
		co = coll_get(cn, cl);
	}
	if (keyed && make_key(&b, &k) == -1) {
		bson_destroy(&k);
		ds_bad(l, "key field missing (--key)");
		goto out;
	}
	if (S.nd == S.dcap) {
		S.dcap = S.dcap ? S.dcap * 2 : 1024;
		if ((S.d = reallocarray(S.d, S.dcap, sizeof(*S.d))) == NULL)
			err(1, NULL);
	}
	d = &S.d[S.nd];
	d->off = S.docs.len;
	d->len = b.len;
	d->next = -1;
	d->lineno = l->lineno;
	d->src = l->src;
	ds_buf_add(&S.docs, bson_get_data(&b), b.len);

	h = NULL;
	isnew = 1;
	if (keyed && S.mode != M_INSERT) {
		/* one op per key per batch: unordered bulks have no order */
		ds_buf_reset(&S.tmp);
		ds_buf_adds(&S.tmp, co->name);
		ds_buf_add(&S.tmp, "", 1);
		ds_buf_add(&S.tmp, bson_get_data(&k), k.len);
		h = ds_hash_put(&S.bykey, S.tmp.p, S.tmp.len, &isnew);
	}
	if (isnew) {
		if (S.no == S.ocap) {
			S.ocap = S.ocap ? S.ocap * 2 : 1024;
			if ((S.o = reallocarray(S.o, S.ocap,
			    sizeof(*S.o))) == NULL)
				err(1, NULL);
		}
		o = &S.o[S.no];
		o->head = o->tail = (int32_t)S.nd;
		o->coll = co;
		o->koff = S.keys.len;
		o->klen = keyed ? k.len : 0;
		if (keyed)
			ds_buf_add(&S.keys, bson_get_data(&k), k.len);
		if (h != NULL)
			h->val = (void *)(intptr_t)S.no;
		if (co->nops == co->cap) {
			co->cap = co->cap ? co->cap * 2 : 1024;
			if ((co->ops = reallocarray(co->ops, co->cap,
			    sizeof(*co->ops))) == NULL)
				err(1, NULL);
		}
		co->ops[co->nops++] = (int32_t)S.no++;
	} else {
		o = &S.o[(intptr_t)h->val];
		S.d[o->tail].next = (int32_t)S.nd;
		o->tail = (int32_t)S.nd;
	}
	S.nd++;
	if (keyed)
		bson_destroy(&k);
out:
	bson_destroy(&b);
}

static void
doc_bson(int32_t i, bson_t *b)
{
	bson_init_static(b, (const uint8_t *)S.docs.p + S.d[i].off,
	    S.d[i].len);
}

static int
is_num(const bson_iter_t *it)
{
	bson_type_t t = bson_iter_type(it);

	return t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64 ||
	    t == BSON_TYPE_DOUBLE;
}

static int
is_topkey(const char *k)
{
	int i;

	for (i = 0; i < S.nkey; i++)
		if (strcmp(S.key[i], k) == 0)
			return 1;
	return 0;
}

/*
 * The fields of op's docs (later docs win), without _id; in inc mode
 * either only the numbers to add (nums) or only the rest.
 */
static void
fields(const struct op *o, bson_t *out, int inc, int nums)
{
	struct ds_hash seen = { 0 };
	struct ds_hent *h;
	bson_iter_t it;
	bson_t b;
	int32_t i, multi = o->head != o->tail;
	const char *k;
	int isnew;
	double dv;

	for (i = o->head; i != -1; i = S.d[i].next) {
		doc_bson(i, &b);
		bson_iter_init(&it, &b);
		while (bson_iter_next(&it)) {
			k = bson_iter_key(&it);
			if (strcmp(k, "_id") == 0)
				continue;
			if (inc && nums != (is_num(&it) && !is_topkey(k)))
				continue;
			if (!multi) {
				bson_append_iter(out, k, -1, &it);
				continue;
			}
			h = ds_hash_put(&seen, k, strlen(k), &isnew);
			if (isnew) {
				h->val = (void *)(intptr_t)i;
				continue;
			}
			if (!nums) {
				h->val = (void *)(intptr_t)i;	/* last wins */
				continue;
			}
		}
	}
	if (!multi)
		return;
	/* several docs for one key: emit each field once, in order seen */
	for (i = o->head; i != -1; i = S.d[i].next) {
		doc_bson(i, &b);
		bson_iter_init(&it, &b);
		while (bson_iter_next(&it)) {
			k = bson_iter_key(&it);
			if ((h = ds_hash_get(&seen, k, strlen(k))) == NULL)
				continue;
			if (!nums) {
				if ((intptr_t)h->val == i)
					bson_append_iter(out, k, -1, &it);
				continue;
			}
			if ((intptr_t)h->val != i)
				continue;
			/* the first doc with this number: sum them all */
			{
				int32_t j;
				bson_iter_t jt;
				bson_t jb;
				int64_t si = 0;
				int isd = 0;

				dv = 0;
				for (j = i; j != -1; j = S.d[j].next) {
					doc_bson(j, &jb);
					if (!bson_iter_init_find(&jt, &jb, k) ||
					    !is_num(&jt))
						continue;
					if (BSON_ITER_HOLDS_DOUBLE(&jt))
						isd = 1;
					si += bson_iter_as_int64(&jt);
					dv += bson_iter_as_double(&jt);
				}
				if (isd)
					bson_append_double(out, k, -1, dv);
				else
					bson_append_int64(out, k, -1, si);
			}
		}
	}
	ds_hash_clear(&seen);
	free(seen.e);
}

static void
add_op(mongoc_bulk_operation_t *bulk, const struct op *o, int64_t seq)
{
	bson_t b, k, doc = BSON_INITIALIZER, upd = BSON_INITIALIZER, sub;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, or, a;
	bson_iter_t it;
	bson_error_t e;
	bool ok = true;

	doc_bson(o->tail, &b);
	if (o->klen)
		bson_init_static(&k, (const uint8_t *)S.keys.p + o->koff,
		    o->klen);
	BSON_APPEND_BOOL(&opts, "upsert", true);
	switch (S.mode) {
	case M_INSERT:
		if (o->klen == 0) {
			ok = mongoc_bulk_operation_insert_with_opts(bulk, &b,
			    NULL, &e);
			break;
		}
		bson_concat(&doc, &k);
		fields(o, &doc, 0, 0);
		ok = mongoc_bulk_operation_insert_with_opts(bulk, &doc, NULL,
		    &e);
		break;
	case M_UPSERT:
		bson_iter_init(&it, &b);
		while (bson_iter_next(&it))
			if (strcmp(bson_iter_key(&it), "_id") != 0)
				bson_append_iter(&doc, NULL, 0, &it);
		ok = mongoc_bulk_operation_replace_one_with_opts(bulk, &k,
		    &doc, &opts, &e);
		break;
	case M_MERGE:
		BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &sub);
		fields(o, &sub, 0, 0);
		bson_append_document_end(&upd, &sub);
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, &k,
		    &upd, &opts, &e);
		break;
	case M_INC:
		bson_concat(&filter, &k);
		bson_init(&sub);
		fields(o, &sub, 1, 1);
		if (!bson_empty(&sub))
			BSON_APPEND_DOCUMENT(&upd, "$inc", &sub);
		bson_reinit(&sub);
		fields(o, &sub, 1, 0);
		if (seq > 0) {
			/* the guard: apply only where not applied yet */
			BSON_APPEND_INT64(&sub, GUARD, seq);
			BSON_APPEND_ARRAY_BEGIN(&filter, "$or", &or);
			BSON_APPEND_DOCUMENT_BEGIN(&or, "0", &a);
			BCON_APPEND(&a, GUARD, "{", "$exists", BCON_BOOL(false),
			    "}");
			bson_append_document_end(&or, &a);
			BSON_APPEND_DOCUMENT_BEGIN(&or, "1", &a);
			BCON_APPEND(&a, GUARD, "{", "$lt", BCON_INT64(seq),
			    "}");
			bson_append_document_end(&or, &a);
			bson_append_array_end(&filter, &or);
		}
		/* an update needs an operator: an empty $set if need be */
		if (!bson_empty(&sub) || bson_empty(&upd))
			BSON_APPEND_DOCUMENT(&upd, "$set", &sub);
		bson_destroy(&sub);
		ok = mongoc_bulk_operation_update_one_with_opts(bulk,
		    &filter, &upd, &opts, &e);
		break;
	}
	if (!ok)
		errx(1, "%s: building the bulk write: %s", S.m->where,
		    e.message);
	bson_destroy(&doc);
	bson_destroy(&upd);
	bson_destroy(&filter);
	bson_destroy(&opts);
}

/* A document the server refused: a bad record (the batch goes on). */
static void
refused(const struct op *o, const char *msg)
{
	struct ds_line l;
	bson_t b;
	size_t n;
	char *js;

	doc_bson(o->head, &b);
	js = bson_as_relaxed_extended_json(&b, &n);
	l.p = js;
	l.len = n;
	l.lineno = S.d[o->head].lineno;
	l.src = S.d[o->head].src;
	l.toolong = 0;
	ds_bad(&l, "refused by %s: %s", S.m->where, msg);
	bson_free(js);
}

static int64_t
rint64(const bson_t *r, const char *k)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, r, k) && BSON_ITER_HOLDS_NUMBER(&it)
	    ? bson_iter_as_int64(&it) : 0;
}

/*
 * Execute ops[0..n) of co as one unordered bulk, until acknowledged.
 * Returns how many ops the server got to: FerretDB 1.24 stops an
 * unordered update at its first write error (and omits the counts), so
 * the caller resumes after the last reported error.
 */
static size_t
write_bulk(struct coll *co, const int32_t *ops, size_t n, int64_t seq,
    struct counts *c)
{
	mongoc_bulk_operation_t *bulk;
	bson_t opts = BSON_INITIALIZER, reply;
	bson_iter_t it, we, f;
	bson_error_t e;
	uint32_t ok;
	size_t i, upto;
	int nwe, nwce, dupok;
	int64_t idx, code, last = -1, nerr = 0, done;
	const char *msg;

	BSON_APPEND_BOOL(&opts, "ordered", false);
	dupok = S.mode == M_INC || (S.mode == M_INSERT && S.nkey > 0);
	for (;;) {
		bulk = mongoc_collection_create_bulk_operation_with_opts(
		    co->c, &opts);
		for (i = 0; i < n; i++)
			add_op(bulk, &S.o[ops[i]], seq);
		ok = mongoc_bulk_operation_execute(bulk, &reply, &e);
		mongoc_bulk_operation_destroy(bulk);
		nwe = bson_iter_init_find(&it, &reply, "writeErrors") &&
		    BSON_ITER_HOLDS_ARRAY(&it) &&
		    bson_iter_recurse(&it, &we) && bson_iter_next(&we);
		nwce = bson_iter_init_find(&it, &reply,
		    "writeConcernErrors") && BSON_ITER_HOLDS_ARRAY(&it) &&
		    bson_iter_recurse(&it, &we) && bson_iter_next(&we);
		if (ok || nwe || (!nwce && !ds_mongo_transient(&e)))
			break;
		bson_destroy(&reply);
		ds_mongo_wait(S.m, "bulk write", &e);
	}
	ds_mongo_ok(S.m);
	bson_destroy(&opts);
	if (!ok && !nwe)
		errx(1, "%s: %s.%s: bulk write: %s", S.m->where, S.db,
		    co->name, e.message);
	done = rint64(&reply, "nInserted") + rint64(&reply, "nMatched") +
	    rint64(&reply, "nUpserted");
	c->ins += rint64(&reply, "nInserted");
	c->match += rint64(&reply, "nMatched");
	c->mod += rint64(&reply, "nModified");
	c->ups += rint64(&reply, "nUpserted");
	if (bson_iter_init_find(&it, &reply, "writeErrors") &&
	    bson_iter_recurse(&it, &we))
		while (bson_iter_next(&we)) {
			idx = code = -1;
			msg = "?";
			if (!bson_iter_recurse(&we, &f))
				continue;
			while (bson_iter_next(&f)) {
				if (strcmp(bson_iter_key(&f), "index") == 0)
					idx = bson_iter_as_int64(&f);
				else if (strcmp(bson_iter_key(&f), "code") == 0)
					code = bson_iter_as_int64(&f);
				else if (strcmp(bson_iter_key(&f),
				    "errmsg") == 0 && BSON_ITER_HOLDS_UTF8(&f))
					msg = bson_iter_utf8(&f, NULL);
			}
			if (idx < 0 || (size_t)idx >= n)
				continue;
			nerr++;
			if (idx > last)
				last = idx;
			if (code == 11000 && dupok)
				c->dup++;	/* applied before a crash */
			else
				refused(&S.o[ops[idx]], msg);
		}
	bson_destroy(&reply);
	upto = n;
	if (done + nerr < (int64_t)n && last >= 0)
		upto = (size_t)last + 1;	/* stopped early: resume */
	return upto;
}

/* Write ops[0..n) of co, resuming where a server stopped early. */
static void
write_chunk(struct coll *co, const int32_t *ops, size_t n, int64_t seq,
    struct counts *c)
{
	size_t k;

	for (k = 0; k < n; )
		k += write_bulk(co, ops + k, n - k, seq, c);
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
	ds_hash_clear(&S.bykey);
	ds_buf_reset(&S.docs);
	ds_buf_reset(&S.keys);
	S.nd = S.no = 0;
}

static void
ack(json_t *m)
{
	char *s;
	size_t n;
	ssize_t w;

	if (S.acks == NULL)
		return;
	if (S.ackfd == -1 && (S.ackfd = open(S.acks,
	    O_WRONLY | O_APPEND | O_CREAT, 0666)) == -1)
		err(1, "%s", S.acks);
	if ((s = json_dumps(m, JSON_COMPACT)) == NULL)
		err(1, NULL);
	n = strlen(s);
	s[n++] = '\n';		/* replaces the NUL: one write, one line */
	if ((w = write(S.ackfd, s, n)) != (ssize_t)n)
		err(1, "%s", S.acks);
	free(s);
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
		warnx("stopped: the last %zu record(s) not written", S.nd);
		goto out;
	}
	if (seq > 0 && seq <= S.done)
		replay = 1;	/* recorded before: skip, still forward */
	else {
		write_batch(seq, &c);
		crash = getenv("DS_SINK_MONGO_CRASH_AFTER_WRITE");
		if (crash != NULL && strtoll(crash, NULL, 10) == seq)
			raise(SIGKILL);		/* testing hook */
		if (seq > 0) {
			ds_mongo_progress_put(S.m, S.db, S.id, m);
			S.done = seq;
		}
	}
	json_object_set_new(m, "written", json_pack(replay ?
	    "{sI sI sI sI sI sb}" : "{sI sI sI sI sI}",
	    "inserted", (json_int_t)c.ins, "matched", (json_int_t)c.match,
	    "modified", (json_int_t)c.mod, "upserted", (json_int_t)c.ups,
	    "duplicate", (json_int_t)c.dup, "replayed", 1));
	ds_marker_emit(m);
	ack(m);
out:
	json_decref(m);
	reset_batch();
}

static void
end(void *ctx, unsigned long nmarkers)
{
	struct counts c;

	if (nmarkers == 0 && S.nd > 0)
		write_batch(0, &c);	/* plain input: one batch, no marker */
}

int
main(int argc, char *argv[])
{
	static struct option longopts[] = {
		DS_COMMON_LONGOPTS,
		{ "uri",	required_argument, NULL, OPT_URI },
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
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ds_stage st = { data, marker, NULL, end, NULL };
	const char *uri = getenv("DS_MONGO_URI"), *w = NULL, *errstr;
	char errbuf[512], *keys = NULL, *p, *f;
	char **ixs = NULL;
	struct ds_hent *h;
	struct coll *co;
	size_t i;
	int ch, j;

	ds_signals();
	while ((ch = getopt_long(argc, argv, "c:d:hV", longopts, NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case OPT_URI:
			uri = optarg;
			break;
		case 'd':
			S.db = optarg;
			break;
		case 'c':
			S.cname = optarg;
			break;
		case OPT_COLLFIELD:
			S.collfield = optarg;
			break;
		case OPT_MODE:
			if (strcmp(optarg, "insert") == 0)
				S.mode = M_INSERT;
			else if (strcmp(optarg, "upsert") == 0)
				S.mode = M_UPSERT;
			else if (strcmp(optarg, "merge") == 0)
				S.mode = M_MERGE;
			else if (strcmp(optarg, "inc") == 0)
				S.mode = M_INC;
			else {
				warnx("--mode %s: insert, upsert, merge or "
				    "inc", optarg);
				usage(stderr);
			}
			break;
		case OPT_KEY:
			keys = optarg;
			break;
		case OPT_INDEX:
			if ((ixs = reallocarray(ixs, S.nidx + 1,
			    sizeof(*ixs))) == NULL)
				err(1, NULL);
			ixs[S.nidx++] = optarg;
			break;
		case OPT_W:
			w = optarg;
			break;
		case OPT_BATCHSIZE:
			S.bsize = strtonum(optarg, 1, 100000000, &errstr);
			if (errstr != NULL) {
				warnx("--batch-size %s: %s", optarg, errstr);
				usage(stderr);
			}
			break;
		case OPT_ACKS:
			S.acks = optarg;
			break;
		case OPT_ID:
			S.id = optarg;
			break;
		case 'h':
			usage(stdout);
			break;
		case 'V':
			ds_version();
		default:
			usage(stderr);
		}
	}
	argc -= optind;
	argv += optind;

	if (S.db == NULL || (S.cname == NULL) == (S.collfield == NULL)) {
		warnx("need -d DB and one of -c COLLECTION, "
		    "--collection-field F");
		usage(stderr);
	}
	if (uri == NULL || *uri == '\0') {
		warnx("no MongoDB: give --uri URI or set DS_MONGO_URI");
		usage(stderr);
	}
	if (S.mode != M_INSERT && keys == NULL)
		keys = "_id";
	for (p = keys; p != NULL && (f = strsep(&p, ",")) != NULL; ) {
		if (*f == '\0' || *f == '$') {
			warnx("--key: bad field name \"%s\"", f);
			usage(stderr);
		}
		if ((S.key = reallocarray(S.key, S.nkey + 1,
		    sizeof(*S.key))) == NULL)
			err(1, NULL);
		S.key[S.nkey++] = f;
	}
	if ((S.idx = calloc(S.nidx + 1, sizeof(*S.idx))) == NULL)
		err(1, NULL);
	for (j = 0; j < S.nidx; j++)
		if (ds_mongo_index_parse(ixs[j], &S.idx[j], errbuf,
		    sizeof(errbuf)) == -1) {
			warnx("%s", errbuf);
			usage(stderr);
		}
	free(ixs);
	if ((S.m = ds_mongo_open(uri, w, errbuf, sizeof(errbuf))) == NULL) {
		warnx("%s", errbuf);
		usage(stderr);
	}
	ds_buf_reset(&S.tmp);
	ds_buf_addf(&S.tmp, "%s.%s%s", S.db, S.cname ? "" : "@",
	    S.cname ? S.cname : S.collfield);
	ds_buf_addc(&S.tmp, '\0');
	if (S.id == NULL)
		S.id = strdup(S.tmp.p);
	else
		S.id = strdup(S.id);
	if (S.id == NULL)
		err(1, NULL);

	/* at start: indexes, then where we stopped (both wait for Mongo) */
	if (S.cname != NULL)
		S.fixed = coll_get(S.cname, strlen(S.cname));
	S.done = ds_mongo_progress_get(S.m, S.db, S.id);

	ds_stage_run(&st, argv, argc);

	for (i = 0; (h = ds_hash_next(&S.colls, &i)) != NULL; ) {
		co = h->val;
		mongoc_collection_destroy(co->c);
		free(co->ops);
		free(co);
	}
	ds_hash_clear(&S.colls);
	ds_hash_clear(&S.bykey);
	free(S.colls.e);
	free(S.bykey.e);
	for (j = 0; j < S.nidx; j++)
		bson_destroy(&S.idx[j]);
	free(S.idx);
	free(S.key);
	free(S.d);
	free(S.o);
	free((char *)S.id);
	ds_buf_free(&S.docs);
	ds_buf_free(&S.keys);
	ds_buf_free(&S.tmp);
	ds_mongo_close(S.m);
	if (S.ackfd != -1 && close(S.ackfd) == -1)
		err(1, "%s", S.acks);
	return 0;
}
