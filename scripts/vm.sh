#!/usr/bin/env bash
# Boot the patched kernel in the patched QEMU (TCG, SVM+NPT CPU, two NUMA
# nodes: a small "fast" node 0 with the CPUs and a larger CPU-less "slow" node
# 1), execute a plan of selftests and commands, and judge the result from the
# serial log.  Prints one TAP line per test ("ok - vm: NAME") plus a line for
# the kernel log; exits non-zero on any failed test, oops, WARN, KASAN,
# lockdep or other kernel report, or when the guest hangs.
#
# Usage: vm.sh [--variant debug|release] [--timeout SECS] [--test-timeout SECS]
#              [--cpu-opts ',prop=val'] [--quiet] [--kernel BZIMAGE] [--initrd CPIO]
#              [--refclock-scale PERMILLE] [--deterministic]
#              [--test NAME]... [--run CMD]...
#        NAME is a path under build/selftests (e.g. kvm/nested_smoke_test).
#
# Limits are reference seconds: seconds of a quiet project machine.  The
# guest's refclock daemon (tools/refclock) measures how fast the guest runs
# and sends a heartbeat on the second serial port; the per-test limit is
# enforced in the guest on that clock, and the VM limit here on the guest's
# clock plus the wall time of the boot before its first heartbeat.  A guest
# that stops sending heartbeats for MMV_VM_STALL_SECS (120) wall seconds is
# hung.  So a busy host stretches the limits instead of failing the tests.
# --deterministic runs the measurement machine of docs/mmodel.md:
# one TCG thread (vCPUs interleave instead of running in parallel) and
# -icount shift=0,align=off,sleep=off (the guest's clock counts instructions,
# 1 ns each; an idle guest skips ahead to its next timer), one vCPU unless
# MMV_VM_SMP says otherwise, with the RTC on
# that clock and a fixed date, so the same plan gives the same counts run
# after run.  Limits are then guest seconds of 10^9 instructions.
# MMV_REFCLOCK_REF_NS sets the reference loop time (refclock's -r) for a
# machine unlike the project's; --refclock-scale PERMILLE counts the guest as
# that much slower than measured (the tooling self-test's slow machine).
set -euo pipefail
. "$(dirname "$0")/common.sh"

variant=debug timeout=600 test_timeout=300 cpu_opts="" quiet=0 kernel="" initrd="" scale="" determ=0
plan=()
while [ $# -gt 0 ]; do
	case "$1" in
	--variant) variant=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--test-timeout) test_timeout=$2; shift 2 ;;
	--cpu-opts) cpu_opts=$2; shift 2 ;;
	--quiet) quiet=1; shift ;;
	--kernel) kernel=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--test) plan+=("test $2"); shift 2 ;;
	--run) plan+=("run $2"); shift 2 ;;
	--refclock-scale) scale=$2; shift 2 ;;
	--deterministic) determ=1; shift ;;
	*) die "vm.sh: unknown argument '$1' (see the header of $0)" ;;
	esac
done
case "$variant" in release|debug) ;; *) die "--variant must be release or debug" ;; esac
[[ "$timeout" =~ ^[1-9][0-9]*$ && "$test_timeout" =~ ^[1-9][0-9]*$ ]] ||
	die "timeouts must be positive whole seconds"
ref_ns=${MMV_REFCLOCK_REF_NS:-}
[ -z "$ref_ns" ] || [[ "$ref_ns" =~ ^[1-9][0-9]*$ ]] || die "MMV_REFCLOCK_REF_NS must be a positive whole number of ns"
[ -z "$scale" ] || { [[ "$scale" =~ ^[1-9][0-9]*$ ]] && [ "$scale" -le 1000 ]; } ||
	die "--refclock-scale must be a permille in 1..1000"
[ ${#plan[@]} -gt 0 ] || die "nothing to do: give --test NAME or --run CMD"
stall_secs=${MMV_VM_STALL_SECS:-120}
[[ "$stall_secs" =~ ^[1-9][0-9]*$ ]] || die "MMV_VM_STALL_SECS must be a positive whole number of seconds"
for entry in "${plan[@]}"; do
	# The plan is one line per entry: a command must be one line too.
	case "$entry" in *$'\n'*|*$'\r'*) die "a --test or --run argument holds a newline; write the command on one line (or put it in a script): '${entry#* }'" ;; esac
	[ -n "${entry#* }" ] || die "empty --test or --run argument"
done

qemu=${QEMU:-$MMV_BUILD/qemu-build/qemu-system-x86_64}
kernel=${kernel:-$MMV_BUILD/kernel-$variant/arch/x86/boot/bzImage}
initrd=${initrd:-$MMV_BUILD/vm/initramfs-$variant.cpio.gz}
for f in "$qemu" "$kernel" "$initrd"; do
	[ -e "$f" ] || die "$f is missing (run: make guest VARIANT=$variant)"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/mmv-vm.XXXXXX")
# Each run logs into its own directory (several VMs may run at once) and
# leaves a copy as build/vm/last-<variant>.log for readers such as bench.sh.
# MMV_VM_LOG: a private copy for a caller that may run beside other VMs.
# The refclock heartbeats go next to it as last-<variant>.clock.
last_log=${MMV_VM_LOG:-$MMV_BUILD/vm/last-$variant.log}
trap 'mkdir -p "$(dirname "$last_log")"; cp -f "$work/console.log" "$last_log" 2>/dev/null
	cp -f "$work/clock.log" "${last_log%.log}.clock" 2>/dev/null; rm -rf "$work"' EXIT
mkdir -p "$work/root/etc/mmv"
{
	echo "test_timeout $test_timeout"
	# Deterministic: every loop sample takes the same virtual time, so with
	# an unreachable reference the clock runs at guest (instruction) time.
	[ $determ = 0 ] || ref_ns=18446744073709551615
	[ -z "$ref_ns" ] || echo "refclock_ref_ns $ref_ns"
	[ -z "$scale" ] || echo "refclock_scale $scale"
	printf '%s\n' "${plan[@]}"
} > "$work/root/etc/mmv/plan"
# The kernel unpacks concatenated cpio archives in order: the plan overlays the base.
(cd "$work/root" && find . | cpio -o -H newc --quiet -R 0:0 | gzip -1) > "$work/plan.cpio.gz"
cat "$initrd" "$work/plan.cpio.gz" > "$work/initrd.cpio.gz"

log=$work/console.log clock=$work/clock.log
: > "$log"; : > "$clock"
[ -z "${MMV_VM_SMP:-}" ] || { [[ "$MMV_VM_SMP" =~ ^[1-8]$ ]] || die "MMV_VM_SMP must be 1..8 vCPUs"; }
accel=(-accel tcg) smp=${MMV_VM_SMP:-2}
if [ $determ = 1 ]; then
	# One vCPU unless told otherwise: with two, where the vCPUs
	# interleave still varies from run to run and counts drift by
	# percents (docs/mmodel.md).
	smp=${MMV_VM_SMP:-1}
	accel=(-accel tcg,thread=single -icount shift=0,align=off,sleep=off
		-rtc base=2026-01-01T00:00:00,clock=vm)
fi
# Every report the judge below looks for must reach the serial console:
# WARN() and lockdep print at KERN_WARNING (4) and the default level (4),
# and the console shows levels below loglevel= only, so 5 is the least
# that lets them through (at 4 a WARN went unseen; tests/tooling/run.sh
# checks that a WARN and a lockdep report each fail the run).
console_loglevel=5
qemu_args=(
	"${accel[@]}" -cpu "qemu64,+svm,+npt$cpu_opts" -smp "$smp" -m 2G
	-object memory-backend-ram,id=fast,size=512M
	-object memory-backend-ram,id=slow,size=1536M
	-numa node,nodeid=0,cpus=0-$((smp - 1)),memdev=fast
	-numa node,nodeid=1,memdev=slow
	-kernel "$kernel" -initrd "$work/initrd.cpio.gz"
	-append "console=ttyS0 panic=-1 oops=panic loglevel=$console_loglevel rdinit=/init"
	-L /usr/share/qemu -L /usr/share/seabios -nic none
	-display none -no-reboot -monitor none -serial "file:$log" -serial "file:$clock"
)
note "booting kernel-$variant under TCG (log: $last_log, limit ${timeout} reference s)"
start=$(date +%s)
set +e
"$qemu" "${qemu_args[@]}" > "$work/qemu.out" 2>&1 &
qpid=$!
if [ $quiet = 0 ]; then
	tail -n +1 -f --pid=$qpid "$log" 2>/dev/null | sed -u 's/^/  | /' &
	tpid=$!
fi

# The watchdog: once a second, the VM's reference time so far is the wall
# time of the boot up to the first heartbeat plus the guest's clock since.
boot_wall="" guest_ref_ms=0 guest_wall_ms=-1 speed="" last_beat=$start killed=""
while kill -0 $qpid 2>/dev/null; do
	sleep 1
	now=$(date +%s)
	beat=$(tail -n 1 "$clock" 2>/dev/null)
	if [[ "$beat" =~ ^refclock\ ref_ms=([0-9]+)\ wall_ms=([0-9]+)\ speed=([0-9.]+) ]]; then
		[ -n "$boot_wall" ] || boot_wall=$((now - start))
		if [ "${BASH_REMATCH[2]}" != "$guest_wall_ms" ]; then
			guest_ref_ms=${BASH_REMATCH[1]} guest_wall_ms=${BASH_REMATCH[2]}
			speed=${BASH_REMATCH[3]} last_beat=$now
		fi
	fi
	used=$(( ${boot_wall:-$((now - start))} + guest_ref_ms / 1000 ))
	if [ "$used" -ge "$timeout" ]; then
		killed="did not finish within $timeout reference s (ran $((now - start)) s wall: boot ${boot_wall:-$((now - start))} s${boot_wall:+, then $((guest_ref_ms / 1000)) reference s at a last measured speed of ${speed:-?}})"
	elif [ -n "$boot_wall" ] && [ $((now - last_beat)) -ge "$stall_secs" ]; then
		killed="stopped: no heartbeat from the guest's refclock for $((now - last_beat)) s wall (limit $stall_secs s) after $((now - start)) s"
	fi
	if [ -n "$killed" ]; then
		kill -TERM $qpid 2>/dev/null; sleep 2; kill -KILL $qpid 2>/dev/null
		break
	fi
done
wait $qpid
qrc=$?
[ $quiet = 0 ] && { sleep 0.3; kill $tpid 2>/dev/null; wait $tpid 2>/dev/null; }
set -e
elapsed=$(( $(date +%s) - start ))

fail=0
if [ -n "$killed" ]; then
	echo "vm: guest $killed; last lines of $log:" >&2
	tail -15 "$log" | sed 's/^/    /' >&2
	fail=1
elif [ $qrc != 0 ]; then
	echo "vm: QEMU exited with status $qrc:" >&2
	sed 's/^/    /' "$work/qemu.out" >&2
	fail=1
fi
grep -v 'TCG doesn.t support requested feature' "$work/qemu.out" | sed 's/^/  qemu: /' >&2 || true

# Kernel reports.  Matched only on printk lines (timestamped), so test output
# that happens to say "WARNING" does not count.
splat_re='\] (BUG:|WARNING:|Oops|Kernel panic|kernel BUG|general protection fault|KASAN|UBSAN|.*possible circular locking|.*inconsistent lock state|.*possible recursive locking|.*suspicious RCU usage|DEBUG_LOCKS_WARN_ON|INFO: task .* blocked|watchdog: BUG: soft lockup|.*hard LOCKUP|.*rcu_.*detected stall|unreferenced object|Call Trace:)'

# The lines of the text on stdin that start a report, as "NUMBER:LINE": any
# match but a bare "Call Trace:" when a better one is there.
report_lines() {
	local all
	all=$(grep -nE "$splat_re" || true)
	printf '%s\n' "$all" | grep -v 'Call Trace:' || printf '%s\n' "$all"
}

# The serial console ends lines with CR LF; judge a copy without the CRs.
tr -d '\r' < "$log" > "$log.txt" && mv "$log.txt" "$log"

# Per-test results from the BEGIN/END markers.
n=0
for entry in "${plan[@]}"; do
	name=${entry#* }
	[ "${entry%% *}" = run ] && name="run: $name"
	n=$((n + 1))
	# Names go to awk through the environment: -v would expand backslashes.
	block=$(MMV_B="MMV-TEST-BEGIN $name" MMV_E="MMV-TEST-END $name rc=" awk \
		'BEGIN { b = ENVIRON["MMV_B"]; e = ENVIRON["MMV_E"] }
		$0 == b {on=1; next} on && index($0, e) == 1 {print; on=0; exit} on' "$log")
	rc=$(printf '%s\n' "$block" | tail -1 | sed -n 's/^MMV-TEST-END .* rc=\([0-9]*\)$/\1/p')
	why=""
	if [ -z "$rc" ]; then
		why="no result (guest died or hung during it)"
	elif printf '%s\n' "$block" | grep -E "$splat_re" >/dev/null; then
		why="kernel report while it ran: $(printf '%s\n' "$block" | report_lines | head -1 | cut -d: -f2- | sed 's/^\[ *[0-9.]*\] //')"
	elif [ "$rc" = 4 ]; then
		echo "ok - vm($variant): $name # SKIP $(printf '%s\n' "$block" | grep -m1 -o 'SKIP.*' || echo skipped)"
		continue
	elif [ "$rc" = 137 ]; then
		why=$(printf '%s\n' "$block" | sed -n 's/^# refclock: .* killed after \(.*\)$/killed after \1/p' | tail -1)
		why=${why:-"killed (SIGKILL) under its ${test_timeout} reference s limit"}
	elif [ "$rc" -ge 128 ]; then
		why="crashed (signal $((rc - 128)))"
	elif [ "$rc" != 0 ]; then
		why="exit status $rc"
		printf '%s\n' "$block" | grep -E '^not ok' | sed 's/^/#   /' || true
	fi
	if [ -n "$why" ]; then
		echo "not ok - vm($variant): $name # $why"
		fail=1
	else
		echo "ok - vm($variant): $name"
	fi
done

if grep -qE "$splat_re" "$log"; then
	echo "not ok - vm($variant): kernel log clean (no oops/WARN/KASAN/lockdep)"
	# Each report from two lines before its first line (a WARN's message
	# comes first) to six after (a lockdep report's task and locks), up
	# to 60 lines.
	report_lines < "$log" | cut -d: -f1 | while read -r l; do
		sed -n "$((l > 2 ? l - 2 : 1)),$((l + 6))p" "$log"; echo "--"; done |
		head -60 | sed 's/^/#   /'
	fail=1
elif ! grep -q '^MMV-ALL-DONE' "$log"; then
	echo "not ok - vm($variant): guest ran its whole plan and powered off # see $last_log"
	fail=1
else
	echo "ok - vm($variant): kernel log clean, guest powered off after ${elapsed}s${speed:+ (last measured guest speed $speed of reference)}"
fi
exit $fail
