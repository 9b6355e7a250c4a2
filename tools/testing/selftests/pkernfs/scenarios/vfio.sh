#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio: a passed-through PCI device keeps doing DMA into pkernfs guest RAM
# across a live update.  QEMU gives the guest two edu devices behind the
# emulated Intel IOMMU: edu #1, the persistent one, behind a PCIe root port
# (vfio.qemu), and edu #2 on the root bus.
#
# Stage 1 binds both to vfio-pci and runs 'pkernfs_vfio stage1': guest RAM
# and the domain's IOMMU page tables (iommu/dom-0) are pkernfs files, edu #1
# does DMA through them, edu #2 through an ordinary container.  A holder
# process keeps both open; the kexec wrapper below has it start one last
# edu #1 DMA right before 'kexec -e', so that the DMA lands while the
# kernels switch.
#
# Stage 2, on the 'liveupdate' boot, binds edu #1 again and runs
# 'pkernfs_vfio stage2': same page tables, the in-flight DMA landed, new
# DMA through the same IOVAs, and edu #2, left without a driver, cannot DMA
# into guest RAM (the IOMMU faults it: DMAR fault lines are expected in the
# kernel log and are not splats).
#
# Stage 3 boots with iommu=pt: see there.
#
# On a kernel that cannot have persistent IOMMU page tables (built without
# CONFIG_ZONE_DEVICE or CONFIG_INTEL_IOMMU) stage 1 runs the same VMM
# without persistence instead, and the live-update part is skipped.  On a
# kernel built with both, a missing iommu/ directory is a failure.

. /scenarios/lib.sh

# kexec: pk_kexec_next calls 'kexec -l' then 'kexec -e'.  Just before the
# latter, have the holder start the last DMA and wait until it has.
kexec()
{
	if [ "$1" = -e ] && [ -s "$PK_DMA_HOLDER" ]; then
		if pk_start_held_dma; then
			echo "# pkt: edu DMA started, kexec now"
		else
			echo "# pkt: the holder did not start the DMA"
		fi
	fi
	command kexec "$@"
}

# dmesg_check: pk_dmesg_check, where the IOMMU faults that edu #2's DMA
# causes are expected.  The splat pattern has nothing that matches a DMAR
# fault report; dropping those lines first keeps it so if it grows.
dmesg_check()
{
	local splat

	splat=$(dmesg | grep -vE 'DMAR: (DRHD: handling fault|\[DMA (Read|Write))' |
		grep -E "$PK_SPLAT") || {
		pk_ok "stage $PK_STAGE: kernel log is clean (DMAR faults expected)"
		dmesg | grep 'DMAR.*fault' | head -n 4 | sed 's/^/# /'
		return 0
	}
	pk_not_ok "stage $PK_STAGE: kernel log is clean"
	echo "$splat" | head -n 20 | sed 's/^/# /'
	return 1
}

# setup: mount pkernfs, find the two edus and bind edu #1 to vfio-pci.
setup()
{
	local devs

	# The test kernel's fragment demands VFIO and qemu-run.sh always
	# adds an edu: without either, the build or the harness is broken.
	[ -e /dev/vfio/vfio ] || {
		pk_not_ok "/dev/vfio/vfio exists (kernel built with VFIO)"
		pk_done
	}
	pk_check "stage $PK_STAGE: mount" pk_mount || pk_done
	devs=$(pk_edu_devices)
	if [ -z "$devs" ]; then
		pk_not_ok "an edu device (QEMU -device edu)"
		pk_done
	fi
	# edu #1 is the one on a bus of its own, behind the root port.
	EDU1=$(echo "$devs" | grep -v '^0000:00:' | sed -n 1p)
	if [ -z "$EDU1" ]; then
		pk_not_ok "an edu behind a pcie-root-port (scenarios/vfio.qemu)"
		EDU1=$(echo "$devs" | sed -n 1p)
	fi
	EDU2=$(echo "$devs" | grep -vx "$EDU1" | sed -n 1p)
	pk_log "edu #1 $EDU1, edu #2 ${EDU2:-missing}"
	[ -n "$EDU2" ] || pk_not_ok "two edu devices (scenarios/vfio.qemu)"
}

stage1()
{
	setup
	pk_check "bind edu #1 $EDU1 to vfio-pci" pk_bind_vfio "$EDU1" || pk_done
	# What stage 2 must not see: vfio-pci lets an idle device suspend.
	pk_check "stage 1: edu #1 idle on vfio-pci: runtime-suspended" \
		pk_wait_runtime_pm "$EDU1" suspended
	if [ -n "$EDU2" ]; then
		pk_check "bind edu #2 $EDU2 to vfio-pci" pk_bind_vfio "$EDU2" ||
			EDU2=
	fi

	if [ ! -d "$PK_MNT/iommu" ] && pk_kconfig ZONE_DEVICE INTEL_IOMMU; then
		pk_not_ok "$PK_MNT/iommu exists (kernel built with ZONE_DEVICE and INTEL_IOMMU)"
		dmesg | grep -iE 'pkernfs|DMAR' | head -n 20 | sed 's/^/# /'
		pk_done
	fi
	if [ ! -d "$PK_MNT/iommu" ]; then
		pk_log "no $PK_MNT/iommu: kernel without persistent IOMMU page tables"
		PKERNFS_VFIO_NO_PERSIST=1 pk_run pkernfs_vfio stage1 "$EDU1" ${EDU2:+"$EDU2"}
		dmesg_check
		pk_skip "live update of the VFIO domain" \
			"kernel without persistent IOMMU page tables"
		pk_done
	fi

	rm -f "$PK_DMA_STARTED" "$PK_DMA_HOLDER"
	PKERNFS_VFIO_DEFER=1 pk_run pkernfs_vfio stage1 "$EDU1" ${EDU2:+"$EDU2"}
	pk_log "dom-0: $(dmesg | grep 'page tables at' | tail -n 1)"
	pk_dma_marks marked "stage 1, domain live" guest-ram dom-0
	dmesg_check
	pk_kexec_next
}

stage2()
{
	local cmd

	setup
	# Bus mastering, as the new kernel left it before any driver ran.
	cmd=$(pk_pci_command "$EDU1")
	if [ $((0x$cmd & 4)) -ne 0 ]; then
		pk_ok "edu #1 bus mastering kept across the kexec (command 0x$cmd)"
	else
		pk_not_ok "edu #1 bus mastering kept across the kexec (command 0x$cmd)"
	fi
	pk_check "bind edu #1 $EDU1 to vfio-pci again" pk_bind_vfio "$EDU1" ||
		pk_done
	# Runtime suspend leads a device with power management to D3hot,
	# where it stops its DMA: a kept device stays active until its VMM
	# is done with it.  (edu has no power management: it would stay in
	# D0, but the kernel's decision shows all the same.)
	if pk_wait_runtime_pm "$EDU1" suspended; then
		pk_not_ok "edu #1 kept active on vfio-pci until its VMM opens it (runtime PM: suspended)"
	else
		pk_ok "edu #1 kept active on vfio-pci until its VMM opens it (runtime PM: $(pk_runtime_pm "$EDU1"))"
	fi
	pk_log "edu #1 reserved IOVA ranges:" \
		"$(tr '\n' ';' </sys/bus/pci/devices/"$EDU1"/iommu_group/reserved_regions)"
	pk_dma_marks marked "stage 2, before the VMM re-attaches" guest-ram dom-0
	pk_run pkernfs_vfio stage2 "$EDU1" ${EDU2:+"$EDU2"}
	pk_check "stage 2: edu #1, closed by its VMM, runtime-suspended again" \
		pk_wait_runtime_pm "$EDU1" suspended
	pk_dma_marks unmarked "stage 2, domain gone" guest-ram
	# Everything the domains did, undone: the region must check clean.
	pk_check "stage 2: umount" umount "$PK_MNT"
	pk_check "stage 2: pkernfs-fsck: region is clean, IOMMU files included" \
		pkernfs-fsck --base "$(pk_region_base)" \
		--size "$(pk_region_size)" /dev/mem
	dmesg_check
	pk_kexec_next iommu=pt
}

# stage3: a live-update boot with nothing persisted and iommu=pt, as
# hypervisor hosts often boot: the host's own devices, identity-mapped,
# must do DMA at once.  virtio-rng (vfio.qemu) goes through the IOMMU.
stage3()
{
	local bytes

	bytes=$(timeout 30 dd if=/dev/hwrng bs=64 count=1 2>/dev/null | wc -c)
	if [ "$bytes" -eq 64 ]; then
		pk_ok "iommu=pt live-update boot: virtio-rng DMA works (64 bytes from /dev/hwrng)"
	else
		pk_not_ok "iommu=pt live-update boot: virtio-rng DMA works ($bytes of 64 bytes from /dev/hwrng in 30 s)"
		dmesg | grep -E 'DMAR|virtio' | tail -n 8 | sed 's/^/# /'
	fi
	dmesg_check
}

pk_run_stages
