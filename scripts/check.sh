#!/usr/bin/env bash
# `make check`: every test the project has, in dependency order, ending with
# one line "N passed, N failed".  Each step prints TAP-style lines ("ok - ..."
# / "not ok - ..." at the start of a line); a step that fails without saying
# which test failed is counted as one failure.  Steps whose prerequisites did
# not build are reported as failures, never skipped silently.
set -uo pipefail
. "$(dirname "$0")/common.sh"
cd "$MMV_TOP"

passed=0 failed=0 skipped=0
logdir=$MMV_BUILD/check
mkdir -p "$logdir"
t0=$(date +%s)

# count NAME LOG RC: add a finished step's TAP lines to the totals.
count() {
	local name=$1 out=$2 rc=$3 p f s
	p=$(grep -cE '^ok( |$)' "$out" | head -1); s=$(grep -cE '^ok( .*)?# SKIP' "$out" | head -1)
	f=$(grep -cE '^not ok( |$)' "$out" | head -1)
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "not ok - $name (exit status $rc, see $out)"
		f=1
	fi
	passed=$((passed + p - s)); skipped=$((skipped + s)); failed=$((failed + f))
}

logname() { echo "$logdir/$(echo "$1" | tr -c 'a-zA-Z0-9_-' '_').log"; }

# step NAME CMD...: run, echo its output, count its TAP lines.
step() {
	local name=$1 rc out
	shift
	out=$(logname "$name")
	echo "=== $name ($(( $(date +%s) - t0 ))s)"
	"$@" > >(tee "$out") 2>&1
	rc=$?
	sleep 0.1
	count "$name" "$out" $rc
	return $rc
}

# bg_step NAME CMD...: start a step beside the ones that follow (a TCG guest
# keeps one host core busy, most of the time, and the machine has two);
# bg_collect waits for each, then prints and counts its output.
bg_names=() bg_pids=()
bg_step() {
	local name=$1 out
	shift
	out=$(logname "$name")
	echo "=== $name (started beside the next steps at $(( $(date +%s) - t0 ))s)"
	( "$@" > "$out" 2>&1; echo $? > "$out.rc" ) &
	bg_names+=("$name") bg_pids+=($!)
}
bg_collect() {
	local i name out
	for i in "${!bg_pids[@]}"; do
		name=${bg_names[$i]} out=$(logname "${bg_names[$i]}")
		wait "${bg_pids[$i]}"
		echo "=== $name (finished by $(( $(date +%s) - t0 ))s)"
		cat "$out"
		count "$name" "$out" "$(cat "$out.rc" 2>/dev/null || echo 1)"
	done
	bg_names=() bg_pids=()
}

# A build step prints one TAP line for itself.
build() {
	local name=$1
	shift
	if "$@"; then echo "ok - build: $name"; else echo "not ok - build: $name"; return 1; fi
}

step "host packages" build deps bash scripts/deps.sh || {
	echo "0 passed, 1 failed"; exit 1; }

# The trees first: verify then clones build/linux and build/qemu for its
# scratch trees instead of hashing ~90,000 source files a second time.  On
# a fresh machine that is a minute of unpacking and git on one core, so it
# runs beside the user-space tests.
bg_step "source trees" build "build/linux, build/qemu" \
	bash -c 'bash scripts/tree.sh checkout linux && bash scripts/tree.sh checkout qemu'

# User-space unit tests, fuzz smoke runs and tool tests (fragments in mk/).
for t in lpt-check lptsim-check mmodel-check farmem-check; do
	if make -s -n "$t" >/dev/null 2>&1; then step "$t" make -s "$t"; fi
done

step "hsctl-selftest" make -s -C tools/hsctl test OUT="$MMV_BUILD/hsctl-host"
bg_collect
step "tooling self-test (host side)" bash tests/tooling/run.sh host
step "patch queue linux-6.12" bash scripts/tree.sh verify linux
step "patch queue qemu-7.2" bash scripts/tree.sh verify qemu
# The HugeScope merge's SPTE from the patched tree, with EPT masks too.
step "kvm-spte-check" make -s kvm-spte-check
step "checkpatch --strict" bash scripts/checkpatch.sh

# The realistic TLB/page-walk-cache model (docs/walkstats.md), so the walk
# selftests check the caches too.
WALK_CPU_OPTS=,walk-tlb-entries=1536,walk-tlb-ways=12,walk-pwc-entries=32
qemu_ok=1 kernel_ok=1 initrd_ok=1
step "qemu" build qemu bash scripts/build-qemu.sh || qemu_ok=0
step "kernel-debug" build kernel-debug bash scripts/build-kernel.sh debug || kernel_ok=0
if [ $kernel_ok = 1 ]; then
	step "guest image" build "selftests, tools, modules, initramfs" make -s initramfs VARIANT=debug || initrd_ok=0
else
	initrd_ok=0
fi

if [ $qemu_ok = 1 ] && [ $kernel_ok = 1 ] && [ $initrd_ok = 1 ]; then
	# Each suite lists the tests make check runs in selftests/<suite>/check.list.
	# A suite whose list has a line "#! cpu-opts PROP=VAL,..." needs those
	# QEMU CPU options and runs in a VM of its own; the others share one.
	# A line "#! beside" starts that VM first, beside the others (the
	# longest suite: it would otherwise leave a host core idle throughout).
	# A line "#! deterministic" runs the suite on vm.sh --deterministic's
	# instruction-counted clock, so that a busy host (the VM beside it)
	# cannot change what the guest does between two counter reads.
	vm_tests=() beside_vms=() own_vms=()
	for list in selftests/*/check.list; do
		suite=$(basename "$(dirname "$list")")
		opts=$(sed -n 's/^#! *cpu-opts *//p' "$list" | head -1)
		if [ -z "$opts" ]; then
			for t in $(sed 's/#.*//' "$list"); do vm_tests+=(--test "$suite/$t"); done
		elif grep -qE '^#! *beside *$' "$list"; then
			beside_vms+=("$suite")
		else
			own_vms+=("$suite")
		fi
	done
	# The suites marked "beside" first, in the background.
	for suite in "${beside_vms[@]}" "${own_vms[@]}"; do
		list=selftests/$suite/check.list
		opts=$(sed -n 's/^#! *cpu-opts *//p' "$list" | head -1)
		suite_tests=()
		for t in $(sed 's/#.*//' "$list"); do suite_tests+=(--test "$suite/$t"); done
		how=step determ=()
		[[ " ${beside_vms[*]} " == *" $suite "* ]] && how=bg_step
		grep -qE '^#! *deterministic *$' "$list" && determ=(--deterministic)
		$how "VM selftests $suite (debug kernel, -cpu ...,$opts${determ:+, deterministic})" \
			bash scripts/vm.sh --variant debug --timeout 1500 --test-timeout 1200 \
			"${determ[@]}" --cpu-opts "$WALK_CPU_OPTS,$opts" "${suite_tests[@]}"
	done
	step "VM selftests (debug kernel: DEBUG_VM, lockdep, KASAN)" \
		bash scripts/vm.sh --variant debug --timeout 900 \
		--cpu-opts "$WALK_CPU_OPTS" "${vm_tests[@]}"
	step "tooling self-test (VM side)" bash tests/tooling/run.sh vm
	bg_collect
else
	echo "not ok - VM selftests: not run, the guest did not build"
	failed=$((failed + 1))
fi

echo "=== done in $(( $(date +%s) - t0 ))s; logs in $logdir"
[ $skipped -gt 0 ] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
