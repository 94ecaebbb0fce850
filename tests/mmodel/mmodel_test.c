// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the machine-model core (lib/mmodel), run under ASan and
 * UBSan by `make mmodel-check`.  Each test is a scenario whose right
 * answer is known by hand: N distinct lines miss N times then hit N times,
 * LRU evicts in recency order, a chase bigger than the LLC goes to DRAM on
 * the node it lives on, the cycle formula on numbers worked out below, the
 * parser's every documented form and every rejected one.  Output is TAP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mmodel_testutil.h"

static char why[8192];	/* big enough for a whole formatted table */

#define CHECK(c, ...) do {						\
		if (!(c)) {						\
			snprintf(why, sizeof(why), __VA_ARGS__);	\
			return 0;					\
		}							\
	} while (0)

/* A hierarchy with storage, built from parameters. */
struct hier {
	struct mmodel_params p;
	struct mmodel_cache c[MMODEL_NR_CACHES];
	void *buf[MMODEL_NR_CACHES];
	struct mmodel_numa numa;
	struct mmodel_vcpu v;
};

static int hier_init(struct hier *h, const char *spec)
{
	char err[200];
	int l;

	memset(h, 0, sizeof(*h));
	if (mmodel_params_parse(&h->p, spec, err, sizeof(err))) {
		snprintf(why, sizeof(why), "spec '%s': %s", spec, err);
		return 0;
	}
	for (l = 0; l < MMODEL_NR_CACHES; l++) {
		size_t n = mmodel_cache_storage_bytes(&h->p.cache[l]);

		h->buf[l] = aligned_alloc(64, n);
		if (!h->buf[l] ||
		    mmodel_cache_init(&h->c[l], &h->p.cache[l], h->buf[l], n)) {
			snprintf(why, sizeof(why), "cache %d init failed", l);
			return 0;
		}
	}
	mmodel_numa_init(&h->numa);
	mmodel_vcpu_init(&h->v, &h->c[0], &h->c[1], &h->c[2], &h->numa);
	return 1;
}

static void hier_fini(struct hier *h)
{
	int l;

	for (l = 0; l < MMODEL_NR_CACHES; l++)
		free(h->buf[l]);
}

static int t_defaults(void)
{
	struct mmodel_params p;
	char err[128];

	mmodel_params_default(&p);
	CHECK(!mmodel_params_check(&p, err, sizeof(err)), "defaults: %s", err);
	CHECK(mmodel_node_cycles(&p, 0) == 252, "node0 %u cycles, want 252",
	      mmodel_node_cycles(&p, 0));
	CHECK(mmodel_node_cycles(&p, 1) == 700, "node1 %u cycles, want 700",
	      mmodel_node_cycles(&p, 1));
	CHECK(mmodel_node_cycles(&p, 2) == 0, "node2 should be absent");
	CHECK(mmodel_cache_storage_bytes(&p.cache[MMODEL_LLC]) ==
	      (22u << 20) / 64 * 8, "LLC storage %zu",
	      mmodel_cache_storage_bytes(&p.cache[MMODEL_LLC]));
	return 1;
}

/* N loads to N distinct lines: N DRAM misses, then N L1 hits. */
static int t_distinct_lines(void)
{
	struct hier h;
	const int n = 256;	/* 16 KiB: fits the 32 KiB L1 */
	int i, pass;

	if (!hier_init(&h, ""))
		return 0;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++)
			mmodel_data_access(&h.v, 0x100000 + i * 64 + 8, 8, false);
	CHECK(h.v.ctr.loads[MMODEL_DRAM] == (uint64_t)n &&
	      h.v.ctr.loads[MMODEL_L1] == (uint64_t)n &&
	      !h.v.ctr.loads[MMODEL_L2] && !h.v.ctr.loads[MMODEL_LLC],
	      "L1 %llu L2 %llu LLC %llu DRAM %llu, want %d/0/0/%d",
	      (unsigned long long)h.v.ctr.loads[0],
	      (unsigned long long)h.v.ctr.loads[1],
	      (unsigned long long)h.v.ctr.loads[2],
	      (unsigned long long)h.v.ctr.loads[3], n, n);
	CHECK(h.v.ctr.data_dram[0] == (uint64_t)n, "node0 DRAM %llu",
	      (unsigned long long)h.v.ctr.data_dram[0]);
	CHECK(!sum(h.v.ctr.stores, MMODEL_NR_LEVELS), "stores counted");
	hier_fini(&h);
	return 1;
}

/* One 4-way set: the victim is always the least recently used line. */
static int t_lru_order(void)
{
	struct mmodel_level_params lp = { 4 * 64, 4, 64, 1 };
	uint64_t tags[4], v;
	struct mmodel_cache c;
	const uint64_t A = 0, B = 64, C = 128, D = 192, E = 256, F = 320;

	CHECK(!mmodel_cache_init(&c, &lp, tags, sizeof(tags)), "init");
	CHECK(!mmodel_cache_access(&c, A, &v) && v == UINT64_MAX, "A cold");
	mmodel_cache_access(&c, B, &v);
	mmodel_cache_access(&c, C, &v);
	mmodel_cache_access(&c, D, &v);
	CHECK(v == UINT64_MAX, "no eviction while filling");
	CHECK(mmodel_cache_access(&c, A, &v), "A should hit");	/* order A D C B */
	CHECK(!mmodel_cache_access(&c, E, &v) && v == B,
	      "E evicted %#llx, want B", (unsigned long long)v);
	CHECK(mmodel_cache_access(&c, C, &v), "C should hit");	/* C E A D */
	CHECK(!mmodel_cache_access(&c, F, &v) && v == D,
	      "F evicted %#llx, want D", (unsigned long long)v);
	CHECK(!mmodel_cache_access(&c, B, &v) && v == A,
	      "B evicted %#llx, want A", (unsigned long long)v);
	CHECK(!mmodel_cache_contains(&c, A) && mmodel_cache_contains(&c, E),
	      "contents after evictions");
	mmodel_cache_reset(&c);
	CHECK(!mmodel_cache_contains(&c, B), "reset left B");
	return 1;
}

/*
 * Capacity: L1 is 64 sets x 8 ways.  A cyclic sweep of 512 lines fits;
 * 513 overflows set 0 only (9 lines there, LRU misses all 9 each lap);
 * 576 (9 per set) never hits in L1 at all and is served by L2.
 */
static int t_capacity(void)
{
	static const struct {
		int lines;
		uint64_t l1, l2;
	} c[] = { { 512, 512, 0 }, { 513, 504, 9 }, { 576, 0, 576 } };
	struct hier h;
	int i, pass, k;

	for (k = 0; k < 3; k++) {
		if (!hier_init(&h, ""))
			return 0;
		for (pass = 0; pass < 2; pass++)
			for (i = 0; i < c[k].lines; i++)
				mmodel_data_access(&h.v, (uint64_t)i * 64, 1, true);
		CHECK(h.v.ctr.stores[MMODEL_L1] == c[k].l1 &&
		      h.v.ctr.stores[MMODEL_L2] == c[k].l2 &&
		      h.v.ctr.stores[MMODEL_DRAM] == (uint64_t)c[k].lines,
		      "%d lines: L1 %llu L2 %llu DRAM %llu, want %llu/%llu/%d",
		      c[k].lines, (unsigned long long)h.v.ctr.stores[MMODEL_L1],
		      (unsigned long long)h.v.ctr.stores[MMODEL_L2],
		      (unsigned long long)h.v.ctr.stores[MMODEL_DRAM],
		      (unsigned long long)c[k].l1, (unsigned long long)c[k].l2,
		      c[k].lines);
		hier_fini(&h);
	}
	return 1;
}

/* Conflict: 9 lines one L1 set apart thrash the 8-way set, L2 holds them. */
static int t_conflict(void)
{
	struct hier h;
	int i, pass;

	if (!hier_init(&h, ""))
		return 0;
	for (pass = 0; pass < 3; pass++)
		for (i = 0; i < 9; i++)
			mmodel_data_access(&h.v, (uint64_t)i * 4096, 4, false);
	CHECK(!h.v.ctr.loads[MMODEL_L1] && h.v.ctr.loads[MMODEL_L2] == 18 &&
	      h.v.ctr.loads[MMODEL_DRAM] == 9,
	      "L1 %llu L2 %llu DRAM %llu, want 0/18/9",
	      (unsigned long long)h.v.ctr.loads[MMODEL_L1],
	      (unsigned long long)h.v.ctr.loads[MMODEL_L2],
	      (unsigned long long)h.v.ctr.loads[MMODEL_DRAM]);
	hier_fini(&h);
	return 1;
}

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * A pointer chase over 128 MiB (about 6x the 22 MiB LLC) living on node 1:
 * a random cyclic permutation of its lines, followed twice.  The second
 * lap must be nearly all DRAM, all of it node 1's, and the cycles must
 * charge node 1's latency.
 */
static int t_pointer_chase(void)
{
	const uint32_t lines = (128u << 20) / 64;
	const uint64_t base = 1ULL << 30;
	struct mmodel_breakdown b;
	struct hier h;
	uint32_t *next, i, cur;
	uint64_t before;

	if (!hier_init(&h, ""))
		return 0;
	CHECK(!mmodel_numa_add(&h.numa, 0, base, 0) &&
	      !mmodel_numa_add(&h.numa, base, 2 * base, 1), "numa map");
	next = malloc(lines * sizeof(*next));
	CHECK(next, "malloc");
	/* Sattolo's shuffle: one cycle through every line. */
	for (i = 0; i < lines; i++)
		next[i] = i;
	for (i = lines - 1; i > 0; i--) {
		uint32_t j = rnd() % i, t = next[i];

		next[i] = next[j];
		next[j] = t;
	}
	for (cur = 0, i = 0; i < lines; i++, cur = next[cur])
		mmodel_data_access(&h.v, base + (uint64_t)cur * 64, 8, false);
	before = h.v.ctr.loads[MMODEL_DRAM];
	for (i = 0; i < lines; i++, cur = next[cur])
		mmodel_data_access(&h.v, base + (uint64_t)cur * 64, 8, false);
	free(next);
	CHECK(before == lines, "first lap %llu DRAM, want %u",
	      (unsigned long long)before, lines);
	CHECK(h.v.ctr.loads[MMODEL_DRAM] - before >= lines / 100 * 95,
	      "second lap %llu DRAM of %u steps",
	      (unsigned long long)(h.v.ctr.loads[MMODEL_DRAM] - before), lines);
	CHECK(h.v.ctr.data_dram[1] == h.v.ctr.loads[MMODEL_DRAM] &&
	      !h.v.ctr.data_dram[0], "node0 %llu node1 %llu",
	      (unsigned long long)h.v.ctr.data_dram[0],
	      (unsigned long long)h.v.ctr.data_dram[1]);
	mmodel_cycles(&h.p, &h.v.ctr, &b);
	CHECK(b.dram_node[1] == h.v.ctr.data_dram[1] * 700 &&
	      b.data[MMODEL_DRAM] == b.dram_node[1],
	      "node1 DRAM cycles %llu", (unsigned long long)b.dram_node[1]);
	hier_fini(&h);
	return 1;
}

/* Accesses crossing line boundaries count every line they touch. */
static int t_straddle(void)
{
	struct hier h;
	uint64_t n;

	if (!hier_init(&h, ""))
		return 0;
	mmodel_data_access(&h.v, 0x1000 + 60, 8, false);	/* 2 lines */
	CHECK(h.v.ctr.loads[MMODEL_DRAM] == 2, "8 bytes at 60: %llu lines",
	      (unsigned long long)h.v.ctr.loads[MMODEL_DRAM]);
	mmodel_data_access(&h.v, 0x1000 + 64, 8, false);	/* 2nd line, hit */
	CHECK(h.v.ctr.loads[MMODEL_L1] == 1, "second line should hit");
	mmodel_data_access(&h.v, 0x8000, 4096, true);		/* 64 lines */
	CHECK(h.v.ctr.stores[MMODEL_DRAM] == 64, "4096 bytes: %llu lines",
	      (unsigned long long)h.v.ctr.stores[MMODEL_DRAM]);
	mmodel_data_access(&h.v, 0x8000 + 63, 1, false);
	mmodel_data_access(&h.v, 0xa000, 0, false);		/* 0 = 1 byte */
	n = sum(h.v.ctr.loads, MMODEL_NR_LEVELS);
	CHECK(n == 5, "loads %llu, want 5", (unsigned long long)n);
	/* Wrapping past the top of the address space still ends. */
	mmodel_data_access(&h.v, UINT64_MAX - 3, 8, false);
	CHECK(sum(h.v.ctr.loads, MMODEL_NR_LEVELS) == 7, "wrap: %llu",
	      (unsigned long long)sum(h.v.ctr.loads, MMODEL_NR_LEVELS));
	/* The uncounted primitive reports the deepest line. */
	CHECK(mmodel_access(h.v.l1, h.v.l2, h.v.llc, 0x8000 + 4090, 16,
			    false) == MMODEL_DRAM, "deepest of L1+DRAM");
	CHECK(mmodel_access(h.v.l1, h.v.l2, h.v.llc, 0x8000 + 4090, 16,
			    false) == MMODEL_L1, "both lines now in L1");
	hier_fini(&h);
	return 1;
}

/* Two vCPUs, private L1/L2, one LLC: the second finds the line there. */
static int t_shared_llc(void)
{
	struct hier h;
	struct mmodel_cache l1b, l2b;
	struct mmodel_vcpu vb;
	size_t n1 = mmodel_cache_storage_bytes(&(struct mmodel_level_params){
		32 << 10, 8, 64, 5 });
	size_t n2 = mmodel_cache_storage_bytes(&(struct mmodel_level_params){
		1 << 20, 16, 64, 14 });
	void *b1 = aligned_alloc(64, n1), *b2 = aligned_alloc(64, n2);

	if (!hier_init(&h, ""))
		return 0;
	CHECK(b1 && b2 && !mmodel_cache_init(&l1b, &h.p.cache[0], b1, n1) &&
	      !mmodel_cache_init(&l2b, &h.p.cache[1], b2, n2), "init");
	mmodel_vcpu_init(&vb, &l1b, &l2b, h.v.llc, &h.numa);
	CHECK(mmodel_data_access(&h.v, 0x5000, 8, false) == MMODEL_DRAM, "A cold");
	CHECK(mmodel_data_access(&vb, 0x5000, 8, false) == MMODEL_LLC,
	      "B should hit the shared LLC");
	CHECK(mmodel_walk_access(&vb, 0x5008, MMODEL_WALK_S2) == MMODEL_L1 &&
	      vb.ctr.walk[MMODEL_WALK_S2][MMODEL_L1] == 1 &&
	      !sum(vb.ctr.walk[MMODEL_WALK_S1], MMODEL_NR_LEVELS),
	      "walk reference counted as stage-2 L1");
	CHECK(mmodel_walk_access(&vb, 0x777000, MMODEL_WALK_2D) == MMODEL_DRAM &&
	      vb.ctr.walk_dram[MMODEL_WALK_2D][0] == 1 &&
	      !sum(vb.ctr.data_dram, MMODEL_MAX_NODES),
	      "walk DRAM counted apart from data");
	free(b1);
	free(b2);
	hier_fini(&h);
	return 1;
}

static int t_cache_init(void)
{
	struct mmodel_level_params lp = { 4096, 4, 64, 3 };
	uint64_t st[65];
	struct mmodel_cache c;

	CHECK(mmodel_cache_storage_bytes(&lp) == 64 * 8, "storage");
	CHECK(mmodel_cache_init(&c, &lp, st, 64 * 8 - 1), "short buffer taken");
	CHECK(mmodel_cache_init(&c, &lp, (char *)st + 4, 64 * 8),
	      "misaligned buffer taken");
	lp.size = 3 * 4 * 64;
	CHECK(!mmodel_cache_storage_bytes(&lp), "3 sets accepted");
	lp.size = 4096;
	lp.line = 32;
	CHECK(!mmodel_cache_storage_bytes(&lp), "32-byte line accepted");
	lp.line = 64;
	CHECK(!mmodel_cache_init(&c, &lp, st, sizeof(st)), "good init");
	return 1;
}

static int t_numa(void)
{
	struct mmodel_numa m;

	mmodel_numa_init(&m);
	CHECK(mmodel_numa_node(&m, 12345) == 0, "empty map");
	CHECK(!mmodel_numa_add(&m, 0x40000000, 0x80000000, 1), "add 1");
	CHECK(!mmodel_numa_add(&m, 0, 0x20000000, 0), "add 0");
	CHECK(!mmodel_numa_add(&m, 0x80000000, 0x90000000, 7), "add 7");
	CHECK(mmodel_numa_add(&m, 0x7fffffff, 0x80000001, 2), "overlap taken");
	CHECK(mmodel_numa_add(&m, 0x10, 0x10, 2), "empty range taken");
	CHECK(mmodel_numa_add(&m, 0xa0000000, 0xb0000000, 8), "node 8 taken");
	CHECK(mmodel_numa_node(&m, 0x3fffffff) == 0 &&
	      mmodel_numa_node(&m, 0x40000000) == 1 &&
	      mmodel_numa_node(&m, 0x7fffffff) == 1 &&
	      mmodel_numa_node(&m, 0x80000000) == 7 &&
	      mmodel_numa_node(&m, 0x90000000) == 0, "lookups");
	return 1;
}

/* Every documented form is accepted, means what it says and round-trips. */
static int t_parse_ok(void)
{
	static const struct {
		const char *spec;
		uint32_t freq, cpi, l1_lat;
		uint64_t llc_size;
		uint32_t node1;
	} ok[] = {
		{ "", 2800, 700, 5, 22 << 20, 250 },
		{ "freq=2500", 2500, 700, 5, 22 << 20, 250 },
		{ "freq=2500MHz,cpi=1", 2500, 1000, 5, 22 << 20, 250 },
		{ "cpi=0.7", 2800, 700, 5, 22 << 20, 250 },
		{ "cpi=0.705", 2800, 705, 5, 22 << 20, 250 },
		{ "cpi=1.05", 2800, 1050, 5, 22 << 20, 250 },
		{ "l1d=32K/8/4", 2800, 700, 4, 22 << 20, 250 },
		{ "l1d=32768/8/4/64,l1d=48k/12/6", 2800, 700, 6, 22 << 20, 250 },
		{ "llc=16M/16/50", 2800, 700, 5, 16 << 20, 250 },
		{ "llc=1G/16/60,node0=100", 2800, 700, 5, 1ULL << 30, 250 },
		{ "node1=off", 2800, 700, 5, 22 << 20, 0 },
		{ "node1=300ns,node7=400", 2800, 700, 5, 22 << 20, 300 },
		{ "freq=2000,freq=3000", 3000, 700, 5, 22 << 20, 250 },
		{ "freq=2500,cpi=0.70,l1d=32K/8/5,l2=1M/16/14,llc=16M/16/50,"
		  "node0=90ns,node1=250ns,vmrun=1000,vmexit=900c,flush=150",
		  2500, 700, 5, 16 << 20, 250 },
	};
	struct mmodel_params p, q;
	char err[200], spec[512];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		CHECK(!mmodel_params_parse(&p, ok[i].spec, err, sizeof(err)),
		      "'%s' rejected: %s", ok[i].spec, err);
		CHECK(p.freq_mhz == ok[i].freq && p.cpi_milli == ok[i].cpi &&
		      p.cache[MMODEL_L1].latency == ok[i].l1_lat &&
		      p.cache[MMODEL_LLC].size == ok[i].llc_size &&
		      p.node_ns[1] == ok[i].node1,
		      "'%s': freq %u cpi %u l1 %u llc %llu node1 %u",
		      ok[i].spec, p.freq_mhz, p.cpi_milli,
		      p.cache[MMODEL_L1].latency,
		      (unsigned long long)p.cache[MMODEL_LLC].size,
		      p.node_ns[1]);
		CHECK(mmodel_params_format(&p, spec, sizeof(spec)) <
		      (int)sizeof(spec), "format too long");
		CHECK(!mmodel_params_parse(&q, spec, err, sizeof(err)) &&
		      !memcmp(&p, &q, sizeof(p)), "'%s' does not round-trip: %s",
		      spec, err);
	}
	CHECK(!mmodel_params_parse(&p, NULL, err, sizeof(err)), "NULL spec");
	mmodel_params_parse(&p, "vmrun=1000,vmexit=900c,flush=150", err, 1);
	CHECK(p.vmrun_cycles == 1000 && p.vmexit_cycles == 900 &&
	      p.flush_cycles == 150, "world switch / flush keys");
	return 1;
}

/* Every bad form is refused with a message naming the key and why. */
static int t_parse_bad(void)
{
	static const struct {
		const char *spec, *msg;
	} bad[] = {
		{ "bogus=1", "key 'bogus': unknown key" },
		{ "node8=90", "key 'node8': unknown key" },
		{ "freq=abc", "key 'freq': not a number" },
		{ "freq=-5", "key 'freq': not a number" },
		{ "freq=99999999999999999999999", "key 'freq': number too large" },
		{ "freq=100001", "key 'freq': number too large" },
		{ "freq=0", "key 'freq': must not be zero" },
		{ "cpi=0", "key 'cpi': must not be zero" },
		{ "cpi=0.0001", "key 'cpi': more than 3 digits after the decimal point" },
		{ "cpi=1.2.3", "key 'cpi': not a number" },
		{ "cpi=101", "key 'cpi': number too large" },
		{ "cpi=.", "key 'cpi': not a number" },
		{ "l1d=48K/8/5", "key 'l1d': number of sets (size / (ways x line)) is not a" },
		{ "l1d=32K/0/5", "key 'l1d': ways: must not be zero" },
		{ "l1d=64K/128/5", "key 'l1d': ways out of range 1..64" },
		{ "l1d=1000/8/5", "key 'l1d': size is not a multiple of ways x line" },
		{ "l1d=32K/8/5/128", "key 'l1d': line size must be 64" },
		{ "l1d=32K/8/0", "key 'l1d': latency: must not be zero" },
		{ "l1d=32K/8", "key 'l1d': too few fields" },
		{ "l1d=32K/8/5/64/1", "key 'l1d': too many fields" },
		{ "l1d=32K//5", "key 'l1d': empty field ways" },
		{ "l1d=/8/5", "key 'l1d': empty field size" },
		{ "l1d=32X/8/5", "key 'l1d': size: not a number" },
		{ "llc=2048G/16/50", "key 'llc': size: number too large" },
		{ "l2=99999999999999999999K/16/14", "key 'l2': size: number too large" },
		{ "l2=1M/16/4", "key 'l2': latency must be greater than the l1d latency" },
		{ "l2=1M/16/5", "key 'l2': latency must be greater than the l1d latency" },
		{ "llc=16M/16/10", "key 'llc': latency must be greater than the l2 latency" },
		{ "llc=16M/16/300", "key 'node0': DRAM latency in cycles is below the llc" },
		{ "node1=10ns", "key 'node1': DRAM latency in cycles is below the llc latency" },
		{ "node0=off", "key 'node0': node 0 must have a DRAM latency" },
		{ "node0=200000", "key 'node0': number too large" },
		{ "vmrun=x", "key 'vmrun': not a number" },
		{ "flush=0", "key 'flush': must not be zero" },
		{ "freq=2500,,cpi=1", "empty item in the spec" },
		{ ",freq=2500", "empty item in the spec" },
		{ "freq=2500,", "empty item in the spec (trailing ',')" },
		{ ",", "empty item in the spec" },
		{ "freq", "item 'freq' is not key=value" },
		{ "=5", "item '=5' has no key" },
		{ "freq=", "key 'freq': empty value" },
		{ "freq =2500", "key 'freq ': unknown key" },
	};
	struct mmodel_params p, d;
	char err[200];
	size_t i;

	mmodel_params_default(&d);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(err, 'x', sizeof(err));
		CHECK(mmodel_params_parse(&p, bad[i].spec, err, sizeof(err)),
		      "'%s' accepted", bad[i].spec);
		CHECK(strstr(err, bad[i].msg) && !strncmp(err, "mmodel: ", 8),
		      "'%s': message '%s', want '%s'", bad[i].spec, err,
		      bad[i].msg);
		CHECK(!memcmp(&p, &d, sizeof(p)), "'%s' left non-defaults",
		      bad[i].spec);
	}
	/* A short buffer is cut, still terminated; none is not written. */
	memset(err, 'x', sizeof(err));
	CHECK(mmodel_params_parse(&p, "bogus=1", err, 10) && err[9] == 0 &&
	      strlen(err) == 9 && err[10] == 'x', "truncation: '%.12s'", err);
	CHECK(mmodel_params_parse(&p, "bogus=1", NULL, 0), "NULL err");
	p.cache[MMODEL_L2].line = 32;
	CHECK(mmodel_params_check(&p, err, sizeof(err)) &&
	      strstr(err, "key 'l2': line size must be 64"), "check: %s", err);
	return 1;
}

/*
 * The formula on numbers worked out by hand: freq 1000 MHz (1 ns = 1
 * cycle), CPI 1.5, latencies 4/12/40, node0 100, node1 300, VMRUN 500,
 * #VMEXIT 700, flush 200.
 */
static int t_cycles(void)
{
	struct mmodel_params p;
	struct mmodel_counters c;
	struct mmodel_breakdown b;
	char err[200];

	CHECK(!mmodel_params_parse(&p, "freq=1000,cpi=1.5,l1d=32K/8/4,"
				   "l2=1M/16/12,llc=16M/16/40,node0=100,"
				   "node1=300,vmrun=500,vmexit=700,flush=200",
				   err, sizeof(err)), "%s", err);
	memset(&c, 0, sizeof(c));
	c.insns[MMODEL_USER] = 1000;		/* 1500 */
	c.insns[MMODEL_KERNEL] = 2001;		/* 3001.5 -> 3001 */
	c.insns[MMODEL_NESTED] = 10;		/* 15 */
	c.loads[MMODEL_L1] = 100;
	c.stores[MMODEL_L1] = 50;		/* 150 x 4 = 600 */
	c.loads[MMODEL_L2] = 10;		/* 120 */
	c.stores[MMODEL_LLC] = 5;		/* 200 */
	c.loads[MMODEL_DRAM] = 4;
	c.stores[MMODEL_DRAM] = 1;
	c.data_dram[0] = 3;			/* 300 */
	c.data_dram[1] = 2;			/* 600 */
	c.walk[MMODEL_WALK_S1][MMODEL_L1] = 7;	/* 28 */
	c.walk[MMODEL_WALK_S1][MMODEL_L2] = 3;	/* 36 */
	c.walk[MMODEL_WALK_S2][MMODEL_LLC] = 2;	/* 80 */
	c.walk[MMODEL_WALK_2D][MMODEL_DRAM] = 1;
	c.walk_dram[MMODEL_WALK_2D][1] = 1;	/* 300 */
	c.vmrun = 2;				/* 1000 */
	c.vmexit = 3;				/* 2100 */
	c.flushes = 4;				/* 800 */
	mmodel_cycles(&p, &c, &b);
	CHECK(b.insn[0] == 1500 && b.insn[1] == 3001 && b.insn[2] == 15,
	      "insn %llu %llu %llu", (unsigned long long)b.insn[0],
	      (unsigned long long)b.insn[1], (unsigned long long)b.insn[2]);
	CHECK(b.data[0] == 600 && b.data[1] == 120 && b.data[2] == 200 &&
	      b.data[3] == 900, "data %llu %llu %llu %llu",
	      (unsigned long long)b.data[0], (unsigned long long)b.data[1],
	      (unsigned long long)b.data[2], (unsigned long long)b.data[3]);
	CHECK(b.walk[0][0] == 28 && b.walk[0][1] == 36 && b.walk[1][2] == 80 &&
	      b.walk[2][3] == 300, "walk terms");
	CHECK(b.dram_node[0] == 300 && b.dram_node[1] == 900, "dram by node");
	CHECK(b.vmrun == 1000 && b.vmexit == 2100 && b.flush == 800,
	      "switch/flush terms");
	CHECK(b.total == 10680 && !b.saturated, "total %llu, want 10680",
	      (unsigned long long)b.total);
	return 1;
}

static int t_overflow(void)
{
	struct mmodel_params p;
	struct mmodel_counters c, d;
	struct mmodel_breakdown b;

	mmodel_params_default(&p);
	memset(&c, 0, sizeof(c));
	c.insns[MMODEL_USER] = UINT64_MAX / 2;
	p.cpi_milli = 1000;
	mmodel_cycles(&p, &c, &b);
	CHECK(b.insn[0] == UINT64_MAX / 2 && !b.saturated,
	      "n x 1.000 = %llu", (unsigned long long)b.insn[0]);
	c.insns[MMODEL_KERNEL] = UINT64_MAX / 2 + 1;
	mmodel_cycles(&p, &c, &b);
	CHECK(b.total == UINT64_MAX && !b.saturated, "exact UINT64_MAX sum");
	c.insns[MMODEL_NESTED] = 1;
	mmodel_cycles(&p, &c, &b);
	CHECK(b.total == UINT64_MAX && b.saturated, "sum did not saturate");
	memset(&c, 0, sizeof(c));
	c.insns[MMODEL_USER] = UINT64_MAX;
	p.cpi_milli = 100000;
	mmodel_cycles(&p, &c, &b);
	CHECK(b.insn[0] == UINT64_MAX && b.saturated, "product did not saturate");
	memset(&c, 0, sizeof(c));
	c.data_dram[1] = UINT64_MAX / 100;
	c.vmexit = UINT64_MAX / 10;
	mmodel_cycles(&p, &c, &b);
	CHECK(b.dram_node[1] == UINT64_MAX && b.vmexit == UINT64_MAX &&
	      b.saturated && b.total == UINT64_MAX, "DRAM/vmexit saturation");
	d = c;
	mmodel_counters_add(&d, &c);
	CHECK(d.vmexit == UINT64_MAX / 10 * 2 && d.data_dram[1] ==
	      UINT64_MAX / 100 * 2, "counters_add");
	c.vmexit = UINT64_MAX;
	mmodel_counters_add(&d, &c);
	CHECK(d.vmexit == UINT64_MAX, "counters_add saturation");
	return 1;
}

static int t_format(void)
{
	struct mmodel_breakdown b;
	char buf[4096], small[16];
	int n, k;

	memset(&b, 0, sizeof(b));
	b.insn[MMODEL_USER] = 750;
	b.data[MMODEL_DRAM] = 250;
	b.dram_node[1] = 250;
	b.total = 1000;
	n = mmodel_format_table(&b, buf, sizeof(buf));
	CHECK(n > 0 && n < (int)sizeof(buf) && strstr(buf, "insn.user") &&
	      strstr(buf, "75.0%") && strstr(buf, "dram.node1") &&
	      strstr(buf, "total"), "table:\n%s", buf);
	k = mmodel_format_table(&b, small, sizeof(small));
	CHECK(k == n && strlen(small) == sizeof(small) - 1,
	      "truncated table returns %d, want %d", k, n);
	CHECK(mmodel_format_table(&b, NULL, 0) == n, "length probe");
	n = mmodel_format_csv(&b, buf, sizeof(buf));
	CHECK(n > 0 && !strncmp(buf, "term,cycles,permille,in_total\n", 30) &&
	      strstr(buf, "\ninsn.user,750,750,1\n") &&
	      strstr(buf, "\ndram.node1,250,250,0\n") &&
	      strstr(buf, "\ntotal,1000,1000,1\n"), "csv:\n%s", buf);
	n = mmodel_format_json(&b, buf, sizeof(buf));
	CHECK(n > 0 && buf[0] == '{' && strstr(buf, "\"insn.user\": 750") &&
	      strstr(buf, "\"total\": 1000, \"saturated\": false}"),
	      "json: %s", buf);
	CHECK(mmodel_format_json(NULL, buf, sizeof(buf)) < 0, "NULL breakdown");
	return 1;
}

static const struct {
	const char *name;
	int (*fn)(void);
} tests[] = {
	{ "defaults are valid and convert ns to cycles", t_defaults },
	{ "N loads to N distinct lines: N misses then N L1 hits", t_distinct_lines },
	{ "LRU evicts the least recently used way, in order", t_lru_order },
	{ "capacity eviction: sweeps of 512, 513 and 576 lines", t_capacity },
	{ "conflict eviction: 9 lines in an 8-way set", t_conflict },
	{ "pointer chase over 6x LLC: ~1 DRAM access per step on node 1", t_pointer_chase },
	{ "straddling accesses count every line", t_straddle },
	{ "shared LLC between two vCPUs; walk refs counted apart", t_shared_llc },
	{ "cache init rejects bad geometry and storage", t_cache_init },
	{ "NUMA node lookup from [start,end) ranges", t_numa },
	{ "parser accepts every documented form and round-trips", t_parse_ok },
	{ "parser rejects each bad form with the expected message", t_parse_bad },
	{ "cycle formula on hand-computed numbers", t_cycles },
	{ "cycle arithmetic saturates instead of wrapping", t_overflow },
	{ "breakdown as table, CSV and JSON", t_format },
};

int main(void)
{
	size_t i, n = ARRAY_SIZE(tests);
	int failed = 0;

	printf("1..%zu\n", n);
	for (i = 0; i < n; i++) {
		why[0] = 0;
		if (tests[i].fn()) {
			printf("ok %zu - %s\n", i + 1, tests[i].name);
		} else {
			printf("not ok %zu - %s\n#   %s\n", i + 1, tests[i].name,
			       why);
			failed++;
		}
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
