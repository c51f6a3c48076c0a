/*
 * trig.re — the re2c lexer of the .trig language.
 *
 * Tokens are defined in GRAMMAR.md ("Tokens"); the parser is trig.y.  The
 * lexer reads a whole file held in memory: the source text is followed by a
 * NUL (struct source guarantees it) that serves as re2c's sentinel with
 * bounds checks (re2c:eof), so NUL bytes inside the text are ordinary
 * (rejected) characters and the lexer never reads past the buffer.
 *
 * Besides cutting tokens it
 *   - decodes strings (JSON escapes; invalid UTF-8, raw control characters
 *     and unterminated strings are errors) and regular expressions, which
 *     are recognised only right after the key `matches` (the keyword, or
 *     the string "matches");
 *   - joins the multi-word keywords (`run execution`, `not in`, ...);
 *   - turns newlines and ';' into NL tokens, except inside [ ] and ( ),
 *     collapsing runs of them and dropping those right after '{' or ',';
 *   - counts brackets: more than DSL_MAX_DEPTH levels is an error, and a
 *     '}' closes whatever '[' or '(' is still open inside its block;
 *   - after an error, skips the rest of the broken statement (brackets
 *     balanced) and hands the parser the NL, ',' or '}' that ends it, so
 *     that each statement yields at most one diagnostic.
 *
 * Lexical errors are reported here with rule "syntax"; the parser then
 * receives T_YYerror and recovers without a message of its own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trig_parse.h"

typedef unsigned char uchar;

/*!re2c
	re2c:yyfill:enable = 0;
	re2c:eof = 0;
	re2c:define:YYCTYPE = "uchar";
	re2c:define:YYCURSOR = "cur";
	re2c:define:YYLIMIT = "lim";
	re2c:define:YYMARKER = "mar";

	u8      = [\xc2-\xdf][\x80-\xbf]
		| "\xe0"[\xa0-\xbf][\x80-\xbf]
		| [\xe1-\xec\xee\xef][\x80-\xbf]{2}
		| "\xed"[\x80-\x9f][\x80-\xbf]
		| "\xf0"[\x90-\xbf][\x80-\xbf]{2}
		| [\xf1-\xf3][\x80-\xbf]{3}
		| "\xf4"[\x80-\x8f][\x80-\xbf]{2};
	hex     = [0-9A-Fa-f];
	word    = [A-Za-z_] ([A-Za-z0-9_-]* [A-Za-z0-9_])?;
	segc    = [A-Za-z0-9_*] | "\\.";
	seg     = segc ((segc | "-")* segc)?;
	qchar   = [\x20\x21\x23-\x5b\x5d-\x7e] | "\\" ["\\] | u8;
	index   = "[" [0-9]+ "]" | "[\"" qchar* "\"]";
	path    = word ("." seg | index)+;
	num     = [0-9]+ ("." [0-9]+)?;
	number  = "-"? num ([A-Za-z]+ num?)*;
*/

/* ------------------------------------------------------------ helpers */

void lexer_init(struct lexer *lx, const char *text, size_t len, uint32_t file,
		struct arena *a, struct diag *d)
{
	memset(lx, 0, sizeof(*lx));
	lx->base = lx->cur = lx->tok = lx->line_start = (const uchar *)text;
	lx->lim = (const uchar *)text + len;
	lx->file = file;
	lx->line = 1;
	lx->a = a;
	lx->d = d;
	lx->last = T_NL;                /* the file starts a statement */
	/* A file may start with a byte order mark, as YAML files may (editors
	 * write one); columns still count its bytes.  Not when probing a
	 * scalar's text (no arena): there it is part of the text. */
	if (a && len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		lx->cur = lx->tok = lx->base + 3;
}

void lexer_release(struct lexer *lx)
{
	free(lx->sb);
	lx->sb = NULL;
	lx->sb_len = lx->sb_cap = 0;
}

static struct loc span(const struct lexer *lx, const uchar *from, const uchar *to)
{
	return (struct loc){ lx->file, lx->line, (uint32_t)(from - lx->line_start) + 1,
			     (uint32_t)(to - from) };
}

__attribute__((format(printf, 3, 4)))
static void lex_error(struct lexer *lx, struct loc loc, const char *fmt, ...)
{
	lx->failed = true;
	if (!lx->d || lx->skip)
		return;
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(lx->d, loc, "syntax", "%s", msg);
}

static void sb_add(struct lexer *lx, const void *s, size_t n)
{
	if (!lx->a)
		return;
	if (lx->sb_len + n + 1 > lx->sb_cap) {
		size_t cap = lx->sb_cap ? lx->sb_cap : 64;
		while (cap < lx->sb_len + n + 1)
			cap *= 2;
		char *nb = realloc(lx->sb, cap);
		if (!nb) {
			fputs("trigc: out of memory\n", stderr);
			exit(3);
		}
		lx->sb = nb;
		lx->sb_cap = cap;
	}
	memcpy(lx->sb + lx->sb_len, s, n);
	lx->sb_len += n;
}

static void sb_utf8(struct lexer *lx, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	sb_add(lx, b, n);
}

static uint32_t hex4(const uchar *s)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		uchar c = s[i];
		v = v << 4 | (uint32_t)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return v;
}

/* A scalar for the token [tok, cur) with text TEXT; no-op in probe mode. */
static struct tree *scalar(struct lexer *lx, const uchar *tok, const uchar *cur,
			   const char *text, size_t len, enum tree_style style)
{
	if (!lx->a)
		return NULL;
	struct loc l = span(lx, tok, cur);
	struct tree *t = tree_scalar(lx->a, l, text, len, style);
	t->u.scalar.text_loc = l;
	t->u.scalar.exact = true;
	return t;
}

/* ------------------------------------------------------------ keywords */

static const struct keyword {
	const char *word;
	int token;
} keywords[] = {
	{ "backend", T_BACKEND }, { "import", T_IMPORT }, { "step", T_STEP },
	{ "pipeline", T_PIPELINE }, { "trigger", T_TRIGGER },
	{ "parameter", T_PARAMETER }, { "input", T_INPUT },
	{ "environment", T_ENVIRONMENT }, { "header", T_HEADER },
	{ "node", T_NODE }, { "edge", T_EDGE },
	{ "webhook", T_WEBHOOK }, { "on", T_ON }, { "http", T_HTTP },
	{ "respond", T_RESPOND },
	{ "when", T_WHEN }, { "any", T_ANY }, { "all", T_ALL }, { "not", T_NOT },
	{ "in", T_IN }, { "matches", T_MATCHES }, { "glob", T_GLOB },
	{ "contains", T_CONTAINS }, { "exists", T_EXISTS }, { "as", T_AS },
	{ "env", T_ENV }, { "file", T_FILE }, { "jwks-file", T_JWKS_FILE },
	{ "jwks-url", T_JWKS_URL },
	{ "GET", T_METHOD }, { "POST", T_METHOD }, { "PUT", T_METHOD },
	{ "PATCH", T_METHOD }, { "DELETE", T_METHOD }, { "HEAD", T_METHOD },
	{ "OPTIONS", T_METHOD },
};

static int keyword(const uchar *s, size_t n)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (strlen(keywords[i].word) == n && memcmp(keywords[i].word, s, n) == 0)
			return keywords[i].token;
	return T_WORD;
}

static const struct multiword {
	const char *first, *second;
	int token;
} multiwords[] = {
	{ "run", "execution", T_RUN_EXECUTION }, { "run", "pipeline", T_RUN_PIPELINE },
	{ "copy", "pipeline", T_COPY_PIPELINE }, { "fetch", "repository", T_FETCH_REPOSITORY },
	{ "rate", "limit", T_RATE_LIMIT }, { "not", "in", T_NOT_IN },
	{ "not", "exists", T_NOT_EXISTS },
};

/* [tok, cur) is "FIRST<blanks>SECOND": the keyword's token, or 0; *FIRST_LEN
 * is the length of the first word either way. */
static int multiword(const uchar *tok, const uchar *cur, size_t *first_len)
{
	const uchar *p = tok;
	while (*p != ' ' && *p != '\t')
		p++;
	*first_len = (size_t)(p - tok);
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n2 = (size_t)(cur - p);
	for (size_t i = 0; i < sizeof(multiwords) / sizeof(multiwords[0]); i++) {
		const struct multiword *m = &multiwords[i];
		if (strlen(m->first) == *first_len && memcmp(m->first, tok, *first_len) == 0 &&
		    strlen(m->second) == n2 && memcmp(m->second, p, n2) == 0)
			return m->token;
	}
	return 0;
}

/* ------------------------------------------------------------ sub-lexers */

/* Skips a comment after its '#' up to (not over) the end of the line. */
static const uchar *comment(struct lexer *lx, const uchar *cur)
{
	const uchar *lim = lx->lim, *mar, *s;
	bool reported = false;
	for (;;) {
		s = cur;
		/*!local:re2c
		([\x01-\x09\x0b-\x7f] | u8)+	{ continue; }
		"\n"				{ return s; }
		$				{ return s; }
		"\x00"	{
			if (!reported)
				lex_error(lx, span(lx, s, cur), "NUL byte in a comment");
			reported = true;
			continue;
		}
		*	{
			if (!reported)
				lex_error(lx, span(lx, s, cur), "invalid UTF-8 in a comment");
			reported = true;
			continue;
		}
		*/
	}
}

/*
 * A string after its opening quote at TOK.  Returns T_STRING, or T_YYerror
 * after reporting the first fault; either way *PCUR is past the closing
 * quote, or at the end of the line when there is none.
 */
static int string(struct lexer *lx, const uchar *tok, const uchar **pcur, YYSTYPE *val)
{
	const uchar *cur = *pcur, *lim = lx->lim, *mar, *s;
	bool bad = false, exact = true;
	lx->sb_len = 0;
#define FAULT(...) do { if (!bad) lex_error(lx, __VA_ARGS__); bad = true; } while (0)
	for (;;) {
		s = cur;
		/*!local:re2c
		"\""				{ break; }
		([\x20\x21\x23-\x5b\x5d-\x7f\t] | u8)+	{ sb_add(lx, s, (size_t)(cur - s)); continue; }
		"\\" ["\\/]			{ sb_add(lx, s + 1, 1); exact = false; continue; }
		"\\b"				{ sb_add(lx, "\b", 1); exact = false; continue; }
		"\\f"				{ sb_add(lx, "\f", 1); exact = false; continue; }
		"\\n"				{ sb_add(lx, "\n", 1); exact = false; continue; }
		"\\r"				{ sb_add(lx, "\r", 1); exact = false; continue; }
		"\\t"				{ sb_add(lx, "\t", 1); exact = false; continue; }
		"\\u" hex{4} "\\u" hex{4}	{
			uint32_t hi = hex4(s + 2), lo = hex4(s + 8);
			exact = false;
			if (hi >= 0xd800 && hi < 0xdc00 && lo >= 0xdc00 && lo < 0xe000) {
				sb_utf8(lx, 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00));
				continue;
			}
			if (hi >= 0xd800 && hi < 0xe000) {
				FAULT(span(lx, s, s + 6), "invalid escape '%.6s' in a string: "
				      "a lone UTF-16 surrogate", (const char *)s);
				continue;
			}
			sb_utf8(lx, hi);
			cur = s + 6;            /* the second escape on its own */
			continue;
		}
		"\\u" hex{4}			{
			uint32_t cp = hex4(s + 2);
			exact = false;
			if (cp >= 0xd800 && cp < 0xe000)
				FAULT(span(lx, s, cur), "invalid escape '%.6s' in a string: "
				      "a lone UTF-16 surrogate", (const char *)s);
			else
				sb_utf8(lx, cp);
			continue;
		}
		"\\u"				{
			FAULT(span(lx, s, cur), "invalid escape '\\u' in a string: "
			      "four hex digits must follow");
			continue;
		}
		"\\" [\x21-\x7e]		{
			FAULT(span(lx, s, cur), "invalid escape '%.2s' in a string",
			      (const char *)s);
			continue;
		}
		"\\"				{
			FAULT(span(lx, s, cur), "invalid escape in a string");
			continue;
		}
		"\r"? "\n"			{ cur = s; goto unterminated; }
		$				{ cur = s; goto unterminated; }
		"\x00"				{
			FAULT(span(lx, s, cur), "NUL byte in a string; write it as \\u0000");
			continue;
		}
		[\x01-\x1f]			{
			FAULT(span(lx, s, cur), "control character 0x%02x in a string; "
			      "write it as \\u%04x", *s, *s);
			continue;
		}
		*				{
			FAULT(span(lx, s, cur), "invalid UTF-8 in a string");
			continue;
		}
		*/
	}
	*pcur = cur;
	if (bad)
		return T_YYerror;
	val->t = scalar(lx, tok, cur, lx->sb ? lx->sb : "", lx->sb_len, STYLE_QUOTED);
	if (val->t) {
		val->t->u.scalar.text_loc = span(lx, tok + 1, cur - 1);
		val->t->u.scalar.exact = exact;
	}
	return T_STRING;
unterminated:
	*pcur = cur;
	FAULT(span(lx, tok, cur), "unterminated string");
	return T_YYerror;
#undef FAULT
}

/*
 * A regular expression after its opening '/' at TOK.  `\/` stands for a
 * slash; every other backslash pair is kept as it is, for the regex
 * compiler.  Like string().
 */
static int regex(struct lexer *lx, const uchar *tok, const uchar **pcur, YYSTYPE *val)
{
	const uchar *cur = *pcur, *lim = lx->lim, *mar, *s;
	bool bad = false, exact = true;
	lx->sb_len = 0;
#define FAULT(...) do { if (!bad) lex_error(lx, __VA_ARGS__); bad = true; } while (0)
	for (;;) {
		s = cur;
		/*!local:re2c
		"/"				{ break; }
		"\\/"				{ sb_add(lx, "/", 1); exact = false; continue; }
		([\x20-\x2e\x30-\x5b\x5d-\x7f\t] | u8 | "\\" ([\x20-\x2e\x30-\x7f\t] | u8))+
						{ sb_add(lx, s, (size_t)(cur - s)); continue; }
		"\r"? "\n"			{ cur = s; goto unterminated; }
		$				{ cur = s; goto unterminated; }
		"\\"				{ sb_add(lx, s, 1); continue; }
		"\x00"				{
			FAULT(span(lx, s, cur), "NUL byte in a regular expression");
			continue;
		}
		[\x01-\x1f]			{
			FAULT(span(lx, s, cur), "control character 0x%02x in a regular expression",
			      *s);
			continue;
		}
		*				{
			FAULT(span(lx, s, cur), "invalid UTF-8 in a regular expression");
			continue;
		}
		*/
	}
	*pcur = cur;
	if (bad)
		return T_YYerror;
	val->t = scalar(lx, tok, cur, lx->sb ? lx->sb : "", lx->sb_len, STYLE_REGEX);
	if (val->t) {
		val->t->u.scalar.text_loc = span(lx, tok + 1, cur - 1);
		val->t->u.scalar.exact = exact;
	}
	return T_REGEX;
unterminated:
	*pcur = cur;
	FAULT(span(lx, tok, cur), "unterminated regular expression");
	return T_YYerror;
#undef FAULT
}

/* ------------------------------------------------------------ tokens */

/*
 * Scans one raw token: every newline and ';' is an NL here.  Sets
 * lx->tok and lx->cur around it, *VAL (scalars) and *LOC.
 */
static int scan(struct lexer *lx, YYSTYPE *val, YYLTYPE *loc)
{
	const uchar *cur = lx->cur, *lim = lx->lim, *mar, *tok;
	int t;
	val->t = NULL;
	for (;;) {
		tok = cur;
		/*!local:re2c
		[ \t\r\v\f]+			{ continue; }
		"#"				{ cur = comment(lx, cur); continue; }
		"\n"				{ t = T_NL; goto done; }
		";"				{ t = T_NL; goto done; }

		("run" | "copy" | "fetch" | "rate" | "not") [ \t]+ (word | path) {
			size_t first;
			t = multiword(tok, cur, &first);
			if (t)
				goto done;
			cur = tok + first;
			t = keyword(tok, first);
			goto value;
		}
		word				{ t = keyword(tok, (size_t)(cur - tok)); goto value; }
		path				{ t = T_PATH; goto value; }
		number				{ t = T_NUMBER; goto value; }
		"~"				{ t = T_TILDE; goto value; }
		"\""				{ t = string(lx, tok, &cur, val); goto done; }
		"/"	{
			if (lx->regex_ok) {
				t = regex(lx, tok, &cur, val);
				goto done;
			}
			lex_error(lx, span(lx, tok, cur), "unexpected '/': a regular expression "
				  "may only follow 'matches'");
			t = T_YYerror;
			goto done;
		}
		"->"				{ t = T_ARROW; goto done; }
		"=="				{ t = T_EQ; goto done; }
		"!="				{ t = T_NE; goto done; }
		[{}()[\],=:<>]			{ t = *tok; goto done; }
		"'"	{
			lex_error(lx, span(lx, tok, cur), "unexpected \"'\": strings are written "
				  "in double quotes");
			t = T_YYerror;
			goto done;
		}
		"\x00"	{
			lex_error(lx, span(lx, tok, cur), "unexpected NUL byte");
			t = T_YYerror;
			goto done;
		}
		[\x01-\x1f\x7f]	{
			lex_error(lx, span(lx, tok, cur), "unexpected control character 0x%02x", *tok);
			t = T_YYerror;
			goto done;
		}
		u8	{
			lex_error(lx, span(lx, tok, cur), "unexpected character '%.*s'",
				  (int)(cur - tok), (const char *)tok);
			t = T_YYerror;
			goto done;
		}
		[\x21-\x7e]	{
			lex_error(lx, span(lx, tok, cur), "unexpected character '%c'", *tok);
			t = T_YYerror;
			goto done;
		}
		*	{
			lex_error(lx, span(lx, tok, cur), "invalid UTF-8 byte 0x%02x", *tok);
			t = T_YYerror;
			goto done;
		}
		$	{
			t = T_YYEOF;
			goto done;
		}
		*/
	}
value:
	val->t = scalar(lx, tok, cur, (const char *)tok, (size_t)(cur - tok), STYLE_PLAIN);
done:
	lx->tok = tok;
	lx->cur = cur;
	/* A regex may follow the key `matches`, bare or quoted. */
	lx->regex_ok = t == T_MATCHES || (t == T_STRING && lx->sb_len == 7 &&
					  memcmp(lx->sb, "matches", 7) == 0);
	*loc = span(lx, tok, cur);
	if (t == T_YYEOF && tok == lx->line_start && tok > lx->base) {
		/* After a final newline: point at the end of the last line,
		 * which is where source.h's line map puts it. */
		const uchar *ls = tok - 1;
		while (ls > lx->base && ls[-1] != '\n')
			ls--;
		*loc = (struct loc){ lx->file, lx->line - 1, (uint32_t)(tok - 1 - ls) + 1, 0 };
	}
	if (t == T_NL && *tok == '\n') {
		loc->len = 0;
		lx->line++;
		lx->line_start = cur;
	}
	return t;
}

/* ------------------------------------------------------------ brackets */

static bool inside_list(const struct lexer *lx)
{
	return lx->depth > DSL_MAX_DEPTH ||
	       (lx->depth > 0 && lx->open[lx->depth - 1] != '{');
}

/* The depth of the statement list that encloses depth DEPTH: the level
 * of the innermost '{' below it, or 0 for the top level. */
static unsigned statement_depth(const struct lexer *lx, unsigned depth)
{
	unsigned d = depth < DSL_MAX_DEPTH ? depth : DSL_MAX_DEPTH;
	while (d > 0 && lx->open[d - 1] != '{')
		d--;
	return d;
}

static void start_skip(struct lexer *lx, unsigned depth)
{
	lx->skip = true;
	lx->skip_depth = statement_depth(lx, depth);
}

void lexer_recover(struct lexer *lx)
{
	int t = lx->last;
	if (t == T_YYEOF || t == T_NL || (t == '}' && lx->popped_brace))
		return;
	if (t == ',' && lx->depth == lx->tok_depth && !inside_list(lx))
		return;
	start_skip(lx, lx->tok_depth);
}

/*
 * The parser's token source: raw tokens with bracket bookkeeping, newline
 * filtering and, after an error, the skipping of the broken statement.
 */
int yylex(YYSTYPE *val, YYLTYPE *loc, struct parser *p)
{
	struct lexer *lx = &p->lx;
	for (;;) {
		unsigned before = lx->depth;
		bool popped = false;
		int t = scan(lx, val, loc);
		switch (t) {
		case '{':
		case '[':
		case '(':
			if (lx->depth < DSL_MAX_DEPTH)
				lx->open[lx->depth] = (unsigned char)t;
			lx->depth++;
			if (lx->depth == DSL_MAX_DEPTH + 1 && !lx->skip) {
				lex_error(lx, *loc, "brackets nested too deeply (the limit is %d)",
					  DSL_MAX_DEPTH);
				t = T_YYerror;
			}
			break;
		case '}':
			if (lx->depth > DSL_MAX_DEPTH) {
				lx->depth--;
			} else {
				unsigned d = lx->depth;
				while (d > 0 && lx->open[d - 1] != '{')
					d--;
				if (d > 0) {
					lx->depth = d - 1;
					popped = true;
				}
			}
			break;
		case ']':
		case ')':
			if (lx->depth > DSL_MAX_DEPTH ||
			    (lx->depth > 0 && lx->open[lx->depth - 1] == (t == ']' ? '[' : '(')))
				lx->depth--;
			break;
		case T_NL:
			if (inside_list(lx))
				continue;
			if (!lx->skip && (lx->last == T_NL || lx->last == '{' || lx->last == ','))
				continue;
			break;
		default:
			break;
		}
		if (lx->skip) {
			bool end = t == T_YYEOF ||
				   ((t == T_NL || t == ',') && lx->depth == lx->skip_depth) ||
				   (t == '}' && lx->depth < lx->skip_depth);
			if (!end)
				continue;
			lx->skip = false;
		} else if (t == T_YYerror) {
			start_skip(lx, before);
		}
		lx->tok_depth = before;
		lx->popped_brace = popped;
		lx->last = t;
		return t;
	}
}

/* ------------------------------------------------------------ probing */

int dsl_probe(const char *text, size_t len)
{
	char small[128], *copy = NULL;
	const char *s = text;
	if (len < sizeof(small)) {
		memcpy(small, text, len);
		small[len] = 0;
		s = small;
	} else {
		copy = malloc(len + 1);
		if (!copy) {
			fputs("trigc: out of memory\n", stderr);
			exit(3);
		}
		memcpy(copy, text, len);
		copy[len] = 0;
		s = copy;
	}
	struct lexer lx;
	lexer_init(&lx, s, len, 0, NULL, NULL);
	YYSTYPE val;
	YYLTYPE loc;
	int t = scan(&lx, &val, &loc);
	bool one = !lx.failed && lx.tok == (const uchar *)s && lx.cur == (const uchar *)s + len;
	free(copy);
	if (!one || t == T_YYEOF || t == T_YYerror || t == T_STRING || t == T_REGEX)
		return 0;
	return t;
}
