#!/usr/bin/env bash
# `make run`'s demo: boot the release kernel in the patched QEMU with a
# realistic TLB model, run an unmodified Debian program (xz compressing 24 MiB
# of random data) under `walkstat`, and print the radix page-walk statistics
# the emulated MMU measured: walks, memory references per walk by level, and
# page-walk-cache hit rates.  Override DEMO_CMD / WALK_CPU_OPTS to explore.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# Realistic unified L2 TLB and page-walk caches (see docs/walkstats.md).
WALK_CPU_OPTS=${WALK_CPU_OPTS:-,walk-tlb-entries=1536,walk-tlb-ways=12,walk-pwc-entries=32}
DEMO_CMD=${DEMO_CMD:-"dd if=/dev/urandom of=/tmp/demo.bin bs=1M count=24 2>/dev/null && walkstat -c 0 -- xz -T1 -6 -k -f /tmp/demo.bin"}

echo "demo: radix page-walk statistics of a real program in the guest"
echo "demo: guest command: $DEMO_CMD"
echo "demo: CPU model: qemu64,+svm,+npt$WALK_CPU_OPTS"
bash "$MMV_TOP/scripts/vm.sh" --variant release --timeout 900 \
	--cpu-opts "$WALK_CPU_OPTS" --run "$DEMO_CMD"
