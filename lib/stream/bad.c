/*
 * bad.c -- the bad-record policy shared by every tool (ds(7)):
 * fail fast by default, --skip-bad to report and go on, --dead-letter
 * FILE to keep the line and go on.  Nothing is dropped silently.
 */
#include <err.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "stream/stream.h"

unsigned long ds_bad_count;
static unsigned long deadlettered;
static FILE *dlf;

static void
summary(void)
{
	if (deadlettered > 0)
		warnx("%lu bad line%s written to %s", deadlettered,
		    deadlettered == 1 ? "" : "s", ds_opts.deadletter);
}

static void
deadletter(const struct ds_line *l, const char *msg)
{
	struct ds_buf b = { 0 };
	int fd;

	if (dlf == NULL) {
		/* bad lines may be private data: 0600, as checkpoints */
		if ((fd = open(ds_opts.deadletter, O_WRONLY | O_CREAT |
		    O_APPEND | O_CLOEXEC, 0600)) == -1 ||
		    (dlf = fdopen(fd, "a")) == NULL)
			err(1, "%s", ds_opts.deadletter);
		atexit(summary);
	}
	ds_buf_adds(&b, "{\"error\":");
	ds_buf_addq(&b, msg, strlen(msg));
	ds_buf_adds(&b, ",\"source\":");
	ds_buf_addq(&b, l->src, strlen(l->src));
	ds_buf_adds(&b, ",\"line\":");
	ds_buf_addi(&b, (int64_t)l->lineno);
	ds_buf_adds(&b, ",\"raw\":");
	ds_buf_addq(&b, l->p, l->len);
	ds_buf_addc(&b, '}');
	ds_buf_addc(&b, '\n');
	if (fwrite(b.p, 1, b.len, dlf) != b.len || fflush(dlf) == EOF)
		err(1, "%s", ds_opts.deadletter);
	ds_buf_free(&b);
	deadlettered++;
}

void
ds_bad(const struct ds_line *l, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ds_bad_count++;
	ds_stats.bad++;
	if (ds_opts.deadletter != NULL) {
		deadletter(l, msg);
		return;
	}
	if (!ds_opts.skipbad)
		ds_out_flush();
	warnx("%s:%lu: %s", l->src, l->lineno, msg);
	if (!ds_opts.skipbad)
		exit(1);
}

/*
 * Why line l is bad, or NULL; *rc is what ds_check_line_get returns for
 * a good line.
 */
static const char *
why_get(const struct ds_line *l, int ingress, const char *key, size_t klen,
    struct ds_span *v, int *rc)
{
	static char toolong[64];
	const char *why;
	int dskey;

	if (l->toolong) {
		snprintf(toolong, sizeof(toolong), "line longer than %zu bytes",
		    ds_opts.maxline);
		return toolong;
	}
	if ((*rc = ds_json_validate_get(l->p, l->len, ds_opts.maxdepth, &why,
	    &dskey, key, klen, v)) == -1)
		return why;
	if (ingress && dskey)
		return "forged control record (\"@ds\" key in data)";
	return NULL;
}

int
ds_check_line_get(const struct ds_line *l, int ingress, const char *key,
    size_t klen, struct ds_span *v)
{
	const char *why;
	int rc;

	if ((why = why_get(l, ingress, key, klen, v, &rc)) != NULL) {
		ds_bad(l, "%s", why);
		return -1;
	}
	return rc;
}

int
ds_check_line(const struct ds_line *l, int ingress)
{
	return ds_check_line_get(l, ingress, NULL, 0, NULL) == -1 ? -1 : 0;
}

const char *
ds_line_why(const struct ds_line *l, int ingress)
{
	int rc;

	return why_get(l, ingress, NULL, 0, NULL, &rc);
}
