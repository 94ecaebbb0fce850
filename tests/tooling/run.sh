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

# expect_ok DESCRIPTION REGEX COMMAND...: exit 0 and output matching REGEX.
expect_ok() {
	local what=$1 re=$2 out rc
	shift 2
	out=$("$@" 2>&1); rc=$?
	n=$((n + 1))
	if [ $rc = 0 ] && printf '%s\n' "$out" | grep -E -- "$re" >/dev/null; then
		echo "ok - $what"
	else
		echo "not ok - $what (exit $rc; wanted 0 and /$re/)"
		printf '%s\n' "$out" | tail -8 | sed 's/^/#   /'
		fail=1
	fi
}

# Which source versions fetch.sh picks, against the real archive.
pin_tests() {
	local tmp=$1 pin newest have
	pin=$(. "$top/scripts/common.sh"; echo "$LINUX_PKG_VERSION")
	newest=$(apt-cache madison linux-source-6.12 | awk -F'|' '{ gsub(/ /, "", $2); print $2 }' | sort -rV | head -1)
	have=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo none)
	# Whatever linux-source is installed (a newer one, here: $have), the
	# pin is what gets unpacked; and a machine claiming a far newer one.
	expect_ok "fetch: the Linux pin $pin is used with linux-source $have installed" \
		"^${pin//./\\.}\$" bash "$top/scripts/fetch.sh" resolve linux
	mkdir -p "$tmp/bin"
	printf '#!/bin/sh\necho 6.12.999-1~deb12u1\n' > "$tmp/bin/dpkg-query"; chmod +x "$tmp/bin/dpkg-query"
	expect_ok "fetch: the Linux pin is used when a newer linux-source is installed" \
		"^${pin//./\\.}\$" env PATH="$tmp/bin:$PATH" bash "$top/scripts/fetch.sh" resolve linux
	rm -f "$tmp/bin/dpkg-query"
	expect_ok "fetch: a Linux pin gone from the archive falls back to the newest, loudly" \
		"is gone from the archive; using the newest, ${newest//./\\.}" \
		env MMV_LINUX_VERSION=6.12.0-0~mmv-gone bash "$top/scripts/fetch.sh" resolve linux
	expect_ok "fetch: a QEMU pin gone from the archive falls back to the newest 7.2, loudly" \
		'is gone from the archive; using the newest, 1:7\.2\+' \
		env MMV_QEMU_VERSION=1:7.2+dfsg-0~mmv-gone bash "$top/scripts/fetch.sh" resolve qemu
	expect_fail "fetch: resolve of an unknown tree is rejected" 'usage' \
		bash "$top/scripts/fetch.sh" resolve nonsense
}

# tree.sh on a made-up tree whose base moves under its queue: a fetch.sh
# stand-in serves "base 1" or "base 2" (base 1 with ten lines added on top).
base_move_tests() {
	local tmp=$1/move
	mkdir -p "$tmp/queue"
	cat > "$tmp/fetch" <<'FETCH'
#!/bin/bash
set -e
src=$MMV_BUILD/src/$1
rm -rf "$src"; mkdir -p "$src"
{ [ "$MMV_TEST_BASE" = 1 ] || seq -f 'moved %g' 10; seq -f 'line %g' 100; } > "$src/a.c"
echo "made-up base $MMV_TEST_BASE" > "$src/.mmv-version"
cat "$src/.mmv-version"
FETCH
	chmod +x "$tmp/fetch"
	printf '' > "$tmp/queue/series"
	local env=(env MMV_BUILD="$tmp/build" MMV_FETCH="$tmp/fetch" MMV_QUEUE_DIR="$tmp/queue")
	local tree=$tmp/build/linux
	"${env[@]}" MMV_TEST_BASE=1 bash "$top/scripts/tree.sh" checkout linux >/dev/null 2>&1
	(cd "$tree" && sed -i 's/^line 50$/line fifty/' a.c &&
		git -c user.name=t -c user.email=t@t commit -qam "a: spell fifty") >/dev/null 2>&1
	"${env[@]}" MMV_TEST_BASE=1 bash "$top/scripts/tree.sh" export linux >/dev/null 2>&1
	expect_ok "verify: a queue on its own base re-exports byte-identically" \
		'1 patch\(es\) apply to .*byte-identically' \
		"${env[@]}" MMV_TEST_BASE=1 bash "$top/scripts/tree.sh" verify linux
	expect_ok "verify: a moved base (other index lines and hunk positions) passes and says so" \
		'base moved: 1 patch\(es\) apply to base 2 with the same content.*a-spell-fifty' \
		"${env[@]}" MMV_TEST_BASE=2 bash "$top/scripts/tree.sh" verify linux
	sed -i 's/^+line fifty$/+line 50½/' "$tmp/queue/a-spell-fifty.patch"
	expect_fail "verify: a hand edit on a moved base is still a hand edit" \
		'differs from what git exports \(hand-edited patch\?\): its content changed' \
		"${env[@]}" MMV_TEST_BASE=2 bash "$top/scripts/tree.sh" verify linux
	sed -i 's/^+line 50½$/+line fifty/' "$tmp/queue/a-spell-fifty.patch"
	expect_ok "checkout: a tree on an old base is re-created on the new one" \
		're-creating it on made-up base 2' \
		"${env[@]}" MMV_TEST_BASE=2 bash "$top/scripts/tree.sh" checkout linux
	(cd "$tree" && git -c user.name=t -c user.email=t@t commit -q --allow-empty -m "a: local work") >/dev/null 2>&1
	expect_fail "checkout: ... but never over local work" 'has local work; export it' \
		"${env[@]}" MMV_TEST_BASE=1 bash "$top/scripts/tree.sh" checkout linux
}

host_tests() {
	local tmp
	tmp=$(mktemp -d)
	expect_fail "fetch: missing QEMU source package is a clear error" \
		'error: source package mmv-no-such-package is not available' \
		env QEMU_SRC_PKG=mmv-no-such-package MMV_BUILD="$tmp/build" bash "$top/scripts/fetch.sh" qemu
	expect_fail "fetch: unknown tree name is rejected" 'usage' bash "$top/scripts/fetch.sh" nonsense

	pin_tests "$tmp"
	base_move_tests "$tmp"

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
		expect_fail "verify: hand-edited $q patch $p is rejected as a hand edit" \
			'differs from what git exports \(hand-edited patch\?\)|does not apply' \
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

# expect_nonzero DESCRIPTION STATUS: a run that had to fail did.
expect_nonzero() {
	n=$((n + 1))
	if [ "$2" != 0 ]; then echo "ok - $1"; else echo "not ok - $1 (exit status 0)"; fail=1; fi
}

# expect_in DESCRIPTION REGEX TEXT: TEXT (a VM run's output) holds REGEX.
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

# vm_boot NAME ARGS...: a VM run (scripts/vm.sh ARGS) in the background, its
# output and exit status kept as $vmtmp/NAME.out and .rc; vm_result NAME
# prints the output and returns the status once vm_tests has waited.  The
# boots run side by side: each guest spends most of its time asleep.
vm_boot() {
	local name=$1
	shift
	( bash "$top/scripts/vm.sh" --quiet --variant debug "$@" > "$vmtmp/$name.out" 2>&1
	  echo $? > "$vmtmp/$name.rc" ) &
}
vm_result() {
	cat "$vmtmp/$1.out"
	return "$(cat "$vmtmp/$1.rc" 2>/dev/null || echo 125)"
}

vm_tests() {
	local out rc
	vmtmp=$(mktemp -d)
	trap 'rm -rf "$vmtmp"' EXIT
	# One boot: a crashing binary, one that never ends, one missing, and
	# commands that carry backslashes, quotes, $ and parentheses, which the
	# runner must treat as data from the plan to the result.
	local c_bs='x=$(printf "%s" "a\nb\\c"); [ "$x" = "a\nb\\c" ] && echo "got a\nb\\c"'
	local c_q="echo \"it's (quoted) \$((6 * 7)) '\\\$HOME'\" | grep -q \"(quoted) 42 '\\\$HOME'\""
	local c_sp='  [ "(  )" = "(  )" ]  '
	local c_fail='printf "%s\n" "a\\b"; exit 3'
	vm_boot harness --test-timeout 8 \
		--test harness/crash_on_purpose --test harness/hang_on_purpose \
		--test no/such_test --run "$c_bs" --run "$c_q" --run "$c_sp" --run "$c_fail"
	# Kernel reports on purpose (tests/tooling/splat).
	local ko=/lib/modules/extra/mmv_splat.ko
	vm_boot splat \
		--run "insmod $ko what=bogus" --run "insmod $ko what=warn && rmmod mmv_splat" \
		--run "insmod $ko what=lockdep && rmmod mmv_splat" --run "true"
	# A guest counted at a quarter of reference speed.
	vm_boot slow --test-timeout 4 --refclock-scale 250 --run "sleep 12" --run "sleep 1000"
	# A guest that never finishes.
	vm_boot hung --timeout 45 --test-timeout 600 --run "sleep 100000"
	wait

	out=$(vm_result harness)
	expect_nonzero "vm: a run with failing tests exits non-zero" $?
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

	# Kernel reports on purpose (tests/tooling/splat): a WARN and a lockdep
	# report must each fail the test that caused it and the run, quoted;
	# a test after them still passes.  The console must let KERN_WARNING
	# through for either to be seen at all.
	out=$(vm_result splat)
	expect_nonzero "vm: a run with kernel reports exits non-zero" $?
	expect_in "vm: a bad module parameter is refused, without a report" \
		"^not ok - vm\\(debug\\): run: insmod $ko what=bogus # exit status [1-9]" "$out"
	expect_in "vm: a WARN fails the test that caused it, quoting the report" \
		'^not ok - vm\(debug\): run: insmod .* what=warn .* # kernel report while it ran: WARNING: CPU: [0-9]+ PID: [0-9]+ at .*mmv_splat' "$out"
	expect_in "vm: a lockdep report fails the test that caused it, quoting the report" \
		'^not ok - vm\(debug\): run: insmod .* what=lockdep .* # kernel report while it ran: WARNING: possible circular locking dependency detected' "$out"
	expect_in "vm: a test after the reports passes" '^ok - vm\(debug\): run: true$' "$out"
	expect_in "vm: the kernel log check fails and quotes the WARN's message" \
		'^#   .*mmv_splat: a WARN on purpose \(what=warn\)' "$out"
	expect_in "vm: ... and the lockdep report's locks" '^#   .*mmv_splat_(a|b)' "$out"

	# A guest measured at a quarter of reference speed: 12 s of wall time
	# is 3 reference s, inside a 4 s limit; a test that sleeps on is
	# killed only after about 16 s of wall time.
	out=$(vm_result slow)
	expect_in "vm: limits stretch on a slow guest: 12 s wall passes a 4 s limit" \
		'^ok - vm\(debug\): run: sleep 12$' "$out"
	expect_in "vm: ... and a test past the scaled limit is killed after more wall time" \
		'^not ok - vm\(debug\): run: sleep 1000 # killed after (1[3-9]|[2-9][0-9])\.[0-9] s wall = [4-5]\.[0-9] reference s; limit 4 reference s' "$out"

	expect_fail "vm: a hung guest times out with a clear message" \
		'did not finish within 45 reference s \(ran [0-9]+ s wall: boot [0-9]+ s' \
		vm_result hung
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
	# The default model has latencies for nodes 0 and 1 only.
	expect_fail "qemu: a NUMA node without a modelled DRAM latency stops QEMU" \
		'mmodel: NUMA node 2 has memory but no DRAM latency' \
		"${q[@]}" -cpu qemu64,mmodel=on -m 96M \
		-object memory-backend-ram,id=m0,size=32M -numa node,memdev=m0 \
		-object memory-backend-ram,id=m1,size=32M -numa node,memdev=m1 \
		-object memory-backend-ram,id=m2,size=32M -numa node,memdev=m2
}

case "${1:-}" in
host) host_tests ;;
vm) vm_tests ;;
*) echo "usage: $0 host|vm" >&2; exit 2 ;;
esac
exit $fail
