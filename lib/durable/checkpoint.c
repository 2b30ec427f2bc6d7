/*
 * checkpoint.c -- atomic, checksummed files for state that must survive
 * kill -9: write a temporary, fsync, keep the previous copy, rename,
 * fsync the directory.  A trailer line holds the length and an FNV-1a
 * checksum, so a torn or corrupt file is detected and the previous good
 * copy is used instead.
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

#define TRAILER	"\n#ds-checkpoint len=%zu fnv1a64=%016" PRIx64 "\n"

uint64_t
ds_fnv1a64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n-- > 0)
		h = (h ^ *s++) * 0x100000001b3ULL;
	return h;
}

int
ds_write_trailed(int fd, const void *data, size_t len, const char *trailer)
{
	int saved;

	if (ds_writeall(fd, data, len) == -1 ||
	    ds_writeall(fd, trailer, strlen(trailer)) == -1 ||
	    fsync(fd) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

int
ds_ckpt_write(const char *dir, const char *name, const void *data,
    size_t len)
{
	char path[4096], tmp[4096], prev[4096], trailer[96];
	int fd;

	if (ds_mkdirs(dir) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	snprintf(prev, sizeof(prev), "%s/%s.prev", dir, name);
	snprintf(trailer, sizeof(trailer), TRAILER, len, ds_fnv1a64(data, len));
	if ((fd = ds_create(tmp)) == -1 ||
	    ds_write_trailed(fd, data, len, trailer) == -1)
		return -1;
	if (rename(path, prev) == -1 && errno != ENOENT)
		return -1;
	if (rename(tmp, path) == -1)
		return -1;
	ds_syncdir(dir);
	return 0;
}

/* Read and verify one copy: 1 good, 0 missing, -1 corrupt. */
static int
readone(const char *path, char **data, size_t *len)
{
	struct ds_buf b = { 0 };
	char chunk[65536], *t;
	ssize_t n;
	size_t dlen;
	uint64_t sum;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		ds_buf_add(&b, chunk, (size_t)n);
	close(fd);
	if (n == -1)
		goto bad;
	ds_buf_addc(&b, '\0');
	b.len--;
	/* the trailer is the last line */
	if (b.len < 2 || b.p[b.len - 1] != '\n')
		goto bad;
	for (t = b.p + b.len - 2; t > b.p && *t != '\n'; t--)
		;
	if (*t != '\n' || sscanf(t, "\n#ds-checkpoint len=%zu fnv1a64=%"
	    SCNx64, &dlen, &sum) != 2)
		goto bad;
	if ((size_t)(t - b.p) != dlen || ds_fnv1a64(b.p, dlen) != sum)
		goto bad;
	b.p[dlen] = '\0';
	*data = b.p;
	*len = dlen;
	return 1;
bad:
	ds_buf_free(&b);
	return -1;
}

int
ds_ckpt_read(const char *dir, const char *name, char **data, size_t *len)
{
	char path[4096], prev[4096];
	int rc, rcprev;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(prev, sizeof(prev), "%s/%s.prev", dir, name);
	if ((rc = readone(path, data, len)) == 1)
		return 1;
	if (rc == -1)
		warnx("%s: checkpoint is corrupt or truncated, "
		    "trying the previous one", path);
	if ((rcprev = readone(prev, data, len)) == 1) {
		if (rc == 0)
			warnx("%s: missing, using %s", path, prev);
		return 1;
	}
	if (rcprev == -1) {
		warnx("%s: checkpoint is corrupt or truncated", prev);
		return -1;
	}
	return rc == -1 ? -1 : 0;
}
