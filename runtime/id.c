/*
 * id.c — ULID-based ids.
 */
#include "id.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>

#include "timeutil.h"

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

void trig_id_new(char out[TRIG_ID_MAX], char prefix)
{
	uint64_t ms = (uint64_t)trig_now_ms();
	unsigned char rnd[10];
	size_t got = 0;
	while (got < sizeof(rnd)) {
		ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;          /* cannot happen on Linux >= 3.17 */
		got += (size_t)n;
	}
	out[0] = prefix;
	out[1] = '-';
	/* 48 bits of time: 10 characters, the first holding 3 bits. */
	for (int i = 9; i >= 0; i--) {
		out[2 + i] = crockford[ms & 31];
		ms >>= 5;
	}
	/* 80 random bits: 16 characters. */
	uint64_t hi = 0, lo = 0;
	for (int i = 0; i < 5; i++)
		hi = hi << 8 | rnd[i];
	for (int i = 5; i < 10; i++)
		lo = lo << 8 | rnd[i];
	for (int i = 7; i >= 0; i--) {
		out[12 + i] = crockford[hi & 31];
		hi >>= 5;
		out[20 + i] = crockford[lo & 31];
		lo >>= 5;
	}
	out[28] = 0;
}

bool trig_id_valid(const char *s)
{
	if (strlen(s) != 28 || !(s[0] >= 'a' && s[0] <= 'z') || s[1] != '-')
		return false;
	for (int i = 2; i < 28; i++)
		if (!strchr(crockford, s[i]) || !s[i])
			return false;
	return true;
}
