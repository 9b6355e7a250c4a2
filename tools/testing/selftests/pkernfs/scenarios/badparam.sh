#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# badparam: the pkernfs= boot parameter and the liveupdate flag, one boot
# each.  A bad parameter must leave the system running and pkernfs
# unmountable, with one clear kernel log line: unaligned (badparam.boot),
# missing, garbage, too small, overlapping System RAM.  Then the cases that
# must work as Documentation/filesystems/pkernfs.rst says: ':' in place of
# '!' (a blank region is formatted), a plain kexec without 'liveupdate'
# while pkernfs is mounted (the region is mounted again as it is, not
# formatted), and a 'liveupdate' boot over a region with no superblock
# (refused, never formatted).

. /scenarios/lib.sh

check_refused()
{
	pk_mount_fails "$1" "No such device" "Invalid argument"
	pk_dmesg_explains "$1"
	pk_dmesg_check
}

# not_formatted: this boot did not format the region.
not_formatted()
{
	! dmesg | grep -q 'pkernfs: formatting region'
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
	# Two blocks: the superblock and the inode store, no data block.
	pk_kexec_next "pkernfs=4M!1G"
	;;
4)
	check_refused "pkernfs=4M!1G (too small)"
	# 512M is System RAM in this 2G guest: memmap= reserves 1G..1280M.
	pk_kexec_next "pkernfs=256M!512M"
	;;
5)
	check_refused "pkernfs=256M!512M (overlaps System RAM)"
	pk_kexec_next -n "pkernfs=256M:1G"
	;;
6)
	pk_check "pkernfs=256M:1G: the blank region is formatted" \
		sh -c "dmesg | grep -q 'pkernfs: formatting region'"
	pk_check "pkernfs=256M:1G: mount" pk_mount
	pk_check "create a file" sh -c "echo hello >$PK_MNT/hello"
	pk_dmesg_check
	# Still mounted: a plain kexec, as after an update done by hand.
	pk_kexec_next -n
	;;
7)
	pk_check "kexec without liveupdate: region not formatted again" \
		not_formatted
	pk_check "kexec without liveupdate: mount" pk_mount
	pk_check "kexec without liveupdate: the file is there" \
		test "$(cat "$PK_MNT/hello")" = hello
	pk_check "umount" umount "$PK_MNT"
	pk_dmesg_check
	pk_kexec_next "memmap=64M%1536M" "pkernfs=64M!1536M"
	;;
8)
	pk_check "liveupdate over a region without superblock: not formatted" \
		not_formatted
	pk_mount_fails "liveupdate over a region without superblock" \
		"Structure needs cleaning"
	pk_dmesg_explains "liveupdate over a region without superblock"
	pk_dmesg_check
	;;
esac
pk_done
