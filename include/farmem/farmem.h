/* SPDX-License-Identifier: GPL-2.0 */
/*
 * farmem: application-integrated far memory (AIFM-style) in portable C, the
 * public API of the core library (lib/farmem).  It fixes the remoteable
 * pointer word (the ABI: one 64-bit word, present or absent form, defined
 * here once and tabulated in docs/farmem.md), the nestable dereference
 * scopes that the evacuator waits on through per-thread epochs, and the
 * log-structured local heap of fixed-size regions with its synchronous
 * copy-compaction evacuator.  Plain C11 (gnu11) with <stdatomic.h>; no
 * dependency beyond libc and pthreads.  Every symbol is prefixed fm_.
 */
#ifndef FARMEM_H
#define FARMEM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * ---------------------------------------------------------------------------
 * The remoteable (unique) pointer word.
 *
 * Bit 63 (FM_ABSENT) discriminates the two forms.  Bit 62 (FM_SHARED) has
 * the same meaning in both.  Present form (bit 63 = 0):
 *
 *   63  62  61..59 58  57  56  55..49 48  47  46 .................. 0
 *   A=0 S   0      C   E   D   0      H   0   local address (47 bits)
 *
 * Absent form (bit 63 = 1):
 *
 *   63  62  61 ...... 54  53 ........ 38  37 .................... 0
 *   A=1 S   ds id (8)     size (16)       object id (38)
 *
 * H (hot) sits alone in byte 6, written by mutators on dereference; D
 * (dirty), E (evacuating) and C (copying, evacuator-owned, only with E) sit
 * in byte 7.  All updates are full-word C11 atomics.  The all-zero word is
 * the null pointer (present form, address 0).  The hit test of a
 * dereference is one AND with FM_MISS_MASK (absent or evacuating).
 * ---------------------------------------------------------------------------
 */
typedef uint64_t fm_word_t;
typedef _Atomic(uint64_t) fm_ptr_t;	/* the pointer as stored in memory */

#define FM_ADDR_BITS	47
#define FM_ADDR_MASK	((1ULL << FM_ADDR_BITS) - 1)
#define FM_HOT		(1ULL << 48)
#define FM_DIRTY	(1ULL << 56)
#define FM_EVAC		(1ULL << 57)
#define FM_COPYING	(1ULL << 58)
#define FM_SHARED	(1ULL << 62)
#define FM_ABSENT	(1ULL << 63)
#define FM_PRESENT_FLAGS (FM_HOT | FM_DIRTY | FM_EVAC | FM_COPYING | FM_SHARED)
#define FM_MISS_MASK	(FM_ABSENT | FM_EVAC)

#define FM_OBJID_BITS	38
#define FM_OBJID_MASK	((1ULL << FM_OBJID_BITS) - 1)
#define FM_SIZE_SHIFT	38
#define FM_SIZE_BITS	16
#define FM_SIZE_MAX	((1U << FM_SIZE_BITS) - 1)
#define FM_DS_SHIFT	54
#define FM_DS_BITS	8
#define FM_DS_MAX	((1U << FM_DS_BITS) - 1)

/* Present form of @addr (must fit 47 bits) with @flags from FM_PRESENT_FLAGS. */
static inline fm_word_t fm_ptr_present(const void *addr, fm_word_t flags)
{
	return ((uint64_t)(uintptr_t)addr & FM_ADDR_MASK) |
	       (flags & FM_PRESENT_FLAGS);
}

/* Absent form; fields are truncated to their widths. */
static inline fm_word_t fm_ptr_absent(unsigned ds, unsigned size,
				      uint64_t objid, bool shared)
{
	return FM_ABSENT | (shared ? FM_SHARED : 0) |
	       ((uint64_t)(ds & FM_DS_MAX) << FM_DS_SHIFT) |
	       ((uint64_t)(size & FM_SIZE_MAX) << FM_SIZE_SHIFT) |
	       (objid & FM_OBJID_MASK);
}

static inline bool fm_ptr_is_absent(fm_word_t w) { return w & FM_ABSENT; }
static inline bool fm_ptr_is_present(fm_word_t w) { return !(w & FM_ABSENT); }
static inline bool fm_ptr_is_null(fm_word_t w) { return w == 0; }
static inline bool fm_ptr_is_shared(fm_word_t w) { return w & FM_SHARED; }
/* Present-form accessors (meaningless on an absent word). */
static inline void *fm_ptr_addr(fm_word_t w)
{
	return (void *)(uintptr_t)(w & FM_ADDR_MASK);
}
static inline bool fm_ptr_is_hot(fm_word_t w) { return !(w & FM_ABSENT) && (w & FM_HOT); }
static inline bool fm_ptr_is_dirty(fm_word_t w) { return !(w & FM_ABSENT) && (w & FM_DIRTY); }
static inline bool fm_ptr_is_evac(fm_word_t w) { return !(w & FM_ABSENT) && (w & FM_EVAC); }
/* Absent-form accessors (meaningless on a present word). */
static inline unsigned fm_ptr_ds(fm_word_t w) { return (w >> FM_DS_SHIFT) & FM_DS_MAX; }
static inline unsigned fm_ptr_size(fm_word_t w) { return (w >> FM_SIZE_SHIFT) & FM_SIZE_MAX; }
static inline uint64_t fm_ptr_objid(fm_word_t w) { return w & FM_OBJID_MASK; }

/*
 * ---------------------------------------------------------------------------
 * Dereference scopes.  A raw address obtained by fm_deref*() is valid only
 * until the thread leaves its outermost scope.  Scopes nest (a per-thread
 * depth); entering the outermost one makes the thread's epoch odd, leaving
 * it makes it even again.  The evacuator marks objects (E bit) and then
 * fm_scopes_wait()s: every thread whose epoch was odd at that moment must
 * leave or advance.  A thread must be registered (implicitly on its first
 * scope) and should call fm_thread_exit() before it ends (a pthread key
 * destructor does it otherwise).
 * ---------------------------------------------------------------------------
 */
struct fm_thread {
	_Atomic(uint64_t) epoch;	/* odd: inside an outermost scope */
	_Atomic(int) in_use;
	unsigned depth;			/* owner thread only */
	struct fm_thread *next;		/* registry list, never unlinked */
};

extern __thread struct fm_thread *fm_self_rec;
struct fm_thread *fm_thread_register(void);
void fm_thread_exit(void);

static inline void fm_scope_enter(void)
{
	struct fm_thread *t = fm_self_rec;

	if (!t)
		t = fm_thread_register();
	/* seq_cst RMW: the odd epoch is visible before any pointer load. */
	if (t->depth++ == 0)
		atomic_fetch_add_explicit(&t->epoch, 1, memory_order_seq_cst);
}

static inline void fm_scope_exit(void)
{
	struct fm_thread *t = fm_self_rec;

	if (--t->depth == 0)
		atomic_fetch_add_explicit(&t->epoch, 1, memory_order_release);
}

static inline unsigned fm_scope_depth(void)
{
	return fm_self_rec ? fm_self_rec->depth : 0;
}

/* Wait until every thread inside a scope now has left or advanced.  Must
 * be called outside any scope.  Returns the number of threads waited on. */
unsigned fm_scopes_wait(void);

/*
 * ---------------------------------------------------------------------------
 * Dereference.  Hit path: one seq_cst load (a plain mov on x86-64), one
 * test against FM_MISS_MASK, one AND; the H bit is set only when clear.
 * Slow path (fm_deref_slow): an evacuating object is either not yet
 * claimed (the mutator aborts its evacuation by clearing E) or being
 * copied (the mutator spins until the new address is published); an
 * absent object returns NULL in this stage (no remote side yet).
 * ---------------------------------------------------------------------------
 */
void *fm_deref_slow(fm_ptr_t *p, bool write);

static inline void *fm_deref(fm_ptr_t *p)
{
	fm_word_t w = atomic_load_explicit(p, memory_order_seq_cst);

	if (__builtin_expect(!(w & FM_MISS_MASK), 1)) {
		if (__builtin_expect(!(w & FM_HOT), 0))
			atomic_fetch_or_explicit(p, FM_HOT, memory_order_relaxed);
		return fm_ptr_addr(w);
	}
	return fm_deref_slow(p, false);
}

static inline void *fm_deref_mut(fm_ptr_t *p)
{
	fm_word_t w = atomic_load_explicit(p, memory_order_seq_cst);

	if (__builtin_expect(!(w & FM_MISS_MASK), 1)) {
		if (__builtin_expect((w & (FM_HOT | FM_DIRTY)) !=
				     (FM_HOT | FM_DIRTY), 0))
			atomic_fetch_or_explicit(p, FM_HOT | FM_DIRTY,
						 memory_order_relaxed);
		return fm_ptr_addr(w);
	}
	return fm_deref_slow(p, true);
}

/*
 * ---------------------------------------------------------------------------
 * Log-structured local heap.  Memory is a fixed number of equal regions
 * (power of two, default 1 MiB).  Objects are bump-allocated into the
 * active region behind a 24-byte header; a free marks the object's bytes
 * dead.  Evacuation picks regions by lowest live ratio then coldness,
 * marks their live objects evacuating, waits for scopes, copies them to a
 * fresh region and flips their pointers; emptied regions go back to the
 * free list.  One region is always held back as evacuation to-space.
 * ---------------------------------------------------------------------------
 */
#define FM_REGION_SHIFT_DEFAULT	20	/* 1 MiB */
#define FM_OBJ_ALIGN		8

struct fm_objhdr {
	uint16_t size;		/* payload bytes */
	uint8_t ds;		/* data-structure id */
	uint8_t hot;		/* hotness byte, aged by fm_heap_age() */
	uint8_t state;		/* FM_OBJ_LIVE / FM_OBJ_DEAD */
	uint8_t pad[3];
	uint64_t id;		/* object id (38 bits used) */
	fm_ptr_t *back;		/* the pointer word that owns this object */
};
#define FM_OBJ_LIVE	1
#define FM_OBJ_DEAD	2

enum fm_region_state { FM_REG_FREE, FM_REG_ACTIVE, FM_REG_FULL, FM_REG_EVAC };

struct fm_region {
	unsigned char *base;
	size_t top;		/* bump offset */
	size_t live;		/* live bytes (headers included) */
	size_t dead;		/* dead bytes (headers included) */
	unsigned nlive;
	unsigned hot_sum;	/* sum of live hotness bytes at the last age */
	enum fm_region_state state;
};

struct fm_heap_opts {
	unsigned region_shift;	/* 0 = FM_REGION_SHIFT_DEFAULT */
	unsigned nregions;	/* >= 2 (one is to-space) */
	bool poison;		/* fill freed regions with 0xdb */
};

struct fm_heap_stats {
	size_t live_bytes, dead_bytes, regions_free, regions_used;
	uint64_t allocs, frees, moved, aborted, regions_reclaimed;
};

struct fm_heap;

enum {
	FM_OK = 0,
	FM_ENOMEM = -1,		/* no free region */
	FM_EINVAL = -2,		/* bad size / argument */
	FM_EREMOTE = -3,	/* object is absent (no remote side yet) */
};

struct fm_heap *fm_heap_create(const struct fm_heap_opts *o);
void fm_heap_destroy(struct fm_heap *h);
/* Allocate @size (1..FM_SIZE_MAX, and fitting a region) bytes, zeroed, and
 * store the present pointer into *@p (which must stay at that address, or
 * be moved with fm_ptr_move).  Returns FM_OK or an error. */
int fm_alloc(struct fm_heap *h, fm_ptr_t *p, size_t size, unsigned ds);
/* Free the object *@p owns (present or absent) and null *@p. */
void fm_free(struct fm_heap *h, fm_ptr_t *p);
/* Move ownership from *@src to *@dst (dst must be null); src becomes null. */
void fm_ptr_move(struct fm_heap *h, fm_ptr_t *dst, fm_ptr_t *src);
/* Header of a present object (NULL if null or absent). */
struct fm_objhdr *fm_obj_hdr(fm_ptr_t *p);
/* Age hotness: hot = hot >> 1 | (H ? 0x80 : 0), clearing each H bit. */
void fm_heap_age(struct fm_heap *h);
/* Up to @max regions to evacuate, best first (lowest live ratio, then
 * coldest); only full regions qualify.  Returns how many were written. */
unsigned fm_pick_regions(struct fm_heap *h, unsigned *out, unsigned max);
/* fm_evacuate: up to @max (<= 64) regions picked by fm_pick_regions;
 * fm_evacuate_regions: the @n regions in @ids (non-FULL ones are skipped).
 * Must be called outside any scope.  Returns the number of regions
 * reclaimed (emptied and freed). */
int fm_evacuate(struct fm_heap *h, unsigned max);
int fm_evacuate_regions(struct fm_heap *h, const unsigned *ids, unsigned n);
/* Close the mutators' bump region (it becomes FULL, hence evacuable). */
void fm_heap_retire_active(struct fm_heap *h);
void fm_heap_stats(struct fm_heap *h, struct fm_heap_stats *s);
unsigned fm_heap_nregions(struct fm_heap *h);
/* Region id and its record snapshot; false if id out of range. */
bool fm_heap_region(struct fm_heap *h, unsigned id, struct fm_region *out);
/* Full consistency walk (tests): accounting, headers, back pointers.
 * Returns 0 or a negative line-like code identifying the broken rule. */
int fm_heap_check(struct fm_heap *h);

#endif /* FARMEM_H */
