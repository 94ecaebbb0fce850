// SPDX-License-Identifier: GPL-2.0
/*
 * Text output of the machine model for tools (walkstat, the bench
 * scripts, the host-side report): a breakdown as an aligned table, CSV or
 * JSON, and a parameter set as the spec that reproduces it, so every
 * printed figure can carry the exact model it was computed with.  This is
 * the one file of lib/mmodel that uses stdio (snprintf and vsnprintf); QEMU and the
 * kernel-style build leave it out.
 */
#include <stdarg.h>
#include <stdio.h>
#include "mmodel.h"

/* One printable term of a breakdown. */
struct term {
	char name[24];
	uint64_t cycles;
	bool in_total;	/* false for the per-node view of DRAM */
};

#define MAX_TERMS (MMODEL_NR_MODES + MMODEL_NR_LEVELS + \
		   MMODEL_NR_WALKS * MMODEL_NR_LEVELS + MMODEL_MAX_NODES + 4)

static void add(struct term *t, int *n, const char *a, const char *b,
		uint64_t cycles, bool in_total)
{
	snprintf(t[*n].name, sizeof(t[*n].name), "%s%s%s", a, b ? "." : "",
		 b ? b : "");
	t[*n].cycles = cycles;
	t[*n].in_total = in_total;
	(*n)++;
}

static int terms(const struct mmodel_breakdown *b, struct term *t)
{
	char node[16];
	int n = 0, i, k;

	for (i = 0; i < MMODEL_NR_MODES; i++)
		add(t, &n, "insn", mmodel_mode_name(i), b->insn[i], true);
	for (i = 0; i < MMODEL_NR_LEVELS; i++)
		add(t, &n, "data", mmodel_level_name(i), b->data[i], true);
	for (k = 0; k < MMODEL_NR_WALKS; k++) {
		char w[8];

		snprintf(w, sizeof(w), "walk.%s", mmodel_walk_name(k));
		for (i = 0; i < MMODEL_NR_LEVELS; i++)
			add(t, &n, w, mmodel_level_name(i), b->walk[k][i], true);
	}
	add(t, &n, "vmrun", NULL, b->vmrun, true);
	add(t, &n, "vmexit", NULL, b->vmexit, true);
	add(t, &n, "flush", NULL, b->flush, true);
	for (i = 0; i < MMODEL_MAX_NODES; i++) {
		if (!b->dram_node[i])
			continue;
		snprintf(node, sizeof(node), "node%d", i);
		add(t, &n, "dram", node, b->dram_node[i], false);
	}
	return n;
}

/* Share of the total in tenths of a percent, rounded; integer only. */
static unsigned int permille(uint64_t part, uint64_t total)
{
	if (!total)
		return 0;
	if (part > UINT64_MAX / 1000)
		return (unsigned int)((part / (total / 1000 ? total / 1000 : 1)));
	return (unsigned int)((part * 1000 + total / 2) / total);
}

/* Text appended to a caller buffer; @pos is the length the text needs. */
struct out {
	char *buf;
	size_t len;
	int pos;
	bool err;
};

static void emit(struct out *o, const char *fmt, ...)
{
	size_t at = o->pos;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(o->len > at ? o->buf + at : NULL,
		      o->len > at ? o->len - at : 0, fmt, ap);
	va_end(ap);
	if (r < 0)
		o->err = true;
	else
		o->pos += r;
}

static int done(const struct out *o)
{
	return o->err ? -1 : o->pos;
}

enum style { TABLE, CSV, JSON };

/* One term (or, for @i == -1, the header) in @how. */
static void term_line(struct out *o, enum style how, const struct term *t,
		      int i, uint64_t total)
{
	unsigned int pm = permille(t->cycles, total);

	if (how == TABLE)
		emit(o, "%-16s %20llu %5u.%u%%%s\n", t->name,
		     (unsigned long long)t->cycles, pm / 10, pm % 10,
		     t->in_total ? "" : " (of the above)");
	else if (how == CSV)
		emit(o, "%s,%llu,%u,%d\n", t->name,
		     (unsigned long long)t->cycles, pm, t->in_total);
	else
		emit(o, "%s\"%s\": %llu", i ? ", " : "", t->name,
		     (unsigned long long)t->cycles);
}

static int format(const struct mmodel_breakdown *b, char *buf, size_t len,
		  enum style how)
{
	static const char *const head[] = {
		[TABLE] = "term                           cycles   share\n",
		[CSV] = "term,cycles,permille,in_total\n",
		[JSON] = "{\"terms\": {",
	};
	struct out o = { buf, len, 0, false };
	struct term t[MAX_TERMS];
	unsigned long long total;
	int n, i;

	if (!b || (!buf && len))
		return -1;
	total = b->total;
	n = terms(b, t);
	emit(&o, "%s", head[how]);
	for (i = 0; i < n; i++)
		term_line(&o, how, &t[i], i, b->total);
	if (how == TABLE)
		emit(&o, "%-16s %20llu  100.0%%%s\n", "total", total,
		     b->saturated ? " SATURATED" : "");
	else if (how == CSV)
		emit(&o, "total,%llu,1000,%d\n", total, !b->saturated);
	else
		emit(&o, "}, \"total\": %llu, \"saturated\": %s}\n", total,
		     b->saturated ? "true" : "false");
	return done(&o);
}

int mmodel_format_table(const struct mmodel_breakdown *b, char *buf,
			size_t len)
{
	return format(b, buf, len, TABLE);
}

int mmodel_format_csv(const struct mmodel_breakdown *b, char *buf,
		      size_t len)
{
	return format(b, buf, len, CSV);
}

int mmodel_format_json(const struct mmodel_breakdown *b, char *buf,
		       size_t len)
{
	return format(b, buf, len, JSON);
}

int mmodel_params_format(const struct mmodel_params *p, char *buf,
			 size_t len)
{
	static const char *const key[MMODEL_NR_CACHES] = { "l1d", "l2", "llc" };
	struct out o = { buf, len, 0, false };
	int i;

	if (!p || (!buf && len))
		return -1;
	emit(&o, "freq=%u,cpi=%u.%03u", p->freq_mhz, p->cpi_milli / 1000,
	     p->cpi_milli % 1000);
	for (i = 0; i < MMODEL_NR_CACHES; i++)
		emit(&o, ",%s=%llu/%u/%u/%u", key[i],
		     (unsigned long long)p->cache[i].size, p->cache[i].ways,
		     p->cache[i].latency, p->cache[i].line);
	for (i = 0; i < MMODEL_MAX_NODES; i++) {
		if (p->node_ns[i])
			emit(&o, ",node%d=%uns", i, p->node_ns[i]);
		else
			emit(&o, ",node%d=off", i);
	}
	emit(&o, ",vmrun=%u,vmexit=%u,flush=%u", p->vmrun_cycles,
	     p->vmexit_cycles, p->flush_cycles);
	return done(&o);
}
