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
#include "walkstat-mmodel.h"

enum walkstat_format { FMT_TEXT, FMT_CSV, FMT_JSON };

static void usage(FILE *f)
{
	fprintf(f, "usage: walkstat [-c CPU] [-f text|csv|json] -- COMMAND [ARG]...\n"
		"Run COMMAND pinned to CPU (default: the current one) and print\n"
		"the page-walk statistics of that vCPU over its run and, with the\n"
		"machine model on (mmodel=on), its modelled cycles term by term.\n"
		"csv: one line \"group,counter,value\" per counter; json: one object.\n");
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
	printf("nested (NPT):     %llu walks, %llu refs, %llu faults "
	       "(QEMU's own stage-2 refills)\n",
	       (unsigned long long)c[WS_NESTED_WALKS],
	       (unsigned long long)c[WS_NESTED_REFS],
	       (unsigned long long)c[WS_NESTED_FAULTS]);
	if (d->pwc_cfg >> 32)
		printf("2D walks:         %llu, %llu guest + %llu nested refs; "
		       "nested TLB %llu entries, %llu of %llu lookups hit\n",
		       (unsigned long long)c[WS_TWO_D_WALKS],
		       (unsigned long long)c[WS_TWO_D_REFS_GUEST],
		       (unsigned long long)c[WS_TWO_D_REFS_NESTED],
		       (unsigned long long)(d->pwc_cfg >> 32),
		       (unsigned long long)c[WS_NTLB_HITS],
		       (unsigned long long)c[WS_NTLB_LOOKUPS]);
	if (c[WS_VMRUNS] || c[WS_VMEXITS])
		printf("world switches:   %llu VMRUN, %llu #VMEXIT (npf %llu, "
		       "intr %llu, excp %llu, io %llu, msr %llu, hlt %llu, "
		       "cpuid %llu, vmmcall %llu, other %llu)\n",
		       (unsigned long long)c[WS_VMRUNS],
		       (unsigned long long)c[WS_VMEXITS],
		       (unsigned long long)c[WS_VMEXIT_NPF],
		       (unsigned long long)c[WS_VMEXIT_INTR],
		       (unsigned long long)c[WS_VMEXIT_EXCP],
		       (unsigned long long)c[WS_VMEXIT_IO],
		       (unsigned long long)c[WS_VMEXIT_MSR],
		       (unsigned long long)c[WS_VMEXIT_HLT],
		       (unsigned long long)c[WS_VMEXIT_CPUID],
		       (unsigned long long)c[WS_VMEXIT_VMMCALL],
		       (unsigned long long)c[WS_VMEXIT_OTHER]);
	printf("TLB flushes:      %llu (TLB_CONTROL: %llu of one ASID, "
	       "%llu of all)\n", (unsigned long long)c[WS_FLUSHES],
	       (unsigned long long)c[WS_FLUSHES_ASID],
	       (unsigned long long)c[WS_FLUSHES_ALL_ASIDS]);
}

static void print_term(const char *name, uint64_t cycles, uint64_t total)
{
	printf("  %-18s %16llu  %6.2f%%\n", name, (unsigned long long)cycles,
	       total ? 100.0 * cycles / total : 0.0);
}

/* The machine model's view of the same run: cycles by term, then counts. */
static void report_mmodel(const struct mmodel_snap *d)
{
	const uint64_t *c = d->c;
	uint64_t other;
	int i;

	printf("machine model: %llu modelled cycles\n",
	       (unsigned long long)c[MM_CYCLES]);
	print_term("instructions", c[MM_CYCLES_INSN], c[MM_CYCLES]);
	print_term("data accesses", c[MM_CYCLES_DATA], c[MM_CYCLES]);
	print_term("page walks", c[MM_CYCLES_WALK], c[MM_CYCLES]);
	print_term("switches+flushes", c[MM_CYCLES_SWITCH], c[MM_CYCLES]);
	other = c[MM_CYCLES] - c[MM_CYCLES_INSN] - c[MM_CYCLES_DATA] -
		c[MM_CYCLES_WALK] - c[MM_CYCLES_SWITCH];
	if (other)
		print_term("(not split)", other, c[MM_CYCLES]);
	printf("  instructions:   user %llu  kernel %llu  nested %llu\n",
	       (unsigned long long)c[MM_INSNS_USER],
	       (unsigned long long)c[MM_INSNS_KERNEL],
	       (unsigned long long)c[MM_INSNS_NESTED]);
	printf("  %-15s %12s %12s %12s %12s\n", "served by", "L1", "L2",
	       "LLC", "DRAM");
	printf("  %-15s %12llu %12llu %12llu %12llu\n", "loads",
	       (unsigned long long)c[MM_LOADS_L1],
	       (unsigned long long)c[MM_LOADS_L2],
	       (unsigned long long)c[MM_LOADS_LLC],
	       (unsigned long long)c[MM_LOADS_DRAM]);
	printf("  %-15s %12llu %12llu %12llu %12llu\n", "stores",
	       (unsigned long long)c[MM_STORES_L1],
	       (unsigned long long)c[MM_STORES_L2],
	       (unsigned long long)c[MM_STORES_LLC],
	       (unsigned long long)c[MM_STORES_DRAM]);
	for (i = 0; i < 3; i++) {
		static const char *const kind[] = {
			"walk refs s1", "walk refs s2", "walk refs 2d"
		};
		int b = MM_WALK_S1_L1 + 4 * i;

		printf("  %-15s %12llu %12llu %12llu %12llu\n", kind[i],
		       (unsigned long long)c[b], (unsigned long long)c[b + 1],
		       (unsigned long long)c[b + 2],
		       (unsigned long long)c[b + 3]);
	}
	printf("  DRAM by node:   data %llu / %llu, walks %llu / %llu "
	       "(node 0 / node 1)\n", (unsigned long long)c[MM_DRAM_NODE0],
	       (unsigned long long)c[MM_DRAM_NODE1],
	       (unsigned long long)c[MM_WALK_DRAM_NODE0],
	       (unsigned long long)c[MM_WALK_DRAM_NODE1]);
	printf("  not modelled:   %llu accesses, %llu walk refs (not RAM)\n",
	       (unsigned long long)c[MM_UNMODELLED],
	       (unsigned long long)c[MM_WALK_UNMODELLED]);
}

/* Every counter of every group, as CSV lines or one JSON object. */
static void print_group(enum walkstat_format f, const char *group,
			const char *const *names, const uint64_t *c, int n,
			int first)
{
	int i;

	if (f == FMT_JSON)
		printf("%s\n  \"%s\": {", first ? "" : ",", group);
	for (i = 0; i < n; i++) {
		if (f == FMT_CSV)
			printf("%s,%s,%llu\n", group, names[i],
			       (unsigned long long)c[i]);
		else
			printf("%s\"%s\": %llu", i ? ", " : "", names[i],
			       (unsigned long long)c[i]);
	}
	if (f == FMT_JSON)
		printf("}");
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
	struct mmodel_snap mm_before, mm_after, mm_delta;
	enum walkstat_format fmt = FMT_TEXT;
	int cpu = -1, opt, fd, ret, status, lpt, mm;
	cpu_set_t set;
	pid_t pid;

	while ((opt = getopt(argc, argv, "+c:f:h")) != -1) {
		switch (opt) {
		case 'f':
			if (!strcmp(optarg, "text")) {
				fmt = FMT_TEXT;
			} else if (!strcmp(optarg, "csv")) {
				fmt = FMT_CSV;
			} else if (!strcmp(optarg, "json")) {
				fmt = FMT_JSON;
			} else {
				fprintf(stderr, "walkstat: bad format '%s' "
					"(text, csv or json)\n", optarg);
				return 2;
			}
			break;
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
	mm = !mmodel_snap_read(fd, &mm_before);

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
	lpt = lpt && !lpt_snap_read(fd, &lpt_after);
	if (lpt)
		lpt_snap_delta(&lpt_before, &lpt_after, &lpt_delta);
	mm = mm && !mmodel_snap_read(fd, &mm_after);
	if (mm)
		mmodel_snap_delta(&mm_before, &mm_after, &mm_delta);
	close(fd);
	if (fmt == FMT_TEXT) {
		report(cpu, &delta, status);
		if (lpt)
			report_lpt(&lpt_delta);
		if (mm)
			report_mmodel(&mm_delta);
	} else {
		if (fmt == FMT_CSV)
			printf("group,counter,value\n");
		else
			printf("{\n  \"cpu\": %d, \"status\": %d,", cpu,
			       WIFEXITED(status) ? WEXITSTATUS(status) :
			       128 + WTERMSIG(status));
		print_group(fmt, "walkstats", walkstat_names, delta.c, WS_NR,
			    fmt == FMT_JSON);
		if (lpt)
			print_group(fmt, "lpt", lpt_counter_names, lpt_delta.c,
				    LPT_CNT_NR, 0);
		if (mm)
			print_group(fmt, "mmodel", mmodel_counter_names,
				    mm_delta.c, MM_NR, 0);
		if (fmt == FMT_JSON)
			printf("\n}\n");
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
