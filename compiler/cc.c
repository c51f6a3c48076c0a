/*
 * cc.c — finding the runtime and running the C compiler.
 */
#include "cc.h"

#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static bool is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int try_prefix(struct cc_runtime *rt, const char *prefix)
{
	char h[4096], l[4096];
	snprintf(h, sizeof(h), "%s/include/trig.h", prefix);
	snprintf(l, sizeof(l), "%s/lib/libtrig.a", prefix);
	if (!is_file(h) || !is_file(l))
		return -1;
	snprintf(rt->include_dir, sizeof(rt->include_dir), "%s/include", prefix);
	snprintf(rt->lib, sizeof(rt->lib), "%s", l);
	return 0;
}

int cc_find_runtime(struct cc_runtime *rt, char *err, size_t errlen)
{
	const char *env = getenv("TRIG_RUNTIME_DIR");
	if (env && *env) {
		if (try_prefix(rt, env) == 0)
			return 0;
		snprintf(err, errlen, "TRIG_RUNTIME_DIR='%s' holds no include/trig.h and lib/libtrig.a",
			 env);
		return -1;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			char prefix[PATH_MAX + 8];
			snprintf(prefix, sizeof(prefix), "%s/..", exe);
			if (try_prefix(rt, prefix) == 0)
				return 0;
		}
	}
	snprintf(err, errlen, "cannot find the trig runtime (trig.h and libtrig.a) next to trigc; "
		 "set TRIG_RUNTIME_DIR to the folder holding include/ and lib/");
	return -1;
}

/* Appends the blank-separated words of S to ARGV. */
static void add_words(char **argv, size_t *argc, size_t max, char *s)
{
	for (char *tok = strtok(s, " \t\n"); tok && *argc < max; tok = strtok(NULL, " \t\n"))
		argv[(*argc)++] = tok;
}

int cc_build(const struct cc_runtime *rt, const struct cc_job *job, char *err, size_t errlen)
{
	const char *cc = job->cc ? job->cc : getenv("CC");
	if (!cc || !*cc)
		cc = "cc";
	char *cc_words = strdup(cc);
	char *san = strdup(TRIGC_RUNTIME_CFLAGS);
	char *libs = strdup(TRIGC_RUNTIME_LIBS);
	char *user = strdup(job->cflags ? job->cflags : "");
	char inc[4200];
	if (!cc_words || !san || !libs || !user) {
		snprintf(err, errlen, "out of memory");
		free(cc_words), free(san), free(libs), free(user);
		return -1;
	}
	snprintf(inc, sizeof(inc), "-I%s", rt->include_dir);

	enum { MAX = 256 };
	char *argv[MAX + 1];
	size_t argc = 0;
	add_words(argv, &argc, MAX, cc_words);
	argv[argc++] = "-std=c11";
	argv[argc++] = "-O2";
	add_words(argv, &argc, MAX - 8, san);
	argv[argc++] = inc;
	add_words(argv, &argc, MAX - 8, user);
	argv[argc++] = "-o";
	argv[argc++] = (char *)job->output;
	argv[argc++] = (char *)job->c_file;
	argv[argc++] = (char *)rt->lib;
	add_words(argv, &argc, MAX, libs);
	argv[argc] = NULL;

	if (job->verbose) {
		for (size_t i = 0; i < argc; i++)
			fprintf(stderr, "%s%s", i ? " " : "", argv[i]);
		fputc('\n', stderr);
	}
	int rc = cc_spawn(argv, err, errlen);
	free(cc_words), free(san), free(libs), free(user);
	return rc;
}

int cc_spawn(char *const argv[], char *err, size_t errlen)
{
	pid_t pid;
	int e = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (e != 0) {
		snprintf(err, errlen, "cannot run '%s': %s", argv[0], strerror(e));
		return -1;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(err, errlen, "'%s' failed with exit status %d", argv[0], WEXITSTATUS(status));
	else
		snprintf(err, errlen, "'%s' was killed by signal %d", argv[0], WTERMSIG(status));
	return -1;
}
