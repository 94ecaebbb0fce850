/* SPDX-License-Identifier: GPL-2.0 */
/*
 * User-space scaffolding shared by the LPT unit tests and fuzzers: a fake
 * physical address space (every allocation gets a fresh 4 KiB-aligned
 * "physical" address that read8 resolves back to host memory), a settable
 * contiguity oracle, allocation-failure injection and leak accounting.
 * Physical addresses are never reused, so a walk that follows a stale
 * pointer into freed memory fails with a bus error instead of silently
 * reading a newer table.
 */
#ifndef LPT_TESTLIB_H
#define LPT_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lpt.h"

struct tl_block {
	uint64_t pa;
	size_t bytes;
	void *va;		/* NULL once freed */
};

struct tl_mem {
	struct tl_block *b;
	size_t n, cap;
	uint64_t next_pa;
	uint64_t contig;	/* oracle answer; 0 = unlimited */
	long fail_after;	/* allocations left before failing; -1 never */
	size_t live;		/* blocks outstanding */
	size_t live_bytes;
	size_t meta_live;
	uint64_t biggest;	/* largest table/arena allocation seen */
};

/* Failure injection: fail once @fail_after allocations have been served. */
static inline int tl_should_fail(struct tl_mem *m)
{
	if (m->fail_after == 0)
		return 1;
	if (m->fail_after > 0)
		m->fail_after--;
	return 0;
}

static inline void *tl_alloc(void *ctx, size_t bytes, uint64_t *pa)
{
	struct tl_mem *m = ctx;
	void *va;

	if (tl_should_fail(m))
		return NULL;
	if (!bytes || (bytes & 4095))
		abort();	/* the library promised whole pages */
	if (m->contig && bytes > m->contig)
		return NULL;	/* the allocator cannot do it right now */
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 64;
		m->b = realloc(m->b, m->cap * sizeof(*m->b));
		if (!m->b)
			abort();
	}
	va = aligned_alloc(4096, bytes);
	if (!va)
		return NULL;
	memset(va, 0, bytes);
	if (!m->next_pa)
		m->next_pa = 0x100000000ULL;
	m->b[m->n].pa = m->next_pa;
	m->b[m->n].bytes = bytes;
	m->b[m->n].va = va;
	*pa = m->next_pa;
	/* Leave an unmapped page between blocks: overruns fault. */
	m->next_pa += bytes + 4096;
	m->n++;
	m->live++;
	m->live_bytes += bytes;
	if (bytes > m->biggest)
		m->biggest = bytes;
	return va;
}

static inline struct tl_block *tl_find(struct tl_mem *m, uint64_t pa)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->b[mid].pa + m->b[mid].bytes <= pa)
			lo = mid + 1;
		else if (m->b[mid].pa > pa)
			hi = mid;
		else
			return &m->b[mid];
	}
	return NULL;
}

static inline void tl_free(void *ctx, void *va, uint64_t pa, size_t bytes)
{
	struct tl_mem *m = ctx;
	struct tl_block *b = tl_find(m, pa);
	static const unsigned char zero[4096];
	size_t i;

	if (!b || b->pa != pa || b->va != va || b->bytes != bytes)
		abort();

	/* memcmp, not a loop: fuzzers would instrument every compare. */
	for (i = 0; i < bytes; i += sizeof(zero))
		if (memcmp((char *)va + i, zero, sizeof(zero)))
			abort();	/* the library must zero before free */
	free(va);
	b->va = NULL;
	m->live--;
	m->live_bytes -= bytes;
}

static inline uint64_t tl_contig(void *ctx)
{
	struct tl_mem *m = ctx;

	return m->contig ? m->contig : ~0ULL;
}

static inline void *tl_meta_alloc(void *ctx, size_t bytes)
{
	struct tl_mem *m = ctx;
	void *p;

	if (tl_should_fail(m))
		return NULL;
	p = malloc(bytes);
	if (p)
		m->meta_live++;
	return p;
}

static inline void tl_meta_free(void *ctx, void *p, size_t bytes)
{
	struct tl_mem *m = ctx;

	free(p);
	m->meta_live--;
}

static inline int tl_read8(void *ctx, uint64_t pa, uint64_t *val)
{
	struct tl_mem *m = ctx;
	struct tl_block *b = tl_find(m, pa);

	if (!b || !b->va || (pa & 7))
		return -1;
	memcpy(val, (char *)b->va + (pa - b->pa), 8);
	return 0;
}

static inline void tl_init(struct tl_mem *m, struct lpt_mem_ops *ops)
{
	memset(m, 0, sizeof(*m));
	m->fail_after = -1;
	ops->alloc = tl_alloc;
	ops->free = tl_free;
	ops->max_contig = tl_contig;
	ops->meta_alloc = tl_meta_alloc;
	ops->meta_free = tl_meta_free;
	ops->ctx = m;
}

static inline void tl_fini(struct tl_mem *m)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		free(m->b[i].va);
	free(m->b);
	memset(m, 0, sizeof(*m));
}

/* A PTE for @va that is easy to check: PFN derived from the va. */
static inline uint64_t tl_pte(uint64_t va, unsigned int size)
{
	uint64_t pfn = (va ^ 0x5a5a5000ULL) & 0x000ffffffffff000ULL;

	pfn &= ~(lpt_size_bytes(size) - 1);
	return pfn | LPT_PTE_P | LPT_PTE_RW | LPT_PTE_US;
}

/* A walk's PTE as the library's users wrote it: PS is the ABI's business. */
static inline uint64_t tl_wpte(const struct lpt_walk *w)
{
	return w->pte & ~LPT_PTE_PS;
}

#endif /* LPT_TESTLIB_H */
