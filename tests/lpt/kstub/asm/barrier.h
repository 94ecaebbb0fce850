/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for <asm/barrier.h>: x86's smp_wmb() is a compiler barrier. */
#ifndef LPT_KSTUB_BARRIER_H
#define LPT_KSTUB_BARRIER_H
#define smp_wmb() __asm__ __volatile__("" : : : "memory")
#endif
