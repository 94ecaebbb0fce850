// SPDX-License-Identifier: GPL-2.0
/*
 * lpt_test - the learned page table end to end: lpt.ko keeps this
 * process's LPT while the kernel changes its address space in every way
 * mm knows (mmap, munmap, mprotect, mremap, fork with COW, exec,
 * MADV_DONTNEED, THP fault/split/collapse, NUMA migration, KSM, swap under
 * a memory cgroup, threads), and the emulated MMU in strict mode serves
 * every user translation from the LPT while cross-checking each one
 * against the radix table.  Each scenario verifies the data it wrote and
 * then the MMU counters: LPT walks happened, no cross-check mismatch, and
 * no radix walk of a user address.  The last part runs 1000 enable/exit
 * cycles and checks lpt.ko's live allocation counters come back.
 * Needs QEMU with lpt=on,lpt-strict=on,lpt-crosscheck=on and root.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>

#include "lpt_util.h"

#define MiB		(1UL << 20)
#define PAGE		4096UL
#define HPAGE		(2 * MiB)
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif
#ifndef MPOL_MF_MOVE
#define MPOL_MF_MOVE	(1 << 1)
#endif

static struct lptu_counters snap;
static const char *self_exe = "/proc/self/exe";

/*
 * Each 8-byte word holds a value derived from its offset in the buffer and
 * a seed, so data that moves (mremap) keeps verifying.
 */
static uint64_t pattern(size_t off, uint64_t seed)
{
	uint64_t x = off ^ (seed * 0x9e3779b97f4a7c15ULL);

	x ^= x >> 29;
	return x * 0xbf58476d1ce4e5b9ULL;
}

static void fill(void *buf, size_t len, uint64_t seed)
{
	for (size_t off = 0; off < len; off += 64)
		*(uint64_t *)((char *)buf + off) = pattern(off, seed);
}

/*
 * Number of 64-byte strides of [@off, @off + @len) of the buffer at @base
 * whose first word is wrong.
 */
static size_t verify_at(const void *base, size_t off, size_t len,
			uint64_t seed)
{
	size_t bad = 0;

	for (size_t o = off; o < off + len; o += 64)
		bad += *(const uint64_t *)((const char *)base + o) !=
		       pattern(o, seed);
	return bad;
}

static size_t verify(const void *buf, size_t len, uint64_t seed)
{
	return verify_at(buf, 0, len, seed);
}

static size_t verify_zero(const void *buf, size_t len)
{
	size_t bad = 0;

	for (const uint64_t *p = buf; (const char *)p < (const char *)buf + len;
	     p += 8)
		bad += *p != 0;
	return bad;
}

static void *map_anon(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		bail("mmap");
	return p;
}

/* @len bytes aligned to 2 MiB. */
static void *map_aligned(size_t len)
{
	char *p = map_anon(len + HPAGE);
	char *a = (char *)(((uintptr_t)p + HPAGE - 1) & ~(HPAGE - 1));

	if (a > p)
		munmap(p, a - p);
	munmap(a + len, p + len + HPAGE - a - len);
	return a;
}

/*
 * Flush this CPU's TLB: unmapping more present pages than the kernel's
 * tlb_single_page_flush_ceiling (33) flushes all of it.
 */
static void flush_tlb(void)
{
	munmap(mmap(NULL, 64 * PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0),
	       64 * PAGE);
}

static void begin(void)
{
	if (lptu_read(&snap))
		bail("read LPT counters");
}

/*
 * The MMU-side verdict on everything since begin(): translations came from
 * the LPT (@min_walks at least), none disagreed with radix, and radix was
 * never walked for a user address.
 */
static int mmu_clean(const char *what, uint64_t min_walks)
{
	struct lptu_counters now, d;
	int ok;

	if (lptu_read(&now))
		bail("read LPT counters");
	lptu_delta(&d, &snap, &now);
	ok = d.c[LPT_CNT_WALKS] >= min_walks && !d.c[LPT_CNT_MISMATCHES] &&
	     !d.c[LPT_CNT_RADIX_USER] && d.c[LPT_CNT_CROSSCHECKS];
	tap(ok, "%s: mmu: %llu LPT walks (%llu 1-ref), %llu misses, %llu cross-checks, %llu mismatches, %llu radix user walks",
	    what, (unsigned long long)d.c[LPT_CNT_WALKS],
	    (unsigned long long)d.c[LPT_CNT_WALKS_1REF],
	    (unsigned long long)d.c[LPT_CNT_MISSES],
	    (unsigned long long)d.c[LPT_CNT_CROSSCHECKS],
	    (unsigned long long)d.c[LPT_CNT_MISMATCHES],
	    (unsigned long long)d.c[LPT_CNT_RADIX_USER]);
	return ok;
}

/* Run @fn(@arg) in a child; return its wait status. */
static int in_child(void (*fn)(void *), void *arg)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		bail("fork");
	if (!pid) {
		fn(arg);
		_exit(0);
	}
	if (waitpid(pid, &st, 0) < 0)
		bail("waitpid");
	return st;
}

static void touch_read(void *p)
{
	*(volatile uint64_t *)p;
}

static void touch_write(void *p)
{
	*(volatile uint64_t *)p = 1;
}

static int died_of_segv(int st)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

static void test_mmap_munmap(void)
{
	size_t len = 32 * MiB;
	char *p;
	int st;

	begin();
	p = map_anon(len);
	fill(p, len, 1);
	tap(!verify(p, len, 1), "mmap: 32 MiB written and read back");
	munmap(p + 8 * MiB, 8 * MiB);
	st = in_child(touch_read, p + 12 * MiB);
	tap(died_of_segv(st), "munmap: the unmapped middle faults (status %#x)",
	    st);
	/* New memory at the same address must not show the old frames. */
	if (mmap(p + 8 * MiB, 8 * MiB, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		bail("mmap fixed");
	tap(!verify_zero(p + 8 * MiB, 8 * MiB) && !verify(p, 8 * MiB, 1) &&
	    !verify_at(p, 16 * MiB, 16 * MiB, 1),
	    "munmap+mmap: remapped range reads zero, the rest is intact");
	munmap(p, len);
	mmu_clean("mmap/munmap", 8192);
}

static void test_mprotect(void)
{
	size_t len = 8 * MiB;
	char *p = map_anon(len);
	int st;

	begin();
	fill(p, len, 2);
	if (mprotect(p, len, PROT_READ))
		bail("mprotect");
	tap(!verify(p, len, 2), "mprotect RO: still readable");
	st = in_child(touch_write, p + 3 * MiB);
	tap(died_of_segv(st), "mprotect RO: a write faults (status %#x)", st);
	if (mprotect(p, len, PROT_NONE))
		bail("mprotect");
	st = in_child(touch_read, p + 5 * MiB);
	tap(died_of_segv(st), "mprotect NONE: a read faults (status %#x)", st);
	if (mprotect(p, len, PROT_READ | PROT_WRITE))
		bail("mprotect");
	fill(p, len, 3);
	tap(!verify(p, len, 3), "mprotect RW again: rewritten and read back");
	munmap(p, len);
	mmu_clean("mprotect", 2048);
}

static void test_mremap(void)
{
	size_t len = 8 * MiB;
	char *p = map_anon(len), *q;
	int st;

	begin();
	fill(p, len, 4);
	q = mremap(p, len, 2 * len, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		bail("mremap");
	tap(!verify(q, len, 4) && !verify_zero(q + len, len),
	    "mremap: moved data intact, grown part zero (%s)",
	    q == p ? "in place" : "moved");
	if (q != p) {
		st = in_child(touch_read, p + MiB);
		tap(died_of_segv(st), "mremap: old address faults (status %#x)",
		    st);
	}
	/* Force a move to a fixed spot and check again. */
	p = mmap(NULL, 2 * len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || mremap(q, 2 * len, 2 * len,
				      MREMAP_MAYMOVE | MREMAP_FIXED, p) != p)
		bail("mremap fixed");
	tap(!verify(p, len, 4), "mremap MREMAP_FIXED: data followed the move");
	st = in_child(touch_read, q + MiB);
	tap(died_of_segv(st), "mremap MREMAP_FIXED: source faults (status %#x)",
	    st);
	munmap(p, 2 * len);
	mmu_clean("mremap", 2048);
}

struct cow_arg {
	char *p;
	size_t len;
};

static void cow_child(void *arg)
{
	struct cow_arg *a = arg;

	if (prctl(PR_GET_LPT, 0, 0, 0, 0) != 3)
		_exit(10);
	if (verify(a->p, a->len, 5))
		_exit(11);
	fill(a->p, a->len, 6);
	if (verify(a->p, a->len, 6))
		_exit(12);
	_exit(0);
}

static void test_fork_cow(void)
{
	struct cow_arg a = { .len = 16 * MiB };
	int st;

	a.p = map_anon(a.len);
	begin();
	fill(a.p, a.len, 5);
	st = in_child(cow_child, &a);
	tap(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "fork: child has an LPT, sees the parent's data, writes its own copy (status %#x)",
	    st);
	tap(!verify(a.p, a.len, 5), "fork COW: parent's data unchanged");
	fill(a.p, a.len, 7);
	tap(!verify(a.p, a.len, 7), "fork COW: parent writes after the child exited");
	munmap(a.p, a.len);
	mmu_clean("fork+COW", 8192);
}

/* Runs in the exec'd image: the wish survived exec and the LPT works. */
static int exec_child_main(void)
{
	size_t len = 8 * MiB;
	char *p;

	if (prctl(PR_GET_LPT, 0, 0, 0, 0) != 3)
		return 20;
	p = map_anon(len);
	fill(p, len, 8);
	return verify(p, len, 8) ? 21 : 0;
}

static void test_exec(void)
{
	int st;
	pid_t pid;

	begin();
	pid = fork();
	if (pid < 0)
		bail("fork");
	if (!pid) {
		execl(self_exe, "lpt_test", "--exec-child", (char *)NULL);
		_exit(30);
	}
	waitpid(pid, &st, 0);
	tap(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "exec: new image has an LPT and its memory works (status %#x)", st);
	mmu_clean("exec", 2048);
}

static void test_dontneed(void)
{
	size_t len = 8 * MiB;
	char *p = map_anon(len);

	begin();
	fill(p, len, 9);
	if (madvise(p + 2 * MiB, 4 * MiB, MADV_DONTNEED))
		bail("madvise");
	tap(!verify(p, 2 * MiB, 9) && !verify_zero(p + 2 * MiB, 4 * MiB) &&
	    !verify_at(p, 6 * MiB, 2 * MiB, 9),
	    "MADV_DONTNEED: dropped range reads zero, the rest intact");
	munmap(p, len);
	mmu_clean("madvise(DONTNEED)", 2048);
}

/*
 * Fault-around: reading one page of a file in the page cache maps the
 * pages around it (fault_around_bytes, 64 KiB by default, aligned).  They
 * reach the LPT from update_mmu_cache_range() with the faulting page, so
 * touching them afterwards must not fault; without the early install each
 * faulted once more (an LPT miss is a #PF under the strict MMU, and the
 * kernel counts it as a minor fault).
 */
static void test_fault_around(void)
{
	const size_t len = 64 * 1024;
	char path[] = "/tmp/lpt_fa_XXXXXX", *win, *p;
	long long early = lptu_file_value(LPTU_STATS_PATH, "early_installs");
	long first, rest;
	struct rusage r0, r1, r2;
	int fd = mkstemp(path);

	if (fd < 0)
		bail("mkstemp");
	unlink(path);
	win = map_anon(2 * len);
	p = (char *)(((uintptr_t)win + len - 1) & ~(len - 1));
	fill(win, len, 21);
	if (write(fd, win, len) != (ssize_t)len)
		bail("write");
	if (mmap(p, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED)
		bail("mmap file");
	begin();
	getrusage(RUSAGE_SELF, &r0);
	touch_read(p);
	getrusage(RUSAGE_SELF, &r1);
	for (size_t off = PAGE; off < len; off += PAGE)
		touch_read(p + off);
	getrusage(RUSAGE_SELF, &r2);
	first = r1.ru_minflt - r0.ru_minflt;
	rest = r2.ru_minflt - r1.ru_minflt;
	tap(first == 1 && rest == 0 && !verify(p, len, 21),
	    "fault-around: 1 fault maps 64 KiB of a file; %ld for its first page, %ld for the other 15",
	    first, rest);
	early = lptu_file_value(LPTU_STATS_PATH, "early_installs") - early;
	tap(early >= 16,
	    "fault-around: %lld entries installed from update_mmu_cache_range()",
	    early);
	munmap(win, 2 * len);
	close(fd);
	mmu_clean("fault-around", 16);
}

static int thp_available(void)
{
	char buf[256];

	if (lptu_read_file("/sys/kernel/mm/transparent_hugepage/enabled", buf,
			   sizeof(buf)) < 0)
		return 0;
	if (strstr(buf, "[never]"))
		lptu_write_file("/sys/kernel/mm/transparent_hugepage/enabled",
				"madvise");
	return 1;
}

static void test_thp(void)
{
	size_t len = 8 * MiB;
	struct lptu_counters a, b;
	size_t bad;
	char *p;
	int r;

	if (!thp_available()) {
		tap(0, "THP: /sys/kernel/mm/transparent_hugepage missing");
		return;
	}
	p = map_aligned(len);
	if (madvise(p, len, MADV_HUGEPAGE))
		bail("madvise(HUGEPAGE)");
	begin();
	lptu_read(&a);
	fill(p, len, 10);
	bad = verify(p, len, 10);
	lptu_read(&b);
	tap(!bad && b.c[LPT_CNT_LEAF_2M] > a.c[LPT_CNT_LEAF_2M],
	    "THP: 8 MiB via huge pages, read back through 2M LPT entries (%llu 2M walks)",
	    (unsigned long long)(b.c[LPT_CNT_LEAF_2M] - a.c[LPT_CNT_LEAF_2M]));
	/* Split one huge page by punching a 4K hole into it. */
	if (munmap(p + HPAGE + 5 * PAGE, PAGE))
		bail("munmap hole");
	tap(!verify_at(p, HPAGE, 5 * PAGE, 10) &&
	    !verify_at(p, HPAGE + 6 * PAGE, HPAGE - 6 * PAGE, 10) &&
	    died_of_segv(in_child(touch_read, p + HPAGE + 5 * PAGE)),
	    "THP split: data around the 4K hole intact, the hole faults");
	/* Collapse a 4K-populated range back into a huge page. */
	if (madvise(p + 2 * HPAGE, HPAGE, MADV_NOHUGEPAGE) ||
	    madvise(p + 2 * HPAGE, HPAGE, MADV_DONTNEED))
		bail("madvise");
	fill(p + 2 * HPAGE, HPAGE, 11);
	madvise(p + 2 * HPAGE, HPAGE, MADV_HUGEPAGE);
	lptu_read(&a);
	r = madvise(p + 2 * HPAGE, HPAGE, MADV_COLLAPSE);
	bad = verify(p + 2 * HPAGE, HPAGE, 11);
	lptu_read(&b);
	tap(!bad && (r || b.c[LPT_CNT_LEAF_2M] > a.c[LPT_CNT_LEAF_2M]),
	    "THP collapse: MADV_COLLAPSE %s, data intact, %llu 2M walks after",
	    r ? strerror(errno) : "done",
	    (unsigned long long)(b.c[LPT_CNT_LEAF_2M] - a.c[LPT_CNT_LEAF_2M]));
	if (r)
		tap(0, "THP collapse: MADV_COLLAPSE failed: %s", strerror(errno));
	munmap(p, len);
	mmu_clean("THP", 1024);
}

static void test_migration(void)
{
	enum { N = 256 };
	char *p = map_anon(N * PAGE);
	void *pages[N];
	int nodes[N], status[N], moved = 0;

	begin();
	fill(p, N * PAGE, 12);
	for (int target = 1; target >= 0; target--) {
		for (int i = 0; i < N; i++) {
			pages[i] = p + i * PAGE;
			nodes[i] = target;
			status[i] = -1;
		}
		if (syscall(SYS_move_pages, 0, N, pages, nodes, status,
			    MPOL_MF_MOVE)) {
			tap(0, "migration: move_pages to node %d: %s", target,
			    strerror(errno));
			munmap(p, N * PAGE);
			return;
		}
		moved = 0;
		for (int i = 0; i < N; i++)
			moved += status[i] == target;
		tap(moved == N && !verify(p, N * PAGE, 12),
		    "migration: %d/%d pages now on node %d, data intact",
		    moved, N, target);
	}
	fill(p, N * PAGE, 13);
	tap(!verify(p, N * PAGE, 13), "migration: written after moving back");
	munmap(p, N * PAGE);
	mmu_clean("migration", 512);
}

static void test_ksm(void)
{
	size_t n = 256, len = n * PAGE;
	char *p = map_anon(len), *q = map_anon(len);
	long long sharing = 0;
	double t0;

	if (access("/sys/kernel/mm/ksm/run", F_OK)) {
		tap(0, "KSM: /sys/kernel/mm/ksm missing");
		return;
	}
	begin();
	for (size_t i = 0; i < len; i += 8)
		p[i] = q[i] = (char)(i / PAGE % 7);
	if (madvise(p, len, MADV_MERGEABLE) || madvise(q, len, MADV_MERGEABLE))
		bail("madvise(MERGEABLE)");
	lptu_write_file("/sys/kernel/mm/ksm/pages_to_scan", "4000");
	lptu_write_file("/sys/kernel/mm/ksm/sleep_millisecs", "10");
	lptu_write_file("/sys/kernel/mm/ksm/run", "1");
	for (t0 = now_s(); now_s() - t0 < 60; usleep(50000)) {
		sharing = lptu_file_value("/sys/kernel/mm/ksm/pages_sharing",
					  "");
		if (sharing < 0) {
			char buf[64];

			lptu_read_file("/sys/kernel/mm/ksm/pages_sharing", buf,
				       sizeof(buf));
			sharing = atoll(buf);
		}
		if (sharing >= (long long)n)
			break;
	}
	{
		size_t bad = 0;

		for (size_t i = 0; i < len; i += 8)
			bad += p[i] != (char)(i / PAGE % 7) ||
			       q[i] != (char)(i / PAGE % 7);
		tap(sharing > 0 && !bad,
		    "KSM: %lld pages merged, contents intact (%zu bad)",
		    sharing, bad);
		/* Break COW on the merged pages of one copy only. */
		for (size_t i = 0; i < len; i += PAGE)
			p[i] = 0x55;
		bad = 0;
		for (size_t i = 0; i < len; i += 8)
			bad += q[i] != (char)(i / PAGE % 7) ||
			       p[i] != (i % PAGE ? (char)(i / PAGE % 7) : 0x55);
		tap(!bad, "KSM: writes to one copy unshare it, the other unchanged (%zu bad)",
		    bad);
	}
	lptu_write_file("/sys/kernel/mm/ksm/run", "2");
	munmap(p, len);
	munmap(q, len);
	mmu_clean("KSM", 256);
}

/* A zram swap device, made by hand (no mkswap in the guest). */
static int swap_on_zram(void)
{
	static int done;
	unsigned char hdr[PAGE];
	uint32_t last = (uint32_t)(256 * MiB / PAGE - 1), one = 1;
	int fd;

	if (done)
		return 0;
	if (lptu_write_file("/sys/block/zram0/disksize", "256M"))
		return -1;
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr + 1024, &one, 4);		/* version */
	memcpy(hdr + 1028, &last, 4);		/* last_page */
	memcpy(hdr + PAGE - 10, "SWAPSPACE2", 10);
	fd = open("/dev/zram0", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || pwrite(fd, hdr, PAGE, 0) != PAGE)
		return -1;
	close(fd);
	if (swapon("/dev/zram0", 0))
		return -1;
	done = 1;
	return 0;
}

/* kB of this process's memory in swap (VmSwap in /proc/self/status). */
static long long vm_swap_kb(void)
{
	return lptu_file_value("/proc/self/status", "VmSwap");
}

static void pressure_child(void *arg)
{
	size_t len = 96 * MiB;
	char *p = map_anon(len);

	fill(p, len, 14);
	*(long long *)arg = vm_swap_kb();
	/* Twice, so pages come back from swap and go out again. */
	for (int round = 0; round < 2; round++)
		if (verify(p, len, 14))
			_exit(40 + round);
	_exit(0);
}

static void test_pressure(void)
{
	const char *cg = "/sys/fs/cgroup/lpt-pressure";
	long long *swapped;
	char pid[32];
	int st;
	pid_t c;

	if (swap_on_zram()) {
		tap(0, "pressure: zram swap: %s", strerror(errno));
		return;
	}
	mkdir("/sys/fs/cgroup", 0755);
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK))
		mount("none", "/sys/fs/cgroup", "cgroup2", 0, NULL);
	lptu_write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory");
	mkdir(cg, 0755);
	if (lptu_write_file("/sys/fs/cgroup/lpt-pressure/memory.max", "32M")) {
		tap(0, "pressure: memory.max: %s", strerror(errno));
		return;
	}
	swapped = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (swapped == MAP_FAILED)
		bail("mmap shared");
	*swapped = -1;
	begin();
	c = fork();
	if (c < 0)
		bail("fork");
	if (!c) {
		snprintf(pid, sizeof(pid), "%d", getpid());
		if (lptu_write_file("/sys/fs/cgroup/lpt-pressure/cgroup.procs",
				    pid))
			_exit(50);
		pressure_child(swapped);
	}
	waitpid(c, &st, 0);
	tap(WIFEXITED(st) && WEXITSTATUS(st) == 0 && *swapped > 0,
	    "pressure: 96 MiB in a 32 MiB memcg, %lld KiB in swap after writing, read back twice (status %#x)",
	    *swapped, st);
	munmap(swapped, PAGE);
	rmdir(cg);
	mmu_clean("memory pressure", 8192);
}

struct churn_arg {
	int id;
	int bad;
};

static void *churn_thread(void *arg)
{
	struct churn_arg *a = arg;

	for (int i = 0; i < 60; i++) {
		size_t len = (size_t)(1 + (i + a->id) % 7) * MiB;
		char *p = map_anon(len);

		fill(p, len, 100 + a->id * 1000 + i);
		if (i % 3 == 0 && mprotect(p, len / 2, PROT_READ))
			a->bad++;
		a->bad += verify(p, len, 100 + a->id * 1000 + i) != 0;
		munmap(p, len);
	}
	return NULL;
}

static void test_threads(void)
{
	pthread_t t[3];
	struct churn_arg a[3];
	int bad = 0;

	begin();
	for (int i = 0; i < 3; i++) {
		a[i] = (struct churn_arg){ .id = i };
		if (pthread_create(&t[i], NULL, churn_thread, &a[i]))
			bail("pthread_create");
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		bad += a[i].bad;
	}
	tap(!bad, "threads: 3 threads x 60 map/fill/mprotect/verify/unmap rounds (%d bad)",
	    bad);
	mmu_clean("threads", 8192);
}

/* Run @argv with stdout to @out (or inherited); return the wait status. */
static int run_prog(char *const argv[], const char *out)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		bail("fork");
	if (!pid) {
		if (out) {
			int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fd < 0 || dup2(fd, 1) < 0)
				_exit(126);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	return st;
}

/*
 * An unmodified multi-threaded Debian program (xz with two threads,
 * dynamically linked) compresses and decompresses 12 MiB with every user
 * translation served by the LPT.
 */
static void test_debian_program(void)
{
	char *const comp[] = { "/usr/bin/xz", "-T2", "-1", "-k", "-f",
			       "/tmp/lpt-xz.bin", NULL };
	char *const decomp[] = { "/usr/bin/xz", "-d", "-c",
				 "/tmp/lpt-xz.bin.xz", NULL };
	size_t len = 12 * MiB, same = 0;
	char *p = map_anon(len), *q;
	int fd, st1, st2;
	ssize_t n;

	if (access(comp[0], X_OK)) {
		tap(0, "xz: %s not in the guest", comp[0]);
		return;
	}
	/* Half compressible, half not, so xz works on several blocks. */
	fill(p, len / 2, 17);
	for (size_t i = len / 2; i < len; i++)
		p[i] = (char)(i / 4096 % 13);
	fd = open("/tmp/lpt-xz.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, p, len) != (ssize_t)len)
		bail("write /tmp/lpt-xz.bin");
	close(fd);
	begin();
	st1 = run_prog(comp, NULL);
	st2 = run_prog(decomp, "/tmp/lpt-xz.out");
	q = map_anon(len);
	fd = open("/tmp/lpt-xz.out", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, q, len);
	if (fd >= 0)
		close(fd);
	same = n == (ssize_t)len && !memcmp(p, q, len);
	tap(WIFEXITED(st1) && !WEXITSTATUS(st1) && WIFEXITED(st2) &&
	    !WEXITSTATUS(st2) && same,
	    "xz -T2: 12 MiB compressed and decompressed under strict LPT, output identical (status %#x, %#x)",
	    st1, st2);
	mmu_clean("xz -T2", 100000);
	unlink("/tmp/lpt-xz.bin");
	unlink("/tmp/lpt-xz.bin.xz");
	unlink("/tmp/lpt-xz.out");
	munmap(p, len);
	munmap(q, len);
}

/* Lines of the kernel log that contain both @a and @b. */
static int klog_count(const char *a, const char *b)
{
	static char buf[1 << 20];
	int n = klogctl(3, buf, sizeof(buf) - 1), count = 0;
	char *line, *save;

	if (n < 0)
		return -1;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		count += strstr(line, a) && strstr(line, b);
	return count;
}

/*
 * Scatter @n single pages over the whole user address space (no linear
 * model covers them within the ABI's limits), then ask for an LPT.  Exit
 * status: 0 fell back cleanly (prctl failed or no root published, memory
 * still right), 1 an LPT was built after all, 2 data or mapping trouble.
 */
static void scatter_child(void *arg)
{
	int n = (int)(uintptr_t)arg, r, g;
	uint64_t x = 0x2545f4914f6cdd1dULL;
	char **pages = calloc(n, sizeof(*pages));

	if (!pages || prctl(PR_SET_LPT, 0, 0, 0, 0))
		_exit(2);
	for (int i = 0; i < n; i++) {
		void *want;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		want = (void *)((0x10000000000ULL + x % 0x6f0000000000ULL) &
				~(PAGE - 1));
		pages[i] = mmap(want, PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS |
				MAP_FIXED_NOREPLACE, -1, 0);
		if (pages[i] == MAP_FAILED)
			pages[i] = map_anon(PAGE);
		*(uint64_t *)pages[i] = (uintptr_t)pages[i] ^ 0x5a5a;
	}
	r = prctl(PR_SET_LPT, 1, 0, 0, 0);
	g = prctl(PR_GET_LPT, 0, 0, 0, 0);
	for (int i = 0; i < n; i++)
		if (*(uint64_t *)pages[i] != ((uintptr_t)pages[i] ^ 0x5a5a))
			_exit(2);
	_exit(r == 0 && (g & 2) ? 1 : 0);
}

static void test_fallback(int n)
{
	const char *line = "using the radix page table, no LPT";
	int before, after, st;
	long long fb0 = lptu_file_value(LPTU_STATS_PATH, "fallbacks"), fb1;
	pid_t pid;

	before = klog_count(line, "");
	pid = fork();
	if (pid < 0)
		bail("fork");
	if (!pid)
		scatter_child((void *)(uintptr_t)n);
	waitpid(pid, &st, 0);
	after = klog_count(line, "");
	fb1 = lptu_file_value(LPTU_STATS_PATH, "fallbacks");
	tap(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "fallback: %d scattered pages, no LPT can index them: the process runs on radix (status %#x)",
	    n, st);
	tap(after - before == 1 && fb1 == fb0 + 1,
	    "fallback: one kernel log line (%d) and one counted fallback (%lld -> %lld)",
	    after - before, fb0, fb1);
}

static void cycle_child(void *arg)
{
	char *p = map_anon(16 * PAGE);

	(void)arg;
	fill(p, 16 * PAGE, 15);
	if (verify(p, 16 * PAGE, 15) || prctl(PR_GET_LPT, 0, 0, 0, 0) != 3)
		_exit(1);
	_exit(0);
}

static void test_cycles(void)
{
	long long mms0, bytes0, mms1 = -1, bytes1 = -1;
	int fails = 0, n = 1000;
	double t0 = now_s();

	mms0 = lptu_file_value(LPTU_STATS_PATH, "live_mms");
	bytes0 = lptu_file_value(LPTU_STATS_PATH, "live_bytes");
	for (int i = 0; i < n; i++) {
		int st = in_child(cycle_child, NULL);

		fails += !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		if (i % 250 == 249)
			fprintf(stderr, "# cycles: %d/%d (%.1fs)\n", i + 1, n,
				now_s() - t0);
	}
	/* Teardown of an exited mm may finish in a worker: give it time. */
	for (double t = now_s(); now_s() - t < 10; usleep(100000)) {
		mms1 = lptu_file_value(LPTU_STATS_PATH, "live_mms");
		bytes1 = lptu_file_value(LPTU_STATS_PATH, "live_bytes");
		if (mms1 == mms0 && bytes1 == bytes0)
			break;
	}
	tap(!fails, "cycles: %d fork/enable/touch/exit cycles succeeded (%d failed)",
	    n, fails);
	tap(mms0 >= 0 && bytes0 >= 0 && mms1 == mms0 && bytes1 == bytes0,
	    "cycles: lpt.ko live mms %lld -> %lld, live bytes %lld -> %lld",
	    mms0, mms1, bytes0, bytes1);
}

static void test_disable_enable(void)
{
	size_t len = 4 * MiB;
	char *p = map_anon(len);
	int r0, r1, g;

	fill(p, len, 16);
	r0 = prctl(PR_SET_LPT, 0, 0, 0, 0);
	g = prctl(PR_GET_LPT, 0, 0, 0, 0);
	tap(r0 == 0 && g == 0 && !verify(p, len, 16),
	    "PR_SET_LPT 0: LPT off (get %d), memory works on radix", g);
	r1 = prctl(PR_SET_LPT, 1, 0, 0, 0);
	g = prctl(PR_GET_LPT, 0, 0, 0, 0);
	/*
	 * The new root leaves the TLB alone (the radix translations in it
	 * are still right): flush it, so that verify() walks the new table.
	 */
	flush_tlb();
	begin();
	tap(r1 == 0 && g == 3 && !verify(p, len, 16),
	    "PR_SET_LPT 1: rebuilt from the live page tables (get %d)", g);
	mmu_clean("re-enable", 1024);
	errno = 0;
	tap(prctl(PR_SET_LPT, 2, 0, 0, 0) == -1 && errno == EINVAL &&
	    prctl(PR_SET_LPT, 1, 1, 0, 0) == -1 && errno == EINVAL,
	    "PR_SET_LPT with bad arguments: EINVAL");
	munmap(p, len);
}

int main(int argc, char **argv)
{
	uint64_t ctl;
	int r, g;

	if (argc > 1 && !strcmp(argv[1], "--exec-child"))
		return exec_child_main();
	setvbuf(stdout, NULL, _IOLBF, 0);
	ctl = lptu_ctl();
	if (!(ctl & LPT_CTL_VERSION_MASK) || !(ctl & LPT_CTL_STRICT) ||
	    !(ctl & LPT_CTL_CROSSCHECK)) {
		printf("Bail out! the MMU must run with lpt=on,lpt-strict=on,lpt-crosscheck=on (LPT_CTL %#llx)\n",
		       (unsigned long long)ctl);
		return 1;
	}
	r = lptu_load_module(NULL);
	if (r) {
		errno = -r;
		bail("load /lib/modules/extra/lpt.ko");
	}
	printf("TAP version 13\n");
	r = prctl(PR_SET_LPT, 1, 0, 0, 0);
	g = prctl(PR_GET_LPT, 0, 0, 0, 0);
	tap(r == 0 && g == 3, "PR_SET_LPT 1: this process has an LPT (get %d)",
	    g);
	if (r)
		bail("PR_SET_LPT");

	if (argc > 2 && !strcmp(argv[1], "--fallback")) {
		test_fallback(atoi(argv[2]));
		printf("1..%d\n", lptu_tap_run);
		return lptu_tap_failed ? 1 : 0;
	}
	test_mmap_munmap();
	test_mprotect();
	test_mremap();
	test_fork_cow();
	test_exec();
	test_dontneed();
	test_fault_around();
	test_thp();
	test_migration();
	test_ksm();
	test_threads();
	test_debian_program();
	test_pressure();
	test_disable_enable();
	test_fallback(20000);
	test_cycles();

	printf("1..%d\n", lptu_tap_run);
	return lptu_tap_failed ? 1 : 0;
}
