/*
 * journal.c — the journal of accepted launches: per-process segments of
 * checksummed records, and recovery at server start (see journal.h for the
 * format and the crash-safety argument).
 *
 * CRC-32C is computed here with a 256-entry table: none of the libraries
 * the runtime already links (OpenSSL, libcurl, libmicrohttpd) exports it,
 * and twenty lines checked against RFC 3720's vectors in the unit tests
 * are cheaper than a new dependency.
 */
#include "journal.h"

#include "buf.h"
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum rec_type { REC_BEGIN, REC_UPDATE, REC_END };

static const char *const type_names[] = { "begin", "update", "end" };

struct trig_journal {
	struct trig_state *st;
	int jdirfd;             /* journal/ */
	int fd;                 /* our segment: O_APPEND, flock()ed */
	char *name;             /* its name in journal/ */

	pthread_mutex_t mu;     /* guards everything below */
	off_t size;             /* end of the last whole record */
	int64_t last_us;        /* time of the last record */
	int broken;             /* errno that made the segment unusable, or 0 */
	/* Group commit: one fdatasync() covers every record appended before
	 * it started; the threads waiting for it sleep on `synced_cv`. */
	off_t synced;           /* the segment is durable up to here */
	bool syncing;           /* a thread is in fdatasync() */
	pthread_cond_t synced_cv;
	uint64_t nsyncs, nbegins;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || !errlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---------------------------------------------------------- crc32c */

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32c(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t c = 0xFFFFFFFFu;
	pthread_once(&crc_once, crc_init);
	while (len--)
		c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/* ---------------------------------------------------------- writing */

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static bool valid_id(const char *id)
{
	size_t n = 0;
	if (!id)
		return false;
	for (; id[n]; n++)
		if ((unsigned char)id[n] <= 0x20 || (unsigned char)id[n] >= 0x7f)
			return false;
	return n > 0 && n <= TRIG_JOURNAL_ID_MAX;
}

/* Creates a new segment in journal/, locked and known to be still linked
 * (recovery, which removes only segments it could lock, may have removed
 * one between our open and our flock).  Returns the descriptor and the
 * name (the caller frees it), or -1 with errno. */
static int create_segment(int jdirfd, char **name_out)
{
	for (int attempt = 0; attempt < 1000; attempt++) {
		char stamp[64], name[128];
		trig_state_stamp(stamp, sizeof(stamp));
		if (attempt == 0)
			snprintf(name, sizeof(name), "%s-%ld.log", stamp, (long)getpid());
		else
			snprintf(name, sizeof(name), "%s-%ld-%d.log", stamp, (long)getpid(),
				 attempt);
		int fd = openat(jdirfd, name,
				O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
				0600);
		if (fd < 0) {
			if (errno == EEXIST)
				continue;
			return -1;
		}
		int r;
		while ((r = flock(fd, LOCK_EX)) < 0 && errno == EINTR)
			;
		struct stat sb;
		if (r < 0 || fstat(fd, &sb) < 0) {
			int e = errno;
			close(fd);
			unlinkat(jdirfd, name, 0);
			errno = e;
			return -1;
		}
		if (sb.st_nlink == 0) {
			close(fd);
			continue;
		}
		if (trig_fsync_dir(jdirfd) < 0) {
			int e = errno;
			close(fd);
			unlinkat(jdirfd, name, 0);
			errno = e;
			return -1;
		}
		*name_out = trig_xstrdup(name);
		return fd;
	}
	errno = EEXIST;
	return -1;
}

/* Opens journal/ (and journal/corrupt/ if corrupt), creating it durably. */
static int open_subdir(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0700) == 0) {
		if (trig_fsync_dir(dirfd) < 0)
			return -1;
	} else if (errno != EEXIST) {
		return -1;
	}
	return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

struct trig_journal *trig_journal_open(struct trig_state *st, char *err, size_t errlen)
{
	int jdirfd = open_subdir(trig_state_dirfd(st), "journal");
	if (jdirfd < 0) {
		seterr(err, errlen, "cannot open '%s/journal': %s", trig_state_dir(st),
		       strerror(errno));
		return NULL;
	}
	char *name;
	int fd = create_segment(jdirfd, &name);
	if (fd < 0) {
		seterr(err, errlen, "cannot create a journal segment in '%s/journal': %s",
		       trig_state_dir(st), strerror(errno));
		close(jdirfd);
		return NULL;
	}
	struct trig_journal *j = trig_xcalloc(1, sizeof(*j));
	j->st = st;
	j->jdirfd = jdirfd;
	j->fd = fd;
	j->name = name;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->synced_cv, NULL);
	return j;
}

/* Writes one whole record at the end of the segment (j->mu held).  A
 * partial write is cut off again, so the segment always ends with a whole
 * record; if that fails the segment is unusable. */
static int append_locked(struct trig_journal *j, const char *p, size_t n)
{
	size_t done = 0;
	while (done < n) {
		ssize_t w = write(j->fd, p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : EIO;
			if (done && ftruncate(j->fd, j->size) < 0)
				j->broken = EIO;
			errno = e;
			return -1;
		}
		done += (size_t)w;
	}
	j->size += (off_t)n;
	return 0;
}

/* Makes everything appended so far durable (j->mu held; dropped while
 * syncing).  Group commit: the first thread to need a sync runs
 * fdatasync() for everything appended until then, the others append
 * meanwhile and wait; when it returns, one of them syncs all they wrote.
 * Under load a sync covers many begins; alone, a begin costs one sync. */
static int sync_locked(struct trig_journal *j)
{
	off_t need = j->size;
	while (j->synced < need) {
		if (j->broken) {
			errno = j->broken;
			return -1;
		}
		if (j->syncing) {
			pthread_cond_wait(&j->synced_cv, &j->mu);
			continue;
		}
		j->syncing = true;
		off_t cover = j->size;
		pthread_mutex_unlock(&j->mu);
		int rc;
		while ((rc = fdatasync(j->fd)) < 0 && errno == EINTR)
			;
		int e = errno;
		pthread_mutex_lock(&j->mu);
		j->syncing = false;
		if (rc < 0)
			j->broken = e;
		else if (cover > j->synced)
			j->synced = cover;
		j->nsyncs++;
		pthread_cond_broadcast(&j->synced_cv);
	}
	return 0;
}

void trig_journal_stats(struct trig_journal *j, uint64_t *begins, uint64_t *syncs)
{
	pthread_mutex_lock(&j->mu);
	*begins = j->nbegins;
	*syncs = j->nsyncs;
	pthread_mutex_unlock(&j->mu);
}

/* Frames and appends one record; with sync, returns once it is durable. */
static int journal_append(struct trig_journal *j, enum rec_type type, const char *id,
			  const char *rec, size_t len, bool sync)
{
	if (!j || !valid_id(id) || !rec || !len || memchr(rec, '\n', len) || memchr(rec, 0, len)) {
		errno = EINVAL;
		return -1;
	}
	struct buf b = BUF_INIT;
	int rc = -1, e = 0;
	pthread_mutex_lock(&j->mu);
	if (j->broken) {
		e = j->broken;
		goto out;
	}
	int64_t t = now_us();
	if (t <= j->last_us)
		t = j->last_us + 1;
	buf_grow(&b, len + 64 + strlen(id));
	buf_adds(&b, "00000000 ");
	buf_printf(&b, "%s %" PRId64 " %s ", type_names[type], t, id);
	buf_add(&b, rec, len);
	char hex[9];
	snprintf(hex, sizeof(hex), "%08" PRIx32, crc32c(b.data + 9, b.len - 9));
	memcpy(b.data, hex, 8);
	buf_addc(&b, '\n');
	if (append_locked(j, b.data, b.len) < 0) {
		e = errno;
		goto out;
	}
	j->last_us = t;
	if (type == REC_BEGIN)
		j->nbegins++;
	if (sync && sync_locked(j) < 0) {
		e = errno;
		goto out;
	}
	rc = 0;
out:
	pthread_mutex_unlock(&j->mu);
	buf_release(&b);
	if (rc < 0)
		errno = e;
	return rc;
}

int trig_journal_begin(struct trig_journal *j, const char *id, const char *record, size_t len)
{
	return journal_append(j, REC_BEGIN, id, record, len, true);
}

int trig_journal_update(struct trig_journal *j, const char *id, const char *record, size_t len)
{
	return journal_append(j, REC_UPDATE, id, record, len, false);
}

int trig_journal_end(struct trig_journal *j, const char *id, const char *record, size_t len)
{
	return journal_append(j, REC_END, id, record, len, false);
}

void trig_journal_close(struct trig_journal *j)
{
	if (!j)
		return;
	if (!j->broken)
		(void)fdatasync(j->fd);
	close(j->fd);
	close(j->jdirfd);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->synced_cv);
	free(j->name);
	free(j);
}

/* ---------------------------------------------------------- recovery */

/* Where a record was read: orders records across segments. */
struct pos {
	int64_t time;
	size_t seg;             /* index in the sorted list of segments */
	size_t off;             /* byte offset in the segment */
};

static int pos_cmp(const struct pos *a, const struct pos *b)
{
	if (a->time != b->time)
		return a->time < b->time ? -1 : 1;
	if (a->seg != b->seg)
		return a->seg < b->seg ? -1 : 1;
	return a->off < b->off ? -1 : a->off > b->off;
}

/* What recovery knows of one launch. */
struct launch {
	char *id;
	char *begin;            /* whole line without its newline, or NULL */
	size_t begin_json;      /* offset of the json in it */
	struct pos begin_pos;
	char *update;
	size_t update_json;
	struct pos update_pos;
	bool ended;
};

/* Open-addressing hash table of launches by id. */
struct table {
	struct launch **slots;
	size_t cap, n;
};

static uint64_t hash_id(const char *s)
{
	uint64_t h = 1469598103934665603u;      /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static struct launch *table_get(struct table *t, const char *id)
{
	if (t->n * 2 >= t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct launch **slots = trig_xcalloc(cap, sizeof(*slots));
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->slots[i])
				continue;
			size_t k = hash_id(t->slots[i]->id) & (cap - 1);
			while (slots[k])
				k = (k + 1) & (cap - 1);
			slots[k] = t->slots[i];
		}
		free(t->slots);
		t->slots = slots;
		t->cap = cap;
	}
	size_t k = hash_id(id) & (t->cap - 1);
	while (t->slots[k]) {
		if (!strcmp(t->slots[k]->id, id))
			return t->slots[k];
		k = (k + 1) & (t->cap - 1);
	}
	struct launch *l = trig_xcalloc(1, sizeof(*l));
	l->id = trig_xstrdup(id);
	t->slots[k] = l;
	t->n++;
	return l;
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct launch *l = t->slots[i];
		if (!l)
			continue;
		free(l->id);
		free(l->begin);
		free(l->update);
		free(l);
	}
	free(t->slots);
}

struct record {
	enum rec_type type;
	int64_t time;
	char id[TRIG_JOURNAL_ID_MAX + 1];
	size_t json;            /* offset of the json in the line */
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Verifies and splits one line (without its newline). */
static bool parse_record(const char *line, size_t len, struct record *r)
{
	if (len < 9 || line[8] != ' ')
		return false;
	uint32_t want = 0;
	for (int i = 0; i < 8; i++) {
		int v = hexval(line[i]);
		if (v < 0)
			return false;
		want = want << 4 | (uint32_t)v;
	}
	if (crc32c(line + 9, len - 9) != want)
		return false;
	const char *p = line + 9, *end = line + len;
	const char *sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp)
		return false;
	size_t tlen = (size_t)(sp - p);
	int type = -1;
	for (int i = 0; i < 3; i++)
		if (strlen(type_names[i]) == tlen && !memcmp(p, type_names[i], tlen))
			type = i;
	if (type < 0)
		return false;
	r->type = (enum rec_type)type;
	p = sp + 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || sp == p || sp - p > 19)
		return false;
	uint64_t t = 0;
	for (; p < sp; p++) {
		if (*p < '0' || *p > '9')
			return false;
		t = t * 10 + (uint64_t)(*p - '0');
	}
	if (t > (uint64_t)INT64_MAX)
		return false;
	r->time = (int64_t)t;
	p = sp + 1;
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || sp == p || sp - p > TRIG_JOURNAL_ID_MAX)
		return false;
	memcpy(r->id, p, (size_t)(sp - p));
	r->id[sp - p] = 0;
	if (!valid_id(r->id))
		return false;
	r->json = (size_t)(sp + 1 - line);
	return r->json < len && !memchr(line, 0, len);
}

/* One segment found in journal/. */
struct segment {
	char *name;
	int fd;                 /* open and flock()ed (dead) or -1 */
	bool live;              /* held by a running process */
	size_t bad;             /* damaged records before the last line */
	size_t first_bad;       /* byte offset of the first */
};

static void apply_record(struct table *t, const struct record *r, const char *line, size_t len,
			 struct pos pos, bool live)
{
	struct launch *l;
	switch (r->type) {
	case REC_BEGIN:
		if (live)
			return;         /* owned by the process writing it */
		l = table_get(t, r->id);
		if (l->ended || (l->begin && pos_cmp(&l->begin_pos, &pos) <= 0))
			return;         /* a copy left by an interrupted compaction */
		free(l->begin);
		l->begin = trig_xmalloc(len + 1);
		memcpy(l->begin, line, len);
		l->begin[len] = 0;
		l->begin_json = r->json;
		l->begin_pos = pos;
		return;
	case REC_UPDATE:
		l = table_get(t, r->id);
		if (l->ended || (l->update && pos_cmp(&l->update_pos, &pos) >= 0))
			return;
		free(l->update);
		l->update = trig_xmalloc(len + 1);
		memcpy(l->update, line, len);
		l->update[len] = 0;
		l->update_json = r->json;
		l->update_pos = pos;
		return;
	case REC_END:
		l = table_get(t, r->id);
		l->ended = true;
		free(l->begin);
		free(l->update);
		l->begin = l->update = NULL;
		return;
	}
}

/* Reads the records of one segment into the table.  A bad last line is a
 * torn write and is ignored; a bad line with lines after it is damage. */
static int read_segment(int fd, struct segment *seg, size_t segno, struct table *t)
{
	int dfd = dup(fd);
	FILE *f = dfd >= 0 ? fdopen(dfd, "r") : NULL;
	if (!f) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		errno = e;
		return -1;
	}
	char *line = NULL;
	size_t cap = 0, off = 0;
	ssize_t n;
	bool have_bad = false;
	size_t bad_off = 0;
	while ((n = getline(&line, &cap, f)) > 0) {
		size_t len = (size_t)n;
		if (have_bad) {         /* the bad line was not the last one */
			if (!seg->bad++)
				seg->first_bad = bad_off;
			have_bad = false;
		}
		if (line[len - 1] != '\n')
			break;          /* torn: the file ends without a newline */
		struct record r;
		if (!parse_record(line, len - 1, &r)) {
			have_bad = true;
			bad_off = off;
		} else {
			struct pos pos = { r.time, segno, off };
			apply_record(t, &r, line, len - 1, pos, seg->live);
		}
		off += len;
	}
	int e = ferror(f) ? errno : 0;
	free(line);
	fclose(f);
	if (e) {
		errno = e;
		return -1;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_begin(const void *a, const void *b)
{
	const struct launch *x = *(struct launch *const *)a, *y = *(struct launch *const *)b;
	return pos_cmp(&x->begin_pos, &y->begin_pos);
}

/* Names of the *.log files of journal/, sorted. */
static int list_segments(int jdirfd, char ***names_out, size_t *n_out)
{
	int fd = openat(jdirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		errno = e;
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".log"))
			continue;
		struct stat sb;
		if (fstatat(jdirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = trig_xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = trig_xstrdup(de->d_name);
		errno = 0;
	}
	int e = errno;
	closedir(d);
	if (e) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		errno = e;
		return -1;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	*names_out = names;
	*n_out = n;
	return 0;
}

/* Writes the pending launches into a new synced segment. */
static int write_compacted(int jdirfd, struct launch **pending, size_t n, char **name_out)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < n; i++) {
		buf_adds(&b, pending[i]->begin);
		buf_addc(&b, '\n');
		if (pending[i]->update) {
			buf_adds(&b, pending[i]->update);
			buf_addc(&b, '\n');
		}
	}
	char *name;
	int fd = create_segment(jdirfd, &name);
	if (fd < 0) {
		buf_release(&b);
		return -1;
	}
	size_t done = 0;
	int rc = 0;
	while (done < b.len) {
		ssize_t w = write(fd, b.data + done, b.len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			rc = -1;
			break;
		}
		done += (size_t)w;
	}
	if (rc == 0) {
		while ((rc = fdatasync(fd)) < 0 && errno == EINTR)
			;
	}
	int e = errno;
	close(fd);
	buf_release(&b);
	if (rc < 0) {
		unlinkat(jdirfd, name, 0);
		free(name);
		errno = e;
		return -1;
	}
	*name_out = name;
	return 0;
}

int trig_journal_recover(struct trig_state *st, trig_journal_pending_fn *fn, void *ctx,
			 char *err, size_t errlen)
{
	const char *dir = trig_state_dir(st);
	if (!trig_state_is_server(st)) {
		seterr(err, errlen,
		       "journal recovery of '%s' needs the server's lock on the folder", dir);
		errno = EPERM;
		return -1;
	}
	int jdirfd = open_subdir(trig_state_dirfd(st), "journal");
	if (jdirfd < 0) {
		seterr(err, errlen, "cannot open '%s/journal': %s", dir, strerror(errno));
		return -1;
	}
	int rc = -1;
	char **names = NULL;
	size_t nseg = 0, npending = 0, ncorrupt = 0;
	struct segment *segs = NULL;
	struct table t = { 0 };
	struct launch **pending = NULL;
	char *compacted = NULL;
	int cdirfd = -1;

	if (list_segments(jdirfd, &names, &nseg) < 0) {
		seterr(err, errlen, "cannot list '%s/journal': %s", dir, strerror(errno));
		goto out;
	}
	segs = trig_xcalloc(nseg ? nseg : 1, sizeof(*segs));
	for (size_t i = 0; i < nseg; i++) {
		segs[i].name = names[i];
		segs[i].fd = -1;
	}
	for (size_t i = 0; i < nseg; i++) {
		struct segment *s = &segs[i];
		int fd = openat(jdirfd, s->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			seterr(err, errlen, "cannot open '%s/journal/%s': %s", dir, s->name,
			       strerror(errno));
			goto out;
		}
		int r;
		while ((r = flock(fd, LOCK_EX | LOCK_NB)) < 0 && errno == EINTR)
			;
		if (r < 0 && errno != EWOULDBLOCK) {
			seterr(err, errlen, "cannot lock '%s/journal/%s': %s", dir, s->name,
			       strerror(errno));
			close(fd);
			goto out;
		}
		s->live = r < 0;
		if (read_segment(fd, s, i, &t) < 0) {
			seterr(err, errlen, "cannot read '%s/journal/%s': %s", dir, s->name,
			       strerror(errno));
			close(fd);
			goto out;
		}
		if (s->live)
			close(fd);
		else
			s->fd = fd;     /* keep the lock until it is removed */
	}

	pending = trig_xcalloc(t.n ? t.n : 1, sizeof(*pending));
	for (size_t i = 0; i < t.cap; i++)
		if (t.slots[i] && t.slots[i]->begin && !t.slots[i]->ended)
			pending[npending++] = t.slots[i];
	qsort(pending, npending, sizeof(*pending), cmp_begin);

	bool any_dead = false;
	for (size_t i = 0; i < nseg; i++) {
		any_dead |= segs[i].fd >= 0;
		ncorrupt += segs[i].fd >= 0 && segs[i].bad;
	}
	if (npending && any_dead && write_compacted(jdirfd, pending, npending, &compacted) < 0) {
		seterr(err, errlen, "cannot write a compacted journal segment in '%s/journal': %s",
		       dir, strerror(errno));
		goto out;
	}
	if (ncorrupt) {
		cdirfd = open_subdir(jdirfd, "corrupt");
		if (cdirfd < 0) {
			seterr(err, errlen, "cannot create '%s/journal/corrupt': %s", dir,
			       strerror(errno));
			goto out;
		}
	}
	/* The pending launches are durable in the new segment: the old
	 * segments can go (the damaged ones to corrupt/). */
	const struct segment *first_corrupt = NULL;
	for (size_t i = 0; i < nseg; i++) {
		struct segment *s = &segs[i];
		if (s->fd < 0)
			continue;
		if (s->bad) {
			if (renameat(jdirfd, s->name, cdirfd, s->name) < 0) {
				seterr(err, errlen, "cannot move the damaged '%s/journal/%s' to "
				       "'%s/journal/corrupt/': %s", dir, s->name, dir,
				       strerror(errno));
				goto out;
			}
			if (!first_corrupt)
				first_corrupt = s;
		} else if (unlinkat(jdirfd, s->name, 0) < 0 && errno != ENOENT) {
			seterr(err, errlen, "cannot remove '%s/journal/%s': %s", dir, s->name,
			       strerror(errno));
			goto out;
		}
		close(s->fd);
		s->fd = -1;
	}
	if ((cdirfd >= 0 && trig_fsync_dir(cdirfd) < 0) || trig_fsync_dir(jdirfd) < 0) {
		seterr(err, errlen, "cannot sync '%s/journal': %s", dir, strerror(errno));
		goto out;
	}

	for (size_t i = 0; i < npending; i++) {
		struct launch *l = pending[i];
		fn(l->id, l->begin + l->begin_json, l->update ? l->update + l->update_json : NULL,
		   ctx);
	}
	rc = 0;
	if (first_corrupt) {
		const struct segment *s = first_corrupt;
		char more[128] = "";
		if (ncorrupt > 1)
			snprintf(more, sizeof(more),
				 " (and %zu more damaged segment%s, also moved there)",
				 ncorrupt - 1, ncorrupt > 2 ? "s" : "");
		seterr(err, errlen, "journal segment '%s/journal/%s' is damaged: %zu bad record%s, "
		       "the first at byte %zu; its intact records were recovered and it was moved "
		       "to '%s/journal/corrupt/'%s", dir, s->name, s->bad, s->bad == 1 ? "" : "s",
		       s->first_bad, dir, more);
		rc = (int)(ncorrupt > INT_MAX ? INT_MAX : ncorrupt);
	}
out:
	for (size_t i = 0; i < nseg; i++) {
		if (segs[i].fd >= 0)
			close(segs[i].fd);
		free(segs[i].name);
	}
	free(segs);
	free(names);
	free(pending);
	free(compacted);
	table_free(&t);
	if (cdirfd >= 0)
		close(cdirfd);
	close(jdirfd);
	return rc;
}
