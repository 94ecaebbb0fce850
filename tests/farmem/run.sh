#!/bin/sh
# Runner behind `make farmem-check` and `make farmem-fuzz`: the ASan+UBSan
# unit tests, then (check only) the ThreadSanitizer race test, then each
# libFuzzer target for a fixed time through tests/lpt/run.sh (niced, one
# core); one TAP stream, later parts renumbered, plan last.
# Usage: run.sh check|fuzz OUTDIR SECONDS FUZZER...
mode=$1 out=$2 secs=$3
shift 3
n=0 fail=0

# Print TAP file $1 renumbered after $n, without its plan.
renum() {
	awk -v n=$n '/^1\.\./ { next }
		/^(not )?ok [0-9]+ / { k = ($1 == "not") ? 3 : 2; $k = $k + n }
		{ print }' "$1"
	n=$((n + $(grep -c '^\(not \)\{0,1\}ok ' "$1")))
}

# Run test binary $1 (with args) into $out/<name>.tap; a non-zero exit
# (a sanitizer report included) fails the stream even if no line did.
run() {
	name=$(basename "$1")
	"$@" >"$out/$name.tap" 2>"$out/$name.err"
	rc=$?
	renum "$out/$name.tap"
	if [ $rc -ne 0 ]; then
		fail=1
		sed 's/^/# /' "$out/$name.err" | tail -40
		if ! grep -q '^not ok' "$out/$name.tap"; then
			n=$((n + 1))
			echo "not ok $n - $name exited with status $rc"
		fi
	fi
}

if [ "$mode" = check ]; then
	run "$out/fm_test"
	TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"
	export TSAN_OPTIONS
	run "$out/fm_race" "${FM_RACE_ITERS:-40000}"
fi

if [ $# -gt 0 ]; then
	sh tests/lpt/run.sh fuzz "$out" "$secs" "$@" >"$out/fuzz.tap" || fail=1
	renum "$out/fuzz.tap"
fi
echo "1..$n"
exit $fail
