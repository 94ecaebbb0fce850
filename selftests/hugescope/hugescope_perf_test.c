// SPDX-License-Identifier: GPL-2.0
/*
 * hugescope_perf_test - what hugescope.ko costs the guest it tracks, run as
 * an L1 VMM (nested SVM/NPT in the TCG guest), in the style of the kernel's
 * KVM *_perf_test programs: it measures and prints, and only fails when
 * something is functionally broken (no KVM, ATTACH/DETACH refused, no
 * split-track-merge cycle).  Timing under TCG is noisy, so a result the
 * noise could explain is reported as such, never as a failure.
 *
 * The L2 guest (hs_vm.c) loops over a hot list - one fully hot 2M region
 * and skewed regions with a few hot 4K pages - and counts its passes; after
 * each walk it runs a register-only reference loop sized to take about as
 * long, and rdtsc times both.
 *
 * First one split-track-merge cycle is timed with short phases (SUMMARY and
 * the KVM stats).  Then the overhead: many pairs of short windows, one with
 * tracking off (not attached) and one on (ATTACH at the window's start,
 * DETACH - which merges whatever is still split - before its end), adjacent
 * in time and in alternating order (off-on, on-off, ...) so that slow drift
 * of the TCG host cancels.  The "on" windows use the same short phases as
 * the cycle, run without a cycle limit, and last at least two measured
 * cycles, so each holds coarse scans and a whole fine phase (splits, 4K
 * harvests, merges), not only 2M scans.  The L2 vCPU thread is pinned to
 * its own L1 CPU; this thread and unbound workqueues (the tracker's worker)
 * to the others.
 *
 * Two figures, each the median of the per-pair on/off ratios with its
 * interquartile range, a distribution-free 95% confidence interval of that
 * median (order statistics of the binomial) and a sign test, and a verdict:
 * distinguishable from 1.0 at the measured spread or not, and whether the
 * 3% target is met, exceeded or not resolved.  "throughput" is L2 passes
 * per second: everything tracking costs L2, and every swing of the speed
 * TCG gets from the host.  "normalized" is the hot walks' speed relative to
 * the reference loops of the same passes: host speed cancels, but so does
 * vCPU time that tracking takes evenly from both (exits, IPIs), so it is
 * the memory-access cost of tracking (4K leaves, cleared A bits, stage-2
 * walks), a lower bound of the whole.  With the machine model on (QEMU
 * mmodel=on, docs/mmodel.md) a third figure needs no clock at all:
 * "modelled" is the machine's modelled cycles (every CPU, every mode: L2,
 * the L1 kernel, the tracker's worker) per L2 pass, tracking off over on,
 * with the terms that moved (instructions by mode, data, walks, world
 * switches and flushes).  On the deterministic VM (vm.sh --deterministic)
 * it is the figure to quote.
 *
 * Usage: hugescope_perf_test [-p pairs] [-s min_seconds_per_window]
 *                            [-g settle_seconds] [-u]
 * -u leaves the threads unpinned (see pin_threads()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <fcntl.h>
#include <stdint.h>
#include "hugescope_uapi.h"
#include "hs_vm.h"
#include "l1vmm.h"
#include "mmodel/mmodel_msr.h"

#define NR_REGIONS	12		/* workload regions from 4M */
#define GUEST_MEM_SIZE	(32UL << 20)
#define MAX_PAIRS	200
#define SKEW_K		16		/* hot 4K pages per skewed region */

static struct hs_vm v;
static const char * const kvm_stats[] = {
	"hs_splits", "hs_merges", "hs_harvests", "hs_harvest_ns", "hs_tlb_flushes",
};
#define NR_KVM_STATS	(sizeof(kvm_stats) / sizeof(kvm_stats[0]))

/*
 * Short phases, for the cycle and for every "on" window: a fine phase
 * starts after 4 coarse scans, so one happens within a window of a few
 * seconds (the worker's CPU budget stretches the periods when a scan or a
 * split takes long, which the measured cycle time includes).
 */
static const struct hugescope_attach short_phases = {
	.coarse_period_ms = 100, .coarse_rounds = 4, .hot_rounds = 3,
	.fine_window_ms = 100, .fine_windows = 5,
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Quantile @p of sorted @x (linear interpolation between order statistics). */
static double quantile(const double *x, int n, double p)
{
	double h = (n - 1) * p;
	int i = (int)h;

	return i + 1 < n ? x[i] + (h - i) * (x[i + 1] - x[i]) : x[n - 1];
}

/* P(X <= k) for X ~ Binomial(n, 1/2); n <= MAX_PAIRS keeps 2^-n a double. */
static double binom_cdf(int n, int k)
{
	double pmf = 1, sum = 0;
	int i;

	for (i = 0; i < n; i++)
		pmf /= 2;
	for (i = 0; i <= k && i <= n; i++) {
		sum += pmf;
		pmf = pmf * (n - i) / (i + 1);
	}
	return sum < 1 ? sum : 1;
}

/* Region 0 fully hot, the others skewed with SKEW_K pages each. */
static void build_workload(void)
{
	static uint64_t warm[NR_REGIONS * 512], hot[512 + NR_REGIONS * SKEW_K];
	unsigned int r, i, nwarm = 0, nhot = 0;
	int err;

	for (r = 0; r < NR_REGIONS; r++) {
		for (i = 0; i < 512; i++)
			warm[nwarm++] = hs_vm_page(r, i);
		for (i = 0; i < (r ? SKEW_K : 512U); i++)
			hot[nhot++] = hs_vm_page(r, r ? (i * 37 + 5) % 512 : i);
	}
	err = hs_vm_create(&v, GUEST_MEM_SIZE, warm, nwarm, hot, nhot);
	if (err) {
		errno = -err;
		tap_bail(v.what);
	}
}

#define WQ_CPUMASK	"/sys/devices/virtual/workqueue/cpumask"
static char wq_mask_saved[64];

/* Set the unbound workqueue cpumask; 0 or an errno. */
static int write_wq_mask(unsigned long mask)
{
	FILE *f = fopen(WQ_CPUMASK, "w");
	int err;

	if (!f)
		return errno;
	fprintf(f, "%lx\n", mask);
	err = fclose(f) ? errno : 0;
	return err;
}

/*
 * Keep the L2 vCPU thread on the last CPU and this thread (and so, mostly,
 * the tracker's unbound worker) off it: under TCG a thread that moves
 * between vCPUs runs with cold softmmu TLBs, which by itself changes L2
 * throughput by tens of percent from one window to the next.
 */
static void pin_threads(void)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;
	int i, err;

	if (ncpu < 2) {
		printf("# pinning: only %ld CPU, threads not pinned\n", ncpu);
		return;
	}
	CPU_ZERO(&set);
	CPU_SET(ncpu - 1, &set);
	err = pthread_setaffinity_np(v.thread, sizeof(set), &set);
	CPU_ZERO(&set);
	for (i = 0; i < ncpu - 1; i++)
		CPU_SET(i, &set);
	if (!err)
		err = sched_setaffinity(0, sizeof(set), &set) ? errno : 0;
	printf("# pinning: L2 vCPU thread on CPU %ld, VMM on CPUs 0..%ld: %s\n",
	       ncpu - 1, ncpu - 2, err ? strerror(err) : "ok");
	/*
	 * The tracker's worker is on an unbound workqueue: keep unbound
	 * workers off the L2 vCPU's CPU too (restored at exit).
	 */
	if (ncpu <= 32) {
		FILE *f = fopen(WQ_CPUMASK, "r");

		if (f && fscanf(f, "%63s", wq_mask_saved) != 1)
			wq_mask_saved[0] = 0;
		if (f)
			fclose(f);
		err = write_wq_mask((1UL << (ncpu - 1)) - 1);
		printf("# pinning: unbound workqueues on CPUs 0..%ld (was %s): %s\n",
		       ncpu - 2, wq_mask_saved[0] ? wq_mask_saved : "?",
		       err ? strerror(err) : "ok");
	}
}

static void restore_wq_mask(void)
{
	FILE *f;

	if (!wq_mask_saved[0])
		return;
	f = fopen(WQ_CPUMASK, "w");
	if (f) {
		fprintf(f, "%s\n", wq_mask_saved);
		fclose(f);
	}
}

static void sleep_until(double t)
{
	double now = hs_now();

	if (t > now)
		usleep((t - now) * 1e6);
}

/* L2 passes per second over @secs. */
static double window_rate(double secs)
{
	uint64_t i0 = hs_vm_iters(&v), i1;
	double t0 = hs_now(), t1;

	sleep_until(t0 + secs);
	i1 = hs_vm_iters(&v);
	t1 = hs_now();
	return (i1 - i0) / (t1 - t0);
}

/*
 * Size the reference loop so that it takes about as long as a hot walk;
 * both then see the same host speed at the same moments.
 */
static void calibrate_ref(void)
{
	const uint64_t n0 = 20000;
	uint64_t i0, h0, r0, di;
	double per_iter, per_walk, n;

	hs_vm_set_ref(&v, n0);
	usleep(200000);
	i0 = hs_vm_iters(&v);
	h0 = hs_vm_u64(&v, HS_VM_HOT_TSC_GPA);
	r0 = hs_vm_u64(&v, HS_VM_REF_TSC_GPA);
	usleep(1000000);
	di = hs_vm_iters(&v) - i0;
	per_iter = di ? (double)(hs_vm_u64(&v, HS_VM_REF_TSC_GPA) - r0) / di / n0 : 0;
	per_walk = di ? (double)(hs_vm_u64(&v, HS_VM_HOT_TSC_GPA) - h0) / di : 0;
	n = per_iter > 0 ? per_walk / per_iter : n0;
	n = n < 1000 ? 1000 : n > 1e7 ? 1e7 : n;
	hs_vm_set_ref(&v, (uint64_t)n);
	printf("# reference loop: %.0f TSC cycles per hot walk, %.2f per loop "
	       "iteration: %llu iterations per pass\n", per_walk, per_iter,
	       (unsigned long long)n);
	window_rate(1);		/* settle at the new length, not counted */
}

/* Machine-model counters summed over every CPU (0 if the model is off). */
#define MODEL_MAX_CPUS	64
static int model_fd[MODEL_MAX_CPUS], model_cpus;

static void model_open(void)
{
	char path[64];
	uint64_t v;
	int c;

	for (c = 0; c < MODEL_MAX_CPUS; c++) {
		snprintf(path, sizeof(path), "/dev/cpu/%d/msr", c);
		model_fd[c] = open(path, O_RDONLY | O_CLOEXEC);
		if (model_fd[c] < 0)
			break;
	}
	model_cpus = c;
	if (!c || pread(model_fd[0], &v, 8, MSR_MMODEL_VERSION) != 8 ||
	    (v & 0xff) != MMODEL_ABI_VERSION || ((v >> 8) & 0xff) < MMODEL_MSR_NR)
		model_cpus = 0;
}

static void model_read(uint64_t *c)
{
	uint64_t v;
	int cpu, i;

	memset(c, 0, MMODEL_MSR_NR * sizeof(*c));
	for (cpu = 0; cpu < model_cpus; cpu++)
		for (i = 0; i < MMODEL_MSR_NR; i++)
			if (pread(model_fd[cpu], &v, 8, MSR_MMODEL_COUNTER0 + i) == 8)
				c[i] += v;
}

static void read_kvm_stats(uint64_t *val)
{
	unsigned int i;

	for (i = 0; i < NR_KVM_STATS; i++)
		if (hs_vm_stat(v.vm_stats, kvm_stats[i], &val[i]))
			val[i] = 0;
}

struct rates {
	double rate;	/* L2 passes per second */
	double norm;	/* reference-loop cycles per hot-walk cycle */
	double passes;	/* L2 passes in the window */
	uint64_t model[MMODEL_MSR_NR];	/* machine-model counters over it */
};

/*
 * One window of @secs; with @tracking, ATTACH with short phases at its
 * start and DETACH (merging what is still split) inside it, so that the
 * whole cost of tracking falls in the window.  @s gets the SUMMARY read
 * just before DETACH.  Returns 0, or -1 if ATTACH/DETACH failed.
 */
static int window(int hs, int tracking, double secs, struct hugescope_summary *s,
		  struct rates *r)
{
	struct hugescope_attach a = short_phases;
	uint64_t i0 = hs_vm_iters(&v), h0 = hs_vm_u64(&v, HS_VM_HOT_TSC_GPA);
	uint64_t r0 = hs_vm_u64(&v, HS_VM_REF_TSC_GPA), i1, h1, r1;
	double t0 = hs_now(), t1;
	uint64_t m0[MMODEL_MSR_NR];
	int err = 0, i;

	model_read(m0);
	a.vm_fd = v.vm;
	memset(s, 0, sizeof(*s));
	if (tracking && ioctl(hs, HUGESCOPE_IOC_ATTACH, &a)) {
		printf("# ATTACH: %s\n", strerror(errno));
		return -1;
	}
	/* DETACH of a fine phase merges every split region: leave it room. */
	sleep_until(t0 + (tracking ? 0.95 : 1) * secs);
	if (tracking) {
		if (ioctl(hs, HUGESCOPE_IOC_SUMMARY, s))
			memset(s, 0, sizeof(*s));
		if (ioctl(hs, HUGESCOPE_IOC_DETACH)) {
			printf("# DETACH: %s\n", strerror(errno));
			err = -1;
		}
	}
	sleep_until(t0 + secs);
	i1 = hs_vm_iters(&v);
	h1 = hs_vm_u64(&v, HS_VM_HOT_TSC_GPA);
	r1 = hs_vm_u64(&v, HS_VM_REF_TSC_GPA);
	t1 = hs_now();
	model_read(r->model);
	for (i = 0; i < MMODEL_MSR_NR; i++)
		r->model[i] -= m0[i];
	r->passes = (double)(i1 - i0);
	r->rate = (i1 - i0) / (t1 - t0);
	r->norm = h1 > h0 ? (double)(r1 - r0) / (h1 - h0) : 0;
	return err;
}

/*
 * Median, IQR, distribution-free 95% CI of the median and sign test of
 * the @n on/off ratios @x (sorted here); prints "# result: NAME: ..." and
 * a verdict.  Returns 1 if the CI is wider than the 3% target.
 */
static int report(const char *name, double *x, int n)
{
	double q1, med, q3, lo = 0, hi = 0, cover = 0, p;
	int i, k, slower = 0, ties = 0;

	for (i = 0; i < n; i++) {
		slower += x[i] < 1;
		ties += x[i] == 1;
	}
	qsort(x, n, sizeof(x[0]), cmp_double);
	q1 = quantile(x, n, 0.25);
	med = quantile(x, n, 0.5);
	q3 = quantile(x, n, 0.75);
	/*
	 * [x(k), x(n+1-k)] covers the median with probability
	 * 1 - 2 P(Bin(n, 1/2) <= k - 1): the largest k giving 95% or more.
	 */
	for (k = 1; 2 * k <= n && 2 * binom_cdf(n, k - 1) <= 0.05; k++) {
		lo = x[k - 1];
		hi = x[n - k];
		cover = 1 - 2 * binom_cdf(n, k - 1);
	}
	/* Sign test of "on is as likely slower as faster"; ties dropped. */
	i = n - ties;
	p = 2 * binom_cdf(i, slower < i - slower ? slower : i - slower);
	p = p < 1 ? p : 1;

	printf("# result: %s: %d pairs, on/off median %.4f, IQR %.4f..%.4f "
	       "(%.1f%% wide); overhead %.2f%% (IQR %.2f%%..%.2f%%)\n",
	       name, n, med, q1, q3, 100 * (q3 - q1), 100 * (1 - med),
	       100 * (1 - q3), 100 * (1 - q1));
	if (!cover) {
		printf("# WARN: %s: too few pairs (%d) for a 95%% CI of the median\n",
		       name, n);
		return 1;
	}
	printf("# result: %s: 95%% CI of the median %.4f..%.4f (%.1f%% coverage), "
	       "overhead %.2f%%..%.2f%%; sign test: %d of %d pairs slower with "
	       "tracking, p = %.3g\n", name, lo, hi, 100 * cover,
	       100 * (1 - hi), 100 * (1 - lo), slower, n - ties, p);
	if (lo <= 1 && hi >= 1)
		printf("# result: %s: verdict: NOT distinguishable from 1.0 (CI contains "
		       "1.0); %s\n", name, 1 - lo <= 0.03 ?
		       "an overhead above 3% is ruled out" :
		       "the noise is too large to tell whether the 3% target is met");
	else
		printf("# result: %s: verdict: distinguishable from 1.0: tracking %s; %s\n",
		       name, hi < 1 ? "slows L2" : "speeds L2 up",
		       1 - lo <= 0.03 ? "overhead within the 3% target" :
		       1 - hi > 0.03 ? "overhead above the 3% target" :
		       "the CI straddles the 3% target");
	if (hi - lo > 0.03) {
		printf("# WARN: %s: the 95%% CI is %.1f%% wide, wider than the 3%% target: "
		       "TCG noise dominates at %d pairs\n", name, 100 * (hi - lo), n);
		return 1;
	}
	return 0;
}

/*
 * @npairs pairs of adjacent off/on windows in alternating order, an
 * untimed @settle after each window; returns 0 if ATTACH/DETACH always
 * worked.
 */
static int measure_overhead(int hs, int npairs, double secs, double settle)
{
	static double ratio[MAX_PAIRS], nratio[MAX_PAIRS], mratio[MAX_PAIRS];
	static const int terms[] = {
		MMODEL_MSR_CYCLES, MMODEL_MSR_INSNS_KERNEL, MMODEL_MSR_INSNS_NESTED,
		MMODEL_MSR_CYCLES_INSN, MMODEL_MSR_CYCLES_DATA, MMODEL_MSR_CYCLES_WALK,
		MMODEL_MSR_CYCLES_SWITCH, MMODEL_MSR_VMEXITS, MMODEL_MSR_FLUSHES,
	};
	double per_pass[2][sizeof(terms) / sizeof(terms[0])] = { { 0 } };
	double passes[2] = { 0 };
	unsigned long long scans = 0, phases = 0, splits = 0, merges = 0;
	unsigned long long min_phases = ~0ULL;
	int i, err = 0;

	printf("# overhead: %d pairs of %.2f s windows (settle %.2f s), on = ATTACH "
	       "coarse %u ms x %u, fine %u ms x %u, hot_rounds %u, no cycle limit\n",
	       npairs, secs, settle, short_phases.coarse_period_ms,
	       short_phases.coarse_rounds, short_phases.fine_window_ms,
	       short_phases.fine_windows, short_phases.hot_rounds);
	for (i = 0; i < npairs; i++) {
		struct hugescope_summary s, unused;
		struct rates r[2];
		int j;

		for (j = 0; j < 2; j++) {
			int tracking = j ^ (i & 1);	/* off-on, then on-off */

			if (window(hs, tracking, secs, tracking ? &s : &unused,
				   &r[tracking]))
				err = 1;
			usleep(settle * 1e6);
		}
		ratio[i] = r[0].rate > 0 ? r[1].rate / r[0].rate : 0;
		nratio[i] = r[0].norm > 0 ? r[1].norm / r[0].norm : 0;
		/* Cycles per pass, off over on: below 1 when tracking costs. */
		mratio[i] = r[0].passes > 0 && r[1].passes > 0 && r[1].model[MMODEL_MSR_CYCLES] ?
			    (r[0].model[MMODEL_MSR_CYCLES] / r[0].passes) /
			    (r[1].model[MMODEL_MSR_CYCLES] / r[1].passes) : 0;
		for (j = 0; j < 2; j++) {
			passes[j] += r[j].passes;
			for (unsigned int t = 0; t < sizeof(terms) / sizeof(terms[0]); t++)
				per_pass[j][t] += r[j].model[terms[t]];
		}
		if (model_cpus)
			printf("# pair %3d model: %.0f vs %.0f modelled cycles per pass "
			       "(off/on %.4f)\n", i,
			       r[0].passes ? r[0].model[MMODEL_MSR_CYCLES] / r[0].passes : 0,
			       r[1].passes ? r[1].model[MMODEL_MSR_CYCLES] / r[1].passes : 0,
			       mratio[i]);
		scans += s.coarse_scans;
		phases += s.fine_phases;
		splits += s.splits;
		merges += s.merges;
		if (s.fine_phases < min_phases)
			min_phases = s.fine_phases;
		printf("# pair %3d %-6s off %9.1f on %9.1f passes/s ratio %.4f, "
		       "normalized %.4f (on: %llu scans, %llu fine phases, %llu splits, "
		       "%s at detach)\n", i, i & 1 ? "on-off" : "off-on", r[0].rate,
		       r[1].rate, ratio[i], nratio[i], (unsigned long long)s.coarse_scans,
		       (unsigned long long)s.fine_phases, (unsigned long long)s.splits,
		       s.state == HUGESCOPE_STATE_FINE ? "fine" : "coarse");
		fflush(stdout);
	}
	if (err)
		return 1;
	printf("# result: overhead: on windows did %llu coarse scans, %llu fine phases "
	       "(at least %llu per window), %llu splits, %llu merges\n", scans, phases,
	       min_phases, splits, merges);
	if (min_phases == 0)
		printf("# WARN: some on windows held no complete fine phase\n");
	/*
	 * throughput: L2 passes/s, everything tracking costs L2, and every
	 * change in the speed TCG gets from the host.  normalized: hot-walk
	 * speed relative to the register-only loop run in the same passes,
	 * which cancels the host's speed but also vCPU time lost evenly
	 * (exits, IPIs): it is the memory-access cost of tracking (4K leaves,
	 * cleared A bits, stage-2 walks).
	 */
	report("throughput", ratio, npairs);
	report("normalized", nratio, npairs);
	if (model_cpus && passes[0] > 0 && passes[1] > 0) {
		static const char *const names[] = {
			"cycles", "insns-kernel", "insns-nested", "cycles-insn",
			"cycles-data", "cycles-walk", "cycles-switch", "vmexits",
			"flushes",
		};

		report("modelled", mratio, npairs);
		printf("# result: modelled: per L2 pass, off -> on (all windows):");
		for (unsigned int t = 0; t < sizeof(terms) / sizeof(terms[0]); t++)
			printf(" %s %.0f -> %.0f;", names[t], per_pass[0][t] / passes[0],
			       per_pass[1][t] / passes[1]);
		printf("\n");
	}
	return 0;
}

/*
 * One split-track-merge cycle with the short phases; 0 if it completed.
 * *@wall gets its wall time from ATTACH until the tracker went idle.
 */
static int measure_cycle(int hs, double *wall)
{
	struct hugescope_attach a = short_phases;
	uint64_t k0[NR_KVM_STATS], k1[NR_KVM_STATS];
	struct hugescope_summary s = { 0 };
	double t;
	int ok;

	a.vm_fd = v.vm;
	a.max_cycles = 1;
	read_kvm_stats(k0);
	if (ioctl(hs, HUGESCOPE_IOC_ATTACH, &a)) {
		printf("# ATTACH (cycle): %s\n", strerror(errno));
		return 1;
	}
	for (t = hs_now(); hs_now() - t < 120; usleep(20000))
		if (ioctl(hs, HUGESCOPE_IOC_SUMMARY, &s) ||
		    s.state == HUGESCOPE_STATE_IDLE)
			break;
	t = hs_now() - t;
	*wall = t;
	read_kvm_stats(k1);
	ok = s.state == HUGESCOPE_STATE_IDLE && s.fine_phases == 1 && s.splits > 0;
	printf("# result: cycle: %llu regions split/merged (%llu/%llu failed) in %.2f s wall; "
	       "split %.1f us/region, merge %.1f us/region, 4K harvest %.1f us/window "
	       "(%llu windows), 2M harvest %.1f us/scan (%llu scans), worker %.1f ms\n",
	       (unsigned long long)s.splits, (unsigned long long)s.split_failures,
	       (unsigned long long)s.merge_failures, t,
	       s.splits ? s.split_ns / 1e3 / s.splits : 0,
	       s.merges ? s.merge_ns / 1e3 / s.merges : 0,
	       s.fine_windows ? s.harvest_4k_ns / 1e3 / s.fine_windows : 0,
	       (unsigned long long)s.fine_windows,
	       s.coarse_scans ? s.harvest_2m_ns / 1e3 / s.coarse_scans : 0,
	       (unsigned long long)s.coarse_scans, s.worker_ns / 1e6);
	printf("# result: cycle KVM stats: hs_splits +%llu, hs_merges +%llu, "
	       "hs_harvests +%llu, hs_harvest_ns +%llu (%.1f ms), hs_tlb_flushes +%llu\n",
	       (unsigned long long)(k1[0] - k0[0]), (unsigned long long)(k1[1] - k0[1]),
	       (unsigned long long)(k1[2] - k0[2]), (unsigned long long)(k1[3] - k0[3]),
	       (k1[3] - k0[3]) / 1e6, (unsigned long long)(k1[4] - k0[4]));
	if (ioctl(hs, HUGESCOPE_IOC_DETACH))
		ok = 0;
	return !ok;
}

int main(int argc, char **argv)
{
	double secs = 1, settle = 0.2, cycle = 0, win;
	int npairs = 24, pin = 1, hs, c;

	while ((c = getopt(argc, argv, "p:s:g:u")) != -1) {
		if (c == 'u')
			pin = 0;
		else if (c == 'p')
			npairs = atoi(optarg);
		else if (c == 's')
			secs = atof(optarg);
		else if (c == 'g')
			settle = atof(optarg);
		else
			npairs = -1;
	}
	if (npairs < 1 || npairs > MAX_PAIRS || secs < 0.1 || secs > 600 ||
	    settle < 0 || settle > 60) {
		fprintf(stderr, "usage: %s [-p 1..%d pairs] [-s 0.1..600 min s per window] "
			"[-g 0..60 s settle] [-u: unpinned]\n", argv[0], MAX_PAIRS);
		return 2;
	}

	printf("TAP version 13\n");
	if (access("/dev/kvm", R_OK | W_OK)) {
		printf("1..0 # SKIP /dev/kvm: %s\n", strerror(errno));
		return 4;
	}
	hs = hs_open_dev();
	if (hs < 0) {
		printf("1..0 # SKIP /dev/hugescope: %s (insmod hugescope.ko)\n",
		       strerror(-hs));
		return 4;
	}
	model_open();
	printf("# machine model: %s\n", model_cpus ? "on (a \"modelled\" figure follows)" :
	       "off (no modelled figure)");
	build_workload();
	if (pin)
		pin_threads();
	tap_report(hs_vm_wait_warm(&v, 60) == 0, "L2 read every workload page once "
		   "(vcpu error %d)", v.error);
	if (!v.warm_done) {
		restore_wq_mask();
		return 1;
	}
	/*
	 * The first seconds run visibly slower under TCG (translation blocks
	 * and TLBs still warming up): one untimed window keeps that out of
	 * the figures.
	 */
	printf("# warm-up %10.1f passes/s (not counted)\n", window_rate(2));
	calibrate_ref();

	tap_report(measure_cycle(hs, &cycle) == 0 && !v.error,
		   "one split-track-merge cycle completed and detached");
	/* Room for a whole fine phase in every on window, and some to spare. */
	win = cycle * 2 > secs ? cycle * 2 : secs;
	win = (int)(win * 10 + 0.999) / 10.0;
	tap_report(measure_overhead(hs, npairs, win, settle) == 0 && !v.error,
		   "%d off/on window pairs, ATTACH/DETACH each time", npairs);
	restore_wq_mask();
	printf("1..%d\n# %d tests, %d failed\n", tap_run, tap_run, tap_failed);
	fflush(stdout);
	/* The vCPU thread never returns; exiting tears the VM down. */
	_exit(tap_failed ? 1 : 0);
}
