// SPDX-License-Identifier: GPL-2.0
/*
 * The reference walker and the learned walk cache (LWC) model.  This is the
 * one definition of how an LPT translates an address: QEMU's emulated MMU,
 * the simulator and the library's own lookups all call lpt_walk(), so the
 * structures the kernel builds are walked bit for bit the same everywhere.
 * Memory is read only through the caller's read8 callback and nothing read
 * is trusted: every index is range-checked against the arena or table size
 * taken from the register or node, loops are bounded by LPT_MAX_DEPTH and
 * LPT_CERR (a direct leaf reads one entry, two through a sub-table), and
 * all arithmetic is on bounded fields, so garbage gives a fault, never
 * undefined behaviour.
 */
#include "lpt_internal.h"

static const char * const lpt_fault_names[LPT_F_NR] = {
	[LPT_OK]		= "ok",
	[LPT_F_DISABLED]	= "disabled",
	[LPT_F_BADROOT]		= "bad-root",
	[LPT_F_NONCANON]	= "non-canonical",
	[LPT_F_BUS]		= "bus-error",
	[LPT_F_BADNODE]		= "bad-node",
	[LPT_F_EMPTY]		= "empty",
	[LPT_F_DEPTH]		= "depth",
	[LPT_F_RANGE]		= "range",
	[LPT_F_NOENTRY]		= "no-entry",
	[LPT_F_BADENTRY]	= "bad-entry",
	[LPT_F_NOTPRESENT]	= "not-present",
};

const char *lpt_fault_name(int fault)
{
	if (fault < 0 || fault >= LPT_F_NR)
		return "unknown";
	return lpt_fault_names[fault];
}

/* ---- LWC ---- */

void lpt_lwc_init(struct lpt_lwc *c, struct lpt_lwc_entry *storage,
		  uint32_t size)
{
	memset(c, 0, sizeof(*c));
	c->e = storage;
	c->size = storage ? size : 0;
	lpt_lwc_flush(c);
}

void lpt_lwc_flush(struct lpt_lwc *c)
{
	if (c->e && c->size)
		memset(c->e, 0, sizeof(*c->e) * c->size);
}

void lpt_lwc_flush_asid(struct lpt_lwc *c, uint32_t asid)
{
	uint32_t i;

	for (i = 0; i < c->size; i++)
		if (c->e[i].key && (c->e[i].key >> 48) == asid)
			c->e[i].key = 0;
}

void lpt_lwc_reset_stats(struct lpt_lwc *c)
{
	c->hits = 0;
	c->misses = 0;
	c->evictions = 0;
}

/* Key: ASID above the physical address; bit 0 marks it valid. */
static uint64_t lwc_key(uint32_t asid, uint64_t node_pa)
{
	return ((uint64_t)asid << 48) | node_pa | 1;
}

static int lwc_lookup(struct lpt_lwc *c, uint64_t key, uint64_t *w0,
		      uint64_t *w1)
{
	uint32_t i;

	for (i = 0; i < c->size; i++) {
		if (c->e[i].key == key) {
			c->e[i].stamp = ++c->clock;
			*w0 = c->e[i].w0;
			*w1 = c->e[i].w1;
			c->hits++;
			return 1;
		}
	}
	c->misses++;
	return 0;
}

static void lwc_fill(struct lpt_lwc *c, uint64_t key, uint64_t w0, uint64_t w1)
{
	uint32_t i, victim = 0;

	if (!c->size)
		return;
	for (i = 0; i < c->size; i++) {
		if (!c->e[i].key) {
			victim = i;
			goto fill;
		}
		if (c->e[i].stamp < c->e[victim].stamp)
			victim = i;
	}
	c->evictions++;
fill:
	c->e[victim].key = key;
	c->e[victim].w0 = w0;
	c->e[victim].w1 = w1;
	c->e[victim].stamp = ++c->clock;
}

/* ---- walker ---- */

/* Record a line read from memory; a line read twice is one reference. */
static void walk_line(struct lpt_walk *w, uint64_t pa, uint8_t kind)
{
	uint64_t line = pa & ~(uint64_t)(LPT_LINE_BYTES - 1);
	uint32_t i;

	for (i = 0; i < w->nlines; i++)
		if (w->lines[i] == line)
			return;
	/* Cannot overflow: 3 node lines + 2 table lines at most. */
	if (w->nlines < LPT_WALK_MAX_LINES) {
		w->lines[w->nlines] = line;
		w->line_kind[w->nlines] = kind;
		w->nlines++;
	}
}

static int walk_fault(struct lpt_walk *w, int fault, uint64_t arg)
{
	w->fault = fault;
	w->fault_arg = arg;
	return fault;
}

static int read_node(uint64_t pa, lpt_read8_fn read8, void *ctx,
		     struct lpt_lwc *lwc, uint32_t asid, struct lpt_walk *w,
		     uint64_t *w0, uint64_t *w1)
{
	uint64_t key = lwc_key(asid, pa);

	if (lwc && lwc_lookup(lwc, key, w0, w1)) {
		w->lwc_hits++;
		return 0;
	}
	/*
	 * w1 (size, intercept) before w0 (pointer): the OS changes a live
	 * node by writing w0 first (rescale), so a read torn across such an
	 * update pairs a new table with its old, smaller size, never an old
	 * table with a size that reaches past its end.
	 */
	if (read8(ctx, pa + 8, w1) || read8(ctx, pa, w0))
		return -1;
	walk_line(w, pa, LPT_LINE_NODE);
	if (lwc) {
		w->lwc_misses++;
		lwc_fill(lwc, key, *w0, *w1);
	}
	return 0;
}

int __lpt_walk_index(uint64_t root, uint64_t vpn, lpt_read8_fn read8,
		     void *ctx, struct lpt_lwc *lwc, struct lpt_walk *w,
		     uint64_t *lw0, uint64_t *lw1, uint32_t *lidx)
{
	uint64_t arena = root & LPT_ROOT_PA_MASK;
	uint32_t nnodes = (uint32_t)(((root >> LPT_ROOT_PAGES_SHIFT) &
				      LPT_ROOT_PAGES_MASK) + 1) *
			  (4096 / LPT_NODE_BYTES);
	uint32_t asid = (uint32_t)((root >> LPT_ROOT_ASID_SHIFT) &
				   LPT_ROOT_ASID_MASK);
	uint32_t idx = 0, depth;
	uint64_t w0, w1;

	if (!(root & LPT_ROOT_E))
		return walk_fault(w, LPT_F_DISABLED, root);
	if (root & LPT_ROOT_RSVD_MASK)
		return walk_fault(w, LPT_F_BADROOT, root);

	for (depth = 1; depth <= LPT_MAX_DEPTH; depth++) {
		uint64_t pa = arena + (uint64_t)idx * LPT_NODE_BYTES;
		uint32_t child;
		int ret;

		*lidx = idx;
		w->depth = depth;
		if (read_node(pa, read8, ctx, lwc, asid, w, &w0, &w1))
			return walk_fault(w, LPT_F_BUS, pa);
		*lw0 = w0;
		*lw1 = w1;
		ret = lpt_index_step(w0, w1, vpn, depth, nnodes, &child);
		if (ret == LPT_OK)
			return LPT_OK;
		if (ret != LPT_DESCEND)
			return walk_fault(w, ret, pa);
		idx = child;
	}
	/* Not reached: the loop returns at the depth limit. */
	return walk_fault(w, LPT_F_DEPTH, 0);
}

/* Read one 8-byte entry of a direct table or sub-table, as a table line. */
static int read_entry(uint64_t pa, lpt_read8_fn read8, void *ctx,
		      struct lpt_walk *w, uint64_t *pte)
{
	w->probes++;
	if (read8(ctx, pa, pte))
		return walk_fault(w, LPT_F_BUS, pa);
	walk_line(w, pa, LPT_LINE_TABLE);
	w->entry_pa = pa;
	w->pte = *pte;
	if (!*pte)
		return walk_fault(w, LPT_F_NOENTRY, pa);
	if (!(*pte & LPT_PTE_P))
		return walk_fault(w, LPT_F_NOTPRESENT, pa);
	return LPT_OK;
}

/*
 * DIRECT leaf: the slot for @va is computed, not searched, and holds the
 * page's PTE (or, in a 2 MiB-granule table, a pointer to the 4 KiB
 * sub-table of that granule).  One table line, two through a sub-table.
 */
static int walk_direct(uint64_t w0, uint64_t w1, uint64_t va,
		       lpt_read8_fn read8, void *ctx, struct lpt_walk *w)
{
	unsigned int g = lpt_node_shift(w0), size;
	uint64_t slots = lpt_node_direct_slots(w1), p, pte, size_bytes, sub;
	int64_t y = lpt_node_eval(w0, w1, va >> 12);
	int ret;

	if (y < 0)
		return walk_fault(w, LPT_F_RANGE, (uint64_t)y);
	p = lpt_fix_floor(y);
	if (p >= slots)
		return walk_fault(w, LPT_F_RANGE, p);
	ret = read_entry(lpt_node_table_pa(w0) + p * LPT_DIRECT_SLOT_BYTES,
			 read8, ctx, w, &pte);
	if (ret)
		return ret;
	if (pte & LPT_PTE_PS) {
		size = g == 18 ? LPT_SIZE_1G : LPT_SIZE_2M;
	} else if (g == 0) {
		size = LPT_SIZE_4K;
	} else if (g == 9) {
		if (pte & LPT_SUBPTR_RSVD_MASK)
			return walk_fault(w, LPT_F_BADENTRY, w->entry_pa);
		sub = (pte & LPT_PTE_PFN_MASK) +
		      ((va >> 12) & (LPT_SUBTABLE_SLOTS - 1)) *
		      LPT_DIRECT_SLOT_BYTES;
		ret = read_entry(sub, read8, ctx, w, &pte);
		if (ret)
			return ret;
		if (pte & LPT_PTE_PS)
			return walk_fault(w, LPT_F_BADENTRY, sub);
		size = LPT_SIZE_4K;
	} else {
		return walk_fault(w, LPT_F_BADENTRY, w->entry_pa);
	}
	size_bytes = lpt_size_bytes(size);
	if (pte & LPT_PTE_PFN_MASK & (size_bytes - 1))
		return walk_fault(w, LPT_F_BADENTRY, w->entry_pa);
	w->size = size;
	w->pa = (pte & LPT_PTE_PFN_MASK) | (va & (size_bytes - 1));
	return LPT_OK;
}

int lpt_walk(uint64_t root, uint64_t va, lpt_read8_fn read8, void *ctx,
	     struct lpt_lwc *lwc, struct lpt_walk *w)
{
	uint64_t w0 = 0, w1 = 0, table, p, s, tag, tag2, pte, size_bytes;
	uint32_t slots, idx, k, retries = 0;
	unsigned int size;
	int64_t y;
	int ret;

	memset(w, 0, sizeof(*w));
	w->va = va;
	if (!(root & LPT_ROOT_E))
		return walk_fault(w, LPT_F_DISABLED, root);
	if (va >= LPT_VA_LIMIT)
		return walk_fault(w, LPT_F_NONCANON, va);

	ret = __lpt_walk_index(root, va >> 12, read8, ctx, lwc, w, &w0, &w1,
			       &idx);
	if (ret)
		return ret;

	w->leaf_kind = lpt_node_kind(w0);
	if (w->leaf_kind == LPT_NODE_DIRECT)
		return walk_direct(w0, w1, va, read8, ctx, w);

	/* Leaf: predict a slot, then probe p..p+Cerr inside the table. */
	table = lpt_node_table_pa(w0);
	slots = lpt_node_table_slots(w1);
	y = lpt_node_eval(w0, w1, va >> 12);
	if (y < 0)
		return walk_fault(w, LPT_F_RANGE, (uint64_t)y);
	p = lpt_fix_floor(y);
	if (p >= slots)
		return walk_fault(w, LPT_F_RANGE, p);

	for (k = 0; k <= LPT_CERR && p + k < slots; k++) {
		s = table + (p + k) * LPT_SLOT_BYTES;
		w->probes++;
		if (read8(ctx, s + 8, &tag))
			return walk_fault(w, LPT_F_BUS, s + 8);
		walk_line(w, s, LPT_LINE_TABLE);
		if (!lpt_tag_matches(tag, va))
			continue;
		if (tag & LPT_TAG_RSVD_MASK)
			return walk_fault(w, LPT_F_BADENTRY, s);
		/*
		 * Tag, PTE, tag again (same line, no extra reference): the OS
		 * may have given the slot to another page between the first
		 * two reads, and that page's PTE must not translate @va.  A
		 * changed tag sends the walk back to the first probe; the
		 * ABI bounds how often (docs/lpt-abi.md, "Concurrency").
		 */
		if (read8(ctx, s, &pte) || read8(ctx, s + 8, &tag2))
			return walk_fault(w, LPT_F_BUS, s);
		if (tag2 != tag) {
			if (++retries > LPT_WALK_RETRIES)
				return walk_fault(w, LPT_F_NOENTRY, p);
			k = (uint32_t)-1;	/* ++k: probe p again */
			continue;
		}
		size = lpt_tag_size(tag);
		size_bytes = lpt_size_bytes(size);
		w->entry_pa = s;
		w->pte = pte;
		w->size = size;
		w->displacement = k;
		if (!(pte & LPT_PTE_P))
			return walk_fault(w, LPT_F_NOTPRESENT, s);
		if ((pte & LPT_PTE_RSVD7) ||
		    (pte & LPT_PTE_PFN_MASK & (size_bytes - 1)))
			return walk_fault(w, LPT_F_BADENTRY, s);
		w->pa = (pte & LPT_PTE_PFN_MASK) | (va & (size_bytes - 1));
		return LPT_OK;
	}
	return walk_fault(w, LPT_F_NOENTRY, p);
}
