// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the cache hierarchy: the input picks small
 * geometries (so sets fill and evict constantly) and then a sequence of
 * data accesses and walk references.  Every level is checked against a
 * naive reference model (timestamped LRU) line by line, and after each
 * access: counts add up to the lines touched, DRAM counts per node add up
 * to the DRAM total, and every line just accessed hits in L1.
 */
#include <stdlib.h>
#include <string.h>
#include "mmodel_testutil.h"

#define RWAYS 8
#define RSETS 16

/* Reference: per set, ways with a last-use stamp; 0 = empty. */
struct ref {
	uint64_t line[RSETS][RWAYS], stamp[RSETS][RWAYS], now;
	uint32_t sets, ways;
};

static bool ref_access(struct ref *r, uint64_t line)
{
	uint32_t s = line & (r->sets - 1), i, old = 0;

	r->now++;
	for (i = 0; i < r->ways; i++)
		if (r->stamp[s][i] && r->line[s][i] == line) {
			r->stamp[s][i] = r->now;
			return true;
		}
	for (i = 0; i < r->ways; i++) {
		if (!r->stamp[s][i]) {
			old = i;
			break;
		}
		if (r->stamp[s][i] < r->stamp[s][old])
			old = i;
	}
	r->line[s][old] = line;
	r->stamp[s][old] = r->now;
	return false;
}

static void ref_init(struct ref *r, const struct mmodel_level_params *lp)
{
	memset(r, 0, sizeof(*r));
	r->ways = lp->ways;
	r->sets = lp->size / (lp->ways * 64);
}

/* What the reference says a line is served from (and fills). */
static enum mmodel_level ref_line(struct ref *r, uint64_t line)
{
	if (ref_access(&r[0], line))
		return MMODEL_L1;
	if (ref_access(&r[1], line))
		return MMODEL_L2;
	if (ref_access(&r[2], line))
		return MMODEL_LLC;
	return MMODEL_DRAM;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t tags[3][RSETS * RWAYS];
	static struct ref ref[3];
	struct mmodel_level_params lp[3];
	struct mmodel_cache c[3];
	struct mmodel_numa numa;
	struct mmodel_vcpu v;
	uint64_t lines = 0, walks = 0;
	size_t pos = 3;
	int l;

	if (size < 3)
		return 0;
	for (l = 0; l < 3; l++) {
		uint32_t ways = 1 + data[l] % RWAYS, sets = 1u << (data[l] >> 3) % 5;

		lp[l] = (struct mmodel_level_params){ (uint64_t)sets * ways * 64,
						      ways, 64, 1 + l };
		if (mmodel_cache_init(&c[l], &lp[l], tags[l], sizeof(tags[l])))
			abort();
		ref_init(&ref[l], &lp[l]);
	}
	mmodel_numa_init(&numa);
	mmodel_numa_add(&numa, 0x4000, 0x8000, 1);
	mmodel_numa_add(&numa, 0x8000, 0x9000, 7);
	mmodel_vcpu_init(&v, &c[0], &c[1], &c[2], &numa);

	/* Each op: 1 byte kind/size, 2 bytes address (in lines-ish units). */
	while (pos + 3 <= size) {
		uint8_t op = data[pos];
		uint64_t a = ((uint64_t)data[pos + 1] << 8 | data[pos + 2]) * 4;
		uint32_t sz = (op >> 2) % 9 ? 1u << ((op >> 2) % 9 - 1) : 0;
		uint64_t first = a >> 6, last, ln;
		enum mmodel_level got, want = MMODEL_L1, w;

		pos += 3;
		if (op & 0x80) {
			/* walk reference: 8-byte aligned entry */
			a &= ~7ULL;
			w = ref_line(ref, a >> 6);
			got = mmodel_walk_access(&v, a, op & 3);
			if (got != w)
				abort();
			walks++;
			if (!mmodel_cache_contains(&c[0], a))
				abort();
			continue;
		}
		last = (a + (sz ? sz - 1 : 0)) >> 6;
		for (ln = first; ln <= last; ln++) {
			w = ref_line(ref, ln);
			if (w > want)
				want = w;
			lines++;
		}
		got = mmodel_data_access(&v, a, sz, op & 1);
		if (got != want)
			abort();	/* disagrees with the reference LRU */
		/* The last line touched was just accessed: it is in L1. */
		if (!mmodel_cache_contains(&c[0], last << 6))
			abort();
		if (sum(v.ctr.loads, MMODEL_NR_LEVELS) +
		    sum(v.ctr.stores, MMODEL_NR_LEVELS) != lines)
			abort();
		if (v.ctr.loads[MMODEL_DRAM] + v.ctr.stores[MMODEL_DRAM] !=
		    sum(v.ctr.data_dram, MMODEL_MAX_NODES))
			abort();
	}
	if (sum(&v.ctr.walk[0][0], MMODEL_NR_WALKS * MMODEL_NR_LEVELS) != walks ||
	    sum(&v.ctr.walk_dram[0][0], MMODEL_NR_WALKS * MMODEL_MAX_NODES) !=
	    v.ctr.walk[0][MMODEL_DRAM] + v.ctr.walk[1][MMODEL_DRAM] +
	    v.ctr.walk[2][MMODEL_DRAM])
		abort();
	return 0;
}
