// SPDX-License-Identifier: GPL-2.0
/*
 * The cache hierarchy and NUMA parts of the machine model: set-associative
 * physically tagged levels with true LRU, the non-inclusive fill of
 * mmodel_access(), the node map, and the counting front end the emulated
 * platform calls for every data access and page-walk reference.  The
 * per-access cost matters (TCG runs it on every guest load and store), so
 * a set is kept in recency order: a hit on the MRU way, the usual case, is
 * one compare and changes nothing.
 */
#include "mmodel.h"

static bool geometry_ok(const struct mmodel_level_params *lp, uint64_t *sets)
{
	uint64_t way_bytes;

	if (!lp || lp->line != MMODEL_LINE || !lp->ways ||
	    lp->ways > MMODEL_MAX_WAYS || !lp->size)
		return false;
	way_bytes = (uint64_t)lp->ways * MMODEL_LINE;
	if (lp->size % way_bytes)
		return false;
	*sets = lp->size / way_bytes;
	return *sets <= MMODEL_MAX_SETS && !(*sets & (*sets - 1));
}

size_t mmodel_cache_storage_bytes(const struct mmodel_level_params *lp)
{
	uint64_t sets;

	if (!geometry_ok(lp, &sets))
		return 0;
	return (size_t)(sets * lp->ways * sizeof(uint64_t));
}

int mmodel_cache_init(struct mmodel_cache *c,
		      const struct mmodel_level_params *lp,
		      void *buf, size_t bytes)
{
	uint64_t sets;

	if (!c || !buf || ((unsigned long)buf & 7) || !geometry_ok(lp, &sets) ||
	    bytes < mmodel_cache_storage_bytes(lp))
		return -1;
	c->tags = buf;
	c->set_mask = (uint32_t)(sets - 1);
	c->ways = lp->ways;
	c->latency = lp->latency;
	mmodel_cache_reset(c);
	return 0;
}

void mmodel_cache_reset(struct mmodel_cache *c)
{
	memset(c->tags, 0, ((size_t)c->set_mask + 1) * c->ways *
	       sizeof(uint64_t));
	c->last = 0;
}

static inline uint64_t *set_of(const struct mmodel_cache *c, uint64_t line)
{
	return c->tags + (size_t)(line & c->set_mask) * c->ways;
}

/*
 * Look up @tag in its set and make it MRU, inserting it on a miss.  The
 * entries before the hit (or all but the LRU one on a miss) shift down one
 * way; the evicted tag goes to *@victim (0 when none).
 */
static inline bool lookup(struct mmodel_cache *c, uint64_t tag,
			  uint64_t *victim)
{
	uint64_t *s = set_of(c, tag);
	uint32_t i, n = c->ways - 1;

	c->last = tag;
	if (mmodel_likely(s[0] == tag))
		return true;
	for (i = 1; i < c->ways; i++) {
		if (s[i] == tag) {
			n = i;
			break;
		}
	}
	*victim = i == c->ways ? s[n] : 0;
	for (; n > 0; n--)
		s[n] = s[n - 1];
	s[0] = tag;
	return i < c->ways;
}

bool mmodel_cache_access(struct mmodel_cache *c, uint64_t paddr,
			 uint64_t *victim)
{
	uint64_t v = 0;
	bool hit = lookup(c, (paddr >> MMODEL_LINE_SHIFT) | MMODEL_TAG_VALID,
			  &v);

	if (victim)
		*victim = v ? (v & ~MMODEL_TAG_VALID) << MMODEL_LINE_SHIFT :
			      UINT64_MAX;
	return hit;
}

bool mmodel_cache_contains(const struct mmodel_cache *c, uint64_t paddr)
{
	uint64_t tag = (paddr >> MMODEL_LINE_SHIFT) | MMODEL_TAG_VALID;
	const uint64_t *s = set_of(c, tag);
	uint32_t i;

	for (i = 0; i < c->ways; i++)
		if (s[i] == tag)
			return true;
	return false;
}

/* One line through the hierarchy; NINE: fill each level that missed. */
static inline enum mmodel_level access_line(struct mmodel_cache *l1,
					    struct mmodel_cache *l2,
					    struct mmodel_cache *llc,
					    uint64_t tag)
{
	uint64_t victim;

	if (tag == l1->last || lookup(l1, tag, &victim))
		return MMODEL_L1;
	if (lookup(l2, tag, &victim))
		return MMODEL_L2;
	if (lookup(llc, tag, &victim))
		return MMODEL_LLC;
	return MMODEL_DRAM;
}

/*
 * Lines [first, last] of an access.  The line number of the last byte is
 * taken modulo the address width, so an access wrapping past the top of
 * the address space (only a fuzzer makes one) still ends.
 */
static inline uint64_t last_line(uint64_t paddr, uint32_t size)
{
	return (paddr + (size ? size - 1 : 0)) >> MMODEL_LINE_SHIFT;
}

enum mmodel_level mmodel_access(struct mmodel_cache *l1,
				struct mmodel_cache *l2,
				struct mmodel_cache *llc,
				uint64_t paddr, uint32_t size, bool is_write)
{
	uint64_t line = paddr >> MMODEL_LINE_SHIFT, end = last_line(paddr, size);
	enum mmodel_level deepest = MMODEL_L1, l;

	for (;; line = (line + 1) & (UINT64_MAX >> MMODEL_LINE_SHIFT)) {
		l = access_line(l1, l2, llc, line | MMODEL_TAG_VALID);
		if (l > deepest)
			deepest = l;
		if (line == end)
			return deepest;
	}
}

void mmodel_numa_init(struct mmodel_numa *m)
{
	memset(m, 0, sizeof(*m));
}

int mmodel_numa_add(struct mmodel_numa *m, uint64_t start, uint64_t end,
		    uint32_t node)
{
	uint32_t i, at;

	if (start >= end || node >= MMODEL_MAX_NODES ||
	    m->nr >= MMODEL_MAX_RANGES)
		return -1;
	for (at = 0; at < m->nr && m->r[at].start < start; at++)
		;
	if ((at > 0 && m->r[at - 1].end > start) ||
	    (at < m->nr && m->r[at].start < end))
		return -1;
	for (i = m->nr; i > at; i--)
		m->r[i] = m->r[i - 1];
	m->r[at].start = start;
	m->r[at].end = end;
	m->r[at].node = node;
	m->nr++;
	return 0;
}

/* Linear: a handful of ranges, and only DRAM accesses get here. */
uint32_t mmodel_numa_node(const struct mmodel_numa *m, uint64_t paddr)
{
	uint32_t i;

	for (i = 0; i < m->nr && m->r[i].start <= paddr; i++)
		if (paddr < m->r[i].end)
			return m->r[i].node;
	return 0;
}

void mmodel_vcpu_init(struct mmodel_vcpu *v, struct mmodel_cache *l1,
		      struct mmodel_cache *l2, struct mmodel_cache *llc,
		      const struct mmodel_numa *numa)
{
	memset(v, 0, sizeof(*v));
	v->l1 = l1;
	v->l2 = l2;
	v->llc = llc;
	v->numa = numa;
}

static inline uint32_t line_node(const struct mmodel_vcpu *v, uint64_t line)
{
	return v->numa ? mmodel_numa_node(v->numa, line << MMODEL_LINE_SHIFT) : 0;
}

enum mmodel_level mmodel_data_access_slow(struct mmodel_vcpu *v,
					  uint64_t paddr, uint32_t size,
					  bool is_write)
{
	uint64_t line = paddr >> MMODEL_LINE_SHIFT, end = last_line(paddr, size);
	uint64_t *by_level = is_write ? v->ctr.stores : v->ctr.loads;
	enum mmodel_level deepest = MMODEL_L1, l;

	for (;; line = (line + 1) & (UINT64_MAX >> MMODEL_LINE_SHIFT)) {
		l = access_line(v->l1, v->l2, v->llc, line | MMODEL_TAG_VALID);
		by_level[l]++;
		if (l == MMODEL_DRAM)
			v->ctr.data_dram[line_node(v, line)]++;
		if (l > deepest)
			deepest = l;
		if (line == end)
			return deepest;
	}
}

enum mmodel_level mmodel_walk_access(struct mmodel_vcpu *v, uint64_t paddr,
				     enum mmodel_walk_kind kind)
{
	uint64_t line = paddr >> MMODEL_LINE_SHIFT;
	enum mmodel_level l;

	if ((unsigned int)kind >= MMODEL_NR_WALKS)
		kind = MMODEL_WALK_2D;
	/* Entries are 8-byte aligned, so a reference is one line. */
	l = access_line(v->l1, v->l2, v->llc, line | MMODEL_TAG_VALID);
	v->ctr.walk[kind][l]++;
	if (l == MMODEL_DRAM)
		v->ctr.walk_dram[kind][line_node(v, line)]++;
	return l;
}
