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
#include <fnmatch.h>
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
	const struct ast_action *act;   /* the action being checked, or NULL */
	size_t act_index;               /* ... its index in the trigger */
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
	case TRIG_ROOT_ACTION:
		if (!c->act) {
			*why = "conditions are checked before any action runs; only an action "
			       "reads the results of the actions before it";
			return false;
		}
		return true;
	default:
		return true;
	}
}

static void check_action_ref(struct chk *c, const struct ast_str *s, const struct fieldref *f,
			     uint32_t base);

static void check_field_ref(struct chk *c, const struct ast_str *s, const struct fieldref *f,
			    uint32_t base, bool in_hmac_message)
{
	const char *why;
	if (!root_allowed(c, f, in_hmac_message, &why))
		diag_error(c->d, check_loc_in(s, base + f->off, (uint32_t)strlen(f->root_name)),
			   "template-root", "'%s' is not available here: %s", f->root_name, why);
	else if (f->root == TRIG_ROOT_ACTION)
		check_action_ref(c, s, f, base);
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
	    f.root == TRIG_ROOT_BODY || f.root == TRIG_ROOT_ACTION) {
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

/* ------------------------------------------------------------ action results */

/* The results each kind of action has (actions.NAME.FIELD), NULL-ended;
 * "metadata" stands for metadata.KEY. */
static const char *const *result_fields(enum ast_action_kind k)
{
	static const char *const execution[] = {
		"id", "status", "exit_code", "duration", "url", "metadata", NULL
	};
	static const char *const pipeline[] = { "id", "status", "duration", "url", NULL };
	static const char *const http[] = { "status", "http_status", NULL };
	static const char *const fetch[] = { "status", "commit", NULL };
	static const char *const none[] = { NULL };
	switch (k) {
	case AST_ACT_RUN_EXECUTION:
		return execution;
	case AST_ACT_RUN_PIPELINE:
	case AST_ACT_COPY_PIPELINE:
		return pipeline;
	case AST_ACT_HTTP:
		return http;
	case AST_ACT_FETCH_REPOSITORY:
		return fetch;
	case AST_ACT_RESPOND:
		break;
	}
	return none;
}

/* "id, status or url" for messages. */
static const char *field_list(struct chk *c, const char *const *v)
{
	size_t n = 0;
	while (v[n])
		n++;
	const char *out = "";
	for (size_t i = 0; i < n; i++)
		out = arena_printf(c->a, "%s%s%s%s", out, i == 0 ? "" : i + 1 == n ? " or " : ", ",
				   v[i], strcmp(v[i], "metadata") ? "" : ".KEY");
	return out;
}

/* Where in S the reference's segment I is, when the reference writes it
 * as a plain ".key" (the whole reference otherwise). */
static struct loc seg_loc(const struct ast_str *s, const struct fieldref *f, uint32_t base,
			  size_t upto)
{
	size_t off = strlen(f->root_name);
	for (size_t i = 0; i <= upto && i < f->nsegs; i++) {
		const char *k = f->segs[i].key;
		size_t n = k ? strlen(k) : 0;
		if (!k || f->text[off] != '.' || strncmp(f->text + off + 1, k, n) != 0)
			return check_loc_in(s, base + f->off, f->len);
		if (i == upto)
			return check_loc_in(s, base + f->off + (uint32_t)off + 1, (uint32_t)n);
		off += n + 1;
	}
	return check_loc_in(s, base + f->off, f->len);
}

/* How an action is known by default, for messages: "step 'train'". */
static const char *named_by(struct chk *c, const struct ast_action *a)
{
	if (a->name.s)
		return arena_printf(c->a, "is named '%s'", a->name.s);
	if (a->kind == AST_ACT_RUN_EXECUTION)
		return arena_printf(c->a, "runs step '%s'", a->step.s);
	if (a->kind == AST_ACT_RUN_PIPELINE || a->kind == AST_ACT_COPY_PIPELINE)
		return arena_printf(c->a, "%s pipeline '%s'",
				    a->kind == AST_ACT_RUN_PIPELINE ? "runs" : "copies", a->pipeline.s);
	return arena_printf(c->a, "is a%s %s action", a->kind == AST_ACT_HTTP ? "n" : "",
			    ast_action_words[a->kind]);
}

/* actions.NAME.FIELD in a template of action c->act. */
static void check_action_ref(struct chk *c, const struct ast_str *s, const struct fieldref *f,
			     uint32_t base)
{
	const struct ast_trigger *t = c->t;
	const char *name = f->segs[0].key, *field = f->segs[1].key;
	struct loc at = seg_loc(s, f, base, 0);
	size_t found = SIZE_MAX, count = 0;
	for (size_t i = 0; i < t->nactions; i++) {
		const char *n = ast_action_name(&t->actions[i]);
		if (n && strcmp(n, name) == 0) {
			if (found == SIZE_MAX)
				found = i;
			count++;
		}
	}
	if (found == SIZE_MAX) {
		const char **names = arena_alloc(c->a, (t->nactions + 1) * sizeof(*names));
		size_t k = 0;
		for (size_t i = 0; i < c->act_index; i++)
			if (ast_action_name(&t->actions[i]))
				names[k++] = ast_action_name(&t->actions[i]);
		names[k] = NULL;
		unknown(c, at, "unknown-action-name", "action", name, names,
			arena_printf(c->a, " in trigger '%s'", t->name.s ? t->name.s : "?"));
		return;
	}
	if (count > 1) {
		diag_error(c->d, at, "ambiguous-action",
			   "action name '%s' is ambiguous: %zu actions of trigger '%s' have it; give "
			   "the one you mean a 'name:'", name, count, t->name.s ? t->name.s : "?");
		for (size_t i = 0; i < t->nactions; i++) {
			const struct ast_action *a = &t->actions[i];
			const char *n = ast_action_name(a);
			if (n && strcmp(n, name) == 0)
				diag_note(c->d, a->loc, "this one %s", named_by(c, a));
		}
		return;
	}
	const struct ast_action *target = &t->actions[found];
	if (found == c->act_index) {
		diag_error(c->d, at, "action-order",
			   "action '%s' reads its own result; an action reads the results of the "
			   "actions before it", name);
		return;
	}
	if (found > c->act_index) {
		diag_error(c->d, at, "action-order",
			   "action '%s' runs after this one; an action reads the results of the "
			   "actions before it", name);
		diag_note(c->d, target->loc, "'%s' is here", name);
		return;
	}
	const char *const *fields = result_fields(target->kind);
	bool ok = false;
	for (const char *const *q = fields; *q; q++)
		ok = ok || strcmp(*q, field) == 0;
	struct loc fat = seg_loc(s, f, base, 1);
	if (ok && f->nsegs > 2 && strcmp(field, "metadata") != 0) {
		diag_error(c->d, seg_loc(s, f, base, 2), "unknown-action-field",
			   "'%s' has no fields; only metadata takes a key (metadata.KEY)", field);
		return;
	}
	if (!ok) {
		const char *kind = ast_action_words[target->kind];
		const char *near = decode_suggest(field, fields);
		if (!fields[0])
			diag_error(c->d, fat, "unknown-action-field",
				   "a %s action has no results to read", kind);
		else if (near)
			diag_error(c->d, fat, "unknown-action-field",
				   "a%s %s action has no field '%s'; did you mean '%s'?",
				   kind[0] == 'h' ? "n" : "", kind, field, near);
		else
			diag_error(c->d, fat, "unknown-action-field",
				   "a%s %s action has no field '%s'; it has %s",
				   kind[0] == 'h' ? "n" : "", kind, field, field_list(c, fields));
		return;
	}
	if (c->act->kind == AST_ACT_RESPOND) {
		bool valohai = c->p->backend && c->p->backend->kind.set &&
			       c->p->backend->kind.v == AST_BACKEND_VALOHAI;
		if (strcmp(field, "id") != 0)
			diag_error(c->d, fat, "action-context",
				   "'respond' answers at once, before any action has ended: it may "
				   "read the ids of earlier actions, not their '%s'", field);
		else if (valohai)
			diag_error(c->d, check_loc_in(s, base + f->off, f->len), "action-context",
				   "'respond' cannot read '%s' on the valohai backend: it answers "
				   "before Valohai has given the ids", f->text);
	}
}

/* The longest action timeout: a week. */
#define MAX_TIMEOUT_MS (7LL * 24 * 3600 * 1000)

/* *RESPONDED: the trigger's first respond action so far, or NULL. */
static void check_action(struct chk *c, const struct ast_action *a,
			 const struct ast_action **responded)
{
	const struct ast_project *p = c->p;
	if (a->name.s)
		check_name(c, &a->name, "action");
	if (a->timeout.set && a->kind == AST_ACT_RESPOND)
		diag_error(c->d, a->timeout.loc, "action-context",
			   "'respond' answers at once and has no 'timeout'");
	else if (a->timeout.set && (a->timeout.v <= 0 || a->timeout.v > MAX_TIMEOUT_MS))
		diag_error(c->d, a->timeout.loc, "bad-value",
			   "'timeout' must be more than 0 and at most 7d");
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

/* An action's written name, for duplicates: default names may repeat (a
 * reference to one is then ambiguous), written ones may not. */
static const struct ast_str *action_name(const void *arr, size_t i)
{
	return &((const struct ast_action *)arr)[i].name;
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
	if (t->max_concurrent.set && (t->max_concurrent.v < 1 || t->max_concurrent.v > 10000))
		diag_error(c->d, t->max_concurrent.loc, "bad-value",
			   "'max-concurrent' must be between 1 and 10000");
	if (t->when_busy.set && !t->max_concurrent.set)
		diag_error(c->d, t->when_busy.loc, "missing-key",
			   "'when-busy' needs 'max-concurrent': how many launches of trigger '%s' "
			   "may run at once", t->name.s ? t->name.s : "?");
	const struct ast_action *responded = NULL;
	for (size_t i = 0; i < t->nactions; i++) {
		c->act = &t->actions[i];
		c->act_index = i;
		check_action(c, &t->actions[i], &responded);
	}
	c->act = NULL;
	check_unique(c, "duplicate-action", "action name", t->nactions, action_name, t->actions);
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

/* ------------------------------------------------------------ event loops */

/*
 * A notification trigger on an event the runtime emits for what it
 * launches can be re-triggered by its own launches.  For each such trigger
 * the checker lists what it launches (its "emitters": executions of steps,
 * including the nodes of the pipelines it runs, and pipeline runs), and
 * evaluates its conditions on the event each emitter would send, knowing
 * only the keys that tell launches apart: valohai.execution-step,
 * valohai.pipeline-name, trig.trigger and trig.depth (always 1 to 8 for
 * an event of a launch that an event caused).  docs/lint.md says the same.
 */
static const char *const execution_events[] = {
	"execution_created", "execution_started", "execution_completed", "execution_failed",
	"execution_stopped", NULL
};
static const char *const pipeline_events[] = {
	"pipeline_started", "pipeline_completed", "pipeline_failed", NULL
};

enum lkey { LK_NONE, LK_STEP, LK_PIPELINE, LK_TRIGGER, LK_DEPTH };

struct emitter {
	bool pipeline;          /* a pipeline run; else an execution */
	const char *name;       /* its step or pipeline */
	const struct ast_action *action;        /* that launches it */
};

/* A condition as the loop search sees it, analysed once: the key a
 * filter reads. */
struct lcond {
	const struct ast_cond *c;
	enum lkey key;
	struct lcond *kids;
	size_t nkids;
};

struct lnode {
	const struct ast_trigger *t;
	bool on_pipeline;       /* listens to pipeline_*, else execution_* */
	struct emitter *em;
	size_t nem, capem;
	struct lcond *conds;
	size_t nconds;
	bool keyed;             /* a filter of its reads an LK_* key */
};

/* What a condition makes of one emitter's event: it fails (NO), passes
 * on the keys that tell launches apart (YES), does not look at them
 * (NEUTRAL), or cannot be decided here (MAYBE). */
enum verdict { V_NO, V_MAYBE, V_NEUTRAL, V_YES };

static enum lkey filter_key(struct chk *c, const struct ast_cond *k)
{
	struct fieldref f;
	struct tmpl_error err;
	if (k->kind != AST_COND_FILTER || !k->field.s ||
	    field_parse(c->a, k->field.s, strlen(k->field.s), &f, &err) != 0 ||
	    f.root != TRIG_ROOT_EVENT || f.nsegs != 2 || !f.segs[0].key || !f.segs[1].key ||
	    strcmp(f.segs[0].key, "data") != 0)
		return LK_NONE;
	static const char *const keys[] = {
		"valohai.execution-step", "valohai.pipeline-name", "trig.trigger", "trig.depth"
	};
	for (int i = 0; i < 4; i++)
		if (strcmp(f.segs[1].key, keys[i]) == 0)
			return (enum lkey)(i + 1);
	return LK_NONE;
}

/* Analyses conditions V[0..N) into OUT; sets *KEYED when one reads a key. */
static struct lcond *lconds(struct chk *c, const struct ast_cond *v, size_t n, bool *keyed)
{
	struct lcond *out = arena_alloc(c->a, (n ? n : 1) * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		const struct ast_cond *k = &v[i];
		out[i].c = k;
		out[i].key = filter_key(c, k);
		*keyed = *keyed || out[i].key != LK_NONE;
		out[i].kids = lconds(c, k->children, k->nchildren, keyed);
		out[i].nkids = k->nchildren;
	}
	return out;
}



/* A whole number in 1..8 (a depth an event caused by an event can have)? */
static bool own_depth(const char *s)
{
	return s && s[0] >= '1' && s[0] <= '8' && !s[1];
}

static enum verdict filter_depth(const struct ast_cond *k)
{
	const char *v = k->value.s;
	double x = v ? strtod(v, NULL) : 0;
	switch (k->op) {
	case AST_OP_EXISTS:
		return k->exists.v ? V_YES : V_NO;
	case AST_OP_EQUALS:
		return own_depth(v) ? V_MAYBE : V_NO;
	case AST_OP_NOT_EQUALS:
		return own_depth(v) ? V_MAYBE : V_YES;
	case AST_OP_IN:
	case AST_OP_NOT_IN: {
		bool any = false;
		for (size_t i = 0; i < k->values.n; i++)
			any = any || own_depth(k->values.v[i].s);
		return any ? V_MAYBE : k->op == AST_OP_IN ? V_NO : V_YES;
	}
	case AST_OP_LESS:
		return x <= 1 ? V_NO : x > 8 ? V_YES : V_MAYBE;
	case AST_OP_GREATER:
		return x >= 8 ? V_NO : x < 1 ? V_YES : V_MAYBE;
	default:
		return V_MAYBE;
	}
}

/* Filter K on the event of emitter E of trigger FROM. */
static enum verdict filter_verdict(const struct lcond *lc, const struct emitter *e,
				   const char *from)
{
	const struct ast_cond *k = lc->c;
	enum lkey key = lc->key;
	const char *own = NULL;         /* the key's value; NULL: absent */
	switch (key) {
	case LK_NONE:
		return V_NEUTRAL;
	case LK_DEPTH:
		return filter_depth(k);
	case LK_STEP:
		own = e->pipeline ? NULL : e->name;
		break;
	case LK_PIPELINE:
		if (!e->pipeline)
			return V_MAYBE;         /* a node's execution may name its pipeline */
		own = e->name;
		break;
	case LK_TRIGGER:
		own = from;
		break;
	}
	bool hit;
	switch (k->op) {
	case AST_OP_EXISTS:
		return (own != NULL) == k->exists.v ? V_YES : V_NO;
	case AST_OP_EQUALS:
	case AST_OP_NOT_EQUALS:
		hit = own && k->value.s && strcmp(own, k->value.s) == 0;
		return hit == (k->op == AST_OP_EQUALS) ? V_YES : V_NO;
	case AST_OP_IN:
	case AST_OP_NOT_IN:
		hit = false;
		for (size_t i = 0; own && i < k->values.n; i++)
			hit = hit || strcmp(own, k->values.v[i].s) == 0;
		return hit == (k->op == AST_OP_IN) ? V_YES : V_NO;
	case AST_OP_GLOB:
		/* as the runtime matches: fnmatch(3) without flags */
		return own && k->value.s && fnmatch(k->value.s, own, 0) == 0 ? V_YES : V_NO;
	case AST_OP_CONTAINS:
		return own && k->value.s && strstr(own, k->value.s) ? V_YES : V_NO;
	case AST_OP_MATCHES:
		/* The generated matcher's dialect (regex.h) has no
		 * interpreter here: undecided. */
		return own ? V_MAYBE : V_NO;
	default: {
		/* greater-than, less-than: a name is rarely a number */
		char *end;
		if (!own || !*own)
			return V_NO;
		(void)strtod(own, &end);
		return *end ? V_NO : V_MAYBE;
	}
	}
}

static enum verdict conds_verdict(const struct lcond *v, size_t n, bool any,
				  const struct emitter *e, const char *from);

static enum verdict cond_verdict(const struct lcond *lc, const struct emitter *e, const char *from)
{
	switch (lc->c->kind) {
	case AST_COND_FILTER:
		return filter_verdict(lc, e, from);
	case AST_COND_ALL:
		return conds_verdict(lc->kids, lc->nkids, false, e, from);
	case AST_COND_ANY:
		return conds_verdict(lc->kids, lc->nkids, true, e, from);
	case AST_COND_NOT: {
		/* `not` passes when none of its conditions does */
		enum verdict v = conds_verdict(lc->kids, lc->nkids, true, e, from);
		return v == V_YES ? V_NO : v == V_NO ? V_YES : v;
	}
	default:
		return V_NEUTRAL;
	}
}

static enum verdict conds_verdict(const struct lcond *v, size_t n, bool any,
				  const struct emitter *e, const char *from)
{
	bool seen[4] = { false };
	for (size_t i = 0; i < n; i++)
		seen[cond_verdict(&v[i], e, from)] = true;
	if (any)
		return seen[V_YES] ? V_YES : seen[V_NEUTRAL] || !n ? V_NEUTRAL
					   : seen[V_MAYBE] ? V_MAYBE : V_NO;
	return seen[V_NO] ? V_NO : seen[V_MAYBE] ? V_MAYBE : seen[V_YES] ? V_YES : V_NEUTRAL;
}

static void add_emitter(struct chk *c, struct lnode *n, bool pipeline, const char *name,
			const struct ast_action *a)
{
	for (size_t i = 0; i < n->nem; i++)
		if (n->em[i].pipeline == pipeline && strcmp(n->em[i].name, name) == 0)
			return;
	*ARENA_PUSH(c->a, n->em, n->nem, n->capem) = (struct emitter){ pipeline, name, a };
}

/* What trigger T launches that emits events: N's emitters. */
static void emitters_of(struct chk *c, const struct ast_trigger *t, struct lnode *n)
{
	for (size_t i = 0; i < t->nactions; i++) {
		const struct ast_action *a = &t->actions[i];
		if (a->kind == AST_ACT_RUN_EXECUTION && a->step.s && find_step(c->p, a->step.s)) {
			add_emitter(c, n, false, a->step.s, a);
		} else if ((a->kind == AST_ACT_RUN_PIPELINE || a->kind == AST_ACT_COPY_PIPELINE) &&
			   a->pipeline.s) {
			const struct ast_pipeline *pl = find_pipeline(c->p, a->pipeline.s);
			if (!pl)
				continue;
			add_emitter(c, n, true, pl->name.s, a);
			for (size_t k = 0; k < pl->nnodes; k++)
				if (pl->nodes[k].step.s)
					add_emitter(c, n, false, pl->nodes[k].step.s, a);
		}
	}
}

/* The worst verdict of TO's conditions over the events of FROM's launches
 * that TO listens to; *WHICH: the emitter that gives it. */
static enum verdict reaches(const struct lnode *from, const struct lnode *to,
			    const struct emitter **which)
{
	enum verdict worst = V_NO;
	*which = NULL;
	for (size_t i = 0; i < from->nem; i++) {
		const struct emitter *e = &from->em[i];
		if (e->pipeline != to->on_pipeline)
			continue;
		enum verdict v = conds_verdict(to->conds, to->nconds, false, e, from->t->name.s);
		/* NEUTRAL and YES both let the event through */
		int rank = v == V_NO ? 0 : v == V_MAYBE ? 1 : 2;
		int have = worst == V_NO ? 0 : worst == V_MAYBE ? 1 : 2;
		if (rank > have) {
			worst = v;
			*which = e;
		}
	}
	return worst;
}

static const char *emitter_text(struct chk *c, const struct emitter *e)
{
	if (e->pipeline)
		return arena_printf(c->a, "pipeline '%s'", e->name);
	if (e->action->kind == AST_ACT_RUN_EXECUTION)
		return arena_printf(c->a, "step '%s'", e->name);
	return arena_printf(c->a, "step '%s' (a node of pipeline '%s')", e->name,
			    e->action->pipeline.s);
}

/* Reports N re-triggering itself; false when it cannot. */
static bool check_self_loop(struct chk *c, const struct lnode *n)
{
	const struct emitter *e;
	enum verdict v = reaches(n, n, &e);
	const struct ast_trigger *t = n->t;
	const char *type = t->notification->event.s;
	struct loc at = t->notification->event.loc;
	if (v == V_NO)
		return false;
	if (v == V_MAYBE) {
		diag_warning(c->d, at, "event-loop-possible",
			     "trigger '%s' may re-trigger itself: it runs on %s and launches %s, "
			     "and the checker cannot tell whether its conditions refuse that %s's "
			     "own events", t->name.s, type, emitter_text(c, e),
			     e->pipeline ? "pipeline" : "step");
	} else if (!n->keyed) {
		diag_error(c->d, at, "event-loop",
			   "trigger '%s' re-triggers itself: it runs on %s and launches %s, and "
			   "no condition tells its own launches apart; filter on "
			   "event.data[\"%s\"] or event.data[\"trig.trigger\"]",
			   t->name.s, type, emitter_text(c, e),
			   n->on_pipeline ? "valohai.pipeline-name" : "valohai.execution-step");
	} else {
		diag_error(c->d, at, "event-loop",
			   "trigger '%s' re-triggers itself: its conditions accept the %s events "
			   "of %s, which it launches", t->name.s, type, emitter_text(c, e));
	}
	diag_note(c->d, e->action->loc, "%s is launched here", emitter_text(c, e));
	return true;
}

/* Cycles through two or more triggers: each found by a breadth-first
 * search back to its first trigger, each trigger named in one at most. */
static void check_cycles(struct chk *c, struct lnode *v, size_t n)
{
	if (n < 2)
		return;
	/* adjacency: to[i] lists the j != i that i's launches may trigger,
	 * via[i] the launch that does */
	size_t **to = arena_alloc(c->a, n * sizeof(*to));
	size_t *nto = arena_alloc(c->a, n * sizeof(*nto));
	const struct emitter ***via = arena_alloc(c->a, n * sizeof(*via));
	for (size_t i = 0; i < n; i++) {
		size_t cap = 0, capv = 0, nv = 0;
		for (size_t j = 0; j < n && v[i].nem; j++) {
			const struct emitter *e;
			if (j == i || reaches(&v[i], &v[j], &e) == V_NO)
				continue;
			*ARENA_PUSH(c->a, via[i], nv, capv) = e;
			*ARENA_PUSH(c->a, to[i], nto[i], cap) = j;
		}
	}
	bool *done = arena_alloc(c->a, n * sizeof(*done));
	size_t *prev = arena_alloc(c->a, n * sizeof(*prev));
	size_t *queue = arena_alloc(c->a, n * sizeof(*queue));
	for (size_t s = 0; s < n; s++) {
		if (done[s] || !nto[s])
			continue;
		for (size_t i = 0; i < n; i++)
			prev[i] = SIZE_MAX;
		size_t head = 0, tail = 0, last = SIZE_MAX;
		queue[tail++] = s;
		while (head < tail && last == SIZE_MAX) {
			size_t u = queue[head++];
			for (size_t k = 0; k < nto[u]; k++) {
				size_t w = to[u][k];
				if (w == s) {
					last = u;
					break;
				}
				if (prev[w] == SIZE_MAX && !done[w]) {
					prev[w] = u;
					queue[tail++] = w;
				}
			}
		}
		if (last == SIZE_MAX)
			continue;
		/* s -> ... -> last -> s, collected backwards */
		size_t len = 0;
		for (size_t u = last; u != s; u = prev[u])
			queue[len++] = u;
		queue[len++] = s;
		const char *names = "";
		for (size_t i = len; i-- > 0;)
			names = arena_printf(c->a, "%s'%s' -> ", names, v[queue[i]].t->name.s);
		names = arena_printf(c->a, "%s'%s'", names, v[s].t->name.s);
		diag_warning(c->d, v[s].t->notification->event.loc, "event-cycle",
			     "triggers %s can trigger each other in a loop (the runtime stops "
			     "a chain at depth 8)", names);
		for (size_t i = len; i-- > 0;) {
			size_t u = queue[i], w = i ? queue[i - 1] : s;
			done[u] = true;
			for (size_t k = 0; k < nto[u]; k++)
				if (to[u][k] == w)
					diag_note(c->d, via[u][k]->action->loc,
						  "'%s' launches %s, whose %s events '%s' runs on",
						  v[u].t->name.s, emitter_text(c, via[u][k]),
						  v[w].on_pipeline ? "pipeline" : "execution",
						  v[w].t->name.s);
		}
	}
}

static void check_event_loops(struct chk *c, const struct ast_project *p)
{
	struct lnode *v = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < p->ntriggers; i++) {
		const struct ast_trigger *t = &p->triggers[i];
		const char *type = t->notification ? t->notification->event.s : NULL;
		if (!type || !t->name.s || t->kind != AST_NOTIFICATION)
			continue;
		bool exec = false, pipe = false;
		for (const char *const *w = execution_events; *w; w++)
			exec = exec || strcmp(*w, type) == 0;
		for (const char *const *w = pipeline_events; *w; w++)
			pipe = pipe || strcmp(*w, type) == 0;
		if (!exec && !pipe)
			continue;
		struct lnode *ln = ARENA_PUSH(c->a, v, n, cap);
		memset(ln, 0, sizeof(*ln));
		ln->t = t;
		ln->on_pipeline = pipe;
		ln->conds = lconds(c, t->conds, t->nconds, &ln->keyed);
		ln->nconds = t->nconds;
		emitters_of(c, t, ln);
	}
	/* A trigger that re-triggers itself is left out of the cycles: its
	 * own report comes first, and fixing it may break them too. */
	struct lnode *w = arena_alloc(c->a, (n ? n : 1) * sizeof(*w));
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (!check_self_loop(c, &v[i]))
			w[k++] = v[i];
	check_cycles(c, w, k);
}

unsigned check_project(struct arena *a, struct diag *d, const struct sources *s,
		       const struct ast_project *p)
{
	struct chk c = { a, d, s, p, NULL, false, NULL, 0 };
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
	check_event_loops(&c, p);
	return diag_errors(d) - before;
}
