// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs inodes: building VFS inodes from persistent ones, writing them
 * back, resizing files and releasing inodes.
 *
 * The persistent inode is the master copy of everything but the block list
 * (see blockmap.c).  The VFS inode's attributes are written through to it on
 * every mark_inode_dirty(), from ->dirty_inode, under inode->i_lock so that
 * two racing write-throughs cannot leave an older value behind.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/random.h>
#include <linux/string.h>

#include "internal.h"

static void pkernfs_set_ops(struct inode *inode)
{
	if (pkernfs_is_pgtables(PKERNFS_PI(inode))) {
		inode->i_op = &pkernfs_pgtables_iops;
		inode->i_fop = &pkernfs_pgtables_fops;
	} else if (S_ISDIR(inode->i_mode)) {
		inode->i_op = &pkernfs_dir_iops;
		inode->i_fop = &pkernfs_dir_fops;
	} else {
		inode->i_op = &pkernfs_file_iops;
		inode->i_fop = &pkernfs_file_fops;
	}
}

static blkcnt_t pkernfs_inode_blocks(struct pkernfs_inode *pi)
{
	return (blkcnt_t)le32_to_cpu(pi->num_mappings) <<
		(PKERNFS_BLOCK_SHIFT - 9);
}

/* The minimum iget needs to trust before filling an inode in. */
static bool pkernfs_inode_usable(struct pkernfs_inode *pi)
{
	u32 type = le32_to_cpu(pi->flags) & PKERNFS_INODE_TYPE_MASK;
	umode_t mode = le32_to_cpu(pi->mode);

	if (type == PKERNFS_INODE_FLAG_FILE)
		return S_ISREG(mode) && le64_to_cpu(pi->size) <=
			(u64)le32_to_cpu(pi->num_mappings) << PKERNFS_BLOCK_SHIFT;
	if (type == PKERNFS_INODE_FLAG_DIR || type == PKERNFS_INODE_FLAG_IOMMU_DIR)
		return S_ISDIR(mode);
	if (type == PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES ||
	    type == PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES)
		return S_ISREG(mode) && pi->mappings_block;
	return false;
}

/**
 * pkernfs_iget() - get the VFS inode for a persistent inode
 * @sb: the pkernfs superblock
 * @ino: inode number
 *
 * Return: the inode, or an ERR_PTR.
 */
struct inode *pkernfs_iget(struct super_block *sb, u64 ino)
{
	struct pkernfs_inode *pi;
	struct inode *inode;

	if (!pkernfs_ino_valid(ino))
		return ERR_PTR(-EUCLEAN);
	inode = iget_locked(sb, ino);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW))
		return inode;

	pi = PKERNFS_PI(inode);
	if (!pkernfs_inode_usable(pi)) {
		pr_err("inode %llu is damaged (flags %#x, mode %#o)\n", ino,
		       le32_to_cpu(pi->flags), le32_to_cpu(pi->mode));
		iget_failed(inode);
		return ERR_PTR(-EUCLEAN);
	}
	inode->i_mode = le32_to_cpu(pi->mode);
	i_uid_write(inode, le32_to_cpu(pi->uid));
	i_gid_write(inode, le32_to_cpu(pi->gid));
	set_nlink(inode, le32_to_cpu(pi->nlink));
	inode->i_size = le64_to_cpu(pi->size);
	inode->i_blocks = pkernfs_is_pgtables(pi) ? PKERNFS_BLOCK_SIZE >> 9 :
						   pkernfs_inode_blocks(pi);
	inode->i_generation = le32_to_cpu(pi->generation);
	inode_set_atime(inode, le64_to_cpu(pi->atime_sec),
			le32_to_cpu(pi->atime_nsec));
	inode_set_mtime(inode, le64_to_cpu(pi->mtime_sec),
			le32_to_cpu(pi->mtime_nsec));
	inode_set_ctime(inode, le64_to_cpu(pi->ctime_sec),
			le32_to_cpu(pi->ctime_nsec));
	pkernfs_set_ops(inode);
	unlock_new_inode(inode);
	return inode;
}

/**
 * pkernfs_dirty_inode() - write a VFS inode's attributes through
 * @inode: the inode
 * @flags: unused
 */
void pkernfs_dirty_inode(struct inode *inode, int flags)
{
	struct pkernfs_inode *pi = PKERNFS_PI(inode);
	struct timespec64 ts;

	spin_lock(&inode->i_lock);
	pi->mode = cpu_to_le32(inode->i_mode);
	pi->uid = cpu_to_le32(i_uid_read(inode));
	pi->gid = cpu_to_le32(i_gid_read(inode));
	pi->nlink = cpu_to_le32(inode->i_nlink);
	pi->size = cpu_to_le64(i_size_read(inode));
	pi->generation = cpu_to_le32(inode->i_generation);
	ts = inode_get_atime(inode);
	pi->atime_sec = cpu_to_le64(ts.tv_sec);
	pi->atime_nsec = cpu_to_le32(ts.tv_nsec);
	ts = inode_get_mtime(inode);
	pi->mtime_sec = cpu_to_le64(ts.tv_sec);
	pi->mtime_nsec = cpu_to_le32(ts.tv_nsec);
	ts = inode_get_ctime(inode);
	pi->ctime_sec = cpu_to_le64(ts.tv_sec);
	pi->ctime_nsec = cpu_to_le32(ts.tv_nsec);
	spin_unlock(&inode->i_lock);
}

/**
 * pkernfs_new_inode() - allocate an inode for a new directory entry
 * @dir: the parent directory, i_rwsem held
 * @dentry: the entry being created
 * @mode: type and permissions
 * @flags: the PKERNFS_INODE_FLAG_* type
 *
 * The inode is named after @dentry but not yet linked into @dir.  It is
 * returned locked (I_NEW), for d_instantiate_new().
 *
 * Return: the inode, or an ERR_PTR (-ENOSPC when the inode store is full).
 */
struct inode *pkernfs_new_inode(struct inode *dir, struct dentry *dentry,
				umode_t mode, u32 flags)
{
	struct pkernfs_store *store = PKERNFS_STORE(dir->i_sb);
	struct pkernfs_inode *pi;
	struct inode *inode;
	u64 ino;
	int err;

	inode = new_inode(dir->i_sb);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	err = pkernfs_alloc_ino(store, &ino);
	if (err) {
		iput(inode);
		return ERR_PTR(err);
	}
	pkernfs_cut(store, PKERNFS_CUT_INODE_TAKEN);

	pi = &store->inodes[ino - 1];
	if (flags & PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES) {
		err = pkernfs_iommu_init_block(store, pi);
		if (err) {
			pkernfs_free_ino(store, ino);
			iput(inode);
			return ERR_PTR(err);
		}
		inode->i_size = PKERNFS_BLOCK_SIZE;
		inode->i_blocks = PKERNFS_BLOCK_SIZE >> 9;
	}

	inode->i_ino = ino;
	inode_init_owner(&nop_mnt_idmap, inode, dir, mode);
	simple_inode_init_ts(inode);
	inode->i_generation = get_random_u32();
	set_nlink(inode, S_ISDIR(mode) ? 2 : 1);

	pi->parent_ino = cpu_to_le64(dir->i_ino);
	pi->name_len = cpu_to_le16(dentry->d_name.len);
	memcpy(pi->name, dentry->d_name.name, dentry->d_name.len);
	pkernfs_dirty_inode(inode, 0);
	/* Last: a slot with flags is a whole inode (see recover.c). */
	pi->flags = cpu_to_le32(flags);
	pkernfs_set_ops(inode);

	if (WARN_ON_ONCE(insert_inode_locked(inode) < 0)) {
		/* A VFS inode of that number is still live: cannot happen. */
		pkernfs_free_ino(store, ino);
		make_bad_inode(inode);
		iput(inode);
		return ERR_PTR(-EIO);
	}
	return inode;
}

/**
 * pkernfs_release_inode() - free an unlinked inode and its blocks
 * @store: the store
 * @ino: an inode on the orphan list with no VFS user left
 */
void pkernfs_release_inode(struct pkernfs_store *store, u64 ino)
{
	struct pkernfs_inode *pi = pkernfs_inode_ptr(store, ino);
	u32 pgtables_blk = 0;

	if (!pi)
		return;
	/*
	 * Each step leaves a region the next mount takes: a file's size goes
	 * before its blocks, and the page-table block, which the inode must
	 * keep while it exists, goes after the inode (a leak at worst).
	 */
	pkernfs_begin_update(store);
	if (pkernfs_is_pgtables(pi)) {
		pgtables_blk = le32_to_cpu(pi->mappings_block);
	} else {
		pi->size = 0;
		pkernfs_free_all_blocks(store, pi);
	}
	pkernfs_orphan_del(store, ino);
	pkernfs_cut(store, PKERNFS_CUT_RELEASE_UNLISTED);
	pkernfs_free_ino(store, ino);
	if (pgtables_blk)
		pkernfs_free_block(store, pgtables_blk);
	pkernfs_end_update(store);
}

/**
 * pkernfs_evict_inode() - drop a VFS inode, releasing it if unlinked
 * @inode: the inode
 */
void pkernfs_evict_inode(struct inode *inode)
{
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	if (!inode->i_nlink && !is_bad_inode(inode))
		pkernfs_release_inode(PKERNFS_STORE(inode->i_sb), inode->i_ino);
}

/* Zero file bytes [from, to), all within blocks the file already has. */
static void pkernfs_zero_range(struct inode *inode, loff_t from, loff_t to)
{
	struct pkernfs_store *store = PKERNFS_STORE(inode->i_sb);
	struct pkernfs_inode *pi = PKERNFS_PI(inode);

	while (from < to) {
		u32 blk = pkernfs_get_block(store, pi,
					    from >> PKERNFS_BLOCK_SHIFT);
		size_t off = from & (PKERNFS_BLOCK_SIZE - 1);
		size_t len = min_t(loff_t, PKERNFS_BLOCK_SIZE - off, to - from);

		if (WARN_ON_ONCE(!blk))
			return;
		memset(pkernfs_block_ptr(store, blk) + off, 0, len);
		from += len;
	}
}

/**
 * pkernfs_setsize() - change the size of a regular file
 * @inode: the file, i_rwsem held
 * @newsize: the new size
 *
 * Growing allocates and zeroes blocks, and zeroes what lay between the old
 * end of file and the end of its last block.  Shrinking first unmaps the
 * pages past the new end from every process, then frees whole blocks past
 * it.  On failure the file is left as it was.  The caller marks the inode
 * dirty.
 *
 * Return: 0, -ENOSPC, -EFBIG, or -EBUSY to shrink a file VFIO maps for DMA.
 */
int pkernfs_setsize(struct inode *inode, loff_t newsize)
{
	struct pkernfs_store *store = PKERNFS_STORE(inode->i_sb);
	struct address_space *mapping = inode->i_mapping;
	struct pkernfs_inode *pi = PKERNFS_PI(inode);
	loff_t oldsize = i_size_read(inode);
	int err = 0;

	lockdep_assert_held_write(&inode->i_rwsem);
	if (newsize == oldsize)
		return 0;

	filemap_invalidate_lock(mapping);
	/* A device may still write what shrinking would free. */
	if (newsize < oldsize && pkernfs_dma_pinned(inode)) {
		err = -EBUSY;
		goto out;
	}
	if (newsize > oldsize) {
		loff_t tail = (loff_t)le32_to_cpu(pi->num_mappings) <<
			PKERNFS_BLOCK_SHIFT;

		err = pkernfs_resize_blocks(store, pi,
					    pkernfs_size_to_blocks(newsize));
		if (err)
			goto out;
		pkernfs_zero_range(inode, oldsize, min(newsize, tail));
		i_size_write(inode, newsize);
	} else {
		i_size_write(inode, newsize);
		/* The size goes first, so it never exceeds the block list. */
		pkernfs_dirty_inode(inode, 0);
		pkernfs_cut(store, PKERNFS_CUT_SHRINK_SIZED);
		unmap_mapping_range(mapping, PAGE_ALIGN(newsize), 0, 1);
		err = pkernfs_resize_blocks(store, pi,
					    pkernfs_size_to_blocks(newsize));
	}
	inode->i_blocks = pkernfs_inode_blocks(pi);
out:
	filemap_invalidate_unlock(mapping);
	return err;
}

/**
 * pkernfs_setattr() - ->setattr for every pkernfs inode
 * @idmap: idmap of the mount
 * @dentry: the entry
 * @attr: the change
 *
 * Return: 0 or a negative errno.
 */
int pkernfs_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
		    struct iattr *attr)
{
	struct pkernfs_store *store = PKERNFS_STORE(dentry->d_sb);
	struct inode *inode = d_inode(dentry);
	int err;

	err = setattr_prepare(idmap, dentry, attr);
	if (err)
		return err;
	if ((attr->ia_valid & ATTR_SIZE) && !S_ISREG(inode->i_mode))
		return -EINVAL;
	pkernfs_begin_update(store);
	if (attr->ia_valid & ATTR_SIZE) {
		err = pkernfs_setsize(inode, attr->ia_size);
		if (err)
			goto out;
	}
	setattr_copy(idmap, inode, attr);
	mark_inode_dirty(inode);
out:
	pkernfs_end_update(store);
	return err;
}

/**
 * pkernfs_getattr() - ->getattr for every pkernfs inode
 * @idmap: idmap of the mount
 * @path: the file
 * @stat: filled in
 * @request_mask: STATX_* wanted
 * @flags: AT_* flags
 *
 * Return: 0.
 */
int pkernfs_getattr(struct mnt_idmap *idmap, const struct path *path,
		    struct kstat *stat, u32 request_mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);

	generic_fillattr(idmap, request_mask, inode, stat);
	stat->blksize = PKERNFS_BLOCK_SIZE;
	return 0;
}
