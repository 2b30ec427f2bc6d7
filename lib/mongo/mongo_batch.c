/*
 * mongo_batch.c -- one batch of ds-sink-mongo held as BSON until its
 * marker: the records in input order, one write ("op") per key, and the
 * bulk-write operations built from them per --mode.
 */
#include <err.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mongoc/mongoc.h>

#include "ds.h"
#include "mongo/mongo.h"

/* --id-format string: the key values of l as the string "[v1,...]" */
static int
strkey(struct ds_mbatch *b, const struct ds_line *l, bson_t *k)
{
	struct ds_span v;
	int i;

	ds_buf_clear(&b->tmp);
	ds_buf_addc(&b->tmp, '[');
	for (i = 0; i < b->nkey; i++) {
		if (!ds_json_get(l->p, l->len, &b->kpaths[i], &v))
			return -1;
		if (i > 0)
			ds_buf_addc(&b->tmp, ',');
		if (ds_json_canon(v, &b->tmp) == -1)
			return -1;
	}
	ds_buf_addc(&b->tmp, ']');
	bson_append_utf8(k, "_id", 3, b->tmp.p, (int)b->tmp.len);
	return 0;
}

int
ds_mbatch_key(struct ds_mbatch *b, const bson_t *rec,
    const struct ds_line *l, bson_t *k)
{
	bson_iter_t it, v;
	bson_t sub;
	char name[256];
	int i;
	size_t j;

	bson_init(k);
	if (b->kpaths != NULL)
		return strkey(b, l, k);
	if (b->nkey == 1) {
		if (!bson_iter_init(&it, rec) ||
		    !bson_iter_find_descendant(&it, b->key[0], &v))
			return -1;
		bson_append_iter(k, "_id", 3, &v);
		return 0;
	}
	bson_append_document_begin(k, "_id", 3, &sub);
	for (i = 0; i < b->nkey; i++) {
		if (!bson_iter_init(&it, rec) ||
		    !bson_iter_find_descendant(&it, b->key[i], &v)) {
			bson_append_document_end(k, &sub);
			return -1;
		}
		/* dotted names are refused: geo.city is stored as geo_city */
		snprintf(name, sizeof(name), "%s", b->key[i]);
		for (j = 0; name[j] != '\0'; j++)
			if (name[j] == '.')
				name[j] = '_';
		bson_append_iter(&sub, name, -1, &v);
	}
	bson_append_document_end(k, &sub);
	return 0;
}


/* The guard path of message e, "_ds_o.TOPIC.P" ('.' of TOPIC as '_'). */
static void
guard(struct ds_mbatch *b, const struct ds_env *e)
{
	size_t i;

	ds_buf_adds(&b->guards, DS_MONGO_GOFFSET ".");
	for (i = 0; i < e->tlen; i++)
		ds_buf_addc(&b->guards, e->topic[i] == '.' ? '_' : e->topic[i]);
	ds_buf_addf(&b->guards, ".%ld", (long)e->part);
}

int32_t
ds_mbatch_add(struct ds_mbatch *b, const char *coll, const bson_t *rec,
    const bson_t *k, const struct ds_env *e, unsigned long lineno,
    const char *src)
{
	struct ds_hent *h;
	struct ds_mdoc *d;
	struct ds_mop *o;
	int32_t op = -1;
	size_t goff = b->guards.len;
	int isnew;

	if (b->nd == b->dcap) {
		b->dcap = b->dcap ? b->dcap * 2 : 1024;
		if ((b->d = reallocarray(b->d, b->dcap, sizeof(*b->d))) == NULL)
			err(1, NULL);
	}
	d = &b->d[b->nd];
	d->off = b->docs.len;
	d->len = rec->len;
	d->next = -1;
	d->lineno = lineno;
	d->src = src;
	d->moff = e != NULL ? e->off : -1;
	ds_buf_add(&b->docs, bson_get_data(rec), rec->len);
	if (e != NULL && b->mode != DS_M_INSERT)
		guard(b, e);

	h = NULL;
	isnew = 1;
	if (k != NULL && b->mode != DS_M_INSERT) {
		/* one op per key per batch: unordered bulks have no order */
		ds_buf_clear(&b->tmp);
		ds_buf_adds(&b->tmp, coll);
		ds_buf_add(&b->tmp, "", 1);
		ds_buf_add(&b->tmp, bson_get_data(k), k->len);
		/* envelopes: an op per key and partition (the guard) */
		ds_buf_add(&b->tmp, b->guards.p + goff, b->guards.len - goff);
		h = ds_hash_put(&b->bykey, b->tmp.p, b->tmp.len, &isnew);
	}
	if (isnew) {
		if (b->no == b->ocap) {
			b->ocap = b->ocap ? b->ocap * 2 : 1024;
			if ((b->o = reallocarray(b->o, b->ocap,
			    sizeof(*b->o))) == NULL)
				err(1, NULL);
		}
		o = &b->o[b->no];
		memset(o, 0, sizeof(*o));
		o->head = o->tail = (int32_t)b->nd;
		o->koff = b->keys.len;
		o->klen = k != NULL ? k->len : 0;
		o->goff = goff;
		o->glen = b->guards.len - goff;
		if (o->glen > 0)
			ds_buf_addc(&b->guards, '\0');
		if (k != NULL)
			ds_buf_add(&b->keys, bson_get_data(k), k->len);
		if (h != NULL)
			h->val = (void *)(intptr_t)b->no;
		op = (int32_t)b->no++;
	} else {
		o = &b->o[(intptr_t)h->val];
		b->d[o->tail].next = (int32_t)b->nd;
		o->tail = (int32_t)b->nd;
		b->guards.len = goff;	/* the op has it */
	}
	b->nd++;
	return op;
}

static void
doc_bson(const struct ds_mbatch *b, int32_t i, bson_t *out)
{
	bson_init_static(out, (const uint8_t *)b->docs.p + b->d[i].off,
	    b->d[i].len);
}

static int
is_num(const bson_iter_t *it)
{
	bson_type_t t = bson_iter_type(it);

	return t == BSON_TYPE_INT32 || t == BSON_TYPE_INT64 ||
	    t == BSON_TYPE_DOUBLE;
}

static int
is_topkey(const struct ds_mbatch *b, const char *k)
{
	int i;

	for (i = 0; i < b->nkey; i++)
		if (strcmp(b->key[i], k) == 0)
			return 1;
	return 0;
}

/*
 * The fields of op's docs (later docs win), without _id; in inc mode
 * either only the numbers to add (nums) or only the rest.
 */
static void
fields(const struct ds_mbatch *b, const struct ds_mop *o, bson_t *out,
    int inc, int nums)
{
	struct ds_hash seen = { 0 };
	struct ds_hent *h;
	bson_iter_t it;
	bson_t bs;
	int32_t i, multi = o->head != o->tail;
	const char *k;
	int isnew;
	double dv;

	for (i = o->head; i != -1; i = b->d[i].next) {
		doc_bson(b, i, &bs);
		bson_iter_init(&it, &bs);
		while (bson_iter_next(&it)) {
			k = bson_iter_key(&it);
			if (strcmp(k, "_id") == 0)
				continue;
			if (inc && nums != (is_num(&it) && !is_topkey(b, k)))
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
	for (i = o->head; i != -1; i = b->d[i].next) {
		doc_bson(b, i, &bs);
		bson_iter_init(&it, &bs);
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
				for (j = i; j != -1; j = b->d[j].next) {
					doc_bson(b, j, &jb);
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
	ds_hash_free(&seen);
}

/* The guard path of op o, NUL-terminated. */
static const char *
gpath(const struct ds_mbatch *b, const struct ds_mop *o)
{
	return b->guards.p + o->goff;
}

/*
 * The filter of op o, q: {_id: K}, and for an envelope's message the
 * guard too: GUARD: {$not: {$gte: FIRST}}, FIRST the offset of its first
 * message (a missing guard matches).
 */
static void
filter(const struct ds_mbatch *b, const struct ds_mop *o, const bson_t *k,
    bson_t *q)
{
	bson_t cond, not;

	bson_init(q);
	bson_concat(q, k);
	if (o->glen == 0)
		return;
	bson_append_document_begin(q, gpath(b, o), o->glen, &cond);
	BSON_APPEND_DOCUMENT_BEGIN(&cond, "$not", &not);
	BSON_APPEND_INT64(&not, "$gte", b->d[o->head].moff);
	bson_append_document_end(&cond, &not);
	bson_append_document_end(q, &cond);
}

/* A replacement's guard: {_ds_o: {TOPIC: {P: OFF}}} appended to doc. */
static void
guard_doc(const struct ds_mbatch *b, const struct ds_mop *o, bson_t *doc)
{
	const char *p = gpath(b, o), *t, *part;
	bson_t g, tp;

	t = p + sizeof(DS_MONGO_GOFFSET);
	part = strrchr(t, '.') + 1;
	BSON_APPEND_DOCUMENT_BEGIN(doc, DS_MONGO_GOFFSET, &g);
	bson_append_document_begin(&g, t, (int)(part - 1 - t), &tp);
	BSON_APPEND_INT64(&tp, part, b->d[o->tail].moff);
	bson_append_document_end(&g, &tp);
	bson_append_document_end(doc, &g);
}

int
ds_mbatch_op(const struct ds_mbatch *b, mongoc_bulk_operation_t *bulk,
    const struct ds_mop *o, int64_t seq, bson_error_t *e)
{
	bson_t bs, k, q, doc = BSON_INITIALIZER, upd = BSON_INITIALIZER, sub;
	bson_t opts = BSON_INITIALIZER;
	bson_iter_t it;
	bool ok = true;

	doc_bson(b, o->tail, &bs);
	if (o->klen)
		bson_init_static(&k, (const uint8_t *)b->keys.p + o->koff,
		    o->klen);
	else
		bson_init(&k);
	filter(b, o, &k, &q);
	BSON_APPEND_BOOL(&opts, "upsert", true);
	switch (b->mode) {
	case DS_M_INSERT:
		if (o->klen == 0) {
			ok = mongoc_bulk_operation_insert_with_opts(bulk, &bs,
			    NULL, e);
			break;
		}
		bson_concat(&doc, &k);
		fields(b, o, &doc, 0, 0);
		ok = mongoc_bulk_operation_insert_with_opts(bulk, &doc, NULL,
		    e);
		break;
	case DS_M_UPSERT:
		bson_iter_init(&it, &bs);
		while (bson_iter_next(&it))
			if (strcmp(bson_iter_key(&it), "_id") != 0 &&
			    (o->glen == 0 || strcmp(bson_iter_key(&it),
			    DS_MONGO_GOFFSET) != 0))
				bson_append_iter(&doc, NULL, 0, &it);
		if (o->glen)
			guard_doc(b, o, &doc);
		ok = mongoc_bulk_operation_replace_one_with_opts(bulk, &q,
		    &doc, &opts, e);
		break;
	case DS_M_MERGE:
		BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &sub);
		fields(b, o, &sub, 0, 0);
		if (o->glen)
			bson_append_int64(&sub, gpath(b, o), o->glen,
			    b->d[o->tail].moff);
		bson_append_document_end(&upd, &sub);
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, &q,
		    &upd, &opts, e);
		break;
	case DS_M_INC:
		bson_init(&sub);
		fields(b, o, &sub, 1, 1);
		if (!bson_empty(&sub))
			BSON_APPEND_DOCUMENT(&upd, "$inc", &sub);
		bson_reinit(&sub);
		fields(b, o, &sub, 1, 0);
		if (o->glen)
			bson_append_int64(&sub, gpath(b, o), o->glen,
			    b->d[o->tail].moff);
		else if (seq > 0) {
			/*
			 * The guard: the last batch applied to the document,
			 * read back when a batch may have been half written
			 * (ds_mbatch_unapplied).  Not a condition of the
			 * filter: FerretDB finds a document without a scan
			 * only for a filter of {_id: string} alone.
			 */
			BSON_APPEND_INT64(&sub, DS_MONGO_GUARD, seq);
			if (b->stream != NULL)
				BSON_APPEND_UTF8(&sub, DS_MONGO_GSTREAM,
				    b->stream);
		}
		/* an update needs an operator: an empty $set if need be */
		if (!bson_empty(&sub) || bson_empty(&upd))
			BSON_APPEND_DOCUMENT(&upd, "$set", &sub);
		bson_destroy(&sub);
		ok = mongoc_bulk_operation_update_one_with_opts(bulk,
		    &q, &upd, &opts, e);
		break;
	}
	bson_destroy(&q);
	bson_destroy(&k);
	bson_destroy(&doc);
	bson_destroy(&upd);
	bson_destroy(&opts);
	return ok ? 0 : -1;
}


/*
 * The offset of the last message of op o's key and partition that its
 * document, as read back into doc, has seen (-1: none).
 */
static int64_t
lastseen(const struct ds_mbatch *b, const struct ds_mop *o, const bson_t *doc)
{
	bson_iter_t it, v;

	if (bson_iter_init(&it, doc) &&
	    bson_iter_find_descendant(&it, gpath(b, o), &v) &&
	    (BSON_ITER_HOLDS_INT64(&v) || BSON_ITER_HOLDS_INT32(&v) ||
	    BSON_ITER_HOLDS_DOUBLE(&v)))
		return bson_iter_as_int64(&v);
	return -1;
}

/*
 * Leave out of op o the messages its document doc (read back; NULL:
 * none) has seen, counting them in *dup.  Returns whether any is left.
 * Without a guard, a document read back has seen the op whole (inc: the
 * batch's seq; insert: the document exists).
 */
static int
unseen(struct ds_mbatch *b, struct ds_mop *o, const bson_t *doc,
    int64_t *dup)
{
	int64_t last;

	if (doc == NULL)
		return 1;
	if (o->glen == 0) {
		(*dup)++;
		return 0;
	}
	last = lastseen(b, o, doc);
	for (; o->head != -1 && b->d[o->head].moff <= last;
	    o->head = b->d[o->head].next)
		(*dup)++;
	return o->head != -1;
}

/*
 * Read the documents of ops[0..n) with the guard of batch seq (0: any
 * document, with its offsets) into docs, each at the offset seen maps
 * its {_id: K} to.
 */
static int
readback(const struct ds_mbatch *b, struct ds_mongo *m,
    mongoc_collection_t *coll, const int32_t *ops, size_t n, int64_t seq,
    struct ds_hash *seen, struct ds_buf *docs)
{
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, in, ids, k;
	bson_t proj;
	bson_iter_t it;
	bson_error_t e;
	const struct ds_mop *o;
	struct ds_hent *h;
	size_t i;
	char num[16];
	const char *key;
	int isnew, r = 0;

	BSON_APPEND_DOCUMENT_BEGIN(&filter, "_id", &in);
	BSON_APPEND_ARRAY_BEGIN(&in, "$in", &ids);
	for (i = 0; i < n; i++) {
		o = &b->o[ops[i]];
		bson_init_static(&k, (const uint8_t *)b->keys.p + o->koff,
		    o->klen);
		bson_uint32_to_string((uint32_t)i, &key, num, sizeof(num));
		if (bson_iter_init_find(&it, &k, "_id"))
			bson_append_iter(&ids, key, -1, &it);
	}
	bson_append_array_end(&in, &ids);
	bson_append_document_end(&filter, &in);
	if (seq > 0) {
		BCON_APPEND(&filter, DS_MONGO_GUARD, "{", "$gte",
		    BCON_INT64(seq), "}");
		if (b->stream != NULL)
			BSON_APPEND_UTF8(&filter, DS_MONGO_GSTREAM, b->stream);
	}
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
	BSON_APPEND_INT32(&proj, "_id", 1);
	if (seq == 0)
		BSON_APPEND_INT32(&proj, DS_MONGO_GOFFSET, 1);
	bson_append_document_end(&opts, &proj);
	for (;;) {
		ds_hash_clear(seen);
		ds_buf_clear(docs);
		cur = mongoc_collection_find_with_opts(coll, &filter, &opts,
		    NULL);
		while (mongoc_cursor_next(cur, &doc)) {
			bson_init(&k);
			if (bson_iter_init_find(&it, doc, "_id"))
				bson_append_iter(&k, "_id", 3, &it);
			h = ds_hash_put(seen, (const char *)bson_get_data(&k),
			    k.len, &isnew);
			h->val = (void *)(uintptr_t)docs->len;
			ds_buf_add(docs, bson_get_data(doc), doc->len);
			bson_destroy(&k);
		}
		if (!mongoc_cursor_error(cur, &e))
			break;
		mongoc_cursor_destroy(cur);
		cur = NULL;
		if ((r = ds_mongo_retry(m, &e, "reading the guards",
		    "%s: reading the guards of %zu write(s)",
		    mongoc_collection_get_name(coll), n)) == -1)
			break;
	}
	mongoc_cursor_destroy(cur);
	bson_destroy(&filter);
	bson_destroy(&opts);
	if (r == 0)
		ds_mongo_ok(m);
	return r;
}

ssize_t
ds_mbatch_unapplied(struct ds_mbatch *b, struct ds_mongo *m,
    mongoc_collection_t *coll, int32_t *ops, size_t n, int64_t seq,
    int64_t *dup)
{
	struct ds_hash got = { 0 };
	struct ds_buf docs = { 0 };
	struct ds_hent *h;
	struct ds_mop *o;
	const uint8_t *p;
	bson_t doc;
	size_t i, j;
	uint32_t len;
	int left;

	if (readback(b, m, coll, ops, n, seq, &got, &docs) == -1) {
		ds_hash_free(&got);
		ds_buf_free(&docs);
		return -1;
	}
	for (i = j = 0; i < n; i++) {
		o = &b->o[ops[i]];
		h = ds_hash_get(&got, b->keys.p + o->koff, o->klen);
		if (h == NULL)
			left = unseen(b, o, NULL, dup);
		else {
			p = (const uint8_t *)docs.p + (uintptr_t)h->val;
			memcpy(&len, p, sizeof(len));
			bson_init_static(&doc, p, BSON_UINT32_FROM_LE(len));
			left = unseen(b, o, &doc, dup);
		}
		if (left)
			ops[j++] = ops[i];
	}
	ds_hash_free(&got);
	ds_buf_free(&docs);
	return j;
}

void
ds_mbatch_clear(struct ds_mbatch *b)
{
	ds_hash_clear(&b->bykey);
	ds_buf_clear(&b->docs);
	ds_buf_clear(&b->keys);
	ds_buf_clear(&b->guards);
	b->nd = b->no = 0;
}

void
ds_mbatch_free(struct ds_mbatch *b)
{
	ds_paths_free(b->kpaths, b->nkey);
	ds_hash_free(&b->bykey);
	free(b->d);
	free(b->o);
	ds_buf_free(&b->docs);
	ds_buf_free(&b->keys);
	ds_buf_free(&b->guards);
	ds_buf_free(&b->tmp);
}

char *
ds_mbatch_json(const struct ds_mbatch *b, const struct ds_mop *o,
    struct ds_line *l)
{
	bson_t bs;
	size_t n;
	char *js;

	doc_bson(b, o->head, &bs);
	js = bson_as_relaxed_extended_json(&bs, &n);
	l->p = js;
	l->len = n;
	l->lineno = b->d[o->head].lineno;
	l->src = b->d[o->head].src;
	l->toolong = 0;
	return js;
}
