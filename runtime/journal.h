/*
 * journal.h — launches accepted but not yet finished.
 *
 * SPEC.md §5: a launch is journalled, and the record synced, before the
 * user is told it was accepted (a webhook's 2xx, `fire` returning); a
 * server that starts again after a crash re-queues every launch that has a
 * "begin" record and no "end".  Records are opaque JSON texts made by the
 * caller, keyed by the launch id.
 *
 * Layout.  Each process that opens a journal appends to its own segment,
 * journal/<UTC start time>-<pid>.log, so a CLI `fire` and the server never
 * write to the same file; the writer holds an flock() on its segment for
 * as long as it is open.  A record is one line, written with one write():
 *
 *     <crc32c> <type> <time> <id> <json>\n
 *
 *   crc32c  8 lowercase hex digits: CRC-32C (Castagnoli, as iSCSI, ext4
 *           and LevelDB use) of every byte after "<crc32c> " up to the
 *           newline.  It comes first and covers one contiguous range, so
 *           the type is protected too (a flipped bit cannot turn a begin
 *           into an end) and a line is verified before it is interpreted.
 *   type    begin | update | end
 *   time    microseconds since the epoch when the record was written
 *           (never decreasing within a segment): orders the launches of
 *           several segments (the server's, each `fire`'s) on recovery
 *   id      the launch id: 1..128 visible ASCII characters, no blank
 *   json    the caller's record: at least one byte, no newline, no NUL
 *
 * Crash safety.
 * - trig_journal_begin() returns only after write() and fdatasync() of its
 *   record succeeded; fdatasync() also makes the file's new size durable.
 *   The segment's directory entry (and journal/'s own) was fsynced when the
 *   segment was created, before any record could be acknowledged.  So a
 *   begin that returned 0 survives a crash of the process or the machine.
 * - A segment has exactly one writer and only grows at its end, so a crash
 *   can damage only its tail, and only records that were not yet synced:
 *   an update or end (the launch then looks pending, or less advanced, and
 *   runs again: delivery is at least once), or a begin whose call had not
 *   returned (never acknowledged).  Recovery ignores such a torn last
 *   record (no newline, or a bad checksum on the last line) silently.
 * - A failed write is cut off again with ftruncate(); if fdatasync() or
 *   that ftruncate() fails, the journal refuses every later record (after
 *   a failed fsync the kernel may have dropped the dirty pages, and a
 *   second fsync could report success for data that is gone).
 * - Recovery first writes a new segment with the pending begins (and each
 *   one's last update) and fdatasyncs it, and only then removes the old
 *   segments; a crash in between leaves the same begin twice, which the
 *   next recovery counts once.  A damaged segment is moved to
 *   journal/corrupt/, never deleted.
 * - Segments still locked by a live process (a running `fire`) are left
 *   alone: their launches belong to that process; their end records still
 *   count.  A segment is created, then locked, then checked to be still
 *   linked, so recovery can never remove a segment that is being written.
 *
 * Ownership: a journal borrows its struct trig_state (close the journal
 * first); records and ids are borrowed for the call.
 * Thread-safety: begin/update/end may be called from several threads at
 * once (appends are serialised by a mutex).  Group commit (many concurrent
 * begins sharing one fdatasync) can be added inside journal.c's append
 * function without changing this interface.
 */
#ifndef TRIG_JOURNAL_H
#define TRIG_JOURNAL_H

#include <stddef.h>

#include "state.h"

#define TRIG_JOURNAL_ID_MAX 128

struct trig_journal;

/* Creates this process's segment.  NULL with a message in err. */
struct trig_journal *trig_journal_open(struct trig_state *st, char *err, size_t errlen);

/* Appends a begin record and makes it durable before returning 0.  -1 with
 * errno: EINVAL for a bad id or record (empty, newline or NUL inside),
 * else the I/O error (the launch must then not be acknowledged). */
int trig_journal_begin(struct trig_journal *j, const char *id, const char *record, size_t len);

/* Appends a progress record (e.g. an execution started); not synced. */
int trig_journal_update(struct trig_journal *j, const char *id, const char *record, size_t len);

/* Appends the record of a finished launch (any outcome); not synced. */
int trig_journal_end(struct trig_journal *j, const char *id, const char *record, size_t len);

/* Begin records appended and fdatasync() calls made, since open (group
 * commit makes syncs / begins well below 1 under load). */
void trig_journal_stats(struct trig_journal *j, uint64_t *begins, uint64_t *syncs);

/* Syncs what was appended (a clean shutdown's ends), then closes the
 * segment.  NULL is accepted. */
void trig_journal_close(struct trig_journal *j);

/* Called once per pending launch.  The strings are NUL-terminated and
 * borrowed for the call only; update is the launch's last update record,
 * or NULL if it has none. */
typedef void trig_journal_pending_fn(const char *id, const char *begin, const char *update,
				     void *ctx);

/* Server start only (st opened with TRIG_STATE_SERVER, else EPERM).
 * Reads every segment not held by a live process, verifies each record's
 * checksum, writes one new synced segment holding the launches with a
 * begin and no end (begin, then last update), removes the old segments,
 * and then calls fn for each of those launches in begin order.
 * Returns 0 when everything was clean; N > 0 when N segments had damaged
 * records before their end: every intact record of them was still used,
 * the segments were moved to journal/corrupt/, and err says so (the
 * caller should log it; a damaged begin is a launch that may be lost, a
 * damaged end one that may run twice).  -1 with a message in err on
 * failure: then fn was not called, no launch was lost (a segment is
 * removed only once its pending launches are durable in the new one), and
 * recovery may simply be tried again. */
int trig_journal_recover(struct trig_state *st, trig_journal_pending_fn *fn, void *ctx,
			 char *err, size_t errlen);

#endif
