#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio-release: give a kept device up rather than take its domain over.
# Stage 1 sets up a persistent domain for edu and holds it through a
# 'liveupdate' kexec (pkernfs_vfio stage1).  Stage 2 attaches edu to an
# ordinary container instead ('pkernfs_vfio release'), the documented way
# to release a kept domain: the kept context entry is replaced and DMA
# through the kept tables faults, and then the files the domain used lose
# their DMA marks and may be unlinked, and the region checks clean.

. /scenarios/lib.sh

edu_device()
{
	EDU=$(pk_edu_devices | sed -n 1p)
	[ -n "$EDU" ] || { pk_not_ok "an edu device"; pk_done; }
}

stage1()
{
	pk_check "stage 1: mount" pk_mount || pk_done
	edu_device
	pk_check "bind edu $EDU to vfio-pci" pk_bind_vfio "$EDU" || pk_done
	pk_run pkernfs_vfio stage1 "$EDU"
	pk_dma_marks marked "stage 1, domain live" guest-ram dom-0
	pk_dmesg_check
	pk_kexec_next
}

stage2()
{
	pk_check "stage 2: mount" pk_mount || pk_done
	edu_device
	pk_check "bind edu $EDU to vfio-pci again" pk_bind_vfio "$EDU" ||
		pk_done
	pk_dma_marks marked "stage 2, before the release" guest-ram dom-0
	pk_run pkernfs_vfio release "$EDU"
	pk_dma_marks unmarked "stage 2, once released" guest-ram dom-0
	pk_check "unlink guest-ram and iommu/dom-0 once released" \
		rm "$PK_MNT/guest-ram" "$PK_MNT/iommu/dom-0"
	pk_check "stage 2: umount" umount "$PK_MNT"
	pk_check "stage 2: pkernfs-fsck: region is clean" \
		pkernfs-fsck --base "$(pk_region_base)" \
		--size "$(pk_region_size)" /dev/mem
	pk_dmesg_check
}

pk_run_stages
