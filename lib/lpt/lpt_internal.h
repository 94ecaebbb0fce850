/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to lib/lpt: the page table object, per-leaf bookkeeping and the
 * functions the library's files share.  Nothing here is part of the
 * interface the tools, QEMU or the kernel glue may use.
 */
#ifndef LPT_INTERNAL_H
#define LPT_INTERNAL_H

#include "lpt.h"

/* A 2 MiB-granule direct slot's sub-table of 512 4 KiB PTEs. */
struct lpt_sub {
	uint64_t *va;		/* NULL: the slot has none */
	uint64_t pa;
	uint32_t n;		/* entries in use */
};

/* CPU-side view of one leaf: where its table is and what it holds. */
struct lpt_leaf {
	uint64_t *tab;		/* CPU pointer: two words per slot, one if direct */
	uint64_t tab_pa;
	uint32_t nslots;
	uint32_t node;		/* arena index of the leaf node */
	bool direct;		/* DIRECT node: untagged 8-byte slots */
	struct lpt_sub *sub;	/* direct, 2 MiB granule: per slot; or NULL */
	uint64_t nsub;		/* sub-tables in use */
	uint64_t npages;	/* mappings stored (each huge page once) */
	uint64_t n2m;		/* of which 2 MiB pages (direct leaves) */
	uint64_t used;		/* slots holding an entry */
	uint64_t displaced;	/* mappings whose first copy is off-slot */
};

static inline size_t lpt_slot_bytes(bool direct)
{
	return direct ? LPT_DIRECT_SLOT_BYTES : LPT_SLOT_BYTES;
}

static inline size_t lpt_leaf_bytes(const struct lpt_leaf *lf)
{
	return (size_t)lf->nslots * lpt_slot_bytes(lf->direct);
}

/*
 * Slots a table may have under a cap of @gapped_slots 16-byte slots (what
 * __lpt_leaf_cap_slots() gives): the same bytes, twice the slots if direct.
 */
static inline uint64_t lpt_cap_slots(uint64_t gapped_slots, bool direct)
{
	return gapped_slots * (lpt_slot_bytes(false) / lpt_slot_bytes(direct));
}

static inline uint32_t lpt_leaf_page_slots(bool direct)
{
	return direct ? LPT_DIRECT_SLOTS_PER_PAGE : LPT_SLOTS_PER_PAGE;
}

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

/* lpt_dtab.c: direct-table operations on one DIRECT leaf. */
struct lpt_dref {		/* where one page's entry is */
	uint64_t vpn;		/* page base */
	unsigned int size;
	uint64_t slot;		/* leaf slot of its (first) entry */
	uint64_t *word;		/* its (first) entry word */
};

typedef void (*lpt_dtab_fn)(void *arg, struct lpt_leaf *lf,
			    const uint64_t *node, const struct lpt_dref *r);

bool lpt_dtab_fits(unsigned int g, unsigned int size);
int lpt_dtab_find(const struct lpt_leaf *lf, const uint64_t *node,
		  uint64_t vpn, struct lpt_dref *r);
uint64_t lpt_dtab_pte(const uint64_t *node, const struct lpt_dref *r);
bool lpt_dtab_overlaps(const struct lpt_leaf *lf, const uint64_t *node,
		       uint64_t vpn, unsigned int size);
int lpt_dtab_place(struct lpt *t, struct lpt_leaf *lf, const uint64_t *node,
		   const struct lpt_page *pg);
int lpt_dtab_place_small(struct lpt_leaf *lf, const uint64_t *node,
			 uint64_t vpn, uint64_t pte);
uint64_t lpt_dtab_erase_small(struct lpt_leaf *lf, const uint64_t *node,
			      uint64_t first, uint64_t last);
void lpt_dtab_erase(struct lpt *t, struct lpt_leaf *lf, const uint64_t *node,
		    const struct lpt_dref *r);
void lpt_dtab_set_pte(const uint64_t *node, const struct lpt_dref *r,
		      uint64_t pte);
uint64_t lpt_dtab_test_clear(const uint64_t *node, const struct lpt_dref *r,
			     uint64_t clear);
uint64_t lpt_dtab_for_each(struct lpt_leaf *lf, const uint64_t *node,
			   uint64_t a, uint64_t b, lpt_dtab_fn fn, void *arg);
void lpt_dtab_free_subs(struct lpt *t, struct lpt_leaf *lf);

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

/* lpt_core.c: one mapped page, wherever its leaf keeps it. */
struct lpt_pref {
	struct lpt_leaf *lf;
	uint64_t *node;
	uint64_t vpn;		/* page base */
	unsigned int size;
	uint64_t tag;		/* gapped leaf: the page's tag */
	struct lpt_dref d;	/* direct leaf: its entry */
};

int __lpt_find_page(struct lpt *t, uint64_t va, struct lpt_pref *pr);
/* Unmap it (all copies); return 1 if something was removed. */
int __lpt_page_erase(struct lpt *t, struct lpt_pref *pr);
/* Its PTE OR-ed over copies, then clear @clear in every copy. */
uint64_t __lpt_page_test_clear(struct lpt_pref *pr, uint64_t clear);
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
