/*
 * json_iter.h — walking the members of a JSON object or the elements of an
 * array, inside a document that was already validated (json.h).
 *
 * The journal's records and the audit log are JSON the runtime wrote
 * itself and reads back; path extraction finds a container, this walks it.
 * It never allocates and never reads outside the container's span; on text
 * that is not valid JSON it stops with -1 rather than guessing.
 */
#ifndef TRIG_JSON_ITER_H
#define TRIG_JSON_ITER_H

#include "json.h"

struct trig_json_iter {
	const char *p, *end;    /* the rest of the container */
	bool object;
};

/* Starts walking V (an object or an array); -1 for any other type. */
int trig_json_iter_begin(struct trig_json_iter *it, const struct trig_json_value *v);

/* The next member: its key (objects; a string value) and value.
 * Returns 1, 0 at the end, -1 on malformed text. */
int trig_json_iter_next(struct trig_json_iter *it, struct trig_json_value *key,
			struct trig_json_value *value);

#endif
