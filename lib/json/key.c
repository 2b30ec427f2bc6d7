/*
 * key.c -- group keys.  A key is the canonical compact JSON text of the
 * values at the key paths, separated by commas ("\"u1\",42,null"): it is
 * a byte string for the hash table, readable text for checkpoints, and
 * can be turned back into output fields without a tree.
 *
 * Canonical form (so that equal JSON values give equal keys): strings
 * are unescaped and re-escaped the way ds_buf_addq writes them; numbers
 * that are integers (1, 1.0, 1e0) are written as int64 decimals, other
 * numbers as the shortest double that reads back; true, false and null
 * are as they are; arrays and objects keep their text with white space
 * outside strings removed (member order and string escapes inside them
 * are not normalised).  An absent field is null.
 */
#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

/* Copy an array or object without the white space between tokens. */
static void
compact(const char *p, const char *e, struct ds_buf *b)
{
	const char *run;

	while (p < e) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
			p++;
			continue;
		}
		if (*p != '"') {
			ds_buf_addc(b, *p++);
			continue;
		}
		run = p++;
		while (p < e && *p != '"') {
			if (*p == '\\' && p + 1 < e)
				p++;
			p++;
		}
		if (p < e)
			p++;
		ds_buf_add(b, run, p - run);
	}
}

int
ds_json_canon(struct ds_span v, struct ds_buf *b)
{
	static struct ds_buf tmp;	/* unescaped strings; reused */
	int64_t i;
	double d;

	if (v.len == 0)
		return -1;
	switch (*v.p) {
	case '"':
		if (memchr(v.p + 1, '\\', v.len - 2) == NULL) {
			/* valid JSON: no controls, no quotes, no escapes */
			ds_buf_add(b, v.p, v.len);
			return 0;
		}
		ds_buf_clear(&tmp);
		if (ds_json_str(v, &tmp) == -1)
			return -1;
		ds_buf_addq(b, tmp.p, tmp.len);
		return 0;
	case '{':
	case '[':
		compact(v.p, v.p + v.len, b);
		return 0;
	case 't':
	case 'f':
	case 'n':
		ds_buf_add(b, v.p, v.len);
		return 0;
	default:
		if (ds_json_int(v, &i) == 0) {
			ds_buf_addi(b, i);	/* also makes -0 into 0 */
			return 0;
		}
		if (ds_json_num(v, &d) == -1)
			return -1;
		if (d == floor(d) && fabs(d) < 9.2e18)
			ds_buf_addi(b, (int64_t)d);
		else
			ds_buf_addd(b, d);
		return 0;
	}
}

#define ISWS(c)	((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

/*
 * One pass over the members of the object: each path's first component
 * is matched against every member key (the last duplicate wins, as in
 * ds_json_get), deeper components inside the matched value.  Scanning
 * once for all fields instead of once per field saved a quarter of
 * ds-reduce's time on 7-member records.
 */
int
ds_json_getv(const char *rec, size_t len, const struct ds_path *const *paths,
    int n, struct ds_span *v, int *found)
{
	static struct ds_buf ukey;	/* an escaped key, unescaped */
	const char *p = rec, *e = rec + len, *k, *ke, *vs;
	const char *kp;
	struct ds_path sub;
	struct ds_span kv;
	size_t kl;
	int i, esc;

	for (i = 0; i < n; i++)
		found[i] = 0;
	while (p < e && ISWS(*p))
		p++;
	if (p >= e || *p != '{')
		return -1;
	p++;
	for (;;) {
		while (p < e && ISWS(*p))
			p++;
		if (p >= e || *p != '"')
			return 0;
		k = ++p;
		esc = 0;
		while (p < e && *p != '"') {
			if (*p == '\\') {
				esc = 1;
				p++;
			}
			p++;
		}
		ke = p++;
		while (p < e && (ISWS(*p) || *p == ':'))
			p++;
		vs = p;
		p = ds_json_skip(p, e);
		kp = k;
		kl = ke - k;
		if (esc) {
			kv.p = k - 1;
			kv.len = ke - k + 2;
			ds_buf_clear(&ukey);
			if (ds_json_str(kv, &ukey) == 0 && ukey.len > 0) {
				kp = ukey.p;
				kl = ukey.len;
			}
		}
		for (i = 0; i < n; i++) {
			if (paths[i]->n == 0 || paths[i]->klen[0] != kl ||
			    memcmp(paths[i]->key[0], kp, kl) != 0)
				continue;
			if (paths[i]->n == 1) {
				v[i].p = vs;
				v[i].len = p - vs;
				found[i] = 1;
				continue;
			}
			sub.n = paths[i]->n - 1;
			sub.key = paths[i]->key + 1;
			sub.klen = paths[i]->klen + 1;
			sub.text = paths[i]->text;
			found[i] = ds_json_get(vs, p - vs, &sub, &v[i]);
		}
		while (p < e && ISWS(*p))
			p++;
		if (p >= e || *p != ',')
			return 0;
		p++;
	}
}

int
ds_key_make_v(const struct ds_span *v, const int *found, int n,
    struct ds_buf *b, const char **errmsg)
{
	int i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			ds_buf_addc(b, ',');
		if (!found[i])
			ds_buf_add(b, "null", 4);
		else if (ds_json_canon(v[i], b) == -1) {
			*errmsg = "malformed value in a key field";
			return -1;
		}
	}
	return 0;
}

int
ds_key_make(const char *rec, size_t len, const struct ds_path *paths,
    int n, struct ds_buf *b, const char **errmsg)
{
	static const struct ds_path **pp;
	static struct ds_span *v;
	static int *found, cap;
	int i;

	if (n > cap) {
		free(pp);
		free(v);
		free(found);
		pp = calloc(n, sizeof(*pp));
		v = calloc(n, sizeof(*v));
		found = calloc(n, sizeof(*found));
		if (pp == NULL || v == NULL || found == NULL)
			err(1, NULL);
		cap = n;
	}
	for (i = 0; i < n; i++)
		pp[i] = &paths[i];
	if (ds_json_type(rec, len) != DS_JOBJ ||
	    ds_json_getv(rec, len, pp, n, v, found) == -1) {
		*errmsg = "record is not an object (cannot take a key)";
		return -1;
	}
	return ds_key_make_v(v, found, n, b, errmsg);
}

/* Do paths a and b share their first depth components? */
static int
sameprefix(const struct ds_path *a, const struct ds_path *b, int depth)
{
	int k;

	if (a->n < depth || b->n < depth)
		return 0;
	for (k = 0; k < depth; k++)
		if (a->klen[k] != b->klen[k] ||
		    memcmp(a->key[k], b->key[k], a->klen[k]) != 0)
			return 0;
	return 1;
}

/*
 * Emit the members at depth for the paths under the prefix of path
 * pref, each component once, nesting where paths go deeper.
 */
static void
level(const struct ds_span *vals, const struct ds_path *paths, int n,
    int depth, int pref, struct ds_buf *b, int first)
{
	int i, j, dup;

	for (i = 0; i < n; i++) {
		if (paths[i].n <= depth ||
		    (depth > 0 && !sameprefix(&paths[i], &paths[pref], depth)))
			continue;
		for (dup = 0, j = 0; j < i && !dup; j++)
			dup = paths[j].n > depth &&
			    sameprefix(&paths[j], &paths[i], depth + 1);
		if (dup)
			continue;
		if (!first)
			ds_buf_addc(b, ',');
		first = 0;
		ds_buf_addq(b, paths[i].key[depth], paths[i].klen[depth]);
		ds_buf_addc(b, ':');
		if (paths[i].n == depth + 1)
			ds_buf_add(b, vals[i].p, vals[i].len);
		else {
			ds_buf_addc(b, '{');
			level(vals, paths, n, depth + 1, i, b, 1);
			ds_buf_addc(b, '}');
		}
	}
}

int
ds_key_emit(const char *key, size_t klen, const struct ds_path *paths,
    int n, struct ds_buf *b)
{
	struct ds_span stackv[16], *vals = stackv;
	const char *p = key, *e = key + klen, *q;
	int i, rc = -1;

	if (n <= 0)
		return 0;
	if (n > 16 && (vals = reallocarray(NULL, n, sizeof(*vals))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (p >= e)
			goto out;
		q = ds_json_skip(p, e);
		vals[i].p = p;
		vals[i].len = q - p;
		p = q;
		if (i < n - 1) {
			if (p >= e || *p != ',')
				goto out;
			p++;
		}
	}
	if (p != e)
		goto out;
	level(vals, paths, n, 0, 0, b, 1);
	rc = 0;
out:
	if (vals != stackv)
		free(vals);
	return rc;
}

int
ds_key_check(const struct ds_path *paths, int n, char *err, size_t errlen)
{
	const struct ds_path *a, *b;
	int i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			a = &paths[i];
			b = &paths[j];
			if (a->n > b->n) {
				a = &paths[j];
				b = &paths[i];
			}
			/* a is the shorter: is it a prefix of b? */
			if (!sameprefix(a, b, a->n))
				continue;
			snprintf(err, errlen, "key field '%s' %s '%s'", a->text,
			    a->n == b->n ? "repeats" : "contains", b->text);
			return -1;
		}
	return 0;
}
