// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs-fsck: --dump.
 *
 * The dump follows the same lists as the check but trusts nothing either:
 * each inode is printed at most once, and a block list is only read when
 * its length and table are in range.  An IOMMU page-table file shows its
 * one block and how many pages of it its page bitmap gives out.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "fsck.h"

static void pkfs_dump_super(struct pkfs_fsck *f)
{
	struct pkernfs_super *s = f->super;
	uint32_t csum = pkfs_super_csum(s);

	printf("superblock:\n");
	printf("  magic          %#" PRIx64 "\n", (uint64_t)le64toh(s->magic));
	printf("  checksum       %#x (%s)\n", le32toh(s->checksum),
	       csum == le32toh(s->checksum) ? "ok" : "BAD");
	printf("  version        %u\n", le32toh(s->version));
	printf("  features       compat %#x, incompat %#x\n",
	       le32toh(s->feature_compat), le32toh(s->feature_incompat));
	printf("  block_shift    %u\n", le32toh(s->block_shift));
	printf("  inode_size     %u\n", le32toh(s->inode_size));
	printf("  region         %#" PRIx64 "+%#" PRIx64 "\n",
	       (uint64_t)le64toh(s->region_base),
	       (uint64_t)le64toh(s->region_size));
	printf("  bitmap_offset  %#" PRIx64 "\n",
	       (uint64_t)le64toh(s->bitmap_offset));
	printf("  inodes_offset  %#" PRIx64 "\n",
	       (uint64_t)le64toh(s->inodes_offset));
	printf("  inode_count    %u\n", le32toh(s->inode_count));
	printf("  root_ino       %u\n", le32toh(s->root_ino));
	printf("  next_free_ino  %" PRIu64 "\n",
	       (uint64_t)le64toh(s->next_free_ino));
	printf("  orphan_ino     %" PRIu64 "\n", (uint64_t)le64toh(s->orphan_ino));
	printf("  mount_count    %" PRIu64 "\n",
	       (uint64_t)le64toh(s->mount_count));
}

static void pkfs_print_name(const struct pkernfs_inode *pi)
{
	uint16_t len = le16toh(pi->name_len), i;

	if (len > PKERNFS_NAME_LEN)
		len = PKERNFS_NAME_LEN;
	for (i = 0; i < len; i++)
		putchar(isprint(pi->name[i]) ? pi->name[i] : '?');
}

static const char *pkfs_type_name(const struct pkernfs_inode *pi)
{
	switch (pkfs_type(pi)) {
	case PKERNFS_INODE_FLAG_FILE:
		return "file";
	case PKERNFS_INODE_FLAG_DIR:
		return "dir";
	case PKERNFS_INODE_FLAG_IOMMU_DIR:
		return "iommu-dir";
	case PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES:
		return "iommu-root-pgtables";
	case PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES:
		return "iommu-domain-pgtables";
	default:
		return "?";
	}
}

/*
 * The one block of an IOMMU page-table file, and how many of its pages the
 * page bitmap gives out.  The tables themselves are the IOMMU's business.
 */
static void pkfs_dump_region(struct pkfs_fsck *f, struct pkernfs_inode *pi)
{
	uint32_t blk = le32toh(pi->mappings_block);
	const uint8_t *bitmap;
	unsigned int used = 0, i;

	printf(" block %u", blk);
	if (blk < PKERNFS_FIRST_DATA_BLOCK || blk >= f->nr_blocks) {
		printf(" (out of range)");
		return;
	}
	bitmap = pkfs_block(f->img, blk);
	for (i = 0; i < PKFS_REGION_PAGES / 8; i++)
		used += __builtin_popcount(bitmap[i]);
	if (!used)
		printf(", pages unused");
	else
		printf(", pages %u/%lu used%s", used,
		       (unsigned long)PKFS_REGION_PAGES,
		       bitmap[0] >> PKFS_REGION_BITMAP & 1 &&
		       bitmap[0] >> PKFS_REGION_ROOT & 1 ? "" :
		       " (no bitmap or root page)");
}

static void pkfs_dump_blocks(struct pkfs_fsck *f, struct pkernfs_inode *pi)
{
	uint32_t nr = le32toh(pi->num_mappings);
	uint32_t table = le32toh(pi->mappings_block);
	struct pkfs_runs runs = { 0 };
	const __le32 *list = pi->blocks;
	uint32_t i;

	if (!nr && !table)
		return;
	printf(" blocks %u", nr);
	if (nr > PKERNFS_TABLE_BLOCKS ||
	    (nr > PKERNFS_INLINE_BLOCKS) != (table != 0) ||
	    (table && (table < PKERNFS_FIRST_DATA_BLOCK ||
		       table >= f->nr_blocks))) {
		printf(" (table %u, unreadable)", table);
		return;
	}
	if (table) {
		printf(" (table %u)", table);
		list = pkfs_block(f->img, table);
	}
	printf(": ");
	for (i = 0; i < nr; i++)
		pkfs_runs_add(&runs, le32toh(list[i]));
	pkfs_runs_end(&runs);
}

static void pkfs_dump_inode(struct pkfs_fsck *f, uint64_t ino,
			    unsigned int depth)
{
	struct pkernfs_inode *pi = pkfs_inode(f->img, ino);
	uint32_t flags = le32toh(pi->flags);

	printf("%*s", 2 * (depth + 1), "");
	if (ino != PKERNFS_ROOT_INO)
		pkfs_print_name(pi);
	if (pkfs_flags_dir(flags))
		putchar('/');
	printf("  ino %" PRIu64 " %s%s%s mode %04o %u:%u size %" PRIu64 " nlink %u",
	       ino, pkfs_type_name(pi),
	       flags & PKERNFS_INODE_FLAG_ORPHAN ? ",orphan" : "",
	       flags & PKERNFS_INODE_FLAG_DMA ? ",dma" : "",
	       le32toh(pi->mode) & 07777, le32toh(pi->uid), le32toh(pi->gid),
	       (uint64_t)le64toh(pi->size), le32toh(pi->nlink));
	if (pkfs_flags_pgtables(flags))
		pkfs_dump_region(f, pi);
	else
		pkfs_dump_blocks(f, pi);
	putchar('\n');
}

/* Depth first, in list order; @seen keeps every inode to one visit. */
static void pkfs_dump_dir(struct pkfs_fsck *f, uint8_t *seen, uint64_t dir,
			  unsigned int depth)
{
	uint64_t ino = le64toh(pkfs_inode(f->img, dir)->child_ino);

	while (pkfs_ino_valid(ino) && !seen[ino - 1]) {
		struct pkernfs_inode *pi = pkfs_inode(f->img, ino);

		seen[ino - 1] = 1;
		pkfs_dump_inode(f, ino, depth);
		if (pkfs_flags_dir(le32toh(pi->flags)))
			pkfs_dump_dir(f, seen, ino, depth + 1);
		ino = le64toh(pi->sibling_ino);
	}
	if (ino)
		printf("%*s(list ends at bad or repeated inode %" PRIu64 ")\n",
		       2 * (depth + 1), "", ino);
}

/* A sibling list from the superblock: the orphans or the free inodes. */
static void pkfs_dump_list(struct pkfs_fsck *f, uint8_t *seen,
			   const char *what, uint64_t ino, bool verbose)
{
	struct pkfs_runs runs = { 0 };
	unsigned int nr = 0;

	printf("%s:%s", what, verbose ? "\n" : " ");
	while (pkfs_ino_valid(ino) && !seen[ino - 1]) {
		seen[ino - 1] = 1;
		nr++;
		if (verbose)
			pkfs_dump_inode(f, ino, 0);
		else
			pkfs_runs_add(&runs, ino);
		ino = le64toh(pkfs_inode(f->img, ino)->sibling_ino);
	}
	if (!verbose)
		pkfs_runs_end(&runs);
	printf("%s(%u inodes%s)\n", verbose ? "  " : " ", nr,
	       ino ? ", ends at a bad or repeated inode" : "");
}

static void pkfs_dump_bitmap(struct pkfs_fsck *f)
{
	struct pkfs_runs runs = { 0 };
	uint64_t blk;

	printf("bitmap: ");
	for (blk = 0; blk < f->nr_blocks; blk++)
		if (pkfs_test_bit(f->img, blk))
			pkfs_runs_add(&runs, blk);
	pkfs_runs_end(&runs);
	printf("\n  %u used, %" PRIu64 " free of %u blocks\n", runs.count,
	       f->nr_blocks - (uint64_t)runs.count, f->nr_blocks);
}

/**
 * pkfs_dump() - print the superblock, the tree, the lists and the bitmap
 * @f: a check that has looked at the superblock
 */
void pkfs_dump(struct pkfs_fsck *f)
{
	struct pkernfs_inode *root;
	uint8_t *seen;

	pkfs_dump_super(f);
	if (!f->geometry_ok)
		return;
	seen = calloc(PKERNFS_INODE_COUNT, 1);
	if (!seen)
		return;
	root = pkfs_inode(f->img, PKERNFS_ROOT_INO);
	printf("tree:\n");
	seen[PKERNFS_ROOT_INO - 1] = 1;
	pkfs_dump_inode(f, PKERNFS_ROOT_INO, 0);
	if (pkfs_flags_dir(le32toh(root->flags)))
		pkfs_dump_dir(f, seen, PKERNFS_ROOT_INO, 1);
	pkfs_dump_list(f, seen, "orphans", le64toh(f->super->orphan_ino),
		       true);
	pkfs_dump_list(f, seen, "free list", le64toh(f->super->next_free_ino),
		       false);
	free(seen);
	pkfs_dump_bitmap(f);
}
