# Shared settings for the project's scripts: pinned source versions, build
# directory layout and small helpers.  Sourced, never executed.
# shellcheck shell=bash

MMV_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MMV_BUILD=${MMV_BUILD:-$MMV_TOP/build}
MMV_SRC=$MMV_BUILD/src

# Pinned sources (Debian 12 packages).  Changing one of these is a deliberate
# act: the patch queues are written against exactly these trees (README,
# "Moving a pin").  MMV_LINUX_VERSION / MMV_QEMU_VERSION override them for
# one run: a version, or "newest" (the drift check, scripts/drift.sh).
LINUX_PKG=linux-source-6.12
LINUX_PKG_VERSION=${MMV_LINUX_VERSION:-6.12.117-1~deb12u1}
LINUX_TARBALL=/usr/src/linux-source-6.12.tar.xz
QEMU_SRC_PKG=${QEMU_SRC_PKG:-qemu}
QEMU_SRC_VERSION=${MMV_QEMU_VERSION:-1:7.2+dfsg-7+deb12u18}

# Fixed identity and dates for commits the scripts create, so that a queue
# applied twice gives byte-identical trees and exports.
export GIT_COMMITTER_NAME="mmvirt tree"
export GIT_COMMITTER_EMAIL="tree@mmvirt.invalid"
PRISTINE_DATE="2026-01-01T00:00:00+0000"

die() { echo "error: $*" >&2; exit 1; }
note() { echo ">> $*"; }
loud() {
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
	echo "!! $*" >&2
	echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
}

# Run a command holding the big-build lock, so that two kernel or QEMU builds
# (from make, a second shell, a second clone) never compete for the two cores.
# The lock is machine-wide by default for that reason.
MMV_LOCK=${MMV_LOCK:-/tmp/mmvirt-bigbuild.lock}
with_build_lock() {
	mkdir -p "$MMV_BUILD"
	flock "$MMV_LOCK" "$@"
}

# ccache keys on absolute paths unless told the base: with this a clone in
# another directory (CI's fresh clone) reuses objects built here.
export CCACHE_BASEDIR=$MMV_BUILD
