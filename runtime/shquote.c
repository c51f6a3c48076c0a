/*
 * shquote.c — one sh word from any text (Python shlex.quote's rules).
 */
#include "shquote.h"

#include <string.h>

bool trig_sh_is_safe(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (!strchr("_@%+=:,./-", c) || c == 0)
			return false;
	}
	return true;
}

void trig_sh_quote(struct buf *out, const char *s, size_t len)
{
	if (trig_sh_is_safe(s, len)) {
		buf_add(out, s, len);
		return;
	}
	buf_grow(out, len + 2);
	buf_addc(out, '\'');
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\'')
			continue;
		buf_add(out, s + start, i - start);
		buf_add(out, "'\\''", 4);
		start = i + 1;
	}
	buf_add(out, s + start, len - start);
	buf_addc(out, '\'');
}

void trig_sh_quotes(struct buf *out, const char *s)
{
	trig_sh_quote(out, s, strlen(s));
}
