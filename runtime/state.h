/*
 * state.h — the durable state of one project: enable/disable overrides and
 * schedule bookkeeping, and the handle that the journal (journal.h) and the
 * audit log (audit.h) hang off.
 *
 * SPEC.md §6: everything that replicas of a server would have to share sits
 * behind this small interface.  Its default (and for now only)
 * implementation is a folder, by default ./.trig-state; nothing in the
 * interface below talks about files, so a Redis-backed implementation
 * (`--state redis://...`) can replace it later.  The folder holds:
 *
 *     VERSION          format version of the folder ("1")
 *     server.lock      flock()ed by the one server using the folder; holds its pid
 *     overrides        "NAME enabled|disabled" lines, replaced atomically
 *     overrides.lock   serialises read-modify-write of overrides across processes
 *     ticks            append-only "NAME UNIXSECONDS" lines, compacted by the server
 *     journal/         launches accepted but not finished (journal.h)
 *     audit.jsonl[.N]  the audit log (audit.h); audit.lock guards its rotation
 *     executions/ID/   one folder per execution of the local backend (local.h)
 *     corrupt/         damaged files moved aside (never deleted)
 *
 * Ownership: trig_state_open() returns a handle that the caller owns and
 * frees with trig_state_close(), after closing every journal and audit
 * handle made from it.  Strings passed in are borrowed for the call only.
 *
 * Thread-safety: every function may be called from any thread at once,
 * except trig_state_close(), which must be the last call on the handle.
 * Several processes may open the same folder; at most one of them with
 * TRIG_STATE_SERVER.  Every descriptor is opened close-on-exec, so step
 * commands started by the local backend never inherit a lock.
 *
 * Errors: functions returning int return 0 on success and -1 with errno set
 * on failure, unless stated otherwise; trig_state_open() writes a complete
 * message (lowercase, naming the folder) into err.
 */
#ifndef TRIG_STATE_H
#define TRIG_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRIG_STATE_FORMAT 1             /* what VERSION holds */
#define TRIG_STATE_DEFAULT_DIR ".trig-state"

enum {
	/* The serving process: takes the folder's exclusive lock (a second
	 * server fails with "state folder 'X' is in use by another server
	 * (pid N)"), compacts the ticks log, may recover the journal. */
	TRIG_STATE_SERVER = 1u << 0,
	/* Do not create a missing folder (read-only commands such as `logs`):
	 * fail with "state folder 'X' does not exist". */
	TRIG_STATE_EXISTING = 1u << 1,
};

struct trig_state;

/* Opens (creating it, mode 0700 with its parents, unless TRIG_STATE_EXISTING)
 * the state folder DIR.  Refuses a folder that is not readable and writable,
 * holds another format version, is not empty yet has no VERSION file, or
 * has a malformed overrides file (refused rather than guessed at: a lost
 * "disabled" would start a trigger someone stopped).  NULL on failure, with
 * a message in err (errlen may be 0). */
struct trig_state *trig_state_open(const char *dir, unsigned flags, char *err, size_t errlen);

/* Releases the lock (if any) and frees the handle.  NULL is accepted. */
void trig_state_close(struct trig_state *st);

/* The folder as it was passed to trig_state_open(), for messages. */
const char *trig_state_dir(const struct trig_state *st);

/* ---------------------------------------------------------- overrides */

/* Persists an override of a trigger's `enabled` (trigger names are the
 * DSL's [a-z][a-z0-9-]*; anything with blanks or control characters is
 * refused with EINVAL).  Durable when it returns: the whole table is
 * rewritten to a temporary file, fsynced, renamed over the old one and the
 * folder fsynced.  Concurrent writers in other processes are serialised. */
int trig_state_set_enabled(struct trig_state *st, const char *trigger, bool enabled);

/* Removes the override: the trigger is back to its definition's default. */
int trig_state_clear_enabled(struct trig_state *st, const char *trigger);

/* 1 if TRIGGER is enabled, 0 if not: the override if there is one, else
 * dflt.  Cheap enough for every request or tick: the table is re-read only
 * when the file's identity (inode, size, mtime) changed, or while its mtime
 * is too recent to be trusted (git's "racily clean" rule), so a change made
 * by another process (`disable NAME`) is seen at the next call.  If the
 * file becomes unreadable or malformed, the last good table stays in use
 * and a warning is logged once. */
int trig_state_enabled(struct trig_state *st, const char *trigger, int dflt);

/* ---------------------------------------------------------- schedule */

/* Unix seconds of the last tick recorded for TRIGGER, or INT64_MIN when
 * none is known.  Reflects the ticks log as it was when the folder was
 * opened plus the ticks this handle recorded since. */
int64_t trig_state_last_tick(struct trig_state *st, const char *trigger);

/* Records that TRIGGER fired the tick at unix second TICK (ignored if not
 * later than the last one known).  Appended to the ticks log with one
 * write(), not synced: the journal record of the launch carries the tick
 * too, and recovery takes the later of the two.  Meant for the process
 * that runs the scheduler (the server). */
int trig_state_record_tick(struct trig_state *st, const char *trigger, int64_t tick);

/* ---------------------------------------------------------- for journal.c and audit.c
 * The file-backed modules built on this handle use these; nothing else
 * should (a Redis implementation would not have them). */

/* A descriptor of the folder, owned by the handle (do not close it). */
int trig_state_dirfd(const struct trig_state *st);

/* The folder's absolute path (for inotify), owned by the handle. */
const char *trig_state_abspath(const struct trig_state *st);

/* Whether the handle was opened with TRIG_STATE_SERVER (holds the lock). */
bool trig_state_is_server(const struct trig_state *st);

/* A name for a moved-aside or new file: the current UTC time as
 * "20261126T020000.123456Z" (sorts by time), written into out. */
void trig_state_stamp(char *out, size_t outlen);

#endif
