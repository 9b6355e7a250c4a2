#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages that building, booting, testing, linting and
# benchmarking pkernfs need, then check that every command those steps call
# is really there.  Instant when everything is already installed.
#
# A fresh Debian 12 machine has only what debootstrap's minbase variant
# gives (make cleanroom builds such a root): everything else must be named
# here.  When a script starts calling a new command, add it to 'commands'
# below, with the package that provides it.

set -eu

. "$(dirname "$0")/common.sh"

# Packages that provide no command of their own on the list below, but that
# the kernel build needs (headers, libraries, the source tarball).
packages="
	build-essential libelf-dev libssl-dev
	linux-source-6.12
"

# Every command the build, the tests, lint and bench call, and the package
# that provides it.  The first column is checked with 'command -v' after the
# install; a missing one stops the script with its package named.
commands="
	gcc		build-essential
	make		make
	patch		patch
	perl		perl
	bc		bc
	bison		bison
	flex		flex
	pahole		dwarves
	openssl		openssl
	rsync		rsync
	cpio		cpio
	xz		xz-utils
	ccache		ccache
	flock		util-linux
	file		file
	ldd		libc-bin
	sha256sum	coreutils
	timeout		coreutils
	awk		mawk
	git		git
	qemu-system-x86_64	qemu-system-x86
	kexec		kexec-tools
	busybox		busybox-static
	sparse		sparse
	python3		python3
	rst2html	python3-docutils
	gnuplot		gnuplot-nox
	debootstrap	debootstrap
	mke2fs		e2fsprogs
"

# wanted_packages: every package named above, once.
wanted_packages()
{
	{
		printf '%s\n' $packages
		printf '%s\n' "$commands" | awk 'NF == 2 { print $2 }'
	} | sort -u
}

missing_packages()
{
	local pkg

	for pkg in $(wanted_packages); do
		dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null |
			grep -q 'ok installed' || printf '%s ' "$pkg"
	done
}

# check_commands: every command on the list is on PATH; name the package of
# each one that is not.
check_commands()
{
	local cmd pkg rc=0

	while read -r cmd pkg; do
		[ -n "$cmd" ] || continue
		command -v "$cmd" >/dev/null && continue
		say ERROR "command '$cmd' not found (Debian package $pkg)" >&2
		rc=1
	done <<<"$commands"
	return "$rc"
}

main()
{
	local missing sudo=

	missing=$(missing_packages)
	if [ -n "$missing" ]; then
		[ "$(id -u)" -ne 0 ] && sudo=sudo
		say DEPS "apt-get install $missing"
		export DEBIAN_FRONTEND=noninteractive
		$sudo apt-get update -qq
		# shellcheck disable=SC2086
		$sudo apt-get install -y -qq --no-install-recommends $missing \
			>/dev/null
		missing=$(missing_packages)
		[ -z "$missing" ] || die "still missing: $missing"
	fi
	check_commands || die "commands missing after the install (see above)"
}

main "$@"
