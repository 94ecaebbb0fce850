// SPDX-License-Identifier: GPL-2.0
/*
 * Guest selftest of the 2D translation model (docs/walkstats.md, "Nested
 * paging"; docs/mmodel.md): this guest is an L1 VMM whose L2 guest maps
 * its memory with 2 MiB pages (guest "THP") and reads one word from each
 * 4 KiB page of 16 MiB, pass after pass.  Once the host backs that memory
 * with THP (stage 2 maps 2 MiB leaves), once with 4 KiB pages (stage 2 maps
 * 4 KiB leaves).  A TLB entry of a nested translation covers the smaller
 * of the two pages, so with 4 KiB stage-2 pages the 4096 pages overflow
 * the modelled 1536-entry TLB and every pass misses, while 2 MiB stage-2
 * pages fit in 8 entries.  Checked, per pass of the L2 loop:
 *  - 4K stage 2 causes far more TLB misses (2D walks) than 2M stage 2;
 *  - and far more 2D references (guest table plus nested table);
 *  - every 2D reference the walk model counts went through the machine
 *    model's caches (walk-2d-* plus walk-s2-* add up to them).
 * Each configuration runs in a child process, so that its VM is torn down
 * before the next one starts.  The vCPU runs on this CPU (0): the
 * counters are that vCPU's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hs_vm.h"
#include "l1vmm.h"
#include "walkstat-abi.h"
#include "walkstat-mmodel.h"

#define HOT_BYTES	(16UL << 20)
#define HOT_PAGES	(HOT_BYTES / 4096)
#define VM_BYTES	(HS_VM_FIRST_GPA + HOT_BYTES)
#define PASSES		4		/* measured passes of the L2 loop */

/* What one configuration measured, per pass; sent to the parent. */
struct result {
	int error;			/* errno, or 0 */
	char what[64];			/* the step that failed */
	double passes;
	double walks_2d, refs_guest, refs_nested;
	double model_2d, model_s2, model_unmodelled;
};

static uint64_t sum(const uint64_t *c, int from, int to)
{
	uint64_t s = 0;

	for (int i = from; i <= to; i++)
		s += c[i];
	return s;
}

/* Wait until L2 has made @n more passes than @from; the passes seen. */
static uint64_t wait_passes(const struct hs_vm *v, uint64_t from, uint64_t n)
{
	uint64_t it;

	while ((it = hs_vm_iters(v)) < from + n && !v->error)
		usleep(2000);
	return it;
}

/*
 * Both counter sets at one instant.  The vCPU thread shares this CPU, so
 * this thread reads as SCHED_FIFO, which the vCPU thread (SCHED_OTHER)
 * cannot preempt; reading the walk counters again after the model's
 * checks that no 2D walk happened in between.
 */
static int snapshot(int fd, struct walkstat_snap *w, struct mmodel_snap *m)
{
	struct sched_param rt = { .sched_priority = 1 }, other = { 0 };
	struct walkstat_snap again;
	int ret = -1;

	if (sched_setscheduler(0, SCHED_FIFO, &rt))
		return -1;
	for (int i = 0; i < 10 && ret; i++) {
		if (walkstat_read(fd, w) || mmodel_snap_read(fd, m) ||
		    walkstat_read(fd, &again))
			break;
		if (again.c[WS_TWO_D_WALKS] == w->c[WS_TWO_D_WALKS] &&
		    again.c[WS_TWO_D_REFS_NESTED] == w->c[WS_TWO_D_REFS_NESTED])
			ret = 0;
	}
	sched_setscheduler(0, SCHED_OTHER, &other);
	return ret;
}

static void measure(int thp, struct result *r)
{
	static uint64_t hot[HOT_PAGES];
	struct walkstat_snap wa, wb;
	struct mmodel_snap ma, mb;
	struct hs_vm v;
	uint64_t i0, i1;
	int fd, ret;

	for (unsigned long i = 0; i < HOT_PAGES; i++)
		hot[i] = HS_VM_FIRST_GPA + i * 4096;
	fd = walkstat_open(0);
	ret = hs_vm_create_backed(&v, VM_BYTES, hot, HOT_PAGES, hot, HOT_PAGES,
				  thp);
	if (fd < 0 || ret) {
		r->error = fd < 0 ? errno : -ret;
		snprintf(r->what, sizeof(r->what), "%s",
			 fd < 0 ? "open /dev/cpu/0/msr" : v.what);
		return;
	}
	if (hs_vm_wait_warm(&v, 3600)) {
		r->error = v.error ? v.error : ETIMEDOUT;
		snprintf(r->what, sizeof(r->what), "L2 warm pass");
		return;
	}
	/* Two passes to settle the TLB model, then the measured ones. */
	i0 = wait_passes(&v, hs_vm_iters(&v), 2);
	if (snapshot(fd, &wa, &ma)) {
		r->error = EIO;
		snprintf(r->what, sizeof(r->what), "reading the counters");
		return;
	}
	i1 = wait_passes(&v, i0, PASSES);
	if (snapshot(fd, &wb, &mb) || v.error) {
		r->error = v.error ? v.error : EIO;
		snprintf(r->what, sizeof(r->what), "reading the counters");
		return;
	}
	r->passes = (double)(i1 - i0);
	r->walks_2d = (wb.c[WS_TWO_D_WALKS] - wa.c[WS_TWO_D_WALKS]) / r->passes;
	r->refs_guest = (wb.c[WS_TWO_D_REFS_GUEST] -
			 wa.c[WS_TWO_D_REFS_GUEST]) / r->passes;
	r->refs_nested = (wb.c[WS_TWO_D_REFS_NESTED] -
			  wa.c[WS_TWO_D_REFS_NESTED]) / r->passes;
	r->model_2d = (sum(mb.c, MM_WALK_2D_L1, MM_WALK_2D_DRAM) -
		       sum(ma.c, MM_WALK_2D_L1, MM_WALK_2D_DRAM)) / r->passes;
	r->model_s2 = (sum(mb.c, MM_WALK_S2_L1, MM_WALK_S2_DRAM) -
		       sum(ma.c, MM_WALK_S2_L1, MM_WALK_S2_DRAM)) / r->passes;
	r->model_unmodelled = (mb.c[MM_WALK_UNMODELLED] -
			       ma.c[MM_WALK_UNMODELLED]) / r->passes;
}

/* Run measure() in a child, so its VM goes away with it. */
static void run(int thp, struct result *r)
{
	int p[2], st;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe(p)) {
		printf("Bail out! pipe: %s\n", strerror(errno));
		exit(1);
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		printf("Bail out! fork: %s\n", strerror(errno));
		exit(1);
	}
	if (!pid) {
		close(p[0]);
		measure(thp, r);
		_exit(write(p[1], r, sizeof(*r)) == sizeof(*r) ? 0 : 1);
	}
	close(p[1]);
	if (read(p[0], r, sizeof(*r)) != sizeof(*r)) {
		r->error = EPIPE;
		snprintf(r->what, sizeof(r->what), "the child died");
	}
	close(p[0]);
	waitpid(pid, &st, 0);
	if (r->error) {
		printf("Bail out! %s-backed L2: %s: %s\n", thp ? "THP" : "4K",
		       r->what, strerror(r->error));
		exit(1);
	}
	printf("# stage 2 %s: %.0f passes; per pass: %.1f 2D walks, %.1f guest + "
	       "%.1f nested refs; through the model: %.1f 2d + %.1f s2 (+%.1f not RAM)\n",
	       thp ? "2M" : "4K", r->passes, r->walks_2d, r->refs_guest,
	       r->refs_nested, r->model_2d, r->model_s2, r->model_unmodelled);
}

int main(void)
{
	struct walkstat_snap s;
	struct result big, small;
	cpu_set_t set;
	double counted, modelled;
	int fd;

	printf("TAP version 13\n");
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		printf("Bail out! pinning to CPU 0: %s\n", strerror(errno));
		return 1;
	}
	fd = walkstat_open(0);
	if (fd < 0 || walkstat_read(fd, &s)) {
		printf("1..0 # SKIP no walk-statistics MSRs\n");
		return 4;
	}
	if (!(s.version & WALKSTAT_VER_NTLB) || !(s.version & WALKSTAT_VER_TLB)) {
		printf("1..0 # SKIP the 2D model is off (QEMU walk-ntlb-entries)\n");
		return 4;
	}
	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("1..0 # SKIP /dev/kvm: %s\n", strerror(errno));
		return 4;
	}
	close(fd);
	printf("1..3\n# TLB model %llu entries; nested TLB %llu entries; "
	       "%lu L2 pages of 4K read per pass\n",
	       (unsigned long long)(s.tlb_cfg & 0xffffffffu),
	       (unsigned long long)(s.pwc_cfg >> 32), HOT_PAGES);

	run(1, &big);
	run(0, &small);
	printf("# 2D walks per pass: %.1f with 4K stage-2 pages, %.1f with 2M\n",
	       small.walks_2d, big.walks_2d);
	tap_report(small.walks_2d >= HOT_PAGES / 2 &&
		   small.walks_2d > 10 * big.walks_2d + 10,
		   "4k_stage2_more_tlb_misses");
	printf("# 2D references per pass: %.1f with 4K stage-2 pages (%.1f nested), "
	       "%.1f with 2M\n", small.refs_guest + small.refs_nested,
	       small.refs_nested, big.refs_guest + big.refs_nested);
	tap_report(small.refs_guest + small.refs_nested >
		   10 * (big.refs_guest + big.refs_nested) + 10 &&
		   small.refs_nested > 0, "4k_stage2_more_2d_refs");
	counted = small.refs_guest + small.refs_nested;
	modelled = small.model_2d + small.model_s2 + small.model_unmodelled;
	printf("# per pass, 4K stage 2: %.1f 2D references counted, %.1f through "
	       "the caches or not RAM\n", counted, modelled);
	tap_report(counted > 0 && modelled >= counted * 0.99 &&
		   modelled <= counted * 1.01, "2d_refs_through_caches");
	printf("# %s\n", tap_failed ? "FAIL" : "PASS");
	return tap_failed != 0;
}
