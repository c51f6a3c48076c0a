/*
 * metrics.c — counters for /metrics.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *const outcomes[] = {
	"launched", "not-matched", "rejected", "rate-limited", "replayed", "disabled", "skipped",
	"error",
};
#define NOUTCOMES (sizeof(outcomes) / sizeof(outcomes[0]))

/* Upper bounds of the histogram's buckets, in microseconds. */
static const int64_t bounds_us[] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000,
};
#define NBUCKETS (sizeof(bounds_us) / sizeof(bounds_us[0]))

struct per_trigger {
	atomic_uint_fast64_t requests[NOUTCOMES];
	atomic_uint_fast64_t buckets[NBUCKETS + 1];     /* the last is +Inf */
	atomic_uint_fast64_t sum_us;
};

struct trig_metrics {
	const struct trig_project *p;
	struct per_trigger *t;          /* [ntriggers] */
	atomic_uint_fast64_t unrouted;
};

struct trig_metrics *trig_metrics_new(const struct trig_project *p)
{
	struct trig_metrics *m = trig_xcalloc(1, sizeof(*m));
	m->p = p;
	m->t = trig_xcalloc(p->ntriggers ? p->ntriggers : 1, sizeof(*m->t));
	return m;
}

void trig_metrics_free(struct trig_metrics *m)
{
	if (!m)
		return;
	free(m->t);
	free(m);
}

int trig_metrics_outcome(const char *outcome)
{
	for (unsigned i = 0; i < NOUTCOMES; i++)
		if (!strcmp(outcome, outcomes[i]))
			return (int)i;
	return -1;
}

void trig_metrics_request(struct trig_metrics *m, const struct trig_trigger *t, int outcome,
			  int64_t duration_us)
{
	if (!t || outcome < 0) {
		atomic_fetch_add_explicit(&m->unrouted, 1, memory_order_relaxed);
		return;
	}
	struct per_trigger *pt = &m->t[t - m->p->triggers];
	atomic_fetch_add_explicit(&pt->requests[outcome], 1, memory_order_relaxed);
	unsigned b = 0;
	while (b < NBUCKETS && duration_us > bounds_us[b])
		b++;
	atomic_fetch_add_explicit(&pt->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&pt->sum_us, (uint_fast64_t)(duration_us > 0 ? duration_us : 0),
				  memory_order_relaxed);
}

static uint64_t get(atomic_uint_fast64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

void trig_metrics_render(struct trig_metrics *m, struct trig_launcher *l, struct buf *out)
{
	const struct trig_project *p = m->p;
	buf_adds(out, "# HELP trig_up Whether the server is up.\n# TYPE trig_up gauge\ntrig_up 1\n");
	buf_adds(out, "# HELP trig_http_requests_total Webhook requests by trigger and outcome.\n"
		      "# TYPE trig_http_requests_total counter\n");
	for (uint32_t i = 0; i < p->ntriggers; i++) {
		if (!p->triggers[i].webhook)
			continue;
		for (unsigned k = 0; k < NOUTCOMES; k++)
			buf_printf(out, "trig_http_requests_total{trigger=\"%s\",outcome=\"%s\"} %llu\n",
				   p->triggers[i].name, outcomes[k],
				   (unsigned long long)get(&m->t[i].requests[k]));
	}
	buf_adds(out, "# HELP trig_http_request_duration_seconds Time to answer a webhook request.\n"
		      "# TYPE trig_http_request_duration_seconds histogram\n");
	for (uint32_t i = 0; i < p->ntriggers; i++) {
		if (!p->triggers[i].webhook)
			continue;
		const char *name = p->triggers[i].name;
		uint64_t cum = 0;
		for (unsigned b = 0; b <= NBUCKETS; b++) {
			cum += get(&m->t[i].buckets[b]);
			if (b < NBUCKETS)
				buf_printf(out, "trig_http_request_duration_seconds_bucket{trigger=\"%s\","
					   "le=\"%g\"} %llu\n", name, (double)bounds_us[b] / 1e6,
					   (unsigned long long)cum);
			else
				buf_printf(out, "trig_http_request_duration_seconds_bucket{trigger=\"%s\","
					   "le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
		}
		buf_printf(out, "trig_http_request_duration_seconds_sum{trigger=\"%s\"} %.6f\n", name,
			   (double)get(&m->t[i].sum_us) / 1e6);
		buf_printf(out, "trig_http_request_duration_seconds_count{trigger=\"%s\"} %llu\n", name,
			   (unsigned long long)cum);
	}
	buf_printf(out, "# HELP trig_http_unrouted_total Requests for no webhook.\n"
			"# TYPE trig_http_unrouted_total counter\ntrig_http_unrouted_total %llu\n",
		   (unsigned long long)get(&m->unrouted));
	if (l) {
		static const char *const st[] = { "completed", "failed", "error", "stopped" };
		unsigned counts[4];
		trig_launcher_counts(l, counts);
		buf_adds(out, "# HELP trig_executions_total Executions that ended, by status.\n"
			      "# TYPE trig_executions_total counter\n");
		for (int i = 0; i < 4; i++)
			buf_printf(out, "trig_executions_total{status=\"%s\"} %u\n", st[i], counts[i]);
		uint64_t begins, syncs;
		trig_journal_stats(trig_launcher_journal(l), &begins, &syncs);
		buf_printf(out, "# HELP trig_journal_launches_total Launches journalled by this server.\n"
				"# TYPE trig_journal_launches_total counter\n"
				"trig_journal_launches_total %llu\n"
				"# HELP trig_journal_syncs_total fdatasync() calls of the journal (group commit: "
				"one covers every launch written before it).\n"
				"# TYPE trig_journal_syncs_total counter\n"
				"trig_journal_syncs_total %llu\n",
			   (unsigned long long)begins, (unsigned long long)syncs);
	}
}
