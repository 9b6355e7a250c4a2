// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs block lists: which 2 MiB block backs each 2 MiB of a file.
 *
 * A list of up to PKERNFS_INLINE_BLOCKS entries is kept in the inode, so a
 * small file costs no block beyond its data.  A longer list moves to one
 * mapping-table block, and back into the inode when the file shrinks again.
 *
 * Callers hold the file's i_rwsem and, when changing the list, its
 * invalidate_lock exclusively, so that page faults (which take it shared)
 * never see a list being changed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched.h>
#include <linux/string.h>

#include "internal.h"

static __le32 *pkernfs_block_list(struct pkernfs_store *store,
				  struct pkernfs_inode *pi)
{
	u32 table = le32_to_cpu(pi->mappings_block);

	return table ? pkernfs_block_ptr(store, table) : pi->blocks;
}

/**
 * pkernfs_get_block() - the block backing one 2 MiB chunk of a file
 * @store: the store
 * @pi: the file's persistent inode
 * @index: the chunk, file offset / 2 MiB
 *
 * Return: the block index, or 0 if the file has no such chunk.
 */
u32 pkernfs_get_block(struct pkernfs_store *store, struct pkernfs_inode *pi,
		      u64 index)
{
	if (index >= le32_to_cpu(pi->num_mappings))
		return 0;
	return le32_to_cpu(pkernfs_block_list(store, pi)[index]);
}

static void pkernfs_zero_block(struct pkernfs_store *store, u32 blk)
{
	memset(pkernfs_block_ptr(store, blk), 0, PKERNFS_BLOCK_SIZE);
	cond_resched();
}

static int pkernfs_grow_blocks(struct pkernfs_store *store,
			       struct pkernfs_inode *pi, u32 old, u32 nr)
{
	bool new_table = nr > PKERNFS_INLINE_BLOCKS && !pi->mappings_block;
	u32 table = 0, i, got;
	__le32 *list;
	int err;

	/* Fail early rather than allocate and give back half a terabyte. */
	if (nr - old + new_table > READ_ONCE(store->free_blocks))
		return -ENOSPC;
	if (new_table) {
		err = pkernfs_alloc_block(store, &table);
		if (err)
			return err;
		list = pkernfs_block_ptr(store, table);
		memcpy(list, pi->blocks, old * sizeof(*list));
	} else {
		list = pkernfs_block_list(store, pi);
	}

	for (got = old; got < nr; got++) {
		u32 blk;

		err = pkernfs_alloc_block(store, &blk);
		if (err)
			goto undo;
		pkernfs_zero_block(store, blk);
		list[got] = cpu_to_le32(blk);
	}

	pkernfs_cut(store, PKERNFS_CUT_GROW_ALLOCATED);

	/*
	 * The table holds the whole list before it replaces the inline one,
	 * and the count grows last: a cut in between leaves a list that is
	 * sound, only shorter (check.c moves a short one back inline).
	 */
	if (new_table) {
		pi->mappings_block = cpu_to_le32(table);
		memset(pi->blocks, 0, sizeof(pi->blocks));
		pkernfs_cut(store, PKERNFS_CUT_TABLE_SWITCHED);
	}
	pi->num_mappings = cpu_to_le32(nr);
	return 0;

undo:
	for (i = old; i < got; i++)
		pkernfs_free_block(store, le32_to_cpu(list[i]));
	if (new_table)
		pkernfs_free_block(store, table);
	return err;
}

static void pkernfs_shrink_blocks(struct pkernfs_store *store,
				  struct pkernfs_inode *pi, u32 old, u32 nr)
{
	u32 table = le32_to_cpu(pi->mappings_block);
	__le32 *list = pkernfs_block_list(store, pi);
	u32 i;

	/* The count shrinks first: a block is freed only once unlisted. */
	pi->num_mappings = cpu_to_le32(nr);
	pkernfs_cut(store, PKERNFS_CUT_SHRINK_COUNTED);
	for (i = nr; i < old; i++) {
		pkernfs_free_block(store, le32_to_cpu(list[i]));
		list[i] = 0;
	}
	if (table && nr <= PKERNFS_INLINE_BLOCKS) {
		memcpy(pi->blocks, list, nr * sizeof(*list));
		pi->mappings_block = 0;
		pkernfs_cut(store, PKERNFS_CUT_TABLE_DROPPED);
		pkernfs_free_block(store, table);
	}
}

/**
 * pkernfs_resize_blocks() - give a file exactly @nr data blocks
 * @store: the store
 * @pi: the file's persistent inode
 * @nr: the number of 2 MiB blocks wanted
 *
 * New blocks are zeroed.  Blocks past @nr are freed; the caller must have
 * unmapped them from user space first.  On failure the file keeps the
 * blocks it had.
 *
 * Return: 0, -EFBIG if @nr is more than a file can map, or -ENOSPC.
 */
int pkernfs_resize_blocks(struct pkernfs_store *store,
			  struct pkernfs_inode *pi, u64 nr)
{
	u32 old = le32_to_cpu(pi->num_mappings);

	if (nr > PKERNFS_TABLE_BLOCKS)
		return -EFBIG;
	if (nr > old)
		return pkernfs_grow_blocks(store, pi, old, nr);
	if (nr < old)
		pkernfs_shrink_blocks(store, pi, old, nr);
	return 0;
}

/**
 * pkernfs_free_all_blocks() - free every block of an inode being released
 * @store: the store
 * @pi: the persistent inode
 */
void pkernfs_free_all_blocks(struct pkernfs_store *store,
			     struct pkernfs_inode *pi)
{
	pkernfs_shrink_blocks(store, pi, le32_to_cpu(pi->num_mappings), 0);
}
