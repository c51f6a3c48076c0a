/*
 * nextfire.c — how long trig_cron_next() takes, in nanoseconds per call.
 *
 * The scheduler asks for the next fire time of every schedule trigger (it
 * is sized for 10,000 of them).  This runs a mix of expressions in UTC,
 * Europe/Helsinki and America/New_York, with `after` stepping through the
 * year 2026 in uneven strides (so every month, both DST changes and the
 * folds are visited and nothing stays in a cache by accident), and prints
 * one line per case and the mean over all cases:
 *
 *     build/bench/nextfire [CALLS_PER_CASE]      (default 200000)
 *
 * The zones come from the system tzdata (TZDIR or /usr/share/zoneinfo),
 * loaded once through trig_tz_get(), as the scheduler does.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cron.h"
#include "timeutil.h"
#include "tz.h"

static const char *const exprs[] = {
	"* * * * *", "0 * * * *", "0 2 * * *", "*/15 9-17 * * 1-5", "0 0 1 * *",
	"0 0 29 2 *", "0 12 1,15 * mon", "30 3 * * *",
};
static const char *const zones[] = { "UTC", "Europe/Helsinki", "America/New_York" };

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long calls = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
	if (calls < 1) {
		fprintf(stderr, "usage: %s [CALLS_PER_CASE]\n", argv[0]);
		return 2;
	}
	const int64_t year_start = INT64_C(1767225600);      /* 2026-01-01T00:00:00Z */
	const int64_t year = INT64_C(365) * 86400;
	/* a stride coprime with the year's length in seconds */
	const int64_t stride = year / calls + 7919;
	double sum = 0;
	int ncases = 0;
	uint64_t check = 0;

	printf("%-20s %-18s %10s\n", "expression", "zone", "ns/call");
	for (size_t z = 0; z < sizeof(zones) / sizeof(zones[0]); z++) {
		char err[256];
		const struct trig_tz *tz = trig_tz_get(zones[z], err, sizeof(err));
		if (!tz) {
			fprintf(stderr, "nextfire: %s\n", err);
			return 1;
		}
		for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
			struct trig_cron c;
			struct trig_cron_error cerr;
			if (trig_cron_parse(exprs[e], &c, &cerr) != 0) {
				fprintf(stderr, "nextfire: '%s': %s\n", exprs[e], cerr.msg);
				return 1;
			}
			int64_t after = year_start;
			/* warm up */
			for (int i = 0; i < 1000; i++)
				check += (uint64_t)trig_cron_next(&c, tz, year_start + i * 3607);
			int64_t t0 = now_ns();
			for (long i = 0; i < calls; i++) {
				int64_t n = trig_cron_next(&c, tz, after);
				check += (uint64_t)n;
				after += stride;
				if (after >= year_start + year)
					after -= year;
			}
			double ns = (double)(now_ns() - t0) / (double)calls;
			printf("%-20s %-18s %10.1f\n", exprs[e], zones[z], ns);
			sum += ns;
			ncases++;
		}
	}
	printf("%-20s %-18s %10.1f\n", "mean", "", sum / ncases);
	/* keeps the calls from being optimised away */
	fprintf(stderr, "checksum %016" PRIx64 "\n", check);
	return 0;
}
