// SPDX-License-Identifier: GPL-2.0
/*
 * Guest selftest of the machine model (docs/mmodel.md): it reads the
 * read-only counters at MSR 0x4c505600.. on its own CPU around known work
 * and checks that the model counted what that work must cost:
 *  - N loads to N distinct lines of a cache-resident buffer are N
 *    user-mode accesses (beyond the cost of reading the counters, measured
 *    first), nearly all L1 hits;
 *  - a pointer chase over a footprint far beyond the LLC costs about one
 *    DRAM access per step, charged to the node the buffer was bound to,
 *    and node 1's chase costs more modelled cycles than node 0's;
 *  - user-mode instructions are counted;
 *  - every page-walk reference the walk model counts goes through the
 *    caches: the walk references by serving level add up to the walk
 *    statistics' reference count.
 * The kernel's own work on the same CPU (interrupts) adds to the per-level
 * counts, which cover all modes, so those bounds allow a few percent; a
 * broken counter misses them by far.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The counters, from the ABI tables QEMU serves them from. */
#include "walkstat-abi.h"
#include "walkstat-mmodel.h"

#define LINE		64
#define CHASE_BYTES	(48ul << 20)	/* 24x the 2 MiB LLC check.list asks for */
#define CHASE_STEPS	200000ul
#define WARM_BYTES	(16ul << 10)	/* fits the 32 KiB L1D */

static int msr_fd, failed, nr;

static void check(int ok, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#include <stdarg.h>
static void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("# %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n%s %d - %s\n", ok ? "ok" : "not ok", ++nr, name);
	failed |= !ok;
}

static void snap(uint64_t *c)
{
	int i;

	for (i = 0; i < MM_NR; i++) {
		if (pread(msr_fd, &c[i], 8, MSR_MMODEL_COUNTER0 + i) != 8) {
			printf("Bail out! reading counter %d: %s\n", i, strerror(errno));
			exit(1);
		}
	}
}

/*
 * Only the counters the L1 checks use: each MSR read is a system call
 * whose kernel code and data share the 32 KiB L1 with the buffer, so
 * reading all of them would blur the very count the check looks at.
 */
static void snap_l1(uint64_t *c)
{
	static const int few[] = {
		MM_INSNS_USER, MM_LOADS_L1, MM_LOADS_L2, MM_LOADS_LLC,
		MM_LOADS_DRAM, MM_USER_ACCESSES,
	};

	memset(c, 0, MM_NR * sizeof(*c));
	for (unsigned int i = 0; i < sizeof(few) / sizeof(few[0]); i++) {
		if (pread(msr_fd, &c[few[i]], 8, MSR_MMODEL_COUNTER0 + few[i]) != 8) {
			printf("Bail out! reading counter %d: %s\n", few[i], strerror(errno));
			exit(1);
		}
	}
}

static void delta(uint64_t *d, const uint64_t *a, const uint64_t *b)
{
	int i;

	for (i = 0; i < MM_NR; i++)
		d[i] = b[i] - a[i];
}

static uint64_t loads(const uint64_t *d)
{
	return d[MM_LOADS_L1] + d[MM_LOADS_L2] + d[MM_LOADS_LLC] + d[MM_LOADS_DRAM];
}

/* A random cyclic permutation of the lines of @buf: one dependent load per step. */
static void make_chase(char *buf, size_t bytes)
{
	size_t n = bytes / LINE, i;
	size_t *order = malloc(n * sizeof(*order));
	uint64_t x = 0x9e3779b97f4a7c15ull;

	if (!order) {
		printf("Bail out! malloc\n");
		exit(1);
	}
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		size_t j, t;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = x % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++)
		*(char **)(buf + order[i] * LINE) = buf + order[(i + 1) % n] * LINE;
	free(order);
}

static char *chase_buffer(int node)
{
	unsigned long mask = 1ul << node;
	char *buf = mmap(NULL, CHASE_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		exit(1);
	}
	/* MPOL_BIND = 2; before the first touch, so every page lands there. */
	if (syscall(SYS_mbind, buf, CHASE_BYTES, 2, &mask, 8 * sizeof(mask), 0)) {
		printf("Bail out! mbind to node %d: %s\n", node, strerror(errno));
		exit(1);
	}
	make_chase(buf, CHASE_BYTES);
	return buf;
}

static void chase(int node, uint64_t *d)
{
	char *buf = chase_buffer(node);
	uint64_t a[MM_NR], b[MM_NR];
	char **p = (char **)buf;
	unsigned long i;

	for (i = 0; i < CHASE_STEPS; i++)	/* warm the soft TLB, not the caches */
		p = (char **)*p;
	snap(a);
	for (i = 0; i < CHASE_STEPS; i++)
		p = (char **)*p;
	snap(b);
	delta(d, a, b);
	if (!p)
		printf("# (unreachable)\n");
	munmap(buf, CHASE_BYTES);
}

/*
 * Touch one byte per page of a fresh region: page faults and walks of
 * both the program and the kernel.  Every reference the walk model counts
 * (walkstats "refs") must have gone through the caches (mmodel walk-s1-*)
 * or be counted as not RAM.  The two counter sets are read one after the
 * other, so a walk in between (an interrupt) may separate them a little.
 */
static void walk_refs_check(void)
{
	const size_t bytes = 32ul << 20;
	uint64_t wa, wb, a[MM_NR], b[MM_NR], refs, cached;
	volatile char *p;
	size_t i;
	int k;

	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		exit(1);
	}
	if (walkstat_rdmsr(msr_fd, MSR_WALKSTAT_COUNTER0 + WS_REFS, &wa)) {
		printf("Bail out! reading the walk statistics\n");
		exit(1);
	}
	snap(a);
	for (i = 0; i < bytes; i += 4096)
		p[i] = 1;
	snap(b);
	if (walkstat_rdmsr(msr_fd, MSR_WALKSTAT_COUNTER0 + WS_REFS, &wb)) {
		printf("Bail out! reading the walk statistics\n");
		exit(1);
	}
	refs = wb - wa;
	cached = b[MM_WALK_UNMODELLED] - a[MM_WALK_UNMODELLED];
	for (k = MM_WALK_S1_L1; k <= MM_WALK_2D_DRAM; k++)
		cached += b[k] - a[k];
	check(refs > bytes / 4096 && cached + cached / 100 + 64 >= refs &&
	      cached <= refs + refs / 100 + 64, "walk_refs_through_caches",
	      "%zu pages touched: %llu walk references counted, %llu through the caches "
	      "(L1 %llu L2 %llu LLC %llu DRAM %llu), %llu not RAM",
	      bytes / 4096, (unsigned long long)refs, (unsigned long long)cached,
	      (unsigned long long)(b[MM_WALK_S1_L1] - a[MM_WALK_S1_L1]),
	      (unsigned long long)(b[MM_WALK_S1_L2] - a[MM_WALK_S1_L2]),
	      (unsigned long long)(b[MM_WALK_S1_LLC] - a[MM_WALK_S1_LLC]),
	      (unsigned long long)(b[MM_WALK_S1_DRAM] - a[MM_WALK_S1_DRAM]),
	      (unsigned long long)(b[MM_WALK_UNMODELLED] - a[MM_WALK_UNMODELLED]));
	munmap((void *)p, bytes);
}

int main(void)
{
	uint64_t a[MM_NR], b[MM_NR], base[MM_NR], d[MM_NR], d0[MM_NR], d1[MM_NR], v;
	volatile char *warm;
	unsigned long i, sum = 0;
	cpu_set_t set;
	int r;

	printf("TAP version 13\n");
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		printf("Bail out! pinning to CPU 0: %s\n", strerror(errno));
		return 1;
	}
	msr_fd = open("/dev/cpu/0/msr", O_RDONLY);
	if (msr_fd < 0) {
		printf("1..0 # SKIP /dev/cpu/0/msr: %s\n", strerror(errno));
		return 4;
	}
	if (pread(msr_fd, &v, 8, MSR_MMODEL_VERSION) != 8) {
		printf("1..0 # SKIP no machine-model MSRs (QEMU without mmodel=on)\n");
		return 4;
	}
	printf("1..7\n# version %#llx, %llu counters\n", (unsigned long long)v,
	       (unsigned long long)(v >> 8 & 0xff));

	/* The cost of reading the counters themselves. */
	snap_l1(a);
	snap_l1(b);
	delta(base, a, b);

	/* N loads to N distinct lines of an L1-resident buffer, three times. */
	warm = mmap(NULL, WARM_BYTES, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	for (r = 0; r < 3; r++)
		for (i = 0; i < WARM_BYTES; i += LINE)
			sum += warm[i];
	snap_l1(a);
	for (r = 0; r < 64; r++)
		for (i = 0; i < WARM_BYTES; i += LINE)
			sum += warm[i];
	snap_l1(b);
	delta(d, a, b);
	{
		uint64_t n = 64 * WARM_BYTES / LINE;
		uint64_t got = d[MM_USER_ACCESSES] - base[MM_USER_ACCESSES];

		check(got >= n && got <= n + n / 50, "n_loads_count_n",
		      "%llu loads to %lu lines: %llu user-mode accesses counted beyond the %llu of reading the counters (all modes: %llu loads)",
		      (unsigned long long)n, WARM_BYTES / LINE,
		      (unsigned long long)got, (unsigned long long)base[MM_USER_ACCESSES],
		      (unsigned long long)loads(d));
		check(d[MM_LOADS_L1] - base[MM_LOADS_L1] >= n - n / 100,
		      "resident_lines_hit_l1", "%llu of them from L1",
		      (unsigned long long)(d[MM_LOADS_L1] - base[MM_LOADS_L1]));
	}
	check(d[MM_INSNS_USER] >= 64 * WARM_BYTES / LINE, "user_insns_counted",
	      "%llu user instructions for %lu loads",
	      (unsigned long long)d[MM_INSNS_USER], 64 * WARM_BYTES / LINE);

	chase(0, d0);
	chase(1, d1);
	printf("# chase node 0: dram %llu (node0 %llu node1 %llu) llc %llu cycles %llu\n",
	       (unsigned long long)d0[MM_LOADS_DRAM], (unsigned long long)d0[MM_DRAM_NODE0],
	       (unsigned long long)d0[MM_DRAM_NODE1], (unsigned long long)d0[MM_LOADS_LLC],
	       (unsigned long long)d0[MM_CYCLES]);
	printf("# chase node 1: dram %llu (node0 %llu node1 %llu) llc %llu cycles %llu\n",
	       (unsigned long long)d1[MM_LOADS_DRAM], (unsigned long long)d1[MM_DRAM_NODE0],
	       (unsigned long long)d1[MM_DRAM_NODE1], (unsigned long long)d1[MM_LOADS_LLC],
	       (unsigned long long)d1[MM_CYCLES]);
	/*
	 * The other node's DRAM sees the kernel's own traffic in the same
	 * window (counters count all modes): timer interrupts and page walks
	 * to page tables on node 0, which grow with wall time when the host
	 * is loaded (0.5% of the steps on a quiet host, 1.04% with the guest
	 * at 0.02 of reference speed).  A wrong node would show up as most
	 * of the steps, so 5% still tells the nodes apart.
	 */
	check(d0[MM_DRAM_NODE0] >= CHASE_STEPS * 85 / 100 &&
	      d0[MM_DRAM_NODE1] < CHASE_STEPS / 20, "chase_on_node0_from_node0_dram",
	      "%lu steps: %llu DRAM accesses on node 0, %llu on node 1", CHASE_STEPS,
	      (unsigned long long)d0[MM_DRAM_NODE0], (unsigned long long)d0[MM_DRAM_NODE1]);
	check(d1[MM_DRAM_NODE1] >= CHASE_STEPS * 85 / 100 &&
	      d1[MM_DRAM_NODE0] < CHASE_STEPS / 20, "chase_on_node1_from_node1_dram",
	      "%lu steps: %llu DRAM accesses on node 1, %llu on node 0", CHASE_STEPS,
	      (unsigned long long)d1[MM_DRAM_NODE1], (unsigned long long)d1[MM_DRAM_NODE0]);
	check(d1[MM_CYCLES_DATA] > d0[MM_CYCLES_DATA] * 3 / 2, "slow_node_costs_more",
	      "data cycles node 1 %llu vs node 0 %llu",
	      (unsigned long long)d1[MM_CYCLES_DATA], (unsigned long long)d0[MM_CYCLES_DATA]);
	walk_refs_check();
	if (!sum)
		printf("# (sum 0)\n");
	printf("# %s\n", failed ? "FAIL" : "PASS");
	return failed;
}
