/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interfaces of hugescope.ko.  hugescope_dev.c owns the control
 * device and the lifetime of a tracked VM; hugescope_track.c owns the
 * per-VM worker and the per-2M metadata.  Everything in struct hugescope_vm
 * below the parameters is protected by ->lock, which the worker holds for a
 * whole tick and the ioctls hold while they read.
 */
#ifndef _HUGESCOPE_H
#define _HUGESCOPE_H

#include <linux/kvm_host.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include "hugescope_uapi.h"

#define HS_PAGES_PER_2M		512
#define HS_BITMAP_LONGS		BITS_TO_LONGS(HS_PAGES_PER_2M)

/* Per-2M record, created the first time the region is seen accessed. */
struct hugescope_region_meta {
	u64 last_scan;		/* coarse scan number last seen accessed */
	u16 freq;		/* accessed rounds in the current coarse phase */
	u16 last_freq;		/* ... in the last completed one */
	u32 weight, last_weight;	/* read 1 / write 3 sums, same phases */
	u16 nr_hot, nr_touched;	/* last fine phase */
	u8 class;		/* enum hugescope_class */
	u32 fine_phases;
	unsigned long hot[HS_BITMAP_LONGS];
};

/* A region being sampled at 4K during a fine phase. */
struct hugescope_candidate {
	gfn_t gfn;
	bool split;		/* split by us: merge at the end */
	bool lost;		/* mapped huge again or memslot gone */
	u8 count[HS_PAGES_PER_2M];	/* windows in which each 4K was accessed */
};

struct hugescope_vm {
	struct kvm *kvm;	/* holds a reference while attached */
	struct hugescope_attach p;	/* parameters, defaults filled in */
	struct delayed_work work;
	struct mutex lock;		/* serializes the worker and readers */
	bool stopping;		/* detach in progress: do not requeue */
	u32 state;		/* enum hugescope_state */
	u32 round, window;	/* progress in the current phase */
	struct xarray regions;	/* 2M frame (gfn / 512) -> region_meta */
	struct hugescope_candidate *cand;	/* fine phase only */
	u32 nr_cand, cand_alloc;
	u32 threshold;		/* current split threshold (adaptive) */
	struct hugescope_summary sum;
};

int hugescope_vm_start(struct hugescope_vm *hs);
void hugescope_vm_stop(struct hugescope_vm *hs);
int hugescope_vm_read(struct hugescope_vm *hs, struct hugescope_read *rd);
void hugescope_vm_summary(struct hugescope_vm *hs, struct hugescope_summary *s);
int hugescope_track_init(void);
void hugescope_track_exit(void);

/* Default bounds of the adaptive split threshold and the collapse margin. */
#define HS_THRESHOLD		70
#define HS_THRESHOLD_MIN	10
#define HS_THRESHOLD_MAX	250
#define HS_COLLAPSE_DELTA	50

/*
 * The split/collapse rule.  A region that was skewed after its last fine
 * phase stays skewed until its hot count reaches @threshold + @delta (the
 * artifact's collapse threshold); any other region is skewed if its hot
 * count is at most @threshold.  The band between keeps a region's class,
 * so a policy does not split and collapse it on every phase.
 */
static inline bool __hugescope_is_skewed(u8 prev_class, u32 nr_hot,
					 u32 threshold, u32 delta)
{
	if (prev_class == HUGESCOPE_CLASS_SKEWED)
		return nr_hot < threshold + delta;
	return nr_hot <= threshold;
}

/*
 * The classifier, kept free of kernel services so that tools can reuse it.
 * @count holds, per 4K page, the windows in which it was accessed; @m->class
 * holds the previous class on entry.
 */
static inline void __hugescope_classify(const u8 *count, u32 windows,
					u32 split_threshold, u32 delta,
					struct hugescope_region_meta *m)
{
	u32 i, need = (windows + 1) / 2;

	m->nr_hot = 0;
	m->nr_touched = 0;
	bitmap_zero(m->hot, HS_PAGES_PER_2M);
	for (i = 0; i < HS_PAGES_PER_2M; i++) {
		if (count[i])
			m->nr_touched++;
		if (count[i] >= need) {
			__set_bit(i, m->hot);
			m->nr_hot++;
		}
	}
	m->class = __hugescope_is_skewed(m->class, m->nr_hot, split_threshold,
					 delta) ? HUGESCOPE_CLASS_SKEWED :
						  HUGESCOPE_CLASS_HOT;
}

/*
 * 4K pages a hot region needs in fast memory if skewed regions are split
 * and their cold pages demoted: its hot count if skewed, else all 512.
 */
static inline u32 __hugescope_footprint(bool skewed, u32 nr_hot)
{
	return skewed ? nr_hot : HS_PAGES_PER_2M;
}

/*
 * Adaptation steps, pure: raise by a quarter, lower by a fifth (at least 1
 * either way, so a raise and a drop roughly cancel), clamped to [lo, hi].
 */
static inline u32 hugescope_raise_step(u32 threshold, u32 hi)
{
	return min(hi, threshold + max(threshold / 4, 1U));
}

static inline u32 hugescope_lower_step(u32 threshold, u32 lo)
{
	u32 step = max(threshold / 5, 1U);

	return threshold > lo + step ? threshold - step : lo;
}

#endif /* _HUGESCOPE_H */
