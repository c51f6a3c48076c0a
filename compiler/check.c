/*
 * check.c — the lint rules.
 *
 * One function per construct, in the order of SPEC.md §2: project and
 * backend, steps, pipelines, then each trigger (its kind, conditions,
 * actions, templates).  Every message names the thing that is wrong first
 * and points at it; a duplicate points back at the first with a note.
 */
#include "check.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cron.h"
#include "decode.h"
#include "regex.h"
#include "timeutil.h"
#include "tmpl.h"
#include "tz.h"

struct chk {
	struct arena *a;
	struct diag *d;
	const struct sources *s;
	const struct ast_project *p;
	const struct ast_trigger *t;    /* the trigger being checked */
	bool has_jwt;                   /* claim.* is available */
};

struct loc check_loc_in(const struct ast_str *s, uint32_t off, uint32_t len)
{
	const struct tree *n = s->node;
	if (!n || n->kind != TREE_SCALAR || !n->u.scalar.exact || off + len > n->u.scalar.len + 1)
		return s->loc;
	return loc_sub(n->u.scalar.text_loc, off, len ? len : 1);
}

/* Bytes [OFF, OFF + LEN) of a map key written at L, when the key was
 * written as it is (bare, no escapes); all of L otherwise. */
static struct loc key_loc_in(struct loc l, const char *key, size_t off, size_t len)
{
	if (l.len != strlen(key) || off + len > l.len)
		return l;
	return loc_sub(l, (uint32_t)off, (uint32_t)(len ? len : 1));
}

/* ------------------------------------------------------------ lookups */

static const struct ast_step *find_step(const struct ast_project *p, const char *name)
{
	for (size_t i = 0; i < p->nsteps; i++)
		if (p->steps[i].name.s && strcmp(p->steps[i].name.s, name) == 0)
			return &p->steps[i];
	return NULL;
}

static const struct ast_pipeline *find_pipeline(const struct ast_project *p, const char *name)
{
	for (size_t i = 0; i < p->npipelines; i++)
		if (p->pipelines[i].name.s && strcmp(p->pipelines[i].name.s, name) == 0)
			return &p->pipelines[i];
	return NULL;
}

static const struct ast_node *find_node(const struct ast_pipeline *pl, const char *name, size_t len)
{
	for (size_t i = 0; i < pl->nnodes; i++)
		if (pl->nodes[i].name.s && strlen(pl->nodes[i].name.s) == len &&
		    memcmp(pl->nodes[i].name.s, name, len) == 0)
			return &pl->nodes[i];
	return NULL;
}

/* NULL-ended list of a set of names, for suggestions. */
static const char **names_of(struct chk *c, size_t n, const struct ast_str *(*get)(const void *, size_t),
			     const void *arr)
{
	const char **v = arena_alloc(c->a, (n + 1) * sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ast_str *s = get(arr, i);
		if (s->s)
			v[k++] = s->s;
	}
	v[k] = NULL;
	return v;
}

static const struct ast_str *step_name(const void *arr, size_t i)
{
	return &((const struct ast_step *)arr)[i].name;
}
static const struct ast_str *pipeline_name(const void *arr, size_t i)
{
	return &((const struct ast_pipeline *)arr)[i].name;
}
static const struct ast_str *param_name(const void *arr, size_t i)
{
	return &((const struct ast_param *)arr)[i].name;
}
static const struct ast_str *input_name(const void *arr, size_t i)
{
	return &((const struct ast_input *)arr)[i].name;
}
static const struct ast_str *node_name(const void *arr, size_t i)
{
	return &((const struct ast_node *)arr)[i].name;
}

static void unknown(struct chk *c, struct loc at, const char *rule, const char *what,
		    const char *name, const char **candidates, const char *where)
{
	const char *near = candidates ? decode_suggest(name, candidates) : NULL;
	if (near)
		diag_error(c->d, at, rule, "unknown %s '%s'%s; did you mean '%s'?", what, name,
			   where ? where : "", near);
	else
		diag_error(c->d, at, rule, "unknown %s '%s'%s", what, name, where ? where : "");
}

/* ------------------------------------------------------------ names */

static void check_name(struct chk *c, const struct ast_str *n, const char *what)
{
	if (!n->s || decode_valid_name(n->s))
		return;
	if (strlen(n->s) > 64)
		diag_error(c->d, n->loc, "bad-name", "%s name '%s' is longer than 64 characters",
			   what, n->s);
	else
		diag_error(c->d, n->loc, "bad-name",
			   "%s name '%s' must be lowercase letters, digits and '-', starting "
			   "with a letter", what, n->s);
}

/* A name and where it stands in its list, sorted to find equal names in
 * O(n log n): a project may hold thousands of triggers. */
struct named {
	const char *name;
	size_t index;
};

static int named_cmp(const void *pa, const void *pb)
{
	const struct named *a = pa, *b = pb;
	int r = strcmp(a->name, b->name);
	return r ? r : a->index < b->index ? -1 : a->index > b->index;
}

/* Sorts V and calls DUP(i, first, ctx) for every entry i that repeats the
 * name of an earlier entry first (list indexes). */
static void find_duplicates(struct named *v, size_t n, void (*dup)(size_t, size_t, void *),
			    void *ctx)
{
	qsort(v, n, sizeof(*v), named_cmp);
	for (size_t i = 1, first = 0; i < n; i++) {
		if (strcmp(v[i].name, v[first].name) != 0)
			first = i;
		else
			dup(v[i].index, v[first].index, ctx);
	}
}

struct unique_ctx {
	struct chk *c;
	const char *rule, *what;
	const struct ast_str *(*get)(const void *, size_t);
	const void *arr;
};

static void report_unique(size_t i, size_t first, void *p)
{
	struct unique_ctx *u = p;
	const struct ast_str *a = u->get(u->arr, i), *b = u->get(u->arr, first);
	diag_error(u->c->d, a->loc, u->rule, "duplicate %s '%s'", u->what, a->s);
	diag_note(u->c->d, b->loc, "first defined here");
}

/* Reports every name that repeats an earlier one. */
static void check_unique(struct chk *c, const char *rule, const char *what, size_t n,
			 const struct ast_str *(*get)(const void *, size_t), const void *arr)
{
	struct named *v = arena_alloc(c->a, (n ? n : 1) * sizeof(*v));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (get(arr, i)->s)
			v[k++] = (struct named){ get(arr, i)->s, i };
	struct unique_ctx u = { c, rule, what, get, arr };
	find_duplicates(v, k, report_unique, &u);
}

/* ------------------------------------------------------------ secrets */

/* The secret KEY of WHAT ("the backend", "a token condition") at OWNER. */
static void check_secret(struct chk *c, const struct ast_secret *s, const char *what,
			 const char *key, bool required, struct loc owner)
{
	if (s->kind == AST_SECRET_LITERAL) {
		diag_error(c->d, s->loc, "literal-secret",
			   "the '%s' of %s is written in the definitions; read it at run time "
			   "with {env: NAME} or {file: PATH}", key, what);
		return;
	}
	if (s->kind == AST_SECRET_NONE && required)
		diag_error(c->d, owner, "missing-key", "%s has no '%s' (where to read the secret: "
			   "{env: NAME} or {file: PATH})", what, key);
	if (s->kind == AST_SECRET_ENV) {
		const char *n = s->ref.s;
		bool ok = (n[0] >= 'A' && n[0] <= 'Z') || (n[0] >= 'a' && n[0] <= 'z') || n[0] == '_';
		for (const char *q = n; *q && ok; q++)
			ok = (*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
			     (*q >= '0' && *q <= '9') || *q == '_';
		if (!ok)
			diag_error(c->d, s->ref.loc, "bad-value",
				   "'%s' is not an environment variable name", n);
	}
}

/* Header values that carry credentials must not be literal text. */
static void check_header_literals(struct chk *c, const struct ast_bindings *h)
{
	static const char *const words[] = {
		"authorization", "token", "secret", "api-key", "apikey", "password", "cookie", NULL
	};
	for (size_t i = 0; i < h->n; i++) {
		const struct ast_binding *b = &h->v[i];
		char lower[128];
		size_t n = strlen(b->name.s);
		if (n >= sizeof(lower))
			n = sizeof(lower) - 1;
		for (size_t k = 0; k < n; k++)
			lower[k] = (char)((b->name.s[k] >= 'A' && b->name.s[k] <= 'Z')
						  ? b->name.s[k] + 32 : b->name.s[k]);
		lower[n] = 0;
		bool sensitive = false;
		for (const char *const *w = words; *w; w++)
			if (strstr(lower, *w))
				sensitive = true;
		if (!sensitive || b->values.n != 1)
			continue;
		const char *v = b->values.v[0].s;
		if (*v && !tmpl_has_fields(v))
			diag_error(c->d, b->values.v[0].loc, "literal-secret",
				   "header '%s' carries a credential written in the definitions; "
				   "credentials are read at run time, never compiled in", b->name.s);
	}
}

/* ------------------------------------------------------------ templates */

static bool root_allowed(struct chk *c, const struct fieldref *f, bool in_hmac_message,
			 const char **why)
{
	enum ast_trigger_kind k = c->t ? c->t->kind : AST_TRIGGER_NONE;
	/* A signature is checked before anything is parsed or launched: its
	 * message can hold only what the request carries as it came. */
	if (in_hmac_message && f->root != TRIG_ROOT_BODY && f->root != TRIG_ROOT_HEADER &&
	    f->root != TRIG_ROOT_QUERY && f->root != TRIG_ROOT_FORM) {
		*why = "an hmac message is signed over the request as sent: body, header.*, "
		       "query.* or form.*";
		return false;
	}
	switch (f->root) {
	case TRIG_ROOT_PAYLOAD:
		if (k == AST_NOTIFICATION) {
			*why = "a notification trigger reads its event as event.*";
			return false;
		}
		return true;
	case TRIG_ROOT_FORM:
	case TRIG_ROOT_HEADER:
	case TRIG_ROOT_QUERY:
	case TRIG_ROOT_REMOTE_IP:
		if (k != AST_WEBHOOK) {
			*why = k == AST_SCHEDULE ? "a schedule trigger has no request"
						 : "a notification trigger has no request";
			return false;
		}
		return true;
	case TRIG_ROOT_CLAIM:
		if (k != AST_WEBHOOK || !c->has_jwt) {
			*why = "claims come from a jwt condition, and this trigger has none";
			return false;
		}
		return true;
	case TRIG_ROOT_EVENT:
		if (k != AST_NOTIFICATION) {
			*why = "only a notification trigger has an event";
			return false;
		}
		return true;
	case TRIG_ROOT_BODY:
		if (!in_hmac_message) {
			*why = "the raw body is only for an hmac message; use payload.* or form.*";
			return false;
		}
		return true;
	default:
		return true;
	}
}

static void check_field_ref(struct chk *c, const struct ast_str *s, const struct fieldref *f,
			    uint32_t base, bool in_hmac_message)
{
	const char *why;
	if (!root_allowed(c, f, in_hmac_message, &why))
		diag_error(c->d, check_loc_in(s, base + f->off, (uint32_t)strlen(f->root_name)),
			   "template-root", "'%s' is not available here: %s", f->root_name, why);
}

static void check_template(struct chk *c, const struct ast_str *s, bool in_hmac_message)
{
	if (!s->s)
		return;
	struct tmpl t;
	struct tmpl_error err;
	if (tmpl_parse(c->a, s->s, &t, &err)) {
		diag_error(c->d, check_loc_in(s, err.off, err.len),
			   err.unknown_root ? "template-root" : "template-syntax", "%s", err.msg);
		return;
	}
	for (size_t i = 0; i < t.n; i++)
		if (t.v[i].is_field)
			check_field_ref(c, s, &t.v[i].field, 0, in_hmac_message);
}

static void check_field(struct chk *c, const struct ast_str *s)
{
	struct fieldref f;
	struct tmpl_error err;
	if (field_parse(c->a, s->s, strlen(s->s), &f, &err)) {
		diag_error(c->d, check_loc_in(s, err.off, err.len),
			   err.unknown_root ? "template-root" : "template-syntax", "%s", err.msg);
		return;
	}
	if (f.root == TRIG_ROOT_TRIGGER || f.root == TRIG_ROOT_LAUNCH_ID || f.root == TRIG_ROOT_NOW ||
	    f.root == TRIG_ROOT_BODY) {
		diag_error(c->d, s->loc, "template-root",
			   "a filter reads the request or the event, not '%s'", f.root_name);
		return;
	}
	check_field_ref(c, s, &f, 0, false);
}

static void check_bindings_templates(struct chk *c, const struct ast_bindings *b)
{
	for (size_t i = 0; i < b->n; i++)
		for (size_t j = 0; j < b->v[i].values.n; j++)
			check_template(c, &b->v[i].values.v[j], false);
}

/* ------------------------------------------------------------ backend, steps */

static void check_backend(struct chk *c, const struct ast_backend *b, uint32_t main_file)
{
	if (!b)
		return;
	if (b->max_parallel.set && (b->max_parallel.v < 1 || b->max_parallel.v > 1024))
		diag_error(c->d, b->max_parallel.loc, "bad-value",
			   "'max-parallel' must be between 1 and 1024");
	check_secret(c, &b->token, "the backend", "token", false, b->loc);
	if (b->kind.set && b->kind.v == AST_BACKEND_VALOHAI) {
		if (!b->url.s)
			diag_error(c->d, b->loc, "missing-key", "a valohai backend has no 'url'");
		if (b->token.kind == AST_SECRET_NONE)
			diag_error(c->d, b->loc, "missing-key", "a valohai backend has no 'token'");
		if (!b->project_id.s)
			diag_error(c->d, b->loc, "missing-key", "a valohai backend has no 'project-id'");
	}
	const struct ast_str *dirs[] = { &b->workdir, &b->repository };
	for (int i = 0; i < 2; i++) {
		const struct ast_str *dir = dirs[i];
		if (!dir->s)
			continue;
		const char *path = source_relative(c->a, c->s, dir->loc.file ? dir->loc.file : main_file,
						   dir->s);
		struct stat st;
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			diag_error(c->d, dir->loc, "workdir", "%s '%s' is not a folder",
				   i == 0 ? "workdir" : "repository", dir->s);
	}
}

static void check_param_value(struct chk *c, const struct ast_param *p, const struct ast_str *v)
{
	if (!p->type.set || !v->s || tmpl_has_fields(v->s))
		return;
	const char *s = v->s, *end = s;
	bool ok = true;
	switch (p->type.v) {
	case AST_PARAM_INTEGER:
		if (*end == '-' || *end == '+')
			end++;
		ok = *end != 0;
		for (; *end; end++)
			ok = ok && *end >= '0' && *end <= '9';
		break;
	case AST_PARAM_FLOAT: {
		char *e;
		(void)strtod(s, &e);
		ok = *s && !*e;
		break;
	}
	case AST_PARAM_FLAG:
		ok = !strcmp(s, "true") || !strcmp(s, "false") || !strcmp(s, "1") || !strcmp(s, "0") ||
		     !strcmp(s, "yes") || !strcmp(s, "no");
		break;
	}
	if (!ok)
		diag_error(c->d, v->loc, "bad-value", "parameter '%s' is %s %s, not '%s'",
			   p->name.s, p->type.v == AST_PARAM_INTEGER ? "an" : "a",
			   ast_param_type_words[p->type.v], s);
}

static void check_step(struct chk *c, const struct ast_step *st)
{
	if (!st->imported)
		check_name(c, &st->name, "step");
	if (st->command.set && st->command.n == 0)
		diag_error(c->d, st->command.loc, "bad-value", "step '%s' has an empty command",
			   st->name.s ? st->name.s : "?");
	check_unique(c, "duplicate-key", "parameter", st->nparams, param_name, st->params);
	check_unique(c, "duplicate-key", "input", st->ninputs, input_name, st->inputs);
	for (size_t i = 0; i < st->nparams; i++)
		check_param_value(c, &st->params[i], &st->params[i].default_value);
}

/* ------------------------------------------------------------ pipelines */

/* An edge end: NODE.output.GLOB | NODE.input.NAME | NODE.parameter.NAME */
static void check_edge_end(struct chk *c, const struct ast_pipeline *pl, const struct ast_str *e,
			   bool from)
{
	const char *s = e->s, *dot = strchr(s, '.');
	const char *dot2 = dot ? strchr(dot + 1, '.') : NULL;
	if (!dot || !dot2 || !dot2[1]) {
		diag_error(c->d, e->loc, "bad-value",
			   "expected NODE.%s.NAME in an edge, found '%s'", from ? "output" : "input", s);
		return;
	}
	const struct ast_node *n = find_node(pl, s, (size_t)(dot - s));
	if (!n) {
		char *name = arena_strndup(c->a, s, (size_t)(dot - s));
		unknown(c, check_loc_in(e, 0, (uint32_t)(dot - s)), "unknown-node", "node", name,
			names_of(c, pl->nnodes, node_name, pl->nodes),
			arena_printf(c->a, " in pipeline '%s'", pl->name.s));
		return;
	}
	size_t klen = (size_t)(dot2 - dot - 1);
	const char *kind = dot + 1;
	bool ok = from ? (klen == 6 && !memcmp(kind, "output", 6)) || (klen == 9 && !memcmp(kind, "parameter", 9))
		       : (klen == 5 && !memcmp(kind, "input", 5)) || (klen == 9 && !memcmp(kind, "parameter", 9));
	if (!ok) {
		diag_error(c->d, check_loc_in(e, (uint32_t)(kind - s), (uint32_t)klen), "bad-value",
			   "an edge goes %s, found '%.*s'",
			   from ? "from NODE.output.GLOB or NODE.parameter.NAME"
				: "to NODE.input.NAME or NODE.parameter.NAME", (int)klen, kind);
		return;
	}
	const struct ast_step *st = n->step.s ? find_step(c->p, n->step.s) : NULL;
	if (!st || (from && kind[0] == 'o'))
		return;
	const char *name = dot2 + 1;
	if (kind[0] == 'i') {
		for (size_t i = 0; i < st->ninputs; i++)
			if (st->inputs[i].name.s && !strcmp(st->inputs[i].name.s, name))
				return;
		unknown(c, check_loc_in(e, (uint32_t)(name - s), (uint32_t)strlen(name)),
			"unknown-input", "input", name, names_of(c, st->ninputs, input_name, st->inputs),
			arena_printf(c->a, " of step '%s'", st->name.s));
	} else {
		for (size_t i = 0; i < st->nparams; i++)
			if (st->params[i].name.s && !strcmp(st->params[i].name.s, name))
				return;
		unknown(c, check_loc_in(e, (uint32_t)(name - s), (uint32_t)strlen(name)),
			"unknown-parameter", "parameter", name,
			names_of(c, st->nparams, param_name, st->params),
			arena_printf(c->a, " of step '%s'", st->name.s));
	}
}

static void check_pipeline(struct chk *c, const struct ast_pipeline *pl)
{
	if (!pl->imported)
		check_name(c, &pl->name, "pipeline");
	check_unique(c, "duplicate-key", "node", pl->nnodes, node_name, pl->nodes);
	const char **steps = names_of(c, c->p->nsteps, step_name, c->p->steps);
	for (size_t i = 0; i < pl->nnodes; i++) {
		const struct ast_node *n = &pl->nodes[i];
		if (n->step.s && !find_step(c->p, n->step.s))
			unknown(c, n->step.loc, "unknown-step", "step", n->step.s, steps, NULL);
		if (n->type.s && strcmp(n->type.s, "execution") != 0)
			diag_error(c->d, n->type.loc, "bad-value",
				   "node type '%s' is not supported; trig runs 'execution' nodes",
				   n->type.s);
	}
	for (size_t i = 0; i < pl->nedges; i++) {
		check_edge_end(c, pl, &pl->edges[i].from, true);
		check_edge_end(c, pl, &pl->edges[i].to, false);
	}
}

/* ------------------------------------------------------------ schedules */

/* The time zone the system knows (TZDIR's tzdata.zi: its zones and links)
 * that NAME most likely means, or NULL. */
static const char *suggest_timezone(struct chk *c, const char *name)
{
	const char *dir = getenv("TZDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/tzdata.zi", dir && *dir ? dir : "/usr/share/zoneinfo");
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	const char **names = NULL;
	size_t n = 0, cap = 0;
	const char *same = NULL;
	char line[1024];
	while (!same && fgets(line, sizeof(line), f)) {
		/* "Z NAME ..." is a zone, "L TARGET NAME" a link. */
		if ((line[0] != 'Z' && line[0] != 'L') || line[1] != ' ')
			continue;
		char *z = line + 2;
		if (line[0] == 'L')
			z += strcspn(z, " \t\n") + 1;
		z[strcspn(z, " \t\n")] = 0;
		if (!*z)
			continue;
		if (strcasecmp(z, name) == 0)
			same = arena_strdup(c->a, z);
		else
			*ARENA_PUSH(c->a, names, n, cap) = arena_strdup(c->a, z);
	}
	fclose(f);
	if (same)
		return same;
	*ARENA_PUSH(c->a, names, n, cap) = NULL;
	return decode_suggest(name, names);
}

/* Where fields FIRST to LAST (0-based) of a five-field cron expression
 * are in its text, for a caret; the whole text otherwise. */
static struct loc cron_fields_loc(const struct ast_str *cron, int first, int last)
{
	const char *s = cron->s, *p = s, *from = NULL, *to = NULL;
	for (int i = 0; *p; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (i == first)
			from = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (i == last)
			to = p;
	}
	if (!from || !to)
		return cron->loc;
	return check_loc_in(cron, (uint32_t)(from - s), (uint32_t)(to - from));
}

static void check_hhmm(struct chk *c, const struct ast_str *at)
{
	unsigned h, m;
	struct trig_cron_error err;
	if (at->s && trig_cron_at(at->s, &h, &m, &err) != 0)
		diag_error(c->d, check_loc_in(at, err.offset, err.len), "bad-value", "%s", err.msg);
}

static void check_schedule(struct chk *c, const struct ast_schedule *s)
{
	const struct ast_str *cron = s->cron.s ? &s->cron : NULL;
	int forms = !!s->cron.s + s->every.set + !!s->daily.s + !!s->weekdays.s + s->monthly.set;
	if (forms == 0)
		diag_error(c->d, s->loc, "schedule",
			   "a schedule needs one of cron, every, daily, weekdays or monthly");
	else if (forms > 1)
		diag_error(c->d, s->loc, "schedule",
			   "a schedule has one of cron, every, daily, weekdays or monthly, not %d", forms);
	if (cron) {
		struct trig_cron bits;
		struct trig_cron_error err;
		if (trig_cron_parse(cron->s, &bits, &err) != 0)
			diag_error(c->d, check_loc_in(cron, err.offset, err.len), "cron-syntax",
				   "%s", err.msg);
		else if (!trig_cron_can_fire(&bits))
			diag_error(c->d, cron_fields_loc(cron, 2, 3), "cron-never",
				   "cron '%s' can never fire: none of its months has such a day",
				   cron->s);
	}
	if (s->every.set && s->every.v < 1000)
		diag_error(c->d, s->every.loc, "bad-value", "'every' must be at least 1s");
	check_hhmm(c, &s->daily);
	check_hhmm(c, &s->weekdays);
	if (s->monthly.set) {
		if (!s->monthly.day.set || !s->monthly.at.s)
			diag_error(c->d, s->monthly.loc, "missing-key",
				   "'monthly' needs a day and a time: {day: 1, at: \"00:00\"}");
		if (s->monthly.day.set && (s->monthly.day.v < 1 || s->monthly.day.v > 31))
			diag_error(c->d, s->monthly.day.loc, "bad-value",
				   "'day' must be between 1 and 31");
		else if (s->monthly.day.set && s->monthly.day.v > 28)
			diag_warning(c->d, s->monthly.day.loc, "monthly-short-months",
				     "day %lld skips the months that are shorter",
				     (long long)s->monthly.day.v);
		check_hhmm(c, &s->monthly.at);
	}
	if (s->timezone.s) {
		char err[256];
		if (!trig_tz_get(s->timezone.s, err, sizeof(err))) {
			const char *near = suggest_timezone(c, s->timezone.s);
			if (near)
				diag_error(c->d, s->timezone.loc, "unknown-timezone",
					   "%s; did you mean '%s'?", err, near);
			else
				diag_error(c->d, s->timezone.loc, "unknown-timezone", "%s", err);
		}
	}
	if (s->every.set && s->timezone.s)
		diag_warning(c->d, s->timezone.loc, "timezone-unused",
			     "a time zone has no effect on 'every'");
}

/* ------------------------------------------------------------ conditions */

static const char *const methods[] = {
	"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL
};

static void check_status(struct chk *c, const struct ast_int *v, const char *what)
{
	if (v->set && (v->v < 100 || v->v > 599))
		diag_error(c->d, v->loc, "bad-value", "%s %lld is not an HTTP status (100-599)",
			   what, (long long)v->v);
}

static bool is_auth(enum ast_cond_kind k)
{
	return k == AST_COND_TOKEN || k == AST_COND_HMAC || k == AST_COND_JWT;
}

static void check_cond(struct chk *c, const struct ast_cond *k);

static void check_conds(struct chk *c, const struct ast_cond *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_cond(c, &v[i]);
}

static void check_cidr(struct chk *c, const struct ast_str *s)
{
	char addr[64];
	const char *slash = strchr(s->s, '/');
	size_t alen = slash ? (size_t)(slash - s->s) : strlen(s->s);
	unsigned char buf[16];
	bool v6 = memchr(s->s, ':', alen) != NULL;
	bool ok = alen < sizeof(addr);
	if (ok) {
		memcpy(addr, s->s, alen);
		addr[alen] = 0;
		ok = inet_pton(v6 ? AF_INET6 : AF_INET, addr, buf) == 1;
	}
	if (ok && slash) {
		char *end;
		long bits = strtol(slash + 1, &end, 10);
		ok = slash[1] && !*end && bits >= 0 && bits <= (v6 ? 128 : 32);
	}
	if (!ok)
		diag_error(c->d, s->loc, "bad-value",
			   "'%s' is not an IPv4 or IPv6 address or CIDR block", s->s);
}

static void check_cond(struct chk *c, const struct ast_cond *k)
{
	const struct ast_trigger *t = c->t;
	const char *kind = ast_cond_words[k->kind];
	if (t->kind == AST_SCHEDULE && k->kind != AST_COND_FILTER) {
		diag_error(c->d, k->loc, "condition-context",
			   "a schedule trigger has no request to check; '%s' needs a webhook", kind);
		return;
	}
	if (t->kind == AST_NOTIFICATION && (is_auth(k->kind) || k->kind == AST_COND_TIMESTAMP ||
					    k->kind == AST_COND_REPLAY || k->kind == AST_COND_IP_ALLOW)) {
		diag_error(c->d, k->loc, "condition-context",
			   "'%s' checks a webhook request; a notification trigger's events come "
			   "from the program itself or its admin endpoint", kind);
		return;
	}
	switch (k->kind) {
	case AST_COND_TOKEN: {
		check_secret(c, &k->secret, "a token condition", "secret", true, k->loc);
		int where = !!k->header.s + !!k->query.s + (k->bearer.set && k->bearer.v);
		if (where != 1)
			diag_error(c->d, k->loc, where ? "bad-value" : "missing-key",
				   "a token is read from one place: header, query or bearer");
		break;
	}
	case AST_COND_HMAC:
		check_secret(c, &k->secret, "an hmac condition", "secret", true, k->loc);
		if (!k->preset.set) {
			if (!k->algorithm.set)
				diag_error(c->d, k->loc, "missing-key",
					   "an hmac without a preset needs an algorithm (sha1, sha256 or sha512)");
			if (!k->header.s)
				diag_error(c->d, k->loc, "missing-key",
					   "an hmac without a preset needs the header holding the signature");
		}
		check_template(c, &k->message, true);
		break;
	case AST_COND_JWT: {
		static const char *const algs[] = {
			"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384",
			"PS512", "ES256", "ES384", "EdDSA", NULL
		};
		if (!k->algorithms.set || k->algorithms.n == 0)
			diag_error(c->d, k->loc, "missing-key",
				   "a jwt condition pins its algorithms, e.g. algorithms: [RS256]");
		bool hs = false, asym = false;
		for (size_t i = 0; i < k->algorithms.n; i++) {
			const struct ast_str *a = &k->algorithms.v[i];
			int found = -1;
			for (int j = 0; algs[j]; j++)
				if (!strcmp(algs[j], a->s))
					found = j;
			if (found < 0)
				unknown(c, a->loc, "bad-value", "jwt algorithm", a->s,
					(const char **)algs, NULL);
			else if (found < 3)
				hs = true;
			else
				asym = true;
		}
		if (hs && asym)
			diag_error(c->d, k->algorithms.loc, "bad-value",
				   "a jwt key is either a shared secret (HS*) or a public key; "
				   "mixing both invites algorithm confusion");
		check_secret(c, &k->secret, "a jwt condition", "key", true, k->loc);
		if (hs && (k->secret.kind == AST_SECRET_JWKS_FILE || k->secret.kind == AST_SECRET_JWKS_URL))
			diag_error(c->d, k->secret.loc, "bad-value",
				   "HS* tokens are verified with a shared secret, not a JWKS");
		if (k->header.s && k->query.s)
			diag_error(c->d, k->loc, "bad-value", "a jwt is read from a header or a query, not both");
		for (size_t i = 0; i < k->claims.n; i++)
			check_template(c, &k->claims.v[i].values.v[0], false);
		break;
	}
	case AST_COND_TIMESTAMP:
		if (!!k->header.s == k->from.set)
			diag_error(c->d, k->loc, k->header.s ? "bad-value" : "missing-key",
				   "a timestamp comes from a header or from: signature%s",
				   k->header.s ? ", not both" : "");
		if (k->tolerance.set && k->tolerance.v < 1000)
			diag_error(c->d, k->tolerance.loc, "bad-value", "'tolerance' must be at least 1s");
		break;
	case AST_COND_REPLAY:
		if (!k->id.s)
			diag_error(c->d, k->loc, "missing-key",
				   "a replay check needs an id, e.g. \"{{ header.X-GitHub-Delivery }}\"");
		else if (!tmpl_has_fields(k->id.s))
			diag_error(c->d, k->id.loc, "bad-value",
				   "a replay id must come from the request, e.g. \"{{ header.X-Request-Id }}\"");
		check_template(c, &k->id, false);
		if (!k->window.set)
			diag_error(c->d, k->loc, "missing-key", "a replay check needs a window, e.g. 1h");
		break;
	case AST_COND_IP_ALLOW:
		if (k->cidrs.n == 0 && k->cidrs.set)
			diag_error(c->d, k->cidrs.loc, "bad-value", "an empty ip-allow list allows nobody");
		for (size_t i = 0; i < k->cidrs.n; i++)
			check_cidr(c, &k->cidrs.v[i]);
		break;
	case AST_COND_FILTER:
		if (!k->field.s)
			break;
		check_field(c, &k->field);
		if ((k->op == AST_OP_GREATER || k->op == AST_OP_LESS) && k->value.s) {
			char *end;
			(void)strtod(k->value.s, &end);
			if (!*k->value.s || *end)
				diag_error(c->d, k->value.loc, "bad-value",
					   "'%s' compares numbers; '%s' is not one",
					   ast_filter_op_words[k->op], k->value.s);
		}
		if (k->op == AST_OP_MATCHES && k->value.s && !*k->value.s) {
			diag_error(c->d, k->value.loc, "bad-value", "an empty regular expression");
		} else if (k->op == AST_OP_MATCHES && k->value.s) {
			struct regex_re2c re;
			size_t off;
			char msg[160];
			if (regex_to_re2c(c->a, k->value.s, &re, &off, msg, sizeof(msg)) != 0)
				diag_error(c->d, check_loc_in(&k->value, (uint32_t)off, 1), "regex",
					   "%s", msg);
		}
		if ((k->op == AST_OP_IN || k->op == AST_OP_NOT_IN) && k->values.set && !k->values.n)
			diag_error(c->d, k->values.loc, "bad-value", "an empty list");
		break;
	case AST_COND_ANY:
	case AST_COND_ALL:
	case AST_COND_NOT:
		for (size_t i = 0; i < k->nchildren; i++) {
			if (k->children[i].kind != AST_COND_FILTER && k->children[i].kind != AST_COND_ANY &&
			    k->children[i].kind != AST_COND_ALL && k->children[i].kind != AST_COND_NOT)
				diag_error(c->d, k->children[i].loc, "condition-context",
					   "'%s' groups filters; '%s' belongs at the top of the conditions",
					   kind, ast_cond_words[k->children[i].kind]);
			else
				check_cond(c, &k->children[i]);
		}
		break;
	case AST_COND_RATE_LIMIT:
		if (!k->max.set || !k->per.set)
			diag_error(c->d, k->loc, "missing-key",
				   "a rate limit needs max and per, e.g. {max: 10, per: 1h}");
		if (k->max.set && k->max.v < 1)
			diag_error(c->d, k->max.loc, "bad-value", "'max' must be at least 1");
		if (k->per.set && k->per.v < 1000)
			diag_error(c->d, k->per.loc, "bad-value", "'per' must be at least 1s");
		check_template(c, &k->key, false);
		break;
	}
}

/* ------------------------------------------------------------ actions */

static const struct ast_param *step_param(const struct ast_step *st, const char *name)
{
	for (size_t i = 0; i < st->nparams; i++)
		if (st->params[i].name.s && !strcmp(st->params[i].name.s, name))
			return &st->params[i];
	return NULL;
}

static bool step_input(const struct ast_step *st, const char *name)
{
	for (size_t i = 0; i < st->ninputs; i++)
		if (st->inputs[i].name.s && !strcmp(st->inputs[i].name.s, name))
			return true;
	return false;
}

static void check_step_bindings(struct chk *c, const struct ast_step *st, const struct ast_action *a)
{
	for (size_t i = 0; i < a->parameters.n; i++) {
		const struct ast_binding *b = &a->parameters.v[i];
		const struct ast_param *p = step_param(st, b->name.s);
		if (!p)
			unknown(c, b->name.loc, "unknown-parameter", "parameter", b->name.s,
				names_of(c, st->nparams, param_name, st->params),
				arena_printf(c->a, " of step '%s'", st->name.s));
		else
			check_param_value(c, p, &b->values.v[0]);
	}
	for (size_t i = 0; i < a->inputs.n; i++) {
		const struct ast_binding *b = &a->inputs.v[i];
		if (!step_input(st, b->name.s))
			unknown(c, b->name.loc, "unknown-input", "input", b->name.s,
				names_of(c, st->ninputs, input_name, st->inputs),
				arena_printf(c->a, " of step '%s'", st->name.s));
	}
	if (a->payload_input.s && !tmpl_has_fields(a->payload_input.s) &&
	    !step_input(st, a->payload_input.s))
		unknown(c, a->payload_input.loc, "unknown-input", "input", a->payload_input.s,
			names_of(c, st->ninputs, input_name, st->inputs),
			arena_printf(c->a, " of step '%s'", st->name.s));
	for (size_t i = 0; i < a->environment.n; i++) {
		const char *n = a->environment.v[i].name.s;
		bool ok = (n[0] >= 'A' && n[0] <= 'Z') || (n[0] >= 'a' && n[0] <= 'z') || n[0] == '_';
		for (const char *q = n; *q && ok; q++)
			ok = (*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') ||
			     (*q >= '0' && *q <= '9') || *q == '_';
		if (!ok)
			diag_error(c->d, a->environment.v[i].name.loc, "bad-value",
				   "'%s' is not an environment variable name", n);
	}
}

/* NODE.NAME keys of run-pipeline parameters and inputs. */
static void check_node_bindings(struct chk *c, const struct ast_pipeline *pl,
				const struct ast_bindings *bs, bool inputs)
{
	for (size_t i = 0; i < bs->n; i++) {
		const struct ast_binding *b = &bs->v[i];
		const char *dot = strchr(b->name.s, '.');
		if (!dot) {
			diag_error(c->d, b->name.loc, "bad-value",
				   "a pipeline's %s are named NODE.NAME, e.g. train.%s",
				   inputs ? "inputs" : "parameters", inputs ? "dataset" : "epochs");
			continue;
		}
		size_t nlen = (size_t)(dot - b->name.s);
		const struct ast_node *n = find_node(pl, b->name.s, nlen);
		if (!n) {
			unknown(c, key_loc_in(b->name.loc, b->name.s, 0, nlen), "unknown-node", "node",
				arena_strndup(c->a, b->name.s, (size_t)(dot - b->name.s)),
				names_of(c, pl->nnodes, node_name, pl->nodes),
				arena_printf(c->a, " in pipeline '%s'", pl->name.s));
			continue;
		}
		const struct ast_step *st = n->step.s ? find_step(c->p, n->step.s) : NULL;
		if (!st)
			continue;
		if (inputs ? !step_input(st, dot + 1) : !step_param(st, dot + 1))
			unknown(c, key_loc_in(b->name.loc, b->name.s, nlen + 1, strlen(dot + 1)),
				inputs ? "unknown-input" : "unknown-parameter",
				inputs ? "input" : "parameter", dot + 1,
				inputs ? names_of(c, st->ninputs, input_name, st->inputs)
				       : names_of(c, st->nparams, param_name, st->params),
				arena_printf(c->a, " of step '%s' (node '%s')", st->name.s, n->name.s));
	}
}

/* *RESPONDED: the trigger's first respond action so far, or NULL. */
static void check_action(struct chk *c, const struct ast_action *a,
			 const struct ast_action **responded)
{
	const struct ast_project *p = c->p;
	check_template(c, &a->commit, false);
	check_template(c, &a->title, false);
	check_template(c, &a->source, false);
	check_template(c, &a->url, false);
	check_template(c, &a->body, false);
	check_bindings_templates(c, &a->parameters);
	check_bindings_templates(c, &a->inputs);
	check_bindings_templates(c, &a->environment);
	check_bindings_templates(c, &a->headers);
	check_header_literals(c, &a->headers);
	if (a->payload_input.s && tmpl_has_fields(a->payload_input.s)) {
		/* In .trig, `payload-input prep.data` is the template of a path. */
		const char *pi = a->payload_input.s;
		size_t n = strlen(pi);
		if (n > 6 && !strncmp(pi, "{{ ", 3) && !strcmp(pi + n - 3, " }}") &&
		    !strstr(pi + 2, "{{"))
			diag_error(c->d, a->payload_input.loc, "bad-value",
				   "'payload-input' names an input, not a template; write the "
				   "name as a string: \"%.*s\"", (int)(n - 6), pi + 3);
		else
			diag_error(c->d, a->payload_input.loc, "bad-value",
				   "'payload-input' names an input, not a template");
	}
	switch (a->kind) {
	case AST_ACT_RUN_EXECUTION: {
		if (!a->step.s)
			break;
		const struct ast_step *st = find_step(p, a->step.s);
		if (!st) {
			unknown(c, a->step.loc, "unknown-step", "step", a->step.s,
				names_of(c, p->nsteps, step_name, p->steps), NULL);
			break;
		}
		check_step_bindings(c, st, a);
		break;
	}
	case AST_ACT_RUN_PIPELINE:
	case AST_ACT_COPY_PIPELINE: {
		if (!a->pipeline.s)
			break;
		const struct ast_pipeline *pl = find_pipeline(p, a->pipeline.s);
		if (!pl) {
			unknown(c, a->pipeline.loc, "unknown-pipeline", "pipeline", a->pipeline.s,
				names_of(c, p->npipelines, pipeline_name, p->pipelines), NULL);
			break;
		}
		check_node_bindings(c, pl, &a->parameters, false);
		check_node_bindings(c, pl, &a->inputs, true);
		if (a->payload_input.s && !tmpl_has_fields(a->payload_input.s)) {
			struct ast_bindings one = { 0 };
			struct ast_binding b = { a->payload_input, { 0 } };
			one.v = &b;
			one.n = 1;
			check_node_bindings(c, pl, &one, true);
		}
		break;
	}
	case AST_ACT_HTTP:
		if (a->method.s) {
			bool ok = false;
			for (const char *const *m = methods; *m; m++)
				ok = ok || !strcmp(*m, a->method.s);
			if (!ok)
				unknown(c, a->method.loc, "bad-value", "HTTP method", a->method.s,
					(const char **)methods, NULL);
		}
		if (a->url.s && !tmpl_has_fields(a->url.s) && strncmp(a->url.s, "http://", 7) != 0 &&
		    strncmp(a->url.s, "https://", 8) != 0)
			diag_error(c->d, a->url.loc, "bad-value", "'%s' is not an http or https URL",
				   a->url.s);
		if (a->expect.set)
			check_status(c, &a->expect, "expect");
		break;
	case AST_ACT_RESPOND:
		if (c->t->kind != AST_WEBHOOK)
			diag_error(c->d, a->loc, "action-context",
				   "'respond' answers a webhook request; this trigger has none");
		if (*responded) {
			diag_error(c->d, a->loc, "action-context",
				   "a second 'respond'; a request has one answer");
			diag_note(c->d, (*responded)->loc, "the first 'respond' is here");
		} else {
			*responded = a;
		}
		check_status(c, &a->status, "status");
		break;
	case AST_ACT_FETCH_REPOSITORY:
		break;
	}
}

/* ------------------------------------------------------------ triggers */

static bool has_cond(const struct ast_cond *v, size_t n, enum ast_cond_kind k)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].kind == k)
			return true;
	return false;
}

static void check_webhook(struct chk *c, const struct ast_trigger *t)
{
	const struct ast_webhook *w = t->webhook;
	if (w->path.s) {
		const char *s = w->path.s;
		bool ok = s[0] == '/';
		for (const char *q = s; *q && ok; q++)
			ok = *q > ' ' && *q < 0x7f && *q != '?' && *q != '#' && *q != '%';
		if (s[0] != '/')
			diag_error(c->d, w->path.loc, "bad-value",
				   "webhook path '%s' must start with '/'", s);
		else if (!ok)
			diag_error(c->d, w->path.loc, "bad-value",
				   "webhook path '%s' may hold only printable ASCII, without spaces, "
				   "'?', '#' or '%%'", s);
		else if (!strcmp(s, "/healthz") || !strcmp(s, "/metrics") || !strcmp(s, "/events") ||
			 !strncmp(s, "/events/", 8))
			diag_error(c->d, w->path.loc, "duplicate-path",
				   "webhook path '%s' is the server's own", s);
	}
	for (size_t i = 0; i < w->methods.n; i++) {
		bool ok = false;
		for (const char *const *m = methods; *m; m++)
			ok = ok || !strcmp(*m, w->methods.v[i].s);
		if (!ok)
			unknown(c, w->methods.v[i].loc, "bad-value", "HTTP method", w->methods.v[i].s,
				(const char **)methods, NULL);
	}
	if (w->methods.set && w->methods.n == 0)
		diag_error(c->d, w->methods.loc, "bad-value", "an empty list of methods");
	if (w->max_body.set && (w->max_body.v < 1 || w->max_body.v > (int64_t)1 << 30))
		diag_error(c->d, w->max_body.loc, "bad-value", "'max-body' must be between 1B and 1GiB");
	check_status(c, &w->not_matched_status, "not-matched-status");
	check_status(c, &w->rejected_status, "rejected-status");
	bool auth = false;
	for (size_t i = 0; i < t->nconds; i++)
		auth = auth || is_auth(t->conds[i].kind);
	if (!auth)
		diag_warning(c->d, t->webhook->loc, "webhook-no-auth",
			     "webhook '%s' accepts requests from anyone: add a token, hmac or jwt "
			     "condition", t->name.s ? t->name.s : "?");
}

/* The path a webhook is served at. */
static const char *webhook_path(struct chk *c, const struct ast_trigger *t)
{
	if (t->webhook->path.s)
		return t->webhook->path.s;
	return t->name.s ? arena_printf(c->a, "/webhooks/%s", t->name.s) : NULL;
}

static void check_trigger(struct chk *c, const struct ast_trigger *t)
{
	c->t = t;
	c->has_jwt = has_cond(t->conds, t->nconds, AST_COND_JWT);
	check_name(c, &t->name, "trigger");
	if (t->schedule)
		check_schedule(c, t->schedule);
	if (t->webhook)
		check_webhook(c, t);
	if (t->notification && t->notification->event.s) {
		const char *e = t->notification->event.s;
		bool ok = e[0] >= 'a' && e[0] <= 'z';
		for (const char *q = e; *q && ok; q++)
			ok = (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') || *q == '_' ||
			     *q == '.' || *q == '-';
		if (!ok)
			diag_error(c->d, t->notification->event.loc, "bad-value",
				   "event type '%s' must match [a-z][a-z0-9_.-]*", e);
	}
	check_conds(c, t->conds, t->nconds);
	const struct ast_action *responded = NULL;
	for (size_t i = 0; i < t->nactions; i++)
		check_action(c, &t->actions[i], &responded);
	if (t->nactions == 0 && t->kind != AST_TRIGGER_NONE)
		diag_warning(c->d, t->name.s ? t->name.loc : t->loc, "no-actions",
			     "trigger '%s' has no actions", t->name.s ? t->name.s : "?");
	c->t = NULL;
}

struct path_ctx {
	struct chk *c;
	const struct ast_project *p;
};

static void report_path(size_t i, size_t first, void *ctx)
{
	struct path_ctx *pc = ctx;
	const struct ast_trigger *t = &pc->p->triggers[i], *u = &pc->p->triggers[first];
	const char *path = webhook_path(pc->c, t);
	const char *other = u->name.s ? u->name.s : "?";
	struct loc at = t->webhook->path.s ? t->webhook->path.loc : t->webhook->loc;
	struct loc was = u->webhook->path.s ? u->webhook->path.loc : u->webhook->loc;
	diag_error(pc->c->d, at, "duplicate-path", "webhook path '%s' is already served by trigger '%s'",
		   path, other);
	if (u->webhook->path.s)
		diag_note(pc->c->d, was, "trigger '%s' takes it here", other);
	else
		diag_note(pc->c->d, was, "trigger '%s' takes it here, by default (/webhooks/NAME)", other);
}

static const struct ast_str *trigger_name(const void *arr, size_t i)
{
	return &((const struct ast_trigger *)arr)[i].name;
}

unsigned check_project(struct arena *a, struct diag *d, const struct sources *s,
		       const struct ast_project *p)
{
	struct chk c = { a, d, s, p, NULL, false };
	unsigned before = diag_errors(d);

	check_name(&c, &p->name, "project");
	check_backend(&c, p->backend, p->main_file);
	for (size_t i = 0; i < p->nsteps; i++)
		check_step(&c, &p->steps[i]);
	check_unique(&c, "duplicate-step", "step", p->nsteps, step_name, p->steps);
	for (size_t i = 0; i < p->npipelines; i++)
		check_pipeline(&c, &p->pipelines[i]);
	check_unique(&c, "duplicate-pipeline", "pipeline", p->npipelines, pipeline_name, p->pipelines);
	check_unique(&c, "duplicate-trigger", "trigger", p->ntriggers, trigger_name, p->triggers);
	for (size_t i = 0; i < p->ntriggers; i++)
		check_trigger(&c, &p->triggers[i]);

	/* Two webhooks on one path. */
	struct named *paths = arena_alloc(a, (p->ntriggers ? p->ntriggers : 1) * sizeof(*paths));
	size_t npaths = 0;
	for (size_t i = 0; i < p->ntriggers; i++) {
		const char *path = p->triggers[i].webhook ? webhook_path(&c, &p->triggers[i]) : NULL;
		if (path)
			paths[npaths++] = (struct named){ path, i };
	}
	struct path_ctx pc = { &c, p };
	find_duplicates(paths, npaths, report_path, &pc);
	return diag_errors(d) - before;
}
