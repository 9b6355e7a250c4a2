#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian packages that building and booting the pkernfs test
# kernel needs.  Instant when everything is already there.

set -eu

. "$(dirname "$0")/common.sh"

packages="
	build-essential bc bison flex libelf-dev libssl-dev dwarves
	ccache cpio xz-utils
	linux-source-6.12
	qemu-system-x86 kexec-tools busybox-static
	sparse python3-docutils
"

missing_packages()
{
	local pkg

	for pkg in $packages; do
		dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null |
			grep -q 'ok installed' || printf '%s ' "$pkg"
	done
}

main()
{
	local missing sudo=

	missing=$(missing_packages)
	[ -z "$missing" ] && return 0

	[ "$(id -u)" -ne 0 ] && sudo=sudo
	say DEPS "apt-get install $missing"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null

	missing=$(missing_packages)
	[ -z "$missing" ] || die "still missing: $missing"
}

main "$@"
