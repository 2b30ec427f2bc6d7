/*
 * json.c -- a JSON scanner that works on the raw bytes of a line.
 *
 * The tools' hot paths never build a tree: a line is validated in one
 * pass (ds_json_check), then fields are found by skipping over values
 * (ds_json_get) and their raw text is used as it is.  jansson's full
 * parse managed about 250k records/s on a 140-byte record here; this
 * scanner validates and extracts at several times that.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Byte classes inside a string: 0 plain, 1 quote, 2 backslash, 3 control,
 * 4 start of a multi-byte UTF-8 sequence (or an invalid byte). */
static unsigned char strcls[256];

/* Bytes that end a number or literal. */
static unsigned char scalarend[256];

static void
initcls(void)
{
	int c;

	if (strcls['"'] == 1)
		return;
	for (c = 0; c < 256; c++)
		strcls[c] = c < 0x20 ? 3 : c >= 0x80 ? 4 : 0;
	strcls['"'] = 1;
	strcls['\\'] = 2;
	scalarend[','] = scalarend['}'] = scalarend[']'] = 1;
	scalarend[' '] = scalarend['\t'] = scalarend['\r'] = 1;
	scalarend['\n'] = scalarend['\0'] = 1;
}

struct scan {
	const unsigned char *p, *e, *start;
	struct ds_jscan *js;
	int esc;		/* the last string had a backslash */
};

static void
fail(struct scan *s, const char *what)
{
	if (s->js->err != NULL)
		return;
	snprintf(s->js->msg, sizeof(s->js->msg), "%s at byte %zu", what,
	    (size_t)(s->p - s->start) + 1);
	s->js->err = s->js->msg;
}

static inline void
ws(struct scan *s)
{
	const unsigned char *q = s->p;

	if (s->p < s->e && *s->p > ' ')
		return;		/* the common case: no white space */
	while (s->p < s->e && DS_JSON_WS(*s->p))
		s->p++;
	s->js->hadws |= s->p != q;
}

/*
 * The first byte at or after p that ends a run of plain string bytes: a
 * quote, a backslash, a control character or a non-ASCII byte.  SSE2
 * (always there on x86-64) looks at 16 bytes at a time; strings in
 * records are short, so wider vectors gained nothing measurable.
 */
static inline const unsigned char *
plain(const unsigned char *p, const unsigned char *e)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	const __m128i sp = _mm_set1_epi8(' ');
	__m128i x, m;
	unsigned bits;

	while (e - p >= 16) {
		x = _mm_loadu_si128((const __m128i *)p);
		/* signed compare: bytes >= 0x80 are below ' ' as well */
		m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, q),
		    _mm_cmpeq_epi8(x, bs)), _mm_cmplt_epi8(x, sp));
		if ((bits = (unsigned)_mm_movemask_epi8(m)) != 0)
			return p + __builtin_ctz(bits);
		p += 16;
	}
#endif
	while (p < e && strcls[*p] == 0)
		p++;
	return p;
}

static int
string(struct scan *s)
{
	const unsigned char *p = s->p + 1, *e = s->e;	/* after the quote */
	size_t k;

	s->esc = 0;
	for (;;) {
		p = plain(p, e);
		if (p < e && *p == '"') {
			s->p = p + 1;
			return 0;
		}
		s->p = p;
		if (p >= e) {
			fail(s, "unterminated string");
			return -1;
		}
		switch (strcls[*p]) {
		case 2:
			s->esc = 1;
			if (e - p < 2)
				goto badesc;
			switch (p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				p += 2;
				break;
			case 'u':
				if (e - p < 6 || ds_hex4(p + 2) < 0)
					goto badesc;
				p += 6;
				break;
			default:
				goto badesc;
			}
			break;
		case 3:
			fail(s, "control character in string");
			return -1;
		default:	/* 4: not ASCII */
			if ((k = ds_utf8_len(p, e - p)) == 0) {
				fail(s, "invalid UTF-8");
				return -1;
			}
			p += k;
			break;
		}
	}
badesc:
	fail(s, "invalid escape in string");
	return -1;
}

static int
digits(struct scan *s)
{
	const unsigned char *q = s->p;

	while (s->p < s->e && *s->p >= '0' && *s->p <= '9')
		s->p++;
	return s->p > q ? 0 : -1;
}

static int
number(struct scan *s)
{
	if (*s->p == '-')
		s->p++;
	if (s->p < s->e && *s->p == '0')
		s->p++;
	else if (digits(s) == -1)
		goto bad;
	if (s->p < s->e && *s->p == '.') {
		s->p++;
		if (digits(s) == -1)
			goto bad;
	}
	if (s->p < s->e && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->e && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (digits(s) == -1)
			goto bad;
	}
	return 0;
bad:
	fail(s, "invalid number");
	return -1;
}

static int
literal(struct scan *s, const char *word, size_t n)
{
	if ((size_t)(s->e - s->p) < n || memcmp(s->p, word, n) != 0) {
		fail(s, "invalid JSON");
		return -1;
	}
	s->p += n;
	return 0;
}

static int value(struct scan *, int);
static int keyeq(const char *, size_t, const char *, size_t);

/*
 * a[0..n) == b[0..n)?  Keys are short: a loop beats a call to memcmp,
 * and inlined here it also beat ds_sameb's word loads (W3: 8%).
 */
static inline int
sameb(const char *a, const char *b, size_t n)
{
	while (n > 0 && *a == *b) {
		a++;
		b++;
		n--;
	}
	return n == 0;
}

/*
 * The top-level member with the raw key k[0..klen) (quotes included,
 * esc: it has a backslash) has the value vs[0..vlen): set the paths
 * that start with that key, as ds_json_getv does (the last duplicate
 * wins, keys compared unescaped).
 */
static void
capture(struct ds_jscan *js, const char *k, size_t klen, int esc,
    const char *vs, size_t vlen)
{
	struct ds_buf ukey = { 0 };
	struct ds_span kv = { k, klen };
	const struct ds_path *pa;
	struct ds_path sub;
	const char *kp = k + 1;
	size_t kl = klen - 2;
	int i;

	if (esc && ds_json_str(kv, &ukey) == 0 && ukey.len > 0) {
		kp = ukey.p;
		kl = ukey.len;
	}
	for (i = 0; i < js->npaths; i++) {
		pa = js->paths[i];
		if (pa->n == 0 || pa->klen[0] != kl || !sameb(pa->key[0], kp, kl))
			continue;
		if (pa->n == 1) {
			js->v[i].p = vs;
			js->v[i].len = vlen;
			js->found[i] = 1;
			continue;
		}
		sub.n = pa->n - 1;
		sub.key = pa->key + 1;
		sub.klen = pa->klen + 1;
		sub.text = pa->text;
		js->found[i] = ds_json_get(vs, vlen, &sub, &js->v[i]);
	}
	if (esc)
		ds_buf_free(&ukey);
}

/* One member of an object: "key" : value.  depth is the object's. */
static int
member(struct scan *s, int depth)
{
	const unsigned char *k, *vs;
	size_t klen;
	int esc;

	ws(s);
	if (s->p >= s->e || *s->p != '"') {
		fail(s, "expected a key");
		return -1;
	}
	k = s->p;
	if (string(s) == -1)
		return -1;
	klen = s->p - k;
	esc = s->esc;
	if (depth == 0 && (esc ? keyeq((const char *)k, klen, "@ds", 3) :
	    klen == 5 && k[1] == '@' && k[2] == 'd' && k[3] == 's'))
		s->js->dskey = 1;
	ws(s);
	if (s->p >= s->e || *s->p != ':') {
		fail(s, "expected ':'");
		return -1;
	}
	s->p++;
	ws(s);
	vs = s->p;
	if (value(s, depth + 1) == -1)
		return -1;
	if (depth == 0 && s->js->npaths > 0)
		capture(s->js, (const char *)k, klen, esc, (const char *)vs,
		    s->p - vs);
	return 0;
}

static int
container(struct scan *s, int depth, int isobj)
{
	char close = isobj ? '}' : ']';

	if (depth >= s->js->maxdepth) {
		snprintf(s->js->msg, sizeof(s->js->msg),
		    "nesting deeper than %d", s->js->maxdepth);
		s->js->err = s->js->msg;
		return -1;
	}
	s->p++;
	ws(s);
	if (s->p < s->e && *s->p == close) {
		s->p++;
		return 0;
	}
	for (;;) {
		if ((isobj ? member(s, depth) : value(s, depth + 1)) == -1)
			return -1;
		ws(s);
		if (s->p < s->e && *s->p == ',') {
			s->p++;
			continue;
		}
		if (s->p < s->e && *s->p == close) {
			s->p++;
			return 0;
		}
		fail(s, isobj ? "expected ',' or '}'" : "expected ',' or ']'");
		return -1;
	}
}

static int
value(struct scan *s, int depth)
{
	ws(s);
	if (s->p >= s->e) {
		fail(s, "unexpected end of input");
		return -1;
	}
	switch (*s->p) {
	case '{':
		return container(s, depth, 1);
	case '[':
		return container(s, depth, 0);
	case '"':
		return string(s);
	case 't':
		return literal(s, "true", 4);
	case 'f':
		return literal(s, "false", 5);
	case 'n':
		return literal(s, "null", 4);
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return number(s);
		fail(s, "invalid JSON");
		return -1;
	}
}

int
ds_json_scan(const char *p, size_t len, struct ds_jscan *js)
{
	struct scan s;
	int i;

	initcls();
	s.p = s.start = (const unsigned char *)p;
	s.e = s.p + len;
	s.js = js;
	js->err = NULL;
	js->isobj = js->dskey = js->hadws = 0;
	for (i = 0; i < js->npaths; i++)
		js->found[i] = 0;
	ws(&s);
	js->isobj = s.p < s.e && *s.p == '{';
	if (value(&s, 0) == 0) {
		ws(&s);
		if (s.p == s.e)
			return 0;
		fail(&s, "trailing data after JSON value");
	}
	return -1;
}

/* The bytes of word w that are no plain ASCII in a string: their top bit. */
static inline uint64_t
special(uint64_t w)
{
	const uint64_t lo = 0x0101010101010101ULL;
	uint64_t q = w ^ lo * '"', b = w ^ lo * '\\';

	return (((q - lo) & ~q) | ((b - lo) & ~b) | ((w - lo * ' ') & ~w) | w) &
	    lo << 7;
}

/*
 * Are the n bytes at p plain ASCII: no quote, backslash, control
 * character or byte above 0x7f?  A word at a time, the last one
 * overlapping, every byte looked at a real one: on the word count's
 * short values plain()'s byte loop was a fifth of ds-reduce.
 */
static int
ascii(const unsigned char *p, size_t n)
{
	const unsigned char *e = p + n;
	uint64_t w, bad = 0;
	uint32_t a, b;

	if (n >= 8) {
		for (; e - p > 8; p += 8) {
			memcpy(&w, p, 8);
			if (special(w))
				return 0;	/* no long scan for a bad end */
		}
		memcpy(&w, e - 8, 8);
		bad = special(w);
	} else if (n >= 4) {
		memcpy(&a, p, 4);
		memcpy(&b, e - 4, 4);
		bad = special(a | (uint64_t)b << 32);
	} else if (n > 0)
		bad = special((0x0101010101010101ULL * 'a' & ~0xffffffULL) |
		    p[0] | p[n / 2] << 8 | (uint64_t)p[n - 1] << 16);
	return bad == 0;
}

int
ds_json_pair(const char *p, size_t len, const char *key, size_t klen,
    struct ds_span *v)
{
	const unsigned char *q, *e;
	size_t k;

	if (len < klen + 7 || p[0] != '{' || p[1] != '"' ||
	    !ds_sameb(p + 2, key, klen) || p[klen + 2] != '"' ||
	    p[klen + 3] != ':' || p[klen + 4] != '"' || p[len - 2] != '"' ||
	    p[len - 1] != '}')
		return 0;
	initcls();
	q = (const unsigned char *)p + klen + 5;
	e = (const unsigned char *)p + len - 2;
	/* nothing but plain bytes and valid UTF-8 up to the last quote */
	if (!ascii(q, e - q))
		for (; (q = plain(q, e)) < e; q += k)
			if (strcls[*q] != 4 || (k = ds_utf8_len(q, e - q)) == 0)
				return 0;
	v->p = p + klen + 4;
	v->len = len - klen - 5;
	return 1;
}

int
ds_json_validate(const char *p, size_t len, int maxdepth,
    const char **errmsg, int *dskey)
{
	static struct ds_jscan js;	/* keeps the message for the caller */

	memset(&js, 0, sizeof(js));
	js.maxdepth = maxdepth;
	if (ds_json_scan(p, len, &js) == -1) {
		*errmsg = js.err;
		return -1;
	}
	if (dskey != NULL)
		*dskey = js.dskey;
	return 0;
}

int
ds_json_check(const char *p, size_t len, int maxdepth, const char **errmsg)
{
	return ds_json_validate(p, len, maxdepth, errmsg, NULL);
}

void
ds_json_compact(const char *p, size_t len, struct ds_buf *b)
{
	const char *e = p + len, *run;

	while (p < e) {
		if (DS_JSON_WS(*p)) {
			p++;
			continue;
		}
		if (*p != '"') {
			ds_buf_addc(b, *p++);
			continue;
		}
		/* a string: copy it whole, escapes included */
		for (run = p++; p < e && *p != '"'; p++)
			if (*p == '\\' && p + 1 < e)
				p++;
		if (p < e)
			p++;
		ds_buf_add(b, run, p - run);
	}
}

enum ds_jtype
ds_json_type(const char *p, size_t len)
{
	const char *e = p + len;

	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p == e)
		return DS_JNONE;
	switch (*p) {
	case '{': return DS_JOBJ;
	case '[': return DS_JARR;
	case '"': return DS_JSTR;
	case 't': return DS_JTRUE;
	case 'f': return DS_JFALSE;
	case 'n': return DS_JNULL;
	default:  return DS_JNUM;
	}
}

/* Skip a valid string; a byte loop beats memchr on short strings. */
static const char *
skipstr(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\')
			p++;
	}
	return e;
}

const char *
ds_json_skip(const char *p, const char *e)
{
	int depth = 0;

	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p >= e)
		return e;
	if (*p == '"')
		return skipstr(p, e);
	if (*p != '{' && *p != '[') {
		initcls();
		while (p < e && !scalarend[(unsigned char)*p])
			p++;
		return p;
	}
	while (p < e) {
		switch (*p) {
		case '"':
			p = skipstr(p, e);
			continue;
		case '{': case '[':
			depth++;
			break;
		case '}': case ']':
			if (--depth == 0)
				return p + 1;
			break;
		}
		p++;
	}
	return e;
}

/* Does the raw key k (with quotes) equal name[0..n)? */
static inline int
keyeq(const char *k, size_t klen, const char *name, size_t n)
{
	struct ds_buf b = { 0 };
	struct ds_span v = { k, klen };
	int eq;

	if (klen - 2 == n && memcmp(k + 1, name, n) == 0)
		return 1;
	if (memchr(k + 1, '\\', klen - 2) == NULL)
		return 0;
	ds_json_str(v, &b);
	eq = b.len == n && memcmp(b.p, name, n) == 0;
	ds_buf_free(&b);
	return eq;
}

#define WS(p, e) while ((p) < (e) && DS_JSON_WS(*(p))) (p)++

/* Find key name in the object at p; the last occurrence wins. */
static int
objget(const char *p, const char *e, const char *name, size_t n,
    struct ds_span *v)
{
	const char *k, *ke, *vs;
	int found = 0;

	WS(p, e);
	if (p >= e || *p != '{')
		return 0;
	p++;
	for (;;) {
		WS(p, e);
		if (p >= e || *p != '"')
			return found;
		k = p;
		ke = skipstr(p, e);
		p = ke;
		WS(p, e);
		if (p >= e || *p != ':')
			return found;
		p++;
		WS(p, e);
		vs = p;
		p = ds_json_skip(p, e);
		if (keyeq(k, ke - k, name, n)) {
			v->p = vs;
			v->len = p - vs;
			found = 1;
		}
		WS(p, e);
		if (p >= e || *p != ',')
			return found;
		p++;
	}
}

int
ds_json_get(const char *p, size_t len, const struct ds_path *path,
    struct ds_span *v)
{
	struct ds_span cur = { p, len };
	int i;

	for (i = 0; i < path->n; i++)
		if (!objget(cur.p, cur.p + cur.len, path->key[i],
		    path->klen[i], &cur))
			return 0;
	*v = cur;
	return 1;
}

int
ds_json_int(struct ds_span v, int64_t *out)
{
	const char *p = v.p, *e = v.p + v.len;
	uint64_t u = 0, lim;
	int neg = 0;

	if (p < e && *p == '-') {
		neg = 1;
		p++;
	}
	if (p >= e || *p < '0' || *p > '9')
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < e && *p >= '0' && *p <= '9'; p++) {
		if (u > (lim - (*p - '0')) / 10)
			return -1;
		u = u * 10 + (*p - '0');
	}
	if (p != e)
		return -1;
	*out = neg ? (int64_t)(0 - u) : (int64_t)u;
	return 0;
}

int
ds_json_num(struct ds_span v, double *d)
{
	char tmp[64], *q, *end;
	int rc = 0;

	if (v.len == 0 || !(*v.p == '-' || (*v.p >= '0' && *v.p <= '9')))
		return -1;
	q = v.len < sizeof(tmp) ? tmp : malloc(v.len + 1);
	if (q == NULL)
		return -1;
	memcpy(q, v.p, v.len);
	q[v.len] = '\0';
	errno = 0;
	*d = strtod(q, &end);
	if (*end != '\0')
		rc = -1;
	if (q != tmp)
		free(q);
	return rc;
}

static void
addcp(struct ds_buf *b, unsigned cp)
{
	char u[4];

	if (cp < 0x80) {
		ds_buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		u[0] = 0xc0 | (cp >> 6);
		u[1] = 0x80 | (cp & 0x3f);
		ds_buf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = 0xe0 | (cp >> 12);
		u[1] = 0x80 | ((cp >> 6) & 0x3f);
		u[2] = 0x80 | (cp & 0x3f);
		ds_buf_add(b, u, 3);
	} else {
		u[0] = 0xf0 | (cp >> 18);
		u[1] = 0x80 | ((cp >> 12) & 0x3f);
		u[2] = 0x80 | ((cp >> 6) & 0x3f);
		u[3] = 0x80 | (cp & 0x3f);
		ds_buf_add(b, u, 4);
	}
}

int
ds_json_str(struct ds_span v, struct ds_buf *b)
{
	const char *p = v.p + 1, *e = v.p + v.len - 1, *run;
	int cp, lo;

	if (v.len < 2 || *v.p != '"')
		return -1;
	while (p < e) {
		run = p;
		while (p < e && *p != '\\')
			p++;
		if (p > run)
			ds_buf_add(b, run, p - run);
		if (p >= e)
			break;
		p++;
		switch (*p++) {
		case 'b': ds_buf_addc(b, '\b'); break;
		case 'f': ds_buf_addc(b, '\f'); break;
		case 'n': ds_buf_addc(b, '\n'); break;
		case 'r': ds_buf_addc(b, '\r'); break;
		case 't': ds_buf_addc(b, '\t'); break;
		case 'u':
			if (e - p < 4 || (cp = ds_hex4((const unsigned char *)p)) < 0)
				return -1;
			p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && e - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' &&
			    (lo = ds_hex4((const unsigned char *)p + 2)) >= 0xdc00 &&
			    lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			} else if (cp >= 0xd800 && cp <= 0xdfff)
				cp = 0xfffd;	/* lone surrogate, as jq */
			addcp(b, (unsigned)cp);
			break;
		default:
			ds_buf_addc(b, p[-1]);	/* " \ / */
		}
	}
	return 0;
}

int
ds_json_has_dskey(const char *p, size_t len)
{
	struct ds_span v;

	return objget(p, p + len, "@ds", 3, &v);
}

int
ds_path_parse(const char *s, struct ds_path *path)
{
	const char *p = s;
	struct ds_buf comp = { 0 };

	memset(path, 0, sizeof(*path));
	if ((path->text = strdup(s)) == NULL)
		return -1;
	if (*p == '.')
		p++;
	for (;;) {
		ds_buf_clear(&comp);
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++)
				ds_buf_addc(&comp, *p);
			if (*p++ != '"')
				goto bad;
		} else
			for (; *p != '\0' && *p != '.'; p++)
				ds_buf_addc(&comp, *p);
		if (comp.len == 0)
			goto bad;
		path->key = reallocarray(path->key, path->n + 1, sizeof(char *));
		path->klen = reallocarray(path->klen, path->n + 1,
		    sizeof(size_t));
		if (path->key == NULL || path->klen == NULL)
			goto bad;
		path->key[path->n] = strndup(comp.p, comp.len);
		path->klen[path->n++] = comp.len;
		if (*p == '\0')
			break;
		if (*p++ != '.')
			goto bad;
	}
	ds_buf_free(&comp);
	return 0;
bad:
	ds_buf_free(&comp);
	ds_path_free(path);
	return -1;
}

void
ds_path_free(struct ds_path *path)
{
	int i;

	for (i = 0; i < path->n; i++)
		free(path->key[i]);
	free(path->key);
	free(path->klen);
	free(path->text);
	memset(path, 0, sizeof(*path));
}

int
ds_paths_parse(const char *s, struct ds_path **out)
{
	char *copy, *tok, *save = NULL;
	struct ds_path *v = NULL;
	int n = 0;

	if ((copy = strdup(s)) == NULL)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		struct ds_path *nv = reallocarray(v, n + 1, sizeof(*v));

		if (nv != NULL)
			v = nv;
		if (nv == NULL || ds_path_parse(tok, &v[n]) == -1) {
			free(copy);
			ds_paths_free(v, n);
			return -1;
		}
		n++;
	}
	free(copy);
	if (n == 0)
		return -1;
	*out = v;
	return n;
}

void
ds_paths_free(struct ds_path *v, int n)
{
	int i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ds_path_free(&v[i]);
	free(v);
}
