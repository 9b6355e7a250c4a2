#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# wrongsize: a region reserved with a different size after the live update
# must be refused, with an explanation and without an oops, and must lose
# nothing: stage 2 (128M) checks that the region's metadata is unchanged,
# stage 3 (256M again) mounts it and reads the file back.

. /scenarios/lib.sh

pk_require_fs

case "$PK_STAGE" in
1)
	pk_check "mount" pk_mount
	pk_check "create a file" sh -c "echo hello >$PK_MNT/hello"
	pk_check "umount" umount "$PK_MNT"
	pk_region_sum >"$PK_STATE/region.sum"
	pk_dmesg_check
	pk_kexec_next "memmap=128M%1G" "pkernfs=128M!1G"
	;;
2)
	# The boot's own log first; then only what the refused mount says
	# (the IOMMU checked the region at boot and said why already).
	pk_dmesg_check
	dmesg -c >/dev/null
	pk_mount_fails "region shrunk to 128M" \
		"Structure needs cleaning" "Invalid argument"
	pk_dmesg_explains "region shrunk to 128M"
	pk_check "region unchanged by the refused boot and mount" \
		test "$(pk_region_sum)" = "$(cat "$PK_STATE/region.sum")"
	pk_dmesg_check
	pk_kexec_next "memmap=256M%1G" "pkernfs=256M!1G"
	;;
3)
	pk_check "mount at the right size again" pk_mount
	pk_check "the file survived the refusal" \
		test "$(cat "$PK_MNT/hello")" = hello
	pk_check "umount" umount "$PK_MNT"
	pk_dmesg_check
	;;
esac
pk_done
