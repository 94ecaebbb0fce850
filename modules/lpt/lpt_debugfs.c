// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/lpt/: what the tests read (format: docs/lpt-kernel.md).
 *   stats  global counters, "name value" per line
 *   mms    one line per attached mm, "pid=N comm=... key=value ..."
 *   self   the reader's own mm, "key value" per line
 *   check  the reader's own LPT compared entry by entry with its radix
 *          table: "entries N", "stale N", then the first stale entries
 * debugfs_remove_recursive() waits for readers, so the module tears mms
 * down only after removing the files.
 */
#include <linux/debugfs.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include "lpt_kernel.h"

static struct dentry *lpt_dir;

/* A per-CPU event counter's total; racy against adds, as vm events are. */
static u64 lpt_event_sum(size_t off)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += *(u64 *)((char *)per_cpu_ptr(&lpt_events, cpu) + off);
	return sum;
}

static int lpt_stats_show(struct seq_file *sf, void *unused)
{
#define LPT_STAT(name) \
	seq_printf(sf, #name " %lld\n", atomic64_read(&lpt_stat.name))
#define LPT_EVENT(name) \
	seq_printf(sf, #name " %llu\n", lpt_event_sum(offsetof(struct lpt_event_stats, name)))
	LPT_STAT(live_mms);
	LPT_STAT(live_tables);
	LPT_STAT(live_pages);
	LPT_STAT(live_deferred_pages);
	LPT_STAT(live_meta_bytes);
	/* Everything lpt.ko holds: hardware-visible pages and bookkeeping. */
	seq_printf(sf, "live_bytes %lld\n",
		   (atomic64_read(&lpt_stat.live_pages) << PAGE_SHIFT) +
		   atomic64_read(&lpt_stat.live_meta_bytes));
	LPT_STAT(builds);
	LPT_STAT(build_failures);
	LPT_STAT(retrains);
	LPT_STAT(retrain_aborts);
	LPT_STAT(fallbacks);
	LPT_STAT(publishes);
	LPT_EVENT(faults);
	LPT_EVENT(installs);
	LPT_EVENT(early_installs);
	LPT_EVENT(races);
	LPT_STAT(retrain_waits);
	LPT_STAT(retrain_timeouts);
	LPT_EVENT(invalidations);
	LPT_EVENT(inval_pages);
	LPT_EVENT(wrprotect_pages);
	LPT_EVENT(young_calls);
	LPT_EVENT(young_pages);
	LPT_STAT(conflicts);
	LPT_STAT(own_tlb_flushes);
	LPT_EVENT(fault_ns);
	LPT_EVENT(inval_ns);
#undef LPT_EVENT
#undef LPT_STAT
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lpt_stats);

static int lpt_mms_show(struct seq_file *sf, void *unused)
{
	struct lpt_mm *m;

	mutex_lock(&lpt_mms_lock);
	list_for_each_entry(m, &lpt_mms, node)
		lpt_mm_show(m, sf, true);
	mutex_unlock(&lpt_mms_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lpt_mms);

/* The reader's mm state; its own mm cannot go away while it reads. */
static struct lpt_mm *lpt_self(void)
{
	struct mm_struct *mm = current->mm;

	return mm ? READ_ONCE(mm->lpt_private) : NULL;
}

static int lpt_self_show(struct seq_file *sf, void *unused)
{
	struct lpt_mm *m = lpt_self();

	if (!m) {
		seq_puts(sf, "state none\n");
		return 0;
	}
	lpt_mm_show(m, sf, false);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lpt_self);

static int lpt_check_show(struct seq_file *sf, void *unused)
{
	struct lpt_mm *m = lpt_self();

	if (!m) {
		seq_puts(sf, "entries 0\nstale 0\nstable 1\ntries 0\n");
		return 0;
	}
	return lpt_mm_check(m, sf);
}
DEFINE_SHOW_ATTRIBUTE(lpt_check);

int lpt_debugfs_init(void)
{
	lpt_dir = debugfs_create_dir("lpt", NULL);
	if (IS_ERR(lpt_dir))
		return PTR_ERR(lpt_dir);
	debugfs_create_file("stats", 0444, lpt_dir, NULL, &lpt_stats_fops);
	debugfs_create_file("mms", 0444, lpt_dir, NULL, &lpt_mms_fops);
	debugfs_create_file("self", 0444, lpt_dir, NULL, &lpt_self_fops);
	debugfs_create_file("check", 0444, lpt_dir, NULL, &lpt_check_fops);
	return 0;
}

void lpt_debugfs_exit(void)
{
	debugfs_remove_recursive(lpt_dir);
}
