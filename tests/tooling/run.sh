#!/usr/bin/env bash
# Self-test of the project's tooling: bad input must give a clear message and
# a non-zero exit, never a silent pass.  "host" checks the source fetch and
# the patch-queue verifier; "vm" checks that the VM harness fails a crashing
# test, a test that never ends, and a guest that hangs.
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
		sed -i '0,/^+[^+]/s/^+\([^+].*\)$/+\1 /' "$qd/$p"
		expect_fail "verify: hand-edited $q patch $p is rejected" \
			'differs from what git exports|does not apply' \
			env MMV_BUILD="$MMV_BUILD" bash "$tmp/top/scripts/tree.sh" verify $q
		echo "bogus.patch" >> "$qd/series"
		expect_fail "verify: series naming a missing patch is rejected" \
			'does not exist' env MMV_BUILD="$MMV_BUILD" bash "$tmp/top/scripts/tree.sh" verify $q
		break
	done
	[ -n "${p:-}" ] || { n=$((n + 1)); echo "ok - verify: hand-edit test # SKIP both queues are empty"; }
	rm -rf "$tmp"
}

vm_tests() {
	# One boot for three: a crashing binary, one that never ends, one missing.
	local out
	out=$(bash "$top/scripts/vm.sh" --quiet --variant debug --test-timeout 8 \
		--test harness/crash_on_purpose --test harness/hang_on_purpose \
		--test no/such_test 2>&1)
	local rc=$?
	expect_fail "vm: a crashing test binary fails the run" \
		'not ok - vm\(debug\): harness/crash_on_purpose # crashed \(signal 11\)' \
		sh -c 'printf "%s\n" "$1"; exit "$2"' - "$out" "$rc"
	expect_fail "vm: a test that never ends is killed and fails" \
		'not ok - vm\(debug\): harness/hang_on_purpose # killed after the 8s' \
		sh -c 'printf "%s\n" "$1"; exit "$2"' - "$out" "$rc"
	expect_fail "vm: a hung guest times out with a clear message" \
		'did not finish within 45s' \
		bash "$top/scripts/vm.sh" --quiet --variant debug --timeout 45 --test-timeout 600 \
		--run "sleep 100000"
	expect_fail "vm: a missing test binary fails" 'not ok - vm\(debug\): no/such_test' \
		sh -c 'printf "%s\n" "$1"; exit "$2"' - "$out" "$rc"
	expect_fail "vm: bad arguments are rejected" 'unknown argument' \
		bash "$top/scripts/vm.sh" --bogus
}

case "${1:-}" in
host) host_tests ;;
vm) vm_tests ;;
*) echo "usage: $0 host|vm" >&2; exit 2 ;;
esac
exit $fail
