/*
 * dfa.c — `matches` filters through re2c.
 */
#include "dfa.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cc.h"
#include "regex.h"

/* The re2c configuration of every matcher: the input is [cur, lim); the
 * byte at lim is never read (YYPEEK gives 0 there, and re2c's end-of-input
 * rule, $, tells it from a NUL in the value by YYLESSTHAN). */
static const char config[] =
	"\tre2c:api = custom;\n"
	"\tre2c:api:style = free-form;\n"
	"\tre2c:define:YYCTYPE = \"unsigned char\";\n"
	"\tre2c:define:YYPEEK = \"(cur < lim ? *cur : 0)\";\n"
	"\tre2c:define:YYSKIP = \"++cur;\";\n"
	"\tre2c:define:YYBACKUP = \"mar = cur;\";\n"
	"\tre2c:define:YYRESTORE = \"cur = mar;\";\n"
	"\tre2c:define:YYLESSTHAN = \"lim - cur < @@{len}\";\n"
	"\tre2c:yyfill:enable = 0;\n"
	"\tre2c:eof = 0;\n"
	"\tre2c:indent:top = 1;\n";

static void collect(struct arena *a, struct ir_project *ir, const struct trig_condition *c,
		    uint32_t n, size_t *cap)
{
	for (uint32_t i = 0; i < n; i++) {
		if (c[i].kind == TRIG_COND_FILTER && c[i].u.filter.op == TRIG_OP_MATCHES)
			*ARENA_PUSH(a, ir->matcher_of, ir->nmatchers, *cap) = &c[i].u.filter;
		if (c[i].kind == TRIG_COND_ANY || c[i].kind == TRIG_COND_ALL || c[i].kind == TRIG_COND_NOT)
			collect(a, ir, c[i].u.group.conditions, c[i].u.group.nconditions, cap);
	}
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *text = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 65536;
			char *p = realloc(text, cap + 1);
			if (!p) {
				free(text);
				fclose(f);
				return NULL;
			}
			text = p;
		}
		got = fread(text + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	text[n] = 0;
	*len = n;
	return text;
}

int dfa_generate(struct arena *a, struct ir_project *ir, char *err, size_t errlen)
{
	size_t cap = 0;
	for (uint32_t i = 0; i < ir->p.ntriggers; i++)
		collect(a, ir, ir->p.triggers[i].conditions, ir->p.triggers[i].nconditions, &cap);
	if (!ir->nmatchers)
		return 0;

	const char *t = getenv("TMPDIR");
	char *dir = arena_printf(a, "%s/trigc-re-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(dir)) {
		snprintf(err, errlen, "cannot create a temporary folder: %s", strerror(errno));
		return -1;
	}
	char *in = arena_printf(a, "%s/matchers.re", dir), *out = arena_printf(a, "%s/matchers.c", dir);
	int rc = -1;
	FILE *f = fopen(in, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write '%s': %s", in, strerror(errno));
		goto done;
	}
	for (size_t i = 0; i < ir->nmatchers; i++) {
		const struct trig_cond_filter *flt = ir->matcher_of[i];
		struct regex_re2c re;
		size_t off;
		char msg[160];
		if (regex_to_re2c(a, flt->value, &re, &off, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "regular expression /%s/: %s", flt->value, msg);
			fclose(f);
			goto done;
		}
		/* The expression, in a comment that nothing in it can close. */
		fprintf(f, "\n/* %s matches /", flt->field.text);
		for (const unsigned char *p = (const unsigned char *)flt->value; *p; p++) {
			if (*p == '/')          /* neither a comment's end nor a block's start */
				fputs("\\/", f);
			else if (*p < 0x20 || *p >= 0x7f)
				fprintf(f, "\\x%02x", *p);
			else
				fputc(*p, f);
		}
		fprintf(f, "/ */\nstatic bool trig_match_%zu(const char *s, size_t len)\n{\n"
			   "\tconst unsigned char *cur = (const unsigned char *)s, *lim = cur + len, "
			   "*mar = cur;\n\t(void)mar;\n"
			   "\t/*!re2c\n%s\n\t%s { return %s; }\n\t* { return false; }\n"
			   "\t$ { return false; }\n\t*/\n}\n",
			i, config, re.re, re.anchored_end ? "cur == lim" : "true");
	}
	if (fclose(f) != 0) {
		snprintf(err, errlen, "cannot write '%s': %s", in, strerror(errno));
		goto done;
	}
	const char *re2c = getenv("RE2C");
	char *argv[] = {
		(char *)(re2c && *re2c ? re2c : "re2c"), "--no-generation-date", "--no-version", "-i",
		"-o", out, in, NULL,
	};
	char why[256];
	if (cc_spawn(argv, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "generating the regular expressions' DFAs: %s%s", why,
			 strstr(why, "cannot run") ? " (re2c is needed to build 'matches' filters; "
						     "install it or set RE2C)" : "");
		goto done;
	}
	size_t len;
	char *code = slurp(out, &len);
	if (!code) {
		snprintf(err, errlen, "cannot read '%s': %s", out, strerror(errno));
		goto done;
	}
	ir->matchers_c = arena_strdup(a, code);
	free(code);
	rc = 0;
done:
	unlink(in);
	unlink(out);
	rmdir(dir);
	return rc;
}
