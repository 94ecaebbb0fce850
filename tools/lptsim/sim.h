/*
 * sim.h - running the three page-table models side by side on one snapshot
 * (optionally after replaying a trace) and the per-(snapshot, walk order)
 * result row that report.c prints as a table, JSON or CSV.
 */
#ifndef LPTSIM_SIM_H
#define LPTSIM_SIM_H

#include "ecpt.h"
#include "lptm.h"
#include "lptsim.h"
#include "radix.h"
#include "trace.h"

enum lptsim_order { LPTSIM_ORDER_ADDRESS = 1, LPTSIM_ORDER_RANDOM = 2 };

struct lptsim_opts {
	struct lptsim_radix_cfg radix;
	struct lptsim_ecpt_cfg ecpt;
	struct lptsim_lpt_cfg lpt;
	uint64_t seed;          /* random walk order */
	unsigned int orders;        /* LPTSIM_ORDER_* mask */
	int quiet;              /* no progress lines */
};

/* Targets from issue 3, checked per row. */
#define LPT_TARGET_SINGLE_REF   0.99
#define LPT_TARGET_MEAN_REFS    1.02
#define LPT_TARGET_COLLISIONS   0.01
#define LPT_TARGET_INDEX_BYTES  1024
#define LPT_TARGET_LWC_HIT      0.99

struct lptsim_result {
	char snapshot[128];
	const char *order;           /* "addr" or "random" */
	uint64_t walks, pages_4k, pages_2m, pages_1g, vmas;
	uint64_t replayed_faults, replayed_unmaps;
	/* learned page table */
	int lpt_ok;                  /* 0: library not built in; columns are n/a */
	uint64_t lpt_index_bytes, lpt_leaves, lpt_table_bytes, lpt_retrains, lpt_rescalings;
	unsigned int lpt_depth, lpt_refs_p99, lpt_refs_max;
	double lpt_collision_rate, lpt_refs_mean, lpt_single_ref, lpt_lwc_hit;
	double lpt_walk_collision_rate;  /* walks whose entry was displaced */
	double lpt_refs_per_collision;   /* mean references of those walks */
	uint64_t lpt_faults, lpt_wrong;   /* walks that failed / returned a wrong frame */
	char lpt_misses[64];         /* targets missed, comma separated, "-" if none */
	/* radix */
	double rdx_refs_mean, rdx_pwc_hit, rdx_level_hit[3];
	unsigned int rdx_refs_p99, rdx_refs_max;
	uint64_t rdx_table_bytes;
	/* ECPT */
	double ecpt_refs_mean, ecpt_occupancy, ecpt_cwc_hit;
	unsigned int ecpt_refs_p99, ecpt_refs_max;
	uint64_t ecpt_table_bytes, ecpt_rehashes, ecpt_faults;
};

/*
 * Simulate: results[0..n) get one row per order in opts->orders.  snap is
 * modified when a trace is replayed.  Returns the number of rows or -1.
 */
int lptsim_simulate(const char *name, struct lptsim_snapshot *snap,
		    const struct lptsim_trace *trace, const struct lptsim_opts *opts,
		    struct lptsim_result results[2], struct lptsim_err *err);

enum lptsim_format { LPTSIM_FMT_TABLE, LPTSIM_FMT_JSON, LPTSIM_FMT_CSV };
void lptsim_report(FILE *out, enum lptsim_format fmt, const struct lptsim_result *rows,
		   size_t nrows, const struct lptsim_opts *opts);

#endif /* LPTSIM_SIM_H */
