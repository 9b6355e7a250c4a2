#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# stress: processes on both vCPUs racing create, unlink, mkdir, rmdir,
# rename, truncate, mmap, read, write and readdir in shared directories
# (pkernfs_stress, 25 s).  Afterwards statfs must match the tree, the
# region must pass pkernfs-fsck after umount, and the kernel log (lockdep
# included) must be clean.  pkt.seed= replays a run's choices.

. /scenarios/lib.sh

pk_require_fs

seed=$(pk_seed)
base=$(pk_region_base)
size=$(pk_region_size)
pk_log "seed $seed (rerun with: vmtest.sh -s stress -a pkt.seed=$seed)"

if pk_check "mount" pk_mount; then
	PKERNFS_STRESS_SEED=$seed PKERNFS_STRESS_SECS=25 \
		PKERNFS_STRESS_PROCS=6 pk_run pkernfs_stress
	pk_check "umount" umount "$PK_MNT"
	pk_check "pkernfs-fsck: region is clean after the stress" \
		pkernfs-fsck --base "$base" --size "$size" /dev/mem
	pk_check "mount again" pk_mount && umount "$PK_MNT"
fi
pk_dmesg_check
pk_done
