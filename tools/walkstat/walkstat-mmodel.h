/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side view of the machine model's MSRs (QEMU CPU property
 * mmodel=on; docs/mmodel.md): the per-vCPU counters and modelled-cycle
 * terms of lib/mmodel/mmodel_msr.h, the table QEMU serves them from.
 * Shared by tools/walkstat and selftests/mmodel.  Read through
 * /dev/cpu/N/msr like the walk counters (walkstat-abi.h), so the caller
 * must be pinned to N.
 */
#ifndef WALKSTAT_MMODEL_H
#define WALKSTAT_MMODEL_H

#include "walkstat-abi.h"
#include "../../lib/mmodel/mmodel_msr.h"

#define MM_ENUM(id, name) MM_##id,
enum mmodel_msr_counter {
	MMODEL_MSR_COUNTERS(MM_ENUM)
	MM_NR
};
#undef MM_ENUM

#define MM_NAME(id, name) [MM_##id] = name,
static const char *const mmodel_counter_names[MM_NR] = {
	MMODEL_MSR_COUNTERS(MM_NAME)
};
#undef MM_NAME

struct mmodel_snap {
	uint64_t version;	/* MSR_MMODEL_VERSION as read */
	uint64_t c[MM_NR];
};

/*
 * Returns 0, -ENODEV when the model is off (RDMSR #GP) or unknown, or
 * another -errno.  Counters a QEMU with a shorter table lacks read 0.
 */
static inline int mmodel_snap_read(int fd, struct mmodel_snap *s)
{
	int i, n, ret;

	ret = walkstat_rdmsr(fd, MSR_MMODEL_VERSION, &s->version);
	if (ret == -EIO ||
	    (!ret && (s->version & 0xff) != MMODEL_ABI_VERSION))
		return -ENODEV;
	n = (int)((s->version >> 8) & 0xff);
	for (i = 0; i < MM_NR && !ret; i++) {
		s->c[i] = 0;
		if (i < n)
			ret = walkstat_rdmsr(fd, MSR_MMODEL_COUNTER0 + i,
					     &s->c[i]);
	}
	return ret;
}

/* @d = @b - @a, counter by counter. */
static inline void mmodel_snap_delta(const struct mmodel_snap *a,
				     const struct mmodel_snap *b,
				     struct mmodel_snap *d)
{
	int i;

	*d = *b;
	for (i = 0; i < MM_NR; i++)
		d->c[i] = b->c[i] - a->c[i];
}

#endif /* WALKSTAT_MMODEL_H */
