/*
 * lower.c — from the checked AST to the runtime's tables (ir.h).
 *
 * Runs only on a project the checker accepted, so it asserts rather than
 * reports: anything it cannot resolve is a bug in the checker.  Defaults
 * are filled in here (one place), e.g. a webhook's path /webhooks/NAME,
 * methods [POST], max-body 1MiB.
 */
#include "ir.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "cron.h"
#include "timeutil.h"
#include "tmpl.h"

struct low {
	struct arena *a;
	const struct ast_project *ast;
	struct ir_project *ir;
	struct trig_field *paths;
	size_t npaths, cappaths;
	const struct ast_trigger *t;    /* the trigger being lowered */
	bool reads_action, reads_result;        /* the current action's templates read
						   actions.*, and fields other than id */
};

/* ------------------------------------------------------------ fields */

/* The same path, whatever its root: payload.a.b, event.a.b and claim.a.b
 * share one slot of the table (the runtime extracts each document with
 * the whole table, so slot N is path N in every document). */
static bool same_segs(const struct trig_field *a, const struct trig_field *b)
{
	if (a->nsegs != b->nsegs)
		return false;
	for (size_t i = 0; i < a->nsegs; i++) {
		const struct trig_path_seg *x = &a->segs[i], *y = &b->segs[i];
		if (x->index != y->index || !x->key != !y->key ||
		    (x->key && strcmp(x->key, y->key) != 0))
			return false;
	}
	return true;
}

/* The slot of a payload/claim/event path in the project's path table:
 * one per path, however it is spelled (a.b\.c and a["b.c"] are one) and
 * whichever document it is read from. */
static uint16_t path_slot(struct low *l, const struct trig_field *f)
{
	for (size_t i = 0; i < l->npaths; i++)
		if (same_segs(&l->paths[i], f))
			return (uint16_t)i;
	assert(l->npaths < UINT16_MAX);
	struct trig_field *slot = ARENA_PUSH(l->a, l->paths, l->npaths, l->cappaths);
	*slot = *f;
	slot->path_id = (uint16_t)(l->npaths - 1);
	return slot->path_id;
}

/* The index of the action of the current trigger named NAME: the checker
 * made sure there is exactly one. */
static uint16_t action_index(struct low *l, const char *name)
{
	for (size_t i = 0; i < l->t->nactions; i++) {
		const char *n = ast_action_name(&l->t->actions[i]);
		if (n && strcmp(n, name) == 0)
			return (uint16_t)i;
	}
	assert(!"unknown action after checking");
	return 0;
}

static struct trig_field lower_field(struct low *l, const struct fieldref *r)
{
	struct trig_field f = { 0 };
	f.root = r->root;
	f.text = r->text;
	f.name = r->name;
	if (r->root == TRIG_ROOT_ACTION) {
		/* name: "id", "metadata.KEY"...; segs: metadata's KEY path */
		f.action = action_index(l, r->segs[0].key);
		if (r->nsegs > 2) {
			f.segs = r->segs + 2;
			f.nsegs = (uint16_t)(r->nsegs - 2);
		}
		l->reads_action = true;
		if (strcmp(f.name, "id") != 0)
			l->reads_result = true;
		return f;
	}
	if (r->root == TRIG_ROOT_PAYLOAD || r->root == TRIG_ROOT_CLAIM || r->root == TRIG_ROOT_EVENT) {
		f.segs = r->segs;
		f.nsegs = (uint16_t)r->nsegs;
		f.path_id = path_slot(l, &f);
	}
	return f;
}

static struct trig_template lower_tmpl(struct low *l, const char *s)
{
	struct trig_template t = { 0 };
	if (!s)
		return t;
	struct tmpl parsed;
	struct tmpl_error err;
	int rc = tmpl_parse(l->a, s, &parsed, &err);
	assert(rc == 0);
	(void)rc;
	struct trig_piece *pieces = arena_alloc(l->a, (parsed.n ? parsed.n : 1) * sizeof(*pieces));
	for (size_t i = 0; i < parsed.n; i++) {
		if (parsed.v[i].is_field) {
			pieces[i].kind = TRIG_PIECE_FIELD;
			pieces[i].field = lower_field(l, &parsed.v[i].field);
		} else {
			pieces[i].kind = TRIG_PIECE_TEXT;
			pieces[i].text = parsed.v[i].text;
			pieces[i].len = (uint32_t)parsed.v[i].len;
		}
	}
	t.source = s;
	t.pieces = pieces;
	t.npieces = (uint32_t)parsed.n;
	return t;
}

static const struct trig_binding *lower_bindings(struct low *l, const struct ast_bindings *b,
						 uint32_t *n)
{
	*n = 0;
	if (!b->n)
		return NULL;
	/* An input with a list of values becomes one binding per value. */
	size_t total = 0;
	for (size_t i = 0; i < b->n; i++)
		total += b->v[i].values.n;
	struct trig_binding *out = arena_alloc(l->a, total * sizeof(*out));
	for (size_t i = 0; i < b->n; i++)
		for (size_t j = 0; j < b->v[i].values.n; j++) {
			out[*n].name = b->v[i].name.s;
			out[*n].value = lower_tmpl(l, b->v[i].values.v[j].s);
			(*n)++;
		}
	return out;
}

/* ------------------------------------------------------------ steps */

static void lower_step(struct low *l, const struct ast_step *s, struct trig_step *out)
{
	out->name = s->name.s;
	size_t len = 0;
	for (size_t i = 0; i < s->command.n; i++)
		len += strlen(s->command.v[i].s) + 1;
	char *cmd = arena_alloc(l->a, len + 1), *p = cmd;
	for (size_t i = 0; i < s->command.n; i++) {
		size_t n = strlen(s->command.v[i].s);
		memcpy(p, s->command.v[i].s, n);
		p += n;
		if (i + 1 < s->command.n)
			*p++ = '\n';
	}
	*p = 0;
	out->command = cmd;
	out->image = s->image.s;

	struct trig_param *params = arena_alloc(l->a, (s->nparams ? s->nparams : 1) * sizeof(*params));
	for (size_t i = 0; i < s->nparams; i++) {
		const struct ast_param *ap = &s->params[i];
		params[i].name = ap->name.s;
		params[i].type = ap->type.set ? (enum trig_param_type)ap->type.v : TRIG_PARAM_STRING;
		params[i].default_value = ap->default_value.s;
		params[i].pass_as = ap->pass_as.s;
		params[i].optional = ap->optional.set && ap->optional.v;
	}
	out->params = s->nparams ? params : NULL;
	out->nparams = (uint32_t)s->nparams;

	struct trig_input *inputs = arena_alloc(l->a, (s->ninputs ? s->ninputs : 1) * sizeof(*inputs));
	for (size_t i = 0; i < s->ninputs; i++) {
		const struct ast_input *ai = &s->inputs[i];
		const char **defs = arena_alloc(l->a, (ai->defaults.n ? ai->defaults.n : 1) * sizeof(*defs));
		for (size_t j = 0; j < ai->defaults.n; j++)
			defs[j] = ai->defaults.v[j].s;
		inputs[i].name = ai->name.s;
		inputs[i].defaults = ai->defaults.n ? defs : NULL;
		inputs[i].ndefaults = (uint32_t)ai->defaults.n;
		inputs[i].optional = ai->optional.set && ai->optional.v;
	}
	out->inputs = s->ninputs ? inputs : NULL;
	out->ninputs = (uint32_t)s->ninputs;

	struct trig_env *env = arena_alloc(l->a, (s->nenv ? s->nenv : 1) * sizeof(*env));
	size_t nenv = 0;
	for (size_t i = 0; i < s->nenv; i++) {
		if (!s->env[i].default_value.s)
			continue;       /* valohai: set per execution, or not at all */
		env[nenv].name = s->env[i].name.s;
		env[nenv].value = s->env[i].default_value.s;
		nenv++;
	}
	out->env = nenv ? env : NULL;
	out->nenv = (uint32_t)nenv;
}

static const struct trig_step *step_ptr(struct low *l, const char *name)
{
	for (uint32_t i = 0; i < l->ir->p.nsteps; i++)
		if (strcmp(l->ir->p.steps[i].name, name) == 0)
			return &l->ir->p.steps[i];
	assert(!"unknown step after checking");
	return NULL;
}

static const struct trig_pipeline *pipeline_ptr(struct low *l, const char *name)
{
	for (uint32_t i = 0; i < l->ir->p.npipelines; i++)
		if (strcmp(l->ir->p.pipelines[i].name, name) == 0)
			return &l->ir->p.pipelines[i];
	assert(!"unknown pipeline after checking");
	return NULL;
}

static void lower_pipeline(struct low *l, const struct ast_pipeline *pl, struct trig_pipeline *out)
{
	out->name = pl->name.s;
	struct trig_node *nodes = arena_alloc(l->a, (pl->nnodes ? pl->nnodes : 1) * sizeof(*nodes));
	for (size_t i = 0; i < pl->nnodes; i++) {
		nodes[i].name = pl->nodes[i].name.s;
		nodes[i].step = step_ptr(l, pl->nodes[i].step.s);
	}
	out->nodes = nodes;
	out->nnodes = (uint32_t)pl->nnodes;
	struct trig_edge *edges = arena_alloc(l->a, (pl->nedges ? pl->nedges : 1) * sizeof(*edges));
	for (size_t i = 0; i < pl->nedges; i++) {
		const char *ends[2] = { pl->edges[i].from.s, pl->edges[i].to.s };
		for (int k = 0; k < 2; k++) {
			const char *d1 = strchr(ends[k], '.'), *d2 = strchr(d1 + 1, '.');
			uint32_t node = 0;
			for (size_t j = 0; j < pl->nnodes; j++)
				if (strlen(nodes[j].name) == (size_t)(d1 - ends[k]) &&
				    memcmp(nodes[j].name, ends[k], (size_t)(d1 - ends[k])) == 0)
					node = (uint32_t)j;
			const char *kind = arena_strndup(l->a, d1 + 1, (size_t)(d2 - d1 - 1));
			if (k == 0) {
				edges[i].from_node = node;
				edges[i].from_kind = kind;
				edges[i].from_name = d2 + 1;
			} else {
				edges[i].to_node = node;
				edges[i].to_kind = kind;
				edges[i].to_name = d2 + 1;
			}
		}
	}
	out->edges = pl->nedges ? edges : NULL;
	out->nedges = (uint32_t)pl->nedges;
}

/* ------------------------------------------------------------ schedules */

static void set_bits_hhmm(struct trig_cron *c, const char *at)
{
	unsigned h, m;
	struct trig_cron_error err;
	int rc = trig_cron_at(at, &h, &m, &err);
	assert(rc == 0);
	(void)rc;
	c->minute = 1ULL << m;
	c->hour = 1U << h;
}

static struct trig_schedule *lower_schedule(struct low *l, const struct ast_schedule *s)
{
	struct trig_schedule *out = arena_alloc(l->a, sizeof(*out));
	struct trig_cron *c = &out->cron;
	if (s->cron.s) {
		struct trig_cron_error err;
		int rc = trig_cron_parse(s->cron.s, c, &err);
		assert(rc == 0);
		(void)rc;
		out->spec = arena_printf(l->a, "cron %s", s->cron.s);
	} else if (s->every.set) {
		char d[32];
		trig_format_duration(d, sizeof(d), s->every.v);
		out->every_ms = s->every.v;
		out->spec = arena_printf(l->a, "every %s", d);
	} else if (s->daily.s) {
		set_bits_hhmm(c, s->daily.s);
		c->dom = 0xfffffffeU;
		c->month = 0x1ffe;
		c->dow = 0x7f;
		c->flags = TRIG_CRON_DOM_STAR | TRIG_CRON_DOW_STAR;
		out->spec = arena_printf(l->a, "daily %s", s->daily.s);
	} else if (s->weekdays.s) {
		set_bits_hhmm(c, s->weekdays.s);
		c->dom = 0xfffffffeU;
		c->month = 0x1ffe;
		c->dow = 0x3e;                  /* Monday to Friday */
		c->flags = TRIG_CRON_DOM_STAR;
		out->spec = arena_printf(l->a, "weekdays %s", s->weekdays.s);
	} else {
		set_bits_hhmm(c, s->monthly.at.s);
		c->dom = 1U << s->monthly.day.v;
		c->month = 0x1ffe;
		c->dow = 0x7f;
		c->flags = TRIG_CRON_DOW_STAR;
		out->spec = arena_printf(l->a, "monthly day %lld at %s",
					 (long long)s->monthly.day.v, s->monthly.at.s);
	}
	out->timezone = s->timezone.s ? s->timezone.s : "UTC";
	out->catch_up = s->catch_up.set && s->catch_up.v == AST_CATCH_UP_ONCE
				? TRIG_CATCH_UP_ONCE : TRIG_CATCH_UP_NONE;
	out->overlap = s->overlap.set && s->overlap.v == AST_OVERLAP_SKIP
			       ? TRIG_OVERLAP_SKIP : TRIG_OVERLAP_ALLOW;
	return out;
}

static unsigned method_bit(const char *m)
{
	static const char *const names[] = { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS" };
	for (unsigned i = 0; i < 7; i++)
		if (strcmp(names[i], m) == 0)
			return 1U << i;
	assert(!"unknown method after checking");
	return 0;
}

static struct trig_webhook *lower_webhook(struct low *l, const struct ast_trigger *t)
{
	const struct ast_webhook *w = t->webhook;
	struct trig_webhook *out = arena_alloc(l->a, sizeof(*out));
	out->path = w->path.s ? w->path.s : arena_printf(l->a, "/webhooks/%s", t->name.s);
	for (size_t i = 0; i < w->methods.n; i++)
		out->methods |= method_bit(w->methods.v[i].s);
	if (!w->methods.set)
		out->methods = TRIG_POST;
	out->max_body = w->max_body.set ? (uint64_t)w->max_body.v : 1024 * 1024;
	out->not_matched_status = w->not_matched_status.set ? (int)w->not_matched_status.v : 200;
	out->rejected_status = w->rejected_status.set ? (int)w->rejected_status.v : 401;
	return out;
}

/* ------------------------------------------------------------ conditions */

static struct trig_secret lower_secret(const struct ast_secret *s)
{
	static const enum trig_secret_kind kinds[] = {
		[AST_SECRET_NONE] = TRIG_SECRET_NONE, [AST_SECRET_ENV] = TRIG_SECRET_ENV,
		[AST_SECRET_FILE] = TRIG_SECRET_FILE, [AST_SECRET_JWKS_FILE] = TRIG_SECRET_JWKS_FILE,
		[AST_SECRET_JWKS_URL] = TRIG_SECRET_JWKS_URL,
	};
	assert(s->kind != AST_SECRET_LITERAL);
	return (struct trig_secret){ kinds[s->kind], s->ref.s };
}

/* One line describing a condition, for `check` and the audit log. */
static const char *describe_cond(struct low *l, const struct ast_cond *c)
{
	const char *kind = ast_cond_words[c->kind];
	switch (c->kind) {
	case AST_COND_FILTER: {
		const char *op = ast_filter_op_words[c->op];
		if (c->op == AST_OP_IN || c->op == AST_OP_NOT_IN) {
			char *list = arena_strdup(l->a, "");
			for (size_t i = 0; i < c->values.n; i++)
				list = arena_printf(l->a, "%s%s%s", list, i ? ", " : "", c->values.v[i].s);
			return arena_printf(l->a, "filter %s %s [%s]", c->field.s, op, list);
		}
		if (c->op == AST_OP_EXISTS)
			return arena_printf(l->a, "filter %s %s", c->field.s,
					    c->exists.v ? "exists" : "does not exist");
		return arena_printf(l->a, "filter %s %s %s", c->field.s, op, c->value.s);
	}
	case AST_COND_HMAC:
		if (c->preset.set)
			return arena_printf(l->a, "hmac %s", ast_preset_words[c->preset.v]);
		return arena_printf(l->a, "hmac %s", c->header.s ? c->header.s : "");
	case AST_COND_TOKEN:
		if (!c->header.s && !c->query.s)
			return "token bearer";
		return arena_printf(l->a, "token %s %s", c->header.s ? "header" : "query",
				    c->header.s ? c->header.s : c->query.s);
	case AST_COND_RATE_LIMIT: {
		char d[32];
		trig_format_duration(d, sizeof(d), c->per.v);
		return arena_printf(l->a, "rate-limit %lld per %s", (long long)c->max.v, d);
	}
	default:
		return kind;
	}
}

static unsigned jwt_alg_bit(const char *s)
{
	static const char *const algs[] = {
		"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384",
		"PS512", "ES256", "ES384", "EdDSA"
	};
	for (unsigned i = 0; i < 12; i++)
		if (strcmp(algs[i], s) == 0)
			return 1U << i;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void lower_cond(struct low *l, const struct ast_cond *c, struct trig_condition *out);

static const struct trig_condition *lower_conds(struct low *l, const struct ast_cond *v, size_t n)
{
	if (!n)
		return NULL;
	/* Authentication first (SPEC.md §2.2): token, hmac, jwt, ip-allow,
	 * timestamp and replay before anything reads the payload; the rest
	 * keep their written order. */
	struct trig_condition *out = arena_alloc(l->a, n * sizeof(*out));
	size_t k = 0;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			enum ast_cond_kind kind = v[i].kind;
			bool early = kind == AST_COND_TOKEN || kind == AST_COND_HMAC ||
				     kind == AST_COND_JWT || kind == AST_COND_IP_ALLOW ||
				     kind == AST_COND_TIMESTAMP || kind == AST_COND_REPLAY;
			if (early == (pass == 0))
				lower_cond(l, &v[i], &out[k++]);
		}
	return out;
}

static void lower_cond(struct low *l, const struct ast_cond *c, struct trig_condition *out)
{
	out->kind = (enum trig_cond_kind)c->kind;
	out->source = describe_cond(l, c);
	switch (c->kind) {
	case AST_COND_TOKEN:
		out->u.token.secret = lower_secret(&c->secret);
		out->u.token.header = c->header.s;
		out->u.token.query = c->query.s;
		out->u.token.bearer = c->bearer.set && c->bearer.v;
		break;
	case AST_COND_HMAC: {
		struct trig_cond_hmac *h = &out->u.hmac;
		h->preset = c->preset.set ? (enum trig_hmac_preset)(c->preset.v + 1) : TRIG_PRESET_NONE;
		h->algorithm = c->algorithm.set ? (enum trig_hmac_alg)c->algorithm.v : TRIG_SHA256;
		h->secret = lower_secret(&c->secret);
		h->secret_encoding = c->secret_encoding.set ? (enum trig_encoding)c->secret_encoding.v
							     : TRIG_ENC_RAW;
		h->header = c->header.s;
		h->prefix = c->prefix.s;
		h->encoding = c->encoding.set && c->encoding.v == AST_SIGENC_BASE64 ? TRIG_ENC_BASE64
										    : TRIG_ENC_HEX;
		h->message = lower_tmpl(l, c->message.s);
		break;
	}
	case AST_COND_JWT: {
		struct trig_cond_jwt *j = &out->u.jwt;
		for (size_t i = 0; i < c->algorithms.n; i++)
			j->algorithms |= jwt_alg_bit(c->algorithms.v[i].s);
		j->key = lower_secret(&c->secret);
		j->header = c->header.s;
		j->query = c->query.s;
		j->issuer = c->issuer.s;
		if (c->audience.n) {
			const char **aud = arena_alloc(l->a, c->audience.n * sizeof(*aud));
			for (size_t i = 0; i < c->audience.n; i++)
				aud[i] = c->audience.v[i].s;
			j->audience = aud;
			j->naudience = (uint32_t)c->audience.n;
		}
		j->leeway_ms = c->leeway.set ? c->leeway.v : 0;
		j->claims = lower_bindings(l, &c->claims, &j->nclaims);
		break;
	}
	case AST_COND_TIMESTAMP: {
		struct trig_cond_timestamp *t = &out->u.timestamp;
		t->header = c->header.s;
		t->from_signature = c->from.set;
		t->format = c->format.set ? (enum trig_time_format)c->format.v : TRIG_TIME_UNIX;
		t->tolerance_ms = c->tolerance.set ? c->tolerance.v : 5 * 60 * 1000;
		break;
	}
	case AST_COND_REPLAY:
		out->u.replay.id = lower_tmpl(l, c->id.s);
		out->u.replay.window_ms = c->window.v;
		break;
	case AST_COND_IP_ALLOW: {
		struct trig_cidr *v = arena_alloc(l->a, (c->cidrs.n ? c->cidrs.n : 1) * sizeof(*v));
		for (size_t i = 0; i < c->cidrs.n; i++) {
			const char *s = c->cidrs.v[i].s, *slash = strchr(s, '/');
			char addr[64];
			size_t n = slash ? (size_t)(slash - s) : strlen(s);
			snprintf(addr, sizeof(addr), "%.*s", (int)n, s);
			bool v6 = strchr(addr, ':') != NULL;
			if (v6) {
				inet_pton(AF_INET6, addr, v[i].addr);
				v[i].prefix = (uint8_t)(slash ? atoi(slash + 1) : 128);
			} else {
				v[i].addr[10] = v[i].addr[11] = 0xff;
				inet_pton(AF_INET, addr, v[i].addr + 12);
				v[i].prefix = (uint8_t)(96 + (slash ? atoi(slash + 1) : 32));
			}
		}
		out->u.ip_allow.cidrs = v;
		out->u.ip_allow.ncidrs = (uint32_t)c->cidrs.n;
		break;
	}
	case AST_COND_FILTER: {
		struct trig_cond_filter *f = &out->u.filter;
		struct fieldref r;
		struct tmpl_error err;
		int rc = field_parse(l->a, c->field.s, strlen(c->field.s), &r, &err);
		assert(rc == 0);
		(void)rc;
		f->field = lower_field(l, &r);
		static const enum trig_filter_op ops[] = {
			[AST_OP_EQUALS] = TRIG_OP_EQUALS, [AST_OP_NOT_EQUALS] = TRIG_OP_NOT_EQUALS,
			[AST_OP_IN] = TRIG_OP_IN, [AST_OP_NOT_IN] = TRIG_OP_NOT_IN,
			[AST_OP_MATCHES] = TRIG_OP_MATCHES, [AST_OP_GLOB] = TRIG_OP_GLOB,
			[AST_OP_EXISTS] = TRIG_OP_EXISTS, [AST_OP_GREATER] = TRIG_OP_GREATER,
			[AST_OP_LESS] = TRIG_OP_LESS, [AST_OP_CONTAINS] = TRIG_OP_CONTAINS,
		};
		f->op = ops[c->op];
		if (c->op == AST_OP_EXISTS && !c->exists.v)
			f->op = TRIG_OP_NOT_EXISTS;
		f->value = c->value.s;
		if (c->values.n) {
			/* Sorted and unique: the runtime looks values up by bisection. */
			const char **vals = arena_alloc(l->a, c->values.n * sizeof(*vals));
			size_t n = 0;
			for (size_t i = 0; i < c->values.n; i++)
				vals[n++] = c->values.v[i].s;
			qsort(vals, n, sizeof(*vals), cmp_str);
			size_t u = 0;
			for (size_t i = 0; i < n; i++)
				if (u == 0 || strcmp(vals[u - 1], vals[i]) != 0)
					vals[u++] = vals[i];
			f->values = vals;
			f->nvalues = (uint32_t)u;
		}
		if (c->op == AST_OP_GREATER || c->op == AST_OP_LESS)
			f->number = strtod(c->value.s, NULL);
		break;
	}
	case AST_COND_ANY:
	case AST_COND_ALL:
	case AST_COND_NOT: {
		struct trig_condition *kids = arena_alloc(l->a, (c->nchildren ? c->nchildren : 1) *
								     sizeof(*kids));
		for (size_t i = 0; i < c->nchildren; i++)
			lower_cond(l, &c->children[i], &kids[i]);
		out->u.group.conditions = kids;
		out->u.group.nconditions = (uint32_t)c->nchildren;
		break;
	}
	case AST_COND_RATE_LIMIT:
		out->u.rate_limit.max = c->max.v;
		out->u.rate_limit.per_ms = c->per.v;
		out->u.rate_limit.key = lower_tmpl(l, c->key.s);
		break;
	}
}

/* ------------------------------------------------------------ actions */

static void lower_action(struct low *l, const struct ast_action *a, struct trig_action *out)
{
	out->kind = (enum trig_action_kind)a->kind;
	out->name = ast_action_name(a);
	out->timeout_ms = a->timeout.set ? a->timeout.v : 0;
	l->reads_action = l->reads_result = false;
	switch (a->kind) {
	case AST_ACT_RUN_EXECUTION:
		out->step = step_ptr(l, a->step.s);
		out->source = arena_printf(l->a, "run-execution %s", a->step.s);
		break;
	case AST_ACT_RUN_PIPELINE:
	case AST_ACT_COPY_PIPELINE:
		out->pipeline = pipeline_ptr(l, a->pipeline.s);
		out->source = arena_printf(l->a, "%s %s", ast_action_words[a->kind], a->pipeline.s);
		break;
	case AST_ACT_HTTP:
		out->source = arena_printf(l->a, "http %s %s", a->method.s ? a->method.s : "POST",
					   a->url.s);
		break;
	case AST_ACT_RESPOND:
		out->source = arena_printf(l->a, "respond %lld", (long long)a->status.v);
		break;
	case AST_ACT_FETCH_REPOSITORY:
		out->source = "fetch-repository";
		break;
	}
	out->commit = lower_tmpl(l, a->commit.s);
	out->title = lower_tmpl(l, a->title.s);
	out->copy_source = lower_tmpl(l, a->source.s && strcmp(a->source.s, "latest") ? a->source.s : NULL);
	out->parameters = lower_bindings(l, &a->parameters, &out->nparameters);
	out->inputs = lower_bindings(l, &a->inputs, &out->ninputs);
	out->environment = lower_bindings(l, &a->environment, &out->nenvironment);
	out->payload_input = a->payload_input.s;
	out->method = a->kind == AST_ACT_HTTP ? (a->method.s ? a->method.s : "POST") : NULL;
	out->url = lower_tmpl(l, a->url.s);
	out->body = lower_tmpl(l, a->body.s);
	out->headers = lower_bindings(l, &a->headers, &out->nheaders);
	out->status = a->kind == AST_ACT_RESPOND ? (int)a->status.v
						 : a->expect.set ? (int)a->expect.v : 0;
	out->content_type = a->content_type.s;
	out->deferred = l->reads_action;
	out->waits = l->reads_result;
}

/* ------------------------------------------------------------ triggers */

static void lower_trigger(struct low *l, const struct ast_trigger *t, struct trig_trigger *out)
{
	const struct source *src = sources_get(l->ir->src, t->loc.file);
	const char *file = src ? src->path : "?";
	const char *slash = strrchr(file, '/');
	out->name = t->name.s;
	out->enabled = !t->enabled.set || t->enabled.v;
	out->description = t->description.s;
	out->origin = arena_printf(l->a, "%s:%u", slash ? slash + 1 : file,
				   t->name.loc.line ? t->name.loc.line : t->loc.line);
	switch (t->kind) {
	case AST_SCHEDULE:
		out->kind = TRIG_KIND_SCHEDULE;
		out->schedule = lower_schedule(l, t->schedule);
		break;
	case AST_WEBHOOK:
		out->kind = TRIG_KIND_WEBHOOK;
		out->webhook = lower_webhook(l, t);
		break;
	case AST_NOTIFICATION:
		out->kind = TRIG_KIND_NOTIFICATION;
		out->event = t->notification->event.s;
		break;
	case AST_TRIGGER_NONE:
		assert(!"a trigger without a kind after checking");
	}
	out->conditions = lower_conds(l, t->conds, t->nconds);
	out->nconditions = (uint32_t)t->nconds;
	out->max_concurrent = t->max_concurrent.set ? (uint32_t)t->max_concurrent.v : 0;
	out->when_busy = t->when_busy.set && t->when_busy.v == AST_BUSY_SKIP ? TRIG_BUSY_SKIP
									      : TRIG_BUSY_QUEUE;
	l->t = t;
	struct trig_action *acts = arena_alloc(l->a, (t->nactions ? t->nactions : 1) * sizeof(*acts));
	for (size_t i = 0; i < t->nactions; i++)
		lower_action(l, &t->actions[i], &acts[i]);
	out->actions = t->nactions ? acts : NULL;
	out->nactions = (uint32_t)t->nactions;
}

/* ------------------------------------------------------------ project */

/* The absolute, symlink-free folder DIR names, relative to the file it is
 * written in (MAIN_FILE when it has no position). */
static char *resolve_dir(struct low *l, const struct sources *s, const struct ast_str *dir,
			 uint32_t main_file, char *err, size_t errlen)
{
	char *joined = source_relative(l->a, s, dir->loc.file ? dir->loc.file : main_file, dir->s);
	char *real = realpath(joined, NULL);
	if (!real) {
		snprintf(err, errlen, "cannot resolve '%s': %s", joined, strerror(errno));
		return NULL;
	}
	char *out = arena_strdup(l->a, real);
	free(real);
	return out;
}

static int cmp_routes(const void *a, const void *b)
{
	return strcmp(((const struct trig_route *)a)->path, ((const struct trig_route *)b)->path);
}

int lower_project(struct arena *a, const struct sources *s, const struct ast_project *ast,
		  const char *defs_hash, struct ir_project *out, char *err, size_t errlen)
{
	struct low l = { a, ast, out, NULL, 0, 0, NULL, false, false };
	memset(out, 0, sizeof(*out));
	out->src = s;
	struct trig_project *p = &out->p;
	p->abi = TRIG_ABI;
	p->name = ast->name.s;
	p->trigc_version = TRIGC_VERSION;
	p->defs_hash = defs_hash;

	/* The definitions' folder: relative paths in them start there. */
	const struct source *main = sources_get(s, ast->main_file);
	const char *slash = main ? strrchr(main->path, '/') : NULL;
	const char *dir = slash ? arena_strndup(a, main->path, (size_t)(slash - main->path)) : ".";
	if (slash == main->path)
		dir = "/";
	struct ast_str here = { .s = dir };
	out->basedir = resolve_dir(&l, s, &here, 0, err, errlen);
	if (!out->basedir)
		return -1;

	const struct ast_backend *b = ast->backend;
	p->backend.kind = b && b->kind.set && b->kind.v == AST_BACKEND_VALOHAI ? TRIG_BACKEND_VALOHAI
									      : TRIG_BACKEND_LOCAL;
	/* A folder is relative to the file that names it, as lint checked. */
	p->backend.workdir = b && b->workdir.s ? resolve_dir(&l, s, &b->workdir, ast->main_file, err, errlen)
					       : out->basedir;
	if (!p->backend.workdir)
		return -1;
	p->backend.repository = b && b->repository.s
					? resolve_dir(&l, s, &b->repository, ast->main_file, err, errlen)
					: p->backend.workdir;
	if (!p->backend.repository)
		return -1;
	p->backend.max_parallel = b && b->max_parallel.set ? (uint32_t)b->max_parallel.v : 0;
	if (b) {
		p->backend.url = b->url.s;
		p->backend.token = b->token.kind != AST_SECRET_NONE ? lower_secret(&b->token)
								   : (struct trig_secret){ 0 };
		p->backend.project_id = b->project_id.s;
	}

	struct trig_step *steps = arena_alloc(a, (ast->nsteps ? ast->nsteps : 1) * sizeof(*steps));
	out->step_loc = arena_alloc(a, (ast->nsteps ? ast->nsteps : 1) * sizeof(struct loc));
	for (size_t i = 0; i < ast->nsteps; i++) {
		lower_step(&l, &ast->steps[i], &steps[i]);
		out->step_loc[i] = ast->steps[i].loc;
	}
	p->steps = ast->nsteps ? steps : NULL;
	p->nsteps = (uint32_t)ast->nsteps;

	struct trig_pipeline *pls = arena_alloc(a, (ast->npipelines ? ast->npipelines : 1) * sizeof(*pls));
	out->pipeline_loc = arena_alloc(a, (ast->npipelines ? ast->npipelines : 1) * sizeof(struct loc));
	p->pipelines = pls;     /* lower_pipeline looks steps up, not pipelines */
	for (size_t i = 0; i < ast->npipelines; i++) {
		lower_pipeline(&l, &ast->pipelines[i], &pls[i]);
		out->pipeline_loc[i] = ast->pipelines[i].loc;
	}
	p->pipelines = ast->npipelines ? pls : NULL;
	p->npipelines = (uint32_t)ast->npipelines;

	struct trig_trigger *trs = arena_alloc(a, (ast->ntriggers ? ast->ntriggers : 1) * sizeof(*trs));
	out->trigger_loc = arena_alloc(a, (ast->ntriggers ? ast->ntriggers : 1) * sizeof(struct loc));
	for (size_t i = 0; i < ast->ntriggers; i++) {
		lower_trigger(&l, &ast->triggers[i], &trs[i]);
		out->trigger_loc[i] = ast->triggers[i].name.loc.line ? ast->triggers[i].name.loc
								     : ast->triggers[i].loc;
	}
	p->triggers = ast->ntriggers ? trs : NULL;
	p->ntriggers = (uint32_t)ast->ntriggers;
	p->paths = l.npaths ? l.paths : NULL;
	p->npaths = (uint32_t)l.npaths;

	/* The routing table: webhook paths sorted, for a binary search. */
	struct trig_route *routes = arena_alloc(a, (p->ntriggers ? p->ntriggers : 1) * sizeof(*routes));
	uint32_t nroutes = 0;
	for (uint32_t i = 0; i < p->ntriggers; i++)
		if (trs[i].webhook)
			routes[nroutes++] = (struct trig_route){ trs[i].webhook->path, i };
	qsort(routes, nroutes, sizeof(*routes), cmp_routes);
	p->routes = nroutes ? routes : NULL;
	p->nroutes = nroutes;
	return 0;
}
