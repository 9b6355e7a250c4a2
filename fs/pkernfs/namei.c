// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs directory inode operations: lookup, create, mkdir, unlink, rmdir
 * and rename.
 *
 * The VFS holds the parent's i_rwsem (both parents' for rename) across each
 * of these, which serialises changes to the persistent entry lists.  Hard
 * links are not supported, so every inode has exactly one entry.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/string.h>

#include "internal.h"

static struct dentry *pkernfs_lookup(struct inode *dir, struct dentry *dentry,
				     unsigned int flags)
{
	struct pkernfs_store *store = PKERNFS_STORE(dir->i_sb);
	struct inode *inode = NULL;
	u64 ino;

	if (dentry->d_name.len > PKERNFS_NAME_LEN)
		return ERR_PTR(-ENAMETOOLONG);
	ino = pkernfs_dir_find(store, dir->i_ino, &dentry->d_name);
	if (ino)
		inode = pkernfs_iget(dir->i_sb, ino);
	/* A miss hashes a negative dentry. */
	return d_splice_alias(inode, dentry);
}

static void pkernfs_touch_dir(struct inode *dir)
{
	inode_set_mtime_to_ts(dir, inode_set_ctime_current(dir));
	mark_inode_dirty(dir);
}

static int pkernfs_add_entry(struct inode *dir, struct dentry *dentry,
			     umode_t mode)
{
	struct pkernfs_store *store = PKERNFS_STORE(dir->i_sb);
	struct inode *inode;
	u32 flags;

	if (dentry->d_name.len > PKERNFS_NAME_LEN)
		return -ENAMETOOLONG;
	if (pkernfs_is_iommu_dir(dir)) {
		/* iommu/ holds domain page-table files and nothing else. */
		if (S_ISDIR(mode))
			return -EPERM;
		flags = PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES;
	} else {
		flags = S_ISDIR(mode) ? PKERNFS_INODE_FLAG_DIR :
					PKERNFS_INODE_FLAG_FILE;
	}
	pkernfs_begin_update(store);
	inode = pkernfs_new_inode(dir, dentry, mode, flags);
	if (IS_ERR(inode)) {
		pkernfs_end_update(store);
		return PTR_ERR(inode);
	}
	pkernfs_cut(store, PKERNFS_CUT_INODE_UNLINKED);
	pkernfs_dir_link(store, dir->i_ino, inode->i_ino);
	if (S_ISDIR(mode)) {
		pkernfs_cut(store, PKERNFS_CUT_DIR_NLINK);
		inc_nlink(dir);
	}
	pkernfs_touch_dir(dir);
	pkernfs_end_update(store);
	d_instantiate_new(dentry, inode);
	return 0;
}

static int pkernfs_create(struct mnt_idmap *idmap, struct inode *dir,
			  struct dentry *dentry, umode_t mode, bool excl)
{
	return pkernfs_add_entry(dir, dentry, S_IFREG | (mode & ~S_IFMT));
}

static int pkernfs_mkdir(struct mnt_idmap *idmap, struct inode *dir,
			 struct dentry *dentry, umode_t mode)
{
	return pkernfs_add_entry(dir, dentry, S_IFDIR | (mode & ~S_IFMT));
}

/*
 * Take @inode out of @dir.  Its last link gone, it moves to the orphan list
 * until evict releases it.  The link count is written before the orphan
 * list sees the inode, which must find it 0.
 */
static void pkernfs_remove_entry(struct inode *dir, struct inode *inode)
{
	struct pkernfs_store *store = PKERNFS_STORE(dir->i_sb);

	pkernfs_dir_unlink(store, dir->i_ino, inode->i_ino);
	pkernfs_cut(store, PKERNFS_CUT_REMOVED);
	if (S_ISDIR(inode->i_mode)) {
		clear_nlink(inode);
		drop_nlink(dir);
	} else {
		drop_nlink(inode);
	}
	inode_set_ctime_current(inode);
	mark_inode_dirty(inode);
	if (!inode->i_nlink)
		pkernfs_orphan_add(store, inode->i_ino);
	pkernfs_touch_dir(dir);
}

static bool pkernfs_dir_is_empty(struct inode *dir)
{
	return !PKERNFS_PI(dir)->child_ino;
}

/* Whether user space may remove or rename @inode. */
static int pkernfs_may_remove(struct inode *inode)
{
	struct pkernfs_inode *pi = PKERNFS_PI(inode);
	u32 flags = le32_to_cpu(pi->flags);

	if (flags & (PKERNFS_INODE_FLAG_IOMMU_DIR |
		     PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES))
		return -EPERM;
	if (pkernfs_is_pgtables(pi) &&
	    pkernfs_iommu_busy(PKERNFS_STORE(inode->i_sb), inode->i_ino))
		return -EBUSY;
	if (S_ISREG(inode->i_mode) && pkernfs_dma_pinned(inode))
		return -EBUSY;
	return 0;
}

/*
 * Take @inode out of @dir if user space may.  DMA pins are taken under the
 * file's invalidate_lock (pkernfs_file_dma_pin()): check them under it, so
 * that no pin comes between the check and the removal.
 */
static int pkernfs_remove_checked(struct inode *dir, struct inode *inode)
{
	int err;

	filemap_invalidate_lock(inode->i_mapping);
	err = pkernfs_may_remove(inode);
	if (!err && S_ISDIR(inode->i_mode) && !pkernfs_dir_is_empty(inode))
		err = -ENOTEMPTY;
	if (!err)
		pkernfs_remove_entry(dir, inode);
	filemap_invalidate_unlock(inode->i_mapping);
	return err;
}

/* ->unlink and ->rmdir: the VFS has checked the type already. */
static int pkernfs_remove(struct inode *dir, struct dentry *dentry)
{
	struct pkernfs_store *store = PKERNFS_STORE(dir->i_sb);
	int err;

	pkernfs_begin_update(store);
	err = pkernfs_remove_checked(dir, d_inode(dentry));
	pkernfs_end_update(store);
	return err;
}

static int pkernfs_rename(struct mnt_idmap *idmap, struct inode *old_dir,
			  struct dentry *old_dentry, struct inode *new_dir,
			  struct dentry *new_dentry, unsigned int flags)
{
	struct pkernfs_store *store = PKERNFS_STORE(old_dir->i_sb);
	struct inode *inode = d_inode(old_dentry);
	struct inode *target = d_inode(new_dentry);
	struct pkernfs_inode *pi = PKERNFS_PI(inode);
	const struct qstr *name = &new_dentry->d_name;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;
	/* The IOMMU files stay where the kernel and VFIO expect them. */
	if (pkernfs_is_iommu_dir(old_dir) || pkernfs_is_iommu_dir(new_dir) ||
	    pkernfs_is_iommu_dir(inode))
		return -EPERM;
	if (name->len > PKERNFS_NAME_LEN)
		return -ENAMETOOLONG;

	pkernfs_begin_update(store);
	if (target) {
		int err = pkernfs_remove_checked(new_dir, target);

		if (err) {
			pkernfs_end_update(store);
			return err;
		}
	}
	pkernfs_dir_unlink(store, old_dir->i_ino, inode->i_ino);
	pkernfs_cut(store, PKERNFS_CUT_RENAME_UNLINKED);
	memset(pi->name, 0, sizeof(pi->name));
	memcpy(pi->name, name->name, name->len);
	pi->name_len = cpu_to_le16(name->len);
	/* Before the link: a cut from here on completes the rename. */
	pi->parent_ino = cpu_to_le64(new_dir->i_ino);
	pkernfs_cut(store, PKERNFS_CUT_RENAME_NAMED);
	pkernfs_dir_link(store, new_dir->i_ino, inode->i_ino);

	if (S_ISDIR(inode->i_mode) && old_dir != new_dir) {
		drop_nlink(old_dir);
		inc_nlink(new_dir);
	}
	inode_set_ctime_current(inode);
	mark_inode_dirty(inode);
	pkernfs_touch_dir(old_dir);
	if (new_dir != old_dir)
		pkernfs_touch_dir(new_dir);
	pkernfs_end_update(store);
	return 0;
}

const struct inode_operations pkernfs_dir_iops = {
	.lookup		= pkernfs_lookup,
	.create		= pkernfs_create,
	.mkdir		= pkernfs_mkdir,
	.unlink		= pkernfs_remove,
	.rmdir		= pkernfs_remove,
	.rename		= pkernfs_rename,
	.setattr	= pkernfs_setattr,
	.getattr	= pkernfs_getattr,
};
