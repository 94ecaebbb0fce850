/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the machine-model unit tests and fuzzers. */
#ifndef MMODEL_TESTUTIL_H
#define MMODEL_TESTUTIL_H

#include "mmodel.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Sum of @n counters. */
static inline uint64_t sum(const uint64_t *a, int n)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < n; i++)
		s += a[i];
	return s;
}

#endif /* MMODEL_TESTUTIL_H */
