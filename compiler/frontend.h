/*
 * frontend.h — the two front ends: .trig (re2c + bison) and YAML (libyaml).
 *
 * Both read one loaded source file and return its document tree (tree.h),
 * shaped like the YAML form of SPEC.md §2, or NULL after reporting at least
 * one error into D.  Positions in the tree are exact line:column spans into
 * the file.  The tree lives in arena A.
 */
#ifndef TRIGC_FRONTEND_H
#define TRIGC_FRONTEND_H

#include <stdint.h>

#include "arena.h"
#include "diag.h"
#include "source.h"
#include "tree.h"

struct tree *dsl_parse(struct arena *a, struct diag *d, const struct sources *s, uint32_t file);
struct tree *yaml_parse(struct arena *a, struct diag *d, const struct sources *s, uint32_t file);

/*
 * The formatters: print a document tree that decoded without errors as
 * canonical .trig or YAML text.  Comments are not kept.  Both are
 * canonical: formatting the output again gives the same bytes, and
 * fmt_yaml(yaml_parse(fmt_trig(t))) == fmt_yaml(t), and the other way
 * round.  Scalar quoting depends only on a scalar's text (and the REGEX
 * style), never on how the source quoted it.
 */
void fmt_trig(FILE *out, const struct tree *root);
void fmt_yaml(FILE *out, const struct tree *root);

#endif
