/*
 * durable/staterec.c -- the state records of a keyed stage's
 * checkpoint, one line per key:
 *
 *	{"k":{<key fields>},"t":LAST,"<tag>":VALUE}	a live key
 *	{"k":{<key fields>},"d":1}			a removed key (deltas)
 *
 * LAST is the batch time of the key's last update, or null.  Also the
 * reader of an initial state file, one record per key.
 */
#include <err.h>
#include <stdio.h>
#include <string.h>

#include "durable/durable.h"

static void
addkey(struct ds_buf *b, const char *key, size_t klen,
    const struct ds_path *keys, int nkeys)
{
	ds_buf_adds(b, "{\"k\":{");
	ds_key_emit(key, klen, keys, nkeys, b);
	ds_buf_adds(b, "}");
}

int
ds_staterec_each(struct ds_keytab *kt, int full, const struct ds_staterec *r,
    ds_staterec_fn fn, void *arg)
{
	struct ds_key **v = full ? kt->ord : kt->chg;
	struct ds_buf b = { 0 };
	size_t i, n = full ? kt->n : kt->nchg, off = 0, klen, kend;
	const char *key;
	int rv = 0;

	while (rv == 0 && !full && ds_keytab_gone(kt, &off, &key, &klen)) {
		ds_buf_clear(&b);
		addkey(&b, key, klen, r->keys, r->nkeys);
		kend = b.len;
		ds_buf_adds(&b, ",\"d\":1}");
		rv = fn(arg, key, klen, b.p, b.len, kend, 1);
	}
	for (i = 0; rv == 0 && i < n; i++) {
		if (v[i] == NULL || !v[i]->live)
			continue;
		ds_buf_clear(&b);
		addkey(&b, v[i]->key, v[i]->klen, r->keys, r->nkeys);
		kend = b.len;
		ds_buf_adds(&b, ",\"t\":");
		if (v[i]->last == DS_KEY_NOTIME)
			ds_buf_adds(&b, "null");
		else
			ds_buf_addi(&b, v[i]->last);
		ds_buf_adds(&b, ",\"");
		ds_buf_adds(&b, r->tag);
		ds_buf_adds(&b, "\":");
		r->save(r->arg, v[i], &b);
		ds_buf_addc(&b, '}');
		rv = fn(arg, v[i]->key, v[i]->klen, b.p, b.len, kend, 0);
	}
	ds_buf_free(&b);
	return rv;
}

/* ds_staterec_body's callback: the record as a line of b. */
static int
addline(void *arg, const char *key, size_t klen, const char *rec,
    size_t len, size_t kend, int gone)
{
	struct ds_buf *b = arg;

	(void)key;
	(void)klen;
	(void)kend;
	(void)gone;
	ds_buf_add(b, rec, len);
	ds_buf_addc(b, '\n');
	return 0;
}

void
ds_staterec_body(struct ds_keytab *kt, int full, const struct ds_staterec *r,
    struct ds_buf *b)
{
	(void)ds_staterec_each(kt, full, r, addline, b);
}

/* One state record p[0..len): 0, or -1 with *why. */
static int
loadrec(const struct ds_staterec *r, const struct ds_path pa[4],
    const char *p, size_t len, struct ds_buf *kb, const char **why)
{
	struct ds_span k, t, v;
	const char *jwhy;
	int64_t last;

	*why = "malformed state record";
	if (ds_json_check(p, len, ds_opts.maxdepth, &jwhy) == -1 ||
	    !ds_json_get(p, len, &pa[0], &k))
		return -1;
	ds_buf_clear(kb);
	if (ds_key_make(k.p, k.len, r->keys, r->nkeys, kb, why) == -1)
		return -1;
	if (ds_json_get(p, len, &pa[2], &v))
		return r->load(r->arg, kb->p, kb->len, 0, NULL, why);
	if (!ds_json_get(p, len, &pa[1], &t) ||
	    !ds_json_get(p, len, &pa[3], &v))
		return -1;
	if (ds_json_int(t, &last) == -1)
		last = DS_KEY_NOTIME;
	return r->load(r->arg, kb->p, kb->len, last, &v, why);
}

int
ds_staterec_load(const struct ds_staterec *r, const char *path, char *p,
    char *end, char *msg, size_t msglen)
{
	struct ds_path pa[4];
	struct ds_buf kb = { 0 };
	const char *why;
	size_t lineno = 1;
	char *nl;
	int rv = 0;

	memset(pa, 0, sizeof(pa));
	if (ds_path_parse("k", &pa[0]) == -1 ||
	    ds_path_parse("t", &pa[1]) == -1 ||
	    ds_path_parse("d", &pa[2]) == -1 ||
	    ds_path_parse(r->tag, &pa[3]) == -1)
		err(1, NULL);	/* only memory can fail */
	ds_buf_grow(&kb, 64);	/* never hash from NULL, even the empty key */
	for (; p < end; p = nl + 1) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (loadrec(r, pa, p, (size_t)(nl - p), &kb, &why) == -1) {
			snprintf(msg, msglen, "%s:%zu: %s", path, lineno, why);
			rv = -1;
			break;
		}
	}
	ds_buf_free(&kb);
	for (lineno = 0; lineno < 4; lineno++)
		ds_path_free(&pa[lineno]);
	return rv;
}

int
ds_staterec_init(const struct ds_stateinit *si, const char *file)
{
	struct ds_path ps;
	struct ds_buf kb = { 0 };
	struct ds_span v;
	struct ds_in *in;
	struct ds_line l;
	const char *why;
	char nomem[128];

	if ((in = ds_in_open(file, ds_opts.maxline)) == NULL)
		return -1;
	memset(&ps, 0, sizeof(ps));
	if (si->member != NULL && ds_path_parse(si->member, &ps) == -1)
		err(1, NULL);	/* only memory can fail */
	ds_buf_grow(&kb, 64);	/* never hash from NULL, even the empty key */
	while (ds_in_next(in, &l)) {
		if ((why = ds_line_why(&l, 1)) != NULL) {
			si->bad(si->arg, &l, why);
			continue;
		}
		ds_buf_clear(&kb);
		if (ds_key_make(l.p, l.len, si->keys, si->nkeys, &kb,
		    &why) == -1) {
			si->bad(si->arg, &l, why);
			continue;
		}
		v.p = l.p;
		v.len = l.len;
		if (si->member != NULL && !ds_json_get(l.p, l.len, &ps, &v)) {
			snprintf(nomem, sizeof(nomem), "initial state record "
			    "without \"%s\"", si->member);
			si->bad(si->arg, &l, nomem);
			continue;
		}
		si->fn(si->arg, &l, kb.p, kb.len, &v);
	}
	ds_in_close(in);
	ds_buf_free(&kb);
	if (si->member != NULL)
		ds_path_free(&ps);
	return 0;
}
