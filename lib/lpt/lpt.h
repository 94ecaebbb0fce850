/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Learned page table core library: the public interface.  It offers four
 * things, all integer-only and free of global state: the reference walker
 * (what the MMU does, used unchanged by QEMU and the tools), a learned-walk
 * cache model, and a page table object that builds the learned index over a
 * set of mappings and keeps it current under inserts and removals (gapped
 * tables, rescaling, retrain trigger).  Memory for the hardware-visible
 * structures and for bookkeeping comes from caller callbacks.  The object
 * is not locked: callers serialise all calls on one struct lpt.
 */
#ifndef LPT_H
#define LPT_H

#include "lpt_seam.h"
#include "../../include/lpt/lpt_abi.h"

/* ------------------------------------------------------------------ */
/* Reference walker                                                    */
/* ------------------------------------------------------------------ */

/*
 * Read the little-endian 64-bit word at physical address @pa (8-byte
 * aligned).  Return 0 on success, non-zero if the address is not backed;
 * the walk then faults with LPT_F_BUS.
 */
typedef int (*lpt_read8_fn)(void *ctx, uint64_t pa, uint64_t *val);

#define LPT_WALK_MAX_LINES	8

/* What one line in struct lpt_walk::lines held. */
#define LPT_LINE_NODE		0
#define LPT_LINE_TABLE		1

struct lpt_lwc;

/* Everything one walk did and produced. */
struct lpt_walk {
	uint64_t va;		/* input */
	uint64_t pte;		/* entry word as read (PS set: direct huge) */
	uint64_t pa;		/* translated physical address */
	uint64_t entry_pa;	/* physical address of the matching slot */
	uint64_t lines[LPT_WALK_MAX_LINES];	/* lines read from memory */
	uint8_t line_kind[LPT_WALK_MAX_LINES];	/* LPT_LINE_NODE/TABLE */
	uint32_t nlines;	/* distinct lines read == memory references */
	uint32_t lwc_hits;	/* node reads served by the walk cache */
	uint32_t lwc_misses;	/* node reads that went to memory */
	uint32_t depth;		/* nodes visited */
	uint32_t probes;	/* slots examined */
	uint32_t displacement;	/* matching slot minus predicted slot */
	uint32_t size;		/* LPT_SIZE_* of the translation */
	uint32_t leaf_kind;	/* LPT_NODE_LEAF or _DIRECT reached, else 0 */
	int fault;		/* enum lpt_fault; LPT_OK on success */
	uint64_t fault_arg;	/* address or value that caused the fault */
};

/*
 * lpt_walk - translate @va exactly as the hardware does.
 * @root: root register value (see lpt_abi.h).
 * @lwc: walk cache to consult and fill, or NULL for none.
 *
 * Every read goes through @read8; nothing read is trusted: any bit pattern
 * gives either a translation whose tag matches @va or a fault.  The walker
 * never writes memory; setting A/D is the caller's job (on @w->entry_pa).
 * Return: @w->fault.
 */
int lpt_walk(uint64_t root, uint64_t va, lpt_read8_fn read8, void *ctx,
	     struct lpt_lwc *lwc, struct lpt_walk *w);

/* ------------------------------------------------------------------ */
/* Learned walk cache (LWC) model                                      */
/* ------------------------------------------------------------------ */

/* One cached node; the key is (asid, node physical address). */
struct lpt_lwc_entry {
	uint64_t key;		/* 0 = invalid */
	uint64_t w0, w1;	/* node words */
	uint64_t stamp;		/* last use, for LRU */
};

/* Fully associative, LRU; storage is supplied by the caller. */
struct lpt_lwc {
	struct lpt_lwc_entry *e;
	uint32_t size;
	uint64_t clock;
	uint64_t hits;
	uint64_t misses;
	uint64_t evictions;
};

void lpt_lwc_init(struct lpt_lwc *c, struct lpt_lwc_entry *storage,
		  uint32_t size);
void lpt_lwc_flush(struct lpt_lwc *c);
void lpt_lwc_flush_asid(struct lpt_lwc *c, uint32_t asid);
void lpt_lwc_reset_stats(struct lpt_lwc *c);

/* ------------------------------------------------------------------ */
/* Page table object                                                   */
/* ------------------------------------------------------------------ */

/*
 * Memory callbacks.
 * @alloc: zeroed, physically contiguous, 4 KiB aligned memory of @bytes (a
 *	multiple of 4 KiB); returns the CPU pointer and stores the physical
 *	address (below 2^46) in @pa.  NULL on failure.
 * @free: give back what @alloc returned.  The library zeroes it first.
 * @max_contig: contiguity oracle, the largest physically contiguous block
 *	in bytes that @alloc can give right now (optional: NULL = unlimited).
 * @meta_alloc/@meta_free: CPU-only bookkeeping (kmalloc-like), need not be
 *	zeroed or contiguous.
 */
struct lpt_mem_ops {
	void *(*alloc)(void *ctx, size_t bytes, uint64_t *pa);
	void (*free)(void *ctx, void *va, uint64_t pa, size_t bytes);
	uint64_t (*max_contig)(void *ctx);
	void *(*meta_alloc)(void *ctx, size_t bytes);
	void (*meta_free)(void *ctx, void *p, size_t bytes);
	void *ctx;
};

/*
 * Tunables; lpt_params_default() gives the values the paper used where it
 * names one (docs/lpt-design.md says what each targets).
 */
struct lpt_params {
	uint32_t ga_scale_pct;		/* gapped-table scale, 130 = 1.3 */
	uint32_t max_depth;		/* <= LPT_MAX_DEPTH */
	uint32_t max_fanout;		/* <= LPT_MAX_FANOUT */
	uint32_t max_nodes;		/* arena capacity, <= LPT_MAX_NODES */
	uint32_t fanout_window;		/* search +- this around the estimate */
	uint32_t cov_slots;		/* coverage limit: slots per mapped granule */
	uint32_t max_copies;		/* slots one huge page may occupy */
	uint64_t max_leaf_bytes;	/* cap on one leaf table */
	uint64_t min_insert_dist;	/* growth step for rescaling, bytes */
	uint32_t w_depth;		/* cost model weights: C = */
	uint32_t w_size;		/*   w_depth*d + w_size*lines + */
	uint32_t w_coll;		/*   w_coll*cr(%)*ma */
	uint32_t asid;			/* goes into the root register */
};

/* One mapping: a page of LPT_SIZE_* at @va (aligned) with PTE word @pte. */
struct lpt_map {
	uint64_t va;
	uint64_t pte;
	uint32_t size;
};

/* Returned by lpt_insert() when only a retrain can place the page. */
#define LPT_NEED_RETRAIN	1

struct lpt_stats {
	uint64_t index_bytes;	/* nodes * 16 */
	uint32_t nodes;		/* nodes in use in the arena */
	uint32_t inner;
	uint32_t leaves;
	uint32_t direct_leaves;	/* of the leaves, DIRECT ones */
	uint32_t empty;
	uint32_t depth;		/* deepest root-to-leaf path */
	uint32_t arena_pages;
	uint64_t table_bytes;	/* all leaf tables and sub-tables */
	uint64_t subtables;	/* 4 KiB sub-tables of direct 2 MiB leaves */
	uint64_t max_table_bytes;
	uint64_t slots;
	uint64_t used_slots;	/* slots holding an entry (copies included) */
	uint64_t pages;		/* mappings (each huge page once) */
	uint64_t pages_by_size[LPT_NR_SIZES];
	uint64_t displaced;	/* mappings not at their predicted slot */
	uint32_t collision_ppm;	/* displaced per million mappings */
	/* event counters since lpt_create() */
	uint64_t inserts;
	uint64_t removes;
	uint64_t collisions;	/* inserts that landed off their slot */
	uint64_t rescales;
	uint64_t new_leaves;	/* leaves created in EMPTY slots by insert */
	uint64_t retrain_requests; /* LPT_NEED_RETRAIN returned */
	uint64_t retrains;
	uint64_t builds;
	uint64_t generation;	/* bumps whenever any node changes */
};

struct lpt;

void lpt_params_default(struct lpt_params *p);

/* Create an empty table (every walk faults with LPT_F_EMPTY). */
struct lpt *lpt_create(const struct lpt_params *p,
		       const struct lpt_mem_ops *ops);
void lpt_destroy(struct lpt *t);

/*
 * lpt_build - replace the contents with @n mappings.  @maps must be sorted
 * by va and must not overlap (lpt_sort_maps() sorts).  On failure the old
 * contents stay.  Return 0, -EINVAL, -ENOMEM or -ENOSPC (no index within
 * the limits).
 */
int lpt_build(struct lpt *t, const struct lpt_map *maps, size_t n);

/*
 * lpt_insert - map one page.  Return 0, LPT_NEED_RETRAIN (nothing changed;
 * call lpt_retrain() with the page as @extra), -EEXIST (overlaps a mapped
 * page), -EINVAL (bad alignment, size, PFN or va) or -ENOMEM.
 */
int lpt_insert(struct lpt *t, uint64_t va, uint64_t pte, unsigned int size);

/* Unmap the page containing @va.  Return 0 or -ENOENT. */
int lpt_remove(struct lpt *t, uint64_t va);

/*
 * lpt_get - the page containing @va as the table holds it: base, size and
 * PTE word (A/D merged over its copies), from the library's own records
 * (no walk).  Return 0 or -ENOENT.
 */
int lpt_get(struct lpt *t, uint64_t va, struct lpt_map *out);

/* Replace the PTE word of the page containing @va (all its copies). */
int lpt_update(struct lpt *t, uint64_t va, uint64_t pte);

/*
 * Rebuild from the current contents plus @nextra new mappings (any order).
 * Return 0, -EEXIST if an extra mapping overlaps, -EINVAL, -ENOMEM or
 * -ENOSPC; on failure the old contents stay.
 */
int lpt_retrain(struct lpt *t, const struct lpt_map *extra, size_t nextra);

/*
 * lpt_insert(), retraining when asked to; then it returns what
 * lpt_retrain() returns (0, -EEXIST, -ENOMEM or -ENOSPC).
 */
int lpt_map_page(struct lpt *t, uint64_t va, uint64_t pte, unsigned int size);

/*
 * lpt_remove_range - unmap every page that overlaps [@start, @end) (bytes,
 * any alignment; huge pages overlapping only partly go too).  Each call
 * takes the cheaper of a lookup per 4 KiB page and a pass over the slots
 * the range can predict in each leaf, so unmapping 1 GiB over a small
 * table reads at most that table, and one page costs one lookup.  Nothing
 * is allocated and no node changes.  Return: the number of pages removed.
 */
uint64_t lpt_remove_range(struct lpt *t, uint64_t start, uint64_t end);

/*
 * lpt_test_clear_range - for every page overlapping [@start, @end): count
 * it if its PTE word, OR-ed over all its copies, has any bit of @test set,
 * then clear the bits of @clear in every copy.  Only LPT_PTE_A, LPT_PTE_D
 * and LPT_PTE_RW may be cleared (others in @clear are ignored).  Same cost
 * as lpt_remove_range().  test = clear = LPT_PTE_A is "test and clear
 * young"; clear = LPT_PTE_RW | LPT_PTE_D write-protects a range.
 * Return: the number of pages that had a @test bit.
 */
uint64_t lpt_test_clear_range(struct lpt *t, uint64_t start, uint64_t end,
			      uint64_t test, uint64_t clear);

/* Walk this table's own memory with the reference walker. */
int lpt_lookup(struct lpt *t, uint64_t va, struct lpt_lwc *lwc,
	       struct lpt_walk *w);

/*
 * lpt_read8 - an lpt_read8_fn over this table's own memory (@ctx is the
 * struct lpt): lets any caller run lpt_walk() on a table it built.
 */
int lpt_read8(void *ctx, uint64_t pa, uint64_t *val);

/* Value for the root register; changes on every build/retrain. */
uint64_t lpt_root(const struct lpt *t);

/*
 * The generation counter of lpt_get_stats(), in O(1): it moves whenever
 * an index node changes in place (new leaf, rescale), after which cached
 * nodes and the old leaf table must no longer be used by any walker.
 */
uint64_t lpt_generation(const struct lpt *t);

/*
 * Copy out up to @max mappings (A/D merged over copies) and return how many
 * exist; the output is sorted by va when all of them fit.  @out may be NULL
 * to count.
 */
size_t lpt_collect(struct lpt *t, struct lpt_map *out, size_t max);

void lpt_get_stats(const struct lpt *t, struct lpt_stats *s);

/* Sort by va (heap sort: no recursion, no allocation). */
void lpt_sort_maps(struct lpt_map *maps, size_t n);

/* Name of a fault code, for messages. */
const char *lpt_fault_name(int fault);

#endif /* LPT_H */
