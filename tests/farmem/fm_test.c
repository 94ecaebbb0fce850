// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the farmem core, run under ASan+UBSan by farmem-check:
 * the pointer word (exhaustive over the present-form flag bits, property
 * tests over random absent fields, the discriminator and the hit mask),
 * nested scopes and the evacuator's wait, the dereference paths, the
 * log-structured heap's accounting, region picking, hotness ageing and
 * synchronous evacuation.  Prints TAP, plan last.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "fm_testutil.h"

static const fm_word_t flagbits[5] = { FM_HOT, FM_DIRTY, FM_EVAC,
				       FM_COPYING, FM_SHARED };

static void test_encoding(void)
{
	static const uint64_t addrs[] = { 0x8, 0x1000, 0x7fffffffeff8ULL,
					  0x555555554008ULL, FM_ADDR_MASK & ~7ULL };
	uint64_t s = 42;
	unsigned m, a, i, bad = 0, badmask = 0;

	/* Exhaustive: every present flag combination x edge addresses. */
	for (m = 0; m < 32; m++) {
		fm_word_t f = 0;

		for (i = 0; i < 5; i++)
			if (m & (1u << i))
				f |= flagbits[i];
		for (a = 0; a < sizeof(addrs) / sizeof(addrs[0]); a++) {
			fm_word_t w = fm_ptr_present((void *)(uintptr_t)addrs[a], f);

			if (fm_ptr_addr(w) != (void *)(uintptr_t)addrs[a] ||
			    fm_ptr_is_absent(w) || !fm_ptr_is_present(w) ||
			    fm_ptr_is_hot(w) != !!(f & FM_HOT) ||
			    fm_ptr_is_dirty(w) != !!(f & FM_DIRTY) ||
			    fm_ptr_is_evac(w) != !!(f & FM_EVAC) ||
			    fm_ptr_is_shared(w) != !!(f & FM_SHARED) ||
			    (w & ~(FM_ADDR_MASK | FM_PRESENT_FLAGS)))
				bad++;
			/* hit iff not evacuating */
			if (!(w & FM_MISS_MASK) != !(f & FM_EVAC))
				badmask++;
		}
	}
	fm_ok(!bad, "present form: 32 flag sets x 5 addresses round-trip");
	fm_ok(!badmask, "hit mask: present word hits iff E clear");

	/* Flags never leak into the address and vice versa. */
	fm_ok(fm_ptr_present((void *)(uintptr_t)~0ULL, 0) == FM_ADDR_MASK &&
	      fm_ptr_present(NULL, ~0ULL) == FM_PRESENT_FLAGS,
	      "present form: address and flags are masked to their fields");

	/* Bits are where the ABI table says. */
	fm_ok(FM_HOT == 1ULL << 48 && FM_DIRTY == 1ULL << 56 &&
	      FM_EVAC == 1ULL << 57 && FM_COPYING == 1ULL << 58 &&
	      FM_SHARED == 1ULL << 62 && FM_ABSENT == 1ULL << 63 &&
	      FM_DS_SHIFT + FM_DS_BITS == 62 &&
	      FM_SIZE_SHIFT + FM_SIZE_BITS == FM_DS_SHIFT &&
	      FM_OBJID_BITS == FM_SIZE_SHIFT,
	      "ABI: bit positions match docs/farmem.md");

	/* Property: random absent fields round-trip, word is absent. */
	bad = 0;
	for (i = 0; i < 200000; i++) {
		/* full-width inputs: encode must truncate, never spill */
		unsigned ds_in = (unsigned)fm_rand(&s), sz_in = (unsigned)fm_rand(&s);
		uint64_t id_in = fm_rand(&s);
		unsigned ds = ds_in & 0xff, sz = sz_in & 0xffff;
		uint64_t id = id_in & FM_OBJID_MASK;
		bool sh = fm_rand(&s) & 1;
		fm_word_t w = fm_ptr_absent(ds_in, sz_in, id_in, sh);

		if (!fm_ptr_is_absent(w) || fm_ptr_is_present(w) ||
		    fm_ptr_ds(w) != ds || fm_ptr_size(w) != sz ||
		    fm_ptr_objid(w) != id || fm_ptr_is_shared(w) != sh ||
		    !(w & FM_MISS_MASK) || fm_ptr_is_null(w) ||
		    fm_ptr_is_hot(w) || fm_ptr_is_dirty(w) || fm_ptr_is_evac(w))
			bad++;
	}
	fm_ok(!bad, "absent form: 200000 random full-width (ds,size,id,S) truncate and round-trip");

	/* Property: any word decodes and re-encodes to itself. */
	bad = 0;
	for (i = 0; i < 200000; i++) {
		fm_word_t w = fm_rand(&s), r;

		if (w & FM_ABSENT)
			r = fm_ptr_absent(fm_ptr_ds(w), fm_ptr_size(w),
					  fm_ptr_objid(w), fm_ptr_is_shared(w));
		else
			r = fm_ptr_present(fm_ptr_addr(w), w & FM_PRESENT_FLAGS);
		if (w & FM_ABSENT ? r != w
		    : r != (w & (FM_ADDR_MASK | FM_PRESENT_FLAGS)))
			bad++;
	}
	fm_ok(!bad, "any word: decode then encode is the identity on its fields");

	/* Truncation of oversized fields and the edges. */
	fm_ok(fm_ptr_absent(0x1ff, 0x1ffff, ~0ULL, true) ==
	      (FM_ABSENT | FM_SHARED | (0xffULL << 54) | (0xffffULL << 38) |
	       FM_OBJID_MASK) && fm_ptr_absent(0, 0, 0, false) == FM_ABSENT &&
	      fm_ptr_absent(0x100, 0, 0, false) == FM_ABSENT &&
	      fm_ptr_absent(0, 0x10000, 0, false) == FM_ABSENT &&
	      fm_ptr_absent(0, 0, 1ULL << 38, false) == FM_ABSENT,
	      "absent form: fields truncate to 8/16/38 bits; all-zero absent");
	fm_ok(fm_ptr_is_null(0) && fm_ptr_is_present(0) && !fm_ptr_is_null(FM_ABSENT),
	      "null is the all-zero present word");
}

static _Atomic int helper_in, helper_leaving;

static void *scope_helper(void *arg)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	fm_scope_enter();
	fm_scope_enter();
	atomic_store(&helper_in, 1);
	nanosleep(&ts, NULL);
	fm_scope_exit();
	nanosleep(&ts, NULL);	/* still inside the outer scope */
	atomic_store(&helper_leaving, 1);
	fm_scope_exit();
	fm_thread_exit();
	return NULL;
}

static void test_scopes(void)
{
	pthread_t th;
	uint64_t e0, e1;
	unsigned waited;

	fm_scope_enter();
	e0 = atomic_load(&fm_self_rec->epoch);
	fm_scope_enter();
	fm_scope_enter();
	e1 = atomic_load(&fm_self_rec->epoch);
	fm_ok(fm_scope_depth() == 3 && (e0 & 1) && e1 == e0,
	      "scopes nest: depth 3, epoch odd and unchanged by inner scopes");
	fm_scope_exit();
	fm_scope_exit();
	fm_ok(fm_scope_depth() == 1 && atomic_load(&fm_self_rec->epoch) == e0,
	      "leaving inner scopes keeps the epoch");
	fm_scope_exit();
	fm_ok(fm_scope_depth() == 0 && atomic_load(&fm_self_rec->epoch) == e0 + 1,
	      "leaving the outermost scope makes the epoch even");
	fm_ok(fm_scopes_wait() == 0, "wait with nobody in a scope returns at once");

	pthread_create(&th, NULL, scope_helper, NULL);
	while (!atomic_load(&helper_in))
		sched_yield();
	waited = fm_scopes_wait();
	fm_ok(waited == 1 && atomic_load(&helper_leaving) == 1,
	      "wait blocks until a nested-scope thread leaves its outermost scope");
	pthread_join(th, NULL);
}

static struct fm_heap *mkheap(unsigned shift, unsigned n)
{
	struct fm_heap_opts o = { .region_shift = shift, .nregions = n,
				  .poison = true };

	return fm_heap_create(&o);
}

static void fill(fm_ptr_t *p, unsigned char v)
{
	struct fm_objhdr *o = fm_obj_hdr(p);

	fm_scope_enter();
	memset(fm_deref_mut(p), v, o->size);
	fm_scope_exit();
}

static bool holds(fm_ptr_t *p, unsigned char v)
{
	struct fm_objhdr *o = fm_obj_hdr(p);
	unsigned char *d;
	bool okv = true;
	unsigned i;

	if (!o)
		return false;
	fm_scope_enter();
	d = fm_deref(p);
	for (i = 0; i < o->size; i++)
		okv &= d[i] == v;
	fm_scope_exit();
	return okv;
}

static void test_deref(void)
{
	struct fm_heap *h = mkheap(12, 4);
	fm_ptr_t p = 0, q;
	fm_word_t w;
	void *a;

	fm_ok(fm_alloc(h, &p, 100, 7) == FM_OK && fm_obj_hdr(&p)->size == 100 &&
	      fm_obj_hdr(&p)->ds == 7 && fm_obj_hdr(&p)->back == &p &&
	      !(atomic_load(&p) & (FM_HOT | FM_DIRTY)),
	      "alloc: header has size, ds, back pointer; word clean");
	fm_scope_enter();
	a = fm_deref(&p);
	w = atomic_load(&p);
	fm_ok(a == fm_obj_hdr(&p) + 1 && (w & FM_HOT) && !(w & FM_DIRTY),
	      "deref returns the payload and sets H only");
	fm_deref_mut(&p);
	fm_ok(atomic_load(&p) & FM_DIRTY, "deref_mut sets D");
	atomic_fetch_or(&p, FM_EVAC);
	a = fm_deref(&p);
	fm_ok(a == fm_obj_hdr(&p) + 1 && !(atomic_load(&p) & FM_EVAC),
	      "deref of an unclaimed E object aborts its evacuation");
	fm_scope_exit();
	atomic_init(&q, fm_ptr_absent(3, 64, 12345, false));
	fm_ok(fm_deref(&q) == NULL, "deref of an absent word returns NULL (no remote yet)");
	fm_free(h, &q);
	fm_ok(atomic_load(&q) == 0, "free of an absent word nulls it");
	fm_free(h, &p);
	fm_ok(atomic_load(&p) == 0 && fm_heap_check(h) == 0, "free nulls the word");
	fm_heap_destroy(h);
}

static void test_heap(void)
{
	struct fm_heap *h = mkheap(12, 4);	/* 4 KiB regions */
	fm_ptr_t p[64] = { 0 }, big = 0, x = 0;
	struct fm_heap_stats st;
	struct fm_region r;
	unsigned i, n = 0;
	int rc;

	fm_ok(fm_alloc(h, &x, 0, 0) == FM_EINVAL &&
	      fm_alloc(h, &x, 4096, 0) == FM_EINVAL &&
	      fm_alloc(h, &x, 8, 256) == FM_EINVAL,
	      "alloc rejects size 0, size beyond a region, ds > 255");
	fm_ok(fm_alloc(h, &big, 4096 - 24, 0) == FM_OK &&
	      fm_alloc(h, &big, 8, 0) == FM_EINVAL,
	      "an object filling a region exactly fits; a non-null word is refused");
	fm_free(h, &big);
	/* 1000-byte payloads: 1024 with header, 4 per region; 3 regions
	 * usable (one reserve) = 12, the 13th fails. */
	while ((rc = fm_alloc(h, &p[n], 1000, 1)) == FM_OK)
		n++;
	fm_heap_stats(h, &st);
	fm_ok(rc == FM_ENOMEM && n == 12 && st.regions_free == 1 &&
	      st.live_bytes == 12 * 1024,
	      "regions fill by bump allocation; one region held back (got %u)", n);
	fm_free(h, &p[0]);
	fm_free(h, &p[1]);
	fm_heap_region(h, 0, &r);
	fm_ok(r.live == 2048 && r.dead == 2048 && r.nlive == 2 &&
	      r.state == FM_REG_FULL, "free marks bytes dead in its region");
	fm_free(h, &p[2]);
	fm_free(h, &p[3]);
	fm_heap_region(h, 0, &r);
	fm_ok(r.state == FM_REG_FREE && r.top == 0 && fm_heap_check(h) == 0,
	      "a full region whose last object dies is reclaimed");
	for (i = 4; i < n; i++)
		fm_free(h, &p[i]);
	fm_heap_stats(h, &st);
	fm_ok(st.live_bytes == 0 && fm_heap_check(h) == 0,
	      "everything freed: no live bytes, heap consistent");
	fm_heap_destroy(h);
}

static void test_pick_and_age(void)
{
	struct fm_heap *h = mkheap(12, 8);
	fm_ptr_t p[32] = { 0 };
	unsigned ids[8], k, i;
	struct fm_objhdr *o;

	for (i = 0; i < 20; i++)	/* regions 0..4 full, 4 objects each */
		fm_alloc(h, &p[i], 1000, 0);
	fm_alloc(h, &p[20], 1000, 0);	/* retires region 4 into FULL */
	fm_free(h, &p[0]);		/* r0: 3 live */
	fm_free(h, &p[4]);
	fm_free(h, &p[5]);		/* r1: 2 live */
	fm_free(h, &p[8]);
	fm_free(h, &p[9]);		/* r2: 2 live */
	k = fm_pick_regions(h, ids, 8);
	fm_ok(k == 5 && (ids[0] == 1 || ids[0] == 2) && ids[2] == 0,
	      "pick: full regions only, lowest live first (%u: %u %u %u)",
	      k, ids[0], ids[1], ids[2]);
	/* make region 1 hot: touch its objects, then age */
	fm_scope_enter();
	fm_deref(&p[6]);
	fm_deref(&p[7]);
	fm_scope_exit();
	fm_heap_age(h);
	o = fm_obj_hdr(&p[6]);
	fm_ok(o->hot == 0x80 && !(atomic_load(&p[6]) & FM_HOT) &&
	      fm_obj_hdr(&p[10])->hot == 0,
	      "age: touched object's hotness byte 0x80, H cleared");
	fm_heap_age(h);
	fm_ok(o->hot == 0x40, "age: untouched since, hotness halves");
	k = fm_pick_regions(h, ids, 2);
	fm_ok(k == 2 && ids[0] == 2 && ids[1] == 1,
	      "pick: equal live ratio, colder region first");
	for (i = 0; i < 21; i++)
		fm_free(h, &p[i]);
	fm_heap_destroy(h);
}

static void test_evacuate(void)
{
	struct fm_heap *h = mkheap(12, 8);
	fm_ptr_t p[32] = { 0 }, moved = 0;
	struct fm_heap_stats st;
	unsigned i, bad = 0;
	void *before;
	int rc;

	for (i = 0; i < 24; i++) {	/* 6 regions; odd sizes too */
		fm_alloc(h, &p[i], 997 + i % 4, 2);
		fill(&p[i], (unsigned char)i);
	}
	fm_alloc(h, &p[24], 1000, 2);	/* regions 0..5 full */
	fill(&p[24], 24);
	for (i = 0; i < 24; i++)
		if (i % 4 != 0)		/* one live object per region */
			fm_free(h, &p[i]);
	fm_scope_enter();
	fm_deref_mut(&p[4]);		/* H and D on p[4] */
	fm_scope_exit();
	before = fm_deref(&p[8]);
	rc = fm_evacuate(h, 8);
	fm_heap_stats(h, &st);
	for (i = 0; i < 25; i++)
		if ((i % 4 == 0 || i == 24) && !holds(&p[i], (unsigned char)i))
			bad++;
	fm_ok(rc == 6 && st.moved == 6 && bad == 0,
	      "evacuate: 6 sparse regions compacted, contents kept (rc %d)", rc);
	fm_ok(fm_deref(&p[8]) != before && fm_obj_hdr(&p[8])->back == &p[8] &&
	      fm_heap_check(h) == 0,
	      "evacuate: pointer flipped, back pointer kept, heap consistent");
	fm_ok((atomic_load(&p[4]) & (FM_HOT | FM_DIRTY)) == (FM_HOT | FM_DIRTY) &&
	      !(atomic_load(&p[4]) & (FM_EVAC | FM_COPYING)),
	      "evacuate: H and D survive the move, E and C are cleared");
	fm_ok(st.regions_free + 0 >= 5, "evacuate: emptied regions are free again");

	/* ptr_move: new owner is followed by a later evacuation. */
	fm_ptr_move(h, &moved, &p[0]);
	fm_ok(atomic_load(&p[0]) == 0 && fm_obj_hdr(&moved)->back == &moved &&
	      holds(&moved, 0) && fm_heap_check(h) == 0,
	      "ptr_move hands the object to a new word");
	fm_free(h, &moved);
	for (i = 4; i < 25; i += 4)
		fm_free(h, &p[i]);
	fm_heap_stats(h, &st);
	fm_ok(st.live_bytes == 0 && fm_heap_check(h) == 0, "all freed after evacuation");
	fm_heap_destroy(h);
}

/* To-space exhaustion: the objects that cannot move stay, unmarked. */
static void test_evacuate_full(void)
{
	struct fm_heap *h = mkheap(12, 3);
	fm_ptr_t p[8] = { 0 };
	unsigned ids[1] = { 0 }, i, bad = 0;
	int rc;

	for (i = 0; i < 8; i++) {	/* r0 full, r1 full, 0 free left */
		fm_alloc(h, &p[i], 1000, 0);
		fill(&p[i], (unsigned char)(0x40 + i));
	}
	/* r1 is active but full; r2 is the reserve. Use it as to-space for
	 * r0, which fits: then try r1 with no to-space left. */
	rc = fm_evacuate_regions(h, ids, 1);
	fm_ok(rc == 1 && fm_heap_check(h) == 0, "evacuate into the reserve region");
	for (i = 0; i < 8; i++)
		fm_free(h, &p[i]);
	fm_heap_destroy(h);

	h = mkheap(12, 3);
	for (i = 0; i < 4; i++) {
		fm_alloc(h, &p[i], 1000, 0);
		fill(&p[i], (unsigned char)(0x40 + i));
	}
	{
		fm_ptr_t t = 0, s = 0;

		fm_alloc(h, &t, 3000, 0);	/* r1 active */
		fm_alloc(h, &s, 3000, 0);	/* needs r2 (reserve): ENOMEM */
		fm_ok(atomic_load(&s) == 0, "mutators cannot take the reserve region");
		/* Fill the to-space by evacuating r0 after shrinking the
		 * reserve: use r0 -> r2 twice is impossible, so mark a big
		 * to-space object first via evacuation of r0 (4 KiB live). */
		rc = fm_evacuate_regions(h, ids, 1);
		fm_ok(rc == 1, "r0 moved to r2 (full to-space)");
		fm_free(h, &t);
	}
	for (i = 0; i < 4; i++)
		if (!holds(&p[i], (unsigned char)(0x40 + i)))
			bad++;
	fm_ok(!bad && fm_heap_check(h) == 0, "contents intact after to-space filled");
	for (i = 0; i < 4; i++)
		if (!holds(&p[i], (unsigned char)(0x40 + i)) ||
		    (atomic_load(&p[i]) & (FM_EVAC | FM_COPYING)))
			bad++;
	fm_ok(!bad, "objects readable, no stale E/C bits");
	for (i = 0; i < 4; i++)
		fm_free(h, &p[i]);
	fm_heap_destroy(h);
}

/* Retire + evacuate twice: to-space regions become evacuable themselves,
 * and a region emptied mid-round serves as to-space for the rest. */
static void test_evacuate_reuse(void)
{
	struct fm_heap *h = mkheap(12, 4);
	fm_ptr_t p[8] = { 0 };
	unsigned i, bad = 0, ids[3] = { 0, 1, 2 };
	int rc1, rc2;

	for (i = 0; i < 8; i++) {	/* r0, r1 full of live objects */
		fm_alloc(h, &p[i], 1000, 0);
		fill(&p[i], (unsigned char)(0x10 + i));
	}
	fm_heap_retire_active(h);
	rc1 = fm_evacuate_regions(h, ids, 2);	/* r0 -> r2, then r1 -> r0 */
	fm_heap_retire_active(h);
	fm_ok(rc1 == 2 && fm_heap_check(h) == 0,
	      "full regions evacuate through reused to-space (rc %d)", rc1);
	/* the to-space regions are FULL now: evacuate them too */
	for (i = 0; i < 8; i++)
		if (i % 2)
			fm_free(h, &p[i]);
	rc2 = fm_evacuate(h, 3);
	for (i = 0; i < 8; i += 2)
		if (!holds(&p[i], (unsigned char)(0x10 + i)))
			bad++;
	fm_ok(rc2 >= 1 && !bad && fm_heap_check(h) == 0,
	      "second round over former to-space keeps contents (rc %d)", rc2);
	(void)ids[2];
	for (i = 0; i < 8; i++)
		fm_free(h, &p[i]);
	fm_heap_destroy(h);
}

int main(void)
{
	test_encoding();
	test_scopes();
	test_deref();
	test_heap();
	test_pick_and_age();
	test_evacuate();
	test_evacuate_full();
	test_evacuate_reuse();
	fm_thread_exit();
	return fm_t_done();
}
