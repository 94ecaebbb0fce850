/*
 * radix.h - model of the x86-64 4-level radix page table with Intel-style
 * paging-structure caches (PML4E, PDPTE and PDE caches, fully associative,
 * LRU).  It counts memory references per walk and table memory; the
 * translation itself comes from the snapshot, because a radix table holds
 * exactly the snapshot's mappings and the interesting output is the cost.
 */
#ifndef LPTSIM_RADIX_H
#define LPTSIM_RADIX_H

#include "lptsim.h"
#include "lru.h"

enum lptsim_radix_level { RADIX_PML4 = 0, RADIX_PDPT, RADIX_PD, RADIX_PT, RADIX_LEVELS };

struct lptsim_radix_cfg {
	unsigned int pwc_entries[3];   /* PML4E, PDPTE, PDE cache sizes; 0 disables */
};

struct lptsim_radix {
	struct lptsim_lru pwc[3];           /* indexed by the level whose entry is cached */
	struct lptsim_refstats refs;
	uint64_t walks_with_pwc_hit;        /* walks that skipped at least one level */
	uint64_t table_pages[RADIX_LEVELS]; /* 4 KiB table pages per level */
};

void lptsim_radix_init(struct lptsim_radix *r, const struct lptsim_radix_cfg *cfg,
		       const struct lptsim_snapshot *snap);
/* One walk for an address inside map; returns the memory references it took. */
unsigned int lptsim_radix_walk(struct lptsim_radix *r, uint64_t va, const struct lptsim_map *map);
uint64_t lptsim_radix_table_bytes(const struct lptsim_radix *r);
void lptsim_radix_free(struct lptsim_radix *r);

#endif /* LPTSIM_RADIX_H */
