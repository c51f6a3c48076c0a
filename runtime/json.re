/*
 * json.re — strict JSON validation and one-pass path extraction (json.h).
 *
 * re2c generates the two scanners: lex() cuts the document into tokens
 * (punctuation, numbers, literals) and lex_string() checks a string's
 * escapes and UTF-8.  Both read through a bounded YYPEEK, so they never
 * touch a byte at or past the document's end, and a NUL byte inside the
 * document is an ordinary byte: re2c's end-of-input rule ($) fires only when
 * the cursor is at the limit.  Runs of plain ASCII inside strings are
 * skipped 8 bytes at a time (plain8) before the string scanner takes over,
 * which roughly doubles the speed on real payloads.  extract() drives the
 * scanners with an explicit state machine and a fixed-size stack (no
 * recursion), and walks the query trie only while the enclosing containers
 * are on some path; elsewhere it only validates.
 *
 * Every error message names what is wrong and where (a byte offset).
 */
#include "json.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* ------------------------------------------------------------ errors */

static int fail(struct trig_json_error *err, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct trig_json_error *err, size_t off, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->offset = off;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Writes p[0..len) into dst (size n) for a message: printable ASCII as is,
 * other bytes as \xNN, cut with "..." when long.  Returns dst. */
static const char *show(char *dst, size_t n, const unsigned char *p, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (o + 8 > n) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			dst[o++] = (char)p[i];
		} else {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[p[i] >> 4];
			dst[o++] = hex[p[i] & 15];
		}
	}
	dst[o] = 0;
	return dst;
}

const char *trig_json_type_name(enum trig_json_type type)
{
	switch (type) {
	case TRIG_JSON_ABSENT: return "absent";
	case TRIG_JSON_NULL: return "null";
	case TRIG_JSON_FALSE: return "false";
	case TRIG_JSON_TRUE: return "true";
	case TRIG_JSON_NUMBER: return "number";
	case TRIG_JSON_STRING: return "string";
	case TRIG_JSON_ARRAY: return "array";
	case TRIG_JSON_OBJECT: return "object";
	}
	return "?";
}

/* ------------------------------------------------------------ escapes */

/* These helpers use only libc: the path parser below depends on them. */

static int hex4(const unsigned char *p, const unsigned char *end)
{
	int v = 0;
	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			c = (c | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | (int)c;
	}
	return v;
}

static int utf8_put(unsigned char *out, unsigned u)
{
	if (u < 0x80) {
		out[0] = (unsigned char)u;
		return 1;
	}
	if (u < 0x800) {
		out[0] = (unsigned char)(0xC0 | u >> 6);
		out[1] = (unsigned char)(0x80 | (u & 0x3F));
		return 2;
	}
	if (u < 0x10000) {
		out[0] = (unsigned char)(0xE0 | u >> 12);
		out[1] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
		out[2] = (unsigned char)(0x80 | (u & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | u >> 18);
	out[1] = (unsigned char)(0x80 | (u >> 12 & 0x3F));
	out[2] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
	out[3] = (unsigned char)(0x80 | (u & 0x3F));
	return 4;
}

/*
 * Decodes the escape at *pp (a backslash; the escape must end before end)
 * into out (4 bytes at most), advances *pp past it and returns the number of
 * bytes written, or -1 if it is not a JSON escape.  A high surrogate
 * followed by an escaped low surrogate is one code point; any other
 * surrogate becomes U+FFFD.  Never writes more bytes than it consumes.
 */
static int unescape(const unsigned char **pp, const unsigned char *end, unsigned char *out)
{
	const unsigned char *p = *pp;
	int u, lo;

	if (end - p < 2 || p[0] != '\\')
		return -1;
	switch (p[1]) {
	case '"': case '\\': case '/': out[0] = p[1]; break;
	case 'b': out[0] = '\b'; break;
	case 'f': out[0] = '\f'; break;
	case 'n': out[0] = '\n'; break;
	case 'r': out[0] = '\r'; break;
	case 't': out[0] = '\t'; break;
	case 'u':
		u = hex4(p + 2, end);
		if (u < 0)
			return -1;
		p += 6;
		if (u >= 0xD800 && u <= 0xDBFF) {
			if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' &&
			    (lo = hex4(p + 2, end)) >= 0xDC00 && lo <= 0xDFFF) {
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
				p += 6;
			} else {
				u = 0xFFFD;
			}
		} else if (u >= 0xDC00 && u <= 0xDFFF) {
			u = 0xFFFD;
		}
		*pp = p;
		return utf8_put(out, (unsigned)u);
	default:
		return -1;
	}
	*pp = p + 2;
	return 1;
}

/* Whether the string body p[0..end) (between its quotes, valid) decodes to
 * exactly k[0..klen). */
static bool key_equal_raw(const unsigned char *p, const unsigned char *end,
			  const unsigned char *k, size_t klen)
{
	const unsigned char *ke = k + klen;
	unsigned char u[4];

	while (p < end) {
		if (*p != '\\') {
			if (k == ke || *k != *p)
				return false;
			k++, p++;
			continue;
		}
		int n = unescape(&p, end, u);
		if (n < 0 || ke - k < n || memcmp(k, u, (size_t)n) != 0)
			return false;
		k += n;
	}
	return k == ke;
}

/* ------------------------------------------------------------ scanners */

enum tok {
	T_EOF, T_LBRACE, T_RBRACE, T_LBRACK, T_RBRACK, T_COLON, T_COMMA,
	/* scalars: in the order of enum trig_json_type's, see scalar_type[] */
	T_NULL, T_FALSE, T_TRUE, T_NUMBER, T_STRING,
	T_ERROR,
};

static const enum trig_json_type scalar_type[] = {
	[T_NULL] = TRIG_JSON_NULL, [T_FALSE] = TRIG_JSON_FALSE,
	[T_TRUE] = TRIG_JSON_TRUE, [T_NUMBER] = TRIG_JSON_NUMBER,
	[T_STRING] = TRIG_JSON_STRING,
};

struct lexer {
	const unsigned char *base, *lim;
	const unsigned char *tok, *cur;         /* the last token */
	bool escaped;                           /* it is a string with a '\' */
	struct trig_json_error *err;
};

/*!re2c
	re2c:api = custom;
	re2c:api:style = free-form;
	re2c:define:YYCTYPE = "unsigned char";
	re2c:define:YYPEEK = "(cur < lim ? *cur : 0)";
	re2c:define:YYSKIP = "++cur;";
	re2c:define:YYBACKUP = "mar = cur;";
	re2c:define:YYRESTORE = "cur = mar;";
	re2c:define:YYLESSTHAN = "lim - cur < @@{len}";
	re2c:yyfill:enable = 0;
	re2c:eof = 0;

	ws      = [ \t\n\r]+;
	int     = "-"? ("0" | [1-9][0-9]*);
	number  = int ("." [0-9]+)? ([eE] [+-]? [0-9]+)?;
	numlike = [-+.0-9] [-+.0-9a-zA-Z_]*;
	word    = [a-zA-Z_] [a-zA-Z0-9_]*;
	hex     = [0-9a-fA-F];

	ascii   = [\x20-\x21\x23-\x5b\x5d-\x7f];
	tail    = [\x80-\xbf];
	utf8    = [\xc2-\xdf] tail
		| "\xe0" [\xa0-\xbf] tail
		| [\xe1-\xec\xee\xef] tail tail
		| "\xed" [\x80-\x9f] tail
		| "\xf0" [\x90-\xbf] tail tail
		| [\xf1-\xf3] tail tail tail
		| "\xf4" [\x80-\x8f] tail tail;
*/

/* Whether p[0..lim) is a proper prefix of a valid UTF-8 sequence (a
 * multi-byte sequence cut by the end of the document). */
static bool utf8_cut(const unsigned char *p, const unsigned char *lim)
{
	size_t need;
	if (*p >= 0xc2 && *p <= 0xdf)
		need = 2;
	else if (*p >= 0xe0 && *p <= 0xef)
		need = 3;
	else if (*p >= 0xf0 && *p <= 0xf4)
		need = 4;
	else
		return false;
	if ((size_t)(lim - p) >= need)
		return false;
	for (const unsigned char *q = p + 1; q < lim; q++)
		if ((*q & 0xc0) != 0x80)
			return false;
	return true;
}

/*
 * Whether the 8 bytes at p are all plain string bytes: ASCII, not a control
 * character, not '"', not '\\'.  A word-at-a-time test (the "has a byte
 * less than n" and "has a zero byte" tricks), exact for ASCII bytes; any
 * byte >= 0x80 makes it false.  Only a fast path: the re2c scanner below
 * decides everything it returns false for.
 */
static inline bool plain8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
	uint64_t w, q, b;
	memcpy(&w, p, 8);
	q = w ^ (ones * '"');
	b = w ^ (ones * '\\');
	return ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) | w) & high) == 0;
}

/* The rest of a string whose opening quote is just before cur. */
static enum tok lex_string(struct lexer *lx, const unsigned char *cur)
{
	const unsigned char *lim = lx->lim, *mar = cur, *s;
	bool escaped = false;
	char what[40];

loop:
	while (lim - cur >= 8 && plain8(cur))
		cur += 8;
	s = cur;
	/*!re2c
	["] {
		lx->cur = cur;
		lx->escaped = escaped;
		return T_STRING;
	}
	(ascii | utf8)+ { goto loop; }
	"\\" ["\\/bfnrt] | "\\u" hex{4} {
		escaped = true;
		goto loop;
	}
	"\\u" hex{0,3} {
		/* show the escape up to the byte that spoils it */
		if (cur == lim)
			goto cut;
		fail(lx->err, (size_t)(s - lx->base), "invalid escape '%s'",
		     show(what, sizeof(what), s, (size_t)(cur - s) + 1));
		return T_ERROR;
	}
	"\\" [^] {
		fail(lx->err, (size_t)(s - lx->base), "invalid escape '%s'",
		     show(what, sizeof(what), s, 2));
		return T_ERROR;
	}
	[\x00-\x1f] {
		fail(lx->err, (size_t)(s - lx->base), "control character in a string");
		return T_ERROR;
	}
	$ { goto cut; }
	* {
		if (*s == '\\' || utf8_cut(s, lim))
			goto cut;
		fail(lx->err, (size_t)(s - lx->base), "invalid UTF-8 byte '%s' in a string",
		     show(what, sizeof(what), s, 1));
		return T_ERROR;
	}
	*/
cut:
	fail(lx->err, (size_t)(lim - lx->base), "unexpected end of input in a string");
	return T_ERROR;
}

static inline enum tok lex(struct lexer *lx)
{
	const unsigned char *cur = lx->cur, *lim = lx->lim, *mar = cur, *tok;
	char what[40];

again:
	tok = cur;
	/*!re2c
	ws { goto again; }
	"{" { lx->tok = tok; lx->cur = cur; return T_LBRACE; }
	"}" { lx->tok = tok; lx->cur = cur; return T_RBRACE; }
	"[" { lx->tok = tok; lx->cur = cur; return T_LBRACK; }
	"]" { lx->tok = tok; lx->cur = cur; return T_RBRACK; }
	":" { lx->tok = tok; lx->cur = cur; return T_COLON; }
	"," { lx->tok = tok; lx->cur = cur; return T_COMMA; }
	["] { lx->tok = tok; return lex_string(lx, cur); }
	number { lx->tok = tok; lx->cur = cur; return T_NUMBER; }
	"true" { lx->tok = tok; lx->cur = cur; return T_TRUE; }
	"false" { lx->tok = tok; lx->cur = cur; return T_FALSE; }
	"null" { lx->tok = tok; lx->cur = cur; return T_NULL; }
	$ { lx->tok = tok; lx->cur = cur; return T_EOF; }

	numlike {
		fail(lx->err, (size_t)(tok - lx->base), "invalid number '%s'",
		     show(what, sizeof(what), tok, (size_t)(cur - tok)));
		return T_ERROR;
	}
	word {
		fail(lx->err, (size_t)(tok - lx->base), "invalid literal '%s'",
		     show(what, sizeof(what), tok, (size_t)(cur - tok)));
		return T_ERROR;
	}
	"\xef\xbb\xbf" {
		fail(lx->err, (size_t)(tok - lx->base), "byte order mark before the document");
		return T_ERROR;
	}
	* {
		fail(lx->err, (size_t)(tok - lx->base), "unexpected %s'%s'",
		     *tok >= 0x20 && *tok < 0x7f ? "" : "byte ",
		     show(what, sizeof(what), tok, 1));
		return T_ERROR;
	}
	*/
}

/* ------------------------------------------------------------ queries */

struct qkey {
	char *key;
	size_t len;
	uint32_t child;
};

struct qidx {
	uint32_t index;
	uint32_t child;
};

struct qnode {
	int slot;                       /* -1: no path ends here */
	uint32_t nkeys, nidx, nsub;
	uint32_t capkeys, capidx, capsub;
	struct qkey *keys;              /* children by key */
	struct qidx *idx;               /* children by array index */
	uint32_t *sub;                  /* every slot at or below this node */
};

struct trig_json_query {
	struct qnode *nodes;            /* nodes[0] is the root */
	uint32_t nnodes, capnodes;
	unsigned nslots;
};

struct trig_json_query *trig_json_query_new(void)
{
	struct trig_json_query *q = trig_xcalloc(1, sizeof(*q));
	q->capnodes = 8;
	q->nodes = trig_xcalloc(q->capnodes, sizeof(*q->nodes));
	q->nodes[0].slot = -1;
	q->nnodes = 1;
	return q;
}

void trig_json_query_free(struct trig_json_query *q)
{
	if (!q)
		return;
	for (uint32_t i = 0; i < q->nnodes; i++) {
		struct qnode *n = &q->nodes[i];
		for (uint32_t k = 0; k < n->nkeys; k++)
			free(n->keys[k].key);
		free(n->keys);
		free(n->idx);
		free(n->sub);
	}
	free(q->nodes);
	free(q);
}

unsigned trig_json_query_slots(const struct trig_json_query *q)
{
	return q ? q->nslots : 0;
}

static uint32_t node_new(struct trig_json_query *q)
{
	if (q->nnodes == q->capnodes) {
		q->capnodes *= 2;
		q->nodes = trig_xrealloc(q->nodes, q->capnodes * sizeof(*q->nodes));
	}
	struct qnode *n = &q->nodes[q->nnodes];
	memset(n, 0, sizeof(*n));
	n->slot = -1;
	return q->nnodes++;
}

/* The child of node `at` along seg, created when missing. */
static uint32_t node_step(struct trig_json_query *q, uint32_t at, const struct trig_path_seg *seg)
{
	struct qnode *n = &q->nodes[at];
	uint32_t child;

	if (seg->index >= 0) {
		for (uint32_t i = 0; i < n->nidx; i++)
			if (n->idx[i].index == (uint32_t)seg->index)
				return n->idx[i].child;
		child = node_new(q);
		n = &q->nodes[at];
		if (n->nidx == n->capidx) {
			n->capidx = n->capidx ? 2 * n->capidx : 4;
			n->idx = trig_xrealloc(n->idx, n->capidx * sizeof(*n->idx));
		}
		n->idx[n->nidx++] = (struct qidx){ (uint32_t)seg->index, child };
		return child;
	}
	size_t len = strlen(seg->key);
	for (uint32_t i = 0; i < n->nkeys; i++)
		if (n->keys[i].len == len && memcmp(n->keys[i].key, seg->key, len) == 0)
			return n->keys[i].child;
	child = node_new(q);
	n = &q->nodes[at];
	if (n->nkeys == n->capkeys) {
		n->capkeys = n->capkeys ? 2 * n->capkeys : 4;
		n->keys = trig_xrealloc(n->keys, n->capkeys * sizeof(*n->keys));
	}
	n->keys[n->nkeys++] = (struct qkey){ trig_xstrdup(seg->key), len, child };
	return child;
}

static void node_add_sub(struct qnode *n, uint32_t slot)
{
	if (n->nsub == n->capsub) {
		n->capsub = n->capsub ? 2 * n->capsub : 4;
		n->sub = trig_xrealloc(n->sub, n->capsub * sizeof(*n->sub));
	}
	n->sub[n->nsub++] = slot;
}

int trig_json_query_add(struct trig_json_query *q, const struct trig_path_seg *segs,
			unsigned nsegs)
{
	uint32_t path[TRIG_JSON_MAX_DEPTH + 1];

	if (nsegs > TRIG_JSON_MAX_DEPTH)
		return -1;
	for (unsigned i = 0; i < nsegs; i++)
		if (segs[i].index < 0 && !segs[i].key)
			return -1;
	path[0] = 0;
	for (unsigned i = 0; i < nsegs; i++)
		path[i + 1] = node_step(q, path[i], &segs[i]);
	struct qnode *end = &q->nodes[path[nsegs]];
	if (end->slot >= 0)
		return end->slot;
	end->slot = (int)q->nslots++;
	for (unsigned i = 0; i <= nsegs; i++)
		node_add_sub(&q->nodes[path[i]], (uint32_t)end->slot);
	return end->slot;
}

int trig_json_query_add_text(struct trig_json_query *q, const char *text,
			     struct trig_json_error *err)
{
	struct trig_path_seg *segs;
	unsigned nsegs;
	if (trig_json_path_parse(text, &segs, &nsegs, err) < 0)
		return -1;
	int slot = trig_json_query_add(q, segs, nsegs);
	free(segs);
	if (slot < 0)
		return fail(err, 0, "path deeper than %d", TRIG_JSON_MAX_DEPTH);
	return slot;
}

static const struct qnode *key_child(const struct trig_json_query *q, const struct qnode *n,
				     const struct lexer *lx)
{
	const unsigned char *k = lx->tok + 1;
	size_t klen = (size_t)(lx->cur - lx->tok) - 2;

	for (uint32_t i = 0; i < n->nkeys; i++) {
		const struct qkey *e = &n->keys[i];
		if (lx->escaped) {
			if (key_equal_raw(k, k + klen, (const unsigned char *)e->key, e->len))
				return &q->nodes[e->child];
		} else if (e->len == klen && memcmp(e->key, k, klen) == 0) {
			return &q->nodes[e->child];
		}
	}
	return NULL;
}

static const struct qnode *index_child(const struct trig_json_query *q, const struct qnode *n,
				       uint32_t index)
{
	for (uint32_t i = 0; i < n->nidx; i++)
		if (n->idx[i].index == index)
			return &q->nodes[n->idx[i].child];
	return NULL;
}

/* ------------------------------------------------------------ extraction */

/* An open array or object that lies on some path of the query. */
struct frame {
	const struct qnode *node;
	const unsigned char *start;     /* its opening bracket */
	uint32_t index;                 /* array: the current element */
};

enum state {
	ST_VALUE,       /* a value: at the top, or after ':' */
	ST_ARR_FIRST,   /* after '[': a value or ']' */
	ST_ARR_NEXT,    /* after ',' in an array: a value */
	ST_OBJ_FIRST,   /* after '{': a key or '}' */
	ST_OBJ_NEXT,    /* after ',' in an object: a key */
	ST_COLON,       /* after a key */
	ST_AFTER,       /* after a value inside an array or object */
};

static const char *tok_name(enum tok t, const struct lexer *lx, char *buf, size_t n)
{
	switch (t) {
	case T_EOF: return "end of input";
	case T_STRING: return "string";
	case T_NUMBER: return "number";
	case T_TRUE: return "'true'";
	case T_FALSE: return "'false'";
	case T_NULL: return "'null'";
	default:
		snprintf(buf, n, "'%c'", *lx->tok);
		return buf;
	}
}

static int unexpected(const struct lexer *lx, enum tok t, const char *where, const char *hint)
{
	char b[8];
	size_t off = (size_t)((t == T_EOF ? lx->lim : lx->tok) - lx->base);
	return fail(lx->err, off, "unexpected %s %s%s", tok_name(t, lx, b, sizeof(b)),
		    where, hint);
}

static inline void clear_below(const struct qnode *n, struct trig_json_value *slots)
{
	for (uint32_t i = 0; i < n->nsub; i++)
		slots[n->sub[i]] = (struct trig_json_value){ TRIG_JSON_ABSENT, NULL, 0 };
}

static int extract(const struct trig_json_query *q, const char *doc, size_t len,
		   struct trig_json_value *slots, struct trig_json_error *err)
{
	static const char empty[1];
	unsigned char is_obj[TRIG_JSON_MAX_DEPTH];      /* per open level */
	struct frame frames[TRIG_JSON_MAX_DEPTH];       /* levels 0..mdepth-1 */
	unsigned depth = 0, mdepth = 0;
	const struct qnode *pending = NULL;     /* node of the value to come */
	enum state st = ST_VALUE;
	struct lexer lx;
	struct frame *f;

	if (!doc)
		doc = empty, len = 0;
	lx.base = lx.tok = lx.cur = (const unsigned char *)doc;
	lx.lim = lx.base + len;
	lx.escaped = false;
	lx.err = err;
	if (q && q->nslots) {
		clear_below(&q->nodes[0], slots);
		pending = &q->nodes[0];
	}

	for (;;) {
		enum tok t = lex(&lx);
		if (t == T_ERROR)
			return -1;
		switch (st) {
		case ST_ARR_FIRST:
			if (t == T_RBRACK)
				goto close;
			goto value;
		case ST_ARR_NEXT:
			if (t == T_RBRACK)
				return fail(err, (size_t)(lx.tok - lx.base), "trailing comma in an array");
			goto value;
		case ST_VALUE:
		value:
			if (t >= T_NULL && t <= T_STRING) {
				if (pending) {
					clear_below(pending, slots);
					if (pending->slot >= 0)
						slots[pending->slot] = (struct trig_json_value){
							scalar_type[t], (const char *)lx.tok,
							(size_t)(lx.cur - lx.tok) };
					pending = NULL;
				}
				if (depth == 0)
					goto done;
				st = ST_AFTER;
				continue;
			}
			if (t == T_LBRACE || t == T_LBRACK) {
				if (depth == TRIG_JSON_MAX_DEPTH)
					return fail(err, (size_t)(lx.tok - lx.base),
						    "nesting deeper than %d", TRIG_JSON_MAX_DEPTH);
				is_obj[depth++] = t == T_LBRACE;
				if (pending) {
					clear_below(pending, slots);
					frames[mdepth++] = (struct frame){ pending, lx.tok, 0 };
					pending = NULL;
				}
				if (t == T_LBRACE) {
					st = ST_OBJ_FIRST;
				} else {
					st = ST_ARR_FIRST;
					if (mdepth == depth && frames[mdepth - 1].node->nidx)
						pending = index_child(q, frames[mdepth - 1].node, 0);
				}
				continue;
			}
			if (depth == 0)
				return t == T_EOF ? fail(err, len, "empty document")
						  : unexpected(&lx, t, "at the top level", "");
			return unexpected(&lx, t, is_obj[depth - 1] ? "in an object" : "in an array", "");
		case ST_OBJ_FIRST:
			if (t == T_RBRACE)
				goto close;
			/* fall through */
		case ST_OBJ_NEXT:
			if (t == T_STRING) {
				if (mdepth == depth && frames[mdepth - 1].node->nkeys)
					pending = key_child(q, frames[mdepth - 1].node, &lx);
				st = ST_COLON;
				continue;
			}
			if (t == T_RBRACE)
				return fail(err, (size_t)(lx.tok - lx.base), "trailing comma in an object");
			if (t == T_EOF || t == T_RBRACK || t == T_COLON || t == T_COMMA)
				return unexpected(&lx, t, "in an object", "");
			return unexpected(&lx, t, "in an object", ", expected a string key");
		case ST_COLON:
			if (t == T_COLON) {
				st = ST_VALUE;
				continue;
			}
			return unexpected(&lx, t, "after an object key", ", expected ':'");
		case ST_AFTER:
			if (is_obj[depth - 1]) {
				if (t == T_COMMA) {
					st = ST_OBJ_NEXT;
					continue;
				}
				if (t == T_RBRACE)
					goto close;
				return unexpected(&lx, t, "in an object", ", expected ',' or '}'");
			}
			if (t == T_COMMA) {
				st = ST_ARR_NEXT;
				if (mdepth == depth && (f = &frames[mdepth - 1])->node->nidx) {
					if (f->index < UINT32_MAX)
						f->index++;
					pending = index_child(q, f->node, f->index);
				}
				continue;
			}
			if (t == T_RBRACK)
				goto close;
			return unexpected(&lx, t, "in an array", ", expected ',' or ']'");
		}
		continue;
close:
		depth--;
		pending = NULL;
		if (mdepth > depth) {
			f = &frames[--mdepth];
			if (f->node->slot >= 0)
				slots[f->node->slot] = (struct trig_json_value){
					is_obj[depth] ? TRIG_JSON_OBJECT : TRIG_JSON_ARRAY,
					(const char *)f->start, (size_t)(lx.cur - f->start) };
		}
		if (depth == 0)
			goto done;
		st = ST_AFTER;
	}

done:
	/* The document is complete: only white space may follow. */
	for (const unsigned char *p = lx.cur; p < lx.lim; p++)
		if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			return fail(err, (size_t)(p - lx.base), "trailing data after the document");
	return 0;
}

int trig_json_validate(const char *doc, size_t len, struct trig_json_error *err)
{
	return extract(NULL, doc, len, NULL, err);
}

int trig_json_extract(const struct trig_json_query *q, const char *doc, size_t len,
		      struct trig_json_value *slots, struct trig_json_error *err)
{
	return extract(q, doc, len, slots, err);
}

/* ------------------------------------------------------------ values */

int trig_json_string(const struct trig_json_value *v, struct buf *out)
{
	if (!v || v->type == TRIG_JSON_ABSENT || !v->raw)
		return -1;
	if (v->type != TRIG_JSON_STRING) {
		buf_add(out, v->raw, v->len);
		return 0;
	}
	if (v->len < 2 || v->raw[0] != '"' || v->raw[v->len - 1] != '"')
		return -1;

	/* Decoded text is never longer than its JSON form. */
	const unsigned char *p = (const unsigned char *)v->raw + 1;
	const unsigned char *end = (const unsigned char *)v->raw + v->len - 1;
	size_t start = out->len;
	buf_grow(out, v->len);
	unsigned char *o = (unsigned char *)out->data + out->len;
	while (p < end) {
		const unsigned char *bs = memchr(p, '\\', (size_t)(end - p));
		if (!bs)
			bs = end;
		memcpy(o, p, (size_t)(bs - p));
		o += bs - p;
		p = bs;
		if (p == end)
			break;
		int n = unescape(&p, end, o);
		if (n < 0) {
			out->len = start;
			out->data[start] = 0;
			return -1;
		}
		o += n;
	}
	out->len = (size_t)(o - (unsigned char *)out->data);
	out->data[out->len] = 0;
	return 0;
}

bool trig_json_key_equal(const struct trig_json_value *v, const char *key, size_t keylen)
{
	if (!v || v->type != TRIG_JSON_STRING || !v->raw || v->len < 2)
		return false;
	const unsigned char *p = (const unsigned char *)v->raw;
	return key_equal_raw(p + 1, p + v->len - 1, (const unsigned char *)key, keylen);
}

/* ------------------------------------------------------------ path text */

/*
 * One pass over a path text.  Counting pass: segs and strs are NULL; the
 * number of segments and the bytes their keys need (with NULs) are stored.
 * Filling pass: the same walk writes the segments and keys.
 */
static int path_walk(const char *text, struct trig_path_seg *segs, char *strs,
		     unsigned *nsegs, size_t *nbytes, struct trig_json_error *err)
{
	const unsigned char *p = (const unsigned char *)text;
	const unsigned char *t0 = p;
	size_t bytes = 0;
	unsigned n = 0;
	unsigned char u[4];

#define PATH_FAIL(at, ...) fail(err, (size_t)((at) - t0), __VA_ARGS__)
#define PUT(c) do { char c_ = (char)(c); if (strs) strs[bytes] = c_; bytes++; } while (0)

	if (*p == 0)
		goto done;
	for (;;) {
		int32_t index = -1;
		size_t kstart = bytes;

		if (n == TRIG_JSON_MAX_DEPTH)
			return PATH_FAIL(p, "path deeper than %d", TRIG_JSON_MAX_DEPTH);
		if (*p == '[' && p[1] == '"') {
			/* A JSON string: find its end, then decode it. */
			const unsigned char *s = p + 2, *e = s;
			while (*e && *e != '"')
				e += (*e == '\\' && e[1]) ? 2 : 1;
			if (*e != '"')
				return PATH_FAIL(p, "unterminated key in '[\"...\"]'");
			while (s < e) {
				if (*s < 0x20)
					return PATH_FAIL(s, "control character in a key");
				if (*s != '\\') {
					PUT(*s);
					s++;
					continue;
				}
				const unsigned char *es = s;
				int k = unescape(&s, e, u);
				if (k < 0) {
					char what[16];
					return PATH_FAIL(es, "invalid escape '%s' in a key",
							 show(what, sizeof(what), es,
							      es[1] == 'u' ? (size_t)(e - es < 6 ? e - es : 6) : 2));
				}
				for (int i = 0; i < k; i++) {
					if (u[i] == 0)
						return PATH_FAIL(es, "NUL character in a key");
					PUT(u[i]);
				}
			}
			p = e + 1;
			if (*p != ']')
				return PATH_FAIL(p, "expected ']' after a quoted key");
			p++;
		} else if (*p == '[') {
			const unsigned char *d = ++p;
			uint32_t v = 0;
			if (*p < '0' || *p > '9')
				return PATH_FAIL(p, "expected an index or a quoted key after '['");
			while (*p >= '0' && *p <= '9') {
				v = v * 10 + (uint32_t)(*p - '0');
				if (v > INT32_MAX)
					return PATH_FAIL(d, "index too large");
				p++;
			}
			if (*d == '0' && p - d > 1)
				return PATH_FAIL(d, "index with a leading zero");
			if (*p != ']')
				return PATH_FAIL(p, "expected ']' after an index");
			p++;
			index = (int32_t)v;
		} else {
			const unsigned char *k0 = p;
			while (*p && *p != '.' && *p != '[') {
				if (*p == '\\') {
					if (p[1] != '.' && p[1] != '[' && p[1] != '\\') {
						char what[16];
						return PATH_FAIL(p, "invalid escape '%s' in a path",
								 show(what, sizeof(what), p, p[1] ? 2 : 1));
					}
					p++;
				}
				PUT(*p);
				p++;
			}
			if (p == k0)
				return PATH_FAIL(p, "empty key in a path");
		}
		if (index < 0)
			PUT(0);
		if (segs) {
			segs[n].index = index;
			segs[n].key = index < 0 ? strs + kstart : NULL;
		}
		n++;
		if (*p == 0)
			break;
		if (*p == '.') {
			p++;
			if (*p == 0 || *p == '.' || *p == '[')
				return PATH_FAIL(p, "empty key in a path");
		} else if (*p != '[') {
			return PATH_FAIL(p, "expected '.' or '[' after ']'");
		}
	}
done:
	*nsegs = n;
	*nbytes = bytes;
	return 0;
#undef PATH_FAIL
#undef PUT
}

int trig_json_path_parse(const char *text, struct trig_path_seg **segs, unsigned *nsegs,
			 struct trig_json_error *err)
{
	size_t nbytes;
	unsigned n;

	*segs = NULL;
	*nsegs = 0;
	if (path_walk(text, NULL, NULL, &n, &nbytes, err) < 0)
		return -1;
	if (n == 0)
		return 0;
	struct trig_path_seg *s = malloc(n * sizeof(*s) + nbytes);
	if (!s)
		return fail(err, 0, "out of memory");
	if (path_walk(text, s, (char *)(s + n), &n, &nbytes, err) < 0) {
		free(s);
		return -1;
	}
	*segs = s;
	*nsegs = n;
	return 0;
}
