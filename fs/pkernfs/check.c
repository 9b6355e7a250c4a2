// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs mount-time checks.
 *
 * The region was written by another kernel, maybe a different build, and
 * may have been damaged since.  Before the first VFS inode is built from it,
 * every list is walked (each walk is bounded: an inode is visited at most
 * once, so a loop is caught rather than followed), every inode and block
 * reference is range-checked, and every block is owned at most once.
 * Anything unsafe refuses the mount, and then nothing is changed.  What is
 * merely leaked (blocks or inode slots that nothing references) is given back
 * once everything else checked out, with a message.
 *
 * An update cut short by a kexec (see the cut points in internal.h) can leave
 * more than leaks: an inode in no directory (a stray), a directory whose link
 * count misses a subdirectory, a mapping table holding a list short enough to
 * live in the inode.  Each is sound on its own; strays go to recover.c, which
 * links them back or reclaims them, and the check runs again; the other two
 * are set right with the leaks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "internal.h"

enum pkernfs_slot_state {
	PKERNFS_SLOT_UNSEEN,
	PKERNFS_SLOT_FREE,
	PKERNFS_SLOT_LINKED,
	PKERNFS_SLOT_ORPHAN,
	PKERNFS_SLOT_LEAKED,
	PKERNFS_SLOT_STRAY,
};

/* How an inode was reached, for pkernfs_check_inode(). */
enum pkernfs_reached {
	PKERNFS_REACHED_LINKED,		/* through its directory */
	PKERNFS_REACHED_ORPHAN,		/* on the orphan list */
	PKERNFS_REACHED_NONE,		/* a stray: in use, in no list */
};

struct pkernfs_check {
	struct pkernfs_store *store;
	u8 *state;		/* enum pkernfs_slot_state, by inode number */
	unsigned long *refs;	/* blocks referenced by some inode */
	u32 *queue;		/* directories still to walk */
	u32 *names;		/* entries of the directory being checked */
	unsigned long *linked;	/* inodes reached from the root */
	u32 *strays;		/* in use but in no list */
	u32 *miscounted;	/* directories whose link count is off */
	u32 nr_free_inodes;
	u32 nr_leaked_inodes;
	u32 nr_strays;
	u32 nr_miscounted;
	u32 nr_short_tables;	/* mapping tables of PKERNFS_INLINE_BLOCKS or less */
	u64 nr_used_blocks;
	u64 nr_leaked_blocks;
	struct pkernfs_check_undo *undo;
};

/*
 * What recovery may change, saved before its first pass so that a region
 * refused after all is left exactly as it was found.  Recovery writes only
 * the superblock and inode slots.
 */
struct pkernfs_check_undo {
	struct pkernfs_super super;
	struct pkernfs_inode inodes[PKERNFS_INODE_COUNT];
};

#define pkernfs_corrupt(fmt, ...) ({					\
	pr_err("corrupted region: " fmt "\n", ##__VA_ARGS__);		\
	-EUCLEAN;							\
})

static int pkernfs_check_ref(struct pkernfs_check *c, u64 ino, u64 blk)
{
	struct pkernfs_store *store = c->store;

	if (!pkernfs_block_valid(store, blk))
		return pkernfs_corrupt("inode %llu refers to block %llu, outside 2..%u",
				       ino, blk, store->nr_blocks - 1);
	if (!test_bit_le(blk, store->bitmap))
		return pkernfs_corrupt("inode %llu refers to free block %llu",
				       ino, blk);
	if (__test_and_set_bit(blk, c->refs))
		return pkernfs_corrupt("block %llu is cross-linked (again by inode %llu)",
				       blk, ino);
	return 0;
}

static int pkernfs_check_blocks(struct pkernfs_check *c, u64 ino,
				struct pkernfs_inode *pi)
{
	u32 nr = le32_to_cpu(pi->num_mappings);
	u32 table = le32_to_cpu(pi->mappings_block);
	__le32 *list = pi->blocks;
	u32 i;
	int err;

	if (nr > PKERNFS_TABLE_BLOCKS)
		return pkernfs_corrupt("inode %llu maps %u blocks", ino, nr);
	if (le64_to_cpu(pi->size) > (u64)nr << PKERNFS_BLOCK_SHIFT)
		return pkernfs_corrupt("inode %llu: size %llu beyond its %u blocks",
				       ino, le64_to_cpu(pi->size), nr);
	if (nr > PKERNFS_INLINE_BLOCKS && !table)
		return pkernfs_corrupt("inode %llu: %u blocks with mapping table %u",
				       ino, nr, table);
	/* A resize cut short; the list moves back inline at repair. */
	if (table && nr <= PKERNFS_INLINE_BLOCKS)
		c->nr_short_tables++;
	if (table) {
		err = pkernfs_check_ref(c, ino, table);
		if (err)
			return err;
		list = pkernfs_block_ptr(c->store, table);
	}
	for (i = 0; i < nr; i++) {
		err = pkernfs_check_ref(c, ino, le32_to_cpu(list[i]));
		if (err)
			return err;
	}
	return 0;
}

/**
 * pkernfs_name_ok() - is @pi's name one a directory entry may have?
 * @pi: an inode read from the region
 *
 * Return: true if the name is 1 to PKERNFS_NAME_LEN bytes, with no '/' or
 * NUL, and not "." or "..".
 */
bool pkernfs_name_ok(const struct pkernfs_inode *pi)
{
	u16 len = le16_to_cpu(pi->name_len);

	if (!len || len > PKERNFS_NAME_LEN)
		return false;
	if (memchr(pi->name, '/', len) || memchr(pi->name, '\0', len))
		return false;
	if ((len == 1 && pi->name[0] == '.') ||
	    (len == 2 && pi->name[0] == '.' && pi->name[1] == '.'))
		return false;
	return true;
}

/* Check one inode, found as @reached says. */
static int pkernfs_check_inode(struct pkernfs_check *c, u64 ino,
			       enum pkernfs_reached reached)
{
	struct pkernfs_inode *pi = &c->store->inodes[ino - 1];
	u32 flags = le32_to_cpu(pi->flags);
	u32 type = flags & PKERNFS_INODE_TYPE_MASK;
	umode_t mode = le32_to_cpu(pi->mode);
	u32 nlink = le32_to_cpu(pi->nlink);
	bool orphan = reached == PKERNFS_REACHED_ORPHAN;
	bool stray = reached == PKERNFS_REACHED_NONE;
	bool is_dir;

	if (!pkernfs_inode_flags_ok(flags,
				    le32_to_cpu(c->store->super->feature_incompat)))
		return pkernfs_corrupt("inode %llu has flags %#x", ino, flags);
	if (!stray && !!(flags & PKERNFS_INODE_FLAG_ORPHAN) != orphan)
		return pkernfs_corrupt("inode %llu: orphan flag does not match its list",
				       ino);
	is_dir = type & (PKERNFS_INODE_FLAG_DIR | PKERNFS_INODE_FLAG_IOMMU_DIR);
	if (is_dir ? !S_ISDIR(mode) : !S_ISREG(mode))
		return pkernfs_corrupt("inode %llu: mode %#o does not match flags %#x",
				       ino, mode, flags);
	/* A stray may be half renamed: recover.c names it if need be. */
	if (ino != PKERNFS_ROOT_INO && !stray && !pkernfs_name_ok(pi))
		return pkernfs_corrupt("inode %llu has a bad name", ino);
	/* A directory's count is checked against its subdirectories. */
	if (!stray && !is_dir && nlink != !orphan)
		return pkernfs_corrupt("inode %llu has link count %u", ino, nlink);
	if (orphan && nlink)
		return pkernfs_corrupt("inode %llu has link count %u", ino, nlink);
	if (is_dir && (pi->num_mappings || pi->mappings_block || pi->size))
		return pkernfs_corrupt("directory inode %llu has data", ino);
	if (pkernfs_is_pgtables(pi)) {
		/* One IOMMU region, in mappings_block. */
		if (pi->num_mappings ||
		    le64_to_cpu(pi->size) != PKERNFS_BLOCK_SIZE)
			return pkernfs_corrupt("IOMMU inode %llu has file data",
					       ino);
		return pkernfs_check_ref(c, ino,
					 le32_to_cpu(pi->mappings_block));
	}
	return pkernfs_check_blocks(c, ino, pi);
}

static bool pkernfs_named(struct pkernfs_inode *pi, const char *name)
{
	size_t len = strlen(name);

	return le16_to_cpu(pi->name_len) == len && !memcmp(pi->name, name, len);
}

/*
 * iommu/ sits in the root and holds IOMMU page-table files only.  Both it
 * and root-pgtables are found by name at boot: under another name the
 * IOMMU would be given new, empty tables while the live ones sit unused.
 */
static int pkernfs_check_placement(struct pkernfs_check *c, u64 dir, u64 ino)
{
	struct pkernfs_inode *pd = &c->store->inodes[dir - 1];
	struct pkernfs_inode *pi = &c->store->inodes[ino - 1];
	bool in_iommu = le32_to_cpu(pd->flags) & PKERNFS_INODE_FLAG_IOMMU_DIR;
	u32 type = le32_to_cpu(pi->flags) & PKERNFS_INODE_TYPE_MASK;

	if (in_iommu != pkernfs_is_pgtables(pi))
		return pkernfs_corrupt("inode %llu does not belong in directory %llu",
				       ino, dir);
	if ((le32_to_cpu(pi->flags) & PKERNFS_INODE_FLAG_IOMMU_DIR) &&
	    dir != PKERNFS_ROOT_INO)
		return pkernfs_corrupt("IOMMU directory %llu is not in the root",
				       ino);
	if (type == PKERNFS_INODE_FLAG_IOMMU_DIR && !pkernfs_named(pi, "iommu"))
		return pkernfs_corrupt("IOMMU directory %llu is not named iommu",
				       ino);
	if (type == PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES &&
	    !pkernfs_named(pi, "root-pgtables"))
		return pkernfs_corrupt("IOMMU root tables inode %llu is not named root-pgtables",
				       ino);
	return 0;
}

static int pkernfs_check_free_list(struct pkernfs_check *c)
{
	struct pkernfs_store *store = c->store;
	u64 ino = le64_to_cpu(store->super->next_free_ino);

	while (ino) {
		struct pkernfs_inode *pi;

		if (!pkernfs_ino_valid(ino) || ino == PKERNFS_ROOT_INO)
			return pkernfs_corrupt("free list holds inode %llu", ino);
		if (c->state[ino - 1] != PKERNFS_SLOT_UNSEEN)
			return pkernfs_corrupt("free list loops at inode %llu", ino);
		pi = &store->inodes[ino - 1];
		if (pi->flags)
			return pkernfs_corrupt("inode %llu is on the free list but in use",
					       ino);
		c->state[ino - 1] = PKERNFS_SLOT_FREE;
		c->nr_free_inodes++;
		ino = le64_to_cpu(pi->sibling_ino);
	}
	return 0;
}

static int pkernfs_name_cmp(const void *a, const void *b, const void *priv)
{
	const struct pkernfs_inode *inodes = priv;
	const struct pkernfs_inode *x = &inodes[*(const u32 *)a - 1];
	const struct pkernfs_inode *y = &inodes[*(const u32 *)b - 1];
	u16 xlen = le16_to_cpu(x->name_len), ylen = le16_to_cpu(y->name_len);

	if (xlen != ylen)
		return xlen < ylen ? -1 : 1;
	return memcmp(x->name, y->name, xlen);
}

/* Two entries of one name would leave the second unreachable by name. */
static int pkernfs_check_names(struct pkernfs_check *c, u64 dir, u32 nr)
{
	u32 i;

	sort_r(c->names, nr, sizeof(*c->names), pkernfs_name_cmp, NULL,
	       c->store->inodes);
	for (i = 1; i < nr; i++)
		if (!pkernfs_name_cmp(&c->names[i - 1], &c->names[i],
				      c->store->inodes))
			return pkernfs_corrupt("directory %llu has two entries named like inode %u",
					       dir, c->names[i]);
	return 0;
}

static int pkernfs_check_dir(struct pkernfs_check *c, u64 dir, u32 *tail)
{
	struct pkernfs_store *store = c->store;
	struct pkernfs_inode *pd = &store->inodes[dir - 1];
	u64 ino = le64_to_cpu(pd->child_ino);
	u64 prev = 0;
	u32 subdirs = 0, nr = 0;
	int err;

	while (ino) {
		struct pkernfs_inode *pi;

		if (!pkernfs_ino_valid(ino))
			return pkernfs_corrupt("directory %llu lists inode %llu",
					       dir, ino);
		if (c->state[ino - 1] != PKERNFS_SLOT_UNSEEN)
			return pkernfs_corrupt("inode %llu is reachable twice (directory %llu)",
					       ino, dir);
		if (ino <= prev)
			return pkernfs_corrupt("directory %llu is not sorted at inode %llu",
					       dir, ino);
		pi = &store->inodes[ino - 1];
		if (le64_to_cpu(pi->parent_ino) != dir)
			return pkernfs_corrupt("inode %llu in directory %llu names parent %llu",
					       ino, dir, le64_to_cpu(pi->parent_ino));
		c->state[ino - 1] = PKERNFS_SLOT_LINKED;
		__set_bit(ino - 1, c->linked);
		err = pkernfs_check_inode(c, ino, PKERNFS_REACHED_LINKED);
		if (!err)
			err = pkernfs_check_placement(c, dir, ino);
		if (err)
			return err;
		if (S_ISDIR(le32_to_cpu(pi->mode))) {
			c->queue[(*tail)++] = ino;
			subdirs++;
		}
		c->names[nr++] = ino;
		prev = ino;
		ino = le64_to_cpu(pi->sibling_ino);
	}
	if (le32_to_cpu(pd->nlink) != 2 + subdirs)
		c->miscounted[c->nr_miscounted++] = dir;
	return pkernfs_check_names(c, dir, nr);
}

static int pkernfs_check_tree(struct pkernfs_check *c)
{
	struct pkernfs_inode *root = &c->store->inodes[PKERNFS_ROOT_INO - 1];
	u32 head = 0, tail = 0;
	int err;

	if (le32_to_cpu(root->flags) != PKERNFS_INODE_FLAG_DIR ||
	    le64_to_cpu(root->parent_ino) != PKERNFS_ROOT_INO ||
	    root->sibling_ino || root->name_len)
		return pkernfs_corrupt("root inode is not a lone directory");
	c->state[PKERNFS_ROOT_INO - 1] = PKERNFS_SLOT_LINKED;
	__set_bit(PKERNFS_ROOT_INO - 1, c->linked);
	err = pkernfs_check_inode(c, PKERNFS_ROOT_INO, PKERNFS_REACHED_LINKED);
	if (err)
		return err;
	/* Each inode is queued at most once, so the queue cannot overflow. */
	c->queue[tail++] = PKERNFS_ROOT_INO;
	while (head < tail) {
		err = pkernfs_check_dir(c, c->queue[head++], &tail);
		if (err)
			return err;
	}
	return 0;
}

static int pkernfs_check_orphans(struct pkernfs_check *c)
{
	struct pkernfs_store *store = c->store;
	u64 ino = le64_to_cpu(store->super->orphan_ino);
	int err;

	while (ino) {
		if (!pkernfs_ino_valid(ino))
			return pkernfs_corrupt("orphan list holds inode %llu", ino);
		if (c->state[ino - 1] != PKERNFS_SLOT_UNSEEN)
			return pkernfs_corrupt("orphan inode %llu is reachable twice",
					       ino);
		c->state[ino - 1] = PKERNFS_SLOT_ORPHAN;
		err = pkernfs_check_inode(c, ino, PKERNFS_REACHED_ORPHAN);
		if (err)
			return err;
		ino = le64_to_cpu(store->inodes[ino - 1].sibling_ino);
	}
	return 0;
}

/*
 * Every slot must be free, linked or orphaned, unused and leaked, or a sound
 * inode in no list (a stray), whose blocks are then counted as used.
 */
static int pkernfs_check_slots(struct pkernfs_check *c)
{
	u64 ino;
	int err;

	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++) {
		if (c->state[ino - 1] != PKERNFS_SLOT_UNSEEN)
			continue;
		if (!c->store->inodes[ino - 1].flags) {
			c->state[ino - 1] = PKERNFS_SLOT_LEAKED;
			c->nr_leaked_inodes++;
			continue;
		}
		c->state[ino - 1] = PKERNFS_SLOT_STRAY;
		err = pkernfs_check_inode(c, ino, PKERNFS_REACHED_NONE);
		if (err)
			return err;
		c->strays[c->nr_strays++] = ino;
	}
	return 0;
}

static int pkernfs_check_bitmap(struct pkernfs_check *c)
{
	struct pkernfs_store *store = c->store;
	unsigned long blk;

	if (!test_bit_le(PKERNFS_SUPER_BLOCK, store->bitmap) ||
	    !test_bit_le(PKERNFS_INODES_BLOCK, store->bitmap))
		return pkernfs_corrupt("metadata blocks are marked free");
	blk = find_next_bit_le(store->bitmap, PKERNFS_MAX_BLOCKS,
			       store->nr_blocks);
	if (blk < PKERNFS_MAX_BLOCKS)
		return pkernfs_corrupt("block %lu is in use but beyond the region's %u blocks",
				       blk, store->nr_blocks);

	for (blk = PKERNFS_FIRST_DATA_BLOCK;
	     (blk = find_next_bit_le(store->bitmap, store->nr_blocks, blk)) <
	     store->nr_blocks; blk++) {
		if (test_bit(blk, c->refs))
			c->nr_used_blocks++;
		else
			c->nr_leaked_blocks++;
	}
	return 0;
}

/* Move block lists that fit in the inode out of their mapping table. */
static void pkernfs_repair_short_tables(struct pkernfs_check *c)
{
	struct pkernfs_store *store = c->store;
	u64 ino;

	for (ino = 1; ino <= PKERNFS_INODE_COUNT && c->nr_short_tables; ino++) {
		struct pkernfs_inode *pi = &store->inodes[ino - 1];
		u32 nr = le32_to_cpu(pi->num_mappings);
		u32 table = le32_to_cpu(pi->mappings_block);

		if ((c->state[ino - 1] != PKERNFS_SLOT_LINKED &&
		     c->state[ino - 1] != PKERNFS_SLOT_ORPHAN) ||
		    pkernfs_is_pgtables(pi) || !table ||
		    nr > PKERNFS_INLINE_BLOCKS)
			continue;
		memcpy(pi->blocks, pkernfs_block_ptr(store, table),
		       nr * sizeof(pi->blocks[0]));
		pi->mappings_block = 0;
		__clear_bit(table, c->refs);
		c->nr_used_blocks--;
		c->nr_leaked_blocks++;
		c->nr_short_tables--;
		pr_warn("inode %llu: moved its %u-block list back into the inode (resize cut short)\n",
			ino, nr);
	}
}

/* Give each directory whose link count is off 2 plus its subdirectories. */
static void pkernfs_repair_link_counts(struct pkernfs_check *c)
{
	struct pkernfs_store *store = c->store;
	u32 i;

	for (i = 0; i < c->nr_miscounted; i++) {
		u64 dir = c->miscounted[i];
		struct pkernfs_inode *pd = &store->inodes[dir - 1];
		u64 ino = le64_to_cpu(pd->child_ino);
		u32 nlink = 2;

		/* The list was walked already: it ends, in range. */
		while (ino) {
			struct pkernfs_inode *pi = &store->inodes[ino - 1];

			if (S_ISDIR(le32_to_cpu(pi->mode)))
				nlink++;
			ino = le64_to_cpu(pi->sibling_ino);
		}
		pr_warn("directory %llu: link count %u set to %u (update cut short)\n",
			dir, le32_to_cpu(pd->nlink), nlink);
		pd->nlink = cpu_to_le32(nlink);
	}
}

/* Everything checked out: give back what nothing refers to, set counters. */
static void pkernfs_check_repair(struct pkernfs_check *c)
{
	struct pkernfs_store *store = c->store;
	unsigned long blk;
	u64 ino;

	pkernfs_repair_short_tables(c);
	pkernfs_repair_link_counts(c);

	for (ino = PKERNFS_INODE_COUNT; ino >= 1; ino--) {
		struct pkernfs_inode *pi = &store->inodes[ino - 1];

		if (c->state[ino - 1] != PKERNFS_SLOT_LEAKED)
			continue;
		memset(pi, 0, sizeof(*pi));
		pi->sibling_ino = store->super->next_free_ino;
		store->super->next_free_ino = cpu_to_le64(ino);
	}
	if (c->nr_leaked_inodes)
		pr_warn("returned %u unreferenced inodes to the free list\n",
			c->nr_leaked_inodes);

	for (blk = PKERNFS_FIRST_DATA_BLOCK;
	     (blk = find_next_bit_le(store->bitmap, store->nr_blocks, blk)) <
	     store->nr_blocks; blk++)
		if (!test_bit(blk, c->refs))
			__clear_bit_le(blk, store->bitmap);
	if (c->nr_leaked_blocks)
		pr_warn("freed %llu unreferenced blocks\n", c->nr_leaked_blocks);

	store->free_inodes = c->nr_free_inodes + c->nr_leaked_inodes;
	store->free_blocks = store->nr_blocks - PKERNFS_FIRST_DATA_BLOCK -
			     c->nr_used_blocks;
	store->block_hint = PKERNFS_FIRST_DATA_BLOCK;
	pkernfs_super_commit(store);
}

/* One pass over the whole region: validate, then repair or recover. */
static int pkernfs_check_pass(struct pkernfs_check *c)
{
	int err;

	memset(c->state, 0, PKERNFS_INODE_COUNT);
	bitmap_zero(c->refs, c->store->nr_blocks);
	bitmap_zero(c->linked, PKERNFS_INODE_COUNT);
	c->nr_free_inodes = 0;
	c->nr_leaked_inodes = 0;
	c->nr_strays = 0;
	c->nr_miscounted = 0;
	c->nr_short_tables = 0;
	c->nr_used_blocks = 0;
	c->nr_leaked_blocks = 0;

	err = pkernfs_check_free_list(c);
	if (!err)
		err = pkernfs_check_tree(c);
	if (!err)
		err = pkernfs_check_orphans(c);
	if (!err)
		err = pkernfs_check_slots(c);
	if (!err)
		err = pkernfs_check_bitmap(c);
	if (err)
		return err;
	if (c->nr_strays) {
		if (!c->undo) {
			c->undo = kvmalloc(sizeof(*c->undo), GFP_KERNEL);
			if (!c->undo)
				return -ENOMEM;
			c->undo->super = *c->store->super;
			memcpy(c->undo->inodes, c->store->inodes,
			       sizeof(c->undo->inodes));
		}
		return pkernfs_recover_strays(c->store, c->strays,
					      c->nr_strays, c->linked);
	}
	pkernfs_check_repair(c);
	return 0;
}

/*
 * Each recovery pass links strays into live directories or orphans them;
 * a stray directory's subtree comes back with it.  Directories nested in
 * strays take one pass per level, so a few passes do in practice.
 */
#define PKERNFS_RECOVERY_PASSES	16

static int pkernfs_check_locked(struct pkernfs_check *c)
{
	unsigned int pass;
	int err;

	for (pass = 0; pass < PKERNFS_RECOVERY_PASSES; pass++) {
		err = pkernfs_check_pass(c);
		if (err != -EAGAIN)
			break;
	}
	if (err == -EAGAIN)
		err = pkernfs_corrupt("inodes still in no directory after %u recovery passes",
				      PKERNFS_RECOVERY_PASSES);
	if (err && c->undo) {
		*c->store->super = c->undo->super;
		memcpy(c->store->inodes, c->undo->inodes,
		       sizeof(c->undo->inodes));
		pr_err("recovery undone: the region is as it was found\n");
	}
	kvfree(c->undo);
	c->undo = NULL;
	return err;
}

/* Reclaim inodes that were unlinked while open when the last kernel left. */
static void pkernfs_reclaim_orphans(struct pkernfs_store *store)
{
	u32 nr = 0;
	u64 ino;

	while ((ino = le64_to_cpu(READ_ONCE(store->super->orphan_ino)))) {
		pkernfs_release_inode(store, ino);
		nr++;
	}
	if (nr)
		pr_info("reclaimed %u inodes unlinked before the last kexec\n",
			nr);
}

/**
 * pkernfs_check_store() - validate the persisted tree before mounting it
 * @store: the store, whose superblock has been validated
 *
 * Also recovers what an interrupted update left (recover.c), repairs leaks,
 * sets the free counters and reclaims orphans.  Called at mount, when no VFS
 * inode of the region exists.
 *
 * Return: 0, -EUCLEAN if the region is damaged, or -ENOMEM.
 */
int pkernfs_check_store(struct pkernfs_store *store)
{
	struct pkernfs_check c = { .store = store };
	int err = -ENOMEM;

	c.state = kvzalloc(PKERNFS_INODE_COUNT, GFP_KERNEL);
	c.queue = kvmalloc_array(PKERNFS_INODE_COUNT, sizeof(*c.queue),
				 GFP_KERNEL);
	c.names = kvmalloc_array(PKERNFS_INODE_COUNT, sizeof(*c.names),
				 GFP_KERNEL);
	c.strays = kvmalloc_array(PKERNFS_INODE_COUNT, sizeof(*c.strays),
				  GFP_KERNEL);
	c.miscounted = kvmalloc_array(PKERNFS_INODE_COUNT,
				      sizeof(*c.miscounted), GFP_KERNEL);
	c.refs = bitmap_zalloc(store->nr_blocks, GFP_KERNEL);
	c.linked = bitmap_zalloc(PKERNFS_INODE_COUNT, GFP_KERNEL);
	if (c.state && c.queue && c.names && c.strays && c.miscounted &&
	    c.refs && c.linked) {
		mutex_lock(&store->lock);
		err = pkernfs_check_locked(&c);
		mutex_unlock(&store->lock);
	}
	bitmap_free(c.linked);
	bitmap_free(c.refs);
	kvfree(c.miscounted);
	kvfree(c.strays);
	kvfree(c.names);
	kvfree(c.queue);
	kvfree(c.state);
	if (!err)
		pkernfs_reclaim_orphans(store);
	return err;
}
