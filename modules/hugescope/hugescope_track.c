// SPDX-License-Identifier: GPL-2.0
/*
 * The per-VM tracking worker of hugescope.ko.
 *
 * One delayed work item per tracked VM runs a two-phase loop.  The coarse
 * phase harvests the stage-2 accessed/dirty bits of every memslot at 2M
 * granularity once per period and counts, per 2M region, in how many rounds
 * it was accessed (frequency), when it was last accessed (recency) and a
 * read 1 / write 3 weight.  After coarse_rounds rounds the regions accessed
 * in at least hot_rounds rounds become candidates: they are split in place
 * to 4K, sampled for fine_windows windows, classified as hot or skewed by
 * how many of their 4K pages were accessed in most windows, and merged back
 * in place.  With a fast-tier budget the split threshold then adapts to
 * it (hs_adapt()).  Metadata is an xarray keyed by 2M frame holding a
 * record only for regions ever seen accessed, so its size follows the
 * touched memory, not the guest size.  The worker spends at most ~1/HS_BUDGET_DIV of a CPU:
 * a tick that ran long pushes the next one further out.
 */
#include <linux/bitmap.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include "hugescope.h"

/* Worker CPU budget: a tick of t ns delays the next one by >= t * DIV. */
#define HS_BUDGET_DIV		20
/* 2M regions harvested per call, so a huge slot does not hold mmu_lock long. */
#define HS_CHUNK		1024

static struct workqueue_struct *hs_wq;

static u64 hs_now(void)
{
	return ktime_get_ns();
}

static struct hugescope_region_meta *hs_region(struct hugescope_vm *hs, gfn_t gfn)
{
	struct hugescope_region_meta *m;
	unsigned long idx = gfn / HS_PAGES_PER_2M;

	m = xa_load(&hs->regions, idx);
	if (m)
		return m;
	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return NULL;
	if (xa_err(xa_store(&hs->regions, idx, m, GFP_KERNEL_ACCOUNT))) {
		kfree(m);
		return NULL;
	}
	hs->sum.regions++;
	return m;
}

/* Called under kvm->srcu. */
static void hs_coarse_slot(struct hugescope_vm *hs, struct kvm_memory_slot *slot,
			   unsigned long *acc, unsigned long *dirty)
{
	gfn_t start = ALIGN(slot->base_gfn, HS_PAGES_PER_2M);
	gfn_t end = ALIGN_DOWN(slot->base_gfn + slot->npages, HS_PAGES_PER_2M);
	struct hugescope_region_meta *m;
	unsigned long n, bit;
	u64 t0;
	int r;

	/* Being deleted or moved: KVM zaps it once our SRCU section ends. */
	if (slot->flags & KVM_MEMSLOT_INVALID)
		return;

	for (; start < end; start += n * HS_PAGES_PER_2M) {
		n = min_t(u64, (end - start) / HS_PAGES_PER_2M, HS_CHUNK);
		bitmap_zero(acc, HS_CHUNK);
		bitmap_zero(dirty, HS_CHUNK);
		t0 = hs_now();
		r = kvm_tdp_mmu_hs_harvest_2m(hs->kvm, slot, start, n, acc,
					      dirty, NULL);
		hs->sum.harvest_2m_ns += hs_now() - t0;
		if (r < 0)
			return;
		hs->sum.tracked_bytes += (u64)n << (PAGE_SHIFT + 9);
		for_each_set_bit(bit, acc, n) {
			m = hs_region(hs, start + bit * HS_PAGES_PER_2M);
			if (!m)
				return;
			m->freq++;
			m->weight += test_bit(bit, dirty) ? 3 : 1;
			m->last_scan = hs->sum.coarse_scans;
		}
	}
}

static void hs_coarse_scan(struct hugescope_vm *hs)
{
	struct kvm_memory_slot *slot;
	unsigned long *acc, *dirty;
	struct kvm_memslots *slots;
	int bkt;

	acc = bitmap_zalloc(HS_CHUNK, GFP_KERNEL);
	dirty = bitmap_zalloc(HS_CHUNK, GFP_KERNEL);
	if (acc && dirty) {
		hs->sum.tracked_bytes = 0;
		slots = kvm_memslots(hs->kvm);
		kvm_for_each_memslot(slot, bkt, slots)
			hs_coarse_slot(hs, slot, acc, dirty);
		hs->sum.coarse_scans++;
	}
	bitmap_free(acc);
	bitmap_free(dirty);
}

static struct kvm_memory_slot *hs_slot(struct hugescope_vm *hs, gfn_t gfn)
{
	struct kvm_memory_slot *slot = gfn_to_memslot(hs->kvm, gfn);

	/* The region must still lie wholly inside one live memslot. */
	if (!slot || (slot->flags & KVM_MEMSLOT_INVALID) || gfn < slot->base_gfn ||
	    gfn + HS_PAGES_PER_2M > slot->base_gfn + slot->npages)
		return NULL;
	return slot;
}

/* End of a coarse phase: pick candidates, split them.  Under kvm->srcu. */
static void hs_start_fine(struct hugescope_vm *hs)
{
	struct hugescope_region_meta *m;
	struct hugescope_candidate *c;
	struct kvm_memory_slot *slot;
	unsigned long idx;
	u64 t0;
	int r;

	/*
	 * The sampling buffers (~530 bytes per candidate) live only for the
	 * fine phase, sized by the candidates this phase actually has.
	 */
	hs->nr_cand = 0;
	xa_for_each(&hs->regions, idx, m)
		if (m->freq >= hs->p.hot_rounds && hs->nr_cand < hs->p.max_candidates)
			hs->nr_cand++;
	hs->cand = hs->nr_cand ? kvcalloc(hs->nr_cand, sizeof(*hs->cand),
					  GFP_KERNEL_ACCOUNT) : NULL;
	hs->cand_alloc = hs->cand ? hs->nr_cand : 0;
	hs->nr_cand = 0;

	xa_for_each(&hs->regions, idx, m) {
		m->last_freq = m->freq;
		m->last_weight = m->weight;
		m->freq = 0;
		m->weight = 0;
		if (m->last_freq < hs->p.hot_rounds) {
			m->class = HUGESCOPE_CLASS_COLD;
			continue;
		}
		if (hs->nr_cand == hs->cand_alloc)
			continue;
		c = &hs->cand[hs->nr_cand];
		memset(c, 0, sizeof(*c));
		c->gfn = (gfn_t)idx * HS_PAGES_PER_2M;
		slot = hs_slot(hs, c->gfn);
		if (!slot)
			continue;
		t0 = hs_now();
		r = kvm_tdp_mmu_hs_split(hs->kvm, slot, c->gfn);
		hs->sum.split_ns += hs_now() - t0;
		if (!r) {
			c->split = true;
			hs->sum.splits++;
		} else if (r != -ENOENT) {
			/* -ENOENT: already mapped at 4K, sample it as it is. */
			hs->sum.split_failures++;
			continue;
		}
		hs->nr_cand++;
	}
	hs->window = 0;
	hs->state = HUGESCOPE_STATE_FINE;
}

static void hs_fine_window(struct hugescope_vm *hs)
{
	unsigned long acc[HS_BITMAP_LONGS];
	struct hugescope_candidate *c;
	struct kvm_memory_slot *slot;
	unsigned long bit;
	bool harvested = false;
	u32 i;
	u64 t0;
	int r;

	/*
	 * Harvest every candidate without flushing, then flush once: one
	 * round of IPIs per window instead of one per region.
	 */
	t0 = hs_now();
	for (i = 0; i < hs->nr_cand; i++) {
		c = &hs->cand[i];
		if (c->lost)
			continue;
		slot = hs_slot(hs, c->gfn);
		if (!slot) {
			c->lost = true;
			continue;
		}
		bitmap_zero(acc, HS_PAGES_PER_2M);
		r = kvm_tdp_mmu_hs_harvest_4k(hs->kvm, slot, c->gfn, acc, NULL,
					      false);
		if (r < 0) {
			c->lost = true;
			continue;
		}
		harvested = true;
		for_each_set_bit(bit, acc, HS_PAGES_PER_2M)
			c->count[bit]++;
	}
	if (harvested)
		kvm_flush_remote_tlbs(hs->kvm);
	hs->sum.harvest_4k_ns += hs_now() - t0;
	hs->sum.fine_windows++;
}

/*
 * Footprint of the hot regions (those hot in the last coarse phase) at
 * @threshold: a skewed region needs its hot 4K pages in fast memory, any
 * other hot region all 512.  With @predict, the class each region would
 * get at @threshold if its hot count stayed as last measured; otherwise
 * its current class.  A hot region never sampled counts 512.
 */
static u64 hs_footprint(struct hugescope_vm *hs, u32 threshold, bool predict)
{
	struct hugescope_region_meta *m;
	unsigned long idx;
	bool skewed;
	u64 fp = 0;

	xa_for_each(&hs->regions, idx, m) {
		if (m->last_freq < hs->p.hot_rounds)
			continue;
		skewed = m->class == HUGESCOPE_CLASS_SKEWED;
		if (predict && m->fine_phases)
			skewed = __hugescope_is_skewed(m->class, m->nr_hot,
						       threshold,
						       hs->p.collapse_delta);
		fp += __hugescope_footprint(skewed, m->nr_hot);
	}
	return fp;
}

/*
 * After a fine phase: record the hot footprint and, with a budget, move the
 * threshold for the next phase.  Over budget: raise it, so more regions
 * count as skewed and more cold 4K pages become demotable.  Under 3/4 of
 * it: lower it, so fewer regions are split, unless the counts just measured
 * predict the lower threshold would overshoot the budget (that would only
 * bring the next raise, an oscillation).  Within the bounds always.
 */
static void hs_adapt(struct hugescope_vm *hs)
{
	u64 budget = hs->p.fast_budget_4k;
	u32 t = hs->threshold, next = t;
	u64 fp = hs_footprint(hs, t, false);

	hs->sum.hot_footprint_4k = fp;
	if (!budget)
		return;
	if (fp > budget) {
		next = hugescope_raise_step(t, hs->p.threshold_max);
	} else if (fp * 4 < budget * 3) {
		next = hugescope_lower_step(t, hs->p.threshold_min);
		if (next < t && hs_footprint(hs, next, true) > budget)
			next = t;
	}
	if (next > t)
		hs->sum.threshold_raises++;
	else if (next < t)
		hs->sum.threshold_drops++;
	hs->threshold = next;
}

/*
 * Merge (or at least release) every candidate we split.  With @classify,
 * record the fine phase's results first.  Under kvm->srcu.
 */
static void hs_end_fine(struct hugescope_vm *hs, bool classify)
{
	struct hugescope_region_meta *m;
	struct hugescope_candidate *c;
	struct kvm_memory_slot *slot;
	u32 i;
	u64 t0;
	int r;

	for (i = 0; i < hs->nr_cand; i++) {
		c = &hs->cand[i];
		m = xa_load(&hs->regions, c->gfn / HS_PAGES_PER_2M);
		if (classify && m && !c->lost) {
			__hugescope_classify(c->count, hs->p.fine_windows,
					     hs->threshold, hs->p.collapse_delta,
					     m);
			m->fine_phases++;
		}
		if (!c->split)
			continue;
		slot = hs_slot(hs, c->gfn);
		if (!slot) {
			kvm_tdp_mmu_hs_release(hs->kvm, c->gfn);
			continue;
		}
		t0 = hs_now();
		r = kvm_tdp_mmu_hs_merge(hs->kvm, slot, c->gfn);
		hs->sum.merge_ns += hs_now() - t0;
		if (r)
			hs->sum.merge_failures++;
		else
			hs->sum.merges++;
	}
	hs->nr_cand = 0;
	kvfree(hs->cand);
	hs->cand = NULL;
	hs->cand_alloc = 0;
	if (classify) {
		hs->sum.fine_phases++;
		hs_adapt(hs);
	}
	hs->round = 0;
	hs->state = HUGESCOPE_STATE_COARSE;
	if (hs->p.max_cycles && hs->sum.fine_phases >= hs->p.max_cycles)
		hs->state = HUGESCOPE_STATE_IDLE;
}

/* Drop the VM.  Under ->lock. */
static void hs_release_vm(struct hugescope_vm *hs, u32 state)
{
	int idx;

	if (!hs->kvm)
		return;
	if (hs->state == HUGESCOPE_STATE_FINE) {
		idx = srcu_read_lock(&hs->kvm->srcu);
		hs_end_fine(hs, false);
		srcu_read_unlock(&hs->kvm->srcu, idx);
	}
	kvm_put_kvm(hs->kvm);
	hs->kvm = NULL;
	hs->state = state;
}

static void hs_work(struct work_struct *work)
{
	struct hugescope_vm *hs = container_of(to_delayed_work(work),
					       struct hugescope_vm, work);
	unsigned long delay;
	u64 t0 = hs_now(), dt;
	int idx;

	mutex_lock(&hs->lock);
	if (hs->stopping || !hs->kvm)
		goto out;

	/*
	 * Only our reference is left: the VMM closed the VM.  Let it go now
	 * instead of keeping a dead VM's memory until detach.
	 */
	if (refcount_read(&hs->kvm->users_count) == 1) {
		hs_release_vm(hs, HUGESCOPE_STATE_VM_GONE);
		goto out;
	}

	idx = srcu_read_lock(&hs->kvm->srcu);
	if (hs->state == HUGESCOPE_STATE_COARSE) {
		hs_coarse_scan(hs);
		if (++hs->round >= hs->p.coarse_rounds)
			hs_start_fine(hs);
	} else if (hs->state == HUGESCOPE_STATE_FINE) {
		hs_fine_window(hs);
		if (++hs->window >= hs->p.fine_windows)
			hs_end_fine(hs, true);
	}
	srcu_read_unlock(&hs->kvm->srcu, idx);

	dt = hs_now() - t0;
	hs->sum.worker_ns += dt;
	if (hs->state == HUGESCOPE_STATE_COARSE || hs->state == HUGESCOPE_STATE_FINE) {
		delay = msecs_to_jiffies(hs->state == HUGESCOPE_STATE_COARSE ?
					 hs->p.coarse_period_ms :
					 hs->p.fine_window_ms);
		delay = max(delay, nsecs_to_jiffies(dt * HS_BUDGET_DIV));
		queue_delayed_work(hs_wq, &hs->work, delay);
	}
out:
	mutex_unlock(&hs->lock);
}

/**
 * hugescope_vm_start() - start tracking; hs->kvm and hs->p are set
 * @hs: the tracker, not yet visible to the worker
 *
 * Context: process; takes no locks.  Return: 0.
 */
int hugescope_vm_start(struct hugescope_vm *hs)
{
	mutex_init(&hs->lock);
	xa_init(&hs->regions);
	INIT_DELAYED_WORK(&hs->work, hs_work);
	hs->threshold = hs->p.split_threshold;
	hs->state = HUGESCOPE_STATE_COARSE;
	queue_delayed_work(hs_wq, &hs->work, msecs_to_jiffies(hs->p.coarse_period_ms));
	return 0;
}

/**
 * hugescope_vm_stop() - stop tracking, merge split regions, free metadata
 * @hs: a tracker started by hugescope_vm_start()
 *
 * Safe at any moment of a phase: the worker is cancelled first, then the
 * candidates of an unfinished fine phase are merged.  Context: process,
 * may sleep; takes and drops ->lock.
 */
void hugescope_vm_stop(struct hugescope_vm *hs)
{
	struct hugescope_region_meta *m;
	unsigned long idx;

	mutex_lock(&hs->lock);
	hs->stopping = true;
	mutex_unlock(&hs->lock);
	cancel_delayed_work_sync(&hs->work);

	mutex_lock(&hs->lock);
	hs_release_vm(hs, HUGESCOPE_STATE_DETACHED);
	xa_for_each(&hs->regions, idx, m)
		kfree(m);
	xa_destroy(&hs->regions);
	mutex_unlock(&hs->lock);
}

static void hs_fill_record(struct hugescope_vm *hs, unsigned long idx,
			   const struct hugescope_region_meta *m,
			   struct hugescope_region *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->gfn = (u64)idx * HS_PAGES_PER_2M;
	rec->freq = m->last_freq;
	rec->age = hs->sum.coarse_scans - 1 - m->last_scan;
	rec->weight = m->last_weight;
	rec->class = m->class;
	rec->nr_hot_4k = m->nr_hot;
	rec->nr_touched_4k = m->nr_touched;
	rec->skew = m->fine_phases ?
		    1000 - m->nr_hot * 1000 / HS_PAGES_PER_2M : 0;
	rec->fine_phases = m->fine_phases;
	bitmap_to_arr64(rec->hot_4k, m->hot, HS_PAGES_PER_2M);
}

/**
 * hugescope_vm_read() - copy per-2M records to user space
 * @hs: the tracker
 * @rd: request; ->nr and ->start_gfn are updated
 *
 * Context: process, may sleep; takes ->lock.  Return: 0 or -EFAULT.
 */
int hugescope_vm_read(struct hugescope_vm *hs, struct hugescope_read *rd)
{
	struct hugescope_region __user *out = u64_to_user_ptr(rd->regions);
	struct hugescope_region_meta *m;
	struct hugescope_region rec;
	unsigned long idx = rd->start_gfn / HS_PAGES_PER_2M;
	u32 n = 0;
	int r = 0;

	mutex_lock(&hs->lock);
	xa_for_each_start(&hs->regions, idx, m, idx) {
		if (n == rd->nr)
			break;
		hs_fill_record(hs, idx, m, &rec);
		if (copy_to_user(&out[n], &rec, sizeof(rec))) {
			r = -EFAULT;
			break;
		}
		n++;
		rd->start_gfn = (u64)(idx + 1) * HS_PAGES_PER_2M;
	}
	mutex_unlock(&hs->lock);
	rd->nr = n;
	return r;
}

/**
 * hugescope_vm_summary() - snapshot the tracker's counters
 * @hs: the tracker
 * @s: out
 *
 * Context: process, may sleep; takes ->lock.
 */
void hugescope_vm_summary(struct hugescope_vm *hs, struct hugescope_summary *s)
{
	mutex_lock(&hs->lock);
	*s = hs->sum;
	s->state = hs->state;
	s->split_threshold = hs->threshold;
	s->collapse_threshold = hs->threshold + hs->p.collapse_delta;
	s->fast_budget_4k = hs->p.fast_budget_4k;
	/* Records plus the xarray: one 576-byte node per 64 records at worst. */
	s->meta_bytes = hs->sum.regions *
			(sizeof(struct hugescope_region_meta) + 576 / 64 + 1) +
			hs->cand_alloc * sizeof(struct hugescope_candidate) +
			sizeof(*hs);
	mutex_unlock(&hs->lock);
}

int hugescope_track_init(void)
{
	hs_wq = alloc_workqueue("hugescope", WQ_UNBOUND, 0);
	return hs_wq ? 0 : -ENOMEM;
}

void hugescope_track_exit(void)
{
	destroy_workqueue(hs_wq);
}
