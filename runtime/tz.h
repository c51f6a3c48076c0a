/*
 * tz.h — IANA time zones read from the system's TZif files.
 *
 * A struct trig_tz is loaded from $TZDIR (or /usr/share/zoneinfo) by
 * trig_tz_load(), which reads TZif versions 1 to 4 (RFC 8536, RFC 9636;
 * the 64-bit data of version 2 and later) and the footer's POSIX TZ string
 * (with the RFC 8536 version 3 extensions) for instants after the last
 * transition.  "UTC" always works, even without tzdata installed.  Files
 * with leap-second records ("right/" zones) are refused: trig counts POSIX
 * time.
 *
 * Ownership and threads: a struct trig_tz is immutable once loaded, so one
 * zone may be shared by any number of threads without locking.
 * trig_tz_load() hands the caller a zone to release with trig_tz_free().
 * trig_tz_get() and trig_tz_utc() return zones owned by the library that
 * live until the process exits (never free them); trig_tz_get() is
 * thread-safe (a mutex guards its cache).  Abbreviations and names returned
 * are borrowed from the zone.
 *
 * Instants are unix seconds (int64_t).  Local times are "local seconds":
 * seconds since 1970-01-01T00:00 of the zone's civil clock, i.e. the
 * instant plus the UTC offset in effect.  Arguments beyond ±2^60 s (36
 * billion years) are clamped to that range.
 */
#ifndef TRIG_TZ_H
#define TRIG_TZ_H

#include <stddef.h>
#include <stdint.h>

struct trig_tz;

/*
 * Loads zone NAME, e.g. "Europe/Helsinki".  The name is checked first: it
 * must be non-empty, at most 255 bytes, made of [A-Za-z0-9_+-] components
 * separated by single '/', with no leading '/' and no "." or ".."
 * component.  On failure returns NULL and writes a message into err (when
 * errlen > 0): "unknown time zone 'Europe/Helsinky'", "invalid time zone
 * name '../x'", "time zone file '/usr/share/zoneinfo/X' is corrupt:
 * DETAIL", "cannot read time zone file '...': REASON".
 */
struct trig_tz *trig_tz_load(const char *name, char *err, size_t errlen);

/* The same from a process-wide cache: each name is loaded once (failures
 * are not cached).  The zone lives until exit. */
const struct trig_tz *trig_tz_get(const char *name, char *err, size_t errlen);

/* The built-in UTC zone (also what trig_tz_load("UTC") returns). */
const struct trig_tz *trig_tz_utc(void);

/* Releases a zone from trig_tz_load(); NULL and the built-in UTC zone are
 * ignored. */
void trig_tz_free(struct trig_tz *tz);

/* The name the zone was loaded as. */
const char *trig_tz_name(const struct trig_tz *tz);

/* UTC offset in seconds east at instant utc; *abbrev (when abbrev is not
 * NULL) receives the abbreviation in effect, e.g. "EEST" or "+0545". */
int32_t trig_tz_offset(const struct trig_tz *tz, int64_t utc, const char **abbrev);

enum trig_tz_kind {
	TRIG_TZ_NORMAL,         /* the local time occurs exactly once */
	TRIG_TZ_GAP,            /* skipped by a forward jump of the clock */
	TRIG_TZ_FOLD,           /* occurs twice (or more) */
};

/*
 * The instant when the zone's clock first shows local time `local` or a
 * later one: the unique instant for a normal local time, the earlier one in
 * a fold, and the transition instant (the end of the gap) for a local time
 * skipped by a gap.  This mapping is monotone non-decreasing in `local`.
 * *kind (may be NULL) says which case applied.
 */
int64_t trig_tz_local_to_utc(const struct trig_tz *tz, int64_t local, int *kind);

/*
 * The latest local time the clock has shown at or before instant utc:
 * utc + offset, except just after a backward jump, when it is the last
 * second shown before the jump.  For any local time L,
 * trig_tz_local_to_utc(L) > utc exactly when L > trig_tz_local_reached(utc);
 * the scheduler uses this to never fire one local time twice.
 */
int64_t trig_tz_local_reached(const struct trig_tz *tz, int64_t utc);

/*
 * Parses TZif data DATA of LEN bytes (borrowed) into a new zone named NAME
 * (copied).  On failure returns NULL and writes what is wrong into err,
 * e.g. "bad magic" or "transition times not in ascending order".  Exposed
 * for trig_tz_load(), tests and the fuzzer; real callers use
 * trig_tz_load() or trig_tz_get().
 */
struct trig_tz *trig_tz_parse(const void *data, size_t len, const char *name,
			      char *err, size_t errlen);

#endif
