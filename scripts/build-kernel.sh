#!/usr/bin/env bash
# Build the patched guest kernel out of tree: build/kernel-release (tinyconfig
# + Kconfig.fragment) or build/kernel-debug (+ Kconfig.debug.fragment:
# DEBUG_VM, lockdep, KASAN).  Reconfigures when a fragment changes and fails
# if an option the fragments ask for did not survive olddefconfig.  Holds the
# big-build lock.  Usage: build-kernel.sh release|debug
set -euo pipefail
. "$(dirname "$0")/common.sh"

variant=${1:-}
case "$variant" in
release) frags=("$MMV_TOP/Kconfig.fragment") ;;
debug) frags=("$MMV_TOP/Kconfig.fragment" "$MMV_TOP/Kconfig.debug.fragment") ;;
*) die "usage: $0 release|debug" ;;
esac
# MMV_LINUX_SRC / MMV_KERNEL_OUT let a second worktree (e.g. a feature branch
# made with `git worktree add`) build into its own directory.
src=${MMV_LINUX_SRC:-$MMV_BUILD/linux} out=${MMV_KERNEL_OUT:-$MMV_BUILD/kernel-$variant}
[ -n "${MMV_LINUX_SRC:-}" ] || "$MMV_TOP/scripts/tree.sh" checkout linux
export KBUILD_BUILD_USER=mmvirt KBUILD_BUILD_HOST=build
kmake() { make -s -C "$src" O="$out" CC="ccache gcc" HOSTCC="ccache gcc" "$@"; }

configure() {
	local want
	want=$(cat "${frags[@]}" | sha256sum | cut -d' ' -f1)
	[ -f "$out/.config" ] && [ "$(cat "$out/.mmv-frags" 2>/dev/null)" = "$want" ] && return
	note "configuring $out (tinyconfig + $(basename -a "${frags[@]}" | tr '\n' ' '))"
	mkdir -p "$out"
	kmake tinyconfig >/dev/null
	(cd "$out" && KCONFIG_CONFIG=.config "$src/scripts/kconfig/merge_config.sh" -m -O "$out" .config "${frags[@]}" >/dev/null)
	kmake olddefconfig >/dev/null
	# merge_config only warns; a silently dropped option would test the wrong kernel.
	local line sym val got bad=0
	while read -r line; do
		case "$line" in CONFIG_*=*) ;; *) continue ;; esac
		sym=${line%%=*}; val=${line#*=}
		got=$(grep -E "^$sym=|^# $sym is not set" "$out/.config" || true)
		if [ "$val" = n ]; then
			case "$got" in "$sym="*) echo "  $sym=n requested, got '$got'" >&2; bad=1 ;; esac
		elif [ "$got" != "$sym=$val" ]; then
			echo "  $sym=$val requested, got '${got:-unset}'" >&2; bad=1
		fi
	done < <(cat "${frags[@]}")
	[ $bad = 0 ] || die "kernel config for $variant lost options above (missing dependency?)"
	echo "$want" > "$out/.mmv-frags"
}

build() {
	configure
	note "building kernel-$variant (bzImage, modules; log: $out/build.log)"
	if ! kmake -j"$(( $(nproc) + 1 ))" bzImage modules > "$out/build.log" 2>&1; then
		grep -E 'error|Error' "$out/build.log" | head -30 >&2
		die "kernel-$variant build failed (full log: $out/build.log)"
	fi
	note "built $out/arch/x86/boot/bzImage"
}

with_build_lock bash -c "$(declare -f note die kmake configure build); set -euo pipefail; \
	src='$src' out='$out' variant='$variant' frags=(${frags[*]}); build"
