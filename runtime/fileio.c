/*
 * fileio.c — atomic and durable file writes (fileio.h).
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

int trig_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int trig_fsync_dir(int dirfd)
{
	while (fsync(dirfd) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

int trig_write_file_at(int dirfd, const char *name, const void *data, size_t len, bool durable)
{
	/* A name of its own (process, counter): two writers of NAME never
	 * share a temporary file. */
	static atomic_uint counter;
	struct buf tmp = BUF_INIT;
	buf_printf(&tmp, ".tmp.%s.%ld.%u", name, (long)getpid(), atomic_fetch_add(&counter, 1));
	int rc = -1, e = 0;
	int fd = openat(dirfd, tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		e = errno;
		goto out;
	}
	if (trig_write_all(fd, data, len) < 0 || (durable && fsync(fd) < 0)) {
		e = errno;
		close(fd);
		unlinkat(dirfd, tmp.data, 0);
		goto out;
	}
	if (close(fd) < 0 || renameat(dirfd, tmp.data, dirfd, name) < 0) {
		e = errno;
		unlinkat(dirfd, tmp.data, 0);
		goto out;
	}
	rc = durable ? trig_fsync_dir(dirfd) : 0;
	e = errno;
out:
	buf_release(&tmp);
	errno = e;
	return rc;
}

int trig_mkdir_p(const char *path)
{
	char *p = trig_xstrdup(path);
	size_t n = strlen(p);
	int rc = 0;
	while (n > 1 && p[n - 1] == '/')
		p[--n] = 0;
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != 0)
			continue;
		char c = p[i];
		p[i] = 0;
		if (mkdir(p, 0700) == 0) {
			char *slash = strrchr(p, '/');
			const char *parent = slash ? (slash == p ? "/" : p) : ".";
			if (slash && slash != p)
				*slash = 0;
			int pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (pfd >= 0) {
				trig_fsync_dir(pfd);
				close(pfd);
			}
			if (slash && slash != p)
				*slash = '/';
		} else if (errno != EEXIST) {
			rc = -1;
			p[i] = c;
			break;
		}
		p[i] = c;
	}
	int e = errno;
	free(p);
	errno = e;
	return rc;
}
