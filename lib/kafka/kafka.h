/*
 * kafka.h -- the pieces of ds-kafka-cat(1) that live in lib/kafka*.c
 * (librdkafka wrappers), and the changelog reader of ds-state(1).  Only
 * these two tools include this header; the rest of libds never sees
 * librdkafka.
 *
 * Nothing here exits (but out of memory, and librdkafka's fatal error
 * callback: the client can do nothing more) nor applies the bad-record
 * policy (dk->bad is the tool's).  A failure puts its message in
 * dk->err and returns -1 (NULL), or from a mode its exit status: 1, or
 * 2 for a bad value on the command line.  Transient trouble and what
 * the run goes on after are warnings on stderr.
 */
#ifndef DS_KAFKA_H
#define DS_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "ds.h"

#define DK_ERRLEN	512

enum dk_vmode { DK_AUTO, DK_STRING, DK_JSON, DK_BASE64 };
enum dk_commit { DK_COMMIT_DEFAULT, DK_COMMIT_AUTO, DK_COMMIT_NONE,
	DK_COMMIT_ACKS };

/* Everything the command line says; filled by main(). */
struct dk {
	const char	 *brokers;
	const char	**topics;
	int		  ntopics;
	int32_t		  partition;	/* -p, -1 for all */
	const char	 *group;
	const char	 *offset;	/* -o as written, NULL: default */
	int64_t		  endts;	/* -o e@ts, -1: none */
	int		  exit_eof;	/* -e */
	int64_t		  count;	/* -c, -1: no limit */
	enum dk_vmode	  vmode;
	enum dk_vmode	  kmode;	/* --key: DK_STRING, json is DK_AUTO */
	enum dk_commit	  commit;
	const char	 *acks;
	const char	 *txnid;	/* -P --transactional-id */
	int64_t		  maxrate;	/* records/s/partition, 0: none */
	struct ds_path	  keyf, valf, partf, hdrf;	/* n == 0: unset */
	/* kcat's text modes */
	const char	 *fmt;		/* -f, or made of -K and -D */
	const char	 *keydelim;	/* -K */
	const char	 *msgdelim;	/* -D */
	int		  nulls;	/* -Z */
	int		  lines;	/* -P -l: split files too */
	int		  text;		/* -P: plain text, not NDJSON */
	int		  json;		/* -J */
	const char	**hdrs;		/* -P -H name=value, in order */
	int		  nhdrs;
	char		**props;	/* "name=value", in order (-F, -X) */
	char		**propsrc;	/* each one's "file:line", NULL: -X */
	int		  nprops;
	/*
	 * The tool's bad-record policy, given a bad record (an input line
	 * of -P, a message of -C that is not what --value says) and why.
	 * Returns 0 to go on past the record, -1 to stop (-P then stops
	 * once what came before is delivered).
	 */
	int		(*bad)(const struct ds_line *, const char *why);
	char		 *err;		/* DK_ERRLEN bytes: why a call failed */
};

/* Put the message in dk->err; returns status. */
int	 dk_fail(const struct dk *, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * kafka_conf.c: a librdkafka configuration with bootstrap.servers and
 * client.id, then the -F/-X properties in order.  Settings in extra[]
 * ("name", "value" pairs, NULL-terminated) go before the user's unless
 * force is set, in which case they go after (they win).  A bad property
 * gives NULL (dk->err names it; values of secret properties are never
 * shown).
 */
rd_kafka_conf_t *dk_conf(const struct dk *, const char *const *extra,
	    const char *const *force);
/* Add the "name=value" lines of a -F file to dk->props: 0 or -1. */
int	 dk_conf_file(struct dk *, const char *path);
/* Add one "name=value" from where ("file:line", NULL for -X). */
void	 dk_conf_add(struct dk *, const char *prop, const char *where);
/*
 * -X PROP=VAL: add it, warning when it holds a password (argv is public).
 * Returns 0, or -1 when arg is not PROP=VAL.
 */
int	 dk_conf_arg(struct dk *, const char *arg);
void	 dk_conf_free(struct dk *);
/*
 * Put the default configuration file's properties before the command
 * line's: $DS_KAFKA_CONFIG, else ~/.config/ds/kafka.conf when it exists
 * (kcat's $KCAT_CONFIG and ~/.config/kcat.conf).  Returns 0 or -1.
 */
int	 dk_conf_default(struct dk *);
/* -X dump: print the configuration, secrets hidden.  Exit status. */
int	 dk_conf_dump(const struct dk *);
/* Is this property's value a secret (password, secret, sasl, ssl.key)? */
int	 dk_secret(const char *name);
/* Does "name=value" hold a password, a client secret or a private key? */
int	 dk_password(const char *prop);
/* librdkafka's error and log callbacks, as "ds-kafka-cat: kafka: ..." */
void	 dk_callbacks(rd_kafka_conf_t *);
/*
 * The offsets a batch marker m says are safe to commit: its "commit"
 * entries when it has them, else the until of its "offsets" ranges, the
 * highest per partition.  A new list the caller destroys; NULL when m is
 * not a batch marker.
 */
rd_kafka_topic_partition_list_t *dk_marker_commits(json_t *m);

/* Report a bad record l through dk->bad; returns what that returns. */
int	 dk_bad(const struct dk *, const struct ds_line *l, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));

/*
 * kafka_env.c: the lossless envelope.  dk_encode appends bytes s[0..n)
 * (NULL: a null) as the JSON value of envelope field name ("key" or
 * "value") to b, decoded as mode says, and to extra the fields that give
 * back the exact bytes when the value alone does not: name_text (the
 * payload text, when it is JSON with white space), name_encoding "json"
 * (a string or null payload: the bytes are the value's JSON text) or
 * "base64" (the value is the bytes' base64: not UTF-8, or mode base64).
 * Returns 0, or -1 with *why when mode is DK_JSON and s is not JSON.
 */
int	 dk_encode(struct ds_buf *b, struct ds_buf *extra, const char *name,
	    const char *s, size_t n, enum dk_vmode mode, const char **why);
/*
 * Append the headers object of h (NULL: none) to b, and to extra
 * (unless NULL) a "header_list" field when the object cannot say it
 * all: a repeated name (the object keeps the last) or a value that is
 * not UTF-8 (base64 in the object, and marked "base64" in the list).
 */
void	 dk_headers(struct ds_buf *b, struct ds_buf *extra,
	    const rd_kafka_headers_t *h);

/*
 * kafka_changelog.c: read partitions parts[0..n) of the compacted topic
 * from their start to their last stable offset, committed records only,
 * calling fn with each message's partition, key and value (NULL for a
 * tombstone).  fn returns 0, or -1 with its message in dk->err.
 * Returns 0, or -1 with dk->err set.
 */
typedef int (*dk_changelog_fn)(void *, int32_t part, const char *k,
	    size_t klen, const char *v, size_t vlen);
int	 dk_changelog_read(const struct dk *, const char *topic,
	    const int32_t *parts, int n, dk_changelog_fn fn, void *arg);
/*
 * Write one changelog record: key k[0..klen) (text), value the JSON text
 * v[0..vlen) (NULL: a tombstone), into partition part of topic.
 */
void	 dk_changelog_put(const char *topic, int32_t part, const char *k,
	    size_t klen, const char *v, size_t vlen);

/*
 * The partition scope of a keyed stage's state (ds-state --changelog):
 * the source partition leads every key, and only the keys of the
 * partitions assigned here are kept.  dk_scope_owns: may key k be kept
 * here (always when topic is NULL)?  dk_scope_ownsp: may a record of
 * the partition be?  dk_scope_control: an assign
 * (assign set) or revoke record l; the keys of its partitions are
 * dropped from kt (drop(r->arg, key) frees a key's value and deletes it
 * from kt), and for an assignment read back from the changelog through
 * r->load.  dk_scope_write: the changes since the last write as
 * changelog records (dk_changelog_put: the key fields' object as the
 * key, the state record as the value), then ds_keytab_settled.
 * dk_scope_control and dk_scope_write return 0, or -1 with sc->dk.err
 * set.
 */
struct dk_scope {
	struct dk	 dk;		/* -b, -X: the changelog's brokers */
	char		 err[DK_ERRLEN];
	const char	*topic;		/* NULL: the state is not scoped */
	int32_t		*own;		/* the partitions assigned here */
	int		 nown;
};
void	 dk_scope_init(struct dk_scope *, const char *topic);
int	 dk_scope_owns(const struct dk_scope *, const char *k, size_t n);
int	 dk_scope_ownsp(const struct dk_scope *, int64_t partition);
/* The source partition that leads key k, or -1 when it has none. */
int64_t	 dk_keypart(const char *k, size_t n);
/*
 * The partitions of an assign (assign set) or revoke record l, in
 * *parts (n of them, a new array) and added to or removed from those
 * owned: 0, or -1 with sc->dk.err set.
 */
int	 dk_scope_parts(struct dk_scope *, const struct ds_line *l,
	    int assign, int32_t **parts, int *n);
int	 dk_scope_control(struct dk_scope *, const struct ds_line *l,
	    int assign, struct ds_keytab *kt,
	    void (*drop)(void *, struct ds_key *),
	    const struct ds_staterec *r);
int	 dk_scope_write(struct dk_scope *, struct ds_keytab *,
	    const struct ds_staterec *);
/*
 * The offsets a scoped stage's marker m commits: the batch's own (the
 * changelog has the batch), lowered by m's "commit".  A new array.
 */
json_t	*dk_scope_commit(json_t *m);
/* The bad-record message of a record not owned here (field: partition) */
const char *dk_scope_why(const char *field);
void	 dk_scope_free(struct dk_scope *);

/*
 * A window kept per source partition (ds-window --changelog): the
 * changelog holds, keyed {"partition":P,"time":T}, partition P's groups
 * in the batch of time T, {"groups":[[[key],partial],...]}.
 * dk_window_write writes the batch of time t; dk_window_evicting the
 * tombstones of the batches ds_winq_evict(q, t) is about to drop;
 * dk_window_control takes an assign or revoke record l (assign set):
 * the groups of its partitions are dropped from q, and for an
 * assignment read back into their batches (0, or -1 with sc->dk.err).
 */
void	 dk_window_write(const char *topic, const struct ds_winq *, int64_t t);
void	 dk_window_evicting(const char *topic, const struct ds_winq *,
	    int64_t t);
int	 dk_window_control(struct dk_scope *, const struct ds_line *l,
	    int assign, struct ds_winq *);

/*
 * kafka_fmt.c: append message m as format f says (kcat's -f; -Z: nulls
 * as NULL).  dk_format_kd makes the format -K and -D stand for.
 */
void	 dk_format(struct ds_buf *, const char *f, const rd_kafka_message_t *m,
	    int nulls);
char	*dk_format_kd(const char *keydelim, const char *msgdelim);

/*
 * kafka_admin.c: the partitions of the -t topics (or only -p) added to
 * l, from the cluster's metadata: 0, or -1 (dk->err says why).  Strict,
 * an unknown topic, or one without partition -p, is an error too.
 */
int	 dk_partitions(const struct dk *, rd_kafka_t *,
	    rd_kafka_topic_partition_list_t *l, int strict);

/* kafka_admin.c: -L, --lag and -M.  Each returns the exit status. */
int	 dk_metadata(const struct dk *);
int	 dk_lag(const struct dk *);
int	 dk_mock(const struct dk *, int nbrokers);
/* -Q: the offsets of the -t topic:partition:timestamp.  Exit status. */
int	 dk_query(const struct dk *);

/* kafka_consume.c: the consumer (-C, the default).  Exit status. */
int	 dk_consume(const struct dk *);

/* kafka_produce.c: -P over files (none: stdin).  Exit status. */
int	 dk_produce(const struct dk *, char **files, int nfiles);

#endif /* DS_KAFKA_H */
