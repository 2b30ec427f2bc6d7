/*
 * mongo_client.c -- the MongoDB side of ds-sink-mongo: one client for the run,
 * retries with backoff while the server is unreachable, index creation,
 * progress records, and the checks that make a record acceptable to
 * both MongoDB and FerretDB.  Only ds-sink-mongo links it (libmongoc).
 */
#include <sys/mman.h>

#include <err.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#include <mongoc/mongoc.h>

#include "ds.h"
#include "mongo/mongo.h"

/* Server error codes that mean "not now" rather than "never". */
static const int32_t transient_codes[] = {
	6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436
};

static void
quiet_log(mongoc_log_level_t level, const char *domain, const char *msg,
    void *arg)
{
	/* libmongoc's own warnings, in our format; never debug chatter */
	/* FerretDB lacks endSessions; the client's goodbye is harmless */
	if (strstr(msg, "endSessions") != NULL)
		return;
	if (level <= MONGOC_LOG_LEVEL_WARNING)
		warnx("mongoc: %s: %s", domain, msg);
}

struct ds_mongo *
ds_mongo_open(const char *uristr, const char *w, char *ebuf, size_t errlen)
{
	struct ds_mongo *m;
	mongoc_uri_t *uri;
	const mongoc_host_list_t *h;
	mongoc_write_concern_t *wc;
	bson_error_t e;
	struct ds_buf b = { 0 };
	const char *errstr;
	long long n;
	char shm[32];

	mongoc_init();
	mongoc_log_set_handler(quiet_log, NULL);
	/*
	 * libmongoc keeps statistics that nothing here reads in
	 * /dev/shm/mongoc-PID, and a killed sink leaves the file behind:
	 * a later process with that pid then warns "Falling back to malloc
	 * for counters".  The mapping outlives its name.
	 */
	snprintf(shm, sizeof(shm), "/mongoc-%u", (unsigned)getpid());
	shm_unlink(shm);
	if ((uri = mongoc_uri_new_with_error(uristr, &e)) == NULL) {
		/* libmongoc's messages never echo the password */
		snprintf(ebuf, errlen, "invalid URI: %s", e.message);
		return NULL;
	}
	/* Fail fast and retry ourselves, so the user sees why we wait. */
	if (!mongoc_uri_has_option(uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS))
		mongoc_uri_set_option_as_int32(uri,
		    MONGOC_URI_SERVERSELECTIONTIMEOUTMS, 2000);
	if (!mongoc_uri_has_option(uri, MONGOC_URI_CONNECTTIMEOUTMS))
		mongoc_uri_set_option_as_int32(uri,
		    MONGOC_URI_CONNECTTIMEOUTMS, 2000);
	if ((m = calloc(1, sizeof(*m))) == NULL)
		err(1, NULL);
	/* The name we print: hosts only, never user or password. */
	for (h = mongoc_uri_get_hosts(uri); h != NULL; h = h->next)
		ds_buf_addf(&b, "%s%s", b.len ? "," : "", h->host_and_port);
	if (b.len == 0)
		ds_buf_adds(&b, "mongodb");
	ds_buf_addc(&b, '\0');
	m->where = b.p;
	if ((m->client = mongoc_client_new_from_uri_with_error(uri, &e)) ==
	    NULL) {
		snprintf(ebuf, errlen, "%s: %s", m->where, e.message);
		mongoc_uri_destroy(uri);
		ds_mongo_close(m);
		return NULL;
	}
	mongoc_uri_destroy(uri);
	mongoc_client_set_error_api(m->client, MONGOC_ERROR_API_VERSION_2);
	mongoc_client_set_appname(m->client, "ds-sink-mongo");
	wc = mongoc_write_concern_new();
	if (w == NULL)
		mongoc_write_concern_set_w(wc, 1);
	else if (strcmp(w, "majority") == 0)
		mongoc_write_concern_set_wmajority(wc, 0);
	else {
		n = strtonum(w, 1, 1000, &errstr);
		if (errstr != NULL) {
			snprintf(ebuf, errlen, "--w %s: must be majority or "
			    "a number of members from 1 (acknowledged)", w);
			mongoc_write_concern_destroy(wc);
			ds_mongo_close(m);
			return NULL;
		}
		mongoc_write_concern_set_w(wc, (int32_t)n);
	}
	mongoc_client_set_write_concern(m->client, wc);
	mongoc_write_concern_destroy(wc);
	m->backoff_ms = 100;
	return m;
}

void
ds_mongo_close(struct ds_mongo *m)
{
	if (m == NULL)
		return;
	if (m->client != NULL)
		mongoc_client_destroy(m->client);
	free(m->where);
	free(m);
	mongoc_cleanup();
}

int
ds_mongo_transient(const bson_error_t *e)
{
	size_t i;

	switch (e->domain) {
	case MONGOC_ERROR_SERVER_SELECTION:
	case MONGOC_ERROR_STREAM:
	case MONGOC_ERROR_PROTOCOL:
	case MONGOC_ERROR_WRITE_CONCERN:
		return 1;
	case MONGOC_ERROR_CLIENT:
		return e->code == MONGOC_ERROR_CLIENT_NOT_READY;
	case MONGOC_ERROR_SERVER:
		for (i = 0; i < sizeof(transient_codes) /
		    sizeof(transient_codes[0]); i++)
			if ((int32_t)e->code == transient_codes[i])
				return 1;
		return 0;
	}
	return 0;
}

int
ds_mongo_fail(struct ds_mongo *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
	return -1;
}

int
ds_mongo_retry(struct ds_mongo *m, const bson_error_t *e, const char *what,
    const char *fmt, ...)
{
	char ctx[256];
	va_list ap;

	if (ds_mongo_transient(e))
		return ds_mongo_wait(m, what, e);
	va_start(ap, fmt);
	vsnprintf(ctx, sizeof(ctx), fmt, ap);
	va_end(ap);
	return ds_mongo_fail(m, "%s: %s: %s", m->where, ctx, e->message);
}

int
ds_mongo_wait(struct ds_mongo *m, const char *what, const bson_error_t *e)
{
	int64_t left;
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	warnx("%s: %s: %s; retrying in %lldms", m->where, what, e->message,
	    (long long)m->backoff_ms);
	for (left = m->backoff_ms; left > 0; left -= 100) {
		if (ds_stop)
			return ds_mongo_fail(m, "%s: stopped while MongoDB "
			    "was unreachable: %s not done (nothing "
			    "acknowledged)", m->where, what);
		nanosleep(&ts, NULL);
	}
	if (m->backoff_ms < 5000)
		m->backoff_ms = m->backoff_ms * 2 > 5000 ? 5000 :
		    m->backoff_ms * 2;
	return 0;
}

void
ds_mongo_ok(struct ds_mongo *m)
{
	m->backoff_ms = 100;
}

int
ds_mongo_index_parse(const char *spec, bson_t *keys, char *ebuf,
    size_t errlen)
{
	char *s, *p, *f, *dir;
	const char *errstr;
	long long d;
	int n = 0;

	bson_init(keys);
	if ((s = strdup(spec)) == NULL)
		err(1, NULL);
	for (p = s; (f = strsep(&p, ",")) != NULL; n++) {
		if ((dir = strrchr(f, ':')) == NULL) {
			d = 1;
		} else {
			*dir++ = '\0';
			d = strtonum(dir, -1, 1, &errstr);
			if (errstr != NULL || d == 0) {
				snprintf(ebuf, errlen, "--index %s: direction "
				    "of %s must be 1 or -1", spec, f);
				goto bad;
			}
		}
		if (*f == '\0' || *f == '$') {
			snprintf(ebuf, errlen, "--index %s: bad field name "
			    "\"%s\"", spec, f);
			goto bad;
		}
		BSON_APPEND_INT32(keys, f, (int32_t)d);
	}
	free(s);
	return 0;
bad:
	free(s);
	bson_destroy(keys);
	return -1;
}

int
ds_mongo_ferretdb(struct ds_mongo *m)
{
	bson_t cmd = BSON_INITIALIZER, reply;
	bson_iter_t it;
	bson_error_t e;
	int r = 0;

	BSON_APPEND_INT32(&cmd, "buildInfo", 1);
	while (!mongoc_client_command_simple(m->client, "admin", &cmd, NULL,
	    &reply, &e)) {
		bson_destroy(&reply);
		if (ds_mongo_retry(m, &e, "asking the server's version",
		    "buildInfo") == -1) {
			bson_destroy(&cmd);
			return -1;
		}
	}
	ds_mongo_ok(m);
	r = bson_iter_init_find(&it, &reply, "ferretdbVersion");
	bson_destroy(&reply);
	bson_destroy(&cmd);
	return r;
}

int
ds_mongo_index(struct ds_mongo *m, const char *db, const char *coll,
    const bson_t *keys)
{
	bson_t cmd = BSON_INITIALIZER, arr, idx;
	bson_error_t e;
	char *name;
	int r = 0;

	name = mongoc_collection_keys_to_index_string(keys);
	BSON_APPEND_UTF8(&cmd, "createIndexes", coll);
	BSON_APPEND_ARRAY_BEGIN(&cmd, "indexes", &arr);
	BSON_APPEND_DOCUMENT_BEGIN(&arr, "0", &idx);
	BSON_APPEND_DOCUMENT(&idx, "key", keys);
	BSON_APPEND_UTF8(&idx, "name", name);
	bson_append_document_end(&arr, &idx);
	bson_append_array_end(&cmd, &arr);
	while (!mongoc_client_write_command_with_opts(m->client, db, &cmd,
	    NULL, NULL, &e)) {
		if ((r = ds_mongo_retry(m, &e, "creating an index",
		    "%s.%s: creating index %s", db, coll, name)) == -1)
			break;
	}
	if (r == 0)
		ds_mongo_ok(m);
	bson_free(name);
	bson_destroy(&cmd);
	return r;
}

int
ds_mongo_progress_get(struct ds_mongo *m, const char *db, const char *id,
    struct ds_applied *a)
{
	mongoc_collection_t *c;
	mongoc_cursor_t *cur;
	const bson_t *doc;
	bson_t filter = BSON_INITIALIZER, opts = BSON_INITIALIZER;
	bson_iter_t it;
	bson_error_t e;
	int r = 0;

	c = mongoc_client_get_collection(m->client, db, DS_MONGO_PROGRESS);
	BSON_APPEND_UTF8(&filter, "_id", id);
	BSON_APPEND_INT64(&opts, "limit", 1);
	while (r == 0) {
		ds_applied_free(a);
		a->seq = a->time = 0;
		cur = mongoc_collection_find_with_opts(c, &filter, &opts,
		    NULL);
		while (mongoc_cursor_next(cur, &doc)) {
			if (bson_iter_init_find(&it, doc, "seq") &&
			    BSON_ITER_HOLDS_NUMBER(&it))
				a->seq = bson_iter_as_int64(&it);
			a->time = INT64_MAX;	/* older records: seq alone */
			if (bson_iter_init_find(&it, doc, "time") &&
			    BSON_ITER_HOLDS_NUMBER(&it))
				a->time = bson_iter_as_int64(&it);
			if (bson_iter_init_find(&it, doc, "stream") &&
			    BSON_ITER_HOLDS_UTF8(&it) && (a->stream =
			    strdup(bson_iter_utf8(&it, NULL))) == NULL)
				err(1, NULL);
		}
		if (!mongoc_cursor_error(cur, &e)) {
			mongoc_cursor_destroy(cur);
			break;
		}
		mongoc_cursor_destroy(cur);
		r = ds_mongo_retry(m, &e, "reading progress",
		    "%s.%s: reading progress", db, DS_MONGO_PROGRESS);
	}
	if (r == 0)
		ds_mongo_ok(m);
	bson_destroy(&filter);
	bson_destroy(&opts);
	mongoc_collection_destroy(c);
	return r;
}

int
ds_mongo_progress_put(struct ds_mongo *m, const char *db, const char *id,
    json_t *marker)
{
	mongoc_collection_t *c;
	bson_t filter = BSON_INITIALIZER, doc = BSON_INITIALIZER;
	bson_t opts = BSON_INITIALIZER, offs;
	bson_error_t e;
	json_t *o = json_object_get(marker, "offsets");
	json_t *t;
	char *js;
	int r = 0;

	c = mongoc_client_get_collection(m->client, db, DS_MONGO_PROGRESS);
	BSON_APPEND_UTF8(&filter, "_id", id);
	BSON_APPEND_INT64(&doc, "seq", ds_marker_int(marker, "seq"));
	BSON_APPEND_INT64(&doc, "time", ds_marker_int(marker, "time"));
	if (json_is_string(json_object_get(marker, "stream")))
		BSON_APPEND_UTF8(&doc, "stream",
		    json_string_value(json_object_get(marker, "stream")));
	if (json_is_array(o)) {
		/* {"offsets":[...]}: libbson parses documents, not arrays */
		t = json_pack("{sO}", "offsets", o);
		js = json_dumps(t, JSON_COMPACT);
		json_decref(t);
		if (js != NULL && bson_init_from_json(&offs, js, -1, &e)) {
			bson_concat(&doc, &offs);
			bson_destroy(&offs);
		}
		free(js);
	}
	BSON_APPEND_DATE_TIME(&doc, "updated", ds_now_ms());
	BSON_APPEND_BOOL(&opts, "upsert", true);
	while (!mongoc_collection_replace_one(c, &filter, &doc, &opts, NULL,
	    &e)) {
		if ((r = ds_mongo_retry(m, &e, "recording progress",
		    "%s.%s: recording progress", db, DS_MONGO_PROGRESS)) == -1)
			break;
	}
	if (r == 0)
		ds_mongo_ok(m);
	bson_destroy(&filter);
	bson_destroy(&doc);
	bson_destroy(&opts);
	mongoc_collection_destroy(c);
	return r;
}

/* Walk a document: keys FerretDB refuses, and NaN.  Recursive. */
static const char *
check_doc(bson_iter_t *it, int depth)
{
	bson_iter_t sub;
	const char *k, *why;
	double d;

	while (bson_iter_next(it)) {
		k = bson_iter_key(it);
		if (k[0] == '$')
			return "a key starts with '$' (refused by "
			    "MongoDB/FerretDB)";
		if (strchr(k, '.') != NULL)
			return "a key contains '.' (refused by FerretDB)";
		switch (bson_iter_type(it)) {
		case BSON_TYPE_DOUBLE:
			d = bson_iter_double(it);
			if (isnan(d))
				return "NaN (refused by FerretDB)";
			break;
		case BSON_TYPE_DOCUMENT:
		case BSON_TYPE_ARRAY:
			if (depth > 100 || !bson_iter_recurse(it, &sub))
				return "nesting too deep";
			if ((why = check_doc(&sub, depth + 1)) != NULL)
				return why;
			break;
		default:
			break;
		}
	}
	return NULL;
}

const char *
ds_mongo_check(const bson_t *doc)
{
	bson_iter_t it;

	if (!bson_iter_init(&it, doc))
		return "corrupt BSON";
	return check_doc(&it, 0);
}

const char *
ds_mongo_doc(const char *p, size_t len, bson_t *b, char *buf, size_t n)
{
	bson_error_t e;
	const char *why;

	if (ds_json_type(p, len) != DS_JOBJ)
		return "not a JSON object";
	if (!bson_init_from_json(b, p, (ssize_t)len, &e)) {
		snprintf(buf, n, "cannot convert to BSON: %s", e.message);
		return buf;
	}
	if ((why = ds_mongo_check(b)) != NULL)
		bson_destroy(b);
	return why;
}

int
ds_mongo_uri_password(const char *uri)
{
	const char *p, *at;

	if ((p = strstr(uri, "://")) == NULL)
		return 0;
	p += 3;
	at = memrchr(p, '@', strcspn(p, "/?"));
	return at != NULL && memchr(p, ':', at - p) != NULL;
}

int64_t
ds_mongo_reply_int(const bson_t *reply, const char *key)
{
	bson_iter_t it;

	return bson_iter_init_find(&it, reply, key) &&
	    BSON_ITER_HOLDS_NUMBER(&it) ? bson_iter_as_int64(&it) : 0;
}

void
ds_mongo_write_errors(const bson_t *reply, void (*fn)(void *ctx,
    int64_t idx, int64_t code, const char *msg), void *ctx)
{
	bson_iter_t it, we, f;
	int64_t idx, code;
	const char *msg;

	if (!bson_iter_init_find(&it, reply, "writeErrors") ||
	    !bson_iter_recurse(&it, &we))
		return;
	while (bson_iter_next(&we)) {
		idx = code = -1;
		msg = "?";
		if (!bson_iter_recurse(&we, &f))
			continue;
		while (bson_iter_next(&f)) {
			if (strcmp(bson_iter_key(&f), "index") == 0)
				idx = bson_iter_as_int64(&f);
			else if (strcmp(bson_iter_key(&f), "code") == 0)
				code = bson_iter_as_int64(&f);
			else if (strcmp(bson_iter_key(&f), "errmsg") == 0 &&
			    BSON_ITER_HOLDS_UTF8(&f))
				msg = bson_iter_utf8(&f, NULL);
		}
		fn(ctx, idx, code, msg);
	}
}

const char *
ds_mongo_collname(const bson_t *b, const char *field, uint32_t *len)
{
	bson_iter_t it, v;
	const char *cn;

	if (!bson_iter_init(&it, b) ||
	    !bson_iter_find_descendant(&it, field, &v) ||
	    !BSON_ITER_HOLDS_UTF8(&v) ||
	    (cn = bson_iter_utf8(&v, len)) == NULL || *len == 0 ||
	    *len > 200 || cn[0] == '$' || strlen(cn) != *len)
		return NULL;
	return cn;
}
