/*
 * ckptlog.c -- an append-only log of checksummed frames next to a full
 * checkpoint, for state too large to rewrite after every batch: each
 * checkpoint appends only what changed (and fsyncs), and a new full
 * checkpoint now and then empties the log.  A frame torn by a crash in
 * the middle of an append fails its checksum; it and anything after it
 * are cut off on the next read.
 *
 * Frame: the data bytes, then the line
 * "\n#ds-frame len=N fnv1a64=HEX\n" (ds_fnv1a64 of the data).  Logs
 * written before that have "sum=HEX", a hash of the data taken in host
 * byte order (oldsum below, frozen so that those logs stay readable).
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "durable/durable.h"

#define FRAME	"\n#ds-frame len=%zu %s=%016" PRIx64 "\n"

/* The checksum of frames written with "sum=": read them, never write. */
static uint64_t
oldsum(const void *k, size_t n)
{
	const unsigned char *p = k;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (n * 0xff51afd7ed558ccdULL), w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ (w * 0xc4ceb9fe1a85ec53ULL)) * 0x100000001b3ULL;
		h ^= h >> 29;
		p += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ (w * 0xc4ceb9fe1a85ec53ULL)) * 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h;
}

static void
logpath(char *buf, size_t n, const char *dir, const char *name)
{
	snprintf(buf, n, "%s/%s", dir, name);
}

int
ds_ckptlog_append(const char *dir, const char *name, const void *data,
    size_t len)
{
	char path[4096], trailer[96];
	struct stat sb;
	int fd, created;

	logpath(path, sizeof(path), dir, name);
	created = stat(path, &sb) == -1;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return -1;
	snprintf(trailer, sizeof(trailer), FRAME, len, "fnv1a64",
	    ds_fnv1a64(data, len));
	if (ds_write_trailed(fd, data, len, trailer) == -1)
		return -1;
	if (created)
		ds_syncdir(dir);
	return 0;
}

int
ds_ckptlog_reset(const char *dir, const char *name)
{
	char path[4096];
	int fd;

	logpath(path, sizeof(path), dir, name);
	if ((fd = open(path, O_WRONLY | O_TRUNC | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return -1;
	if (fsync(fd) == -1) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * Is t the trailer of the frame p..t, written exactly as FRAME writes it
 * (sscanf alone would take "len= 5" or a newline for a space)?  Returns
 * the trailer's newline, or NULL.
 */
static char *
trailer(const char *p, char *t, const char *end)
{
	char want[96], kind[8], *nl;
	size_t dlen;
	uint64_t sum;
	int n;

	if ((nl = memchr(t + 1, '\n', (size_t)(end - t - 1))) == NULL ||
	    sscanf(t, "\n#ds-frame len=%zu %7[a-z0-9]=%" SCNx64, &dlen, kind,
	    &sum) != 3 || dlen != (size_t)(t - p))
		return NULL;
	n = snprintf(want, sizeof(want), FRAME, dlen, kind, sum);
	if (n != nl + 1 - t || memcmp(t, want, n) != 0)
		return NULL;
	if (strcmp(kind, "fnv1a64") == 0 && ds_fnv1a64(p, dlen) == sum)
		return nl;
	if (strcmp(kind, "sum") == 0 && oldsum(p, dlen) == sum)
		return nl;
	return NULL;
}

int
ds_ckptlog_read(const char *dir, const char *name,
    int (*fn)(void *arg, char *data, size_t len), void *arg, off_t *size)
{
	struct ds_buf b = { 0 };
	char path[4096], chunk[65536], *p, *q, *t, *nl, *end;
	size_t good = 0, dlen;
	ssize_t n;
	int fd, nframes = 0, stop = 0;

	*size = 0;
	logpath(path, sizeof(path), dir, name);
	if ((fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		ds_buf_add(&b, chunk, (size_t)n);
	if (n == -1) {
		close(fd);
		ds_buf_free(&b);
		return -1;
	}
	ds_buf_addc(&b, '\0');
	b.len--;
	end = b.p + b.len;
	for (p = b.p; p < end && !stop; p = nl + 1) {
		/* a frame ends at the first trailer that matches its data:
		 * data may hold trailer-like lines of its own */
		for (q = p; (t = memmem(q, (size_t)(end - q),
		    "\n#ds-frame ", 11)) != NULL; q = t + 1)
			if ((nl = trailer(p, t, end)) != NULL)
				break;
		if (t == NULL)
			break;
		dlen = (size_t)(t - p);
		*t = '\0';
		stop = fn(arg, p, dlen);
		*t = '\n';
		nframes++;
		good = (size_t)(nl + 1 - b.p);
	}
	if (!stop && good < b.len) {
		warnx("%s: dropping %zu bytes of a torn or corrupt frame",
		    path, b.len - good);
		if (ftruncate(fd, (off_t)good) == -1 || fsync(fd) == -1) {
			close(fd);
			ds_buf_free(&b);
			return -1;
		}
	}
	*size = (off_t)good;
	close(fd);
	ds_buf_free(&b);
	return nframes;
}
