// SPDX-License-Identifier: GPL-2.0
/*
 * lpt_run - run a command with (or, with --off, without) a learned page
 * table and report what the emulated MMU did for it: LPT walks, memory
 * references, single-reference walks, walk-cache hits, misses,
 * cross-check mismatches, and the radix walks that remained (kernel
 * addresses, or everything with --off), all summed over CPUs, plus the
 * largest index lpt.ko kept for the process (sampled from
 * /sys/kernel/debug/lpt/mms every 20 ms) and, with the machine model on
 * (QEMU mmodel=on), the modelled cycles by term.  make bench runs the same
 * workload both ways in one VM and prints them side by side.  The
 * counters are machine-wide: run nothing else meanwhile.
 * Usage: lpt_run [--off] [--no-index] -- command [args...]
 * --no-index skips the sampling of the index size: its reads of debugfs
 * would be counted in the machine-wide figures (modelled cycles) too.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/wait.h>

#include "lpt_util.h"

/* Radix walk counters (docs/walkstats.md): walks and references. */
#define WALK_MSR_WALKS	MSR_WALKSTAT_COUNTER0
#define WALK_MSR_REFS	(MSR_WALKSTAT_COUNTER0 + 1)

struct sample {
	long long index_bytes, pages, pages_2m, depth, leaves, collisions,
		  retrains;
};

static long long field(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	return p ? strtoll(p + strlen(pat), NULL, 0) : -1;
}

/* Largest index seen so far for @pid's mm (one line per mm in "mms"). */
static void sample(pid_t pid, struct sample *s)
{
	static char buf[1 << 18];
	char pat[32];
	char *line, *save;

	if (lptu_read_file("/sys/kernel/debug/lpt/mms", buf, sizeof(buf)) < 0)
		return;
	snprintf(pat, sizeof(pat), "pid=%d ", pid);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		long long ib;

		if (strncmp(line, pat, strlen(pat)))
			continue;
		ib = field(line, "index_bytes");
		if (ib > s->index_bytes) {
			s->index_bytes = ib;
			s->depth = field(line, "depth");
			s->leaves = field(line, "leaves");
		}
		if (field(line, "pages") > s->pages)
			s->pages = field(line, "pages");
		if (field(line, "pages_2m") > s->pages_2m)
			s->pages_2m = field(line, "pages_2m");
		if (field(line, "collisions") > s->collisions)
			s->collisions = field(line, "collisions");
		if (field(line, "retrains") > s->retrains)
			s->retrains = field(line, "retrains");
	}
}

static int radix(uint64_t *walks, uint64_t *refs)
{
	*walks = *refs = 0;
	for (int c = 0; c < lptu_open_msrs(); c++) {
		uint64_t w, r;

		if (lptu_rdmsr(c, WALK_MSR_WALKS, &w) ||
		    lptu_rdmsr(c, WALK_MSR_REFS, &r))
			return -1;
		*walks += w;
		*refs += r;
	}
	return 0;
}

static double pct(unsigned long long a, unsigned long long b)
{
	return b ? 100.0 * a / b : 0;
}

/* The same figures for a human reader (the line above is for scripts). */
static void summary(bool off, const struct lptu_counters *d,
		    unsigned long long rwalks, unsigned long long rrefs,
		    const struct sample *s)
{
	unsigned long long w = d->c[LPT_CNT_WALKS];
	unsigned long long lwc = d->c[LPT_CNT_LWC_HITS] + d->c[LPT_CNT_LWC_MISSES];

	if (off) {
		printf("  radix: %llu walks, %.3f refs per walk (no LPT)\n",
		       rwalks, rwalks ? (double)rrefs / rwalks : 0);
		return;
	}
	printf("  LPT: %llu user walks, %.3f refs per walk, %.2f%% of translations single-reference, %llu misses (first touches), %llu mismatches, %llu radix walks of user addresses\n",
	       w, w ? (double)d->c[LPT_CNT_REFS] / w : 0,
	       pct(d->c[LPT_CNT_HITS_1REF], w - d->c[LPT_CNT_MISSES]),
	       (unsigned long long)d->c[LPT_CNT_MISSES],
	       (unsigned long long)d->c[LPT_CNT_MISMATCHES],
	       (unsigned long long)d->c[LPT_CNT_RADIX_USER]);
	printf("  LWC hit rate %.2f%%; index %lld B (depth %lld, %lld leaves) for %lld pages (%lld 2M); %lld retrains; kernel radix walks %llu\n",
	       pct(d->c[LPT_CNT_LWC_HITS], lwc), s->index_bytes, s->depth,
	       s->leaves, s->pages, s->pages_2m, s->retrains, rwalks);
}

int main(int argc, char **argv)
{
	struct lptu_counters a, b, d;
	uint64_t rw0, rr0, rw1, rr1, mm0[MM_NR], mm1[MM_NR];
	int mm;
	struct sample s = { 0 };
	int off = 0, no_index = 0, i = 1, st;
	double t0, secs;
	pid_t pid;

	for (; i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "--off")) {
			off = 1;
		} else if (!strcmp(argv[i], "--no-index")) {
			no_index = 1;
		} else {
			fprintf(stderr, "lpt_run: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc) {
		fprintf(stderr, "usage: lpt_run [--off] [--no-index] -- command [args...]\n");
		return 2;
	}
	if (!(lptu_ctl() & LPT_CTL_VERSION_MASK)) {
		fprintf(stderr, "lpt_run: the MMU has no LPT (QEMU lpt=on?)\n");
		return 1;
	}
	if (!off && lptu_load_module(NULL)) {
		perror("lpt_run: load lpt.ko");
		return 1;
	}
	if (lptu_read(&a) || radix(&rw0, &rr0)) {
		perror("lpt_run: read counters (/dev/cpu/N/msr)");
		return 1;
	}
	mm = !lptu_mmodel_read(mm0);
	t0 = now_s();
	pid = fork();
	if (pid < 0) {
		perror("lpt_run: fork");
		return 1;
	}
	if (!pid) {
		if (prctl(PR_SET_LPT, off ? 0 : 1, 0, 0, 0)) {
			perror("lpt_run: PR_SET_LPT");
			_exit(127);
		}
		execvp(argv[i], argv + i);
		perror("lpt_run: exec");
		_exit(127);
	}
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (!off && !no_index)
			sample(pid, &s);
		usleep(20000);
	}
	secs = now_s() - t0;
	lptu_read(&b);
	radix(&rw1, &rr1);
	mm = mm && !lptu_mmodel_read(mm1);
	lptu_delta(&d, &a, &b);
	printf("lpt_run: mode=%s status=%d secs=%.2f lpt_walks=%llu lpt_refs=%llu walks_1ref=%llu hits_1ref=%llu walks_0ref=%llu collisions=%llu lwc_hits=%llu lwc_misses=%llu misses=%llu mismatches=%llu crosschecks=%llu radix_user=%llu leaf_2m=%llu radix_walks=%llu radix_refs=%llu index_bytes=%lld depth=%lld leaves=%lld pages=%lld pages_2m=%lld retrains=%lld\n",
	       off ? "radix" : "lpt", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
	       secs,
	       (unsigned long long)d.c[LPT_CNT_WALKS],
	       (unsigned long long)d.c[LPT_CNT_REFS],
	       (unsigned long long)d.c[LPT_CNT_WALKS_1REF],
	       (unsigned long long)d.c[LPT_CNT_HITS_1REF],
	       (unsigned long long)d.c[LPT_CNT_WALKS_0REF],
	       (unsigned long long)d.c[LPT_CNT_COLLISIONS],
	       (unsigned long long)d.c[LPT_CNT_LWC_HITS],
	       (unsigned long long)d.c[LPT_CNT_LWC_MISSES],
	       (unsigned long long)d.c[LPT_CNT_MISSES],
	       (unsigned long long)d.c[LPT_CNT_MISMATCHES],
	       (unsigned long long)d.c[LPT_CNT_CROSSCHECKS],
	       (unsigned long long)d.c[LPT_CNT_RADIX_USER],
	       (unsigned long long)d.c[LPT_CNT_LEAF_2M],
	       (unsigned long long)(rw1 - rw0), (unsigned long long)(rr1 - rr0),
	       s.index_bytes, s.depth, s.leaves, s.pages, s.pages_2m,
	       s.retrains);
	if (mm) {
		/* One more line, so the one above keeps its fields. */
		printf("lpt_run: mmodel mode=%s ", off ? "radix" : "lpt");
		lptu_mmodel_print(mm0, mm1);
	}
	summary(off, &d, rw1 - rw0, rr1 - rr0, &s);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
