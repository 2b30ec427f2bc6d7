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


int32_t
ds_mbatch_add(struct ds_mbatch *b, const char *coll, const bson_t *rec,
    const bson_t *k, unsigned long lineno, const char *src)
{
	struct ds_hent *h;
	struct ds_mdoc *d;
	struct ds_mop *o;
	int32_t op = -1;
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
	ds_buf_add(&b->docs, bson_get_data(rec), rec->len);

	h = NULL;
	isnew = 1;
	if (k != NULL && b->mode != DS_M_INSERT) {
		/* one op per key per batch: unordered bulks have no order */
		ds_buf_clear(&b->tmp);
		ds_buf_adds(&b->tmp, coll);
		ds_buf_add(&b->tmp, "", 1);
		ds_buf_add(&b->tmp, bson_get_data(k), k->len);
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
		o->head = o->tail = (int32_t)b->nd;
		o->koff = b->keys.len;
		o->klen = k != NULL ? k->len : 0;
		if (k != NULL)
			ds_buf_add(&b->keys, bson_get_data(k), k->len);
		if (h != NULL)
			h->val = (void *)(intptr_t)b->no;
		op = (int32_t)b->no++;
	} else {
		o = &b->o[(intptr_t)h->val];
		b->d[o->tail].next = (int32_t)b->nd;
		o->tail = (int32_t)b->nd;
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

void
ds_mbatch_op(const struct ds_mbatch *b, mongoc_bulk_operation_t *bulk,
    const struct ds_mop *o, int64_t seq)
{
	bson_t bs, k, doc = BSON_INITIALIZER, upd = BSON_INITIALIZER, sub;
	bson_t opts = BSON_INITIALIZER;
	bson_iter_t it;
	bson_error_t e;
	bool ok = true;

	doc_bson(b, o->tail, &bs);
	if (o->klen)
		bson_init_static(&k, (const uint8_t *)b->keys.p + o->koff,
		    o->klen);
	BSON_APPEND_BOOL(&opts, "upsert", true);
	switch (b->mode) {
	case DS_M_INSERT:
		if (o->klen == 0) {
			ok = mongoc_bulk_operation_insert_with_opts(bulk, &bs,
			    NULL, &e);
			break;
		}
		bson_concat(&doc, &k);
		fields(b, o, &doc, 0, 0);
		ok = mongoc_bulk_operation_insert_with_opts(bulk, &doc, NULL,
		    &e);
		break;
	case DS_M_UPSERT:
		bson_iter_init(&it, &bs);
		while (bson_iter_next(&it))
			if (strcmp(bson_iter_key(&it), "_id") != 0)
				bson_append_iter(&doc, NULL, 0, &it);
		ok = mongoc_bulk_operation_replace_one_with_opts(bulk, &k,
		    &doc, &opts, &e);
		break;
	case DS_M_MERGE:
		BSON_APPEND_DOCUMENT_BEGIN(&upd, "$set", &sub);
		fields(b, o, &sub, 0, 0);
		bson_append_document_end(&upd, &sub);
		ok = mongoc_bulk_operation_update_one_with_opts(bulk, &k,
		    &upd, &opts, &e);
		break;
	case DS_M_INC:
		bson_init(&sub);
		fields(b, o, &sub, 1, 1);
		if (!bson_empty(&sub))
			BSON_APPEND_DOCUMENT(&upd, "$inc", &sub);
		bson_reinit(&sub);
		fields(b, o, &sub, 1, 0);
		if (seq > 0) {
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
		    &k, &upd, &opts, &e);
		break;
	}
	if (!ok)
		errx(1, "building a bulk write: %s", e.message);
	bson_destroy(&doc);
	bson_destroy(&upd);
	bson_destroy(&opts);
}


size_t
ds_mbatch_unapplied(const struct ds_mbatch *b, struct ds_mongo *m,
    mongoc_collection_t *coll, int32_t *ops, size_t n, int64_t seq,
    int64_t *dup)
{
	struct ds_hash seen = { 0 };
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER, in, ids, k;
	bson_t proj;
	bson_iter_t it;
	bson_error_t e;
	const struct ds_mop *o;
	size_t i, j;
	char num[16];
	const char *key;
	int isnew;

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
	BCON_APPEND(&filter, DS_MONGO_GUARD, "{", "$gte", BCON_INT64(seq), "}");
	if (b->stream != NULL)
		BSON_APPEND_UTF8(&filter, DS_MONGO_GSTREAM, b->stream);
	BSON_APPEND_DOCUMENT_BEGIN(&opts, "projection", &proj);
	BSON_APPEND_INT32(&proj, "_id", 1);
	bson_append_document_end(&opts, &proj);
	for (;;) {
		ds_hash_clear(&seen);
		cur = mongoc_collection_find_with_opts(coll, &filter, &opts,
		    NULL);
		while (mongoc_cursor_next(cur, &doc))
			ds_hash_put(&seen, (const char *)bson_get_data(doc),
			    doc->len, &isnew);
		if (!mongoc_cursor_error(cur, &e))
			break;
		mongoc_cursor_destroy(cur);
		if (!ds_mongo_transient(&e))
			errx(1, "%s: %s: reading the guards of batch %lld: "
			    "%s", m->where, mongoc_collection_get_name(coll),
			    (long long)seq, e.message);
		ds_mongo_wait(m, "reading the guards", &e);
	}
	mongoc_cursor_destroy(cur);
	ds_mongo_ok(m);
	for (i = j = 0; i < n; i++) {
		o = &b->o[ops[i]];
		if (ds_hash_get(&seen, b->keys.p + o->koff, o->klen) != NULL)
			(*dup)++;	/* applied before a crash */
		else
			ops[j++] = ops[i];
	}
	ds_hash_free(&seen);
	bson_destroy(&filter);
	bson_destroy(&opts);
	return j;
}

void
ds_mbatch_clear(struct ds_mbatch *b)
{
	ds_hash_clear(&b->bykey);
	ds_buf_clear(&b->docs);
	ds_buf_clear(&b->keys);
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
