/*
 * yaml.c — the YAML front end: libyaml's event parser to the document tree.
 *
 * libyaml's event API (not its document loader) drives a small stack
 * machine that builds tree.h nodes with exact positions.  libyaml marks
 * count characters; the tree counts bytes, so every mark is turned into a
 * byte offset of the loaded file (a cursor walks the UTF-8 text, forward
 * and back, in amortised linear time) and then into line:column through
 * the file's own line table, so positions always agree with what
 * diagnostics print, whatever line breaks libyaml recognises.
 *
 * What a file may hold:
 *   - one document (a second one is an error); no document at all, or an
 *     empty one, gives an empty map;
 *   - a map at the top level (a list is also accepted: that is the shape
 *     of valohai.yaml, which `import:` reads through this front end; the
 *     decoder checks which one a file needs);
 *   - scalar keys only (a list or map as a key is an error);
 *   - anchors and aliases: an alias yields the very subtree its anchor
 *     names (shared, not copied: the tree is read-only after parsing).
 *     Aliases may add at most ALIAS_BUDGET nodes to the document in total
 *     (counting nested aliases expanded), which stops "billion laughs";
 *     an alias to an anchor that is still open (a cycle) is an error; an
 *     anchor defined again replaces the earlier one, as YAML says;
 *   - merge keys (YAML 1.1 `<<`, plain only): `<<: *base` or
 *     `<<: [*a, *b]` (maps, alias or not) copies the entries of the merged
 *     maps into the map, at the place of the `<<` entry, except the keys
 *     the map itself has (anywhere) and keys an earlier merged map gave;
 *   - explicit tags from the standard set only: !!str !!int !!bool !!null
 *     !!float on scalars, !!map on maps, !!seq on lists.  `!!str` on a
 *     plain scalar makes it QUOTED (it is a string, never a null);
 *   - at most MAX_DEPTH nested maps and lists.
 * Scalars keep their text exactly as YAML gives it; plain ones are
 * STYLE_PLAIN (a null `key:` is a PLAIN scalar with empty text), quoted
 * and block (| >) ones STYLE_QUOTED.  Duplicate keys are kept, in order:
 * the decoder reports them.
 *
 * libyaml cannot recover from its own errors, so the first one ends the
 * parse; so do too deep nesting, alias expansion past the budget and a
 * second document.  Other errors (a bad tag, a non-scalar key, an unknown
 * alias, a bad merge) are reported and parsing goes on.  All errors carry
 * the rule [syntax].
 */
#include "frontend.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <yaml.h>

enum {
	MAX_DEPTH = 64,                 /* nested maps and lists */
	ALIAS_BUDGET = 100000,          /* nodes aliases may add */
};

/* An anchor: the node it names once complete. */
struct anchor {
	struct anchor *next;            /* hash chain, newest first */
	const char *name;
	struct tree *node;
	size_t size;                    /* nodes in the expanded subtree */
	bool complete;
};

/* An open map or list. */
struct frame {
	struct tree *node;
	struct anchor *anchor;          /* NULL: not anchored */
	size_t start_count;             /* y->count when it opened */
	bool flow;
	/* maps: the pending key */
	bool have_key, key_bad, key_merge;
	const char *key;
	struct loc key_loc;
	struct loc first_key;           /* block maps: for the map's loc */
	/* maps: indices of `<<` entries to expand at the end */
	size_t *merges;
	size_t nmerges, capmerges;
};

struct yp {
	struct arena *a;
	struct diag *d;
	const struct sources *s;
	uint32_t file;
	const struct source *src;

	/* mark index (characters) -> byte offset cursor */
	size_t cur_ch, cur_off;

	struct frame stack[MAX_DEPTH];
	size_t depth;
	struct tree *root;
	unsigned docs;
	bool fatal;

	struct anchor **buckets;
	size_t nbuckets, nanchors;

	size_t count;                   /* nodes in the expanded document */
	size_t alias_nodes;             /* of which aliases added */
};

/* ------------------------------------------------------------ positions */

/* Byte offset of the character with index IDX (libyaml counts characters:
 * a UTF-8 lead byte and its continuation bytes are one). */
static size_t char_to_off(struct yp *y, size_t idx)
{
	const unsigned char *t = (const unsigned char *)y->src->text;
	size_t n = y->src->size;
	while (y->cur_ch < idx && y->cur_off < n) {
		y->cur_off++;
		while (y->cur_off < n && (t[y->cur_off] & 0xC0) == 0x80)
			y->cur_off++;
		y->cur_ch++;
	}
	while (y->cur_ch > idx && y->cur_off > 0) {
		y->cur_off--;
		while (y->cur_off > 0 && (t[y->cur_off] & 0xC0) == 0x80)
			y->cur_off--;
		y->cur_ch--;
	}
	return y->cur_off;
}

/* Offset just past the text of L's line (before its \r\n). */
static size_t line_end(const struct yp *y, struct loc l)
{
	size_t len;
	const char *line = source_line(y->src, l.line, &len);
	if (!line)
		return y->src->size;
	return (size_t)(line - y->src->text) + len;
}

/* The span [START, END) clipped to the end of START's line (a START in
 * a line break or past the end of the file is the end of its line). */
static struct loc span(const struct yp *y, size_t start, size_t end)
{
	if (start > y->src->size)
		start = y->src->size;
	struct loc l = source_loc(y->s, y->file, start, 0);
	size_t le = line_end(y, l);
	if (start > le) {
		l.col -= (uint32_t)(start - le);
		start = le;
	}
	if (end > le)
		end = le;
	l.len = end > start ? (uint32_t)(end - start) : 0;
	return l;
}

/* A point at byte OFF, as long as the character there (0 at a line end). */
static struct loc point(const struct yp *y, size_t off)
{
	const unsigned char *t = (const unsigned char *)y->src->text;
	size_t n = y->src->size;
	if (off > n)
		off = n;
	size_t e = off;
	if (e < n && t[e] != '\n' && t[e] != '\r') {
		e++;
		while (e < n && (t[e] & 0xC0) == 0x80)
			e++;
	}
	return span(y, off, e);
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Node properties (anchor, tag) come before a node and libyaml's start
 * mark includes them.  Skips them from OFF (not past END) and returns
 * where the node itself starts; the tag's bytes go to *TAG and *TAGLEN.
 */
static size_t skip_props(const struct yp *y, size_t off, size_t end, size_t *tag, size_t *taglen)
{
	const char *t = y->src->text;
	for (int i = 0; i < 2 && off < end; i++) {
		if (t[off] != '&' && t[off] != '!')
			break;
		size_t s = off;
		if (t[off] == '!' && off + 1 < end && t[off + 1] == '<') {
			while (off < end && t[off] != '>')
				off++;
			if (off < end)
				off++;
		} else {
			while (off < end && !is_space((unsigned char)t[off]))
				off++;
		}
		if (t[s] == '!' && tag) {
			*tag = s;
			*taglen = off - s;
		}
		/* White space and comments separate properties from the node. */
		while (off < end) {
			if (is_space((unsigned char)t[off])) {
				off++;
			} else if (t[off] == '#') {
				while (off < end && t[off] != '\n')
					off++;
			} else {
				break;
			}
		}
	}
	return off;
}

/* ------------------------------------------------------------- errors */

static void fatal(struct yp *y, struct loc l, const char *fmt, const char *arg)
{
	diag_error(y->d, l, "syntax", fmt, arg);
	y->fatal = true;
}

/* libyaml's "while parsing a flow sequence" -> "the flow sequence". */
static const char *context_subject(struct arena *a, const char *ctx)
{
	static const char *const lead[] = { "while parsing ", "while scanning " };
	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(lead[i]);
		if (strncmp(ctx, lead[i], n) != 0)
			continue;
		const char *rest = ctx + n;
		if (strncmp(rest, "a ", 2) == 0)
			return arena_printf(a, "the %s", rest + 2);
		if (strncmp(rest, "an ", 3) == 0)
			return arena_printf(a, "the %s", rest + 3);
		return NULL;
	}
	return NULL;
}

/* libyaml's messages are lowercase already; make sure of it and drop a
 * final period. */
static char *tidy(struct arena *a, const char *s)
{
	char *m = arena_strdup(a, s ? s : "unknown error");
	size_t n = strlen(m);
	if (n && m[n - 1] == '.')
		m[n - 1] = 0;
	if (m[0] >= 'A' && m[0] <= 'Z' && !(m[1] >= 'A' && m[1] <= 'Z'))
		m[0] = (char)(m[0] - 'A' + 'a');
	return m;
}

static void libyaml_error(struct yp *y, const yaml_parser_t *p)
{
	y->fatal = true;
	if (p->error == YAML_MEMORY_ERROR) {
		diag_error(y->d, (struct loc){ y->file, 0, 0, 0 }, "syntax",
			   "out of memory while reading YAML");
		return;
	}
	if (p->error == YAML_READER_ERROR) {
		struct loc l = point(y, p->problem_offset);
		const char *pr = p->problem ? p->problem : "";
		int v = p->problem_value;
		if (strcmp(pr, "control characters are not allowed") == 0)
			diag_error(y->d, l, "syntax",
				   "control character U+%04X is not allowed in YAML", (unsigned)v);
		else if (strcmp(pr, "invalid leading UTF-8 octet") == 0)
			diag_error(y->d, l, "syntax",
				   "invalid UTF-8: byte 0x%02X cannot start a character",
				   (unsigned)v & 0xFF);
		else if (strcmp(pr, "invalid trailing UTF-8 octet") == 0)
			diag_error(y->d, l, "syntax",
				   "invalid UTF-8: byte 0x%02X cannot continue a character",
				   (unsigned)v & 0xFF);
		else if (strcmp(pr, "incomplete UTF-8 octet sequence") == 0)
			diag_error(y->d, l, "syntax",
				   "invalid UTF-8: the file ends inside a character");
		else if (strcmp(pr, "invalid length of a UTF-8 sequence") == 0)
			diag_error(y->d, l, "syntax", "invalid UTF-8: overlong encoding");
		else if (strcmp(pr, "invalid Unicode character") == 0)
			diag_error(y->d, l, "syntax",
				   "invalid UTF-8: U+%04X is not a Unicode character", (unsigned)v);
		else
			diag_error(y->d, l, "syntax", "%s", tidy(y->a, pr));
		return;
	}
	/* Scanner, parser and anything else: problem, then context. */
	size_t off = char_to_off(y, p->problem_mark.index);
	struct loc l = point(y, off);
	const char *pr = tidy(y->a, p->problem);
	if (p->context)
		diag_error(y->d, l, "syntax", "%s %s", pr, tidy(y->a, p->context));
	else
		diag_error(y->d, l, "syntax", "%s", pr);
	if (off < y->src->size && y->src->text[off] == '\t')
		diag_note(y->d, (struct loc){ y->file, 0, 0, 0 },
			  "YAML does not allow tabs for indentation; use spaces");
	if (p->context && p->context_mark.index != p->problem_mark.index) {
		const char *subj = context_subject(y->a, p->context);
		if (subj)
			diag_note(y->d, point(y, char_to_off(y, p->context_mark.index)),
				  "%s starts here", subj);
	}
}

/* -------------------------------------------------------------- anchors */

static size_t hash(const char *s)
{
	size_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct anchor *anchor_find(const struct yp *y, const char *name)
{
	if (!y->nbuckets)
		return NULL;
	for (struct anchor *an = y->buckets[hash(name) & (y->nbuckets - 1)]; an; an = an->next)
		if (strcmp(an->name, name) == 0)
			return an;
	return NULL;
}

static struct anchor *anchor_add(struct yp *y, const char *name, struct tree *node)
{
	if (y->nanchors >= y->nbuckets) {        /* grow: keep chains short */
		size_t nb = y->nbuckets ? y->nbuckets * 4 : 64;
		struct anchor **b = arena_alloc(y->a, nb * sizeof(*b));
		/* Rehash oldest first so each chain stays newest first. */
		for (size_t i = 0; i < y->nbuckets; i++) {
			struct anchor *rev = NULL, *an = y->buckets[i];
			while (an) {
				struct anchor *next = an->next;
				an->next = rev;
				rev = an;
				an = next;
			}
			while (rev) {
				struct anchor *next = rev->next;
				size_t h = hash(rev->name) & (nb - 1);
				rev->next = b[h];
				b[h] = rev;
				rev = next;
			}
		}
		y->buckets = b;
		y->nbuckets = nb;
	}
	struct anchor *an = arena_alloc(y->a, sizeof(*an));
	an->name = arena_strdup(y->a, name);
	an->node = node;
	size_t h = hash(name) & (y->nbuckets - 1);
	an->next = y->buckets[h];
	y->buckets[h] = an;
	y->nanchors++;
	return an;
}

/* ------------------------------------------------------------------ tags */

static const char *const std_tags[] = { "str", "int", "bool", "null", "float", "map", "seq" };
#define YAML_TAG_PREFIX "tag:yaml.org,2002:"

/* Checks a node's explicit tag; returns its short name ("str"...), "" for
 * no tag, NULL after reporting a bad one. */
static const char *check_tag(struct yp *y, const char *tag, enum tree_kind kind,
			     size_t start, size_t end)
{
	if (!tag)
		return "";
	size_t toff = start, tlen = 0;
	(void)skip_props(y, start, end, &toff, &tlen);
	struct loc l = span(y, toff, toff + tlen);
	size_t pn = strlen(YAML_TAG_PREFIX);
	const char *shown = tag;
	if (strncmp(tag, YAML_TAG_PREFIX, pn) == 0) {
		const char *name = tag + pn;
		shown = arena_printf(y->a, "!!%s", name);
		for (size_t i = 0; i < sizeof(std_tags) / sizeof(std_tags[0]); i++) {
			if (strcmp(name, std_tags[i]) != 0)
				continue;
			bool fits = i < 5 ? kind == TREE_SCALAR
				    : i == 5 ? kind == TREE_MAP : kind == TREE_LIST;
			if (fits)
				return std_tags[i];
			diag_error(y->d, l, "syntax", "tag '%s' does not fit a %s", shown,
				   kind == TREE_SCALAR ? "scalar"
				   : kind == TREE_MAP ? "map" : "list");
			return NULL;
		}
	}
	diag_error(y->d, l, "syntax", "unsupported tag '%s'; only !!str, !!int, !!float, "
		   "!!bool, !!null, !!map and !!seq are allowed", shown);
	return NULL;
}

/* ---------------------------------------------------------------- nodes */

/* Hands a finished node to its parent (or makes it the root). */
static void attach(struct yp *y, struct tree *node, bool merge_key)
{
	if (y->depth == 0) {
		if (!y->root)
			y->root = node;
		return;
	}
	struct frame *f = &y->stack[y->depth - 1];
	struct tree *p = f->node;
	if (p->kind == TREE_LIST) {
		tree_list_push(y->a, p, node);
		return;
	}
	if (!f->have_key) {
		f->have_key = true;
		f->key_bad = false;
		f->key_merge = false;
		if (p->u.map.n == 0 && !f->flow && f->first_key.line == 0)
			f->first_key = node->loc;
		if (node->kind != TREE_SCALAR) {
			diag_error(y->d, node->loc, "syntax",
				   "a map key must be a scalar, not a %s",
				   node->kind == TREE_MAP ? "map" : "list");
			f->key_bad = true;
			return;
		}
		if (memchr(node->u.scalar.text, 0, node->u.scalar.len)) {
			diag_error(y->d, node->loc, "syntax",
				   "a map key must not hold a NUL character");
			f->key_bad = true;
			return;
		}
		f->key = node->u.scalar.text;
		f->key_loc = node->loc;
		f->key_merge = merge_key;
		return;
	}
	f->have_key = false;
	if (f->key_bad)
		return;
	if (f->key_merge)
		*ARENA_PUSH(y->a, f->merges, f->nmerges, f->capmerges) = p->u.map.n;
	tree_map_put(y->a, p, f->key, f->key_loc, node);
}

/* A placeholder for a node that could not be built (after an error). */
static struct tree *placeholder(struct yp *y, struct loc l)
{
	return tree_scalar(y->a, l, "", 0, STYLE_PLAIN);
}

/* Where a block scalar's text starts: the first non-blank of the first
 * line after the header L that holds more than spaces (END: the token's
 * end).  L itself when there is none. */
static struct loc block_text_loc(const struct yp *y, struct loc l, size_t end)
{
	const char *t = y->src->text;
	size_t n = y->src->size, off = line_end(y, l);
	for (;;) {
		if (off < n && t[off] == '\r')
			off++;
		if (off >= n || t[off] != '\n' || off + 1 >= end)
			return l;
		off++;
		struct loc cl = source_loc(y->s, y->file, off, 0);
		size_t ce = line_end(y, cl);
		size_t i = off;
		while (i < ce && t[i] == ' ')
			i++;
		if (i < ce)
			return span(y, i, ce);
		off = ce;
	}
}

static void on_scalar(struct yp *y, const yaml_event_t *e)
{
	size_t start = char_to_off(y, e->start_mark.index);
	size_t end = char_to_off(y, e->end_mark.index);
	const char *tagname = check_tag(y, (const char *)e->data.scalar.tag, TREE_SCALAR,
					start, end);
	if (end < start)
		end = start;
	if (e->data.scalar.tag || e->data.scalar.anchor)
		start = skip_props(y, start, end, NULL, NULL);

	yaml_scalar_style_t ys = e->data.scalar.style;
	bool plain = ys == YAML_PLAIN_SCALAR_STYLE || ys == YAML_ANY_SCALAR_STYLE;
	enum tree_style style = plain ? STYLE_PLAIN : STYLE_QUOTED;
	if (tagname && strcmp(tagname, "str") == 0)
		style = STYLE_QUOTED;

	const char *text = (const char *)e->data.scalar.value;
	size_t len = e->data.scalar.length;
	struct loc l = span(y, start, end);
	struct tree *t = tree_scalar(y->a, l, text, len, style);
	bool one_line = end <= line_end(y, l);
	const char *raw = y->src->text + start;

	if (plain) {
		t->u.scalar.exact = one_line && end - start == len && memcmp(raw, text, len) == 0;
		t->u.scalar.text_loc = l;
	} else if (ys == YAML_SINGLE_QUOTED_SCALAR_STYLE || ys == YAML_DOUBLE_QUOTED_SCALAR_STYLE) {
		bool exact = one_line && end - start == len + 2 && memcmp(raw + 1, text, len) == 0;
		uint32_t tl = exact ? (uint32_t)len
			      : l.len > (one_line ? 2u : 1u) ? l.len - (one_line ? 2u : 1u) : 0;
		t->u.scalar.text_loc = loc_sub(l, l.len ? 1 : 0, tl);
		t->u.scalar.exact = exact;
	} else {
		/* Block scalar: when the text starts with content, it starts at
		 * the first non-blank of the first non-blank line after the
		 * header.  Folding and chomping make it inexact. */
		t->u.scalar.text_loc = l;
		t->u.scalar.exact = false;
		if (len && text[0] != ' ' && text[0] != '\n')
			t->u.scalar.text_loc = block_text_loc(y, l, end);
	}

	y->count++;
	if (e->data.scalar.anchor) {
		struct anchor *an = anchor_add(y, (const char *)e->data.scalar.anchor, t);
		an->size = 1;
		an->complete = true;
	}
	attach(y, t, plain && !e->data.scalar.tag && len == 2 && memcmp(text, "<<", 2) == 0);
}

static void on_alias(struct yp *y, const yaml_event_t *e)
{
	size_t start = char_to_off(y, e->start_mark.index);
	size_t end = char_to_off(y, e->end_mark.index);
	struct loc l = span(y, start, end);
	const char *name = (const char *)e->data.alias.anchor;
	struct anchor *an = anchor_find(y, name);
	if (!an) {
		diag_error(y->d, l, "syntax", "undefined alias '%s'", name);
		attach(y, placeholder(y, l), false);
		return;
	}
	if (!an->complete) {
		diag_error(y->d, l, "syntax", "alias '%s' refers to a node that contains it", name);
		attach(y, placeholder(y, l), false);
		return;
	}
	if (an->size > ALIAS_BUDGET - y->alias_nodes) {
		diag_error(y->d, l, "syntax",
			   "alias '%s' expands the document past the limit of %d aliased nodes",
			   name, ALIAS_BUDGET);
		y->fatal = true;
		return;
	}
	y->alias_nodes += an->size;
	y->count += an->size;
	attach(y, an->node, false);
}

static void on_start(struct yp *y, const yaml_event_t *e, enum tree_kind kind)
{
	size_t start = char_to_off(y, e->start_mark.index);
	size_t end = char_to_off(y, e->end_mark.index);
	const char *tag, *anchor;
	bool flow;
	if (kind == TREE_MAP) {
		tag = (const char *)e->data.mapping_start.tag;
		anchor = (const char *)e->data.mapping_start.anchor;
		flow = e->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE;
	} else {
		tag = (const char *)e->data.sequence_start.tag;
		anchor = (const char *)e->data.sequence_start.anchor;
		flow = e->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
	}
	(void)check_tag(y, tag, kind, start, end);
	if (tag || anchor)
		start = skip_props(y, start, end, NULL, NULL);
	struct loc l = point(y, start);
	if (y->depth == MAX_DEPTH) {
		diag_error(y->d, l, "syntax",
			   "maps and lists nest too deeply: more than %d levels", MAX_DEPTH);
		y->fatal = true;
		return;
	}
	struct frame *f = &y->stack[y->depth++];
	memset(f, 0, sizeof(*f));
	f->node = kind == TREE_MAP ? tree_map(y->a, l) : tree_list(y->a, l);
	f->flow = flow;
	f->start_count = y->count;
	y->count++;
	if (anchor)
		f->anchor = anchor_add(y, anchor, f->node);
}

/* Adds KEY to the open-addressing set SET of CAP slots (a power of two,
 * never full); false if it was there. */
static bool set_put(const char **set, size_t cap, const char *key)
{
	size_t h = hash(key) & (cap - 1);
	while (set[h] && strcmp(set[h], key) != 0)
		h = (h + 1) & (cap - 1);
	if (set[h])
		return false;
	set[h] = key;
	return true;
}

/* Expands the `<<` entries of a finished map (see the file comment). */
static void merge(struct yp *y, struct frame *f)
{
	struct tree *m = f->node;
	size_t n = m->u.map.n;
	struct tree_entry *old = m->u.map.v;

	/* Gather the sources and check them. */
	size_t total = n;
	for (size_t i = 0; i < f->nmerges; i++) {
		struct tree *v = old[f->merges[i]].value;
		if (v->kind == TREE_MAP) {
			total += v->u.map.n;
		} else if (v->kind == TREE_LIST) {
			for (size_t j = 0; j < v->u.list.n; j++) {
				struct tree *s = v->u.list.v[j];
				if (s->kind != TREE_MAP) {
					diag_error(y->d, s->loc, "syntax",
						   "merge key '<<' takes maps, not a %s",
						   s->kind == TREE_LIST ? "list" : "scalar");
					return;
				}
				total += s->u.map.n;
			}
		} else {
			diag_error(y->d, v->loc, "syntax",
				   "merge key '<<' takes a map or a list of maps, not a scalar");
			return;
		}
	}

	/* A set of the keys present so far (open addressing). */
	size_t cap = 16;
	while (cap < 2 * total)
		cap *= 2;
	const char **set = arena_alloc(y->a, cap * sizeof(*set));
	bool *is_merge = arena_alloc(y->a, n ? n : 1);
	for (size_t i = 0; i < f->nmerges; i++)
		is_merge[f->merges[i]] = true;

	for (size_t i = 0; i < n; i++)
		if (!is_merge[i])
			(void)set_put(set, cap, old[i].key);

	m->u.map.v = NULL;
	m->u.map.n = m->u.map.cap = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_merge[i]) {
			*ARENA_PUSH(y->a, m->u.map.v, m->u.map.n, m->u.map.cap) = old[i];
			continue;
		}
		struct tree *v = old[i].value;
		size_t ns = v->kind == TREE_MAP ? 1 : v->u.list.n;
		for (size_t j = 0; j < ns; j++) {
			struct tree *s = v->kind == TREE_MAP ? v : v->u.list.v[j];
			for (size_t k = 0; k < s->u.map.n; k++) {
				if (set_put(set, cap, s->u.map.v[k].key))
					*ARENA_PUSH(y->a, m->u.map.v, m->u.map.n, m->u.map.cap) =
						s->u.map.v[k];
			}
		}
	}
}

static void on_end(struct yp *y, const yaml_event_t *e)
{
	if (y->depth == 0)
		return;
	struct frame *f = &y->stack[--y->depth];
	struct tree *t = f->node;
	size_t end = char_to_off(y, e->end_mark.index);
	size_t start = (size_t)(y->src->lines[t->loc.line - 1]) + t->loc.col - 1;
	if (f->flow) {
		struct loc l = span(y, start, end);
		if (end <= line_end(y, l))
			t->loc = l;
	} else if (t->kind == TREE_MAP && f->first_key.line == t->loc.line &&
		   f->first_key.col == t->loc.col && f->first_key.len) {
		t->loc.len = f->first_key.len;
	}
	if (t->kind == TREE_MAP && f->have_key && !f->key_bad) {
		/* libyaml always gives a value; keep the invariant anyway */
		tree_map_put(y->a, t, f->key, f->key_loc, placeholder(y, f->key_loc));
	}
	if (f->nmerges)
		merge(y, f);
	if (f->anchor) {
		f->anchor->size = y->count - f->start_count;
		f->anchor->complete = true;
	}
	attach(y, t, false);
}

/* ------------------------------------------------------------ the driver */

struct tree *yaml_parse(struct arena *a, struct diag *d, const struct sources *s, uint32_t file)
{
	const struct source *src = sources_get(s, file);
	if (!src) {
		diag_error(d, (struct loc){ 0, 0, 0, 0 }, "syntax", "no such file");
		return NULL;
	}
	struct yp *y = arena_alloc(a, sizeof(*y));
	y->a = a;
	y->d = d;
	y->s = s;
	y->file = file;
	y->src = src;
	unsigned errors0 = diag_errors(d);

	yaml_parser_t p;
	if (!yaml_parser_initialize(&p)) {
		diag_error(d, (struct loc){ file, 0, 0, 0 }, "syntax",
			   "out of memory while reading YAML");
		return NULL;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)src->text, src->size);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);

	bool done = false;
	while (!done && !y->fatal) {
		yaml_event_t e;
		if (!yaml_parser_parse(&p, &e)) {
			libyaml_error(y, &p);
			break;
		}
		switch (e.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++y->docs > 1) {
				size_t st = char_to_off(y, e.start_mark.index);
				size_t en = char_to_off(y, e.end_mark.index);
				struct loc l = en > st ? span(y, st, en) : point(y, st);
				fatal(y, l, "%s", "a definition file holds one YAML document");
			}
			break;
		case YAML_SCALAR_EVENT:
			on_scalar(y, &e);
			break;
		case YAML_ALIAS_EVENT:
			on_alias(y, &e);
			break;
		case YAML_SEQUENCE_START_EVENT:
			on_start(y, &e, TREE_LIST);
			break;
		case YAML_MAPPING_START_EVENT:
			on_start(y, &e, TREE_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			on_end(y, &e);
			break;
		default:
			break;
		}
		yaml_event_delete(&e);
	}
	yaml_parser_delete(&p);

	if (diag_errors(d) > errors0)
		return NULL;
	struct tree *root = y->root;
	if (!root)
		return tree_map(a, source_loc(s, file, 0, 0));
	if (root->kind == TREE_SCALAR) {
		if (root->u.scalar.style == STYLE_PLAIN && root->u.scalar.len == 0)
			return tree_map(a, root->loc);
		diag_error(d, root->loc, "syntax",
			   "the top level of a definition file must be a map, not a scalar");
		return NULL;
	}
	return root;
}
