/*
 * dryrun.c — the verdicts and rendered actions of `check`.
 */
#include "dryrun.h"

#include <string.h>

#include "buf.h"
#include "launch.h"

struct trace {
	FILE *out;
};

static void on_condition(void *ctx, const struct trig_condition *c, bool passed, const char *reason)
{
	struct trace *tr = ctx;
	fprintf(tr->out, "  %-4s  %s", passed ? "pass" : "FAIL", c->source ? c->source : "?");
	if (!passed && reason && *reason)
		fprintf(tr->out, "\n        %s", reason);
	fputc('\n', tr->out);
}

static void show(FILE *out, const char *label, const char *name, const struct trig_template *t,
		 const struct trig_render_ctx *rc)
{
	if (!t->source)
		return;
	struct buf v = BUF_INIT;
	trig_render(t, rc, TRIG_ESC_NONE, &v);
	fprintf(out, "      %s%s%s = ", label, name ? " " : "", name ? name : "");
	/* One line per value: a newline in it is shown escaped. */
	struct buf q = BUF_INIT;
	buf_json_str(&q, v.data ? v.data : "", v.len);
	fprintf(out, "%s\n", q.data);
	buf_release(&q);
	buf_release(&v);
}

static void show_bindings(FILE *out, const char *label, const struct trig_binding *b, uint32_t n,
			  const struct trig_render_ctx *rc)
{
	for (uint32_t i = 0; i < n; i++)
		show(out, label, b[i].name, &b[i].value, rc);
}

int trig_dry_run(struct trig_guard *g, const struct trig_trigger *t, struct trig_request *r,
		 int64_t now_ms, FILE *out)
{
	struct trace tr = { out };
	struct trig_eval e;
	fprintf(out, "trigger %s: %s %s\n", t->name, r->method, r->target);
	enum trig_verdict v = trig_guard_eval(g, t, r, now_ms, false, &e, on_condition, &tr);
	if (v == TRIG_VERDICT_PASS)
		v = trig_eval_payload(g, t, r, &e);
	if (v != TRIG_VERDICT_PASS) {
		if (!e.failed)
			fprintf(out, "  FAIL  %s\n", e.reason);
		fprintf(out, "%s: nothing would be launched\n", trig_verdict_outcome(v));
		trig_eval_release(&e);
		return 1;
	}
	struct trig_render_ctx rc;
	trig_eval_render_ctx(&e, r, &rc);
	rc.trigger = t->name;
	rc.launch_id = "l-DRYRUN";
	rc.now_ms = now_ms;
	fprintf(out, "would launch:\n");
	for (uint32_t i = 0; i < t->nactions; i++) {
		const struct trig_action *a = &t->actions[i];
		fprintf(out, "  %u. %s", i + 1, trig_action_name(a->kind));
		if (a->step)
			fprintf(out, " %s", a->step->name);
		if (a->pipeline)
			fprintf(out, " %s", a->pipeline->name);
		if (a->kind == TRIG_ACTION_HTTP)
			fprintf(out, " %s", a->method ? a->method : "POST");
		if (a->kind == TRIG_ACTION_RESPOND)
			fprintf(out, " %d", a->status ? a->status : 200);
		fputc('\n', out);
		show(out, "commit", NULL, &a->commit, &rc);
		show(out, "title", NULL, &a->title, &rc);
		show(out, "source", NULL, &a->copy_source, &rc);
		show_bindings(out, "parameter", a->parameters, a->nparameters, &rc);
		show_bindings(out, "input", a->inputs, a->ninputs, &rc);
		show_bindings(out, "environment", a->environment, a->nenvironment, &rc);
		show(out, "url", NULL, &a->url, &rc);
		show_bindings(out, "header", a->headers, a->nheaders, &rc);
		show(out, "body", NULL, &a->body, &rc);
		if (a->payload_input)
			fprintf(out, "      payload-input %s\n", a->payload_input);
	}
	trig_eval_release(&e);
	return 0;
}
