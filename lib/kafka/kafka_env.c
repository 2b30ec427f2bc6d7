/*
 * kafka_env.c -- the lossless envelope of ds-kafka-cat(1): key, headers
 * and value as readable JSON, plus, only when those do not give back
 * the exact bytes, the fields that do ("value_text", "key_encoding",
 * "value_encoding", "header_list").  The consumer writes them; the
 * producer renders headers the same way to check that a header_list
 * still says what "headers" says.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kafka/kafka.h"

/* Append ,"<name><suffix>": to b. */
static void
extrafield(struct ds_buf *b, const char *name, const char *suffix)
{
	ds_buf_adds(b, ",\"");
	ds_buf_adds(b, name);
	ds_buf_adds(b, suffix);
	ds_buf_adds(b, "\":");
}

static void
addb64q(struct ds_buf *b, const void *s, size_t n)
{
	ds_buf_addc(b, '"');
	ds_buf_addb64(b, s, n);
	ds_buf_addc(b, '"');
}

int
dk_encode(struct ds_buf *b, struct ds_buf *extra, const char *name,
    const char *s, size_t n, enum dk_vmode mode, const char **why)
{
	static struct ds_jscan js;	/* keeps *why alive for the caller */
	enum ds_jtype t;

	if (s == NULL) {
		ds_buf_add(b, "null", 4);
		return 0;
	}
	if (mode == DK_AUTO || mode == DK_JSON) {
		js.maxdepth = ds_opts.maxdepth;
		if (ds_json_scan(s, n, &js) == 0) {
			t = ds_json_type(s, n);
			if (!js.hadws)
				ds_buf_add(b, s, n);
			else {
				/* compact for the pipe, the text to copy */
				ds_json_compact(s, n, b);
				extrafield(extra, name, "_text");
				ds_buf_addq(extra, s, n);
			}
			/* a string or null payload is its JSON text */
			if (t == DS_JSTR || t == DS_JNULL) {
				extrafield(extra, name, "_encoding");
				ds_buf_adds(extra, "\"json\"");
			}
			return 0;
		}
		*why = js.err;
		if (mode == DK_JSON)
			return -1;
	}
	if (mode != DK_BASE64 && ds_utf8_valid(s, n)) {
		ds_buf_addq(b, s, n);
		return 0;
	}
	addb64q(b, s, n);
	extrafield(extra, name, "_encoding");
	ds_buf_adds(extra, "\"base64\"");
	return 0;
}

/* A header value: null, its text, or (not UTF-8) its base64. */
static int
hval(struct ds_buf *b, const void *v, size_t n)
{
	if (v == NULL)
		ds_buf_add(b, "null", 4);
	else if (ds_utf8_valid(v, n))
		ds_buf_addq(b, v, n);
	else {
		addb64q(b, v, n);
		return 1;
	}
	return 0;
}

void
dk_headers(struct ds_buf *b, struct ds_buf *extra,
    const rd_kafka_headers_t *h)
{
	const char *name, *later;
	const void *v, *lv;
	size_t n, ln, i, j;
	int list = 0, first = 1, dup;

	ds_buf_addc(b, '{');
	for (i = 0; h != NULL && rd_kafka_header_get_all(h, i, &name, &v,
	    &n) == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
		/* the last header of a name is the object's, as in jq */
		dup = 0;
		for (j = i + 1; !dup && rd_kafka_header_get_all(h, j, &later,
		    &lv, &ln) == RD_KAFKA_RESP_ERR_NO_ERROR; j++)
			dup = strcmp(later, name) == 0;
		if (dup) {
			list = 1;
			continue;
		}
		if (!first)
			ds_buf_addc(b, ',');
		first = 0;
		ds_buf_addq(b, name, strlen(name));
		ds_buf_addc(b, ':');
		list |= hval(b, v, n);
	}
	ds_buf_addc(b, '}');
	if (!list || extra == NULL)
		return;
	ds_buf_adds(extra, ",\"header_list\":[");
	for (i = 0; rd_kafka_header_get_all(h, i, &name, &v, &n) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
		ds_buf_adds(extra, i > 0 ? ",[" : "[");
		ds_buf_addq(extra, name, strlen(name));
		ds_buf_addc(extra, ',');
		if (hval(extra, v, n))
			ds_buf_adds(extra, ",\"base64\"");
		ds_buf_addc(extra, ']');
	}
	ds_buf_addc(extra, ']');
}

int
dk_bad(const struct dk *dk, const struct ds_line *l, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return dk->bad(l, why);
}
