/*
 * lptm.h - lptsim's seam to the learned page table core (lib/lpt).  The
 * simulator only needs: build from a snapshot, incremental insert/remove for
 * trace replay, one hardware walk through the library's reference walker
 * (reading a fake physical memory through a read8 callback), cache reset
 * between walk orders, and the counters the report prints.  Keeping the seam
 * this narrow means the rest of lptsim builds and tests without the library
 * (lptm_none.c) and that only lptm.c changes when the library's API does.
 */
#ifndef LPTSIM_LPTM_H
#define LPTSIM_LPTM_H

#include "lptsim.h"

struct lptsim_lpt_cfg {
	unsigned int lwc_entries;          /* LVM walk cache size, 64 in the paper */
	uint64_t contiguity_bytes;     /* contiguity oracle answer, 0 = library default */
};

struct lptsim_lpt_stats {
	uint64_t index_bytes;          /* internal + leaf nodes, 16 B each */
	unsigned int depth;
	uint64_t leaves;
	uint64_t table_bytes;          /* gapped page tables */
	uint64_t entries;              /* translations held */
	uint64_t collisions;           /* entries not at their predicted slot */
	uint64_t lwc_lookups, lwc_hits;
	uint64_t retrains, rescalings;
};

struct lptsim_lpt;

/* Nonzero when lptsim was built against the core library. */
int lptsim_lpt_available(void);
int lptsim_lpt_build(struct lptsim_lpt **out, const struct lptsim_snapshot *snap,
		     const struct lptsim_lpt_cfg *cfg, struct lptsim_err *err);
int lptsim_lpt_insert(struct lptsim_lpt *m, const struct lptsim_map *map, struct lptsim_err *err);
int lptsim_lpt_remove(struct lptsim_lpt *m, const struct lptsim_map *map, struct lptsim_err *err);
/* Forget cached index nodes and zero the walk counters (new walk order). */
void lptsim_lpt_reset_walks(struct lptsim_lpt *m);
/* What one walk produced. */
struct lptsim_lpt_walk_out {
	uint64_t pfn;            /* frame of the 4K page containing va */
	unsigned int psize;          /* LPTSIM_PS_* of the translation */
	unsigned int refs;           /* memory references (distinct lines read) */
	unsigned int displacement;   /* slots between predicted and matching slot */
};

/* Translate va: 0 and *out filled, or -1 for a fault. */
int lptsim_lpt_walk(struct lptsim_lpt *m, uint64_t va, struct lptsim_lpt_walk_out *out);
void lptsim_lpt_stats(const struct lptsim_lpt *m, struct lptsim_lpt_stats *st);
void lptsim_lpt_free(struct lptsim_lpt *m);

#endif /* LPTSIM_LPTM_H */
