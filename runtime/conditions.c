/*
 * conditions.c — the guard: run-time state of the conditions, and their
 * evaluation.
 */
#include "conditions.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "hmac.h"
#include "json_iter.h"
#include "jwt.h"
#include "secret.h"
#include "timeutil.h"
#include "ttlmap.h"

/* Replay ids and per-key budgets remembered per condition, at most. */
#define MEMORY_MAX 100000

/* The secret material of one condition, replaced as a whole on reload. */
struct material {
	uint8_t token_digest[32];       /* token: SHA-256 of the secret */
	struct buf key;                 /* hmac: the HMAC key */
	struct trig_jwt_keys *jwt;      /* jwt */
};

/* Run-time state of one condition (top level or inside a group). */
struct cstate {
	const struct trig_condition *c;
	struct material *m;             /* token, hmac, jwt; under the guard's lock */
	regex_t re;                     /* filter matches, without a generated matcher */
	bool has_re;
	struct trig_ttlmap *memory;     /* replay ids, rate-limit budgets */
	struct cstate *group;           /* any, all, not: [c->u.group.nconditions] */
};

struct tstate {
	struct cstate *conds;           /* [nconditions] of the trigger, top level */
	pthread_mutex_t commit;         /* replay and rate-limit, atomically */
	/* The actions' templates, replay ids or rate keys read the
	 * payload, the form. */
	bool reads_payload, reads_form;
};

struct trig_guard {
	const struct trig_project *p;
	const struct trig_json_query *paths;
	struct tstate *triggers;        /* [ntriggers] */
	pthread_rwlock_t lock;          /* the materials: eval reads, reload swaps */
};

const char *trig_verdict_outcome(enum trig_verdict v)
{
	static const char *const names[] = {
		"launched", "not-matched", "rejected", "error", "replayed", "rate-limited",
	};
	return names[v];
}

/* ------------------------------------------------------------ building */

static bool field_reads(const struct trig_field *f, bool *payload, bool *form)
{
	if (f->root == TRIG_ROOT_PAYLOAD || f->root == TRIG_ROOT_EVENT)
		*payload = true;
	if (f->root == TRIG_ROOT_FORM)
		*form = true;
	return *payload;
}

static void template_reads(const struct trig_template *t, bool *payload, bool *form)
{
	for (uint32_t i = 0; i < t->npieces; i++)
		if (t->pieces[i].kind == TRIG_PIECE_FIELD)
			field_reads(&t->pieces[i].field, payload, form);
}

static void bindings_reads(const struct trig_binding *b, uint32_t n, bool *payload, bool *form)
{
	for (uint32_t i = 0; i < n; i++)
		template_reads(&b[i].value, payload, form);
}

static void material_free(struct material *m)
{
	if (!m)
		return;
	OPENSSL_cleanse(m->token_digest, sizeof(m->token_digest));
	trig_secret_release(&m->key);
	trig_jwt_keys_free(m->jwt);
	free(m);
}

/* Reads C's secret and builds its key material; NULL for conditions that
 * have none, and on error (err set). */
static struct material *material_new(const struct trig_condition *c, const char *trigger, int *rc,
				     char *err, size_t errlen)
{
	const struct trig_secret *s = NULL;
	*rc = 0;
	if (c->kind == TRIG_COND_TOKEN)
		s = &c->u.token.secret;
	else if (c->kind == TRIG_COND_HMAC)
		s = &c->u.hmac.secret;
	else if (c->kind == TRIG_COND_JWT)
		s = &c->u.jwt.key;
	if (!s)
		return NULL;
	struct material *m = trig_xcalloc(1, sizeof(*m));
	struct buf secret = BUF_INIT;
	char why[256];
	if (s->kind != TRIG_SECRET_JWKS_URL && trig_secret_read(s, &secret, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "trigger '%s': %s", trigger, why);
		goto fail;
	}
	switch (c->kind) {
	case TRIG_COND_TOKEN:
		EVP_Digest(secret.data, secret.len, m->token_digest, NULL, EVP_sha256(), NULL);
		break;
	case TRIG_COND_HMAC:
		if (trig_hmac_key(&c->u.hmac, secret.data, secret.len, &m->key, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "trigger '%s': hmac secret: %s", trigger, why);
			goto fail;
		}
		break;
	default:
		m->jwt = trig_jwt_keys_new(&c->u.jwt, secret.data, secret.len, why, sizeof(why));
		if (!m->jwt) {
			snprintf(err, errlen, "trigger '%s': jwt key: %s", trigger, why);
			goto fail;
		}
	}
	trig_secret_release(&secret);
	return m;
fail:
	trig_secret_release(&secret);
	material_free(m);
	*rc = -1;
	return NULL;
}

/* Secrets belong to authentication conditions, which are never inside a
 * group (the checker sees to it): materials are at the top level only. */
static int cstate_init(struct cstate *cs, const struct trig_condition *c, const char *trigger,
		       char *err, size_t errlen)
{
	cs->c = c;
	if (c->kind == TRIG_COND_FILTER && c->u.filter.op == TRIG_OP_MATCHES && !c->u.filter.match) {
		int rc = regcomp(&cs->re, c->u.filter.value, REG_EXTENDED | REG_NOSUB);
		if (rc != 0) {
			char msg[128];
			regerror(rc, &cs->re, msg, sizeof(msg));
			snprintf(err, errlen, "trigger '%s': regular expression /%s/: %s", trigger,
				 c->u.filter.value, msg);
			return -1;
		}
		cs->has_re = true;
	}
	if (c->kind == TRIG_COND_REPLAY || c->kind == TRIG_COND_RATE_LIMIT)
		cs->memory = trig_ttlmap_new(MEMORY_MAX);
	if (c->kind == TRIG_COND_ANY || c->kind == TRIG_COND_ALL || c->kind == TRIG_COND_NOT) {
		uint32_t n = c->u.group.nconditions;
		cs->group = trig_xcalloc(n ? n : 1, sizeof(*cs->group));
		for (uint32_t i = 0; i < n; i++)
			if (cstate_init(&cs->group[i], &c->u.group.conditions[i], trigger, err, errlen) != 0)
				return -1;
	}
	return 0;
}

static void cstate_release(struct cstate *cs)
{
	if (!cs->c)
		return;
	if (cs->has_re)
		regfree(&cs->re);
	trig_ttlmap_free(cs->memory);
	material_free(cs->m);
	if (cs->group) {
		for (uint32_t i = 0; i < cs->c->u.group.nconditions; i++)
			cstate_release(&cs->group[i]);
		free(cs->group);
	}
}

void trig_guard_free(struct trig_guard *g)
{
	if (!g)
		return;
	for (uint32_t i = 0; i < g->p->ntriggers; i++) {
		struct tstate *ts = &g->triggers[i];
		if (!ts->conds)
			continue;
		for (uint32_t k = 0; k < g->p->triggers[i].nconditions; k++)
			cstate_release(&ts->conds[k]);
		free(ts->conds);
		pthread_mutex_destroy(&ts->commit);
	}
	free(g->triggers);
	pthread_rwlock_destroy(&g->lock);
	free(g);
}

/* Reads every secret into a new set of materials: all or nothing. */
static struct material **materials_read(struct trig_guard *g, char *err, size_t errlen)
{
	size_t n = 0;
	for (uint32_t i = 0; i < g->p->ntriggers; i++)
		n += g->p->triggers[i].nconditions;
	struct material **ms = trig_xcalloc(n ? n : 1, sizeof(*ms));
	size_t k = 0;
	for (uint32_t i = 0; i < g->p->ntriggers; i++) {
		const struct trig_trigger *t = &g->p->triggers[i];
		for (uint32_t j = 0; j < t->nconditions; j++, k++) {
			int rc;
			ms[k] = material_new(&t->conditions[j], t->name, &rc, err, errlen);
			if (rc != 0) {
				for (size_t x = 0; x < k; x++)
					material_free(ms[x]);
				free(ms);
				return NULL;
			}
		}
	}
	return ms;
}

/* Puts MS in place and frees what they replace (the caller holds the
 * write lock, or nobody else knows the guard yet). */
static void materials_swap(struct trig_guard *g, struct material **ms)
{
	size_t k = 0;
	for (uint32_t i = 0; i < g->p->ntriggers; i++)
		for (uint32_t j = 0; j < g->p->triggers[i].nconditions; j++, k++) {
			struct material *old = g->triggers[i].conds[j].m;
			g->triggers[i].conds[j].m = ms[k];
			ms[k] = old;
		}
}

static void materials_free(struct trig_guard *g, struct material **ms)
{
	size_t k = 0;
	for (uint32_t i = 0; i < g->p->ntriggers; i++)
		for (uint32_t j = 0; j < g->p->triggers[i].nconditions; j++, k++)
			material_free(ms[k]);
	free(ms);
}

struct trig_guard *trig_guard_new(const struct trig_project *p, const struct trig_json_query *paths,
				  char *err, size_t errlen)
{
	struct trig_guard *g = trig_xcalloc(1, sizeof(*g));
	g->p = p;
	g->paths = paths;
	pthread_rwlock_init(&g->lock, NULL);
	g->triggers = trig_xcalloc(p->ntriggers ? p->ntriggers : 1, sizeof(*g->triggers));
	for (uint32_t i = 0; i < p->ntriggers; i++) {
		const struct trig_trigger *t = &p->triggers[i];
		struct tstate *ts = &g->triggers[i];
		ts->conds = trig_xcalloc(t->nconditions ? t->nconditions : 1, sizeof(*ts->conds));
		pthread_mutex_init(&ts->commit, NULL);
		for (uint32_t k = 0; k < t->nconditions; k++) {
			const struct trig_condition *c = &t->conditions[k];
			if (cstate_init(&ts->conds[k], c, t->name, err, errlen) != 0)
				goto fail;
			/* Replay ids and rate keys are rendered after the
			 * filters, like the actions' templates. */
			if (c->kind == TRIG_COND_REPLAY)
				template_reads(&c->u.replay.id, &ts->reads_payload, &ts->reads_form);
			else if (c->kind == TRIG_COND_RATE_LIMIT)
				template_reads(&c->u.rate_limit.key, &ts->reads_payload, &ts->reads_form);
		}
		for (uint32_t k = 0; k < t->nactions; k++) {
			const struct trig_action *a = &t->actions[k];
			bindings_reads(a->parameters, a->nparameters, &ts->reads_payload, &ts->reads_form);
			bindings_reads(a->inputs, a->ninputs, &ts->reads_payload, &ts->reads_form);
			bindings_reads(a->environment, a->nenvironment, &ts->reads_payload, &ts->reads_form);
			bindings_reads(a->headers, a->nheaders, &ts->reads_payload, &ts->reads_form);
			template_reads(&a->commit, &ts->reads_payload, &ts->reads_form);
			template_reads(&a->title, &ts->reads_payload, &ts->reads_form);
			template_reads(&a->copy_source, &ts->reads_payload, &ts->reads_form);
			template_reads(&a->url, &ts->reads_payload, &ts->reads_form);
			template_reads(&a->body, &ts->reads_payload, &ts->reads_form);
			if (a->payload_input)
				ts->reads_payload = true;
		}
	}
	struct material **ms = materials_read(g, err, errlen);
	if (!ms)
		goto fail;
	materials_swap(g, ms);
	materials_free(g, ms);
	return g;
fail:
	trig_guard_free(g);
	return NULL;
}

int trig_guard_reload(struct trig_guard *g, char *err, size_t errlen)
{
	struct material **ms = materials_read(g, err, errlen);
	if (!ms)
		return -1;
	pthread_rwlock_wrlock(&g->lock);
	materials_swap(g, ms);
	pthread_rwlock_unlock(&g->lock);
	materials_free(g, ms);
	return 0;
}

/* ------------------------------------------------------------ values */

/* The payload: parsed once, every path extracted. */
static int need_payload(struct trig_guard *g, struct trig_request *r, struct trig_eval *e)
{
	if (e->payload_state)
		return e->payload_state > 0 ? 0 : -1;
	e->payload_state = -1;
	const char *doc = r->body ? r->body : "";
	size_t len = r->body_len;
	size_t ctlen;
	const char *ct = trig_request_header(r, "Content-Type", &ctlen);
	if (ct && ctlen >= 33 && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 &&
	    (ctlen == 33 || ct[33] == ';' || ct[33] == ' ' || ct[33] == '\t')) {
		/* GitHub's form content type: the JSON is the `payload` field.
		 * Without one, the body itself (curl -d sends JSON with this
		 * content type). */
		size_t vlen;
		const char *v = trig_request_form(r, "payload", &vlen);
		if (v) {
			buf_add(&e->form_payload, v, vlen);
			buf_grow(&e->form_payload, 0);
			doc = e->form_payload.data;
			len = vlen;
		}
	}
	unsigned n = g->paths ? trig_json_query_slots(g->paths) : 0;
	e->npaths = n;
	e->paths = trig_xcalloc(n ? n : 1, sizeof(*e->paths));
	struct trig_json_error jerr;
	if (trig_json_extract(g->paths, doc, len, e->paths, &jerr) != 0) {
		snprintf(e->reason, sizeof(e->reason), "the payload is not valid JSON: %s at byte %zu",
			 jerr.msg, jerr.offset);
		memset(e->paths, 0, (n ? n : 1) * sizeof(*e->paths));
		return -1;
	}
	e->payload = doc;
	e->payload_len = len;
	e->payload_state = 1;
	return 0;
}

/* The value of a field as text: 1 and *out filled, 0 when absent, -1 when
 * the payload or form it needs is invalid (e->reason set). */
static int field_value(struct trig_guard *g, const struct trig_field *f, struct trig_request *r,
		       struct trig_eval *e, struct buf *out, const struct trig_json_value **json)
{
	*json = NULL;
	switch (f->root) {
	case TRIG_ROOT_PAYLOAD:
	case TRIG_ROOT_EVENT:
	case TRIG_ROOT_CLAIM: {
		const struct trig_json_value *v;
		if (f->root == TRIG_ROOT_CLAIM) {
			v = e->claims;
		} else {
			if (need_payload(g, r, e) != 0)
				return -1;
			v = e->paths;
		}
		if (!v || f->path_id >= e->npaths || v[f->path_id].type == TRIG_JSON_ABSENT)
			return 0;
		*json = &v[f->path_id];
		trig_json_string(*json, out);
		return 1;
	}
	case TRIG_ROOT_FORM:
		if (trig_request_form_parse(r) != 0) {
			snprintf(e->reason, sizeof(e->reason), "the form body is malformed");
			return -1;
		}
		/* fall through */
	default: {
		size_t len;
		const char *v = trig_request_field(r, f->root, f->name, &len);
		if (!v)
			return 0;
		buf_add(out, v, len);
		buf_grow(out, 0);
		return 1;
	}
	}
}

/* ------------------------------------------------------------ filters */

static bool parse_number(const char *s, size_t len, double *out)
{
	/* Not: white space (strtod skips it in front only), a NUL inside
	 * (strtod would stop there), hex, inf, nan. */
	if (!len || len > 64 || memchr(s, 0, len) || s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))
		return false;
	char tmp[65];
	memcpy(tmp, s, len);
	tmp[len] = 0;
	char *end;
	errno = 0;
	*out = strtod(tmp, &end);
	return *end == 0 && errno == 0 && isfinite(*out) && !strchr(tmp, 'x') && !strchr(tmp, 'X');
}

static int cmp_str(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

static bool in_set(const struct trig_cond_filter *f, const char *s, size_t len)
{
	if (strlen(s) != len)   /* a NUL inside: equal to no listed value */
		return false;
	return bsearch(s, f->values, f->nvalues, sizeof(*f->values), cmp_str) != NULL;
}

/* contains: an element of a JSON array equal to the value, or a substring. */
static bool contains(const struct trig_cond_filter *f, const struct trig_json_value *json,
		     const char *s, size_t len)
{
	size_t want = strlen(f->value);
	if (json && json->type == TRIG_JSON_ARRAY) {
		struct trig_json_iter it;
		struct trig_json_value item;
		struct buf b = BUF_INIT;
		bool found = false;
		if (trig_json_iter_begin(&it, json) != 0)
			return false;
		while (!found && trig_json_iter_next(&it, NULL, &item) == 1) {
			buf_reset(&b);
			trig_json_string(&item, &b);
			found = b.len == want && memcmp(b.data, f->value, want) == 0;
		}
		buf_release(&b);
		return found;
	}
	if (want == 0)
		return true;
	for (size_t i = 0; i + want <= len; i++)
		if (s[i] == f->value[0] && memcmp(s + i, f->value, want) == 0)
			return true;
	return false;
}

static bool regex_match(const struct cstate *cs, const char *s, size_t len)
{
	const struct trig_cond_filter *f = &cs->c->u.filter;
	if (f->match)
		return f->match(s, len);
	regmatch_t m = { .rm_so = 0, .rm_eo = (regoff_t)len };
	return regexec(&cs->re, s, 1, &m, REG_STARTEND) == 0;
}

static const char *op_word(enum trig_filter_op op)
{
	static const char *const w[] = {
		"equals", "not-equals", "in", "not-in", "matches", "glob", "exists", "not-exists",
		"greater-than", "less-than", "contains",
	};
	return w[op];
}

/* 1 matched, 0 not (reason set), -1 the payload/form is invalid. */
static int eval_filter(struct trig_guard *g, const struct cstate *cs, struct trig_request *r,
		       struct trig_eval *e, char *why, size_t whylen)
{
	const struct trig_cond_filter *f = &cs->c->u.filter;
	struct buf v = BUF_INIT;
	const struct trig_json_value *json;
	int have = field_value(g, &f->field, r, e, &v, &json);
	if (have < 0) {
		buf_release(&v);
		return -1;
	}
	const char *s = v.data ? v.data : "";
	size_t len = v.len;
	bool ok;
	double num;
	switch (f->op) {
	case TRIG_OP_EXISTS: ok = have; break;
	case TRIG_OP_NOT_EXISTS: ok = !have; break;
	case TRIG_OP_EQUALS: ok = have && len == strlen(f->value) && memcmp(s, f->value, len) == 0; break;
	case TRIG_OP_NOT_EQUALS: ok = !have || len != strlen(f->value) || memcmp(s, f->value, len) != 0; break;
	case TRIG_OP_IN: ok = have && in_set(f, s, len); break;
	case TRIG_OP_NOT_IN: ok = !have || !in_set(f, s, len); break;
	case TRIG_OP_MATCHES: ok = have && regex_match(cs, s, len); break;
	case TRIG_OP_GLOB: ok = have && strlen(s) == len && fnmatch(f->value, s, 0) == 0; break;
	case TRIG_OP_GREATER: ok = have && parse_number(s, len, &num) && num > f->number; break;
	case TRIG_OP_LESS: ok = have && parse_number(s, len, &num) && num < f->number; break;
	case TRIG_OP_CONTAINS: ok = have && contains(f, json, s, len); break;
	default: ok = false;
	}
	if (!ok) {
		if (!have)
			snprintf(why, whylen, "%s is absent", f->field.text);
		else if (f->op == TRIG_OP_EXISTS || f->op == TRIG_OP_NOT_EXISTS)
			snprintf(why, whylen, "%s is present", f->field.text);
		else if ((f->op == TRIG_OP_GREATER || f->op == TRIG_OP_LESS) && !parse_number(s, len, &num))
			snprintf(why, whylen, "%s is not a number", f->field.text);
		else if (f->field.root == TRIG_ROOT_HEADER || f->field.root == TRIG_ROOT_QUERY ||
			 f->field.root == TRIG_ROOT_FORM)
			/* These may carry credentials: their values stay out of logs. */
			snprintf(why, whylen, "%s does not satisfy %s", f->field.text, op_word(f->op));
		else
			snprintf(why, whylen, "%s does not satisfy %s (it is \"%.*s\")", f->field.text,
				 op_word(f->op), len > 64 ? 64 : (int)len, s);
	}
	buf_release(&v);
	return ok;
}

static int eval_one(struct trig_guard *g, const struct cstate *cs, struct trig_request *r,
		    struct trig_eval *e, char *why, size_t whylen);

/* any, all, not over filters. */
static int eval_group(struct trig_guard *g, const struct cstate *cs, struct trig_request *r,
		      struct trig_eval *e, char *why, size_t whylen)
{
	const struct trig_condition *c = cs->c;
	uint32_t n = c->u.group.nconditions;
	char sub[256] = "";
	for (uint32_t i = 0; i < n; i++) {
		int rc = eval_one(g, &cs->group[i], r, e, sub, sizeof(sub));
		if (rc < 0)
			return -1;
		if (c->kind == TRIG_COND_ANY && rc == 1)
			return 1;
		if (c->kind == TRIG_COND_ALL && rc == 0) {
			snprintf(why, whylen, "all: %s", sub);
			return 0;
		}
		if (c->kind == TRIG_COND_NOT && rc == 1) {
			/* `not` passes if none of its conditions does. */
			const char *src = cs->group[i].c->source;
			if (src)
				snprintf(why, whylen, "not: '%s' matched", src);
			else
				snprintf(why, whylen, "not: condition %u matched", i + 1);
			return 0;
		}
	}
	if (c->kind == TRIG_COND_ANY) {
		snprintf(why, whylen, "any: none of %u matched", n);
		return 0;
	}
	return 1;
}

static int eval_one(struct trig_guard *g, const struct cstate *cs, struct trig_request *r,
		    struct trig_eval *e, char *why, size_t whylen)
{
	if (cs->c->kind == TRIG_COND_FILTER)
		return eval_filter(g, cs, r, e, why, whylen);
	return eval_group(g, cs, r, e, why, whylen);
}

/* ------------------------------------------------------------ authentication */

/* SHA-256 of both, compared in constant time: neither the length nor the
 * contents of the secret leak through timing. */
static bool token_equal(const struct material *m, const char *v, size_t len)
{
	uint8_t d[32];
	EVP_Digest(v, len, d, NULL, EVP_sha256(), NULL);
	return CRYPTO_memcmp(d, m->token_digest, sizeof(d)) == 0;
}

static bool eval_token(const struct cstate *cs, struct trig_request *r, char *why, size_t whylen)
{
	const struct trig_cond_token *t = &cs->c->u.token;
	size_t len;
	const char *v;
	if (t->bearer) {
		v = trig_request_header(r, "Authorization", &len);
		if (!v || len < 7 || strncasecmp(v, "Bearer ", 7) != 0) {
			snprintf(why, whylen, "no 'Authorization: Bearer' header");
			return false;
		}
		v += 7;
		len -= 7;
	} else if (t->header) {
		v = trig_request_header(r, t->header, &len);
		if (!v) {
			snprintf(why, whylen, "no '%s' header", t->header);
			return false;
		}
	} else {
		v = trig_request_query(r, t->query, &len);
		if (!v) {
			snprintf(why, whylen, "no '%s' query parameter", t->query);
			return false;
		}
	}
	if (!token_equal(cs->m, v, len)) {
		snprintf(why, whylen, "the token does not match");
		return false;
	}
	return true;
}

static bool eval_ip(const struct cstate *cs, const struct trig_request *r, char *why, size_t whylen)
{
	const struct trig_cond_ip_allow *ip = &cs->c->u.ip_allow;
	if (r->remote_text[0]) {
		for (uint32_t i = 0; i < ip->ncidrs; i++) {
			const struct trig_cidr *c = &ip->cidrs[i];
			unsigned full = c->prefix / 8, bits = c->prefix % 8;
			if (memcmp(r->remote, c->addr, full) != 0)
				continue;
			if (bits && ((r->remote[full] ^ c->addr[full]) & (0xff00 >> bits)))
				continue;
			return true;
		}
	}
	snprintf(why, whylen, "%s is not in the allowed ranges",
		 r->remote_text[0] ? r->remote_text : "the remote address");
	return false;
}

/* Seconds (or ms) since the epoch in the condition's format. */
static bool parse_time(enum trig_time_format fmt, const char *s, size_t len, int64_t *ms)
{
	char tmp[64];
	if (!len || len >= sizeof(tmp) || memchr(s, 0, len))
		return false;
	memcpy(tmp, s, len);
	tmp[len] = 0;
	if (fmt == TRIG_TIME_RFC3339)
		return trig_parse_rfc3339(tmp, ms) == 0;
	/* Decimal digits only: strtoll would also take white space and a sign. */
	if (strspn(tmp, "0123456789") != len)
		return false;
	char *end;
	errno = 0;
	long long v = strtoll(tmp, &end, 10);
	if (*end || errno)
		return false;
	if (fmt == TRIG_TIME_UNIX) {
		if (v > INT64_MAX / 1000)
			return false;
		v *= 1000;
	}
	*ms = v;
	return true;
}

static bool eval_timestamp(const struct cstate *cs, struct trig_request *r, int64_t signed_s,
			   int64_t now_ms, char *why, size_t whylen)
{
	const struct trig_cond_timestamp *ts = &cs->c->u.timestamp;
	int64_t t;
	if (ts->from_signature) {
		if (signed_s == INT64_MIN) {
			snprintf(why, whylen, "the signature carries no timestamp");
			return false;
		}
		/* Up to 18 digits of seconds: as ms, it may not fit. */
		t = signed_s < 0 ? 0 : signed_s > INT64_MAX / 1000 ? INT64_MAX : signed_s * 1000;
	} else {
		size_t len;
		const char *v = trig_request_header(r, ts->header, &len);
		if (!v) {
			snprintf(why, whylen, "no '%s' header", ts->header);
			return false;
		}
		if (!parse_time(ts->format, v, len, &t)) {
			snprintf(why, whylen, "'%s' is not %s time", ts->header,
				 ts->format == TRIG_TIME_RFC3339 ? "an RFC 3339" :
				 ts->format == TRIG_TIME_UNIX_MS ? "a unix-ms" : "a unix");
			return false;
		}
	}
	int64_t skew = now_ms - t;
	if (skew > ts->tolerance_ms) {
		snprintf(why, whylen, "the request is %llds old (tolerance %llds)",
			 (long long)(skew / 1000), (long long)(ts->tolerance_ms / 1000));
		return false;
	}
	if (-skew > ts->tolerance_ms) {
		snprintf(why, whylen, "the request is %llds in the future (tolerance %llds)",
			 (long long)(-skew / 1000), (long long)(ts->tolerance_ms / 1000));
		return false;
	}
	return true;
}

static bool eval_jwt(struct trig_guard *g, const struct cstate *cs, struct trig_request *r,
		     struct trig_eval *e, int64_t now_ms, char *why, size_t whylen)
{
	const struct trig_cond_jwt *j = &cs->c->u.jwt;
	size_t len;
	const char *v;
	if (j->query) {
		v = trig_request_query(r, j->query, &len);
		if (!v) {
			snprintf(why, whylen, "no '%s' query parameter", j->query);
			return false;
		}
	} else {
		const char *h = j->header ? j->header : "Authorization";
		v = trig_request_header(r, h, &len);
		if (v && !j->header) {
			if (len < 7 || strncasecmp(v, "Bearer ", 7) != 0)
				v = NULL;
			else
				v += 7, len -= 7;
		}
		if (!v) {
			snprintf(why, whylen, j->header ? "no '%s' header" : "no 'Authorization: Bearer' header",
				 h);
			return false;
		}
	}
	buf_reset(&e->claims_doc);
	if (trig_jwt_verify(cs->m->jwt, j, v, len, now_ms, &e->claims_doc, why, whylen) != 0)
		return false;
	unsigned n = g->paths ? trig_json_query_slots(g->paths) : 0;
	free(e->claims);
	e->claims = trig_xcalloc(n ? n : 1, sizeof(*e->claims));
	e->npaths = n;
	if (trig_json_extract(g->paths, e->claims_doc.data, e->claims_doc.len, e->claims, NULL) != 0) {
		snprintf(why, whylen, "the token's claims are not valid JSON");
		return false;
	}
	return true;
}

/* ------------------------------------------------------------ replay, rate */

/* The key of a replay id or a rate budget. */
static void render_key(const struct trig_template *t, const struct trig_trigger *trig,
		       struct trig_request *r, struct trig_eval *e, int64_t now_ms, struct buf *out)
{
	struct trig_render_ctx rc;
	trig_eval_render_ctx(e, r, &rc);
	rc.trigger = trig->name;
	rc.now_ms = now_ms;
	trig_render(t, &rc, TRIG_ESC_NONE, out);
	buf_grow(out, 0);
}

/* A + B for B >= 0, at most INT64_MAX: windows and periods may be huge. */
static int64_t add_sat(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* Judges (and, with COMMIT, records) the replay and rate-limit conditions
 * of T together under its lock.  Returns the index of the failing one or -1. */
static int commit_memory(struct tstate *ts, const struct trig_trigger *t, struct trig_request *r,
			 struct trig_eval *e, int64_t now_ms, bool commit, char *why, size_t whylen)
{
	struct buf *keys = trig_xcalloc(t->nconditions ? t->nconditions : 1, sizeof(*keys));
	int failed = -1;
	for (uint32_t i = 0; i < t->nconditions; i++) {
		const struct trig_condition *c = &t->conditions[i];
		if (c->kind == TRIG_COND_REPLAY)
			render_key(&c->u.replay.id, t, r, e, now_ms, &keys[i]);
		else if (c->kind == TRIG_COND_RATE_LIMIT)
			render_key(&c->u.rate_limit.key, t, r, e, now_ms, &keys[i]);
	}
	/* Budgets are kept in microseconds, so that a period shorter than
	 * max milliseconds still has a step (1000 per 1s: 1 ms each). */
	int64_t now_us = now_ms < 0 ? 0 : now_ms > INT64_MAX / 1000 ? INT64_MAX : now_ms * 1000;
	pthread_mutex_lock(&ts->commit);
	int64_t *tat = trig_xcalloc(t->nconditions ? t->nconditions : 1, sizeof(*tat));
	int64_t *steps = trig_xcalloc(t->nconditions ? t->nconditions : 1, sizeof(*steps));
	for (uint32_t i = 0; i < t->nconditions && failed < 0; i++) {
		const struct trig_condition *c = &t->conditions[i];
		struct trig_ttlmap *mem = ts->conds[i].memory;
		const char *k = keys[i].data ? keys[i].data : "";
		if (c->kind == TRIG_COND_REPLAY) {
			if (!keys[i].len) {
				snprintf(why, whylen, "the replay id is empty");
				e->empty_id = true;
				failed = (int)i;
			} else if (trig_ttlmap_get(mem, k, keys[i].len, now_ms) != INT64_MIN) {
				snprintf(why, whylen, "id '%.64s' was seen in the last %llds", k,
					 (long long)(c->u.replay.window_ms / 1000));
				failed = (int)i;
			}
		} else if (c->kind == TRIG_COND_RATE_LIMIT) {
			/* GCRA: a budget of max launches per period, refilled
			 * evenly; tat is the theoretical arrival time. */
			const struct trig_cond_rate_limit *rl = &c->u.rate_limit;
			int64_t max = rl->max > 0 ? rl->max : 1;
			int64_t per = rl->per_ms > INT64_MAX / 1000 ? INT64_MAX : rl->per_ms * 1000;
			int64_t step = per / max > 0 ? per / max : 1, burst = per - step;
			int64_t stored = trig_ttlmap_get(mem, k, keys[i].len, now_us);
			int64_t t0 = stored > now_us ? stored : now_us;
			if (t0 - now_us > burst) {
				int64_t wait = t0 - burst - now_us;
				e->retry_after_s = wait / 1000000 + (wait % 1000000 != 0);
				snprintf(why, whylen, "%lld launch%s per %llds%s%.64s%s used up",
					 (long long)rl->max, rl->max == 1 ? "" : "es",
					 (long long)(rl->per_ms / 1000),
					 keys[i].len ? " for '" : "", k, keys[i].len ? "'" : "");
				failed = (int)i;
			}
			tat[i] = add_sat(t0, step);
			steps[i] = tat[i] - t0;
		}
	}
	if (failed < 0 && commit)
		for (uint32_t i = 0; i < t->nconditions; i++) {
			const struct trig_condition *c = &t->conditions[i];
			struct trig_ttlmap *mem = ts->conds[i].memory;
			if (c->kind != TRIG_COND_REPLAY && c->kind != TRIG_COND_RATE_LIMIT)
				continue;
			if (c->kind == TRIG_COND_REPLAY)
				trig_ttlmap_put(mem, keys[i].data, keys[i].len,
						add_sat(now_ms, c->u.replay.window_ms), now_ms);
			else
				trig_ttlmap_put(mem, keys[i].data ? keys[i].data : "", keys[i].len,
						tat[i], now_us);
			/* What trig_guard_undo() gives back if the launch fails. */
			e->undo = trig_xrealloc(e->undo, (e->nundo + 1) * sizeof(*e->undo));
			struct trig_eval_undo *u = &e->undo[e->nundo++];
			u->cond = i;
			u->len = keys[i].len;
			u->key = buf_detach(&keys[i]);
			if (!u->key)
				u->key = trig_xstrdup("");
			u->step_us = c->kind == TRIG_COND_RATE_LIMIT ? steps[i] : 0;
		}
	pthread_mutex_unlock(&ts->commit);
	for (uint32_t i = 0; i < t->nconditions; i++)
		buf_release(&keys[i]);
	free(keys);
	free(tat);
	free(steps);
	return failed;
}

/* ------------------------------------------------------------ evaluation */

static enum trig_verdict fail(struct trig_eval *e, const struct trig_condition *c,
			      enum trig_verdict v, const char *why)
{
	e->verdict = v;
	e->failed = c;
	if (why != e->reason)
		snprintf(e->reason, sizeof(e->reason), "%s", why);
	return v;
}

enum trig_verdict trig_guard_eval(struct trig_guard *g, const struct trig_trigger *t,
				  struct trig_request *r, int64_t now_ms, bool commit,
				  struct trig_eval *e, trig_eval_trace_fn *trace, void *trace_ctx)
{
	memset(e, 0, sizeof(*e));
	e->now_ms = now_ms;
	struct tstate *ts = &g->triggers[t - g->p->triggers];
	int64_t signed_s = INT64_MIN;
	bool memory = false;
	char why[256];
	pthread_rwlock_rdlock(&g->lock);
	for (uint32_t i = 0; i < t->nconditions; i++) {
		const struct cstate *cs = &ts->conds[i];
		const struct trig_condition *c = cs->c;
		bool ok = true;
		int rc;
		why[0] = 0;
		switch (c->kind) {
		case TRIG_COND_TOKEN:
			ok = eval_token(cs, r, why, sizeof(why));
			break;
		case TRIG_COND_HMAC:
			ok = trig_hmac_verify(&c->u.hmac, cs->m->key.data, cs->m->key.len, r, &signed_s,
					      why, sizeof(why)) == 0;
			break;
		case TRIG_COND_JWT:
			ok = eval_jwt(g, cs, r, e, now_ms, why, sizeof(why));
			break;
		case TRIG_COND_TIMESTAMP:
			ok = eval_timestamp(cs, r, signed_s, now_ms, why, sizeof(why));
			break;
		case TRIG_COND_IP_ALLOW:
			ok = eval_ip(cs, r, why, sizeof(why));
			break;
		case TRIG_COND_REPLAY:
		case TRIG_COND_RATE_LIMIT:
			memory = true;  /* judged once everything else passed */
			if (trace)
				trace(trace_ctx, c, true, "judged last: it counts launches");
			continue;
		default:
			rc = eval_one(g, cs, r, e, why, sizeof(why));
			if (rc < 0) {
				pthread_rwlock_unlock(&g->lock);
				if (trace)
					trace(trace_ctx, c, false, e->reason);
				return fail(e, c, TRIG_VERDICT_BAD_REQUEST, e->reason);
			}
			if (trace)
				trace(trace_ctx, c, rc == 1, why);
			if (rc == 0) {
				pthread_rwlock_unlock(&g->lock);
				return fail(e, c, TRIG_VERDICT_NOT_MATCHED, why);
			}
			continue;
		}
		if (trace)
			trace(trace_ctx, c, ok, why);
		if (!ok) {
			pthread_rwlock_unlock(&g->lock);
			return fail(e, c, TRIG_VERDICT_REJECTED, why);
		}
	}
	pthread_rwlock_unlock(&g->lock);
	if (memory) {
		/* What the launch reads is checked before anything is
		 * recorded: a request refused with 400 must not spend its
		 * budget or have its id remembered. */
		if (trig_eval_payload(g, t, r, e) != TRIG_VERDICT_PASS)
			return e->verdict;
		int i = commit_memory(ts, t, r, e, now_ms, commit, why, sizeof(why));
		if (i >= 0) {
			const struct trig_condition *c = &t->conditions[i];
			if (trace)
				trace(trace_ctx, c, false, why);
			/* A request without the id a replay check needs is malformed,
			 * not a replay: 400. */
			enum trig_verdict v = c->kind == TRIG_COND_RATE_LIMIT ? TRIG_VERDICT_RATE_LIMITED
					      : e->empty_id ? TRIG_VERDICT_BAD_REQUEST
							    : TRIG_VERDICT_REPLAYED;
			return fail(e, c, v, why);
		}
	}
	e->verdict = TRIG_VERDICT_PASS;
	return TRIG_VERDICT_PASS;
}

enum trig_verdict trig_eval_payload(struct trig_guard *g, const struct trig_trigger *t,
				    struct trig_request *r, struct trig_eval *e)
{
	const struct tstate *ts = &g->triggers[t - g->p->triggers];
	if (ts->reads_payload && need_payload(g, r, e) != 0)
		return fail(e, NULL, TRIG_VERDICT_BAD_REQUEST, e->reason);
	if (ts->reads_form && trig_request_form_parse(r) != 0)
		return fail(e, NULL, TRIG_VERDICT_BAD_REQUEST, "the form body is malformed");
	return TRIG_VERDICT_PASS;
}

void trig_eval_render_ctx(const struct trig_eval *e, struct trig_request *r,
			  struct trig_render_ctx *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->paths = e->payload_state > 0 ? e->paths : NULL;
	rc->claims = e->claims;
	rc->npaths = e->npaths;
	rc->request = trig_request_field;
	rc->request_ctx = r;
	rc->now_ms = trig_now_ms();
}

void trig_guard_undo(struct trig_guard *g, const struct trig_trigger *t, struct trig_eval *e)
{
	if (!e->nundo)
		return;
	struct tstate *ts = &g->triggers[t - g->p->triggers];
	int64_t now_ms = e->now_ms;     /* the clock of the evaluation */
	int64_t now_us = now_ms < 0 ? 0 : now_ms > INT64_MAX / 1000 ? INT64_MAX : now_ms * 1000;
	pthread_mutex_lock(&ts->commit);
	for (size_t i = 0; i < e->nundo; i++) {
		const struct trig_eval_undo *u = &e->undo[i];
		struct trig_ttlmap *mem = ts->conds[u->cond].memory;
		if (t->conditions[u->cond].kind == TRIG_COND_REPLAY) {
			/* Forgotten: an expired entry is no entry. */
			trig_ttlmap_put(mem, u->key, u->len, INT64_MIN + 1, now_ms);
		} else {
			/* The launch's share of the budget back, whatever others
			 * spent meanwhile. */
			int64_t tat = trig_ttlmap_get(mem, u->key, u->len, now_us);
			if (tat != INT64_MIN)
				trig_ttlmap_put(mem, u->key, u->len, tat - u->step_us, now_us);
		}
	}
	pthread_mutex_unlock(&ts->commit);
	for (size_t i = 0; i < e->nundo; i++)
		free(e->undo[i].key);
	free(e->undo);
	e->undo = NULL;
	e->nundo = 0;
}

void trig_eval_release(struct trig_eval *e)
{
	for (size_t i = 0; i < e->nundo; i++)
		free(e->undo[i].key);
	free(e->undo);
	free(e->paths);
	free(e->claims);
	buf_release(&e->claims_doc);
	buf_release(&e->form_payload);
	memset(e, 0, sizeof(*e));
}
