/*
 * ds-kafka-cat -- Kafka in and out for ds pipelines, in kcat's manner:
 * consume topics as NDJSON envelopes (offsets stored only once written,
 * or committed when the last stage acknowledges a batch), produce NDJSON
 * records, show metadata and group lag, or run a mock cluster.
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka.h"

enum {
	OPT_VALUE = DS_OPT_FIRST_TOOL, OPT_KEY, OPT_KEYF, OPT_VALF, OPT_PARTF,
	OPT_HDRF, OPT_LAG, OPT_MAXRATE, OPT_COMMIT, OPT_ACKS, OPT_TXN, OPT_TEXT
};

static const char usagetext[] =
"usage: ds-kafka-cat [-C] -b BROKERS -t TOPIC [-t TOPIC ...] [-p PARTITION]\n"
"                    [-G GROUP] [-o OFFSET] [-o e@TS] [-e] [-c N]\n"
"                    [-f FORMAT | -K DELIM | -D DELIM] [-Z] [-J]\n"
"                    [--key string|json|base64] "
"[--value auto|string|json|base64]\n"
"                    [--max-rate-per-partition N] [--commit auto|none|acks]\n"
"                    [--acks PATH] [-X PROP=VAL] [-F FILE] "
"[--skip-bad] [--dead-letter FILE]\n"
"                    [--stats] [--progress | --no-progress]\n"
"       ds-kafka-cat -P -b BROKERS -t TOPIC [-p PARTITION] [--key-field F]\n"
"                    [--value-field F] [--partition-field F] "
"[--header-field F]\n"
"                    [-H NAME=VALUE ...] [--text] [-K DELIM] [-D DELIM] "
"[-l] [-Z]\n"
"                    [--transactional-id ID [-G GROUP]]\n"
"                    [-X PROP=VAL] [-F FILE] [--skip-bad] "
"[--dead-letter FILE]\n"
"                    [FILE ...]\n"
"       ds-kafka-cat -Q -b BROKERS -t TOPIC:PARTITION:TS [-t ...]\n"
"       ds-kafka-cat -L [-J] -b BROKERS [-t TOPIC ...] [-X PROP=VAL] "
"[-F FILE]\n"
"       ds-kafka-cat --lag -b BROKERS -G GROUP -t TOPIC [-t TOPIC ...]\n"
"       ds-kafka-cat -M N\n"
"       ds-kafka-cat -X list | -X dump [-X PROP=VAL] [-F FILE]\n"
"       ds-kafka-cat -h | -V\n";

static void __attribute__((noreturn))
usage(int status)
{
	fputs(usagetext, status == 0 ? stdout : stderr);
	exit(status);
}

static void
field(struct ds_path *p, const char *opt, const char *arg)
{
	if (ds_path_parse(arg, p) == -1)
		errx(2, "%s %s: bad field path", opt, arg);
}

static int
hasprop(const struct dk *dk, const char *name)
{
	size_t n = strlen(name);
	int i;

	for (i = 0; i < dk->nprops; i++)
		if (strncmp(dk->props[i], name, n) == 0 &&
		    dk->props[i][n] == '=')
			return 1;
	return 0;
}

/*
 * -P fails fast only once the records before a bad one are delivered:
 * the bad one is reported as with --skip-bad, and the producer stops.
 */
static int failfast;

/* The bad-record policy, for the library's bad records. */
static int
bad(const struct ds_line *l, const char *why)
{
	ds_bad(l, "%s", why);	/* exits when failing fast, but for -P */
	return failfast ? -1 : 0;
}

/* The command line: the struct dk the library runs, and what main needs. */
struct cmd {
	struct dk	 dk;
	char		 mode;		/* C, P, Q, L, M or l (--lag) */
	int		 mock;		/* -M: brokers */
	int		 conffile;	/* -F given: no default file */
	int		 dump;		/* -X dump */
	char		*fmtkd;		/* the format -K and -D stand for */
};

/* The value of arg among names (NULL-terminated); exits 2 if none. */
static int
oneof(const char *opt, const char *arg, const char *const *names,
    const char *expected)
{
	int i;

	if ((i = ds_choice(arg, names)) == -1)
		errx(2, "%s %s: expected %s", opt, arg, expected);
	return i;
}

static const char **
addarg(const char **v, int *n, const char *arg)
{
	if ((v = reallocarray(v, *n + 1, sizeof(*v))) == NULL)
		err(1, NULL);
	v[(*n)++] = arg;
	return v;
}

static int64_t
number(const char *opt, const char *arg, int64_t min, int64_t max)
{
	const char *errstr;
	int64_t v;

	v = strtonum(arg, min, max, &errstr);
	if (errstr != NULL)
		errx(2, "%s %s: %s", opt, arg, errstr);
	return v;
}

/* -X: a property, list or dump. */
static void
prop(struct cmd *cmd, const char *arg)
{
	if (strcmp(arg, "list") == 0) {
		rd_kafka_conf_properties_show(stdout);
		exit(0);
	}
	if (strcmp(arg, "dump") == 0) {
		cmd->dump = 1;
		return;
	}
	if (dk_conf_arg(&cmd->dk, arg) == -1)
		errx(2, "-X %s: expected PROP=VAL", dk_secret(arg) ?
		    "(secret)" : arg);
}

/* The long options of this tool alone. */
static void
longopt(struct cmd *cmd, int ch, const char *arg)
{
	static const char *const vnames[] = {
		"auto", "string", "json", "base64", NULL };
	static const enum dk_vmode vmodes[] = {
		DK_AUTO, DK_STRING, DK_JSON, DK_BASE64 };
	/* keys are text unless asked: json parses them */
	static const char *const knames[] = { "string", "json", "base64",
		NULL };
	static const enum dk_vmode kmodes[] = { DK_STRING, DK_AUTO,
		DK_BASE64 };
	static const char *const cnames[] = { "auto", "none", "acks", NULL };
	static const enum dk_commit commits[] = { DK_COMMIT_AUTO,
		DK_COMMIT_NONE, DK_COMMIT_ACKS };
	struct dk *dk = &cmd->dk;

	switch (ch) {
	case OPT_VALUE:
		dk->vmode = vmodes[oneof("--value", arg, vnames,
		    "auto, string, json or base64")];
		break;
	case OPT_KEY:
		dk->kmode = kmodes[oneof("--key", arg, knames,
		    "string, json or base64")];
		break;
	case OPT_COMMIT:
		dk->commit = commits[oneof("--commit", arg, cnames,
		    "auto, none or acks")];
		break;
	case OPT_KEYF:
		field(&dk->keyf, "--key-field", arg);
		break;
	case OPT_VALF:
		field(&dk->valf, "--value-field", arg);
		break;
	case OPT_PARTF:
		field(&dk->partf, "--partition-field", arg);
		break;
	case OPT_HDRF:
		field(&dk->hdrf, "--header-field", arg);
		break;
	case OPT_MAXRATE:
		dk->maxrate = number("--max-rate-per-partition", arg, 1,
		    1000000000);
		break;
	case OPT_LAG:
		cmd->mode = 'l';
		break;
	case OPT_ACKS:
		dk->acks = arg;
		break;
	case OPT_TXN:
		dk->txnid = arg;
		break;
	case OPT_TEXT:
		dk->text = 1;
		break;
	default:
		usage(2);
	}
}

/* One option of the command line. */
static void
option(struct cmd *cmd, int ch, const char *arg)
{
	struct dk *dk = &cmd->dk;
	const char *errstr;

	switch (ch) {
	case 'b':
		dk->brokers = arg;
		break;
	case 'c':
		dk->count = number("-c", arg, 0, INT64_MAX);
		break;
	case 'C':
	case 'L':
	case 'P':
	case 'Q':
		cmd->mode = (char)ch;
		break;
	case 'D':
		dk->msgdelim = arg;
		break;
	case 'e':
		dk->exit_eof = 1;
		break;
	case 'f':
		dk->fmt = arg;
		break;
	case 'G':
		dk->group = arg;
		break;
	case 'H':
		dk->hdrs = addarg(dk->hdrs, &dk->nhdrs, arg);
		break;
	case 'J':
		dk->json = 1;
		break;
	case 'K':
		dk->keydelim = arg;
		break;
	case 'l':
		dk->lines = 1;
		break;
	case 'p':
		dk->partition = (int32_t)number("-p", arg, 0, INT32_MAX);
		break;
	case 't':
		dk->topics = addarg(dk->topics, &dk->ntopics, arg);
		break;
	case 'X':
		prop(cmd, arg);
		break;
	case 'Z':
		dk->nulls = 1;
		break;
	case 'F':
		if (dk_conf_file(dk, arg) == -1)
			errx(2, "%s", dk->err);
		cmd->conffile = 1;
		break;
	case 'M':
		cmd->mock = (int)number("-M", arg, 1, 100);
		cmd->mode = 'M';
		break;
	case 'o':
		if (strncmp(arg, "e@", 2) != 0) {
			dk->offset = arg;
			break;
		}
		dk->endts = strtonum(arg + 2, 0, INT64_MAX, &errstr);
		if (errstr != NULL)
			errx(2, "-o %s: timestamp %s", arg, errstr);
		break;
	case 'h':
		usage(0);
		break;
	case 'V':
		ds_version();
		break;
	default:
		longopt(cmd, ch, arg);
	}
}

/* -P: the options that make sense for producing, and the text modes. */
static void
checkprod(struct dk *dk)
{
	if (dk->ntopics != 1) {
		warnx("-P needs exactly one -t TOPIC");
		usage(2);
	}
	if (dk->offset != NULL || dk->endts >= 0 || dk->exit_eof ||
	    dk->count >= 0 || dk->maxrate > 0 || dk->acks != NULL)
		errx(2, "-P: -o, -e, -c, --acks and "
		    "--max-rate-per-partition are for consuming");
	if (dk->group != NULL && dk->txnid == NULL)
		errx(2, "-P: -G needs --transactional-id (the group "
		    "whose offsets each transaction commits)");
	if (dk->fmt != NULL || dk->json)
		errx(2, "-P: -f and -J are for consuming");
	/* kcat's text flags make -P read plain text */
	if (dk->keydelim != NULL || dk->msgdelim != NULL || dk->lines ||
	    dk->nulls)
		dk->text = 1;
	if (dk->text && (dk->keyf.n > 0 || dk->valf.n > 0 ||
	    dk->partf.n > 0 || dk->hdrf.n > 0))
		errx(2, "-P: the --*-field options are for NDJSON "
		    "input, not plain text");
	if (dk->nhdrs > 0 && dk->hdrf.n > 0)
		errx(2, "-P: -H and --header-field cannot be mixed");
}

/* -C: the options that make sense for consuming, -K and -D as -f. */
static void
checkcons(struct cmd *cmd)
{
	struct dk *dk = &cmd->dk;
	int i;

	if (dk->ntopics == 0) {
		warnx("-t TOPIC is required");
		usage(2);
	}
	if (dk->lines || dk->text || dk->nhdrs > 0)
		errx(2, "-l, -H and --text are for producing (-P)");
	if (dk->fmt != NULL && (dk->json || dk->keydelim != NULL ||
	    dk->msgdelim != NULL))
		errx(2, "-f cannot be used with -J, -K or -D");
	/* -K and -D alone stand for a format, as in kcat */
	if (dk->fmt == NULL && (dk->keydelim != NULL ||
	    dk->msgdelim != NULL) && (dk->fmt = cmd->fmtkd = dk_format_kd(
	    dk->keydelim, dk->msgdelim)) == NULL)
		err(1, NULL);
	if (dk->commit == DK_COMMIT_ACKS && (dk->acks == NULL ||
	    dk->group == NULL))
		errx(2, "--commit acks needs --acks PATH and -G GROUP");
	if (dk->acks != NULL && dk->commit != DK_COMMIT_ACKS &&
	    dk->commit != DK_COMMIT_NONE)
		errx(2, "--acks needs --commit acks or none");
	if (dk->group != NULL && dk->partition >= 0)
		errx(2, "-p cannot be used with -G (the group assigns "
		    "partitions)");
	if (dk->group != NULL && dk->offset != NULL &&
	    strcmp(dk->offset, "beginning") != 0 &&
	    strcmp(dk->offset, "end") != 0 &&
	    strcmp(dk->offset, "stored") != 0)
		errx(2, "-o %s: with -G, -o is beginning, end or stored "
		    "(where a partition without a committed offset starts)",
		    dk->offset);
	if (dk->group == NULL && dk->offset != NULL &&
	    strcmp(dk->offset, "stored") == 0 && !hasprop(dk, "group.id"))
		errx(2, "-o stored: needs -G GROUP or -X group.id=G "
		    "(whose committed offsets to start from)");
	if (dk->group == NULL)
		for (i = 0; i < dk->ntopics; i++)
			if (dk->topics[i][0] == '^')
				errx(2, "-t %s: regex topics need -G",
				    dk->topics[i]);
}

/* Run the mode; returns the exit status. */
static int
run(struct cmd *cmd, char **argv, int argc)
{
	struct dk *dk = &cmd->dk;

	if (dk->brokers == NULL && !hasprop(dk, "bootstrap.servers") &&
	    !hasprop(dk, "metadata.broker.list")) {
		warnx("-b BROKERS is required");
		usage(2);
	}
	if (argc != 0 && cmd->mode != 'P')
		usage(2);
	/* --acks implies ack mode; ack mode needs the path and a group */
	if (dk->acks != NULL && dk->commit == DK_COMMIT_DEFAULT)
		dk->commit = DK_COMMIT_ACKS;
	if (dk->commit == DK_COMMIT_DEFAULT)
		dk->commit = DK_COMMIT_AUTO;
	if (dk->txnid != NULL && cmd->mode != 'P')
		errx(2, "--transactional-id is for producing (-P)");
	switch (cmd->mode) {
	case 'L':
		return dk_metadata(dk);
	case 'Q':
		if (dk->ntopics == 0) {
			warnx("-Q needs -t TOPIC:PARTITION:TIMESTAMP");
			usage(2);
		}
		return dk_query(dk);
	case 'l':
		if (dk->group == NULL || dk->ntopics == 0) {
			warnx("--lag needs -G GROUP and -t TOPIC");
			usage(2);
		}
		return dk_lag(dk);
	case 'P':
		checkprod(dk);
		failfast = !ds_opts.skipbad && ds_opts.deadletter == NULL;
		if (failfast)
			ds_opts.skipbad = 1;
		return dk_produce(dk, argv, argc);
	default:
		checkcons(cmd);
		return dk_consume(dk);
	}
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		DS_COMMON_LONGOPTS,
		{ "value", required_argument, NULL, OPT_VALUE },
		{ "key", required_argument, NULL, OPT_KEY },
		{ "key-field", required_argument, NULL, OPT_KEYF },
		{ "value-field", required_argument, NULL, OPT_VALF },
		{ "partition-field", required_argument, NULL, OPT_PARTF },
		{ "header-field", required_argument, NULL, OPT_HDRF },
		{ "lag", no_argument, NULL, OPT_LAG },
		{ "max-rate-per-partition", required_argument, NULL,
		    OPT_MAXRATE },
		{ "commit", required_argument, NULL, OPT_COMMIT },
		{ "acks", required_argument, NULL, OPT_ACKS },
		{ "transactional-id", required_argument, NULL, OPT_TXN },
		{ "text", no_argument, NULL, OPT_TEXT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct cmd cmd;
	struct dk *dk = &cmd.dk;
	char errbuf[DK_ERRLEN] = "";
	int ch, status;

	ds_signals();
	memset(&cmd, 0, sizeof(cmd));
	cmd.mode = 'C';
	dk->partition = -1;
	dk->count = -1;
	dk->kmode = DK_STRING;
	dk->endts = -1;
	dk->bad = bad;
	dk->err = errbuf;
	while ((ch = getopt_long(argc, argv, "b:c:CD:ef:F:G:hH:JK:lLM:o:p:PQt:VX:Z",
	    longopts, NULL)) != -1)
		if (!ds_common_opt(ch, optarg))
			option(&cmd, ch, optarg);
	argc -= optind;
	argv += optind;

	if (cmd.mode == 'M') {
		if (argc != 0)
			usage(2);
		if ((status = dk_mock(dk, cmd.mock)) != 0)
			errx(status, "%s", dk->err);
		return 0;
	}
	if (!cmd.conffile && dk_conf_default(dk) == -1)
		errx(2, "%s", dk->err);
	status = cmd.dump ? dk_conf_dump(dk) : run(&cmd, argv, argc);
	if (*errbuf != '\0')
		warnx("%s", errbuf);	/* why the library failed */
	dk_conf_free(dk);
	free(cmd.fmtkd);
	free(dk->hdrs);
	free(dk->topics);
	ds_path_free(&dk->keyf);
	ds_path_free(&dk->valf);
	ds_path_free(&dk->partf);
	ds_path_free(&dk->hdrf);
	return status;
}
