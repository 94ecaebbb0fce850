/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to lib/lpt: the page table object, per-leaf bookkeeping and the
 * functions the library's files share.  Nothing here is part of the
 * interface the tools, QEMU or the kernel glue may use.
 */
#ifndef LPT_INTERNAL_H
#define LPT_INTERNAL_H

#include "lpt.h"

/* CPU-side view of one leaf: where its table is and what it holds. */
struct lpt_leaf {
	uint64_t *tab;		/* CPU pointer, two words per slot */
	uint64_t tab_pa;
	uint32_t nslots;
	uint32_t node;		/* arena index of the leaf node */
	uint64_t npages;	/* mappings stored (each huge page once) */
	uint64_t used;		/* slots holding an entry */
	uint64_t displaced;	/* mappings whose first copy is off-slot */
};

/* Hardware-visible index plus its bookkeeping; replaced whole on build. */
struct lpt_index {
	uint64_t *arena;	/* CPU pointer, two words per node */
	uint64_t arena_pa;
	uint32_t arena_pages;
	uint32_t nnodes;	/* nodes in use */
	uint32_t cap;		/* nodes the arena holds */
	uint32_t *leaf_of;	/* node index -> leaf index + 1, 0 if none */
	struct lpt_leaf *leaves;
	uint32_t nleaves;
	uint32_t depth;
};

struct lpt {
	struct lpt_params p;
	struct lpt_mem_ops ops;
	struct lpt_index ix;
	struct lpt_stats ev;	/* event counters only */
};

/* lpt_walk.c: descend the index to the final node for @vpn. */
int __lpt_walk_index(uint64_t root, uint64_t vpn, lpt_read8_fn read8,
		     void *ctx, struct lpt_lwc *lwc, struct lpt_walk *w,
		     uint64_t *lw0, uint64_t *lw1, uint32_t *lidx);

/* lpt_gtab.c: gapped-table operations on one leaf. */
struct lpt_page {
	uint64_t vpn;		/* base */
	uint64_t pte;
	unsigned int size;
};

int64_t lpt_gtab_pred(const uint64_t *node, uint64_t vpn);
int lpt_gtab_find(const struct lpt_leaf *lf, const uint64_t *node,
		  uint64_t vpn, uint32_t *slot);
int lpt_gtab_place(struct lpt_leaf *lf, const uint64_t *node,
		   const struct lpt_page *pg, uint32_t *first);
int lpt_gtab_overlaps(const struct lpt_leaf *lf, const uint64_t *node,
		      uint64_t vpn, unsigned int size);
uint32_t lpt_gtab_erase(struct lpt_leaf *lf, const uint64_t *node,
			uint64_t tag);
uint32_t lpt_gtab_set_pte(struct lpt_leaf *lf, const uint64_t *node,
			  uint64_t tag, uint64_t pte);
int lpt_gtab_is_first(const struct lpt_leaf *lf, const uint64_t *node,
		      uint32_t slot, uint64_t *merged_pte);
bool lpt_gtab_copy_window(const struct lpt_leaf *lf, const uint64_t *node,
			  uint64_t tag, uint64_t *a, uint64_t *b);
uint64_t lpt_gtab_test_clear(struct lpt_leaf *lf, const uint64_t *node,
			     uint64_t tag, uint64_t clear);

/* lpt_build.c */
int __lpt_build(struct lpt *t, const struct lpt_map *maps, size_t n,
		struct lpt_index *out);
uint64_t __lpt_leaf_cap_slots(const struct lpt *t);

/* lpt_range.c: one range operation, and how it was carried out. */
struct lpt_range_op {
	uint64_t start, end;	/* in: byte range, any alignment */
	uint64_t test, clear;	/* in: PTE bits to report / to clear */
	bool remove;		/* in: unmap instead of test/clear */
	int strategy;		/* in: LPT_RANGE_AUTO/BY_PAGE/BY_SCAN; out: used */
	uint64_t hits;		/* out: pages removed, or with a @test bit */
	uint64_t steps;		/* out: lookups (by page) or slots read (scan) */
};

#define LPT_RANGE_AUTO		0
#define LPT_RANGE_BY_PAGE	1
#define LPT_RANGE_BY_SCAN	2

void __lpt_range(struct lpt *t, struct lpt_range_op *op);

/* lpt_core.c */
int __lpt_find_page(struct lpt *t, uint64_t va, struct lpt_leaf **lfp,
		    uint64_t **nodep, uint32_t *slot);
void __lpt_index_free(struct lpt *t, struct lpt_index *ix);
void *__lpt_meta_alloc(struct lpt *t, size_t bytes);
void __lpt_meta_free(struct lpt *t, void *p, size_t bytes);

static inline uint64_t *lpt_slot(const struct lpt_leaf *lf, uint64_t s)
{
	return &lf->tab[2 * s];
}

static inline uint64_t lpt_pages_of(unsigned int size)
{
	return 1ULL << lpt_size_order(size);
}

#endif /* LPT_INTERNAL_H */
