/*
 * secret.c — secrets from the environment or files, at run time.
 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* A secret is a key or a token: anything larger is a mistake. */
#define SECRET_MAX (1u << 20)

const char *trig_secret_describe(const struct trig_secret *s, char *out, size_t outlen)
{
	switch (s->kind) {
	case TRIG_SECRET_ENV:
		snprintf(out, outlen, "$%s", s->ref);
		break;
	case TRIG_SECRET_FILE:
	case TRIG_SECRET_JWKS_FILE:
		snprintf(out, outlen, "file '%s'", s->ref);
		break;
	case TRIG_SECRET_JWKS_URL:
		snprintf(out, outlen, "'%s'", s->ref);
		break;
	default:
		snprintf(out, outlen, "no secret");
	}
	return out;
}

static int read_file(const char *path, struct buf *out, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot read secret file '%s': %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > SECRET_MAX) {
		snprintf(err, errlen, "secret file '%s' is %s", path,
			 S_ISREG(st.st_mode) ? "larger than 1 MiB" : "not a regular file");
		close(fd);
		return -1;
	}
	buf_grow(out, (size_t)st.st_size + 1);
	for (;;) {
		if (out->cap - out->len < 2)
			buf_grow(out, 4096);
		ssize_t n = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "cannot read secret file '%s': %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len > SECRET_MAX) {
			snprintf(err, errlen, "secret file '%s' is larger than 1 MiB", path);
			close(fd);
			return -1;
		}
	}
	close(fd);
	out->data[out->len] = 0;
	return 0;
}

int trig_secret_read(const struct trig_secret *s, struct buf *out, char *err, size_t errlen)
{
	trig_secret_release(out);
	switch (s->kind) {
	case TRIG_SECRET_ENV: {
		const char *v = getenv(s->ref);
		if (!v || !*v) {
			snprintf(err, errlen, "environment variable %s is %s", s->ref, v ? "empty" : "not set");
			return -1;
		}
		buf_adds(out, v);
		return 0;
	}
	case TRIG_SECRET_FILE:
	case TRIG_SECRET_JWKS_FILE:
		if (read_file(s->ref, out, err, errlen) != 0) {
			trig_secret_release(out);
			return -1;
		}
		if (out->len && out->data[out->len - 1] == '\n')
			out->data[--out->len] = 0;
		if (out->len && out->data[out->len - 1] == '\r')
			out->data[--out->len] = 0;
		if (!out->len) {
			snprintf(err, errlen, "secret file '%s' is empty", s->ref);
			return -1;
		}
		return 0;
	default:
		snprintf(err, errlen, "no secret to read");
		return -1;
	}
}

void trig_secret_release(struct buf *b)
{
	if (b->data)
		OPENSSL_cleanse(b->data, b->cap);
	buf_release(b);
}
