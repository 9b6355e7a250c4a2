// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs allocators: 2 MiB blocks from the bitmap, inodes from the free
 * list of the inode store, and the orphan list.  All under store->lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/string.h>

#include "internal.h"

/**
 * pkernfs_alloc_block() - allocate one 2 MiB block
 * @store: the store
 * @blk: the block index, on success
 *
 * The block's contents are whatever they were: the caller zeroes what it
 * will let anyone read.
 *
 * Return: 0, or -ENOSPC when every block is in use.
 */
int pkernfs_alloc_block(struct pkernfs_store *store, u32 *blk)
{
	unsigned long bit;

	mutex_lock(&store->lock);
	bit = find_next_zero_bit_le(store->bitmap, store->nr_blocks,
				    store->block_hint);
	if (bit >= store->nr_blocks)
		bit = find_next_zero_bit_le(store->bitmap, store->nr_blocks,
					    PKERNFS_FIRST_DATA_BLOCK);
	if (bit >= store->nr_blocks) {
		mutex_unlock(&store->lock);
		return -ENOSPC;
	}
	__set_bit_le(bit, store->bitmap);
	store->free_blocks--;
	store->block_hint = bit + 1;
	mutex_unlock(&store->lock);
	*blk = bit;
	return 0;
}

/**
 * pkernfs_free_block() - return a block to the bitmap
 * @store: the store
 * @blk: a block obtained from pkernfs_alloc_block()
 */
void pkernfs_free_block(struct pkernfs_store *store, u32 blk)
{
	if (WARN_ON_ONCE(!pkernfs_block_valid(store, blk)))
		return;
	mutex_lock(&store->lock);
	if (!WARN_ON_ONCE(!__test_and_clear_bit_le(blk, store->bitmap))) {
		store->free_blocks++;
		if (blk < store->block_hint)
			store->block_hint = blk;
	}
	mutex_unlock(&store->lock);
}

/**
 * pkernfs_alloc_ino() - take an inode off the free list
 * @store: the store
 * @ino: the inode number, on success
 *
 * The inode comes back zeroed.
 *
 * Return: 0, -ENOSPC when the inode store is full, or -EUCLEAN when the free
 * list is damaged.
 */
int pkernfs_alloc_ino(struct pkernfs_store *store, u64 *ino)
{
	struct pkernfs_inode *pi;
	u64 head, next;
	int err = 0;

	mutex_lock(&store->lock);
	head = le64_to_cpu(store->super->next_free_ino);
	if (!head) {
		err = -ENOSPC;
		goto out;
	}
	pi = pkernfs_inode_ptr(store, head);
	next = pi ? le64_to_cpu(pi->sibling_ino) : 0;
	if (!pi || pi->flags || (next && !pkernfs_ino_valid(next))) {
		pr_err("free inode list is damaged at inode %llu\n", head);
		err = -EUCLEAN;
		goto out;
	}
	store->super->next_free_ino = cpu_to_le64(next);
	pkernfs_super_commit(store);
	store->free_inodes--;
	memset(pi, 0, sizeof(*pi));
	*ino = head;
out:
	mutex_unlock(&store->lock);
	return err;
}

/**
 * pkernfs_free_ino() - put an inode back on the free list
 * @store: the store
 * @ino: an inode no longer in any directory nor on the orphan list
 */
void pkernfs_free_ino(struct pkernfs_store *store, u64 ino)
{
	struct pkernfs_inode *pi = pkernfs_inode_ptr(store, ino);

	if (!pi)
		return;
	mutex_lock(&store->lock);
	memset(pi, 0, sizeof(*pi));
	pi->sibling_ino = store->super->next_free_ino;
	store->super->next_free_ino = cpu_to_le64(ino);
	pkernfs_super_commit(store);
	store->free_inodes++;
	mutex_unlock(&store->lock);
}

/**
 * pkernfs_orphan_add() - record an unlinked inode that is still in use
 * @store: the store
 * @ino: an inode just removed from its directory
 *
 * It stays allocated until its last user is gone (pkernfs_orphan_del()), or
 * is reclaimed at the next mount if a kexec comes first.
 */
void pkernfs_orphan_add(struct pkernfs_store *store, u64 ino)
{
	struct pkernfs_inode *pi = pkernfs_inode_ptr(store, ino);

	if (!pi)
		return;
	mutex_lock(&store->lock);
	pi->flags |= cpu_to_le32(PKERNFS_INODE_FLAG_ORPHAN);
	pkernfs_cut(store, PKERNFS_CUT_ORPHAN_FLAGGED);
	pi->sibling_ino = store->super->orphan_ino;
	store->super->orphan_ino = cpu_to_le64(ino);
	pkernfs_super_commit(store);
	mutex_unlock(&store->lock);
}

/**
 * pkernfs_orphan_del() - take an inode off the orphan list
 * @store: the store
 * @ino: an inode passed to pkernfs_orphan_add()
 */
void pkernfs_orphan_del(struct pkernfs_store *store, u64 ino)
{
	__le64 *link;
	u32 steps = 0;

	mutex_lock(&store->lock);
	link = &store->super->orphan_ino;
	while (*link && le64_to_cpu(*link) != ino &&
	       steps++ < PKERNFS_INODE_COUNT)
		link = &store->inodes[le64_to_cpu(*link) - 1].sibling_ino;
	if (!WARN_ON_ONCE(le64_to_cpu(*link) != ino)) {
		struct pkernfs_inode *pi = &store->inodes[ino - 1];

		*link = pi->sibling_ino;
		pi->sibling_ino = 0;
		pi->flags &= ~cpu_to_le32(PKERNFS_INODE_FLAG_ORPHAN);
		pkernfs_super_commit(store);
	}
	mutex_unlock(&store->lock);
}
