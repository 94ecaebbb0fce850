#!/usr/bin/env bash
# `make bench`: every benchmark the project has, each printing its own table.
# Figures are ratios or counts measured side by side in one run; README
# quotes them.  Benchmarks are never part of `make check` (timing is noisy).
#   1. lptsim: learned vs radix vs ECPT page tables over real and generated
#      address-space snapshots (user space).
#   2. radix walk baseline: walk statistics of real programs in the guest
#      with the realistic TLB/PWC model, at two TLB sizes.
#   3. hugescope tracking overhead: L2 throughput with tracking off vs on
#      (alternating windows, one run) and one split-track-merge cycle's cost,
#      from selftests/hugescope/hugescope_perf_test on the debug kernel.
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

# The perf test prints its figures as "# result: ..." lines (and "# WARN:"
# when TCG noise exceeds the 3% target); the per-window rates stay in the
# log.  It needs nested KVM, so it runs on the debug kernel, which must
# already be built (make kernel-debug); only the initramfs is rebuilt.
echo "### hugescope tracking overhead (debug kernel, nested NPT under TCG)"
[ -e "$MMV_BUILD/kernel-debug/arch/x86/boot/bzImage" ] ||
	die "no debug kernel (run: make kernel-debug)"
make -s initramfs VARIANT=debug
log=$MMV_BUILD/vm/last-debug.log
bash scripts/vm.sh --variant debug --quiet \
	--run /selftests/hugescope/hugescope_perf_test >/dev/null ||
	die "hugescope perf VM run failed (log: $log)"
grep -a -E '^# (window|warm-up|result:|WARN:)' "$log" | sed 's/^# //'
