/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one seam between the learned-page-table core and its host.  The core
 * (the .c files in lib/lpt) include nothing else, so the same files compile in the
 * kernel, in QEMU and in user-space tests.  It needs only fixed-width
 * integers, size_t, bool, memset/memcpy, errno values and a store barrier;
 * memory comes from caller callbacks, never from here.
 */
#ifndef LPT_SEAM_H
#define LPT_SEAM_H

#if defined(__KERNEL__)
#include <linux/types.h>
#include <linux/string.h>
#include <linux/errno.h>
#include <asm/barrier.h>
/* Store ordering for structures walked concurrently: see below. */
#define lpt_wmb()	smp_wmb()
#else
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#define lpt_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)
#endif

/*
 * lpt_wmb() orders the stores that change a structure a walker may be
 * reading at that moment (another CPU's MMU): the walker reads a node's
 * w1 before its w0 and a slot's tag before its PTE, so writing w0 before
 * w1 and the PTE before the tag means no torn read combines a new pointer
 * or tag with a stale size or PTE that reaches further (lpt_walk.c).
 */

#endif /* LPT_SEAM_H */
