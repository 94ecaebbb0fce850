#!/usr/bin/env bash
# Patch-queue workflow.  A queue is patches/<dir>/series plus its patches; the
# working tree is build/<name>, a git repository whose first commit (tag
# "pristine") is the unpacked source and whose later commits are the queue,
# applied with 'git am'.  Edit there, commit, then export: the queue is always
# regenerated from git, never edited by hand.
#
#   tree.sh checkout linux|qemu   create or refresh build/<name> from the queue
#   tree.sh export   linux|qemu   write build/<name>'s commits back to the queue
#   tree.sh verify   linux|qemu   apply the committed queue to a scratch tree,
#                                 re-export it and require byte-identical files
set -euo pipefail
. "$(dirname "$0")/common.sh"

# MMV_QUEUE_DIR and MMV_FETCH (a fetch.sh stand-in) let the tooling
# self-test run this script on a small made-up tree.
queue_dir() {
	[ -z "${MMV_QUEUE_DIR:-}" ] || { echo "$MMV_QUEUE_DIR"; return; }
	case "$1" in
	linux) echo "$MMV_TOP/patches/linux-6.12" ;;
	qemu) echo "$MMV_TOP/patches/qemu-7.2" ;;
	*) die "unknown tree '$1' (linux|qemu)" ;;
	esac
}

series_list() {
	# Patch names in order; blank lines and '#' comments are allowed.
	sed -e 's/#.*//' -e 's/[[:space:]]*$//' "$1/series" | grep -v '^$' || true
}

queue_hash() {
	local q=$1
	{ cat "$q/series"; for p in $(series_list "$q"); do cat "$q/$p"; done; } | sha256sum | cut -d' ' -f1
}

# The source version fetch.sh resolves for tree $1 ("<package> <version>"),
# unpacked under build/src.
source_version() {
	"${MMV_FETCH:-$MMV_TOP/scripts/fetch.sh}" "$1" | tail -1
}

# Create a repository holding the pristine source as its only commit.  When
# build/<name> already holds the same pristine version, clone it (no second
# hashing of ~90,000 files): the verify scratch tree is made this way.
make_pristine_repo() {
	local name=$1 dst=$2 ver origin=$MMV_BUILD/$1
	ver=$(source_version "$name")
	rm -rf "$dst"
	if [ "$dst" != "$origin" ] && [ "$(pristine_version "$origin")" = "$ver" ]; then
		note "creating $dst (pristine $ver, cloned from $origin)"
		git clone -q --local --no-checkout "$origin" "$dst"
		# The clone has the tag pristine; it needs no link to its origin.
		(cd "$dst" && git checkout -q -B main pristine && git remote remove origin &&
			git config gc.auto 0)
		return
	fi
	note "creating $dst (pristine $ver)"
	cp -a --reflink=auto "$MMV_SRC/$name" "$dst"
	(
		cd "$dst"
		git init -q -b main .
		git config core.autocrlf false
		git config gc.auto 0
		# -f: the tarball's own .gitignore files must not hide shipped files.
		git add -A -f .
		GIT_AUTHOR_NAME="$GIT_COMMITTER_NAME" GIT_AUTHOR_EMAIL="$GIT_COMMITTER_EMAIL" \
		GIT_AUTHOR_DATE="$PRISTINE_DATE" GIT_COMMITTER_DATE="$PRISTINE_DATE" \
			git commit -q -m "pristine: $(cat .mmv-version)"
		git tag pristine
	)
}

# The source version the pristine commit of repository $1 holds, or nothing.
pristine_version() {
	[ -d "$1/.git" ] && (cd "$1" && git show pristine:.mmv-version 2>/dev/null) || true
}

apply_queue() {
	local q=$1 dst=$2 p n=0
	for p in $(series_list "$q"); do
		[ -f "$q/$p" ] || die "series names $p but $q/$p does not exist"
		if ! (cd "$dst" && git am -q --committer-date-is-author-date "$q/$p"); then
			(cd "$dst" && git am --abort) >/dev/null 2>&1 || true
			die "patch $p does not apply to $dst (queue $q)"
		fi
		n=$((n + 1))
	done
	note "applied $n patch(es) from $(basename "$q")"
}

# Write the commits pristine..HEAD of repository $1 into directory $2 as a
# queue.  --full-index: git shortens blob ids by a length it guesses from the
# repository's object count, which differs between a fresh tree (loose
# objects) and a clone (a pack); full ids export the same everywhere.
export_commits() {
	local repo=$1 out=$2 tmp f base
	tmp=$(mktemp -d)
	(cd "$repo" && git format-patch -q -N --zero-commit --no-signature --full-index \
		--stat=80 --stat-graph-width=20 -o "$tmp" pristine..HEAD) >/dev/null
	: > "$tmp/series.new"
	for f in $(cd "$tmp" && ls -- *.patch 2>/dev/null | sort); do
		base=${f#[0-9][0-9][0-9][0-9]-}
		[ -e "$tmp/$base.named" ] && die "two commits export to the same name $base; reword a subject"
		mv "$tmp/$f" "$tmp/$base.named"
		echo "$base" >> "$tmp/series.new"
	done
	mkdir -p "$out"
	for f in $(series_list "$out" 2>/dev/null); do rm -f "$out/$f"; done
	for f in $(cat "$tmp/series.new"); do mv "$tmp/$f.named" "$out/$f"; done
	mv "$tmp/series.new" "$out/series"
	rm -rf "$tmp"
	write_exported_on "$repo" "$out"
}

# The record verify needs to tell a moved base from a hand edit:
# the source the queue was exported against, and a checksum of each patch
# as normalize_patch gives it (what no base move can change).
write_exported_on() {
	local repo=$1 out=$2 f
	{
		echo "# Written by scripts/tree.sh export; never edit.  The source these patches"
		echo "# were exported against, and each patch's sha256 without its 'index' lines"
		echo "# and hunk positions (tree.sh verify: a moved base keeps these sums)."
		echo "base $(cd "$repo" && git show pristine:.mmv-version)"
		for f in $(series_list "$out"); do
			echo "sum $(normalize_patch "$out/$f" | sha256sum | cut -d' ' -f1) $f"
		done
	} > "$out/exported-on"
}

cmd_checkout() {
	local name=$1 q dst stamp want
	q=$(queue_dir "$name"); dst=$MMV_BUILD/$name; stamp=$dst/.git/mmv-queue
	want=$(queue_hash "$q")
	local ver
	ver=$(source_version "$name")
	if [ -d "$dst/.git" ] && [ "$(pristine_version "$dst")" != "$ver" ]; then
		# A new pin (or a fallback): the queue must go onto the new base.
		local work=""
		if [ -f "$stamp" ]; then
			read -r _ work < "$stamp"
			[ "$(cd "$dst" && git rev-parse HEAD)" = "$work" ] &&
				[ -z "$(cd "$dst" && git status --porcelain -uno)" ] && work=""
		fi
		[ -z "$work" ] || die "$dst is built on $(pristine_version "$dst"), the source is now $ver, and $dst has local work; export it (scripts/tree.sh export $name) or remove $dst"
		note "$dst was built on $(pristine_version "$dst"); re-creating it on $ver"
		rm -rf "$dst"
	fi
	if [ -d "$dst/.git" ] && [ -f "$stamp" ]; then
		local have_hash have_head
		read -r have_hash have_head < "$stamp"
		[ "$have_hash" = "$want" ] && { note "$dst is up to date with its queue"; return; }
		local head
		head=$(cd "$dst" && git rev-parse HEAD)
		if [ "$head" != "$have_head" ] || [ -n "$(cd "$dst" && git status --porcelain -uno)" ]; then
			die "$dst has local work and the queue changed; export it (scripts/tree.sh export $name) or remove $dst"
		fi
		note "queue changed: re-applying onto pristine"
		(cd "$dst" && git reset -q --hard pristine)
	else
		make_pristine_repo "$name" "$dst"
	fi
	apply_queue "$q" "$dst"
	echo "$want $(cd "$dst" && git rev-parse HEAD)" > "$stamp"
}

cmd_export() {
	local name=$1 q dst
	q=$(queue_dir "$name"); dst=$MMV_BUILD/$name
	[ -d "$dst/.git" ] || die "$dst is not checked out (scripts/tree.sh checkout $name)"
	[ -z "$(cd "$dst" && git status --porcelain -uno)" ] || die "$dst has uncommitted changes; commit them first"
	# New files a patch forgot: every shipped file is tracked, so anything
	# else is work.  Debian's linux .gitignore ignores the whole top level
	# ("/*"), so 'git add' and 'git commit -a' skip new files silently.
	local stray
	# (QEMU's configure writes .git-submodule-status into the source tree.)
	stray=$(cd "$dst" && git ls-files --others --directory |
		{ grep -vx '.git-submodule-status' || true; } | head -20)
	[ -z "$stray" ] || die "$dst has files no commit holds (add them with 'git add -f', or delete them):
$stray"
	export_commits "$dst" "$q"
	echo "$(queue_hash "$q") $(cd "$dst" && git rev-parse HEAD)" > "$dst/.git/mmv-queue"
	note "exported $(series_list "$q" | wc -l) patch(es) to $q"
}

# A patch as it would be without what only its base decides: the blob ids of
# its 'index' lines and the line numbers and function names of its hunk
# headers.  The line counts of each hunk stay: they are content.
normalize_patch() {
	sed -E -e '/^index [0-9a-f]+\.\.[0-9a-f]+( [0-7]+)?$/d' \
		-e 's/^@@ -[0-9]+(,[0-9]+)? \+[0-9]+(,[0-9]+)? @@.*$/@@ -\1 +\2 @@/' "$1"
}

cmd_verify() {
	local name=$1 q scratch out ver
	q=$(queue_dir "$name"); scratch=$MMV_BUILD/verify-$name; out=$(mktemp -d)
	[ -f "$q/series" ] || die "$q/series missing"
	ver=$(source_version "$name")
	# Reuse the scratch repository between runs: reset it to pristine.
	if [ "$(pristine_version "$scratch")" = "$ver" ]; then
		(cd "$scratch" && { git am --abort >/dev/null 2>&1 || true; } &&
			git reset -q --hard pristine && git clean -qfdx)
	else
		make_pristine_repo "$name" "$scratch"
	fi
	apply_queue "$q" "$scratch"
	export_commits "$scratch" "$out"
	[ -f "$q/exported-on" ] || die "$q/exported-on is missing: export the queue (scripts/tree.sh export $name)"
	local bad=0 moved=() f rec base
	base=$(sed -n 's/^base //p' "$q/exported-on")
	for f in series exported-on $(series_list "$q"); do
		cmp -s "$q/$f" "$out/$f" && continue
		if [ "$f" = exported-on ]; then
			# Differs when the base moved; its sums are checked below.
			[ "$base" != "$ver" ] && continue
			echo "verify: $q/exported-on differs from what git exports (hand-edited?):" >&2
			diff -u "$out/$f" "$q/$f" | head -20 >&2 || true
			bad=1; continue
		fi
		rec=$(awk -v f="$f" '$1 == "sum" && $3 == f { print $2 }' "$q/exported-on")
		if [ "$f" != series ] && [ "$base" != "$ver" ] && [ -f "$out/$f" ] &&
		   [ "$(normalize_patch "$q/$f" | sha256sum | cut -d' ' -f1)" = "$rec" ] &&
		   cmp -s <(normalize_patch "$q/$f") <(normalize_patch "$out/$f"); then
			moved+=("$f")
			continue
		fi
		echo "verify: $q/$f differs from what git exports (hand-edited patch?): its content changed, not only its base:" >&2
		diff -u "$out/$f" "$q/$f" | head -20 >&2 || true
		bad=1
	done
	for f in $(cd "$q" && ls -- *.patch 2>/dev/null); do
		series_list "$q" | grep -x "$f" >/dev/null || { echo "verify: $q/$f is not in series" >&2; bad=1; }
	done
	rm -rf "$out"
	[ $bad = 0 ] || die "patch queue $(basename "$q") does not re-export identically"
	if [ ${#moved[@]} -gt 0 ]; then
		note "queue $(basename "$q"): base moved: ${#moved[@]} patch(es) apply to ${ver#* } with the same content (checksums in exported-on), but were exported against ${base#* } (only 'index' lines and hunk positions differ): ${moved[*]}"
		note "to refresh them: scripts/tree.sh checkout $name && scripts/tree.sh export $name (README: Moving a pin)"
	fi
	local how=byte-identically
	[ ${#moved[@]} = 0 ] || how="with the same content"
	note "queue $(basename "$q"): $(series_list "$q" | wc -l) patch(es) apply to ${ver#* } and re-export $how"
}

[ $# = 2 ] || die "usage: $0 checkout|export|verify linux|qemu"
case "$1" in
checkout) cmd_checkout "$2" ;;
export) cmd_export "$2" ;;
verify) cmd_verify "$2" ;;
*) die "usage: $0 checkout|export|verify linux|qemu" ;;
esac
