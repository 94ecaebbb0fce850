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

	# The library must build as kernel code: freestanding, no libc headers,
	# no FPU/SSE, small frames, and no symbol from outside but memset and
	# memcpy.  Stub <linux/*.h> stand in for a kernel tree.
	n=$((n + 1))
	kok=1
	rm -rf "$out/kobj"
	mkdir -p "$out/kobj"
	: >"$out/kobj.diag"
	for f in lib/lpt/*.c; do
		${CC:-gcc} -std=gnu11 -D__KERNEL__ -nostdinc -Itests/lpt/kstub \
			-ffreestanding -fno-pic -mcmodel=kernel -mno-sse -mno-mmx \
			-mno-80387 -mno-red-zone -fno-builtin -O2 -Wall -Wextra \
			-Wno-unused-parameter -Werror -Wframe-larger-than=1024 \
			-c "$f" -o "$out/kobj/$(basename "$f" .c).o" 2>"$out/kobj.err" ||
			{ kok=0; sed 's/^/# /' "$out/kobj.err" | head -20 >>"$out/kobj.diag"; }
	done
	ext=$(nm -u "$out"/kobj/*.o 2>/dev/null | awk 'NF == 2 { print $2 }' |
	      grep -v -e '^memset$' -e '^memcpy$' -e '^lpt_' -e '^__lpt_' | sort -u)
	defined=$(nm --defined-only "$out"/kobj/*.o 2>/dev/null | awk 'NF == 3 { print $3 }')
	for s in $(nm -u "$out"/kobj/*.o 2>/dev/null | awk 'NF == 2 { print $2 }' |
		   grep -e '^lpt_' -e '^__lpt_' | sort -u); do
		echo "$defined" | grep -qx "$s" || ext="$ext $s"
	done
	if [ $kok -eq 1 ] && [ -z "$ext" ]; then
		echo "ok $n - lib/lpt compiles as freestanding kernel-style code"
	else
		fail=1
		echo "not ok $n - lib/lpt compiles as freestanding kernel-style code"
		cat "$out/kobj.diag"
		[ -n "$ext" ] && echo "#   external symbols: $ext"
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
