#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# bench: the guest side of 'make bench' (scripts/bench.sh), one QEMU run.
#
# Stage 1 measures, side by side and PKB_REPS times each, interleaved:
# first touch of a 1G mapping on pkernfs, tmpfs (huge=never) and hugetlbfs;
# pkernfs mount time with 10, 1000 and as many files as there are free
# inodes; region use for 1 file of 1G and 1000 files of 4K;
# create/stat/unlink of 4000 files against tmpfs; VFIO MAP_DMA of 1G of
# pkernfs guest RAM for QEMU's edu (bound to vfio-pci) with a persistent
# and a normal domain, and with VFIO resolving pkernfs memory a page at a
# time.
#
# The later stages measure the live-update blackout, from the TSC (constant
# with -cpu max,+invtsc, and not reset by kexec): a stamp just before the
# kexec system call, another once the next kernel's /init has mounted
# pkernfs and checked every file's size.  The stages run in cycles of
#
#   pk --16M--> pk --1G--> pk --x--> plain --plain--> plain --x--> pk
#
# where "pk" kernels have pkernfs= and "plain" ones only memmap= (the same
# memory map, no pkernfs), so each cycle gives one sample of a kexec with
# 16M and with 1G in pkernfs, and one of a plain kexec between two kernels
# without it.  Transitions marked x mix the two and are not measured.
#
# For figure 6 each cycle also has a "vfio" kexec between two pk kernels
# (after the 1G one): a holder keeps 1G of guest RAM mapped in a
# persistent domain across it, and the next kernel times MAP_DMA with
# VFIO_DMA_MAP_FLAG_LIVE_UPDATE against a full MAP_DMA of the same range.
#
# For figure 7 each cycle also has a "nic" kexec between two pk kernels:
# QEMU's e1000e, fed 1000 frames a second by the host (bench.sender),
# keeps receiving into pkernfs guest RAM through it (pkernfs_nic, as in
# scenarios/nic-rx.sh), and the next kernel stamps the TSC once the
# container is re-attached and reports the device side: frames received
# during the kexec, the longest gap between two, losses.
#
# For figure 8 each cycle also has a "qemu64" and a "qemu512" kexec between
# two pk kernels: a real QEMU (scenarios/qemu-lu.sh, from the VMM disk) runs
# a VM with 64 MiB or 512 MiB of RAM in pkernfs, is stopped and saves its
# device state (x-ignore-shared) into pkernfs; the next kernel restores it
# with -incoming and continues it.  pkernfs_qemu stamps stop, saved, QEMU
# up, restored and cont, so the VM's pause splits into save, kexec and
# boot, mount and restore.
#
# For figure 9 each cycle also visits the two regions that bench.boot
# reserves besides the main one, 256M and 16G: one kexec from a kernel
# with pkernfs= on that region into another such kernel, each measured
# like figure 2's with 16M in pkernfs, and pkernfs_init's time from
# initcall_debug on every boot but the one that formats the region.
# Kernels that change regions kexec without liveupdate, so that a
# region's first boot may format it.
#
# pkt.figures=N,M,... on the command line runs only those figures
# (scripts/bench.sh -f); the default is all of them.
#
# Output lines are "sample ...", "stamp ..." and "info ..." (see
# pkbench.c) plus TAP for the sanity checks.

. /scenarios/lib.sh

PKB=$PK_BIN/pkbench
PKB_REPS=$(pk_cmdline_arg pkt.reps) || PKB_REPS=5
PKB_FIGURES=$(pk_cmdline_arg pkt.figures) || PKB_FIGURES=1,2,3,4,5,6,7,8,9
PLAN=$PK_STATE/bench.plan
MANIFEST=$PK_STATE/bench.manifest
TMPFS=/mnt/tmpfs
HUGE=/mnt/huge
EDU=$PK_STATE/bench.edu
NIC=$PK_STATE/bench.nic
VFIO_SIZE=1G
VFIO_BY_BLOCK=/sys/module/vfio_iommu_type1/parameters/pkernfs_by_block
# Figure 9's regions, as bench.boot reserves them.
REGION_256M=256M!0x1a0000000
REGION_16G=16G!0x1c0000000

# pk_kexec_next ends in 'kexec -e'; let pkbench stamp the TSC and make the
# kexec system call itself.
kexec()
{
	if [ "$1" = -e ]; then
		"$PKB" kexec "$(cat "$PK_STATE/bench.label")"
	else
		command kexec "$@"
	fi
}

info()
{
	echo "info $*"
}

# figure N: figure N is to be measured.
figure()
{
	case ",$PKB_FIGURES," in *",$1,"*) return 0 ;; esac
	return 1
}

machine_info()
{
	info kernel "$(uname -r)"
	info vcpus "$(nproc)"
	info mem_kib "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
	info cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	info thp "$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
	info region "$(pk_cmdline_arg pkernfs)"
	info reps "$PKB_REPS"
	info figures "$PKB_FIGURES"
	"$PKB" tsc-hz
}

bench_touch()
{
	local r fs

	for r in $(seq "$PKB_REPS"); do
		for fs in pkernfs:$PK_MNT tmpfs:$TMPFS hugetlbfs:$HUGE; do
			"$PKB" touch "${fs%%:*}" "${fs#*:}" 1G ||
				pk_not_ok "first touch on ${fs%%:*}"
		done
	done
}

# bench_mount: mount and restore with 10, 1000, and as many files as there
# are free inodes ("max": 4093, beside the root, iommu/ and root-pgtables).
bench_mount()
{
	local n count max

	max=$(stat -f -c %d "$PK_MNT")
	info mount_max "$max"
	for n in 10 1000 max; do
		count=$n
		[ "$n" = max ] && count=$max
		"$PKB" mount "$n" "$PK_MNT" "$count" "$PKB_REPS" ||
			pk_not_ok "mount with $count files"
	done
}

bench_meta()
{
	"$PKB" meta 1x1G "$PK_MNT" 1 1G || pk_not_ok "region use, 1 file of 1G"
	"$PKB" meta 1000x4K "$PK_MNT" 1000 4K ||
		pk_not_ok "region use, 1000 files of 4K"
}

bench_dirops()
{
	local r

	mkdir -p "$PK_MNT/d" "$TMPFS/d"
	for r in $(seq "$PKB_REPS"); do
		"$PKB" dirops pkernfs "$PK_MNT/d" 4000 || pk_not_ok "dirops pkernfs"
		"$PKB" dirops tmpfs "$TMPFS/d" 4000 || pk_not_ok "dirops tmpfs"
	done
	rmdir "$PK_MNT/d" "$TMPFS/d"
}

# vfio_setup: bind the first edu to vfio-pci and note its BDF in $EDU.
vfio_setup()
{
	local edu

	rm -f "$EDU"
	edu=$(pk_edu_devices | sed -n 1p)
	if [ -z "$edu" ] || [ ! -e /dev/vfio/vfio ] || [ ! -d "$PK_MNT/iommu" ]; then
		pk_not_ok "VFIO with persistent page tables and an edu device"
		return 1
	fi
	pk_check "bind edu $edu to vfio-pci" pk_bind_vfio "$edu" || return 1
	echo "$edu" >"$EDU"
}

# bench_vfio: MAP_DMA in a persistent and a normal domain, and in a
# persistent one with the page-by-page path of VFIO before pkernfs_by_block.
bench_vfio()
{
	local r v

	vfio_setup || return 1
	if [ ! -w "$VFIO_BY_BLOCK" ]; then
		pk_not_ok "no $VFIO_BY_BLOCK"
		return 1
	fi
	for r in $(seq "$PKB_REPS"); do
		for v in persistent normal persistent-by-page; do
			[ "$v" = persistent-by-page ] && echo 0 >"$VFIO_BY_BLOCK"
			"$PKB" vfio-map "$v" "$PK_MNT" "$(cat "$EDU")" \
				"$VFIO_SIZE" || pk_not_ok "vfio-map $v"
			echo 1 >"$VFIO_BY_BLOCK"
		done
	done
	rm -f "$PK_MNT/pkbench-ram"
}

# vfio_hold: leave 1G of guest RAM mapped in a persistent domain, held
# open by a child of pkbench through the kexec, and say so in MANIFEST.
vfio_hold()
{
	# A kexec since stage 1 (figure 2's) leaves edu without its driver.
	pk_bind_vfio "$(cat "$EDU")" || pk_not_ok "bind edu to vfio-pci again"
	"$PKB" vfio-hold "$PK_MNT" "$(cat "$EDU")" "$VFIO_SIZE" ||
		pk_not_ok "vfio-hold"
	echo "$(pk_bytes "$VFIO_SIZE") pkbench-ram" >"$MANIFEST"
}

# vfio_remap: after the "vfio" kexec, re-attach and time the re-map.
vfio_remap()
{
	local edu

	edu=$(cat "$EDU")
	if ! pk_bind_vfio "$edu"; then
		pk_not_ok "bind edu $edu to vfio-pci again"
		return 1
	fi
	"$PKB" vfio-remap "$PK_MNT" "$edu" "$VFIO_SIZE" || pk_not_ok "vfio-remap"
}

# nic_setup: bind the e1000e to vfio-pci and note its BDF in $NIC.
nic_setup()
{
	local nic

	rm -f "$NIC"
	nic=$(pk_pci_devices "$PK_E1000E_ID" | sed -n 1p)
	if [ -z "$nic" ] || [ ! -d "$PK_MNT/iommu" ]; then
		pk_not_ok "an e1000e and persistent page tables"
		return 1
	fi
	pk_check "bind e1000e $nic to vfio-pci" pk_bind_vfio "$nic" || return 1
	echo "$nic" >"$NIC"
}

# nic_start: the NIC receives into nic-ram; pkernfs_nic leaves a poller
# reading it through the kexec.
nic_start()
{
	local nic

	nic=$(cat "$NIC")
	pk_bind_vfio "$nic" || pk_not_ok "bind e1000e $nic to vfio-pci"
	"$PK_BIN/pkernfs_nic" start "$nic" >/dev/null ||
		pk_not_ok "pkernfs_nic start"
	echo "$(pk_bytes 18M) nic-ram" >"$MANIFEST"
}

# nic_resume: after the "nic" kexec, re-attach, stamp, read the ring on,
# and leave pkernfs without the NIC's files for the next cycle.
nic_resume()
{
	local nic

	nic=$(cat "$NIC")
	if ! pk_bind_vfio "$nic"; then
		pk_not_ok "bind e1000e $nic to vfio-pci again"
		return 1
	fi
	PKERNFS_NIC_BENCH=nic "$PK_BIN/pkernfs_nic" resume "$nic" |
		grep -E '^(stamp|sample|not ok|# nic:)'
	rm -f "$PK_MNT/nic-ram" "$PK_MNT/iommu/nic-dom" ||
		pk_not_ok "remove the NIC's files"
	: >"$MANIFEST"
}

# qemu_run LABEL CMD...: pkernfs_qemu CMD... for the LABEL kexec, its
# stamps, samples and failures on the output, a failure also if its exit
# status says so.
qemu_run()
{
	local label=$1 out rc=0

	shift
	out=$(PKERNFS_QEMU_BENCH=$label "$PK_BIN/pkernfs_qemu" "$@") || rc=$?
	echo "$out" | grep -E '^(stamp|sample|not ok|Bail out|# qemu:)'
	[ "$rc" -eq 0 ] || pk_not_ok "pkernfs_qemu $*: exit status $rc"
}

# qemu_save MIB: a real QEMU runs a VM with MIB MiB of RAM in pkernfs,
# then stops it and saves its device state into pkernfs for the next
# kernel.
qemu_save()
{
	pk_mount_vmm || pk_not_ok "mount the VMM disk"
	qemu_run "qemu$1" start vm "$1"
	qemu_run "qemu$1" save vm
	echo "$(pk_bytes "$1"M) vm.ram" >"$MANIFEST"
}

# qemu_resume LABEL: after the LABEL kexec, restore the VM, continue it,
# and leave pkernfs without its files for the next cycle.
qemu_resume()
{
	pk_mount_vmm || pk_not_ok "mount the VMM disk"
	qemu_run "$1" resume vm
	rm -f "$PK_MNT/vm.ram" "$PK_MNT/vm.state" "$PK_MNT/vm.saved" ||
		pk_not_ok "remove the VM's files"
	: >"$MANIFEST"
}

# set_data SIZE: pkernfs (mounted) holds one file of SIZE, as MANIFEST says.
set_data()
{
	"$PKB" size "$PK_MNT/vm-ram" "$1" || pk_not_ok "resize vm-ram to $1"
	echo "$(pk_bytes "$1") vm-ram" >"$MANIFEST"
}

# The kernels after stage 1, one line each: its kind (pk, pk256M and
# pk16G have pkernfs= on the main region and on figure 9's, plain has
# none), and the data a kernel with pkernfs leaves in it before a kexec
# into one of the same kind.
write_plan()
{
	local c

	for c in $(seq "$PKB_REPS"); do
		figure 2 && echo "pk 16M" && echo "pk 1G"
		[ -s "$EDU" ] && echo "pk vfio"
		[ -s "$NIC" ] && echo "pk nic"
		figure 8 && echo "pk qemu64" && echo "pk qemu512"
		if figure 9; then
			echo "pk256M -"
			echo "pk256M 16M"
			echo "pk16G -"
			echo "pk16G 16M"
		fi
		if figure 2 || figure 7 || figure 8 || figure 9; then
			echo "plain -"
			echo "plain -"
			[ "$c" -lt "$PKB_REPS" ] && echo "pk -"
		fi
	done >"$PLAN"
}

# region_of KIND: the pkernfs= value of a kernel of that kind.
region_of()
{
	case $1 in
	pk256M) echo "$REGION_256M" ;;
	pk16G) echo "$REGION_16G" ;;
	*) cat "$PK_STATE/bench.region" ;;
	esac
}

# kind_now: the kind of the running kernel.
kind_now()
{
	local region

	region=$(pk_cmdline_arg pkernfs) || { echo plain; return; }
	case $region in
	"$REGION_256M") echo pk256M ;;
	"$REGION_16G") echo pk16G ;;
	*) echo pk ;;
	esac
}

# init_sample KIND: how long pkernfs_init took in this boot.
init_sample()
{
	local us

	us=$(dmesg | awk '/initcall pkernfs_init\+/ {
		for (i = 1; i < NF; i++) if ($i == "after") print $(i + 1) }')
	if [ -n "$us" ]; then
		echo "sample init $1 time_us $us"
	else
		pk_not_ok "no initcall_debug line for pkernfs_init"
	fi
}

stage1()
{
	machine_info
	echo 520 >/proc/sys/vm/nr_hugepages
	info hugepages "$(cat /proc/sys/vm/nr_hugepages)"
	mkdir -p "$TMPFS" "$HUGE"
	pk_check "mount pkernfs" pk_mount || return 1
	mount -t tmpfs -o huge=never,size=2G none "$TMPFS"
	mount -t hugetlbfs -o pagesize=2M none "$HUGE"

	figure 1 && bench_touch
	figure 3 && bench_mount
	figure 4 && bench_meta
	figure 5 && bench_dirops
	figure 6 && bench_vfio
	figure 7 && nic_setup
	umount "$TMPFS" "$HUGE"
	echo 0 >/proc/sys/vm/nr_hugepages

	pk_cmdline_arg pkernfs >"$PK_STATE/bench.region"
	write_plan
	leave pk
}

# leave KIND: kexec into the next kernel of the plan, from a KIND kernel.
leave()
{
	local next data label lu=

	read -r next data <"$PLAN" || {
		[ "$1" != plain ] && umount "$PK_MNT"
		pk_dmesg_check
		pk_done
	}
	sed -i 1d "$PLAN"
	label=x
	if [ "$1" = pk ] && [ "$next" = pk ] && [ "$data" = vfio ]; then
		vfio_hold
		label=vfio
	elif [ "$1" = pk ] && [ "$next" = pk ] && [ "$data" = nic ]; then
		nic_start
		label=nic
	elif [ "$1" = pk ] && [ "$next" = pk ] && [ "${data#qemu}" != "$data" ]; then
		qemu_save "${data#qemu}"
		label=$data
	elif [ "$1" = pk ] && [ "$next" = pk ]; then
		set_data "$data"
		label=$data
	elif [ "$1" = "$next" ] && [ "$1" != plain ]; then
		set_data "$data"
		label=region${next#pk}
	fi
	[ "$1" = plain ] && [ "$next" = plain ] && label=plain
	[ "$label" = x ] && : >"$MANIFEST"
	# A VFIO holder keeps guest RAM open: pkernfs stays mounted.
	case $label in
	vfio | nic) ;;
	*) [ "$1" != plain ] && umount "$PK_MNT" ;;
	esac
	echo "$label" >"$PK_STATE/bench.label"
	[ "$next" = "$1" ] || lu=-n
	if [ "$next" = plain ]; then
		pk_kexec_next $lu -d pkernfs
	else
		pk_kexec_next $lu "pkernfs=$(region_of "$next")"
	fi
}

# A later stage: stamp the arrival, then go on with the plan.
stage_next()
{
	local label kind

	label=$(cat "$PK_STATE/bench.label")
	kind=$(kind_now)
	if [ "$kind" = plain ]; then
		"$PKB" arrive "$label" - -
	else
		"$PKB" arrive "$label" "$PK_MNT" "$MANIFEST"
		# Not on a region's first boot, which formats it.
		dmesg | grep -q 'pkernfs: formatting region' ||
			{ figure 9 && init_sample "$kind"; }
		[ "$label" = vfio ] && vfio_remap
		[ "$label" = nic ] && nic_resume
		case $label in qemu*) qemu_resume "$label" ;; esac
	fi
	leave "$kind"
}

pk_require_fs
if [ "$PK_STAGE" -eq 1 ]; then
	stage1
else
	stage_next
fi
pk_done
