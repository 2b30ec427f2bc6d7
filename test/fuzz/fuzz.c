/*
 * fuzz.c -- err(3) that returns to the harness, input splitting and
 * scratch directories, for the harnesses of test/fuzz.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

jmp_buf	 fz_jmp;
int	 fz_armed;
int	 fz_exitcode;

static char fzdir[64];		/* fz_dir's, removed at exit */

static void
say(int witherr, const char *fmt, va_list ap)
{
	int saved = errno;

	if (getenv("FUZZ_VERBOSE") == NULL)
		return;
	fputs("fuzz: ", stderr);
	if (fmt != NULL)
		vfprintf(stderr, fmt, ap);
	if (witherr)
		fprintf(stderr, "%s%s", fmt != NULL ? ": " : "",
		    strerror(saved));
	fputc('\n', stderr);
}

static void __attribute__((noreturn))
leave(int status)
{
	if (!fz_armed) {
		fprintf(stderr, "fuzz: exit(%d) outside FZ_TRY\n", status);
		abort();
	}
	fz_armed = 0;
	fz_exitcode = status;
	longjmp(fz_jmp, 1);
}

void
vwarn(const char *fmt, va_list ap)
{
	say(1, fmt, ap);
}

void
vwarnx(const char *fmt, va_list ap)
{
	say(0, fmt, ap);
}

void
warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(1, fmt, ap);
	va_end(ap);
}

void
warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(0, fmt, ap);
	va_end(ap);
}

void
verr(int status, const char *fmt, va_list ap)
{
	say(1, fmt, ap);
	leave(status);
}

void
verrx(int status, const char *fmt, va_list ap)
{
	say(0, fmt, ap);
	leave(status);
}

void
err(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(1, fmt, ap);
	va_end(ap);
	leave(status);
}

void
errx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(0, fmt, ap);
	va_end(ap);
	leave(status);
}

void
fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz: oracle: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

static char *
copy(const char *p, size_t n)
{
	char *s;

	if ((s = malloc(n + 1)) == NULL)
		abort();
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

int
fz_split(const uint8_t *data, size_t size, char **part, size_t *len, int n)
{
	static const char sep[] = "\n--\n";
	const char *p = (const char *)data, *e = p + size, *s;
	int k, found = 0;

	for (k = 0; k < n; k++) {
		s = NULL;
		if (k + 1 < n && p != NULL)
			s = memmem(p, e - p, sep, sizeof(sep) - 1);
		if (p == NULL)
			len[k] = 0;
		else {
			len[k] = (s != NULL ? s : e) - p;
			found++;
		}
		part[k] = copy(p != NULL ? p : "", len[k]);
		p = s != NULL ? s + sizeof(sep) - 1 : NULL;
	}
	return found;
}

void
fz_free(char **part, int n)
{
	while (n-- > 0)
		free(part[n]);
}

static void
fz_rmdir(void)
{
	fz_dir();
	rmdir(fzdir);
}

const char *
fz_dir(void)
{
	char *dir = fzdir;
	char path[512];
	DIR *d;
	struct dirent *de;

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(fzdir), "%s/dsfuzz.XXXXXX",
		    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(fz_rmdir);
	}
	/* empty it: the harnesses make plain files only */
	if ((d = opendir(dir)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	return dir;
}

void
fz_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    (n > 0 && write(fd, p, n) != (ssize_t)n))
		abort();
	close(fd);
}

void
fz_quiet_stdout(void)
{
	static int done;
	int fd;

	if (done++)
		return;
	if ((fd = open("/dev/null", O_WRONLY)) == -1 ||
	    dup2(fd, STDOUT_FILENO) == -1)
		abort();
	close(fd);
}
