/*
 * kafka_admin.c -- the non-streaming modes of ds-kafka-cat: -L (cluster
 * metadata as JSON), --lag (a group's committed offsets against the end
 * of each partition) and -M (librdkafka's mock cluster, with commands on
 * stdin to inject faults).
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "kafka/kafka.h"

#include <librdkafka/rdkafka_mock.h>

/* A client, or NULL with *status (2: a bad property) and dk->err. */
static rd_kafka_t *
client(const struct dk *dk, rd_kafka_type_t type, const char *const *extra,
    int *status)
{
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	char errstr[512];

	if ((conf = dk_conf(dk, extra, NULL)) == NULL) {
		*status = 2;
		return NULL;
	}
	if ((rk = rd_kafka_new(type, conf, errstr, sizeof(errstr))) == NULL)
		*status = dk_fail(dk, 1, "kafka: %s", errstr);
	return rk;
}

static int
wanted(const struct dk *dk, const char *topic)
{
	int i;

	if (dk->ntopics == 0)
		return 1;
	for (i = 0; i < dk->ntopics; i++)
		if (strcmp(dk->topics[i], topic) == 0)
			return 1;
	return 0;
}

static void
ints(const char *label, json_t *a)
{
	json_t *v;
	size_t i;

	printf("%s", label);
	json_array_foreach(a, i, v) {
		printf("%s%lld", i > 0 ? "," : "", (long long)
		    json_integer_value(v));
	}
}

/* -L on a terminal: the metadata object o as kcat prints it. */
static int
human(const struct dk *dk, json_t *o)
{
	json_t *bs = json_object_get(o, "brokers"), *b;
	json_t *ts = json_object_get(o, "topics"), *t, *ps, *p, *e;
	size_t i, j;

	printf(" %zu brokers:\n", json_array_size(bs));
	json_array_foreach(bs, i, b) {
		printf("  broker %lld at %s:%lld\n",
		    (long long)json_integer_value(json_object_get(b, "id")),
		    json_string_value(json_object_get(b, "host")),
		    (long long)json_integer_value(json_object_get(b, "port")));
	}
	printf(" %zu topics:\n", json_array_size(ts));
	json_array_foreach(ts, i, t) {
		ps = json_object_get(t, "partitions");
		printf("  topic \"%s\" with %zu partitions:",
		    json_string_value(json_object_get(t, "topic")),
		    json_array_size(ps));
		if ((e = json_object_get(t, "error")) != NULL)
			printf(" error: %s", json_string_value(e));
		printf("\n");
		json_array_foreach(ps, j, p) {
			printf("    partition %lld, leader %lld",
			    (long long)json_integer_value(json_object_get(p,
			    "partition")), (long long)json_integer_value(
			    json_object_get(p, "leader")));
			ints(", replicas: ", json_object_get(p, "replicas"));
			ints(", isrs: ", json_object_get(p, "isrs"));
			if ((e = json_object_get(p, "error")) != NULL)
				printf(", error: %s", json_string_value(e));
			printf("\n");
		}
	}
	if (fflush(stdout) == EOF)
		return dk_fail(dk, 1, "stdout: %s", strerror(errno));
	return 0;
}

/* The metadata md as the JSON object of -L -J. */
static json_t *
mdjson(const struct dk *dk, const struct rd_kafka_metadata *md)
{
	json_t *o, *bs, *ts, *t, *ps, *p, *r;
	int i, j, k;

	o = json_object();
	bs = json_array();
	for (i = 0; i < md->broker_cnt; i++)
		json_array_append_new(bs, json_pack("{s:i,s:s,s:i}", "id",
		    md->brokers[i].id, "host", md->brokers[i].host, "port",
		    md->brokers[i].port));
	json_object_set_new(o, "brokers", bs);
	ts = json_array();
	for (i = 0; i < md->topic_cnt; i++) {
		const rd_kafka_metadata_topic_t *mt = &md->topics[i];

		if (!wanted(dk, mt->topic))
			continue;
		t = json_pack("{s:s}", "topic", mt->topic);
		if (mt->err != 0)
			json_object_set_new(t, "error",
			    json_string(rd_kafka_err2str(mt->err)));
		ps = json_array();
		for (j = 0; j < mt->partition_cnt; j++) {
			const rd_kafka_metadata_partition_t *mp =
			    &mt->partitions[j];

			p = json_pack("{s:i,s:i}", "partition", mp->id,
			    "leader", mp->leader);
			r = json_array();
			for (k = 0; k < mp->replica_cnt; k++)
				json_array_append_new(r,
				    json_integer(mp->replicas[k]));
			json_object_set_new(p, "replicas", r);
			r = json_array();
			for (k = 0; k < mp->isr_cnt; k++)
				json_array_append_new(r,
				    json_integer(mp->isrs[k]));
			json_object_set_new(p, "isrs", r);
			if (mp->err != 0)
				json_object_set_new(p, "error",
				    json_string(rd_kafka_err2str(mp->err)));
			json_array_append_new(ps, p);
		}
		json_object_set_new(t, "partitions", ps);
		json_array_append_new(ts, t);
	}
	json_object_set_new(o, "topics", ts);
	for (i = 0; i < dk->ntopics; i++) {
		for (j = 0; j < md->topic_cnt; j++)
			if (strcmp(md->topics[j].topic, dk->topics[i]) == 0)
				break;
		if (j == md->topic_cnt)
			json_array_append_new(ts, json_pack("{s:s,s:s,s:[]}",
			    "topic", dk->topics[i], "error",
			    rd_kafka_err2str(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC),
			    "partitions"));
	}
	return o;
}

int
dk_metadata(const struct dk *dk)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_resp_err_t e;
	rd_kafka_t *rk;
	json_t *o;
	int status;

	if ((rk = client(dk, RD_KAFKA_PRODUCER, NULL, &status)) == NULL)
		return status;
	if ((e = rd_kafka_metadata(rk, 1, NULL, &md, 10000)) != 0) {
		rd_kafka_destroy(rk);
		return dk_fail(dk, 1, "metadata: %s", rd_kafka_err2str(e));
	}
	o = mdjson(dk, md);
	status = 0;
	if (!dk->json && isatty(STDOUT_FILENO))
		status = human(dk, o);
	else {
		ds_out_json(o);
		ds_out_flush();
	}
	json_decref(o);
	rd_kafka_metadata_destroy(md);
	rd_kafka_destroy(rk);
	return status;
}

/* A topic's partitions (or -p) into l; -1 when strict and none is. */
static int
partitions1(const struct dk *dk, const char *topic,
    const rd_kafka_metadata_topic_t *mt, rd_kafka_topic_partition_list_t *l,
    int strict)
{
	int j, found = 0;

	for (j = 0; j < mt->partition_cnt; j++)
		if (dk->partition < 0 || dk->partition ==
		    mt->partitions[j].id) {
			rd_kafka_topic_partition_list_add(l, topic,
			    mt->partitions[j].id);
			found = 1;
		}
	if (strict && !found)
		return dk_fail(dk, -1, "%s/%d: %s", topic, (int)dk->partition,
		    rd_kafka_err2str(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION));
	return 0;
}

int
dk_partitions(const struct dk *dk, rd_kafka_t *rk,
    rd_kafka_topic_partition_list_t *l, int strict)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt;
	rd_kafka_resp_err_t e;
	int i, r = 0;

	for (i = 0; r == 0 && i < dk->ntopics; i++) {
		rkt = rd_kafka_topic_new(rk, dk->topics[i], NULL);
		e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
		rd_kafka_topic_destroy(rkt);
		if (e != 0)
			return dk_fail(dk, -1, "%s: metadata: %s",
			    dk->topics[i], rd_kafka_err2str(e));
		if (md->topic_cnt < 1 && strict)
			e = RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC;
		else if (md->topic_cnt > 0)
			e = md->topics[0].err;
		if (e != 0)
			r = dk_fail(dk, -1, "%s: %s", dk->topics[i],
			    rd_kafka_err2str(e));
		else if (md->topic_cnt > 0)
			r = partitions1(dk, dk->topics[i], &md->topics[0], l,
			    strict);
		rd_kafka_metadata_destroy(md);
	}
	return r;
}

/* One line of --lag: tp's committed offset (or none) against lo, hi. */
static void
lagline(const struct dk *dk, const rd_kafka_topic_partition_t *tp,
    int64_t lo, int64_t hi)
{
	json_t *o;

	o = json_pack("{s:s,s:s,s:i}", "group", dk->group, "topic",
	    tp->topic, "partition", (int)tp->partition);
	if (tp->offset >= 0) {
		json_object_set_new(o, "committed", json_integer(tp->offset));
		json_object_set_new(o, "end", json_integer(hi));
		json_object_set_new(o, "lag", json_integer(hi - tp->offset));
	} else {
		json_object_set_new(o, "committed", json_null());
		json_object_set_new(o, "end", json_integer(hi));
		json_object_set_new(o, "lag", json_integer(hi - lo));
	}
	ds_out_json(o);
	json_decref(o);
}

int
dk_lag(const struct dk *dk)
{
	const char *const extra[] = {
		"group.id", dk->group, "enable.auto.commit", "false", NULL
	};
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_topic_partition_t *tp;
	rd_kafka_resp_err_t e;
	rd_kafka_t *rk;
	int64_t lo, hi;
	int i, status;

	if ((rk = client(dk, RD_KAFKA_CONSUMER, extra, &status)) == NULL)
		return status;
	l = rd_kafka_topic_partition_list_new(8);
	status = dk_partitions(dk, rk, l, 0) == -1;
	rd_kafka_topic_partition_list_sort(l, NULL, NULL);
	if (status == 0 && (e = rd_kafka_committed(rk, l, 10000)) != 0)
		status = dk_fail(dk, 1, "%s: committed offsets: %s",
		    dk->group, rd_kafka_err2str(e));
	for (i = 0; status == 0 && i < l->cnt; i++) {
		tp = &l->elems[i];
		if ((e = rd_kafka_query_watermark_offsets(rk, tp->topic,
		    tp->partition, &lo, &hi, 10000)) != 0)
			status = dk_fail(dk, 1, "%s/%d: offsets: %s",
			    tp->topic, (int)tp->partition,
			    rd_kafka_err2str(e));
		else
			lagline(dk, tp, lo, hi);
	}
	ds_out_flush();
	rd_kafka_topic_partition_list_destroy(l);
	rd_kafka_destroy(rk);
	return status;
}

/* A bad -Q argument: status 2. */
static int
qbad(const struct dk *dk, const char *arg, const char *what, const char *why)
{
	if (why == NULL)
		return dk_fail(dk, 2, "-t %s: %s", arg, what);
	return dk_fail(dk, 2, "-t %s: %s %s", arg, what, why);
}

/* Add -Q's TOPIC:PARTITION:TIMESTAMP arg to l: 0, or 2. */
static int
qarg(const struct dk *dk, const char *arg, rd_kafka_topic_partition_list_t *l)
{
	char *t, *c1 = NULL, *c2;
	const char *es;
	long long pn, ts;
	int r = 0;

	if ((t = strdup(arg)) == NULL)
		err(1, NULL);
	if ((c2 = strrchr(t, ':')) != NULL && c2 != t) {
		*c2++ = '\0';
		c1 = strrchr(t, ':');
	}
	if (c1 == NULL || c1 == t) {
		free(t);
		return qbad(dk, arg, "expected TOPIC:PARTITION:TIMESTAMP",
		    NULL);
	}
	*c1++ = '\0';
	pn = strtonum(c1, 0, INT32_MAX, &es);
	if (es != NULL)
		r = qbad(dk, arg, "partition", es);
	else {
		ts = strtonum(c2, 0, INT64_MAX, &es);
		if (es != NULL)
			r = qbad(dk, arg, "timestamp", es);
		else
			rd_kafka_topic_partition_list_add(l, t,
			    (int32_t)pn)->offset = ts;
	}
	free(t);
	return r;
}

int
dk_query(const struct dk *dk)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t e;
	rd_kafka_t *rk = NULL;
	rd_kafka_topic_partition_t *tp;
	json_t *o;
	int i, status = 0, failed;

	l = rd_kafka_topic_partition_list_new(dk->ntopics);
	for (i = 0; status == 0 && i < dk->ntopics; i++)
		status = qarg(dk, dk->topics[i], l);
	if (status == 0)
		rk = client(dk, RD_KAFKA_PRODUCER, NULL, &status);
	if (rk != NULL && (e = rd_kafka_offsets_for_times(rk, l, 10000)) != 0)
		status = dk_fail(dk, 1, "offsets for times: %s",
		    rd_kafka_err2str(e));
	failed = status != 0;	/* else each partition says */
	for (i = 0; rk != NULL && !failed && i < l->cnt; i++) {
		tp = &l->elems[i];
		if (tp->err != 0) {
			warnx("%s/%d: %s", tp->topic, (int)tp->partition,
			    rd_kafka_err2str(tp->err));
			status = 1;
		} else if (!dk->json && isatty(STDOUT_FILENO))
			printf("%s [%d] offset %lld\n", tp->topic,
			    (int)tp->partition, (long long)tp->offset);
		else {
			o = json_pack("{s:s,s:i,s:I}", "topic", tp->topic,
			    "partition", (int)tp->partition, "offset",
			    (json_int_t)tp->offset);
			ds_out_json(o);
			json_decref(o);
		}
	}
	ds_out_flush();
	rd_kafka_topic_partition_list_destroy(l);
	if (rk != NULL)
		rd_kafka_destroy(rk);
	return status;
}

/* ------------------------------------------------------------------ */
/* -M: the mock cluster */

static const struct {
	const char	*name;
	int16_t		 key;
} apis[] = {
	{ "Produce", 0 }, { "Fetch", 1 }, { "ListOffsets", 2 },
	{ "Metadata", 3 }, { "OffsetCommit", 8 }, { "OffsetFetch", 9 },
	{ "FindCoordinator", 10 }, { "JoinGroup", 11 }, { "Heartbeat", 12 },
	{ "LeaveGroup", 13 }, { "SyncGroup", 14 }, { "DescribeGroups", 15 },
	{ "ListGroups", 16 }, { "ApiVersions", 18 }, { "CreateTopics", 19 },
	{ "InitProducerId", 22 }, { "OffsetForLeaderEpoch", 23 },
	{ "AddPartitionsToTxn", 24 }, { "AddOffsetsToTxn", 25 },
	{ "EndTxn", 26 }, { "TxnOffsetCommit", 28 },
};

static int
apikey(const char *s, int16_t *k)
{
	const char *e;
	size_t i;

	for (i = 0; i < sizeof(apis) / sizeof(apis[0]); i++)
		if (strcasecmp(s, apis[i].name) == 0) {
			*k = apis[i].key;
			return 0;
		}
	*k = (int16_t)strtonum(s, 0, 100, &e);
	return e == NULL ? 0 : -1;
}

static int
errcode(const char *s, rd_kafka_resp_err_t *code)
{
	const struct rd_kafka_err_desc *d;
	const char *e;
	size_t i, n;

	rd_kafka_get_err_descs(&d, &n);
	for (i = 0; i < n; i++) {
		if (d[i].name == NULL)
			continue;
		if (strcasecmp(s, d[i].name) == 0 || (d[i].name[0] == '_' &&
		    strcasecmp(s, d[i].name + 1) == 0)) {
			*code = d[i].code;
			return 0;
		}
	}
	*code = (rd_kafka_resp_err_t)strtonum(s, -200, 200, &e);
	return e == NULL ? 0 : -1;
}

static int
num(const char *s, long long lo, long long hi, long long *v)
{
	const char *e;

	if (s == NULL)
		return -1;
	*v = strtonum(s, lo, hi, &e);
	return e == NULL ? 0 : -1;
}

/*
 * One command line for the mock cluster.  Returns NULL when done, or
 * what was wrong.
 */
static const char *
mockcmd(rd_kafka_mock_cluster_t *mc, char *line)
{
	char *av[32], *save = NULL, *t;
	int ac = 0;
	long long a, b;
	int16_t k;
	rd_kafka_resp_err_t errs[30];
	rd_kafka_resp_err_t e = 0;
	int i;

	for (t = strtok_r(line, " \t", &save); t != NULL && ac < 31;
	    t = strtok_r(NULL, " \t", &save))
		av[ac++] = t;
	av[ac] = NULL;
	if (ac == 0 || av[0][0] == '#')
		return NULL;
	if (strcmp(av[0], "topic") == 0) {
		if (ac < 3 || num(av[2], 1, 100000, &a) == -1)
			return "usage: topic NAME PARTITIONS [REPLICAS]";
		b = 1;
		if (ac > 3 && num(av[3], 1, 100, &b) == -1)
			return "usage: topic NAME PARTITIONS [REPLICAS]";
		e = rd_kafka_mock_topic_create(mc, av[1], (int)a, (int)b);
	} else if (strcmp(av[0], "error") == 0) {
		if (ac < 3 || apikey(av[1], &k) == -1)
			return "usage: error API ERROR [ERROR ...]";
		for (i = 2; i < ac; i++)
			if (errcode(av[i], &errs[i - 2]) == -1)
				return "unknown error name";
		rd_kafka_mock_push_request_errors_array(mc, k,
		    (size_t)(ac - 2), errs);
	} else if (strcmp(av[0], "clear") == 0) {
		if (ac != 2 || apikey(av[1], &k) == -1)
			return "usage: clear API";
		rd_kafka_mock_clear_request_errors(mc, k);
	} else if (strcmp(av[0], "down") == 0 || strcmp(av[0], "up") == 0) {
		if (ac != 2 || num(av[1], -1, 1000, &a) == -1)
			return "usage: down|up BROKER";
		e = av[0][0] == 'd' ?
		    rd_kafka_mock_broker_set_down(mc, (int32_t)a) :
		    rd_kafka_mock_broker_set_up(mc, (int32_t)a);
	} else if (strcmp(av[0], "leader") == 0) {
		if (ac != 4 || num(av[2], 0, INT32_MAX, &a) == -1 ||
		    num(av[3], -1, 1000, &b) == -1)
			return "usage: leader TOPIC PARTITION BROKER";
		e = rd_kafka_mock_partition_set_leader(mc, av[1], (int32_t)a,
		    (int32_t)b);
	} else if (strcmp(av[0], "rtt") == 0) {
		if (ac != 3 || num(av[1], -1, 1000, &a) == -1 ||
		    num(av[2], 0, 600000, &b) == -1)
			return "usage: rtt BROKER MS";
		e = rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b);
	} else if (strcmp(av[0], "coordinator") == 0) {
		if (ac != 4 || num(av[3], 1, 1000, &a) == -1)
			return "usage: coordinator group|transaction KEY BROKER";
		e = rd_kafka_mock_coordinator_set(mc, av[1], av[2],
		    (int32_t)a);
	} else
		return "unknown command";
	return e == 0 ? NULL : rd_kafka_err2str(e);
}

int
dk_mock(const struct dk *dk, int nbrokers)
{
	char nb[16], errstr[512];
	const char *const extra[] = { "test.mock.num.brokers", nb, NULL };
	rd_kafka_mock_cluster_t *mc;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	struct ds_in *in;
	struct ds_line l;
	struct pollfd pfd;
	const char *why;
	char *cmd;
	int open = 1;

	snprintf(nb, sizeof(nb), "%d", nbrokers);
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, extra[0], nb, errstr, sizeof(errstr)) !=
	    0) {
		rd_kafka_conf_destroy(conf);
		return dk_fail(dk, 1, "-M: %s", errstr);
	}
	dk_callbacks(conf);
	if ((rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr,
	    sizeof(errstr))) == NULL)
		return dk_fail(dk, 1, "-M: %s", errstr);
	if ((mc = rd_kafka_handle_mock_cluster(rk)) == NULL) {
		rd_kafka_destroy(rk);
		return dk_fail(dk, 1, "-M: no mock cluster");
	}
	printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	if ((in = ds_in_open("-", 65536)) == NULL)
		err(1, NULL);		/* stdin: only memory can fail */
	while (!ds_stop) {
		pfd.fd = 0;
		pfd.events = POLLIN;
		if (!open || poll(&pfd, 1, 200) <= 0) {
			if (!open)
				poll(NULL, 0, 200);
			continue;
		}
		if (ds_in_fill(in) == 0)
			open = 0;	/* keep serving until a signal */
		while (ds_in_line(in, &l)) {
			if ((cmd = strndup(l.p, l.len)) == NULL)
				err(1, NULL);
			if ((why = mockcmd(mc, cmd)) != NULL) {
				warnx("<stdin>:%lu: %s", l.lineno, why);
				printf("error %.*s\n", (int)l.len, l.p);
			} else
				printf("ok %.*s\n", (int)l.len, l.p);
			fflush(stdout);
			free(cmd);
		}
	}
	ds_in_close(in);
	rd_kafka_destroy(rk);
	return 0;
}
