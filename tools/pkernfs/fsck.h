/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkernfs-fsck: state shared by the checker, the dumper and the repairer.
 */
#ifndef _PKFS_FSCK_H
#define _PKFS_FSCK_H

#include "pkfs.h"

/* How the check reached an inode slot. */
enum pkfs_slot {
	PKFS_SLOT_UNSEEN,
	PKFS_SLOT_LINKED,	/* in the tree under the root */
	PKFS_SLOT_ORPHAN,	/* on the orphan list */
	PKFS_SLOT_FREE,		/* on the free list */
	PKFS_SLOT_STRAY,	/* in use, but on no list (or below one that is) */
	PKFS_SLOT_LEAKED,	/* free, but on no list */
};

/*
 * What the kernel's mount makes of an inode in use that no list reaches, a
 * stray left by an update cut short (fs/pkernfs/recover.c).
 */
enum pkfs_fate {
	PKFS_FATE_NONE,
	PKFS_FATE_LINK,		/* linked back into its parent directory */
	PKFS_FATE_BACK,		/* back with the stray directory listing it */
	PKFS_FATE_RECLAIM,	/* orphaned, then reclaimed */
};

/* One stray the kernel links back, in the order it does. */
struct pkfs_relink {
	uint32_t ino;
	uint32_t dir;
	int lost;		/* -1: its own name; n >= 0: pkfs_lost_name() */
};

/* Something --repair can do about a problem found by the check. */
enum pkfs_fix_kind {
	PKFS_FIX_CHECKSUM,	/* reseal the superblock */
	PKFS_FIX_SET_BIT,	/* mark blocks a..b in use */
	PKFS_FIX_CLEAR_BIT,	/* mark blocks a..b free */
	PKFS_FIX_RECLAIM_ORPHANS, /* free every orphan and its blocks */
	PKFS_FIX_NLINK,		/* set inode a's link count to b */
	PKFS_FIX_PARENT,	/* set inode a's parent to b */
	PKFS_FIX_ORPHAN_FLAG,	/* clear inode a's orphan flag */
	PKFS_FIX_FREE_LIST,	/* rebuild the free inode list */
	PKFS_FIX_ROOT,		/* clear the root's sibling_ino and name */
	PKFS_FIX_INLINE,	/* move inode a's list out of table b, inline */
	PKFS_FIX_STRAYS,	/* link back or reclaim every stray */
};

struct pkfs_fix {
	enum pkfs_fix_kind kind;
	uint64_t a;
	uint64_t b;
};

struct pkfs_fsck {
	struct pkfs_image *img;
	struct pkernfs_super *super;
	uint32_t nr_blocks;	/* valid once the geometry checked out */
	bool geometry_ok;	/* the rest of the region may be walked */

	uint8_t *state;		/* enum pkfs_slot, by inode number - 1 */
	uint32_t *where;	/* directory an inode was reached from */
	uint32_t *owner;	/* by block: the inode referencing it, or 0 */
	uint32_t *queue;	/* directories still to walk */
	uint32_t *entries;	/* scratch: one directory's entries */
	uint8_t *fate;		/* enum pkfs_fate, by inode number - 1 */
	uint32_t *subdirs;	/* walked directories: 1 + subdirectories */
	struct pkfs_relink *relinks;	/* what recovery links, in order */
	unsigned int nr_relinks;

	unsigned int nr_linked;	/* inodes in the tree */
	unsigned int nr_orphans;
	unsigned int nr_free_listed;

	unsigned int problems;
	unsigned int unfixable;
	struct pkfs_fix *fixes;
	unsigned int nr_fixes;
	unsigned int max_fixes;
	bool fatal;		/* not a pkernfs image at all */
	bool quiet;		/* count problems without printing them */
};

/* problem.c */
__printf(1, 2) void pkfs_msg(const char *fmt, ...);
__printf(3, 4) void pkfs_problem(struct pkfs_fsck *f,
				 const struct pkfs_fix *fix,
				 const char *fmt, ...);
void pkfs_problem_range(struct pkfs_fsck *f, enum pkfs_fix_kind kind,
			uint64_t first, uint64_t last, const char *what,
			const char *why);

/* super.c */
int pkfs_check_super(struct pkfs_fsck *f);

/* check.c */
int pkfs_fsck_init(struct pkfs_fsck *f, struct pkfs_image *img);
void pkfs_fsck_free(struct pkfs_fsck *f);
void pkfs_check(struct pkfs_fsck *f);

/* Longest name pkfs_lost_name() gives, with its NUL. */
#define PKFS_LOST_NAME_MAX	32

void pkfs_lost_name(char *buf, uint64_t ino, int n);
bool pkfs_dir_link(struct pkernfs_inode *inodes, uint64_t dir, uint64_t ino);
void pkfs_set_name(struct pkernfs_inode *pi, const char *name, size_t len);

/* dump.c */
void pkfs_dump(struct pkfs_fsck *f);

/* repair.c */
void pkfs_repair(struct pkfs_fsck *f);

/* Print a list of numbers as "a-b,c,d-e" runs. */
struct pkfs_runs {
	uint64_t first;
	uint64_t last;
	unsigned int count;
	bool open;
	int printed;
};

void pkfs_runs_add(struct pkfs_runs *r, uint64_t n);
void pkfs_runs_end(struct pkfs_runs *r);

#endif /* _PKFS_FSCK_H */
