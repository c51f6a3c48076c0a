/*
 * tree.h — the document tree: what both front ends build.
 *
 * A definition file, YAML or .trig, is first read into this tree of maps,
 * lists and scalars, shaped exactly like the YAML form of SPEC.md §2 (the
 * DSL's parser does the desugaring: `when payload.ref == "x"` becomes the
 * map {filter: {field: payload.ref, equals: x}}).  Scalars stay untyped
 * text: the schema-driven decoder (decode.h) gives them their types, so
 * unknown keys, wrong types and missing fields are reported once, the same
 * way, for both languages.  `trigc fmt` prints this tree back as YAML or as
 * .trig.
 *
 * Everything is allocated in the arena passed to the constructors.
 */
#ifndef TRIGC_TREE_H
#define TRIGC_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "source.h"

enum tree_kind { TREE_SCALAR, TREE_MAP, TREE_LIST };

/* How a scalar was written.  PLAIN scalars are bare words, numbers,
 * durations and YAML plain scalars; QUOTED ones were quoted strings (their
 * text may have held escapes); REGEX is the DSL's /.../ literal. */
enum tree_style { STYLE_PLAIN, STYLE_QUOTED, STYLE_REGEX };

struct tree;

struct tree_entry {
	const char *key;
	struct loc key_loc;
	struct tree *value;
};

struct tree {
	enum tree_kind kind;
	struct loc loc;                 /* the whole node (a scalar: its token) */
	union {
		struct {
			const char *text;       /* NUL-terminated; may hold NUL bytes */
			size_t len;
			enum tree_style style;
			/* Where text[0] is in the file.  When `exact`, byte i of the
			 * text is at column text_loc.col + i (one line, no escapes),
			 * so a diagnostic can point into the string. */
			struct loc text_loc;
			bool exact;
		} scalar;
		struct {
			struct tree_entry *v;
			size_t n, cap;
		} map;
		struct {
			struct tree **v;
			size_t n, cap;
		} list;
	} u;
};

struct tree *tree_scalar(struct arena *a, struct loc loc, const char *text, size_t len,
			 enum tree_style style);
struct tree *tree_map(struct arena *a, struct loc loc);
struct tree *tree_list(struct arena *a, struct loc loc);

/* Appends KEY: VALUE to MAP (duplicates are kept: the decoder reports
 * them).  KEY is copied. */
void tree_map_put(struct arena *a, struct tree *map, const char *key, struct loc key_loc,
		  struct tree *value);
void tree_list_push(struct arena *a, struct tree *list, struct tree *item);

/* The first entry of MAP named KEY, or NULL. */
struct tree_entry *tree_map_find(const struct tree *map, const char *key);
struct tree *tree_map_get(const struct tree *map, const char *key);

/* True when T is a scalar whose text is exactly S. */
bool tree_is(const struct tree *t, const char *s);

#endif
