/*
 * fuzz_metadata.c — libFuzzer target for trig_local_metadata()
 * (runtime/local.h): the input is an execution's stdout.log, text a user's
 * step printed, written into an execution folder made once (mkdtemp under
 * /dev/shm, else $TMPDIR or /tmp) and rewritten in place on every run.
 *
 * Rules checked (a broken one aborts): the call succeeds; its output is
 * one valid JSON object (the project's own extractor, whole-document
 * query); it is "{}" when no line of the input is a JSON object; and every
 * member of the last line that is a JSON object is in the output with the
 * very value text that line gave it (the last one, for a key the line
 * repeats), since a later line wins.  Which lines are JSON objects is
 * decided here by the extractor alone (a line may carry JSON's surrounding
 * white space), independently of how trig_local_metadata() trims them.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "json.h"
#include "json_iter.h"
#include "local.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(cond) do { if (!(cond)) { \
	fprintf(stderr, "fuzz_metadata: %s:%d: '%s' failed\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

static char dir[4096], logpath[4200];
static int logfd = -1;
static struct trig_json_query *whole;   /* slot 0: the whole document */

static void cleanup(void)
{
	if (logfd >= 0)
		close(logfd);
	unlink(logpath);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *t = getenv("TMPDIR");
	if (access("/dev/shm", W_OK) == 0)
		t = "/dev/shm";
	else if (!t || !*t)
		t = "/tmp";
	snprintf(dir, sizeof(dir), "%s/trig-fuzz-metadata-XXXXXX", t);
	REQUIRE(mkdtemp(dir) != NULL);
	snprintf(logpath, sizeof(logpath), "%s/stdout.log", dir);
	logfd = open(logpath, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	REQUIRE(logfd >= 0);
	REQUIRE(atexit(cleanup) == 0);
	whole = trig_json_query_new();
	REQUIRE(trig_json_query_add(whole, NULL, 0) == 0);
	return 0;
}

static void write_log(const uint8_t *data, size_t size)
{
	REQUIRE(ftruncate(logfd, 0) == 0);
	size_t done = 0;
	while (done < size) {
		ssize_t w = pwrite(logfd, data + done, size - done, (off_t)done);
		REQUIRE(w > 0);
		done += (size_t)w;
	}
}

/* The value of the top-level member KEY (decoded, no NUL) of doc[0..len). */
static struct trig_json_value member_of(const char *doc, size_t len, const char *key)
{
	struct trig_json_query *q = trig_json_query_new();
	const struct trig_path_seg seg = { key, -1 };
	REQUIRE(trig_json_query_add(q, &seg, 1) == 0);
	struct trig_json_value v;
	REQUIRE(trig_json_extract(q, doc, len, &v, NULL) == 0);
	trig_json_query_free(q);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	write_log(data, size);
	struct buf out = BUF_INIT, key = BUF_INIT;
	REQUIRE(trig_local_metadata(dir, &out) == 0);
	REQUIRE(out.data != NULL);

	struct trig_json_value all;
	struct trig_json_error je;
	if (trig_json_extract(whole, out.data, out.len, &all, &je) != 0) {
		fprintf(stderr, "fuzz_metadata: output is not JSON (%s at %zu): %s\n", je.msg,
			je.offset, out.data);
		abort();
	}
	REQUIRE(all.type == TRIG_JSON_OBJECT);

	/* The last line that is a JSON object. */
	const char *doc = (const char *)data, *end = doc + size, *p = doc;
	struct trig_json_value last = { TRIG_JSON_ABSENT, NULL, 0 };
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		struct trig_json_value v;
		if (trig_json_extract(whole, p, (size_t)(le - p), &v, NULL) == 0 &&
		    v.type == TRIG_JSON_OBJECT)
			last = v;
		p = nl ? nl + 1 : end;
	}
	if (last.type == TRIG_JSON_ABSENT) {
		REQUIRE(out.len == 2 && !memcmp(out.data, "{}", 2));
	} else {
		struct trig_json_iter it;
		struct trig_json_value k, val;
		REQUIRE(trig_json_iter_begin(&it, &last) == 0);
		int r;
		while ((r = trig_json_iter_next(&it, &k, &val)) == 1) {
			buf_reset(&key);
			REQUIRE(trig_json_string(&k, &key) == 0);
			if (memchr(key.data, 0, key.len))
				continue;       /* a path key cannot hold NUL */
			struct trig_json_value want = member_of(last.raw, last.len, buf_cstr(&key));
			struct trig_json_value got = member_of(out.data, out.len, buf_cstr(&key));
			REQUIRE(want.type != TRIG_JSON_ABSENT);
			REQUIRE(got.type == want.type && got.len == want.len &&
				!memcmp(got.raw, want.raw, want.len));
		}
		REQUIRE(r == 0);
	}
	buf_release(&out);
	buf_release(&key);
	return 0;
}
