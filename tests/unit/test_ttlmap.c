/*
 * test_ttlmap.c — the bounded string-to-time map (runtime/ttlmap.c),
 * against a naive model under random churn.
 */
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "ttlmap.h"

START_TEST(basics)
{
	struct trig_ttlmap *m = trig_ttlmap_new(4);
	ck_assert_int_eq(trig_ttlmap_get(m, "a", 1, 0), INT64_MIN);
	trig_ttlmap_put(m, "a", 1, 100, 0);
	ck_assert_int_eq(trig_ttlmap_get(m, "a", 1, 50), 100);
	/* Expired at its value: gone. */
	ck_assert_int_eq(trig_ttlmap_get(m, "a", 1, 100), INT64_MIN);
	ck_assert_uint_eq(trig_ttlmap_size(m), 0);
	/* Keys are bytes: "b\0c" and "b" differ. */
	trig_ttlmap_put(m, "b\0c", 3, 10, 0);
	ck_assert_int_eq(trig_ttlmap_get(m, "b", 1, 0), INT64_MIN);
	ck_assert_int_eq(trig_ttlmap_get(m, "b\0c", 3, 0), 10);
	trig_ttlmap_free(m);
}
END_TEST

START_TEST(bounded)
{
	struct trig_ttlmap *m = trig_ttlmap_new(3);
	trig_ttlmap_put(m, "a", 1, 30, 0);
	trig_ttlmap_put(m, "b", 1, 10, 0);
	trig_ttlmap_put(m, "c", 1, 20, 0);
	/* Full, nothing expired: the smallest value (b) makes room. */
	trig_ttlmap_put(m, "d", 1, 40, 0);
	ck_assert_uint_eq(trig_ttlmap_size(m), 3);
	ck_assert_int_eq(trig_ttlmap_get(m, "b", 1, 0), INT64_MIN);
	ck_assert_int_eq(trig_ttlmap_get(m, "a", 1, 0), 30);
	/* At 25, c has expired: it goes first, a stays. */
	trig_ttlmap_put(m, "e", 1, 50, 25);
	ck_assert_int_eq(trig_ttlmap_get(m, "a", 1, 25), 30);
	ck_assert_int_eq(trig_ttlmap_get(m, "d", 1, 25), 40);
	ck_assert_int_eq(trig_ttlmap_get(m, "e", 1, 25), 50);
	trig_ttlmap_free(m);
}
END_TEST

/* Random puts, gets and expiries against an array model, in a map large
 * enough never to evict: every answer must agree. */
START_TEST(random_churn)
{
	enum { KEYS = 500 };
	static int64_t model[KEYS];
	for (int i = 0; i < KEYS; i++)
		model[i] = INT64_MIN;
	struct trig_ttlmap *m = trig_ttlmap_new(KEYS);
	uint64_t x = 88172645463325252ull;
	int64_t now = 0;
	for (int step = 0; step < 200000; step++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int k = (int)(x % KEYS);
		char key[16];
		int len = snprintf(key, sizeof(key), "id-%d", k);
		now += (int64_t)(x >> 40) % 3;
		if ((x >> 20) % 2) {
			int64_t v = now + (int64_t)((x >> 24) % 100);
			trig_ttlmap_put(m, key, (size_t)len, v, now);
			model[k] = v;
		} else {
			int64_t want = model[k] > now ? model[k] : INT64_MIN;
			ck_assert_int_eq(trig_ttlmap_get(m, key, (size_t)len, now), want);
		}
	}
	trig_ttlmap_free(m);
}
END_TEST

static Suite *ttlmap_suite(void)
{
	Suite *s = suite_create("ttlmap");
	TCase *tc = tcase_create("ttlmap");
	tcase_add_test(tc, basics);
	tcase_add_test(tc, bounded);
	tcase_add_test(tc, random_churn);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(ttlmap_suite)
