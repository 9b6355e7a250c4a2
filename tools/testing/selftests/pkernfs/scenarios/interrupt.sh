#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# interrupt: every multi-step update of the persistent state, cut short
# between two of its stores and followed at once by a kexec, must leave a
# region that the next kernel mounts, that pkernfs-fsck then calls clean,
# and that has lost at most the change in flight.
#
# One case per boot.  A stage arms one cut point of the fault-injection
# framework (fail_pkernfs_update in debugfs, CONFIG_PKERNFS_CUT_POINTS),
# starts the operation, which stops at that point for good, and kexecs; the
# next stage mounts, checks what the recovery made of the operation and
# that the kernel logged it, that a file no operation touched is intact and
# that every link count is right, unmounts and runs pkernfs-fsck, then sets
# up the next case.

. /scenarios/lib.sh

M=$PK_MNT
PKFILL=$PK_BIN/pkfill
KEEP_SIZE=3M
KEEP_SEED=0x1e1e

# The cases, in order: "cut point|what is done".
CASES="
inode-taken|create a file
inode-ready-unlinked|create a file
linked-before-parent-nlink|mkdir
removed-before-orphan|unlink a file
orphan-flag-before-list|unlink a file
removed-before-orphan|rmdir
rename-source-unlinked|rename across directories
rename-renamed-unlinked|rename across directories
removed-before-orphan|rename over an existing file
grow-blocks-allocated|truncate to grow
grow-table-switched|truncate to grow into a mapping table
shrink-size-written|truncate to shrink
shrink-list-shortened|truncate to shrink
shrink-table-dropped|truncate to shrink out of a mapping table
release-off-orphan-list|close the last user of an unlinked file
"

nr_cases()
{
	echo "$CASES" | grep -c '|'
}

# case_field N FIELD: field 1 (cut point) or 2 (description) of case N.
case_field()
{
	echo "$CASES" | grep '|' | sed -n "${1}p" | cut -d'|' -f"$2"
}

# setup N: what case N needs before its operation starts.
setup()
{
	case $1 in
	4|5) "$PKFILL" write "$M/v$1" 5000 "$1" >/dev/null ;;
	6) mkdir "$M/e6" ;;
	7|8) mkdir -p "$M/a" "$M/b" &&
		"$PKFILL" write "$M/a/r$1" 3M "$1" >/dev/null ;;
	9) mkdir -p "$M/a" "$M/b" && "$PKFILL" write "$M/a/r9" 3M 9 >/dev/null &&
		"$PKFILL" write "$M/b/t9" 100 90 >/dev/null ;;
	10) "$PKFILL" write "$M/g10" 2M 10 >/dev/null ;;
	11) "$PKFILL" write "$M/g11" 60M 11 >/dev/null ;;
	12|13|14) "$PKFILL" write "$M/s$1" 80M "$1" >/dev/null ;;
	15) "$PKFILL" write "$M/h15" 3M 15 >/dev/null ;;
	esac
}

# stdin_is PID FILE: process PID has FILE open on its stdin.
stdin_is()
{
	[ "$(readlink "/proc/$1/fd/0")" = "$2" ]
}

# holding PID FILE: process PID has FILE open on its stdin (within 20 s).
holding()
{
	pk_poll 200 stdin_is "$1" "$2"
}

# operate N: start case N's operation in the background (it never ends).
operate()
{
	case $1 in
	1|2) touch "$M/c$1" & ;;
	3) mkdir "$M/d3" & ;;
	4|5) rm "$M/v$1" & ;;
	6) rmdir "$M/e6" & ;;
	7|8) mv "$M/a/r$1" "$M/b/n$1" & ;;
	9) mv "$M/a/r9" "$M/b/t9" & ;;
	10) truncate -s 10M "$M/g10" & ;;
	11) truncate -s 80M "$M/g11" & ;;
	12|13|14) truncate -s 2M "$M/s$1" & ;;
	15)
		# Hold it, unlink it, then let the holder go: its close
		# releases the inode.
		sleep 1000 <"$M/h15" &
		echo $! >/tmp/holder
		holding "$(cat /tmp/holder)" "$M/h15" || return 1
		rm "$M/h15" || return 1
		pk_arm_cut release-off-orphan-list || return 1
		kill "$(cat /tmp/holder)"
		;;
	esac
}

# pkfill_ok FILE SIZE SEED: FILE holds SIZE bytes of seed SEED's pattern.
pkfill_ok()
{
	"$PKFILL" verify "$@" >/dev/null
}

# recovered N: what the recovery must have made of case N.
recovered()
{
	case $1 in
	1) [ ! -e "$M/c1" ] ;;			# slot only taken: the create is undone
	2) [ -f "$M/c2" ] && [ ! -s "$M/c2" ] ;;	# set up: the create is completed
	3) [ -d "$M/d3" ] ;;
	4) pkfill_ok "$M/v4" 5000 4 ;;		# out of the directory: unlink undone
	5) [ ! -e "$M/v5" ] ;;			# flagged orphan: unlink completed
	6) [ -d "$M/e6" ] ;;
	7) pkfill_ok "$M/a/r7" 3M 7 && [ ! -e "$M/b/n7" ] ;;	# rename undone
	8) pkfill_ok "$M/b/n8" 3M 8 && [ ! -e "$M/a/r8" ] ;;	# rename completed
	9) pkfill_ok "$M/a/r9" 3M 9 && pkfill_ok "$M/b/t9" 100 90 ;;
	# The pattern depends on the offset only, so a shrunk file holds the
	# pattern of a file of its new size.
	10) pkfill_ok "$M/g10" 2M 10 ;;		# grown blocks unlisted
	11) pkfill_ok "$M/g11" 60M 11 ;;
	12|13|14) pkfill_ok "$M/s$1" 2M "$1" ;;	# the size goes first
	15) [ ! -e "$M/h15" ] ;;
	esac
}

# logged N: the kernel log says what the recovery of case N did.
logged()
{
	local want

	case $1 in
	1) want='returned 1 unreferenced inodes' ;;
	3) want='link count [0-9]* set to' ;;
	5|15) want='reclaiming it' ;;
	10|14) want='unreferenced blocks' ;;
	11|13) want='list back into the inode' ;;
	12) return 0 ;;		# the size went first: nothing to repair
	*) want='linked back into directory' ;;
	esac
	dmesg | grep -q "pkernfs: .*$want"
}

# links_ok: every directory's link count is 2 plus its subdirectories.
links_ok()
{
	local d n

	for d in "$M" $(find "$M" -mindepth 1 -type d); do
		n=$(find "$d" -mindepth 1 -maxdepth 1 -type d | wc -l)
		[ "$(stat -c %h "$d")" -eq $((n + 2)) ] ||
			{ echo "$d: $(stat -c %h "$d") links, $n subdirectories"; return 1; }
	done
}

pk_require_fs
base=$(pk_region_base)
size=$(pk_region_size)
last=$(($(nr_cases) + 1))
s=$PK_STAGE

[ -d "$PK_CUT" ] || {
	pk_not_ok "$PK_CUT exists (CONFIG_PKERNFS_CUT_POINTS)"
	pk_done
}

if [ "$s" -gt 1 ]; then
	k=$((s - 1))
	what="case $k, $(case_field "$k" 2) cut at $(case_field "$k" 1)"
	pk_check "$what: mount" pk_mount || pk_done
	pk_check "$what: recovered as expected" recovered "$k"
	pk_check "$what: the kernel log says what it recovered" logged "$k"
	pk_check "$what: the untouched file is intact" \
		pkfill_ok "$M/keep" "$KEEP_SIZE" "$KEEP_SEED"
	pk_check "$what: link counts" links_ok
	pk_check "$what: umount" umount "$M"
	pk_check "$what: pkernfs-fsck calls the region clean" \
		pkernfs-fsck --base "$base" --size "$size" /dev/mem
	dmesg | grep 'pkernfs:' | grep -v -i 'command line' | sed 's/^/# /'
	pk_dmesg_check
fi

if [ "$s" -lt "$last" ]; then
	what="case $s, $(case_field "$s" 2) cut at $(case_field "$s" 1)"
	pk_check "$what: mount" pk_mount || pk_done
	if [ "$s" -eq 1 ]; then
		pk_check "a file no case touches" \
			"$PKFILL" write "$M/keep" "$KEEP_SIZE" "$KEEP_SEED"
	fi
	pk_check "$what: set up" setup "$s" || pk_done
	if [ "$s" -ne 15 ]; then
		pk_check "$what: arm the cut point" \
			pk_arm_cut "$(case_field "$s" 1)" ||
			pk_done
	fi
	operate "$s"
	pk_check "$what: the update stopped at its cut point" \
		pk_wait_log 'fault injection: update cut short' || pk_done
	pk_kexec_next
fi
pk_done
