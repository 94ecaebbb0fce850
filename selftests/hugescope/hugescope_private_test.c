// SPDX-License-Identifier: GPL-2.0
/*
 * hugescope_private_test - HugeScope must not split or merge memory that can
 * be private (issue 11), run as an L1 VMM.
 *
 * A merge builds the 2M leaf from the present children and trusts
 * kvm_mmu_max_mapping_level() for the rest of the block.  For private GFNs
 * that function does not look at any host mapping, and guest_memfd gives
 * order-0 folios, so a region converted to private while split could be
 * merged into a leaf mapping pages the guest does not own.  KVM therefore
 * refuses kvm_tdp_mmu_hs_split()/merge() in slots that can be private.
 *
 * The VM is a KVM_X86_SW_PROTECTED_VM (CONFIG_KVM_SW_PROTECTED_VM) whose
 * only memslot has a guest_memfd (KVM_MEM_GUEST_MEMFD) but starts all
 * shared, backed by THP, so stage 2 maps the test regions with 2M leaves
 * just as in hugescope_test.  L2 reads every page of NR_REGIONS regions
 * forever, so they all become split candidates.  The test attaches for one
 * cycle, converts one region to private as soon as the fine phase starts
 * (the race of issue 11) and checks that:
 *  - ATTACH is either refused (EOPNOTSUPP, for a module that refuses VMs
 *    with private memory) or tracking runs one cycle without splitting or
 *    merging anything: every split is refused, hs_splits/hs_merges/hs_held
 *    stay 0, while the 2M harvests still see the regions hot;
 *  - L2 keeps running, reading the converted region's private pages;
 *  - only the converted region left the 2M stage-2 mapping.
 * On a kernel without the fix the "nothing split" checks fail.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "hugescope_uapi.h"
#include "l1vmm.h"
#include "hs_vm.h"

/* Linux 6.8+ UAPI that the build host's <linux/kvm.h> may lack. */
#ifndef KVM_SET_USER_MEMORY_REGION2
struct kvm_userspace_memory_region2 {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;
	__u64 userspace_addr;
	__u64 guest_memfd_offset;
	__u32 guest_memfd;
	__u32 pad1;
	__u64 pad2[14];
};
#define KVM_SET_USER_MEMORY_REGION2 \
	_IOW(KVMIO, 0x49, struct kvm_userspace_memory_region2)
#endif
#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD	(1UL << 2)
#endif
#ifndef KVM_SET_MEMORY_ATTRIBUTES
struct kvm_memory_attributes {
	__u64 address;
	__u64 size;
	__u64 attributes;
	__u64 flags;
};
#define KVM_SET_MEMORY_ATTRIBUTES \
	_IOW(KVMIO, 0xd2, struct kvm_memory_attributes)
#endif
#ifndef KVM_MEMORY_ATTRIBUTE_PRIVATE
#define KVM_MEMORY_ATTRIBUTE_PRIVATE	(1ULL << 3)
#endif
#ifndef KVM_CREATE_GUEST_MEMFD
struct kvm_create_guest_memfd {
	__u64 size;
	__u64 flags;
	__u64 reserved[6];
};
#define KVM_CREATE_GUEST_MEMFD	_IOWR(KVMIO, 0xd4, struct kvm_create_guest_memfd)
#endif
#ifndef KVM_CAP_MEMORY_ATTRIBUTES
#define KVM_CAP_MEMORY_ATTRIBUTES	233
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES	235
#endif
#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT	39
#endif
#ifndef KVM_X86_SW_PROTECTED_VM
#define KVM_X86_SW_PROTECTED_VM	1
#endif

#define MB		(1UL << 20)
#define REGION		(2 * MB)
#define GUEST_MEM_SIZE	(16 * MB)
#define FIRST_GPA	(4 * MB)
#define NR_REGIONS	4		/* all hot, GPA 4M..12M */
#define CONVERTED	2		/* made private mid-phase */
#define PAGES		512
#define CODE_GPA	0x8000UL
#define ITER_GPA	0x9000UL
#define WARM_N_GPA	0x9008UL
#define HOT_N_GPA	0x9010UL
#define WARM_GPA	0x20000UL
#define HOT_GPA		0x40000UL
#define DONE_PORT	0x10

static uint8_t *mem;
static int vcpu_fd;
static struct kvm_run *run;
static volatile int warm_done, vcpu_error, memory_fault_exits;

static uint64_t region_gpa(int r)
{
	return FIRST_GPA + (uint64_t)r * REGION;
}

/* Warm list = hot list = every 4K page of the test regions. */
static void write_guest(void)
{
	uint64_t *list = (uint64_t *)(mem + HOT_GPA);
	uint64_t n = 0;
	int r, i;

	l1vmm_identity_map_1g(mem);
	for (r = 0; r < NR_REGIONS; r++)
		for (i = 0; i < PAGES; i++)
			list[n++] = region_gpa(r) + i * 4096UL;
	memcpy(mem + WARM_GPA, list, n * 8);
	memcpy(mem + WARM_N_GPA, &n, 8);
	memcpy(mem + HOT_N_GPA, &n, 8);

	hs_vm_emit_warm_hot_loop(mem + CODE_GPA, WARM_GPA, WARM_N_GPA, HOT_GPA,
				 HOT_N_GPA, ITER_GPA, DONE_PORT);
}

/*
 * Runs until the process exits; exiting tears the VM down.  A fault that
 * raced with the conversion (its private flag taken before the attributes
 * changed) comes back as EFAULT with KVM_EXIT_MEMORY_FAULT: a VMM re-enters,
 * and the retried fault sees the new attributes.  Counted, and bounded.
 */
static void *vcpu_thread(void *arg)
{
	(void)arg;
	for (;;) {
		if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EFAULT && run->exit_reason == KVM_EXIT_MEMORY_FAULT &&
			    ++memory_fault_exits < 1000)
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

static uint64_t iters(void)
{
	return *(volatile uint64_t *)(mem + ITER_GPA);
}

static int set_private(int vm, int r, int private)
{
	struct kvm_memory_attributes attr = {
		.address = region_gpa(r), .size = REGION,
		.attributes = private ? KVM_MEMORY_ATTRIBUTE_PRIVATE : 0,
	};

	return ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &attr);
}

int main(void)
{
	static struct hugescope_region recs[64];
	struct hugescope_attach a = {
		.coarse_period_ms = 100, .coarse_rounds = 4, .hot_rounds = 3,
		.fine_window_ms = 100, .fine_windows = 3, .max_cycles = 1,
	};
	struct kvm_create_guest_memfd gm = { .size = GUEST_MEM_SIZE };
	struct kvm_userspace_memory_region2 slot = {
		.slot = 0, .flags = KVM_MEM_GUEST_MEMFD, .guest_phys_addr = 0,
		.memory_size = GUEST_MEM_SIZE,
	};
	struct hugescope_summary s = { 0 };
	struct hugescope_read rd = { 0 };
	uint64_t pages_2m0, pages_2m, it = 0;
	int kvm, vm, gmem, hs, vm_stats, types, mmap_size, converted = 0;
	unsigned int r, i, seen;
	pthread_t thread;
	uint8_t *m;
	double t;

	printf("TAP version 13\n");
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("1..0 # SKIP /dev/kvm: %s\n", strerror(errno));
		return 4;
	}
	types = ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES);
	if (types <= 0 || !(types & (1 << KVM_X86_SW_PROTECTED_VM))) {
		printf("1..0 # SKIP no KVM_X86_SW_PROTECTED_VM (CONFIG_KVM_SW_PROTECTED_VM, TDP MMU)\n");
		return 4;
	}
	hs = hs_open_dev();
	if (hs < 0) {
		printf("1..0 # SKIP /dev/hugescope: %s\n", strerror(-hs));
		return 4;
	}

	vm = ioctl(kvm, KVM_CREATE_VM, KVM_X86_SW_PROTECTED_VM);
	if (vm < 0)
		tap_bail("KVM_CREATE_VM(KVM_X86_SW_PROTECTED_VM)");
	if (!(ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_MEMORY_ATTRIBUTES) &
	      KVM_MEMORY_ATTRIBUTE_PRIVATE))
		tap_bail("KVM_CAP_MEMORY_ATTRIBUTES lacks PRIVATE");

	/* Shared memory: 2M-aligned, THP-backed, pre-faulted. */
	m = mmap(NULL, GUEST_MEM_SIZE + REGION, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		tap_bail("mmap");
	mem = (uint8_t *)(((uintptr_t)m + REGION - 1) & ~(REGION - 1));
	if (madvise(mem, GUEST_MEM_SIZE, MADV_HUGEPAGE))
		tap_bail("madvise(MADV_HUGEPAGE)");
	memset(mem, 0x5a, GUEST_MEM_SIZE);
	write_guest();

	/* Private memory: a guest_memfd behind the same slot. */
	gmem = ioctl(vm, KVM_CREATE_GUEST_MEMFD, &gm);
	if (gmem < 0)
		tap_bail("KVM_CREATE_GUEST_MEMFD");
	slot.userspace_addr = (uintptr_t)mem;
	slot.guest_memfd = gmem;
	tap_report(ioctl(vm, KVM_SET_USER_MEMORY_REGION2, &slot) == 0,
		   "memslot with KVM_MEM_GUEST_MEMFD (can be private), all shared");

	vcpu_fd = ioctl(vm, KVM_CREATE_VCPU, 0);
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu_fd < 0 || mmap_size < 0)
		tap_bail("KVM_CREATE_VCPU");
	run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
	if (run == MAP_FAILED)
		tap_bail("mmap kvm_run");
	l1vmm_enter_long_mode(kvm, vcpu_fd, CODE_GPA, 0);
	vm_stats = ioctl(vm, KVM_GET_STATS_FD, NULL);
	if (vm_stats < 0)
		tap_bail("KVM_GET_STATS_FD");
	if (pthread_create(&thread, NULL, vcpu_thread, NULL))
		tap_bail("pthread_create");
	for (t = hs_now(); !warm_done && !vcpu_error && hs_now() - t < 60;)
		usleep(10000);
	tap_report(warm_done && !vcpu_error, "L2 read every test page once (vcpu error %d)",
		   vcpu_error);
	if (!warm_done)
		return 1;
	usleep(200000);
	pages_2m0 = hs_vm_stat_tap(vm_stats, "pages_2m");
	tap_report(pages_2m0 >= NR_REGIONS,
		   "stage 2 maps the shared test regions with 2M leaves (pages_2m %llu)",
		   (unsigned long long)pages_2m0);

	a.vm_fd = vm;
	if (ioctl(hs, HUGESCOPE_IOC_ATTACH, &a)) {
		tap_report(errno == EOPNOTSUPP,
			   "ATTACH of a VM with private memory is refused (%s)",
			   strerror(errno));
		goto out;
	}
	tap_report(1, "ATTACH a software-protected VM");

	/* Convert one hot region to private when the fine phase starts. */
	for (t = hs_now(); hs_now() - t < 120; usleep(10000)) {
		if (ioctl(hs, HUGESCOPE_IOC_SUMMARY, &s))
			break;
		if (!converted && s.state == HUGESCOPE_STATE_FINE) {
			converted = 1;
			it = iters();
			tap_report(set_private(vm, CONVERTED, 1) == 0,
				   "region %d converted to private mid-phase", CONVERTED);
		}
		if (s.state == HUGESCOPE_STATE_IDLE)
			break;
	}
	tap_report(converted && s.state == HUGESCOPE_STATE_IDLE && s.fine_phases == 1,
		   "one coarse + fine cycle completed (state %u, %llu scans)",
		   s.state, (unsigned long long)s.coarse_scans);
	tap_report(s.splits == 0 && s.split_failures >= NR_REGIONS,
		   "no region was split: %llu splits, %llu refused",
		   (unsigned long long)s.splits, (unsigned long long)s.split_failures);
	tap_report(s.merges == 0 && s.merge_failures == 0,
		   "nothing to merge: %llu merges, %llu failures",
		   (unsigned long long)s.merges, (unsigned long long)s.merge_failures);
	tap_report(hs_vm_stat_tap(vm_stats, "hs_splits") == 0 && hs_vm_stat_tap(vm_stats, "hs_merges") == 0 &&
		   hs_vm_stat_tap(vm_stats, "hs_held") == 0 && hs_vm_stat_tap(vm_stats, "hs_harvests") > 0,
		   "KVM stats: hs_splits %llu, hs_merges %llu, hs_held %llu, hs_harvests %llu",
		   (unsigned long long)hs_vm_stat_tap(vm_stats, "hs_splits"),
		   (unsigned long long)hs_vm_stat_tap(vm_stats, "hs_merges"),
		   (unsigned long long)hs_vm_stat_tap(vm_stats, "hs_held"),
		   (unsigned long long)hs_vm_stat_tap(vm_stats, "hs_harvests"));

	/* The 2M harvests still work in such slots: the regions were hot. */
	rd.regions = (uintptr_t)recs;
	rd.nr = sizeof(recs) / sizeof(recs[0]);
	seen = 0;
	if (!ioctl(hs, HUGESCOPE_IOC_READ, &rd))
		for (r = 0; r < NR_REGIONS; r++)
			for (i = 0; i < rd.nr; i++)
				if (recs[i].gfn * 4096 == region_gpa(r) &&
				    recs[i].freq >= a.hot_rounds)
					seen++;
	tap_report(seen == NR_REGIONS, "2M harvests saw %u of %d regions hot", seen,
		   NR_REGIONS);
	tap_report(ioctl(hs, HUGESCOPE_IOC_DETACH) == 0, "DETACH");

	usleep(500000);
	tap_report(converted && iters() > it && !vcpu_error,
		   "L2 still runs over the private region (vcpu error %d, %d memory-fault exits re-entered)",
		   vcpu_error, memory_fault_exits);
	pages_2m = hs_vm_stat_tap(vm_stats, "pages_2m");
	tap_report(pages_2m + 1 == pages_2m0,
		   "only the converted region left 2M (pages_2m %llu -> %llu)",
		   (unsigned long long)pages_2m0, (unsigned long long)pages_2m);
out:
	close(hs);
	printf("1..%d\n# %d tests, %d failed\n", tap_run, tap_run, tap_failed);
	fflush(stdout);
	/* The vCPU thread never returns; exiting tears the VM down. */
	_exit(tap_failed ? 1 : 0);
}
