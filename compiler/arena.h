/*
 * arena.h — bump allocation for the compiler.
 *
 * Everything a compiler phase builds (the document tree, the AST, the IR,
 * strings) lives in an arena and is freed at once with arena_free() when the
 * phase's result is no longer needed.  Allocation never fails: on exhausted
 * memory the process exits with a message, as a compiler may.
 */
#ifndef TRIGC_ARENA_H
#define TRIGC_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
	char *cur, *end;
};

#define ARENA_INIT { 0, 0, 0 }

void *arena_alloc(struct arena *a, size_t size);          /* zeroed, max-aligned */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *arena_vprintf(struct arena *a, const char *fmt, va_list ap);
void arena_free(struct arena *a);

/* Growable array in an arena: P points to N elements, CAP of them allocated. */
#define ARENA_PUSH(a, p, n, cap) \
	((n) == (cap) ? (void)((p) = arena_grow((a), (p), sizeof(*(p)), &(cap))) : (void)0, \
	 &(p)[(n)++])
void *arena_grow(struct arena *a, void *p, size_t elem, size_t *cap);

#endif
