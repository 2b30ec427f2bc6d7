/*
 * jq/jq.h -- the jq language of ds-map and ds-state -e.
 * Uses base.
 */
#ifndef DS_JQ_H
#define DS_JQ_H

#include "base/base.h"

/* ---------------------------------------------------------------------
 * parse.c, eval.c: the jq language (the layers inside: jq/exprint.h)
 * ------------------------------------------------------------------- */

/*
 * The jq subset of ds-map(1), also used by ds-state -e.  Values cross
 * the API as compact JSON text.
 */
struct ds_expr;

/*
 * Compile src.  vars[0..nvars) name the $variables the program may use
 * (without '$'), bound later by index.  Returns NULL with a message in
 * err naming the construct and its position ("unsupported: 'reduce' at
 * 1:5") -- a usage error, exit 2.
 */
struct ds_expr *ds_expr_compile(const char *src, const char *const *vars,
	    int nvars, char *err, size_t errlen);
/*
 * The limits of a run (DS_MAXDEPTH_DEFAULT and DS_MAXLINE_DEFAULT until
 * set): the nesting of an input, of a bound variable, of what fromjson
 * reads and of every value the program builds, and the length of a path
 * that paths and .. build (maxdepth); the longest string a run may
 * build (maxline).  The tools pass their --max-depth and --max-line.
 */
void	 ds_expr_limits(struct ds_expr *, int maxdepth, size_t maxline);
/* Bind variable i to a JSON text (copied).  Returns 0 or -1 if invalid. */
int	 ds_expr_bind(struct ds_expr *, int i, const char *json, size_t len);
/*
 * Run the program on one input (valid JSON text).  Each output is passed
 * to emit as compact JSON text, valid only during the call.  Returns 0,
 * or -1 with *errmsg (owned by the expr, valid until the next run) on a
 * runtime error: outputs emitted before the error stand.
 */
int	 ds_expr_run(struct ds_expr *, const char *in, size_t len,
	    void (*emit)(void *arg, const char *out, size_t outlen),
	    void *arg, const char **errmsg);
void	 ds_expr_free(struct ds_expr *);

/*
 * Append bytes s[0..n) as the UTF-8 of the string jq makes of them (jq
 * -R, @base64d): each ill-formed sequence is one U+FFFD, a lead byte
 * taking the continuation bytes after it up to its length, or all the
 * rest when its sequence would run past the end (jq 1.6 and 1.7 alike).
 */
void	 ds_jq_utf8(struct ds_buf *, const void *s, size_t n);

#endif /* DS_JQ_H */
