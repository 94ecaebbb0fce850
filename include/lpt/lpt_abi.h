/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Learned page table (LPT): the hardware ABI.  This header is the contract
 * between the code that builds the structures (kernel, tools) and the code
 * that walks them (the emulated MMU in QEMU and the reference walker in
 * lib/lpt).  It fixes the root register, the 16-byte index node, the
 * 16-byte gapped-table entry and the fixed-point datapath bit for bit, and
 * nothing else: no allocation, no policy.  Everything here is plain C with
 * fixed-width integers so that the kernel, QEMU and user space include it
 * unchanged.  docs/lpt-abi.md explains the formats and the walk in prose.
 */
#ifndef LPT_ABI_H
#define LPT_ABI_H

#if defined(__KERNEL__)
#include <linux/types.h>
#else
#include <stdint.h>
#endif

/*
 * Virtual address space covered.  The LPT translates user addresses of a
 * 4-level (48-bit) address space: VA < 2^47.  Keeping the VPN to 35 bits is
 * what lets a 21-bit slope times the VPN plus a 56-bit intercept stay inside
 * a signed 64-bit accumulator, so the datapath needs no wider multiplier.
 */
#define LPT_VA_BITS		47
#define LPT_VPN_BITS		(LPT_VA_BITS - 12)
#define LPT_VA_LIMIT		(1ULL << LPT_VA_BITS)

/* Physical addresses of index arenas and leaf tables are below 2^46. */
#define LPT_TABLE_PA_BITS	46
/* Physical addresses in entries (PFN field) follow x86: below 2^52. */
#define LPT_PTE_PA_BITS		52

/* Structural limits. */
#define LPT_MAX_DEPTH		3	/* nodes on one root-to-leaf path */
#define LPT_CERR		3	/* error bound: probe slots p..p+3 */
#define LPT_WALK_RETRIES	4	/* restarts on a slot reused mid-walk */
#define LPT_MAX_FANOUT		4096	/* children of one inner node */
#define LPT_MAX_ARENA_PAGES	256	/* 4 KiB pages of index nodes */
#define LPT_MAX_NODES		(LPT_MAX_ARENA_PAGES * 4096 / 16)
#define LPT_MAX_TABLE_PAGES	256	/* 4 KiB pages in one leaf table */
#define LPT_SLOTS_PER_PAGE	256	/* 16-byte slots in 4 KiB */
#define LPT_LINE_BYTES		64
#define LPT_NODE_BYTES		16
#define LPT_SLOT_BYTES		16

/* Fixed point: the datapath is signed 44.20. */
#define LPT_FRAC_BITS		20
#define LPT_FIX_ONE		(1LL << LPT_FRAC_BITS)

/*
 * Root register (an MSR; value layout):
 *   [0]      E      translation through the LPT enabled
 *   [11:1]   ASID   tags walk-cache entries; not used by the walk itself
 *   [45:12]  arena  physical address of index node 0 (the root), 4 KiB aligned
 *   [51:46]  reserved, must be zero
 *   [59:52]  pages  size of the node arena in 4 KiB pages, minus one
 *   [63:60]  reserved, must be zero
 * The arena is one physically contiguous block of at most 256 pages; every
 * child reference is an index into it, so a corrupt node can never send the
 * walker outside the arena.
 */
#define LPT_ROOT_E		(1ULL << 0)
#define LPT_ROOT_ASID_SHIFT	1
#define LPT_ROOT_ASID_MASK	0x7ffULL
#define LPT_ROOT_PA_MASK	0x00003ffffffff000ULL
#define LPT_ROOT_PAGES_SHIFT	52
#define LPT_ROOT_PAGES_MASK	0xffULL
#define LPT_ROOT_RSVD_MASK	0xf00fc00000000000ULL

/*
 * Index node: 16 bytes, two little-endian 64-bit words, four per line.
 *
 * w0:
 *   [1:0]    kind    0 EMPTY (nothing mapped here), 1 INNER, 2 LEAF (a
 *                    gapped table of tagged slots), 3 DIRECT (a table of
 *                    untagged 8-byte PTEs, one per granule; ABI version 2)
 *   [7:2]    shift   model input x = vpn >> shift
 *   [28:8]   slope   unsigned 1.20 fixed point, in [0, 2)
 *   [62:29]  ptr     LEAF:  table physical address bits [45:12]
 *                    INNER: [44:29] index of the first child in the arena,
 *                           [56:45] fan-out minus one, [62:57] reserved 0
 *   [63]     reserved, must be zero
 * w1:
 *   [7:0]    aux     LEAF, DIRECT: table size in 4 KiB pages minus one;
 *                    INNER: reserved, must be zero
 *   [63:8]   intercept, signed 36.20 fixed point (56 bits)
 *
 * The model is y = slope * x + intercept, evaluated exactly in 44.20.
 * INNER: child = clamp(floor(y), 0, fanout - 1).
 * LEAF:  predicted slot p = floor(y); it must satisfy 0 <= p < slots.
 * DIRECT: the slope is exactly 1 and the intercept a whole number, so
 *        p = (vpn >> shift) + intercept names one granule and no other:
 *        the slot's position is the page, and the slot needs no tag.
 *
 * Why not two full 64-bit words as in the paper: a node must also say where
 * its children or its table are and how big they are, or a walker fed a bad
 * model reads arbitrary physical memory and trusts whatever tag it finds.
 * The per-node shift keeps both fields short without losing precision: a
 * leaf's slope is "slots per granule" (at most 1), an inner node's slope is
 * normalised to below 2 by picking the shift, and the intercept never needs
 * more than 36 integer bits because x < 2^35.
 */
#define LPT_NODE_EMPTY		0
#define LPT_NODE_INNER		1
#define LPT_NODE_LEAF		2
#define LPT_NODE_DIRECT		3
#define LPT_NODE_KIND_MASK	0x3ULL
#define LPT_NODE_SHIFT_SHIFT	2
#define LPT_NODE_SHIFT_MASK	0x3fULL
#define LPT_NODE_SLOPE_SHIFT	8
#define LPT_NODE_SLOPE_BITS	21
#define LPT_NODE_SLOPE_MASK	((1ULL << LPT_NODE_SLOPE_BITS) - 1)
#define LPT_NODE_PTR_SHIFT	29
#define LPT_NODE_PTR_MASK	((1ULL << 34) - 1)
#define LPT_NODE_CHILD_SHIFT	29
#define LPT_NODE_CHILD_MASK	0xffffULL
#define LPT_NODE_FAN_SHIFT	45
#define LPT_NODE_FAN_MASK	0xfffULL
#define LPT_NODE_W0_RSVD	(1ULL << 63)
#define LPT_NODE_INNER_RSVD	(0x3fULL << 57)
#define LPT_NODE_AUX_MASK	0xffULL
#define LPT_NODE_ICPT_SHIFT	8
#define LPT_ICPT_BITS		56
#define LPT_ICPT_MAX		((1LL << (LPT_ICPT_BITS - 1)) - 1)
#define LPT_ICPT_MIN		(-(1LL << (LPT_ICPT_BITS - 1)))
#define LPT_SLOPE_MAX		((int64_t)LPT_NODE_SLOPE_MASK)

/*
 * Gapped-table entry (slot): 16 bytes.
 * w0 is an x86-like PTE:
 *   [0] P  [1] RW  [2] US  [3] PWT  [4] PCD  [5] A  [6] D
 *   [7] reserved (the page size lives in the tag), [8] G, [11:9] software,
 *   [51:12] PFN (for 2M/1G the low 9/18 PFN bits are reserved, must be 0),
 *   [62:52] software, [63] NX.
 * w1 is the tag:
 *   [0] V (slot holds an entry), [2:1] size 0=4K 1=2M 2=1G 3=reserved,
 *   [11:3] reserved 0, [46:12] VA bits [46:12] of the page base,
 *   [63:47] reserved 0.
 * A slot matches va when V is set, the size is valid, the tag is aligned to
 * the size and (va & ~(size - 1)) equals the tag's base.  A huge page may
 * sit in several slots ("copies") with identical tags; the OS keeps them in
 * step and ORs their A/D bits.
 */
#define LPT_PTE_P		(1ULL << 0)
#define LPT_PTE_RW		(1ULL << 1)
#define LPT_PTE_US		(1ULL << 2)
#define LPT_PTE_PWT		(1ULL << 3)
#define LPT_PTE_PCD		(1ULL << 4)
#define LPT_PTE_A		(1ULL << 5)
#define LPT_PTE_D		(1ULL << 6)
#define LPT_PTE_RSVD7		(1ULL << 7)
#define LPT_PTE_G		(1ULL << 8)
#define LPT_PTE_NX		(1ULL << 63)
#define LPT_PTE_PFN_MASK	0x000ffffffffff000ULL

#define LPT_TAG_V		(1ULL << 0)
#define LPT_TAG_SIZE_SHIFT	1
#define LPT_TAG_SIZE_MASK	0x3ULL
#define LPT_TAG_VA_MASK		0x00007ffffffff000ULL
#define LPT_TAG_RSVD_MASK	(~(LPT_TAG_VA_MASK | 0x7ULL))

/*
 * Direct table (ABI version 2): 8-byte x86-like PTEs, 512 per 4 KiB page,
 * eight per line as in a radix page table; slot p holds the entry of
 * granule (p - intercept) of the DIRECT node's shift (0, 9 or 18: 4 KiB,
 * 2 MiB or 1 GiB granules; any other shift is a bad node).  Bit 7 is PS,
 * as in x86 paging-structure entries:
 *   shift 0:  PS=0 a 4 KiB page; PS=1 one of the 512 copies of a 2 MiB
 *             page (PFN is the 2 MiB page's base: the walk translates the
 *             whole 2 MiB page, and the OS ORs A/D over the copies).
 *   shift 9:  PS=1 a 2 MiB page; PS=0 (P=1) a pointer to a sub-table, one
 *             4 KiB page of 512 4 KiB PTEs (PS=0) for this granule: PFN is
 *             its address and every other bit of the pointer must be 0.
 *   shift 18: PS=1 a 1 GiB page; PS=0 with P set is reserved.
 * A zero word is an unmapped page (no-entry); P clear and not zero is
 * not-present (the OS may keep swap information there).  A huge PFN's low
 * 9 or 18 bits are reserved, as in v1 slots.
 */
#define LPT_PTE_PS		(1ULL << 7)
#define LPT_DIRECT_SLOT_BYTES	8
#define LPT_DIRECT_SLOTS_PER_PAGE	512
#define LPT_SUBTABLE_SLOTS	512
/* What a sub-table pointer may hold besides P and the PFN: nothing. */
#define LPT_SUBPTR_RSVD_MASK	(~(LPT_PTE_PFN_MASK | LPT_PTE_P))

/* Page sizes (the 2-bit size field). */
#define LPT_SIZE_4K		0
#define LPT_SIZE_2M		1
#define LPT_SIZE_1G		2
#define LPT_SIZE_RSVD		3
#define LPT_NR_SIZES		3

/* log2 of the page size in 4 KiB pages: 0, 9, 18. */
static inline unsigned int lpt_size_order(unsigned int size)
{
	return size * 9;
}

static inline uint64_t lpt_size_bytes(unsigned int size)
{
	return 4096ULL << lpt_size_order(size);
}

/* Walk faults, reported by the walker (0 means translated). */
enum lpt_fault {
	LPT_OK = 0,
	LPT_F_DISABLED,		/* root register E clear */
	LPT_F_BADROOT,		/* reserved root bits set */
	LPT_F_NONCANON,		/* va outside the covered user range */
	LPT_F_BUS,		/* read callback failed */
	LPT_F_BADNODE,		/* reserved node kind or reserved bits */
	LPT_F_EMPTY,		/* walk reached an EMPTY node */
	LPT_F_DEPTH,		/* inner node at the depth limit */
	LPT_F_RANGE,		/* child or slot index outside its arena/table */
	LPT_F_NOENTRY,		/* no slot in the window matches the va */
	LPT_F_BADENTRY,		/* matching slot with reserved bits set */
	LPT_F_NOTPRESENT,	/* matching slot, P clear */
	LPT_F_NR
};

/* ---- Encoders and decoders shared by builder and walker. ---- */

static inline unsigned int lpt_node_kind(uint64_t w0)
{
	return (unsigned int)(w0 & LPT_NODE_KIND_MASK);
}

static inline unsigned int lpt_node_shift(uint64_t w0)
{
	return (unsigned int)((w0 >> LPT_NODE_SHIFT_SHIFT) & LPT_NODE_SHIFT_MASK);
}

static inline int64_t lpt_node_slope(uint64_t w0)
{
	return (int64_t)((w0 >> LPT_NODE_SLOPE_SHIFT) & LPT_NODE_SLOPE_MASK);
}

static inline int64_t lpt_node_intercept(uint64_t w1)
{
	/* Sign-extend the 56-bit field without right-shifting a negative. */
	uint64_t v = w1 >> LPT_NODE_ICPT_SHIFT;

	if (v & (1ULL << (LPT_ICPT_BITS - 1)))
		return (int64_t)(v | ~((1ULL << LPT_ICPT_BITS) - 1));
	return (int64_t)v;
}

static inline uint64_t lpt_node_table_pa(uint64_t w0)
{
	return ((w0 >> LPT_NODE_PTR_SHIFT) & LPT_NODE_PTR_MASK) << 12;
}

static inline uint32_t lpt_node_table_slots(uint64_t w1)
{
	return (uint32_t)((w1 & LPT_NODE_AUX_MASK) + 1) * LPT_SLOTS_PER_PAGE;
}

static inline uint32_t lpt_node_direct_slots(uint64_t w1)
{
	return (uint32_t)((w1 & LPT_NODE_AUX_MASK) + 1) *
	       LPT_DIRECT_SLOTS_PER_PAGE;
}

static inline uint32_t lpt_node_child(uint64_t w0)
{
	return (uint32_t)((w0 >> LPT_NODE_CHILD_SHIFT) & LPT_NODE_CHILD_MASK);
}

static inline uint32_t lpt_node_fanout(uint64_t w0)
{
	return (uint32_t)((w0 >> LPT_NODE_FAN_SHIFT) & LPT_NODE_FAN_MASK) + 1;
}

/*
 * The datapath: y = slope * (vpn >> shift) + intercept in 44.20.  With
 * slope < 2^21, x < 2^35 and |intercept| < 2^55 the result is below 2^57 in
 * magnitude, so the multiply and add cannot overflow for any bit pattern.
 */
static inline int64_t lpt_node_eval(uint64_t w0, uint64_t w1, uint64_t vpn)
{
	uint64_t x = (vpn & ((1ULL << LPT_VPN_BITS) - 1)) >> lpt_node_shift(w0);

	return lpt_node_slope(w0) * (int64_t)x + lpt_node_intercept(w1);
}

/* Floor of a 44.20 value, for values known to be non-negative. */
static inline uint64_t lpt_fix_floor(int64_t y)
{
	return (uint64_t)y >> LPT_FRAC_BITS;
}

/* Reserved-bit check; a node failing it makes the walk fault. */
static inline int lpt_node_valid(uint64_t w0, uint64_t w1)
{
	unsigned int kind = lpt_node_kind(w0);

	if (w0 & LPT_NODE_W0_RSVD)
		return 0;
	if (kind == LPT_NODE_INNER)
		return !(w0 & LPT_NODE_INNER_RSVD) && !(w1 & LPT_NODE_AUX_MASK);
	if (kind == LPT_NODE_DIRECT) {
		unsigned int g = lpt_node_shift(w0);

		return (g == 0 || g == 9 || g == 18) &&
		       lpt_node_slope(w0) == LPT_FIX_ONE &&
		       !(lpt_node_intercept(w1) & (LPT_FIX_ONE - 1));
	}
	return 1;	/* LEAF, EMPTY */
}

/* lpt_index_step() result: an inner node, go on to *child. */
#define LPT_DESCEND	(-1)

/*
 * One step of the index descent, at node (@w0, @w1), the @depth-th node
 * read: LPT_OK at a leaf (LEAF or DIRECT), a fault code (BADNODE, EMPTY,
 * DEPTH, RANGE), or LPT_DESCEND with *@child set to the child the inner
 * node's prediction, clamped onto [0, fanout), routes @vpn to.  The
 * walker and the library's own update paths both descend with it.
 */
static inline int lpt_index_step(uint64_t w0, uint64_t w1, uint64_t vpn,
				 uint32_t depth, uint32_t nnodes,
				 uint32_t *child)
{
	int64_t y;
	uint64_t j;
	uint32_t fan;

	if (!lpt_node_valid(w0, w1))
		return LPT_F_BADNODE;
	switch (lpt_node_kind(w0)) {
	case LPT_NODE_EMPTY:
		return LPT_F_EMPTY;
	case LPT_NODE_LEAF:
	case LPT_NODE_DIRECT:
		return LPT_OK;
	default:
		break;
	}
	if (depth == LPT_MAX_DEPTH)
		return LPT_F_DEPTH;
	y = lpt_node_eval(w0, w1, vpn);
	fan = lpt_node_fanout(w0);
	j = y < 0 ? 0 : lpt_fix_floor(y);
	if (j >= fan)
		j = fan - 1;
	*child = lpt_node_child(w0) + (uint32_t)j;
	return *child < nnodes ? LPT_DESCEND : LPT_F_RANGE;
}

static inline uint64_t lpt_node_pack(unsigned int kind, unsigned int shift,
				     int64_t slope, uint64_t ptr)
{
	return (uint64_t)kind |
	       ((uint64_t)(shift & LPT_NODE_SHIFT_MASK) << LPT_NODE_SHIFT_SHIFT) |
	       (((uint64_t)slope & LPT_NODE_SLOPE_MASK) << LPT_NODE_SLOPE_SHIFT) |
	       ((ptr & LPT_NODE_PTR_MASK) << LPT_NODE_PTR_SHIFT);
}

static inline uint64_t lpt_node_pack_w1(int64_t intercept, uint64_t aux)
{
	return ((uint64_t)intercept << LPT_NODE_ICPT_SHIFT) |
	       (aux & LPT_NODE_AUX_MASK);
}

static inline uint64_t lpt_inner_ptr(uint32_t first_child, uint32_t fanout)
{
	return (uint64_t)(first_child & LPT_NODE_CHILD_MASK) |
	       ((uint64_t)((fanout - 1) & LPT_NODE_FAN_MASK) << 16);
}

static inline uint64_t lpt_tag_pack(uint64_t base_va, unsigned int size)
{
	return (base_va & LPT_TAG_VA_MASK) |
	       ((uint64_t)(size & LPT_TAG_SIZE_MASK) << LPT_TAG_SIZE_SHIFT) |
	       LPT_TAG_V;
}

/*
 * Does the tag word of a slot claim the page containing @va?  Misaligned
 * or reserved-size tags never match; the caller checks reserved bits of a
 * matching tag separately so that a corrupt slot faults instead of being
 * skipped.
 */
static inline int lpt_tag_matches(uint64_t tag, uint64_t va)
{
	unsigned int size = (unsigned int)((tag >> LPT_TAG_SIZE_SHIFT) &
					   LPT_TAG_SIZE_MASK);

	if (!(tag & LPT_TAG_V) || size == LPT_SIZE_RSVD)
		return 0;
	return ((va & ~(lpt_size_bytes(size) - 1)) & LPT_TAG_VA_MASK) ==
	       (tag & LPT_TAG_VA_MASK);
}

static inline unsigned int lpt_tag_size(uint64_t tag)
{
	return (unsigned int)((tag >> LPT_TAG_SIZE_SHIFT) & LPT_TAG_SIZE_MASK);
}

static inline uint64_t lpt_root_pack(uint64_t arena_pa, uint32_t pages,
				     uint32_t asid)
{
	return LPT_ROOT_E |
	       ((uint64_t)(asid & LPT_ROOT_ASID_MASK) << LPT_ROOT_ASID_SHIFT) |
	       (arena_pa & LPT_ROOT_PA_MASK) |
	       ((uint64_t)((pages - 1) & LPT_ROOT_PAGES_MASK) <<
		LPT_ROOT_PAGES_SHIFT);
}

/*
 * Model-specific registers of the emulated LPT MMU (docs/lpt-mmu.md).  The
 * range 0x4c505500-0x4c5055ff is unused by QEMU 7.2 and Linux 6.12; it sits
 * next to the radix walk counters (0x4c505400-0x4c5054ff).  Only present
 * when QEMU runs with the CPU property lpt=on; otherwise RDMSR/WRMSR #GP.
 *
 * LPT_ROOT (read/write): the root register above.  Writing a value with
 * reserved bits set raises #GP.  Any write invalidates the walk cache
 * entries of this vCPU.  0 (E clear) means user translations use the
 * radix table as usual.  The root applies to user-half addresses (below
 * 2^47) while the vCPU is not in SVM guest mode.
 *
 * LPT_CTL (read-only): [7:0] ABI version (2: DIRECT leaves); [8] strict (a miss raises
 * #PF and the radix table is not walked); [9] cross-check (every LPT
 * translation is also walked, side-effect free, in the radix table and
 * compared); [31:16] walk-cache entries (0 = no walk cache).
 *
 * Counter i (read-only, per vCPU, 64-bit, never reset by the guest) is
 * MSR LPT_MSR_COUNTER0 + i, in the order of enum lpt_counter.
 */
#define LPT_MSR_ROOT		0x4c505500U
#define LPT_MSR_CTL		0x4c505501U
#define LPT_MSR_COUNTER0	0x4c505510U
#define LPT_MSR_LAST		0x4c5055ffU

#define LPT_CTL_VERSION		2
#define LPT_CTL_VERSION_MASK	0xffULL
#define LPT_CTL_STRICT		(1ULL << 8)
#define LPT_CTL_CROSSCHECK	(1ULL << 9)
#define LPT_CTL_LWC_SHIFT	16
#define LPT_CTL_LWC_MASK	0xffffULL

enum lpt_counter {
	LPT_CNT_WALKS = 0,	/* LPT walks (successful or not) */
	LPT_CNT_REFS,		/* memory lines read by them (LWC hits free) */
	LPT_CNT_WALKS_0REF,	/* walks that read no line (faulted in LWC) */
	LPT_CNT_WALKS_1REF,	/* walks that read exactly one line */
	LPT_CNT_WALKS_2REF,
	LPT_CNT_WALKS_3REF,
	LPT_CNT_WALKS_4PLUS,	/* four lines or more */
	LPT_CNT_COLLISIONS,	/* translations not found at the predicted slot */
	LPT_CNT_LWC_HITS,	/* node reads served by the walk cache */
	LPT_CNT_LWC_MISSES,	/* node reads that went to memory */
	LPT_CNT_MISSES,		/* walks that found no translation */
	LPT_CNT_FALLBACKS,	/* misses then walked in the radix table */
	LPT_CNT_CROSSCHECKS,	/* LPT translations compared with radix */
	LPT_CNT_MISMATCHES,	/* ... that disagreed (logged with the va) */
	LPT_CNT_PROT_FAULTS,	/* translated, but the access was not allowed */
	LPT_CNT_LEAF_4K,	/* successful walks by page size */
	LPT_CNT_LEAF_2M,
	LPT_CNT_LEAF_1G,
	LPT_CNT_AD_UPDATES,	/* atomic A/D updates written to an entry */
	LPT_CNT_ROOT_WRITES,	/* WRMSR LPT_ROOT */
	LPT_CNT_LWC_FLUSHES,	/* walk-cache invalidations (CR3, INVLPG, root) */
	/* radix walks of user addresses while the root was enabled,
	 * cross-checks excluded: 0 in strict mode
	 */
	LPT_CNT_RADIX_USER,
	/* walks that faulted on a malformed structure (bad root, node or
	 * entry, index out of range, bus error)
	 */
	LPT_CNT_BAD_STRUCT,
	/* walks that found an entry reading exactly one line: the
	 * single-reference share of translations, first-touch misses apart
	 */
	LPT_CNT_HITS_1REF,
	LPT_CNT_NR
};

#endif /* LPT_ABI_H */
