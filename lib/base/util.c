/*
 * util.c -- durations, sizes, clocks, files and -V, shared by all tools.
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/base.h"

/*
 * Parse a number with a unit suffix from units[] (each with its factor).
 * The bare number takes barefactor.
 */
struct unit {
	const char *name;
	int64_t	 factor;
};

static int
scaled(const char *s, const struct unit *u, int64_t barefactor, int64_t *out)
{
	char *end;
	long long v;
	int64_t f = barefactor;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || v < 0)
		return -1;
	if (*end != '\0') {
		for (; u->name != NULL; u++)
			if (strcmp(end, u->name) == 0)
				break;
		if (u->name == NULL)
			return -1;
		f = u->factor;
	}
	if (f != 0 && v > INT64_MAX / f)
		return -1;
	*out = (int64_t)v * f;
	return 0;
}

int
ds_duration(const char *s, int64_t *ms, int allow_zero)
{
	static const struct unit u[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { NULL, 0 }
	};

	if (scaled(s, u, 1000, ms) == -1)
		return -1;
	if (*ms == 0 && !allow_zero)
		return -1;
	return 0;
}

int
ds_bytesize(const char *s, int64_t *n)
{
	static const struct unit u[] = {
		{ "k", 1024 }, { "K", 1024 }, { "M", 1024 * 1024 },
		{ "G", 1024 * 1024 * 1024 }, { NULL, 0 }
	};

	return scaled(s, u, 1, n);
}

int64_t
ds_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
ds_version(void)
{
	printf("%s %s\n", getprogname(), DS_VERSION);
	exit(0);
}

int
ds_mkdirs(const char *dir)
{
	char *d, *p, c;
	int rc = 0;

	if ((d = strdup(dir)) == NULL)
		return -1;
	for (p = d + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(d, 0700) == -1 && errno != EEXIST)
			rc = -1;
		*p = c;
		if (c == '\0')
			break;
	}
	free(d);
	return rc;
}

int
ds_create(const char *path)
{
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
}

char *
ds_secret_file(const char *path)
{
	struct stat sb;
	char buf[4096], *s;
	ssize_t n;
	size_t len;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) == -1)
		err(2, "%s", path);
	if (sb.st_mode & (S_IRWXG | S_IRWXO))
		warnx("%s: group or others may read it; chmod 600 %s", path,
		    path);
	while ((n = read(fd, buf, sizeof(buf) - 1)) == -1 && errno == EINTR)
		;
	if (n == -1)
		err(2, "%s", path);
	close(fd);
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		len--;
	buf[len] = '\0';
	if (len == 0)
		errx(2, "%s: empty (expected one line)", path);
	if ((s = strdup(buf)) == NULL)
		err(1, NULL);
	explicit_bzero(buf, sizeof(buf));
	return s;
}

int
ds_writeall(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
ds_syncdir(const char *dir)
{
	int dfd, rc;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(dfd);
	close(dfd);
	return rc;
}

int
ds_choice(const char *s, const char *const *names)
{
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}
