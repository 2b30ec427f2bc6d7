/*
 * buf.c -- a growable byte buffer.  The buffer owns p; ds_buf_free
 * releases it.  Allocation failure exits (err(1)): tools cannot go on.
 */
#include <err.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

void
ds_buf_grow(struct ds_buf *b, size_t more)
{
	size_t cap;

	if (b->len + more <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + more)
		cap *= 2;
	if ((b->p = realloc(b->p, cap)) == NULL)
		err(1, NULL);
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
		errx(1, "ds_buf_addf: bad format");
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

void
ds_buf_addd(struct ds_buf *b, double d)
{
	char tmp[40];
	int prec;

	if (isnan(d)) {
		ds_buf_adds(b, "null");
		return;
	}
	if (isinf(d)) {
		/* jq prints infinities as the largest finite double */
		ds_buf_adds(b, d > 0 ? "1.7976931348623157e+308" :
		    "-1.7976931348623157e+308");
		return;
	}
	if (fabs(d) < 1e17 && d == (double)(int64_t)d) {	/* range first */
		ds_buf_addi(b, (int64_t)d);
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	ds_buf_adds(b, tmp);
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

void
ds_buf_addq(struct ds_buf *b, const char *s, size_t n)
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
		    *p != '\\')
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

int
ds_b64dec(struct ds_buf *b, const char *s, size_t n)
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
	for (; i < n; i++)
		if (s[i] != '=')
			return -1;
	return 0;
}

void
ds_buf_free(struct ds_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
