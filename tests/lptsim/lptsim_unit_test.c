/*
 * lptsim_unit_test.c - unit tests for the pieces of lptsim, compiled with the
 * tool's own sources under ASan+UBSan.  Each case states its scenario in
 * numbers (as the DAMON KUnit tests do) so a failure reads as a broken
 * specification: the radix cases pin the reference counts the SDM implies,
 * the ECPT cases pin probes per walk for each cuckoo-walk-cache outcome, the
 * snapshot cases pin the file format's round trip and its validation, and the
 * learned-page-table case checks that every page of a generated snapshot
 * translates to its own frame through the library's reference walker while an
 * unmapped address faults.  Output is TAP; the plan comes last.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ecpt.h"
#include "gen.h"
#include "lptm.h"
#include "lru.h"
#include "radix.h"
#include "trace.h"

static int test_no, failures;

static void ok(int cond, const char *name)
{
	test_no++;
	printf("%sok %d - %s\n", cond ? "" : "not ", test_no, name);
	if (!cond)
		failures++;
}

static void test_crc32_check_value(void)
{
	/* The CRC-32/IEEE check value of "123456789". */
	ok(lptsim_crc32(0, "123456789", 9) == 0xcbf43926u, "crc32 check value cbf43926");
}

static void test_refstats_mean_and_p99(void)
{
	struct lptsim_refstats s = { 0 };

	/* 990 one-reference walks and 10 four-reference walks: mean 1.03, p99 1, max 4. */
	for (int i = 0; i < 990; i++)
		lptsim_refstats_add(&s, 1);
	for (int i = 0; i < 10; i++)
		lptsim_refstats_add(&s, 4);
	ok(s.walks == 1000 && lptsim_refstats_mean(&s) > 1.0299 &&
	   lptsim_refstats_mean(&s) < 1.0301, "refstats mean 1.03 for 990x1 + 10x4");
	ok(lptsim_refstats_pct(&s, 99.0) == 1 && lptsim_refstats_pct(&s, 100.0) == 4,
	   "refstats p99 1 and max 4");
}

static void test_lru_evicts_least_recent(void)
{
	struct lptsim_lru c;

	/* Two entries: A B A C evicts B (A was used more recently); then B misses, A hits. */
	lptsim_lru_init(&c, 2);
	lptsim_lru_access(&c, 0xa);
	lptsim_lru_access(&c, 0xb);
	lptsim_lru_access(&c, 0xa);
	lptsim_lru_access(&c, 0xc);
	ok(!lptsim_lru_probe(&c, 0xb) && lptsim_lru_probe(&c, 0xc),
	   "lru: A B A C evicts B, keeps C");
	ok(c.hits == 2 && c.lookups == 6, "lru: 2 hits in 6 lookups");
	lptsim_lru_free(&c);
}

/* One VMA over [vpn, vpn + pages) with the given maps. */
static void small_snapshot(struct lptsim_snapshot *snap, uint64_t vma_vpn, uint64_t vma_pages)
{
	lptsim_snap_init(snap);
	lptsim_snap_add_vma(snap, vma_vpn << 12, (vma_vpn + vma_pages) << 12, "rw-p", "test");
}

static void test_radix_reference_counts(void)
{
	struct lptsim_radix_cfg cfg = { .pwc_entries = { 2, 4, 32 } };
	struct lptsim_snapshot snap;
	struct lptsim_radix r;
	struct lptsim_err err;
	/* VMA at 1 GiB-aligned vpn 0x40000, 2 GiB long. */
	uint64_t base = 0x40000;

	small_snapshot(&snap, base, 2 << 18);
	lptsim_snap_add_map(&snap, base, 0x1000, LPTSIM_PS_4K, LPTSIM_F_ACCESSED);
	lptsim_snap_add_map(&snap, base + 1, 0x1001, LPTSIM_PS_4K, LPTSIM_F_ACCESSED);
	lptsim_snap_add_map(&snap, base + 512, 0x400000, LPTSIM_PS_2M, 0);
	lptsim_snap_add_map(&snap, base + (1 << 18), 1ull << 18, LPTSIM_PS_1G, 0);
	ok(!lptsim_snap_finish(&snap, "unit", &err), "radix: 4K+4K+2M+1G snapshot is valid");
	lptsim_radix_init(&r, &cfg, &snap);
	/* Cold 4K walk: PML4E, PDPTE, PDE, PTE. */
	ok(lptsim_radix_walk(&r, base << 12, &snap.maps[0]) == 4, "radix: cold 4K walk = 4 refs");
	/* Neighbour in the same 2 MiB: PDE cache hit leaves only the PTE. */
	ok(lptsim_radix_walk(&r, (base + 1) << 12, &snap.maps[1]) == 1,
	   "radix: PDE-cache hit = 1 ref");
	/* 2M page in the same 1 GiB: PDPTE cache hit, then the leaf PDE. */
	ok(lptsim_radix_walk(&r, (base + 512) << 12, &snap.maps[2]) == 1,
	   "radix: 2M walk after PDPTE-cache hit = 1 ref");
	/* 1G page in the next 1 GiB: PML4E hit, then the leaf PDPTE. */
	ok(lptsim_radix_walk(&r, (base + (1 << 18)) << 12, &snap.maps[3]) == 1,
	   "radix: 1G walk after PML4E-cache hit = 1 ref");
	/* Tables: PML4 + 1 PDPT + 1 PD (the 1G page needs none) + 1 PT = 4 pages. */
	ok(lptsim_radix_table_bytes(&r) == 4 * 4096, "radix: 4 table pages");
	lptsim_radix_free(&r);

	cfg.pwc_entries[0] = cfg.pwc_entries[1] = cfg.pwc_entries[2] = 0;
	lptsim_radix_init(&r, &cfg, &snap);
	lptsim_radix_walk(&r, base << 12, &snap.maps[0]);
	ok(lptsim_radix_walk(&r, (base + 1) << 12, &snap.maps[1]) == 4 &&
	   lptsim_radix_walk(&r, (base + 512) << 12, &snap.maps[2]) == 3 &&
	   lptsim_radix_walk(&r, (base + (1 << 18)) << 12, &snap.maps[3]) == 2,
	   "radix without PWC: 4K=4, 2M=3, 1G=2 refs");
	lptsim_radix_free(&r);
	lptsim_snap_free(&snap);
}

static void test_ecpt_probes_and_resize(void)
{
	struct lptsim_ecpt_cfg cfg = { .ways = 3, .initial_entries = 8,
				       .max_occupancy_pct = 60, .seed = 7 };
	struct lptsim_ecpt e;
	struct lptsim_err err;
	struct lptsim_map m = { .psize = LPTSIM_PS_4K };
	int all = 1;

	ok(!lptsim_ecpt_init(&e, &cfg, &err), "ecpt: init 3 ways x 8 entries");
	/* 4000 pages = 500 lines: far past 60% of 24 slots, so several doublings. */
	for (uint64_t v = 0; v < 4000; v++) {
		m.vpn = 0x100000 + v;
		lptsim_ecpt_insert(&e, &m);
	}
	for (uint64_t v = 0; v < 4000; v++) {
		m.vpn = 0x100000 + v;
		/* No CWCs, only the 4K table is live: every walk probes 3 ways. */
		all &= lptsim_ecpt_walk(&e, m.vpn << 12, &m) == 3;
	}
	ok(all, "ecpt: 4000 pages all found, 3 probes each without CWC");
	ok(e.rehashes >= 5 && lptsim_ecpt_occupancy(&e) <= 0.60,
	   "ecpt: grew by >= 5 rehashes and stays <= 60% occupied");
	m.vpn = 0x100000 + 17;
	lptsim_ecpt_remove(&e, &m);
	ok(lptsim_ecpt_walk(&e, m.vpn << 12, &m) == 0, "ecpt: removed page no longer found");
	lptsim_ecpt_free(&e);

	/* With a PMD-CWC: first walk in a 2 MiB region probes 3, the next one 1. */
	cfg.pmd_cwc = 4;
	cfg.pud_cwc = 0;
	lptsim_ecpt_init(&e, &cfg, &err);
	m.vpn = 0x200000;
	lptsim_ecpt_insert(&e, &m);
	m.vpn++;
	lptsim_ecpt_insert(&e, &m);
	ok(lptsim_ecpt_walk(&e, m.vpn << 12, &m) == 3 &&
	   lptsim_ecpt_walk(&e, (m.vpn - 1) << 12, &m) == 1,
	   "ecpt: PMD-CWC miss = 3 probes, hit = 1 probe");
	lptsim_ecpt_free(&e);
}

static int same_maps(const struct lptsim_snapshot *a, const struct lptsim_snapshot *b)
{
	if (a->nmaps != b->nmaps || a->nvmas != b->nvmas)
		return 0;
	for (size_t i = 0; i < a->nmaps; i++)
		if (a->maps[i].vpn != b->maps[i].vpn || a->maps[i].pfn != b->maps[i].pfn ||
		    a->maps[i].psize != b->maps[i].psize || a->maps[i].flags != b->maps[i].flags)
			return 0;
	for (size_t i = 0; i < a->nvmas; i++)
		if (a->vmas[i].start != b->vmas[i].start || a->vmas[i].end != b->vmas[i].end ||
		    strcmp(a->vmas[i].name, b->vmas[i].name) || strcmp(a->vmas[i].perms, b->vmas[i].perms))
			return 0;
	return 1;
}

static void test_snapshot_round_trip(const char *dir)
{
	static const char *const kinds[] = { "dense-heap", "sparse-mmap", "aslr-libs", "random" };
	char path[512];

	for (int k = 0; k < 4; k++) {
		struct lptsim_snapshot a, b, c;
		struct lptsim_err err;
		char name[96];
		int rc;

		snprintf(path, sizeof(path), "%s/unit-%s.snap", dir, kinds[k]);
		rc = lptsim_generate(&a, kinds[k], 42, 5000, 20, &err);
		rc = rc || lptsim_snap_write(&a, path, &err);
		rc = rc || lptsim_snap_read(&b, path, &err);
		snprintf(name, sizeof(name), "snapshot: %s 5000 pages survives write+read", kinds[k]);
		ok(!rc && same_maps(&a, &b) && a.nmaps > 0, name);
		if (rc)
			printf("# %s\n", err.msg);
		/* Same seed, same layout; another seed, another layout. */
		lptsim_generate(&c, kinds[k], 42, 5000, 20, &err);
		snprintf(name, sizeof(name), "gen: %s is deterministic for a seed", kinds[k]);
		ok(same_maps(&a, &c), name);
		lptsim_snap_free(&c);
		lptsim_generate(&c, kinds[k], 43, 5000, 20, &err);
		snprintf(name, sizeof(name), "gen: %s differs for another seed", kinds[k]);
		ok(!same_maps(&a, &c), name);
		lptsim_snap_free(&a);
		lptsim_snap_free(&b);
		lptsim_snap_free(&c);
	}
}

static void test_snapshot_validation(void)
{
	struct lptsim_snapshot snap;
	struct lptsim_err err;

	/* Two 4K pages at the same vpn overlap. */
	small_snapshot(&snap, 0x1000, 16);
	lptsim_snap_add_map(&snap, 0x1000, 1, LPTSIM_PS_4K, 0);
	lptsim_snap_add_map(&snap, 0x1000, 2, LPTSIM_PS_4K, 0);
	ok(lptsim_snap_finish(&snap, "unit", &err) && strstr(err.msg, "overlaps"),
	   "validate: overlapping mappings rejected");
	lptsim_snap_free(&snap);
	/* A 2M page at a vpn that is not a multiple of 512. */
	small_snapshot(&snap, 0x1000, 4096);
	lptsim_snap_add_map(&snap, 0x1001, 512, LPTSIM_PS_2M, 0);
	ok(lptsim_snap_finish(&snap, "unit", &err) && strstr(err.msg, "aligned"),
	   "validate: unaligned 2M mapping rejected");
	lptsim_snap_free(&snap);
	/* A page one past the VMA's end. */
	small_snapshot(&snap, 0x1000, 16);
	lptsim_snap_add_map(&snap, 0x1010, 1, LPTSIM_PS_4K, 0);
	ok(lptsim_snap_finish(&snap, "unit", &err) && strstr(err.msg, "VMA"),
	   "validate: mapping outside every VMA rejected");
	lptsim_snap_free(&snap);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Replay callbacks: +1 per mapped page, -100 per unmapped one. */
static void on_mapped(void *ctx, const struct lptsim_map *map)
{
	(void)map;
	(*(int *)ctx)++;
}

static void on_unmapped(void *ctx, const struct lptsim_map *map)
{
	(void)map;
	(*(int *)ctx) -= 100;
}

static void test_trace_replay(const char *dir)
{
	struct lptsim_snapshot snap;
	struct lptsim_trace trace;
	struct lptsim_replay_stats st;
	struct lptsim_err err;
	const struct lptsim_replay_ops ops = { on_mapped, on_unmapped };
	char path[512];
	int calls = 0, rc;

	/*
	 * mmap 16 pages at 0x10000000, fault 3 of them (one twice), munmap the
	 * first 8 pages (removing 2 faulted pages): 1 page and a 8-page VMA remain.
	 */
	snprintf(path, sizeof(path), "%s/unit.trace", dir);
	write_text(path, "lptsim-trace 1\n"
			 "mmap 10000000 10010000 rw-p anon\n"
			 "fault 10000 4K\n"
			 "fault 10001 4K 5000\n"
			 "fault 10001 4K\n"
			 "fault 1000c 4K auto\n"
			 "munmap 10000000 10008000\n"
			 "end 6\n");
	lptsim_snap_init(&snap);
	rc = lptsim_trace_read(&trace, path, &err);
	ok(!rc && trace.nevents == 6, "trace: 6 events parsed");
	if (rc) {
		printf("# %s\n", err.msg);
		return;
	}
	rc = lptsim_trace_replay(&snap, &trace, &ops, &calls, &st, &err);
	ok(!rc && snap.nmaps == 1 && snap.maps[0].vpn == 0x1000c && snap.nvmas == 1 &&
	   snap.vmas[0].start == 0x10008000, "trace: replay leaves 1 page in an 8-page VMA");
	ok(st.faults == 3 && st.spurious_faults == 1 && st.pages_unmapped == 2 &&
	   calls == 3 - 200, "trace: 3 faults, 1 spurious, 2 pages unmapped, callbacks made");
	lptsim_trace_free(&trace);
	lptsim_snap_free(&snap);

	/* A fault outside any VMA is reported with its line number. */
	write_text(path, "lptsim-trace 1\nfault 10000 4K\nend 1\n");
	lptsim_snap_init(&snap);
	rc = lptsim_trace_read(&trace, path, &err);
	rc = rc || lptsim_trace_replay(&snap, &trace, NULL, NULL, &st, &err);
	ok(rc && strstr(err.msg, ":2:") && strstr(err.msg, "VMA"),
	   "trace: fault outside a VMA names line 2");
	lptsim_trace_free(&trace);
	lptsim_snap_free(&snap);
}

static uint64_t vma_bytes(const struct lptsim_snapshot *snap)
{
	uint64_t bytes = 0;

	for (size_t i = 0; i < snap->nvmas; i++)
		bytes += snap->vmas[i].end - snap->vmas[i].start;
	return bytes;
}

static void test_trace_diff_replays_to_target(const char *dir)
{
	struct lptsim_snapshot a, b;
	struct lptsim_trace trace;
	struct lptsim_replay_stats st;
	struct lptsim_err err;
	char path[512];
	uint64_t events;
	int same = 1, rc;
	FILE *f;

	/*
	 * Two unrelated layouts (seeds 1 and 2, with THPs): the diff must turn
	 * one into the other exactly -- same pages, frames and sizes, and the
	 * same VMA coverage.  This is what capture --trace-out relies on.
	 */
	snprintf(path, sizeof(path), "%s/unit-diff.trace", dir);
	lptsim_generate(&a, "sparse-mmap", 1, 4000, 30, &err);
	lptsim_generate(&b, "sparse-mmap", 2, 4000, 30, &err);
	f = fopen(path, "w");
	fprintf(f, "lptsim-trace 1\n");
	events = lptsim_trace_diff(f, &a, &b);
	fprintf(f, "end %llu\n", (unsigned long long)events);
	fclose(f);
	rc = lptsim_trace_read(&trace, path, &err);
	rc = rc || lptsim_trace_replay(&a, &trace, NULL, NULL, &st, &err);
	if (rc)
		printf("# %s\n", err.msg);
	same = !rc && a.nmaps == b.nmaps && vma_bytes(&a) == vma_bytes(&b);
	for (size_t i = 0; same && i < a.nmaps; i++)
		same = a.maps[i].vpn == b.maps[i].vpn && a.maps[i].pfn == b.maps[i].pfn &&
		       a.maps[i].psize == b.maps[i].psize;
	ok(same && events > 1000, "trace diff: replaying diff(A, B) on A gives B");
	if (!rc)
		lptsim_trace_free(&trace);
	lptsim_snap_free(&a);
	lptsim_snap_free(&b);
}

static void test_lpt_translates_every_page(void)
{
	static const char *const kinds[] = { "dense-heap", "aslr-libs" };
	struct lptsim_lpt_cfg cfg = { .lwc_entries = 64 };

	if (!lptsim_lpt_available()) {
		ok(1, "lpt: # SKIP built without lib/lpt");
		return;
	}
	for (int k = 0; k < 2; k++) {
		struct lptsim_snapshot snap;
		struct lptsim_lpt *lpt;
		struct lptsim_err err;
		struct lptsim_lpt_walk_out w;
		unsigned int wrong = 0;
		char name[128];
		int rc;

		rc = lptsim_generate(&snap, kinds[k], 5, 20000, 10, &err);
		rc = rc || lptsim_lpt_build(&lpt, &snap, &cfg, &err);
		if (rc) {
			printf("# %s\n", err.msg);
			ok(0, "lpt: build");
			continue;
		}
		for (size_t i = 0; i < snap.nmaps; i++) {
			const struct lptsim_map *m = &snap.maps[i];
			uint64_t last = lptsim_psize_pages(m->psize) - 1;

			/* First and last 4K page of every mapping. */
			if (lptsim_lpt_walk(lpt, m->vpn << 12, &w) ||
			    w.pfn != m->pfn || w.psize != m->psize || w.refs < 1)
				wrong++;
			if (lptsim_lpt_walk(lpt, (m->vpn + last) << 12, &w) ||
			    w.pfn != m->pfn + last)
				wrong++;
		}
		snprintf(name, sizeof(name), "lpt: every page of %s (%zu maps) translates to its frame",
			 kinds[k], snap.nmaps);
		ok(wrong == 0, name);
		/* An address in no VMA at all: below the PIE base. */
		snprintf(name, sizeof(name), "lpt: unmapped address faults (%s)", kinds[k]);
		ok(lptsim_lpt_walk(lpt, 0x1000, &w) != 0, name);
		lptsim_lpt_free(lpt);
		lptsim_snap_free(&snap);
	}
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";

	test_crc32_check_value();
	test_refstats_mean_and_p99();
	test_lru_evicts_least_recent();
	test_radix_reference_counts();
	test_ecpt_probes_and_resize();
	test_snapshot_round_trip(dir);
	test_snapshot_validation();
	test_trace_replay(dir);
	test_trace_diff_replays_to_target(dir);
	test_lpt_translates_every_page();
	printf("1..%d\n", test_no);
	return failures ? 1 : 0;
}
