// SPDX-License-Identifier: GPL-2.0
/*
 * mmodel_lpt_test - the machine model charges the learned page table's
 * walk references.  This process gets an LPT (lpt.ko, QEMU lpt=on in
 * strict mode, so every user translation comes from it), faults in a
 * region far beyond the TLB model's reach, then touches one byte per page
 * of it twice.  Every line an LPT walk read (the MMU's LPT counter "refs")
 * and every radix reference (walk statistics "refs": the kernel's own
 * walks) must have gone through the modelled caches (mmodel walk-s1-*,
 * walk-2d-* and walk-unmodelled), as mmodel_test checks for radix alone;
 * if LPT lines were not charged, the charged count would stay near the
 * radix references only.  Counters are summed over all CPUs and read one
 * set after the other, so a walk in between may separate them a little.
 * Needs QEMU with mmodel=on,lpt=on,lpt-strict=on and root.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/mman.h>

#include "lpt_util.h"

/* The walk statistics counters as WS_<id>. */
#define WS_ENUM(id, name) WS_##id,
enum { WALKSTAT_COUNTERS(WS_ENUM) WS_NR };
#undef WS_ENUM

#define REGION		(64ul << 20)	/* 16,384 pages: 10x a 1536-entry TLB */
#define PAGE		4096ul

/* Radix walk references, summed over CPUs; -1 without the counters. */
static int64_t radix_refs(void)
{
	uint64_t v, sum = 0;

	for (int cpu = 0; cpu < lptu_open_msrs(); cpu++) {
		if (lptu_rdmsr(cpu, MSR_WALKSTAT_COUNTER0 + WS_REFS, &v))
			return -1;
		sum += v;
	}
	return (int64_t)sum;
}

int main(void)
{
	uint64_t ma[MM_NR], mb[MM_NR], lpt_refs, all, got;
	struct lptu_counters la, lb;
	int64_t ra, rb;
	volatile char *p;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	if (!(lptu_ctl() & LPT_CTL_STRICT) || lptu_mmodel_read(ma) ||
	    radix_refs() < 0) {
		printf("1..0 # SKIP needs QEMU mmodel=on,lpt=on,lpt-strict=on\n");
		return 4;
	}
	r = lptu_load_module(NULL);
	if (r) {
		errno = -r;
		bail("load lpt.ko");
	}
	if (prctl(PR_SET_LPT, 1, 0, 0, 0))
		bail("PR_SET_LPT");
	printf("1..3\n");

	p = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		bail("mmap");
	madvise((void *)p, REGION, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < REGION; off += PAGE)
		p[off] = 1;	/* faults: the entries go into the LPT */

	lptu_read(&la);
	lptu_mmodel_read(ma);
	ra = radix_refs();
	for (int pass = 0; pass < 2; pass++)
		for (size_t off = 0; off < REGION; off += PAGE)
			p[off]++;
	rb = radix_refs();
	lptu_mmodel_read(mb);
	lptu_read(&lb);

	lpt_refs = lb.c[LPT_CNT_REFS] - la.c[LPT_CNT_REFS];
	all = lpt_refs + (uint64_t)(rb - ra);
	/* Charged to a cache level, or counted as not RAM. */
	got = lptu_mmodel_walk_refs(ma, mb) +
	      mb[MM_WALK_UNMODELLED] - ma[MM_WALK_UNMODELLED];
	tap(lb.c[LPT_CNT_WALKS] - la.c[LPT_CNT_WALKS] >= REGION / PAGE &&
	    !(lb.c[LPT_CNT_RADIX_USER] - la.c[LPT_CNT_RADIX_USER]),
	    "LPT translated the touches: %llu LPT walks for %lu page touches, %llu radix user walks",
	    (unsigned long long)(lb.c[LPT_CNT_WALKS] - la.c[LPT_CNT_WALKS]),
	    2 * REGION / PAGE,
	    (unsigned long long)(lb.c[LPT_CNT_RADIX_USER] - la.c[LPT_CNT_RADIX_USER]));
	tap(got + got / 100 + 64 >= all && got <= all + all / 100 + 64,
	    "walk references charged: %llu through the modelled caches for %llu LPT lines + %lld radix references",
	    (unsigned long long)got, (unsigned long long)lpt_refs,
	    (long long)(rb - ra));
	/* A line costs at least an L1 hit (5 cycles in the default model). */
	tap(mb[MM_CYCLES_WALK] - ma[MM_CYCLES_WALK] >= 4 * lpt_refs &&
	    lpt_refs >= REGION / PAGE,
	    "walk cycles charged: %llu modelled walk cycles for %llu LPT lines",
	    (unsigned long long)(mb[MM_CYCLES_WALK] - ma[MM_CYCLES_WALK]),
	    (unsigned long long)lpt_refs);
	munmap((void *)p, REGION);
	prctl(PR_SET_LPT, 0, 0, 0, 0);
	return lptu_tap_failed ? 1 : 0;
}
