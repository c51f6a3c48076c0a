/*
 * state.c — the state folder: opening and locking it, enable/disable
 * overrides, and the ticks log of the scheduler (see state.h).
 *
 * Every file is reached relative to a descriptor of the folder (openat and
 * friends), so a process that changes its working directory keeps using
 * the same folder.  Files that must change atomically (VERSION, overrides,
 * the compacted ticks log) are written to a temporary ".tmp.NAME.PID.N",
 * fsynced, renamed over the old one, and the folder fsynced.
 */
#include "state.h"

#include "buf.h"
#include "fileio.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NAME_MAX_LEN 255

struct override {
	char *name;
	bool enabled;
};

struct tick {
	char *name;
	int64_t tick;
};

/* What identifies one version of a file without reading it. */
struct file_key {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct trig_state {
	char *dir;              /* as given */
	char *abspath;
	int dirfd;
	int lockfd;             /* server.lock, TRIG_STATE_SERVER only */
	unsigned flags;

	pthread_mutex_t mu;     /* guards everything below */

	struct override *ov;    /* sorted by name */
	size_t nov;
	struct file_key ov_key; /* of the file ov was read from */
	bool ov_racy;           /* its mtime was too recent to trust the key */
	struct file_key ov_bad; /* last version that failed to load (warned) */

	struct tick *ticks;     /* sorted by name */
	size_t nticks, cticks;
	int ticksfd;            /* opened on the first record */
	size_t tick_lines;      /* appended since the last compaction */
};

/* A server rewrites the ticks log once it has grown by this many lines,
 * so that a server running for months does not leave a huge log. */
#define TICKS_COMPACT_LINES 65536

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

/* Trigger names as the state stores them: one token of visible ASCII. */
static bool valid_name(const char *s)
{
	size_t n = 0;
	if (!s)
		return false;
	for (; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return false;
	return n > 0 && n <= NAME_MAX_LEN;
}

void trig_state_stamp(char *out, size_t outlen)
{
	struct timespec ts;
	struct tm tm;
	char day[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y%m%dT%H%M%S", &tm);
	snprintf(out, outlen, "%s.%06ldZ", day, ts.tv_nsec / 1000);
}

/* Reads the whole file NAME (relative to dirfd) into out; if key is not
 * NULL, fills it from the descriptor that was read.  -1 with errno. */
static int read_file_at(int dirfd, const char *name, struct buf *out, struct file_key *key)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	struct stat sb;
	if (fstat(fd, &sb) < 0)
		goto fail;
	buf_reset(out);
	buf_grow(out, (size_t)sb.st_size);
	for (;;) {
		buf_grow(out, 4096);
		ssize_t r = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
	}
	out->data[out->len] = 0;
	if (key) {
		key->exists = true;
		key->dev = sb.st_dev;
		key->ino = sb.st_ino;
		key->size = sb.st_size;
		key->mtime = sb.st_mtim;
	}
	close(fd);
	return 0;
fail:;
	int e = errno;
	close(fd);
	errno = e;
	return -1;
}

/* Whether the folder holds nothing but our temporaries (a crash while it
 * was being created) or a file system's lost+found. */
static int folder_is_empty(int dirfd, bool *empty)
{
	int fd = dup(dirfd);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	rewinddir(d);
	*empty = true;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") || !strncmp(n, ".tmp.", 5) ||
		    !strcmp(n, "lost+found"))
			continue;
		*empty = false;
		break;
	}
	closedir(d);
	return 0;
}

/* ---------------------------------------------------------- overrides */

static void free_overrides(struct override *ov, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ov[i].name);
	free(ov);
}

static int cmp_override(const void *a, const void *b)
{
	return strcmp(((const struct override *)a)->name, ((const struct override *)b)->name);
}

/* Parses the overrides file: "NAME enabled|disabled" lines, blank lines and
 * "#" comments.  On a malformed line, returns -1 with a message naming it
 * (PATH is the file's name for it). */
static int parse_overrides(const char *text, size_t len, const char *path,
			   struct override **out, size_t *nout, char *err, size_t errlen)
{
	struct override *ov = NULL;
	size_t n = 0, cap = 0;
	size_t lineno = 0;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		lineno++;
		const char *s = p;
		while (s < le && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		const char *e = le;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		p = nl ? nl + 1 : end;
		if (s == e || *s == '#')
			continue;
		const char *sp = s;
		while (sp < e && *sp != ' ' && *sp != '\t')
			sp++;
		const char *w = sp;
		while (w < e && (*w == ' ' || *w == '\t'))
			w++;
		size_t nlen = (size_t)(sp - s), wlen = (size_t)(e - w);
		int state = -1;
		if (wlen == 7 && !memcmp(w, "enabled", 7))
			state = 1;
		else if (wlen == 8 && !memcmp(w, "disabled", 8))
			state = 0;
		char *name = NULL;
		if (nlen && nlen <= NAME_MAX_LEN) {
			name = trig_xmalloc(nlen + 1);
			memcpy(name, s, nlen);
			name[nlen] = 0;
		}
		if (state < 0 || !name || !valid_name(name) || memchr(s, 0, (size_t)(e - s))) {
			struct buf q = BUF_INIT;
			buf_json_str(&q, s, (size_t)(e - s) > 80 ? 80 : (size_t)(e - s));
			seterr(err, errlen, "'%s' line %zu: malformed override %s "
			       "(expected 'NAME enabled' or 'NAME disabled')",
			       path, lineno, buf_cstr(&q));
			buf_release(&q);
			free(name);
			free_overrides(ov, n);
			return -1;
		}
		/* A later line for the same trigger wins. */
		size_t i;
		for (i = 0; i < n; i++)
			if (!strcmp(ov[i].name, name))
				break;
		if (i < n) {
			free(name);
			ov[i].enabled = state;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			ov = trig_xrealloc(ov, cap * sizeof(*ov));
		}
		ov[n].name = name;
		ov[n].enabled = state;
		n++;
	}
	if (n)
		qsort(ov, n, sizeof(*ov), cmp_override);
	*out = ov;
	*nout = n;
	return 0;
}

static bool same_key(const struct file_key *a, const struct file_key *b)
{
	if (a->exists != b->exists)
		return false;
	if (!a->exists)
		return true;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* A file modified less than a second before we read it may change again
 * without its (inode, size, mtime) changing: inode numbers are reused and
 * mtime has the granularity of the kernel's coarse clock.  Such a read is
 * "racy" and is repeated until the file is older (git's racy-git rule). */
static bool key_is_racy(const struct file_key *k)
{
	if (!k->exists)
		return false;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (k->mtime.tv_sec > now.tv_sec - 1)
		return true;
	return k->mtime.tv_sec == now.tv_sec - 1 && k->mtime.tv_nsec >= now.tv_nsec;
}

/* Loads the overrides file into the cache (st->mu held).  -1 with a
 * message when it cannot be read or is malformed; the cache is unchanged. */
static int load_overrides(struct trig_state *st, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	struct file_key key = { 0 };
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/overrides", st->dir);
	if (read_file_at(st->dirfd, "overrides", &b, &key) < 0) {
		if (errno != ENOENT) {
			seterr(err, errlen, "cannot read '%s': %s", path, strerror(errno));
			buf_release(&b);
			return -1;
		}
		key.exists = false;
		buf_reset(&b);
	}
	struct override *ov = NULL;
	size_t n = 0;
	if (parse_overrides(buf_cstr(&b), b.len, path, &ov, &n, err, errlen) < 0) {
		buf_release(&b);
		return -1;
	}
	buf_release(&b);
	free_overrides(st->ov, st->nov);
	st->ov = ov;
	st->nov = n;
	st->ov_key = key;
	st->ov_racy = key_is_racy(&key);
	return 0;
}

int trig_state_enabled(struct trig_state *st, const char *trigger, int dflt)
{
	struct stat sb;
	struct file_key now = { 0 };
	pthread_mutex_lock(&st->mu);
	if (fstatat(st->dirfd, "overrides", &sb, AT_SYMLINK_NOFOLLOW) == 0) {
		now.exists = true;
		now.dev = sb.st_dev;
		now.ino = sb.st_ino;
		now.size = sb.st_size;
		now.mtime = sb.st_mtim;
	} else if (errno != ENOENT) {
		now = st->ov_key;       /* cannot tell: keep what we have */
	}
	if (st->ov_racy || !same_key(&now, &st->ov_key)) {
		char msg[512];
		if (load_overrides(st, msg, sizeof(msg)) < 0) {
			if (!same_key(&now, &st->ov_bad))
				trig_warn("%s; keeping the overrides read before", msg);
			st->ov_bad = now;   /* warn once per bad version */
			st->ov_key = now;
			st->ov_racy = key_is_racy(&now);
		}
	}
	int r = dflt;
	if (trigger && st->nov) {
		struct override k = { .name = (char *)trigger };
		const struct override *o = bsearch(&k, st->ov, st->nov, sizeof(*st->ov),
						   cmp_override);
		if (o)
			r = o->enabled;
	}
	pthread_mutex_unlock(&st->mu);
	return r;
}

/* Read-modify-write of the overrides file under overrides.lock.  state: 1
 * enable, 0 disable, -1 remove. */
static int change_override(struct trig_state *st, const char *trigger, int state)
{
	if (!valid_name(trigger)) {
		errno = EINVAL;
		return -1;
	}
	int lfd = openat(st->dirfd, "overrides.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			 0600);
	if (lfd < 0)
		return -1;
	while (flock(lfd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(lfd);
			errno = e;
			return -1;
		}
	}
	int rc = -1, e = 0;
	struct buf b = BUF_INIT;
	struct override *ov = NULL;
	size_t n = 0;
	if (read_file_at(st->dirfd, "overrides", &b, NULL) < 0) {
		if (errno != ENOENT) {
			e = errno;
			goto out;
		}
		buf_reset(&b);
	}
	char msg[512], path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/overrides", st->dir);
	if (parse_overrides(buf_cstr(&b), b.len, path, &ov, &n, msg, sizeof(msg)) < 0) {
		trig_warn("%s", msg);
		e = EBADMSG;
		goto out;
	}
	size_t i;
	for (i = 0; i < n; i++)
		if (!strcmp(ov[i].name, trigger))
			break;
	if (state < 0 && i == n) {
		rc = 0;                 /* nothing to remove */
		goto out;
	}
	if (state >= 0 && i < n && ov[i].enabled == state) {
		rc = 0;                 /* already so */
		goto out;
	}
	if (state < 0) {
		free(ov[i].name);
		memmove(ov + i, ov + i + 1, (n - i - 1) * sizeof(*ov));
		n--;
	} else if (i < n) {
		ov[i].enabled = state;
	} else {
		ov = trig_xrealloc(ov, (n + 1) * sizeof(*ov));
		ov[n].name = trig_xstrdup(trigger);
		ov[n].enabled = state;
		n++;
		qsort(ov, n, sizeof(*ov), cmp_override);
	}
	buf_reset(&b);
	buf_adds(&b,
		 "# trig enable/disable overrides (written by `enable NAME` and `disable NAME`)\n");
	for (i = 0; i < n; i++)
		buf_printf(&b, "%s %s\n", ov[i].name, ov[i].enabled ? "enabled" : "disabled");
	if (trig_write_file_at(st->dirfd, "overrides", b.data, b.len, true) < 0) {
		e = errno;
		goto out;
	}
	rc = 0;
out:
	free_overrides(ov, n);
	buf_release(&b);
	close(lfd);             /* releases the lock */
	if (rc < 0)
		errno = e;
	return rc;
}

int trig_state_set_enabled(struct trig_state *st, const char *trigger, bool enabled)
{
	return change_override(st, trigger, enabled ? 1 : 0);
}

int trig_state_clear_enabled(struct trig_state *st, const char *trigger)
{
	return change_override(st, trigger, -1);
}

/* ---------------------------------------------------------- ticks */

/* The entry for NAME (st->mu held); creates it if create. */
static struct tick *find_tick(struct trig_state *st, const char *name, bool create)
{
	size_t lo = 0, hi = st->nticks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(st->ticks[mid].name, name);
		if (c == 0)
			return &st->ticks[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!create)
		return NULL;
	if (st->nticks == st->cticks) {
		st->cticks = st->cticks ? st->cticks * 2 : 16;
		st->ticks = trig_xrealloc(st->ticks, st->cticks * sizeof(*st->ticks));
	}
	memmove(st->ticks + lo + 1, st->ticks + lo, (st->nticks - lo) * sizeof(*st->ticks));
	st->nticks++;
	st->ticks[lo].name = trig_xstrdup(name);
	st->ticks[lo].tick = INT64_MIN;
	return &st->ticks[lo];
}

/* "NAME TICK" -> fills name/tick; false if malformed. */
static bool parse_tick_line(const char *s, size_t len, char *name, int64_t *tick)
{
	const char *sp = memchr(s, ' ', len);
	if (!sp || sp == s || (size_t)(sp - s) > NAME_MAX_LEN)
		return false;
	size_t nlen = (size_t)(sp - s);
	memcpy(name, s, nlen);
	name[nlen] = 0;
	if (!valid_name(name))
		return false;
	const char *v = sp + 1, *end = s + len;
	bool neg = false;
	if (v < end && *v == '-') {
		neg = true;
		v++;
	}
	if (v == end || end - v > 19)
		return false;
	uint64_t x = 0;
	for (; v < end; v++) {
		if (*v < '0' || *v > '9')
			return false;
		x = x * 10 + (uint64_t)(*v - '0');
	}
	if (x > (uint64_t)INT64_MAX)
		return false;
	*tick = neg ? -(int64_t)x : (int64_t)x;
	return *tick != INT64_MIN;
}

/* Reads the ticks log into st->ticks.  A last line without its newline
 * (a write cut by a crash) is ignored; *bad counts other malformed lines;
 * *compact tells whether the file already is what compaction would write. */
static int load_ticks(struct trig_state *st, size_t *bad, bool *compact)
{
	struct buf b = BUF_INIT;
	size_t lines = 0;
	*bad = 0;
	*compact = true;
	if (read_file_at(st->dirfd, "ticks", &b, NULL) < 0) {
		int e = errno;
		buf_release(&b);
		if (e == ENOENT)
			return 0;
		errno = e;
		return -1;
	}
	char name[NAME_MAX_LEN + 1];
	const char *p = buf_cstr(&b), *end = p + b.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			*compact = false;
			break;          /* torn last line: never acknowledged */
		}
		lines++;
		int64_t t;
		if (parse_tick_line(p, (size_t)(nl - p), name, &t)) {
			struct tick *k = find_tick(st, name, true);
			if (t > k->tick)
				k->tick = t;
		} else {
			(*bad)++;
		}
		p = nl + 1;
	}
	buf_release(&b);
	if (*bad || lines != st->nticks)
		*compact = false;
	return 0;
}

/* Server start: rewrites the ticks log with one line per trigger.  A log
 * with malformed lines is kept as corrupt/ticks.STAMP. */
static int compact_ticks(struct trig_state *st, size_t bad, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	for (size_t i = 0; i < st->nticks; i++)
		buf_printf(&b, "%s %lld\n", st->ticks[i].name, (long long)st->ticks[i].tick);
	if (bad) {
		char stamp[64], name[96];
		trig_state_stamp(stamp, sizeof(stamp));
		snprintf(name, sizeof(name), "corrupt/ticks.%s", stamp);
		int cfd = -1;
		if ((mkdirat(st->dirfd, "corrupt", 0700) < 0 && errno != EEXIST) ||
		    linkat(st->dirfd, "ticks", st->dirfd, name, 0) < 0 ||
		    (cfd = openat(st->dirfd, "corrupt", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		    trig_fsync_dir(cfd) < 0 || trig_fsync_dir(st->dirfd) < 0) {
			if (cfd >= 0)
				close(cfd);
			seterr(err, errlen,
			       "cannot move the damaged '%s/ticks' aside to '%s/%s': %s",
			       st->dir, st->dir, name, strerror(errno));
			buf_release(&b);
			return -1;
		}
		close(cfd);
		trig_warn("'%s/ticks' has %zu malformed line%s; kept the rest, "
			  "moved the file to '%s/%s'",
			  st->dir, bad, bad == 1 ? "" : "s", st->dir, name);
	}
	int rc = trig_write_file_at(st->dirfd, "ticks", buf_cstr(&b), b.len, true);
	if (rc < 0)
		seterr(err, errlen, "cannot write '%s/ticks': %s", st->dir, strerror(errno));
	buf_release(&b);
	return rc;
}

int64_t trig_state_last_tick(struct trig_state *st, const char *trigger)
{
	int64_t t = INT64_MIN;
	pthread_mutex_lock(&st->mu);
	const struct tick *k = valid_name(trigger) ? find_tick(st, trigger, false) : NULL;
	if (k)
		t = k->tick;
	pthread_mutex_unlock(&st->mu);
	return t;
}

int trig_state_record_tick(struct trig_state *st, const char *trigger, int64_t tick)
{
	if (!valid_name(trigger) || tick == INT64_MIN) {
		errno = EINVAL;
		return -1;
	}
	int rc = 0, e = 0;
	pthread_mutex_lock(&st->mu);
	struct tick *k = find_tick(st, trigger, false);
	if (k && k->tick >= tick)
		goto out;
	if (st->ticksfd < 0) {
		st->ticksfd = openat(st->dirfd, "ticks",
				     O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (st->ticksfd < 0) {
			rc = -1, e = errno;
			goto out;
		}
	}
	char line[NAME_MAX_LEN + 32];
	int n = snprintf(line, sizeof(line), "%s %lld\n", trigger, (long long)tick);
	ssize_t w;
	do
		w = write(st->ticksfd, line, (size_t)n);
	while (w < 0 && errno == EINTR);
	if (w != n) {
		rc = -1, e = w < 0 ? errno : EIO;
		goto out;
	}
	find_tick(st, trigger, true)->tick = tick;
	if ((st->flags & TRIG_STATE_SERVER) && ++st->tick_lines >= TICKS_COMPACT_LINES) {
		char msg[512];
		st->tick_lines = 0;
		if (compact_ticks(st, 0, msg, sizeof(msg)) < 0) {
			trig_warn("%s", msg);   /* the log stays valid, only longer */
		} else {
			close(st->ticksfd);     /* it is the old, replaced file */
			st->ticksfd = -1;
		}
	}
out:
	pthread_mutex_unlock(&st->mu);
	if (rc < 0)
		errno = e;
	return rc;
}

/* ---------------------------------------------------------- open/close */

/* Checks VERSION, writing it into an empty folder. */
static int check_version(struct trig_state *st, char *err, size_t errlen)
{
	struct buf b = BUF_INIT;
	int rc = -1;
	if (read_file_at(st->dirfd, "VERSION", &b, NULL) < 0) {
		if (errno != ENOENT) {
			seterr(err, errlen, "cannot read '%s/VERSION': %s", st->dir,
			       strerror(errno));
			goto out;
		}
		bool empty;
		if (folder_is_empty(st->dirfd, &empty) < 0) {
			seterr(err, errlen, "cannot list state folder '%s': %s", st->dir,
			       strerror(errno));
			goto out;
		}
		if (!empty) {
			seterr(err, errlen, "'%s' is not a trig state folder: it is not empty "
			       "and has no VERSION file", st->dir);
			goto out;
		}
		char v[32];
		int n = snprintf(v, sizeof(v), "%d\n", TRIG_STATE_FORMAT);
		if (trig_write_file_at(st->dirfd, "VERSION", v, (size_t)n, true) < 0) {
			seterr(err, errlen, "cannot write '%s/VERSION': %s", st->dir,
			       strerror(errno));
			goto out;
		}
		rc = 0;
		goto out;
	}
	const char *p = buf_cstr(&b);
	size_t n = b.len;
	while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	long v = 0;
	size_t i;
	for (i = 0; i < n && i < 9; i++) {
		if (p[i] < '0' || p[i] > '9')
			break;
		v = v * 10 + (p[i] - '0');
	}
	if (n == 0 || i != n) {
		seterr(err, errlen, "state folder '%s' has a malformed VERSION file", st->dir);
		goto out;
	}
	if (v != TRIG_STATE_FORMAT) {
		seterr(err, errlen, "state folder '%s' has format version %ld; this program "
		       "reads version %d", st->dir, v, TRIG_STATE_FORMAT);
		goto out;
	}
	rc = 0;
out:
	buf_release(&b);
	return rc;
}

/* Takes server.lock, or explains who holds it. */
static int lock_server(struct trig_state *st, char *err, size_t errlen)
{
	st->lockfd = openat(st->dirfd, "server.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			    0600);
	if (st->lockfd < 0) {
		seterr(err, errlen, "cannot open '%s/server.lock': %s", st->dir, strerror(errno));
		return -1;
	}
	int r;
	while ((r = flock(st->lockfd, LOCK_EX | LOCK_NB)) < 0 && errno == EINTR)
		;
	if (r < 0) {
		if (errno != EWOULDBLOCK) {
			seterr(err, errlen, "cannot lock '%s/server.lock': %s", st->dir,
			       strerror(errno));
			return -1;
		}
		char pid[32] = "";
		ssize_t n = pread(st->lockfd, pid, sizeof(pid) - 1, 0);
		long v = 0;
		if (n > 0) {
			pid[n] = 0;
			char *end;
			v = strtol(pid, &end, 10);
			if (end == pid || (*end && *end != '\n'))
				v = 0;
		}
		if (v > 0)
			seterr(err, errlen,
			       "state folder '%s' is in use by another server (pid %ld)",
			       st->dir, v);
		else
			seterr(err, errlen, "state folder '%s' is in use by another server",
			       st->dir);
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(st->lockfd, 0) < 0 || pwrite(st->lockfd, pid, (size_t)n, 0) != n) {
		seterr(err, errlen, "cannot write '%s/server.lock': %s", st->dir, strerror(errno));
		return -1;
	}
	return 0;
}

struct trig_state *trig_state_open(const char *dir, unsigned flags, char *err, size_t errlen)
{
	if (!dir || !*dir)
		dir = TRIG_STATE_DEFAULT_DIR;
	if (strlen(dir) >= PATH_MAX) {
		seterr(err, errlen, "state folder name is too long");
		return NULL;
	}
	struct trig_state *st = trig_xcalloc(1, sizeof(*st));
	st->dir = trig_xstrdup(dir);
	st->dirfd = st->lockfd = st->ticksfd = -1;
	st->flags = flags;
	pthread_mutex_init(&st->mu, NULL);

	struct stat sb;
	if (stat(dir, &sb) < 0) {
		if (errno != ENOENT) {
			seterr(err, errlen, "cannot access state folder '%s': %s", dir,
			       strerror(errno));
			goto fail;
		}
		if (flags & TRIG_STATE_EXISTING) {
			seterr(err, errlen, "state folder '%s' does not exist", dir);
			goto fail;
		}
		if (trig_mkdir_p(dir) < 0) {
			seterr(err, errlen, "cannot create state folder '%s': %s", dir,
			       strerror(errno));
			goto fail;
		}
	} else if (!S_ISDIR(sb.st_mode)) {
		seterr(err, errlen, "state folder '%s' is not a directory", dir);
		goto fail;
	}
	if (faccessat(AT_FDCWD, dir, R_OK | X_OK, AT_EACCESS) < 0) {
		seterr(err, errlen, "state folder '%s' is not readable: %s", dir, strerror(errno));
		goto fail;
	}
	if (faccessat(AT_FDCWD, dir, W_OK, AT_EACCESS) < 0) {
		seterr(err, errlen, "state folder '%s' is not writable: %s", dir, strerror(errno));
		goto fail;
	}
	st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0) {
		seterr(err, errlen, "cannot open state folder '%s': %s", dir, strerror(errno));
		goto fail;
	}
	st->abspath = realpath(dir, NULL);
	if (!st->abspath) {
		seterr(err, errlen, "cannot resolve state folder '%s': %s", dir, strerror(errno));
		goto fail;
	}
	if (check_version(st, err, errlen) < 0)
		goto fail;
	if ((flags & TRIG_STATE_SERVER) && lock_server(st, err, errlen) < 0)
		goto fail;
	if (load_overrides(st, err, errlen) < 0)
		goto fail;
	size_t bad;
	bool compact;
	if (load_ticks(st, &bad, &compact) < 0) {
		seterr(err, errlen, "cannot read '%s/ticks': %s", dir, strerror(errno));
		goto fail;
	}
	/* The server rewrites the log unless it is already one line per
	 * trigger; this also drops a torn last line, which an append would
	 * otherwise extend into a malformed one. */
	if ((flags & TRIG_STATE_SERVER) && !compact && compact_ticks(st, bad, err, errlen) < 0)
		goto fail;
	return st;
fail:
	trig_state_close(st);
	return NULL;
}

void trig_state_close(struct trig_state *st)
{
	if (!st)
		return;
	if (st->ticksfd >= 0)
		close(st->ticksfd);
	if (st->lockfd >= 0)
		close(st->lockfd);
	if (st->dirfd >= 0)
		close(st->dirfd);
	free_overrides(st->ov, st->nov);
	for (size_t i = 0; i < st->nticks; i++)
		free(st->ticks[i].name);
	free(st->ticks);
	pthread_mutex_destroy(&st->mu);
	free(st->abspath);
	free(st->dir);
	free(st);
}

const char *trig_state_dir(const struct trig_state *st)
{
	return st->dir;
}

int trig_state_dirfd(const struct trig_state *st)
{
	return st->dirfd;
}

const char *trig_state_abspath(const struct trig_state *st)
{
	return st->abspath;
}

bool trig_state_is_server(const struct trig_state *st)
{
	return (st->flags & TRIG_STATE_SERVER) != 0;
}
