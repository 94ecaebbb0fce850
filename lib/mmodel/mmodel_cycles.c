// SPDX-License-Identifier: GPL-2.0
/*
 * Modelled cycles from counts: each term of the formula in mmodel.h kept
 * apart so a figure can say which term moved.  Counts of long runs times
 * costs of thousands of cycles stay far below 2^64, but a fuzzer or a
 * runaway counter must not wrap into a small, plausible number, so every
 * product and sum saturates and says so.
 */
#include "mmodel.h"

static uint64_t sat_add(uint64_t a, uint64_t b, bool *sat)
{
	if (a > UINT64_MAX - b) {
		*sat = true;
		return UINT64_MAX;
	}
	return a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b, bool *sat)
{
	if (b && a > UINT64_MAX / b) {
		*sat = true;
		return UINT64_MAX;
	}
	return a * b;
}

/* @n x @milli / 1000, exact floor, without the product overflowing. */
static uint64_t milli_mul(uint64_t n, uint32_t milli, bool *sat)
{
	return sat_add(sat_mul(n / 1000, milli, sat),
		       (n % 1000) * milli / 1000, sat);
}

void mmodel_cycles(const struct mmodel_params *p,
		   const struct mmodel_counters *c,
		   struct mmodel_breakdown *b)
{
	uint32_t node_lat[MMODEL_MAX_NODES];
	bool sat = false;
	uint64_t t = 0;
	int i, l, k;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < MMODEL_MAX_NODES; i++)
		node_lat[i] = mmodel_node_cycles(p, i);

	for (i = 0; i < MMODEL_NR_MODES; i++) {
		b->insn[i] = milli_mul(c->insns[i], p->cpi_milli, &sat);
		t = sat_add(t, b->insn[i], &sat);
	}
	for (l = 0; l < MMODEL_NR_CACHES; l++) {
		uint32_t lat = p->cache[l].latency;

		b->data[l] = sat_mul(sat_add(c->loads[l], c->stores[l], &sat),
				     lat, &sat);
		t = sat_add(t, b->data[l], &sat);
		for (k = 0; k < MMODEL_NR_WALKS; k++) {
			b->walk[k][l] = sat_mul(c->walk[k][l], lat, &sat);
			t = sat_add(t, b->walk[k][l], &sat);
		}
	}
	/*
	 * DRAM is charged by node from the per-node counts; loads[DRAM] +
	 * stores[DRAM] equal their sum whenever the counts came from
	 * mmodel_data_access().
	 */
	for (i = 0; i < MMODEL_MAX_NODES; i++) {
		uint64_t d = sat_mul(c->data_dram[i], node_lat[i], &sat);

		b->data[MMODEL_DRAM] = sat_add(b->data[MMODEL_DRAM], d, &sat);
		b->dram_node[i] = d;
		for (k = 0; k < MMODEL_NR_WALKS; k++) {
			uint64_t w = sat_mul(c->walk_dram[k][i], node_lat[i],
					     &sat);

			b->walk[k][MMODEL_DRAM] =
				sat_add(b->walk[k][MMODEL_DRAM], w, &sat);
			b->dram_node[i] = sat_add(b->dram_node[i], w, &sat);
		}
	}
	t = sat_add(t, b->data[MMODEL_DRAM], &sat);
	for (k = 0; k < MMODEL_NR_WALKS; k++)
		t = sat_add(t, b->walk[k][MMODEL_DRAM], &sat);

	b->vmrun = sat_mul(c->vmrun, p->vmrun_cycles, &sat);
	b->vmexit = sat_mul(c->vmexit, p->vmexit_cycles, &sat);
	b->flush = sat_mul(c->flushes, p->flush_cycles, &sat);
	t = sat_add(t, b->vmrun, &sat);
	t = sat_add(t, b->vmexit, &sat);
	b->total = sat_add(t, b->flush, &sat);
	b->saturated = sat;
}

void mmodel_counters_add(struct mmodel_counters *dst,
			 const struct mmodel_counters *src)
{
	uint64_t *d = (uint64_t *)dst;
	const uint64_t *s = (const uint64_t *)src;
	bool sat = false;
	size_t i;

	/* The struct is nothing but uint64_t counters. */
	for (i = 0; i < sizeof(*dst) / sizeof(uint64_t); i++)
		d[i] = sat_add(d[i], s[i], &sat);
}

const char *mmodel_level_name(enum mmodel_level l)
{
	static const char *const n[MMODEL_NR_LEVELS] = {
		"L1", "L2", "LLC", "DRAM"
	};

	return (unsigned int)l < MMODEL_NR_LEVELS ? n[l] : "?";
}

const char *mmodel_mode_name(enum mmodel_mode m)
{
	static const char *const n[MMODEL_NR_MODES] = {
		"user", "kernel", "nested"
	};

	return (unsigned int)m < MMODEL_NR_MODES ? n[m] : "?";
}

const char *mmodel_walk_name(enum mmodel_walk_kind k)
{
	static const char *const n[MMODEL_NR_WALKS] = { "s1", "s2", "2d" };

	return (unsigned int)k < MMODEL_NR_WALKS ? n[k] : "?";
}
