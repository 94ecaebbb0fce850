/*
 * ecpt.h - model of Elastic Cuckoo Page Tables (Skarlatos et al., ASPLOS'20):
 * one d-ary cuckoo hash table per page size, each entry a 64-byte line that
 * holds the PTEs of 8 consecutive pages, all ways probed in parallel (each
 * probe is one memory reference), elastic resizing when occupancy passes a
 * threshold, and optional cuckoo-walk caches (PMD-CWC, PUD-CWC) that narrow
 * which sizes and ways a walk has to probe.
 */
#ifndef LPTSIM_ECPT_H
#define LPTSIM_ECPT_H

#include "lptsim.h"
#include "lru.h"

#define ECPT_MAX_WAYS 8

struct lptsim_ecpt_cfg {
	unsigned int ways;              /* d, 3 in the paper */
	unsigned int initial_entries;   /* per way, power of two */
	unsigned int max_occupancy_pct; /* resize trigger */
	unsigned int pmd_cwc, pud_cwc;  /* cuckoo-walk cache entries, 0 disables */
	uint64_t seed;              /* hash seeds */
};

/* One hash table (one page size): ways arrays of cluster tags. */
struct ecpt_table {
	uint64_t *slots[ECPT_MAX_WAYS];  /* cluster key + 1, 0 = empty */
	uint64_t entries_per_way;
	uint64_t used;
};

struct lptsim_ecpt {
	struct lptsim_ecpt_cfg cfg;
	struct ecpt_table table[LPTSIM_PS_COUNT];
	struct lptsim_u64map region_sizes;  /* 1G region -> mask of page sizes in it */
	struct lptsim_lru pmd_cwc, pud_cwc;
	struct lptsim_refstats refs;
	uint64_t cwc_assisted;     /* walks a CWC hit narrowed */
	uint64_t rehashes;         /* resize events */
	uint64_t moved;            /* entries moved by resizes and cuckoo kicks */
	uint64_t insert_failures;  /* cuckoo paths that forced a resize */
	uint64_t rng;
};

int lptsim_ecpt_init(struct lptsim_ecpt *e, const struct lptsim_ecpt_cfg *cfg,
		     struct lptsim_err *err);
void lptsim_ecpt_insert(struct lptsim_ecpt *e, const struct lptsim_map *map);
void lptsim_ecpt_remove(struct lptsim_ecpt *e, const struct lptsim_map *map);
/* Cold cuckoo-walk caches and zeroed walk counters, for a new walk order. */
void lptsim_ecpt_reset_walks(struct lptsim_ecpt *e);
/* One walk for va inside map; returns references, or 0 if the page is missing. */
unsigned int lptsim_ecpt_walk(struct lptsim_ecpt *e, uint64_t va, const struct lptsim_map *map);
uint64_t lptsim_ecpt_table_bytes(const struct lptsim_ecpt *e);
double lptsim_ecpt_occupancy(const struct lptsim_ecpt *e);
void lptsim_ecpt_free(struct lptsim_ecpt *e);

#endif /* LPTSIM_ECPT_H */
