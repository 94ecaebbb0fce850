// SPDX-License-Identifier: GPL-2.0
/*
 * walkstats_test - check the patched QEMU's page-walk counters from inside
 * the guest.
 *
 * Pins itself to one CPU and reads that vCPU's counters (docs/walkstats.md)
 * through /dev/cpu/N/msr around two workloads on an anonymous 4 KiB-page
 * mapping (THP off for it): first touching N fresh pages once each, in
 * address order, then reading them all again in address order.  What it
 * can check: every first touch faults and then walks, so the fresh pass
 * shows at least N walks and N walk faults; every walk reads between one
 * (a PDE-cache hit) and five (LA57, no cache hit) entries; the per-level
 * references add up to the total; consecutive pages share their PDE, so a
 * configured page-walk cache must hit; and with a TLB model smaller than N,
 * the re-read must walk again for the pages the model evicted.  What it
 * cannot check exactly: the counters are per vCPU, so the kernel's own work
 * on this CPU (fault handling, interrupts, the MSR reads) adds walks; hence
 * only lower bounds and ranges.  Skips (exit 4) when the MSRs are absent.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "walkstat-abi.h"

#define NR_PAGES	4096UL		/* 16 MiB: eight page tables */
#define PAGE_SIZE	4096UL

static int test_nr, failed;

static void check(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	printf("# %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n%sok %d - %s\n", ok ? "" : "not ", ++test_nr, name);
	failed |= !ok;
}

static void skip(const char *name, const char *why)
{
	printf("ok %d - %s # SKIP %s\n", ++test_nr, name, why);
}

static void snap(int fd, struct walkstat_snap *s)
{
	int ret = walkstat_read(fd, s);

	if (ret) {
		printf("Bail out! reading counters: %s\n", strerror(-ret));
		exit(1);
	}
}

/* Diagnostics: every counter that moved, by its ABI name. */
static void print_delta(const char *pass, const struct walkstat_snap *d)
{
	int i;

	printf("# %s:", pass);
	for (i = 0; i < WS_NR; i++)
		if (d->c[i])
			printf(" %s=%llu", walkstat_names[i],
			       (unsigned long long)d->c[i]);
	printf("\n");
}

static double per_walk(const struct walkstat_snap *d)
{
	return d->c[WS_WALKS] ? (double)d->c[WS_REFS] / d->c[WS_WALKS] : 0;
}

static uint64_t level_sum(const struct walkstat_snap *d)
{
	return d->c[WS_REFS_PT] + d->c[WS_REFS_PD] + d->c[WS_REFS_PDPT] +
	       d->c[WS_REFS_PML4] + d->c[WS_REFS_PML5];
}

/*
 * WRMSR to the range must raise #GP, which the msr driver reports as EIO,
 * and must leave the counter alone.  Needs a writable /dev/cpu/N/msr.
 */
static void check_read_only(int cpu)
{
	char path[64];
	uint64_t before, after, val = 0;
	int fd, wret, rret;

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		skip("counters_read_only", "msr device not writable");
		return;
	}
	rret = walkstat_rdmsr(fd, MSR_WALKSTAT_COUNTER0 + WS_WALKS, &before);
	wret = pwrite(fd, &val, sizeof(val), MSR_WALKSTAT_COUNTER0 + WS_WALKS) <
	       0 ? errno : 0;
	rret |= walkstat_rdmsr(fd, MSR_WALKSTAT_COUNTER0 + WS_WALKS, &after);
	close(fd);
	if (wret == EPERM) {
		skip("counters_read_only", "msr writes disabled by the kernel");
		return;
	}
	check(wret == EIO && !rret && after >= before, "counters_read_only",
	      "WRMSR of the walks counter: %s; walks %llu -> %llu",
	      wret ? strerror(wret) : "succeeded",
	      (unsigned long long)before, (unsigned long long)after);
}

int main(void)
{
	struct walkstat_snap s0, s1, s2, s3, fresh, seq;
	volatile char *buf;
	uint64_t tlb_entries, pwc_hits;
	unsigned long i, sum = 0;
	cpu_set_t set;
	int cpu, fd, ret;

	printf("TAP version 13\n");
	cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (cpu < 0 || sched_setaffinity(0, sizeof(set), &set)) {
		printf("Bail out! cannot pin to a CPU: %s\n", strerror(errno));
		return 1;
	}
	fd = walkstat_open(cpu);
	if (fd < 0) {
		printf("1..0 # SKIP /dev/cpu/%d/msr: %s\n", cpu, strerror(errno));
		return 4;
	}
	ret = walkstat_read(fd, &s0);
	if (ret == -ENODEV) {
		printf("1..0 # SKIP no page-walk statistics MSRs (unpatched QEMU)\n");
		return 4;
	}
	if (ret) {
		printf("Bail out! reading counters: %s\n", strerror(-ret));
		return 1;
	}
	tlb_entries = s0.tlb_cfg & 0xffffffffu;
	printf("1..8\n");
	printf("# cpu %d, version %#llx, TLB model %llu entries, PWC %llu "
	       "entries/level, %lu pages\n", cpu,
	       (unsigned long long)s0.version, (unsigned long long)tlb_entries,
	       (unsigned long long)s0.pwc_cfg, NR_PAGES);

	buf = mmap(NULL, NR_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	/* One 4 KiB fault per page; without THP support this fails: fine. */
	madvise((void *)buf, NR_PAGES * PAGE_SIZE, MADV_NOHUGEPAGE);

	snap(fd, &s0);
	for (i = 0; i < NR_PAGES; i++)
		buf[i * PAGE_SIZE] = 1;
	snap(fd, &s1);
	snap(fd, &s2);
	for (i = 0; i < NR_PAGES; i++)
		sum += buf[i * PAGE_SIZE];
	snap(fd, &s3);
	walkstat_delta(&s0, &s1, &fresh);
	walkstat_delta(&s2, &s3, &seq);
	print_delta("fresh pass", &fresh);
	print_delta("sequential pass", &seq);
	printf("# checksum %lu\n", sum);

	check(fresh.c[WS_WALKS] >= NR_PAGES, "walks_cover_fresh_pages",
	      "%llu walks for %lu fresh pages",
	      (unsigned long long)fresh.c[WS_WALKS], NR_PAGES);
	check(fresh.c[WS_FAULTS] >= NR_PAGES, "faults_on_first_touch",
	      "%llu walk faults for %lu first touches",
	      (unsigned long long)fresh.c[WS_FAULTS], NR_PAGES);
	check(fresh.c[WS_LEAF_4K] >= NR_PAGES, "leaf_4k_after_fault",
	      "%llu 4K leaves", (unsigned long long)fresh.c[WS_LEAF_4K]);
	check(per_walk(&fresh) >= 1.0 && per_walk(&fresh) <= 5.0,
	      "refs_per_walk_in_range", "%.3f references per walk",
	      per_walk(&fresh));
	check(level_sum(&fresh) == fresh.c[WS_REFS] &&
	      fresh.c[WS_RAW_REFS] >= fresh.c[WS_REFS],
	      "levels_add_up", "per-level sum %llu, refs %llu, raw %llu",
	      (unsigned long long)level_sum(&fresh),
	      (unsigned long long)fresh.c[WS_REFS],
	      (unsigned long long)fresh.c[WS_RAW_REFS]);

	pwc_hits = fresh.c[WS_PWC_PDE_HITS] + seq.c[WS_PWC_PDE_HITS];
	if (s0.pwc_cfg)
		/* Nearly every walk of the fresh pass should hit the PDE
		 * cache and read only the PTE. */
		check(pwc_hits > 0 && per_walk(&fresh) < 2.0,
		      "pwc_hits_sequential",
		      "%llu PDE-cache hits, %.3f refs per walk",
		      (unsigned long long)pwc_hits, per_walk(&fresh));
	else
		skip("pwc_hits_sequential",
		     "no page-walk cache model (walk-pwc-entries=0)");

	if (tlb_entries && tlb_entries < NR_PAGES)
		check(seq.c[WS_WALKS] >= NR_PAGES - tlb_entries &&
		      per_walk(&seq) >= 1.0 && per_walk(&seq) <= 5.0,
		      "tlb_model_rewalks_evicted",
		      "%llu walks re-reading %lu pages past a %llu-entry TLB",
		      (unsigned long long)seq.c[WS_WALKS], NR_PAGES,
		      (unsigned long long)tlb_entries);
	else
		skip("tlb_model_rewalks_evicted",
		     "no TLB model smaller than the working set");

	check_read_only(cpu);

	printf("# %s\n", failed ? "FAIL" : "PASS");
	return failed ? 1 : 0;
}
