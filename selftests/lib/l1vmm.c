// SPDX-License-Identifier: GPL-2.0
/*
 * l1vmm - shared scaffolding of the KVM selftests that run as L1 VMMs in the
 * TCG guest; see l1vmm.h for what each piece is for.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "l1vmm.h"

#define PTE_P	(1UL << 0)
#define PTE_W	(1UL << 1)
#define PTE_PS	(1UL << 7)

int tap_run, tap_failed;

void tap_report(int ok, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	if (!ok)
		tap_failed++;
	printf("%s %d - ", ok ? "ok" : "not ok", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void tap_bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(1);
}

uint8_t *l1vmm_put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

uint8_t *l1vmm_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
	return p + sizeof(v);
}

void l1vmm_identity_map_1g(uint8_t *mem)
{
	uint64_t *pml4 = (uint64_t *)(mem + L1VMM_PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(mem + L1VMM_PDPT_GPA);
	uint64_t *pd = (uint64_t *)(mem + L1VMM_PD_GPA);
	int i;

	pml4[0] = L1VMM_PDPT_GPA | PTE_P | PTE_W;
	pdpt[0] = L1VMM_PD_GPA | PTE_P | PTE_W;
	for (i = 0; i < 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_W | PTE_PS;
}

int l1vmm_create_vcpu(int kvm, int vm, void *mem, size_t size,
		      struct kvm_run **run, size_t *run_size, const char **what)
{
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0,
		.memory_size = size, .userspace_addr = (uintptr_t)mem,
	};
	int vcpu, mmap_size;

	*what = "KVM_SET_USER_MEMORY_REGION";
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -1;
	*what = "KVM_CREATE_VCPU";
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return -1;
	*what = "KVM_GET_VCPU_MMAP_SIZE";
	mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < 0)
		return -1;
	*what = "mmap kvm_run";
	*run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (*run == MAP_FAILED)
		return -1;
	if (run_size)
		*run_size = mmap_size;
	return vcpu;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

void l1vmm_enter_long_mode(int kvm, int vcpu, uint64_t rip, uint64_t rsp)
{
	struct kvm_cpuid2 *cpuid;
	struct kvm_sregs sregs;
	struct kvm_regs regs;
	int nent = 256;

	/* KVM refuses EFER.LME until CPUID says long mode exists. */
	cpuid = calloc(1, sizeof(*cpuid) + nent * sizeof(cpuid->entries[0]));
	if (!cpuid)
		tap_bail("calloc cpuid");
	cpuid->nent = nent;
	if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, cpuid) < 0)
		tap_bail("KVM_GET_SUPPORTED_CPUID");
	if (ioctl(vcpu, KVM_SET_CPUID2, cpuid) < 0)
		tap_bail("KVM_SET_CPUID2");
	free(cpuid);

	/* Enter directly in 64-bit mode: KVM loads the hidden segment state. */
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		tap_bail("KVM_GET_SREGS");
	set_seg(&sregs.cs, 0x8, 11, 1);
	set_seg(&sregs.ds, 0x10, 3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr3 = L1VMM_PML4_GPA;
	sregs.cr4 = 1UL << 5;			/* PAE */
	sregs.cr0 = 0x80000011;			/* PG | ET | PE */
	sregs.efer = (1UL << 8) | (1UL << 10);	/* LME | LMA */
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		tap_bail("KVM_SET_SREGS");
	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rsp = rsp;
	regs.rflags = 2;
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		tap_bail("KVM_SET_REGS");
}
