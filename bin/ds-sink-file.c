/*
 * ds-sink-file -- write every batch to its own file (Spark's
 * saveAsTextFiles): PREFIX-TIME_MS[.SUFFIX], written atomically (a
 * temporary file, fsync, rename, fsync of the directory), so a reader
 * never sees half a batch and a replayed batch simply replaces its file.
 * Empty batches get an empty file, as in Spark.  Standard output carries
 * the markers of the batches written, for an ack path or the next stage.
 * Input is standard input or the FILE operands after SUFFIX (an empty
 * SUFFIX: none), in order.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds.h"

#define WBUF	(256 * 1024)

struct sink {
	const char	*prefix, *suffix;
	char		*dir;		/* the directory of PREFIX */
	char		*tmp;		/* the batch being written */
	int		 fd;		/* of tmp, -1 when none is open */
	struct ds_buf	 b;		/* records not yet written to fd */
	int64_t		 files;
};

static void
usage(int st)
{
	fprintf(st ? stderr : stdout, "usage: ds-sink-file "
	    DS_COMMON_USAGE "\n\tPREFIX [SUFFIX [FILE ...]]\n");
	exit(st);
}

static void
drain(struct sink *s)
{
	size_t off = 0;
	ssize_t w;

	if (s->fd == -1) {
		if ((s->fd = ds_create(s->tmp)) == -1)
			err(1, "%s", s->tmp);
	}
	while (off < s->b.len) {
		if ((w = write(s->fd, s->b.p + off, s->b.len - off)) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "%s", s->tmp);
		}
		off += (size_t)w;
	}
	ds_buf_clear(&s->b);
}

static void
data(void *ctx, const struct ds_line *l)
{
	struct sink *s = ctx;

	if (ds_check_line(l, 0) == -1)
		return;
	ds_buf_add(&s->b, l->p, l->len);
	ds_buf_addc(&s->b, '\n');
	if (s->b.len >= WBUF)
		drain(s);
}

/* Close the batch's file under its final name; 0 or exits. */
static void
commit(struct sink *s, int64_t time)
{
	char *path;

	drain(s);	/* opens the file even for an empty batch */
	if (fsync(s->fd) == -1 || close(s->fd) == -1)
		err(1, "%s", s->tmp);
	s->fd = -1;
	if (asprintf(&path, "%s-%lld%s%s", s->prefix, (long long)time,
	    s->suffix ? "." : "", s->suffix ? s->suffix : "") == -1)
		err(1, NULL);
	if (rename(s->tmp, path) == -1)
		err(1, "%s", path);
	if (ds_syncdir(s->dir) == -1)
		err(1, "%s", s->dir);
	free(path);
	s->files++;
}

static void
marker(void *ctx, json_t *m, const struct ds_line *l)
{
	struct sink *s = ctx;

	commit(s, ds_marker_int(m, "time"));
	ds_marker_emit(m);	/* only once the file is in place */
	json_decref(m);
}

/* Plain input: one file, named by the time at the end. */
static void
end(void *ctx, unsigned long nmarkers)
{
	struct sink *s = ctx;

	if (nmarkers == 0)
		commit(s, ds_now_ms());
}

int
main(int argc, char *argv[])
{
	static struct option lopts[] = {
		DS_COMMON_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct sink s = { 0 };
	struct ds_stage st = { data, marker, NULL, end, &s, 0 };
	char *copy;
	int ch;

	ds_signals();
	while ((ch = getopt_long(argc, argv, "hV", lopts, NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'h':
			usage(0);
			break;
		case 'V':
			ds_version();
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || *argv[0] == '\0')
		usage(2);
	s.prefix = argv[0];
	s.suffix = argc >= 2 && *argv[1] != '\0' ? argv[1] : NULL;
	s.fd = -1;
	if ((copy = strdup(s.prefix)) == NULL ||
	    (s.dir = strdup(dirname(copy))) == NULL)
		err(1, NULL);
	free(copy);
	if (ds_mkdirs(s.dir) == -1)
		err(1, "%s", s.dir);
	if (asprintf(&s.tmp, "%s.tmp.%ld", s.prefix, (long)getpid()) == -1)
		err(1, NULL);

	if (argc > 2)		/* the input files follow PREFIX and SUFFIX */
		ds_stage_run(&st, argv + 2, argc - 2);
	else
		ds_stage_run(&st, NULL, 0);
	if (s.fd != -1) {
		close(s.fd);	/* a signal cut the batch short */
		unlink(s.tmp);
	}
	ds_out_flush();
	ds_buf_free(&s.b);
	free(s.tmp);
	free(s.dir);
	return 0;
}
