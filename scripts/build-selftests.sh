#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the pkernfs selftests statically into build/selftests, with the
# kselftest Makefile in build/linux (after 'make headers_install', for the
# uapi headers).  Skipped, with a notice, until that Makefile exists.
# Also builds pkernfs-fsck statically into build/guest-tools, for the guest
# to check the live region through /dev/mem, and the benchmark helper
# (selftests/pkernfs/bench/, for 'make bench') into build/selftests, and
# the host side of scenarios (selftests/pkernfs/host/) into build/host-tools,
# and the inner guest of the qemu-lu scenario (selftests/pkernfs/inner/)
# into build/inner.

set -eu

. "$(dirname "$0")/common.sh"

main()
{
	local dir="$ksrc/tools/testing/selftests/pkernfs"

	if [ ! -f "$dir/Makefile" ]; then
		say SKIP "selftests: no tools/testing/selftests/pkernfs/Makefile yet"
		return 0
	fi
	mkdir -p "$build/selftests" "$build/logs"
	kbuild_lock
	run_long SELFTST "headers_install" "$build/logs/headers.log" \
		kmake headers_install
	run_long SELFTST "build (static)" "$build/logs/selftests.log" \
		make -C "$dir" OUTPUT="$build/selftests" USERLDFLAGS=-static
	run_long SELFTST "pkernfs-fsck (static)" "$build/logs/guest-tools.log" \
		make -C "$repo/tools/pkernfs" O="$build/guest-tools" \
		LDFLAGS=-static "$build/guest-tools/pkernfs-fsck"
	run_long SELFTST "pkbench (static)" "$build/logs/bench.log" \
		make -C "$dir/bench" OUTPUT="$build/selftests"
	run_long SELFTST "host tools" "$build/logs/host-tools.log" \
		make -C "$dir/host" OUTPUT="$build/host-tools"
	run_long SELFTST "inner guest" "$build/logs/inner.log" \
		make -C "$dir/inner" OUTPUT="$build/inner"
}

main "$@"
