/*
 * ir.h — the lowered project: the runtime's own tables, built in memory.
 *
 * Lowering (lower.c) resolves everything the checker accepted into the
 * structures of <trig.h> — cron fields as bitsets, templates split into
 * pieces, field paths as segments with their slot in the project's path
 * table, references as pointers, defaults filled in — so the emitter only
 * has to print them as C initializers, and what the generated program runs
 * is exactly what was checked.  Beside the tables, the IR keeps what only
 * the emitter needs: where each piece was defined.
 *
 * All memory is in the arena given to lower_project().
 */
#ifndef TRIGC_IR_H
#define TRIGC_IR_H

#include <trig.h>

#include "arena.h"
#include "ast.h"
#include "source.h"

struct ir_project {
	struct trig_project p;          /* pointers into the arena */
	const struct sources *src;
	struct loc *step_loc;           /* [p.nsteps] */
	struct loc *pipeline_loc;       /* [p.npipelines] */
	struct loc *trigger_loc;        /* [p.ntriggers] */
	const char *basedir;            /* absolute folder of the main file */
	/* The DFAs of `matches` filters (dfa.h): C code, and which filter
	 * each function serves.  Empty until dfa_generate() runs. */
	const char *matchers_c;
	const struct trig_cond_filter **matcher_of;     /* [nmatchers]: function i */
	size_t nmatchers;
};

/* DEFS_HASH is stored as the project's definitions hash. */
int lower_project(struct arena *a, const struct sources *s, const struct ast_project *ast,
		  const char *defs_hash, struct ir_project *out, char *err, size_t errlen);

#endif
