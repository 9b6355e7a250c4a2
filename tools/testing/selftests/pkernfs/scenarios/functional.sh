#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# functional: one boot; the kselftest_harness suite pkernfs_test on a
# mounted pkernfs, then a clean kernel log.

. /scenarios/lib.sh

pk_require_fs
if pk_check "mount" pk_mount; then
	pk_run pkernfs_test
	pk_check "umount" umount "$PK_MNT"
fi
pk_dmesg_check
pk_done
