/*
 * emit.h — the C emitter: prints the IR as one C file.
 *
 * The file is readable and reproducible: a banner, no dates, no absolute
 * paths of the sources, names derived from trigger names, a banner per
 * trigger naming where it was defined, and `#line` directives into the
 * definitions before each trigger's tables and back after.  It includes
 * only <trig.h> and compiles warning-free with the project's warning set.
 */
#ifndef TRIGC_EMIT_H
#define TRIGC_EMIT_H

#include <stdbool.h>
#include <stdio.h>

#include "ir.h"

struct emit_options {
	bool line_directives;   /* #line into the definitions (--no-line: off) */
	const char *c_name;     /* the emitted file's name, for the #line back */
};

/* Writes the C file to OUT; returns 0, or -1 on a write error. */
int emit_c(FILE *out, const struct ir_project *ir, const struct emit_options *opt);

#endif
