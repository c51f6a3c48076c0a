/*
 * cron.h — cron expressions: parsing into struct trig_cron (trig.h), the
 * "can it ever fire" check, and the next fire time in a time zone.
 *
 * The compiler parses and checks expressions (lint errors point at the bad
 * field through trig_cron_error's byte span) and emits the bitsets; the
 * runtime's scheduler only calls trig_cron_next().  Syntax is Vixie cron /
 * cronie's: five fields (minute hour day-of-month month day-of-week)
 * separated by spaces or tabs; each a comma list of `*`, `N`, `N-M`,
 * `*\/S`, `N-M/S` and `N/S` (N up to the field's maximum, step S); month
 * names jan..dec and day names sun..sat in any case, also in ranges
 * (mon-fri); 7 is Sunday too; and the macros @yearly @annually @monthly
 * @weekly @daily @midnight @hourly.  Day matching follows Vixie cron: when
 * the day-of-month or the day-of-week field begins with '*' (including
 * "*\/N") both day fields must match; otherwise a day matches if either
 * does.
 *
 * Everything here is a pure function of its arguments: thread-safe, no
 * allocation.  Pointers are borrowed for the duration of the call.
 */
#ifndef TRIG_CRON_H
#define TRIG_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "trig.h"
#include "tz.h"

/* Where a parse error is: a byte span of the input, and what is wrong
 * ("minute '61' is out of range 0-59"). */
struct trig_cron_error {
	unsigned offset, len;
	char msg[160];
};

/*
 * Parses EXPR into *out.  Returns 0, or -1 with *err (when err is not
 * NULL) describing the first problem; *out is then left unchanged.  Steps
 * must be 1 up to the field's maximum (59, 23, 31, 12, 7); ranges must not
 * be backwards ("5-2"; cronie refuses them too); "@reboot" is refused, as
 * trig has no boot-time schedule.
 */
int trig_cron_parse(const char *expr, struct trig_cron *out, struct trig_cron_error *err);

/*
 * False iff no minute can ever match: no date exists for the day fields
 * ("0 0 30 2 *", "0 0 31 4,6,9,11 *"; Feb 29 counts), or under the AND
 * rule no such date ever falls on an allowed weekday in the 400-year
 * Gregorian cycle, or a field is empty.
 */
bool trig_cron_can_fire(const struct trig_cron *c);

/*
 * Parses "HH:MM" (24-hour clock, 1 or 2 hour digits: "2:00" is fine) for
 * the daily / weekdays / monthly sugar.  0 or -1 with *err (offsets into
 * HHMM).
 */
int trig_cron_at(const char *hhmm, unsigned *hour, unsigned *minute,
		 struct trig_cron_error *err);

#define TRIG_CRON_NEVER INT64_MAX

/*
 * The first fire time strictly after `after` (unix seconds) of C evaluated
 * on TZ's civil clock (NULL = UTC), or TRIG_CRON_NEVER when none falls
 * within 400 years (the calendar's period, so: never).  The result is a
 * minute boundary of the local clock.  A local time skipped by a DST gap
 * fires once, at the end of the gap (the transition instant; several
 * skipped times fire together, once); a local time that occurs twice fires
 * once, at its first occurrence, and the repeated stretch fires nothing.
 * Calling it again with the previous result as `after` lists every fire
 * time exactly once.  `after` beyond ±2^55 s gives NEVER (above) or is
 * clamped (below).
 */
int64_t trig_cron_next(const struct trig_cron *c, const struct trig_tz *tz, int64_t after);

#endif
