// SPDX-License-Identifier: GPL-2.0
/*
 * lpt_faultbench - what a learned page table adds to a page fault.  One
 * process alternates rounds with its LPT on and off (PR_SET_LPT) so both
 * sides see the same machine noise: each round maps 32 MiB, writes one
 * word per 4 KiB page (one first-touch fault each), and unmaps.  Prints
 * ns per fault for each side (median of the rounds) and their ratio and,
 * with the machine model on (QEMU mmodel=on), the kernel instructions
 * and modelled cycles per fault of each side (median), which unlike ns do
 * not depend on how busy the host is.
 * Usage: lpt_faultbench [rounds]   (default 10 per side)
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "lpt_util.h"

#define LEN	(32UL << 20)

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int have_model;

/*
 * One round; its kernel instructions and modelled cycles per fault too,
 * and the kernel instructions per page of the munmap() alone (the LPT's
 * invalidation side), which @insns includes.
 */
static double one_round(double *insns, double *cycles, double *unmap_insns)
{
	uint64_t m0[MM_NR], m1[MM_NR], mu[MM_NR];
	double t0, ns;

	if (have_model)
		lptu_mmodel_read(m0);
	t0 = now_s();
	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		bail("mmap");
	/* No THP: every page must fault on its own. */
	madvise(p, LEN, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < LEN; off += 4096)
		p[off] = 1;
	if (have_model)
		lptu_mmodel_read(mu);
	munmap(p, LEN);
	ns = (now_s() - t0) * 1e9 / (LEN / 4096);
	if (have_model) {
		lptu_mmodel_read(m1);
		*insns = (double)(m1[MM_INSNS_KERNEL] - m0[MM_INSNS_KERNEL]) /
			 (LEN / 4096);
		*cycles = (double)(m1[MM_CYCLES] - m0[MM_CYCLES]) / (LEN / 4096);
		*unmap_insns = (double)(m1[MM_INSNS_KERNEL] -
					mu[MM_INSNS_KERNEL]) / (LEN / 4096);
	}
	return ns;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 10;
	double on[1000], off[1000], ins[2][1000], cyc[2][1000], unm[2][1000];
	double x, y, z;
	uint64_t probe[MM_NR];
	struct lptu_counters a, b;
	long long fault_ns, inval_ns, early, hooks;

	if (rounds < 1 || rounds > 1000) {
		fprintf(stderr, "lpt_faultbench: rounds must be 1..1000\n");
		return 2;
	}
	if (lptu_load_module(NULL) || prctl(PR_SET_LPT, 1, 0, 0, 0))
		bail("enable LPT (lpt.ko loaded? QEMU lpt=on?)");
	have_model = !lptu_mmodel_read(probe);
	one_round(&x, &y, &z);	/* warm up both paths */
	prctl(PR_SET_LPT, 0, 0, 0, 0);
	one_round(&x, &y, &z);
	lptu_read(&a);
	fault_ns = lptu_file_value(LPTU_STATS_PATH, "fault_ns");
	inval_ns = lptu_file_value(LPTU_STATS_PATH, "inval_ns");
	early = lptu_file_value(LPTU_STATS_PATH, "early_installs");
	hooks = lptu_file_value(LPTU_STATS_PATH, "faults");
	for (int i = 0; i < rounds; i++) {
		/* Alternate which side goes first to cancel drift. */
		int first_on = i & 1;

		for (int k = 0; k < 2; k++) {
			int lpt = k == 0 ? first_on : !first_on;

			if (prctl(PR_SET_LPT, lpt, 0, 0, 0))
				bail("PR_SET_LPT");
			(lpt ? on : off)[i] = one_round(&ins[lpt][i],
							&cyc[lpt][i],
							&unm[lpt][i]);
		}
		fprintf(stderr, "# round %d/%d: on %.0f ns, off %.0f ns\n",
			i + 1, rounds, on[i], off[i]);
	}
	lptu_read(&b);
	/* Only lpt-on rounds run lpt.ko's code; off rounds add nothing. */
	fault_ns = lptu_file_value(LPTU_STATS_PATH, "fault_ns") - fault_ns;
	inval_ns = lptu_file_value(LPTU_STATS_PATH, "inval_ns") - inval_ns;
	prctl(PR_SET_LPT, 0, 0, 0, 0);
	qsort(on, rounds, sizeof(double), cmp_double);
	qsort(off, rounds, sizeof(double), cmp_double);
	printf("faults/round %lu, rounds %d per side\n", LEN / 4096, rounds);
	printf("fault ns median: lpt-on %.0f lpt-off %.0f ratio %.3f\n",
	       on[rounds / 2], off[rounds / 2], on[rounds / 2] / off[rounds / 2]);
	early = lptu_file_value(LPTU_STATS_PATH, "early_installs") - early;
	hooks = lptu_file_value(LPTU_STATS_PATH, "faults") - hooks;
	printf("lpt-on faults %lld, entries installed from update_mmu_cache %lld\n",
	       hooks, early);
	/* Only with lpt.ko's hook_timing=1: clock reads cost more than the hook. */
	if (fault_ns > 0)
		printf("lpt.ko ns per lpt-on fault: fault hook %.0f, invalidation %.0f\n",
		       (double)fault_ns / rounds / (LEN / 4096),
		       (double)inval_ns / rounds / (LEN / 4096));
	if (have_model) {
		for (int k = 0; k < 2; k++) {
			qsort(ins[k], rounds, sizeof(double), cmp_double);
			qsort(cyc[k], rounds, sizeof(double), cmp_double);
			qsort(unm[k], rounds, sizeof(double), cmp_double);
		}
		printf("fault kernel insns median: lpt-on %.0f lpt-off %.0f ratio %.3f\n",
		       ins[1][rounds / 2], ins[0][rounds / 2],
		       ins[1][rounds / 2] / ins[0][rounds / 2]);
		printf("of which munmap kernel insns per page median: lpt-on %.0f lpt-off %.0f\n",
		       unm[1][rounds / 2], unm[0][rounds / 2]);
		printf("fault modelled cycles median: lpt-on %.0f lpt-off %.0f ratio %.3f\n",
		       cyc[1][rounds / 2], cyc[0][rounds / 2],
		       cyc[1][rounds / 2] / cyc[0][rounds / 2]);
	}
	printf("lpt walks %llu, misses %llu, mismatches %llu\n",
	       (unsigned long long)(b.c[LPT_CNT_WALKS] - a.c[LPT_CNT_WALKS]),
	       (unsigned long long)(b.c[LPT_CNT_MISSES] - a.c[LPT_CNT_MISSES]),
	       (unsigned long long)(b.c[LPT_CNT_MISMATCHES] -
				    a.c[LPT_CNT_MISMATCHES]));
	return 0;
}
