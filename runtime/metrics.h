/*
 * metrics.h — the counters `GET /metrics` shows, in the Prometheus text
 * format (version 0.0.4).
 *
 *   trig_http_requests_total{trigger,outcome}     webhook requests by outcome
 *   trig_http_request_duration_seconds{trigger}    a histogram of the time
 *                                                   from the request's first
 *                                                   byte to the answer
 *   trig_http_unrouted_total                       requests for no webhook
 *                                                   (404s, /healthz, /metrics)
 *   trig_executions_total{status}                  executions that ended
 *   trig_journal_launches_total, _syncs_total       launches journalled and the
 *                                                   fdatasync() calls they took
 *   trig_up                                        1
 *
 * Outcomes are the audit log's: launched, not-matched, rejected,
 * rate-limited, replayed, disabled, error.  Counting is lock-free
 * (relaxed atomics); a scrape reads each counter once, so a histogram's
 * buckets may be a request apart.  Memory is fixed at creation:
 * (outcomes + buckets) per trigger.
 */
#ifndef TRIG_METRICS_H
#define TRIG_METRICS_H

#include <stdint.h>

#include "buf.h"
#include "launch.h"
#include "trig.h"

struct trig_metrics;

struct trig_metrics *trig_metrics_new(const struct trig_project *p);
void trig_metrics_free(struct trig_metrics *m);

/* Index of an audit outcome word, or -1. */
int trig_metrics_outcome(const char *outcome);

/* One webhook request of trigger T (NULL: unrouted) that took DURATION_US. */
void trig_metrics_request(struct trig_metrics *m, const struct trig_trigger *t, int outcome,
			  int64_t duration_us);

/* Appends the exposition text; L (may be NULL) gives the execution counts. */
void trig_metrics_render(struct trig_metrics *m, struct trig_launcher *l, struct buf *out);

#endif
