/*
 * source.c — loading definition files and mapping offsets to lines.
 */
#include "source.h"
#include "arena.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fputs("trigc: out of memory\n", stderr);
		exit(3);
	}
	return p;
}

void sources_init(struct sources *s)
{
	s->v = xrealloc(NULL, sizeof(*s->v) * 4);
	s->cap = 4;
	s->n = 1;
	memset(&s->v[0], 0, sizeof(s->v[0]));
}

void sources_release(struct sources *s)
{
	for (size_t i = 1; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].text);
		free(s->v[i].lines);
	}
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

uint32_t sources_add(struct sources *s, const char *path, const char *text, size_t len)
{
	if (s->n == s->cap) {
		s->cap *= 2;
		s->v = xrealloc(s->v, sizeof(*s->v) * s->cap);
	}
	struct source *src = &s->v[s->n];
	src->path = xrealloc(NULL, strlen(path) + 1);
	strcpy(src->path, path);
	src->text = xrealloc(NULL, len + 1);
	memcpy(src->text, text, len);
	src->text[len] = 0;
	src->size = len;

	size_t cap = 64, n = 0;
	src->lines = xrealloc(NULL, cap * sizeof(*src->lines));
	src->lines[n++] = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n' && i + 1 <= len) {
			if (n == cap) {
				cap *= 2;
				src->lines = xrealloc(src->lines, cap * sizeof(*src->lines));
			}
			src->lines[n++] = (uint32_t)(i + 1);
		}
	}
	/* A final newline does not start a line of its own. */
	if (n > 1 && src->lines[n - 1] == len)
		n--;
	src->nlines = (uint32_t)n;
	return (uint32_t)s->n++;
}

uint32_t sources_load(struct sources *s, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return 0;
	size_t cap = 1 << 16, len = 0;
	char *buf = xrealloc(NULL, cap);
	for (;;) {
		size_t got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (len < cap) {
			if (ferror(f)) {
				int e = errno;
				free(buf);
				if (f != stdin)
					fclose(f);
				errno = e ? e : EIO;
				return 0;
			}
			break;
		}
		if (cap > (size_t)1 << 30) {     /* a definition file is not 1 GiB */
			free(buf);
			if (f != stdin)
				fclose(f);
			errno = EFBIG;
			return 0;
		}
		cap *= 2;
		buf = xrealloc(buf, cap);
	}
	if (f != stdin)
		fclose(f);
	uint32_t id = sources_add(s, strcmp(path, "-") == 0 ? "<stdin>" : path, buf, len);
	free(buf);
	return id;
}

const struct source *sources_get(const struct sources *s, uint32_t file)
{
	return file && file < s->n ? &s->v[file] : NULL;
}

const char *source_line(const struct source *src, uint32_t line, size_t *len)
{
	if (!src || line == 0 || line > src->nlines)
		return NULL;
	size_t start = src->lines[line - 1];
	size_t end = line < src->nlines ? src->lines[line] : src->size;
	while (end > start && (src->text[end - 1] == '\n' || src->text[end - 1] == '\r'))
		end--;
	*len = end - start;
	return src->text + start;
}

struct loc source_loc(const struct sources *s, uint32_t file, size_t offset, uint32_t len)
{
	const struct source *src = sources_get(s, file);
	if (!src)
		return (struct loc){ 0, 0, 0, 0 };
	/* Binary search for the last line starting at or before OFFSET. */
	uint32_t lo = 0, hi = src->nlines;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (src->lines[mid] <= offset)
			lo = mid;
		else
			hi = mid;
	}
	return (struct loc){ file, lo + 1, (uint32_t)(offset - src->lines[lo]) + 1, len };
}

struct loc loc_span(struct loc a, struct loc b)
{
	if (a.file != b.file || a.line != b.line || b.col + b.len < a.col)
		return a;
	a.len = b.col + b.len - a.col;
	return a;
}

struct loc loc_sub(struct loc a, uint32_t col_off, uint32_t len)
{
	a.col += col_off;
	a.len = len;
	return a;
}

char *source_relative(struct arena *a, const struct sources *s, uint32_t file, const char *rel)
{
	const struct source *src = sources_get(s, file);
	if (rel[0] == '/' || !src || !strchr(src->path, '/'))
		return arena_strdup(a, rel);
	const char *slash = strrchr(src->path, '/');
	return arena_printf(a, "%.*s/%s", (int)(slash - src->path), src->path, rel);
}
