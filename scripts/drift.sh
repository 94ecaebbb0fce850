#!/usr/bin/env bash
# `make drift`: the next archive move, seen before it breaks a newcomer.
# Applies both patch queues to the newest Linux 6.12 and QEMU 7.2 sources
# Debian offers (not the pins), verifies them (a moved base is reported,
# a changed patch fails), builds QEMU and the release kernel there, and boots
# the VM smoke tests (nested KVM, walk statistics, the learned page table
# MMU).  Everything goes to build/drift/, so the pinned trees are untouched;
# ccache shares the objects that did not change.  Not part of `make check`:
# it tests the archive, not a change.  Ends with "N passed, N failed".
# MMV_LINUX_VERSION / MMV_QEMU_VERSION pick other versions than the newest.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export MMV_BUILD=$top/build/drift
export MMV_LINUX_VERSION=${MMV_LINUX_VERSION:-newest} MMV_QEMU_VERSION=${MMV_QEMU_VERSION:-newest}
. "$top/scripts/common.sh"
passed=0 failed=0
result() {	# DESCRIPTION, command...
	local what=$1
	shift
	if "$@"; then echo "ok - drift: $what"; passed=$((passed + 1)); return 0; fi
	echo "not ok - drift: $what"; failed=$((failed + 1)); return 1
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit; }

linux=$(bash "$top/scripts/fetch.sh" resolve linux) || finish
qemu=$(bash "$top/scripts/fetch.sh" resolve qemu) || finish
pin_linux=$(MMV_LINUX_VERSION='' bash -c ". '$top/scripts/common.sh'; echo \$LINUX_PKG_VERSION")
pin_qemu=$(MMV_QEMU_VERSION='' bash -c ". '$top/scripts/common.sh'; echo \$QEMU_SRC_VERSION")
echo "drift: Linux $linux (pinned $pin_linux), QEMU $qemu (pinned $pin_qemu), in $MMV_BUILD"

ok=1
for t in linux qemu; do
	result "queue $t applies" bash "$top/scripts/tree.sh" checkout $t || ok=0
	result "queue $t verifies" bash "$top/scripts/tree.sh" verify $t || ok=0
done
[ $ok = 1 ] || finish
result "QEMU builds" bash "$top/scripts/build-qemu.sh" || ok=0
result "release kernel builds" bash "$top/scripts/build-kernel.sh" release || ok=0
[ $ok = 1 ] || finish
result "guest image builds" make -s -C "$top" initramfs VARIANT=release || finish
out=$(bash "$top/scripts/vm.sh" --variant release --quiet --timeout 900 \
	--cpu-opts ,walk-tlb-entries=1536,walk-tlb-ways=12,walk-pwc-entries=32,lpt=on,lpt-strict=off,lpt-crosscheck=on \
	--test kvm/nested_smoke_test --test walkstats/walkstats_test --test lpt_mmu/lpt_mmu_test 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^(not )?ok ' | sed 's/^/# /'
result "VM smoke tests boot and pass on Linux ${linux}, QEMU $qemu" [ $rc = 0 ]
finish
