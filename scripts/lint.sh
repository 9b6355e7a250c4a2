#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch --strict on the pkernfs sources and on patches/, with
# build/linux/scripts/checkpatch.pl.  Exits non-zero if anything is reported.

set -eu

. "$(dirname "$0")/common.sh"

checkpatch()
{
	perl "$ksrc/scripts/checkpatch.pl" --strict --no-tree --quiet --color=never \
		--show-types "$@"
}

main()
{
	local files patches rc=0

	[ -f "$ksrc/scripts/checkpatch.pl" ] ||
		die "no build/linux/scripts/checkpatch.pl: run scripts/prepare-tree.sh"
	cd "$repo"

	files=$(ls fs/pkernfs/*.[ch] include/linux/pkernfs.h 2>/dev/null || true)
	patches=$(ls patches/*.patch 2>/dev/null || true)

	if [ -n "$files" ]; then
		say LINT "checkpatch -f $(echo "$files" | wc -w) source file(s)"
		# shellcheck disable=SC2086
		checkpatch -f $files || rc=1
	else
		say SKIP "lint: no fs/pkernfs sources yet"
	fi
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

main "$@"
