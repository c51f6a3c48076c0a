/*
 * local.c — the local backend: step commands as child processes.
 *
 * A request is turned into a `struct job` at once (everything copied,
 * parameters checked, command rendered, environment built), queued, and
 * run by one of max_parallel worker threads: folder (or the adoption of
 * what a killed server left running: resume()), execution.json, inputs,
 * the supervisor (a fork, which runs /bin/sh with posix_spawn: see
 * "running"), waitid for the supervisor, status.json, then the done
 * callback.  Workers sleep on a condition variable and in waitid() (or
 * poll() on a pidfd when there is a timeout or the process is adopted);
 * trig_local_stop() sleeps on another condition variable.
 *
 * Killing a process group is only safe while its leader is known to exist
 * (otherwise its id may have been reused).  So a worker first waits with
 * WNOWAIT, which leaves the leader (the supervisor) a zombie holding its
 * id, marks the job exited under the lock, kills what the command left
 * behind in its group, and only then reaps the leader; trig_local_stop()
 * and the timeout signal only groups whose leader is not marked exited,
 * under the same lock.  An adopted supervisor is not our child: its pidfd
 * tells whether it has ended before its group is signalled.
 *
 * trig_local_metadata() (at the end) merges the JSON objects of a log.
 */
#include "local.h"

#include "fileio.h"
#include "json.h"
#include "json_iter.h"
#include "log.h"
#include "shquote.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MAX_QUEUE       10000
#define DEFAULT_PATH            "/usr/local/bin:/usr/bin:/bin"
#define DEFAULT_LANG            "C.UTF-8"
#define DEFAULT_MAX_INPUT       (10ULL << 30)
#define DEFAULT_CONNECT_MS      30000
#define DEFAULT_STALL_MS        60000
#define DEFAULT_KILL_AFTER_MS   5000
#define MAX_PARALLEL            1024
#define MAX_ID_LEN              128
#define MAX_INPUT_NAME_LEN      128
#define MAX_FILE_NAME_LEN       200
/* Linux's MAX_ARG_STRLEN: the longest single argv string (the command). */
#define MAX_COMMAND_LEN         (32 * 4096 - 1)
#define MAX_STATUS_FILE         65536
#define MAX_TREE_DEPTH          64
#define COPY_CHUNK              (8 << 20)

struct trig_local {
	char *executions_dir;           /* absolute */
	char *workdir;
	char *workdir_real;             /* realpath, for the openat2 fallback */
	int workdir_fd, execs_fd;
	unsigned max_parallel;
	size_t max_queue;
	char *path, *home, *lang;
	char *data_dir;                 /* dataset://, model://, datum://; NULL: none */
	uint64_t max_input_bytes;
	int64_t connect_timeout_ms, stall_timeout_ms, kill_after_ms;

	pthread_mutex_t mu;
	pthread_cond_t work;            /* a job was queued, or stopping */
	pthread_cond_t idle;            /* an execution ended */
	struct job *head, *tail;        /* queue */
	size_t nqueued;
	unsigned nrunning;              /* in execute(): workers and trig_local_run() */
	struct job *active;             /* every job from submit to done */
	struct job **byid;              /* the same, hashed by id (chains through hnext) */
	size_t nbyid, nactive;          /* buckets (a power of two), jobs */
	bool stopping;
	atomic_int kill_sig;            /* 0, SIGTERM or SIGKILL once stop() kills */
	pthread_t *workers;
	unsigned nworkers;
};

struct kvcopy {
	char *name, *value;
};

struct job {
	struct job *next;                       /* queue */
	struct job *aprev, *anext;              /* l->active */
	struct job *hnext;                      /* l->byid's chain */
	char *id, *launch_id, *trigger, *step_name, *title, *commit;
	char *dir;                              /* absolute */
	char *command;                          /* NULL when error */
	char *error;                            /* found while preparing */
	struct kvcopy *params;                  /* final values, step order */
	size_t nparams;
	struct kvcopy *inputs;                  /* name -> source, grouped by name */
	size_t ninputs;
	struct kvcopy *files;                   /* name -> trusted absolute path */
	size_t nfiles;
	int64_t timeout_ms;                     /* 0: none */
	trig_exec_started_fn *started;
	char **envp;                            /* "NAME=VALUE", NULL-terminated */
	size_t nenv;
	char *payload_input;
	char *payload;
	size_t payload_len;
	int64_t created_ms;
	trig_exec_done_fn *done;
	void *ctx;
	/* under l->mu */
	pid_t pid;                              /* > 0 once spawned or adopted */
	bool exited;                            /* leader is a zombie or reaped */
	bool killed;                            /* trig_local_stop() signalled its group */
	bool timed_out;                         /* the timeout signalled its group */
	/* set before pid, then read-only */
	bool adopted;                           /* pid is not our child */
	int pidfd;                              /* -1: none */
	unsigned long long start_ticks;         /* adopted: /proc/PID/stat field 22 */
};

/* What became of an execution. */
struct outcome {
	int status;
	int exit_code, signal;
	int64_t started_ms, ended_ms, duration_ms;
	struct buf error;
	bool recorded;
};

/* ------------------------------------------------------------ small helpers */

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "2026-01-02T03:04:05.678Z" */
static void format_time(char out[32], int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	if (ms < 0 || !gmtime_r(&s, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm)) {
		strcpy(out, "1970-01-01T00:00:00.000Z");
		return;
	}
	size_t n = strlen(out);
	snprintf(out + n, 32 - n, ".%03dZ", (int)(ms % 1000));
}

/* Reads back what format_time() wrote. */
static int parse_time(const char *s, int64_t *ms)
{
	struct tm tm;
	int frac, end = 0;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &frac, &end) != 7 || end == 0 || s[end])
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}

/* Request text in a message: printable ASCII only, at most 48 bytes. */
static void add_excerpt(struct buf *b, const char *s)
{
	size_t n = 0;
	for (; *s && n < 48; s++, n++) {
		unsigned char c = (unsigned char)*s;
		buf_addc(b, c >= 0x20 && c < 0x7f && c != '\'' ? (char)c : '?');
	}
	if (*s)
		buf_adds(b, "...");
}

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

static bool is_alnum(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool valid_id(const char *s)
{
	size_t n = 0;
	if (!s || !is_alnum(*s))
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= MAX_ID_LEN)
			return false;
		if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

/* [A-Za-z_][A-Za-z0-9_]* */
static bool valid_env_name(const char *s)
{
	if (!s || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* An input name becomes a folder name: [A-Za-z0-9_][A-Za-z0-9_.-]* */
static bool valid_input_name(const char *s)
{
	size_t n = 0;
	if (!s || !(is_alnum(*s) || *s == '_'))
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		if (n >= MAX_INPUT_NAME_LEN)
			return false;
		if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
			return false;
	}
	return true;
}

/* buf_detach(), but always a terminated string, "" for an empty buffer
 * (buf.c's buf_grow() does not terminate a fresh allocation). */
static char *detach_str(struct buf *b)
{
	if (!b->len) {
		buf_release(b);
		return trig_xstrdup("");
	}
	return buf_detach(b);
}

static char *xstrdup_or_null(const char *s)
{
	return s ? trig_xstrdup(s) : NULL;
}

/* Removes dfd/name and everything under it, never following a link. */
static int remove_tree(int dfd, const char *name, int depth)
{
	if (depth > MAX_TREE_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		if (errno == ENOTDIR || errno == ELOOP)
			return unlinkat(dfd, name, 0);
		return -1;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(fd, e->d_name, 0) == 0)
			continue;
		if (errno == EISDIR) {
			if (remove_tree(fd, e->d_name, depth + 1) < 0)
				rc = -1;
		} else if (errno != ENOENT) {
			rc = -1;
		}
	}
	closedir(d);
	if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

/* ------------------------------------------------------------ parameters */

static bool parse_flag(const char *s, bool *on)
{
	static const char *const yes[] = { "true", "yes", "1" };
	static const char *const no[] = { "false", "no", "0" };
	for (size_t i = 0; i < 3; i++) {
		if (!strcasecmp(s, yes[i])) {
			*on = true;
			return true;
		}
		if (!strcasecmp(s, no[i])) {
			*on = false;
			return true;
		}
	}
	return false;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* [+-]?[0-9]+ */
static bool is_integer(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (!is_digit(*s))
		return false;
	while (is_digit(*s))
		s++;
	return *s == 0;
}

/* [+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)? */
static bool is_float(const char *s)
{
	bool digits = false;
	if (*s == '+' || *s == '-')
		s++;
	while (is_digit(*s))
		s++, digits = true;
	if (*s == '.') {
		s++;
		while (is_digit(*s))
			s++, digits = true;
	}
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!is_digit(*s))
			return false;
		while (is_digit(*s))
			s++;
	}
	return *s == 0;
}

static const char *type_name(enum trig_param_type t)
{
	switch (t) {
	case TRIG_PARAM_INTEGER: return "an integer";
	case TRIG_PARAM_FLOAT: return "a number";
	case TRIG_PARAM_FLAG: return "a flag (true or false)";
	default: return "a string";
	}
}

/*
 * The final value of every parameter of the step, in step order: the
 * request's value, else the default; NULL when it has none.  Flags become
 * "true" or "false".  Returns 0, or -1 with a message in err.
 */
static int resolve_params(const struct trig_step *step, const struct trig_kv *kv, size_t n,
			  const char **values, struct buf *err)
{
	for (size_t j = 0; j < n; j++) {
		uint32_t i;
		if (!kv[j].name) {
			buf_adds(err, "parameter without a name");
			return -1;
		}
		for (i = 0; i < step->nparams; i++)
			if (step->params[i].name && !strcmp(step->params[i].name, kv[j].name))
				break;
		if (i == step->nparams) {
			buf_adds(err, "unknown parameter '");
			add_excerpt(err, kv[j].name);
			buf_printf(err, "' for step '%s'", step->name ? step->name : "");
			return -1;
		}
	}
	for (uint32_t i = 0; i < step->nparams; i++) {
		const struct trig_param *p = &step->params[i];
		const char *v = NULL;
		if (!p->name) {
			buf_printf(err, "step '%s' has a parameter without a name",
				   step->name ? step->name : "");
			return -1;
		}
		for (size_t j = 0; j < n; j++)
			if (kv[j].value && !strcmp(kv[j].name, p->name))
				v = kv[j].value;
		if (!v)
			v = p->default_value;
		values[i] = v;
		if (!v) {
			if (p->type == TRIG_PARAM_FLAG || p->optional)
				continue;
			buf_printf(err, "parameter '%s' has no value", p->name);
			return -1;
		}
		bool ok = true, on;
		switch (p->type) {
		case TRIG_PARAM_INTEGER:
			ok = is_integer(v);
			break;
		case TRIG_PARAM_FLOAT:
			ok = is_float(v);
			break;
		case TRIG_PARAM_FLAG:
			ok = parse_flag(v, &on);
			if (ok)
				values[i] = on ? "true" : "false";
			break;
		default:
			break;
		}
		if (!ok) {
			buf_printf(err, "parameter '%s': value '", p->name);
			add_excerpt(err, v);
			buf_printf(err, "' is not %s", type_name(p->type));
			return -1;
		}
	}
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Appends one shell word, separated from what *nwords counted before. */
static void add_word(struct buf *out, const char *s, size_t len, unsigned *nwords)
{
	if ((*nwords)++)
		buf_addc(out, ' ');
	trig_sh_quote(out, s, len);
}

/*
 * One parameter as command-line words (valohai-yaml Parameter.format_cli):
 * nothing without a value or for a false flag; else the pass-as pattern
 * (default --{name}={value}, --{name} for flags) split on white space,
 * {name}, {value} and {v} substituted, each piece one quoted word.
 */
static void render_param(struct buf *out, const struct trig_param *p, const char *value,
			 unsigned *nwords)
{
	if (!value || (p->type == TRIG_PARAM_FLAG && strcmp(value, "true")))
		return;
	const char *pat = p->pass_as && *p->pass_as ? p->pass_as :
			  p->type == TRIG_PARAM_FLAG ? "--{name}" : "--{name}={value}";
	struct buf word = BUF_INIT;
	const char *s = pat;
	for (;;) {
		while (is_space(*s))
			s++;
		if (!*s)
			break;
		buf_reset(&word);
		while (*s && !is_space(*s)) {
			if (!strncmp(s, "{name}", 6)) {
				buf_adds(&word, p->name);
				s += 6;
			} else if (!strncmp(s, "{value}", 7)) {
				buf_adds(&word, value);
				s += 7;
			} else if (!strncmp(s, "{v}", 3)) {
				buf_adds(&word, value);
				s += 3;
			} else {
				buf_addc(&word, *s++);
			}
		}
		add_word(out, buf_cstr(&word), word.len, nwords);
	}
	buf_release(&word);
}

static int find_param(const struct trig_step *step, const char *name, size_t len)
{
	for (uint32_t i = 0; i < step->nparams; i++)
		if (strlen(step->params[i].name) == len && !memcmp(step->params[i].name, name, len))
			return (int)i;
	return -1;
}

/* Expands the text between { and }; false: not ours, leave it as is. */
static bool expand(struct buf *out, const char *g, size_t len, const struct trig_step *step,
		   const char **values)
{
	unsigned nwords = 0;
	int i;
	if ((len == 10 && !memcmp(g, "parameters", 10)) || (len == 6 && !memcmp(g, "params", 6))) {
		for (uint32_t k = 0; k < step->nparams; k++)
			render_param(out, &step->params[k], values[k], &nwords);
		return true;
	}
	/* SPEC.md 2.0: {parameter:NAME} is the value, as {parameter-value:NAME}
	 * (valohai-yaml makes the former --NAME=VALUE; trig follows its spec). */
	size_t skip = len > 10 && !memcmp(g, "parameter:", 10) ? 10
		    : len > 16 && !memcmp(g, "parameter-value:", 16) ? 16 : 0;
	if (skip) {
		if ((i = find_param(step, g + skip, len - skip)) < 0 || !values[i])
			return false;
		add_word(out, values[i], strlen(values[i]), &nwords);
		return true;
	}
	return false;
}

/*
 * valohai-yaml's build_command: every match of the regular expression
 * \{(.+?)\} (shortest, not across a newline) is expanded when it names an
 * interpolation and left as is otherwise; scanning goes on after the match.
 */
static void interpolate(struct buf *out, const char *cmd, const struct trig_step *step,
			const char **values)
{
	const char *p = cmd;
	while (*p) {
		if (*p != '{') {
			const char *q = strchr(p, '{');
			size_t n = q ? (size_t)(q - p) : strlen(p);
			buf_add(out, p, n);
			p += n;
			continue;
		}
		const char *q = p + 1;
		if (*q && *q != '\n') {
			q++;
			while (*q && *q != '}' && *q != '\n')
				q++;
		}
		if (q == p + 1 || *q != '}') {
			buf_addc(out, '{');
			p++;
			continue;
		}
		if (!expand(out, p + 1, (size_t)(q - p - 1), step, values))
			buf_add(out, p, (size_t)(q + 1 - p));
		p = q + 1;
	}
}

int trig_local_render_command(const struct trig_step *step, const struct trig_kv *params,
			      size_t nparams, struct buf *out, char *err, size_t errlen)
{
	if (!step || (nparams && !params)) {
		set_err(err, errlen, "no step to render");
		return -1;
	}
	if (!step->command) {
		set_err(err, errlen, "step '%s' has no command", step->name ? step->name : "");
		return -1;
	}
	const char **values = trig_xcalloc(step->nparams, sizeof(*values));
	struct buf e = BUF_INIT;
	int rc = resolve_params(step, params, nparams, values, &e);
	if (rc == 0)
		interpolate(out, step->command, step, values);
	else
		set_err(err, errlen, "%s", buf_cstr(&e));
	buf_release(&e);
	free(values);
	return rc;
}

/* ------------------------------------------------------------ jobs */

static void job_free(struct job *j)
{
	if (!j)
		return;
	free(j->id);
	free(j->launch_id);
	free(j->trigger);
	free(j->step_name);
	free(j->title);
	free(j->commit);
	free(j->dir);
	free(j->command);
	free(j->error);
	for (size_t i = 0; i < j->nparams; i++) {
		free(j->params[i].name);
		free(j->params[i].value);
	}
	free(j->params);
	for (size_t i = 0; i < j->ninputs; i++) {
		free(j->inputs[i].name);
		free(j->inputs[i].value);
	}
	free(j->inputs);
	for (size_t i = 0; i < j->nfiles; i++) {
		free(j->files[i].name);
		free(j->files[i].value);
	}
	free(j->files);
	for (size_t i = 0; i < j->nenv; i++)
		free(j->envp[i]);
	free(j->envp);
	free(j->payload_input);
	free(j->payload);
	if (j->pidfd >= 0)
		close(j->pidfd);
	free(j);
}

/* Sets NAME=VALUE in the job's environment, replacing an earlier NAME. */
static void env_set(struct job *j, size_t *cap, const char *name, const char *value)
{
	size_t nlen = strlen(name);
	struct buf kv = BUF_INIT;
	buf_adds(&kv, name);
	buf_addc(&kv, '=');
	buf_adds(&kv, value);
	for (size_t i = 0; i < j->nenv; i++) {
		if (!strncmp(j->envp[i], name, nlen) && j->envp[i][nlen] == '=') {
			free(j->envp[i]);
			j->envp[i] = detach_str(&kv);
			return;
		}
	}
	if (j->nenv + 2 > *cap) {
		*cap = *cap ? *cap * 2 : 16;
		j->envp = trig_xrealloc(j->envp, *cap * sizeof(*j->envp));
	}
	j->envp[j->nenv++] = detach_str(&kv);
	j->envp[j->nenv] = NULL;
}

static int build_env(struct trig_local *l, struct job *j, const struct trig_step *step,
		     const struct trig_exec_request *req, struct buf *err)
{
	size_t cap = 0;
	env_set(j, &cap, "PATH", l->path);
	env_set(j, &cap, "HOME", l->home);
	env_set(j, &cap, "LANG", l->lang);
	for (uint32_t i = 0; i < step->nenv; i++) {
		const struct trig_env *e = &step->env[i];
		if (!valid_env_name(e->name)) {
			buf_adds(err, "environment variable '");
			add_excerpt(err, e->name ? e->name : "");
			buf_adds(err, "': not a valid name");
			return -1;
		}
		if (e->value)
			env_set(j, &cap, e->name, e->value);
	}
	for (size_t i = 0; i < req->nenv; i++) {
		if (!valid_env_name(req->env[i].name)) {
			buf_adds(err, "environment variable '");
			add_excerpt(err, req->env[i].name ? req->env[i].name : "");
			buf_adds(err, "': not a valid name");
			return -1;
		}
		if (req->env[i].value)
			env_set(j, &cap, req->env[i].name, req->env[i].value);
	}
	struct buf v = BUF_INIT;
	buf_printf(&v, "%s/inputs", j->dir);
	env_set(j, &cap, "VH_INPUTS_DIR", buf_cstr(&v));
	buf_reset(&v);
	buf_printf(&v, "%s/outputs", j->dir);
	env_set(j, &cap, "VH_OUTPUTS_DIR", buf_cstr(&v));
	env_set(j, &cap, "VH_EXECUTION_ID", j->id);
	buf_release(&v);
	return 0;
}

static void add_input(struct job *j, size_t *cap, const char *name, const char *src)
{
	if (j->ninputs == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		j->inputs = trig_xrealloc(j->inputs, *cap * sizeof(*j->inputs));
	}
	j->inputs[j->ninputs].name = trig_xstrdup(name);
	j->inputs[j->ninputs].value = trig_xstrdup(src);
	j->ninputs++;
}

/* Every input's sources, grouped by input in step order. */
static int resolve_inputs(struct job *j, const struct trig_step *step,
			  const struct trig_exec_request *req, struct buf *err)
{
	size_t cap = 0;
	for (size_t k = 0; k < req->ninputs; k++) {
		uint32_t i;
		if (!req->inputs[k].name) {
			buf_adds(err, "input without a name");
			return -1;
		}
		for (i = 0; i < step->ninputs; i++) {
			const char *name = step->inputs[i].name;
			if (name && !strcmp(name, req->inputs[k].name))
				break;
		}
		if (i == step->ninputs) {
			buf_adds(err, "unknown input '");
			add_excerpt(err, req->inputs[k].name);
			buf_printf(err, "' for step '%s'", step->name ? step->name : "");
			return -1;
		}
	}
	if (req->payload_input && !valid_input_name(req->payload_input)) {
		buf_adds(err, "payload input '");
		add_excerpt(err, req->payload_input);
		buf_adds(err, "': not a valid input name");
		return -1;
	}
	for (uint32_t i = 0; i < step->ninputs; i++) {
		const struct trig_input *in = &step->inputs[i];
		size_t given = 0;
		if (!valid_input_name(in->name)) {
			buf_adds(err, "input '");
			add_excerpt(err, in->name ? in->name : "");
			buf_adds(err, "': not a valid input name");
			return -1;
		}
		for (size_t k = 0; k < req->ninputs; k++) {
			if (strcmp(req->inputs[k].name, in->name))
				continue;
			const char *src = req->inputs[k].value;
			if (!src || !*src) {
				buf_printf(err, "input '%s': empty value", in->name);
				return -1;
			}
			add_input(j, &cap, in->name, src);
			given++;
		}
		if (!given) {
			for (uint32_t d = 0; d < in->ndefaults; d++) {
				if (!in->defaults[d] || !*in->defaults[d])
					continue;
				add_input(j, &cap, in->name, in->defaults[d]);
				given++;
			}
		}
		bool payload = req->payload_input && !strcmp(req->payload_input, in->name);
		if (!given && !payload && !in->optional) {
			buf_printf(err, "input '%s' has no value", in->name);
			return -1;
		}
	}
	return 0;
}

/* The request's trusted files: valid input names, absolute paths. */
static int copy_files_list(struct job *j, const struct trig_exec_request *req, struct buf *err)
{
	if (!req->nfiles)
		return 0;
	j->files = trig_xcalloc(req->nfiles, sizeof(*j->files));
	for (size_t i = 0; i < req->nfiles; i++) {
		const struct trig_kv *f = &req->files[i];
		if (!valid_input_name(f->name)) {
			buf_adds(err, "file for input '");
			add_excerpt(err, f->name ? f->name : "");
			buf_adds(err, "': not a valid input name");
			return -1;
		}
		if (!f->value || f->value[0] != '/') {
			buf_printf(err, "file for input '%s': not an absolute path", f->name);
			return -1;
		}
		j->files[j->nfiles].name = trig_xstrdup(f->name);
		j->files[j->nfiles].value = trig_xstrdup(f->value);
		j->nfiles++;
	}
	return 0;
}

/* Copies a request into a job.  NULL with errno EINVAL for a malformed
 * request; problems with values are kept in job->error. */
static struct job *job_new(struct trig_local *l, const struct trig_exec_request *req)
{
	if (!req || !valid_id(req->id) || !req->step || (req->nparams && !req->params) ||
	    (req->ninputs && !req->inputs) || (req->nenv && !req->env) ||
	    (req->payload_len && !req->payload) || (req->nfiles && !req->files) ||
	    req->timeout_ms < 0) {
		errno = EINVAL;
		return NULL;
	}
	const struct trig_step *step = req->step;
	struct job *j = trig_xcalloc(1, sizeof(*j));
	j->pidfd = -1;
	j->id = trig_xstrdup(req->id);
	j->launch_id = xstrdup_or_null(req->launch_id);
	j->trigger = xstrdup_or_null(req->trigger);
	j->step_name = trig_xstrdup(step->name ? step->name : "");
	j->title = xstrdup_or_null(req->title);
	j->commit = xstrdup_or_null(req->commit);
	j->created_ms = clock_ms(CLOCK_REALTIME);
	j->timeout_ms = req->timeout_ms;
	j->started = req->started;
	struct buf b = BUF_INIT;
	buf_printf(&b, "%s/%s", l->executions_dir, j->id);
	j->dir = detach_str(&b);
	if (req->payload_input) {
		j->payload_input = trig_xstrdup(req->payload_input);
		j->payload = trig_xmalloc(req->payload_len);
		if (req->payload_len)
			memcpy(j->payload, req->payload, req->payload_len);
		j->payload_len = req->payload_len;
	}

	struct buf err = BUF_INIT;
	const char **values = trig_xcalloc(step->nparams, sizeof(*values));
	if (!step->command) {
		buf_printf(&err, "step '%s' has no command", j->step_name);
	} else if (resolve_params(step, req->params, req->nparams, values, &err) == 0) {
		j->params = trig_xcalloc(step->nparams, sizeof(*j->params));
		for (uint32_t i = 0; i < step->nparams; i++) {
			if (!values[i])
				continue;
			j->params[j->nparams].name = trig_xstrdup(step->params[i].name);
			j->params[j->nparams].value = trig_xstrdup(values[i]);
			j->nparams++;
		}
		interpolate(&b, step->command, step, values);
		if (b.len > MAX_COMMAND_LEN)
			buf_printf(&err, "command too long: %zu bytes rendered, at most %d",
				   b.len, MAX_COMMAND_LEN);
		j->command = detach_str(&b);
	}
	free(values);
	if (!err.len)
		resolve_inputs(j, step, req, &err);
	if (!err.len)
		copy_files_list(j, req, &err);
	if (!err.len)
		build_env(l, j, step, req, &err);
	if (err.len)
		j->error = detach_str(&err);
	buf_release(&err);
	return j;
}

/* ------------------------------------------------------------ records */

static void json_field(struct buf *b, const char *key, const char *value)
{
	buf_printf(b, ",\"%s\":", key);
	buf_json_cstr(b, value);
}

/* A URL without its user:password and query, which may hold credentials
 * or signatures; other text as is. */
static void add_redacted_source(struct buf *b, const char *src)
{
	CURLU *u = strstr(src, "://") ? curl_url() : NULL;
	char *s = NULL, *q = NULL;
	if (u && curl_url_set(u, CURLUPART_URL, src, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK) {
		curl_url_set(u, CURLUPART_USER, NULL, 0);
		curl_url_set(u, CURLUPART_PASSWORD, NULL, 0);
		if (curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK)
			curl_url_set(u, CURLUPART_QUERY, "redacted", 0);
		if (curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK)
			s = NULL;
	}
	if (s)
		buf_json_cstr(b, s);
	else if (u)
		buf_json_cstr(b, "(invalid URL)");
	else
		buf_json_cstr(b, src);
	curl_free(s);
	curl_free(q);
	curl_url_cleanup(u);
}

static int write_execution_json(int dfd, const struct job *j)
{
	struct buf b = BUF_INIT;
	char t[32];
	buf_adds(&b, "{\"id\":");
	buf_json_cstr(&b, j->id);
	json_field(&b, "launch", j->launch_id);
	json_field(&b, "trigger", j->trigger);
	json_field(&b, "step", j->step_name);
	json_field(&b, "title", j->title);
	json_field(&b, "commit", j->commit);
	buf_adds(&b, ",\"parameters\":{");
	for (size_t i = 0; i < j->nparams; i++) {
		if (i)
			buf_addc(&b, ',');
		buf_json_cstr(&b, j->params[i].name);
		buf_addc(&b, ':');
		buf_json_cstr(&b, j->params[i].value);
	}
	buf_adds(&b, "},\"inputs\":{");
	for (size_t i = 0; i < j->ninputs; i++) {
		bool first = i == 0 || strcmp(j->inputs[i - 1].name, j->inputs[i].name);
		if (first) {
			if (i)
				buf_adds(&b, "],");
			buf_json_cstr(&b, j->inputs[i].name);
			buf_adds(&b, ":[");
		} else {
			buf_addc(&b, ',');
		}
		add_redacted_source(&b, j->inputs[i].value);
	}
	buf_adds(&b, j->ninputs ? "]}" : "}");
	if (j->nfiles) {
		buf_adds(&b, ",\"files\":[");
		for (size_t i = 0; i < j->nfiles; i++) {
			buf_adds(&b, i ? ",[" : "[");
			buf_json_cstr(&b, j->files[i].name);
			buf_addc(&b, ',');
			buf_json_cstr(&b, j->files[i].value);
			buf_addc(&b, ']');
		}
		buf_addc(&b, ']');
	}
	json_field(&b, "payload_input", j->payload_input);
	buf_adds(&b, ",\"environment\":[");
	for (size_t i = 0; i < j->nenv; i++) {
		const char *eq = strchr(j->envp[i], '=');
		if (i)
			buf_addc(&b, ',');
		buf_json_str(&b, j->envp[i], (size_t)(eq - j->envp[i]));
	}
	buf_addc(&b, ']');
	json_field(&b, "command", j->command);
	format_time(t, j->created_ms);
	json_field(&b, "created", t);
	buf_adds(&b, "}\n");
	int rc = trig_write_file_at(dfd, "execution.json", b.data, b.len, false);
	buf_release(&b);
	return rc;
}

static int write_status_json(int dfd, const struct job *j, const struct outcome *o)
{
	struct buf b = BUF_INIT;
	char t[32];
	buf_adds(&b, "{\"id\":");
	buf_json_cstr(&b, j->id);
	json_field(&b, "status", trig_exec_status_name(o->status));
	if (o->exit_code >= 0)
		buf_printf(&b, ",\"exit_code\":%d", o->exit_code);
	else
		buf_adds(&b, ",\"exit_code\":null");
	if (o->signal > 0)
		buf_printf(&b, ",\"signal\":%d", o->signal);
	else
		buf_adds(&b, ",\"signal\":null");
	json_field(&b, "error", o->error.len ? o->error.data : NULL);
	format_time(t, o->started_ms);
	json_field(&b, "started", t);
	format_time(t, o->ended_ms);
	json_field(&b, "ended", t);
	buf_printf(&b, ",\"duration_ms\":%lld}\n", (long long)o->duration_ms);
	/* Durable, unlike the rest of an attempt: it is what a resumed launch
	 * trusts (local.h). */
	int rc = trig_write_file_at(dfd, "status.json", b.data, b.len, true);
	buf_release(&b);
	return rc;
}

/* The JSON of status.json, read back: a flat object of strings, integers
 * and null.  Enough JSON for what write_status_json() writes (and what a
 * person editing the file by hand might write). */
struct jscan {
	const char *p, *end;
};

static void js_ws(struct jscan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int js_hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

static void utf8_put(struct buf *b, unsigned cp)
{
	if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		buf_addc(b, (char)(0xC0 | (cp >> 6)));
		buf_addc(b, (char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		buf_addc(b, (char)(0xE0 | (cp >> 12)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		buf_addc(b, (char)(0x80 | (cp & 0x3F)));
	} else {
		buf_addc(b, (char)(0xF0 | (cp >> 18)));
		buf_addc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
		buf_addc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
		buf_addc(b, (char)(0x80 | (cp & 0x3F)));
	}
}

static int js_string(struct jscan *s, struct buf *out)
{
	if (s->p >= s->end || *s->p != '"')
		return -1;
	s->p++;
	while (s->p < s->end && *s->p != '"') {
		char c = *s->p++;
		if ((unsigned char)c < 0x20)
			return -1;
		if (c != '\\') {
			buf_addc(out, c);
			continue;
		}
		if (s->p >= s->end)
			return -1;
		c = *s->p++;
		switch (c) {
		case '"': case '\\': case '/': buf_addc(out, c); break;
		case 'b': buf_addc(out, '\b'); break;
		case 'f': buf_addc(out, '\f'); break;
		case 'n': buf_addc(out, '\n'); break;
		case 'r': buf_addc(out, '\r'); break;
		case 't': buf_addc(out, '\t'); break;
		case 'u': {
			unsigned cp, lo;
			if (s->end - s->p < 4 || js_hex4(s->p, &cp) < 0)
				return -1;
			s->p += 4;
			if (cp >= 0xD800 && cp < 0xDC00 && s->end - s->p >= 6 &&
			    s->p[0] == '\\' && s->p[1] == 'u' && js_hex4(s->p + 2, &lo) == 0 &&
			    lo >= 0xDC00 && lo < 0xE000) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				s->p += 6;
			} else if (cp >= 0xD800 && cp < 0xE000) {
				cp = 0xFFFD;
			}
			if (cp == 0)
				cp = 0xFFFD;
			utf8_put(out, cp);
			break;
		}
		default:
			return -1;
		}
	}
	if (s->p >= s->end)
		return -1;
	s->p++;
	return 0;
}

/* A value: string into str (is_str set), integer into *num, or null. */
static int js_value(struct jscan *s, struct buf *str, bool *is_str, long long *num, bool *is_null)
{
	*is_str = *is_null = false;
	js_ws(s);
	if (s->p < s->end && *s->p == '"') {
		*is_str = true;
		return js_string(s, str);
	}
	if (s->end - s->p >= 4 && !memcmp(s->p, "null", 4)) {
		s->p += 4;
		*is_null = true;
		return 0;
	}
	char tmp[32];
	size_t n = 0;
	while (s->p < s->end && n < sizeof(tmp) - 1 && (*s->p == '-' || is_digit(*s->p)))
		tmp[n++] = *s->p++;
	tmp[n] = 0;
	if (!n)
		return -1;
	char *e;
	errno = 0;
	*num = strtoll(tmp, &e, 10);
	return *e || errno ? -1 : 0;
}

static int read_status_json(int dfd, struct outcome *o)
{
	int fd = openat(dfd, "status.json", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	char *data = trig_xmalloc(MAX_STATUS_FILE);
	size_t len = 0;
	for (;;) {
		ssize_t r = read(fd, data + len, MAX_STATUS_FILE - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == MAX_STATUS_FILE)
			break;
	}
	close(fd);
	struct jscan s = { data, data + len };
	struct buf key = BUF_INIT, str = BUF_INIT;
	int rc = -1, status = -1;
	bool have_started = false, have_ended = false;
	o->exit_code = -1;
	o->signal = 0;
	js_ws(&s);
	if (s.p >= s.end || *s.p++ != '{')
		goto out;
	for (;;) {
		bool is_str, is_null;
		long long num = 0;
		js_ws(&s);
		buf_reset(&key);
		buf_reset(&str);
		if (js_string(&s, &key) < 0)
			goto out;
		js_ws(&s);
		if (s.p >= s.end || *s.p++ != ':')
			goto out;
		if (js_value(&s, &str, &is_str, &num, &is_null) < 0)
			goto out;
		const char *k = buf_cstr(&key);
		if (!strcmp(k, "status") && is_str) {
			for (int i = TRIG_EXEC_COMPLETED; i <= TRIG_EXEC_STOPPED; i++)
				if (!strcmp(buf_cstr(&str), trig_exec_status_name(i)))
					status = i;
		} else if (!strcmp(k, "exit_code") && !is_str && !is_null) {
			o->exit_code = num >= 0 && num <= 255 ? (int)num : -1;
		} else if (!strcmp(k, "signal") && !is_str && !is_null) {
			o->signal = num > 0 && num < 128 ? (int)num : 0;
		} else if (!strcmp(k, "error") && is_str) {
			buf_reset(&o->error);
			buf_add(&o->error, buf_cstr(&str), str.len);
		} else if (!strcmp(k, "started") && is_str) {
			have_started = parse_time(buf_cstr(&str), &o->started_ms) == 0;
		} else if (!strcmp(k, "ended") && is_str) {
			have_ended = parse_time(buf_cstr(&str), &o->ended_ms) == 0;
		} else if (!strcmp(k, "duration_ms") && !is_str && !is_null) {
			o->duration_ms = num;
		}
		js_ws(&s);
		if (s.p < s.end && *s.p == ',') {
			s.p++;
			continue;
		}
		if (s.p < s.end && *s.p == '}')
			break;
		goto out;
	}
	if (status >= 0 && have_started && have_ended) {
		o->status = status;
		rc = 0;
	}
out:
	buf_release(&key);
	buf_release(&str);
	free(data);
	return rc;
}

/* ------------------------------------------------------------ inputs */

/* The file name for a download: the URL path's last segment, decoded and
 * reduced to A-Za-z0-9._+- (others become '_'), no leading dot. */
static char *download_name(CURL *c, const char *url)
{
	CURLU *u = curl_url();
	char *path = NULL;
	struct buf b = BUF_INIT;
	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK) {
		const char *seg = strrchr(path, '/');
		seg = seg ? seg + 1 : path;
		int n = 0;
		char *dec = curl_easy_unescape(c, seg, 0, &n);
		for (int i = 0; dec && i < n && b.len < MAX_FILE_NAME_LEN; i++) {
			unsigned char ch = (unsigned char)dec[i];
			bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
				  (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '+' ||
				  (ch == '.' && b.len > 0);
			buf_addc(&b, ok ? (char)ch : '_');
		}
		curl_free(dec);
	}
	curl_free(path);
	curl_url_cleanup(u);
	if (!b.len)
		buf_adds(&b, "download");
	return detach_str(&b);
}

/* Moves tmp to name in dfd without replacing a file: name, 2-name, ... */
static int place_file(int dfd, const char *tmp, const char *name)
{
	struct buf b = BUF_INIT;
	int rc = -1;
	for (unsigned i = 1; i < 10000; i++) {
		buf_reset(&b);
		if (i > 1)
			buf_printf(&b, "%u-", i);
		buf_adds(&b, name);
		if (renameat2(dfd, tmp, dfd, b.data, RENAME_NOREPLACE) == 0) {
			rc = 0;
			break;
		}
		if (errno == EEXIST)
			continue;
		if (errno == EINVAL || errno == ENOSYS) {
			/* A file system without RENAME_NOREPLACE: only this
			 * execution writes to the folder, so check, then rename. */
			if (faccessat(dfd, b.data, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
				continue;
			rc = renameat(dfd, tmp, dfd, b.data);
		}
		break;
	}
	buf_release(&b);
	return rc;
}

struct download {
	struct trig_local *l;
	int fd;
	uint64_t bytes, cap;
	bool too_big;
	int write_errno;
};

static size_t download_write(char *p, size_t size, size_t n, void *ud)
{
	struct download *d = ud;
	size_t len = size * n;
	if (d->bytes + len > d->cap) {
		d->too_big = true;
		return 0;
	}
	if (trig_write_all(d->fd, p, len) < 0) {
		d->write_errno = errno;
		return 0;
	}
	d->bytes += len;
	return len;
}

static int download_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
			     curl_off_t ulnow)
{
	struct download *d = ud;
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return atomic_load(&d->l->kill_sig) ? 1 : 0;
}

static int download(struct trig_local *l, int idfd, const char *name, const char *url,
		    struct buf *err)
{
	static const char tmp[] = ".download.part";
	CURL *c = curl_easy_init();
	if (!c) {
		buf_printf(err, "input '%s': cannot start a download", name);
		return -1;
	}
	char ebuf[CURL_ERROR_SIZE] = "";
	struct download d = { l, -1, 0, l->max_input_bytes, false, 0 };
	int rc = -1;
	char *fname = NULL;
	d.fd = openat(idfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (d.fd < 0) {
		buf_printf(err, "input '%s': cannot create a file: %s", name, strerror(errno));
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)l->connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)((l->stall_timeout_ms + 999) / 1000));
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)d.cap);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, download_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, download_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, &d);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "trig-local");
	CURLcode res = curl_easy_perform(c);
	if (res == CURLE_OK) {
		int fd = d.fd, e = 0;
		d.fd = -1;
		if (close(fd) < 0)
			e = errno;
		if (e) {
			buf_printf(err, "input '%s': cannot write the file: %s", name, strerror(e));
			goto out;
		}
	} else {
		if (d.too_big || res == CURLE_FILESIZE_EXCEEDED)
			buf_printf(err, "input '%s': download larger than %llu bytes", name,
				   (unsigned long long)d.cap);
		else if (d.write_errno)
			buf_printf(err, "input '%s': cannot write the file: %s", name,
				   strerror(d.write_errno));
		else if (res == CURLE_ABORTED_BY_CALLBACK)
			buf_printf(err, "input '%s': download stopped", name);
		else
			buf_printf(err, "input '%s': download failed: %s", name,
				   *ebuf ? ebuf : curl_easy_strerror(res));
		goto out;
	}
	fname = download_name(c, url);
	if (place_file(idfd, tmp, fname) < 0) {
		buf_printf(err, "input '%s': cannot name the file: %s", name, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (d.fd >= 0)
		close(d.fd);
	if (rc < 0)
		unlinkat(idfd, tmp, 0);
	free(fname);
	curl_easy_cleanup(c);
	return rc;
}

/*
 * Opens path, relative to the workdir, for reading, refusing anything that
 * resolves outside it (absolute paths, "..", symbolic links): openat2's
 * RESOLVE_BENEATH, or realpath and a prefix check where the kernel lacks
 * openat2 (Linux < 5.6).
 */
static int open_beneath(struct trig_local *l, const char *path)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	struct open_how how;
	memset(&how, 0, sizeof(how));
	how.flags = flags;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
	long fd = syscall(SYS_openat2, l->workdir_fd, path, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return (int)fd;
	if (path[0] == '/') {
		errno = EXDEV;
		return -1;
	}
	struct buf full = BUF_INIT;
	buf_printf(&full, "%s/%s", l->workdir, path);
	char *real = realpath(full.data, NULL);
	buf_release(&full);
	if (!real)
		return -1;
	size_t n = strlen(l->workdir_real);
	int rc;
	if (strncmp(real, l->workdir_real, n) || (real[n] != '/' && !(n == 1 && real[0] == '/'))) {
		errno = EXDEV;
		rc = -1;
	} else {
		rc = open(real, flags | O_NOFOLLOW);
	}
	free(real);
	return rc;
}

static int copy_fd(struct trig_local *l, int idfd, const char *name, int in, const char *path,
		   struct buf *err);

static int copy_input(struct trig_local *l, int idfd, const char *name, const char *path,
		      struct buf *err)
{
	int in = open_beneath(l, path);
	if (in < 0) {
		buf_printf(err, "input '%s': ", name);
		if (errno == EXDEV) {
			buf_adds(err, "path '");
			add_excerpt(err, path);
			buf_adds(err, "' is outside the workdir");
		} else {
			int e = errno;
			buf_adds(err, "cannot open '");
			add_excerpt(err, path);
			buf_printf(err, "': %s", strerror(e));
		}
		return -1;
	}
	return copy_fd(l, idfd, name, in, path, err);
}

/* A trusted absolute path (not request text: named in full in messages). */
static int copy_file(struct trig_local *l, int idfd, const char *name, const char *path,
		     struct buf *err)
{
	int in = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (in < 0) {
		buf_printf(err, "input '%s': cannot open '%s': %s", name, path, strerror(errno));
		return -1;
	}
	return copy_fd(l, idfd, name, in, path, err);
}

/* Copies the open file in (closed here) to inputs/NAME/<base name of path>. */
static int copy_fd(struct trig_local *l, int idfd, const char *name, int in, const char *path,
		   struct buf *err)
{
	static const char tmp[] = ".copy.part";
	int out = -1, rc = -1;
	char *chunk = NULL;
	struct stat st;
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		buf_printf(err, "input '%s': '", name);
		add_excerpt(err, path);
		buf_adds(err, "' is not a regular file");
		goto out;
	}
	if ((uint64_t)st.st_size > l->max_input_bytes) {
		buf_printf(err, "input '%s': file larger than %llu bytes", name,
			   (unsigned long long)l->max_input_bytes);
		goto out;
	}
	out = openat(idfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		goto write_error;
	/* copy_file_range (reflinks where the file system has them), else
	 * read and write; the stop flag is checked between chunks. */
	bool plain = false;
	for (;;) {
		ssize_t n;
		if (atomic_load(&l->kill_sig)) {
			buf_printf(err, "input '%s': copy stopped", name);
			goto out;
		}
		if (!plain) {
			n = copy_file_range(in, NULL, out, NULL, COPY_CHUNK, 0);
			if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL ||
				      errno == EOPNOTSUPP || errno == EBADF)) {
				plain = true;
				if (lseek(in, 0, SEEK_SET) < 0 || lseek(out, 0, SEEK_SET) < 0 ||
				    ftruncate(out, 0) < 0)
					goto write_error;
				continue;
			}
		} else {
			if (!chunk)
				chunk = trig_xmalloc(1 << 20);
			n = read(in, chunk, 1 << 20);
			if (n > 0 && trig_write_all(out, chunk, (size_t)n) < 0)
				goto write_error;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto write_error;
		if (n == 0)
			break;
	}
	int o = out;
	out = -1;
	if (close(o) < 0)
		goto write_error;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (place_file(idfd, tmp, base) < 0)
		goto write_error;
	rc = 0;
	goto out;
write_error:;
	int e = errno;
	buf_printf(err, "input '%s': cannot copy '", name);
	add_excerpt(err, path);
	buf_printf(err, "': %s", strerror(e));
out:
	if (rc < 0)
		unlinkat(idfd, tmp, 0);
	if (out >= 0)
		close(out);
	close(in);
	free(chunk);
	return rc;
}

/* The scheme of "scheme://..." (lowercased into out), or false for a path. */
static bool url_scheme(const char *src, char *out, size_t outlen)
{
	const char *sep = strstr(src, "://");
	size_t n = sep ? (size_t)(sep - src) : 0;
	if (!n || n >= outlen)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = src[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (i && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
		if (!ok)
			return false;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[n] = 0;
	return true;
}

/*
 * A Valohai data URI in the local data folder:
 *     dataset://NAME/VERSION   DATA/datasets/NAME/VERSION
 *     model://NAME/VERSION     DATA/models/NAME/VERSION
 *     datum://ID               DATA/datums/ID
 * A folder gives every regular file directly in it (in name order), a
 * file itself.  Each segment is [A-Za-z0-9._+-]+ and neither "." nor "..",
 * so request text cannot leave the folder.  0, or -1 with err set.
 */
static int copy_data_uri(struct trig_local *l, int idfd, const char *name, const char *scheme,
			 const char *src, struct buf *err)
{
	const char *kind = !strcmp(scheme, "dataset") ? "datasets"
			 : !strcmp(scheme, "model") ? "models" : "datums";
	unsigned want = strcmp(scheme, "datum") ? 2 : 1, nsegs = 0;
	const char *rest = strstr(src, "://") + 3;
	bool ok = *rest != 0;
	for (const char *s = rest; ok && *s; ) {
		size_t n = strcspn(s, "/");
		ok = n > 0 && !(n == 1 && s[0] == '.') && !(n == 2 && s[0] == '.' && s[1] == '.');
		for (size_t i = 0; ok && i < n; i++) {
			char c = s[i];
			ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '+';
		}
		nsegs++;
		s += n;
		if (*s == '/' && !*++s)
			ok = false;
	}
	if (!ok || nsegs != want) {
		buf_printf(err, "input '%s': '", name);
		add_excerpt(err, src);
		buf_printf(err, "' is not a %s URI (%s)", scheme,
			   want == 2 ? "SCHEME://NAME/VERSION" : "datum://ID");
		return -1;
	}
	if (!l->data_dir) {
		buf_printf(err, "input '%s': %s:// URIs need a local data folder", name, scheme);
		return -1;
	}
	struct buf path = BUF_INIT;
	buf_printf(&path, "%s/%s/%s", l->data_dir, kind, rest);
	struct stat st;
	int rc = -1;
	if (stat(buf_cstr(&path), &st) < 0) {
		buf_printf(err, "input '%s': ", name);
		add_excerpt(err, src);
		buf_printf(err, " is not in the data folder (%s: %s)", buf_cstr(&path), strerror(errno));
	} else if (!S_ISDIR(st.st_mode)) {
		rc = copy_file(l, idfd, name, buf_cstr(&path), err);
	} else {
		struct dirent **names = NULL;
		int n = scandir(buf_cstr(&path), &names, NULL, alphasort);
		if (n < 0) {
			buf_printf(err, "input '%s': cannot read %s: %s", name, buf_cstr(&path),
				   strerror(errno));
		} else {
			rc = 0;
			unsigned copied = 0;
			for (int i = 0; i < n; i++) {
				struct buf f = BUF_INIT;
				buf_printf(&f, "%s/%s", buf_cstr(&path), names[i]->d_name);
				if (rc == 0 && names[i]->d_name[0] != '.' &&
				    stat(buf_cstr(&f), &st) == 0 && S_ISREG(st.st_mode)) {
					rc = copy_file(l, idfd, name, buf_cstr(&f), err);
					copied++;
				}
				buf_release(&f);
				free(names[i]);
			}
			free(names);
			if (rc == 0 && !copied) {
				buf_printf(err, "input '%s': %s has no files", name, buf_cstr(&path));
				rc = -1;
			}
		}
	}
	buf_release(&path);
	return rc;
}

/* Opens (creating) inputs/NAME in the execution folder. */
static int input_dir(int dfd, const char *name)
{
	char path[sizeof("inputs/") + MAX_INPUT_NAME_LEN + 1];
	snprintf(path, sizeof(path), "inputs/%s", name);
	if (mkdirat(dfd, path, 0700) < 0 && errno != EEXIST)
		return -1;
	return openat(dfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

static int fetch_inputs(struct trig_local *l, int dfd, const struct job *j, struct buf *err)
{
	for (size_t i = 0; i < j->ninputs; i++) {
		const char *name = j->inputs[i].name, *src = j->inputs[i].value;
		char scheme[32];
		bool is_url = url_scheme(src, scheme, sizeof(scheme));
		bool is_data = is_url && (!strcmp(scheme, "dataset") || !strcmp(scheme, "model") ||
					  !strcmp(scheme, "datum"));
		if (is_url && !is_data && strcmp(scheme, "http") && strcmp(scheme, "https")) {
			buf_printf(err, "input '%s': unsupported URL scheme '%s'", name, scheme);
			return -1;
		}
		int idfd = input_dir(dfd, name);
		if (idfd < 0) {
			buf_printf(err, "input '%s': cannot create its folder: %s", name,
				   strerror(errno));
			return -1;
		}
		int rc = is_data ? copy_data_uri(l, idfd, name, scheme, src, err)
			 : is_url ? download(l, idfd, name, src, err)
				  : copy_input(l, idfd, name, src, err);
		close(idfd);
		if (rc < 0)
			return -1;
	}
	for (size_t i = 0; i < j->nfiles; i++) {
		const char *name = j->files[i].name;
		int idfd = input_dir(dfd, name);
		if (idfd < 0) {
			buf_printf(err, "input '%s': cannot create its folder: %s", name,
				   strerror(errno));
			return -1;
		}
		int rc = copy_file(l, idfd, name, j->files[i].value, err);
		close(idfd);
		if (rc < 0)
			return -1;
	}
	if (j->payload_input) {
		int idfd = input_dir(dfd, j->payload_input);
		if (idfd < 0 ||
		    trig_write_file_at(idfd, "payload.json", j->payload, j->payload_len, false) < 0) {
			buf_printf(err, "input '%s': cannot write payload.json: %s",
				   j->payload_input, strerror(errno));
			if (idfd >= 0)
				close(idfd);
			return -1;
		}
		close(idfd);
	}
	return 0;
}

/* ------------------------------------------------------------ running */

/*
 * The supervisor.  The command is not the server's child: the server forks
 * a supervisor (in its own session: its pid is the process group), which
 * writes the pid file, starts `/bin/sh -e -c COMMAND` with posix_spawn,
 * waits for it and writes the exit file.  Both survive the server, so a
 * restarted server can adopt a command that was running and learn how it
 * ended, instead of running it a second time.
 *
 * Between fork() and _exit() the supervisor is the copy of a multithreaded
 * process: it calls only async-signal-safe functions (and posix_spawn,
 * whose glibc implementation allocates nothing), on data prepared before
 * the fork.  It keeps no descriptor of the server (close_range), so a
 * restarted server can bind its ports again.
 *
 * SIGTERM, SIGINT and SIGHUP reach the whole group (trig_local_stop(), a
 * timeout): the supervisor notes the signal, waits for the command to end
 * (it may clean up until SIGKILL comes), writes no exit file and dies of
 * the same signal, so that a stopped execution is an interrupted attempt
 * that runs again after a restart.
 *
 * Files (in the execution folder; both written as tmp + rename):
 *     pid     "PID STARTTIME STARTED_MS COMMAND_MS\n": the supervisor's pid,
 *             its start time in clock ticks after boot (/proc/PID/stat field
 *             22; a reused pid has another), when the execution started
 *             (unix ms, inputs included) and when the command started
 *     exit    "exit CODE ENDED_MS\n" or "signal SIG ENDED_MS\n"
 */

struct sup_plan {
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char *argv[5];
	char *const *envp;
	int out, err, dfd, pipe_w;
	int64_t started_ms;
};

/* The stage of the supervisor that failed, sent to the server with errno. */
enum { SUP_OK, SUP_SETUP, SUP_PID_FILE, SUP_SPAWN };

static volatile sig_atomic_t sup_caught;

static void sup_on_signal(int sig)
{
	sup_caught = sig;
}

/* Decimal of v into p (async-signal-safe); returns the length. */
static size_t sup_fmt(char *p, long long v)
{
	char t[24];
	size_t n = 0, k = 0;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do
		t[n++] = (char)('0' + u % 10);
	while ((u /= 10));
	if (v < 0)
		p[k++] = '-';
	while (n)
		p[k++] = t[--n];
	return k;
}

static int64_t sup_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Field 22 (starttime) of a /proc/PID/stat text; its state in *state. */
static int parse_proc_stat(const char *buf, size_t len, unsigned long long *start, char *state)
{
	const char *p = NULL;
	for (size_t i = len; i > 0; i--) {
		if (buf[i - 1] == ')') {
			p = buf + i;
			break;
		}
	}
	if (!p)
		return -1;
	const char *end = buf + len;
	/* ") S ppid ..." : state is field 3, starttime field 22. */
	int field = 2;
	unsigned long long v = 0;
	bool in_num = false;
	for (; p < end; p++) {
		if (*p == ' ') {
			if (in_num && field == 22) {
				*start = v;
				return 0;
			}
			in_num = false;
			continue;
		}
		if (!in_num) {
			in_num = true;
			field++;
			v = 0;
			if (field == 3)
				*state = *p;
		}
		if (field == 22) {
			if (*p < '0' || *p > '9')
				return -1;
			v = v * 10 + (unsigned)(*p - '0');
		}
	}
	if (in_num && field == 22) {
		*start = v;
		return 0;
	}
	return -1;
}

/* Reads /proc/<pid>/stat (pid 0: self) (async-signal-safe). */
static int proc_stat(pid_t pid, unsigned long long *start, char *state)
{
	char path[40] = "/proc/self/stat";
	if (pid > 0) {
		size_t n = strlen("/proc/");
		memcpy(path, "/proc/", n);
		n += sup_fmt(path + n, pid);
		memcpy(path + n, "/stat", 6);
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char buf[1024];
	size_t len = 0;
	for (;;) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof(buf))
			break;
	}
	close(fd);
	return parse_proc_stat(buf, len, start, state);
}

/* Writes name atomically in the folder on descriptor 3 (async-signal-safe).
 * Not synced: pid and exit serve a server that crashed, not a machine (after
 * which no command is left running, and an attempt whose exit was lost runs
 * again). */
static int sup_write(const char *name, const char *tmp, const char *text, size_t len)
{
	int fd = openat(3, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	if (trig_write_all(fd, text, len) < 0) {
		close(fd);
		return -1;
	}
	if (close(fd) < 0 || renameat(3, tmp, 3, name) < 0)
		return -1;
	return 0;
}

static _Noreturn void sup_fail(int fd, int stage)
{
	int msg[3] = { stage, errno, 0 };
	if (trig_write_all(fd, msg, sizeof(msg)) < 0)
		_exit(127);
	_exit(127);
}

static _Noreturn void supervise(const struct sup_plan *p)
{
	pid_t server = getppid();
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &sa, NULL);        /* glibc's own: EINVAL, fine */
	sa.sa_handler = sup_on_signal;          /* no SA_RESTART: waitid sees EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;                /* the child gets SIG_DFL (SETSIGDEF) */
	sigaction(SIGPIPE, &sa, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setsid() < 0)
		sup_fail(p->pipe_w, SUP_SETUP);

	/* Descriptors: 0 /dev/null, 1 and 2 the logs, 3 the folder, 4 the
	 * pipe to the server; nothing else. */
	int out = fcntl(p->out, F_DUPFD, 10), err = fcntl(p->err, F_DUPFD, 10);
	int dfd = fcntl(p->dfd, F_DUPFD, 10), pw = fcntl(p->pipe_w, F_DUPFD, 10);
	if (out < 0 || err < 0 || dfd < 0 || pw < 0)
		sup_fail(p->pipe_w, SUP_SETUP);
	int nul = open("/dev/null", O_RDONLY);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 ||
	    dup2(dfd, 3) < 0 || dup2(pw, 4) < 0)
		sup_fail(pw, SUP_SETUP);
	if (syscall(SYS_close_range, 5U, ~0U, 0U) < 0) {
		struct rlimit rl;
		int max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536
			  ? (int)rl.rlim_cur : 65536;
		for (int fd = 5; fd < max; fd++)
			close(fd);
	}

	/* The pid file, before the command starts: a server that dies from
	 * here on finds either this supervisor alive or its exit file. */
	unsigned long long start = 0;   /* no /proc: 0, never adopted */
	char state;
	proc_stat(0, &start, &state);
	char text[128];
	size_t n = sup_fmt(text, getpid());
	text[n++] = ' ';
	n += sup_fmt(text + n, (long long)start);
	text[n++] = ' ';
	n += sup_fmt(text + n, p->started_ms);
	text[n++] = ' ';
	n += sup_fmt(text + n, sup_now_ms());
	text[n++] = '\n';
	if (sup_write("pid", "pid.tmp", text, n) < 0)
		sup_fail(4, SUP_PID_FILE);
	/* A server that died before the pid file was there may have been
	 * restarted, found no pid file and started the execution again:
	 * then this one must not run it. */
	if (getppid() != server)
		_exit(127);

	pid_t child;
	int rc = posix_spawn(&child, "/bin/sh", &p->fa, &p->at, p->argv, p->envp);
	if (rc) {
		errno = rc;
		sup_fail(4, SUP_SPAWN);
	}
	int msg[3] = { SUP_OK, 0, (int)child };
	trig_write_all(4, msg, sizeof(msg));         /* the server may be gone */
	close(4);

	siginfo_t si;
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)child, &si, WEXITED) == 0)
			break;
		if (errno != EINTR)
			_exit(127);
	}
	if (sup_caught) {
		/* Stopped: no exit file; die of the signal for the server. */
		int sig = sup_caught;
		sa.sa_handler = SIG_DFL;
		sigaction(sig, &sa, NULL);
		raise(sig);
		_exit(128 + sig);
	}
	bool exited = si.si_code == CLD_EXITED;
	memcpy(text, exited ? "exit " : "signal ", exited ? 5 : 7);
	n = exited ? 5 : 7;
	n += sup_fmt(text + n, si.si_status);
	text[n++] = ' ';
	n += sup_fmt(text + n, sup_now_ms());
	text[n++] = '\n';
	if (sup_write("exit", "exit.tmp", text, n) < 0) {
		static const char m[] = "trig: cannot write the exit file\n";
		trig_write_all(2, m, sizeof(m) - 1);
	}
	/* Orphaned (the server died): end what the command left in the
	 * group, as the server would have; this supervisor goes too. */
	if (getppid() != server)
		kill(0, SIGKILL);
	_exit(exited ? si.si_status : 128 + si.si_status);
}

/* Under l->mu: signals the group of a process not known to have ended.
 * stop: trig_local_stop()'s (the result is STOPPED). */
static void signal_group(struct job *j, int sig, bool stop)
{
	if (j->pid <= 0 || j->exited)
		return;
	if (j->pidfd >= 0) {
		/* An adopted process is not our child: its pid may already be
		 * free; the pidfd knows. */
		struct pollfd pf = { j->pidfd, POLLIN, 0 };
		if (poll(&pf, 1, 0) == 1 && j->adopted)
			return;
	}
	kill(-j->pid, sig);
	if (stop)
		j->killed = true;
}

static int spawn(struct trig_local *l, struct job *j, int dfd, int64_t started_ms, pid_t *pid,
		 struct buf *err)
{
	const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW;
	int out = openat(dfd, "stdout.log", flags, 0600);
	int errfd = openat(dfd, "stderr.log", flags, 0600);
	int pfd[2] = { -1, -1 };
	if (out < 0 || errfd < 0) {
		buf_printf(err, "cannot create the log files: %s", strerror(errno));
		goto fail_fds;
	}
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		buf_printf(err, "cannot start '/bin/sh': %s", strerror(errno));
		goto fail_fds;
	}
	struct sup_plan p;
	memset(&p, 0, sizeof(p));
	sigset_t none, all;
	int rc = posix_spawn_file_actions_init(&p.fa);
	if (rc == 0 && (rc = posix_spawnattr_init(&p.at)) != 0)
		posix_spawn_file_actions_destroy(&p.fa);
	if (rc) {
		buf_printf(err, "cannot start '/bin/sh': %s", strerror(rc));
		goto fail_fds;
	}
	sigemptyset(&none);
	sigfillset(&all);
	if (!rc) rc = posix_spawn_file_actions_addclose(&p.fa, 3);
	if (!rc) rc = posix_spawn_file_actions_addclose(&p.fa, 4);
	if (!rc) rc = posix_spawn_file_actions_addchdir_np(&p.fa, l->workdir);
	if (!rc) rc = posix_spawnattr_setsigmask(&p.at, &none);
	if (!rc) rc = posix_spawnattr_setsigdefault(&p.at, &all);
	if (!rc) rc = posix_spawnattr_setflags(&p.at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	/* -e: as on valohai, the first command line that fails ends the
	 * execution, and its exit code is the execution's. */
	char sh[] = "/bin/sh", e[] = "-e", c[] = "-c";
	p.argv[0] = sh;
	p.argv[1] = e;
	p.argv[2] = c;
	p.argv[3] = j->command;
	p.argv[4] = NULL;
	p.envp = j->envp;
	p.out = out;
	p.err = errfd;
	p.dfd = dfd;
	p.pipe_w = pfd[1];
	p.started_ms = started_ms;
	pid_t s = -1;
	if (!rc) {
		s = fork();
		if (s == 0)
			supervise(&p);
		if (s < 0)
			rc = errno;
	}
	posix_spawn_file_actions_destroy(&p.fa);
	posix_spawnattr_destroy(&p.at);
	close(out);
	close(errfd);
	close(pfd[1]);
	if (rc) {
		close(pfd[0]);
		buf_printf(err, "cannot start '/bin/sh' in '%s': %s", l->workdir, strerror(rc));
		return -1;
	}
	int msg[3] = { -1, 0, 0 };
	size_t got = 0;
	while (got < sizeof(msg)) {
		ssize_t r = read(pfd[0], (char *)msg + got, sizeof(msg) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(pfd[0]);
	if (got == sizeof(msg) && msg[0] == SUP_OK) {
		*pid = s;
		return 0;
	}
	while (waitpid(s, NULL, 0) < 0 && errno == EINTR)
		;
	if (got < sizeof(msg))
		buf_printf(err, "cannot start '/bin/sh' in '%s': the supervisor ended early",
			   l->workdir);
	else if (msg[0] == SUP_PID_FILE)
		buf_printf(err, "cannot write the pid file: %s", strerror(msg[1]));
	else
		buf_printf(err, "cannot start '/bin/sh' in '%s': %s", l->workdir,
			   strerror(msg[1]));
	return -1;

fail_fds:
	if (out >= 0)
		close(out);
	if (errfd >= 0)
		close(errfd);
	if (pfd[0] >= 0) {
		close(pfd[0]);
		close(pfd[1]);
	}
	return -1;
}

/* Whether process pid (started at start ticks) still runs: not a zombie,
 * not gone, not another process with the same pid. */
static bool proc_alive(pid_t pid, unsigned long long start)
{
	unsigned long long s;
	char state = 0;
	if (proc_stat(pid, &s, &state) < 0)
		return false;
	return start && s == start && state != 'Z' && state != 'X' && state != 'x';
}

/*
 * Waits until the supervisor has ended or the monotonic deadline (ms; < 0:
 * none) has passed; true when it has ended.  Our child: waitid(WNOWAIT),
 * leaving it a zombie; adopted: its pidfd, else /proc every 50 ms.
 */
static bool wait_end(struct job *j, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline < 0 ? -1 : deadline - clock_ms(CLOCK_MONOTONIC);
		if (deadline >= 0 && left <= 0)
			left = 0;
		if (j->pidfd >= 0) {
			struct pollfd pf = { j->pidfd, POLLIN, 0 };
			int rc = poll(&pf, 1, left > INT_MAX ? INT_MAX : (int)left);
			if (rc < 0 && errno == EINTR)
				continue;
			if (rc != 0)    /* ended; or an error: do not spin */
				return true;
		} else if (j->adopted) {
			if (!proc_alive(j->pid, j->start_ticks))
				return true;
			struct timespec ts = { 0, 50 * 1000000L };
			if (left == 0)
				return false;
			if (left > 0 && left < 50)
				ts.tv_nsec = left * 1000000L;
			nanosleep(&ts, NULL);
			continue;
		} else if (deadline < 0) {
			return true;    /* the blocking waitid in wait_child() */
		} else {
			siginfo_t si;
			memset(&si, 0, sizeof(si));
			if (waitid(P_PID, (id_t)j->pid, &si, WEXITED | WNOWAIT | WNOHANG) < 0 &&
			    errno != EINTR)
				return true;
			if (si.si_pid)
				return true;
			if (left == 0)
				return false;
			struct timespec ts = { 0, 20 * 1000000L };
			nanosleep(&ts, NULL);
			continue;
		}
		if (left == 0)
			return false;
		if (deadline >= 0 && clock_ms(CLOCK_MONOTONIC) >= deadline)
			return false;
	}
}

/* Waits for the end, with the job's timeout counted from cmd_mono (the
 * monotonic ms when the command started): SIGTERM to the group at the
 * timeout, SIGKILL kill_after_ms later. */
static void wait_with_timeout(struct trig_local *l, struct job *j, int64_t cmd_mono)
{
	if (!j->timeout_ms) {
		wait_end(j, -1);
		return;
	}
	if (wait_end(j, cmd_mono + j->timeout_ms))
		return;
	pthread_mutex_lock(&l->mu);
	j->timed_out = true;
	signal_group(j, SIGTERM, false);
	pthread_mutex_unlock(&l->mu);
	trig_info("execution '%s' timed out: stopping it", j->id);
	if (wait_end(j, clock_ms(CLOCK_MONOTONIC) + l->kill_after_ms))
		return;
	pthread_mutex_lock(&l->mu);
	signal_group(j, SIGKILL, false);
	pthread_mutex_unlock(&l->mu);
	wait_end(j, -1);
}

/* "timed out after 2 s" / "timed out after 300 ms" */
static void add_timeout_error(struct buf *b, int64_t ms)
{
	buf_reset(b);
	if (ms % 1000 == 0)
		buf_printf(b, "timed out after %lld s", (long long)(ms / 1000));
	else
		buf_printf(b, "timed out after %lld ms", (long long)ms);
}

/* The exit file: 0 and the outcome's fields, or -1 (none, or unreadable). */
static int read_exit_file(int dfd, struct outcome *o)
{
	char buf[128];
	int fd = openat(dfd, "exit", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	ssize_t n;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char word[8];
	int v, end = 0;
	long long ended;
	if (sscanf(buf, "%7s %d %lld\n%n", word, &v, &ended, &end) != 3 || !end)
		return -1;
	if (!strcmp(word, "exit") && v >= 0 && v <= 255) {
		o->exit_code = v;
		o->signal = 0;
		o->status = v == 0 ? TRIG_EXEC_COMPLETED : TRIG_EXEC_FAILED;
	} else if (!strcmp(word, "signal") && v > 0 && v < 128) {
		o->exit_code = -1;
		o->signal = v;
		o->status = TRIG_EXEC_FAILED;
	} else {
		return -1;
	}
	o->ended_ms = ended;
	return 0;
}

/* The pid file: 0, or -1 (none, or unreadable). */
static int read_pid_file(int dfd, pid_t *pid, unsigned long long *start, int64_t *started_ms,
			 int64_t *cmd_ms)
{
	char buf[160];
	int fd = openat(dfd, "pid", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	ssize_t n;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	int p, end = 0;
	long long a, b;
	if (sscanf(buf, "%d %llu %lld %lld\n%n", &p, start, &a, &b, &end) != 4 || !end || p <= 1)
		return -1;
	*pid = p;
	*started_ms = a;
	*cmd_ms = b;
	return 0;
}

/*
 * How the supervisor's end turns into the outcome (the server's own view
 * first, then the exit file): stopped by trig_local_stop() → STOPPED; the
 * command finished (exit file) → its exit code or signal; timed out →
 * FAILED; else the supervisor's own end (killed: that signal).
 */
static void settle(struct job *j, int dfd, bool killed, bool have_si, const siginfo_t *si,
		   struct outcome *o)
{
	struct outcome x = *o;
	/* An exit file says how the command ended, unless the server stopped
	 * it and it died of that: the supervisor may have seen the command
	 * die before its own handler saw the signal.  A stopped execution is
	 * STOPPED (no status.json: it runs again after a restart). */
	if (read_exit_file(dfd, &x) == 0 && !(killed && x.signal > 0)) {
		o->status = x.status;
		o->exit_code = x.exit_code;
		o->signal = x.signal;
		o->ended_ms = x.ended_ms;       /* a live server's finish() overrides it */
		return;
	}
	if (have_si && si->si_code == CLD_EXITED) {
		/* Only when the exit file could not be written. */
		o->exit_code = si->si_status;
		o->status = si->si_status == 0 ? TRIG_EXEC_COMPLETED : TRIG_EXEC_FAILED;
	} else if (have_si) {
		o->signal = si->si_status;
		o->status = TRIG_EXEC_FAILED;
	}
	if (killed) {
		o->status = TRIG_EXEC_STOPPED;
		buf_adds(&o->error, "stopped by the server");
	} else if (j->timed_out) {
		o->status = TRIG_EXEC_FAILED;
		add_timeout_error(&o->error, j->timeout_ms);
	} else if (!have_si) {
		o->status = TRIG_EXEC_FAILED;
		buf_adds(&o->error, "the command ended while the server was down and left no "
			 "exit status: it was killed");
	}
}

/* Waits for our supervisor child, kills what it left in its group, reaps
 * it, and settles the outcome. */
static void wait_child(struct trig_local *l, struct job *j, int dfd, pid_t pid, int64_t cmd_mono,
		       struct outcome *o)
{
	siginfo_t si;
	int rc;
	wait_with_timeout(l, j, cmd_mono);
	do {
		memset(&si, 0, sizeof(si));
		rc = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT);
	} while (rc < 0 && errno == EINTR);
	pthread_mutex_lock(&l->mu);
	if (rc == 0)
		kill(-pid, SIGKILL);
	j->exited = true;
	bool killed = j->killed;
	pthread_mutex_unlock(&l->mu);
	if (rc < 0) {
		o->status = TRIG_EXEC_ERROR;
		buf_printf(&o->error, "lost track of process %d: %s", (int)pid, strerror(errno));
		return;
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	settle(j, dfd, killed, true, &si, o);
}

/* Waits for an adopted supervisor (not our child) and settles. */
static void wait_adopted(struct trig_local *l, struct job *j, int dfd, int64_t cmd_mono,
			 struct outcome *o)
{
	wait_with_timeout(l, j, cmd_mono);
	pthread_mutex_lock(&l->mu);
	j->exited = true;
	bool killed = j->killed;
	pthread_mutex_unlock(&l->mu);
	settle(j, dfd, killed, false, NULL, o);
}

static void finish(struct outcome *o, int64_t mono_start)
{
	o->ended_ms = clock_ms(CLOCK_REALTIME);
	o->duration_ms = clock_ms(CLOCK_MONOTONIC) - mono_start;
}

static int64_t realtime_to_mono(int64_t real_ms)
{
	return clock_ms(CLOCK_MONOTONIC) - (clock_ms(CLOCK_REALTIME) - real_ms);
}

/*
 * A folder without status.json: did a previous server leave a command
 * behind?  1: settled (the command had ended: *o filled, times included; or
 * it was adopted and has ended now); 0: nothing to adopt, run it again.
 */
static int resume(struct trig_local *l, struct job *j, int dfd, struct outcome *o)
{
	pid_t pid;
	unsigned long long start;
	int64_t started_ms, cmd_ms;
	bool have_pid = read_pid_file(dfd, &pid, &start, &started_ms, &cmd_ms) == 0;
	if (!have_pid)
		started_ms = cmd_ms = 0;
	if (read_exit_file(dfd, o) == 0) {
		o->started_ms = have_pid ? started_ms : o->ended_ms;
		o->duration_ms = o->ended_ms > o->started_ms ? o->ended_ms - o->started_ms : 0;
		trig_info("execution '%s' had ended while the server was down: %s", j->id,
			  trig_exec_status_name(o->status));
		return 1;
	}
	if (!have_pid || !proc_alive(pid, start))
		return 0;
	long fd = syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0 && !proc_alive(pid, start)) {
		/* Ended between the two looks (the pidfd may name another). */
		close((int)fd);
		fd = -1;
		if (read_exit_file(dfd, o) == 0) {
			o->started_ms = started_ms;
			o->duration_ms = o->ended_ms > o->started_ms ? o->ended_ms - o->started_ms : 0;
			return 1;
		}
		j->exited = true;
	}
	o->started_ms = started_ms;
	if (!j->exited) {
		trig_info("execution '%s' is still running (process %d): adopting it", j->id,
			  (int)pid);
		pthread_mutex_lock(&l->mu);
		j->adopted = true;
		j->pidfd = (int)fd;
		j->start_ticks = start;
		j->pid = pid;
		int sig = atomic_load(&l->kill_sig);
		if (sig)
			signal_group(j, sig, true);
		pthread_mutex_unlock(&l->mu);
		if (j->started)
			j->started(j->id, started_ms, j->ctx);
		wait_adopted(l, j, dfd, realtime_to_mono(cmd_ms), o);
	} else {
		settle(j, dfd, false, false, NULL, o);
	}
	if (o->ended_ms <= 0)
		o->ended_ms = clock_ms(CLOCK_REALTIME);
	o->duration_ms = o->ended_ms > o->started_ms ? o->ended_ms - o->started_ms : 0;
	return 1;
}

/* Runs a job to its end (the folder, inputs, the command) and says how it
 * went in *o.  Called without the lock. */
static void execute(struct trig_local *l, struct job *j, struct outcome *o)
{
	int64_t mono = clock_ms(CLOCK_MONOTONIC);
	int dfd = -1;
	o->started_ms = clock_ms(CLOCK_REALTIME);
	o->status = TRIG_EXEC_ERROR;
	o->exit_code = -1;
	o->signal = 0;

	if (mkdirat(l->execs_fd, j->id, 0700) < 0 && errno != EEXIST) {
		buf_printf(&o->error, "cannot create the execution folder: %s", strerror(errno));
		finish(o, mono);
		return;         /* no folder: nothing to write status.json into */
	}
	dfd = openat(l->execs_fd, j->id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		buf_printf(&o->error, "cannot open the execution folder: %s", strerror(errno));
		finish(o, mono);
		return;
	}
	if (faccessat(dfd, "status.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		o->recorded = true;
		if (read_status_json(dfd, o) < 0) {
			o->status = TRIG_EXEC_ERROR;
			buf_reset(&o->error);
			buf_adds(&o->error, "status.json exists but cannot be read");
		}
		close(dfd);
		return;
	}
	if (resume(l, j, dfd, o)) {
		if (o->status != TRIG_EXEC_STOPPED && write_status_json(dfd, j, o) < 0)
			trig_error("execution '%s': cannot write status.json: %s", j->id,
				   strerror(errno));
		close(dfd);
		return;
	}
	static const char *const stale[] = { "pid", "pid.tmp", "exit", "exit.tmp" };
	for (size_t i = 0; i < sizeof(stale) / sizeof(*stale); i++) {
		if (unlinkat(dfd, stale[i], 0) < 0 && errno != ENOENT) {
			buf_printf(&o->error, "cannot clear the folder of an interrupted attempt: "
				   "'%s': %s", stale[i], strerror(errno));
			goto done;
		}
	}
	if (remove_tree(dfd, "inputs", 0) < 0 || remove_tree(dfd, "outputs", 0) < 0) {
		buf_printf(&o->error, "cannot clear the folder of an interrupted attempt: %s",
			   strerror(errno));
		goto done;
	}
	if (mkdirat(dfd, "inputs", 0700) < 0 || mkdirat(dfd, "outputs", 0700) < 0) {
		buf_printf(&o->error, "cannot create inputs/ and outputs/: %s", strerror(errno));
		goto done;
	}
	if (write_execution_json(dfd, j) < 0) {
		buf_printf(&o->error, "cannot write execution.json: %s", strerror(errno));
		goto done;
	}
	if (j->error) {
		buf_adds(&o->error, j->error);
		goto done;
	}
	if (fetch_inputs(l, dfd, j, &o->error) < 0)
		goto done;

	pid_t pid;
	if (atomic_load(&l->kill_sig))
		goto done;
	if (spawn(l, j, dfd, o->started_ms, &pid, &o->error) < 0)
		goto done;
	int64_t cmd_mono = clock_ms(CLOCK_MONOTONIC);
	if (j->timeout_ms) {
		long fd = syscall(SYS_pidfd_open, pid, 0);
		j->pidfd = fd >= 0 ? (int)fd : -1;
	}
	pthread_mutex_lock(&l->mu);
	j->pid = pid;
	int sig = atomic_load(&l->kill_sig);
	if (sig)
		signal_group(j, sig, true);
	pthread_mutex_unlock(&l->mu);
	trig_debug("execution '%s' started (process %d)", j->id, (int)pid);
	if (j->started)
		j->started(j->id, o->started_ms, j->ctx);
	wait_child(l, j, dfd, pid, cmd_mono, o);
done:
	if (atomic_load(&l->kill_sig) && o->status == TRIG_EXEC_ERROR && !j->error) {
		/* An input fetch or the start itself was cut short by stop(). */
		o->status = TRIG_EXEC_STOPPED;
		buf_reset(&o->error);
		buf_adds(&o->error, "stopped by the server");
	}
	finish(o, mono);
	/* Stopped by a shutdown: like a crash, no status.json, so that the
	 * resumed launch runs it again (the folder is an interrupted attempt). */
	if (o->status != TRIG_EXEC_STOPPED && write_status_json(dfd, j, o) < 0)
		trig_error("execution '%s': cannot write status.json: %s", j->id, strerror(errno));
	close(dfd);
}

/* The end of an execution is logged by whoever asked for it (the launcher
 * names the trigger and step); only a result found on disk is news here. */
static void log_outcome(const struct job *j, const struct outcome *o)
{
	if (o->recorded)
		trig_info("execution '%s' had already ended: %s", j->id,
			  trig_exec_status_name(o->status));
}

static void fill_result(struct trig_exec_result *r, const struct job *j, const struct outcome *o)
{
	memset(r, 0, sizeof(*r));
	r->id = j->id;
	r->status = o->status;
	r->exit_code = o->exit_code;
	r->signal = o->signal;
	r->started_ms = o->started_ms;
	r->ended_ms = o->ended_ms;
	r->error = o->error.len ? o->error.data : NULL;
	r->dir = j->dir;
	r->recorded = o->recorded;
}

/* ------------------------------------------------------------ the queue */

/* The active jobs are a list (for stop) and a hash table by id (for the
 * duplicate check of each submit: with 10,000 queued, a scan of the list
 * was most of a submit's cost).  FNV-1a; the table doubles at load 1. */
static size_t id_hash(const char *id)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ULL;
	return (size_t)h;
}

static struct job *active_find(struct trig_local *l, const char *id)
{
	if (!l->nbyid)
		return NULL;
	for (struct job *j = l->byid[id_hash(id) & (l->nbyid - 1)]; j; j = j->hnext)
		if (!strcmp(j->id, id))
			return j;
	return NULL;
}

static void byid_insert(struct job **tab, size_t n, struct job *j)
{
	struct job **b = &tab[id_hash(j->id) & (n - 1)];
	j->hnext = *b;
	*b = j;
}

static void active_add(struct trig_local *l, struct job *j)
{
	j->aprev = NULL;
	j->anext = l->active;
	if (l->active)
		l->active->aprev = j;
	l->active = j;
	if (l->nactive + 1 > l->nbyid) {
		size_t n = l->nbyid ? l->nbyid * 2 : 64;
		struct job **tab = trig_xcalloc(n, sizeof(*tab));
		for (struct job *k = l->active->anext; k; k = k->anext)
			byid_insert(tab, n, k);
		free(l->byid);
		l->byid = tab;
		l->nbyid = n;
	}
	byid_insert(l->byid, l->nbyid, j);
	l->nactive++;
}

static void active_remove(struct trig_local *l, struct job *j)
{
	if (j->aprev)
		j->aprev->anext = j->anext;
	else
		l->active = j->anext;
	if (j->anext)
		j->anext->aprev = j->aprev;
	j->aprev = j->anext = NULL;
	struct job **p = &l->byid[id_hash(j->id) & (l->nbyid - 1)];
	while (*p != j)
		p = &(*p)->hnext;
	*p = j->hnext;
	j->hnext = NULL;
	l->nactive--;
}

static void *worker_main(void *arg)
{
	struct trig_local *l = arg;
	pthread_mutex_lock(&l->mu);
	for (;;) {
		while (!l->head && !l->stopping)
			pthread_cond_wait(&l->work, &l->mu);
		struct job *j = l->head;
		if (!j)
			break;
		l->head = j->next;
		if (!l->head)
			l->tail = NULL;
		l->nqueued--;
		bool stopped = l->stopping;
		if (!stopped)
			l->nrunning++;
		pthread_mutex_unlock(&l->mu);

		struct outcome o;
		memset(&o, 0, sizeof(o));
		if (stopped) {
			o.status = TRIG_EXEC_STOPPED;
			o.exit_code = -1;
			buf_adds(&o.error, "stopped before it started");
		} else {
			execute(l, j, &o);
			log_outcome(j, &o);
		}
		pthread_mutex_lock(&l->mu);
		if (!stopped) {
			l->nrunning--;
			pthread_cond_broadcast(&l->idle);
		}
		active_remove(l, j);
		pthread_mutex_unlock(&l->mu);

		struct trig_exec_result r;
		fill_result(&r, j, &o);
		j->done(&r, j->ctx);
		buf_release(&o.error);
		job_free(j);
		pthread_mutex_lock(&l->mu);
	}
	pthread_mutex_unlock(&l->mu);
	return NULL;
}

bool trig_local_full(struct trig_local *l)
{
	pthread_mutex_lock(&l->mu);
	bool full = l->nqueued >= l->max_queue;
	pthread_mutex_unlock(&l->mu);
	return full;
}

int trig_local_submit(struct trig_local *l, const struct trig_exec_request *req,
		      trig_exec_done_fn *done, void *ctx)
{
	if (!l || !done) {
		errno = EINVAL;
		return -1;
	}
	struct job *j = job_new(l, req);
	if (!j)
		return -1;
	j->done = done;
	j->ctx = ctx;
	int e = 0;
	pthread_mutex_lock(&l->mu);
	if (l->stopping)
		e = ECANCELED;
	else if (l->nqueued >= l->max_queue)
		e = EAGAIN;
	else if (active_find(l, j->id))
		e = EEXIST;
	if (!e) {
		active_add(l, j);
		j->next = NULL;
		if (l->tail)
			l->tail->next = j;
		else
			l->head = j;
		l->tail = j;
		l->nqueued++;
		pthread_cond_signal(&l->work);
	}
	pthread_mutex_unlock(&l->mu);
	if (e) {
		job_free(j);
		errno = e;
		return -1;
	}
	return 0;
}

int trig_local_run(struct trig_local *l, const struct trig_exec_request *req,
		   struct trig_exec_result *out)
{
	if (!l || !out) {
		errno = EINVAL;
		return -1;
	}
	memset(out, 0, sizeof(*out));
	struct job *j = job_new(l, req);
	if (!j)
		return -1;
	int e = 0;
	pthread_mutex_lock(&l->mu);
	if (l->stopping)
		e = ECANCELED;
	else if (active_find(l, j->id))
		e = EEXIST;
	else {
		active_add(l, j);
		l->nrunning++;
	}
	pthread_mutex_unlock(&l->mu);
	if (e) {
		job_free(j);
		errno = e;
		return -1;
	}
	struct outcome o;
	memset(&o, 0, sizeof(o));
	execute(l, j, &o);
	log_outcome(j, &o);
	fill_result(out, j, &o);
	out->id = trig_xstrdup(j->id);
	out->dir = trig_xstrdup(j->dir);
	out->error = o.error.len ? detach_str(&o.error) : NULL;
	buf_release(&o.error);
	pthread_mutex_lock(&l->mu);
	active_remove(l, j);
	l->nrunning--;
	pthread_cond_broadcast(&l->idle);
	pthread_mutex_unlock(&l->mu);
	job_free(j);
	return 0;
}

void trig_exec_result_release(struct trig_exec_result *r)
{
	if (!r)
		return;
	free((char *)r->id);
	free((char *)r->dir);
	free((char *)r->error);
	memset(r, 0, sizeof(*r));
}

const char *trig_exec_status_name(int status)
{
	switch (status) {
	case TRIG_EXEC_COMPLETED: return "completed";
	case TRIG_EXEC_FAILED: return "failed";
	case TRIG_EXEC_ERROR: return "error";
	case TRIG_EXEC_STOPPED: return "stopped";
	default: return "unknown";
	}
}

/* ------------------------------------------------------------ life cycle */

static void deadline_after(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	if (ms < 0)
		ms = 0;
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Waits (under the lock) until nothing runs or ms have passed. */
static void wait_idle(struct trig_local *l, int64_t ms)
{
	struct timespec dl;
	deadline_after(&dl, ms);
	while (l->nrunning > 0)
		if (pthread_cond_timedwait(&l->idle, &l->mu, &dl) == ETIMEDOUT)
			break;
}

static void kill_running(struct trig_local *l, int sig)
{
	atomic_store(&l->kill_sig, sig);
	for (struct job *j = l->active; j; j = j->anext)
		signal_group(j, sig, true);
}

static void local_free(struct trig_local *l)
{
	free(l->byid);
	if (l->workdir_fd >= 0)
		close(l->workdir_fd);
	if (l->execs_fd >= 0)
		close(l->execs_fd);
	free(l->executions_dir);
	free(l->workdir);
	free(l->workdir_real);
	free(l->path);
	free(l->home);
	free(l->lang);
	free(l->data_dir);
	free(l->workers);
	free(l);
}

void trig_local_stop(struct trig_local *l, int64_t grace_ms)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->stopping = true;
	pthread_cond_broadcast(&l->work);
	wait_idle(l, grace_ms);
	if (l->nrunning > 0) {
		trig_info("stopping %u running execution%s", l->nrunning,
			  l->nrunning == 1 ? "" : "s");
		kill_running(l, SIGTERM);
		wait_idle(l, l->kill_after_ms);
		if (l->nrunning > 0)
			kill_running(l, SIGKILL);
	}
	pthread_mutex_unlock(&l->mu);
	for (unsigned i = 0; i < l->nworkers; i++)
		pthread_join(l->workers[i], NULL);
	/* trig_local_run() calls in progress: killed above, wait for them. */
	pthread_mutex_lock(&l->mu);
	while (l->nrunning > 0 || l->active)
		pthread_cond_wait(&l->idle, &l->mu);
	pthread_mutex_unlock(&l->mu);
	pthread_cond_destroy(&l->work);
	pthread_cond_destroy(&l->idle);
	pthread_mutex_destroy(&l->mu);
	curl_global_cleanup();
	local_free(l);
}

struct trig_local *trig_local_new(const struct trig_local_config *cfg, char *err, size_t errlen)
{
	if (!cfg || !cfg->executions_dir || !*cfg->executions_dir) {
		set_err(err, errlen, "no executions folder given");
		return NULL;
	}
	if (!cfg->workdir || cfg->workdir[0] != '/') {
		set_err(err, errlen, "workdir '%s' is not an absolute path",
			cfg->workdir ? cfg->workdir : "");
		return NULL;
	}
	if (cfg->max_parallel < 1 || cfg->max_parallel > MAX_PARALLEL) {
		set_err(err, errlen, "max-parallel %u is out of range (1 to %d)",
			cfg->max_parallel, MAX_PARALLEL);
		return NULL;
	}
	struct trig_local *l = trig_xcalloc(1, sizeof(*l));
	l->workdir_fd = l->execs_fd = -1;
	l->workdir = trig_xstrdup(cfg->workdir);
	l->workdir_fd = open(cfg->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	l->workdir_real = realpath(cfg->workdir, NULL);
	if (l->workdir_fd < 0 || !l->workdir_real) {
		set_err(err, errlen, "cannot use workdir '%s': %s", cfg->workdir, strerror(errno));
		local_free(l);
		return NULL;
	}
	if (trig_mkdir_p(cfg->executions_dir) < 0 ||
	    !(l->executions_dir = realpath(cfg->executions_dir, NULL)) ||
	    (l->execs_fd = open(l->executions_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		set_err(err, errlen, "cannot use executions folder '%s': %s", cfg->executions_dir,
			strerror(errno));
		local_free(l);
		return NULL;
	}
	const char *home = cfg->home ? cfg->home : getenv("HOME");
	l->path = trig_xstrdup(cfg->path ? cfg->path : DEFAULT_PATH);
	l->home = trig_xstrdup(home && *home ? home : "/");
	l->lang = trig_xstrdup(cfg->lang ? cfg->lang : DEFAULT_LANG);
	l->data_dir = cfg->data_dir ? trig_xstrdup(cfg->data_dir) : NULL;
	l->max_parallel = cfg->max_parallel;
	l->max_queue = cfg->max_queue ? cfg->max_queue : DEFAULT_MAX_QUEUE;
	l->max_input_bytes = cfg->max_input_bytes ? cfg->max_input_bytes : DEFAULT_MAX_INPUT;
	l->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms
							    : DEFAULT_CONNECT_MS;
	l->stall_timeout_ms = cfg->stall_timeout_ms > 0 ? cfg->stall_timeout_ms
							: DEFAULT_STALL_MS;
	l->kill_after_ms = cfg->kill_after_ms > 0 ? cfg->kill_after_ms : DEFAULT_KILL_AFTER_MS;
	atomic_init(&l->kill_sig, 0);

	CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cc != CURLE_OK) {
		set_err(err, errlen, "cannot initialise libcurl: %s", curl_easy_strerror(cc));
		local_free(l);
		return NULL;
	}
	pthread_condattr_t ca;
	if (pthread_mutex_init(&l->mu, NULL) || pthread_condattr_init(&ca) ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) || pthread_cond_init(&l->work, NULL) ||
	    pthread_cond_init(&l->idle, &ca)) {
		/* glibc's init functions cannot fail with these arguments. */
		set_err(err, errlen, "cannot create the executions lock");
		curl_global_cleanup();
		local_free(l);
		return NULL;
	}
	pthread_condattr_destroy(&ca);
	l->workers = trig_xcalloc(l->max_parallel, sizeof(*l->workers));
	for (unsigned i = 0; i < l->max_parallel; i++) {
		int rc = pthread_create(&l->workers[i], NULL, worker_main, l);
		if (rc) {
			set_err(err, errlen, "cannot start execution worker %u: %s", i + 1,
				strerror(rc));
			trig_local_stop(l, 0);
			return NULL;
		}
		l->nworkers++;
	}
	return l;
}

/* ------------------------------------------------------------ metadata */

#define METADATA_MAX_LOG        (8 << 20)

/* One member of the merged metadata: key decoded, value's JSON text. */
struct meta_member {
	char *key;
	size_t keylen;
	char *value;
	size_t vlen;
};

/* The merged object: members in order of first appearance, and an open
 * addressing table of member index + 1 by key hash (0: empty slot). */
struct meta {
	struct meta_member *m;
	size_t n, cap;
	size_t *slots;
	size_t nslots;          /* a power of 2, at least 2 * cap */
};

static uint64_t meta_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;    /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static char *meta_dup(const char *p, size_t n)
{
	char *c = trig_xmalloc(n ? n : 1);
	if (n)
		memcpy(c, p, n);
	return c;
}

static void meta_set(struct meta *t, const char *key, size_t keylen, const char *value,
		     size_t vlen)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->m = trig_xrealloc(t->m, t->cap * sizeof(*t->m));
		free(t->slots);
		t->nslots = t->cap * 2;
		t->slots = trig_xcalloc(t->nslots, sizeof(*t->slots));
		for (size_t i = 0; i < t->n; i++) {
			size_t h = (size_t)meta_hash(t->m[i].key, t->m[i].keylen) & (t->nslots - 1);
			while (t->slots[h])
				h = (h + 1) & (t->nslots - 1);
			t->slots[h] = i + 1;
		}
	}
	size_t h = (size_t)meta_hash(key, keylen) & (t->nslots - 1);
	for (; t->slots[h]; h = (h + 1) & (t->nslots - 1)) {
		struct meta_member *e = &t->m[t->slots[h] - 1];
		if (e->keylen == keylen && !memcmp(e->key, key, keylen)) {
			free(e->value);
			e->value = meta_dup(value, vlen);
			e->vlen = vlen;
			return;
		}
	}
	struct meta_member *e = &t->m[t->n++];
	e->key = meta_dup(key, keylen);
	e->keylen = keylen;
	e->value = meta_dup(value, vlen);
	e->vlen = vlen;
	t->slots[h] = t->n;
}

/* Merges the members of line (if it is one JSON object) into t. */
static void meta_line(const char *p, size_t len, struct meta *t, struct buf *key)
{
	/* JSON's white space (a CR: a CRLF line end) */
	while (len && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++, len--;
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
		len--;
	if (len < 2 || *p != '{' || trig_json_validate(p, len, NULL) < 0)
		return;
	struct trig_json_value v = { TRIG_JSON_OBJECT, p, len }, k, val;
	struct trig_json_iter it;
	if (trig_json_iter_begin(&it, &v) < 0)
		return;
	while (trig_json_iter_next(&it, &k, &val) == 1) {
		buf_reset(key);
		if (trig_json_string(&k, key) < 0)
			return;
		meta_set(t, key->len ? key->data : "", key->len, val.raw, val.len);
	}
}

int trig_local_metadata(const char *exec_dir, struct buf *out)
{
	if (!exec_dir || !out) {
		errno = EINVAL;
		return -1;
	}
	int dfd = open(exec_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	int fd = openat(dfd, "stdout.log", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int e = errno;
	close(dfd);
	if (fd < 0 && e != ENOENT) {
		errno = e;
		return -1;
	}
	struct meta t = { 0 };
	char *data = NULL;
	size_t len = 0;
	if (fd >= 0) {
		struct stat st;
		off_t start = 0;
		if (fstat(fd, &st) < 0) {
			e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		if (st.st_size > METADATA_MAX_LOG)
			start = st.st_size - METADATA_MAX_LOG;
		/* The log's size (it may grow while read: then up to the cap). */
		size_t cap = st.st_size < METADATA_MAX_LOG ? (size_t)st.st_size + 4096
							   : METADATA_MAX_LOG;
		if (cap > METADATA_MAX_LOG)
			cap = METADATA_MAX_LOG;
		data = trig_xmalloc(cap);
		for (;;) {
			ssize_t r = pread(fd, data + len, cap - len, start + (off_t)len);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				e = errno;
				close(fd);
				free(data);
				errno = e;
				return -1;
			}
			if (r == 0)
				break;
			len += (size_t)r;
			if (len == cap)
				break;
		}
		close(fd);
		const char *p = data, *end = data + len;
		if (start > 0) {
			/* The first line is cut: skip it. */
			const char *nl = memchr(p, '\n', len);
			p = nl ? nl + 1 : end;
		}
		struct buf key = BUF_INIT;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *le = nl ? nl : end;
			meta_line(p, (size_t)(le - p), &t, &key);
			p = nl ? nl + 1 : end;
		}
		buf_release(&key);
	}
	buf_addc(out, '{');
	for (size_t i = 0; i < t.n; i++) {
		if (i)
			buf_addc(out, ',');
		buf_json_str(out, t.m[i].key, t.m[i].keylen);
		buf_addc(out, ':');
		buf_add(out, t.m[i].value, t.m[i].vlen);
		free(t.m[i].key);
		free(t.m[i].value);
	}
	buf_addc(out, '}');
	free(t.m);
	free(t.slots);
	free(data);
	return 0;
}
