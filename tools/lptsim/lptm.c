/*
 * lptm.c - the learned page table model of lptsim, a thin adapter over the
 * core library (lib/lpt/lpt.h).  The library builds and maintains the index
 * and gapped tables in memory lptsim hands it through lpt_mem_ops; that
 * memory is a fake physical address space (blocks at made-up physical
 * addresses above 1 GiB) so the walks below go through the library's own
 * reference walker, lpt_walk(), reading every word through our read8
 * callback exactly as QEMU's MMU would.  Nothing here re-implements the walk
 * or the fixed-point model; the only thing this file decides is how a
 * snapshot mapping becomes a PTE word and which counters feed the report.
 */
#include "lptm.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/lpt/lpt.h"

/* One block the library allocated, at a fake physical address. */
struct fake_block {
	uint64_t pa;
	size_t bytes;
	unsigned char *mem;   /* NULL once freed */
};

/* Fake physical memory: blocks sorted by pa (a bump allocator keeps them so). */
struct fake_phys {
	struct fake_block *blocks;
	size_t nblocks, cap;
	uint64_t next_pa;
	uint64_t contiguity_bytes;   /* oracle answer, 0 = unlimited */
	uint64_t live_bytes;
};

struct lptsim_lpt {
	struct fake_phys phys;
	struct lpt *table;
	struct lpt_lwc lwc;
	struct lpt_lwc_entry *lwc_storage;
};

/* Start the fake physical space at 1 GiB: page tables never sit at pa 0. */
#define FAKE_PA_BASE (1ull << 30)

static void *fake_alloc(void *ctx, size_t bytes, uint64_t *pa)
{
	struct fake_phys *phys = ctx;
	struct fake_block *b;
	uint64_t rounded = (bytes + 4095) & ~(uint64_t)4095;

	if (!bytes || phys->next_pa + rounded > (1ull << LPT_TABLE_PA_BITS))
		return NULL;
	if (phys->nblocks == phys->cap) {
		phys->cap = phys->cap ? 2 * phys->cap : 64;
		phys->blocks = lptsim_xrealloc(phys->blocks, phys->cap, sizeof(*b));
	}
	b = &phys->blocks[phys->nblocks];
	b->mem = calloc(1, rounded);
	if (!b->mem)
		return NULL;
	b->pa = phys->next_pa;
	b->bytes = rounded;
	phys->nblocks++;
	/* A guard page between blocks makes an off-by-one walk read unbacked memory. */
	phys->next_pa += rounded + 4096;
	phys->live_bytes += rounded;
	*pa = b->pa;
	return b->mem;
}

static struct fake_block *fake_find(struct fake_phys *phys, uint64_t pa)
{
	size_t n = lptsim_count_le(phys->blocks, phys->nblocks, sizeof(*phys->blocks),
				   offsetof(struct fake_block, pa), pa);

	if (n && pa - phys->blocks[n - 1].pa < phys->blocks[n - 1].bytes)
		return &phys->blocks[n - 1];
	return NULL;
}

static void fake_free(void *ctx, void *va, uint64_t pa, size_t bytes)
{
	struct fake_phys *phys = ctx;
	struct fake_block *b = fake_find(phys, pa);

	(void)bytes;
	if (!b || b->mem != va || b->pa != pa) {
		/* A library bug we must not paper over. */
		fprintf(stderr, "lptsim: lib/lpt freed unknown block pa %llx\n",
			(unsigned long long)pa);
		abort();
	}
	phys->live_bytes -= b->bytes;
	free(b->mem);
	b->mem = NULL;
}

static uint64_t fake_max_contig(void *ctx)
{
	struct fake_phys *phys = ctx;

	return phys->contiguity_bytes;
}

static void *meta_alloc(void *ctx, size_t bytes)
{
	(void)ctx;
	return malloc(bytes ? bytes : 1);
}

static void meta_free(void *ctx, void *p, size_t bytes)
{
	(void)ctx;
	(void)bytes;
	free(p);
}

/* The read8 callback: the only way the walker sees the tables. */
static int fake_read8(void *ctx, uint64_t pa, uint64_t *val)
{
	struct fake_block *b = fake_find(ctx, pa);

	if (!b || !b->mem || (pa & 7) || pa - b->pa + 8 > b->bytes)
		return -1;
	memcpy(val, b->mem + (pa - b->pa), 8);
	return 0;
}

int lptsim_lpt_available(void)
{
	return 1;
}

static uint64_t pte_word(const struct lptsim_map *m)
{
	uint64_t pte = LPT_PTE_P | (m->pfn << 12);

	if (m->flags & LPTSIM_F_WRITE)
		pte |= LPT_PTE_RW;
	if (m->flags & LPTSIM_F_USER)
		pte |= LPT_PTE_US;
	if (m->flags & LPTSIM_F_ACCESSED)
		pte |= LPT_PTE_A;
	if (m->flags & LPTSIM_F_DIRTY)
		pte |= LPT_PTE_D;
	if (m->flags & LPTSIM_F_NX)
		pte |= LPT_PTE_NX;
	return pte;
}

static const char *errno_name(int rc)
{
	switch (-rc) {
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case ENOSPC: return "ENOSPC (no index within the limits)";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	default: return "unexpected error";
	}
}

void lptsim_lpt_free(struct lptsim_lpt *m)
{
	if (!m)
		return;
	if (m->table)
		lpt_destroy(m->table);
	for (size_t i = 0; i < m->phys.nblocks; i++)
		free(m->phys.blocks[i].mem);
	free(m->phys.blocks);
	free(m->lwc_storage);
	free(m);
}

int lptsim_lpt_build(struct lptsim_lpt **out, const struct lptsim_snapshot *snap,
		     const struct lptsim_lpt_cfg *cfg, struct lptsim_err *err)
{
	struct lptsim_lpt *m = calloc(1, sizeof(*m));
	struct lpt_mem_ops ops = {
		.alloc = fake_alloc,
		.free = fake_free,
		.meta_alloc = meta_alloc,
		.meta_free = meta_free,
	};
	struct lpt_params params;
	struct lpt_map *maps;
	int rc;

	*out = NULL;
	if (!m)
		return lptsim_fail(err, "lpt: out of memory");
	m->phys.next_pa = FAKE_PA_BASE;
	m->phys.contiguity_bytes = cfg->contiguity_bytes;
	ops.ctx = &m->phys;
	if (cfg->contiguity_bytes)
		ops.max_contig = fake_max_contig;
	m->lwc_storage = calloc(cfg->lwc_entries ? cfg->lwc_entries : 1, sizeof(*m->lwc_storage));
	if (!m->lwc_storage) {
		lptsim_lpt_free(m);
		return lptsim_fail(err, "lpt: out of memory");
	}
	lpt_lwc_init(&m->lwc, m->lwc_storage, cfg->lwc_entries);
	lpt_params_default(&params);
	m->table = lpt_create(&params, &ops);
	if (!m->table) {
		lptsim_lpt_free(m);
		return lptsim_fail(err, "lpt: lpt_create failed");
	}
	maps = lptsim_xrealloc(NULL, snap->nmaps + 1, sizeof(*maps));
	for (size_t i = 0; i < snap->nmaps; i++) {
		maps[i].va = snap->maps[i].vpn << 12;
		maps[i].pte = pte_word(&snap->maps[i]);
		maps[i].size = snap->maps[i].psize;
	}
	/* Snapshot maps are sorted and disjoint already (lptsim_snap_finish). */
	rc = lpt_build(m->table, maps, snap->nmaps);
	free(maps);
	if (rc) {
		lptsim_lpt_free(m);
		return lptsim_fail(err, "lpt_build of %zu mappings: %s", snap->nmaps, errno_name(rc));
	}
	*out = m;
	return 0;
}

int lptsim_lpt_insert(struct lptsim_lpt *m, const struct lptsim_map *map, struct lptsim_err *err)
{
	int rc = lpt_map_page(m->table, map->vpn << 12, pte_word(map), map->psize);

	if (rc)
		return lptsim_fail(err, "lpt_map_page(va %llx, %s): %s",
				   (unsigned long long)(map->vpn << 12),
				   lptsim_psize_name(map->psize), errno_name(rc));
	return 0;
}

int lptsim_lpt_remove(struct lptsim_lpt *m, const struct lptsim_map *map, struct lptsim_err *err)
{
	int rc = lpt_remove(m->table, map->vpn << 12);

	if (rc)
		return lptsim_fail(err, "lpt_remove(va %llx): %s",
				   (unsigned long long)(map->vpn << 12), errno_name(rc));
	return 0;
}

void lptsim_lpt_reset_walks(struct lptsim_lpt *m)
{
	lpt_lwc_flush(&m->lwc);
	lpt_lwc_reset_stats(&m->lwc);
}

int lptsim_lpt_walk(struct lptsim_lpt *m, uint64_t va, struct lptsim_lpt_walk_out *out)
{
	struct lpt_walk w;

	if (lpt_walk(lpt_root(m->table), va, fake_read8, &m->phys, &m->lwc, &w) != LPT_OK)
		return -1;
	out->pfn = w.pa >> 12;
	out->psize = w.size;
	out->refs = w.nlines;
	out->displacement = w.displacement;
	return 0;
}

void lptsim_lpt_stats(const struct lptsim_lpt *m, struct lptsim_lpt_stats *st)
{
	struct lpt_stats s;

	lpt_get_stats(m->table, &s);
	st->index_bytes = s.index_bytes;
	st->depth = s.depth;
	st->leaves = s.leaves;
	st->table_bytes = s.table_bytes;
	st->entries = s.pages;
	st->collisions = s.displaced;
	st->lwc_lookups = m->lwc.hits + m->lwc.misses;
	st->lwc_hits = m->lwc.hits;
	st->retrains = s.retrains;
	st->rescalings = s.rescales;
}
