// SPDX-License-Identifier: GPL-2.0
/*
 * Range operations: unmap, or test and clear status bits of, every page
 * that overlaps a virtual range.  The kernel calls them from MMU notifiers
 * with ranges from one page (reclaim's young tests, a COW break) to the
 * whole address space (exit, a 1 GiB munmap), so there are two ways to
 * reach every page and each call takes the cheaper one:
 *
 *  - by page: one lookup per 4 KiB step (a huge page found is skipped
 *    whole), cheap for short ranges;
 *  - by scan: in every leaf, only the slots the range can predict.  A page
 *    overlapping [start, end) is found by the walker at some address v of
 *    the overlap, in [pred(v), pred(v) + Cerr]; predictions are monotone,
 *    so that window lies inside [pred(start), pred(end - 1) + Cerr].  The
 *    cost is the table size at worst, independent of the range's length.
 *
 * The estimate compares steps: 8 per 4 KiB page (a route of up to three
 * nodes plus four probes) against two per leaf plus its window's slots.
 */
#include "lpt_internal.h"

#define RANGE_PAGE_COST		8
#define RANGE_LEAF_COST		2

/* Slots of @lf that may hold a page overlapping [@s, @e) (page-aligned). */
static bool leaf_window(const struct lpt_leaf *lf, const uint64_t *node,
			uint64_t s, uint64_t e, uint64_t *a, uint64_t *b)
{
	int64_t lo, hi;

	if (lf->direct) {
		/* Exact slots; a 2 MiB page's copies start at its base. */
		lo = lpt_gtab_pred(node, (s >> 12) & ~(LPT_SUBTABLE_SLOTS - 1ULL));
		hi = lpt_gtab_pred(node, (e >> 12) - 1);
	} else {
		lo = lpt_gtab_pred(node, s >> 12);
		hi = lpt_gtab_pred(node, (e >> 12) - 1) + LPT_CERR;
	}
	if (hi < 0 || lo >= (int64_t)lf->nslots || hi < lo)
		return false;
	*a = lo < 0 ? 0 : (uint64_t)lo;
	*b = hi >= (int64_t)lf->nslots ? lf->nslots - 1 : (uint64_t)hi;
	return true;
}

/* Apply @op to one page, all copies at once. */
static void range_page(struct lpt *t, struct lpt_pref *pr,
		       struct lpt_range_op *op)
{
	if (op->remove) {
		if (__lpt_page_erase(t, pr)) {
			t->ev.removes++;
			op->hits++;
		}
		return;
	}
	if (__lpt_page_test_clear(pr, op->clear) & op->test)
		op->hits++;
}

static void range_by_page(struct lpt *t, struct lpt_range_op *op,
			  uint64_t s, uint64_t e)
{
	struct lpt_pref pr;
	uint64_t next;

	while (s < e) {
		next = s + 4096;
		op->steps++;
		if (!__lpt_find_page(t, s, &pr)) {
			next = (pr.vpn << 12) + lpt_size_bytes(pr.size);
			range_page(t, &pr, op);
		}
		s = next;
	}
}

/*
 * Is @s the first slot at or after @lo holding a copy of @tag?  Copies of
 * one page sit in increasing slots, so for any copy but the first the
 * loop stops at once; the first one is at most Cerr slots away.
 */
static bool first_from(const struct lpt_leaf *lf, const uint64_t *node,
		       uint64_t tag, uint64_t s, uint64_t lo)
{
	uint64_t a, b, x;

	if (!lpt_gtab_copy_window(lf, node, tag, &a, &b))
		return true;
	for (x = a > lo ? a : lo; x < s; x++)
		if (lpt_slot(lf, x)[1] == tag)
			return false;
	return true;
}

struct scan_ctx {
	struct lpt *t;
	struct lpt_range_op *op;
	uint64_t s, e;
};

static void scan_direct(void *arg, struct lpt_leaf *lf, const uint64_t *node,
			const struct lpt_dref *r)
{
	struct scan_ctx *c = arg;
	struct lpt_pref pr = {
		.lf = lf, .node = (uint64_t *)node, .vpn = r->vpn,
		.size = r->size, .d = *r,
	};

	if ((r->vpn << 12) >= c->e ||
	    (r->vpn << 12) + lpt_size_bytes(r->size) <= c->s)
		return;
	range_page(c->t, &pr, c->op);
}

static void range_by_scan(struct lpt *t, struct lpt_range_op *op,
			  uint64_t s, uint64_t e)
{
	const struct lpt_index *ix = &t->ix;
	struct scan_ctx c = { .t = t, .op = op, .s = s, .e = e };
	struct lpt_pref pr;
	uint64_t a, b, sl, tag, base;
	uint32_t i;

	for (i = 0; i < ix->nleaves; i++) {
		struct lpt_leaf *lf = &ix->leaves[i];
		uint64_t *node = &ix->arena[2 * lf->node];

		if (!leaf_window(lf, node, s, e, &a, &b))
			continue;
		if (lf->direct) {
			if (op->remove) {
				uint64_t n = lpt_dtab_erase_small(lf, node, s >> 12,
								  (e >> 12) - 1);

				t->ev.removes += n;
				op->hits += n;
			}
			op->steps += lpt_dtab_for_each(lf, node, a, b,
						       scan_direct, &c);
			continue;
		}
		for (sl = a; sl <= b; sl++) {
			op->steps++;
			tag = lpt_slot(lf, sl)[1];
			if (!(tag & LPT_TAG_V) ||
			    lpt_tag_size(tag) == LPT_SIZE_RSVD)
				continue;
			base = tag & LPT_TAG_VA_MASK;
			if (base >= e ||
			    base + lpt_size_bytes(lpt_tag_size(tag)) <= s)
				continue;
			if (first_from(lf, node, tag, sl, a)) {
				pr.lf = lf;
				pr.node = node;
				pr.tag = tag;
				pr.vpn = base >> 12;
				pr.size = lpt_tag_size(tag);
				range_page(t, &pr, op);
			}
		}
	}
}

/* Steps a scan would take: O(leaves) to find out. */
static uint64_t scan_cost(const struct lpt *t, uint64_t s, uint64_t e)
{
	const struct lpt_index *ix = &t->ix;
	uint64_t cost = 0, a, b;
	uint32_t i;

	for (i = 0; i < ix->nleaves; i++) {
		const struct lpt_leaf *lf = &ix->leaves[i];

		cost += RANGE_LEAF_COST;
		if (leaf_window(lf, &ix->arena[2 * lf->node], s, e, &a, &b))
			cost += b - a + 1;
	}
	return cost;
}

void __lpt_range(struct lpt *t, struct lpt_range_op *op)
{
	uint64_t s = op->start & ~4095ULL, e = op->end, pages;

	op->hits = 0;
	op->steps = 0;
	if (e > LPT_VA_LIMIT)
		e = LPT_VA_LIMIT;
	e = (e + 4095) & ~4095ULL;
	if (s >= e) {
		if (op->strategy == LPT_RANGE_AUTO)
			op->strategy = LPT_RANGE_BY_PAGE;
		return;
	}
	if (op->strategy == LPT_RANGE_AUTO) {
		pages = (e - s) >> 12;
		/* A scan costs two steps per leaf before reading any slot. */
		if (pages <= (uint64_t)t->ix.nleaves * RANGE_LEAF_COST /
		    RANGE_PAGE_COST || pages * RANGE_PAGE_COST <= scan_cost(t, s, e))
			op->strategy = LPT_RANGE_BY_PAGE;
		else
			op->strategy = LPT_RANGE_BY_SCAN;
	}
	if (op->strategy == LPT_RANGE_BY_PAGE)
		range_by_page(t, op, s, e);
	else
		range_by_scan(t, op, s, e);
}

uint64_t lpt_remove_range(struct lpt *t, uint64_t start, uint64_t end)
{
	struct lpt_range_op op = {
		.start = start, .end = end, .remove = true,
	};

	__lpt_range(t, &op);
	return op.hits;
}

uint64_t lpt_test_clear_range(struct lpt *t, uint64_t start, uint64_t end,
			      uint64_t test, uint64_t clear)
{
	struct lpt_range_op op = {
		.start = start, .end = end, .test = test,
		.clear = clear & (LPT_PTE_A | LPT_PTE_D | LPT_PTE_RW),
	};

	__lpt_range(t, &op);
	return op.hits;
}
