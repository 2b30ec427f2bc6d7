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
	int maxdepth;
	int dskey;		/* the top-level object has a "@ds" key */
	int sawws;		/* white space between tokens was skipped */
	const char *want;	/* a top-level key to capture, or NULL */
	size_t wantlen;
	const unsigned char *gotp, *gote;	/* its value, last wins */
	const char *err;
	char msg[96];
};

static void
fail(struct scan *s, const char *what)
{
	if (s->err != NULL)
		return;
	snprintf(s->msg, sizeof(s->msg), "%s at byte %zu", what,
	    (size_t)(s->p - s->start) + 1);
	s->err = s->msg;
}

static void
ws(struct scan *s)
{
	const unsigned char *q = s->p;

	while (s->p < s->e && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
	s->sawws |= s->p != q;
}

/* Did the last successful validation skip insignificant white space? */
static int lastws;

static int
utf8seq(struct scan *s)
{
	const unsigned char *p = s->p;
	size_t n = s->e - p;
	unsigned c = p[0];
	size_t k;

	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef)
		k = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		k = 4;
	else
		goto bad;
	if (n < k)
		goto bad;
	if ((p[1] & 0xc0) != 0x80 || (k > 2 && (p[2] & 0xc0) != 0x80) ||
	    (k > 3 && (p[3] & 0xc0) != 0x80))
		goto bad;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
		goto bad;
	s->p += k;
	return 0;
bad:
	fail(s, "invalid UTF-8");
	return -1;
}

static int
hex4(const unsigned char *p)
{
	int i, v = 0, c;

	for (i = 0; i < 4; i++) {
		c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static int
string(struct scan *s)
{
	s->p++;		/* opening quote */
	for (;;) {
		while (s->p < s->e && strcls[*s->p] == 0)
			s->p++;
		if (s->p >= s->e) {
			fail(s, "unterminated string");
			return -1;
		}
		switch (strcls[*s->p]) {
		case 1:
			s->p++;
			return 0;
		case 2:
			if (s->e - s->p < 2)
				goto badesc;
			switch (s->p[1]) {
			case '"': case '\\': case '/': case 'b': case 'f':
			case 'n': case 'r': case 't':
				s->p += 2;
				break;
			case 'u':
				if (s->e - s->p < 6 || hex4(s->p + 2) < 0)
					goto badesc;
				s->p += 6;
				break;
			default:
				goto badesc;
			}
			break;
		case 3:
			fail(s, "control character in string");
			return -1;
		case 4:
			if (utf8seq(s) == -1)
				return -1;
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

static int
container(struct scan *s, int depth, int isobj)
{
	char close = isobj ? '}' : ']';
	const unsigned char *k, *vs;
	int cap = 0;

	if (depth >= s->maxdepth) {
		snprintf(s->msg, sizeof(s->msg), "nesting deeper than %d",
		    s->maxdepth);
		s->err = s->msg;
		return -1;
	}
	s->p++;
	ws(s);
	if (s->p < s->e && *s->p == close) {
		s->p++;
		return 0;
	}
	for (;;) {
		if (isobj) {
			ws(s);
			if (s->p >= s->e || *s->p != '"') {
				fail(s, "expected a key");
				return -1;
			}
			k = s->p;
			if (string(s) == -1)
				return -1;
			if (depth == 0 && keyeq((const char *)k, s->p - k,
			    "@ds", 3))
				s->dskey = 1;
			cap = depth == 0 && s->want != NULL &&
			    keyeq((const char *)k, s->p - k, s->want,
			    s->wantlen);
			ws(s);
			if (s->p >= s->e || *s->p != ':') {
				fail(s, "expected ':'");
				return -1;
			}
			s->p++;
		}
		ws(s);
		vs = s->p;
		if (value(s, depth + 1) == -1)
			return -1;
		if (cap) {
			s->gotp = vs;
			s->gote = s->p;
		}
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
ds_json_validate_get(const char *p, size_t len, int maxdepth,
    const char **errmsg, int *dskey, const char *key, size_t klen,
    struct ds_span *v)
{
	static struct scan s;	/* keeps the message alive for the caller */

	initcls();
	s.p = s.start = (const unsigned char *)p;
	s.e = s.p + len;
	s.maxdepth = maxdepth;
	s.err = NULL;
	s.dskey = 0;
	s.sawws = 0;
	s.want = key;
	s.wantlen = klen;
	s.gotp = s.gote = NULL;
	if (value(&s, 0) == 0) {
		ws(&s);
		if (s.p == s.e) {
			lastws = s.sawws;
			if (dskey != NULL)
				*dskey = s.dskey;
			if (s.gotp == NULL)
				return 0;
			v->p = (const char *)s.gotp;
			v->len = (size_t)(s.gote - s.gotp);
			return 1;
		}
		fail(&s, "trailing data after JSON value");
	}
	*errmsg = s.err;
	return -1;
}

int
ds_json_validate(const char *p, size_t len, int maxdepth,
    const char **errmsg, int *dskey)
{
	return ds_json_validate_get(p, len, maxdepth, errmsg, dskey, NULL, 0,
	    NULL) == -1 ? -1 : 0;
}

int
ds_json_check(const char *p, size_t len, int maxdepth, const char **errmsg)
{
	return ds_json_validate(p, len, maxdepth, errmsg, NULL);
}

int
ds_json_hadws(void)
{
	return lastws;
}

void
ds_json_compact(const char *p, size_t len, struct ds_buf *b)
{
	const char *e = p + len, *run;

	while (p < e) {
		if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
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

#define WS(p, e) while ((p) < (e) && (*(p) == ' ' || *(p) == '\t' || \
	*(p) == '\n' || *(p) == '\r')) (p)++

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
			if (e - p < 4 || (cp = hex4((const unsigned char *)p)) < 0)
				return -1;
			p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff && e - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' &&
			    (lo = hex4((const unsigned char *)p + 2)) >= 0xdc00 &&
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
