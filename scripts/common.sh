#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Paths and helpers shared by the pkernfs build scripts.  Sourced, not run.

repo=$(realpath "$(dirname "${BASH_SOURCE[0]}")/..")
build="$repo/build"
ksrc="$build/linux"
ktarball=/usr/src/linux-source-6.12.tar.xz
fragment="$repo/Kconfig"
test_dir="$repo/tools/testing/selftests/pkernfs"

export CCACHE_DIR="$build/ccache"

# say TAG TEXT: print one kbuild-style progress line.
say()
{
	printf '  %-7s %s\n' "$1" "$2"
}

die()
{
	printf '  %-7s %s\n' ERROR "$*" >&2
	exit 1
}

# kbuild_lock: take build/.kbuild.lock for the rest of the script.  Every
# make in build/linux runs under it, because other engineers build there too
# and two kernel builds at once do not fit two cores.
kbuild_lock()
{
	mkdir -p "$build"
	exec 9>"$build/.kbuild.lock"
	if ! flock -n 9; then
		say LOCK "waiting for build/.kbuild.lock"
		flock 9
	fi
}

# kmake ARGS...: make in the kernel tree, compilers going through ccache.
# The ccache masquerade directory keeps CC=gcc, so the command lines kbuild
# records match those of a plain 'make -C build/linux' and neither side
# forces the other to rebuild.
kmake()
{
	PATH="/usr/lib/ccache:$PATH" make -C "$ksrc" -j"$(($(nproc) + 1))" "$@"
}

# run_long TAG WHAT LOG CMD...: run CMD with its output in LOG.  While it runs,
# print a progress line (every 30 s, or in place on a terminal) counting the
# kbuild steps seen so far.  On failure, show the end of LOG and return 1.
run_long()
{
	local tag=$1 what=$2 log=$3 pid start rc=0 last=0 n

	shift 3
	start=$SECONDS
	"$@" >"$log" 2>&1 &
	pid=$!
	trap 'kill "$pid" 2>/dev/null' INT TERM
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		n=$(grep -c '^  [A-Z]' "$log" || true)
		if [ -t 1 ]; then
			printf '\r  %-7s %s (%d steps, %ds)' "$tag" "$what" \
				"$n" $((SECONDS - start))
		elif [ $((SECONDS - last)) -ge 30 ]; then
			last=$SECONDS
			say "$tag" "$what ($n steps, $((SECONDS - start))s)"
		fi
	done
	wait "$pid" || rc=$?
	trap - INT TERM
	[ -t 1 ] && printf '\r\033[K'
	if [ "$rc" -ne 0 ]; then
		say "$tag" "$what failed after $((SECONDS - start))s, end of ${log#"$repo/"}:"
		tail -n 40 "$log" | sed 's/^/    /'
		return 1
	fi
	say "$tag" "$what done in $((SECONDS - start))s"
}
