/*
 * tmpl.h — templates and field references, parsed at build time.
 *
 * A field reference names where a value comes from (SPEC.md §2.2):
 *     payload.head_commit.id   payload.commits[0].id   header.X-GitHub-Event
 *     event.data\.x            event.data["valohai.execution-step"]
 *     query.token  form.text  claim.sub  remote.ip  trigger.name  launch.id  now
 *     actions.train.id   actions.predict.metadata.accuracy   (an earlier action)
 * A template is text with {{ field }} parts: "started {{ launch.id }}".
 * Both are parsed here once; the checker validates them, lowering turns
 * them into the runtime's tables.  Errors carry the byte span inside the
 * string, so a diagnostic can point at the bad part.
 */
#ifndef TRIGC_TMPL_H
#define TRIGC_TMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <trig.h>

#include "arena.h"

struct fieldref {
	enum trig_root root;
	const char *root_name;          /* "payload", "header", ... */
	const char *text;               /* the whole reference, trimmed */
	const char *name;               /* header, query, form: the name; actions:
					   the field, "id" or "metadata.KEY" (KEY
					   with "\." for a dot in a key) */
	struct trig_path_seg *segs;     /* payload, claim, event: the path;
					   actions: NAME, FIELD, then KEY's path */
	size_t nsegs;
	uint32_t off, len;              /* span in the string it came from */
};

struct tmpl_piece {
	bool is_field;
	const char *text;               /* literal text (is_field false) */
	size_t len;
	struct fieldref field;
};

struct tmpl {
	struct tmpl_piece *v;
	size_t n;
};

struct tmpl_error {
	uint32_t off, len;              /* span in the string */
	bool unknown_root;              /* the error is an unknown root name */
	char msg[200];
};

/* The root names a reference may start with, NULL-ended. */
extern const char *const tmpl_root_words[];

/* Parses S[0..len) as one field reference. */
int field_parse(struct arena *a, const char *s, size_t len, struct fieldref *out,
		struct tmpl_error *err);

/* Parses S as a template.  A string without {{ is one literal piece. */
int tmpl_parse(struct arena *a, const char *s, struct tmpl *out, struct tmpl_error *err);

/* True when S holds at least one {{ expression }}. */
bool tmpl_has_fields(const char *s);

#endif
