/*
 * report.c - printing result rows.  One column table drives all three
 * formats (aligned text, JSON, CSV) so a column cannot appear in one and be
 * forgotten in another.  Learned-page-table columns print "n/a" when lptsim
 * was built without the core library rather than a number that was never
 * measured.  Column meanings are documented in docs/lptsim.md.
 */
#include "sim.h"

#include <stddef.h>
#include <string.h>

enum col_kind {
	COL_STR,      /* char array or const char * (see is_ptr) */
	COL_U64,
	COL_UINT,
	COL_F3,       /* double, 3 decimals */
	COL_PCT,      /* fraction printed as percent, 2 decimals */
	COL_KIB,      /* bytes printed as KiB */
};

struct col {
	const char *head;    /* table and CSV header */
	const char *key;     /* JSON key */
	enum col_kind kind;
	size_t offset;
	int is_ptr;          /* COL_STR: member is a const char * */
	int lpt;             /* n/a when the library is absent */
	int table;           /* shown in the text table (JSON/CSV show all) */
};

#define R(m) offsetof(struct lptsim_result, m)

static const struct col cols[] = {
	{ "snapshot", "snapshot", COL_STR, R(snapshot), 0, 0, 1 },
	{ "order", "order", COL_STR, R(order), 1, 0, 1 },
	{ "walks", "walks", COL_U64, R(walks), 0, 0, 1 },
	{ "4K", "pages_4k", COL_U64, R(pages_4k), 0, 0, 0 },
	{ "2M", "pages_2m", COL_U64, R(pages_2m), 0, 0, 1 },
	{ "1G", "pages_1g", COL_U64, R(pages_1g), 0, 0, 0 },
	{ "vmas", "vmas", COL_U64, R(vmas), 0, 0, 0 },
	{ "trace_faults", "trace_faults", COL_U64, R(replayed_faults), 0, 0, 0 },
	{ "trace_unmaps", "trace_unmapped_pages", COL_U64, R(replayed_unmaps), 0, 0, 0 },
	{ "lpt_idxB", "lpt_index_bytes", COL_U64, R(lpt_index_bytes), 0, 1, 1 },
	{ "dep", "lpt_depth", COL_UINT, R(lpt_depth), 0, 1, 1 },
	{ "leaves", "lpt_leaves", COL_U64, R(lpt_leaves), 0, 1, 1 },
	{ "coll%", "lpt_collision_rate", COL_PCT, R(lpt_collision_rate), 0, 1, 1 },
	{ "wcoll%", "lpt_walk_collision_rate", COL_PCT, R(lpt_walk_collision_rate), 0, 1, 0 },
	{ "refs/coll", "lpt_refs_per_collision", COL_F3, R(lpt_refs_per_collision), 0, 1, 0 },
	{ "refs", "lpt_refs_mean", COL_F3, R(lpt_refs_mean), 0, 1, 1 },
	{ "p99", "lpt_refs_p99", COL_UINT, R(lpt_refs_p99), 0, 1, 1 },
	{ "max", "lpt_refs_max", COL_UINT, R(lpt_refs_max), 0, 1, 0 },
	{ "1ref%", "lpt_single_ref_share", COL_PCT, R(lpt_single_ref), 0, 1, 1 },
	{ "lwc%", "lpt_lwc_hit_rate", COL_PCT, R(lpt_lwc_hit), 0, 1, 1 },
	{ "retr", "lpt_retrains", COL_U64, R(lpt_retrains), 0, 1, 1 },
	{ "resc", "lpt_rescalings", COL_U64, R(lpt_rescalings), 0, 1, 1 },
	{ "gptKiB", "lpt_table_bytes", COL_KIB, R(lpt_table_bytes), 0, 1, 1 },
	{ "lpt_faults", "lpt_faults", COL_U64, R(lpt_faults), 0, 1, 0 },
	{ "lpt_wrong", "lpt_wrong_frames", COL_U64, R(lpt_wrong), 0, 1, 0 },
	{ "misses", "lpt_targets_missed", COL_STR, R(lpt_misses), 0, 0, 1 },
	{ "rdx_refs", "radix_refs_mean", COL_F3, R(rdx_refs_mean), 0, 0, 1 },
	{ "p99", "radix_refs_p99", COL_UINT, R(rdx_refs_p99), 0, 0, 1 },
	{ "max", "radix_refs_max", COL_UINT, R(rdx_refs_max), 0, 0, 0 },
	{ "pwc%", "radix_pwc_hit_rate", COL_PCT, R(rdx_pwc_hit), 0, 0, 0 },
	{ "pml4e%", "radix_pml4e_hit_rate", COL_PCT, R(rdx_level_hit[0]), 0, 0, 0 },
	{ "pdpte%", "radix_pdpte_hit_rate", COL_PCT, R(rdx_level_hit[1]), 0, 0, 0 },
	{ "pde%", "radix_pde_hit_rate", COL_PCT, R(rdx_level_hit[2]), 0, 0, 1 },
	{ "rdxKiB", "radix_table_bytes", COL_KIB, R(rdx_table_bytes), 0, 0, 1 },
	{ "ecpt_refs", "ecpt_refs_mean", COL_F3, R(ecpt_refs_mean), 0, 0, 1 },
	{ "p99", "ecpt_refs_p99", COL_UINT, R(ecpt_refs_p99), 0, 0, 1 },
	{ "max", "ecpt_refs_max", COL_UINT, R(ecpt_refs_max), 0, 0, 0 },
	{ "cwc%", "ecpt_cwc_hit_rate", COL_PCT, R(ecpt_cwc_hit), 0, 0, 1 },
	{ "ecptKiB", "ecpt_table_bytes", COL_KIB, R(ecpt_table_bytes), 0, 0, 1 },
	{ "occ%", "ecpt_occupancy", COL_PCT, R(ecpt_occupancy), 0, 0, 1 },
	{ "rehash", "ecpt_rehashes", COL_U64, R(ecpt_rehashes), 0, 0, 1 },
	{ "ecpt_faults", "ecpt_faults", COL_U64, R(ecpt_faults), 0, 0, 0 },
};

#define NCOLS (sizeof(cols) / sizeof(cols[0]))

/* The text table puts a bar before the first column of each model. */
static int starts_model(const struct col *c)
{
	return !strcmp(c->key, "lpt_index_bytes") || !strcmp(c->key, "radix_refs_mean") ||
	       !strcmp(c->key, "ecpt_refs_mean");
}

/* Format one cell; json selects raw numbers (fractions stay fractions). */
static void cell(char *buf, size_t cap, const struct col *c, const struct lptsim_result *r,
		 int json)
{
	const char *base = (const char *)r + c->offset;

	if (c->lpt && !r->lpt_ok) {
		snprintf(buf, cap, json ? "null" : "n/a");
		return;
	}
	switch (c->kind) {
	case COL_STR:
		snprintf(buf, cap, "%s", c->is_ptr ? *(const char *const *)base : base);
		break;
	case COL_U64:
		snprintf(buf, cap, "%llu", (unsigned long long)*(const uint64_t *)base);
		break;
	case COL_UINT:
		snprintf(buf, cap, "%u", *(const unsigned int *)base);
		break;
	case COL_F3:
		snprintf(buf, cap, json ? "%.6f" : "%.3f", *(const double *)base);
		break;
	case COL_PCT:
		if (json)
			snprintf(buf, cap, "%.6f", *(const double *)base);
		else
			snprintf(buf, cap, "%.2f", 100.0 * *(const double *)base);
		break;
	case COL_KIB:
		if (json)
			snprintf(buf, cap, "%llu", (unsigned long long)*(const uint64_t *)base);
		else
			snprintf(buf, cap, "%.1f", *(const uint64_t *)base / 1024.0);
		break;
	}
}

/* JSON strings: our names are printable ASCII, but escape defensively. */
static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void report_json(FILE *out, const struct lptsim_result *rows, size_t nrows,
			const struct lptsim_opts *o)
{
	char buf[160];

	fprintf(out, "{\n  \"tool\": \"lptsim\",\n  \"format_version\": 1,\n");
	fprintf(out, "  \"config\": {\"lwc_entries\": %u, \"lpt_contiguity_bytes\": %llu, "
		"\"pwc_entries\": [%u, %u, %u], "
		"\"ecpt_ways\": %u, \"ecpt_initial_entries\": %u, \"ecpt_max_occupancy_pct\": %u, "
		"\"ecpt_pmd_cwc\": %u, \"ecpt_pud_cwc\": %u, \"seed\": %llu},\n",
		o->lpt.lwc_entries, (unsigned long long)o->lpt.contiguity_bytes,
		o->radix.pwc_entries[0], o->radix.pwc_entries[1],
		o->radix.pwc_entries[2], o->ecpt.ways, o->ecpt.initial_entries,
		o->ecpt.max_occupancy_pct, o->ecpt.pmd_cwc, o->ecpt.pud_cwc,
		(unsigned long long)o->seed);
	fprintf(out, "  \"results\": [\n");
	for (size_t i = 0; i < nrows; i++) {
		fprintf(out, "    {");
		for (size_t c = 0; c < NCOLS; c++) {
			cell(buf, sizeof(buf), &cols[c], &rows[i], 1);
			fprintf(out, "%s\"%s\": ", c ? ", " : "", cols[c].key);
			if (cols[c].kind == COL_STR && strcmp(buf, "null"))
				json_string(out, buf);
			else
				fputs(buf, out);
		}
		fprintf(out, "}%s\n", i + 1 < nrows ? "," : "");
	}
	fprintf(out, "  ]\n}\n");
}

static void report_csv(FILE *out, const struct lptsim_result *rows, size_t nrows)
{
	char buf[160];

	for (size_t c = 0; c < NCOLS; c++)
		fprintf(out, "%s%s", c ? "," : "", cols[c].key);
	fputc('\n', out);
	for (size_t i = 0; i < nrows; i++) {
		for (size_t c = 0; c < NCOLS; c++) {
			cell(buf, sizeof(buf), &cols[c], &rows[i], 1);
			/* Quote strings: the misses column holds commas. */
			if (cols[c].kind == COL_STR)
				fprintf(out, "%s\"%s\"", c ? "," : "", strcmp(buf, "null") ? buf : "");
			else
				fprintf(out, "%s%s", c ? "," : "", strcmp(buf, "null") ? buf : "");
		}
		fputc('\n', out);
	}
}

static void report_table(FILE *out, const struct lptsim_result *rows, size_t nrows)
{
	size_t width[NCOLS];
	char buf[160];

	for (size_t c = 0; c < NCOLS; c++) {
		width[c] = strlen(cols[c].head);
		for (size_t i = 0; i < nrows; i++) {
			cell(buf, sizeof(buf), &cols[c], &rows[i], 0);
			if (strlen(buf) > width[c])
				width[c] = strlen(buf);
		}
	}
	/* Row -1 is the header.  Separators go before cells: no trailing blanks. */
	for (long i = -1; i < (long)nrows; i++) {
		for (size_t c = 0; c < NCOLS; c++) {
			const char *text = cols[c].head;

			if (!cols[c].table)
				continue;
			if (i >= 0) {
				cell(buf, sizeof(buf), &cols[c], &rows[i], 0);
				text = buf;
			}
			if (c)
				fputs(starts_model(&cols[c]) ? " | " : " ", out);
			fprintf(out, c < 2 ? "%-*s" : "%*s", (int)width[c], text);
		}
		fputc('\n', out);
	}
}

void lptsim_report(FILE *out, enum lptsim_format fmt, const struct lptsim_result *rows,
		   size_t nrows, const struct lptsim_opts *opts)
{
	switch (fmt) {
	case LPTSIM_FMT_JSON:
		report_json(out, rows, nrows, opts);
		break;
	case LPTSIM_FMT_CSV:
		report_csv(out, rows, nrows);
		break;
	case LPTSIM_FMT_TABLE:
		report_table(out, rows, nrows);
		break;
	}
}
