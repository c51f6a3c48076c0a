/*
 * test_state.c — the state folder: creation, format version, permissions,
 * the server lock, enable/disable overrides seen across processes, and the
 * ticks log (reopen, compaction, damage).
 */
#include "unit.h"

#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---------------------------------------------------------- helpers */

static char tmp_root[PATH_MAX];

static void make_root(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmp_root, sizeof(tmp_root), "%s/trig-state-XXXXXX", t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp_root));
}

static void remove_root(void)
{
	chmod(tmp_root, 0700);
	unit_remove_tree(tmp_root);
}

static const char *path_in(const char *rel)
{
	static char p[4][PATH_MAX + 64];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof(p[k]), "%s/%s", tmp_root, rel);
	return p[k];
}

/* A path in the test folder that stays valid (path_in's do not). */
#define DIR_IN(var, rel)                                                \
	char var[PATH_MAX + 64];                                        \
	snprintf(var, sizeof(var), "%s/%s", tmp_root, rel)

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* The whole file, NUL-terminated; the caller frees it. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *s = malloc(cap);
	size_t r;
	while ((r = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n < 2) {
			cap *= 2;
			s = realloc(s, cap);
		}
	}
	fclose(f);
	s[n] = 0;
	return s;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static struct trig_state *open_ok(const char *dir, unsigned flags)
{
	char err[512] = "";
	struct trig_state *st = trig_state_open(dir, flags, err, sizeof(err));
	ck_assert_msg(st != NULL, "open '%s' failed: %s", dir, err);
	return st;
}

/* Runs fn in a child process; returns what it wrote to the pipe. */
static void in_child(void (*fn)(int wfd, void *arg), void *arg, char *out, size_t outlen)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		fn(p[1], arg);
		_exit(0);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < outlen && (r = read(p[0], out + n, outlen - n - 1)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(p[0]);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed");
}

/* ---------------------------------------------------------- opening */

START_TEST(test_create)
{
	make_root();
	DIR_IN(dir, "a/b/state");
	struct trig_state *st = open_ok(dir, 0);
	ck_assert_str_eq(trig_state_dir(st), dir);
	struct stat sb;
	ck_assert_int_eq(stat(dir, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	ck_assert_int_eq(stat(path_in("a/b"), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	ck_assert_int_eq(stat(path_in("a"), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0700);
	char *v = slurp(path_in("a/b/state/VERSION"));
	ck_assert_str_eq(v, "1\n");
	free(v);
	trig_state_close(st);
	/* Opening again keeps it. */
	st = open_ok(dir, TRIG_STATE_SERVER | TRIG_STATE_EXISTING);
	trig_state_close(st);
	remove_root();
}
END_TEST

START_TEST(test_existing_flag)
{
	make_root();
	char err[512], want[2 * PATH_MAX];
	DIR_IN(dir, "missing");
	ck_assert_ptr_null(trig_state_open(dir, TRIG_STATE_EXISTING, err, sizeof(err)));
	snprintf(want, sizeof(want), "state folder '%s' does not exist", dir);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(access(dir, F_OK), -1);
	remove_root();
}
END_TEST

START_TEST(test_version_mismatch)
{
	make_root();
	char err[512], want[2 * PATH_MAX];
	DIR_IN(dir, "st");
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	write_file(path_in("st/VERSION"), "2\n");
	ck_assert_ptr_null(trig_state_open(dir, 0, err, sizeof(err)));
	snprintf(want, sizeof(want),
		 "state folder '%s' has format version 2; this program reads version 1", dir);
	ck_assert_str_eq(err, want);
	/* Refused, and left as it was. */
	char *v = slurp(path_in("st/VERSION"));
	ck_assert_str_eq(v, "2\n");
	free(v);

	write_file(path_in("st/VERSION"), "one\n");
	ck_assert_ptr_null(trig_state_open(dir, 0, err, sizeof(err)));
	snprintf(want, sizeof(want), "state folder '%s' has a malformed VERSION file", dir);
	ck_assert_str_eq(err, want);

	/* A folder with things in it but no VERSION is not ours. */
	ck_assert_int_eq(unlink(path_in("st/VERSION")), 0);
	write_file(path_in("st/notes.txt"), "hello\n");
	ck_assert_ptr_null(trig_state_open(dir, 0, err, sizeof(err)));
	snprintf(want, sizeof(want), "'%s' is not a trig state folder: it is not empty "
		 "and has no VERSION file", dir);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(access(path_in("st/VERSION"), F_OK), -1);

	/* An empty existing folder is initialised. */
	ck_assert_int_eq(unlink(path_in("st/notes.txt")), 0);
	trig_state_close(open_ok(dir, 0));
	v = slurp(path_in("st/VERSION"));
	ck_assert_str_eq(v, "1\n");
	free(v);
	remove_root();
}
END_TEST

START_TEST(test_not_a_directory)
{
	make_root();
	char err[512], want[2 * PATH_MAX];
	write_file(path_in("file"), "x");
	ck_assert_ptr_null(trig_state_open(path_in("file"), 0, err, sizeof(err)));
	snprintf(want, sizeof(want), "state folder '%s' is not a directory", path_in("file"));
	ck_assert_str_eq(err, want);
	remove_root();
}
END_TEST

struct perm_case {
	const char *dir;
	mode_t mode;
};

/* Drops root (which ignores permission bits) before trying the open. */
static void open_as_user(int wfd, void *arg)
{
	const struct perm_case *c = arg;
	if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
		_exit(3);
	char err[512] = "";
	struct trig_state *st = trig_state_open(c->dir, 0, err, sizeof(err));
	if (st) {
		trig_state_close(st);
		snprintf(err, sizeof(err), "opened");
	}
	ssize_t w = write(wfd, err, strlen(err));
	(void)w;
}

START_TEST(test_unwritable)
{
	make_root();
	ck_assert_int_eq(chmod(tmp_root, 0755), 0);
	DIR_IN(dir, "st");
	trig_state_close(open_ok(dir, 0));
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(dir, 65534, 65534), 0);
		ck_assert_int_eq(chown(path_in("st/VERSION"), 65534, 65534), 0);
	}
	char out[512], want[2 * PATH_MAX];
	struct perm_case c = { dir, 0500 };

	ck_assert_int_eq(chmod(dir, 0500), 0);
	in_child(open_as_user, &c, out, sizeof(out));
	snprintf(want, sizeof(want), "state folder '%s' is not writable: %s", dir, strerror(EACCES));
	ck_assert_str_eq(out, want);

	ck_assert_int_eq(chmod(dir, 0300), 0);
	in_child(open_as_user, &c, out, sizeof(out));
	snprintf(want, sizeof(want), "state folder '%s' is not readable: %s", dir, strerror(EACCES));
	ck_assert_str_eq(out, want);

	/* The same user can use it once it is writable again. */
	ck_assert_int_eq(chmod(dir, 0700), 0);
	in_child(open_as_user, &c, out, sizeof(out));
	ck_assert_str_eq(out, "opened");
	remove_root();
}
END_TEST

static void try_server(int wfd, void *arg)
{
	char err[512] = "";
	struct trig_state *st = trig_state_open(arg, TRIG_STATE_SERVER, err, sizeof(err));
	if (st) {
		trig_state_close(st);
		snprintf(err, sizeof(err), "opened");
	}
	ssize_t w = write(wfd, err, strlen(err));
	(void)w;
}

static void try_cli(int wfd, void *arg)
{
	char err[512] = "";
	struct trig_state *st = trig_state_open(arg, 0, err, sizeof(err));
	if (st) {
		trig_state_close(st);
		snprintf(err, sizeof(err), "opened");
	}
	ssize_t w = write(wfd, err, strlen(err));
	(void)w;
}

START_TEST(test_lock_conflict)
{
	make_root();
	DIR_IN(dir, ".trig-state");
	struct trig_state *st = open_ok(dir, TRIG_STATE_SERVER);
	char out[512], want[2 * PATH_MAX];
	snprintf(want, sizeof(want), "%ld\n", (long)getpid());
	char *pid = slurp(path_in(".trig-state/server.lock"));
	ck_assert_str_eq(pid, want);
	free(pid);

	in_child(try_server, (void *)dir, out, sizeof(out));
	snprintf(want, sizeof(want), "state folder '%s' is in use by another server (pid %ld)",
		 dir, (long)getpid());
	ck_assert_str_eq(out, want);
	/* Another handle in the same process conflicts too. */
	char err[512];
	ck_assert_ptr_null(trig_state_open(dir, TRIG_STATE_SERVER, err, sizeof(err)));
	ck_assert_str_eq(err, want);
	/* CLI commands open it alongside. */
	in_child(try_cli, (void *)dir, out, sizeof(out));
	ck_assert_str_eq(out, "opened");

	trig_state_close(st);
	in_child(try_server, (void *)dir, out, sizeof(out));
	ck_assert_str_eq(out, "opened");
	remove_root();
}
END_TEST

/* ---------------------------------------------------------- overrides */

START_TEST(test_overrides_persist)
{
	make_root();
	DIR_IN(dir, "st");
	struct trig_state *a = open_ok(dir, TRIG_STATE_SERVER);
	ck_assert_int_eq(trig_state_enabled(a, "nightly", 1), 1);
	ck_assert_int_eq(trig_state_enabled(a, "nightly", 0), 0);
	ck_assert_int_eq(trig_state_set_enabled(a, "nightly", false), 0);
	ck_assert_int_eq(trig_state_set_enabled(a, "github-push", true), 0);
	ck_assert_int_eq(trig_state_enabled(a, "nightly", 1), 0);
	ck_assert_int_eq(trig_state_enabled(a, "github-push", 0), 1);
	ck_assert_int_eq(trig_state_enabled(a, "other", 1), 1);

	/* Written as documented. */
	char *text = slurp(path_in("st/overrides"));
	ck_assert_ptr_nonnull(strstr(text, "\nnightly disabled\n"));
	ck_assert_ptr_nonnull(strstr(text, "\ngithub-push enabled\n"));
	free(text);

	struct trig_state *b = open_ok(dir, 0);
	ck_assert_int_eq(trig_state_enabled(b, "nightly", 1), 0);
	trig_state_close(b);
	trig_state_close(a);

	a = open_ok(dir, TRIG_STATE_SERVER);
	ck_assert_int_eq(trig_state_enabled(a, "nightly", 1), 0);
	ck_assert_int_eq(trig_state_clear_enabled(a, "nightly"), 0);
	ck_assert_int_eq(trig_state_enabled(a, "nightly", 1), 1);
	ck_assert_int_eq(trig_state_enabled(a, "nightly", 0), 0);
	ck_assert_int_eq(trig_state_clear_enabled(a, "never-set"), 0);
	ck_assert_int_eq(trig_state_enabled(a, "github-push", 0), 1);
	trig_state_close(a);

	a = open_ok(dir, 0);
	ck_assert_int_eq(trig_state_enabled(a, "nightly", 1), 1);
	ck_assert_int_eq(trig_state_set_enabled(a, "", true), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(trig_state_set_enabled(a, "two words", true), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_int_eq(trig_state_set_enabled(a, "new\nline", true), -1);
	ck_assert_int_eq(errno, EINVAL);
	trig_state_close(a);
	remove_root();
}
END_TEST

/* A child that changes overrides on command: reads "+NAME", "-NAME" or
 * "0NAME" lines from cmd, answers "k" on ack after each. */
static void override_child(int cmd, int ack, const char *dir)
{
	char err[512];
	struct trig_state *st = trig_state_open(dir, 0, err, sizeof(err));
	if (!st)
		_exit(2);
	char line[128];
	FILE *in = fdopen(cmd, "r");
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = 0;
		int r = line[0] == '0' ? trig_state_clear_enabled(st, line + 1)
					: trig_state_set_enabled(st, line + 1, line[0] == '+');
		if (r < 0 || write(ack, "k", 1) != 1)
			_exit(3);
	}
	fclose(in);
	trig_state_close(st);
	_exit(0);
}

START_TEST(test_overrides_other_process)
{
	make_root();
	DIR_IN(dir, "st");
	trig_state_close(open_ok(dir, 0));
	int cmd[2], ack[2];
	ck_assert_int_eq(pipe(cmd), 0);
	ck_assert_int_eq(pipe(ack), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(cmd[1]);
		close(ack[0]);
		override_child(cmd[0], ack[1], dir);
	}
	close(cmd[0]);
	close(ack[1]);
	/* Opened after the fork: the child owns none of our memory. */
	struct trig_state *st = open_ok(dir, TRIG_STATE_SERVER);
	ck_assert_int_eq(trig_state_enabled(st, "t", 1), 1);
	/* Many changes in quick succession: the file keeps its size and may
	 * get back an inode number within one timestamp tick; every change
	 * must still be seen by the running handle at its next call. */
	int expect = 1;
	for (int i = 0; i < 200; i++) {
		int what = (i * 7 + 3) % 3;     /* enable, disable, clear */
		char line[32];
		snprintf(line, sizeof(line), "%ct\n", what == 0 ? '+' : what == 1 ? '-' : '0');
		ck_assert_int_eq(write(cmd[1], line, strlen(line)), (ssize_t)strlen(line));
		char k;
		ck_assert_int_eq(read(ack[0], &k, 1), 1);
		expect = what == 0 ? 1 : what == 1 ? 0 : -1;
		int dflt = i & 1;
		int want = expect < 0 ? dflt : expect;
		ck_assert_msg(trig_state_enabled(st, "t", dflt) == want, "round %d: stale override", i);
	}
	close(cmd[1]);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ack[0]);
	trig_state_close(st);
	remove_root();
}
END_TEST

START_TEST(test_overrides_malformed)
{
	make_root();
	DIR_IN(dir, "st");
	struct trig_state *st = open_ok(dir, TRIG_STATE_SERVER);
	ck_assert_int_eq(trig_state_set_enabled(st, "a", false), 0);
	ck_assert_int_eq(trig_state_enabled(st, "a", 1), 0);

	/* A running server keeps the last good table when the file turns bad. */
	const char *bad = "# edited by hand\na disabled\nb maybe\n";
	write_file(path_in("st/overrides"), bad);
	ck_assert_int_eq(trig_state_enabled(st, "a", 1), 0);
	ck_assert_int_eq(trig_state_enabled(st, "b", 1), 1);
	/* Changing it needs a good file: refused, file untouched. */
	ck_assert_int_eq(trig_state_set_enabled(st, "c", false), -1);
	ck_assert_int_eq(errno, EBADMSG);
	trig_state_close(st);

	char err[512], want[2 * PATH_MAX];
	ck_assert_ptr_null(trig_state_open(dir, TRIG_STATE_SERVER, err, sizeof(err)));
	snprintf(want, sizeof(want), "'%s/overrides' line 3: malformed override \"b maybe\" "
		 "(expected 'NAME enabled' or 'NAME disabled')", dir);
	ck_assert_str_eq(err, want);
	char *text = slurp(path_in("st/overrides"));
	ck_assert_str_eq(text, bad);
	free(text);

	/* Fixed by hand: read, comments and blank lines allowed. */
	write_file(path_in("st/overrides"), "# x\n\n  a   enabled  \nb disabled\n");
	st = open_ok(dir, 0);
	ck_assert_int_eq(trig_state_enabled(st, "a", 0), 1);
	ck_assert_int_eq(trig_state_enabled(st, "b", 1), 0);
	trig_state_close(st);
	remove_root();
}
END_TEST

START_TEST(test_overrides_racy)
{
	/* The worst case for a stat()-based cache: the file changes within
	 * one timestamp tick without changing inode, size or mtime.  A table
	 * read less than a second after the file's mtime is not trusted. */
	make_root();
	DIR_IN(dir, "st");
	DIR_IN(path, "st/overrides");
	trig_state_close(open_ok(dir, 0));
	write_file(path, "ab disabled\nxy enabled\n");
	struct trig_state *st = open_ok(dir, TRIG_STATE_SERVER);
	ck_assert_int_eq(trig_state_enabled(st, "ab", 1), 0);
	ck_assert_int_eq(trig_state_enabled(st, "xy", 0), 1);
	struct stat before, after;
	ck_assert_int_eq(stat(path, &before), 0);
	int fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	const char *swapped = "ab enabled\nxy disabled\n";
	ck_assert_int_eq(write(fd, swapped, strlen(swapped)), (ssize_t)strlen(swapped));
	ck_assert_int_eq(close(fd), 0);
	struct timespec ts[2] = { before.st_atim, before.st_mtim };
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	ck_assert_int_eq(stat(path, &after), 0);
	ck_assert(after.st_ino == before.st_ino && after.st_size == before.st_size &&
		  after.st_mtim.tv_sec == before.st_mtim.tv_sec &&
		  after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);
	ck_assert_int_eq(trig_state_enabled(st, "ab", 0), 1);
	ck_assert_int_eq(trig_state_enabled(st, "xy", 1), 0);
	trig_state_close(st);
	remove_root();
}
END_TEST

struct flip_arg {
	struct trig_state *st;
	int rounds;
};

static void *flip_thread(void *p)
{
	struct flip_arg *a = p;
	for (int i = 0; i < a->rounds; i++)
		if (trig_state_set_enabled(a->st, "x", i & 1) < 0)
			return (void *)1;
	return NULL;
}

static void *ask_thread(void *p)
{
	struct flip_arg *a = p;
	for (int i = 0; i < a->rounds * 50; i++) {
		int v = trig_state_enabled(a->st, "x", 7);
		if (v != 0 && v != 1 && v != 7)
			return (void *)1;
		if (trig_state_enabled(a->st, "y", 7) != 7)
			return (void *)1;
	}
	return NULL;
}

START_TEST(test_overrides_threads)
{
	make_root();
	struct trig_state *st = open_ok(path_in("st"), TRIG_STATE_SERVER);
	struct flip_arg a = { st, 40 };
	pthread_t t[4];
	ck_assert_int_eq(pthread_create(&t[0], NULL, flip_thread, &a), 0);
	ck_assert_int_eq(pthread_create(&t[1], NULL, flip_thread, &a), 0);
	ck_assert_int_eq(pthread_create(&t[2], NULL, ask_thread, &a), 0);
	ck_assert_int_eq(pthread_create(&t[3], NULL, ask_thread, &a), 0);
	for (int i = 0; i < 4; i++) {
		void *r;
		ck_assert_int_eq(pthread_join(t[i], &r), 0);
		ck_assert_ptr_null(r);
	}
	/* Both writers' last change was i = 39: enabled. */
	ck_assert_int_eq(trig_state_enabled(st, "x", 0), 1);
	trig_state_close(st);
	remove_root();
}
END_TEST

/* ---------------------------------------------------------- ticks */

START_TEST(test_ticks_reopen_and_compaction)
{
	make_root();
	DIR_IN(dir, "st");
	struct trig_state *st = open_ok(dir, TRIG_STATE_SERVER);
	ck_assert(trig_state_last_tick(st, "a") == INT64_MIN);
	ck_assert_int_eq(trig_state_record_tick(st, "a", 1000), 0);
	ck_assert_int_eq(trig_state_record_tick(st, "b", -5), 0);
	ck_assert_int_eq(trig_state_record_tick(st, "a", 2000), 0);
	ck_assert_int_eq(trig_state_record_tick(st, "a", 1500), 0);       /* older: ignored */
	ck_assert_int_eq(trig_state_record_tick(st, "c", INT64_MAX), 0);
	ck_assert(trig_state_last_tick(st, "a") == 2000);
	ck_assert(trig_state_last_tick(st, "b") == -5);
	ck_assert(trig_state_record_tick(st, "bad name", 1) == -1 && errno == EINVAL);
	ck_assert(trig_state_record_tick(st, "a", INT64_MIN) == -1 && errno == EINVAL);
	trig_state_close(st);

	char *text = slurp(path_in("st/ticks"));
	ck_assert_str_eq(text, "a 1000\nb -5\na 2000\nc 9223372036854775807\n");
	free(text);

	/* A CLI open reads it and leaves it alone. */
	st = open_ok(dir, 0);
	ck_assert(trig_state_last_tick(st, "a") == 2000);
	ck_assert(trig_state_last_tick(st, "c") == INT64_MAX);
	trig_state_close(st);
	text = slurp(path_in("st/ticks"));
	ck_assert_uint_eq(count_lines(text), 4);
	free(text);

	/* The server compacts it to one line per trigger. */
	st = open_ok(dir, TRIG_STATE_SERVER);
	ck_assert(trig_state_last_tick(st, "a") == 2000);
	ck_assert(trig_state_last_tick(st, "b") == -5);
	text = slurp(path_in("st/ticks"));
	ck_assert_str_eq(text, "a 2000\nb -5\nc 9223372036854775807\n");
	free(text);
	ck_assert_int_eq(trig_state_record_tick(st, "b", 60), 0);
	trig_state_close(st);
	st = open_ok(dir, TRIG_STATE_SERVER);
	ck_assert(trig_state_last_tick(st, "b") == 60);
	trig_state_close(st);
	remove_root();
}
END_TEST

START_TEST(test_ticks_damaged)
{
	make_root();
	DIR_IN(dir, "st");
	trig_state_close(open_ok(dir, 0));
	/* A torn last line (no newline) is a write cut by a crash: ignored
	 * silently.  Lines that make no sense are damage: kept aside. */
	const char *damaged = "c 5\nthis is not a tick\nd 7\nd x\ne 9";
	write_file(path_in("st/ticks"), damaged);
	struct trig_state *st = open_ok(dir, 0);
	ck_assert(trig_state_last_tick(st, "c") == 5);
	ck_assert(trig_state_last_tick(st, "d") == 7);
	ck_assert(trig_state_last_tick(st, "e") == INT64_MIN);
	trig_state_close(st);
	ck_assert_int_eq(access(path_in("st/corrupt"), F_OK), -1);

	st = open_ok(dir, TRIG_STATE_SERVER);
	ck_assert(trig_state_last_tick(st, "d") == 7);
	trig_state_close(st);
	char *text = slurp(path_in("st/ticks"));
	ck_assert_str_eq(text, "c 5\nd 7\n");
	free(text);
	/* The damaged file is in corrupt/, byte for byte. */
	char cmd[PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "%s", path_in("st/corrupt"));
	DIR *d = opendir(cmd);
	ck_assert_ptr_nonnull(d);
	struct dirent *de;
	int found = 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "ticks.", 6))
			continue;
		char p[2 * PATH_MAX + 400];
		snprintf(p, sizeof(p), "%s/%s", cmd, de->d_name);
		char *kept = slurp(p);
		ck_assert_str_eq(kept, damaged);
		free(kept);
		found++;
	}
	closedir(d);
	ck_assert_int_eq(found, 1);
	remove_root();
}
END_TEST

struct tick_arg {
	struct trig_state *st;
	int id;
};

static void *tick_thread(void *p)
{
	struct tick_arg *a = p;
	char own[32];
	snprintf(own, sizeof(own), "own-%d", a->id);
	for (int i = 1; i <= 2000; i++) {
		if (trig_state_record_tick(a->st, own, i) < 0 ||
		    trig_state_record_tick(a->st, "shared", (int64_t)i * 4 + a->id) < 0)
			return (void *)1;
		if (trig_state_last_tick(a->st, own) != i)
			return (void *)1;
	}
	return NULL;
}

START_TEST(test_ticks_threads)
{
	make_root();
	DIR_IN(dir, "st");
	struct trig_state *st = open_ok(dir, TRIG_STATE_SERVER);
	pthread_t t[4];
	struct tick_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct tick_arg){ st, i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, tick_thread, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *r;
		ck_assert_int_eq(pthread_join(t[i], &r), 0);
		ck_assert_ptr_null(r);
	}
	ck_assert(trig_state_last_tick(st, "shared") == 2000 * 4 + 3);
	trig_state_close(st);
	/* Every line appended whole: a CLI open parses all of it. */
	char *text = slurp(path_in("st/ticks"));
	for (char *p = text; *p;) {
		char *nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		char name[64];
		long long v;
		ck_assert_int_eq(sscanf(p, "%63s %lld", name, &v), 2);
		p = nl + 1;
	}
	free(text);
	st = open_ok(dir, 0);
	ck_assert(trig_state_last_tick(st, "shared") == 2000 * 4 + 3);
	for (int i = 0; i < 4; i++) {
		char own[32];
		snprintf(own, sizeof(own), "own-%d", i);
		ck_assert(trig_state_last_tick(st, own) == 2000);
	}
	trig_state_close(st);
	remove_root();
}
END_TEST

START_TEST(test_ticks_long_running)
{
	/* A server that runs for months rewrites the log as it goes. */
	make_root();
	DIR_IN(dir, "st");
	struct trig_state *st = open_ok(dir, TRIG_STATE_SERVER);
	for (int i = 1; i <= 70000; i++)
		ck_assert_int_eq(trig_state_record_tick(st, "every-second", i), 0);
	ck_assert_int_eq(trig_state_record_tick(st, "other", 3), 0);
	char *text = slurp(path_in("st/ticks"));
	ck_assert_uint_lt(count_lines(text), 70000 - 65536 + 10);
	free(text);
	trig_state_close(st);
	st = open_ok(dir, 0);
	ck_assert(trig_state_last_tick(st, "every-second") == 70000);
	ck_assert(trig_state_last_tick(st, "other") == 3);
	trig_state_close(st);
	remove_root();
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("folder");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_existing_flag);
	tcase_add_test(tc, test_version_mismatch);
	tcase_add_test(tc, test_not_a_directory);
	tcase_add_test(tc, test_unwritable);
	tcase_add_test(tc, test_lock_conflict);
	suite_add_tcase(s, tc);
	tc = tcase_create("overrides");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_overrides_persist);
	tcase_add_test(tc, test_overrides_other_process);
	tcase_add_test(tc, test_overrides_malformed);
	tcase_add_test(tc, test_overrides_racy);
	tcase_add_test(tc, test_overrides_threads);
	suite_add_tcase(s, tc);
	tc = tcase_create("ticks");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ticks_reopen_and_compaction);
	tcase_add_test(tc, test_ticks_damaged);
	tcase_add_test(tc, test_ticks_threads);
	tcase_add_test(tc, test_ticks_long_running);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(state_suite)
