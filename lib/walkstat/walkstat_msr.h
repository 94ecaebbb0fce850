/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The page-walk statistics MSR interface, defined once: QEMU's
 * target/i386/walkstats.h serves it and the guest tools (walkstat, the
 * walkstats and lpt_mmu selftests) read it, all from this table
 * (docs/walkstats.md says what each counter means).  Read-only MSRs in
 * 0x4c505400..0x4c5054ff, a range neither QEMU nor Linux uses.  Counter i
 * is MSR_WALKSTAT_COUNTER0 + i; counters are only ever appended, and
 * MSR_WALKSTAT_VERSION bits 15:8 say how many there are.
 */
#ifndef WALKSTAT_MSR_H
#define WALKSTAT_MSR_H

#define MSR_WALKSTAT_BASE	0x4c505400u
#define MSR_WALKSTAT_VERSION	(MSR_WALKSTAT_BASE + 0x00)
#define MSR_WALKSTAT_TLB_CFG	(MSR_WALKSTAT_BASE + 0x01)	/* entries | ways << 32 */
#define MSR_WALKSTAT_PWC_CFG	(MSR_WALKSTAT_BASE + 0x02)	/* PWC | nested TLB << 32 */
#define MSR_WALKSTAT_COUNTER0	(MSR_WALKSTAT_BASE + 0x10)
#define MSR_WALKSTAT_LAST	(MSR_WALKSTAT_BASE + 0xff)

#define WALKSTAT_VERSION	1		/* bits 7:0 of MSR_WALKSTAT_VERSION */
#define WALKSTAT_VER_PWC	(1u << 16)	/* PWC model configured */
#define WALKSTAT_VER_TLB	(1u << 17)	/* TLB model configured */
#define WALKSTAT_VER_NTLB	(1u << 18)	/* nested TLB (2D model) configured */

/*
 * X(identifier, name), in MSR order.  REFS_PT..REFS_PML5 stay consecutive
 * (indexed by paging level), as do the PWC lookup/hit pairs.
 */
#define WALKSTAT_COUNTERS(X)					\
	X(WALKS,		"walks")			\
	X(REFS,			"refs")				\
	X(REFS_PT,		"refs-pt")			\
	X(REFS_PD,		"refs-pd")			\
	X(REFS_PDPT,		"refs-pdpt")			\
	X(REFS_PML4,		"refs-pml4")			\
	X(REFS_PML5,		"refs-pml5")			\
	X(FAULTS,		"faults")			\
	X(LEAF_4K,		"leaf-4k")			\
	X(LEAF_2M,		"leaf-2m")			\
	X(LEAF_1G,		"leaf-1g")			\
	X(PWC_PDE_LOOKUPS,	"pwc-pde-lookups")		\
	X(PWC_PDE_HITS,		"pwc-pde-hits")			\
	X(PWC_PDPTE_LOOKUPS,	"pwc-pdpte-lookups")		\
	X(PWC_PDPTE_HITS,	"pwc-pdpte-hits")		\
	X(PWC_PML4E_LOOKUPS,	"pwc-pml4e-lookups")		\
	X(PWC_PML4E_HITS,	"pwc-pml4e-hits")		\
	X(TLB_HITS,		"tlb-hits")			\
	X(TLB_EVICTIONS,	"tlb-evictions")		\
	X(FLUSHES,		"flushes")			\
	X(NESTED_WALKS,		"nested-walks")			\
	X(NESTED_REFS,		"nested-refs")			\
	X(NESTED_FAULTS,	"nested-faults")		\
	X(RAW_REFS,		"raw-refs")			\
	X(VMRUNS,		"vmruns")			\
	X(VMEXITS,		"vmexits")			\
	X(VMEXIT_NPF,		"vmexit-npf")			\
	X(VMEXIT_INTR,		"vmexit-intr")			\
	X(VMEXIT_EXCP,		"vmexit-excp")			\
	X(VMEXIT_IO,		"vmexit-io")			\
	X(VMEXIT_MSR,		"vmexit-msr")			\
	X(VMEXIT_HLT,		"vmexit-hlt")			\
	X(VMEXIT_CPUID,		"vmexit-cpuid")			\
	X(VMEXIT_VMMCALL,	"vmexit-vmmcall")		\
	X(VMEXIT_OTHER,		"vmexit-other")			\
	X(FLUSHES_ASID,		"flushes-asid")			\
	X(FLUSHES_ALL_ASIDS,	"flushes-all-asids")		\
	X(TWO_D_WALKS,		"2d-walks")			\
	X(TWO_D_REFS_GUEST,	"2d-refs-guest")		\
	X(TWO_D_REFS_NESTED,	"2d-refs-nested")		\
	X(NTLB_LOOKUPS,		"ntlb-lookups")			\
	X(NTLB_HITS,		"ntlb-hits")			\
	X(NPWC_HITS,		"npwc-hits")

/*
 * The counters as WALKSTAT_<id>, and an entry of a names table:
 * WALKSTAT_COUNTERS(WALKSTAT_NAME).
 */
#define WALKSTAT_ENUM(id, name) WALKSTAT_##id,
#define WALKSTAT_NAME(id, name) [WALKSTAT_##id] = name,

/* The first version-1 table had this many counters (up to RAW_REFS). */
#define WALKSTAT_NR_V1		24

#endif /* WALKSTAT_MSR_H */
