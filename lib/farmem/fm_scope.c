// SPDX-License-Identifier: GPL-2.0
/*
 * Dereference scopes and their epoch registry (farmem core): each thread
 * that ever enters a scope owns a record in a process-wide, append-only
 * list (records are recycled, never freed, so the evacuator can walk the
 * list without holding a lock across its wait).  fm_scopes_wait() takes a
 * snapshot of every odd (inside-a-scope) epoch and spins, yielding, until
 * each of those threads has left or advanced.  Also the dereference slow
 * path, which cooperates with the evacuator's E/C bits.
 */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include "farmem/farmem.h"

__thread struct fm_thread *fm_self_rec;

static _Atomic(struct fm_thread *) fm_registry;
static pthread_key_t fm_key;
static pthread_once_t fm_key_once = PTHREAD_ONCE_INIT;

static void fm_key_dtor(void *arg)
{
	struct fm_thread *t = arg;

	/* A thread ending inside a scope would block evacuators forever. */
	if (t->depth) {
		t->depth = 0;
		atomic_fetch_add_explicit(&t->epoch, 1, memory_order_release);
	}
	atomic_store_explicit(&t->in_use, 0, memory_order_release);
}

static void fm_key_init(void)
{
	if (pthread_key_create(&fm_key, fm_key_dtor))
		abort();
}

struct fm_thread *fm_thread_register(void)
{
	struct fm_thread *t;

	pthread_once(&fm_key_once, fm_key_init);
	/* Recycle a record whose thread has gone (its epoch is even). */
	for (t = atomic_load_explicit(&fm_registry, memory_order_acquire); t;
	     t = t->next) {
		int z = 0;

		if (atomic_compare_exchange_strong(&t->in_use, &z, 1))
			goto got;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		abort();
	atomic_init(&t->in_use, 1);
	atomic_init(&t->epoch, 0);
	t->next = atomic_load_explicit(&fm_registry, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&fm_registry, &t->next, t,
						      memory_order_release,
						      memory_order_relaxed))
		;
got:
	t->depth = 0;
	fm_self_rec = t;
	pthread_setspecific(fm_key, t);
	return t;
}

void fm_thread_exit(void)
{
	struct fm_thread *t = fm_self_rec;

	if (!t)
		return;
	pthread_setspecific(fm_key, NULL);
	fm_key_dtor(t);
	fm_self_rec = NULL;
}

unsigned fm_scopes_wait(void)
{
	struct fm_thread *t, *self = fm_self_rec;
	unsigned waited = 0;

	if (self && self->depth)
		abort();	/* would wait on itself */
	for (t = atomic_load_explicit(&fm_registry, memory_order_acquire); t;
	     t = t->next) {
		uint64_t e = atomic_load_explicit(&t->epoch, memory_order_seq_cst);

		if (!(e & 1))
			continue;
		waited++;
		while (atomic_load_explicit(&t->epoch, memory_order_acquire) == e)
			sched_yield();
	}
	return waited;
}

void *fm_deref_slow(fm_ptr_t *p, bool write)
{
	fm_word_t w = atomic_load_explicit(p, memory_order_seq_cst);
	fm_word_t set = FM_HOT | (write ? FM_DIRTY : 0);

	for (;;) {
		if (w & FM_ABSENT)
			return NULL;	/* remote fetch: next stage */
		if (!(w & FM_EVAC)) {
			if ((w & set) != set)
				atomic_fetch_or_explicit(p, set,
							 memory_order_relaxed);
			return fm_ptr_addr(w);
		}
		if (w & FM_COPYING) {
			/* Evacuator owns the object: wait for the new address
			 * (one object copy; the evacuator waits on nobody). */
			sched_yield();
			w = atomic_load_explicit(p, memory_order_acquire);
			continue;
		}
		/* Marked, not yet claimed: abort this object's evacuation. */
		if (atomic_compare_exchange_weak_explicit(
			    p, &w, (w & ~FM_EVAC) | set, memory_order_seq_cst,
			    memory_order_seq_cst))
			return fm_ptr_addr(w);
	}
}
