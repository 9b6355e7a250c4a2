// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs-fsck: --repair.
 *
 * Only called when every problem the check found has a queued fix, so the
 * tree, the block ownership and the slot states it computed can be trusted.
 * Fixes are applied by kind, in an order where each one only relies on what
 * the earlier ones left: the bitmap first, then the orphans (which free
 * blocks and slots; an IOMMU page-table file gives back its one block),
 * inode fields, the free list, and the checksum last.
 */
#include <inttypes.h>
#include <string.h>

#include "fsck.h"

static void pkfs_fix_bits(struct pkfs_fsck *f, const struct pkfs_fix *fix,
			  bool set)
{
	uint64_t blk;

	for (blk = fix->a; blk <= fix->b; blk++)
		pkfs_assign_bit(f->img, blk, set);
	if (fix->a == fix->b)
		pkfs_msg("fixed: marked block %" PRIu64 " %s", fix->a,
			 set ? "in use" : "free");
	else
		pkfs_msg("fixed: marked blocks %" PRIu64 "-%" PRIu64 " %s",
			 fix->a, fix->b, set ? "in use" : "free");
}

/* Free every orphan's blocks and slot, as the kernel would at mount. */
static void pkfs_fix_orphans(struct pkfs_fsck *f)
{
	unsigned int inodes = 0, blocks = 0;
	uint64_t blk, ino;

	for (blk = PKERNFS_FIRST_DATA_BLOCK; blk < f->nr_blocks; blk++) {
		uint32_t owner = f->owner[blk];

		if (!owner || f->state[owner - 1] != PKFS_SLOT_ORPHAN)
			continue;
		pkfs_assign_bit(f->img, blk, false);
		f->owner[blk] = 0;
		blocks++;
	}
	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++) {
		if (f->state[ino - 1] != PKFS_SLOT_ORPHAN)
			continue;
		memset(pkfs_inode(f->img, ino), 0, PKERNFS_INODE_SIZE);
		f->state[ino - 1] = PKFS_SLOT_LEAKED;
		inodes++;
	}
	f->super->orphan_ino = 0;
	pkfs_msg("fixed: reclaimed %u orphan inodes and their %u blocks",
		 inodes, blocks);
}

/* Chain every free slot, in ascending order as a fresh format does. */
static void pkfs_fix_free_list(struct pkfs_fsck *f)
{
	__le64 *link = &f->super->next_free_ino;
	unsigned int nr = 0;
	uint64_t ino;

	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++) {
		uint8_t state = f->state[ino - 1];
		struct pkernfs_inode *pi;

		if (state != PKFS_SLOT_FREE && state != PKFS_SLOT_LEAKED)
			continue;
		pi = pkfs_inode(f->img, ino);
		memset(pi, 0, sizeof(*pi));
		*link = htole64(ino);
		link = &pi->sibling_ino;
		f->state[ino - 1] = PKFS_SLOT_FREE;
		nr++;
	}
	*link = 0;
	pkfs_msg("fixed: rebuilt the free inode list (%u inodes)", nr);
}

static void pkfs_fix_inode(struct pkfs_fsck *f, const struct pkfs_fix *fix)
{
	struct pkernfs_inode *pi = pkfs_inode(f->img, fix->a);

	switch (fix->kind) {
	case PKFS_FIX_NLINK:
		pi->nlink = htole32(fix->b);
		pkfs_msg("fixed: set the link count of inode %" PRIu64 " to %" PRIu64,
			 fix->a, fix->b);
		break;
	case PKFS_FIX_PARENT:
		pi->parent_ino = htole64(fix->b);
		pkfs_msg("fixed: set the parent of inode %" PRIu64 " to %" PRIu64,
			 fix->a, fix->b);
		break;
	case PKFS_FIX_ROOT:
		pi->sibling_ino = 0;
		pi->name_len = 0;
		memset(pi->name, 0, sizeof(pi->name));
		pkfs_msg("fixed: took the root inode out of lists and cleared its name");
		break;
	case PKFS_FIX_ORPHAN_FLAG:
		pi->flags &= ~htole32(PKERNFS_INODE_FLAG_ORPHAN);
		pkfs_msg("fixed: cleared the orphan flag of inode %" PRIu64,
			 fix->a);
		break;
	default:
		break;
	}
}

static bool pkfs_has_fix(struct pkfs_fsck *f, enum pkfs_fix_kind kind)
{
	unsigned int i;

	for (i = 0; i < f->nr_fixes; i++)
		if (f->fixes[i].kind == kind)
			return true;
	return false;
}

static void pkfs_apply(struct pkfs_fsck *f, enum pkfs_fix_kind kind)
{
	unsigned int i;

	for (i = 0; i < f->nr_fixes; i++) {
		const struct pkfs_fix *fix = &f->fixes[i];

		if (fix->kind != kind)
			continue;
		if (kind == PKFS_FIX_SET_BIT || kind == PKFS_FIX_CLEAR_BIT)
			pkfs_fix_bits(f, fix, kind == PKFS_FIX_SET_BIT);
		else
			pkfs_fix_inode(f, fix);
	}
}

/**
 * pkfs_repair() - apply every fix the check queued
 * @f: a check that found only fixable problems, on a writable image
 */
void pkfs_repair(struct pkfs_fsck *f)
{
	bool orphans = pkfs_has_fix(f, PKFS_FIX_RECLAIM_ORPHANS);

	pkfs_apply(f, PKFS_FIX_SET_BIT);
	pkfs_apply(f, PKFS_FIX_CLEAR_BIT);
	if (orphans)
		pkfs_fix_orphans(f);
	pkfs_apply(f, PKFS_FIX_NLINK);
	pkfs_apply(f, PKFS_FIX_PARENT);
	pkfs_apply(f, PKFS_FIX_ORPHAN_FLAG);
	pkfs_apply(f, PKFS_FIX_ROOT);
	/* Reclaimed orphans are free slots now: they join the list too. */
	if (orphans || pkfs_has_fix(f, PKFS_FIX_FREE_LIST))
		pkfs_fix_free_list(f);
	pkfs_super_seal(f->super);
	pkfs_msg("fixed: resealed the superblock checksum");
}
