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

/* One side's records: their bytes in text, their keys in keys. */
struct rec {
	size_t		 off, len;
	size_t		 koff, klen;
	int		 haskey;
	int		 matched;
	int		 next;		/* next record with the same key, -1 */
};

struct side {
	struct ds_buf	 text, keys;
	struct rec	*r;
	int		 n, cap;
	struct ds_hash	 h;		/* key -> (first << 32 | last) + 1 */
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
	struct ds_in	*oin;
	int		 oeof;
	struct ds_buf	 out, kb;
	struct ds_span	*sk;		/* merge: the stream record's keys */
	int		 nsk;
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ds-join --with FILE -k KEY[,KEY...] [--left | --anti] "
	    "[--reload]\n"
	    "               [--as NAME] " DS_COMMON_USAGE " [FILE ...]\n"
	    "       ds-join --other PATH -k KEY[,KEY...] [--left | --right | "
	    "--full |\n"
	    "               --cogroup]"
	    "               [--as NAME] " DS_COMMON_USAGE " [FILE ...]\n");
	exit(status);
}

static void
side_clear(struct side *s)
{
	ds_buf_clear(&s->text);
	ds_buf_clear(&s->keys);
	s->n = 0;
	ds_hash_clear(&s->h);
	json_decref(s->marker);
	s->marker = NULL;
	s->have = 0;
}

static void
side_free(struct side *s)
{
	side_clear(s);
	ds_hash_free(&s->h);
	ds_buf_free(&s->text);
	ds_buf_free(&s->keys);
	free(s->r);
}

/*
 * The key of a record: 1 with the key appended to b, 0 when the record
 * is not an object or lacks a key field (it never matches).
 */
static int
reckey(struct join *j, const char *p, size_t len, struct ds_buf *b)
{
	struct ds_span v;
	const char *why;
	int i;

	if (ds_json_type(p, len) != DS_JOBJ)
		return 0;
	for (i = 0; i < j->nkeys; i++)
		if (!ds_json_get(p, len, &j->keys[i], &v))
			return 0;
	return ds_key_make(p, len, j->keys, j->nkeys, b, &why) == 0;
}

/* Add a record to a side; index it by key when index is set. */
static void
side_add(struct join *j, struct side *s, const char *p, size_t len,
    int index)
{
	struct rec *r;
	struct ds_hent *h;
	uint64_t v;
	int isnew, first, last;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		if ((s->r = reallocarray(s->r, s->cap, sizeof(*s->r))) == NULL)
			err(1, NULL);
	}
	r = &s->r[s->n];
	r->off = s->text.len;
	r->len = len;
	r->koff = s->keys.len;
	r->matched = 0;
	r->next = -1;
	ds_buf_add(&s->text, p, len);
	r->haskey = reckey(j, p, len, &s->keys);
	r->klen = s->keys.len - r->koff;
	if (r->haskey && index) {
		h = ds_hash_put(&s->h, s->keys.p + r->koff, r->klen, &isnew);
		if (isnew)
			h->val = (void *)(uintptr_t)(((uint64_t)s->n << 32 |
			    (uint64_t)s->n) + 1);
		else {
			v = (uint64_t)(uintptr_t)h->val - 1;
			first = (int)(v >> 32);
			last = (int)(v & 0xffffffff);
			s->r[last].next = s->n;
			h->val = (void *)(uintptr_t)(((uint64_t)first << 32 |
			    (uint64_t)s->n) + 1);
		}
	}
	s->n++;
}

/* First record of s with key k, or -1. */
static int
side_find(struct side *s, const char *k, size_t klen)
{
	struct ds_hent *h = ds_hash_get(&s->h, k, klen);

	if (h == NULL)
		return -1;
	return (int)((((uint64_t)(uintptr_t)h->val) - 1) >> 32);
}

/* ------------------------------------------------------------ merging */

#define WS(p, e) while ((p) < (e) && (*(p) == ' ' || *(p) == '\t' || \
	*(p) == '\n' || *(p) == '\r')) (p)++

/* Next member of an object being walked: 1 and k (with quotes), v. */
static int
member(const char **pp, const char *e, struct ds_span *k, struct ds_span *v)
{
	const char *p = *pp;

	WS(p, e);
	if (p < e && (*p == '{' || *p == ','))
		p++;
	WS(p, e);
	if (p >= e || *p != '"')
		return 0;
	k->p = p;
	p = ds_json_skip(p, e);
	k->len = p - k->p;
	WS(p, e);
	p++;		/* ':' */
	WS(p, e);
	v->p = p;
	p = ds_json_skip(p, e);
	v->len = p - v->p;
	*pp = p;
	return 1;
}

static int
keyeq(struct ds_span a, const char *b, size_t blen)
{
	return a.len == blen && memcmp(a.p, b, blen) == 0;
}

/* out = stream record s merged with matching record t (rule above). */
static void
merge(struct join *j, const char *s, size_t slen, const char *t,
    size_t tlen)
{
	struct ds_span k, v;
	const char *p, *e = s + slen;
	int ns = 0, i, any = 0;
	struct ds_buf *b = &j->out;
	char qas[256];
	size_t qlen = 0;

	ds_buf_clear(b);
	ds_buf_addc(b, '{');
	if (j->as != NULL)
		qlen = (size_t)snprintf(qas, sizeof(qas), "\"%s\"", j->as);
	for (p = s; member(&p, e, &k, &v);) {
		if (j->as != NULL && keyeq(k, qas, qlen))
			continue;
		if (ns == j->nsk) {
			j->nsk = j->nsk ? j->nsk * 2 : 64;
			if ((j->sk = reallocarray(j->sk, j->nsk,
			    sizeof(*j->sk))) == NULL)
				err(1, NULL);
		}
		j->sk[ns++] = k;
		if (any++)
			ds_buf_addc(b, ',');
		ds_buf_add(b, k.p, k.len);
		ds_buf_addc(b, ':');
		ds_buf_add(b, v.p, v.len);
	}
	if (j->as != NULL) {
		if (any++)
			ds_buf_addc(b, ',');
		ds_buf_add(b, qas, qlen);
		ds_buf_addc(b, ':');
		ds_buf_add(b, t, tlen);
	} else {
		for (p = t; member(&p, t + tlen, &k, &v);) {
			for (i = 0; i < ns; i++)
				if (keyeq(j->sk[i], k.p, k.len))
					break;
			if (i < ns)
				continue;
			if (any++)
				ds_buf_addc(b, ',');
			ds_buf_add(b, k.p, k.len);
			ds_buf_addc(b, ':');
			ds_buf_add(b, v.p, v.len);
		}
	}
	ds_buf_addc(b, '}');
	ds_out_buf(b);
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
	in = ds_in_open(j->with, ds_opts.maxline);
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
	if (reckey(j, l->p, l->len, &j->kb))
		found = side_find(&j->tab, j->kb.p, j->kb.len);
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
	for (i = found; i >= 0; i = j->tab.r[i].next)
		merge(j, l->p, l->len, j->tab.text.p + j->tab.r[i].off,
		    j->tab.r[i].len);
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
		j->oin = ds_in_open(j->other, ds_opts.maxline);
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
	struct side *sd[2] = { &j->cur, &j->tab };
	struct ds_buf *b = &j->out;
	int *first[2], *gk, ng = 0, s, i, g, isnew, *nxt[2], *last[2];

	/* groups in order of first appearance, this stream first */
	gk = calloc((size_t)(j->cur.n + j->tab.n + 1), sizeof(int) * 2);
	first[0] = calloc((size_t)(j->cur.n + j->tab.n + 1), sizeof(int));
	first[1] = calloc((size_t)(j->cur.n + j->tab.n + 1), sizeof(int));
	last[0] = calloc((size_t)(j->cur.n + j->tab.n + 1), sizeof(int));
	last[1] = calloc((size_t)(j->cur.n + j->tab.n + 1), sizeof(int));
	nxt[0] = calloc((size_t)j->cur.n + 1, sizeof(int));
	nxt[1] = calloc((size_t)j->tab.n + 1, sizeof(int));
	if (gk == NULL || first[0] == NULL || first[1] == NULL ||
	    last[0] == NULL || last[1] == NULL || nxt[0] == NULL ||
	    nxt[1] == NULL)
		err(1, NULL);
	for (s = 0; s < 2; s++)
		for (i = 0; i < sd[s]->n; i++) {
			struct rec *r = &sd[s]->r[i];

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
		struct rec *kr = &sd[gk[g * 2]]->r[gk[g * 2 + 1]];

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
	struct rec *r;
	int i, k;

	if (j->mode == COGROUP) {
		emit_cogroup(j);
		return;
	}
	for (i = 0; i < j->cur.n; i++) {
		r = &j->cur.r[i];
		k = r->haskey ? side_find(&j->tab, j->cur.keys.p + r->koff,
		    r->klen) : -1;
		if (k < 0) {
			if (j->mode == LEFT || j->mode == FULL)
				ds_out_line(j->cur.text.p + r->off, r->len);
			continue;
		}
		for (; k >= 0; k = j->tab.r[k].next) {
			j->tab.r[k].matched = 1;
			merge(j, j->cur.text.p + r->off, r->len,
			    j->tab.text.p + j->tab.r[k].off, j->tab.r[k].len);
		}
	}
	if (j->mode == FULL || j->mode == RIGHT)
		for (i = 0; i < j->tab.n; i++)
			if (!j->tab.r[i].matched)
				ds_out_line(j->tab.text.p + j->tab.r[i].off,
				    j->tab.r[i].len);
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
	if (j->tab.marker != NULL &&
	    json_array_size(offs = json_object_get(j->tab.marker,
	    "offsets")) > 0) {
		/* what is safe to commit covers both inputs */
		struct ds_offsets o = { 0 };

		ds_offsets_merge_json(&o, json_object_get(m, "offsets"));
		ds_offsets_merge_json(&o, offs);
		json_object_set_new(m, "offsets", ds_offsets_json(&o));
		ds_offsets_free(&o);
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
			if (j.keys != NULL)
				usage(2);
			if ((j.nkeys = ds_paths_parse(optarg, &j.keys)) < 1)
				errx(2, "-k %s: bad field path", optarg);
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
	ds_buf_free(&j.out);
	ds_buf_free(&j.kb);
	free(j.sk);
	ds_paths_free(j.keys, j.nkeys);
	return 0;
}
