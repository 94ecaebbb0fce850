#!/usr/bin/env bash
# Configure (once) and build the patched QEMU x86_64 system emulator out of
# tree in build/qemu-build, from the git tree build/qemu (checked out from the
# queue if missing).  TCG and plugins on; GUI, USB, Xen and firmware install
# off.  The project's lib/ is on the include path: the LPT MMU compiles
# lib/lpt's reference walker unchanged.  A change of the configure options
# (this file) reconfigures from scratch.  Holds the big-build lock.
set -euo pipefail
. "$(dirname "$0")/common.sh"

src=$MMV_BUILD/qemu out=$MMV_BUILD/qemu-build lib=$MMV_TOP/lib
[ -d "$src/.git" ] || "$MMV_TOP/scripts/tree.sh" checkout qemu

build() {
	local args=(--target-list=x86_64-softmmu --extra-cflags="-I$lib" \
			--disable-docs --disable-werror --disable-install-blobs \
			--enable-tcg --enable-plugins --enable-slirp --disable-gtk \
			--disable-sdl --disable-vnc --disable-opengl --disable-spice \
			--disable-libusb --disable-usb-redir --disable-xen \
			--disable-capstone --disable-curses --disable-brlapi \
			--disable-virglrenderer --disable-smartcard --disable-gnutls \
			--disable-nettle --disable-gcrypt --disable-libssh \
			--disable-rbd --disable-glusterfs --disable-libiscsi \
			--disable-libnfs --disable-vde --disable-alsa --disable-pa \
			--disable-jack --disable-oss --disable-sndio --disable-fuse)
	if [ -f "$out/build.ninja" ] &&
	   [ "$(cat "$out/mmv-configure.args" 2>/dev/null)" != "${args[*]}" ]; then
		note "configure options changed: reconfiguring $out from scratch"
		rm -rf "$out"
	fi
	if [ ! -f "$out/build.ninja" ]; then
		note "configuring QEMU in $out"
		mkdir -p "$out"
		(cd "$out" && "$src/configure" "${args[@]}" \
			> "$out/configure.log" 2>&1) ||
			{ tail -30 "$out/configure.log" >&2; die "QEMU configure failed (full log: $out/configure.log)"; }
		echo "${args[*]}" > "$out/mmv-configure.args"
	fi
	note "building qemu-system-x86_64 (log: $out/ninja.log)"
	if ! ninja -C "$out" qemu-system-x86_64 > "$out/ninja.log" 2>&1; then
		grep -E 'error|Error' "$out/ninja.log" | head -30 >&2
		die "QEMU build failed (full log: $out/ninja.log)"
	fi
	note "built $out/qemu-system-x86_64"
}

with_build_lock bash -c "$(declare -f note die build); src='$src' out='$out' lib='$lib' build"
