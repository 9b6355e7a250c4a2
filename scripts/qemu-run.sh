#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot build/bzImage and build/initramfs.cpio under QEMU for one scenario.
# The kernel console (ttyS0) goes to DIR/console.log and the test output
# (ttyS1) to DIR/output.log.  A scenario may kexec several times within the
# one QEMU run; QEMU exits when the guest powers off or panics.
#
# Exit status: QEMU's, or 124 if the timeout expired.

set -eu

. "$(dirname "$0")/common.sh"

# The persistent region: 256M at 1G, removed from the e820 map and handed to
# pkernfs.  scenarios/NAME.boot, if present, replaces these arguments.
region_args="memmap=256M%1G pkernfs=256M!1G"
# no_timer_check: under TCG on a loaded host the IO-APIC timer check can
# miss its ticks and panic ("timer doesn't work through Interrupt-remapped
# IO-APIC"); virtual machines skip it as a rule.
# no5lvl: with -cpu max the guest would use 5-level paging, and then a
# KASAN kernel can report a false "wild-memory-access" when an interrupt
# arrives while identify_boot_cpu() has cleared the CPU feature bits, LA57
# among them, that KASAN_SHADOW_START is computed from (seen about once in
# 50 kexecs; upstream thread "kasan: Fix false-positive wild-memory-access
# on x86 under 5-level paging", June 2026).  pkernfs does not care which
# paging mode the host uses.
base_args="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 nopat no_timer_check no5lvl"

usage()
{
	cat <<EOT
Usage: $0 [-f] [-t SECONDS] [-o DIR] [-a ARGS] [-m MEM] [-c CPU] SCENARIO

Boot the pkernfs test kernel and run scenario SCENARIO.

	-f	follow the test output (ttyS1) on stdout while QEMU runs
	-t	timeout for the whole run (default: 300)
	-o	directory for console.log and output.log (default: build/vm/SCENARIO)
	-a	extra kernel command line arguments
	-m	guest memory (default: 2G)
	-c	QEMU -cpu model and features (default: max)
EOT
}

# scenario_file NAME.EXT: the file of a scenario, in scenarios/ or, for the
# benchmark that vmtest.sh must not run, in bench/.
scenario_file()
{
	if [ -f "$test_dir/bench/$1" ]; then
		echo "$test_dir/bench/$1"
	else
		echo "$test_dir/scenarios/$1"
	fi
}

# scenario_args NAME: the region arguments for scenario NAME.
scenario_args()
{
	local boot

	boot=$(scenario_file "$1.boot")
	if [ -f "$boot" ]; then
		sed -e 's/#.*//' "$boot" | tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//'
	else
		echo "$region_args"
	fi
}

# scenario_qemu_args NAME: extra QEMU arguments of scenario NAME, from
# NAME.qemu if present (e.g. a second device), comments dropped.
scenario_qemu_args()
{
	local f

	f=$(scenario_file "$1.qemu")
	[ -f "$f" ] && sed -e 's/#.*//' "$f" | tr -s ' \n' '  '
	return 0
}

# scenario_sender NAME: "RATE SECONDS" from NAME.sender, if present: the
# scenario's NIC is fed test frames at RATE a second for at most SECONDS
# by host/pkernfs_frame_sender, through a loopback UDP port that replaces
# @NIC_PORT@ in NAME.qemu (and that port + 1, @NIC_PEER_PORT@, where
# QEMU would send what the guest transmits).
scenario_sender()
{
	local f

	f=$(scenario_file "$1.sender")
	[ -f "$f" ] && sed -e 's/#.*//' "$f" | tr -s ' \n' '  '
	return 0
}

# free_udp_port: a port P such that neither P nor P + 1 has a UDP socket
# bound here (/proc/net/udp lists them in hex), below Linux's ephemeral
# range so that no socket picks it meanwhile.  QEMU binds with
# SO_REUSEADDR and would share a port silently; only two runs that pick
# in the same instant, before either QEMU has bound, can meet.
free_udp_port()
{
	local used port

	used=" $(tail -n +2 /proc/net/udp | while read -r _ addr _; do
		echo $((16#${addr#*:}))
	done | tr '\n' ' ')"
	while :; do
		port=$((20000 + RANDOM % 12000))
		case $used in
		*" $port "* | *" $((port + 1)) "*) ;;
		*) echo "$port"; return 0 ;;
		esac
	done
}

# TCG unless PKT_ACCEL says otherwise: on this kind of machine /dev/kvm may
# exist and still abort QEMU with -cpu max ("failed to set MSR 0x10a").
qemu_accel()
{
	echo "${PKT_ACCEL:-tcg}"
}

main()
{
	local follow=0 timeout=300 dir= extra= scenario cmdline pid rc=0 start opt boots
	local sender sender_pid= port
	local -a qemu_extra
	local mem=2G cpu=max
	# A kernel under development can be booted in place of the usual one.
	local kernel=${PKT_KERNEL:-$build/bzImage}
	local initrd=${PKT_INITRD:-$build/initramfs.cpio}

	while getopts 'hft:o:a:m:c:' opt; do
		case $opt in
		f) follow=1 ;;
		t) timeout=$OPTARG ;;
		o) dir=$OPTARG ;;
		a) extra=$OPTARG ;;
		m) mem=$OPTARG ;;
		c) cpu=$OPTARG ;;
		h) usage; exit 0 ;;
		*) usage >&2; exit 1 ;;
		esac
	done
	shift $((OPTIND - 1))
	[ $# -eq 1 ] || { usage >&2; exit 1; }
	scenario=$1
	dir=${dir:-$build/vm/$scenario}

	[ -f "$(scenario_file "$scenario.sh")" ] ||
		die "no scenario $scenario in ${test_dir#"$repo/"}/scenarios"
	[ -f "$kernel" ] && [ -f "$initrd" ] ||
		die "$kernel or $initrd missing: make initramfs"

	cmdline="$base_args $(scenario_args "$scenario")"
	read -r -a qemu_extra <<<"$(scenario_qemu_args "$scenario")"
	# @VMM_DISK@: the qemu-lu scenario's disk (scripts/mkvmmdisk.sh).
	case " ${qemu_extra[*]-} " in
	*@VMM_DISK@*)
		[ -f "$build/vmm.img" ] || die "$build/vmm.img missing: make initramfs"
		qemu_extra=("${qemu_extra[@]//@VMM_DISK@/$build/vmm.img}")
		;;
	esac
	sender=$(scenario_sender "$scenario")
	if [ -n "$sender" ]; then
		port=$(free_udp_port)
		qemu_extra=("${qemu_extra[@]//@NIC_PORT@/$port}")
		qemu_extra=("${qemu_extra[@]//@NIC_PEER_PORT@/$((port + 1))}")
	fi
	cmdline="$cmdline pkt.scenario=$scenario pkt.stage=1${extra:+ $extra}"

	mkdir -p "$dir"
	rm -f "$dir/console.log" "$dir/output.log"
	touch "$dir/output.log"
	echo "$cmdline" >"$dir/cmdline"

	say QEMU "$scenario"
	start=$SECONDS
	timeout -k 10 "$timeout" qemu-system-x86_64 \
		-machine q35,kernel-irqchip=split -accel "$(qemu_accel)" \
		-cpu "$cpu" -smp 2 -m "$mem" \
		-device intel-iommu,intremap=on -device edu \
		${qemu_extra[@]+"${qemu_extra[@]}"} \
		-nographic -no-reboot -nodefaults -monitor none \
		-serial "file:$dir/console.log" -serial "file:$dir/output.log" \
		-kernel "$kernel" -initrd "$initrd" \
		-append "$cmdline" </dev/null >"$dir/qemu.log" 2>&1 &
	pid=$!
	if [ -n "$sender" ]; then
		# shellcheck disable=SC2086 # RATE SECONDS
		"$build/host-tools/pkernfs_frame_sender" "$port" $sender \
			>"$dir/sender.log" 2>&1 &
		sender_pid=$!
	fi
	trap 'kill "$pid" $sender_pid 2>/dev/null; exit 130' INT TERM
	if [ "$follow" -eq 1 ]; then
		tail -n +1 -f --pid="$pid" "$dir/output.log" | tr -d '\r'
	fi
	wait "$pid" || rc=$?
	trap - INT TERM
	if [ -n "$sender_pid" ]; then
		kill "$sender_pid" 2>/dev/null || true
		wait "$sender_pid" || true
		say SENDER "$(cat "$dir/sender.log")"
	fi

	boots=$(grep -c 'Linux version' "$dir/console.log" 2>/dev/null || true)
	case $rc in
	0)
		say QEMU "$scenario: ${boots:-0} boot(s) in $((SECONDS - start))s"
		;;
	124)
		say QEMU "$scenario: TIMED OUT after ${timeout}s, ${boots:-0} boot(s)"
		;;
	*)
		say QEMU "$scenario: QEMU failed ($rc):"
		sed 's/^/    /' "$dir/qemu.log"
		;;
	esac
	return "$rc"
}

main "$@"
