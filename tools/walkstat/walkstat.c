// SPDX-License-Identifier: GPL-2.0
/*
 * walkstat - run a command in the guest and print the page walks it caused.
 *
 * Pins itself (and so the command, which inherits the affinity) to one CPU,
 * reads that vCPU's page-walk counters through /dev/cpu/N/msr before and
 * after running the command, and prints the difference: walks, modelled
 * page-table references per walk and per level, paging-structure-cache hit
 * rates, walk faults, leaf page sizes, and the TLB/PWC model configuration
 * of the patched QEMU (docs/walkstats.md); and, when the vCPU has the
 * emulated LPT MMU (lpt=on, docs/lpt-mmu.md), its counters too.  The
 * counters are per vCPU, so
 * everything else that runs on that CPU meanwhile (interrupts, kernel
 * threads, walkstat's own fork/exec/wait) is included.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "walkstat-abi.h"
#include "walkstat-lpt.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: walkstat [-c CPU] -- COMMAND [ARG]...\n"
		"Run COMMAND pinned to CPU (default: the current one) and print\n"
		"the page-walk statistics of that vCPU over its run.\n");
}

static double ratio(uint64_t num, uint64_t den)
{
	return den ? (double)num / den : 0.0;
}

static void print_rate(const char *name, uint64_t hits, uint64_t lookups)
{
	if (lookups)
		printf("  %-12s %6.2f%%  (%llu of %llu lookups)\n", name,
		       100.0 * hits / lookups, (unsigned long long)hits,
		       (unsigned long long)lookups);
	else
		printf("  %-12s      -   (no lookups)\n", name);
}

static void report(int cpu, const struct walkstat_snap *d, int status)
{
	const uint64_t *c = d->c;
	uint64_t tlb_entries = d->tlb_cfg & 0xffffffffu;

	printf("walkstat: cpu %d, command %s %d\n", cpu,
	       WIFEXITED(status) ? "exited" : "killed by signal",
	       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	if (tlb_entries)
		printf("model: TLB %llu entries, %llu ways (FIFO)",
		       (unsigned long long)tlb_entries,
		       (unsigned long long)(d->tlb_cfg >> 32));
	else
		printf("model: no TLB model (every soft-TLB refill walks)");
	if (d->pwc_cfg)
		printf("; PWC %llu entries per level (LRU)\n",
		       (unsigned long long)d->pwc_cfg);
	else
		printf("; no page-walk caches (every level read)\n");

	printf("walks:            %llu\n", (unsigned long long)c[WS_WALKS]);
	printf("walk faults:      %llu\n", (unsigned long long)c[WS_FAULTS]);
	printf("references:       %llu (%.2f per walk; unmodelled %.2f)\n",
	       (unsigned long long)c[WS_REFS], ratio(c[WS_REFS], c[WS_WALKS]),
	       ratio(c[WS_RAW_REFS], c[WS_WALKS]));
	printf("  by level:       PML5 %llu  PML4 %llu  PDPT %llu  PD %llu  PT %llu\n",
	       (unsigned long long)c[WS_REFS_PML5],
	       (unsigned long long)c[WS_REFS_PML4],
	       (unsigned long long)c[WS_REFS_PDPT],
	       (unsigned long long)c[WS_REFS_PD],
	       (unsigned long long)c[WS_REFS_PT]);
	printf("leaf pages:       4K %llu  2M %llu  1G %llu\n",
	       (unsigned long long)c[WS_LEAF_4K],
	       (unsigned long long)c[WS_LEAF_2M],
	       (unsigned long long)c[WS_LEAF_1G]);
	printf("page-walk cache hit rate:\n");
	print_rate("PDE", c[WS_PWC_PDE_HITS], c[WS_PWC_PDE_LOOKUPS]);
	print_rate("PDPTE", c[WS_PWC_PDPTE_HITS], c[WS_PWC_PDPTE_LOOKUPS]);
	print_rate("PML4E", c[WS_PWC_PML4E_HITS], c[WS_PWC_PML4E_LOOKUPS]);
	if (tlb_entries)
		printf("TLB model:        %llu refills served without a walk, "
		       "%llu evictions\n", (unsigned long long)c[WS_TLB_HITS],
		       (unsigned long long)c[WS_TLB_EVICTIONS]);
	printf("nested (NPT):     %llu walks, %llu refs, %llu faults\n",
	       (unsigned long long)c[WS_NESTED_WALKS],
	       (unsigned long long)c[WS_NESTED_REFS],
	       (unsigned long long)c[WS_NESTED_FAULTS]);
}

/* The learned page table's walks, when the vCPU has the LPT MMU. */
static void report_lpt(const struct lpt_snap *d)
{
	const uint64_t *c = d->c;
	int i;

	printf("learned page table: root %#llx, %s, cross-check %s, "
	       "LWC %u entries\n", (unsigned long long)d->root,
	       d->ctl & LPT_CTL_STRICT ? "strict" : "radix fallback",
	       d->ctl & LPT_CTL_CROSSCHECK ? "on" : "off",
	       lpt_ctl_lwc_entries(d->ctl));
	printf("  walks:          %llu (%.2f refs per walk; %llu misses, "
	       "%llu fell back to radix)\n",
	       (unsigned long long)c[LPT_CNT_WALKS],
	       ratio(c[LPT_CNT_REFS], c[LPT_CNT_WALKS]),
	       (unsigned long long)c[LPT_CNT_MISSES],
	       (unsigned long long)c[LPT_CNT_FALLBACKS]);
	printf("  refs per walk:  0: %llu  1: %llu  2: %llu  3: %llu  4+: %llu\n",
	       (unsigned long long)c[LPT_CNT_WALKS_0REF],
	       (unsigned long long)c[LPT_CNT_WALKS_1REF],
	       (unsigned long long)c[LPT_CNT_WALKS_2REF],
	       (unsigned long long)c[LPT_CNT_WALKS_3REF],
	       (unsigned long long)c[LPT_CNT_WALKS_4PLUS]);
	printf("  leaf pages:     4K %llu  2M %llu  1G %llu\n",
	       (unsigned long long)c[LPT_CNT_LEAF_4K],
	       (unsigned long long)c[LPT_CNT_LEAF_2M],
	       (unsigned long long)c[LPT_CNT_LEAF_1G]);
	print_rate("LWC", c[LPT_CNT_LWC_HITS],
		   c[LPT_CNT_LWC_HITS] + c[LPT_CNT_LWC_MISSES]);
	printf("  all counters:");
	for (i = 0; i < LPT_CNT_NR; i++)
		printf(" %s=%llu", lpt_counter_names[i],
		       (unsigned long long)c[i]);
	printf("\n");
}

int main(int argc, char **argv)
{
	struct walkstat_snap before, after, delta;
	struct lpt_snap lpt_before, lpt_after, lpt_delta;
	int cpu = -1, opt, fd, ret, status, lpt;
	cpu_set_t set;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+c:h")) != -1) {
		switch (opt) {
		case 'c': {
			char *end;

			errno = 0;
			cpu = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || cpu < 0) {
				fprintf(stderr, "walkstat: bad cpu '%s'\n",
					optarg);
				return 2;
			}
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (cpu < 0)
		cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (cpu < 0 || sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "walkstat: cannot pin to cpu %d: %s\n", cpu,
			strerror(errno));
		return 2;
	}
	fd = walkstat_open(cpu);
	if (fd < 0) {
		fprintf(stderr, "walkstat: /dev/cpu/%d/msr: %s (needs root and "
			"CONFIG_X86_MSR)\n", cpu, strerror(errno));
		return 2;
	}
	ret = walkstat_read(fd, &before);
	if (ret) {
		fprintf(stderr, "walkstat: %s\n", ret == -ENODEV ?
			"no page-walk statistics MSRs (unpatched QEMU?)" :
			strerror(-ret));
		return 2;
	}
	lpt = !lpt_snap_read(fd, &lpt_before);

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("walkstat: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "walkstat: %s: %s\n", argv[optind],
			strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("walkstat: waitpid");
			return 2;
		}
	}

	ret = walkstat_read(fd, &after);
	if (ret) {
		fprintf(stderr, "walkstat: reading counters: %s\n",
			strerror(-ret));
		return 2;
	}
	walkstat_delta(&before, &after, &delta);
	report(cpu, &delta, status);
	if (lpt && !lpt_snap_read(fd, &lpt_after)) {
		lpt_snap_delta(&lpt_before, &lpt_after, &lpt_delta);
		report_lpt(&lpt_delta);
	}
	close(fd);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
