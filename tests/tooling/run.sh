#!/usr/bin/env bash
# Self-test of the project's tooling: bad input must give a clear message and
# a non-zero exit, never a silent pass.  "host" checks the source fetch and
# the patch-queue verifier; "vm" checks that the VM harness fails a crashing
# test, a test that never ends, and a guest that hangs, that commands are
# data (backslashes, quotes, $, parentheses, blanks), and that limits are
# reference seconds that stretch on a slow guest.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/common.sh"
n=0 fail=0

expect_fail() {	# description, regex the output must match, command...
	local what=$1 re=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	n=$((n + 1))
	if [ $rc != 0 ] && printf '%s\n' "$out" | grep -E "$re" >/dev/null; then
		echo "ok - $what"
	else
		echo "not ok - $what (exit $rc; wanted non-zero and /$re/)"
		printf '%s\n' "$out" | tail -8 | sed 's/^/#   /'
		fail=1
	fi
}

host_tests() {
	local tmp
	tmp=$(mktemp -d)
	expect_fail "fetch: missing QEMU source package is a clear error" \
		'error: source package mmv-no-such-package is not available' \
		env QEMU_SRC_PKG=mmv-no-such-package MMV_BUILD="$tmp/build" bash "$top/scripts/fetch.sh" qemu
	expect_fail "fetch: unknown tree name is rejected" 'usage' bash "$top/scripts/fetch.sh" nonsense

	# A copy of the scripts and queues, with one patch edited by hand.  It
	# shares build/src and the verify scratch repos with the real tree.
	local q p
	mkdir -p "$tmp/top"
	cp -a "$top/scripts" "$top/patches" "$tmp/top/"
	for q in qemu linux; do
		local qd=$tmp/top/patches/$([ $q = qemu ] && echo qemu-7.2 || echo linux-6.12)
		p=$(sed -e 's/#.*//' "$qd/series" | grep -v '^[[:space:]]*$' | head -1)
		[ -n "$p" ] || continue
		# Change the first added line of code: still applies, but the
		# blob hashes in the re-exported patch no longer match.
		cp "$qd/$p" "$tmp/$p.orig"
		sed -i '0,/^+[^+]/s/^+\([^+].*\)$/+\1 /' "$qd/$p"
		expect_fail "verify: hand-edited $q patch $p is rejected" \
			'differs from what git exports|does not apply' \
			env MMV_BUILD="$MMV_BUILD" bash "$tmp/top/scripts/tree.sh" verify $q
		# The edit may stop later patches from applying: undo it first.
		cp "$tmp/$p.orig" "$qd/$p"
		echo "bogus.patch" >> "$qd/series"
		expect_fail "verify: series naming a missing patch is rejected" \
			'does not exist' env MMV_BUILD="$MMV_BUILD" bash "$tmp/top/scripts/tree.sh" verify $q
		break
	done
	[ -n "${p:-}" ] || { n=$((n + 1)); echo "ok - verify: hand-edit test # SKIP both queues are empty"; }
	rm -rf "$tmp"
}

# expect_ok DESCRIPTION REGEX TEXT: TEXT (a VM run's output) holds REGEX.
expect_in() {
	local what=$1 re=$2 text=$3
	n=$((n + 1))
	if printf '%s\n' "$text" | grep -E -- "$re" >/dev/null; then
		echo "ok - $what"
	else
		echo "not ok - $what (wanted /$re/)"
		printf '%s\n' "$text" | grep -E 'ok - vm|vm:' | tail -12 | sed 's/^/#   /'
		fail=1
	fi
}

vm_tests() {
	# One boot: a crashing binary, one that never ends, one missing, and
	# commands that carry backslashes, quotes, $ and parentheses, which the
	# runner must treat as data from the plan to the result.
	local out rc
	local c_bs='x=$(printf "%s" "a\nb\\c"); [ "$x" = "a\nb\\c" ] && echo "got a\nb\\c"'
	local c_q="echo \"it's (quoted) \$((6 * 7)) '\\\$HOME'\" | grep -q \"(quoted) 42 '\\\$HOME'\""
	local c_sp='  [ "(  )" = "(  )" ]  '
	local c_fail='printf "%s\n" "a\\b"; exit 3'
	out=$(bash "$top/scripts/vm.sh" --quiet --variant debug --test-timeout 8 \
		--test harness/crash_on_purpose --test harness/hang_on_purpose \
		--test no/such_test --run "$c_bs" --run "$c_q" --run "$c_sp" --run "$c_fail" 2>&1)
	rc=$?
	n=$((n + 1))
	if [ $rc != 0 ]; then echo "ok - vm: a run with failing tests exits non-zero"; else
		echo "not ok - vm: a run with failing tests exits non-zero"; fail=1; fi
	expect_in "vm: a crashing test binary fails the run" \
		'^not ok - vm\(debug\): harness/crash_on_purpose # crashed \(signal 11\)' "$out"
	expect_in "vm: a test past its limit is killed, with how long it ran and the limit" \
		'^not ok - vm\(debug\): harness/hang_on_purpose # killed after [0-9.]+ s wall = [0-9.]+ reference s; limit 8 reference s' "$out"
	expect_in "vm: a missing test binary fails" '^not ok - vm\(debug\): no/such_test' "$out"
	expect_in "vm: a command with backslashes is matched and passes" \
		"^ok - vm\\(debug\\): run: x=\\\$\\(printf \"%s\" \"a\\\\nb\\\\\\\\c\"\\)" "$out"
	expect_in "vm: a command with quotes, \$ and parentheses passes" \
		'^ok - vm\(debug\): run: echo "it'"'"'s \(quoted\)' "$out"
	expect_in "vm: a command with leading and trailing blanks passes" \
		'^ok - vm\(debug\): run:   \[ "\(  \)" = "\(  \)" \]  $' "$out"
	expect_in "vm: a failing command with backslashes reports its exit status" \
		'^not ok - vm\(debug\): run: printf "%s\\n" "a\\\\b"; exit 3 # exit status 3$' "$out"

	# A guest measured at a quarter of reference speed: 12 s of wall time
	# is 3 reference s, inside a 4 s limit; a test that sleeps on is
	# killed only after about 16 s of wall time.
	out=$(bash "$top/scripts/vm.sh" --quiet --variant debug --test-timeout 4 \
		--refclock-scale 250 --run "sleep 12" --run "sleep 1000" 2>&1)
	rc=$?
	expect_in "vm: limits stretch on a slow guest: 12 s wall passes a 4 s limit" \
		'^ok - vm\(debug\): run: sleep 12$' "$out"
	expect_in "vm: ... and a test past the scaled limit is killed after more wall time" \
		'^not ok - vm\(debug\): run: sleep 1000 # killed after (1[3-9]|[2-9][0-9])\.[0-9] s wall = [4-5]\.[0-9] reference s; limit 4 reference s' "$out"

	expect_fail "vm: a hung guest times out with a clear message" \
		'did not finish within 45 reference s \(ran [0-9]+ s wall: boot [0-9]+ s' \
		bash "$top/scripts/vm.sh" --quiet --variant debug --timeout 45 --test-timeout 600 \
		--run "sleep 100000"
	expect_fail "vm: bad arguments are rejected" 'unknown argument' \
		bash "$top/scripts/vm.sh" --bogus
	expect_fail "vm: a command with a newline is rejected before booting" 'holds a newline' \
		bash "$top/scripts/vm.sh" --run $'echo a\necho b'
	expect_fail "vm: a zero limit is rejected" 'positive whole seconds' \
		bash "$top/scripts/vm.sh" --test-timeout 0 --run true

	# Bad machine-model parameters stop QEMU at start with the reason; with
	# good ones this paused machine would run into the timeout instead.
	local qemu=$MMV_BUILD/qemu-build/qemu-system-x86_64
	local q=(timeout 60 "$qemu" -L /usr/share/qemu -L /usr/share/seabios -accel tcg
		-display none -nodefaults -S -monitor none -serial none)
	expect_fail "qemu: a bad machine-model cache geometry stops QEMU" \
		"mmodel-params: mmodel: key 'l1d': number of sets .* is not a power of two" \
		"${q[@]}" -cpu qemu64,mmodel=on,mmodel-params=l1d=33K/8/5
	expect_fail "qemu: an unknown machine-model key stops QEMU" \
		"key 'bogus': unknown key" "${q[@]}" -cpu qemu64,mmodel=on,mmodel-params=bogus=1
	expect_fail "qemu: machine-model parameters without mmodel=on stop QEMU" \
		'mmodel-params needs mmodel=on' "${q[@]}" -cpu qemu64,mmodel-params=cpi=1
	expect_fail "qemu: an oversized nested TLB stops QEMU" \
		'walk-ntlb-entries=257 exceeds the maximum of 256' \
		"${q[@]}" -cpu qemu64,walk-tlb-entries=64,walk-ntlb-entries=257
	expect_fail "qemu: a nested TLB without the TLB model stops QEMU" \
		'walk-ntlb-entries needs the TLB model' \
		"${q[@]}" -cpu qemu64,walk-ntlb-entries=16
}

case "${1:-}" in
host) host_tests ;;
vm) vm_tests ;;
*) echo "usage: $0 host|vm" >&2; exit 2 ;;
esac
exit $fail
