/*
 * timeutil.h — calendar arithmetic, RFC 3339 timestamps, durations and
 * sizes.
 *
 * Pure functions over the proleptic Gregorian calendar (Howard Hinnant's
 * days_from_civil / civil_from_days, public domain algorithms); shared by
 * the compiler (checking `every: 1h30m`, `max-body: 1MiB`, `--after`
 * times) and the runtime (the scheduler, the `timestamp` condition, log
 * lines).  Nothing here allocates or keeps state: every function is
 * thread-safe.  Output buffers are borrowed from the caller.
 *
 * Day numbers count days since 1970-01-01 (day 0); unix_ms counts
 * milliseconds since 1970-01-01T00:00:00Z without leap seconds (POSIX
 * time).  Years and day numbers outside ±2^40 are clamped to that range
 * (far beyond any date that matters; this only keeps the arithmetic
 * defined for any input).
 */
#ifndef TRIG_TIMEUTIL_H
#define TRIG_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of the date y-m-d (m 1..12, d 1..31; a day past
 * the month's end counts on into the next month). */
int64_t trig_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The date of day number `days`. */
void trig_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/* Day of the week of day number `days`: 0 = Sunday .. 6 = Saturday. */
unsigned trig_weekday(int64_t days);

/* 28..31; 0 when m is not 1..12. */
unsigned trig_days_in_month(int64_t y, unsigned m);

/* Current time (CLOCK_REALTIME) in unix milliseconds. */
int64_t trig_now_ms(void);

/* "YYYY-MM-DDTHH:MM:SS.fffZ" plus NUL fits in this. */
#define TRIG_RFC3339_MAX 32

/*
 * Writes unix_ms as RFC 3339 UTC: frac_digits 0 gives
 * "2026-01-02T00:00:00Z", 3 gives "2026-01-02T00:00:00.004Z" (1 and 2 give
 * tenths and hundredths; the fraction is truncated, never rounded up;
 * values above 3 count as 3).  Returns the length written.  Years outside
 * 0..9999 cannot be written: buf becomes "" and 0 is returned.
 */
size_t trig_format_rfc3339(char buf[TRIG_RFC3339_MAX], int64_t unix_ms, int frac_digits);

/*
 * Parses a strict RFC 3339 date-time: "YYYY-MM-DD" then 'T', 't' or one
 * space, "hh:mm:ss", an optional fraction ('.' and 1 or more digits; digits
 * past milliseconds are truncated), then 'Z', 'z' or "+hh:mm" / "-hh:mm".
 * Also accepted: a bare date "YYYY-MM-DD", meaning midnight UTC of that
 * day.  Fields are range-checked (month 1-12, day within the month, hour
 * < 24, minute < 60, offset hours < 24).  A leap second (ss = 60) is
 * accepted only where one can occur, at 23:59:60 UTC once the offset is
 * applied, and reads as 23:59:59 with its fraction (POSIX time has no leap
 * seconds; the instant stays inside its UTC day).  Returns 0 and sets
 * *unix_ms, or -1 (and leaves *unix_ms alone).
 */
int trig_parse_rfc3339(const char *s, int64_t *unix_ms);

/*
 * Parses a duration: one or more NUMBER UNIT parts with no spaces, units
 * d h m s ms (days are 24 h), each unit at most once and in that order,
 * e.g. "500ms", "30s", "1h30m", "2d12h".  Integers only; no sign, no
 * empty string, no bare number.  Returns 0 and sets *ms, or -1 on a syntax
 * error or when the total does not fit in int64_t milliseconds.
 */
int trig_parse_duration(const char *s, int64_t *ms);

/*
 * Writes ms in the canonical form trig_parse_duration reads back to the
 * same value: largest units first, zero parts left out ("1m30s" for
 * 90000, "1h" for 3600000, "1s500ms", "0s" for zero; a negative value gets
 * a leading '-', which the parser does not accept).  Returns the length of
 * the full text, as snprintf does; writes at most n bytes including the
 * NUL (nothing when n == 0).  32 bytes always suffice.
 */
size_t trig_format_duration(char *buf, size_t n, int64_t ms);

/*
 * Parses a size in bytes: a plain integer ("1048576") optionally followed,
 * without space, by a unit: B; KiB MiB GiB TiB (powers of 1024); KB (or
 * kB) MB GB TB (powers of 1000).  Units are case-sensitive.  Returns 0 and
 * sets *bytes, or -1 on a syntax error or overflow of uint64_t.
 */
int trig_parse_size(const char *s, uint64_t *bytes);

#endif
