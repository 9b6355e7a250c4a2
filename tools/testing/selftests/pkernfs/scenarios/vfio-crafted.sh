#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio-crafted: the VT-d tables a live update keeps are read back from
# memory that anything may have written since, so the next kernel checks
# them before it trusts them.  Each stage sets up a persistent domain for
# edu (pkernfs_vfio stage1, held across the kexec), damages one field of
# the kept tables through /dev/mem (pkernfs_iommu_craft), and kexecs with
# 'liveupdate'; the next stage checks that the kernel refused that entry in
# one line and kept nothing, with no splat, and that nothing it refused
# holds a file: guest RAM and iommu/dom-0 can be unlinked at once.

. /scenarios/lib.sh

# The damage done before each kexec, in stage order.
KINDS="did asr context-table leaf"

kind_of_stage()
{
	echo "$KINDS" | cut -s -d' ' -f"$1"
}

# check_refused KIND: the kernel refused the entry crafted by KIND.
check_refused()
{
	local kept

	if dmesg | grep -q 'refused 1 kept root/context entries'; then
		pk_ok "crafted $1: the kernel refused the entry, in one line"
	else
		pk_not_ok "crafted $1: the kernel refused the entry, in one line"
		dmesg | grep -E 'DMAR|pkernfs' | tail -n 8 | sed 's/^/# /'
	fi
	kept=$(dmesg | sed -n 's/.*live update: kept \([0-9]*\) context entries.*/\1/p')
	if [ "$kept" = 0 ]; then
		pk_ok "crafted $1: no context entry kept"
	else
		pk_not_ok "crafted $1: no context entry kept (${kept:-no line})"
	fi
	pk_dmesg_check
	pk_check "crafted $1: mount" pk_mount || pk_done
	pk_check "crafted $1: nothing held: unlink guest RAM and iommu/dom-0" \
		rm "$PK_MNT/guest-ram" "$PK_MNT/iommu/dom-0"
}

# craft_next KIND: a persistent domain for edu, damaged by KIND, then kexec.
craft_next()
{
	local edu base size

	edu=$(pk_edu_devices | sed -n 1p)
	[ -n "$edu" ] || { pk_not_ok "an edu device"; pk_done; }
	grep -q " $PK_MNT " /proc/mounts ||
		pk_check "stage $PK_STAGE: mount" pk_mount || pk_done
	pk_check "bind edu $edu to vfio-pci" pk_bind_vfio "$edu" || pk_done
	PKERNFS_VFIO_DEFER=1 pk_run pkernfs_vfio stage1 "$edu"
	base=$(pk_region_base) && size=$(pk_region_size) || {
		pk_not_ok "the region's address on the command line"
		pk_done
	}
	pk_check "damage the kept tables: $1" \
		"$PK_BIN/pkernfs_iommu_craft" --base "$base" --size "$size" \
		"$edu" "$1"
	pk_kexec_next
}

pk_require_fs
[ "$PK_STAGE" -gt 1 ] && check_refused "$(kind_of_stage $((PK_STAGE - 1)))"
kind=$(kind_of_stage "$PK_STAGE")
[ -n "$kind" ] && craft_next "$kind"
pk_done
