/*
 * ttlmap.h — a bounded map from strings to times, for replay ids and
 * rate-limit budgets.
 *
 * Each entry holds one int64 (an expiry or a theoretical arrival time, in
 * ms); an entry whose value is at or before `now` is expired and may be
 * dropped at any lookup.  The map never holds more than MAX entries: when
 * it is full it first drops the expired ones, then the entry with the
 * smallest value (the one closest to expiring).  Keys are hashed with a
 * per-map random seed.  Not thread-safe: the caller locks.
 */
#ifndef TRIG_TTLMAP_H
#define TRIG_TTLMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trig_ttlmap;

struct trig_ttlmap *trig_ttlmap_new(size_t max);
void trig_ttlmap_free(struct trig_ttlmap *m);

/* The value of KEY, or INT64_MIN when it is absent or expired at NOW. */
int64_t trig_ttlmap_get(struct trig_ttlmap *m, const char *key, size_t len, int64_t now);

/* Sets KEY to VALUE (adding it, making room if the map is full). */
void trig_ttlmap_put(struct trig_ttlmap *m, const char *key, size_t len, int64_t value, int64_t now);

/* Entries held, expired or not (for tests and metrics). */
size_t trig_ttlmap_size(const struct trig_ttlmap *m);

#endif
