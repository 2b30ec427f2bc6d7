/*
 * batchlog.c -- the batch log of ds-batch --log DIR: one NDJSON line
 * per closed batch, appended and fsync'ed
 * before the batch's marker leaves, so a restarted ds-batch can re-cut
 * replayed records at the same boundaries.  A crash can tear only the
 * last line; it is cut off at open (that batch's marker never left).
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "durable/durable.h"

#define LOGNAME	"batches.ndjson"

/* Parse one log line into e; 0 or -1. */
static int
entry(const char *p, size_t len, struct ds_blogent *e)
{
	json_t *j, *o, *st;
	json_error_t je;

	if ((j = json_loadb(p, len, 0, &je)) == NULL)
		return -1;
	o = json_object_get(j, "offsets");
	if (!json_is_integer(json_object_get(j, "seq")) ||
	    !json_is_integer(json_object_get(j, "time")) ||
	    !json_is_array(o)) {
		json_decref(j);
		return -1;
	}
	st = json_object_get(j, "stream");
	e->stream = json_is_string(st) ? strdup(json_string_value(st)) : NULL;
	e->seq = ds_marker_int(j, "seq");
	e->time = ds_marker_int(j, "time");
	e->interval = ds_marker_int(j, "interval");
	e->count = ds_marker_int(j, "count");
	e->offsets = json_incref(o);
	json_decref(j);
	return 0;
}

/* Fail with errno's message about the log: -1. */
static int
fail(const char *what, char *msg, size_t msglen)
{
	snprintf(msg, msglen, "%s: %s", what, strerror(errno));
	return -1;
}

/*
 * Read the entries of b into l->e; a torn last line is left for the
 * caller to cut (*good: the bytes of whole entries).  0 or -1.
 */
static int
entries(struct ds_blog *l, const struct ds_buf *b, size_t *good, char *msg,
    size_t msglen)
{
	size_t pos, cap = 0;
	char *nl;

	for (pos = *good = 0; pos < b->len; pos = *good) {
		if ((nl = memchr(b->p + pos, '\n', b->len - pos)) == NULL)
			break;
		if (l->n == cap) {
			cap = cap ? cap * 2 : 64;
			if ((l->e = reallocarray(l->e, cap, sizeof(*l->e))) ==
			    NULL)
				err(1, NULL);
		}
		if (entry(b->p + pos, nl - (b->p + pos), &l->e[l->n]) == -1) {
			if ((size_t)(nl - b->p) + 1 < b->len) {
				snprintf(msg, msglen, "%s: corrupt entry at "
				    "byte %zu", l->path, pos);
				return -1;
			}
			break;		/* a torn last line */
		}
		if (l->n > 0 && l->e[l->n].seq <= l->e[l->n - 1].seq) {
			snprintf(msg, msglen, "%s: seq %lld after %lld",
			    l->path, (long long)l->e[l->n].seq,
			    (long long)l->e[l->n - 1].seq);
			json_decref(l->e[l->n].offsets);
			free(l->e[l->n].stream);
			return -1;
		}
		if (l->e[l->n].stream != NULL)
			l->stream = l->e[l->n].stream;
		l->n++;
		*good = (size_t)(nl - b->p) + 1;
	}
	return 0;
}

int
ds_blog_open(struct ds_blog *l, const char *dir, char *msg, size_t msglen)
{
	struct ds_buf b = { 0 };
	char chunk[65536];
	size_t good;
	ssize_t n;
	int rc = -1;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (ds_mkdirs(dir) == -1)
		return fail(dir, msg, msglen);
	if (asprintf(&l->path, "%s/%s", dir, LOGNAME) == -1)
		err(1, NULL);
	if ((l->fd = open(l->path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return fail(l->path, msg, msglen);
	while ((n = read(l->fd, chunk, sizeof(chunk))) > 0)
		ds_buf_add(&b, chunk, (size_t)n);
	if (n == -1)
		fail(l->path, msg, msglen);
	else if (entries(l, &b, &good, msg, msglen) == 0) {
		rc = 0;
		if (good < b.len) {
			warnx("%s: dropping a torn last entry (%zu bytes)",
			    l->path, b.len - good);
			if (ftruncate(l->fd, (off_t)good) == -1 ||
			    fsync(l->fd) == -1)
				rc = fail(l->path, msg, msglen);
		}
	}
	ds_buf_free(&b);
	if (rc == 0 && l->n == 0)
		ds_syncdir(dir);	/* the new log's directory entry */
	return rc;
}

int
ds_blog_append(struct ds_blog *l, json_t *m, char *msg, size_t msglen)
{
	json_t *e;
	char *s;
	size_t len;
	int rc = 0;

	e = json_pack("{s:I,s:I,s:I,s:I,s:O}",
	    "seq", (json_int_t)ds_marker_int(m, "seq"),
	    "time", (json_int_t)ds_marker_int(m, "time"),
	    "interval", (json_int_t)ds_marker_int(m, "interval"),
	    "count", (json_int_t)ds_marker_int(m, "count"),
	    "offsets", json_object_get(m, "offsets"));
	if (e != NULL && json_is_string(json_object_get(m, "stream")))
		json_object_set(e, "stream", json_object_get(m, "stream"));
	if (e == NULL || (s = json_dumps(e, JSON_COMPACT)) == NULL) {
		json_decref(e);
		snprintf(msg, msglen, "%s: cannot encode a log entry",
		    l->path);
		return -1;
	}
	json_decref(e);
	len = strlen(s);
	s[len++] = '\n';	/* json_dumps left room: we replace the NUL */
	if (ds_writeall(l->fd, s, len) == -1 || fsync(l->fd) == -1)
		rc = fail(l->path, msg, msglen);
	free(s);
	return rc;
}

void
ds_blog_close(struct ds_blog *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		json_decref(l->e[i].offsets);
		free(l->e[i].stream);
	}
	free(l->e);
	free(l->path);
	if (l->fd >= 0)
		close(l->fd);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}
