/*
 * test_dsl.c — unit tests of the .trig front end (grammar/trig.re,
 * grammar/trig.y, compiler/dsl.c) and of the .trig formatter (fmt_trig.c).
 *
 * Trees are compared through a small flow-style dumper:
 *   {key: value, ...}  [a, b]  plain  "quoted"  /regex/  () = empty plain
 * Diagnostics through "LINE:COL: message" lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "frontend.h"
#include "grammar/trig_parse.h"

static struct sources S;
static struct diag D;
static struct arena A;

static void setup(void)
{
	sources_init(&S);
	diag_init(&D, &S);
	A = (struct arena)ARENA_INIT;
}

static void teardown(void)
{
	arena_free(&A);
	diag_release(&D);
	sources_release(&S);
}

/* ------------------------------------------------------------ helpers */

static struct tree *parse_n(const char *text, size_t len)
{
	diag_release(&D);
	diag_init(&D, &S);
	uint32_t f = sources_add(&S, "t.trig", text, len);
	return dsl_parse(&A, &D, &S, f);
}

static struct tree *parse(const char *text)
{
	return parse_n(text, strlen(text));
}

/* A memstream's text, copied into the arena. */
static const char *keep(char *buf, size_t len)
{
	char *s = arena_strndup(&A, buf ? buf : "", buf ? len : 0);
	free(buf);
	return s;
}

static void dump_scalar(FILE *f, const struct tree *t, bool styles)
{
	const char *s = t->u.scalar.text;
	size_t n = t->u.scalar.len;
	enum tree_style st = t->u.scalar.style;
	if (st == STYLE_PLAIN && n == 0) {
		fputs("()", f);
		return;
	}
	if (st == STYLE_PLAIN && styles) {
		fwrite(s, 1, n, f);
		return;
	}
	fputc(st == STYLE_REGEX ? '/' : '"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' && st != STYLE_REGEX)
			fputs("\\\"", f);
		else if (c == '\\' && st != STYLE_REGEX)
			fputs("\\\\", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c < 0x20)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
	fputc(st == STYLE_REGEX ? '/' : '"', f);
}

static void dump_to(FILE *f, const struct tree *t, bool styles)
{
	switch (t->kind) {
	case TREE_SCALAR:
		dump_scalar(f, t, styles);
		break;
	case TREE_LIST:
		fputc('[', f);
		for (size_t i = 0; i < t->u.list.n; i++) {
			if (i)
				fputs(", ", f);
			dump_to(f, t->u.list.v[i], styles);
		}
		fputc(']', f);
		break;
	case TREE_MAP:
		fputc('{', f);
		for (size_t i = 0; i < t->u.map.n; i++) {
			if (i)
				fputs(", ", f);
			fprintf(f, "%s: ", t->u.map.v[i].key);
			dump_to(f, t->u.map.v[i].value, styles);
		}
		fputc('}', f);
		break;
	}
}

/* The tree with scalar styles (plain bare, quoted in quotes). */
static const char *dumps(const struct tree *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	dump_to(f, t, true);
	fclose(f);
	return keep(buf, len);
}

/* The tree up to the plain/quoted difference (every scalar in quotes). */
static const char *dumpu(const struct tree *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	dump_to(f, t, false);
	fclose(f);
	return keep(buf, len);
}

/* The diagnostics as "LINE:COL: message" lines; every one must be an
 * error of rule "syntax". */
static const char *diags(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < D.n; i++) {
		ck_assert_int_eq(D.v[i].level, DIAG_ERROR);
		ck_assert_str_eq(D.v[i].rule, "syntax");
		fprintf(f, "%u:%u: %s\n", D.v[i].loc.line, D.v[i].loc.col, D.v[i].msg);
	}
	fclose(f);
	return keep(buf, len);
}

static const char *fmt(const struct tree *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_ptr_nonnull(f);
	fmt_trig(f, t);
	fclose(f);
	return keep(buf, len);
}

static const struct tree *get(const struct tree *m, const char *key)
{
	const struct tree *v = tree_map_get(m, key);
	ck_assert_msg(v != NULL, "no key '%s' in %s", key, dumps(m));
	return v;
}

static const struct tree *item(const struct tree *l, size_t i)
{
	ck_assert_int_eq(l->kind, TREE_LIST);
	ck_assert_uint_gt(l->u.list.n, i);
	return l->u.list.v[i];
}

#define TREE_IS(src, expected)                                                  \
	do {                                                                    \
		struct tree *t_ = parse(src);                                   \
		ck_assert_msg(t_ != NULL, "parse failed:\n%s", diags());        \
		ck_assert_str_eq(dumps(t_), expected);                          \
	} while (0)

#define ERRORS_ARE(src, expected)                                               \
	do {                                                                    \
		struct tree *t_ = parse(src);                                   \
		ck_assert_msg(t_ == NULL, "parsed: %s", t_ ? dumps(t_) : "");   \
		ck_assert_str_eq(diags(), expected);                            \
	} while (0)

#define LOC_IS(l, line_, col_, len_)                                            \
	do {                                                                    \
		struct loc l_ = (l);                                            \
		ck_assert_uint_eq(l_.line, line_);                              \
		ck_assert_uint_eq(l_.col, col_);                                \
		ck_assert_uint_eq(l_.len, len_);                                \
	} while (0)

/* parse, format, parse, format: the trees agree and the text is stable. */
static const char *round_trip(const char *src)
{
	struct tree *t1 = parse(src);
	ck_assert_msg(t1 != NULL, "parse failed:\n%s", diags());
	const char *f1 = fmt(t1);
	struct tree *t2 = parse(f1);
	ck_assert_msg(t2 != NULL, "formatted text does not parse:\n%s\n%s", f1, diags());
	ck_assert_str_eq(dumpu(t2), dumpu(t1));
	const char *f2 = fmt(t2);
	ck_assert_str_eq(f2, f1);
	return f1;
}

/* ------------------------------------------------------------ samples */

/* SPEC.md §2.5, adapted to the final grammar. */
static const char spec_sketch[] =
	"project mnist\n"
	"\n"
	"backend local { max-parallel 4 }\n"
	"\n"
	"step train {\n"
	"    command \"python3 train.py {parameters}\"\n"
	"    parameter epochs: integer = 3\n"
	"}\n"
	"\n"
	"trigger nightly {\n"
	"    schedule cron \"0 2 * * *\" timezone \"Europe/Helsinki\" catch-up once\n"
	"    run pipeline nightly-training\n"
	"}\n"
	"\n"
	"trigger github-push {\n"
	"    webhook POST \"/hooks/github\"\n"
	"    hmac preset github secret env GITHUB_WEBHOOK_SECRET\n"
	"    when header.X-GitHub-Event == \"push\"\n"
	"    when payload.ref in [\"refs/heads/main\", \"refs/heads/release\"]\n"
	"    rate limit 10 per 1h\n"
	"    fetch repository\n"
	"    run execution train { commit = payload.after, parameter epochs = 5 }\n"
	"    respond 202 \"started {{ launch.id }}\"\n"
	"}\n"
	"\n"
	"trigger preprocess-new-data {\n"
	"    on dataset_version_created\n"
	"    when event.data.dataset.name matches /^images(-.*)?$/\n"
	"    run pipeline data-preprocessing { input prep.dataset = event.data.version.uri }\n"
	"}\n";

/* The content of SPEC.md §2's YAML example, in .trig. */
static const char spec_yaml_as_trig[] =
	"project mnist                      # required\n"
	"backend local {\n"
	"    workdir \".\"\n"
	"    repository \".\"\n"
	"    max-parallel 4\n"
	"}\n"
	"import \"valohai.yaml\"\n"
	"\n"
	"step train {\n"
	"    command \"python3 train.py {parameters}\"\n"
	"    parameter epochs: integer = 3\n"
	"    input dataset = \"data/mnist.npz\"\n"
	"}\n"
	"\n"
	"pipeline nightly-training {\n"
	"    node prep step preprocess\n"
	"    node train step train\n"
	"    edge prep.output.*.npz -> train.input.dataset\n"
	"}\n"
	"\n"
	"trigger nightly {\n"
	"    enabled true\n"
	"    description \"Retrain every night\"\n"
	"    schedule cron \"0 2 * * *\" timezone UTC catch-up none overlap allow\n"
	"    run pipeline nightly-training\n"
	"}\n"
	"\n"
	"trigger github-push {\n"
	"    webhook POST \"/hooks/github\" max-body 1MiB\n"
	"    hmac preset github secret env GITHUB_WEBHOOK_SECRET\n"
	"    when header.X-GitHub-Event == push\n"
	"    when payload.ref in [\"refs/heads/main\", \"refs/heads/release\"]\n"
	"    rate limit 10 per 1h\n"
	"    fetch repository\n"
	"    run execution train {\n"
	"        commit payload.after\n"
	"        parameter epochs = \"5\"\n"
	"    }\n"
	"    respond 202 \"started {{ launch.id }}\"\n"
	"}\n"
	"\n"
	"trigger preprocess-new-data {\n"
	"    on dataset_version_created\n"
	"    when event.data.dataset.name matches \"^images(-.*)?$\"\n"
	"    run pipeline data-preprocessing {\n"
	"        input prep.dataset = event.data.version.uri\n"
	"    }\n"
	"}\n";

/* SPEC.md §2's YAML example, transcribed by hand into the dump notation
 * (every scalar quoted: the comparison ignores plain/quoted). */
static const char spec_yaml_tree[] =
	"{project: \"mnist\", "
	"backend: {kind: \"local\", workdir: \".\", repository: \".\", "
	"max-parallel: \"4\"}, "
	"import: [\"valohai.yaml\"], "
	"steps: [{name: \"train\", command: \"python3 train.py {parameters}\", "
	"parameters: [{name: \"epochs\", type: \"integer\", default: \"3\"}], "
	"inputs: [{name: \"dataset\", default: \"data/mnist.npz\"}]}], "
	"pipelines: [{name: \"nightly-training\", "
	"nodes: [{name: \"prep\", step: \"preprocess\"}, "
	"{name: \"train\", step: \"train\"}], "
	"edges: [[\"prep.output.*.npz\", \"train.input.dataset\"]]}], "
	"triggers: [{name: \"nightly\", enabled: \"true\", "
	"description: \"Retrain every night\", "
	"schedule: {cron: \"0 2 * * *\", timezone: \"UTC\", catch-up: \"none\", "
	"overlap: \"allow\"}, "
	"actions: [{run-pipeline: {pipeline: \"nightly-training\"}}]}, "
	"{name: \"github-push\", webhook: {path: \"/hooks/github\", "
	"methods: [\"POST\"], max-body: \"1MiB\"}, "
	"conditions: [{hmac: {preset: \"github\", "
	"secret: {env: \"GITHUB_WEBHOOK_SECRET\"}}}, "
	"{filter: {field: \"header.X-GitHub-Event\", equals: \"push\"}}, "
	"{filter: {field: \"payload.ref\", in: [\"refs/heads/main\", "
	"\"refs/heads/release\"]}}, "
	"{rate-limit: {max: \"10\", per: \"1h\"}}], "
	"actions: [{fetch-repository: {}}, "
	"{run-execution: {step: \"train\", commit: \"{{ payload.after }}\", "
	"parameters: {epochs: \"5\"}}}, "
	"{respond: {status: \"202\", body: \"started {{ launch.id }}\"}}]}, "
	"{name: \"preprocess-new-data\", "
	"notification: {event: \"dataset_version_created\"}, "
	"conditions: [{filter: {field: \"event.data.dataset.name\", "
	"matches: \"^images(-.*)?$\"}}], "
	"actions: [{run-pipeline: {pipeline: \"data-preprocessing\", "
	"inputs: {prep.dataset: \"{{ event.data.version.uri }}\"}}}]}]}";

/* Every statement of the language at least once. */
static const char everything[] =
	"# a comment; and \"quotes\" { in it\n"
	"project demo\n"
	"backend valohai {\n"
	"    url \"https://app.valohai.com\"\n"
	"    token env VALOHAI_TOKEN\n"
	"    project-id \"0170a7c5-1234\"\n"
	"}\n"
	"import \"valohai.yaml\"; import \"more.yaml\"\n"
	"step preprocess {\n"
	"    image \"python:3.12\"\n"
	"    command [\n"
	"        \"pip install -r requirements.txt\",\n"
	"        \"python3 prep.py\",\n"
	"    ]\n"
	"    parameter ratio: float = 0.8 { description \"train/test split\" }\n"
	"    parameter verbose: flag optional true\n"
	"    parameter mode\n"
	"    input dataset = [\"s3://b/a.npz\", \"s3://b/b.npz\"] optional false\n"
	"    input extra\n"
	"    environment LOG_LEVEL = \"info\"\n"
	"}\n"
	"pipeline nightly-training {\n"
	"    node prep step preprocess\n"
	"    node train step train type execution\n"
	"    edge prep.output.*.npz -> train.input.dataset\n"
	"    edge \"a b\" -> c\n"
	"}\n"
	"trigger annotate {\n"
	"    description \"Slack slash command\"\n"
	"    enabled false\n"
	"    webhook GET POST \"/hooks/slack\" max-body 64KiB not-matched-status 204\n"
	"    token header \"X-Token\" secret env ANNOTATION_TOKEN\n"
	"    jwt { algorithms [RS256], key jwks-url \"https://id.example/jwks.json\" }\n"
	"    timestamp header X-Slack-Request-Timestamp format unix tolerance 5m\n"
	"    replay id header.X-Request-Id window 10m\n"
	"    ip-allow [\"10.0.0.0/8\", \"::1/128\"]\n"
	"    any {\n"
	"        when form.command == \"/label\"\n"
	"        all { when query.x exists; when query.y not exists }\n"
	"    }\n"
	"    not { when payload.user.name in [\"bot\", \"ci\"] }\n"
	"    when payload.count > 3; when payload.count < 100\n"
	"    when payload.labels contains \"ml\"\n"
	"    when payload.ref not in [\"refs/tags/x\"]\n"
	"    when header.X-Kind glob \"push*\"\n"
	"    when event.data[\"valohai.execution-step\"] != \"train\"\n"
	"    when event.data.valohai\\.execution-id matches \"^[0-9a-f]+$\"\n"
	"    rate limit 5 per 1m key payload.user.id\n"
	"    filter { field claim.sub, equals \"me\" }\n"
	"    copy pipeline nightly-training source latest { parameter train.epochs = 2 }\n"
	"    http POST \"https://hooks.slack.com/x\" {\n"
	"        header Content-Type = \"application/json\"\n"
	"        body \"{\\\"text\\\": \\\"ok\\\"}\"\n"
	"        expect 200\n"
	"    }\n"
	"    respond 200 payload.challenge content-type \"text/plain\"\n"
	"    run execution train {\n"
	"        commit payload.after\n"
	"        title \"from {{ trigger.name }}\"\n"
	"        parameter epochs = 5\n"
	"        input dataset = [\"a\", \"b\"]\n"
	"        environment MODE = fast\n"
	"        payload-input body\n"
	"    }\n"
	"    fetch repository\n"
	"    notfy \"ops\"\n"
	"}\n"
	"trigger watch {\n"
	"    on execution_completed\n"
	"    when event.data[\"valohai.execution-status\"] == complete\n"
	"    http GET \"https://example.com/done\"\n"
	"}\n";

/* ------------------------------------------------------------ top level */

START_TEST(test_top_level)
{
	TREE_IS("", "{}");
	TREE_IS("\n\n# only comments\n\n", "{}");
	TREE_IS("project mnist", "{project: mnist}");
	TREE_IS("project \"mnist\"\n", "{project: \"mnist\"}");
	TREE_IS("backend local", "{backend: {kind: local}}");
	TREE_IS("backend local { max-parallel 4; workdir \".\" }",
		"{backend: {kind: local, max-parallel: 4, workdir: \".\"}}");
	TREE_IS("import \"a.yaml\"\nproject x\nimport \"b.yaml\"",
		"{import: [\"a.yaml\", \"b.yaml\"], project: x}");
	TREE_IS("step a\nstep b { command \"x\" }\n",
		"{steps: [{name: a}, {name: b, command: \"x\"}]}");
	TREE_IS("pipeline p {}\ntrigger t {}",
		"{pipelines: [{name: p}], triggers: [{name: t}]}");
	/* An entry is made where its first statement is, later ones append. */
	TREE_IS("step a\nproject x\nstep b",
		"{steps: [{name: a}, {name: b}], project: x}");
	/* The generic form of a sugar's key: sugar appends to its list. */
	TREE_IS("steps [{ name a }]\nstep b",
		"{steps: [{name: a}, {name: b}]}");
	/* A quoted key is always a plain key of the map. */
	TREE_IS("\"step\" 5\n\"import\" [1]", "{step: 5, import: [1]}");
}
END_TEST

START_TEST(test_generic_statements)
{
	/* KEY VALUE, KEY = VALUE, KEY BLOCK, KEY PAIRS, KEY alone (null) */
	TREE_IS("a 1\nb = 2\nc { d 3 }\ne f 4 g \"5\"\nh\n",
		"{a: 1, b: 2, c: {d: 3}, e: {f: 4, g: \"5\"}, h: ()}");
	/* Values: strings, numbers, durations, sizes, words, methods, ~, lists. */
	TREE_IS("v [\"s\", -1.5, 30s, 1h30m, 500ms, 1MiB, word, POST, ~, true]",
		"{v: [\"s\", -1.5, 30s, 1h30m, 500ms, 1MiB, word, POST, ~, true]}");
	/* Lists: newlines free inside, trailing comma, nesting, empty. */
	TREE_IS("l [\n  1,\n  [2, []],\n  { a 1 },\n]\nm []",
		"{l: [1, [2, []], {a: 1}], m: []}");
	/* Inline maps: entries separated by ',' ';' or newlines. */
	TREE_IS("m { a 1, b 2; c 3\n d { e 4 }, f }",
		"{m: {a: 1, b: 2, c: 3, d: {e: 4}, f: ()}}");
	TREE_IS("m {}", "{m: {}}");
	/* Secrets. */
	TREE_IS("s env TOKEN\nt file \"/run/s\"\nu jwks-file \"k.json\"\nv jwks-url \"https://x/j\"",
		"{s: {env: TOKEN}, t: {file: \"/run/s\"}, u: {jwks-file: \"k.json\"}, "
		"v: {jwks-url: \"https://x/j\"}}");
	TREE_IS("hmac secret env X header \"X-Sig\"",
		"{hmac: {secret: {env: X}, header: \"X-Sig\"}}");
	/* A path used as a value is a template. */
	TREE_IS("commit payload.after\nx [a.b[0], c[\"d.e\"]]",
		"{commit: {{ payload.after }}, x: [{{ a.b[0] }}, {{ c[\"d.e\"] }}]}");
	/* Keywords are names where a name may stand. */
	TREE_IS("step input { parameter step = when }\nwhen in",
		"{steps: [{name: input, parameters: [{name: step, default: when}]}], when: in}");
	/* Duplicates are kept, in order (the decoder reports them). */
	TREE_IS("a 1\na 2", "{a: 1, a: 2}");
	/* Semicolons and blank lines. */
	TREE_IS(";;\na 1;;; b 2;\n\n\nc 3;", "{a: 1, b: 2, c: 3}");
	/* Empty strings and regexes (found by fuzzing: no NULL buffer). */
	TREE_IS("a \"\"\ntrigger t { when x.y matches // }",
		"{a: \"\", triggers: [{name: t, conditions: [{filter: {field: x.y, matches: //}}]}]}");
	/* CRLF line ends. */
	TREE_IS("a 1\r\nb {\r\n c 2\r\n}\r\n", "{a: 1, b: {c: 2}}");
}
END_TEST

START_TEST(test_step)
{
	TREE_IS("step train {\n"
		"    command \"python3 train.py {parameters}\"\n"
		"    parameter epochs: integer = 3\n"
		"    parameter lr: float = 0.1 optional true { description \"rate\" }\n"
		"    parameter flag\n"
		"    input dataset = \"data/mnist.npz\"\n"
		"    input many = [\"a\", \"b\"] { optional true }\n"
		"    environment MODE = \"fast\" description \"m\"\n"
		"    image \"python:3\"\n"
		"}",
		"{steps: [{name: train, command: \"python3 train.py {parameters}\", "
		"parameters: [{name: epochs, type: integer, default: 3}, "
		"{name: lr, type: float, default: 0.1, optional: true, description: \"rate\"}, "
		"{name: flag}], "
		"inputs: [{name: dataset, default: \"data/mnist.npz\"}, "
		"{name: many, default: [\"a\", \"b\"], optional: true}], "
		"environment-variables: [{name: MODE, default: \"fast\", description: \"m\"}], "
		"image: \"python:3\"}]}");
}
END_TEST

START_TEST(test_pipeline)
{
	TREE_IS("pipeline p {\n"
		"    node prep step preprocess\n"
		"    node train step train type execution { extra 1 }\n"
		"    edge prep.output.*.npz -> train.input.dataset\n"
		"    edge \"x y\" -> z\n"
		"}",
		"{pipelines: [{name: p, nodes: [{name: prep, step: preprocess}, "
		"{name: train, step: train, type: execution, extra: 1}], "
		"edges: [[prep.output.*.npz, train.input.dataset], [\"x y\", z]]}]}");
}
END_TEST

START_TEST(test_trigger_keys)
{
	TREE_IS("trigger t {\n"
		"    description \"d\"\n"
		"    enabled false\n"
		"    schedule cron \"0 2 * * *\" timezone \"Europe/Helsinki\" catch-up once overlap skip\n"
		"}",
		"{triggers: [{name: t, description: \"d\", enabled: false, "
		"schedule: {cron: \"0 2 * * *\", timezone: \"Europe/Helsinki\", catch-up: once, "
		"overlap: skip}}]}");
	TREE_IS("trigger t { schedule every 15m }",
		"{triggers: [{name: t, schedule: {every: 15m}}]}");
	TREE_IS("trigger t { schedule monthly { day 1, at \"00:00\" } }",
		"{triggers: [{name: t, schedule: {monthly: {day: 1, at: \"00:00\"}}}]}");
	TREE_IS("trigger t { webhook }", "{triggers: [{name: t, webhook: {}}]}");
	TREE_IS("trigger t { webhook POST \"/hooks/github\" max-body 1MiB }",
		"{triggers: [{name: t, webhook: {path: \"/hooks/github\", methods: [POST], "
		"max-body: 1MiB}}]}");
	TREE_IS("trigger t { webhook GET POST }",
		"{triggers: [{name: t, webhook: {methods: [GET, POST]}}]}");
	TREE_IS("trigger t { webhook \"/x\" { rejected-status 403 } }",
		"{triggers: [{name: t, webhook: {path: \"/x\", rejected-status: 403}}]}");
	TREE_IS("trigger t { on dataset_version_created }",
		"{triggers: [{name: t, notification: {event: dataset_version_created}}]}");
	TREE_IS("trigger t { notification { event x } }",
		"{triggers: [{name: t, notification: {event: x}}]}");
	/* A quoted key stays in the trigger's map, whatever its text. */
	TREE_IS("trigger t { \"token\" 1; \"x-extra\" 2 }",
		"{triggers: [{name: t, token: 1, x-extra: 2}]}");
}
END_TEST

START_TEST(test_when)
{
	static const struct {
		const char *src, *tree;
	} cases[] = {
		{ "when header.X-GitHub-Event == \"push\"",
		  "{filter: {field: header.X-GitHub-Event, equals: \"push\"}}" },
		{ "when payload.a != 1", "{filter: {field: payload.a, not-equals: 1}}" },
		{ "when payload.ref in [\"a\", \"b\"]",
		  "{filter: {field: payload.ref, in: [\"a\", \"b\"]}}" },
		{ "when payload.ref not in [x]", "{filter: {field: payload.ref, not-in: [x]}}" },
		{ "when e.d.n matches /^images(-.*)?$/",
		  "{filter: {field: e.d.n, matches: /^images(-.*)?$/}}" },
		{ "when e.n matches \"^a\"", "{filter: {field: e.n, matches: \"^a\"}}" },
		{ "when e.n matches /a\\/b\\d/", "{filter: {field: e.n, matches: /a/b\\d/}}" },
		{ "when h.X glob \"push*\"", "{filter: {field: h.X, glob: \"push*\"}}" },
		{ "when p.n > 3", "{filter: {field: p.n, greater-than: 3}}" },
		{ "when p.n < -3.5", "{filter: {field: p.n, less-than: -3.5}}" },
		{ "when p.l contains \"ml\"", "{filter: {field: p.l, contains: \"ml\"}}" },
		{ "when p.x exists", "{filter: {field: p.x, exists: true}}" },
		{ "when p.x not exists", "{filter: {field: p.x, exists: false}}" },
		{ "when p.x  not \t exists", "{filter: {field: p.x, exists: false}}" },
		{ "when remote.ip in [\"10.0.0.1\"]",
		  "{filter: {field: remote.ip, in: [\"10.0.0.1\"]}}" },
		{ "when event.data.valohai\\.execution-step == train",
		  "{filter: {field: event.data.valohai\\.execution-step, equals: train}}" },
		{ "when event.data[\"valohai.execution-step\"] == train",
		  "{filter: {field: event.data[\"valohai.execution-step\"], equals: train}}" },
		{ "when payload.commits[0].id == x",
		  "{filter: {field: payload.commits[0].id, equals: x}}" },
		{ "when \"payload.a b\" == x", "{filter: {field: \"payload.a b\", equals: x}}" },
		{ "when input == x", "{filter: {field: input, equals: x}}" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char src[256], want[512];
		snprintf(src, sizeof(src), "trigger t {\n    %s\n}\n", cases[i].src);
		snprintf(want, sizeof(want), "{triggers: [{name: t, conditions: [%s]}]}",
			 cases[i].tree);
		TREE_IS(src, want);
	}
}
END_TEST

START_TEST(test_conditions)
{
	TREE_IS("trigger t {\n"
		"    hmac preset github secret env GITHUB_WEBHOOK_SECRET\n"
		"    token header \"X-Token\" secret env T\n"
		"    jwt { algorithms [RS256, ES256], key file \"k.pem\", audience [a, b] }\n"
		"    timestamp header X-Ts format unix tolerance 5m\n"
		"    replay id header.X-GitHub-Delivery window 1h\n"
		"    ip-allow [\"10.0.0.0/8\"]\n"
		"    filter field payload.a equals b\n"
		"    rate-limit { max 1, per 1s }\n"
		"    rate limit 10 per 1h key payload.user\n"
		"}",
		"{triggers: [{name: t, conditions: ["
		"{hmac: {preset: github, secret: {env: GITHUB_WEBHOOK_SECRET}}}, "
		"{token: {header: \"X-Token\", secret: {env: T}}}, "
		"{jwt: {algorithms: [RS256, ES256], key: {file: \"k.pem\"}, audience: [a, b]}}, "
		"{timestamp: {header: X-Ts, format: unix, tolerance: 5m}}, "
		"{replay: {id: {{ header.X-GitHub-Delivery }}, window: 1h}}, "
		"{ip-allow: [\"10.0.0.0/8\"]}, "
		"{filter: {field: {{ payload.a }}, equals: b}}, "
		"{rate-limit: {max: 1, per: 1s}}, "
		"{rate-limit: {max: 10, per: 1h, key: {{ payload.user }}}}]}]}");
	TREE_IS("trigger t {\n"
		"    any {\n"
		"        when a.b == 1\n"
		"        all { when c.d exists, not { when e.f == 2 } }\n"
		"        hmac preset slack secret env S\n"
		"        rate limit 1 per 1s\n"
		"    }\n"
		"    all {}\n"
		"}",
		"{triggers: [{name: t, conditions: [{any: ["
		"{filter: {field: a.b, equals: 1}}, "
		"{all: [{filter: {field: c.d, exists: true}}, "
		"{not: [{filter: {field: e.f, equals: 2}}]}]}, "
		"{hmac: {preset: slack, secret: {env: S}}}, "
		"{rate-limit: {max: 1, per: 1s}}]}, {all: []}]}]}");
}
END_TEST

START_TEST(test_actions)
{
	TREE_IS("trigger t {\n"
		"    run execution train { commit = payload.after, parameter epochs = 5 }\n"
		"    run execution eval commit \"main\" title \"t\"\n"
		"    run pipeline data-preprocessing { input prep.dataset = event.data.version.uri }\n"
		"    copy pipeline nightly source latest { parameter train.epochs = 2 }\n"
		"    fetch repository\n"
		"    http POST \"https://x/y\" expect 200 {\n"
		"        header Content-Type = \"application/json\"\n"
		"        header \"X-A\" = payload.a\n"
		"        body \"{}\"\n"
		"    }\n"
		"    http GET payload.response_url\n"
		"    respond 202 \"started {{ launch.id }}\"\n"
		"    respond 200 payload.challenge content-type \"text/plain\"\n"
		"    respond 204\n"
		"    notfy \"ops\"\n"
		"    run-execution { step x }\n"
		"}",
		"{triggers: [{name: t, actions: ["
		"{run-execution: {step: train, commit: {{ payload.after }}, parameters: {epochs: 5}}}, "
		"{run-execution: {step: eval, commit: \"main\", title: \"t\"}}, "
		"{run-pipeline: {pipeline: data-preprocessing, "
		"inputs: {prep.dataset: {{ event.data.version.uri }}}}}, "
		"{copy-pipeline: {pipeline: nightly, source: latest, parameters: {train.epochs: 2}}}, "
		"{fetch-repository: {}}, "
		"{http: {method: POST, url: \"https://x/y\", expect: 200, "
		"headers: {Content-Type: \"application/json\", X-A: {{ payload.a }}}, body: \"{}\"}}, "
		"{http: {method: GET, url: {{ payload.response_url }}}}, "
		"{respond: {status: 202, body: \"started {{ launch.id }}\"}}, "
		"{respond: {status: 200, body: {{ payload.challenge }}, content-type: \"text/plain\"}}, "
		"{respond: {status: 204}}, "
		"{notfy: \"ops\"}, "
		"{run-execution: {step: x}}]}]}");
	/* The action block's sugar adds to one map; environment and inputs too. */
	TREE_IS("trigger t { run execution x {\n"
		"    parameter a = 1\n    title \"t\"\n    parameter b = [1, 2]\n"
		"    environment E = \"e\"\n    input i = [\"u\", \"v\"]\n"
		"} }",
		"{triggers: [{name: t, actions: [{run-execution: {step: x, "
		"parameters: {a: 1, b: [1, 2]}, title: \"t\", environment: {E: \"e\"}, "
		"inputs: {i: [\"u\", \"v\"]}}}]}]}");
	/* fetch repository with pairs. */
	TREE_IS("trigger t { fetch repository ref main }",
		"{triggers: [{name: t, actions: [{fetch-repository: {ref: main}}]}]}");
}
END_TEST

START_TEST(test_trigger_order)
{
	/* Conditions and actions go to their lists, each list made where its
	 * first statement is; trigger keys stay in place around them. */
	TREE_IS("trigger t {\n"
		"    run pipeline a\n"
		"    when x.y == 1\n"
		"    description \"d\"\n"
		"    run pipeline b\n"
		"    hmac preset github secret env S\n"
		"    webhook\n"
		"}",
		"{triggers: [{name: t, actions: [{run-pipeline: {pipeline: a}}, "
		"{run-pipeline: {pipeline: b}}], "
		"conditions: [{filter: {field: x.y, equals: 1}}, "
		"{hmac: {preset: github, secret: {env: S}}}], description: \"d\", webhook: {}}]}");
	/* The generic spelling of the lists. */
	TREE_IS("trigger t {\n"
		"    conditions [{ filter { field a, equals b } }]\n"
		"    when c.d == e\n"
		"    actions []\n"
		"}",
		"{triggers: [{name: t, conditions: [{filter: {field: a, equals: b}}, "
		"{filter: {field: c.d, equals: e}}], actions: []}]}");
}
END_TEST

START_TEST(test_spec_samples)
{
	struct tree *t = parse(spec_sketch);
	ck_assert_msg(t != NULL, "%s", diags());
	ck_assert_str_eq(dumps(t),
		"{project: mnist, backend: {kind: local, max-parallel: 4}, "
		"steps: [{name: train, command: \"python3 train.py {parameters}\", "
		"parameters: [{name: epochs, type: integer, default: 3}]}], "
		"triggers: [{name: nightly, schedule: {cron: \"0 2 * * *\", "
		"timezone: \"Europe/Helsinki\", catch-up: once}, "
		"actions: [{run-pipeline: {pipeline: nightly-training}}]}, "
		"{name: github-push, webhook: {path: \"/hooks/github\", methods: [POST]}, "
		"conditions: [{hmac: {preset: github, secret: {env: GITHUB_WEBHOOK_SECRET}}}, "
		"{filter: {field: header.X-GitHub-Event, equals: \"push\"}}, "
		"{filter: {field: payload.ref, in: [\"refs/heads/main\", \"refs/heads/release\"]}}, "
		"{rate-limit: {max: 10, per: 1h}}], "
		"actions: [{fetch-repository: {}}, "
		"{run-execution: {step: train, commit: {{ payload.after }}, parameters: {epochs: 5}}}, "
		"{respond: {status: 202, body: \"started {{ launch.id }}\"}}]}, "
		"{name: preprocess-new-data, notification: {event: dataset_version_created}, "
		"conditions: [{filter: {field: event.data.dataset.name, "
		"matches: /^images(-.*)?$/}}], "
		"actions: [{run-pipeline: {pipeline: data-preprocessing, "
		"inputs: {prep.dataset: {{ event.data.version.uri }}}}}]}]}");

	t = parse(spec_yaml_as_trig);
	ck_assert_msg(t != NULL, "%s", diags());
	ck_assert_str_eq(dumpu(t), spec_yaml_tree);

	t = parse(everything);
	ck_assert_msg(t != NULL, "%s", diags());
	const struct tree *tr = item(get(t, "triggers"), 0);
	ck_assert_uint_eq(get(tr, "conditions")->u.list.n, 16);
	ck_assert_uint_eq(get(tr, "actions")->u.list.n, 6);
	ck_assert_str_eq(dumps(item(get(tr, "actions"), 5)), "{notfy: \"ops\"}");
}
END_TEST

/* ------------------------------------------------------------ positions */

START_TEST(test_locations)
{
	struct tree *t = parse("project  mnist\n"
			       "trigger gh {\n"
			       "\twhen header.X-Event == \"p\\u00e9ush\"\n"
			       "    run execution train { commit payload.after }\n"
			       "    description \"plain\" # c\n"
			       "    when a.b matches /x\\/y/\n"
			       "}\n");
	ck_assert_msg(t != NULL, "%s", diags());
	ck_assert_uint_eq(t->u.map.v[0].key_loc.file, 1);
	LOC_IS(t->u.map.v[0].key_loc, 1, 1, 7);
	LOC_IS(get(t, "project")->loc, 1, 10, 5);
	ck_assert(get(t, "project")->u.scalar.exact);

	const struct tree *tr = item(get(t, "triggers"), 0);
	LOC_IS(t->u.map.v[1].key_loc, 2, 1, 7);         /* triggers: at 'trigger' */
	LOC_IS(tr->u.map.v[0].key_loc, 2, 1, 7);        /* name: at 'trigger' */
	LOC_IS(get(tr, "name")->loc, 2, 9, 2);

	/* when: the item at 'when', field at the path, equals at '==' */
	const struct tree *c = item(get(tr, "conditions"), 0);
	LOC_IS(c->u.map.v[0].key_loc, 3, 2, 4);
	const struct tree *f = get(c, "filter");
	LOC_IS(f->u.map.v[0].key_loc, 3, 7, 14);
	LOC_IS(get(f, "field")->loc, 3, 7, 14);
	LOC_IS(f->u.map.v[1].key_loc, 3, 22, 2);
	const struct tree *s = get(f, "equals");
	LOC_IS(s->loc, 3, 25, 12);
	LOC_IS(s->u.scalar.text_loc, 3, 26, 10);
	ck_assert(!s->u.scalar.exact);                   /* it has an escape */
	ck_assert_str_eq(s->u.scalar.text, "p\xc3\xa9ush");
	ck_assert_int_eq(s->u.scalar.style, STYLE_QUOTED);

	/* A path as a value: "{{ PATH }}" at the path. */
	const struct tree *ex = get(item(get(tr, "actions"), 0), "run-execution");
	const struct tree *commit = get(ex, "commit");
	ck_assert_str_eq(commit->u.scalar.text, "{{ payload.after }}");
	LOC_IS(commit->loc, 4, 34, 13);
	ck_assert(!commit->u.scalar.exact);
	LOC_IS(ex->u.map.v[1].key_loc, 4, 27, 6);

	const struct tree *d = get(tr, "description");
	LOC_IS(d->loc, 5, 17, 7);
	LOC_IS(d->u.scalar.text_loc, 5, 18, 5);
	ck_assert(d->u.scalar.exact);

	const struct tree *re = get(get(item(get(tr, "conditions"), 1), "filter"), "matches");
	ck_assert_int_eq(re->u.scalar.style, STYLE_REGEX);
	ck_assert_str_eq(re->u.scalar.text, "x/y");
	LOC_IS(re->loc, 6, 22, 6);
	LOC_IS(re->u.scalar.text_loc, 6, 23, 4);
	ck_assert(!re->u.scalar.exact);
}
END_TEST

/* ------------------------------------------------------------ errors */

START_TEST(test_syntax_errors)
{
	ERRORS_ARE("step }", "1:6: unexpected '}', expected a name\n");
	ERRORS_ARE("step", "1:5: unexpected end of file, expected a name\n");
	ERRORS_ARE("a = =", "1:5: unexpected '=', expected a value\n");
	ERRORS_ARE("= 1", "1:1: unexpected '=', expected a statement\n");
	ERRORS_ARE("trigger t {\n  when a.b ~ 3\n}",
		   "2:12: unexpected '~', expected an operator\n");
	ERRORS_ARE("trigger t {\n  when a.b\n}",
		   "2:11: unexpected end of line, expected an operator\n");
	ERRORS_ARE("a [1 2]", "1:6: unexpected '2', expected ',' or ']'\n");
	ERRORS_ARE("command \"y\" z", "1:13: unexpected 'z', expected end of line\n");
	ERRORS_ARE("schedule cron \"x\" \"y\"",
		   "1:19: unexpected string, expected a name or end of line\n");
	ERRORS_ARE("pipeline p { edge a b }", "1:21: unexpected 'b', expected '->'\n");
	ERRORS_ARE("trigger t { http post \"u\" }",
		   "1:18: unexpected 'post', expected an HTTP method\n");
	ERRORS_ARE("a { b }}", "1:8: unexpected '}', expected end of line\n");
	/* The end of a file that ends in a newline is at the end of its last line. */
	ERRORS_ARE("trigger t {\n  run execution x\n", "2:18: unexpected end of file, "
		   "expected a statement or '}'\n");
	ERRORS_ARE("a 1;b 2 3", "1:9: unexpected '3', expected end of line\n");
	ERRORS_ARE("a = ;", "1:5: unexpected ';', expected a value\n");
	ERRORS_ARE("a )", "1:3: unexpected ')', expected a value, '=' or end of line\n");
	/* A '{' must be on the statement's line. */
	ERRORS_ARE("trigger t\n{\n}", "2:1: unexpected '{', expected a statement\n");
}
END_TEST

START_TEST(test_lexical_errors)
{
	ERRORS_ARE("a \"x", "1:3: unterminated string\n");
	ERRORS_ARE("a \"x\nb 1", "1:3: unterminated string\n");
	ERRORS_ARE("a \"a\\qb\"", "1:5: invalid escape '\\q' in a string\n");
	ERRORS_ARE("a \"\\u12\"", "1:4: invalid escape '\\u' in a string: four hex digits "
		   "must follow\n");
	ERRORS_ARE("a \"\\ud800\"", "1:4: invalid escape '\\ud800' in a string: a lone "
		   "UTF-16 surrogate\n");
	ERRORS_ARE("a \"\\udc00\\ud800\"", "1:4: invalid escape '\\udc00' in a string: a "
		   "lone UTF-16 surrogate\n");
	ERRORS_ARE("a \"\x01\"", "1:4: control character 0x01 in a string; write it as "
		   "\\u0001\n");
	ERRORS_ARE("a 'x'", "1:3: unexpected \"'\": strings are written in double quotes\n");
	ERRORS_ARE("a /x/", "1:3: unexpected '/': a regular expression may only follow "
		   "'matches'\n");
	ERRORS_ARE("trigger t { when a.b matches /x }",
		   "1:30: unterminated regular expression\n");
	ERRORS_ARE("a $", "1:3: unexpected character '$'\n");
	ERRORS_ARE("a \xc3\xa9", "1:3: unexpected character '\xc3\xa9'\n");
	ERRORS_ARE("a \x7f", "1:3: unexpected control character 0x7f\n");
	/* Invalid UTF-8, at the exact byte. */
	ERRORS_ARE("a \"ok \xff\"", "1:7: invalid UTF-8 in a string\n");
	ERRORS_ARE("a \"\xc3\"", "1:4: invalid UTF-8 in a string\n");
	ERRORS_ARE("a \"\xed\xa0\x80\"", "1:4: invalid UTF-8 in a string\n");   /* surrogate */
	ERRORS_ARE("a \"\xc0\xaf\"", "1:4: invalid UTF-8 in a string\n");       /* overlong */
	ERRORS_ARE("a 1 # \xfe\n", "1:7: invalid UTF-8 in a comment\n");
	ERRORS_ARE("a \xff", "1:3: invalid UTF-8 byte 0xff\n");
	ERRORS_ARE("trigger t { when a.b matches /\xff/ }",
		   "1:31: invalid UTF-8 in a regular expression\n");
}
END_TEST

/* NUL bytes need explicit lengths. */
START_TEST(test_nul_bytes)
{
	static const char a[] = "a \"x\0y\"\nb \0\nc 1 # \0\n";
	struct tree *t = parse_n(a, sizeof(a) - 1);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(diags(), "1:5: NUL byte in a string; write it as \\u0000\n"
		       "2:3: unexpected NUL byte\n"
		       "3:7: NUL byte in a comment\n");
	static const char b[] = "a 1\0";
	t = parse_n(b, sizeof(b) - 1);
	ck_assert_ptr_null(t);
	ck_assert_str_eq(diags(), "1:4: unexpected NUL byte\n");
	/* An escaped NUL is fine: text may hold NULs. */
	t = parse("a \"x\\u0000y\"");
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(get(t, "a")->u.scalar.len, 3);
	ck_assert_int_eq(memcmp(get(t, "a")->u.scalar.text, "x\0y", 3), 0);
}
END_TEST

START_TEST(test_unicode_escapes)
{
	/* U+00E9, U+20AC, U+1F600 as a surrogate pair, and their UTF-8
	 * encodings as published in the Unicode standard's tables. */
	struct tree *t = parse("a \"\\u00e9\\u20AC\\ud83d\\ude00\\u0041\"");
	ck_assert_msg(t != NULL, "%s", diags());
	ck_assert_str_eq(get(t, "a")->u.scalar.text, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80" "A");
	t = parse("a \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"");
	ck_assert_msg(t != NULL, "%s", diags());
	ck_assert_str_eq(get(t, "a")->u.scalar.text, "\" \\ / \b \f \n \r \t");
	/* Valid UTF-8 passes through strings, comments and regexes. */
	t = parse("# caf\xc3\xa9 \xf0\x9f\x98\x80\n"
		  "trigger t { when a.b matches /\xe2\x82\xac+/ }\na \"\xf4\x8f\xbf\xbf\"");
	ck_assert_msg(t != NULL, "%s", diags());
}
END_TEST

START_TEST(test_recovery)
{
	/* Two independent errors, two diagnostics; the rest is parsed. */
	ERRORS_ARE("a = =\nb 1\nc [1 2]\nd 2\n",
		   "1:5: unexpected '=', expected a value\n"
		   "3:6: unexpected '2', expected ',' or ']'\n");
	/* At most one error per statement: the rest of the line is skipped,
	 * lexical errors included. */
	ERRORS_ARE("a = = \"\\q\" \xff $\nb 1", "1:5: unexpected '=', expected a value\n");
	ERRORS_ARE("a \"\\q\" = = $", "1:4: invalid escape '\\q' in a string\n");
	/* Errors inside blocks recover inside the block. */
	ERRORS_ARE("trigger t {\n"
		   "    when a.b ~ 1\n"
		   "    run execution = 5\n"
		   "    respond 200 \"a\\qb\" { x 1 }\n"
		   "    description \"ok\"\n"
		   "    run execution x { parameter = 1; title \"t\" }\n"
		   "}\n"
		   "project \"x\n",
		   "2:14: unexpected '~', expected an operator\n"
		   "3:19: unexpected '=', expected a name\n"
		   "4:19: invalid escape '\\q' in a string\n"
		   "6:33: unexpected '=', expected a name\n"
		   "8:9: unterminated string\n");
	/* A broken statement's brackets are skipped as a whole. */
	ERRORS_ARE("a = = [1,\n 2, {\n x 1\n }]\nb = =\n",
		   "1:5: unexpected '=', expected a value\n"
		   "5:5: unexpected '=', expected a value\n");
	/* An unclosed '[' is closed by its block's '}'. */
	ERRORS_ARE("trigger t {\n  ip-allow [\"a\"\n  when x.y == 1\n}\nb = =\n",
		   "3:3: unexpected 'when', expected ',' or ']'\n"
		   "5:5: unexpected '=', expected a value\n");
	/* Errors right at '}' and at the end of the file. */
	ERRORS_ARE("a { b = }\nc = =", "1:9: unexpected '}', expected a value\n"
		   "2:5: unexpected '=', expected a value\n");
}
END_TEST

START_TEST(test_adversarial)
{
	/* 100k nested brackets: one error, no crash, no deep recursion. */
	size_t n = 100000;
	char *s = malloc(2 * n + 16);
	ck_assert_ptr_nonnull(s);
	memcpy(s, "a ", 2);
	memset(s + 2, '[', n);
	memset(s + 2 + n, ']', n);
	memcpy(s + 2 + 2 * n, "\nb = =\n", 8);
	ck_assert_ptr_null(parse(s));
	ck_assert_str_eq(diags(), "1:67: brackets nested too deeply (the limit is 64)\n"
		       "2:5: unexpected '=', expected a value\n");
	/* Unbalanced: 100k '{' and nothing else. */
	memset(s + 2, '{', n);
	s[2 + n] = 0;
	ck_assert_ptr_null(parse(s));
	ck_assert_str_eq(diags(), "1:4: unexpected '{', expected a statement or '}'\n");
	free(s);
	/* 100k nested blocks, never closed. */
	s = malloc(4 * n + 16);
	ck_assert_ptr_nonnull(s);
	memcpy(s, "a ", 2);
	for (size_t i = 0; i < n; i++)
		memcpy(s + 2 + 4 * i, "{ b ", 4);
	s[2 + 4 * n] = 0;
	ck_assert_ptr_null(parse(s));
	ck_assert_str_eq(diags(), "1:259: brackets nested too deeply (the limit is 64)\n");
	free(s);
	/* 64 levels are fine. */
	char ok[200] = "a ";
	memset(ok + 2, '[', 64);
	memset(ok + 66, ']', 64);
	ok[130] = 0;
	ck_assert_ptr_nonnull(parse(ok));
	/* Over-long input. */
	size_t big = (size_t)16 * 1024 * 1024 + 1;
	char *h = malloc(big);
	ck_assert_ptr_nonnull(h);
	memset(h, '#', big);
	ck_assert_ptr_null(parse_n(h, big));
	ck_assert_str_eq(diags(), "0:0: file is too large (16777217 bytes; the limit is 16 MiB)\n");
	free(h);
	/* Every byte value alone and after a key: errors or a tree, no crash. */
	for (int c = 0; c < 256; c++) {
		char one[8] = { (char)c, 0 };
		parse_n(one, 1);
		char two[8] = { 'a', ' ', (char)c, 0 };
		parse_n(two, 3);
		char three[8] = { 'a', ' ', '"', (char)c, 0 };
		if (c != '"')
			ck_assert_ptr_null(parse_n(three, 4));
	}
	/* Truncations of a real file: never a crash, never an error-free NULL. */
	size_t len = strlen(everything);
	for (size_t i = 0; i < len; i += 7) {
		struct tree *t = parse_n(everything, i);
		ck_assert(t != NULL || D.errors > 0);
	}
}
END_TEST

/* Building and formatting are linear: many entries before the lists that
 * sugar appends to, and many duplicate keys (each would rescan a
 * quadratic implementation: about 10^10 steps here). */
START_TEST(test_large_input)
{
	size_t n = 100000;
	char *s = malloc(n * 48 + 64);
	ck_assert_ptr_nonnull(s);
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "k%zu %zu\n", i, i);
	for (size_t i = 0; i < n; i++)
		len += (size_t)sprintf(s + len, "step s%zu { parameter p = 1 }\n", i);
	len += (size_t)sprintf(s + len, "\"steps\" 1\n\"steps\" 2\n");
	struct tree *t = parse_n(s, len);
	ck_assert_msg(t != NULL, "%s", diags());
	ck_assert_uint_eq(t->u.map.n, n + 3);
	ck_assert_uint_eq(get(t, "steps")->u.list.n, n);
	const char *out = fmt(t);
	ck_assert_uint_gt(strlen(out), len);
	struct tree *back = parse(out);
	ck_assert_msg(back != NULL, "%s", diags());
	ck_assert_uint_eq(back->u.map.n, n + 3);
	free(s);
}
END_TEST

/* ------------------------------------------------------------ formatter */

START_TEST(test_fmt_canonical)
{
	const char *out = round_trip(spec_sketch);
	ck_assert_str_eq(out,
		"project mnist\n"
		"\n"
		"backend local {\n"
		"    max-parallel 4\n"
		"}\n"
		"\n"
		"step train {\n"
		"    command \"python3 train.py {parameters}\"\n"
		"    parameter epochs: integer = 3\n"
		"}\n"
		"\n"
		"trigger nightly {\n"
		"    schedule cron \"0 2 * * *\" timezone \"Europe/Helsinki\" catch-up once\n"
		"    run pipeline nightly-training\n"
		"}\n"
		"\n"
		"trigger github-push {\n"
		"    webhook POST \"/hooks/github\"\n"
		"    hmac preset github secret env GITHUB_WEBHOOK_SECRET\n"
		"    when header.X-GitHub-Event == push\n"
		"    when payload.ref in [\"refs/heads/main\", \"refs/heads/release\"]\n"
		"    rate limit 10 per 1h\n"
		"    fetch repository\n"
		"    run execution train {\n"
		"        commit payload.after\n"
		"        parameter epochs = 5\n"
		"    }\n"
		"    respond 202 \"started {{ launch.id }}\"\n"
		"}\n"
		"\n"
		"trigger preprocess-new-data {\n"
		"    on dataset_version_created\n"
		"    when event.data.dataset.name matches /^images(-.*)?$/\n"
		"    run pipeline data-preprocessing {\n"
		"        input prep.dataset = event.data.version.uri\n"
		"    }\n"
		"}\n");
	round_trip(spec_yaml_as_trig);
	round_trip(everything);
	/* The formatter is a fixed point on its own output. */
	ck_assert_str_eq(round_trip(out), out);
}
END_TEST

START_TEST(test_fmt_scalars)
{
	/* Scalar printing depends on the text only. */
	struct tree *t = parse("a [\"tab\\there\", \"\\u0000\", \"\\u007f\", \"q\\\"\\\\\", "
			       "\"caf\xc3\xa9\", \"\\r\\b\"]");
	ck_assert_msg(t != NULL, "%s", diags());
	ck_assert_str_eq(fmt(t), "a [\"tab\\there\", \"\\u0000\", \"\\u007f\", \"q\\\"\\\\\", "
			 "\"caf\xc3\xa9\", \"\\r\\u0008\"]\n");
	round_trip("a [\"word\", \"5\", \"1h30m\", \"GET\", \"~\", \"a b\", \"step\", "
		   "\"{{ payload.x }}\", \"{{ now }}\", \"x.y\", \"run\", \"\", \"tab\\there\"]");
	ck_assert_str_eq(fmt(parse("a [\"word\", \"5\", \"GET\", \"a b\", \"step\", "
				   "\"{{ payload.x }}\", \"{{ now }}\", \"x.y\", \"\"]")),
			 "a [word, 5, GET, \"a b\", \"step\", payload.x, \"{{ now }}\", \"x.y\", \"\"]\n");
	/* Keywords that would join: `run "pipeline"`, not `run pipeline`. */
	ck_assert_str_eq(fmt(parse("run \"pipeline\"\nrate { limit 1 }\nx run\n")),
			 "run \"pipeline\"\n\nrate {\n    limit 1\n}\n\nx run\n");
	round_trip("run \"pipeline\"\nrate { limit 1 }\nnot { in 1 }\na { b run, pipeline 1 }\n"
		   "trigger t { run execution run { pipeline x } }\n");
	/* Found by fuzzing: after a quoted "matches" too (a key that must be
	 * quoted keeps its regex). */
	TREE_IS("\"matches\" /a/\nm { \"matches\" /b/ }",
		"{matches: /a/, m: {matches: /b/}}");
	struct loc no = { 0, 0, 0, 0 };
	struct tree *root = tree_map(&A, no), *tl = tree_list(&A, no), *tr = tree_map(&A, no);
	tree_map_put(&A, tr, "name", no, tree_scalar(&A, no, "t", 1, STYLE_PLAIN));
	tree_map_put(&A, tr, "matches", no, tree_scalar(&A, no, "^x$", 3, STYLE_REGEX));
	tree_list_push(&A, tl, tr);
	tree_map_put(&A, root, "triggers", no, tl);
	ck_assert_str_eq(fmt(root), "trigger t {\n    \"matches\" /^x$/\n}\n");
	ck_assert_str_eq(dumps(parse(fmt(root))), "{triggers: [{name: t, matches: /^x$/}]}");
	/* A regex prints as one only where one may stand. */
	ck_assert_str_eq(fmt(parse("trigger t { when a.b matches /a\\/b/ }\nm { matches /x/ }")),
			 "trigger t {\n    when a.b matches /a\\/b/\n}\n\nm matches /x/\n");
}
END_TEST

START_TEST(test_fmt_layout)
{
	/* Long maps become blocks, long lists one item per line. */
	const char *out = round_trip(
		"trigger t {\n"
		"    ip-allow [\"10.0.0.0/8\", \"172.16.0.0/12\", \"192.168.0.0/16\", \"fd00::/8\", "
		"\"127.0.0.1/32\", \"::1/128\"]\n"
		"    jwt algorithms [RS256] key jwks-url \"https://id.example.com/.well-known/jwks.json\" "
		"issuer \"https://id.example.com\" audience api\n"
		"}\n");
	ck_assert_str_eq(out,
		"trigger t {\n"
		"    ip-allow [\n"
		"        \"10.0.0.0/8\",\n"
		"        \"172.16.0.0/12\",\n"
		"        \"192.168.0.0/16\",\n"
		"        \"fd00::/8\",\n"
		"        \"127.0.0.1/32\",\n"
		"        \"::1/128\",\n"
		"    ]\n"
		"    jwt {\n"
		"        algorithms [RS256]\n"
		"        key jwks-url \"https://id.example.com/.well-known/jwks.json\"\n"
		"        issuer \"https://id.example.com\"\n"
		"        audience api\n"
		"    }\n"
		"}\n");
	/* Single-line top-level statements stay together; blocks get blank lines. */
	ck_assert_str_eq(round_trip("project p\nimport \"a\"\nstep s { command \"c\" }\nx 1\ny 2"),
			 "project p\nimport a\n\nstep s {\n    command c\n}\n\nx 1\ny 2\n");
}
END_TEST

/* Trees the parser does not make but YAML can: they print, and parse back. */
START_TEST(test_fmt_more)
{
	/* Regex backslash pairs, an escaped slash, UTF-8. */
	ck_assert_str_eq(round_trip("trigger t { when x.y matches /\\d+\\\\\\/\xc3\xa9/ }"),
			 "trigger t {\n    when x.y matches /\\d+\\\\\\/\xc3\xa9/\n}\n");
	/* Keywords as keys where they start no statement, and where they do. */
	ck_assert_str_eq(round_trip("step s { node 1; when 2; env X; \"input\" 3 }\n"
				    "pipeline p { step 1; parameter 2; \"edge\" 3 }\n"
				    "trigger t { step 1; \"when\" 2; any { step 1; \"not\" 2 }; all {} }\n"
				    "trigger u\n"),
			 "step s {\n    node 1\n    when 2\n    env X\n    \"input\" 3\n}\n\n"
			 "pipeline p {\n    step 1\n    parameter 2\n    \"edge\" 3\n}\n\n"
			 "trigger t {\n    step 1\n    \"when\" 2\n    any {\n        step 1\n"
			 "        \"not\" 2\n    }\n    all {}\n}\n\ntrigger u\n");
	/* Text that is not UTF-8 (only a hand-made tree can hold it). */
	struct loc no = { 0, 0, 0, 0 };
	struct tree *root = tree_map(&A, no);
	tree_map_put(&A, root, "a", no, tree_scalar(&A, no, "x\xffy\xe2\x82", 5, STYLE_QUOTED));
	ck_assert_str_eq(fmt(root), "a \"x\\ufffdy\\ufffd\\ufffd\"\n");
}
END_TEST

/* Found by fuzzing: a null in an edge prints as `~`; the second round
 * must not turn that into `edge` sugar. */
START_TEST(test_fmt_null_edge)
{
	struct loc no = { 0, 0, 0, 0 };
	struct tree *root = tree_map(&A, no);
	struct tree *pipes = tree_list(&A, no), *p = tree_map(&A, no);
	struct tree *edges = tree_list(&A, no), *e = tree_list(&A, no);
	tree_list_push(&A, e, tree_scalar(&A, no, "null", 4, STYLE_QUOTED));
	tree_list_push(&A, e, tree_scalar(&A, no, "", 0, STYLE_PLAIN));
	tree_list_push(&A, edges, e);
	tree_map_put(&A, p, "name", no, tree_scalar(&A, no, "p", 1, STYLE_PLAIN));
	tree_map_put(&A, p, "edges", no, edges);
	tree_list_push(&A, pipes, p);
	tree_map_put(&A, root, "pipelines", no, pipes);
	const char *f1 = fmt(root);
	ck_assert_str_eq(f1, "pipeline p {\n    edges [[null, ~]]\n}\n");
	struct tree *t2 = parse(f1);
	ck_assert_msg(t2 != NULL, "%s", diags());
	ck_assert_str_eq(fmt(t2), f1);
}
END_TEST

START_TEST(test_fmt_yaml_shapes)
{
	struct loc no = { 0, 0, 0, 0 };
	struct tree *root = tree_map(&A, no);
	/* fetch-repository: (a YAML null) */
	struct tree *trig = tree_map(&A, no);
	tree_map_put(&A, trig, "name", no, tree_scalar(&A, no, "t", 1, STYLE_PLAIN));
	struct tree *acts = tree_list(&A, no);
	struct tree *fr = tree_map(&A, no);
	tree_map_put(&A, fr, "fetch-repository", no, tree_scalar(&A, no, "", 0, STYLE_PLAIN));
	tree_list_push(&A, acts, fr);
	tree_map_put(&A, trig, "actions", no, acts);
	/* conditions: (null) and an unknown trigger key */
	tree_map_put(&A, trig, "conditions", no, tree_scalar(&A, no, "", 0, STYLE_PLAIN));
	tree_map_put(&A, trig, "token", no, tree_scalar(&A, no, "x", 1, STYLE_QUOTED));
	struct tree *trigs = tree_list(&A, no);
	tree_list_push(&A, trigs, trig);
	tree_map_put(&A, root, "triggers", no, trigs);
	/* A step without a name, a key that needs quotes, a null in a list. */
	struct tree *steps = tree_list(&A, no);
	struct tree *st = tree_map(&A, no);
	tree_map_put(&A, st, "command", no, tree_scalar(&A, no, "c", 1, STYLE_QUOTED));
	tree_list_push(&A, steps, st);
	tree_map_put(&A, root, "steps", no, steps);
	tree_map_put(&A, root, "a key", no, tree_scalar(&A, no, "v", 1, STYLE_PLAIN));
	struct tree *l = tree_list(&A, no);
	tree_list_push(&A, l, tree_scalar(&A, no, "", 0, STYLE_PLAIN));
	tree_map_put(&A, root, "step", no, l);
	/* A secret's form with a null: not `env ~`. */
	struct tree *sec = tree_map(&A, no);
	tree_map_put(&A, sec, "env", no, tree_scalar(&A, no, "", 0, STYLE_PLAIN));
	tree_map_put(&A, root, "s", no, sec);

	const char *out = fmt(root);
	ck_assert_str_eq(out,
		"trigger t {\n"
		"    fetch-repository\n"
		"    conditions\n"
		"    \"token\" x\n"
		"}\n"
		"\n"
		"steps [{ command c }]\n"
		"\"a key\" v\n"
		"\"step\" [~]\n"
		"\n"
		"s {\n"
		"    env\n"
		"}\n");
	struct tree *back = parse(out);
	ck_assert_msg(back != NULL, "%s", diags());
	ck_assert_str_eq(dumps(back),
		"{triggers: [{name: t, actions: [{fetch-repository: ()}], conditions: (), "
		"token: x}], steps: [{command: c}], a key: v, step: [~], s: {env: ()}}");
}
END_TEST

/* Random trees (a fixed seed): fmt -> parse gives the same tree, and
 * fmt is stable.  A null in a list or sugar argument comes back as `~`. */
static uint64_t rng = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const rkeys[] = {
	"project", "backend", "import", "steps", "pipelines", "triggers", "name", "kind",
	"parameters", "inputs", "environment-variables", "environment", "nodes", "edges",
	"conditions", "actions", "webhook", "notification", "filter", "field", "equals", "in",
	"matches", "exists", "any", "all", "not", "rate-limit", "max", "env", "file",
	"run-execution", "run-pipeline", "fetch-repository", "http", "respond", "method",
	"url", "status", "body", "step", "pipeline", "type", "default", "headers", "event",
	"path", "methods", "when", "on", "parameter", "input", "header", "run", "rate", "not",
	"execution", "limit", "a b", "", "x.y", "GET", "1", "é",
};

static const char *const rtexts[] = {
	"", "~", "true", "GET", "5", "1h", "{{ a.b }}", "{{ a }}", "run", "pipeline", "in",
	"limit", "a b", "x\"y", "\\", "é", "l1\nl2", "p.q", "env", "step", "{", "#",
	"refs/heads/main", "POST",
};

static struct tree *rtree(int depth, const char *key)
{
	struct loc no = { 0, 0, 0, 0 };
	unsigned k = depth > 4 ? 0 : rnd(3);
	if (k == 0) {
		if (key && strcmp(key, "matches") == 0 && rnd(2))
			return tree_scalar(&A, no, "a/b", 3, STYLE_REGEX);
		const char *s = rtexts[rnd(sizeof(rtexts) / sizeof(rtexts[0]))];
		return tree_scalar(&A, no, s, strlen(s), rnd(2) ? STYLE_PLAIN : STYLE_QUOTED);
	}
	unsigned n = rnd(4);
	if (k == 1) {
		struct tree *m = tree_map(&A, no);
		for (unsigned i = 0; i < n; i++) {
			const char *kk = rkeys[rnd(sizeof(rkeys) / sizeof(rkeys[0]))];
			tree_map_put(&A, m, kk, no, rtree(depth + 1, kk));
		}
		return m;
	}
	struct tree *l = tree_list(&A, no);
	for (unsigned i = 0; i < n; i++)
		tree_list_push(&A, l, rtree(depth + 1, NULL));
	return l;
}

/* dumpu, but a null in T stands for what `~` dumps as. */
static bool same_lenient(const struct tree *a, const struct tree *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind == TREE_SCALAR) {
		bool anull = a->u.scalar.style == STYLE_PLAIN && a->u.scalar.len == 0;
		if (anull && b->u.scalar.len == 1 && b->u.scalar.text[0] == '~')
			return true;
		return (a->u.scalar.style == STYLE_REGEX) == (b->u.scalar.style == STYLE_REGEX) &&
		       anull == (b->u.scalar.style == STYLE_PLAIN && b->u.scalar.len == 0) &&
		       a->u.scalar.len == b->u.scalar.len &&
		       memcmp(a->u.scalar.text, b->u.scalar.text, a->u.scalar.len) == 0;
	}
	if (a->kind == TREE_LIST) {
		if (a->u.list.n != b->u.list.n)
			return false;
		for (size_t i = 0; i < a->u.list.n; i++)
			if (!same_lenient(a->u.list.v[i], b->u.list.v[i]))
				return false;
		return true;
	}
	if (a->u.map.n != b->u.map.n)
		return false;
	for (size_t i = 0; i < a->u.map.n; i++)
		if (strcmp(a->u.map.v[i].key, b->u.map.v[i].key) != 0 ||
		    !same_lenient(a->u.map.v[i].value, b->u.map.v[i].value))
			return false;
	return true;
}

START_TEST(test_fmt_random_trees)
{
	struct loc no = { 0, 0, 0, 0 };
	for (int i = 0; i < 3000; i++) {
		struct tree *root = tree_map(&A, no);
		unsigned n = 1 + rnd(4);
		for (unsigned k = 0; k < n; k++) {
			const char *key = rkeys[rnd(sizeof(rkeys) / sizeof(rkeys[0]))];
			tree_map_put(&A, root, key, no, rtree(0, key));
		}
		const char *f1 = fmt(root);
		struct tree *t2 = parse(f1);
		ck_assert_msg(t2 != NULL, "tree %s\nformats to\n%s\nwhich fails:\n%s",
			      dumps(root), f1, diags());
		ck_assert_msg(same_lenient(root, t2), "tree %s\nformats to\n%s\nwhich parses to %s",
			      dumps(root), f1, dumps(t2));
		ck_assert_str_eq(fmt(t2), f1);
	}
}
END_TEST

START_TEST(test_probe)
{
	ck_assert_int_eq(dsl_probe("word", 4), T_WORD);
	ck_assert_int_eq(dsl_probe("a-b_c", 5), T_WORD);
	ck_assert_int_eq(dsl_probe("a-", 2), 0);
	ck_assert_int_eq(dsl_probe("1h30m", 5), T_NUMBER);
	ck_assert_int_eq(dsl_probe("-1.5", 4), T_NUMBER);
	ck_assert_int_eq(dsl_probe("a.b[0][\"c.d\"]", 13), T_PATH);
	ck_assert_int_eq(dsl_probe("step", 4), T_STEP);
	ck_assert_int_eq(dsl_probe("run  execution", 14), T_RUN_EXECUTION);
	ck_assert_int_eq(dsl_probe("run executions", 14), 0);
	ck_assert_int_eq(dsl_probe("not input", 9), 0);
	ck_assert_int_eq(dsl_probe("GET", 3), T_METHOD);
	ck_assert_int_eq(dsl_probe("get", 3), T_WORD);
	ck_assert_int_eq(dsl_probe(" a", 2), 0);
	ck_assert_int_eq(dsl_probe("a ", 2), 0);
	ck_assert_int_eq(dsl_probe("\"a\"", 3), 0);
	ck_assert_int_eq(dsl_probe("", 0), 0);
	ck_assert_int_eq(dsl_probe("a\0b", 3), 0);
	ck_assert_int_eq(dsl_probe("/", 1), 0);
}
END_TEST

static Suite *dsl_suite(void)
{
	Suite *s = suite_create("dsl");
	TCase *tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_top_level);
	tcase_add_test(tc, test_generic_statements);
	tcase_add_test(tc, test_step);
	tcase_add_test(tc, test_pipeline);
	tcase_add_test(tc, test_trigger_keys);
	tcase_add_test(tc, test_when);
	tcase_add_test(tc, test_conditions);
	tcase_add_test(tc, test_actions);
	tcase_add_test(tc, test_trigger_order);
	tcase_add_test(tc, test_spec_samples);
	tcase_add_test(tc, test_locations);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_lexical_errors);
	tcase_add_test(tc, test_nul_bytes);
	tcase_add_test(tc, test_unicode_escapes);
	tcase_add_test(tc, test_recovery);
	tcase_add_test(tc, test_adversarial);
	tcase_add_test(tc, test_large_input);
	suite_add_tcase(s, tc);

	tc = tcase_create("fmt");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fmt_canonical);
	tcase_add_test(tc, test_fmt_scalars);
	tcase_add_test(tc, test_fmt_layout);
	tcase_add_test(tc, test_fmt_yaml_shapes);
	tcase_add_test(tc, test_fmt_null_edge);
	tcase_add_test(tc, test_fmt_more);
	tcase_add_test(tc, test_fmt_random_trees);
	tcase_add_test(tc, test_probe);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(dsl_suite)
