/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side view of the page-walk statistics MSRs that the patched QEMU
 * exposes (patches/qemu-7.2, target/i386/walkstats.h; described in
 * docs/walkstats.md).  Shared by tools/walkstat and selftests/walkstats so
 * both read the same counters the same way: through /dev/cpu/N/msr, which
 * executes RDMSR on CPU N, so the caller must be pinned to N for the
 * counters to describe its own work.  The counter order is ABI: counter i
 * is at WALKSTAT_MSR_COUNTER0 + i and new counters are only appended.
 */
#ifndef WALKSTAT_ABI_H
#define WALKSTAT_ABI_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#define WALKSTAT_MSR_BASE	0x4c505400u
#define WALKSTAT_MSR_VERSION	(WALKSTAT_MSR_BASE + 0x00)
#define WALKSTAT_MSR_TLB_CFG	(WALKSTAT_MSR_BASE + 0x01)
#define WALKSTAT_MSR_PWC_CFG	(WALKSTAT_MSR_BASE + 0x02)
#define WALKSTAT_MSR_COUNTER0	(WALKSTAT_MSR_BASE + 0x10)

#define WALKSTAT_VERSION	1
#define WALKSTAT_VER_PWC	(1u << 16)	/* PWC model configured */
#define WALKSTAT_VER_TLB	(1u << 17)	/* TLB model configured */

enum walkstat_counter {
	WS_WALKS,		/* stage-1 walks the modelled hardware made */
	WS_REFS,		/* modelled page-table references of those walks */
	WS_REFS_PT,		/* ... by level: PT (level 1) */
	WS_REFS_PD,
	WS_REFS_PDPT,
	WS_REFS_PML4,
	WS_REFS_PML5,
	WS_FAULTS,		/* walks that ended in a fault */
	WS_LEAF_4K,		/* successful walks by leaf page size */
	WS_LEAF_2M,
	WS_LEAF_1G,
	WS_PWC_PDE_LOOKUPS,
	WS_PWC_PDE_HITS,
	WS_PWC_PDPTE_LOOKUPS,
	WS_PWC_PDPTE_HITS,
	WS_PWC_PML4E_LOOKUPS,
	WS_PWC_PML4E_HITS,
	WS_TLB_HITS,		/* soft-TLB fills the TLB model served */
	WS_TLB_EVICTIONS,
	WS_FLUSHES,		/* model invalidation events */
	WS_NESTED_WALKS,	/* NPT walks (not modelled, raw) */
	WS_NESTED_REFS,
	WS_NESTED_FAULTS,
	WS_RAW_REFS,		/* references QEMU itself made for counted walks */
	WS_NR
};

/* Names as printed by walkstat and by QEMU's "info walkstats". */
static const char *const walkstat_names[WS_NR] = {
	"walks", "refs", "refs-pt", "refs-pd", "refs-pdpt", "refs-pml4",
	"refs-pml5", "faults", "leaf-4k", "leaf-2m", "leaf-1g",
	"pwc-pde-lookups", "pwc-pde-hits", "pwc-pdpte-lookups",
	"pwc-pdpte-hits", "pwc-pml4e-lookups", "pwc-pml4e-hits",
	"tlb-hits", "tlb-evictions", "flushes", "nested-walks",
	"nested-refs", "nested-faults", "raw-refs",
};

struct walkstat_snap {
	uint64_t version;	/* MSR_VERSION as read */
	uint64_t tlb_cfg;	/* entries in [31:0], ways in [47:32] */
	uint64_t pwc_cfg;	/* entries per level */
	uint64_t c[WS_NR];
};

static inline int walkstat_open(int cpu)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/cpu/%d/msr", cpu);
	return open(path, O_RDONLY);
}

/* The msr driver maps the file offset to the MSR number. */
static inline int walkstat_rdmsr(int fd, uint32_t msr, uint64_t *val)
{
	ssize_t n = pread(fd, val, sizeof(*val), msr);

	if (n != sizeof(*val))
		return n < 0 ? -errno : -EIO;
	return 0;
}

/*
 * Returns 0, -ENODEV when the MSRs are absent (RDMSR faults, or an
 * unpatched QEMU returns 0 for the version), or another -errno.
 */
static inline int walkstat_read(int fd, struct walkstat_snap *s)
{
	int i, ret;

	ret = walkstat_rdmsr(fd, WALKSTAT_MSR_VERSION, &s->version);
	if (ret == -EIO || (!ret && (s->version & 0xff) != WALKSTAT_VERSION))
		return -ENODEV;
	if (ret)
		return ret;
	ret = walkstat_rdmsr(fd, WALKSTAT_MSR_TLB_CFG, &s->tlb_cfg);
	if (!ret)
		ret = walkstat_rdmsr(fd, WALKSTAT_MSR_PWC_CFG, &s->pwc_cfg);
	for (i = 0; i < WS_NR && !ret; i++)
		ret = walkstat_rdmsr(fd, WALKSTAT_MSR_COUNTER0 + i, &s->c[i]);
	return ret;
}

/* @d = @b - @a, counter by counter; configuration taken from @b. */
static inline void walkstat_delta(const struct walkstat_snap *a,
				  const struct walkstat_snap *b,
				  struct walkstat_snap *d)
{
	int i;

	*d = *b;
	for (i = 0; i < WS_NR; i++)
		d->c[i] = b->c[i] - a->c[i];
}

#endif /* WALKSTAT_ABI_H */
