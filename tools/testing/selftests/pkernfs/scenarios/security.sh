#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# security: pkernfs_security on a mounted pkernfs (no mount from a user
# namespace, ownership and modes for uid 1000, offsets and sizes near 2^63
# in every I/O path), then a clean region and kernel log.

. /scenarios/lib.sh

pk_require_fs

base=$(pk_region_base)
size=$(pk_region_size)

if pk_check "mount" pk_mount; then
	pk_run pkernfs_security
	pk_check "umount" umount "$PK_MNT"
	pk_check "pkernfs-fsck: region is clean" \
		pkernfs-fsck --base "$base" --size "$size" /dev/mem
fi
pk_dmesg_check
pk_done
