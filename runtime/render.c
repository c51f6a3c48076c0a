/*
 * render.c — templates at run time.
 */
#include "render.h"

#include <string.h>

#include "timeutil.h"

int trig_render_field(const struct trig_field *f, const struct trig_render_ctx *c, struct buf *out)
{
	switch (f->root) {
	case TRIG_ROOT_TRIGGER:
		buf_adds(out, c->trigger ? c->trigger : "");
		return 0;
	case TRIG_ROOT_LAUNCH_ID:
		buf_adds(out, c->launch_id ? c->launch_id : "");
		return 0;
	case TRIG_ROOT_NOW: {
		char t[TRIG_RFC3339_MAX];
		trig_format_rfc3339(t, c->now_ms, 0);
		buf_adds(out, t);
		return 0;
	}
	default:
		break;
	}
	if (c->lookup) {
		int r = c->lookup(c->lookup_ctx, f, out);
		if (r <= 0)
			return r;
	}
	switch (f->root) {
	case TRIG_ROOT_PAYLOAD:
	case TRIG_ROOT_CLAIM:
	case TRIG_ROOT_EVENT: {
		const struct trig_json_value *v = f->root == TRIG_ROOT_CLAIM ? c->claims : c->paths;
		if (!v || f->path_id >= c->npaths || v[f->path_id].type == TRIG_JSON_ABSENT)
			return -1;
		return trig_json_string(&v[f->path_id], out);
	}
	case TRIG_ROOT_ACTION:
		return -1;
	default: {
		if (!c->request)
			return -1;
		size_t len;
		const char *v = c->request(c->request_ctx, f->root, f->name, &len);
		if (!v)
			return -1;
		buf_add(out, v, len);
		return 0;
	}
	}
}

static void escape_into(struct buf *out, const char *s, size_t len, enum trig_escape esc)
{
	static const char hex[] = "0123456789ABCDEF";
	switch (esc) {
	case TRIG_ESC_NONE:
		buf_add(out, s, len);
		break;
	case TRIG_ESC_JSON: {
		/* buf_json_str writes the quotes too: drop them. */
		struct buf tmp = BUF_INIT;
		buf_json_str(&tmp, s, len);
		buf_add(out, tmp.data + 1, tmp.len - 2);
		buf_release(&tmp);
		break;
	}
	case TRIG_ESC_URL:
		for (size_t i = 0; i < len; i++) {
			unsigned char ch = (unsigned char)s[i];
			if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
				buf_addc(out, (char)ch);
			} else {
				char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };
				buf_add(out, e, 3);
			}
		}
		break;
	}
}

void trig_render(const struct trig_template *t, const struct trig_render_ctx *c,
		 enum trig_escape esc, struct buf *out)
{
	struct buf v = BUF_INIT;
	buf_grow(out, 0);
	for (uint32_t i = 0; i < t->npieces; i++) {
		const struct trig_piece *p = &t->pieces[i];
		if (p->kind == TRIG_PIECE_TEXT) {
			buf_add(out, p->text, p->len);
			continue;
		}
		buf_reset(&v);
		if (trig_render_field(&p->field, c, &v) == 0)
			escape_into(out, v.data ? v.data : "", v.len, esc);
	}
	buf_release(&v);
}
