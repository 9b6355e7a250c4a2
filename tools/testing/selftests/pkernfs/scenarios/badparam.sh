#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# badparam: a bad pkernfs= boot parameter must leave the system running and
# pkernfs unmountable, with one clear kernel log line.  Each stage is a boot
# with a different parameter: unaligned (badparam.boot), missing, garbage.

. /scenarios/lib.sh

check_refused()
{
	pk_mount_fails "$1" "No such device" "Invalid argument"
	pk_dmesg_explains "$1"
	pk_dmesg_check
}

pk_require_fs

case "$PK_STAGE" in
1)
	check_refused "pkernfs=$(pk_cmdline_arg pkernfs)"
	pk_kexec_next -d pkernfs
	;;
2)
	check_refused "no pkernfs="
	pk_kexec_next "pkernfs=banana"
	;;
3)
	check_refused "pkernfs=banana"
	;;
esac
pk_done
