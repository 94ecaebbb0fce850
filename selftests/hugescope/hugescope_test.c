// SPDX-License-Identifier: GPL-2.0
/*
 * hugescope_test - ground-truth test of hugescope.ko, run as an L1 VMM.
 *
 * The L2 guest (built as in selftests/kvm/nested_smoke_test.c: 64-bit, 2M
 * identity map) first reads every 4K page of every test region once, then
 * loops forever reading a fixed list of pages: all 512 pages of the "hot"
 * regions and k chosen pages of each "skewed" region (several k).  The
 * "cold" regions are never read again.  Guest memory is an anonymous
 * mapping with MADV_HUGEPAGE, pre-faulted by the VMM, so stage 2 maps it
 * with 2M leaves.  The test attaches hugescope for one coarse + fine cycle
 * and checks:
 *  - the class of every test region (cold / hot / skewed) and, for skewed
 *    and hot regions, exactly which 4K pages are hot (accuracy per class);
 *  - that the fine phase split regions (pages_4k rose while sampling) and
 *    the merge restored pages_2m/pages_4k exactly;
 *  - that the guest took no stage-2 fault (vCPU pf_taken) while split or
 *    after the merge, i.e. split and merge happened in place;
 *  - clear errors for bad input: a non-VM fd, a bad fd, absurd parameters
 *    (including bad threshold bounds, collapse margin, bounds without a
 *    budget), double attach, reading or detaching while detached;
 *  - the adaptive split threshold over several fine phases: with a budget
 *    below the hot footprint it rises to its upper bound, with a large one
 *    it falls to its lower bound (and the collapse rule keeps a skewed
 *    region skewed), without a budget it stays at the ATTACH value and the
 *    reported footprint matches the ground truth;
 *  - safety mid-phase: detach (everything merged), module unload refused,
 *    host THP split, dirty logging toggled, memslot deleted, VM destroyed
 *    while split.
 * It reports the cost of split and merge calls and the metadata per tracked
 * GiB.  It cannot check exit-freedom in wall time: TCG timing is too noisy,
 * so costs are printed, not asserted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include "hugescope_uapi.h"
#include "l1vmm.h"
#include "hs_vm.h"

#define MB		(1UL << 20)
#define REGION		(2 * MB)
#define GUEST_MEM_SIZE	(32 * MB)	/* one memslot, 2M aligned */
#define CODE_GPA	0x8000UL
#define ITER_GPA	0x9000UL	/* loop counter written by L2 */
#define WARM_N_GPA	0x9008UL
#define HOT_N_GPA	0x9010UL
#define WARM_GPA	0x20000UL	/* list of GPAs read once */
#define HOT_GPA		0x40000UL	/* list of GPAs read forever */
#define DONE_PORT	0x10
#define PAGES		512

enum { COLD, HOT, SKEWED, NR_CLASSES };
static const char * const class_name[] = { "cold", "hot", "skewed" };

/* Test regions, from GPA 4M: class and number of hot 4K pages. */
static const struct { int class; int k; } layout[] = {
	{ COLD, 0 }, { COLD, 0 }, { COLD, 0 },
	{ HOT, PAGES }, { HOT, PAGES }, { HOT, PAGES },
	{ SKEWED, 1 }, { SKEWED, 4 }, { SKEWED, 16 }, { SKEWED, 32 },
	{ SKEWED, 64 }, { SKEWED, 8 },
	{ HOT, PAGES }, { COLD, 0 },
};
#define NR_REGIONS	(sizeof(layout) / sizeof(layout[0]))
#define FIRST_GPA	(4 * MB)

static uint8_t *mem;
static int vcpu_fd;
static struct kvm_run *run;
static size_t run_size;
static volatile int warm_done, vcpu_error, vcpu_stop;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Page j of a skewed region with k hot pages: a spread, distinct set. */
static int hot_page(int j)
{
	return (j * 37 + 5) % PAGES;
}

static int is_hot_page(int r, int page)
{
	int j;

	for (j = 0; j < layout[r].k; j++)
		if (hot_page(j) == page)
			return 1;
	return 0;
}

static uint64_t region_gpa(int r)
{
	return FIRST_GPA + (uint64_t)r * REGION;
}

static void write_guest(void)
{
	uint64_t *warm = (uint64_t *)(mem + WARM_GPA);
	uint64_t *hot = (uint64_t *)(mem + HOT_GPA);
	uint64_t nwarm = 0, nhot = 0;
	unsigned int r, i;

	l1vmm_identity_map_1g(mem);

	for (r = 0; r < NR_REGIONS; r++) {
		for (i = 0; i < PAGES; i++)
			warm[nwarm++] = region_gpa(r) + i * 4096UL;
		if (layout[r].class == COLD)
			continue;
		for (i = 0; i < (unsigned int)layout[r].k; i++)
			hot[nhot++] = region_gpa(r) +
				      (layout[r].class == HOT ? (int)i : hot_page(i)) * 4096UL;
	}
	memcpy(mem + WARM_N_GPA, &nwarm, 8);
	memcpy(mem + HOT_N_GPA, &nhot, 8);

	hs_vm_emit_warm_hot_loop(mem + CODE_GPA, WARM_GPA, WARM_N_GPA, HOT_GPA,
				 HOT_N_GPA, ITER_GPA, DONE_PORT);
}

static void *vcpu_thread(void *arg)
{
	(void)arg;
	for (;;) {
		if (vcpu_stop)
			return NULL;
		if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR && vcpu_stop)
				return NULL;
			if (errno == EINTR)
				continue;
			vcpu_error = errno;
			return NULL;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == DONE_PORT) {
			warm_done = 1;
			continue;
		}
		vcpu_error = 1000 + run->exit_reason;
		return NULL;
	}
}

static int attach(int hs, int vm_fd, struct hugescope_attach *a)
{
	a->vm_fd = vm_fd;
	return ioctl(hs, HUGESCOPE_IOC_ATTACH, a) ? errno : 0;
}

static int summary(int hs, struct hugescope_summary *s)
{
	return ioctl(hs, HUGESCOPE_IOC_SUMMARY, s) ? errno : 0;
}

static void check_errors(int hs, int kvm, int vm)
{
	struct hugescope_attach a = { 0 };
	struct hugescope_summary s = { 0 };
	int ok;

	tap_report(attach(hs, kvm, &a) == ENOTTY, "ATTACH of /dev/kvm (not a VM fd) is ENOTTY");
	tap_report(attach(hs, vcpu_fd, &a) == ENOTTY, "ATTACH of a vCPU fd is ENOTTY");
	tap_report(attach(hs, -1, &a) == EBADF, "ATTACH of fd -1 is EBADF");
	a.coarse_period_ms = 1;
	tap_report(attach(hs, vm, &a) == EINVAL, "ATTACH with a 1 ms period is EINVAL");
	memset(&a, 0, sizeof(a));
	a.reserved[1] = 1;
	tap_report(attach(hs, vm, &a) == EINVAL, "ATTACH with reserved bits is EINVAL");

	/* Adaptive threshold: bounds and budget. */
	memset(&a, 0, sizeof(a));
	a.fast_budget_4k = 1000;
	a.threshold_min = 100;
	a.threshold_max = 50;
	tap_report(attach(hs, vm, &a) == EINVAL, "ATTACH with threshold_min > threshold_max is EINVAL");
	a.threshold_min = 0;
	a.threshold_max = PAGES + 1;
	tap_report(attach(hs, vm, &a) == EINVAL, "ATTACH with threshold_max 513 is EINVAL");
	a.threshold_max = 0;
	a.split_threshold = 300;
	tap_report(attach(hs, vm, &a) == EINVAL,
		   "ATTACH with a budget and split_threshold 300 > max 250 is EINVAL");
	a.split_threshold = 0;
	a.collapse_delta = PAGES + 1;
	tap_report(attach(hs, vm, &a) == EINVAL, "ATTACH with collapse_delta 513 is EINVAL");
	memset(&a, 0, sizeof(a));
	a.threshold_max = 100;
	tap_report(attach(hs, vm, &a) == EINVAL,
		   "ATTACH with threshold bounds but no budget is EINVAL");
	/* A default threshold outside explicit bounds starts clamped. */
	a.fast_budget_4k = 1000;
	a.threshold_min = 5;
	a.threshold_max = 8;
	ok = attach(hs, vm, &a) == 0 && summary(hs, &s) == 0;
	ok = ok && ioctl(hs, HUGESCOPE_IOC_DETACH) == 0;
	tap_report(ok && s.split_threshold == 8 && s.collapse_threshold == 58 &&
		   s.fast_budget_4k == 1000,
		   "ATTACH with a budget and bounds 5..8 starts at threshold %u (collapse %u)",
		   s.split_threshold, s.collapse_threshold);
	tap_report(summary(hs, &s) == ENOENT, "SUMMARY while detached is ENOENT");
	tap_report(ioctl(hs, HUGESCOPE_IOC_DETACH) < 0 && errno == ENOENT,
	       "DETACH while detached is ENOENT");
}

static void on_signal(int sig)
{
	(void)sig;
}

/* Load hugescope.ko if /dev/hugescope is missing; true if we loaded it. */
static int load_module(void)
{
	int fd = open("/lib/modules/extra/hugescope.ko", O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return 0;
	r = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return r == 0;
}

/* Attach with short phases and wait until the fine phase has split. */
static int attach_until_fine(int hs, int vm)
{
	struct hugescope_attach a = {
		.coarse_period_ms = 50, .coarse_rounds = 2, .hot_rounds = 2,
		.fine_window_ms = 50, .fine_windows = 4,
	};
	struct hugescope_summary s;
	double t;

	if (attach(hs, vm, &a))
		return 0;
	for (t = now_s(); now_s() - t < 60; usleep(10000))
		if (!summary(hs, &s) && s.state == HUGESCOPE_STATE_FINE)
			return 1;
	return 0;
}

static int set_dirty_log(int vm, int on)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_MEM_SIZE,
		.userspace_addr = (uintptr_t)mem,
		.flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
	};

	return ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region);
}

/*
 * Tracking must be safe at any moment: detach, dirty logging, memslot
 * deletion, VM destruction and module unload while regions are split.
 */
static void check_mid_phase(int hs, int vm, int vm_stats, int vcpu_stats,
			    pthread_t thread, uint64_t pages_2m0, uint64_t pages_4k0)
{
	struct kvm_userspace_memory_region gone = { .slot = 0 };
	struct hugescope_summary s;
	uint64_t iters;
	double t;
	int ok, err;

	ok = attach_until_fine(hs, vm);
	tap_report(ok, "re-ATTACH reaches the fine phase");
	/* The open file pins the module: the unload is refused, not waited for. */
	err = syscall(SYS_delete_module, "hugescope", O_NONBLOCK) < 0 ? errno : 0;
	tap_report(err == EWOULDBLOCK || err == EBUSY,
	       "module unload while attached is refused (%s)", strerror(err));
	tap_report(ioctl(hs, HUGESCOPE_IOC_DETACH) == 0, "DETACH in the fine phase");
	tap_report(hs_vm_stat_tap(vm_stats, "pages_2m") == pages_2m0 &&
	       hs_vm_stat_tap(vm_stats, "pages_4k") == pages_4k0,
	       "DETACH mid-phase merged everything (pages_2m %llu, pages_4k %llu)",
	       (unsigned long long)hs_vm_stat_tap(vm_stats, "pages_2m"),
	       (unsigned long long)hs_vm_stat_tap(vm_stats, "pages_4k"));

	/*
	 * Split a host THP under a split region: unmapping one 4K page makes
	 * the host split the PMD, and the MMU notifier zaps the children.
	 * The merge must then refuse (the host maps 4K) and the guest go on.
	 */
	ok = attach_until_fine(hs, vm);
	iters = *(volatile uint64_t *)(mem + ITER_GPA);
	ok = ok && madvise(mem + region_gpa(3) + 7 * 4096, 4096, MADV_DONTNEED) == 0;
	usleep(500000);
	ok = ok && ioctl(hs, HUGESCOPE_IOC_DETACH) == 0 && !vcpu_error;
	usleep(200000);
	tap_report(ok && *(volatile uint64_t *)(mem + ITER_GPA) > iters,
	       "host THP split mid-phase: detach ok, L2 still runs (pages_2m %llu)",
	       (unsigned long long)hs_vm_stat_tap(vm_stats, "pages_2m"));

	ok = attach_until_fine(hs, vm);
	ok = ok && set_dirty_log(vm, 1) == 0;
	usleep(300000);
	ok = ok && set_dirty_log(vm, 0) == 0;
	usleep(300000);
	ok = ok && summary(hs, &s) == 0 && !vcpu_error;
	tap_report(ok, "dirty logging toggled mid-phase (%llu merges, %llu refused)",
	       (unsigned long long)s.merges, (unsigned long long)s.merge_failures);
	tap_report(ioctl(hs, HUGESCOPE_IOC_DETACH) == 0, "DETACH after dirty logging");

	ok = attach_until_fine(hs, vm);
	vcpu_stop = 1;
	run->immediate_exit = 1;
	pthread_kill(thread, SIGUSR1);
	pthread_join(thread, NULL);
	ok = ok && ioctl(vm, KVM_SET_USER_MEMORY_REGION, &gone) == 0;
	usleep(300000);
	tap_report(ok && summary(hs, &s) == 0, "memslot deleted mid-phase (state %u)", s.state);
	/* Drop every reference the VMM holds: fds, stats fds, kvm_run. */
	munmap(run, run_size);
	close(vcpu_fd);
	close(vcpu_stats);
	close(vm_stats);
	close(vm);
	for (t = now_s(); now_s() - t < 30; usleep(20000))
		if (!summary(hs, &s) && s.state == HUGESCOPE_STATE_VM_GONE)
			break;
	tap_report(s.state == HUGESCOPE_STATE_VM_GONE,
	       "VM destroyed mid-phase: tracker let it go (state %u)", s.state);
	tap_report(ioctl(hs, HUGESCOPE_IOC_DETACH) == 0, "DETACH after the VM is gone");
}

#define ADAPT_PHASES	3

/*
 * One adaptive run: attach with short phases for @phases fine phases and
 * record the threshold after each (seq[0] before the first).  Returns the
 * number of thresholds recorded; *@s is the final summary, *@cls the class
 * of each test region at the end.
 */
static int adapt_run(int hs, int vm, struct hugescope_attach *a, uint32_t phases,
		     uint32_t *seq, struct hugescope_summary *s, int *cls)
{
	static struct hugescope_region recs[64];
	struct hugescope_read rd = { 0 };
	uint64_t seen = 0;
	unsigned int r, i;
	int n = 0;
	double t;

	a->coarse_period_ms = 100;
	a->coarse_rounds = 2;
	a->hot_rounds = 2;
	a->fine_window_ms = 100;
	a->fine_windows = 3;
	a->max_cycles = phases;
	memset(s, 0, sizeof(*s));
	if (attach(hs, vm, a) || summary(hs, s))
		return 0;
	seq[n++] = s->split_threshold;
	for (t = now_s(); now_s() - t < 180; usleep(10000)) {
		if (summary(hs, s))
			break;
		/* SUMMARY and the adaptation both run under the tracker's lock. */
		if (s->fine_phases > seen && n <= ADAPT_PHASES) {
			seen = s->fine_phases;
			seq[n++] = s->split_threshold;
		}
		if (s->state == HUGESCOPE_STATE_IDLE)
			break;
	}
	rd.regions = (uintptr_t)recs;
	rd.nr = sizeof(recs) / sizeof(recs[0]);
	if (ioctl(hs, HUGESCOPE_IOC_READ, &rd))
		rd.nr = 0;
	for (r = 0; r < NR_REGIONS; r++) {
		cls[r] = -1;
		for (i = 0; i < rd.nr; i++)
			if (recs[i].gfn * 4096 == region_gpa(r))
				cls[r] = recs[i].class;
	}
	if (ioctl(hs, HUGESCOPE_IOC_DETACH))
		return 0;
	printf("# adaptive: budget %u, min %u, max %u (0: default), thresholds",
	       a->fast_budget_4k, a->threshold_min, a->threshold_max);
	for (i = 0; i < (unsigned int)n; i++)
		printf(" %u", seq[i]);
	printf("; footprint %llu, %u raised, %u lowered, collapse at %u, state %u\n",
	       (unsigned long long)s->hot_footprint_4k, s->threshold_raises,
	       s->threshold_drops, s->collapse_threshold, s->state);
	return n;
}

/* Monotone in @dir (+1 non-decreasing, -1 non-increasing), within lo..hi. */
static int seq_ok(const uint32_t *seq, int n, int dir, uint32_t lo, uint32_t hi)
{
	int i;

	for (i = 0; i < n; i++) {
		if (seq[i] < lo || seq[i] > hi)
			return 0;
		if (i && (int64_t)(seq[i] - (int64_t)seq[i - 1]) * dir < 0)
			return 0;
	}
	return 1;
}

/* Index of the skewed test region with @k hot pages. */
static int skewed_region(int k)
{
	unsigned int r;

	for (r = 0; r < NR_REGIONS; r++)
		if (layout[r].class == SKEWED && layout[r].k == k)
			return r;
	return 0;
}

/*
 * The adaptive split threshold against the ground truth.  The hot
 * footprint at threshold 70 is 4 x 512 (hot) + 1 + 4 + 8 + 16 + 32 + 64
 * (skewed) + a few pages of region 0 (code, lists), about 2200 4K pages;
 * at a threshold of 50 the k = 64 region counts 512 (unless it was skewed
 * before: the collapse rule keeps it skewed until 50 + 50).
 */
static void check_adaptive(int hs, int vm)
{
	uint32_t seq[ADAPT_PHASES + 1];
	struct hugescope_attach a;
	struct hugescope_summary s;
	int cls[NR_REGIONS], r64 = skewed_region(64), n;
	uint64_t fp_min;

	/* Budget 1000 < footprint: the threshold rises to its bound, 100. */
	memset(&a, 0, sizeof(a));
	a.fast_budget_4k = 1000;
	a.threshold_max = 100;
	n = adapt_run(hs, vm, &a, ADAPT_PHASES, seq, &s, cls);
	tap_report(n == ADAPT_PHASES + 1 && s.fine_phases == ADAPT_PHASES &&
		   s.hot_footprint_4k > 1000,
		   "small budget: %d fine phases, footprint %llu > budget 1000",
		   n - 1, (unsigned long long)s.hot_footprint_4k);
	tap_report(n > 1 && seq[0] == 70 && seq[n - 1] > seq[0] &&
		   seq_ok(seq, n, 1, 70, 100) && seq[n - 1] == 100 &&
		   s.threshold_raises >= 2 && s.threshold_drops == 0,
		   "small budget: threshold rises 70 -> %u across fine phases, "
		   "never above the bound 100 (%u raises)",
		   n ? seq[n - 1] : 0, s.threshold_raises);

	/* Budget 100000: far under; it falls to its bound, 40. */
	memset(&a, 0, sizeof(a));
	a.fast_budget_4k = 100000;
	a.threshold_min = 40;
	n = adapt_run(hs, vm, &a, ADAPT_PHASES, seq, &s, cls);
	tap_report(n > 1 && seq[0] == 70 && seq[n - 1] < seq[0] &&
		   seq_ok(seq, n, -1, 40, 70) && seq[n - 1] == 40 &&
		   s.threshold_drops >= 2 && s.threshold_raises == 0 &&
		   s.hot_footprint_4k * 4 < 100000 * 3,
		   "large budget: threshold falls 70 -> %u across fine phases, "
		   "never below the bound 40 (%u drops)",
		   n ? seq[n - 1] : 0, s.threshold_drops);
	tap_report(cls[r64] == HUGESCOPE_CLASS_SKEWED && s.collapse_threshold == 90,
		   "collapse rule: the k=64 region stays skewed at threshold 40 "
		   "until 40 + 50 (class %d, collapse at %u)", cls[r64],
		   s.collapse_threshold);

	/* No budget: the threshold stays at the ATTACH value. */
	memset(&a, 0, sizeof(a));
	a.split_threshold = 50;
	n = adapt_run(hs, vm, &a, 2, seq, &s, cls);
	tap_report(n == 3 && seq_ok(seq, n, 1, 50, 50) &&
		   s.threshold_raises == 0 && s.threshold_drops == 0,
		   "no budget: threshold stays at the ATTACH value 50 over %d phases",
		   n - 1);
	/* At 50 the k=64 region is hot: 5 x 512 + 1 + 4 + 8 + 16 + 32. */
	fp_min = 5 * PAGES + 1 + 4 + 8 + 16 + 32;
	tap_report(cls[r64] == HUGESCOPE_CLASS_HOT &&
		   s.hot_footprint_4k >= fp_min && s.hot_footprint_4k <= fp_min + 50,
		   "no budget: footprint %llu = ground truth %llu + region 0 "
		   "(k=64 region hot at 50)", (unsigned long long)s.hot_footprint_4k,
		   (unsigned long long)fp_min);
}

int main(void)
{
	const char *step;
	static struct hugescope_region recs[4096];
	int correct[NR_CLASSES] = { 0 }, total[NR_CLASSES] = { 0 };
	uint64_t pages_2m0, pages_4k0, max_4k = 0, pf_split = 0, pf0, pf1, pf2;
	int kvm, vm, hs, hs2, vm_stats, vcpu_stats, seen_fine = 0;
	int loaded = 0;
	struct hugescope_attach a = { 0 };
	struct hugescope_summary s;
	struct hugescope_read rd;
	unsigned int r, i, n;
	pthread_t thread;
	double t;

	printf("TAP version 13\n");
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("1..0 # SKIP /dev/kvm: %s\n", strerror(errno));
		return 4;
	}
	hs = open("/dev/hugescope", O_RDWR | O_CLOEXEC);
	if (hs < 0 && errno == ENOENT && load_module()) {
		loaded = 1;
		hs = open("/dev/hugescope", O_RDWR | O_CLOEXEC);
	}
	if (hs < 0) {
		printf("1..0 # SKIP /dev/hugescope: %s (insmod hugescope.ko)\n",
		       strerror(errno));
		return 4;
	}

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		tap_bail("KVM_CREATE_VM");
	/* 2M-aligned THP-backed guest memory, pre-faulted by the VMM. */
	mem = mmap(NULL, GUEST_MEM_SIZE + REGION, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		tap_bail("mmap");
	mem = (uint8_t *)(((uintptr_t)mem + REGION - 1) & ~(REGION - 1));
	if (madvise(mem, GUEST_MEM_SIZE, MADV_HUGEPAGE))
		tap_bail("madvise(MADV_HUGEPAGE)");
	memset(mem, 0x5a, GUEST_MEM_SIZE);
	write_guest();

	vcpu_fd = l1vmm_create_vcpu(kvm, vm, mem, GUEST_MEM_SIZE, &run, &run_size, &step);
	if (vcpu_fd < 0)
		tap_bail(step);
	l1vmm_enter_long_mode(kvm, vcpu_fd, CODE_GPA, 0);
	vm_stats = ioctl(vm, KVM_GET_STATS_FD, NULL);
	vcpu_stats = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);
	if (vm_stats < 0 || vcpu_stats < 0)
		tap_bail("KVM_GET_STATS_FD");

	check_errors(hs, kvm, vm);

	signal(SIGUSR1, on_signal);
	if (pthread_create(&thread, NULL, vcpu_thread, NULL))
		tap_bail("pthread_create");
	for (t = now_s(); !warm_done && !vcpu_error && now_s() - t < 60;)
		usleep(10000);
	tap_report(warm_done && !vcpu_error, "L2 read every test page once (vcpu error %d)",
	       vcpu_error);
	if (!warm_done)
		return 1;
	usleep(200000);
	pages_2m0 = hs_vm_stat_tap(vm_stats, "pages_2m");
	pages_4k0 = hs_vm_stat_tap(vm_stats, "pages_4k");
	tap_report(pages_2m0 >= NR_REGIONS, "stage 2 maps the test regions with 2M leaves "
	       "(pages_2m %lu, pages_4k %lu)", (unsigned long)pages_2m0,
	       (unsigned long)pages_4k0);

	a.coarse_period_ms = 100;
	a.coarse_rounds = 4;
	a.hot_rounds = 3;
	a.fine_window_ms = 100;
	a.fine_windows = 5;
	a.max_cycles = 1;
	tap_report(attach(hs, vm, &a) == 0, "ATTACH the VM");
	tap_report(attach(hs, vm, &a) == EBUSY, "second ATTACH on the same file is EBUSY");
	hs2 = open("/dev/hugescope", O_RDWR | O_CLOEXEC);
	tap_report(hs2 >= 0 && attach(hs2, vm, &a) == EEXIST,
	       "ATTACH of the same VM through another file is EEXIST");
	close(hs2);

	/* Watch the phases; note stage-2 faults taken while regions are split. */
	pf0 = hs_vm_stat_tap(vcpu_stats, "pf_taken");
	for (t = now_s(); now_s() - t < 120; usleep(20000)) {
		if (summary(hs, &s))
			break;
		if (s.state == HUGESCOPE_STATE_FINE) {
			uint64_t p4 = hs_vm_stat_tap(vm_stats, "pages_4k");

			if (!seen_fine)
				pf_split = hs_vm_stat_tap(vcpu_stats, "pf_taken");
			seen_fine = 1;
			if (p4 > max_4k)
				max_4k = p4;
		}
		if (s.state == HUGESCOPE_STATE_IDLE)
			break;
	}
	pf1 = hs_vm_stat_tap(vcpu_stats, "pf_taken");
	tap_report(s.state == HUGESCOPE_STATE_IDLE && s.fine_phases == 1,
	       "one coarse + fine cycle completed (state %u, %llu scans, %llu windows)",
	       s.state, (unsigned long long)s.coarse_scans,
	       (unsigned long long)s.fine_windows);
	tap_report(seen_fine && s.splits > 0 && max_4k >= pages_4k0 + PAGES * s.splits,
	       "fine phase split %llu regions in place (pages_4k up to %llu)",
	       (unsigned long long)s.splits, (unsigned long long)max_4k);
	tap_report(s.merges == s.splits && s.merge_failures == 0,
	       "every split region merged back (%llu merges, %llu failures)",
	       (unsigned long long)s.merges, (unsigned long long)s.merge_failures);
	tap_report(hs_vm_stat_tap(vm_stats, "pages_2m") == pages_2m0 &&
	       hs_vm_stat_tap(vm_stats, "pages_4k") == pages_4k0,
	       "pages_2m/pages_4k restored after merge (%llu/%llu)",
	       (unsigned long long)hs_vm_stat_tap(vm_stats, "pages_2m"),
	       (unsigned long long)hs_vm_stat_tap(vm_stats, "pages_4k"));
	tap_report(hs_vm_stat_tap(vm_stats, "hs_held") == 0 &&
	       hs_vm_stat_tap(vm_stats, "hs_splits") == s.splits &&
	       hs_vm_stat_tap(vm_stats, "hs_merges") == s.merges,
	       "KVM stats agree: hs_held %llu, hs_splits %llu, hs_merges %llu, "
	       "hs_harvests %llu, hs_tlb_flushes %llu",
	       (unsigned long long)hs_vm_stat_tap(vm_stats, "hs_held"),
	       (unsigned long long)hs_vm_stat_tap(vm_stats, "hs_splits"),
	       (unsigned long long)hs_vm_stat_tap(vm_stats, "hs_merges"),
	       (unsigned long long)hs_vm_stat_tap(vm_stats, "hs_harvests"),
	       (unsigned long long)hs_vm_stat_tap(vm_stats, "hs_tlb_flushes"));
	tap_report(pf1 == pf_split, "no stage-2 fault while split or at merge (%llu)",
	       (unsigned long long)(pf1 - pf_split));
	usleep(1000000);
	pf2 = hs_vm_stat_tap(vcpu_stats, "pf_taken");
	tap_report(pf2 == pf1 && !vcpu_error,
	       "no stage-2 fault in the second after the merge (%llu, %llu before tracking)",
	       (unsigned long long)(pf2 - pf1), (unsigned long long)(pf1 - pf0));

	memset(&rd, 0, sizeof(rd));
	rd.regions = (uintptr_t)recs;
	rd.nr = sizeof(recs) / sizeof(recs[0]);
	i = ioctl(hs, HUGESCOPE_IOC_READ, &rd);
	n = i ? 0 : rd.nr;
	tap_report(i == 0 && n >= NR_REGIONS, "READ returned %u records", n);

	for (r = 0; r < NR_REGIONS; r++) {
		struct hugescope_region *rec = NULL;
		int want = layout[r].class, got = COLD, ok, bits_ok = 1;

		for (i = 0; i < n; i++)
			if (recs[i].gfn * 4096 == region_gpa(r))
				rec = &recs[i];
		if (rec && rec->class == HUGESCOPE_CLASS_HOT)
			got = HOT;
		else if (rec && rec->class == HUGESCOPE_CLASS_SKEWED)
			got = SKEWED;
		else if (rec && rec->class == HUGESCOPE_CLASS_UNKNOWN)
			got = -1;
		if (want != COLD && rec) {
			for (i = 0; i < PAGES; i++) {
				int bit = rec->hot_4k[i / 64] >> (i % 64) & 1;
				int exp = want == HOT || is_hot_page(r, i);

				if (bit != exp)
					bits_ok = 0;
			}
		}
		ok = got == want && bits_ok;
		total[want]++;
		correct[want] += ok;
		printf("# region %2u gpa 0x%07lx want %-6s k=%3d got %-7s freq %u "
		       "hot4k %3u touched %3u skew %4u%s\n", r,
		       (unsigned long)region_gpa(r), class_name[want], layout[r].k,
		       got < 0 ? "unknown" : class_name[got], rec ? rec->freq : 0,
		       rec ? rec->nr_hot_4k : 0, rec ? rec->nr_touched_4k : 0,
		       rec ? rec->skew : 0, bits_ok ? "" : " (wrong 4K set)");
	}
	for (i = 0; i < NR_CLASSES; i++)
		tap_report(correct[i] * 100 >= 95 * total[i],
		       "accuracy %s: %d/%d regions (class and hot 4K set)",
		       class_name[i], correct[i], total[i]);

	summary(hs, &s);
	printf("# figures: split %.1f us/region, merge %.1f us/region, "
	       "harvest 2M %.1f us/scan, harvest 4K %.1f us/window\n",
	       s.splits ? s.split_ns / 1e3 / s.splits : 0,
	       s.merges ? s.merge_ns / 1e3 / s.merges : 0,
	       s.coarse_scans ? s.harvest_2m_ns / 1e3 / s.coarse_scans : 0,
	       s.fine_windows ? s.harvest_4k_ns / 1e3 / s.fine_windows : 0);
	printf("# figures: %llu records, metadata %llu bytes for %llu tracked bytes "
	       "(%.4f%%, %.0f bytes per tracked GiB)\n",
	       (unsigned long long)s.regions, (unsigned long long)s.meta_bytes,
	       (unsigned long long)s.tracked_bytes,
	       s.tracked_bytes ? 100.0 * s.meta_bytes / s.tracked_bytes : 0,
	       s.tracked_bytes ? (double)s.meta_bytes * (1UL << 30) / s.tracked_bytes : 0);

	tap_report(ioctl(hs, HUGESCOPE_IOC_DETACH) == 0, "DETACH");
	tap_report(ioctl(hs, HUGESCOPE_IOC_DETACH) < 0 && errno == ENOENT,
	       "second DETACH is ENOENT");

	check_adaptive(hs, vm);

	check_mid_phase(hs, vm, vm_stats, vcpu_stats, thread, pages_2m0, pages_4k0);
	close(hs);
	if (loaded)
		tap_report(syscall(SYS_delete_module, "hugescope", O_NONBLOCK) == 0,
		       "module unloads once nothing is attached");

	printf("1..%d\n# %d tests, %d failed\n", tap_run, tap_run, tap_failed);
	fflush(stdout);
	/* The vCPU thread never returns; exiting tears the VM down. */
	_exit(tap_failed ? 1 : 0);
}
