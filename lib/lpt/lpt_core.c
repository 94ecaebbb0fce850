// SPDX-License-Identifier: GPL-2.0
/*
 * The page table object: owns one learned index (arena of nodes plus leaf
 * tables) and keeps it current as pages are mapped and unmapped.  Inserts
 * route through the index with the reference walker's own descent, so the
 * software never disagrees with the hardware about which leaf a page
 * belongs to.  In-bounds inserts fill gaps, out-of-bounds inserts near an
 * edge rescale the leaf, inserts into an EMPTY child grow a fresh leaf in
 * place, and anything else returns LPT_NEED_RETRAIN so that the caller
 * decides when to pay for a rebuild.  Memory handed back to the caller is
 * zeroed first, so a freed table can never be mistaken for a live one.
 */
#include "lpt_internal.h"

void lpt_params_default(struct lpt_params *p)
{
	memset(p, 0, sizeof(*p));
	p->ga_scale_pct = 130;
	p->max_depth = LPT_MAX_DEPTH;
	p->max_fanout = 256;
	p->max_nodes = 4096;
	p->fanout_window = 2;
	p->cov_slots = 4;
	p->max_copies = 512;
	p->max_leaf_bytes = 1ULL << 20;
	p->min_insert_dist = 64ULL << 20;
	p->w_depth = 10;
	p->w_size = 5;
	p->w_coll = 200;
	p->asid = 0;
}

void *__lpt_meta_alloc(struct lpt *t, size_t bytes)
{
	return t->ops.meta_alloc(t->ops.ctx, bytes ? bytes : 1);
}

void __lpt_meta_free(struct lpt *t, void *p, size_t bytes)
{
	if (p)
		t->ops.meta_free(t->ops.ctx, p, bytes ? bytes : 1);
}

static void table_free(struct lpt *t, void *va, uint64_t pa, size_t bytes)
{
	memset(va, 0, bytes);
	t->ops.free(t->ops.ctx, va, pa, bytes);
}

void __lpt_index_free(struct lpt *t, struct lpt_index *ix)
{
	uint32_t i;

	if (ix->leaves) {
		for (i = 0; i < ix->nleaves; i++) {
			lpt_dtab_free_subs(t, &ix->leaves[i]);
			if (ix->leaves[i].tab)
				table_free(t, ix->leaves[i].tab,
					   ix->leaves[i].tab_pa,
					   lpt_leaf_bytes(&ix->leaves[i]));
		}
		__lpt_meta_free(t, ix->leaves, ix->cap * sizeof(*ix->leaves));
	}
	if (ix->arena)
		table_free(t, ix->arena, ix->arena_pa,
			   (size_t)ix->arena_pages * 4096);
	__lpt_meta_free(t, ix->leaf_of, ix->cap * sizeof(*ix->leaf_of));
	memset(ix, 0, sizeof(*ix));
}

static bool params_ok(const struct lpt_params *p)
{
	return p->ga_scale_pct >= 100 && p->ga_scale_pct <= 400 &&
	       p->max_depth >= 1 && p->max_depth <= LPT_MAX_DEPTH &&
	       p->max_fanout >= 2 && p->max_fanout <= LPT_MAX_FANOUT &&
	       p->max_nodes >= 1 && p->max_nodes <= LPT_MAX_NODES &&
	       p->fanout_window <= 64 && p->cov_slots >= 1 &&
	       p->max_copies >= 1 && p->asid <= LPT_ROOT_ASID_MASK;
}

struct lpt *lpt_create(const struct lpt_params *p,
		       const struct lpt_mem_ops *ops)
{
	struct lpt *t;

	if (!ops || !ops->alloc || !ops->free || !ops->meta_alloc ||
	    !ops->meta_free)
		return NULL;
	t = ops->meta_alloc(ops->ctx, sizeof(*t));
	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	t->ops = *ops;
	if (p)
		t->p = *p;
	else
		lpt_params_default(&t->p);
	if (!params_ok(&t->p) || __lpt_build(t, NULL, 0, &t->ix)) {
		ops->meta_free(ops->ctx, t, sizeof(*t));
		return NULL;
	}
	return t;
}

void lpt_destroy(struct lpt *t)
{
	if (!t)
		return;
	__lpt_index_free(t, &t->ix);
	t->ops.meta_free(t->ops.ctx, t, sizeof(*t));
}

uint64_t lpt_generation(const struct lpt *t)
{
	return t->ev.generation;
}

uint64_t lpt_root(const struct lpt *t)
{
	return lpt_root_pack(t->ix.arena_pa, t->ix.arena_pages, t->p.asid);
}

int lpt_read8(void *ctx, uint64_t pa, uint64_t *val)
{
	const struct lpt *t = ctx;
	const struct lpt_index *ix = &t->ix;
	const struct lpt_leaf *lf;
	uint32_t i;

	if (pa & 7)
		return -1;
	if (pa >= ix->arena_pa &&
	    pa - ix->arena_pa < (uint64_t)ix->arena_pages * 4096) {
		*val = ix->arena[(pa - ix->arena_pa) / 8];
		return 0;
	}
	for (i = 0; i < ix->nleaves; i++) {
		lf = &ix->leaves[i];
		if (pa >= lf->tab_pa && pa - lf->tab_pa < lpt_leaf_bytes(lf)) {
			*val = lf->tab[(pa - lf->tab_pa) / 8];
			return 0;
		}
	}
	/* Sub-tables last: a search through every 2 MiB-granule slot. */
	for (i = 0; i < ix->nleaves; i++) {
		uint64_t p;

		lf = &ix->leaves[i];
		for (p = 0; lf->sub && p < lf->nslots; p++) {
			if (lf->sub[p].va && (pa & ~4095ULL) == lf->sub[p].pa) {
				*val = lf->sub[p].va[(pa & 4095) / 8];
				return 0;
			}
		}
	}
	return -1;
}

int lpt_lookup(struct lpt *t, uint64_t va, struct lpt_lwc *lwc,
	       struct lpt_walk *w)
{
	return lpt_walk(lpt_root(t), va, lpt_read8, t, lwc, w);
}

/*
 * The node a walk of @vpn ends at, and how it ends (LPT_OK at a leaf,
 * LPT_F_EMPTY at an empty slot, another fault code for a broken index):
 * the descent of __lpt_walk_index() over the arena's own memory, without
 * a read callback, a walk record or a walk cache, for the update paths
 * that route once per page (the kernel's fault path among them).
 */
static int route(struct lpt *t, uint64_t vpn, uint32_t *idx)
{
	const struct lpt_index *ix = &t->ix;
	uint32_t nnodes = ix->arena_pages * (4096 / LPT_NODE_BYTES);
	uint32_t i = 0, depth;
	int ret;

	for (depth = 1; depth <= LPT_MAX_DEPTH; depth++) {
		*idx = i;
		ret = lpt_index_step(ix->arena[2 * i], ix->arena[2 * i + 1],
				     vpn, depth, nnodes, &i);
		if (ret != LPT_DESCEND)
			return ret;
	}
	return LPT_F_DEPTH;
}

static struct lpt_leaf *leaf_at(struct lpt *t, uint32_t idx)
{
	uint32_t l = t->ix.leaf_of[idx];

	return l ? &t->ix.leaves[l - 1] : NULL;
}

/* A zero word is "unmapped" in a direct table, so no mapping has one. */
static bool pte_ok(uint64_t pte, unsigned int size)
{
	return pte && !(pte & LPT_PTE_RSVD7) &&
	       !(pte & LPT_PTE_PFN_MASK & (lpt_size_bytes(size) - 1));
}

static uint64_t growth_slots(const struct lpt *t, const uint64_t *node)
{
	uint64_t units = (t->p.min_insert_dist >> 12) >> lpt_node_shift(node[0]);
	uint64_t s = (units * (uint64_t)lpt_node_slope(node[0])) >> LPT_FRAC_BITS;

	return s ? s : 1;
}

/*
 * Leaf rescaling: grow the table so that predictions t0..t1 fall inside,
 * plus the minimum insertion distance in the growth direction so that a
 * growing heap or stack does not come back for every page.  The slope is
 * kept; growing to the left moves the intercept by the slots added.  Any
 * page the grown table can reach within the size cap counts as "near the
 * edge": a new mmap just below the lowest one is absorbed here instead of
 * costing a retrain, at the price of at most one capped table of gaps.
 */
static int rescale(struct lpt *t, struct lpt_leaf *lf, uint64_t *node,
		   int64_t t0, int64_t t1)
{
	uint64_t cap = lpt_cap_slots(__lpt_leaf_cap_slots(t), lf->direct);
	uint64_t grow = growth_slots(t, node);
	uint64_t ln = t0 < 0 ? (uint64_t)-t0 : 0;
	uint64_t rn = t1 >= (int64_t)lf->nslots ? (uint64_t)t1 - lf->nslots + 1 : 0;
	uint64_t la, ra, total, *tab, pa, per_page = lpt_leaf_page_slots(lf->direct);
	size_t slot_bytes = lpt_slot_bytes(lf->direct);
	struct lpt_sub *sub = NULL;
	int64_t icpt;

	la = ln ? ln + grow : 0;
	ra = rn ? rn + grow : 0;
	total = (lf->nslots + la + ra + per_page - 1) & ~(per_page - 1);
	if (total > cap) {
		la = ln;
		ra = rn;
		total = (lf->nslots + la + ra + per_page - 1) & ~(per_page - 1);
		if (total > cap)
			return LPT_NEED_RETRAIN;
	}
	/* Page rounding goes to the growing side. */
	if (ra)
		ra = total - lf->nslots - la;
	else
		la = total - lf->nslots;
	icpt = lpt_node_intercept(node[1]) + (int64_t)la * LPT_FIX_ONE;
	if (icpt > LPT_ICPT_MAX)
		return LPT_NEED_RETRAIN;

	if (lf->sub) {
		sub = __lpt_meta_alloc(t, (size_t)total * sizeof(*sub));
		if (!sub)
			return -ENOMEM;
		memset(sub, 0, (size_t)total * sizeof(*sub));
		memcpy(&sub[la], lf->sub, (size_t)lf->nslots * sizeof(*sub));
	}
	tab = t->ops.alloc(t->ops.ctx, (size_t)total * slot_bytes, &pa);
	if (!tab) {
		__lpt_meta_free(t, sub, (size_t)total * sizeof(*sub));
		return -ENOMEM;
	}
	memcpy((char *)tab + la * slot_bytes, lf->tab, lpt_leaf_bytes(lf));
	/* Table contents, then the pointer, then the size (lpt_seam.h). */
	lpt_wmb();
	node[0] = (node[0] & ~(LPT_NODE_PTR_MASK << LPT_NODE_PTR_SHIFT)) |
		  ((pa >> 12) & LPT_NODE_PTR_MASK) << LPT_NODE_PTR_SHIFT;
	lpt_wmb();
	node[1] = lpt_node_pack_w1(icpt, total / per_page - 1);
	table_free(t, lf->tab, lf->tab_pa, lpt_leaf_bytes(lf));
	if (sub) {
		__lpt_meta_free(t, lf->sub, (size_t)lf->nslots * sizeof(*sub));
		lf->sub = sub;
	}
	lf->tab = tab;
	lf->tab_pa = pa;
	lf->nslots = (uint32_t)total;
	t->ev.rescales++;
	t->ev.generation++;
	return 0;
}

/*
 * Grow a leaf in an EMPTY child: a DIRECT table (one 8-byte slot per
 * granule) of the minimum insertion distance, capped by the oracle, with
 * the page in the middle since we cannot yet tell which way the region
 * will grow.
 */
static int new_leaf(struct lpt *t, uint32_t idx, unsigned int size,
		    uint64_t vpn)
{
	struct lpt_index *ix = &t->ix;
	unsigned int g = lpt_size_order(size);
	uint64_t cap = lpt_cap_slots(__lpt_leaf_cap_slots(t), true);
	uint64_t n, pa, *tab, *node;
	struct lpt_leaf *lf;
	int64_t icpt;

	if (ix->nleaves >= ix->cap || ix->leaf_of[idx])
		return LPT_NEED_RETRAIN;
	n = ((t->p.min_insert_dist >> 12) >> g) + LPT_DIRECT_SLOTS_PER_PAGE - 1;
	n &= ~(uint64_t)(LPT_DIRECT_SLOTS_PER_PAGE - 1);
	if (n > cap)
		n = cap;
	if (n < LPT_DIRECT_SLOTS_PER_PAGE)
		n = LPT_DIRECT_SLOTS_PER_PAGE;
	/* Whole granules on either side: a 2 MiB page's copies fit too. */
	icpt = ((int64_t)(n / 2) - (int64_t)(vpn >> g)) * LPT_FIX_ONE;
	tab = t->ops.alloc(t->ops.ctx, (size_t)n * LPT_DIRECT_SLOT_BYTES, &pa);
	if (!tab)
		return -ENOMEM;
	lf = &ix->leaves[ix->nleaves];
	memset(lf, 0, sizeof(*lf));
	lf->tab = tab;
	lf->tab_pa = pa;
	lf->nslots = (uint32_t)n;
	lf->direct = true;
	lf->node = idx;
	ix->leaf_of[idx] = ++ix->nleaves;
	node = &ix->arena[2 * idx];
	/*
	 * EMPTY -> LEAF: a reader pairing the new w0 with the EMPTY node's
	 * zero w1 sees a one-page table at intercept 0, inside the table.
	 */
	node[1] = lpt_node_pack_w1(icpt, n / LPT_DIRECT_SLOTS_PER_PAGE - 1);
	lpt_wmb();
	node[0] = lpt_node_pack(LPT_NODE_DIRECT, g, LPT_FIX_ONE, pa >> 12);
	t->ev.new_leaves++;
	t->ev.generation++;
	return 0;
}

static int check_page(uint64_t va, uint64_t pte, unsigned int size)
{
	if (size >= LPT_NR_SIZES || va >= LPT_VA_LIMIT ||
	    (va & (lpt_size_bytes(size) - 1)) ||
	    LPT_VA_LIMIT - va < lpt_size_bytes(size) || !pte_ok(pte, size))
		return -EINVAL;
	return 0;
}

static int need_retrain(struct lpt *t)
{
	t->ev.retrain_requests++;
	return LPT_NEED_RETRAIN;
}

/* lpt_insert() into a DIRECT leaf: the slot is known, only room may lack. */
static int insert_direct(struct lpt *t, struct lpt_leaf *lf, uint64_t *node,
			 const struct lpt_page *pg)
{
	uint64_t last = pg->vpn + lpt_pages_of(pg->size) - 1;
	unsigned int g = lpt_node_shift(node[0]);
	bool retrain;
	int64_t t0, t1;
	int ret;

	if (pg->size == LPT_SIZE_4K) {
		ret = lpt_dtab_place_small(lf, node, pg->vpn, pg->pte);
		if (!ret)
			t->ev.inserts++;
		if (ret != -ERANGE)
			return ret;
	}
	retrain = !lpt_dtab_fits(g, pg->size);
	/*
	 * 2 MiB pages are copies in a 4 KiB-granule leaf, 4 KiB of table
	 * each: fine among many 4 KiB pages, but a leaf that THPs would
	 * dominate (one grown for a 4 KiB anchor, say) gets its own granule
	 * from a retrain, as the builder gives such a range (lpt_build.c).
	 */
	if (pg->size == LPT_SIZE_2M && !g &&
	    (lf->n2m + 1) * 512 > lf->npages - lf->n2m)
		retrain = true;
	/*
	 * And back: 4 KiB pages cost two lines each behind sub-tables, so a
	 * 2 MiB-granule leaf whose 4 KiB pages outweigh its THPs twice over
	 * (THPs split or unmapped, the range reused for small pages) is
	 * retrained to a 4 KiB granule.  The factor 2 keeps a range near the
	 * balance from flipping back and forth.
	 */
	if (pg->size == LPT_SIZE_4K && g == 9 &&
	    lf->npages - lf->n2m + 1 > 2 * 512 * lf->n2m)
		retrain = true;
	/*
	 * A page that overlaps a mapped one is -EEXIST whatever else holds;
	 * on the common path lpt_dtab_place() finds that out by itself, so
	 * the fault path looks at the table once.
	 */
	t0 = lpt_gtab_pred(node, pg->vpn);
	t1 = lpt_gtab_pred(node, last);
	if (retrain || t0 < 0 || t1 >= (int64_t)lf->nslots) {
		if (lpt_dtab_overlaps(lf, node, pg->vpn, pg->size))
			return -EEXIST;
		if (retrain)
			return need_retrain(t);
		ret = rescale(t, lf, node, t0, t1);
		if (ret)
			return ret == LPT_NEED_RETRAIN ? need_retrain(t) : ret;
	}
	ret = lpt_dtab_place(t, lf, node, pg);
	if (ret == -ENOMEM || ret == -EEXIST)
		return ret;
	if (ret)
		return need_retrain(t);
	t->ev.inserts++;
	return 0;
}

int lpt_insert(struct lpt *t, uint64_t va, uint64_t pte, unsigned int size)
{
	struct lpt_page pg = { .vpn = va >> 12, .pte = pte, .size = size };
	uint64_t last;
	uint32_t idx, idx2, first;
	struct lpt_leaf *lf;
	uint64_t *node;
	int64_t t0, t1;
	int ret;

	ret = check_page(va, pte, size);
	if (ret)
		return ret;
	last = pg.vpn + lpt_pages_of(size) - 1;
	ret = route(t, pg.vpn, &idx);
	if (ret != LPT_OK && ret != LPT_F_EMPTY)
		return need_retrain(t);
	/*
	 * Monotone routing: if both ends agree, every page between does.  A
	 * 4 KiB page has one end: the kernel's fault path inserts those, so
	 * it skips the second descent.
	 */
	if (last != pg.vpn && (route(t, last, &idx2) != ret || idx2 != idx))
		return need_retrain(t);
	if (ret == LPT_F_EMPTY) {
		ret = new_leaf(t, idx, size, pg.vpn);
		if (ret)
			return ret == LPT_NEED_RETRAIN ? need_retrain(t) : ret;
	}
	lf = leaf_at(t, idx);
	if (!lf)
		return need_retrain(t);
	node = &t->ix.arena[2 * idx];
	if (lf->direct)
		return insert_direct(t, lf, node, &pg);
	if (lpt_gtab_overlaps(lf, node, pg.vpn, size))
		return -EEXIST;
	t0 = lpt_gtab_pred(node, pg.vpn);
	t1 = lpt_gtab_pred(node, last);
	if (t0 < 0 || t1 >= (int64_t)lf->nslots) {
		ret = rescale(t, lf, node, t0, t1);
		if (ret)
			return ret == LPT_NEED_RETRAIN ? need_retrain(t) : ret;
		t0 = lpt_gtab_pred(node, pg.vpn);
	}
	ret = lpt_gtab_place(lf, node, &pg, &first);
	if (ret < 0)
		return need_retrain(t);
	if ((int64_t)first != t0)
		t->ev.collisions++;
	t->ev.inserts++;
	return 0;
}

/* Leaf, node and entry of the page containing @va. */
int __lpt_find_page(struct lpt *t, uint64_t va, struct lpt_pref *pr)
{
	uint32_t idx, slot;

	if (va >= LPT_VA_LIMIT || route(t, va >> 12, &idx) != LPT_OK)
		return -ENOENT;
	pr->lf = leaf_at(t, idx);
	if (!pr->lf)
		return -ENOENT;
	pr->node = &t->ix.arena[2 * idx];
	if (pr->lf->direct) {
		if (lpt_dtab_find(pr->lf, pr->node, va >> 12, &pr->d))
			return -ENOENT;
		pr->vpn = pr->d.vpn;
		pr->size = pr->d.size;
		return 0;
	}
	if (lpt_gtab_find(pr->lf, pr->node, va >> 12, &slot))
		return -ENOENT;
	pr->tag = lpt_slot(pr->lf, slot)[1];
	pr->vpn = (pr->tag & LPT_TAG_VA_MASK) >> 12;
	pr->size = lpt_tag_size(pr->tag);
	return 0;
}

int __lpt_page_erase(struct lpt *t, struct lpt_pref *pr)
{
	if (pr->lf->direct) {
		lpt_dtab_erase(t, pr->lf, pr->node, &pr->d);
		return 1;
	}
	return lpt_gtab_erase(pr->lf, pr->node, pr->tag) != 0;
}

uint64_t __lpt_page_test_clear(struct lpt_pref *pr, uint64_t clear)
{
	if (pr->lf->direct)
		return lpt_dtab_test_clear(pr->node, &pr->d, clear);
	return lpt_gtab_test_clear(pr->lf, pr->node, pr->tag, clear);
}

int lpt_remove(struct lpt *t, uint64_t va)
{
	struct lpt_pref pr;

	if (__lpt_find_page(t, va, &pr))
		return -ENOENT;
	__lpt_page_erase(t, &pr);
	t->ev.removes++;
	return 0;
}

int lpt_get(struct lpt *t, uint64_t va, struct lpt_map *out)
{
	struct lpt_pref pr;

	if (__lpt_find_page(t, va, &pr))
		return -ENOENT;
	out->va = pr.vpn << 12;
	out->size = pr.size;
	out->pte = __lpt_page_test_clear(&pr, 0);
	return 0;
}

int lpt_update(struct lpt *t, uint64_t va, uint64_t pte)
{
	struct lpt_pref pr;

	if (__lpt_find_page(t, va, &pr))
		return -ENOENT;
	if (!pte_ok(pte, pr.size))
		return -EINVAL;
	if (pr.lf->direct)
		lpt_dtab_set_pte(pr.node, &pr.d, pte);
	else
		lpt_gtab_set_pte(pr.lf, pr.node, pr.tag, pte);
	return 0;
}

struct collect_ctx {
	struct lpt_map *out;
	size_t max, n;
};

static void collect_direct(void *arg, struct lpt_leaf *lf,
			   const uint64_t *node, const struct lpt_dref *r)
{
	struct collect_ctx *c = arg;

	if (c->out && c->n < c->max) {
		c->out[c->n].va = r->vpn << 12;
		c->out[c->n].pte = lpt_dtab_pte(node, r);
		c->out[c->n].size = r->size;
	}
	c->n++;
}

size_t lpt_collect(struct lpt *t, struct lpt_map *out, size_t max)
{
	const struct lpt_index *ix = &t->ix;
	struct collect_ctx c = { .out = out, .max = max };
	uint64_t pte, tag;
	uint32_t i, s;

	for (i = 0; i < ix->nleaves; i++) {
		struct lpt_leaf *lf = &ix->leaves[i];
		const uint64_t *node = &ix->arena[2 * lf->node];

		if (lf->direct) {
			lpt_dtab_for_each(lf, node, 0, lf->nslots - 1,
					  collect_direct, &c);
			continue;
		}
		for (s = 0; s < lf->nslots; s++) {
			tag = lpt_slot(lf, s)[1];
			if (!(tag & LPT_TAG_V) ||
			    !lpt_gtab_is_first(lf, node, s, &pte))
				continue;
			if (out && c.n < max) {
				out[c.n].va = tag & LPT_TAG_VA_MASK;
				out[c.n].pte = pte;
				out[c.n].size = lpt_tag_size(tag);
			}
			c.n++;
		}
	}
	if (out && c.n <= max)
		lpt_sort_maps(out, c.n);
	return c.n;
}

static void swap_index(struct lpt *t, struct lpt_index *nix)
{
	__lpt_index_free(t, &t->ix);
	t->ix = *nix;
	t->ev.generation++;
}

int lpt_build(struct lpt *t, const struct lpt_map *maps, size_t n)
{
	struct lpt_index nix;
	int ret;

	ret = __lpt_build(t, maps, n, &nix);
	if (ret)
		return ret;
	swap_index(t, &nix);
	t->ev.builds++;
	return 0;
}

int lpt_retrain(struct lpt *t, const struct lpt_map *extra, size_t nextra)
{
	size_t n = lpt_collect(t, NULL, 0), total = n + nextra, i;
	size_t bytes = total * sizeof(struct lpt_map);
	struct lpt_map *all;
	struct lpt_index nix;
	int ret;

	all = __lpt_meta_alloc(t, bytes);
	if (!all)
		return -ENOMEM;
	lpt_collect(t, all, n);
	for (i = 0; i < nextra; i++) {
		ret = check_page(extra[i].va, extra[i].pte, extra[i].size);
		if (ret)
			goto out;
		all[n + i] = extra[i];
	}
	lpt_sort_maps(all, total);
	ret = -EEXIST;
	for (i = 1; i < total; i++)
		if (all[i - 1].va + lpt_size_bytes(all[i - 1].size) > all[i].va)
			goto out;
	ret = __lpt_build(t, all, total, &nix);
	if (!ret) {
		swap_index(t, &nix);
		t->ev.retrains++;
	}
out:
	__lpt_meta_free(t, all, bytes);
	return ret;
}

int lpt_map_page(struct lpt *t, uint64_t va, uint64_t pte, unsigned int size)
{
	struct lpt_map m = { .va = va, .pte = pte, .size = size };
	int ret = lpt_insert(t, va, pte, size);

	if (ret != LPT_NEED_RETRAIN)
		return ret;
	return lpt_retrain(t, &m, 1);
}

static void stats_direct(void *arg, struct lpt_leaf *lf,
			 const uint64_t *node, const struct lpt_dref *r)
{
	struct lpt_stats *s = arg;

	s->pages++;
	s->pages_by_size[r->size % LPT_NR_SIZES]++;
}

void lpt_get_stats(const struct lpt *t, struct lpt_stats *s)
{
	const struct lpt_index *ix = &t->ix;
	uint64_t tag, pte;
	uint32_t i, sl;

	*s = t->ev;
	s->nodes = ix->nnodes;
	s->index_bytes = (uint64_t)ix->nnodes * LPT_NODE_BYTES;
	s->arena_pages = ix->arena_pages;
	s->depth = ix->depth;
	for (i = 0; i < ix->nnodes; i++) {
		switch (lpt_node_kind(ix->arena[2 * i])) {
		case LPT_NODE_INNER:
			s->inner++;
			break;
		case LPT_NODE_DIRECT:
			s->direct_leaves++;
			s->leaves++;
			break;
		case LPT_NODE_LEAF:
			s->leaves++;
			break;
		default:
			s->empty++;
		}
	}
	for (i = 0; i < ix->nleaves; i++) {
		const struct lpt_leaf *lf = &ix->leaves[i];
		const uint64_t *node = &ix->arena[2 * lf->node];
		uint64_t bytes = lpt_leaf_bytes(lf);

		if (bytes > s->max_table_bytes)
			s->max_table_bytes = bytes;
		bytes += lf->nsub * 4096;
		s->table_bytes += bytes;
		s->slots += lf->nslots + lf->nsub * LPT_SUBTABLE_SLOTS;
		s->subtables += lf->nsub;
		if (lf->direct) {
			lpt_dtab_for_each((struct lpt_leaf *)lf, node, 0,
					  lf->nslots - 1, stats_direct, s);
			s->used_slots += lf->used;
			continue;
		}
		for (sl = 0; sl < lf->nslots; sl++) {
			tag = lpt_slot(lf, sl)[1];
			if (!(tag & LPT_TAG_V))
				continue;
			s->used_slots++;
			if (!lpt_gtab_is_first(lf, node, sl, &pte))
				continue;
			s->pages++;
			s->pages_by_size[lpt_tag_size(tag) % LPT_NR_SIZES]++;
			if (lpt_gtab_pred(node, (tag & LPT_TAG_VA_MASK) >> 12) != sl)
				s->displaced++;
		}
	}
	s->collision_ppm = s->pages ?
		(uint32_t)(s->displaced * 1000000 / s->pages) : 0;
}

static void sift_down(struct lpt_map *m, size_t root, size_t n)
{
	struct lpt_map tmp;
	size_t child;

	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n && m[child + 1].va > m[child].va)
			child++;
		if (m[root].va >= m[child].va)
			return;
		tmp = m[root];
		m[root] = m[child];
		m[child] = tmp;
		root = child;
	}
}

void lpt_sort_maps(struct lpt_map *maps, size_t n)
{
	struct lpt_map tmp;
	size_t i;

	if (n < 2)
		return;
	for (i = n / 2; i-- > 0;)
		sift_down(maps, i, n);
	for (i = n - 1; i > 0; i--) {
		tmp = maps[0];
		maps[0] = maps[i];
		maps[i] = tmp;
		sift_down(maps, 0, i);
	}
}
