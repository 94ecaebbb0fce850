// SPDX-License-Identifier: GPL-2.0
/*
 * Index builder: turns a sorted set of mappings into the learned index
 * (at most LPT_MAX_DEPTH levels of linear models) and its gapped leaf
 * tables.  Every node is chosen by the paper's cost model
 *	C = w_depth * d + w_size * s + w_coll * cr * ma
 * (d depth, s index size in 64-byte lines, cr collision rate in percent,
 * ma extra memory references per collision), trying a fan-out window around
 * a RadixSpline-style spline-point estimate.  Leaf tables are bounded by
 * the contiguity oracle and by a coverage limit (slots per mapped granule),
 * which is what keeps leaves small under fragmentation.  The builder runs
 * in the kernel: integers only, no recursion beyond the index depth, and
 * all memory from the caller's callbacks.  Candidates are scored by
 * simulating placement with the very node words that will be written, so
 * the plan and the table agree bit for bit.
 */
#include "lpt_internal.h"

#define COST_INF	(~0ULL)
/* Index lines a leaf without room for its gaps is charged (see eval_leaf). */
#define TIGHT_LINES	4

struct bctx {
	struct lpt *t;
	const struct lpt_map *m;
	size_t n;
	uint64_t *pg;		/* prefix sums of 4 KiB units, n + 1 */
	uint32_t *c2m;		/* prefix counts of 2M pages, n + 1 */
	uint32_t *c1g;		/* prefix counts of 1G pages, n + 1 */
	uint64_t cap;		/* slots per leaf table, multiple of 256 */
	struct lpt_index *ix;	/* materialisation target */
};

/* A scored subtree and the decision for its root node. */
struct plan {
	bool ok;
	uint64_t cost;
	uint32_t nodes;
	uint32_t depth;
	uint64_t keys;
	uint64_t extra;		/* lines read by colliding walks, summed */
	uint64_t displaced;
	uint64_t penalty;	/* cost of leaves past soft limits */
	unsigned int kind;
	uint64_t w0, w1;	/* node words (leaf: ptr/aux filled later) */
	uint32_t nslots;	/* leaf */
};

static uint64_t vpn_of(const struct bctx *b, size_t i)
{
	return b->m[i].va >> 12;
}

static uint64_t end_of(const struct bctx *b, size_t i)
{
	return vpn_of(b, i) + lpt_pages_of(b->m[i].size);
}

static uint64_t round_page_slots(uint64_t slots)
{
	return (slots + LPT_SLOTS_PER_PAGE - 1) & ~(uint64_t)(LPT_SLOTS_PER_PAGE - 1);
}

static void plan_cost(const struct lpt *t, struct plan *pl)
{
	const struct lpt_params *p = &t->p;
	uint64_t c;

	c = (uint64_t)p->w_depth * pl->depth * 1000 +
	    (uint64_t)p->w_size * pl->nodes * 250;
	/*
	 * cr(%) * ma = 100 * displaced / keys * extra / displaced
	 *	      = 100 * extra / keys; scaled by 1000 like the rest.
	 */
	if (pl->keys)
		c += (uint64_t)p->w_coll * pl->extra * 100000 / pl->keys;
	c += pl->penalty;
	pl->cost = c;
}

/* ---- 64x64 -> 128 compare, for the spline corridor ---- */

static void mul128(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
	uint64_t al = a & 0xffffffffULL, ah = a >> 32;
	uint64_t bl = b & 0xffffffffULL, bh = b >> 32;
	uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint64_t mid = (ll >> 32) + (lh & 0xffffffffULL) + (hl & 0xffffffffULL);

	*lo = (ll & 0xffffffffULL) | (mid << 32);
	*hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* Sign of dy1/dx1 - dy2/dx2 for dx > 0. */
static int cmp_slope(int64_t dy1, uint64_t dx1, int64_t dy2, uint64_t dx2)
{
	uint64_t h1, l1, h2, l2;
	int neg1 = dy1 < 0, neg2 = dy2 < 0, r;

	if (neg1 != neg2)
		return neg1 ? -1 : 1;
	mul128(neg1 ? (uint64_t)-dy1 : (uint64_t)dy1, dx2, &h1, &l1);
	mul128(neg2 ? (uint64_t)-dy2 : (uint64_t)dy2, dx1, &h2, &l2);
	if (h1 != h2)
		r = h1 < h2 ? -1 : 1;
	else
		r = l1 == l2 ? 0 : (l1 < l2 ? -1 : 1);
	return neg1 ? -r : r;
}

/*
 * Greedy spline corridor (as in RadixSpline) over the rank CDF of the
 * mappings in [lo, hi): the number of knots needed so that linear
 * interpolation stays within @err units of every rank.  Used only as the
 * centre of the fan-out search.
 */
static uint32_t spline_knots(const struct bctx *b, size_t lo, size_t hi,
			     int64_t err)
{
	uint64_t kx, px;
	int64_t ky, py, ux = 0, uy = 0, lx = 0, ly = 0;
	uint32_t knots = 1;
	bool have = false;
	size_t i, stride;

	if (hi - lo < 2)
		return 1;
	kx = vpn_of(b, lo);
	ky = 0;
	px = kx;
	py = 0;
	/*
	 * Only an estimate: on big ranges look at about 4096 evenly spaced
	 * points (their ranks come exact from the prefix sums), which keeps
	 * the builder near-linear in the number of mappings.
	 */
	stride = (hi - lo) / 4096 + 1;
	for (i = lo + stride; i < hi; i += stride) {
		uint64_t x = vpn_of(b, i);
		int64_t y = (int64_t)(b->pg[i] - b->pg[lo]);

		if (!have) {
			ux = (int64_t)x;
			uy = y + err;
			lx = (int64_t)x;
			ly = y - err;
			have = true;
		} else if (cmp_slope(y - ky, x - kx, uy - ky, (uint64_t)ux - kx) > 0 ||
			   cmp_slope(y - ky, x - kx, ly - ky, (uint64_t)lx - kx) < 0) {
			/* Outside the corridor: the previous point is a knot. */
			knots++;
			kx = px;
			ky = py;
			ux = (int64_t)x;
			uy = y + err;
			lx = (int64_t)x;
			ly = y - err;
		} else {
			if (cmp_slope(y + err - ky, x - kx, uy - ky,
				      (uint64_t)ux - kx) < 0) {
				ux = (int64_t)x;
				uy = y + err;
			}
			if (cmp_slope(y - err - ky, x - kx, ly - ky,
				      (uint64_t)lx - kx) > 0) {
				lx = (int64_t)x;
				ly = y - err;
			}
		}
		px = x;
		py = y;
	}
	return knots + 1;
}

/* ---- leaves ---- */

/*
 * Place [lo, hi) with node words w0/w1 into an empty table of @nslots,
 * virtually: with sorted input and monotone predictions first-fit never
 * looks back, so the highest used slot is all the state needed.  This is
 * exactly what lpt_gtab_place() will do on the real table.
 */
static bool simulate(const struct bctx *b, size_t lo, size_t hi,
		     const uint64_t *node, uint32_t nslots, struct plan *pl)
{
	int64_t last = -1, mine, t, t0, t1, s, first;
	size_t i;

	pl->extra = 0;
	pl->displaced = 0;
	for (i = lo; i < hi; i++) {
		t0 = lpt_gtab_pred(node, vpn_of(b, i));
		t1 = lpt_gtab_pred(node, end_of(b, i) - 1);
		if (t0 < 0 || t1 >= nslots || t1 < t0)
			return false;
		first = -1;
		mine = -1;
		for (t = t0; t <= t1; t++) {
			if (mine >= t)
				continue;
			s = last + 1 > t ? last + 1 : t;
			if (s > t + LPT_CERR || s >= nslots)
				return false;
			if (first < 0)
				first = s;
			last = s;
			mine = s;
		}
		/* A collision costs every line its walk reads (ma >= 1). */
		if (first != t0) {
			pl->displaced++;
			pl->extra += (uint64_t)(first / 4 - t0 / 4) + 1;
		}
	}
	return true;
}

static bool icpt_ok(int64_t v)
{
	return v >= LPT_ICPT_MIN && v <= LPT_ICPT_MAX;
}

/* Slots of a direct table in the bytes the contiguity cap allows. */
static uint64_t direct_cap(const struct bctx *b)
{
	return lpt_cap_slots(b->cap, true);
}

/*
 * A DIRECT leaf: one untagged 8-byte slot per granule over @span,
 * collision free, gaps at the edges.
 */
static void direct_leaf(const struct bctx *b, unsigned int g, uint64_t x_lo,
			uint64_t span, uint64_t sub_pages, struct plan *pl)
{
	uint64_t nslots, left;
	int64_t icpt;

	nslots = span * b->t->p.ga_scale_pct / 100 +
		 LPT_DIRECT_SLOTS_PER_PAGE - 1;
	nslots &= ~(uint64_t)(LPT_DIRECT_SLOTS_PER_PAGE - 1);
	if (nslots > direct_cap(b))
		nslots = direct_cap(b);
	left = (nslots - span) / 2;
	icpt = ((int64_t)left - (int64_t)x_lo) * LPT_FIX_ONE;
	pl->kind = LPT_NODE_DIRECT;
	pl->w0 = lpt_node_pack(LPT_NODE_DIRECT, g, LPT_FIX_ONE, 0);
	pl->w1 = lpt_node_pack_w1(icpt, 0);
	pl->nslots = (uint32_t)nslots;
	/* A 4 KiB page behind a sub-table costs its walk one more line. */
	pl->extra = sub_pages;
	pl->displaced = 0;
	pl->ok = true;
	plan_cost(b->t, pl);
}

static void eval_leaf(const struct bctx *b, size_t lo, size_t hi,
		      struct plan *pl)
{
	const struct lpt_params *p = &b->t->p;
	uint32_t n2 = b->c2m[hi] - b->c2m[lo], n1 = b->c1g[hi] - b->c1g[lo];
	uint32_t n4 = (uint32_t)(hi - lo) - n2 - n1;
	unsigned int gcls = n4 ? 0 : (n2 ? 1 : 2);
	unsigned int gmax = n1 ? 2 : (n2 ? 1 : 0);
	unsigned int g = lpt_size_order(gcls);
	uint64_t x_lo = vpn_of(b, lo) >> g;
	uint64_t x_hi = (end_of(b, hi - 1) - 1) >> g;
	uint64_t span = x_hi - x_lo + 1;
	uint64_t units = (b->pg[hi] - b->pg[lo]) >> g;
	uint64_t nslots, used, left, ga, node[2];
	uint64_t dx_lo = 0, dspan = 0, dunits = 0;
	int64_t slope, icpt;
	unsigned int k, dg = 0;
	bool direct = true;

	memset(pl, 0, sizeof(*pl));
	pl->kind = LPT_NODE_LEAF;
	pl->nodes = 1;
	pl->depth = 1;
	pl->keys = hi - lo;

	/*
	 * The direct granule: 1 GiB for 1 GiB pages alone; 2 MiB where
	 * 2 MiB pages cover at least as much as the 4 KiB ones (those go to
	 * sub-tables); else 4 KiB, 2 MiB pages taking 512 copies each.
	 */
	if (n1)
		direct = !n4 && !n2;
	if (direct) {
		dg = n1 ? 18 : (n2 && ((uint64_t)n2 * 512 >= n4 ||
				       p->max_copies < 512) ? 9 : 0);
		dx_lo = vpn_of(b, lo) >> dg;
		dspan = ((end_of(b, hi - 1) - 1) >> dg) - dx_lo + 1;
		dunits = (b->pg[hi] - b->pg[lo]) >> dg;
	}

	/*
	 * Direct: one slot per granule, collision free; gaps at the edges.
	 * When the cap leaves no room for the gaps, the leaf could not rescale
	 * and each step of a growing heap would retrain, so such a leaf costs
	 * TIGHT_LINES lines of index: split when that is cheap, not at any
	 * price under a small contiguity cap.
	 */
	if (direct && dspan <= direct_cap(b) &&
	    dspan <= (uint64_t)p->cov_slots * dunits) {
		if (dspan * p->ga_scale_pct / 100 > direct_cap(b))
			pl->penalty = (uint64_t)p->w_size * 1000 * TIGHT_LINES;
		direct_leaf(b, dg, dx_lo, dspan, dg == 9 ? n4 : 0, pl);
		return;
	}
	if ((1ULL << lpt_size_order(gmax - gcls)) > p->max_copies)
		goto last_resort;

	/*
	 * Compact: slope ga * density, gaps spread through the table and
	 * collisions absorbed by the Cerr window; widen the gaps if that
	 * overflows a window.
	 */
	for (k = 0, ga = p->ga_scale_pct; k < 3; k++, ga *= 2) {
		/* Cannot fit: also keeps the shifts below from overflowing. */
		if (units * ga / 100 > b->cap)
			break;
		slope = (int64_t)((ga * units << LPT_FRAC_BITS) / (100 * span));
		if (slope >= LPT_FIX_ONE || slope <= 0)
			break;
		used = (uint64_t)((slope * (int64_t)(span - 1)) >> LPT_FRAC_BITS) +
		       1 + LPT_CERR;
		nslots = round_page_slots(used * p->ga_scale_pct / 100);
		if (nslots > b->cap || nslots > (uint64_t)p->cov_slots * units)
			break;
		left = (nslots - used) / 2;
		icpt = (int64_t)left * LPT_FIX_ONE - slope * (int64_t)x_lo;
		if (!icpt_ok(icpt))
			break;
		node[0] = lpt_node_pack(LPT_NODE_LEAF, g, slope, 0);
		node[1] = lpt_node_pack_w1(icpt, 0);
		if (!simulate(b, lo, hi, node, (uint32_t)nslots, pl))
			continue;
		pl->w0 = node[0];
		pl->w1 = node[1];
		pl->nslots = (uint32_t)nslots;
		pl->ok = true;
		plan_cost(b->t, pl);
		return;
	}

last_resort:
	/*
	 * Last resort: direct past the coverage limit, costing as much as a
	 * 1% collision rate at one extra reference.  Its span stays within
	 * what a gapped table of the cap holds (half the direct cap): a
	 * table mostly of holes only where a small one does.
	 */
	if (direct && dspan <= b->cap) {
		memset(pl, 0, sizeof(*pl));
		pl->nodes = 1;
		pl->depth = 1;
		pl->keys = hi - lo;
		pl->penalty = (uint64_t)p->w_coll * 1000;
		direct_leaf(b, dg, dx_lo, dspan, dg == 9 ? n4 : 0, pl);
	}
}

/* ---- inner nodes ---- */

static void best_subtree(const struct bctx *b, size_t lo, size_t hi,
			 uint32_t depth, struct plan *pl);

/* Child index of mapping @i under inner node words w0/w1. */
static uint32_t child_of(const struct bctx *b, const uint64_t *node, size_t i)
{
	int64_t y = lpt_node_eval(node[0], node[1], vpn_of(b, i));
	uint32_t fan = lpt_node_fanout(node[0]);
	uint64_t j = y < 0 ? 0 : lpt_fix_floor(y);

	return j >= fan ? fan - 1 : (uint32_t)j;
}

/*
 * First mapping in [a, hi) routed beyond child @j.  Routing is monotone in
 * the VPN, so a binary search finds each child's range in O(log n).
 */
static size_t child_end(const struct bctx *b, const uint64_t *node, size_t a,
			size_t hi, uint32_t j)
{
	size_t mid;

	while (a < hi) {
		mid = a + (hi - a) / 2;
		if (child_of(b, node, mid) <= j)
			a = mid + 1;
		else
			hi = mid;
	}
	return a;
}

/*
 * Model mapping [z_lo, z_hi] (VPNs) onto m equal-width buckets starting
 * at child lo_out; keys below fall into child 0, keys above into the last.
 */
static bool inner_model(uint64_t z_lo, uint64_t z_hi, unsigned int smin,
			uint32_t lo_out, uint32_t hi_out,
			uint32_t fan, uint64_t *node)
{
	unsigned int s = smin;
	uint64_t spanx, m;
	int64_t slope, icpt;

	/* Keep the zoomed span near 2^12 units: slope precision ~2^-12. */
	while (((z_hi >> s) - (z_lo >> s) + 1) > 4096)
		s++;
	spanx = (z_hi >> s) - (z_lo >> s) + 1;
	if (fan <= lo_out + hi_out)
		return false;
	m = fan - lo_out - hi_out;
	if (m > spanx)
		return false;
	slope = (int64_t)((m << LPT_FRAC_BITS) / spanx);
	if (slope <= 0 || slope > LPT_SLOPE_MAX)
		return false;
	icpt = (int64_t)lo_out * LPT_FIX_ONE - slope * (int64_t)(z_lo >> s);
	if (!icpt_ok(icpt))
		return false;
	node[0] = lpt_node_pack(LPT_NODE_INNER, s, slope, lpt_inner_ptr(0, fan));
	node[1] = lpt_node_pack_w1(icpt, 0);
	return true;
}

/* Score inner node @node over [lo, hi): sum of its children's plans. */
static void eval_children(const struct bctx *b, size_t lo, size_t hi,
			  uint32_t depth, const uint64_t *node, struct plan *pl)
{
	uint32_t fan = lpt_node_fanout(node[0]), j;
	size_t a = lo, e;
	struct plan c;

	memset(pl, 0, sizeof(*pl));
	pl->kind = LPT_NODE_INNER;
	pl->w0 = node[0];
	pl->w1 = node[1];
	pl->nodes = 1 + fan;
	pl->depth = 2;
	for (j = 0; j < fan && a < hi; j++) {
		e = child_end(b, node, a, hi, j);
		if (e == a)
			continue;
		best_subtree(b, a, e, depth + 1, &c);
		if (!c.ok)
			return;
		pl->nodes += c.nodes - 1;
		if (c.depth + 1 > pl->depth)
			pl->depth = c.depth + 1;
		pl->keys += c.keys;
		pl->extra += c.extra;
		pl->displaced += c.displaced;
		pl->penalty += c.penalty;
		if (pl->nodes > b->t->p.max_nodes)
			return;
		a = e;
	}
	pl->ok = a == hi;
	plan_cost(b->t, pl);
}

/* Largest run of mappings with no gap above @gap VPNs: the zoom target. */
static void biggest_cluster(const struct bctx *b, size_t lo, size_t hi,
			    uint64_t gap, size_t *clo, size_t *chi)
{
	size_t i, start = lo;
	uint64_t best = 0, u;

	*clo = lo;
	*chi = hi;
	for (i = lo + 1; i <= hi; i++) {
		if (i < hi && vpn_of(b, i) - end_of(b, i - 1) <= gap)
			continue;
		u = b->pg[i] - b->pg[start];
		if (u > best) {
			best = u;
			*clo = start;
			*chi = i;
		}
		start = i;
	}
}

/* Positions (first key after) of the two widest gaps in [lo, hi). */
static void widest_gaps(const struct bctx *b, size_t lo, size_t hi,
			size_t *g1, size_t *g2)
{
	uint64_t w1 = 0, w2 = 0, gap;
	size_t i;

	*g1 = lo;
	*g2 = lo;
	for (i = lo + 1; i < hi; i++) {
		gap = vpn_of(b, i) - end_of(b, i - 1);
		if (gap > w1) {
			w2 = w1;
			*g2 = *g1;
			w1 = gap;
			*g1 = i;
		} else if (gap > w2) {
			w2 = gap;
			*g2 = i;
		}
	}
	if (*g2 < *g1) {
		i = *g1;
		*g1 = *g2;
		*g2 = i;
	}
}

/*
 * Score fan-outs @f0..@f1, except those in @s0..@s1 (already scored), of a
 * model zoomed onto keys [zl, zh).
 */
static void try_fanouts(const struct bctx *b, size_t lo, size_t hi,
			uint32_t depth, size_t zl, size_t zh, uint32_t f0,
			uint32_t f1, uint32_t s0, uint32_t s1, struct plan *best)
{
	unsigned int smin = (b->c1g[hi] - b->c1g[lo]) ? 18 : 9;
	uint32_t lo_out = zl > lo, hi_out = zh < hi, f;
	uint64_t node[2];
	struct plan c;

	uint64_t z_lo = vpn_of(b, zl), z_hi = end_of(b, zh - 1) - 1;
	uint64_t margin = b->t->p.min_insert_dist >> 12;

	/*
	 * Where an outlier child sits next to the zoomed part, widen the zoom
	 * by the minimum insertion distance (without reaching the outliers):
	 * a heap growing up or an mmap area growing down then lands in a
	 * zoomed bucket, where it rescales or grows a new leaf, instead of in
	 * the outlier child, where it would need a retrain.
	 */
	if (lo_out)
		z_lo = z_lo - end_of(b, zl - 1) > margin ? z_lo - margin :
						       end_of(b, zl - 1);
	if (hi_out)
		z_hi = vpn_of(b, zh) - 1 - z_hi > margin ? z_hi + margin :
						       vpn_of(b, zh) - 1;
	if (f1 > b->t->p.max_fanout)
		f1 = b->t->p.max_fanout;
	for (f = f0 < 2 ? 2 : f0; f <= f1; f++) {
		if (f >= s0 && f <= s1)
			continue;
		if (!inner_model(z_lo, z_hi, smin, lo_out, hi_out, f, node))
			continue;
		eval_children(b, lo, hi, depth, node, &c);
		if (c.ok && c.cost < best->cost)
			*best = c;
	}
}

static uint32_t window_lo(uint32_t est, uint32_t w)
{
	return est > w + 2 ? est - w : 2;
}

/*
 * Fan-out candidates: windows of +-fanout_window around several estimates.
 * Over the whole range, two spline-point counts of the rank CDF: one with
 * an error bound of a quarter leaf (large structure only), one relative to
 * the range's own size (small ranges such as a group of thread stacks).
 * Zoomed models map one part of the range onto buckets and leave what lies
 * below and above to one outlier child each; the parts tried are the
 * biggest cluster and the pieces between the two widest gaps, which in a
 * real process are the heap, the mmap area and the stack.
 */
static void eval_inner(const struct bctx *b, size_t lo, size_t hi,
		       uint32_t depth, struct plan *best)
{
	const struct lpt_params *p = &b->t->p;
	uint32_t w = p->fanout_window, e1, e2, est, k, nz = 0;
	uint64_t units = b->pg[hi] - b->pg[lo];
	size_t zl[6], zh[6], g1, g2, i;

	best->ok = false;
	best->cost = COST_INF;
	e1 = spline_knots(b, lo, hi, (int64_t)(b->cap / 4 + LPT_CERR)) - 1;
	e2 = spline_knots(b, lo, hi, (int64_t)(units / 16 + LPT_CERR)) - 1;
	try_fanouts(b, lo, hi, depth, lo, hi, window_lo(e1, w), e1 + w, 1, 0,
		    best);
	try_fanouts(b, lo, hi, depth, lo, hi, window_lo(e2, w), e2 + w,
		    window_lo(e1, w), e1 + w, best);
	/* Small fan-outs are cheap to score and often win on size. */
	if (window_lo(e1, w) > 2 && window_lo(e2, w) > 2)
		try_fanouts(b, lo, hi, depth, lo, hi, 2, 2 + w, 1, 0, best);

	biggest_cluster(b, lo, hi, b->cap / 4, &zl[0], &zh[0]);
	nz = 1;
	widest_gaps(b, lo, hi, &g1, &g2);
	if (g1 > lo) {
		zl[nz] = lo;	zh[nz++] = g1;
		zl[nz] = g1;	zh[nz++] = hi;
	}
	if (g2 > g1 && g1 > lo) {
		zl[nz] = g1;	zh[nz++] = g2;
		zl[nz] = g2;	zh[nz++] = hi;
		zl[nz] = lo;	zh[nz++] = g2;
	}
	for (k = 0; k < nz; k++) {
		if (zl[k] == lo && zh[k] == hi)
			continue;
		for (i = 0; i < k; i++)
			if (zl[i] == zl[k] && zh[i] == zh[k])
				break;
		if (i < k)
			continue;
		est = (uint32_t)((end_of(b, zh[k] - 1) - vpn_of(b, zl[k]) +
				  b->cap - 1) / b->cap);
		if (est > p->max_fanout)
			est = p->max_fanout;
		est += (zl[k] > lo) + (zh[k] < hi);
		try_fanouts(b, lo, hi, depth, zl[k], zh[k], window_lo(est, w),
			    est + w, 1, 0, best);
	}
}

/* Best plan for [lo, hi) rooted at @depth (1 = root). */
static void best_subtree(const struct bctx *b, size_t lo, size_t hi,
			 uint32_t depth, struct plan *pl)
{
	struct plan in;

	if (lo == hi) {
		memset(pl, 0, sizeof(*pl));
		pl->ok = true;
		pl->kind = LPT_NODE_EMPTY;
		pl->nodes = 1;
		pl->depth = 1;
		plan_cost(b->t, pl);
		return;
	}
	eval_leaf(b, lo, hi, pl);
	if (depth >= b->t->p.max_depth || hi - lo < 2)
		return;
	/* A collision-free leaf cannot be beaten by more nodes. */
	if (pl->ok && !pl->extra && !pl->penalty)
		return;
	eval_inner(b, lo, hi, depth, &in);
	if (in.ok && (!pl->ok || in.cost < pl->cost))
		*pl = in;
}

/* ---- materialisation ---- */

static int make_leaf(const struct bctx *b, size_t lo, size_t hi,
		     uint32_t idx, const struct plan *pl)
{
	struct lpt *t = b->t;
	struct lpt_index *ix = b->ix;
	uint64_t *node = &ix->arena[2 * idx];
	struct lpt_leaf *lf = &ix->leaves[ix->nleaves];
	bool direct = pl->kind == LPT_NODE_DIRECT;
	struct lpt_page pg;
	uint32_t first;
	size_t i;
	int ret;

	memset(lf, 0, sizeof(*lf));
	lf->direct = direct;
	lf->nslots = pl->nslots;
	lf->tab = t->ops.alloc(t->ops.ctx, lpt_leaf_bytes(lf), &lf->tab_pa);
	if (!lf->tab)
		return -ENOMEM;
	lf->node = idx;
	ix->leaf_of[idx] = ++ix->nleaves;
	node[0] = pl->w0 | ((lf->tab_pa >> 12) & LPT_NODE_PTR_MASK) <<
		  LPT_NODE_PTR_SHIFT;
	node[1] = pl->w1 |
		  (uint64_t)(pl->nslots / lpt_leaf_page_slots(direct) - 1);
	for (i = lo; i < hi; i++) {
		pg.vpn = vpn_of(b, i);
		pg.pte = b->m[i].pte;
		pg.size = b->m[i].size;
		if (direct) {
			/* Only a sub-table allocation may fail here. */
			ret = lpt_dtab_place(t, lf, node, &pg);
			if (ret)
				return ret == -ENOMEM ? ret : -EFAULT;
			continue;
		}
		/* The plan simulated this placement; failing is a bug. */
		if (lpt_gtab_place(lf, node, &pg, &first) < 0)
			return -EFAULT;
	}
	return 0;
}

static int materialise(const struct bctx *b, size_t lo, size_t hi,
		       uint32_t depth, uint32_t idx, const struct plan *pl)
{
	struct lpt_index *ix = b->ix;
	uint64_t *node = &ix->arena[2 * idx];
	uint32_t fan, first, j;
	size_t a = lo, e;
	struct plan c;
	int ret;

	if (depth > ix->depth)
		ix->depth = depth;
	if (pl->kind == LPT_NODE_EMPTY) {
		node[0] = 0;
		node[1] = 0;
		return 0;
	}
	if (pl->kind == LPT_NODE_LEAF || pl->kind == LPT_NODE_DIRECT)
		return make_leaf(b, lo, hi, idx, pl);

	fan = lpt_node_fanout(pl->w0);
	first = ix->nnodes;
	if (first + fan > ix->cap)
		return -ENOSPC;
	ix->nnodes += fan;
	node[0] = (pl->w0 & ~(LPT_NODE_PTR_MASK << LPT_NODE_PTR_SHIFT)) |
		  lpt_node_pack(0, 0, 0, lpt_inner_ptr(first, fan));
	node[1] = pl->w1;
	for (j = 0; j < fan; j++) {
		e = child_end(b, node, a, hi, j);
		best_subtree(b, a, e, depth + 1, &c);
		if (!c.ok)
			return -ENOSPC;
		ret = materialise(b, a, e, depth + 1, first + j, &c);
		if (ret)
			return ret;
		a = e;
	}
	return 0;
}

uint64_t __lpt_leaf_cap_slots(const struct lpt *t)
{
	uint64_t bytes = t->p.max_leaf_bytes, c;

	if (t->ops.max_contig) {
		c = t->ops.max_contig(t->ops.ctx);
		if (c < bytes)
			bytes = c;
	}
	if (bytes > (uint64_t)LPT_MAX_TABLE_PAGES * 4096)
		bytes = (uint64_t)LPT_MAX_TABLE_PAGES * 4096;
	if (bytes < 4096)
		bytes = 4096;
	return (bytes / 4096) * LPT_SLOTS_PER_PAGE;
}

static int check_maps(const struct lpt_map *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t bytes;

		if (m[i].size >= LPT_NR_SIZES)
			return -EINVAL;
		bytes = lpt_size_bytes(m[i].size);
		if ((m[i].va & (bytes - 1)) || m[i].va >= LPT_VA_LIMIT ||
		    LPT_VA_LIMIT - m[i].va < bytes)
			return -EINVAL;
		if (!m[i].pte || (m[i].pte & LPT_PTE_RSVD7) ||
		    (m[i].pte & LPT_PTE_PFN_MASK & (bytes - 1)))
			return -EINVAL;
		if (i && m[i - 1].va + lpt_size_bytes(m[i - 1].size) > m[i].va)
			return -EINVAL;
	}
	return 0;
}

int __lpt_build(struct lpt *t, const struct lpt_map *maps, size_t n,
		struct lpt_index *out)
{
	struct bctx b;
	struct plan root;
	size_t i, bytes;
	uint32_t pages;
	int ret;

	ret = check_maps(maps, n);
	if (ret)
		return ret;
	memset(&b, 0, sizeof(b));
	memset(out, 0, sizeof(*out));
	b.t = t;
	b.m = maps;
	b.n = n;
	b.ix = out;
	b.cap = __lpt_leaf_cap_slots(t);
	ret = -ENOMEM;
	b.pg = __lpt_meta_alloc(t, (n + 1) * sizeof(*b.pg));
	b.c2m = __lpt_meta_alloc(t, (n + 1) * sizeof(*b.c2m));
	b.c1g = __lpt_meta_alloc(t, (n + 1) * sizeof(*b.c1g));
	if (!b.pg || !b.c2m || !b.c1g)
		goto out;
	b.pg[0] = 0;
	b.c2m[0] = 0;
	b.c1g[0] = 0;
	for (i = 0; i < n; i++) {
		b.pg[i + 1] = b.pg[i] + lpt_pages_of(maps[i].size);
		b.c2m[i + 1] = b.c2m[i] + (maps[i].size == LPT_SIZE_2M);
		b.c1g[i + 1] = b.c1g[i] + (maps[i].size == LPT_SIZE_1G);
	}

	best_subtree(&b, 0, n, 1, &root);
	ret = -ENOSPC;
	if (!root.ok || root.nodes > t->p.max_nodes)
		goto out;

	pages = (root.nodes * LPT_NODE_BYTES + 4095) / 4096;
	out->arena_pages = pages;
	out->cap = pages * (4096 / LPT_NODE_BYTES);
	ret = -ENOMEM;
	out->arena = t->ops.alloc(t->ops.ctx, (size_t)pages * 4096,
				  &out->arena_pa);
	if (!out->arena)
		goto out;
	bytes = out->cap * sizeof(*out->leaf_of);
	out->leaf_of = __lpt_meta_alloc(t, bytes);
	out->leaves = __lpt_meta_alloc(t, out->cap * sizeof(*out->leaves));
	if (!out->leaf_of || !out->leaves)
		goto out;
	memset(out->leaf_of, 0, bytes);
	out->nnodes = 1;
	ret = materialise(&b, 0, n, 1, 0, &root);
out:
	if (b.pg)
		__lpt_meta_free(t, b.pg, (n + 1) * sizeof(*b.pg));
	if (b.c2m)
		__lpt_meta_free(t, b.c2m, (n + 1) * sizeof(*b.c2m));
	if (b.c1g)
		__lpt_meta_free(t, b.c1g, (n + 1) * sizeof(*b.c1g));
	if (ret)
		__lpt_index_free(t, out);
	return ret;
}
