/*
 * base/base.h -- the bottom layer: utilities, byte buffers
 * and JSON text output (numbers, strings, base64), the hash table.  Uses
 * nothing of ds.
 */
#ifndef DS_BASE_H
#define DS_BASE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#define DS_VERSION	"0.1.0"

/* Default limits: --max-line and --max-depth change them. */
#define DS_MAXLINE_DEFAULT	(16 * 1024 * 1024)
#define DS_MAXDEPTH_DEFAULT	512


/* ---------------------------------------------------------------------
 * util.c: program name, durations, numbers, version, files
 * ------------------------------------------------------------------- */

/*
 * Parse a duration: "500ms", "2s", "1m", "1h", "1d", or a bare number of
 * seconds ("2" is 2s).  Returns 0 and sets *ms, or -1 when malformed or
 * not positive (zero allowed when allow_zero is set).
 */
int	 ds_duration(const char *s, int64_t *ms, int allow_zero);

/* Parse a byte size: "1024", "64k", "16M", "1G". Returns 0 or -1. */
int	 ds_bytesize(const char *s, int64_t *n);

/* Current wall clock, milliseconds since the epoch. */
int64_t	 ds_now_ms(void);

/* mkdir -p, new directories 0700 (less under a tighter umask): 0, or -1. */
int	 ds_mkdirs(const char *dir);
/*
 * Create path to be renamed over a file (an atomic replace): whatever is
 * there, a stale copy or a symlink planted to redirect the write, is
 * unlinked, then the file is made new with O_EXCL (which never follows
 * a link), mode 0600.  Returns the descriptor, or -1 with errno set.
 */
int	 ds_create(const char *path);
/*
 * A secret kept off the command line (ps shows argv to everyone): the
 * first line of path, without its newline and trailing blanks.  Warns
 * when group or others may read the file; exits 2 when it cannot be read
 * or is empty.  The string is malloc'd.
 */
char	*ds_secret_file(const char *path);
/* Write all n bytes, retrying short writes and EINTR: 0, or -1. */
int	 ds_writeall(int fd, const void *p, size_t n);
/* fsync a directory (a new entry in it is durable): 0, or -1. */
int	 ds_syncdir(const char *dir);

/* The index of s in names (NULL-terminated), or -1 (an option's value). */
int	 ds_choice(const char *s, const char *const *names);

/* Print "ds-x 0.1.0" to stdout and exit 0 (the -V flag). */
void	 ds_version(void) __attribute__((noreturn));

/* ---------------------------------------------------------------------
 * buf.c: growable byte buffer
 * ------------------------------------------------------------------- */

struct ds_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

/* reallocarray(3), exiting (err(1)) when memory runs out: never NULL. */
void	*ds_reallocarray(void *, size_t n, size_t size);

void	 ds_buf_grow(struct ds_buf *, size_t more);
void	 ds_buf_add(struct ds_buf *, const void *, size_t);
void	 ds_buf_addc(struct ds_buf *, char);
void	 ds_buf_adds(struct ds_buf *, const char *);
void	 ds_buf_addf(struct ds_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 ds_buf_addi(struct ds_buf *, int64_t);		/* decimal */
/* Append a double as jq 1.7 prints it (the shortest digits that read back). */
void	 ds_buf_addd(struct ds_buf *, double);
/*
 * Append s[0..n) as a JSON string literal: '"', '\\' and control
 * characters escaped (\n, \u0001), each byte of invalid UTF-8 as U+FFFD.
 * ds_buf_addq_jq also escapes DEL (\u007f), as jq prints it; ds_buf_addq
 * keeps it, so that a valid string without escapes is its own canonical
 * form (ds_json_canon).
 */
void	 ds_buf_addq(struct ds_buf *, const char *s, size_t n);
void	 ds_buf_addq_jq(struct ds_buf *, const char *s, size_t n);
/* Is s[0..n) valid UTF-8 (what ds_buf_addq keeps as it is)? */
int	 ds_utf8_valid(const char *s, size_t n);
/* Length of the valid UTF-8 sequence at s (n > 0 bytes left), 0 if not. */
size_t	 ds_utf8_len(const void *s, size_t n);
/*
 * The value of the four hex digits at p (of a \u escape), or -1 (also
 * at a NUL, so a string cut short stops there).
 */
int	 ds_hex4(const void *p);
/* Append the base64 (RFC 4648, padded) of s[0..n), without quotes. */
void	 ds_buf_addb64(struct ds_buf *, const void *s, size_t n);
/*
 * Append the bytes of base64 text s[0..n); -1 when it is not base64
 * (b may then hold part of it).  ds_b64dec_lax ignores what follows the
 * first '=', as jq's @base64d does.
 */
int	 ds_b64dec(struct ds_buf *, const char *s, size_t n);
int	 ds_b64dec_lax(struct ds_buf *, const char *s, size_t n);
#define	 ds_buf_clear(b)	((b)->len = 0)	/* keeps p */
void	 ds_buf_free(struct ds_buf *);

/* ---------------------------------------------------------------------
 * hash.c: a byte-string keyed hash table (open addressing)
 * ------------------------------------------------------------------- */

struct ds_hent {
	char	*key;		/* owned copy, NUL-terminated */
	size_t	 klen;
	uint64_t hash;
	void	*val;
};

struct ds_hash {
	struct ds_hent *e;
	size_t	 cap;		/* power of two */
	size_t	 n;		/* live entries */
	size_t	 dead;		/* tombstones */
};

uint64_t ds_hash_bytes(const void *, size_t);
/*
 * a[0..n) == b[0..n)?  Keys are short: word compares inline cost less
 * than the call to memcmp.
 */
static inline int
ds_sameb(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	uint64_t x, y;
	uint32_t u, v;

	for (; n >= 8; p += 8, q += 8, n -= 8) {
		memcpy(&x, p, 8);
		memcpy(&y, q, 8);
		if (x != y)
			return 0;
	}
	if (n >= 4) {
		memcpy(&u, p, 4);
		memcpy(&v, q, 4);
		if (u != v)
			return 0;
		memcpy(&u, p + n - 4, 4);
		memcpy(&v, q + n - 4, 4);
		return u == v;
	}
	for (; n > 0; p++, q++, n--)
		if (*p != *q)
			return 0;
	return 1;
}
/* Find key; returns its entry or NULL. */
struct ds_hent *ds_hash_get(struct ds_hash *, const void *k, size_t n);
/* Find or insert key (val NULL when new, *isnew set). */
struct ds_hent *ds_hash_put(struct ds_hash *, const void *k, size_t n,
	    int *isnew);
/* Remove an entry returned by get/put; its val is the caller's. */
void	 ds_hash_del(struct ds_hash *, struct ds_hent *);
/* Iterate: start with i = 0; returns NULL at the end. */
struct ds_hent *ds_hash_next(struct ds_hash *, size_t *i);
/* How many keys. */
size_t	 ds_hash_count(const struct ds_hash *);
/* Empty the table, keeping its slots; frees keys, not vals. */
void	 ds_hash_clear(struct ds_hash *);
/* Empty it and release its slots (vals are the caller's). */
void	 ds_hash_free(struct ds_hash *);

/* ---------------------------------------------------------------------
 * proc.c: a child process, its standard error relayed line by line
 * ------------------------------------------------------------------- */

/* Initialise as { -1, -1, { 0 }, errline, ctx }. */
struct ds_proc {
	pid_t		 pid;		/* -1 when none */
	int		 err;		/* its stderr, -1 once closed */
	struct ds_buf	 el;		/* the stderr line being read */
	/* each line of its stderr (cut at 4096 bytes), without the \n */
	void		(*errline)(void *ctx, const char *p, size_t n);
	void		*ctx;
};
/*
 * Run argv (searched in PATH) with in as its stdin and out as its stdout
 * (-1: its stderr pipe), SIGPIPE at its default.  Returns 0, or -1 with
 * errno set.
 */
int	 ds_proc_spawn(struct ds_proc *, char *const argv[], int in, int out);
/*
 * Read its stderr once: 1 data (lines relayed), 0 at its end (closed),
 * -1 nothing yet (EINTR, EAGAIN), -2 on an error (errno set).
 */
int	 ds_proc_errread(struct ds_proc *);
/*
 * Wait for it to exit, relaying its stderr to the end; at deadline (ms
 * since the epoch, 0: none) it is killed and *timedout set (already set:
 * no deadline).  Its wait status goes to *st.  Returns 0, or -1 with
 * errno set.
 */
int	 ds_proc_wait(struct ds_proc *, int64_t deadline, int *timedout,
	    int *st);
/* The poll(2) timeout until deadline (ms since the epoch; 0: none, -1). */
int	 ds_poll_left(int64_t deadline);

#endif /* DS_BASE_H */
