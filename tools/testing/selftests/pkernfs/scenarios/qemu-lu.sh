#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# qemu-lu: a real, unmodified QEMU keeps its VM across the live update,
# with guest RAM in pkernfs.
#
# The VMM is Debian's qemu-system-x86_64 from the scenario's disk
# (qemu-lu.qemu), run by pkernfs_qemu; its VM runs inner/inner_guest.c,
# which fills its RAM with a pattern, counts, and verifies its RAM on
# request.  The RAM is a shared memory-backend-file in pkernfs.
#
# Stage 1: QEMU refuses a pkernfs file smaller than the VM's RAM and a
# private mapping of one.  vm0 (64 MiB in pkernfs) and vm1 (16 MiB on
# tmpfs, the negative case) run, then each is stopped and its device
# state, and only that (x-ignore-shared), migrated into a pkernfs file;
# QEMU exits and the host kexecs with 'liveupdate'.
#
# Stage 2: QEMU starts again on the same files with -incoming; vm0's
# memory holds the boot id and counter it stopped with, it runs on from
# there and every word of its RAM verifies.  vm1's RAM went with the old
# kernel's tmpfs, and that is seen.

. /scenarios/lib.sh

setup()
{
	pk_check "stage $PK_STAGE: mount" pk_mount || pk_done
	pk_check "stage $PK_STAGE: mount the VMM's disk" pk_mount_vmm ||
		pk_done
}

stage1()
{
	setup
	truncate -s 32M "$PK_MNT/small.ram"
	pk_run pkernfs_qemu start small 64 -x "does not match 'size' option"
	pk_run pkernfs_qemu start private 16 -p \
		-x "unable to map backing store for guest RAM: Invalid argument"
	rm -f "$PK_MNT/small.ram" "$PK_MNT/private.ram"

	pk_run pkernfs_qemu start vm1 16 -d /tmp
	pk_run pkernfs_qemu save vm1
	pk_run pkernfs_qemu start vm0 64
	pk_run pkernfs_qemu save vm0
	pk_dmesg_check
	pk_kexec_next
}

stage2()
{
	setup
	pk_run pkernfs_qemu resume vm1 -l
	pk_run pkernfs_qemu resume vm0
	# pkernfs_qemu waits for QEMU to be gone, not only for its socket.
	pk_check "stage 2: umount once QEMU has quit" umount "$PK_MNT"
	pk_dmesg_check
}

pk_run_stages
