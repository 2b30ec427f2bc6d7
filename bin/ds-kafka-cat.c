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

static void
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
	struct dk dk;
	const char *errstr;
	char *fmtkd = NULL;
	char mode = 'C';
	int ch, mock = 0, status, i, conffile = 0, dump = 0;

	ds_signals();
	memset(&dk, 0, sizeof(dk));
	dk.partition = -1;
	dk.count = -1;
	dk.kmode = DK_STRING;
	dk.endts = -1;
	while ((ch = getopt_long(argc, argv, "b:c:CD:ef:F:G:hH:JK:lLM:o:p:PQt:VX:Z",
	    longopts, NULL)) != -1) {
		if (ds_common_opt(ch, optarg))
			continue;
		switch (ch) {
		case 'b':
			dk.brokers = optarg;
			break;
		case 'c':
			dk.count = strtonum(optarg, 0, INT64_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "-c %s: %s", optarg, errstr);
			break;
		case 'C':
		case 'L':
		case 'P':
		case 'Q':
			mode = (char)ch;
			break;
		case OPT_LAG:
			mode = 'l';
			break;
		case 'D':
			dk.msgdelim = optarg;
			break;
		case 'e':
			dk.exit_eof = 1;
			break;
		case 'f':
			dk.fmt = optarg;
			break;
		case 'H':
			dk.hdrs = reallocarray(dk.hdrs, dk.nhdrs + 1,
			    sizeof(*dk.hdrs));
			if (dk.hdrs == NULL)
				err(1, NULL);
			dk.hdrs[dk.nhdrs++] = optarg;
			break;
		case 'J':
			dk.json = 1;
			break;
		case 'K':
			dk.keydelim = optarg;
			break;
		case 'l':
			dk.lines = 1;
			break;
		case 'Z':
			dk.nulls = 1;
			break;
		case OPT_TEXT:
			dk.text = 1;
			break;
		case 'F':
			dk_conf_file(&dk, optarg);
			conffile = 1;
			break;
		case 'G':
			dk.group = optarg;
			break;
		case 'h':
			usage(0);
			break;
		case 'M':
			mock = (int)strtonum(optarg, 1, 100, &errstr);
			if (errstr != NULL)
				errx(2, "-M %s: %s", optarg, errstr);
			mode = 'M';
			break;
		case 'o':
			if (strncmp(optarg, "e@", 2) != 0) {
				dk.offset = optarg;
				break;
			}
			dk.endts = strtonum(optarg + 2, 0, INT64_MAX, &errstr);
			if (errstr != NULL)
				errx(2, "-o %s: timestamp %s", optarg, errstr);
			break;
		case 'p':
			dk.partition = (int32_t)strtonum(optarg, 0, INT32_MAX,
			    &errstr);
			if (errstr != NULL)
				errx(2, "-p %s: %s", optarg, errstr);
			break;
		case 't':
			dk.topics = reallocarray(dk.topics, dk.ntopics + 1,
			    sizeof(*dk.topics));
			if (dk.topics == NULL)
				err(1, NULL);
			dk.topics[dk.ntopics++] = optarg;
			break;
		case 'V':
			ds_version();
		case 'X':
			if (strcmp(optarg, "list") == 0) {
				rd_kafka_conf_properties_show(stdout);
				exit(0);
			}
			if (strcmp(optarg, "dump") == 0) {
				dump = 1;
				break;
			}
			if (strchr(optarg, '=') == NULL || *optarg == '=')
				errx(2, "-X %s: expected PROP=VAL", dk_secret(
				    optarg) ? "(secret)" : optarg);
			dk_conf_add(&dk, optarg, NULL);
			if (dk_password(optarg))
				warnx("-X %.*s: the value shows in ps to every "
				    "local user: use -F FILE or DS_KAFKA_X_*",
				    (int)strcspn(optarg, "="), optarg);
			break;
		case OPT_VALUE:
			if (strcmp(optarg, "auto") == 0)
				dk.vmode = DK_AUTO;
			else if (strcmp(optarg, "string") == 0)
				dk.vmode = DK_STRING;
			else if (strcmp(optarg, "json") == 0)
				dk.vmode = DK_JSON;
			else if (strcmp(optarg, "base64") == 0)
				dk.vmode = DK_BASE64;
			else
				errx(2, "--value %s: expected auto, string, "
				    "json or base64", optarg);
			break;
		case OPT_KEY:
			/* keys are text unless asked: json parses them */
			if (strcmp(optarg, "string") == 0)
				dk.kmode = DK_STRING;
			else if (strcmp(optarg, "json") == 0)
				dk.kmode = DK_AUTO;
			else if (strcmp(optarg, "base64") == 0)
				dk.kmode = DK_BASE64;
			else
				errx(2, "--key %s: expected string, json or "
				    "base64", optarg);
			break;
		case OPT_KEYF:
			field(&dk.keyf, "--key-field", optarg);
			break;
		case OPT_VALF:
			field(&dk.valf, "--value-field", optarg);
			break;
		case OPT_PARTF:
			field(&dk.partf, "--partition-field", optarg);
			break;
		case OPT_HDRF:
			field(&dk.hdrf, "--header-field", optarg);
			break;
		case OPT_MAXRATE:
			dk.maxrate = strtonum(optarg, 1, 1000000000, &errstr);
			if (errstr != NULL)
				errx(2, "--max-rate-per-partition %s: %s",
				    optarg, errstr);
			break;
		case OPT_COMMIT:
			if (strcmp(optarg, "auto") == 0)
				dk.commit = DK_COMMIT_AUTO;
			else if (strcmp(optarg, "none") == 0)
				dk.commit = DK_COMMIT_NONE;
			else if (strcmp(optarg, "acks") == 0)
				dk.commit = DK_COMMIT_ACKS;
			else
				errx(2, "--commit %s: expected auto, none or "
				    "acks", optarg);
			break;
		case OPT_ACKS:
			dk.acks = optarg;
			break;
		case OPT_TXN:
			dk.txnid = optarg;
			break;
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;

	if (mode == 'M') {
		if (argc != 0)
			usage(2);
		return dk_mock(&dk, mock);
	}
	if (!conffile)
		dk_conf_default(&dk);
	if (dump) {
		status = dk_conf_dump(&dk);
		goto done;
	}
	if (dk.brokers == NULL && !hasprop(&dk, "bootstrap.servers") &&
	    !hasprop(&dk, "metadata.broker.list")) {
		warnx("-b BROKERS is required");
		usage(2);
	}
	if (argc != 0 && mode != 'P')
		usage(2);
	/* --acks implies ack mode; ack mode needs the path and a group */
	if (dk.acks != NULL && dk.commit == DK_COMMIT_DEFAULT)
		dk.commit = DK_COMMIT_ACKS;
	if (dk.commit == DK_COMMIT_DEFAULT)
		dk.commit = DK_COMMIT_AUTO;
	if (dk.txnid != NULL && mode != 'P')
		errx(2, "--transactional-id is for producing (-P)");
	switch (mode) {
	case 'L':
		status = dk_metadata(&dk);
		break;
	case 'Q':
		if (dk.ntopics == 0) {
			warnx("-Q needs -t TOPIC:PARTITION:TIMESTAMP");
			usage(2);
		}
		status = dk_query(&dk);
		break;
	case 'l':
		if (dk.group == NULL || dk.ntopics == 0) {
			warnx("--lag needs -G GROUP and -t TOPIC");
			usage(2);
		}
		status = dk_lag(&dk);
		break;
	case 'P':
		if (dk.ntopics != 1) {
			warnx("-P needs exactly one -t TOPIC");
			usage(2);
		}
		if (dk.offset != NULL || dk.endts >= 0 || dk.exit_eof ||
		    dk.count >= 0 ||
		    dk.maxrate > 0 || dk.acks != NULL)
			errx(2, "-P: -o, -e, -c, --acks and "
			    "--max-rate-per-partition are for consuming");
		if (dk.group != NULL && dk.txnid == NULL)
			errx(2, "-P: -G needs --transactional-id (the group "
			    "whose offsets each transaction commits)");
		if (dk.fmt != NULL || dk.json)
			errx(2, "-P: -f and -J are for consuming");
		/* kcat's text flags make -P read plain text */
		if (dk.keydelim != NULL || dk.msgdelim != NULL ||
		    dk.lines || dk.nulls)
			dk.text = 1;
		if (dk.text && (dk.keyf.n > 0 || dk.valf.n > 0 ||
		    dk.partf.n > 0 || dk.hdrf.n > 0))
			errx(2, "-P: the --*-field options are for NDJSON "
			    "input, not plain text");
		if (dk.nhdrs > 0 && dk.hdrf.n > 0)
			errx(2, "-P: -H and --header-field cannot be mixed");
		status = dk_produce(&dk, argv, argc);
		break;
	default:
		if (dk.ntopics == 0) {
			warnx("-t TOPIC is required");
			usage(2);
		}
		if (dk.lines || dk.text || dk.nhdrs > 0)
			errx(2, "-l, -H and --text are for producing (-P)");
		if (dk.fmt != NULL && (dk.json || dk.keydelim != NULL ||
		    dk.msgdelim != NULL))
			errx(2, "-f cannot be used with -J, -K or -D");
		/* -K and -D alone stand for a format, as in kcat */
		if (dk.fmt == NULL && (dk.keydelim != NULL ||
		    dk.msgdelim != NULL) && (dk.fmt = fmtkd = dk_format_kd(
		    dk.keydelim, dk.msgdelim)) == NULL)
			err(1, NULL);
		if (dk.commit == DK_COMMIT_ACKS && (dk.acks == NULL ||
		    dk.group == NULL))
			errx(2, "--commit acks needs --acks PATH and -G GROUP");
		if (dk.acks != NULL && dk.commit != DK_COMMIT_ACKS)
			errx(2, "--acks needs --commit acks");
		if (dk.group != NULL && dk.partition >= 0)
			errx(2, "-p cannot be used with -G (the group assigns "
			    "partitions)");
		if (dk.group != NULL && dk.offset != NULL &&
		    strcmp(dk.offset, "beginning") != 0 &&
		    strcmp(dk.offset, "end") != 0 &&
		    strcmp(dk.offset, "stored") != 0)
			errx(2, "-o %s: with -G, -o is beginning, end or "
			    "stored (where a partition without a committed "
			    "offset starts)", dk.offset);
		if (dk.group == NULL && dk.offset != NULL &&
		    strcmp(dk.offset, "stored") == 0 &&
		    !hasprop(&dk, "group.id"))
			errx(2, "-o stored: needs -G GROUP or -X group.id=G "
			    "(whose committed offsets to start from)");
		if (dk.group == NULL)
			for (i = 0; i < dk.ntopics; i++)
				if (dk.topics[i][0] == '^')
					errx(2, "-t %s: regex topics need -G",
					    dk.topics[i]);
		status = dk_consume(&dk);
		break;
	}
done:
	dk_conf_free(&dk);
	free(fmtkd);
	free(dk.hdrs);
	free(dk.topics);
	ds_path_free(&dk.keyf);
	ds_path_free(&dk.valf);
	ds_path_free(&dk.partf);
	ds_path_free(&dk.hdrf);
	return status;
}
