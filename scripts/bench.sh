#!/usr/bin/env bash
# `make bench`: every benchmark the project has, each printing its own table.
# Figures are ratios or counts measured side by side in one run; README
# quotes them.  Benchmarks are never part of `make check` (timing is noisy).
#   1. lptsim: learned vs radix vs ECPT page tables over real and generated
#      address-space snapshots (user space).
#   2. radix walk baseline: walk statistics of real programs in the guest
#      with the realistic TLB/PWC model, at two TLB sizes.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$MMV_TOP"

if make -s -n lptsim-bench >/dev/null 2>&1; then
	echo "### lptsim: learned vs radix vs ECPT page tables"
	make -s lptsim-bench
fi

echo "### radix page-walk baseline in the guest (release kernel)"
make -s guest VARIANT=release GUEST_PROGS="xz sort"
prep='dd if=/dev/urandom of=/tmp/r.bin bs=1M count=16 2>/dev/null; seq 1 400000 | sort -R > /tmp/lines'
for tlb in "64,walk-tlb-ways=4" "1536,walk-tlb-ways=12"; do
	opts=",walk-tlb-entries=$tlb,walk-pwc-entries=32"
	echo "--- TLB model: walk-tlb-entries=$tlb"
	bash scripts/vm.sh --variant release --quiet --timeout 900 --cpu-opts "$opts" \
		--run "$prep; walkstat -c 0 -- xz -T1 -6 -k -f /tmp/r.bin; walkstat -c 0 -- sort -n -o /tmp/s /tmp/lines" |
		tee /dev/stderr >/dev/null
	grep -vE '^(  \||MMV-)' "$MMV_BUILD/vm/last-release.log" | grep -iE 'walk|ref|pwc|tlb|fault|cmd' || true
done
