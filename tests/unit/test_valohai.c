/*
 * test_valohai.c — the Valohai backend (runtime/valohai.c) against the mock
 * API tests/e2e/valohai_mock.py, started once per test case as a
 * subprocess (python3; see find_mock() for where the script is looked for).  Each test resets the mock and reads
 * what it recorded (one JSON line per request) with the runtime's own JSON
 * reader.
 */
#include "unit.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "json.h"
#include "valohai.h"

#define TOKEN "s3cr3t-T0ken-value"
#define PROJECT "proj-1"

static pid_t mock_pid = -1;
static char mock_url[64];
static char dir[4096], record[4200];
static const char *upload_style = "put";

/* ------------------------------------------------------------ the mock */

/* The mock: under $TRIG_SRC (set by the Makefile), the working folder, or
 * the source tree the test binary was built in (build[/sanitize]/tests/unit/). */
static void find_mock(char *script, size_t len)
{
	const char *src = getenv("TRIG_SRC");
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = 0;
	const char *fmt[] = { "%s/tests/e2e/valohai_mock.py", "%s/../../../tests/e2e/valohai_mock.py",
			      "%s/../../../../tests/e2e/valohai_mock.py" };
	if (src) {
		snprintf(script, len, fmt[0], src);
		return;
	}
	snprintf(script, len, fmt[0], ".");
	for (int i = 1; i < 3 && access(script, R_OK) != 0; i++)
		snprintf(script, len, fmt[i], exe);
}

static void mock_start(void)
{
	char script[8400];
	find_mock(script, sizeof(script));
	unit_temp_dir(dir, sizeof(dir), "valohai");
	snprintf(record, sizeof(record), "%s/record.jsonl", dir);
	int fd[2];
	ck_assert_int_eq(pipe(fd), 0);
	mock_pid = fork();
	ck_assert_int_ge(mock_pid, 0);
	if (mock_pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execlp("python3", "python3", script, "--port", "0", "--record", record, "--token",
		       TOKEN, "--project", PROJECT, "--tick", "0.1", "--upload-style", upload_style,
		       (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	char line[32] = "";
	size_t n = 0;
	while (n + 1 < sizeof(line)) {
		ssize_t r = read(fd[0], line + n, 1);
		if (r <= 0 || line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	close(fd[0]);
	ck_assert_msg(n > 0, "the mock did not start (%s)", script);
	snprintf(mock_url, sizeof(mock_url), "http://127.0.0.1:%s", line);
}

static void mock_start_put(void)
{
	upload_style = "put";
	mock_start();
}

static void mock_start_form(void)
{
	upload_style = "form";
	mock_start();
}

static void mock_stop(void)
{
	if (mock_pid > 0) {
		kill(mock_pid, SIGTERM);
		waitpid(mock_pid, NULL, 0);
		mock_pid = -1;
	}
	if (*dir)
		unit_remove_tree(dir);
}

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
	(void)p, (void)ud;
	return s * n;
}

/* A control call to the mock: POST path with a JSON body. */
static void mock_post(const char *path, const char *json)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", mock_url, path);
	CURL *c = curl_easy_init();
	ck_assert_ptr_nonnull(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	ck_assert_int_eq(code, 200);
	curl_easy_cleanup(c);
}

static void reset(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	mock_post("/_mock/reset", "{}");
}

/* ------------------------------------------------------------ records */

static char *recs[64];
static int nrecs;

static void load_records(void)
{
	for (int i = 0; i < nrecs; i++)
		free(recs[i]);
	nrecs = 0;
	FILE *f = fopen(record, "r");
	ck_assert_ptr_nonnull(f);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0 && nrecs < 64)
		recs[nrecs++] = strndup(line, (size_t)n);
	free(line);
	fclose(f);
}

/* The value at path in record i: its text (strings decoded) into out;
 * returns its type. */
static enum trig_json_type rec_get(int i, const char *path, struct buf *out)
{
	ck_assert_int_lt(i, nrecs);
	struct trig_json_query *q = trig_json_query_new();
	int slot = trig_json_query_add_text(q, path, NULL);
	ck_assert_int_ge(slot, 0);
	struct trig_json_value v[1];
	ck_assert_int_eq(trig_json_query_slots(q), 1);
	ck_assert_int_eq(trig_json_extract(q, recs[i], strlen(recs[i]), v, NULL), 0);
	buf_reset(out);
	if (v[0].type != TRIG_JSON_ABSENT)
		ck_assert_int_eq(trig_json_string(&v[0], out), 0);
	trig_json_query_free(q);
	return v[0].type;
}

/* Asserts that path in record i is a string equal to want. */
static void rec_is(int i, const char *path, const char *want)
{
	struct buf b = BUF_INIT;
	enum trig_json_type t = rec_get(i, path, &b);
	ck_assert_msg(t == TRIG_JSON_STRING && !strcmp(buf_cstr(&b), want),
		      "record %d %s: want \"%s\", got %s %s", i, path, want,
		      trig_json_type_name(t), buf_cstr(&b));
	buf_release(&b);
}

/* Asserts that path in record i has type t and text want. */
static void rec_raw(int i, const char *path, enum trig_json_type t, const char *want)
{
	struct buf b = BUF_INIT;
	enum trig_json_type got = rec_get(i, path, &b);
	ck_assert_msg(got == t && !strcmp(buf_cstr(&b), want),
		      "record %d %s: want %s %s, got %s %s", i, path, trig_json_type_name(t), want,
		      trig_json_type_name(got), buf_cstr(&b));
	buf_release(&b);
}

/* ------------------------------------------------------------ fixtures */

static const struct trig_param train_params[] = {
	{ "epochs", TRIG_PARAM_INTEGER, "3", NULL, false },
	{ "rate", TRIG_PARAM_FLOAT, "0.1", NULL, false },
	{ "note", TRIG_PARAM_STRING, NULL, NULL, true },
	{ "fast", TRIG_PARAM_FLAG, "false", NULL, false },
};
static const char *const dataset_defaults[] = { "https://example.com/data/mnist.npz" };
static const char *const labels_defaults[] = { "https://example.com/data/labels.csv" };
static const struct trig_input train_inputs[] = {
	{ "dataset", dataset_defaults, 1, false },
	{ "labels", labels_defaults, 1, false },
	{ "payload", NULL, 0, true },
};
static const struct trig_env train_env[] = { { "MODE", "batch" }, { "KEEP", "yes" } };
static const struct trig_step train = {
	"train", "python3 train.py {parameters}", "python:3.12", train_params, 4, train_inputs,
	3, train_env, 2,
};
static const struct trig_step failing = { "fail-train", "false", NULL, NULL, 0, NULL, 0, NULL, 0 };
static const struct trig_input prep_inputs[] = { { "dataset", NULL, 0, false },
						 { "payload", NULL, 0, true } };
static const struct trig_step prep = { "preprocess", "python3 prep.py", NULL, NULL, 0,
				       prep_inputs, 2, NULL, 0 };
static const struct trig_node nodes[] = { { "prep", &prep }, { "train", &train } };
static const struct trig_edge edges[] = {
	{ 0, 1, "output", "*.npz", "input", "dataset" },
};
static const struct trig_pipeline nightly = { "nightly", nodes, 2, edges, 1 };

static struct trig_valohai *client(const char *token, const char *project, int64_t timeout_ms)
{
	char err[256];
	struct trig_valohai_config cfg = {
		.url = mock_url, .token = token, .project_id = project, .max_attempts = 3,
		.timeout_ms = timeout_ms, .backoff_ms = 10,
	};
	struct trig_valohai *v = trig_valohai_new(&cfg, err, sizeof(err));
	ck_assert_msg(v != NULL, "%s", err);
	return v;
}

static int64_t ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_train(struct trig_valohai *v, const char *key, struct trig_valohai_run *run,
		     char *err, size_t errlen)
{
	struct trig_valohai_execution rq = { .step = &train, .commit = "abc123" };
	return trig_valohai_create_execution(v, &rq, key, run, err, errlen);
}

/* ------------------------------------------------------------ tests */

START_TEST(test_config_rules)
{
	char err[256];
	struct trig_valohai_config cfg = { .url = "http://example.com", .token = TOKEN,
					   .project_id = PROJECT };
	ck_assert_ptr_null(trig_valohai_new(&cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "must be https"));
	cfg.url = "ftp://127.0.0.1/";
	ck_assert_ptr_null(trig_valohai_new(&cfg, err, sizeof(err)));
	cfg.url = "https://app.valohai.com/";
	struct trig_valohai *v = trig_valohai_new(&cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(v);
	trig_valohai_free(v);
	cfg.url = "http://localhost:1";
	v = trig_valohai_new(&cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(v);
	trig_valohai_free(v);
	cfg.token = "";
	ck_assert_ptr_null(trig_valohai_new(&cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no token"));
	cfg.token = TOKEN;
	cfg.project_id = NULL;
	ck_assert_ptr_null(trig_valohai_new(&cfg, err, sizeof(err)));
	ck_assert_ptr_null(strstr(err, TOKEN));
}
END_TEST

START_TEST(test_execution_body)
{
	reset();
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	const struct trig_kv params[] = { { "epochs", "5" }, { "note", "it's \"quoted\" $(x)" },
					  { "fast", "yes" }, { "epochs", "7" }, { "rate", "0.25" } };
	const struct trig_kv inputs[] = { { "dataset", "https://a.example/1.npz" },
					  { "dataset", "s3://bucket/2.npz" } };
	const struct trig_kv env[] = { { "MODE", "online" }, { "EXTRA", "1" } };
	struct trig_valohai_execution rq = {
		.step = &train, .commit = "0123abcd", .title = "nightly run",
		.params = params, .nparams = 5, .inputs = inputs, .ninputs = 2,
		.env = env, .nenv = 2,
	};
	struct trig_valohai_run run;
	char err[512];
	int rc = trig_valohai_create_execution(v, &rq, "l-1-0", &run, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_int_gt(strlen(run.id), 10);
	ck_assert_ptr_nonnull(strstr(run.url, run.id));
	load_records();
	ck_assert_int_eq(nrecs, 1);
	rec_is(0, "method", "POST");
	rec_is(0, "path", "/api/v0/executions/");
	rec_is(0, "idempotency_key", "l-1-0");
	rec_raw(0, "auth_ok", TRIG_JSON_TRUE, "true");
	rec_is(0, "headers.content-type", "application/json");
	rec_is(0, "body.project", PROJECT);
	rec_is(0, "body.step", "train");
	rec_is(0, "body.commit", "0123abcd");
	rec_is(0, "body.title", "nightly run");
	rec_raw(0, "body.parameters.epochs", TRIG_JSON_NUMBER, "7");        /* last wins */
	rec_raw(0, "body.parameters.rate", TRIG_JSON_NUMBER, "0.25");
	rec_raw(0, "body.parameters.fast", TRIG_JSON_TRUE, "true");
	rec_is(0, "body.parameters.note", "it's \"quoted\" $(x)");
	rec_is(0, "body.inputs.dataset[0]", "https://a.example/1.npz");
	rec_is(0, "body.inputs.dataset[1]", "s3://bucket/2.npz");
	struct buf b = BUF_INIT;
	ck_assert_int_eq(rec_get(0, "body.inputs.dataset[2]", &b), TRIG_JSON_ABSENT);
	rec_is(0, "body.inputs.labels[0]", "https://example.com/data/labels.csv");  /* default */
	ck_assert_int_eq(rec_get(0, "body.inputs.payload", &b), TRIG_JSON_ABSENT);
	rec_is(0, "body.environment_variables.MODE", "online");
	rec_is(0, "body.environment_variables.KEEP", "yes");
	rec_is(0, "body.environment_variables.EXTRA", "1");
	buf_release(&b);
	trig_valohai_free(v);
}
END_TEST

/* A value that is not of its type goes as a string; a flag "0" is false. */
START_TEST(test_execution_types)
{
	reset();
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	const struct trig_kv params[] = { { "epochs", "007" }, { "rate", "NaN" }, { "fast", "0" } };
	struct trig_valohai_execution rq = { .step = &train, .params = params, .nparams = 3 };
	struct trig_valohai_run run;
	char err[512];
	ck_assert_int_eq(trig_valohai_create_execution(v, &rq, "types", &run, err, sizeof(err)), 0);
	load_records();
	rec_is(0, "body.parameters.epochs", "007");
	rec_is(0, "body.parameters.rate", "NaN");
	rec_raw(0, "body.parameters.fast", TRIG_JSON_FALSE, "false");
	struct buf b = BUF_INIT;
	ck_assert_int_eq(rec_get(0, "body.commit", &b), TRIG_JSON_ABSENT);
	ck_assert_int_eq(rec_get(0, "body.title", &b), TRIG_JSON_ABSENT);
	buf_release(&b);
	trig_valohai_free(v);
}
END_TEST

START_TEST(test_retry_503_same_key)
{
	reset();
	mock_post("/_mock/fail", "{\"status\": 503, \"count\": 2}");
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	struct trig_valohai_run run;
	char err[512];
	int rc = run_train(v, "l-2-0", &run, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	load_records();
	ck_assert_int_eq(nrecs, 3);
	for (int i = 0; i < 3; i++) {
		rec_is(i, "path", "/api/v0/executions/");
		rec_is(i, "idempotency_key", "l-2-0");
	}
	rec_raw(0, "status", TRIG_JSON_NUMBER, "503");
	rec_raw(1, "status", TRIG_JSON_NUMBER, "503");
	rec_raw(2, "status", TRIG_JSON_NUMBER, "201");
	trig_valohai_free(v);
}
END_TEST

START_TEST(test_retry_gives_up)
{
	reset();
	mock_post("/_mock/fail", "{\"status\": 502, \"count\": 10}");
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	struct trig_valohai_run run;
	char err[512];
	ck_assert_int_eq(run_train(v, "l-3-0", &run, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "valohai create execution") && strstr(err, "answered 502") &&
		      strstr(err, "failing on demand"), "%s", err);
	ck_assert_ptr_null(strstr(err, TOKEN));
	load_records();
	ck_assert_int_eq(nrecs, 3);    /* max_attempts */
	trig_valohai_free(v);
}
END_TEST

START_TEST(test_no_retry_on_400)
{
	reset();
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	struct trig_step nameless = train;
	nameless.name = "";
	struct trig_valohai_execution rq = { .step = &nameless };
	struct trig_valohai_run run;
	char err[512];
	ck_assert_int_eq(trig_valohai_create_execution(v, &rq, "l-4-0", &run, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "valohai create execution (POST /api/v0/executions/): answered "
			      "400: {\"step\": [\"This field is required.\"]}"), "%s", err);
	ck_assert_ptr_null(strchr(err, '\n'));
	load_records();
	ck_assert_int_eq(nrecs, 1);
	trig_valohai_free(v);
}
END_TEST

START_TEST(test_wrong_token)
{
	reset();
	const char *wrong = "wrong-token-9f8e7d";
	struct trig_valohai *v = client(wrong, PROJECT, 0);
	struct trig_valohai_run run;
	char err[512];
	ck_assert_int_eq(run_train(v, "l-5-0", &run, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "answered 401") && strstr(err, "Invalid token"), "%s", err);
	ck_assert_ptr_null(strstr(err, wrong));
	ck_assert_ptr_null(strstr(err, TOKEN));
	load_records();
	ck_assert_int_eq(nrecs, 1);
	rec_raw(0, "auth_ok", TRIG_JSON_FALSE, "false");
	trig_valohai_free(v);
}
END_TEST

/* An answer that quotes the token has it masked; a bad key sends nothing. */
START_TEST(test_token_masked)
{
	reset();
	/* the mock's 400 for an unknown project quotes it: here, the token */
	struct trig_valohai *v = client(TOKEN, TOKEN, 0);
	struct trig_valohai_run run;
	char err[512];
	ck_assert_int_eq(run_train(v, "l-13-0", &run, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "answered 400") && strstr(err, "Invalid pk \\\"***\\\""),
		      "%s", err);
	ck_assert_ptr_null(strstr(err, TOKEN));
	/* a small buffer: still terminated, still masked */
	char small[60];
	ck_assert_int_eq(run_train(v, "l-13-1", &run, small, sizeof(small)), -1);
	ck_assert_int_lt(strlen(small), sizeof(small));
	ck_assert_ptr_null(strstr(small, "s3cr3t"));
	load_records();
	ck_assert_int_eq(nrecs, 2);
	ck_assert_int_eq(run_train(v, "bad\nkey", &run, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "bad idempotency key"), "%s", err);
	load_records();
	ck_assert_int_eq(nrecs, 2);
	trig_valohai_free(v);
	struct trig_valohai_config cfg = { .url = mock_url, .token = "a\r\nX-Evil: 1",
					   .project_id = PROJECT };
	ck_assert_ptr_null(trig_valohai_new(&cfg, err, sizeof(err)));
	ck_assert_ptr_null(strstr(err, "Evil"));
}
END_TEST

START_TEST(test_idempotent_replay)
{
	reset();
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	struct trig_valohai_run a, b, c;
	char err[512];
	ck_assert_int_eq(run_train(v, "l-6-0", &a, err, sizeof(err)), 0);
	ck_assert_int_eq(run_train(v, "l-6-0", &b, err, sizeof(err)), 0);   /* a restart */
	ck_assert_int_eq(run_train(v, "l-6-1", &c, err, sizeof(err)), 0);
	ck_assert_str_eq(a.id, b.id);
	ck_assert_str_ne(a.id, c.id);
	load_records();
	ck_assert_int_eq(nrecs, 3);
	rec_raw(1, "replayed", TRIG_JSON_TRUE, "true");
	trig_valohai_free(v);
}
END_TEST

START_TEST(test_retry_after_429)
{
	reset();
	mock_post("/_mock/fail", "{\"status\": 429, \"count\": 1, \"retry_after\": 1}");
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	struct trig_valohai_run run;
	char err[512];
	int64_t t0 = ms_now();
	ck_assert_int_eq(run_train(v, "l-7-0", &run, err, sizeof(err)), 0);
	int64_t took = ms_now() - t0;
	ck_assert_msg(took >= 1000, "Retry-After not honoured: %lld ms", (long long)took);
	load_records();
	ck_assert_int_eq(nrecs, 2);
	trig_valohai_free(v);
}
END_TEST

START_TEST(test_network_error_and_timeout)
{
	reset();
	/* a closed connection, then an answer slower than the timeout */
	mock_post("/_mock/fail", "{\"status\": 0, \"count\": 1}");
	mock_post("/_mock/fail", "{\"status\": 503, \"count\": 1, \"delay\": 2}");
	struct trig_valohai *v = client(TOKEN, PROJECT, 400);
	struct trig_valohai_run run;
	char err[512];
	int64_t t0 = ms_now();
	int rc = run_train(v, "l-8-0", &run, err, sizeof(err));
	int64_t took = ms_now() - t0;
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_msg(took < 1800, "the per-attempt timeout did not apply: %lld ms", (long long)took);
	trig_valohai_free(v);
	/* every attempt times out: the message says so */
	reset();
	mock_post("/_mock/fail", "{\"status\": 503, \"count\": 3, \"delay\": 1}");
	v = client(TOKEN, PROJECT, 200);
	ck_assert_int_eq(run_train(v, "l-8-1", &run, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "valohai create execution") && strstr(err, "timed out"), "%s", err);
	trig_valohai_free(v);
}
END_TEST

static const char payload[] = "{\"text\": \"hi $(rm -rf /) `id`; \\n\", \"n\": 1}\n";

START_TEST(test_payload_upload)
{
	reset();
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	struct trig_valohai_execution rq = {
		.step = &train, .payload_input = "payload", .payload = payload,
		.payload_len = sizeof(payload) - 1,
	};
	struct trig_valohai_run run;
	char err[512];
	int rc = trig_valohai_create_execution(v, &rq, "l-9-0", &run, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	load_records();
	ck_assert_int_eq(nrecs, 4);
	rec_is(0, "path", "/api/v0/data/make_upload/");
	rec_is(0, "idempotency_key", "l-9-0-payload");
	rec_is(0, "body.project", PROJECT);
	rec_is(0, "body.filename", "payload.json");
	char num[32];
	snprintf(num, sizeof(num), "%zu", sizeof(payload) - 1);
	rec_raw(0, "body.content_length", TRIG_JSON_NUMBER, num);
	struct buf id = BUF_INIT, path = BUF_INIT, b = BUF_INIT;
	ck_assert_int_eq(rec_get(1, "path", &path), TRIG_JSON_STRING);
	ck_assert_int_eq(strncmp(path.data, "/_mock/upload/", 14), 0);
	buf_adds(&id, path.data + 14);
	if (!strcmp(upload_style, "put")) {
		rec_is(1, "method", "PUT");
		rec_is(1, "raw", payload);     /* the bytes, as they are */
	} else {
		rec_is(1, "method", "POST");
		rec_is(1, "form_fields.policy", "bW9jaw==");
	}
	rec_raw(1, "status", TRIG_JSON_NUMBER, "200");   /* no token went to storage */
	ck_assert_int_eq(rec_get(1, "headers.authorization", &b), TRIG_JSON_ABSENT);
	buf_reset(&path);
	buf_printf(&path, "/api/v0/data/%s/finalize/", id.data);
	rec_is(2, "path", path.data);
	rec_raw(2, "status", TRIG_JSON_NUMBER, "200");
	rec_is(3, "path", "/api/v0/executions/");
	buf_reset(&path);
	buf_printf(&path, "datum://%s", id.data);
	rec_is(3, "body.inputs.payload[0]", path.data);
	/* the payload input has no other value */
	ck_assert_int_eq(rec_get(3, "body.inputs.payload[1]", &b), TRIG_JSON_ABSENT);
	buf_release(&id);
	buf_release(&path);
	buf_release(&b);
	trig_valohai_free(v);
}
END_TEST

START_TEST(test_pipeline_shape)
{
	reset();
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	const struct trig_kv params[] = { { "train.epochs", "9" } };
	const struct trig_kv inputs[] = { { "prep.dataset", "dataset://images/latest" } };
	const struct trig_kv env[] = { { "STAGE", "prod" } };
	struct trig_valohai_pipeline rq = {
		.pipeline = &nightly, .commit = "feedbeef", .params = params, .nparams = 1,
		.inputs = inputs, .ninputs = 1, .env = env, .nenv = 1,
		.payload_input = "prep.payload", .payload = "{}", .payload_len = 2,
	};
	struct trig_valohai_run run;
	char err[512];
	int rc = trig_valohai_create_pipeline(v, &rq, "l-10-0", &run, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_ptr_nonnull(strstr(run.url, run.id));
	load_records();
	ck_assert_int_eq(nrecs, 4);
	int p = 3;
	rec_is(p, "path", "/api/v0/pipelines/");
	rec_is(p, "idempotency_key", "l-10-0");
	rec_is(p, "body.project", PROJECT);
	rec_is(p, "body.title", "nightly");
	rec_is(p, "body.nodes[0].name", "prep");
	rec_is(p, "body.nodes[0].type", "execution");
	rec_is(p, "body.nodes[0].template.step", "preprocess");
	rec_is(p, "body.nodes[0].template.commit", "feedbeef");
	rec_is(p, "body.nodes[0].template.inputs.dataset[0]", "dataset://images/latest");
	struct buf b = BUF_INIT;
	ck_assert_int_eq(rec_get(p, "body.nodes[0].template.inputs.payload[0]", &b), TRIG_JSON_STRING);
	ck_assert_int_eq(strncmp(b.data, "datum://", 8), 0);
	rec_is(p, "body.nodes[0].template.environment_variables.STAGE", "prod");
	rec_is(p, "body.nodes[1].name", "train");
	rec_is(p, "body.nodes[1].template.step", "train");
	rec_raw(p, "body.nodes[1].template.parameters.epochs", TRIG_JSON_NUMBER, "9");
	rec_raw(p, "body.nodes[1].template.parameters.rate", TRIG_JSON_NUMBER, "0.1");
	rec_is(p, "body.nodes[1].template.inputs.dataset[0]", "https://example.com/data/mnist.npz");
	ck_assert_int_eq(rec_get(p, "body.nodes[1].template.inputs.payload", &b), TRIG_JSON_ABSENT);
	rec_is(p, "body.nodes[1].template.environment_variables.STAGE", "prod");
	rec_is(p, "body.nodes[1].template.environment_variables.MODE", "batch");
	rec_is(p, "body.edges[0].source_node", "prep");
	rec_is(p, "body.edges[0].source_key", "*.npz");
	rec_is(p, "body.edges[0].source_type", "output");
	rec_is(p, "body.edges[0].target_node", "train");
	rec_is(p, "body.edges[0].target_key", "dataset");
	rec_is(p, "body.edges[0].target_type", "input");
	ck_assert_int_eq(rec_get(p, "body.edges[1]", &b), TRIG_JSON_ABSENT);
	buf_release(&b);

	/* a key naming no node: refused before anything is sent */
	reset();
	const struct trig_kv bad[] = { { "nope.epochs", "1" } };
	rq.params = bad;
	ck_assert_int_eq(trig_valohai_create_pipeline(v, &rq, "l-10-1", &run, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "'nope.epochs'"), "%s", err);
	const struct trig_kv nodot[] = { { "epochs", "1" } };
	rq.params = nodot;
	ck_assert_int_eq(trig_valohai_create_pipeline(v, &rq, "l-10-2", &run, err, sizeof(err)), -1);
	load_records();
	ck_assert_int_eq(nrecs, 0);
	trig_valohai_free(v);
}
END_TEST

static void create_nightly(struct trig_valohai *v, const char *title, const char *key,
			   struct trig_valohai_run *run)
{
	struct trig_valohai_pipeline rq = { .pipeline = &nightly, .title = title };
	char err[512];
	int rc = trig_valohai_create_pipeline(v, &rq, key, run, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
}

START_TEST(test_copy_pipeline)
{
	reset();
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	struct trig_valohai_run p1, p2, p3, copy;
	create_nightly(v, NULL, "c-1", &p1);
	create_nightly(v, NULL, "c-2", &p2);
	create_nightly(v, "other", "c-3", &p3);
	char err[512];
	const struct trig_kv params[] = { { "train.epochs", "11" }, { "train.note", "copied" } };
	int rc = trig_valohai_copy_pipeline(v, "nightly", NULL, params, 2, "l-11-0", &copy, err,
					    sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_ne(copy.id, p2.id);
	load_records();
	ck_assert_int_eq(nrecs, 6);
	rec_is(3, "method", "GET");
	rec_is(3, "path", "/api/v0/pipelines/");
	struct buf b = BUF_INIT, want = BUF_INIT;
	rec_get(3, "query", &b);
	ck_assert_msg(strstr(b.data, "project=" PROJECT) && strstr(b.data, "title=nightly"), "%s",
		      b.data);
	buf_printf(&want, "/api/v0/pipelines/%s/", p2.id);       /* the latest "nightly" */
	rec_is(4, "path", want.data);
	rec_is(5, "method", "POST");
	rec_is(5, "path", "/api/v0/pipelines/");
	rec_is(5, "idempotency_key", "l-11-0");
	rec_is(5, "body.project", PROJECT);
	rec_is(5, "body.title", "nightly");
	rec_is(5, "body.nodes[1].name", "train");
	rec_is(5, "body.nodes[1].type", "execution");
	rec_raw(5, "body.nodes[1].template.parameters.epochs", TRIG_JSON_NUMBER, "11");
	rec_raw(5, "body.nodes[1].template.parameters.rate", TRIG_JSON_NUMBER, "0.1");
	rec_is(5, "body.nodes[1].template.parameters.note", "copied");
	rec_is(5, "body.nodes[0].template.step", "preprocess");
	ck_assert_int_eq(rec_get(5, "body.nodes[0].template.parameters.epochs", &b),
			 TRIG_JSON_ABSENT);
	ck_assert_int_eq(rec_get(5, "body.nodes[0].id", &b), TRIG_JSON_ABSENT);
	ck_assert_int_eq(rec_get(5, "body.nodes[0].status", &b), TRIG_JSON_ABSENT);
	rec_is(5, "body.edges[0].source_node", "prep");
	rec_is(5, "body.edges[0].target_key", "dataset");

	/* a given source; an unknown node; no such pipeline */
	reset();
	ck_assert_int_eq(trig_valohai_copy_pipeline(v, "nightly", p1.id, NULL, 0, "l-11-1", &copy,
						    err, sizeof(err)), -1);     /* reset: gone */
	ck_assert_msg(strstr(err, "answered 404"), "%s", err);
	create_nightly(v, NULL, "c-4", &p1);
	ck_assert_int_eq(trig_valohai_copy_pipeline(v, "nightly", p1.id, NULL, 0, "l-11-2", &copy,
						    err, sizeof(err)), 0);
	const struct trig_kv bad[] = { { "nope.epochs", "1" } };
	ck_assert_int_eq(trig_valohai_copy_pipeline(v, "nightly", p1.id, bad, 1, "l-11-3", &copy,
						    err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "'nope.epochs'"), "%s", err);
	ck_assert_int_eq(trig_valohai_copy_pipeline(v, "weekly", NULL, NULL, 0, "l-11-4", &copy,
						    err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "no pipeline titled 'weekly'"), "%s", err);
	buf_release(&b);
	buf_release(&want);
	trig_valohai_free(v);
}
END_TEST

START_TEST(test_fetch_repository)
{
	reset();
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	char err[512];
	int rc = trig_valohai_fetch_repository(v, "l-12-0", err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	load_records();
	ck_assert_int_eq(nrecs, 1);
	rec_is(0, "method", "POST");
	rec_is(0, "path", "/api/v0/projects/" PROJECT "/fetch/");
	rec_is(0, "idempotency_key", "l-12-0");
	trig_valohai_free(v);
	v = client(TOKEN, "no/such project", 0);
	ck_assert_int_eq(trig_valohai_fetch_repository(v, "l-12-1", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "answered 404"), "%s", err);
	load_records();
	rec_is(1, "path", "/api/v0/projects/no%2Fsuch%20project/fetch/");
	trig_valohai_free(v);
}
END_TEST

START_TEST(test_wait)
{
	reset();
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	struct trig_valohai_run run;
	struct trig_valohai_status st;
	char err[512];
	const struct trig_kv params[] = { { "note", "x" },
					  { "mock-metadata", "{\"accuracy\": 0.93}" } };
	struct trig_valohai_execution rq = { .step = &train, .params = params, .nparams = 2 };
	ck_assert_int_eq(trig_valohai_create_execution(v, &rq, "w-1", &run, err, sizeof(err)), 0);
	ck_assert_int_eq(trig_valohai_status(v, false, run.id, &st, err, sizeof(err)), 0);
	ck_assert_str_eq(st.status, "queued");
	ck_assert(!st.terminal);
	ck_assert_int_eq(st.exit_code, -1);
	trig_valohai_status_release(&st);
	int rc = trig_valohai_wait(v, false, run.id, 30, 5000, &st, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(st.status, "complete");
	ck_assert(st.terminal && st.ok);
	ck_assert_int_eq(st.exit_code, 0);
	struct trig_json_error je;
	ck_assert_int_eq(trig_json_validate(st.metadata.data, st.metadata.len, &je), 0);
	ck_assert_ptr_nonnull(strstr(st.metadata.data, "\"accuracy\": 0.93"));
	trig_valohai_status_release(&st);

	/* a failing step */
	struct trig_valohai_execution fq = { .step = &failing };
	ck_assert_int_eq(trig_valohai_create_execution(v, &fq, "w-2", &run, err, sizeof(err)), 0);
	ck_assert_int_eq(trig_valohai_wait(v, false, run.id, 30, 5000, &st, err, sizeof(err)), 0);
	ck_assert_str_eq(st.status, "error");
	ck_assert(st.terminal && !st.ok);
	ck_assert_int_eq(st.exit_code, 1);
	trig_valohai_status_release(&st);

	/* a pipeline */
	struct trig_valohai_run p;
	create_nightly(v, NULL, "w-3", &p);
	ck_assert_int_eq(trig_valohai_wait(v, true, p.id, 30, 5000, &st, err, sizeof(err)), 0);
	ck_assert_str_eq(st.status, "complete");
	ck_assert(st.ok);
	ck_assert_int_eq(st.metadata.len, 0);
	trig_valohai_status_release(&st);

	/* a timeout, and an unknown id */
	ck_assert_int_eq(trig_valohai_create_execution(v, &rq, "w-4", &run, err, sizeof(err)), 0);
	ck_assert_int_eq(trig_valohai_wait(v, false, run.id, 20, 60, &st, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "timed out after 60 ms"), "%s", err);
	ck_assert(!st.terminal);
	ck_assert(!strcmp(st.status, "queued") || !strcmp(st.status, "started"));
	trig_valohai_status_release(&st);
	ck_assert_int_eq(trig_valohai_wait(v, false, "no-such-id", 20, 1000, &st, err, sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, "answered 404"), "%s", err);
	trig_valohai_status_release(&st);
	trig_valohai_free(v);
}
END_TEST

/* Many threads at once on one handle. */
struct worker {
	struct trig_valohai *v;
	int n, ok;
	char id[128];
};

#include <pthread.h>

static void *work(void *arg)
{
	struct worker *w = arg;
	char key[32], err[512];
	snprintf(key, sizeof(key), "t-%d", w->n);
	struct trig_valohai_run run;
	w->ok = run_train(w->v, key, &run, err, sizeof(err)) == 0;
	memcpy(w->id, run.id, sizeof(w->id));
	return NULL;
}

START_TEST(test_threads)
{
	reset();
	/* 4 failures in all: 5 attempts always suffice, however they fall */
	char err[256];
	struct trig_valohai_config cfg = { .url = mock_url, .token = TOKEN, .project_id = PROJECT,
					   .max_attempts = 5, .backoff_ms = 10 };
	struct trig_valohai *v = trig_valohai_new(&cfg, err, sizeof(err));
	ck_assert_ptr_nonnull(v);
	mock_post("/_mock/fail", "{\"status\": 503, \"count\": 4}");
	struct worker w[8];
	pthread_t th[8];
	for (int i = 0; i < 8; i++) {
		w[i] = (struct worker){ v, i, 0, "" };
		ck_assert_int_eq(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 8; i++) {
		ck_assert(w[i].ok);
		for (int j = 0; j < i; j++)
			ck_assert_str_ne(w[i].id, w[j].id);
	}
	load_records();
	ck_assert_int_eq(nrecs, 12);
	trig_valohai_free(v);
}
END_TEST

/* Key rotation: calls after trig_valohai_set_token() use the new token;
 * a token that cannot go into a header is refused and changes nothing. */
START_TEST(test_token_rotation)
{
	reset();
	const char *wrong = "rotated-away-7a6b5c";
	struct trig_valohai *v = client(wrong, PROJECT, 0);
	struct trig_valohai_run run;
	char err[512];
	ck_assert_int_eq(run_train(v, "rot-1", &run, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "answered 401"), "%s", err);
	ck_assert_int_eq(trig_valohai_set_token(v, "bad\ntoken", err, sizeof(err)), -1);
	ck_assert_int_eq(trig_valohai_set_token(v, TOKEN, err, sizeof(err)), 0);
	ck_assert_msg(run_train(v, "rot-2", &run, err, sizeof(err)) == 0, "%s", err);
	load_records();
	ck_assert_int_eq(nrecs, 2);
	rec_raw(0, "auth_ok", TRIG_JSON_FALSE, "false");
	rec_raw(1, "auth_ok", TRIG_JSON_TRUE, "true");
	trig_valohai_free(v);
}
END_TEST

struct canceller {
	struct trig_valohai *v;
	int64_t after_ms;
};

static void *cancel_later(void *arg)
{
	struct canceller *c = arg;
	struct timespec ts = { 0, (long)c->after_ms * 1000000L };
	nanosleep(&ts, NULL);
	trig_valohai_cancel(c->v);
	return NULL;
}

/* Shutting down: a wait with no timeout and a retry backoff both end
 * within a moment of trig_valohai_cancel(). */
START_TEST(test_cancel)
{
	reset();
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	struct trig_valohai_run run;
	struct trig_valohai_status st;
	char err[512];
	/* An execution that stays queued for 60 s: the wait would outlast the test. */
	mock_post("/_mock/tick", "{\"seconds\": 60}");
	ck_assert_msg(run_train(v, "c-1", &run, err, sizeof(err)) == 0, "%s", err);
	struct canceller c = { v, 300 };
	pthread_t th;
	ck_assert_int_eq(pthread_create(&th, NULL, cancel_later, &c), 0);
	int64_t t0 = ms_now();
	ck_assert_int_eq(trig_valohai_wait(v, false, run.id, 5000, 0, &st, err, sizeof(err)), -1);
	int64_t took = ms_now() - t0;
	pthread_join(th, NULL);
	trig_valohai_status_release(&st);
	ck_assert_msg(took < 1500, "the wait ended %lld ms after it began", (long long)took);
	ck_assert_msg(strstr(err, "the server is stopping"), "%s", err);
	ck_assert(trig_valohai_cancelled(v));
	trig_valohai_free(v);
}
END_TEST

/* ------------------------------------------------------------ answers, offline */

/* trig_valohai_parse_answer() on body: its result, and its text in out
 * (reset first) and err. */
static int parse(enum trig_valohai_answer kind, const char *body, const char *name,
		 const struct trig_kv *params, size_t nparams, struct buf *out, char *err,
		 size_t errlen)
{
	buf_reset(out);
	return trig_valohai_parse_answer(kind, body, strlen(body), name, params, nparams, out,
					 err, errlen);
}

/* Created runs and statuses: what is read, and why an answer is refused,
 * against texts written by hand. */
START_TEST(test_parse_run_and_status)
{
	struct buf out = BUF_INIT;
	char err[512];
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_EXECUTION,
			       "{\"id\": \"e-1\", \"urls\": {\"display\": \"https://app/x\"}, \"id\": 7}",
			       NULL, NULL, 0, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.data, "id: 7\nurl: https://app/x\n");
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_PIPELINE, "{\"urls\": {}}", NULL, NULL, 0, &out,
			       err, sizeof(err)), -1);
	ck_assert_str_eq(err, "valohai create pipeline: the answer has no id");
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_EXECUTION, "[{\"id\": \"e-1\"}]\n", NULL, NULL, 0,
			       &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "valohai create execution (POST /api/v0/executions/): answered 200 "
			 "but not a JSON object: [{\"id\": \"e-1\"}] ");

	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_EXECUTION_STATUS,
			       "{\"status\": \"complete\", \"exit_code\": 0,\n"
			       " \"metadata\": {\"loss\": 0.5,\n \"step\": \"train\"}}",
			       "e-1", NULL, 0, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.data, "status: complete\nexit_code: 0\nterminal: true\nok: true\n"
			 "metadata: {\"loss\": 0.5,\n \"step\": \"train\"}\n");
	/* an exit code out of range, or not an integer, is unknown */
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_EXECUTION_STATUS,
			       "{\"status\": \"error\", \"exit_code\": 256, \"metadata\": [1]}", "e-1",
			       NULL, 0, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.data, "status: error\nexit_code: -1\nterminal: true\nok: false\n"
			 "metadata: \n");
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_PIPELINE_STATUS,
			       "{\"status\": \"started\", \"exit_code\": 1.0, \"metadata\": {\"a\": 1}}",
			       "p-1", NULL, 0, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.data, "status: started\nexit_code: -1\nterminal: false\nok: false\n"
			 "metadata: \n");
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_EXECUTION_STATUS, "{\"status\": null}", "e-9",
			       NULL, 0, &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "valohai status of execution 'e-9': the answer has no status");
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_KINDS, "{}", NULL, NULL, 0, &out, err,
			       sizeof(err)), -1);
	buf_release(&out);
}
END_TEST

/* Copy pipeline (the list, then the source's body), make_upload, fetch. */
START_TEST(test_parse_copy_upload_fetch)
{
	struct buf out = BUF_INIT;
	char err[512];
	/* the highest counter among the items titled (or named) "nightly" */
	const char *list = "{\"results\": [{\"id\": \"a\", \"title\": \"nightly\", \"counter\": 3},"
			   " {\"id\": \"b\", \"title\": \"other\", \"counter\": 9},"
			   " {\"id\": \"c\", \"name\": \"nightly\", \"counter\": \"5\"},"
			   " {\"title\": \"nightly\", \"counter\": 8}]}";
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_PIPELINE_LIST, list, "nightly", NULL, 0, &out,
			       err, sizeof(err)), 0);
	ck_assert_str_eq(out.data, "id: c\n");
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_PIPELINE_LIST, list, "weekly", NULL, 0, &out,
			       err, sizeof(err)), -1);
	ck_assert_str_eq(err, "valohai copy pipeline: no pipeline titled 'weekly' to copy");

	/* state members dropped, overrides typed like what they replace, edges
	 * naming nodes by id get their names */
	const char *src =
		"{\"id\":\"p1\",\"counter\":4,\"title\":\"nightly\",\"status\":\"complete\","
		"\"nodes\":[{\"id\":\"n1\",\"name\":\"train\",\"type\":\"execution\","
		"\"status\":\"complete\",\"execution\":\"e1\",\"template\":{\"step\":\"train\","
		"\"parameters\":{\"epochs\":3,\"lr\":0.1}}},{\"id\":\"n2\",\"name\":\"eval\","
		"\"type\":\"execution\",\"template\":{\"step\":\"eval\"}}],"
		"\"edges\":[{\"id\":9,\"pipeline\":\"p1\",\"source_node\":\"n1\",\"source_key\":"
		"\"model\",\"source_type\":\"output\",\"target_node\":\"n2\",\"target_key\":"
		"\"model\",\"target_type\":\"input\"}]}";
	const struct trig_kv params[] = { { "train.epochs", "5" }, { "eval.flag", "true" } };
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_PIPELINE_SOURCE, src, "nightly", params, 2,
			       &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.data,
		"body: {\"project\":\"PROJECT\",\"title\":\"nightly\",\"nodes\":["
		"{\"name\":\"train\",\"type\":\"execution\",\"template\":{\"step\":\"train\","
		"\"parameters\":{\"epochs\":5,\"lr\":0.1}}},"
		"{\"name\":\"eval\",\"type\":\"execution\",\"template\":{\"step\":\"eval\","
		"\"parameters\":{\"flag\":\"true\"}}}],"
		"\"edges\":[{\"source_node\":\"train\",\"source_key\":\"model\",\"source_type\":"
		"\"output\",\"target_node\":\"eval\",\"target_key\":\"model\",\"target_type\":"
		"\"input\"}]}\n");
	const struct trig_kv bad[] = { { "test.x", "1" } };
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_PIPELINE_SOURCE, src, "nightly", bad, 1, &out,
			       err, sizeof(err)), -1);
	ck_assert_str_eq(err, "valohai copy pipeline: parameter 'test.x' names no node of "
			 "pipeline 'ID' (NODE.NAME)");

	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_MAKE_UPLOAD,
			       "{\"id\": \"d-1\", \"url\": \"http://localhost:9/up?sig=1\"}", NULL,
			       NULL, 0, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.data, "id: d-1\nurl: http://localhost:9/up?sig=1\nhttp: true\n"
			 "method: PUT\n");
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_MAKE_UPLOAD,
			       "{\"datum_id\": \"d-2\", \"url\": \"https://s3.example/\", "
			       "\"fields\": {\"key\": \"data/d-2\", \"policy\": \"cG9s\"}}", NULL,
			       NULL, 0, &out, err, sizeof(err)), 0);
	ck_assert_str_eq(out.data, "id: d-2\nurl: https://s3.example/\nhttp: false\nmethod: POST\n"
			 "form:\n"
			 "--BOUNDARY\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\n"
			 "data/d-2\r\n"
			 "--BOUNDARY\r\nContent-Disposition: form-data; name=\"policy\"\r\n\r\n"
			 "cG9s\r\n");
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_MAKE_UPLOAD,
			       "{\"id\": \"d-3\", \"url\": \"http://example.com/up\"}", NULL, NULL, 0,
			       &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "valohai make upload: the upload URL is neither https nor http to "
			 "a loopback host");
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_MAKE_UPLOAD,
			       "{\"id\": \"..\", \"url\": \"https://s3.example/\"}", NULL, NULL, 0,
			       &out, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "valohai make upload: the answer has no usable id and url");
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_MAKE_UPLOAD,
			       "{\"id\": \"d-4\", \"url\": \"https://s3.example/\", "
			       "\"fields\": {\"a\\r\\nb\": \"x\"}}", NULL, NULL, 0, &out, err,
			       sizeof(err)), -1);
	ck_assert_str_eq(err, "valohai make upload: bad fields");
	/* a name cut at a NUL would sign another field */
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_MAKE_UPLOAD,
			       "{\"id\": \"d-4\", \"url\": \"https://s3.example/\", "
			       "\"fields\": {\"key\\u0000x\": \"x\"}}", NULL, NULL, 0, &out, err,
			       sizeof(err)), -1);
	ck_assert_str_eq(err, "valohai make upload: bad fields");

	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_FETCH, "{\"commits\": [], \"errors\": []}", NULL,
			       NULL, 0, &out, err, sizeof(err)), 0);
	ck_assert_uint_eq(out.len, 0);
	ck_assert_int_eq(parse(TRIG_VALOHAI_ANSWER_FETCH,
			       "{\"errors\": [\"cannot\\nfetch\", \"second\"]}", NULL, NULL, 0, &out,
			       err, sizeof(err)), -1);
	ck_assert_str_eq(err, "valohai fetch repository: cannot fetch");
	buf_release(&out);
}
END_TEST

/* An id from request text that is a dot segment stays one segment: it
 * never reaches another path of the API with the token. */
START_TEST(test_dot_ids_stay_in_their_path)
{
	reset();
	struct trig_valohai *v = client(TOKEN, PROJECT, 0);
	struct trig_valohai_run run;
	struct trig_valohai_status st;
	char err[512];
	ck_assert_int_eq(trig_valohai_copy_pipeline(v, "nightly", "..", NULL, 0, "dot-1", &run, err,
						    sizeof(err)), -1);
	ck_assert_int_eq(trig_valohai_status(v, false, "..", &st, err, sizeof(err)), -1);
	trig_valohai_status_release(&st);
	load_records();
	ck_assert_int_ge(nrecs, 1);
	for (int i = 0; i < nrecs; i++) {
		struct buf path = BUF_INIT;
		rec_get(i, "path", &path);
		ck_assert_msg(strstr(buf_cstr(&path), "/%2E%2E/"), "request %d went to %s", i,
			      buf_cstr(&path));
		buf_release(&path);
	}
	trig_valohai_free(v);
}
END_TEST

static Suite *valohai_suite(void)
{
	Suite *s = suite_create("valohai");
	TCase *tc = tcase_create("put");
	tcase_add_unchecked_fixture(tc, mock_start_put, mock_stop);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_config_rules);
	tcase_add_test(tc, test_execution_body);
	tcase_add_test(tc, test_execution_types);
	tcase_add_test(tc, test_retry_503_same_key);
	tcase_add_test(tc, test_retry_gives_up);
	tcase_add_test(tc, test_no_retry_on_400);
	tcase_add_test(tc, test_wrong_token);
	tcase_add_test(tc, test_token_masked);
	tcase_add_test(tc, test_idempotent_replay);
	tcase_add_test(tc, test_retry_after_429);
	tcase_add_test(tc, test_network_error_and_timeout);
	tcase_add_test(tc, test_payload_upload);
	tcase_add_test(tc, test_pipeline_shape);
	tcase_add_test(tc, test_copy_pipeline);
	tcase_add_test(tc, test_fetch_repository);
	tcase_add_test(tc, test_wait);
	tcase_add_test(tc, test_token_rotation);
	tcase_add_test(tc, test_dot_ids_stay_in_their_path);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	TCase *form = tcase_create("form");
	tcase_add_unchecked_fixture(form, mock_start_form, mock_stop);
	tcase_set_timeout(form, 60);
	tcase_add_test(form, test_payload_upload);
	suite_add_tcase(s, form);
	TCase *offline = tcase_create("offline");
	tcase_add_test(offline, test_parse_run_and_status);
	tcase_add_test(offline, test_parse_copy_upload_fetch);
	suite_add_tcase(s, offline);
	return s;
}

UNIT_MAIN(valohai_suite)
