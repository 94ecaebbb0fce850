// SPDX-License-Identifier: GPL-2.0
/*
 * The leaf a HugeScope merge installs, checked in user space with the EPT
 * and NPT masks (issue 11's first critical finding: on EPT the merged 2M
 * leaf stayed executable under the NX huge page mitigation, because
 * shadow_nx_mask is 0 there).  This platform cannot run EPT, so the test
 * runs the patched tree's own code on made-up SPTEs: gen.sh extracts
 * spte.c's helpers and the merge's leaf statement from
 * tdp_mmu_hs_make_huge_spte(); mock.h stands in for the rest of KVM.
 * For EPT and NPT, the mitigation on and off, it splits a huge leaf as
 * HugeScope does (make_huge_page_split_spte(), A/D cleared), merges a
 * child back and requires the leaf the fault path would install, minus
 * A/D: in particular not executable while the mitigation is on.  TAP.
 * Build: tests/kvm-spte/run.sh (make kvm-spte-check).
 */
#include "mock.h"
static u64 mark_spte_for_access_track(u64 spte);
#include "spte_funcs.c"

static int fails, nr;
#define CHECK(c, ...) do {						\
	nr++;								\
	if (!(c))							\
		fails++;						\
	printf("%s - ", (c) ? "ok" : "not ok");				\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)

static void set_ept(void)
{
	shadow_accessed_mask = VMX_EPT_ACCESS_BIT; shadow_dirty_mask = VMX_EPT_DIRTY_BIT;
	shadow_nx_mask = 0; shadow_x_mask = VMX_EPT_EXECUTABLE_MASK;
	shadow_acc_track_mask = VMX_EPT_RWX_MASK;
}
static void set_npt(void)
{
	shadow_accessed_mask = BIT_ULL(5); shadow_dirty_mask = BIT_ULL(6);
	shadow_nx_mask = PT64_NX_MASK; shadow_x_mask = 0; shadow_acc_track_mask = 0;
}
static bool executable(u64 s) { return shadow_x_mask ? (s & shadow_x_mask) : !(s & shadow_nx_mask); }

/* The merge before the fix (tdp_mmu_hs_make_huge_spte() at 6b8c3a0). */
static u64 old_merge(struct kvm *kvm, u64 first)
{
	u64 spte = (first | PT_PAGE_SIZE_MASK) & ~(shadow_accessed_mask | shadow_dirty_mask);
	spte &= KVM_HPAGE_MASK(PG_LEVEL_2M) | ~PAGE_MASK;
	if (is_nx_huge_page_enabled(kvm))
		spte |= shadow_nx_mask;
	return spte;
}
/* The merge as the tree has it: its statement that builds the leaf. */
static u64 new_merge(struct kvm *kvm, u64 first)
{
	u64 leaf, *huge_spte = &leaf;

#include "merge_leaf.inc"
	return leaf;
}

/* Fault-path-like huge leaf: exec stripped when the mitigation is on. */
static u64 huge_leaf(struct kvm *kvm, bool ept)
{
	u64 pfn = 0x123400ULL;	/* 2M aligned */
	u64 s = SPTE_MMU_PRESENT_MASK | PT_PAGE_SIZE_MASK | (pfn << PAGE_SHIFT) |
		shadow_accessed_mask | shadow_dirty_mask;
	if (ept)
		s |= VMX_EPT_READABLE_MASK | VMX_EPT_WRITABLE_MASK | (6ULL << 3) |
		     EPT_SPTE_HOST_WRITABLE | EPT_SPTE_MMU_WRITABLE | VMX_EPT_SUPPRESS_VE_BIT;
	else
		s |= 0x7 /* P|W|U */ | BIT_ULL(9) | BIT_ULL(10);
	if (kvm->nx_huge_pages)
		s = (s & ~shadow_x_mask) | shadow_nx_mask;
	else
		s = (s | shadow_x_mask) & ~shadow_nx_mask;
	return s;
}

static void run(const char *name, bool ept, bool nx)
{
	struct kvm kvm = { .nx_huge_pages = nx };
	union kvm_mmu_page_role role = { .level = PG_LEVEL_4K, .access = ACC_ALL };
	u64 huge, child, oldm, newm;
	int i;

	ept ? set_ept() : set_npt();
	huge = huge_leaf(&kvm, ept);
	/* A HugeScope split: children with A/D cleared. */
	for (i = 0; i < 512; i++) {
		child = make_huge_page_split_spte(&kvm, huge, role, i) &
			~(shadow_accessed_mask | shadow_dirty_mask);
		assert(executable(child));
	}
	child = make_huge_page_split_spte(&kvm, huge, role, 37) &
		~(shadow_accessed_mask | shadow_dirty_mask);
	oldm = old_merge(&kvm, child);
	newm = new_merge(&kvm, child);
	printf("# %s nx_huge_pages=%d: huge %#llx child %#llx old %#llx new %#llx\n", name, nx,
	       (unsigned long long)huge, (unsigned long long)child,
	       (unsigned long long)oldm, (unsigned long long)newm);
	CHECK(newm == (huge & ~(shadow_accessed_mask | shadow_dirty_mask)),
	      "%s nx=%d: merged leaf equals the fault path's leaf (minus A/D)", name, nx);
	CHECK(executable(newm) == !nx, "%s nx=%d: merged leaf executable iff mitigation off", name, nx);
	if (nx && ept)
		CHECK(executable(oldm), "%s nx=1: the old merge left the leaf executable (the bug)", name);
}

int main(void)
{
	struct kvm kvm = { .nx_huge_pages = true };
	u64 s, h;

	run("EPT", true, true);
	run("EPT", true, false);
	run("NPT", false, true);
	run("NPT", false, false);

	/* Access-tracked EPT SPTE (A/D disabled): X must end up cleared in the saved bits. */
	set_ept();
	s = SPTE_MMU_PRESENT_MASK | SPTE_TDP_AD_DISABLED | VMX_EPT_RWX_MASK | (0x4567ULL << PAGE_SHIFT);
	s = mark_spte_for_access_track(s);
	h = make_huge_spte(&kvm, s, PG_LEVEL_2M);
	CHECK(is_access_track_spte(h) && !(restore_acc_track_spte(h) & VMX_EPT_EXECUTABLE_MASK) &&
	      (restore_acc_track_spte(h) & VMX_EPT_READABLE_MASK),
	      "EPT access-tracked: stays tracked, restores to R, not X");
	printf("1..%d\n", nr);
	return !!fails;
}
