/*
 * dsl.c — the .trig front end's entry point and the tree building the
 * grammar's actions share.
 *
 * The grammar (grammar/trig.y) reduces every statement to a struct stmt
 * that says what it does to the map or list of its block; dsl_apply() does
 * it.  In a trigger block a generic statement goes where its key's text
 * says: a trigger key stays in the trigger's map, a condition kind becomes
 * an item of `conditions`, anything else an item of `actions` (so that the
 * decoder can report "unknown action 'notfy'" at the word).  Sugar that
 * appends (`step`, `when`, `parameter` ...) adds to the first entry of its
 * key that is a list (a map, for the action block's `parameter NAME =
 * VALUE`), and makes that entry where it first appears.  Each block keeps
 * the indices of those entries (struct acc), so building is linear.
 */
#include <string.h>

#include "frontend.h"
#include "grammar/trig_parse.h"

/* The keys of a trigger's own map; any other generic statement in a
 * trigger block is a condition or an action. */
static const char *const trigger_keys[] = {
	"name", "description", "enabled", "schedule", "webhook", "notification",
	"conditions", "actions", "max-concurrent", "when-busy", NULL
};

/* The conditions (schema.md COND); any other generic statement in a
 * trigger block is an action. */
static const char *const condition_kinds[] = {
	"token", "hmac", "jwt", "timestamp", "replay", "ip-allow", "filter", "any",
	"all", "not", "rate-limit", NULL
};

static bool in_set(const char *const *set, const char *s)
{
	for (; *set; set++)
		if (strcmp(*set, s) == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------ statements */

struct stmt dsl_put(struct tree *key, struct tree *value)
{
	return (struct stmt){
		.how = ST_PUT,
		.literal = key->u.scalar.style == STYLE_QUOTED,
		.key = key->u.scalar.text,
		.key_loc = key->loc,
		.value = value,
	};
}

struct stmt dsl_put_as(const char *key, struct loc key_loc, struct tree *value)
{
	return (struct stmt){
		.how = ST_PUT, .literal = true, .key = key, .key_loc = key_loc, .value = value,
	};
}

struct stmt dsl_append(const char *key, struct loc key_loc, struct tree *value)
{
	return (struct stmt){ .how = ST_APPEND, .key = key, .key_loc = key_loc, .value = value };
}

struct stmt dsl_subput(const char *key, struct loc key_loc, struct tree *sub,
		       struct tree *value)
{
	return (struct stmt){
		.how = ST_SUBPUT, .key = key, .key_loc = key_loc,
		.sub = sub->u.scalar.text, .sub_loc = sub->loc, .value = value,
	};
}

struct stmt dsl_item(enum stmt_how how, struct loc loc, struct tree *item)
{
	return (struct stmt){ .how = how, .key_loc = loc, .value = item };
}

/* ------------------------------------------------------------ trees */

struct tree *dsl_map(struct parser *p, struct loc loc)
{
	return tree_map(p->a, loc);
}

void dsl_add(struct parser *p, struct tree *map, const char *key, struct loc key_loc,
	     struct tree *value)
{
	if (value)
		tree_map_put(p->a, map, key, key_loc, value);
}

void dsl_merge(struct parser *p, struct tree *dst, const struct tree *src)
{
	if (!src)
		return;
	for (size_t i = 0; i < src->u.map.n; i++) {
		const struct tree_entry *e = &src->u.map.v[i];
		tree_map_put(p->a, dst, e->key, e->key_loc, e->value);
	}
}

struct tree *dsl_map1(struct parser *p, struct loc loc, const char *key, struct loc key_loc,
		      struct tree *value)
{
	struct tree *m = tree_map(p->a, loc);
	tree_map_put(p->a, m, key, key_loc, value);
	return m;
}

/* A PATH used as a value: the template "{{ PATH }}", at the path's place. */
struct tree *dsl_template(struct parser *p, const struct tree *path)
{
	size_t n = path->u.scalar.len;
	char *text = arena_alloc(p->a, n + 7);
	memcpy(text, "{{ ", 3);
	memcpy(text + 3, path->u.scalar.text, n);
	memcpy(text + 3 + n, " }}", 4);
	struct tree *t = tree_scalar(p->a, path->loc, text, n + 6, STYLE_PLAIN);
	t->u.scalar.text_loc = path->loc;
	t->u.scalar.exact = false;
	return t;
}

/* A key with nothing after it: YAML's null, an empty plain scalar. */
struct tree *dsl_null(struct parser *p, struct loc after)
{
	struct tree *t = tree_scalar(p->a, after, "", 0, STYLE_PLAIN);
	t->u.scalar.exact = true;
	return t;
}

/* A plain scalar the grammar implies (`exists` is "true"). */
struct tree *dsl_word(struct parser *p, struct loc loc, const char *text)
{
	return tree_scalar(p->a, loc, text, strlen(text), STYLE_PLAIN);
}

struct acc *dsl_acc(struct parser *p, struct tree *t)
{
	struct acc *acc = arena_alloc(p->a, sizeof(*acc));
	acc->t = t;
	return acc;
}

/* The keys the appending sugar adds to, one cache slot each. */
static const char *const slot_keys[DSL_SLOTS] = {
	"import", "steps", "pipelines", "triggers", "parameters", "inputs",
	"environment-variables", "nodes", "edges", "conditions", "actions",
	"environment", "headers",
};

/* The first entry KEY of the block's map whose value is of KIND, made
 * here if there is none. */
static struct tree *entry_of(struct parser *p, struct acc *acc, const char *key,
			     struct loc key_loc, enum tree_kind kind)
{
	struct tree *map = acc->t;
	size_t *slot = NULL;
	for (size_t k = 0; k < DSL_SLOTS; k++)
		if (strcmp(slot_keys[k], key) == 0)
			slot = &acc->slot[k];
	if (slot && *slot)
		return map->u.map.v[*slot - 1].value;
	for (size_t i = 0; i < map->u.map.n; i++) {
		const struct tree_entry *e = &map->u.map.v[i];
		if (e->value->kind == kind && strcmp(e->key, key) == 0) {
			if (slot)
				*slot = i + 1;
			return e->value;
		}
	}
	struct tree *t = kind == TREE_LIST ? tree_list(p->a, key_loc) : tree_map(p->a, key_loc);
	tree_map_put(p->a, map, key, key_loc, t);
	if (slot)
		*slot = map->u.map.n;
	return t;
}

void dsl_apply(struct parser *p, struct acc *acc, const struct stmt *st, enum dsl_ctx ctx)
{
	if (st->how == ST_NONE || !st->value)
		return;
	if (ctx == CTX_COND) {
		if (st->how == ST_PUT)
			tree_list_push(p->a, acc->t, dsl_map1(p, st->key_loc, st->key, st->key_loc,
							      st->value));
		else
			tree_list_push(p->a, acc->t, st->value);
		return;
	}
	switch (st->how) {
	case ST_PUT:
		if (ctx == CTX_TRIGGER && !st->literal && !in_set(trigger_keys, st->key)) {
			const char *list = in_set(condition_kinds, st->key) ? "conditions" : "actions";
			tree_list_push(p->a, entry_of(p, acc, list, st->key_loc, TREE_LIST),
				       dsl_map1(p, st->key_loc, st->key, st->key_loc, st->value));
			return;
		}
		tree_map_put(p->a, acc->t, st->key, st->key_loc, st->value);
		return;
	case ST_APPEND:
		tree_list_push(p->a, entry_of(p, acc, st->key, st->key_loc, TREE_LIST), st->value);
		return;
	case ST_SUBPUT:
		tree_map_put(p->a, entry_of(p, acc, st->key, st->key_loc, TREE_MAP), st->sub,
			     st->sub_loc, st->value);
		return;
	case ST_COND:
		tree_list_push(p->a, entry_of(p, acc, "conditions", st->key_loc, TREE_LIST),
			       st->value);
		return;
	case ST_ACTION:
		tree_list_push(p->a, entry_of(p, acc, "actions", st->key_loc, TREE_LIST),
			       st->value);
		return;
	case ST_NONE:
		return;
	}
}

/* ------------------------------------------------------------ entry */

struct tree *dsl_parse(struct arena *a, struct diag *d, const struct sources *s, uint32_t file)
{
	const struct source *src = sources_get(s, file);
	if (!src) {
		diag_error(d, (struct loc){ 0, 0, 0, 0 }, "syntax", "no such source file");
		return NULL;
	}
	if (src->size > DSL_MAX_SIZE) {
		diag_error(d, (struct loc){ file, 0, 0, 0 }, "syntax",
			   "file is too large (%zu bytes; the limit is %d MiB)", src->size,
			   DSL_MAX_SIZE >> 20);
		return NULL;
	}
	unsigned errors = d->errors;
	struct parser p = { .a = a, .d = d, .file = file };
	p.root = tree_map(a, (struct loc){ file, 1, 1, 0 });
	lexer_init(&p.lx, src->text, src->size, file, a, d);
	int rc = yyparse(&p);
	lexer_release(&p.lx);
	if (rc != 0 && d->errors == errors)
		diag_error(d, (struct loc){ file, 0, 0, 0 }, "syntax", "cannot parse the file");
	return d->errors == errors ? p.root : NULL;
}
