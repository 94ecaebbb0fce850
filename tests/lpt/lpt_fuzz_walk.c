// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: arbitrary bytes as physical memory, an arbitrary root
 * register and arbitrary addresses fed to the reference walker.  The
 * walker must never crash or trip the sanitizers, must stay inside its
 * bounds (depth, lines, probes), a translation must be backed by a slot
 * whose tag really matches, and a walk through the walk cache must give
 * the same answer as one straight from memory.
 */
#include "lpt_testlib.h"

struct fmem {
	const uint8_t *p;
	size_t len;
	uint64_t base;
	unsigned int reads;
};

static int f_read8(void *ctx, uint64_t pa, uint64_t *val)
{
	struct fmem *m = ctx;

	m->reads++;
	if (pa < m->base || pa - m->base >= m->len || m->len - (pa - m->base) < 8)
		return -1;
	memcpy(val, m->p + (pa - m->base), 8);
	return 0;
}

static uint64_t get64(const uint8_t *d, size_t len, size_t off)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8 && off + i < len; i++)
		v |= (uint64_t)d[off + i] << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lpt_lwc_entry le[8];
	struct lpt_walk w, w2;
	struct lpt_lwc lwc;
	struct fmem m;
	uint64_t root, va, tag;
	size_t i, nva;
	int f, f2;

	if (size < 16)
		return 0;
	root = get64(data, size, 0);
	nva = 1 + data[8] % 16;
	m.base = 0x40000000ULL;
	m.p = data;
	m.len = size;
	/* Most inputs: enabled root pointing into the buffer. */
	if (data[9] & 1) {
		root = (root & ~(LPT_ROOT_PA_MASK | LPT_ROOT_RSVD_MASK)) |
		       m.base | LPT_ROOT_E;
	}
	lpt_lwc_init(&lwc, le, 8);
	for (i = 0; i < nva; i++) {
		va = get64(data, size, 10 + 8 * i);
		if (data[9] & 2)
			va &= LPT_VA_LIMIT - 1;
		m.reads = 0;
		f = lpt_walk(root, va, f_read8, &m, NULL, &w);
		if (f < 0 || f >= LPT_F_NR || w.fault != f)
			__builtin_trap();
		if (w.depth > LPT_MAX_DEPTH || w.nlines > 5 ||
		    w.probes > LPT_CERR + 1 || m.reads > 2 * 3 + 2 * 4)
			__builtin_trap();
		if (f == LPT_OK) {
			uint64_t pte, sz = lpt_size_bytes(w.size);

			/* The entry it reports is the one it used. */
			if (f_read8(&m, w.entry_pa, &pte) || pte != w.pte ||
			    !(pte & LPT_PTE_P) ||
			    w.pa != ((pte & LPT_PTE_PFN_MASK) | (va & (sz - 1))))
				__builtin_trap();
			/* A gapped slot translates only the page its tag names. */
			if (w.leaf_kind == LPT_NODE_LEAF &&
			    (f_read8(&m, w.entry_pa + 8, &tag) ||
			     !lpt_tag_matches(tag, va)))
				__builtin_trap();
			if (w.leaf_kind == LPT_NODE_DIRECT && w.probes > 2)
				__builtin_trap();
		}
		/* Twice through the cache: same answer as memory. */
		f2 = lpt_walk(root, va, f_read8, &m, &lwc, &w2);
		f2 = lpt_walk(root, va, f_read8, &m, &lwc, &w2);
		if (f2 != f || w2.pa != w.pa || w2.pte != w.pte ||
		    w2.nlines > w.nlines)
			__builtin_trap();
	}
	return 0;
}
