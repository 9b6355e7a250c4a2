#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# nic-rx: a NIC keeps receiving into pkernfs guest RAM while the host
# kexecs.  QEMU's e1000e sits behind a PCIe root port and the emulated
# Intel IOMMU; the host sends it 1000 numbered, checksummed frames a
# second (nic-rx.sender, nic-rx.qemu).
#
# Stage 1 binds the NIC to vfio-pci and runs 'pkernfs_nic start': its RX
# ring and buffers are in the pkernfs file nic-ram, mapped through a
# persistent container (iommu/nic-dom); it resets the NIC once, checks the
# first frames, and leaves a poller reading the ring, which the kexec
# stops mid-stream.
#
# Stage 2, on the 'liveupdate' boot, binds the NIC again and runs
# 'pkernfs_nic resume': no reset, no re-initialisation; the frames that
# landed while no kernel read the ring are counted and checked byte for
# byte, then receiving goes on.  Zero DMAR faults, no frame lost but to a
# ring overrun, a clean kernel log in both kernels.

. /scenarios/lib.sh

# kexec: pk_kexec_next calls 'kexec -l' then 'kexec -e'.  Right before the
# latter, check that the poller still reads the ring: the frames of the
# kexec window are those it could not read.
kexec()
{
	[ "$1" = -e ] && pk_run pkernfs_nic alive
	command kexec "$@"
}

nic_device()
{
	NIC=$(pk_pci_devices "$PK_E1000E_ID" | sed -n 1p)
	[ -n "$NIC" ] || { pk_not_ok "an e1000e (QEMU -device e1000e)"; pk_done; }
}

setup()
{
	pk_check "stage $PK_STAGE: mount" pk_mount || pk_done
	nic_device
	pk_check "stage $PK_STAGE: bind e1000e $NIC to vfio-pci" \
		pk_bind_vfio "$NIC" || pk_done
}

stage1()
{
	setup
	pk_run pkernfs_nic start "$NIC"
	pk_dma_marks marked "stage 1, NIC receiving" nic-ram nic-dom
	pk_dmesg_check
	pk_kexec_next
}

stage2()
{
	setup
	pk_run pkernfs_nic resume "$NIC"
	pk_dmesg_check
}

pk_run_stages
