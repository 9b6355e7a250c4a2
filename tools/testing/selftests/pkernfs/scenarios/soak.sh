#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# soak: 20 chained live updates.  Each stage mounts pkernfs, checks every
# byte all earlier stages wrote (pkernfs_soak verify), that statfs matches
# the tree and that the file the last kernel left unlinked-while-open was
# reclaimed; then writes its own files, leaves a file unlinked but held
# open, and kexecs with pkernfs still mounted while a truncate is in
# flight: a cut point (CONFIG_PKERNFS_CUT_POINTS) holds it for two seconds
# half way through, and the kexec starts meanwhile, so the reboot notifier
# must wait for it; the next stage finds the file at its new size.  The
# last stage unmounts and runs pkernfs-fsck: the region must be clean, with
# no leaked block.

. /scenarios/lib.sh

LAST_STAGE=21

# held_truncate: start this stage's truncate and let it reach its cut
# point, where it is held while the kexec begins.  Growing (odd stages) is
# held with its blocks taken, shrinking with its list shortened.
held_truncate()
{
	local point=grow-blocks-allocated

	[ $((s % 2)) -eq 0 ] && point=shrink-list-shortened
	pk_arm_cut "$point" 2000 || return 1
	"$soak" truncate "$s" "$seed" &
	pk_wait_log "update held at $point"
}

# kexec: pk_kexec_next calls 'kexec -l' then 'kexec -e'; the truncate is
# started just before the latter.
kexec()
{
	[ "$1" = -e ] &&
		pk_check "stage $s: a truncate is in flight at the kexec" \
			held_truncate
	command kexec "$@"
}

pk_require_fs

seed=$(pk_seed)
base=$(pk_region_base)
size=$(pk_region_size)
soak=$PK_BIN/pkernfs_soak
s=$PK_STAGE
[ "$s" -eq 1 ] &&
	pk_log "seed $seed (rerun with: vmtest.sh -s soak -a pkt.seed=$seed)"

pk_check "stage $s: mount" pk_mount || pk_done
if [ "$s" -gt 1 ]; then
	pk_check "stage $s: the held file of stage $((s - 1)) was reclaimed" \
		sh -c "dmesg | grep -q 'reclaimed 1 inodes unlinked'"
	pk_check "stage $s: stages 1..$((s - 1)) read back intact" \
		"$soak" verify $((s - 1)) "$seed"
	pk_check "stage $s: statfs matches the tree" "$soak" usage
fi

if [ "$s" -lt "$LAST_STAGE" ]; then
	pk_check "stage $s: write" "$soak" write "$s" "$seed"
	pk_check "stage $s: hold an unlinked file" "$soak" hold
	pk_dmesg_check
	pk_kexec_next
	pk_done
fi

pk_check "final: umount" umount "$PK_MNT"
pk_check "final: pkernfs-fsck: region clean, nothing leaked" \
	pkernfs-fsck --base "$base" --size "$size" /dev/mem
pk_dmesg_check
pk_done
