/*
 * gen.c - synthetic address spaces for lptsim.  Each generator lays out what
 * a Linux x86-64 process plausibly looks like (PIE executable, [heap], mmap
 * area growing down from a randomised base, stack, vdso) and then populates
 * it in one of four ways: a dense heap, many sparse anonymous mmaps, a large
 * set of ASLR'd shared libraries, or adversarial uniformly random pages.
 * Physical frames come from a small model of a fragmented buddy allocator
 * (short contiguous runs at random places) because real PFN layouts are not
 * contiguous and some page-table designs care.  Everything is driven by one
 * seeded RNG so "--seed N" reproduces a file byte for byte.
 */
#include "gen.h"

#include <stdlib.h>
#include <string.h>

/* State shared by the layout helpers of one generator run. */
struct gen {
	struct lptsim_snapshot *snap;
	uint64_t rng;
	uint64_t target_pages;   /* 4K-equivalent pages to populate */
	uint64_t populated;      /* 4K-equivalent pages populated so far */
	unsigned int thp_percent;    /* chance an eligible 2M region becomes a THP */
	uint64_t phys_next;      /* next frame of the current physical run */
	uint64_t phys_left;      /* frames left in the current physical run */
};

/* Machine of 64 GiB: frames are drawn from [1 GiB, 64 GiB). */
#define GEN_PHYS_LO  (1ull << 18)
#define GEN_PHYS_HI  (16ull << 20)

/*
 * Fragmented physical memory: runs of 1..64 frames (mean ~8) at random
 * places, which is what a long-running machine's buddy allocator returns
 * for order-0 requests.
 */
static uint64_t gen_frame(struct gen *g)
{
	if (!g->phys_left) {
		g->phys_left = 1 + lptsim_rand_below(&g->rng, 16) *
			       (1 + lptsim_rand_below(&g->rng, 4));
		g->phys_next = GEN_PHYS_LO + lptsim_rand_below(&g->rng, GEN_PHYS_HI - GEN_PHYS_LO - 64);
	}
	g->phys_left--;
	return g->phys_next++;
}

static uint64_t gen_huge_frame(struct gen *g, unsigned int psize)
{
	uint64_t pages = lptsim_psize_pages(psize);
	uint64_t slots = (GEN_PHYS_HI - GEN_PHYS_LO) / pages;

	return GEN_PHYS_LO + lptsim_rand_below(&g->rng, slots) * pages;
}

/* Map one 4K page; writable pages are dirty most of the time. */
static void gen_page(struct gen *g, uint64_t vpn, const char *perms)
{
	unsigned int flags = lptsim_perms_flags(perms);

	if ((flags & LPTSIM_F_WRITE) && lptsim_rand_below(&g->rng, 10) < 7)
		flags |= LPTSIM_F_DIRTY;
	lptsim_snap_add_map(g->snap, vpn, gen_frame(g), LPTSIM_PS_4K, flags);
	g->populated++;
}

static int gen_full(const struct gen *g)
{
	return g->populated >= g->target_pages;
}

/*
 * Populate [vpn, vpn + pages) with runs of present pages separated by holes;
 * density is the present fraction in percent.  2M-aligned fully-present
 * stretches of anonymous memory become THPs with probability thp_percent.
 */
static void gen_populate(struct gen *g, uint64_t vpn, uint64_t pages,
			 const char *perms, unsigned int density, int anon)
{
	uint64_t end = vpn + pages;

	while (vpn < end && !gen_full(g)) {
		if (anon && g->thp_percent && !(vpn & 511) && vpn + 512 <= end &&
		    lptsim_rand_below(&g->rng, 100) < g->thp_percent) {
			unsigned int flags = lptsim_perms_flags(perms) | LPTSIM_F_DIRTY;

			lptsim_snap_add_map(g->snap, vpn, gen_huge_frame(g, LPTSIM_PS_2M),
					    LPTSIM_PS_2M, flags);
			g->populated += 512;
			vpn += 512;
			continue;
		}
		if (lptsim_rand_below(&g->rng, 100) < density)
			gen_page(g, vpn, perms);
		vpn++;
		/* Keep holes clustered: after a decision, repeat it for a short run. */
		while (vpn < end && (vpn & 7) && !gen_full(g)) {
			if (lptsim_rand_below(&g->rng, 100) < density)
				gen_page(g, vpn, perms);
			vpn++;
		}
	}
}

static void gen_vma(struct gen *g, uint64_t vpn, uint64_t pages, const char *perms,
		    const char *name)
{
	lptsim_snap_add_vma(g->snap, vpn << 12, (vpn + pages) << 12, perms, name);
}

/* Base layout every generator shares: PIE executable, stack, vdso. */
static uint64_t gen_common(struct gen *g, uint64_t *mmap_top)
{
	/* PIE base: 0x55XXXXXXX000 with 28 bits of randomness as on x86-64. */
	uint64_t exe = (0x550000000000ull >> 12) + lptsim_rand_below(&g->rng, 1ull << 28);
	uint64_t text = 16 + lptsim_rand_below(&g->rng, 256);
	uint64_t stack_top = (0x7ff000000000ull >> 12) + lptsim_rand_below(&g->rng, 1ull << 22);
	uint64_t vdso;

	gen_vma(g, exe, 2, "r--p", "/usr/bin/generated");
	gen_populate(g, exe, 2, "r--p", 100, 0);
	gen_vma(g, exe + 2, text, "r-xp", "/usr/bin/generated");
	gen_populate(g, exe + 2, text, "r-xp", 60, 0);
	gen_vma(g, exe + 2 + text, 4, "r--p", "/usr/bin/generated");
	gen_populate(g, exe + 2 + text, 4, "r--p", 100, 0);
	gen_vma(g, exe + 6 + text, 2, "rw-p", "/usr/bin/generated");
	gen_populate(g, exe + 6 + text, 2, "rw-p", 100, 1);

	gen_vma(g, stack_top - 33, 33, "rw-p", "[stack]");
	gen_populate(g, stack_top - 12, 12, "rw-p", 100, 1);
	vdso = stack_top + 64 + lptsim_rand_below(&g->rng, 1024);
	gen_vma(g, vdso, 4, "r--p", "[vvar]");
	gen_vma(g, vdso + 4, 2, "r-xp", "[vdso]");
	gen_populate(g, vdso + 4, 2, "r-xp", 100, 0);

	/* mmap_base: below the stack gap, randomised by 28 bits of pages. */
	*mmap_top = stack_top - (1ull << 15) - lptsim_rand_below(&g->rng, 1ull << 28);
	return exe + 8 + text;   /* end of the executable image */
}

static void gen_dense_heap(struct gen *g)
{
	uint64_t mmap_top, exe_end = gen_common(g, &mmap_top);
	/* brk starts a random distance (up to 32 MiB) above the executable. */
	uint64_t heap = exe_end + lptsim_rand_below(&g->rng, 8192);
	uint64_t heap_pages = g->target_pages + g->target_pages / 16 + 64;

	gen_vma(g, heap, heap_pages, "rw-p", "[heap]");
	/* malloc touches nearly everything it hands out: 97% dense. */
	gen_populate(g, heap, heap_pages, "rw-p", 97, 1);
}

static void gen_sparse_mmap(struct gen *g)
{
	uint64_t mmap_top;
	uint64_t cursor;

	gen_common(g, &mmap_top);
	cursor = mmap_top;
	while (!gen_full(g)) {
		/* Region sizes log-uniform over 16 pages .. 64 MiB. */
		uint64_t pages = 16ull << lptsim_rand_below(&g->rng, 11);
		unsigned int density = 5 + (unsigned int)lptsim_rand_below(&g->rng, 60);

		pages += lptsim_rand_below(&g->rng, pages);
		/* Gaps: adjacent, a guard page, or an unrelated hole. */
		cursor -= pages + (lptsim_rand_below(&g->rng, 3) ? 1 : lptsim_rand_below(&g->rng, 1 << 14));
		gen_vma(g, cursor, pages, "rw-p", "");
		gen_populate(g, cursor, pages, "rw-p", density, 1);
	}
}

static void gen_aslr_libs(struct gen *g)
{
	uint64_t mmap_top;
	uint64_t cursor;
	unsigned int lib = 0;
	char name[64];

	gen_common(g, &mmap_top);
	cursor = mmap_top;
	while (!gen_full(g)) {
		/* A shared object: headers, text, relro, data, optional bss. */
		uint64_t text = 4ull << lptsim_rand_below(&g->rng, 9);
		uint64_t hdr = 1 + text / 8, ro = 1 + text / 4, data = 1 + text / 16;
		uint64_t total = hdr + text + ro + data;
		uint64_t base;

		text += lptsim_rand_below(&g->rng, text);
		total = hdr + text + ro + data;
		/* Packed top-down like ld.so mappings, with occasional unrelated holes. */
		cursor -= total + (lptsim_rand_below(&g->rng, 4) ? 0 : lptsim_rand_below(&g->rng, 4096));
		base = cursor;
		snprintf(name, sizeof(name), "/usr/lib/x86_64-linux-gnu/libgen%u.so.%u",
			 lib++, (unsigned int)lptsim_rand_below(&g->rng, 9));
		gen_vma(g, base, hdr, "r--p", name);
		gen_populate(g, base, hdr, "r--p", 100, 0);
		gen_vma(g, base + hdr, text, "r-xp", name);
		gen_populate(g, base + hdr, text, "r-xp", 20 + (unsigned int)lptsim_rand_below(&g->rng, 70), 0);
		gen_vma(g, base + hdr + text, ro, "r--p", name);
		gen_populate(g, base + hdr + text, ro, "r--p", 50, 0);
		gen_vma(g, base + hdr + text + ro, data, "rw-p", name);
		gen_populate(g, base + hdr + text + ro, data, "rw-p", 100, 1);
	}
}

/*
 * Adversarial: pages at uniformly random addresses of a 46-bit window, a few
 * of them huge, so no model can exploit regularity.
 */
static void gen_random(struct gen *g)
{
	uint64_t lo = 0x10000000ull >> 12, hi = 0x7f0000000000ull >> 12;

	gen_vma(g, lo, hi - lo, "rw-p", "[random]");
	while (!gen_full(g)) {
		uint64_t roll = lptsim_rand_below(&g->rng, 1000);
		unsigned int psize = roll < 2 ? LPTSIM_PS_1G : roll < 30 ? LPTSIM_PS_2M : LPTSIM_PS_4K;
		uint64_t pages = lptsim_psize_pages(psize);
		uint64_t first = (lo + pages - 1) & ~(pages - 1);
		uint64_t vpn = first + lptsim_rand_below(&g->rng, (hi - first) / pages) * pages;
		uint64_t pfn = psize == LPTSIM_PS_4K ? gen_frame(g) : gen_huge_frame(g, psize);

		lptsim_snap_add_map(g->snap, vpn, pfn, psize,
				    LPTSIM_F_USER | LPTSIM_F_WRITE | LPTSIM_F_NX |
				    LPTSIM_F_ACCESSED | LPTSIM_F_DIRTY);
		/* Here --pages counts mappings: a huge page would otherwise end the run early. */
		g->populated++;
	}
}

/* Random pages can collide; keep the first mapping at each address. */
static void drop_overlaps(struct lptsim_snapshot *snap)
{
	size_t out = 0;

	for (size_t i = 0; i < snap->nmaps; i++) {
		if (out && snap->maps[i].vpn < snap->maps[out - 1].vpn +
		    lptsim_psize_pages(snap->maps[out - 1].psize))
			continue;
		snap->maps[out++] = snap->maps[i];
	}
	snap->nmaps = out;
}

static const struct {
	const char *name;
	void (*fill)(struct gen *g);
} generators[] = {
	{ "dense-heap", gen_dense_heap },
	{ "sparse-mmap", gen_sparse_mmap },
	{ "aslr-libs", gen_aslr_libs },
	{ "random", gen_random },
};

const char *lptsim_gen_names(void)
{
	return "dense-heap, sparse-mmap, aslr-libs, random";
}

int lptsim_generate(struct lptsim_snapshot *snap, const char *kind, uint64_t seed,
		    uint64_t pages, unsigned int thp_percent, struct lptsim_err *err)
{
	struct gen g = {
		.snap = snap,
		.rng = seed ^ 0x6c707473696dull,
		.target_pages = pages,
		.thp_percent = thp_percent,
	};
	char source[160];

	if (pages < 1 || pages > LPTSIM_GEN_MAX_PAGES)
		return lptsim_fail(err, "gen: --pages %llu out of range [1, %llu]",
				   (unsigned long long)pages, (unsigned long long)LPTSIM_GEN_MAX_PAGES);
	if (thp_percent > 100)
		return lptsim_fail(err, "gen: --thp %u is not a percentage", thp_percent);
	lptsim_snap_init(snap);
	for (size_t i = 0; i < sizeof(generators) / sizeof(generators[0]); i++) {
		if (strcmp(kind, generators[i].name))
			continue;
		generators[i].fill(&g);
		lptsim_snap_sort_maps(snap);
		drop_overlaps(snap);
		snprintf(source, sizeof(source), "gen %s seed=%llu pages=%llu thp=%u", kind,
			 (unsigned long long)seed, (unsigned long long)pages, thp_percent);
		snap->source = lptsim_xstrdup(source);
		if (lptsim_snap_finish(snap, "gen", err)) {
			lptsim_snap_free(snap);
			return -1;
		}
		return 0;
	}
	return lptsim_fail(err, "gen: unknown generator \"%s\" (have: %s)", kind,
			   lptsim_gen_names());
}
