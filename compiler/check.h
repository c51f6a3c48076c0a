/*
 * check.h — the semantic checks of a project: every lint rule.
 *
 * Runs on a decoded AST (decode.h) and reports into the diagnostics; it
 * changes nothing.  The rule ids are part of trigc's interface (users
 * filter on them, `trigc lint --format json` prints them) and each has a
 * golden test in tests/compile/.  docs/lint.md lists them all.
 */
#ifndef TRIGC_CHECK_H
#define TRIGC_CHECK_H

#include "arena.h"
#include "ast.h"
#include "diag.h"

/* Returns the number of errors it reported. */
unsigned check_project(struct arena *a, struct diag *d, const struct sources *s,
		       const struct ast_project *p);

/* A position inside a scalar: OFF bytes into its text, LEN long, when the
 * front end could map it exactly; the whole scalar otherwise. */
struct loc check_loc_in(const struct ast_str *s, uint32_t off, uint32_t len);

#endif
