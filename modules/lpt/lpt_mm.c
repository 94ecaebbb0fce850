// SPDX-License-Identifier: GPL-2.0
/*
 * lpt.ko, per mm: the table's memory, publishing roots, the fault-side
 * install, builds and retrains, fallback, and the MMU notifier that keeps
 * the LPT coherent with the radix page table.  lpt_kernel.h describes the
 * locking and the rules for memory the hardware may walk.
 */
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/lpt_hooks.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <asm/tlbflush.h>
#include "lpt_kernel.h"

/* ---- memory for one table ---- */

/*
 * Contiguity oracle: the largest free buddy block a GFP_KERNEL allocation
 * could get now, from the free-area counts of every node's zones up to
 * ZONE_NORMAL (allocations fall back to remote nodes, so all count).
 * Approximate and lock-free: the builder only shapes leaves with it, and
 * a failed allocation still fails cleanly.
 */
static u64 lpt_max_contig(void *ctx)
{
	struct zone *zone;
	int order, nid, z;

	for (order = MAX_PAGE_ORDER; order > 0; order--) {
		for_each_online_node(nid) {
			for (z = 0; z <= ZONE_NORMAL; z++) {
				zone = &NODE_DATA(nid)->node_zones[z];
				if (!populated_zone(zone))
					continue;
				/* Unlocked read of a counter: a hint. */
				if (data_race(zone->free_area[order].nr_free))
					return PAGE_SIZE << order;
			}
		}
	}
	return PAGE_SIZE;
}

static void *lpt_mem_alloc(void *ctx, size_t bytes, uint64_t *pa)
{
	struct lpt_table *tb = ctx;
	gfp_t gfp = (tb->live ? GFP_NOWAIT | __GFP_ACCOUNT :
		     GFP_KERNEL_ACCOUNT) | __GFP_ZERO | __GFP_NOWARN;
	phys_addr_t phys;
	void *va;

	va = alloc_pages_exact(bytes, gfp);
	if (!va)
		return NULL;
	phys = virt_to_phys(va);
	if (phys + bytes > (1ULL << LPT_TABLE_PA_BITS)) {
		free_pages_exact(va, bytes);
		return NULL;
	}
	*pa = phys;
	atomic64_add(bytes >> PAGE_SHIFT, &lpt_stat.live_pages);
	return va;
}

static void lpt_hw_free(void *va, size_t bytes)
{
	free_pages_exact(va, bytes);
	atomic64_sub(bytes >> PAGE_SHIFT, &lpt_stat.live_pages);
}

/*
 * A live table's block may still be walked (an old leaf table after a
 * rescale, reachable through a node cached in some CPU's walk cache):
 * keep it, linked through its first page, until the next publish.
 */
static void lpt_mem_free(void *ctx, void *va, uint64_t pa, size_t bytes)
{
	struct lpt_table *tb = ctx;
	struct page *page;

	if (!tb->live) {
		lpt_hw_free(va, bytes);
		return;
	}
	lockdep_assert_held(&tb->m->lock);
	page = virt_to_page(va);
	set_page_private(page, bytes);
	list_add_tail(&page->lru, &tb->m->deferred);
	tb->m->deferred_pages += bytes >> PAGE_SHIFT;
	atomic64_add(bytes >> PAGE_SHIFT, &lpt_stat.live_deferred_pages);
}

static void lpt_free_deferred(struct list_head *list)
{
	struct page *page, *tmp;
	size_t bytes;

	list_for_each_entry_safe(page, tmp, list, lru) {
		bytes = page_private(page);
		list_del_init(&page->lru);
		set_page_private(page, 0);
		atomic64_sub(bytes >> PAGE_SHIFT, &lpt_stat.live_deferred_pages);
		lpt_hw_free(page_address(page), bytes);
	}
}

static void *lpt_meta_alloc(void *ctx, size_t bytes)
{
	struct lpt_table *tb = ctx;
	void *p;

	if (tb->live)
		p = kmalloc(bytes, GFP_NOWAIT | __GFP_NOWARN);
	else
		p = kvmalloc(bytes, GFP_KERNEL_ACCOUNT);
	if (p)
		atomic64_add(bytes, &lpt_stat.live_meta_bytes);
	return p;
}

static void lpt_meta_free(void *ctx, void *p, size_t bytes)
{
	kvfree(p);
	atomic64_sub(bytes, &lpt_stat.live_meta_bytes);
}

static struct lpt_table *lpt_table_new(struct lpt_mm *m)
{
	struct lpt_mem_ops ops = {
		.alloc = lpt_mem_alloc,
		.free = lpt_mem_free,
		.max_contig = lpt_max_contig,
		.meta_alloc = lpt_meta_alloc,
		.meta_free = lpt_meta_free,
	};
	struct lpt_params p;
	struct lpt_table *tb;

	tb = kzalloc(sizeof(*tb), GFP_KERNEL_ACCOUNT);
	if (!tb)
		return NULL;
	tb->m = m;
	ops.ctx = tb;
	lpt_params_default(&p);
	tb->t = lpt_create(&p, &ops);
	if (!tb->t) {
		kfree(tb);
		return NULL;
	}
	atomic64_inc(&lpt_stat.live_tables);
	return tb;
}

/* Free a table no CPU can walk: never published, or unpublished. */
static void lpt_table_free(struct lpt_table *tb)
{
	if (!tb)
		return;
	tb->live = false;
	lpt_destroy(tb->t);
	kfree(tb);
	atomic64_dec(&lpt_stat.live_tables);
}

/* ---- publishing ---- */

/*
 * Give every CPU that runs m->mm the root of m->cur (0 without one), then
 * free what no CPU can reach any more: blocks deferred until now and the
 * table the last swap replaced.  Nothing to do when the root, the
 * generation and the deferred list are as last published.  Caller holds
 * m->ctl, so roots are published in the order tables were swapped.
 */
static void lpt_publish(struct lpt_mm *m)
{
	struct lpt_table *old;
	LIST_HEAD(dead);
	u64 root, gen;

	lockdep_assert_held(&m->ctl);
	spin_lock(&m->lock);
	root = m->cur ? lpt_root(m->cur->t) : 0;
	gen = m->cur ? lpt_generation(m->cur->t) : 0;
	if (root == m->pub_root && gen == m->pub_gen && !m->old &&
	    list_empty(&m->deferred)) {
		spin_unlock(&m->lock);
		return;
	}
	m->pub_gen = gen;
	list_splice_init(&m->deferred, &dead);
	m->deferred_pages = 0;
	m->st.publishes++;
	spin_unlock(&m->lock);

	lpt_set_root(m->mm, root);
	WRITE_ONCE(m->pub_root, root);
	atomic64_inc(&lpt_stat.publishes);

	spin_lock(&m->lock);
	old = m->old;
	m->old = NULL;
	spin_unlock(&m->lock);
	lpt_table_free(old);
	lpt_free_deferred(&dead);
}

static void lpt_publish_if_moved(struct lpt_mm *m)
{
	mutex_lock(&m->ctl);
	lpt_publish(m);
	mutex_unlock(&m->ctl);
}

static void lpt_flush_local(void *unused)
{
	__flush_tlb_all();
}

/*
 * We dropped LPT entries the kernel did not invalidate (stale ones found
 * on install: a notifier should have removed them).  flush_tlb_mm_range()
 * is not exported, so flush everything everywhere: it also covers CPUs
 * that keep this mm's PCID without being in its cpumask.  Never expected.
 */
static void lpt_flush_tlb_all(void)
{
	on_each_cpu(lpt_flush_local, NULL, 1);
	atomic64_inc(&lpt_stat.own_tlb_flushes);
}

/* ---- identity and failure ---- */

/* The owner's tgid and comm now (a fork child has no pid at fork time). */
void lpt_mm_ident(struct lpt_mm *m, pid_t *pid, char *comm)
{
	struct task_struct *p = NULL;

	*pid = m->pid;
	strscpy(comm, m->comm, TASK_COMM_LEN);
#ifdef CONFIG_MEMCG
	rcu_read_lock();
	p = rcu_dereference(m->mm->owner);
	if (p && task_tgid_nr(p)) {
		*pid = task_tgid_nr(p);
		__get_task_comm(comm, TASK_COMM_LEN, p);
	}
	rcu_read_unlock();
#endif
}

static const char *lpt_reason(int err)
{
	switch (err) {
	case -ENOMEM:
		return "out of memory";
	case -ENOSPC:
		return "no index fits the ABI limits";
	case -EAGAIN:
		return "invalidations kept racing with the build";
	case -EOPNOTSUPP:
		return "a page has a memory type an LPT entry cannot express";
	default:
		return "internal error";
	}
}

/* Add what a replaced table counted to the mm's totals.  Under m->lock. */
static void lpt_fold_stats(struct lpt_mm *m, struct lpt_table *tb)
{
	struct lpt_stats s;

	if (!tb)
		return;
	lpt_get_stats(tb->t, &s);
	m->st.collisions += s.collisions;
	m->st.rescales += s.rescales;
	m->st.new_leaves += s.new_leaves;
	m->st.generation += s.generation + 1;
}

/*
 * Unpublish (root 0) and free the table, stop any build, and move to
 * @to unless torn down already.  Until the root is 0 everywhere the table
 * is still walked, so it waits in m->old, where invalidations keep
 * reaching it, and lpt_publish() frees it.  Sleeps.
 */
static void lpt_drop_table(struct lpt_mm *m, enum lpt_state to)
{
	mutex_lock(&m->ctl);
	spin_lock(&m->lock);
	lpt_fold_stats(m, m->cur);
	m->old = m->cur;	/* NULL outside m->ctl: publishes clear it */
	m->cur = NULL;
	if (m->state != LPT_DEAD)
		m->state = to;
	m->building = false;
	m->build_id++;
	m->npending = 0;
	spin_unlock(&m->lock);
	lpt_publish(m);
	mutex_unlock(&m->ctl);
	wake_up_all(&m->retrain_wq);
}

/*
 * Fall back to the radix table, with one line in the log.  The mm stays
 * attached; prctl(PR_SET_LPT, 1) may try again.
 */
static void lpt_fail(struct lpt_mm *m, int err)
{
	char comm[TASK_COMM_LEN];
	pid_t pid;

	spin_lock(&m->lock);
	m->st.fallbacks++;
	spin_unlock(&m->lock);
	lpt_drop_table(m, LPT_FALLBACK);
	atomic64_inc(&lpt_stat.fallbacks);
	lpt_mm_ident(m, &pid, comm);
	pr_warn_ratelimited("lpt: pid %d (%s): using the radix page table, no LPT: %s (%d)\n",
			    pid, comm, lpt_reason(err), err);
}

/* ---- builds ---- */

static void lpt_log_add(struct lpt_mm *m, unsigned long s, unsigned long e)
{
	unsigned int i;

	if (!m->log_overflow && m->nlog < LPT_LOG_MAX) {
		m->log[m->nlog].s = s;
		m->log[m->nlog].e = e;
		m->nlog++;
		return;
	}
	if (!m->log_overflow) {
		m->log_overflow = true;
		m->log_lo = s;
		m->log_hi = e;
		for (i = 0; i < m->nlog; i++) {
			m->log_lo = min(m->log_lo, m->log[i].s);
			m->log_hi = max(m->log_hi, m->log[i].e);
		}
	}
	m->log_lo = min(m->log_lo, s);
	m->log_hi = max(m->log_hi, e);
}

/*
 * A build starts from a snapshot taken now: from here on invalidations
 * are logged for it, including any still in progress.  Under m->lock.
 */
static u64 lpt_build_begin(struct lpt_mm *m)
{
	lockdep_assert_held(&m->lock);
	m->building = true;
	m->nlog = 0;
	m->log_overflow = false;
	if (m->inv_count)
		lpt_log_add(m, m->inv_start, m->inv_end);
	return ++m->build_id;
}

static void lpt_build_end(struct lpt_mm *m, u64 id)
{
	spin_lock(&m->lock);
	if (m->build_id == id)
		m->building = false;
	spin_unlock(&m->lock);
}

static void lpt_pending_add(struct lpt_mm *m, const struct lpt_map *map)
{
	if (m->npending < LPT_PENDING_MAX)
		m->pending[m->npending++] = *map;
}

static void lpt_pending_drop(struct lpt_mm *m, unsigned long s,
			     unsigned long e)
{
	unsigned int i, k = 0;

	for (i = 0; i < m->npending; i++) {
		const struct lpt_map *p = &m->pending[i];

		if (p->va < e && s < p->va + lpt_size_bytes(p->size))
			continue;
		m->pending[k++] = *p;
	}
	m->npending = k;
}

/*
 * Put @map into @tb: insert it (first touch, the common case: no lookup
 * first) or, when something is there, rewrite the entry already there (an
 * upgrade such as RO -> RW after the first write; the A bit the hardware
 * set is kept).  An entry of another size over the page is stale, which
 * notifiers should make impossible: drop it and ask for a TLB flush, or,
 * without @flush (a caller that cannot flush), leave it all and return
 * -EAGAIN.  Under m->lock.  Return: 0, LPT_NEED_RETRAIN, -ENOMEM (no
 * memory without sleeping), -EINVAL or -EAGAIN.
 */
static int lpt_place(struct lpt_mm *m, struct lpt_table *tb,
		     const struct lpt_map *map, bool *flush)
{
	u64 end = map->va + lpt_size_bytes(map->size), base, lim;
	struct lpt_map old;
	bool found;
	int ret;

	ret = lpt_insert(tb->t, map->va, map->pte, map->size);
	if (ret != -EEXIST)
		goto out;
	found = !lpt_get(tb->t, map->va, &old);
	if (found && old.size == map->size) {
		if (!((old.pte ^ map->pte) & ~(LPT_PTE_A | LPT_PTE_D))) {
			m->st.present++;
			return 0;
		}
		m->st.updates++;
		return lpt_update(tb->t, map->va,
				  map->pte | (old.pte & LPT_PTE_A));
	}
	if (!flush)
		return -EAGAIN;
	/* Pages of another size in the way: all that overlaps goes. */
	base = map->va;
	lim = end;
	if (found) {
		base = old.va;
		lim = max(end, base + lpt_size_bytes(old.size));
	}
	m->st.conflicts += lpt_remove_range(tb->t, base, lim);
	*flush = true;
	ret = lpt_insert(tb->t, map->va, map->pte, map->size);
out:
	if (!ret)
		m->st.installs++;
	return ret;
}

static bool lpt_maps_overlap(const struct lpt_map *a, const struct lpt_map *b)
{
	return a->va < b->va + lpt_size_bytes(b->size) &&
	       b->va < a->va + lpt_size_bytes(a->size);
}

/* Pending pages are fresher than the table's, anchors give way to both. */
static int lpt_map_prio(const struct lpt_map *m)
{
	if (m->pte & LPT_PTE_SW_PENDING)
		return 2;
	return m->pte & LPT_PTE_SW_ANCHOR ? 0 : 1;
}

/*
 * The input of a build, in place: @n sorted mappings at maps[t..t+n) and
 * @t more of any order at maps[t+n..t+n+t) (anchors, pending pages: see
 * LPT_PTE_SW_*) are merged into maps[0..), sorted and non-overlapping;
 * where two overlap, the one of higher priority stays, of equal ones the
 * first.  The write index never passes a read index.  The pending mark is
 * dropped; the anchor mark stays so that the anchors can be found again.
 * Return: mappings kept.
 */
static size_t lpt_merge_maps(struct lpt_map *maps, size_t n, size_t t)
{
	struct lpt_map *a = maps + t, *b = maps + t + n, x;
	size_t i = 0, j = 0, k = 0;

	lpt_sort_maps(b, t);
	while (i < n || j < t) {
		x = (j < t && (i >= n || b[j].va <= a[i].va)) ? b[j++] : a[i++];
		while (k && lpt_maps_overlap(&maps[k - 1], &x) &&
		       lpt_map_prio(&maps[k - 1]) < lpt_map_prio(&x))
			k--;
		if (k && lpt_maps_overlap(&maps[k - 1], &x))
			continue;
		maps[k++] = x;
	}
	for (i = 0; i < k; i++)
		maps[i].pte &= ~LPT_PTE_SW_PENDING;
	return k;
}

/*
 * Build a private table from mappings laid out as lpt_merge_maps() wants
 * them, then remove the anchors: their leaves stay, empty, for the pages
 * to come.
 */
static int lpt_build_table(struct lpt_mm *m, struct lpt_map *maps, size_t n,
			   size_t t, struct lpt_table **out)
{
	struct lpt_table *tb = lpt_table_new(m);
	size_t i;
	int ret;

	if (!tb)
		return -ENOMEM;
	n = lpt_merge_maps(maps, n, t);
	ret = lpt_build(tb->t, maps, n);
	if (ret) {
		lpt_table_free(tb);
		atomic64_inc(&lpt_stat.build_failures);
		return ret;
	}
	for (i = 0; i < n; i++)
		if (maps[i].pte & LPT_PTE_SW_ANCHOR)
			lpt_remove(tb->t, maps[i].va);
	atomic64_inc(&lpt_stat.builds);
	*out = tb;
	return 0;
}

/*
 * Make @tb, built from a snapshot taken when build @id began over @base
 * (the table then current, NULL for an enable), the current table:
 * replay the invalidations logged since, add the pending pages, publish,
 * and free @base once no CPU walks it.  Return 0; -ESTALE if the build
 * was superseded (disable, teardown, another build); -EAGAIN if too many
 * invalidations overflowed the log and @may_retry.  On error @tb is freed.
 */
static int lpt_install_table(struct lpt_mm *m, struct lpt_table *tb, u64 id,
			     struct lpt_table *base, bool may_retry)
{
	bool flush = false, again = false;
	unsigned int i, n;
	int ret = 0;

	mutex_lock(&m->ctl);
	spin_lock(&m->lock);
	if (m->build_id != id || !m->building || m->cur != base ||
	    m->state == LPT_DEAD || (base && m->state != LPT_ON) ||
	    (!base && m->state == LPT_ON)) {
		ret = -ESTALE;
	} else if (m->log_overflow && may_retry) {
		m->building = false;
		ret = -EAGAIN;
	}
	if (ret) {
		spin_unlock(&m->lock);
		mutex_unlock(&m->ctl);
		lpt_table_free(tb);
		return ret;
	}
	if (m->log_overflow)
		lpt_remove_range(tb->t, m->log_lo, m->log_hi);
	for (i = 0; !m->log_overflow && i < m->nlog; i++)
		lpt_remove_range(tb->t, m->log[i].s, m->log[i].e);
	m->building = false;
	tb->live = true;
	lpt_fold_stats(m, base);
	m->old = base;
	m->cur = tb;
	m->state = LPT_ON;
	n = m->npending;
	m->npending = 0;
	for (i = 0; i < n; i++) {
		ret = lpt_place(m, tb, &m->pending[i], &flush);
		if (ret == LPT_NEED_RETRAIN || ret == -ENOMEM)
			lpt_pending_add(m, &m->pending[i]);
	}
	again = m->npending;
	spin_unlock(&m->lock);
	if (flush)
		lpt_flush_tlb_all();
	lpt_publish(m);
	mutex_unlock(&m->ctl);
	if (again)
		queue_work(lpt_wq, &m->retrain_work);
	return 0;
}

/*
 * Lay the snapshot @s out for lpt_build_table() with the VMA anchors as
 * its tail; return how many anchors (sleeps).
 */
static int lpt_snap_anchors(struct mm_struct *mm, struct lpt_snap *s,
			    size_t *na)
{
	size_t room = s->n + 2 * LPT_ANCHORS_MAX;
	struct lpt_map *p;

	if (s->cap < room) {
		p = kvrealloc(s->maps, room * sizeof(*p), GFP_KERNEL_ACCOUNT);
		if (!p)
			return -ENOMEM;
		s->maps = p;
		s->cap = room;
	}
	*na = lpt_radix_anchors(mm, s->maps + s->n + LPT_ANCHORS_MAX,
				LPT_ANCHORS_MAX);
	memmove(s->maps + *na, s->maps, s->n * sizeof(*p));
	memmove(s->maps + *na + s->n, s->maps + s->n + LPT_ANCHORS_MAX,
		*na * sizeof(*p));
	return 0;
}

/**
 * lpt_mm_enable - build @m's table from the page tables and publish it
 * @m: an attached mm, not on
 * @how: LPT_BUILD_EMPTY: publish an empty table (exec: the mm has
 *	nothing yet but a stack that setup_arg_pages() is about to move;
 *	the first fault grows a leaf in place, the first retrain sees the
 *	loaded image); LPT_BUILD_LOCKED: snapshot the page tables, the
 *	caller holds the mmap lock; LPT_BUILD_UNLOCKED: snapshot them with
 *	the mmap lock taken for reading around the snapshot only
 *
 * Sleeps.  On failure the mm falls back to radix with one log line.
 * Return: 0, -ESRCH (torn down), -ENOMEM, -ENOSPC, -EAGAIN, -EOPNOTSUPP.
 */
int lpt_mm_enable(struct lpt_mm *m, enum lpt_build how)
{
	struct lpt_snap snap = {};
	struct lpt_table *tb;
	int ret = 0, tries;
	size_t na = 0;
	u64 id;

	for (tries = 0; tries < LPT_BUILD_TRIES; tries++) {
		spin_lock(&m->lock);
		if (m->state == LPT_ON || m->state == LPT_DEAD) {
			ret = m->state == LPT_ON ? 0 : -ESRCH;
			spin_unlock(&m->lock);
			goto out;
		}
		m->npending = 0;
		id = lpt_build_begin(m);
		spin_unlock(&m->lock);

		snap.n = 0;
		na = 0;
		if (how == LPT_BUILD_UNLOCKED)
			mmap_read_lock(m->mm);
		if (how != LPT_BUILD_EMPTY) {
			ret = lpt_radix_snapshot(m->mm, &snap);
			if (!ret)
				ret = lpt_snap_anchors(m->mm, &snap, &na);
		}
		if (how == LPT_BUILD_UNLOCKED)
			mmap_read_unlock(m->mm);
		if (!ret)
			ret = lpt_build_table(m, snap.maps, snap.n, na, &tb);
		if (ret) {
			lpt_build_end(m, id);
			break;
		}
		m->st.builds++;
		ret = lpt_install_table(m, tb, id, NULL,
					tries + 1 < LPT_BUILD_TRIES);
		if (ret != -EAGAIN)
			break;
	}
	if (ret == -ESTALE)
		ret = -EBUSY;
	else if (ret)
		lpt_fail(m, ret);
out:
	kvfree(snap.maps);
	return ret;
}

/*
 * The VMA anchors of @m->mm for a retrain, from the worker: only if the
 * mm is alive and its mmap lock free right now (a faulting thread may be
 * waiting for us with the lock held; anchors are an optimisation).  The
 * last reference may drop here, so mmput_async(): exit_mmap() ends in
 * cancel_work_sync() of this very work.
 */
static size_t lpt_retrain_anchors(struct lpt_mm *m, struct lpt_map *out)
{
	size_t n = 0;

	if (!mmget_not_zero(m->mm))
		return 0;
	if (mmap_read_trylock(m->mm)) {
		n = lpt_radix_anchors(m->mm, out, LPT_ANCHORS_MAX);
		mmap_read_unlock(m->mm);
	}
	mmput_async(m->mm);
	return n;
}

/*
 * One retrain: snapshot the current table, the pending pages and the VMA
 * layout, build unlocked with sleeping allocations, install.  Return 0
 * (done, or nothing to do), -ESTALE (superseded), -EAGAIN (try again) or
 * what the build returned.
 */
static int lpt_retrain_once(struct lpt_mm *m, bool may_retry)
{
	struct lpt_table *base, *tb;
	struct lpt_map *buf = NULL, *anchors;
	size_t n, np, na, t, i, cap = 0;
	u64 id;
	int ret;

	anchors = kvmalloc_array(LPT_ANCHORS_MAX, sizeof(*anchors),
				 GFP_KERNEL_ACCOUNT);
	if (!anchors)
		return -ENOMEM;
	na = lpt_retrain_anchors(m, anchors);
	for (;;) {
		spin_lock(&m->lock);
		base = m->cur;
		if (m->state != LPT_ON || !base || !m->npending) {
			spin_unlock(&m->lock);
			ret = 0;
			goto out;
		}
		n = lpt_collect(base->t, NULL, 0);
		np = m->npending;
		if (n + 2 * (np + na) <= cap)
			break;
		spin_unlock(&m->lock);
		kvfree(buf);
		cap = n + n / 8 + 2 * (LPT_PENDING_MAX + na);
		buf = kvmalloc_array(cap, sizeof(*buf), GFP_KERNEL_ACCOUNT);
		if (!buf) {
			ret = -ENOMEM;
			goto out;
		}
	}
	/* [room | collected, sorted | pending | anchors] */
	t = np + na;
	lpt_collect(base->t, buf + t, n);
	memcpy(buf + t + n, m->pending, np * sizeof(*buf));
	m->npending = 0;
	id = lpt_build_begin(m);
	spin_unlock(&m->lock);

	for (i = 0; i < np; i++)
		buf[t + n + i].pte |= LPT_PTE_SW_PENDING;
	memcpy(buf + t + n + np, anchors, na * sizeof(*buf));
	ret = lpt_build_table(m, buf, n, t, &tb);
	if (ret) {
		lpt_build_end(m, id);
		goto out;
	}
	ret = lpt_install_table(m, tb, id, base, may_retry);
	spin_lock(&m->lock);
	if (ret)
		m->st.retrain_aborts++;
	else
		m->st.retrains++;
	spin_unlock(&m->lock);
	atomic64_inc(ret ? &lpt_stat.retrain_aborts : &lpt_stat.retrains);
out:
	kvfree(buf);
	kvfree(anchors);
	return ret;
}

static void lpt_retrain_work(struct work_struct *work)
{
	struct lpt_mm *m = container_of(work, struct lpt_mm, retrain_work);
	int ret = -EAGAIN, tries;

	for (tries = 0; tries < LPT_RETRAIN_TRIES && ret == -EAGAIN; tries++)
		ret = lpt_retrain_once(m, tries + 1 < LPT_RETRAIN_TRIES);
	if (ret && ret != -ESTALE)
		lpt_fail(m, ret);
	spin_lock(&m->lock);
	m->retrain_runs++;
	spin_unlock(&m->lock);
	wake_up_all(&m->retrain_wq);
}

/*
 * The fault path queued a page only a retrain can place.  Let the worker
 * do it and wait for its run, bounded and killable: refaulting at once
 * would only spin on the same miss.
 */
static void lpt_retrain_wait(struct lpt_mm *m, u64 ticket)
{
	long left;

	queue_work(lpt_wq, &m->retrain_work);
	atomic64_inc(&lpt_stat.retrain_waits);
	left = wait_event_killable_timeout(m->retrain_wq,
					   READ_ONCE(m->retrain_runs) != ticket ||
					   READ_ONCE(m->state) != LPT_ON,
					   msecs_to_jiffies(lpt_retrain_wait_ms));
	if (!left)
		atomic64_inc(&lpt_stat.retrain_timeouts);
}

/* ---- the fault hook ---- */

/*
 * What the last early install on this CPU put in (lpt_mm_install_*(), in
 * the page table lock): the fault hook that follows finds its page there
 * and has nothing left to do.  A record that is stale (the task moved,
 * an invalidation came in between, a migration wrote it) costs at most
 * one more fault: the fault hook consumes it whether it matches or not.
 */
struct lpt_early {
	struct mm_struct *mm;
	unsigned long start, end;
};

static DEFINE_PER_CPU(struct lpt_early, lpt_early);

/* Does an invalidation in progress cover @map?  Under m->lock. */
static bool lpt_inv_covers(struct lpt_mm *m, const struct lpt_map *map)
{
	return m->inv_count && m->inv_start < map->va + lpt_size_bytes(map->size) &&
	       map->va < m->inv_end;
}

/*
 * Install one mapping from the page table lock.  Only the plain case: no
 * invalidation in flight over it, nothing to flush, no retrain, and the
 * index unchanged (a moved generation needs a publish, which sleeps).
 * Anything else is left to the fault hook.  Under m->lock.
 */
static bool lpt_install_early(struct lpt_mm *m, const struct lpt_map *map)
{
	u64 gen;

	if (map->va >= LPT_VA_LIMIT || lpt_inv_covers(m, map))
		return false;
	gen = lpt_generation(m->cur->t);
	if (lpt_place(m, m->cur, map, NULL))
		return false;
	return lpt_generation(m->cur->t) == gen;
}

/* Remember [start, end) of @mm, joined to the record when adjacent. */
static void lpt_early_note(struct mm_struct *mm, unsigned long start,
			   unsigned long end)
{
	struct lpt_early *e = this_cpu_ptr(&lpt_early);

	if (start == end)
		return;
	if (e->mm == mm && e->end == start) {
		e->end = end;
		return;
	}
	e->mm = mm;
	e->start = start;
	e->end = end;
}

/**
 * lpt_mm_install_ptes - learn @nr new PTEs from update_mmu_cache_range()
 * @m: the mm's state
 * @addr: the user address of the first
 * @ptep: the first PTE, its page table lock held
 * @nr: how many
 *
 * The fault's own page, or a batch of fault-around or migration, goes in
 * here without a second walk of the radix table; must not sleep.
 */
void lpt_mm_install_ptes(struct lpt_mm *m, unsigned long addr, pte_t *ptep,
			 unsigned int nr)
{
	unsigned long start = addr;
	struct lpt_map map;
	unsigned int i;

	if (READ_ONCE(m->state) != LPT_ON)
		return;
	spin_lock(&m->lock);
	if (m->state != LPT_ON || !m->cur || m->building)
		goto out;
	for (i = 0; i < nr; i++, addr += PAGE_SIZE) {
		if (lpt_radix_pte_map(ptep_get(ptep + i), addr, &map) ||
		    !lpt_install_early(m, &map))
			break;
	}
	lpt_early_note(m->mm, start, addr);
	if (i)
		lpt_count(early_installs, i);
out:
	spin_unlock(&m->lock);
}

/* The same for a 2 MiB leaf from update_mmu_cache_pmd(). */
void lpt_mm_install_pmd(struct lpt_mm *m, unsigned long addr, pmd_t *pmdp)
{
	struct lpt_map map;

	if (READ_ONCE(m->state) != LPT_ON ||
	    lpt_radix_pmd_map(pmdp_get(pmdp), addr, &map))
		return;
	spin_lock(&m->lock);
	if (m->state == LPT_ON && m->cur && !m->building &&
	    lpt_install_early(m, &map)) {
		lpt_early_note(m->mm, map.va, map.va + lpt_size_bytes(map.size));
		lpt_count(early_installs, 1);
	}
	spin_unlock(&m->lock);
}

/* Did an early install on this CPU put @address in?  Forgets either way. */
static bool lpt_early_hit(struct lpt_mm *m, unsigned long address)
{
	struct lpt_early *e = get_cpu_ptr(&lpt_early);
	bool hit = e->mm == m->mm && address >= e->start && address < e->end;

	e->mm = NULL;
	put_cpu_ptr(&lpt_early);
	return hit;
}

/**
 * lpt_mm_fault - install the radix translation of @address
 * @m: the faulting mm's state
 * @address: the faulting user address
 *
 * Called after handle_mm_fault() succeeded, with the mmap or VMA lock
 * held; may sleep.  The radix PTE is read locklessly and installed only
 * if no invalidation of it started since (KVM's mmu_invalidate_seq):
 * otherwise the hardware faults again and we retry then.
 */
void lpt_mm_fault(struct lpt_mm *m, unsigned long address)
{
	bool flush = false, publish = false, retrain = false;
	struct lpt_map map;
	u64 ticket = 0;
	unsigned long seq;
	int ret;

	if (address >= LPT_VA_LIMIT ||
	    (READ_ONCE(m->state) != LPT_ON && !READ_ONCE(m->building)))
		return;
	lpt_count(faults, 1);
	if (lpt_early_hit(m, address))
		return;
	seq = READ_ONCE(m->inv_seq);
	smp_rmb();	/* the sequence before the PTE; pairs with the lock */
	ret = lpt_radix_lookup(m->mm, address, &map);
	if (ret == -ENOENT)
		return;
	if (ret) {
		lpt_fail(m, ret);
		return;
	}

	spin_lock(&m->lock);
	m->st.faults++;
	if (m->inv_seq != seq || lpt_inv_covers(m, &map)) {
		m->st.races++;
		spin_unlock(&m->lock);
		lpt_count(races, 1);
		return;
	}
	if (m->state != LPT_ON || !m->cur) {
		if (m->building)
			lpt_pending_add(m, &map);
		spin_unlock(&m->lock);
		return;
	}
	ret = lpt_place(m, m->cur, &map, &flush);
	if (ret == LPT_NEED_RETRAIN || ret == -ENOMEM) {
		lpt_pending_add(m, &map);
		ticket = m->retrain_runs;
		retrain = true;
	} else if (!ret && m->building && m->npending < LPT_PENDING_MAX / 2) {
		/* Also for the table being built; the rest for retrains. */
		lpt_pending_add(m, &map);
	}
	/* Also for a node an early install changed (it could not publish). */
	publish = lpt_generation(m->cur->t) != m->pub_gen;
	spin_unlock(&m->lock);

	if (!ret || retrain)
		lpt_count(installs, 1);
	if (flush)
		lpt_flush_tlb_all();
	if (publish)
		lpt_publish_if_moved(m);
	if (retrain)
		lpt_retrain_wait(m, ticket);
	else if (ret)
		lpt_fail(m, ret);
}

/* ---- state changes ---- */

/* Unpublish and free the table; @m stays attached (prctl off). */
void lpt_mm_disable(struct lpt_mm *m)
{
	lpt_drop_table(m, LPT_OFF);
}

/* For good: the mm exits or the module goes.  Idempotent. */
void lpt_mm_teardown(struct lpt_mm *m)
{
	spin_lock(&m->lock);
	m->state = LPT_DEAD;
	spin_unlock(&m->lock);
	cancel_work_sync(&m->retrain_work);
	lpt_mm_disable(m);
}

const char *lpt_state_name(enum lpt_state s)
{
	switch (s) {
	case LPT_OFF:
		return "off";
	case LPT_ON:
		return "on";
	case LPT_FALLBACK:
		return "fallback";
	default:
		return "dead";
	}
}

/* ---- the MMU notifier ---- */

static struct lpt_mm *lpt_mn(struct mmu_notifier *mn)
{
	return container_of(mn, struct lpt_mm, mn);
}

/* Remove, or write-protect, [s, e) in @tb.  Under m->lock. */
static u64 lpt_zap(struct lpt_table *tb, unsigned long s, unsigned long e,
		   bool wp)
{
	if (!tb)
		return 0;
	if (wp)
		return lpt_test_clear_range(tb->t, s, e, LPT_PTE_RW,
					    LPT_PTE_RW | LPT_PTE_D);
	return lpt_remove_range(tb->t, s, e);
}

/*
 * Before the kernel changes radix PTEs in [start, end) and flushes the
 * TLB: remove our entries there (the flush that follows covers them), or
 * only write-protect them when the event keeps PFNs and presence (fork's
 * COW protection, page cleaning, soft-dirty clearing).  Never sleeps, so
 * non-blockable ranges (the OOM reaper) are fine.
 */
static int lpt_mn_invalidate_start(struct mmu_notifier *mn,
				   const struct mmu_notifier_range *r)
{
	struct lpt_mm *m = lpt_mn(mn);
	bool wp = r->event == MMU_NOTIFY_PROTECTION_PAGE ||
		  r->event == MMU_NOTIFY_SOFT_DIRTY;
	u64 n, t0 = READ_ONCE(lpt_hook_timing) ? ktime_get_ns() : 0;
	bool any;

	spin_lock(&m->lock);
	if (!m->inv_count++) {
		m->inv_start = r->start;
		m->inv_end = r->end;
	} else {
		m->inv_start = min(m->inv_start, r->start);
		m->inv_end = max(m->inv_end, r->end);
	}
	if (m->building)
		lpt_log_add(m, r->start, r->end);
	lpt_pending_drop(m, r->start, r->end);
	any = m->cur || m->old;
	n = lpt_zap(m->cur, r->start, r->end, wp) +
	    lpt_zap(m->old, r->start, r->end, wp);
	if (any) {
		m->st.invalidations++;
		if (wp)
			m->st.wrprotect_pages += n;
		else
			m->st.inval_pages += n;
	}
	spin_unlock(&m->lock);
	if (any) {
		lpt_count(invalidations, 1);
		if (wp)
			lpt_count(wrprotect_pages, n);
		else
			lpt_count(inval_pages, n);
		if (t0)
			lpt_count(inval_ns, ktime_get_ns() - t0);
	}
	return 0;
}

static void lpt_mn_invalidate_end(struct mmu_notifier *mn,
				  const struct mmu_notifier_range *r)
{
	struct lpt_mm *m = lpt_mn(mn);

	spin_lock(&m->lock);
	m->inv_seq++;
	/* Registration excludes invalidations in flight: never 0 here. */
	if (m->inv_count && !--m->inv_count) {
		m->inv_start = 0;
		m->inv_end = 0;
	}
	spin_unlock(&m->lock);
}

/*
 * The hardware sets A only in LPT entries, so reclaim's view of a page's
 * age comes from here.  Like x86's own ptep_clear_flush_young(), clearing
 * A does not flush the TLB: a stale A only delays the next report.
 */
static int lpt_young(struct lpt_mm *m, unsigned long s, unsigned long e,
		     bool clear)
{
	u64 c = clear ? LPT_PTE_A : 0, n = 0;

	spin_lock(&m->lock);
	if (m->cur)
		n += lpt_test_clear_range(m->cur->t, s, e, LPT_PTE_A, c);
	if (m->old)
		n += lpt_test_clear_range(m->old->t, s, e, LPT_PTE_A, c);
	m->st.young_pages += n;
	spin_unlock(&m->lock);
	lpt_count(young_calls, 1);
	if (n)
		lpt_count(young_pages, n);
	return n != 0;
}

static int lpt_mn_clear_flush_young(struct mmu_notifier *mn,
				    struct mm_struct *mm, unsigned long start,
				    unsigned long end)
{
	return lpt_young(lpt_mn(mn), start, end, true);
}

static int lpt_mn_clear_young(struct mmu_notifier *mn, struct mm_struct *mm,
			      unsigned long start, unsigned long end)
{
	return lpt_young(lpt_mn(mn), start, end, true);
}

static int lpt_mn_test_young(struct mmu_notifier *mn, struct mm_struct *mm,
			     unsigned long address)
{
	return lpt_young(lpt_mn(mn), address, address + 1, false);
}

/*
 * exit_mmap(): unpublish and free the table before the address space goes,
 * then drop the registration (allowed from ->release).  Module unload may
 * have got here first; whoever takes @m off lpt_mms puts it.
 */
static void lpt_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct lpt_mm *m = lpt_mn(mn);
	bool put;

	lpt_mm_teardown(m);
	mutex_lock(&lpt_mms_lock);
	put = !list_empty(&m->node);
	list_del_init(&m->node);
	mutex_unlock(&lpt_mms_lock);
	if (put) {
		WRITE_ONCE(mm->lpt_private, NULL);
		mmu_notifier_put(&m->mn);
	}
}

/* After an SRCU grace period: no callback runs, the work is cancelled. */
static void lpt_mn_free(struct mmu_notifier *mn)
{
	kfree(lpt_mn(mn));
	atomic64_dec(&lpt_stat.live_mms);
}

static const struct mmu_notifier_ops lpt_mn_ops = {
	.release		= lpt_mn_release,
	.clear_flush_young	= lpt_mn_clear_flush_young,
	.clear_young		= lpt_mn_clear_young,
	.test_young		= lpt_mn_test_young,
	.invalidate_range_start	= lpt_mn_invalidate_start,
	.invalidate_range_end	= lpt_mn_invalidate_end,
	.free_notifier		= lpt_mn_free,
};

/**
 * lpt_mm_attach - the LPT state of @mm, created and registered if needed
 * @mm: the mm; the caller makes sure no one else attaches it concurrently
 *	(prctl: lpt_enable_lock; fork, exec: nobody else sees the mm yet)
 * @mmap_write_locked: the caller holds @mm's mmap lock for writing
 *
 * Return: the state, or an ERR_PTR.
 */
struct lpt_mm *lpt_mm_attach(struct mm_struct *mm, bool mmap_write_locked)
{
	struct lpt_mm *m = READ_ONCE(mm->lpt_private);
	int ret;

	if (m)
		return m;
	m = kzalloc(sizeof(*m), GFP_KERNEL_ACCOUNT);
	if (!m)
		return ERR_PTR(-ENOMEM);
	m->mm = mm;
	INIT_LIST_HEAD(&m->node);
	mutex_init(&m->ctl);
	spin_lock_init(&m->lock);
	INIT_LIST_HEAD(&m->deferred);
	INIT_WORK(&m->retrain_work, lpt_retrain_work);
	init_waitqueue_head(&m->retrain_wq);
	if (current->mm == mm) {
		m->pid = task_tgid_nr(current);
		get_task_comm(m->comm, current);
	}
	m->mn.ops = &lpt_mn_ops;
	if (mmap_write_locked)
		ret = __mmu_notifier_register(&m->mn, mm);
	else
		ret = mmu_notifier_register(&m->mn, mm);
	if (ret) {
		kfree(m);
		return ERR_PTR(ret);
	}
	atomic64_inc(&lpt_stat.live_mms);
	mutex_lock(&lpt_mms_lock);
	list_add_tail(&m->node, &lpt_mms);
	mutex_unlock(&lpt_mms_lock);
	/* Fully set up before the fault hook can see it. */
	smp_store_release(&mm->lpt_private, m);
	return m;
}

/* Module unload, hooks already unregistered: detach every mm. */
void lpt_mm_detach_all(void)
{
	struct lpt_mm *m;

	for (;;) {
		mutex_lock(&lpt_mms_lock);
		m = list_first_entry_or_null(&lpt_mms, struct lpt_mm, node);
		if (m)
			list_del_init(&m->node);
		mutex_unlock(&lpt_mms_lock);
		if (!m)
			break;
		lpt_mm_teardown(m);
		WRITE_ONCE(m->mm->lpt_private, NULL);
		mmu_notifier_put(&m->mn);
	}
}

/* ---- debugfs helpers ---- */

static void lpt_kv(struct seq_file *sf, bool oneline, const char *k, u64 v)
{
	seq_printf(sf, oneline ? " %s=%llu" : "%s %llu\n", k, v);
}

/**
 * lpt_mm_show - print @m's state and statistics
 * @m: an attached mm
 * @sf: the debugfs file
 * @oneline: "pid=N comm=C key=value ..." on one line (the mms file), else
 *	"key value" lines (self)
 *
 * lpt_get_stats() reads every slot, under the lock: fine for a debug file.
 */
void lpt_mm_show(struct lpt_mm *m, struct seq_file *sf, bool oneline)
{
	char comm[TASK_COMM_LEN];
	struct lpt_mm_stats st;
	struct lpt_stats s = {};
	enum lpt_state state;
	pid_t pid;

	lpt_mm_ident(m, &pid, comm);
	spin_lock(&m->lock);
	state = m->state;
	if (m->cur)
		lpt_get_stats(m->cur->t, &s);
	st = m->st;
	spin_unlock(&m->lock);

	seq_printf(sf, oneline ? "pid=%d comm=%s state=%s root=%#llx" :
		   "pid %d\ncomm %s\nstate %s\nroot %#llx\n", pid, comm,
		   lpt_state_name(state), READ_ONCE(m->pub_root));
	lpt_kv(sf, oneline, "index_bytes", s.index_bytes);
	lpt_kv(sf, oneline, "depth", s.depth);
	lpt_kv(sf, oneline, "nodes", s.nodes);
	lpt_kv(sf, oneline, "leaves", s.leaves);
	lpt_kv(sf, oneline, "direct_leaves", s.direct_leaves);
	lpt_kv(sf, oneline, "subtables", s.subtables);
	lpt_kv(sf, oneline, "table_bytes", s.table_bytes);
	lpt_kv(sf, oneline, "pages", s.pages);
	lpt_kv(sf, oneline, "pages_4k", s.pages_by_size[LPT_SIZE_4K]);
	lpt_kv(sf, oneline, "pages_2m", s.pages_by_size[LPT_SIZE_2M]);
	lpt_kv(sf, oneline, "pages_1g", s.pages_by_size[LPT_SIZE_1G]);
	lpt_kv(sf, oneline, "displaced", s.displaced);
	lpt_kv(sf, oneline, "collision_ppm", s.collision_ppm);
	lpt_kv(sf, oneline, "collisions", st.collisions + s.collisions);
	lpt_kv(sf, oneline, "rescales", st.rescales + s.rescales);
	lpt_kv(sf, oneline, "new_leaves", st.new_leaves + s.new_leaves);
	lpt_kv(sf, oneline, "generation", st.generation + s.generation);
	lpt_kv(sf, oneline, "builds", st.builds);
	lpt_kv(sf, oneline, "retrains", st.retrains);
	lpt_kv(sf, oneline, "retrain_aborts", st.retrain_aborts);
	lpt_kv(sf, oneline, "fallbacks", st.fallbacks);
	lpt_kv(sf, oneline, "publishes", st.publishes);
	lpt_kv(sf, oneline, "faults", st.faults);
	lpt_kv(sf, oneline, "installs", st.installs);
	lpt_kv(sf, oneline, "updates", st.updates);
	lpt_kv(sf, oneline, "present", st.present);
	lpt_kv(sf, oneline, "races", st.races);
	lpt_kv(sf, oneline, "invalidations", st.invalidations);
	lpt_kv(sf, oneline, "inval_pages", st.inval_pages);
	lpt_kv(sf, oneline, "wrprotect_pages", st.wrprotect_pages);
	lpt_kv(sf, oneline, "young_pages", st.young_pages);
	lpt_kv(sf, oneline, "conflicts", st.conflicts);
	if (oneline)
		seq_putc(sf, '\n');
}

/* Does the LPT entry @e grant nothing the radix mapping @r does not? */
static bool lpt_entry_ok(const struct lpt_map *e, const struct lpt_map *r)
{
	u64 same = LPT_PTE_PFN_MASK | LPT_PTE_P | LPT_PTE_US | LPT_PTE_PWT |
		   LPT_PTE_PCD;

	if (e->va != r->va || e->size != r->size ||
	    ((e->pte ^ r->pte) & same))
		return false;
	if ((e->pte & LPT_PTE_RW) && !(r->pte & LPT_PTE_RW))
		return false;
	return !(r->pte & LPT_PTE_NX) || (e->pte & LPT_PTE_NX);
}

/**
 * lpt_mm_check - compare every LPT entry of @m with the radix table
 * @m: current->mm's state (the caller's own address space)
 * @sf: where to print "key value" lines and up to 8 stale entries
 *
 * An entry is stale when the radix table maps its page differently (other
 * size or PFN, not at all) or grants less (no RW, NX).  Retried while an
 * invalidation ran concurrently, so a report is never a transient.
 */
int lpt_mm_check(struct lpt_mm *m, struct seq_file *sf)
{
	struct lpt_map *buf = NULL, r;
	size_t n = 0, cap = 0, i, stale = 0;
	unsigned long seq;
	int tries, shown = 0;
	bool stable = false;

	for (tries = 0; tries < 16 && !stable; tries++) {
		spin_lock(&m->lock);
		n = m->cur ? lpt_collect(m->cur->t, NULL, 0) : 0;
		spin_unlock(&m->lock);
		if (n > cap) {
			kvfree(buf);
			cap = n + 256;
			buf = kvmalloc_array(cap, sizeof(*buf), GFP_KERNEL);
			if (!buf)
				return -ENOMEM;
		}
		mmap_read_lock(m->mm);
		spin_lock(&m->lock);
		n = m->cur ? lpt_collect(m->cur->t, buf, cap) : 0;
		seq = m->inv_seq;
		stable = !m->inv_count && n <= cap;
		spin_unlock(&m->lock);
		stale = 0;
		for (i = 0; stable && i < n; i++) {
			if (lpt_radix_lookup(m->mm, buf[i].va, &r) ||
			    !lpt_entry_ok(&buf[i], &r))
				stale++;
		}
		spin_lock(&m->lock);
		stable = stable && seq == m->inv_seq && !m->inv_count;
		spin_unlock(&m->lock);
		mmap_read_unlock(m->mm);
	}
	seq_printf(sf, "entries %zu\nstale %zu\nstable %d\ntries %d\n", n,
		   stable ? stale : 0, stable, tries);
	mmap_read_lock(m->mm);
	for (i = 0; stable && i < n && shown < 8; i++) {
		int err = lpt_radix_lookup(m->mm, buf[i].va, &r);

		if (!err && lpt_entry_ok(&buf[i], &r))
			continue;
		seq_printf(sf, "stale va %#llx size %u lpt %#llx radix %#llx (%d)\n",
			   buf[i].va, buf[i].size, buf[i].pte,
			   err ? 0 : r.pte, err);
		shown++;
	}
	mmap_read_unlock(m->mm);
	kvfree(buf);
	return 0;
}
