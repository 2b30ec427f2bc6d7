/*
 * cov.c -- edge counts of a ds-map built with clang's
 * -fsanitize-coverage=trace-pc-guard (make jqdiff), for the coverage
 * guidance of test/jq/jqdiff.py.  Each instrumented edge counts, up to
 * 255, in one byte of the file named by $DS_JQCOV, mapped shared, so
 * that what a run reached is there even when it crashed or was killed.
 * Without $DS_JQCOV nothing is recorded.
 */
#include <sys/mman.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

void	__sanitizer_cov_trace_pc_guard_init(uint32_t *, uint32_t *);
void	__sanitizer_cov_trace_pc_guard(uint32_t *);

static unsigned char *counts;

void
__sanitizer_cov_trace_pc_guard_init(uint32_t *start, uint32_t *stop)
{
	static uint32_t nedges;
	const char *path;
	uint32_t *g;
	int fd;

	if (start == stop || *start != 0)
		return;
	for (g = start; g < stop; g++)
		*g = ++nedges;
	if ((path = getenv("DS_JQCOV")) == NULL ||
	    (fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
		return;
	if (ftruncate(fd, nedges + 1) == 0) {
		counts = mmap(NULL, nedges + 1, PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
		if (counts == MAP_FAILED)
			counts = NULL;
	}
	close(fd);
}

void
__sanitizer_cov_trace_pc_guard(uint32_t *guard)
{
	if (counts != NULL && counts[*guard] < 255)
		counts[*guard]++;
}
