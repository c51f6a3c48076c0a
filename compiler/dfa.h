/*
 * dfa.h — the `matches` filters of a project as DFAs, generated at build
 * time by re2c.
 *
 * dfa_generate() translates every `matches` regular expression of the
 * project (regex.h) into one re2c rule, writes them as functions
 *
 *     static bool trig_match_N(const char *s, size_t len);
 *
 * into a .re file, runs re2c on it (`$RE2C`, else `re2c` from PATH; no
 * shell, no timestamps, so two builds are byte-identical) and keeps the C
 * it produces in ir->matchers_c, with ir->matcher_of[N] naming the filter
 * function N serves.  The emitter puts the code before the tables and
 * points each filter's `match` at its function.  A project without
 * `matches` filters needs no re2c.
 */
#ifndef TRIGC_DFA_H
#define TRIGC_DFA_H

#include <stddef.h>

#include "arena.h"
#include "ir.h"

/* 0, or -1 with a message (re2c missing or failing, a regular expression
 * the checker should have refused). */
int dfa_generate(struct arena *a, struct ir_project *ir, char *err, size_t errlen);

#endif
