/*
 * regex.h — the regular expressions of `matches` filters, translated for
 * re2c.
 *
 * The dialect is POSIX extended regular expressions (regex(7)), searched
 * anywhere in the value, as grep -E does, with the escapes people write
 * out of habit:
 *
 *   a b \.          literal bytes (any byte may be escaped: \. \* \/ \\ ...)
 *   .               any byte (newlines included)
 *   [a-z_] [^0-9]   bracket expressions, with ranges and the classes
 *                   [:alpha:] [:digit:] [:alnum:] [:upper:] [:lower:]
 *                   [:space:] [:punct:] [:xdigit:] [:blank:] [:cntrl:]
 *                   [:print:] [:graph:]
 *   \d \w \s        [0-9], [A-Za-z0-9_], [ \t\n\v\f\r]; \D \W \S negate
 *   \n \t \r        newline, tab, carriage return
 *   * + ? {m} {m,} {m,n}   repetition (m, n <= 255)
 *   | ( )           alternation, grouping
 *   ^ at the start, $ at the end of the whole expression: anchors
 *
 * Matching is bytewise (UTF-8 text is matched as its bytes, as in the C
 * locale).  What is not supported is an error with its offset: anchors
 * elsewhere, back-references, empty alternatives or groups, an unclosed
 * bracket or group, a repetition with nothing to repeat, bounds out of
 * order.
 */
#ifndef TRIGC_REGEX_H
#define TRIGC_REGEX_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

struct regex_re2c {
	char *re;               /* the re2c regular expression (search form) */
	bool anchored_end;      /* $: the match must end at the end of the value */
};

/* Translates ERE.  0, or -1 with the byte offset of the problem and a
 * message. */
int regex_to_re2c(struct arena *a, const char *ere, struct regex_re2c *out, size_t *err_off,
		  char *msg, size_t msglen);

#endif
