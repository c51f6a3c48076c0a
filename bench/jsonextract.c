/*
 * jsonextract.c — trig's one-pass path extractor against a full DOM parse
 * (jansson), on the same documents and the same paths.
 *
 *     jsonextract ROUNDS FILE...
 *
 * For each file: ROUNDS times, (trig) trig_json_extract() of five paths a
 * GitHub trigger reads, decoding each as text; (jansson) json_loadb() of
 * the whole document, the same five lookups, json_decref().  Prints ns per
 * document, MB/s and the ratio.  Both validate the whole document.
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "json.h"

static const char *const paths[] = {
	"ref", "after", "pusher.name", "repository.full_name", "head_commit.id",
};
#define NPATHS (sizeof(paths) / sizeof(paths[0]))

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b = BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return buf_detach(&b);
}

static json_t *lookup(json_t *doc, const char *path)
{
	char key[64];
	const char *p = path;
	while (doc && *p) {
		size_t n = strcspn(p, ".");
		memcpy(key, p, n);
		key[n] = 0;
		doc = json_object_get(doc, key);
		p += n + (p[n] == '.');
	}
	return doc;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: jsonextract ROUNDS FILE...\n");
		return 2;
	}
	long rounds = strtol(argv[1], NULL, 10);
	struct trig_json_query *q = trig_json_query_new();
	for (size_t i = 0; i < NPATHS; i++)
		trig_json_query_add_text(q, paths[i], NULL);
	struct trig_json_value slots[NPATHS];
	struct buf out = BUF_INIT;
	double sum_ratio = 0;
	int files = 0;
	printf("%-28s %8s %12s %10s %12s %10s %7s\n", "document", "bytes", "trig ns", "trig MB/s",
	       "jansson ns", "MB/s", "ratio");
	for (int f = 2; f < argc; f++) {
		size_t len;
		char *doc = slurp(argv[f], &len);
		if (!doc) {
			perror(argv[f]);
			return 1;
		}
		size_t sink = 0;
		int64_t t0 = now_ns();
		for (long r = 0; r < rounds; r++) {
			if (trig_json_extract(q, doc, len, slots, NULL) != 0) {
				fprintf(stderr, "%s: not valid JSON\n", argv[f]);
				return 1;
			}
			for (size_t i = 0; i < NPATHS; i++) {
				buf_reset(&out);
				if (slots[i].type != TRIG_JSON_ABSENT)
					trig_json_string(&slots[i], &out);
				sink += out.len;
			}
		}
		int64_t t1 = now_ns();
		for (long r = 0; r < rounds; r++) {
			json_error_t err;
			json_t *root = json_loadb(doc, len, 0, &err);
			if (!root) {
				fprintf(stderr, "%s: jansson: %s\n", argv[f], err.text);
				return 1;
			}
			for (size_t i = 0; i < NPATHS; i++) {
				json_t *v = lookup(root, paths[i]);
				if (json_is_string(v))
					sink += json_string_length(v);
			}
			json_decref(root);
		}
		int64_t t2 = now_ns();
		double trig = (double)(t1 - t0) / rounds, jans = (double)(t2 - t1) / rounds;
		const char *name = strrchr(argv[f], '/') ? strrchr(argv[f], '/') + 1 : argv[f];
		printf("%-28s %8zu %12.0f %10.0f %12.0f %10.0f %6.1fx\n", name, len, trig,
		       len / trig * 1e3, jans, len / jans * 1e3, jans / trig);
		sum_ratio += jans / trig;
		files++;
		free(doc);
		if (sink == 42)
			puts("");
	}
	printf("mean ratio (jansson time / trig time): %.1fx\n", sum_ratio / files);
	buf_release(&out);
	trig_json_query_free(q);
	return 0;
}
