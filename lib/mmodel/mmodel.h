/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Machine model core: the deterministic cycle accounting behind the
 * project's performance figures (issue 9, docs/mmodel.md).  The emulated
 * platform feeds it every data access and every page-walk reference by
 * physical address; it runs them through a set-associative L1D / L2 / LLC
 * model with true LRU, charges DRAM misses to the NUMA node the address
 * lives on, counts instructions, world switches and TLB flushes, and turns
 * the counts into modelled cycles:
 *
 *   cycles = instructions x CPI + accesses x level latency
 *          + walk references x level latency + world switches x cost
 *          + TLB flushes x cost
 *
 * Inclusion policy: non-inclusive non-exclusive (NINE).  A miss fills
 * every level it missed in and an eviction from one level never touches
 * another.  The modelled part's LLC is non-inclusive (filled by L2
 * victims), so an inclusive model with back-invalidation would be wrong
 * too; NINE keeps private per-vCPU L1D/L2 and a shared LLC independent
 * (no cross-vCPU invalidation messages, hence deterministic however vCPUs
 * interleave) and keeps the hit path at one compare.  What it gets wrong
 * (the LLC also holds lines L2 holds; no coherence; no write-backs) is
 * listed in docs/mmodel.md.
 *
 * Everything is integer-only and allocation-free: a cache's tag array is
 * storage the caller provides (mmodel_cache_storage_bytes()).  Nothing
 * here locks: a caller sharing one LLC between vCPU threads serialises
 * the calls (the deterministic measurement mode runs one TCG thread).
 */
#ifndef MMODEL_H
#define MMODEL_H

#include "mmodel_seam.h"

/* Where an access was served; also the index of the latency arrays. */
enum mmodel_level {
	MMODEL_L1,		/* private L1 data cache */
	MMODEL_L2,		/* private unified L2 */
	MMODEL_LLC,		/* last-level cache, may be shared */
	MMODEL_DRAM,		/* memory, at the latency of the line's node */
	MMODEL_NR_LEVELS
};

#define MMODEL_NR_CACHES	3	/* L1, L2, LLC */
#define MMODEL_MAX_NODES	8	/* NUMA nodes with a DRAM latency */
#define MMODEL_LINE_SHIFT	6	/* the only line size accepted: 64 */
#define MMODEL_LINE		(1u << MMODEL_LINE_SHIFT)
#define MMODEL_MAX_WAYS		64	/* associativity limit per level */
#define MMODEL_MAX_SETS		(1u << 24)	/* 1 GiB of 64-way lines */
#define MMODEL_MAX_RANGES	16	/* physical ranges in a NUMA map */

/* Instruction modes counted apart. */
enum mmodel_mode {
	MMODEL_USER,		/* CPL 3, outside nested guest mode */
	MMODEL_KERNEL,		/* CPL 0-2, outside nested guest mode */
	MMODEL_NESTED,		/* any CPL inside an L2 guest (after VMRUN) */
	MMODEL_NR_MODES
};

/* Page-walk reference kinds, kept apart when the caller wants. */
enum mmodel_walk_kind {
	MMODEL_WALK_S1,		/* stage-1 (guest or native) page table */
	MMODEL_WALK_S2,		/* stage-2 (nested/host) page table */
	MMODEL_WALK_2D,		/* 2D walk when the caller does not split it */
	MMODEL_NR_WALKS
};

/* One cache level's geometry and cost. */
struct mmodel_level_params {
	uint64_t size;		/* capacity in bytes: sets x ways x line */
	uint32_t ways;		/* associativity, 1..MMODEL_MAX_WAYS */
	uint32_t line;		/* line size in bytes; must be 64 */
	uint32_t latency;	/* load-to-use latency of a hit, cycles */
};

/* The whole model's parameters (defaults: mmodel_params_default()). */
struct mmodel_params {
	uint32_t freq_mhz;	/* core clock, MHz: converts ns to cycles */
	uint32_t cpi_milli;	/* base CPI without memory stalls, x1000 */
	struct mmodel_level_params cache[MMODEL_NR_CACHES];	/* L1, L2, LLC */
	uint32_t node_ns[MMODEL_MAX_NODES];	/* idle DRAM latency, ns; 0 = no node */
	uint32_t vmrun_cycles;	/* world switch into the guest (VMRUN) */
	uint32_t vmexit_cycles;	/* world switch out of it (#VMEXIT) */
	uint32_t flush_cycles;	/* direct cost of one TLB flush */
};

/*
 * One cache level.  Each set is an array of ways ordered most- to
 * least-recently used; an entry is the line number with MMODEL_TAG_VALID
 * set, 0 when empty.  @last is the line this level served last: it is the
 * MRU entry of its set, so a repeat hits without searching.
 */
struct mmodel_cache {
	uint64_t *tags;		/* sets x ways entries, caller's storage */
	uint64_t last;		/* tag of the line served last, 0 if none */
	uint32_t set_mask;	/* sets - 1 (sets is a power of two) */
	uint32_t ways;		/* entries per set */
	uint32_t latency;	/* hit latency, cycles (from the params) */
};

#define MMODEL_TAG_VALID	(1ULL << 63)

/* [start, end) of physical memory on @node. */
struct mmodel_range {
	uint64_t start;		/* first byte */
	uint64_t end;		/* one past the last byte */
	uint32_t node;		/* node index, < MMODEL_MAX_NODES */
};

/* Physical address to NUMA node; addresses in no range are node 0. */
struct mmodel_numa {
	struct mmodel_range r[MMODEL_MAX_RANGES];	/* sorted, disjoint */
	uint32_t nr;		/* ranges in use */
};

/* Per-vCPU counts; plain sums, reset by zeroing. */
struct mmodel_counters {
	uint64_t insns[MMODEL_NR_MODES];	/* retired instructions by mode */
	uint64_t loads[MMODEL_NR_LEVELS];	/* data load lines by serving level */
	uint64_t stores[MMODEL_NR_LEVELS];	/* data store lines by serving level */
	uint64_t data_dram[MMODEL_MAX_NODES];	/* data lines from DRAM by node */
	uint64_t walk[MMODEL_NR_WALKS][MMODEL_NR_LEVELS];	/* walk refs by level */
	uint64_t walk_dram[MMODEL_NR_WALKS][MMODEL_MAX_NODES];	/* walk refs from DRAM by node */
	uint64_t vmrun;		/* world switches into a guest */
	uint64_t vmexit;	/* world switches out of a guest */
	uint64_t flushes;	/* TLB flushes (full or single-entry alike) */
};

/* What one vCPU feeds accesses through. */
struct mmodel_vcpu {
	struct mmodel_cache *l1;	/* private L1D */
	struct mmodel_cache *l2;	/* private L2 */
	struct mmodel_cache *llc;	/* LLC, may be shared with other vCPUs */
	const struct mmodel_numa *numa;	/* node map, shared, read-only */
	struct mmodel_counters ctr;	/* this vCPU's counts */
};

/* mmodel_cycles() result: each term in cycles, and their sum. */
struct mmodel_breakdown {
	uint64_t insn[MMODEL_NR_MODES];	/* instructions x CPI, per mode */
	uint64_t data[MMODEL_NR_LEVELS];	/* loads+stores x latency; DRAM: all nodes */
	uint64_t walk[MMODEL_NR_WALKS][MMODEL_NR_LEVELS];	/* walk refs x latency */
	uint64_t dram_node[MMODEL_MAX_NODES];	/* data+walk DRAM cycles per node */
	uint64_t vmrun;		/* VMRUNs x cost */
	uint64_t vmexit;	/* #VMEXITs x cost */
	uint64_t flush;		/* TLB flushes x cost */
	uint64_t total;		/* sum of the terms above (dram_node excluded) */
	bool saturated;		/* a term or the total hit UINT64_MAX */
};

/* Parameters */

/* Fill @p with the defaults: Intel Xeon Gold 6242 plus a CXL-like node 1. */
void mmodel_params_default(struct mmodel_params *p);

/*
 * Parse @spec ("key=value,key=value"; keys freq, cpi, l1d, l2, llc, node0..
 * node7, vmrun, vmexit, flush; see docs/mmodel.md) on top of the defaults,
 * later keys overriding earlier ones, then check the result as
 * mmodel_params_check() does.  Returns 0, or -1 with a message naming the
 * key and the reason in @err (always NUL-terminated when @errlen > 0).  On
 * error @p holds the defaults.
 */
int mmodel_params_parse(struct mmodel_params *p, const char *spec,
			char *err, size_t errlen);

/* Check a whole parameter set; 0 or -1 with a message in @err. */
int mmodel_params_check(const struct mmodel_params *p, char *err,
			size_t errlen);

/* DRAM latency of @node in cycles (ns x MHz / 1000, rounded); 0 if absent. */
uint32_t mmodel_node_cycles(const struct mmodel_params *p, uint32_t node);

/* Caches */

/* Bytes of tag storage a level needs (0 if the geometry is invalid). */
size_t mmodel_cache_storage_bytes(const struct mmodel_level_params *lp);

/*
 * Make @c an empty cache of geometry @lp using @buf (@bytes at least
 * mmodel_cache_storage_bytes(), 8-byte aligned).  Returns 0 or -1.
 */
int mmodel_cache_init(struct mmodel_cache *c,
		      const struct mmodel_level_params *lp,
		      void *buf, size_t bytes);

/* Empty @c (all lines invalid), keeping its geometry. */
void mmodel_cache_reset(struct mmodel_cache *c);

/*
 * Look @paddr's line up in one level: a hit makes it MRU; a miss inserts
 * it as MRU, evicting the LRU line, whose address (line-aligned) goes to
 * @victim if non-NULL (UINT64_MAX when nothing was evicted).
 * Returns true on a hit.
 */
bool mmodel_cache_access(struct mmodel_cache *c, uint64_t paddr,
			 uint64_t *victim);

/* Whether @paddr's line is present, without touching the LRU order. */
bool mmodel_cache_contains(const struct mmodel_cache *c, uint64_t paddr);

/*
 * Run the access [@paddr, @paddr + @size) through the hierarchy, each line
 * it touches separately (a @size of 0 counts as 1), filling the levels
 * each line missed in.  Counts nothing.  Returns the deepest level any of
 * its lines was served from.  @is_write does not change the fill today
 * (write-allocate, no dirty state) but is part of the interface so a
 * write-back model does not change the callers.
 */
enum mmodel_level mmodel_access(struct mmodel_cache *l1,
				struct mmodel_cache *l2,
				struct mmodel_cache *llc,
				uint64_t paddr, uint32_t size, bool is_write);

/* NUMA map */

/* Empty map: everything on node 0. */
void mmodel_numa_init(struct mmodel_numa *m);

/*
 * Add [@start, @end) on @node.  Returns 0, or -1 if the range is empty,
 * overlaps one already there, @node >= MMODEL_MAX_NODES or the map is full.
 */
int mmodel_numa_add(struct mmodel_numa *m, uint64_t start, uint64_t end,
		    uint32_t node);

/* The node @paddr lives on. */
uint32_t mmodel_numa_node(const struct mmodel_numa *m, uint64_t paddr);

/* Counting front end (what the emulated platform calls) */

/* Bind @v to its caches and node map and zero its counters. */
void mmodel_vcpu_init(struct mmodel_vcpu *v, struct mmodel_cache *l1,
		      struct mmodel_cache *l2, struct mmodel_cache *llc,
		      const struct mmodel_numa *numa);

/* The miss path of mmodel_data_access(); callers use that instead. */
enum mmodel_level mmodel_data_access_slow(struct mmodel_vcpu *v,
					  uint64_t paddr, uint32_t size,
					  bool is_write);

/*
 * The common case of a data access, a repeat of the line L1 served last:
 * counted and true, or false (nothing counted) for the slow path.  It only
 * touches @v's L1 state, so a caller sharing the LLC between threads can
 * take its lock for the slow path alone.
 */
static inline bool mmodel_data_access_repeat(struct mmodel_vcpu *v,
					     uint64_t paddr, uint32_t size,
					     bool is_write)
{
	uint64_t line = paddr >> MMODEL_LINE_SHIFT;

	if (mmodel_likely((line | MMODEL_TAG_VALID) == v->l1->last &&
			  size && size <= MMODEL_LINE &&
			  ((paddr + size - 1) >> MMODEL_LINE_SHIFT) == line)) {
		if (is_write)
			v->ctr.stores[MMODEL_L1]++;
		else
			v->ctr.loads[MMODEL_L1]++;
		return true;
	}
	return false;
}

/*
 * One guest data load or store: every line of it counted by the level
 * that served it (and, from DRAM, by node).  Returns the deepest level.
 * The common case, a repeat of the line L1 served last, is inline.
 */
static inline enum mmodel_level mmodel_data_access(struct mmodel_vcpu *v,
						   uint64_t paddr,
						   uint32_t size,
						   bool is_write)
{
	if (mmodel_data_access_repeat(v, paddr, size, is_write))
		return MMODEL_L1;
	return mmodel_data_access_slow(v, paddr, size, is_write);
}

/*
 * One page-walk reference (an 8-byte entry read at @paddr) of @kind,
 * through the same hierarchy, counted apart from data.  Returns the level.
 */
enum mmodel_level mmodel_walk_access(struct mmodel_vcpu *v, uint64_t paddr,
				     enum mmodel_walk_kind kind);

/* Add @n retired instructions in @mode (a mode out of range is ignored). */
static inline void mmodel_count_insns(struct mmodel_vcpu *v,
				      enum mmodel_mode mode, uint64_t n)
{
	if ((unsigned int)mode < MMODEL_NR_MODES)
		v->ctr.insns[mode] += n;
}

/* Cycles */

/*
 * The modelled cycles of @c under @p, term by term, into @b.  Every
 * product and sum saturates at UINT64_MAX (and sets @b->saturated) rather
 * than wrapping.
 */
void mmodel_cycles(const struct mmodel_params *p,
		   const struct mmodel_counters *c,
		   struct mmodel_breakdown *b);

/* Add @src into @dst (to sum vCPUs), saturating. */
void mmodel_counters_add(struct mmodel_counters *dst,
			 const struct mmodel_counters *src);

/* Formatting, for tools (mmodel_format.c, which uses snprintf) */

/*
 * Write @b into @buf as an aligned text table, as CSV (header line then one
 * line "term,cycles,permille" per term) or as one JSON object.  Return the
 * length the whole text needs, as snprintf does (the text is cut short but
 * NUL-terminated when that is >= @len), or -1 on bad arguments.
 */
int mmodel_format_table(const struct mmodel_breakdown *b, char *buf,
			size_t len);
int mmodel_format_csv(const struct mmodel_breakdown *b, char *buf,
		      size_t len);
int mmodel_format_json(const struct mmodel_breakdown *b, char *buf,
		       size_t len);

/*
 * Write @p as a spec mmodel_params_parse() accepts and turns back into the
 * same parameters (every key spelt out).  Returns as snprintf does.
 */
int mmodel_params_format(const struct mmodel_params *p, char *buf,
			 size_t len);

/* Names for output: "L1", "L2", "LLC", "DRAM"; "user"...; "s1"... */
const char *mmodel_level_name(enum mmodel_level l);
const char *mmodel_mode_name(enum mmodel_mode m);
const char *mmodel_walk_name(enum mmodel_walk_kind k);

#endif /* MMODEL_H */
