// SPDX-License-Identifier: GPL-2.0
/*
 * User-space stand-ins for the parts of KVM (arch/x86/kvm/mmu/spte.h, vmx.h,
 * mmu.h of Linux 6.12) that the SPTE helpers extracted by gen.sh use, so
 * spte_nx_check.c can run them: constants copied from 6.12, the shadow_*
 * masks as variables each test case sets for EPT or NPT.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
typedef uint64_t u64;
#define BIT_ULL(n) (1ULL << (n))
#define PAGE_SHIFT 12
#define PAGE_MASK (~((1ULL << PAGE_SHIFT) - 1))
#define PG_LEVEL_4K 1
#define PG_LEVEL_2M 2
#define KVM_HPAGE_GFN_SHIFT(l) (((l) - 1) * 9)
#define KVM_HPAGE_SIZE(l) (1ULL << (PAGE_SHIFT + KVM_HPAGE_GFN_SHIFT(l)))
#define KVM_HPAGE_MASK(l) (~(KVM_HPAGE_SIZE(l) - 1))
#define KVM_PAGES_PER_HPAGE(l) (KVM_HPAGE_SIZE(l) / (1ULL << PAGE_SHIFT))
#define PT_PAGE_SIZE_MASK BIT_ULL(7)
#define PT64_NX_MASK BIT_ULL(63)
#define SPTE_MMU_PRESENT_MASK BIT_ULL(11)
#define SPTE_TDP_AD_SHIFT 52
#define SPTE_TDP_AD_MASK (3ULL << SPTE_TDP_AD_SHIFT)
#define SPTE_TDP_AD_DISABLED (1ULL << SPTE_TDP_AD_SHIFT)
#define SPTE_EPT_READABLE_MASK 0x1ull
#define SPTE_EPT_EXECUTABLE_MASK 0x4ull
#define SHADOW_ACC_TRACK_SAVED_BITS_MASK (SPTE_EPT_READABLE_MASK | SPTE_EPT_EXECUTABLE_MASK)
#define SHADOW_ACC_TRACK_SAVED_BITS_SHIFT 54
#define VMX_EPT_READABLE_MASK 0x1ull
#define VMX_EPT_WRITABLE_MASK 0x2ull
#define VMX_EPT_EXECUTABLE_MASK 0x4ull
#define VMX_EPT_RWX_MASK 0x7ull
#define VMX_EPT_ACCESS_BIT BIT_ULL(8)
#define VMX_EPT_DIRTY_BIT BIT_ULL(9)
#define VMX_EPT_SUPPRESS_VE_BIT BIT_ULL(63)
#define EPT_SPTE_HOST_WRITABLE BIT_ULL(57)
#define EPT_SPTE_MMU_WRITABLE BIT_ULL(58)
#define ACC_EXEC_MASK 1
#define ACC_ALL 7
#define KVM_MMU_WARN_ON(x) assert(!(x))
#define KVM_BUG_ON(c, kvm) ({ assert(!(c)); false; })
#define WARN_ONCE(c, ...) assert(!(c))
static u64 shadow_nx_mask, shadow_x_mask, shadow_accessed_mask,
	shadow_dirty_mask, shadow_acc_track_mask;
struct kvm { bool nx_huge_pages; };
union kvm_mmu_page_role { struct { unsigned level:4, access:3; }; };
static bool is_nx_huge_page_enabled(struct kvm *kvm) { return kvm->nx_huge_pages; }
static bool is_shadow_present_pte(u64 p) { return p & SPTE_MMU_PRESENT_MASK; }
static bool is_large_pte(u64 p) { return p & PT_PAGE_SIZE_MASK; }
static bool spte_ad_enabled(u64 s) { return (s & SPTE_TDP_AD_MASK) != SPTE_TDP_AD_DISABLED; }
static bool is_access_track_spte(u64 s) { return !spte_ad_enabled(s) && (s & shadow_acc_track_mask) == 0; }
static void check_spte_writable_invariants(u64 s) { (void)s; }
static u64 restore_acc_track_spte(u64 spte)
{
	u64 saved = (spte >> SHADOW_ACC_TRACK_SAVED_BITS_SHIFT) & SHADOW_ACC_TRACK_SAVED_BITS_MASK;
	spte &= ~shadow_acc_track_mask;
	spte &= ~(SHADOW_ACC_TRACK_SAVED_BITS_MASK << SHADOW_ACC_TRACK_SAVED_BITS_SHIFT);
	return spte | saved;
}
