// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs-fsck: the superblock.
 *
 * The same checks as the kernel's pkernfs_super_validate(), in the same
 * order, plus the image size.  A bad magic means this is no pkernfs region
 * at all; a version, feature or geometry this tool does not know means the
 * rest of the region cannot be interpreted, so the check stops there.
 */
#include <inttypes.h>

#include "fsck.h"

static bool pkfs_field_ok(struct pkfs_fsck *f, const char *name, uint64_t got,
			  uint64_t want)
{
	if (got == want)
		return true;
	pkfs_problem(f, NULL, "superblock %s is %#" PRIx64 ", expected %#" PRIx64,
		     name, got, want);
	return false;
}

static bool pkfs_layout_ok(struct pkfs_fsck *f)
{
	struct pkernfs_super *s = f->super;
	bool ok = true;

	ok &= pkfs_field_ok(f, "block_shift", le32toh(s->block_shift),
			    PKERNFS_BLOCK_SHIFT);
	ok &= pkfs_field_ok(f, "inode_size", le32toh(s->inode_size),
			    PKERNFS_INODE_SIZE);
	ok &= pkfs_field_ok(f, "inode_count", le32toh(s->inode_count),
			    PKERNFS_INODE_COUNT);
	ok &= pkfs_field_ok(f, "bitmap_offset", le64toh(s->bitmap_offset),
			    PKERNFS_BITMAP_OFFSET);
	ok &= pkfs_field_ok(f, "inodes_offset", le64toh(s->inodes_offset),
			    PKERNFS_INODES_OFFSET);
	ok &= pkfs_field_ok(f, "root_ino", le32toh(s->root_ino),
			    PKERNFS_ROOT_INO);
	return ok;
}

/* The region size: sane, and what the image (or --size) really holds. */
static bool pkfs_size_ok(struct pkfs_fsck *f)
{
	uint64_t size = le64toh(f->super->region_size);
	uint64_t blocks = size >> PKERNFS_BLOCK_SHIFT;

	if (size % PKERNFS_BLOCK_SIZE ||
	    blocks < PKERNFS_FIRST_DATA_BLOCK + 1 ||
	    blocks > PKERNFS_MAX_BLOCKS) {
		pkfs_problem(f, NULL, "superblock region_size %#" PRIx64 " is not %u to %lu blocks of 2 MiB",
			     size, PKERNFS_FIRST_DATA_BLOCK + 1,
			     (unsigned long)PKERNFS_MAX_BLOCKS);
		return false;
	}
	if (size != f->img->size) {
		pkfs_problem(f, NULL, "superblock region_size %#" PRIx64 " does not match the image size %#" PRIx64,
			     size, f->img->size);
		return false;
	}
	f->nr_blocks = blocks;
	return true;
}

/* What the user said the region is, against what the superblock says. */
static void pkfs_check_given(struct pkfs_fsck *f)
{
	struct pkfs_image *img = f->img;

	if (img->have_base)
		pkfs_field_ok(f, "region_base", le64toh(f->super->region_base),
			      img->base);
	if (img->have_size && !img->devmem)
		pkfs_field_ok(f, "region_size", le64toh(f->super->region_size),
			      img->given_size);
}

/**
 * pkfs_check_super() - validate the superblock
 * @f: the check
 *
 * Return: 0 if the rest of the region can be walked, else -1 (with
 * @f->fatal set if this is not a pkernfs region).
 */
int pkfs_check_super(struct pkfs_fsck *f)
{
	struct pkernfs_super *s = f->super;
	uint32_t csum = pkfs_super_csum(s);
	struct pkfs_fix fix = { .kind = PKFS_FIX_CHECKSUM };
	uint32_t features;

	if (le64toh(s->magic) != PKERNFS_MAGIC) {
		pkfs_msg("%s: bad magic %#" PRIx64 ", not a pkernfs region",
			 f->img->path, (uint64_t)le64toh(s->magic));
		f->fatal = true;
		return -1;
	}
	if (csum != le32toh(s->checksum))
		pkfs_problem(f, &fix, "superblock checksum mismatch (stored %#x, computed %#x)",
			     le32toh(s->checksum), csum);
	if (le32toh(s->version) != PKERNFS_FORMAT_VERSION) {
		pkfs_problem(f, NULL, "unsupported format version %u (this tool has %u); not checking further",
			     le32toh(s->version), PKERNFS_FORMAT_VERSION);
		return -1;
	}
	features = le32toh(s->feature_incompat) & ~PKERNFS_FEATURE_INCOMPAT_SUPP;
	if (features) {
		pkfs_problem(f, NULL, "unsupported incompatible features %#x; not checking further",
			     features);
		return -1;
	}
	features = le32toh(s->feature_compat) & ~PKERNFS_FEATURE_COMPAT_SUPP;
	if (features)
		pkfs_msg("unknown compatible features %#x, ignored", features);
	pkfs_check_given(f);
	if (!pkfs_layout_ok(f) || !pkfs_size_ok(f)) {
		pkfs_msg("bad superblock geometry; not checking further");
		return -1;
	}
	f->geometry_ok = true;
	return 0;
}
