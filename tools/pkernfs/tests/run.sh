#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Tests for pkernfs-fsck, on the host: build images with pkernfs-mkimage,
# damage them one way at a time, and check the exit code, the message and
# what --repair does.  Prints TAP.
#
# usage: run.sh [BINDIR]	(default ../../build/tools, from tools/pkernfs)

set -u

bindir=${1:-$(dirname "$0")/../../../build/tools}
FSCK=$bindir/pkernfs-fsck
MK=$bindir/pkernfs-mkimage
for b in "$FSCK" "$MK"; do
	if [ ! -x "$b" ]; then
		echo "Bail out! $b not built"
		exit 1
	fi
done

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
IMG=$T/img
n=0
passed=0
failed=0

result() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok $n - $2"
	else
		failed=$((failed + 1))
		echo "not ok $n - $2"
	fi
}

# fresh [mkimage create options]: a new image and its manifest
fresh() {
	"$MK" create "$@" "$IMG" > "$T/manifest" || echo "# mkimage failed"
}

# field PATH COLUMN: from the manifest, "PATH INO TYPE NR TABLE FIRST"
field() {
	awk -v p="$1" -v c="$2" '$1 == p { print $c }' "$T/manifest"
}
ino() { field "$1" 2; }
table() { field "$1" 5; }
first() { field "$1" 6; }

poke() {
	"$MK" poke "$IMG" "$@" || echo "# poke failed: $*"
}

# expect CODE PATTERN NAME [fsck options]: exit code and a message
expect() {
	code=$1
	pattern=$2
	name=$3
	shift 3
	timeout 60 "$FSCK" "$@" "$IMG" > "$T/out" 2>&1
	rc=$?
	if [ "$rc" -eq "$code" ] && grep -q -e "$pattern" "$T/out"; then
		result 0 "$name"
	else
		result 1 "$name"
		echo "# exit $rc, wanted $code and /$pattern/:"
		sed 's/^/#   /' "$T/out" | head -40
	fi
}

# fixable NAME PATTERN: reported (4), repaired (1), then clean (0)
fixable() {
	expect 4 "$2" "$1: detected"
	expect 1 "now clean" "$1: repaired" --repair
	expect 0 ": clean$" "$1: clean after repair"
}

# unfixable NAME PATTERN: reported, and --repair leaves the image alone
unfixable() {
	expect 4 "$2" "$1: detected"
	cp --sparse=always "$IMG" "$T/before"
	expect 4 "not repairing" "$1: --repair refuses" --repair
	cmp -s "$IMG" "$T/before"
	result $? "$1: image untouched by --repair"
}

# --- clean images -----------------------------------------------------------

fresh
expect 0 ": clean$" "fresh image is clean"
expect 0 "inodes 10 used" "summary counts inodes"
expect 0 "big/\{0,1\}  ino $(ino /a/sub/big) file .* (table $(table /a/sub/big))" \
	"dump shows a mapping table" --dump
expect 0 "^bitmap: 0-" "dump shows bitmap runs" --dump
expect 0 ": clean$" "--base and --size that match" --base 1G --size 256M
expect 4 "region_base is 0x40000000, expected 0x80000000" \
	"--base that does not match" --base 0x80000000

for seed in 1 2 3 4; do
	fresh --size 2G --seed $seed --extra 300
	expect 0 ": clean$" "seeded tree $seed is clean"
done
fresh --empty
expect 0 "inodes 1 used, 4095 free of 4096" "freshly formatted region is clean"
fresh --size 6M --empty
expect 0 ": clean$" "smallest region (3 blocks) is clean"

fresh --iommu
expect 0 ": clean$" "image with iommu/ is clean"
expect 0 "inodes 14 used" "summary counts the IOMMU inodes"
expect 0 "root-pgtables  ino $(ino /iommu/root-pgtables) iommu-root-pgtables mode 0400 0:0 size 2097152 nlink 1 block $(table /iommu/root-pgtables), pages unused" \
	"dump shows root-pgtables and its block" --dump
expect 0 "iommu/  ino $(ino /iommu) iommu-dir .* nlink 2$" \
	"dump shows the IOMMU directory" --dump
d0=$(ino /iommu/dom-0)
poke page.$d0.0=1 page.$d0.1=1 page.$d0.7=1
expect 0 "dom-0  ino $d0 iommu-domain-pgtables .* pages 3/512 used$" \
	"dump shows how much of a page bitmap is used" --dump
expect 0 ": clean$" "page bitmap contents are not checked"

for seed in 1 2; do
	fresh --size 2G --seed $seed --extra 300 --domains 6
	expect 0 ": clean$" "seeded tree $seed with 6 domain files is clean"
done
fresh --empty --domains 0
expect 0 "inodes 3 used, 4093 free" "iommu/ with only root-pgtables is clean"
fresh --size 6M --empty --domains 0
expect 0 "blocks 3 used, 0 free of 3" "root-pgtables fills the smallest region"

crc=$("$MK" crc32 123456789)
[ "$crc" = 0x340bc6d9 ]
result $? "crc32_le(~0) is ~zlib crc32 (got $crc)"

# --- operational and usage errors -------------------------------------------

"$FSCK" > /dev/null 2>&1
result $(( $? != 16 )) "no image: usage (16)"
"$FSCK" --frobnicate "$IMG" > /dev/null 2>&1
result $(( $? != 16 )) "unknown option: usage (16)"
"$FSCK" "$T/nonexistent" > /dev/null 2>&1
result $(( $? != 8 )) "missing image: operational error (8)"
: > "$T/empty"
"$FSCK" "$T/empty" > /dev/null 2>&1
result $(( $? != 8 )) "empty file: operational error (8)"
"$FSCK" /dev/zero > "$T/out" 2>&1
rc=$?
grep -q "needs --base and --size" "$T/out"
result $(( $? || rc != 8 )) "device without --base/--size: operational error (8)"
"$FSCK" --base 0 --size 6M /dev/zero > "$T/out" 2>&1
rc=$?
grep -q "bad magic 0" "$T/out"
result $(( $? || rc != 8 )) "device mapped at --base for --size (/dev/zero: no magic)"

# --- superblock -------------------------------------------------------------

fresh
"$MK" poke --raw "$IMG" super.magic=0x1234
expect 8 "bad magic" "bad magic: not pkernfs (8)"

fresh
poke super.checksum=0xdeadbeef
fixable "bad checksum" "checksum mismatch"

fresh
poke super.version=2
unfixable "wrong version" "unsupported format version 2"

fresh
poke super.feature_incompat=0x10
unfixable "unknown incompatible feature" "incompatible features 0x10"

# DMA marks: a file or a domain page-table file a persistent domain uses,
# in a region that announces them (feature_incompat bit 0).
fresh --iommu
poke super.feature_incompat=1 inode.$(ino /hello).flags=0x201 \
	inode.$(ino /iommu/dom-0).flags=0x210
expect 0 ": clean$" "DMA-marked file and page-table file are clean"
expect 0 "hello  ino $(ino /hello) file,dma " "dump shows a DMA mark" --dump
expect 0 "dom-0  ino $(ino /iommu/dom-0) iommu-domain-pgtables,dma " \
	"dump shows a page-table file's DMA mark" --dump
fresh
poke inode.$(ino /hello).flags=0x201
unfixable "DMA mark without the feature" "has flags 0x201"
fresh
poke super.feature_incompat=1 inode.$(ino /a).flags=0x202
unfixable "DMA mark on a directory" "has flags 0x202"

fresh
poke super.inode_size=256
unfixable "bad geometry" "inode_size is 0x100"

fresh
poke super.region_size=0x8000000
unfixable "region size vs image size" "does not match the image size"

fresh
truncate -s 128M "$IMG"
expect 4 "does not match the image size" "truncated image"

# --- bitmap -----------------------------------------------------------------

fresh
poke bit.100=1 bit.101=1 bit.102=1
fixable "leaked blocks" "blocks 100-102 marked in use but unreferenced"

fresh
poke bit.0=0
fixable "metadata block free" "metadata block 0 is marked free"

fresh
poke bit.5000=1
fixable "bit beyond the region" "block 5000 beyond the end of the region"

fresh
poke bit.$(first /hello)=0
fixable "referenced block marked free" "refers to free block $(first /hello)"

# --- block references -------------------------------------------------------

fresh
poke map.$(ino /a/sub/big).0=$(first /a/f1)
unfixable "cross-linked block" "block $(first /a/f1) is cross-linked"

fresh
poke map.$(ino /a/sub/big).3=$(first /a/sub/big)
unfixable "block listed twice by one inode" "twice (cross-linked)"

fresh
poke map.$(ino /hello).0=1000
unfixable "out-of-range block" "refers to block 1000, out of range"

fresh
poke map.$(ino /hello).0=1
unfixable "metadata block as data" "refers to block 1, out of range"

fresh
poke inode.$(ino /hello).size=0x300000
unfixable "size beyond blocks" "size 3145728 beyond its 1 blocks"

fresh
poke inode.$(ino /a/sub/big).mappings_block=0
unfixable "long list without a table" "40 blocks with mapping table 0"

fresh
poke inode.$(ino /hello).num_mappings=0x100000
unfixable "too many mappings" "maps 1048576 blocks"

# --- directory tree ---------------------------------------------------------

fresh
poke inode.$(ino /a/sub).sibling_ino=$(ino /a/f1)
unfixable "loop in a sibling list" "loop in directory $(ino /a)'s entry list"

fresh
poke inode.$(ino /b/c).child_ino=$(ino /b)
unfixable "tree loop" "tree loop: directory $(ino /b/c) lists its ancestor $(ino /b)"

fresh
poke inode.$(ino /b/c).child_ino=$(ino /hello)
unfixable "entry in two directories" "already in directory 1 (cross-linked entry)"

fresh
poke inode.$(ino /empty).sibling_ino=5000
unfixable "out-of-range ino in a directory" "lists inode 5000, out of range"

fresh
poke inode.$(ino /hello).sibling_ino=0
fixable "entry dropped from its directory" \
	"inode $(ino /empty) is in no directory (an interrupted update): link it back into directory 1 (fixable)"

fresh
poke inode.$(ino /a).nlink=7
fixable "directory nlink wrong" "directory $(ino /a) has link count 7 but 1 subdirectories"

fresh
poke inode.$(ino /hello).nlink=2
fixable "file nlink wrong" "file inode $(ino /hello) has link count 2"

fresh
poke inode.$(ino /a/f1).parent_ino=$(ino /b)
fixable "wrong parent" "names parent $(ino /b)"

fresh
poke inode.$(ino /empty).name=hello
unfixable "duplicate name" 'duplicate name "hello"'

fresh
poke inode.$(ino /empty).name=..
unfixable "bad name" "inode $(ino /empty) has a bad name"

fresh
poke inode.$(ino /empty).name=a/b
unfixable "name with a slash" "inode $(ino /empty) has a bad name"

fresh
poke inode.$(ino /hello).flags=3
unfixable "two type flags" "has flags 0x3"

fresh
poke inode.$(ino /hello).mode=0x41ed
unfixable "mode does not match type" "mode 040755 does not match"

fresh
poke inode.$(ino /a/sub).size=4096
unfixable "directory with data" "directory inode $(ino /a/sub) has data"

fresh
poke inode.1.flags=1
unfixable "root not a directory" "root inode is not a directory"

fresh
poke inode.$(ino /empty).flags=0x101
fixable "orphan flag in a directory" "in a directory but flagged orphan"

fresh
poke inode.1.sibling_ino=$(ino /hello)
fixable "root in a list" "root inode is in a list (sibling_ino $(ino /hello))"

fresh
poke inode.1.name=root
fixable "root with a name" "root inode has a name (length 4)"

fresh
poke bit.100=1 inode.$(ino /empty).name=hello
unfixable "leak next to damage the kernel refuses" 'duplicate name "hello"'

# --- IOMMU page-table files ---------------------------------------------------

# Move dom-1, last in iommu/, to the empty /b/c.
fresh --iommu
d1=$(ino /iommu/dom-1)
poke inode.$(ino /iommu/dom-0).sibling_ino=0 \
	inode.$(ino /b/c).child_ino=$d1 inode.$d1.parent_ino=$(ino /b/c)
unfixable "page-table file outside iommu/" \
	"IOMMU page-table inode $d1 is in directory $(ino /b/c), not in the IOMMU directory"

# Make /empty a domain file where it is, with a block of its own.
fresh --iommu
e=$(ino /empty)
poke inode.$e.flags=0x10 inode.$e.size=0x200000 inode.$e.mappings_block=100 \
	bit.100=1
unfixable "page-table file in the root" \
	"IOMMU page-table inode $e is in directory 1, not in the IOMMU directory"

# Move /empty, last in the root, into iommu/ between root-pgtables and dom-0.
fresh --iommu
e=$(ino /empty)
poke inode.$(ino /hello).sibling_ino=0 \
	inode.$(ino /iommu/root-pgtables).sibling_ino=$e \
	inode.$e.sibling_ino=$(ino /iommu/dom-0) inode.$e.parent_ino=$(ino /iommu)
unfixable "regular file inside iommu/" \
	"inode $e (file) is in IOMMU directory $(ino /iommu), which holds only page-table files"

fresh --iommu
d1=$(ino /iommu/dom-1)
poke inode.$d1.flags=2 inode.$d1.mode=0x41ed inode.$d1.size=0 \
	inode.$d1.mappings_block=0 inode.$d1.nlink=2 inode.$(ino /iommu).nlink=3
unfixable "plain directory inside iommu/" \
	"inode $d1 (directory) is in IOMMU directory $(ino /iommu)"

fresh --iommu
poke inode.$(ino /iommu/dom-0).num_mappings=1
unfixable "page-table file with a block list" \
	"IOMMU page-table inode $(ino /iommu/dom-0) maps 1 blocks, expected none"

fresh --iommu
poke inode.$(ino /iommu/root-pgtables).size=4096
unfixable "page-table file not 2 MiB" \
	"IOMMU page-table inode $(ino /iommu/root-pgtables) has size 4096, expected 2097152"

fresh --iommu
poke inode.$(ino /iommu/dom-0).mappings_block=0
unfixable "page-table file without a block" \
	"IOMMU page-table inode $(ino /iommu/dom-0) has no block"

fresh --iommu
poke inode.$(ino /iommu/dom-0).mappings_block=1000
unfixable "page-table block out of range" \
	"inode $(ino /iommu/dom-0) refers to block 1000, out of range"

fresh --iommu
poke inode.$(ino /iommu/dom-1).mappings_block=$(first /hello)
unfixable "page-table block cross-linked with file data" \
	"block $(first /hello) is cross-linked"

fresh --iommu
poke bit.$(table /iommu/dom-0)=0
fixable "page-table block marked free" \
	"refers to free block $(table /iommu/dom-0)"

fresh --iommu
poke inode.$(ino /iommu/dom-0).nlink=2
fixable "page-table file nlink wrong" \
	"file inode $(ino /iommu/dom-0) has link count 2, expected 1"

fresh --iommu
poke inode.$(ino /iommu/dom-0).mode=0x41ed
unfixable "page-table file with a directory mode" "mode 040755 does not match"

fresh --iommu
poke inode.$(ino /iommu/dom-1).name=dom-0
unfixable "duplicate name in iommu/" 'duplicate name "dom-0"'

# Move iommu/, first in the root, to the head of /b.
fresh --iommu
i=$(ino /iommu)
poke inode.1.child_ino=$(ino /a) inode.1.nlink=4 \
	inode.$(ino /b).child_ino=$i inode.$i.sibling_ino=$(ino /b/c) \
	inode.$i.parent_ino=$(ino /b) inode.$(ino /b).nlink=4
unfixable "iommu/ not in the root" \
	"IOMMU directory $i is in directory $(ino /b), not in the root"

fresh --iommu
poke inode.$(ino /iommu).name=iommv
unfixable "iommu/ renamed" "IOMMU directory $(ino /iommu) is not named \"iommu\""

fresh --iommu
poke inode.$(ino /iommu/root-pgtables).name=dom-9
unfixable "root-pgtables renamed" \
	"IOMMU root page-table inode $(ino /iommu/root-pgtables) is not named"

fresh --iommu
poke inode.$(ino /b/c).flags=4
unfixable "second IOMMU directory" \
	"IOMMU directory $(ino /b/c) is in directory $(ino /b), not in the root"

fresh --orphan-domain
expect 4 "doomed-dom  ino $(ino /iommu/doomed-dom) iommu-domain-pgtables,orphan .* nlink 0 block $(table /iommu/doomed-dom)" \
	"dump shows an orphaned page-table file" --dump
fixable "orphaned page-table file" \
	"inode $(ino /iommu/doomed-dom) is an orphan (unlinked while in use) holding 1 blocks"
expect 0 "blocks 52 used" "orphaned page-table file's block was freed"
expect 0 "free list: $(ino /iommu/doomed-dom)-4096 " \
	"orphaned page-table inode was freed" --dump

# --- inode lists ------------------------------------------------------------

fresh
head=$("$FSCK" --dump "$IMG" | awk '/next_free_ino/ { print $2 }')
second=$((head + 2))
poke inode.$second.sibling_ino=$second
fixable "loop in the free list" "free list loops at inode $second"

fresh
poke super.next_free_ino=99999
fixable "out-of-range ino on the free list" "free list holds inode 99999, out of range"

fresh
poke super.next_free_ino=$(ino /hello)
fixable "used inode on the free list" "free list holds inode $(ino /hello), which is in use"

fresh
poke super.next_free_ino=12
fixable "leaked inode" "inode 10 free but not on the free list (leaked)"

fresh --orphan
fixable "orphan" "inode $(ino /doomed) is an orphan"
expect 0 "blocks 49 used" "orphan's blocks were freed"

fresh --orphan
poke inode.$(ino /doomed).sibling_ino=$(ino /doomed)
fixable "loop in the orphan list" "orphan list loops at inode $(ino /doomed)"

fresh --orphan
poke inode.$(ino /doomed).nlink=1
unfixable "linked orphan" "orphan inode $(ino /doomed) has link count 1"

fresh
poke super.orphan_ino=$(ino /hello)
unfixable "orphan list into the tree" "orphan list reaches inode $(ino /hello)"

# --- updates cut short by a kexec (fs/pkernfs/recover.c) --------------------

# blocks_used: the used block count from the summary
blocks_used() {
	"$FSCK" "$IMG" | sed -n 's/.*; blocks \([0-9]*\) used.*/\1/p'
}

# A create cut before its link: a whole inode off the free list, with a
# block of data, in no directory.
fresh
new=$("$FSCK" --dump "$IMG" | awk '/next_free_ino/ { print $2 }')
blk=$(($(first /hello) + 1))
poke super.next_free_ino=$((new + 2)) inode.$new.flags=1 \
	inode.$new.mode=0x81a4 inode.$new.nlink=1 \
	inode.$new.parent_ino=$(ino /a) inode.$new.name=new inode.$new.size=12 \
	inode.$new.num_mappings=1 map.$new.0=$blk bit.$blk=1
printf 'pkernfs data' |
	dd of="$IMG" bs=1 seek=$((blk * 2097152)) conv=notrunc 2> /dev/null
fixable "create cut before its link" \
	"inode $new is in no directory (an interrupted update): link it back into directory $(ino /a) (fixable)"
expect 0 "^      new  ino $new file .* size 12 nlink 1 blocks 1: $blk$" \
	"created file is back in a/ under its own name" --dump
data=$(dd if="$IMG" bs=1 skip=$((blk * 2097152)) count=12 2> /dev/null)
[ "$data" = "pkernfs data" ]
result $? "created file's data is intact"

# A rename of /a/f1 to /b/g cut between the two directories, the new name
# and parent written: g is still there.
fresh
f1=$(ino /a/f1)
poke inode.$(ino /a).child_ino=$(ino /a/sub) inode.$f1.name=g \
	inode.$f1.parent_ino=$(ino /b)
fixable "rename cut, its name taken" \
	"inode $f1 is in no directory (an interrupted update): link it back into directory $(ino /b) as \"#$f1\""
expect 0 "^      #$f1  ino $f1 file .* blocks 3: $(first /a/f1)-" \
	"renamed file is back as #$f1, with its blocks" --dump
expect 0 "^      g  ino $(ino /b/g) file" "g keeps its name" --dump

# An unlink of /hello cut after the orphan flag, before the orphan list.
fresh
h=$(ino /hello)
used=$(blocks_used)
poke inode.$(ino /b).sibling_ino=$(ino /empty) inode.$h.nlink=0 \
	inode.$h.flags=0x101
fixable "unlink cut after the orphan flag" \
	"inode $h is in no directory (an interrupted update, unlinking it): reclaim it (fixable)"
expect 0 "blocks $((used - 1)) used" "unlinked file's block was freed"
expect 0 "^free list: $h," "unlinked file's inode was freed" --dump

fresh
poke inode.$(ino /hello).sibling_ino=0 inode.$(ino /empty).parent_ino=5000
fixable "stray whose parent is gone" \
	"inode $(ino /empty) is in no directory (an interrupted update), and its parent 5000 is no directory in the tree: reclaim it"

# /a/sub, with big in it, dropped from /a.
fresh
sub=$(ino /a/sub)
poke inode.$(ino /a/f1).sibling_ino=0
fixable "stray directory with a file inside" \
	"inode $sub is in no directory (an interrupted update): link it back into directory $(ino /a), with the 1 inodes below it (fixable)"
expect 0 "^      sub/  ino $sub dir .* nlink 2$" \
	"stray directory is back in a/" --dump
expect 0 "^        big  ino $(ino /a/sub/big) file .* blocks 40 (table $(table /a/sub/big))" \
	"its file is back below it" --dump
expect 0 "^    a/  ino $(ino /a) dir .* nlink 3$" "a/ counts it again" --dump

# A mkdir of /b/c cut before the parent's count: fixable as before.
fresh
poke inode.$(ino /b).nlink=2
fixable "mkdir cut before the parent's link count" \
	"directory $(ino /b) has link count 2 but 1 subdirectories (fixable)"

# A truncate of big to 30 blocks cut after the count: the table holds a
# list that fits in the inode, and 10 blocks listed nowhere.
fresh
big=$(ino /a/sub/big)
used=$(blocks_used)
poke inode.$big.num_mappings=30 inode.$big.size=0x3c00000
fixable "short mapping table" \
	"inode $big keeps its 30-block list in mapping table $(table /a/sub/big) (a resize cut short): move it back into the inode and free the table (fixable)"
expect 0 "^        big  ino $big file .* blocks 30: $(first /a/sub/big)-" \
	"short list is back in the inode" --dump
expect 0 "blocks $((used - 11)) used" "table and cut-off blocks were freed"

# What the kernel would refuse to bring back stays unfixable.
fresh --iommu
d1=$(ino /iommu/dom-1)
poke inode.$(ino /iommu/dom-0).sibling_ino=0 inode.$d1.parent_ino=1
unfixable "stray page-table file that would go into the root" \
	"IOMMU page-table inode $d1 is in directory 1, not in the IOMMU directory"

# --- several problems at once -----------------------------------------------

fresh --size 1G --seed 9 --extra 50 --orphan
poke bit.120=1 inode.$(ino /a).nlink=9 super.next_free_ino=0
fixable "several fixable problems" "inodes .* free but not on the free list"

# --- random damage: never crash or hang, and a repair always sticks --------

# random_damage NAME [mkimage create options]
random_damage() {
	name=$1
	shift
	fresh "$@"
	cp --sparse=always "$IMG" "$T/base"
	fields="flags mode sibling_ino child_ino parent_ino size nlink num_mappings mappings_block name_len"
	bad=0
	for i in $(seq 1 60); do
		damage_one $i
	done
	result $bad "$name: no crash, repairs stick"
}

damage_one() {
	cp --sparse=always "$T/base" "$IMG"
	set -- $(awk -v s=$1 -v f="$fields" 'BEGIN {
		srand(s); split(f, a, " ");
		for (k = 0; k < 3; k++)
			printf "inode.%d.%s=%d ", 1 + int(rand() * 60),
				a[1 + int(rand() * 10)], int(rand() * 70);
	}')
	poke "$@"
	timeout 60 "$FSCK" "$IMG" > /dev/null 2>&1
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 4 ]; then
		echo "# damage $*: check exit $rc"
		bad=1
	fi
	timeout 60 "$FSCK" --dump --repair "$IMG" > /dev/null 2>&1
	rc=$?
	if [ $rc -eq 1 ] && ! "$FSCK" "$IMG" > /dev/null 2>&1; then
		echo "# damage $*: not clean after repair"
		bad=1
	elif [ $rc -ne 0 ] && [ $rc -ne 1 ] && [ $rc -ne 4 ]; then
		echo "# damage $*: repair exit $rc"
		bad=1
	fi
}

random_damage "random inode damage" --size 1G --seed 5 --extra 40
random_damage "random inode damage with iommu/" --size 1G --seed 5 --extra 40 \
	--domains 4 --orphan-domain

echo "1..$n"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
