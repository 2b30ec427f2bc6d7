/*
 * kafka_changelog.c -- a stateful stage's changelog: the compacted
 * topic that holds each source partition's state in the partition of
 * the same number, written by the transactional producer in the batch's
 * transaction (ds-kafka-cat -P), read back here when a partition is
 * assigned.  Only committed records are read, to the last stable
 * offset: the state as of the partition's committed source offset.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka.h"

#define QUIET_MS	60000	/* no answer for this long: give up */

int
dk_changelog_read(const struct dk *dk, const char *topic,
    const int32_t *parts, int n, dk_changelog_fn fn, void *arg)
{
	static const char *const force[] = {
		"enable.partition.eof", "true",
		"isolation.level", "read_committed",
		NULL
	};
	rd_kafka_conf_t *conf;
	rd_kafka_message_t *m;
	rd_kafka_queue_t *q;
	rd_kafka_topic_t *rkt;
	rd_kafka_t *rk;
	char errstr[512], why[DK_ERRLEN], *done;
	int64_t quiet = ds_now_ms();
	int i, left = n, rv = 0;

	if (n == 0)
		return 0;
	if ((conf = dk_conf(dk, NULL, force)) == NULL)
		return -1;
	dk_callbacks(conf);
	if ((rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr,
	    sizeof(errstr))) == NULL) {
		rd_kafka_conf_destroy(conf);
		return dk_fail(dk, -1, "changelog %s: %s", topic, errstr);
	}
	/* the simple consumer: no group.id, no coordinator */
	if ((done = calloc((size_t)n, 1)) == NULL ||
	    (rkt = rd_kafka_topic_new(rk, topic, NULL)) == NULL ||
	    (q = rd_kafka_queue_new(rk)) == NULL)
		err(1, NULL);
	for (i = 0; i < n; i++)
		if (rd_kafka_consume_start_queue(rkt, parts[i],
		    RD_KAFKA_OFFSET_BEGINNING, q) == -1)
			rv = dk_fail(dk, -1, "changelog %s [%d]: %s", topic,
			    (int)parts[i], rd_kafka_err2str(rd_kafka_last_error()));
	while (left > 0 && rv == 0) {
		if (ds_stop) {
			rv = dk_fail(dk, -1, "changelog %s: interrupted",
			    topic);
			break;
		}
		if ((m = rd_kafka_consume_queue(q, 200)) == NULL) {
			rd_kafka_poll(rk, 0);
			if (ds_now_ms() - quiet > QUIET_MS)
				rv = dk_fail(dk, -1, "changelog %s: no answer "
				    "in %d s", topic, QUIET_MS / 1000);
			continue;
		}
		quiet = ds_now_ms();
		for (i = 0; i < n && parts[i] != m->partition; i++)
			;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			if (i < n && !done[i]) {
				done[i] = 1;
				left--;
			}
		} else if (m->err != 0)
			rv = dk_fail(dk, -1, "changelog %s [%d]: %s", topic,
			    (int)m->partition, rd_kafka_message_errstr(m));
		else if (fn(arg, m->partition, m->key, m->key_len,
		    m->payload, m->len) == -1) {
			snprintf(why, sizeof(why), "%s", dk->err);
			rv = dk_fail(dk, -1, "changelog %s [%d] at offset "
			    "%lld: %s", topic, (int)m->partition,
			    (long long)m->offset, why);
		}
		rd_kafka_message_destroy(m);
	}
	for (i = 0; i < n; i++)
		rd_kafka_consume_stop(rkt, parts[i]);
	free(done);
	rd_kafka_queue_destroy(q);
	rd_kafka_topic_destroy(rkt);
	rd_kafka_destroy(rk);
	return rv;
}

/* The first leaf of the key object k: the source partition. */
static json_t *
firstleaf(json_t *k)
{
	void *it;

	while (json_is_object(k) && (it = json_object_iter(k)) != NULL)
		k = json_object_iter_value(it);
	return k;
}

int
dk_changelog_emit(const struct dk *dk, const char *topic, const char *body,
    size_t len)
{
	const char *p = body, *e = body + len, *nl;
	json_t *line, *k, *part, *rec;
	char *ks, *s;

	for (; p < e; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(e - p))) == NULL)
			nl = e;
		if ((line = json_loadb(p, (size_t)(nl - p), 0, NULL)) == NULL ||
		    (k = json_object_get(line, "k")) == NULL ||
		    !json_is_integer(part = firstleaf(k))) {
			json_decref(line);
			return dk_fail(dk, -1, "changelog %s: a state record "
			    "without its partition", topic);
		}
		if ((ks = json_dumps(k, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
		    NULL)
			err(1, NULL);
		rec = json_pack("{s:s,s:s,s:O,s:s,s:O}", "@ds", "changelog",
		    "topic", topic, "partition", part, "key", ks, "value",
		    json_object_get(line, "d") != NULL ? json_null() : line);
		if (rec == NULL || (s = json_dumps(rec, JSON_COMPACT |
		    JSON_PRESERVE_ORDER)) == NULL)
			err(1, NULL);
		ds_out_line(s, strlen(s));
		free(s);
		free(ks);
		json_decref(rec);
		json_decref(line);
	}
	return 0;
}
