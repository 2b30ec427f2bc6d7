/*
 * ds-tail -- follow log files into a ds pipeline, as Flume's TAILDIR
 * source does: files and globs followed through rotation by rename and
 * by copy-truncate, each line written as an NDJSON envelope (or raw),
 * each file's position kept in a position file and saved once written
 * or, in ack mode, once the last stage acknowledged the batch.
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
#include <getopt.h>
#include <glob.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds.h"

#define FPMAX		1024		/* first-line bytes that identify */
#define READSZ		(256 * 1024)
#define BUDGET		(4 * 1024 * 1024)	/* per file and pass */
#define RAWKEEP		4096		/* bytes of an over-long line kept */
#define CLOSE_MS	2000		/* unmatched and idle: done */
#define DETACH_SCANS	2		/* scans a lost content waits */
#define ACKWAIT_MS	60000
#define DRAIN_MS	5000		/* for the sink to close the acks */
#define NWAS		4

enum {
	OPT_ACKS = DS_OPT_FIRST_TOOL, OPT_INFLIGHT, OPT_SEEN, OPT_RESUME
};

/* One followed content (a file, whatever its name and copies). */
struct ent {
	uint64_t fp;		/* hash of the first line, never 0 */
	char	*path;		/* where it was last seen */
	int	 fd;		/* -1: its content is gone (detached) */
	dev_t	 dev;
	ino_t	 ino;
	ino_t	 was[NWAS];	/* earlier inodes of this content */
	int	 nwas;
	ino_t	 shrunk;	/* this inode shrank below off */
	off_t	 off;		/* after the last line written */
	off_t	 acked;		/* after the last line saved */
	off_t	 size;
	unsigned long lineno;	/* lines read in this run */
	unsigned long pend;	/* lines written, not acknowledged */
	int	 matched;	/* found by the last scan */
	int	 detached;	/* scans since the content went away */
	int	 skipping;	/* discarding the rest of a long line */
	int64_t	 idle;		/* unmatched at its end since, or 0 */
	int	 dead;		/* closed for good */
};

/* A line written in ack mode, waiting for its batch's ack. */
struct flight {
	struct ent *e;
	off_t	 end;
	int64_t	 t;		/* when it was written */
};

static struct {
	char		**pats;
	int		  npats;
	int		  raw, eof;
	char		 *posdir, *posname;	/* NULL: no position file */
	const char	 *acks;
	int		  afd, awfd, afifo;
	struct ds_buf	  abuf;
	int64_t		  interval;
	struct ent	**e;
	size_t		  n;
	struct flight	 *q;
	size_t		  qcap, qh, qn;
	int		  blocked;	/* the flight queue is full */
	int		  warned;
	int		  anyack;	/* a batch was acknowledged */
	char		 *buf;
	size_t		  bufcap;
	struct ds_buf	  ob;
	int		  dirty;	/* positions to save */
	int64_t		  saved;	/* when they were saved last */
} T;

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
	    "usage: ds-tail [-eR] [-i INTERVAL] [-p POSFILE] [--acks PATH]\n"
	    "               [--max-inflight N] [--seen FILE] [--progress]\n"
	    "               [--no-progress] [--stats] [--max-line BYTES]\n"
	    "               [--skip-bad] [--dead-letter FILE] FILE|GLOB ...\n"
	    "       ds-tail -p POSFILE --resume-time\n");
	exit(status);
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

static struct ent *
newent(uint64_t fp, const char *path, off_t off)
{
	struct ent *e, **ne;

	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->path = strdup(path)) == NULL)
		err(1, NULL);
	e->fp = fp;
	e->fd = -1;
	e->off = e->acked = off;
	if ((ne = reallocarray(T.e, T.n + 1, sizeof(*T.e))) == NULL)
		err(1, NULL);
	T.e = ne;
	T.e[T.n++] = e;
	T.dirty = 1;
	return e;
}

static void
setpath(struct ent *e, const char *path)
{
	if (strcmp(e->path, path) == 0)
		return;
	free(e->path);
	if ((e->path = strdup(path)) == NULL)
		err(1, NULL);
	T.dirty = 1;
}

static void
attach(struct ent *e, int fd, const struct stat *st, const char *path)
{
	if (e->ino != 0 && e->ino != st->st_ino) {
		memmove(e->was + 1, e->was, (NWAS - 1) * sizeof(e->was[0]));
		e->was[0] = e->ino;
		if (e->nwas < NWAS)
			e->nwas++;
	}
	e->fd = fd;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	e->size = st->st_size;
	e->detached = 0;
	e->matched = 1;
	e->idle = 0;
	setpath(e, path);
}

/* The content of e is gone from its file (truncated or rewritten). */
static void
detach(struct ent *e, off_t size)
{
	if (size < e->off)
		e->shrunk = e->ino;
	close(e->fd);
	e->fd = -1;
	e->detached = 0;
}

/* Write one line of e, from byte at of its file to end. */
static void
emit(struct ent *e, const char *p, size_t len, off_t at, off_t end)
{
	struct flight *f;

	e->lineno++;
	ds_stats.in++;
	if (T.raw)
		ds_out_line(p, len);
	else {
		ds_buf_clear(&T.ob);
		ds_buf_adds(&T.ob, "{\"file\":");
		ds_buf_addq(&T.ob, e->path, strlen(e->path));
		ds_buf_addf(&T.ob, ",\"inode\":%llu,\"offset\":%lld,\"line\":",
		    (unsigned long long)e->ino, (long long)at);
		ds_buf_addq(&T.ob, p, len);
		ds_buf_addc(&T.ob, '}');
		ds_out_buf(&T.ob);
	}
	if (T.acks == NULL)
		return;
	f = &T.q[(T.qh + T.qn++) % T.qcap];
	f->e = e;
	f->end = end;
	f->t = ds_now_ms();
	e->pend++;
	T.blocked = T.qn == T.qcap;
}

/* A line over --max-line: a bad record; skip, the rest is dropped. */
static void
toolong(struct ent *e, const char *p, size_t len, int skip)
{
	struct ds_line l;

	l.p = p;
	l.len = len < RAWKEEP ? len : RAWKEEP;
	l.lineno = ++e->lineno;
	l.src = e->path;
	l.toolong = 1;
	e->skipping = skip;
	ds_bad(&l, "line longer than %zu bytes", ds_opts.maxline);
}

/*
 * Write the complete lines of e from e->off on; closing, also a last
 * line without its newline.  Returns the bytes consumed.
 */
static off_t
readfile(struct ent *e, int closing)
{
	char *p, *end, *nl;
	size_t have = 0, used;
	off_t total = 0;
	ssize_t n;

	for (;;) {
		if (T.blocked)
			return total;
		n = pread(e->fd, T.buf + have, T.bufcap - have,
		    e->off + (off_t)have);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			err(1, "%s", e->path);
		}
		/*
		 * Truncated and written again since the scan looked?  Then
		 * these bytes are not the content we follow: the next scan
		 * gives it up for its copy.
		 */
		if (n > 0 && fingerprint(e->fd) != e->fp)
			break;
		have += (size_t)n;
		p = T.buf;
		end = T.buf + have;
		while (!T.blocked && (nl = memchr(p, '\n',
		    (size_t)(end - p))) != NULL) {
			if (e->skipping)
				e->skipping = 0;
			else if ((size_t)(nl - p) > ds_opts.maxline)
				toolong(e, p, (size_t)(nl - p), 0);
			else
				emit(e, p, nl - p, e->off + (p - T.buf),
				    e->off + (nl + 1 - T.buf));
			p = nl + 1;
		}
		used = p - T.buf;
		if (e->skipping || (!T.blocked && have - used >
		    ds_opts.maxline)) {
			if (!e->skipping)
				toolong(e, T.buf + used, have - used, 1);
			used = have;		/* drop it as it comes */
		}
		e->off += used;
		total += used;
		have -= used;
		memmove(T.buf, T.buf + used, have);
		if (have == T.bufcap) {
			T.bufcap *= 2;
			if ((T.buf = realloc(T.buf, T.bufcap)) == NULL)
				err(1, NULL);
		}
		if (n == 0 || total > BUDGET)
			break;
	}
	if (closing && have > 0 && !T.blocked) {
		emit(e, T.buf, have, e->off, e->off + (off_t)have);
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

static struct ent *
byfp(uint64_t fp)
{
	size_t i;

	for (i = 0; i < T.n; i++)
		if (!T.e[i]->dead && T.e[i]->fp == fp)
			return T.e[i];
	return NULL;
}

/* Place candidate c: same content as a lost one, a copy, or new. */
static void
place(struct cand *c, int sameino)
{
	struct ent *e;

	if (c->fd == -1)
		return;
	e = byfp(c->fp);
	if (sameino && (e == NULL || e->fd != -1 || e->ino != c->st.st_ino))
		return;
	if (e != NULL && e->fd != -1) {
		close(c->fd);		/* a copy of a file still followed */
	} else if (e != NULL && e->shrunk != c->st.st_ino) {
		attach(e, c->fd, &c->st, c->path);
	} else {
		if (e != NULL)
			e->dead = 1;	/* shrank: read it again */
		attach(newent(c->fp, c->path, 0), c->fd, &c->st, c->path);
	}
	c->fd = -1;
}

/* Look at the globs again: renamed, new, copied, truncated files. */
static void
scan(void)
{
	struct cand *c = NULL, *nc2;
	struct stat st;
	struct ent *e;
	glob_t g;
	size_t i, j, nc = 0;
	int k, fd;

	for (i = 0; i < T.n; i++) {
		e = T.e[i];
		e->matched = 0;
		if (e->dead)
			continue;
		if (e->fd == -1) {
			if (++e->detached > DETACH_SCANS)
				e->dead = 1;	/* no copy came */
			continue;
		}
		if (fstat(e->fd, &st) == -1)
			err(1, "%s", e->path);
		if (st.st_size < e->off || fingerprint(e->fd) != e->fp)
			detach(e, st.st_size);
		else
			e->size = st.st_size;
	}
	for (k = 0; k < T.npats; k++) {
		if (glob(T.pats[k], 0, NULL, &g) != 0)
			continue;
		for (i = 0; i < g.gl_pathc; i++) {
			if (stat(g.gl_pathv[i], &st) == -1 ||
			    !S_ISREG(st.st_mode))
				continue;
			for (j = 0; j < T.n; j++) {
				e = T.e[j];
				if (e->fd != -1 && e->dev == st.st_dev &&
				    e->ino == st.st_ino)
					break;
			}
			if (j < T.n) {
				T.e[j]->matched = 1;
				T.e[j]->idle = 0;
				setpath(T.e[j], g.gl_pathv[i]);
				continue;
			}
			for (j = 0; j < nc; j++)
				if (c[j].st.st_dev == st.st_dev &&
				    c[j].st.st_ino == st.st_ino)
					break;
			if (j < nc || (fd = open(g.gl_pathv[i],
			    O_RDONLY | O_CLOEXEC)) == -1)
				continue;
			if ((nc2 = reallocarray(c, nc + 1, sizeof(*c))) ==
			    NULL)
				err(1, NULL);
			c = nc2;
			c[nc].fd = fd;
			c[nc].st = st;
			if ((c[nc].fp = fingerprint(fd)) == 0) {
				close(fd);	/* no whole first line yet */
				continue;
			}
			if ((c[nc++].path = strdup(g.gl_pathv[i])) == NULL)
				err(1, NULL);
		}
		globfree(&g);
	}
	/* a content goes back to its own inode first, then to a copy */
	for (i = 0; i < nc; i++)
		place(&c[i], 1);
	for (i = 0; i < nc; i++) {
		place(&c[i], 0);
		free(c[i].path);
	}
	free(c);
}

/* Drop what is closed for good and has nothing left to acknowledge. */
static void
reap(void)
{
	size_t i, j;

	for (i = j = 0; i < T.n; i++) {
		if (T.e[i]->dead && T.e[i]->pend == 0) {
			if (T.e[i]->fd != -1)
				close(T.e[i]->fd);
			free(T.e[i]->path);
			free(T.e[i]);
			T.dirty = 1;
		} else
			T.e[j++] = T.e[i];
	}
	T.n = j;
}

/* ------------------------------------------------------------------ */
/* the position file */

static void
save(int now)
{
	struct ds_buf b = { 0 };
	struct ent *e;
	size_t i;
	int first = 1;

	if (T.posname == NULL || !T.dirty || (!now &&
	    ds_now_ms() - T.saved < T.interval))
		return;
	ds_buf_addf(&b, "{\"since\":%lld,\"files\":[", (long long)(T.qn > 0 ?
	    T.q[T.qh].t : ds_now_ms()));
	for (i = 0; i < T.n; i++) {
		e = T.e[i];
		if (e->dead)
			continue;
		ds_buf_addf(&b, "%s{\"fp\":\"%016" PRIx64 "\",\"inode\":%llu,"
		    "\"path\":", first ? "" : ",", e->fp,
		    (unsigned long long)e->ino);
		ds_buf_addq(&b, e->path, strlen(e->path));
		ds_buf_addf(&b, ",\"offset\":%lld}", (long long)e->acked);
		first = 0;
	}
	ds_buf_adds(&b, "]}");
	if (ds_ckpt_write(T.posdir, T.posname, b.p, b.len) == -1)
		err(1, "%s/%s", T.posdir, T.posname);
	ds_buf_free(&b);
	T.dirty = 0;
	T.saved = ds_now_ms();
}

/* Read the position file; returns its "since" (0 when none). */
static int64_t
load(void)
{
	json_t *j, *f, *v;
	json_error_t je;
	struct ent *e;
	char *data;
	size_t len, i;
	int64_t since;

	if (T.posname == NULL)
		return 0;
	switch (ds_ckpt_read(T.posdir, T.posname, &data, &len)) {
	case 0:
		return 0;
	case -1:
		exit(1);
	}
	if ((j = json_loadb(data, len, 0, &je)) == NULL ||
	    !json_is_array(json_object_get(j, "files")))
		errx(1, "%s/%s: not a position file", T.posdir, T.posname);
	since = json_integer_value(json_object_get(j, "since"));
	json_array_foreach(json_object_get(j, "files"), i, f) {
		v = json_object_get(f, "fp");
		if (!json_is_string(v) || !json_is_string(json_object_get(f,
		    "path")))
			errx(1, "%s/%s: not a position file", T.posdir,
			    T.posname);
		e = newent(strtoull(json_string_value(v), NULL, 16),
		    json_string_value(json_object_get(f, "path")),
		    (off_t)json_integer_value(json_object_get(f, "offset")));
		e->ino = (ino_t)json_integer_value(json_object_get(f,
		    "inode"));
	}
	json_decref(j);
	free(data);
	T.dirty = 0;
	return since;
}

/*
 * Does e's file hold line[0..len) at off?  An inode holds one content
 * after another under copy-truncate: the bytes tell which one it was.
 */
static int
holds(struct ent *e, off_t off, const char *line, size_t len)
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
pastline(struct ent *e, off_t off)
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
	T.dirty = 1;
}

/* Is ino the inode of e's file now, or one it had before (copies)? */
static int
hadino(const struct ent *e, ino_t ino)
{
	int k;

	if (e->ino == ino)
		return 1;
	for (k = 0; k < e->nwas; k++)
		if (e->was[k] == ino)
			return 1;
	return 0;
}

/*
 * One record delivered already: move past it the content it came from,
 * found by its inode and, when it has its line, checked by its bytes
 * (an inode holds one content after another under copy-truncate).  A
 * content first seen as a copy since has a new inode: then any file
 * followed that holds the line at that offset is it.
 */
static void
seen1(ino_t ino, off_t off, json_t *line)
{
	const char *s = json_string_value(line);
	size_t i, n = json_string_length(line);
	struct ent *e;
	int found = 0, pass;

	for (pass = 0; pass < 2 && !found; pass++)
		for (i = 0; i < T.n; i++) {
			e = T.e[i];
			if (e->fd == -1 || (pass == 0 && !hadino(e, ino)) ||
			    (pass == 1 && s == NULL))
				continue;
			if (s != NULL && !holds(e, off, s, n))
				continue;
			found = 1;
			if (off >= e->off)
				pastline(e, off);
		}
}

/*
 * --seen: records already delivered (ds-tail envelopes, or records or
 * Kafka envelopes whose value holds "inode", "offset" and best "line")
 * move the positions of the contents they came from past them.
 */
static void
seen(const char *path)
{
	struct ds_in *in;
	struct ds_line l;
	json_t *r, *v, *line;
	json_int_t ino, off;

	in = ds_in_open(path, ds_opts.maxline);
	while (ds_in_next(in, &l)) {
		if ((r = json_loadb(l.p, l.len, 0, NULL)) == NULL)
			continue;
		v = json_object_get(r, "value");
		v = json_is_object(v) ? v : r;
		ino = json_integer_value(json_object_get(v, "inode"));
		off = json_integer_value(json_object_get(v, "offset"));
		line = json_object_get(v, "line");
		if (ino > 0 && off >= 0)
			seen1((ino_t)ino, (off_t)off, json_is_string(line) ?
			    line : NULL);
		json_decref(r);
	}
	ds_in_close(in);
}

/* ------------------------------------------------------------------ */
/* ack mode: the same channel as ds-kafka-cat --acks */

static void
ackopen(void)
{
	struct stat st;

	if ((T.afd = open(T.acks, O_RDONLY | O_NONBLOCK | O_CREAT | O_CLOEXEC,
	    0644)) == -1)
		err(1, "%s", T.acks);
	/* hold the FIFO open for writing too: no EOF when a sink restarts */
	T.awfd = -1;
	if (fstat(T.afd, &st) == 0 && S_ISFIFO(st.st_mode)) {
		T.afifo = 1;
		T.awfd = open(T.acks, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	}
}

/* A batch acknowledged: its records' positions can be saved. */
static void
ackline(const char *s, size_t n)
{
	json_t *m;
	int64_t count;
	struct flight *f;

	if (!ds_is_control(s, n))
		return;
	if ((m = json_loadb(s, n, 0, NULL)) == NULL) {
		warnx("%s: malformed ack line ignored", T.acks);
		return;
	}
	count = 0;
	if (ds_marker_is_batch(m)) {
		count = ds_marker_int(m, "count");
		T.anyack = 1;
	}
	json_decref(m);
	if (count > (int64_t)T.qn && !T.warned++)
		warnx("%s: an ack counts more records than were written: "
		    "is a stage between ds-tail and ds-batch adding records?",
		    T.acks);
	for (; count > 0 && T.qn > 0; count--) {
		f = &T.q[T.qh];
		f->e->acked = f->end;
		f->e->pend--;
		T.qh = (T.qh + 1) % T.qcap;
		T.qn--;
		T.dirty = 1;
	}
	T.blocked = 0;
}

/* Read the acks there are; returns 1 at the end of the channel. */
static int
ackpoll(void)
{
	char buf[65536], *nl;
	ssize_t n;
	size_t off;

	if (T.acks == NULL)
		return 1;
	while ((n = read(T.afd, buf, sizeof(buf))) > 0)
		ds_buf_add(&T.abuf, buf, (size_t)n);
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		err(1, "%s", T.acks);
	off = 0;
	while (T.abuf.len > off && (nl = memchr(T.abuf.p + off, '\n',
	    T.abuf.len - off)) != NULL) {
		ackline(T.abuf.p + off, (size_t)(nl - T.abuf.p) - off);
		off = (size_t)(nl - T.abuf.p) + 1;
	}
	if (off > 0) {
		memmove(T.abuf.p, T.abuf.p + off, T.abuf.len - off);
		T.abuf.len -= off;
	}
	return n == 0;
}

/*
 * -e in ack mode: close standard output so the pipeline drains, and
 * wait for the acks of what was written, so that a finished run leaves
 * its positions saved.  Ends when the channel has no writer left (the
 * sink is done: it may ack empty batches up to its end, and must not
 * find the channel closed), DRAIN_MS after everything is acknowledged,
 * or after ACKWAIT_MS without an ack.
 */
static void
ackwait(void)
{
	struct pollfd pfd;
	int64_t last = ds_now_ms();
	size_t was = T.qn;
	int fd;

	ds_out_flush();
	if ((fd = open("/dev/null", O_WRONLY)) == -1 || dup2(fd, 1) == -1)
		err(1, "/dev/null");
	close(fd);
	if (T.awfd != -1) {
		close(T.awfd);		/* our own writer: EOF when theirs go */
		T.awfd = -1;
	}
	while (!ds_stop) {
		pfd.fd = T.afd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) == 1 && (pfd.revents & POLLHUP))
			poll(NULL, 0, 200);	/* no writer: poll says so at once */
		/*
		 * The end of a FIFO counts once a sink wrote to it: before,
		 * the last stage may not have opened it yet.
		 */
		if (ackpoll() && (T.anyack || !T.afifo))
			break;
		save(0);
		if (T.qn != was) {
			was = T.qn;
			last = ds_now_ms();
		} else if (T.qn == 0 && ds_now_ms() - last > DRAIN_MS)
			break;	/* all acknowledged, the sink lingers */
		else if (ds_now_ms() - last > ACKWAIT_MS) {
			warnx("%s: no ack for %d s, exiting with %zu line(s) "
			    "unacknowledged", T.acks, ACKWAIT_MS / 1000, T.qn);
			break;
		}
	}
}

/* ------------------------------------------------------------------ */

/* One pass over the followed files; returns the bytes consumed. */
static off_t
pass(void)
{
	struct ent *e;
	off_t got = 0, n;
	int64_t now = ds_now_ms();
	size_t i;

	scan();
	for (i = 0; i < T.n; i++) {
		e = T.e[i];
		if (e->fd == -1 || e->dead)
			continue;
		got += n = readfile(e, 0);
		if (e->matched || n > 0 || T.blocked)
			continue;
		/* renamed out of the globs or deleted, and at its end */
		if (e->idle == 0)
			e->idle = now;
		else if (now - e->idle >= CLOSE_MS) {
			got += readfile(e, 1);
			e->dead = 1;
		}
	}
	ds_out_flush();
	for (i = 0; T.acks == NULL && i < T.n; i++)
		if (T.e[i]->acked != T.e[i]->off) {
			T.e[i]->acked = T.e[i]->off;
			T.dirty = 1;
		}
	return got;
}

static void
progress(int caughtup)
{
	int64_t done = 0, total = 0;
	size_t i;

	for (i = 0; i < T.n; i++)
		if (T.e[i]->fd != -1) {
			done += T.e[i]->off;
			total += T.e[i]->size > T.e[i]->off ? T.e[i]->size :
			    T.e[i]->off;
		}
	if (caughtup)
		ds_progress_end(done, total, "bytes");
	else
		ds_progress(done, total, "bytes");
}

static void
setpos(const char *path)
{
	char *s;

	if ((s = strrchr(path, '/')) == NULL) {
		T.posdir = strdup(".");
		T.posname = strdup(path);
	} else {
		T.posdir = strndup(path, s == path ? 1 : (size_t)(s - path));
		T.posname = strdup(s + 1);
	}
	if (T.posdir == NULL || T.posname == NULL)
		err(1, NULL);
	if (*T.posname == '\0')
		errx(2, "-p %s: not a file name", path);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		DS_COMMON_LONGOPTS,
		{ "acks",	  required_argument, NULL, OPT_ACKS },
		{ "max-inflight", required_argument, NULL, OPT_INFLIGHT },
		{ "seen",	  required_argument, NULL, OPT_SEEN },
		{ "resume-time",  no_argument,	     NULL, OPT_RESUME },
		{ "help",	  no_argument,	     NULL, 'h' },
		{ "version",	  no_argument,	     NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *errstr, *seenf = NULL;
	struct pollfd pfd;
	int ch, resume = 0, caughtup = 0;
	off_t got;

	ds_signals();
	T.interval = 250;
	T.qcap = 100000;
	while ((ch = getopt_long(argc, argv, "ehi:p:RV", longopts,
	    NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'e':
			T.eof = 1;
			break;
		case 'i':
			if (ds_duration(optarg, &T.interval, 0) == -1)
				errx(2, "-i %s: expected a duration such as "
				    "250ms or 1s", optarg);
			break;
		case 'p':
			setpos(optarg);
			break;
		case 'R':
			T.raw = 1;
			break;
		case OPT_ACKS:
			T.acks = optarg;
			break;
		case OPT_INFLIGHT:
			T.qcap = (size_t)strtonum(optarg, 1, 100000000, &errstr);
			if (errstr != NULL)
				errx(2, "--max-inflight %s: %s", optarg, errstr);
			break;
		case OPT_SEEN:
			seenf = optarg;
			break;
		case OPT_RESUME:
			resume = 1;
			break;
		case 'h':
			usage(0);
		case 'V':
			ds_version();
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;

	if (resume) {
		if (T.posname == NULL || argc != 0)
			errx(2, "--resume-time needs -p POSFILE and no files");
		printf("%lld\n", (long long)load());
		return 0;
	}
	if (argc == 0)
		usage(2);
	if (T.acks != NULL && T.posname == NULL)
		errx(2, "--acks needs -p POSFILE (the positions it saves)");
	T.pats = argv;
	T.npats = argc;
	T.bufcap = READSZ;
	if ((T.buf = malloc(T.bufcap)) == NULL)
		err(1, NULL);
	if (T.acks != NULL) {
		if ((T.q = calloc(T.qcap, sizeof(*T.q))) == NULL)
			err(1, NULL);
		ackopen();
	}
	load();
	scan();
	if (seenf != NULL)
		seen(seenf);
	for (;;) {
		got = pass();
		ackpoll();
		reap();
		save(0);
		if (!caughtup && got == 0 && !T.blocked) {
			caughtup = 1;
			progress(1);
		} else if (!caughtup)
			progress(0);
		ds_stats_check();
		if (ds_stop || (T.eof && got == 0 && !T.blocked))
			break;
		if (got > 0 && !T.blocked)
			continue;
		pfd.fd = T.afifo ? T.afd : -1;
		pfd.events = POLLIN;
		poll(&pfd, 1, (int)T.interval);
	}
	if (T.acks != NULL && T.eof && !ds_stop)
		ackwait();
	ds_out_flush();
	save(1);
	return 0;
}
