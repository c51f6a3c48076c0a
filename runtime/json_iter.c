/*
 * json_iter.c — a light scanner over validated JSON.
 */
#include "json_iter.h"

#include <string.h>

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* The end of the value starting at P, or NULL. */
static const char *skip_value(const char *p, const char *end, enum trig_json_type *type)
{
	if (p >= end)
		return NULL;
	switch (*p) {
	case '"':
		*type = TRIG_JSON_STRING;
		for (p++; p < end; p++) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				return p + 1;
		}
		return NULL;
	case '{':
	case '[': {
		*type = *p == '{' ? TRIG_JSON_OBJECT : TRIG_JSON_ARRAY;
		unsigned depth = 0;
		for (; p < end; p++) {
			if (*p == '"') {
				for (p++; p < end && *p != '"'; p++)
					if (*p == '\\')
						p++;
				if (p >= end)
					return NULL;
			} else if (*p == '{' || *p == '[') {
				depth++;
			} else if (*p == '}' || *p == ']') {
				if (--depth == 0)
					return p + 1;
			}
		}
		return NULL;
	}
	case 't':
		*type = TRIG_JSON_TRUE;
		return end - p >= 4 && !memcmp(p, "true", 4) ? p + 4 : NULL;
	case 'f':
		*type = TRIG_JSON_FALSE;
		return end - p >= 5 && !memcmp(p, "false", 5) ? p + 5 : NULL;
	case 'n':
		*type = TRIG_JSON_NULL;
		return end - p >= 4 && !memcmp(p, "null", 4) ? p + 4 : NULL;
	default:
		if (*p != '-' && !(*p >= '0' && *p <= '9'))
			return NULL;
		*type = TRIG_JSON_NUMBER;
		while (p < end && (strchr("+-.eE", *p) || (*p >= '0' && *p <= '9')))
			p++;
		return p;
	}
}

int trig_json_iter_begin(struct trig_json_iter *it, const struct trig_json_value *v)
{
	if (v->type != TRIG_JSON_OBJECT && v->type != TRIG_JSON_ARRAY)
		return -1;
	it->object = v->type == TRIG_JSON_OBJECT;
	it->p = v->raw + 1;
	it->end = v->raw + v->len - 1;  /* before the closing bracket */
	return 0;
}

int trig_json_iter_next(struct trig_json_iter *it, struct trig_json_value *key,
			struct trig_json_value *value)
{
	const char *p = skip_ws(it->p, it->end);
	if (p >= it->end)
		return 0;
	if (*p == ',')
		p = skip_ws(p + 1, it->end);
	if (it->object) {
		enum trig_json_type t;
		const char *k = p;
		p = skip_value(p, it->end, &t);
		if (!p || t != TRIG_JSON_STRING)
			return -1;
		if (key)
			*key = (struct trig_json_value){ TRIG_JSON_STRING, k, (size_t)(p - k) };
		p = skip_ws(p, it->end);
		if (p >= it->end || *p != ':')
			return -1;
		p = skip_ws(p + 1, it->end);
	}
	enum trig_json_type t;
	const char *v = p;
	p = skip_value(p, it->end, &t);
	if (!p)
		return -1;
	*value = (struct trig_json_value){ t, v, (size_t)(p - v) };
	it->p = p;
	return 1;
}
