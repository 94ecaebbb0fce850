/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one seam between the learned-page-table core and its host.  The core
 * (the .c files in lib/lpt) include nothing else, so the same files compile in the
 * kernel, in QEMU and in user-space tests.  It needs only fixed-width
 * integers, size_t, bool, memset/memcpy and errno values; memory comes from
 * caller callbacks, never from here.
 */
#ifndef LPT_SEAM_H
#define LPT_SEAM_H

#if defined(__KERNEL__)
#include <linux/types.h>
#include <linux/string.h>
#include <linux/errno.h>
#else
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#endif

#endif /* LPT_SEAM_H */
