/*
 * buf.c -- a growable byte buffer.  The buffer owns p; ds_buf_free
 * releases it.  Also JSON text output: numbers, strings, base64.
 *
 * ds_reallocarray is the one place libds exits: when memory runs out
 * (err(1)), since no tool can go on without it.  Everything else returns
 * an error to its caller.
 */
#include <err.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

void *
ds_reallocarray(void *p, size_t n, size_t size)
{
	if ((p = reallocarray(p, n, size)) == NULL && n > 0 && size > 0)
		err(1, NULL);
	return p;
}

void
ds_buf_grow(struct ds_buf *b, size_t more)
{
	size_t cap;

	if (b->len + more <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	b->p = ds_reallocarray(b->p, cap, 1);
	b->cap = cap;
}

void
ds_buf_add(struct ds_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;		/* memcpy from NULL is undefined even for 0 */
	ds_buf_grow(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
ds_buf_addc(struct ds_buf *b, char c)
{
	ds_buf_grow(b, 1);
	b->p[b->len++] = c;
}

void
ds_buf_adds(struct ds_buf *b, const char *s)
{
	ds_buf_add(b, s, strlen(s));
}

void
ds_buf_addf(struct ds_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;		/* an encoding error: nothing to append */
	ds_buf_grow(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
ds_buf_addi(struct ds_buf *b, int64_t v)
{
	char tmp[24], *q = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do
		*--q = '0' + u % 10;
	while ((u /= 10) != 0);
	if (v < 0)
		*--q = '-';
	ds_buf_add(b, q, tmp + sizeof(tmp) - q);
}

/*
 * tmp is the 16 digits nearest to d, a power of two, and below it: does
 * the next 16-digit decimal up read back?  (Below a power of two doubles
 * are twice as dense, so the nearest can miss where the next one up does
 * not.)  Then tmp becomes that decimal.
 */
static int
roundup(char *tmp, double d)
{
	char *q = strchr(tmp, 'e');

	while (q-- > tmp) {
		if (*q == '.')
			continue;
		if (*q != '9') {
			(*q)++;
			return strtod(tmp, NULL) == d;
		}
		*q = '0';
	}
	return 0;	/* 9.99...: never for a double, checked by the tests */
}

/*
 * The shortest decimal digits that read back as d (finite, positive):
 * d is 0.DIGITS times 10 to the *decpt; returns how many digits (no
 * trailing zeros).  Any decimal of 15 digits or fewer that reads back
 * as a normal double is what %.14e gives, so rounding to 15, then 16,
 * then 17 digits finds the shortest; a subnormal may need fewer.
 */
static int
shortest(double d, char *dig, int *decpt)
{
	char tmp[32], *e, *q;
	int prec, nd, x;
	double r;

	for (prec = d < DBL_MIN ? 1 : 15; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if ((r = strtod(tmp, NULL)) == d)
			break;
		if (prec == 16 && r < d && frexp(d, &x) == 0.5 &&
		    roundup(tmp, d))
			break;
	}
	if (prec == 17)
		snprintf(tmp, sizeof(tmp), "%.16e", d);
	e = strchr(tmp, 'e');
	*decpt = (int)strtol(e + 1, NULL, 10) + 1;
	for (nd = 0, q = tmp; q < e; q++)
		if (*q != '.')
			dig[nd++] = *q;
	while (nd > 1 && dig[nd - 1] == '0')
		nd--;
	return nd;
}

/*
 * As jq 1.7 prints a number: the shortest digits that read back, plain
 * unless the point is more than 15 places past the last digit or d is
 * below 1e-4, then as 1.5e-07 (a sign and at least two exponent digits).
 * So 1e15 is 1000000000000000 but 1e16 is 1e+16; 0.0001 stays, 1e-05.
 * NaN is null, an infinity the largest double, -0 stays -0.
 */
void
ds_buf_addd(struct ds_buf *b, double d)
{
	char dig[20];
	int nd, decpt, x;

	if (fabs(d) < 9007199254740992.0 && d == (double)(int64_t)d) {
		if (d == 0 && signbit(d))
			ds_buf_add(b, "-0", 2);
		else
			ds_buf_addi(b, (int64_t)d);	/* 2^53: exact */
		return;
	}
	if (isnan(d)) {
		ds_buf_add(b, "null", 4);
		return;
	}
	if (isinf(d))
		d = d > 0 ? DBL_MAX : -DBL_MAX;
	if (d < 0) {
		ds_buf_addc(b, '-');
		d = -d;
	}
	nd = shortest(d, dig, &decpt);
	if (decpt <= -4 || decpt > nd + 15) {
		ds_buf_addc(b, dig[0]);
		if (nd > 1) {
			ds_buf_addc(b, '.');
			ds_buf_add(b, dig + 1, nd - 1);
		}
		x = decpt - 1;
		ds_buf_add(b, x < 0 ? "e-" : "e+", 2);
		if (x < 0)
			x = -x;
		if (x >= 100)
			ds_buf_addc(b, '0' + x / 100);
		ds_buf_addc(b, '0' + x / 10 % 10);
		ds_buf_addc(b, '0' + x % 10);
	} else if (decpt <= 0) {
		ds_buf_add(b, "0.", 2);
		for (x = decpt; x < 0; x++)
			ds_buf_addc(b, '0');
		ds_buf_add(b, dig, nd);
	} else if (decpt >= nd) {
		ds_buf_add(b, dig, nd);
		for (x = nd; x < decpt; x++)
			ds_buf_addc(b, '0');
	} else {
		ds_buf_add(b, dig, decpt);
		ds_buf_addc(b, '.');
		ds_buf_add(b, dig + decpt, nd - decpt);
	}
}

int
ds_hex4(const void *p)
{
	const unsigned char *s = p;
	int i, c, v = 0;

	for (i = 0; i < 4; i++) {
		c = s[i] | 0x20;
		if (s[i] >= '0' && s[i] <= '9')
			v = v * 16 + s[i] - '0';
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + c - 'a' + 10;
		else
			return -1;
	}
	return v;
}

size_t
ds_utf8_len(const void *p, size_t n)
{
	const unsigned char *s = p;
	unsigned c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;
		if (c == 0xed && s[1] > 0x9f)
			return 0;	/* surrogates */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] > 0x8f)
			return 0;
		return 4;
	}
	return 0;
}

/* A JSON string literal; del: escape DEL too (jq's form). */
static void
addq(struct ds_buf *b, const char *s, size_t n, int del)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	const unsigned char *run;
	size_t k;

	ds_buf_grow(b, n + 2);
	b->p[b->len++] = '"';
	while (p < e) {
		run = p;
		while (p < e && *p >= 0x20 && *p < 0x80 && *p != '"' &&
		    *p != '\\' && (*p != 0x7f || !del))
			p++;
		if (p > run)
			ds_buf_add(b, run, p - run);
		if (p == e)
			break;
		if (*p >= 0x80) {
			if ((k = ds_utf8_len(p, e - p)) == 0) {
				ds_buf_add(b, "\xef\xbf\xbd", 3);
				p++;
			} else {
				ds_buf_add(b, p, k);
				p += k;
			}
			continue;
		}
		ds_buf_addc(b, '\\');
		switch (*p) {
		case '"':  ds_buf_addc(b, '"'); break;
		case '\\': ds_buf_addc(b, '\\'); break;
		case '\n': ds_buf_addc(b, 'n'); break;
		case '\t': ds_buf_addc(b, 't'); break;
		case '\r': ds_buf_addc(b, 'r'); break;
		case '\b': ds_buf_addc(b, 'b'); break;
		case '\f': ds_buf_addc(b, 'f'); break;
		default:
			ds_buf_add(b, "u00", 3);
			ds_buf_addc(b, hex[*p >> 4]);
			ds_buf_addc(b, hex[*p & 15]);
		}
		p++;
	}
	ds_buf_addc(b, '"');
}

void
ds_buf_addq(struct ds_buf *b, const char *s, size_t n)
{
	addq(b, s, n, 0);
}

void
ds_buf_addq_jq(struct ds_buf *b, const char *s, size_t n)
{
	addq(b, s, n, 1);
}

int
ds_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	uint64_t w;
	size_t k;

	while (p < e) {
		if (e - p >= 8) {
			memcpy(&w, p, 8);
			if ((w & 0x8080808080808080ULL) == 0) {
				p += 8;		/* eight ASCII bytes */
				continue;
			}
		}
		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((k = ds_utf8_len(p, (size_t)(e - p))) == 0)
			return 0;
		p += k;
	}
	return 1;
}

void
ds_buf_addb64(struct ds_buf *b, const void *s, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *u = s;
	unsigned long v;
	size_t i;

	ds_buf_grow(b, (n + 2) / 3 * 4);
	for (i = 0; i < n; i += 3) {
		v = (unsigned long)u[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)u[i + 1] << 8;
		if (i + 2 < n)
			v |= u[i + 2];
		b->p[b->len++] = tab[v >> 18];
		b->p[b->len++] = tab[(v >> 12) & 63];
		b->p[b->len++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		b->p[b->len++] = i + 2 < n ? tab[v & 63] : '=';
	}
}

/* Base64 up to the first '='; what follows must be '=' unless lax. */
static int
b64dec(struct ds_buf *b, const char *s, size_t n, int lax)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *c;
	unsigned long v = 0;
	size_t i;
	int bits = 0;

	for (i = 0; i < n && s[i] != '='; i++) {
		if (s[i] == '\0' || (c = strchr(tab, s[i])) == NULL)
			return -1;
		v = (v << 6 | (unsigned long)(c - tab)) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			ds_buf_addc(b, (char)(v >> bits & 0xff));
		}
	}
	if (bits == 6)
		return -1;	/* a lone last character: not a whole byte */
	for (; !lax && i < n; i++)
		if (s[i] != '=')
			return -1;
	return 0;
}

int
ds_b64dec(struct ds_buf *b, const char *s, size_t n)
{
	return b64dec(b, s, n, 0);
}

int
ds_b64dec_lax(struct ds_buf *b, const char *s, size_t n)
{
	return b64dec(b, s, n, 1);
}

void
ds_buf_free(struct ds_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
