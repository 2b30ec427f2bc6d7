/*
 * ds-join -- join a stream with a static table (Spark's transform +
 * join/leftOuterJoin, the seeds' blacklist filter as --anti), or with a
 * second stream batch by batch (join, leftOuterJoin, rightOuterJoin,
 * fullOuterJoin, cogroup).  Memory holds the table, or one batch of each stream.
 *
 * Merge rule: the output is the stream record with the members of the
 * matching record that it does not already have appended (the stream
 * record wins a clash); --as NAME instead adds the whole matching
 * record as member NAME.  Records are rewritten on their raw bytes.
 */
#include <sys/stat.h>

#include <err.h>
#include <getopt.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"

enum {
	OPT_WITH = DS_OPT_FIRST_TOOL,
	OPT_OTHER,
	OPT_LEFT,
	OPT_RIGHT,
	OPT_ANTI,
	OPT_FULL,
	OPT_COGROUP,
	OPT_RELOAD,
	OPT_AS
};

static const struct option longopts[] = {
	DS_COMMON_LONGOPTS,
	{ "with",	required_argument, NULL, OPT_WITH },
	{ "other",	required_argument, NULL, OPT_OTHER },
	{ "key",	required_argument, NULL, 'k' },
	{ "left",	no_argument,	   NULL, OPT_LEFT },
	{ "right",	no_argument,	   NULL, OPT_RIGHT },
	{ "anti",	no_argument,	   NULL, OPT_ANTI },
	{ "full",	no_argument,	   NULL, OPT_FULL },
	{ "cogroup",	no_argument,	   NULL, OPT_COGROUP },
	{ "reload",	no_argument,	   NULL, OPT_RELOAD },
	{ "as",		required_argument, NULL, OPT_AS },
	{ "help",	no_argument,	   NULL, 'h' },
	{ "version",	no_argument,	   NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

enum mode { INNER, LEFT, RIGHT, ANTI, FULL, COGROUP };

/* One side's records, by key. */
struct side {
	struct ds_rectab rt;
	json_t		*marker;	/* the other side's closing marker */
	int		 have;		/* a batch is read and waiting */
};

struct join {
	enum mode	 mode;
	struct ds_path	*keys;
	int		 nkeys;
	const char	*as;
	const char	*with;
	int		 reload;
	int		 recheck;	/* a batch began: stat the table */
	struct stat	 st;
	struct side	 tab;		/* --with table, or the other batch */
	struct side	 cur;		/* this stream's batch (--other) */
	const char	*other;
	struct ds_offsets cum[2];	/* offsets of all batches: ours, other's */
	struct ds_in	*oin;
	int		 oeof;
	struct ds_buf	 out, kb;
	struct ds_jmerge jm;
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ds-join --with FILE -k KEY[,KEY...] [--left | --anti] "
	    "[--reload]\n"
	    "               [--as NAME] " DS_COMMON_USAGE " [FILE ...]\n"
	    "       ds-join --other PATH -k KEY[,KEY...]\n"
	    "               [--left | --right | --full | --cogroup]"
	    " [--as NAME]\n"
	    "               " DS_COMMON_USAGE " [FILE ...]\n"
	    "       ds-join [-hV]\n");
	exit(status);
}

static void
side_clear(struct side *s)
{
	ds_rectab_clear(&s->rt);
	json_decref(s->marker);
	s->marker = NULL;
	s->have = 0;
}

static void
side_free(struct side *s)
{
	side_clear(s);
	ds_rectab_free(&s->rt);
}

/* Add a record to a side; index it by key when index is set. */
static void
side_add(struct join *j, struct side *s, const char *p, size_t len,
    int index)
{
	ds_rectab_add(&s->rt, j->keys, j->nkeys, p, len, index);
}

/* Write stream record s merged with matching record t (ds-join(1)). */
static void
merge(struct join *j, const char *s, size_t slen, const char *t,
    size_t tlen)
{
	ds_buf_clear(&j->out);
	ds_jmerge(&j->jm, &j->out, s, slen, t, tlen);
	ds_out_buf(&j->out);
}

/* ------------------------------------------------------- static table */

static void
load_table(struct join *j)
{
	struct ds_in *in;
	struct ds_line l;

	side_clear(&j->tab);
	if (stat(j->with, &j->st) == -1)
		err(1, "%s", j->with);
	if ((in = ds_in_open(j->with, ds_opts.maxline)) == NULL)
		err(1, "%s", j->with);
	while (ds_in_next(in, &l)) {
		if (l.len == 0)
			continue;
		if (ds_check_line(&l, 0) == -1)
			continue;
		if (ds_json_type(l.p, l.len) != DS_JOBJ) {
			ds_bad(&l, "table record is not an object");
			continue;
		}
		side_add(j, &j->tab, l.p, l.len, 1);
	}
	ds_in_close(in);
}

static void
maybe_reload(struct join *j)
{
	struct stat st;

	if (!j->reload || stat(j->with, &st) == -1)
		return;
	if (st.st_mtim.tv_sec != j->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != j->st.st_mtim.tv_nsec ||
	    st.st_size != j->st.st_size || st.st_ino != j->st.st_ino)
		load_table(j);
}

static void
static_data(void *ctx, const struct ds_line *l)
{
	struct join *j = ctx;
	int i, found;

	if (j->recheck) {
		/* once per batch, before its first record */
		j->recheck = 0;
		maybe_reload(j);
	}
	if (ds_check_line(l, 0) == -1)
		return;
	ds_buf_clear(&j->kb);
	found = -1;
	if (ds_rec_key(l->p, l->len, j->keys, j->nkeys, &j->kb))
		found = ds_rectab_find(&j->tab.rt, j->kb.p, j->kb.len);
	switch (j->mode) {
	case ANTI:
		if (found < 0)
			ds_out_line(l->p, l->len);
		return;
	case LEFT:
		if (found < 0) {
			ds_out_line(l->p, l->len);
			return;
		}
		break;
	default:
		if (found < 0)
			return;
	}
	if (ds_json_type(l->p, l->len) != DS_JOBJ) {
		ds_bad(l, "record is not an object");
		return;
	}
	for (i = found; i >= 0; i = j->tab.rt.r[i].next)
		merge(j, l->p, l->len, j->tab.rt.text.p + j->tab.rt.r[i].off,
		    j->tab.rt.r[i].len);
}

static void
forward(json_t *m, const struct ds_line *l)
{
	if (l != NULL && ds_bad_count == 0) {
		ds_out_line(l->p, l->len);
		ds_out_flush();
	} else
		ds_marker_emit(m);
	json_decref(m);
}

static void
static_marker(void *ctx, json_t *m, const struct ds_line *l)
{
	struct join *j = ctx;

	forward(m, l);
	j->recheck = j->reload;
}

/* ------------------------------------------------------ stream-stream */

/*
 * Read the other stream's next batch into j->tab: its records up to its
 * next batch marker (kept in tab.marker), or to its end.  allmarkers:
 * read through markers to the end (plain input on our side).
 */
static void
read_other(struct join *j, int tomarker)
{
	struct ds_line l;
	json_t *m;

	side_clear(&j->tab);
	if (j->oeof)
		return;
	if (j->oin == NULL)
		if ((j->oin = ds_in_open(j->other, ds_opts.maxline)) == NULL)
			err(1, "%s", j->other);
	while (ds_in_next(j->oin, &l)) {
		if (!l.toolong && ds_is_control(l.p, l.len)) {
			if ((m = ds_marker_parse(&l)) == NULL) {
				ds_bad(&l, "malformed control record");
				continue;
			}
			if (!ds_marker_is_batch(m) || !tomarker) {
				json_decref(m);
				continue;
			}
			ds_offsets_merge_json(&j->cum[1],
			    json_object_get(m, "offsets"));
			j->tab.marker = m;
			j->tab.have = 1;
			return;
		}
		if (ds_check_line(&l, 0) == -1)
			continue;
		side_add(j, &j->tab, l.p, l.len, 1);
		j->tab.have = 1;
	}
	j->oeof = 1;
}

static void
emit_cogroup(struct join *j)
{
	struct ds_hash order = { 0 };
	struct ds_hent *h;
	struct ds_rectab *sd[2] = { &j->cur.rt, &j->tab.rt };
	struct ds_buf *b = &j->out;
	int *first[2], *gk, ng = 0, s, i, g, isnew, *nxt[2], *last[2];

	/* groups in order of first appearance, this stream first */
	gk = calloc((size_t)(j->cur.rt.n + j->tab.rt.n + 1), sizeof(int) * 2);
	first[0] = calloc((size_t)(j->cur.rt.n + j->tab.rt.n + 1), sizeof(int));
	first[1] = calloc((size_t)(j->cur.rt.n + j->tab.rt.n + 1), sizeof(int));
	last[0] = calloc((size_t)(j->cur.rt.n + j->tab.rt.n + 1), sizeof(int));
	last[1] = calloc((size_t)(j->cur.rt.n + j->tab.rt.n + 1), sizeof(int));
	nxt[0] = calloc((size_t)j->cur.rt.n + 1, sizeof(int));
	nxt[1] = calloc((size_t)j->tab.rt.n + 1, sizeof(int));
	if (gk == NULL || first[0] == NULL || first[1] == NULL ||
	    last[0] == NULL || last[1] == NULL || nxt[0] == NULL ||
	    nxt[1] == NULL)
		err(1, NULL);
	for (s = 0; s < 2; s++)
		for (i = 0; i < sd[s]->n; i++) {
			struct ds_rec *r = &sd[s]->r[i];

			if (!r->haskey)
				continue;
			h = ds_hash_put(&order, sd[s]->keys.p + r->koff,
			    r->klen, &isnew);
			if (isnew) {
				h->val = (void *)(uintptr_t)(ng + 1);
				gk[ng * 2] = s;
				gk[ng * 2 + 1] = i;
				first[0][ng] = first[1][ng] = -1;
				ng++;
			}
			g = (int)(uintptr_t)h->val - 1;
			nxt[s][i] = -1;
			if (first[s][g] < 0)
				first[s][g] = i;
			else
				nxt[s][last[s][g]] = i;
			last[s][g] = i;
		}
	for (g = 0; g < ng; g++) {
		struct ds_rec *kr = &sd[gk[g * 2]]->r[gk[g * 2 + 1]];

		ds_buf_clear(b);
		ds_buf_addc(b, '{');
		ds_key_emit(sd[gk[g * 2]]->keys.p + kr->koff, kr->klen, j->keys,
		    j->nkeys, b);
		for (s = 0; s < 2; s++) {
			ds_buf_adds(b, s == 0 ? ",\"left\":[" : ",\"right\":[");
			for (i = first[s][g]; i >= 0; i = nxt[s][i]) {
				if (i != first[s][g])
					ds_buf_addc(b, ',');
				ds_buf_add(b, sd[s]->text.p + sd[s]->r[i].off,
				    sd[s]->r[i].len);
			}
			ds_buf_addc(b, ']');
		}
		ds_buf_addc(b, '}');
		ds_out_buf(b);
	}
	ds_hash_free(&order);
	free(gk);
	for (s = 0; s < 2; s++) {
		free(first[s]);
		free(last[s]);
		free(nxt[s]);
	}
}

/* Join this stream's batch (cur) with the other's (tab) and output. */
static void
join_batch(struct join *j)
{
	struct ds_rec *r;
	int i, k;

	if (j->mode == COGROUP) {
		emit_cogroup(j);
		return;
	}
	for (i = 0; i < j->cur.rt.n; i++) {
		r = &j->cur.rt.r[i];
		k = r->haskey ? ds_rectab_find(&j->tab.rt, j->cur.rt.keys.p + r->koff,
		    r->klen) : -1;
		if (k < 0) {
			if (j->mode == LEFT || j->mode == FULL)
				ds_out_line(j->cur.rt.text.p + r->off, r->len);
			continue;
		}
		for (; k >= 0; k = j->tab.rt.r[k].next) {
			j->tab.rt.r[k].matched = 1;
			merge(j, j->cur.rt.text.p + r->off, r->len,
			    j->tab.rt.text.p + j->tab.rt.r[k].off, j->tab.rt.r[k].len);
		}
	}
	if (j->mode == FULL || j->mode == RIGHT)
		for (i = 0; i < j->tab.rt.n; i++)
			if (!j->tab.rt.r[i].matched)
				ds_out_line(j->tab.rt.text.p + j->tab.rt.r[i].off,
				    j->tab.rt.r[i].len);
}

/* The other side alone (a batch this stream never had): full, right,
 * cogroup. */
static void
other_alone(struct join *j)
{
	struct side save = j->cur;

	if (j->mode != FULL && j->mode != RIGHT && j->mode != COGROUP)
		return;
	memset(&j->cur, 0, sizeof(j->cur));
	join_batch(j);
	j->cur = save;
}

static void
stream_data(void *ctx, const struct ds_line *l)
{
	struct join *j = ctx;

	if (ds_check_line(l, 0) == -1)
		return;
	if (j->mode != COGROUP && j->mode != LEFT && j->mode != FULL &&
	    ds_json_type(l->p, l->len) != DS_JOBJ) {
		ds_bad(l, "record is not an object");
		return;
	}
	side_add(j, &j->cur, l->p, l->len, 0);
}

static void
stream_marker(void *ctx, json_t *m, const struct ds_line *l)
{
	struct join *j = ctx;
	int64_t seq = ds_marker_int(m, "seq"), oseq;
	json_t *offs;

	for (;;) {
		if (!j->tab.have)
			read_other(j, 1);
		if (!j->tab.have)
			break;		/* the other stream has ended */
		if (j->tab.marker == NULL)
			break;		/* its unmarked tail: this batch */
		oseq = ds_marker_int(j->tab.marker, "seq");
		if (oseq == seq)
			break;
		if (oseq > seq) {
			/* keep it for its own batch; ours joins nothing */
			struct side save = j->tab;

			memset(&j->tab, 0, sizeof(j->tab));
			join_batch(j);
			side_free(&j->tab);
			j->tab = save;
			goto done;
		}
		other_alone(j);		/* a batch we never had */
		side_clear(&j->tab);
	}
	join_batch(j);
	ds_offsets_merge_json(&j->cum[0], json_object_get(m, "offsets"));
	if (j->tab.marker != NULL &&
	    json_array_size(offs = json_object_get(j->tab.marker,
	    "offsets")) > 0) {
		/* the batch holds the records of both inputs */
		struct ds_offsets o = { 0 };

		ds_offsets_merge_json(&o, json_object_get(m, "offsets"));
		ds_offsets_merge_json(&o, offs);
		json_object_set_new(m, "offsets", ds_offsets_json(&o));
		ds_offsets_free(&o);
		l = NULL;
	}
	if (j->tab.marker != NULL && (json_object_get(m, "commit") != NULL ||
	    json_object_get(j->tab.marker, "commit") != NULL)) {
		/* what is safe to commit covers both inputs */
		const struct ds_offsets *cum[2] = { &j->cum[0], &j->cum[1] };
		json_t *ms[2] = { m, j->tab.marker };

		json_object_set_new(m, "commit", ds_offsets_commit(cum, ms, 2));
		l = NULL;
	}
	side_clear(&j->tab);
done:
	side_clear(&j->cur);
	forward(m, l);
}

static void
stream_end(void *ctx, unsigned long nmarkers)
{
	struct join *j = ctx;

	if (nmarkers > 0)
		return;
	/* plain input: the whole of both streams is one batch */
	read_other(j, 0);
	join_batch(j);
	side_clear(&j->cur);
	side_clear(&j->tab);
}

int
main(int argc, char *argv[])
{
	struct join j;
	struct ds_stage st;
	int ch, nmode = 0;

	ds_signals();
	memset(&j, 0, sizeof(j));
	j.mode = INNER;
	while ((ch = getopt_long(argc, argv, "k:hV", longopts, NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case OPT_WITH:
			j.with = optarg;
			break;
		case OPT_OTHER:
			j.other = optarg;
			break;
		case 'k':
			ds_opt_keys(optarg, &j.keys, &j.nkeys);
			break;
		case OPT_LEFT:
			j.mode = LEFT;
			nmode++;
			break;
		case OPT_ANTI:
			j.mode = ANTI;
			nmode++;
			break;
		case OPT_RIGHT:
			j.mode = RIGHT;
			nmode++;
			break;
		case OPT_FULL:
			j.mode = FULL;
			nmode++;
			break;
		case OPT_COGROUP:
			j.mode = COGROUP;
			nmode++;
			break;
		case OPT_RELOAD:
			j.reload = 1;
			break;
		case OPT_AS:
			if (*optarg == '\0' || strpbrk(optarg, "\"\\") != NULL ||
			    strlen(optarg) > 200)
				errx(2, "--as %s: bad member name", optarg);
			j.as = optarg;
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
	if ((j.with == NULL) == (j.other == NULL)) {
		warnx("give exactly one of --with FILE and --other PATH");
		usage(2);
	}
	if (j.keys == NULL) {
		warnx("-k KEY is required");
		usage(2);
	}
	if (nmode > 1) {
		warnx("--left, --right, --anti, --full and --cogroup exclude "
		    "each other");
		usage(2);
	}
	if (j.with != NULL && (j.mode == FULL || j.mode == RIGHT ||
	    j.mode == COGROUP)) {
		warnx("--right, --full and --cogroup join two streams "
		    "(--other)");
		usage(2);
	}
	if (j.other != NULL && (j.mode == ANTI || j.reload)) {
		warnx("--anti and --reload need a table (--with)");
		usage(2);
	}
	ds_jmerge_init(&j.jm, j.as);
	memset(&st, 0, sizeof(st));
	st.ctx = &j;
	if (j.with != NULL) {
		load_table(&j);
		st.data = static_data;
		st.marker = static_marker;
	} else {
		st.data = stream_data;
		st.marker = stream_marker;
		st.end = stream_end;
	}
	ds_stage_run(&st, argv, argc);
	side_free(&j.tab);
	side_free(&j.cur);
	ds_in_close(j.oin);
	ds_offsets_free(&j.cum[0]);
	ds_offsets_free(&j.cum[1]);
	ds_buf_free(&j.out);
	ds_buf_free(&j.kb);
	ds_jmerge_free(&j.jm);
	ds_paths_free(j.keys, j.nkeys);
	return 0;
}
