/*
 * test_scheduler.c — next fire times of schedule triggers, and the
 * scheduler thread: ticks fire, disabled triggers are audited, 10,000 idle
 * schedules start and stop at once (runtime/scheduler.c).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "audit.h"
#include "cron.h"
#include "journal.h"
#include "launch.h"
#include "local.h"
#include "log.h"
#include "scheduler.h"
#include "state.h"
#include "timeutil.h"

static struct trig_trigger make_cron(const char *name, const char *expr, const char *tz,
				     struct trig_schedule *s)
{
	struct trig_cron_error err;
	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(trig_cron_parse(expr, &s->cron, &err), 0);
	s->spec = expr;
	s->timezone = tz;
	return (struct trig_trigger){ .name = name, .kind = TRIG_KIND_SCHEDULE, .enabled = true,
				      .schedule = s };
}

START_TEST(next_times)
{
	struct trig_schedule s;
	char err[256];
	int64_t t0;
	ck_assert_int_eq(trig_parse_rfc3339("2026-03-28T00:00:00Z", &t0), 0);
	struct trig_trigger t = make_cron("a", "30 3 * * *", "Europe/Helsinki", &s);
	int64_t n = trig_sched_next(&t, t0, 0, err, sizeof(err));
	int64_t want;
	trig_parse_rfc3339("2026-03-28T01:30:00Z", &want);
	ck_assert_int_eq(n, want);
	n = trig_sched_next(&t, n, 0, err, sizeof(err));
	trig_parse_rfc3339("2026-03-29T01:00:00Z", &want);     /* the gap's end */
	ck_assert_int_eq(n, want);
	/* Strictly after: a time within the fire second is past it. */
	ck_assert_int_gt(trig_sched_next(&t, want + 999, 0, err, sizeof(err)), want);

	t = make_cron("b", "0 0 * * *", "Mars/Olympus", &s);
	ck_assert_int_eq(trig_sched_next(&t, t0, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "Mars/Olympus"));

	/* every: anchored; the first tick is one period after the anchor. */
	struct trig_schedule e = { .spec = "every 90s", .every_ms = 90000, .timezone = "UTC" };
	struct trig_trigger te = { .name = "e", .kind = TRIG_KIND_SCHEDULE, .schedule = &e };
	ck_assert_int_eq(trig_sched_next(&te, 1000, 1000, err, sizeof(err)), 91000);
	ck_assert_int_eq(trig_sched_next(&te, 90999, 1000, err, sizeof(err)), 91000);
	ck_assert_int_eq(trig_sched_next(&te, 91000, 1000, err, sizeof(err)), 181000);
	ck_assert_int_eq(trig_sched_next(&te, 0, 1000, err, sizeof(err)), 1000);
}
END_TEST

/* ------------------------------------------------------------ the thread */

static char dir[256];

static void make_dir(void)
{
	unit_temp_dir(dir, sizeof(dir), "sched");
	trig_log_setup("test", TRIG_LOG_ERROR, false);
}

static void remove_dir(void)
{
	unit_remove_tree(dir);
}

struct env {
	struct trig_state *st;
	struct trig_journal *j;
	struct trig_audit *audit;
	struct trig_local *local;
	struct trig_launcher *l;
};

static void env_open(struct env *e, const struct trig_project *p)
{
	char err[512], sdir[300], execdir[400];
	snprintf(sdir, sizeof(sdir), "%s/state", dir);
	snprintf(execdir, sizeof(execdir), "%s/executions", sdir);
	e->st = trig_state_open(sdir, TRIG_STATE_SERVER, err, sizeof(err));
	ck_assert_msg(e->st != NULL, "%s", err);
	e->j = trig_journal_open(e->st, err, sizeof(err));
	e->audit = trig_audit_open(e->st, err, sizeof(err));
	struct trig_local_config lc = { .executions_dir = execdir, .workdir = dir, .max_parallel = 2 };
	e->local = trig_local_new(&lc, err, sizeof(err));
	ck_assert_msg(e->local != NULL, "%s", err);
	struct trig_launcher_config cfg = { .project = p, .journal = e->j, .audit = e->audit,
					    .local = e->local };
	e->l = trig_launcher_new(&cfg);
}

static void env_close(struct env *e)
{
	trig_local_stop(e->local, 5000);
	trig_launcher_wait(e->l);
	trig_launcher_free(e->l);
	trig_journal_close(e->j);
	trig_audit_close(e->audit);
	trig_state_close(e->st);
}

static unsigned count_in_audit(const char *needle)
{
	char path[400];
	snprintf(path, sizeof(path), "%s/state/audit.jsonl", dir);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[4096];
	unsigned n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static const struct trig_step noop = { .name = "noop", .command = "true" };
static const struct trig_action run_noop[] = { { .kind = TRIG_ACTION_RUN_EXECUTION, .step = &noop } };

START_TEST(ticks_fire)
{
	static const struct trig_schedule every = { .spec = "every 1s", .every_ms = 1000, .timezone = "UTC" };
	static const struct trig_trigger t[] = {
		{ .name = "on", .kind = TRIG_KIND_SCHEDULE, .enabled = true, .schedule = &every,
		  .actions = run_noop, .nactions = 1 },
		{ .name = "off", .kind = TRIG_KIND_SCHEDULE, .enabled = false, .schedule = &every,
		  .actions = run_noop, .nactions = 1 },
	};
	const struct trig_project p = { .abi = TRIG_ABI, .name = "p", .steps = &noop, .nsteps = 1,
					.triggers = t, .ntriggers = 2 };
	struct env e;
	env_open(&e, &p);
	char err[256];
	struct trig_sched *s = trig_sched_start(&p, e.st, e.l, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	usleep(2600 * 1000);
	trig_sched_stop(s);
	unsigned on = count_in_audit("\"trigger\":\"on\",\"kind\":\"schedule\",\"outcome\":\"launched\"");
	unsigned off = count_in_audit("\"trigger\":\"off\",\"kind\":\"schedule\",\"outcome\":\"disabled\"");
	ck_assert_uint_ge(on, 2);
	ck_assert_uint_le(on, 3);
	ck_assert_uint_ge(off + 1, on);         /* a stop may fall between the two */
	ck_assert_uint_le(off, on);
	ck_assert_uint_eq(count_in_audit("\"trigger\":\"off\",\"kind\":\"schedule\",\"outcome\":\"launched\""), 0);
	/* The ticks were recorded for catch-up. */
	ck_assert_int_ne(trig_state_last_tick(e.st, "on"), INT64_MIN);
	env_close(&e);
}
END_TEST

START_TEST(many_idle_schedules)
{
	enum { N = 10000 };
	static const char *const zones[] = { "UTC", "Europe/Helsinki", "America/New_York", "Asia/Tokyo" };
	struct trig_schedule *sc = calloc(N, sizeof(*sc));
	struct trig_trigger *t = calloc(N, sizeof(*t));
	char (*names)[16] = calloc(N, sizeof(*names));
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "t%d", i);
		t[i] = make_cron(names[i], "0 0 1 1 *", zones[i % 4], &sc[i]);
		t[i].actions = run_noop;
		t[i].nactions = 1;
	}
	const struct trig_project p = { .abi = TRIG_ABI, .name = "p", .steps = &noop, .nsteps = 1,
					.triggers = t, .ntriggers = N };
	struct env e;
	env_open(&e, &p);
	char err[256];
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct trig_sched *s = trig_sched_start(&p, e.st, e.l, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	clock_t cpu0 = clock();
	usleep(500 * 1000);
	/* Idle: the thread sleeps until January; no CPU is spent. */
	ck_assert_int_lt(clock() - cpu0, CLOCKS_PER_SEC / 50);
	trig_sched_stop(s);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ck_assert_int_lt((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000, 5000);
	ck_assert_uint_eq(count_in_audit("\"outcome\""), 0);
	env_close(&e);
	free(sc);
	free(t);
	free(names);
}
END_TEST

static Suite *scheduler_suite(void)
{
	Suite *s = suite_create("scheduler");
	TCase *tc = tcase_create("next");
	tcase_add_test(tc, next_times);
	suite_add_tcase(s, tc);
	tc = tcase_create("thread");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, make_dir, remove_dir);
	tcase_add_test(tc, ticks_fire);
	tcase_add_test(tc, many_idle_schedules);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(scheduler_suite)
