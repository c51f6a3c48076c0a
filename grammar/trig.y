/*
 * trig.y — the bison grammar of the .trig language.
 *
 * The parser builds the document tree of tree.h directly, shaped exactly
 * like the YAML form (SPEC.md §2), and does all the desugaring on the way:
 * `when payload.ref == "x"` is reduced to the list item
 * {filter: {field: payload.ref, equals: x}} of the trigger's conditions.
 * The lexer is grammar/trig.re; the helpers that put statements into maps
 * and lists are in compiler/dsl.c; grammar/GRAMMAR.md is the EBNF of this
 * file (keep the two in sync) and docs/language.md the user's reference.
 *
 * Shape of the grammar.  A file and every `{ }` block is a list of
 * statements separated by newlines, `;` or `,`.  What a statement means
 * depends on the block it is in, so each kind of block has its own
 * statement rule and its own set of words that start sugar statements:
 *
 *   top      backend import step pipeline trigger
 *   step     parameter input environment
 *   pipeline node edge
 *   trigger  webhook on when any all not http respond, `rate limit`,
 *            `run execution`, `run pipeline`, `copy pipeline`,
 *            `fetch repository`
 *   action   parameter input environment header
 *   any/all/not   when any all not, `rate limit`
 *   generic  (none)
 *
 * Any other word (keywords included) or a quoted string starts a generic
 * statement `KEY [VALUE | = VALUE | k v k v ...]`.  Statements reduce to a
 * struct stmt that says what to do with the block's map (or list); the
 * block's list rule applies it (dsl_apply), so the trigger block can route
 * conditions and actions into their lists.
 *
 * Errors: every statement list has `error` alternatives; the error reporter
 * asks the lexer to skip to the end of the broken statement (brackets
 * balanced), so each statement yields at most one diagnostic and the next
 * statement is parsed afresh.  Values live in the arena: no %destructor is
 * needed (the tree nodes a discarded statement built are simply not linked
 * into the tree, and freed with the arena).
 */

%require "3.8"
%define api.pure full
%define api.token.prefix {T_}
%define api.location.type {struct loc}
%define parse.error custom
%define parse.lac full
%locations
%param {struct parser *p}
%expect 0

%code requires {
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"
#include "source.h"
#include "tree.h"

struct parser;

/* What a statement does to the map (or list) of the block it is in. */
enum stmt_how {
	ST_NONE,        /* nothing (a statement dropped by error recovery) */
	ST_PUT,         /* map[key] = value                                */
	ST_APPEND,      /* append value to the list map[key], made if need be */
	ST_SUBPUT,      /* map[key][sub] = value, the map made if need be  */
	ST_COND,        /* value is a condition: trigger's `conditions`    */
	ST_ACTION,      /* value is an action: trigger's `actions`         */
};

struct stmt {
	enum stmt_how how;
	bool literal;           /* the key was a quoted string: no routing */
	const char *key;
	struct loc key_loc;
	const char *sub;        /* ST_SUBPUT: the key inside map[key] */
	struct loc sub_loc;
	struct tree *value;
};

/* The kinds of statement lists, for dsl_apply(). */
enum dsl_ctx { CTX_MAP, CTX_TRIGGER, CTX_COND };

/* A block's map (or list) being built, and which of its entries the
 * appending sugar adds to (1 + index; 0 = not looked up yet), so that a
 * long block is not searched again for every statement. */
enum { DSL_SLOTS = 13 };
struct acc {
	struct tree *t;
	size_t slot[DSL_SLOTS];
};

#define YYLLOC_DEFAULT(cur, rhs, n)                                          \
	do {                                                                 \
		if (n) {                                                     \
			(cur) = loc_span(YYRHSLOC(rhs, 1), YYRHSLOC(rhs, n)); \
		} else {                                                     \
			(cur) = YYRHSLOC(rhs, 0);                            \
			(cur).col += (cur).len;                              \
			(cur).len = 0;                                       \
		}                                                            \
	} while (0)
}

%code provides {
/*
 * The front end's internal interface, shared by trig.y, trig.re,
 * compiler/dsl.c and compiler/fmt_trig.c.  Not thread-safe per parser;
 * separate parsers share nothing.
 */
enum {
	DSL_MAX_DEPTH = 64,                     /* nested brackets and blocks */
	DSL_MAX_SIZE = 16 * 1024 * 1024,        /* bytes of one file */
};

/* The lexer's state (trig.re).  TEXT is borrowed and must stay valid;
 * text[len] must be NUL (a source's text is).  With A NULL the lexer only
 * classifies tokens (no values); with D NULL it reports nothing. */
struct lexer {
	const unsigned char *base, *cur, *lim, *tok, *line_start;
	uint32_t file, line;
	struct arena *a;
	struct diag *d;
	bool failed;            /* a lexical error happened */
	bool regex_ok;          /* the last token was `matches` or "matches" */
	int last;               /* last token handed to the parser */
	unsigned depth;         /* open brackets and braces */
	unsigned char open[DSL_MAX_DEPTH];      /* '{' '[' '(' of the first levels */
	unsigned tok_depth;     /* depth before the last token */
	bool popped_brace;      /* the last token was a '}' that closed a '{' */
	bool skip;              /* skipping the rest of a broken statement */
	unsigned skip_depth;    /* ... which lives at this depth */
	char *sb;               /* decoded string being built (owned) */
	size_t sb_len, sb_cap;
};

struct parser {
	struct lexer lx;
	struct arena *a;
	struct diag *d;
	uint32_t file;
	struct tree *root;
};

void lexer_init(struct lexer *lx, const char *text, size_t len, uint32_t file,
		struct arena *a, struct diag *d);
void lexer_release(struct lexer *lx);
int yylex(YYSTYPE *val, YYLTYPE *loc, struct parser *p);
/* After a syntax error at the last token: skip the rest of the statement. */
void lexer_recover(struct lexer *lx);
/* The token TEXT[0..LEN) is, if it is exactly one token (keywords, words,
 * numbers, paths, methods; never a string), else 0.  TEXT need not be
 * NUL-terminated. */
int dsl_probe(const char *text, size_t len);

/* Tree building (compiler/dsl.c). */
struct stmt dsl_put(struct tree *key, struct tree *value);
struct stmt dsl_put_as(const char *key, struct loc key_loc, struct tree *value);
struct stmt dsl_append(const char *key, struct loc key_loc, struct tree *value);
struct stmt dsl_subput(const char *key, struct loc key_loc, struct tree *sub,
		       struct tree *value);
struct stmt dsl_item(enum stmt_how how, struct loc loc, struct tree *item);
struct acc *dsl_acc(struct parser *p, struct tree *t);
void dsl_apply(struct parser *p, struct acc *acc, const struct stmt *st, enum dsl_ctx ctx);
struct tree *dsl_map(struct parser *p, struct loc loc);
void dsl_add(struct parser *p, struct tree *map, const char *key, struct loc key_loc,
	     struct tree *value);
void dsl_merge(struct parser *p, struct tree *dst, const struct tree *src);
struct tree *dsl_map1(struct parser *p, struct loc loc, const char *key, struct loc key_loc,
		      struct tree *value);
struct tree *dsl_template(struct parser *p, const struct tree *path);
struct tree *dsl_null(struct parser *p, struct loc after);
struct tree *dsl_word(struct parser *p, struct loc loc, const char *text);
}

%union {
	struct tree *t;
	struct stmt st;
	struct acc *acc;
}

/* Tokens with a value carry a scalar (tree.h) with the token's text. */
%token <t> WORD "a name"
%token <t> STRING "a string"
%token <t> NUMBER "a number"
%token <t> PATH "a path"
%token <t> REGEX "a regular expression"
%token <t> METHOD "an HTTP method"
%token <t> TILDE "'~'"
%token NL "end of line"
%token ARROW "'->'"
%token EQ "'=='"
%token NE "'!='"
/* Keywords; the single words are also names where a name may stand. */
%token <t> BACKEND "'backend'" IMPORT "'import'" STEP "'step'" PIPELINE "'pipeline'"
%token <t> TRIGGER "'trigger'"
%token <t> PARAMETER "'parameter'" INPUT "'input'" ENVIRONMENT "'environment'"
%token <t> HEADER "'header'"
%token <t> NODE "'node'" EDGE "'edge'"
%token <t> WEBHOOK "'webhook'" ON "'on'" HTTP "'http'" RESPOND "'respond'"
%token <t> WHEN "'when'" ANY "'any'" ALL "'all'" NOT "'not'"
%token <t> IN "'in'" MATCHES "'matches'" GLOB "'glob'" CONTAINS "'contains'"
%token <t> EXISTS "'exists'" AS "'as'"
%token <t> ENV "'env'" FILE "'file'" JWKS_FILE "'jwks-file'" JWKS_URL "'jwks-url'"
%token RUN_EXECUTION "'run execution'" RUN_PIPELINE "'run pipeline'"
%token COPY_PIPELINE "'copy pipeline'" FETCH_REPOSITORY "'fetch repository'"
%token RATE_LIMIT "'rate limit'" NOT_IN "'not in'" NOT_EXISTS "'not exists'"

/* `run execution infer as predict`: after an action's head, `as` names
 * the action rather than starting a pair (NO_AS, lower, is the empty
 * opt_as's precedence: bison shifts the `as`). */
%precedence NO_AS
%precedence AS

%type <acc> top_list step_list pipe_list trig_list act_list cond_list gen_list
%type <t> step_body pipe_body trig_body act_body cond_body gen_body
%type <t> opt_step_block opt_pipe_block opt_trig_block opt_ablock opt_gblock
%type <t> ablock cblock gblock
%type <t> value scalar word list items pairs opt_pairs opt_type opt_default
%type <t> methods opt_methods opt_path opt_tmpl field endpoint aname opt_as
%type <t> kw_cond_group kw_top kw_step kw_hdr kw_pipe kw_trig kw_cond kw_op kw_secret kw_as
%type <t> gen_key top_key step_key pipe_key trig_key act_key cond_key
%type <t> tail
%type <st> top_stmt step_stmt pipe_stmt trig_stmt act_stmt cond_stmt gen_stmt
%type <st> cond_sugar act_sugar op

%initial-action {
	@$ = (struct loc){ p->file, 1, 1, 0 };
}

%code {
#include <stdio.h>
#include <string.h>

static void yyerror(const YYLTYPE *loc, struct parser *p, const char *msg);

/* "{kind: NAME, ...rest}" and the like: KEY = NAME first, then REST. */
static struct tree *named(struct parser *p, struct loc kw, const char *key,
			  struct tree *name, const struct tree *rest)
{
	struct tree *m = dsl_map(p, kw);
	dsl_add(p, m, key, kw, name);
	dsl_merge(p, m, rest);
	return m;
}

/* The 'sugar' head of a statement: KEY = VALUE first, then PAIRS and BLOCK. */
static struct tree *headed(struct parser *p, struct loc kw, const char *key,
			   struct tree *value, const struct tree *pairs, const struct tree *block)
{
	struct tree *m = dsl_map(p, kw);
	dsl_add(p, m, key, kw, value);
	dsl_merge(p, m, pairs);
	dsl_merge(p, m, block);
	return m;
}

/* An action's map: KEY = VALUE (its head; with KEY NULL, VALUE is a map
 * of head entries) first, then `as NAME` (written at AS) as name: NAME,
 * then PAIRS and BLOCK. */
static struct tree *action_map(struct parser *p, struct loc kw, const char *key,
			       struct tree *value, struct loc as, struct tree *name,
			       const struct tree *pairs, const struct tree *block)
{
	struct tree *m = dsl_map(p, kw);
	if (key)
		dsl_add(p, m, key, kw, value);  /* a NULL value adds nothing */
	else
		dsl_merge(p, m, value);         /* the head is a map already */
	if (name) {
		as.len = 2;
		dsl_add(p, m, "name", as, name);
	}
	dsl_merge(p, m, pairs);
	dsl_merge(p, m, block);
	return m;
}

/* The loc of the first byte of L (a ':' or '=' that introduced a value). */
static struct loc first_byte(struct loc l)
{
	l.len = 1;
	return l;
}
}

%start file

%%

/* file ::= top_body */
file
	: top_body
	;

/*
 * Statement lists.  Every kind of block has the same three rules:
 *   X_body ::= X_list [ X_stmt ]        -- the last statement needs no sep
 *   X_list ::= { X_stmt sep }
 * plus `error` alternatives that drop a broken statement.  X_list's value
 * is the map (or list) being built; X_stmt's is a struct stmt.
 */
sep
	: NL
	| ','
	;

/* top_body ::= top_list [ top_stmt ] */
top_body
	: top_list
	| top_list top_stmt		{ dsl_apply(p, $1, &$2, CTX_MAP); }
	| top_list error		{ yyerrok; }
	;

top_list
	: %empty			{ $$ = dsl_acc(p, p->root); }
	| top_list top_stmt sep		{ dsl_apply(p, $1, &$2, CTX_MAP); $$ = $1; }
	| top_list error sep		{ yyerrok; $$ = $1; }
	;

/*
 * top_stmt ::= top_key tail
 *            | 'backend' scalar [gblock]      backend: {kind: scalar, ...}
 *            | 'import' value                 import += [value]
 *            | 'step' scalar [step_block]     steps += [{name: scalar, ...}]
 *            | 'pipeline' scalar [pipe_block] pipelines += [...]
 *            | 'trigger' scalar [trig_block]  triggers += [...]
 */
top_stmt
	: top_key tail			{ $$ = dsl_put($1, $2); }
	| BACKEND scalar opt_gblock	{ $$ = dsl_put_as("backend", @1,
						  named(p, @1, "kind", $2, $3)); }
	| IMPORT value			{ $$ = dsl_append("import", @1, $2); }
	| STEP scalar opt_step_block	{ $$ = dsl_append("steps", @1,
						  named(p, @1, "name", $2, $3)); }
	| PIPELINE scalar opt_pipe_block
					{ $$ = dsl_append("pipelines", @1,
						  named(p, @1, "name", $2, $3)); }
	| TRIGGER scalar opt_trig_block	{ $$ = dsl_append("triggers", @1,
						  named(p, @1, "name", $2, $3)); }
	;

/*
 * tail ::= [ value | '=' value | pairs ]      what follows a generic KEY;
 *                                            nothing is YAML's null
 */
tail
	: %empty			{ $$ = dsl_null(p, @$); }
	| value
	| '=' value			{ $$ = $2; }
	| pairs
	;

/* pairs ::= pkey value { pkey value }         one line of k v k v ... */
pairs
	: word value			{ $$ = dsl_map(p, @1);
					  dsl_add(p, $$, $1->u.scalar.text, $1->loc, $2); }
	| pairs word value		{ dsl_add(p, $1, $2->u.scalar.text, $2->loc, $3); $$ = $1; }
	;

opt_pairs
	: %empty			{ $$ = NULL; }
	| pairs
	;

/*
 * value ::= scalar | REGEX | list | gblock
 *         | ('env' | 'file' | 'jwks-file' | 'jwks-url') scalar    a secret
 */
value
	: scalar
	| REGEX
	| list
	| gblock
	| kw_secret scalar		{ $$ = dsl_map1(p, @1, $1->u.scalar.text, @1, $2); }
	;

/* scalar ::= STRING | NUMBER | METHOD | '~' | word | PATH   (a PATH is a template) */
scalar
	: STRING
	| NUMBER
	| METHOD
	| TILDE
	| word
	| PATH				{ $$ = dsl_template(p, $1); }
	;

/* list ::= '[' [ value { ',' value } [','] ] ']'   (newlines are free inside) */
list
	: '[' ']'			{ $$ = tree_list(p->a, @1); }
	| '[' items ']'			{ $$ = $2; $$->loc = @1; }
	| '[' items ',' ']'		{ $$ = $2; $$->loc = @1; }
	;

items
	: value				{ $$ = tree_list(p->a, @1); tree_list_push(p->a, $$, $1); }
	| items ',' value		{ tree_list_push(p->a, $1, $3); $$ = $1; }
	;

/* The keywords, in groups by the block whose sugar they start. */
kw_top: BACKEND | IMPORT | STEP | PIPELINE | TRIGGER ;
kw_step: PARAMETER | INPUT | ENVIRONMENT ;
kw_hdr: HEADER ;
kw_pipe: NODE | EDGE ;
kw_trig: WEBHOOK | ON | HTTP | RESPOND ;
kw_cond: WHEN | ANY | ALL | NOT ;
kw_op: IN | MATCHES | GLOB | CONTAINS | EXISTS ;
kw_secret: ENV | FILE | JWKS_FILE | JWKS_URL ;
kw_as: AS ;

/* word ::= WORD | any single keyword but the secret ones */
word
	: WORD
	| kw_top | kw_step | kw_hdr | kw_pipe | kw_trig | kw_cond | kw_op | kw_as
	;

/*
 * The keys a generic statement may start with, per block: a word that
 * does not start a sugar statement there, or a quoted string (always a
 * plain key of the block's own map, never routed nor sugar).
 */
gen_key: word | kw_secret | STRING ;
top_key: WORD | kw_step | kw_hdr | kw_pipe | kw_trig | kw_cond | kw_op | kw_as | kw_secret
       | STRING ;
step_key: WORD | kw_top | kw_hdr | kw_pipe | kw_trig | kw_cond | kw_op | kw_as | kw_secret
	| STRING ;
pipe_key: WORD | kw_top | kw_step | kw_hdr | kw_trig | kw_cond | kw_op | kw_as | kw_secret
	| STRING ;
trig_key: WORD | kw_top | kw_step | kw_hdr | kw_pipe | kw_op | kw_as | kw_secret | STRING ;
act_key: WORD | kw_top | kw_pipe | kw_trig | kw_cond | kw_op | kw_as | kw_secret | STRING ;
cond_key: WORD | kw_top | kw_step | kw_hdr | kw_pipe | kw_trig | kw_op | kw_as | kw_secret
	| STRING ;

/* gblock ::= '{' gen_body '}'                 a map of generic statements */
gblock
	: '{' gen_body '}'		{ $$ = $2; $$->loc = @1; }
	;

opt_gblock
	: %empty			{ $$ = NULL; }
	| gblock
	;

gen_body
	: gen_list			{ $$ = $1->t; }
	| gen_list gen_stmt		{ dsl_apply(p, $1, &$2, CTX_MAP); $$ = $1->t; }
	| gen_list error		{ yyerrok; $$ = $1->t; }
	;

gen_list
	: %empty			{ $$ = dsl_acc(p, dsl_map(p, @$)); }
	| gen_list gen_stmt sep		{ dsl_apply(p, $1, &$2, CTX_MAP); $$ = $1; }
	| gen_list error sep		{ yyerrok; $$ = $1; }
	;

/* gen_stmt ::= gen_key tail */
gen_stmt
	: gen_key tail			{ $$ = dsl_put($1, $2); }
	;

/* step_block ::= '{' step_body '}' */
opt_step_block
	: %empty			{ $$ = NULL; }
	| '{' step_body '}'		{ $$ = $2; $$->loc = @1; }
	;

step_body
	: step_list			{ $$ = $1->t; }
	| step_list step_stmt		{ dsl_apply(p, $1, &$2, CTX_MAP); $$ = $1->t; }
	| step_list error		{ yyerrok; $$ = $1->t; }
	;

step_list
	: %empty			{ $$ = dsl_acc(p, dsl_map(p, @$)); }
	| step_list step_stmt sep	{ dsl_apply(p, $1, &$2, CTX_MAP); $$ = $1; }
	| step_list error sep		{ yyerrok; $$ = $1; }
	;

/*
 * step_stmt ::= step_key tail
 *   | 'parameter' scalar [':' scalar] ['=' value] [pairs] [gblock]
 *                                  parameters += [{name, type, default, ...}]
 *   | 'input' scalar ['=' value] [pairs] [gblock]       inputs += [...]
 *   | 'environment' scalar ['=' value] [pairs] [gblock]
 *                                  environment-variables += [...]
 */
step_stmt
	: step_key tail			{ $$ = dsl_put($1, $2); }
	| PARAMETER scalar opt_type opt_default opt_pairs opt_gblock
		{
			struct tree *m = named(p, @1, "name", $2, NULL);
			if ($3)
				dsl_add(p, m, "type", first_byte(@3), $3);
			if ($4)
				dsl_add(p, m, "default", first_byte(@4), $4);
			dsl_merge(p, m, $5);
			dsl_merge(p, m, $6);
			$$ = dsl_append("parameters", @1, m);
		}
	| INPUT scalar opt_default opt_pairs opt_gblock
		{
			struct tree *m = named(p, @1, "name", $2, NULL);
			if ($3)
				dsl_add(p, m, "default", first_byte(@3), $3);
			dsl_merge(p, m, $4);
			dsl_merge(p, m, $5);
			$$ = dsl_append("inputs", @1, m);
		}
	| ENVIRONMENT scalar opt_default opt_pairs opt_gblock
		{
			struct tree *m = named(p, @1, "name", $2, NULL);
			if ($3)
				dsl_add(p, m, "default", first_byte(@3), $3);
			dsl_merge(p, m, $4);
			dsl_merge(p, m, $5);
			$$ = dsl_append("environment-variables", @1, m);
		}
	;

opt_type
	: %empty			{ $$ = NULL; }
	| ':' scalar			{ $$ = $2; }
	;

opt_default
	: %empty			{ $$ = NULL; }
	| '=' value			{ $$ = $2; }
	;

/* pipe_block ::= '{' pipe_body '}' */
opt_pipe_block
	: %empty			{ $$ = NULL; }
	| '{' pipe_body '}'		{ $$ = $2; $$->loc = @1; }
	;

pipe_body
	: pipe_list			{ $$ = $1->t; }
	| pipe_list pipe_stmt		{ dsl_apply(p, $1, &$2, CTX_MAP); $$ = $1->t; }
	| pipe_list error		{ yyerrok; $$ = $1->t; }
	;

pipe_list
	: %empty			{ $$ = dsl_acc(p, dsl_map(p, @$)); }
	| pipe_list pipe_stmt sep	{ dsl_apply(p, $1, &$2, CTX_MAP); $$ = $1; }
	| pipe_list error sep		{ yyerrok; $$ = $1; }
	;

/*
 * pipe_stmt ::= pipe_key tail
 *   | 'node' scalar [pairs] [gblock]           nodes += [{name, ...}]
 *   | 'edge' endpoint '->' endpoint            edges += [[from, to]]
 */
pipe_stmt
	: pipe_key tail			{ $$ = dsl_put($1, $2); }
	| NODE scalar opt_pairs opt_gblock
					{ $$ = dsl_append("nodes", @1,
						  headed(p, @1, "name", $2, $3, $4)); }
	| EDGE endpoint ARROW endpoint
		{
			struct tree *e = tree_list(p->a, @1);
			tree_list_push(p->a, e, $2);
			tree_list_push(p->a, e, $4);
			$$ = dsl_append("edges", @1, e);
		}
	;

/* endpoint ::= STRING | PATH | NUMBER | word      taken literally */
endpoint: STRING | PATH | NUMBER | word ;

/* trig_block ::= '{' trig_body '}' */
opt_trig_block
	: %empty			{ $$ = NULL; }
	| '{' trig_body '}'		{ $$ = $2; $$->loc = @1; }
	;

trig_body
	: trig_list			{ $$ = $1->t; }
	| trig_list trig_stmt		{ dsl_apply(p, $1, &$2, CTX_TRIGGER); $$ = $1->t; }
	| trig_list error		{ yyerrok; $$ = $1->t; }
	;

trig_list
	: %empty			{ $$ = dsl_acc(p, dsl_map(p, @$)); }
	| trig_list trig_stmt sep	{ dsl_apply(p, $1, &$2, CTX_TRIGGER); $$ = $1; }
	| trig_list error sep		{ yyerrok; $$ = $1; }
	;

/*
 * trig_stmt ::= trig_key tail     a trigger key, a condition or an action,
 *                                 by the key's text (dsl_apply)
 *   | cond_sugar | act_sugar
 *   | 'webhook' {METHOD} [STRING] [pairs] [gblock]
 *                                 webhook: {path, methods: [...], ...}
 *   | 'on' scalar [pairs] [gblock] notification: {event: scalar, ...}
 */
trig_stmt
	: trig_key tail			{ $$ = dsl_put($1, $2); }
	| cond_sugar
	| act_sugar
	| WEBHOOK opt_methods opt_path opt_pairs opt_gblock
		{
			struct tree *m = dsl_map(p, @1);
			if ($3)
				dsl_add(p, m, "path", $3->loc, $3);
			if ($2)
				dsl_add(p, m, "methods", $2->loc, $2);
			dsl_merge(p, m, $4);
			dsl_merge(p, m, $5);
			$$ = dsl_put_as("webhook", @1, m);
		}
	| ON scalar opt_pairs opt_gblock
					{ $$ = dsl_put_as("notification", @1,
						  headed(p, @1, "event", $2, $3, $4)); }
	;

opt_methods
	: %empty			{ $$ = NULL; }
	| methods
	;

methods
	: METHOD			{ $$ = tree_list(p->a, @1); tree_list_push(p->a, $$, $1); }
	| methods METHOD		{ tree_list_push(p->a, $1, $2); $$ = $1; }
	;

opt_path
	: %empty			{ $$ = NULL; }
	| STRING
	;

/*
 * cond_sugar ::= 'when' field op               {filter: {field, OP: value}}
 *   | ('any' | 'all' | 'not') cblock           {any: [conditions]}
 *   | 'rate limit' scalar [pairs] [gblock]     {rate-limit: {max, ...}}
 */
cond_sugar
	: WHEN field op
		{
			struct tree *f = dsl_map(p, @1);
			dsl_add(p, f, "field", $2->loc, $2);
			dsl_add(p, f, $3.key, $3.key_loc, $3.value);
			$$ = dsl_item(ST_COND, @1, dsl_map1(p, @1, "filter", @1, f));
		}
	| kw_cond_group cblock		{ $$ = dsl_item(ST_COND, @1,
						  dsl_map1(p, @1, $1->u.scalar.text, @1, $2)); }
	| RATE_LIMIT scalar opt_pairs opt_gblock
					{ $$ = dsl_item(ST_COND, @1, dsl_map1(p, @1, "rate-limit", @1,
						  headed(p, @1, "max", $2, $3, $4))); }
	;

kw_cond_group: ANY | ALL | NOT ;

/* field ::= STRING | PATH | NUMBER | word      taken literally */
field: STRING | PATH | NUMBER | word ;

/*
 * op ::= '==' value | '!=' value | '<' value | '>' value | 'in' value
 *      | 'not in' value | 'matches' value | 'glob' value | 'contains' value
 *      | 'exists' | 'not exists'
 */
op
	: EQ value			{ $$ = dsl_put_as("equals", @1, $2); }
	| NE value			{ $$ = dsl_put_as("not-equals", @1, $2); }
	| '<' value			{ $$ = dsl_put_as("less-than", @1, $2); }
	| '>' value			{ $$ = dsl_put_as("greater-than", @1, $2); }
	| IN value			{ $$ = dsl_put_as("in", @1, $2); }
	| NOT_IN value			{ $$ = dsl_put_as("not-in", @1, $2); }
	| MATCHES value			{ $$ = dsl_put_as("matches", @1, $2); }
	| GLOB value			{ $$ = dsl_put_as("glob", @1, $2); }
	| CONTAINS value		{ $$ = dsl_put_as("contains", @1, $2); }
	| EXISTS			{ $$ = dsl_put_as("exists", @1, dsl_word(p, @1, "true")); }
	| NOT_EXISTS			{ $$ = dsl_put_as("exists", @1, dsl_word(p, @1, "false")); }
	;

/*
 * act_sugar ::= 'run execution' scalar [as] [pairs] [ablock]
 *                                              {run-execution: {step, name, ...}}
 *   | 'run pipeline' scalar [as] [pairs] [ablock]   {run-pipeline: {pipeline, ...}}
 *   | 'copy pipeline' scalar [as] [pairs] [ablock]  {copy-pipeline: {pipeline, ...}}
 *   | 'fetch repository' [as] [pairs] [ablock]      {fetch-repository: {...}}
 *   | 'http' METHOD [STRING | PATH] [as] [pairs] [ablock]  {http: {method, url, ...}}
 *   | 'respond' scalar [STRING | PATH] [as] [pairs] [ablock] {respond: {status, body, ...}}
 * as ::= 'as' scalar                           name: scalar
 */
act_sugar
	: RUN_EXECUTION scalar opt_as opt_pairs opt_ablock
					{ $$ = dsl_item(ST_ACTION, @1, dsl_map1(p, @1, "run-execution", @1,
						  action_map(p, @1, "step", $2, @3, $3, $4, $5))); }
	| RUN_PIPELINE scalar opt_as opt_pairs opt_ablock
					{ $$ = dsl_item(ST_ACTION, @1, dsl_map1(p, @1, "run-pipeline", @1,
						  action_map(p, @1, "pipeline", $2, @3, $3, $4, $5))); }
	| COPY_PIPELINE scalar opt_as opt_pairs opt_ablock
					{ $$ = dsl_item(ST_ACTION, @1, dsl_map1(p, @1, "copy-pipeline", @1,
						  action_map(p, @1, "pipeline", $2, @3, $3, $4, $5))); }
	| FETCH_REPOSITORY opt_as opt_pairs opt_ablock
		{
			struct tree *m = action_map(p, @1, NULL, NULL, @2, $2, $3, $4);
			$$ = dsl_item(ST_ACTION, @1, dsl_map1(p, @1, "fetch-repository", @1, m));
		}
	| HTTP METHOD opt_tmpl opt_as opt_pairs opt_ablock
		{
			struct tree *m = dsl_map(p, @1);
			dsl_add(p, m, "method", @2, $2);
			if ($3)
				dsl_add(p, m, "url", $3->loc, $3);
			$$ = dsl_item(ST_ACTION, @1, dsl_map1(p, @1, "http", @1,
				      action_map(p, @1, NULL, m, @4, $4, $5, $6)));
		}
	| RESPOND scalar opt_tmpl opt_as opt_pairs opt_ablock
		{
			struct tree *m = dsl_map(p, @1);
			dsl_add(p, m, "status", @1, $2);
			if ($3)
				dsl_add(p, m, "body", $3->loc, $3);
			$$ = dsl_item(ST_ACTION, @1, dsl_map1(p, @1, "respond", @1,
				      action_map(p, @1, NULL, m, @4, $4, $5, $6)));
		}
	;

opt_as
	: %empty %prec NO_AS		{ $$ = NULL; }
	| AS scalar			{ $$ = $2; }
	;

opt_tmpl
	: %empty			{ $$ = NULL; }
	| STRING
	| PATH				{ $$ = dsl_template(p, $1); }
	;

/* ablock ::= '{' act_body '}' */
opt_ablock
	: %empty			{ $$ = NULL; }
	| ablock
	;

ablock
	: '{' act_body '}'		{ $$ = $2; $$->loc = @1; }
	;

act_body
	: act_list			{ $$ = $1->t; }
	| act_list act_stmt		{ dsl_apply(p, $1, &$2, CTX_MAP); $$ = $1->t; }
	| act_list error		{ yyerrok; $$ = $1->t; }
	;

act_list
	: %empty			{ $$ = dsl_acc(p, dsl_map(p, @$)); }
	| act_list act_stmt sep		{ dsl_apply(p, $1, &$2, CTX_MAP); $$ = $1; }
	| act_list error sep		{ yyerrok; $$ = $1; }
	;

/*
 * act_stmt ::= act_key tail
 *   | 'parameter' aname '=' value              parameters: {aname: value}
 *   | 'input' aname '=' value                  inputs: {...}
 *   | 'environment' aname '=' value            environment: {...}
 *   | 'header' aname '=' value                 headers: {...}
 */
act_stmt
	: act_key tail			{ $$ = dsl_put($1, $2); }
	| PARAMETER aname '=' value	{ $$ = dsl_subput("parameters", @1, $2, $4); }
	| INPUT aname '=' value		{ $$ = dsl_subput("inputs", @1, $2, $4); }
	| ENVIRONMENT aname '=' value	{ $$ = dsl_subput("environment", @1, $2, $4); }
	| HEADER aname '=' value	{ $$ = dsl_subput("headers", @1, $2, $4); }
	;

/* aname ::= STRING | PATH | NUMBER | word      taken literally */
aname: STRING | PATH | NUMBER | word ;

/* cblock ::= '{' cond_body '}'                a list of conditions */
cblock
	: '{' cond_body '}'		{ $$ = $2; $$->loc = @1; }
	;

cond_body
	: cond_list			{ $$ = $1->t; }
	| cond_list cond_stmt		{ dsl_apply(p, $1, &$2, CTX_COND); $$ = $1->t; }
	| cond_list error		{ yyerrok; $$ = $1->t; }
	;

cond_list
	: %empty			{ $$ = dsl_acc(p, tree_list(p->a, @$)); }
	| cond_list cond_stmt sep	{ dsl_apply(p, $1, &$2, CTX_COND); $$ = $1; }
	| cond_list error sep		{ yyerrok; $$ = $1; }
	;

/* cond_stmt ::= cond_key tail | cond_sugar     each one list item */
cond_stmt
	: cond_key tail			{ $$ = dsl_put($1, $2); }
	| cond_sugar
	;

%%

/* ------------------------------------------------------------ messages */

/* The display name of token kind K, without bison's quotes. */
static void put_symbol(char *buf, size_t size, size_t *len, yysymbol_kind_t k)
{
	const char *name = yysymbol_name(k);
	size_t n = strlen(name);
	if (n >= 2 && name[0] == '"' && name[n - 1] == '"') {
		name++;
		n -= 2;
	}
	if (*len < size)
		*len += (size_t)snprintf(buf + *len, size - *len, "%.*s", (int)n, name);
	if (*len >= size)
		*len = size - 1;
}

static bool is_soft(yysymbol_kind_t k)
{
	switch (k) {
	case YYSYMBOL_BACKEND: case YYSYMBOL_IMPORT: case YYSYMBOL_STEP:
	case YYSYMBOL_PIPELINE: case YYSYMBOL_TRIGGER: case YYSYMBOL_PARAMETER:
	case YYSYMBOL_INPUT: case YYSYMBOL_ENVIRONMENT: case YYSYMBOL_HEADER:
	case YYSYMBOL_NODE: case YYSYMBOL_EDGE: case YYSYMBOL_WEBHOOK:
	case YYSYMBOL_ON: case YYSYMBOL_HTTP: case YYSYMBOL_RESPOND:
	case YYSYMBOL_WHEN: case YYSYMBOL_ANY: case YYSYMBOL_ALL: case YYSYMBOL_NOT:
	case YYSYMBOL_IN: case YYSYMBOL_MATCHES: case YYSYMBOL_GLOB:
	case YYSYMBOL_CONTAINS: case YYSYMBOL_EXISTS: case YYSYMBOL_AS:
		return true;
	default:
		return false;
	}
}

static bool is_secret(yysymbol_kind_t k)
{
	return k == YYSYMBOL_ENV || k == YYSYMBOL_FILE || k == YYSYMBOL_JWKS_FILE ||
	       k == YYSYMBOL_JWKS_URL;
}

static bool is_keyword(yysymbol_kind_t k)
{
	switch (k) {
	case YYSYMBOL_RUN_EXECUTION: case YYSYMBOL_RUN_PIPELINE:
	case YYSYMBOL_COPY_PIPELINE: case YYSYMBOL_FETCH_REPOSITORY:
	case YYSYMBOL_RATE_LIMIT: case YYSYMBOL_NOT_IN: case YYSYMBOL_NOT_EXISTS:
		return true;
	default:
		return is_soft(k) || is_secret(k);
	}
}

static bool is_op(yysymbol_kind_t k)
{
	const char *n = yysymbol_name(k);
	return k == YYSYMBOL_EQ || k == YYSYMBOL_NE || k == YYSYMBOL_IN ||
	       k == YYSYMBOL_NOT_IN || k == YYSYMBOL_MATCHES || k == YYSYMBOL_GLOB ||
	       k == YYSYMBOL_CONTAINS || k == YYSYMBOL_EXISTS || k == YYSYMBOL_NOT_EXISTS ||
	       strcmp(n, "'<'") == 0 || strcmp(n, "'>'") == 0;
}

static bool is_char(yysymbol_kind_t k, char c)
{
	const char *n = yysymbol_name(k);
	return n[0] == '\'' && n[1] == c && n[2] == '\'' && n[3] == 0;
}

/* Can K begin a value? */
static bool starts_value(yysymbol_kind_t k)
{
	return k == YYSYMBOL_STRING || k == YYSYMBOL_NUMBER || k == YYSYMBOL_WORD ||
	       k == YYSYMBOL_PATH || k == YYSYMBOL_METHOD || k == YYSYMBOL_REGEX ||
	       k == YYSYMBOL_TILDE || is_soft(k) || is_secret(k) || is_char(k, '[') ||
	       is_char(k, '{');
}

static bool starts_scalar(yysymbol_kind_t k)
{
	return k == YYSYMBOL_STRING || k == YYSYMBOL_NUMBER || k == YYSYMBOL_WORD ||
	       k == YYSYMBOL_PATH || k == YYSYMBOL_METHOD || k == YYSYMBOL_TILDE || is_soft(k);
}

/* "unexpected X": the lookahead, by its source text where it has one. */
static void put_unexpected(char *buf, size_t size, size_t *len, const struct parser *p,
			   yysymbol_kind_t la)
{
	const struct lexer *lx = &p->lx;
	size_t n = (size_t)(lx->cur - lx->tok);
	const char *what = NULL;
	if (la == YYSYMBOL_YYEOF)
		what = "end of file";
	else if (la == YYSYMBOL_NL)
		what = n && lx->tok[0] == ';' ? "';'" : "end of line";
	else if (la == YYSYMBOL_STRING)
		what = "string";
	else if (la == YYSYMBOL_REGEX)
		what = "regular expression";
	if (what) {
		*len += (size_t)snprintf(buf + *len, size - *len, "unexpected %s", what);
	} else if (n > 0 && n <= 40) {
		*len += (size_t)snprintf(buf + *len, size - *len, "unexpected '%.*s'", (int)n,
					 (const char *)lx->tok);
	} else if (n > 40) {
		*len += (size_t)snprintf(buf + *len, size - *len, "unexpected '%.*s...'", 37,
					 (const char *)lx->tok);
	} else {
		*len += (size_t)snprintf(buf + *len, size - *len, "unexpected ");
		put_symbol(buf, size, len, la);
	}
	if (*len >= size)
		*len = size - 1;
}

/*
 * "unexpected X, expected A, B or C".  Bison's list of expected tokens is
 * summarised first: every way of starting a value is "a value", of
 * starting a scalar "a name", of starting a statement "a statement", every
 * comparison "an operator"; a newline stands for ',' '}' and end of file.
 */
static int yyreport_syntax_error(const yypcontext_t *ctx, struct parser *p)
{
	yysymbol_kind_t exp[YYNTOKENS];
	int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
	yysymbol_kind_t la = yypcontext_token(ctx);
	char msg[512];
	size_t len = 0;
	put_unexpected(msg, sizeof(msg), &len, p, la);

	if (n < 0)
		n = 0;
	bool has[YYNTOKENS] = { false };
	for (int i = 0; i < n; i++)
		has[exp[i]] = true;
	const char *summary[4];
	int ns = 0;
	bool any_open_bracket = false;
	for (int i = 0; i < n; i++)
		if (is_char(exp[i], '['))
			any_open_bracket = true;
	if (has[YYSYMBOL_WORD] && has[YYSYMBOL_NUMBER] && any_open_bracket) {
		summary[ns++] = "a value";
		for (int i = 0; i < n; i++)
			if (starts_value(exp[i]))
				has[exp[i]] = false;
	} else if (has[YYSYMBOL_WORD] && has[YYSYMBOL_NUMBER]) {
		summary[ns++] = "a name";
		for (int i = 0; i < n; i++)
			if (starts_scalar(exp[i]))
				has[exp[i]] = false;
	} else if (has[YYSYMBOL_WORD] && has[YYSYMBOL_STRING]) {
		summary[ns++] = "a statement";
		for (int i = 0; i < n; i++)
			if (exp[i] == YYSYMBOL_WORD || exp[i] == YYSYMBOL_STRING ||
			    exp[i] == YYSYMBOL_YYEOF || is_keyword(exp[i]))
				has[exp[i]] = false;
	} else if (has[YYSYMBOL_WORD]) {
		summary[ns++] = "a name";
		for (int i = 0; i < n; i++)
			if (exp[i] == YYSYMBOL_WORD || is_soft(exp[i]))
				has[exp[i]] = false;
	}
	bool has_eq = has[YYSYMBOL_EQ];
	if (has[YYSYMBOL_EQ]) {
		summary[ns++] = "an operator";
		for (int i = 0; i < n; i++)
			if (is_op(exp[i]))
				has[exp[i]] = false;
	}
	bool eol = has[YYSYMBOL_NL];
	if (eol) {
		for (int i = 0; i < n; i++)
			if (is_char(exp[i], ',') || is_char(exp[i], '}') || exp[i] == YYSYMBOL_YYEOF)
				has[exp[i]] = false;
		has[YYSYMBOL_NL] = false;
	}

	yysymbol_kind_t rest[YYNTOKENS];
	int nr = 0;
	for (int i = 0; i < n; i++)
		if (has[exp[i]])
			rest[nr++] = exp[i];
	int total = ns + nr + (eol ? 1 : 0);
	if (total > 0 && total <= 6) {
		int k = 0;
		for (int i = 0; i < total; i++) {
			const char *lead = i == 0 ? ", expected " : i == total - 1 ? " or " : ", ";
			if (len < sizeof(msg))
				len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s", lead);
			if (len >= sizeof(msg))
				len = sizeof(msg) - 1;
			if (i < ns) {
				if (len < sizeof(msg))
					len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s",
								summary[i]);
			} else if (k < nr) {
				put_symbol(msg, sizeof(msg), &len, rest[k++]);
			} else {
				if (len < sizeof(msg))
					len += (size_t)snprintf(msg + len, sizeof(msg) - len,
								"end of line");
			}
			if (len >= sizeof(msg))
				len = sizeof(msg) - 1;
		}
	}
	/* Two common slips, named: `when a.b = x` and `url == https://x` (the
	 * URL ended at the ':'). */
	const char *t = (const char *)p->lx.tok;
	bool one = la != YYSYMBOL_YYEOF && p->lx.cur - p->lx.tok == 1;
	if (one && t[0] == '=' && has_eq && len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, "; did you mean '=='?");
	else if (one && t[0] == ':' && t[1] == '/' && t[2] == '/' && len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, "; a URL is written in double quotes");
	diag_error(p->d, *yypcontext_location(ctx), "syntax", "%s", msg);
	lexer_recover(&p->lx);
	return 0;
}

static void yyerror(const YYLTYPE *loc, struct parser *p, const char *msg)
{
	diag_error(p->d, *loc, "syntax", "%s", msg);
}
