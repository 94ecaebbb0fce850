/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one seam between the machine-model core (lib/mmodel) and its host.
 * The core files include nothing else, so they compile unchanged into the
 * QEMU model, the host and guest tools and the kernel-style freestanding
 * check: they need fixed-width integers, size_t, bool and memset, never
 * malloc (callers hand in storage), never floating point (CPI is kept in
 * milli-cycles) and never stdio (only mmodel_format.c, which tools alone
 * link, uses snprintf).
 */
#ifndef MMODEL_SEAM_H
#define MMODEL_SEAM_H

#if defined(__KERNEL__)
#include <linux/types.h>
#include <linux/string.h>
/* The limits the core uses, under their <stdint.h> names. */
#ifndef UINT64_MAX
#define UINT64_MAX	(~(uint64_t)0)
#endif
#ifndef UINT32_MAX
#define UINT32_MAX	(~(uint32_t)0)
#endif
#else
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>
#endif

/* Branch hints for the per-access path, which TCG runs on every load. */
#define mmodel_likely(x)	__builtin_expect(!!(x), 1)
#define mmodel_unlikely(x)	__builtin_expect(!!(x), 0)

#endif /* MMODEL_SEAM_H */
