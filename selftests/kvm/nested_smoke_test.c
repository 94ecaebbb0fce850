// SPDX-License-Identifier: GPL-2.0
/*
 * nested_smoke_test - run an L2 guest from inside the (TCG-emulated) L1 guest.
 *
 * The project tests its KVM work one level down: QEMU/TCG emulates an AMD CPU
 * with SVM and nested paging, the L1 kernel runs KVM, and this program is the
 * L1 VMM.  It builds a 64-bit L2 guest directly in long mode (identity map of
 * the first 1 GiB with 2 MiB pages), lets it write one tagged word into each of
 * many 4 KiB pages, report through port I/O and halt, then checks every word
 * from the host side.  That exercises exactly what HugeScope needs: stage-2
 * (NPT) faults on first touch, stage-2 mappings that really reach the memslot,
 * and the two exit kinds (I/O and HLT).  It also requires that KVM runs with
 * nested paging on, otherwise the results would say nothing about NPT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "l1vmm.h"

#define GUEST_MEM_SIZE	(64UL << 20)	/* one memslot, 2 MiB aligned */
#define CODE_GPA	0x8000UL
#define TOUCH_GPA	0x400000UL	/* first page the guest writes */
#define TOUCH_PAGES	8192UL		/* 32 MiB: 16 huge stage-1 pages */
#define DONE_PORT	0x10
#define DONE_MAGIC	0x42

/*
 *	mov rdi, TOUCH_GPA
 *	mov rcx, TOUCH_PAGES
 * 1:	mov [rdi], rdi
 *	add rdi, 4096
 *	dec rcx
 *	jnz 1b
 *	mov al, DONE_MAGIC
 *	out DONE_PORT, al
 *	hlt
 */
static void write_guest_code(uint8_t *p)
{
	*p++ = 0x48; *p++ = 0xbf; p = l1vmm_put64(p, TOUCH_GPA);
	*p++ = 0x48; *p++ = 0xb9; p = l1vmm_put64(p, TOUCH_PAGES);
	*p++ = 0x48; *p++ = 0x89; *p++ = 0x3f;
	*p++ = 0x48; *p++ = 0x81; *p++ = 0xc7;
	*p++ = 0x00; *p++ = 0x10; *p++ = 0x00; *p++ = 0x00;
	*p++ = 0x48; *p++ = 0xff; *p++ = 0xc9;
	*p++ = 0x75; *p++ = (uint8_t)-15;	/* back over the 15-byte loop */
	*p++ = 0xb0; *p++ = DONE_MAGIC;
	*p++ = 0xe6; *p++ = DONE_PORT;
	*p++ = 0xf4;
}

static int read_bool_param(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y' || c == 'y' || c == '1';
}

int main(void)
{
	const char *step;
	struct kvm_regs regs;
	struct kvm_run *run;
	int kvm, vm, vcpu, io_exits = 0, npt;
	unsigned long i, bad = 0;
	uint8_t *mem;

	printf("TAP version 13\n1..6\n");
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		printf("1..0 # SKIP /dev/kvm: %s\n", strerror(errno));
		return 4;
	}
	tap_report(ioctl(kvm, KVM_GET_API_VERSION, 0) == KVM_API_VERSION,
	       "KVM API version %d", KVM_API_VERSION);

	npt = read_bool_param("/sys/module/kvm_amd/parameters/npt");
	if (npt < 0)
		npt = read_bool_param("/sys/module/kvm_intel/parameters/ept");
	tap_report(npt == 1, "KVM uses nested paging (NPT/EPT) for L2");

	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		tap_bail("KVM_CREATE_VM");
	mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		tap_bail("mmap guest memory");
	l1vmm_identity_map_1g(mem);
	write_guest_code(mem + CODE_GPA);

	vcpu = l1vmm_create_vcpu(kvm, vm, mem, GUEST_MEM_SIZE, &run, NULL, &step);
	if (vcpu < 0)
		tap_bail(step);

	l1vmm_enter_long_mode(kvm, vcpu, CODE_GPA, CODE_GPA);

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			tap_bail("KVM_RUN");
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == DONE_PORT &&
		    run->io.direction == KVM_EXIT_IO_OUT) {
			uint8_t v = *((uint8_t *)run + run->io.data_offset);

			tap_report(v == DONE_MAGIC, "L2 reported completion on port 0x%x (value 0x%x)",
			       DONE_PORT, v);
			io_exits++;
			continue;
		}
		break;
	}
	tap_report(io_exits == 1 && run->exit_reason == KVM_EXIT_HLT,
	       "L2 halted after one I/O exit (exit reason %u)", run->exit_reason);

	for (i = 0; i < TOUCH_PAGES; i++) {
		uint64_t gpa = TOUCH_GPA + i * 4096, v;

		memcpy(&v, mem + gpa, sizeof(v));
		if (v != gpa && bad++ < 5)
			printf("# page gpa 0x%lx holds 0x%lx\n", (unsigned long)gpa, (unsigned long)v);
	}
	tap_report(bad == 0, "all %lu pages written by L2 are visible to the L1 VMM (%lu wrong)",
	       TOUCH_PAGES, bad);
	if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0)
		tap_bail("KVM_GET_REGS");
	tap_report(regs.rcx == 0 && regs.rdi == TOUCH_GPA + TOUCH_PAGES * 4096,
	       "L2 register state after the loop (rcx=%llu rdi=0x%llx)",
	       (unsigned long long)regs.rcx, (unsigned long long)regs.rdi);

	printf("# %d tests, %d failed\n", tap_run, tap_failed);
	return tap_failed ? 1 : 0;
}
