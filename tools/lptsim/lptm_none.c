/*
 * lptm_none.c - the learned-page-table seam when lptsim is built without
 * lib/lpt (make LPTSIM_WITHOUT_LPT=1).  It reports the model as unavailable
 * so every LPT column prints n/a: the radix and ECPT columns stay usable and
 * no learned-table figure is ever invented.
 */
#include "lptm.h"

int lptsim_lpt_available(void)
{
	return 0;
}

int lptsim_lpt_build(struct lptsim_lpt **out, const struct lptsim_snapshot *snap,
		     const struct lptsim_lpt_cfg *cfg, struct lptsim_err *err)
{
	(void)snap;
	(void)cfg;
	*out = NULL;
	return lptsim_fail(err, "lptsim built without the learned page table library");
}

int lptsim_lpt_insert(struct lptsim_lpt *m, const struct lptsim_map *map, struct lptsim_err *err)
{
	(void)m;
	(void)map;
	(void)err;
	return 0;
}

int lptsim_lpt_remove(struct lptsim_lpt *m, const struct lptsim_map *map, struct lptsim_err *err)
{
	(void)m;
	(void)map;
	(void)err;
	return 0;
}

void lptsim_lpt_reset_walks(struct lptsim_lpt *m)
{
	(void)m;
}

int lptsim_lpt_walk(struct lptsim_lpt *m, uint64_t va, struct lptsim_lpt_walk_out *out)
{
	(void)m;
	(void)va;
	(void)out;
	return -1;
}

void lptsim_lpt_stats(const struct lptsim_lpt *m, struct lptsim_lpt_stats *st)
{
	(void)m;
	*st = (struct lptsim_lpt_stats){ 0 };
}

void lptsim_lpt_free(struct lptsim_lpt *m)
{
	(void)m;
}
