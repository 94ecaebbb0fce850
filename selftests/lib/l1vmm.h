/* SPDX-License-Identifier: GPL-2.0 */
/*
 * l1vmm - the little L1 VMM the project's KVM selftests share.  They run
 * inside the TCG guest (nested SVM/NPT) and each builds a 64-bit L2 guest
 * from hand-assembled code: TAP reporting, byte emitters for that code, a
 * 1 GiB identity map with 2 MiB pages at fixed guest-physical addresses, and
 * entering the vCPU directly in long mode (with the CPUID KVM needs before
 * it accepts EFER.LME).
 */
#ifndef SELFTESTS_L1VMM_H
#define SELFTESTS_L1VMM_H

#include <stddef.h>
#include <stdint.h>

struct kvm_run;

/* Where l1vmm_identity_map_1g() puts the L2 guest's page tables. */
#define L1VMM_PML4_GPA	0x1000UL
#define L1VMM_PDPT_GPA	0x2000UL
#define L1VMM_PD_GPA	0x3000UL

extern int tap_run, tap_failed;

/* One TAP result line, numbered in order. */
void tap_report(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "Bail out!" with errno's text, and exit 1. */
void tap_bail(const char *what) __attribute__((noreturn));

/* Little-endian immediates for hand-assembled guest code. */
uint8_t *l1vmm_put64(uint8_t *p, uint64_t v);
uint8_t *l1vmm_put32(uint8_t *p, uint32_t v);

/* Identity-map guest-physical [0, 1 GiB) with 2 MiB pages; mem is GPA 0. */
void l1vmm_identity_map_1g(uint8_t *mem);

/*
 * Make [@mem, @mem + @size) guest memory slot 0 at GPA 0, create vCPU 0 of
 * @vm and map its kvm_run.  Returns the vCPU fd (kvm_run in *@run, its size
 * in *@run_size if not NULL) or -1 with errno set and *@what naming the
 * failed step, so tools can report it their own way.
 */
int l1vmm_create_vcpu(int kvm, int vm, void *mem, size_t size,
		      struct kvm_run **run, size_t *run_size, const char **what);

/*
 * Give @vcpu everything KVM supports in CPUID, then 64-bit flat segments,
 * paging on with CR3 = L1VMM_PML4_GPA, and rip/rsp as given.
 */
void l1vmm_enter_long_mode(int kvm, int vcpu, uint64_t rip, uint64_t rsp);

#endif
