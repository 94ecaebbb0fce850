#!/bin/sh
# Extract, from a patched kernel tree, the code tests/kvm-spte checks:
# spte.c's SPTE helpers (mark_spte_for_access_track() down to the line
# before make_nonleaf_spte()) into spte_funcs.c, and the statement of
# tdp_mmu_hs_make_huge_spte() that builds the merged 2M leaf into
# merge_leaf.inc.  The code under test is thus the tree's, never a copy.
# Usage: gen.sh LINUX_TREE OUTDIR
set -eu
tree=$1 out=$2
spte=$tree/arch/x86/kvm/mmu/spte.c tdp=$tree/arch/x86/kvm/mmu/tdp_mmu.c
mkdir -p "$out"
{
	awk '/^u64 mark_spte_for_access_track\(u64 spte\)/,/^}/' "$spte" |
		sed 's/^u64 mark_spte/static u64 mark_spte/'
	awk '/^static u64 modify_spte_protections/,/^u64 make_nonleaf_spte/' "$spte" | sed '$d' |
		sed 's/^u64 make_/static u64 make_/'
} > "$out/spte_funcs.c"
grep -q 'make_huge_spte' "$out/spte_funcs.c" || { echo "gen.sh: no make_huge_spte() in $spte" >&2; exit 1; }
awk '/^static int tdp_mmu_hs_make_huge_spte\(/,/^}/' "$tdp" |
	awk '/\*huge_spte = /,/;[[:space:]]*$/' > "$out/merge_leaf.inc"
[ -s "$out/merge_leaf.inc" ] || { echo "gen.sh: no '*huge_spte = ' statement in tdp_mmu_hs_make_huge_spte() of $tdp" >&2; exit 1; }
