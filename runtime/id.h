/*
 * id.h — launch and execution ids.
 *
 * "l-01JDQ7M5X6Q2V0Y9Z8K4W3R2T1": a prefix letter, a dash and a ULID: 48
 * bits of milliseconds since the epoch and 80 random bits, in Crockford's
 * base 32, so ids sort by creation time, are unique without coordination
 * (replicas included) and are safe as file names.  Thread-safe.
 */
#ifndef TRIG_ID_H
#define TRIG_ID_H

#include <stdbool.h>
#include <stddef.h>

#define TRIG_ID_MAX 32          /* "x-" + 26 + NUL, rounded up */

void trig_id_new(char out[TRIG_ID_MAX], char prefix);

/* Whether S has the shape of an id (any prefix letter). */
bool trig_id_valid(const char *s);

#endif
