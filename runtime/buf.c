/*
 * buf.c — growable buffers and JSON string escaping.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Noreturn void trig_oom(void)
{
	static const char msg[] = "trig: out of memory\n";
	ssize_t r = write(2, msg, sizeof(msg) - 1);
	(void)r;
	abort();
}

void *trig_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		trig_oom();
	return p;
}

void *trig_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		trig_oom();
	return p;
}

void *trig_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		trig_oom();
	return p;
}

char *trig_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = trig_xmalloc(n);
	memcpy(p, s, n);
	return p;
}

void buf_grow(struct buf *b, size_t extra)
{
	if (extra > SIZE_MAX - b->len - 1)
		trig_oom();
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = trig_xrealloc(b->data, cap);
	b->cap = cap;
	b->data[b->len] = 0;
}

void buf_add(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = 0;
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addc(struct buf *b, char c)
{
	buf_grow(b, 1);
	b->data[b->len++] = c;
	b->data[b->len] = 0;
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	/* Try the room there is; grow and format again only when short. */
	buf_grow(b, 64);
	va_list cp;
	va_copy(cp, ap);
	int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0) {
		b->data[b->len] = 0;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = 0;
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *buf_detach(struct buf *b)
{
	buf_grow(b, 0);
	char *p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

const char *buf_cstr(struct buf *b)
{
	return b->data ? b->data : "";
}

/* Length of the valid UTF-8 sequence at S (at most N bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c < 0x80)
		return 1;
	else if ((c & 0xE0) == 0xC0)
		len = 2, min = 0x80, c &= 0x1F;
	else if ((c & 0xF0) == 0xE0)
		len = 3, min = 0x800, c &= 0x0F;
	else if ((c & 0xF8) == 0xF0)
		len = 4, min = 0x10000, c &= 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	return len;
}

void buf_json_str(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	buf_grow(b, len + 2);
	buf_addc(b, '"');
	size_t i = 0;
	while (i < len) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			size_t j = i;
			while (j < len && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '"' && p[j] != '\\')
				j++;
			buf_add(b, p + i, j - i);
			i = j;
			continue;
		}
		switch (c) {
		case '"': buf_add(b, "\\\"", 2); i++; continue;
		case '\\': buf_add(b, "\\\\", 2); i++; continue;
		case '\n': buf_add(b, "\\n", 2); i++; continue;
		case '\r': buf_add(b, "\\r", 2); i++; continue;
		case '\t': buf_add(b, "\\t", 2); i++; continue;
		}
		if (c < 0x20 || c == 0x7f) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			buf_add(b, e, 6);
			i++;
			continue;
		}
		size_t n = utf8_seq(p + i, len - i);
		if (n == 0) {
			buf_add(b, "\\ufffd", 6);
			i++;
		} else {
			buf_add(b, p + i, n);
			i += n;
		}
	}
	buf_addc(b, '"');
}

void buf_json_cstr(struct buf *b, const char *s)
{
	if (s)
		buf_json_str(b, s, strlen(s));
	else
		buf_adds(b, "null");
}
