/*
 * local.h — the local backend: runs a step's command as a child process on
 * the machine that serves the triggers (SPEC.md §2.0).
 *
 * An execution gets a folder <executions_dir>/<id>/ (0700 dirs, 0600 files):
 *
 *     execution.json   written first: id, launch, trigger, step, title,
 *                      commit, parameters with their final values, inputs,
 *                      names of the environment variables set, the
 *                      rendered command, created time
 *     inputs/NAME/     each input's files (copied or downloaded; the
 *                      request's trusted files), and payload.json in the
 *                      payload input's folder
 *     outputs/         for the step to write to (VH_OUTPUTS_DIR)
 *     stdout.log, stderr.log
 *     pid              written by the supervisor (below) before the command
 *                      starts: "PID STARTTIME STARTED_MS COMMAND_MS\n", the
 *                      supervisor's pid and start time (clock ticks after
 *                      boot, /proc/PID/stat field 22: a reused pid has
 *                      another), the execution's start and the command's
 *                      start (unix ms)
 *     exit             written by the supervisor when the command has
 *                      ended by itself: "exit CODE ENDED_MS\n" or
 *                      "signal SIG ENDED_MS\n"
 *     status.json      written last, by the server: status, exit_code,
 *                      signal, error, started, ended (RFC 3339 UTC, ms),
 *                      duration_ms
 * (pid, exit and status.json are each written atomically: tmp + rename.
 * Only status.json is fsynced, with its folder: it is what a resumed launch
 * trusts.  The rest serves a restart after a crash of the server, whose
 * writes the kernel keeps; after a crash of the machine no command is left
 * running, and an attempt without a status.json simply runs again.)
 *
 * Submitting an id whose folder exists (a launch resumed after a crash):
 *   - status.json exists: nothing runs again, the recorded result is
 *     reported (recorded = true);
 *   - else exit exists: the command ended while the server was down; its
 *     result is reported and status.json written;
 *   - else the pid file's process is alive with the same start time: the
 *     command is still running and is adopted: the worker (holding one of
 *     the max_parallel slots) waits for it (pidfd, else /proc every 50 ms),
 *     then reports it from exit, or, without exit (it was killed while
 *     the server was down), as FAILED with exit code and signal unknown
 *     and an error saying so; trig_local_stop() and the timeout signal its
 *     group like any other;
 *   - else it is an interrupted attempt (a crash before the command ended
 *     and with no survivor, or an execution stopped by trig_local_stop(),
 *     which leaves neither exit nor status.json so that the resumed launch
 *     runs it again): pid, exit, inputs/ and outputs/ are removed, the
 *     logs truncated, and the execution starts over.
 * So a command that was running when the server was killed runs once.
 *
 * The command is the step's command (list lines joined with '\n') with
 * valohai.yaml's interpolations (valohai-yaml's build_command):
 *
 *     {parameters} {params}    every parameter that has a value, in the
 *                              step's order, as --NAME=VALUE or as its
 *                              pass-as pattern ({name}, {value}, {v}; the
 *                              pattern is split on white space, one word
 *                              per piece); a flag is --NAME when true and
 *                              left out when false
 *     {parameter:NAME}         that parameter's value alone (SPEC.md 2.0;
 *     {parameter-value:NAME}   valohai-yaml makes the first --NAME=VALUE)
 *
 * Every word is quoted for sh (shquote.h), so text from a request is always
 * exactly one argument and is never interpreted by the shell.  Any other
 * {...} text is left as is.  Values are typed: integer ([+-]?[0-9]+),
 * float (decimal, optional exponent), flag (true/false/yes/no/1/0, any
 * case), string; a bad value, an unknown parameter or a required parameter
 * without a value is an ERROR result and nothing runs.
 *
 * The command runs as `/bin/sh -e -c COMMAND` (-e: like valohai, the
 * execution stops at the first failing command line and fails), in the
 * backend's workdir, with stdin /dev/null, stdout and stderr in the log
 * files, no other descriptor, no signal blocked or ignored, and an
 * environment built from scratch:
 * PATH, HOME, LANG (config), the step's environment-variables, the
 * request's overrides, then VH_INPUTS_DIR, VH_OUTPUTS_DIR, VH_EXECUTION_ID.
 * Nothing of the server's own environment, so none of its secrets, is
 * passed on.  The step's image is not used: the command runs on this
 * machine, as this user.
 *
 * The supervisor: the server forks a small process that starts a new
 * session and process group, keeps no descriptor of the server, writes the
 * pid file, starts the command (posix_spawn; the command is its child, in
 * its group) and waits for it, writes the exit file, and ends; it and the
 * command outlive a server that is killed.  The server waits for the
 * supervisor and reads the command's exact exit code or signal from the
 * exit file.  When the supervisor ends, whatever the command left running
 * in the group is killed (as when a container ends; a process that leaves
 * the group with setsid() escapes this): by the server, or by the
 * supervisor itself when the server is gone.  SIGTERM, SIGINT or SIGHUP
 * to the group (trig_local_stop(), a timeout, anyone) reaches the command
 * and the supervisor: the supervisor lets the command end (until SIGKILL),
 * writes no exit file and dies of that signal.  The supervisor is a fork
 * of the server: it holds the server's memory copy-on-write (at worst a
 * copy of the server's heap as it was at the fork, a few MB) until the
 * command ends.
 *
 * Timeout (timeout_ms of the request): counted from the command's start
 * (inputs have their own limits); at the timeout SIGTERM goes to the
 * group, SIGKILL kill_after_ms later; the result is FAILED, with the
 * signal that ended it and the error "timed out after N s" ("N ms" when
 * not whole seconds), and status.json is written: a final result, not run
 * again by a resumed launch.  A command that ended on its own at the same
 * moment (exit file written) is reported as it ended.
 *
 * Inputs: a value is an http(s) URL, downloaded with libcurl (connect
 * timeout, stall timeout, size cap, HTTP status >= 400 fails, redirects only
 * to http(s)), named after its URL path's last segment (decoded, then
 * every byte outside A-Za-z0-9._+- replaced by '_', no leading dot); or a
 * path relative to the workdir that must stay inside it (symbolic links
 * included) and name a regular file, copied under its base name; or a
 * Valohai data URI, found in the local data folder (config data_dir):
 * dataset://NAME/VERSION in DATA/datasets/NAME/VERSION, model://NAME/VERSION
 * in DATA/models/NAME/VERSION, datum://ID in DATA/datums/ID — a folder gives
 * every regular file directly in it (not dot-files), a file itself; each
 * segment is [A-Za-z0-9._+-]+, never "." or "..".  Other schemes (file://,
 * s3://) are not supported.  Any failure
 * is an ERROR result naming the input, and nothing runs.  A download goes
 * wherever the URL says, loopback and private addresses included: when a
 * trigger passes request text into an input, its conditions must
 * authenticate the sender.  URLs are recorded in execution.json without
 * user:password and with the query string replaced by "redacted".
 *
 * Ownership: a request's strings and arrays are borrowed until
 * trig_local_submit() or trig_local_run() returns (the step too: it is
 * copied as far as the execution needs it; the files named by `files` are
 * copied when the execution starts, so they must exist until then).  The
 * result passed to a done callback is valid only during the call; a result
 * filled in by trig_local_run() is the caller's, freed with
 * trig_exec_result_release().
 *
 * Thread-safety: submit and run may be called from any thread at once.
 * trig_local_stop() must be the last call on the handle: it returns once
 * every execution (those of trig_local_run() calls in progress included)
 * has ended.  started and done callbacks run on worker threads (on the
 * caller's thread for trig_local_run()), never under a lock of the
 * backend: a callback may call trig_local_submit().
 *
 * The process must not ignore SIGCHLD nor reap children it did not start
 * (no waitpid(-1, ...)): each worker waits for its own child.  libcurl
 * (>= 7.84, whose curl_global_init is thread-safe) is initialised by
 * trig_local_new().  Needs Linux and glibc >= 2.29 (posix_spawn's chdir
 * action).  Uses pidfd_open (Linux 5.3) and close_range (Linux 5.9) where
 * the kernel has them: without pidfds, a timeout polls every 20 ms and an
 * adopted command is watched in /proc every 50 ms; without close_range,
 * the supervisor closes descriptors one by one.
 */
#ifndef TRIG_LOCAL_H
#define TRIG_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "trig.h"

/* A name and a value, both borrowed. */
struct trig_kv {
	const char *name;
	const char *value;
};

/* An execution's command has started: started_ms is unix ms. */
typedef void trig_exec_started_fn(const char *id, int64_t started_ms, void *ctx);

struct trig_exec_request {
	const char *id;                 /* [A-Za-z0-9][A-Za-z0-9._-]{0,127} */
	const char *launch_id;          /* recorded only; may be NULL */
	const char *trigger;            /* recorded only; may be NULL */
	const struct trig_step *step;
	/* Parameter values overriding the step's defaults (a name given twice:
	 * the last wins). */
	const struct trig_kv *params;
	size_t nparams;
	/* Input values: one entry per file (URL or path); a name may repeat.
	 * Naming an input replaces all of the step's defaults for it. */
	const struct trig_kv *inputs;
	size_t ninputs;
	/* Environment variables on top of the step's. */
	const struct trig_kv *env;
	size_t nenv;
	/* Optional: written to inputs/<payload_input>/payload.json. */
	const char *payload_input;
	const void *payload;
	size_t payload_len;
	const char *title, *commit;     /* recorded only; may be NULL */
	/* Trusted absolute paths (pipeline edges: another execution's
	 * outputs; never request text), each copied into inputs/NAME/ under
	 * its base name (2-NAME, 3-NAME... when taken); regular files only;
	 * a problem is an ERROR result.  NAME need not be one of the step's
	 * inputs, but must be a valid input name. */
	const struct trig_kv *files;
	size_t nfiles;
	/* 0: none (< 0: EINVAL).  A command still running this long after it
	 * started gets SIGTERM to its process group, SIGKILL kill_after_ms
	 * later, and is FAILED with error "timed out after N s" (a final
	 * result). */
	int64_t timeout_ms;
	/* May be NULL.  Called at most once, before done, on the thread that
	 * runs the execution, when its command has been started (or adopted
	 * after a restart: started_ms is then the original start); not for a
	 * result read back from status.json or an exit file, nor one that
	 * never started.  Its ctx is the done callback's ctx (NULL under
	 * trig_local_run()). */
	trig_exec_started_fn *started;
};

enum trig_exec_status {
	TRIG_EXEC_COMPLETED,    /* exit code 0 */
	TRIG_EXEC_FAILED,       /* non-zero exit code, or killed by a signal */
	TRIG_EXEC_ERROR,        /* could not start: bad value or input, spawn failure */
	TRIG_EXEC_STOPPED,      /* stopped by trig_local_stop() */
};

struct trig_exec_result {
	const char *id;
	int status;             /* enum trig_exec_status */
	int exit_code;          /* -1 when the process did not exit by itself */
	int signal;             /* the signal that ended it, or 0 */
	int64_t started_ms, ended_ms;   /* unix ms; 0 when it never started */
	const char *error;      /* ERROR and STOPPED: why; NULL otherwise */
	const char *dir;        /* the execution folder (absolute) */
	bool recorded;          /* read back from an existing status.json */
};

/* "completed", "failed", "error", "stopped" (the words of status.json). */
const char *trig_exec_status_name(int status);

/* Frees the strings of a result filled in by trig_local_run(). */
void trig_exec_result_release(struct trig_exec_result *r);

typedef void trig_exec_done_fn(const struct trig_exec_result *r, void *ctx);

struct trig_local_config {
	const char *executions_dir;     /* created (0700, with parents) if missing */
	const char *workdir;            /* absolute; must exist */
	unsigned max_parallel;          /* executions at once, 1..1024 */
	size_t max_queue;               /* waiting executions; 0: 10000 */
	const char *path;               /* PATH of children; NULL: /usr/local/bin:/usr/bin:/bin */
	const char *home;               /* HOME; NULL: the server's $HOME, else "/" */
	const char *lang;               /* LANG; NULL: C.UTF-8 */
	const char *data_dir;           /* Valohai data URIs; NULL: not resolved */
	uint64_t max_input_bytes;       /* per input file; 0: 10 GiB */
	int64_t connect_timeout_ms;     /* downloads; 0: 30 s */
	int64_t stall_timeout_ms;       /* downloads: abort below 1 byte/s this long; 0: 60 s */
	int64_t kill_after_ms;          /* trig_local_stop(): SIGTERM to SIGKILL; 0: 5 s */
};

struct trig_local;

/* Checks the config, creates executions_dir, starts max_parallel workers.
 * NULL with a message in err on failure. */
struct trig_local *trig_local_new(const struct trig_local_config *cfg, char *err, size_t errlen);

/*
 * Queues an execution and returns 0 at once; `done` is called exactly
 * once, from a worker thread, when it has finished or failed to start
 * (bad values and inputs are reported there, as ERROR results).  -1 with
 * errno EINVAL for a malformed request (bad id, no step, no callback),
 * EEXIST when an execution with this id is queued or running, EAGAIN when
 * the queue is full, ECANCELED once trig_local_stop() has begun.
 */
int trig_local_submit(struct trig_local *l, const struct trig_exec_request *req,
		      trig_exec_done_fn *done, void *ctx);

/* Whether the queue of waiting executions is full (a submit now would
 * fail with EAGAIN): the launcher refuses a launch before acknowledging
 * it rather than accept one whose execution cannot be queued. */
bool trig_local_full(struct trig_local *l);

/*
 * Runs an execution in the calling thread (for the CLI's `fire`), outside
 * the max_parallel slots, and fills in *out (release it with
 * trig_exec_result_release()).  Returns 0 when *out holds a result of any
 * status, -1 with errno as trig_local_submit() (EAGAIN aside).
 */
int trig_local_run(struct trig_local *l, const struct trig_exec_request *req,
		   struct trig_exec_result *out);

/*
 * Stops accepting, lets running executions finish for grace_ms, then sends
 * SIGTERM to their process groups and SIGKILL kill_after_ms later (an
 * execution still fetching inputs is aborted); all of them, and those
 * still queued, are reported STOPPED and get no status.json, so that a
 * resumed launch runs them again.
 * Joins the workers and frees l.  NULL is accepted.
 */
void trig_local_stop(struct trig_local *l, int64_t grace_ms);

/*
 * Valohai's execution metadata: every line of <exec_dir>/stdout.log that is
 * a JSON object (surrounding white space allowed), merged into one object,
 * a key's last value winning (keys in order of first appearance), appended
 * to out as JSON text ("{}" when there is none).  Lines that are not JSON
 * objects are ignored; only the last 8 MiB of the log are read.  Returns 0,
 * or -1 with errno (ENOENT: no folder; a log not written yet is "{}").
 * Reentrant; may be called while the execution runs.
 */
int trig_local_metadata(const char *exec_dir, struct buf *out);

/*
 * Renders a step's command with the given parameter values over the
 * defaults (for `check` and tests).  Appends to out and returns 0, or
 * returns -1 with a message in err (out is then unspecified).
 */
int trig_local_render_command(const struct trig_step *step, const struct trig_kv *params,
			      size_t nparams, struct buf *out, char *err, size_t errlen);

#endif
