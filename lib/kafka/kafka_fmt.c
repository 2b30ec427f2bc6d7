/*
 * kafka_fmt.c -- kcat's text output for ds-kafka-cat: -f format strings
 * (%s %k %t %p %o %T %h %S %K %%, \n \t \r \\ escapes), and the format
 * that -K and -D stand for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka.h"

/*
 * Append a null-able part: its bytes, or with -Z NULL for a null or
 * empty one (as kcat does), or nothing.
 */
static void
part(struct ds_buf *b, const void *p, size_t n, int nulls)
{
	if (nulls && (p == NULL || n == 0))
		ds_buf_adds(b, "NULL");
	else if (p != NULL)
		ds_buf_add(b, p, n);
}

static void
headers(struct ds_buf *b, const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *h;
	const char *name;
	const void *v;
	size_t n, i;

	if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR)
		return;
	for (i = 0; rd_kafka_header_get_all(h, i, &name, &v, &n) ==
	    RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
		if (i > 0)
			ds_buf_addc(b, ',');
		ds_buf_adds(b, name);
		ds_buf_addc(b, '=');
		if (v == NULL)		/* kcat: NULL even without -Z */
			ds_buf_adds(b, "NULL");
		else
			ds_buf_add(b, v, n);
	}
}

void
dk_format(struct ds_buf *b, const char *f, const rd_kafka_message_t *m,
    int nulls)
{
	for (; *f != '\0'; f++) {
		if (*f == '\\' && f[1] != '\0') {
			switch (*++f) {
			case 'n': ds_buf_addc(b, '\n'); break;
			case 't': ds_buf_addc(b, '\t'); break;
			case 'r': ds_buf_addc(b, '\r'); break;
			case '\\': ds_buf_addc(b, '\\'); break;
			default:
				ds_buf_addc(b, '\\');
				ds_buf_addc(b, *f);
			}
			continue;
		}
		if (*f != '%' || f[1] == '\0') {
			ds_buf_addc(b, *f);
			continue;
		}
		switch (*++f) {
		case 's':
			part(b, m->payload, m->len, nulls);
			break;
		case 'S':
			ds_buf_addi(b, m->payload ? (int64_t)m->len : -1);
			break;
		case 'k':
			part(b, m->key, m->key_len, nulls);
			break;
		case 'K':
			ds_buf_addi(b, m->key ? (int64_t)m->key_len : -1);
			break;
		case 't':
			ds_buf_adds(b, rd_kafka_topic_name(m->rkt));
			break;
		case 'p':
			ds_buf_addi(b, m->partition);
			break;
		case 'o':
			ds_buf_addi(b, m->offset);
			break;
		case 'T':
			ds_buf_addi(b, rd_kafka_message_timestamp(m, NULL));
			break;
		case 'h':
			headers(b, m);
			break;
		case '%':
			ds_buf_addc(b, '%');
			break;
		default:
			ds_buf_addc(b, '%');
			ds_buf_addc(b, *f);
		}
	}
}

char *
dk_format_kd(const char *keydelim, const char *msgdelim)
{
	char *f;

	if (asprintf(&f, "%s%s%s%s", keydelim ? "%k" : "",
	    keydelim ? keydelim : "", "%s", msgdelim ? msgdelim : "\\n") == -1)
		return NULL;
	return f;
}
