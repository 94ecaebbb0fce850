#!/usr/bin/env bash
# `make run`'s demo: boot the release kernel in the patched QEMU with a
# realistic TLB model, run an unmodified Debian program (xz compressing 24 MiB
# of random data) under `walkstat`, and print the radix page-walk statistics
# the emulated MMU measured: walks, memory references per walk by level, and
# page-walk-cache hit rates.  Then the same program again with a learned page
# table (lpt.ko builds it, the MMU in strict mode translates every user access
# through it) and what the MMU counted for it.  Override DEMO_CMD,
# DEMO_LPT_CMD or WALK_CPU_OPTS to explore.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# Realistic unified L2 TLB and page-walk caches (see docs/walkstats.md).
# lpt=on only matters for a process with an LPT root: xz under walkstat
# still walks the radix table.
WALK_CPU_OPTS=${WALK_CPU_OPTS:-,walk-tlb-entries=1536,walk-tlb-ways=12,walk-pwc-entries=32,lpt=on,lpt-strict=on}
DEMO_CMD=${DEMO_CMD:-"dd if=/dev/urandom of=/tmp/demo.bin bs=1M count=24 2>/dev/null && walkstat -c 0 -- xz -T1 -6 -k -f /tmp/demo.bin"}

DEMO_LPT_CMD=${DEMO_LPT_CMD:-"/selftests/lpt/lpt_run -- xz -T1 -6 -k -f /tmp/demo.bin"}

echo "demo: radix page-walk statistics of a real program in the guest"
echo "demo: guest command: $DEMO_CMD"
echo "demo: then with a learned page table: $DEMO_LPT_CMD"
echo "demo: CPU model: qemu64,+svm,+npt$WALK_CPU_OPTS"
bash "$MMV_TOP/scripts/vm.sh" --variant release --timeout 1200 \
	--cpu-opts "$WALK_CPU_OPTS" --run "$DEMO_CMD" --run "$DEMO_LPT_CMD"
