#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lint the pkernfs sources; exits non-zero if anything is reported:
#  - checkpatch --strict on fs/pkernfs, include/linux/pkernfs.h and patches/;
#  - kernel-doc -Wall on the same sources, and a kernel-doc comment on every
#    non-static function;
#  - sparse (C=2) and W=1 over fs/pkernfs/ in build/linux, which must be
#    configured ('make kernel'); any warning in our files fails;
#  - the same over the kernel files patches/ changes, where a warning fails
#    only on a line the patches add or change;
#  - Documentation/filesystems/pkernfs.rst through docutils.

set -eu

. "$(dirname "$0")/common.sh"

logs="$build/logs"
our_files_re='^(fs/pkernfs/|include/linux/pkernfs\.h)[^:]*:[0-9]+:([0-9]+:)? (warning|error)'

checkpatch()
{
	perl "$ksrc/scripts/checkpatch.pl" --strict --no-tree --quiet --color=never \
		--show-types "$@"
}

lint_checkpatch()
{
	local files=$1 patches rc=0

	patches=$(ls patches/*.patch 2>/dev/null || true)
	say LINT "checkpatch -f $(echo "$files" | wc -w) source file(s)"
	# shellcheck disable=SC2086
	checkpatch -f $files || rc=1
	if [ -n "$patches" ]; then
		say LINT "checkpatch $(echo "$patches" | wc -w) patch(es)"
		# checkpatch reads any file git tracks as a source file (as
		# with -f); hide the repository so patches are read as patches.
		# shellcheck disable=SC2086
		GIT_DIR=/nonexistent checkpatch $patches || rc=1
	else
		say SKIP "lint: no patches/*.patch yet"
	fi
	return "$rc"
}

# kdoc_missing FILE...: non-static functions without a kernel-doc comment
# right above their definition.
kdoc_missing()
{
	awk '
	/^\/\*\*/ { indoc = 1; doc = 0 }
	indoc && /\*\// { indoc = 0; doc = 1; next }
	indoc { next }
	/^[a-z_].*\(/ && !/^static/ && !/;[ \t]*$/ {
		sig = $0
		start = FNR
		hasdoc = doc
		while (sig !~ /\)[ \t]*$/ && (getline line) > 0)
			sig = sig " " line
		if ((getline line) > 0 && line ~ /^\{/ && !hasdoc)
			printf("%s:%d: warning: no kernel-doc for %s\n",
			       FILENAME, start, sig)
		doc = 0
		next
	}
	!/^[ \t]*$/ { doc = 0 }
	' "$@"
}

lint_kerneldoc()
{
	local files=$1 out

	say LINT "kernel-doc -Wall"
	# shellcheck disable=SC2086
	out=$({ perl "$ksrc/scripts/kernel-doc" -none -Wall $files 2>&1
		kdoc_missing $(echo "$files" | tr ' ' '\n' | grep '\.c$'); } |
		sed 's/^/    /')
	[ -z "$out" ] && return 0
	echo "$out"
	return 1
}

# lint_build: sparse and W=1.  The objects are removed first, so that W=1
# recompiles them even when a previous lint left them up to date; the next
# normal build recompiles them once more, with the normal flags.
lint_build()
{
	local log="$logs/lint-build.log" rc=0 out

	[ -f "$ksrc/.config" ] && [ -f "$ksrc/include/generated/autoconf.h" ] ||
		die "build/linux is not configured: run 'make kernel'"
	command -v sparse >/dev/null || die "sparse missing: run scripts/deps.sh"
	mkdir -p "$logs"
	kbuild_lock
	rm -f "$ksrc"/fs/pkernfs/*.o
	say LINT "sparse (C=2) and W=1 over fs/pkernfs/"
	kmake C=2 W=1 fs/pkernfs/ >"$log" 2>&1 || rc=$?
	exec 9>&-
	if [ "$rc" -ne 0 ]; then
		tail -n 30 "$log" | sed 's/^/    /'
		say LINT "build failed, see build/logs/lint-build.log"
		return 1
	fi
	out=$(grep -E "$our_files_re" "$log" || true)
	[ -z "$out" ] && return 0
	echo "$out" | sed 's/^/    /'
	return 1
}

# patched_files: the kernel files patches/ changes, one per line.
patched_files()
{
	grep -h '^+++ b/' patches/*.patch 2>/dev/null | sed 's|^+++ b/||' |
		sort -u
}

# changed_lines DIR FILE: the line numbers of build/linux/FILE that differ
# from FILE as released, whose copy is in DIR, as FILE:LINE lines.
changed_lines()
{
	diff --unchanged-line-format= --old-line-format= \
		--new-line-format="$2:%dn"$'\n' "$1/$2" "$ksrc/$2" || true
}

# lint_patched: sparse and W=1 over the kernel files patches/ changes.
# Upstream code has warnings of its own; only those on lines the patches
# add or change count.
lint_patched()
{
	local log="$logs/lint-patched.log" rc=0 out files objs tmp

	files=$(patched_files)
	[ -n "$files" ] || return 0
	objs=$(echo "$files" | sed -n 's/\.c$/.o/p')
	tmp=$(mktemp -d)
	# shellcheck disable=SC2046
	tar -xJf "$ktarball" -C "$tmp" --strip-components=1 \
		$(echo "$files" | sed 's|^|linux-source-6.12/|') ||
		die "cannot read the released files from $ktarball"
	kbuild_lock
	# shellcheck disable=SC2086
	(cd "$ksrc" && rm -f $objs)
	say LINT "sparse (C=2) and W=1 over $(echo "$objs" | wc -w) patched file(s)"
	# shellcheck disable=SC2086
	kmake C=2 W=1 $objs >"$log" 2>&1 || rc=$?
	exec 9>&-
	if [ "$rc" -ne 0 ]; then
		rm -rf "$tmp"
		tail -n 30 "$log" | sed 's/^/    /'
		say LINT "build failed, see build/logs/lint-patched.log"
		return 1
	fi
	out=$(for f in $files; do changed_lines "$tmp" "$f"; done |
	      awk 'NR == FNR { ours[$0] = 1; next }
		   match($0, /^[^:]+:[0-9]+/) &&
		   (substr($0, 1, RLENGTH) in ours) &&
		   / (warning|error)/' - "$log")
	rm -rf "$tmp"
	[ -z "$out" ] && return 0
	echo "$out" | sed 's/^/    /'
	return 1
}

# lint_rst: the documentation as reStructuredText.  docutils does not know
# the kernel-doc directive (a Sphinx extension), so it is turned into a
# comment, which keeps the line numbers; any warning from the rest fails.
lint_rst()
{
	local rst=Documentation/filesystems/pkernfs.rst out

	[ -f "$rst" ] || return 0
	command -v rst2html >/dev/null ||
		die "rst2html missing: run scripts/deps.sh (python3-docutils)"
	say LINT "docutils $rst"
	out=$(sed 's/^\.\. kernel-doc::/.. kernel-doc:/' "$rst" |
		rst2html --halt=none --report=warning - /dev/null 2>&1 |
		sed 's/^<stdin>/'"${rst//\//\\/}"'/') || true
	[ -z "$out" ] && return 0
	echo "$out" | sed 's/^/    /'
	return 1
}

main()
{
	local files rc=0

	[ -f "$ksrc/scripts/checkpatch.pl" ] ||
		die "no build/linux/scripts/checkpatch.pl: run scripts/prepare-tree.sh"
	cd "$repo"

	files=$(ls fs/pkernfs/*.[ch] include/linux/pkernfs.h 2>/dev/null || true)
	if [ -z "$files" ]; then
		say SKIP "lint: no fs/pkernfs sources yet"
		return 0
	fi
	lint_checkpatch "$files" || rc=1
	lint_kerneldoc "$files" || rc=1
	lint_build || rc=1
	lint_patched || rc=1
	lint_rst || rc=1
	if [ "$rc" -eq 0 ]; then
		say LINT "clean"
	else
		say LINT "FAILED: see the reports above"
	fi
	return "$rc"
}

main "$@"
