/*
 * fz-ndjson -- the NDJSON reader (lib/stream/in.c) with its line limit, fed in
 * chunks through a pipe, against a plain split of the same bytes; each
 * line then goes through the ingress check (lib/stream/bad.c) with a
 * dead-letter file whose records must all be valid JSON.
 *
 * Input: byte 0 picks the line limit, byte 1 the chunk size, the rest
 * is the stream.
 */
#include <err.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds.h"
#include "fuzz.h"

#define RAWKEEP	4096	/* as in.c: the bytes of an over-long line kept */

static char dlpath[64];

static void
rmdl(void)
{
	unlink(dlpath);
}

/* The dead-letter file holds n records, each valid JSON with a "raw". */
static void
checkdl(unsigned long n)
{
	json_error_t je;
	json_t *j;
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	unsigned long got = 0;

	if ((f = fopen(dlpath, "r")) == NULL) {
		if (n > 0)
			fz_fail("dead-letter file missing");
		return;
	}
	while (getline(&line, &cap, f) != -1) {
		if ((j = json_loads(line, JSON_ALLOW_NUL, &je)) == NULL ||
		    !json_is_string(json_object_get(j, "raw")) ||
		    !json_is_string(json_object_get(j, "error")))
			fz_fail("dead-letter record: %s", je.text);
		json_decref(j);
		got++;
	}
	free(line);
	fclose(f);
	if (got != n)
		fz_fail("%lu bad lines, %lu dead-letter records", n, got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_in *in;
	struct ds_line l;
	const char *s, *e, *nl;
	size_t maxline, chunk, off, want, n;
	unsigned long lineno = 0;
	int fd[2], fl;

	if (size < 2 || size > 60000)	/* the pipe holds it all */
		return 0;
	if (dlpath[0] == '\0') {
		snprintf(dlpath, sizeof(dlpath), "%s.dl", fz_dir());
		ds_opts.deadletter = dlpath;
		atexit(rmdl);
	}
	if (truncate(dlpath, 0) == -1 && access(dlpath, F_OK) == 0)
		abort();
	ds_bad_count = 0;
	maxline = data[0] < 250 ? 1 + data[0] % 64 : DS_MAXLINE_DEFAULT;
	ds_opts.maxline = maxline;
	ds_opts.maxdepth = 1 + data[1] % 16;
	chunk = 1 + data[1] % 32;
	s = (const char *)data + 2;
	e = (const char *)data + size;

	if (pipe(fd) == -1)
		abort();
	fl = fcntl(fd[0], F_GETFL);
	fcntl(fd[0], F_SETFL, fl | O_NONBLOCK);
	in = ds_in_open(NULL, maxline);
	in->fd = fd[0];
	in->name = "fuzz";
	nl = s;
	for (off = 0;;) {
		want = (size_t)(e - s) - off < chunk ? (size_t)(e - s) - off :
		    chunk;
		if (want > 0 && write(fd[1], s + off, want) != (ssize_t)want)
			abort();
		off += want;
		if (off == (size_t)(e - s) && fd[1] != -1) {
			close(fd[1]);
			fd[1] = -1;
		}
		if (ds_in_fill(in) == 0 && !in->eof)
			abort();
		while (ds_in_line(in, &l)) {
			/* the same line, found the plain way */
			const char *q = nl, *end;

			end = memchr(q, '\n', e - q);
			if (end == NULL)
				end = e;
			n = end - q;
			if (l.lineno != ++lineno)
				fz_fail("line %lu numbered %lu", lineno,
				    l.lineno);
			if ((n > maxline) != (l.toolong != 0))
				fz_fail("line %lu: %zu bytes, limit %zu, "
				    "toolong %d", lineno, n, maxline,
				    l.toolong);
			if (n > 0 && !l.toolong && q[n - 1] == '\r')
				n--;
			if (l.toolong ? l.len > n || l.len > RAWKEEP :
			    l.len != n)
				fz_fail("line %lu: length %zu, expected %zu",
				    lineno, l.len, n);
			if (memcmp(l.p, q, l.len) != 0 || l.p[l.len] != '\0')
				fz_fail("line %lu: wrong bytes", lineno);
			nl = end < e ? end + 1 : e;
			if (!ds_line_blank(&l))
				ds_check_line(&l, 1);
		}
		if (in->eof)
			break;
	}
	if (nl != e)
		fz_fail("input not all read: %zd bytes left", e - nl);
	ds_in_close(in);
	checkdl(ds_bad_count);
	return 0;
}
