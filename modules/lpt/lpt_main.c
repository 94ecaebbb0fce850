// SPDX-License-Identifier: GPL-2.0
/*
 * lpt.ko: module glue.  Registers the LPT hooks of the core kernel
 * (include/linux/lpt_hooks.h) and decides which mms get an LPT: the ones
 * that ask with prctl(PR_SET_LPT, 1), their children and the programs they
 * exec (the wish is inherited), children of a parent that has one, and
 * every exec and fork while the parameter default_enable is set.
 */
#include <linux/hugetlb.h>
#include <linux/ktime.h>
#include <linux/lpt_hooks.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include "lpt_kernel.h"

struct lpt_global_stats lpt_stat;
DEFINE_PER_CPU(struct lpt_event_stats, lpt_events);

/* Off by default: two clock reads per fault would be most of its cost. */
bool lpt_hook_timing;
module_param_named(hook_timing, lpt_hook_timing, bool, 0644);
MODULE_PARM_DESC(hook_timing,
		 "time the fault hook and invalidations (debugfs fault_ns, inval_ns)");
/* Protects lpt_mms: every attached mm, for debugfs and module unload. */
DEFINE_MUTEX(lpt_mms_lock);
LIST_HEAD(lpt_mms);
struct workqueue_struct *lpt_wq;

/* Serialises prctl(PR_SET_LPT): attach and enable/disable of one mm. */
static DEFINE_MUTEX(lpt_enable_lock);

static bool lpt_default_enable;
module_param_named(default_enable, lpt_default_enable, bool, 0644);
MODULE_PARM_DESC(default_enable,
		 "give every process an LPT at exec and fork (default: only those asking with prctl)");

unsigned int lpt_retrain_wait_ms = 100;
module_param_named(retrain_wait_ms, lpt_retrain_wait_ms, uint, 0644);
MODULE_PARM_DESC(retrain_wait_ms,
		 "how long a fault may wait for the retrain its page needs (ms)");

static bool lpt_wanted(struct mm_struct *mm)
{
	return test_bit(MM_LPT_WANT, &mm->lpt_flags) ||
	       READ_ONCE(lpt_default_enable);
}

static void lpt_attach_failed(struct mm_struct *mm, long err)
{
	atomic64_inc(&lpt_stat.fallbacks);
	pr_warn_ratelimited("lpt: pid %d (%s): using the radix page table, no LPT: cannot attach (%ld)\n",
			    task_tgid_nr(current), current->comm, err);
}

static void lpt_on_fault(struct vm_area_struct *vma, unsigned long address,
			 unsigned int flags)
{
	struct lpt_mm *m = READ_ONCE(vma->vm_mm->lpt_private);
	u64 t0;

	if (!m)
		return;
	if (!READ_ONCE(lpt_hook_timing)) {
		lpt_mm_fault(m, address);
		return;
	}
	/* What an LPT adds to a fault, in ns (lpt_faultbench). */
	t0 = ktime_get_ns();
	lpt_mm_fault(m, address);
	lpt_count(fault_ns, ktime_get_ns() - t0);
}

/* Under the page table lock; hugetlb entries are left to the fault hook. */
static void lpt_on_install_ptes(struct vm_area_struct *vma, unsigned long addr,
				pte_t *ptep, unsigned int nr)
{
	struct lpt_mm *m = READ_ONCE(vma->vm_mm->lpt_private);

	if (m && !is_vm_hugetlb_page(vma))
		lpt_mm_install_ptes(m, addr, ptep, nr);
}

static void lpt_on_install_pmd(struct vm_area_struct *vma, unsigned long addr,
			       pmd_t *pmdp)
{
	struct lpt_mm *m = READ_ONCE(vma->vm_mm->lpt_private);

	if (m && !is_vm_hugetlb_page(vma))
		lpt_mm_install_pmd(m, addr, pmdp);
}

/* @mm is a copy of @oldmm nobody else can see yet; no lock is held. */
static void lpt_on_fork(struct mm_struct *oldmm, struct mm_struct *mm)
{
	struct lpt_mm *parent = READ_ONCE(oldmm->lpt_private), *m;

	if (!(parent && READ_ONCE(parent->state) == LPT_ON) && !lpt_wanted(mm))
		return;
	m = lpt_mm_attach(mm, false);
	if (IS_ERR(m)) {
		lpt_attach_failed(mm, PTR_ERR(m));
		return;
	}
	lpt_mm_enable(m, LPT_BUILD_UNLOCKED);
}

/*
 * The new @mm of current, with the old mm's mmap lock held for reading:
 * take the new one nested (another instance of the same lock class) to
 * register the notifier.  The table starts empty (see lpt_mm_enable()).
 */
static void lpt_on_exec(struct mm_struct *mm)
{
	struct lpt_mm *m;

	if (!lpt_wanted(mm))
		return;
	mmap_write_lock_nested(mm, SINGLE_DEPTH_NESTING);
	m = lpt_mm_attach(mm, true);
	if (!IS_ERR(m))
		lpt_mm_enable(m, LPT_BUILD_EMPTY);
	mmap_write_unlock(mm);
	if (IS_ERR(m))
		lpt_attach_failed(mm, PTR_ERR(m));
}

static int lpt_on_set_enabled(struct mm_struct *mm, bool enable)
{
	struct lpt_mm *m;
	int ret = 0;

	mutex_lock(&lpt_enable_lock);
	m = READ_ONCE(mm->lpt_private);
	if (enable) {
		if (!m)
			m = lpt_mm_attach(mm, false);
		ret = IS_ERR(m) ? PTR_ERR(m) :
		      lpt_mm_enable(m, LPT_BUILD_UNLOCKED);
	} else if (m) {
		lpt_mm_disable(m);
	}
	mutex_unlock(&lpt_enable_lock);
	return ret;
}

static const struct lpt_hook_ops lpt_ops = {
	.owner		= THIS_MODULE,
	.fault		= lpt_on_fault,
	.install_ptes	= lpt_on_install_ptes,
	.install_pmd	= lpt_on_install_pmd,
	.fork		= lpt_on_fork,
	.exec		= lpt_on_exec,
	.set_enabled	= lpt_on_set_enabled,
};

static int __init lpt_init(void)
{
	int ret;

	lpt_wq = alloc_workqueue("lpt", WQ_UNBOUND, 0);
	if (!lpt_wq)
		return -ENOMEM;
	ret = lpt_debugfs_init();
	if (ret)
		goto out_wq;
	ret = lpt_register_hooks(&lpt_ops);
	if (ret) {
		pr_info("lpt: cannot register the LPT hooks (%d)%s\n", ret,
			ret == -ENODEV ? ": this CPU has no LPT MMU" : "");
		goto out_debugfs;
	}
	return 0;

out_debugfs:
	lpt_debugfs_exit();
out_wq:
	destroy_workqueue(lpt_wq);
	return ret;
}

/*
 * After the hooks are gone no mm can be attached, faulted or forked into;
 * then every LPT is unpublished (root 0 first) and freed, and the notifier
 * frees have run before the module text goes.
 */
static void __exit lpt_exit(void)
{
	lpt_unregister_hooks(&lpt_ops);
	lpt_debugfs_exit();
	lpt_mm_detach_all();
	mmu_notifier_synchronize();
	destroy_workqueue(lpt_wq);
	if (atomic64_read(&lpt_stat.live_mms) || atomic64_read(&lpt_stat.live_tables) ||
	    atomic64_read(&lpt_stat.live_pages) ||
	    atomic64_read(&lpt_stat.live_meta_bytes))
		pr_warn("lpt: unloaded with mms %lld tables %lld hw_pages %lld meta_bytes %lld live\n",
			atomic64_read(&lpt_stat.live_mms),
			atomic64_read(&lpt_stat.live_tables),
			atomic64_read(&lpt_stat.live_pages),
			atomic64_read(&lpt_stat.live_meta_bytes));
}

module_init(lpt_init);
module_exit(lpt_exit);
MODULE_DESCRIPTION("Learned page table manager");
MODULE_LICENSE("GPL");
