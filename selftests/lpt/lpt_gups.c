// SPDX-License-Identifier: GPL-2.0
/*
 * lpt_gups - a TLB-bound workload for the page-table benches, in the
 * manner of HPC Challenge RandomAccess (GUPS): random read-modify-write
 * updates of 8-byte words over a large array, so nearly every update
 * misses any TLB with 4 KiB pages and the page walk is a large part of
 * the work, as in the big-memory programs the LVM paper evaluates.  The
 * sequence of addresses is a fixed xorshift stream, so every run does
 * the same work; the checksum printed at the end proves it did.  With
 * the machine model on (QEMU mmodel=on) it also prints the modelled
 * cycles of the update loop alone, after every page has been faulted in:
 * translation, not page faults (the whole run's figures come from
 * lpt_run).  The counters are machine-wide, read through /dev/cpu/N/msr.
 * Usage: lpt_gups [MiB [updates]]   (default 256 MiB, 4,000,000 updates)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "lpt_util.h"

int main(int argc, char **argv)
{
	unsigned long mib = argc > 1 ? strtoul(argv[1], NULL, 0) : 256;
	unsigned long updates = argc > 2 ? strtoul(argv[2], NULL, 0) : 4000000;
	uint64_t x = 0x2545f4914f6cdd1dull, sum = 0, *a;
	uint64_t m0[MM_NR], m1[MM_NR];
	size_t words, i;
	int model;

	if (mib < 1 || mib > 65536 || updates < 1) {
		fprintf(stderr, "usage: lpt_gups [1..65536 MiB [updates >= 1]]\n");
		return 2;
	}
	words = (mib << 20) / sizeof(*a);
	a = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED) {
		perror("lpt_gups: mmap");
		return 1;
	}
	for (i = 0; i < words; i += 512)	/* one write per 4 KiB page */
		a[i] = i;
	model = !lptu_mmodel_read(m0);
	for (i = 0; i < updates; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		a[x % words] ^= x;
	}
	if (model && !lptu_mmodel_read(m1)) {
		printf("lpt_gups: loop mmodel ");
		lptu_mmodel_print(m0, m1);
	}
	for (i = 0; i < words; i += 512)
		sum += a[i];
	printf("lpt_gups: %lu MiB, %lu updates, checksum %llx\n", mib, updates,
	       (unsigned long long)sum);
	return 0;
}
