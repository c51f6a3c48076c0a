/*
 * dryrun.h — `check NAME`: judge a request against a trigger and show
 * what it would launch, changing nothing.
 *
 * Each condition is printed with its verdict ("pass" or "FAIL") and, for a
 * failure, the reason; replay and rate-limit are judged against an empty
 * memory (a dry run has none of the server's).  When every condition
 * passes, the actions are printed rendered as they would run, with
 * "l-DRYRUN" as the launch id.  Unlike the server, the dry run names the
 * failing condition and its reason; it never prints a secret.
 */
#ifndef TRIG_DRYRUN_H
#define TRIG_DRYRUN_H

#include <stdio.h>

#include "conditions.h"
#include "request.h"
#include "trig.h"

/* Prints the verdicts to OUT; returns 0 if the request would launch, 1 if
 * not. */
int trig_dry_run(struct trig_guard *g, const struct trig_trigger *t, struct trig_request *r,
		 int64_t now_ms, FILE *out);

#endif
