/*
 * test_local.c — the local backend (runtime/local.c): command rendering,
 * shell-injection resistance, the child's environment, working folder and
 * logs, exit statuses, parallelism and the queue, inputs (copies and
 * downloads from a small HTTP server forked here), resumed executions,
 * stopping, and descriptor hygiene.
 *
 * Oracles are independent of the code under test wherever possible: the
 * real /bin/sh and python3 report the argv a command received (hex of each
 * element, byte for byte), python3's shlex.quote and re.sub re-implement
 * valohai-yaml's build_command for the differential rendering test, the
 * kernel tells which processes are alive.
 */
#include "unit.h"

#include "local.h"
#include "shquote.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------ fixture */

static char root[PATH_MAX], workdir[PATH_MAX + 16], execs[PATH_MAX + 32];

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/trig-local-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(workdir, sizeof(workdir), "%s/work", root);
	snprintf(execs, sizeof(execs), "%s/state/executions", root);
	ck_assert_int_eq(mkdir(workdir, 0700), 0);
}

static void teardown(void)
{
	unit_remove_tree(root);
}

static struct trig_local *mk_cfg(struct trig_local_config *cfg)
{
	char err[512] = "";
	cfg->executions_dir = execs;
	cfg->workdir = workdir;
	if (!cfg->max_parallel)
		cfg->max_parallel = 2;
	struct trig_local *l = trig_local_new(cfg, err, sizeof(err));
	ck_assert_msg(l != NULL, "trig_local_new: %s", err);
	return l;
}

static struct trig_local *mk(unsigned par, size_t queue)
{
	struct trig_local_config cfg = { 0 };
	cfg.max_parallel = par;
	cfg.max_queue = queue;
	return mk_cfg(&cfg);
}

/* A terminated string even for an empty buffer (whatever buf.c does). */
static char *detach(struct buf *b)
{
	buf_addc(b, 0);
	b->len--;
	return buf_detach(b);
}

static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct buf b = BUF_INIT;
	char tmp[65536];
	ssize_t n;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(&b, tmp, (size_t)n);
	close(fd);
	if (len)
		*len = b.len;
	return detach(&b);
}

static char *exec_file(const char *id, const char *name)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s/%s", execs, id, name);
	return slurp(path, NULL);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static const char *path_in_work(const char *name)
{
	static char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	return path;
}

static bool work_exists(const char *name)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	return exists(path);
}

static void write_work_file(const char *name, const char *content)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void run_req(struct trig_local *l, const struct trig_exec_request *req,
		    struct trig_exec_result *r)
{
	ck_assert_int_eq(trig_local_run(l, req, r), 0);
}

static void run_step(struct trig_local *l, const struct trig_step *st, const char *id,
		     const struct trig_kv *params, size_t n, struct trig_exec_result *r)
{
	struct trig_exec_request req = { 0 };
	req.id = id;
	req.step = st;
	req.params = params;
	req.nparams = n;
	run_req(l, &req, r);
}

static void render_ok(const struct trig_step *st, const struct trig_kv *kv, size_t n,
		      const char *want)
{
	struct buf b = BUF_INIT;
	char err[256] = "";
	int rc = trig_local_render_command(st, kv, n, &b, err, sizeof(err));
	ck_assert_msg(rc == 0, "render failed: %s", err);
	ck_assert_str_eq(buf_cstr(&b), want);
	buf_release(&b);
}

static void render_fails(const struct trig_step *st, const struct trig_kv *kv, size_t n,
			 const char *want_err)
{
	struct buf b = BUF_INIT;
	char err[256] = "";
	ck_assert_int_eq(trig_local_render_command(st, kv, n, &b, err, sizeof(err)), -1);
	ck_assert_str_eq(err, want_err);
	buf_release(&b);
}

/* Collects the results of done callbacks. */
struct collect {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int n;
	struct {
		char id[64];
		int status, exit_code, signal;
		char error[256];
		int64_t started, ended;
	} r[64];
};

static struct collect coll = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void on_done(const struct trig_exec_result *r, void *ctx)
{
	struct collect *c = ctx;
	pthread_mutex_lock(&c->mu);
	if (c->n < 64) {
		snprintf(c->r[c->n].id, sizeof(c->r[0].id), "%s", r->id);
		c->r[c->n].status = r->status;
		c->r[c->n].exit_code = r->exit_code;
		c->r[c->n].signal = r->signal;
		snprintf(c->r[c->n].error, sizeof(c->r[0].error), "%s", r->error ? r->error : "");
		c->r[c->n].started = r->started_ms;
		c->r[c->n].ended = r->ended_ms;
	}
	c->n++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void wait_done(struct collect *c, int n)
{
	pthread_mutex_lock(&c->mu);
	while (c->n < n)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

static int find_result(struct collect *c, const char *id)
{
	for (int i = 0; i < c->n && i < 64; i++)
		if (!strcmp(c->r[i].id, id))
			return i;
	return -1;
}

static bool is_dead(pid_t pid)
{
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

/* A process killed a moment ago may take a few ms to be gone. */
static bool dies_soon(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		if (is_dead(pid))
			return true;
		usleep(10000);
	}
	return false;
}

static int64_t clock_ms_for_test(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Reads one line from a FIFO, blocking until the step writes it. */
static void read_fifo(const char *name, char *out, size_t len)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	size_t n = 0;
	ssize_t r;
	while (n < len - 1 && (r = read(fd, out + n, len - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(fd);
}

static void make_fifo(const char *name)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", workdir, name);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
}

/* ------------------------------------------------------------ rendering */

static const struct trig_param train_params[] = {
	{ "epochs", TRIG_PARAM_INTEGER, "5", NULL, false },
	{ "learning_rate", TRIG_PARAM_FLOAT, "0.001", NULL, false },
	{ "optimizer", TRIG_PARAM_STRING, "adam", NULL, false },
};
static const struct trig_step train = {
	.name = "train", .command = "python train.py {parameters}",
	.params = train_params, .nparams = 3,
};

START_TEST(render_defaults_and_overrides)
{
	/* valohai.yaml of the shared test data: step train. */
	render_ok(&train, NULL, 0, "python train.py --epochs=5 --learning_rate=0.001 --optimizer=adam");
	struct trig_kv kv[] = { { "epochs", "10" }, { "optimizer", "sgd with momentum" } };
	render_ok(&train, kv, 2,
		  "python train.py --epochs=10 --learning_rate=0.001 '--optimizer=sgd with momentum'");
	/* the last of two values wins */
	struct trig_kv twice[] = { { "epochs", "1" }, { "epochs", "2" } };
	render_ok(&train, twice, 2, "python train.py --epochs=2 --learning_rate=0.001 --optimizer=adam");
	/* a list command: lines joined with '\n', each interpolated */
	static const struct trig_param norm[] = { { "normalize", TRIG_PARAM_FLAG, "true", NULL, false } };
	static const struct trig_step prep = {
		.name = "preprocess",
		.command = "pip install -r requirements.txt\npython preprocess.py {parameters}",
		.params = norm, .nparams = 1,
	};
	render_ok(&prep, NULL, 0, "pip install -r requirements.txt\npython preprocess.py --normalize");
}
END_TEST

START_TEST(render_flags)
{
	static const struct trig_param p[] = {
		{ "normalize", TRIG_PARAM_FLAG, "true", NULL, false },
		{ "verbose", TRIG_PARAM_FLAG, NULL, NULL, false },
		{ "gpu", TRIG_PARAM_FLAG, "false", "--use-{name}", false },
	};
	static const struct trig_step st = { .name = "s", .command = "run {parameters}", .params = p, .nparams = 3 };
	render_ok(&st, NULL, 0, "run --normalize");
	const char *falses[] = { "false", "False", "no", "NO", "0" };
	for (size_t i = 0; i < 5; i++) {
		struct trig_kv kv[] = { { "normalize", falses[i] } };
		render_ok(&st, kv, 1, "run ");  /* as valohai-yaml, before its strip() */
	}
	const char *trues[] = { "true", "TRUE", "yes", "Yes", "1" };
	for (size_t i = 0; i < 5; i++) {
		struct trig_kv kv[] = { { "verbose", trues[i] }, { "gpu", trues[i] } };
		render_ok(&st, kv, 2, "run --normalize --verbose --use-gpu");
	}
	struct trig_kv bad[] = { { "verbose", "maybe" } };
	render_fails(&st, bad, 1, "parameter 'verbose': value 'maybe' is not a flag (true or false)");
}
END_TEST

START_TEST(render_pass_as)
{
	static const struct trig_param p[] = {
		{ "target", TRIG_PARAM_STRING, "a b", "-t {v}", false },
		{ "pos", TRIG_PARAM_STRING, "x", "{v}", false },
		{ "long", TRIG_PARAM_INTEGER, "3", "--{name} {value}", false },
		{ "empty", TRIG_PARAM_STRING, "e", "", false },          /* empty: the default form */
		{ "spaces", TRIG_PARAM_STRING, "s", "  -s   {v}  ", false },
		{ "other", TRIG_PARAM_STRING, "o", "--o={x}{v}", false }, /* unknown {x} stays */
	};
	static const struct trig_step st = { .name = "s", .command = "cmd {parameters}", .params = p, .nparams = 6 };
	render_ok(&st, NULL, 0, "cmd -t 'a b' x --long 3 --empty=e -s s '--o={x}o'");
	struct trig_kv kv[] = { { "pos", "{v}" }, { "target", "{name}" } };
	/* substitution is one pass: a value is never substituted into again */
	render_ok(&st, kv, 2, "cmd -t '{name}' '{v}' --long 3 --empty=e -s s '--o={x}o'");
}
END_TEST

START_TEST(render_optional_and_required)
{
	static const struct trig_param p[] = {
		{ "opt", TRIG_PARAM_STRING, NULL, NULL, true },
		{ "req", TRIG_PARAM_STRING, NULL, NULL, false },
	};
	static const struct trig_step st = { .name = "s", .command = "cmd {parameters}", .params = p, .nparams = 2 };
	struct trig_kv kv[] = { { "req", "" } };
	render_ok(&st, kv, 1, "cmd --req=");
	struct trig_kv both[] = { { "req", "r" }, { "opt", "o" } };
	render_ok(&st, both, 2, "cmd --opt=o --req=r");
	render_fails(&st, NULL, 0, "parameter 'req' has no value");
	struct trig_kv unknown[] = { { "req", "r" }, { "bogus", "1" } };
	render_fails(&st, unknown, 2, "unknown parameter 'bogus' for step 's'");
}
END_TEST

START_TEST(render_single_parameters)
{
	static const struct trig_param p[] = {
		{ "epochs", TRIG_PARAM_INTEGER, "5", NULL, false },
		{ "name", TRIG_PARAM_STRING, "it's", NULL, false },
		{ "opt", TRIG_PARAM_STRING, NULL, NULL, true },
	};
	static const struct trig_step st = {
		.name = "s",
		.command = "a {parameter:epochs} b {parameter-value:epochs} c {parameter-value:name} "
			   "d {params} e {parameter:opt}|{parameter-value:opt} f {parameter:nope} "
			   "g {foo} ${HOME} awk '{print $1}' {\n} {} {{parameters}} {parameter-value:}",
		.params = p, .nparams = 3,
	};
	render_ok(&st, NULL, 0,
		  "a 5 b 5 c 'it'\\''s' d --epochs=5 '--name=it'\\''s' e {parameter:opt}|{parameter-value:opt} "
		  "f {parameter:nope} g {foo} ${HOME} awk '{print $1}' {\n} {} {{parameters}} "
		  "{parameter-value:}");
}
END_TEST

START_TEST(render_types)
{
	static const struct trig_param p[] = {
		{ "i", TRIG_PARAM_INTEGER, "0", NULL, false },
		{ "f", TRIG_PARAM_FLOAT, "0", NULL, false },
	};
	static const struct trig_step st = {
		.name = "s", .command = "{parameter-value:i} {parameter-value:f}", .params = p, .nparams = 2,
	};
	const char *good_i[] = { "5", "-3", "+7", "007", "123456789012345678901234567890" };
	for (size_t k = 0; k < sizeof(good_i) / sizeof(*good_i); k++) {
		struct trig_kv kv[] = { { "i", good_i[k] } };
		struct buf want = BUF_INIT;
		buf_printf(&want, "%s 0", good_i[k]);
		render_ok(&st, kv, 1, want.data);
		buf_release(&want);
	}
	const char *bad_i[] = { "", "5.0", "1e3", "0x10", " 5", "5 ", "five", "-", "5;" };
	for (size_t k = 0; k < sizeof(bad_i) / sizeof(*bad_i); k++) {
		struct trig_kv kv[] = { { "i", bad_i[k] } };
		struct buf want = BUF_INIT;
		buf_printf(&want, "parameter 'i': value '%s' is not an integer", bad_i[k]);
		render_fails(&st, kv, 1, want.data);
		buf_release(&want);
	}
	const char *good_f[] = { "0.001", "1e-3", "-.5", "5.", "+2E+10", "42" };
	for (size_t k = 0; k < sizeof(good_f) / sizeof(*good_f); k++) {
		struct trig_kv kv[] = { { "f", good_f[k] } };
		struct buf want = BUF_INIT;
		buf_printf(&want, "0 %s", good_f[k]);
		render_ok(&st, kv, 1, want.data);
		buf_release(&want);
	}
	const char *bad_f[] = { "", ".", "1e", "abc", "inf", "nan", "0x1p3", "1.2.3", "1,5" };
	for (size_t k = 0; k < sizeof(bad_f) / sizeof(*bad_f); k++) {
		struct trig_kv kv[] = { { "f", bad_f[k] } };
		struct buf want = BUF_INIT;
		buf_printf(&want, "parameter 'f': value '%s' is not a number", bad_f[k]);
		render_fails(&st, kv, 1, want.data);
		buf_release(&want);
	}
	/* request text in a message: printable ASCII only, cut at 48 bytes */
	struct trig_kv kv[] = { { "i", "'\n\x1b[31m" } };
	render_fails(&st, kv, 1, "parameter 'i': value '???[31m' is not an integer");
	char long_value[200];
	memset(long_value, 'x', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = 0;
	struct trig_kv kl[] = { { "i", long_value } };
	render_fails(&st, kl, 1, "parameter 'i': value '"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' is not an integer");
}
END_TEST

START_TEST(sh_quote_rules)
{
	/* Python's shlex.quote on the same strings (worked by hand from its
	 * definition: safe set [A-Za-z0-9_@%+=:,./-]). */
	static const char *const in[] = { "", "abc", "a b", "it's", "--x=1", "$(id)", "é", "''" };
	static const char *const out[] = { "''", "abc", "'a b'", "'it'\\''s'", "--x=1", "'$(id)'", "'é'",
					   "''\\'''\\'''" };
	for (size_t i = 0; i < sizeof(in) / sizeof(*in); i++) {
		struct buf b = BUF_INIT;
		trig_sh_quotes(&b, in[i]);
		ck_assert_str_eq(buf_cstr(&b), out[i]);
		buf_release(&b);
	}
}
END_TEST

/* --------------------------------------------- valohai-yaml, differential */

/* valohai-yaml's build_command and Parameter.format_cli, in Python, reading
 * cases as JSON on stdin and printing each rendering as hex.  Whether a
 * word needs quotes is shlex.quote's decision; only its spelling of an
 * embedded quote, '"'"', is written '\'' as trig does (the same to sh;
 * the argv tests below check that spelling with the real shell).  One
 * deliberate difference: {parameter:NAME} is the value alone, as SPEC.md
 * 2.0 says, where valohai-yaml makes it --NAME=VALUE. */
static const char valohai_py[] =
	"import json, re, shlex, sys\n"
	"def quote(s):\n"
	"    q = shlex.quote(s)\n"
	"    return q if q == s or s == '' else \"'\" + s.replace(\"'\", \"'\\\\''\") + \"'\"\n"
	"def fmt(p):\n"
	"    v = p['value']\n"
	"    if v is None: return None\n"
	"    if p['type'] == 'flag':\n"
	"        if v != 'true': return None\n"
	"        t = p['pass_as'] or '--{name}'\n"
	"    else:\n"
	"        t = p['pass_as'] or '--{name}={value}'\n"
	"    return [b.format_map({'name': p['name'], 'value': v, 'v': v}) for b in t.split()]\n"
	"def q(args): return ' '.join(quote(a) for a in (args or []))\n"
	"for case in json.load(sys.stdin):\n"
	"    ps = case['params']; by = {p['name']: p for p in ps}\n"
	"    def repl(m):\n"
	"        g = m.group(1)\n"
	"        if g in ('parameters', 'params'): return q([a for p in ps for a in (fmt(p) or [])])\n"
	"        if g.startswith('parameter:') or g.startswith('parameter-value:'):\n"
	"            n = g.split(':', 1)[1]\n"
	"            if n in by and by[n]['value'] is not None: return quote(by[n]['value'])\n"
	"        return m.group(0)\n"
	"    out = re.sub(r'{(.+?)}', repl, case['command'])\n"
	"    print(out.encode('utf-8').hex())\n";

static uint64_t rng_state;

/* A seed from the clock, or from TRIG_TEST_SEED to replay a failure. */
static uint64_t test_seed(uint64_t salt)
{
	const char *s = getenv("TRIG_TEST_SEED");
	return s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL) * salt + 1;
}

static uint32_t rnd(uint32_t n)
{
	/* xorshift64*: reproducible from the printed seed */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545F4914F6CDD1DULL) >> 33) % n;
}

static void random_text(struct buf *b, uint32_t maxlen)
{
	static const char *const pieces[] = {
		"a", "Z", "0", " ", "'", "\"", "\\", "$", "(", ")", "`", ";", "|", "&", "\n", "\t",
		"*", "?", "~", "#", "!", "{", "}", "{v}", "{name}", "-", "=", ",", ".", "/", "@",
		"%", "+", ":", "é", "✓", "日本", "🎉", "$(touch PWNED)",
	};
	uint32_t n = rnd(maxlen + 1);
	for (uint32_t i = 0; i < n; i++)
		buf_adds(b, pieces[rnd(sizeof(pieces) / sizeof(*pieces))]);
}

START_TEST(render_matches_valohai_yaml)
{
	enum { NCASES = 400, MAXP = 4 };
	static const char *const frags[] = {
		"python x.py ", "{parameters}", "{params}", "{parameter:p0}", "{parameter:p1}",
		"{parameter-value:p0}", "{parameter-value:p2}", "{parameter-value:p3}",
		"{parameter:nope}", "{", "}", "{{", "}}", "\n", " ", "awk '{print $1}'", "${HOME}",
		"{parameter-value:}", "x", "{}", "{\n}", "{parameters", "parameters}",
	};
	static const char *const pass[] = { NULL, "{v}", "-t {v}", "--{name} {value}", "--{name}={v}",
					    "  -x   {v}  ", "{name}" };
	static const enum trig_param_type types[] = { TRIG_PARAM_STRING, TRIG_PARAM_INTEGER,
						      TRIG_PARAM_FLOAT, TRIG_PARAM_FLAG };
	static const char *const names[] = { "p0", "p1", "p2", "p3" };
	rng_state = test_seed(2654435761u);
	uint64_t seed = rng_state;

	struct buf json = BUF_INIT, expect = BUF_INIT;
	char *cmds[NCASES];
	struct trig_param params[NCASES][MAXP];
	char *vals[NCASES][MAXP];
	uint32_t nps[NCASES];
	buf_addc(&json, '[');
	for (int c = 0; c < NCASES; c++) {
		struct buf cmd = BUF_INIT;
		uint32_t nf = 1 + rnd(8);
		for (uint32_t i = 0; i < nf; i++)
			buf_adds(&cmd, frags[rnd(sizeof(frags) / sizeof(*frags))]);
		cmds[c] = detach(&cmd);
		nps[c] = rnd(MAXP + 1);
		if (c)
			buf_addc(&json, ',');
		buf_adds(&json, "{\"command\":");
		buf_json_cstr(&json, cmds[c]);
		buf_adds(&json, ",\"params\":[");
		for (uint32_t i = 0; i < nps[c]; i++) {
			struct trig_param *p = &params[c][i];
			struct buf v = BUF_INIT;
			p->name = names[i];
			p->type = types[rnd(4)];
			p->pass_as = p->type == TRIG_PARAM_FLAG && rnd(2) ? NULL : pass[rnd(7)];
			if (p->type == TRIG_PARAM_FLAG && p->pass_as && strstr(p->pass_as, "{v"))
				p->pass_as = NULL;      /* valohai writes True there; we write true */
			p->optional = rnd(4) == 0;
			switch (p->type) {
			case TRIG_PARAM_INTEGER: buf_printf(&v, "%d", (int)rnd(2000) - 1000); break;
			case TRIG_PARAM_FLOAT: buf_printf(&v, "%u.%u", rnd(100), rnd(1000)); break;
			case TRIG_PARAM_FLAG: buf_adds(&v, rnd(2) ? "true" : "false"); break;
			default: random_text(&v, 6); break;
			}
			vals[c][i] = p->optional && rnd(2) ? NULL : detach(&v);
			buf_release(&v);
			p->default_value = vals[c][i];
			if (i)
				buf_addc(&json, ',');
			buf_adds(&json, "{\"name\":");
			buf_json_cstr(&json, p->name);
			buf_adds(&json, ",\"type\":");
			buf_json_cstr(&json, p->type == TRIG_PARAM_FLAG ? "flag" : "other");
			buf_adds(&json, ",\"pass_as\":");
			buf_json_cstr(&json, p->pass_as ? p->pass_as : "");
			buf_adds(&json, ",\"value\":");
			buf_json_cstr(&json, vals[c][i]);
			buf_addc(&json, '}');
		}
		buf_adds(&json, "]}");
	}
	buf_addc(&json, ']');

	/* python3 -c SCRIPT < cases.json > out.hex */
	char in_path[PATH_MAX * 2], out_path[PATH_MAX * 2];
	snprintf(in_path, sizeof(in_path), "%s/cases.json", root);
	snprintf(out_path, sizeof(out_path), "%s/out.hex", root);
	FILE *f = fopen(in_path, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(json.data, 1, json.len, f);
	ck_assert_int_eq(fclose(f), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int in = open(in_path, O_RDONLY), out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (in < 0 || out < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0)
			_exit(127);
		execlp("python3", "python3", "-c", valohai_py, (char *)NULL);
		_exit(127);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "python3 failed");
	char *hex = slurp(out_path, NULL);
	ck_assert_ptr_nonnull(hex);

	char *line = hex;
	for (int c = 0; c < NCASES; c++) {
		struct trig_step stp = { .name = "s", .command = cmds[c], .params = params[c], .nparams = nps[c] };
		char *nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		*nl = 0;
		buf_reset(&expect);
		for (char *h = line; h[0] && h[1]; h += 2) {
			unsigned byte;
			sscanf(h, "%2x", &byte);
			buf_addc(&expect, (char)byte);
		}
		struct buf got = BUF_INIT;
		char err[256] = "";
		ck_assert_msg(trig_local_render_command(&stp, NULL, 0, &got, err, sizeof(err)) == 0,
			      "seed %llu case %d: %s", (unsigned long long)seed, c, err);
		ck_assert_msg(got.len == expect.len && !memcmp(buf_cstr(&got), buf_cstr(&expect), got.len),
			      "seed %llu case %d: command [%s]\n got [%s]\nwant [%s]",
			      (unsigned long long)seed, c, cmds[c], buf_cstr(&got), buf_cstr(&expect));
		buf_release(&got);
		line = nl + 1;
	}
	for (int c = 0; c < NCASES; c++) {
		free(cmds[c]);
		for (uint32_t i = 0; i < nps[c]; i++)
			free(vals[c][i]);
	}
	free(hex);
	buf_release(&json);
	buf_release(&expect);
}
END_TEST

/* ------------------------------------------------------------ injection */

/* Prints each argument after -c's script as hex of its bytes, one a line. */
#define ARGV_PRINTER "python3 -c 'import os, sys\nfor a in sys.argv[1:]: print(os.fsencode(a).hex())' "

/* Runs a step with one {v}-style parameter per value, plus the same values
 * again through {parameter-value:...} and the default --name= form, and
 * checks the argv the program received, element by element. */
static void check_argv(struct trig_local *l, const char *id, char **values, size_t n)
{
	struct trig_param *p = calloc(n, sizeof(*p));
	struct trig_kv *kv = calloc(n, sizeof(*kv));
	char (*names)[24] = calloc(n, sizeof(*names));
	struct buf cmd = BUF_INIT;
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(kv);
	ck_assert_ptr_nonnull(names);
	buf_adds(&cmd, ARGV_PRINTER "{parameters}");
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "p%zu", i);
		p[i].name = names[i];
		p[i].type = TRIG_PARAM_STRING;
		p[i].default_value = "default";
		p[i].pass_as = i % 3 == 2 ? NULL : "{v}";
		kv[i].name = names[i];
		kv[i].value = values[i];
		if (i % 5 == 0)
			buf_printf(&cmd, " {parameter-value:%s}", names[i]);
	}
	struct trig_step st = { .name = "argv", .command = cmd.data, .params = p, .nparams = (uint32_t)n };
	struct trig_exec_result r;
	run_step(l, &st, id, kv, n, &r);
	ck_assert_msg(r.status == TRIG_EXEC_COMPLETED, "status %d: %s", r.status, r.error ? r.error : "");

	/* what the argv must be */
	struct buf want = BUF_INIT;
	static const char hexd[] = "0123456789abcdef";
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			if (pass == 1 && i % 5)
				continue;
			struct buf arg = BUF_INIT;
			if (pass == 0 && i % 3 == 2)
				buf_printf(&arg, "--%s=", names[i]);
			buf_adds(&arg, values[i]);
			for (size_t k = 0; k < arg.len; k++) {
				buf_addc(&want, hexd[(unsigned char)arg.data[k] >> 4]);
				buf_addc(&want, hexd[(unsigned char)arg.data[k] & 15]);
			}
			buf_addc(&want, '\n');
			buf_release(&arg);
		}
	}
	char *got = exec_file(id, "stdout.log");
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, buf_cstr(&want));
	free(got);
	buf_release(&want);
	buf_release(&cmd);
	trig_exec_result_release(&r);
	free(p);
	free(kv);
	free(names);
}

START_TEST(injection_is_one_argument)
{
	struct trig_local *l = mk(1, 0);
	char long_value[60001];
	for (size_t i = 0; i < sizeof(long_value) - 1; i++)
		long_value[i] = "ab'\"$`\\ \n;|&(){}*"[i % 18];
	long_value[sizeof(long_value) - 1] = 0;
	char *values[] = {
		"$(touch PWNED)", "`touch PWNED`", "; touch PWNED", "| touch PWNED", "&& touch PWNED",
		"\ntouch PWNED\n", "'; touch PWNED; '", "\"; touch PWNED; \"", "'", "\"", "\\", "\\'",
		"'\\''", "$HOME", "${PATH}", "*", "~", "~root", "{parameters}", "{parameter:p0}", "-e",
		"--", "", " ", "\t", "a b  c", "héllo ✓ 日本 🎉", "\x01\x7f\xff\xfe invalid utf-8",
		"a'b'c", "$((1+1))", "!!", "#comment", "x\r\ny", ">PWNED", "<PWNED", "2>PWNED", long_value,
	};
	check_argv(l, "e-inject", values, sizeof(values) / sizeof(*values));
	ck_assert(!work_exists("PWNED"));
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(random_bytes_are_one_argument)
{
	enum { N = 200 };
	struct trig_local *l = mk(1, 0);
	char *values[N];
	rng_state = test_seed(40503u);
	uint64_t seed = rng_state;
	for (int i = 0; i < N; i++) {
		uint32_t len = rnd(120);
		values[i] = malloc(len + 1);
		ck_assert_ptr_nonnull(values[i]);
		for (uint32_t k = 0; k < len; k++)
			values[i][k] = (char)(1 + rnd(255));
		values[i][len] = 0;
	}
	fprintf(stderr, "random_bytes_are_one_argument: seed %llu\n", (unsigned long long)seed);
	check_argv(l, "e-random", values, N);
	ck_assert(!work_exists("PWNED"));
	for (int i = 0; i < N; i++)
		free(values[i]);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(too_long_command_is_an_error)
{
	struct trig_local *l = mk(1, 0);
	static const struct trig_param p[] = { { "v", TRIG_PARAM_STRING, NULL, NULL, false } };
	struct trig_step st = { .name = "s", .command = "touch RAN; echo {parameters}", .params = p, .nparams = 1 };
	char *big = malloc(200000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', 199999);
	big[199999] = 0;
	struct trig_kv kv[] = { { "v", big } };
	struct trig_exec_result r;
	run_step(l, &st, "e-long", kv, 1, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
	/* "touch RAN; echo " + "--v=" + the value: no quotes needed */
	struct buf want = BUF_INIT;
	buf_printf(&want, "command too long: %d bytes rendered, at most 131071", 16 + 4 + 199999);
	ck_assert_str_eq(r.error, want.data);
	buf_release(&want);
	ck_assert(!work_exists("RAN"));
	trig_exec_result_release(&r);
	free(big);
	trig_local_stop(l, 0);
}
END_TEST

/* ------------------------------------------------------------ environment */

START_TEST(environment_is_clean)
{
	ck_assert_int_eq(setenv("SECRET_TOKEN", "hunter2-secret-value", 1), 0);
	ck_assert_int_eq(setenv("GITHUB_WEBHOOK_SECRET", "hunter3-secret-value", 1), 0);
	struct trig_local_config cfg = { 0 };
	cfg.max_parallel = 1;
	cfg.path = "/usr/bin:/bin";
	cfg.home = "/home/trig-test";
	cfg.lang = "C.UTF-8";
	struct trig_local *l = mk_cfg(&cfg);
	static const struct trig_env env[] = {
		{ "PYTHONUNBUFFERED", "1" }, { "FROM_STEP", "a b" }, { "OVERRIDDEN", "step" },
		{ "NO_DEFAULT", NULL },
	};
	struct trig_step st = { .name = "s", .command = "env -0", .env = env, .nenv = 4 };
	struct trig_kv over[] = { { "OVERRIDDEN", "request" }, { "EXTRA", "$(touch PWNED)\nX=1" } };
	struct trig_exec_request req = { .id = "e-env", .step = &st, .env = over, .nenv = 2 };
	struct trig_exec_result r;
	run_req(l, &req, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_COMPLETED);

	size_t len;
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/e-env/stdout.log", execs);
	char *out = slurp(path, &len);
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_null(memmem(out, len, "hunter", 6));
	ck_assert_ptr_null(memmem(out, len, "SECRET", 6));

	char dir[PATH_MAX * 2], inputs[PATH_MAX * 3], outputs[PATH_MAX * 3];
	char *real = realpath(execs, NULL);
	snprintf(dir, sizeof(dir), "%s/e-env", real);
	free(real);
	snprintf(inputs, sizeof(inputs), "VH_INPUTS_DIR=%s/inputs", dir);
	snprintf(outputs, sizeof(outputs), "VH_OUTPUTS_DIR=%s/outputs", dir);
	const char *want[] = {
		"PATH=/usr/bin:/bin", "HOME=/home/trig-test", "LANG=C.UTF-8", "PYTHONUNBUFFERED=1",
		"FROM_STEP=a b", "OVERRIDDEN=request", "EXTRA=$(touch PWNED)\nX=1", inputs, outputs,
		"VH_EXECUTION_ID=e-env",
	};
	size_t nwant = sizeof(want) / sizeof(*want), found = 0;
	for (size_t off = 0; off < len; off += strlen(out + off) + 1) {
		const char *e = out + off;
		size_t k;
		for (k = 0; k < nwant; k++)
			if (!strcmp(e, want[k]))
				break;
		if (k < nwant) {
			found++;
			continue;
		}
		/* dash exports PWD itself; nothing else may appear */
		ck_assert_msg(!strncmp(e, "PWD=", 4), "unexpected variable in the child: %s", e);
	}
	ck_assert_uint_eq(found, nwant);
	ck_assert_str_eq(r.dir, dir);
	ck_assert(!work_exists("PWNED"));
	free(out);
	trig_exec_result_release(&r);

	struct trig_kv bad[] = { { "BAD-NAME", "x" } };
	struct trig_exec_request req2 = { .id = "e-env2", .step = &st, .env = bad, .nenv = 1 };
	run_req(l, &req2, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
	ck_assert_str_eq(r.error, "environment variable 'BAD-NAME': not a valid name");
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(workdir_logs_and_modes)
{
	struct trig_local *l = mk(1, 0);
	static const struct trig_param p[] = { { "n", TRIG_PARAM_INTEGER, "3", NULL, false } };
	struct trig_step st = {
		.name = "logs",
		.command = "pwd -P\necho out {parameter-value:n}\necho err >&2\necho here > cwd-marker\n"
			   "ls /proc/self/fd",
		.params = p, .nparams = 1,
	};
	struct trig_exec_request req = {
		.id = "e-logs", .launch_id = "l-1", .trigger = "github-push", .step = &st,
		.title = "Title \"quoted\"", .commit = "abc123",
	};
	struct trig_exec_result r;
	/* a descriptor some other part of the server opened without
	 * O_CLOEXEC must not reach the child either */
	int leaky = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(leaky, 3);
	run_req(l, &req, &r);
	close(leaky);
	ck_assert_int_eq(r.status, TRIG_EXEC_COMPLETED);
	ck_assert_int_eq(r.exit_code, 0);
	ck_assert_int_eq(r.signal, 0);
	ck_assert_ptr_null(r.error);
	ck_assert(!r.recorded);
	ck_assert_int_le(r.started_ms, r.ended_ms);

	char *real = realpath(workdir, NULL);
	struct buf want = BUF_INIT;
	/* ls /proc/self/fd: stdin, stdout, stderr and ls's own directory fd */
	buf_printf(&want, "%s\nout 3\n0\n1\n2\n3\n", real);
	char *out = exec_file("e-logs", "stdout.log"), *err = exec_file("e-logs", "stderr.log");
	ck_assert_str_eq(out, want.data);
	ck_assert_str_eq(err, "err\n");
	ck_assert(work_exists("cwd-marker"));
	free(out);
	free(err);
	free(real);
	buf_release(&want);

	char *ej = exec_file("e-logs", "execution.json");
	ck_assert_ptr_nonnull(strstr(ej, "\"id\":\"e-logs\",\"launch\":\"l-1\",\"trigger\":\"github-push\","
					 "\"step\":\"logs\",\"title\":\"Title \\\"quoted\\\"\",\"commit\":\"abc123\","
					 "\"parameters\":{\"n\":\"3\"},\"inputs\":{},\"payload_input\":null,"));
	ck_assert_ptr_nonnull(strstr(ej, "\"command\":\"pwd -P\\necho out 3\\n"));
	ck_assert_ptr_nonnull(strstr(ej, "\"environment\":[\"PATH\",\"HOME\",\"LANG\",\"VH_INPUTS_DIR\","
					 "\"VH_OUTPUTS_DIR\",\"VH_EXECUTION_ID\"]"));
	free(ej);
	char *sj = exec_file("e-logs", "status.json");
	ck_assert_ptr_nonnull(strstr(sj, "{\"id\":\"e-logs\",\"status\":\"completed\",\"exit_code\":0,"
					 "\"signal\":null,\"error\":null,\"started\":\""));
	ck_assert_ptr_nonnull(strstr(sj, "\"duration_ms\":"));
	free(sj);

	static const char *const files[] = { "execution.json", "status.json", "stdout.log", "stderr.log" };
	static const char *const dirs[] = { "", "inputs", "outputs" };
	char path[PATH_MAX * 2];
	struct stat sb;
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/e-logs/%s", execs, files[i]);
		ck_assert_int_eq(stat(path, &sb), 0);
		ck_assert_msg((sb.st_mode & 07777) == 0600, "%s mode %o", files[i], sb.st_mode & 07777);
	}
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/e-logs/%s", execs, dirs[i]);
		ck_assert_int_eq(stat(path, &sb), 0);
		ck_assert_msg((sb.st_mode & 07777) == 0700, "%s mode %o", dirs[i], sb.st_mode & 07777);
	}
	ck_assert_int_eq(stat(execs, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 07777, 0700);
	/* no temporary files left behind */
	snprintf(path, sizeof(path), "%s/e-logs/status.json.tmp", execs);
	ck_assert(!exists(path));
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
}
END_TEST

/* ------------------------------------------------------------ exit status */

START_TEST(exit_codes_and_signals)
{
	struct trig_local *l = mk(1, 0);
	static const struct {
		const char *cmd;
		int status, exit_code, signal;
	} cases[] = {
		{ "true", TRIG_EXEC_COMPLETED, 0, 0 },
		{ "exit 3", TRIG_EXEC_FAILED, 3, 0 },
		{ "kill -KILL $$", TRIG_EXEC_FAILED, -1, SIGKILL },
		{ "kill -TERM $$", TRIG_EXEC_FAILED, -1, SIGTERM },
		/* -e: the first failing line ends it */
		{ "echo one\nfalse\necho notreached", TRIG_EXEC_FAILED, 1, 0 },
		{ "command-that-does-not-exist-xyz", TRIG_EXEC_FAILED, 127, 0 },
		{ "echo 'unterminated", TRIG_EXEC_FAILED, 2, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct trig_step st = { .name = "s", .command = cases[i].cmd };
		char id[32];
		snprintf(id, sizeof(id), "e-exit-%zu", i);
		struct trig_exec_result r;
		run_step(l, &st, id, NULL, 0, &r);
		ck_assert_msg(r.status == cases[i].status, "%s: status %d", cases[i].cmd, r.status);
		ck_assert_int_eq(r.exit_code, cases[i].exit_code);
		ck_assert_int_eq(r.signal, cases[i].signal);
		trig_exec_result_release(&r);
	}
	char *out = exec_file("e-exit-4", "stdout.log");
	ck_assert_str_eq(out, "one\n");
	free(out);
	char *sj = exec_file("e-exit-2", "status.json");
	ck_assert_ptr_nonnull(strstr(sj, "\"status\":\"failed\",\"exit_code\":null,\"signal\":9,"));
	free(sj);
	sj = exec_file("e-exit-1", "status.json");
	ck_assert_ptr_nonnull(strstr(sj, "\"status\":\"failed\",\"exit_code\":3,\"signal\":null,"));
	free(sj);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(leftover_processes_are_killed)
{
	struct trig_local *l = mk(1, 0);
	struct trig_step st = {
		.name = "s", .command = "sleep 100 &\necho $! > \"$VH_OUTPUTS_DIR/pid\"",
	};
	struct trig_exec_result r;
	run_step(l, &st, "e-left", NULL, 0, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_COMPLETED);
	char *pid = exec_file("e-left", "outputs/pid");
	ck_assert_ptr_nonnull(pid);
	ck_assert(dies_soon((pid_t)atoi(pid)));
	free(pid);
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
}
END_TEST

/* ------------------------------------------------------------ the queue */

START_TEST(max_parallel_is_respected)
{
	struct trig_local *l = mk(2, 0);
	struct trig_step st = {
		.name = "s",
		.command = "s=$(date +%s%N)\nsleep 0.3\ne=$(date +%s%N)\necho \"$s $e\" > \"$VH_OUTPUTS_DIR/t\"",
	};
	struct collect *c = &coll;
	c->n = 0;
	char ids[6][16];
	for (int i = 0; i < 6; i++) {
		snprintf(ids[i], sizeof(ids[i]), "e-par-%d", i);
		struct trig_exec_request req = { .id = ids[i], .step = &st };
		ck_assert_int_eq(trig_local_submit(l, &req, on_done, c), 0);
	}
	wait_done(c, 6);
	long long s[6], e[6];
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(c->r[i].status, TRIG_EXEC_COMPLETED);
		char *t = exec_file(ids[i], "outputs/t");
		ck_assert_ptr_nonnull(t);
		ck_assert_int_eq(sscanf(t, "%lld %lld", &s[i], &e[i]), 2);
		free(t);
	}
	/* the most intervals covering one instant (a start) */
	int most = 0;
	long long first = s[0], last = e[0];
	for (int i = 0; i < 6; i++) {
		int n = 0;
		for (int k = 0; k < 6; k++)
			n += s[k] <= s[i] && s[i] < e[k];
		most = n > most ? n : most;
		first = s[i] < first ? s[i] : first;
		last = e[i] > last ? e[i] : last;
	}
	ck_assert_int_eq(most, 2);
	/* three rounds of 0.3 s, not six, not two */
	ck_assert_int_ge(last - first, 900000000LL);
	ck_assert_int_lt(last - first, 1800000000LL);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(queue_full_and_duplicates)
{
	struct trig_local *l = mk(1, 2);
	make_fifo("gate");
	struct trig_step block = { .name = "block", .command = "read x < gate\necho \"$x\"" };
	struct trig_step quick = { .name = "quick", .command = "true" };
	struct collect *c = &coll;
	c->n = 0;
	struct trig_exec_request a = { .id = "e-a", .step = &block };
	ck_assert_int_eq(trig_local_submit(l, &a, on_done, c), 0);
	/* opening the FIFO for writing returns once the step opened it: A runs */
	char gate[PATH_MAX * 2];
	snprintf(gate, sizeof(gate), "%s/gate", workdir);
	int fd = open(gate, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	struct trig_exec_request b = { .id = "e-b", .step = &quick }, cc = { .id = "e-c", .step = &quick },
				 d = { .id = "e-d", .step = &quick };
	ck_assert_int_eq(trig_local_submit(l, &b, on_done, c), 0);
	ck_assert_int_eq(trig_local_submit(l, &cc, on_done, c), 0);
	errno = 0;
	ck_assert_int_eq(trig_local_submit(l, &d, on_done, c), -1);
	ck_assert_int_eq(errno, EAGAIN);
	/* an id already queued or running */
	struct trig_exec_request dup = { .id = "e-a", .step = &quick };
	struct trig_exec_result r;
	errno = 0;
	ck_assert_int_eq(trig_local_run(l, &dup, &r), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(write(fd, "go\n", 3), 3);
	close(fd);
	wait_done(c, 3);
	ck_assert_str_eq(c->r[0].id, "e-a");
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(c->r[i].status, TRIG_EXEC_COMPLETED);
	char *out = exec_file("e-a", "stdout.log");
	ck_assert_str_eq(out, "go\n");
	free(out);
	/* the queue has room again */
	ck_assert_int_eq(trig_local_submit(l, &d, on_done, c), 0);
	wait_done(c, 4);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(bad_requests)
{
	struct trig_local *l = mk(1, 0);
	struct trig_step st = { .name = "s", .command = "touch RAN" };
	static const char *const bad_ids[] = { "", "../x", "a/b", ".x", "-x", "a b", "e\n", "é" };
	struct trig_exec_result r;
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(*bad_ids); i++) {
		struct trig_exec_request req = { .id = bad_ids[i], .step = &st };
		errno = 0;
		ck_assert_int_eq(trig_local_submit(l, &req, on_done, &coll), -1);
		ck_assert_int_eq(errno, EINVAL);
		errno = 0;
		ck_assert_int_eq(trig_local_run(l, &req, &r), -1);
		ck_assert_int_eq(errno, EINVAL);
	}
	char long_id[130];
	memset(long_id, 'a', 129);
	long_id[129] = 0;
	struct trig_exec_request req = { .id = long_id, .step = &st };
	ck_assert_int_eq(trig_local_run(l, &req, &r), -1);
	long_id[128] = 0;
	ck_assert_int_eq(trig_local_run(l, &req, &r), 0);      /* 128 is fine */
	ck_assert_int_eq(r.status, TRIG_EXEC_COMPLETED);
	trig_exec_result_release(&r);
	char ran[PATH_MAX * 2];
	snprintf(ran, sizeof(ran), "%s/RAN", workdir);
	ck_assert_int_eq(unlink(ran), 0);
	struct trig_exec_request nostep = { .id = "e-x" };
	ck_assert_int_eq(trig_local_run(l, &nostep, &r), -1);
	ck_assert_int_eq(errno, EINVAL);
	struct trig_exec_request ok = { .id = "e-ok", .step = &st };
	ck_assert_int_eq(trig_local_submit(l, &ok, NULL, NULL), -1);
	ck_assert_int_eq(errno, EINVAL);
	struct trig_kv kv[] = { { "x", "1" } };
	struct trig_exec_request holes = { .id = "e-x", .step = &st, .nparams = 1 };
	ck_assert_int_eq(trig_local_run(l, &holes, &r), -1);
	/* an unknown parameter is an ERROR result, recorded, and nothing runs */
	struct trig_exec_request unknown = { .id = "e-unknown", .step = &st, .params = kv, .nparams = 1 };
	ck_assert_int_eq(trig_local_run(l, &unknown, &r), 0);
	ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
	ck_assert_str_eq(r.error, "unknown parameter 'x' for step 's'");
	trig_exec_result_release(&r);
	char *sj = exec_file("e-unknown", "status.json");
	ck_assert_ptr_nonnull(strstr(sj, "\"status\":\"error\",\"exit_code\":null,\"signal\":null,"
					 "\"error\":\"unknown parameter 'x' for step 's'\""));
	free(sj);
	ck_assert(!work_exists("RAN"));
	struct trig_step nocmd = { .name = "nocmd" };
	struct trig_exec_request nc = { .id = "e-nocmd", .step = &nocmd };
	ck_assert_int_eq(trig_local_run(l, &nc, &r), 0);
	ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
	ck_assert_str_eq(r.error, "step 'nocmd' has no command");
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(config_errors)
{
	char err[512];
	struct trig_local_config cfg = { .executions_dir = execs, .workdir = "relative", .max_parallel = 1 };
	ck_assert_ptr_null(trig_local_new(&cfg, err, sizeof(err)));
	ck_assert_str_eq(err, "workdir 'relative' is not an absolute path");
	cfg.workdir = "/nonexistent-trig-dir";
	ck_assert_ptr_null(trig_local_new(&cfg, err, sizeof(err)));
	ck_assert_str_eq(err, "cannot use workdir '/nonexistent-trig-dir': No such file or directory");
	cfg.workdir = workdir;
	cfg.max_parallel = 0;
	ck_assert_ptr_null(trig_local_new(&cfg, err, sizeof(err)));
	ck_assert_str_eq(err, "max-parallel 0 is out of range (1 to 1024)");
	cfg.max_parallel = 1;
	char file[PATH_MAX * 2];
	snprintf(file, sizeof(file), "%s/afile", root);
	close(open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	cfg.executions_dir = file;
	ck_assert_ptr_null(trig_local_new(&cfg, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "cannot use executions folder"));
	trig_local_stop(NULL, 0);
}
END_TEST

/* ------------------------------------------------------------ inputs */

START_TEST(input_files_are_copied)
{
	struct trig_local *l = mk(1, 0);
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/data", workdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/data/sub", workdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	write_work_file("data/x.csv", "a,b\n1,2\n");
	write_work_file("data/y.csv", "y\n");
	write_work_file("data/sub/x.csv", "other x\n");
	static const char *const defaults[] = { "data/x.csv" };
	static const struct trig_input in[] = {
		{ "dataset", defaults, 1, false },
		{ "extra", NULL, 0, true },
	};
	struct trig_step st = {
		.name = "s", .command = "cd \"$VH_INPUTS_DIR\" && find . -type f | sort && cat dataset/*",
		.inputs = in, .ninputs = 2,
	};
	struct trig_exec_result r;
	run_step(l, &st, "e-in1", NULL, 0, &r);
	ck_assert_msg(r.status == TRIG_EXEC_COMPLETED, "%s", r.error ? r.error : "");
	char *out = exec_file("e-in1", "stdout.log");
	ck_assert_str_eq(out, "./dataset/x.csv\na,b\n1,2\n");
	free(out);
	trig_exec_result_release(&r);

	/* request values replace the defaults; same base names do not clash */
	struct trig_kv kv[] = { { "dataset", "data/y.csv" }, { "dataset", "./data/sub/../x.csv" },
				{ "dataset", "data/sub/x.csv" } };
	struct trig_exec_request req = { .id = "e-in2", .step = &st, .inputs = kv, .ninputs = 3 };
	run_req(l, &req, &r);
	ck_assert_msg(r.status == TRIG_EXEC_COMPLETED, "%s", r.error ? r.error : "");
	out = exec_file("e-in2", "stdout.log");
	ck_assert_str_eq(out, "./dataset/2-x.csv\n./dataset/x.csv\n./dataset/y.csv\nother x\na,b\n1,2\ny\n");
	free(out);
	char *ej = exec_file("e-in2", "execution.json");
	ck_assert_ptr_nonnull(strstr(ej, "\"inputs\":{\"dataset\":[\"data/y.csv\",\"./data/sub/../x.csv\",\"data/sub/x.csv\"]}"));
	free(ej);
	snprintf(path, sizeof(path), "%s/e-in2/inputs/dataset/x.csv", execs);
	struct stat sb;
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(input_errors)
{
	struct trig_local *l = mk(1, 0);
	char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/outside.txt", root);
	close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	snprintf(path, sizeof(path), "%s/link", workdir);
	ck_assert_int_eq(symlink("../outside.txt", path), 0);
	snprintf(path, sizeof(path), "%s/adir", workdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	make_fifo("fifo");
	static const struct trig_input in[] = { { "ds", NULL, 0, false } };
	struct trig_step st = { .name = "s", .command = "touch RAN", .inputs = in, .ninputs = 1 };
	static const struct {
		const char *value, *error;
	} cases[] = {
		{ "../outside.txt", "input 'ds': path '../outside.txt' is outside the workdir" },
		{ "/etc/passwd", "input 'ds': path '/etc/passwd' is outside the workdir" },
		{ "link", "input 'ds': path 'link' is outside the workdir" },
		{ "adir", "input 'ds': 'adir' is not a regular file" },
		{ "fifo", "input 'ds': 'fifo' is not a regular file" },
		{ "missing.csv", "input 'ds': cannot open 'missing.csv': No such file or directory" },
		{ "dataset://images/3", "input 'ds': dataset:// URIs need a local data folder" },
		{ "s3://bucket/key", "input 'ds': unsupported URL scheme 's3'" },
		{ "FILE:///etc/passwd", "input 'ds': unsupported URL scheme 'file'" },
		{ "", "input 'ds': empty value" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct trig_kv kv[] = { { "ds", cases[i].value } };
		char id[32];
		snprintf(id, sizeof(id), "e-inerr-%zu", i);
		struct trig_exec_request req = { .id = id, .step = &st, .inputs = kv, .ninputs = 1 };
		struct trig_exec_result r;
		run_req(l, &req, &r);
		ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
		ck_assert_str_eq(r.error, cases[i].error);
		trig_exec_result_release(&r);
	}
	struct trig_exec_result r;
	run_step(l, &st, "e-inerr-none", NULL, 0, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
	ck_assert_str_eq(r.error, "input 'ds' has no value");
	trig_exec_result_release(&r);
	struct trig_kv unk[] = { { "nope", "x" } };
	struct trig_exec_request req = { .id = "e-inerr-unk", .step = &st, .inputs = unk, .ninputs = 1 };
	run_req(l, &req, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
	ck_assert_str_eq(r.error, "unknown input 'nope' for step 's'");
	trig_exec_result_release(&r);
	ck_assert(!work_exists("RAN"));

	/* size cap on copies */
	trig_local_stop(l, 0);
	struct trig_local_config cfg = { .max_parallel = 1, .max_input_bytes = 4 };
	l = mk_cfg(&cfg);
	write_work_file("five", "12345");
	write_work_file("four", "1234");
	struct trig_kv five[] = { { "ds", "five" } }, four[] = { { "ds", "four" } };
	struct trig_exec_request r5 = { .id = "e-cap5", .step = &st, .inputs = five, .ninputs = 1 };
	run_req(l, &r5, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
	ck_assert_str_eq(r.error, "input 'ds': file larger than 4 bytes");
	trig_exec_result_release(&r);
	struct trig_exec_request r4 = { .id = "e-cap4", .step = &st, .inputs = four, .ninputs = 1 };
	run_req(l, &r4, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_COMPLETED);
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(data_uris)
{
	/* The local data folder stands for Valohai's data store. */
	char data[PATH_MAX + 8];
	snprintf(data, sizeof(data), "%s/data", root);
	struct trig_local_config cfg = { .max_parallel = 1, .data_dir = data };
	struct trig_local *l = mk_cfg(&cfg);
	static const char *const dirs[] = { "", "/datasets", "/datasets/images",
					    "/datasets/images/v-2026.1", "/datasets/images/v-2026.1/sub",
					    "/models", "/models/digits", "/datums", "/datasets/empty",
					    "/datasets/empty/v1" };
	char path[PATH_MAX * 2];
	for (size_t i = 0; i < sizeof(dirs) / sizeof(*dirs); i++) {
		snprintf(path, sizeof(path), "%s%s", data, dirs[i]);
		ck_assert_int_eq(mkdir(path, 0700), 0);
	}
	static const char *const files[][2] = {
		{ "/datasets/images/v-2026.1/b.png", "B" }, { "/datasets/images/v-2026.1/a.png", "A" },
		{ "/datasets/images/v-2026.1/.hidden", "H" }, { "/datasets/images/v-2026.1/sub/c", "C" },
		{ "/models/digits/7", "M7" }, { "/datums/0191-abc", "D" },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(path, sizeof(path), "%s%s", data, files[i][0]);
		FILE *f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs(files[i][1], f);
		fclose(f);
	}
	static const struct trig_input in[] = { { "ds", NULL, 0, false } };
	struct trig_step st = {
		.name = "s", .command = "cd \"$VH_INPUTS_DIR/ds\" && for f in *; do printf '%s=%s ' \"$f\" \"$(cat \"$f\")\"; done",
		.inputs = in, .ninputs = 1,
	};
	static const struct {
		const char *value, *out;
	} good[] = {
		{ "dataset://images/v-2026.1", "a.png=A b.png=B " },
		{ "model://digits/7", "7=M7 " },
		{ "datum://0191-abc", "0191-abc=D " },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
		struct trig_kv kv[] = { { "ds", good[i].value } };
		char id[32];
		snprintf(id, sizeof(id), "e-data-%zu", i);
		struct trig_exec_request req = { .id = id, .step = &st, .inputs = kv, .ninputs = 1 };
		struct trig_exec_result r;
		run_req(l, &req, &r);
		ck_assert_msg(r.status == TRIG_EXEC_COMPLETED, "%s: %s", good[i].value,
			      r.error ? r.error : "");
		char *out = exec_file(id, "stdout.log");
		ck_assert_str_eq(out, good[i].out);
		free(out);
		trig_exec_result_release(&r);
	}
	static const struct {
		const char *value, *error;
	} bad[] = {
		{ "dataset://../../etc", "input 'ds': 'dataset://../../etc' is not a dataset URI (SCHEME://NAME/VERSION)" },
		{ "dataset://images/..", "input 'ds': 'dataset://images/..' is not a dataset URI (SCHEME://NAME/VERSION)" },
		{ "dataset://images", "input 'ds': 'dataset://images' is not a dataset URI (SCHEME://NAME/VERSION)" },
		{ "dataset://images/v1/", "input 'ds': 'dataset://images/v1/' is not a dataset URI (SCHEME://NAME/VERSION)" },
		{ "datum://a/b", "input 'ds': 'datum://a/b' is not a datum URI (datum://ID)" },
		{ "model://digits/7 x", "input 'ds': 'model://digits/7 x' is not a model URI (SCHEME://NAME/VERSION)" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct trig_kv kv[] = { { "ds", bad[i].value } };
		char id[32];
		snprintf(id, sizeof(id), "e-databad-%zu", i);
		struct trig_exec_request req = { .id = id, .step = &st, .inputs = kv, .ninputs = 1 };
		struct trig_exec_result r;
		run_req(l, &req, &r);
		ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
		ck_assert_str_eq(r.error, bad[i].error);
		trig_exec_result_release(&r);
	}
	/* missing, and a version with no files */
	struct trig_kv miss[] = { { "ds", "dataset://images/v9" } }, none[] = { { "ds", "dataset://empty/v1" } };
	struct trig_exec_request rm = { .id = "e-data-miss", .step = &st, .inputs = miss, .ninputs = 1 };
	struct trig_exec_result r;
	run_req(l, &rm, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
	ck_assert_ptr_nonnull(strstr(r.error, "dataset://images/v9 is not in the data folder"));
	trig_exec_result_release(&r);
	struct trig_exec_request rn = { .id = "e-data-none", .step = &st, .inputs = none, .ninputs = 1 };
	run_req(l, &rn, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
	ck_assert_ptr_nonnull(strstr(r.error, "has no files"));
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(payload_input)
{
	struct trig_local *l = mk(1, 0);
	static const struct trig_input in[] = { { "payload", NULL, 0, false } };
	struct trig_step st = { .name = "s", .command = "cat \"$VH_INPUTS_DIR/payload/payload.json\"",
				.inputs = in, .ninputs = 1 };
	static const char body[] = "{\"ref\":\"refs/heads/main\",\"x\":\"$(touch PWNED)\"}";
	struct trig_exec_request req = { .id = "e-pay", .step = &st, .payload_input = "payload",
					 .payload = body, .payload_len = sizeof(body) - 1 };
	struct trig_exec_result r;
	run_req(l, &req, &r);
	ck_assert_msg(r.status == TRIG_EXEC_COMPLETED, "%s", r.error ? r.error : "");
	char *out = exec_file("e-pay", "stdout.log");
	ck_assert_str_eq(out, body);
	free(out);
	ck_assert(!work_exists("PWNED"));
	trig_exec_result_release(&r);
	req.id = "e-pay2";
	req.payload_input = "../x";
	run_req(l, &req, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
	ck_assert_str_eq(r.error, "payload input '../x': not a valid input name");
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
}
END_TEST

/* A tiny HTTP/1.0 server in a forked child, on a port of the loopback
 * interface bound before the fork (so it is ready at once). */
static pid_t http_pid;
static int http_port;

static void http_reply(int c, const char *status, const char *headers, const char *body, size_t len)
{
	char head[512];
	int n = snprintf(head, sizeof(head), "HTTP/1.0 %s\r\n%sConnection: close\r\n\r\n", status, headers);
	if (write(c, head, (size_t)n) < 0 || write(c, body, len) < 0)
		return;
}

static _Noreturn void http_serve(int ls)
{
	static char big[5000];
	memset(big, 'B', sizeof(big));
	for (;;) {
		int c = accept(ls, NULL, NULL);
		if (c < 0)
			continue;
		char req[4096] = "", path[1024] = "", cl[64];
		size_t n = 0;
		ssize_t r;
		while (n < sizeof(req) - 1 && (r = read(c, req + n, sizeof(req) - 1 - n)) > 0) {
			n += (size_t)r;
			req[n] = 0;
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		if (sscanf(req, "GET %1023s", path) != 1) {
			close(c);
			continue;
		}
		if (!strcmp(path, "/files/data.bin")) {
			http_reply(c, "200 OK", "Content-Length: 15\r\n", "hello download\n", 15);
		} else if (!strncmp(path, "/files/my%20file%3B.txt", 23)) {
			http_reply(c, "200 OK", "", "q\n", 2);
		} else if (!strcmp(path, "/big")) {
			snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", sizeof(big));
			http_reply(c, "200 OK", cl, big, sizeof(big));
		} else if (!strcmp(path, "/big-unsized")) {
			http_reply(c, "200 OK", "", big, sizeof(big));
		} else if (!strcmp(path, "/redir-file")) {
			http_reply(c, "302 Found", "Location: file:///etc/passwd\r\n", "", 0);
		} else if (!strcmp(path, "/redir-ok")) {
			http_reply(c, "302 Found", "Location: /files/data.bin\r\n", "", 0);
		} else if (!strcmp(path, "/")) {
			http_reply(c, "200 OK", "", "root\n", 5);
		} else if (!strcmp(path, "/slow")) {
			/* headers, then nothing: a download that hangs */
			const char head[] = "HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nabc";
			if (write(c, head, sizeof(head) - 1) > 0)
				sleep(60);
		} else if (!strcmp(path, "/boom")) {
			http_reply(c, "500 Internal Server Error", "", "no\n", 3);
		} else {
			http_reply(c, "404 Not Found", "", "missing\n", 8);
		}
		close(c);
	}
}

static void http_start(void)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	ck_assert_int_ge(ls, 0);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(ls, 16), 0);
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&a, &alen), 0);
	http_port = ntohs(a.sin_port);
	http_pid = fork();
	ck_assert_int_ge(http_pid, 0);
	if (http_pid == 0)
		http_serve(ls);
	close(ls);
}

static void http_stop(void)
{
	kill(http_pid, SIGKILL);
	waitpid(http_pid, NULL, 0);
}

START_TEST(input_downloads)
{
	http_start();
	struct trig_local_config cfg = { .max_parallel = 1, .max_input_bytes = 1000 };
	struct trig_local *l = mk_cfg(&cfg);
	static const struct trig_input in[] = { { "ds", NULL, 0, false } };
	struct trig_step st = { .name = "s", .command = "cd \"$VH_INPUTS_DIR/ds\" && for f in *; do echo \"$f: $(cat \"$f\")\"; done",
				.inputs = in, .ninputs = 1 };
	char urls[8][256];
	static const char *const paths[] = {
		"/files/data.bin", "/files/my%20file%3B.txt?sig=SECRET-SIGNATURE", "/redir-ok", "/",
	};
	struct trig_kv kv[4];
	for (int i = 0; i < 4; i++) {
		snprintf(urls[i], sizeof(urls[i]), "http://user:PASSWORD@127.0.0.1:%d%s", http_port, paths[i]);
		kv[i].name = "ds";
		kv[i].value = urls[i];
	}
	struct trig_exec_request req = { .id = "e-dl", .step = &st, .inputs = kv, .ninputs = 4 };
	struct trig_exec_result r;
	run_req(l, &req, &r);
	ck_assert_msg(r.status == TRIG_EXEC_COMPLETED, "%s", r.error ? r.error : "");
	char *out = exec_file("e-dl", "stdout.log");
	/* named after the URL asked for, not where a redirect led (as wget) */
	ck_assert_str_eq(out, "data.bin: hello download\ndownload: root\nmy_file_.txt: q\n"
			      "redir-ok: hello download\n");
	free(out);
	trig_exec_result_release(&r);
	/* URLs are recorded without credentials and query strings */
	char *ej = exec_file("e-dl", "execution.json");
	ck_assert_ptr_null(strstr(ej, "PASSWORD"));
	ck_assert_ptr_null(strstr(ej, "SECRET"));
	struct buf want = BUF_INIT;
	buf_printf(&want, "\"http://127.0.0.1:%d/files/my%%20file%%3B.txt?redacted\"", http_port);
	ck_assert_ptr_nonnull(strstr(ej, want.data));
	buf_release(&want);
	free(ej);

	static const struct {
		const char *path, *error;
	} bad[] = {
		{ "/missing", "input 'ds': download failed: The requested URL returned error: 404" },
		{ "/boom", "input 'ds': download failed: The requested URL returned error: 500" },
		{ "/big", "input 'ds': download larger than 1000 bytes" },
		{ "/big-unsized", "input 'ds': download larger than 1000 bytes" },
		{ "/redir-file", "input 'ds': download failed: Protocol \"file\" not supported or disabled in libcurl" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char id[32], url[256];
		snprintf(id, sizeof(id), "e-dlerr-%zu", i);
		snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", http_port, bad[i].path);
		struct trig_kv k1[] = { { "ds", url } };
		struct trig_exec_request rq = { .id = id, .step = &st, .inputs = k1, .ninputs = 1 };
		run_req(l, &rq, &r);
		ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
		ck_assert_str_eq(r.error, bad[i].error);
		trig_exec_result_release(&r);
		/* nothing ran: no log files; no partial download left */
		char p[PATH_MAX * 2];
		snprintf(p, sizeof(p), "%s/%s/stdout.log", execs, id);
		ck_assert(!exists(p));
		snprintf(p, sizeof(p), "%s/%s/inputs/ds/.download.part", execs, id);
		ck_assert(!exists(p));
	}
	http_stop();
	/* nobody listening any more */
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/files/data.bin", http_port);
	struct trig_kv k1[] = { { "ds", url } };
	struct trig_exec_request rq = { .id = "e-dl-refused", .step = &st, .inputs = k1, .ninputs = 1 };
	run_req(l, &rq, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
	ck_assert_ptr_nonnull(strstr(r.error, "input 'ds': download failed: "));
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(stop_aborts_a_download)
{
	http_start();
	struct trig_local *l = mk(1, 0);
	static const struct trig_input in[] = { { "ds", NULL, 0, false } };
	struct trig_step st = { .name = "s", .command = "touch RAN", .inputs = in, .ninputs = 1 };
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/slow", http_port);
	struct trig_kv kv[] = { { "ds", url } };
	struct trig_exec_request req = { .id = "e-slow", .step = &st, .inputs = kv, .ninputs = 1 };
	struct collect *c = &coll;
	c->n = 0;
	ck_assert_int_eq(trig_local_submit(l, &req, on_done, c), 0);
	/* the partial file appears once the transfer has begun */
	char part[PATH_MAX * 2];
	snprintf(part, sizeof(part), "%s/e-slow/inputs/ds/.download.part", execs);
	for (int i = 0; i < 500 && !exists(part); i++)
		usleep(10000);
	ck_assert(exists(part));
	int64_t t0 = clock_ms_for_test();
	trig_local_stop(l, 100);
	int64_t took = clock_ms_for_test() - t0;
	ck_assert_int_lt(took, 5000);   /* libcurl calls back about once a second */
	ck_assert_int_eq(c->n, 1);
	ck_assert_int_eq(c->r[0].status, TRIG_EXEC_STOPPED);
	ck_assert_str_eq(c->r[0].error, "stopped by the server");
	ck_assert(!exists(part));
	ck_assert(!work_exists("RAN"));
	ck_assert_ptr_null(exec_file("e-slow", "status.json"));
	http_stop();
}
END_TEST

/* ------------------------------------------------------------ resuming */

START_TEST(recorded_status_is_not_rerun)
{
	struct trig_local *l = mk(1, 0);
	struct trig_step st = { .name = "s", .command = "echo ran >> count\nexit 4" };
	struct trig_exec_result r1, r2;
	run_step(l, &st, "e-once", NULL, 0, &r1);
	ck_assert_int_eq(r1.status, TRIG_EXEC_FAILED);
	ck_assert(!r1.recorded);
	run_step(l, &st, "e-once", NULL, 0, &r2);
	ck_assert(r2.recorded);
	ck_assert_int_eq(r2.status, TRIG_EXEC_FAILED);
	ck_assert_int_eq(r2.exit_code, 4);
	ck_assert_int_eq(r2.signal, 0);
	ck_assert_int_eq(r2.started_ms, r1.started_ms);
	ck_assert_int_eq(r2.ended_ms, r1.ended_ms);
	char path[PATH_MAX * 3];
	snprintf(path, sizeof(path), "%s/count", workdir);
	char *count = slurp(path, NULL);
	ck_assert_str_eq(count, "ran\n");
	free(count);
	trig_exec_result_release(&r1);
	trig_exec_result_release(&r2);

	/* the same through submit, with a status.json written by hand */
	char dir[PATH_MAX * 2];
	snprintf(dir, sizeof(dir), "%s/e-hand", execs);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/status.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{ \"status\": \"stopped\", \"exit_code\": null, \"signal\": 15,\n"
	      "  \"error\": \"stopped by \\\"the\\\" server \\u00e9\\ud83c\\udf89\",\n"
	      "  \"started\": \"2026-01-02T03:04:05.678Z\", \"ended\": \"2026-01-02T03:04:06.000Z\" }\n", f);
	fclose(f);
	struct collect *c = &coll;
	c->n = 0;
	struct trig_exec_request req = { .id = "e-hand", .step = &st };
	ck_assert_int_eq(trig_local_submit(l, &req, on_done, c), 0);
	wait_done(c, 1);
	ck_assert_int_eq(c->r[0].status, TRIG_EXEC_STOPPED);
	ck_assert_int_eq(c->r[0].signal, 15);
	ck_assert_int_eq(c->r[0].exit_code, -1);
	ck_assert_str_eq(c->r[0].error, "stopped by \"the\" server é🎉");
	ck_assert_int_eq(c->r[0].started, 1767323045678LL);     /* date -d 2026-01-02T03:04:05Z +%s */
	ck_assert_int_eq(c->r[0].ended, 1767323046000LL);
	count = slurp(path_in_work("count"), NULL);
	ck_assert_str_eq(count, "ran\n");
	free(count);

	/* a broken status.json is reported, never overwritten, never rerun */
	snprintf(dir, sizeof(dir), "%s/e-broken", execs);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/status.json", dir);
	f = fopen(path, "w");
	fputs("{\"status\": \"compl", f);
	fclose(f);
	run_step(l, &st, "e-broken", NULL, 0, &r1);
	ck_assert_int_eq(r1.status, TRIG_EXEC_ERROR);
	ck_assert_str_eq(r1.error, "status.json exists but cannot be read");
	trig_exec_result_release(&r1);
	char *sj = slurp(path, NULL);
	ck_assert_str_eq(sj, "{\"status\": \"compl");
	free(sj);

	/* an interrupted attempt (no status.json) starts over, cleanly */
	snprintf(dir, sizeof(dir), "%s/e-again", execs);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/outputs", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/outputs/deep", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/outputs/deep/stale", dir);
	close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
	snprintf(path, sizeof(path), "%s/outputs/link", dir);
	ck_assert_int_eq(symlink(workdir, path), 0);
	struct trig_step ls = { .name = "s", .command = "ls -A \"$VH_OUTPUTS_DIR\"; echo done" };
	run_step(l, &ls, "e-again", NULL, 0, &r1);
	ck_assert_int_eq(r1.status, TRIG_EXEC_COMPLETED);
	char *out = exec_file("e-again", "stdout.log");
	ck_assert_str_eq(out, "done\n");
	free(out);
	ck_assert(work_exists("count"));        /* the link was removed, not followed */
	trig_exec_result_release(&r1);
	trig_local_stop(l, 0);
}
END_TEST

/* ------------------------------------------------------------ stopping */

START_TEST(stop_kills_the_process_group)
{
	struct trig_local_config cfg = { .max_parallel = 2, .kill_after_ms = 300 };
	struct trig_local *l = mk_cfg(&cfg);
	make_fifo("pids");
	make_fifo("pids2");
	/* A: a grandchild in the background, and a wait */
	struct trig_step a = { .name = "a", .command = "sh -c 'sleep 100; echo survived' &\necho $$ $! > pids\nsleep 100" };
	/* B: deaf to SIGTERM, so SIGKILL must come */
	struct trig_step b = { .name = "b", .command = "trap '' TERM\nsleep 100 &\necho $$ $! > pids2\nwait" };
	struct trig_step q = { .name = "q", .command = "touch QUEUED-RAN" };
	struct collect *c = &coll;
	c->n = 0;
	struct trig_exec_request ra = { .id = "e-stop-a", .step = &a }, rb = { .id = "e-stop-b", .step = &b },
				 rq = { .id = "e-stop-q", .step = &q };
	ck_assert_int_eq(trig_local_submit(l, &ra, on_done, c), 0);
	ck_assert_int_eq(trig_local_submit(l, &rb, on_done, c), 0);
	ck_assert_int_eq(trig_local_submit(l, &rq, on_done, c), 0);
	char line[64], line2[64];
	read_fifo("pids", line, sizeof(line));
	read_fifo("pids2", line2, sizeof(line2));
	int sh_a, gc_a, sh_b, gc_b;
	ck_assert_int_eq(sscanf(line, "%d %d", &sh_a, &gc_a), 2);
	ck_assert_int_eq(sscanf(line2, "%d %d", &sh_b, &gc_b), 2);
	ck_assert(!is_dead(sh_a) && !is_dead(gc_a) && !is_dead(sh_b) && !is_dead(gc_b));

	int64_t t0 = clock_ms_for_test();
	trig_local_stop(l, 200);
	int64_t took = clock_ms_for_test() - t0;
	/* grace 200 ms, then SIGTERM, then SIGKILL 300 ms later for B */
	ck_assert_int_ge(took, 450);
	ck_assert_int_lt(took, 3000);
	ck_assert_int_eq(c->n, 3);
	int ia = find_result(c, "e-stop-a"), ib = find_result(c, "e-stop-b"), iq = find_result(c, "e-stop-q");
	ck_assert(ia >= 0 && ib >= 0 && iq >= 0);
	ck_assert_int_eq(c->r[ia].status, TRIG_EXEC_STOPPED);
	ck_assert_int_eq(c->r[ia].signal, SIGTERM);
	ck_assert_int_eq(c->r[ib].status, TRIG_EXEC_STOPPED);
	ck_assert_int_eq(c->r[ib].signal, SIGKILL);
	ck_assert_int_eq(c->r[iq].status, TRIG_EXEC_STOPPED);
	ck_assert_str_eq(c->r[iq].error, "stopped before it started");
	ck_assert(dies_soon(sh_a) && dies_soon(gc_a) && dies_soon(sh_b) && dies_soon(gc_b));
	ck_assert(!work_exists("QUEUED-RAN"));
	/* the queued one has no folder, so a resumed launch runs it */
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/e-stop-q", execs);
	ck_assert(!exists(p));
	ck_assert_str_eq(c->r[ia].error, "stopped by the server");
	char *out = exec_file("e-stop-a", "stdout.log");
	ck_assert_ptr_null(strstr(out, "survived"));
	free(out);
	/* no status.json: a resumed launch runs a stopped execution again */
	ck_assert_ptr_null(exec_file("e-stop-a", "status.json"));
	ck_assert_ptr_null(exec_file("e-stop-b", "status.json"));
	snprintf(p, sizeof(p), "%s/e-stop-a/execution.json", execs);
	ck_assert(exists(p));
	l = mk(1, 0);
	struct trig_step again = { .name = "a", .command = "echo second attempt" };
	struct trig_exec_result r;
	run_step(l, &again, "e-stop-a", NULL, 0, &r);
	ck_assert(!r.recorded);
	ck_assert_int_eq(r.status, TRIG_EXEC_COMPLETED);
	trig_exec_result_release(&r);
	out = exec_file("e-stop-a", "stdout.log");
	ck_assert_str_eq(out, "second attempt\n");
	free(out);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(stop_waits_for_a_quick_finish)
{
	struct trig_local *l = mk(1, 0);
	struct trig_step st = { .name = "s", .command = "sleep 0.2\necho finished" };
	struct collect *c = &coll;
	c->n = 0;
	struct trig_exec_request req = { .id = "e-grace", .step = &st };
	ck_assert_int_eq(trig_local_submit(l, &req, on_done, c), 0);
	trig_local_stop(l, 5000);
	ck_assert_int_eq(c->n, 1);
	/* either it ran to its end within the grace period, or stop() came
	 * before a worker took it from the queue */
	if (c->r[0].status == TRIG_EXEC_COMPLETED) {
		char *out = exec_file("e-grace", "stdout.log");
		ck_assert_str_eq(out, "finished\n");
		free(out);
	} else {
		ck_assert_int_eq(c->r[0].status, TRIG_EXEC_STOPPED);
		ck_assert_str_eq(c->r[0].error, "stopped before it started");
	}
}
END_TEST

/* ------------------------------------------------------------ descriptors */

static void fd_cycle(void)
{
	struct trig_local *l = mk(2, 0);
	write_work_file("f.txt", "f\n");
	static const struct trig_input in[] = { { "ds", NULL, 0, true } };
	struct trig_step st = { .name = "s", .command = "cat \"$VH_INPUTS_DIR\"/ds/* > /dev/null; exit 1",
				.inputs = in, .ninputs = 1 };
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/files/data.bin", http_port);
	char miss[128];
	snprintf(miss, sizeof(miss), "http://127.0.0.1:%d/missing", http_port);
	struct trig_kv ok[] = { { "ds", "f.txt" }, { "ds", url } }, bad[] = { { "ds", miss } },
		       gone[] = { { "ds", "gone.txt" } };
	static unsigned round;
	char ids[4][32];
	struct trig_exec_result r;
	struct collect *c = &coll;
	c->n = 0;
	round++;
	for (int i = 0; i < 4; i++)
		snprintf(ids[i], sizeof(ids[i]), "e-fd-%u-%d", round, i);
	struct trig_exec_request r0 = { .id = ids[0], .step = &st, .inputs = ok, .ninputs = 2 };
	struct trig_exec_request r1 = { .id = ids[1], .step = &st, .inputs = bad, .ninputs = 1 };
	struct trig_exec_request r2 = { .id = ids[2], .step = &st, .inputs = gone, .ninputs = 1 };
	struct trig_exec_request r3 = { .id = ids[3], .step = &st };
	run_req(l, &r0, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_FAILED);
	trig_exec_result_release(&r);
	ck_assert_int_eq(trig_local_submit(l, &r1, on_done, c), 0);
	ck_assert_int_eq(trig_local_submit(l, &r2, on_done, c), 0);
	ck_assert_int_eq(trig_local_submit(l, &r3, on_done, c), 0);
	wait_done(c, 3);
	run_req(l, &r0, &r);            /* recorded */
	ck_assert(r.recorded);
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
}

START_TEST(no_descriptor_leaks)
{
	http_start();
	fd_cycle();             /* warm-up: libcurl and libc initialise once */
	int before = count_fds();
	fd_cycle();
	fd_cycle();
	int after = count_fds();
	ck_assert_int_eq(after, before);
	http_stop();
}
END_TEST

/* ------------------------------------------------------------ issue 4 additions */

/* Shell lines that wait until the file NAME exists in the workdir. */
#define GATE(name) "while [ ! -e " name " ]; do sleep 0.01; done\n"

/* A file outside the workdir (a trusted absolute path). */
static const char *root_file(const char *name, const char *content)
{
	static char path[PATH_MAX * 2];
	snprintf(path, sizeof(path), "%s/%s", root, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

START_TEST(trusted_files_are_copied)
{
	struct trig_local *l = mk(1, 0);
	char a[PATH_MAX * 2], b[PATH_MAX * 2], c[PATH_MAX * 2];
	snprintf(a, sizeof(a), "%s", root_file("model.bin", "weights\n"));
	ck_assert_int_eq(mkdir(path_in_work("sub"), 0700), 0);
	snprintf(b, sizeof(b), "%s/sub/metrics.json", workdir);
	write_work_file("sub/metrics.json", "{\"acc\":1}\n");
	snprintf(c, sizeof(c), "%s", root_file("other.txt", "other\n"));
	struct trig_kv files[] = { { "model", a }, { "model", b }, { "extra", c } };
	/* the step declares none of these inputs: pipeline edges need not */
	struct trig_step st = {
		.name = "s",
		.command = "cat \"$VH_INPUTS_DIR/model/model.bin\" \"$VH_INPUTS_DIR/model/metrics.json\" "
			   "\"$VH_INPUTS_DIR/extra/other.txt\"",
	};
	struct trig_exec_request req = { .id = "e-files", .step = &st, .files = files, .nfiles = 3 };
	struct trig_exec_result r;
	run_req(l, &req, &r);
	ck_assert_msg(r.status == TRIG_EXEC_COMPLETED, "%s", r.error ? r.error : "");
	trig_exec_result_release(&r);
	char *out = exec_file("e-files", "stdout.log");
	ck_assert_str_eq(out, "weights\n{\"acc\":1}\nother\n");
	free(out);
	char *ej = exec_file("e-files", "execution.json");
	ck_assert_ptr_nonnull(strstr(ej, "\"files\":[[\"model\","));
	free(ej);

	/* a folder, a missing file, a relative path, a bad name: errors, nothing runs */
	struct trig_step touch = { .name = "s", .command = "touch RAN" };
	struct {
		struct trig_kv kv;
		const char *want;
	} bad[] = {
		{ { "in", workdir }, "is not a regular file" },
		{ { "in", "/nonexistent/trig/file" }, "cannot open '/nonexistent/trig/file'" },
		{ { "in", "relative.txt" }, "not an absolute path" },
		{ { "../x", a }, "not a valid input name" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char id[32];
		snprintf(id, sizeof(id), "e-files-bad-%zu", i);
		struct trig_exec_request rq = { .id = id, .step = &touch, .files = &bad[i].kv,
						.nfiles = 1 };
		run_req(l, &rq, &r);
		ck_assert_int_eq(r.status, TRIG_EXEC_ERROR);
		ck_assert_msg(r.error && strstr(r.error, bad[i].want), "%zu: %s", i,
			      r.error ? r.error : "(null)");
		trig_exec_result_release(&r);
	}
	ck_assert(!work_exists("RAN"));
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(timeout_kills_the_group)
{
	struct trig_local_config cfg = { .max_parallel = 2, .kill_after_ms = 300 };
	struct trig_local *l = mk_cfg(&cfg);
	/* A: plain; B: deaf to SIGTERM, SIGKILL must come kill_after_ms later */
	struct trig_step a = { .name = "a", .command = "sleep 30 &\necho $$ $! > \"$VH_OUTPUTS_DIR/pids\"\nwait" };
	struct trig_step b = { .name = "b", .command = "trap '' TERM\nsleep 30 &\necho $$ $! > \"$VH_OUTPUTS_DIR/pids\"\nwait\nwait" };
	struct trig_exec_request ra = { .id = "e-to-a", .step = &a, .timeout_ms = 300 };
	struct trig_exec_request rb = { .id = "e-to-b", .step = &b, .timeout_ms = 2000 };
	struct trig_exec_result r;
	int64_t t0 = clock_ms_for_test();
	run_req(l, &ra, &r);
	int64_t took = clock_ms_for_test() - t0;
	ck_assert_int_eq(r.status, TRIG_EXEC_FAILED);
	ck_assert_str_eq(r.error, "timed out after 300 ms");
	ck_assert_int_eq(r.signal, SIGTERM);
	ck_assert_int_ge(took, 300);
	ck_assert_int_lt(took, 2500);
	trig_exec_result_release(&r);
	char *pids = exec_file("e-to-a", "outputs/pids");
	int sh, gc;
	ck_assert_int_eq(sscanf(pids, "%d %d", &sh, &gc), 2);
	free(pids);
	ck_assert(dies_soon(sh) && dies_soon(gc));
	char *sj = exec_file("e-to-a", "status.json");
	ck_assert_ptr_nonnull(strstr(sj, "\"status\":\"failed\""));
	ck_assert_ptr_nonnull(strstr(sj, "\"error\":\"timed out after 300 ms\""));
	free(sj);
	ck_assert_ptr_null(exec_file("e-to-a", "exit"));

	t0 = clock_ms_for_test();
	run_req(l, &rb, &r);
	took = clock_ms_for_test() - t0;
	ck_assert_int_eq(r.status, TRIG_EXEC_FAILED);
	ck_assert_str_eq(r.error, "timed out after 2 s");
	ck_assert_int_eq(r.signal, SIGKILL);
	ck_assert_int_ge(took, 2300);
	ck_assert_int_lt(took, 5000);
	trig_exec_result_release(&r);
	pids = exec_file("e-to-b", "outputs/pids");
	ck_assert_int_eq(sscanf(pids, "%d %d", &sh, &gc), 2);
	free(pids);
	ck_assert(dies_soon(sh) && dies_soon(gc));

	/* a final result: submitted again, nothing runs */
	struct trig_step other = { .name = "a", .command = "touch RAN" };
	ra.step = &other;
	run_req(l, &ra, &r);
	ck_assert(r.recorded);
	ck_assert_int_eq(r.status, TRIG_EXEC_FAILED);
	ck_assert_str_eq(r.error, "timed out after 300 ms");
	trig_exec_result_release(&r);
	ck_assert(!work_exists("RAN"));

	/* under the timeout: as usual */
	struct trig_step quick = { .name = "q", .command = "exit 4" };
	struct trig_exec_request rq = { .id = "e-to-q", .step = &quick, .timeout_ms = 5000 };
	run_req(l, &rq, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_FAILED);
	ck_assert_int_eq(r.exit_code, 4);
	ck_assert_ptr_null(r.error);
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
}
END_TEST

/* started and done callbacks, in order */
struct calls {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char log[1024];
	int64_t started_ms, done_started_ms;
	int ndone;
};

static void on_started(const char *id, int64_t started_ms, void *ctx)
{
	struct calls *c = ctx;
	pthread_mutex_lock(&c->mu);
	size_t n = strlen(c->log);
	snprintf(c->log + n, sizeof(c->log) - n, "started %s;", id);
	c->started_ms = started_ms;
	pthread_mutex_unlock(&c->mu);
}

static void on_done_calls(const struct trig_exec_result *r, void *ctx)
{
	struct calls *c = ctx;
	pthread_mutex_lock(&c->mu);
	size_t n = strlen(c->log);
	snprintf(c->log + n, sizeof(c->log) - n, "done %s %s;", r->id,
		 trig_exec_status_name(r->status));
	c->done_started_ms = r->started_ms;
	c->ndone++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void calls_wait(struct calls *c, int n)
{
	pthread_mutex_lock(&c->mu);
	while (c->ndone < n)
		pthread_cond_wait(&c->cv, &c->mu);
	pthread_mutex_unlock(&c->mu);
}

START_TEST(started_is_called_once_before_done)
{
	struct trig_local *l = mk(2, 0);
	static struct calls c = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	struct trig_step st = { .name = "s", .command = "sleep 0.1" };
	struct trig_exec_request req = { .id = "e-cb", .step = &st, .started = on_started };
	ck_assert_int_eq(trig_local_submit(l, &req, on_done_calls, &c), 0);
	calls_wait(&c, 1);
	ck_assert_str_eq(c.log, "started e-cb;done e-cb completed;");
	ck_assert(c.started_ms > 0);
	ck_assert(c.started_ms == c.done_started_ms);
	/* recorded result, and a bad request that never starts: no call */
	c.log[0] = 0;
	ck_assert_int_eq(trig_local_submit(l, &req, on_done_calls, &c), 0);
	calls_wait(&c, 2);
	ck_assert_str_eq(c.log, "done e-cb completed;");
	c.log[0] = 0;
	struct trig_kv bad = { "nope", "1" };
	struct trig_exec_request rb = { .id = "e-cb-bad", .step = &st, .started = on_started,
					.params = &bad, .nparams = 1 };
	ck_assert_int_eq(trig_local_submit(l, &rb, on_done_calls, &c), 0);
	calls_wait(&c, 3);
	ck_assert_str_eq(c.log, "done e-cb-bad error;");
	/* trig_local_run(): called too, with a NULL ctx (no way to check it
	 * but that it does not crash: on_started would dereference it) */
	trig_local_stop(l, 0);
}
END_TEST

/* Merges the JSON-object lines of a log with python3 (the oracle) and
 * compares with trig_local_metadata() after parsing both. */
static void check_metadata_oracle(const char *dir)
{
	struct buf b = BUF_INIT;
	ck_assert_int_eq(trig_local_metadata(dir, &b), 0);
	char ours[PATH_MAX * 2];
	snprintf(ours, sizeof(ours), "%s/ours.json", root);
	FILE *f = fopen(ours, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(b.data, 1, b.len, f);
	ck_assert_int_eq(fclose(f), 0);
	buf_release(&b);
	char cmd[PATH_MAX * 6];
	snprintf(cmd, sizeof(cmd),
		 "python3 -c '\n"
		 "import json, sys\n"
		 "m = {}\n"
		 "for line in open(sys.argv[1], \"rb\").read().split(b\"\\n\"):\n"
		 "    try:\n"
		 "        v = json.loads(line.decode(\"utf-8\"), parse_constant=lambda c: 1/0)\n"
		 "    except Exception:\n"
		 "        continue\n"
		 "    if isinstance(v, dict):\n"
		 "        m.update(v)\n"
		 "ours = json.load(open(sys.argv[2]))\n"
		 "sys.exit(0 if ours == m and list(ours) == list(m) else 1)\n"
		 "' %s/stdout.log %s", dir, ours);
	ck_assert_msg(system(cmd) == 0, "metadata differs from python's merge");
}

START_TEST(metadata_is_merged)
{
	struct trig_local *l = mk(1, 0);
	write_work_file("log.txt",
			"epoch 1\n"
			"{\"loss\": 0.5, \"epoch\": 1}\n"
			"  {\"loss\": 0.25, \"acc\": {\"top1\": [1, 2.5e3]}, \"s\": \"a\\u00e9\\n\"}  \r\n"
			"[1, 2]\n"
			"{\"loss\": bad}\n"
			"{\"half\": \n"
			"\"x\"}\n"
			"\"just a string\"\n"
			"{}\n"
			"{\"k\\u0041y\": null, \"epoch\": 2, \"epoch\": 3}\n"
			"{\"unicode\": \"\\ud83d\\ude00 \xc3\xa9\"}\n"
			"{\"last\": true}");
	struct trig_step st = { .name = "s", .command = "cat log.txt" };
	struct trig_exec_result r;
	run_step(l, &st, "e-meta", NULL, 0, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_COMPLETED);
	struct buf b = BUF_INIT;
	ck_assert_int_eq(trig_local_metadata(r.dir, &b), 0);
	/* hand-checked */
	ck_assert_str_eq(buf_cstr(&b),
			 "{\"loss\":0.25,\"epoch\":3,\"acc\":{\"top1\": [1, 2.5e3]},"
			 "\"s\":\"a\\u00e9\\n\",\"kAy\":null,\"unicode\":\"\\ud83d\\ude00 \xc3\xa9\","
			 "\"last\":true}");
	buf_release(&b);
	check_metadata_oracle(r.dir);
	trig_exec_result_release(&r);

	/* nothing printed: {}; no such folder: -1 ENOENT */
	struct trig_step quiet = { .name = "s", .command = "true" };
	run_step(l, &quiet, "e-meta-quiet", NULL, 0, &r);
	ck_assert_int_eq(trig_local_metadata(r.dir, &b), 0);
	ck_assert_str_eq(buf_cstr(&b), "{}");
	buf_release(&b);
	trig_exec_result_release(&r);
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/no-such-execution", execs);
	errno = 0;
	ck_assert_int_eq(trig_local_metadata(p, &b), -1);
	ck_assert_int_eq(errno, ENOENT);
	buf_release(&b);

	/* only the last 8 MiB: an object before it is not read */
	struct trig_step big = {
		.name = "s",
		.command = "echo '{\"early\": 1, \"x\": 1}'\n"
			   "head -c 9000000 /dev/zero | tr '\\0' 'a'\necho\n"
			   "echo '{\"x\": 2}'",
	};
	run_step(l, &big, "e-meta-big", NULL, 0, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_COMPLETED);
	ck_assert_int_eq(trig_local_metadata(r.dir, &b), 0);
	ck_assert_str_eq(buf_cstr(&b), "{\"x\":2}");
	buf_release(&b);
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(metadata_random_lines)
{
	/* random lines, some JSON objects, checked against python's merge */
	uint64_t seed = test_seed(0x6d657461);
	(void)seed;
	char dir[PATH_MAX * 2];
	snprintf(dir, sizeof(dir), "%s/meta", root);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	static const char *const keys[] = { "a", "b", "c\\u0000d", "\\u00e9", "e f", "a" };
	static const char *const vals[] = { "1", "-2.5e-3", "\"s\"", "null", "true", "[1,{\"x\":[]}]",
					    "{\"n\":{}}", "\"\\ud800\"" };
	struct buf log = BUF_INIT;
	for (int line = 0; line < 400; line++) {
		switch (rnd(5)) {
		case 0:
			buf_adds(&log, "plain text {\"a\": 1}");
			break;
		case 1:
			buf_adds(&log, "{\"a\": 1,}");
			break;
		default: {
			unsigned n = rnd(4);
			buf_adds(&log, rnd(2) ? " {" : "{");
			for (unsigned i = 0; i < n; i++)
				buf_printf(&log, "%s\"%s\": %s", i ? ", " : "", keys[rnd(6)],
					   vals[rnd(8)]);
			buf_adds(&log, "}");
		}
		}
		buf_addc(&log, '\n');
	}
	char p[PATH_MAX * 3];
	snprintf(p, sizeof(p), "%s/stdout.log", dir);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(log.data, 1, log.len, f);
	ck_assert_int_eq(fclose(f), 0);
	buf_release(&log);
	check_metadata_oracle(dir);
}
END_TEST

/* ------------------------------------------------------------ crashes */

/* Lines in a file of the workdir (0 when it does not exist). */
static int count_lines(const char *name)
{
	char *s = slurp(path_in_work(name), NULL);
	int n = 0;
	if (!s)
		return 0;
	for (char *p = s; *p; p++)
		n += *p == '\n';
	free(s);
	return n;
}

static void wait_for_work_file(const char *name, int64_t ms)
{
	int64_t end = clock_ms_for_test() + ms;
	while (!work_exists(name)) {
		ck_assert_msg(clock_ms_for_test() < end, "'%s' did not appear", name);
		usleep(10000);
	}
}

static bool exec_exists(const char *id, const char *name)
{
	char p[PATH_MAX * 2];
	snprintf(p, sizeof(p), "%s/%s/%s", execs, id, name);
	return exists(p);
}

/*
 * A server that dies: a forked process submits the execution and is
 * SIGKILLed once the step has written `marker` in the workdir (the
 * supervisor and the command, in their own session, live on).
 */
static void crash_server_during(const struct trig_step *st, const char *id, const char *marker)
{
	pid_t srv = fork();
	ck_assert_int_ge(srv, 0);
	if (srv == 0) {
		struct trig_local_config cfg = { .executions_dir = execs, .workdir = workdir,
						 .max_parallel = 1 };
		char err[256];
		struct trig_local *l = trig_local_new(&cfg, err, sizeof(err));
		struct trig_exec_request req = { .id = id, .step = st };
		if (!l || trig_local_submit(l, &req, on_done, &coll) < 0)
			_exit(1);
		for (;;)
			pause();
	}
	int64_t end = clock_ms_for_test() + 10000;
	while (!work_exists(marker)) {
		int status;
		ck_assert_msg(waitpid(srv, &status, WNOHANG) == 0, "the server ended early");
		ck_assert_msg(clock_ms_for_test() < end, "'%s' did not appear", marker);
		usleep(5000);
	}
	ck_assert_int_eq(kill(srv, SIGKILL), 0);
	ck_assert_int_eq(waitpid(srv, NULL, 0), srv);
}

/* Waits until a started callback has been logged in c. */
static void wait_adopted_call(struct calls *c)
{
	int64_t end = clock_ms_for_test() + 5000;
	for (;;) {
		pthread_mutex_lock(&c->mu);
		bool started = strstr(c->log, "started") != NULL;
		pthread_mutex_unlock(&c->mu);
		if (started)
			break;
		ck_assert_msg(clock_ms_for_test() < end, "not adopted");
		usleep(5000);
	}
}

START_TEST(crash_adopts_a_running_command)
{
	/* the command goes on after the crash, then exits 7 */
	struct trig_step st = { .name = "s",
				.command = "echo run >> runs\ntouch started\n" GATE("go")
					   "echo done >> runs\nexit 7" };
	crash_server_during(&st, "e-adopt", "started");
	ck_assert(exec_exists("e-adopt", "pid"));
	ck_assert(!exec_exists("e-adopt", "status.json"));
	ck_assert(!exec_exists("e-adopt", "exit"));

	struct trig_local *l = mk(1, 0);
	static struct calls c = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	struct trig_exec_request req = { .id = "e-adopt", .step = &st, .started = on_started };
	ck_assert_int_eq(trig_local_submit(l, &req, on_done_calls, &c), 0);
	wait_adopted_call(&c);
	write_work_file("go", "");      /* the command ends now, adopted */
	calls_wait(&c, 1);
	ck_assert_str_eq(c.log, "started e-adopt;done e-adopt failed;");
	/* the original start, from the pid file */
	char *pidf = exec_file("e-adopt", "pid");
	long long pid, ticks, started, cmd;
	ck_assert_int_eq(sscanf(pidf, "%lld %lld %lld %lld", &pid, &ticks, &started, &cmd), 4);
	free(pidf);
	ck_assert(c.started_ms == started);
	trig_local_stop(l, 0);
	ck_assert_int_eq(count_lines("runs"), 2);       /* one run: "run", "done" */
	char *sj = exec_file("e-adopt", "status.json");
	ck_assert_ptr_nonnull(sj);
	ck_assert_ptr_nonnull(strstr(sj, "\"status\":\"failed\",\"exit_code\":7,\"signal\":null"));
	free(sj);
	char *ex = exec_file("e-adopt", "exit");
	ck_assert_ptr_nonnull(ex);
	ck_assert(!strncmp(ex, "exit 7 ", 7));
	free(ex);
	ck_assert(dies_soon((pid_t)pid));

	/* a recorded result from then on */
	l = mk(1, 0);
	struct trig_exec_result r;
	run_req(l, &req, &r);
	ck_assert(r.recorded);
	ck_assert_int_eq(r.exit_code, 7);
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
	ck_assert_int_eq(count_lines("runs"), 2);
}
END_TEST

START_TEST(crash_exit_already_there)
{
	/* the command ends while the server is down: its exit file says how */
	struct trig_step st = { .name = "s", .command = "echo run >> runs\ntouch started\n"
							GATE("go") "kill -KILL $$" };
	crash_server_during(&st, "e-ended", "started");
	write_work_file("go", "");      /* the server is dead: end now */
	int64_t end = clock_ms_for_test() + 10000;
	while (!exec_exists("e-ended", "exit")) {
		ck_assert_msg(clock_ms_for_test() < end, "no exit file");
		usleep(10000);
	}
	char *ex = exec_file("e-ended", "exit");
	ck_assert(!strncmp(ex, "signal 9 ", 9));
	free(ex);
	struct trig_local *l = mk(1, 0);
	struct trig_exec_result r;
	struct trig_exec_request req = { .id = "e-ended", .step = &st };
	run_req(l, &req, &r);
	ck_assert(!r.recorded);
	ck_assert_int_eq(r.status, TRIG_EXEC_FAILED);
	ck_assert_int_eq(r.signal, SIGKILL);
	ck_assert_int_eq(r.exit_code, -1);
	ck_assert(r.ended_ms >= r.started_ms && r.started_ms > 0);
	trig_exec_result_release(&r);
	ck_assert_int_eq(count_lines("runs"), 1);
	char *sj = exec_file("e-ended", "status.json");
	ck_assert_ptr_nonnull(strstr(sj, "\"status\":\"failed\",\"exit_code\":null,\"signal\":9"));
	free(sj);

	/* same with an exit code */
	struct trig_step st2 = { .name = "s", .command = "echo run >> runs2\ntouch started2\n"
							 GATE("go2") "exit 5" };
	crash_server_during(&st2, "e-ended2", "started2");
	write_work_file("go2", "");
	end = clock_ms_for_test() + 10000;
	while (!exec_exists("e-ended2", "exit")) {
		ck_assert_msg(clock_ms_for_test() < end, "no exit file");
		usleep(10000);
	}
	req.id = "e-ended2";
	req.step = &st2;
	run_req(l, &req, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_FAILED);
	ck_assert_int_eq(r.exit_code, 5);
	ck_assert_int_eq(r.signal, 0);
	trig_exec_result_release(&r);
	ck_assert_int_eq(count_lines("runs2"), 1);
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(crash_killed_command_fails)
{
	/* adopted, then killed by someone else: no exit file, FAILED */
	struct trig_step st = { .name = "s",
				.command = "echo run >> runs\necho $$ > cmdpid\ntouch started\nsleep 30" };
	crash_server_during(&st, "e-killed", "started");
	struct trig_local *l = mk(1, 0);
	static struct calls adopted = { .mu = PTHREAD_MUTEX_INITIALIZER,
					.cv = PTHREAD_COND_INITIALIZER };
	struct trig_exec_request req = { .id = "e-killed", .step = &st, .started = on_started };
	ck_assert_int_eq(trig_local_submit(l, &req, on_done_calls, &adopted), 0);
	wait_adopted_call(&adopted);
	char *pidf = exec_file("e-killed", "pid");
	int sup = atoi(pidf);
	free(pidf);
	ck_assert_int_eq(kill(-sup, SIGKILL), 0);
	calls_wait(&adopted, 1);
	ck_assert_str_eq(adopted.log, "started e-killed;done e-killed failed;");
	trig_local_stop(l, 0);
	char *sj = exec_file("e-killed", "status.json");
	ck_assert_ptr_nonnull(sj);
	ck_assert_ptr_nonnull(strstr(sj, "\"status\":\"failed\",\"exit_code\":null,\"signal\":null,"
					 "\"error\":\"the command ended while the server was down and left "
					 "no exit status: it was killed\""));
	free(sj);
	ck_assert_int_eq(count_lines("runs"), 1);
}
END_TEST

START_TEST(crash_stop_kills_an_adopted_command)
{
	struct trig_step st = { .name = "s",
				.command = "echo run >> runs\necho $$ > cmdpid\ntouch started\nsleep 30" };
	crash_server_during(&st, "e-adstop", "started");
	char *cp = slurp(path_in_work("cmdpid"), NULL);
	pid_t cmd = (pid_t)atoi(cp);
	free(cp);
	struct trig_local_config cfg = { .max_parallel = 1, .kill_after_ms = 300 };
	struct trig_local *l = mk_cfg(&cfg);
	static struct calls c = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
	struct trig_exec_request req = { .id = "e-adstop", .step = &st, .started = on_started };
	ck_assert_int_eq(trig_local_submit(l, &req, on_done_calls, &c), 0);
	wait_adopted_call(&c);
	ck_assert(!is_dead(cmd));
	int64_t t0 = clock_ms_for_test();
	trig_local_stop(l, 0);
	ck_assert_int_lt(clock_ms_for_test() - t0, 3000);
	ck_assert_str_eq(c.log, "started e-adstop;done e-adstop stopped;");
	ck_assert(dies_soon(cmd));
	ck_assert(!exec_exists("e-adstop", "status.json"));
	ck_assert(!exec_exists("e-adstop", "exit"));
	/* so the resumed launch runs it again (the supervisor is gone) */
	struct trig_step again = { .name = "s", .command = "echo again >> runs" };
	l = mk(1, 0);
	struct trig_exec_result r;
	req.step = &again;
	req.started = NULL;
	run_req(l, &req, &r);
	ck_assert_int_eq(r.status, TRIG_EXEC_COMPLETED);
	trig_exec_result_release(&r);
	trig_local_stop(l, 0);
	char *runs = slurp(path_in_work("runs"), NULL);
	ck_assert_str_eq(runs, "run\nagain\n");
	free(runs);
}
END_TEST

START_TEST(stale_pid_runs_again)
{
	/* a pid file whose process is gone, and one whose pid is alive but
	 * with another start time (a reused pid): both run again */
	pid_t dead = fork();
	ck_assert_int_ge(dead, 0);
	if (dead == 0)
		_exit(0);
	ck_assert_int_eq(waitpid(dead, NULL, 0), dead);
	struct {
		const char *id;
		long long pid;
	} cases[] = { { "e-stale-dead", dead }, { "e-stale-reused", getpid() } };
	struct trig_local *l = mk(1, 0);
	for (size_t i = 0; i < 2; i++) {
		char p[PATH_MAX * 2];
		snprintf(p, sizeof(p), "%s/%s", execs, cases[i].id);
		ck_assert_int_eq(mkdir(p, 0700), 0);
		snprintf(p, sizeof(p), "%s/%s/pid", execs, cases[i].id);
		FILE *f = fopen(p, "w");
		ck_assert_ptr_nonnull(f);
		fprintf(f, "%lld 1 1700000000000 1700000000000\n", cases[i].pid);
		ck_assert_int_eq(fclose(f), 0);
		struct trig_step st = { .name = "s", .command = "echo run >> runs" };
		struct trig_exec_result r;
		run_step(l, &st, cases[i].id, NULL, 0, &r);
		ck_assert_int_eq(r.status, TRIG_EXEC_COMPLETED);
		ck_assert(!r.recorded);
		ck_assert(r.started_ms > 1700000000000LL + 1000);
		trig_exec_result_release(&r);
		ck_assert_int_eq(count_lines("runs"), (int)i + 1);
		/* the new attempt's pid file */
		char *pidf = exec_file(cases[i].id, "pid");
		ck_assert_int_ne(atoll(pidf), cases[i].pid);
		free(pidf);
	}
	trig_local_stop(l, 0);
}
END_TEST

START_TEST(supervisor_keeps_no_descriptor)
{
	/* the supervisor holds no descriptor of the server (a listening
	 * socket held by an orphan would keep a restarted server from its
	 * port): a pipe opened here without close-on-exec is not among them */
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	struct stat pst;
	ck_assert_int_eq(fstat(p[0], &pst), 0);
	char pipe_name[64];
	snprintf(pipe_name, sizeof(pipe_name), "pipe:[%llu]", (unsigned long long)pst.st_ino);
	struct trig_step st = { .name = "s", .command = "touch started\n" GATE("looked") };
	struct trig_local *l = mk(1, 0);
	struct collect *c = &coll;
	c->n = 0;
	struct trig_exec_request req = { .id = "e-supfd", .step = &st };
	ck_assert_int_eq(trig_local_submit(l, &req, on_done, c), 0);
	wait_for_work_file("started", 5000);
	char *pidf = exec_file("e-supfd", "pid");
	ck_assert_ptr_nonnull(pidf);
	int sup = atoi(pidf);
	free(pidf);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", sup);
	/* (valgrind keeps descriptors of its own above the limit) */
	struct rlimit rl;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	DIR *d = opendir(path);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || (rlim_t)atoi(e->d_name) >= rl.rlim_cur)
			continue;
		char fp[384], target[PATH_MAX];
		snprintf(fp, sizeof(fp), "%s/%s", path, e->d_name);
		ssize_t len = readlink(fp, target, sizeof(target) - 1);
		if (len < 0)
			continue;
		target[len] = 0;
		ck_assert_str_ne(target, pipe_name);
		ck_assert_msg(atoi(e->d_name) <= 4, "fd %s: %s", e->d_name, target);
		n++;
	}
	closedir(d);
	ck_assert_int_ge(n, 4);         /* 0-2, the folder (and the pipe to the server) */
	write_work_file("looked", "");
	close(p[0]);
	close(p[1]);
	wait_done(c, 1);
	ck_assert_int_eq(c->r[0].status, TRIG_EXEC_COMPLETED);
	trig_local_stop(l, 0);
}
END_TEST

/* ------------------------------------------------------------ suite */

static Suite *local_suite(void)
{
	Suite *s = suite_create("local");
	TCase *render = tcase_create("render");
	tcase_add_test(render, render_defaults_and_overrides);
	tcase_add_test(render, render_flags);
	tcase_add_test(render, render_pass_as);
	tcase_add_test(render, render_optional_and_required);
	tcase_add_test(render, render_single_parameters);
	tcase_add_test(render, render_types);
	tcase_add_test(render, sh_quote_rules);
	tcase_add_checked_fixture(render, setup, teardown);
	tcase_add_test(render, render_matches_valohai_yaml);
	tcase_set_timeout(render, 60);
	suite_add_tcase(s, render);

	TCase *run = tcase_create("run");
	tcase_add_checked_fixture(run, setup, teardown);
	tcase_set_timeout(run, 60);
	tcase_add_test(run, injection_is_one_argument);
	tcase_add_test(run, random_bytes_are_one_argument);
	tcase_add_test(run, too_long_command_is_an_error);
	tcase_add_test(run, environment_is_clean);
	tcase_add_test(run, workdir_logs_and_modes);
	tcase_add_test(run, exit_codes_and_signals);
	tcase_add_test(run, leftover_processes_are_killed);
	tcase_add_test(run, max_parallel_is_respected);
	tcase_add_test(run, queue_full_and_duplicates);
	tcase_add_test(run, bad_requests);
	tcase_add_test(run, config_errors);
	tcase_add_test(run, input_files_are_copied);
	tcase_add_test(run, input_errors);
	tcase_add_test(run, data_uris);
	tcase_add_test(run, payload_input);
	tcase_add_test(run, input_downloads);
	tcase_add_test(run, stop_aborts_a_download);
	tcase_add_test(run, recorded_status_is_not_rerun);
	tcase_add_test(run, stop_kills_the_process_group);
	tcase_add_test(run, stop_waits_for_a_quick_finish);
	tcase_add_test(run, no_descriptor_leaks);
	tcase_add_test(run, trusted_files_are_copied);
	tcase_add_test(run, timeout_kills_the_group);
	tcase_add_test(run, started_is_called_once_before_done);
	tcase_add_test(run, metadata_is_merged);
	tcase_add_test(run, metadata_random_lines);
	tcase_add_test(run, crash_adopts_a_running_command);
	tcase_add_test(run, crash_exit_already_there);
	tcase_add_test(run, crash_killed_command_fails);
	tcase_add_test(run, crash_stop_kills_an_adopted_command);
	tcase_add_test(run, stale_pid_runs_again);
	tcase_add_test(run, supervisor_keeps_no_descriptor);
	suite_add_tcase(s, run);
	return s;
}

UNIT_MAIN(local_suite)
