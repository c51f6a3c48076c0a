/*
 * secret.h — reading a secret where the definitions say it is.
 *
 * Secrets are never compiled into a program: a struct trig_secret names an
 * environment variable or a file, read when the server starts (and again
 * on SIGHUP).  A file's one trailing newline (LF or CRLF) is dropped, as
 * `echo secret > file` leaves one; a relative path is taken from the
 * working directory.  Messages name the variable or the file, never the
 * value.  The memory holding a secret is wiped when released.
 */
#ifndef TRIG_SECRET_H
#define TRIG_SECRET_H

#include <stddef.h>

#include "buf.h"
#include "trig.h"

/* Reads S into OUT (replacing its contents).  0, or -1 with a message
 * ("environment variable GITHUB_SECRET is not set"). */
int trig_secret_read(const struct trig_secret *s, struct buf *out, char *err, size_t errlen);

/* Wipes and frees a buffer that held a secret. */
void trig_secret_release(struct buf *b);

/* How S is named in messages: "$NAME" or "file 'PATH'". */
const char *trig_secret_describe(const struct trig_secret *s, char *out, size_t outlen);

#endif
