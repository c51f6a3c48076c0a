/*
 * arena.c — bump allocation for the compiler.
 */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
	struct arena_block *next;
	max_align_t data[];
};

enum { ARENA_BLOCK = 64 * 1024 };

static void *xmalloc(size_t n)
{
	void *p = malloc(n);
	if (!p) {
		fputs("trigc: out of memory\n", stderr);
		exit(3);
	}
	return p;
}

void *arena_alloc(struct arena *a, size_t size)
{
	const size_t align = _Alignof(max_align_t);
	size = (size + align - 1) & ~(align - 1);
	if (size == 0)
		size = align;
	if ((size_t)(a->end - a->cur) < size) {
		size_t want = size > ARENA_BLOCK / 4 ? size : ARENA_BLOCK;
		struct arena_block *b = xmalloc(sizeof(*b) + want);
		b->next = a->head;
		a->head = b;
		if (want > size) {           /* a fresh block for small requests */
			a->cur = (char *)b->data;
			a->end = a->cur + want;
		} else {                     /* a big one gets a block of its own */
			memset(b->data, 0, size);
			return b->data;
		}
	}
	void *p = a->cur;
	a->cur += size;
	memset(p, 0, size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_vprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		n = 0;
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void *arena_grow(struct arena *a, void *p, size_t elem, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 8;
	void *np = arena_alloc(a, ncap * elem);
	if (*cap)
		memcpy(np, p, *cap * elem);
	*cap = ncap;
	return np;
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;
	while (b) {
		struct arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
	a->cur = a->end = NULL;
}
