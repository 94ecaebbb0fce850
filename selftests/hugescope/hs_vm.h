/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hs_vm - an L1 VMM with a hot-list L2 workload, shared by the hugescope
 * overhead bench (hugescope_perf_test) and `hsctl demo`, so that both drive
 * hugescope.ko with the same guest.  The L2 guest (64-bit, 2M identity map
 * from l1vmm) reads a "warm" list of GPAs once, signals the VMM with an OUT,
 * then loops forever over a "hot" list of GPAs and increments a 64-bit
 * counter at HS_VM_ITER_GPA after every pass: the counter is the guest's
 * throughput (rdtsc also times each walk, see hs_vm_set_ref()).  Guest memory is THP-backed and pre-faulted so that stage 2
 * maps it with 2M leaves.  Errors are returned, not reported, because
 * hsctl must print them as a tool and the selftest as TAP.
 */
#ifndef SELFTESTS_HS_VM_H
#define SELFTESTS_HS_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define HS_VM_REGION		(2UL << 20)
#define HS_VM_FIRST_GPA		(4UL << 20)	/* first workload region */
#define HS_VM_ITER_GPA		0x9000UL	/* pass counter written by L2 */
#define HS_VM_HOT_TSC_GPA	0x9018UL	/* TSC cycles in hot walks, by L2 */
#define HS_VM_REF_TSC_GPA	0x9020UL	/* TSC cycles in reference loops */
#define HS_VM_REF_N_GPA		0x9028UL	/* reference loop length [0: none] */
#define HS_VM_MAX_WARM		16384		/* GPAs in the warm list */
#define HS_VM_MAX_HOT		65536		/* GPAs in the hot list */

struct hs_vm {
	int kvm, vm, vcpu, vm_stats;
	uint8_t *mem;
	size_t size;
	struct kvm_run *run;
	pthread_t thread;
	volatile int warm_done;	/* L2 finished the warm list */
	volatile int error;	/* errno, or 1000 + unexpected exit reason */
	const char *what;	/* the step that failed */
};

/*
 * Emit at @p the L2 code: rsi = @list; rcx = [@count_gpa]; loop { rdi =
 * [rsi]; rax = [rdi]; rsi += 8; } while (--rcx): one read of each GPA in a
 * list.  Returns the next free byte.  The selftests build their own L2
 * workloads from it.
 */
uint8_t *hs_vm_emit_walk(uint8_t *p, uint64_t list, uint32_t count_gpa);

/*
 * Emit at @p the plain L2 workload of the selftests: walk the warm list
 * once, OUT to @done_port, then forever walk the hot list and increment
 * the 64-bit counter at @iter_gpa.  Lists and counts as hs_vm_emit_walk().
 */
void hs_vm_emit_warm_hot_loop(uint8_t *p, uint64_t warm, uint32_t warm_n_gpa,
			      uint64_t hot, uint32_t hot_n_gpa, uint32_t iter_gpa,
			      uint8_t done_port);

/* GPA of 4K page @page in workload region @r. */
static inline uint64_t hs_vm_page(unsigned int r, unsigned int page)
{
	return HS_VM_FIRST_GPA + r * HS_VM_REGION + page * 4096UL;
}

/*
 * Create the VM with @size bytes of guest memory (2M multiple, covering the
 * lists' GPAs), load the workload and start the vCPU thread.  Returns 0, or
 * a negative errno with v->what naming the failed step.
 */
int hs_vm_create(struct hs_vm *v, size_t size, const uint64_t *warm,
		 unsigned int nwarm, const uint64_t *hot, unsigned int nhot);
/* The same with 4K host pages (@thp 0): stage 2 then maps 4K leaves. */
int hs_vm_create_backed(struct hs_vm *v, size_t size, const uint64_t *warm,
			unsigned int nwarm, const uint64_t *hot,
			unsigned int nhot, int thp);
/* Wait up to @timeout_s for the warm pass; 0 when done. */
int hs_vm_wait_warm(struct hs_vm *v, double timeout_s);
/* L2 passes over the hot list so far. */
uint64_t hs_vm_iters(const struct hs_vm *v);
/* A u64 of guest memory, e.g. HS_VM_HOT_TSC_GPA. */
uint64_t hs_vm_u64(const struct hs_vm *v, uint64_t gpa);
/*
 * After each hot pass, L2 also runs a register-only loop of @n iterations
 * (0: none, the default) and adds the rdtsc cycles of the hot walk and of
 * the loop to HS_VM_HOT_TSC_GPA and HS_VM_REF_TSC_GPA: the loop runs at the
 * speed the host gives the vCPU, untouched by stage-2 mappings.
 */
void hs_vm_set_ref(struct hs_vm *v, uint64_t n);
/* Named u64 statistic of a KVM binary stats fd; 0 on success. */
int hs_vm_stat(int stats_fd, const char *name, uint64_t *val);
/* The same for TAP tests: the value, or 0 after a "# cannot read" line. */
uint64_t hs_vm_stat_tap(int stats_fd, const char *name);
/*
 * Open /dev/hugescope, loading /lib/modules/extra/hugescope.ko first if the
 * device is missing.  Returns the fd or a negative errno.
 */
int hs_open_dev(void);
double hs_now(void);

#endif
