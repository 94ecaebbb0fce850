// SPDX-License-Identifier: GPL-2.0
/*
 * Direct tables: the per-leaf arrays of untagged 8-byte PTEs behind a
 * DIRECT node (ABI version 2).  Slot p holds the entry of exactly one
 * granule, so there is no search, no collision and no tag: a page's slot
 * is computed from its VPN, and eight entries share a line as in a radix
 * page table.  What a slot holds depends on the leaf's granule:
 *
 *  - 4 KiB granule: a 4 KiB PTE, or one of the 512 copies of a 2 MiB page
 *    (PS set, same PFN in each: a THP faulted into a 4 KiB leaf, until a
 *    retrain gives it a 2 MiB leaf);
 *  - 2 MiB granule: a 2 MiB PTE (PS set), or a pointer to a sub-table of
 *    512 4 KiB PTEs for a granule mapped by small pages, so that a THP
 *    region keeps its own granule whatever 4 KiB pages sit at its edges;
 *  - 1 GiB granule: a 1 GiB PTE.
 *
 * Sub-tables come from the same allocator as the tables and go back to it
 * (zeroed) when their last page goes.  The PTE words the library's users
 * see never carry PS: it is added when stored and removed when read.
 */
#include "lpt_internal.h"

/* Can a page of @size live in a direct leaf of granule shift @g? */
bool lpt_dtab_fits(unsigned int g, unsigned int size)
{
	if (g == 18)
		return size == LPT_SIZE_1G;
	return size == LPT_SIZE_4K || size == LPT_SIZE_2M;
}

static uint64_t word_of(uint64_t pte, unsigned int size)
{
	return size == LPT_SIZE_4K ? pte : pte | LPT_PTE_PS;
}

/* Slot of @vpn, or -1 outside the table. */
static int64_t slot_of(const struct lpt_leaf *lf, const uint64_t *node,
		       uint64_t vpn)
{
	int64_t p = lpt_gtab_pred(node, vpn);

	return p >= 0 && p < (int64_t)lf->nslots ? p : -1;
}

static struct lpt_sub *sub_at(const struct lpt_leaf *lf, uint64_t p)
{
	return lf->sub && lf->sub[p].va ? &lf->sub[p] : NULL;
}

int lpt_dtab_find(const struct lpt_leaf *lf, const uint64_t *node,
		  uint64_t vpn, struct lpt_dref *r)
{
	unsigned int g = lpt_node_shift(node[0]);
	int64_t p = slot_of(lf, node, vpn);
	struct lpt_sub *sb;
	uint64_t w;

	if (p < 0)
		return -ENOENT;
	w = lf->tab[p];
	if (!w)
		return -ENOENT;
	if (w & LPT_PTE_PS) {
		r->size = g == 18 ? LPT_SIZE_1G : LPT_SIZE_2M;
		r->vpn = vpn & ~(lpt_pages_of(r->size) - 1);
		r->slot = (uint64_t)lpt_gtab_pred(node, r->vpn);
		r->word = &lf->tab[r->slot];
		return 0;
	}
	r->size = LPT_SIZE_4K;
	r->vpn = vpn;
	r->slot = (uint64_t)p;
	if (g == 0) {
		r->word = &lf->tab[p];
		return 0;
	}
	sb = sub_at(lf, (uint64_t)p);
	if (!sb || !sb->va[vpn & (LPT_SUBTABLE_SLOTS - 1)])
		return -ENOENT;
	r->word = &sb->va[vpn & (LPT_SUBTABLE_SLOTS - 1)];
	return 0;
}

/* Number of words a page's entry occupies: 512 for a 2 MiB page's copies. */
static uint64_t copies_of(const uint64_t *node, unsigned int size)
{
	unsigned int g = lpt_node_shift(node[0]);

	return size == LPT_SIZE_2M && g == 0 ? LPT_SUBTABLE_SLOTS : 1;
}

uint64_t lpt_dtab_pte(const uint64_t *node, const struct lpt_dref *r)
{
	uint64_t n = copies_of(node, r->size), i, pte = 0;

	for (i = 0; i < n; i++)
		pte |= r->word[i];
	/* A/D may be set in any copy; the rest of the words are equal. */
	return pte & ~LPT_PTE_PS;
}

bool lpt_dtab_overlaps(const struct lpt_leaf *lf, const uint64_t *node,
		       uint64_t vpn, unsigned int size)
{
	uint64_t end = vpn + lpt_pages_of(size), v;
	struct lpt_dref r;

	/* One lookup per granule-sized step, or per 4 KiB in a 4K leaf. */
	for (v = vpn; v < end;) {
		if (!lpt_dtab_find(lf, node, v, &r))
			return true;
		if (lpt_node_shift(node[0]) == 9 && size != LPT_SIZE_4K) {
			/* A sub-table with any page in it overlaps too. */
			int64_t p = slot_of(lf, node, v);

			if (p >= 0 && sub_at(lf, (uint64_t)p))
				return true;
		}
		v += size == LPT_SIZE_4K ? 1 :
		     (1ULL << lpt_node_shift(node[0]));
	}
	return false;
}

/* Give a 2 MiB-granule slot a sub-table; -ENOMEM leaves nothing behind. */
static int sub_get(struct lpt *t, struct lpt_leaf *lf, uint64_t p)
{
	size_t bytes = (size_t)lf->nslots * sizeof(*lf->sub);
	struct lpt_sub *sb;

	if (!lf->sub) {
		lf->sub = __lpt_meta_alloc(t, bytes);
		if (!lf->sub)
			return -ENOMEM;
		memset(lf->sub, 0, bytes);
	}
	sb = &lf->sub[p];
	if (sb->va)
		return 0;
	sb->va = t->ops.alloc(t->ops.ctx, 4096, &sb->pa);
	if (!sb->va)
		return -ENOMEM;
	sb->n = 0;
	lf->nsub++;
	return 0;
}

static void sub_put(struct lpt *t, struct lpt_leaf *lf, uint64_t p)
{
	struct lpt_sub *sb = &lf->sub[p];

	/* Unhook before the page goes back: no walker finds it after. */
	lf->tab[p] = 0;
	lpt_wmb();
	memset(sb->va, 0, 4096);
	t->ops.free(t->ops.ctx, sb->va, sb->pa, 4096);
	sb->va = NULL;
	sb->pa = 0;
	sb->n = 0;
	lf->nsub--;
}

void lpt_dtab_free_subs(struct lpt *t, struct lpt_leaf *lf)
{
	uint64_t p;

	if (!lf->sub)
		return;
	for (p = 0; p < lf->nslots && lf->nsub; p++)
		if (lf->sub[p].va)
			sub_put(t, lf, p);
	__lpt_meta_free(t, lf->sub, (size_t)lf->nslots * sizeof(*lf->sub));
	lf->sub = NULL;
}

int lpt_dtab_place(struct lpt *t, struct lpt_leaf *lf, const uint64_t *node,
		   const struct lpt_page *pg)
{
	unsigned int g = lpt_node_shift(node[0]);
	uint64_t n = copies_of(node, pg->size), i, w = word_of(pg->pte, pg->size);
	int64_t p;
	int ret;

	if (!lpt_dtab_fits(g, pg->size) || !pg->pte)
		return -ERANGE;
	p = slot_of(lf, node, pg->vpn);
	if (p < 0 || (uint64_t)p + n > lf->nslots)
		return -ERANGE;
	if (lpt_dtab_overlaps(lf, node, pg->vpn, pg->size))
		return -EEXIST;
	if (g == 9 && pg->size == LPT_SIZE_4K) {
		struct lpt_sub *sb;

		ret = sub_get(t, lf, (uint64_t)p);
		if (ret)
			return ret;
		sb = &lf->sub[p];
		sb->va[pg->vpn & (LPT_SUBTABLE_SLOTS - 1)] = pg->pte;
		sb->n++;
		/* The entry before the pointer that makes it reachable. */
		lpt_wmb();
		lf->tab[p] = sb->pa | LPT_PTE_P;
		lf->used++;
		lf->npages++;
		return 0;
	}
	for (i = 0; i < n; i++)
		lf->tab[p + i] = w;
	lf->used += n;
	lf->npages++;
	lf->n2m += pg->size == LPT_SIZE_2M;
	return 0;
}

/*
 * The fault path's case, in one look at the table: a 4 KiB page into a
 * 4 KiB-granule leaf whose table already reaches its slot.  Return 0,
 * -EEXIST (the slot holds a page: a 4 KiB one or a 2 MiB copy), or
 * -ERANGE when the case does not apply and lpt_dtab_place() must decide.
 */
int lpt_dtab_place_small(struct lpt_leaf *lf, const uint64_t *node,
			 uint64_t vpn, uint64_t pte)
{
	int64_t p;

	if (lpt_node_shift(node[0]) || !pte)
		return -ERANGE;
	p = slot_of(lf, node, vpn);
	if (p < 0)
		return -ERANGE;
	if (lf->tab[p])
		return -EEXIST;
	lf->tab[p] = pte;
	lf->used++;
	lf->npages++;
	return 0;
}

/*
 * Unmap every 4 KiB page of VPNs [@first, @last] in a 4 KiB-granule leaf
 * in one pass (munmap of a range faulted page by page); 2 MiB copies are
 * left to the caller, which must remove each page whole.  Return: pages
 * removed.
 */
uint64_t lpt_dtab_erase_small(struct lpt_leaf *lf, const uint64_t *node,
			      uint64_t first, uint64_t last)
{
	int64_t a = lpt_gtab_pred(node, first), b = lpt_gtab_pred(node, last);
	uint64_t n = 0, w;
	int64_t p;

	if (lpt_node_shift(node[0]))
		return 0;
	for (p = a < 0 ? 0 : a; p <= b && p < (int64_t)lf->nslots; p++) {
		w = lf->tab[p];
		if (w && !(w & LPT_PTE_PS)) {
			lf->tab[p] = 0;
			n++;
		}
	}
	lf->used -= n;
	lf->npages -= n;
	return n;
}

void lpt_dtab_erase(struct lpt *t, struct lpt_leaf *lf, const uint64_t *node,
		    const struct lpt_dref *r)
{
	uint64_t n = copies_of(node, r->size), i;
	struct lpt_sub *sb = lf->sub ? &lf->sub[r->slot] : NULL;

	for (i = 0; i < n; i++)
		r->word[i] = 0;
	lf->used -= n;
	lf->npages--;
	lf->n2m -= r->size == LPT_SIZE_2M;
	if (lpt_node_shift(node[0]) == 9 && r->size == LPT_SIZE_4K && sb &&
	    sb->va && --sb->n == 0)
		sub_put(t, lf, r->slot);
}

void lpt_dtab_set_pte(const uint64_t *node, const struct lpt_dref *r,
		      uint64_t pte)
{
	uint64_t n = copies_of(node, r->size), i, w = word_of(pte, r->size);

	for (i = 0; i < n; i++)
		r->word[i] = w;
}

uint64_t lpt_dtab_test_clear(const uint64_t *node, const struct lpt_dref *r,
			     uint64_t clear)
{
	uint64_t n = copies_of(node, r->size), i, merged = 0;

	for (i = 0; i < n; i++) {
		merged |= r->word[i];
		r->word[i] &= ~clear;
	}
	return merged & ~LPT_PTE_PS;
}

/*
 * Call @fn once for every page with an entry in slots [@a, @b], in VPN
 * order: copies of a 2 MiB page count once, at its first slot (a page
 * whose first slot is below @a is left to the caller that covers it).
 * @fn may erase the page it is given.
 */
uint64_t lpt_dtab_for_each(struct lpt_leaf *lf, const uint64_t *node,
			   uint64_t a, uint64_t b, lpt_dtab_fn fn, void *arg)
{
	unsigned int g = lpt_node_shift(node[0]);
	int64_t icpt = lpt_node_intercept(node[1]) / LPT_FIX_ONE;
	uint64_t p, k, steps = 0, w;
	struct lpt_dref r;

	if (b >= lf->nslots)
		b = lf->nslots - 1;
	for (p = a; p <= b && p < lf->nslots; p++) {
		steps++;
		w = lf->tab[p];
		if (!w)
			continue;
		r.slot = p;
		if (w & LPT_PTE_PS) {
			r.size = g == 18 ? LPT_SIZE_1G : LPT_SIZE_2M;
			r.vpn = (uint64_t)((int64_t)p - icpt) << g;
			if (g == 0 && (r.vpn & (LPT_SUBTABLE_SLOTS - 1)))
				continue;	/* not the first copy */
			r.word = &lf->tab[p];
			fn(arg, lf, node, &r);
		} else if (g == 0) {
			r.size = LPT_SIZE_4K;
			r.vpn = (uint64_t)((int64_t)p - icpt);
			r.word = &lf->tab[p];
			fn(arg, lf, node, &r);
		} else if (sub_at(lf, p)) {
			r.size = LPT_SIZE_4K;
			for (k = 0; k < LPT_SUBTABLE_SLOTS && sub_at(lf, p); k++) {
				steps++;
				if (!lf->sub[p].va[k])
					continue;
				r.vpn = ((uint64_t)((int64_t)p - icpt) << g) + k;
				r.word = &lf->sub[p].va[k];
				fn(arg, lf, node, &r);
			}
		}
	}
	return steps;
}
