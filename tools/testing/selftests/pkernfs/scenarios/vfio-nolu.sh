#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# vfio-nolu: a kexec without 'liveupdate' while a device is kept.  Stage 1
# sets up a persistent domain for edu and holds it (pkernfs_vfio stage1),
# so that the kexec keeps translation on and edu's bus mastering with it.
# The next kernel does not take the tables over and turns translation
# off: a device still mastering would then write to the physical addresses
# its IOVAs happen to be.  Stage 2 checks that the kernel stopped edu's bus
# mastering first and said so, naming it.

. /scenarios/lib.sh

stage1()
{
	local edu

	pk_check "stage 1: mount" pk_mount || pk_done
	edu=$(pk_edu_devices | sed -n 1p)
	[ -n "$edu" ] || { pk_not_ok "an edu device"; pk_done; }
	pk_check "bind edu $edu to vfio-pci" pk_bind_vfio "$edu" || pk_done
	pk_run pkernfs_vfio stage1 "$edu"
	pk_dmesg_check
	pk_kexec_next -n
}

stage2()
{
	local edu cmd stopped

	edu=$(pk_edu_devices | sed -n 1p)
	[ -n "$edu" ] || { pk_not_ok "an edu device"; pk_done; }
	if dmesg | grep -q 'Translation was enabled for .* not in kdump mode'; then
		pk_ok "the kernel found translation left on, and turned it off"
	else
		pk_not_ok "the kernel found translation left on, and turned it off"
	fi
	# Firmware may have left others mastering too (q35's AHCI, which has
	# no driver here): each device stopped gets its line.
	stopped=$(dmesg | grep 'bus mastering stopped: .* turns off the translation')
	echo "${stopped:-# no device stopped}" | sed 's/^/# /'
	if [ "$(echo "$stopped" | grep -c "$edu")" -eq 1 ]; then
		pk_ok "bus mastering of $edu stopped first, in one line"
	else
		pk_not_ok "bus mastering of $edu stopped first, in one line"
	fi
	cmd=$(pk_pci_command "$edu")
	if [ $((0x$cmd & 4)) -eq 0 ]; then
		pk_ok "$edu does not master (command 0x$cmd)"
	else
		pk_not_ok "$edu does not master (command 0x$cmd)"
	fi
	pk_dmesg_check
}

pk_run_stages
