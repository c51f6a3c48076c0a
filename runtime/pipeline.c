/*
 * pipeline.c — the local backend's pipeline runner (pipeline.h).
 *
 * Nothing here has a thread of its own: a run is driven by the done
 * callbacks of its nodes' executions, which the backend calls on its
 * worker threads.  Each callback records the node's end under the run's
 * lock, works out which nodes may start now, and starts them after
 * unlocking.  A run ends when no node is in flight: `inflight` counts the
 * nodes submitted and not yet reported, plus one hold for whoever is
 * scheduling (the starter, a callback), so that the run cannot end while
 * someone is still about to start a node or report progress.
 */
#include "pipeline.h"

#include "fileio.h"
#include "json.h"
#include "json_iter.h"
#include "log.h"
#include "timeutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_ID_LEN      128
#define MAX_JSON_FILE   (64 << 20)
#define MAX_TREE_DEPTH  64

struct trig_pipelines {
	struct trig_local *local;
	char *dir;                      /* absolute */
	int dfd;
	pthread_mutex_t mu;
	pthread_cond_t idle;            /* a run ended */
	struct run *runs;               /* every run from start to done */
	atomic_bool stopping;
};

struct pnode {
	struct run *run;
	uint32_t idx;
	char *exec_id;
	struct trig_step step;          /* the node's step, edge-fed inputs without defaults */
	struct trig_input *inputs;      /* step.inputs when edited */
	/* under run->mu */
	uint32_t deps_left;             /* distinct nodes with an edge in, not completed */
	int status;                     /* TRIG_NODE_PENDING until it ends or is skipped */
	bool submitted;
	int exit_code;
	char *exec_dir;                 /* set when it ends */
};

struct run {
	struct trig_pipelines *ps;
	struct run *next, *prev;
	char *id, *dir;
	int dfd;
	const struct trig_pipeline *pl;
	struct trig_kv *params, *inputs, *env;          /* owned strings */
	size_t nparams, ninputs, nenv;
	char *payload_node, *payload_name;
	void *payload;
	size_t payload_len;
	char *launch_id, *trigger, *title, *commit, *copied_from;
	int64_t timeout_ms, started_ms, deadline_mono;  /* deadline: 0 none */
	trig_pipeline_done_fn *done;
	trig_pipeline_node_fn *node_fn;
	void *ctx;
	struct pnode *nodes;
	uint32_t nnodes;                /* pl->nnodes (pl is not used after done) */
	bool *first_edge;               /* per edge: first_edge_between() */

	pthread_mutex_t mu;
	unsigned inflight;
	bool failed, timed_out, stopped;
	char *error;                    /* the first failure, or a bad request */
	bool invalid;                   /* error is about the request: ERROR */

	/* a recorded run (status.json read back) */
	bool recorded;
	int rec_status;
	int64_t rec_ended;
	struct trig_node_result *rec_nodes;
	size_t rec_nnodes;
};

/* ------------------------------------------------------------ helpers */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void format_time(char out[TRIG_RFC3339_MAX], int64_t ms)
{
	if (!trig_format_rfc3339(out, ms < 0 ? 0 : ms, 3))
		strcpy(out, "1970-01-01T00:00:00.000Z");
}

static char *xstrdup_or_null(const char *s)
{
	return s ? trig_xstrdup(s) : NULL;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_addc(&b, 0);
	return buf_detach(&b);
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* local.h's execution id: [A-Za-z0-9][A-Za-z0-9._-]{0,127}. */
static bool valid_id(const char *s)
{
	if (!s || !is_alnum(s[0]))
		return false;
	size_t n = 0;
	for (; s[n]; n++)
		if (!is_alnum(s[n]) && s[n] != '.' && s[n] != '_' && s[n] != '-')
			return false;
	return n <= MAX_ID_LEN;
}

static bool valid_name_part(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!is_alnum(*s) && *s != '.' && *s != '_' && *s != '-')
			return false;
	return true;
}

static void kv_copy(struct trig_kv **dst, size_t *ndst, const struct trig_kv *src, size_t n)
{
	*dst = n ? trig_xcalloc(n, sizeof(**dst)) : NULL;
	*ndst = n;
	for (size_t i = 0; i < n; i++) {
		(*dst)[i].name = trig_xstrdup(src[i].name ? src[i].name : "");
		(*dst)[i].value = trig_xstrdup(src[i].value ? src[i].value : "");
	}
}

static void kv_free(struct trig_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)kv[i].name);
		free((char *)kv[i].value);
	}
	free(kv);
}

static void kv_push(struct trig_kv **kv, size_t *n, size_t *cap, const char *name,
		    const char *value)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*kv = trig_xrealloc(*kv, *cap * sizeof(**kv));
	}
	(*kv)[*n].name = name;
	(*kv)[*n].value = value;
	(*n)++;
}

/* Reads dfd/name whole (at most MAX_JSON_FILE bytes) into a malloc()ed,
 * NUL-terminated *text.  0, or -1 with errno. */
static int read_file_at(int dfd, const char *name, char **text, size_t *len)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	struct buf b = BUF_INIT;
	char tmp[16384];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len + (size_t)n > MAX_JSON_FILE) {
			int e = n < 0 ? errno : EFBIG;
			close(fd);
			buf_release(&b);
			errno = e;
			return -1;
		}
		if (!n)
			break;
		buf_add(&b, tmp, (size_t)n);
	}
	close(fd);
	buf_addc(&b, 0);
	*len = b.len - 1;
	*text = buf_detach(&b);
	return 0;
}

/* ------------------------------------------------------------ JSON reading */

/* Extracts the values of n path texts from a document. 0, or -1. */
static int jget(const char *doc, size_t len, const char *const *paths, unsigned n,
		struct trig_json_value *out)
{
	struct trig_json_query *q = trig_json_query_new();
	for (unsigned i = 0; i < n; i++) {
		if (trig_json_query_add_text(q, paths[i], NULL) != (int)i) {
			trig_json_query_free(q);
			return -1;
		}
	}
	int rc = trig_json_extract(q, doc, len, out, NULL);
	trig_json_query_free(q);
	return rc;
}

/* The text of a value (a string decoded; numbers, true, false as written),
 * malloc()ed; NULL for absent and null. */
static char *jtext(const struct trig_json_value *v)
{
	if (v->type == TRIG_JSON_ABSENT || v->type == TRIG_JSON_NULL)
		return NULL;
	struct buf b = BUF_INIT;
	if (trig_json_string(v, &b) < 0) {
		buf_release(&b);
		return NULL;
	}
	buf_addc(&b, 0);
	return buf_detach(&b);
}

static int64_t jtime(const struct trig_json_value *v)
{
	char *s = jtext(v);
	int64_t ms = 0;
	if (!s || trig_parse_rfc3339(s, &ms) < 0)
		ms = 0;
	free(s);
	return ms;
}

static long long jint(const struct trig_json_value *v, long long dflt)
{
	if (v->type != TRIG_JSON_NUMBER)
		return dflt;
	char *s = jtext(v);
	long long n = s ? strtoll(s, NULL, 10) : dflt;
	free(s);
	return n;
}

const char *trig_node_status_name(int status)
{
	switch (status) {
	case TRIG_NODE_SKIPPED: return "skipped";
	case TRIG_NODE_PENDING: return "pending";
	default: return trig_exec_status_name(status);
	}
}

static int status_from_name(const char *s)
{
	static const int all[] = { TRIG_EXEC_COMPLETED, TRIG_EXEC_FAILED, TRIG_EXEC_ERROR,
				   TRIG_EXEC_STOPPED, TRIG_NODE_SKIPPED, TRIG_NODE_PENDING };
	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, trig_node_status_name(all[i])))
			return all[i];
	return -1;
}

/* ------------------------------------------------------------ the request */

/* Splits "NODE.NAME" at its first dot: the node's index, or -1. */
static int key_node(const struct trig_pipeline *pl, const char *key, const char **name)
{
	const char *dot = key ? strchr(key, '.') : NULL;
	if (!dot)
		return -1;
	size_t n = (size_t)(dot - key);
	for (uint32_t i = 0; i < pl->nnodes; i++) {
		const char *nn = pl->nodes[i].name;
		if (nn && strlen(nn) == n && !memcmp(nn, key, n)) {
			*name = dot + 1;
			return (int)i;
		}
	}
	return -1;
}

static const struct trig_param *step_param(const struct trig_step *s, const char *name)
{
	for (uint32_t i = 0; s && i < s->nparams; i++)
		if (s->params[i].name && !strcmp(s->params[i].name, name))
			return &s->params[i];
	return NULL;
}

static int step_input(const struct trig_step *s, const char *name)
{
	for (uint32_t i = 0; s && i < s->ninputs; i++)
		if (s->inputs[i].name && !strcmp(s->inputs[i].name, name))
			return (int)i;
	return -1;
}

/* Whether some edge feeds node `to`'s `kind` NAME. */
static const struct trig_edge *edge_into(const struct trig_pipeline *pl, uint32_t to,
					 const char *kind, const char *name)
{
	for (uint32_t e = 0; e < pl->nedges; e++) {
		const struct trig_edge *ed = &pl->edges[e];
		if (ed->to_node == to && !strcmp(ed->to_kind, kind) && !strcmp(ed->to_name, name))
			return ed;
	}
	return NULL;
}

/* Whether edge e is the first one from its from_node to its to_node. */
static bool first_edge_between(const struct trig_pipeline *pl, uint32_t e)
{
	for (uint32_t k = 0; k < e; k++)
		if (pl->edges[k].from_node == pl->edges[e].from_node &&
		    pl->edges[k].to_node == pl->edges[e].to_node)
			return false;
	return true;
}

static int check_edges(const struct trig_pipeline *pl, struct buf *err)
{
	for (uint32_t e = 0; e < pl->nedges; e++) {
		const struct trig_edge *ed = &pl->edges[e];
		if (ed->from_node >= pl->nnodes || ed->to_node >= pl->nnodes || !ed->from_kind ||
		    !ed->from_name || !*ed->from_name || !ed->to_kind || !ed->to_name) {
			buf_printf(err, "pipeline '%s': edge %u is malformed", pl->name, e + 1);
			return -1;
		}
		const struct trig_node *from = &pl->nodes[ed->from_node], *to = &pl->nodes[ed->to_node];
		bool out = !strcmp(ed->from_kind, "output");
		bool par = !strcmp(ed->from_kind, "parameter");
		bool meta = !strcmp(ed->from_kind, "metadata");
		bool ok = false;
		if (out && !strcmp(ed->to_kind, "input"))
			ok = step_input(to->step, ed->to_name) >= 0;
		else if ((par || meta) && !strcmp(ed->to_kind, "parameter"))
			ok = step_param(to->step, ed->to_name) &&
			     (meta || step_param(from->step, ed->from_name));
		if (!ok) {
			buf_printf(err, "pipeline '%s': edge [%s.%s.%s, %s.%s.%s] is not valid",
				   pl->name, from->name, ed->from_kind, ed->from_name, to->name,
				   ed->to_kind, ed->to_name);
			return -1;
		}
	}
	/* Kahn's algorithm: every node must be reachable in dependency order. */
	uint32_t *left = trig_xcalloc(pl->nnodes + 1, sizeof(*left));
	uint32_t *queue = trig_xcalloc(pl->nnodes + 1, sizeof(*queue));
	for (uint32_t e = 0; e < pl->nedges; e++)
		if (first_edge_between(pl, e))
			left[pl->edges[e].to_node]++;
	uint32_t head = 0, tail = 0;
	for (uint32_t i = 0; i < pl->nnodes; i++)
		if (!left[i])
			queue[tail++] = i;
	while (head < tail) {
		uint32_t n = queue[head++];
		for (uint32_t e = 0; e < pl->nedges; e++)
			if (pl->edges[e].from_node == n && first_edge_between(pl, e) &&
			    --left[pl->edges[e].to_node] == 0)
				queue[tail++] = pl->edges[e].to_node;
	}
	free(left);
	free(queue);
	if (tail != pl->nnodes) {
		buf_printf(err, "pipeline '%s': its edges make a cycle", pl->name);
		return -1;
	}
	return 0;
}

/* A value of the right type for a parameter fed by an edge, so that the
 * request's other values can be checked before the edge has a value. */
static const char *placeholder(const struct trig_param *p)
{
	switch (p->type) {
	case TRIG_PARAM_INTEGER: case TRIG_PARAM_FLOAT: return "0";
	case TRIG_PARAM_FLAG: return "true";
	default: return "x";
	}
}

/* Checks everything about a request that can be known before a node runs.
 * 0, or -1 with the reason in err. */
static int validate(const struct trig_pipeline_request *rq, struct buf *err)
{
	const struct trig_pipeline *pl = rq->pipeline;
	for (uint32_t i = 0; i < pl->nnodes; i++) {
		if (!pl->nodes[i].step) {
			buf_printf(err, "pipeline '%s': node '%s' has no step", pl->name,
				   pl->nodes[i].name);
			return -1;
		}
		for (uint32_t k = 0; k < i; k++) {
			if (!strcmp(pl->nodes[k].name, pl->nodes[i].name)) {
				buf_printf(err, "pipeline '%s': two nodes named '%s'", pl->name,
					   pl->nodes[i].name);
				return -1;
			}
		}
	}
	if (check_edges(pl, err) < 0)
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		const struct trig_kv *kv = pass ? rq->inputs : rq->params;
		size_t n = pass ? rq->ninputs : rq->nparams;
		const char *what = pass ? "input" : "parameter";
		for (size_t i = 0; i < n; i++) {
			const char *name = NULL;
			int node = key_node(pl, kv[i].name, &name);
			if (node < 0) {
				buf_adds(err, what);
				buf_adds(err, " '");
				buf_adds(err, kv[i].name ? kv[i].name : "");
				buf_printf(err, "': no such node in pipeline '%s' (NODE.NAME)", pl->name);
				return -1;
			}
			const struct trig_step *s = pl->nodes[node].step;
			bool known = pass ? step_input(s, name) >= 0 : step_param(s, name) != NULL;
			if (!known) {
				buf_printf(err, "%s '%s': step '%s' of node '%s' has no %s '%s'", what,
					   kv[i].name, s->name, pl->nodes[node].name, what, name);
				return -1;
			}
			if (edge_into(pl, (uint32_t)node, what, name)) {
				buf_printf(err, "%s '%s' is fed by an edge of pipeline '%s': it cannot "
					   "be given a value", what, kv[i].name, pl->name);
				return -1;
			}
			if (pass && (!kv[i].value || !*kv[i].value)) {
				buf_printf(err, "input '%s': empty value", kv[i].name);
				return -1;
			}
		}
	}
	if (rq->payload_input) {
		const char *name = NULL;
		if (key_node(pl, rq->payload_input, &name) < 0 || !*name) {
			buf_adds(err, "payload input '");
			buf_adds(err, rq->payload_input);
			buf_printf(err, "': not NODE.NAME of a node of pipeline '%s'", pl->name);
			return -1;
		}
	}
	/* Parameter values and required parameters, node by node, as the
	 * backend will check them. */
	struct trig_kv *kv = NULL;
	size_t nkv = 0, cap = 0;
	int rc = 0;
	for (uint32_t i = 0; i < pl->nnodes && rc == 0; i++) {
		const struct trig_step *s = pl->nodes[i].step;
		nkv = 0;
		for (size_t k = 0; k < rq->nparams; k++) {
			const char *name = NULL;
			if (key_node(pl, rq->params[k].name, &name) == (int)i)
				kv_push(&kv, &nkv, &cap, name, rq->params[k].value);
		}
		for (uint32_t p = 0; p < s->nparams; p++)
			if (edge_into(pl, i, "parameter", s->params[p].name))
				kv_push(&kv, &nkv, &cap, s->params[p].name, placeholder(&s->params[p]));
		struct buf cmd = BUF_INIT;
		char msg[512] = "";
		if (trig_local_render_command(s, kv, nkv, &cmd, msg, sizeof(msg)) < 0) {
			buf_printf(err, "node '%s': %s", pl->nodes[i].name, msg);
			rc = -1;
		}
		buf_release(&cmd);
	}
	free(kv);
	return rc;
}

/* ------------------------------------------------------------ records */

static void json_field(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, ",\"%s\":", key);
	buf_json_cstr(b, value);
}

static int write_pipeline_json(struct run *r)
{
	struct buf b = BUF_INIT;
	char t[TRIG_RFC3339_MAX];
	buf_adds(&b, "{\"id\":");
	buf_json_cstr(&b, r->id);
	json_field(&b, "pipeline", r->pl->name);
	json_field(&b, "launch", r->launch_id);
	json_field(&b, "trigger", r->trigger);
	json_field(&b, "title", r->title);
	json_field(&b, "commit", r->commit);
	json_field(&b, "copied_from", r->copied_from);
	buf_adds(&b, ",\"params\":{");
	for (size_t i = 0; i < r->nparams; i++) {
		if (i)
			buf_addc(&b, ',');
		buf_json_cstr(&b, r->params[i].name);
		buf_addc(&b, ':');
		buf_json_cstr(&b, r->params[i].value);
	}
	/* inputs: one array per name, names in order of first appearance */
	buf_adds(&b, "},\"inputs\":{");
	bool any = false;
	for (size_t i = 0; i < r->ninputs; i++) {
		size_t k;
		for (k = 0; k < i; k++)
			if (!strcmp(r->inputs[k].name, r->inputs[i].name))
				break;
		if (k < i)
			continue;
		if (any)
			buf_addc(&b, ',');
		any = true;
		buf_json_cstr(&b, r->inputs[i].name);
		buf_adds(&b, ":[");
		for (k = i; k < r->ninputs; k++) {
			if (strcmp(r->inputs[k].name, r->inputs[i].name))
				continue;
			if (k > i)
				buf_addc(&b, ',');
			buf_json_cstr(&b, r->inputs[k].value);
		}
		buf_addc(&b, ']');
	}
	buf_adds(&b, "},\"environment\":[");
	for (size_t i = 0; i < r->nenv; i++) {
		if (i)
			buf_addc(&b, ',');
		buf_json_cstr(&b, r->env[i].name);
	}
	buf_addc(&b, ']');
	if (r->payload_node) {
		buf_adds(&b, ",\"payload_input\":");
		char *pi = xasprintf("%s.%s", r->payload_node, r->payload_name);
		buf_json_cstr(&b, pi);
		free(pi);
	} else {
		buf_adds(&b, ",\"payload_input\":null");
	}
	buf_printf(&b, ",\"timeout_ms\":%lld,\"nodes\":[", (long long)r->timeout_ms);
	for (uint32_t i = 0; i < r->pl->nnodes; i++) {
		buf_adds(&b, i ? ",{\"node\":" : "{\"node\":");
		buf_json_cstr(&b, r->pl->nodes[i].name);
		json_field(&b, "step", r->pl->nodes[i].step ? r->pl->nodes[i].step->name : NULL);
		json_field(&b, "execution", r->nodes[i].exec_id);
		buf_addc(&b, '}');
	}
	format_time(t, r->started_ms);
	buf_adds(&b, "]");
	json_field(&b, "created", t);
	buf_adds(&b, "}\n");
	int rc = trig_write_file_at(r->dfd, "pipeline.json", b.data, b.len, true);
	buf_release(&b);
	return rc;
}

static int write_status_json(struct run *r, int status, const char *error, int64_t ended)
{
	struct buf b = BUF_INIT;
	char t[TRIG_RFC3339_MAX];
	buf_adds(&b, "{\"id\":");
	buf_json_cstr(&b, r->id);
	json_field(&b, "pipeline", r->pl->name);
	json_field(&b, "status", trig_exec_status_name(status));
	json_field(&b, "error", error);
	format_time(t, r->started_ms);
	json_field(&b, "started", t);
	format_time(t, ended);
	json_field(&b, "ended", t);
	buf_printf(&b, ",\"duration_ms\":%lld,\"nodes\":[", (long long)(ended - r->started_ms));
	for (uint32_t i = 0; i < r->pl->nnodes; i++) {
		const struct pnode *n = &r->nodes[i];
		buf_adds(&b, i ? ",{\"node\":" : "{\"node\":");
		buf_json_cstr(&b, r->pl->nodes[i].name);
		json_field(&b, "execution", n->exec_id);
		json_field(&b, "status", trig_node_status_name(n->status));
		if (n->exit_code >= 0)
			buf_printf(&b, ",\"exit_code\":%d}", n->exit_code);
		else
			buf_adds(&b, ",\"exit_code\":null}");
	}
	buf_adds(&b, "]}\n");
	int rc = trig_write_file_at(r->dfd, "status.json", b.data, b.len, true);
	buf_release(&b);
	return rc;
}

/* Reads status.json back into r (recorded).  0, or -1 with errno. */
static int read_status_json(struct run *r, const char *text, size_t len)
{
	static const char *const f[] = { "status", "error", "started", "ended", "nodes" };
	struct trig_json_value v[5];
	if (jget(text, len, f, 5, v) < 0 || v[0].type != TRIG_JSON_STRING) {
		errno = EINVAL;
		return -1;
	}
	char *st = jtext(&v[0]);
	r->rec_status = status_from_name(st);
	free(st);
	if (r->rec_status < 0 || r->rec_status > TRIG_EXEC_STOPPED) {
		errno = EINVAL;
		return -1;
	}
	r->error = jtext(&v[1]);
	r->started_ms = jtime(&v[2]);
	r->rec_ended = jtime(&v[3]);
	struct trig_json_iter it;
	struct trig_json_value el;
	size_t cap = 0;
	if (v[4].type == TRIG_JSON_ARRAY && trig_json_iter_begin(&it, &v[4]) == 0) {
		while (trig_json_iter_next(&it, NULL, &el) == 1) {
			static const char *const nf[] = { "node", "execution", "status",
							  "exit_code" };
			struct trig_json_value nv[4];
			if (el.type != TRIG_JSON_OBJECT || jget(el.raw, el.len, nf, 4, nv) < 0)
				continue;
			if (r->rec_nnodes == cap) {
				cap = cap ? cap * 2 : 8;
				r->rec_nodes = trig_xrealloc(r->rec_nodes, cap * sizeof(*r->rec_nodes));
			}
			struct trig_node_result *nr = &r->rec_nodes[r->rec_nnodes++];
			nr->node = jtext(&nv[0]);
			nr->exec_id = jtext(&nv[1]);
			char *s = jtext(&nv[2]);
			nr->status = status_from_name(s);
			free(s);
			nr->exit_code = (int)jint(&nv[3], -1);
		}
	}
	r->recorded = true;
	return 0;
}

/* ------------------------------------------------------------ runs */

static void run_free(struct run *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; r->nodes && i < r->nnodes; i++) {
		free(r->nodes[i].exec_id);
		free(r->nodes[i].inputs);
		free(r->nodes[i].exec_dir);
	}
	free(r->nodes);
	free(r->first_edge);
	for (size_t i = 0; i < r->rec_nnodes; i++) {
		free((char *)r->rec_nodes[i].node);
		free((char *)r->rec_nodes[i].exec_id);
	}
	free(r->rec_nodes);
	kv_free(r->params, r->nparams);
	kv_free(r->inputs, r->ninputs);
	kv_free(r->env, r->nenv);
	free(r->payload_node);
	free(r->payload_name);
	free(r->payload);
	free(r->launch_id);
	free(r->trigger);
	free(r->title);
	free(r->commit);
	free(r->copied_from);
	free(r->error);
	free(r->id);
	free(r->dir);
	if (r->dfd >= 0)
		close(r->dfd);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* The run's end: status.json (unless stopped), the done callback, and the
 * run is gone.  Called with no lock held, once, when nothing is in flight. */
static void finish(struct run *r)
{
	struct trig_pipeline_result res = { 0 };
	struct trig_node_result *nodes = NULL;
	res.id = r->id;
	res.dir = r->dir;
	if (r->recorded) {
		res.status = r->rec_status;
		res.started_ms = r->started_ms;
		res.ended_ms = r->rec_ended;
		res.error = r->error;
		res.recorded = true;
		res.nodes = r->rec_nodes;
		res.nnodes = r->rec_nnodes;
	} else {
		int64_t ended = trig_now_ms();
		bool all = true;
		for (uint32_t i = 0; i < r->pl->nnodes; i++)
			all = all && r->nodes[i].status == TRIG_EXEC_COMPLETED;
		bool deadline_passed = r->deadline_mono && mono_ms() >= r->deadline_mono;
		if (r->invalid) {
			res.status = TRIG_EXEC_ERROR;
		} else if (r->timed_out || (r->failed && deadline_passed)) {
			res.status = TRIG_EXEC_FAILED;
			char d[32];
			trig_format_duration(d, sizeof(d), r->timeout_ms);
			free(r->error);
			r->error = xasprintf("timed out after %s", d);
		} else if (r->failed) {
			res.status = TRIG_EXEC_FAILED;
		} else if (all) {
			res.status = TRIG_EXEC_COMPLETED;
		} else {
			res.status = TRIG_EXEC_STOPPED;
			if (!r->error)
				r->error = trig_xstrdup("stopped");
		}
		if (res.status != TRIG_EXEC_STOPPED &&
		    write_status_json(r, res.status, r->error, ended) < 0) {
			trig_error("pipeline '%s': cannot write status.json: %s", r->id,
				   strerror(errno));
			if (res.status == TRIG_EXEC_COMPLETED) {
				res.status = TRIG_EXEC_ERROR;
				free(r->error);
				r->error = xasprintf("cannot write status.json: %s", strerror(errno));
			}
		}
		res.started_ms = r->started_ms;
		res.ended_ms = ended;
		res.error = r->error;
		nodes = trig_xcalloc(r->pl->nnodes + 1, sizeof(*nodes));
		for (uint32_t i = 0; i < r->pl->nnodes; i++) {
			nodes[i].node = r->pl->nodes[i].name;
			nodes[i].exec_id = r->nodes[i].exec_id;
			nodes[i].status = r->nodes[i].status;
			nodes[i].exit_code = r->nodes[i].exit_code;
		}
		res.nodes = nodes;
		res.nnodes = r->pl->nnodes;
		trig_debug("pipeline '%s' %s%s%s", r->id, trig_exec_status_name(res.status),
			   r->error ? ": " : "", r->error ? r->error : "");
	}
	r->done(&res, r->ctx);
	free(nodes);

	struct trig_pipelines *ps = r->ps;
	pthread_mutex_lock(&ps->mu);
	if (r->prev)
		r->prev->next = r->next;
	else
		ps->runs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	pthread_cond_broadcast(&ps->idle);
	pthread_mutex_unlock(&ps->mu);
	/* ps may be freed from here on */
	run_free(r);
}

static void *finish_thread(void *arg)
{
	finish(arg);
	return NULL;
}

/* Drops one hold on r; the last one ends the run. */
static void release(struct run *r)
{
	pthread_mutex_lock(&r->mu);
	bool last = --r->inflight == 0;
	pthread_mutex_unlock(&r->mu);
	if (last)
		finish(r);
}

/* Under r->mu: the nodes that may start now (marked submitted, counted in
 * inflight) into ready[], and those that never will marked SKIPPED. */
static size_t schedule_locked(struct run *r, uint32_t *ready)
{
	size_t n = 0;
	bool wants = false;
	for (uint32_t i = 0; i < r->pl->nnodes; i++)
		if (r->nodes[i].status == TRIG_NODE_PENDING && !r->nodes[i].submitted &&
		    !r->nodes[i].deps_left)
			wants = true;
	if (wants && !r->failed && r->deadline_mono && mono_ms() >= r->deadline_mono)
		r->timed_out = true;
	for (uint32_t i = 0; i < r->pl->nnodes; i++) {
		struct pnode *nd = &r->nodes[i];
		if (nd->status != TRIG_NODE_PENDING || nd->submitted)
			continue;
		if (r->failed || r->timed_out) {
			nd->status = TRIG_NODE_SKIPPED;
		} else if (nd->deps_left) {
			continue;
		} else if (atomic_load(&r->ps->stopping)) {
			r->stopped = true;
		} else {
			nd->submitted = true;
			r->inflight++;
			ready[n++] = i;
		}
	}
	return n;
}

static void start_node(struct run *r, uint32_t i);

/* A node's execution has ended (or could not be queued). */
static void on_node_done(const struct trig_exec_result *er, void *ctx)
{
	struct pnode *nd = ctx;
	struct run *r = nd->run;
	const struct trig_pipeline *pl = r->pl;
	uint32_t *ready = trig_xcalloc(pl->nnodes + 1, sizeof(*ready));

	pthread_mutex_lock(&r->mu);
	nd->status = er->status;
	nd->exit_code = er->exit_code;
	nd->exec_dir = xstrdup_or_null(er->dir);
	const char *name = pl->nodes[nd->idx].name;
	switch (er->status) {
	case TRIG_EXEC_COMPLETED:
		for (uint32_t e = 0; e < pl->nedges; e++)
			if (pl->edges[e].from_node == nd->idx && r->first_edge[e])
				r->nodes[pl->edges[e].to_node].deps_left--;
		break;
	case TRIG_EXEC_FAILED:
	case TRIG_EXEC_ERROR:
		if (!r->failed && !r->error) {
			if (er->status == TRIG_EXEC_ERROR)
				r->error = xasprintf("node '%s' could not run: %s", name,
						     er->error ? er->error : "error");
			else if (er->error)
				r->error = xasprintf("node '%s' failed: %s", name, er->error);
			else if (er->signal > 0)
				r->error = xasprintf("node '%s' failed: killed by signal %d", name,
						     er->signal);
			else
				r->error = xasprintf("node '%s' failed with exit code %d", name,
						     er->exit_code);
		}
		r->failed = true;
		break;
	default:
		r->stopped = true;
		break;
	}
	size_t nready = schedule_locked(r, ready);
	pthread_mutex_unlock(&r->mu);

	if (r->node_fn)
		r->node_fn(r->ctx, r->id, name, er);
	for (size_t k = 0; k < nready; k++)
		start_node(r, ready[k]);
	free(ready);
	release(r);
}

static void on_node_started(const char *id, int64_t started_ms, void *ctx)
{
	(void)id;
	(void)started_ms;
	struct pnode *nd = ctx;
	struct run *r = nd->run;
	if (r->node_fn)
		r->node_fn(r->ctx, r->id, r->pl->nodes[nd->idx].name, NULL);
}

/* Reports a node that could not be handed to the backend. */
static void node_not_run(struct run *r, uint32_t i, int status, const char *msg)
{
	struct trig_exec_result er = { 0 };
	er.id = r->nodes[i].exec_id;
	er.status = status;
	er.exit_code = -1;
	er.error = msg;
	on_node_done(&er, &r->nodes[i]);
}

/* Paths (relative to outputs/) of the regular files under dfd/rel,
 * recursively, never following a link. */
static void list_outputs(int dfd, const char *rel, int depth, char ***out, size_t *n,
			 size_t *cap)
{
	if (depth > MAX_TREE_DEPTH)
		return;
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		char *path = *rel ? xasprintf("%s/%s", rel, e->d_name) : trig_xstrdup(e->d_name);
		if (S_ISREG(st.st_mode)) {
			if (*n == *cap) {
				*cap = *cap ? *cap * 2 : 16;
				*out = trig_xrealloc(*out, *cap * sizeof(**out));
			}
			(*out)[(*n)++] = path;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0) {
				list_outputs(sub, path, depth + 1, out, n, cap);
				close(sub);
			}
		}
		free(path);
	}
	closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The value a parameter or metadata edge carries, malloc()ed; NULL when the
 * source has none. */
static char *edge_value(const char *exec_dir, const struct trig_edge *ed)
{
	struct trig_path_seg segs[2] = { { "parameters", -1 }, { ed->from_name, -1 } };
	struct buf meta = BUF_INIT;
	char *text = NULL, *val = NULL;
	size_t len = 0;
	const char *doc;
	unsigned nsegs = 2;
	if (!strcmp(ed->from_kind, "metadata")) {
		if (trig_local_metadata(exec_dir, &meta) < 0)
			return NULL;
		doc = buf_cstr(&meta);
		len = meta.len;
		segs[0] = segs[1];
		nsegs = 1;
	} else {
		int dfd = open(exec_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			return NULL;
		int rc = read_file_at(dfd, "execution.json", &text, &len);
		close(dfd);
		if (rc < 0)
			return NULL;
		doc = text;
	}
	struct trig_json_query *q = trig_json_query_new();
	struct trig_json_value v;
	if (trig_json_query_add(q, segs, nsegs) == 0 && trig_json_extract(q, doc, len, &v, NULL) == 0 &&
	    v.type != TRIG_JSON_OBJECT && v.type != TRIG_JSON_ARRAY)
		val = jtext(&v);
	trig_json_query_free(q);
	free(text);
	buf_release(&meta);
	return val;
}

/* Builds node i's request (edges resolved) and hands it to the backend;
 * problems are reported as the node's result. */
struct retry {
	struct run *run;
	uint32_t node;
};

static void *retry_main(void *arg)
{
	struct retry *rt = arg;
	struct timespec ts = { 0, 500 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	start_node(rt->run, rt->node);
	free(rt);
	return NULL;
}

/* Tries node I of R again in half a second, on a thread of its own (not
 * the backend's worker that reported the node before it: that worker is
 * what makes room in the queue).  False when no thread can start. */
static bool retry_later(struct run *r, uint32_t i)
{
	struct retry *rt = trig_xmalloc(sizeof(*rt));
	rt->run = r;
	rt->node = i;
	pthread_attr_t attr;
	pthread_t th;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int e = pthread_create(&th, &attr, retry_main, rt);
	pthread_attr_destroy(&attr);
	if (e != 0)
		free(rt);
	return e == 0;
}

static void start_node(struct run *r, uint32_t i)
{
	const struct trig_pipeline *pl = r->pl;
	struct pnode *nd = &r->nodes[i];
	const char *name = pl->nodes[i].name;
	struct trig_kv *params = NULL, *inputs = NULL, *files = NULL;
	size_t nparams = 0, ninputs = 0, nfiles = 0, cp = 0, ci = 0, cf = 0;
	char **owned = NULL;            /* strings to free after submit */
	size_t nowned = 0, cowned = 0;
	char *msg = NULL;

	for (size_t k = 0; k < r->nparams; k++) {
		const char *pn = NULL;
		if (key_node(pl, r->params[k].name, &pn) == (int)i)
			kv_push(&params, &nparams, &cp, pn, r->params[k].value);
	}
	for (size_t k = 0; k < r->ninputs; k++) {
		const char *in = NULL;
		if (key_node(pl, r->inputs[k].name, &in) == (int)i)
			kv_push(&inputs, &ninputs, &ci, in, r->inputs[k].value);
	}
	for (uint32_t e = 0; e < pl->nedges && !msg; e++) {
		const struct trig_edge *ed = &pl->edges[e];
		if (ed->to_node != i)
			continue;
		const char *src_dir = r->nodes[ed->from_node].exec_dir;
		const char *src = pl->nodes[ed->from_node].name;
		if (!src_dir) {
			msg = xasprintf("node '%s' left no execution folder", src);
			break;
		}
		if (!strcmp(ed->from_kind, "output")) {
			char *od = xasprintf("%s/outputs", src_dir);
			int fd = open(od, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			char **paths = NULL;
			size_t np = 0, cap = 0;
			if (fd >= 0) {
				list_outputs(fd, "", 0, &paths, &np, &cap);
				close(fd);
			}
			if (np > 1)
				qsort(paths, np, sizeof(*paths), cmp_str);
			for (size_t k = 0; k < np; k++) {
				if (fnmatch(ed->from_name, paths[k], 0) == 0) {
					char *abs = xasprintf("%s/%s", od, paths[k]);
					if (nowned == cowned) {
						cowned = cowned ? cowned * 2 : 16;
						owned = trig_xrealloc(owned, cowned * sizeof(*owned));
					}
					owned[nowned++] = abs;
					kv_push(&files, &nfiles, &cf, ed->to_name, abs);
				}
				free(paths[k]);
			}
			free(paths);
			free(od);
		} else {
			char *v = edge_value(src_dir, ed);
			if (!v) {
				msg = xasprintf("%s '%s' of node '%s' has no value for parameter '%s'",
						ed->from_kind, ed->from_name, src, ed->to_name);
				break;
			}
			if (nowned == cowned) {
				cowned = cowned ? cowned * 2 : 16;
				owned = trig_xrealloc(owned, cowned * sizeof(*owned));
			}
			owned[nowned++] = v;
			kv_push(&params, &nparams, &cp, ed->to_name, v);
		}
	}
	/* a required input fed by edges needs a file from them */
	{
		const struct trig_step *s = pl->nodes[i].step;
		for (uint32_t in = 0; in < s->ninputs && !msg; in++) {
			const char *iname = s->inputs[in].name;
			if (s->inputs[in].optional || !edge_into(pl, i, "input", iname))
				continue;
			bool got = false;
			for (size_t f = 0; f < nfiles; f++)
				got = got || !strcmp(files[f].name, iname);
			bool payload = r->payload_node && !strcmp(r->payload_node, name) &&
				       !strcmp(r->payload_name, iname);
			if (!got && !payload)
				msg = xasprintf("input '%s': no output of the nodes feeding it "
						"matched", iname);
		}
	}

	if (!msg) {
		struct trig_exec_request rq = { 0 };
		rq.id = nd->exec_id;
		rq.launch_id = r->launch_id;
		rq.trigger = r->trigger;
		rq.step = &nd->step;
		rq.params = params;
		rq.nparams = nparams;
		rq.inputs = inputs;
		rq.ninputs = ninputs;
		rq.env = r->env;
		rq.nenv = r->nenv;
		if (r->payload_node && !strcmp(r->payload_node, name)) {
			rq.payload_input = r->payload_name;
			rq.payload = r->payload;
			rq.payload_len = r->payload_len;
		}
		rq.title = r->title;
		rq.commit = r->commit;
		rq.files = files;
		rq.nfiles = nfiles;
		if (r->deadline_mono) {
			int64_t left = r->deadline_mono - mono_ms();
			rq.timeout_ms = left > 0 ? left : 1;
		}
		rq.started = on_node_started;
		if (trig_local_submit(r->ps->local, &rq, on_node_done, nd) < 0) {
			int e = errno;
			if (e == EAGAIN && retry_later(r, i)) {
				/* The backend's queue is full: the node waits for
				 * room (it stays in flight), it does not fail. */
				free(params);
				free(inputs);
				free(files);
				for (size_t k = 0; k < nowned; k++)
					free(owned[k]);
				free(owned);
				return;
			}
			msg = xasprintf("cannot queue execution '%s': %s", nd->exec_id,
					strerror(e));
			if (e == ECANCELED) {
				free(params);
				free(inputs);
				free(files);
				for (size_t k = 0; k < nowned; k++)
					free(owned[k]);
				free(owned);
				node_not_run(r, i, TRIG_EXEC_STOPPED, msg);
				free(msg);
				return;
			}
		}
	}
	free(params);
	free(inputs);
	free(files);
	for (size_t k = 0; k < nowned; k++)
		free(owned[k]);
	free(owned);
	if (msg) {
		node_not_run(r, i, TRIG_EXEC_ERROR, msg);
		free(msg);
	}
}

/* ------------------------------------------------------------ public */

struct trig_pipelines *trig_pipelines_new(const struct trig_pipelines_config *cfg, char *err,
					  size_t errlen)
{
	if (!cfg || !cfg->local || !cfg->pipelines_dir || !*cfg->pipelines_dir) {
		set_err(err, errlen, "pipelines: no backend or no pipelines folder");
		return NULL;
	}
	if (trig_mkdir_p(cfg->pipelines_dir) < 0) {
		set_err(err, errlen, "cannot create '%s': %s", cfg->pipelines_dir, strerror(errno));
		return NULL;
	}
	char *abs = realpath(cfg->pipelines_dir, NULL);
	if (!abs) {
		set_err(err, errlen, "cannot resolve '%s': %s", cfg->pipelines_dir, strerror(errno));
		return NULL;
	}
	int dfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		set_err(err, errlen, "cannot open '%s': %s", abs, strerror(errno));
		free(abs);
		return NULL;
	}
	struct trig_pipelines *ps = trig_xcalloc(1, sizeof(*ps));
	ps->local = cfg->local;
	ps->dir = abs;
	ps->dfd = dfd;
	atomic_init(&ps->stopping, false);
	pthread_mutex_init(&ps->mu, NULL);
	pthread_cond_init(&ps->idle, NULL);
	return ps;
}

void trig_pipelines_stop(struct trig_pipelines *ps)
{
	if (!ps)
		return;
	pthread_mutex_lock(&ps->mu);
	atomic_store(&ps->stopping, true);
	pthread_mutex_unlock(&ps->mu);
}

void trig_pipelines_free(struct trig_pipelines *ps)
{
	if (!ps)
		return;
	pthread_mutex_lock(&ps->mu);
	atomic_store(&ps->stopping, true);
	while (ps->runs)
		pthread_cond_wait(&ps->idle, &ps->mu);
	pthread_mutex_unlock(&ps->mu);
	pthread_cond_destroy(&ps->idle);
	pthread_mutex_destroy(&ps->mu);
	close(ps->dfd);
	free(ps->dir);
	free(ps);
}

static struct run *run_new(struct trig_pipelines *ps, const struct trig_pipeline_request *rq)
{
	struct run *r = trig_xcalloc(1, sizeof(*r));
	const struct trig_pipeline *pl = rq->pipeline;
	r->ps = ps;
	r->dfd = -1;
	r->id = trig_xstrdup(rq->id);
	r->dir = xasprintf("%s/%s", ps->dir, rq->id);
	r->pl = pl;
	kv_copy(&r->params, &r->nparams, rq->params, rq->nparams);
	kv_copy(&r->inputs, &r->ninputs, rq->inputs, rq->ninputs);
	kv_copy(&r->env, &r->nenv, rq->env, rq->nenv);
	if (rq->payload_input) {
		const char *dot = strchr(rq->payload_input, '.');
		if (dot) {
			r->payload_node = trig_xstrdup(rq->payload_input);
			r->payload_node[dot - rq->payload_input] = 0;
			r->payload_name = trig_xstrdup(dot + 1);
		} else {
			r->payload_node = trig_xstrdup(rq->payload_input);
			r->payload_name = trig_xstrdup("");
		}
		r->payload = trig_xmalloc(rq->payload_len + 1);
		if (rq->payload_len)
			memcpy(r->payload, rq->payload, rq->payload_len);
		r->payload_len = rq->payload_len;
	}
	r->launch_id = xstrdup_or_null(rq->launch_id);
	r->trigger = xstrdup_or_null(rq->trigger);
	r->title = xstrdup_or_null(rq->title);
	r->commit = xstrdup_or_null(rq->commit);
	r->copied_from = xstrdup_or_null(rq->copied_from);
	r->timeout_ms = rq->timeout_ms > 0 ? rq->timeout_ms : 0;
	pthread_mutex_init(&r->mu, NULL);
	r->nodes = trig_xcalloc(pl->nnodes + 1, sizeof(*r->nodes));
	r->nnodes = pl->nnodes;
	for (uint32_t i = 0; i < pl->nnodes; i++) {
		struct pnode *nd = &r->nodes[i];
		nd->run = r;
		nd->idx = i;
		nd->exec_id = xasprintf("%s.%s", rq->id, pl->nodes[i].name);
		nd->status = TRIG_NODE_PENDING;
		nd->exit_code = -1;
		if (pl->nodes[i].step)
			nd->step = *pl->nodes[i].step;
	}
	return r;
}

/* Prepares the nodes' steps and dependency counts of a valid request. */
static void run_prepare(struct run *r)
{
	const struct trig_pipeline *pl = r->pl;
	r->first_edge = trig_xcalloc(pl->nedges + 1, sizeof(*r->first_edge));
	for (uint32_t e = 0; e < pl->nedges; e++) {
		r->first_edge[e] = first_edge_between(pl, e);
		if (r->first_edge[e])
			r->nodes[pl->edges[e].to_node].deps_left++;
	}
	for (uint32_t i = 0; i < pl->nnodes; i++) {
		struct pnode *nd = &r->nodes[i];
		const struct trig_step *s = pl->nodes[i].step;
		bool edit = false;
		for (uint32_t k = 0; k < s->ninputs; k++)
			edit = edit || edge_into(pl, i, "input", s->inputs[k].name);
		if (!edit)
			continue;
		/* an edge-fed input: no defaults; requiredness checked here */
		nd->inputs = trig_xcalloc(s->ninputs, sizeof(*nd->inputs));
		memcpy(nd->inputs, s->inputs, s->ninputs * sizeof(*nd->inputs));
		for (uint32_t k = 0; k < s->ninputs; k++) {
			if (!edge_into(pl, i, "input", s->inputs[k].name))
				continue;
			nd->inputs[k].defaults = NULL;
			nd->inputs[k].ndefaults = 0;
			nd->inputs[k].optional = true;
		}
		nd->step.inputs = nd->inputs;
	}
}

int trig_pipeline_start(struct trig_pipelines *ps, const struct trig_pipeline_request *rq,
			trig_pipeline_done_fn *done, trig_pipeline_node_fn *node, void *ctx)
{
	if (!ps || !rq || !done || !rq->pipeline || !valid_id(rq->id) ||
	    (rq->nparams && !rq->params) || (rq->ninputs && !rq->inputs) ||
	    (rq->nenv && !rq->env) || (rq->payload_len && !rq->payload)) {
		errno = EINVAL;
		return -1;
	}
	const struct trig_pipeline *pl = rq->pipeline;
	for (uint32_t i = 0; i < pl->nnodes; i++) {
		if (!valid_name_part(pl->nodes[i].name) ||
		    strlen(rq->id) + 1 + strlen(pl->nodes[i].name) > MAX_ID_LEN) {
			errno = EINVAL;
			return -1;
		}
	}
	struct run *r = run_new(ps, rq);
	r->done = done;
	r->node_fn = node;
	r->ctx = ctx;

	/* under ps->mu, so that trig_pipelines_free() sees every run */
	pthread_mutex_lock(&ps->mu);
	if (atomic_load(&ps->stopping)) {
		pthread_mutex_unlock(&ps->mu);
		run_free(r);
		errno = ECANCELED;
		return -1;
	}
	for (struct run *o = ps->runs; o; o = o->next) {
		if (!strcmp(o->id, r->id)) {
			pthread_mutex_unlock(&ps->mu);
			run_free(r);
			errno = EEXIST;
			return -1;
		}
	}
	r->next = ps->runs;
	if (ps->runs)
		ps->runs->prev = r;
	ps->runs = r;
	pthread_mutex_unlock(&ps->mu);

	int e = 0;
	if (mkdirat(ps->dfd, r->id, 0700) < 0 && errno != EEXIST)
		e = errno;
	if (!e && (r->dfd = openat(ps->dfd, r->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				   O_CLOEXEC)) < 0)
		e = errno;
	char *text = NULL;
	size_t len = 0;
	bool immediate = false;
	if (!e && read_file_at(r->dfd, "status.json", &text, &len) == 0) {
		if (read_status_json(r, text, len) < 0) {
			e = EINVAL;
			trig_error("pipeline '%s': unreadable status.json", r->id);
		}
		immediate = true;
		free(text);
		text = NULL;
	} else if (!e && errno != ENOENT) {
		e = errno;
	}
	if (!e && !r->recorded) {
		r->started_ms = trig_now_ms();
		/* a resumed run keeps its pipeline.json and its first start */
		if (read_file_at(r->dfd, "pipeline.json", &text, &len) == 0) {
			static const char *const f[] = { "created" };
			struct trig_json_value v;
			if (jget(text, len, f, 1, &v) == 0 && jtime(&v) > 0)
				r->started_ms = jtime(&v);
			free(text);
		} else if (errno != ENOENT || write_pipeline_json(r) < 0) {
			e = errno;
		}
	}
	if (!e && !r->recorded) {
		struct buf err = BUF_INIT;
		if (validate(rq, &err) < 0) {
			buf_addc(&err, 0);
			r->error = buf_detach(&err);
			r->invalid = true;
			immediate = true;
			trig_warn("pipeline '%s' not run: %s", r->id, r->error);
		}
		buf_release(&err);
	}
	if (e) {
		pthread_mutex_lock(&ps->mu);
		if (r->prev)
			r->prev->next = r->next;
		else
			ps->runs = r->next;
		if (r->next)
			r->next->prev = r->prev;
		pthread_cond_broadcast(&ps->idle);
		pthread_mutex_unlock(&ps->mu);
		run_free(r);
		errno = e;
		return -1;
	}
	if (immediate) {
		pthread_t t;
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		int rc = pthread_create(&t, &at, finish_thread, r);
		pthread_attr_destroy(&at);
		if (rc) {
			trig_warn("pipeline '%s': no thread to report on (%s): reporting at once",
				  r->id, strerror(rc));
			finish(r);
		}
		return 0;
	}

	run_prepare(r);
	if (r->timeout_ms)
		r->deadline_mono = mono_ms() + r->timeout_ms;
	uint32_t *ready = trig_xcalloc(pl->nnodes + 1, sizeof(*ready));
	pthread_mutex_lock(&r->mu);
	r->inflight = 1;                /* our hold */
	size_t nready = schedule_locked(r, ready);
	pthread_mutex_unlock(&r->mu);
	trig_debug("pipeline '%s' (%s) started", r->id, pl->name);
	for (size_t k = 0; k < nready; k++)
		start_node(r, ready[k]);
	free(ready);
	release(r);
	return 0;
}

/* ------------------------------------------------------------ copy-pipeline */

void trig_pipeline_source_release(struct trig_pipeline_source *s)
{
	if (!s)
		return;
	free(s->id);
	free(s->pipeline);
	free(s->title);
	free(s->commit);
	kv_free(s->params, s->nparams);
	kv_free(s->inputs, s->ninputs);
	memset(s, 0, sizeof(*s));
}

/* pipeline.json of run `id`: its pipeline name and created time, and the
 * whole text when want_text.  0, or -1 with errno. */
static int read_run(int dfd, const char *id, char **pipeline, int64_t *created, char **text,
		    size_t *len)
{
	int rfd = openat(dfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (rfd < 0)
		return -1;
	char *t = NULL;
	size_t n = 0;
	int rc = read_file_at(rfd, "pipeline.json", &t, &n);
	close(rfd);
	if (rc < 0)
		return -1;
	static const char *const f[] = { "pipeline", "created" };
	struct trig_json_value v[2];
	if (jget(t, n, f, 2, v) < 0 || v[0].type != TRIG_JSON_STRING) {
		free(t);
		errno = EINVAL;
		return -1;
	}
	*pipeline = jtext(&v[0]);
	*created = jtime(&v[1]);
	if (text) {
		*text = t;
		*len = n;
	} else {
		free(t);
	}
	return 0;
}

int trig_pipeline_source(const char *pipelines_dir, const char *pipeline_name,
			 const char *id_or_null, struct trig_pipeline_source *out, char *err,
			 size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (!pipelines_dir || !pipeline_name) {
		set_err(err, errlen, "copy-pipeline: no folder or no pipeline");
		errno = EINVAL;
		return -1;
	}
	if (id_or_null && !valid_id(id_or_null)) {
		set_err(err, errlen, "copy-pipeline: '%.128s' is not a pipeline run id", id_or_null);
		errno = EINVAL;
		return -1;
	}
	int dfd = open(pipelines_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno != ENOENT) {
		int e = errno;
		set_err(err, errlen, "cannot read '%s': %s", pipelines_dir, strerror(e));
		errno = e;
		return -1;
	}
	char *id = NULL;
	if (id_or_null) {
		char *pname = NULL;
		int64_t created = 0;
		if (dfd < 0 || read_run(dfd, id_or_null, &pname, &created, NULL, NULL) < 0) {
			set_err(err, errlen, "copy-pipeline: no pipeline run '%s'", id_or_null);
			if (dfd >= 0)
				close(dfd);
			errno = ENOENT;
			return -1;
		}
		if (strcmp(pname, pipeline_name)) {
			set_err(err, errlen, "copy-pipeline: run '%s' is of pipeline '%s', not '%s'",
				id_or_null, pname, pipeline_name);
			free(pname);
			close(dfd);
			errno = EINVAL;
			return -1;
		}
		free(pname);
		id = trig_xstrdup(id_or_null);
	} else if (dfd >= 0) {
		int64_t best = 0;
		DIR *d = fdopendir(dup(dfd));
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char *pname = NULL;
			int64_t created = 0;
			if (!valid_id(de->d_name) ||
			    read_run(dfd, de->d_name, &pname, &created, NULL, NULL) < 0)
				continue;
			if (!strcmp(pname, pipeline_name) &&
			    (!id || created > best || (created == best && strcmp(de->d_name, id) > 0))) {
				free(id);
				id = trig_xstrdup(de->d_name);
				best = created;
			}
			free(pname);
		}
		if (d)
			closedir(d);
	}
	if (!id) {
		set_err(err, errlen, "copy-pipeline: no run of pipeline '%s' to copy", pipeline_name);
		if (dfd >= 0)
			close(dfd);
		errno = ENOENT;
		return -1;
	}
	char *text = NULL, *pname = NULL;
	size_t len = 0;
	int rc = read_run(dfd, id, &pname, &out->created_ms, &text, &len);
	close(dfd);
	if (rc < 0) {
		int e = errno;
		set_err(err, errlen, "copy-pipeline: cannot read run '%s': %s", id, strerror(e));
		free(id);
		errno = e;
		return -1;
	}
	static const char *const f[] = { "title", "commit", "params", "inputs" };
	struct trig_json_value v[4];
	if (jget(text, len, f, 4, v) < 0)       /* read_run() validated it: cannot happen */
		memset(v, 0, sizeof(v));
	out->id = id;
	out->pipeline = pname;
	out->title = jtext(&v[0]);
	out->commit = jtext(&v[1]);
	struct trig_json_iter it, ait;
	struct trig_json_value k, val, el;
	size_t cap = 0;
	if (v[2].type == TRIG_JSON_OBJECT && trig_json_iter_begin(&it, &v[2]) == 0) {
		while (trig_json_iter_next(&it, &k, &val) == 1) {
			char *name = jtext(&k), *value = jtext(&val);
			if (!name || !value) {
				free(name);
				free(value);
				continue;
			}
			kv_push(&out->params, &out->nparams, &cap, name, value);
		}
	}
	cap = 0;
	if (v[3].type == TRIG_JSON_OBJECT && trig_json_iter_begin(&it, &v[3]) == 0) {
		while (trig_json_iter_next(&it, &k, &val) == 1) {
			if (val.type != TRIG_JSON_ARRAY || trig_json_iter_begin(&ait, &val) < 0)
				continue;
			while (trig_json_iter_next(&ait, NULL, &el) == 1) {
				char *name = jtext(&k), *value = jtext(&el);
				if (!name || !value) {
					free(name);
					free(value);
					continue;
				}
				kv_push(&out->inputs, &out->ninputs, &cap, name, value);
			}
		}
	}
	free(text);
	return 0;
}

/* ------------------------------------------------------------ listing */

struct listed {
	char *id, *pipeline, *status, *launch, *trigger, *error;
	int64_t created, duration;      /* duration -1: unknown */
	long done, total;               /* done -1: unknown */
};

static int cmp_listed(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return -strcmp(x->id, y->id);
}

static long count_nodes(const struct trig_json_value *arr, bool completed_only)
{
	struct trig_json_iter it;
	struct trig_json_value el;
	long n = 0;
	if (arr->type != TRIG_JSON_ARRAY || trig_json_iter_begin(&it, arr) < 0)
		return -1;
	while (trig_json_iter_next(&it, NULL, &el) == 1) {
		if (completed_only) {
			static const char *const f[] = { "status" };
			struct trig_json_value v;
			if (el.type != TRIG_JSON_OBJECT || jget(el.raw, el.len, f, 1, &v) < 0 ||
			    !trig_json_key_equal(&v, "completed", 9))
				continue;
		}
		n++;
	}
	return n;
}

int trig_pipelines_list(const char *pipelines_dir, bool json, FILE *out)
{
	DIR *d = opendir(pipelines_dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	struct listed *runs = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!valid_id(de->d_name))
			continue;
		int rfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				 O_CLOEXEC);
		if (rfd < 0)
			continue;
		char *pt = NULL, *st = NULL;
		size_t plen = 0, slen = 0;
		static const char *const pf[] = { "pipeline", "created", "launch", "trigger",
						  "nodes" };
		static const char *const sf[] = { "status", "duration_ms", "error", "nodes" };
		struct trig_json_value pv[5], sv[4];
		if (read_file_at(rfd, "pipeline.json", &pt, &plen) < 0 ||
		    jget(pt, plen, pf, 5, pv) < 0) {
			free(pt);
			close(rfd);
			continue;
		}
		bool have_s = read_file_at(rfd, "status.json", &st, &slen) == 0 &&
			      jget(st, slen, sf, 4, sv) == 0;
		close(rfd);
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			runs = trig_xrealloc(runs, cap * sizeof(*runs));
		}
		struct listed *l = &runs[n++];
		memset(l, 0, sizeof(*l));
		l->id = trig_xstrdup(de->d_name);
		l->pipeline = jtext(&pv[0]);
		l->created = jtime(&pv[1]);
		l->launch = jtext(&pv[2]);
		l->trigger = jtext(&pv[3]);
		l->total = count_nodes(&pv[4], false);
		l->duration = -1;
		l->done = -1;
		if (have_s) {
			l->status = jtext(&sv[0]);
			l->duration = jint(&sv[1], -1);
			l->error = jtext(&sv[2]);
			l->done = count_nodes(&sv[3], true);
		}
		if (!l->status)
			l->status = trig_xstrdup("running");
		free(pt);
		free(st);
	}
	closedir(d);
	if (n > 1)
		qsort(runs, n, sizeof(*runs), cmp_listed);
	if (!json)
		fprintf(out, "%-28s %-24s %-10s %-24s %-9s %s\n", "ID", "PIPELINE", "STATUS",
			"CREATED", "DURATION", "NODES");
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		struct listed *l = &runs[i];
		char t[TRIG_RFC3339_MAX];
		format_time(t, l->created);
		buf_reset(&b);
		if (json) {
			buf_adds(&b, "{\"id\":");
			buf_json_cstr(&b, l->id);
			json_field(&b, "pipeline", l->pipeline);
			json_field(&b, "status", l->status);
			json_field(&b, "created", t);
			if (l->duration >= 0)
				buf_printf(&b, ",\"duration_ms\":%lld", (long long)l->duration);
			else
				buf_adds(&b, ",\"duration_ms\":null");
			if (l->done >= 0)
				buf_printf(&b, ",\"nodes_done\":%ld", l->done);
			else
				buf_adds(&b, ",\"nodes_done\":null");
			if (l->total >= 0)
				buf_printf(&b, ",\"nodes_total\":%ld", l->total);
			else
				buf_adds(&b, ",\"nodes_total\":null");
			json_field(&b, "launch", l->launch);
			json_field(&b, "trigger", l->trigger);
			json_field(&b, "error", l->error);
			buf_adds(&b, "}\n");
		} else {
			char dur[32] = "-", nodes[48];
			if (l->duration >= 0)
				snprintf(dur, sizeof(dur), "%.1fs", (double)l->duration / 1000);
			if (l->done >= 0)
				snprintf(nodes, sizeof(nodes), "%ld/%ld", l->done, l->total);
			else
				snprintf(nodes, sizeof(nodes), "-/%ld", l->total);
			buf_printf(&b, "%-28s %-24s %-10s %-24s %-9s %s\n", l->id,
				   l->pipeline ? l->pipeline : "-", l->status, t, dur, nodes);
		}
		fputs(buf_cstr(&b), out);
		free(l->id);
		free(l->pipeline);
		free(l->status);
		free(l->launch);
		free(l->trigger);
		free(l->error);
	}
	buf_release(&b);
	free(runs);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}
