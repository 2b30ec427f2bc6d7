/*
 * ops.c -- operators on jq values (see exprint.h for the layers):
 * arithmetic and comparison, indexing and slices, setpath, getpath and
 * delpaths, and the runtime error messages, worded as jq words them.
 * No filters here: every function takes values and gives a value, or
 * NULL with the run's error set.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jq/exprint.h"

struct val *
ex_err(struct ds_expr *x, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	x->errv = ev_str(&x->a, msg, (size_t)n);
	return NULL;
}

const char *
ex_typename(const struct val *v)
{
	static const char *names[] = { "null", "boolean", "boolean",
	    "number", "string", "array", "object" };

	return names[v->t];
}

const char *
ex_desc(struct ds_expr *x, const struct val *v)
{
	struct ds_buf b = { 0 };
	char *s;
	size_t n;

	ev_print(&b, v);
	/* jq's 15-byte buffer: the value whole up to 14 bytes, else
	 * 11 bytes and "..." */
	n = b.len > 14 ? 11 : b.len;
	while (n > 0 && n < b.len && (b.p[n] & 0xc0) == 0x80)
		n--;
	s = ea_alloc(&x->a, n + 32);
	snprintf(s, n + 32, "%s (%.*s%s)", ex_typename(v), (int)n, b.p,
	    b.len > n ? "..." : "");
	ds_buf_free(&b);
	return s;
}

struct val *
ex_tojson(struct ds_expr *x, const struct val *v)
{
	struct ds_buf b = { 0 };
	struct val *r;

	if (ev_print(&b, v) == -1) {
		ds_buf_free(&b);
		return ex_err(x, "value nested too deeply to print");
	}
	r = ev_str(&x->a, b.p, b.len);
	ds_buf_free(&b);
	return r;
}

/* Number of code points in a valid UTF-8 string. */
int
ex_cplen(const char *s, size_t n)
{
	size_t i;
	int c = 0;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			c++;
	return c;
}

#define TOODEEP	"value or recursion nested too deeply"
#define TOOBIG	"value nested deeper than %d"

struct val *
ex_deepchk(struct ds_expr *x, struct val *r)
{
	if (!ev_toodeep)
		return ex_depthchk(x, r);
	ev_toodeep = 0;
	return ex_err(x, TOODEEP);
}

/* what a program builds is bounded as its input is: by --max-depth */
struct val *
ex_depthchk(struct ds_expr *x, struct val *r)
{
	int d;

	if (r == NULL)
		return NULL;
	if ((d = ev_depth(r)) == -1)
		return ex_err(x, TOODEEP);
	if (d > x->maxdepth)
		return ex_err(x, TOOBIG, x->maxdepth);
	return r;
}

/* a bound of a slice path component {"start": s, "end": e} */
static struct val *
slicekey(struct val *k, const char *name)
{
	struct val *v = ev_get(k, name, strlen(name));

	return v ? v : &ev_null;
}

struct val *
ex_index(struct ds_expr *x, struct val *t, struct val *k)
{
	struct val *v;
	double d;
	int64_t i;

	if (t->t == T_OBJ && k->t == T_STR) {
		v = ev_get(t, k->u.s, k->n);
		return v ? v : &ev_null;
	}
	if (t->t == T_ARR && k->t == T_NUM) {
		d = floor(k->u.d);
		if (isnan(d))
			return &ev_null;
		if (d < 0)
			d += t->n;
		if (d < 0 || d >= t->n)
			return &ev_null;
		i = (int64_t)d;
		return t->u.a[i];
	}
	if (t->t == T_NULL && (k->t == T_STR || k->t == T_NUM ||
	    k->t == T_OBJ))
		return &ev_null;
	if (t->t == T_ARR && k->t == T_ARR)
		return ex_indices(x, t, k);
	if ((t->t == T_ARR || t->t == T_STR) && k->t == T_OBJ)
		return ex_slice(x, t, slicekey(k, "start"), slicekey(k, "end"));
	/* jq names a key shorter than 30 bytes */
	if (k->t == T_STR && k->n < 30)
		return ex_err(x, "Cannot index %s with string \"%.*s\"",
		    ex_typename(t), (int)k->n, k->u.s);
	return ex_err(x, "Cannot index %s with %s", ex_typename(t),
	    ex_typename(k));
}

/* byte offset of code point cp in s[0..n) (clamped) */
size_t
ex_cpoff(const char *s, size_t n, int64_t cp)
{
	size_t i = 0;

	while (i < n && cp > 0) {
		i++;
		while (i < n && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		cp--;
	}
	return i;
}

/* [*fi, *ei): the elements of from:to in len of them; -1 on an error */
static int
slicebounds(struct ds_expr *x, double len, struct val *from, struct val *to,
    int64_t *fi, int64_t *ei)
{
	double f, e;

	if ((from->t != T_NUM && from->t != T_NULL) ||
	    (to->t != T_NUM && to->t != T_NULL)) {
		ex_err(x, "Start and end indices of an array slice must be "
		    "numbers");
		return -1;
	}
	f = from->t == T_NULL ? 0 : from->u.d;
	e = to->t == T_NULL ? len : to->u.d;
	if (f < 0)
		f += len;
	if (e < 0)
		e += len;
	f = !(f >= 0) ? 0 : f > len ? len : f;	/* NaN: 0 */
	e = isnan(e) ? len : !(e >= 0) ? 0 : e > len ? len : e;	/* NaN: end */
	*fi = (int64_t)floor(f);
	*ei = (int64_t)ceil(e);
	if (*ei > (int64_t)len)
		*ei = (int64_t)len;
	if (*ei < *fi)
		*ei = *fi;
	return 0;
}

struct val *
ex_slice(struct ds_expr *x, struct val *t, struct val *from, struct val *to)
{
	int64_t fi, ei;
	struct val *r;

	if (t->t == T_NULL)
		return &ev_null;
	if (t->t != T_ARR && t->t != T_STR)
		return ex_err(x, "Cannot index %s with object",
		    ex_typename(t));
	if (slicebounds(x, t->t == T_ARR ? (double)t->n :
	    ex_cplen(t->u.s, t->n),
	    from, to, &fi, &ei) == -1)
		return NULL;
	if (t->t == T_ARR) {
		r = ev_arr(&x->a, (uint32_t)(ei - fi));
		if (ei > fi)
			memcpy(r->u.a, t->u.a + fi, (ei - fi) * sizeof(*r->u.a));
		return r;
	}
	{
		size_t bf = ex_cpoff(t->u.s, t->n, fi);
		size_t be = bf + ex_cpoff(t->u.s + bf, t->n - bf, ei - fi);

		return ev_strref(&x->a, t->u.s + bf, be - bf, t->safe);
	}
}

static struct val *
concat(struct ds_expr *x, struct val *a, struct val *b)
{
	char *s;
	struct val *r;

	s = ea_alloc(&x->a, a->n + b->n + 1);
	memcpy(s, a->u.s, a->n);
	memcpy(s + a->n, b->u.s, b->n);
	s[a->n + b->n] = '\0';
	r = ev_strref(&x->a, s, a->n + b->n, a->safe && b->safe);
	return r;
}

static struct val *
deepmerge(struct ds_expr *x, struct val *a, struct val *b)
{
	struct val *r, *o;
	uint32_t i;

	if (ev_deep())
		return ex_err(x, TOODEEP);
	r = ev_objcopy(&x->a, a, b->n);
	for (i = 0; i < b->n; i++) {
		o = ev_get(r, b->u.o[i].k->u.s, b->u.o[i].k->n);
		if (o != NULL && o->t == T_OBJ && b->u.o[i].v->t == T_OBJ) {
			if ((o = deepmerge(x, o, b->u.o[i].v)) == NULL)
				return NULL;
			ev_set(r, b->u.o[i].k, o);
		} else
			ev_set(r, b->u.o[i].k, b->u.o[i].v);
	}
	return r;
}

static struct val *
strsplit(struct ds_expr *x, struct val *s, struct val *sep)
{
	struct vlist l = { 0 };
	size_t i, k, start;
	const char *q;

	if (s->n == 0)
		return ev_arr(&x->a, 0);
	if (sep->n == 0) {
		/* "" splits into characters */
		for (i = 0; i < s->n; i += k) {
			if ((k = ds_utf8_len((const unsigned char *)s->u.s + i,
			    s->n - i)) == 0)
				k = 1;
			ex_vladd(x, &l, ev_strref(&x->a, s->u.s + i, k,
			    s->safe));
		}
		return ex_vlarray(x, &l);
	}
	for (start = 0; ; start = i + sep->n) {
		q = s->n - start >= sep->n ? memmem(s->u.s + start,
		    s->n - start, sep->u.s, sep->n) : NULL;
		i = q ? (size_t)(q - s->u.s) : s->n;
		ex_vladd(x, &l, ev_strref(&x->a, s->u.s + start, i - start,
		    s->safe));
		if (q == NULL)
			return ex_vlarray(x, &l);
	}
}

/* s * num: (int)num copies of s, as jq 1.7 (jq 1.6 gives null for
 * 0 <= num < 1); null when num < 0; a result longer than a line may
 * be is an error */
static struct val *
strrepeat(struct ds_expr *x, struct val *s, double num)
{
	char *buf;
	int64_t c, i;

	if (isnan(num) || num < 0)
		return &ev_null;
	if (floor(num) * s->n >= (double)x->maxline)
		return ex_err(x, "Repeat string result too long");
	c = s->n == 0 ? 0 : (int64_t)num;
	buf = ea_alloc(&x->a, (size_t)(s->n * c) + 1);
	for (i = 0; i < c; i++)
		memcpy(buf + (size_t)i * s->n, s->u.s, s->n);
	return ev_strref(&x->a, buf, (size_t)(s->n * c), s->safe);
}

struct val *
ex_arith(struct ds_expr *x, int op, struct val *a, struct val *b)
{
	struct val *r;
	uint32_t i, j, n;

	switch (op) {
	case B_EQ: return ex_deepchk(x, ev_bool(ev_cmp(a, b) == 0));
	case B_NE: return ex_deepchk(x, ev_bool(ev_cmp(a, b) != 0));
	case B_LT: return ex_deepchk(x, ev_bool(ev_cmp(a, b) < 0));
	case B_LE: return ex_deepchk(x, ev_bool(ev_cmp(a, b) <= 0));
	case B_GT: return ex_deepchk(x, ev_bool(ev_cmp(a, b) > 0));
	case B_GE: return ex_deepchk(x, ev_bool(ev_cmp(a, b) >= 0));
	}
	if (a->t == T_NUM && b->t == T_NUM) {
		switch (op) {
		case B_ADD: return ev_num(&x->a, a->u.d + b->u.d);
		case B_SUB: return ev_num(&x->a, a->u.d - b->u.d);
		case B_MUL: return ev_num(&x->a, a->u.d * b->u.d);
		case B_DIV:
			if (b->u.d == 0)
				goto divzero;
			return ev_num(&x->a, a->u.d / b->u.d);
		case B_MOD: {
			int64_t ia, ib;

			/* jq: both truncated to integers; NaN gives NaN */
			if (isnan(a->u.d) || isnan(b->u.d))
				return ev_num(&x->a, NAN);
			ia = ex_dtoi(a->u.d);
			ib = ex_dtoi(b->u.d);
			if (ib == 0)
				goto divzero;
			if (ib == -1)
				return ev_num(&x->a, 0);
			return ev_num(&x->a, (double)(ia % ib));
		}
		}
	}
	switch (op) {
	case B_ADD:
		if (a->t == T_NULL)
			return b;
		if (b->t == T_NULL)
			return a;
		if (a->t == T_STR && b->t == T_STR)
			return concat(x, a, b);
		if (a->t == T_ARR && b->t == T_ARR) {
			r = ev_arr(&x->a, a->n + b->n);
			if (a->n)
				memcpy(r->u.a, a->u.a, a->n * sizeof(*r->u.a));
			if (b->n)
				memcpy(r->u.a + a->n, b->u.a,
				    b->n * sizeof(*r->u.a));
			return r;
		}
		if (a->t == T_OBJ && b->t == T_OBJ) {
			r = ev_objcopy(&x->a, a, b->n);
			for (i = 0; i < b->n; i++)
				ev_set(r, b->u.o[i].k, b->u.o[i].v);
			return r;
		}
		return ex_err(x, "%s and %s cannot be added", ex_desc(x, a),
		    ex_desc(x, b));
	case B_SUB:
		if (a->t == T_ARR && b->t == T_ARR) {
			r = ev_arr(&x->a, a->n);
			for (n = i = 0; i < a->n; i++) {
				for (j = 0; j < b->n; j++)
					if (ev_cmp(a->u.a[i], b->u.a[j]) == 0)
						break;
				if (j == b->n)
					r->u.a[n++] = a->u.a[i];
			}
			r->n = n;
			return ex_deepchk(x, r);
		}
		return ex_err(x, "%s and %s cannot be subtracted",
		    ex_desc(x, a), ex_desc(x, b));
	case B_MUL:
		if (a->t == T_STR && b->t == T_NUM)
			return strrepeat(x, a, b->u.d);
		if (a->t == T_NUM && b->t == T_STR)
			return strrepeat(x, b, a->u.d);
		if (a->t == T_OBJ && b->t == T_OBJ)
			return deepmerge(x, a, b);
		return ex_err(x, "%s and %s cannot be multiplied",
		    ex_desc(x, a), ex_desc(x, b));
	case B_DIV:
		if (a->t == T_STR && b->t == T_STR)
			return strsplit(x, a, b);
		return ex_err(x, "%s and %s cannot be divided", ex_desc(x, a),
		    ex_desc(x, b));
	case B_MOD:
		return ex_err(x, "%s and %s cannot be divided", ex_desc(x, a),
		    ex_desc(x, b));
	}
	return ex_err(x, "bad operator");
divzero:
	return ex_err(x, "%s and %s cannot be divided%s because the divisor "
	    "is zero", ex_desc(x, a), ex_desc(x, b),
	    op == B_MOD ? " (remainder)" : "");
}

void
ex_vladd(struct ds_expr *x, struct vlist *l, struct val *v)
{
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 8;
		struct val **nv = ea_alloc(&x->a, cap * sizeof(*nv));

		if (l->n)
			memcpy(nv, l->v, l->n * sizeof(*nv));
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = v;
}

struct val *
ex_vlarray(struct ds_expr *x, struct vlist *l)
{
	struct val *r = ev_arr(&x->a, l->n);

	if (l->n)
		memcpy(r->u.a, l->v, l->n * sizeof(*l->v));
	return r;
}

/* v with the value at path[i..] replaced by nv (copies along the path). */
static struct val *
setpath(struct ds_expr *x, struct val *v, struct val *path, uint32_t i,
    struct val *nv)
{
	struct val *key, *child, *r;
	double d;
	int64_t idx;

	if (i == path->n)
		return nv;
	if (ev_deep())
		return ex_err(x, TOODEEP);
	key = path->u.a[i];
	if (key->t == T_STR) {
		if (v->t != T_OBJ && v->t != T_NULL)
			return ex_index(x, v, key);	/* its error */
		child = v->t == T_OBJ ? ev_get(v, key->u.s, key->n) : NULL;
		if ((child = setpath(x, child ? child : &ev_null, path, i + 1,
		    nv)) == NULL)
			return NULL;
		r = v->t == T_OBJ ? ev_objcopy(&x->a, v, 1) : ev_obj(&x->a, 1);
		ev_set(r, key, child);
		return r;
	}
	if (key->t == T_NUM) {
		if (v->t != T_ARR && v->t != T_NULL)
			return ex_err(x, "Cannot index %s with number",
			    ex_typename(v));
		d = floor(key->u.d);
		if (isnan(d))
			return ex_err(x, "Cannot set array element at NaN index");
		if (d < 0)
			d += v->t == T_ARR ? v->n : 0;
		if (d < 0)
			return ex_err(x, "Out of bounds negative array index");
		if (d > 1e8)
			return ex_err(x, "Array index too large");
		idx = (int64_t)d;
		child = v->t == T_ARR && idx < v->n ? v->u.a[idx] : &ev_null;
		if ((child = setpath(x, child, path, i + 1, nv)) == NULL)
			return NULL;
		r = ev_arr(&x->a, v->t == T_ARR && (uint32_t)idx < v->n ?
		    v->n : (uint32_t)idx + 1);
		if (v->t == T_ARR && v->n)
			memcpy(r->u.a, v->u.a, v->n * sizeof(*r->u.a));
		for (uint32_t j = v->t == T_ARR ? v->n : 0; j < r->n; j++)
			r->u.a[j] = &ev_null;
		r->u.a[idx] = child;
		return r;
	}
	if (key->t == T_OBJ) {
		int64_t fi, ei;
		uint32_t len = v->t == T_ARR ? v->n : 0;

		if (v->t == T_STR)
			return ex_err(x, "Cannot update string slices");
		if (v->t != T_ARR && v->t != T_NULL)
			return ex_err(x, "Cannot update field at object index "
			    "of %s", ex_typename(v));
		if (slicebounds(x, len, slicekey(key, "start"),
		    slicekey(key, "end"), &fi, &ei) == -1)
			return NULL;
		r = ev_arr(&x->a, (uint32_t)(ei - fi));
		if (ei > fi)
			memcpy(r->u.a, v->u.a + fi, (ei - fi) * sizeof(*r->u.a));
		if ((child = setpath(x, r, path, i + 1, nv)) == NULL)
			return NULL;
		if (child->t != T_ARR)
			return ex_err(x, "A slice of an array can only be "
			    "assigned another array");
		r = ev_arr(&x->a, len - (uint32_t)(ei - fi) + child->n);
		if (fi > 0)
			memcpy(r->u.a, v->u.a, fi * sizeof(*r->u.a));
		if (child->n)
			memcpy(r->u.a + fi, child->u.a,
			    child->n * sizeof(*r->u.a));
		if (len > ei)
			memcpy(r->u.a + fi + child->n, v->u.a + ei,
			    (len - ei) * sizeof(*r->u.a));
		return r;
	}
	return ex_err(x, "Invalid path component");
}

struct val *
ex_setpath(struct ds_expr *x, struct val *v, struct val *path,
    struct val *nv)
{
	/* each step of a path is a level of the value it builds */
	if (path->n > (uint32_t)x->maxdepth)
		return ex_err(x, TOOBIG, x->maxdepth);
	return ex_depthchk(x, setpath(x, v, path, 0, nv));
}

struct val *
ex_getpath(struct ds_expr *x, struct val *v, struct val *path)
{
	uint32_t i;

	for (i = 0; i < path->n && v != NULL; i++)
		v = v->t == T_NULL ? &ev_null : ex_index(x, v, path->u.a[i]);
	return v;
}

static int
pathcmp_desc(const void *a, const void *b)
{
	return -ev_cmp(*(struct val *const *)a, *(struct val *const *)b);
}

/* v without the value at path[i..] (copies along the path) */
static struct val *
delpath(struct ds_expr *x, struct val *v, struct val *path, uint32_t i)
{
	struct val *key = path->u.a[i], *c, *r;
	uint32_t j, n;
	int64_t idx;

	if (v->t == T_NULL)
		return v;
	if (ev_deep())
		return ex_err(x, TOODEEP);
	if (key->t == T_STR && v->t == T_OBJ) {
		if ((c = ev_get(v, key->u.s, key->n)) == NULL)
			return v;
		r = ev_obj(&x->a, v->n);
		for (j = 0; j < v->n; j++) {
			if (v->u.o[j].k->n == key->n && memcmp(v->u.o[j].k->u.s,
			    key->u.s, key->n) == 0) {
				if (i + 1 == path->n)
					continue;
				if ((c = delpath(x, c, path, i + 1)) == NULL)
					return NULL;
				r->u.o[r->n].k = key;
				r->u.o[r->n++].v = c;
			} else
				r->u.o[r->n++] = v->u.o[j];
		}
		return r;
	}
	if (key->t == T_NUM && v->t == T_ARR) {
		if (isnan(key->u.d))
			return v;	/* no element is at NaN */
		idx = ex_dtoi(floor(key->u.d));
		if (idx < 0)
			idx += v->n;
		if (idx < 0 || idx >= v->n)
			return v;
		r = ev_arr(&x->a, v->n);
		for (n = j = 0; j < v->n; j++) {
			if ((int64_t)j != idx) {
				r->u.a[n++] = v->u.a[j];
				continue;
			}
			if (i + 1 == path->n)
				continue;
			if ((c = delpath(x, v->u.a[j], path, i + 1)) == NULL)
				return NULL;
			r->u.a[n++] = c;
		}
		r->n = n;
		return r;
	}
	return ex_err(x, "Cannot delete field at %s index of %s",
	    ex_typename(key), ex_typename(v));
}

/* add p to l with its array indices made absolute in v (a slice at
 * the end: one path per element) */
static int
abspath(struct ds_expr *x, struct val *v, struct val *p, struct vlist *l)
{
	struct val *q, *k;
	uint32_t i;
	int64_t fi, ei;

	q = ev_arr(&x->a, p->n);
	for (i = 0; i < p->n; i++) {
		k = p->u.a[i];
		if (v->t == T_ARR && k->t == T_NUM && k->u.d < 0)
			k = ev_num(&x->a, k->u.d + v->n);
		else if (v->t == T_ARR && k->t == T_OBJ && i + 1 == p->n) {
			if (slicebounds(x, v->n, slicekey(k, "start"),
			    slicekey(k, "end"), &fi, &ei) == -1)
				return -1;
			for (; fi < ei; fi++) {
				struct val *c = ev_arr(&x->a, p->n);

				memcpy(c->u.a, q->u.a, i * sizeof(*c->u.a));
				c->u.a[i] = ev_num(&x->a, fi);
				ex_vladd(x, l, c);
			}
			return 0;
		}
		q->u.a[i] = k;
		v = v->t == T_ARR || v->t == T_OBJ ? ex_index(x, v, k) : NULL;
		if (v == NULL) {
			x->errv = NULL;
			v = &ev_null;
		}
	}
	ex_vladd(x, l, q);
	return 0;
}

/* v without the values at the paths (deepest and last first, as jq) */
struct val *
ex_delpaths(struct ds_expr *x, struct val *v, struct val *paths)
{
	struct vlist l = { 0 };
	struct val **ps;
	uint32_t i;

	if (paths->t != T_ARR)
		return ex_err(x, "Paths must be specified as an array");
	/* jq deletes them all at once: negative indices count from the
	 * end of the original, a slice is its elements */
	for (i = 0; i < paths->n; i++) {
		if (paths->u.a[i]->t != T_ARR)
			return ex_err(x, "Path must be specified as an array");
		if (abspath(x, v, paths->u.a[i], &l) == -1)
			return NULL;
	}
	ps = l.v;
	if (l.n > 1)
		qsort(ps, l.n, sizeof(*ps), pathcmp_desc);
	if (ex_deepchk(x, &ev_null) == NULL)
		return NULL;
	for (i = 0; i < l.n && v != NULL; i++)
		v = ps[i]->n == 0 ? &ev_null : delpath(x, v, ps[i], 0);
	return v;
}

/* jq's indices: of a substring (byte offsets), a subarray, an element */
struct val *
ex_indices(struct ds_expr *x, struct val *a, struct val *b)
{
	struct val *r;
	uint32_t i, j, n = 0;

	if (a->t == T_NULL)
		return &ev_null;
	if (a->t == T_STR && b->t == T_STR) {
		if (b->n == 0)
			return &ev_null;
		r = ev_arr(&x->a, a->n);
		for (i = 0; i + b->n <= a->n; i++)
			if (memcmp(a->u.s + i, b->u.s, b->n) == 0)
				r->u.a[n++] = ev_num(&x->a, i);
		r->n = n;
		return r;
	}
	if (a->t == T_ARR && b->t == T_ARR) {
		if (b->n == 0)
			return &ev_null;
		r = ev_arr(&x->a, a->n);
		for (i = 0; i + b->n <= a->n; i++) {
			for (j = 0; j < b->n; j++)
				if (ev_cmp(a->u.a[i + j], b->u.a[j]) != 0)
					break;
			if (j == b->n)
				r->u.a[n++] = ev_num(&x->a, i);
		}
		r->n = n;
		return ex_deepchk(x, r);
	}
	if (a->t == T_ARR) {
		r = ev_arr(&x->a, a->n);
		for (i = 0; i < a->n; i++)
			if (ev_cmp(a->u.a[i], b) == 0)
				r->u.a[n++] = ev_num(&x->a, i);
		r->n = n;
		return ex_deepchk(x, r);
	}
	return ex_index(x, a, b);	/* jq's fallback: .[$i] */
}

static int
sentcmp(const void *a, const void *b)
{
	const struct sent *p = a, *q = b;
	int r = ev_cmp(p->key, q->key);

	return r ? r : p->i < q->i ? -1 : p->i > q->i;
}

int
ex_sort(struct ds_expr *x, struct sent *s, uint32_t n)
{
	qsort(s, n, sizeof(*s), sentcmp);
	return ex_deepchk(x, &ev_null) == NULL ? -1 : 0;
}
