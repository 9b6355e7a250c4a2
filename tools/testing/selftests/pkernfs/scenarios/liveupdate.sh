#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# liveupdate: three chained live updates.  pkernfs_lu fills pkernfs with
# seeded data in stage 1; stages 2 and 3 verify what the previous stage left
# and change it; stage 4 only verifies.  Every stage checks the kernel log.
# The seed is kept in the root filesystem, which travels in the next initrd.

. /scenarios/lib.sh

LAST_STAGE=4

pk_require_fs

seed=$(pk_seed)
pk_log "seed $seed (rerun with: vmtest.sh -s liveupdate -a pkt.seed=$seed)"

# root_listing: the root directory's entries, one per line, sorted.
root_listing()
{
	ls -A "$PK_MNT" | sort
}

# root_as_left: the root holds exactly what the user left in it before the
# kexec plus the kernel-owned iommu/ (pkernfs.rst, "IOMMU page tables"),
# which the VT-d driver creates at boot.
root_as_left()
{
	local want

	want=$({ cat "$PK_STATE/root.list"; echo iommu; } | sort)
	[ "$(root_listing)" = "$want" ] && return 0
	echo "root now:"; root_listing
	echo "expected:"; echo "$want"
	return 1
}

pk_check "stage $PK_STAGE: mount" pk_mount
if [ "$PK_STAGE" -gt 1 ]; then
	pk_check "stage $PK_STAGE: root holds the user's entries and iommu/" \
		root_as_left
fi
if [ "$PK_STAGE" -lt "$LAST_STAGE" ]; then
	# pkernfs_lu leaves a process holding an unlinked file open, so the
	# kexec happens with pkernfs mounted and busy, as on a real host.
	PKERNFS_LU_STAGE=$PK_STAGE PKERNFS_LU_SEED=$seed pk_run pkernfs_lu
	root_listing | grep -vx iommu >"$PK_STATE/root.list"
	pk_dmesg_check
	pk_kexec_next
else
	PKERNFS_LU_STAGE=$PK_STAGE PKERNFS_LU_SEED=$seed PKERNFS_LU_FINAL=1 \
		pk_run pkernfs_lu
	pk_check "stage $PK_STAGE: umount" umount "$PK_MNT"
	pk_dmesg_check
fi
pk_done
