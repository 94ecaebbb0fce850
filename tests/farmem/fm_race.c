// SPDX-License-Identifier: GPL-2.0
/*
 * Race test of the farmem core, built under ThreadSanitizer by
 * farmem-check: mutator threads dereference (in nested scopes), rewrite,
 * free and reallocate their objects while an evacuator thread ages the
 * heap and compacts regions (mark E, wait for scopes, claim E|C, copy,
 * flip the pointer).  Every object's payload is one 64-bit value (slot,
 * version) repeated; a reader that ever sees a torn, stale or moved-away
 * (poisoned, reused) payload counts a failure.  Prints TAP.
 * Usage: fm_race [iterations-per-thread]
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "fm_testutil.h"

#define NTHR	3
#define NSLOT	48

static struct fm_heap *heap;
static _Atomic int stop;
static _Atomic unsigned long bad, reads, nested, evac_rounds;
static long iters = 20000;

struct mut {
	unsigned id;
	fm_ptr_t slot[NSLOT];
	uint64_t ver[NSLOT];
	uint64_t seed;
};

static uint64_t tag(unsigned t, unsigned s, uint64_t v)
{
	return ((uint64_t)(t * NSLOT + s) << 40) | v;
}

static bool check(struct mut *m, unsigned s, const uint64_t *d)
{
	struct fm_objhdr *o = (struct fm_objhdr *)d - 1;
	uint64_t want = tag(m->id, s, m->ver[s]);
	unsigned i;

	if (o->back != &m->slot[s] || o->size % 8)
		return false;
	for (i = 0; i < o->size / 8; i++)
		if (d[i] != want)
			return false;
	return true;
}

static void rewrite(struct mut *m, unsigned s)
{
	uint64_t *d;
	unsigned i, n;

	fm_scope_enter();
	d = fm_deref_mut(&m->slot[s]);
	n = ((struct fm_objhdr *)d - 1)->size / 8;
	m->ver[s]++;
	for (i = 0; i < n; i++)
		d[i] = tag(m->id, s, m->ver[s]);
	fm_scope_exit();
}

static void alloc_slot(struct mut *m, unsigned s)
{
	size_t sz = 8 * (1 + fm_rand(&m->seed) % 48);

	while (fm_alloc(heap, &m->slot[s], sz, 1) == FM_ENOMEM)
		sched_yield();		/* wait for the evacuator */
	rewrite(m, s);
}

static void *mutator(void *arg)
{
	struct mut *m = arg;
	unsigned s, s2;
	long it;

	for (s = 0; s < NSLOT; s++)
		alloc_slot(m, s);
	for (it = 0; it < iters; it++) {
		unsigned op = fm_rand(&m->seed) % 10;

		s = fm_rand(&m->seed) % NSLOT;
		if (op < 7) {
			const uint64_t *d;

			fm_scope_enter();
			d = fm_deref(&m->slot[s]);
			if (op == 0)
				sched_yield();	/* hold the address a while */
			if (op < 3) {		/* nested scope, 2nd object */
				s2 = fm_rand(&m->seed) % NSLOT;
				fm_scope_enter();
				if (!check(m, s2, fm_deref(&m->slot[s2])))
					bad++;
				fm_scope_exit();
				nested++;
			}
			if (!check(m, s, d))
				bad++;
			fm_scope_exit();
			reads++;
		} else if (op < 9) {
			rewrite(m, s);
		} else {
			fm_free(heap, &m->slot[s]);
			alloc_slot(m, s);
		}
	}
	for (s = 0; s < NSLOT; s++) {
		fm_scope_enter();
		if (!check(m, s, fm_deref(&m->slot[s])))
			bad++;
		fm_scope_exit();
	}
	fm_thread_exit();
	return NULL;
}

static void *evacuator(void *arg)
{
	unsigned n = 0;

	while (!atomic_load(&stop)) {
		if (++n % 4 == 0)
			fm_heap_age(heap);
		if (n % 2 == 0)
			fm_heap_retire_active(heap);
		fm_evacuate(heap, 8);
		evac_rounds++;
		sched_yield();
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct fm_heap_opts o = { .region_shift = 12, .nregions = 48,
				  .poison = true };
	static struct mut m[NTHR];
	pthread_t th[NTHR], ev;
	struct fm_heap_stats st;
	unsigned i, s;

	if (argc > 1)
		iters = atol(argv[1]);
	heap = fm_heap_create(&o);
	for (i = 0; i < NTHR; i++) {
		m[i].id = i;
		m[i].seed = 0x9e3779b97f4a7c15ULL * (i + 1);
	}
	pthread_create(&ev, NULL, evacuator, NULL);
	for (i = 0; i < NTHR; i++)
		pthread_create(&th[i], NULL, mutator, &m[i]);
	for (i = 0; i < NTHR; i++)
		pthread_join(th[i], NULL);
	atomic_store(&stop, 1);
	pthread_join(ev, NULL);
	fm_heap_stats(heap, &st);

	fm_ok(bad == 0, "no reader saw a torn, stale or moved-away object "
	      "(%lu reads, %lu nested, %lu bad)", (unsigned long)reads,
	      (unsigned long)nested, (unsigned long)bad);
	fm_ok(st.moved > 0 && evac_rounds > 0,
	      "evacuator moved objects concurrently (%lu rounds, %lu moved, "
	      "%lu aborted by mutators, %lu regions reclaimed)",
	      (unsigned long)evac_rounds, (unsigned long)st.moved,
	      (unsigned long)st.aborted, (unsigned long)st.regions_reclaimed);
	fm_ok(fm_heap_check(heap) == 0, "heap consistent after the race");
	for (i = 0; i < NTHR; i++)
		for (s = 0; s < NSLOT; s++)
			fm_free(heap, &m[i].slot[s]);
	fm_heap_stats(heap, &st);
	fm_ok(st.live_bytes == 0 && fm_heap_check(heap) == 0,
	      "all objects freed, no live bytes left");
	fm_heap_destroy(heap);
	return fm_t_done();
}
