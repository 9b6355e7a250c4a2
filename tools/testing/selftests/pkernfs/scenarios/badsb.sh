#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# badsb: a superblock corrupted while the region sits between kernels must
# be refused, with an explanation and without an oops.  Stage 1 flips one
# byte at region offset 64 (past the magic) through /dev/mem and kexecs;
# stage 2 tries to mount.

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
	pk_dmesg_check
	pk_kexec_next
	;;
2)
	# The IOMMU checked the region at boot and said why already;
	# count what the refused mount says.
	dmesg -c >/dev/null
	pk_mount_fails "corrupted superblock" \
		"Structure needs cleaning" "Invalid argument"
	pk_dmesg_explains "corrupted superblock"
	pk_dmesg_check
	;;
esac
pk_done
