#!/usr/bin/env bash
# `make bench`: every benchmark the project has, each printing its own table.
# Figures are ratios or counts measured side by side in one run; README
# quotes them.  Benchmarks are never part of `make check` (timing is noisy).
#   1. lptsim: learned vs radix vs ECPT page tables over real and generated
#      address-space snapshots (user space).
#   2. radix walk baseline: walk statistics of real programs in the guest
#      with the realistic TLB/PWC model, at two TLB sizes.
#   3. learned page tables live: the same programs with the kernel's LPT
#      (lpt.ko, MMU in strict mode) versus radix, 4K and THP, plus the page
#      fault cost with the LPT on versus off (selftests/lpt).
#   4. learned page tables vs radix in modelled cycles: the machine model
#      (mmodel=on) on the deterministic measurement VM, each program run
#      three times per mode, the median shown with the range; lpt_gups's
#      update loop alone (faults excluded) in a second table; plus the
#      fault path in kernel instructions and modelled cycles per fault.
#   5. hugescope tracking overhead in modelled cycles: the same perf test
#      on the deterministic VM with the machine model, fewer pairs (the
#      model makes TCG 30x slower), reporting modelled cycles per L2 pass.
#   6. hugescope tracking overhead: L2 throughput with tracking on vs off
#      (median of per-pair ratios over many adjacent off/on window pairs in
#      alternating order, IQR, 95% CI, sign test) and one split-track-merge
#      cycle's cost, from selftests/hugescope/hugescope_perf_test on the
#      release kernel.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$MMV_TOP"

# BENCH_SECTIONS picks sections (default: all of "lptsim radix lpt model
# hsmodel hugescope"); BENCH_SKIP_LPTSIM=1 still drops the first.
want() { [[ " ${BENCH_SECTIONS:-lptsim radix lpt model hsmodel hugescope} " == *" $1 "* ]]; }

if want lptsim && [ -z "${BENCH_SKIP_LPTSIM:-}" ] && make -s -n lptsim-bench >/dev/null 2>&1; then
	echo "### lptsim: learned vs radix vs ECPT page tables"
	make -s lptsim-bench
fi

if want radix || want lpt || want model; then
	make -s guest VARIANT=release GUEST_PROGS="xz sort"
fi
if want radix; then
echo "### radix page-walk baseline in the guest (release kernel)"
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

fi

if want lpt; then
echo "### learned page tables in the guest: LPT (strict) vs radix (release kernel)"
log=$MMV_BUILD/vm/bench-lpt.log
wl_xz='xz -T1 -6 -k -f /tmp/r.bin'
wl_sort='sort -n -o /tmp/s /tmp/lines'
wl_xz2='xz -T2 -6 -k -f /tmp/r.bin'
runs=(--run 'dd if=/dev/urandom of=/tmp/r.bin bs=1M count=16 2>/dev/null; seq 1 400000 | /usr/bin/sort -R > /tmp/lines')
for thp in never always; do
	runs+=(--run "echo $thp > /sys/kernel/mm/transparent_hugepage/enabled")
	for wl in "$wl_xz" "$wl_xz2" "$wl_sort"; do
		runs+=(--run "/selftests/lpt/lpt_run --off -- $wl" --run "/selftests/lpt/lpt_run -- $wl")
	done
done
runs+=(--run 'echo never > /sys/kernel/mm/transparent_hugepage/enabled; /selftests/lpt/lpt_faultbench 31')
MMV_VM_LOG=$log bash scripts/vm.sh --variant release --quiet --timeout 2400 --test-timeout 1800 \
	--cpu-opts ",walk-tlb-entries=1536,walk-tlb-ways=12,walk-pwc-entries=32,lpt=on,lpt-strict=on,lpt-crosscheck=off" \
	"${runs[@]}" >/dev/null || die "LPT bench VM run failed (log: $log)"
# One row per lpt_run; THP mode from the preceding echo.
awk '
	/^MMV-TEST-BEGIN run: echo (never|always)/ { thp = ($4 == "always") ? "THP" : "4K" }
	/^MMV-TEST-BEGIN run: \/selftests\/lpt\/lpt_run/ { sub(/.*-- /, ""); cmd = substr($0, 1, 22) }
	/^lpt_run: / {
		for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		if (v["mode"] == "radix") {
			w = v["radix_walks"]; r = v["radix_refs"]
			printf "%-22s %-5s %-5s %11d %9.3f %12d %8s %8s %7s %8s %8s %4s\n", cmd, thp, "radix", w, w ? r / w : 0, r, "-", "-", "-", "-", "-", v["status"]
		} else {
			w = v["lpt_walks"]; r = v["lpt_refs"]; l = v["lwc_hits"] + v["lwc_misses"]
			printf "%-22s %-5s %-5s %11d %9.3f %12d %7.2f%% %7.2f%% %7d %8d %8d %4s\n", cmd, thp, "LPT", w, w ? r / w : 0, r + v["radix_refs"], (w > v["misses"]) ? 100 * v["hits_1ref"] / (w - v["misses"]) : 0, l ? 100 * v["lwc_hits"] / l : 0, v["index_bytes"], v["misses"], v["mismatches"], v["status"]
		}
	}' "$log" | { printf '%-22s %-5s %-5s %11s %9s %12s %8s %8s %7s %8s %8s %4s\n' workload pages mode "user walks" refs/walk "total refs" 1-ref LWC-hit "index B" misses mismatch rc; cat; }
echo "(radix rows: every walk, user and kernel; LPT rows: user walks through the LPT, total refs adds the kernel's radix walks of the same run; 1-ref: share of LPT translations that read one line; misses are first touches, which fault under radix too)"
grep -a -E '^(faults/round|fault ns median|lpt-on faults|lpt\.ko ns per|lpt walks)' "$log" || die "no lpt_faultbench figures in $log"

fi

if want model; then
echo "### learned page tables vs radix in modelled cycles (machine model, deterministic VM)"
# One vCPU, icount, fixed RTC (vm.sh --deterministic); the default model
# (docs/mmodel.md: Xeon Gold 6242 caches, 90 ns DRAM); the walk models of
# the radix baseline.  Programs are smaller than above: the model makes
# memory-heavy code 30-40x slower under TCG.  lpt_gups (random updates over
# 256 MiB) is TLB-bound like the paper's big-memory programs; xz and sort
# are not.  Each (program, pages) runs once untimed, then radix, LPT,
# radix, LPT, ..., each after deleting its output; figures are the median
# run's, "range" is (max - min) / median of the modelled cycles: the runs
# of one deterministic VM still differ by what earlier runs left behind
# (page cache, free lists).  lpt_run --no-index: the index-size sampling
# would count in the machine-wide cycles.
log=$MMV_BUILD/vm/bench-model.log
m_gups='/selftests/lpt/lpt_gups 256 2000000'
m_xz='xz -T1 -3 -k -f /tmp/r.bin'
m_sort='sort -n -o /tmp/s /tmp/lines'
# A subset for a quick look (the README's table is the full run):
# BENCH_MODEL_WORKLOADS (of "gups xz sort"), BENCH_MODEL_PAGES (of "4K THP"),
# BENCH_MODEL_REPS (runs of each mode, default 3; a range needs 2).
model_wls=() model_thp=()
for w in ${BENCH_MODEL_WORKLOADS:-gups xz sort}; do
	case $w in gups) model_wls+=("$m_gups") ;; xz) model_wls+=("$m_xz") ;;
	sort) model_wls+=("$m_sort") ;; *) die "BENCH_MODEL_WORKLOADS: unknown '$w' (gups xz sort)" ;; esac
done
for p in ${BENCH_MODEL_PAGES:-4K THP}; do
	case $p in 4K) model_thp+=(never) ;; THP) model_thp+=(always) ;;
	*) die "BENCH_MODEL_PAGES: unknown '$p' (4K THP)" ;; esac
done
model_reps=${BENCH_MODEL_REPS:-3}
[[ "$model_reps" =~ ^[1-9]$ ]] || die "BENCH_MODEL_REPS must be 1..9"
runs=(--run 'dd if=/dev/urandom of=/tmp/r.bin bs=1M count=4 2>/dev/null; seq 1 100000 | /usr/bin/sort -R > /tmp/lines')
for thp in "${model_thp[@]}"; do
	runs+=(--run "echo $thp > /sys/kernel/mm/transparent_hugepage/enabled")
	for wl in "${model_wls[@]}"; do
		clean='rm -f /tmp/s /tmp/r.bin.xz; '
		runs+=(--run "$clean/selftests/lpt/lpt_run --off --no-index -- $wl > /dev/null")
		for rep in $(seq 1 "$model_reps"); do
			runs+=(--run "$clean/selftests/lpt/lpt_run --off --no-index -- $wl"
			       --run "$clean/selftests/lpt/lpt_run --no-index -- $wl")
		done
	done
done
runs+=(--run 'echo never > /sys/kernel/mm/transparent_hugepage/enabled; /selftests/lpt/lpt_faultbench 5')
# BENCH_REUSE_LOG=1 prints the table again from the last run's log.
if [ -z "${BENCH_REUSE_LOG:-}" ] || [ ! -s "$log" ]; then
MMV_VM_LOG=$log bash scripts/vm.sh --variant release --quiet --deterministic --timeout 5400 --test-timeout 3600 \
	--cpu-opts ",walk-tlb-entries=1536,walk-tlb-ways=12,walk-pwc-entries=32,lpt=on,lpt-strict=on,lpt-crosscheck=off,mmodel=on" \
	"${runs[@]}" >/dev/null || die "model bench VM run failed (log: $log)"
fi
awk '
	/^MMV-TEST-BEGIN run: echo (never|always)/ { thp = ($4 == "always") ? "THP" : "4K" }
	/^MMV-TEST-BEGIN run: rm -f [^;]*; \/selftests\/lpt\/lpt_run/ { sub(/.*-- /, ""); sub(/^\/selftests\/lpt\//, ""); cmd = substr($0, 1, 22) }
	# lpt_gups prints its update loop alone just before the lpt_run line.
	/^lpt_gups: loop mmodel / {
		for (i = 4; i <= NF; i++) { split($i, kv, "="); lv[kv[1]] = kv[2] }
		pend = 1
	}
	/^lpt_run: mmodel / {
		for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		k = cmd SUBSEP thp SUBSEP v["mode"]
		n[k]++; c[k, n[k]] = v["cycles"]; w[k, n[k]] = v["cycles_walk"]; r[k, n[k]] = v["walk_refs"]
		if (!(cmd SUBSEP thp in seen)) { seen[cmd SUBSEP thp] = 1; order[++no] = cmd SUBSEP thp }
		if (pend) { ln[k]++; lc[k, ln[k]] = lv["cycles"]; lw[k, ln[k]] = lv["cycles_walk"]; pend = 0 }
	}
	# The run with the median cycles of a (workload, pages, mode) (the
	# lower middle one for an even count); sets rng to the range in %.
	function mid(k,    i, j, t, m, idx) {
		for (i = 1; i <= n[k]; i++) idx[i] = i
		for (i = 2; i <= n[k]; i++)
			for (j = i; j > 1 && c[k, idx[j - 1]] > c[k, idx[j]]; j--) { t = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = t }
		m = idx[int((n[k] + 1) / 2)]
		rng = c[k, m] ? 100 * (c[k, idx[n[k]]] - c[k, idx[1]]) / c[k, m] : -1
		return m
	}
	END {
		printf "%-22s %-4s %15s %8s %7s %15s %8s %7s %8s %8s\n", "workload", "pages", "radix cycles", "walk %", "range", "LPT cycles", "walk %", "range", "speedup", "walk x"
		for (i = 1; i <= no; i++) {
			split(order[i], p, SUBSEP); kr = order[i] SUBSEP "radix"; kl = order[i] SUBSEP "lpt"
			if (!n[kr] || !n[kl]) continue
			mr = mid(kr); rr = rng; ml = mid(kl); rl = rng
			cr = c[kr, mr]; cl = c[kl, ml]
			printf "%-22s %-4s %15.0f %7.2f%% %6.2f%% %15.0f %7.2f%% %6.2f%% %7.2f%% %8.2f\n", p[1], p[2], cr, cr ? 100 * w[kr, mr] / cr : 0, rr, cl, cl ? 100 * w[kl, ml] / cl : 0, rl, cl ? 100 * (cr / cl - 1) : 0, w[kl, ml] ? w[kr, mr] / w[kl, ml] : 0
			sum += cl ? cr / cl - 1 : 0; cnt++
		}
		if (cnt) printf "mean modelled speedup of LPT over radix: %.2f%% over %d rows (paper: 14%% over 4K radix, 7%% over THP radix on average)\n", 100 * sum / cnt, cnt
		hdr = 0
		for (i = 1; i <= no; i++) {
			split(order[i], p, SUBSEP); kr = order[i] SUBSEP "radix"; kl = order[i] SUBSEP "lpt"
			if (!ln[kr] || !ln[kl]) continue
			if (!hdr++) printf "measured loop only (lpt_gups updates, every page faulted in before; the median runs above):\n%-22s %-4s %15s %8s %15s %8s %8s %8s\n", "workload", "pages", "radix cycles", "walk %", "LPT cycles", "walk %", "speedup", "walk x"
			mr = ln[kr] == n[kr] ? mid(kr) : 1; ml = ln[kl] == n[kl] ? mid(kl) : 1
			cr = lc[kr, mr]; cl = lc[kl, ml]
			printf "%-22s %-4s %15.0f %7.2f%% %15.0f %7.2f%% %7.2f%% %8.2f\n", p[1], p[2], cr, cr ? 100 * lw[kr, mr] / cr : 0, cl, cl ? 100 * lw[kl, ml] / cl : 0, cl ? 100 * (cr / cl - 1) : 0, lw[kl, ml] ? lw[kr, mr] / lw[kl, ml] : 0
		}
	}' "$log"
echo "(cycles: modelled, the median run of each mode; range: (max - min) / median of those runs; speedup: radix cycles / LPT cycles - 1; walk x: radix walk cycles / LPT walk cycles, of the median runs)"
grep -a -E '^(fault (kernel insns|modelled cycles) median|of which munmap|lpt-on faults)' "$log" || die "no lpt_faultbench model figures in $log"
fi

if want hsmodel; then
echo "### hugescope tracking overhead in modelled cycles (machine model, deterministic VM)"
# One vCPU runs L2, the VMM and the tracker, so the modelled cycles per L2
# pass hold everything tracking costs; no clock enters the figure.  The
# 2D model (walk-ntlb-entries) charges the extra TLB misses and stage-2
# references of split regions.  HS_MODEL_ARGS: perf-test options.
make -s initramfs VARIANT=release
log=$MMV_BUILD/vm/hugescope-model.log
MMV_VM_LOG=$log bash scripts/vm.sh --variant release --quiet --deterministic --timeout 7200 --test-timeout 6000 \
	--cpu-opts ",walk-tlb-entries=1536,walk-tlb-ways=12,walk-pwc-entries=32,walk-ntlb-entries=64,mmodel=on" \
	--run "/selftests/hugescope/hugescope_perf_test ${HS_MODEL_ARGS:--p 8 -s 0.1 -g 0.02}" >/dev/null ||
	die "hugescope model VM run failed (log: $log)"
grep -a -E '^# (machine model|overhead:|result: (cycle|modelled)|WARN: modelled|pair .* model:)' "$log" | sed 's/^# //'
fi

want hugescope || exit 0
# The perf test prints its figures as "# result: ..." lines, a verdict on
# whether the on/off ratio is distinguishable from 1.0 at the measured
# spread, and "# WARN:" when TCG noise is wider than the 3% target; the
# per-pair rates stay in the log.  It needs nested KVM and runs on the
# release kernel (KASAN/lockdep would inflate the tracker's own cost), which
# must already be built (make kernel); only the initramfs is rebuilt.
# HS_BENCH_ARGS passes options (default: 40 pairs of windows of at least 1 s,
# lengthened to two measured cycles so every "on" window holds a fine phase).
# The VM log is kept apart (MMV_VM_LOG) from other VMs' last-release.log.
echo "### hugescope tracking overhead (release kernel, nested NPT under TCG)"
[ -e "$MMV_BUILD/kernel-release/arch/x86/boot/bzImage" ] ||
	die "no release kernel (run: make kernel)"
make -s initramfs VARIANT=release
log=$MMV_BUILD/vm/hugescope-perf.log
MMV_VM_LOG=$log bash scripts/vm.sh --variant release --quiet --timeout 1500 --test-timeout 1200 \
	--run "/selftests/hugescope/hugescope_perf_test ${HS_BENCH_ARGS:--p 40}" >/dev/null ||
	die "hugescope perf VM run failed (log: $log)"
grep -a -E '^# (pinning|warm-up|reference loop|overhead:|result:|WARN:)' "$log" | sed 's/^# //'
