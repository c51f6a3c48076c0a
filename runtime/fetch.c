/*
 * fetch.c — git fetch and fast-forward, without a shell.
 */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

static const char *const passed_on[] = {
	"PATH", "HOME", "LANG", "LC_ALL", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND", "GIT_SSH",
};

/* Runs ARGV with output captured into OUT; returns the exit status, or -1
 * with err set when it could not run or ran out of time. */
static int run(char *const argv[], int64_t timeout_ms, struct buf *out, char *err, size_t errlen)
{
	char *env[sizeof(passed_on) / sizeof(passed_on[0]) + 2];
	size_t n = 0;
	struct buf vars[sizeof(passed_on) / sizeof(passed_on[0])];
	for (size_t i = 0; i < sizeof(passed_on) / sizeof(passed_on[0]); i++) {
		vars[i] = (struct buf)BUF_INIT;
		const char *v = getenv(passed_on[i]);
		if (!v && i == 0)
			v = "/usr/local/bin:/usr/bin:/bin";
		if (!v)
			continue;
		buf_printf(&vars[i], "%s=%s", passed_on[i], v);
		env[n++] = vars[i].data;
	}
	env[n++] = "GIT_TERMINAL_PROMPT=0";
	env[n] = NULL;

	int rc = -1, fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawnattr_init(&at);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(fds[1]);
	if (e != 0) {
		snprintf(err, errlen, "cannot run %s: %s", argv[0], strerror(e));
		close(fds[0]);
		goto out;
	}
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	bool timed_out = false;
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left_ms = (long)(timeout_ms - ((now.tv_sec - start.tv_sec) * 1000 +
						    (now.tv_nsec - start.tv_nsec) / 1000000));
		if (left_ms <= 0) {
			timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		struct pollfd p = { fds[0], POLLIN, 0 };
		int pr = poll(&p, 1, (int)(left_ms < 1000 ? left_ms : 1000));
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			continue;
		char chunk[4096];
		ssize_t got = read(fds[0], chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (out->len < 65536)
			buf_add(out, chunk, (size_t)got);
	}
	close(fds[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		snprintf(err, errlen, "%s %s timed out after %lld ms", argv[0], argv[3],
			 (long long)timeout_ms);
	else if (WIFEXITED(status))
		rc = WEXITSTATUS(status);
	else
		snprintf(err, errlen, "%s %s was killed by signal %d", argv[0], argv[3], WTERMSIG(status));
out:
	for (size_t i = 0; i < sizeof(passed_on) / sizeof(passed_on[0]); i++)
		buf_release(&vars[i]);
	return rc;
}

/* The last non-empty line of OUT. */
static void last_line(struct buf *out, char *line, size_t len)
{
	const char *s = buf_cstr(out);
	size_t end = out->len;
	while (end && (s[end - 1] == '\n' || s[end - 1] == '\r'))
		end--;
	size_t start = end;
	while (start && s[start - 1] != '\n')
		start--;
	snprintf(line, len, "%.*s", (int)(end - start), s + start);
}

int trig_fetch_repository(const char *repo, int64_t timeout_ms, char *head, size_t headlen,
			  char *err, size_t errlen)
{
	char *const fetch[] = { "git", "-C", (char *)repo, "fetch", "--quiet", NULL };
	char *const merge[] = { "git", "-C", (char *)repo, "merge", "--ff-only", "--quiet", NULL };
	char *const parse[] = { "git", "-C", (char *)repo, "rev-parse", "HEAD", NULL };
	char *const *steps[] = { fetch, merge, parse };
	if (timeout_ms <= 0)
		timeout_ms = (int64_t)TRIG_FETCH_TIMEOUT_S * 1000;
	for (int i = 0; i < (head ? 3 : 2); i++) {
		struct buf out = BUF_INIT;
		int rc = run(steps[i], timeout_ms, &out, err, errlen);
		if (rc > 0) {
			char line[200];
			last_line(&out, line, sizeof(line));
			snprintf(err, errlen, "git %s in '%s' failed (exit status %d)%s%s", steps[i][3], repo,
				 rc, *line ? ": " : "", line);
		}
		if (rc == 0 && i == 2)
			last_line(&out, head, headlen);
		buf_release(&out);
		if (rc != 0)
			return -1;
	}
	return 0;
}
