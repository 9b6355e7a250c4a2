#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# badsb: a superblock corrupted while the region sits between kernels must
# be refused, with an explanation and without an oops, and must lose
# nothing.  Stage 1 flips one byte at region offset 64 (past the magic)
# through /dev/mem and kexecs; stage 2 tries to mount, checks that the
# region's metadata is byte for byte as stage 1 left it, flips the byte
# back and kexecs; stage 3 mounts and reads the file back.

. /scenarios/lib.sh

SB_BYTE=64

# corrupt_sb: invert the byte at $SB_BYTE of the region and read it back.
corrupt_sb()
{
	local addr old new

	addr=$(($(pk_region_base) + SB_BYTE))
	old=$(devmem "$addr" 8) || return 1
	new=$((~old & 0xff))
	devmem "$addr" 8 "$new" || return 1
	[ $(($(devmem "$addr" 8))) -eq "$new" ] || return 1
	pk_log "byte $SB_BYTE of the region: $old -> $(printf 0x%02x "$new")"
}

pk_require_fs

case "$PK_STAGE" in
1)
	pk_check "mount" pk_mount
	pk_check "create a file" sh -c "echo hello >$PK_MNT/hello"
	pk_check "umount" umount "$PK_MNT"
	pk_check "corrupt superblock byte $SB_BYTE via /dev/mem" corrupt_sb
	pk_region_sum >"$PK_STATE/region.sum"
	pk_dmesg_check
	pk_kexec_next
	;;
2)
	# The boot's own log first; then only what the refused mount says
	# (the IOMMU checked the region at boot and said why already).
	pk_dmesg_check
	dmesg -c >/dev/null
	pk_mount_fails "corrupted superblock" \
		"Structure needs cleaning" "Invalid argument"
	pk_dmesg_explains "corrupted superblock"
	pk_check "region unchanged by the refused boot and mount" \
		test "$(pk_region_sum)" = "$(cat "$PK_STATE/region.sum")"
	pk_check "restore superblock byte $SB_BYTE via /dev/mem" corrupt_sb
	pk_dmesg_check
	pk_kexec_next
	;;
3)
	pk_check "mount once the byte is back" pk_mount
	pk_check "the file survived the refusals" \
		test "$(cat "$PK_MNT/hello")" = hello
	pk_check "umount" umount "$PK_MNT"
	pk_dmesg_check
	;;
esac
pk_done
