#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the pkernfs test scenarios, sourced by each /scenarios/NAME.sh.
#
# A scenario runs in stages, one per kernel: the guest /init runs
# 'NAME.sh STAGE' and a stage that wants another kernel ends in
# pk_kexec_next.  The last stage ends in pk_done, whose sentinel line tells
# the host that the scenario ran to completion.  Scenario-level checks print
# TAP lines (pk_ok, pk_not_ok, pk_skip); test binaries print their own.
#
# Files under $PK_STATE live in the root filesystem, which pk_kexec_next
# packs into the next initrd, so a stage can leave notes (seeds, checksums)
# for the next one without going through pkernfs.

PK_MNT=/mnt/pkernfs
PK_STATE=/var/lib/pkt
PK_BIN=/selftests
PK_STAGE=${1:-1}
PK_SCENARIO=$(basename "$0" .sh)
PK_TESTNO=0

# Kernel log lines that mean something went wrong, whatever the scenario.
# Lockdep reports start with "WARNING:" or "BUG:"; the last lockdep phrase
# catches a report whose first lines were lost.
PK_SPLAT='WARNING:|BUG:|Oops|Kernel panic|general protection fault|Call Trace|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|turning off the locking correctness validator|KASAN|UBSAN'

export PKERNFS_MNT=$PK_MNT

mkdir -p "$PK_MNT" "$PK_STATE"

# TAP for scenario-level checks.  The host renumbers every result line, so
# the numbers only need to be sane within a stage.
pk_ok()
{
	PK_TESTNO=$((PK_TESTNO + 1))
	echo "ok $PK_TESTNO $PK_SCENARIO: $*"
}

pk_not_ok()
{
	PK_TESTNO=$((PK_TESTNO + 1))
	echo "not ok $PK_TESTNO $PK_SCENARIO: $*"
}

# pk_skip WHAT REASON
pk_skip()
{
	PK_TESTNO=$((PK_TESTNO + 1))
	echo "ok $PK_TESTNO $PK_SCENARIO: $1 # SKIP $2"
}

# pk_check WHAT CMD...: ok if CMD succeeds, not ok (with its output) if not.
pk_check()
{
	local what=$1 out

	shift
	if out=$("$@" 2>&1); then
		pk_ok "$what"
		return 0
	fi
	pk_not_ok "$what"
	[ -n "$out" ] && echo "$out" | sed 's/^/# /'
	return 1
}

pk_log()
{
	echo "# $*"
}

# pk_done: the sentinel the host waits for.  Only the last stage prints it.
pk_done()
{
	echo "# pkt: scenario done"
	exit 0
}

# pk_run_stages: the body of a scenario written as functions stage1,
# stage2, ...: run this boot's (pkt.stage=N runs stageN), then pk_done.  A
# stage that kexecs does not come back.
pk_run_stages()
{
	pk_require_fs
	if command -v "stage$PK_STAGE" >/dev/null; then
		"stage$PK_STAGE"
	else
		pk_not_ok "no stage $PK_STAGE in $PK_SCENARIO"
	fi
	pk_done
}

# pk_cmdline_arg NAME: the value of NAME= on the kernel command line.
pk_cmdline_arg()
{
	local arg

	for arg in $(cat /proc/cmdline); do
		case "$arg" in
		"$1"=*)
			echo "${arg#*=}"
			return 0
			;;
		esac
	done
	return 1
}

# pk_bytes SIZE: SIZE with an optional K/M/G suffix, in bytes.
pk_bytes()
{
	case "$1" in
	*[kK]) echo $((${1%?} << 10)) ;;
	*[mM]) echo $((${1%?} << 20)) ;;
	*[gG]) echo $((${1%?} << 30)) ;;
	*) echo $(($1)) ;;
	esac
}

# pk_region_base: physical base address of the pkernfs=SIZE!BASE region.
pk_region_base()
{
	local arg

	arg=$(pk_cmdline_arg pkernfs) || return 1
	pk_bytes "${arg#*!}"
}

# pk_region_size: size in bytes of the pkernfs=SIZE!BASE region.
pk_region_size()
{
	local arg

	arg=$(pk_cmdline_arg pkernfs) || return 1
	pk_bytes "${arg%%!*}"
}

# pk_region_sum: sha256 of the region's metadata blocks (superblock,
# bitmap and inode store, the first 4 MiB), read through /dev/mem, to show
# that a refused mount or a refused boot wrote nothing there.  Data blocks
# are left out: the IOMMU's context tables live in one, and the kernel
# clears the entries of devices it does not keep on its way to a kexec.
pk_region_sum()
{
	local base

	base=$(pk_region_base) || return 1
	dd if=/dev/mem bs=1M skip=$((base >> 20)) count=4 2>/dev/null |
		sha256sum | cut -d' ' -f1
}

# pk_seed: the scenario's seed, pkt.seed= from the command line or a random
# one, chosen in stage 1 and kept in $PK_STATE for the later stages.
pk_seed()
{
	if [ "$PK_STAGE" -eq 1 ]; then
		pk_cmdline_arg pkt.seed >"$PK_STATE/seed" ||
			od -An -N4 -tu4 /dev/urandom | tr -d ' ' >"$PK_STATE/seed"
	fi
	cat "$PK_STATE/seed"
}

# pk_require_fs: end the scenario with a failure if the kernel has no
# pkernfs.  The test kernel is built for pkernfs (build-kernel.sh refuses a
# .config without it), so a kernel without it is a broken build, never a
# reason to skip.  This looks at the kernel's configuration, not at
# /proc/filesystems, so a pkernfs that fails to register is still tested
# (and caught).
pk_require_fs()
{
	grep -q '^CONFIG_PKERNFS_FS=y' /etc/kconfig && return 0
	pk_not_ok "kernel built with CONFIG_PKERNFS_FS=y"
	pk_done
}

# pk_kconfig SYMBOL...: the kernel was built with every CONFIG_SYMBOL=y.
pk_kconfig()
{
	local sym

	for sym in "$@"; do
		grep -q "^CONFIG_$sym=y" /etc/kconfig || return 1
	done
	return 0
}

# pk_mount [OPTIONS]: mount pkernfs on $PK_MNT.
pk_mount()
{
	mount -t pkernfs ${1:+-o "$1"} none "$PK_MNT"
}

# The VMM disk (scripts/mkvmmdisk.sh: QEMU, its libraries and firmware, the
# inner guest) that NAME.qemu asks for with @VMM_DISK@, and where
# pkernfs_qemu looks for it.
PK_VMM_DEV=/dev/vda
PK_VMM_DIR=/vmm
export PKERNFS_VMM_DIR=$PK_VMM_DIR

# pk_mount_vmm: mount the VMM disk read-only on $PK_VMM_DIR, once a boot.
pk_mount_vmm()
{
	grep -q " $PK_VMM_DIR " /proc/mounts && return 0
	mkdir -p "$PK_VMM_DIR"
	mount -t ext2 -o ro "$PK_VMM_DEV" "$PK_VMM_DIR"
}

# pk_mount_fails WHAT ERRNO_TEXT...: check that mounting fails, with one of
# the given strerror() texts in the error message.
pk_mount_fails()
{
	local what=$1 out msg

	shift
	if out=$(pk_mount 2>&1); then
		umount "$PK_MNT"
		pk_not_ok "$what: mount succeeded"
		return 1
	fi
	for msg in "$@"; do
		case "$out" in
		*"$msg"*)
			pk_ok "$what: mount fails with '$msg'"
			return 0
			;;
		esac
	done
	pk_not_ok "$what: mount fails with an unexpected error"
	echo "# $out"
	return 1
}

# pk_run NAME [ARGS...]: run test binary $PK_BIN/NAME and check its exit
# status; a kselftest exit status of 4 is a skip (which .ci/run fails
# unless it is on its allow-list).  The binary prints its own TAP.
pk_run()
{
	local name=$1 rc=0

	shift
	if [ ! -x "$PK_BIN/$name" ]; then
		pk_not_ok "$name: $PK_BIN/$name not built"
		return 0
	fi
	"$PK_BIN/$name" "$@" || rc=$?
	case $rc in
	0) pk_ok "$name exit status" ;;
	4) pk_skip "$name exit status" "$name skipped" ;;
	*) pk_not_ok "$name exit status $rc" ;;
	esac
	return 0
}

# pk_dma_marks WANT WHAT NAME...: pkernfs-fsck's view of the region (the marks
# are on media, where the next kernel finds them): each NAME carries a DMA
# mark if WANT is "marked", none if it is "unmarked".
pk_dma_marks()
{
	local want=$1 what=$2 dump name found=0 marked=0 expect

	shift 2
	dump=$(pkernfs-fsck --dump --base "$(pk_region_base)" \
		--size "$(pk_region_size)" /dev/mem 2>&1)
	for name in "$@"; do
		echo "$dump" | grep -q "^ *$name  ino " && found=$((found + 1))
		echo "$dump" | grep -q "^ *$name  ino [0-9]* [a-z-]*,dma " &&
			marked=$((marked + 1))
	done
	expect=$#
	[ "$want" = marked ] || expect=0
	if [ "$found" -eq $# ] && [ "$marked" -eq "$expect" ]; then
		pk_ok "$what: $* $want for DMA on media"
	else
		pk_not_ok "$what: $* $want for DMA on media ($found found, $marked marked)"
		echo "$dump" | grep -E "$(echo "$@" | tr ' ' '|')|problem" |
			sed 's/^/# /'
	fi
}

# pk_dmesg_check: no splat in this kernel's log.
pk_dmesg_check()
{
	local splat

	splat=$(dmesg | grep -E "$PK_SPLAT") || {
		pk_ok "stage $PK_STAGE: kernel log is clean"
		return 0
	}
	pk_not_ok "stage $PK_STAGE: kernel log is clean"
	echo "$splat" | head -n 20 | sed 's/^/# /'
	return 1
}

# pk_dmesg_explains WHAT: pkernfs said something about what it refused, in at
# most three lines (the command line echoes do not count).
pk_dmesg_explains()
{
	local lines n

	lines=$(dmesg | grep -i pkernfs |
		grep -v -e 'Command line:' -e 'command line:' \
			-e 'command line parameters')
	n=$(echo "$lines" | grep -c .)
	echo "$lines" | sed 's/^/# /'
	if [ "$n" -ge 1 ] && [ "$n" -le 3 ]; then
		pk_ok "$1: kernel log explains it"
	else
		pk_not_ok "$1: kernel log explains it ($n pkernfs lines)"
	fi
}

# pk_repack FILE: pack the root filesystem into FILE, a cpio for the next
# kernel.  -xdev keeps /proc, /sys, /dev and /tmp out; /dev/console is
# listed on its own so that the next kernel has a console before /init runs.
pk_repack()
{
	(cd / && { find . -xdev; echo ./dev/console; } |
		cpio -o -H newc >"$1" 2>/dev/null)
}

# pk_kexec_next [-n] [-d NAME]... [NAME=VALUE]...: kexec into the same
# kernel for the next stage.  The command line is the current one with
# pkt.stage incremented, 'liveupdate' added once (-n: dropped instead, a
# plain kexec), parameters named with -d dropped, and parameters given as
# arguments added (replacing any of the same name).
pk_kexec_next()
{
	local drop=" " cmdline= arg name given next=$((PK_STAGE + 1)) lu=1

	while :; do
		case "${1:-}" in
		-d) drop="$drop$2 "; shift 2 ;;
		-n) drop="${drop}liveupdate "; lu=0; shift ;;
		*) break ;;
		esac
	done

	for arg in $(cat /proc/cmdline); do
		name=${arg%%=*}
		case "$drop" in *" $name "*) continue ;; esac
		for given in "$@"; do
			[ "${given%%=*}" = "$name" ] && continue 2
		done
		[ "$name" = pkt.stage ] && arg="pkt.stage=$next"
		cmdline="$cmdline $arg"
	done
	if [ "$lu" -eq 1 ]; then
		case "$cmdline " in
		*" liveupdate "*) ;;
		*) cmdline="$cmdline liveupdate" ;;
		esac
	fi
	cmdline="${cmdline# } $*"

	sync
	pk_repack /tmp/next.cpio || { pk_not_ok "pack the next initrd"; return 1; }
	kexec -l /kernel --initrd=/tmp/next.cpio --command-line="${cmdline% }" || {
		pk_not_ok "stage $PK_STAGE: kexec -l"
		return 1
	}
	echo "# pkt: kexec into stage $next: ${cmdline% }"
	kexec -e -x
	pk_not_ok "stage $PK_STAGE: kexec -e returned"
	return 1
}

# The pkernfs update cut points (CONFIG_PKERNFS_CUT_POINTS, fs/pkernfs/cut.c).
PK_CUT=/sys/kernel/debug/fail_pkernfs_update

# pk_arm_cut POINT [DELAY_MS]: the next update that reaches cut point POINT
# (a name from $PK_CUT/points) stops there for good or, with DELAY_MS, is
# held there that long.
pk_arm_cut()
{
	local n

	n=$(awk -v p="$1" '$2 == p { print $1 }' "$PK_CUT/points")
	[ -n "$n" ] || { echo "no cut point $1 in $PK_CUT/points"; return 1; }
	echo 0 >"$PK_CUT/verbose" &&
		echo 100 >"$PK_CUT/probability" &&
		echo 1 >"$PK_CUT/interval" &&
		echo 1 >"$PK_CUT/times" &&
		echo "${2:-0}" >"$PK_CUT/cut_delay_ms" &&
		echo "$n" >"$PK_CUT/cut_point"
}

# pk_poll TENTHS CMD [ARG]...: run CMD every 0.1 s until it succeeds, at
# most TENTHS times; false if it never did.
pk_poll()
{
	local tries=$1 i=0

	shift
	while ! "$@"; do
		i=$((i + 1))
		[ "$i" -lt "$tries" ] || return 1
		sleep 0.1
	done
}

# pk_in_log TEXT: TEXT is in the kernel log.
pk_in_log()
{
	dmesg | grep -qF "$1"
}

# pk_wait_log TEXT: TEXT appears in the kernel log within 20 s.
pk_wait_log()
{
	pk_poll 200 pk_in_log "$1"
}

# The edu PCI device (QEMU -device edu), passed through with vfio-pci.
PK_EDU_ID=0x1234:0x11e8
# The pid of a process that holds a VFIO container across the kexec and
# starts one last device DMA on SIGUSR1; it creates PK_DMA_STARTED once the
# DMA runs (pkernfs_vfio with PKERNFS_VFIO_DEFER=1).
PK_DMA_HOLDER=/tmp/pkernfs_vfio.pid
PK_DMA_STARTED=/tmp/pkernfs_vfio.started

# QEMU's e1000e (an Intel 82574L), the NIC of the nic-rx scenario.
PK_E1000E_ID=0x8086:0x10d3

# pk_pci_devices VENDOR:DEVICE: the BDFs of those PCI devices, in bus order.
pk_pci_devices()
{
	local d

	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = "$1" ] &&
			echo "${d##*/}"
	done
	return 0
}

# pk_edu_devices: the BDFs of the edu devices, in bus order.
pk_edu_devices()
{
	pk_pci_devices "$PK_EDU_ID"
}

# pk_bind_vfio BDF: hand PCI device BDF to vfio-pci.
pk_bind_vfio()
{
	local dev=/sys/bus/pci/devices/$1 drv

	if [ -e "$dev/driver" ]; then
		drv=$(readlink "$dev/driver")
		[ "${drv##*/}" = vfio-pci ] && return 0
		echo "$1" >"$dev/driver/unbind" || return 1
	fi
	echo vfio-pci >"$dev/driver_override" &&
		echo "$1" >/sys/bus/pci/drivers_probe &&
		[ "$(readlink "$dev/driver" | sed 's,.*/,,')" = vfio-pci ]
}

# pk_pci_command BDF: the PCI command register of BDF, in hex.
pk_pci_command()
{
	od -An -tx2 -j4 -N2 "/sys/bus/pci/devices/$1/config" | tr -d ' '
}

# pk_runtime_pm BDF: the runtime PM status of BDF (active, suspended, ...),
# or 'unsupported' on a kernel without runtime PM.
pk_runtime_pm()
{
	cat "/sys/bus/pci/devices/$1/power/runtime_status" 2>/dev/null ||
		echo unsupported
}

# pk_runtime_pm_is BDF STATUS: the runtime PM status of BDF is STATUS.
pk_runtime_pm_is()
{
	[ "$(pk_runtime_pm "$1")" = "$2" ]
}

# pk_wait_runtime_pm BDF STATUS: the runtime PM status of BDF is STATUS
# within 5 s.  An idle device that a driver lets suspend gets there in
# milliseconds: waiting longer for one that must not would prove nothing.
pk_wait_runtime_pm()
{
	pk_poll 50 pk_runtime_pm_is "$1" "$2"
}

# pk_start_held_dma: have the holder (PK_DMA_HOLDER) start its last DMA and
# wait until it has (the DMA itself takes ~100 ms); false if it did not.
# A scenario calls it from a kexec() wrapper, right before 'kexec -e', so
# that the DMA lands while the kernels switch.
pk_start_held_dma()
{
	[ -s "$PK_DMA_HOLDER" ] || return 1
	kill -USR1 "$(cat "$PK_DMA_HOLDER")" || return 1
	pk_poll 50 test -e "$PK_DMA_STARTED"
}
