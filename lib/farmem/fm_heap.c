// SPDX-License-Identifier: GPL-2.0
/*
 * Log-structured local memory of the farmem core: a fixed array of equal,
 * power-of-two regions carved from one aligned allocation; objects are
 * bump-allocated behind a 24-byte header (size, ds id, hotness byte, state,
 * object id, back pointer to the owning pointer word); frees mark bytes
 * dead and reclaim a full region once nothing in it lives.  Evacuation is
 * the synchronous copy-compaction of this stage: pick regions (lowest live
 * ratio, then coldest), mark their live objects E, wait for dereference
 * scopes, claim each object (E|C), copy it to the to-space region and
 * publish the new address.  A mutator that meets an unclaimed E object
 * aborts that object's move instead of waiting, so mutators never block on
 * the evacuator's scope wait.  Locking: h->lock guards region records and
 * headers (never held across a wait); h->evac_lock serialises evacuation
 * and ageing.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include "farmem/farmem.h"

#define HDR	sizeof(struct fm_objhdr)

_Static_assert(sizeof(struct fm_objhdr) == 24, "object header is 24 bytes");

struct fm_heap {
	pthread_mutex_t lock, evac_lock;
	unsigned shift, n, nfree;
	size_t rsize;
	bool poison;
	unsigned char *mem;
	struct fm_region *r;
	int active, to;		/* mutator and evacuation bump regions */
	uint64_t next_id;
	struct fm_heap_stats st;
};

static size_t need_of(size_t size)
{
	return HDR + ((size + FM_OBJ_ALIGN - 1) & ~(size_t)(FM_OBJ_ALIGN - 1));
}

static unsigned region_of(struct fm_heap *h, const void *a)
{
	return (unsigned)(((const unsigned char *)a - h->mem) >> h->shift);
}

struct fm_heap *fm_heap_create(const struct fm_heap_opts *o)
{
	struct fm_heap *h;
	unsigned i, shift = o->region_shift ? o->region_shift
					    : FM_REGION_SHIFT_DEFAULT;

	if (shift < 8 || shift > 30 || o->nregions < 2)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->shift = shift;
	h->rsize = (size_t)1 << shift;
	h->n = h->nfree = o->nregions;
	h->poison = o->poison;
	h->mem = aligned_alloc(h->rsize, h->rsize * h->n);
	h->r = calloc(h->n, sizeof(*h->r));
	if (!h->mem || !h->r || (uintptr_t)h->mem + h->rsize * h->n > FM_ADDR_MASK) {
		free(h->mem);
		free(h->r);
		free(h);
		return NULL;
	}
	for (i = 0; i < h->n; i++)
		h->r[i].base = h->mem + ((size_t)i << shift);
	if (h->poison)
		memset(h->mem, 0xdb, h->rsize * h->n);
	h->active = h->to = -1;
	h->next_id = 1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->evac_lock, NULL);
	return h;
}

void fm_heap_destroy(struct fm_heap *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->evac_lock);
	free(h->mem);
	free(h->r);
	free(h);
}

static void region_reset(struct fm_heap *h, struct fm_region *r)
{
	if (h->poison)
		memset(r->base, 0xdb, r->top);
	r->top = r->live = r->dead = 0;
	r->nlive = r->hot_sum = 0;
	r->state = FM_REG_FREE;
	h->nfree++;
	h->st.regions_reclaimed++;
}

/* Bump @need bytes from region *@cur, moving to a free region when full;
 * keep at least @reserve regions free.  Caller holds h->lock. */
static struct fm_objhdr *bump(struct fm_heap *h, int *cur, size_t need,
			      unsigned reserve)
{
	struct fm_region *r;
	unsigned i;

	if (*cur >= 0 && h->r[*cur].top + need > h->rsize) {
		h->r[*cur].state = FM_REG_FULL;
		if (h->r[*cur].nlive == 0)
			region_reset(h, &h->r[*cur]);
		*cur = -1;
	}
	if (*cur < 0) {
		if (h->nfree <= reserve)
			return NULL;
		for (i = 0; i < h->n && h->r[i].state != FM_REG_FREE; i++)
			;
		h->r[i].state = FM_REG_ACTIVE;
		h->nfree--;
		*cur = (int)i;
	}
	r = &h->r[*cur];
	r->top += need;
	r->live += need;
	r->nlive++;
	return (struct fm_objhdr *)(r->base + r->top - need);
}

int fm_alloc(struct fm_heap *h, fm_ptr_t *p, size_t size, unsigned ds)
{
	struct fm_objhdr *o;

	if (!size || size > FM_SIZE_MAX || need_of(size) > h->rsize ||
	    ds > FM_DS_MAX || atomic_load(p) != 0)
		return FM_EINVAL;
	pthread_mutex_lock(&h->lock);
	o = bump(h, &h->active, need_of(size), 1);
	if (!o) {
		pthread_mutex_unlock(&h->lock);
		return FM_ENOMEM;
	}
	o->size = (uint16_t)size;
	o->ds = (uint8_t)ds;
	o->hot = 0;
	o->state = FM_OBJ_LIVE;
	memset(o->pad, 0, sizeof(o->pad));
	o->id = h->next_id++ & FM_OBJID_MASK;
	o->back = p;
	h->st.allocs++;
	pthread_mutex_unlock(&h->lock);
	memset(o + 1, 0, size);
	atomic_store_explicit(p, fm_ptr_present(o + 1, 0), memory_order_release);
	return FM_OK;
}

/* Take *@p away from any evacuation: wait while it is being copied, clear
 * an unclaimed E, replace the word by @nw.  Returns the old word. */
static fm_word_t take_word(fm_ptr_t *p, fm_word_t nw)
{
	fm_word_t w = atomic_load_explicit(p, memory_order_acquire);

	for (;;) {
		if (!(w & FM_ABSENT) && (w & FM_COPYING)) {
			sched_yield();
			w = atomic_load_explicit(p, memory_order_acquire);
			continue;
		}
		if (atomic_compare_exchange_weak_explicit(p, &w, nw,
							  memory_order_acq_rel,
							  memory_order_acquire))
			return w;
	}
}

void fm_free(struct fm_heap *h, fm_ptr_t *p)
{
	fm_word_t w = take_word(p, 0);
	struct fm_objhdr *o;
	struct fm_region *r;

	if (!w || (w & FM_ABSENT))
		return;		/* absent: remote remove is the next stage */
	o = (struct fm_objhdr *)fm_ptr_addr(w) - 1;
	pthread_mutex_lock(&h->lock);
	r = &h->r[region_of(h, o)];
	o->state = FM_OBJ_DEAD;
	r->live -= need_of(o->size);
	r->dead += need_of(o->size);
	r->nlive--;
	h->st.frees++;
	if (h->poison)
		memset(o + 1, 0xdb, o->size);
	if (r->state == FM_REG_FULL && r->nlive == 0)
		region_reset(h, r);
	pthread_mutex_unlock(&h->lock);
}

void fm_ptr_move(struct fm_heap *h, fm_ptr_t *dst, fm_ptr_t *src)
{
	fm_word_t w;

	pthread_mutex_lock(&h->lock);
	w = take_word(src, 0);
	if (w && !(w & FM_ABSENT)) {
		w &= ~FM_EVAC;
		((struct fm_objhdr *)fm_ptr_addr(w) - 1)->back = dst;
	}
	atomic_store_explicit(dst, w, memory_order_release);
	pthread_mutex_unlock(&h->lock);
}

struct fm_objhdr *fm_obj_hdr(fm_ptr_t *p)
{
	fm_word_t w = atomic_load_explicit(p, memory_order_acquire);

	if (!w || (w & FM_ABSENT))
		return NULL;
	return (struct fm_objhdr *)fm_ptr_addr(w) - 1;
}

/* Is *@o->back still the pointer to @o?  Caller holds h->lock. */
static bool owns(const struct fm_objhdr *o, fm_word_t w)
{
	return w && !(w & FM_ABSENT) && fm_ptr_addr(w) == (void *)(o + 1);
}

void fm_heap_age(struct fm_heap *h)
{
	unsigned i;
	size_t off;

	pthread_mutex_lock(&h->evac_lock);
	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->n; i++) {
		struct fm_region *r = &h->r[i];

		r->hot_sum = 0;
		for (off = 0; off < r->top; ) {
			struct fm_objhdr *o = (void *)(r->base + off);

			off += need_of(o->size);
			if (o->state != FM_OBJ_LIVE)
				continue;
			fm_word_t w = atomic_fetch_and(o->back, ~FM_HOT);

			if (!owns(o, w))	/* cannot happen; undo */
				atomic_fetch_or(o->back, w & FM_HOT);
			o->hot = (uint8_t)((o->hot >> 1) | (w & FM_HOT ? 0x80 : 0));
			r->hot_sum += o->hot;
		}
	}
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_unlock(&h->evac_lock);
}

unsigned fm_pick_regions(struct fm_heap *h, unsigned *out, unsigned max)
{
	unsigned i, j, k = 0;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->n; i++) {
		struct fm_region *r = &h->r[i];

		if (r->state != FM_REG_FULL)
			continue;
		/* insertion into the sorted prefix out[0..k) */
		for (j = k; j > 0; j--) {
			struct fm_region *q = &h->r[out[j - 1]];

			if (q->live < r->live ||
			    (q->live == r->live && q->hot_sum <= r->hot_sum))
				break;
			if (j < max)
				out[j] = out[j - 1];
		}
		if (j < max) {
			out[j] = i;
			if (k < max)
				k++;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return k;
}

struct victim {
	struct fm_objhdr *o;
	bool marked;
};

/* Step 3 for one marked victim @o: claim (E -> E|C), take to-space,
 * copy, publish.  Once to-space runs out (*@full) remaining victims are
 * unmarked instead. */
static void evac_one(struct fm_heap *h, struct fm_objhdr *o, bool *full)
{
	struct fm_objhdr *d;
	fm_ptr_t *back;
	fm_word_t w;
	bool claimed = false;

	pthread_mutex_lock(&h->lock);
	if (o->state != FM_OBJ_LIVE) {		/* freed meanwhile */
		pthread_mutex_unlock(&h->lock);
		return;
	}
	back = o->back;
	w = atomic_load(back);
	if (*full) {				/* no to-space: unmark */
		while (owns(o, w) && (w & FM_EVAC) &&
		       !atomic_compare_exchange_weak(back, &w, w & ~FM_EVAC))
			;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	while (owns(o, w) && (w & FM_EVAC))
		if (atomic_compare_exchange_weak(back, &w, w | FM_COPYING)) {
			claimed = true;
			break;
		}
	if (!claimed) {				/* a mutator aborted it */
		h->st.aborted++;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	d = bump(h, &h->to, need_of(o->size), 0);
	if (!d) {
		*full = true;
		atomic_store(back, w & ~FM_EVAC);
		pthread_mutex_unlock(&h->lock);
		return;
	}
	*d = *o;
	o->state = FM_OBJ_DEAD;
	h->r[region_of(h, o)].live -= need_of(o->size);
	h->r[region_of(h, o)].dead += need_of(o->size);
	h->r[region_of(h, o)].nlive--;
	h->st.moved++;
	pthread_mutex_unlock(&h->lock);
	/* Only we touch the object now: E|C keeps mutators out. */
	memcpy(d + 1, o + 1, d->size);
	atomic_store_explicit(back, fm_ptr_present(d + 1, w &
			      (FM_HOT | FM_DIRTY | FM_SHARED)),
			      memory_order_release);
}

int fm_evacuate_regions(struct fm_heap *h, const unsigned *ids, unsigned n)
{
	struct victim *v = NULL;
	size_t nv = 0, cap = 0, i;
	unsigned k;
	int reclaimed = 0;
	bool full = false;

	pthread_mutex_lock(&h->evac_lock);
	pthread_mutex_lock(&h->lock);
	/* 1. select and mark: the region stops taking objects, every live
	 * object's word gets E (under the lock, so its word is still valid). */
	for (k = 0; k < n; k++) {
		struct fm_region *r;
		size_t off;

		if (ids[k] >= h->n || h->r[ids[k]].state != FM_REG_FULL)
			continue;
		r = &h->r[ids[k]];
		r->state = FM_REG_EVAC;
		for (off = 0; off < r->top; off += need_of(((struct fm_objhdr *)
							(r->base + off))->size)) {
			struct fm_objhdr *o = (void *)(r->base + off);
			fm_word_t w;

			if (o->state != FM_OBJ_LIVE)
				continue;
			if (nv == cap) {
				cap = cap ? 2 * cap : 64;
				v = realloc(v, cap * sizeof(*v));
				if (!v)
					abort();
			}
			v[nv].o = o;
			v[nv].marked = false;
			w = atomic_load(o->back);
			while (owns(o, w) && !(w & FM_EVAC))
				if (atomic_compare_exchange_weak(o->back, &w,
								 w | FM_EVAC)) {
					v[nv].marked = true;
					break;
				}
			nv++;
		}
	}
	pthread_mutex_unlock(&h->lock);

	/* 2. wait for every mutator that may hold a raw address from before
	 * the mark. */
	fm_scopes_wait();

	/* 3. claim, copy, publish, one object at a time.  A source region
	 * is reclaimed (and may become to-space) only once all of its
	 * victims have been processed, so no victim header is read after
	 * its region was reused. */
	for (i = 0; i < nv; i++) {
		unsigned rid = region_of(h, v[i].o);

		if (v[i].marked)
			evac_one(h, v[i].o, &full);
		if (i + 1 < nv && region_of(h, v[i + 1].o) == rid)
			continue;
		pthread_mutex_lock(&h->lock);
		if (h->r[rid].state == FM_REG_EVAC && h->r[rid].nlive == 0) {
			region_reset(h, &h->r[rid]);
			reclaimed++;
		}
		pthread_mutex_unlock(&h->lock);
	}
	free(v);

	/* 4. reclaim emptied regions; the rest return to FULL. */
	pthread_mutex_lock(&h->lock);
	for (k = 0; k < n; k++) {
		struct fm_region *r;

		if (ids[k] >= h->n || h->r[ids[k]].state != FM_REG_EVAC)
			continue;
		r = &h->r[ids[k]];
		r->state = FM_REG_FULL;
		if (r->nlive == 0) {
			region_reset(h, r);
			reclaimed++;
		}
	}
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_unlock(&h->evac_lock);
	return reclaimed;
}

void fm_heap_retire_active(struct fm_heap *h)
{
	pthread_mutex_lock(&h->lock);
	if (h->active >= 0) {
		h->r[h->active].state = FM_REG_FULL;
		if (h->r[h->active].nlive == 0)
			region_reset(h, &h->r[h->active]);
		h->active = -1;
	}
	pthread_mutex_unlock(&h->lock);
}

int fm_evacuate(struct fm_heap *h, unsigned max)
{
	unsigned ids[64], n;

	if (max > 64)
		max = 64;
	n = fm_pick_regions(h, ids, max);
	return n ? fm_evacuate_regions(h, ids, n) : 0;
}

void fm_heap_stats(struct fm_heap *h, struct fm_heap_stats *s)
{
	unsigned i;

	pthread_mutex_lock(&h->lock);
	*s = h->st;
	s->live_bytes = s->dead_bytes = 0;
	for (i = 0; i < h->n; i++) {
		s->live_bytes += h->r[i].live;
		s->dead_bytes += h->r[i].dead;
	}
	s->regions_free = h->nfree;
	s->regions_used = h->n - h->nfree;
	pthread_mutex_unlock(&h->lock);
}

unsigned fm_heap_nregions(struct fm_heap *h)
{
	return h->n;
}

bool fm_heap_region(struct fm_heap *h, unsigned id, struct fm_region *out)
{
	if (id >= h->n)
		return false;
	pthread_mutex_lock(&h->lock);
	*out = h->r[id];
	pthread_mutex_unlock(&h->lock);
	return true;
}

int fm_heap_check(struct fm_heap *h)
{
	unsigned i, nfree = 0, nact = 0;
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->n && !rc; i++) {
		struct fm_region *r = &h->r[i];
		size_t off, live = 0, dead = 0;
		unsigned nlive = 0;

		if (r->state == FM_REG_FREE) {
			nfree++;
			if (r->top || r->live || r->dead || r->nlive)
				rc = -1;
			continue;
		}
		if (r->state == FM_REG_EVAC)
			rc = -2;		/* only inside fm_evacuate */
		if (r->state == FM_REG_ACTIVE)
			nact++;
		for (off = 0; off < r->top && !rc; ) {
			struct fm_objhdr *o = (void *)(r->base + off);
			size_t need = need_of(o->size);

			if (!o->size || off + need > r->top)
				rc = -3;
			else if (o->state == FM_OBJ_LIVE) {
				live += need;
				nlive++;
				if (!owns(o, atomic_load(o->back)))
					rc = -4;
				else if (o->id > FM_OBJID_MASK)
					rc = -5;
			} else if (o->state == FM_OBJ_DEAD)
				dead += need;
			else
				rc = -6;
			off += need;
		}
		if (!rc && (live != r->live || dead != r->dead ||
			    nlive != r->nlive || live + dead != r->top))
			rc = -7;
	}
	if (!rc && (nfree != h->nfree || nact > 2))
		rc = -8;
	pthread_mutex_unlock(&h->lock);
	return rc;
}
