/*
 * test_base64.c — RFC 4648 base64 and hex (runtime/base64.c): the RFC's
 * test vectors, both alphabets, strictness, and round trips of every
 * length.
 */
#include <string.h>

#include "unit.h"

#include "base64.h"

static const char *const rfc[][2] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

START_TEST(rfc4648_vectors)
{
	for (size_t i = 0; i < sizeof(rfc) / sizeof(rfc[0]); i++) {
		struct buf b = BUF_INIT;
		trig_base64_encode(&b, rfc[i][0], strlen(rfc[i][0]));
		ck_assert_str_eq(buf_cstr(&b), rfc[i][1]);
		buf_release(&b);

		uint8_t out[16];
		long n = trig_base64_decode(rfc[i][1], strlen(rfc[i][1]), TRIG_B64_STD, out);
		ck_assert_int_eq(n, (long)strlen(rfc[i][0]));
		ck_assert_mem_eq(out, rfc[i][0], (size_t)n);
		/* Without the padding, as JWTs write it. */
		size_t unpadded = strcspn(rfc[i][1], "=");
		n = trig_base64_decode(rfc[i][1], unpadded, TRIG_B64_URL, out);
		ck_assert_int_eq(n, (long)strlen(rfc[i][0]));
	}
}
END_TEST

START_TEST(alphabets)
{
	uint8_t out[8];
	/* 0xfb 0xff 0xbf: "+/+/" standard, "-_-_" URL-safe. */
	ck_assert_int_eq(trig_base64_decode("+/+/", 4, TRIG_B64_STD, out), 3);
	ck_assert_uint_eq(out[0], 0xfb);
	ck_assert_uint_eq(out[1], 0xff);
	ck_assert_uint_eq(out[2], 0xbf);
	ck_assert_int_eq(trig_base64_decode("-_-_", 4, TRIG_B64_URL, out), 3);
	ck_assert_uint_eq(out[1], 0xff);
	ck_assert_int_eq(trig_base64_decode("-_-_", 4, TRIG_B64_STD, out), -1);
	ck_assert_int_eq(trig_base64_decode("+/+/", 4, TRIG_B64_URL, out), -1);
	ck_assert_int_eq(trig_base64_decode("-/+_", 4, TRIG_B64_STD | TRIG_B64_URL, out), 3);
}
END_TEST

START_TEST(strict)
{
	uint8_t out[16];
	static const char *const bad[] = {
		"Zg=",          /* incomplete padding */
		"Z",            /* one character cannot be a byte */
		"Zh==",         /* bits after the last byte */
		"Zm9=",         /* ditto, one pad */
		"Zg==Zg==",     /* padding in the middle */
		"Zm 9v",        /* whitespace */
		"Zm9v\n",
		"====",
		"Zm9v!",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(trig_base64_decode(bad[i], strlen(bad[i]), TRIG_B64_STD | TRIG_B64_URL,
						 out) == -1, "'%s' accepted", bad[i]);
}
END_TEST

START_TEST(round_trips)
{
	uint8_t in[300], out[300];
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 131 + 7);
	for (size_t n = 0; n <= sizeof(in); n++) {
		struct buf b = BUF_INIT;
		trig_base64_encode(&b, in, n);
		ck_assert_uint_eq(b.len, (n + 2) / 3 * 4);
		long m = trig_base64_decode(b.data, b.len, TRIG_B64_STD, out);
		ck_assert_int_eq(m, (long)n);
		ck_assert(n == 0 || memcmp(in, out, n) == 0);
		buf_release(&b);
	}
}
END_TEST

START_TEST(hex)
{
	uint8_t out[8];
	ck_assert_int_eq(trig_hex_decode("00ff7FaB", 8, out), 4);
	ck_assert_uint_eq(out[0], 0x00);
	ck_assert_uint_eq(out[1], 0xff);
	ck_assert_uint_eq(out[2], 0x7f);
	ck_assert_uint_eq(out[3], 0xab);
	ck_assert_int_eq(trig_hex_decode("", 0, out), 0);
	ck_assert_int_eq(trig_hex_decode("abc", 3, out), -1);        /* odd */
	ck_assert_int_eq(trig_hex_decode("0g", 2, out), -1);
	ck_assert_int_eq(trig_hex_decode("0 ", 2, out), -1);
	for (unsigned c = 0; c < 256; c++) {
		int want = c >= '0' && c <= '9' ? (int)c - '0'
			 : c >= 'a' && c <= 'f' ? (int)c - 'a' + 10
			 : c >= 'A' && c <= 'F' ? (int)c - 'A' + 10 : -1;
		ck_assert_int_eq(trig_hex_digit((unsigned char)c), want);
	}
}
END_TEST

static Suite *base64_suite(void)
{
	Suite *s = suite_create("base64");
	TCase *tc = tcase_create("base64");
	tcase_add_test(tc, rfc4648_vectors);
	tcase_add_test(tc, alphabets);
	tcase_add_test(tc, strict);
	tcase_add_test(tc, round_trips);
	tcase_add_test(tc, hex);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(base64_suite)
