/*
 * fz-ckpt -- the readers of files a crash may have torn: a checkpoint
 * (lib/durable/checkpoint.c), a delta log (lib/durable/ckptlog.c) and a batch log
 * (lib/durable/batchlog.c), each on arbitrary bytes; then write->read round
 * trips: what was written must be read back whole, after the garbage.
 * Input: CHECKPOINT "\n--\n" DELTALOG "\n--\n" BATCHLOG.
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "fuzz.h"

/* a tool's error exit leaks what it would have freed at exit(3) */
const char *__asan_default_options(void) { return "detect_leaks=0"; }

struct frames {
	int	 n;
	char	*last;
	size_t	 lastlen;
};

static int
frame(void *arg, char *data, size_t len)
{
	struct frames *f = arg;

	if (data[len] != '\0')
		fz_fail("frame not NUL-terminated");
	free(f->last);
	if ((f->last = malloc(len + 1)) == NULL)
		abort();
	memcpy(f->last, data, len + 1);
	f->lastlen = len;
	f->n++;
	return 0;
}

static void
checkpoint(const char *dir, const char *p, size_t len)
{
	char *data, *inner = NULL;
	size_t dlen, ilen = 0;

	fz_file(dir, "c", p, len);
	if (ds_ckpt_read(dir, "c", &inner, &ilen) != 1)
		inner = NULL;
	/*
	 * p written, then "x"; p's bytes over the current copy: read back
	 * are p's own contents when p is a checkpoint file, else the
	 * previous copy, p.
	 */
	if (ds_ckpt_write(dir, "w", p, len) == -1 ||
	    ds_ckpt_write(dir, "w", "x", 1) == -1)
		fz_fail("ds_ckpt_write failed");
	fz_file(dir, "w", p, len);
	if (ds_ckpt_read(dir, "w", &data, &dlen) != 1)
		fz_fail("checkpoint round trip: nothing read");
	if (inner != NULL ? dlen != ilen || memcmp(data, inner, ilen) != 0 :
	    dlen != len || memcmp(data, p, len) != 0)
		fz_fail("checkpoint round trip: other bytes read");
	free(data);
	free(inner);
}

static void
deltalog(const char *dir, const char *p, size_t len, const char *add,
    size_t addlen)
{
	struct frames f = { 0 };
	struct stat sb;
	char path[512];
	off_t size;
	int n;

	fz_file(dir, "l", p, len);
	if ((n = ds_ckptlog_read(dir, "l", frame, &f, &size)) == -1)
		fz_fail("ds_ckptlog_read: I/O error");
	snprintf(path, sizeof(path), "%s/l", dir);
	if (stat(path, &sb) == -1 || sb.st_size != size)
		fz_fail("delta log not cut to its good frames");
	/*
	 * Frames hold JSON lines (ds-state's deltas), which never hold a
	 * line that starts with '#': data with a trailer valid for a
	 * prefix of its own would be read back as two frames.
	 */
	if (memmem(add, addlen, "\n#ds-frame ", 11) != NULL) {
		free(f.last);
		return;
	}
	if (ds_ckptlog_append(dir, "l", add, addlen) == -1)
		fz_fail("ds_ckptlog_append failed");
	free(f.last);
	memset(&f, 0, sizeof(f));
	if (ds_ckptlog_read(dir, "l", frame, &f, &size) != n + 1 ||
	    f.n != n + 1 || f.lastlen != addlen ||
	    memcmp(f.last, add, addlen) != 0)
		fz_fail("delta log round trip: %d frames, then %d", n, f.n);
	free(f.last);
}

static void
batchlog(const char *dir, const char *p, size_t len)
{
	static struct ds_blog b;
	char msg[512];
	json_t *m;
	int64_t seq;
	size_t n;

	fz_file(dir, "batches.ndjson", p, len);
	if (ds_blog_open(&b, dir, msg, sizeof(msg)) == -1) {
		/* corrupt before its last line: an error, not a crash */
		ds_blog_close(&b);
		return;
	}
	n = b.n;
	seq = n > 0 ? b.e[n - 1].seq : 0;
	if (seq == INT64_MAX) {
		ds_blog_close(&b);
		return;
	}
	m = ds_marker_new(seq + 1, 7, 1000, 2, NULL);
	json_object_set_new(m, "stream", json_string("s-1"));
	if (ds_blog_append(&b, m, msg, sizeof(msg)) == -1)
		fz_fail("ds_blog_append failed: %s", msg);
	ds_blog_close(&b);
	if (ds_blog_open(&b, dir, msg, sizeof(msg)) == -1)
		fz_fail("batch log reopen: %s", msg);
	if (b.n != n + 1 || b.e[n].seq != seq + 1 || b.e[n].time != 7 ||
	    b.e[n].count != 2 || b.stream == NULL ||
	    strcmp(b.stream, "s-1") != 0)
		fz_fail("batch log round trip: %zu entries, then %zu", n, b.n);
	json_decref(m);
	ds_blog_close(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *part[3];
	size_t len[3];
	const char *dir;

	if (size > 65536)
		return 0;
	fz_split(data, size, part, len, 3);
	dir = fz_dir();
	checkpoint(dir, part[0], len[0]);
	deltalog(dir, part[1], len[1], part[0], len[0]);
	batchlog(dir, part[2], len[2]);
	fz_free(part, 3);
	return 0;
}
