/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkernfs userspace tools: the region image and safe accessors to it.
 *
 * The on-media format comes from the kernel's own header, so the tools and
 * the kernel cannot drift apart.  Everything found in an image is untrusted:
 * every inode number and block index goes through the accessors below, which
 * return NULL rather than point outside the mapping.
 */
#ifndef _PKFS_H
#define _PKFS_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../fs/pkernfs/pkernfs_fs.h"

#define PKFS_NAME	"pkernfs-fsck"

#ifndef __printf
#define __printf(a, b)	__attribute__((format(printf, a, b)))
#endif
#ifndef __noreturn
#define __noreturn	__attribute__((noreturn))
#endif

/* Exit codes, as e2fsck has them. */
#define PKFS_EXIT_OK		0
#define PKFS_EXIT_FIXED		1
#define PKFS_EXIT_UNFIXED	4
#define PKFS_EXIT_OPERATIONAL	8
#define PKFS_EXIT_USAGE		16

struct pkfs_image {
	const char *path;
	int fd;
	bool writable;
	bool devmem;
	uint8_t *map;
	uint64_t size;		/* bytes mapped, the whole region */
	uint64_t base;		/* physical base, from --base */
	uint64_t given_size;	/* region size, from --size */
	bool have_base;
	bool have_size;
};

/* image.c */
int pkfs_image_open(struct pkfs_image *img, const char *path, bool writable);
int pkfs_image_sync(struct pkfs_image *img);
void pkfs_image_close(struct pkfs_image *img);

/* crc32.c */
uint32_t pkfs_crc32_le(uint32_t crc, const void *buf, size_t len);
uint32_t pkfs_super_csum(const struct pkernfs_super *super);
void pkfs_super_seal(struct pkernfs_super *super);

static inline struct pkernfs_super *pkfs_super(struct pkfs_image *img)
{
	return (struct pkernfs_super *)(img->map + PKERNFS_SUPER_OFFSET);
}

static inline bool pkfs_ino_valid(uint64_t ino)
{
	return ino >= 1 && ino <= PKERNFS_INODE_COUNT;
}

/* The inode store slot of @ino, or NULL if there is none in the image. */
static inline struct pkernfs_inode *pkfs_inode(struct pkfs_image *img,
					       uint64_t ino)
{
	uint64_t off = PKERNFS_INODES_OFFSET + (ino - 1) * PKERNFS_INODE_SIZE;

	if (!pkfs_ino_valid(ino) || off + PKERNFS_INODE_SIZE > img->size)
		return NULL;
	return (struct pkernfs_inode *)(img->map + off);
}

/* Start of block @blk, or NULL if the block is not wholly in the image. */
static inline void *pkfs_block(struct pkfs_image *img, uint64_t blk)
{
	if ((blk + 1) << PKERNFS_BLOCK_SHIFT > img->size ||
	    blk >= PKERNFS_MAX_BLOCKS)
		return NULL;
	return img->map + (blk << PKERNFS_BLOCK_SHIFT);
}

static inline uint8_t *pkfs_bitmap_byte(struct pkfs_image *img, uint64_t blk)
{
	uint64_t off = PKERNFS_BITMAP_OFFSET + blk / 8;

	if (blk >= PKERNFS_MAX_BLOCKS || off >= img->size)
		return NULL;
	return img->map + off;
}

/* Little-endian bit order: block n is bit n % 8 of byte n / 8. */
static inline bool pkfs_test_bit(struct pkfs_image *img, uint64_t blk)
{
	uint8_t *byte = pkfs_bitmap_byte(img, blk);

	return byte && (*byte >> (blk % 8) & 1);
}

static inline void pkfs_assign_bit(struct pkfs_image *img, uint64_t blk,
				   bool set)
{
	uint8_t *byte = pkfs_bitmap_byte(img, blk);

	if (!byte)
		return;
	if (set)
		*byte |= 1U << (blk % 8);
	else
		*byte &= ~(1U << (blk % 8));
}

static inline uint32_t pkfs_type(const struct pkernfs_inode *pi)
{
	return le32toh(pi->flags) & PKERNFS_INODE_TYPE_MASK;
}

static inline bool pkfs_flags_dir(uint32_t flags)
{
	return flags & (PKERNFS_INODE_FLAG_DIR | PKERNFS_INODE_FLAG_IOMMU_DIR);
}

/* IOMMU page-table files: one block each, in mappings_block. */
static inline bool pkfs_flags_pgtables(uint32_t flags)
{
	return flags & (PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES |
			PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES);
}

/*
 * Inside the block of a page-table file (fs/pkernfs/iommu.c): page 0 is a
 * little-endian bitmap of its 4 KiB pages, page 1 the root of the tables.
 * Both bits are set once an IOMMU uses the block.
 */
#define PKFS_REGION_PAGE_SIZE	4096U
#define PKFS_REGION_PAGES	(PKERNFS_BLOCK_SIZE / PKFS_REGION_PAGE_SIZE)
#define PKFS_REGION_BITMAP	0
#define PKFS_REGION_ROOT	1

/* The names the kernel gives what it creates for the IOMMU. */
#define PKFS_IOMMU_DIR_NAME	"iommu"
#define PKFS_ROOT_PGTABLES_NAME	"root-pgtables"

#endif /* _PKFS_H */
