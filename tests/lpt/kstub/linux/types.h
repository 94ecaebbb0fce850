/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stand-in for <linux/types.h> in the freestanding "does lib/lpt still
 * compile like kernel code" check of lpt-check (tests/lpt/run.sh): only the
 * types the kernel header provides, nothing from libc.
 */
#ifndef LPT_KSTUB_TYPES_H
#define LPT_KSTUB_TYPES_H
typedef __UINT8_TYPE__ uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __INT32_TYPE__ int32_t;
typedef __INT64_TYPE__ int64_t;
typedef __SIZE_TYPE__ size_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)
#endif
