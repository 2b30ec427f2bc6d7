/*
 * ds-union -- merge streams that are already batched (Spark's
 * dstream1.union(dstream2)): batch N of the output holds batch N of
 * every input.
 *
 * Records are written as they are read; an input whose batch is closed
 * is not read again until every other input has closed the same batch,
 * so memory holds one marker per input, never records.  The inputs'
 * markers must have the same time and interval; they are merged into
 * one: counts and bad counts added, offset ranges merged, and a
 * "commit" that is safe for every input.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"

struct input {
	struct ds_in	*in;
	json_t		*m;		/* its marker for this batch, or NULL */
	unsigned long	 lineno;	/* the marker's line */
	struct ds_offsets cum;		/* offsets of all its batches */
};

static struct input *inp;
static int	 ninp;
static json_t	*last;			/* the last marker written */
static int64_t	 since;			/* records written after it */

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ds-union [-hV] " DS_COMMON_USAGE "\n"
	    "                FILE FILE ...\n");
	exit(status);
}

/* Read input i up to its next batch marker, or as far as it has. */
static void
drain(struct input *i)
{
	struct ds_line l;
	json_t *m;

	while (i->m == NULL && !ds_stop && ds_in_line(i->in, &l)) {
		if (ds_line_blank(&l))
			continue;
		if (l.toolong || !ds_is_control(l.p, l.len)) {
			if (ds_check_line(&l, 0) == 0) {
				ds_out_line(l.p, l.len);
				since++;
			}
			continue;
		}
		if ((m = ds_marker_parse(&l)) == NULL) {
			ds_bad(&l, "malformed control record");
			continue;
		}
		if (!ds_marker_is_batch(m)) {
			ds_out_line(l.p, l.len);
			json_decref(m);
			continue;
		}
		i->m = m;
		i->lineno = l.lineno;
		ds_offsets_merge_json(&i->cum, json_object_get(m, "offsets"));
	}
}

/* The commit of the merged batch (ds_offsets_commit over the inputs). */
static json_t *
commit(void)
{
	const struct ds_offsets **cum;
	json_t **m, *c;
	int i;

	if ((cum = calloc(ninp, sizeof(*cum))) == NULL ||
	    (m = calloc(ninp, sizeof(*m))) == NULL)
		err(1, NULL);
	for (i = 0; i < ninp; i++) {
		cum[i] = &inp[i].cum;
		m[i] = inp[i].m;
	}
	c = ds_offsets_commit(cum, m, ninp);
	free(cum);
	free(m);
	return c;
}

/* Has an input before k a marker of stream s? */
static int
seen(int k, const char *s)
{
	const char *t;

	while (--k >= 0)
		if (inp[k].m != NULL && (t = json_string_value(json_object_get(
		    inp[k].m, "stream"))) != NULL && strcmp(s, t) == 0)
			return 1;
	return 0;
}

/* Every open input has closed this batch: write the merged marker. */
static void
merge(void)
{
	struct ds_offsets offs = { 0 };
	struct ds_buf stream = { 0 };
	struct input *f = NULL, *i;
	json_t *m;
	const char *s;
	int64_t seq = 0, count = 0, bad = 0, created = 0;
	int hascommit = 0, final = 0, k;

	for (k = 0; k < ninp; k++) {
		if ((i = &inp[k])->m == NULL)
			continue;
		if (f == NULL)
			f = i;
		if (ds_marker_int(i->m, "time") != ds_marker_int(f->m,
		    "time") || ds_marker_int(i->m, "interval") !=
		    ds_marker_int(f->m, "interval"))
			errx(1, "%s:%lu: batch %lld ends at %lld (interval "
			    "%lld ms), but batch %lld of %s:%lu at %lld "
			    "(interval %lld ms): the inputs must be batched "
			    "alike", i->in->name, i->lineno,
			    (long long)ds_marker_int(i->m, "seq"),
			    (long long)ds_marker_int(i->m, "time"),
			    (long long)ds_marker_int(i->m, "interval"),
			    (long long)ds_marker_int(f->m, "seq"), f->in->name,
			    f->lineno, (long long)ds_marker_int(f->m, "time"),
			    (long long)ds_marker_int(f->m, "interval"));
		if (ds_marker_int(i->m, "seq") > seq)
			seq = ds_marker_int(i->m, "seq");
		if (ds_marker_int(i->m, "created") > created)
			created = ds_marker_int(i->m, "created");
		count += ds_marker_int(i->m, "count");
		bad += ds_marker_int(i->m, "bad");
		ds_offsets_merge_json(&offs, json_object_get(i->m, "offsets"));
		hascommit |= json_object_get(i->m, "commit") != NULL;
		final |= json_is_true(json_object_get(i->m, "final"));
		/* the stream ids, in input order, each once */
		if ((s = json_string_value(json_object_get(i->m,
		    "stream"))) != NULL && !seen(k, s)) {
			if (stream.len > 0)
				ds_buf_addc(&stream, '+');
			ds_buf_adds(&stream, s);
		}
	}
	if (f == NULL)
		return;		/* no input has a marker: nothing to merge */
	/* the first input's marker, with the others' fields merged in */
	m = json_deep_copy(f->m);
	ds_marker_set_int(m, "seq", seq);
	ds_marker_set_int(m, "count", count);
	json_object_set_new(m, "offsets", ds_offsets_json(&offs));
	if (created > 0)
		ds_marker_set_int(m, "created", created);
	if (bad > 0)
		ds_marker_set_int(m, "bad", bad);
	if (final)
		json_object_set_new(m, "final", json_true());
	if (stream.len > 0)
		json_object_set_new(m, "stream", json_stringn(stream.p,
		    stream.len));
	if (hascommit)
		json_object_set_new(m, "commit", commit());
	for (k = 0; k < ninp; k++) {
		json_decref(inp[k].m);
		inp[k].m = NULL;
	}
	json_decref(last);
	last = json_incref(m);
	since = 0;
	ds_marker_emit(m);
	json_decref(m);
	ds_offsets_free(&offs);
	ds_buf_free(&stream);
}

/*
 * Read every input that has not closed the batch yet, as its lines
 * arrive; when all have, merge their markers.  An input that ends
 * leaves the union.
 */
static void
run(void)
{
	struct pollfd *pfd;
	int *idx, i, np, nopen, nwait;

	if ((pfd = calloc(ninp, sizeof(*pfd))) == NULL ||
	    (idx = calloc(ninp, sizeof(*idx))) == NULL)
		err(1, NULL);
	while (!ds_stop) {
		nopen = np = nwait = 0;
		for (i = 0; i < ninp; i++) {
			if (inp[i].in == NULL)
				continue;
			drain(&inp[i]);
			if (inp[i].m == NULL && inp[i].in->eof) {
				ds_in_close(inp[i].in);
				inp[i].in = NULL;
				ds_offsets_free(&inp[i].cum);
				continue;
			}
			nopen++;
			if (inp[i].m != NULL)
				continue;
			pfd[np].fd = inp[i].in->fd;
			pfd[np].events = POLLIN;
			idx[np++] = i;
		}
		if (nopen == 0 || ds_stop)
			break;
		if (np == 0) {
			merge();
			continue;
		}
		if (poll(pfd, np, -1) == -1) {
			if (errno == EINTR)
				continue;
			err(1, "poll");
		}
		for (i = 0; i < np; i++)
			if (pfd[i].revents != 0)
				ds_in_fill(inp[idx[i]].in);
	}
	free(pfd);
	free(idx);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		DS_COMMON_LONGOPTS,
		{ "help",	no_argument,	NULL, 'h' },
		{ "version",	no_argument,	NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	json_t *m;
	int ch, i;

	ds_signals();
	while ((ch = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
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
	if (argc < 2) {
		warnx("give two or more inputs");
		usage(2);
	}
	ninp = argc;
	if ((inp = calloc(ninp, sizeof(*inp))) == NULL)
		err(1, NULL);
	for (i = 0; i < ninp; i++)
		if ((inp[i].in = ds_in_open(argv[i], ds_opts.maxline)) == NULL)
			err(1, "%s", argv[i]);
	run();
	/* the protocol's end of input: records after the last marker */
	if (last != NULL && since > 0 && !ds_stop) {
		m = ds_marker_final(last, since);
		ds_marker_emit(m);
		json_decref(m);
	}
	ds_out_flush();
	for (i = 0; i < ninp; i++) {
		json_decref(inp[i].m);
		ds_in_close(inp[i].in);
		ds_offsets_free(&inp[i].cum);
	}
	free(inp);
	json_decref(last);
	return 0;
}
