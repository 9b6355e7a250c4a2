#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# demo: what pkernfs is for, in two boots.  Stage 1 mounts pkernfs, writes
# files through write() and through mmap(), records their checksums and
# live-updates into a new kernel with kexec.  Stage 2 mounts pkernfs again
# and shows that every file came through byte for byte.
#
# With VFIO and persistent IOMMU page tables in the kernel, a passed-through
# device keeps doing DMA through the live update too: stage 1 binds QEMU's
# edu to vfio-pci and runs the small VMM pkernfs_vfio (guest RAM and the
# domain's page tables iommu/dom-0 in pkernfs, edu DMAs a pattern, one more
# DMA starts right before the kexec); stage 2 re-attaches with
# VFIO_DMA_MAP_FLAG_LIVE_UPDATE and shows the same page tables, the
# in-flight DMA in guest RAM, a new DMA and the kept bus mastering.
# pkernfs_vfio --demo prints sentences; its TAP goes to /tmp/vfio.tap.
#
# With an e1000e (demo.qemu, the NIC of the nic-rx scenario), a NIC keeps
# receiving the host's frames into pkernfs guest RAM while the kernels
# switch: pkernfs_nic start, then resume, whose '# nic:' lines say how
# many frames landed during the kexec.  Its TAP goes to /tmp/nic.tap.
#
# With the VMM disk (demo.qemu, the disk of the qemu-lu scenario), a real
# QEMU keeps its VM across the live update with the VM's RAM in pkernfs:
# pkernfs_qemu start and save, then resume, whose checks are shown as
# sentences.  Its TAP goes to /tmp/qemu.tap.

. /scenarios/lib.sh

SUMS=$PK_STATE/demo.sha256
VFIO_TAP=/tmp/vfio.tap
NIC_TAP=/tmp/nic.tap
QEMU_TAP=/tmp/qemu.tap

say()
{
	echo "demo: $*"
}

# fill MODE FILE SIZE SEED: fill FILE through write() or mmap() with pkfill,
# or through busybox dd (write() only) while pkfill is not built.
fill()
{
	if [ -x "$PK_BIN/pkfill" ]; then
		"$PK_BIN/pkfill" "$1" "$2" "$3" "$4" >/dev/null
	else
		dd if=/dev/urandom of="$2" bs=65536 count=$(($3 / 65536)) 2>/dev/null
	fi
}

# data_files: the regular files in pkernfs, without the kernel-owned iommu/
# ones (they cannot be read), the VFIO guest RAM (the devices write into
# it) and the QEMU VM's files (it runs on in them).
data_files()
{
	(cd "$PK_MNT" && find . -path ./iommu -prune -o -type f -print |
		grep -vx -e ./guest-ram -e ./nic-ram -e ./vm0.ram -e ./vm0.state \
			-e ./vm0.saved | sort)
}

list_files()
{
	data_files | while read -r f; do
		printf '  %10s  %s\n' "$(stat -c %s "$PK_MNT/$f")" "${f#./}"
	done
}

# kexec: pk_kexec_next calls 'kexec -l' then 'kexec -e'.  Just before the
# latter, have the VMM's holder start edu's last DMA.
kexec()
{
	if [ "$1" = -e ] && [ -s "$PK_DMA_HOLDER" ]; then
		pk_start_held_dma || say "FAIL: the VMM did not start the DMA"
	fi
	command kexec "$@"
}

# vfio_edu: print the edu device to pass through, if the kernel and QEMU
# can do it; otherwise print why not, and fail.
vfio_edu()
{
	local edu

	edu=$(pk_edu_devices | sed -n 1p)
	if [ ! -e /dev/vfio/vfio ] || [ ! -x "$PK_BIN/pkernfs_vfio" ]; then
		echo "no VFIO or no pkernfs_vfio: no device DMA in this demo"
	elif [ ! -d "$PK_MNT/iommu" ]; then
		echo "no $PK_MNT/iommu: kernel without persistent IOMMU page tables"
	elif [ -z "$edu" ]; then
		echo "no edu device: QEMU without -device edu"
	else
		echo "$edu"
		return 0
	fi
	return 1
}

# tap_failed RC TAP: whether a run that exited with status RC and wrote its
# TAP to the file TAP failed; if so, show its last failed checks.
tap_failed()
{
	[ "$1" -eq 0 ] && ! grep -q '^not ok' "$2" && return 1
	grep -E '^(not ok|Bail out|# )' "$2" | tail -n 8 | sed 's/^/  /'
	return 0
}

# vmm STAGE EDU: run pkernfs_vfio, sentences to the output, TAP to
# $VFIO_TAP; on failure show its failed checks.
vmm()
{
	local rc=0

	PKERNFS_VFIO_LOG=$VFIO_TAP PKERNFS_VFIO_DEFER=1 \
		"$PK_BIN/pkernfs_vfio" --demo "$1" "$2" >/tmp/vfio.say || rc=$?
	sed 's/^/demo: /' /tmp/vfio.say
	! tap_failed "$rc" "$VFIO_TAP"
}

# nic STAGE BDF: run 'pkernfs_nic STAGE' on BDF, TAP to $NIC_TAP; say what
# it reports, or its failed checks.
nic()
{
	local rc=0

	"$PK_BIN/pkernfs_nic" "$1" "$2" >"$NIC_TAP" || rc=$?
	sed -n 's/^# nic: \(frames\|lost\)/demo: NIC: \1/p' "$NIC_TAP"
	! tap_failed "$rc" "$NIC_TAP"
}

# stage1_nic: have the e1000e receive into pkernfs through the kexec, if
# QEMU gave the guest one.
stage1_nic()
{
	local bdf

	rm -f "$PK_STATE/demo.nic"
	bdf=$(pk_pci_devices "$PK_E1000E_ID" | sed -n 1p)
	[ -n "$bdf" ] && [ -d "$PK_MNT/iommu" ] || return 0
	if pk_bind_vfio "$bdf" && nic start "$bdf"; then
		say "e1000e NIC $bdf receives 1000 frames a second from the host" \
			"into pkernfs guest RAM (nic-ram), through the IOMMU"
		echo "$bdf" >"$PK_STATE/demo.nic"
	else
		say "FAIL: the e1000e does not receive"
	fi
}

# stage2_nic: the frames the NIC received while the kernels switched.
stage2_nic()
{
	local bdf

	[ -s "$PK_STATE/demo.nic" ] || return 0
	bdf=$(cat "$PK_STATE/demo.nic")
	say "NIC: reading on where the old kernel stopped, without a reset:"
	if pk_bind_vfio "$bdf" && nic resume "$bdf"; then
		pk_ok "the NIC kept receiving into guest RAM through the live update"
	else
		pk_not_ok "the NIC kept receiving into guest RAM through the live update"
	fi
}

# qemu CMD...: run 'pkernfs_qemu CMD... ', TAP to $QEMU_TAP; show its
# checks of vm0 as sentences.
qemu()
{
	local rc=0

	"$PK_BIN/pkernfs_qemu" "$@" >"$QEMU_TAP" || rc=$?
	sed -n 's/^ok [0-9]* vm0: /demo: QEMU: /p' "$QEMU_TAP"
	! tap_failed "$rc" "$QEMU_TAP"
}

# stage1_qemu: if QEMU gave the guest the VMM disk, run a VM with its RAM
# in pkernfs, then stop it and save its device state for the next kernel.
stage1_qemu()
{
	rm -f "$PK_STATE/demo.qemu"
	[ -b "$PK_VMM_DEV" ] && [ -x "$PK_BIN/pkernfs_qemu" ] || return 0
	if ! pk_mount_vmm; then
		pk_not_ok "mount the VMM disk $PK_VMM_DEV"
		return 0
	fi
	say "QEMU (Debian's, unmodified) starts VM vm0, 64 MiB of RAM in" \
		"$PK_MNT/vm0.ram (share=on, align=2M)"
	if qemu start vm0 64 && qemu save vm0; then
		say "QEMU: vm0 stopped, its device state saved into pkernfs," \
			"QEMU exited"
		echo vm0 >"$PK_STATE/demo.qemu"
	else
		pk_not_ok "QEMU runs vm0 and saves it into pkernfs"
	fi
}

# stage2_qemu: QEMU again, on the same RAM file, with the saved state.
stage2_qemu()
{
	[ -s "$PK_STATE/demo.qemu" ] || return 0
	say "QEMU starts again with -incoming, on the same $PK_MNT/vm0.ram:"
	if pk_mount_vmm && qemu resume vm0; then
		pk_ok "the VM ran on across the live update, its RAM intact"
	else
		pk_not_ok "the VM ran on across the live update, its RAM intact"
	fi
}

stage1()
{
	local edu

	say "kernel $(uname -r), booted in $(cut -d' ' -f1 /proc/uptime) s"
	say "mount -t pkernfs none $PK_MNT"
	pk_mount || { pk_not_ok "mount pkernfs"; return 1; }

	mkdir -p "$PK_MNT/vm0"
	echo "pkernfs keeps this file across kexec" >"$PK_MNT/README"
	fill write "$PK_MNT/vm0/ram-write.bin" $((8 << 20)) 1
	fill mmap "$PK_MNT/vm0/ram-mmap.bin" $((4 << 20)) 2
	fill write "$PK_MNT/vm0/small.bin" 4096 3
	say "files written (write() and mmap()):"
	list_files

	(cd "$PK_MNT" && data_files | xargs sha256sum) >"$SUMS"
	say "sha256 before the live update:"
	sed 's/^\(.\{16\}\)[^ ]*/  \1.../' "$SUMS"

	rm -f "$PK_STATE/demo.edu" "$PK_DMA_HOLDER" "$PK_DMA_STARTED"
	if edu=$(vfio_edu); then
		if pk_bind_vfio "$edu"; then
			say "edu PCI device $edu bound to vfio-pci"
			vmm stage1 "$edu" && echo "$edu" >"$PK_STATE/demo.edu"
		else
			say "FAIL: cannot bind edu $edu to vfio-pci"
		fi
	else
		say "($edu)"
	fi

	stage1_qemu
	stage1_nic

	# A VMM keeps guest RAM open through the kexec: pkernfs stays mounted.
	[ -s "$PK_DMA_HOLDER" ] || [ -s "$PK_STATE/demo.nic" ] ||
		umount "$PK_MNT"
	say "kexec into a new kernel with 'liveupdate'..."
	pk_kexec_next
}

# stage2_vfio: the device part of stage 2, if stage 1 had one.
stage2_vfio()
{
	local edu

	[ -s "$PK_STATE/demo.edu" ] || return 0
	edu=$(cat "$PK_STATE/demo.edu")
	if pk_bind_vfio "$edu" && vmm stage2 "$edu"; then
		pk_ok "edu kept doing DMA into guest RAM through the live update"
	else
		pk_not_ok "edu kept doing DMA into guest RAM through the live update"
	fi
}

stage2()
{
	local n bad

	say "new kernel up, booted in $(cut -d' ' -f1 /proc/uptime) s"
	say "mount -t pkernfs none $PK_MNT"
	pk_mount || { pk_not_ok "mount pkernfs after live update"; return 1; }
	say "files found after the live update:"
	list_files

	n=$(wc -l <"$SUMS")
	bad=$(cd "$PK_MNT" && sha256sum -c "$SUMS" 2>&1 | grep -v ': OK$')
	if [ -z "$bad" ]; then
		say "OK: $n files survived live update byte for byte"
		pk_ok "$n files survived live update byte for byte"
	else
		say "FAIL: checksums differ:"
		echo "$bad" | sed 's/^/  /'
		pk_not_ok "files survived live update byte for byte"
	fi
	# The NIC first: until every kept device is taken over, the kernel
	# holds the files of every kept domain, and pkernfs_vfio checks that
	# its own may go once its VMM is done.
	stage2_nic
	stage2_vfio
	stage2_qemu
	umount "$PK_MNT"
	pk_dmesg_check
}

pk_run_stages
