/*
 * stagestate.c -- the durable state of a stateful stage (ds-state,
 * ds-window): a snapshot DIR/NAME and, when the stage keeps one, a log
 * DIR/NAME.log of deltas after it; the last batch applied, to tell a
 * replay from a new batch; the offsets of every applied batch and those
 * as of the last checkpoint, which are what the stage may release as
 * "commit" with its markers.
 *
 * The stage owns what its records say: it hands over a body of lines to
 * write and reads them back through a callback.  This module owns the
 * files, the header fields "gen", "prev", "cum", "seq", "time" and
 * "stream", and the chaining of deltas: a delta applies to the state of
 * its "prev" generation only, so a delta older than the snapshot (a
 * crash between writing a snapshot and emptying the log), or one left
 * behind by a fallback to NAME.prev, is never applied.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "durable/durable.h"

/* What the frames of a delta log are read with. */
struct frames {
	struct ds_stst		*s;
	const struct ds_stst_load *ld;
	char			*msg;
	size_t			 msglen;
	int			 failed;
};

void
ds_stst_init(struct ds_stst *s, const char *dir, const char *name,
    int deltas)
{
	memset(s, 0, sizeof(*s));
	s->dir = dir;
	s->deltas = deltas;
	s->needfull = 1;
	if (dir == NULL)
		return;
	if (asprintf(&s->path, "%s/%s", dir, name) == -1 ||
	    asprintf(&s->logname, "%s.log", name) == -1 ||
	    (s->name = strdup(name)) == NULL)
		err(1, NULL);
}

/*
 * Take a header's position: gen, the applied batch, the offsets.
 * Checkpoints of ds-state before "cum" kept those in "offsets".
 */
static void
position(struct ds_stst *s, json_t *hd)
{
	json_t *cum;

	if ((cum = json_object_get(hd, "cum")) == NULL)
		cum = json_object_get(hd, "offsets");
	s->gen = (uint64_t)json_integer_value(json_object_get(hd, "gen"));
	ds_applied_load(&s->applied, hd);
	ds_offsets_clear(&s->cum);
	ds_offsets_merge_json(&s->cum, cum);
	json_decref(s->ckcum);
	s->ckcum = ds_offsets_json(&s->cum);
}

/* Split data at its first line: the header (parsed) and the rest. */
static json_t *
header(char *data, size_t len, char **rest)
{
	char *nl;

	if ((nl = memchr(data, '\n', len)) == NULL)
		nl = data + len;
	*rest = nl < data + len ? nl + 1 : nl;
	return json_loadb(data, (size_t)(nl - data), 0, NULL);
}

/* One frame of the delta log: apply it if it follows our generation. */
static int
frame(void *arg, char *data, size_t len)
{
	struct frames *f = arg;
	char *rest;
	json_t *hd;

	if ((hd = header(data, len, &rest)) == NULL) {
		snprintf(f->msg, f->msglen, "%s.log: malformed frame header",
		    f->s->path);
		f->failed = 1;
		return 1;
	}
	if ((uint64_t)json_integer_value(json_object_get(hd, "prev")) !=
	    f->s->gen) {
		/* older than the snapshot, or after a lost one: stop */
		json_decref(hd);
		return 1;
	}
	position(f->s, hd);
	json_decref(hd);
	if (f->ld->records(f->ld->arg, rest, data + len, f->msg,
	    f->msglen) == -1) {
		f->failed = 1;
		return 1;
	}
	return 0;
}

int
ds_stst_load(struct ds_stst *s, const struct ds_stst_load *ld, char *msg,
    size_t msglen)
{
	struct frames f = { s, ld, msg, msglen, 0 };
	char *data, *rest;
	size_t len;
	json_t *hd;
	int rc;

	if (s->dir == NULL ||
	    (rc = ds_ckpt_read(s->dir, s->name, &data, &len)) == 0)
		return 0;
	if (rc == -1) {
		snprintf(msg, msglen, "%s: no usable checkpoint (remove the "
		    "directory to start from scratch)", s->path);
		return -1;
	}
	if ((hd = header(data, len, &rest)) == NULL) {
		snprintf(msg, msglen, "%s: malformed checkpoint header",
		    s->path);
		free(data);
		return -1;
	}
	rc = ld->header(ld->arg, hd, msg, msglen);
	if (rc == 0) {
		position(s, hd);
		rc = ld->records(ld->arg, rest, data + len, msg, msglen);
	}
	json_decref(hd);
	free(data);
	if (rc == -1)
		return -1;
	s->basebytes = (off_t)len;
	if (s->deltas && ds_ckptlog_read(s->dir, s->logname, frame, &f,
	    &s->logbytes) == -1) {
		snprintf(msg, msglen, "%s.log: %s", s->path, strerror(errno));
		return -1;
	}
	return f.failed ? -1 : 1;
}

int
ds_stst_sameopts(const struct ds_stst *s, json_t *hd, json_t *want,
    char *msg, size_t msglen)
{
	const char *mode = json_string_value(json_object_get(hd, "mode"));
	const char *key = json_string_value(json_object_get(hd, "key"));
	const char *wmode = json_string_value(json_object_get(want, "mode"));
	const char *wkey = json_string_value(json_object_get(want, "key"));
	json_t *a = json_object_get(hd, "aggs");
	json_t *wa = json_object_get(want, "aggs");
	const char *ag, *wag;
	size_t i;

	if (mode == NULL || key == NULL ||
	    !json_is_integer(json_object_get(hd, "seq")))
		snprintf(msg, msglen, "%s: not a %s checkpoint", s->path,
		    getprogname());
	else if (strcmp(mode, wmode) != 0 || strcmp(key, wkey) != 0)
		snprintf(msg, msglen, "%s: written with a different -k or "
		    "-a/-e (key \"%s\", %s)", s->path, key, mode);
	else if (json_array_size(a) != json_array_size(wa))
		snprintf(msg, msglen, "%s: written with different "
		    "aggregates", s->path);
	else {
		for (i = 0; i < json_array_size(wa); i++) {
			ag = json_string_value(json_array_get(a, i));
			wag = json_string_value(json_array_get(wa, i));
			if (strcmp(ag ? ag : "", wag) != 0) {
				snprintf(msg, msglen, "%s: written with -a %s, "
				    "not -a %s", s->path, ag ? ag : "?", wag);
				return -1;
			}
		}
		return 0;
	}
	return -1;
}

int
ds_stst_applied(const struct ds_stst *s, json_t *m)
{
	return s->dir != NULL && ds_applied_replay(&s->applied, m);
}

void
ds_stst_apply(struct ds_stst *s, json_t *m)
{
	ds_applied_set(&s->applied, m);
	ds_offsets_merge_json(&s->cum, json_object_get(m, "offsets"));
}

int
ds_stst_wantfull(const struct ds_stst *s)
{
	return !s->deltas || s->needfull || s->logbytes > s->basebytes;
}

int
ds_stst_save(struct ds_stst *s, json_t *hd, const struct ds_buf *body,
    char *msg, size_t msglen)
{
	struct ds_buf b = { 0 };
	json_t *cum;
	char *text;
	int full = ds_stst_wantfull(s), rc;

	cum = ds_offsets_json(&s->cum);
	json_object_set_new(hd, "gen", json_integer((json_int_t)++s->gen));
	if (!full)
		json_object_set_new(hd, "prev",
		    json_integer((json_int_t)(s->gen - 1)));
	json_object_set(hd, "cum", cum);
	ds_applied_save(&s->applied, hd);
	if ((text = json_dumps(hd, JSON_COMPACT)) == NULL) {
		json_decref(hd);
		json_decref(cum);
		snprintf(msg, msglen, "%s: cannot encode the checkpoint "
		    "header", s->path);
		return -1;
	}
	json_decref(hd);
	ds_buf_adds(&b, text);
	ds_buf_addc(&b, '\n');
	free(text);
	ds_buf_add(&b, body->p, body->len);
	if (full)
		rc = ds_ckpt_write(s->dir, s->name, b.p, b.len) == -1 ||
		    (s->deltas && ds_ckptlog_reset(s->dir, s->logname) == -1);
	else
		rc = ds_ckptlog_append(s->dir, s->logname, b.p, b.len) == -1;
	if (rc) {
		snprintf(msg, msglen, "checkpoint: %s%s: %s", s->path,
		    full ? "" : ".log", strerror(errno));
		ds_buf_free(&b);
		json_decref(cum);
		return -1;
	}
	if (full) {
		s->basebytes = (off_t)b.len;
		s->logbytes = 0;
		s->needfull = 0;
	} else
		s->logbytes += (off_t)b.len;
	s->lastbytes = b.len;
	ds_buf_free(&b);
	json_decref(s->ckcum);
	s->ckcum = cum;
	return 0;
}

json_t *
ds_stst_commit(const struct ds_stst *s, json_t *m, int replayed)
{
	json_t *c, *c2;

	c = ds_offsets_lower(s->ckcum, json_object_get(m, "commit"));
	if (!replayed)
		return c;
	c2 = ds_offsets_lower(c, json_object_get(m, "offsets"));
	json_decref(c);
	return c2;
}

void
ds_stst_free(struct ds_stst *s)
{
	ds_offsets_free(&s->cum);
	ds_applied_free(&s->applied);
	json_decref(s->ckcum);
	free(s->path);
	free(s->name);
	free(s->logname);
	memset(s, 0, sizeof(*s));
}
