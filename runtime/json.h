/*
 * json.h — strict JSON (RFC 8259) validation and one-pass path extraction.
 *
 * The runtime never builds a DOM.  trig_json_extract() scans a document
 * once, validating every byte of it, and records where the values of a
 * precompiled set of paths (struct trig_json_query, a trie over keys and
 * array indexes) lie inside the document.  The values are spans that borrow
 * the document; trig_json_string() decodes one when its text is needed.
 *
 * Strictness: exactly one JSON text (any value at the top level, surrounded
 * by optional space, tab, CR and LF); strings must be valid UTF-8 (no
 * overlong forms, no surrogates encoded in UTF-8, nothing above U+10FFFF)
 * with no raw control characters; numbers follow the RFC grammar; nesting is
 * limited to TRIG_JSON_MAX_DEPTH arrays/objects.  Documents may contain NUL
 * bytes: nothing relies on NUL termination and nothing reads outside
 * [doc, doc + len).
 *
 * What is done with the "implementation defined" cases of JSONTestSuite
 * (the i_*.json files; tests/unit/test_json.c asserts each one):
 *   - numbers too big or too small for a double (i_number_*): accepted; a
 *     number is kept as its text, never converted here;
 *   - escaped lone or mismatched surrogates (\uD800, \uDFAA, \uD800\u0041...,
 *     i_string_*surrogate*, i_object_key_lone_2nd_surrogate): accepted, as
 *     the RFC grammar allows them; trig_json_string() decodes each unpaired
 *     surrogate to U+FFFD;
 *   - raw bytes that are not UTF-8 (invalid sequences, Latin-1, overlong
 *     forms, encoded surrogates, code points above U+10FFFF, truncated
 *     sequences, UTF-16 with or without a BOM): rejected;
 *   - a UTF-8 byte order mark (i_structure_UTF-8_BOM_empty_object): rejected
 *     (RFC 8259 §8.1: senders must not add one);
 *   - 500 nested arrays (i_structure_500_nested_arrays): rejected, deeper
 *     than TRIG_JSON_MAX_DEPTH.
 *
 * Duplicate keys: the last occurrence wins, as in most parsers (Python,
 * JavaScript).  For {"a": {"b": 1}, "a": 2} the path a.b is absent and a is
 * the number 2: entering a value clears everything recorded below it.
 *
 * Keys are compared after decoding: the document key "a\u0062" matches the
 * path key "ab".  A path key cannot contain NUL, so a document key holding
 * \u0000 never matches.
 *
 * Memory and threads: a query is built by one thread (trig_json_query_new,
 * _add) and is then read-only; any number of threads may run
 * trig_json_extract() on it at once.  Extraction allocates nothing: its
 * state lives on the C stack (a few KiB, bounded by TRIG_JSON_MAX_DEPTH,
 * never proportional to the input).  All other functions are reentrant.
 */
#ifndef TRIG_JSON_H
#define TRIG_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "trig.h"

struct buf;

/* Arrays and objects nested deeper than this are an error. */
#define TRIG_JSON_MAX_DEPTH 256

enum trig_json_type {
	TRIG_JSON_ABSENT,       /* the path is not in the document */
	TRIG_JSON_NULL,
	TRIG_JSON_FALSE,
	TRIG_JSON_TRUE,
	TRIG_JSON_NUMBER,
	TRIG_JSON_STRING,
	TRIG_JSON_ARRAY,
	TRIG_JSON_OBJECT,
};

/* A value inside a document: raw points into the document (borrowed) and
 * spans the value's text exactly: a string with its quotes, an array or an
 * object from its opening to its closing bracket.  ABSENT: raw NULL, len 0. */
struct trig_json_value {
	enum trig_json_type type;
	const char *raw;
	size_t len;
};

/* Why a document (or a path text) was refused: the byte offset of the
 * problem (the document's length for an unexpected end) and a message such
 * as "unexpected ']' in an object". */
struct trig_json_error {
	size_t offset;
	char msg[96];
};

/* "null", "string", ...; "absent" for TRIG_JSON_ABSENT. */
const char *trig_json_type_name(enum trig_json_type type);

/*
 * Returns 0 if doc[0..len) is exactly one valid JSON text, else -1 and, when
 * err is not NULL, fills it.  doc may be NULL when len is 0.
 */
int trig_json_validate(const char *doc, size_t len, struct trig_json_error *err);

/* ------------------------------------------------------------ queries */

struct trig_json_query;

/* An empty query; never NULL (allocation failure is fatal, trig_oom). */
struct trig_json_query *trig_json_query_new(void);

/*
 * Adds a path (segs[i].index < 0: the key segs[i].key; else the array index
 * segs[i].index) and returns its slot number, 0, 1, 2... in order of first
 * addition; adding an equal path again returns the same slot.  nsegs == 0 is
 * the whole document.  The keys are copied (allocation failure is fatal).
 * Returns -1 (and adds nothing) for a key segment whose key is NULL or for
 * nsegs > TRIG_JSON_MAX_DEPTH.
 */
int trig_json_query_add(struct trig_json_query *q, const struct trig_path_seg *segs,
			unsigned nsegs);

/* trig_json_path_parse() then trig_json_query_add(): the slot, or -1 with
 * err filled (err may be NULL). */
int trig_json_query_add_text(struct trig_json_query *q, const char *text,
			     struct trig_json_error *err);

/* The number of slots: the length of the array trig_json_extract fills. */
unsigned trig_json_query_slots(const struct trig_json_query *q);

void trig_json_query_free(struct trig_json_query *q);

/*
 * Validates the whole of doc[0..len) strictly, in one pass, and fills
 * slots[0 .. trig_json_query_slots(q)) with the value of each path
 * (TRIG_JSON_ABSENT where the document does not have it).  Key segments
 * match only object members, index segments only array elements.  Returns
 * 0, or -1 with err filled (when not NULL); the slots are then unspecified.
 * q == NULL is the empty query.  The values borrow doc.
 */
int trig_json_extract(const struct trig_json_query *q, const char *doc, size_t len,
		      struct trig_json_value *slots, struct trig_json_error *err);

/* ------------------------------------------------------------ values */

/*
 * Appends the text of v to out: a string decoded to UTF-8 (every escape;
 * surrogate pairs combined; an unpaired surrogate becomes U+FFFD; \u0000
 * becomes a NUL byte, so use out->len), anything else as its raw JSON text
 * (numbers, true, false, null, arrays and objects as written).  Returns 0,
 * or -1 for an absent value or a string that is not well formed (only
 * possible for a value that did not come from a successful extraction).
 */
int trig_json_string(const struct trig_json_value *v, struct buf *out);

/* Whether the string value v decodes to exactly key[0..keylen). */
bool trig_json_key_equal(const struct trig_json_value *v, const char *key, size_t keylen);

/* ------------------------------------------------------------ path text */

/*
 * Parses a path written as in trigger definitions, after its root:
 *     a.b[0].c            keys separated by dots, [N] for array indexes
 *     data\.x.y           a backslash escapes '.', '[' and '\' in a key
 *     data["valohai.execution-step"]   a bracketed JSON string (with JSON
 *                         escapes; \u0000 is refused) is one key
 * The empty text is the whole document (0 segments).  On success returns 0
 * and stores in *segs one malloc()ed block holding the segments and their
 * key strings; the caller frees it with free(*segs) (NULL when *nsegs is 0).
 * On error returns -1, *segs = NULL, and fills err (when not NULL) with the
 * offset in text and a message.
 *
 * This function uses only libc (no other part of the runtime), so that the
 * compiler can parse the same syntax at build time.
 */
int trig_json_path_parse(const char *text, struct trig_path_seg **segs, unsigned *nsegs,
			 struct trig_json_error *err);

#endif
