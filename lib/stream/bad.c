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
 * Why line l is bad, or NULL, scanning it with js (which finds its
 * fields on the way).  The string is static, valid until the next call.
 */
static const char *
why_scan(const struct ds_line *l, int ingress, struct ds_jscan *js)
{
	static char toolong[64];

	if (l->toolong) {
		snprintf(toolong, sizeof(toolong), "line longer than %zu bytes",
		    ds_opts.maxline);
		return toolong;
	}
	js->maxdepth = ds_opts.maxdepth;
	if (ds_json_scan(l->p, l->len, js) == -1)
		return js->err;
	if (ingress && js->dskey)
		return "forged control record (\"@ds\" key in data)";
	return NULL;
}

int
ds_check_line_scan(const struct ds_line *l, int ingress, struct ds_jscan *js)
{
	const char *why;

	if ((why = why_scan(l, ingress, js)) != NULL) {
		ds_bad(l, "%s", why);
		return -1;
	}
	return 0;
}

int
ds_check_line(const struct ds_line *l, int ingress)
{
	struct ds_jscan js = { 0 };

	return ds_check_line_scan(l, ingress, &js);
}

const char *
ds_line_why(const struct ds_line *l, int ingress)
{
	static char msg[sizeof(((struct ds_jscan *)0)->msg)];
	struct ds_jscan js = { 0 };
	const char *why;

	why = why_scan(l, ingress, &js);
	if (why != NULL && why >= js.msg && why < js.msg + sizeof(js.msg)) {
		/* js.msg dies with js: keep a copy */
		strlcpy(msg, why, sizeof(msg));
		why = msg;
	}
	return why;
}
