#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# kexec-chain: the harness itself, with or without pkernfs.  Two chained
# kexecs into the same image; each stage checks that the stage counter, the
# 'liveupdate' parameter and a note left in the repacked initrd arrived.
# pkt.stages=N makes it N boots instead of 3, to hunt rare kexec failures:
#   vmtest.sh -t 1200 -s kexec-chain -a pkt.stages=100

. /scenarios/lib.sh

LAST_STAGE=$(pk_cmdline_arg pkt.stages) || LAST_STAGE=3

if [ "$PK_STAGE" -gt 1 ]; then
	pk_check "stage $PK_STAGE: note from stage $((PK_STAGE - 1)) survived" \
		grep -qx "stage $((PK_STAGE - 1))" "$PK_STATE/note"
	pk_check "stage $PK_STAGE: liveupdate on the command line once" \
		sh -c '[ "$(tr " " "\n" </proc/cmdline | grep -cx liveupdate)" -eq 1 ]'
fi
echo "stage $PK_STAGE" >"$PK_STATE/note"
pk_dmesg_check

[ "$PK_STAGE" -lt "$LAST_STAGE" ] && pk_kexec_next
pk_done
