/*
 * radix.c - the baseline: x86-64 4-level paging with paging-structure caches.
 *
 * A walk for a 4K page reads PML4E, PDPTE, PDE, PTE (4 references); a 2M page
 * stops at the PDE (3), a 1G page at the PDPTE (2).  The caches hold
 * non-leaf entries keyed by the virtual-address bits that select them
 * (VA[47:39], VA[47:30], VA[47:21]); the walk starts below the deepest hit,
 * as Intel's SDM describes, so a PDE-cache hit costs one reference.  Table
 * memory counts one 4 KiB page per distinct table the snapshot needs.
 */
#include "radix.h"

#include <string.h>

/* Shift of the VA bits that select an entry at each level. */
static const unsigned int level_shift[RADIX_LEVELS] = { 39, 30, 21, 12 };

void lptsim_radix_init(struct lptsim_radix *r, const struct lptsim_radix_cfg *cfg,
		       const struct lptsim_snapshot *snap)
{
	struct lptsim_u64map tables[RADIX_LEVELS];

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 3; i++)
		lptsim_lru_init(&r->pwc[i], cfg->pwc_entries[i]);
	/*
	 * A table at level L exists for every distinct VA prefix above it that
	 * leads to a mapping needing level L: the PT for a 4K page, the PD for
	 * 4K and 2M pages, the PDPT for all.
	 */
	for (int l = 0; l < RADIX_LEVELS; l++)
		lptsim_u64map_init(&tables[l]);
	for (size_t i = 0; i < snap->nmaps; i++) {
		uint64_t va = snap->maps[i].vpn << 12;
		unsigned int leaf = snap->maps[i].psize == LPTSIM_PS_1G ? RADIX_PDPT :
				snap->maps[i].psize == LPTSIM_PS_2M ? RADIX_PD : RADIX_PT;

		for (unsigned int l = RADIX_PDPT; l <= leaf; l++)
			lptsim_u64map_get(&tables[l], va >> level_shift[l - 1]);
	}
	r->table_pages[RADIX_PML4] = 1;
	for (int l = RADIX_PDPT; l < RADIX_LEVELS; l++)
		r->table_pages[l] = tables[l].count;
	for (int l = 0; l < RADIX_LEVELS; l++)
		lptsim_u64map_free(&tables[l]);
}

unsigned int lptsim_radix_walk(struct lptsim_radix *r, uint64_t va, const struct lptsim_map *map)
{
	unsigned int leaf = map->psize == LPTSIM_PS_1G ? RADIX_PDPT :
			map->psize == LPTSIM_PS_2M ? RADIX_PD : RADIX_PT;
	unsigned int start = RADIX_PML4, refs;

	/* Deepest cached non-leaf entry first: a PDE hit beats a PDPTE hit. */
	for (int l = (int)leaf - 1; l >= RADIX_PML4; l--) {
		if (lptsim_lru_probe(&r->pwc[l], va >> level_shift[l])) {
			start = (unsigned int)l + 1;
			break;
		}
	}
	refs = leaf - start + 1;
	if (start != RADIX_PML4)
		r->walks_with_pwc_hit++;
	/* Every non-leaf entry read on the way is now cached. */
	for (unsigned int l = start; l < leaf; l++)
		lptsim_lru_fill(&r->pwc[l], va >> level_shift[l]);
	lptsim_refstats_add(&r->refs, refs);
	return refs;
}

uint64_t lptsim_radix_table_bytes(const struct lptsim_radix *r)
{
	uint64_t pages = 0;

	for (int l = 0; l < RADIX_LEVELS; l++)
		pages += r->table_pages[l];
	return pages * 4096;
}

void lptsim_radix_free(struct lptsim_radix *r)
{
	for (int i = 0; i < 3; i++)
		lptsim_lru_free(&r->pwc[i]);
}
