// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs directories: the persistent entry lists, the name index and
 * readdir.
 *
 * A directory's entries are a list through sibling_ino, headed by its
 * child_ino and sorted by inode number.  The directory's i_rwsem protects its
 * list: shared for lookups and readdir, exclusive for changes.
 *
 * Lookups do not walk the lists: every entry of every directory is also in
 * the name index, a hash table in memory keyed by parent and name.  It is
 * built from the lists once the check has passed (pkernfs_dir_index_build())
 * and follows every pkernfs_dir_link() and pkernfs_dir_unlink() after that;
 * before, during the check, a lookup walks the list.
 *
 * readdir positions are inode numbers plus 2 (0 and 1 are "." and ".."), so
 * a reader resumes at the first entry with an inode number not below the
 * one it stopped at, however the list changed in between.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/hashtable.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/stringhash.h>

#include "internal.h"

/*
 * The name index: every directory entry, hashed by parent and name.
 *
 * @lock protects @buckets and the links of every node in @entries.  A
 * directory's own entries do not change while its i_rwsem is held, so a
 * lookup that finds one under it may use it after dropping @lock.  @built
 * says that the index holds exactly the entries of the lists.  The node of
 * inode number n is @entries[n - 1], hashed while the inode is in a
 * directory.
 */
struct pkernfs_dir_index {
	spinlock_t lock;	/* @buckets and the nodes' links */
	bool built;
	DECLARE_HASHTABLE(buckets, ilog2(PKERNFS_INODE_COUNT));
	struct hlist_node entries[PKERNFS_INODE_COUNT];
};

static u32 pkernfs_dir_key(u64 dir, const unsigned char *name, u32 len)
{
	return full_name_hash(NULL, name, len) ^ (u32)dir;
}

static struct hlist_head *pkernfs_dir_bucket(struct pkernfs_dir_index *index,
					     u64 dir,
					     const unsigned char *name, u32 len)
{
	u32 key = pkernfs_dir_key(dir, name, len);

	return &index->buckets[hash_min(key, HASH_BITS(index->buckets))];
}

static bool pkernfs_dir_index_ready(struct pkernfs_store *store)
{
	return store->dir_index && READ_ONCE(store->dir_index->built);
}

static void __pkernfs_dir_index_add(struct pkernfs_store *store, u64 dir,
				    u64 ino)
{
	struct pkernfs_dir_index *index = store->dir_index;
	struct pkernfs_inode *pi = &store->inodes[ino - 1];

	hlist_add_head(&index->entries[ino - 1],
		       pkernfs_dir_bucket(index, dir, pi->name,
					  le16_to_cpu(pi->name_len)));
}

static void pkernfs_dir_index_add(struct pkernfs_store *store, u64 dir,
				  u64 ino)
{
	if (!pkernfs_dir_index_ready(store))
		return;
	spin_lock(&store->dir_index->lock);
	__pkernfs_dir_index_add(store, dir, ino);
	spin_unlock(&store->dir_index->lock);
}

static void pkernfs_dir_index_del(struct pkernfs_store *store, u64 ino)
{
	struct pkernfs_dir_index *index = store->dir_index;

	if (!pkernfs_dir_index_ready(store))
		return;
	spin_lock(&index->lock);
	hlist_del_init(&index->entries[ino - 1]);
	spin_unlock(&index->lock);
}

/**
 * pkernfs_dir_index_drop() - stop keeping the name index
 * @store: the store, about to be checked again, not mounted
 */
void pkernfs_dir_index_drop(struct pkernfs_store *store)
{
	if (store->dir_index)
		WRITE_ONCE(store->dir_index->built, false);
}

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

static bool pkernfs_entry_named(const struct pkernfs_inode *pi,
				const struct qstr *name)
{
	return le16_to_cpu(pi->name_len) == name->len &&
	       !memcmp(pi->name, name->name, name->len);
}

/* Look @name up by walking @dir's list. */
static u64 pkernfs_dir_scan(struct pkernfs_store *store, u64 dir,
			    const struct qstr *name)
{
	u64 ino = le64_to_cpu(store->inodes[dir - 1].child_ino);
	u32 steps = 0;

	while (ino) {
		struct pkernfs_inode *pi = pkernfs_dir_next(store, dir, ino,
							    &steps);

		if (!pi)
			return 0;
		if (pkernfs_entry_named(pi, name))
			return ino;
		ino = le64_to_cpu(pi->sibling_ino);
	}
	return 0;
}

/**
 * pkernfs_dir_index_build() - index the entries of every directory
 * @store: the store, checked, not mounted
 *
 * The lists have been walked whole by the check: they end, in range.
 * Nothing else uses the store until this returns.
 *
 * Return: 0 or -ENOMEM.
 */
int pkernfs_dir_index_build(struct pkernfs_store *store)
{
	struct pkernfs_dir_index *index = store->dir_index;
	u64 dir;
	u32 i;

	if (!index) {
		index = kvmalloc(sizeof(*index), GFP_KERNEL);
		if (!index)
			return -ENOMEM;
		spin_lock_init(&index->lock);
		store->dir_index = index;
	}
	index->built = false;
	hash_init(index->buckets);
	for (i = 0; i < PKERNFS_INODE_COUNT; i++)
		INIT_HLIST_NODE(&index->entries[i]);

	for (dir = 1; dir <= PKERNFS_INODE_COUNT; dir++) {
		struct pkernfs_inode *pd = &store->inodes[dir - 1];
		u64 ino;

		if (!pd->flags || !S_ISDIR(le32_to_cpu(pd->mode)))
			continue;
		for (ino = le64_to_cpu(pd->child_ino); ino;
		     ino = le64_to_cpu(store->inodes[ino - 1].sibling_ino))
			__pkernfs_dir_index_add(store, dir, ino);
	}
	WRITE_ONCE(index->built, true);
	return 0;
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
	struct pkernfs_dir_index *index = store->dir_index;
	struct hlist_head *bucket;
	struct hlist_node *node;
	u64 found = 0;

	if (!pkernfs_dir_index_ready(store))
		return pkernfs_dir_scan(store, dir, name);
	bucket = pkernfs_dir_bucket(index, dir, name->name, name->len);
	spin_lock(&index->lock);
	hlist_for_each(node, bucket) {
		u64 ino = node - index->entries + 1;
		struct pkernfs_inode *pi = &store->inodes[ino - 1];

		if (le64_to_cpu(pi->parent_ino) == dir &&
		    pkernfs_entry_named(pi, name)) {
			found = ino;
			break;
		}
	}
	spin_unlock(&index->lock);
	return found;
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
	pkernfs_dir_index_add(store, dir, ino);
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

	pkernfs_dir_index_del(store, ino);
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
