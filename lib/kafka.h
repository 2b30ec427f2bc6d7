/*
 * kafka.h -- the pieces of ds-kafka-cat(1) that live in lib/kafka*.c
 * (librdkafka wrappers).  Only ds-kafka-cat includes this header; the
 * rest of libds never sees librdkafka.
 */
#ifndef DS_KAFKA_H
#define DS_KAFKA_H

#include <librdkafka/rdkafka.h>

#include "ds.h"

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
	int		  exit_eof;	/* -e */
	int64_t		  count;	/* -c, -1: no limit */
	enum dk_vmode	  vmode;
	enum dk_commit	  commit;
	const char	 *acks;
	const char	 *txnid;	/* -P --transactional-id */
	int64_t		  maxrate;	/* records/s/partition, 0: none */
	struct ds_path	  keyf, valf, partf, hdrf;	/* n == 0: unset */
	char		**props;	/* "name=value", in order (-F, -X) */
	int		  nprops;
};

/*
 * kafka_conf.c: a librdkafka configuration with bootstrap.servers and
 * client.id, then the -F/-X properties in order.  Settings in extra[]
 * ("name", "value" pairs, NULL-terminated) go before the user's unless
 * force is set, in which case they go after (they win).  A bad property
 * exits 2 naming it; values of secret properties are never printed.
 */
rd_kafka_conf_t *dk_conf(const struct dk *, const char *const *extra,
	    const char *const *force);
/* Add the "name=value" lines of a -F file to dk->props (exits 2). */
void	 dk_conf_file(struct dk *, const char *path);
/* Is this property's value a secret (password, secret, sasl)? */
int	 dk_secret(const char *name);
/* Does "name=value" hold a password or a client secret? */
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

/* kafka_admin.c: -L, --lag and -M.  Each returns the exit status. */
int	 dk_metadata(const struct dk *);
int	 dk_lag(const struct dk *);
int	 dk_mock(const struct dk *, int nbrokers);

/* kafka_consume.c: the consumer (-C, the default).  Exit status. */
int	 dk_consume(const struct dk *);

/* kafka_produce.c: -P over files (none: stdin).  Exit status. */
int	 dk_produce(const struct dk *, char **files, int nfiles);

#endif /* DS_KAFKA_H */
