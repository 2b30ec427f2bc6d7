/*
 * main.c -- run a harness without libFuzzer: each FILE (or every file
 * in each DIRECTORY) is passed to LLVMFuzzerTestOneInput once.  The
 * plain tier of make test replays the corpora this way.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static void
runfile(const char *path)
{
	FILE *f;
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		exit(1);
	}
	do {
		if (len == cap && (buf = realloc(buf, cap = cap * 2 + 4096)) ==
		    NULL)
			abort();
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	free(buf);
}

int
main(int argc, char *argv[])
{
	struct stat st;
	struct dirent **de;
	char path[4096];
	int i, j, n, runs = 0;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue;	/* libFuzzer flags: ignored */
		if (stat(argv[i], &st) == -1) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			runfile(argv[i]);
			runs++;
			continue;
		}
		if ((n = scandir(argv[i], &de, NULL, alphasort)) == -1) {
			perror(argv[i]);
			return 1;
		}
		for (j = 0; j < n; j++) {
			if (de[j]->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", argv[i],
				    de[j]->d_name);
				runfile(path);
				runs++;
			}
			free(de[j]);
		}
		free(de);
	}
	fprintf(stderr, "%s: %d input(s) ran\n", argv[0], runs);
	return 0;
}
