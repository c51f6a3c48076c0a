/*
 * decode.h — from document trees to the typed AST, through the schema.
 *
 * The schema (decode.c) knows every key of the YAML form of SPEC.md §2 and
 * its type.  Decoding reports, for both languages alike: unknown keys,
 * conditions and actions (with a "did you mean" when one is close),
 * duplicate keys, values of the wrong type or shape, missing required keys,
 * and a trigger that is not exactly one of schedule/webhook/notification.
 * Semantic checks (references, cron, time zones, templates, ...) are the
 * checker's (check.h).
 *
 * `import:` files (valohai.yaml) are loaded here, relative to the folder of
 * the file that names them; their steps and pipelines join the project.
 * Valohai's own keys that trig does not use (image, environment, ...) are
 * accepted there and ignored.
 */
#ifndef TRIGC_DECODE_H
#define TRIGC_DECODE_H

#include "arena.h"
#include "ast.h"
#include "diag.h"
#include "source.h"
#include "tree.h"

/* Decodes the trees of one project's files (roots[i] read from files[i])
 * into *out, which must be zeroed.  NEED_PROJECT: report a project without
 * a name (false for `fmt`, which formats one file of a project at a time).
 * Returns 0, or -1 when it reported errors (the AST is then incomplete but
 * safe to free). */
int decode_project(struct arena *a, struct diag *d, struct sources *s,
		   struct tree *const *roots, const uint32_t *files, size_t n,
		   bool need_project, struct ast_project *out);

/* The closest of CANDIDATES (NULL-ended) to WORD, or NULL when none is
 * close enough to suggest. */
const char *decode_suggest(const char *word, const char *const *candidates);

/* Reads a NAME-shaped scalar rule: [a-z][a-z0-9-]*, at most 64 bytes. */
bool decode_valid_name(const char *s);

#endif
