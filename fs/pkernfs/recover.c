// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs recovery of strays: inodes an interrupted update left in no list.
 *
 * Every update is ordered so that, wherever a kexec cuts it, the only inode
 * that can be in no directory, on no orphan list and off the free list is
 * the one being created, removed, renamed or released, and that inode is
 * whole (check.c has checked it like any other).  Its fields say what was
 * going on:
 *
 * - still counted as linked (nlink > 0, no orphan flag): a create before
 *   its link, an unlink before its orphan record, a rename between its two
 *   directories.  It goes into the directory its parent_ino names, which a
 *   rename sets before it links: the create or the rename is completed, or
 *   the unlink undone.  If its name is invalid or taken there (a rename cut
 *   while writing the name), it is named "#<inode number>", as e2fsck names
 *   what it puts in lost+found.
 * - unlinked (nlink 0 or the orphan flag): an unlink or a release half
 *   done.  It goes on the orphan list, and the mount reclaims it.
 *
 * An inode whose parent is itself a stray waits for a later pass, once its
 * parent is back in the tree.  When a pass can link no stray into a live
 * directory, every stray left is orphaned: nothing in the tree refers to
 * it, and nothing else can.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/fs.h>
#include <linux/string.h>

#include "internal.h"

/* Whether @ino had unlinking under way when its update was cut. */
static bool pkernfs_stray_unlinked(struct pkernfs_inode *pi)
{
	return !pi->nlink ||
		(le32_to_cpu(pi->flags) & PKERNFS_INODE_FLAG_ORPHAN);
}

/* Whether @pi's own name is fit for directory @dir. */
static bool pkernfs_stray_name_fits(struct pkernfs_store *store, u64 dir,
				    struct pkernfs_inode *pi)
{
	struct qstr name = QSTR_INIT(pi->name, le16_to_cpu(pi->name_len));

	return pkernfs_name_ok(pi) && !pkernfs_dir_find(store, dir, &name);
}

/* Name @pi "#<ino>", or "#<ino>.<n>" if that is taken in @dir. */
static void pkernfs_stray_rename(struct pkernfs_store *store, u64 dir,
				 u64 ino, struct pkernfs_inode *pi)
{
	unsigned int n = 0;
	int len;

	do {
		memset(pi->name, 0, sizeof(pi->name));
		len = n ? snprintf((char *)pi->name, sizeof(pi->name),
				   "#%llu.%u", ino, n) :
			  snprintf((char *)pi->name, sizeof(pi->name), "#%llu",
				   ino);
		pi->name_len = cpu_to_le16(len);
		n++;
	} while (!pkernfs_stray_name_fits(store, dir, pi));
}

static void pkernfs_stray_link(struct pkernfs_store *store, u64 ino,
			       struct pkernfs_inode *pi, u64 dir)
{
	bool renamed = !pkernfs_stray_name_fits(store, dir, pi);

	if (renamed)
		pkernfs_stray_rename(store, dir, ino, pi);
	/* A directory's count is set right by the next pass. */
	if (!S_ISDIR(le32_to_cpu(pi->mode)))
		pi->nlink = cpu_to_le32(1);
	pkernfs_dir_link(store, dir, ino);
	pr_warn("inode %llu was in no directory after an interrupted update: linked back into directory %llu as '%.*s'%s\n",
		ino, dir, le16_to_cpu(pi->name_len), pi->name,
		renamed ? " (its name was lost or taken)" : "");
}

static void pkernfs_stray_orphan(struct pkernfs_store *store, u64 ino,
				 struct pkernfs_inode *pi)
{
	pi->flags |= cpu_to_le32(PKERNFS_INODE_FLAG_ORPHAN);
	pi->nlink = 0;
	pi->child_ino = 0;
	pi->sibling_ino = store->super->orphan_ino;
	store->super->orphan_ino = cpu_to_le64(ino);
	pkernfs_super_commit(store);
	pr_warn("inode %llu was in no directory after an interrupted update: reclaiming it\n",
		ino);
}

/**
 * pkernfs_recover_strays() - put inodes that are in no list back in one
 * @store: the store, its lock held, not mounted
 * @strays: the strays check.c found, each checked like a linked inode
 * @nr: how many
 * @linked: bitmap (by inode number - 1) of the inodes reached from the root
 *
 * Return: -EAGAIN, for check.c to check the region again.
 */
int pkernfs_recover_strays(struct pkernfs_store *store, const u32 *strays,
			   u32 nr, const unsigned long *linked)
{
	bool progress = false;
	u32 i;

	lockdep_assert_held(&store->lock);
	for (i = 0; i < nr; i++) {
		struct pkernfs_inode *pi = &store->inodes[strays[i] - 1];
		u64 dir = le64_to_cpu(pi->parent_ino);

		if (pkernfs_stray_unlinked(pi) || !pkernfs_ino_valid(dir) ||
		    !test_bit(dir - 1, linked) ||
		    !S_ISDIR(le32_to_cpu(store->inodes[dir - 1].mode)))
			continue;
		pkernfs_stray_link(store, strays[i], pi, dir);
		progress = true;
	}
	if (progress)
		return -EAGAIN;

	for (i = 0; i < nr; i++)
		pkernfs_stray_orphan(store, strays[i],
				     &store->inodes[strays[i] - 1]);
	return -EAGAIN;
}
