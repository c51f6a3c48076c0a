/*
 * source.h — the definition files of one compilation and positions in them.
 *
 * A `struct loc` names a span of bytes in a loaded file: 1-based line and
 * byte column, and a length in bytes (0 for a point).  File 0 means "no
 * position" (a diagnostic about the command line, say).  Files are loaded
 * whole and stay loaded until sources_release(), so diagnostics of any
 * phase can quote their lines.
 */
#ifndef TRIGC_SOURCE_H
#define TRIGC_SOURCE_H

#include <stddef.h>
#include <stdint.h>

struct loc {
	uint32_t file;          /* index into struct sources; 0 = none */
	uint32_t line, col;     /* 1-based; col counts bytes */
	uint32_t len;           /* bytes in the span, for the ~~~ under it */
};

struct source {
	char *path;             /* as given on the command line */
	char *text;             /* whole file, NUL-terminated (owned) */
	size_t size;
	uint32_t *lines;        /* byte offset of each line's start (owned) */
	uint32_t nlines;
};

struct sources {
	struct source *v;       /* v[0] is unused: file 0 is "no file" */
	size_t n, cap;
};

void sources_init(struct sources *s);
void sources_release(struct sources *s);

/* Adds a file's text (copied); returns its index.  The text need not end
 * with a newline and may hold NUL bytes (a front end reports those). */
uint32_t sources_add(struct sources *s, const char *path, const char *text, size_t len);

/* Reads PATH ("-" is stdin); returns its index, or 0 with errno set. */
uint32_t sources_load(struct sources *s, const char *path);

const struct source *sources_get(const struct sources *s, uint32_t file);

struct arena;

/* REL as written in file FILE: relative to that file's folder (a path in
 * the arena; REL itself when it is absolute or FILE has no folder).  The
 * one rule for imports, workdir and repository. */
char *source_relative(struct arena *a, const struct sources *s, uint32_t file, const char *rel);

/* The text of LINE (1-based) without its newline; NULL if out of range. */
const char *source_line(const struct source *src, uint32_t line, size_t *len);

/* Position of byte OFFSET of file FILE, LEN bytes long. */
struct loc source_loc(const struct sources *s, uint32_t file, size_t offset, uint32_t len);

/* A span from the start of A to the end of B (both in one file and line);
 * A if they are not. */
struct loc loc_span(struct loc a, struct loc b);

/* A sub-span: COL_OFF bytes into A, LEN long (for a field of a string). */
struct loc loc_sub(struct loc a, uint32_t col_off, uint32_t len);

#endif
