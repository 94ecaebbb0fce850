/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * User-space ABI of /dev/hugescope, shared by the module, the selftests and
 * the tools.  One open file tracks at most one VM: ATTACH names the VM by its
 * KVM VM file descriptor, DETACH (or closing the file) stops tracking and
 * merges every region still split.  SUMMARY and READ return what the tracker
 * learnt; READ pages through the per-2M records with a GFN cursor.  All
 * structures have fixed layouts and reserved fields that must be zero.  The
 * ioctl numbers encode the structure sizes, so new fields take reserved
 * space (zero keeps the old behaviour) and sizes never change.
 */
#ifndef _HUGESCOPE_UAPI_H
#define _HUGESCOPE_UAPI_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define HUGESCOPE_IOC_MAGIC	0xb7

/*
 * Tracking parameters; 0 selects the default given in brackets.
 *
 * Adaptive split threshold (docs/hugescope.md, "Adaptive split threshold"):
 * with fast_budget_4k set, after every fine phase the hot footprint (4K
 * pages the hot regions need in fast memory: nr_hot_4k of a skewed region,
 * 512 of any other hot one) is compared with the budget.  Above it the
 * threshold rises by a quarter (at least 1); below 3/4 of it the threshold
 * falls by a fifth (at least 1) unless the last phase's counts predict the
 * footprint at the lower threshold would exceed the budget; always within
 * threshold_min..threshold_max.  Without a budget it stays fixed.
 * Collapse rule, always on: a region classified skewed stays skewed until
 * its hot count reaches split_threshold + collapse_delta (1 = no hysteresis).
 */
struct hugescope_attach {
	__s32 vm_fd;		/* KVM VM file descriptor (from KVM_CREATE_VM) */
	__u32 flags;		/* must be 0 */
	__u32 coarse_period_ms;	/* 2M harvest period [600], 10..60000 */
	__u32 coarse_rounds;	/* harvests per coarse phase [10], 1..1000 */
	__u32 fine_window_ms;	/* 4K sampling window [600], 10..60000 */
	__u32 fine_windows;	/* windows per fine phase [5], 1..255 */
	__u32 hot_rounds;	/* accessed rounds to be a candidate [rounds/2] */
	__u32 max_candidates;	/* regions split per fine phase [64], ..4096 */
	__u32 split_threshold;	/* skewed if hot 4K pages <= this [70], ..512 */
	__u32 max_cycles;	/* stop after this many fine phases [0: never] */
	__u32 fast_budget_4k;	/* fast-tier budget, 4K pages [0: none, fixed] */
	__u32 threshold_min;	/* lower bound of the adaptive threshold [10] */
	__u32 threshold_max;	/* upper bound [250], min..512; bounds need a budget */
	__u32 collapse_delta;	/* skewed -> hot at threshold + this [50], ..512 */
	__u64 reserved[2];	/* must be 0 */
};

enum hugescope_class {
	HUGESCOPE_CLASS_UNKNOWN = 0,	/* accessed, not sampled at 4K yet */
	HUGESCOPE_CLASS_COLD = 1,	/* below hot_rounds in the last coarse phase */
	HUGESCOPE_CLASS_HOT = 2,	/* hot, more than split_threshold hot 4K pages */
	HUGESCOPE_CLASS_SKEWED = 3,	/* hot, at most split_threshold hot 4K pages
					 * (or below threshold + collapse_delta if
					 * it was skewed in its last fine phase)
					 */
};

enum hugescope_state {
	HUGESCOPE_STATE_DETACHED = 0,
	HUGESCOPE_STATE_COARSE = 1,
	HUGESCOPE_STATE_FINE = 2,
	HUGESCOPE_STATE_IDLE = 3,	/* max_cycles reached */
	HUGESCOPE_STATE_VM_GONE = 4,	/* the VM was destroyed */
};

struct hugescope_summary {
	__u32 state;		/* enum hugescope_state */
	__u32 split_threshold;	/* current threshold */
	__u64 coarse_scans;	/* 2M harvests done */
	__u64 fine_phases;	/* fine phases completed (split-sample-merge) */
	__u64 fine_windows;	/* 4K harvest windows done */
	__u64 regions;		/* per-2M records held */
	__u64 splits, split_failures;
	__u64 merges, merge_failures;
	__u64 split_ns, merge_ns;	/* total time in split/merge calls */
	__u64 harvest_2m_ns, harvest_4k_ns;	/* total time in harvests */
	__u64 worker_ns;	/* total worker CPU time (wall, in the worker) */
	__u64 tracked_bytes;	/* guest memory covered by the last scan */
	__u64 meta_bytes;	/* tracker metadata, records and index */
	/* Adaptive threshold (zero from modules older than these fields). */
	__u64 hot_footprint_4k;	/* after the last fine phase, 4K pages */
	__u32 threshold_raises;	/* times the threshold was raised */
	__u32 threshold_drops;	/* times the threshold was lowered */
	__u32 collapse_threshold;	/* split_threshold + collapse_delta */
	__u32 fast_budget_4k;	/* the ATTACH budget (0: threshold fixed) */
	__u64 reserved0;	/* reserved, 0 */
};

/* One 2M region; gfn is the region's first GFN. */
struct hugescope_region {
	__u64 gfn;
	__u32 freq;		/* accessed rounds, last completed coarse phase */
	__u32 age;		/* coarse scans since last seen accessed */
	__u32 weight;		/* read 1 / write 3 weighted count, last phase */
	__u32 class;		/* enum hugescope_class */
	__u32 nr_hot_4k;	/* 4K pages accessed in most fine windows */
	__u32 nr_touched_4k;	/* 4K pages accessed in any fine window */
	__u32 skew;		/* permille of the region that is not hot */
	__u32 fine_phases;	/* times this region was sampled at 4K */
	__u64 hot_4k[8];	/* bitmap of the hot 4K pages, last fine phase */
};

struct hugescope_read {
	__u64 regions;		/* user pointer to struct hugescope_region[nr] */
	__u32 nr;		/* in: capacity (..65536); out: records written */
	__u32 flags;		/* must be 0 */
	__u64 start_gfn;	/* in: first GFN; out: cursor for the next call */
};

#define HUGESCOPE_IOC_ATTACH	_IOW(HUGESCOPE_IOC_MAGIC, 1, struct hugescope_attach)
#define HUGESCOPE_IOC_DETACH	_IO(HUGESCOPE_IOC_MAGIC, 2)
#define HUGESCOPE_IOC_SUMMARY	_IOR(HUGESCOPE_IOC_MAGIC, 3, struct hugescope_summary)
#define HUGESCOPE_IOC_READ	_IOWR(HUGESCOPE_IOC_MAGIC, 4, struct hugescope_read)

#endif /* _HUGESCOPE_UAPI_H */
