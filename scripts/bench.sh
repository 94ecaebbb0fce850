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

# BENCH_SKIP_LPTSIM=1 runs only the guest benchmarks.
if [ -z "${BENCH_SKIP_LPTSIM:-}" ] && make -s -n lptsim-bench >/dev/null 2>&1; then
	echo "### lptsim: learned vs radix vs ECPT page tables"
	make -s lptsim-bench
fi

echo "### radix page-walk baseline in the guest (release kernel)"
make -s guest VARIANT=release GUEST_PROGS="xz sort"
log=$MMV_BUILD/vm/last-release.log
printf '%-6s %-28s %12s %10s %8s %8s %8s\n' TLB workload walks refs/walk PDE% PDPTE% faults
for tlb in "64,walk-tlb-ways=4" "1536,walk-tlb-ways=12"; do
	opts=",walk-tlb-entries=$tlb,walk-pwc-entries=32"
	bash scripts/vm.sh --variant release --quiet --timeout 900 --cpu-opts "$opts" \
		--run 'dd if=/dev/urandom of=/tmp/r.bin bs=1M count=16 2>/dev/null; seq 1 400000 | /usr/bin/sort -R > /tmp/lines' \
		--run 'walkstat -c 0 -- xz -T1 -6 -k -f /tmp/r.bin' \
		--run 'walkstat -c 0 -- sort -n -o /tmp/s /tmp/lines' >/dev/null ||
		die "bench VM run failed (log: $log)"
	# One row per walkstat block: the command from the BEGIN marker,
	# the figures from walkstat's own lines.
	awk -v tlb="${tlb%%,*}" '
		/^MMV-TEST-BEGIN run: walkstat/ { sub(/.*-- /, ""); cmd = substr($0, 1, 28) }
		/^walks:/ { walks = $2 }
		/^walk faults:/ { faults = $3 }
		/^references:/ { rpw = $3; sub(/\(/, "", rpw) }
		/^  PDE / { pde = $2 }
		/^  PDPTE / { pdpte = $2 }
		/^MMV-TEST-END run: walkstat/ {
			printf "%-6s %-28s %12s %10s %8s %8s %8s\n", tlb, cmd, walks, rpw, pde, pdpte, faults }
	' "$log"
done
