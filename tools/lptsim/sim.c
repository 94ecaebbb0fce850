/*
 * sim.c - the side-by-side run.  Tables are built once per snapshot (the
 * learned page table through lib/lpt, ECPT by inserting every mapping, the
 * radix table by counting the table pages it needs); a trace, if given, is
 * then replayed as incremental inserts and removes.  Each walk order then
 * starts from cold walk caches and walks every mapped page once: in address
 * order (a sequential scan, the friendliest case for every cache) and in a
 * seeded random order (no locality: close to the worst case for walk caches,
 * which matters most for radix PWCs).  No TLB is modelled: every lookup is a
 * walk, so references per walk are per TLB miss.  Every learned-table walk is
 * checked against the snapshot: a fault or a wrong frame is counted and
 * reported, never hidden.
 */
#include "sim.h"

#include <stdlib.h>
#include <string.h>

struct replay_ctx {
	const char *name;
	struct lptsim_lpt *lpt;      /* NULL once an update failed */
	struct lptsim_ecpt *ecpt;
	int lpt_failed;
};

/*
 * An insert or remove the library refuses ends the learned table for this
 * snapshot (its later figures would describe a different address space) but
 * not the run: like a failed build, it is a result reported in the row.
 */
static void lpt_update_failed(struct replay_ctx *ctx, const struct lptsim_err *err)
{
	fprintf(stderr, "lptsim: %s: learned page table dropped during the trace: %s\n",
		ctx->name, err->msg);
	lptsim_lpt_free(ctx->lpt);
	ctx->lpt = NULL;
	ctx->lpt_failed = 1;
}

static void replay_mapped(void *opaque, const struct lptsim_map *map)
{
	struct replay_ctx *ctx = opaque;
	struct lptsim_err err;

	lptsim_ecpt_insert(ctx->ecpt, map);
	if (ctx->lpt && lptsim_lpt_insert(ctx->lpt, map, &err))
		lpt_update_failed(ctx, &err);
}

static void replay_unmapped(void *opaque, const struct lptsim_map *map)
{
	struct replay_ctx *ctx = opaque;
	struct lptsim_err err;

	lptsim_ecpt_remove(ctx->ecpt, map);
	if (ctx->lpt && lptsim_lpt_remove(ctx->lpt, map, &err))
		lpt_update_failed(ctx, &err);
}

/* Walk order as an array of map indices and a sub-page offset per walk. */
static void make_order(size_t *idx, uint64_t *offset, const struct lptsim_snapshot *snap,
		       enum lptsim_order order, uint64_t seed)
{
	uint64_t rng = seed;

	for (size_t i = 0; i < snap->nmaps; i++) {
		idx[i] = i;
		offset[i] = 0;
	}
	if (order != LPTSIM_ORDER_RANDOM)
		return;
	for (size_t i = snap->nmaps; i > 1; i--) {
		size_t j = (size_t)lptsim_rand_below(&rng, i);
		size_t t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
	/* A random 4K page inside each huge page, so huge walks are not all aligned. */
	for (size_t i = 0; i < snap->nmaps; i++)
		offset[i] = lptsim_rand_below(&rng, lptsim_psize_pages(snap->maps[i].psize));
}

static void note_miss(struct lptsim_result *r, const char *what)
{
	size_t len = strlen(r->lpt_misses);

	snprintf(r->lpt_misses + len, sizeof(r->lpt_misses) - len, "%s%s", len ? "," : "", what);
}

static void fill_lpt(struct lptsim_result *r, struct lptsim_lpt *lpt,
		     const struct lptsim_refstats *refs, uint64_t nmaps)
{
	struct lptsim_lpt_stats st;

	lptsim_lpt_stats(lpt, &st);
	/*
	 * Walks prove every mapped page is there; the count proves nothing
	 * else is (a remove the library lost would otherwise go unseen).
	 */
	if (st.entries != nmaps)
		r->lpt_wrong += st.entries > nmaps ? st.entries - nmaps : nmaps - st.entries;
	r->lpt_ok = 1;
	r->lpt_index_bytes = st.index_bytes;
	r->lpt_depth = st.depth;
	r->lpt_leaves = st.leaves;
	r->lpt_table_bytes = st.table_bytes;
	r->lpt_retrains = st.retrains;
	r->lpt_rescalings = st.rescalings;
	r->lpt_collision_rate = st.entries ? (double)st.collisions / st.entries : 0.0;
	r->lpt_lwc_hit = st.lwc_lookups ? (double)st.lwc_hits / st.lwc_lookups : 0.0;
	r->lpt_refs_mean = lptsim_refstats_mean(refs);
	r->lpt_refs_p99 = lptsim_refstats_pct(refs, 99.0);
	r->lpt_refs_max = lptsim_refstats_pct(refs, 100.0);
	r->lpt_single_ref = refs->walks ? (double)refs->hist[1] / refs->walks : 0.0;
	r->lpt_misses[0] = '\0';
	/* Targets are about walks: with none there is nothing to miss or meet. */
	if (!refs->walks) {
		strcpy(r->lpt_misses, "no-walks");
		return;
	}
	if (r->lpt_single_ref < LPT_TARGET_SINGLE_REF)
		note_miss(r, "1ref");
	if (r->lpt_refs_mean > LPT_TARGET_MEAN_REFS)
		note_miss(r, "mean");
	if (r->lpt_collision_rate > LPT_TARGET_COLLISIONS)
		note_miss(r, "coll");
	if (r->lpt_index_bytes > LPT_TARGET_INDEX_BYTES)
		note_miss(r, "index");
	if (r->lpt_lwc_hit < LPT_TARGET_LWC_HIT)
		note_miss(r, "lwc");
	if (r->lpt_faults || r->lpt_wrong)
		note_miss(r, "WRONG");
	if (!r->lpt_misses[0])
		strcpy(r->lpt_misses, "-");
}

static void walk_lpt(struct lptsim_result *r, struct lptsim_lpt *lpt,
		     const struct lptsim_snapshot *snap, const size_t *idx,
		     const uint64_t *offset, struct lptsim_progress *prog)
{
	struct lptsim_refstats refs = { 0 };
	uint64_t displaced = 0, displaced_refs = 0;

	lptsim_lpt_reset_walks(lpt);
	for (size_t i = 0; i < snap->nmaps; i++) {
		const struct lptsim_map *m = &snap->maps[idx[i]];
		uint64_t vpn = m->vpn + offset[idx[i]];
		struct lptsim_lpt_walk_out w;

		lptsim_progress_tick(prog, i, 3 * snap->nmaps);
		if (lptsim_lpt_walk(lpt, vpn << 12, &w)) {
			r->lpt_faults++;
			continue;
		}
		if (w.pfn != m->pfn + offset[idx[i]] || w.psize != m->psize)
			r->lpt_wrong++;
		/* The paper's per-walk view of collisions: how often, and what they cost. */
		if (w.displacement) {
			displaced++;
			displaced_refs += w.refs;
		}
		lptsim_refstats_add(&refs, w.refs);
	}
	fill_lpt(r, lpt, &refs, snap->nmaps);
	r->lpt_walk_collision_rate = refs.walks ? (double)displaced / refs.walks : 0.0;
	r->lpt_refs_per_collision = displaced ? (double)displaced_refs / displaced : 0.0;
}

static void walk_radix(struct lptsim_result *r, const struct lptsim_opts *opts,
		       const struct lptsim_snapshot *snap, const size_t *idx,
		       const uint64_t *offset, struct lptsim_progress *prog)
{
	struct lptsim_radix radix;

	lptsim_radix_init(&radix, &opts->radix, snap);
	for (size_t i = 0; i < snap->nmaps; i++) {
		const struct lptsim_map *m = &snap->maps[idx[i]];

		lptsim_progress_tick(prog, snap->nmaps + i, 3 * snap->nmaps);
		lptsim_radix_walk(&radix, (m->vpn + offset[idx[i]]) << 12, m);
	}
	r->rdx_refs_mean = lptsim_refstats_mean(&radix.refs);
	r->rdx_refs_p99 = lptsim_refstats_pct(&radix.refs, 99.0);
	r->rdx_refs_max = lptsim_refstats_pct(&radix.refs, 100.0);
	r->rdx_pwc_hit = radix.refs.walks ? (double)radix.walks_with_pwc_hit / radix.refs.walks : 0;
	for (int l = 0; l < 3; l++)
		r->rdx_level_hit[l] = radix.pwc[l].lookups ?
				      (double)radix.pwc[l].hits / radix.pwc[l].lookups : 0.0;
	r->rdx_table_bytes = lptsim_radix_table_bytes(&radix);
	lptsim_radix_free(&radix);
}

static void walk_ecpt(struct lptsim_result *r, struct lptsim_ecpt *ecpt,
		      const struct lptsim_snapshot *snap, const size_t *idx,
		      const uint64_t *offset, struct lptsim_progress *prog)
{
	lptsim_ecpt_reset_walks(ecpt);
	for (size_t i = 0; i < snap->nmaps; i++) {
		const struct lptsim_map *m = &snap->maps[idx[i]];

		lptsim_progress_tick(prog, 2 * snap->nmaps + i, 3 * snap->nmaps);
		if (!lptsim_ecpt_walk(ecpt, (m->vpn + offset[idx[i]]) << 12, m))
			r->ecpt_faults++;
	}
	r->ecpt_refs_mean = lptsim_refstats_mean(&ecpt->refs);
	r->ecpt_refs_p99 = lptsim_refstats_pct(&ecpt->refs, 99.0);
	r->ecpt_refs_max = lptsim_refstats_pct(&ecpt->refs, 100.0);
	r->ecpt_table_bytes = lptsim_ecpt_table_bytes(ecpt);
	r->ecpt_occupancy = lptsim_ecpt_occupancy(ecpt);
	r->ecpt_rehashes = ecpt->rehashes;
	/* A walk "hits" when either CWC narrowed its probes. */
	r->ecpt_cwc_hit = ecpt->refs.walks ? (double)ecpt->cwc_assisted / ecpt->refs.walks : 0.0;
}

int lptsim_simulate(const char *name, struct lptsim_snapshot *snap,
		    const struct lptsim_trace *trace, const struct lptsim_opts *opts,
		    struct lptsim_result results[2], struct lptsim_err *err)
{
	struct lptsim_lpt *lpt = NULL;
	struct lptsim_ecpt ecpt;
	struct lptsim_replay_stats replay = { 0 };
	struct lptsim_progress prog;
	size_t *idx;
	uint64_t *offset;
	struct lptsim_err lpt_err;
	int nrows = 0, lpt_failed = 0;   /* 1: build refused, 2: an update refused */
	char what[200];

	if (lptsim_ecpt_init(&ecpt, &opts->ecpt, err))
		return -1;
	snprintf(what, sizeof(what), "%s: building tables", name);
	lptsim_progress_start(&prog, what, opts->quiet);
	/*
	 * A learned index that cannot be built within the hardware limits is a
	 * result, not a tool failure: say so on stderr and in the misses column.
	 */
	if (lptsim_lpt_available() && lptsim_lpt_build(&lpt, snap, &opts->lpt, &lpt_err)) {
		fprintf(stderr, "lptsim: %s: learned page table not built: %s\n", name, lpt_err.msg);
		lpt_failed = 1;
	}
	for (size_t i = 0; i < snap->nmaps; i++) {
		lptsim_progress_tick(&prog, i, snap->nmaps);
		lptsim_ecpt_insert(&ecpt, &snap->maps[i]);
	}
	if (trace) {
		struct replay_ctx ctx = { .name = name, .lpt = lpt, .ecpt = &ecpt };
		const struct lptsim_replay_ops ops = { replay_mapped, replay_unmapped };
		int rc = lptsim_trace_replay(snap, trace, &ops, &ctx, &replay, err);

		lpt = ctx.lpt;
		if (ctx.lpt_failed)
			lpt_failed = 2;
		if (rc) {
			lptsim_lpt_free(lpt);
			lptsim_ecpt_free(&ecpt);
			return -1;
		}
	}
	lptsim_progress_done(&prog);
	idx = lptsim_xrealloc(NULL, snap->nmaps + 1, sizeof(*idx));
	offset = lptsim_xrealloc(NULL, snap->nmaps + 1, sizeof(*offset));
	for (unsigned int order = LPTSIM_ORDER_ADDRESS; order <= LPTSIM_ORDER_RANDOM; order <<= 1) {
		struct lptsim_result *r = &results[nrows];

		if (!(opts->orders & order))
			continue;
		memset(r, 0, sizeof(*r));
		snprintf(r->snapshot, sizeof(r->snapshot), "%s", name);
		r->order = order == LPTSIM_ORDER_ADDRESS ? "addr" : "random";
		r->walks = snap->nmaps;
		r->vmas = snap->nvmas;
		for (size_t i = 0; i < snap->nmaps; i++) {
			r->pages_4k += snap->maps[i].psize == LPTSIM_PS_4K;
			r->pages_2m += snap->maps[i].psize == LPTSIM_PS_2M;
			r->pages_1g += snap->maps[i].psize == LPTSIM_PS_1G;
		}
		r->replayed_faults = replay.faults;
		r->replayed_unmaps = replay.pages_unmapped;
		make_order(idx, offset, snap, order, opts->seed);
		snprintf(what, sizeof(what), "%s: %s-order walks", name, r->order);
		lptsim_progress_start(&prog, what, opts->quiet);
		if (lpt)
			walk_lpt(r, lpt, snap, idx, offset, &prog);
		else
			strcpy(r->lpt_misses, lpt_failed == 2 ? "update-failed" :
					      lpt_failed ? "build-failed" : "n/a");
		walk_radix(r, opts, snap, idx, offset, &prog);
		walk_ecpt(r, &ecpt, snap, idx, offset, &prog);
		lptsim_progress_done(&prog);
		nrows++;
	}
	free(idx);
	free(offset);
	lptsim_lpt_free(lpt);
	lptsim_ecpt_free(&ecpt);
	return nrows;
}
