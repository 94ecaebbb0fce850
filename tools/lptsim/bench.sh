#!/bin/sh
# bench.sh - lptsim-bench: snapshot real programs running on this machine
# (python3, perl, bash, gcc's cc1 on a large generated file, sqlite3, a
# multi-threaded allocator with THP), generate the synthetic set, and print
# the learned / radix / ECPT side-by-side table for all of them from one run,
# also writing the JSON report.  A program that cannot be captured (not
# installed, exited early) is reported and skipped, never silently dropped:
# the table shows exactly which snapshots were measured.
#
# usage: bench.sh LPTSIM_BINARY WORKDIR JSON_OUT
set -u
LPTSIM=$1
WORK=$2
JSON=$3
AFTER=${LPTSIM_BENCH_AFTER:-0.5}
EVERY=${LPTSIM_BENCH_EVERY:-0.25}
GROW=${LPTSIM_BENCH_GROW:-2.5}
mkdir -p "$WORK"
rm -f "$WORK"/*.snap "$WORK"/*.trace
real_runs=""
start=$(date +%s)
skipped=""

# capture NAME CMD...: the first scan after $AFTER s is NAME-start.snap, rescans
# every $EVERY s for $GROW s become NAME.trace, and NAME.snap is the final
# address space (start + trace).  Rows: NAME (index built in bulk on the
# final space) and NAME-start+trace (built on the start, then every change
# inserted/removed incrementally): same final space, two histories.
capture() {
	name=$1
	shift
	if "$LPTSIM" capture -o "$WORK/$name-start.snap" --after "$AFTER" \
		--trace-out "$WORK/$name.trace" --every "$EVERY" --for "$GROW" -- "$@" \
		2>"$WORK/$name.log" &&
	   "$LPTSIM" replay "$WORK/$name-start.snap" "$WORK/$name.trace" -o "$WORK/$name.snap" \
		2>>"$WORK/$name.log"; then
		echo "lptsim-bench: $name: $(grep -c '^fault' "$WORK/$name.trace") faults, $(grep -c '^munmap\|^zap' "$WORK/$name.trace") unmaps in $GROW s; $("$LPTSIM" show "$WORK/$name.snap" | grep mappings)" >&2
		real_runs="$real_runs $WORK/$name.snap --trace $WORK/$name.trace $WORK/$name-start.snap"
	else
		echo "lptsim-bench: SKIPPED $name: $(tail -n 1 "$WORK/$name.log")" >&2
		skipped="$skipped $name"
	fi
}

have() { command -v "$1" >/dev/null 2>&1; }

# 1. python3: allocation-heavy (dicts, lists, strings), then idle.
if have python3; then
	cat >"$WORK/alloc.py" <<'PY'
import random, time
random.seed(1)
d = {}
for i in range(400000):
    d[i] = [str(i) * (i % 7 + 1), random.random(), (i, i * 2)]
blobs = [bytearray(random.randrange(64, 8192)) for _ in range(20000)]
del blobs[::3]
time.sleep(600)
PY
	capture python3 python3 "$WORK/alloc.py"
fi

# 2. perl: a large hash of strings.
have perl && capture perl perl -e 'my %h; $h{$_} = "x" x ($_ % 50) for 1..2000000; sleep 600'

# 3. bash: a growing array; the idle loop keeps bash from exec()ing into sleep.
have bash && capture bash bash -c 'a=(); for ((i = 0; i < 150000; i++)); do a+=("item-$i"); done; while :; do sleep 1; done'

# 4. gcc: cc1 compiling a large generated translation unit (cc1 itself, not the driver).
if have gcc; then
	CC1=$(gcc -print-prog-name=cc1)
	awk 'BEGIN {
		for (f = 0; f < 4000; f++) {
			printf "int f%d(int *a, int n) { int s = 0; for (int i = 0; i < n; i++) { s += a[i] * %d; if (s > %d) s ^= a[(i + %d) %% n]; } return s; }\n", f, f, f * 7, f % 13;
		}
	}' >"$WORK/big.c"
	capture gcc-cc1 "$CC1" -quiet -O2 "$WORK/big.c" -o /dev/null
fi

# 5. sqlite3: an in-memory database with an index being built.
if have sqlite3; then
	capture sqlite3 sqlite3 :memory: "CREATE TABLE t(a INTEGER, b BLOB); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 2000000) INSERT INTO t SELECT x, randomblob(64) FROM c; CREATE INDEX ti ON t(b); SELECT count(*) FROM t a, t b WHERE a.a < 100000 AND b.a = a.a * 3;"
fi

# 6. multi-threaded allocator with a MADV_HUGEPAGE region (real 2M pages).
if have gcc && gcc -O2 -pthread -o "$WORK/mt_alloc" tools/lptsim/workloads/mt_alloc.c 2>"$WORK/mt_alloc.build.log"; then
	capture mt-alloc "$WORK/mt_alloc"
else
	echo "lptsim-bench: SKIPPED mt-alloc: cannot build tools/lptsim/workloads/mt_alloc.c" >&2
	skipped="$skipped mt-alloc"
fi

# The generated set: fixed seeds, so these rows are identical on every machine.
"$LPTSIM" gen dense-heap --seed 1 --pages 200000 -o "$WORK/gen-dense-heap.snap" &&
"$LPTSIM" gen dense-heap --seed 2 --pages 200000 --thp 50 -o "$WORK/gen-dense-heap-thp.snap" &&
"$LPTSIM" gen sparse-mmap --seed 3 --pages 100000 -o "$WORK/gen-sparse-mmap.snap" &&
"$LPTSIM" gen aslr-libs --seed 4 --pages 50000 -o "$WORK/gen-aslr-libs.snap" &&
"$LPTSIM" gen random --seed 5 --pages 50000 -o "$WORK/gen-random.snap" || exit 1

# Say which core library the LPT columns come from: it evolves alongside.
echo "lptsim-bench: lib/lpt at $(git log -1 --format=%h -- lib/lpt 2>/dev/null || echo '?')$(git status --porcelain lib/lpt 2>/dev/null | grep -q . && echo ' + uncommitted changes'), $(uname -sr), THP $(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)" >&2
real=$(echo "$real_runs" | grep -o -- '--trace' | wc -l)
echo "lptsim-bench: $real real-program captures${skipped:+ (skipped:$skipped)}" >&2
# shellcheck disable=SC2086
"$LPTSIM" run --json-out "$JSON" $real_runs $(ls "$WORK"/gen-*.snap)
rc=$?
# The paper reports the learned table working with contiguity capped at
# 256 KiB; the library's contiguity oracle makes that a one-flag experiment.
JSON_CONTIG=${JSON%.json}-contig256k.json
echo
echo "Learned page table with the contiguity oracle capped at 256 KiB (random order):"
# shellcheck disable=SC2086
"$LPTSIM" run --quiet --order random --contiguity 262144 --json-out "$JSON_CONTIG" \
	$(echo "$real_runs" | tr ' ' '\n' | grep '\.snap$' | grep -v -- '-start\.snap$') \
	$(ls "$WORK"/gen-*.snap) || rc=1
# Insert stress: 5 000 faults scattered over a fresh 4 GiB region, then a
# 4 MiB region mapped, a third of it faulted and unmapped, 20 times.  Real
# growth (the +trace rows) is far kinder; this shows the insert path's cost
# when faults have no locality.
awk 'BEGIN {
	srand(3)
	print "lptsim-trace 1"
	print "mmap 300000000000 300100000000 rw-p [scatter]"
	n = 1
	while (n <= 5000) {
		p = int(rand() * 1048576)
		if (p in seen)
			continue
		seen[p] = 1
		# mawk prints %x of 32 bits only: spell the high digits out.
		printf "fault 3000%05x 4K\n", p
		n++
	}
	for (k = 0; k < 20; k++) {
		print "mmap 310000000000 310000400000 rw-p churn"
		for (i = 0; i < 1024; i += 3)
			printf "fault 31000%04x 4K\n", i
		print "munmap 310000000000 310000400000"
	}
	print "end " (1 + 5000 + 20 * (2 + 342))
}' >"$WORK/stress.trace"
JSON_STRESS=${JSON%.json}-stress.json
echo
echo "Insert stress: gen-dense-heap (20 000 pages) + 5 000 scattered faults + 20 map/fault/unmap rounds:"
"$LPTSIM" gen dense-heap --seed 1 --pages 20000 -o "$WORK/stress-base.snap" &&
"$LPTSIM" run --quiet --order random --json-out "$JSON_STRESS" --trace "$WORK/stress.trace" \
	"$WORK/stress-base.snap" || rc=1
echo "lptsim-bench: JSON in $JSON, $JSON_CONTIG and $JSON_STRESS; $(($(date +%s) - start)) s in all" >&2
if [ "$real" -lt 5 ]; then
	echo "lptsim-bench: fewer than 5 real programs captured" >&2
	exit 1
fi
exit $rc
