/*
 * follow.c -- follow files and globs through rotation, as Flume's
 * TAILDIR source does: by rename and by copy-truncate, each complete
 * line handed to the tool with the byte range it came from.
 *
 * A file is known by its content, not its name: the hash of its first
 * line.  A renamed file keeps its inode and its first line; a copy made
 * by copy-truncate has a new inode but the same first line, so it takes
 * over the position of the original once that is truncated.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stream/stream.h"

#define FPMAX		1024		/* first-line bytes that identify */
#define READSZ		(256 * 1024)
#define BUDGET		(4 * 1024 * 1024)	/* per file and pass */
#define RAWKEEP		4096		/* bytes of an over-long line kept */
#define CLOSE_MS	2000		/* unmatched and idle: done */
#define DETACH_SCANS	2		/* scans a lost content waits */

void
ds_follow_init(struct ds_follow *f, char **pats, int npats, size_t maxline)
{
	memset(f, 0, sizeof(*f));
	f->pats = pats;
	f->npats = npats;
	f->maxline = maxline;
	f->bufcap = READSZ;
	if ((f->buf = malloc(f->bufcap)) == NULL)
		err(1, NULL);
}

/* An error on path: -1 with errno set and f->failed naming it. */
static int
failed(struct ds_follow *f, const char *path)
{
	f->failed = path;
	return -1;
}

/* The identity of fd's content: 0 until its first line is complete. */
static uint64_t
fingerprint(int fd)
{
	char b[FPMAX], *nl;
	ssize_t n;

	if ((n = pread(fd, b, sizeof(b), 0)) <= 0)
		return 0;
	if ((nl = memchr(b, '\n', (size_t)n)) != NULL)
		n = nl - b + 1;
	else if (n < FPMAX)
		return 0;
	return ds_hash_bytes(b, (size_t)n) | 1;
}

struct ds_fent *
ds_follow_add(struct ds_follow *f, uint64_t fp, const char *path, off_t off)
{
	struct ds_fent *e, **ne;

	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->path = strdup(path)) == NULL)
		err(1, NULL);
	e->fp = fp;
	e->fd = -1;
	e->off = e->acked = off;
	if ((ne = reallocarray(f->e, f->n + 1, sizeof(*f->e))) == NULL)
		err(1, NULL);
	f->e = ne;
	f->e[f->n++] = e;
	f->dirty = 1;
	return e;
}

static void
setpath(struct ds_follow *f, struct ds_fent *e, const char *path)
{
	if (strcmp(e->path, path) == 0)
		return;
	free(e->path);
	if ((e->path = strdup(path)) == NULL)
		err(1, NULL);
	f->dirty = 1;
}

static void
attach(struct ds_follow *f, struct ds_fent *e, int fd, const struct stat *st,
    const char *path)
{
	if (e->ino != 0 && e->ino != st->st_ino) {
		memmove(e->was + 1, e->was, (DS_FOLLOW_NWAS - 1) *
		    sizeof(e->was[0]));
		e->was[0] = e->ino;
		if (e->nwas < DS_FOLLOW_NWAS)
			e->nwas++;
	}
	e->fd = fd;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->detached = 0;
	e->matched = 1;
	e->idle = 0;
	setpath(f, e, path);
}

/* The content of e is gone from its file (truncated or rewritten). */
static void
detach(struct ds_fent *e, off_t size)
{
	if (size < e->off)
		e->shrunk = e->ino;
	close(e->fd);
	e->fd = -1;
	e->detached = 0;
}

/* A line over the limit: reported, the rest of it is dropped. */
static void
toolong(struct ds_follow *f, struct ds_fent *e, const char *p, size_t len,
    int skip)
{
	e->lineno++;
	e->skipping = skip;
	f->toolong(f->ctx, e, p, len < RAWKEEP ? len : RAWKEEP);
}

/* The complete lines in f->buf[0..have), read from e->off on. */
static size_t
lines(struct ds_follow *f, struct ds_fent *e, size_t have)
{
	char *p = f->buf, *end = f->buf + have, *nl;

	while (!f->blocked && (nl = memchr(p, '\n', (size_t)(end - p))) !=
	    NULL) {
		if (e->skipping)
			e->skipping = 0;
		else if ((size_t)(nl - p) > f->maxline)
			toolong(f, e, p, (size_t)(nl - p), 0);
		else {
			e->lineno++;
			f->line(f->ctx, e, p, (size_t)(nl - p),
			    e->off + (p - f->buf), e->off + (nl + 1 - f->buf));
		}
		p = nl + 1;
	}
	return (size_t)(p - f->buf);
}

off_t
ds_follow_read(struct ds_follow *f, struct ds_fent *e, int closing)
{
	size_t have = 0, used;
	off_t total = 0;
	ssize_t n;

	for (;;) {
		if (f->blocked)
			return total;
		n = pread(e->fd, f->buf + have, f->bufcap - have,
		    e->off + (off_t)have);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return failed(f, e->path);
		}
		/*
		 * Truncated and written again since the scan looked?  Then
		 * these bytes are not the content we follow: the next scan
		 * gives it up for its copy.
		 */
		if (n > 0 && fingerprint(e->fd) != e->fp)
			break;
		have += (size_t)n;
		used = lines(f, e, have);
		if (e->skipping || (!f->blocked && have - used > f->maxline)) {
			if (!e->skipping)
				toolong(f, e, f->buf + used, have - used, 1);
			used = have;		/* drop it as it comes */
		}
		e->off += used;
		total += used;
		have -= used;
		memmove(f->buf, f->buf + used, have);
		if (have == f->bufcap) {
			f->bufcap *= 2;
			if ((f->buf = realloc(f->buf, f->bufcap)) == NULL)
				err(1, NULL);
		}
		if (n == 0 || total > BUDGET)
			break;
	}
	if (closing && have > 0 && !f->blocked) {
		e->lineno++;
		f->line(f->ctx, e, f->buf, have, e->off, e->off + (off_t)have);
		e->off += have;
		total += have;
	}
	return total;
}

/* A file found by a glob that no followed content holds yet. */
struct cand {
	char	*path;
	int	 fd;
	struct stat st;
	uint64_t fp;
};

static struct ds_fent *
byfp(struct ds_follow *f, uint64_t fp)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!f->e[i]->dead && f->e[i]->fp == fp)
			return f->e[i];
	return NULL;
}

/* Place candidate c: same content as a lost one, a copy, or new. */
static void
place(struct ds_follow *f, struct cand *c, int sameino)
{
	struct ds_fent *e;

	if (c->fd == -1)
		return;
	e = byfp(f, c->fp);
	if (sameino && (e == NULL || e->fd != -1 || e->ino != c->st.st_ino))
		return;
	if (e != NULL && e->fd != -1) {
		close(c->fd);		/* a copy of a file still followed */
	} else if (e != NULL && e->shrunk != c->st.st_ino) {
		attach(f, e, c->fd, &c->st, c->path);
	} else {
		if (e != NULL)
			e->dead = 1;	/* shrank: read it again */
		attach(f, ds_follow_add(f, c->fp, c->path, 0), c->fd, &c->st,
		    c->path);
	}
	c->fd = -1;
}

/* Look at what is followed: gone, truncated, rewritten, or grown. */
static int
recheck(struct ds_follow *f)
{
	struct ds_fent *e;
	struct stat st;
	size_t i;

	for (i = 0; i < f->n; i++) {
		e = f->e[i];
		e->matched = 0;
		if (e->dead)
			continue;
		if (e->fd == -1) {
			if (++e->detached > DETACH_SCANS)
				e->dead = 1;	/* no copy came */
			continue;
		}
		if (fstat(e->fd, &st) == -1)
			return failed(f, e->path);
		if (st.st_size < e->off || fingerprint(e->fd) != e->fp)
			detach(e, st.st_size);
		else
			e->size = st.st_size;
	}
	return 0;
}

/*
 * A path a glob found: followed already (under this name or another),
 * or a candidate added to *c (opened, its first line complete).
 */
static void
found(struct ds_follow *f, const char *path, struct cand **c, size_t *nc)
{
	struct stat st;
	struct cand *nc2;
	size_t j;
	int fd;

	if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
		return;
	for (j = 0; j < f->n; j++)
		if (f->e[j]->fd != -1 && f->e[j]->dev == st.st_dev &&
		    f->e[j]->ino == st.st_ino) {
			f->e[j]->matched = 1;
			f->e[j]->idle = 0;
			setpath(f, f->e[j], path);
			return;
		}
	for (j = 0; j < *nc; j++)
		if ((*c)[j].st.st_dev == st.st_dev &&
		    (*c)[j].st.st_ino == st.st_ino)
			return;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	if ((nc2 = reallocarray(*c, *nc + 1, sizeof(**c))) == NULL)
		err(1, NULL);
	*c = nc2;
	nc2 += *nc;
	nc2->fd = fd;
	nc2->st = st;
	if ((nc2->fp = fingerprint(fd)) == 0) {
		close(fd);	/* no whole first line yet */
		return;
	}
	if ((nc2->path = strdup(path)) == NULL)
		err(1, NULL);
	(*nc)++;
}

int
ds_follow_scan(struct ds_follow *f)
{
	struct cand *c = NULL;
	glob_t g;
	size_t i, nc = 0;
	int k;

	if (recheck(f) == -1)
		return -1;
	for (k = 0; k < f->npats; k++) {
		if (glob(f->pats[k], 0, NULL, &g) != 0)
			continue;
		for (i = 0; i < g.gl_pathc; i++)
			found(f, g.gl_pathv[i], &c, &nc);
		globfree(&g);
	}
	/* a content goes back to its own inode first, then to a copy */
	for (i = 0; i < nc; i++)
		place(f, &c[i], 1);
	for (i = 0; i < nc; i++) {
		place(f, &c[i], 0);
		free(c[i].path);
	}
	free(c);
	return 0;
}

off_t
ds_follow_pass(struct ds_follow *f)
{
	struct ds_fent *e;
	off_t got = 0, n;
	int64_t now = ds_now_ms();
	size_t i;

	if (ds_follow_scan(f) == -1)
		return -1;
	for (i = 0; i < f->n; i++) {
		e = f->e[i];
		if (e->fd == -1 || e->dead)
			continue;
		if ((n = ds_follow_read(f, e, 0)) == -1)
			return -1;
		got += n;
		if (e->matched || n > 0 || f->blocked)
			continue;
		/* renamed out of the globs or deleted, and at its end */
		if (e->idle == 0)
			e->idle = now;
		else if (now - e->idle >= CLOSE_MS) {
			if ((n = ds_follow_read(f, e, 1)) == -1)
				return -1;
			got += n;
			e->dead = 1;
		}
	}
	return got;
}

void
ds_follow_reap(struct ds_follow *f)
{
	size_t i, j;

	for (i = j = 0; i < f->n; i++) {
		if (f->e[i]->dead && f->e[i]->pend == 0) {
			if (f->e[i]->fd != -1)
				close(f->e[i]->fd);
			free(f->e[i]->path);
			free(f->e[i]);
			f->dirty = 1;
		} else
			f->e[j++] = f->e[i];
	}
	f->n = j;
}

/*
 * Does e's file hold line[0..len) at off?  An inode holds one content
 * after another under copy-truncate: the bytes tell which one it was.
 */
static int
holds(struct ds_fent *e, off_t off, const char *line, size_t len)
{
	char b[4096];
	size_t i, n;
	ssize_t r;

	for (i = 0; i <= len; i += n) {
		n = len + 1 - i < sizeof(b) ? len + 1 - i : sizeof(b);
		if ((r = pread(e->fd, b, n, off + (off_t)i)) <= 0)
			return i == len;	/* a last line without \n */
		if ((size_t)r < n)
			n = (size_t)r;
		if (i + n > len) {
			if (b[len - i] != '\n' ||
			    memcmp(b, line + i, len - i) != 0)
				return 0;
		} else if (memcmp(b, line + i, n) != 0)
			return 0;
	}
	return 1;
}

/* e's position after the line that starts at off. */
static void
pastline(struct ds_follow *f, struct ds_fent *e, off_t off)
{
	char b[65536], *nl;
	ssize_t n;

	while ((n = pread(e->fd, b, sizeof(b), off)) > 0) {
		if ((nl = memchr(b, '\n', (size_t)n)) != NULL) {
			off += nl - b + 1;
			break;
		}
		off += n;
	}
	e->off = e->acked = off;
	f->dirty = 1;
}

/* Is ino the inode of e's file now, or one it had before (copies)? */
static int
hadino(const struct ds_fent *e, ino_t ino)
{
	int k;

	if (e->ino == ino)
		return 1;
	for (k = 0; k < e->nwas; k++)
		if (e->was[k] == ino)
			return 1;
	return 0;
}

void
ds_follow_seen(struct ds_follow *f, ino_t ino, off_t off, const char *line,
    size_t len)
{
	struct ds_fent *e;
	size_t i;
	int found = 0, pass;

	for (pass = 0; pass < 2 && !found; pass++)
		for (i = 0; i < f->n; i++) {
			e = f->e[i];
			if (e->fd == -1 || (pass == 0 && !hadino(e, ino)) ||
			    (pass == 1 && line == NULL))
				continue;
			if (line != NULL && !holds(e, off, line, len))
				continue;
			found = 1;
			if (off >= e->off)
				pastline(f, e, off);
		}
}

void
ds_follow_free(struct ds_follow *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (f->e[i]->fd != -1)
			close(f->e[i]->fd);
		free(f->e[i]->path);
		free(f->e[i]);
	}
	free(f->e);
	free(f->buf);
	f->e = NULL;
	f->buf = NULL;
	f->n = 0;
}
