/*
 * shquote.h — quoting text as one word of a POSIX sh command line.
 *
 * The local backend splices parameter values, which may come straight from
 * a webhook request, into a step's shell command.  trig_sh_quote() makes any
 * byte string exactly one word that the shell takes literally: no
 * expansion, no splitting, no globbing, whatever the bytes are.  It decides
 * like Python's shlex.quote(), which valohai-yaml uses, so a command reads
 * locally as on Valohai:
 *
 *   - the empty string becomes ''
 *   - a string made only of  A-Z a-z 0-9 _ @ % + = : , . / -  is left as is
 *   - anything else is wrapped in single quotes, each ' written as '\''
 *     (shlex.quote writes '"'"', which means the same to sh)
 *
 * (Inside single quotes sh gives no character a special meaning, newlines
 * and backslashes included; a single quote cannot be escaped there, so it
 * closes the quotes, is escaped outside them and the quotes reopen.)
 *
 * Thread-safety: pure functions.  Ownership: appends to the caller's
 * buffer; borrows s for the call.
 */
#ifndef TRIG_SHQUOTE_H
#define TRIG_SHQUOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Appends s[0..len) to out as one sh word.  NUL bytes cannot be passed to
 * a program and are not expected here (C strings never hold one). */
void trig_sh_quote(struct buf *out, const char *s, size_t len);
void trig_sh_quotes(struct buf *out, const char *s);

/* True when s[0..len) needs no quotes (see the character list above). */
bool trig_sh_is_safe(const char *s, size_t len);

#endif
