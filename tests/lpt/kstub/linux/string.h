/* SPDX-License-Identifier: GPL-2.0 */
/* Stand-in for <linux/string.h>: the two functions lib/lpt may use. */
#ifndef LPT_KSTUB_STRING_H
#define LPT_KSTUB_STRING_H
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
#endif
