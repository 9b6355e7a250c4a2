#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Make build/vmm.img, the read-only disk of the qemu-lu scenario: this
# machine's qemu-system-x86_64 with the libraries, the TCG accelerator
# module and the firmware it loads, and the inner guest
# (build/inner/inner_guest.elf).  An ext2 image made without root
# (mke2fs -d), so that the other scenarios' initramfs, and what each of
# their kexecs carries, stay as they are.  Layout, for pkernfs_qemu:
#
#	bin/qemu-system-x86_64	run as lib/ld-linux-x86-64.so.2 --library-path lib
#	lib/qemu/		QEMU_MODULE_DIR (accel-tcg-x86_64.so)
#	share/qemu/		-L: bios-256k.bin, multiboot_dma.bin, ...
#	inner_guest.elf		the VM's -kernel

set -eu

. "$(dirname "$0")/common.sh"

qemu=/usr/bin/qemu-system-x86_64
moddir=/usr/lib/x86_64-linux-gnu/qemu
# What QEMU opens to boot a Multiboot -kernel on 'pc' with -nodefaults,
# and where Debian keeps it (its QEMU's firmware path).
firmware="bios-256k.bin multiboot_dma.bin kvmvapic.bin"
firmware_path="/usr/share/qemu /usr/share/seabios"

out="$build/vmm.img"
root="$build/vmm"

# libs_of FILE...: the shared libraries FILE... load, ld.so included.
libs_of()
{
	local f

	for f in "$@"; do
		ldd "$f"
	done | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*[^:]$/ { print $1 }' |
		sort -u
}

main()
{
	local inner="$build/inner/inner_guest.elf" lib fw src kib

	[ -f "$inner" ] || die "$inner missing: make selftests"
	[ -x "$qemu" ] || die "$qemu missing: scripts/deps.sh"
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/lib/qemu" "$root/share/qemu"
	cp "$qemu" "$root/bin/"
	cp "$moddir/accel-tcg-x86_64.so" "$root/lib/qemu/"
	for lib in $(libs_of "$qemu" "$moddir/accel-tcg-x86_64.so"); do
		cp -L "$lib" "$root/lib/"
	done
	for fw in $firmware; do
		# shellcheck disable=SC2086 # the list of directories
		src=$(find $firmware_path -maxdepth 1 -name "$fw" | head -n 1)
		[ -n "$src" ] || die "no $fw in $firmware_path"
		cp -L "$src" "$root/share/qemu/"
	done
	cp "$inner" "$root/"
	[ -f "$root/lib/ld-linux-x86-64.so.2" ] || die "no ld-linux-x86-64.so.2 in ldd's list"

	# The contents and a quarter more for ext2's own blocks.
	kib=$(du -sk "$root" | cut -f1)
	rm -f "$out"
	mke2fs -q -t ext2 -L vmm -d "$root" "$out" "$((kib * 5 / 4 + 1024))k" >/dev/null
	say VMMDISK "${out#"$repo/"}: QEMU $(qemu-system-x86_64 --version |
		sed -n '1s/.*version \([^ ]*\).*/\1/p'), $((kib / 1024)) MiB"
}

main "$@"
