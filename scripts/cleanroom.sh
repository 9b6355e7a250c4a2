#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make cleanroom': show that a fresh Debian 12 machine can run the README's
# commands.  A minimal Debian 12 root (debootstrap --variant=minbase, kept in
# build/cleanroom/root.tar so that only the first run pays for debootstrap)
# is unpacked afresh into build/cleanroom/root, the repository's committed
# HEAD is cloned into it (never build/ or uncommitted changes), and the
# stage's commands run there, chrooted, in new mount and PID namespaces:
# /proc, /sys (read-only) and /dev exist only in that mount namespace and go
# away with it, whether the step passes, fails or is interrupted.
#
# Every stage starts with scripts/deps.sh, on its own: a minbase root has
# no make, so no make target can be the first command on a fresh machine.
# Then, by stage:
#
# Usage: cleanroom.sh [-s deps|build|all]
#   deps	make tree and scripts/build-selftests.sh (headers_install,
#		the selftests, pkernfs-fsck): every package and command a
#		fresh machine lacks, in minutes, without a kernel build
#   build	make initramfs, from a cold tree: the full kernel build
#   all		make demo, then make check (the default)
# Each step logs to build/cleanroom/STEP.log.  Needs root.  The root stays
# for a look inside (chroot build/cleanroom/root); the next run replaces it.

set -eu

. "$(dirname "$0")/common.sh"

self="$repo/scripts/cleanroom.sh"
suite=bookworm
mirror=http://deb.debian.org/debian
security=http://deb.debian.org/debian-security
dir="$build/cleanroom"
root="$dir/root"
tarball="$dir/root.tar"
# The clone, inside the root.
src=/root/pkernfs

usage()
{
	echo "usage: $0 [-s deps|build|all]" >&2
	exit 1
}

# enter ROOT CMD: first process of the new namespaces.  Mount /proc (its
# sys/ read-only, so that no package script sets a host sysctl), /sys
# (read-only) and /dev in ROOT, then run the shell command CMD in the clone
# with a clean environment, as a login on a fresh machine would.
enter()
{
	local root=$1 cmd=$2

	mount -t proc proc "$root/proc"
	mount --bind "$root/proc/sys" "$root/proc/sys"
	mount -o remount,bind,ro "$root/proc/sys"
	mount -t sysfs -o ro sysfs "$root/sys"
	mount --rbind /dev "$root/dev"
	exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/bin/bash -c "cd $src && $cmd"
}

# in_root CMD: run the shell command CMD in the root through enter().  On
# SIGTERM (what run_long sends on Ctrl-C), kill unshare: it passes no signal
# on, but its death kills the namespace's first process, with it every
# process in the PID namespace, and with them the mount namespace.
in_root()
{
	local pid

	unshare --mount --pid --fork --kill-child -- \
		"$self" --enter "$root" "$1" &
	pid=$!
	trap 'kill -KILL "$pid"; exit 143' TERM
	wait "$pid"
}

# unmounted PATH: nothing is mounted on or below PATH, so removing it
# cannot reach into /dev or /proc.
unmounted()
{
	! awk -v p="$1" '$5 == p || index($5, p "/") == 1 { found = 1 }
		END { exit !found }' /proc/self/mountinfo
}

# bootstrap: build/cleanroom/root.tar, a minbase Debian 12, unless it is
# there.  debootstrap mounts /proc and /sys in its target: it runs in its
# own mount namespace so that none of that can stay behind on the host.
bootstrap()
{
	local tmp="$dir/bootstrap"

	[ -f "$tarball" ] && return 0
	unmounted "$tmp" || die "something is mounted below ${tmp#"$repo/"}"
	rm -rf --one-file-system "$tmp"
	run_long ROOT "debootstrap --variant=minbase $suite" \
		"$dir/debootstrap.log" unshare --mount \
		debootstrap --variant=minbase "$suite" "$tmp" "$mirror"
	tar -cf "$tarball.tmp" -C "$tmp" --numeric-owner .
	mv "$tarball.tmp" "$tarball"
	rm -rf --one-file-system "$tmp"
	say ROOT "${tarball#"$repo/"} ($(du -m "$tarball" | cut -f1) MiB)"
}

# apt_sources: the suites of an installed Debian 12 (the installer's and the
# official images'), where debootstrap writes only $suite.  The 6.12 kernel
# source that deps.sh installs comes from $suite-security.
apt_sources()
{
	cat <<EOT
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOT
}

# fresh_root: unpack root.tar over nothing, give it the apt sources of an
# installed system, the host's resolver and a clone of the committed HEAD.
fresh_root()
{
	unmounted "$root" || die "something is mounted below ${root#"$repo/"}"
	if [ -e "$root" ]; then
		say ROOT "remove the previous ${root#"$repo/"}"
		rm -rf --one-file-system "$root"
	fi
	mkdir -p "$root"
	tar -xpf "$tarball" -C "$root" --numeric-owner
	rm -f "$root/etc/apt/sources.list"
	apt_sources >"$root/etc/apt/sources.list.d/debian.sources"
	# A symlink here would point into the host's /run: replace it.
	rm -f "$root/etc/resolv.conf"
	cp -L /etc/resolv.conf "$root/etc/resolv.conf"

	git clone -q --no-hardlinks "$repo" "$root$src"
	say CLONE "$(git -C "$root$src" log -1 --format='%h %s')"
	if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
		say NOTE "uncommitted changes in the work tree are not part of the run"
	fi
}

# step TAG NAME CMD: run CMD in the root, logged to build/cleanroom/NAME.log.
step()
{
	run_long "$1" "$3" "$dir/$2.log" in_root "$3"
}

main()
{
	local stage=all opt start=$SECONDS

	if [ "${1:-}" = --enter ]; then
		enter "$2" "$3"
	fi
	while getopts 's:' opt; do
		case $opt in
		s) stage=$OPTARG ;;
		*) usage ;;
		esac
	done
	case $stage in
	deps|build|all) ;;
	*) usage ;;
	esac
	[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, mount, chroot)"

	mkdir -p "$dir"
	exec 8>"$dir/.lock"
	flock -n 8 || die "another cleanroom run holds ${dir#"$repo/"}/.lock"

	bootstrap
	fresh_root
	step DEPS deps scripts/deps.sh
	case $stage in
	deps)
		step TREE tree "make tree"
		step SELFTST selftests scripts/build-selftests.sh
		;;
	build)
		step BUILD initramfs "make initramfs"
		;;
	all)
		step DEMO demo "make demo"
		step CHECK check "make check"
		tail -n 1 "$dir/check.log" | sed 's/^/    /'
		;;
	esac
	say CLEAN "stage $stage passed in $((SECONDS - start))s" \
		"(logs in ${dir#"$repo/"}/)"
}

main "$@"
