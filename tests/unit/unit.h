/*
 * unit.h — what every unit test program shares.
 *
 * A test file defines its suite with the Check API and ends with
 *     UNIT_MAIN(my_suite)
 * which runs it and exits non-zero on any failure.  TRIG_SHARED (set by the
 * Makefile) is the folder holding the shared test data.
 */
#ifndef TRIG_UNIT_H
#define TRIG_UNIT_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* Path of a file in the shared test data, e.g. unit_shared("testdata/github/push.0.json"). */
static inline const char *unit_shared(const char *rel)
{
	static char path[4096];
	const char *root = getenv("TRIG_SHARED");
	snprintf(path, sizeof(path), "%s/%s", root ? root : "../shared", rel);
	return path;
}

static inline int unit_rm_one_(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)ftw;
	if (flag != FTW_SL)             /* never follow a link out of the tree */
		chmod(path, 0700);      /* a test's read-only folders go too */
	return remove(path);
}

/* Makes a fresh folder $TMPDIR/trig-NAME-XXXXXX (TMPDIR: /tmp) into DIR. */
static inline void unit_temp_dir(char *dir, size_t len, const char *name)
{
	const char *t = getenv("TMPDIR");
	snprintf(dir, len, "%s/trig-%s-XXXXXX", t && *t ? t : "/tmp", name);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

/* Removes DIR and everything below it. */
static inline void unit_remove_tree(const char *dir)
{
	nftw(dir, unit_rm_one_, 16, FTW_DEPTH | FTW_PHYS);
}

#define UNIT_MAIN(suite_fn)                                             \
	int main(void)                                                  \
	{                                                               \
		SRunner *sr = srunner_create(suite_fn());               \
		srunner_run_all(sr, CK_ENV);                            \
		int failed = srunner_ntests_failed(sr);                 \
		srunner_free(sr);                                       \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;            \
	}

#endif
