// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target of the farmem core: the input picks a small heap
 * geometry (so regions fill, empty and get reused constantly) and then a
 * sequence of operations: alloc, free, rewrite, ptr_move, evacuate (picked
 * or explicit regions), age, retire, the aborted-evacuation deref path,
 * and pointer-word encode/decode of arbitrary 64-bit words.  After every
 * operation the heap must pass fm_heap_check, its live bytes must equal a
 * shadow model's, and every live object must still hold its pattern.
 */
#include <stdlib.h>
#include <string.h>
#include "farmem/farmem.h"

#define NSLOT 24

struct in {
	const uint8_t *p;
	size_t n;
};

static unsigned take(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t take64(struct in *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | take(in);
	return v;
}

static void fill(fm_ptr_t *p, uint8_t v)
{
	fm_scope_enter();
	memset(fm_deref_mut(p), v, fm_obj_hdr(p)->size);
	fm_scope_exit();
}

static void verify(fm_ptr_t *p, uint8_t v)
{
	struct fm_objhdr *o = fm_obj_hdr(p);
	const uint8_t *d;
	unsigned i;

	if (!o || o->back != p)
		abort();
	fm_scope_enter();
	d = fm_deref(p);
	for (i = 0; i < o->size; i++)
		if (d[i] != v)
			abort();
	fm_scope_exit();
}

static void check_word(uint64_t w)
{
	uint64_t r;

	if (w & FM_ABSENT) {
		r = fm_ptr_absent(fm_ptr_ds(w), fm_ptr_size(w), fm_ptr_objid(w),
				  fm_ptr_is_shared(w));
		if (r != w || !(r & FM_MISS_MASK))
			abort();
	} else {
		r = fm_ptr_present(fm_ptr_addr(w), w & FM_PRESENT_FLAGS);
		if (r != (w & (FM_ADDR_MASK | FM_PRESENT_FLAGS)) ||
		    fm_ptr_is_absent(r) ||
		    (!(r & FM_MISS_MASK)) != !(r & FM_EVAC))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct fm_heap_opts o = { .region_shift = 8 + take(&in) % 5,
				  .nregions = 2 + take(&in) % 10,
				  .poison = true };
	struct fm_heap *h = fm_heap_create(&o);
	static fm_ptr_t slot[NSLOT];
	uint8_t pat[NSLOT];
	size_t rsize = (size_t)1 << o.region_shift, live = 0;
	struct fm_heap_stats st;
	unsigned i, ops = 0;

	if (!h)
		abort();
	memset(slot, 0, sizeof(slot));
	while (in.n && ops++ < 256) {
		unsigned op = take(&in) % 10, s = take(&in) % NSLOT, t;

		switch (op) {
		case 0: case 1: {		/* alloc */
			size_t sz = 1 + (take(&in) << 8 | take(&in)) % (rsize - 24);
			int rc;

			if (atomic_load(&slot[s]))
				break;
			rc = fm_alloc(h, &slot[s], sz, s);
			if (rc == FM_OK) {
				pat[s] = (uint8_t)(s * 7 + ops);
				fill(&slot[s], pat[s]);
				live += 24 + ((sz + 7) & ~(size_t)7);
			} else if (rc != FM_ENOMEM || atomic_load(&slot[s])) {
				abort();
			}
			break;
		}
		case 2:				/* free */
			if (atomic_load(&slot[s]))
				live -= 24 + ((fm_obj_hdr(&slot[s])->size + 7) & ~7u);
			fm_free(h, &slot[s]);
			break;
		case 3:				/* rewrite */
			if (atomic_load(&slot[s])) {
				pat[s] ^= 0x5a;
				fill(&slot[s], pat[s]);
			}
			break;
		case 4:
			fm_evacuate(h, take(&in) % 8);
			break;
		case 5: {
			unsigned ids[4], n = take(&in) % 4;

			for (i = 0; i < n; i++)
				ids[i] = take(&in) % 16;	/* some out of range */
			fm_evacuate_regions(h, ids, n);
			break;
		}
		case 6:
			if (take(&in) & 1)
				fm_heap_age(h);
			else
				fm_heap_retire_active(h);
			break;
		case 7:				/* ptr_move s -> t */
			t = take(&in) % NSLOT;
			if (t != s && atomic_load(&slot[s]) && !atomic_load(&slot[t])) {
				fm_ptr_move(h, &slot[t], &slot[s]);
				pat[t] = pat[s];
			}
			break;
		case 8:				/* aborted evacuation path */
			if (atomic_load(&slot[s])) {
				atomic_fetch_or(&slot[s], FM_EVAC);
				verify(&slot[s], pat[s]);
				if (atomic_load(&slot[s]) & FM_EVAC)
					abort();
			}
			break;
		case 9:
			check_word(take64(&in));
			check_word(fm_ptr_absent(take(&in), take(&in) << 8 | take(&in),
						 take64(&in), take(&in) & 1));
			break;
		}
		if (fm_heap_check(h))
			abort();
		fm_heap_stats(h, &st);
		if (st.live_bytes != live)
			abort();
		for (i = 0; i < NSLOT; i++)
			if (atomic_load(&slot[i]))
				verify(&slot[i], pat[i]);
	}
	for (i = 0; i < NSLOT; i++)
		fm_free(h, &slot[i]);
	fm_heap_stats(h, &st);
	if (st.live_bytes || fm_heap_check(h))
		abort();
	fm_heap_destroy(h);
	return 0;
}
