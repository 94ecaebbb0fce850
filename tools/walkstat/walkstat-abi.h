/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side view of the page-walk statistics MSRs that the patched QEMU
 * exposes (patches/qemu-7.2, target/i386/walkstats.h; described in
 * docs/walkstats.md).  Shared by tools/walkstat and selftests/walkstats so
 * both read the same counters the same way: through /dev/cpu/N/msr, which
 * executes RDMSR on CPU N, so the caller must be pinned to N for the
 * counters to describe its own work.  The counter order is ABI: counter i
 * is at MSR_WALKSTAT_COUNTER0 + i and new counters are only appended.
 */
#ifndef WALKSTAT_ABI_H
#define WALKSTAT_ABI_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "../../lib/walkstat/walkstat_msr.h"

/* The counters as WS_<id>, and their names, from the one ABI table. */
#define WS_ENUM(id, name) WS_##id,
enum walkstat_counter {
	WALKSTAT_COUNTERS(WS_ENUM)
	WS_NR
};
#undef WS_ENUM

#define WS_NAME(id, name) [WS_##id] = name,
/* Names as printed by walkstat and by QEMU's "info walkstats". */
static const char *const walkstat_names[WS_NR] = {
	WALKSTAT_COUNTERS(WS_NAME)
};
#undef WS_NAME

struct walkstat_snap {
	uint64_t version;	/* MSR_VERSION as read */
	uint64_t tlb_cfg;	/* entries in [31:0], ways in [47:32] */
	uint64_t pwc_cfg;	/* PWC entries per level | nested TLB << 32 */
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

	ret = walkstat_rdmsr(fd, MSR_WALKSTAT_VERSION, &s->version);
	if (ret == -EIO || (!ret && (s->version & 0xff) != WALKSTAT_VERSION))
		return -ENODEV;
	if (ret)
		return ret;
	ret = walkstat_rdmsr(fd, MSR_WALKSTAT_TLB_CFG, &s->tlb_cfg);
	if (!ret)
		ret = walkstat_rdmsr(fd, MSR_WALKSTAT_PWC_CFG, &s->pwc_cfg);
	/* A QEMU with fewer counters (bits 15:8) reads 0 for the rest. */
	for (i = 0; i < WS_NR && !ret; i++) {
		s->c[i] = 0;
		if (i < (int)((s->version >> 8) & 0xff))
			ret = walkstat_rdmsr(fd, MSR_WALKSTAT_COUNTER0 + i,
					     &s->c[i]);
	}
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
