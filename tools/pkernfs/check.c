// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs-fsck: the structural check.
 *
 * A superset of the kernel's mount-time check (fs/pkernfs/check.c): the
 * tree is walked breadth-first from the root, then the orphan list, then
 * the free list; every inode is visited at most once (its slot state says
 * where it was reached from), so a loop anywhere is reported rather than
 * followed.  Every slot must then be accounted for, every block reference
 * is range-checked and owned at most once, and every block marked in use
 * must be referenced.
 *
 * IOMMU page-table files own exactly one block each, in mappings_block; the
 * tables in it belong to the IOMMU and are not looked at.  They sit in the
 * IOMMU directory, which sits in the root and holds nothing else.
 *
 * An update cut short by a kexec can leave states the kernel's mount
 * recovers rather than refuses (fs/pkernfs/check.c, recover.c): an inode in
 * use that no list reaches (a stray), a directory whose link count misses a
 * subdirectory, a mapping table holding a list that fits in the inode.  They
 * are fixable here, and --repair recovers them as the mount would.
 *
 * Unlike the kernel, the check goes on after a problem where it safely can,
 * to report as much as possible in one run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fsck.h"

/* Reports of bad references per inode, before going quiet about them. */
#define PKFS_MAX_REF_REPORTS	8

/* A run of consecutive blocks or inodes with the same problem. */
struct pkfs_span {
	enum pkfs_fix_kind kind;
	const char *what;
	const char *why;
	uint64_t first;
	uint64_t last;
	bool open;
};

static void pkfs_span_flush(struct pkfs_fsck *f, struct pkfs_span *s)
{
	if (s->open)
		pkfs_problem_range(f, s->kind, s->first, s->last, s->what,
				   s->why);
	s->open = false;
}

static void pkfs_span_add(struct pkfs_fsck *f, struct pkfs_span *s,
			  uint64_t n)
{
	if (s->open && n == s->last + 1) {
		s->last = n;
		return;
	}
	pkfs_span_flush(f, s);
	s->first = n;
	s->last = n;
	s->open = true;
}

/* One block reference of inode @ino.  Return: whether @blk is in range. */
static bool pkfs_check_ref(struct pkfs_fsck *f, uint64_t ino, uint64_t blk)
{
	struct pkfs_fix fix = { .kind = PKFS_FIX_SET_BIT, .a = blk, .b = blk };

	if (blk < PKERNFS_FIRST_DATA_BLOCK || blk >= f->nr_blocks) {
		pkfs_problem(f, NULL, "inode %" PRIu64 " refers to block %" PRIu64 ", out of range %u..%u",
			     ino, blk, PKERNFS_FIRST_DATA_BLOCK,
			     f->nr_blocks - 1);
		return false;
	}
	if (f->owner[blk] == ino) {
		pkfs_problem(f, NULL, "inode %" PRIu64 " refers to block %" PRIu64 " twice (cross-linked)",
			     ino, blk);
		return true;
	}
	if (f->owner[blk]) {
		pkfs_problem(f, NULL, "block %" PRIu64 " is cross-linked: inodes %u and %" PRIu64,
			     blk, f->owner[blk], ino);
		return true;
	}
	f->owner[blk] = ino;
	if (!pkfs_test_bit(f->img, blk))
		pkfs_problem(f, &fix, "inode %" PRIu64 " refers to free block %" PRIu64,
			     ino, blk);
	return true;
}

static void pkfs_check_list(struct pkfs_fsck *f, uint64_t ino,
			    const __le32 *list, uint32_t nr)
{
	bool quiet = f->quiet;
	unsigned int before = f->problems;
	uint32_t i;

	for (i = 0; i < nr; i++) {
		if (!f->quiet && f->problems - before >= PKFS_MAX_REF_REPORTS) {
			pkfs_msg("inode %" PRIu64 ": not showing more bad block references",
				 ino);
			f->quiet = true;
		}
		pkfs_check_ref(f, ino, le32toh(list[i]));
	}
	f->quiet = quiet;
}

/* The block list of inode @ino: inline or in its mapping table. */
static void pkfs_check_blocks(struct pkfs_fsck *f, uint64_t ino,
			      struct pkernfs_inode *pi)
{
	uint32_t nr = le32toh(pi->num_mappings);
	uint32_t table = le32toh(pi->mappings_block);
	uint64_t size = le64toh(pi->size);
	const __le32 *list = pi->blocks;

	if (nr > PKERNFS_TABLE_BLOCKS) {
		pkfs_problem(f, NULL, "inode %" PRIu64 " maps %u blocks, more than %lu",
			     ino, nr, (unsigned long)PKERNFS_TABLE_BLOCKS);
		return;
	}
	if (nr > PKERNFS_INLINE_BLOCKS && !table) {
		pkfs_problem(f, NULL, "inode %" PRIu64 ": %u blocks with mapping table %u",
			     ino, nr, table);
		return;
	}
	if (table && nr <= PKERNFS_INLINE_BLOCKS) {
		struct pkfs_fix fix = { .kind = PKFS_FIX_INLINE, .a = ino,
					.b = table };

		pkfs_problem(f, &fix, "inode %" PRIu64 " keeps its %u-block list in mapping table %u (a resize cut short): move it back into the inode and free the table",
			     ino, nr, table);
	}
	if (size > (uint64_t)nr << PKERNFS_BLOCK_SHIFT)
		pkfs_problem(f, NULL, "inode %" PRIu64 ": size %" PRIu64 " beyond its %u blocks",
			     ino, size, nr);
	if (table) {
		if (!pkfs_check_ref(f, ino, table))
			return;
		list = pkfs_block(f->img, table);
	}
	pkfs_check_list(f, ino, list, nr);
}

/* An IOMMU page-table inode: one block, no block list, a 2 MiB size. */
static void pkfs_check_pgtables(struct pkfs_fsck *f, uint64_t ino,
				struct pkernfs_inode *pi)
{
	uint32_t blk = le32toh(pi->mappings_block);
	uint64_t size = le64toh(pi->size);

	if (pi->num_mappings)
		pkfs_problem(f, NULL, "IOMMU page-table inode %" PRIu64 " maps %u blocks, expected none",
			     ino, le32toh(pi->num_mappings));
	if (size != PKERNFS_BLOCK_SIZE)
		pkfs_problem(f, NULL, "IOMMU page-table inode %" PRIu64 " has size %" PRIu64 ", expected %lu",
			     ino, size, (unsigned long)PKERNFS_BLOCK_SIZE);
	if (!blk)
		pkfs_problem(f, NULL, "IOMMU page-table inode %" PRIu64 " has no block",
			     ino);
	else
		pkfs_check_ref(f, ino, blk);
}

/* The blocks of inode @ino, whatever its (already checked) type. */
static void pkfs_check_data(struct pkfs_fsck *f, uint64_t ino,
			    struct pkernfs_inode *pi)
{
	if (pkfs_flags_pgtables(le32toh(pi->flags)))
		pkfs_check_pgtables(f, ino, pi);
	else
		pkfs_check_blocks(f, ino, pi);
}

/* Flags and mode agree on one type this tool knows.  Return: type ok. */
static bool pkfs_check_type(struct pkfs_fsck *f, uint64_t ino,
			    struct pkernfs_inode *pi)
{
	uint32_t flags = le32toh(pi->flags);
	uint32_t type = flags & PKERNFS_INODE_TYPE_MASK;
	uint32_t mode = le32toh(pi->mode);

	if (!pkernfs_inode_flags_ok(flags,
				   le32toh(f->super->feature_incompat))) {
		pkfs_problem(f, NULL, "inode %" PRIu64 " has flags %#x, not exactly one known type and known marks",
			     ino, flags);
		return false;
	}
	if (pkfs_flags_dir(type) ? !S_ISDIR(mode) : !S_ISREG(mode)) {
		pkfs_problem(f, NULL, "inode %" PRIu64 ": mode %#o does not match flags %#x",
			     ino, mode, flags);
		return false;
	}
	return true;
}

static bool pkfs_name_ok(const struct pkernfs_inode *pi)
{
	uint16_t len = le16toh(pi->name_len);

	if (!len || len > PKERNFS_NAME_LEN)
		return false;
	if (memchr(pi->name, '/', len) || memchr(pi->name, '\0', len))
		return false;
	return !(len == 1 && pi->name[0] == '.') &&
	       !(len == 2 && pi->name[0] == '.' && pi->name[1] == '.');
}

/* Type, name, link count and data of an inode found in a directory. */
static bool pkfs_check_linked(struct pkfs_fsck *f, uint64_t ino,
			      struct pkernfs_inode *pi)
{
	struct pkfs_fix fix = { .kind = PKFS_FIX_NLINK, .a = ino, .b = 1 };
	uint32_t flags = le32toh(pi->flags);
	bool is_dir;

	if (!pkfs_check_type(f, ino, pi))
		return false;
	is_dir = pkfs_flags_dir(flags);
	if (flags & PKERNFS_INODE_FLAG_ORPHAN) {
		struct pkfs_fix clear = { .kind = PKFS_FIX_ORPHAN_FLAG, .a = ino };

		pkfs_problem(f, &clear, "inode %" PRIu64 " is in a directory but flagged orphan",
			     ino);
	}
	if (ino != PKERNFS_ROOT_INO && !pkfs_name_ok(pi))
		pkfs_problem(f, NULL, "inode %" PRIu64 " has a bad name (length %u)",
			     ino, le16toh(pi->name_len));
	if (!is_dir && le32toh(pi->nlink) != 1)
		pkfs_problem(f, &fix, "file inode %" PRIu64 " has link count %u, expected 1",
			     ino, le32toh(pi->nlink));
	if (is_dir && (pi->num_mappings || pi->mappings_block || pi->size))
		pkfs_problem(f, NULL, "directory inode %" PRIu64 " has data", ino);
	pkfs_check_data(f, ino, pi);
	return true;
}

static bool pkfs_name_is(const struct pkernfs_inode *pi, const char *name)
{
	size_t len = strlen(name);

	return le16toh(pi->name_len) == len && !memcmp(pi->name, name, len);
}

/*
 * iommu/ sits in the root and holds IOMMU page-table files only; those sit
 * nowhere else.  What the kernel creates there has the name it gave it, as
 * nothing can rename it.
 */
static void pkfs_check_placement(struct pkfs_fsck *f, uint64_t dir,
				 uint64_t ino, struct pkernfs_inode *pi)
{
	uint32_t dir_flags = le32toh(pkfs_inode(f->img, dir)->flags);
	uint32_t type = pkfs_type(pi);
	bool in_iommu = dir_flags & PKERNFS_INODE_FLAG_IOMMU_DIR;

	if (in_iommu && !pkfs_flags_pgtables(type))
		pkfs_problem(f, NULL, "inode %" PRIu64 " (%s) is in IOMMU directory %" PRIu64 ", which holds only page-table files",
			     ino, pkfs_flags_dir(type) ? "directory" : "file",
			     dir);
	if (!in_iommu && pkfs_flags_pgtables(type))
		pkfs_problem(f, NULL, "IOMMU page-table inode %" PRIu64 " is in directory %" PRIu64 ", not in the IOMMU directory",
			     ino, dir);
	if (type == PKERNFS_INODE_FLAG_IOMMU_DIR && dir != PKERNFS_ROOT_INO)
		pkfs_problem(f, NULL, "IOMMU directory %" PRIu64 " is in directory %" PRIu64 ", not in the root",
			     ino, dir);
	if (type == PKERNFS_INODE_FLAG_IOMMU_DIR &&
	    !pkfs_name_is(pi, PKFS_IOMMU_DIR_NAME))
		pkfs_problem(f, NULL, "IOMMU directory %" PRIu64 " is not named \"" PKFS_IOMMU_DIR_NAME "\"",
			     ino);
	if (type == PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES &&
	    !pkfs_name_is(pi, PKFS_ROOT_PGTABLES_NAME))
		pkfs_problem(f, NULL, "IOMMU root page-table inode %" PRIu64 " is not named \"" PKFS_ROOT_PGTABLES_NAME "\"",
			     ino);
}

static bool pkfs_same_name(const struct pkernfs_inode *a,
			   const struct pkernfs_inode *b)
{
	uint16_t len = le16toh(a->name_len);

	return len == le16toh(b->name_len) && len <= PKERNFS_NAME_LEN &&
	       !memcmp(a->name, b->name, len);
}

static void pkfs_check_names(struct pkfs_fsck *f, uint64_t dir, uint32_t n)
{
	uint32_t i, j;

	for (i = 0; i < n; i++) {
		struct pkernfs_inode *a = pkfs_inode(f->img, f->entries[i]);

		for (j = i + 1; j < n; j++) {
			struct pkernfs_inode *b = pkfs_inode(f->img,
							     f->entries[j]);

			if (pkfs_same_name(a, b))
				pkfs_problem(f, NULL, "directory %" PRIu64 " has duplicate name \"%.*s\" (inodes %u and %u)",
					     dir, (int)le16toh(a->name_len),
					     (const char *)a->name,
					     f->entries[i], f->entries[j]);
		}
	}
}

/* Is @ino on the path from directory @dir up to the root? */
static bool pkfs_is_ancestor(struct pkfs_fsck *f, uint64_t ino, uint64_t dir)
{
	uint32_t steps;

	for (steps = 0; steps < PKERNFS_INODE_COUNT; steps++) {
		if (dir == ino)
			return true;
		if (dir == PKERNFS_ROOT_INO)
			return false;
		dir = f->where[dir - 1];
	}
	return false;
}

/* @dir lists @ino, which the walk has been to before. */
static void pkfs_reached_twice(struct pkfs_fsck *f, uint64_t dir, uint64_t ino)
{
	if (f->where[ino - 1] == dir)
		pkfs_problem(f, NULL, "loop in directory %" PRIu64 "'s entry list at inode %" PRIu64,
			     dir, ino);
	else if (pkfs_is_ancestor(f, ino, dir))
		pkfs_problem(f, NULL, "tree loop: directory %" PRIu64 " lists its ancestor %" PRIu64,
			     dir, ino);
	else
		pkfs_problem(f, NULL, "directory %" PRIu64 " lists inode %" PRIu64 ", already in directory %u (cross-linked entry)",
			     dir, ino, f->where[ino - 1]);
}

/*
 * Walk one directory's entry list, marking its entries @as; queue its
 * subdirectories.
 */
static void pkfs_check_dir(struct pkfs_fsck *f, uint64_t dir, uint32_t *tail,
			   enum pkfs_slot as)
{
	struct pkernfs_inode *pd = pkfs_inode(f->img, dir);
	uint64_t ino = le64toh(pd->child_ino), prev = 0;
	uint32_t subdirs = 0, n = 0;

	while (ino) {
		struct pkfs_fix parent = { .kind = PKFS_FIX_PARENT, .a = ino,
					   .b = dir };
		struct pkernfs_inode *pi = pkfs_inode(f->img, ino);

		if (!pi) {
			pkfs_problem(f, NULL, "directory %" PRIu64 " lists inode %" PRIu64 ", out of range",
				     dir, ino);
			break;
		}
		if (f->state[ino - 1] != PKFS_SLOT_UNSEEN) {
			pkfs_reached_twice(f, dir, ino);
			break;
		}
		if (ino <= prev)
			pkfs_problem(f, NULL, "directory %" PRIu64 " is not sorted at inode %" PRIu64,
				     dir, ino);
		f->state[ino - 1] = as;
		f->where[ino - 1] = dir;
		f->entries[n++] = ino;
		if (as == PKFS_SLOT_LINKED)
			f->nr_linked++;
		if (le64toh(pi->parent_ino) != dir)
			pkfs_problem(f, &parent, "inode %" PRIu64 " in directory %" PRIu64 " names parent %" PRIu64,
				     ino, dir, (uint64_t)le64toh(pi->parent_ino));
		if (pkfs_check_linked(f, ino, pi)) {
			pkfs_check_placement(f, dir, ino, pi);
			if (pkfs_flags_dir(le32toh(pi->flags))) {
				f->queue[(*tail)++] = ino;
				subdirs++;
			}
		}
		prev = ino;
		ino = le64toh(pi->sibling_ino);
	}
	/* The count is checked once strays are placed: pkfs_check_nlinks(). */
	f->subdirs[dir - 1] = 1 + subdirs;
	pkfs_check_names(f, dir, n);
}

static void pkfs_check_tree(struct pkfs_fsck *f)
{
	struct pkernfs_inode *root = pkfs_inode(f->img, PKERNFS_ROOT_INO);
	struct pkfs_fix lone = { .kind = PKFS_FIX_ROOT,
				.a = PKERNFS_ROOT_INO };
	uint32_t head = 0, tail = 0;

	f->state[PKERNFS_ROOT_INO - 1] = PKFS_SLOT_LINKED;
	f->where[PKERNFS_ROOT_INO - 1] = PKERNFS_ROOT_INO;
	f->nr_linked++;
	if (le32toh(root->flags) != PKERNFS_INODE_FLAG_DIR ||
	    le64toh(root->parent_ino) != PKERNFS_ROOT_INO ||
	    !S_ISDIR(le32toh(root->mode))) {
		pkfs_problem(f, NULL, "root inode is not a directory (flags %#x, mode %#o, parent %" PRIu64 ")",
			     le32toh(root->flags), le32toh(root->mode),
			     (uint64_t)le64toh(root->parent_ino));
		return;
	}
	/* Nothing follows these; clearing them loses nothing. */
	if (root->sibling_ino)
		pkfs_problem(f, &lone, "root inode is in a list (sibling_ino %" PRIu64 ")",
			     (uint64_t)le64toh(root->sibling_ino));
	if (root->name_len)
		pkfs_problem(f, &lone, "root inode has a name (length %u)",
			     le16toh(root->name_len));
	pkfs_check_linked(f, PKERNFS_ROOT_INO, root);
	/* Each inode is queued at most once, so the queue cannot overflow. */
	f->queue[tail++] = PKERNFS_ROOT_INO;
	while (head < tail)
		pkfs_check_dir(f, f->queue[head++], &tail, PKFS_SLOT_LINKED);
}

/* One inode of the orphan list; --repair frees it. */
static void pkfs_check_orphan(struct pkfs_fsck *f, uint64_t ino,
			      struct pkernfs_inode *pi)
{
	struct pkfs_fix fix = { .kind = PKFS_FIX_RECLAIM_ORPHANS };
	uint32_t flags = le32toh(pi->flags);
	bool fixable = true;

	if (!pkfs_check_type(f, ino, pi))
		return;
	if (!(flags & PKERNFS_INODE_FLAG_ORPHAN))
		pkfs_problem(f, &fix, "inode %" PRIu64 " is on the orphan list without the orphan flag",
			     ino);
	if (le32toh(pi->nlink)) {
		pkfs_problem(f, NULL, "orphan inode %" PRIu64 " has link count %u",
			     ino, le32toh(pi->nlink));
		fixable = false;
	}
	if (pkfs_flags_dir(flags) && pi->child_ino) {
		pkfs_problem(f, NULL, "orphan directory %" PRIu64 " still has entries",
			     ino);
		fixable = false;
	}
	pkfs_check_data(f, ino, pi);
	if (fixable)
		pkfs_problem(f, &fix, "inode %" PRIu64 " is an orphan (unlinked while in use) holding %u blocks",
			     ino, pkfs_flags_pgtables(flags) ? 1 :
			     le32toh(pi->num_mappings));
}

static void pkfs_check_orphans(struct pkfs_fsck *f)
{
	struct pkfs_fix fix = { .kind = PKFS_FIX_RECLAIM_ORPHANS };
	uint64_t ino = le64toh(f->super->orphan_ino);

	while (ino) {
		struct pkernfs_inode *pi = pkfs_inode(f->img, ino);

		if (!pi) {
			pkfs_problem(f, &fix, "orphan list holds inode %" PRIu64 ", out of range",
				     ino);
			return;
		}
		if (f->state[ino - 1] == PKFS_SLOT_ORPHAN) {
			pkfs_problem(f, &fix, "orphan list loops at inode %" PRIu64,
				     ino);
			return;
		}
		if (f->state[ino - 1] != PKFS_SLOT_UNSEEN) {
			pkfs_problem(f, NULL, "orphan list reaches inode %" PRIu64 ", which is in directory %u",
				     ino, f->where[ino - 1]);
			return;
		}
		f->state[ino - 1] = PKFS_SLOT_ORPHAN;
		f->nr_orphans++;
		pkfs_check_orphan(f, ino, pi);
		ino = le64toh(pi->sibling_ino);
	}
}

static void pkfs_check_free_list(struct pkfs_fsck *f)
{
	struct pkfs_fix fix = { .kind = PKFS_FIX_FREE_LIST };
	uint64_t ino = le64toh(f->super->next_free_ino);

	while (ino) {
		struct pkernfs_inode *pi = pkfs_inode(f->img, ino);

		if (!pi) {
			pkfs_problem(f, &fix, "free list holds inode %" PRIu64 ", out of range",
				     ino);
			return;
		}
		if (f->state[ino - 1] == PKFS_SLOT_FREE) {
			pkfs_problem(f, &fix, "free list loops at inode %" PRIu64,
				     ino);
			return;
		}
		if (f->state[ino - 1] != PKFS_SLOT_UNSEEN || pi->flags) {
			pkfs_problem(f, &fix, "free list holds inode %" PRIu64 ", which is in use",
				     ino);
			return;
		}
		f->state[ino - 1] = PKFS_SLOT_FREE;
		f->nr_free_listed++;
		ino = le64toh(pi->sibling_ino);
	}
}

/* Recovery passes the kernel makes before it refuses (fs/pkernfs/check.c). */
#define PKFS_RECOVERY_PASSES	16

/**
 * pkfs_lost_name() - the name recovery gives a stray whose own will not do
 * @buf: PKFS_LOST_NAME_MAX bytes
 * @ino: the stray
 * @n: 0 for "#<ino>", else "#<ino>.<n>" (fs/pkernfs/recover.c)
 */
void pkfs_lost_name(char *buf, uint64_t ino, int n)
{
	if (n)
		snprintf(buf, PKFS_LOST_NAME_MAX, "#%" PRIu64 ".%d", ino, n);
	else
		snprintf(buf, PKFS_LOST_NAME_MAX, "#%" PRIu64, ino);
}

/**
 * pkfs_dir_link() - dir.c's pkernfs_dir_link(): put @ino in @dir's list,
 * kept sorted by inode number
 * @inodes: the inode store, or a copy of it
 * @dir: a directory whose list was walked without fault
 * @ino: an inode in no list
 *
 * Return: false, changing nothing, if @dir's list is damaged after all.
 */
bool pkfs_dir_link(struct pkernfs_inode *inodes, uint64_t dir, uint64_t ino)
{
	__le64 *link = &inodes[dir - 1].child_ino;
	uint32_t steps = 0;

	while (*link && le64toh(*link) < ino) {
		if (!pkfs_ino_valid(le64toh(*link)) ||
		    ++steps > PKERNFS_INODE_COUNT)
			return false;
		link = &inodes[le64toh(*link) - 1].sibling_ino;
	}
	inodes[ino - 1].sibling_ino = *link;
	inodes[ino - 1].parent_ino = htole64(dir);
	*link = htole64(ino);
	return true;
}

/* Give @pi a name of @len bytes, zero padded as the kernel writes it. */
void pkfs_set_name(struct pkernfs_inode *pi, const char *name, size_t len)
{
	memset(pi->name, 0, sizeof(pi->name));
	memcpy(pi->name, name, len);
	pi->name_len = htole16(len);
}

/*
 * The kernel's recovery of strays, played on a copy of the inode store so
 * that the check can say what the mount (and --repair) will do.
 */
struct pkfs_plan {
	struct pkernfs_inode *inodes;	/* the copy */
	uint8_t *live;		/* reached from the root, by inode number - 1 */
	uint32_t *strays;	/* in use and reached by no list, ascending */
	uint32_t nr;
	uint32_t *back;		/* by relink: how many inodes come back with it */
	unsigned int passes;
	uint64_t clash;		/* what the kernel would refuse, or 0 */
	const char *why;
};

static bool pkfs_plan_unlinked(const struct pkernfs_inode *pi)
{
	return !pi->nlink ||
	       (le32toh(pi->flags) & PKERNFS_INODE_FLAG_ORPHAN);
}

/*
 * recover.c: pkernfs_stray_name_fits(), with dir.c's pkernfs_dir_find().
 * A stray already in the list means the walk of the tree stopped short (the
 * kernel recovers nothing then): that is a clash, and fits.
 */
static bool pkfs_plan_fits(struct pkfs_plan *p, uint64_t dir,
			   const struct pkernfs_inode *pi)
{
	uint16_t len = le16toh(pi->name_len);
	uint64_t ino = le64toh(p->inodes[dir - 1].child_ino);
	uint32_t steps = 0;

	while (ino && pkfs_ino_valid(ino) && ++steps <= PKERNFS_INODE_COUNT) {
		const struct pkernfs_inode *pe = &p->inodes[ino - 1];

		if (pe == pi) {
			p->clash = ino;
			p->why = "is listed in its parent after all";
			return true;
		}
		ino = le64toh(pe->sibling_ino);
	}
	if (!pkfs_name_ok(pi))
		return false;
	ino = le64toh(p->inodes[dir - 1].child_ino);
	steps = 0;
	while (ino && pkfs_ino_valid(ino) && ++steps <= PKERNFS_INODE_COUNT) {
		const struct pkernfs_inode *pe = &p->inodes[ino - 1];

		if (le16toh(pe->name_len) == len &&
		    !memcmp(pe->name, pi->name, len))
			return false;
		ino = le64toh(pe->sibling_ino);
	}
	return true;
}

/*
 * The directories recovery linked back take their entries with them: the
 * kernel's next pass finds them in the tree.  Each must be a stray, found
 * once; anything else fails that pass, and the kernel refuses the region.
 */
static void pkfs_plan_subtree(struct pkfs_fsck *f, struct pkfs_plan *p,
			      uint64_t top, uint32_t *back)
{
	uint32_t head = 0, tail = 0;

	if (!S_ISDIR(le32toh(p->inodes[top - 1].mode)))
		return;
	f->queue[tail++] = top;
	while (head < tail) {
		uint64_t dir = f->queue[head++];
		uint64_t ino = le64toh(p->inodes[dir - 1].child_ino);

		while (ino) {
			struct pkernfs_inode *pi;

			if (!pkfs_ino_valid(ino) || p->live[ino - 1] ||
			    f->state[ino - 1] != PKFS_SLOT_UNSEEN ||
			    !p->inodes[ino - 1].flags) {
				p->clash = pkfs_ino_valid(ino) ? ino : dir;
				p->why = "would then be reached twice, or is not a stray in use";
				return;
			}
			pi = &p->inodes[ino - 1];
			p->live[ino - 1] = 1;
			f->fate[ino - 1] = PKFS_FATE_BACK;
			(*back)++;
			if (S_ISDIR(le32toh(pi->mode)))
				f->queue[tail++] = ino;
			ino = le64toh(pi->sibling_ino);
		}
	}
}

/* One pass of recover.c: link back what has a live parent.  Return: any. */
static bool pkfs_plan_pass(struct pkfs_fsck *f, struct pkfs_plan *p)
{
	unsigned int first = f->nr_relinks, i;
	char name[PKFS_LOST_NAME_MAX];

	for (i = 0; i < p->nr; i++) {
		uint64_t ino = p->strays[i];
		struct pkernfs_inode *pi = &p->inodes[ino - 1];
		uint64_t dir = le64toh(pi->parent_ino);
		struct pkfs_relink *r = &f->relinks[f->nr_relinks];

		if (p->live[ino - 1] || pkfs_plan_unlinked(pi) ||
		    !pkfs_ino_valid(dir) || !p->live[dir - 1] ||
		    !S_ISDIR(le32toh(p->inodes[dir - 1].mode)))
			continue;
		r->ino = ino;
		r->dir = dir;
		r->lost = -1;
		/* Each try takes a name no entry had: few do. */
		while (!pkfs_plan_fits(p, dir, pi) &&
		       r->lost < (int)PKERNFS_INODE_COUNT) {
			pkfs_lost_name(name, ino, ++r->lost);
			pkfs_set_name(pi, name, strlen(name));
		}
		if (p->clash)
			return false;
		if (!S_ISDIR(le32toh(pi->mode)))
			pi->nlink = htole32(1);
		if (!pkfs_dir_link(p->inodes, dir, ino)) {
			p->clash = dir;
			p->why = "has a damaged entry list";
			return false;
		}
		f->fate[ino - 1] = PKFS_FATE_LINK;
		f->nr_relinks++;
	}
	/* The next pass starts from what this one linked. */
	for (i = first; i < f->nr_relinks; i++)
		p->live[f->relinks[i].ino - 1] = 1;
	for (i = first; i < f->nr_relinks && !p->clash; i++)
		pkfs_plan_subtree(f, p, f->relinks[i].ino, &p->back[i]);
	return f->nr_relinks > first && !p->clash;
}

/*
 * Decide every stray's fate as the mount does: passes link strays back into
 * live directories until one links nothing; the strays left are orphaned
 * and reclaimed.  Return: false if the kernel would refuse the region.
 */
static bool pkfs_plan(struct pkfs_fsck *f, struct pkfs_plan *p)
{
	bool orphans = false;
	uint32_t i;

	p->passes = 1;		/* the last pass, which finds no stray */
	while (pkfs_plan_pass(f, p))
		p->passes++;
	if (p->clash)
		return false;
	for (i = 0; i < p->nr; i++) {
		if (p->live[p->strays[i] - 1])
			continue;
		f->fate[p->strays[i] - 1] = PKFS_FATE_RECLAIM;
		orphans = true;
	}
	/* One more pass orphans them all. */
	if (p->passes + orphans > PKFS_RECOVERY_PASSES) {
		p->clash = p->strays[0];
		p->why = "is nested too deep in directories in no directory";
		return false;
	}
	return true;
}

/* Type and data of an inode reached by no list. */
static bool pkfs_check_stray(struct pkfs_fsck *f, uint64_t ino,
			     struct pkernfs_inode *pi)
{
	f->state[ino - 1] = PKFS_SLOT_STRAY;
	/* Its blocks are its own: do not call them leaked. */
	if (!pkfs_check_type(f, ino, pi))
		return false;
	if (pkfs_flags_dir(le32toh(pi->flags)) &&
	    (pi->num_mappings || pi->mappings_block || pi->size))
		pkfs_problem(f, NULL, "directory inode %" PRIu64 " has data", ino);
	pkfs_check_data(f, ino, pi);
	return true;
}

/* A stray recovery links back, checked where it will be. */
static void pkfs_check_relink(struct pkfs_fsck *f, struct pkfs_plan *p,
			      unsigned int i)
{
	const struct pkfs_relink *r = &f->relinks[i];
	struct pkernfs_inode *pi = pkfs_inode(f->img, r->ino);
	struct pkernfs_inode *now = &p->inodes[r->ino - 1];
	struct pkfs_fix fix = { .kind = PKFS_FIX_STRAYS, .a = r->ino };
	uint32_t head = 0, tail = 0;
	char with[64] = "";

	if (!pkfs_check_stray(f, r->ino, pi))
		return;
	f->where[r->ino - 1] = r->dir;
	if (p->back[i])
		snprintf(with, sizeof(with), ", with the %u inodes below it",
			 p->back[i]);
	if (r->lost < 0)
		pkfs_problem(f, &fix, "inode %u is in no directory (an interrupted update): link it back into directory %u%s",
			     r->ino, r->dir, with);
	else
		pkfs_problem(f, &fix, "inode %u is in no directory (an interrupted update): link it back into directory %u as \"%.*s\", its name being bad or taken there%s",
			     r->ino, r->dir, (int)le16toh(now->name_len),
			     (const char *)now->name, with);
	/* The kernel's next pass checks it, renamed, like any entry. */
	pkfs_check_placement(f, r->dir, r->ino, now);
	if (!pkfs_flags_dir(le32toh(pi->flags)))
		return;
	f->queue[tail++] = r->ino;
	while (head < tail)
		pkfs_check_dir(f, f->queue[head++], &tail, PKFS_SLOT_STRAY);
}

/* A stray recovery orphans, to be reclaimed with its blocks. */
static void pkfs_check_reclaim(struct pkfs_fsck *f, uint64_t ino,
			       struct pkernfs_inode *pi)
{
	struct pkfs_fix fix = { .kind = PKFS_FIX_STRAYS, .a = ino };
	uint64_t dir = le64toh(pi->parent_ino);

	if (!pkfs_check_stray(f, ino, pi))
		return;
	if (pkfs_plan_unlinked(pi))
		pkfs_problem(f, &fix, "inode %" PRIu64 " is in no directory (an interrupted update, unlinking it): reclaim it",
			     ino);
	else
		pkfs_problem(f, &fix, "inode %" PRIu64 " is in no directory (an interrupted update), and its parent %" PRIu64 " is no directory in the tree: reclaim it",
			     ino, dir);
}

/* The plan failed: report every stray as the kernel would leave it. */
static void pkfs_check_refused(struct pkfs_fsck *f, struct pkfs_plan *p)
{
	uint32_t i;

	pkfs_problem(f, NULL, "the inodes in no directory cannot be recovered as the kernel would: inode %" PRIu64 " %s",
		     p->clash, p->why);
	for (i = 0; i < p->nr; i++) {
		uint64_t ino = p->strays[i];
		struct pkernfs_inode *pi = pkfs_inode(f->img, ino);

		f->fate[ino - 1] = PKFS_FATE_NONE;
		if (f->state[ino - 1] != PKFS_SLOT_UNSEEN)
			continue;
		pkfs_problem(f, NULL, "inode %" PRIu64 " is in use but in no directory (parent %" PRIu64 ")",
			     ino, (uint64_t)le64toh(pi->parent_ino));
		pkfs_check_stray(f, ino, pi);
	}
	f->nr_relinks = 0;
}

/* Inodes in use that no list reached: strays, recovered as the mount does. */
static void pkfs_check_strays(struct pkfs_fsck *f)
{
	struct pkfs_plan p = { 0 };
	uint64_t ino;
	uint32_t i;

	p.strays = calloc(PKERNFS_INODE_COUNT, sizeof(*p.strays));
	if (!p.strays)
		goto oom;
	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++)
		if (f->state[ino - 1] == PKFS_SLOT_UNSEEN &&
		    pkfs_inode(f->img, ino)->flags)
			p.strays[p.nr++] = ino;
	if (!p.nr)
		goto out;
	p.inodes = malloc(PKERNFS_BLOCK_SIZE);
	p.live = calloc(PKERNFS_INODE_COUNT, sizeof(*p.live));
	p.back = calloc(p.nr, sizeof(*p.back));
	f->relinks = calloc(p.nr, sizeof(*f->relinks));
	if (!p.inodes || !p.live || !p.back || !f->relinks)
		goto oom;
	memcpy(p.inodes, pkfs_inode(f->img, PKERNFS_ROOT_INO),
	       PKERNFS_BLOCK_SIZE);
	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++)
		p.live[ino - 1] = f->state[ino - 1] == PKFS_SLOT_LINKED;

	if (!pkfs_plan(f, &p)) {
		pkfs_check_refused(f, &p);
		goto out;
	}
	for (i = 0; i < f->nr_relinks; i++)
		pkfs_check_relink(f, &p, i);
	for (i = 0; i < p.nr; i++) {
		ino = p.strays[i];
		if (f->fate[ino - 1] == PKFS_FATE_RECLAIM)
			pkfs_check_reclaim(f, ino, pkfs_inode(f->img, ino));
	}
	/* What comes back below a stray was walked with it. */
	for (i = 0; i < p.nr; i++) {
		ino = p.strays[i];
		if (f->state[ino - 1] != PKFS_SLOT_UNSEEN)
			continue;
		pkfs_problem(f, NULL, "inode %" PRIu64 " is in use but was not found below the directory bringing it back",
			     ino);
		pkfs_check_stray(f, ino, pkfs_inode(f->img, ino));
	}
	goto out;
oom:
	pkfs_msg("out of memory");
	f->fatal = true;
out:
	free(p.strays);
	free(p.inodes);
	free(p.live);
	free(p.back);
}

/*
 * A directory counts 2 plus its subdirectories, those recovery links back
 * into it included: the kernel sets the count right at its next pass.
 */
static void pkfs_check_nlinks(struct pkfs_fsck *f)
{
	uint32_t *extra = f->entries;
	uint64_t dir;
	unsigned int i;

	memset(extra, 0, PKERNFS_INODE_COUNT * sizeof(*extra));
	for (i = 0; i < f->nr_relinks; i++)
		if (pkfs_flags_dir(le32toh(pkfs_inode(f->img,
						      f->relinks[i].ino)->flags)))
			extra[f->relinks[i].dir - 1]++;
	for (dir = 1; dir <= PKERNFS_INODE_COUNT; dir++) {
		struct pkernfs_inode *pd = pkfs_inode(f->img, dir);
		struct pkfs_fix fix = { .kind = PKFS_FIX_NLINK, .a = dir };
		uint32_t subdirs;

		if (!f->subdirs[dir - 1])
			continue;
		subdirs = f->subdirs[dir - 1] - 1 + extra[dir - 1];
		fix.b = 2 + subdirs;
		if (le32toh(pd->nlink) != fix.b)
			pkfs_problem(f, &fix, "directory %" PRIu64 " has link count %u but %u subdirectories",
				     dir, le32toh(pd->nlink), subdirs);
	}
}

/* Free slots on no list are leaked. */
static void pkfs_check_slots(struct pkfs_fsck *f)
{
	struct pkfs_span leaked = {
		.kind = PKFS_FIX_FREE_LIST, .what = "inode",
		.why = "free but not on the free list (leaked)",
	};
	uint64_t ino;

	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++) {
		if (f->state[ino - 1] != PKFS_SLOT_UNSEEN)
			continue;
		f->state[ino - 1] = PKFS_SLOT_LEAKED;
		pkfs_span_add(f, &leaked, ino);
	}
	pkfs_span_flush(f, &leaked);
}

static void pkfs_check_meta_bits(struct pkfs_fsck *f)
{
	struct pkfs_span beyond = {
		.kind = PKFS_FIX_CLEAR_BIT, .what = "block",
		.why = "beyond the end of the region is marked in use",
	};
	uint64_t blk;

	for (blk = 0; blk < PKERNFS_FIRST_DATA_BLOCK; blk++)
		if (!pkfs_test_bit(f->img, blk)) {
			struct pkfs_fix fix = { .kind = PKFS_FIX_SET_BIT,
						.a = blk, .b = blk };

			pkfs_problem(f, &fix, "metadata block %" PRIu64 " is marked free",
				     blk);
		}
	for (blk = f->nr_blocks; blk < PKERNFS_MAX_BLOCKS; blk++) {
		if (!(blk % 8) && !*pkfs_bitmap_byte(f->img, blk)) {
			blk += 7;
			continue;
		}
		if (pkfs_test_bit(f->img, blk))
			pkfs_span_add(f, &beyond, blk);
	}
	pkfs_span_flush(f, &beyond);
}

static void pkfs_check_leaks(struct pkfs_fsck *f)
{
	struct pkfs_span leaked = {
		.kind = PKFS_FIX_CLEAR_BIT, .what = "block",
		.why = "marked in use but unreferenced (leaked)",
	};
	uint64_t blk;

	for (blk = PKERNFS_FIRST_DATA_BLOCK; blk < f->nr_blocks; blk++)
		if (pkfs_test_bit(f->img, blk) && !f->owner[blk])
			pkfs_span_add(f, &leaked, blk);
	pkfs_span_flush(f, &leaked);
}

int pkfs_fsck_init(struct pkfs_fsck *f, struct pkfs_image *img)
{
	memset(f, 0, sizeof(*f));
	f->img = img;
	f->super = pkfs_super(img);
	f->state = calloc(PKERNFS_INODE_COUNT, sizeof(*f->state));
	f->where = calloc(PKERNFS_INODE_COUNT, sizeof(*f->where));
	f->queue = calloc(PKERNFS_INODE_COUNT, sizeof(*f->queue));
	f->entries = calloc(PKERNFS_INODE_COUNT, sizeof(*f->entries));
	f->fate = calloc(PKERNFS_INODE_COUNT, sizeof(*f->fate));
	f->subdirs = calloc(PKERNFS_INODE_COUNT, sizeof(*f->subdirs));
	if (!f->state || !f->where || !f->queue || !f->entries || !f->fate ||
	    !f->subdirs) {
		pkfs_fsck_free(f);
		return -1;
	}
	return 0;
}

void pkfs_fsck_free(struct pkfs_fsck *f)
{
	free(f->state);
	free(f->where);
	free(f->owner);
	free(f->queue);
	free(f->entries);
	free(f->fixes);
	free(f->fate);
	free(f->relinks);
	free(f->subdirs);
	f->state = NULL;
	f->where = NULL;
	f->owner = NULL;
	f->queue = NULL;
	f->entries = NULL;
	f->fixes = NULL;
	f->fate = NULL;
	f->relinks = NULL;
	f->subdirs = NULL;
}

/**
 * pkfs_check() - check the whole image, reporting every problem found
 * @f: a check set up by pkfs_fsck_init()
 */
void pkfs_check(struct pkfs_fsck *f)
{
	if (pkfs_check_super(f))
		return;
	f->owner = calloc(f->nr_blocks, sizeof(*f->owner));
	if (!f->owner) {
		pkfs_msg("out of memory");
		f->fatal = true;
		return;
	}
	pkfs_check_meta_bits(f);
	pkfs_check_tree(f);
	pkfs_check_orphans(f);
	pkfs_check_free_list(f);
	pkfs_check_strays(f);
	pkfs_check_nlinks(f);
	pkfs_check_slots(f);
	pkfs_check_leaks(f);
}
