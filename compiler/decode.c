/*
 * decode.c — the schema of the definitions, and decoding trees with it.
 *
 * Every map of the YAML form has a schema: a table of its keys, each with
 * a type and the offset of the AST field it fills.  decode_map() walks a
 * map once, reporting unknown and duplicate keys and decoding each value by
 * its type; lists of named things (steps, triggers, conditions, actions)
 * have small functions of their own.  Both front ends' trees go through
 * here, so a mistake gets the same message in .trig and in YAML.
 */
#include "decode.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend.h"
#include "timeutil.h"

/* ------------------------------------------------------------ words */

const char *const ast_catch_up_words[] = { "none", "once", NULL };
const char *const ast_overlap_words[] = { "allow", "skip", NULL };
const char *const ast_backend_words[] = { "local", "valohai", NULL };
const char *const ast_param_type_words[] = { "string", "integer", "float", "flag", NULL };
const char *const ast_preset_words[] = {
	"github", "gitlab", "slack", "stripe", "standard-webhooks", "shopify", "twilio", NULL
};
static const char *const alg_words[] = { "sha1", "sha256", "sha512", NULL };
static const char *const secret_enc_words[] = { "raw", "hex", "base64", NULL };
static const char *const sig_enc_words[] = { "hex", "base64", NULL };
static const char *const time_format_words[] = { "unix", "unix-ms", "rfc3339", NULL };
static const char *const from_words[] = { "signature", NULL };
const char *const ast_filter_op_words[] = {
	"equals", "not-equals", "in", "not-in", "matches", "glob", "exists",
	"greater-than", "less-than", "contains", NULL
};
const char *const ast_cond_words[] = {
	"token", "hmac", "jwt", "timestamp", "replay", "ip-allow", "filter", "any",
	"all", "not", "rate-limit", NULL
};
const char *const ast_action_words[] = {
	"run-execution", "run-pipeline", "copy-pipeline", "fetch-repository", "http",
	"respond", NULL
};
const char *const ast_when_busy_words[] = { "queue", "skip", NULL };

const char *ast_action_name(const struct ast_action *a)
{
	if (a->name.s)
		return a->name.s;
	switch (a->kind) {
	case AST_ACT_RUN_EXECUTION:
		return a->step.s;
	case AST_ACT_RUN_PIPELINE:
	case AST_ACT_COPY_PIPELINE:
		return a->pipeline.s;
	default:
		return ast_action_words[a->kind];
	}
}

/* ------------------------------------------------------------ context */

struct dec {
	struct arena *a;
	struct diag *d;
	struct sources *s;
	bool lenient;           /* an imported valohai.yaml: ignore keys we do not use */
	unsigned depth;         /* of any/all/not groups */
};

static const char *kind_name(const struct tree *t)
{
	if (t->kind == TREE_MAP)
		return "a map";
	if (t->kind == TREE_LIST)
		return "a list";
	return "a value";
}

static bool is_null(const struct tree *t)
{
	return t->kind == TREE_SCALAR && t->u.scalar.style == STYLE_PLAIN &&
	       (t->u.scalar.len == 0 || strcmp(t->u.scalar.text, "~") == 0 ||
		strcmp(t->u.scalar.text, "null") == 0);
}

/* ------------------------------------------------------------ suggestions */

/* The optimal string alignment distance: insertions, deletions,
 * substitutions and transpositions of neighbours ("hmac" / "hamc") cost 1. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	size_t rows[3][65];
	size_t *two = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev[j - 1] + cost;
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    two[j - 2] + 1 < best)
				best = two[j - 2] + 1;
			cur[j] = best;
		}
		size_t *t = two;
		two = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

/* The candidate nearest to WORD, if it is near enough to be a typo: one
 * edit in a word of up to 4 letters, two up to 7, three beyond, and never
 * more than half of the shorter word ("notfy" is not "not"). */
const char *decode_suggest(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX;
	size_t len = strlen(word);
	size_t limit = len <= 4 ? 1 : len < 8 ? 2 : 3;
	for (const char *const *c = candidates; *c; c++) {
		size_t dist = edit_distance(word, *c);
		size_t shorter = strlen(*c) < len ? strlen(*c) : len;
		if (dist * 2 > shorter)
			continue;
		if (dist < best_d) {
			best_d = dist;
			best = *c;
		}
	}
	return best_d <= limit ? best : NULL;
}

bool decode_valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* ------------------------------------------------------------ schema */

enum ftype {
	FT_STR,         /* a scalar: struct ast_str */
	FT_INT,         /* struct ast_int */
	FT_BOOL,        /* struct ast_bool */
	FT_DUR,         /* a duration: struct ast_dur, milliseconds */
	FT_SIZE,        /* a size: struct ast_dur, bytes */
	FT_ENUM,        /* struct ast_enum; aux: the words */
	FT_STRS,        /* a list of scalars: struct ast_strs */
	FT_STR_OR_STRS, /* a scalar or a list of scalars: struct ast_strs */
	FT_SECRET,      /* {env: N} | {file: P}: struct ast_secret */
	FT_KEY,         /* a secret or {jwks-file: P} | {jwks-url: U} */
	FT_BINDINGS,    /* {NAME: scalar}: struct ast_bindings */
	FT_BINDINGS_L,  /* {NAME: scalar | [scalars]} */
	FT_MONTHLY,     /* {day, at}: struct ast_monthly */
};

struct field {
	const char *key;
	enum ftype type;
	size_t off;
	const void *aux;
};

struct schema {
	const char *what;               /* "a trigger", for messages */
	const struct field *fields;
	size_t nfields;
};

#define FIELD(key, type, st, member, aux) { key, type, offsetof(st, member), aux }
#define SCHEMA(what, fields) { what, fields, sizeof(fields) / sizeof(fields[0]) }

static void dup_error(struct dec *dc, const struct tree_entry *e, const struct tree_entry *first)
{
	diag_error(dc->d, e->key_loc, "duplicate-key", "duplicate key '%s'", e->key);
	diag_note(dc->d, first->key_loc, "first written here");
}

static void bad_value(struct dec *dc, const struct tree *v, const char *key, const char *want)
{
	if (v->kind == TREE_SCALAR)
		diag_error(dc->d, v->loc, "bad-value", "expected %s for '%s', found '%s'",
			   want, key, v->u.scalar.text);
	else
		diag_error(dc->d, v->loc, "bad-value", "expected %s for '%s', found %s",
			   want, key, kind_name(v));
}

static bool want_scalar(struct dec *dc, const struct tree *v, const char *key, const char *want)
{
	if (v->kind == TREE_SCALAR)
		return true;
	bad_value(dc, v, key, want);
	return false;
}

static void set_str(struct ast_str *out, const struct tree *v)
{
	out->s = v->u.scalar.text;
	out->loc = v->loc;
	out->node = v;
}

static bool parse_int(const char *s, int64_t *out)
{
	if (!*s)
		return false;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end || !(isdigit((unsigned char)s[0]) || s[0] == '-'))
		return false;
	*out = v;
	return true;
}

static int parse_bool(const char *s)
{
	static const char *const yes[] = { "true", "yes", "on", NULL };
	static const char *const no[] = { "false", "no", "off", NULL };
	for (const char *const *w = yes; *w; w++)
		if (strcmp(s, *w) == 0)
			return 1;
	for (const char *const *w = no; *w; w++)
		if (strcmp(s, *w) == 0)
			return 0;
	return -1;
}

/* "none, once" or "none or once" for messages. */
static const char *word_list(struct dec *dc, const char *const *words)
{
	size_t n = 0;
	while (words[n])
		n++;
	char *out = arena_strdup(dc->a, "");
	for (size_t i = 0; i < n; i++)
		out = arena_printf(dc->a, "%s%s'%s'", out,
				   i == 0 ? "" : i + 1 == n ? " or " : ", ", words[i]);
	return out;
}

static void decode_enum(struct dec *dc, const struct tree *v, const char *key,
			const char *const *words, struct ast_enum *out)
{
	if (!want_scalar(dc, v, key, "a word"))
		return;
	for (int i = 0; words[i]; i++) {
		if (strcmp(words[i], v->u.scalar.text) == 0) {
			out->v = i;
			out->loc = v->loc;
			out->set = true;
			return;
		}
	}
	const char *near = decode_suggest(v->u.scalar.text, words);
	if (near)
		diag_error(dc->d, v->loc, "bad-value", "unknown %s '%s'; did you mean '%s'?",
			   key, v->u.scalar.text, near);
	else
		diag_error(dc->d, v->loc, "bad-value", "unknown %s '%s'; expected %s",
			   key, v->u.scalar.text, word_list(dc, words));
}

static void decode_strs(struct dec *dc, const struct tree *v, const char *key,
			bool scalar_ok, struct ast_strs *out)
{
	out->loc = v->loc;
	out->set = true;
	if (v->kind == TREE_SCALAR && scalar_ok) {
		out->v = arena_alloc(dc->a, sizeof(*out->v));
		set_str(&out->v[0], v);
		out->n = 1;
		return;
	}
	if (v->kind != TREE_LIST) {
		bad_value(dc, v, key, scalar_ok ? "a value or a list" : "a list");
		return;
	}
	out->v = arena_alloc(dc->a, (v->u.list.n ? v->u.list.n : 1) * sizeof(*out->v));
	for (size_t i = 0; i < v->u.list.n; i++) {
		const struct tree *item = v->u.list.v[i];
		if (!want_scalar(dc, item, key, "a value"))
			continue;
		set_str(&out->v[out->n++], item);
	}
}

static void decode_secret(struct dec *dc, const struct tree *v, const char *key, bool jwks,
			  struct ast_secret *out)
{
	static const char *const kinds[] = { "env", "file", "jwks-file", "jwks-url", NULL };
	static const enum ast_secret_kind kind_of[] = {
		AST_SECRET_ENV, AST_SECRET_FILE, AST_SECRET_JWKS_FILE, AST_SECRET_JWKS_URL
	};
	out->loc = v->loc;
	if (v->kind == TREE_SCALAR) {
		/* The checker reports it: it knows the rule's wording. */
		out->kind = AST_SECRET_LITERAL;
		set_str(&out->ref, v);
		return;
	}
	if (v->kind != TREE_MAP || v->u.map.n != 1) {
		diag_error(dc->d, v->loc, "bad-value",
			   "expected {env: NAME} or {file: PATH} for '%s'%s", key,
			   jwks ? ", or {jwks-file: PATH} or {jwks-url: URL}" : "");
		return;
	}
	const struct tree_entry *e = &v->u.map.v[0];
	for (int i = 0; kinds[i]; i++) {
		if (strcmp(e->key, kinds[i]) != 0)
			continue;
		if (i >= 2 && !jwks) {
			diag_error(dc->d, e->key_loc, "bad-value",
				   "'%s' is only for a jwt key; expected env or file", e->key);
			return;
		}
		if (!want_scalar(dc, e->value, e->key, "a name") || e->value->u.scalar.len == 0) {
			if (e->value->kind == TREE_SCALAR)
				bad_value(dc, e->value, e->key, "a name");
			return;
		}
		out->kind = kind_of[i];
		set_str(&out->ref, e->value);
		return;
	}
	const char *near = decode_suggest(e->key, kinds);
	if (near && !jwks && strncmp(near, "jwks-", 5) == 0)
		near = NULL;
	diag_error(dc->d, e->key_loc, "unknown-key", "unknown secret source '%s'%s%s%s", e->key,
		   near ? "; did you mean '" : jwks ? "; expected env, file, jwks-file or jwks-url"
						   : "; expected env or file",
		   near ? near : "", near ? "'?" : "");
}

static void decode_bindings(struct dec *dc, const struct tree *v, const char *key, bool lists,
			    struct ast_bindings *out)
{
	out->loc = v->loc;
	out->set = true;
	if (is_null(v))
		return;
	if (v->kind != TREE_MAP) {
		bad_value(dc, v, key, "a map of names to values");
		return;
	}
	out->v = arena_alloc(dc->a, (v->u.map.n ? v->u.map.n : 1) * sizeof(*out->v));
	for (size_t i = 0; i < v->u.map.n; i++) {
		const struct tree_entry *e = &v->u.map.v[i];
		bool dup = false;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(v->u.map.v[j].key, e->key) == 0) {
				dup_error(dc, e, &v->u.map.v[j]);
				dup = true;
				break;
			}
		}
		if (dup)
			continue;
		struct ast_binding *b = &out->v[out->n];
		b->name.s = e->key;
		b->name.loc = e->key_loc;
		decode_strs(dc, e->value, e->key, true, &b->values);
		if (e->value->kind == TREE_LIST && !lists) {
			bad_value(dc, e->value, e->key, "a value");
			continue;
		}
		out->n++;
	}
}

static void decode_map(struct dec *dc, const struct tree *map, const struct schema *sc,
		       void *obj, const char *const *skip);

static const struct field monthly_fields[] = {
	FIELD("day", FT_INT, struct ast_monthly, day, NULL),
	FIELD("at", FT_STR, struct ast_monthly, at, NULL),
};
static const struct schema monthly_schema = SCHEMA("a monthly schedule", monthly_fields);

static void decode_value(struct dec *dc, const struct field *f, const struct tree *v, void *obj)
{
	void *p = (char *)obj + f->off;
	/* A key with no value (`default:`) leaves it unset, as if the key were
	 * not written; maps decode it as empty.  `~` and `null` stay text here:
	 * the formatters print the string "null" plain, so only the empty
	 * plain scalar is a null both languages keep apart from "". */
	if (v->kind == TREE_SCALAR && v->u.scalar.style == STYLE_PLAIN && v->u.scalar.len == 0 &&
	    f->type != FT_BINDINGS && f->type != FT_BINDINGS_L && f->type != FT_MONTHLY)
		return;
	switch (f->type) {
	case FT_STR:
		if (want_scalar(dc, v, f->key, "a value"))
			set_str(p, v);
		break;
	case FT_INT: {
		struct ast_int *out = p;
		if (!want_scalar(dc, v, f->key, "a whole number"))
			break;
		if (!parse_int(v->u.scalar.text, &out->v)) {
			bad_value(dc, v, f->key, "a whole number");
			break;
		}
		out->loc = v->loc;
		out->set = true;
		break;
	}
	case FT_BOOL: {
		struct ast_bool *out = p;
		if (!want_scalar(dc, v, f->key, "true or false"))
			break;
		int b = parse_bool(v->u.scalar.text);
		if (b < 0) {
			bad_value(dc, v, f->key, "true or false");
			break;
		}
		out->v = b;
		out->loc = v->loc;
		out->set = true;
		break;
	}
	case FT_DUR: {
		struct ast_dur *out = p;
		if (!want_scalar(dc, v, f->key, "a duration"))
			break;
		if (trig_parse_duration(v->u.scalar.text, &out->v) != 0) {
			diag_error(dc->d, v->loc, "bad-value",
				   "expected a duration such as 30s, 5m, 1h or 2d for '%s', found '%s'",
				   f->key, v->u.scalar.text);
			break;
		}
		out->loc = v->loc;
		out->set = true;
		break;
	}
	case FT_SIZE: {
		struct ast_dur *out = p;
		uint64_t bytes;
		if (!want_scalar(dc, v, f->key, "a size"))
			break;
		if (trig_parse_size(v->u.scalar.text, &bytes) != 0 || bytes > INT64_MAX) {
			diag_error(dc->d, v->loc, "bad-value",
				   "expected a size such as 1MiB or 512KiB for '%s', found '%s'",
				   f->key, v->u.scalar.text);
			break;
		}
		out->v = (int64_t)bytes;
		out->loc = v->loc;
		out->set = true;
		break;
	}
	case FT_ENUM:
		decode_enum(dc, v, f->key, f->aux, p);
		break;
	case FT_STRS:
		decode_strs(dc, v, f->key, false, p);
		break;
	case FT_STR_OR_STRS:
		decode_strs(dc, v, f->key, true, p);
		break;
	case FT_SECRET:
		decode_secret(dc, v, f->key, false, p);
		break;
	case FT_KEY:
		decode_secret(dc, v, f->key, true, p);
		break;
	case FT_BINDINGS:
		decode_bindings(dc, v, f->key, false, p);
		break;
	case FT_BINDINGS_L:
		decode_bindings(dc, v, f->key, true, p);
		break;
	case FT_MONTHLY: {
		struct ast_monthly *out = p;
		if (v->kind != TREE_MAP) {
			bad_value(dc, v, f->key, "a map {day: N, at: \"HH:MM\"}");
			break;
		}
		out->loc = v->loc;
		out->set = true;
		decode_map(dc, v, &monthly_schema, out, NULL);
		break;
	}
	}
}

/* [A-Z]+: what a misspelt HTTP method looks like. */
static bool is_upper_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < 'A' || *s > 'Z')
			return false;
	return true;
}

/* Decodes MAP's entries by SC into OBJ.  Keys in SKIP (NULL-ended) are
 * the caller's to handle. */
static void decode_map(struct dec *dc, const struct tree *map, const struct schema *sc,
		       void *obj, const char *const *skip)
{
	const char *keys[64];
	size_t nkeys = 0;
	for (size_t i = 0; i < sc->nfields && nkeys < 63; i++)
		keys[nkeys++] = sc->fields[i].key;
	for (size_t i = 0; skip && skip[i] && nkeys < 63; i++)
		keys[nkeys++] = skip[i];
	keys[nkeys] = NULL;

	for (size_t i = 0; i < map->u.map.n; i++) {
		const struct tree_entry *e = &map->u.map.v[i];
		const struct tree_entry *first = NULL;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(map->u.map.v[j].key, e->key) == 0) {
				first = &map->u.map.v[j];
				break;
			}
		}
		if (first) {
			dup_error(dc, e, first);
			continue;
		}
		bool skipped = false;
		for (size_t j = 0; skip && skip[j]; j++)
			if (strcmp(skip[j], e->key) == 0)
				skipped = true;
		if (skipped)
			continue;
		const struct field *f = NULL;
		for (size_t j = 0; j < sc->nfields; j++) {
			if (strcmp(sc->fields[j].key, e->key) == 0) {
				f = &sc->fields[j];
				break;
			}
		}
		if (!f) {
			if (dc->lenient)
				continue;
			const char *near = decode_suggest(e->key, keys);
			if (!near && strcmp(sc->what, "a webhook") == 0 && is_upper_word(e->key))
				diag_error(dc->d, e->key_loc, "unknown-key",
					   "unknown key '%s' in %s; the HTTP methods are GET, HEAD, "
					   "POST, PUT, PATCH, DELETE and OPTIONS", e->key, sc->what);
			else if (near)
				diag_error(dc->d, e->key_loc, "unknown-key",
					   "unknown key '%s' in %s; did you mean '%s'?",
					   e->key, sc->what, near);
			else
				diag_error(dc->d, e->key_loc, "unknown-key", "unknown key '%s' in %s",
					   e->key, sc->what);
			continue;
		}
		decode_value(dc, f, e->value, obj);
	}
}

/* A map value, or an empty one for a YAML null. */
static bool want_map(struct dec *dc, const struct tree *v, const char *key)
{
	if (v->kind == TREE_MAP || is_null(v))
		return true;
	bad_value(dc, v, key, "a map");
	return false;
}

static const struct tree empty_map = { .kind = TREE_MAP };

static const struct tree *as_map(const struct tree *v)
{
	return v->kind == TREE_MAP ? v : &empty_map;
}

/* ------------------------------------------------------------ steps */

static const struct field backend_fields[] = {
	FIELD("kind", FT_ENUM, struct ast_backend, kind, ast_backend_words),
	FIELD("workdir", FT_STR, struct ast_backend, workdir, NULL),
	FIELD("repository", FT_STR, struct ast_backend, repository, NULL),
	FIELD("max-parallel", FT_INT, struct ast_backend, max_parallel, NULL),
	FIELD("url", FT_STR, struct ast_backend, url, NULL),
	FIELD("token", FT_SECRET, struct ast_backend, token, NULL),
	FIELD("project-id", FT_STR, struct ast_backend, project_id, NULL),
};
static const struct schema backend_schema = SCHEMA("the backend", backend_fields);

static const struct field param_fields[] = {
	FIELD("name", FT_STR, struct ast_param, name, NULL),
	FIELD("type", FT_ENUM, struct ast_param, type, ast_param_type_words),
	FIELD("default", FT_STR, struct ast_param, default_value, NULL),
	FIELD("description", FT_STR, struct ast_param, description, NULL),
	FIELD("optional", FT_BOOL, struct ast_param, optional, NULL),
	FIELD("pass-as", FT_STR, struct ast_param, pass_as, NULL),
};
static const struct schema param_schema = SCHEMA("a parameter", param_fields);

static const struct field input_fields[] = {
	FIELD("name", FT_STR, struct ast_input, name, NULL),
	FIELD("default", FT_STR_OR_STRS, struct ast_input, defaults, NULL),
	FIELD("description", FT_STR, struct ast_input, description, NULL),
	FIELD("optional", FT_BOOL, struct ast_input, optional, NULL),
};
static const struct schema input_schema = SCHEMA("an input", input_fields);

static const struct field envvar_fields[] = {
	FIELD("name", FT_STR, struct ast_envvar, name, NULL),
	FIELD("default", FT_STR, struct ast_envvar, default_value, NULL),
	FIELD("description", FT_STR, struct ast_envvar, description, NULL),
	FIELD("optional", FT_BOOL, struct ast_envvar, optional, NULL),
};
static const struct schema envvar_schema = SCHEMA("an environment variable", envvar_fields);

static const struct field step_fields[] = {
	FIELD("name", FT_STR, struct ast_step, name, NULL),
	FIELD("command", FT_STR_OR_STRS, struct ast_step, command, NULL),
	FIELD("image", FT_STR, struct ast_step, image, NULL),
	FIELD("description", FT_STR, struct ast_step, description, NULL),
};
static const char *const step_lists[] = {
	"parameters", "inputs", "environment-variables", NULL
};
static const struct schema step_schema = SCHEMA("a step", step_fields);

/* Reports that MAP (at LOC) lacks KEY, unless it has the key and its value
 * was already reported as bad. */
static void missing(struct dec *dc, const struct tree *map, struct loc loc, const char *what,
		    const char *key)
{
	if (map && map->kind == TREE_MAP && tree_map_find(map, key))
		return;
	diag_error(dc->d, loc, "missing-key", "%s has no '%s'", what, key);
}

/* Decodes a list of maps: calls ITEM for each map, reports non-maps. */
static void decode_list(struct dec *dc, const struct tree *v, const char *key,
			void (*item)(struct dec *, const struct tree *, void *), void *ctx)
{
	if (is_null(v))
		return;
	if (v->kind != TREE_LIST) {
		bad_value(dc, v, key, "a list");
		return;
	}
	for (size_t i = 0; i < v->u.list.n; i++) {
		const struct tree *it = v->u.list.v[i];
		if (it->kind != TREE_MAP) {
			bad_value(dc, it, key, "a map");
			continue;
		}
		item(dc, it, ctx);
	}
}

#define GROW(dc, arr, n, cap) ARENA_PUSH((dc)->a, arr, n, cap)

struct step_ctx {
	struct ast_step *step;
	size_t cap_params, cap_inputs, cap_env;
};

static void param_item(struct dec *dc, const struct tree *m, void *ctx)
{
	struct step_ctx *sc = ctx;
	struct ast_param *p = GROW(dc, sc->step->params, sc->step->nparams, sc->cap_params);
	p->loc = m->loc;
	decode_map(dc, m, &param_schema, p, NULL);
	if (!p->name.s)
		missing(dc, m, m->loc, "a parameter", "name");
}

static void input_item(struct dec *dc, const struct tree *m, void *ctx)
{
	struct step_ctx *sc = ctx;
	struct ast_input *p = GROW(dc, sc->step->inputs, sc->step->ninputs, sc->cap_inputs);
	p->loc = m->loc;
	decode_map(dc, m, &input_schema, p, NULL);
	if (!p->name.s)
		missing(dc, m, m->loc, "an input", "name");
}

static void envvar_item(struct dec *dc, const struct tree *m, void *ctx)
{
	struct step_ctx *sc = ctx;
	struct ast_envvar *p = GROW(dc, sc->step->env, sc->step->nenv, sc->cap_env);
	p->loc = m->loc;
	decode_map(dc, m, &envvar_schema, p, NULL);
	if (!p->name.s)
		missing(dc, m, m->loc, "an environment variable", "name");
}

static void decode_step(struct dec *dc, const struct tree *m, struct ast_step *st)
{
	struct step_ctx sc = { st, 0, 0, 0 };
	st->loc = m->loc;
	st->imported = dc->lenient;
	decode_map(dc, m, &step_schema, st, step_lists);
	const struct tree *v;
	if ((v = tree_map_get(m, "parameters")))
		decode_list(dc, v, "parameters", param_item, &sc);
	if ((v = tree_map_get(m, "inputs")))
		decode_list(dc, v, "inputs", input_item, &sc);
	if ((v = tree_map_get(m, "environment-variables")))
		decode_list(dc, v, "environment-variables", envvar_item, &sc);
	if (!st->name.s)
		missing(dc, m, m->loc, "a step", "name");
	else if (!st->command.set)
		diag_error(dc->d, m->loc, "missing-key", "step '%s' has no 'command'", st->name.s);
}

/* ------------------------------------------------------------ pipelines */

static const struct field node_fields[] = {
	FIELD("name", FT_STR, struct ast_node, name, NULL),
	FIELD("step", FT_STR, struct ast_node, step, NULL),
	FIELD("type", FT_STR, struct ast_node, type, NULL),
};
static const struct schema node_schema = SCHEMA("a pipeline node", node_fields);

struct pipe_ctx {
	struct ast_pipeline *p;
	size_t cap_nodes, cap_edges;
};

static void node_item(struct dec *dc, const struct tree *m, void *ctx)
{
	struct pipe_ctx *pc = ctx;
	struct ast_node *n = GROW(dc, pc->p->nodes, pc->p->nnodes, pc->cap_nodes);
	n->loc = m->loc;
	decode_map(dc, m, &node_schema, n, NULL);
	if (!n->name.s)
		missing(dc, m, m->loc, "a pipeline node", "name");
	else if (!n->step.s && !tree_map_find(m, "step"))
		diag_error(dc->d, m->loc, "missing-key", "node '%s' has no 'step'", n->name.s);
}

static void decode_edges(struct dec *dc, const struct tree *v, struct pipe_ctx *pc)
{
	if (v->kind != TREE_LIST) {
		bad_value(dc, v, "edges", "a list");
		return;
	}
	for (size_t i = 0; i < v->u.list.n; i++) {
		const struct tree *it = v->u.list.v[i];
		const struct tree *from = NULL, *to = NULL;
		if (it->kind == TREE_LIST && it->u.list.n == 2) {
			from = it->u.list.v[0];
			to = it->u.list.v[1];
		} else if (it->kind == TREE_MAP && dc->lenient) {
			/* Valohai's long form: {source: ..., target: ...} */
			from = tree_map_get(it, "source");
			to = tree_map_get(it, "target");
		}
		if (!from || !to || from->kind != TREE_SCALAR || to->kind != TREE_SCALAR) {
			diag_error(dc->d, it->loc, "bad-value",
				   "expected an edge [FROM, TO], e.g. [prep.output.*.npz, train.input.dataset]");
			continue;
		}
		struct ast_edge *e = GROW(dc, pc->p->edges, pc->p->nedges, pc->cap_edges);
		e->loc = it->loc;
		set_str(&e->from, from);
		set_str(&e->to, to);
	}
}

static void decode_pipeline(struct dec *dc, const struct tree *m, struct ast_pipeline *p)
{
	static const struct field fields[] = {
		FIELD("name", FT_STR, struct ast_pipeline, name, NULL),
	};
	static const struct schema sc = SCHEMA("a pipeline", fields);
	static const char *const lists[] = { "nodes", "edges", NULL };
	struct pipe_ctx pc = { p, 0, 0 };
	p->loc = m->loc;
	p->imported = dc->lenient;
	decode_map(dc, m, &sc, p, lists);
	const struct tree *v;
	if ((v = tree_map_get(m, "nodes")))
		decode_list(dc, v, "nodes", node_item, &pc);
	if ((v = tree_map_get(m, "edges")))
		decode_edges(dc, v, &pc);
	if (!p->name.s)
		missing(dc, m, m->loc, "a pipeline", "name");
}

/* ------------------------------------------------------------ triggers */

static const struct field schedule_fields[] = {
	FIELD("cron", FT_STR, struct ast_schedule, cron, NULL),
	FIELD("every", FT_DUR, struct ast_schedule, every, NULL),
	FIELD("daily", FT_STR, struct ast_schedule, daily, NULL),
	FIELD("weekdays", FT_STR, struct ast_schedule, weekdays, NULL),
	FIELD("monthly", FT_MONTHLY, struct ast_schedule, monthly, NULL),
	FIELD("timezone", FT_STR, struct ast_schedule, timezone, NULL),
	FIELD("catch-up", FT_ENUM, struct ast_schedule, catch_up, ast_catch_up_words),
	FIELD("overlap", FT_ENUM, struct ast_schedule, overlap, ast_overlap_words),
};
static const struct schema schedule_schema = SCHEMA("a schedule", schedule_fields);

static const struct field webhook_fields[] = {
	FIELD("path", FT_STR, struct ast_webhook, path, NULL),
	FIELD("methods", FT_STRS, struct ast_webhook, methods, NULL),
	FIELD("max-body", FT_SIZE, struct ast_webhook, max_body, NULL),
	FIELD("not-matched-status", FT_INT, struct ast_webhook, not_matched_status, NULL),
	FIELD("rejected-status", FT_INT, struct ast_webhook, rejected_status, NULL),
};
static const struct schema webhook_schema = SCHEMA("a webhook", webhook_fields);

static const struct field notification_fields[] = {
	FIELD("event", FT_STR, struct ast_notification, event, NULL),
};
static const struct schema notification_schema = SCHEMA("a notification", notification_fields);

/* Conditions: one schema per kind, all filling struct ast_cond. */
#define CF(key, type, member, aux) FIELD(key, type, struct ast_cond, member, aux)
static const struct field token_fields[] = {
	CF("secret", FT_SECRET, secret, NULL), CF("header", FT_STR, header, NULL),
	CF("query", FT_STR, query, NULL), CF("bearer", FT_BOOL, bearer, NULL),
};
static const struct field hmac_fields[] = {
	CF("preset", FT_ENUM, preset, ast_preset_words),
	CF("algorithm", FT_ENUM, algorithm, alg_words),
	CF("secret", FT_SECRET, secret, NULL),
	CF("secret-encoding", FT_ENUM, secret_encoding, secret_enc_words),
	CF("header", FT_STR, header, NULL), CF("prefix", FT_STR, prefix, NULL),
	CF("encoding", FT_ENUM, encoding, sig_enc_words), CF("message", FT_STR, message, NULL),
};
static const struct field jwt_fields[] = {
	CF("algorithms", FT_STRS, algorithms, NULL), CF("key", FT_KEY, secret, NULL),
	CF("header", FT_STR, header, NULL), CF("query", FT_STR, query, NULL),
	CF("issuer", FT_STR, issuer, NULL), CF("audience", FT_STR_OR_STRS, audience, NULL),
	CF("leeway", FT_DUR, leeway, NULL), CF("claims", FT_BINDINGS, claims, NULL),
};
static const struct field timestamp_fields[] = {
	CF("header", FT_STR, header, NULL), CF("from", FT_ENUM, from, from_words),
	CF("format", FT_ENUM, format, time_format_words), CF("tolerance", FT_DUR, tolerance, NULL),
};
static const struct field replay_fields[] = {
	CF("id", FT_STR, id, NULL), CF("window", FT_DUR, window, NULL),
};
static const struct field rate_limit_fields[] = {
	CF("max", FT_INT, max, NULL), CF("per", FT_DUR, per, NULL), CF("key", FT_STR, key, NULL),
};
static const struct schema cond_schemas[] = {
	[AST_COND_TOKEN] = SCHEMA("a token condition", token_fields),
	[AST_COND_HMAC] = SCHEMA("an hmac condition", hmac_fields),
	[AST_COND_JWT] = SCHEMA("a jwt condition", jwt_fields),
	[AST_COND_TIMESTAMP] = SCHEMA("a timestamp condition", timestamp_fields),
	[AST_COND_REPLAY] = SCHEMA("a replay condition", replay_fields),
	[AST_COND_RATE_LIMIT] = SCHEMA("a rate-limit", rate_limit_fields),
};

/* Actions likewise, filling struct ast_action. */
#define AF(key, type, member) FIELD(key, type, struct ast_action, member, NULL)
#define AF_COMMON AF("name", FT_STR, name), AF("timeout", FT_DUR, timeout)
static const struct field run_execution_fields[] = {
	AF("step", FT_STR, step), AF("commit", FT_STR, commit), AF("title", FT_STR, title),
	AF("parameters", FT_BINDINGS, parameters), AF("inputs", FT_BINDINGS_L, inputs),
	AF("environment", FT_BINDINGS, environment),
	AF("payload-input", FT_STR, payload_input), AF_COMMON,
};
static const struct field run_pipeline_fields[] = {
	AF("pipeline", FT_STR, pipeline), AF("commit", FT_STR, commit), AF("title", FT_STR, title),
	AF("parameters", FT_BINDINGS, parameters), AF("inputs", FT_BINDINGS_L, inputs),
	AF("payload-input", FT_STR, payload_input), AF_COMMON,
};
static const struct field copy_pipeline_fields[] = {
	AF("pipeline", FT_STR, pipeline), AF("source", FT_STR, source),
	AF("parameters", FT_BINDINGS, parameters), AF_COMMON,
};
static const struct field fetch_fields[] = { AF_COMMON };
static const struct field http_fields[] = {
	AF("method", FT_STR, method), AF("url", FT_STR, url), AF("headers", FT_BINDINGS, headers),
	AF("body", FT_STR, body), AF("expect", FT_INT, expect), AF_COMMON,
};
/* A respond's timeout is the checker's to refuse, with a reason. */
static const struct field respond_fields[] = {
	AF("status", FT_INT, status), AF("content-type", FT_STR, content_type),
	AF("headers", FT_BINDINGS, headers), AF("body", FT_STR, body), AF_COMMON,
};
static const struct schema action_schemas[] = {
	[AST_ACT_RUN_EXECUTION] = SCHEMA("a run-execution action", run_execution_fields),
	[AST_ACT_RUN_PIPELINE] = SCHEMA("a run-pipeline action", run_pipeline_fields),
	[AST_ACT_COPY_PIPELINE] = SCHEMA("a copy-pipeline action", copy_pipeline_fields),
	[AST_ACT_FETCH_REPOSITORY] = SCHEMA("a fetch-repository action", fetch_fields),
	[AST_ACT_HTTP] = SCHEMA("an http action", http_fields),
	[AST_ACT_RESPOND] = SCHEMA("a respond action", respond_fields),
};

static int word_index(const char *const *words, const char *w)
{
	for (int i = 0; words[i]; i++)
		if (strcmp(words[i], w) == 0)
			return i;
	return -1;
}

/* An item of a conditions or actions list is a map with one key. */
static const struct tree_entry *single_key(struct dec *dc, const struct tree *it, const char *what)
{
	if (it->kind == TREE_MAP && it->u.map.n == 1)
		return &it->u.map.v[0];
	if (it->kind == TREE_MAP && it->u.map.n > 1)
		diag_error(dc->d, it->u.map.v[1].key_loc, "bad-value",
			   "%s has one key; '%s' starts another (a new list item needs '- ')",
			   what, it->u.map.v[1].key);
	else
		diag_error(dc->d, it->loc, "bad-value", "expected %s, a map with one key, found %s",
			   what, kind_name(it));
	return NULL;
}

static void decode_conds(struct dec *dc, const struct tree *v, const char *key,
			 struct ast_cond **out, size_t *n);

static void decode_filter(struct dec *dc, const struct tree *m, struct ast_cond *c)
{
	bool have_op = false;
	for (size_t i = 0; i < m->u.map.n; i++) {
		const struct tree_entry *e = &m->u.map.v[i];
		for (size_t j = 0; j < i; j++) {
			if (strcmp(m->u.map.v[j].key, e->key) == 0) {
				dup_error(dc, e, &m->u.map.v[j]);
				goto next;
			}
		}
		if (strcmp(e->key, "field") == 0) {
			if (want_scalar(dc, e->value, "field", "a field such as payload.ref"))
				set_str(&c->field, e->value);
			continue;
		}
		int op = word_index(ast_filter_op_words, e->key);
		if (op < 0) {
			static const char *keys[16];
			keys[0] = "field";
			memcpy(keys + 1, ast_filter_op_words, sizeof(*keys) * 11);
			const char *near = decode_suggest(e->key, keys);
			diag_error(dc->d, e->key_loc, "unknown-key",
				   near ? "unknown filter operator '%s'; did you mean '%s'?"
					: "unknown filter operator '%s'%s", e->key,
				   near ? near : "; expected equals, not-equals, in, not-in, "
						 "matches, glob, exists, greater-than, less-than or contains");
			continue;
		}
		if (have_op) {
			diag_error(dc->d, e->key_loc, "bad-value",
				   "a filter has one operator; '%s' is a second (use all: [...] to combine)",
				   e->key);
			continue;
		}
		have_op = true;
		c->op = (enum ast_filter_op)op;
		c->op_loc = e->key_loc;
		switch (c->op) {
		case AST_OP_IN:
		case AST_OP_NOT_IN:
			decode_strs(dc, e->value, e->key, false, &c->values);
			break;
		case AST_OP_EXISTS: {
			static const struct field f = CF("exists", FT_BOOL, exists, NULL);
			decode_value(dc, &f, e->value, c);
			break;
		}
		default:
			if (want_scalar(dc, e->value, e->key, "a value"))
				set_str(&c->value, e->value);
		}
	next:;
	}
	if (!c->field.s)
		missing(dc, m, m->loc, "a filter", "field");
	else if (!have_op)
		diag_error(dc->d, m->loc, "missing-key",
			   "filter on '%s' has no operator (equals, in, matches, ...)", c->field.s);
}

static void decode_cond(struct dec *dc, const struct tree *it, struct ast_cond *c)
{
	const struct tree_entry *e = single_key(dc, it, "a condition");
	if (!e)
		return;
	int kind = word_index(ast_cond_words, e->key);
	c->loc = e->key_loc;
	c->node = e->value;
	if (kind < 0) {
		const char *near = decode_suggest(e->key, ast_cond_words);
		if (word_index(ast_action_words, e->key) >= 0)
			diag_error(dc->d, e->key_loc, "unknown-condition",
				   "'%s' is an action, not a condition; it belongs in 'actions'",
				   e->key);
		else if (near)
			diag_error(dc->d, e->key_loc, "unknown-condition",
				   "unknown condition '%s'; did you mean '%s'?", e->key, near);
		else
			diag_error(dc->d, e->key_loc, "unknown-condition", "unknown condition '%s'",
				   e->key);
		c->kind = AST_COND_FILTER;      /* inert: no field, never lowered */
		return;
	}
	c->kind = (enum ast_cond_kind)kind;
	const struct tree *v = e->value;
	switch (c->kind) {
	case AST_COND_IP_ALLOW:
		decode_strs(dc, v, e->key, false, &c->cidrs);
		break;
	case AST_COND_FILTER:
		if (v->kind != TREE_MAP) {
			bad_value(dc, v, e->key, "a map {field: ..., OPERATOR: ...}");
			break;
		}
		decode_filter(dc, v, c);
		break;
	case AST_COND_ANY:
	case AST_COND_ALL:
	case AST_COND_NOT:
		if (dc->depth >= 16) {
			diag_error(dc->d, e->key_loc, "bad-value", "condition groups nest deeper than 16");
			break;
		}
		dc->depth++;
		decode_conds(dc, v, e->key, &c->children, &c->nchildren);
		dc->depth--;
		if (c->nchildren == 0 && v->kind == TREE_LIST)
			diag_error(dc->d, v->loc, "bad-value", "an empty '%s' group", e->key);
		break;
	default:
		if (want_map(dc, v, e->key))
			decode_map(dc, as_map(v), &cond_schemas[kind], c, NULL);
	}
}

static void decode_conds(struct dec *dc, const struct tree *v, const char *key,
			 struct ast_cond **out, size_t *n)
{
	if (is_null(v))
		return;
	if (v->kind != TREE_LIST) {
		bad_value(dc, v, key, "a list of conditions");
		return;
	}
	*out = arena_alloc(dc->a, (v->u.list.n ? v->u.list.n : 1) * sizeof(**out));
	for (size_t i = 0; i < v->u.list.n; i++)
		decode_cond(dc, v->u.list.v[i], &(*out)[(*n)++]);
}

static void decode_action(struct dec *dc, const struct tree *it, struct ast_action *act, bool *ok)
{
	const struct tree_entry *e = single_key(dc, it, "an action");
	*ok = false;
	if (!e)
		return;
	int kind = word_index(ast_action_words, e->key);
	act->loc = e->key_loc;
	if (kind < 0) {
		const char *near = decode_suggest(e->key, ast_action_words);
		if (word_index(ast_cond_words, e->key) >= 0) {
			diag_error(dc->d, e->key_loc, "unknown-action",
				   "'%s' is a condition, not an action; it belongs in 'conditions'",
				   e->key);
			return;
		}
		if (!near) {
			/* In .trig, any unknown word in a trigger lands here: a
			 * misspelt condition, trigger key or statement too. */
			static const char *const dsl_words[] = {
				"run", "copy", "fetch", "http", "respond", "description", "enabled",
				"schedule", "webhook", "on", "when", "token", "hmac", "jwt",
				"timestamp", "replay", "ip-allow", "filter", "any", "all", "not",
				"rate-limit", "max-concurrent", "when-busy", NULL
			};
			near = decode_suggest(e->key, dsl_words);
		}
		if (near)
			diag_error(dc->d, e->key_loc, "unknown-action",
				   "unknown action '%s'; did you mean '%s'?", e->key, near);
		else
			diag_error(dc->d, e->key_loc, "unknown-action", "unknown action '%s'", e->key);
		return;
	}
	act->kind = (enum ast_action_kind)kind;
	if (!want_map(dc, e->value, e->key))
		return;
	decode_map(dc, as_map(e->value), &action_schemas[kind], act, NULL);
	*ok = true;
	switch (act->kind) {
	case AST_ACT_RUN_EXECUTION:
		if (!act->step.s)
			missing(dc, e->value, e->key_loc, "run-execution", "step");
		break;
	case AST_ACT_RUN_PIPELINE:
	case AST_ACT_COPY_PIPELINE:
		if (!act->pipeline.s)
			missing(dc, e->value, e->key_loc, e->key, "pipeline");
		break;
	case AST_ACT_HTTP:
		if (!act->url.s)
			missing(dc, e->value, e->key_loc, "http", "url");
		break;
	case AST_ACT_RESPOND:
		if (!act->status.set)
			missing(dc, e->value, e->key_loc, "respond", "status");
		break;
	case AST_ACT_FETCH_REPOSITORY:
		break;
	}
}

static void decode_trigger(struct dec *dc, const struct tree *m, struct ast_trigger *t)
{
	static const struct field fields[] = {
		FIELD("name", FT_STR, struct ast_trigger, name, NULL),
		FIELD("enabled", FT_BOOL, struct ast_trigger, enabled, NULL),
		FIELD("description", FT_STR, struct ast_trigger, description, NULL),
		FIELD("max-concurrent", FT_INT, struct ast_trigger, max_concurrent, NULL),
		FIELD("when-busy", FT_ENUM, struct ast_trigger, when_busy, ast_when_busy_words),
	};
	static const struct schema sc = SCHEMA("a trigger", fields);
	static const char *const own[] = {
		"schedule", "webhook", "notification", "conditions", "actions", NULL
	};
	t->loc = m->loc;
	decode_map(dc, m, &sc, t, own);
	const char *label = t->name.s ? arena_printf(dc->a, "trigger '%s'", t->name.s) : "a trigger";
	if (!t->name.s)
		missing(dc, m, m->loc, "a trigger", "name");

	const struct tree_entry *kinds[3] = {
		tree_map_find(m, "schedule"), tree_map_find(m, "webhook"),
		tree_map_find(m, "notification"),
	};
	const struct tree_entry *first = NULL;
	for (int i = 0; i < 3; i++) {
		if (!kinds[i])
			continue;
		if (first) {
			diag_error(dc->d, kinds[i]->key_loc, "trigger-kind",
				   "%s has both '%s' and '%s'; a trigger is exactly one of "
				   "schedule, webhook or notification", label, first->key,
				   kinds[i]->key);
			continue;
		}
		first = kinds[i];
		const struct tree *v = kinds[i]->value;
		if (!want_map(dc, v, kinds[i]->key))
			continue;
		v = as_map(v);
		switch (i) {
		case 0:
			t->kind = AST_SCHEDULE;
			t->schedule = arena_alloc(dc->a, sizeof(*t->schedule));
			t->schedule->loc = kinds[i]->key_loc;
			decode_map(dc, v, &schedule_schema, t->schedule, NULL);
			break;
		case 1:
			t->kind = AST_WEBHOOK;
			t->webhook = arena_alloc(dc->a, sizeof(*t->webhook));
			t->webhook->loc = kinds[i]->key_loc;
			decode_map(dc, v, &webhook_schema, t->webhook, NULL);
			break;
		case 2:
			t->kind = AST_NOTIFICATION;
			t->notification = arena_alloc(dc->a, sizeof(*t->notification));
			t->notification->loc = kinds[i]->key_loc;
			decode_map(dc, v, &notification_schema, t->notification, NULL);
			if (!t->notification->event.s)
				missing(dc, v, kinds[i]->key_loc, "a notification", "event");
			break;
		}
	}
	if (!first)
		diag_error(dc->d, t->name.s ? t->name.loc : m->loc, "trigger-kind",
			   "%s has no schedule, webhook or notification", label);

	const struct tree *v;
	if ((v = tree_map_get(m, "conditions")))
		decode_conds(dc, v, "conditions", &t->conds, &t->nconds);
	if ((v = tree_map_get(m, "actions")) && !is_null(v)) {
		if (v->kind != TREE_LIST) {
			bad_value(dc, v, "actions", "a list of actions");
		} else {
			t->actions = arena_alloc(dc->a, (v->u.list.n ? v->u.list.n : 1) *
							sizeof(*t->actions));
			for (size_t i = 0; i < v->u.list.n; i++) {
				bool ok;
				decode_action(dc, v->u.list.v[i], &t->actions[t->nactions], &ok);
				if (ok)
					t->nactions++;
			}
		}
	}
}

/* ------------------------------------------------------------ files */

static void project_step(struct dec *dc, const struct tree *m, void *ctx)
{
	struct ast_project *p = ctx;
	decode_step(dc, m, GROW(dc, p->steps, p->nsteps, p->capsteps));
}

static void project_pipeline(struct dec *dc, const struct tree *m, void *ctx)
{
	struct ast_project *p = ctx;
	decode_pipeline(dc, m, GROW(dc, p->pipelines, p->npipelines, p->cappipelines));
}

static void project_trigger(struct dec *dc, const struct tree *m, void *ctx)
{
	struct ast_project *p = ctx;
	decode_trigger(dc, m, GROW(dc, p->triggers, p->ntriggers, p->captriggers));
}

/* A valohai.yaml: a list of {step: ...}, {pipeline: ...}, {endpoint: ...}. */
static void decode_valohai(struct dec *dc, const struct tree *root, struct ast_project *p)
{
	if (root->kind == TREE_MAP && root->u.map.n == 0)
		return;         /* an empty file */
	if (root->kind != TREE_LIST) {
		diag_error(dc->d, root->loc, "bad-value",
			   "expected a valohai.yaml: a list of '- step:' and '- pipeline:' items");
		return;
	}
	for (size_t i = 0; i < root->u.list.n; i++) {
		const struct tree *it = root->u.list.v[i];
		if (it->kind != TREE_MAP || it->u.map.n != 1) {
			diag_error(dc->d, it->loc, "bad-value",
				   "expected '- step:' or '- pipeline:' in a valohai.yaml");
			continue;
		}
		const struct tree_entry *e = &it->u.map.v[0];
		if (e->value->kind != TREE_MAP) {
			if (strcmp(e->key, "step") == 0 || strcmp(e->key, "pipeline") == 0)
				bad_value(dc, e->value, e->key, "a map");
			continue;
		}
		if (strcmp(e->key, "step") == 0)
			project_step(dc, e->value, p);
		else if (strcmp(e->key, "pipeline") == 0)
			project_pipeline(dc, e->value, p);
		/* endpoints and anything newer belong to Valohai, not to trig */
	}
}

/* NAME as written in file FROM, relative to FROM's folder. */
static char *import_path(struct dec *dc, const char *name, uint32_t from)
{
	return source_relative(dc->a, dc->s, from, name);
}

static void import_file(struct dec *dc, const struct ast_str *name, uint32_t from,
			struct ast_project *p)
{
	char *path = import_path(dc, name->s, from);
	for (size_t i = 1; i < dc->s->n; i++) {
		if (strcmp(dc->s->v[i].path, path) == 0) {
			diag_error(dc->d, name->loc, "import", "'%s' is imported twice", name->s);
			/* The earlier import, if it was one (and not a definition file). */
			for (size_t j = 0; j + 1 < p->imports.n; j++) {
				const struct ast_str *was = &p->imports.v[j];
				if (was->loc.file &&
				    strcmp(import_path(dc, was->s, was->loc.file), path) == 0) {
					diag_note(dc->d, was->loc, "first imported here");
					break;
				}
			}
			return;
		}
	}
	/* Look before reading: a name is not read unless it is a .yaml or
	 * .yml regular file (not a device or a pipe that never ends). */
	const char *ext = strrchr(path, '.');
	if (!ext || strchr(ext, '/') || (strcmp(ext, ".yaml") != 0 && strcmp(ext, ".yml") != 0)) {
		diag_error(dc->d, name->loc, "import",
			   "'%s' is not a valohai.yaml (imports are .yaml or .yml files)", name->s);
		return;
	}
	struct stat st;
	if (stat(path, &st) != 0) {
		diag_error(dc->d, name->loc, "import", "cannot read '%s': %s", path, strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_error(dc->d, name->loc, "import", "'%s' is not a regular file", path);
		return;
	}
	uint32_t file = sources_load(dc->s, path);
	if (!file) {
		diag_error(dc->d, name->loc, "import", "cannot read '%s': %s", path, strerror(errno));
		return;
	}
	struct tree *root = yaml_parse(dc->a, dc->d, dc->s, file);
	if (!root)
		return;
	bool was = dc->lenient;
	dc->lenient = true;
	decode_valohai(dc, root, p);
	dc->lenient = was;
}

static void decode_file(struct dec *dc, const struct tree *root, uint32_t file,
			struct ast_project *p)
{
	static const struct field fields[] = {
		FIELD("project", FT_STR, struct ast_project, name, NULL),
		FIELD("import", FT_STRS, struct ast_project, imports, NULL),
	};
	static const struct schema sc = SCHEMA("the definitions", fields);
	static const char *const own[] = { "backend", "steps", "pipelines", "triggers", NULL };

	if (root->kind != TREE_MAP) {
		diag_error(dc->d, root->loc, "bad-value",
			   "expected a map of definitions (project, steps, triggers, ...)");
		return;
	}
	struct ast_project here = { 0 };
	decode_map(dc, root, &sc, &here, own);
	if (here.name.s) {
		if (p->name.s) {
			diag_error(dc->d, here.name.loc, "project",
				   "a second 'project'; the files of one build are one project");
			diag_note(dc->d, p->name.loc, "the project is named here");
		} else {
			p->name = here.name;
			p->main_file = file;
		}
	}
	const struct tree_entry *e;
	if ((e = tree_map_find(root, "backend"))) {
		if (p->backend) {
			diag_error(dc->d, e->key_loc, "project", "a second 'backend'");
			diag_note(dc->d, p->backend->loc, "the backend is set here");
		} else if (want_map(dc, e->value, "backend")) {
			p->backend = arena_alloc(dc->a, sizeof(*p->backend));
			p->backend->loc = e->key_loc;
			decode_map(dc, as_map(e->value), &backend_schema, p->backend, NULL);
		}
	}
	const struct tree *v;
	if ((v = tree_map_get(root, "steps")))
		decode_list(dc, v, "steps", project_step, p);
	if ((v = tree_map_get(root, "pipelines")))
		decode_list(dc, v, "pipelines", project_pipeline, p);
	if ((v = tree_map_get(root, "triggers")))
		decode_list(dc, v, "triggers", project_trigger, p);
	for (size_t i = 0; i < here.imports.n; i++) {
		const struct ast_str *imp = &here.imports.v[i];
		struct ast_str *all = p->imports.v;
		p->imports.v = arena_alloc(dc->a, (p->imports.n + 1) * sizeof(*all));
		if (p->imports.n)
			memcpy(p->imports.v, all, p->imports.n * sizeof(*all));
		p->imports.v[p->imports.n++] = *imp;
		p->imports.set = true;
		import_file(dc, imp, file, p);
	}
}

int decode_project(struct arena *a, struct diag *d, struct sources *s,
		   struct tree *const *roots, const uint32_t *files, size_t n,
		   bool need_project, struct ast_project *out)
{
	struct dec dc = { a, d, s, false, 0 };
	unsigned before = diag_errors(d);
	for (size_t i = 0; i < n; i++)
		decode_file(&dc, roots[i], files[i], out);
	if (need_project && !out->name.s && diag_errors(d) == before) {
		struct loc at = { files[0], 1, 1, 0 };
		diag_error(d, at, "project",
			   "no 'project' in the definitions; name it with 'project NAME' "
			   "(.trig) or 'project: NAME' (YAML)");
	}
	return diag_errors(d) == before ? 0 : -1;
}
