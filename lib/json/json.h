/*
 * json/json.h -- the scanner: validation, field lookup and
 * compaction on raw line bytes, field paths and group keys, records by
 * key and the merge of two objects.  Builds no tree.  Uses base.
 */
#ifndef DS_JSON_H
#define DS_JSON_H

#include "base/base.h"

/* ---------------------------------------------------------------------
 * json.c: the fast scanner.  Works on raw line bytes, builds no tree.
 * ------------------------------------------------------------------- */

/* JSON's insignificant white space. */
#define DS_JSON_WS(c) ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')

enum ds_jtype {
	DS_JNONE = 0, DS_JNULL, DS_JFALSE, DS_JTRUE, DS_JNUM, DS_JSTR,
	DS_JARR, DS_JOBJ
};

/* A raw JSON value inside a line: p[0..len) is its exact text. */
struct ds_span {
	const char	*p;
	size_t		 len;
};

/*
 * Validate that p[0..len) holds exactly one JSON value (surrounding
 * white space allowed), with valid UTF-8 and nesting at most maxdepth.
 * Returns 0, or -1 with a static message in *errmsg ("invalid JSON at
 * byte 12: ...", "invalid UTF-8 at byte 3", "nesting deeper than 512").
 */
int	 ds_json_check(const char *p, size_t len, int maxdepth,
	    const char **errmsg);

/* The same, also telling whether a top-level object has an "@ds" key. */
int	 ds_json_validate(const char *p, size_t len, int maxdepth,
	    const char **errmsg, int *dskey);

/* Type of the raw value starting at p (after white space). */
enum ds_jtype ds_json_type(const char *p, size_t len);

/*
 * Skip one value starting at p (which must be valid JSON, as checked by
 * ds_json_check); returns the first byte after it.  No validation.
 */
const char *ds_json_skip(const char *p, const char *end);

/*
 * A parsed field path: "geo.city" is {"geo","city"}.  A component may be
 * quoted to hold dots: '"a.b".c'.  Parse returns 0 or -1 on a bad path.
 */
struct ds_path {
	int	  n;
	char	**key;
	size_t	 *klen;
	char	 *text;		/* the path as written, for messages */
};
int	 ds_path_parse(const char *s, struct ds_path *);
void	 ds_path_free(struct ds_path *);
/* Parse "a,b.c,d" into an array of paths; returns count or -1. */
int	 ds_paths_parse(const char *s, struct ds_path **);
/* Free n paths and the array holding them (NULL is fine). */
void	 ds_paths_free(struct ds_path *, int n);

/*
 * Find path in the valid JSON object p[0..len).  Returns 1 and sets *v
 * to the raw value, or 0 when absent (or a parent is not an object).
 * A duplicated key resolves to its last occurrence, as in jq.
 */
int	 ds_json_get(const char *p, size_t len, const struct ds_path *,
	    struct ds_span *v);

/*
 * Numbers from a raw value.  ds_json_int returns 0 and sets *i when the
 * raw text is an integer that fits int64; ds_json_num returns 0 and sets
 * *d for any JSON number.  Both return -1 for anything else.
 */
int	 ds_json_int(struct ds_span, int64_t *i);
int	 ds_json_num(struct ds_span, double *d);

/*
 * Unescape a raw JSON string value (with its quotes) into b (appended,
 * not NUL-terminated).  Returns 0 or -1 when v is not a string.
 */
int	 ds_json_str(struct ds_span v, struct ds_buf *b);

/* Does the top-level object have key "@ds"?  (Forged control records.) */
int	 ds_json_has_dskey(const char *p, size_t len);


/* ---------------------------------------------------------------------
 * key.c: group keys
 * ------------------------------------------------------------------- */
/*
 * Group keys (key.c).  ds_key_make appends to b a byte string that
 * identifies rec's values at the n paths (equal JSON values give equal
 * keys: strings are compared unescaped, an absent field is null).
 * ds_key_emit appends those fields as JSON object members, without
 * braces ("user":"u1","geo":{"city":"x"}), from a key made by
 * ds_key_make with the same paths.  Both return 0, or -1 with *errmsg
 * set when rec is not an object.
 */
int	 ds_key_make(const char *rec, size_t len, const struct ds_path *,
	    int n, struct ds_buf *b, const char **errmsg);
int	 ds_key_emit(const char *key, size_t klen, const struct ds_path *,
	    int n, struct ds_buf *b);

/*
 * Append the canonical compact text of the raw value v to b (the form
 * keys and distinct use: strings re-escaped, 1 and 1.0 both "1", white
 * space dropped).  Returns 0, or -1 when v is not a value.
 */
int	 ds_json_canon(struct ds_span v, struct ds_buf *b);
/*
 * Reject key paths that repeat or contain one another ("geo" and
 * "geo.city"): -1 with a message in err (a usage error), else 0.
 */
int	 ds_key_check(const struct ds_path *, int n, char *err, size_t errlen);
/*
 * Find n paths in the object rec in one pass: v[i] and found[i] as
 * ds_json_get would set them.  Returns 0, or -1 when rec is not an
 * object.  ds_key_make_v and ds_agg_add_v are ds_key_make and ds_agg_add
 * on values found that way (vals indexed like aggs->d), so a tool scans
 * a record once for its key and aggregate fields.
 */
int	 ds_json_getv(const char *rec, size_t len,
	    const struct ds_path *const *paths, int n, struct ds_span *v,
	    int *found);
int	 ds_key_make_v(const struct ds_span *v, const int *found, int n,
	    struct ds_buf *b, const char **errmsg);

/* ---------------------------------------------------------------------
 * json.c: the one-pass form of the scanner
 * ------------------------------------------------------------------- */
/*
 * What one pass over a line asks for and finds.  The caller sets the
 * inputs; ds_json_scan sets every output.
 */
struct ds_jscan {
	int		 maxdepth;	/* in: nesting limit */
	const struct ds_path *const *paths; /* in: fields to find, or none */
	int		 npaths;
	struct ds_span	*v;		/* out: their values (npaths of them) */
	int		*found;		/* out: 1 where found (npaths) */
	int		 isobj;		/* out: the value is an object */
	int		 dskey;		/* out: ... with a top-level "@ds" */
	int		 hadws;		/* out: white space between tokens */
	const char	*err;		/* out: why invalid (points into msg) */
	char		 msg[96];
};
/*
 * Validate p[0..len) as ds_json_check does and, in the same pass, find
 * the fields paths[0..npaths) of a top-level object as ds_json_getv
 * would (none when the value is not an object).  Returns 0, or -1 with
 * js->err set.  Keeps no state between calls.
 */
int	 ds_json_scan(const char *p, size_t len, struct ds_jscan *js);
/*
 * The tiny record's short cut: is p[0..len) exactly the one-member
 * object {"key":"v"}, without white space, its value without escapes?
 * key is as written between quotes (the caller makes sure it needs no
 * escape).  Then the line is valid JSON (ds_json_scan would pass it,
 * with any maxdepth), v's text is its canonical form, and 1 is returned
 * with v set to it (quotes included).  Otherwise 0: the caller scans.
 */
int	 ds_json_pair(const char *p, size_t len, const char *key,
	    size_t klen, struct ds_span *v);
/* Append p[0..len) (valid JSON) to b without insignificant white space. */
void	 ds_json_compact(const char *p, size_t len, struct ds_buf *b);

/* ---------------------------------------------------------------------
 * rectab.c: records by key (ds-join's sides)
 * ------------------------------------------------------------------- */

/*
 * The key of record p[0..len) by the paths keys[0..nkeys) appended to
 * b (as ds_key_make): 1, or 0 when the record is not an object or lacks
 * a key field (it never matches).
 */
int	 ds_rec_key(const char *p, size_t len, const struct ds_path *keys,
	    int nkeys, struct ds_buf *b);

struct ds_rec {
	size_t		 off, len;	/* its bytes in text */
	size_t		 koff, klen;	/* its key in keys */
	int		 haskey;
	int		 matched;	/* free for the caller */
	int		 next;		/* next record with the same key, -1 */
};
struct ds_rectab {
	struct ds_buf	 text, keys;
	struct ds_rec	*r;
	int		 n, cap;
	struct ds_hash	 h;	/* key -> (first << 32 | last) + 1 */
};
/* Add a record (its key by ds_rec_key); chain it under its key if index. */
void	 ds_rectab_add(struct ds_rectab *, const struct ds_path *keys,
	    int nkeys, const char *p, size_t len, int index);
/* The first indexed record with key k (then follow next), or -1. */
int	 ds_rectab_find(struct ds_rectab *, const char *k, size_t klen);
void	 ds_rectab_clear(struct ds_rectab *);	/* keeps storage */
void	 ds_rectab_free(struct ds_rectab *);

/* ---------------------------------------------------------------------
 * merge.c: two objects into one (ds-join)
 * ------------------------------------------------------------------- */

/*
 * ds_jmerge appends to b the object s with the members of object t that
 * s does not have appended (s wins a clash), or, when made with a member
 * name as, s (less any member as) with t whole as member as.  s and t
 * are valid JSON objects; as holds no quote or backslash.
 */
struct ds_jmerge {
	int		 as;
	char		 qas[256];	/* "as", quoted */
	size_t		 qlen;
	struct ds_span	*sk;		/* s's member names */
	int		 nsk;
};
void	 ds_jmerge_init(struct ds_jmerge *, const char *as);
void	 ds_jmerge(struct ds_jmerge *, struct ds_buf *b, const char *s,
	    size_t slen, const char *t, size_t tlen);
void	 ds_jmerge_free(struct ds_jmerge *);

#endif /* DS_JSON_H */
