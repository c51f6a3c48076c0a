/*
 * audit.c — appending to, rotating and reading (or following) the audit
 * log of the state folder (see audit.h for the locking protocol).
 */
#include "audit.h"

#include "buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define AUDIT_FILE "audit.jsonl"
#define AUDIT_LOCK "audit.lock"

struct trig_audit {
	struct trig_state *st;
	int dirfd;              /* the state handle's */
	int lockfd;             /* audit.lock */

	pthread_mutex_t mu;     /* guards everything below */
	int fd;                 /* audit.jsonl, O_APPEND */
	dev_t dev;
	ino_t ino;
	uint64_t max_bytes;
	unsigned keep;
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

static int lock_fd(int fd, int op)
{
	while (flock(fd, op) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------- writing */

/* (Re-)opens audit.jsonl, creating it. */
static int audit_reopen(struct trig_audit *a)
{
	int fd = openat(a->dirfd, AUDIT_FILE,
			O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (a->fd >= 0)
		close(a->fd);
	a->fd = fd;
	a->dev = sb.st_dev;
	a->ino = sb.st_ino;
	return 0;
}

struct trig_audit *trig_audit_open(struct trig_state *st, char *err, size_t errlen)
{
	struct trig_audit *a = trig_xcalloc(1, sizeof(*a));
	a->st = st;
	a->dirfd = trig_state_dirfd(st);
	a->fd = -1;
	a->max_bytes = TRIG_AUDIT_MAX_BYTES;
	a->keep = TRIG_AUDIT_KEEP;
	pthread_mutex_init(&a->mu, NULL);
	a->lockfd = openat(a->dirfd, AUDIT_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (a->lockfd < 0) {
		seterr(err, errlen, "cannot open '%s/%s': %s", trig_state_dir(st), AUDIT_LOCK,
		       strerror(errno));
		trig_audit_close(a);
		return NULL;
	}
	if (audit_reopen(a) < 0) {
		seterr(err, errlen, "cannot open '%s/%s': %s", trig_state_dir(st), AUDIT_FILE,
		       strerror(errno));
		trig_audit_close(a);
		return NULL;
	}
	return a;
}

void trig_audit_set_rotation(struct trig_audit *a, uint64_t max_bytes, unsigned keep)
{
	pthread_mutex_lock(&a->mu);
	if (max_bytes)
		a->max_bytes = max_bytes;
	if (keep)
		a->keep = keep;
	pthread_mutex_unlock(&a->mu);
}

/* audit.jsonl -> .1 -> ... -> .keep, then a new audit.jsonl (lock held
 * exclusively).  Only the generations that exist are renamed: the first
 * gap (or .keep, which is overwritten) ends the chain. */
static int rotate_locked(struct trig_audit *a)
{
	unsigned top = 1;
	for (; top < a->keep; top++) {
		char name[64];
		struct stat sb;
		snprintf(name, sizeof(name), "%s.%u", AUDIT_FILE, top);
		if (fstatat(a->dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			break;
	}
	for (unsigned i = top; i >= 1; i--) {
		char from[64], to[64];
		if (i == 1)
			snprintf(from, sizeof(from), "%s", AUDIT_FILE);
		else
			snprintf(from, sizeof(from), "%s.%u", AUDIT_FILE, i - 1);
		snprintf(to, sizeof(to), "%s.%u", AUDIT_FILE, i);
		if (renameat(a->dirfd, from, a->dirfd, to) < 0 && errno != ENOENT)
			return -1;
	}
	return audit_reopen(a);
}

/* Makes a->fd the current audit.jsonl, rotating it if the line would take
 * it past the limit (a->mu and the shared lock held; the lock is shared
 * again on return, possibly after having been exclusive). */
static int prepare_locked(struct trig_audit *a, size_t n)
{
	for (int round = 0; round < 16; round++) {
		struct stat sb;
		if (fstatat(a->dirfd, AUDIT_FILE, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				return -1;
			if (audit_reopen(a) < 0)
				return -1;
			continue;
		}
		if (sb.st_ino != a->ino || sb.st_dev != a->dev) {
			if (audit_reopen(a) < 0)  /* another process rotated */
				return -1;
			continue;
		}
		if (sb.st_size == 0 || (uint64_t)sb.st_size + n <= a->max_bytes)
			return 0;
		/* Converting a flock is not atomic: check again once exclusive. */
		if (lock_fd(a->lockfd, LOCK_EX) < 0)
			return -1;
		int r = 0;
		if (fstatat(a->dirfd, AUDIT_FILE, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    sb.st_ino == a->ino && sb.st_dev == a->dev && sb.st_size > 0 &&
		    (uint64_t)sb.st_size + n > a->max_bytes)
			r = rotate_locked(a);
		int e = errno;
		if (lock_fd(a->lockfd, LOCK_SH) < 0)
			return -1;
		if (r < 0) {
			errno = e;
			return -1;
		}
	}
	return 0;
}

int trig_audit_write(struct trig_audit *a, const char *json, size_t len)
{
	if (!a || !json || !len || memchr(json, '\n', len) || memchr(json, 0, len)) {
		errno = EINVAL;
		return -1;
	}
	struct buf b = BUF_INIT;
	buf_grow(&b, len + 1);
	buf_add(&b, json, len);
	buf_addc(&b, '\n');
	int rc = -1, e = 0;
	pthread_mutex_lock(&a->mu);
	if (lock_fd(a->lockfd, LOCK_SH) < 0) {
		e = errno;
		goto unlock;
	}
	if (prepare_locked(a, b.len) < 0) {
		e = errno;
		goto out;
	}
	size_t done = 0;
	while (done < b.len) {
		ssize_t w = write(a->fd, b.data + done, b.len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = w < 0 ? errno : EIO;
			goto out;
		}
		done += (size_t)w;
	}
	rc = 0;
out:
	lock_fd(a->lockfd, LOCK_UN);
unlock:
	pthread_mutex_unlock(&a->mu);
	buf_release(&b);
	if (rc < 0)
		errno = e;
	return rc;
}

void trig_audit_close(struct trig_audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	if (a->lockfd >= 0)
		close(a->lockfd);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/* ---------------------------------------------------------- reading */

/* One file of the log, open for reading. */
struct gen {
	int fd;
	dev_t dev;
	ino_t ino;
	bool current;           /* audit.jsonl, not a rotated file */
};

struct gens {
	struct gen *v;
	size_t n;
};

static void gens_close(struct gens *g, const struct gen *keep)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->v[i].fd >= 0 && (!keep || g->v[i].fd != keep->fd))
			close(g->v[i].fd);
	free(g->v);
	g->v = NULL;
	g->n = 0;
}

static int cmp_desc(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

static int open_gen(int dirfd, const char *name, bool current, struct gens *g)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	struct stat sb;
	if (fstat(fd, &sb) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	g->v = trig_xrealloc(g->v, (g->n + 1) * sizeof(*g->v));
	g->v[g->n++] = (struct gen){ fd, sb.st_dev, sb.st_ino, current };
	return 0;
}

/* Opens every file of the log, oldest first, while no rotation can run
 * (lockfd may be -1 for a folder we cannot lock in). */
static int snapshot(int dirfd, int lockfd, struct gens *g)
{
	g->v = NULL;
	g->n = 0;
	if (lockfd >= 0 && lock_fd(lockfd, LOCK_SH) < 0)
		return -1;
	unsigned *nums = NULL;
	size_t n = 0;
	int rc = -1, e = 0;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		e = errno;
		if (fd >= 0)
			close(fd);
		goto out;
	}
	struct dirent *de;
	const size_t plen = strlen(AUDIT_FILE ".");
	while ((de = readdir(d))) {
		const char *s = de->d_name;
		if (strncmp(s, AUDIT_FILE ".", plen))
			continue;
		s += plen;
		char *end;
		unsigned long v = strtoul(s, &end, 10);
		if (*s < '1' || *s > '9' || *end || v > 1000000)
			continue;
		nums = trig_xrealloc(nums, (n + 1) * sizeof(*nums));
		nums[n++] = (unsigned)v;
	}
	closedir(d);
	if (n)
		qsort(nums, n, sizeof(*nums), cmp_desc);
	for (size_t i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s.%u", AUDIT_FILE, nums[i]);
		if (open_gen(dirfd, name, false, g) < 0) {
			e = errno;
			goto out;
		}
	}
	if (open_gen(dirfd, AUDIT_FILE, true, g) < 0) {
		e = errno;
		goto out;
	}
	rc = 0;
out:
	free(nums);
	if (lockfd >= 0)
		lock_fd(lockfd, LOCK_UN);
	if (rc < 0) {
		gens_close(g, NULL);
		errno = e;
	}
	return rc;
}

/* Reads FD to its end, handing each whole line to fn; an unfinished last
 * line stays in tail.  Returns 0, fn's non-zero value, or -1. */
static int drain(int fd, struct buf *tail, trig_audit_line_fn *fn, void *ctx)
{
	for (;;) {
		buf_grow(tail, 65536);
		ssize_t r = read(fd, tail->data + tail->len, tail->cap - tail->len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		size_t scan = tail->len;        /* the old tail has no newline */
		tail->len += (size_t)r;
		tail->data[tail->len] = 0;
		size_t start = 0;
		char *nl;
		while ((nl = memchr(tail->data + scan, '\n', tail->len - scan))) {
			size_t end = (size_t)(nl - tail->data);
			*nl = 0;
			int v = fn(tail->data + start, end - start, ctx);
			start = scan = end + 1;
			if (v) {
				buf_reset(tail);
				return v;
			}
		}
		memmove(tail->data, tail->data + start, tail->len - start);
		tail->len -= start;
		tail->data[tail->len] = 0;
	}
}

static bool stopped(volatile sig_atomic_t *stop)
{
	return stop && *stop;
}

int trig_audit_read(struct trig_state *st, trig_audit_line_fn *fn, void *ctx, bool follow,
		    volatile sig_atomic_t *stop)
{
	int dirfd = trig_state_dirfd(st);
	int lockfd = openat(dirfd, AUDIT_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lockfd < 0)
		lockfd = openat(dirfd, AUDIT_LOCK, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int ifd = -1, rc = -1, e = 0;
	struct buf tail = BUF_INIT;
	struct gens g = { 0 };
	struct gen cur = { -1, 0, 0, true };
	bool have_prev = false;
	dev_t prev_dev = 0;
	ino_t prev_ino = 0;

	if (follow) {
		/* Watch before reading, so no change after our reads is missed. */
		ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (ifd < 0 || inotify_add_watch(ifd, trig_state_abspath(st),
						 IN_MODIFY | IN_CREATE | IN_MOVED_TO |
						 IN_MOVED_FROM | IN_DELETE |
						 IN_CLOSE_WRITE) < 0) {
			e = errno;
			goto out;
		}
	}
	bool first = true;
	for (;;) {
		if (!first) {
			/* A rotation happened: everything is in place once we
			 * hold the lock, and no line can still come to cur. */
			if (snapshot(dirfd, lockfd, &g) < 0) {
				e = errno;
				goto out;
			}
			if (cur.fd >= 0) {
				int v = drain(cur.fd, &tail, fn, ctx);
				if (v) {
					rc = v, e = errno;
					goto out;
				}
				close(cur.fd);
				cur.fd = -1;
			}
		} else if (snapshot(dirfd, lockfd, &g) < 0) {
			e = errno;
			goto out;
		}
		buf_reset(&tail);       /* a torn line of a finished file */
		size_t from = 0;
		if (have_prev) {
			size_t i;
			for (i = 0; i < g.n; i++)
				if (g.v[i].ino == prev_ino && g.v[i].dev == prev_dev)
					break;
			/* Not found: rotated away or deleted; go on with the
			 * newest file. */
			from = i < g.n ? i + 1 : (g.n && g.v[g.n - 1].current ? g.n - 1 : g.n);
		}
		for (size_t i = from; i < g.n; i++) {
			struct gen *x = &g.v[i];
			int v = drain(x->fd, &tail, fn, ctx);
			if (v) {
				rc = v, e = errno;
				goto out;
			}
			have_prev = true;
			prev_dev = x->dev;
			prev_ino = x->ino;
			if (x->current && follow)
				cur = *x;
			else
				buf_reset(&tail);
		}
		gens_close(&g, cur.fd >= 0 ? &cur : NULL);
		first = false;
		if (!follow) {
			rc = 0;
			goto out;
		}

		/* Follow the current file until it is rotated. */
		for (;;) {
			if (stopped(stop)) {
				rc = 0;
				goto out;
			}
			if (cur.fd >= 0) {
				int v = drain(cur.fd, &tail, fn, ctx);
				if (v) {
					rc = v, e = errno;
					goto out;
				}
			}
			struct stat sb;
			bool rotated;
			if (fstatat(dirfd, AUDIT_FILE, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno != ENOENT) {
					e = errno;
					goto out;
				}
				rotated = cur.fd >= 0;
			} else {
				rotated = cur.fd < 0 || sb.st_ino != cur.ino ||
					  sb.st_dev != cur.dev;
			}
			if (rotated)
				break;

			/* Wait for the next change; signals are blocked between
			 * the check of *stop and ppoll(), which unblocks them
			 * atomically, so a handler setting *stop cannot be missed. */
			sigset_t all, old;
			sigfillset(&all);
			pthread_sigmask(SIG_BLOCK, &all, &old);
			if (stopped(stop)) {
				pthread_sigmask(SIG_SETMASK, &old, NULL);
				rc = 0;
				goto out;
			}
			struct pollfd pfd = { .fd = ifd, .events = POLLIN };
			int pr = ppoll(&pfd, 1, NULL, &old);
			int pe = errno;
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			if (pr < 0 && pe != EINTR) {
				e = pe;
				goto out;
			}
			if (pr > 0) {
				char evbuf[4096]
					__attribute__((aligned(__alignof__(struct inotify_event))));
				while (read(ifd, evbuf, sizeof(evbuf)) > 0)
					;       /* only a wake-up: we re-read anyway */
			}
		}
	}
out:
	gens_close(&g, NULL);
	if (cur.fd >= 0)
		close(cur.fd);
	buf_release(&tail);
	if (ifd >= 0)
		close(ifd);
	if (lockfd >= 0)
		close(lockfd);
	if (rc < 0)
		errno = e;
	return rc;
}
