/*
 * exprfn.c -- the builtins of the jq language on values (see exprint.h
 * for the layers): value functions (one output per argument
 * combination), generators (match, range, ...), and the table the
 * compiler looks names up in.  The builtins that take filters are
 * special.c's and path.c's; the table names them by their SP_ id.
 */
#include <ctype.h>
#include <err.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jq/jq.h"
#include "jq/exprint.h"

#define A	(&x->a)

static struct val *
vstr(struct ds_expr *x, const char *s)
{
	return ev_str(A, s, strlen(s));
}

/* ------------------------------------------------------------ basics */

static struct val *
f_length(struct ds_expr *x, struct val *in, struct val **av)
{
	switch (in->t) {
	case T_NULL:
		return ev_num(A, 0);
	case T_NUM:
		return ev_num(A, fabs(in->u.d));
	case T_STR:
		return ev_num(A, ex_cplen(in->u.s, in->n));
	case T_ARR:
	case T_OBJ:
		return ev_num(A, in->n);
	}
	return ex_err(x, "%s has no length", ex_desc(x, in));
}

static struct val *
f_utf8bytelength(struct ds_expr *x, struct val *in, struct val **av)
{
	if (in->t != T_STR)
		return ex_err(x, "%s only strings have UTF-8 byte length",
		    ex_desc(x, in));
	return ev_num(A, in->n);
}

static struct val *
f_not(struct ds_expr *x, struct val *in, struct val **av)
{
	return ev_bool(!ev_truthy(in));
}

static struct val *
f_type(struct ds_expr *x, struct val *in, struct val **av)
{
	return vstr(x, ex_typename(in));
}

static struct val *
keys(struct ds_expr *x, struct val *in, int sorted)
{
	struct val *r;
	struct kv *s;
	uint32_t i;

	if (in->t == T_OBJ) {
		r = ev_arr(A, in->n);
		s = sorted ? ev_sorted(A, in) : in->u.o;
		for (i = 0; i < in->n; i++)
			r->u.a[i] = s[i].k;
		return r;
	}
	if (in->t == T_ARR) {
		r = ev_arr(A, in->n);
		for (i = 0; i < in->n; i++)
			r->u.a[i] = ev_num(A, i);
		return r;
	}
	return ex_err(x, "%s has no keys", ex_desc(x, in));
}

static struct val *
f_keys(struct ds_expr *x, struct val *in, struct val **av)
{
	return keys(x, in, 1);
}

static struct val *
f_keys_unsorted(struct ds_expr *x, struct val *in, struct val **av)
{
	return keys(x, in, 0);
}

static struct val *
f_has(struct ds_expr *x, struct val *in, struct val **av)
{
	struct val *k = av[0];

	if (in->t == T_NULL)		/* jq's jv_has: false, whatever k */
		return ev_bool(0);
	if (in->t == T_OBJ && k->t == T_STR)
		return ev_bool(ev_get(in, k->u.s, k->n) != NULL);
	if (in->t == T_ARR && k->t == T_NUM)
		return ev_bool(k->u.d >= 0 && k->u.d < in->n);
	return ex_err(x, "Cannot check whether %s has a %s key",
	    ex_typename(in), ex_typename(k));
}

static struct val *
f_tostring(struct ds_expr *x, struct val *in, struct val **av)
{
	return in->t == T_STR ? in : ex_tojson(x, in);
}

static struct val *
f_tojson(struct ds_expr *x, struct val *in, struct val **av)
{
	return ex_tojson(x, in);
}

static struct val *
f_fromjson(struct ds_expr *x, struct val *in, struct val **av)
{
	char msg[128];
	struct val *v;

	if (in->t != T_STR)
		return ex_err(x, "%s cannot be parsed as JSON", ex_desc(x, in));
	if ((v = ev_parse(A, in->u.s, in->n, x->maxdepth, msg,
	    sizeof(msg))) == NULL)
		return ex_err(x, "%s (while parsing '%.*s')", msg,
		    (int)(in->n > 200 ? 200 : in->n), in->u.s);
	return v;
}

static struct val *
f_tonumber(struct ds_expr *x, struct val *in, struct val **av)
{
	char buf[64], *end;
	size_t i = 0, n;
	double d;

	if (in->t == T_NUM)
		return in;
	if (in->t != T_STR)
		return ex_err(x, "%s cannot be parsed as a number",
		    ex_desc(x, in));
	/* jq reads a number token as strtod does: ".89", "+5", "1." */
	n = in->n;
	while (i < n && isspace((unsigned char)in->u.s[i]))
		i++;
	while (n > i && isspace((unsigned char)in->u.s[n - 1]))
		n--;
	if (n - i == 0 || n - i >= sizeof(buf) ||
	    strspn(in->u.s + i, "0123456789+-.eE") < n - i)
		goto bad;
	memcpy(buf, in->u.s + i, n - i);
	buf[n - i] = '\0';
	d = strtod(buf, &end);
	if (*end != '\0')
		goto bad;
	return ev_num(A, d);
bad:
	return ex_err(x, "Cannot parse '%.*s' as a number",
	    (int)(in->n > 200 ? 200 : in->n), in->u.s);
}

static struct val *
f_add(struct ds_expr *x, struct val *in, struct val **av)
{
	struct val *acc = &ev_null;
	uint32_t i;

	if (in->t != T_ARR && in->t != T_OBJ)
		return ex_err(x, "Cannot iterate over %s", ex_desc(x, in));
	for (i = 0; i < in->n; i++)
		if ((acc = ex_arith(x, B_ADD, acc, in->t == T_ARR ?
		    in->u.a[i] : in->u.o[i].v)) == NULL)
			return NULL;
	return acc;
}

static struct val *
anyall(struct ds_expr *x, struct val *in, int any)
{
	uint32_t i;

	if (in->t != T_ARR && in->t != T_OBJ)
		return ex_err(x, "Cannot iterate over %s", ex_desc(x, in));
	for (i = 0; i < in->n; i++)
		if (ev_truthy(in->t == T_ARR ? in->u.a[i] : in->u.o[i].v) ==
		    any)
			return ev_bool(any);
	return ev_bool(!any);
}

static struct val *
f_any(struct ds_expr *x, struct val *in, struct val **av)
{
	return anyall(x, in, 1);
}

static struct val *
f_all(struct ds_expr *x, struct val *in, struct val **av)
{
	return anyall(x, in, 0);
}

static struct val *
minmax(struct ds_expr *x, struct val *in, int max)
{
	struct val *best;
	uint32_t i;
	int c;

	if (in->t != T_ARR)
		return ex_err(x, "%s cannot be sorted, as it is not an array",
		    ex_desc(x, in));
	if (in->n == 0)
		return &ev_null;
	best = in->u.a[0];
	for (i = 1; i < in->n; i++) {
		c = ev_cmp(in->u.a[i], best);
		if (max ? c >= 0 : c < 0)
			best = in->u.a[i];
	}
	return best;
}

static struct val *
f_min(struct ds_expr *x, struct val *in, struct val **av)
{
	return minmax(x, in, 0);
}

static struct val *
f_max(struct ds_expr *x, struct val *in, struct val **av)
{
	return minmax(x, in, 1);
}

static struct val *
sorted(struct ds_expr *x, struct val *in, int uniq)
{
	struct sent *e;
	struct val *r;
	uint32_t i, n;

	if (in->t != T_ARR)
		return ex_err(x, "%s cannot be sorted, as it is not an array",
		    ex_desc(x, in));
	e = ea_alloc(A, (in->n + 1) * sizeof(*e));
	for (i = 0; i < in->n; i++) {
		e[i].key = e[i].v = in->u.a[i];
		e[i].i = i;
	}
	if (ex_sort(x, e, in->n) == -1)
		return NULL;
	r = ev_arr(A, in->n);
	for (n = i = 0; i < in->n; i++)
		if (!uniq || n == 0 || ev_cmp(r->u.a[n - 1], e[i].v) != 0)
			r->u.a[n++] = e[i].v;
	r->n = n;
	return r;
}

static struct val *
f_sort(struct ds_expr *x, struct val *in, struct val **av)
{
	return sorted(x, in, 0);
}

static struct val *
f_unique(struct ds_expr *x, struct val *in, struct val **av)
{
	return sorted(x, in, 1);
}

static struct val *
f_reverse(struct ds_expr *x, struct val *in, struct val **av)
{
	struct val *r;
	uint32_t i;

	/* jq's [.[length - 1 - range(0; length)]]: nothing to index in
	 * what has no length, even where indexing would fail */
	if (in->t == T_NULL || (in->t == T_OBJ && in->n == 0) ||
	    (in->t == T_NUM && in->u.d == 0))
		return ev_arr(A, 0);
	if (in->t == T_STR) {
		char *s = ea_alloc(A, in->n + 1), *o = s + in->n;
		size_t k;

		for (i = 0; i < in->n; i += (uint32_t)k) {
			k = ds_utf8_len((const unsigned char *)in->u.s + i,
			    in->n - i);
			if (k == 0)
				k = 1;
			o -= k;
			memcpy(o, in->u.s + i, k);
		}
		return ev_strref(A, s, in->n, in->safe);
	}
	if (in->t != T_ARR)
		return ex_err(x, "Cannot reverse %s", ex_desc(x, in));
	r = ev_arr(A, in->n);
	for (i = 0; i < in->n; i++)
		r->u.a[i] = in->u.a[in->n - 1 - i];
	return r;
}

static struct val *
num1(struct ds_expr *x, struct val *in, const char *name, double (*fn)(double))
{
	if (in->t != T_NUM)
		return ex_err(x, "%s number required", ex_desc(x, in));
	return ev_num(A, fn(in->u.d));
}

#define MATH1(name) \
static struct val * \
f_##name(struct ds_expr *x, struct val *in, struct val **av) \
{ \
	return num1(x, in, #name, name); \
}
MATH1(floor)
MATH1(ceil)
MATH1(round)
MATH1(sqrt)
MATH1(fabs)
MATH1(log)
MATH1(log10)
MATH1(log2)
MATH1(exp)
MATH1(exp10)
MATH1(exp2)
MATH1(trunc)
MATH1(sin)
MATH1(cos)
MATH1(tan)
MATH1(asin)
MATH1(acos)
MATH1(atan)
MATH1(sinh)
MATH1(cosh)
MATH1(tanh)
MATH1(asinh)
MATH1(acosh)
MATH1(atanh)
MATH1(cbrt)
MATH1(expm1)
MATH1(log1p)
MATH1(rint)
MATH1(nearbyint)
MATH1(significand)
MATH1(logb)
MATH1(lgamma)
MATH1(tgamma)
MATH1(j0)
MATH1(j1)
MATH1(y0)
MATH1(y1)

/* scalbln's exponent is a long */
static double
dscalbln(double x, double e)
{
	return scalbln(x, (long)ex_dtoi(e));
}

#define MATH2F(name, fn) \
static struct val * \
f_##name(struct ds_expr *x, struct val *in, struct val **av) \
{ \
	if (av[0]->t != T_NUM || av[1]->t != T_NUM) \
		return ex_err(x, #name "/2 requires numbers"); \
	return ev_num(A, fn(av[0]->u.d, av[1]->u.d)); \
}
#define MATH2(name)	MATH2F(name, name)
MATH2(atan2)
MATH2(fmin)
MATH2(fmax)
MATH2(fmod)
MATH2(copysign)
MATH2(nextafter)
MATH2(nexttoward)
MATH2(hypot)
MATH2(fdim)
MATH2F(drem, remainder)	/* drem is remainder's old name */
MATH2(scalb)
MATH2F(scalbln, dscalbln)

static struct val *
f_fma(struct ds_expr *x, struct val *in, struct val **av)
{
	if (av[0]->t != T_NUM || av[1]->t != T_NUM || av[2]->t != T_NUM)
		return ex_err(x, "fma/3 requires numbers");
	return ev_num(A, fma(av[0]->u.d, av[1]->u.d, av[2]->u.d));
}

/* frexp, modf, lgamma_r: a number in, a pair [r, e] out */
static double
dfrexp(double d, double *e)
{
	int i;

	d = frexp(d, &i);
	*e = i;
	return d;
}

static double
dlgamma_r(double d, double *sign)
{
	int i;

	d = lgamma_r(d, &i);
	*sign = i;
	return d;
}

static struct val *
num2out(struct ds_expr *x, struct val *in, double (*fn)(double, double *))
{
	struct val *r;
	double e;

	if (in->t != T_NUM)
		return ex_err(x, "%s number required", ex_desc(x, in));
	r = ev_arr(A, 2);
	r->u.a[0] = ev_num(A, fn(in->u.d, &e));
	r->u.a[1] = ev_num(A, e);
	return r;
}

static struct val *
f_frexp(struct ds_expr *x, struct val *in, struct val **av)
{
	return num2out(x, in, dfrexp);
}

static struct val *
f_modf(struct ds_expr *x, struct val *in, struct val **av)
{
	return num2out(x, in, modf);
}

static struct val *
f_lgamma_r(struct ds_expr *x, struct val *in, struct val **av)
{
	return num2out(x, in, dlgamma_r);
}

static struct val *
f_ldexp(struct ds_expr *x, struct val *in, struct val **av)
{
	if (av[0]->t != T_NUM || av[1]->t != T_NUM)
		return ex_err(x, "ldexp/2 requires numbers");
	return ev_num(A, ldexp(av[0]->u.d, (int)ex_dtoi(av[1]->u.d)));
}

static struct val *
f_indices(struct ds_expr *x, struct val *in, struct val **av)
{
	return ex_indices(x, in, av[0]);
}

static struct val *
f_setpath(struct ds_expr *x, struct val *in, struct val **av)
{
	if (av[0]->t != T_ARR)
		return ex_err(x, "Path must be specified as an array");
	return ex_setpath(x, in, av[0], av[1]);
}


static struct val *
f_pow(struct ds_expr *x, struct val *in, struct val **av)
{
	if (av[0]->t != T_NUM || av[1]->t != T_NUM)
		return ex_err(x, "pow/2 requires numbers");
	return ev_num(A, pow(av[0]->u.d, av[1]->u.d));
}

static struct val *
f_infinite(struct ds_expr *x, struct val *in, struct val **av)
{
	return ev_num(A, INFINITY);
}

static struct val *
f_nan(struct ds_expr *x, struct val *in, struct val **av)
{
	return ev_num(A, NAN);
}

static struct val *
f_isnan(struct ds_expr *x, struct val *in, struct val **av)
{
	if (in->t != T_NUM)
		return ex_err(x, "%s number required", ex_desc(x, in));
	return ev_bool(isnan(in->u.d));
}

static struct val *
f_isinfinite(struct ds_expr *x, struct val *in, struct val **av)
{
	if (in->t != T_NUM)
		return ex_err(x, "%s number required", ex_desc(x, in));
	return ev_bool(isinf(in->u.d));
}

static struct val *
f_now(struct ds_expr *x, struct val *in, struct val **av)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ev_num(A, ts.tv_sec + ts.tv_nsec / 1e9);
}

static struct val *
f_error1(struct ds_expr *x, struct val *in, struct val **av)
{
	x->errv = av[0];
	return NULL;
}

/* ------------------------------------------------------------ strings */

static struct val *
strcase(struct ds_expr *x, struct val *in, int up, const char *name)
{
	char *s;
	uint32_t i;

	if (in->t != T_STR)
		return ex_err(x, "%s input must be a string", name);
	s = ea_alloc(A, in->n + 1);
	for (i = 0; i < in->n; i++) {
		char c = in->u.s[i];

		if (up && c >= 'a' && c <= 'z')
			c -= 32;
		else if (!up && c >= 'A' && c <= 'Z')
			c += 32;
		s[i] = c;
	}
	return ev_strref(A, s, in->n, in->safe);
}

static struct val *
f_ascii_downcase(struct ds_expr *x, struct val *in, struct val **av)
{
	return strcase(x, in, 0, "ascii_downcase");
}

static struct val *
f_ascii_upcase(struct ds_expr *x, struct val *in, struct val **av)
{
	return strcase(x, in, 1, "ascii_upcase");
}

static struct val *
f_split1(struct ds_expr *x, struct val *in, struct val **av)
{
	if (in->t != T_STR || av[0]->t != T_STR)
		return ex_err(x, "split input and separator must be strings");
	return ex_arith(x, B_DIV, in, av[0]);
}

static struct val *
f_join(struct ds_expr *x, struct val *in, struct val **av)
{
	struct ds_buf b = { 0 };
	struct val *r, *e;
	uint32_t i, n;

	if (in->t != T_ARR && in->t != T_OBJ)
		return ex_err(x, "Cannot iterate over %s", ex_desc(x, in));
	n = in->n;
	for (i = 0; i < n; i++) {
		e = in->t == T_ARR ? in->u.a[i] : in->u.o[i].v;
		if (i > 0) {
			if (av[0]->t != T_STR) {
				ds_buf_free(&b);
				return ex_err(x, "%s and %s cannot be added",
				    "string", ex_desc(x, av[0]));
			}
			ds_buf_add(&b, av[0]->u.s, av[0]->n);
		}
		switch (e->t) {
		case T_NULL:
			break;
		case T_STR:
			ds_buf_add(&b, e->u.s, e->n);
			break;
		case T_NUM:
		case T_TRUE:
		case T_FALSE:
			ev_print(&b, e);
			break;
		default:
			/* jq adds the element to the string so far */
			r = ev_str(A, b.p ? b.p : "", b.len);
			ds_buf_free(&b);
			return ex_err(x, "%s and %s cannot be added",
			    ex_desc(x, r), ex_desc(x, e));
		}
	}
	r = ev_str(A, b.p ? b.p : "", b.len);
	ds_buf_free(&b);
	return r;
}

static int
prefixed(struct val *in, struct val *s, int end)
{
	if (in->t != T_STR || s->t != T_STR || s->n > in->n)
		return 0;
	return memcmp(end ? in->u.s + in->n - s->n : in->u.s, s->u.s,
	    s->n) == 0;
}

static struct val *
f_ltrimstr(struct ds_expr *x, struct val *in, struct val **av)
{
	if (!prefixed(in, av[0], 0))
		return in;
	return ev_strref(A, in->u.s + av[0]->n, in->n - av[0]->n, in->safe);
}

static struct val *
f_rtrimstr(struct ds_expr *x, struct val *in, struct val **av)
{
	if (!prefixed(in, av[0], 1))
		return in;
	return ev_strref(A, in->u.s, in->n - av[0]->n, in->safe);
}

static struct val *
f_startswith(struct ds_expr *x, struct val *in, struct val **av)
{
	if (in->t != T_STR || av[0]->t != T_STR)
		return ex_err(x, "startswith() requires string inputs");
	return ev_bool(prefixed(in, av[0], 0));
}

static struct val *
f_endswith(struct ds_expr *x, struct val *in, struct val **av)
{
	if (in->t != T_STR || av[0]->t != T_STR)
		return ex_err(x, "endswith() requires string inputs");
	return ev_bool(prefixed(in, av[0], 1));
}

static struct val *
f_explode(struct ds_expr *x, struct val *in, struct val **av)
{
	struct val *r;
	uint32_t i, n = 0;
	const unsigned char *s;
	size_t k;
	unsigned cp;

	if (in->t != T_STR)
		return ex_err(x, "%s cannot be exploded", ex_desc(x, in));
	r = ev_arr(A, (uint32_t)ex_cplen(in->u.s, in->n));
	s = (const unsigned char *)in->u.s;
	for (i = 0; i < in->n; i += (uint32_t)k) {
		k = ds_utf8_len(s + i, in->n - i);
		if (k == 0)
			k = 1;
		cp = k == 1 ? s[i] : k == 2 ? (s[i] & 0x1f) << 6 |
		    (s[i + 1] & 0x3f) : k == 3 ? (s[i] & 0x0f) << 12 |
		    (s[i + 1] & 0x3f) << 6 | (s[i + 2] & 0x3f) :
		    (s[i] & 0x07) << 18 | (s[i + 1] & 0x3f) << 12 |
		    (s[i + 2] & 0x3f) << 6 | (s[i + 3] & 0x3f);
		if (n < r->n)
			r->u.a[n++] = ev_num(A, cp);
	}
	r->n = n;
	return r;
}

static struct val *
f_implode(struct ds_expr *x, struct val *in, struct val **av)
{
	char *s, *o;
	uint32_t i;

	if (in->t != T_ARR)
		return ex_err(x, "implode input must be an array");
	o = s = ea_alloc(A, in->n * 4 + 1);
	for (i = 0; i < in->n; i++) {
		double d = in->u.a[i]->u.d;

		/* jq 1.7's message (jq 1.6 stops on an assertion) */
		if (in->u.a[i]->t != T_NUM || isnan(d))
			return ex_err(x, "%s can't be imploded, unicode "
			    "codepoint needs to be numeric",
			    ex_desc(x, in->u.a[i]));
		if (!(d >= 0 && d <= 0x10ffff) || (d >= 0xd800 && d <= 0xdfff))
			d = 0xfffd;
		o += ev_putcp(o, (unsigned)d);
	}
	return ev_strref(A, s, o - s, 0);
}

/* ----------------------------------------------------------- objects */

static struct val *
f_to_entries(struct ds_expr *x, struct val *in, struct val **av)
{
	static struct val kkey = EV_STRLIT("key");
	static struct val kval = EV_STRLIT("value");
	struct val *r, *e;
	uint32_t i;

	if (in->t != T_OBJ && in->t != T_ARR)
		return ex_err(x, "%s has no keys", ex_desc(x, in));
	r = ev_arr(A, in->n);
	for (i = 0; i < in->n; i++) {
		e = ev_obj(A, 2);
		e->n = 2;
		e->u.o[0].k = &kkey;
		e->u.o[1].k = &kval;
		if (in->t == T_OBJ) {
			e->u.o[0].v = in->u.o[i].k;
			e->u.o[1].v = in->u.o[i].v;
		} else {
			e->u.o[0].v = ev_num(A, i);
			e->u.o[1].v = in->u.a[i];
		}
		r->u.a[i] = e;
	}
	return r;
}

/* the first of the names e has, as a chain of jq's // */
static struct val *
entry(struct val *e, const char *const *names)
{
	struct val *v = NULL;

	for (; *names != NULL; names++)
		if ((v = ev_get(e, *names, strlen(*names))) != NULL &&
		    ev_truthy(v))
			break;
	return v ? v : &ev_null;
}

/* jq's .[] as an array: an array itself, an object's values */
static struct val *
elems(struct ds_expr *x, struct val *in)
{
	struct val *r;
	uint32_t i;

	if (in->t == T_ARR)
		return in;
	if (in->t != T_OBJ)
		return ex_err(x, "Cannot iterate over %s", ex_desc(x, in));
	r = ev_arr(A, in->n);
	for (i = 0; i < in->n; i++)
		r->u.a[i] = in->u.o[i].v;
	return r;
}

static struct val *
f_from_entries(struct ds_expr *x, struct val *in, struct val **av)
{
	static const char *knames[] = { "k", "name", "Name", "K", "Key",
	    NULL };
	struct val *r, *e, *k, *v;
	uint32_t i;

	if ((in = elems(x, in)) == NULL)
		return NULL;
	r = ev_obj(A, in->n);
	for (i = 0; i < in->n; i++) {
		e = in->u.a[i];
		if (e->t != T_OBJ) {
			if (e->t == T_NULL)
				return ex_err(x, "Cannot use null (null) as "
				    "object key");
			return ex_err(x, "Cannot index %s with string \"key\"",
			    ex_typename(e));
		}
		/* jq 1.7: .key unless null, else the others; a key that is
		 * not a string is its JSON text */
		if ((k = ev_get(e, "key", 3)) == NULL || k->t == T_NULL)
			k = entry(e, knames);
		if (k->t != T_STR && (k = ex_tojson(x, k)) == NULL)
			return NULL;
		if ((v = ev_get(e, "value", 5)) == NULL &&
		    (v = ev_get(e, "v", 1)) == NULL &&
		    (v = ev_get(e, "Value", 5)) == NULL)
			v = &ev_null;
		ev_set(r, k, v);
	}
	return r;
}

static struct val *
f_first(struct ds_expr *x, struct val *in, struct val **av)
{
	return ex_index(x, in, ev_num(A, 0));
}

static struct val *
f_last(struct ds_expr *x, struct val *in, struct val **av)
{
	return ex_index(x, in, ev_num(A, -1));
}

static struct val *
f_nth(struct ds_expr *x, struct val *in, struct val **av)
{
	return ex_index(x, in, av[0]);
}

/* count (out NULL) or gather the elements; -1 when nested too deeply */
static int
flat(struct val *a, double depth, struct val **out, uint32_t *n)
{
	uint32_t i;

	if (ev_deep())
		return -1;
	for (i = 0; i < a->n; i++) {
		if (a->u.a[i]->t == T_ARR && depth > 0) {
			if (flat(a->u.a[i], depth - 1, out, n) == -1)
				return -1;
		} else {
			if (out != NULL)
				out[*n] = a->u.a[i];
			(*n)++;
		}
	}
	return 0;
}

static struct val *
flatten(struct ds_expr *x, struct val *in, double depth)
{
	struct val *r;
	uint32_t n = 0;

	if ((in = elems(x, in)) == NULL)
		return NULL;
	if (depth < 0)
		return ex_err(x, "flatten depth must not be negative");
	if (flat(in, depth, NULL, &n) == -1)
		return ex_err(x, "value or recursion nested too deeply");
	r = ev_arr(A, n);
	n = 0;
	flat(in, depth, r->u.a, &n);
	return r;
}

static struct val *
f_flatten0(struct ds_expr *x, struct val *in, struct val **av)
{
	return flatten(x, in, 1e9);
}

static struct val *
f_flatten1(struct ds_expr *x, struct val *in, struct val **av)
{
	if (av[0]->t != T_NUM)
		return ex_err(x, "flatten depth must not be negative");
	return flatten(x, in, av[0]->u.d);
}

static int
contains(struct val *a, struct val *b, int *bad)
{
	uint32_t i, j;
	struct val *v;

	if (ev_deep()) {
		*bad = 2;
		return 0;
	}
	if (a->t != b->t && !(a->t <= T_TRUE && b->t <= T_TRUE &&
	    a->t != T_NULL && b->t != T_NULL)) {
		*bad = 1;
		return 0;
	}
	switch (a->t) {
	case T_OBJ:
		for (i = 0; i < b->n; i++) {
			v = ev_get(a, b->u.o[i].k->u.s, b->u.o[i].k->n);
			if (v == NULL || !contains(v, b->u.o[i].v, bad))
				return 0;
		}
		return 1;
	case T_ARR:
		for (i = 0; i < b->n; i++) {
			for (j = 0; j < a->n; j++) {
				int sub = 0;

				if (contains(a->u.a[j], b->u.a[i], &sub) &&
				    !sub)
					break;
				if (sub == 2) {
					*bad = 2;
					return 0;
				}
			}
			if (j == a->n)
				return 0;
		}
		return 1;
	case T_STR:
		return b->n == 0 || (b->n <= a->n &&
		    memmem(a->u.s, a->n, b->u.s, b->n) != NULL);
	default:
		return ev_cmp(a, b) == 0;
	}
}

static struct val *
f_contains(struct ds_expr *x, struct val *in, struct val **av)
{
	int bad = 0, r = contains(in, av[0], &bad);

	if (bad == 2)
		return ex_err(x, "value or recursion nested too deeply");
	if (bad)
		return ex_err(x, "%s and %s cannot have their containment "
		    "checked", ex_desc(x, in), ex_desc(x, av[0]));
	return ev_bool(r);
}

static struct val *
f_inside(struct ds_expr *x, struct val *in, struct val **av)
{
	struct val *b[1] = { in };

	return f_contains(x, av[0], b);
}

/* -------------------------------------------------------------- dates */

static struct val *
tm2val(struct ds_expr *x, const struct tm *tm, double sec)
{
	struct val *r = ev_arr(A, 8);

	r->u.a[0] = ev_num(A, tm->tm_year + 1900.0);
	r->u.a[1] = ev_num(A, tm->tm_mon);
	r->u.a[2] = ev_num(A, tm->tm_mday);
	r->u.a[3] = ev_num(A, tm->tm_hour);
	r->u.a[4] = ev_num(A, tm->tm_min);
	r->u.a[5] = ev_num(A, sec);
	r->u.a[6] = ev_num(A, tm->tm_wday);
	r->u.a[7] = ev_num(A, tm->tm_yday);
	return r;
}

static int
val2tm(struct val *v, struct tm *tm)
{
	uint32_t i;
	double d[8] = { 0 };

	if (v->t != T_ARR || v->n < 6)
		return -1;
	for (i = 0; i < v->n && i < 8; i++) {
		if (v->u.a[i]->t != T_NUM)
			return -1;
		d[i] = v->u.a[i]->u.d;
	}
	for (i = 0; i < 8; i++)
		if (!(fabs(d[i]) < 1e9))
			return -1;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = (int)d[0] - 1900;
	tm->tm_mon = (int)d[1];
	tm->tm_mday = (int)d[2];
	tm->tm_hour = (int)d[3];
	tm->tm_min = (int)d[4];
	tm->tm_sec = (int)d[5];
	tm->tm_wday = (int)d[6];
	tm->tm_yday = (int)d[7];
	return 0;
}

static struct val *
f_strptime(struct ds_expr *x, struct val *in, struct val **av)
{
	char *s, *f, *end;
	struct tm tm;
	time_t t;

	if (in->t != T_STR)
		return ex_err(x, "strptime/1 requires string inputs and "
		    "arguments");
	if (av[0]->t != T_STR)
		return ex_err(x, "strptime/1 requires string inputs and "
		    "arguments");
	s = ea_strdup(A, in->u.s, in->n);
	f = ea_strdup(A, av[0]->u.s, av[0]->n);
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, f, &tm);
	if (end == NULL || *end != '\0')
		return ex_err(x, "date \"%s\" does not match format \"%s\"", s,
		    f);
	/* day of week and of year from the date, as jq does */
	{
		struct tm c = tm;

		t = timegm(&c);
		if (t != (time_t)-1) {
			tm.tm_wday = c.tm_wday;
			tm.tm_yday = c.tm_yday;
		}
	}
	return tm2val(x, &tm, tm.tm_sec);
}

static struct val *
f_mktime(struct ds_expr *x, struct val *in, struct val **av)
{
	struct tm tm;
	time_t t;

	if (in->t != T_ARR)
		return ex_err(x, "mktime requires array of 6 numbers");
	if (val2tm(in, &tm) == -1)
		return ex_err(x, "mktime requires parsed datetime inputs");
	if ((t = timegm(&tm)) == (time_t)-1)
		return ex_err(x, "invalid gmtime representation");
	return ev_num(A, (double)t);
}

static struct val *
f_gmtime(struct ds_expr *x, struct val *in, struct val **av)
{
	struct tm tm;
	time_t t;
	double d;

	if (in->t != T_NUM)
		return ex_err(x, "gmtime() requires a number");
	d = in->u.d;
	if (!(fabs(d) < 1e15))
		return ex_err(x, "gmtime() requires a valid time");
	t = (time_t)floor(d);
	if (gmtime_r(&t, &tm) == NULL)
		return ex_err(x, "errror converting number of seconds since "
		    "epoch to datetime");
	return tm2val(x, &tm, tm.tm_sec + (d - floor(d)));
}

static struct val *
strftime_(struct ds_expr *x, struct val *in, const char *fmt, size_t flen)
{
	char buf[512], *f;
	struct tm tm;
	size_t n;

	if (in->t == T_NUM && (in = f_gmtime(x, in, NULL)) == NULL)
		return NULL;
	if (val2tm(in, &tm) == -1)
		return ex_err(x, "strftime/1 requires parsed datetime inputs");
	f = ea_strdup(A, fmt, flen);
	if ((n = strftime(buf, sizeof(buf), f, &tm)) == 0 && flen > 0)
		return ex_err(x, "strftime/1: unknown system failure");
	return ev_str(A, buf, n);
}

static struct val *
f_strftime(struct ds_expr *x, struct val *in, struct val **av)
{
	if (av[0]->t != T_STR)
		return ex_err(x, "strftime/1 requires a string format");
	if (in->t != T_NUM && in->t != T_ARR)
		return ex_err(x, "strftime/1 requires parsed datetime inputs");
	return strftime_(x, in, av[0]->u.s, av[0]->n);
}

static struct val *
f_todate(struct ds_expr *x, struct val *in, struct val **av)
{
	if (in->t != T_NUM && in->t != T_ARR)
		return ex_err(x, "strftime/1 requires parsed datetime inputs");
	return strftime_(x, in, "%Y-%m-%dT%H:%M:%SZ", 18);
}

static struct val *
f_fromdate(struct ds_expr *x, struct val *in, struct val **av)
{
	static struct val fmt = EV_STRLIT("%Y-%m-%dT%H:%M:%SZ");
	struct val *a[1] = { &fmt }, *t;

	if ((t = f_strptime(x, in, a)) == NULL)
		return NULL;
	return f_mktime(x, t, NULL);
}

/* jq's one-argument form: a regex, or [regex, flags] (a[] out) */
static int
rxarg(struct ds_expr *x, struct val *re, struct val **a)
{
	a[0] = re;
	a[1] = &ev_null;
	if (re->t == T_STR)
		return 0;
	if (re->t == T_ARR && re->n > 0) {
		a[0] = re->u.a[0];
		if (re->n > 1)
			a[1] = re->u.a[1];
		return 0;
	}
	ex_err(x, "%s not a string or array", ex_typename(re));
	return -1;
}

static struct val *
f_test(struct ds_expr *x, struct val *in, struct val **av)
{
	struct val **m;
	int n;

	if (ex_match(x, in, av[0], av[1], 0, &m, &n) != 0)
		return NULL;
	return ev_bool(n > 0);
}

static struct val *
f_test1(struct ds_expr *x, struct val *in, struct val **av)
{
	struct val *a[2];

	if (rxarg(x, av[0], a) == -1)
		return NULL;
	return f_test(x, in, a);
}

static int
g_match(struct ds_expr *x, struct val *in, struct val **av, kfn k, void *ka)
{
	struct val **m;
	int n, i, r;

	if (ex_match(x, in, av[0], av[1], 0, &m, &n) != 0)
		return ST_ERR;
	for (i = 0; i < n; i++)
		if ((r = k(x, m[i], ka)) != 0)
			return r;
	return 0;
}

static int
g_match1(struct ds_expr *x, struct val *in, struct val **av, kfn k, void *ka)
{
	struct val *a[2];

	if (rxarg(x, av[0], a) == -1)
		return ST_ERR;
	return g_match(x, in, a, k, ka);
}

static int
g_capture(struct ds_expr *x, struct val *in, struct val **av, kfn k,
    void *ka)
{
	struct val **m;
	int n, i, r;

	if (ex_match(x, in, av[0], av[1], 0, &m, &n) != 0)
		return ST_ERR;
	for (i = 0; i < n; i++)
		if ((r = k(x, ex_capobj(x, m[i]), ka)) != 0)
			return r;
	return 0;
}

static int
g_capture1(struct ds_expr *x, struct val *in, struct val **av, kfn k,
    void *ka)
{
	struct val *a[2];

	if (rxarg(x, av[0], a) == -1)
		return ST_ERR;
	return g_capture(x, in, a, k, ka);
}

static int
g_scan(struct ds_expr *x, struct val *in, struct val **av, kfn k, void *ka)
{
	struct val **m, *caps, *r;
	int n, i, rc;
	uint32_t j;

	if (ex_match(x, in, av[0], av[1], 1, &m, &n) != 0)
		return ST_ERR;
	for (i = 0; i < n; i++) {
		caps = ev_get(m[i], "captures", 8);
		if (caps->n > 0) {
			r = ev_arr(A, caps->n);
			for (j = 0; j < caps->n; j++)
				r->u.a[j] = ev_get(caps->u.a[j], "string", 6);
		} else
			r = ev_get(m[i], "string", 6);
		if ((rc = k(x, r, ka)) != 0)
			return rc;
	}
	return 0;
}

static int
g_scan1(struct ds_expr *x, struct val *in, struct val **av, kfn k, void *ka)
{
	struct val *a[2] = { av[0], &ev_null };

	return g_scan(x, in, a, k, ka);
}

/* The pieces of in between the matches of av[0] (flags av[1]). */
static int
pieces(struct ds_expr *x, struct val *in, struct val **av, struct val ***out,
    int *nout)
{
	struct val **m, **list, *a[2];
	int n, i;
	size_t prev = 0, off, len;

	if (ex_match(x, in, av[0], av[1], 1, &m, &n) != 0)
		return -1;
	(void)a;
	list = ea_alloc(A, (n + 1) * sizeof(*list));
	for (i = 0; i < n; i++) {
		off = 0;
		{
			int64_t cp = (int64_t)ev_get(m[i], "offset", 6)->u.d;
			int64_t cl = (int64_t)ev_get(m[i], "length", 6)->u.d;
			const char *s = in->u.s;
			size_t j = 0;

			while (j < in->n && cp > 0) {
				j++;
				while (j < in->n &&
				    ((unsigned char)s[j] & 0xc0) == 0x80)
					j++;
				cp--;
			}
			off = j;
			while (j < in->n && cl > 0) {
				j++;
				while (j < in->n &&
				    ((unsigned char)s[j] & 0xc0) == 0x80)
					j++;
				cl--;
			}
			len = j - off;
		}
		list[i] = ev_strref(A, in->u.s + prev, off - prev, in->safe);
		prev = off + len;
	}
	list[n] = ev_strref(A, in->u.s + prev, in->n - prev, in->safe);
	*out = list;
	*nout = n + 1;
	return 0;
}

static int
g_splits(struct ds_expr *x, struct val *in, struct val **av, kfn k, void *ka)
{
	struct val **l;
	int n, i, r;

	if (pieces(x, in, av, &l, &n) != 0)
		return ST_ERR;
	for (i = 0; i < n; i++)
		if ((r = k(x, l[i], ka)) != 0)
			return r;
	return 0;
}

static int
g_splits1(struct ds_expr *x, struct val *in, struct val **av, kfn k,
    void *ka)
{
	struct val *a[2] = { av[0], &ev_null };

	return g_splits(x, in, a, k, ka);
}

static struct val *
f_split2(struct ds_expr *x, struct val *in, struct val **av)
{
	struct val **l, *r;
	int n;

	if (pieces(x, in, av, &l, &n) != 0)
		return NULL;
	r = ev_arr(A, (uint32_t)n);
	memcpy(r->u.a, l, n * sizeof(*l));
	return r;
}

/* --------------------------------------------------------- generators */

static int
g_range(struct ds_expr *x, double from, double upto, double by, kfn k,
    void *ka)
{
	double d;
	int r;

	if (by > 0) {
		for (d = from; d < upto; d += by)
			if ((r = k(x, ev_num(A, d), ka)) != 0)
				return r;
	} else if (by < 0) {
		for (d = from; d > upto; d += by)
			if ((r = k(x, ev_num(A, d), ka)) != 0)
				return r;
	}
	return 0;
}

static int
rangeargs(struct ds_expr *x, struct val **av, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (av[i]->t != T_NUM) {
			ex_err(x, "Range bounds must be numeric");
			return -1;
		}
	return 0;
}

static int
g_range1(struct ds_expr *x, struct val *in, struct val **av, kfn k, void *ka)
{
	if (rangeargs(x, av, 1) == -1)
		return ST_ERR;
	return g_range(x, 0, av[0]->u.d, 1, k, ka);
}

static int
g_range2(struct ds_expr *x, struct val *in, struct val **av, kfn k, void *ka)
{
	if (rangeargs(x, av, 2) == -1)
		return ST_ERR;
	return g_range(x, av[0]->u.d, av[1]->u.d, 1, k, ka);
}

static int
g_range3(struct ds_expr *x, struct val *in, struct val **av, kfn k, void *ka)
{
	if (rangeargs(x, av, 3) == -1)
		return ST_ERR;
	return g_range(x, av[0]->u.d, av[1]->u.d, av[2]->u.d, k, ka);
}

#define TYPEFILTER(name, cond) \
static int \
g_##name(struct ds_expr *x, struct val *in, struct val **av, kfn k, \
    void *ka) \
{ \
	return (cond) ? k(x, in, ka) : 0; \
}
TYPEFILTER(values, in->t != T_NULL)
TYPEFILTER(nulls, in->t == T_NULL)
TYPEFILTER(booleans, in->t == T_TRUE || in->t == T_FALSE)
TYPEFILTER(numbers, in->t == T_NUM)
TYPEFILTER(strings, in->t == T_STR)
TYPEFILTER(arrays, in->t == T_ARR)
TYPEFILTER(objects, in->t == T_OBJ)
TYPEFILTER(iterables, in->t == T_ARR || in->t == T_OBJ)
TYPEFILTER(scalars, in->t != T_ARR && in->t != T_OBJ)


/* ------------------------------------------------------------ formats */

/* -------------------------------------------------------------- table */

#define V(n, a, f)	{ n, a, BK_VAL, f, NULL, 0 }
#define G(n, a, f)	{ n, a, BK_GEN, NULL, f, 0 }
#define S(n, a, s)	{ n, a, BK_SPECIAL, NULL, NULL, s }

const struct builtin ex_builtins[] = {
	V("length", 0, f_length),
	V("utf8bytelength", 0, f_utf8bytelength),
	V("not", 0, f_not),
	V("type", 0, f_type),
	V("keys", 0, f_keys),
	V("keys_unsorted", 0, f_keys_unsorted),
	V("has", 1, f_has),
	V("tostring", 0, f_tostring),
	V("tojson", 0, f_tojson),
	V("fromjson", 0, f_fromjson),
	V("tonumber", 0, f_tonumber),
	V("add", 0, f_add),
	V("min", 0, f_min),
	V("any", 0, f_any),
	V("all", 0, f_all),
	V("max", 0, f_max),
	V("sort", 0, f_sort),
	V("unique", 0, f_unique),
	V("reverse", 0, f_reverse),
	V("floor", 0, f_floor),
	V("ceil", 0, f_ceil),
	V("round", 0, f_round),
	V("sqrt", 0, f_sqrt),
	V("fabs", 0, f_fabs),
	V("log", 0, f_log),
	V("log10", 0, f_log10),
	V("log2", 0, f_log2),
	V("exp", 0, f_exp),
	V("exp10", 0, f_exp10),
	V("exp2", 0, f_exp2),
	V("trunc", 0, f_trunc),
	V("pow", 2, f_pow),
	V("sin", 0, f_sin),
	V("cos", 0, f_cos),
	V("tan", 0, f_tan),
	V("asin", 0, f_asin),
	V("acos", 0, f_acos),
	V("atan", 0, f_atan),
	V("sinh", 0, f_sinh),
	V("cosh", 0, f_cosh),
	V("tanh", 0, f_tanh),
	V("asinh", 0, f_asinh),
	V("acosh", 0, f_acosh),
	V("atanh", 0, f_atanh),
	V("cbrt", 0, f_cbrt),
	V("expm1", 0, f_expm1),
	V("log1p", 0, f_log1p),
	V("rint", 0, f_rint),
	V("nearbyint", 0, f_nearbyint),
	V("significand", 0, f_significand),
	V("logb", 0, f_logb),
	V("gamma", 0, f_lgamma),
	V("lgamma", 0, f_lgamma),
	V("tgamma", 0, f_tgamma),
	V("j0", 0, f_j0),
	V("j1", 0, f_j1),
	V("y0", 0, f_y0),
	V("y1", 0, f_y1),
	V("frexp", 0, f_frexp),
	V("modf", 0, f_modf),
	V("lgamma_r", 0, f_lgamma_r),
	V("nexttoward", 2, f_nexttoward),
	V("fdim", 2, f_fdim),
	V("drem", 2, f_drem),
	V("scalb", 2, f_scalb),
	V("scalbln", 2, f_scalbln),
	V("fma", 3, f_fma),
	V("atan2", 2, f_atan2),
	V("fmin", 2, f_fmin),
	V("fmax", 2, f_fmax),
	V("fmod", 2, f_fmod),
	V("copysign", 2, f_copysign),
	V("nextafter", 2, f_nextafter),
	V("hypot", 2, f_hypot),
	V("ldexp", 2, f_ldexp),
	V("indices", 1, f_indices),
	V("_indices", 1, f_indices),
	V("setpath", 2, f_setpath),
	V("infinite", 0, f_infinite),
	V("nan", 0, f_nan),
	V("isnan", 0, f_isnan),
	V("isinfinite", 0, f_isinfinite),
	V("now", 0, f_now),
	V("error", 1, f_error1),
	V("ascii_downcase", 0, f_ascii_downcase),
	V("ascii_upcase", 0, f_ascii_upcase),
	V("split", 1, f_split1),
	V("split", 2, f_split2),
	V("join", 1, f_join),
	V("ltrimstr", 1, f_ltrimstr),
	V("rtrimstr", 1, f_rtrimstr),
	V("startswith", 1, f_startswith),
	V("endswith", 1, f_endswith),
	V("explode", 0, f_explode),
	V("implode", 0, f_implode),
	V("test", 1, f_test1),
	V("test", 2, f_test),
	V("to_entries", 0, f_to_entries),
	V("from_entries", 0, f_from_entries),
	V("first", 0, f_first),
	V("last", 0, f_last),
	V("nth", 1, f_nth),
	V("flatten", 0, f_flatten0),
	V("flatten", 1, f_flatten1),
	V("contains", 1, f_contains),
	V("inside", 1, f_inside),
	V("strptime", 1, f_strptime),
	V("mktime", 0, f_mktime),
	V("gmtime", 0, f_gmtime),
	V("strftime", 1, f_strftime),
	V("todate", 0, f_todate),
	V("todateiso8601", 0, f_todate),
	V("fromdate", 0, f_fromdate),
	V("fromdateiso8601", 0, f_fromdate),
	G("match", 1, g_match1),
	G("match", 2, g_match),
	G("capture", 1, g_capture1),
	G("capture", 2, g_capture),
	G("scan", 1, g_scan1),
	G("scan", 2, g_scan),
	G("splits", 1, g_splits1),
	G("splits", 2, g_splits),
	G("range", 1, g_range1),
	{ "range", 2, BK_GEN, NULL, g_range2, 1 },	/* $from outermost */
	{ "range", 3, BK_GEN, NULL, g_range3, 1 },
	G("values", 0, g_values),
	G("nulls", 0, g_nulls),
	G("booleans", 0, g_booleans),
	G("numbers", 0, g_numbers),
	G("strings", 0, g_strings),
	G("arrays", 0, g_arrays),
	G("objects", 0, g_objects),
	G("iterables", 0, g_iterables),
	G("scalars", 0, g_scalars),
	S("empty", 0, SP_EMPTY),
	S("error", 0, SP_ERROR0),
	S("select", 1, SP_SELECT),
	S("map", 1, SP_MAP),
	S("map_values", 1, SP_MAPVALUES),
	S("sort_by", 1, SP_SORTBY),
	S("group_by", 1, SP_GROUPBY),
	S("unique_by", 1, SP_UNIQUEBY),
	S("min_by", 1, SP_MINBY),
	S("max_by", 1, SP_MAXBY),
	S("first", 1, SP_FIRSTF),
	S("last", 1, SP_LASTF),
	S("limit", 2, SP_LIMIT),
	S("any", 1, SP_ANYF),
	S("all", 1, SP_ALLF),
	S("isempty", 1, SP_ISEMPTY),
	S("recurse", 0, SP_RECURSE),
	S("path", 1, SP_PATH),
	S("paths", 0, SP_PATHS),
	S("del", 1, SP_DEL),
	S("getpath", 1, SP_GETPATH),
	S("delpaths", 1, SP_DELPATHS),
	S("sub", 2, SP_SUB),
	S("sub", 3, SP_SUB),
	S("gsub", 2, SP_GSUB),
	S("gsub", 3, SP_GSUB),
	{ NULL, 0, 0, NULL, NULL, 0 }
};

/* jq builtins this subset does not have: a compile error names them. */
static const char *unsupported[] = {
	"path", "paths", "leaf_paths", "getpath", "setpath", "delpaths",
	"del", "to_entries", "recurse", "recurse_down", "env", "input",
	"inputs", "debug", "stderr", "input_filename", "input_line_number",
	"tostream", "fromstream", "truncate_stream", "walk", "transpose",
	"combinations", "until", "while", "repeat", "halt", "halt_error",
	"builtins", "indices", "index", "rindex", "in", "isvalid",
	"significand", "gamma", "lgamma", "tgamma", "ldexp",
	"nearbyint", "dateadd", "datesub", "date",
	"localtime", "strflocaltime", "get_search_list", "ascii", "IN",
	"INDEX", "GROUP_BY", "UNIQUE_BY", "ANY", "ALL", "any", "all",
	"splits", "ltrimstr", "tojson", "getpath", "error", "nth", "limit",
	"first", "last", "range", "min_by", "max_by", "test", "match",
	"capture", "scan", "sub", "gsub", "split", "join", "flatten",
	"todate", "fromdate", "strptime", "strftime", "mktime", "gmtime",
	"now", "pick", "abs", "toarray", "have_literal_numbers",
	"have_decnum", "getpath", "ltrimstr", "trim", "ltrim", "rtrim",
	"splits", "significand", "input_line_number", "$__loc__",
	"get_prog_origin", "get_jq_origin", "sql", "isinfinite", "modulemeta",
	"finites", "normals", "objects", "add", "any", "all", "tojson",
	NULL
};

const struct builtin *
ex_lookup(const char *name, int nargs, int *known)
{
	const struct builtin *b;
	int i;

	*known = 0;
	for (b = ex_builtins; b->name != NULL; b++)
		if (strcmp(b->name, name) == 0) {
			if (b->nargs == nargs)
				return b;
			*known = 1;
		}
	for (i = 0; unsupported[i] != NULL; i++)
		if (strcmp(unsupported[i], name) == 0)
			*known = 1;
	return NULL;
}
