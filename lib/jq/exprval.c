/*
 * exprval.c -- the values of the jq language (see exprint.h for the
 * layers): an arena that is reset after every record, so building a
 * record's value tree costs no malloc per node; a validating JSON
 * parser into that arena; the compact printer (jq -c's exact output);
 * jq's total order.
 *
 * Strings parsed from a line point into the line itself when they hold
 * no escape, and are printed back with one memcpy when they need none.
 */
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jq/jq.h"
#include "jq/exprint.h"

struct val ev_null = { .t = T_NULL };
struct val ev_false = { .t = T_FALSE };
struct val ev_true = { .t = T_TRUE };

/* ---------------------------------------------------------------- arena */

#define CHUNK	(64 * 1024)

struct achunk {
	struct achunk	*next;
	size_t		 size;
	char		 mem[];
};

void *
ea_alloc(struct arena *a, size_t n)
{
	struct achunk *c;
	size_t sz;
	void *p;

	n = (n + 7) & ~(size_t)7;
	if ((size_t)(a->e - a->p) >= n) {
		p = a->p;
		a->p += n;
		return p;
	}
	/* reuse the next kept chunk when it is big enough */
	if (a->cur != NULL && a->cur->next != NULL && a->cur->next->size >= n) {
		c = a->cur->next;
	} else {
		sz = n > CHUNK ? n : CHUNK;
		if ((c = malloc(sizeof(*c) + sz)) == NULL)
			err(1, NULL);
		c->size = sz;
		if (a->cur == NULL) {
			c->next = a->head;
			a->head = c;
		} else {
			c->next = a->cur->next;
			a->cur->next = c;
		}
	}
	a->cur = c;
	a->p = c->mem + n;
	a->e = c->mem + c->size;
	return c->mem;
}

void
ea_reset(struct arena *a)
{
	struct achunk *c, *next;

	/* keep the first chunk, free the rest: a huge record must not pin */
	if (a->head == NULL)
		return;
	for (c = a->head->next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head->next = NULL;
	a->cur = a->head;
	a->p = a->head->mem;
	a->e = a->head->mem + a->head->size;
}

void
ea_free(struct arena *a)
{
	struct achunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	memset(a, 0, sizeof(*a));
}

char *
ea_strdup(struct arena *a, const char *s, size_t n)
{
	char *p = ea_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* --------------------------------------------------------- constructors */

struct val *
ev_num(struct arena *a, double d)
{
	struct val *v = ea_alloc(a, sizeof(*v));

	v->t = T_NUM;
	v->safe = 0;
	v->n = 0;
	v->u.d = d;
	return v;
}

/* A string value over s[0..n) (not copied: s must outlive the value). */
struct val *
ev_strref(struct arena *a, const char *s, size_t n, int safe)
{
	struct val *v = ea_alloc(a, sizeof(*v));

	v->t = T_STR;
	v->safe = safe;
	v->n = (uint32_t)n;
	v->u.s = s;
	return v;
}

struct val *
ev_str(struct arena *a, const char *s, size_t n)
{
	return ev_strref(a, ea_strdup(a, s, n), n, 0);
}

struct val *
ev_arr(struct arena *a, uint32_t n)
{
	struct val *v = ea_alloc(a, sizeof(*v));

	v->t = T_ARR;
	v->safe = 0;
	v->depth = 0;
	v->n = n;
	v->u.a = n ? ea_alloc(a, n * sizeof(struct val *)) : NULL;
	return v;
}

struct val *
ev_obj(struct arena *a, uint32_t cap)
{
	struct val *v = ea_alloc(a, sizeof(*v));

	v->t = T_OBJ;
	v->safe = 0;
	v->depth = 0;
	v->n = 0;
	v->u.o = cap ? ea_alloc(a, cap * sizeof(struct kv)) : NULL;
	return v;
}

struct val *
ev_bool(int b)
{
	return b ? &ev_true : &ev_false;
}

/* Find key k in object o; NULL when absent. */
struct val *
ev_get(const struct val *o, const char *k, size_t n)
{
	uint32_t i;

	for (i = o->n; i-- > 0;)
		if (o->u.o[i].k->n == n && memcmp(o->u.o[i].k->u.s, k, n) == 0)
			return o->u.o[i].v;
	return NULL;
}

/*
 * Set key k of object o, which was allocated with room for at least one
 * more member: an existing key keeps its place (as in jq).
 */
void
ev_set(struct val *o, struct val *k, struct val *v)
{
	uint32_t i;

	for (i = 0; i < o->n; i++)
		if (o->u.o[i].k->n == k->n &&
		    memcmp(o->u.o[i].k->u.s, k->u.s, k->n) == 0) {
			o->u.o[i].v = v;
			return;
		}
	o->u.o[o->n].k = k;
	o->u.o[o->n++].v = v;
}

/* A copy of object o with room for extra more members. */
struct val *
ev_objcopy(struct arena *a, const struct val *o, uint32_t extra)
{
	struct val *r = ev_obj(a, o->n + extra);

	if (o->n)
		memcpy(r->u.o, o->u.o, o->n * sizeof(struct kv));
	r->n = o->n;
	return r;
}

/* ---------------------------------------------------------- JSON parse */

/* byte classes inside strings: 0 plain, 1 quote, 2 backslash, 3 control,
 * 4 high bit, 5 DEL (valid but jq prints it escaped) */
static unsigned char scls[256];

static void
initcls(void)
{
	int c;

	if (scls['"'] == 1)
		return;
	for (c = 0; c < 256; c++)
		scls[c] = c < 0x20 ? 3 : c >= 0x80 ? 4 : 0;
	scls['"'] = 1;
	scls['\\'] = 2;
	scls[0x7f] = 5;
}

struct jp {
	const unsigned char *p, *e, *start;
	struct arena *a;
	int depth, maxdepth;
	int deepest;		/* depth reached in the value being read */
	char *msg;
	size_t msglen;
	int failed;
};

static void
jfail(struct jp *j, const char *what)
{
	if (j->failed++)
		return;
	snprintf(j->msg, j->msglen, "%s at byte %zu", what,
	    (size_t)(j->p - j->start) + 1);
}

#define JWS(j) while ((j)->p < (j)->e && (*(j)->p == ' ' || \
	*(j)->p == '\n' || *(j)->p == '\t' || *(j)->p == '\r')) (j)->p++

size_t
ev_putcp(char *u, unsigned cp)
{
	if (cp < 0x80) {
		u[0] = (char)cp;
		return 1;
	} else if (cp < 0x800) {
		u[0] = 0xc0 | (cp >> 6);
		u[1] = 0x80 | (cp & 0x3f);
		return 2;
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | (cp >> 12);
		u[1] = 0x80 | ((cp >> 6) & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	u[0] = 0xf0 | (cp >> 18);
	u[1] = 0x80 | ((cp >> 12) & 0x3f);
	u[2] = 0x80 | ((cp >> 6) & 0x3f);
	u[3] = 0x80 | (cp & 0x3f);
	return 4;
}

static struct val *
jstring(struct jp *j)
{
	const unsigned char *s, *q;
	char *out, *o;
	size_t k;
	int esc = 0, safe = 1, cp, lo;

	s = ++j->p;
	for (;;) {
		while (j->p < j->e && scls[*j->p] == 0)
			j->p++;
		if (j->p >= j->e) {
			jfail(j, "unterminated string");
			return NULL;
		}
		switch (scls[*j->p]) {
		case 1:
			goto done;
		case 2:
			esc = 1;
			if (j->e - j->p < 2)
				goto badesc;
			if (j->p[1] == 'u') {
				if (j->e - j->p < 6 || ds_hex4(j->p + 2) < 0)
					goto badesc;
				j->p += 6;
			} else if (strchr("\"\\/bfnrt", j->p[1]) != NULL &&
			    j->p[1] != '\0')
				j->p += 2;
			else
				goto badesc;
			break;
		case 3:
			jfail(j, "control character in string");
			return NULL;
		case 4:
			if ((k = ds_utf8_len(j->p, j->e - j->p)) == 0) {
				jfail(j, "invalid UTF-8");
				return NULL;
			}
			j->p += k;
			break;
		case 5:
			safe = 0;
			j->p++;
			break;
		}
	}
done:
	q = j->p++;
	if (!esc)
		return ev_strref(j->a, (const char *)s, q - s, safe);
	/* decode the escapes; the result is never longer than the source */
	o = out = ea_alloc(j->a, (q - s) + 1);
	while (s < q) {
		if (*s != '\\') {
			*o++ = *s++;
			continue;
		}
		s++;
		switch (*s++) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			cp = ds_hex4(s);
			s += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && q - s >= 6 &&
			    s[0] == '\\' && s[1] == 'u' &&
			    (lo = ds_hex4(s + 2)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				s += 6;
			} else if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;
			o += ev_putcp(o, (unsigned)cp);
			break;
		default:
			*o++ = (char)s[-1];
		}
	}
	*o = '\0';
	return ev_strref(j->a, out, o - out, 0);
badesc:
	jfail(j, "invalid escape in string");
	return NULL;
}

static struct val *
jnumber(struct jp *j)
{
	const unsigned char *s = j->p;
	int64_t iv = 0;
	int neg = 0, nd = 0, isint = 1;
	char tmp[64], *end;
	size_t len;
	double d;

	if (*j->p == '-') {
		neg = 1;
		j->p++;
	}
	if (j->p < j->e && *j->p == '0') {
		j->p++;
		nd = 1;
	} else {
		while (j->p < j->e && *j->p >= '0' && *j->p <= '9') {
			if (++nd > 15)
				isint = 0;
			else
				iv = iv * 10 + (*j->p - '0');
			j->p++;
		}
		if (nd == 0)
			goto bad;
	}
	if (j->p < j->e && *j->p == '.') {
		isint = 0;
		j->p++;
		if (j->p >= j->e || *j->p < '0' || *j->p > '9')
			goto bad;
		while (j->p < j->e && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->e && (*j->p == 'e' || *j->p == 'E')) {
		isint = 0;
		j->p++;
		if (j->p < j->e && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->e || *j->p < '0' || *j->p > '9')
			goto bad;
		while (j->p < j->e && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (isint)
		return ev_num(j->a, neg ? -(double)iv : (double)iv);
	len = j->p - s;
	if (!isint && nd > 15 && j->p - s == nd + neg) {
		/* a long integer: printed as it was read (jq 1.7), its
		 * arithmetic in doubles */
		struct numlit *nl = ea_alloc(j->a, sizeof(*nl));

		memcpy(tmp, s, len < sizeof(tmp) ? len : sizeof(tmp) - 1);
		tmp[len < sizeof(tmp) ? len : sizeof(tmp) - 1] = '\0';
		memset(&nl->v, 0, sizeof(nl->v));
		nl->v.t = T_NUM;
		nl->v.safe = 1;
		nl->v.u.d = len < sizeof(tmp) ? strtod(tmp, NULL) :
		    strtod(ea_strdup(j->a, (const char *)s, len), NULL);
		nl->s = (const char *)s;
		nl->n = len;
		return &nl->v;
	}
	if (len >= sizeof(tmp)) {
		char *big = ea_strdup(j->a, (const char *)s, len);

		d = strtod(big, &end);
	} else {
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		d = strtod(tmp, &end);
	}
	return ev_num(j->a, d);
bad:
	jfail(j, "invalid number");
	return NULL;
}

static struct val *jvalue(struct jp *);

static struct val *
jarray(struct jp *j)
{
	struct val *stackv[16], **tmp = stackv, *v, *r;
	size_t n = 0, cap = 16;

	j->p++;
	JWS(j);
	if (j->p < j->e && *j->p == ']') {
		j->p++;
		return ev_arr(j->a, 0);
	}
	for (;;) {
		if ((v = jvalue(j)) == NULL)
			goto fail;
		if (n == cap) {
			struct val **nt = ea_alloc(j->a, cap * 2 * sizeof(*nt));

			memcpy(nt, tmp, n * sizeof(*nt));
			tmp = nt;
			cap *= 2;
		}
		tmp[n++] = v;
		JWS(j);
		if (j->p < j->e && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->e && *j->p == ']') {
			j->p++;
			break;
		}
		jfail(j, "expected ',' or ']'");
		goto fail;
	}
	r = ev_arr(j->a, (uint32_t)n);
	memcpy(r->u.a, tmp, n * sizeof(*tmp));
	return r;
fail:
	return NULL;
}

static struct val *
jobject(struct jp *j)
{
	struct kv stackkv[16], *tmp = stackkv;
	struct val *k, *v, *r;
	size_t n = 0, cap = 16, i;

	j->p++;
	JWS(j);
	if (j->p < j->e && *j->p == '}') {
		j->p++;
		return ev_obj(j->a, 0);
	}
	for (;;) {
		JWS(j);
		if (j->p >= j->e || *j->p != '"') {
			jfail(j, "expected a key");
			return NULL;
		}
		if ((k = jstring(j)) == NULL)
			return NULL;
		JWS(j);
		if (j->p >= j->e || *j->p != ':') {
			jfail(j, "expected ':'");
			return NULL;
		}
		j->p++;
		if ((v = jvalue(j)) == NULL)
			return NULL;
		/* a duplicated key keeps its first place and its last value */
		for (i = 0; i < n; i++)
			if (tmp[i].k->n == k->n &&
			    memcmp(tmp[i].k->u.s, k->u.s, k->n) == 0)
				break;
		if (i < n)
			tmp[i].v = v;
		else {
			if (n == cap) {
				struct kv *nt = ea_alloc(j->a,
				    cap * 2 * sizeof(*nt));

				memcpy(nt, tmp, n * sizeof(*nt));
				tmp = nt;
				cap *= 2;
			}
			tmp[n].k = k;
			tmp[n++].v = v;
		}
		JWS(j);
		if (j->p < j->e && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->e && *j->p == '}') {
			j->p++;
			break;
		}
		jfail(j, "expected ',' or '}'");
		return NULL;
	}
	r = ev_obj(j->a, (uint32_t)n);
	memcpy(r->u.o, tmp, n * sizeof(*tmp));
	r->n = (uint32_t)n;
	return r;
}

/*
 * NaN and Infinity, which jq's parser reads too: nan, NaN, -NaN,
 * Infinity, -Infinity, infinity, inf, in any case; a NaN may carry
 * digits (nan1234), as in jq 1.7.  NULL when it is none of them.
 */
static struct val *
jnonfinite(struct jp *j)
{
	const unsigned char *p = j->p;
	size_t n;
	int neg = 0;

	if (p < j->e && *p == '-') {
		neg = 1;
		p++;
	}
	n = (size_t)(j->e - p);
	if (n >= 3 && strncasecmp((const char *)p, "nan", 3) == 0) {
		for (p += 3; p < j->e && *p >= '0' && *p <= '9'; p++)
			;
		j->p = p;
		return ev_num(j->a, NAN);
	}
	if (n >= 8 && strncasecmp((const char *)p, "infinity", 8) == 0)
		p += 8;
	else if (n >= 3 && strncasecmp((const char *)p, "inf", 3) == 0)
		p += 3;
	else
		return NULL;
	j->p = p;
	return ev_num(j->a, neg ? -INFINITY : INFINITY);
}

static struct val *
jvalue(struct jp *j)
{
	struct val *v;
	int top;

	JWS(j);
	if (j->p >= j->e) {
		jfail(j, "unexpected end of input");
		return NULL;
	}
	switch (*j->p) {
	case '{':
	case '[':
		if (++j->depth > j->maxdepth) {
			if (!j->failed++)
				snprintf(j->msg, j->msglen,
				    "nesting deeper than %d", j->maxdepth);
			return NULL;
		}
		/* fromjson deep in a program: the stack may end first */
		if (ev_deep()) {
			jfail(j, TOODEEP);
			return NULL;
		}
		top = j->deepest;
		j->deepest = j->depth;
		v = *j->p == '{' ? jobject(j) : jarray(j);
		if (v != NULL)
			v->depth = (uint16_t)(j->deepest - j->depth + 1);
		if (j->deepest < top)
			j->deepest = top;
		j->depth--;
		return v;
	case '"':
		return jstring(j);
	case 't':
		if (j->e - j->p >= 4 && memcmp(j->p, "true", 4) == 0) {
			j->p += 4;
			return &ev_true;
		}
		break;
	case 'f':
		if (j->e - j->p >= 5 && memcmp(j->p, "false", 5) == 0) {
			j->p += 5;
			return &ev_false;
		}
		break;
	case 'n':
		if (j->e - j->p >= 4 && memcmp(j->p, "null", 4) == 0) {
			j->p += 4;
			return &ev_null;
		}
		break;
	default:
		if ((*j->p == '-' && (j->e - j->p < 2 ||
		    strchr("nNiI", j->p[1]) == NULL)) ||
		    (*j->p >= '0' && *j->p <= '9'))
			return jnumber(j);
	}
	if ((v = jnonfinite(j)) != NULL)
		return v;
	jfail(j, "invalid JSON");
	return NULL;
}

struct val *
ev_parse(struct arena *a, const char *p, size_t len, int maxdepth,
    char *msg, size_t msglen)
{
	struct jp j;
	struct val *v;

	initcls();
	j.p = j.start = (const unsigned char *)p;
	j.e = j.p + len;
	j.a = a;
	j.depth = j.deepest = 0;
	j.maxdepth = maxdepth;
	j.msg = msg;
	j.msglen = msglen;
	j.failed = 0;
	if ((v = jvalue(&j)) == NULL)
		return NULL;
	JWS(&j);
	if (j.p != j.e) {
		jfail(&j, "trailing data after JSON value");
		return NULL;
	}
	return v;
}

/* -------------------------------------------------------------- print */

/* Deeper values (built by reduce, say) are not printed: the stack. */
#define PRINTDEPTH	10000

static int
print(struct ds_buf *b, const struct val *v, int depth)
{
	uint32_t i;

	if (depth > PRINTDEPTH || ev_deep())
		return -1;
	switch (v->t) {
	case T_NULL:
		ds_buf_add(b, "null", 4);
		break;
	case T_FALSE:
		ds_buf_add(b, "false", 5);
		break;
	case T_TRUE:
		ds_buf_add(b, "true", 4);
		break;
	case T_NUM:
		if (v->safe)
			ds_buf_add(b, ((const struct numlit *)v)->s,
			    ((const struct numlit *)v)->n);
		else
			ds_buf_addd(b, v->u.d);
		break;
	case T_STR:
		if (v->safe) {
			ds_buf_grow(b, v->n + 2);
			b->p[b->len] = '"';
			memcpy(b->p + b->len + 1, v->u.s, v->n);
			b->p[b->len + 1 + v->n] = '"';
			b->len += v->n + 2;
		} else
			ds_buf_addq_jq(b, v->u.s, v->n);
		break;
	case T_ARR:
		ds_buf_addc(b, '[');
		for (i = 0; i < v->n; i++) {
			if (i)
				ds_buf_addc(b, ',');
			if (print(b, v->u.a[i], depth + 1) == -1)
				return -1;
		}
		ds_buf_addc(b, ']');
		break;
	case T_OBJ:
		ds_buf_addc(b, '{');
		for (i = 0; i < v->n; i++) {
			if (i)
				ds_buf_addc(b, ',');
			print(b, v->u.o[i].k, depth + 1);
			ds_buf_addc(b, ':');
			if (print(b, v->u.o[i].v, depth + 1) == -1)
				return -1;
		}
		ds_buf_addc(b, '}');
		break;
	}
	return 0;
}

int
ev_print(struct ds_buf *b, const struct val *v)
{
	return print(b, v, 0);
}

/* ---------------------------------------------------- canonical check */

/*
 * Is p[0..len) one valid JSON value already in jq -c's form (no white
 * space, canonical escapes and numbers, no duplicated key)?  Then `.`
 * may output the line as it is.  Returns 1 yes, 0 no (or invalid: the
 * caller's full parse reports why).
 */
struct canon {
	const unsigned char *p, *e;
	int depth, maxdepth;
};

static int
cstring(struct canon *c)
{
	size_t k;
	int cp;

	c->p++;
	for (;;) {
		while (c->p < c->e && scls[*c->p] == 0)
			c->p++;
		if (c->p >= c->e)
			return 0;
		switch (scls[*c->p]) {
		case 1:
			c->p++;
			return 1;
		case 2:
			if (c->e - c->p < 2)
				return 0;
			switch (c->p[1]) {
			case '"': case '\\': case 'b': case 'f': case 'n':
			case 'r': case 't':
				c->p += 2;
				break;
			case 'u':
				if (c->e - c->p < 6)
					return 0;
				cp = ds_hex4(c->p + 2);
				/* jq prints only controls and DEL this way,
				 * in lower case */
				if (cp < 0 || !(cp < 0x20 || cp == 0x7f) ||
				    cp == '\b' || cp == '\f' || cp == '\n' ||
				    cp == '\r' || cp == '\t' ||
				    memchr(c->p + 2, 'A', 4) != NULL ||
				    memchr(c->p + 2, 'B', 4) != NULL ||
				    memchr(c->p + 2, 'C', 4) != NULL ||
				    memchr(c->p + 2, 'D', 4) != NULL ||
				    memchr(c->p + 2, 'E', 4) != NULL ||
				    memchr(c->p + 2, 'F', 4) != NULL)
					return 0;
				c->p += 6;
				break;
			default:
				return 0;
			}
			break;
		case 4:
			if ((k = ds_utf8_len(c->p, c->e - c->p)) == 0)
				return 0;
			c->p += k;
			break;
		default:
			return 0;
		}
	}
}

static int
cnumber(struct canon *c)
{
	const unsigned char *s = c->p;
	int nd = 0, isint = 1;
	struct ds_buf b = { 0 };
	char tmp[64];
	size_t len;
	int ok;

	if (*c->p == '-')
		c->p++;
	if (c->p < c->e && *c->p == '0') {
		c->p++;
		nd = 1;
		if (*s == '-')
			isint = 0;	/* -0 */
	} else {
		while (c->p < c->e && *c->p >= '0' && *c->p <= '9') {
			c->p++;
			if (++nd > 15)
				isint = 0;
		}
		if (nd == 0)
			return 0;
	}
	if (c->p < c->e && *c->p == '.') {
		isint = 0;
		c->p++;
		if (c->p >= c->e || *c->p < '0' || *c->p > '9')
			return 0;
		while (c->p < c->e && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	if (c->p < c->e && (*c->p == 'e' || *c->p == 'E')) {
		isint = 0;
		c->p++;
		if (c->p < c->e && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (c->p >= c->e || *c->p < '0' || *c->p > '9')
			return 0;
		while (c->p < c->e && *c->p >= '0' && *c->p <= '9')
			c->p++;
	}
	if (isint)
		return 1;
	len = c->p - s;
	if (len >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	ds_buf_addd(&b, strtod(tmp, NULL));
	ok = b.len == len && memcmp(b.p, s, len) == 0;
	ds_buf_free(&b);
	return ok;
}

static int cvalue(struct canon *);

static int
ccontainer(struct canon *c)
{
	int isobj = *c->p == '{';
	char close = isobj ? '}' : ']';
	const unsigned char *keys[32];
	size_t klen[32];
	int nk = 0, i;

	if (++c->depth > c->maxdepth)
		return 0;
	c->p++;
	if (c->p < c->e && *c->p == close) {
		c->p++;
		c->depth--;
		return 1;
	}
	for (;;) {
		if (isobj) {
			if (c->p >= c->e || *c->p != '"' || nk == 32)
				return 0;
			keys[nk] = c->p;
			if (!cstring(c))
				return 0;
			klen[nk] = c->p - keys[nk];
			for (i = 0; i < nk; i++)
				if (klen[i] == klen[nk] &&
				    memcmp(keys[i], keys[nk], klen[i]) == 0)
					return 0;
			nk++;
			if (c->p >= c->e || *c->p != ':')
				return 0;
			c->p++;
		}
		if (!cvalue(c))
			return 0;
		if (c->p < c->e && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->e && *c->p == close) {
			c->p++;
			c->depth--;
			return 1;
		}
		return 0;
	}
}

static int
cvalue(struct canon *c)
{
	if (c->p >= c->e)
		return 0;
	switch (*c->p) {
	case '{':
	case '[':
		return ccontainer(c);
	case '"':
		return cstring(c);
	case 't':
		if (c->e - c->p >= 4 && memcmp(c->p, "true", 4) == 0) {
			c->p += 4;
			return 1;
		}
		return 0;
	case 'f':
		if (c->e - c->p >= 5 && memcmp(c->p, "false", 5) == 0) {
			c->p += 5;
			return 1;
		}
		return 0;
	case 'n':
		if (c->e - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
			c->p += 4;
			return 1;
		}
		return 0;
	default:
		if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
			return cnumber(c);
		return 0;
	}
}

int
ev_canonical(const char *p, size_t len, int maxdepth)
{
	struct canon c;

	initcls();
	c.p = (const unsigned char *)p;
	c.e = c.p + len;
	c.depth = 0;
	c.maxdepth = maxdepth;
	return cvalue(&c) && c.p == c.e;
}

/* ------------------------------------------------------------ compare */

static int
kvcmp(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;

	return ev_cmp(x->k, y->k);
}

/* The members of object o sorted by key (arena copy). */
struct kv *
ev_sorted(struct arena *a, const struct val *o)
{
	struct kv *s = ea_alloc(a, (o->n + 1) * sizeof(*s));

	if (o->n)
		memcpy(s, o->u.o, o->n * sizeof(*s));
	qsort(s, o->n, sizeof(*s), kvcmp);
	return s;
}

int
ev_depth(struct val *v)
{
	uint32_t i;
	int d, max = 0;

	if (v->t != T_ARR && v->t != T_OBJ)
		return 0;
	if (v->depth != 0)
		return v->depth;
	if (ev_deep())
		return -1;
	for (i = 0; i < v->n; i++) {
		if ((d = ev_depth(v->t == T_ARR ? v->u.a[i] :
		    v->u.o[i].v)) == -1)
			return -1;
		if (d > max)
			max = d;
	}
	v->depth = max < UINT16_MAX ? max + 1 : UINT16_MAX;
	return v->depth;
}

/* jq's total order: null < false < true < numbers < strings < arrays <
 * objects; arrays lexicographic; objects by sorted keys, then values. */
uintptr_t ev_stacklow;
int ev_toodeep;

int
ev_cmp(const struct val *x, const struct val *y)
{
	uint32_t i, n;
	int r;

	if (ev_deep()) {
		ev_toodeep = 1;
		return 0;
	}
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	switch (x->t) {
	case T_NUM:
		return x->u.d < y->u.d ? -1 : x->u.d > y->u.d ? 1 : 0;
	case T_STR:
		n = x->n < y->n ? x->n : y->n;
		if ((r = memcmp(x->u.s, y->u.s, n)) != 0)
			return r < 0 ? -1 : 1;
		return x->n < y->n ? -1 : x->n > y->n ? 1 : 0;
	case T_ARR:
		n = x->n < y->n ? x->n : y->n;
		for (i = 0; i < n; i++)
			if ((r = ev_cmp(x->u.a[i], y->u.a[i])) != 0)
				return r;
		return x->n < y->n ? -1 : x->n > y->n ? 1 : 0;
	case T_OBJ: {
		struct kv *sx, *sy;

		/* malloc, not the arena: comparisons nest */
		sx = reallocarray(NULL, x->n + 1, sizeof(*sx));
		sy = reallocarray(NULL, y->n + 1, sizeof(*sy));
		if (sx == NULL || sy == NULL)
			err(1, NULL);
		if (x->n)
			memcpy(sx, x->u.o, x->n * sizeof(*sx));
		if (y->n)
			memcpy(sy, y->u.o, y->n * sizeof(*sy));
		qsort(sx, x->n, sizeof(*sx), kvcmp);
		qsort(sy, y->n, sizeof(*sy), kvcmp);
		n = x->n < y->n ? x->n : y->n;
		r = 0;
		for (i = 0; i < n && r == 0; i++)
			r = ev_cmp(sx[i].k, sy[i].k);
		if (r == 0 && x->n != y->n)
			r = x->n < y->n ? -1 : 1;
		for (i = 0; i < n && r == 0; i++)
			r = ev_cmp(sx[i].v, sy[i].v);
		free(sx);
		free(sy);
		return r;
	}
	default:
		return 0;
	}
}
