/*
 * fuzz_events.c — the body path of POST /events minus the network: the
 * input is an event posted to the dispatcher (trig_events_post) of a fixed
 * project whose notification triggers filter on event paths (bracketed
 * dotted keys, regex without a generated matcher, greater-than, contains,
 * in, exists, any/not groups, a rate limit, a disabled trigger), with a
 * real launcher over a state folder in /dev/shm.  Some inputs go through
 * the asynchronous path instead (trig_events_emit, then drain), and the
 * input's text also feeds trig_event_build_run, whose output must be valid
 * JSON that the dispatcher accepts.
 *
 * Input: byte 0 chooses the type argument (NULL, one of a few, or the
 * input's first line), byte 1 the depth and the path; the rest is the body.
 *
 * Rules checked (a broken one aborts): a refused event has a message and
 * no summary, and launched nothing; an accepted one has a valid JSON
 * summary whose "type" is the type settled on (the argument, else the
 * body's); a body without a "type" member is accepted with a type
 * argument iff it is a JSON object; launches never exceed the triggers
 * waiting for the type; a depth past the bound never launches.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "buf.h"
#include "conditions.h"
#include "events.h"
#include "journal.h"
#include "json.h"
#include "launch.h"
#include "local.h"
#include "log.h"
#include "state.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_events: %s:%d: '%s' failed\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct trig_path_seg seg_step[] = { { "data", -1 }, { "valohai.execution-step", -1 } };
static const struct trig_path_seg seg_ds[] = { { "data", -1 }, { "dataset", -1 }, { "name", -1 } };
static const struct trig_path_seg seg_counter[] = { { "data", -1 }, { "model_version", -1 },
						    { "counter", -1 } };
static const struct trig_path_seg seg_tags[] = { { "data", -1 }, { "model_version", -1 },
						 { "tags", -1 } };
static const struct trig_path_seg seg_type[] = { { "type", -1 } };
static const struct trig_path_seg seg_uri[] = { { "data", -1 }, { "version", -1 }, { "uri", -1 } };

#define FIELD(p, id, txt) { .root = TRIG_ROOT_EVENT, .text = txt, .segs = p, \
			    .nsegs = N(p), .path_id = id }
static const struct trig_field paths[] = {
	FIELD(seg_step, 0, "event.data[\"valohai.execution-step\"]"),
	FIELD(seg_ds, 1, "event.data.dataset.name"),
	FIELD(seg_counter, 2, "event.data.model_version.counter"),
	FIELD(seg_tags, 3, "event.data.model_version.tags"),
	FIELD(seg_type, 4, "event.type"),
	FIELD(seg_uri, 5, "event.data.version.uri"),
};

static const char *const in_values[] = { "custom.x", "y" };
static const struct trig_condition not_uri[] = {
	{ .kind = TRIG_COND_FILTER, .source = "uri exists",
	  .u.filter = { .field = FIELD(seg_uri, 5, "event.data.version.uri"), .op = TRIG_OP_EXISTS } },
};
static const struct trig_condition any_of[] = {
	{ .kind = TRIG_COND_FILTER, .source = "type in",
	  .u.filter = { .field = FIELD(seg_type, 4, "event.type"), .op = TRIG_OP_IN,
			.values = in_values, .nvalues = 2 } },
	{ .kind = TRIG_COND_NOT, .source = "not uri exists",
	  .u.group = { .conditions = not_uri, .nconditions = 1 } },
};
static const struct trig_condition c_train[] = {
	{ .kind = TRIG_COND_FILTER, .source = "step == train",
	  .u.filter = { .field = FIELD(seg_step, 0, "event.data[\"valohai.execution-step\"]"),
			.op = TRIG_OP_EQUALS, .value = "train" } },
};
static const struct trig_condition c_images[] = {
	{ .kind = TRIG_COND_FILTER, .source = "name matches",
	  .u.filter = { .field = FIELD(seg_ds, 1, "event.data.dataset.name"), .op = TRIG_OP_MATCHES,
			.value = "^images(-.*)?$" } },
};
static const struct trig_condition c_model[] = {
	{ .kind = TRIG_COND_FILTER, .source = "counter > 5",
	  .u.filter = { .field = FIELD(seg_counter, 2, "event.data.model_version.counter"),
			.op = TRIG_OP_GREATER, .number = 5 } },
	{ .kind = TRIG_COND_FILTER, .source = "tags contains production",
	  .u.filter = { .field = FIELD(seg_tags, 3, "event.data.model_version.tags"),
			.op = TRIG_OP_CONTAINS, .value = "production" } },
};
static const struct trig_condition c_custom[] = {
	{ .kind = TRIG_COND_ANY, .source = "any", .u.group = { .conditions = any_of, .nconditions = 2 } },
};
static const struct trig_condition c_rated[] = {
	{ .kind = TRIG_COND_RATE_LIMIT, .source = "rate limit 3 per 1h",
	  .u.rate_limit = { .max = 3, .per_ms = 3600000 } },
};

#define NOTE(n, ev, conds, on) { .name = n, .kind = TRIG_KIND_NOTIFICATION, .enabled = on, \
				 .event = ev, .conditions = conds, .nconditions = N(conds) }
static const struct trig_trigger triggers[] = {
	NOTE("train-done", "execution_completed", c_train, true),
	NOTE("images", "dataset_version_created", c_images, true),
	NOTE("model", "model_latest_approved_version_changed", c_model, true),
	NOTE("custom", "custom.x", c_custom, true),
	NOTE("rated", "custom.x", c_rated, true),
	NOTE("off", "execution_completed", c_train, false),
};
static const struct trig_project project = {
	.abi = TRIG_ABI, .name = "fuzz", .triggers = triggers, .ntriggers = N(triggers),
	.paths = paths, .npaths = N(paths),
};

static const char *const types[] = {
	"execution_completed", "dataset_version_created", "model_latest_approved_version_changed",
	"custom.x", "nobody.waits",
};

static struct trig_events *ev;

static unsigned waiting_for(const char *type)
{
	unsigned n = 0;
	for (size_t i = 0; i < N(triggers); i++)
		n += triggers[i].enabled && !strcmp(triggers[i].event, type);
	return n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	trig_log_setup("fuzz_events", TRIG_LOG_ERROR + 0, false);
	char dir[256], execdir[300], err[512];
	snprintf(dir, sizeof(dir), "/dev/shm/trig-fuzz-events-%ld", (long)getpid());
	if (access("/dev/shm", W_OK) != 0)
		snprintf(dir, sizeof(dir), "/tmp/trig-fuzz-events-%ld", (long)getpid());
	snprintf(execdir, sizeof(execdir), "%s/executions", dir);
	struct trig_state *st = trig_state_open(dir, 0, err, sizeof(err));
	REQUIRE(st);
	struct trig_journal *j = trig_journal_open(st, err, sizeof(err));
	REQUIRE(j);
	struct trig_audit *audit = trig_audit_open(st, err, sizeof(err));
	REQUIRE(audit);
	trig_audit_set_rotation(audit, 1u << 20, 1);
	struct trig_local_config lc = { .executions_dir = execdir, .workdir = dir, .max_parallel = 1 };
	struct trig_local *local = trig_local_new(&lc, err, sizeof(err));
	REQUIRE(local);
	struct trig_json_query *q = trig_json_query_new();
	for (uint32_t i = 0; i < project.npaths; i++)
		REQUIRE(trig_json_query_add(q, paths[i].segs, paths[i].nsegs) == (int)i);
	struct trig_guard *g = trig_guard_new(&project, q, err, sizeof(err));
	REQUIRE(g);
	ev = trig_events_new(&project, q, st, audit);
	struct trig_launcher_config cfg = {
		.project = &project, .journal = j, .audit = audit, .local = local, .paths = q,
	};
	struct trig_launcher *l = trig_launcher_new(&cfg);
	trig_events_attach(ev, l, g, NULL);
	/* Everything lives as long as the process. */
	return 0;
}

/* The "type" member of a summary. */
static void summary_type(const struct buf *sum, struct buf *out)
{
	struct trig_json_query *q = trig_json_query_new();
	REQUIRE(trig_json_query_add_text(q, "type", NULL) == 0);
	struct trig_json_value v;
	REQUIRE(trig_json_extract(q, sum->data, sum->len, &v, NULL) == 0);
	REQUIRE(v.type == TRIG_JSON_STRING);
	buf_reset(out);
	REQUIRE(trig_json_string(&v, out) == 0);
	trig_json_query_free(q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const char *body = (const char *)data + 2;
	size_t len = size - 2;
	unsigned depth = data[1] % 12;
	char line[200];
	const char *type = NULL;
	unsigned pick = data[0] % 8;
	if (pick >= 1 && pick <= N(types)) {
		type = types[pick - 1];
	} else if (pick == 6) {
		/* The first line of the body is the type. */
		const char *nl = memchr(body, '\n', len);
		size_t n = nl ? (size_t)(nl - body) : len;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, body, n);
		line[n] = 0;
		if (strlen(line) != n)
			return 0;       /* a NUL: not a C string */
		type = line;
		if (nl) {
			len -= (size_t)(nl + 1 - body);
			body = nl + 1;
		} else {
			len = 0;
			body = "";
		}
	}

	if (data[1] & 0x80) {
		/* The asynchronous path: queued, dispatched by the thread. */
		if (type && trig_event_type_valid(type, strlen(type)))
			trig_events_emit(ev, type, body, len, depth);
		trig_events_drain(ev);
		return 0;
	}

	struct buf sum = BUF_INIT, t = BUF_INIT;
	struct trig_events_stats st;
	char err[512] = "";
	int n = trig_events_post(ev, type, body, len, depth, NULL, &sum, &st, err, sizeof(err));
	if (n < 0) {
		REQUIRE(err[0]);
		REQUIRE(sum.len == 0);
		REQUIRE(st.launched == 0);
	} else {
		REQUIRE((unsigned)n == st.launched);
		REQUIRE(trig_json_validate(sum.data, sum.len, NULL) == 0);
		summary_type(&sum, &t);
		if (type)
			REQUIRE(!strcmp(t.data, type));
		REQUIRE(trig_event_type_valid(t.data, t.len));
		REQUIRE(st.launched <= waiting_for(t.data));
		REQUIRE(st.launched + st.not_matched + st.failed + st.disabled == st.matched);
		if (depth >= TRIG_EVENTS_MAX_DEPTH)
			REQUIRE(st.launched == 0);
	}
	/* A body with no "type" and a valid type argument: accepted iff it
	 * is a JSON object. */
	if (type && trig_event_type_valid(type, strlen(type))) {
		struct trig_json_query *q = trig_json_query_new();
		static const struct trig_path_seg ts[] = { { "type", -1 } };
		trig_json_query_add(q, NULL, 0);
		trig_json_query_add(q, ts, 1);
		struct trig_json_value v[2];
		if (len <= TRIG_EVENTS_MAX_BODY && trig_json_extract(q, body, len, v, NULL) == 0 &&
		    v[1].type == TRIG_JSON_ABSENT)
			REQUIRE((n >= 0) == (v[0].type == TRIG_JSON_OBJECT));
		trig_json_query_free(q);
	}

	/* The builder on the input's text: one valid line the dispatcher takes. */
	struct buf s = BUF_INIT, b = BUF_INIT;
	buf_add(&s, body, len > 64 ? 64 : len);
	struct trig_event_run e = {
		.type = (data[0] & 1) ? "execution_completed" : "pipeline_failed", .project = "fuzz",
		.id = s.data, .step = s.data, .pipeline = s.data, .pipeline_id = (data[0] & 2) ? s.data : NULL,
		.node = s.data, .title = s.data, .commit = s.data, .url = s.data, .trigger = s.data,
		.launch = s.data, .exit_code = (int8_t)data[1],
		.created_ms = (int64_t)data[0] * 1000003, .started_ms = (int64_t)data[1] * 999983,
		.ended_ms = (int64_t)(data[0] ^ data[1]) * 1000033, .depth = depth,
	};
	trig_event_build_run(&b, &e);
	REQUIRE(trig_json_validate(b.data, b.len, NULL) == 0);
	REQUIRE(!memchr(b.data, '\n', b.len));
	buf_reset(&sum);
	n = trig_events_post(ev, NULL, b.data, b.len, TRIG_EVENTS_MAX_DEPTH, NULL, &sum, &st, err,
			     sizeof(err));
	REQUIRE(n == 0);
	buf_release(&s);
	buf_release(&b);
	buf_release(&sum);
	buf_release(&t);
	return 0;
}
