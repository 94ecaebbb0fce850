#!/usr/bin/env bash
# Build the guest's base initramfs: busybox-static, the init script, every
# selftest under build/selftests/, guest tools under build/guest-tools/, the
# project's modules for the given kernel variant, and host programs named in
# GUEST_PROGS (copied with their shared libraries and the dynamic loader, so
# unmodified Debian programs run in the guest) plus paths in GUEST_FILES.
# Busybox's shell runs its own applets ahead of PATH, so a shell command in the
# guest must name such a program by full path (/usr/bin/sort); exec-based
# launchers such as walkstat search PATH, where /usr/bin comes first.
# Usage: mkinitramfs.sh release|debug   -> build/vm/initramfs-<variant>.cpio.gz
# (MMV_INITRAMFS_OUT and MMV_MODULES_DIR override the output and module paths.)
set -euo pipefail
. "$(dirname "$0")/common.sh"

variant=${1:-}
case "$variant" in release|debug) ;; *) die "usage: $0 release|debug" ;; esac
out=${MMV_INITRAMFS_OUT:-$MMV_BUILD/vm/initramfs-$variant.cpio.gz}
modules_dir=${MMV_MODULES_DIR:-$MMV_BUILD/modules-$variant}
root=$(mktemp -d "$MMV_BUILD/vm-root.XXXXXX")
trap 'rm -rf "$root"' EXIT

bb=$(command -v busybox || true)
[ -n "$bb" ] && file -L "$bb" | grep -q 'statically linked' ||
	bb=/bin/busybox
file -L "$bb" | grep -q 'statically linked' || die "need a static busybox (apt-get install busybox-static)"

mkdir -p "$root"/{bin,sbin,etc/mmv,proc,sys,dev,tmp,run,selftests,usr/local/bin,lib/modules/extra,root}
cp "$bb" "$root/bin/busybox"
# The applet links must exist before /init (a #!/bin/sh script) can start.
for applet in $("$bb" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
cp "$MMV_TOP/scripts/guest/init" "$root/init"
chmod +x "$root/init"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"

[ -d "$MMV_BUILD/selftests" ] && cp -a "$MMV_BUILD/selftests/." "$root/selftests/"
[ -d "$MMV_BUILD/guest-tools" ] && cp -a "$MMV_BUILD/guest-tools/." "$root/usr/local/bin/"
if [ -d "$modules_dir" ]; then
	find "$modules_dir" -name '*.ko' -exec cp {} "$root/lib/modules/extra/" \;
fi

copy_with_libs() {
	local f=$1 lib
	mkdir -p "$root$(dirname "$f")"
	cp -L "$f" "$root$f"
	# ldd prints "name => /path (addr)" and the loader as "/lib64/ld-... (addr)".
	for lib in $(ldd "$f" 2>/dev/null | grep -oE '/[^ ]+' || true); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
for p in ${GUEST_PROGS:-}; do
	path=$(command -v "$p" || true)
	[ -n "$path" ] || die "GUEST_PROGS names '$p', which is not installed on the host"
	copy_with_libs "$(readlink -f "$path")"
	[ "$(readlink -f "$path")" = "$path" ] || { mkdir -p "$root$(dirname "$path")"; ln -sf "$(readlink -f "$path")" "$root$path"; }
done
for f in ${GUEST_FILES:-}; do
	[ -e "$f" ] || die "GUEST_FILES names '$f', which does not exist"
	mkdir -p "$root$(dirname "$f")"
	cp -a "$f" "$root$f"
done

mkdir -p "$(dirname "$out")"
(cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc --quiet -R 0:0) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
note "initramfs $out ($(du -h "$out" | cut -f1)): $(find "$root/selftests" -type f | wc -l) selftest file(s), $(ls "$root/lib/modules/extra" | wc -l) module(s), progs: ${GUEST_PROGS:-none}"
