#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# demo: what pkernfs is for, in two boots.  Stage 1 mounts pkernfs, writes
# files through write() and through mmap(), records their checksums and
# live-updates into a new kernel with kexec.  Stage 2 mounts pkernfs again
# and shows that every file came through byte for byte.

. /scenarios/lib.sh

SUMS=$PK_STATE/demo.sha256

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

list_files()
{
	(cd "$PK_MNT" && find . -type f | sort | while read -r f; do
		printf '  %10s  %s\n' "$(stat -c %s "$f")" "${f#./}"
	done)
}

stage1()
{
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

	(cd "$PK_MNT" && find . -type f | sort | xargs sha256sum) >"$SUMS"
	say "sha256 before the live update:"
	sed 's/^\(.\{16\}\)[^ ]*/  \1.../' "$SUMS"

	umount "$PK_MNT"
	say "kexec into a new kernel with 'liveupdate'..."
	pk_kexec_next
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
	umount "$PK_MNT"
	if [ -z "$bad" ]; then
		say "OK: $n files survived live update byte for byte"
		pk_ok "$n files survived live update byte for byte"
	else
		say "FAIL: checksums differ:"
		echo "$bad" | sed 's/^/  /'
		pk_not_ok "files survived live update byte for byte"
	fi
	pk_dmesg_check
}

pk_require_fs
case "$PK_STAGE" in
1) stage1 ;;
2) stage2 ;;
esac
pk_done
