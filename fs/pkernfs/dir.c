// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs directories: the persistent entry lists and readdir.
 *
 * A directory's entries are a list through sibling_ino, headed by its
 * child_ino and sorted by inode number.  The directory's i_rwsem protects its
 * list: shared for lookups and readdir, exclusive for changes.
 *
 * readdir positions are inode numbers plus 2 (0 and 1 are "." and ".."), so
 * a reader resumes at the first entry with an inode number not below the
 * one it stopped at, however the list changed in between.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/string.h>

#include "internal.h"

#define PKERNFS_DIR_POS_END	(PKERNFS_INODE_COUNT + 3)

static struct pkernfs_inode *pkernfs_dir_next(struct pkernfs_store *store,
					      u64 dir, u64 ino, u32 *steps)
{
	if (!pkernfs_ino_valid(ino) || ++*steps > PKERNFS_INODE_COUNT) {
		pr_err("directory %llu: entry list is damaged at inode %llu\n",
		       dir, ino);
		return NULL;
	}
	return &store->inodes[ino - 1];
}

/**
 * pkernfs_dir_find() - look a name up in a directory
 * @store: the store
 * @dir: the directory's inode number, i_rwsem held or not mounted yet
 * @name: the name
 *
 * Return: the entry's inode number, or 0 if there is none.
 */
u64 pkernfs_dir_find(struct pkernfs_store *store, u64 dir,
		     const struct qstr *name)
{
	u64 ino = le64_to_cpu(store->inodes[dir - 1].child_ino);
	u32 steps = 0;

	while (ino) {
		struct pkernfs_inode *pi = pkernfs_dir_next(store, dir, ino,
							    &steps);

		if (!pi)
			return 0;
		if (le16_to_cpu(pi->name_len) == name->len &&
		    !memcmp(pi->name, name->name, name->len))
			return ino;
		ino = le64_to_cpu(pi->sibling_ino);
	}
	return 0;
}

/**
 * pkernfs_dir_link() - add an inode to a directory's entry list
 * @store: the store
 * @dir: the directory's inode number; its i_rwsem is held exclusively, or
 *	the filesystem is not mounted yet
 * @ino: an inode in no list, already named
 */
void pkernfs_dir_link(struct pkernfs_store *store, u64 dir, u64 ino)
{
	struct pkernfs_inode *pi = &store->inodes[ino - 1];
	__le64 *link = &store->inodes[dir - 1].child_ino;

	while (*link && le64_to_cpu(*link) < ino)
		link = &store->inodes[le64_to_cpu(*link) - 1].sibling_ino;
	pi->sibling_ino = *link;
	pi->parent_ino = cpu_to_le64(dir);
	*link = cpu_to_le64(ino);
}

/**
 * pkernfs_dir_unlink() - remove an inode from a directory's entry list
 * @store: the store
 * @dir: the directory's inode number, i_rwsem held exclusively
 * @ino: an entry of @dir
 */
void pkernfs_dir_unlink(struct pkernfs_store *store, u64 dir, u64 ino)
{
	struct pkernfs_inode *pi = &store->inodes[ino - 1];
	__le64 *link = &store->inodes[dir - 1].child_ino;

	while (*link && le64_to_cpu(*link) != ino)
		link = &store->inodes[le64_to_cpu(*link) - 1].sibling_ino;
	if (WARN_ON_ONCE(!*link))
		return;
	*link = pi->sibling_ino;
	pi->sibling_ino = 0;
}

static int pkernfs_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	struct pkernfs_store *store = PKERNFS_STORE(dir->i_sb);
	u64 ino = le64_to_cpu(PKERNFS_PI(dir)->child_ino);
	u32 steps = 0;

	if (!dir_emit_dots(file, ctx))
		return 0;
	while (ino) {
		struct pkernfs_inode *pi = pkernfs_dir_next(store, dir->i_ino,
							    ino, &steps);

		if (!pi)
			return -EUCLEAN;
		if (ino + 2 >= ctx->pos) {
			ctx->pos = ino + 2;
			if (!dir_emit(ctx, pi->name, le16_to_cpu(pi->name_len),
				      ino,
				      fs_umode_to_dtype(le32_to_cpu(pi->mode))))
				return 0;
			ctx->pos = ino + 3;
		}
		ino = le64_to_cpu(pi->sibling_ino);
	}
	ctx->pos = PKERNFS_DIR_POS_END;
	return 0;
}

const struct file_operations pkernfs_dir_fops = {
	.llseek		= generic_file_llseek,
	.read		= generic_read_dir,
	.iterate_shared	= pkernfs_readdir,
	.fsync		= noop_fsync,
};
