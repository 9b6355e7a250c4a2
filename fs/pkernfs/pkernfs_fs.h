/* SPDX-License-Identifier: GPL-2.0-only OR MIT */
/*
 * pkernfs persistent format.
 *
 * Everything in this file lives in the reserved physical region and is read
 * back by the next kernel after a kexec, possibly a different build.  It is a
 * contract between kernels: any change to a structure, a constant or the
 * meaning of a field must bump PKERNFS_FORMAT_VERSION or add a feature bit.
 * All fields are little-endian and fixed width; no pointers are stored, only
 * inode numbers and block indices.
 */
#ifndef _PKERNFS_FS_H
#define _PKERNFS_FS_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <linux/types.h>

/**
 * DOC: pkernfs persistent format
 *
 * The region given with ``pkernfs=<size>!<base>`` is cut into 2 MiB blocks.
 * Block *n* starts at region offset *n* * 2 MiB::
 *
 *   block 0   0x000000  struct pkernfs_super (256 bytes), rest of the first
 *                       MiB unused
 *             0x100000  block bitmap, one bit per block, little-endian bit
 *                       order, 1 MiB (up to 8 Mi blocks = 16 TiB)
 *   block 1   0x200000  inode store: PKERNFS_INODE_COUNT slots of
 *                       struct pkernfs_inode (512 bytes each)
 *   block 2.. 0x400000  data blocks and mapping tables, from the bitmap
 *
 * Inode numbers are 1-based: inode *n* is slot *n* - 1 of the store, and 0
 * means "none" in every list.  Inode 1 is the root directory.  Three singly
 * linked lists run through ``sibling_ino``:
 *
 * - the free list, headed by ``pkernfs_super.next_free_ino``;
 * - each directory's entries, headed by the directory's ``child_ino`` and
 *   kept sorted by inode number (readdir resumes from an inode number);
 * - the orphan list, headed by ``pkernfs_super.orphan_ino``: inodes that were
 *   unlinked while still open or mapped.  They are reclaimed when the last
 *   user goes away or, after a kexec, at the next mount.
 *
 * A file's data is a list of block indices, ``num_mappings`` long.  Up to
 * PKERNFS_INLINE_BLOCKS of them sit in the inode itself; a longer list lives
 * in one mapping-table block (``mappings_block``) of up to
 * PKERNFS_TABLE_BLOCKS entries.  The list is in the table whenever
 * ``mappings_block`` is set; a table holding PKERNFS_INLINE_BLOCKS entries
 * or fewer is left only by a resize cut short, and the next mount moves the
 * list back into the inode.
 *
 * A slot's ``flags`` are written last when an inode is created: a used slot
 * is a whole inode even if no list holds it yet (see "Interrupted updates"
 * in Documentation/filesystems/pkernfs.rst).
 */

#define PKERNFS_MAGIC		0x706b65726e6673ULL	/* "pkernfs", as in the RFC */
#define PKERNFS_SUPER_MAGIC	0x706b6673		/* statfs f_type, "pkfs" */
#define PKERNFS_FORMAT_VERSION	1

#define PKERNFS_BLOCK_SHIFT	21
#define PKERNFS_BLOCK_SIZE	BIT(PKERNFS_BLOCK_SHIFT)

/* Fixed placement of the metadata in the region. */
#define PKERNFS_SUPER_OFFSET	0x000000UL
#define PKERNFS_BITMAP_OFFSET	0x100000UL
#define PKERNFS_BITMAP_BYTES	0x100000UL
#define PKERNFS_INODES_OFFSET	0x200000UL
#define PKERNFS_SUPER_BLOCK	0	/* superblock and bitmap */
#define PKERNFS_INODES_BLOCK	1	/* inode store */
#define PKERNFS_FIRST_DATA_BLOCK 2

#define PKERNFS_MAX_BLOCKS	(PKERNFS_BITMAP_BYTES * 8)
#define PKERNFS_INODE_SIZE	512
#define PKERNFS_INODE_COUNT	(PKERNFS_BLOCK_SIZE / PKERNFS_INODE_SIZE)
#define PKERNFS_ROOT_INO	1
#define PKERNFS_NAME_LEN	255
#define PKERNFS_INLINE_BLOCKS	32
#define PKERNFS_TABLE_BLOCKS	(PKERNFS_BLOCK_SIZE / sizeof(__le32))

/*
 * Feature words.  An unknown bit in feature_incompat makes the region
 * unusable by this kernel; unknown feature_compat bits are ignored.
 *
 * PKERNFS_FEATURE_INCOMPAT_DMA_MARKS: inodes may carry
 * PKERNFS_INODE_FLAG_DMA.  Set before the first such flag is written and
 * never cleared: a kernel that does not know the flag would free memory a
 * device kept through a live update still writes.
 */
#define PKERNFS_FEATURE_INCOMPAT_DMA_MARKS	0x00000001U
#define PKERNFS_FEATURE_COMPAT_SUPP	0
#define PKERNFS_FEATURE_INCOMPAT_SUPP	PKERNFS_FEATURE_INCOMPAT_DMA_MARKS

/**
 * struct pkernfs_super - the superblock, at region offset 0 (256 bytes)
 * @magic: PKERNFS_MAGIC.
 * @checksum: the kernel's crc32_le(~0, ...) of these 256 bytes with @checksum
 *	taken as zero; no final inversion, so it is the bitwise NOT of the
 *	IEEE 802.3 (zlib) CRC-32.
 * @version: PKERNFS_FORMAT_VERSION.
 * @feature_compat: features an older kernel may ignore.
 * @feature_incompat: features an older kernel must refuse.
 * @block_shift: log2 of the block size, PKERNFS_BLOCK_SHIFT.
 * @inode_size: bytes per inode slot, PKERNFS_INODE_SIZE.
 * @region_base: physical address the region was formatted at.
 * @region_size: size of the region in bytes, a multiple of the block size.
 * @bitmap_offset: region offset of the block bitmap.
 * @inodes_offset: region offset of the inode store.
 * @inode_count: number of inode slots.
 * @root_ino: inode number of the root directory.
 * @next_free_ino: head of the free inode list, 0 when the store is full.
 * @orphan_ino: head of the list of unlinked inodes still in use, 0 if none.
 * @mount_count: number of times the region was mounted.
 * @reserved: zero.
 */
struct pkernfs_super {
	__le64 magic;			/*   0 */
	__le32 checksum;		/*   8 */
	__le32 version;			/*  12 */
	__le32 feature_compat;		/*  16 */
	__le32 feature_incompat;	/*  20 */
	__le32 block_shift;		/*  24 */
	__le32 inode_size;		/*  28 */
	__le64 region_base;		/*  32 */
	__le64 region_size;		/*  40 */
	__le64 bitmap_offset;		/*  48 */
	__le64 inodes_offset;		/*  56 */
	__le32 inode_count;		/*  64 */
	__le32 root_ino;		/*  68 */
	__le64 next_free_ino;		/*  72 */
	__le64 orphan_ino;		/*  80 */
	__le64 mount_count;		/*  88 */
	__u8 reserved[160];		/*  96 */
};

/* Inode types; exactly one is set on a used inode, none on a free one. */
#define PKERNFS_INODE_FLAG_FILE			BIT(0)
#define PKERNFS_INODE_FLAG_DIR			BIT(1)
#define PKERNFS_INODE_FLAG_IOMMU_DIR		BIT(2)
#define PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES	BIT(3)
#define PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES BIT(4)
#define PKERNFS_INODE_TYPE_MASK			0x1fU
/* The inode is on the orphan list rather than in a directory. */
#define PKERNFS_INODE_FLAG_ORPHAN		BIT(8)
/*
 * A persistent IOMMU domain uses the inode: its page tables (a domain
 * page-table file) or memory its mappings point into (a regular file).
 * A live-update boot keeps such a file whole until the IOMMU entries the
 * previous kernel left are all replaced.  Needs the DMA_MARKS feature.
 */
#define PKERNFS_INODE_FLAG_DMA			BIT(9)
#define PKERNFS_INODE_FLAGS_KNOWN	(PKERNFS_INODE_TYPE_MASK | \
					 PKERNFS_INODE_FLAG_ORPHAN | \
					 PKERNFS_INODE_FLAG_DMA)

/**
 * pkernfs_inode_flags_ok() - may a used inode carry @flags?
 * @flags: its flags, in CPU order
 * @incompat: the superblock's feature_incompat, in CPU order
 *
 * Only known flags, exactly one type, and the DMA mark only on a type a
 * domain uses, in a region whose superblock announces DMA marks.  The
 * kernel's checker and pkernfs-fsck both go by this.
 *
 * Return: true if @flags are valid.
 */
static inline bool pkernfs_inode_flags_ok(__u32 flags, __u32 incompat)
{
	__u32 type = flags & PKERNFS_INODE_TYPE_MASK;

	if ((flags & ~PKERNFS_INODE_FLAGS_KNOWN) || !type ||
	    (type & (type - 1)))
		return false;
	if (!(flags & PKERNFS_INODE_FLAG_DMA))
		return true;
	return (incompat & PKERNFS_FEATURE_INCOMPAT_DMA_MARKS) &&
	       (type == PKERNFS_INODE_FLAG_FILE ||
		type == PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES);
}

/**
 * struct pkernfs_inode - one slot of the inode store (512 bytes)
 * @flags: PKERNFS_INODE_FLAG_*, 0 for a free slot.
 * @mode: file type and permission bits (S_IFREG or S_IFDIR | 07777).
 * @sibling_ino: next inode of the same directory, free or orphan list.
 * @child_ino: directories: first entry, 0 when empty.
 * @parent_ino: directory holding this inode; the root is its own parent.
 * @size: file size in bytes (i_size).
 * @uid: owner, in the initial user namespace.
 * @gid: group, in the initial user namespace.
 * @nlink: link count.
 * @num_mappings: number of data blocks in the block list.
 * @mappings_block: block holding the block list when it is longer than
 *	PKERNFS_INLINE_BLOCKS, else 0 and the list is @blocks.
 * @name_len: length of @name.
 * @reserved0: zero.
 * @atime_sec: last access, seconds.
 * @mtime_sec: last modification, seconds.
 * @ctime_sec: last change, seconds.
 * @atime_nsec: last access, nanoseconds.
 * @mtime_nsec: last modification, nanoseconds.
 * @ctime_nsec: last change, nanoseconds.
 * @generation: i_generation.
 * @reserved: zero.
 * @name: entry name, @name_len bytes, zero padded.
 * @blocks: inline block list; entry *k* backs bytes [k * 2 MiB, (k+1) * 2 MiB).
 */
struct pkernfs_inode {
	__le32 flags;			/*   0 */
	__le32 mode;			/*   4 */
	__le64 sibling_ino;		/*   8 */
	__le64 child_ino;		/*  16 */
	__le64 parent_ino;		/*  24 */
	__le64 size;			/*  32 */
	__le32 uid;			/*  40 */
	__le32 gid;			/*  44 */
	__le32 nlink;			/*  48 */
	__le32 num_mappings;		/*  52 */
	__le32 mappings_block;		/*  56 */
	__le16 name_len;		/*  60 */
	__le16 reserved0;		/*  62 */
	__le64 atime_sec;		/*  64 */
	__le64 mtime_sec;		/*  72 */
	__le64 ctime_sec;		/*  80 */
	__le32 atime_nsec;		/*  88 */
	__le32 mtime_nsec;		/*  92 */
	__le32 ctime_nsec;		/*  96 */
	__le32 generation;		/* 100 */
	__u8 reserved[24];		/* 104 */
	__u8 name[PKERNFS_NAME_LEN + 1];	/* 128 */
	__le32 blocks[PKERNFS_INLINE_BLOCKS];	/* 384 */
};

#define PKERNFS_CHECK_STRUCT_SIZE(type, size) \
	static_assert(sizeof(type) == (size), \
		      "pkernfs: sizeof(" #type ") is wrong")
#define PKERNFS_CHECK_OFFSET(type, member, off) \
	static_assert(offsetof(type, member) == (off), \
		      "pkernfs: " #type "." #member " moved")

PKERNFS_CHECK_STRUCT_SIZE(struct pkernfs_super, 256);
PKERNFS_CHECK_OFFSET(struct pkernfs_super, next_free_ino, 72);
PKERNFS_CHECK_OFFSET(struct pkernfs_super, orphan_ino, 80);
PKERNFS_CHECK_STRUCT_SIZE(struct pkernfs_inode, PKERNFS_INODE_SIZE);
PKERNFS_CHECK_OFFSET(struct pkernfs_inode, sibling_ino, 8);
PKERNFS_CHECK_OFFSET(struct pkernfs_inode, atime_sec, 64);
PKERNFS_CHECK_OFFSET(struct pkernfs_inode, name, 128);
PKERNFS_CHECK_OFFSET(struct pkernfs_inode, blocks, 384);
static_assert(PKERNFS_INODES_OFFSET ==
	      PKERNFS_INODES_BLOCK * PKERNFS_BLOCK_SIZE);
static_assert(PKERNFS_BITMAP_OFFSET + PKERNFS_BITMAP_BYTES <=
	      PKERNFS_INODES_OFFSET);

#endif /* _PKERNFS_FS_H */
