/*
 * diag.c — recording and printing diagnostics.
 */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diag_init(struct diag *d, const struct sources *src)
{
	memset(d, 0, sizeof(*d));
	d->src = src;
}

void diag_release(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static void add(struct diag *d, enum diag_level level, struct loc loc,
		const char *rule, const char *fmt, va_list ap)
{
	if (level == DIAG_ERROR)
		d->errors++;
	else if (level == DIAG_WARNING)
		d->warnings++;
	unsigned max = d->max_errors ? d->max_errors : 1000;
	if (d->n >= max)
		return;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->v = realloc(d->v, d->cap * sizeof(*d->v));
		if (!d->v) {
			fputs("trigc: out of memory\n", stderr);
			exit(3);
		}
	}
	va_list cp;
	va_copy(cp, ap);
	int len = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	char *msg = malloc(len > 0 ? (size_t)len + 1 : 1);
	if (!msg) {
		fputs("trigc: out of memory\n", stderr);
		exit(3);
	}
	vsnprintf(msg, len > 0 ? (size_t)len + 1 : 1, fmt, ap);
	d->v[d->n++] = (struct diag_entry){ level, loc, rule, msg };
}

void diag_error(struct diag *d, struct loc loc, const char *rule, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(d, DIAG_ERROR, loc, rule, fmt, ap);
	va_end(ap);
}

void diag_warning(struct diag *d, struct loc loc, const char *rule, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(d, DIAG_WARNING, loc, rule, fmt, ap);
	va_end(ap);
}

void diag_note(struct diag *d, struct loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(d, DIAG_NOTE, loc, NULL, fmt, ap);
	va_end(ap);
}

void diag_promote_warnings(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].level == DIAG_WARNING)
			d->v[i].level = DIAG_ERROR;
	d->errors += d->warnings;
	d->warnings = 0;
}

static const char *level_name[] = { "note", "warning", "error" };

/* --- text ------------------------------------------------------------ */

#define C_BOLD  "\033[1m"
#define C_RESET "\033[0m"
static const char *level_color[] = { "\033[1;36m", "\033[1;35m", "\033[1;31m" };
#define C_CARET "\033[1;32m"

/* Display width of the bytes [0, n) of a line: tabs to the next multiple of
 * 8, UTF-8 continuation bytes take no room. */
static unsigned display_width(const char *s, size_t n)
{
	unsigned w = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t')
			w = (w / 8 + 1) * 8;
		else if ((c & 0xC0) != 0x80)
			w++;
	}
	return w;
}

static void print_excerpt(FILE *out, const struct source *src, struct loc loc, bool color)
{
	size_t len;
	const char *line = source_line(src, loc.line, &len);
	if (!line)
		return;
	/* A UTF-8 byte order mark takes no room on screen. */
	if (loc.line == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3)) {
		line += 3;
		len -= 3;
		loc.col = loc.col > 3 ? loc.col - 3 : 1;
	}
	char num[16];
	int nw = snprintf(num, sizeof(num), "%u", loc.line);
	if (nw < 4)
		nw = 4;

	/* The line, tabs expanded so the caret lines up. */
	fprintf(out, " %*u | ", nw, loc.line);
	unsigned w = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c == '\t') {
			unsigned next = (w / 8 + 1) * 8;
			for (; w < next; w++)
				fputc(' ', out);
		} else {
			fputc(c < 0x20 || c == 0x7f ? ' ' : c, out);
			if ((c & 0xC0) != 0x80)
				w++;
		}
	}
	fputc('\n', out);

	size_t start = loc.col ? loc.col - 1 : 0;
	if (start > len)
		start = len;
	size_t end = start + (loc.len ? loc.len : 1);
	if (end > len)
		end = len > start ? len : start + 1;
	unsigned pad = display_width(line, start);
	unsigned span = end <= len ? display_width(line + start, end - start) : 1;
	if (span == 0)
		span = 1;
	fprintf(out, " %*s | %*s", nw, "", (int)pad, "");
	if (color)
		fputs(C_CARET, out);
	fputc('^', out);
	for (unsigned i = 1; i < span; i++)
		fputc('~', out);
	if (color)
		fputs(C_RESET, out);
	fputc('\n', out);
}

/* The entries in print order: each error or warning with the notes after
 * it is a group; groups go by file, line and column (stable: equal places
 * keep the order they were reported in).  ORDER gets d->n indexes. */
struct group {
	size_t first, n;
	struct loc loc;
};

static int group_cmp(const void *pa, const void *pb)
{
	const struct group *a = pa, *b = pb;
	if (a->loc.file != b->loc.file)
		return a->loc.file < b->loc.file ? -1 : 1;
	if (a->loc.line != b->loc.line)
		return a->loc.line < b->loc.line ? -1 : 1;
	if (a->loc.col != b->loc.col)
		return a->loc.col < b->loc.col ? -1 : 1;
	return a->first < b->first ? -1 : a->first > b->first;
}

static size_t *print_order(const struct diag *d)
{
	size_t *order = malloc((d->n ? d->n : 1) * sizeof(*order));
	struct group *g = malloc((d->n ? d->n : 1) * sizeof(*g));
	if (!order || !g) {
		fputs("trigc: out of memory\n", stderr);
		exit(3);
	}
	size_t ng = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].level == DIAG_NOTE && ng) {
			g[ng - 1].n++;
			continue;
		}
		g[ng++] = (struct group){ i, 1, d->v[i].loc };
	}
	qsort(g, ng, sizeof(*g), group_cmp);
	size_t k = 0;
	for (size_t i = 0; i < ng; i++)
		for (size_t j = 0; j < g[i].n; j++)
			order[k++] = g[i].first + j;
	free(g);
	return order;
}

static void print_text(const struct diag *d, FILE *out, bool color)
{
	size_t *order = print_order(d);
	for (size_t o = 0; o < d->n; o++) {
		const struct diag_entry *e = &d->v[order[o]];
		const struct source *src = sources_get(d->src, e->loc.file);
		if (color)
			fputs(C_BOLD, out);
		if (src && e->loc.line)
			fprintf(out, "%s:%u:%u: ", src->path, e->loc.line, e->loc.col);
		else if (src)
			fprintf(out, "%s: ", src->path);
		else
			fputs("trigc: ", out);
		if (color)
			fprintf(out, "%s%s:" C_RESET C_BOLD " ", level_color[e->level], level_name[e->level]);
		else
			fprintf(out, "%s: ", level_name[e->level]);
		fputs(e->msg, out);
		if (e->rule)
			fprintf(out, " [%s]", e->rule);
		if (color)
			fputs(C_RESET, out);
		fputc('\n', out);
		if (src && e->loc.line)
			print_excerpt(out, src, e->loc, color);
	}
	free(order);
	if (d->n < d->errors + d->warnings)
		fprintf(out, "trigc: note: %zu more diagnostics not shown\n",
			(size_t)(d->errors + d->warnings) - d->n);
	if (d->warnings || d->errors) {
		if (d->warnings)
			fprintf(out, "%u warning%s", d->warnings, d->warnings == 1 ? "" : "s");
		if (d->warnings && d->errors)
			fputs(" and ", out);
		if (d->errors)
			fprintf(out, "%u error%s", d->errors, d->errors == 1 ? "" : "s");
		fputs(" generated.\n", out);
	}
}

/* --- JSON and SARIF -------------------------------------------------- */

void diag_json_string(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
}

static void print_json(const struct diag *d, FILE *out)
{
	size_t *order = print_order(d);
	fputs("[", out);
	for (size_t i = 0; i < d->n; i++) {
		const struct diag_entry *e = &d->v[order[i]];
		const struct source *src = sources_get(d->src, e->loc.file);
		fputs(i ? ",\n {" : "\n {", out);
		fputs("\"file\": ", out);
		if (src) {
			fputc('"', out);
			diag_json_string(out, src->path);
			fputc('"', out);
		} else {
			fputs("null", out);
		}
		fprintf(out, ", \"line\": %u, \"column\": %u, \"length\": %u, \"severity\": \"%s\", ",
			e->loc.line, e->loc.col, e->loc.len, level_name[e->level]);
		fputs("\"rule\": ", out);
		if (e->rule) {
			fputc('"', out);
			diag_json_string(out, e->rule);
			fputc('"', out);
		} else {
			fputs("null", out);
		}
		fputs(", \"message\": \"", out);
		diag_json_string(out, e->msg);
		fputs("\"}", out);
	}
	free(order);
	fputs(d->n ? "\n]\n" : "]\n", out);
}

/* The "physicalLocation" member of a SARIF location object. */
static void sarif_physical(FILE *out, const struct source *src, struct loc loc)
{
	fputs("\"physicalLocation\": {\"artifactLocation\": {\"uri\": \"", out);
	diag_json_string(out, src->path);
	fputs("\"}", out);
	if (loc.line)
		fprintf(out, ", \"region\": {\"startLine\": %u, \"startColumn\": %u, \"endColumn\": %u}",
			loc.line, loc.col, loc.col + (loc.len ? loc.len : 1));
	fputs("}", out);
}

/* SARIF 2.1.0: one result per error or warning; its notes are related
 * locations with their messages. */
static void print_sarif(const struct diag *d, FILE *out)
{
	fputs("{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
	      "  \"version\": \"2.1.0\",\n"
	      "  \"runs\": [{\n"
	      "    \"tool\": {\"driver\": {\"name\": \"trigc\", \"version\": \"" TRIGC_VERSION "\"}},\n"
	      "    \"results\": [", out);
	static const char *sarif_level[] = { "note", "warning", "error" };
	size_t *order = print_order(d);
	bool any = false;
	for (size_t o = 0; o < d->n; o++) {
		const struct diag_entry *e = &d->v[order[o]];
		if (e->level == DIAG_NOTE)
			continue;
		const struct source *src = sources_get(d->src, e->loc.file);
		fputs(any ? ",\n      {" : "\n      {", out);
		any = true;
		if (e->rule) {
			fputs("\"ruleId\": \"", out);
			diag_json_string(out, e->rule);
			fputs("\", ", out);
		}
		fprintf(out, "\"level\": \"%s\", \"message\": {\"text\": \"", sarif_level[e->level]);
		diag_json_string(out, e->msg);
		fputs("\"}", out);
		if (src) {
			fputs(", \"locations\": [{", out);
			sarif_physical(out, src, e->loc);
			fputs("}]", out);
		}
		bool related = false;
		for (size_t n = o + 1; n < d->n && d->v[order[n]].level == DIAG_NOTE; n++) {
			const struct diag_entry *note = &d->v[order[n]];
			const struct source *nsrc = sources_get(d->src, note->loc.file);
			if (!nsrc)
				continue;
			fputs(related ? ", " : ", \"relatedLocations\": [", out);
			related = true;
			fputs("{\"message\": {\"text\": \"", out);
			diag_json_string(out, note->msg);
			fputs("\"}, ", out);
			sarif_physical(out, nsrc, note->loc);
			fputs("}", out);
		}
		if (related)
			fputs("]", out);
		fputs("}", out);
	}
	free(order);
	fputs(any ? "\n    ]\n  }]\n}\n" : "]\n  }]\n}\n", out);
}

void diag_print(const struct diag *d, FILE *out, enum diag_format fmt, bool color)
{
	switch (fmt) {
	case DIAG_TEXT: print_text(d, out, color); break;
	case DIAG_JSON: print_json(d, out); break;
	case DIAG_SARIF: print_sarif(d, out); break;
	}
}
