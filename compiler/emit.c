/*
 * emit.c — printing the IR as C.
 *
 * Each def_*() function first writes the definitions a value needs (the
 * arrays it points to) and then returns the value's own initializer as
 * text, for its owner to place.  So the output reads bottom-up, like any C
 * file: pieces before templates, templates before actions, actions before
 * their trigger, triggers before the project.
 */
#include "emit.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct em {
	FILE *f;
	unsigned line;          /* current line of the output, 1-based */
	int err;
	struct arena a;         /* initializer texts */
	const struct ir_project *ir;
	const struct emit_options *opt;
	const char *prefix;     /* of the current trigger's names */
	unsigned counter;       /* names within a trigger */
};

static void out(struct em *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void out(struct em *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = arena_vprintf(&e->a, fmt, ap);
	va_end(ap);
	for (const char *p = s; *p; p++)
		if (*p == '\n')
			e->line++;
	if (fputs(s, e->f) < 0)
		e->err = -1;
}

/* ------------------------------------------------------------ text */

/* S made safe inside a C comment: names of imported steps and pipelines
 * and file names are not checked, and must neither end the comment
 * ("*\/"), open another ("/\*"), form a trigraph ("??") nor break the
 * line.  Those pairs are split with a space, control bytes become '?'. */
static char *cmt(struct em *e, const char *s)
{
	size_t n = strlen(s);
	char *buf = arena_alloc(&e->a, n * 2 + 1), *p = buf;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		*p++ = c < 0x20 || c == 0x7f ? '?' : (char)c;
		if (i + 1 < n && ((c == '*' && s[i + 1] == '/') || (c == '/' && s[i + 1] == '*') ||
				  (c == '?' && s[i + 1] == '?')))
			*p++ = ' ';
	}
	*p = 0;
	return buf;
}

/* S as a C string literal ("NULL" for NULL): printable ASCII as is, the
 * rest as three-digit octal escapes (a hex escape would swallow the digits
 * after it); "??" split so no trigraph forms. */
static char *lit(struct em *e, const char *s)
{
	if (!s)
		return "NULL";
	size_t n = strlen(s);
	char *buf = arena_alloc(&e->a, n * 4 + 3), *p = buf;
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else if (c == '\t') {
			*p++ = '\\';
			*p++ = 't';
		} else if (c == '?' && i + 1 < n && s[i + 1] == '?') {
			*p++ = '?';
			*p++ = '\\';
		} else if (c < 0x20 || c >= 0x7f) {
			p += sprintf(p, "\\%03o", c);
		} else {
			*p++ = (char)c;
		}
	}
	*p++ = '"';
	*p = 0;
	return buf;
}

static char *fmt(struct em *e, const char *f, ...) __attribute__((format(printf, 2, 3)));

static char *fmt(struct em *e, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = arena_vprintf(&e->a, f, ap);
	va_end(ap);
	return s;
}

/* A fresh name in the current trigger's namespace. */
static char *name(struct em *e, const char *what)
{
	return fmt(e, "%s_%s%u", e->prefix, what, e->counter++);
}

static const char *ident_of(struct em *e, const char *trigger)
{
	char *s = fmt(e, "t_%s", trigger);
	for (char *p = s; *p; p++)
		if (*p == '-')
			*p = '_';
	return s;
}

/* ------------------------------------------------------------ fields */

static char *def_segs(struct em *e, const char *nm, const struct trig_path_seg *segs, unsigned n)
{
	if (!n)
		return "NULL";
	out(e, "static const struct trig_path_seg %s[] = {", nm);
	for (unsigned i = 0; i < n; i++) {
		if (segs[i].key)
			out(e, " { %s, -1 },", lit(e, segs[i].key));
		else
			out(e, " { NULL, %d },", segs[i].index);
	}
	out(e, " };\n");
	return (char *)nm;
}

static const char *root_name[] = {
	[TRIG_ROOT_PAYLOAD] = "TRIG_ROOT_PAYLOAD", [TRIG_ROOT_FORM] = "TRIG_ROOT_FORM",
	[TRIG_ROOT_HEADER] = "TRIG_ROOT_HEADER", [TRIG_ROOT_QUERY] = "TRIG_ROOT_QUERY",
	[TRIG_ROOT_CLAIM] = "TRIG_ROOT_CLAIM", [TRIG_ROOT_EVENT] = "TRIG_ROOT_EVENT",
	[TRIG_ROOT_REMOTE_IP] = "TRIG_ROOT_REMOTE_IP", [TRIG_ROOT_BODY] = "TRIG_ROOT_BODY",
	[TRIG_ROOT_TRIGGER] = "TRIG_ROOT_TRIGGER", [TRIG_ROOT_LAUNCH_ID] = "TRIG_ROOT_LAUNCH_ID",
	[TRIG_ROOT_NOW] = "TRIG_ROOT_NOW", [TRIG_ROOT_ACTION] = "TRIG_ROOT_ACTION",
};

static bool has_path(const struct trig_field *f)
{
	return f->root == TRIG_ROOT_PAYLOAD || f->root == TRIG_ROOT_CLAIM || f->root == TRIG_ROOT_EVENT;
}

/* A field's initializer; its segments are the path table's (path_segsN). */
static char *init_field(struct em *e, const struct trig_field *f)
{
	if (f->root == TRIG_ROOT_ACTION) {
		/* an earlier action's result; metadata.KEY's path is its own */
		char *segs = f->nsegs ? def_segs(e, name(e, "segs"), f->segs, f->nsegs) : "NULL";
		return fmt(e, "{ .root = TRIG_ROOT_ACTION, .text = %s, .name = %s, .segs = %s, "
			      ".nsegs = %u, .action = %u }", lit(e, f->text), lit(e, f->name),
			   segs, f->nsegs, f->action);
	}
	if (has_path(f))
		return fmt(e, "{ .root = %s, .text = %s, .segs = path_segs%u, .nsegs = %u, .path_id = %u }",
			   root_name[f->root], lit(e, f->text), f->path_id, f->nsegs, f->path_id);
	return fmt(e, "{ .root = %s, .text = %s, .name = %s }", root_name[f->root], lit(e, f->text),
		   lit(e, f->name));
}

static char *def_template(struct em *e, const struct trig_template *t)
{
	if (!t->source)
		return "{ 0 }";
	/* Fields first: an action's field defines its segments. */
	char **fields = arena_alloc(&e->a, (t->npieces ? t->npieces : 1) * sizeof(*fields));
	for (uint32_t i = 0; i < t->npieces; i++)
		if (t->pieces[i].kind == TRIG_PIECE_FIELD)
			fields[i] = init_field(e, &t->pieces[i].field);
	const char *nm = name(e, "tmpl");
	out(e, "static const struct trig_piece %s[] = {\n", nm);
	for (uint32_t i = 0; i < t->npieces; i++) {
		const struct trig_piece *p = &t->pieces[i];
		if (p->kind == TRIG_PIECE_TEXT)
			out(e, "\t{ .kind = TRIG_PIECE_TEXT, .text = %s, .len = %u },\n",
			    lit(e, p->text), p->len);
		else
			out(e, "\t{ .kind = TRIG_PIECE_FIELD, .field = %s },\n", fields[i]);
	}
	out(e, "};\n");
	return fmt(e, "{ .source = %s, .pieces = %s, .npieces = %u }", lit(e, t->source), nm,
		   t->npieces);
}

static char *def_bindings(struct em *e, const struct trig_binding *b, uint32_t n, const char *what)
{
	if (!n)
		return "NULL";
	char **inits = arena_alloc(&e->a, n * sizeof(*inits));
	for (uint32_t i = 0; i < n; i++)
		inits[i] = def_template(e, &b[i].value);
	const char *nm = name(e, what);
	out(e, "static const struct trig_binding %s[] = {\n", nm);
	for (uint32_t i = 0; i < n; i++)
		out(e, "\t{ %s, %s },\n", lit(e, b[i].name), inits[i]);
	out(e, "};\n");
	return (char *)nm;
}

static char *init_secret(struct em *e, const struct trig_secret *s)
{
	static const char *kinds[] = {
		"TRIG_SECRET_NONE", "TRIG_SECRET_ENV", "TRIG_SECRET_FILE", "TRIG_SECRET_JWKS_FILE",
		"TRIG_SECRET_JWKS_URL",
	};
	return fmt(e, "{ %s, %s }", kinds[s->kind], lit(e, s->ref));
}

static char *def_strings(struct em *e, const char *const *v, uint32_t n, const char *what)
{
	if (!n)
		return "NULL";
	const char *nm = name(e, what);
	out(e, "static const char *const %s[] = {", nm);
	for (uint32_t i = 0; i < n; i++)
		out(e, " %s,", lit(e, v[i]));
	out(e, " };\n");
	return (char *)nm;
}

/* ------------------------------------------------------------ conditions */

static char *def_conditions(struct em *e, const struct trig_condition *c, uint32_t n);

static char *init_condition(struct em *e, const struct trig_condition *c)
{
	static const char *kinds[] = {
		"TRIG_COND_TOKEN", "TRIG_COND_HMAC", "TRIG_COND_JWT", "TRIG_COND_TIMESTAMP",
		"TRIG_COND_REPLAY", "TRIG_COND_IP_ALLOW", "TRIG_COND_FILTER", "TRIG_COND_ANY",
		"TRIG_COND_ALL", "TRIG_COND_NOT", "TRIG_COND_RATE_LIMIT",
	};
	static const char *ops[] = {
		"TRIG_OP_EQUALS", "TRIG_OP_NOT_EQUALS", "TRIG_OP_IN", "TRIG_OP_NOT_IN",
		"TRIG_OP_MATCHES", "TRIG_OP_GLOB", "TRIG_OP_EXISTS", "TRIG_OP_NOT_EXISTS",
		"TRIG_OP_GREATER", "TRIG_OP_LESS", "TRIG_OP_CONTAINS",
	};
	static const char *presets[] = {
		"TRIG_PRESET_NONE", "TRIG_PRESET_GITHUB", "TRIG_PRESET_GITLAB", "TRIG_PRESET_SLACK",
		"TRIG_PRESET_STRIPE", "TRIG_PRESET_STANDARD_WEBHOOKS", "TRIG_PRESET_SHOPIFY",
		"TRIG_PRESET_TWILIO",
	};
	static const char *algs[] = { "TRIG_SHA1", "TRIG_SHA256", "TRIG_SHA512" };
	static const char *encs[] = { "TRIG_ENC_RAW", "TRIG_ENC_HEX", "TRIG_ENC_BASE64" };
	static const char *tfmt[] = { "TRIG_TIME_UNIX", "TRIG_TIME_UNIX_MS", "TRIG_TIME_RFC3339" };
	char *u = "";
	switch (c->kind) {
	case TRIG_COND_TOKEN:
		u = fmt(e, ".u.token = { .secret = %s, .header = %s, .query = %s, .bearer = %s }",
			init_secret(e, &c->u.token.secret), lit(e, c->u.token.header),
			lit(e, c->u.token.query), c->u.token.bearer ? "true" : "false");
		break;
	case TRIG_COND_HMAC: {
		const struct trig_cond_hmac *h = &c->u.hmac;
		char *msg = def_template(e, &h->message);
		u = fmt(e, ".u.hmac = { .preset = %s, .algorithm = %s, .secret = %s, "
			   ".secret_encoding = %s, .header = %s, .prefix = %s, .encoding = %s, "
			   ".message = %s }",
			presets[h->preset], algs[h->algorithm], init_secret(e, &h->secret),
			encs[h->secret_encoding], lit(e, h->header), lit(e, h->prefix),
			encs[h->encoding], msg);
		break;
	}
	case TRIG_COND_JWT: {
		const struct trig_cond_jwt *j = &c->u.jwt;
		char *aud = def_strings(e, j->audience, j->naudience, "aud");
		char *claims = def_bindings(e, j->claims, j->nclaims, "claims");
		u = fmt(e, ".u.jwt = { .algorithms = 0x%x, .key = %s, .header = %s, .query = %s, "
			   ".issuer = %s, .audience = %s, .naudience = %u, .leeway_ms = %lld, "
			   ".claims = %s, .nclaims = %u }",
			j->algorithms, init_secret(e, &j->key), lit(e, j->header), lit(e, j->query),
			lit(e, j->issuer), aud, j->naudience, (long long)j->leeway_ms, claims, j->nclaims);
		break;
	}
	case TRIG_COND_TIMESTAMP: {
		const struct trig_cond_timestamp *t = &c->u.timestamp;
		u = fmt(e, ".u.timestamp = { .header = %s, .from_signature = %s, .format = %s, "
			   ".tolerance_ms = %lld }",
			lit(e, t->header), t->from_signature ? "true" : "false", tfmt[t->format],
			(long long)t->tolerance_ms);
		break;
	}
	case TRIG_COND_REPLAY: {
		char *id = def_template(e, &c->u.replay.id);
		u = fmt(e, ".u.replay = { .id = %s, .window_ms = %lld }", id,
			(long long)c->u.replay.window_ms);
		break;
	}
	case TRIG_COND_IP_ALLOW: {
		const char *nm = name(e, "cidrs");
		out(e, "static const struct trig_cidr %s[] = {\n", nm);
		for (uint32_t i = 0; i < c->u.ip_allow.ncidrs; i++) {
			const struct trig_cidr *r = &c->u.ip_allow.cidrs[i];
			out(e, "\t{ {");
			for (int k = 0; k < 16; k++)
				out(e, "%s0x%02x", k ? "," : " ", r->addr[k]);
			out(e, " }, %u },\n", r->prefix);
		}
		out(e, "};\n");
		u = fmt(e, ".u.ip_allow = { .cidrs = %s, .ncidrs = %u }", nm, c->u.ip_allow.ncidrs);
		break;
	}
	case TRIG_COND_FILTER: {
		const struct trig_cond_filter *f = &c->u.filter;
		char *vals = def_strings(e, f->values, f->nvalues, "values");
		const char *match = "NULL";
		for (size_t i = 0; i < e->ir->nmatchers; i++)
			if (e->ir->matcher_of[i] == f)
				match = fmt(e, "trig_match_%zu", i);
		u = fmt(e, ".u.filter = { .field = %s, .op = %s, .value = %s, .values = %s, "
			   ".nvalues = %u, .number = %.17g, .match = %s }",
			init_field(e, &f->field), ops[f->op], lit(e, f->value), vals, f->nvalues,
			f->number, match);
		break;
	}
	case TRIG_COND_ANY:
	case TRIG_COND_ALL:
	case TRIG_COND_NOT: {
		char *kids = def_conditions(e, c->u.group.conditions, c->u.group.nconditions);
		u = fmt(e, ".u.group = { .conditions = %s, .nconditions = %u }", kids,
			c->u.group.nconditions);
		break;
	}
	case TRIG_COND_RATE_LIMIT: {
		char *key = def_template(e, &c->u.rate_limit.key);
		u = fmt(e, ".u.rate_limit = { .max = %lld, .per_ms = %lld, .key = %s }",
			(long long)c->u.rate_limit.max, (long long)c->u.rate_limit.per_ms, key);
		break;
	}
	}
	return fmt(e, "{ .kind = %s, .source = %s,\n\t  %s }", kinds[c->kind], lit(e, c->source), u);
}

static char *def_conditions(struct em *e, const struct trig_condition *c, uint32_t n)
{
	if (!n)
		return "NULL";
	char **inits = arena_alloc(&e->a, n * sizeof(*inits));
	for (uint32_t i = 0; i < n; i++)
		inits[i] = init_condition(e, &c[i]);
	const char *nm = name(e, "conds");
	out(e, "static const struct trig_condition %s[] = {\n", nm);
	for (uint32_t i = 0; i < n; i++)
		out(e, "\t%s,\n", inits[i]);
	out(e, "};\n");
	return (char *)nm;
}

/* ------------------------------------------------------------ actions */

static char *def_actions(struct em *e, const struct trig_action *v, uint32_t n)
{
	static const char *kinds[] = {
		"TRIG_ACTION_RUN_EXECUTION", "TRIG_ACTION_RUN_PIPELINE", "TRIG_ACTION_COPY_PIPELINE",
		"TRIG_ACTION_FETCH_REPOSITORY", "TRIG_ACTION_HTTP", "TRIG_ACTION_RESPOND",
	};
	if (!n)
		return "NULL";
	const struct trig_project *p = &e->ir->p;
	char **inits = arena_alloc(&e->a, n * sizeof(*inits));
	for (uint32_t i = 0; i < n; i++) {
		const struct trig_action *a = &v[i];
		char *s = fmt(e, "{ .kind = %s, .source = %s, .name = %s", kinds[a->kind],
			      lit(e, a->source), lit(e, a->name));
		if (a->step)
			s = fmt(e, "%s,\n\t  .step = &steps[%ld]", s, (long)(a->step - p->steps));
		if (a->pipeline)
			s = fmt(e, "%s,\n\t  .pipeline = &pipelines[%ld]", s,
				(long)(a->pipeline - p->pipelines));
		const struct { const char *field; const struct trig_template *t; } tmpls[] = {
			{ "commit", &a->commit }, { "title", &a->title }, { "copy_source", &a->copy_source },
			{ "url", &a->url }, { "body", &a->body },
		};
		for (size_t k = 0; k < sizeof(tmpls) / sizeof(tmpls[0]); k++)
			if (tmpls[k].t->source)
				s = fmt(e, "%s,\n\t  .%s = %s", s, tmpls[k].field, def_template(e, tmpls[k].t));
		const struct { const char *field; const struct trig_binding *b; uint32_t n; } binds[] = {
			{ "parameters", a->parameters, a->nparameters },
			{ "inputs", a->inputs, a->ninputs },
			{ "environment", a->environment, a->nenvironment },
			{ "headers", a->headers, a->nheaders },
		};
		for (size_t k = 0; k < sizeof(binds) / sizeof(binds[0]); k++)
			if (binds[k].n)
				s = fmt(e, "%s,\n\t  .%s = %s, .n%s = %u", s, binds[k].field,
					def_bindings(e, binds[k].b, binds[k].n, binds[k].field),
					binds[k].field, binds[k].n);
		if (a->payload_input)
			s = fmt(e, "%s,\n\t  .payload_input = %s", s, lit(e, a->payload_input));
		if (a->method)
			s = fmt(e, "%s,\n\t  .method = %s", s, lit(e, a->method));
		if (a->status)
			s = fmt(e, "%s,\n\t  .status = %d", s, a->status);
		if (a->content_type)
			s = fmt(e, "%s,\n\t  .content_type = %s", s, lit(e, a->content_type));
		if (a->timeout_ms)
			s = fmt(e, "%s,\n\t  .timeout_ms = %lld", s, (long long)a->timeout_ms);
		if (a->deferred)
			s = fmt(e, "%s,\n\t  .deferred = true, .waits = %s", s,
				a->waits ? "true" : "false");
		inits[i] = fmt(e, "%s }", s);
	}
	const char *nm = name(e, "actions");
	out(e, "static const struct trig_action %s[] = {\n", nm);
	for (uint32_t i = 0; i < n; i++)
		out(e, "\t%s,\n", inits[i]);
	out(e, "};\n");
	return (char *)nm;
}

/* ------------------------------------------------------------ schedules */

/* The values of a bitset as text, for the comment beside it. */
static char *bits_text(struct em *e, uint64_t bits, int lo, int hi)
{
	char *s = "";
	int start = -1;
	for (int v = lo; v <= hi + 1; v++) {
		bool on = v <= hi && (bits >> v) & 1;
		if (on && start < 0)
			start = v;
		if (!on && start >= 0) {
			s = fmt(e, start == v - 1 ? "%s%s%d" : "%s%s%d-%d", s, *s ? "," : "", start, v - 1);
			start = -1;
		}
	}
	return s;
}

static char *def_schedule(struct em *e, const struct trig_schedule *s)
{
	const char *nm = fmt(e, "%s_schedule", e->prefix);
	const struct trig_cron *c = &s->cron;
	out(e, "static const struct trig_schedule %s = {\n", nm);
	out(e, "\t.spec = %s,\n", lit(e, s->spec));
	if (s->every_ms)
		out(e, "\t.every_ms = %lld,\n", (long long)s->every_ms);
	else
		out(e, "\t.cron = {\n"
		       "\t\t.minute = UINT64_C(0x%016llx),   /* %s */\n"
		       "\t\t.hour = 0x%06x,   /* %s */\n"
		       "\t\t.dom = 0x%08x,   /* %s */\n"
		       "\t\t.month = 0x%04x,   /* %s */\n"
		       "\t\t.dow = 0x%02x,   /* %s */\n"
		       "\t\t.flags = %s,\n"
		       "\t},\n",
		    (unsigned long long)c->minute, bits_text(e, c->minute, 0, 59),
		    c->hour, bits_text(e, c->hour, 0, 23), c->dom, bits_text(e, c->dom, 1, 31),
		    c->month, bits_text(e, c->month, 1, 12), c->dow, bits_text(e, c->dow, 0, 6),
		    (c->flags & TRIG_CRON_DOM_STAR) && (c->flags & TRIG_CRON_DOW_STAR)
			    ? "TRIG_CRON_DOM_STAR | TRIG_CRON_DOW_STAR"
		    : (c->flags & TRIG_CRON_DOM_STAR) ? "TRIG_CRON_DOM_STAR"
		    : (c->flags & TRIG_CRON_DOW_STAR) ? "TRIG_CRON_DOW_STAR" : "0");
	out(e, "\t.timezone = %s,\n", lit(e, s->timezone));
	out(e, "\t.catch_up = %s,\n",
	    s->catch_up == TRIG_CATCH_UP_ONCE ? "TRIG_CATCH_UP_ONCE" : "TRIG_CATCH_UP_NONE");
	out(e, "\t.overlap = %s,\n",
	    s->overlap == TRIG_OVERLAP_SKIP ? "TRIG_OVERLAP_SKIP" : "TRIG_OVERLAP_ALLOW");
	out(e, "};\n");
	return fmt(e, "&%s", nm);
}

static char *def_webhook(struct em *e, const struct trig_webhook *w)
{
	static const char *names[] = {
		"TRIG_GET", "TRIG_HEAD", "TRIG_POST", "TRIG_PUT", "TRIG_PATCH", "TRIG_DELETE", "TRIG_OPTIONS"
	};
	char *m = "";
	for (int i = 0; i < 7; i++)
		if (w->methods & (1U << i))
			m = fmt(e, "%s%s%s", m, *m ? " | " : "", names[i]);
	const char *nm = fmt(e, "%s_webhook", e->prefix);
	out(e, "static const struct trig_webhook %s = {\n"
	       "\t.path = %s,\n\t.methods = %s,\n\t.max_body = %llu,\n"
	       "\t.not_matched_status = %d,\n\t.rejected_status = %d,\n};\n",
	    nm, lit(e, w->path), m, (unsigned long long)w->max_body, w->not_matched_status,
	    w->rejected_status);
	return fmt(e, "&%s", nm);
}

/* ------------------------------------------------------------ sections */

static const char *src_name(struct em *e, struct loc l)
{
	const struct source *s = sources_get(e->ir->src, l.file);
	if (!s)
		return "?";
	const char *slash = strrchr(s->path, '/');
	return slash ? slash + 1 : s->path;
}

static void line_into(struct em *e, struct loc l)
{
	if (e->opt->line_directives && l.file)
		out(e, "#line %u %s\n", l.line, lit(e, src_name(e, l)));
}

static void line_back(struct em *e)
{
	if (e->opt->line_directives)
		out(e, "#line %u %s\n", e->line + 1, lit(e, e->opt->c_name));
}

static void banner(struct em *e, const char *what, const char *nm, struct loc l)
{
	if (e->opt->line_directives && l.file)
		out(e, "\n/* ---- %s '%s' (%s:%u) ---- */\n", what, cmt(e, nm),
		    cmt(e, src_name(e, l)), l.line);
	else
		out(e, "\n/* ---- %s '%s' ---- */\n", what, cmt(e, nm));
}

static void emit_paths(struct em *e)
{
	const struct trig_project *p = &e->ir->p;
	if (!p->npaths)
		return;
	out(e, "\n/* Every payload, claim and event path the triggers read: the runtime\n"
	       " * extracts them all in one pass over a document. */\n");
	for (uint32_t i = 0; i < p->npaths; i++)
		def_segs(e, fmt(e, "path_segs%u", i), p->paths[i].segs, p->paths[i].nsegs);
}

static void emit_steps(struct em *e)
{
	const struct trig_project *p = &e->ir->p;
	static const char *types[] = {
		"TRIG_PARAM_STRING", "TRIG_PARAM_INTEGER", "TRIG_PARAM_FLOAT", "TRIG_PARAM_FLAG"
	};
	char **inits = arena_alloc(&e->a, (p->nsteps ? p->nsteps : 1) * sizeof(*inits));
	for (uint32_t i = 0; i < p->nsteps; i++) {
		const struct trig_step *s = &p->steps[i];
		e->prefix = fmt(e, "s%u", i);
		e->counter = 0;
		banner(e, "step", s->name, e->ir->step_loc[i]);
		line_into(e, e->ir->step_loc[i]);
		char *params = "NULL", *inputs = "NULL", *env = "NULL";
		if (s->nparams) {
			params = fmt(e, "%s_params", e->prefix);
			out(e, "static const struct trig_param %s[] = {\n", params);
			for (uint32_t k = 0; k < s->nparams; k++) {
				const struct trig_param *pr = &s->params[k];
				out(e, "\t{ .name = %s, .type = %s, .default_value = %s, .pass_as = %s, "
				       ".optional = %s },\n",
				    lit(e, pr->name), types[pr->type], lit(e, pr->default_value),
				    lit(e, pr->pass_as), pr->optional ? "true" : "false");
			}
			out(e, "};\n");
		}
		if (s->ninputs) {
			char **defs = arena_alloc(&e->a, s->ninputs * sizeof(*defs));
			for (uint32_t k = 0; k < s->ninputs; k++)
				defs[k] = def_strings(e, s->inputs[k].defaults, s->inputs[k].ndefaults,
						      "defaults");
			inputs = fmt(e, "%s_inputs", e->prefix);
			out(e, "static const struct trig_input %s[] = {\n", inputs);
			for (uint32_t k = 0; k < s->ninputs; k++)
				out(e, "\t{ .name = %s, .defaults = %s, .ndefaults = %u, .optional = %s },\n",
				    lit(e, s->inputs[k].name), defs[k], s->inputs[k].ndefaults,
				    s->inputs[k].optional ? "true" : "false");
			out(e, "};\n");
		}
		if (s->nenv) {
			env = fmt(e, "%s_env", e->prefix);
			out(e, "static const struct trig_env %s[] = {\n", env);
			for (uint32_t k = 0; k < s->nenv; k++)
				out(e, "\t{ %s, %s },\n", lit(e, s->env[k].name), lit(e, s->env[k].value));
			out(e, "};\n");
		}
		line_back(e);
		inits[i] = fmt(e, "{\n\t\t.name = %s,\n\t\t.command = %s,\n\t\t.image = %s,\n"
				  "\t\t.params = %s, .nparams = %u,\n\t\t.inputs = %s, .ninputs = %u,\n"
				  "\t\t.env = %s, .nenv = %u,\n\t}",
			       lit(e, s->name), lit(e, s->command), lit(e, s->image), params, s->nparams,
			       inputs, s->ninputs, env, s->nenv);
	}
	if (!p->nsteps)
		return;
	out(e, "\nstatic const struct trig_step steps[] = {\n");
	for (uint32_t i = 0; i < p->nsteps; i++)
		out(e, "\t%s,\n", inits[i]);
	out(e, "};\n");
}

static void emit_pipelines(struct em *e)
{
	const struct trig_project *p = &e->ir->p;
	if (!p->npipelines)
		return;
	for (uint32_t i = 0; i < p->npipelines; i++) {
		const struct trig_pipeline *pl = &p->pipelines[i];
		banner(e, "pipeline", pl->name, e->ir->pipeline_loc[i]);
		line_into(e, e->ir->pipeline_loc[i]);
		out(e, "static const struct trig_node p%u_nodes[] = {\n", i);
		for (uint32_t k = 0; k < pl->nnodes; k++)
			out(e, "\t{ %s, &steps[%ld] },\n", lit(e, pl->nodes[k].name),
			    (long)(pl->nodes[k].step - p->steps));
		out(e, "};\n");
		if (pl->nedges) {
			out(e, "static const struct trig_edge p%u_edges[] = {\n", i);
			for (uint32_t k = 0; k < pl->nedges; k++) {
				const struct trig_edge *ed = &pl->edges[k];
				out(e, "\t{ %u, %u, %s, %s, %s, %s },\n", ed->from_node, ed->to_node,
				    lit(e, ed->from_kind), lit(e, ed->from_name), lit(e, ed->to_kind),
				    lit(e, ed->to_name));
			}
			out(e, "};\n");
		}
		line_back(e);
	}
	out(e, "\nstatic const struct trig_pipeline pipelines[] = {\n");
	for (uint32_t i = 0; i < p->npipelines; i++) {
		const struct trig_pipeline *pl = &p->pipelines[i];
		out(e, "\t{ %s, p%u_nodes, %u, %s, %u },\n", lit(e, pl->name), i, pl->nnodes,
		    pl->nedges ? fmt(e, "p%u_edges", i) : "NULL", pl->nedges);
	}
	out(e, "};\n");
}

static void emit_triggers(struct em *e)
{
	const struct trig_project *p = &e->ir->p;
	static const char *kinds[] = {
		"TRIG_KIND_SCHEDULE", "TRIG_KIND_WEBHOOK", "TRIG_KIND_NOTIFICATION"
	};
	char **inits = arena_alloc(&e->a, (p->ntriggers ? p->ntriggers : 1) * sizeof(*inits));
	for (uint32_t i = 0; i < p->ntriggers; i++) {
		const struct trig_trigger *t = &p->triggers[i];
		e->prefix = ident_of(e, t->name);
		e->counter = 0;
		banner(e, "trigger", t->name, e->ir->trigger_loc[i]);
		line_into(e, e->ir->trigger_loc[i]);
		char *sched = t->schedule ? def_schedule(e, t->schedule) : "NULL";
		char *hook = t->webhook ? def_webhook(e, t->webhook) : "NULL";
		char *conds = def_conditions(e, t->conditions, t->nconditions);
		char *acts = def_actions(e, t->actions, t->nactions);
		line_back(e);
		inits[i] = fmt(e, "{\n\t\t.name = %s,\n\t\t.kind = %s,\n\t\t.enabled = %s,\n"
				  "\t\t.description = %s,\n\t\t.origin = %s,\n"
				  "\t\t.schedule = %s,\n\t\t.webhook = %s,\n\t\t.event = %s,\n"
				  "\t\t.conditions = %s, .nconditions = %u,\n"
				  "\t\t.actions = %s, .nactions = %u,%s\n\t}",
			       lit(e, t->name), kinds[t->kind], t->enabled ? "true" : "false",
			       lit(e, t->description),
			       lit(e, e->opt->line_directives ? t->origin : NULL), sched, hook,
			       lit(e, t->event), conds, t->nconditions, acts, t->nactions,
			       t->max_concurrent
				       ? fmt(e, "\n\t\t.max_concurrent = %u, .when_busy = %s,",
					     t->max_concurrent, t->when_busy == TRIG_BUSY_SKIP
								? "TRIG_BUSY_SKIP" : "TRIG_BUSY_QUEUE")
				       : "");
	}
	if (!p->ntriggers)
		return;
	out(e, "\nstatic const struct trig_trigger triggers[] = {\n");
	for (uint32_t i = 0; i < p->ntriggers; i++)
		out(e, "\t%s,\n", inits[i]);
	out(e, "};\n");
}

static const char *first_source(struct em *e)
{
	const struct sources *s = e->ir->src;
	const char *list = "";
	size_t n = 0;
	for (size_t i = 1; i < s->n; i++) {
		const char *slash = strrchr(s->v[i].path, '/');
		list = fmt(e, "%s%s%s", list, n++ ? ", " : "", slash ? slash + 1 : s->v[i].path);
	}
	return list;
}

int emit_c(FILE *f, const struct ir_project *ir, const struct emit_options *opt)
{
	struct em e = { f, 1, 0, ARENA_INIT, ir, opt, "", 0 };
	const struct trig_project *p = &ir->p;

	if (opt->line_directives)
		out(&e, "/* Generated by trigc %s from %s. DO NOT EDIT. */\n", p->trigc_version,
		    cmt(&e, first_source(&e)));
	else
		out(&e, "/* Generated by trigc %s from the definitions of project '%s'. DO NOT EDIT. */\n",
		    p->trigc_version, cmt(&e, p->name));
	out(&e, "/*\n * Project '%s': %u trigger%s, %u step%s, %u pipeline%s.\n"
		" * Only tables: the trig runtime (libtrig, see trig.h) runs them.\n */\n"
		"#include <trig.h>\n",
	    cmt(&e, p->name), p->ntriggers, p->ntriggers == 1 ? "" : "s", p->nsteps,
	    p->nsteps == 1 ? "" : "s",
	    p->npipelines, p->npipelines == 1 ? "" : "s");

	if (ir->matchers_c)
		out(&e, "\n/* The regular expressions of `matches` filters, as DFAs (generated by\n"
			" * re2c at build time). */\n%s", ir->matchers_c);
	emit_paths(&e);
	emit_steps(&e);
	emit_pipelines(&e);
	emit_triggers(&e);

	if (p->npaths) {
		out(&e, "\nstatic const struct trig_field paths[] = {\n");
		for (uint32_t i = 0; i < p->npaths; i++)
			out(&e, "\t%s,\n", init_field(&e, &p->paths[i]));
		out(&e, "};\n");
	}

	if (p->nroutes) {
		out(&e, "\n/* Webhook routes, sorted by path for a binary search. */\n"
			"static const struct trig_route routes[] = {\n");
		for (uint32_t i = 0; i < p->nroutes; i++)
			out(&e, "\t{ %s, %u },\n", lit(&e, p->routes[i].path), p->routes[i].trigger);
		out(&e, "};\n");
	}

	const struct trig_backend *b = &p->backend;
	out(&e, "\nstatic const struct trig_project project = {\n"
		"\t.abi = TRIG_ABI,\n\t.name = %s,\n\t.trigc_version = %s,\n\t.defs_hash = %s,\n"
		"\t.backend = {\n\t\t.kind = %s,\n\t\t.workdir = %s,\n\t\t.repository = %s,\n"
		"\t\t.max_parallel = %u,\n\t\t.url = %s,\n\t\t.token = %s,\n\t\t.project_id = %s,\n\t},\n"
		"\t.steps = %s, .nsteps = %u,\n\t.pipelines = %s, .npipelines = %u,\n"
		"\t.triggers = %s, .ntriggers = %u,\n\t.paths = %s, .npaths = %u,\n"
		"\t.routes = %s, .nroutes = %u,\n};\n",
	    lit(&e, p->name), lit(&e, p->trigc_version), lit(&e, p->defs_hash),
	    b->kind == TRIG_BACKEND_VALOHAI ? "TRIG_BACKEND_VALOHAI" : "TRIG_BACKEND_LOCAL",
	    lit(&e, b->workdir), lit(&e, b->repository), b->max_parallel, lit(&e, b->url),
	    init_secret(&e, &b->token), lit(&e, b->project_id),
	    p->nsteps ? "steps" : "NULL", p->nsteps, p->npipelines ? "pipelines" : "NULL",
	    p->npipelines, p->ntriggers ? "triggers" : "NULL", p->ntriggers,
	    p->npaths ? "paths" : "NULL", p->npaths, p->nroutes ? "routes" : "NULL", p->nroutes);
	out(&e, "\nint main(int argc, char **argv)\n{\n\treturn trig_main(&project, argc, argv);\n}\n");
	int err = e.err;
	arena_free(&e.a);
	return err;
}
