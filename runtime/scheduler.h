/*
 * scheduler.h — the scheduler: fires schedule triggers at their times.
 *
 * One thread keeps every schedule trigger in a min-heap by its next fire
 * time and sleeps until the earliest (pthread_cond_timedwait on the
 * realtime clock, which follows clock changes): no polling, so 10,000 idle
 * schedules cost no CPU.  At a tick it checks the trigger's enabled state
 * (the state folder's override, so `disable NAME` takes effect at once),
 * `overlap: skip`, then launches (launch.h) and records the tick.
 *
 * Times: cron schedules follow their time zone (cron.h, tz.h); `every: D`
 * counts from the scheduler's start.  If the process was not running at a
 * tick (downtime), `catch-up: once` fires one launch at start for the
 * missed ticks (the latest of them), `catch-up: none` skips them; the last
 * tick fired is kept in the state folder across restarts.  A tick that
 * comes late while the process runs (the machine was suspended, the clock
 * jumped forward) fires once on waking whatever `catch-up` says, like a
 * cron daemon's clock-jump handling: one launch, stamped with that tick,
 * stands for every tick missed meanwhile.
 *
 * Thread-safety: start and stop from one thread; everything else is inside.
 */
#ifndef TRIG_SCHEDULER_H
#define TRIG_SCHEDULER_H

#include <stdint.h>

#include "launch.h"
#include "state.h"
#include "trig.h"

struct trig_sched;

/* Starts the scheduler thread.  NULL with a message in err (a time zone
 * that cannot be loaded). */
struct trig_sched *trig_sched_start(const struct trig_project *p, struct trig_state *st,
				    struct trig_launcher *l, char *err, size_t errlen);

/* Stops the thread (a tick being fired finishes first) and frees. */
void trig_sched_stop(struct trig_sched *s);

/* The next fire time of a schedule trigger strictly after AFTER_MS (unix
 * ms), for `every` counted from ANCHOR_MS; INT64_MAX when it never fires;
 * -1 with a message in err when its time zone cannot be loaded. */
int64_t trig_sched_next(const struct trig_trigger *t, int64_t after_ms, int64_t anchor_ms,
			char *err, size_t errlen);

#endif
