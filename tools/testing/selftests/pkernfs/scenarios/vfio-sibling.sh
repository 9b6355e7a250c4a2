#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio-sibling: a device kept running through a live update is not reset
# with its reset group before its VMM has opened it.  An e1000e and an edu
# are functions 0 and 1 behind one root port (vfio-sibling.qemu): one
# IOMMU group, one bus reset for both.  Stage 1 keeps both in a
# persistent container through a 'liveupdate' kexec; stage 2 opens the
# edu first, closes it and asks a hot reset through it, and the e1000e
# must come through both unreset, until its own open
# (pkernfs_vfio_sibling).

. /scenarios/lib.sh

# functions: FN0, the e1000e, and FN1, the edu behind the root port (the
# edu every boot has is on the root bus).
functions()
{
	FN0=$(pk_pci_devices "$PK_E1000E_ID" | sed -n 1p)
	FN1=$(pk_edu_devices | grep -v '^0000:00:' | sed -n 1p)
	[ -n "$FN0" ] && [ -n "$FN1" ] ||
		{ pk_not_ok "an e1000e and an edu behind a root port"; pk_done; }
}

# bind_both: both functions to vfio-pci, as a group must be for VFIO.
bind_both()
{
	pk_bind_vfio "$FN0" && pk_bind_vfio "$FN1"
}

setup()
{
	pk_check "stage $PK_STAGE: mount" pk_mount || pk_done
	functions
	pk_check "stage $PK_STAGE: bind $FN0 and $FN1 to vfio-pci" bind_both ||
		pk_done
}

stage1()
{
	setup
	pk_run pkernfs_vfio_sibling stage1 "$FN0" "$FN1"
	pk_dmesg_check
	pk_kexec_next
}

stage2()
{
	setup
	pk_run pkernfs_vfio_sibling stage2 "$FN0" "$FN1"
	pk_dmesg_check
}

pk_run_stages
