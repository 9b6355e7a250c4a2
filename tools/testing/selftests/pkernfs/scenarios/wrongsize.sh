#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# wrongsize: a region reserved with a different size after the live update
# must be refused, with an explanation and without an oops.

. /scenarios/lib.sh

pk_require_fs

case "$PK_STAGE" in
1)
	pk_check "mount" pk_mount
	pk_check "create a file" sh -c "echo hello >$PK_MNT/hello"
	pk_check "umount" umount "$PK_MNT"
	pk_dmesg_check
	pk_kexec_next "memmap=128M%1G" "pkernfs=128M!1G"
	;;
2)
	# The IOMMU checked the region at boot and said why already;
	# count what the refused mount says.
	dmesg -c >/dev/null
	pk_mount_fails "region shrunk to 128M" \
		"Structure needs cleaning" "Invalid argument"
	pk_dmesg_explains "region shrunk to 128M"
	pk_dmesg_check
	;;
esac
pk_done
