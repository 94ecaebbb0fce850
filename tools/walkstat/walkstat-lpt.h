/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side view of the emulated LPT MMU's MSRs (QEMU CPU property lpt=on;
 * docs/lpt-mmu.md): the root, the control word and the per-vCPU counters
 * in enum lpt_counter order, as defined by include/lpt/lpt_abi.h.  Shared
 * by tools/walkstat and selftests/lpt_mmu.  Read through /dev/cpu/N/msr
 * like the radix counters (walkstat-abi.h), so the caller must be pinned
 * to N.
 */
#ifndef WALKSTAT_LPT_H
#define WALKSTAT_LPT_H

#include "walkstat-abi.h"
#include "../../include/lpt/lpt_abi.h"

/* Names as printed by walkstat and, with an "lpt-" prefix, by QEMU. */
static const char *const lpt_counter_names[LPT_CNT_NR] = {
	"walks", "refs", "walks-0ref", "walks-1ref", "walks-2ref",
	"walks-3ref", "walks-4plus", "collisions", "lwc-hits", "lwc-misses",
	"misses", "fallbacks", "crosschecks", "mismatches", "prot-faults",
	"leaf-4k", "leaf-2m", "leaf-1g", "ad-updates", "root-writes",
	"lwc-flushes", "radix-user", "bad-struct", "hits-1ref",
};

struct lpt_snap {
	uint64_t ctl;		/* LPT_MSR_CTL as read */
	uint64_t root;		/* LPT_MSR_ROOT as read */
	uint64_t c[LPT_CNT_NR];
};

/*
 * Returns 0, -ENODEV when the LPT MSRs are absent (lpt=off: RDMSR #GP; an
 * unpatched QEMU returns 0 for the control word), or another -errno.
 */
static inline int lpt_snap_read(int fd, struct lpt_snap *s)
{
	int i, ret;

	ret = walkstat_rdmsr(fd, LPT_MSR_CTL, &s->ctl);
	if (ret == -EIO ||
	    (!ret && (s->ctl & LPT_CTL_VERSION_MASK) != LPT_CTL_VERSION))
		return -ENODEV;
	if (!ret)
		ret = walkstat_rdmsr(fd, LPT_MSR_ROOT, &s->root);
	for (i = 0; i < LPT_CNT_NR && !ret; i++)
		ret = walkstat_rdmsr(fd, LPT_MSR_COUNTER0 + i, &s->c[i]);
	return ret;
}

/* @d = @b - @a, counter by counter; control word and root taken from @b. */
static inline void lpt_snap_delta(const struct lpt_snap *a,
				  const struct lpt_snap *b, struct lpt_snap *d)
{
	int i;

	*d = *b;
	for (i = 0; i < LPT_CNT_NR; i++)
		d->c[i] = b->c[i] - a->c[i];
}

static inline unsigned int lpt_ctl_lwc_entries(uint64_t ctl)
{
	return (unsigned int)((ctl >> LPT_CTL_LWC_SHIFT) & LPT_CTL_LWC_MASK);
}

#endif /* WALKSTAT_LPT_H */
