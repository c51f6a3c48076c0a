/*
 * main.c — the command line of a generated program (trig_main).
 *
 *   PROG serve [--listen HOST:PORT] [--state DIR] [--workers N] ...
 *   PROG list | next NAME | fire NAME | emit TYPE | logs | enable NAME | disable NAME
 *   PROG executions | pipelines | version | help
 *
 * Data goes to stdout, messages to stderr.  Exit status: 0 success, 1 the
 * command ran and failed (a launch failed, an execution failed), 2 usage,
 * 3 the environment failed (state folder, port in use, ...).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <trig.h>

#include "audit.h"
#include "buf.h"
#include "conditions.h"
#include "dryrun.h"
#include "events.h"
#include "http.h"
#include "journal.h"
#include "json.h"
#include "json_iter.h"
#include "launch.h"
#include "local.h"
#include "log.h"
#include "pipeline.h"
#include "scheduler.h"
#include "secret.h"
#include "state.h"
#include "timeutil.h"
#include "tz.h"
#include "valohai.h"

enum { EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_ENV = 3 };

struct cli {
	const struct trig_project *p;
	const char *prog;
	const char *state_dir;
	const char *workdir;
	const char *data_dir;           /* --data; NULL: WORKDIR/data */
};

static const char *kind_word(enum trig_kind k)
{
	return k == TRIG_KIND_SCHEDULE ? "schedule" : k == TRIG_KIND_WEBHOOK ? "webhook" : "event";
}

static const struct trig_trigger *find_trigger(const struct cli *c, const char *name)
{
	for (uint32_t i = 0; i < c->p->ntriggers; i++)
		if (!strcmp(c->p->triggers[i].name, name))
			return &c->p->triggers[i];
	fprintf(stderr, "%s: no trigger named '%s' (see '%s list')\n", c->prog, name, c->prog);
	return NULL;
}

static int usage_error(const struct cli *c, const char *cmd, const char *msg)
{
	fprintf(stderr, "%s %s: %s\n", c->prog, cmd, msg);
	fprintf(stderr, "Try '%s %s --help'.\n", c->prog, cmd);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------ help */

static void help_main(const struct cli *c, FILE *f)
{
	fprintf(f,
		"usage: %s <command> [options]\n"
		"\n"
		"The triggers of project '%s', built by trigc %s.\n"
		"\n"
		"commands:\n"
		"  serve        run the scheduler and the HTTP server\n"
		"  list         list the triggers and their next fire times\n"
		"  next NAME    print the next fire times of a schedule trigger\n"
		"  check NAME   judge a request against a trigger, launching nothing\n"
		"  fire NAME    launch a trigger now and wait for its executions\n"
		"  emit TYPE    send a notification event to the notification triggers\n"
		"  logs [NAME]  print the audit log\n"
		"  enable NAME  enable a trigger (a running server sees it at once)\n"
		"  disable NAME disable a trigger\n"
		"  executions   list the executions the local backend ran\n"
		"  pipelines    list the pipeline runs of the local backend\n"
		"  version      print the versions and the definitions' hash\n"
		"\n"
		"'%s COMMAND --help' shows a command's options.  See trig-program(1).\n",
		c->prog, c->p->name, c->p->trigc_version, c->prog);
}

static const char state_help[] =
	"      --state DIR      the state folder (default ./.trig-state)\n";

/* ------------------------------------------------------------ serve */

static volatile sig_atomic_t logs_stop;

static unsigned default_parallel(const struct trig_project *p)
{
	if (p->backend.max_parallel)
		return p->backend.max_parallel;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* The query that extracts every path of the project's table: slot N is
 * path N, which trig_field.path_id counts on (the compiler writes each
 * path once). */
static struct trig_json_query *paths_query(const struct trig_project *p)
{
	struct trig_json_query *q = trig_json_query_new();
	for (uint32_t i = 0; i < p->npaths; i++)
		if (trig_json_query_add(q, p->paths[i].segs, p->paths[i].nsegs) != (int)i) {
			fprintf(stderr, "trig: error: the program's path table is corrupt (path %u); "
				"rebuild it with trigc\n", i);
			exit(EXIT_ENV);
		}
	return q;
}

/* Everything a process that launches needs. */
struct engine {
	struct trig_state *st;
	struct trig_journal *journal;
	struct trig_audit *audit;
	struct trig_local *local;
	struct trig_json_query *paths;
	struct trig_guard *guard;               /* with events */
	struct trig_project *guard_project;     /* emit, fire: the guard's (a copy) */
	struct trig_trigger *guard_triggers;
	struct trig_events *events;             /* NULL: events are not dispatched */
	struct trig_launcher *launcher;
	struct trig_pipelines *pipelines;       /* local backend */
	struct trig_valohai *valohai;           /* valohai backend */
	char runs_dir[PATH_MAX];                /* run-info of ended launches */
	char pipelines_dir[PATH_MAX];
	const struct trig_project *launcher_project;
};

/* Whether the engine dispatches events (the launcher's and emit's) to the
 * notification triggers: NONE; TRY (fire: if the secrets every condition
 * needs can be read, else a warning); REQUIRED (serve, emit: else fail). */
enum { EV_NONE, EV_TRY, EV_REQUIRED };

/* A copy of P whose triggers other than notifications have no conditions:
 * a guard made on it reads only the secrets notification triggers need
 * (emit and fire need no webhook's secret). */
static void notification_project(struct engine *e, const struct trig_project *p)
{
	e->guard_project = trig_xmalloc(sizeof(*e->guard_project));
	*e->guard_project = *p;
	e->guard_triggers = trig_xcalloc(p->ntriggers ? p->ntriggers : 1, sizeof(*e->guard_triggers));
	for (uint32_t i = 0; i < p->ntriggers; i++) {
		e->guard_triggers[i] = p->triggers[i];
		if (p->triggers[i].kind != TRIG_KIND_NOTIFICATION) {
			e->guard_triggers[i].conditions = NULL;
			e->guard_triggers[i].nconditions = 0;
		}
	}
	e->guard_project->triggers = e->guard_triggers;
}

static bool has_notifications(const struct trig_project *p)
{
	for (uint32_t i = 0; i < p->ntriggers; i++)
		if (p->triggers[i].kind == TRIG_KIND_NOTIFICATION)
			return true;
	return false;
}

static int engine_open(struct engine *e, const struct cli *c, unsigned state_flags,
		       unsigned max_parallel, bool verbose, int events)
{
	char err[512];
	memset(e, 0, sizeof(*e));
	const char *workdir = c->workdir ? c->workdir : c->p->backend.workdir;
	struct stat sb;
	if (!workdir || stat(workdir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "%s: error: the workdir '%s' is not a folder (set it with --workdir)\n",
			c->prog, workdir ? workdir : "");
		return -1;
	}
	e->st = trig_state_open(c->state_dir, state_flags, err, sizeof(err));
	if (!e->st)
		goto fail;
	e->journal = trig_journal_open(e->st, err, sizeof(err));
	if (!e->journal)
		goto fail;
	e->audit = trig_audit_open(e->st, err, sizeof(err));
	if (!e->audit)
		goto fail;
	char execdir[PATH_MAX], datadir[PATH_MAX];
	snprintf(execdir, sizeof(execdir), "%s/executions", trig_state_abspath(e->st));
	snprintf(datadir, sizeof(datadir), "%s", c->data_dir ? c->data_dir : workdir);
	if (!c->data_dir)
		snprintf(datadir + strlen(datadir), sizeof(datadir) - strlen(datadir), "/data");
	struct trig_local_config lc = {
		.executions_dir = execdir, .workdir = workdir, .data_dir = datadir,
		.max_parallel = max_parallel ? max_parallel : default_parallel(c->p),
		.path = getenv("PATH"), .lang = getenv("LANG"),
	};
	e->local = trig_local_new(&lc, err, sizeof(err));
	if (!e->local)
		goto fail;
	snprintf(e->pipelines_dir, sizeof(e->pipelines_dir), "%s/pipelines", trig_state_abspath(e->st));
	struct trig_pipelines_config pc = { .local = e->local, .pipelines_dir = e->pipelines_dir };
	e->pipelines = trig_pipelines_new(&pc, err, sizeof(err));
	if (!e->pipelines) {
		trig_local_stop(e->local, 0);
		goto fail;
	}
	if (c->p->backend.kind == TRIG_BACKEND_VALOHAI) {
		/* The API token is a secret: read now, never compiled in. */
		struct buf tok = BUF_INIT;
		if (trig_secret_read(&c->p->backend.token, &tok, err, sizeof(err)) == 0) {
			struct trig_valohai_config vc = {
				.url = c->p->backend.url, .token = buf_cstr(&tok),
				.project_id = c->p->backend.project_id,
			};
			e->valohai = trig_valohai_new(&vc, err, sizeof(err));
		}
		trig_secret_release(&tok);
		if (!e->valohai) {
			trig_pipelines_stop(e->pipelines);
			trig_local_stop(e->local, 0);
			trig_pipelines_free(e->pipelines);
			goto fail;
		}
	}
	e->paths = paths_query(c->p);
	if (events != EV_NONE) {
		/* Every secret is read first: a missing one stops the start
		 * before anything is resumed or fired, not a request at 3 a.m. */
		if (!(state_flags & TRIG_STATE_SERVER))
			notification_project(e, c->p);
		e->guard = trig_guard_new(e->guard_project ? e->guard_project : c->p, e->paths, err,
					  sizeof(err));
		if (!e->guard && events == EV_REQUIRED) {
			trig_pipelines_stop(e->pipelines);
			trig_local_stop(e->local, 0);
			trig_pipelines_free(e->pipelines);
			trig_valohai_free(e->valohai);
			trig_json_query_free(e->paths);
			free(e->guard_project);
			free(e->guard_triggers);
			goto fail;
		}
		if (!e->guard)
			fprintf(stderr, "%s: warning: events of this launch are not dispatched to "
				"notification triggers: %s\n", c->prog, err);
		else
			e->events = trig_events_new(c->p, e->paths, e->st, e->audit);
	}
	snprintf(e->runs_dir, sizeof(e->runs_dir), "%s/runs", trig_state_abspath(e->st));
	bool runs = mkdir(e->runs_dir, 0700) == 0 || errno == EEXIST;
	if (!runs)
		fprintf(stderr, "%s: warning: cannot make '%s': %s (run-info of ended launches is "
			"not kept)\n", c->prog, e->runs_dir, strerror(errno));
	struct trig_launcher_config cfg = {
		.project = c->p, .journal = e->journal, .audit = e->audit, .local = e->local,
		.paths = e->paths, .verbose = verbose, .runs_dir = runs ? e->runs_dir : NULL,
		.on_event = e->events ? trig_events_hook : NULL, .event_ctx = e->events,
		.pipelines = e->pipelines, .pipelines_dir = e->pipelines_dir, .valohai = e->valohai,
	};
	e->launcher = trig_launcher_new(&cfg);
	e->launcher_project = c->p;
	if (e->events)
		trig_events_attach(e->events, e->launcher, e->guard, e->guard_project);
	return 0;
fail:
	fprintf(stderr, "%s: error: %s\n", c->prog, err);
	trig_audit_close(e->audit);
	trig_journal_close(e->journal);
	trig_state_close(e->st);
	return -1;
}

/* Waits for the launches and for the launches their events cause, until
 * neither is left (emit and fire in-process): the launcher idle between
 * two looks at a quiet dispatcher that dispatched nothing in between. */
static void engine_settle(struct engine *e)
{
	for (;;) {
		trig_launcher_wait(e->launcher);
		if (!e->events)
			return;
		trig_events_drain(e->events);
		uint64_t d0, d1;
		trig_events_quiet(e->events, &d0);
		unsigned running = 0;
		for (uint32_t i = 0; i < e->launcher_project->ntriggers; i++)
			running += trig_launcher_running(e->launcher, &e->launcher_project->triggers[i]);
		if (!running && trig_events_quiet(e->events, &d1) && d0 == d1)
			return;
	}
}

static void engine_close(struct engine *e, int64_t grace_ms)
{
	/* Queued events are dispatched, later ones dropped (logged and
	 * audited): nothing new is launched while the backend stops. */
	if (e->events)
		trig_events_stop(e->events);
	trig_valohai_cancel(e->valohai);       /* no chain waits on Valohai now */
	trig_pipelines_stop(e->pipelines);
	trig_local_stop(e->local, grace_ms);
	trig_launcher_wait(e->launcher);
	trig_pipelines_free(e->pipelines);
	trig_launcher_free(e->launcher);
	trig_valohai_free(e->valohai);
	trig_events_free(e->events);
	trig_guard_free(e->guard);
	free(e->guard_project);
	free(e->guard_triggers);
	trig_json_query_free(e->paths);
	trig_journal_close(e->journal);
	trig_audit_close(e->audit);
	trig_state_close(e->st);
}

static void resume_one(const char *id, const char *begin, const char *update, void *ctx)
{
	(void)update;
	trig_launcher_resume(ctx, id, begin);
}

static int cmd_serve(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "state", required_argument, NULL, 's' },
		{ "workers", required_argument, NULL, 'w' },
		{ "workdir", required_argument, NULL, 'd' },
		{ "data", required_argument, NULL, 'D' },
		{ "max-parallel", required_argument, NULL, 'p' },
		{ "grace", required_argument, NULL, 'g' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *listen = "127.0.0.1:8080";
	unsigned workers = 0, parallel = 0;
	int64_t grace_ms = 10000;
	bool quiet = false;
	int o;
	while ((o = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		char *end;
		switch (o) {
		case 'l': listen = optarg; break;
		case 's': c->state_dir = optarg; break;
		case 'd': c->workdir = optarg; break;
		case 'D': c->data_dir = optarg; break;
		case 'w':
		case 'p': {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1024)
				return usage_error(c, "serve", "expected a number from 1 to 1024");
			*(o == 'w' ? &workers : &parallel) = (unsigned)v;
			break;
		}
		case 'g':
			if (trig_parse_duration(optarg, &grace_ms) != 0)
				return usage_error(c, "serve", "--grace takes a duration such as 30s");
			break;
		case 'q': quiet = true; break;
		case 'h':
			printf("usage: %s serve [options]\n\n"
			       "Run the scheduler and the HTTP server until SIGTERM or SIGINT.\n\n"
			       "      --listen ADDR    HOST:PORT to serve on (default 127.0.0.1:8080)\n"
			       "%s"
			       "      --workers N      HTTP threads (default: one per core)\n"
			       "      --workdir DIR    where step commands run (default: from the definitions)\n"
			       "      --data DIR       local data for dataset://, model://, datum:// inputs\n"
			       "                       (default: WORKDIR/data)\n"
			       "      --max-parallel N executions at once (default: the backend's, else one per core)\n"
			       "      --grace D        on shutdown, let executions run this long (default 10s)\n"
			       "  -q, --quiet          log warnings and errors only\n", c->prog, state_help);
			return 0;
		default:
			return usage_error(c, "serve", "bad option");
		}
	}
	if (optind != argc)
		return usage_error(c, "serve", "unexpected argument");
	trig_log_setup(c->prog, quiet ? TRIG_LOG_WARN : TRIG_LOG_INFO, true);

	/* Signals are taken by sigwait below; every thread inherits the mask.
	 * Children get a clean mask from the local backend. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct engine e;
	if (engine_open(&e, c, TRIG_STATE_SERVER, parallel, true, EV_REQUIRED) != 0)
		return EXIT_ENV;
	char err[512];
	struct trig_guard *guard = e.guard;
	int rec = trig_journal_recover(e.st, resume_one, e.launcher, err, sizeof(err));
	if (rec < 0) {
		fprintf(stderr, "%s: error: %s\n", c->prog, err);
		engine_close(&e, 0);
		return EXIT_ENV;
	}
	if (rec > 0)
		trig_error("%s", err);

	struct trig_sched *sched = trig_sched_start(c->p, e.st, e.launcher, err, sizeof(err));
	if (!sched) {
		fprintf(stderr, "%s: error: %s\n", c->prog, err);
		engine_close(&e, 0);
		return EXIT_ENV;
	}
	struct trig_http_config hc = {
		.listen = listen, .workers = workers,
		.launcher = e.launcher, .guard = guard, .state = e.st,
		.events = e.events, .audit = e.audit,
	};
	struct trig_http *http = trig_http_start(c->p, &hc, err, sizeof(err));
	if (!http) {
		fprintf(stderr, "%s: error: %s\n", c->prog, err);
		trig_sched_stop(sched);
		engine_close(&e, 0);
		return EXIT_ENV;
	}
	unsigned nsched = 0;
	for (uint32_t i = 0; i < c->p->ntriggers; i++)
		nsched += c->p->triggers[i].kind == TRIG_KIND_SCHEDULE;
	trig_info("serving project '%s' (%u triggers, %u scheduled) on %s, port %u, state '%s'",
		  c->p->name, c->p->ntriggers, nsched, listen, trig_http_port(http), c->state_dir);
	{
		struct buf tok = BUF_INIT;
		if (trig_admin_token_read(&tok, err, sizeof(err)) == 0)
			trig_info("POST /events is disabled: TRIG_ADMIN_TOKEN is not set");
		trig_secret_release(&tok);
	}
	if (c->p->backend.kind == TRIG_BACKEND_VALOHAI)
		trig_info("launching on Valohai at %s (project %s)", c->p->backend.url,
			  c->p->backend.project_id);

	for (;;) {
		int sig;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			if (trig_guard_reload(guard, err, sizeof(err)) == 0)
				trig_info("SIGHUP: secrets read again");
			else
				trig_error("SIGHUP: %s; the secrets in use are kept", err);
			if (trig_http_reload(http, err, sizeof(err)) != 0)
				trig_error("SIGHUP: %s; the admin token in use is kept", err);
			if (e.valohai) {
				struct buf tok = BUF_INIT;
				if (trig_secret_read(&c->p->backend.token, &tok, err, sizeof(err)) != 0 ||
				    trig_valohai_set_token(e.valohai, buf_cstr(&tok), err, sizeof(err)) != 0)
					trig_error("SIGHUP: %s; the Valohai token in use is kept", err);
				trig_secret_release(&tok);
			}
			continue;
		}
		trig_info("%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
		break;
	}
	trig_http_stop(http);
	trig_sched_stop(sched);
	engine_close(&e, grace_ms);
	trig_info("stopped");
	return 0;
}

/* The options of a listing command, `CMD [--json] [--state DIR]`, with
 * ABOUT its help: -1 to go on (*json set), else the exit status (0 after
 * --help, a usage error). */
static int list_options(struct cli *c, int argc, char **argv, const char *cmd, const char *about,
			const char *what, bool *json)
{
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	*json = false;
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's': c->state_dir = optarg; break;
		case 'j': *json = true; break;
		case 'h':
			printf("usage: %s %s [--json] [--state DIR]\n\n%s\n\n%s"
			       "      --json           one JSON object per %s\n", c->prog, cmd, about,
			       state_help, what);
			return 0;
		default:
			return usage_error(c, cmd, "bad option");
		}
	}
	if (optind != argc)
		return usage_error(c, cmd, "unexpected argument");
	return -1;
}

/* ------------------------------------------------------------ list, next */

static int64_t next_fire(const struct trig_trigger *t, int64_t after_ms)
{
	char err[256];
	return trig_sched_next(t, after_ms, after_ms, err, sizeof(err));
}

static int cmd_list(struct cli *c, int argc, char **argv)
{
	bool json;
	int rc = list_options(c, argc, argv, "list",
			      "List the triggers: name, kind, enabled, when (cron, route or event)\n"
			      "and the next fire time of schedules.",
			      "trigger", &json);
	if (rc >= 0)
		return rc;
	char err[512];
	struct trig_state *st = trig_state_open(c->state_dir, TRIG_STATE_EXISTING, err, sizeof(err));
	int64_t now = trig_now_ms();
	uint32_t n = c->p->ntriggers;
	struct buf *when = trig_xcalloc(n ? n : 1, sizeof(*when));
	char (*next)[TRIG_RFC3339_MAX] = trig_xcalloc(n ? n : 1, sizeof(*next));
	int wname = 4, wwhen = 4;
	for (uint32_t i = 0; i < n; i++) {
		const struct trig_trigger *t = &c->p->triggers[i];
		strcpy(next[i], "-");
		if (t->kind == TRIG_KIND_SCHEDULE) {
			buf_adds(&when[i], t->schedule->spec);
			if (!t->schedule->every_ms)
				buf_printf(&when[i], " (%s)", t->schedule->timezone);
			int64_t at = next_fire(t, now);
			if (at > 0 && at != INT64_MAX)
				trig_format_rfc3339(next[i], at, 0);
		} else if (t->kind == TRIG_KIND_WEBHOOK) {
			trig_methods_join(t->webhook->methods, ",", &when[i]);
			buf_printf(&when[i], "%s%s", when[i].len ? " " : "", t->webhook->path);
		} else {
			buf_adds(&when[i], t->event);
		}
		if ((int)strlen(t->name) > wname)
			wname = (int)strlen(t->name);
		if ((int)when[i].len > wwhen)
			wwhen = (int)when[i].len;
	}
	if (!json)
		printf("%-*s  %-8s  %-7s  %-*s  %s\n", wname, "NAME", "KIND", "ENABLED", wwhen, "WHEN",
		       "NEXT");
	for (uint32_t i = 0; i < n; i++) {
		const struct trig_trigger *t = &c->p->triggers[i];
		bool enabled = st ? trig_state_enabled(st, t->name, t->enabled) : t->enabled;
		if (json) {
			struct buf b = BUF_INIT;
			buf_adds(&b, "{\"name\":");
			buf_json_cstr(&b, t->name);
			buf_printf(&b, ",\"kind\":\"%s\",\"enabled\":%s,\"when\":", kind_word(t->kind),
				   enabled ? "true" : "false");
			buf_json_cstr(&b, buf_cstr(&when[i]));
			buf_adds(&b, ",\"next\":");
			if (strcmp(next[i], "-"))
				buf_json_cstr(&b, next[i]);
			else
				buf_adds(&b, "null");
			buf_adds(&b, ",\"description\":");
			buf_json_cstr(&b, t->description);
			buf_adds(&b, "}\n");
			fputs(b.data, stdout);
			buf_release(&b);
		} else {
			printf("%-*s  %-8s  %-7s  %-*s  %s\n", wname, t->name, kind_word(t->kind),
			       enabled ? "yes" : "no", wwhen, buf_cstr(&when[i]), next[i]);
		}
		buf_release(&when[i]);
	}
	free(when);
	free(next);
	trig_state_close(st);
	return fflush(stdout) == 0 ? 0 : EXIT_ENV;
}

static int cmd_next(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "after", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	long n = 1;
	int64_t after = trig_now_ms();
	int o;
	while ((o = getopt_long(argc, argv, "n:h", opts, NULL)) != -1) {
		char *end;
		switch (o) {
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 100000)
				return usage_error(c, "next", "-n takes a number from 1 to 100000");
			break;
		case 'a':
			if (trig_parse_rfc3339(optarg, &after) != 0)
				return usage_error(c, "next",
						   "--after takes an RFC 3339 time such as 2026-01-02T00:00:00Z");
			break;
		case 'h':
			printf("usage: %s next NAME [-n N] [--after TIME]\n\n"
			       "Print the next N fire times (default 1) of schedule trigger NAME after\n"
			       "TIME (RFC 3339; default now), one RFC 3339 UTC time per line.  'every'\n"
			       "schedules count from TIME, as a server started then would.\n", c->prog);
			return 0;
		default:
			return usage_error(c, "next", "bad option");
		}
	}
	if (argc - optind != 1)
		return usage_error(c, "next", "expected one trigger name");
	const struct trig_trigger *t = find_trigger(c, argv[optind]);
	if (!t)
		return EXIT_USAGE;
	if (t->kind != TRIG_KIND_SCHEDULE) {
		fprintf(stderr, "%s: trigger '%s' is a %s trigger; only schedules have fire times\n",
			c->prog, t->name, kind_word(t->kind));
		return EXIT_FAIL;
	}
	char err[256];
	int64_t anchor = after, at = after;
	for (long i = 0; i < n; i++) {
		int64_t next = trig_sched_next(t, at, anchor, err, sizeof(err));
		if (next < 0) {
			fprintf(stderr, "%s: error: %s\n", c->prog, err);
			return EXIT_ENV;
		}
		if (next == INT64_MAX)
			break;
		char buf[TRIG_RFC3339_MAX];
		trig_format_rfc3339(buf, next, next % 1000 ? 3 : 0);
		puts(buf);
		at = next;
	}
	return fflush(stdout) == 0 ? 0 : EXIT_ENV;
}

/* ------------------------------------------------------------ fire */

static int read_file(const char *path, char **out, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return -1;
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		buf_add(&b, chunk, n);
		if (b.len > (size_t)64 << 20) {
			errno = EFBIG;
			break;
		}
	}
	int bad = ferror(f) || b.len > (size_t)64 << 20;
	int e = errno;
	if (f != stdin)
		fclose(f);
	if (bad) {
		buf_release(&b);
		errno = e ? e : EIO;
		return -1;
	}
	buf_grow(&b, 0);
	*len = b.len;
	*out = buf_detach(&b);
	return 0;
}

static int cmd_fire(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "payload", required_argument, NULL, 'p' },
		{ "state", required_argument, NULL, 's' },
		{ "workdir", required_argument, NULL, 'd' },
		{ "data", required_argument, NULL, 'D' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *payload_path = NULL;
	bool force = false;
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'p': payload_path = optarg; break;
		case 's': c->state_dir = optarg; break;
		case 'd': c->workdir = optarg; break;
		case 'D': c->data_dir = optarg; break;
		case 'f': force = true; break;
		case 'h':
			printf("usage: %s fire NAME [--payload FILE] [--force]\n\n"
			       "Launch trigger NAME now, as if it fired, and wait for its executions.\n"
			       "Conditions are not checked.  Prints the launch and execution ids; exits\n"
			       "0 when every action started and every execution completed, 1 otherwise.\n\n"
			       "      --payload FILE   a JSON document for the payload.* templates ('-': stdin)\n"
			       "      --force          fire even when the trigger is disabled\n"
			       "      --workdir DIR    where step commands run\n"
			       "      --data DIR       local data for dataset://, model://, datum:// inputs\n"
			       "%s", c->prog, state_help);
			return 0;
		default:
			return usage_error(c, "fire", "bad option");
		}
	}
	if (argc - optind != 1)
		return usage_error(c, "fire", "expected one trigger name");
	const struct trig_trigger *t = find_trigger(c, argv[optind]);
	if (!t)
		return EXIT_USAGE;
	char *payload = NULL;
	size_t payload_len = 0;
	if (payload_path && read_file(payload_path, &payload, &payload_len) != 0) {
		fprintf(stderr, "%s: error: cannot read '%s': %s\n", c->prog, payload_path,
			strerror(errno));
		return EXIT_ENV;
	}
	trig_log_setup(c->prog, TRIG_LOG_INFO, false);
	struct engine e;
	int64_t started = trig_monotonic_us();
	if (engine_open(&e, c, 0, 0, false, has_notifications(c->p) ? EV_TRY : EV_NONE) != 0) {
		free(payload);
		return EXIT_ENV;
	}
	int rc = 0;
	if (!force && !trig_state_enabled(e.st, t->name, t->enabled)) {
		fprintf(stderr, "%s: trigger '%s' is disabled ('%s enable %s', or fire --force)\n",
			c->prog, t->name, c->prog, t->name);
		trig_launcher_audit(e.launcher, t, TRIG_LAUNCH_FIRE, "disabled", 0, NULL, NULL, started);
		rc = EXIT_FAIL;
	} else {
		struct trig_launch_req req = {
			.trigger = t, .kind = TRIG_LAUNCH_FIRE, .payload = payload,
			.payload_len = payload_len, .started_us = started,
		};
		struct trig_launch_info info;
		char err[512];
		if (trig_launch(e.launcher, &req, &info, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: error: %s\n", c->prog, err);
			rc = EXIT_FAIL;
		} else {
			printf("launch %s\n", info.id);
			for (uint32_t i = 0; i < info.nactions && i < 16; i++)
				if (info.action_ids[i][0])
					printf("%s %s\n", t->actions[i].kind == TRIG_ACTION_RUN_EXECUTION
								 ? "execution" : "pipeline",
					       info.action_ids[i]);
			fflush(stdout);
			engine_settle(&e);
			unsigned counts[4];
			trig_launcher_counts(e.launcher, counts);
			unsigned failed = trig_launcher_failed_actions(e.launcher);
			if (failed || counts[TRIG_EXEC_FAILED] + counts[TRIG_EXEC_ERROR] +
					      counts[TRIG_EXEC_STOPPED])
				rc = EXIT_FAIL;
			if (c->p->backend.kind == TRIG_BACKEND_VALOHAI)
				fprintf(stderr, "%s: %u created on Valohai\n", c->prog,
					trig_launcher_submitted(e.launcher));
			else
				fprintf(stderr, "%s: %u completed, %u failed, %u could not start\n",
					c->prog, counts[TRIG_EXEC_COMPLETED], counts[TRIG_EXEC_FAILED],
					counts[TRIG_EXEC_ERROR]);
			if (failed)
				fprintf(stderr, "%s: %u action%s failed or could not start; see '%s logs "
					"%s'\n", c->prog, failed, failed == 1 ? "" : "s", c->prog, t->name);
		}
	}
	engine_close(&e, 0);
	free(payload);
	return rc;
}

/* ------------------------------------------------------------ emit */

static size_t emit_write(char *p, size_t size, size_t n, void *ctx)
{
	struct buf *b = ctx;
	if (b->len > (size_t)16 << 20)
		return 0;       /* an answer this large is not the server's */
	buf_add(b, p, size * n);
	return size * n;
}

/* emit --server: POST the event to URL/events/TYPE with the admin token. */
static int emit_remote(const struct cli *c, const char *server, const char *type,
		       const char *payload, size_t len)
{
	char err[512];
	struct buf tok = BUF_INIT, auth = BUF_INIT, url = BUF_INIT, resp = BUF_INIT;
	int rc = trig_admin_token_read(&tok, err, sizeof(err));
	if (rc <= 0) {
		if (rc == 0)
			snprintf(err, sizeof(err), "TRIG_ADMIN_TOKEN is not set (the server's admin "
				 "token, sent as 'Authorization: Bearer')");
		fprintf(stderr, "%s emit: error: %s\n", c->prog, err);
		trig_secret_release(&tok);
		return EXIT_ENV;
	}
	size_t n = strlen(server);
	while (n && server[n - 1] == '/')
		n--;
	buf_add(&url, server, n);
	buf_printf(&url, "/events/%s", type);
	buf_adds(&auth, "Authorization: Bearer ");
	buf_add(&auth, tok.data, tok.len);
	trig_secret_release(&tok);

	rc = EXIT_ENV;
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(h = curl_easy_init())) {
		fprintf(stderr, "%s emit: error: cannot initialise libcurl\n", c->prog);
		goto out;
	}
	hdrs = curl_slist_append(hdrs, auth.data);
	hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (!hdrs) {
		fprintf(stderr, "%s emit: error: out of memory\n", c->prog);
		goto out;
	}
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_URL, url.data);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, emit_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		/* The URL as given: the token is in a header, never in it. */
		fprintf(stderr, "%s emit: error: cannot post to '%s': %s\n", c->prog, url.data,
			cerr[0] ? cerr : curl_easy_strerror(cc));
		goto out;
	}
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (resp.len)
		fwrite(resp.data, 1, resp.len, stdout);
	if (resp.len && resp.data[resp.len - 1] != '\n')
		fputc('\n', stdout);
	if (fflush(stdout) != 0) {
		rc = EXIT_ENV;
		goto out;
	}
	if (status >= 200 && status < 300) {
		rc = 0;
	} else {
		fprintf(stderr, "%s emit: the server answered %ld\n", c->prog, status);
		rc = EXIT_FAIL;
	}
out:
	curl_slist_free_all(hdrs);
	if (h)
		curl_easy_cleanup(h);
	trig_secret_release(&auth);
	buf_release(&url);
	buf_release(&resp);
	return rc;
}

static int cmd_emit(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "payload", required_argument, NULL, 'p' },
		{ "server", required_argument, NULL, 'S' },
		{ "state", required_argument, NULL, 's' },
		{ "workdir", required_argument, NULL, 'd' },
		{ "data", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *payload_path = NULL, *server = NULL;
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'p': payload_path = optarg; break;
		case 'S': server = optarg; break;
		case 's': c->state_dir = optarg; break;
		case 'd': c->workdir = optarg; break;
		case 'D': c->data_dir = optarg; break;
		case 'h':
			printf("usage: %s emit TYPE [--payload FILE] [--server URL]\n\n"
			       "Send a notification event of type TYPE (dataset_version_created,\n"
			       "model_latest_approved_version_changed, ... or a custom type) in\n"
			       "Valohai's notification format.  Every enabled notification trigger on\n"
			       "TYPE judges it and launches if its conditions pass.\n\n"
			       "With --server, the event is posted to URL/events/TYPE with the admin\n"
			       "token from TRIG_ADMIN_TOKEN (or the file TRIG_ADMIN_TOKEN_FILE names),\n"
			       "and the server's answer is printed; exits 0 when it answered 2xx.\n"
			       "Without it, the event is dispatched here, as 'fire' launches: prints\n"
			       "the summary, waits for the launches (and those their events cause),\n"
			       "and exits 0 when something launched and nothing failed, 1 otherwise.\n\n"
			       "      --payload FILE   the event, a JSON object ('-': stdin; default {});\n"
			       "                       its \"type\" must be TYPE or absent\n"
			       "      --server URL     a running server, e.g. http://127.0.0.1:8080\n"
			       "      --workdir DIR    where step commands run\n"
			       "      --data DIR       local data for dataset://, model://, datum:// inputs\n"
			       "%s", c->prog, state_help);
			return 0;
		default:
			return usage_error(c, "emit", "bad option");
		}
	}
	if (argc - optind != 1)
		return usage_error(c, "emit", "expected one event type");
	const char *type = argv[optind];
	if (!trig_event_type_valid(type, strlen(type)))
		return usage_error(c, "emit", "the event type must match [a-z][a-z0-9_.-]* "
				   "(128 characters at most)");
	char *payload = NULL;
	size_t len = 0;
	if (payload_path && read_file(payload_path, &payload, &len) != 0) {
		fprintf(stderr, "%s: error: cannot read '%s': %s\n", c->prog, payload_path,
			strerror(errno));
		return EXIT_ENV;
	}
	if (!payload) {
		payload = trig_xstrdup("{}");
		len = 2;
	}
	if (len > TRIG_EVENTS_MAX_BODY) {
		fprintf(stderr, "%s emit: error: the event is larger than 1 MiB\n", c->prog);
		free(payload);
		return EXIT_USAGE;
	}
	if (server) {
		int rc = emit_remote(c, server, type, payload, len);
		free(payload);
		return rc;
	}

	trig_log_setup(c->prog, TRIG_LOG_INFO, false);
	struct engine e;
	if (engine_open(&e, c, 0, 0, false, EV_REQUIRED) != 0) {
		free(payload);
		return EXIT_ENV;
	}
	struct buf summary = BUF_INIT;
	struct trig_events_stats st;
	char err[512];
	int rc = 0;
	int n = trig_events_post(e.events, type, payload, len, 0, NULL, &summary, &st, err,
				 sizeof(err));
	if (n < 0) {
		fprintf(stderr, "%s emit: error: %s\n", c->prog, err);
		rc = EXIT_USAGE;
	} else {
		buf_addc(&summary, '\n');
		fputs(summary.data, stdout);
		fflush(stdout);
		if (n == 0) {
			fprintf(stderr, "%s: no notification trigger launched for event '%s' (%u "
				"waited for it; see '%s logs')\n", c->prog, type, st.matched, c->prog);
			rc = EXIT_FAIL;
		}
		engine_settle(&e);
		unsigned counts[4];
		trig_launcher_counts(e.launcher, counts);
		unsigned failed = trig_launcher_failed_actions(e.launcher);
		if (st.failed || failed || counts[TRIG_EXEC_FAILED] + counts[TRIG_EXEC_ERROR] +
						      counts[TRIG_EXEC_STOPPED])
			rc = EXIT_FAIL;
		if (n > 0 && c->p->backend.kind == TRIG_BACKEND_VALOHAI)
			fprintf(stderr, "%s: %u created on Valohai\n", c->prog,
				trig_launcher_submitted(e.launcher));
		else if (n > 0)
			fprintf(stderr, "%s: %u completed, %u failed, %u could not start\n", c->prog,
				counts[TRIG_EXEC_COMPLETED], counts[TRIG_EXEC_FAILED],
				counts[TRIG_EXEC_ERROR]);
	}
	buf_release(&summary);
	engine_close(&e, 0);
	free(payload);
	return rc;
}

/* ------------------------------------------------------------ check */

static int cmd_check(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "request", required_argument, NULL, 'r' },
		{ "payload", required_argument, NULL, 'p' },
		{ "header", required_argument, NULL, 'H' },
		{ "method", required_argument, NULL, 'X' },
		{ "remote", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *request_path = NULL, *payload_path = NULL, *method = NULL, *remote = NULL;
	const char **headers = NULL;
	size_t nheaders = 0;
	int o, rc = EXIT_FAIL;
	while ((o = getopt_long(argc, argv, "hH:X:", opts, NULL)) != -1) {
		switch (o) {
		case 'r': request_path = optarg; break;
		case 'p': payload_path = optarg; break;
		case 'X': method = optarg; break;
		case 'a': remote = optarg; break;
		case 'H':
			headers = trig_xrealloc(headers, (nheaders + 1) * sizeof(*headers));
			headers[nheaders++] = optarg;
			break;
		case 'h':
			printf("usage: %s check NAME (--request FILE | --payload FILE [-H 'Name: value']...)\n\n"
			       "Judge a request against trigger NAME as the server would, and print each\n"
			       "condition's verdict and reason, then the actions rendered as they would\n"
			       "run.  Nothing is launched or recorded.  Exits 0 if the request would\n"
			       "launch, 1 if not.  Secrets are read from the environment and files as\n"
			       "by 'serve'.\n\n"
			       "      --request FILE   a whole HTTP request: request line, headers, empty\n"
			       "                       line, body ('-': stdin)\n"
			       "      --payload FILE   the body of a request to the trigger's path\n"
			       "  -H, --header 'K: V'  a header of that request (repeatable)\n"
			       "  -X, --method M       its method (default: POST, or the webhook's first)\n"
			       "      --remote IP      the client address (default 127.0.0.1)\n", c->prog);
			free(headers);
			return 0;
		default:
			free(headers);
			return usage_error(c, "check", "bad option");
		}
	}
	if (argc - optind != 1 || !!request_path == !!payload_path) {
		free(headers);
		return usage_error(c, "check", "expected a trigger name and one of --request, --payload");
	}
	if (request_path && (nheaders || method)) {
		free(headers);
		return usage_error(c, "check", "-H and -X go with --payload; --request has its own");
	}
	const struct trig_trigger *t = find_trigger(c, argv[optind]);
	if (!t) {
		free(headers);
		return EXIT_USAGE;
	}
	char *text = NULL;
	size_t len = 0;
	const char *file = request_path ? request_path : payload_path;
	if (read_file(file, &text, &len) != 0) {
		fprintf(stderr, "%s: error: cannot read '%s': %s\n", c->prog, file, strerror(errno));
		free(headers);
		return EXIT_ENV;
	}
	struct trig_request r;
	trig_request_init(&r);
	char err[512];
	struct trig_json_query *paths = paths_query(c->p);
	struct trig_guard *g = NULL;
	if (request_path) {
		if (trig_request_parse(&r, text, len, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: error: %s: %s\n", c->prog, request_path, err);
			rc = EXIT_USAGE;
			goto out;
		}
	} else {
		struct buf first = BUF_INIT;
		if (!method) {
			/* POST, or the first method the webhook takes. */
			method = "POST";
			if (t->webhook && !(t->webhook->methods & TRIG_POST)) {
				unsigned m = t->webhook->methods;
				trig_methods_join(m & -m, "", &first);
				method = buf_cstr(&first);
			}
		}
		char target[1024];
		snprintf(target, sizeof(target), "%s", t->webhook ? t->webhook->path
					   : t->event ? "/events" : "/");
		trig_request_set_target(&r, method, target);
		buf_release(&first);
		for (size_t i = 0; i < nheaders; i++) {
			const char *colon = strchr(headers[i], ':');
			if (!colon || colon == headers[i]) {
				fprintf(stderr, "%s check: -H '%s': expected 'Name: value'\n", c->prog, headers[i]);
				rc = EXIT_USAGE;
				goto out;
			}
			const char *v = colon + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			trig_request_add_header(&r, headers[i], (size_t)(colon - headers[i]), v, strlen(v));
		}
		trig_request_set_body(&r, text, len);
	}
	if (trig_request_set_remote_text(&r, remote ? remote : "127.0.0.1") != 0) {
		fprintf(stderr, "%s check: --remote '%s' is not an IP address\n", c->prog, remote);
		rc = EXIT_USAGE;
		goto out;
	}
	g = trig_guard_new(c->p, paths, err, sizeof(err));
	if (!g) {
		fprintf(stderr, "%s: error: %s\n", c->prog, err);
		rc = EXIT_ENV;
		goto out;
	}
	rc = trig_dry_run(g, t, &r, trig_now_ms(), stdout);
out:
	trig_guard_free(g);
	trig_json_query_free(paths);
	trig_request_release(&r);
	free(text);
	free(headers);
	return rc;
}

/* ------------------------------------------------------------ enable, disable */

static int cmd_enable(struct cli *c, int argc, char **argv, bool enable)
{
	const char *cmd = enable ? "enable" : "disable";
	static const struct option opts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int o;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 's': c->state_dir = optarg; break;
		case 'h':
			printf("usage: %s %s NAME [--state DIR]\n\n"
			       "%s trigger NAME.  The setting is kept in the state folder and a\n"
			       "running server sees it at its next tick or request.\n\n%s",
			       c->prog, cmd, enable ? "Enable" : "Disable", state_help);
			return 0;
		default:
			return usage_error(c, cmd, "bad option");
		}
	}
	if (argc - optind != 1)
		return usage_error(c, cmd, "expected one trigger name");
	const struct trig_trigger *t = find_trigger(c, argv[optind]);
	if (!t)
		return EXIT_USAGE;
	char err[512];
	struct trig_state *st = trig_state_open(c->state_dir, 0, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "%s: error: %s\n", c->prog, err);
		return EXIT_ENV;
	}
	int rc = 0;
	if (trig_state_set_enabled(st, t->name, enable) != 0) {
		fprintf(stderr, "%s: error: cannot save the setting in '%s': %s\n", c->prog,
			c->state_dir, strerror(errno));
		rc = EXIT_ENV;
	} else {
		fprintf(stderr, "%s: trigger '%s' %s\n", c->prog, t->name, enable ? "enabled" : "disabled");
	}
	trig_state_close(st);
	return rc;
}

/* ------------------------------------------------------------ logs */

struct logs_ctx {
	const char *trigger, *outcome;
	int64_t since_ms;
	bool json;
	struct trig_json_query *q;
	int err;
};

enum { L_TIME, L_TRIGGER, L_KIND, L_OUTCOME, L_LAUNCH, L_CONDITION, L_REASON, L_TICK, L_ACTIONS, L_N };

static void text_of(const struct trig_json_value *v, struct buf *out)
{
	buf_reset(out);
	if (v->type != TRIG_JSON_ABSENT && v->type != TRIG_JSON_NULL)
		trig_json_string(v, out);
}

static int logs_line(const char *line, size_t len, void *arg)
{
	struct logs_ctx *lc = arg;
	struct trig_json_value v[L_N];
	if (trig_json_extract(lc->q, line, len, v, NULL) != 0)
		return 0;       /* not ours to judge: skip a damaged line */
	struct buf f[L_N];
	for (int i = 0; i < L_N; i++) {
		f[i] = (struct buf)BUF_INIT;
		if (i != L_ACTIONS)
			text_of(&v[i], &f[i]);
	}
	bool keep = true;
	if (lc->trigger && strcmp(buf_cstr(&f[L_TRIGGER]), lc->trigger))
		keep = false;
	if (lc->outcome && strcmp(buf_cstr(&f[L_OUTCOME]), lc->outcome))
		keep = false;
	int64_t t;
	if (lc->since_ms && (trig_parse_rfc3339(buf_cstr(&f[L_TIME]), &t) != 0 || t < lc->since_ms))
		keep = false;
	if (keep && lc->json) {
		fwrite(line, 1, len, stdout);
		fputc('\n', stdout);
	} else if (keep) {
		printf("%s  %-20s %-8s %-12s", buf_cstr(&f[L_TIME]), buf_cstr(&f[L_TRIGGER]),
		       buf_cstr(&f[L_KIND]), buf_cstr(&f[L_OUTCOME]));
		if (f[L_LAUNCH].len)
			printf(" %s", buf_cstr(&f[L_LAUNCH]));
		/* Each action: its kind, step and id. */
		struct trig_json_iter it;
		struct trig_json_value item;
		if (v[L_ACTIONS].type == TRIG_JSON_ARRAY && trig_json_iter_begin(&it, &v[L_ACTIONS]) == 0) {
			struct trig_json_query *aq = trig_json_query_new();
			static const char *const af[] = { "action", "step", "id", "status", "error" };
			for (int i = 0; i < 5; i++)
				trig_json_query_add_text(aq, af[i], NULL);
			struct trig_json_value av[5];
			struct buf s = BUF_INIT;
			while (trig_json_iter_next(&it, NULL, &item) == 1) {
				if (trig_json_extract(aq, item.raw, item.len, av, NULL) != 0)
					continue;
				fputs(" [", stdout);
				for (int i = 0; i < 5; i++) {
					text_of(&av[i], &s);
					if (s.len)
						printf("%s%s", i ? " " : "", s.data);
				}
				fputc(']', stdout);
			}
			buf_release(&s);
			trig_json_query_free(aq);
		}
		if (f[L_CONDITION].len)
			printf(" condition=%s", buf_cstr(&f[L_CONDITION]));
		if (f[L_REASON].len)
			printf(" reason=\"%s\"", buf_cstr(&f[L_REASON]));
		fputc('\n', stdout);
	}
	for (int i = 0; i < L_N; i++)
		buf_release(&f[i]);
	if (fflush(stdout) != 0) {
		lc->err = errno;
		return 1;
	}
	return 0;
}

static void logs_signal(int sig)
{
	(void)sig;
	logs_stop = 1;
}

static int cmd_logs(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "since", required_argument, NULL, 'S' },
		{ "outcome", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "follow", no_argument, NULL, 'f' },
		{ "state", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct logs_ctx lc = { 0 };
	bool follow = false;
	int o;
	while ((o = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
		switch (o) {
		case 'S': {
			int64_t d;
			if (trig_parse_duration(optarg, &d) == 0)
				lc.since_ms = trig_now_ms() - d;
			else if (trig_parse_rfc3339(optarg, &lc.since_ms) != 0)
				return usage_error(c, "logs", "--since takes a duration (1h) or an RFC 3339 time");
			break;
		}
		case 'o': {
			static const char *const outcomes[] = {
				"launched", "not-matched", "rejected", "rate-limited", "replayed",
				"disabled", "skipped", "error", NULL
			};
			bool ok = false;
			for (const char *const *w = outcomes; *w; w++)
				ok = ok || !strcmp(*w, optarg);
			if (!ok)
				return usage_error(c, "logs", "--outcome is one of launched, not-matched, "
						   "rejected, rate-limited, replayed, disabled, skipped, "
						   "error");
			lc.outcome = optarg;
			break;
		}
		case 'j': lc.json = true; break;
		case 'f': follow = true; break;
		case 's': c->state_dir = optarg; break;
		case 'h':
			printf("usage: %s logs [NAME] [--since D] [--outcome X] [--json] [--follow]\n\n"
			       "Print the audit log: every tick, request, event and manual fire.\n\n"
			       "      --since D        only records of the last D (1h, 2d) or since an RFC 3339 time\n"
			       "      --outcome X      launched, not-matched, rejected, rate-limited, replayed,\n"
			       "                       disabled, skipped or error\n"
			       "      --json           the records as they are stored, one JSON object per line\n"
			       "  -f, --follow         keep printing records as they are written\n%s",
			       c->prog, state_help);
			return 0;
		default:
			return usage_error(c, "logs", "bad option");
		}
	}
	if (argc - optind > 1)
		return usage_error(c, "logs", "expected at most one trigger name");
	if (argc - optind == 1) {
		if (!find_trigger(c, argv[optind]))
			return EXIT_USAGE;
		lc.trigger = argv[optind];
	}
	char err[512];
	struct trig_state *st = trig_state_open(c->state_dir, TRIG_STATE_EXISTING, err, sizeof(err));
	if (!st) {
		fprintf(stderr, "%s: error: %s\n", c->prog, err);
		return EXIT_ENV;
	}
	static const char *const fields[L_N] = {
		"time", "trigger", "kind", "outcome", "launch", "condition", "reason", "tick", "actions"
	};
	lc.q = trig_json_query_new();
	for (int i = 0; i < L_N; i++)
		trig_json_query_add_text(lc.q, fields[i], NULL);
	if (follow) {
		struct sigaction sa = { .sa_handler = logs_signal };
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	int rc = trig_audit_read(st, logs_line, &lc, follow, &logs_stop);
	trig_json_query_free(lc.q);
	trig_state_close(st);
	if (lc.err && lc.err != EPIPE) {
		fprintf(stderr, "%s: error: cannot write: %s\n", c->prog, strerror(lc.err));
		return EXIT_ENV;
	}
	if (rc < 0 && !lc.err) {
		fprintf(stderr, "%s: error: cannot read the audit log: %s\n", c->prog, strerror(errno));
		return EXIT_ENV;
	}
	return 0;
}

/* ------------------------------------------------------------ executions */

/* Execution ids sort by time: "e-ULID" and "p-ULID.NODE" (a pipeline's
 * node) by their ULIDs, whatever the prefix; other names after them. */
static int cmp_names(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	bool ux = x[0] && x[1] == '-', uy = y[0] && y[1] == '-';
	if (ux != uy)
		return ux ? -1 : 1;
	int c = strcmp(ux ? x + 2 : x, uy ? y + 2 : y);
	return c ? c : strcmp(x, y);
}

static int cmd_executions(struct cli *c, int argc, char **argv)
{
	bool json;
	int rc = list_options(c, argc, argv, "executions",
			      "List the executions run by the local backend, oldest first (a pipeline's\n"
			      "nodes, RUN.NODE, at the time of their run), with their trigger, step,\n"
			      "status and exit code.  Each one's folder under STATE/executions/ID holds\n"
			      "its inputs, outputs, stdout.log and stderr.log.",
			      "execution", &json);
	if (rc >= 0)
		return rc;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/executions", c->state_dir);
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "%s: error: cannot read '%s': %s\n", c->prog, dir, strerror(errno));
		return EXIT_ENV;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = trig_xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = trig_xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);

	struct trig_json_query *q = trig_json_query_new();
	static const char *const f[] = {
		"trigger", "step", "launch", "status", "exit_code", "started", "duration_ms", "error"
	};
	for (int i = 0; i < 8; i++)
		trig_json_query_add_text(q, f[i], NULL);
	int wid = 28;           /* "e-" and a ULID; a pipeline node's id is longer */
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) > (size_t)wid && strlen(names[i]) < 200)
			wid = (int)strlen(names[i]);
	if (!json)
		printf("%-*s %-20s %-16s %-10s %-5s %-24s %s\n", wid, "ID", "TRIGGER", "STEP",
		       "STATUS", "EXIT", "STARTED", "DURATION");
	for (size_t i = 0; i < n; i++) {
		struct trig_json_value ev[8], sv[8];
		char *etext = NULL, *stext = NULL;
		size_t elen = 0, slen = 0;
		struct buf path = BUF_INIT;
		buf_printf(&path, "%s/%s/execution.json", dir, names[i]);
		bool have_e = read_file(path.data, &etext, &elen) == 0 &&
			      trig_json_extract(q, etext, elen, ev, NULL) == 0;
		buf_reset(&path);
		buf_printf(&path, "%s/%s/status.json", dir, names[i]);
		bool have_s = read_file(path.data, &stext, &slen) == 0 &&
			      trig_json_extract(q, stext, slen, sv, NULL) == 0;
		buf_release(&path);
		struct buf t[8];
		for (int k = 0; k < 8; k++) {
			t[k] = (struct buf)BUF_INIT;
			const struct trig_json_value *src = k < 3 ? (have_e ? &ev[k] : NULL)
								  : (have_s ? &sv[k] : NULL);
			if (src)
				text_of(src, &t[k]);
		}
		const char *status = have_s ? buf_cstr(&t[3]) : "running";
		if (json) {
			struct buf b = BUF_INIT;
			buf_adds(&b, "{\"id\":");
			buf_json_cstr(&b, names[i]);
			const char *keys[] = { "trigger", "step", "launch", "status", "exit_code",
					       "started", "duration_ms", "error" };
			for (int k = 0; k < 8; k++) {
				buf_printf(&b, ",\"%s\":", keys[k]);
				if (k == 3)
					buf_json_cstr(&b, status);
				else if ((k == 4 || k == 6) && t[k].len)
					buf_adds(&b, t[k].data);
				else if (t[k].len)
					buf_json_cstr(&b, t[k].data);
				else
					buf_adds(&b, "null");
			}
			buf_adds(&b, "}\n");
			fputs(b.data, stdout);
			buf_release(&b);
		} else {
			char dur[32] = "-";
			if (t[6].len)
				snprintf(dur, sizeof(dur), "%.1fs", strtod(t[6].data, NULL) / 1000);
			printf("%-*s %-20s %-16s %-10s %-5s %-24s %s\n", wid, names[i], buf_cstr(&t[0]),
			       buf_cstr(&t[1]), status, t[4].len ? t[4].data : "-",
			       t[5].len ? t[5].data : "-", dur);
		}
		for (int k = 0; k < 8; k++)
			buf_release(&t[k]);
		free(etext);
		free(stext);
		free(names[i]);
	}
	free(names);
	trig_json_query_free(q);
	return fflush(stdout) == 0 ? 0 : EXIT_ENV;
}

/* ------------------------------------------------------------ pipelines */

static int cmd_pipelines(struct cli *c, int argc, char **argv)
{
	bool json;
	int rc = list_options(c, argc, argv, "pipelines",
			      "List the pipeline runs of the local backend, newest first, with their\n"
			      "status, duration and nodes completed.  Each run's folder under\n"
			      "STATE/pipelines/ID holds pipeline.json and status.json; its nodes are\n"
			      "the executions ID.NODE (see the executions command).",
			      "run", &json);
	if (rc >= 0)
		return rc;
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s/pipelines", c->state_dir);
	if (trig_pipelines_list(dir, json, stdout) != 0) {
		fprintf(stderr, "%s: error: cannot list '%s': %s\n", c->prog, dir, strerror(errno));
		return EXIT_ENV;
	}
	return fflush(stdout) == 0 ? 0 : EXIT_ENV;
}

/* ------------------------------------------------------------ main */

int trig_main(const struct trig_project *p, int argc, char **argv)
{
	const char *slash = argc > 0 ? strrchr(argv[0], '/') : NULL;
	struct cli c = { p, slash ? slash + 1 : argc > 0 ? argv[0] : p->name, TRIG_STATE_DEFAULT_DIR, NULL, NULL };
	trig_log_setup(c.prog, TRIG_LOG_INFO, false);
	if (p->abi != TRIG_ABI) {
		fprintf(stderr, "%s: error: built for runtime ABI %u, linked with %u: rebuild with "
			"the trigc of this runtime\n", c.prog, p->abi, TRIG_ABI);
		return EXIT_ENV;
	}
	if (argc < 2) {
		help_main(&c, stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		help_main(&c, stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("%s: project '%s', definitions %s, built by trigc %s, runtime %s\n", c.prog,
		       p->name, p->defs_hash, p->trigc_version, TRIG_VERSION);
		return 0;
	}
	argv[1] = argv[0];
	argc--;
	argv++;
	if (!strcmp(cmd, "serve"))
		return cmd_serve(&c, argc, argv);
	if (!strcmp(cmd, "list"))
		return cmd_list(&c, argc, argv);
	if (!strcmp(cmd, "next"))
		return cmd_next(&c, argc, argv);
	if (!strcmp(cmd, "fire"))
		return cmd_fire(&c, argc, argv);
	if (!strcmp(cmd, "emit"))
		return cmd_emit(&c, argc, argv);
	if (!strcmp(cmd, "check"))
		return cmd_check(&c, argc, argv);
	if (!strcmp(cmd, "logs"))
		return cmd_logs(&c, argc, argv);
	if (!strcmp(cmd, "enable"))
		return cmd_enable(&c, argc, argv, true);
	if (!strcmp(cmd, "disable"))
		return cmd_enable(&c, argc, argv, false);
	if (!strcmp(cmd, "executions"))
		return cmd_executions(&c, argc, argv);
	if (!strcmp(cmd, "pipelines"))
		return cmd_pipelines(&c, argc, argv);
	fprintf(stderr, "%s: unknown command '%s'\n", c.prog, cmd);
	help_main(&c, stderr);
	return EXIT_USAGE;
}
