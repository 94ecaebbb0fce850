// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: random sequences of build, insert, map (insert with
 * retrain), remove, update, range removal, range test-and-clear and lookup
 * on one learned page table, checked
 * after every step against a plain reference map of the pages that should
 * be mapped.  Parameters (gap scale, coverage limit, fan-out, depth,
 * contiguity cap, insertion distance) and allocation failures come from
 * the input too, so the retrain, rescale and new-leaf paths and every
 * error return are reached.  Any disagreement traps.
 */
#include "lpt_testlib.h"

#define MAXREF 512

struct ref {
	struct lpt_map m[MAXREF];
	size_t n;
};

struct in {
	const uint8_t *d;
	size_t len, pos;
};

static uint64_t take(struct in *in, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes; i++)
		v |= (uint64_t)(in->pos < in->len ? in->d[in->pos++] : 0) << (8 * i);
	return v;
}

static long ref_find(const struct ref *r, uint64_t va)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (va >= r->m[i].va && va - r->m[i].va < lpt_size_bytes(r->m[i].size))
			return (long)i;
	return -1;
}

static int ref_overlaps(const struct ref *r, uint64_t va, unsigned int size)
{
	uint64_t end = va + lpt_size_bytes(size);
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->m[i].va < end &&
		    va < r->m[i].va + lpt_size_bytes(r->m[i].size))
			return 1;
	return 0;
}

static void ref_del(struct ref *r, long i)
{
	r->m[i] = r->m[--r->n];
}

/* The table and the reference must agree on @va. */
static void check_va(struct lpt *t, const struct ref *r, uint64_t va)
{
	struct lpt_walk w;
	struct lpt_map g;
	long i = ref_find(r, va);
	int f = lpt_lookup(t, va, NULL, &w);
	int got = lpt_get(t, va, &g);

	if (i < 0) {
		if (f == LPT_OK || !got)
			__builtin_trap();
		return;
	}
	if (f != LPT_OK || tl_wpte(&w) != r->m[i].pte || w.size != r->m[i].size ||
	    w.pa != ((r->m[i].pte & LPT_PTE_PFN_MASK) |
		     (va & (lpt_size_bytes(w.size) - 1))))
		__builtin_trap();
	/* The library's records agree with the walk. */
	if (got || g.va != r->m[i].va || g.size != r->m[i].size ||
	    g.pte != r->m[i].pte)
		__builtin_trap();
}

/* A va from a few process-like regions, aligned for @size. */
static uint64_t pick_va(struct in *in, unsigned int size)
{
	static const uint64_t base[4] = {
		0x400000ULL, 0x555555400000ULL, 0x7f0000000000ULL,
		0x7fffc0000000ULL,
	};
	uint64_t va = base[take(in, 1) % 4];

	if (size == LPT_SIZE_4K)
		va += (take(in, 2) % 20000) * 4096;
	else if (size == LPT_SIZE_2M)
		va += (take(in, 1) % 64) * 0x200000ULL;
	else
		va = (va & ~0x3fffffffULL) + (take(in, 1) % 4) * 0x40000000ULL;
	if (take(in, 1) % 8 == 0)	/* far away now and then */
		va += (take(in, 1) % 16) << 36;
	va &= ~(lpt_size_bytes(size) - 1);
	return va & (LPT_VA_LIMIT - 1);
}

static unsigned int pick_size(struct in *in)
{
	unsigned int v = (unsigned int)take(in, 1);

	return v < 200 ? LPT_SIZE_4K : (v < 250 ? LPT_SIZE_2M : LPT_SIZE_1G);
}

static void check_some(struct lpt *t, const struct ref *r, struct in *in)
{
	unsigned int k;

	for (k = 0; k < 4 && r->n; k++) {
		const struct lpt_map *m = &r->m[take(in, 2) % r->n];

		check_va(t, r, m->va + ((take(in, 4) % lpt_size_bytes(m->size)) & ~7ULL));
	}
	check_va(t, r, pick_va(in, 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t caps[4] = { 0, 256 << 10, 64 << 10, 4096 };
	struct in in = { .d = data, .len = size };
	static struct ref r;
	static struct lpt_map tmp[MAXREF];
	struct lpt_mem_ops ops;
	struct lpt_params p;
	struct lpt_stats st;
	struct tl_mem mem;
	struct lpt *t;
	unsigned int op, sz, steps = 0;
	uint64_t va, pte, rs, cnt;
	size_t i;
	long k;
	int ret;

	tl_init(&mem, &ops);
	lpt_params_default(&p);
	mem.contig = caps[take(&in, 1) % 4];
	p.ga_scale_pct = 100 + take(&in, 1) % 200;
	p.cov_slots = 1 + take(&in, 1) % 8;
	p.max_fanout = 2 + take(&in, 1) % 64;
	p.max_depth = 1 + take(&in, 1) % LPT_MAX_DEPTH;
	p.max_nodes = 1 + take(&in, 2) % 2048;
	/* Up to 4 MB: the growth logic does not depend on the size, speed does. */
	p.min_insert_dist = (1ULL << 16) << (take(&in, 1) % 7);
	p.max_leaf_bytes = 4096ULL << (take(&in, 1) % 9);
	p.asid = take(&in, 1) % 8;
	t = lpt_create(&p, &ops);
	if (!t)
		__builtin_trap();
	r.n = 0;

	while (in.pos < in.len && steps++ < 400) {
		op = take(&in, 1) % 10;
		if (take(&in, 1) == 0xff)	/* inject an allocation failure */
			mem.fail_after = take(&in, 1) % 4;
		switch (op) {
		case 0:	/* insert */
		case 1:	/* map (insert, retrain on demand) */
			sz = pick_size(&in);
			va = pick_va(&in, sz);
			pte = tl_pte(va ^ (take(&in, 2) << 30), sz);
			if (take(&in, 1) & 1)
				pte |= LPT_PTE_NX;
			ret = op ? lpt_map_page(t, va, pte, sz) :
				   lpt_insert(t, va, pte, sz);
			if (ref_overlaps(&r, va, sz)) {
				if (ret == 0)
					__builtin_trap();
			} else if (ret == 0) {
				if (r.n == MAXREF) {
					lpt_remove(t, va);
				} else {
					r.m[r.n].va = va;
					r.m[r.n].pte = pte;
					r.m[r.n].size = sz;
					r.n++;
				}
			} else if (ret != LPT_NEED_RETRAIN && ret != -ENOMEM &&
				   ret != -ENOSPC) {
				__builtin_trap();
			}
			check_va(t, &r, va);
			break;
		case 2:	/* remove a mapped page by an inner address */
			if (!r.n)
				break;
			k = (long)(take(&in, 2) % r.n);
			va = r.m[k].va + ((take(&in, 4) % lpt_size_bytes(r.m[k].size)) & ~7ULL);
			if (lpt_remove(t, va))
				__builtin_trap();
			ref_del(&r, k);
			check_va(t, &r, va);
			break;
		case 3:	/* remove a random address */
			va = pick_va(&in, 0);
			k = ref_find(&r, va);
			ret = lpt_remove(t, va);
			if ((k >= 0) != (ret == 0))
				__builtin_trap();
			if (k >= 0)
				ref_del(&r, k);
			break;
		case 4:	/* update */
			if (!r.n)
				break;
			k = (long)(take(&in, 2) % r.n);
			pte = r.m[k].pte ^ LPT_PTE_RW ^ LPT_PTE_D;
			if (lpt_update(t, r.m[k].va, pte))
				__builtin_trap();
			r.m[k].pte = pte;
			break;
		case 5:	/* rebuild from the reference */
			memcpy(tmp, r.m, r.n * sizeof(tmp[0]));
			lpt_sort_maps(tmp, r.n);
			ret = lpt_build(t, tmp, r.n);
			if (ret && ret != -ENOMEM && ret != -ENOSPC)
				__builtin_trap();
			break;
		case 6:	/* retrain as is */
			ret = lpt_retrain(t, NULL, 0);
			if (ret && ret != -ENOMEM && ret != -ENOSPC)
				__builtin_trap();
			break;
		case 8:	/* remove a range: 1 byte to 64 GiB from a page */
			va = pick_va(&in, pick_size(&in)) + take(&in, 2);
			rs = va + 1 + (take(&in, 5) & ((1ULL << (take(&in, 1) % 37)) - 1));
			cnt = 0;
			for (k = (long)r.n - 1; k >= 0; k--) {
				if (r.m[k].va < rs &&
				    va < r.m[k].va + lpt_size_bytes(r.m[k].size)) {
					ref_del(&r, k);
					cnt++;
				}
			}
			if (lpt_remove_range(t, va, rs) != cnt)
				__builtin_trap();
			check_va(t, &r, va);
			break;
		case 9:	/* test RW/D, clear a subset of A/D/RW over a range */
			va = pick_va(&in, pick_size(&in)) + take(&in, 2);
			rs = va + 1 + (take(&in, 5) & ((1ULL << (take(&in, 1) % 37)) - 1));
			pte = take(&in, 1) & (LPT_PTE_A | LPT_PTE_D | LPT_PTE_RW);
			cnt = 0;
			for (i = 0; i < r.n; i++) {
				if (r.m[i].va < rs &&
				    va < r.m[i].va + lpt_size_bytes(r.m[i].size)) {
					cnt += !!(r.m[i].pte & (LPT_PTE_RW | LPT_PTE_D));
					r.m[i].pte &= ~pte;
				}
			}
			if (lpt_test_clear_range(t, va, rs, LPT_PTE_RW | LPT_PTE_D,
						 pte) != cnt)
				__builtin_trap();
			break;
		default:
			check_va(t, &r, pick_va(&in, pick_size(&in)));
			break;
		}
		mem.fail_after = -1;
		check_some(t, &r, &in);
	}

	/* Full agreement at the end. */
	for (i = 0; i < r.n; i++) {
		check_va(t, &r, r.m[i].va);
		check_va(t, &r, r.m[i].va + lpt_size_bytes(r.m[i].size) - 8);
	}
	if (lpt_collect(t, tmp, MAXREF) != r.n)
		__builtin_trap();
	for (i = 0; i < r.n; i++) {
		k = ref_find(&r, tmp[i].va);
		if (k < 0 || r.m[k].va != tmp[i].va || r.m[k].size != tmp[i].size ||
		    (r.m[k].pte & ~(LPT_PTE_A | LPT_PTE_D)) !=
		    (tmp[i].pte & ~(LPT_PTE_A | LPT_PTE_D)))
			__builtin_trap();
	}
	lpt_get_stats(t, &st);
	if (st.pages != r.n)
		__builtin_trap();
	lpt_destroy(t);
	if (mem.live || mem.meta_live)
		__builtin_trap();
	tl_fini(&mem);
	return 0;
}
