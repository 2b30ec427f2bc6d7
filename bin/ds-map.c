/*
 * ds-map -- run a jq expression on every data record of a stream:
 * Spark's map (one output), filter (zero or one) and flatMap (many).
 * Markers pass through byte for byte, after their batch's outputs.
 */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"

enum {
	OPT_ARG = DS_OPT_FIRST_TOOL,
	OPT_ARGJSON
};

static const struct option longopts[] = {
	DS_COMMON_LONGOPTS,
	{ "arg",	required_argument, NULL, OPT_ARG },
	{ "argjson",	required_argument, NULL, OPT_ARGJSON },
	{ "raw-input",	no_argument,	   NULL, 'R' },
	{ "compact-output", no_argument,   NULL, 'c' },
	{ "help",	no_argument,	   NULL, 'h' },
	{ "version",	no_argument,	   NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* A line kept until its batch's marker (only when $__batch is used). */
struct held {
	size_t		 off, len;
	unsigned long	 lineno;
	const char	*src;
	int		 toolong;
};

struct map {
	struct ds_expr	*x;
	int		 raw;		/* -R */
	int		 batchvar;	/* index of $__batch */
	int		 hold;		/* buffer each batch: $__batch used */
	struct ds_buf	 q;		/* -R: the line as a JSON string */
	struct ds_buf	 fix;		/* -R: a line not UTF-8, as jq's */
	struct ds_buf	 pre;		/* split fast path: "}\n{"NAME":"
					   (the glue between records) */
	char		*sep;		/* ... and SEP, or NULL */
	struct ds_buf	 text;		/* held lines' bytes */
	struct held	*h;
	size_t		 nh, caph;
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: ds-map [-cRhV] [--arg NAME VALUE] [--argjson NAME JSON]\n"
	    "              " DS_COMMON_USAGE "\n"
	    "              EXPR [FILE ...]\n"
	    "EXPR is jq's language with def, closures, recursion, label/break\n"
	    "and destructuring (as [$a], as {a: $x}, ?//); not supported:\n"
	    "import/include, input/inputs, env/$ENV, builtins, halt, debug;\n"
	    "see ds-map(1) for the builtins\n");
	exit(status);
}

/* reallocarray(3) that exits on failure (the old block is lost anyway) */
static void *
xrealloc(void *p, size_t n, size_t size)
{
	void *q;

	if ((q = reallocarray(p, n, size)) == NULL)
		err(1, NULL);
	return q;
}

static void
emit(void *arg, const char *out, size_t len)
{
	(void)arg;
	ds_out_line(out, len);
}

/* Skip white space and then the text word; NULL if word is not next. */
static const char *
tok(const char *p, const char *word)
{
	size_t n = strlen(word);

	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return strncmp(p, word, n) == 0 ? p + n : NULL;
}

/*
 * The word count's first stage, -R 'split("SEP")[] | {NAME: .}' with a
 * plain ASCII SEP and an identifier NAME, runs without the interpreter
 * (it spent most of the word count's time building and printing
 * values).  Sets m->sep and m->pre when expr has that shape.
 */
static void
splitshape(struct map *m, const char *expr)
{
	const char *p, *sep, *name;
	size_t seplen, namelen;

	if ((p = tok(expr, "split")) == NULL || (p = tok(p, "(")) == NULL ||
	    (p = tok(p, "\"")) == NULL)
		return;
	for (sep = p; *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\'; p++)
		;
	if ((seplen = p - sep) == 0 || (p = tok(p, "\"")) == NULL ||
	    (p = tok(p, ")")) == NULL || (p = tok(p, "[")) == NULL ||
	    (p = tok(p, "]")) == NULL || (p = tok(p, "|")) == NULL ||
	    (p = tok(p, "{")) == NULL || (p = tok(p, "")) == NULL)
		return;
	for (name = p; *p == '_' || (*p >= 'a' && *p <= 'z') ||
	    (*p >= 'A' && *p <= 'Z') || (p > name && *p >= '0' && *p <= '9');
	    p++)
		;
	if ((namelen = p - name) == 0 || (p = tok(p, ":")) == NULL ||
	    (p = tok(p, ".")) == NULL || (p = tok(p, "}")) == NULL ||
	    *tok(p, "") != '\0')
		return;
	if ((m->sep = strndup(sep, seplen)) == NULL)
		err(1, NULL);
	ds_buf_adds(&m->pre, "\"}\n{");
	ds_buf_addq(&m->pre, name, namelen);
	ds_buf_adds(&m->pre, ":\"");
}

/*
 * The split fast path on one line: -1 (nothing written) when a byte
 * would need an escape or is not valid UTF-8, where the interpreter's
 * rules apply.  Splits as jq does: at each occurrence of SEP, left to
 * right, keeping empty pieces.  One pass copies the line's bytes and
 * puts the glue "}\n{"NAME":" in place of each SEP.
 */
static int
splitrun(struct map *m, const char *p, size_t len)
{
	const char *s = p, *e = p + len, *sep = m->sep;
	size_t seplen = strlen(sep), glue = m->pre.len;
	unsigned char c, hi = 0;
	char *o;

	ds_buf_clear(&m->q);
	ds_buf_grow(&m->q, len + (len / seplen + 1) * glue);
	o = m->q.p;
	memcpy(o, m->pre.p + 3, glue - 3);
	o += glue - 3;
	while (p < e) {
		c = (unsigned char)*p;
		if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f)
			return -1;
		hi |= c;
		if (c == (unsigned char)*sep && (seplen == 1 ||
		    ((size_t)(e - p) >= seplen &&
		    memcmp(p, sep, seplen) == 0))) {
			memcpy(o, m->pre.p, glue);
			o += glue;
			p += seplen;
		} else
			*o++ = *p++;
	}
	if ((hi & 0x80) && !ds_utf8_valid(s, len))
		return -1;
	memcpy(o, m->pre.p, 3);
	m->q.len = o + 3 - m->q.p;
	ds_out(m->q.p, m->q.len);	/* the line's records at once */
	return 0;
}

static void
run(struct map *m, const struct ds_line *l)
{
	const char *why;
	const char *p = l->p;
	size_t len = l->len;

	if (l->toolong) {
		ds_bad(l, "line longer than %zu bytes", ds_opts.maxline);
		return;
	}
	/* jq's parser skips a byte-order mark at the start of its input;
	 * jq -R keeps it in the first string */
	if (!m->raw && l->lineno == 1 && len >= 3 &&
	    memcmp(p, "\xef\xbb\xbf", 3) == 0) {
		p += 3;
		len -= 3;
	}
	if (m->raw && m->sep != NULL && len > 0 && splitrun(m, p, len) == 0)
		return;
	if (m->raw) {
		ds_buf_clear(&m->q);
		if (!ds_utf8_valid(p, len)) {
			ds_buf_clear(&m->fix);
			ds_jq_utf8(&m->fix, p, len);
			p = m->fix.p;
			len = m->fix.len;
		}
		ds_buf_addq(&m->q, p, len);
		p = m->q.p;
		len = m->q.len;
	}
	if (ds_expr_run(m->x, p, len, emit, NULL, &why) == -1)
		ds_bad(l, "%s", why);
}

static void
data(void *ctx, const struct ds_line *l)
{
	struct map *m = ctx;
	struct held *h;

	if (!m->hold) {
		run(m, l);
		return;
	}
	if (m->nh == m->caph) {
		m->caph = m->caph ? m->caph * 2 : 1024;
		m->h = xrealloc(m->h, m->caph, sizeof(*m->h));
	}
	h = &m->h[m->nh++];
	h->off = m->text.len;
	h->len = l->len;
	h->lineno = l->lineno;
	h->src = l->src;
	h->toolong = l->toolong;
	ds_buf_add(&m->text, l->p, l->len);
}

/* Run the held batch with $__batch bound to its marker m (or null). */
static void
flush_held(struct map *m, json_t *marker)
{
	struct ds_line l;
	char *s;
	size_t i;

	if (!m->hold)
		return;
	if (marker != NULL) {
		if ((s = json_dumps(marker, JSON_COMPACT)) == NULL)
			err(1, NULL);
		ds_expr_bind(m->x, m->batchvar, s, strlen(s));
		free(s);
	} else
		ds_expr_bind(m->x, m->batchvar, "null", 4);
	for (i = 0; i < m->nh; i++) {
		l.p = m->text.p + m->h[i].off;
		l.len = m->h[i].len;
		l.lineno = m->h[i].lineno;
		l.src = m->h[i].src;
		l.toolong = m->h[i].toolong;
		run(m, &l);
	}
	m->nh = 0;
	ds_buf_clear(&m->text);
}

static void
marker(void *ctx, json_t *mk, const struct ds_line *l)
{
	struct map *m = ctx;

	flush_held(m, mk);
	if (l != NULL && ds_bad_count == 0) {
		/* untouched: forward the very bytes we read */
		ds_out_line(l->p, l->len);
		ds_out_flush();
	} else
		ds_marker_emit(mk);
	json_decref(mk);
}

static void
end(void *ctx, unsigned long nmarkers)
{
	struct map *m = ctx;

	(void)nmarkers;
	/* plain input: one batch with no marker */
	flush_held(m, NULL);
}

int
main(int argc, char *argv[])
{
	struct map m;
	struct ds_stage st;
	struct ds_buf b = { 0 };
	const char **names = NULL, **vals = NULL;
	int *isjson = NULL, nvars = 0, ch, i;
	char errbuf[512];

	ds_signals();
	memset(&m, 0, sizeof(m));
	while ((ch = getopt_long(argc, argv, "cRhV", longopts, NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'c':
			break;		/* jq's compact output: always */
		case 'R':
			m.raw = 1;
			break;
		case OPT_ARG:
		case OPT_ARGJSON:
			if (optind >= argc) {
				warnx("--%s needs NAME and VALUE",
				    ch == OPT_ARG ? "arg" : "argjson");
				usage(2);
			}
			names = xrealloc(names, nvars + 2, sizeof(*names));
			vals = xrealloc(vals, nvars + 2, sizeof(*vals));
			isjson = xrealloc(isjson, nvars + 2, sizeof(*isjson));
			names[nvars] = optarg;
			vals[nvars] = argv[optind++];
			isjson[nvars++] = ch == OPT_ARGJSON;
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
	if (argc < 1)
		usage(2);
	names = xrealloc(names, nvars + 1, sizeof(*names));
	names[nvars] = "__batch";
	m.batchvar = nvars;
	if ((m.x = ds_expr_compile(argv[0], names, nvars + 1, errbuf,
	    sizeof(errbuf))) == NULL)
		errx(2, "expression: %s", errbuf);
	ds_expr_limits(m.x, ds_opts.maxdepth, ds_opts.maxline);
	for (i = 0; i < nvars; i++) {
		ds_buf_clear(&b);
		if (isjson[i])
			ds_buf_adds(&b, vals[i]);
		else
			ds_buf_addq(&b, vals[i], strlen(vals[i]));
		if (ds_expr_bind(m.x, i, b.p, b.len) == -1)
			errx(2, "--argjson %s: invalid JSON text", names[i]);
	}
	ds_buf_free(&b);
	/* $__batch is the batch's own marker: hold each batch until it
	 * arrives (only then: holding costs a copy of every line) */
	m.hold = strstr(argv[0], "$__batch") != NULL;
	if (m.raw)
		splitshape(&m, argv[0]);
	memset(&st, 0, sizeof(st));
	st.data = data;
	st.marker = marker;
	st.end = end;
	st.ctx = &m;
	st.text = m.raw;	/* jq -R: an empty line is "" */
	ds_stage_run(&st, argv + 1, argc - 1);
	ds_expr_free(m.x);
	ds_buf_free(&m.q);
	ds_buf_free(&m.fix);
	ds_buf_free(&m.pre);
	free(m.sep);
	ds_buf_free(&m.text);
	free(m.h);
	free(names);
	free(vals);
	free(isjson);
	return 0;
}
