/*
 * ecpt.c - Elastic Cuckoo Page Table model (see ecpt.h).
 *
 * Modelling choices, all documented in docs/lptsim.md:
 * - an entry is a 64-byte line holding the PTEs of 8 virtually consecutive
 *   pages of one size, tagged by the cluster number (VPN / 8 in that size);
 * - a walk issues its probes in parallel and each probe is one reference;
 * - without cuckoo-walk-cache help a walk probes every way of every page-size
 *   table that holds anything; a PUD-CWC hit narrows it to the sizes present
 *   in that 1 GiB region (1 probe for a 1G page); a PMD-CWC hit knows the size
 *   and way, so 1 probe.  CWT fetches on CWC misses are not counted, which
 *   favours ECPT;
 * - resizing is counted as one rehash event and its moved entries, but done
 *   at once; the elastic scheme spreads the moves and makes walks during a
 *   resize probe both tables, which this model does not charge.
 */
#include "ecpt.h"

#include <stdlib.h>
#include <string.h>

/* Displacements before an insert gives up and grows the table. */
#define ECPT_MAX_KICKS 64
/* Tags pack cluster key + 1 above an 8-bit mask of present PTEs in the line. */
#define TAG_KEY(tag)   ((tag) >> 8)
#define TAG_MASK(tag)  ((tag) & 0xffu)

static uint64_t slot_index(const struct lptsim_ecpt *e, unsigned int psize, unsigned int way,
			   uint64_t key, uint64_t entries)
{
	uint64_t seed = e->cfg.seed * 0x9e3779b97f4a7c15ull + psize * 131 + way * 7919 + 1;

	return lptsim_hash64(key ^ lptsim_hash64(seed)) & (entries - 1);
}

int lptsim_ecpt_init(struct lptsim_ecpt *e, const struct lptsim_ecpt_cfg *cfg,
		     struct lptsim_err *err)
{
	memset(e, 0, sizeof(*e));
	if (cfg->ways < 2 || cfg->ways > ECPT_MAX_WAYS)
		return lptsim_fail(err, "ecpt: ways %u not in [2, %d]", cfg->ways, ECPT_MAX_WAYS);
	if (cfg->initial_entries < 8 || cfg->initial_entries > (1u << 24) ||
	    (cfg->initial_entries & (cfg->initial_entries - 1)))
		return lptsim_fail(err, "ecpt: initial entries %u not a power of two in [8, 2^24]",
				   cfg->initial_entries);
	if (cfg->max_occupancy_pct < 10 || cfg->max_occupancy_pct > 95)
		return lptsim_fail(err, "ecpt: max occupancy %u%% not in [10, 95]",
				   cfg->max_occupancy_pct);
	if (cfg->pmd_cwc > LPTSIM_LRU_MAX || cfg->pud_cwc > LPTSIM_LRU_MAX)
		return lptsim_fail(err, "ecpt: cuckoo-walk cache larger than %d entries",
				   LPTSIM_LRU_MAX);
	e->cfg = *cfg;
	e->rng = cfg->seed ^ 0xecb7ull;
	lptsim_u64map_init(&e->region_sizes);
	lptsim_lru_init(&e->pmd_cwc, cfg->pmd_cwc);
	lptsim_lru_init(&e->pud_cwc, cfg->pud_cwc);
	return 0;
}

static void table_alloc(struct ecpt_table *t, unsigned int ways, uint64_t entries)
{
	for (unsigned int w = 0; w < ways; w++) {
		t->slots[w] = calloc(entries, sizeof(uint64_t));
		if (!t->slots[w]) {
			fprintf(stderr, "lptsim: out of memory\n");
			exit(2);
		}
	}
	t->entries_per_way = entries;
	t->used = 0;
}

static void place(struct lptsim_ecpt *e, unsigned int psize, uint64_t tag);

/* Double every way and re-place all entries: one rehash event. */
static void grow(struct lptsim_ecpt *e, unsigned int psize)
{
	struct ecpt_table old = e->table[psize];

	table_alloc(&e->table[psize], e->cfg.ways, old.entries_per_way * 2);
	e->rehashes++;
	for (unsigned int w = 0; w < e->cfg.ways; w++) {
		for (uint64_t i = 0; i < old.entries_per_way; i++) {
			if (old.slots[w][i]) {
				place(e, psize, old.slots[w][i]);
				e->moved++;
			}
		}
		free(old.slots[w]);
	}
}

/* d-ary cuckoo insertion with random-walk eviction. */
static void place(struct lptsim_ecpt *e, unsigned int psize, uint64_t tag)
{
	struct ecpt_table *t = &e->table[psize];

	for (int kick = 0; kick < ECPT_MAX_KICKS; kick++) {
		unsigned int victim_way;
		uint64_t *slot;

		for (unsigned int w = 0; w < e->cfg.ways; w++) {
			slot = &t->slots[w][slot_index(e, psize, w, TAG_KEY(tag), t->entries_per_way)];
			if (!*slot) {
				*slot = tag;
				t->used++;
				return;
			}
		}
		victim_way = (unsigned int)lptsim_rand_below(&e->rng, e->cfg.ways);
		slot = &t->slots[victim_way][slot_index(e, psize, victim_way, TAG_KEY(tag),
							t->entries_per_way)];
		uint64_t evicted = *slot;

		*slot = tag;
		tag = evicted;
		e->moved++;
	}
	e->insert_failures++;
	grow(e, psize);
	place(e, psize, tag);
}

static uint64_t *find_slot(struct lptsim_ecpt *e, unsigned int psize, uint64_t key)
{
	struct ecpt_table *t = &e->table[psize];

	if (!t->entries_per_way)
		return NULL;
	for (unsigned int w = 0; w < e->cfg.ways; w++) {
		uint64_t *slot = &t->slots[w][slot_index(e, psize, w, key, t->entries_per_way)];

		if (*slot && TAG_KEY(*slot) == key)
			return slot;
	}
	return NULL;
}

void lptsim_ecpt_insert(struct lptsim_ecpt *e, const struct lptsim_map *map)
{
	struct ecpt_table *t = &e->table[map->psize];
	uint64_t page = map->vpn / lptsim_psize_pages(map->psize);
	uint64_t key = (page >> 3) + 1;
	unsigned int bit = 1u << (page & 7);
	uint64_t *slot = find_slot(e, map->psize, key);

	*lptsim_u64map_get(&e->region_sizes, map->vpn >> 18) |= 1u << map->psize;
	if (slot) {
		*slot |= bit;
		return;
	}
	if (!t->entries_per_way)
		table_alloc(t, e->cfg.ways, e->cfg.initial_entries);
	/* Elastic resize before the table passes its occupancy threshold. */
	if ((t->used + 1) * 100 > t->entries_per_way * e->cfg.ways * e->cfg.max_occupancy_pct)
		grow(e, map->psize);
	place(e, map->psize, (key << 8) | bit);
}

void lptsim_ecpt_remove(struct lptsim_ecpt *e, const struct lptsim_map *map)
{
	uint64_t page = map->vpn / lptsim_psize_pages(map->psize);
	uint64_t *slot = find_slot(e, map->psize, (page >> 3) + 1);

	if (!slot)
		return;
	*slot &= ~(uint64_t)(1u << (page & 7));
	if (!TAG_MASK(*slot)) {
		*slot = 0;
		e->table[map->psize].used--;
	}
	/* region_sizes keeps the size bit: a stale bit only costs extra probes. */
}

void lptsim_ecpt_reset_walks(struct lptsim_ecpt *e)
{
	lptsim_lru_free(&e->pmd_cwc);
	lptsim_lru_free(&e->pud_cwc);
	lptsim_lru_init(&e->pmd_cwc, e->cfg.pmd_cwc);
	lptsim_lru_init(&e->pud_cwc, e->cfg.pud_cwc);
	memset(&e->refs, 0, sizeof(e->refs));
	e->cwc_assisted = 0;
}

/* Page-size tables that hold anything: a CWC-less walk must probe them all. */
static unsigned int live_tables(const struct lptsim_ecpt *e)
{
	unsigned int n = 0;

	for (unsigned int s = 0; s < LPTSIM_PS_COUNT; s++)
		n += e->table[s].used != 0;
	return n;
}

unsigned int lptsim_ecpt_walk(struct lptsim_ecpt *e, uint64_t va, const struct lptsim_map *map)
{
	uint64_t page = map->vpn / lptsim_psize_pages(map->psize);
	uint64_t *slot = find_slot(e, map->psize, (page >> 3) + 1);
	unsigned int probes;

	if (!slot || !(TAG_MASK(*slot) & (1u << (page & 7))))
		return 0;
	if (map->psize != LPTSIM_PS_1G && e->cfg.pmd_cwc &&
	    lptsim_lru_probe(&e->pmd_cwc, va >> 21)) {
		probes = 1;
		e->cwc_assisted++;
	} else if (e->cfg.pud_cwc && lptsim_lru_probe(&e->pud_cwc, va >> 30)) {
		uint64_t *mask = lptsim_u64map_find(&e->region_sizes, va >> 30);
		unsigned int sizes = 0;

		e->cwc_assisted++;
		if (map->psize == LPTSIM_PS_1G) {
			probes = 1;
		} else {
			for (unsigned int s = LPTSIM_PS_4K; s <= LPTSIM_PS_2M; s++)
				sizes += mask && (*mask & (1u << s));
			probes = e->cfg.ways * (sizes ? sizes : 1);
		}
	} else {
		probes = e->cfg.ways * live_tables(e);
	}
	lptsim_lru_fill(&e->pud_cwc, va >> 30);
	if (map->psize != LPTSIM_PS_1G)
		lptsim_lru_fill(&e->pmd_cwc, va >> 21);
	lptsim_refstats_add(&e->refs, probes);
	return probes;
}

uint64_t lptsim_ecpt_table_bytes(const struct lptsim_ecpt *e)
{
	uint64_t bytes = 0;

	for (unsigned int s = 0; s < LPTSIM_PS_COUNT; s++)
		bytes += e->table[s].entries_per_way * e->cfg.ways * 64;
	return bytes;
}

double lptsim_ecpt_occupancy(const struct lptsim_ecpt *e)
{
	uint64_t used = 0, slots = 0;

	for (unsigned int s = 0; s < LPTSIM_PS_COUNT; s++) {
		used += e->table[s].used;
		slots += e->table[s].entries_per_way * e->cfg.ways;
	}
	return slots ? (double)used / slots : 0.0;
}

void lptsim_ecpt_free(struct lptsim_ecpt *e)
{
	for (unsigned int s = 0; s < LPTSIM_PS_COUNT; s++)
		for (unsigned int w = 0; w < ECPT_MAX_WAYS; w++)
			free(e->table[s].slots[w]);
	lptsim_u64map_free(&e->region_sizes);
	lptsim_lru_free(&e->pmd_cwc);
	lptsim_lru_free(&e->pud_cwc);
	memset(e, 0, sizeof(*e));
}
