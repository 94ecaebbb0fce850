/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The machine model's MSR interface, defined once: QEMU's target/i386
 * model serves it, and the guest tools (walkstat) and selftests read it,
 * all from this table.  Read-only MSRs: MSR_MMODEL_VERSION holds
 * MMODEL_ABI_VERSION | counters << 8; counter i is MSR_MMODEL_COUNTER0 + i.
 * Counters are only ever appended, so a reader built against an older
 * table keeps working; a reader checks the count before reading past it.
 * The meaning of each counter is in docs/mmodel.md.
 */
#ifndef MMODEL_MSR_H
#define MMODEL_MSR_H

#define MSR_MMODEL_BASE		0x4c505600u
#define MSR_MMODEL_VERSION	(MSR_MMODEL_BASE + 0x00)
#define MSR_MMODEL_COUNTER0	(MSR_MMODEL_BASE + 0x10)
#define MSR_MMODEL_LAST		(MSR_MMODEL_BASE + 0xff)
#define MMODEL_ABI_VERSION	1

/* X(identifier, name): in MSR order. */
#define MMODEL_MSR_COUNTERS(X)				\
	X(INSNS_USER,		"insns-user")		\
	X(INSNS_KERNEL,		"insns-kernel")		\
	X(INSNS_NESTED,		"insns-nested")		\
	X(LOADS_L1,		"loads-l1")		\
	X(LOADS_L2,		"loads-l2")		\
	X(LOADS_LLC,		"loads-llc")		\
	X(LOADS_DRAM,		"loads-dram")		\
	X(STORES_L1,		"stores-l1")		\
	X(STORES_L2,		"stores-l2")		\
	X(STORES_LLC,		"stores-llc")		\
	X(STORES_DRAM,		"stores-dram")		\
	X(DRAM_NODE0,		"dram-node0")		\
	X(DRAM_NODE1,		"dram-node1")		\
	X(UNMODELLED,		"unmodelled")		\
	X(CYCLES,		"cycles")		\
	X(CYCLES_INSN,		"cycles-insn")		\
	X(CYCLES_DATA,		"cycles-data")		\
	X(USER_ACCESSES,	"user-accesses")	\
	X(WALK_S1_L1,		"walk-s1-l1")		\
	X(WALK_S1_L2,		"walk-s1-l2")		\
	X(WALK_S1_LLC,		"walk-s1-llc")		\
	X(WALK_S1_DRAM,		"walk-s1-dram")		\
	X(WALK_S2_L1,		"walk-s2-l1")		\
	X(WALK_S2_L2,		"walk-s2-l2")		\
	X(WALK_S2_LLC,		"walk-s2-llc")		\
	X(WALK_S2_DRAM,		"walk-s2-dram")		\
	X(WALK_2D_L1,		"walk-2d-l1")		\
	X(WALK_2D_L2,		"walk-2d-l2")		\
	X(WALK_2D_LLC,		"walk-2d-llc")		\
	X(WALK_2D_DRAM,		"walk-2d-dram")		\
	X(WALK_DRAM_NODE0,	"walk-dram-node0")	\
	X(WALK_DRAM_NODE1,	"walk-dram-node1")	\
	X(WALK_UNMODELLED,	"walk-unmodelled")	\
	X(VMRUNS,		"vmruns")		\
	X(VMEXITS,		"vmexits")		\
	X(FLUSHES,		"flushes")		\
	X(CYCLES_WALK,		"cycles-walk")		\
	X(CYCLES_SWITCH,	"cycles-switch")

#define MMODEL_MSR_ENUM(id, name) MMODEL_MSR_##id,
enum {
	MMODEL_MSR_COUNTERS(MMODEL_MSR_ENUM)
	MMODEL_MSR_NR
};
#undef MMODEL_MSR_ENUM

/* An entry of a names table: MMODEL_MSR_COUNTERS(MMODEL_MSR_NAME). */
#define MMODEL_MSR_NAME(id, name) [MMODEL_MSR_##id] = name,

/* The first version-1 table had this many counters (up to USER_ACCESSES). */
#define MMODEL_MSR_NR_V1	18

#endif /* MMODEL_MSR_H */
