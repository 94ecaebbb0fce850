/*
 * main.c - the lptsim command line: "capture" (live process -> snapshot
 * file, optionally a growth trace), "gen" (synthetic snapshot), "show"
 * (summarise a snapshot), "replay" (snapshot + trace -> snapshot), and "run"
 * (the side-by-side simulation).  Option parsing is strict because a
 * mistyped number must not silently become a default: every value is range
 * checked and every failure prints one "lptsim: ..." line and exits 1.
 */
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "gen.h"
#include "sim.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage:\n"
		"  lptsim capture --pid PID -o FILE [--no-stop] [growth]\n"
		"  lptsim capture -o FILE [--after SECONDS] [growth] -- COMMAND [ARGS...]\n"
		"     growth: --trace-out TRACE [--every SECONDS] [--for SECONDS]: FILE is the\n"
		"     first capture, TRACE the changes seen by rescans (default every 0.25 s for 2 s)\n"
		"  lptsim gen dense-heap|sparse-mmap|aslr-libs|random --seed N --pages N [--thp PCT] -o FILE\n"
		"  lptsim show SNAPSHOT\n"
		"  lptsim replay SNAPSHOT TRACE -o FILE   (write the address space after the trace)\n"
		"  lptsim run [options] SNAPSHOT...\n"
		"run options:\n"
		"  --json | --csv          output format (default: aligned table)\n"
		"  --json-out FILE         also write the JSON report to FILE\n"
		"  --trace FILE            replay a trace on the snapshot named next\n"
		"  --order addr|random|both  walk order (default both)\n"
		"  --seed N                random walk order seed (default 1)\n"
		"  --lwc N                 LVM walk cache entries (default 64)\n"
		"  --contiguity BYTES      contiguity oracle answer for leaf tables (default: library's)\n"
		"  --pwc A,B,C             radix PML4E,PDPTE,PDE cache entries (default 2,4,32)\n"
		"  --ecpt-ways N           cuckoo ways (default 3)\n"
		"  --ecpt-entries N        initial entries per way, power of two (default 256)\n"
		"  --ecpt-occupancy PCT    resize threshold (default 60)\n"
		"  --cwc PMD,PUD           cuckoo-walk cache entries (default 16,4; 0,0 disables)\n"
		"  --quiet                 no progress lines on stderr\n");
}

static int die(const struct lptsim_err *err)
{
	fprintf(stderr, "lptsim: %s\n", err->msg);
	return 1;
}

static int bad_arg(const char *opt, const char *why)
{
	fprintf(stderr, "lptsim: %s: %s (see lptsim --help)\n", opt, why);
	return 1;
}

/* Option value as an unsigned int in [lo, hi]. */
static int opt_u64(int argc, char **argv, int *i, uint64_t lo, uint64_t hi, uint64_t *out)
{
	const char *opt = argv[*i];

	if (*i + 1 >= argc) {
		bad_arg(opt, "missing value");
		return -1;
	}
	(*i)++;
	if (lptsim_parse_u64(argv[*i], 0, out) || *out < lo || *out > hi) {
		fprintf(stderr, "lptsim: %s: \"%s\" is not a number in [%llu, %llu]\n", opt,
			argv[*i], (unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	return 0;
}

static const char *opt_str(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		bad_arg(argv[*i], "missing value");
		return NULL;
	}
	return argv[++*i];
}

/* Option value as seconds in [lo, 3600]. */
static int opt_seconds(int argc, char **argv, int *i, double lo, double *out)
{
	const char *opt = argv[*i], *text = opt_str(argc, argv, i);
	char *end;

	if (!text)
		return -1;
	*out = strtod(text, &end);
	if (*end || end == text || !(*out >= lo && *out <= 3600)) {
		fprintf(stderr, "lptsim: %s: \"%s\" is not a number of seconds in [%g, 3600]\n",
			opt, text, lo);
		return -1;
	}
	return 0;
}

/* "a,b[,c]" into n unsigned int values each <= hi. */
static int opt_list(int argc, char **argv, int *i, unsigned int n, unsigned int hi, unsigned int *out)
{
	const char *opt = argv[*i], *text = opt_str(argc, argv, i);
	char buf[64], *tok, *save = NULL;
	unsigned int got = 0;

	if (!text)
		return -1;
	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (got == n || lptsim_parse_u64(tok, 10, &v) || v > hi)
			break;
		out[got++] = (unsigned int)v;
	}
	if (got != n || tok) {
		fprintf(stderr, "lptsim: %s: expected %u comma-separated numbers each <= %u, got \"%s\"\n",
			opt, n, hi, text);
		return -1;
	}
	return 0;
}

static int cmd_capture(int argc, char **argv)
{
	struct lptsim_snapshot snap;
	struct lptsim_err err;
	const char *out = NULL;
	uint64_t pid = 0;
	double after = 1.0;
	struct lptsim_capture_series series = { .every = 0.25, .duration = 2.0 };
	const char *trace_out = NULL;
	int stop = 1, cmd_at = 0, rc;

	for (int i = 2; i < argc && !cmd_at; i++) {
		if (!strcmp(argv[i], "--pid")) {
			if (opt_u64(argc, argv, &i, 1, 1u << 22, &pid))
				return 1;
		} else if (!strcmp(argv[i], "-o")) {
			out = opt_str(argc, argv, &i);
			if (!out)
				return 1;
		} else if (!strcmp(argv[i], "--after")) {
			if (opt_seconds(argc, argv, &i, 0, &after))
				return 1;
		} else if (!strcmp(argv[i], "--every")) {
			if (opt_seconds(argc, argv, &i, 0.01, &series.every))
				return 1;
		} else if (!strcmp(argv[i], "--for")) {
			if (opt_seconds(argc, argv, &i, 0, &series.duration))
				return 1;
		} else if (!strcmp(argv[i], "--trace-out")) {
			trace_out = opt_str(argc, argv, &i);
			if (!trace_out)
				return 1;
		} else if (!strcmp(argv[i], "--no-stop")) {
			stop = 0;
		} else if (!strcmp(argv[i], "--")) {
			cmd_at = i + 1;
		} else {
			return bad_arg(argv[i], "unknown capture option");
		}
	}
	if (!out)
		return bad_arg("capture", "-o FILE is required");
	if (!!pid == !!cmd_at || (cmd_at && cmd_at >= argc))
		return bad_arg("capture", "give exactly one of --pid PID or -- COMMAND");
	if (trace_out) {
		series.trace = fopen(trace_out, "w");
		if (!series.trace) {
			fprintf(stderr, "lptsim: %s: cannot create\n", trace_out);
			return 1;
		}
	}
	if (pid)
		rc = lptsim_capture_pid(&snap, (pid_t)pid, stop, trace_out ? &series : NULL, &err);
	else
		rc = lptsim_capture_cmd(&snap, &argv[cmd_at], after, trace_out ? &series : NULL, &err);
	if (trace_out && fclose(series.trace) && !rc)
		rc = lptsim_fail(&err, "%s: write failed", trace_out);
	if (rc) {
		if (trace_out)
			remove(trace_out);
		return die(&err);
	}
	rc = lptsim_snap_write(&snap, out, &err);
	if (!rc)
		fprintf(stderr, "lptsim: captured %zu mappings in %zu VMAs (%s) into %s\n",
			snap.nmaps, snap.nvmas, snap.source, out);
	if (!rc && trace_out)
		fprintf(stderr, "lptsim: %llu scans, %llu events into %s\n",
			(unsigned long long)series.scans, (unsigned long long)series.events, trace_out);
	lptsim_snap_free(&snap);
	return rc ? die(&err) : 0;
}

static int cmd_gen(int argc, char **argv)
{
	struct lptsim_snapshot snap;
	struct lptsim_err err;
	const char *out = NULL, *kind;
	uint64_t seed = 1, pages = 0, thp = 0;
	int rc;

	if (argc < 3 || argv[2][0] == '-')
		return bad_arg("gen", "missing generator name");
	kind = argv[2];
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--seed")) {
			if (opt_u64(argc, argv, &i, 0, UINT64_MAX, &seed))
				return 1;
		} else if (!strcmp(argv[i], "--pages")) {
			if (opt_u64(argc, argv, &i, 1, LPTSIM_GEN_MAX_PAGES, &pages))
				return 1;
		} else if (!strcmp(argv[i], "--thp")) {
			if (opt_u64(argc, argv, &i, 0, 100, &thp))
				return 1;
		} else if (!strcmp(argv[i], "-o")) {
			out = opt_str(argc, argv, &i);
			if (!out)
				return 1;
		} else {
			return bad_arg(argv[i], "unknown gen option");
		}
	}
	if (!out || !pages)
		return bad_arg("gen", "--pages N and -o FILE are required");
	if (lptsim_generate(&snap, kind, seed, pages, (unsigned int)thp, &err))
		return die(&err);
	rc = lptsim_snap_write(&snap, out, &err);
	lptsim_snap_free(&snap);
	return rc ? die(&err) : 0;
}

/* Apply a trace to a snapshot and write the result: the final address space. */
static int cmd_replay(int argc, char **argv)
{
	struct lptsim_snapshot snap;
	struct lptsim_trace trace;
	struct lptsim_replay_stats st;
	struct lptsim_err err;
	int rc;

	if (argc != 6 || strcmp(argv[4], "-o"))
		return bad_arg("replay", "expected SNAPSHOT TRACE -o FILE");
	if (lptsim_trace_read(&trace, argv[3], &err))
		return die(&err);
	if (lptsim_snap_read(&snap, argv[2], &err)) {
		lptsim_trace_free(&trace);
		return die(&err);
	}
	rc = lptsim_trace_replay(&snap, &trace, NULL, NULL, &st, &err);
	if (!rc) {
		char source[256];

		snprintf(source, sizeof(source), "%s + %llu trace events", snap.source,
			 (unsigned long long)trace.nevents);
		free(snap.source);
		snap.source = lptsim_xstrdup(source);
		rc = lptsim_snap_write(&snap, argv[5], &err);
	}
	lptsim_trace_free(&trace);
	lptsim_snap_free(&snap);
	return rc ? die(&err) : 0;
}

static int cmd_show(int argc, char **argv)
{
	struct lptsim_snapshot snap;
	struct lptsim_err err;
	uint64_t count[LPTSIM_PS_COUNT] = { 0 }, bytes = 0;

	if (argc != 3)
		return bad_arg("show", "expected one snapshot file");
	if (lptsim_snap_read(&snap, argv[2], &err))
		return die(&err);
	for (size_t i = 0; i < snap.nmaps; i++) {
		count[snap.maps[i].psize]++;
		bytes += lptsim_psize_pages(snap.maps[i].psize) * 4096;
	}
	printf("source:   %s\nvmas:     %zu\nmappings: %zu (4K %llu, 2M %llu, 1G %llu)\nmapped:   %.1f MiB\n",
	       snap.source, snap.nvmas, snap.nmaps, (unsigned long long)count[0],
	       (unsigned long long)count[1], (unsigned long long)count[2], bytes / 1048576.0);
	lptsim_snap_free(&snap);
	return 0;
}

/* Display name: basename without a ".snap" suffix. */
static void snapshot_name(char *buf, size_t cap, const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	snprintf(buf, cap, "%s", base ? base + 1 : path);
	len = strlen(buf);
	if (len > 5 && !strcmp(buf + len - 5, ".snap"))
		buf[len - 5] = '\0';
}

static int cmd_run(int argc, char **argv)
{
	struct lptsim_opts opts = {
		.radix = { .pwc_entries = { 2, 4, 32 } },
		.ecpt = { .ways = 3, .initial_entries = 256, .max_occupancy_pct = 60,
			  .pmd_cwc = 16, .pud_cwc = 4, .seed = 0x5eed },
		.lpt = { .lwc_entries = 64 },
		.seed = 1,
		.orders = LPTSIM_ORDER_ADDRESS | LPTSIM_ORDER_RANDOM,
	};
	enum lptsim_format fmt = LPTSIM_FMT_TABLE;
	const char *trace_path = NULL, *json_out = NULL;
	const char **paths = calloc((size_t)argc, sizeof(*paths));
	const char **traces = calloc((size_t)argc, sizeof(*traces));
	struct lptsim_result *rows;
	struct lptsim_trace trace;
	struct lptsim_err err;
	size_t npaths = 0, nrows = 0;
	uint64_t v;
	unsigned int pair[2];
	int rc = 1;

	if (!paths || !traces) {
		free(paths);
		free(traces);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json")) {
			fmt = LPTSIM_FMT_JSON;
		} else if (!strcmp(a, "--csv")) {
			fmt = LPTSIM_FMT_CSV;
		} else if (!strcmp(a, "--quiet")) {
			opts.quiet = 1;
		} else if (!strcmp(a, "--json-out")) {
			json_out = opt_str(argc, argv, &i);
			if (!json_out)
				goto out;
		} else if (!strcmp(a, "--trace")) {
			if (trace_path) {
				bad_arg("--trace", "two traces for one snapshot");
				goto out;
			}
			trace_path = opt_str(argc, argv, &i);
			if (!trace_path)
				goto out;
		} else if (!strcmp(a, "--order")) {
			const char *o = opt_str(argc, argv, &i);

			if (!o)
				goto out;
			if (!strcmp(o, "addr"))
				opts.orders = LPTSIM_ORDER_ADDRESS;
			else if (!strcmp(o, "random"))
				opts.orders = LPTSIM_ORDER_RANDOM;
			else if (!strcmp(o, "both"))
				opts.orders = LPTSIM_ORDER_ADDRESS | LPTSIM_ORDER_RANDOM;
			else {
				bad_arg("--order", "expected addr, random or both");
				goto out;
			}
		} else if (!strcmp(a, "--seed")) {
			if (opt_u64(argc, argv, &i, 0, UINT64_MAX, &opts.seed))
				goto out;
		} else if (!strcmp(a, "--lwc")) {
			if (opt_u64(argc, argv, &i, 1, LPTSIM_LRU_MAX, &v))
				goto out;
			opts.lpt.lwc_entries = (unsigned int)v;
		} else if (!strcmp(a, "--contiguity")) {
			if (opt_u64(argc, argv, &i, 4096, 1ull << 30, &opts.lpt.contiguity_bytes))
				goto out;
		} else if (!strcmp(a, "--pwc")) {
			if (opt_list(argc, argv, &i, 3, LPTSIM_LRU_MAX, opts.radix.pwc_entries))
				goto out;
		} else if (!strcmp(a, "--ecpt-ways")) {
			if (opt_u64(argc, argv, &i, 2, ECPT_MAX_WAYS, &v))
				goto out;
			opts.ecpt.ways = (unsigned int)v;
		} else if (!strcmp(a, "--ecpt-entries")) {
			if (opt_u64(argc, argv, &i, 8, 1u << 24, &v))
				goto out;
			if (v & (v - 1)) {
				bad_arg("--ecpt-entries", "must be a power of two");
				goto out;
			}
			opts.ecpt.initial_entries = (unsigned int)v;
		} else if (!strcmp(a, "--ecpt-occupancy")) {
			if (opt_u64(argc, argv, &i, 10, 95, &v))
				goto out;
			opts.ecpt.max_occupancy_pct = (unsigned int)v;
		} else if (!strcmp(a, "--cwc")) {
			if (opt_list(argc, argv, &i, 2, LPTSIM_LRU_MAX, pair))
				goto out;
			opts.ecpt.pmd_cwc = pair[0];
			opts.ecpt.pud_cwc = pair[1];
		} else if (a[0] == '-' && a[1]) {
			bad_arg(a, "unknown run option");
			goto out;
		} else {
			/* A --trace belongs to the snapshot named right after it. */
			traces[npaths] = trace_path;
			trace_path = NULL;
			paths[npaths++] = a;
		}
	}
	if (!npaths) {
		bad_arg("run", "no snapshot files given");
		goto out;
	}
	if (trace_path) {
		bad_arg("--trace", "must be followed by the snapshot it applies to");
		goto out;
	}
	if (!lptsim_lpt_available() && !opts.quiet)
		fprintf(stderr, "lptsim: warning: built without lib/lpt; learned page table columns are n/a\n");
	rows = calloc(npaths * 2, sizeof(*rows));
	if (!rows)
		goto out;
	for (size_t p = 0; p < npaths; p++) {
		struct lptsim_snapshot snap;
		char name[128];
		int n;

		/* Read (and so validate) a trace before its snapshot's work starts. */
		if (traces[p] && lptsim_trace_read(&trace, traces[p], &err)) {
			die(&err);
			goto out_rows;
		}
		if (lptsim_snap_read(&snap, paths[p], &err)) {
			if (traces[p])
				lptsim_trace_free(&trace);
			die(&err);
			goto out_rows;
		}
		snapshot_name(name, sizeof(name), paths[p]);
		/* Rows from a replayed trace are marked: they are not the snapshot alone. */
		if (traces[p])
			snprintf(name + strlen(name), sizeof(name) - strlen(name), "+trace");
		n = lptsim_simulate(name, &snap, traces[p] ? &trace : NULL, &opts, &rows[nrows], &err);
		if (traces[p])
			lptsim_trace_free(&trace);
		lptsim_snap_free(&snap);
		if (n < 0) {
			die(&err);
			goto out_rows;
		}
		nrows += (size_t)n;
	}
	lptsim_report(stdout, fmt, rows, nrows, &opts);
	rc = 0;
	if (json_out) {
		FILE *f = fopen(json_out, "w");

		if (!f) {
			fprintf(stderr, "lptsim: %s: cannot create\n", json_out);
			rc = 1;
		} else {
			lptsim_report(f, LPTSIM_FMT_JSON, rows, nrows, &opts);
			if (fclose(f)) {
				fprintf(stderr, "lptsim: %s: write failed\n", json_out);
				rc = 1;
			}
		}
	}
	/* A walk that faulted or returned a wrong frame is a bug, not a figure. */
	for (size_t r = 0; r < nrows; r++) {
		if (rows[r].lpt_faults || rows[r].lpt_wrong || rows[r].ecpt_faults) {
			fprintf(stderr, "lptsim: %s/%s: %llu LPT faults, %llu wrong frames, %llu ECPT faults\n",
				rows[r].snapshot, rows[r].order,
				(unsigned long long)rows[r].lpt_faults,
				(unsigned long long)rows[r].lpt_wrong,
				(unsigned long long)rows[r].ecpt_faults);
			rc = 3;
		}
	}
out_rows:
	free(rows);
out:
	free(paths);
	free(traces);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	if (!strcmp(argv[1], "capture"))
		return cmd_capture(argc, argv);
	if (!strcmp(argv[1], "gen"))
		return cmd_gen(argc, argv);
	if (!strcmp(argv[1], "show"))
		return cmd_show(argc, argv);
	if (!strcmp(argv[1], "replay"))
		return cmd_replay(argc, argv);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc, argv);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "lptsim: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 1;
}
