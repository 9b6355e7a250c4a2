// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs-fsck: --repair.
 *
 * Only called when every problem the check found has a queued fix, so the
 * tree, the block ownership and the slot states it computed can be trusted.
 * Fixes are applied by kind, in an order where each one only relies on what
 * the earlier ones left: the bitmap first, block lists back inline, inode
 * fields, then the strays (linked back, or orphaned), then the orphans
 * (which free blocks and slots; an IOMMU page-table file gives back its one
 * block), the free list, and the checksum last.
 *
 * Strays are recovered as the kernel's mount does (fs/pkernfs/recover.c),
 * following the plan the check made of it: the same inodes go back into
 * the same directories under the same names, the others are reclaimed.
 */
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

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

/* A list short enough for the inode leaves its table, as check.c does. */
static void pkfs_fix_inline(struct pkfs_fsck *f, const struct pkfs_fix *fix)
{
	struct pkernfs_inode *pi = pkfs_inode(f->img, fix->a);
	uint32_t nr = le32toh(pi->num_mappings);
	const __le32 *table = pkfs_block(f->img, fix->b);

	if (!table)
		return;
	memcpy(pi->blocks, table, nr * sizeof(pi->blocks[0]));
	pi->mappings_block = 0;
	pkfs_assign_bit(f->img, fix->b, false);
	f->owner[fix->b] = 0;
	pkfs_msg("fixed: moved the %u-block list of inode %" PRIu64 " back into the inode and freed its table, block %" PRIu64,
		 nr, fix->a, fix->b);
}

/* 2 plus the subdirectories in @dir's list, which the check walked. */
static void pkfs_recount(struct pkfs_fsck *f, uint64_t dir)
{
	struct pkernfs_inode *pd = pkfs_inode(f->img, dir);
	uint64_t ino = le64toh(pd->child_ino);
	uint32_t nlink = 2, steps = 0;

	while (ino && ++steps <= PKERNFS_INODE_COUNT) {
		struct pkernfs_inode *pi = pkfs_inode(f->img, ino);

		if (!pi)
			return;
		nlink += S_ISDIR(le32toh(pi->mode));
		ino = le64toh(pi->sibling_ino);
	}
	if (le32toh(pd->nlink) == nlink)
		return;
	pd->nlink = htole32(nlink);
	pkfs_msg("fixed: set the link count of directory %" PRIu64 " to %u",
		 dir, nlink);
}

/*
 * Link strays back where the check's plan put them; mark the others
 * orphans, for pkfs_fix_orphans().  Return: whether there are any.
 */
static bool pkfs_fix_strays(struct pkfs_fsck *f)
{
	struct pkernfs_inode *inodes = pkfs_inode(f->img, PKERNFS_ROOT_INO);
	char name[PKFS_LOST_NAME_MAX];
	unsigned int i, reclaim = 0;
	uint64_t ino;

	for (i = 0; i < f->nr_relinks; i++) {
		const struct pkfs_relink *r = &f->relinks[i];
		struct pkernfs_inode *pi = &inodes[r->ino - 1];

		if (r->lost >= 0) {
			pkfs_lost_name(name, r->ino, r->lost);
			pkfs_set_name(pi, name, strlen(name));
		}
		if (!S_ISDIR(le32toh(pi->mode)))
			pi->nlink = htole32(1);
		pkfs_dir_link(inodes, r->dir, r->ino);
		pkfs_msg("fixed: linked inode %u back into directory %u as \"%.*s\"",
			 r->ino, r->dir, (int)le16toh(pi->name_len),
			 (const char *)pi->name);
	}
	/* The count follows the subdirectories, as at the kernel's next pass. */
	for (i = 0; i < f->nr_relinks; i++) {
		pkfs_recount(f, f->relinks[i].dir);
		if (S_ISDIR(le32toh(inodes[f->relinks[i].ino - 1].mode)))
			pkfs_recount(f, f->relinks[i].ino);
	}
	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++) {
		if (f->fate[ino - 1] != PKFS_FATE_RECLAIM)
			continue;
		f->state[ino - 1] = PKFS_SLOT_ORPHAN;
		reclaim++;
	}
	if (reclaim)
		pkfs_msg("fixed: orphaned %u inodes in no directory, to reclaim",
			 reclaim);
	return reclaim;
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
		else if (kind == PKFS_FIX_INLINE)
			pkfs_fix_inline(f, fix);
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
	pkfs_apply(f, PKFS_FIX_INLINE);
	pkfs_apply(f, PKFS_FIX_NLINK);
	pkfs_apply(f, PKFS_FIX_PARENT);
	pkfs_apply(f, PKFS_FIX_ORPHAN_FLAG);
	pkfs_apply(f, PKFS_FIX_ROOT);
	/* After NLINK: linking strays back recounts their directories. */
	if (pkfs_has_fix(f, PKFS_FIX_STRAYS))
		orphans |= pkfs_fix_strays(f);
	if (orphans)
		pkfs_fix_orphans(f);
	/* Reclaimed orphans are free slots now: they join the list too. */
	if (orphans || pkfs_has_fix(f, PKFS_FIX_FREE_LIST))
		pkfs_fix_free_list(f);
	pkfs_super_seal(f->super);
	pkfs_msg("fixed: resealed the superblock checksum");
}
