/*
 * format.c -- jq's @formats (see exprint.h for the layers): @text @json
 * @html @uri @csv @tsv @sh @base64 @base64d @base32 @base32d, applied to
 * one value; and
 * the string jq makes of bytes that may not be UTF-8 (ds_jq_utf8).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jq/exprint.h"

#define A	(&x->a)


int
ex_fmtid(const char *name, size_t n)
{
	static const char *names[] = { "text", "json", "html", "uri", "csv",
	    "tsv", "sh", "base64", "base64d", "base32", "base32d", NULL };
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (strlen(names[i]) == n && memcmp(names[i], name, n) == 0)
			return i + 1;
	return 0;
}

/* Is s[0..n) all base64 characters? */
static int
isb64(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/')
			return 0;
	return 1;
}

/* the cells of @csv, @tsv, @sh */
static int
cell(struct ds_expr *x, struct ds_buf *b, struct val *v, int fmt)
{
	uint32_t i;

	switch (v->t) {
	case T_NULL:
		if (fmt == F_SH)
			ds_buf_adds(b, "null");
		return 0;
	case T_TRUE:
	case T_FALSE:
	case T_NUM:
		ev_print(b, v);
		return 0;
	case T_STR:
		if (fmt == F_CSV) {
			ds_buf_addc(b, '"');
			for (i = 0; i < v->n; i++) {
				if (v->u.s[i] == '"')
					ds_buf_addc(b, '"');
				ds_buf_addc(b, v->u.s[i]);
			}
			ds_buf_addc(b, '"');
		} else if (fmt == F_TSV) {
			for (i = 0; i < v->n; i++)
				switch (v->u.s[i]) {
				case '\\': ds_buf_adds(b, "\\\\"); break;
				case '\t': ds_buf_adds(b, "\\t"); break;
				case '\n': ds_buf_adds(b, "\\n"); break;
				case '\r': ds_buf_adds(b, "\\r"); break;
				default: ds_buf_addc(b, v->u.s[i]);
				}
		} else {
			ds_buf_addc(b, '\'');
			for (i = 0; i < v->n; i++) {
				if (v->u.s[i] == '\'')
					ds_buf_adds(b, "'\\''");
				else
					ds_buf_addc(b, v->u.s[i]);
			}
			ds_buf_addc(b, '\'');
		}
		return 0;
	default:
		if (fmt == F_SH)
			ex_err(x, "%s can not be escaped for shell",
			    ex_desc(x, v));
		else
			ex_err(x, "%s is not valid in a %s row", ex_desc(x, v),
			    fmt == F_CSV ? "csv" : "tsv");
		return -1;
	}
}

void
ds_jq_utf8(struct ds_buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i, k, len;

	for (i = 0; i < n; i += k) {
		if ((k = ds_utf8_len(s + i, n - i)) > 0) {
			ds_buf_add(b, s + i, k);
			continue;
		}
		ds_buf_add(b, "\xef\xbf\xbd", 3);
		len = s[i] < 0xc2 || s[i] > 0xf4 ? 1 : s[i] < 0xe0 ? 2 :
		    s[i] < 0xf0 ? 3 : 4;
		if (len > n - i)
			k = n - i;
		else
			for (k = 1; k < len && (s[i + k] & 0xc0) == 0x80; k++)
				;
	}
}

/* the bytes a decoder made (when ok), as jq makes a string of them */
static struct val *
decoded(struct ds_expr *x, struct ds_buf *raw, int ok)
{
	struct ds_buf b = { 0 };
	struct val *r = NULL;

	if (ok) {
		ds_jq_utf8(&b, raw->p, raw->len);
		r = ev_str(&x->a, b.p ? b.p : "", b.len);
		ds_buf_free(&b);
	}
	ds_buf_free(raw);
	return r;
}

/* jq decodes up to the first '=' and ignores the rest; a lone last
 * character of base64 has its own message */
static struct val *
base64d(struct ds_expr *x, struct val *s)
{
	struct ds_buf raw = { 0 };
	const char *q;
	size_t n;

	if (ds_b64dec_lax(&raw, s->u.s, s->n) == -1) {
		q = memchr(s->u.s, '=', s->n);
		n = q ? (size_t)(q - s->u.s) : s->n;
		ex_err(x, n % 4 == 1 && isb64(s->u.s, n) ?
		    "%s trailing base64 byte found" :
		    "%s is not valid base64 data", ex_desc(x, s));
		return decoded(x, &raw, 0);
	}
	return decoded(x, &raw, 1);
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* RFC 4648's base32: 5 bits a character, '=' up to a multiple of 8 */
static void
base32(struct ds_buf *b, const char *s, size_t n)
{
	uint32_t acc = 0;
	size_t i, out = 0;
	int bits = 0;

	for (i = 0; i < n; i++) {
		acc = acc << 8 | (unsigned char)s[i];
		for (bits += 8; bits >= 5; out++) {
			bits -= 5;
			ds_buf_addc(b, b32[acc >> bits & 31]);
		}
	}
	if (bits > 0) {
		ds_buf_addc(b, b32[acc << (5 - bits) & 31]);
		out++;
	}
	for (; out % 8 != 0; out++)
		ds_buf_addc(b, '=');
}

/* as @base64d: decoded up to the first '=', the bits short of a byte
 * dropped; a character outside the alphabet is an error */
static struct val *
base32d(struct ds_expr *x, struct val *s)
{
	struct ds_buf raw = { 0 };
	const char *p;
	uint32_t acc = 0, i;
	int bits = 0;

	for (i = 0; i < s->n && s->u.s[i] != '='; i++) {
		if ((p = memchr(b32, s->u.s[i], 32)) == NULL) {
			ex_err(x, "%s is not valid base32 data", ex_desc(x, s));
			return decoded(x, &raw, 0);
		}
		acc = acc << 5 | (uint32_t)(p - b32);
		if ((bits += 5) >= 8) {
			bits -= 8;
			ds_buf_addc(&raw, (char)(acc >> bits & 0xff));
		}
	}
	return decoded(x, &raw, 1);
}

struct val *
ex_format(struct ds_expr *x, int fmt, struct val *v)
{
	struct ds_buf b = { 0 };
	struct val *r = NULL, *s;
	uint32_t i;

	if (fmt == F_JSON)
		return ex_tojson(x, v);
	if (fmt == F_CSV || fmt == F_TSV || (fmt == F_SH && v->t == T_ARR)) {
		if (v->t != T_ARR)
			return ex_err(x, "%s cannot be %s-formatted, only an "
			    "array can be", ex_desc(x, v),
			    fmt == F_CSV ? "csv" : "tsv");
		for (i = 0; i < v->n; i++) {
			if (i > 0)
				ds_buf_addc(&b, fmt == F_CSV ? ',' :
				    fmt == F_TSV ? '\t' : ' ');
			if (cell(x, &b, v->u.a[i], fmt) == -1)
				goto out;
		}
		goto done;
	}
	if (fmt == F_SH) {
		if (cell(x, &b, v, fmt) == -1)
			goto out;
		goto done;
	}
	if ((s = v->t == T_STR ? v : ex_tojson(x, v)) == NULL)
		goto out;
	switch (fmt) {
	case F_TEXT:
		ds_buf_free(&b);
		return s;
	case F_HTML:
		for (i = 0; i < s->n; i++)
			switch (s->u.s[i]) {
			case '<': ds_buf_adds(&b, "&lt;"); break;
			case '>': ds_buf_adds(&b, "&gt;"); break;
			case '&': ds_buf_adds(&b, "&amp;"); break;
			case '\'': ds_buf_adds(&b, "&apos;"); break;
			case '"': ds_buf_adds(&b, "&quot;"); break;
			default: ds_buf_addc(&b, s->u.s[i]);
			}
		break;
	case F_URI:
		for (i = 0; i < s->n; i++) {
			unsigned char c = (unsigned char)s->u.s[i];

			/* jq 1.6's unreserved set */
			if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || strchr("-_.!~*'()", c) !=
			    NULL)
				ds_buf_addc(&b, (char)c);
			else
				ds_buf_addf(&b, "%%%02X", c);
		}
		break;
	case F_BASE64:
		ds_buf_addb64(&b, s->u.s, s->n);
		break;
	case F_BASE64D:
		return base64d(x, s);
	case F_BASE32:
		base32(&b, s->u.s, s->n);
		break;
	case F_BASE32D:
		return base32d(x, s);
	}
done:
	r = ev_str(A, b.p ? b.p : "", b.len);
out:
	ds_buf_free(&b);
	return r;
}
