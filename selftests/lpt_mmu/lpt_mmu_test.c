// SPDX-License-Identifier: GPL-2.0
/*
 * lpt_mmu_test - the emulated learned-page-table MMU of the patched QEMU
 * (docs/lpt-mmu.md), checked from inside the guest without the kernel's
 * LPT support.
 *
 * Needs QEMU with lpt=on,lpt-strict=off,lpt-crosscheck=on (check.list asks
 * for it), root, and CPU 0.  Pinned to CPU 0, the test builds a real
 * learned page table in user space with lib/lpt over its own buffer:
 * index nodes and gapped tables come from an mlocked, 2 MiB-aligned pool
 * (THP when the kernel gives one) whose physical addresses it reads from
 * /proc/self/pagemap, and the entries map the buffer's own pages to their
 * own frames, with A/D clear and RW only for pages it writes later.  It
 * writes the root MSR through /dev/cpu/0/msr, touches the buffer and reads
 * the LPT counters:
 *
 *  - translations were served by the LPT (4K leaves, and a 2M leaf when a
 *    THP was available), mostly in one memory reference;
 *  - the MMU set A in every touched entry and D exactly in written ones;
 *  - a write to a read-only entry faults through: in non-strict mode a
 *    protection fault from the LPT is still a #PF, and the kernel, whose
 *    radix entry allows the write, returns to the same write again; so the
 *    write runs under a timer signal that jumps out of the loop, and the
 *    test checks that prot-faults moved and the page kept its contents;
 *  - every translation was cross-checked against the radix table and none
 *    disagreed; the counters add up; the read-only MSRs #GP.
 *
 * Then garbage: roots with reserved bits (WRMSR must fail, EIO), random
 * roots (arenas anywhere, in RAM, beyond it, on MMIO), arenas and tables
 * full of random bytes, valid nodes with corrupt entries.  Each time the
 * buffer is touched; in non-strict mode every miss falls back to the radix
 * table, so the process must survive, every page must keep its contents,
 * and the counters must show misses, bad structures and fallbacks.  QEMU
 * must not crash.  Finally the root goes back to 0.
 *
 * What it cannot check: the root is per CPU and the kernel does not switch
 * it, so while it is set every process on CPU 0 has its user addresses
 * looked up in this table.  The buffer sits at an unusual fixed address so
 * nothing else hits it, and the root is set only briefly.  Counters are per
 * vCPU and include everything else on CPU 0, hence lower bounds.
 *
 * Skips (exit 4) when the LPT MSRs are absent or strict mode is on.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>

#include "lpt.h"
#include "walkstat-lpt.h"

#define PAGE_SIZE	4096UL
#define HUGE_SIZE	(2UL << 20)
#define BUF_VA		0x4c5000000000UL	/* "LP": nobody maps there */
#define NR_PAGES	256UL			/* the 4 KiB buffer */
#define HUGE_VA		(BUF_VA + (32UL << 20))	/* the 2 MiB page */
#define POOL_BYTES	(8UL << 20)		/* LPT structures */
#define NR_RANDOM_ROOTS	48
#define NR_GARBAGE	6			/* random arenas, tables */

static int test_nr, failed, msr_fd, pagemap_fd;
static uint64_t rng_state;

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

static void __attribute__((noreturn)) bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	if (msr_fd > 0) {
		uint64_t zero = 0;

		if (pwrite(msr_fd, &zero, 8, LPT_MSR_ROOT) != 8)
			printf("# could not restore root 0\n");
	}
	exit(1);
}

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the seed printed at the start. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static void fill_random(void *p, size_t bytes)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < bytes / 8; i++)
		w[i] = rnd();
}

/* ---- MSRs ---- */

static void snap(struct lpt_snap *s)
{
	int ret = lpt_snap_read(msr_fd, s);

	if (ret) {
		errno = -ret;
		bail("reading the LPT counters");
	}
}

/*
 * Flush this CPU's TLB as the kernel does for a large range: unmapping
 * more pages than tlb_single_page_flush_ceiling (33) that were present
 * makes flush_tlb_mm_range() flush the whole TLB (MOV to CR3, no PCID in
 * TCG), which also drops the LWC's nodes of the address space.
 */
static void flush_tlb(void)
{
	const size_t len = 64 * PAGE_SIZE;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		bail("mmap for a TLB flush");
	for (size_t off = 0; off < len; off += PAGE_SIZE)
		p[off] = 1;
	munmap(p, len);
}

/*
 * Load a root.  A root write drops cached nodes but not the TLB
 * (docs/lpt-abi.md): like an OS that changed the table, flush it so that
 * the next touches walk the new structure.
 */
static int write_root(uint64_t root)
{
	if (pwrite(msr_fd, &root, 8, LPT_MSR_ROOT) != 8)
		return errno;
	flush_tlb();
	return 0;
}

static uint64_t read_root(void)
{
	uint64_t v;

	if (walkstat_rdmsr(msr_fd, LPT_MSR_ROOT, &v))
		bail("reading LPT_MSR_ROOT");
	return v;
}

static void print_delta(const char *pass, const struct lpt_snap *d)
{
	int i;

	printf("# %s:", pass);
	for (i = 0; i < LPT_CNT_NR; i++)
		if (d->c[i])
			printf(" %s=%llu", lpt_counter_names[i],
			       (unsigned long long)d->c[i]);
	printf("\n");
}

/* ---- physical memory: the pool the LPT structures live in ---- */

static uint64_t virt_to_phys(const void *va)
{
	uint64_t e;

	if (pread(pagemap_fd, &e, 8, (uintptr_t)va / PAGE_SIZE * 8) != 8)
		bail("reading /proc/self/pagemap");
	if (!(e & (1ULL << 63)) || !(e & ((1ULL << 55) - 1)))
		return 0;
	return (e & ((1ULL << 55) - 1)) * PAGE_SIZE;
}

struct pool {
	uint8_t *base;
	uint64_t pa[POOL_BYTES / PAGE_SIZE];
	uint8_t used[POOL_BYTES / PAGE_SIZE];
	size_t npages;
};

static struct pool pool;

/* Length of the physically contiguous free run starting at page @i. */
static size_t pool_run(size_t i, size_t want)
{
	size_t n = 0;

	while (i + n < pool.npages && n < want && !pool.used[i + n] &&
	       (!n || pool.pa[i + n] == pool.pa[i] + n * PAGE_SIZE))
		n++;
	return n;
}

static void *pool_alloc(void *ctx, size_t bytes, uint64_t *pa)
{
	size_t n = (bytes + PAGE_SIZE - 1) / PAGE_SIZE, i;

	for (i = 0; i < pool.npages; i++) {
		if (pool_run(i, n) == n) {
			memset(pool.used + i, 1, n);
			memset(pool.base + i * PAGE_SIZE, 0, n * PAGE_SIZE);
			*pa = pool.pa[i];
			return pool.base + i * PAGE_SIZE;
		}
	}
	return NULL;
}

static void pool_free(void *ctx, void *va, uint64_t pa, size_t bytes)
{
	size_t i = ((uint8_t *)va - pool.base) / PAGE_SIZE;

	memset(pool.used + i, 0, (bytes + PAGE_SIZE - 1) / PAGE_SIZE);
}

static uint64_t pool_max_contig(void *ctx)
{
	size_t i, n, best = 0;

	for (i = 0; i < pool.npages; i++) {
		n = pool_run(i, pool.npages);
		if (n > best)
			best = n;
	}
	return best * PAGE_SIZE;
}

static void *meta_alloc(void *ctx, size_t bytes)
{
	return malloc(bytes);
}

static void meta_free(void *ctx, void *p, size_t bytes)
{
	free(p);
}

static const struct lpt_mem_ops pool_ops = {
	.alloc = pool_alloc,
	.free = pool_free,
	.max_contig = pool_max_contig,
	.meta_alloc = meta_alloc,
	.meta_free = meta_free,
};

/* CPU pointer to @bytes at physical address @pa in the pool, or NULL. */
static void *pool_va(uint64_t pa, size_t bytes)
{
	size_t i, j, last;

	for (i = 0; i < pool.npages; i++) {
		if (pa < pool.pa[i] || pa - pool.pa[i] >= PAGE_SIZE)
			continue;
		last = (pa - pool.pa[i] + bytes - 1) / PAGE_SIZE;
		if (i + last >= pool.npages)
			return NULL;
		for (j = 1; j <= last; j++)
			if (pool.pa[i + j] != pool.pa[i] + j * PAGE_SIZE)
				return NULL;
		return pool.base + i * PAGE_SIZE + (pa - pool.pa[i]);
	}
	return NULL;
}

/*
 * An mlocked mapping at @va (fixed) whose frames stay put: THP or not as
 * asked, populated by mlock, then MADV_NOHUGEPAGE so that khugepaged never
 * collapses (and so moves) it; compaction of mlocked pages is off.
 */
static uint8_t *map_locked(uintptr_t va, size_t bytes, int thp, int fixed)
{
	uint8_t *p;

	p = mmap((void *)va, bytes, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | fixed, -1, 0);
	if (p == MAP_FAILED)
		bail("mmap");
	madvise(p, bytes, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	if (mlock(p, bytes))
		bail("mlock");
	madvise(p, bytes, MADV_NOHUGEPAGE);
	return p;
}

static void pool_init(void)
{
	uint8_t *raw;

	/* 2 MiB-aligned inside a larger reservation. */
	raw = mmap(NULL, POOL_BYTES + HUGE_SIZE, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		bail("mmap pool");
	pool.base = map_locked(((uintptr_t)raw + HUGE_SIZE - 1) &
			       ~(HUGE_SIZE - 1), POOL_BYTES, 1, MAP_FIXED);
}

/* ---- the learned page table over the buffer ---- */

static uint8_t *buf, *huge;
static uint64_t buf_pa[NR_PAGES], huge_pa;
static struct lpt_map maps[NR_PAGES + 1];
static size_t nr_maps;
static struct lpt *table;

static uint8_t pattern(unsigned long i)
{
	return (uint8_t)(i * 7 + 1);
}

static void build_table(void)
{
	struct lpt_params p;
	int ret;

	if (table)
		lpt_destroy(table);
	lpt_params_default(&p);
	table = lpt_create(&p, &pool_ops);
	if (!table)
		bail("lpt_create");
	ret = lpt_build(table, maps, nr_maps);
	if (ret) {
		errno = -ret;
		bail("lpt_build");
	}
}

/*
 * Entries: own frames, A/D clear, NX as the radix table has it for data,
 * RW only for the pages written later.
 */
static void make_maps(void)
{
	unsigned long i;

	nr_maps = 0;
	for (i = 0; i < NR_PAGES; i++)
		maps[nr_maps++] = (struct lpt_map) {
			.va = BUF_VA + i * PAGE_SIZE,
			.pte = buf_pa[i] | LPT_PTE_P | LPT_PTE_US |
			       LPT_PTE_NX | (i % 2 ? 0 : LPT_PTE_RW),
			.size = LPT_SIZE_4K,
		};
	if (huge_pa)
		maps[nr_maps++] = (struct lpt_map) {
			.va = HUGE_VA,
			.pte = huge_pa | LPT_PTE_P | LPT_PTE_US | LPT_PTE_RW |
			       LPT_PTE_NX,
			.size = LPT_SIZE_2M,
		};
}

/* ---- touching memory, with a way out of a fault loop ---- */

static sigjmp_buf guard_jmp;
static volatile sig_atomic_t guard_armed;
static unsigned long touch_round;

static void on_alarm(int sig)
{
	if (guard_armed)
		siglongjmp(guard_jmp, 1);
}

/*
 * Run @fn with a timer that jumps out of it after @ms: a protection fault
 * from the LPT that the kernel does not know about repeats forever.
 * Returns 0 if @fn finished, -1 if the timer fired.
 */
static int guarded(void (*fn)(void), long ms)
{
	struct itimerval it = { .it_value = { ms / 1000, ms % 1000 * 1000 } };
	struct itimerval off = { 0 };

	if (sigsetjmp(guard_jmp, 1)) {
		guard_armed = 0;
		setitimer(ITIMER_REAL, &off, NULL);
		return -1;
	}
	guard_armed = 1;
	setitimer(ITIMER_REAL, &it, NULL);
	fn();
	guard_armed = 0;
	setitimer(ITIMER_REAL, &off, NULL);
	return 0;
}

static volatile unsigned long sink;

/* Read every page; byte 0 holds its pattern. */
static void touch_read(void)
{
	unsigned long i, sum = 0;

	for (i = 0; i < NR_PAGES; i++)
		sum += ((volatile uint8_t *)buf)[i * PAGE_SIZE];
	if (huge)
		for (i = 0; i < HUGE_SIZE; i += 64 * PAGE_SIZE)
			sum += ((volatile uint8_t *)huge)[i];
	sink += sum;
}

/* Read every page, write byte 1 of the even (LPT-writable) ones. */
static void touch_rw(void)
{
	unsigned long i;

	touch_round++;
	touch_read();
	for (i = 0; i < NR_PAGES; i += 2)
		((volatile uint8_t *)buf)[i * PAGE_SIZE + 1] =
			(uint8_t)(touch_round + i);
	if (huge)
		for (i = 0; i < HUGE_SIZE; i += 64 * PAGE_SIZE)
			((volatile uint8_t *)huge)[i + 1] =
				(uint8_t)(touch_round + i / PAGE_SIZE);
}

static void write_readonly_page(void)
{
	((volatile uint8_t *)buf)[PAGE_SIZE + 2] = 0xee;
}

/* Every page still holds what it should (read through the radix table). */
static int buffer_intact(void)
{
	unsigned long i;

	for (i = 0; i < NR_PAGES; i++) {
		if (buf[i * PAGE_SIZE] != pattern(i) ||
		    (i % 2 == 0 &&
		     buf[i * PAGE_SIZE + 1] != (uint8_t)(touch_round + i)) ||
		    buf[i * PAGE_SIZE + 2] != 0) {
			printf("# page %lu: %#x %#x %#x\n", i,
			       buf[i * PAGE_SIZE], buf[i * PAGE_SIZE + 1],
			       buf[i * PAGE_SIZE + 2]);
			return 0;
		}
	}
	return 1;
}

/* ---- the valid table ---- */

static void check_ad_bits(void)
{
	struct lpt_map out[NR_PAGES + 1];
	size_t n, i, bad = 0;

	n = lpt_collect(table, out, NR_PAGES + 1);
	for (i = 0; i < n && i < NR_PAGES; i++) {
		int written = (out[i].va - BUF_VA) / PAGE_SIZE % 2 == 0;

		if (!(out[i].pte & LPT_PTE_A) ||
		    !!(out[i].pte & LPT_PTE_D) != written) {
			if (bad++ < 4)
				printf("# va %#llx pte %#llx\n",
				       (unsigned long long)out[i].va,
				       (unsigned long long)out[i].pte);
		}
	}
	check(n == nr_maps && !bad, "ad_bits_set_by_mmu",
	      "%zu entries, %zu without A, or with D != written", n, bad);
	if (huge_pa)
		check((out[NR_PAGES].pte & (LPT_PTE_A | LPT_PTE_D)) ==
		      (LPT_PTE_A | LPT_PTE_D), "ad_bits_huge_page",
		      "2M entry pte %#llx",
		      (unsigned long long)out[NR_PAGES].pte);
	else
		skip("ad_bits_huge_page", "no THP for the 2M page");
}

static void test_valid_table(void)
{
	struct lpt_snap a, b, d;
	uint64_t root;
	uint8_t before;
	int err;

	make_maps();
	build_table();
	root = lpt_root(table);
	snap(&a);
	err = write_root(root);
	check(!err && read_root() == root, "root_write_read",
	      "root %#llx: %s, reads back %#llx", (unsigned long long)root,
	      err ? strerror(err) : "written", (unsigned long long)read_root());
	if (guarded(touch_rw, 5000))
		printf("# touching the buffer got stuck\n");
	snap(&b);
	lpt_snap_delta(&a, &b, &d);
	print_delta("valid table", &d);

	check(d.c[LPT_CNT_ROOT_WRITES] == 1 && d.c[LPT_CNT_LWC_FLUSHES] >= 1,
	      "root_write_counted", "%llu root writes, %llu LWC flushes",
	      (unsigned long long)d.c[LPT_CNT_ROOT_WRITES],
	      (unsigned long long)d.c[LPT_CNT_LWC_FLUSHES]);
	check(d.c[LPT_CNT_LEAF_4K] >= NR_PAGES &&
	      d.c[LPT_CNT_WALKS] >= NR_PAGES, "translated_by_lpt",
	      "%llu walks, %llu 4K leaves for %lu pages",
	      (unsigned long long)d.c[LPT_CNT_WALKS],
	      (unsigned long long)d.c[LPT_CNT_LEAF_4K], NR_PAGES);
	/* Translations of a fresh table read one line; misses are apart. */
	check(d.c[LPT_CNT_HITS_1REF] >= NR_PAGES &&
	      d.c[LPT_CNT_HITS_1REF] <= d.c[LPT_CNT_WALKS_1REF] &&
	      d.c[LPT_CNT_HITS_1REF] <= d.c[LPT_CNT_WALKS] - d.c[LPT_CNT_MISSES],
	      "hits_1ref_counted", "%llu one-line translations of %llu walks (%llu misses, %llu one-line walks)",
	      (unsigned long long)d.c[LPT_CNT_HITS_1REF],
	      (unsigned long long)d.c[LPT_CNT_WALKS],
	      (unsigned long long)d.c[LPT_CNT_MISSES],
	      (unsigned long long)d.c[LPT_CNT_WALKS_1REF]);
	if (huge_pa)
		check(d.c[LPT_CNT_LEAF_2M] >= 1, "translated_2m_leaf",
		      "%llu 2M leaves", (unsigned long long)d.c[LPT_CNT_LEAF_2M]);
	else
		skip("translated_2m_leaf", "no THP for the 2M page");
	check(d.c[LPT_CNT_WALKS_1REF] >= NR_PAGES * 9 / 10,
	      "one_reference_walks", "%llu 1-ref walks of %llu, %.3f refs/walk",
	      (unsigned long long)d.c[LPT_CNT_WALKS_1REF],
	      (unsigned long long)d.c[LPT_CNT_WALKS],
	      (double)d.c[LPT_CNT_REFS] / d.c[LPT_CNT_WALKS]);
	check(d.c[LPT_CNT_LWC_HITS] > d.c[LPT_CNT_LWC_MISSES],
	      "lwc_hits", "%llu LWC hits, %llu misses (%u entries)",
	      (unsigned long long)d.c[LPT_CNT_LWC_HITS],
	      (unsigned long long)d.c[LPT_CNT_LWC_MISSES],
	      lpt_ctl_lwc_entries(b.ctl));
	check(d.c[LPT_CNT_AD_UPDATES] >= NR_PAGES + NR_PAGES / 2,
	      "ad_updates_counted", "%llu A/D updates",
	      (unsigned long long)d.c[LPT_CNT_AD_UPDATES]);
	check_ad_bits();
	check(d.c[LPT_CNT_CROSSCHECKS] >= NR_PAGES &&
	      d.c[LPT_CNT_MISMATCHES] == 0, "crosscheck_agrees",
	      "%llu cross-checks, %llu mismatches",
	      (unsigned long long)d.c[LPT_CNT_CROSSCHECKS],
	      (unsigned long long)d.c[LPT_CNT_MISMATCHES]);
	check(d.c[LPT_CNT_FALLBACKS] > 0 &&
	      d.c[LPT_CNT_FALLBACKS] == d.c[LPT_CNT_MISSES] &&
	      d.c[LPT_CNT_RADIX_USER] >= d.c[LPT_CNT_FALLBACKS],
	      "misses_fall_back", "%llu misses (stack, code...), %llu "
	      "fallbacks, %llu radix walks of user addresses",
	      (unsigned long long)d.c[LPT_CNT_MISSES],
	      (unsigned long long)d.c[LPT_CNT_FALLBACKS],
	      (unsigned long long)d.c[LPT_CNT_RADIX_USER]);
	check(d.c[LPT_CNT_WALKS] == d.c[LPT_CNT_MISSES] +
	      d.c[LPT_CNT_PROT_FAULTS] + d.c[LPT_CNT_LEAF_4K] +
	      d.c[LPT_CNT_LEAF_2M] + d.c[LPT_CNT_LEAF_1G] &&
	      d.c[LPT_CNT_WALKS] == d.c[LPT_CNT_WALKS_0REF] +
	      d.c[LPT_CNT_WALKS_1REF] + d.c[LPT_CNT_WALKS_2REF] +
	      d.c[LPT_CNT_WALKS_3REF] + d.c[LPT_CNT_WALKS_4PLUS],
	      "counters_add_up", "walks = misses + prot faults + leaves, "
	      "= sum of the reference histogram");

	/* A write to a read-only entry: #PF, again and again. */
	before = buf[PAGE_SIZE + 2];
	snap(&a);
	err = guarded(write_readonly_page, 300);
	snap(&b);
	lpt_snap_delta(&a, &b, &d);
	print_delta("write to a read-only entry", &d);
	check(err && d.c[LPT_CNT_PROT_FAULTS] > 0 &&
	      buf[PAGE_SIZE + 2] == before, "readonly_write_faults",
	      "write %s, %llu protection faults, byte %#x -> %#x",
	      err ? "never completed" : "completed",
	      (unsigned long long)d.c[LPT_CNT_PROT_FAULTS], before,
	      buf[PAGE_SIZE + 2]);
}

/* #GP, seen as EIO, for everything but the root and reads. */
static void test_read_only_msrs(void)
{
	uint64_t v = 0;
	int ctl, cnt, undef;

	ctl = pwrite(msr_fd, &v, 8, LPT_MSR_CTL) < 0 ? errno : 0;
	cnt = pwrite(msr_fd, &v, 8, LPT_MSR_COUNTER0) < 0 ? errno : 0;
	undef = walkstat_rdmsr(msr_fd, LPT_MSR_CTL + 1, &v);
	check(ctl == EIO && cnt == EIO && undef == -EIO, "read_only_msrs_gp",
	      "WRMSR CTL: %s, WRMSR counter: %s, RDMSR undefined: %s",
	      strerror(ctl), strerror(cnt), strerror(-undef));
}

/* ---- garbage ---- */

static void test_reserved_roots(void)
{
	uint64_t good = lpt_root(table), bit;
	int i, rejected = 0, n = 0;

	write_root(good);
	for (i = 0; i < 64; i++) {
		bit = 1ULL << i;
		if (!(LPT_ROOT_RSVD_MASK & bit))
			continue;
		n++;
		rejected += write_root(good | bit) == EIO;
		rejected -= read_root() != good;
	}
	check(rejected == n, "reserved_root_bits_gp",
	      "%d of %d roots with a reserved bit rejected (EIO), root kept",
	      rejected, n);
}

static void test_random_roots(void)
{
	/* Arenas beyond RAM, on MMIO (APIC, IOAPIC, HPET, VGA), on ROM. */
	static const uint64_t fixed[] = {
		0x80000000ULL, 0x100000000ULL, 1ULL << 40, 0x3ffffffff000ULL,
		0xfee00000ULL, 0xfec00000ULL, 0xfed00000ULL, 0xa0000ULL,
		0xfffff000ULL, 0xe0000ULL,
	};
	const int nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct lpt_snap a, b, d;
	int i, err = 0, stuck = 0;
	uint64_t root;

	snap(&a);
	for (i = 0; i < nfixed + NR_RANDOM_ROOTS; i++) {
		uint64_t pa = i < nfixed ? fixed[i] :
			      i % 2 ? rnd() % (2ULL << 30) : rnd();

		root = LPT_ROOT_E | (pa & LPT_ROOT_PA_MASK) |
		       (rnd() & (LPT_ROOT_PAGES_MASK << LPT_ROOT_PAGES_SHIFT)) |
		       (rnd() & (LPT_ROOT_ASID_MASK << LPT_ROOT_ASID_SHIFT));
		err += write_root(root) != 0 || read_root() != root;
		stuck += guarded(touch_read, 5000) != 0;
	}
	write_root(0);
	snap(&b);
	lpt_snap_delta(&a, &b, &d);
	print_delta("random roots", &d);
	check(!err && !stuck, "random_roots_accepted",
	      "%d roots (%d fixed), %d not written, %d touches stuck",
	      nfixed + NR_RANDOM_ROOTS, nfixed, err, stuck);
	check(d.c[LPT_CNT_MISSES] >= NR_PAGES * (nfixed + NR_RANDOM_ROOTS) &&
	      d.c[LPT_CNT_FALLBACKS] == d.c[LPT_CNT_MISSES] &&
	      d.c[LPT_CNT_BAD_STRUCT] >= NR_PAGES * nfixed,
	      "random_roots_miss", "%llu misses, %llu fallbacks, %llu bad "
	      "structures", (unsigned long long)d.c[LPT_CNT_MISSES],
	      (unsigned long long)d.c[LPT_CNT_FALLBACKS],
	      (unsigned long long)d.c[LPT_CNT_BAD_STRUCT]);
}

/* Apply @fn to every leaf table of the current build, gapped or direct. */
static void for_each_table(void (*fn)(uint64_t *tab, uint32_t slots,
				      bool direct))
{
	uint64_t root = lpt_root(table);
	uint32_t nodes = (((root >> LPT_ROOT_PAGES_SHIFT) &
			   LPT_ROOT_PAGES_MASK) + 1) * 256, i;
	uint64_t *arena = pool_va(root & LPT_ROOT_PA_MASK, nodes * 16);

	for (i = 0; arena && i < nodes; i++) {
		uint64_t w0 = arena[2 * i], w1 = arena[2 * i + 1];
		bool direct = lpt_node_kind(w0) == LPT_NODE_DIRECT;
		uint32_t slots = direct ? lpt_node_direct_slots(w1) :
				 lpt_node_table_slots(w1);
		uint64_t *tab;

		if (!direct && lpt_node_kind(w0) != LPT_NODE_LEAF)
			continue;
		tab = pool_va(lpt_node_table_pa(w0),
			      slots * (direct ? 8UL : 16UL));
		if (tab)
			fn(tab, slots, direct);
	}
}

/*
 * Random bytes.  A gapped slot's random tag never names the page, so
 * that is a miss whatever the PTE says.  A direct slot has no tag: its
 * position is the page, and random bits with P set are a translation to
 * a random frame, which is the OS's business, not a walker's fault; so P
 * is cleared (the rest stays random: not-present, or no-entry if zero).
 */
static void randomize_table(uint64_t *tab, uint32_t slots, bool direct)
{
	uint32_t i;

	fill_random(tab, slots * (direct ? 8UL : 16UL));
	for (i = 0; direct && i < slots; i++)
		tab[i] &= ~LPT_PTE_P;
}

/*
 * Corrupt every entry in one of several ways, never so that it translates
 * to a wrong frame: reserved bit 7, reserved tag bits, reserved size, P
 * clear, a frame beyond MAXPHYADDR, or only software and cache bits.  In
 * a direct table: P clear, a frame beyond MAXPHYADDR, a huge PFN that is
 * not aligned, or a reserved bit in a sub-table pointer.
 */
static void corrupt_entries(uint64_t *tab, uint32_t slots, bool direct)
{
	uint32_t i;

	for (i = 0; direct && i < slots; i++) {
		uint64_t *pte = &tab[i];

		if (!*pte)
			continue;
		switch (rnd() % 3) {
		case 0:
			*pte &= ~LPT_PTE_P;
			break;
		case 1:
			*pte |= 1ULL << 51;
			break;
		default:
			/*
			 * A huge page's PFN off its alignment; a 4K PTE made
			 * a misaligned 2M copy; a pointer with RW set.
			 */
			*pte |= (*pte & LPT_PTE_PS) ? 0x1000 :
				LPT_PTE_PS | 0x1000 | LPT_PTE_RW;
			break;
		}
	}
	for (i = 0; !direct && i < slots; i++) {
		uint64_t *pte = &tab[2 * i], *tag = &tab[2 * i + 1];

		if (!(*tag & LPT_TAG_V))
			continue;
		switch (rnd() % 6) {
		case 0:
			*pte |= LPT_PTE_RSVD7;
			break;
		case 1:
			*tag |= (rnd() | 1ULL << 63) & LPT_TAG_RSVD_MASK;
			break;
		case 2:
			*tag |= LPT_SIZE_RSVD << LPT_TAG_SIZE_SHIFT;
			break;
		case 3:
			*pte &= ~LPT_PTE_P;
			break;
		case 4:
			*pte |= 1ULL << 51;
			break;
		default:
			*pte |= rnd() & 0x7ff0000000000e18ULL;
			break;
		}
	}
}

static void test_garbage_structures(void)
{
	struct lpt_snap a, b, d;
	int i, stuck = 0;
	uint64_t root;

	snap(&a);
	for (i = 0; i < NR_GARBAGE; i++) {
		/* A valid index whose arena is then overwritten. */
		build_table();
		root = lpt_root(table);
		fill_random(pool_va(root & LPT_ROOT_PA_MASK, PAGE_SIZE),
			    PAGE_SIZE);
		write_root(root);
		stuck += guarded(touch_read, 5000) != 0;

		/* Valid nodes, tables of random bytes. */
		build_table();
		for_each_table(randomize_table);
		write_root(lpt_root(table));
		stuck += guarded(touch_read, 5000) != 0;

		/* Valid nodes, corrupt entries; writes are safe here. */
		build_table();
		for_each_table(corrupt_entries);
		write_root(lpt_root(table));
		stuck += guarded(touch_rw, 5000) != 0;
	}
	write_root(0);
	snap(&b);
	lpt_snap_delta(&a, &b, &d);
	print_delta("garbage structures", &d);
	/*
	 * Nothing of a corrupted structure may translate: the misses alone
	 * do not show that (the overwritten arenas make enough of them),
	 * as a version that left direct tables intact passed with 3,072
	 * translations.
	 */
	check(!stuck && d.c[LPT_CNT_MISSES] >= NR_PAGES * NR_GARBAGE &&
	      d.c[LPT_CNT_BAD_STRUCT] > 0 &&
	      d.c[LPT_CNT_FALLBACKS] == d.c[LPT_CNT_MISSES] &&
	      !d.c[LPT_CNT_LEAF_4K] && !d.c[LPT_CNT_LEAF_2M] &&
	      !d.c[LPT_CNT_LEAF_1G],
	      "garbage_structures_miss", "%d touches stuck, %llu misses, "
	      "%llu bad structures, %llu fallbacks, %llu still translated",
	      stuck, (unsigned long long)d.c[LPT_CNT_MISSES],
	      (unsigned long long)d.c[LPT_CNT_BAD_STRUCT],
	      (unsigned long long)d.c[LPT_CNT_FALLBACKS],
	      (unsigned long long)(d.c[LPT_CNT_LEAF_4K] + d.c[LPT_CNT_LEAF_2M] +
				   d.c[LPT_CNT_LEAF_1G]));
	check(d.c[LPT_CNT_MISMATCHES] == 0, "garbage_no_mismatch",
	      "%llu cross-checks, %llu mismatches",
	      (unsigned long long)d.c[LPT_CNT_CROSSCHECKS],
	      (unsigned long long)d.c[LPT_CNT_MISMATCHES]);
}

/* ---- setup ---- */

/* Write @val to a sysctl-like file, returning the old contents in @old. */
static int set_knob(const char *path, const char *val, char *old, size_t n)
{
	int fd = open(path, O_RDWR);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, old, n - 1);
	old[r > 0 ? r : 0] = 0;
	old[strcspn(old, "\n")] = 0;
	r = pwrite(fd, val, strlen(val), 0);
	close(fd);
	return r < 0 ? -1 : 0;
}

static void setup_memory(void)
{
	unsigned long i;
	uint8_t *h;

	pool_init();
	pool.npages = POOL_BYTES / PAGE_SIZE;
	for (i = 0; i < pool.npages; i++) {
		pool.pa[i] = virt_to_phys(pool.base + i * PAGE_SIZE);
		if (!pool.pa[i] || pool.pa[i] >= 1ULL << LPT_TABLE_PA_BITS) {
			errno = EPERM;
			bail("no physical address in /proc/self/pagemap");
		}
	}

	buf = map_locked(BUF_VA, NR_PAGES * PAGE_SIZE, 0, MAP_FIXED_NOREPLACE);
	for (i = 0; i < NR_PAGES; i++) {
		buf[i * PAGE_SIZE] = pattern(i);
		buf_pa[i] = virt_to_phys(buf + i * PAGE_SIZE);
		if (!buf_pa[i])
			bail("no physical address for the buffer");
	}

	/* The 2 MiB page: used only if it is one THP, physically aligned. */
	h = map_locked(HUGE_VA, HUGE_SIZE, 1, MAP_FIXED_NOREPLACE);
	huge_pa = virt_to_phys(h);
	for (i = 1; i < HUGE_SIZE / PAGE_SIZE && huge_pa; i++)
		if (virt_to_phys(h + i * PAGE_SIZE) != huge_pa + i * PAGE_SIZE)
			huge_pa = 0;
	if (huge_pa & (HUGE_SIZE - 1))
		huge_pa = 0;
	huge = huge_pa ? h : NULL;
}

int main(void)
{
	char old_writes[32] = "", old_compact[32] = "";
	struct lpt_snap s;
	unsigned long contig = 0, i;
	int have_compact, ret;
	cpu_set_t set;
	const char *seed = getenv("LPT_MMU_SEED");

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		bail("pinning to CPU 0");
	msr_fd = open("/dev/cpu/0/msr", O_RDWR);
	if (msr_fd < 0) {
		printf("1..0 # SKIP /dev/cpu/0/msr: %s\n", strerror(errno));
		return 4;
	}
	ret = lpt_snap_read(msr_fd, &s);
	if (ret == -ENODEV) {
		printf("1..0 # SKIP no LPT MSRs (QEMU without lpt=on)\n");
		return 4;
	}
	if (ret) {
		errno = -ret;
		bail("reading the LPT MSRs");
	}
	if (s.ctl & LPT_CTL_STRICT) {
		printf("1..0 # SKIP needs lpt-strict=off (misses must fall "
		       "back to the radix table)\n");
		return 4;
	}
	rng_state = seed ? strtoull(seed, NULL, 0) : 0x4c505455ULL;
	if (!rng_state)
		rng_state = 1;
	/* MSR writes without the kernel's warning; pages that stay put. */
	set_knob("/sys/module/msr/parameters/allow_writes", "on", old_writes,
		 sizeof(old_writes));
	have_compact = !set_knob("/proc/sys/vm/compact_unevictable_allowed",
				 "0", old_compact, sizeof(old_compact));
	if (signal(SIGALRM, on_alarm) == SIG_ERR)
		bail("signal");
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pagemap_fd < 0)
		bail("/proc/self/pagemap");
	setup_memory();
	for (i = 0; i < pool.npages; i++)
		contig += i && pool.pa[i] == pool.pa[i - 1] + PAGE_SIZE;

	printf("1..20\n");
	printf("# ctl %#llx (LWC %u entries, cross-check %s), seed %#llx, "
	       "buffer %lu pages at %#lx, 2M page %s, pool %lu pages (%lu "
	       "physically adjacent pairs)%s\n", (unsigned long long)s.ctl,
	       lpt_ctl_lwc_entries(s.ctl),
	       s.ctl & LPT_CTL_CROSSCHECK ? "on" : "off",
	       (unsigned long long)rng_state, NR_PAGES, BUF_VA,
	       huge ? "THP" : "none", pool.npages, contig,
	       have_compact ? "" : ", compaction knob missing");

	test_valid_table();
	test_read_only_msrs();
	test_reserved_roots();
	test_random_roots();
	test_garbage_structures();

	ret = write_root(0);
	check(!ret && read_root() == 0 && buffer_intact(), "root_restored",
	      "root 0 %s, buffer contents %s", ret ? "not written" : "written",
	      buffer_intact() ? "intact" : "CORRUPT");
	snap(&s);
	printf("# totals: %llu walks, %llu cross-checks, %llu mismatches\n",
	       (unsigned long long)s.c[LPT_CNT_WALKS],
	       (unsigned long long)s.c[LPT_CNT_CROSSCHECKS],
	       (unsigned long long)s.c[LPT_CNT_MISMATCHES]);

	lpt_destroy(table);
	if (old_writes[0])
		set_knob("/sys/module/msr/parameters/allow_writes", old_writes,
			 old_writes, sizeof(old_writes));
	if (have_compact)
		set_knob("/proc/sys/vm/compact_unevictable_allowed",
			 old_compact, old_compact, sizeof(old_compact));
	printf("# %s\n", failed ? "FAIL" : "PASS");
	return failed ? 1 : 0;
}
