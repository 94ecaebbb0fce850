#!/usr/bin/env bash
# Unpack the pinned Linux and QEMU sources under build/src/.  Linux comes from
# the linux-source-6.12 binary package, downloaded at the pinned version into
# build/src/dl (never installed, so whatever linux-source the machine has
# installed does not matter); QEMU from Debian's qemu source package (so
# Debian's stable-update patches are applied).  A pinned version gone from the
# archive falls back to the newest one there, with a loud banner.
# MMV_LINUX_VERSION / MMV_QEMU_VERSION=newest ask for the newest on purpose
# (the drift check, scripts/drift.sh).
#
# Usage: fetch.sh linux|qemu           unpack (or reuse) the source, print its version
#        fetch.sh resolve linux|qemu   only print the version fetch would use
set -euo pipefail
. "$(dirname "$0")/common.sh"

# Versions the archive offers, one a line, newest first.
linux_versions() {
	apt-cache madison "$LINUX_PKG" 2>/dev/null |
		awk -F'|' '{ gsub(/ /, "", $2); if ($2 != "") print $2 }' | sort -rV -u || true
}
qemu_versions() {
	# Capture first: 'apt-cache | grep -q' under pipefail fails at random
	# when grep exits early and apt-cache dies of SIGPIPE.
	local all
	all=$(apt-cache showsrc "$QEMU_SRC_PKG" 2>/dev/null | sed -n 's/^Version: //p' || true)
	printf '%s\n' "$all" | { grep '^1:7\.2+' || true; } | sort -rV -u
}

# pick NAME PIN VERSIONS: the pin if the archive has it, else the newest
# (loudly, unless the newest was asked for).
pick() {
	local name=$1 pin=$2 versions=$3 newest
	newest=$(printf '%s\n' "$versions" | head -1)
	if [ "$pin" = newest ]; then
		[ -n "$newest" ] || return 1
		note "$name: newest in the archive is $newest (asked for the newest)" >&2
		echo "$newest"
	elif printf '%s\n' "$versions" | grep -qxF -- "$pin"; then
		echo "$pin"
	elif [ -n "$newest" ]; then
		loud "$name $pin (the pin in scripts/common.sh) is gone from the archive; using the newest, $newest. Check the queue on it (make drift) and move the pin (README: Moving a pin)."
		echo "$newest"
	else
		return 1
	fi
}

resolve_linux() {
	local have
	pick "$LINUX_PKG" "$LINUX_PKG_VERSION" "$(linux_versions)" && return
	# No apt data at all (offline, no lists): the installed tarball, if any.
	have=$(dpkg-query -W -f='${Version}' "$LINUX_PKG" 2>/dev/null || true)
	[ -n "$have" ] && [ -f "$LINUX_TARBALL" ] ||
		die "apt knows no version of $LINUX_PKG (run: apt-get update) and none is installed"
	loud "apt knows no version of $LINUX_PKG; using the installed $have, not the pin $LINUX_PKG_VERSION"
	echo "$have"
}

resolve_qemu() {
	local versions
	versions=$(qemu_versions)
	[ -n "$versions" ] ||
		die "source package $QEMU_SRC_PKG is not available from apt (no deb-src entry? run: make deps, which adds it and runs apt-get update)"
	pick "QEMU source $QEMU_SRC_PKG" "$QEMU_SRC_VERSION" "$versions" ||
		die "no QEMU 7.2 source package available from Debian"
}

# The linux-source tarball of version $1: the installed one when it is that
# version, else extracted from the package, downloaded once into build/src/dl.
linux_tarball() {
	local ver=$1 dl=$MMV_SRC/dl deb f
	if [ "$(dpkg-query -W -f='${Version}' "$LINUX_PKG" 2>/dev/null || true)" = "$ver" ] &&
	   [ -f "$LINUX_TARBALL" ]; then
		echo "$LINUX_TARBALL"; return
	fi
	mkdir -p "$dl"
	for f in "$dl/${LINUX_PKG}"_*.deb; do
		[ -f "$f" ] && [ "$(dpkg-deb -f "$f" Version 2>/dev/null)" = "$ver" ] && deb=$f
	done
	if [ -z "${deb:-}" ]; then
		note "downloading $LINUX_PKG=$ver" >&2
		# Root downloads unsandboxed (apt warns about user _apt): quiet it.
		(cd "$dl" && apt-get download -qq "$LINUX_PKG=$ver" >/dev/null 2>"$dl/apt.err") ||
			die "apt-get download $LINUX_PKG=$ver failed: $(tail -3 "$dl/apt.err")"
		for f in "$dl/${LINUX_PKG}"_*.deb; do
			[ -f "$f" ] && [ "$(dpkg-deb -f "$f" Version 2>/dev/null)" = "$ver" ] && deb=$f
		done
		[ -n "${deb:-}" ] || die "apt-get download $LINUX_PKG=$ver left no package in $dl"
	fi
	f=$dl/linux-source-$ver.tar.xz
	if [ ! -f "$f" ]; then
		dpkg-deb --fsys-tarfile "$deb" | tar -xO ".$LINUX_TARBALL" > "$f.tmp" ||
			die "$deb holds no $LINUX_TARBALL"
		mv "$f.tmp" "$f"
	fi
	echo "$f"
}

fetch_linux() {
	local dst=$MMV_SRC/linux ver tarball
	ver=$(resolve_linux)
	[ "$(cat "$dst/.mmv-version" 2>/dev/null)" = "$LINUX_PKG $ver" ] && { cat "$dst/.mmv-version"; return; }
	tarball=$(linux_tarball "$ver")
	note "unpacking $tarball ($ver)" >&2
	rm -rf "$dst.tmp" && mkdir -p "$dst.tmp"
	tar -C "$dst.tmp" --strip-components=1 -xf "$tarball"
	echo "$LINUX_PKG $ver" > "$dst.tmp/.mmv-version"
	rm -rf "$dst" && mv "$dst.tmp" "$dst"
	cat "$dst/.mmv-version"
}

fetch_qemu() {
	local dst=$MMV_SRC/qemu dl=$MMV_SRC/qemu-dl ver dsc
	ver=$(resolve_qemu)
	[ "$(cat "$dst/.mmv-version" 2>/dev/null)" = "$QEMU_SRC_PKG $ver" ] && { cat "$dst/.mmv-version"; return; }
	rm -rf "$dl" && mkdir -p "$dl"
	note "downloading source package $QEMU_SRC_PKG=$ver" >&2
	(cd "$dl" && apt-get source -qq --download-only "$QEMU_SRC_PKG=$ver" >/dev/null 2>&1) ||
		die "apt-get source $QEMU_SRC_PKG=$ver failed"
	dsc=$(ls "$dl"/qemu_*.dsc 2>/dev/null | head -1)
	[ -n "$dsc" ] || die "no .dsc downloaded for $QEMU_SRC_PKG=$ver"
	rm -rf "$dst.tmp"
	note "dpkg-source -x $(basename "$dsc")" >&2
	dpkg-source -q -x "$dsc" "$dst.tmp" >/dev/null || die "dpkg-source failed on $dsc"
	echo "$QEMU_SRC_PKG $ver" > "$dst.tmp/.mmv-version"
	rm -rf "$dst" && mv "$dst.tmp" "$dst"
	cat "$dst/.mmv-version"
}

case "${1:-} ${2:-}" in
"linux ") fetch_linux ;;
"qemu ") fetch_qemu ;;
"resolve linux") resolve_linux ;;
"resolve qemu") resolve_qemu ;;
*) die "usage: $0 linux|qemu, or $0 resolve linux|qemu" ;;
esac
