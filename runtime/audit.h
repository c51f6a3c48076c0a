/*
 * audit.h — the audit log: audit.jsonl in the state folder, one JSON object
 * per line for every request, tick, event and manual fire (SPEC.md §5).
 *
 * Writers append whole lines with one write() on an O_APPEND descriptor, so
 * lines of concurrent writers (server threads, CLI processes) never
 * interleave.  Lines are not synced: durability is the journal's job.
 * Past a size limit the writer that notices rotates the files:
 * audit.jsonl -> audit.jsonl.1 -> ... -> audit.jsonl.KEEP (the oldest is
 * dropped).  Several processes may write and rotate at once: audit.lock is
 * held shared around each write (with a check that audit.jsonl is still the
 * file being written, re-opening it if not) and exclusive around a
 * rotation, so once a rotation is visible no line can still land in the
 * rotated file.  That is what lets a follower switch files without losing
 * lines.
 *
 * Ownership: a trig_audit borrows its struct trig_state (close the audit
 * handle first); lines are borrowed for the call.
 * Thread-safety: trig_audit_write() and trig_audit_set_rotation() may be
 * called from several threads at once; trig_audit_close() must be last.
 * trig_audit_read() uses no shared state and may run in any thread.
 */
#ifndef TRIG_AUDIT_H
#define TRIG_AUDIT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

#define TRIG_AUDIT_MAX_BYTES (64u << 20)
#define TRIG_AUDIT_KEEP 5

struct trig_audit;

/* Opens (creating it) the folder's audit.jsonl for appending.  NULL with a
 * message in err. */
struct trig_audit *trig_audit_open(struct trig_state *st, char *err, size_t errlen);

/* Rotation policy: rotate before a line would take audit.jsonl past
 * max_bytes (default 64 MiB), keeping keep rotated files (default 5).  0
 * leaves a value unchanged.  The limit is soft: writers in other processes
 * that checked the size at the same moment may each add one line past it. */
void trig_audit_set_rotation(struct trig_audit *a, uint64_t max_bytes, unsigned keep);

/* Appends one JSON object (len bytes, no newline or NUL inside: EINVAL)
 * and a newline.  0, or -1 with errno. */
int trig_audit_write(struct trig_audit *a, const char *json, size_t len);

/* NULL is accepted. */
void trig_audit_close(struct trig_audit *a);

/* Receives one line, without its newline but NUL-terminated, borrowed for
 * the call.  A positive return stops trig_audit_read(), which returns it
 * (a negative one is taken as an error). */
typedef int trig_audit_line_fn(const char *line, size_t len, void *ctx);

/* Calls fn for every whole line of the rotated files, oldest first, then of
 * audit.jsonl; a last line without its newline (a writer in the middle of
 * its write) is not delivered.  With follow, then waits (inotify, no
 * polling) for lines appended later, following rotations, until *stop
 * becomes non-zero (stop may be NULL; a signal handler may set it: the
 * wait is interrupted race-free) or fn returns non-zero.  Returns 0, fn's
 * non-zero value, or -1 with errno. */
int trig_audit_read(struct trig_state *st, trig_audit_line_fn *fn, void *ctx, bool follow,
		    volatile sig_atomic_t *stop);

#endif
