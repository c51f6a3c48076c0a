/*
 * diag.h — compiler diagnostics, printed as gcc and clang print them.
 *
 *   nightly.trig:12:9: error: unknown action 'notfy' [unknown-action]
 *      12 |   notfy "ops"
 *         |   ^~~~~
 *
 * Phases report into one struct diag and keep going inside the phase; the
 * driver stops before the next phase when diag_errors() is non-zero and
 * prints everything at the end (text, JSON or SARIF), then the summary
 * line "N errors generated.".  Messages follow git's guidelines: lowercase,
 * no final period, the subject in single quotes, what is wrong first.
 * Every error and warning names its rule (the [rule-id]); a note belongs to
 * the diagnostic before it.
 */
#ifndef TRIGC_DIAG_H
#define TRIGC_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "source.h"

enum diag_level { DIAG_NOTE, DIAG_WARNING, DIAG_ERROR };

struct diag_entry {
	enum diag_level level;
	struct loc loc;
	const char *rule;       /* static string; NULL for notes */
	char *msg;              /* owned */
};

struct diag {
	const struct sources *src;     /* borrowed */
	struct diag_entry *v;
	size_t n, cap;
	unsigned errors, warnings;
	unsigned max_errors;           /* stop recording past this (0 = 1000) */
};

enum diag_format { DIAG_TEXT, DIAG_JSON, DIAG_SARIF };

void diag_init(struct diag *d, const struct sources *src);
void diag_release(struct diag *d);

void diag_error(struct diag *d, struct loc loc, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_warning(struct diag *d, struct loc loc, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_note(struct diag *d, struct loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static inline unsigned diag_errors(const struct diag *d) { return d->errors; }

/* Turns every warning recorded so far into an error (--werror). */
void diag_promote_warnings(struct diag *d);

/* Prints all diagnostics.  COLOR applies to DIAG_TEXT only.  The text form
 * ends with the "N errors generated." summary when there is anything to
 * count. */
void diag_print(const struct diag *d, FILE *out, enum diag_format fmt, bool color);

/* Escapes S as the contents of a JSON string (no quotes) into OUT. */
void diag_json_string(FILE *out, const char *s);

#endif
