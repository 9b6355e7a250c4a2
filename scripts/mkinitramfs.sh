#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Pack build/initramfs.cpio for the pkernfs test guest with the kernel's
# usr/gen_init_cpio: busybox-static, kexec and its libraries, /kernel (the
# test kernel itself, to kexec into), the selftests from build/selftests,
# the guest /init and the scenarios, the image's .config as /etc/kconfig, and
# /sbin/pkernfs-fsck from build/guest-tools.

set -eu

. "$(dirname "$0")/common.sh"

list="$build/initramfs.list"
out="$build/initramfs.cpio"

# Entries of the cpio list; directories are emitted first, parents before
# children, because the kernel's unpacker does not create missing parents.
dirs=
entries=

add_dir()
{
	local d=$1

	while [ "$d" != / ] && [ -n "$d" ]; do
		dirs="$dirs$d"$'\n'
		d=$(dirname "$d")
	done
}

# add_file DEST SRC [MODE]
add_file()
{
	add_dir "$(dirname "$1")"
	entries="${entries}file $1 $(realpath "$2") ${3:-0755} 0 0"$'\n'
}

add_link()
{
	add_dir "$(dirname "$1")"
	entries="${entries}slink $1 $2 0777 0 0"$'\n'
}

# add_binary DEST SRC: SRC and, if it is dynamically linked, its libraries.
add_binary()
{
	local lib

	add_file "$1" "$2"
	for lib in $(ldd "$2" 2>/dev/null | grep -o '/[^ ]*'); do
		add_file "$lib" "$lib"
	done
}

add_busybox()
{
	local bb=/bin/busybox applet

	file -L "$bb" 2>/dev/null | grep -q dynamic &&
		die "$bb is not static (apt-get install busybox-static)"
	add_file /bin/busybox "$bb"
	for applet in $("$bb" --list-full); do
		# The list names busybox itself: a self-link would make /init ELOOP.
		[ "${applet##*/}" = busybox ] && continue
		add_link "/$applet" /bin/busybox
	done
}

add_selftests()
{
	local bin n=0

	for bin in "$build"/selftests/*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		add_binary "/selftests/${bin##*/}" "$bin"
		n=$((n + 1))
	done
	[ "$n" -eq 0 ] && say SKIP "initramfs: no selftests in build/selftests"
	return 0
}

add_guest()
{
	local f

	add_file /init "$test_dir/guest/init"
	# bench/ holds the scenario of 'make bench', kept apart so that
	# vmtest.sh does not run it.
	for f in "$test_dir"/scenarios/*.sh "$test_dir"/bench/*.sh; do
		add_file "/scenarios/${f##*/}" "$f"
	done
	add_file /kernel "$build/bzImage" 0644
	add_file /etc/kconfig "$build/bzImage.config" 0644
}

write_list()
{
	local d

	{
		for d in /dev /proc /sys /tmp /root /mnt /mnt/pkernfs /var/lib/pkt; do
			add_dir "$d"
		done
		printf '%s' "$dirs" | sort -u | sed 's/.*/dir & 0755 0 0/'
		echo "nod /dev/console 0600 0 0 c 5 1"
		printf '%s' "$entries" | sort -u -k2,2 | sort -s -k1,1
	} >"$list"
}

main()
{
	local gen="$ksrc/usr/gen_init_cpio"

	[ -f "$build/bzImage" ] && [ -f "$build/bzImage.config" ] ||
		die "no build/bzImage: run scripts/build-kernel.sh"
	if [ ! -x "$gen" ]; then
		kbuild_lock
		kmake usr/gen_init_cpio >/dev/null
		exec 9>&-
	fi

	add_busybox
	add_binary /sbin/kexec "$(command -v kexec || echo /usr/sbin/kexec)"
	add_selftests
	if [ -x "$build/guest-tools/pkernfs-fsck" ]; then
		add_binary /sbin/pkernfs-fsck "$build/guest-tools/pkernfs-fsck"
	else
		say SKIP "initramfs: no build/guest-tools/pkernfs-fsck"
	fi
	add_guest
	write_list

	"$gen" "$list" >"$out.tmp"
	mv "$out.tmp" "$out"
	say INITRD "build/initramfs.cpio ($(($(stat -c %s "$out") / 1024)) KiB)"
}

main "$@"
