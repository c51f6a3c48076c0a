/*
 * conditions.h — judging a request against a trigger's conditions.
 *
 * A struct trig_guard holds what the conditions of a project need at run
 * time: the secrets (read from the environment or files when the guard is
 * made, and again by trig_guard_reload on SIGHUP), HMAC keys, JWT keys,
 * compiled regular expressions, and the replay and rate-limit memories.
 *
 * trig_guard_eval() runs a trigger's conditions in the order of the table
 * (the compiler puts authentication — token, hmac, jwt, timestamp,
 * ip-allow — first, so nothing reads the payload of an unauthenticated
 * request) and stops at the first that fails:
 *
 *   verdict        when                                    HTTP (SPEC.md §4)
 *   PASS           every condition passed                  202 / respond
 *   NOT_MATCHED    a filter (or group) did not match       not-matched-status (200)
 *   REJECTED       token, hmac, jwt, timestamp, ip-allow   rejected-status (401)
 *   BAD_REQUEST    the payload or form is needed, invalid  400
 *   REPLAYED       replay: the id was seen in the window   409
 *   RATE_LIMITED   rate-limit: no budget left              429 + Retry-After
 *
 * Replay and rate-limit count launches, not requests: they are judged
 * after every other condition passed (and, for a trigger that has them,
 * after the payload its templates need was parsed), and recorded (the id
 * remembered, the budget spent) only then, atomically for the trigger,
 * when COMMIT is set.  `check` evaluates with COMMIT unset and changes
 * nothing.  A BAD_REQUEST verdict (an invalid payload or form, an empty
 * replay id) may come with `failed` NULL when no one condition is at
 * fault.
 *
 * Values in reasons: a filter's reason quotes the value it saw (64 bytes
 * at most) for payload, event, claim and remote.ip fields, never for
 * header, query and form fields, which may carry credentials.  A JSON
 * null is present, and reads as the text "null".
 *
 * The payload is the JSON body — or, for an application/x-www-form-
 * urlencoded request with a `payload` field, that field, as GitHub sends
 * it with its form content type — parsed
 * once, when a condition or a template first needs it, with every path of
 * the project's table extracted in the same pass.  A verified JWT's claims
 * are extracted the same way.  The reason of a failure names what was
 * wrong, never a secret, a signature or a token.
 *
 * Thread-safety: eval may run on many threads at once; reload may run
 * concurrently with them (requests see the old or the new secrets).
 */
#ifndef TRIG_CONDITIONS_H
#define TRIG_CONDITIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"
#include "render.h"
#include "request.h"
#include "trig.h"

struct trig_guard;

/* Reads every secret and builds every key of P's conditions.  NULL with a
 * message in err (naming the secret's variable or file, never its value). */
struct trig_guard *trig_guard_new(const struct trig_project *p, const struct trig_json_query *paths,
				  char *err, size_t errlen);
void trig_guard_free(struct trig_guard *g);

/* Re-reads the secrets (key rotation).  On error nothing changes. */
int trig_guard_reload(struct trig_guard *g, char *err, size_t errlen);

enum trig_verdict {
	TRIG_VERDICT_PASS,
	TRIG_VERDICT_NOT_MATCHED,
	TRIG_VERDICT_REJECTED,
	TRIG_VERDICT_BAD_REQUEST,
	TRIG_VERDICT_REPLAYED,
	TRIG_VERDICT_RATE_LIMITED,
};

/* The audit log's outcome for a verdict: "launched", "not-matched", ... */
const char *trig_verdict_outcome(enum trig_verdict v);

struct trig_eval {
	enum trig_verdict verdict;
	const struct trig_condition *failed;    /* the condition that failed, or NULL */
	char reason[256];
	int64_t retry_after_s;                  /* RATE_LIMITED */
	/* For the templates of the actions: the payload and claim values. */
	const char *payload;                    /* the JSON document, or NULL */
	size_t payload_len;
	struct trig_json_value *paths;          /* [npaths]: from the payload */
	struct trig_json_value *claims;         /* [npaths]: from the JWT, or NULL */
	unsigned npaths;
	int payload_state;                      /* 0 not parsed, 1 parsed, -1 invalid */
	bool empty_id;                          /* a replay id rendered empty */
	struct buf claims_doc;
	struct buf form_payload;
	struct trig_eval_undo {                 /* what a commit recorded */
		uint32_t cond;
		char *key;
		size_t len;
		int64_t step_us;                /* rate-limit: the budget spent */
	} *undo;
	size_t nundo;
	int64_t now_ms;                         /* the time it was judged at */
};

/* Called for each condition evaluated (check's dry run). */
typedef void trig_eval_trace_fn(void *ctx, const struct trig_condition *c, bool passed,
				const char *reason);

/* Judges R against T's conditions at NOW_MS.  Fills *E (release it with
 * trig_eval_release).  Returns E->verdict. */
enum trig_verdict trig_guard_eval(struct trig_guard *g, const struct trig_trigger *t,
				  struct trig_request *r, int64_t now_ms, bool commit,
				  struct trig_eval *e, trig_eval_trace_fn *trace, void *trace_ctx);

/* Gives back what a committed evaluation recorded (the replay id, the
 * budget spent) when its launch could not be accepted after all. */
void trig_guard_undo(struct trig_guard *g, const struct trig_trigger *t, struct trig_eval *e);

/* Parses the payload if the trigger's templates need it and no condition
 * did; BAD_REQUEST when it is invalid (e->reason says why), else PASS. */
enum trig_verdict trig_eval_payload(struct trig_guard *g, const struct trig_trigger *t,
				    struct trig_request *r, struct trig_eval *e);

/* A render context over the request and the extracted values. */
void trig_eval_render_ctx(const struct trig_eval *e, struct trig_request *r,
			  struct trig_render_ctx *rc);

void trig_eval_release(struct trig_eval *e);

#endif
