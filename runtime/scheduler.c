/*
 * scheduler.c — the scheduler thread and its min-heap of next fire times.
 */
#include "scheduler.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cron.h"
#include "log.h"
#include "timeutil.h"
#include "tz.h"

struct entry {
	int64_t next_ms;                /* INT64_MAX: never */
	uint32_t trigger;               /* index in the project */
};

struct trig_sched {
	const struct trig_project *p;
	struct trig_state *st;
	struct trig_launcher *l;
	const struct trig_tz **tz;      /* per trigger (schedules only) */
	int64_t anchor_ms;              /* `every` counts from here */
	struct entry *heap;
	size_t n;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stop;
};

/* ------------------------------------------------------------ next times */

static int64_t next_of(const struct trig_trigger *t, const struct trig_tz *tz, int64_t after_ms,
		       int64_t anchor_ms)
{
	const struct trig_schedule *s = t->schedule;
	if (s->every_ms > 0) {
		if (after_ms < anchor_ms)
			return anchor_ms;
		int64_t k = (after_ms - anchor_ms) / s->every_ms + 1;
		if (k > (INT64_MAX - anchor_ms) / s->every_ms)
			return INT64_MAX;
		return anchor_ms + k * s->every_ms;
	}
	/* Cron works in whole seconds; "strictly after" a time within a second
	 * means after its second. */
	int64_t after_s = after_ms >= 0 ? after_ms / 1000 : -((-after_ms + 999) / 1000);
	int64_t n = trig_cron_next(&s->cron, tz, after_s);
	return n == TRIG_CRON_NEVER ? INT64_MAX : n * 1000;
}

int64_t trig_sched_next(const struct trig_trigger *t, int64_t after_ms, int64_t anchor_ms,
			char *err, size_t errlen)
{
	const struct trig_tz *tz = NULL;
	if (!t->schedule->every_ms) {
		tz = trig_tz_get(t->schedule->timezone, err, errlen);
		if (!tz)
			return -1;
	}
	return next_of(t, tz, after_ms, anchor_ms);
}

/* ------------------------------------------------------------ heap */

static bool before(const struct entry *a, const struct entry *b)
{
	return a->next_ms < b->next_ms || (a->next_ms == b->next_ms && a->trigger < b->trigger);
}

static void heap_up(struct trig_sched *s, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!before(&s->heap[i], &s->heap[parent]))
			break;
		struct entry tmp = s->heap[i];
		s->heap[i] = s->heap[parent];
		s->heap[parent] = tmp;
		i = parent;
	}
}

static void heap_down(struct trig_sched *s, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->n && before(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->n && before(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			break;
		struct entry tmp = s->heap[i];
		s->heap[i] = s->heap[m];
		s->heap[m] = tmp;
		i = m;
	}
}

static void heap_push(struct trig_sched *s, struct entry e)
{
	s->heap[s->n++] = e;
	heap_up(s, s->n - 1);
}

static struct entry heap_pop(struct trig_sched *s)
{
	struct entry top = s->heap[0];
	s->heap[0] = s->heap[--s->n];
	heap_down(s, 0);
	return top;
}

/* ------------------------------------------------------------ ticks */

static void fire(struct trig_sched *s, const struct trig_trigger *t, int64_t tick_ms, bool catch_up)
{
	int64_t started = trig_monotonic_us();
	int64_t tick = tick_ms / 1000;
	if (!trig_state_enabled(s->st, t->name, t->enabled)) {
		trig_launcher_audit(s->l, t, TRIG_LAUNCH_SCHEDULE, "disabled", tick, NULL, NULL, started);
	} else if (t->schedule->overlap == TRIG_OVERLAP_SKIP && trig_launcher_running(s->l, t) > 0) {
		trig_launcher_audit(s->l, t, TRIG_LAUNCH_SCHEDULE, "not-matched", tick, "overlap",
				    "the previous launch is still running", started);
	} else {
		struct trig_launch_req req = {
			.trigger = t, .kind = TRIG_LAUNCH_SCHEDULE, .tick = tick, .started_us = started,
		};
		struct trig_launch_info info;
		char err[256];
		int rc = trig_launch(s->l, &req, &info, err, sizeof(err));
		if (rc > 0)
			trig_info("trigger '%s': tick skipped: %s", t->name, err);
		else if (rc < 0)
			trig_error("trigger '%s': tick not launched: %s", t->name, err);
		else if (catch_up)
			trig_info("trigger '%s': caught up a missed tick as launch %s", t->name, info.id);
		else
			trig_info("trigger '%s': launch %s", t->name, info.id);
	}
	if (trig_state_record_tick(s->st, t->name, tick) != 0)
		trig_warn("cannot record the tick of trigger '%s': %s", t->name, strerror(errno));
}

/* The latest tick after LAST_MS and at or before NOW_MS, or INT64_MIN.
 * Looks back over widening windows, so a frequent schedule is found in the
 * last minute rather than walked tick by tick from a year-old LAST_MS. */
static int64_t latest_missed(struct trig_sched *s, uint32_t i, int64_t last_ms, int64_t now_ms)
{
	static const int64_t windows_s[] = {
		60, 3600, 86400, 7 * 86400, 32 * 86400, 367 * 86400, 401LL * 366 * 86400,
	};
	const struct trig_trigger *t = &s->p->triggers[i];
	if (t->schedule->every_ms > 0)
		return last_ms + t->schedule->every_ms <= now_ms ? now_ms : INT64_MIN;
	for (size_t w = 0; w < sizeof(windows_s) / sizeof(windows_s[0]); w++) {
		int64_t from = now_ms - windows_s[w] * 1000;
		if (from < last_ms)
			from = last_ms;
		int64_t n = next_of(t, s->tz[i], from, 0);
		if (n <= now_ms) {
			for (;;) {
				int64_t m = next_of(t, s->tz[i], n, 0);
				if (m > now_ms)
					return n;
				n = m;
			}
		}
		if (from == last_ms)
			break;
	}
	return INT64_MIN;
}

static void *sched_main(void *arg)
{
	struct trig_sched *s = arg;
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		if (s->n == 0 || s->heap[0].next_ms == INT64_MAX) {
			pthread_cond_wait(&s->wake, &s->mu);
			continue;
		}
		int64_t due = s->heap[0].next_ms, now = trig_now_ms();
		if (now < due) {
			struct timespec ts = { due / 1000, (long)(due % 1000) * 1000000 };
			pthread_cond_timedwait(&s->wake, &s->mu, &ts);
			continue;
		}
		struct entry e = heap_pop(s);
		pthread_mutex_unlock(&s->mu);

		const struct trig_trigger *t = &s->p->triggers[e.trigger];
		fire(s, t, e.next_ms, false);
		/* Ticks that passed while this one was late (a suspended machine)
		 * are skipped: one launch stands for them all. */
		int64_t after = e.next_ms;
		now = trig_now_ms();
		int64_t next = next_of(t, s->tz[e.trigger], after, s->anchor_ms);
		if (next <= now)
			next = next_of(t, s->tz[e.trigger], now, s->anchor_ms);
		e.next_ms = next;

		pthread_mutex_lock(&s->mu);
		heap_push(s, e);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

struct trig_sched *trig_sched_start(const struct trig_project *p, struct trig_state *st,
				    struct trig_launcher *l, char *err, size_t errlen)
{
	struct trig_sched *s = trig_xcalloc(1, sizeof(*s));
	s->p = p;
	s->st = st;
	s->l = l;
	s->tz = trig_xcalloc(p->ntriggers ? p->ntriggers : 1, sizeof(*s->tz));
	s->heap = trig_xcalloc(p->ntriggers ? p->ntriggers : 1, sizeof(*s->heap));
	s->anchor_ms = trig_now_ms();
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->wake, NULL);

	int64_t now = s->anchor_ms;
	for (uint32_t i = 0; i < p->ntriggers; i++) {
		const struct trig_trigger *t = &p->triggers[i];
		if (t->kind != TRIG_KIND_SCHEDULE)
			continue;
		if (!t->schedule->every_ms) {
			s->tz[i] = trig_tz_get(t->schedule->timezone, err, errlen);
			if (!s->tz[i]) {
				pthread_mutex_destroy(&s->mu);
				pthread_cond_destroy(&s->wake);
				free(s->tz);
				free(s->heap);
				free(s);
				return NULL;
			}
		}
		/* Downtime: catch up one missed tick, or skip them. */
		int64_t last = trig_state_last_tick(st, t->name);
		if (last != INT64_MIN && t->schedule->catch_up == TRIG_CATCH_UP_ONCE) {
			int64_t missed = latest_missed(s, i, last * 1000, now);
			if (missed != INT64_MIN)
				fire(s, t, missed, true);
		}
		heap_push(s, (struct entry){ next_of(t, s->tz[i], now, s->anchor_ms), i });
	}
	int e = pthread_create(&s->thread, NULL, sched_main, s);
	if (e) {
		snprintf(err, errlen, "cannot start the scheduler: %s", strerror(e));
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->wake);
		free(s->tz);
		free(s->heap);
		free(s);
		return NULL;
	}
	return s;
}

void trig_sched_stop(struct trig_sched *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->wake);
	free(s->tz);
	free(s->heap);
	free(s);
}
