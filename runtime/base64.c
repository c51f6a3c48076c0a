/*
 * base64.c — RFC 4648 base64 and hex.  Base64 encoding is OpenSSL's;
 * decoding is strict and alphabet-aware, which EVP_DecodeBlock is not (it
 * takes only the standard alphabet, skips whitespace and counts padding as
 * bytes).
 */
#include "base64.h"

#include <openssl/evp.h>

void trig_base64_encode(struct buf *b, const void *p, size_t n)
{
	/* EVP_EncodeBlock takes an int; encode in blocks of 3 * 2^20 bytes
	 * so that any length works and each block is whole. */
	const unsigned char *s = p;
	while (n) {
		size_t chunk = n < (size_t)3 << 20 ? n : (size_t)3 << 20;
		size_t olen = (chunk + 2) / 3 * 4;
		buf_grow(b, olen + 1);
		EVP_EncodeBlock((unsigned char *)b->data + b->len, s, (int)chunk);
		b->len += olen;
		b->data[b->len] = 0;
		s += chunk;
		n -= chunk;
	}
	if (!b->data)
		buf_adds(b, "");
}

static int sextet(unsigned char c, unsigned alphabets)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if ((alphabets & TRIG_B64_STD) && c == '+')
		return 62;
	if ((alphabets & TRIG_B64_STD) && c == '/')
		return 63;
	if ((alphabets & TRIG_B64_URL) && c == '-')
		return 62;
	if ((alphabets & TRIG_B64_URL) && c == '_')
		return 63;
	return -1;
}

long trig_base64_decode(const char *s, size_t n, unsigned alphabets, uint8_t *out)
{
	const unsigned char *p = (const unsigned char *)s;
	if (n % 4 == 0 && n >= 4) {
		/* Padded: one or two '=' close the last quantum. */
		if (p[n - 1] == '=')
			n -= p[n - 2] == '=' ? 2 : 1;
	}
	if (n % 4 == 1)
		return -1;
	size_t o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	for (size_t i = 0; i < n; i++) {
		int v = sextet(p[i], alphabets);
		if (v < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)           /* bits after the last byte must be zero */
		return -1;
	return (long)o;
}

int trig_hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long trig_hex_decode(const char *s, size_t n, uint8_t *out)
{
	if (n % 2)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = trig_hex_digit((unsigned char)s[i]), lo = trig_hex_digit((unsigned char)s[i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}
