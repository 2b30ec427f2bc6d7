/*
 * fz-jqparse -- the jq-subset lexer and parser (lib/jq/lex.c, parse.c):
 * any bytes as a program compile or are refused with a message, never
 * crash.
 */
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const vars[] = { "v", "x" };
	struct ds_expr *x;
	char err[256], *src;

	if ((src = malloc(size + 1)) == NULL)
		abort();
	memcpy(src, data, size);
	src[size] = '\0';
	err[0] = '\0';
	if ((x = ds_expr_compile(src, vars, 2, err, sizeof(err))) != NULL)
		ds_expr_free(x);
	else if (err[0] == '\0')
		fz_fail("compile failed without a message");
	free(src);
	return 0;
}
