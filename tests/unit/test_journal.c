/*
 * test_journal.c — the journal of accepted launches: record format (checked
 * with an independent bit-by-bit CRC-32C and RFC 3720's vectors), recovery
 * of exactly the pending launches, segments of live processes, processes
 * killed at random points, every truncation of a segment, damaged bytes.
 */
#include "unit.h"

#include "journal.h"
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------- helpers */

static char tmp_root[PATH_MAX];
static char state_dir[PATH_MAX + 64];
static char journal_dir[PATH_MAX + 128];
static char corrupt_dir[PATH_MAX + 160];

/* The sweeps below recover a thousand times; each recovery syncs a few
 * times, which costs seconds on a disk and nothing on tmpfs, where they
 * test the same parsing.  Everything else runs in TMPDIR. */
static void make_root_in(bool fast)
{
	const char *t = getenv("TMPDIR");
	if (fast && access("/dev/shm", W_OK | X_OK) == 0)
		t = "/dev/shm";
	snprintf(tmp_root, sizeof(tmp_root), "%s/trig-journal-XXXXXX", t && *t ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp_root));
	snprintf(state_dir, sizeof(state_dir), "%s/st", tmp_root);
	snprintf(journal_dir, sizeof(journal_dir), "%s/journal", state_dir);
	snprintf(corrupt_dir, sizeof(corrupt_dir), "%s/corrupt", journal_dir);
}

static void make_root(void)
{
	make_root_in(false);
}

static void remove_tree(const char *dir)
{
	unit_remove_tree(dir);
}

static struct trig_state *open_state(unsigned flags)
{
	char err[512] = "";
	struct trig_state *st = trig_state_open(state_dir, flags, err, sizeof(err));
	ck_assert_msg(st != NULL, "%s", err);
	return st;
}

static struct trig_journal *open_journal(struct trig_state *st)
{
	char err[512] = "";
	struct trig_journal *j = trig_journal_open(st, err, sizeof(err));
	ck_assert_msg(j != NULL, "%s", err);
	return j;
}

struct blob {
	char *data;
	size_t len;
};

static struct blob slurp(const char *path)
{
	struct blob b = { NULL, 0 };
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	struct stat sb;
	ck_assert_int_eq(fstat(fd, &sb), 0);
	b.len = (size_t)sb.st_size;
	b.data = malloc(b.len + 1);
	ck_assert_int_eq(read(fd, b.data, b.len), (ssize_t)b.len);
	b.data[b.len] = 0;
	close(fd);
	return b;
}

static void spew(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

/* Names of the regular files in DIR, sorted; returns how many. */
static size_t list_dir(const char *dir, char names[][256], size_t max)
{
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || de->d_type == DT_DIR)
			continue;
		ck_assert_uint_lt(n, max);
		snprintf(names[n++], 256, "%s", de->d_name);
	}
	closedir(d);
	qsort(names, n, 256, (int (*)(const void *, const void *))strcmp);
	return n;
}

/* The only segment in journal/. */
static void only_segment(char *path, size_t len)
{
	char names[8][256];
	ck_assert_uint_eq(list_dir(journal_dir, names, 8), 1);
	snprintf(path, len, "%s/%s", journal_dir, names[0]);
}

/* Empties journal/ and journal/corrupt/. */
static void clear_journal(void)
{
	char names[64][256], p[PATH_MAX + 512];
	size_t n = list_dir(journal_dir, names, 64);
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", journal_dir, names[i]);
		ck_assert_int_eq(unlink(p), 0);
	}
	n = list_dir(corrupt_dir, names, 64);
	for (size_t i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/%s", corrupt_dir, names[i]);
		ck_assert_int_eq(unlink(p), 0);
	}
}

/* CRC-32C bit by bit, straight from the definition (reflected polynomial
 * 0x82F63B78): the oracle for the journal's table-driven one. */
static uint32_t ref_crc32c(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint32_t c = 0xFFFFFFFFu;
	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
	}
	return ~c;
}

/* What recovery reported. */
struct pend {
	char *id, *begin, *update;
};

struct got {
	struct pend *v;
	size_t n;
};

static void collect(const char *id, const char *begin, const char *update, void *ctx)
{
	struct got *g = ctx;
	g->v = realloc(g->v, (g->n + 1) * sizeof(*g->v));
	g->v[g->n].id = strdup(id);
	g->v[g->n].begin = strdup(begin);
	g->v[g->n].update = update ? strdup(update) : NULL;
	g->n++;
}

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free(g->v[i].id);
		free(g->v[i].begin);
		free(g->v[i].update);
	}
	free(g->v);
	g->v = NULL;
	g->n = 0;
}

static const struct pend *got_find(const struct got *g, const char *id)
{
	for (size_t i = 0; i < g->n; i++)
		if (!strcmp(g->v[i].id, id))
			return &g->v[i];
	return NULL;
}

/* Opens the folder as the server, recovers, closes. */
static int recover(struct got *g, char *err, size_t errlen)
{
	struct trig_state *st = open_state(TRIG_STATE_SERVER);
	err[0] = 0;
	int rc = trig_journal_recover(st, collect, g, err, errlen);
	trig_state_close(st);
	return rc;
}

/* ---------------------------------------------------------- a model
 * Records as the test wrote them; expected() replays a subset with the
 * journal's documented semantics. */

enum { B, U, E };

struct rec {
	int type;
	char id[32];
	char json[96];
};

static void expected(const struct rec *r, size_t n, const bool *keep, struct got *out)
{
	out->v = NULL;
	out->n = 0;
	bool ended[64] = { false };
	char ended_ids[64][32];
	size_t nended = 0;
	for (size_t i = 0; i < n; i++) {
		if (keep && !keep[i])
			continue;
		bool is_ended = false;
		for (size_t k = 0; k < nended; k++)
			if (!strcmp(ended_ids[k], r[i].id))
				is_ended = true;
		struct pend *p = NULL;
		size_t at = 0;
		for (size_t k = 0; k < out->n; k++)
			if (!strcmp(out->v[k].id, r[i].id))
				p = &out->v[k], at = k;
		if (r[i].type == B) {
			if (!p && !is_ended)
				collect(r[i].id, r[i].json, NULL, out);
		} else if (r[i].type == U) {
			if (p) {
				free(p->update);
				p->update = strdup(r[i].json);
			}
		} else {
			snprintf(ended_ids[nended++], 32, "%s", r[i].id);
			if (p) {
				free(p->id);
				free(p->begin);
				free(p->update);
				memmove(out->v + at, out->v + at + 1, (out->n - at - 1) * sizeof(*p));
				out->n--;
			}
		}
	}
	(void)ended;
}

static void assert_same(const struct got *g, const struct got *want, const char *what)
{
	ck_assert_msg(g->n == want->n, "%s: %zu pending, expected %zu", what, g->n, want->n);
	for (size_t i = 0; i < g->n; i++) {
		ck_assert_msg(!strcmp(g->v[i].id, want->v[i].id), "%s: #%zu is '%s', expected '%s'",
			      what, i, g->v[i].id, want->v[i].id);
		ck_assert_str_eq(g->v[i].begin, want->v[i].begin);
		if (want->v[i].update)
			ck_assert_msg(g->v[i].update && !strcmp(g->v[i].update, want->v[i].update),
				      "%s: wrong update of '%s'", what, g->v[i].id);
		else
			ck_assert_msg(!g->v[i].update, "%s: '%s' has an update", what, g->v[i].id);
	}
}

static void write_recs(struct trig_journal *j, const struct rec *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = r[i].type == B ? trig_journal_begin(j, r[i].id, r[i].json, strlen(r[i].json))
		       : r[i].type == U ? trig_journal_update(j, r[i].id, r[i].json, strlen(r[i].json))
					: trig_journal_end(j, r[i].id, r[i].json, strlen(r[i].json));
		ck_assert_int_eq(rc, 0);
	}
}

static const struct rec sample[] = {
	{ B, "l-a0", "{\"trigger\":\"nightly\",\"tick\":1764122400}" },
	{ B, "l-a1", "{\"trigger\":\"github-push\",\"ref\":\"refs/heads/main\"}" },
	{ U, "l-a1", "{\"execution\":\"e-1\",\"status\":\"started\"}" },
	{ B, "l-a2", "{\"trigger\":\"preprocess\",\"n\":2}" },
	{ E, "l-a2", "{\"outcome\":\"completed\"}" },
	{ U, "l-a1", "{\"execution\":\"e-1\",\"status\":\"running\"}" },
	{ B, "l-a3", "{\"trigger\":\"nightly\",\"text\":\"with spaces and \\\"quotes\\\"\"}" },
	{ U, "l-a3", "{\"step\":1}" },
	{ B, "l-a4", "{\"trigger\":\"x\"}" },
	{ E, "l-a4", "{\"outcome\":\"error\"}" },
	{ U, "l-a3", "{\"step\":2}" },
	{ B, "l-a5", "{\"trigger\":\"y\",\"unicode\":\"d\\u00e9j\\u00e0 vu \xc3\xa9\"}" },
	{ B, "l-zz", "{\"last\":true}" },
};
#define NSAMPLE (sizeof(sample) / sizeof(sample[0]))

/* ---------------------------------------------------------- tests */

START_TEST(test_crc32c_reference)
{
	/* RFC 3720 B.4 and the usual check value. */
	unsigned char v[32];
	memset(v, 0, 32);
	ck_assert_uint_eq(ref_crc32c(v, 32), 0x8A9136AAu);
	memset(v, 0xFF, 32);
	ck_assert_uint_eq(ref_crc32c(v, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		v[i] = (unsigned char)i;
	ck_assert_uint_eq(ref_crc32c(v, 32), 0x46DD794Eu);
	for (int i = 0; i < 32; i++)
		v[i] = (unsigned char)(31 - i);
	ck_assert_uint_eq(ref_crc32c(v, 32), 0x113FDB5Cu);
	ck_assert_uint_eq(ref_crc32c("123456789", 9), 0xE3069283u);
}
END_TEST

START_TEST(test_format)
{
	make_root();
	struct trig_state *st = open_state(0);
	struct trig_journal *j = open_journal(st);
	write_recs(j, sample, NSAMPLE);
	trig_journal_close(j);
	trig_state_close(st);

	char path[PATH_MAX + 512];
	only_segment(path, sizeof(path));
	/* journal/<UTC start time>-<pid>.log */
	char want_tail[64];
	snprintf(want_tail, sizeof(want_tail), "Z-%ld.log", (long)getpid());
	ck_assert_ptr_nonnull(strstr(path, want_tail));
	struct stat sb;
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);

	struct blob b = slurp(path);
	char *p = b.data;
	long long last_time = 0;
	for (size_t i = 0; i < NSAMPLE; i++) {
		char *nl = strchr(p, '\n');
		ck_assert_ptr_nonnull(nl);
		*nl = 0;
		/* "<crc> <type> <time> <id> <json>", crc over what follows it */
		unsigned crc;
		char type[16], id[64];
		long long t;
		int off = 0;
		ck_assert_int_eq(sscanf(p, "%8x %15s %lld %63s %n", &crc, type, &t, id, &off), 4);
		ck_assert_int_eq(p[8], ' ');
		ck_assert_uint_eq(crc, ref_crc32c(p + 9, strlen(p + 9)));
		const char *names[] = { "begin", "update", "end" };
		ck_assert_str_eq(type, names[sample[i].type]);
		ck_assert_str_eq(id, sample[i].id);
		ck_assert_str_eq(p + off, sample[i].json);
		ck_assert(t > last_time);
		ck_assert(t / 1000000 <= (long long)time(NULL) && t / 1000000 > (long long)time(NULL) - 600);
		last_time = t;
		p = nl + 1;
	}
	ck_assert_int_eq(*p, 0);
	free(b.data);
	remove_tree(tmp_root);
}
END_TEST

START_TEST(test_recover_pending)
{
	make_root();
	struct trig_state *st = open_state(0);
	struct trig_journal *j = open_journal(st);
	write_recs(j, sample, NSAMPLE);
	trig_journal_close(j);
	trig_state_close(st);

	struct got want, g = { 0 };
	expected(sample, NSAMPLE, NULL, &want);
	ck_assert_uint_eq(want.n, 5);   /* a0 a1 a3 a5 zz */
	char err[512];
	ck_assert_int_eq(recover(&g, err, sizeof(err)), 0);
	assert_same(&g, &want, "first recovery");
	ck_assert_str_eq(got_find(&g, "l-a3")->update, "{\"step\":2}");
	ck_assert_ptr_null(got_find(&g, "l-a0")->update);
	got_free(&g);

	/* Compacted into one segment: recovering again gives the same. */
	char path[PATH_MAX + 512];
	only_segment(path, sizeof(path));
	struct blob b = slurp(path);
	size_t lines = 0;
	for (size_t i = 0; i < b.len; i++)
		lines += b.data[i] == '\n';
	ck_assert_uint_eq(lines, 5 + 2);        /* five begins, two last updates */
	free(b.data);
	ck_assert_int_eq(recover(&g, err, sizeof(err)), 0);
	assert_same(&g, &want, "second recovery");
	got_free(&g);

	/* Ends written by a later process finish them. */
	st = open_state(0);
	j = open_journal(st);
	ck_assert_int_eq(trig_journal_end(j, "l-a1", "{}", 2), 0);
	ck_assert_int_eq(trig_journal_end(j, "l-zz", "{}", 2), 0);
	ck_assert_int_eq(trig_journal_end(j, "l-unknown", "{}", 2), 0);
	trig_journal_close(j);
	trig_state_close(st);
	ck_assert_int_eq(recover(&g, err, sizeof(err)), 0);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_str_eq(g.v[0].id, "l-a0");
	ck_assert_str_eq(g.v[1].id, "l-a3");
	ck_assert_str_eq(g.v[2].id, "l-a5");
	got_free(&g);
	got_free(&want);

	/* Nothing pending: recovery leaves an empty journal. */
	st = open_state(0);
	j = open_journal(st);
	ck_assert_int_eq(trig_journal_end(j, "l-a0", "{}", 2), 0);
	ck_assert_int_eq(trig_journal_end(j, "l-a3", "{}", 2), 0);
	ck_assert_int_eq(trig_journal_end(j, "l-a5", "{}", 2), 0);
	trig_journal_close(j);
	trig_state_close(st);
	ck_assert_int_eq(recover(&g, err, sizeof(err)), 0);
	ck_assert_uint_eq(g.n, 0);
	char names[4][256];
	ck_assert_uint_eq(list_dir(journal_dir, names, 4), 0);
	remove_tree(tmp_root);
}
END_TEST

START_TEST(test_recover_needs_server)
{
	make_root();
	struct trig_state *st = open_state(0);
	char err[512];
	struct got g = { 0 };
	ck_assert_int_eq(trig_journal_recover(st, collect, &g, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EPERM);
	ck_assert_ptr_nonnull(strstr(err, "needs the server's lock"));
	trig_state_close(st);
	remove_tree(tmp_root);
}
END_TEST

START_TEST(test_invalid_records)
{
	make_root();
	struct trig_state *st = open_state(0);
	struct trig_journal *j = open_journal(st);
	ck_assert(trig_journal_begin(j, "a", "{\n}", 3) == -1 && errno == EINVAL);
	ck_assert(trig_journal_begin(j, "a", "{\0}", 3) == -1 && errno == EINVAL);
	ck_assert(trig_journal_begin(j, "a", "{}", 0) == -1 && errno == EINVAL);
	ck_assert(trig_journal_begin(j, "", "{}", 2) == -1 && errno == EINVAL);
	ck_assert(trig_journal_begin(j, "a b", "{}", 2) == -1 && errno == EINVAL);
	ck_assert(trig_journal_update(j, NULL, "{}", 2) == -1 && errno == EINVAL);
	char longid[TRIG_JOURNAL_ID_MAX + 2];
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = 0;
	ck_assert(trig_journal_end(j, longid, "{}", 2) == -1 && errno == EINVAL);
	longid[TRIG_JOURNAL_ID_MAX] = 0;
	ck_assert_int_eq(trig_journal_begin(j, longid, "{}", 2), 0);
	/* Only the part given by len is the record. */
	ck_assert_int_eq(trig_journal_begin(j, "b", "{}trailing", 2), 0);
	trig_journal_close(j);
	trig_state_close(st);
	struct got g = { 0 };
	char err[512];
	ck_assert_int_eq(recover(&g, err, sizeof(err)), 0);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_str_eq(g.v[0].id, longid);
	ck_assert_str_eq(g.v[1].begin, "{}");
	got_free(&g);
	remove_tree(tmp_root);
}
END_TEST

/* A process that keeps its journal open until told to exit. */
static void live_child(int cmd, int ack)
{
	char err[512];
	struct trig_state *st = trig_state_open(state_dir, 0, err, sizeof(err));
	struct trig_journal *j = st ? trig_journal_open(st, err, sizeof(err)) : NULL;
	if (!j || trig_journal_begin(j, "live-1", "{\"fire\":true}", 13) < 0 ||
	    trig_journal_end(j, "dead-1", "{}", 2) < 0)
		_exit(2);
	if (write(ack, "k", 1) != 1)
		_exit(3);
	char c;
	if (read(cmd, &c, 1) != 1)
		_exit(4);
	/* Exits without an end for live-1 (and without closing). */
	_exit(0);
}

START_TEST(test_live_segment)
{
	make_root();
	/* A dead process left dead-1 and dead-2 pending. */
	struct trig_state *st = open_state(0);
	struct trig_journal *j = open_journal(st);
	ck_assert_int_eq(trig_journal_begin(j, "dead-1", "{}", 2), 0);
	ck_assert_int_eq(trig_journal_begin(j, "dead-2", "{}", 2), 0);
	trig_journal_close(j);
	trig_state_close(st);

	int cmd[2], ack[2];
	ck_assert_int_eq(pipe(cmd), 0);
	ck_assert_int_eq(pipe(ack), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		live_child(cmd[0], ack[1]);
	char c;
	ck_assert_int_eq(read(ack[0], &c, 1), 1);

	/* The child's segment is in use: its launch is its own, but its end
	 * of dead-1 counts; the segment is left alone. */
	struct got g = { 0 };
	char err[512];
	ck_assert_int_eq(recover(&g, err, sizeof(err)), 0);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_str_eq(g.v[0].id, "dead-2");
	got_free(&g);
	char names[8][256];
	ck_assert_uint_eq(list_dir(journal_dir, names, 8), 2);  /* child's + compacted */

	ck_assert_int_eq(write(cmd[1], "x", 1), 1);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Now it is dead: its launch is recovered. */
	ck_assert_int_eq(recover(&g, err, sizeof(err)), 0);
	ck_assert_uint_eq(g.n, 2);
	ck_assert_str_eq(g.v[0].id, "dead-2");
	ck_assert_str_eq(g.v[1].id, "live-1");
	ck_assert_str_eq(g.v[1].begin, "{\"fire\":true}");
	got_free(&g);
	ck_assert_uint_eq(list_dir(journal_dir, names, 8), 1);
	close(cmd[0]), close(cmd[1]), close(ack[0]), close(ack[1]);
	remove_tree(tmp_root);
}
END_TEST

START_TEST(test_interrupted_compaction)
{
	/* A crash after the compacted segment was written but before the old
	 * ones were removed: the same begins twice, each reported once. */
	make_root();
	struct trig_state *st = open_state(0);
	struct trig_journal *j = open_journal(st);
	write_recs(j, sample, NSAMPLE);
	trig_journal_close(j);
	trig_state_close(st);
	char old[PATH_MAX + 512];
	only_segment(old, sizeof(old));
	struct blob b = slurp(old);

	struct got want, g = { 0 };
	expected(sample, NSAMPLE, NULL, &want);
	char err[512];
	ck_assert_int_eq(recover(&g, err, sizeof(err)), 0);
	got_free(&g);
	spew(old, b.data, b.len);
	char names[8][256];
	ck_assert_uint_eq(list_dir(journal_dir, names, 8), 2);
	ck_assert_int_eq(recover(&g, err, sizeof(err)), 0);
	assert_same(&g, &want, "after an interrupted compaction");
	got_free(&g);
	ck_assert_uint_eq(list_dir(journal_dir, names, 8), 1);
	got_free(&want);
	free(b.data);
	remove_tree(tmp_root);
}
END_TEST

START_TEST(test_order_across_segments)
{
	make_root();
	struct trig_state *st = open_state(0);
	struct trig_journal *j1 = open_journal(st);
	struct trig_journal *j2 = open_journal(st);
	char id[32];
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "l-%02d", i);
		ck_assert_int_eq(trig_journal_begin(i % 3 ? j1 : j2, id, "{}", 2), 0);
	}
	ck_assert_int_eq(trig_journal_end(j2, "l-04", "{}", 2), 0);    /* begun in j1 */
	trig_journal_close(j2);
	trig_journal_close(j1);
	trig_state_close(st);
	char names[8][256];
	ck_assert_uint_eq(list_dir(journal_dir, names, 8), 2);
	struct got g = { 0 };
	char err[512];
	ck_assert_int_eq(recover(&g, err, sizeof(err)), 0);
	ck_assert_uint_eq(g.n, 19);
	for (size_t i = 0, k = 0; i < 20; i++) {
		if (i == 4)
			continue;
		snprintf(id, sizeof(id), "l-%02zu", i);
		ck_assert_str_eq(g.v[k++].id, id);
	}
	got_free(&g);
	remove_tree(tmp_root);
}
END_TEST

struct thr {
	struct trig_journal *j;
	int t;
};

static void *begin_thread(void *p)
{
	struct thr *a = p;
	for (int i = 0; i < 100; i++) {
		char id[32], rec[64];
		snprintf(id, sizeof(id), "t%d-%03d", a->t, i);
		int n = snprintf(rec, sizeof(rec), "{\"t\":%d,\"i\":%d}", a->t, i);
		if (trig_journal_begin(a->j, id, rec, (size_t)n) < 0)
			return (void *)1;
		if (trig_journal_update(a->j, id, "{\"u\":1}", 7) < 0)
			return (void *)1;
		if (i % 2 && trig_journal_end(a->j, id, "{}", 2) < 0)
			return (void *)1;
	}
	return NULL;
}

START_TEST(test_threads)
{
	make_root();
	struct trig_state *st = open_state(0);
	struct trig_journal *j = open_journal(st);
	pthread_t t[4];
	struct thr args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thr){ j, i };
		ck_assert_int_eq(pthread_create(&t[i], NULL, begin_thread, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *r;
		ck_assert_int_eq(pthread_join(t[i], &r), 0);
		ck_assert_ptr_null(r);
	}
	/* Group commit: never more syncs than begins (and, with four threads
	 * waiting on each other's syncs, usually far fewer). */
	uint64_t begins, syncs;
	trig_journal_stats(j, &begins, &syncs);
	ck_assert_uint_eq(begins, 400);
	ck_assert_uint_ge(syncs, 1);
	ck_assert_uint_le(syncs, begins);
	trig_journal_close(j);
	trig_state_close(st);
	struct got g = { 0 };
	char err[512];
	ck_assert_int_eq(recover(&g, err, sizeof(err)), 0);
	ck_assert_uint_eq(g.n, 4 * 50);
	int last[4] = { -1, -1, -1, -1 };
	for (size_t i = 0; i < g.n; i++) {
		int tn, in;
		ck_assert_int_eq(sscanf(g.v[i].id, "t%d-%d", &tn, &in), 2);
		ck_assert_int_eq(in % 2, 0);
		ck_assert_int_gt(in, last[tn]);        /* begin order within a thread */
		last[tn] = in;
		char rec[64];
		snprintf(rec, sizeof(rec), "{\"t\":%d,\"i\":%d}", tn, in);
		ck_assert_str_eq(g.v[i].begin, rec);
		ck_assert_str_eq(g.v[i].update, "{\"u\":1}");
	}
	got_free(&g);
	remove_tree(tmp_root);
}
END_TEST

/* Line boundaries of a segment written from sample[]: start of each record. */
static void record_offsets(const struct blob *b, size_t *start, size_t n)
{
	size_t k = 0;
	start[0] = 0;
	for (size_t i = 0; i < b->len; i++)
		if (b->data[i] == '\n' && ++k < n)
			start[k] = i + 1;
	ck_assert_uint_eq(k, n);
	start[n] = b->len;
}

START_TEST(test_truncate_everywhere)
{
	/* A crash can cut a segment anywhere after its last synced record:
	 * for every length, recovery uses exactly the whole records and says
	 * nothing about the torn one.  Two variants: the last record is a
	 * begin (gone when torn), or an end (its launch pending when torn). */
	make_root_in(true);
	for (int variant = 0; variant < 2; variant++) {
		struct rec recs[NSAMPLE];
		memcpy(recs, sample, sizeof(recs));
		if (variant == 1)
			recs[NSAMPLE - 1] = (struct rec){ E, "l-a5", "{\"outcome\":\"stopped\"}" };
		struct trig_state *st = open_state(0);
		struct trig_journal *j = open_journal(st);
		write_recs(j, recs, NSAMPLE);
		trig_journal_close(j);
		trig_state_close(st);
		char path[PATH_MAX + 512];
		only_segment(path, sizeof(path));
		struct blob b = slurp(path);
		size_t start[NSAMPLE + 1];
		record_offsets(&b, start, NSAMPLE);
		clear_journal();

		for (size_t len = 0; len <= b.len; len++) {
			bool keep[NSAMPLE];
			for (size_t i = 0; i < NSAMPLE; i++)
				keep[i] = start[i + 1] <= len;
			struct got want, g = { 0 };
			expected(recs, NSAMPLE, keep, &want);
			spew(path, b.data, len);
			char err[512];
			int rc = recover(&g, err, sizeof(err));
			ck_assert_msg(rc == 0, "length %zu: rc %d: %s", len, rc, err);
			char what[64];
			snprintf(what, sizeof(what), "variant %d, length %zu", variant, len);
			assert_same(&g, &want, what);
			char names[8][256];
			ck_assert_uint_eq(list_dir(corrupt_dir, names, 8), 0);
			got_free(&g);
			got_free(&want);
			clear_journal();
		}
		free(b.data);
	}
	remove_tree(tmp_root);
}
END_TEST

START_TEST(test_damaged_byte)
{
	/* A byte changed inside the segment (bit rot, a bad edit): that record
	 * is refused, every other one is still used, the segment is moved to
	 * journal/corrupt/ as it is, and the error says so.  In the last
	 * record it is indistinguishable from a torn write: ignored silently. */
	make_root_in(true);
	struct trig_state *st = open_state(0);
	struct trig_journal *j = open_journal(st);
	write_recs(j, sample, NSAMPLE);
	trig_journal_close(j);
	trig_state_close(st);
	char path[PATH_MAX + 512];
	only_segment(path, sizeof(path));
	const char *name = strrchr(path, '/') + 1;
	struct blob b = slurp(path);
	size_t start[NSAMPLE + 1];
	record_offsets(&b, start, NSAMPLE);
	clear_journal();

	const size_t victims[] = { 0, 2, 6, NSAMPLE - 2, NSAMPLE - 1 };
	for (size_t v = 0; v < sizeof(victims) / sizeof(victims[0]); v++) {
		size_t r = victims[v];
		bool last = r == NSAMPLE - 1;
		for (size_t off = start[r]; off < start[r + 1]; off++) {
			struct blob bad = { malloc(b.len), b.len };
			memcpy(bad.data, b.data, b.len);
			bad.data[off] ^= 0x20;  /* never makes a newline */
			bool keep[NSAMPLE];
			for (size_t i = 0; i < NSAMPLE; i++)
				keep[i] = i != r;
			/* A newline turned into something else joins two lines. */
			if (b.data[off] == '\n' && r + 1 < NSAMPLE)
				keep[r + 1] = false;
			bool silent = last || (b.data[off] == '\n' && r + 1 == NSAMPLE - 1);
			struct got want, g = { 0 };
			expected(sample, NSAMPLE, keep, &want);
			spew(path, bad.data, bad.len);
			char err[1024];
			int rc = recover(&g, err, sizeof(err));
			char what[64];
			snprintf(what, sizeof(what), "record %zu, byte %zu", r, off);
			assert_same(&g, &want, what);
			char names[8][256], moved[PATH_MAX + 512];
			if (silent) {
				ck_assert_msg(rc == 0, "%s: rc %d", what, rc);
				ck_assert_uint_eq(list_dir(corrupt_dir, names, 8), 0);
			} else {
				ck_assert_msg(rc == 1, "%s: rc %d", what, rc);
				char want_err[3 * PATH_MAX + 1024];
				snprintf(want_err, sizeof(want_err),
					 "journal segment '%s/journal/%s' is damaged: 1 bad record, the "
					 "first at byte %zu; its intact records were recovered and it was "
					 "moved to '%s/journal/corrupt/'", state_dir, name, start[r],
					 state_dir);
				ck_assert_str_eq(err, want_err);
				ck_assert_uint_eq(list_dir(corrupt_dir, names, 8), 1);
				ck_assert_str_eq(names[0], name);
				snprintf(moved, sizeof(moved), "%s/%s", corrupt_dir, name);
				struct blob kept = slurp(moved);
				ck_assert(kept.len == bad.len && !memcmp(kept.data, bad.data, bad.len));
				free(kept.data);
			}
			got_free(&g);
			got_free(&want);
			free(bad.data);
			clear_journal();
		}
	}
	free(b.data);
	remove_tree(tmp_root);
}
END_TEST

/* ---------------------------------------------------------- crashes */

/* Begins launches as fast as it can, reporting on the pipe after each
 * call returned: "B i" after begin(i); every fourth iteration also ends
 * launch i-2 and reports "E i-2". */
static void crash_child(int round, int wfd)
{
	char err[512];
	struct trig_state *st = trig_state_open(state_dir, 0, err, sizeof(err));
	struct trig_journal *j = st ? trig_journal_open(st, err, sizeof(err)) : NULL;
	if (!j)
		_exit(2);
	for (int i = 0;; i++) {
		char id[32], rec[128], msg[32];
		snprintf(id, sizeof(id), "r%02d-%05d", round, i);
		int n = snprintf(rec, sizeof(rec), "{\"round\":%d,\"i\":%d,\"pad\":\"%0*d\"}",
				 round, i, i % 50, 0);
		if (trig_journal_begin(j, id, rec, (size_t)n) < 0)
			_exit(3);
		n = snprintf(msg, sizeof(msg), "B %d\n", i);
		if (write(wfd, msg, (size_t)n) != n)
			_exit(4);
		if (i % 3 == 1 && trig_journal_update(j, id, "{\"started\":true}", 16) < 0)
			_exit(5);
		if (i % 4 == 3) {
			snprintf(id, sizeof(id), "r%02d-%05d", round, i - 2);
			if (trig_journal_end(j, id, "{\"done\":true}", 13) < 0)
				_exit(6);
			n = snprintf(msg, sizeof(msg), "E %d\n", i - 2);
			if (write(wfd, msg, (size_t)n) != n)
				_exit(7);
		}
	}
}

static uint64_t rng_state;

static uint32_t rng(void)
{
	rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
	return (uint32_t)(rng_state >> 33);
}

START_TEST(test_sigkill)
{
	make_root();
	const char *s = getenv("TRIG_TEST_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL);
	rng_state = seed;
	const char *r = getenv("TRIG_TEST_ROUNDS");
	int rounds = r ? atoi(r) : 12;

	/* Launches known to be pending (recovered before), by id. */
	char (*known)[16] = NULL;
	size_t nknown = 0;
	for (int round = 0; round < rounds; round++) {
		int p[2];
		ck_assert_int_eq(pipe(p), 0);
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			close(p[0]);
			crash_child(round, p[1]);
		}
		close(p[1]);
		/* Let it get some way, then kill it wherever it is. */
		unsigned target = rng() % 40;
		FILE *in = fdopen(p[0], "r");
		char line[64];
		unsigned acks = 0;
		static bool began[100000], ended[100000];
		memset(began, 0, sizeof(began));
		memset(ended, 0, sizeof(ended));
		int max_b = -1;
		while (acks < target && fgets(line, sizeof(line), in)) {
			int i = atoi(line + 2);
			if (line[0] == 'B')
				began[i] = true, max_b = i > max_b ? i : max_b;
			else
				ended[i] = true;
			acks++;
		}
		usleep(rng() % 3000);
		ck_assert_int_eq(kill(pid, SIGKILL), 0);
		int status;
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFSIGNALED(status), "seed %llu: child exited by itself (%d)",
			      (unsigned long long)seed, WEXITSTATUS(status));
		while (fgets(line, sizeof(line), in)) {         /* acks sent before death */
			int i = atoi(line + 2);
			if (line[0] == 'B')
				began[i] = true, max_b = i > max_b ? i : max_b;
			else
				ended[i] = true;
		}
		fclose(in);

		struct got g = { 0 };
		char err[512];
		int rc = recover(&g, err, sizeof(err));
		ck_assert_msg(rc == 0, "seed %llu round %d: rc %d: %s", (unsigned long long)seed,
			      round, rc, err);
		/* Everything known before is still there, first, in order. */
		ck_assert_msg(g.n >= nknown, "seed %llu round %d: lost launches",
			      (unsigned long long)seed, round);
		for (size_t i = 0; i < nknown; i++)
			ck_assert_msg(!strcmp(g.v[i].id, known[i]), "seed %llu round %d: lost '%s'",
				      (unsigned long long)seed, round, known[i]);
		/* Every acknowledged begin without an acknowledged end is there,
		 * unless its end may have been written just before the kill. */
		for (int i = 0; i <= max_b; i++) {
			char id[32];
			snprintf(id, sizeof(id), "r%02d-%05d", round, i);
			const struct pend *pp = got_find(&g, id);
			bool end_maybe = i % 4 == 1 && i + 2 <= max_b && !ended[i];
			if (ended[i])
				ck_assert_msg(!pp, "seed %llu: '%s' ended but pending",
					      (unsigned long long)seed, id);
			else if (began[i] && !end_maybe)
				ck_assert_msg(pp != NULL, "seed %llu: acknowledged '%s' lost",
					      (unsigned long long)seed, id);
		}
		/* And nothing else: at most the begin in flight at the kill. */
		for (size_t i = nknown; i < g.n; i++) {
			int rr, ii;
			ck_assert_int_eq(sscanf(g.v[i].id, "r%d-%d", &rr, &ii), 2);
			ck_assert_int_eq(rr, round);
			ck_assert_msg(ii <= max_b + 1, "seed %llu: '%s' was never begun",
				      (unsigned long long)seed, g.v[i].id);
			if (i > nknown)
				ck_assert_str_lt(g.v[i - 1].id, g.v[i].id);
			char rec[128];
			snprintf(rec, sizeof(rec), "{\"round\":%d,\"i\":%d,\"pad\":\"%0*d\"}", rr, ii,
				 ii % 50, 0);
			ck_assert_str_eq(g.v[i].begin, rec);
			/* The child writes i's update after acknowledging i's begin,
			 * so only a later acknowledged begin proves it was written. */
			if (ii % 3 == 1 && ii < max_b)
				ck_assert_str_eq(g.v[i].update, "{\"started\":true}");
		}
		known = realloc(known, (g.n ? g.n : 1) * sizeof(*known));
		nknown = g.n;
		for (size_t i = 0; i < g.n; i++)
			snprintf(known[i], sizeof(known[i]), "%s", g.v[i].id);
		got_free(&g);
		char names[8][256];
		ck_assert_uint_eq(list_dir(corrupt_dir, names, 8), 0);
		ck_assert_uint_le(list_dir(journal_dir, names, 8), 1);
	}
	free(known);
	remove_tree(tmp_root);
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("format");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_crc32c_reference);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_invalid_records);
	suite_add_tcase(s, tc);
	tc = tcase_create("recovery");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_recover_pending);
	tcase_add_test(tc, test_recover_needs_server);
	tcase_add_test(tc, test_live_segment);
	tcase_add_test(tc, test_interrupted_compaction);
	tcase_add_test(tc, test_order_across_segments);
	tcase_add_test(tc, test_threads);
	suite_add_tcase(s, tc);
	tc = tcase_create("damage");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_truncate_everywhere);
	tcase_add_test(tc, test_damaged_byte);
	tcase_add_test(tc, test_sigkill);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(journal_suite)
