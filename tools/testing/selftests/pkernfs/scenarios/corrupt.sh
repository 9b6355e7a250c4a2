#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# corrupt: the corruption campaign.  pkernfs_corrupt builds a tree, saves
# the region and then, case by case, damages the unmounted region through
# /dev/mem and mounts: every case must be refused with a log line, or mount
# and pass pkernfs-fsck.  The seed comes from pkt.seed= (random otherwise);
# pkt.case=K replays the one case K of that seed, verbosely; pkt.cases=N
# runs N cases instead of 220 (about 0.1 s each under TCG).

. /scenarios/lib.sh

pk_require_fs

seed=$(pk_seed)
base=$(pk_region_base)
size=$(pk_region_size)
cases=$(pk_cmdline_arg pkt.cases) || cases=220
pk_log "seed $seed (rerun with: vmtest.sh -s corrupt -a pkt.seed=$seed)"

if case=$(pk_cmdline_arg pkt.case); then
	pk_run pkernfs_corrupt --base "$base" --size "$size" --seed "$seed" \
		--case "$case"
else
	pk_run pkernfs_corrupt --base "$base" --size "$size" --seed "$seed" \
		--cases "$cases"
fi
pk_check "region is unmounted" sh -c "! grep -q ' pkernfs ' /proc/mounts"
pk_check "pkernfs-fsck: the restored region is clean" \
	pkernfs-fsck --base "$base" --size "$size" /dev/mem
pk_dmesg_check
pk_done
