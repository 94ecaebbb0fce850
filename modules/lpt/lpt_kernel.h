/* SPDX-License-Identifier: GPL-2.0 */
/*
 * lpt.ko: the kernel manager of learned page tables (docs/lpt-kernel.md).
 *
 * The radix page table stays the source of truth; the LPT of an mm is a
 * secondary MMU kept coherent by an MMU notifier, like KVM's TDP MMU: an
 * invalidation removes (or write-protects) LPT entries before the kernel
 * changes the radix PTEs and flushes the TLB, and the fault hook installs
 * the radix translation of a faulting address afterwards.  An install that
 * raced with an invalidation is dropped (sequence count plus in-progress
 * range), and the hardware simply faults again.
 *
 * Locking, outermost first:
 *   lpt_enable_lock (prctl only) -> mmap_lock / VMA lock -> lpt_mm.ctl
 *   -> [page table lock, in reclaim's young callbacks] -> lpt_mm.lock
 * lpt_mm.lock is a spinlock taken in every notifier callback: every
 * library call on a table that hardware may walk happens under it, so
 * nothing under it sleeps (GFP_NOWAIT, frees deferred).  lpt_mm.ctl
 * serialises everything that changes the published root: lpt_set_root()
 * sleeps (IPIs), and the root must change in the order the tables do.
 *
 * Memory the hardware may walk is never freed while a CPU could still
 * reach it: frees of a live table go on lpt_mm.deferred and are released
 * after the next lpt_set_root() has made every CPU reload its root (which
 * also flushes its walk cache); a replaced table stays in lpt_mm.old, and
 * keeps receiving invalidations, until the new root is published.
 */
#ifndef LPT_KERNEL_H
#define LPT_KERNEL_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/list.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include "../../lib/lpt/lpt.h"

#define LPT_PENDING_MAX		256	/* pages waiting for the next table */
#define LPT_LOG_MAX		32	/* invalidations logged during a build */
#define LPT_BUILD_TRIES		4	/* snapshot+build attempts per enable */
#define LPT_RETRAIN_TRIES	4	/* attempts per retrain before fallback */

/*
 * Software PTE bits that only ever appear in a build's input: which kind
 * of mapping won a merge (lpt_merge_maps()).  An anchor is a not-present
 * entry at a VMA's first or last page: it makes the builder shape the
 * index for the VMA layout, so that pages faulted in later go to a leaf
 * of their own instead of costing a retrain, and it is removed from the
 * table again before the table goes live.
 */
#define LPT_PTE_SW_PENDING	BIT_ULL(9)
#define LPT_PTE_SW_ANCHOR	BIT_ULL(10)
#define LPT_ANCHORS_MAX		512	/* two per VMA, first VMAs first */

enum lpt_state {
	LPT_OFF,	/* attached, no table (never enabled, or prctl off) */
	LPT_ON,		/* a table is (being) published */
	LPT_FALLBACK,	/* a build failed: radix only until asked again */
	LPT_DEAD,	/* torn down for good (exit, module unload) */
};

struct lpt_mm;
struct seq_file;

/* One struct lpt and how its memory callbacks must behave. */
struct lpt_table {
	struct lpt *t;
	struct lpt_mm *m;
	/*
	 * Hardware may walk it, or it is only touched under m->lock:
	 * allocations must not sleep and frees are deferred to the next
	 * publish.  Changed only under m->lock or while the table is private.
	 */
	bool live;
};

/* Per-mm event counters, updated under lpt_mm.lock. */
struct lpt_mm_stats {
	u64 faults;		/* fault hook calls */
	u64 installs;		/* entries inserted */
	u64 updates;		/* entries rewritten (e.g. RO -> RW) */
	u64 present;		/* fault for an entry already there */
	u64 races;		/* installs dropped: raced with an invalidation */
	u64 builds;		/* tables built from the page tables */
	u64 retrains;		/* tables rebuilt off the fault path */
	u64 retrain_aborts;	/* retrain attempts thrown away (raced) */
	u64 publishes;		/* lpt_set_root() calls */
	u64 invalidations;	/* invalidate_range_start calls with a table */
	u64 inval_pages;	/* entries removed by them */
	u64 wrprotect_pages;	/* entries write-protected by them */
	u64 young_pages;	/* young LPT pages reported to reclaim */
	u64 conflicts;		/* stale overlapping entries dropped by us */
	u64 fallbacks;
	/* library counters of tables already replaced */
	u64 collisions, rescales, new_leaves, generation;
};

struct lpt_mm {
	struct mmu_notifier mn;		/* its lifetime is this struct's */
	struct mm_struct *mm;		/* pinned (mmgrab) by the notifier */
	struct list_head node;		/* on lpt_mms, under lpt_mms_lock */
	struct mutex ctl;		/* root changes, table swaps, state */
	spinlock_t lock;		/* everything below, every library call */

	enum lpt_state state;
	struct lpt_table *cur;		/* the table being kept current */
	struct lpt_table *old;		/* replaced, walked until published */
	u64 pub_root;			/* last value given to lpt_set_root() */
	u64 pub_gen;			/* cur's generation at that time */
	struct list_head deferred;	/* freed blocks (page->lru), see top */
	unsigned long deferred_pages;

	/* Invalidations, KVM style: a fault-side install checks both. */
	unsigned long inv_seq;		/* bumped by every range end */
	unsigned int inv_count;		/* ranges started, not ended */
	unsigned long inv_start, inv_end; /* union of those in progress */

	/*
	 * A build (enable or retrain) in progress works from a snapshot;
	 * invalidations from then on are logged and replayed onto the new
	 * table before it goes live.  build_id tells a build whether it was
	 * superseded (disable, another build) while it ran unlocked.
	 */
	bool building;
	u64 build_id;
	unsigned int nlog;
	bool log_overflow;		/* then log_lo..log_hi covers them all */
	unsigned long log_lo, log_hi;
	struct { unsigned long s, e; } log[LPT_LOG_MAX];

	/*
	 * Pages the next table must hold: those the current one could not
	 * place without a retrain, and those installed during a build.
	 */
	unsigned int npending;
	struct lpt_map pending[LPT_PENDING_MAX];

	struct work_struct retrain_work;
	wait_queue_head_t retrain_wq;	/* fault-side waiters */
	u64 retrain_runs;		/* completed worker runs */

	pid_t pid;			/* who enabled it (fork: see owner) */
	char comm[TASK_COMM_LEN];
	struct lpt_mm_stats st;
};

/* Global counters, /sys/kernel/debug/lpt/stats. */
struct lpt_global_stats {
	atomic64_t live_mms;		/* attached mms */
	atomic64_t live_tables;		/* struct lpt objects */
	atomic64_t live_pages;		/* arena + leaf table pages */
	atomic64_t live_deferred_pages;	/* of those, waiting to be freed */
	atomic64_t live_meta_bytes;	/* CPU-only bookkeeping */
	atomic64_t builds;
	atomic64_t build_failures;
	atomic64_t retrains;
	atomic64_t retrain_aborts;
	atomic64_t fallbacks;
	atomic64_t publishes;
	atomic64_t retrain_waits;
	atomic64_t retrain_timeouts;
	atomic64_t conflicts;
	atomic64_t own_tlb_flushes;
};

/*
 * Counters of the per-fault and per-invalidation paths: per CPU, so that
 * counting costs one unlocked add and no shared cache line (the fault
 * path's budget is 1.05x radix's kernel instructions, issue 26); debugfs
 * sums them.
 */
struct lpt_event_stats {
	u64 faults;
	u64 installs;
	u64 early_installs;	/* of those, from update_mmu_cache*() */
	u64 races;
	u64 invalidations;
	u64 inval_pages;
	u64 wrprotect_pages;
	u64 young_calls;
	u64 young_pages;
	u64 fault_ns;		/* time in the fault hook (hook_timing=1) */
	u64 inval_ns;		/* time in invalidate_range_start (same) */
};

DECLARE_PER_CPU(struct lpt_event_stats, lpt_events);
#define lpt_count(field, n)	this_cpu_add(lpt_events.field, (n))

extern struct lpt_global_stats lpt_stat;
extern bool lpt_hook_timing;
extern struct list_head lpt_mms;
extern struct mutex lpt_mms_lock;
extern struct workqueue_struct *lpt_wq;
extern unsigned int lpt_retrain_wait_ms;

/* lpt_mm.c */
enum lpt_build { LPT_BUILD_EMPTY, LPT_BUILD_LOCKED, LPT_BUILD_UNLOCKED };

struct lpt_mm *lpt_mm_attach(struct mm_struct *mm, bool mmap_write_locked);
int lpt_mm_enable(struct lpt_mm *m, enum lpt_build how);
void lpt_mm_disable(struct lpt_mm *m);
void lpt_mm_teardown(struct lpt_mm *m);
void lpt_mm_fault(struct lpt_mm *m, unsigned long address);
void lpt_mm_install_ptes(struct lpt_mm *m, unsigned long addr, pte_t *ptep,
			 unsigned int nr);
void lpt_mm_install_pmd(struct lpt_mm *m, unsigned long addr, pmd_t *pmdp);
void lpt_mm_ident(struct lpt_mm *m, pid_t *pid, char *comm);
void lpt_mm_detach_all(void);
const char *lpt_state_name(enum lpt_state s);
void lpt_mm_show(struct lpt_mm *m, struct seq_file *sf, bool oneline);
int lpt_mm_check(struct lpt_mm *m, struct seq_file *sf);

/* lpt_radix.c: the radix side, lockless like GUP-fast. */
struct lpt_snap {
	struct lpt_map *maps;
	size_t n, cap;
};

int lpt_radix_lookup(struct mm_struct *mm, unsigned long addr,
		     struct lpt_map *map);
int lpt_radix_pte_map(pte_t ptev, unsigned long addr, struct lpt_map *map);
int lpt_radix_pmd_map(pmd_t pmdv, unsigned long addr, struct lpt_map *map);
int lpt_radix_snapshot(struct mm_struct *mm, struct lpt_snap *s);
size_t lpt_radix_anchors(struct mm_struct *mm, struct lpt_map *out,
			 size_t max);

/* lpt_debugfs.c */
int lpt_debugfs_init(void);
void lpt_debugfs_exit(void);

#endif /* LPT_KERNEL_H */
