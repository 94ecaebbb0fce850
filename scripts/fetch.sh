#!/usr/bin/env bash
# Unpack the pinned Linux and QEMU sources under build/src/.  Linux comes from
# the linux-source-6.12 binary package, QEMU from Debian's qemu source package
# (so Debian's stable-update patches are applied).  Usage: fetch.sh linux|qemu
set -euo pipefail
. "$(dirname "$0")/common.sh"

fetch_linux() {
	local dst=$MMV_SRC/linux
	[ -f "$dst/.mmv-version" ] && { cat "$dst/.mmv-version"; return; }
	local have
	have=$(dpkg-query -W -f='${Version}' "$LINUX_PKG" 2>/dev/null) ||
		die "package $LINUX_PKG is not installed (run: make deps)"
	[ -f "$LINUX_TARBALL" ] || die "$LINUX_TARBALL missing although $LINUX_PKG is installed; reinstall it"
	if [ "$have" != "$LINUX_PKG_VERSION" ]; then
		loud "Linux source is $LINUX_PKG $have, not the pinned $LINUX_PKG_VERSION. Patches may not apply; update LINUX_PKG_VERSION in scripts/common.sh once verified."
	fi
	note "unpacking $LINUX_TARBALL ($have)"
	rm -rf "$dst.tmp" && mkdir -p "$dst.tmp"
	tar -C "$dst.tmp" --strip-components=1 -xf "$LINUX_TARBALL"
	echo "$LINUX_PKG $have" > "$dst.tmp/.mmv-version"
	rm -rf "$dst" && mv "$dst.tmp" "$dst"
	cat "$dst/.mmv-version"
}

fetch_qemu() {
	local dst=$MMV_SRC/qemu
	[ -f "$dst/.mmv-version" ] && { cat "$dst/.mmv-version"; return; }
	local dl=$MMV_SRC/qemu-dl ver=$QEMU_SRC_VERSION
	mkdir -p "$dl"
	# Capture first: 'apt-cache | grep -q' under pipefail fails at random
	# when grep exits early and apt-cache dies of SIGPIPE.
	local versions
	versions=$(apt-cache showsrc "$QEMU_SRC_PKG" 2>/dev/null | sed -n 's/^Version: //p' || true)
	if ! printf '%s\n' "$versions" | grep -qx "$ver"; then
		[ -n "$versions" ] ||
			die "source package $QEMU_SRC_PKG is not available from apt (no deb-src entry? run: make deps, which adds it and runs apt-get update)"
		ver=$(printf '%s\n' "$versions" | grep '^1:7\.2+' | sort -V | tail -1)
		[ -n "$ver" ] || die "no QEMU 7.2 source package available from Debian"
		loud "QEMU source $QEMU_SRC_VERSION is gone; using $ver. Verify the patch queue."
	fi
	note "downloading source package $QEMU_SRC_PKG=$ver"
	(cd "$dl" && apt-get source -qq --download-only "$QEMU_SRC_PKG=$ver" >/dev/null 2>&1) ||
		die "apt-get source $QEMU_SRC_PKG=$ver failed"
	local dsc
	dsc=$(ls "$dl"/qemu_*.dsc 2>/dev/null | head -1)
	[ -n "$dsc" ] || die "no .dsc downloaded for $QEMU_SRC_PKG=$ver"
	rm -rf "$dst.tmp"
	note "dpkg-source -x $(basename "$dsc")"
	dpkg-source -q -x "$dsc" "$dst.tmp" >/dev/null || die "dpkg-source failed on $dsc"
	echo "$QEMU_SRC_PKG $ver" > "$dst.tmp/.mmv-version"
	rm -rf "$dst" && mv "$dst.tmp" "$dst"
	cat "$dst/.mmv-version"
}

case "${1:-}" in
linux) fetch_linux ;;
qemu) fetch_qemu ;;
*) die "usage: $0 linux|qemu" ;;
esac
