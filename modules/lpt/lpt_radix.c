// SPDX-License-Identifier: GPL-2.0
/*
 * The radix side of lpt.ko: read the translation of an address, or of a
 * whole address space, from the page tables and express it as LPT
 * mappings (page base, LPT PTE word, page size).
 *
 * Reads are lockless, as GUP-fast does them.  The caller holds the mmap
 * lock or the VMA lock, so page tables above the PMD level stay; a PTE
 * table may still be freed under us (retract_page_tables() frees it by
 * RCU), so PTEs are read under rcu_read_lock() from a PMD value that was
 * validated inside that section, which is what __pte_offset_map() does
 * (it is not exported to modules).  A value read here may be stale the
 * moment it is read: callers check the notifier sequence afterwards.
 */
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include "lpt_kernel.h"

/*
 * The LPT PTE word for a present user page.  RW only when the radix PTE
 * is writable *and* dirty, so that the first write to a clean page
 * faults and the kernel marks the page dirty (the hardware sets A/D in
 * LPT entries only).  A clear: the hardware sets it on first access.
 * Return 0, -ENOENT (not accessible from user mode: not present,
 * PROT_NONE, NUMA hinting, kernel-only) or -EOPNOTSUPP (a memory type the
 * LPT entry cannot express: PAT set; or a PFN beyond 52 bits).
 */
static int lpt_pte_word(unsigned long flags, unsigned long pfn, bool dirty,
			unsigned int size, u64 *out)
{
	unsigned long pat = size == LPT_SIZE_4K ? _PAGE_PAT : _PAGE_PAT_LARGE;
	u64 pa = (u64)pfn << PAGE_SHIFT, pte;

	if (!(flags & _PAGE_PRESENT) || !(flags & _PAGE_USER))
		return -ENOENT;
	if ((flags & pat) || (pa >> LPT_PTE_PA_BITS))
		return -EOPNOTSUPP;
	pte = LPT_PTE_P | LPT_PTE_US | (pa & LPT_PTE_PFN_MASK);
	if (dirty) {
		pte |= LPT_PTE_D;
		if (flags & _PAGE_RW)
			pte |= LPT_PTE_RW;
	}
	if (flags & _PAGE_PWT)
		pte |= LPT_PTE_PWT;
	if (flags & _PAGE_PCD)
		pte |= LPT_PTE_PCD;
	if (flags & _PAGE_NX)
		pte |= LPT_PTE_NX;
	*out = pte;
	return 0;
}

enum lpt_descend {
	LPT_D_HOLE,	/* nothing mapped up to *next */
	LPT_D_LEAF,	/* a 1G or 2M leaf; *map filled, or error set */
	LPT_D_TABLE,	/* *pmdp points to a PTE table (unvalidated) */
};

/*
 * Walk from the PGD to the PMD of @addr.  For a hole, *next is the end of
 * the hole at the level where it was found.
 */
static enum lpt_descend lpt_descend(struct mm_struct *mm, unsigned long addr,
				    struct lpt_map *map, int *err,
				    pmd_t **pmdp, unsigned long *next)
{
	pgd_t *pgd = pgd_offset(mm, addr), pgdv = READ_ONCE(*pgd);
	p4d_t *p4d, p4dv;
	pud_t *pud, pudv;
	pmd_t pmdv;

	*next = pgd_addr_end(addr, ULONG_MAX);
	if (pgd_none(pgdv) || pgd_bad(pgdv))
		return LPT_D_HOLE;
	p4d = p4d_offset(pgd, addr);
	p4dv = READ_ONCE(*p4d);
	*next = p4d_addr_end(addr, ULONG_MAX);
	if (p4d_none(p4dv) || p4d_bad(p4dv))
		return LPT_D_HOLE;
	pud = pud_offset(p4d, addr);
	pudv = READ_ONCE(*pud);
	*next = pud_addr_end(addr, ULONG_MAX);
	if (pud_none(pudv))
		return LPT_D_HOLE;
	if (pud_leaf(pudv)) {
		map->va = addr & PUD_MASK;
		map->size = LPT_SIZE_1G;
		*err = lpt_pte_word(pud_flags(pudv), pud_pfn(pudv),
				    pud_dirty(pudv), LPT_SIZE_1G, &map->pte);
		return LPT_D_LEAF;
	}
	if (!pud_present(pudv) || pud_bad(pudv))
		return LPT_D_HOLE;
	*pmdp = pmd_offset(pud, addr);
	pmdv = pmdp_get_lockless(*pmdp);
	*next = pmd_addr_end(addr, ULONG_MAX);
	if (pmd_none(pmdv))
		return LPT_D_HOLE;
	if (pmd_leaf(pmdv)) {
		*err = lpt_radix_pmd_map(pmdv, addr, map);
		return LPT_D_LEAF;
	}
	if (!(pmd_flags(pmdv) & _PAGE_PRESENT) || pmd_bad(pmdv))
		return LPT_D_HOLE;
	return LPT_D_TABLE;
}

/*
 * Map the PTE table *@pmdp points to, as __pte_offset_map() does: under
 * rcu_read_lock(), from a PMD value checked inside that section.  Returns
 * NULL (and leaves RCU) when the PMD no longer holds a table.
 */
static pte_t *lpt_pte_map(pmd_t *pmdp, unsigned long addr)
{
	pmd_t pmdv;

	rcu_read_lock();
	pmdv = pmdp_get_lockless(pmdp);
	if (pmd_none(pmdv) || pmd_leaf(pmdv) || pmd_bad(pmdv) ||
	    !(pmd_flags(pmdv) & _PAGE_PRESENT)) {
		rcu_read_unlock();
		return NULL;
	}
	return pte_offset_kernel(&pmdv, addr);
}

/* The LPT mapping of the radix PTE value @ptev for @addr. */
int lpt_radix_pte_map(pte_t ptev, unsigned long addr, struct lpt_map *map)
{
	map->va = addr & PAGE_MASK;
	map->size = LPT_SIZE_4K;
	return lpt_pte_word(pte_flags(ptev), pte_pfn(ptev), pte_dirty(ptev),
			    LPT_SIZE_4K, &map->pte);
}

/* The same for a PMD value @pmdv: a 2 MiB leaf, or -ENOENT. */
int lpt_radix_pmd_map(pmd_t pmdv, unsigned long addr, struct lpt_map *map)
{
	if (!pmd_leaf(pmdv))
		return -ENOENT;
	map->va = addr & PMD_MASK;
	map->size = LPT_SIZE_2M;
	return lpt_pte_word(pmd_flags(pmdv), pmd_pfn(pmdv), pmd_dirty(pmdv),
			    LPT_SIZE_2M, &map->pte);
}

/**
 * lpt_radix_lookup - the radix translation of @addr as an LPT mapping
 * @mm: the address space; its mmap lock or the VMA lock is held
 * @addr: a user address below 2^47
 * @map: filled on success: page base, LPT PTE word, page size
 *
 * Return: 0, -ENOENT (nothing a user access may use) or -EOPNOTSUPP
 * (mapped, but not expressible in an LPT entry).
 */
int lpt_radix_lookup(struct mm_struct *mm, unsigned long addr,
		     struct lpt_map *map)
{
	unsigned long next;
	pmd_t *pmdp = NULL;
	pte_t *ptep;
	int err = 0;

	switch (lpt_descend(mm, addr, map, &err, &pmdp, &next)) {
	case LPT_D_HOLE:
		return -ENOENT;
	case LPT_D_LEAF:
		return err;
	case LPT_D_TABLE:
		break;
	}
	ptep = lpt_pte_map(pmdp, addr);
	if (!ptep)
		return -ENOENT;
	err = lpt_radix_pte_map(ptep_get(ptep), addr, map);
	rcu_read_unlock();
	return err;
}

/* Room for one more PTE table's worth of mappings (sleeps). */
static int lpt_snap_reserve(struct lpt_snap *s)
{
	struct lpt_map *p;
	size_t cap;

	if (s->cap - s->n >= PTRS_PER_PTE)
		return 0;
	cap = max_t(size_t, 2 * s->cap, s->n + 4 * PTRS_PER_PTE);
	p = kvrealloc(s->maps, cap * sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p)
		return -ENOMEM;
	s->maps = p;
	s->cap = cap;
	return 0;
}

/* Append the mappings of [addr, end), within one VMA, to @s. */
static int lpt_snap_range(struct mm_struct *mm, unsigned long addr,
			  unsigned long end, struct lpt_snap *s)
{
	unsigned long next, stop;
	struct lpt_map map;
	pmd_t *pmdp = NULL;
	pte_t *ptep;
	int err;

	while (addr < end) {
		err = lpt_snap_reserve(s);
		if (err)
			return err;
		err = 0;
		switch (lpt_descend(mm, addr, &map, &err, &pmdp, &next)) {
		case LPT_D_HOLE:
			break;
		case LPT_D_LEAF:
			if (err == -EOPNOTSUPP)
				return err;
			/* Defensive: never the same huge page twice. */
			if (!err && (!s->n || s->maps[s->n - 1].va != map.va))
				s->maps[s->n++] = map;
			break;
		case LPT_D_TABLE:
			stop = min(next, end);
			ptep = lpt_pte_map(pmdp, addr);
			if (!ptep)
				break;
			for (; addr < stop; addr += PAGE_SIZE, ptep++) {
				err = lpt_radix_pte_map(ptep_get(ptep), addr, &map);
				if (err == -EOPNOTSUPP)
					break;
				if (!err)
					s->maps[s->n++] = map;
			}
			rcu_read_unlock();
			if (err == -EOPNOTSUPP)
				return err;
			break;
		}
		addr = next;
	}
	return 0;
}

/**
 * lpt_radix_snapshot - every user mapping of @mm, sorted by address
 * @mm: the address space; its mmap lock is held (read or write)
 * @s: empty on entry; the caller kvfree()s s->maps
 *
 * Sleeps (allocations).  Return: 0, -ENOMEM, or -EOPNOTSUPP when some
 * page cannot be expressed in an LPT entry (the mm cannot have an LPT).
 */
int lpt_radix_snapshot(struct mm_struct *mm, struct lpt_snap *s)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;
	int err;

	mmap_assert_locked(mm);
	for_each_vma(vmi, vma) {
		if (vma->vm_start >= LPT_VA_LIMIT)
			break;
		err = lpt_snap_range(mm, vma->vm_start,
				     min_t(unsigned long, vma->vm_end,
					   LPT_VA_LIMIT), s);
		if (err)
			return err;
	}
	return 0;
}

static void lpt_anchor(struct lpt_map *out, size_t *n, unsigned long va)
{
	out[*n].va = va & PAGE_MASK;
	out[*n].pte = LPT_PTE_SW_ANCHOR;
	out[*n].size = LPT_SIZE_4K;
	(*n)++;
}

/**
 * lpt_radix_anchors - anchor entries for the layout of @mm
 * @mm: the address space; its mmap lock is held
 * @out: room for @max entries
 * @max: at most this many (two per VMA; later VMAs go without)
 *
 * A not-present entry (LPT_PTE_SW_ANCHOR) at the first and the last page
 * of every VMA a user access can use (PROT_NONE reservations and guards
 * get none), and where the two areas that grow without a VMA yet start:
 * the heap (start_brk) and the top-down mmap area (below mmap_base).
 * Return: entries written (any order, overlaps allowed).
 */
size_t lpt_radix_anchors(struct mm_struct *mm, struct lpt_map *out,
			 size_t max)
{
	VMA_ITERATOR(vmi, mm, 0);
	struct vm_area_struct *vma;
	unsigned long last;
	size_t n = 0;

	mmap_assert_locked(mm);
	if (max < 2)
		return 0;
	if (mm->start_brk && mm->start_brk < LPT_VA_LIMIT)
		lpt_anchor(out, &n, mm->start_brk);
	if (mm->mmap_base > PAGE_SIZE && mm->mmap_base <= LPT_VA_LIMIT)
		lpt_anchor(out, &n, mm->mmap_base - PAGE_SIZE);
	for_each_vma(vmi, vma) {
		if (vma->vm_start >= LPT_VA_LIMIT || n + 2 > max)
			break;
		if (!(vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC)))
			continue;
		last = min_t(unsigned long, vma->vm_end, LPT_VA_LIMIT) - PAGE_SIZE;
		lpt_anchor(out, &n, vma->vm_start);
		if (last != vma->vm_start)
			lpt_anchor(out, &n, last);
	}
	return n;
}
