#!/usr/bin/env bash
# Install every host package the project needs (build tools, kernel and QEMU
# build dependencies, firmware for the emulated machine, test tooling) and the
# deb-src entry needed to fetch the pinned QEMU source package.  Idempotent:
# a second run only checks.  Must run as root on Debian 12 (bookworm).
set -euo pipefail

PKGS=(build-essential bc bison flex libelf-dev libssl-dev cpio dwarves ccache
      busybox-static ninja-build meson python3-venv libglib2.0-dev
      libpixman-1-dev libslirp-dev libfdt-dev dpkg-dev pkg-config
      linux-source-6.12 qemu-system-data seabios clang llvm lld
      python3 python3-ply python3-git git xz-utils zstd perl codespell file util-linux)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

srcfile=/etc/apt/sources.list.d/mmvirt-deb-src.sources
need_update=0
if [ ! -f "$srcfile" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: need root to add $srcfile" >&2; exit 1
	fi
	# Same mirrors and suites as the binary entries, deb-src type, so that
	# 'apt-get source qemu' finds the Debian 12 stable-update package.
	cat > "$srcfile" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	need_update=1
fi

if [ ${#missing[@]} -eq 0 ] && [ $need_update = 0 ]; then
	echo "deps: all ${#PKGS[@]} packages present"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages (need root): ${missing[*]}" >&2; exit 1
fi
echo "deps: apt-get update"
apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "deps: done"
