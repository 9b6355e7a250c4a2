/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkernfs internal definitions.
 */
#ifndef _PKERNFS_INTERNAL_H
#define _PKERNFS_INTERNAL_H

#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "pkernfs_fs.h"

/**
 * struct pkernfs_store - the reserved region and its allocators
 * @base: physical address of the region (``pkernfs=`` base).
 * @size: size of the region in bytes (``pkernfs=`` size).
 * @nr_blocks: number of 2 MiB blocks in the region.
 * @mem: kernel mapping of the whole region (memremap(), no struct pages),
 *	NULL when unusable.
 * @super: the superblock, at @mem.
 * @bitmap: the block bitmap (little-endian bit order).
 * @inodes: the inode store; inode number n is @inodes[n - 1].
 * @error: why the region cannot be mounted, or 0.
 * @update_sem: held for read across every change to the persistent state.
 * @frozen: set on the way to a kexec; no change may start any more.
 * @cut_short: a change was stopped half way by a cut point (cut.c); the
 *	reboot notifier does not wait for it.
 * @lock: see below.
 * @free_blocks: blocks clear in the bitmap.
 * @free_inodes: inodes on the free list.
 * @block_hint: where the next block search starts.
 * @checked: the persisted tree was checked since boot.
 * @dir_index: the name index of every directory (dir.c), NULL until the
 *	first check.
 * @iommu_lock: protects @iommu_blocks and the page bitmaps of the IOMMU
 *	regions (see iommu.c); taken in atomic context.
 * @iommu_blocks: blocks lent to an IOMMU as regions, NULL when pkernfs
 *	cannot hold IOMMU tables.
 * @pages_lock: serialises giving blocks struct pages (region.c).
 * @paged_blocks: blocks with struct pages and a direct map, for IOMMU
 *	tables; bits are set under @pages_lock and never cleared.  NULL when
 *	pkernfs cannot hold IOMMU tables.
 * @iommu_busy: inodes whose region an IOMMU uses; atomic bitops.
 * @dma_pins: by inode, how many IOMMU mappings of VFIO cover the file;
 *	taken, and checked by unlink and truncate, under its invalidate_lock.
 * @kept_contexts: IOMMU context entries kept by a live update and not yet
 *	replaced: their devices DMA through tables no domain owns, into the
 *	files marked PKERNFS_INODE_FLAG_DMA (see iommu.c).
 *
 * There is one store, for the one region; every mount of pkernfs shares it
 * through a single superblock.
 *
 * Locking: @lock serialises the allocators.  It protects the bitmap, the free
 * inode list and the orphan list, the superblock fields that head them (and
 * so the superblock checksum), @free_blocks, @free_inodes and @block_hint.
 * It is the innermost pkernfs lock: it nests inside a directory's i_rwsem,
 * which protects that directory's entry list, and inside a file's i_rwsem and
 * invalidate_lock, which protect the file's block list.  Nothing allocates
 * memory or touches user memory with @lock held.
 *
 * A change to the persistent state takes several stores (an inode, the list
 * it joins, the bitmap, the superblock).  A kexec stops the other CPUs
 * wherever they are, so every such change runs between
 * pkernfs_begin_update() and pkernfs_end_update(), with @update_sem held for
 * read.  On the way to a kexec, taking @update_sem for write waits for the
 * changes in flight, then @frozen stops any new one, and the next kernel
 * finds no change half done.  (@update_sem itself is not kept: the kexec
 * path takes CPU hotplug locks after the notifier.)
 */
struct pkernfs_store {
	phys_addr_t base;
	u64 size;
	u32 nr_blocks;
	void *mem;
	struct pkernfs_super *super;
	void *bitmap;
	struct pkernfs_inode *inodes;
	int error;

	struct rw_semaphore update_sem;
	bool frozen;
	bool cut_short;
	struct mutex lock;		/* the allocators, see above */
	u64 free_blocks;
	u32 free_inodes;
	u32 block_hint;
	bool checked;
	struct pkernfs_dir_index *dir_index;

	spinlock_t iommu_lock;		/* the IOMMU regions, see above */
	unsigned long *iommu_blocks;
	struct mutex pages_lock;	/* @paged_blocks */
	unsigned long *paged_blocks;
	DECLARE_BITMAP(iommu_busy, PKERNFS_INODE_COUNT);
	atomic_t dma_pins[PKERNFS_INODE_COUNT];
	atomic_t kept_contexts;
};

static inline struct pkernfs_store *PKERNFS_STORE(struct super_block *sb)
{
	return sb->s_fs_info;
}

/* Inode numbers are 1-based; 0 and anything past the store are invalid. */
static inline bool pkernfs_ino_valid(u64 ino)
{
	return ino >= 1 && ino <= PKERNFS_INODE_COUNT;
}

static inline struct pkernfs_inode *
pkernfs_inode_ptr(struct pkernfs_store *store, u64 ino)
{
	if (WARN_ON_ONCE(!pkernfs_ino_valid(ino)))
		return NULL;
	return &store->inodes[ino - 1];
}

/* The persistent inode behind a VFS inode. */
static inline struct pkernfs_inode *PKERNFS_PI(struct inode *inode)
{
	return &PKERNFS_STORE(inode->i_sb)->inodes[inode->i_ino - 1];
}

static inline bool pkernfs_block_valid(struct pkernfs_store *store, u64 blk)
{
	return blk >= PKERNFS_FIRST_DATA_BLOCK && blk < store->nr_blocks;
}

static inline void *pkernfs_block_ptr(struct pkernfs_store *store, u32 blk)
{
	return store->mem + ((size_t)blk << PKERNFS_BLOCK_SHIFT);
}

static inline unsigned long pkernfs_block_pfn(struct pkernfs_store *store,
					      u32 blk)
{
	return PHYS_PFN(store->base + ((u64)blk << PKERNFS_BLOCK_SHIFT));
}

/* Blocks needed to hold @size bytes. */
static inline u64 pkernfs_size_to_blocks(loff_t size)
{
	return DIV_ROUND_UP_ULL(size, PKERNFS_BLOCK_SIZE);
}

void pkernfs_wait_for_kexec(struct pkernfs_store *store);

/*
 * The gaps between the stores of an update where a kexec can leave the
 * region, and the next mount must still take it (check.c, recover.c).  The
 * tests stop an update at one of them with CONFIG_PKERNFS_CUT_POINTS.
 */
enum pkernfs_cut_point {
	PKERNFS_CUT_NONE,
	PKERNFS_CUT_INODE_TAKEN,	/* off the free list, not yet set up */
	PKERNFS_CUT_INODE_UNLINKED,	/* set up, in no directory yet */
	PKERNFS_CUT_DIR_NLINK,		/* linked, parent's nlink not counted */
	PKERNFS_CUT_REMOVED,		/* out of its directory, not orphaned */
	PKERNFS_CUT_ORPHAN_FLAGGED,	/* orphan flag set, not on the list */
	PKERNFS_CUT_RENAME_UNLINKED,	/* rename: out of the old directory */
	PKERNFS_CUT_RENAME_NAMED,	/* rename: new name, in no directory */
	PKERNFS_CUT_GROW_ALLOCATED,	/* grow: blocks taken, not listed */
	PKERNFS_CUT_TABLE_SWITCHED,	/* grow: list moved to a table */
	PKERNFS_CUT_SHRINK_SIZED,	/* shrink: size written, list not */
	PKERNFS_CUT_SHRINK_COUNTED,	/* shrink: list shortened, not freed */
	PKERNFS_CUT_TABLE_DROPPED,	/* shrink: list back inline, table not freed */
	PKERNFS_CUT_RELEASE_UNLISTED,	/* release: off the orphan list, not free */
	PKERNFS_NR_CUT_POINTS
};

#ifdef CONFIG_PKERNFS_CUT_POINTS
void pkernfs_cut(struct pkernfs_store *store, enum pkernfs_cut_point point);
#else
/*
 * Still a compiler barrier: the stores on either side of a cut point must
 * reach memory in program order (x86 keeps that order between CPUs), or
 * a kexec could find the later one without the earlier.
 */
static inline void pkernfs_cut(struct pkernfs_store *store,
			       enum pkernfs_cut_point point)
{
	barrier();
}
#endif

static inline void pkernfs_begin_update(struct pkernfs_store *store)
{
	down_read(&store->update_sem);
	if (unlikely(READ_ONCE(store->frozen)))
		pkernfs_wait_for_kexec(store);
}

static inline void pkernfs_end_update(struct pkernfs_store *store)
{
	up_read(&store->update_sem);
}

/* region.c */
extern struct pkernfs_store pkernfs_store;
int pkernfs_region_init(struct pkernfs_store *store);
void pkernfs_region_unmap(struct pkernfs_store *store);
int pkernfs_region_add_pages(struct pkernfs_store *store, u32 blk);
bool pkernfs_region_paged(struct pkernfs_store *store, u32 blk);

/* super.c */
void pkernfs_super_commit(struct pkernfs_store *store);
int pkernfs_check_once(struct pkernfs_store *store);

/* alloc.c */
int pkernfs_alloc_block(struct pkernfs_store *store, u32 *blk);
void pkernfs_free_block(struct pkernfs_store *store, u32 blk);
int pkernfs_alloc_ino(struct pkernfs_store *store, u64 *ino);
void pkernfs_free_ino(struct pkernfs_store *store, u64 ino);
void pkernfs_orphan_add(struct pkernfs_store *store, u64 ino);
void pkernfs_orphan_del(struct pkernfs_store *store, u64 ino);

/* check.c */
bool pkernfs_name_ok(const struct pkernfs_inode *pi);
int pkernfs_check_store(struct pkernfs_store *store);

/* recover.c */
int pkernfs_recover_strays(struct pkernfs_store *store, const u32 *strays,
			   u32 nr, const unsigned long *linked);

/* blockmap.c */
u32 pkernfs_get_block(struct pkernfs_store *store, struct pkernfs_inode *pi,
		      u64 index);
int pkernfs_resize_blocks(struct pkernfs_store *store,
			  struct pkernfs_inode *pi, u64 nr);
void pkernfs_free_all_blocks(struct pkernfs_store *store,
			     struct pkernfs_inode *pi);

/* inode.c */
void pkernfs_dirty_inode(struct inode *inode, int flags);
void pkernfs_evict_inode(struct inode *inode);
struct inode *pkernfs_iget(struct super_block *sb, u64 ino);
struct inode *pkernfs_new_inode(struct inode *dir, struct dentry *dentry,
				umode_t mode, u32 flags);
void pkernfs_release_inode(struct pkernfs_store *store, u64 ino);
int pkernfs_setsize(struct inode *inode, loff_t newsize);
int pkernfs_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
		    struct iattr *attr);
int pkernfs_getattr(struct mnt_idmap *idmap, const struct path *path,
		    struct kstat *stat, u32 request_mask, unsigned int flags);

/* dir.c */
extern const struct file_operations pkernfs_dir_fops;
u64 pkernfs_dir_find(struct pkernfs_store *store, u64 dir,
		     const struct qstr *name);
int pkernfs_dir_index_build(struct pkernfs_store *store);
void pkernfs_dir_index_drop(struct pkernfs_store *store);
void pkernfs_dir_link(struct pkernfs_store *store, u64 dir, u64 ino);
void pkernfs_dir_unlink(struct pkernfs_store *store, u64 dir, u64 ino);

/* namei.c */
extern const struct inode_operations pkernfs_dir_iops;

/* iommu.c */
extern const struct file_operations pkernfs_pgtables_fops;
extern const struct inode_operations pkernfs_pgtables_iops;
int pkernfs_iommu_init_block(struct pkernfs_store *store,
			     struct pkernfs_inode *pi);
bool pkernfs_iommu_busy(struct pkernfs_store *store, u64 ino);
bool pkernfs_dma_pinned(struct inode *inode);
void pkernfs_dma_settle(struct pkernfs_store *store);

static inline bool pkernfs_is_pgtables(struct pkernfs_inode *pi)
{
	return le32_to_cpu(pi->flags) &
		(PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES |
		 PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES);
}

static inline bool pkernfs_is_iommu_dir(struct inode *dir)
{
	return le32_to_cpu(PKERNFS_PI(dir)->flags) &
		PKERNFS_INODE_FLAG_IOMMU_DIR;
}

/* file.c */
extern const struct inode_operations pkernfs_file_iops;
extern const struct file_operations pkernfs_file_fops;

#endif /* _PKERNFS_INTERNAL_H */
