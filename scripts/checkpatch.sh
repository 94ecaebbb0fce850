#!/usr/bin/env bash
# checkpatch.pl --strict over the kernel patch queue and over the project's
# kernel-side sources (modules/, and the shared cores in lib/ and include/
# that are compiled into modules).  One TAP line per patch or file.
set -uo pipefail
. "$(dirname "$0")/common.sh"
cd "$MMV_TOP"

cp_pl=$MMV_BUILD/linux/scripts/checkpatch.pl
[ -f "$cp_pl" ] || { "$MMV_TOP/scripts/tree.sh" checkout linux >/dev/null || exit 1; }
# checkpatch runs scripts/spdxcheck.py through "env python3": use Debian's
# python3, which has python3-ply, not a pyenv or venv one earlier in PATH.
export PATH=/usr/bin:$PATH
fail=0 n=0
run() {	# label, checkpatch args...
	local label=$1 out
	shift
	n=$((n + 1))
	if out=$(perl "$cp_pl" --strict --quiet --no-summary --show-types "$@" 2>&1) && [ -z "$out" ]; then
		echo "ok - checkpatch: $label"
	else
		echo "not ok - checkpatch: $label"
		printf '%s\n' "$out" | head -30 | sed 's/^/#   /'
		fail=1
	fi
}
# Types that do not apply to code living outside the kernel tree.
ignore=FILE_PATH_CHANGES,SPDX_LICENSE_TAG
# GIT_DIR: checkpatch looks up the commit ids a patch names (Fixes: tags)
# with git in the current directory; they are commits of build/linux.
for p in $(sed -e 's/#.*//' patches/linux-6.12/series | grep -v '^[[:space:]]*$'); do
	GIT_DIR=$MMV_BUILD/linux/.git run "$p" --root="$MMV_BUILD/linux" "$MMV_TOP/patches/linux-6.12/$p"
done
while IFS= read -r -d '' f; do
	run "$f" --no-tree --ignore "$ignore" -f "$f"
done < <(find modules tests/tooling/splat -type f \( -name '*.c' -o -name '*.h' \) ! -name '*.mod.c' -print0 2>/dev/null | sort -z)
# The shared cores compile unchanged into QEMU and user-space tools too, so
# they use <stdint.h> types through their seam headers, not u64 and friends,
# and spell bits out where BIT_ULL() does not exist.  The MSR ABI tables
# (lib/*/*_msr.h) are X-macro lists that only QEMU and the guest tools
# include, never the kernel, so the kernel's macro rules do not apply.
# The far-memory library (lib/farmem, include/farmem) is user-space C11
# (_Atomic, pthreads) that no kernel code includes: not checked here.
while IFS= read -r -d '' f; do
	run "$f" --no-tree --ignore "$ignore,PREFER_KERNEL_TYPES,BIT_MACRO" -f "$f"
done < <(find lib include -type f \( -name '*.c' -o -name '*.h' \) ! -name '*_msr.h' \
	! -path '*/farmem/*' -print0 2>/dev/null | sort -z)
[ $n -gt 0 ] || echo "ok - checkpatch: nothing to check yet"
exit $fail
