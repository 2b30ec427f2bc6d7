/*
 * fuzz.h -- what the harnesses in test/fuzz share (fuzz.c).  Each
 * harness is one fz-NAME.c defining LLVMFuzzerTestOneInput; it links
 * with libFuzzer (make fuzz, the asan tier of make test) or with main.c,
 * a driver that runs the files it is given once each (the plain tier).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The tools end on a usage or data error with err(3)/errx(3).  fuzz.c
 * replaces those: inside FZ_TRY they jump back to the harness (an exit
 * is a valid outcome there), elsewhere they abort, which the fuzzer
 * reports.  warn(3)/warnx(3) are silent unless FUZZ_VERBOSE is set.
 */
extern jmp_buf	 fz_jmp;
extern int	 fz_armed;
extern int	 fz_exitcode;	/* the status err/errx would have exited with */
#define FZ_TRY	(fz_armed = 1, setjmp(fz_jmp) == 0)
#define FZ_END	(fz_armed = 0)

/*
 * Split the input at "\n--\n" into n parts, each a NUL-terminated
 * copy ("" when the input has fewer), freed with fz_free.  Returns the
 * number of parts the input had.
 */
int	 fz_split(const uint8_t *data, size_t size, char **part, size_t *len,
	    int n);
void	 fz_free(char **part, int n);

/* A fresh empty directory for this input (under /dev/shm when there). */
const char *fz_dir(void);
/* Write p[0..n) as DIR/NAME (0600). */
void	 fz_file(const char *dir, const char *name, const void *p, size_t n);
/* Send stdout to /dev/null, once (the tools' ds_out writes there). */
void	 fz_quiet_stdout(void);

/* Fail loudly: a differential oracle disagreed (abort, with the why). */
void	 fz_fail(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#endif
