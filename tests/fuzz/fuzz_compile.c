/*
 * fuzz_compile.c — the whole compiler on hostile definitions: parse (.trig
 * when the first byte is even, YAML when odd), decode, check, and, when
 * the checker accepts the project, lower and emit.  Lowering asserts what
 * the checker promised, so a definition the checker lets through but the
 * later phases cannot handle is a crash here.
 *
 * The input is named as a file in a folder that does not exist, so a
 * relative import finds nothing; decode reads nothing but regular .yaml
 * files, so absolute ones are harmless.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "check.h"
#include "decode.h"
#include "diag.h"
#include "emit.h"
#include "frontend.h"
#include "ir.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	if (size < 1)
		return 0;
	bool dsl = (data[0] & 1) == 0;
	struct sources s;
	struct diag d;
	struct arena a = ARENA_INIT;
	sources_init(&s);
	diag_init(&d, &s);
	uint32_t file = sources_add(&s, dsl ? "/nonexistent/trig-fuzz/f.trig" : "/nonexistent/trig-fuzz/f.yaml",
				    (const char *)data + 1, size - 1);
	struct tree *root = dsl ? dsl_parse(&a, &d, &s, file) : yaml_parse(&a, &d, &s, file);
	struct ast_project ast = { 0 };
	if (root && decode_project(&a, &d, &s, &root, &file, 1, true, &ast) == 0 &&
	    check_project(&a, &d, &s, &ast) == 0) {
		struct ir_project ir;
		char err[256];
		if (lower_project(&a, &s, &ast, "0123456789abcdef", &ir, err, sizeof(err)) == 0) {
			FILE *null = fopen("/dev/null", "w");
			struct emit_options opt = { true, "f.c" };
			if (!null || emit_c(null, &ir, &opt) != 0)
				abort();
			fclose(null);
		}
	}
	/* Printing exercises every message and caret. */
	FILE *null = fopen("/dev/null", "w");
	if (null) {
		diag_print(&d, null, DIAG_TEXT, true);
		diag_print(&d, null, DIAG_SARIF, false);
		fclose(null);
	}
	diag_release(&d);
	sources_release(&s);
	arena_free(&a);
	return 0;
}
