#!/bin/sh
# Runner behind `make lpt-check` and `make lpt-fuzz`: runs the unit tests
# and then each libFuzzer target for a fixed time, niced, on one core, and
# prints one TAP stream (unit-test lines, one line per fuzzer, plan last).
# Usage: run.sh check|fuzz OUTDIR SECONDS FUZZER...
mode=$1 out=$2 secs=$3
shift 3
n=0 fail=0

if [ "$mode" = check ]; then
	"$out/lpt_test" >"$out/lpt_test.tap" 2>"$out/lpt_test.err"
	rc=$?
	grep -v '^1\.\.' "$out/lpt_test.tap"
	n=$(grep -c '^\(not \)\{0,1\}ok ' "$out/lpt_test.tap")
	if [ $rc -ne 0 ]; then
		fail=1
		sed 's/^/# /' "$out/lpt_test.err" | tail -40
	fi
fi

for f in "$@"; do
	n=$((n + 1))
	corpus="$out/corpus/$f"
	mkdir -p "$corpus"
	log="$out/$f.log"
	nice -n 10 "$out/$f" -max_total_time="$secs" -print_final_stats=1 \
		-timeout=20 -rss_limit_mb=2048 -max_len=4096 \
		-artifact_prefix="$out/$f-" "$corpus" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "ok $n - fuzz $f ${secs}s, ${execs:-?} executions"
	else
		fail=1
		echo "not ok $n - fuzz $f (exit $rc, ${execs:-?} executions)"
		grep -E 'ERROR|SUMMARY|artifact|deadly' "$log" | head -10 | sed 's/^/# /'
	fi
	[ "$mode" = fuzz ] && echo "$(date -u +%FT%TZ) $f ${secs}s ${execs:-?} executions rc=$rc" \
		>>"$out/fuzz-history.txt"
done
echo "1..$n"
exit $fail
