/*
 * test_audit.c — the audit log: whole lines from concurrent writers
 * (processes and threads), rotation (also by another process), reading,
 * and following with inotify across rotations and half-written lines.
 */
#include "unit.h"

#include "audit.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------- helpers */

static char tmp_root[PATH_MAX];
static char state_dir[PATH_MAX + 64];

static void make_root(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmp_root, sizeof(tmp_root), "%s/trig-audit-XXXXXX", t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp_root));
	snprintf(state_dir, sizeof(state_dir), "%s/st", tmp_root);
}

static void remove_root(void)
{
	unit_remove_tree(tmp_root);
}

static const char *audit_path(int gen)
{
	static char p[PATH_MAX + 128];
	if (gen)
		snprintf(p, sizeof(p), "%s/audit.jsonl.%d", state_dir, gen);
	else
		snprintf(p, sizeof(p), "%s/audit.jsonl", state_dir);
	return p;
}

static struct trig_state *open_state(void)
{
	char err[512] = "";
	struct trig_state *st = trig_state_open(state_dir, 0, err, sizeof(err));
	ck_assert_msg(st != NULL, "%s", err);
	return st;
}

static struct trig_audit *open_audit(struct trig_state *st)
{
	char err[512] = "";
	struct trig_audit *a = trig_audit_open(st, err, sizeof(err));
	ck_assert_msg(a != NULL, "%s", err);
	return a;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0, r;
	char *s = malloc(cap);
	while ((r = fread(s + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n < 2)
			s = realloc(s, cap *= 2);
	}
	fclose(f);
	s[n] = 0;
	if (len)
		*len = n;
	return s;
}

static off_t file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

static void raw_append(const char *text)
{
	int fd = open(audit_path(0), O_WRONLY | O_APPEND | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Lines delivered by trig_audit_read(). */
struct lines {
	char **v;
	size_t n;
	size_t stop_at;         /* return 1 once this many arrived (0: never) */
	int go_fd;              /* write a byte here after go_after lines */
	size_t go_after;
};

static int collect(const char *line, size_t len, void *ctx)
{
	struct lines *l = ctx;
	ck_assert_uint_eq(strlen(line), len);
	l->v = realloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = strdup(line);
	if (l->go_fd >= 0 && l->n == l->go_after)
		ck_assert_int_eq(write(l->go_fd, "g", 1), 1);
	return l->stop_at && l->n >= l->stop_at ? 1 : 0;
}

static void lines_free(struct lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int write_line(struct trig_audit *a, const char *fmt, int v)
{
	char buf[256];
	int n = snprintf(buf, sizeof(buf), fmt, v);
	return trig_audit_write(a, buf, (size_t)n);
}

/* ---------------------------------------------------------- basics */

START_TEST(test_write_read)
{
	make_root();
	struct trig_state *st = open_state();
	struct trig_audit *a = open_audit(st);
	const char *l1 = "{\"time\":\"2026-11-26T02:00:00.004Z\",\"trigger\":\"nightly\","
			 "\"kind\":\"schedule\",\"outcome\":\"launched\"}";
	ck_assert_int_eq(trig_audit_write(a, l1, strlen(l1)), 0);
	ck_assert_int_eq(trig_audit_write(a, "{\"n\":2}", 7), 0);
	ck_assert_int_eq(trig_audit_write(a, "{\"n\":3}trailing", 7), 0);
	ck_assert(trig_audit_write(a, "{\n}", 3) == -1 && errno == EINVAL);
	ck_assert(trig_audit_write(a, "{\0}", 3) == -1 && errno == EINVAL);
	ck_assert(trig_audit_write(a, "{}", 0) == -1 && errno == EINVAL);

	size_t len;
	char *text = slurp(audit_path(0), &len);
	char want[512];
	snprintf(want, sizeof(want), "%s\n{\"n\":2}\n{\"n\":3}\n", l1);
	ck_assert_str_eq(text, want);
	free(text);
	struct stat sb;
	ck_assert_int_eq(stat(audit_path(0), &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);

	struct lines l = { .go_fd = -1 };
	ck_assert_int_eq(trig_audit_read(st, collect, &l, false, NULL), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.v[0], l1);
	ck_assert_str_eq(l.v[2], "{\"n\":3}");
	lines_free(&l);

	/* fn can stop the reading. */
	l.stop_at = 2;
	ck_assert_int_eq(trig_audit_read(st, collect, &l, false, NULL), 1);
	ck_assert_uint_eq(l.n, 2);
	lines_free(&l);
	trig_audit_close(a);
	trig_state_close(st);
	remove_root();
}
END_TEST

START_TEST(test_partial_line)
{
	make_root();
	struct trig_state *st = open_state();
	struct trig_audit *a = open_audit(st);
	ck_assert_int_eq(trig_audit_write(a, "{\"n\":1}", 7), 0);
	raw_append("{\"half\":");  /* a writer in the middle of its write */
	struct lines l = { .go_fd = -1 };
	ck_assert_int_eq(trig_audit_read(st, collect, &l, false, NULL), 0);
	ck_assert_uint_eq(l.n, 1);
	lines_free(&l);
	raw_append("1}\n");
	ck_assert_int_eq(trig_audit_read(st, collect, &l, false, NULL), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(l.v[1], "{\"half\":1}");
	lines_free(&l);
	trig_audit_close(a);
	trig_state_close(st);
	remove_root();
}
END_TEST

START_TEST(test_rotation)
{
	make_root();
	struct trig_state *st = open_state();
	struct trig_audit *a = open_audit(st);
	trig_audit_set_rotation(a, 1000, 3);
	const char *fmt = "{\"seq\":%05d,\"pad\":\"....................\"}";
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(write_line(a, fmt, i), 0);
	size_t line_len = (size_t)snprintf(NULL, 0, fmt, 0) + 1;
	for (int g = 0; g <= 3; g++) {
		off_t sz = file_size(audit_path(g));
		ck_assert_msg(sz > 0 && sz <= 1000, "audit.jsonl.%d: %lld bytes", g, (long long)sz);
		ck_assert_int_eq(sz % (off_t)line_len, 0);
		/* Rotated only when the next line would not have fitted. */
		if (g > 0)
			ck_assert_int_gt(sz + (off_t)line_len, 1000);
	}
	ck_assert_int_eq(file_size(audit_path(4)), -1);

	struct lines l = { .go_fd = -1 };
	ck_assert_int_eq(trig_audit_read(st, collect, &l, false, NULL), 0);
	off_t total = 0;
	for (int g = 0; g <= 3; g++)
		total += file_size(audit_path(g));
	ck_assert_uint_eq(l.n, (size_t)total / line_len);
	for (size_t i = 0; i < l.n; i++) {
		int seq;
		ck_assert_int_eq(sscanf(l.v[i], "{\"seq\":%d", &seq), 1);
		ck_assert_int_eq(seq, 300 - (int)l.n + (int)i);  /* oldest first, no gap */
	}
	lines_free(&l);
	trig_audit_close(a);
	trig_state_close(st);
	remove_root();
}
END_TEST

START_TEST(test_rotated_by_another_writer)
{
	/* A writer whose file was rotated by someone else writes to the new
	 * audit.jsonl, never to the rotated one. */
	make_root();
	struct trig_state *st = open_state();
	struct trig_audit *small = open_audit(st);
	struct trig_audit *other = open_audit(st);
	trig_audit_set_rotation(small, 500, 5);
	ck_assert_int_eq(trig_audit_write(other, "{\"who\":\"other\",\"n\":1}", 21), 0);
	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(write_line(small, "{\"who\":\"small\",\"n\":%03d}", i), 0);
	ck_assert_int_gt(file_size(audit_path(1)), 0);
	ck_assert_int_eq(trig_audit_write(other, "{\"who\":\"other\",\"n\":2}", 21), 0);
	char *cur = slurp(audit_path(0), NULL);
	size_t n = strlen(cur);
	ck_assert(n > 22 && !strcmp(cur + n - 22, "{\"who\":\"other\",\"n\":2}\n"));
	free(cur);
	for (int g = 1; g <= 5; g++) {
		char *old = slurp(audit_path(g), NULL);
		if (old)
			ck_assert_ptr_null(strstr(old, "\"n\":2}"));
		free(old);
	}
	trig_audit_close(small);
	trig_audit_close(other);
	trig_state_close(st);
	remove_root();
}
END_TEST

/* ---------------------------------------------------------- concurrency */

#define NPROC 4
#define NTHREAD 4
#define NLINES 1000

/* The pad length of line (p, t, i): mostly short, some over PIPE_BUF. */
static int pad_len(int p, int t, int i)
{
	return i % 97 == 0 ? 6000 : (i * 7919 + p * 31 + t * 17) % 700;
}

struct writer {
	struct trig_audit *a;
	int p, t;
};

static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	char *buf = malloc(7000);
	for (int i = 0; i < NLINES; i++) {
		int pl = pad_len(w->p, w->t, i);
		int n = sprintf(buf, "{\"p\":%d,\"t\":%d,\"i\":%d,\"pad\":\"", w->p, w->t, i);
		memset(buf + n, 'x', (size_t)pl);
		n += pl;
		n += sprintf(buf + n, "\",\"end\":%d}", pl);
		if (trig_audit_write(w->a, buf, (size_t)n) < 0) {
			free(buf);
			return (void *)1;
		}
	}
	free(buf);
	return NULL;
}

static void writer_process(int p, uint64_t limit)
{
	char err[512];
	struct trig_state *st = trig_state_open(state_dir, 0, err, sizeof(err));
	struct trig_audit *a = st ? trig_audit_open(st, err, sizeof(err)) : NULL;
	if (!a)
		_exit(2);
	if (limit)
		trig_audit_set_rotation(a, limit, 1000);
	pthread_t t[NTHREAD];
	struct writer w[NTHREAD];
	for (int i = 0; i < NTHREAD; i++) {
		w[i] = (struct writer){ a, p, i };
		if (pthread_create(&t[i], NULL, writer_thread, &w[i]))
			_exit(3);
	}
	int bad = 0;
	for (int i = 0; i < NTHREAD; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad |= r != NULL;
	}
	trig_audit_close(a);
	trig_state_close(st);
	_exit(bad ? 4 : 0);
}

/* Checks one line written by writer_thread; next[p][t] is the next i. */
static void check_line(const char *line, int next[NPROC][NTHREAD])
{
	int p, t, i, off = 0;
	ck_assert_msg(sscanf(line, "{\"p\":%d,\"t\":%d,\"i\":%d,\"pad\":\"%n", &p, &t, &i, &off) == 3 &&
		      off > 0, "mangled line: %.80s", line);
	ck_assert(p >= 0 && p < NPROC && t >= 0 && t < NTHREAD);
	ck_assert_msg(i == next[p][t], "line %d/%d/%d out of order (expected %d)", p, t, i, next[p][t]);
	next[p][t]++;
	int pl = pad_len(p, t, i), k = 0;
	while (k < pl && line[off + k] == 'x')
		k++;
	ck_assert_msg(k == pl, "mangled pad in %d/%d/%d", p, t, i);
	char tail[32];
	snprintf(tail, sizeof(tail), "\",\"end\":%d}", pl);
	ck_assert_str_eq(line + off + pl, tail);
}

static void run_writers(uint64_t limit)
{
	pid_t pids[NPROC];
	for (int p = 0; p < NPROC; p++) {
		pids[p] = fork();
		ck_assert_int_ge(pids[p], 0);
		if (pids[p] == 0)
			writer_process(p, limit);
	}
	for (int p = 0; p < NPROC; p++) {
		int status;
		ck_assert_int_eq(waitpid(pids[p], &status, 0), pids[p]);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d failed", p);
	}
}

static int check_cb(const char *line, size_t len, void *ctx)
{
	(void)len;
	check_line(line, ctx);
	return 0;
}

START_TEST(test_concurrent_writers)
{
	make_root();
	trig_state_close(open_state());
	run_writers(0);
	/* Read the file directly, independently of trig_audit_read(). */
	size_t len;
	char *text = slurp(audit_path(0), &len);
	int next[NPROC][NTHREAD] = { { 0 } };
	size_t nlines = 0;
	for (char *p = text; p < text + len;) {
		char *nl = memchr(p, '\n', (size_t)(text + len - p));
		ck_assert_ptr_nonnull(nl);
		*nl = 0;
		check_line(p, next);
		nlines++;
		p = nl + 1;
	}
	ck_assert_uint_eq(nlines, NPROC * NTHREAD * NLINES);
	free(text);
	ck_assert_int_eq(file_size(audit_path(1)), -1);
	remove_root();
}
END_TEST

START_TEST(test_concurrent_writers_rotating)
{
	make_root();
	trig_state_close(open_state());
	run_writers(256 * 1024);
	int g;
	/* The limit is checked before each write, by several processes at
	 * once: each may add its line past it, no more. */
	for (g = 1; file_size(audit_path(g)) >= 0; g++)
		ck_assert_int_le(file_size(audit_path(g)), 256 * 1024 + NPROC * 6100);
	ck_assert_int_gt(g, 10);       /* it did rotate, many times */
	struct trig_state *st = open_state();
	int next[NPROC][NTHREAD] = { { 0 } };
	ck_assert_int_eq(trig_audit_read(st, check_cb, next, false, NULL), 0);
	for (int p = 0; p < NPROC; p++)
		for (int t = 0; t < NTHREAD; t++)
			ck_assert_int_eq(next[p][t], NLINES);
	trig_state_close(st);
	remove_root();
}
END_TEST

/* ---------------------------------------------------------- following */

/* Waits for a byte on go, then writes lines from..to-1, rotating at a
 * small size, pausing now and then so the reader catches up and waits. */
static void follow_writer(int go, int from, int to)
{
	char c;
	if (read(go, &c, 1) != 1)
		_exit(2);
	char err[512];
	struct trig_state *st = trig_state_open(state_dir, 0, err, sizeof(err));
	struct trig_audit *a = st ? trig_audit_open(st, err, sizeof(err)) : NULL;
	if (!a)
		_exit(3);
	trig_audit_set_rotation(a, 2000, 100);
	for (int i = from; i < to; i++) {
		if (write_line(a, "{\"seq\":%05d,\"pad\":\"................\"}", i) < 0)
			_exit(4);
		if (i % 37 == 0)
			usleep(20000);
	}
	trig_audit_close(a);
	trig_state_close(st);
	_exit(0);
}

START_TEST(test_follow_across_rotation)
{
	make_root();
	struct trig_state *st = open_state();
	struct trig_audit *a = open_audit(st);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(write_line(a, "{\"seq\":%05d,\"pad\":\"................\"}", i), 0);
	trig_audit_close(a);
	trig_state_close(st);
	int go[2];
	ck_assert_int_eq(pipe(go), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		follow_writer(go[0], 10, 400);
	st = open_state();
	/* The writer starts once the reader has the first ten lines. */
	struct lines l = { .stop_at = 400, .go_fd = go[1], .go_after = 10 };
	ck_assert_int_eq(trig_audit_read(st, collect, &l, true, NULL), 1);
	ck_assert_uint_eq(l.n, 400);
	for (size_t i = 0; i < l.n; i++) {
		int seq;
		ck_assert_int_eq(sscanf(l.v[i], "{\"seq\":%d", &seq), 1);
		ck_assert_int_eq(seq, (int)i);
	}
	ck_assert_int_gt(file_size(audit_path(5)), 0);  /* it rotated while we followed */
	lines_free(&l);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(go[0]);
	close(go[1]);
	trig_state_close(st);
	remove_root();
}
END_TEST

static void *finish_half_line(void *arg)
{
	struct trig_audit *a = arg;
	usleep(100000);
	raw_append("\"done\"}");
	usleep(50000);
	raw_append("\n");
	if (trig_audit_write(a, "{\"last\":true}", 13) < 0)
		return (void *)1;
	return NULL;
}

START_TEST(test_follow_half_line)
{
	make_root();
	struct trig_state *st = open_state();
	struct trig_audit *a = open_audit(st);
	ck_assert_int_eq(trig_audit_write(a, "{\"first\":1}", 11), 0);
	raw_append("{\"half\":");
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, finish_half_line, a), 0);
	struct lines l = { .stop_at = 3, .go_fd = -1 };
	ck_assert_int_eq(trig_audit_read(st, collect, &l, true, NULL), 1);
	void *r;
	ck_assert_int_eq(pthread_join(t, &r), 0);
	ck_assert_ptr_null(r);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.v[0], "{\"first\":1}");
	ck_assert_str_eq(l.v[1], "{\"half\":\"done\"}");
	ck_assert_str_eq(l.v[2], "{\"last\":true}");
	lines_free(&l);
	trig_audit_close(a);
	trig_state_close(st);
	remove_root();
}
END_TEST

static void late_writer(void)
{
	usleep(150000);
	char err[512];
	struct trig_state *st = trig_state_open(state_dir, 0, err, sizeof(err));
	struct trig_audit *a = st ? trig_audit_open(st, err, sizeof(err)) : NULL;
	if (!a)
		_exit(2);
	for (int i = 0; i < 5; i++)
		if (write_line(a, "{\"late\":%d}", i) < 0)
			_exit(3);
	trig_audit_close(a);
	trig_state_close(st);
	_exit(0);
}

START_TEST(test_follow_before_any_line)
{
	make_root();
	trig_state_close(open_state());
	ck_assert_int_eq(file_size(audit_path(0)), -1);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		late_writer();
	struct trig_state *st = open_state();
	struct lines l = { .stop_at = 5, .go_fd = -1 };
	ck_assert_int_eq(trig_audit_read(st, collect, &l, true, NULL), 1);
	ck_assert_str_eq(l.v[0], "{\"late\":0}");
	ck_assert_str_eq(l.v[4], "{\"late\":4}");
	lines_free(&l);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	trig_state_close(st);
	remove_root();
}
END_TEST

static volatile sig_atomic_t stop_flag;

static void on_alarm(int sig)
{
	(void)sig;
	stop_flag = 1;
}

START_TEST(test_follow_stop)
{
	make_root();
	struct trig_state *st = open_state();
	struct trig_audit *a = open_audit(st);
	ck_assert_int_eq(trig_audit_write(a, "{\"n\":1}", 7), 0);

	/* Already set: reads what is there and returns. */
	stop_flag = 1;
	struct lines l = { .go_fd = -1 };
	ck_assert_int_eq(trig_audit_read(st, collect, &l, true, &stop_flag), 0);
	ck_assert_uint_eq(l.n, 1);
	lines_free(&l);

	/* Set by a signal handler while it waits: returns at once.  Many
	 * short rounds, so the signal also lands between the check of the
	 * flag and the wait. */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	for (int round = 0; round < 20; round++) {
		stop_flag = 0;
		struct itimerval it = { { 0, 0 }, { 0, 2000 + round * 1500 } };
		ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_int_eq(trig_audit_read(st, collect, &l, true, &stop_flag), 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ck_assert_uint_eq(l.n, 1);
		lines_free(&l);
		double dt = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		ck_assert_msg(dt < 2.0, "round %d: took %.3f s to stop", round, dt);
	}
	trig_audit_close(a);
	trig_state_close(st);
	remove_root();
}
END_TEST

static Suite *audit_suite(void)
{
	Suite *s = suite_create("audit");
	TCase *tc = tcase_create("write");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_write_read);
	tcase_add_test(tc, test_partial_line);
	tcase_add_test(tc, test_rotation);
	tcase_add_test(tc, test_rotated_by_another_writer);
	tcase_add_test(tc, test_concurrent_writers);
	tcase_add_test(tc, test_concurrent_writers_rotating);
	suite_add_tcase(s, tc);
	tc = tcase_create("follow");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_follow_across_rotation);
	tcase_add_test(tc, test_follow_half_line);
	tcase_add_test(tc, test_follow_before_any_line);
	tcase_add_test(tc, test_follow_stop);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(audit_suite)
