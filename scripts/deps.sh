#!/usr/bin/env bash
# Install every host package the project needs (build tools, kernel and QEMU
# build dependencies, firmware for the emulated machine, test tooling) at the
# versions pinned in scripts/packages.lock, and the deb-src entry needed to
# fetch the pinned QEMU source package.  Idempotent: a second run only checks.
# Must run as root on Debian 12 (bookworm).  --lock rewrites the pins from
# the installed versions.
set -euo pipefail

lock=$(dirname "$0")/packages.lock
# "name version" lines; '#' comments.
mapfile -t LOCKED < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$lock")
[ ${#LOCKED[@]} -gt 0 ] || { echo "deps: $lock lists no packages" >&2; exit 1; }

installed_version() { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null |
	sed -n 's/^install ok installed //p'; }

if [ "${1:-}" = --lock ]; then
	# Rewrite the pins from what is installed now (after checking a new set).
	tmp=$(mktemp)
	sed -n '/^#/p' "$lock" > "$tmp"
	for e in "${LOCKED[@]}"; do
		read -r name _ <<< "$e"
		v=$(installed_version "$name")
		[ -n "$v" ] || { echo "deps --lock: $name is not installed" >&2; rm -f "$tmp"; exit 1; }
		printf '%-20s %s\n' "$name" "$v" >> "$tmp"
	done
	mv "$tmp" "$lock"
	echo "deps: wrote ${#LOCKED[@]} pins to $lock"
	exit 0
fi

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

# Packages not at their pin: "name=pin", or "name" with a banner when the
# archive no longer has the pin.
todo=() gone=()
check_pins() {
	local e name pin have avail
	todo=() gone=()
	for e in "${LOCKED[@]}"; do
		read -r name pin <<< "$e"
		have=$(installed_version "$name")
		[ "$have" = "$pin" ] && continue
		avail=$(apt-cache madison "$name" 2>/dev/null | awk -F'|' '{ gsub(/ /, "", $2); print $2 }')
		if printf '%s\n' "$avail" | grep -qxF -- "$pin"; then
			todo+=("$name=$pin")
		elif [ -n "$have" ]; then
			gone+=("$name $pin (keeping the installed $have)")
		else
			todo+=("$name"); gone+=("$name $pin (installing the archive's version)")
		fi
	done
}
check_pins
if [ ${#todo[@]} -gt 0 ] && [ $need_update = 0 ] && [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
	:	# fresh package lists: the pins were judged against them
elif [ ${#todo[@]} -gt 0 ] || [ $need_update = 1 ]; then
	[ "$(id -u)" = 0 ] || { echo "deps: packages not at their pins (need root): ${todo[*]}" >&2; exit 1; }
	echo "deps: apt-get update"
	apt-get update -qq
	check_pins
fi
if [ ${#gone[@]} -gt 0 ]; then
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
	echo "!! deps: pins gone from the archive (scripts/packages.lock):" >&2
	printf '!!   %s\n' "${gone[@]}" >&2
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
fi
if [ ${#todo[@]} -eq 0 ]; then
	echo "deps: all ${#LOCKED[@]} packages present at their pins${gone[*]:+ (but see above)}"
	exit 0
fi
[ "$(id -u)" = 0 ] || { echo "deps: packages not at their pins (need root): ${todo[*]}" >&2; exit 1; }
echo "deps: installing ${todo[*]}"
if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		--allow-downgrades "${todo[@]}" >/dev/null; then
	# A pinned set apt cannot resolve (a dependency moved on): the archive's
	# versions are better than no packages.
	echo "!! deps: apt could not install the pinned set; installing the archive's versions" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${todo[@]%%=*}" >/dev/null
fi
echo "deps: done"
