/*
 * kafka_conf.c -- librdkafka configuration for ds-kafka-cat: -b, -X and
 * -F passed through to librdkafka's own parser (as kcat does), with the
 * values of secret properties kept out of every message.
 */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kafka/kafka.h"

/* the client's private key: ssl.key.pem, ssl.key.location, ssl_key */
static int
privkey(const char *name, size_t n)
{
	return (n >= 7 && memcmp(name, "ssl.key", 7) == 0) ||
	    (n >= 7 && memcmp(name, "ssl_key", 7) == 0);
}

int
dk_secret(const char *name)
{
	return strstr(name, "password") != NULL ||
	    strstr(name, "secret") != NULL || strstr(name, "sasl") != NULL ||
	    privkey(name, strlen(name));
}

int
dk_password(const char *prop)
{
	size_t n = strcspn(prop, "=");

	return memmem(prop, n, "password", 8) != NULL ||
	    memmem(prop, n, "secret", 6) != NULL ||
	    (n == 11 && memcmp(prop, "ssl.key.pem", 11) == 0);
}

int
dk_fail(const struct dk *dk, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dk->err, DK_ERRLEN, fmt, ap);
	va_end(ap);
	return status;
}

/*
 * Set one property from where (a -F file's "path:line", NULL for -X).
 * Returns 0, or -1 with the reason in dk->err, which never shows a
 * secret value.
 */
static int
set(const struct dk *dk, rd_kafka_conf_t *conf, const char *name,
    const char *val, const char *where)
{
	char errstr[512];

	if (rd_kafka_conf_set(conf, name, val, errstr, sizeof(errstr)) ==
	    RD_KAFKA_CONF_OK)
		return 0;
	if (dk_secret(name))
		snprintf(errstr, sizeof(errstr), "invalid property or value");
	if (where != NULL)
		return dk_fail(dk, -1, "%s: %s: %s", where, name, errstr);
	return dk_fail(dk, -1, "-X %s: %s", name, errstr);
}

void
dk_conf_add(struct dk *dk, const char *prop, const char *where)
{
	dk->props = reallocarray(dk->props, dk->nprops + 1,
	    sizeof(*dk->props));
	dk->propsrc = reallocarray(dk->propsrc, dk->nprops + 1,
	    sizeof(*dk->propsrc));
	if (dk->props == NULL || dk->propsrc == NULL ||
	    (dk->props[dk->nprops] = strdup(prop)) == NULL)
		err(1, NULL);
	dk->propsrc[dk->nprops] = NULL;
	if (where != NULL && (dk->propsrc[dk->nprops] = strdup(where)) == NULL)
		err(1, NULL);
	dk->nprops++;
}

int
dk_conf_arg(struct dk *dk, const char *arg)
{
	if (strchr(arg, '=') == NULL || *arg == '=')
		return -1;
	dk_conf_add(dk, arg, NULL);
	if (dk_password(arg))
		warnx("-X %.*s: the value shows in ps to every local user: "
		    "use -F FILE or DS_KAFKA_X_*", (int)strcspn(arg, "="), arg);
	return 0;
}

void
dk_conf_free(struct dk *dk)
{
	int i;

	for (i = 0; i < dk->nprops; i++) {
		free(dk->props[i]);
		free(dk->propsrc[i]);
	}
	free(dk->props);
	free(dk->propsrc);
}

/*
 * Properties from the environment, for secrets kept out of argv:
 * DS_KAFKA_X_SASL_PASSWORD=v is -X sasl.password=v (lower case, '_' for
 * '.').  -F and -X override them: a property they set is skipped.
 */
static int
envprops(rd_kafka_conf_t *conf, const struct dk *dk)
{
	extern char **environ;
	char **e, *name, *eq, *p;
	size_t n;
	int i;

	for (e = environ; *e != NULL; e++) {
		if (strncmp(*e, "DS_KAFKA_X_", 11) != 0 ||
		    (eq = strchr(*e, '=')) == NULL || eq == *e + 11)
			continue;
		if ((name = strndup(*e + 11, eq - (*e + 11))) == NULL)
			err(1, NULL);
		for (p = name; *p != '\0'; p++)
			*p = *p == '_' ? '.' : tolower((unsigned char)*p);
		n = strlen(name);
		for (i = 0; i < dk->nprops; i++)
			if (strncmp(dk->props[i], name, n) == 0 &&
			    dk->props[i][n] == '=')
				break;
		if (i == dk->nprops && set(dk, conf, name, eq + 1, NULL) == -1) {
			free(name);
			return -1;
		}
		free(name);
	}
	return 0;
}

rd_kafka_conf_t *
dk_conf(const struct dk *dk, const char *const *extra,
    const char *const *force)
{
	rd_kafka_conf_t *conf;
	char *name, *eq;
	int i, r = 0;

	conf = rd_kafka_conf_new();
	r |= set(dk, conf, "client.id", "ds-kafka-cat", NULL);
	if (dk->brokers != NULL)
		r |= set(dk, conf, "bootstrap.servers", dk->brokers, NULL);
	for (; r == 0 && extra != NULL && extra[0] != NULL; extra += 2)
		r = set(dk, conf, extra[0], extra[1], NULL);
	if (r == 0)
		r = envprops(conf, dk);
	for (i = 0; r == 0 && i < dk->nprops; i++) {
		if ((name = strdup(dk->props[i])) == NULL)
			err(1, NULL);
		eq = strchr(name, '=');
		*eq = '\0';
		r = set(dk, conf, name, eq + 1, dk->propsrc[i]);
		free(name);
	}
	for (; r == 0 && force != NULL && force[0] != NULL; force += 2)
		r = set(dk, conf, force[0], force[1], NULL);
	if (r == -1) {
		rd_kafka_conf_destroy(conf);
		return NULL;
	}
	dk_callbacks(conf);
	return conf;
}

int
dk_conf_file(struct dk *dk, const char *path)
{
	FILE *f;
	char *line = NULL, *s, *e, where[1024];
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;
	int r = 0;

	if ((f = fopen(path, "r")) == NULL)
		return dk_fail(dk, -1, "%s: %s", path, strerror(errno));
	while (r == 0 && (n = getline(&line, &cap, f)) != -1) {
		lineno++;
		for (s = line; isspace((unsigned char)*s); s++)
			;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		if (*s == '\0' || *s == '#')
			continue;
		if (strchr(s, '=') == NULL || *s == '=') {
			r = dk_fail(dk, -1, "%s:%lu: expected name=value", path,
			    lineno);
			break;
		}
		snprintf(where, sizeof(where), "%s:%lu", path, lineno);
		dk_conf_add(dk, s, where);
	}
	if (r == 0 && ferror(f))
		r = dk_fail(dk, -1, "%s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	return r;
}

/* Transient connection trouble is said once in THROTTLE_MS at most. */
#define THROTTLE_MS	5000

static int
throttled(void)
{
	static _Atomic int64_t last;
	int64_t now = ds_now_ms();

	if (now - last < THROTTLE_MS)
		return 1;
	last = now;
	return 0;
}

int
dk_conf_default(struct dk *dk)
{
	struct dk d;
	const char *path, *home;
	char buf[1024];
	int i;

	if ((path = getenv("DS_KAFKA_CONFIG")) == NULL || *path == '\0') {
		if ((home = getenv("HOME")) == NULL)
			return 0;
		snprintf(buf, sizeof(buf), "%s/.config/ds/kafka.conf", home);
		if (access(buf, F_OK) == -1)
			return 0;
		path = buf;
	}
	memset(&d, 0, sizeof(d));
	d.err = dk->err;
	if (dk_conf_file(&d, path) == -1) {
		dk_conf_free(&d);
		return -1;
	}
	/* the file's settings first: the command line's win */
	for (i = 0; i < dk->nprops; i++)
		dk_conf_add(&d, dk->props[i], dk->propsrc[i]);
	dk_conf_free(dk);
	dk->props = d.props;
	dk->propsrc = d.propsrc;
	dk->nprops = d.nprops;
	return 0;
}

int
dk_conf_dump(const struct dk *dk)
{
	rd_kafka_conf_t *conf;
	const char **kv;
	size_t n, i;

	if ((conf = dk_conf(dk, NULL, NULL)) == NULL)
		return 2;
	kv = rd_kafka_conf_dump(conf, &n);
	for (i = 0; i + 1 < n; i += 2)
		printf("%s = %s\n", kv[i], dk_secret(kv[i]) ? "(secret)" :
		    kv[i + 1]);
	rd_kafka_conf_dump_free(kv, n);
	rd_kafka_conf_destroy(conf);
	return 0;
}

static void
errorcb(rd_kafka_t *rk, int e, const char *reason, void *opaque)
{
	(void)opaque;
	if (e == RD_KAFKA_RESP_ERR__FATAL) {
		char buf[512];

		rd_kafka_fatal_error(rk, buf, sizeof(buf));
		errx(1, "kafka: fatal: %s", buf);
	}
	/* the cause was logged when it happened (logcb's FAIL lines) */
	if (e == RD_KAFKA_RESP_ERR__TRANSPORT || e == RD_KAFKA_RESP_ERR__SSL ||
	    e == RD_KAFKA_RESP_ERR__AUTHENTICATION)
		return;
	if (e == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && throttled())
		return;
	warnx("kafka: %s", reason);
}

/*
 * Logs come from librdkafka's threads as they happen, errors only when
 * the client is polled (not during a blocking metadata request): the
 * root cause of a connection failure (TLS handshake, authentication,
 * refused) is its FAIL log line, printed here at once.
 */
static void
logcb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	if (level <= 2 || level == 7 ||	/* 7: -X debug=... */
	    (level == 3 && strcmp(fac, "FAIL") == 0 && !throttled()))
		warnx("kafka: %s: %s", fac, buf);
}

void
dk_callbacks(rd_kafka_conf_t *conf)
{
	rd_kafka_conf_set_error_cb(conf, errorcb);
	rd_kafka_conf_set_log_cb(conf, logcb);
}

rd_kafka_topic_partition_list_t *
dk_marker_commits(json_t *m)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_topic_partition_t *tp;
	json_t *arr, *e, *t, *pa, *u;
	size_t i;

	if (!ds_marker_is_batch(m))
		return NULL;
	if ((arr = json_object_get(m, "commit")) == NULL)
		arr = json_object_get(m, "offsets");
	l = rd_kafka_topic_partition_list_new(4);
	json_array_foreach(arr, i, e) {
		t = json_object_get(e, "topic");
		pa = json_object_get(e, "partition");
		if ((u = json_object_get(e, "until")) == NULL)
			u = json_object_get(e, "offset");
		if (!json_is_string(t) || !json_is_integer(pa) ||
		    !json_is_integer(u))
			continue;
		tp = rd_kafka_topic_partition_list_find(l, json_string_value(t),
		    (int32_t)json_integer_value(pa));
		if (tp == NULL)
			tp = rd_kafka_topic_partition_list_add(l,
			    json_string_value(t),
			    (int32_t)json_integer_value(pa));
		if (json_integer_value(u) > tp->offset)
			tp->offset = json_integer_value(u);
	}
	return l;
}
