/*
 * fetch.h — the fetch-repository action on the local backend.
 *
 * Brings the backend's `repository` checkout up to date: `git fetch`, then
 * `git merge --ff-only` of the current branch's upstream, so a later
 * run-execution of the same launch runs the code just pushed.  git runs
 * directly (no shell) with its standard input from /dev/null and an
 * environment reduced to what git needs to reach a remote: PATH, HOME,
 * LANG, LC_ALL, SSH_AUTH_SOCK, GIT_SSH_COMMAND, GIT_SSH, plus
 * GIT_TERMINAL_PROMPT=0 so that it fails instead of asking for a
 * password.  The server's secrets are not passed on.  Each command may
 * take TRIG_FETCH_TIMEOUT_S seconds; then it is killed.
 */
#ifndef TRIG_FETCH_H
#define TRIG_FETCH_H

#include <stddef.h>
#include <stdint.h>

#define TRIG_FETCH_TIMEOUT_S 600

/* 0, or -1 with a message (git's last line of output when it failed).
 * TIMEOUT_MS (0: TRIG_FETCH_TIMEOUT_S per command) bounds each command.
 * HEAD (may be NULL) receives the commit checked out afterwards. */
int trig_fetch_repository(const char *repo, int64_t timeout_ms, char *head, size_t headlen,
			  char *err, size_t errlen);

#endif
