// SPDX-License-Identifier: GPL-2.0
/*
 * Gapped page tables: the per-leaf arrays of 16-byte slots that the leaf
 * model points into.  A mapping is stored in the slot its base VPN predicts
 * or, when that slot is taken, in the next free slot at most LPT_CERR
 * further on (the walker probes exactly that window).  A huge page in a
 * leaf whose granule is smaller gets one copy per distinct predicted slot,
 * so that any address inside it finds a copy in its window; the copies are
 * written, updated and erased together.  Rescaling grows a table at an edge
 * without touching the slope: the model keeps predicting the same slots and
 * only the intercept moves when the table grows to the left.
 */
#include "lpt_internal.h"

/* floor(y) of the leaf model for @vpn, as a signed slot number. */
int64_t lpt_gtab_pred(const uint64_t *node, uint64_t vpn)
{
	int64_t y = lpt_node_eval(node[0], node[1], vpn);

	if (y >= 0)
		return (int64_t)lpt_fix_floor(y);
	return -(int64_t)(((uint64_t)(-y) + LPT_FIX_ONE - 1) >> LPT_FRAC_BITS);
}

static bool slot_free(const struct lpt_leaf *lf, uint64_t s)
{
	return !(lpt_slot(lf, s)[1] & LPT_TAG_V);
}

/* Clamp a window [lo, hi] of predicted slots to the table. */
static bool window(const struct lpt_leaf *lf, int64_t lo, int64_t hi,
		   uint64_t *a, uint64_t *b)
{
	if (hi < 0 || lo >= (int64_t)lf->nslots || hi < lo)
		return false;
	*a = lo < 0 ? 0 : (uint64_t)lo;
	*b = hi >= (int64_t)lf->nslots ? lf->nslots - 1 : (uint64_t)hi;
	return true;
}

int lpt_gtab_find(const struct lpt_leaf *lf, const uint64_t *node,
		  uint64_t vpn, uint32_t *slot)
{
	int64_t p = lpt_gtab_pred(node, vpn);
	uint64_t a, b, s;

	if (p < 0 || !window(lf, p, p + LPT_CERR, &a, &b))
		return -ENOENT;
	for (s = a; s <= b; s++) {
		if (lpt_tag_matches(lpt_slot(lf, s)[1], vpn << 12)) {
			*slot = (uint32_t)s;
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * Place @pg: for every predicted slot t of its VPN range make sure a copy
 * sits in [t, t + Cerr].  On failure nothing is left behind.  Returns the
 * number of slots written, -ERANGE if the page predicts outside the table,
 * -ENOSPC if some window is full (the caller's retrain trigger).
 */
int lpt_gtab_place(struct lpt_leaf *lf, const uint64_t *node,
		   const struct lpt_page *pg, uint32_t *first)
{
	uint64_t tag = lpt_tag_pack(pg->vpn << 12, pg->size);
	uint64_t last_vpn = pg->vpn + lpt_pages_of(pg->size) - 1;
	int64_t t0 = lpt_gtab_pred(node, pg->vpn);
	int64_t t1 = lpt_gtab_pred(node, last_vpn);
	int64_t t, last = -1, s, lim;
	int64_t first_s = -1;
	int n = 0;

	if (t0 < 0 || t1 >= (int64_t)lf->nslots || t1 < t0)
		return -ERANGE;
	for (t = t0; t <= t1; t++) {
		if (last >= t)
			continue;
		s = last + 1 > t ? last + 1 : t;
		lim = t + LPT_CERR;
		if (lim >= (int64_t)lf->nslots)
			lim = lf->nslots - 1;
		while (s <= lim && !slot_free(lf, (uint64_t)s))
			s++;
		if (s > lim)
			goto undo;
		lpt_slot(lf, (uint64_t)s)[0] = pg->pte;
		lpt_wmb();	/* the PTE before the tag that makes it match */
		lpt_slot(lf, (uint64_t)s)[1] = tag;
		if (first_s < 0)
			first_s = s;
		last = s;
		n++;
	}
	*first = (uint32_t)first_s;
	lf->used += (uint64_t)n;
	lf->npages++;
	if (first_s != t0)
		lf->displaced++;
	return n;
undo:
	for (s = first_s; s >= 0 && s <= last; s++) {
		if (lpt_slot(lf, (uint64_t)s)[1] == tag) {
			lpt_slot(lf, (uint64_t)s)[0] = 0;
			lpt_slot(lf, (uint64_t)s)[1] = 0;
		}
	}
	return -ENOSPC;
}

/* Any stored page intersecting [vpn, vpn + pages(size))? */
int lpt_gtab_overlaps(const struct lpt_leaf *lf, const uint64_t *node,
		      uint64_t vpn, unsigned int size)
{
	uint64_t end = vpn + lpt_pages_of(size);
	uint64_t a, b, s, tag, base;

	if (!window(lf, lpt_gtab_pred(node, vpn),
		    lpt_gtab_pred(node, end - 1) + LPT_CERR, &a, &b))
		return 0;
	for (s = a; s <= b; s++) {
		tag = lpt_slot(lf, s)[1];
		if (!(tag & LPT_TAG_V) || lpt_tag_size(tag) == LPT_SIZE_RSVD)
			continue;
		base = (tag & LPT_TAG_VA_MASK) >> 12;
		if (base < end && vpn < base + lpt_pages_of(lpt_tag_size(tag)))
			return 1;
	}
	return 0;
}

/* Visit every slot that may hold a copy of the page @tag names. */
bool lpt_gtab_copy_window(const struct lpt_leaf *lf, const uint64_t *node,
			  uint64_t tag, uint64_t *a, uint64_t *b)
{
	uint64_t vpn = (tag & LPT_TAG_VA_MASK) >> 12;
	unsigned int size = lpt_tag_size(tag);

	if (size == LPT_SIZE_RSVD)
		return false;
	return window(lf, lpt_gtab_pred(node, vpn),
		      lpt_gtab_pred(node, vpn + lpt_pages_of(size) - 1) +
		      LPT_CERR, a, b);
}

/* Rewrite (@pte) or clear (@pte NULL) every copy of the page @tag names. */
static uint32_t rewrite_copies(struct lpt_leaf *lf, const uint64_t *node,
			       uint64_t tag, const uint64_t *pte)
{
	uint64_t a, b, s;
	uint32_t n = 0;

	if (!lpt_gtab_copy_window(lf, node, tag, &a, &b))
		return 0;
	for (s = a; s <= b; s++) {
		if (lpt_slot(lf, s)[1] != tag)
			continue;
		lpt_slot(lf, s)[0] = pte ? *pte : 0;
		if (!pte)
			lpt_slot(lf, s)[1] = 0;
		n++;
	}
	return n;
}

uint32_t lpt_gtab_erase(struct lpt_leaf *lf, const uint64_t *node,
			uint64_t tag)
{
	uint32_t n = rewrite_copies(lf, node, tag, NULL);

	lf->used -= n;
	if (n)
		lf->npages--;
	return n;
}

uint32_t lpt_gtab_set_pte(struct lpt_leaf *lf, const uint64_t *node,
			  uint64_t tag, uint64_t pte)
{
	return rewrite_copies(lf, node, tag, &pte);
}

/*
 * OR of the PTE words of every copy of the page @tag names (the hardware
 * may have set A/D in any of them), and clear @clear in all of them.
 * Clearing is a plain read-modify-write: the caller serialises against
 * other software writers, and a concurrent hardware A/D update that this
 * store overwrites is lost as it is with x86's own A-bit clearing.
 */
uint64_t lpt_gtab_test_clear(struct lpt_leaf *lf, const uint64_t *node,
			     uint64_t tag, uint64_t clear)
{
	uint64_t a, b, s, merged = 0, *slot;

	if (!lpt_gtab_copy_window(lf, node, tag, &a, &b))
		return 0;
	for (s = a; s <= b; s++) {
		slot = lpt_slot(lf, s);
		if (slot[1] != tag)
			continue;
		merged |= slot[0];
		if (slot[0] & clear)
			slot[0] &= ~clear;
	}
	return merged;
}

/*
 * Is @slot the lowest copy of its page?  If so, return the PTE with the
 * accessed/dirty bits of all copies ORed in, as the hardware may have set
 * them on any copy.
 */
int lpt_gtab_is_first(const struct lpt_leaf *lf, const uint64_t *node,
		      uint32_t slot, uint64_t *merged_pte)
{
	uint64_t tag = lpt_slot(lf, slot)[1];
	uint64_t pte = lpt_slot(lf, slot)[0];
	uint64_t a, b, s;

	if (!(tag & LPT_TAG_V) || !lpt_gtab_copy_window(lf, node, tag, &a, &b))
		return 0;
	for (s = a; s < slot; s++)
		if (lpt_slot(lf, s)[1] == tag)
			return 0;
	for (s = slot + 1; s <= b; s++)
		if (lpt_slot(lf, s)[1] == tag)
			pte |= lpt_slot(lf, s)[0] & (LPT_PTE_A | LPT_PTE_D);
	*merged_pte = pte;
	return 1;
}
