/*
 * render.h — filling in templates at run time.
 *
 * A template (struct trig_template) was split into text and fields by the
 * compiler; rendering appends the text and each field's value, escaped for
 * where the result goes.  A field that has no value (a payload path the
 * document lacks, a header the request lacks) renders as nothing.
 *
 * Payload, claim and event fields are read from `paths`: the values of the
 * project's path table extracted in one pass (json.h), indexed by
 * trig_field.path_id (claim.* fields from `claims`, extracted from a
 * verified JWT with the same table).  Request fields (header, query, form, remote.ip) come
 * from the request callback; without one they render as nothing.
 */
#ifndef TRIG_RENDER_H
#define TRIG_RENDER_H

#include <stdint.h>

#include "buf.h"
#include "json.h"
#include "trig.h"

enum trig_escape {
	TRIG_ESC_NONE,          /* the value as is: one argument, one variable */
	TRIG_ESC_JSON,          /* inside a JSON string */
	TRIG_ESC_URL,           /* percent-encoded (RFC 3986 unreserved kept) */
};

/* Looks up a request field; returns NULL when absent.  *len is set. */
typedef const char *trig_request_fn(void *ctx, enum trig_root root, const char *name, size_t *len);

struct trig_render_ctx {
	const char *trigger;
	const char *launch_id;
	int64_t now_ms;
	const struct trig_json_value *paths;    /* may be NULL */
	const struct trig_json_value *claims;   /* claim.* values (same slots); may be NULL */
	unsigned npaths;
	trig_request_fn *request;               /* may be NULL */
	void *request_ctx;
	/* When set, asked first for every field but trigger, launch and now:
	 * appends the field's value (unescaped) and returns 0, returns -1
	 * when it has none, or 1 to let the rules above decide.  The launcher
	 * renders actions.* fields (and the values it captured for an action
	 * rendered later) this way. */
	int (*lookup)(void *ctx, const struct trig_field *f, struct buf *out);
	void *lookup_ctx;
};

/* Appends T rendered to OUT.  Thread-safe; borrows everything. */
void trig_render(const struct trig_template *t, const struct trig_render_ctx *c,
		 enum trig_escape esc, struct buf *out);

/* Appends one field's value (unescaped); 0, or -1 when it has none. */
int trig_render_field(const struct trig_field *f, const struct trig_render_ctx *c, struct buf *out);

#endif
