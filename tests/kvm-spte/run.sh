#!/usr/bin/env bash
# `make kvm-spte-check`: extract the SPTE code from the patched kernel tree
# (build/linux, checked out from the queue if missing), build
# spte_nx_check.c with it under ASan/UBSan and run it (TAP).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/scripts/common.sh"
tree=$MMV_BUILD/linux out=$MMV_BUILD/kvm-spte
[ -d "$tree/.git" ] || bash "$top/scripts/tree.sh" checkout linux >&2
sh "$top/tests/kvm-spte/gen.sh" "$tree" "$out"
gcc -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Wno-unused-function \
	-fsanitize=address,undefined -fno-sanitize-recover=all \
	-I"$out" -I"$top/tests/kvm-spte" -o "$out/spte_nx_check" "$top/tests/kvm-spte/spte_nx_check.c"
"$out/spte_nx_check"
