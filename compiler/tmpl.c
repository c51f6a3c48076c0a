/*
 * tmpl.c — parsing templates and field references.
 *
 *   field   = root { "." key | "[" index "]" | "[" string "]" }
 *   key     = 1*( any byte but . [ ] { } space, or "\." or "\\" )
 *   string  = a JSON string in double quotes
 */
#include "tmpl.h"

#include <stdio.h>
#include <string.h>

#include "decode.h"

const char *const tmpl_root_words[] = {
	"payload", "form", "header", "query", "claim", "event", "remote", "body",
	"trigger", "launch", "now", "actions", NULL
};

static const enum trig_root root_of[] = {
	TRIG_ROOT_PAYLOAD, TRIG_ROOT_FORM, TRIG_ROOT_HEADER, TRIG_ROOT_QUERY,
	TRIG_ROOT_CLAIM, TRIG_ROOT_EVENT, TRIG_ROOT_REMOTE_IP, TRIG_ROOT_BODY,
	TRIG_ROOT_TRIGGER, TRIG_ROOT_LAUNCH_ID, TRIG_ROOT_NOW, TRIG_ROOT_ACTION,
};

static int fail(struct tmpl_error *err, size_t off, size_t len, const char *fmt, const char *arg)
{
	err->off = (uint32_t)off;
	err->len = (uint32_t)(len ? len : 1);
	err->unknown_root = false;
	snprintf(err->msg, sizeof(err->msg), fmt, arg);
	return -1;
}

static bool key_byte(char c)
{
	return c && c != '.' && c != '[' && c != ']' && c != '{' && c != '}' &&
	       c != ' ' && c != '\t' && c != '\n' && c != '\\' && c != '"';
}

/* Parses the segments after the root, from s[i] to s[len). */
static int parse_segs(struct arena *a, const char *s, size_t i, size_t len, struct fieldref *out,
		      struct tmpl_error *err)
{
	size_t cap = 0;
	while (i < len) {
		struct trig_path_seg seg = { NULL, -1 };
		if (s[i] == '.') {
			size_t start = ++i;
			char *key = arena_alloc(a, len - start + 1);
			size_t k = 0;
			while (i < len) {
				if (s[i] == '\\' && i + 1 < len && (s[i + 1] == '.' || s[i + 1] == '\\')) {
					key[k++] = s[i + 1];
					i += 2;
				} else if (key_byte(s[i])) {
					key[k++] = s[i++];
				} else {
					break;
				}
			}
			if (k == 0)
				return fail(err, start ? start - 1 : 0, 1, "%s",
					    "expected a key after '.'");
			key[k] = 0;
			seg.key = key;
		} else if (s[i] == '[') {
			size_t start = i++;
			if (i < len && s[i] == '"') {
				char *key = arena_alloc(a, len - i + 1);
				size_t k = 0;
				i++;
				while (i < len && s[i] != '"') {
					if (s[i] == '\\' && i + 1 < len) {
						char c = s[i + 1];
						key[k++] = c == 'n' ? '\n' : c == 't' ? '\t' : c;
						i += 2;
					} else {
						key[k++] = s[i++];
					}
				}
				if (i >= len)
					return fail(err, start, len - start, "%s", "unterminated string in '[...]'");
				i++;
				key[k] = 0;
				seg.key = key;
			} else {
				long idx = 0;
				size_t digits = 0;
				while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 9) {
					idx = idx * 10 + (s[i++] - '0');
					digits++;
				}
				if (!digits)
					return fail(err, start, 1, "%s",
						    "expected an index or a \"quoted key\" after '['");
				seg.index = (int32_t)idx;
			}
			if (i >= len || s[i] != ']')
				return fail(err, start, i - start, "%s", "expected ']'");
			i++;
		} else {
			return fail(err, i, 1, "unexpected '%s' in a field reference",
				    (char[]){ s[i], 0 });
		}
		*ARENA_PUSH(a, out->segs, out->nsegs, cap) = seg;
		if (out->nsegs > 32)
			return fail(err, 0, len, "%s", "a field path deeper than 32");
	}
	return 0;
}

/* The field of an actions.NAME.FIELD reference as one canonical string:
 * "id", or "metadata." and the key path with dots in keys written "\.",
 * backslashes "\\" and indexes "[N]" (metadata.a\.b[0].c). */
static const char *action_field_name(struct arena *a, const struct trig_path_seg *segs, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += segs[i].key ? 2 * strlen(segs[i].key) + 1 : 13;
	char *out = arena_alloc(a, len), *p = out;
	for (size_t i = 0; i < n; i++) {
		if (!segs[i].key) {
			p += sprintf(p, "[%d]", (int)segs[i].index);
			continue;
		}
		if (i)
			*p++ = '.';
		for (const char *k = segs[i].key; *k; k++) {
			if (*k == '.' || *k == '\\')
				*p++ = '\\';
			*p++ = *k;
		}
	}
	*p = 0;
	return out;
}

int field_parse(struct arena *a, const char *s, size_t len, struct fieldref *out,
		struct tmpl_error *err)
{
	memset(out, 0, sizeof(*out));
	size_t i = 0;
	while (i < len && (s[i] >= 'a' && s[i] <= 'z'))
		i++;
	if (i == 0)
		return fail(err, 0, len, "%s", "expected a field such as payload.ref or header.X-Name");
	char *root = arena_strndup(a, s, i);
	int r = -1;
	for (int k = 0; tmpl_root_words[k]; k++)
		if (strcmp(tmpl_root_words[k], root) == 0)
			r = k;
	if (r < 0) {
		const char *near = decode_suggest(root, tmpl_root_words);
		err->off = 0;
		err->len = (uint32_t)i;
		err->unknown_root = true;
		if (near)
			snprintf(err->msg, sizeof(err->msg),
				 "unknown template root '%s'; did you mean '%s'?", root, near);
		else
			snprintf(err->msg, sizeof(err->msg),
				 "unknown template root '%s'; expected payload, form, header, query, "
				 "claim, event, remote, trigger, launch, now or actions", root);
		return -1;
	}
	out->root = root_of[r];
	out->root_name = tmpl_root_words[r];
	out->text = arena_strndup(a, s, len);
	out->len = (uint32_t)len;
	if (parse_segs(a, s, i, len, out, err))
		return -1;

	/* Roots that take exactly one name, or a fixed one. */
	switch (out->root) {
	case TRIG_ROOT_HEADER:
	case TRIG_ROOT_QUERY:
	case TRIG_ROOT_FORM:
		if (out->nsegs != 1 || !out->segs[0].key)
			return fail(err, 0, len, "'%s' takes one name, e.g. header.X-GitHub-Event",
				    out->root_name);
		out->name = out->segs[0].key;
		break;
	case TRIG_ROOT_REMOTE_IP:
		if (out->nsegs != 1 || !out->segs[0].key || strcmp(out->segs[0].key, "ip") != 0)
			return fail(err, 0, len, "%s", "'remote' has one field: remote.ip");
		break;
	case TRIG_ROOT_TRIGGER:
		if (out->nsegs != 1 || !out->segs[0].key || strcmp(out->segs[0].key, "name") != 0)
			return fail(err, 0, len, "%s", "'trigger' has one field: trigger.name");
		break;
	case TRIG_ROOT_LAUNCH_ID:
		if (out->nsegs != 1 || !out->segs[0].key || strcmp(out->segs[0].key, "id") != 0)
			return fail(err, 0, len, "%s", "'launch' has one field: launch.id");
		break;
	case TRIG_ROOT_NOW:
	case TRIG_ROOT_BODY:
		if (out->nsegs)
			return fail(err, 0, len, "'%s' has no fields", out->root_name);
		break;
	case TRIG_ROOT_ACTION:
		/* actions.NAME.FIELD, or actions.NAME.metadata.KEY...: which
		 * fields an action has is the checker's business (it knows the
		 * action's kind). */
		if (out->nsegs < 2 || !out->segs[0].key || !out->segs[1].key)
			return fail(err, 0, len, "%s",
				    "'actions' reads a result of an earlier action: actions.NAME.FIELD, "
				    "e.g. actions.train.id");
		if (strcmp(out->segs[1].key, "metadata") == 0 && out->nsegs < 3)
			return fail(err, 0, len, "%s",
				    "'metadata' takes a key: actions.NAME.metadata.KEY, "
				    "e.g. actions.train.metadata.accuracy");
		out->name = action_field_name(a, out->segs + 1, out->nsegs - 1);
		break;
	default:
		break;
	}
	return 0;
}

bool tmpl_has_fields(const char *s)
{
	return strstr(s, "{{") != NULL;
}

int tmpl_parse(struct arena *a, const char *s, struct tmpl *out, struct tmpl_error *err)
{
	size_t cap = 0, i = 0, len = strlen(s);
	out->v = NULL;
	out->n = 0;
	while (i < len) {
		const char *open = strstr(s + i, "{{");
		size_t lit_end = open ? (size_t)(open - s) : len;
		if (lit_end > i) {
			struct tmpl_piece *p = ARENA_PUSH(a, out->v, out->n, cap);
			p->text = arena_strndup(a, s + i, lit_end - i);
			p->len = lit_end - i;
		}
		if (!open)
			break;
		const char *close = strstr(open + 2, "}}");
		if (!close)
			return fail(err, lit_end, 2, "%s", "'{{' without a closing '}}'");
		size_t b = lit_end + 2, e = (size_t)(close - s);
		while (b < e && (s[b] == ' ' || s[b] == '\t'))
			b++;
		while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
			e--;
		if (b == e)
			return fail(err, lit_end, (size_t)(close - s) + 2 - lit_end, "%s",
				    "an empty '{{ }}'");
		struct tmpl_piece *p = ARENA_PUSH(a, out->v, out->n, cap);
		p->is_field = true;
		if (field_parse(a, s + b, e - b, &p->field, err)) {
			err->off += (uint32_t)b;
			return -1;
		}
		p->field.off = (uint32_t)b;
		i = (size_t)(close - s) + 2;
	}
	return 0;
}
