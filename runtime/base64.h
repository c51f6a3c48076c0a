/*
 * base64.h — RFC 4648 base64 (both alphabets) and base16 (hex).
 *
 * The journal keeps request bodies as base64 (exact bytes on one line);
 * signature and JWT checks decode the standard and the URL-safe alphabet,
 * and hex signatures; the request model decodes %XX escapes.
 */
#ifndef TRIG_BASE64_H
#define TRIG_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Appends the standard, padded encoding of p[0..n). */
void trig_base64_encode(struct buf *b, const void *p, size_t n);

enum {
	TRIG_B64_STD = 1,       /* accept + and / */
	TRIG_B64_URL = 2,       /* accept - and _ */
};

/* Decodes s[0..n) into out (room for at least n * 3 / 4 + 3 bytes) and
 * returns the number of bytes, or -1 when s is not base64 in the given
 * alphabets: a foreign character, a length that cannot be an encoding,
 * non-zero bits after the last byte, or padding anywhere but the end.
 * Padding is optional; when present it must be complete. */
long trig_base64_decode(const char *s, size_t n, unsigned alphabets, uint8_t *out);

/* The value of the hex digit C (either case), or -1. */
int trig_hex_digit(unsigned char c);

/* Decodes hex (either case) s[0..n) into out (room for n / 2 bytes) and
 * returns the number of bytes, or -1 for an odd length or a non-digit. */
long trig_hex_decode(const char *s, size_t n, uint8_t *out);

#endif
