// SPDX-License-Identifier: GPL-2.0
/*
 * Throughput of the per-access path with the default (Xeon Gold 6242)
 * geometry, built -O2 without sanitizers: how many modelled accesses per
 * second the model adds to TCG.  Three patterns: a hot loop over 16 KiB
 * (every access an L1 hit, the common case), a sweep over 512 KiB (L1
 * misses, L2 hits) and random lines over 1 GiB (DRAM, full miss path).
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "mmodel_testutil.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1000000000.0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		uint64_t span;	/* bytes walked */
		int random;
	} pat[] = {
		{ "L1-hit loop, 16 KiB, 8-byte loads", 16 << 10, 0 },
		{ "L2-hit sweep, 512 KiB, 8-byte loads", 512 << 10, 0 },
		{ "random lines over 1 GiB (DRAM)", 1ULL << 30, 1 },
	};
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 50000000;
	struct mmodel_params p;
	struct mmodel_cache c[3];
	struct mmodel_numa numa;
	struct mmodel_vcpu v;
	size_t i;
	int l;

	mmodel_params_default(&p);
	for (l = 0; l < 3; l++) {
		size_t b = mmodel_cache_storage_bytes(&p.cache[l]);

		if (mmodel_cache_init(&c[l], &p.cache[l], aligned_alloc(64, b), b))
			return 1;
	}
	mmodel_numa_init(&numa);
	mmodel_numa_add(&numa, 1ULL << 29, 1ULL << 31, 1);
	for (i = 0; i < ARRAY_SIZE(pat); i++) {
		uint64_t k, a = 0, x = 88172645463325252ULL, m = pat[i].span - 1;
		double t;

		mmodel_vcpu_init(&v, &c[0], &c[1], &c[2], &numa);
		t = now();
		for (k = 0; k < n; k++) {
			if (pat[i].random) {
				x ^= x << 13;
				x ^= x >> 7;
				x ^= x << 17;
				a = x & m & ~63ULL;
			} else {
				a = (a + 8) & m;
			}
			mmodel_data_access(&v, a, 8, k & 1);
		}
		t = now() - t;
		printf("%-40s %6.1f M accesses/s  (L1 %llu L2 %llu LLC %llu DRAM %llu)\n",
		       pat[i].name, n / t / 1e6,
		       (unsigned long long)(v.ctr.loads[0] + v.ctr.stores[0]),
		       (unsigned long long)(v.ctr.loads[1] + v.ctr.stores[1]),
		       (unsigned long long)(v.ctr.loads[2] + v.ctr.stores[2]),
		       (unsigned long long)(v.ctr.loads[3] + v.ctr.stores[3]));
	}
	return 0;
}
