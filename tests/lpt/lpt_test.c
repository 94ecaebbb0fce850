// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the learned page table core, run under ASan and UBSan.
 * Each test states its scenario in numbers and checks the library through
 * the reference walker, the same path the emulated MMU takes: every mapped
 * page must translate to its PTE, nothing unmapped may translate, and the
 * structural targets (one reference per walk, small index, few collisions)
 * must hold on address spaces shaped like real processes.  Output is TAP.
 */
#include "lpt_testlib.h"
#include "lpt_internal.h"

static int tap_n, tap_fail;
static char tap_msg[512];

#define FAIL(...) do { snprintf(tap_msg, sizeof(tap_msg), __VA_ARGS__); \
		       return 0; } while (0)
#define CHECK(c, ...) do { if (!(c)) FAIL(__VA_ARGS__); } while (0)
/* For helpers that already wrote tap_msg. */
#define CHECK_KEEP(c) do { if (!(c)) return 0; } while (0)

static void tap(int ok, const char *name)
{
	tap_n++;
	if (ok) {
		printf("ok %d - %s\n", tap_n, name);
	} else {
		tap_fail++;
		printf("not ok %d - %s\n#   %s\n", tap_n, name, tap_msg);
	}
	fflush(stdout);
	tap_msg[0] = 0;
}

/* Cheap deterministic PRNG (xorshift64*). */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

struct env {
	struct tl_mem mem;
	struct lpt_mem_ops ops;
	struct lpt_params p;
	struct lpt *t;
	struct lpt_lwc lwc;
	struct lpt_lwc_entry lwce[64];
};

static int env_init(struct env *e, uint64_t contig)
{
	tl_init(&e->mem, &e->ops);
	e->mem.contig = contig;
	lpt_params_default(&e->p);
	lpt_lwc_init(&e->lwc, e->lwce, 64);
	e->t = lpt_create(&e->p, &e->ops);
	return e->t != NULL;
}

static int env_fini(struct env *e)
{
	int leak;

	lpt_destroy(e->t);
	leak = e->mem.live || e->mem.meta_live;
	tl_fini(&e->mem);
	return !leak;
}

/* Look up @va (cold: no LWC) and compare with the mapping @m. */
static int expect_map(struct lpt *t, const struct lpt_map *m, uint64_t va)
{
	struct lpt_walk w;
	uint64_t sz = lpt_size_bytes(m->size);
	int f = lpt_lookup(t, va, NULL, &w);

	if (f != LPT_OK) {
		snprintf(tap_msg, sizeof(tap_msg),
			 "va %#llx (page %#llx size %u): fault %s",
			 (unsigned long long)va, (unsigned long long)m->va,
			 m->size, lpt_fault_name(f));
		return 0;
	}
	if (tl_wpte(&w) != m->pte || w.size != m->size ||
	    w.pa != ((m->pte & LPT_PTE_PFN_MASK) | (va & (sz - 1)))) {
		snprintf(tap_msg, sizeof(tap_msg),
			 "va %#llx: pte %#llx size %u pa %#llx, want pte %#llx size %u",
			 (unsigned long long)va, (unsigned long long)w.pte,
			 w.size, (unsigned long long)w.pa,
			 (unsigned long long)m->pte, m->size);
		return 0;
	}
	return 1;
}

static int expect_all(struct lpt *t, const struct lpt_map *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t sz = lpt_size_bytes(m[i].size);

		if (!expect_map(t, &m[i], m[i].va) ||
		    !expect_map(t, &m[i], m[i].va + sz - 8) ||
		    !expect_map(t, &m[i], m[i].va + ((rnd() % sz) & ~7ULL)))
			return 0;
	}
	return 1;
}

static int expect_unmapped(struct lpt *t, uint64_t va)
{
	struct lpt_walk w;
	int f = lpt_lookup(t, va, NULL, &w);

	if (f == LPT_OK) {
		snprintf(tap_msg, sizeof(tap_msg),
			 "unmapped va %#llx translated to %#llx",
			 (unsigned long long)va, (unsigned long long)w.pa);
		return 0;
	}
	return 1;
}

/* Append @n pages of @size from @va. */
static size_t add_run(struct lpt_map *m, size_t at, uint64_t va, size_t n,
		      unsigned int size)
{
	size_t i;

	for (i = 0; i < n; i++) {
		m[at + i].va = va + i * lpt_size_bytes(size);
		m[at + i].size = size;
		m[at + i].pte = tl_pte(m[at + i].va, size);
	}
	return at + n;
}

/* Is @va inside one of the sorted maps? */
static int in_maps(const struct lpt_map *m, size_t n, uint64_t va)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m[mid].va + lpt_size_bytes(m[mid].size) <= va)
			lo = mid + 1;
		else if (m[mid].va > va)
			hi = mid;
		else
			return 1;
	}
	return 0;
}

/* ---- tests ---- */

/* Hand-computed encodings and 44.20 evaluations. */
static int t_golden(void)
{
	uint64_t w0, w1, tag;

	/* LEAF, shift 0, slope 1.0, table at PA 0x12345000, 1 page. */
	w0 = lpt_node_pack(LPT_NODE_LEAF, 0, 1 << 20, 0x12345);
	CHECK(w0 == 0x2468b0000002ULL, "leaf w0 %#llx", (unsigned long long)w0);
	CHECK(lpt_node_table_pa(w0) == 0x12345000ULL, "table pa");
	/* intercept -5.0 -> y(10) = 5.0 */
	w1 = lpt_node_pack_w1(-(5LL << 20), 0);
	CHECK(w1 == 0xffffffffb0000000ULL, "w1 %#llx", (unsigned long long)w1);
	CHECK(lpt_node_intercept(w1) == -(5LL << 20), "icpt decode");
	CHECK(lpt_node_eval(w0, w1, 10) == 5LL << 20, "eval 10");
	CHECK(lpt_node_table_slots(w1) == 256, "slots");
	/* slope 0.5, intercept 0.25: y(7) = 3.75 -> slot 3 */
	w0 = lpt_node_pack(LPT_NODE_LEAF, 0, 1 << 19, 0);
	w1 = lpt_node_pack_w1(1 << 18, 0);
	CHECK(lpt_node_eval(w0, w1, 7) == (3LL << 20) + (3 << 18), "0.5*7+0.25");
	CHECK(lpt_fix_floor(lpt_node_eval(w0, w1, 7)) == 3, "floor 3.75");
	/* shift 9: x = 0x12345 >> 9 = 0x91 */
	w0 = lpt_node_pack(LPT_NODE_LEAF, 9, 1 << 20, 0);
	CHECK(lpt_node_eval(w0, 0, 0x12345) == 0x91LL << 20, "shift 9");
	/* Extremes of the 56-bit intercept survive a round trip. */
	CHECK(lpt_node_intercept(lpt_node_pack_w1(LPT_ICPT_MIN, 0xff)) ==
	      LPT_ICPT_MIN, "icpt min");
	CHECK(lpt_node_intercept(lpt_node_pack_w1(LPT_ICPT_MAX, 0)) ==
	      LPT_ICPT_MAX, "icpt max");
	/* Max slope times max x plus min intercept: no overflow (UBSan). */
	w0 = lpt_node_pack(LPT_NODE_LEAF, 0, LPT_SLOPE_MAX, 0);
	w1 = lpt_node_pack_w1(LPT_ICPT_MIN, 0);
	CHECK(lpt_node_eval(w0, w1, (1ULL << 35) - 1) ==
	      LPT_SLOPE_MAX * ((1LL << 35) - 1) + LPT_ICPT_MIN, "extreme");
	/* INNER: first child 7, fan-out 12. */
	w0 = lpt_node_pack(LPT_NODE_INNER, 21, 3 << 18, lpt_inner_ptr(7, 12));
	CHECK(lpt_node_child(w0) == 7 && lpt_node_fanout(w0) == 12, "inner ptr");
	CHECK(lpt_node_shift(w0) == 21 && lpt_node_slope(w0) == 3 << 18, "inner");
	CHECK(lpt_node_valid(w0, 0) && !lpt_node_valid(w0, 1), "inner aux rsvd");
	/* DIRECT: slope exactly 1, whole intercept, shift 0, 9 or 18. */
	w0 = lpt_node_pack(LPT_NODE_DIRECT, 9, LPT_FIX_ONE, 0x12345);
	CHECK(lpt_node_valid(w0, lpt_node_pack_w1(-(3LL << 20), 1)), "direct");
	CHECK(!lpt_node_valid(w0, lpt_node_pack_w1(-(3LL << 20) + 1, 1)),
	      "direct fractional intercept");
	CHECK(!lpt_node_valid(lpt_node_pack(LPT_NODE_DIRECT, 9, LPT_FIX_ONE - 1,
					    0), 0), "direct slope");
	CHECK(!lpt_node_valid(lpt_node_pack(LPT_NODE_DIRECT, 8, LPT_FIX_ONE,
					    0), 0), "direct shift 8");
	CHECK(lpt_node_direct_slots(lpt_node_pack_w1(0, 1)) == 1024, "slots");
	/* Root: arena 0x40000000, 2 pages, ASID 5. */
	CHECK(lpt_root_pack(0x40000000ULL, 2, 5) == 0x001000004000000bULL,
	      "root %#llx", (unsigned long long)lpt_root_pack(0x40000000ULL, 2, 5));
	/* Tags: a 2M page matches inside only. */
	tag = lpt_tag_pack(0x7f0000200000ULL, LPT_SIZE_2M);
	CHECK(tag == 0x7f0000200003ULL, "tag %#llx", (unsigned long long)tag);
	CHECK(lpt_tag_matches(tag, 0x7f00003fffffULL), "2M inside");
	CHECK(!lpt_tag_matches(tag, 0x7f0000400000ULL), "2M after");
	CHECK(!lpt_tag_matches(tag, 0x7f00001ff000ULL), "2M before");
	CHECK(!lpt_tag_matches(tag & ~LPT_TAG_V, 0x7f0000200000ULL), "V clear");
	return 1;
}

static int t_empty(void)
{
	struct env e;
	struct lpt_walk w;

	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_lookup(e.t, 0x400000, NULL, &w) == LPT_F_EMPTY, "empty fault");
	CHECK(lpt_lookup(e.t, LPT_VA_LIMIT, NULL, &w) == LPT_F_NONCANON, "noncanon");
	CHECK(lpt_walk(0, 0x1000, lpt_read8, e.t, NULL, &w) == LPT_F_DISABLED,
	      "disabled");
	CHECK(lpt_remove(e.t, 0x400000) == -ENOENT, "remove empty");
	CHECK(env_fini(&e), "leak");
	return 1;
}

/* 10,000 contiguous 4K pages: one leaf, one reference per warm walk. */
static int t_dense(void)
{
	static struct lpt_map m[10000];
	struct env e;
	struct lpt_stats s;
	struct lpt_walk w;
	size_t n = add_run(m, 0, 0x555555554000ULL, 10000, LPT_SIZE_4K), i;

	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	CHECK_KEEP(expect_all(e.t, m, n));
	lpt_get_stats(e.t, &s);
	CHECK(s.pages == n && s.displaced == 0, "pages %llu displaced %llu",
	      (unsigned long long)s.pages, (unsigned long long)s.displaced);
	CHECK(s.leaves == 1 && s.depth == 1, "leaves %u depth %u", s.leaves, s.depth);
	for (i = 0; i < n; i++) {
		CHECK(lpt_lookup(e.t, m[i].va, &e.lwc, &w) == LPT_OK, "walk");
		CHECK(i == 0 || w.nlines == 1, "refs %u", w.nlines);
	}
	CHECK_KEEP(expect_unmapped(e.t, m[0].va - 4096));
	CHECK_KEEP(expect_unmapped(e.t, m[n - 1].va + 4096));
	CHECK(env_fini(&e), "leak");
	return 1;
}

/* Random probes over the whole space and near mapped runs. */
static int t_never_mapped(void)
{
	static struct lpt_map m[6000];
	struct env e;
	size_t n = 0, i;
	uint64_t va;

	n = add_run(m, n, 0x400000ULL, 500, LPT_SIZE_4K);
	n = add_run(m, n, 0x600000ULL, 100, LPT_SIZE_4K);
	for (i = 0; i < 3000; i++)	/* every other page: gaps */
		n = add_run(m, n, 0x7f0000000000ULL + i * 8192, 1, LPT_SIZE_4K);
	n = add_run(m, n, 0x7ffffffde000ULL, 30, LPT_SIZE_4K);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	CHECK_KEEP(expect_all(e.t, m, n));
	for (i = 0; i < 200000; i++) {
		if (i & 1)
			va = rnd() & (LPT_VA_LIMIT - 1);
		else
			va = m[rnd() % n].va + ((rnd() % 65536) - 32768) * 4096;
		va &= ~0xfffULL;
		if (va >= LPT_VA_LIMIT || in_maps(m, n, va))
			continue;
		CHECK_KEEP(expect_unmapped(e.t, va));
	}
	CHECK(env_fini(&e), "leak");
	return 1;
}

/* Remove every third page of 3 runs; the rest stays. */
static int t_delete(void)
{
	static struct lpt_map m[9000], keep[9000];
	struct env e;
	size_t n = 0, k = 0, i;
	struct lpt_stats s;

	n = add_run(m, n, 0x10000000ULL, 3000, LPT_SIZE_4K);
	n = add_run(m, n, 0x7f1234560000ULL, 3000, LPT_SIZE_4K);
	n = add_run(m, n, 0x7ffd00000000ULL, 3000, LPT_SIZE_4K);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	for (i = 0; i < n; i++) {
		if (i % 3 == 0)
			CHECK(lpt_remove(e.t, m[i].va + 123) == 0, "remove %zu", i);
		else
			keep[k++] = m[i];
	}
	CHECK(lpt_remove(e.t, m[0].va) == -ENOENT, "double remove");
	for (i = 0; i < n; i += 3)
		CHECK_KEEP(expect_unmapped(e.t, m[i].va));
	CHECK_KEEP(expect_all(e.t, keep, k));
	lpt_get_stats(e.t, &s);
	CHECK(s.pages == k && s.removes == n / 3, "pages %llu",
	      (unsigned long long)s.pages);
	/* Re-insert them: in-bounds inserts into the gaps they left. */
	for (i = 0; i < n; i += 3)
		CHECK(lpt_insert(e.t, m[i].va, m[i].pte, 0) == 0, "reinsert");
	CHECK_KEEP(expect_all(e.t, m, n));
	CHECK(env_fini(&e), "leak");
	return 1;
}

/* Sparse build, then fill the gaps in place. */
static int t_gap_inserts(void)
{
	static struct lpt_map m[8000];
	struct env e;
	size_t n = 0, i;
	struct lpt_stats s;

	for (i = 0; i < 8000; i += 2)
		n = add_run(m, n, 0x20000000ULL + i * 4096, 1, LPT_SIZE_4K);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	for (i = 1; i < 8000; i += 2) {
		uint64_t va = 0x20000000ULL + i * 4096;

		CHECK(lpt_insert(e.t, va, tl_pte(va, 0), 0) == 0, "insert %zu", i);
	}
	n = add_run(m, 0, 0x20000000ULL, 8000, LPT_SIZE_4K);
	CHECK_KEEP(expect_all(e.t, m, n));
	lpt_get_stats(e.t, &s);
	CHECK(s.retrains == 0 && s.rescales == 0, "no retrain/rescale");
	CHECK(lpt_insert(e.t, m[5].va, m[5].pte, 0) == -EEXIST, "dup");
	CHECK(lpt_insert(e.t, m[5].va + 1, m[5].pte, 0) == -EINVAL, "misaligned");
	CHECK(env_fini(&e), "leak");
	return 1;
}

/* Heap growing up and stack growing down past their table edges. */
static int t_rescale(void)
{
	static struct lpt_map m[40000];
	struct env e;
	struct lpt_stats s;
	size_t n = 0, i, heap = 1000, stack = 1000;
	uint64_t hb = 0x555555560000ULL, st = 0x7ffffff00000ULL, va;

	n = add_run(m, n, hb, heap, LPT_SIZE_4K);
	n = add_run(m, n, st - stack * 4096, stack, LPT_SIZE_4K);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	for (i = 0; i < 15000; i++) {	/* heap +60 MB, stack -60 MB */
		va = hb + (heap + i) * 4096;
		CHECK(lpt_insert(e.t, va, tl_pte(va, 0), 0) == 0, "heap %zu", i);
		va = st - (stack + i + 1) * 4096;
		CHECK(lpt_insert(e.t, va, tl_pte(va, 0), 0) == 0, "stack %zu", i);
	}
	n = add_run(m, 0, hb, heap + 15000, LPT_SIZE_4K);
	n = add_run(m, n, st - (stack + 15000) * 4096, stack + 15000, LPT_SIZE_4K);
	CHECK_KEEP(expect_all(e.t, m, n));
	lpt_get_stats(e.t, &s);
	CHECK(s.rescales >= 2 && s.retrains == 0, "rescales %llu retrains %llu",
	      (unsigned long long)s.rescales, (unsigned long long)s.retrains);
	CHECK(s.rescales < 20, "rescaled too often: %llu",
	      (unsigned long long)s.rescales);
	CHECK(s.displaced == 0, "displaced %llu", (unsigned long long)s.displaced);
	CHECK(env_fini(&e), "leak");
	return 1;
}

/*
 * Growth next to other clusters: a heap growing up by 120 MB and an mmap
 * area growing down by 120 MB, a page at a time, while a stack sits far
 * above.  Zoomed inner nodes leave the minimum insertion distance around
 * each cluster, so growth rescales or grows new leaves; the paper sees
 * about two retrains per run, allow three.
 */
static int t_growth(void)
{
	static struct lpt_map m[70000];
	struct env e;
	struct lpt_stats s;
	uint64_t heap = 0x55d1c3f00000ULL, mm = 0x7f3a40000000ULL, va;
	size_t n = 0, i;

	n = add_run(m, n, heap, 1000, LPT_SIZE_4K);
	n = add_run(m, n, mm, 1000, LPT_SIZE_4K);
	n = add_run(m, n, 0x7ffc1e000000ULL, 40, LPT_SIZE_4K);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	for (i = 0; i < 30 * 1024; i++) {
		va = heap + (1000 + i) * 4096;
		CHECK(lpt_map_page(e.t, va, tl_pte(va, 0), 0) == 0, "heap %zu", i);
		va = mm - (i + 1) * 4096;
		CHECK(lpt_map_page(e.t, va, tl_pte(va, 0), 0) == 0, "mmap %zu", i);
	}
	n = add_run(m, 0, heap, 1000 + 30 * 1024, LPT_SIZE_4K);
	n = add_run(m, n, mm - 30 * 1024 * 4096, 1000 + 30 * 1024, LPT_SIZE_4K);
	n = add_run(m, n, 0x7ffc1e000000ULL, 40, LPT_SIZE_4K);
	CHECK_KEEP(expect_all(e.t, m, n));
	lpt_get_stats(e.t, &s);
	printf("# growth: %llu retrains, %llu rescales, %llu new leaves, index %llu B\n",
	       (unsigned long long)s.retrains, (unsigned long long)s.rescales,
	       (unsigned long long)s.new_leaves,
	       (unsigned long long)s.index_bytes);
	CHECK(s.retrains <= 3, "retrains %llu", (unsigned long long)s.retrains);
	CHECK(env_fini(&e), "leak");
	return 1;
}

/* 4K, 2M and 1G pages in one index, including 2M inside a 4K run. */
/*
 * Every page size: a 4K binary, a THP heap with 4K pages and THPs mixed
 * after it, three 1G hugetlb pages, an mmap area with THPs, a stack.
 */
static size_t mixed_layout(struct lpt_map *m)
{
	size_t n = 0;

	n = add_run(m, n, 0x400000ULL, 300, LPT_SIZE_4K);
	n = add_run(m, n, 0x400000ULL + 300 * 4096 + 0x100000, 1, LPT_SIZE_4K);
	n = add_run(m, n, 0x800000ULL, 40, LPT_SIZE_2M);
	n = add_run(m, n, 0x800000ULL + 40 * 0x200000, 200, LPT_SIZE_4K);
	n = add_run(m, n, 0x800000ULL + 40 * 0x200000 + 0x200000, 3, LPT_SIZE_2M);
	n = add_run(m, n, 0x40000000ULL * 4, 3, LPT_SIZE_1G);
	n = add_run(m, n, 0x7f0000000000ULL, 1000, LPT_SIZE_4K);
	n = add_run(m, n, 0x7f0000600000ULL, 5, LPT_SIZE_2M);
	n = add_run(m, n, 0x7ffffff00000ULL, 50, LPT_SIZE_4K);
	return n;
}

static int t_mixed_sizes(void)
{
	static struct lpt_map m[6000];
	struct env e;
	struct lpt_stats s;
	size_t n = mixed_layout(m);

	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	CHECK_KEEP(expect_all(e.t, m, n));
	lpt_get_stats(e.t, &s);
	CHECK(s.pages_by_size[0] == 1551 && s.pages_by_size[1] == 48 &&
	      s.pages_by_size[2] == 3, "by size %llu %llu %llu",
	      (unsigned long long)s.pages_by_size[0],
	      (unsigned long long)s.pages_by_size[1],
	      (unsigned long long)s.pages_by_size[2]);
	/* Incremental: a 2M page and a 1G page into fresh space. */
	CHECK(lpt_map_page(e.t, 0x7e0000000000ULL, tl_pte(0x7e0000000000ULL, 1),
			   LPT_SIZE_2M) == 0, "map 2M");
	CHECK(lpt_map_page(e.t, 0x7d0000000000ULL, tl_pte(0x7d0000000000ULL, 2),
			   LPT_SIZE_1G) == 0, "map 1G");
	CHECK(lpt_insert(e.t, 0x7d0000001000ULL, tl_pte(0, 0), 0) == -EEXIST,
	      "4K inside 1G");
	CHECK(lpt_remove(e.t, 0x7d0000123000ULL) == 0, "remove 1G by inner va");
	CHECK_KEEP(expect_unmapped(e.t, 0x7d0000000000ULL));
	CHECK_KEEP(expect_all(e.t, m, n));
	CHECK(env_fini(&e), "leak");
	return 1;
}

/*
 * 512 MB of dense 4K pages with the contiguity oracle capped at 256 KB:
 * no table may exceed 256 KB and every page must still be found.
 */
static int t_contig_cap(void)
{
	size_t cnt = 131072, n;
	struct lpt_map *m = calloc(cnt + 64, sizeof(*m));
	struct env e;
	struct lpt_stats s;
	int ok = 0;

	if (!m)
		FAIL("oom");
	n = add_run(m, 0, 0x7f0000000000ULL, cnt, LPT_SIZE_4K);
	n = add_run(m, n, 0x7ffffff00000ULL, 64, LPT_SIZE_4K);
	if (!env_init(&e, 256 << 10))
		goto out;
	if (lpt_build(e.t, m, n)) {
		snprintf(tap_msg, sizeof(tap_msg), "build failed");
		goto fini;
	}
	lpt_get_stats(e.t, &s);
	if (s.max_table_bytes > (256 << 10) || e.mem.biggest > (256 << 10)) {
		snprintf(tap_msg, sizeof(tap_msg), "table %llu bytes",
			 (unsigned long long)s.max_table_bytes);
		goto fini;
	}
	if (!expect_all(e.t, m, n))
		goto fini;
	printf("# 256K cap: %u leaves, index %llu B, depth %u, tables %llu KiB\n",
	       s.leaves, (unsigned long long)s.index_bytes, s.depth,
	       (unsigned long long)(s.table_bytes >> 10));
	ok = 1;
fini:
	if (!env_fini(&e))
		ok = 0;
out:
	free(m);
	return ok;
}

/*
 * Walk @walks random mapped pages through a 64-entry LWC and check the
 * design targets: index <= 1 KiB, >= 99% single-reference walks, mean
 * <= 1.02 references, collision rate <= 1%, LWC hit rate >= 99%.
 */
/*
 * The mapping holding byte @off of the mapped bytes (prefix sums in @cum):
 * walks weighted by bytes, as a program touching its memory uniformly
 * makes them.
 */
static const struct lpt_map *by_bytes(const struct lpt_map *m, size_t n,
				      const uint64_t *cum, uint64_t off)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;

		if (cum[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	return &m[lo];
}

/*
 * Build @m and walk it @walks_todo times at random addresses: one mapping
 * chosen uniformly, or (@one_pct given with @weighted) a byte chosen
 * uniformly over all mapped bytes.  Targets: index at most 1 KiB, at
 * least @one_pct% one-reference walks and at most @refs_pct% references
 * per walk, few collisions, LWC hits.
 */
static int expect_targets(const char *what, const struct lpt_map *m, size_t n,
			  size_t walks_todo, bool weighted,
			  unsigned int one_pct, unsigned int refs_pct)
{
	static uint64_t cum[200001];
	struct env e;
	struct lpt_stats s;
	struct lpt_walk w;
	uint64_t refs = 0, one = 0, walks = 0;
	size_t i;

	cum[0] = 0;
	for (i = 0; i < n; i++)
		cum[i + 1] = cum[i] + lpt_size_bytes(m[i].size);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	CHECK_KEEP(expect_all(e.t, m, n));
	lpt_get_stats(e.t, &s);
	for (i = 0; i < walks_todo; i++) {
		const struct lpt_map *p = weighted ?
			by_bytes(m, n, cum, rnd() % cum[n]) : &m[rnd() % n];

		CHECK(lpt_lookup(e.t, p->va + ((rnd() % lpt_size_bytes(p->size)) & ~7ULL),
				 &e.lwc, &w) == LPT_OK, "walk");
		if (i < 1000)
			continue;	/* warm-up */
		walks++;
		refs += w.nlines;
		one += w.nlines == 1;
	}
	printf("# %s: %llu pages (%llu 2M), index %llu B (%u nodes, %u leaves, "
	       "depth %u), tables %llu KiB, collisions %u ppm\n", what,
	       (unsigned long long)s.pages,
	       (unsigned long long)s.pages_by_size[LPT_SIZE_2M],
	       (unsigned long long)s.index_bytes, s.nodes, s.leaves, s.depth,
	       (unsigned long long)(s.table_bytes >> 10), s.collision_ppm);
	printf("# %s: walks by %s: one-ref %.3f%%, refs/walk %.4f, LWC hit %.3f%%; "
	       "%llu sub-tables\n", what, weighted ? "byte" : "mapping",
	       100.0 * one / walks, (double)refs / walks,
	       100.0 * e.lwc.hits / (e.lwc.hits + e.lwc.misses),
	       (unsigned long long)s.subtables);
	CHECK(s.index_bytes <= 1024, "index %llu B", (unsigned long long)s.index_bytes);
	CHECK(one * 100 >= walks * one_pct, "one-ref %llu/%llu",
	      (unsigned long long)one, (unsigned long long)walks);
	CHECK(refs * 100 <= walks * refs_pct, "refs %llu/%llu",
	      (unsigned long long)refs, (unsigned long long)walks);
	CHECK(s.collision_ppm <= 10000, "collisions %u ppm", s.collision_ppm);
	CHECK(e.lwc.hits * 100 >= (e.lwc.hits + e.lwc.misses) * 99, "lwc");
	CHECK(env_fini(&e), "leak");
	return 1;
}

/* Binary, libraries, anonymous mmaps, thread stacks, stack, vdso. */
static size_t process_common(struct lpt_map *m, size_t n)
{
	uint64_t lib = 0x7f3a10000000ULL;
	size_t i, j;

	n = add_run(m, n, 0x55d1c2a00000ULL, 200, LPT_SIZE_4K);	/* binary */
	for (i = 0; i < 40; i++) {	/* libraries: text touched sparsely */
		for (j = 0; j < 400; j++)
			if ((j * 7 + i) % 10 < 6)
				n = add_run(m, n, lib + j * 4096, 1, LPT_SIZE_4K);
		lib += 400 * 4096 + 0x10000;
	}
	return n;
}

static size_t process_tail(struct lpt_map *m, size_t n)
{
	size_t i;

	for (i = 0; i < 8; i++)	/* thread stacks: top 16 pages of 8 MB */
		n = add_run(m, n, 0x7f3a60000000ULL + i * 0x801000 + 0x7f0000,
			    16, LPT_SIZE_4K);
	n = add_run(m, n, 0x7ffc1e000000ULL, 40, LPT_SIZE_4K);	/* stack */
	return add_run(m, n, 0x7ffc1e2f0000ULL, 2, LPT_SIZE_4K);	/* vdso */
}

/* 4K process: 120 MB heap and a 240 MB anonymous mmap, all 4K pages. */
static int t_process_targets(void)
{
	static struct lpt_map m[200000];
	size_t n = process_common(m, 0);

	n = add_run(m, n, 0x55d1c3f00000ULL, 30000, LPT_SIZE_4K);	/* heap */
	lpt_sort_maps(m, n);
	n = add_run(m, n, 0x7f3a40000000ULL, 60000, LPT_SIZE_4K);	/* mmap */
	n = process_tail(m, n);
	lpt_sort_maps(m, n);
	return expect_targets("4K process", m, n, 400000, false, 99, 102);
}

/*
 * THP process: the heap is 2M pages with every eighth 2M region left as
 * 4K pages (khugepaged has not collapsed it), the mmap is 2M pages.  The
 * heap gets a 2 MiB-granule leaf, so its 4K pages are behind sub-tables:
 * two references each, as radix's PD and PT entries are.  They are 98% of
 * the mappings but 4% of the bytes, so the targets are set on walks that
 * land on bytes uniformly, as a program touching its memory makes them.
 */
static int t_thp_process_targets(void)
{
	static struct lpt_map m[200000];
	uint64_t heap = 0x55d1c4000000ULL;
	size_t n = process_common(m, 0), i;

	for (i = 0; i < 200; i++) {
		if (i % 8 == 7)
			n = add_run(m, n, heap + i * 0x200000, 300, LPT_SIZE_4K);
		else
			n = add_run(m, n, heap + i * 0x200000, 1, LPT_SIZE_2M);
	}
	n = add_run(m, n, 0x7f3a40000000ULL, 120, LPT_SIZE_2M);
	n = process_tail(m, n);
	lpt_sort_maps(m, n);
	return expect_targets("THP process", m, n, 400000, true, 95, 105);
}

/* Random sparse pages: gapped leaves and collisions, still exact. */
/*
 * @count 4 KiB pages at random over @span pages from 0x7f0000000000,
 * sorted, duplicates dropped; returns how many are left.
 */
static size_t sparse_maps(struct lpt_map *m, size_t count, uint64_t span)
{
	size_t i, k;

	for (i = 0; i < count; i++) {
		m[i].va = 0x7f0000000000ULL + (rnd() % span) * 4096;
		m[i].size = 0;
	}
	lpt_sort_maps(m, count);
	for (i = 0, k = 0; i < count; i++) {
		if (k && m[k - 1].va == m[i].va)
			continue;
		m[k] = m[i];
		m[k].pte = tl_pte(m[k].va, 0);
		k++;
	}
	return k;
}

static int t_sparse_random(void)
{
	static struct lpt_map m[20000];
	struct env e;
	struct lpt_stats s;
	size_t n, i;

	n = sparse_maps(m, 20000, 1ULL << 20);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	CHECK_KEEP(expect_all(e.t, m, n));
	for (i = 0; i < 20000; i++) {
		uint64_t va = 0x7f0000000000ULL + (rnd() % (1ULL << 20)) * 4096;

		if (!in_maps(m, n, va))
			CHECK_KEEP(expect_unmapped(e.t, va));
	}
	lpt_get_stats(e.t, &s);
	printf("# sparse: %zu pages, %u leaves (%u direct), collisions %u ppm\n",
	       n, s.leaves, s.direct_leaves, s.collision_ppm);
	/* 2% dense: too sparse for direct tables, so this covers gapped ones. */
	CHECK(s.leaves > s.direct_leaves && s.collision_ppm > 0,
	      "gapped leaves with collisions expected");
	CHECK(env_fini(&e), "leak");
	return 1;
}

/*
 * The slot-reuse race of gapped leaves.  A walk reads a slot's tag, then
 * its PTE; the OS may remove that page and put another one into the same
 * slot in between (a munmap on one CPU, a fault on another, before the
 * munmap's TLB flush).  The walk must then not translate the old page to
 * the new page's frame.  The read callback plays the other CPU: when the
 * walk of A reads A's PTE word, A is removed and B inserted into its slot.
 */
struct race_ctx {
	struct lpt *t;
	uint64_t pte_pa;	/* A's PTE word */
	uint64_t a, b;		/* the two pages */
	int fired;
};

static int race_read8(void *ctx, uint64_t pa, uint64_t *val)
{
	struct race_ctx *c = ctx;

	if (!c->fired && pa == c->pte_pa) {
		c->fired = 1;
		if (lpt_remove(c->t, c->a) ||
		    lpt_insert(c->t, c->b, tl_pte(c->b, 0), 0))
			return -1;
	}
	return lpt_read8(c->t, pa, val);
}

static int t_slot_reuse_race(void)
{
	static struct lpt_map m[2000];
	struct race_ctx c = { 0 };
	struct lpt_walk w;
	struct env e;
	size_t n, i;
	uint64_t d;
	int f;

	/* Sparse enough for gapped leaves. */
	n = sparse_maps(m, 2000, 1ULL << 22);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	/* A: a page of a gapped leaf, and an unmapped B that takes its slot. */
	for (i = n / 4; i < n && !c.b; i++) {
		c.a = m[i].va;
		if (lpt_lookup(e.t, c.a, NULL, &w) != LPT_OK ||
		    w.leaf_kind != LPT_NODE_LEAF)
			continue;
		c.pte_pa = w.entry_pa;
		for (d = 0; d < 64 && !c.b; d++) {
			/* Both sides of A: 1, -1, 2, -2, ... pages away. */
			uint64_t b = c.a + (d & 1 ? -(d / 2 + 1) : d / 2 + 1) * 4096;

			if (in_maps(m, n, b))
				continue;
			CHECK(lpt_remove(e.t, c.a) == 0, "remove A");
			if (!lpt_insert(e.t, b, tl_pte(b, 0), 0)) {
				if (lpt_lookup(e.t, b, NULL, &w) == LPT_OK &&
				    w.entry_pa == c.pte_pa)
					c.b = b;
				CHECK(lpt_remove(e.t, b) == 0, "remove B");
			}
			CHECK(lpt_insert(e.t, c.a, m[i].pte, 0) == 0,
			      "re-insert A");
			CHECK(lpt_lookup(e.t, c.a, NULL, &w) == LPT_OK &&
			      w.entry_pa == c.pte_pa, "A back in its slot");
		}
	}
	CHECK(c.b, "no slot shared by two pages found");
	c.t = e.t;
	memset(&w, 0, sizeof(w));
	f = lpt_walk(lpt_root(e.t), c.a, race_read8, &c, NULL, &w);
	CHECK(c.fired, "the walk never read A's PTE");
	CHECK(f != LPT_OK ||
	      (w.pa & ~4095ULL) != (tl_pte(c.b, 0) & LPT_PTE_PFN_MASK),
	      "A at %#llx translated to B's frame %#llx (fault %d)",
	      (unsigned long long)c.a, (unsigned long long)w.pa, f);
	CHECK(lpt_lookup(e.t, c.a, NULL, &w) != LPT_OK &&
	      lpt_lookup(e.t, c.b, NULL, &w) == LPT_OK, "after: A gone, B in");
	CHECK(env_fini(&e), "leak");
	return 1;
}

/* Far-away inserts ask for a retrain; lpt_map_page does it. */
static int t_retrain(void)
{
	static struct lpt_map m[3000];
	struct env e;
	struct lpt_stats s;
	size_t n = 0, i;
	uint64_t va;
	int r;

	n = add_run(m, n, 0x10000000ULL, 1000, LPT_SIZE_4K);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	va = 0x10000000ULL + (1ULL << 33);	/* 8 GB beyond: not near */
	r = lpt_insert(e.t, va, tl_pte(va, 0), 0);
	CHECK(r == LPT_NEED_RETRAIN, "insert far: %d", r);
	CHECK(expect_unmapped(e.t, va), "unchanged");
	for (i = 0; i < 1000; i++) {
		va = 0x10000000ULL + (1ULL << 33) + i * 4096;
		CHECK(lpt_map_page(e.t, va, tl_pte(va, 0), 0) == 0, "map %zu", i);
	}
	n = add_run(m, n, 0x10000000ULL + (1ULL << 33), 1000, LPT_SIZE_4K);
	CHECK_KEEP(expect_all(e.t, m, n));
	lpt_get_stats(e.t, &s);
	CHECK(s.retrains >= 1 && s.retrains <= 3, "retrains %llu",
	      (unsigned long long)s.retrains);
	CHECK(env_fini(&e), "leak");
	return 1;
}

/* Allocation failures at every point of a build leave the old table. */
static int t_alloc_failure(void)
{
	static struct lpt_map m[5000], m2[5000];
	struct env e;
	size_t n = 0, n2 = 0;
	long k;
	int r;

	n = add_run(m, n, 0x10000000ULL, 2000, LPT_SIZE_4K);
	n2 = add_run(m2, n2, 0x30000000ULL, 2000, LPT_SIZE_4K);
	n2 = add_run(m2, n2, 0x7f0000000000ULL, 2000, LPT_SIZE_4K);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	for (k = 0; k < 40; k++) {
		e.mem.fail_after = k;
		r = lpt_build(e.t, m2, n2);
		e.mem.fail_after = -1;
		if (r == 0)
			break;
		CHECK(r == -ENOMEM, "r %d", r);
		CHECK_KEEP(expect_all(e.t, m, n));
	}
	CHECK_KEEP(k < 40 && expect_all(e.t, m2, n2));
	CHECK(env_fini(&e), "leak");
	return 1;
}

/* lpt_update rewrites every copy; collect returns the set sorted. */
static int t_update_collect(void)
{
	static struct lpt_map m[1000], out[1000];
	struct env e;
	size_t n = 0, i;
	struct lpt_walk w;

	n = add_run(m, n, 0x7f0000000000ULL, 500, LPT_SIZE_4K);
	n = add_run(m, n, 0x7f0000400000ULL, 4, LPT_SIZE_2M);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	m[501].pte |= LPT_PTE_NX;
	CHECK(lpt_update(e.t, m[501].va + 0x1234, m[501].pte) == 0, "update");
	for (i = 0; i < 512; i++)
		CHECK(lpt_lookup(e.t, m[501].va + i * 4096, NULL, &w) == 0 &&
		      tl_wpte(&w) == m[501].pte, "copy %zu", i);
	CHECK(lpt_collect(e.t, out, 1000) == n, "count");
	for (i = 0; i < n; i++)
		CHECK(out[i].va == m[i].va && out[i].pte == m[i].pte &&
		      out[i].size == m[i].size, "collect %zu", i);
	CHECK(lpt_build(e.t, m, 0) == 0, "rebuild empty");
	CHECK_KEEP(expect_unmapped(e.t, m[0].va));
	CHECK(env_fini(&e), "leak");
	return 1;
}

/* Invalid input to build is rejected and changes nothing. */
static int t_bad_input(void)
{
	struct lpt_map m[2] = {
		{ .va = 0x200000, .pte = tl_pte(0x200000, 1), .size = 1 },
		{ .va = 0x201000, .pte = tl_pte(0x201000, 0), .size = 0 },
	};
	struct env e;

	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, 2) == -EINVAL, "overlap");
	m[1].va = 0x400000;
	m[1].pte |= LPT_PTE_RSVD7;
	CHECK(lpt_build(e.t, m, 2) == -EINVAL, "rsvd pte");
	m[1].pte &= ~LPT_PTE_RSVD7;
	m[0].pte |= 0x1000;	/* misaligned 2M PFN */
	CHECK(lpt_build(e.t, m, 2) == -EINVAL, "2M pfn");
	CHECK(lpt_insert(e.t, LPT_VA_LIMIT, 0, 0) == -EINVAL, "va limit");
	CHECK(lpt_insert(e.t, 0, 0, 3) == -EINVAL, "size 3");
	CHECK(env_fini(&e), "leak");
	return 1;
}

struct garbage {
	unsigned char *mem;
	size_t len;
	uint64_t base;
};

static int g_read8(void *ctx, uint64_t pa, uint64_t *val)
{
	struct garbage *g = ctx;

	if (pa < g->base || pa - g->base > g->len - 8)
		return -1;
	memcpy(val, g->mem + (pa - g->base), 8);
	return 0;
}

/* Random bytes as memory and random roots: faults, never a crash. */
static int t_garbage_walk(void)
{
	struct garbage g;
	struct lpt_walk w;
	struct lpt_lwc lwc;
	struct lpt_lwc_entry le[16];
	uint64_t root, tag, counts[LPT_F_NR] = { 0 };
	size_t i, k;
	int f;

	g.len = 1 << 20;
	g.base = 0x1000000;
	g.mem = malloc(g.len);
	if (!g.mem)
		FAIL("oom");
	lpt_lwc_init(&lwc, le, 16);
	for (k = 0; k < 200; k++) {
		for (i = 0; i < g.len; i += 16) {
			uint64_t v0 = rnd(), v1 = rnd();

			/*
			 * Odd rounds: plausible nodes (small child indices,
			 * tables inside the buffer, small intercepts) and
			 * tags, so that walks get deep into leaves.
			 */
			if (k & 1) {
				uint64_t ptr = (v0 >> 40) & 1 ?
					lpt_inner_ptr(rnd() % 512, 1 + rnd() % 64) :
					(g.base + rnd() % g.len) >> 12;

				v0 = lpt_node_pack(1 + !((v0 >> 40) & 1),
						   20 + rnd() % 16,
						   rnd() & LPT_NODE_SLOPE_MASK, ptr);
				v1 = lpt_node_pack_w1((int64_t)(rnd() % (1ULL << 31)) -
						      (1LL << 30),
						      (v0 & 3) == 2 ? rnd() : 0);
				if (rnd() % 3 == 0) {
					v0 = rnd();
					v1 = lpt_tag_pack(rnd(), rnd() % 4);
				}
			}
			memcpy(g.mem + i, &v0, 8);
			memcpy(g.mem + i + 8, &v1, 8);
		}
		root = (rnd() & ~LPT_ROOT_RSVD_MASK) | LPT_ROOT_E;
		if (k % 4)
			root = (root & ~LPT_ROOT_PA_MASK) |
			       ((g.base + (rnd() % g.len)) & LPT_ROOT_PA_MASK);
		for (i = 0; i < 2000; i++) {
			uint64_t va = rnd() & (LPT_VA_LIMIT - 1);

			f = lpt_walk(root, va, g_read8, &g, (i & 1) ? &lwc : NULL, &w);
			CHECK(f >= 0 && f < LPT_F_NR, "fault %d", f);
			counts[f]++;
			CHECK(w.depth <= LPT_MAX_DEPTH && w.nlines <= 5 &&
			      w.probes <= LPT_CERR + 1, "bounds");
			if (f == LPT_OK) {
				CHECK(g_read8(&g, w.entry_pa + 8, &tag) == 0 &&
				      lpt_tag_matches(tag, va), "tag");
			}
		}
	}
	printf("# garbage walks: ok %llu bus %llu badnode %llu range %llu noentry %llu "
	       "empty %llu depth %llu\n",
	       (unsigned long long)counts[LPT_OK],
	       (unsigned long long)counts[LPT_F_BUS],
	       (unsigned long long)counts[LPT_F_BADNODE],
	       (unsigned long long)counts[LPT_F_RANGE],
	       (unsigned long long)counts[LPT_F_NOENTRY],
	       (unsigned long long)counts[LPT_F_EMPTY],
	       (unsigned long long)counts[LPT_F_DEPTH]);
	free(g.mem);
	return 1;
}

/* LWC: LRU order, ASID flush, statistics. */
static int t_lwc(void)
{
	static struct lpt_map m[4];
	struct lpt_lwc_entry le[2];
	struct lpt_lwc c;
	struct env e;
	struct lpt_walk w;
	size_t n;

	n = add_run(m, 0, 0x400000, 4, LPT_SIZE_4K);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	lpt_lwc_init(&c, le, 2);
	CHECK(lpt_lookup(e.t, 0x400000, &c, &w) == 0 && w.lwc_misses == 1 &&
	      w.nlines == 2, "cold: node + table");
	CHECK(lpt_lookup(e.t, 0x401000, &c, &w) == 0 && w.lwc_hits == 1 &&
	      w.nlines == 1 && w.line_kind[0] == LPT_LINE_TABLE, "warm");
	CHECK(c.hits == 1 && c.misses == 1, "counts");
	lpt_lwc_flush_asid(&c, 1);
	CHECK(lpt_lookup(e.t, 0x401000, &c, &w) == 0 && w.lwc_hits == 1,
	      "other asid kept");
	lpt_lwc_flush_asid(&c, 0);
	CHECK(lpt_lookup(e.t, 0x401000, &c, &w) == 0 && w.lwc_misses == 1,
	      "flushed");
	CHECK(env_fini(&e), "leak");
	return 1;
}

static int overlaps(const struct lpt_map *m, uint64_t s, uint64_t e)
{
	return m->va < e && s < m->va + lpt_size_bytes(m->size);
}

/*
 * Unmap ranges of every kind (inside one page, cutting a 2M or 1G page,
 * spanning regions, empty, the whole space) from a fresh build of the
 * mixed layout, once by page and once by scan: exactly the overlapping
 * pages go, all copies included, and everything else still translates.
 */
static int t_remove_range(void)
{
	static struct lpt_map m[6000];
	static const uint64_t r[][2] = {
		{ 0x400000, 0x401000 },			/* first page */
		{ 0x400800, 0x400900 },			/* inside a page */
		{ 0x9ff000, 0xa01000 },			/* across two 2M pages */
		{ 0xa00000 + 0x123000, 0xa00000 + 0x124000 }, /* inside a 2M */
		{ 0x5800000, 0x5a00000 },		/* 4K run + a 2M */
		{ 0x100000000ULL + 0x1000, 0x100000000ULL + 0x2000 }, /* 1G */
		{ 0x3ff000, 0x10400000 },		/* low regions */
		{ 0x7efff0000000ULL, 0x7f0010000000ULL }, /* 1 GiB around mmap */
		{ 0x7f0000500000ULL, 0x7f0000700000ULL }, /* 4K end + 2M start */
		{ 0x600000000000ULL, 0x600040000000ULL }, /* nothing there */
		{ 0, ~0ULL },				/* everything */
		{ 0x7ffffff31000ULL, 0x7ffffff30000ULL }, /* end < start */
	};
	struct lpt_range_op op;
	struct env e;
	size_t n = mixed_layout(m), i, k, want;
	int strat;

	for (i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		for (strat = LPT_RANGE_BY_PAGE; strat <= LPT_RANGE_BY_SCAN; strat++) {
			CHECK(env_init(&e, 0), "create");
			CHECK(lpt_build(e.t, m, n) == 0, "build");
			memset(&op, 0, sizeof(op));
			op.start = r[i][0];
			op.end = r[i][1];
			op.remove = true;
			op.strategy = strat;
			/* By page over 2^35 pages would not finish: auto. */
			if (r[i][1] - r[i][0] > (1ULL << 32) &&
			    r[i][1] > r[i][0])
				op.strategy = LPT_RANGE_AUTO;
			__lpt_range(e.t, &op);
			want = 0;
			for (k = 0; k < n; k++) {
				uint64_t sz = lpt_size_bytes(m[k].size);

				if (!overlaps(&m[k], r[i][0], r[i][1])) {
					CHECK_KEEP(expect_map(e.t, &m[k], m[k].va));
					CHECK_KEEP(expect_map(e.t, &m[k], m[k].va + sz - 8));
					continue;
				}
				want++;
				CHECK_KEEP(expect_unmapped(e.t, m[k].va));
				CHECK_KEEP(expect_unmapped(e.t, m[k].va + sz / 2));
				CHECK_KEEP(expect_unmapped(e.t, m[k].va + sz - 8));
			}
			CHECK(op.hits == want, "range %zu strategy %d: removed %llu, want %zu",
			      i, strat, (unsigned long long)op.hits, want);
			CHECK(lpt_collect(e.t, NULL, 0) == n - want, "collect");
			CHECK(env_fini(&e), "leak");
		}
	}
	return 1;
}

/* Set @bits in the one slot the walker finds for @va (a "hardware" A/D). */
static int hw_set(struct env *e, uint64_t va, uint64_t bits, uint64_t *slot_pa)
{
	struct lpt_walk w;
	struct tl_block *b;

	if (lpt_lookup(e->t, va, NULL, &w) != LPT_OK)
		return 0;
	b = tl_find(&e->mem, w.entry_pa);
	if (!b || !b->va)
		return 0;
	*(uint64_t *)((char *)b->va + (w.entry_pa - b->pa)) |= bits;
	if (slot_pa)
		*slot_pa = w.entry_pa;
	return 1;
}

/*
 * Young tests as reclaim does them: A set by "hardware" in one copy of a
 * 2M page (the copy the walker finds for its last 4K) is seen through a
 * range that covers only that last 4K, and clearing it clears every copy;
 * a test without clear leaves A; write-protecting drops RW and D only.
 */
static int t_test_clear_range(void)
{
	static struct lpt_map m[6000];
	struct lpt_walk w;
	struct env e;
	uint64_t thp = 0x1000000ULL, last = thp + 0x1ff000;
	uint64_t pa0, pa1;
	size_t n, k;

	/*
	 * Mostly 4K pages and one 2M page: a 4 KiB-granule direct leaf, in
	 * which the 2M page has 512 copies.
	 */
	n = add_run(m, 0, 0x800000ULL, 2000, LPT_SIZE_4K);
	n = add_run(m, n, thp, 1, LPT_SIZE_2M);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	CHECK(hw_set(&e, last, LPT_PTE_A, &pa1), "set A");
	CHECK(lpt_lookup(e.t, thp, NULL, &w) == LPT_OK, "thp");
	pa0 = w.entry_pa;
	CHECK(pa0 != pa1, "the 2M page has one copy only: test needs copies");
	CHECK(lpt_test_clear_range(e.t, 0, ~0ULL, LPT_PTE_A, 0) == 1,
	      "one young page");
	CHECK(lpt_test_clear_range(e.t, thp, thp + 0x1000, LPT_PTE_A, 0) == 1,
	      "young through copy at %#llx (first at %#llx)",
	      (unsigned long long)pa1, (unsigned long long)pa0);
	CHECK(lpt_test_clear_range(e.t, last, last + 1, LPT_PTE_A, LPT_PTE_A) == 1,
	      "test and clear");
	CHECK(lpt_test_clear_range(e.t, 0, ~0ULL, LPT_PTE_A, 0) == 0, "all clear");
	CHECK(lpt_lookup(e.t, last, NULL, &w) == LPT_OK && !(w.pte & LPT_PTE_A),
	      "copy cleared");
	CHECK(env_fini(&e), "leak");

	n = mixed_layout(m);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	/* A 4K page and a 1G page young; a range over both counts two. */
	CHECK(hw_set(&e, 0x400000, LPT_PTE_A | LPT_PTE_D, NULL), "4K A");
	CHECK(hw_set(&e, 0x140000000ULL + 0x5000, LPT_PTE_A, NULL), "1G A");
	CHECK(lpt_test_clear_range(e.t, 0x400000, 0x180000000ULL, LPT_PTE_A,
				   LPT_PTE_A) == 2, "two young");
	CHECK(lpt_lookup(e.t, 0x400000, NULL, &w) == LPT_OK &&
	      (w.pte & LPT_PTE_D) && !(w.pte & LPT_PTE_A), "D kept");
	/* Write-protect the 4K run at 0x7f0000000000: RW and D go, P stays. */
	CHECK(lpt_test_clear_range(e.t, 0x7f0000000000ULL, 0x7f0000100000ULL,
				   LPT_PTE_RW, LPT_PTE_RW | LPT_PTE_D |
				   LPT_PTE_P) == 256, "256 writable");
	for (k = 0; k < n; k++) {
		uint64_t pte = m[k].pte;

		if (overlaps(&m[k], 0x7f0000000000ULL, 0x7f0000100000ULL))
			pte &= ~LPT_PTE_RW;
		CHECK(lpt_lookup(e.t, m[k].va, NULL, &w) == LPT_OK &&
		      (tl_wpte(&w) & ~(LPT_PTE_A | LPT_PTE_D)) == pte,
		      "va %#llx pte %#llx", (unsigned long long)m[k].va,
		      (unsigned long long)w.pte);
	}
	CHECK(env_fini(&e), "leak");
	return 1;
}

/*
 * The cost choice: unmapping 1 GiB around a 1,000-page table scans the
 * table's slots instead of making 262,144 lookups, and a single page is one
 * lookup even with many leaves.
 */
static int t_range_cost(void)
{
	static struct lpt_map m[6000];
	struct lpt_range_op op;
	struct lpt_stats s;
	struct env e;
	size_t n = mixed_layout(m);

	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	lpt_get_stats(e.t, &s);
	memset(&op, 0, sizeof(op));
	op.start = 0x7efff0000000ULL;
	op.end = op.start + (1ULL << 30);
	op.remove = true;
	__lpt_range(e.t, &op);
	CHECK(op.strategy == LPT_RANGE_BY_SCAN && op.steps <= s.slots,
	      "1 GiB: strategy %d, %llu steps for %llu slots", op.strategy,
	      (unsigned long long)op.steps, (unsigned long long)s.slots);
	CHECK(op.hits == 1005, "removed %llu", (unsigned long long)op.hits);
	memset(&op, 0, sizeof(op));
	op.start = 0x400000 + 7 * 4096;
	op.end = op.start + 4096;
	op.remove = true;
	__lpt_range(e.t, &op);
	CHECK(op.strategy == LPT_RANGE_BY_PAGE && op.steps == 1 && op.hits == 1,
	      "one page: strategy %d, %llu steps", op.strategy,
	      (unsigned long long)op.steps);
	CHECK_KEEP(expect_unmapped(e.t, 0x400000 + 7 * 4096));
	CHECK_KEEP(expect_map(e.t, &m[8], m[8].va));
	CHECK(env_fini(&e), "leak");
	return 1;
}


/* ---- DIRECT leaves (ABI v2) ---- */

/* A hand-built physical space: arena page, table page, sub-table page. */
struct hmem {
	uint64_t arena[512], tab[512], sub[512];
};

#define H_ARENA	0x10000000ULL
#define H_TAB	0x10001000ULL
#define H_SUB	0x10002000ULL

static int h_read8(void *ctx, uint64_t pa, uint64_t *val)
{
	struct hmem *h = ctx;

	if (pa >= H_ARENA && pa < H_ARENA + 0x3000) {
		uint64_t *pages[3] = { h->arena, h->tab, h->sub };

		*val = pages[(pa - H_ARENA) >> 12][(pa & 4095) / 8];
		return 0;
	}
	return -1;
}

/* Root node = DIRECT of shift @g over slots 0..511 starting at @x0. */
static uint64_t h_direct(struct hmem *h, unsigned int g, int64_t x0)
{
	memset(h, 0, sizeof(*h));
	h->arena[0] = lpt_node_pack(LPT_NODE_DIRECT, g, LPT_FIX_ONE, H_TAB >> 12);
	h->arena[1] = lpt_node_pack_w1(-x0 * LPT_FIX_ONE, 0);
	return lpt_root_pack(H_ARENA, 1, 0);
}

static int h_walk(struct hmem *h, uint64_t root, uint64_t va,
		  struct lpt_walk *w)
{
	return lpt_walk(root, va, h_read8, h, NULL, w);
}

/*
 * The walker on DIRECT nodes built by hand: every entry kind of every
 * granule, the line counts, and each way an entry or node is malformed.
 */
static int t_direct_walk(void)
{
	static struct hmem h;
	struct lpt_walk w;
	uint64_t root, pfn = 0x123400000ULL;

	/* 4 KiB granule: slot 5 = vpn 0x1005. */
	root = h_direct(&h, 0, 0x1000);
	h.tab[5] = pfn | LPT_PTE_P | LPT_PTE_RW;
	CHECK(h_walk(&h, root, 0x1005abcULL, &w) == LPT_OK &&
	      w.pa == (pfn | 0xabc) && w.size == LPT_SIZE_4K &&
	      w.nlines == 2 && w.probes == 1 &&
	      w.entry_pa == H_TAB + 5 * 8 && w.leaf_kind == LPT_NODE_DIRECT,
	      "4K: fault %d pa %#llx lines %u", w.fault,
	      (unsigned long long)w.pa, w.nlines);
	CHECK(h_walk(&h, root, 0x1006000ULL, &w) == LPT_F_NOENTRY, "zero word");
	h.tab[6] = 0x5000;	/* swap-like: P clear */
	CHECK(h_walk(&h, root, 0x1006000ULL, &w) == LPT_F_NOTPRESENT, "P clear");
	CHECK(h_walk(&h, root, 0xfff000ULL, &w) == LPT_F_RANGE, "below");
	CHECK(h_walk(&h, root, 0x1200000ULL, &w) == LPT_F_RANGE, "above");
	/* A 2 MiB copy in a 4 KiB leaf translates the whole 2 MiB page. */
	h.tab[7] = 0x40000000ULL | LPT_PTE_PS | LPT_PTE_P;
	CHECK(h_walk(&h, root, 0x1007123ULL, &w) == LPT_OK &&
	      w.size == LPT_SIZE_2M && w.pa == 0x40000000ULL + 0x7123,
	      "2M copy: fault %d pa %#llx", w.fault, (unsigned long long)w.pa);
	h.tab[7] |= 0x1000;	/* misaligned huge PFN */
	CHECK(h_walk(&h, root, 0x1007000ULL, &w) == LPT_F_BADENTRY, "2M PFN");

	/* 2 MiB granule: slot 2 a 2M page, slot 3 a sub-table. */
	root = h_direct(&h, 9, 0x40);
	h.tab[2] = 0x80000000ULL | LPT_PTE_PS | LPT_PTE_P | LPT_PTE_US;
	CHECK(h_walk(&h, root, (0x42ULL << 21) + 0x12345, &w) == LPT_OK &&
	      w.size == LPT_SIZE_2M && w.pa == 0x80012345ULL && w.nlines == 2,
	      "2M: fault %d", w.fault);
	h.tab[3] = H_SUB | LPT_PTE_P;
	h.sub[9] = pfn | LPT_PTE_P;
	CHECK(h_walk(&h, root, (0x43ULL << 21) + 9 * 4096 + 0x10, &w) == LPT_OK &&
	      w.size == LPT_SIZE_4K && w.pa == (pfn | 0x10) && w.nlines == 3 &&
	      w.probes == 2 && w.entry_pa == H_SUB + 9 * 8,
	      "sub-table: fault %d lines %u", w.fault, w.nlines);
	CHECK(h_walk(&h, root, (0x43ULL << 21) + 10 * 4096, &w) == LPT_F_NOENTRY,
	      "empty sub entry");
	h.sub[9] |= LPT_PTE_PS;
	CHECK(h_walk(&h, root, (0x43ULL << 21) + 9 * 4096, &w) == LPT_F_BADENTRY,
	      "PS in a sub-table");
	h.sub[9] &= ~LPT_PTE_PS;
	h.tab[3] |= LPT_PTE_RW;	/* pointers carry nothing but P and PFN */
	CHECK(h_walk(&h, root, (0x43ULL << 21) + 9 * 4096, &w) == LPT_F_BADENTRY,
	      "pointer reserved bits");

	/* 1 GiB granule: PS a 1G page, anything else with P is reserved. */
	root = h_direct(&h, 18, 1);
	h.tab[0] = 0x4000000000ULL | LPT_PTE_PS | LPT_PTE_P;
	CHECK(h_walk(&h, root, (1ULL << 30) + 0x3456789, &w) == LPT_OK &&
	      w.size == LPT_SIZE_1G && w.pa == 0x4003456789ULL, "1G");
	h.tab[1] = H_SUB | LPT_PTE_P;
	CHECK(h_walk(&h, root, 2ULL << 30, &w) == LPT_F_BADENTRY, "1G pointer");

	/* Malformed nodes. */
	root = h_direct(&h, 3, 0);
	CHECK(h_walk(&h, root, 0x1000, &w) == LPT_F_BADNODE, "shift 3");
	root = h_direct(&h, 0, 0);
	h.arena[1] |= 1ULL << 8;	/* intercept 2^-20 */
	CHECK(h_walk(&h, root, 0x1000, &w) == LPT_F_BADNODE, "fraction");
	return 1;
}

/*
 * Sub-tables through the library: a THP region with a few 4K pages gets
 * a 2 MiB-granule leaf; 4K pages come and go behind sub-tables, which are
 * freed when empty; 2M over a populated sub-table and 4K over a 2M page
 * overlap; a rescale keeps the sub-tables; collect sees everything.
 */
static int t_direct_subtables(void)
{
	static struct lpt_map m[64], out[64];
	uint64_t base = 0x7f0000000000ULL, sub = base + 10 * 0x200000;
	struct lpt_stats s;
	struct lpt_walk w;
	struct env e;
	size_t n;

	n = add_run(m, 0, base, 10, LPT_SIZE_2M);
	n = add_run(m, n, sub, 3, LPT_SIZE_4K);
	n = add_run(m, n, sub + 0x200000, 10, LPT_SIZE_2M);
	CHECK(env_init(&e, 0), "create");
	/* One node: the cost model would rather split off the 4K pages. */
	e.t->p.max_depth = 1;
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	lpt_get_stats(e.t, &s);
	CHECK(s.leaves == 1 && s.direct_leaves == 1 && s.subtables == 1,
	      "%u leaves, %u direct, %llu sub-tables", s.leaves,
	      s.direct_leaves, (unsigned long long)s.subtables);
	CHECK_KEEP(expect_all(e.t, m, n));
	CHECK(lpt_lookup(e.t, base, NULL, &w) == LPT_OK && w.nlines == 2,
	      "2M: %u lines", w.nlines);	/* node + slot */
	CHECK(lpt_lookup(e.t, sub, NULL, &w) == LPT_OK && w.nlines == 3,
	      "4K: %u lines", w.nlines);	/* node + slot + sub-table */
	CHECK(lpt_insert(e.t, sub, tl_pte(sub, 1), LPT_SIZE_2M) == -EEXIST,
	      "2M over a sub-table in use");
	CHECK(lpt_insert(e.t, base + 0x1000, tl_pte(0, 0), LPT_SIZE_4K) == -EEXIST,
	      "4K inside a 2M page");
	/* Empty the sub-table: it goes; then the 2M page fits. */
	CHECK(lpt_remove_range(e.t, sub, sub + 0x200000) == 3, "remove 4K");
	lpt_get_stats(e.t, &s);
	CHECK(s.subtables == 0, "%llu sub-tables left",
	      (unsigned long long)s.subtables);
	CHECK(lpt_insert(e.t, sub, tl_pte(sub, 1), LPT_SIZE_2M) == 0, "2M");
	CHECK(lpt_remove(e.t, sub) == 0, "remove 2M");
	CHECK(lpt_insert(e.t, sub + 0x5000, tl_pte(sub + 0x5000, 0),
			 LPT_SIZE_4K) == 0, "4K back");
	/* A 4K page below the leaf grows it to the left, sub-table kept. */
	CHECK(lpt_insert(e.t, base - (600ULL << 20), tl_pte(base - (600ULL << 20), 0),
			 LPT_SIZE_4K) == 0, "4K below");
	lpt_get_stats(e.t, &s);
	CHECK(s.subtables == 2 && s.rescales >= 1, "%llu sub-tables, %llu rescales",
	      (unsigned long long)s.subtables, (unsigned long long)s.rescales);
	CHECK(lpt_lookup(e.t, sub + 0x5000, NULL, &w) == LPT_OK &&
	      tl_wpte(&w) == tl_pte(sub + 0x5000, 0), "4K after rescale");
	CHECK(lpt_collect(e.t, out, 64) == 22, "collect %zu",
	      lpt_collect(e.t, NULL, 0));
	CHECK(out[0].va == base - (600ULL << 20) && out[0].size == LPT_SIZE_4K &&
	      out[11].va == sub + 0x5000 && out[11].pte == tl_pte(sub + 0x5000, 0),
	      "collect order");
	CHECK(lpt_insert(e.t, base, 0, LPT_SIZE_2M) == -EINVAL, "zero PTE");
	CHECK(env_fini(&e), "leak");
	return 1;
}


/*
 * Map two pages of @size at @va and @va + @step: the first insert must ask
 * for a retrain (the leaf's granule is wrong for them), lpt_map_page then
 * retrains, and the second goes in as well.
 */
static int retrain_then_map(struct env *e, uint64_t va, uint64_t step,
			    unsigned int size, const char *what)
{
	CHECK(lpt_insert(e->t, va, tl_pte(va, size), size) == LPT_NEED_RETRAIN,
	      "%s would dominate", what);
	CHECK(lpt_map_page(e->t, va, tl_pte(va, size), size) == 0,
	      "%s: map with retrain", what);
	CHECK(lpt_map_page(e->t, va + step, tl_pte(va + step, size), size) == 0,
	      "%s: the next one", what);
	return 1;
}

/*
 * A 2M page inserted into a 4 KiB-granule direct leaf: among many 4K pages
 * it takes 512 copies in place; into a leaf it would dominate (here one
 * grown for a single 4K page, as the kernel's VMA anchors grow them) it
 * asks for a retrain, which gives the THPs a 2 MiB-granule leaf.
 */
static int t_direct_thp_granule(void)
{
	static struct lpt_map m[3000];
	uint64_t heap = 0x7f0000000000ULL, thp = heap + 0x800000;
	uint64_t lone = 0x7e0000000000ULL;
	struct lpt_walk w;
	struct env e;
	size_t n;

	n = add_run(m, 0, heap, 2000, LPT_SIZE_4K);
	CHECK(env_init(&e, 0), "create");
	CHECK(lpt_build(e.t, m, n) == 0, "build");
	CHECK(lpt_insert(e.t, thp, tl_pte(thp, 1), LPT_SIZE_2M) == 0,
	      "2M among 4K: copies");
	CHECK(lpt_lookup(e.t, thp + 0x123456, NULL, &w) == LPT_OK &&
	      w.size == LPT_SIZE_2M, "copy walks");
	/* A leaf of its own for one 4K page, then THPs next to it. */
	CHECK(lpt_map_page(e.t, lone, tl_pte(lone, 0), LPT_SIZE_4K) == 0, "lone 4K");
	CHECK_KEEP(retrain_then_map(&e, lone + 0x200000, 0x200000, LPT_SIZE_2M,
				    "THP"));
	CHECK(lpt_lookup(e.t, lone + 0x400000, NULL, &w) == LPT_OK &&
	      w.size == LPT_SIZE_2M && w.leaf_kind == LPT_NODE_DIRECT, "THP");
	/* Its own granule: the 2 MiB entry itself, not one of 512 copies. */
	CHECK(lpt_lookup(e.t, lone + 0x5ff000, NULL, &w) == LPT_OK &&
	      tl_wpte(&w) == tl_pte(lone + 0x400000, 1), "walk");
	{
		struct lpt_walk w2;

		CHECK(lpt_lookup(e.t, lone + 0x400000, NULL, &w2) == LPT_OK &&
		      w2.entry_pa == w.entry_pa, "one entry for the whole THP");
	}
	/*
	 * The THPs go (split, unmapped) and the range is reused for 4K
	 * pages: not behind sub-tables for ever, a retrain gives 4 KiB.
	 */
	CHECK(lpt_remove(e.t, lone + 0x200000) == 0 &&
	      lpt_remove(e.t, lone + 0x400000) == 0, "THPs gone");
	CHECK_KEEP(retrain_then_map(&e, lone + 0x201000, 0x1000, LPT_SIZE_4K,
				    "4K"));
	CHECK(lpt_lookup(e.t, lone + 0x202000, NULL, &w) == LPT_OK &&
	      w.probes == 1, "4K in one entry: %u probes", w.probes);
	CHECK(env_fini(&e), "leak");
	return 1;
}

int main(void)
{
	static const struct {
		const char *name;
		int (*fn)(void);
	} tests[] = {
		{ "golden fixed-point and encoding vectors", t_golden },
		{ "empty table faults", t_empty },
		{ "dense 4K run: found, one reference", t_dense },
		{ "pages never inserted never translate", t_never_mapped },
		{ "deletes and re-inserts", t_delete },
		{ "in-bounds inserts fill gaps", t_gap_inserts },
		{ "rescaling at both edges", t_rescale },
		{ "growth next to other clusters: few retrains", t_growth },
		{ "mixed 4K/2M/1G pages", t_mixed_sizes },
		{ "DIRECT leaves: the walker on every entry kind", t_direct_walk },
		{ "DIRECT leaves: sub-tables come and go", t_direct_subtables },
		{ "DIRECT leaves: THPs get their own granule", t_direct_thp_granule },
		{ "contiguity oracle capped at 256 KB", t_contig_cap },
		{ "4K process-like layout meets targets", t_process_targets },
		{ "THP process-like layout meets targets", t_thp_process_targets },
		{ "sparse random pages", t_sparse_random },
		{ "slot reuse during a walk: no cross translation",
		  t_slot_reuse_race },
		{ "retrain on far inserts", t_retrain },
		{ "allocation failure keeps old table", t_alloc_failure },
		{ "update all copies, collect sorted", t_update_collect },
		{ "invalid input rejected", t_bad_input },
		{ "walker on garbage memory", t_garbage_walk },
		{ "walk cache LRU and ASID flush", t_lwc },
		{ "remove ranges: by page and by scan, all copies", t_remove_range },
		{ "test and clear A/RW over ranges, merged over copies",
		  t_test_clear_range },
		{ "range cost: 1 GiB scans, one page looks up", t_range_cost },
	};
	size_t i, nt = sizeof(tests) / sizeof(tests[0]);

	printf("1..%zu\n", nt);
	for (i = 0; i < nt; i++)
		tap(tests[i].fn(), tests[i].name);
	return tap_fail ? 1 : 0;
}
