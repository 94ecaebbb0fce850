// SPDX-License-Identifier: GPL-2.0
/*
 * hs_vm - the L1 VMM and hot-list L2 workload shared by the hugescope
 * overhead bench and `hsctl demo`; see hs_vm.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "hs_vm.h"
#include "l1vmm.h"

#define CODE_GPA	0x8000UL
#define WARM_N_GPA	0x9008UL
#define HOT_N_GPA	0x9010UL
#define WARM_GPA	0x20000UL
#define HOT_GPA		0x40000UL	/* up to HS_VM_FIRST_GPA */
#define DONE_PORT	0x10

double hs_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint8_t *hs_vm_emit_walk(uint8_t *p, uint64_t list, uint32_t count_gpa)
{
	uint8_t *loop;

	*p++ = 0x48; *p++ = 0xbe; p = l1vmm_put64(p, list);		/* mov rsi, imm64 */
	*p++ = 0x48; *p++ = 0x8b; *p++ = 0x0c; *p++ = 0x25;	/* mov rcx, [abs32] */
	p = l1vmm_put32(p, count_gpa);
	loop = p;
	*p++ = 0x48; *p++ = 0x8b; *p++ = 0x3e;			/* mov rdi, [rsi] */
	*p++ = 0x48; *p++ = 0x8b; *p++ = 0x07;			/* mov rax, [rdi] */
	*p++ = 0x48; *p++ = 0x83; *p++ = 0xc6; *p++ = 0x08;	/* add rsi, 8 */
	*p++ = 0x48; *p++ = 0xff; *p++ = 0xc9;			/* dec rcx */
	*p++ = 0x75; *p = (uint8_t)(loop - (p + 1)); p++;	/* jnz loop */
	return p;
}

void hs_vm_emit_warm_hot_loop(uint8_t *p, uint64_t warm, uint32_t warm_n_gpa,
			      uint64_t hot, uint32_t hot_n_gpa, uint32_t iter_gpa,
			      uint8_t done_port)
{
	uint8_t *top;

	p = hs_vm_emit_walk(p, warm, warm_n_gpa);
	*p++ = 0xb0; *p++ = 0x42;				/* mov al, 0x42 */
	*p++ = 0xe6; *p++ = done_port;				/* out done_port, al */
	top = p;
	p = hs_vm_emit_walk(p, hot, hot_n_gpa);
	*p++ = 0x48; *p++ = 0xff; *p++ = 0x04; *p++ = 0x25;	/* inc qword [abs32] */
	p = l1vmm_put32(p, iter_gpa);
	*p++ = 0xe9; p = l1vmm_put32(p, (uint32_t)(top - (p + 4)));	/* jmp top */
}

/* Emit: rax = rdtsc (64-bit); clobbers rdx. */
static uint8_t *emit_rdtsc(uint8_t *p)
{
	*p++ = 0x0f; *p++ = 0x31;				/* rdtsc */
	*p++ = 0x48; *p++ = 0xc1; *p++ = 0xe2; *p++ = 0x20;	/* shl rdx, 32 */
	*p++ = 0x48; *p++ = 0x09; *p++ = 0xd0;			/* or rax, rdx */
	return p;
}

/* Emit: add qword [abs32], rax. */
static uint8_t *emit_add_rax(uint8_t *p, uint32_t gpa)
{
	*p++ = 0x48; *p++ = 0x01; *p++ = 0x04; *p++ = 0x25;
	return l1vmm_put32(p, gpa);
}

static void write_guest(struct hs_vm *v, const uint64_t *warm, unsigned int nwarm,
			const uint64_t *hot, unsigned int nhot)
{
	uint64_t n;
	uint8_t *p = v->mem + CODE_GPA, *top, *skip, *ref;

	l1vmm_identity_map_1g(v->mem);
	memcpy(v->mem + WARM_GPA, warm, nwarm * 8UL);
	memcpy(v->mem + HOT_GPA, hot, nhot * 8UL);
	memset(v->mem + HS_VM_ITER_GPA, 0, HS_VM_REF_N_GPA + 8 - HS_VM_ITER_GPA);
	n = nwarm;
	memcpy(v->mem + WARM_N_GPA, &n, 8);
	n = nhot;
	memcpy(v->mem + HOT_N_GPA, &n, 8);

	p = hs_vm_emit_walk(p, WARM_GPA, WARM_N_GPA);
	*p++ = 0xb0; *p++ = 0x42;				/* mov al, 0x42 */
	*p++ = 0xe6; *p++ = DONE_PORT;				/* out DONE_PORT, al */
	/*
	 * Each pass: time the hot walk, then (if [REF_N] != 0) time a
	 * register-only loop of [REF_N] iterations, both with rdtsc; the
	 * reference tells how fast the vCPU ran meanwhile.
	 */
	top = p;
	p = emit_rdtsc(p);
	*p++ = 0x49; *p++ = 0x89; *p++ = 0xc0;			/* mov r8, rax */
	p = hs_vm_emit_walk(p, HOT_GPA, HOT_N_GPA);
	p = emit_rdtsc(p);
	*p++ = 0x49; *p++ = 0x89; *p++ = 0xc1;			/* mov r9, rax */
	*p++ = 0x4c; *p++ = 0x29; *p++ = 0xc0;			/* sub rax, r8 */
	p = emit_add_rax(p, HS_VM_HOT_TSC_GPA);
	*p++ = 0x48; *p++ = 0x8b; *p++ = 0x0c; *p++ = 0x25;	/* mov rcx, [abs32] */
	p = l1vmm_put32(p, HS_VM_REF_N_GPA);
	*p++ = 0x48; *p++ = 0x85; *p++ = 0xc9;			/* test rcx, rcx */
	*p++ = 0x74; skip = p++;				/* jz skip */
	ref = p;
	*p++ = 0x48; *p++ = 0xff; *p++ = 0xc9;			/* dec rcx */
	*p++ = 0x75; *p = (uint8_t)(ref - (p + 1)); p++;	/* jnz ref */
	p = emit_rdtsc(p);
	*p++ = 0x4c; *p++ = 0x29; *p++ = 0xc8;			/* sub rax, r9 */
	p = emit_add_rax(p, HS_VM_REF_TSC_GPA);
	*skip = (uint8_t)(p - (skip + 1));
	*p++ = 0x48; *p++ = 0xff; *p++ = 0x04; *p++ = 0x25;	/* inc qword [abs32] */
	p = l1vmm_put32(p, HS_VM_ITER_GPA);
	*p++ = 0xe9; p = l1vmm_put32(p, (uint32_t)(top - (p + 4)));	/* jmp top */
}

/* Runs until the process exits; exiting tears the VM down. */
static void *vcpu_thread(void *arg)
{
	struct hs_vm *v = arg;

	for (;;) {
		if (ioctl(v->vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR)
				continue;
			v->error = errno;
			return NULL;
		}
		if (v->run->exit_reason == KVM_EXIT_IO && v->run->io.port == DONE_PORT) {
			v->warm_done = 1;
			continue;
		}
		v->error = 1000 + v->run->exit_reason;
		return NULL;
	}
}

#define FAIL(step) do { v->what = step; return -errno; } while (0)

int hs_vm_create(struct hs_vm *v, size_t size, const uint64_t *warm,
		 unsigned int nwarm, const uint64_t *hot, unsigned int nhot)
{
	return hs_vm_create_backed(v, size, warm, nwarm, hot, nhot, 1);
}

int hs_vm_create_backed(struct hs_vm *v, size_t size, const uint64_t *warm,
			unsigned int nwarm, const uint64_t *hot,
			unsigned int nhot, int thp)
{
	uint8_t *m;

	memset(v, 0, sizeof(*v));
	v->what = "workload lists";
	if (nwarm > HS_VM_MAX_WARM || nhot > HS_VM_MAX_HOT || size % HS_VM_REGION)
		return -EINVAL;
	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		FAIL("open /dev/kvm");
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		FAIL("KVM_CREATE_VM");
	/*
	 * 2M-aligned, THP-backed, pre-faulted: stage 2 then maps 2M leaves.
	 * Without THP (@thp 0) the host pages are 4K, and so is stage 2.
	 */
	m = mmap(NULL, size + HS_VM_REGION, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED)
		FAIL("mmap guest memory");
	v->mem = (uint8_t *)(((uintptr_t)m + HS_VM_REGION - 1) & ~(HS_VM_REGION - 1));
	v->size = size;
	if (madvise(v->mem, size, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		FAIL(thp ? "madvise(MADV_HUGEPAGE)" : "madvise(MADV_NOHUGEPAGE)");
	memset(v->mem, 0x5a, size);
	write_guest(v, warm, nwarm, hot, nhot);

	v->vcpu = l1vmm_create_vcpu(v->kvm, v->vm, v->mem, size, &v->run, NULL, &v->what);
	if (v->vcpu < 0)
		return -errno;
	l1vmm_enter_long_mode(v->kvm, v->vcpu, CODE_GPA, 0);
	v->vm_stats = ioctl(v->vm, KVM_GET_STATS_FD, NULL);
	if (v->vm_stats < 0)
		FAIL("KVM_GET_STATS_FD");
	errno = pthread_create(&v->thread, NULL, vcpu_thread, v);
	if (errno)
		FAIL("pthread_create");
	return 0;
}

int hs_vm_wait_warm(struct hs_vm *v, double timeout_s)
{
	double t;

	for (t = hs_now(); !v->warm_done && !v->error && hs_now() - t < timeout_s;)
		usleep(10000);
	return v->warm_done && !v->error ? 0 : -1;
}

uint64_t hs_vm_iters(const struct hs_vm *v)
{
	return *(volatile uint64_t *)(v->mem + HS_VM_ITER_GPA);
}

uint64_t hs_vm_u64(const struct hs_vm *v, uint64_t gpa)
{
	return *(volatile uint64_t *)(v->mem + gpa);
}

void hs_vm_set_ref(struct hs_vm *v, uint64_t n)
{
	*(volatile uint64_t *)(v->mem + HS_VM_REF_N_GPA) = n;
}

int hs_vm_stat(int stats_fd, const char *name, uint64_t *val)
{
	struct kvm_stats_header h;
	struct kvm_stats_desc *d;
	size_t dsz;
	char *descs;
	uint32_t i;
	int ret = -1;

	if (pread(stats_fd, &h, sizeof(h), 0) != sizeof(h))
		return -1;
	dsz = sizeof(*d) + h.name_size;
	descs = malloc(dsz * h.num_desc);
	if (!descs)
		return -1;
	if (pread(stats_fd, descs, dsz * h.num_desc, h.desc_offset) !=
	    (ssize_t)(dsz * h.num_desc))
		goto out;
	for (i = 0; i < h.num_desc; i++) {
		d = (struct kvm_stats_desc *)(descs + i * dsz);
		if (strcmp(d->name, name))
			continue;
		if (pread(stats_fd, val, 8, h.data_offset + d->offset) == 8)
			ret = 0;
		break;
	}
out:
	free(descs);
	return ret;
}

int hs_open_dev(void)
{
	int fd = open("/dev/hugescope", O_RDWR | O_CLOEXEC);
	int ko, err;

	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : -errno;
	ko = open("/lib/modules/extra/hugescope.ko", O_RDONLY | O_CLOEXEC);
	if (ko < 0)
		return -ENOENT;
	/* EEXIST: loaded meanwhile, so the device should now be there. */
	err = syscall(SYS_finit_module, ko, "", 0) && errno != EEXIST ? errno : 0;
	close(ko);
	if (err)
		return -err;
	fd = open("/dev/hugescope", O_RDWR | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

uint64_t hs_vm_stat_tap(int stats_fd, const char *name)
{
	uint64_t v = 0;

	if (hs_vm_stat(stats_fd, name, &v))
		printf("# cannot read stat %s\n", name);
	return v;
}
