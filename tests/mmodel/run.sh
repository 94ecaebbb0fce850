#!/bin/sh
# Runner behind `make mmodel-check` and `make mmodel-fuzz`: the unit tests,
# then (check only) a kernel-style freestanding build of the core, then
# each libFuzzer target for a fixed time; one TAP stream, plan last.
# Usage: run.sh check|fuzz OUTDIR SECONDS FUZZER...
mode=$1 out=$2 secs=$3
shift 3
n=0 fail=0

if [ "$mode" = check ]; then
	"$out/mmodel_test" >"$out/mmodel_test.tap" 2>"$out/mmodel_test.err" || {
		fail=1; sed 's/^/# /' "$out/mmodel_test.err" | tail -40; }
	grep -v '^1\.\.' "$out/mmodel_test.tap"
	n=$(grep -c '^\(not \)\{0,1\}ok ' "$out/mmodel_test.tap")

	# The core (all but the stdio formatter) must build as kernel code and
	# QEMU-embeddable code: no libc headers, no FPU, and no outside symbol
	# but memset and memcpy.  tests/lpt/kstub supplies <linux/*.h>.
	n=$((n + 1))
	rm -rf "$out/kobj" && mkdir -p "$out/kobj"
	kok=1
	for f in lib/mmodel/*.c; do
		[ "$f" = lib/mmodel/mmodel_format.c ] && continue
		${CC:-gcc} -std=gnu11 -D__KERNEL__ -nostdinc -Itests/lpt/kstub \
			-ffreestanding -fno-pic -mcmodel=kernel -mno-sse -mno-mmx \
			-mno-80387 -mno-red-zone -fno-builtin -O2 -Wall -Wextra \
			-Wno-unused-parameter -Werror -Wframe-larger-than=1024 \
			-c "$f" -o "$out/kobj/$(basename "$f" .c).o" \
			2>>"$out/kobj.err" || kok=0
	done
	ext=$(nm -u "$out"/kobj/*.o 2>/dev/null | awk 'NF == 2 { print $2 }' |
	      grep -v -e '^memset$' -e '^memcpy$' -e '^mmodel_' | sort -u)
	if [ $kok -eq 1 ] && [ -z "$ext" ]; then
		echo "ok $n - lib/mmodel core compiles freestanding, kernel-style"
	else
		fail=1
		echo "not ok $n - lib/mmodel core compiles freestanding, kernel-style"
		sed 's/^/# /' "$out/kobj.err" | head -20
		[ -n "$ext" ] && echo "#   external symbols: $ext"
	fi
fi

# The fuzzers run as lpt-check runs its own (tests/lpt/run.sh fuzz mode:
# niced, fixed time, one TAP line each), renumbered to continue this stream.
if [ $# -gt 0 ]; then
	sh tests/lpt/run.sh fuzz "$out" "$secs" "$@" >"$out/fuzz.tap" || fail=1
	awk -v n=$n '/^1\.\./ { next }
		/^(not )?ok [0-9]+ / { k = ($1 == "not") ? 3 : 2; $k = $k + n }
		{ print }' "$out/fuzz.tap"
	n=$((n + $#))
fi
echo "1..$n"
exit $fail
