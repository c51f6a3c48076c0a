/*
 * ttlmap.c — open addressing with linear probing and backward-shift
 * deletion: no tombstones, so a map that churns keeps short probes.
 */
#include "ttlmap.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "buf.h"

struct entry {
	char *key;              /* NULL: empty slot */
	size_t len;
	uint64_t hash;
	int64_t value;
};

struct trig_ttlmap {
	struct entry *slots;
	size_t cap;             /* a power of two, at least 2 * max when grown */
	size_t n, max;
	uint64_t seed;
};

static uint64_t hash(const struct trig_ttlmap *m, const char *s, size_t len)
{
	uint64_t h = m->seed ^ 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	/* A final avalanche (murmur3's fmix64): FNV's low bits are weak. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

struct trig_ttlmap *trig_ttlmap_new(size_t max)
{
	struct trig_ttlmap *m = trig_xcalloc(1, sizeof(*m));
	m->max = max ? max : 1;
	m->cap = 16;
	m->slots = trig_xcalloc(m->cap, sizeof(*m->slots));
	if (RAND_bytes((unsigned char *)&m->seed, sizeof(m->seed)) != 1)
		m->seed = (uint64_t)(uintptr_t)m ^ 0x9e3779b97f4a7c15ull;
	return m;
}

void trig_ttlmap_free(struct trig_ttlmap *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].key);
	free(m->slots);
	free(m);
}

size_t trig_ttlmap_size(const struct trig_ttlmap *m)
{
	return m->n;
}

static size_t find(const struct trig_ttlmap *m, const char *key, size_t len, uint64_t h)
{
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		const struct entry *e = &m->slots[i];
		if (!e->key || (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0))
			return i;
	}
}

/* Empties slot I and moves later entries of its run back (Knuth's
 * algorithm R), so that every probe still finds them. */
static void remove_at(struct trig_ttlmap *m, size_t i)
{
	size_t mask = m->cap - 1;
	free(m->slots[i].key);
	m->slots[i].key = NULL;
	m->n--;
	for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;
		/* Move j to i unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays)
			continue;
		m->slots[i] = m->slots[j];
		m->slots[j].key = NULL;
		i = j;
	}
}

static void grow(struct trig_ttlmap *m)
{
	struct entry *old = m->slots;
	size_t oldcap = m->cap;
	m->cap *= 2;
	m->slots = trig_xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].key)
			m->slots[find(m, old[i].key, old[i].len, old[i].hash)] = old[i];
	free(old);
}

/* Makes room for one more entry. */
static void make_room(struct trig_ttlmap *m, int64_t now)
{
	if (m->n < m->max) {
		if ((m->n + 1) * 2 > m->cap)
			grow(m);
		return;
	}
	for (size_t i = 0; i < m->cap;) {
		/* remove_at may move a later entry into i: look at i again. */
		if (m->slots[i].key && m->slots[i].value <= now)
			remove_at(m, i);
		else
			i++;
	}
	if (m->n < m->max)
		return;
	size_t min = m->cap;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key && (min == m->cap || m->slots[i].value < m->slots[min].value))
			min = i;
	remove_at(m, min);
}

int64_t trig_ttlmap_get(struct trig_ttlmap *m, const char *key, size_t len, int64_t now)
{
	size_t i = find(m, key, len, hash(m, key, len));
	if (!m->slots[i].key)
		return INT64_MIN;
	if (m->slots[i].value <= now) {
		remove_at(m, i);
		return INT64_MIN;
	}
	return m->slots[i].value;
}

void trig_ttlmap_put(struct trig_ttlmap *m, const char *key, size_t len, int64_t value, int64_t now)
{
	uint64_t h = hash(m, key, len);
	size_t i = find(m, key, len, h);
	if (m->slots[i].key) {
		m->slots[i].value = value;
		return;
	}
	make_room(m, now);
	i = find(m, key, len, h);
	char *k = trig_xmalloc(len + 1);
	memcpy(k, key, len);
	k[len] = 0;
	m->slots[i] = (struct entry){ k, len, h, value };
	m->n++;
}
