/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the farmem unit tests, race test and fuzzer: a TAP
 * "ok"/"not ok" printer that counts results, and a small deterministic
 * PRNG (xorshift64*) so every run exercises the same sequence.
 */
#ifndef FM_TESTUTIL_H
#define FM_TESTUTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include "farmem/farmem.h"

static int fm_t_n, fm_t_fail;

/* fm_ok(cond, fmt, ...): cond is any scalar (64-bit masks included). */
#define fm_ok(cond, ...) fm_ok_((cond) != 0, __VA_ARGS__)

static inline __attribute__((format(printf, 2, 3)))
int fm_ok_(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++fm_t_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		fm_t_fail++;
	return cond;
}

static inline int fm_t_done(void)
{
	printf("1..%d\n", fm_t_n);
	return fm_t_fail ? 1 : 0;
}

static inline uint64_t fm_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

#endif /* FM_TESTUTIL_H */
