// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs-mkimage: build and damage pkernfs region images, for the tests of
 * pkernfs-fsck.
 *
 *   pkernfs-mkimage create [--size SIZE] [--base ADDR] [--seed N]
 *                          [--extra N] [--orphan] [--empty] [--iommu]
 *                          [--domains N] [--orphan-domain] IMAGE
 *	Format IMAGE as the kernel does (super.c: pkernfs_format()) and fill
 *	it through the same steps the kernel takes: inodes come off the free
 *	list head, entries are linked in inode order (dir.c), blocks are
 *	allocated next-fit from a hint, and a list longer than
 *	PKERNFS_INLINE_BLOCKS moves to a mapping table (blockmap.c).  A fixed
 *	tree comes first, so tests know what is where; --extra adds N more
 *	entries at places and sizes drawn from --seed.  --orphan leaves a file
 *	unlinked while open, as a kexec would find it.  --empty leaves out
 *	the fixed tree.  --iommu first makes iommu/ and iommu/root-pgtables
 *	as the kernel does at boot (iommu.c), and after the fixed tree two
 *	domain page-table files, iommu/dom-0 and iommu/dom-1, as user space
 *	would; --domains N makes N of those instead.  --orphan-domain leaves
 *	one more domain file unlinked while open.  One line per inode,
 *	"PATH INO TYPE NR_BLOCKS TABLE FIRST_BLOCK", goes to stdout; TABLE is
 *	the block of a page-table file.
 *
 *   pkernfs-mkimage poke [--raw] IMAGE ASSIGNMENT...
 *	super.FIELD=V, inode.N.FIELD=V, inode.N.name=STRING, bit.B=0|1 or
 *	map.N.K=V (entry K of inode N's block list) or page.N.K=0|1 (bit K
 *	of the page bitmap in the block of page-table file N).  The
 *	superblock is resealed afterwards, unless --raw or super.checksum
 *	was assigned.
 *
 *   pkernfs-mkimage crc32 STRING
 *	Print crc32_le(~0, STRING), as the kernel computes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkfs.h"

#define MK_NAME	"pkernfs-mkimage"

struct mk_fs {
	struct pkfs_image img;
	struct pkernfs_super *super;
	uint32_t nr_blocks;
	uint32_t block_hint;
	uint64_t seed;
	uint64_t now;
};

static __noreturn __printf(1, 2) void mk_die(const char *fmt, ...)
{
	va_list ap;

	fputs(MK_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint32_t mk_random(struct mk_fs *fs)
{
	/* xorshift64: reproducible for a given --seed. */
	fs->seed ^= fs->seed << 13;
	fs->seed ^= fs->seed >> 7;
	fs->seed ^= fs->seed << 17;
	return fs->seed >> 32;
}

static struct pkernfs_inode *mk_inode(struct mk_fs *fs, uint64_t ino)
{
	struct pkernfs_inode *pi = pkfs_inode(&fs->img, ino);

	if (!pi)
		mk_die("inode %" PRIu64 " is out of range", ino);
	return pi;
}

/* alloc.c: pkernfs_alloc_block(), next fit from the hint. */
static uint32_t mk_alloc_block(struct mk_fs *fs)
{
	uint32_t blk, i;

	for (i = 0; i < fs->nr_blocks - PKERNFS_FIRST_DATA_BLOCK; i++) {
		blk = fs->block_hint + i;
		if (blk >= fs->nr_blocks)
			blk -= fs->nr_blocks - PKERNFS_FIRST_DATA_BLOCK;
		if (!pkfs_test_bit(&fs->img, blk)) {
			pkfs_assign_bit(&fs->img, blk, true);
			fs->block_hint = blk + 1;
			return blk;
		}
	}
	mk_die("image full");
}

static void mk_free_block(struct mk_fs *fs, uint32_t blk)
{
	pkfs_assign_bit(&fs->img, blk, false);
	if (blk < fs->block_hint)
		fs->block_hint = blk;
}

/* alloc.c: pkernfs_alloc_ino() and pkernfs_free_ino(). */
static uint64_t mk_alloc_ino(struct mk_fs *fs)
{
	uint64_t ino = le64toh(fs->super->next_free_ino);
	struct pkernfs_inode *pi;

	if (!ino)
		mk_die("out of inodes");
	pi = mk_inode(fs, ino);
	fs->super->next_free_ino = pi->sibling_ino;
	memset(pi, 0, sizeof(*pi));
	return ino;
}

static void mk_free_ino(struct mk_fs *fs, uint64_t ino)
{
	struct pkernfs_inode *pi = mk_inode(fs, ino);

	memset(pi, 0, sizeof(*pi));
	pi->sibling_ino = fs->super->next_free_ino;
	fs->super->next_free_ino = htole64(ino);
}

static __le32 *mk_block_list(struct mk_fs *fs, struct pkernfs_inode *pi)
{
	uint32_t table = le32toh(pi->mappings_block);

	return table ? pkfs_block(&fs->img, table) : pi->blocks;
}

/* blockmap.c: pkernfs_grow_blocks(), the table first. */
static void mk_grow(struct mk_fs *fs, struct pkernfs_inode *pi, uint32_t nr)
{
	uint32_t old = le32toh(pi->num_mappings), got;
	bool new_table = nr > PKERNFS_INLINE_BLOCKS && !pi->mappings_block;
	uint32_t table = 0;
	__le32 *list;

	if (new_table) {
		table = mk_alloc_block(fs);
		list = pkfs_block(&fs->img, table);
	} else {
		list = mk_block_list(fs, pi);
	}
	for (got = old; got < nr; got++)
		list[got] = htole32(mk_alloc_block(fs));
	if (new_table) {
		memcpy(list, pi->blocks, old * sizeof(*list));
		memset(pi->blocks, 0, sizeof(pi->blocks));
		pi->mappings_block = htole32(table);
	}
	pi->num_mappings = htole32(nr);
}

/* blockmap.c: pkernfs_free_all_blocks(). */
static void mk_free_blocks(struct mk_fs *fs, struct pkernfs_inode *pi)
{
	uint32_t nr = le32toh(pi->num_mappings), table, i;
	__le32 *list = mk_block_list(fs, pi);

	for (i = 0; i < nr; i++)
		mk_free_block(fs, le32toh(list[i]));
	table = le32toh(pi->mappings_block);
	if (table)
		mk_free_block(fs, table);
	pi->num_mappings = 0;
	pi->mappings_block = 0;
}

/* dir.c: pkernfs_dir_link(), keeping the list sorted by inode number. */
static void mk_link(struct mk_fs *fs, uint64_t dir, uint64_t ino)
{
	struct pkernfs_inode *pi = mk_inode(fs, ino);
	__le64 *link = &mk_inode(fs, dir)->child_ino;

	while (*link && le64toh(*link) < ino)
		link = &mk_inode(fs, le64toh(*link))->sibling_ino;
	pi->sibling_ino = *link;
	pi->parent_ino = htole64(dir);
	*link = htole64(ino);
}

static void mk_unlink(struct mk_fs *fs, uint64_t dir, uint64_t ino)
{
	__le64 *link = &mk_inode(fs, dir)->child_ino;

	while (*link && le64toh(*link) != ino)
		link = &mk_inode(fs, le64toh(*link))->sibling_ino;
	if (!*link)
		mk_die("inode %" PRIu64 " is not in directory %" PRIu64, ino, dir);
	*link = mk_inode(fs, ino)->sibling_ino;
	mk_inode(fs, ino)->sibling_ino = 0;
}

static void mk_times(struct mk_fs *fs, struct pkernfs_inode *pi)
{
	pi->atime_sec = htole64(fs->now);
	pi->mtime_sec = pi->atime_sec;
	pi->ctime_sec = pi->atime_sec;
}

static void mk_name(struct pkernfs_inode *pi, const char *name)
{
	size_t len = strlen(name);

	if (!len || len > PKERNFS_NAME_LEN)
		mk_die("bad name %s", name);
	pi->name_len = htole16(len);
	memcpy(pi->name, name, len);
}

static bool mk_is_iommu_dir(struct mk_fs *fs, uint64_t dir)
{
	return le32toh(mk_inode(fs, dir)->flags) & PKERNFS_INODE_FLAG_IOMMU_DIR;
}

/* iommu.c: pkernfs_iommu_init_block(), one zeroed block of its own. */
static void mk_pgtables_block(struct mk_fs *fs, struct pkernfs_inode *pi)
{
	uint32_t blk = mk_alloc_block(fs);

	memset(pkfs_block(&fs->img, blk), 0, PKERNFS_BLOCK_SIZE);
	pi->mappings_block = htole32(blk);
	pi->size = htole64(PKERNFS_BLOCK_SIZE);
}

/*
 * namei.c: create or mkdir; @size bytes of a file get their blocks.  A file
 * created in iommu/ is a domain page-table file, and gets its block first.
 */
static uint64_t mk_add(struct mk_fs *fs, uint64_t dir, const char *name,
		       bool is_dir, uint64_t size)
{
	uint64_t ino = mk_alloc_ino(fs);
	struct pkernfs_inode *pi = mk_inode(fs, ino);
	bool domain = mk_is_iommu_dir(fs, dir);

	if (domain && (is_dir || size))
		mk_die("iommu/ holds page-table files only");
	if (domain) {
		mk_pgtables_block(fs, pi);
		pi->flags = htole32(PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES);
	} else {
		pi->flags = htole32(is_dir ? PKERNFS_INODE_FLAG_DIR :
					     PKERNFS_INODE_FLAG_FILE);
	}
	pi->mode = htole32(is_dir ? S_IFDIR | 0755 : S_IFREG | 0644);
	pi->uid = htole32(1000);
	pi->gid = htole32(1000);
	pi->nlink = htole32(is_dir ? 2 : 1);
	pi->generation = htole32(mk_random(fs));
	mk_name(pi, name);
	mk_times(fs, pi);
	mk_link(fs, dir, ino);
	if (is_dir) {
		struct pkernfs_inode *pd = mk_inode(fs, dir);

		pd->nlink = htole32(le32toh(pd->nlink) + 1);
	} else if (size) {
		mk_grow(fs, pi, (size + PKERNFS_BLOCK_SIZE - 1) >>
				PKERNFS_BLOCK_SHIFT);
		pi->size = htole64(size);
	}
	return ino;
}

/* Unlink a file; @open leaves it on the orphan list, as if still open. */
static void mk_remove(struct mk_fs *fs, uint64_t dir, uint64_t ino, bool open)
{
	struct pkernfs_inode *pi = mk_inode(fs, ino);

	mk_unlink(fs, dir, ino);
	pi->nlink = 0;
	if (open) {
		pi->flags |= htole32(PKERNFS_INODE_FLAG_ORPHAN);
		pi->sibling_ino = fs->super->orphan_ino;
		fs->super->orphan_ino = htole64(ino);
		return;
	}
	if (pkfs_flags_pgtables(le32toh(pi->flags)))
		mk_free_block(fs, le32toh(pi->mappings_block));
	else
		mk_free_blocks(fs, pi);
	mk_free_ino(fs, ino);
}

/*
 * iommu.c: pkernfs_iommu_create(), for what the kernel makes before any
 * mount: owned by root, no generation, a page-table file's block allocated
 * before the entry is linked, and the parent's link count raised for iommu/.
 */
static uint64_t mk_add_kernel(struct mk_fs *fs, uint64_t parent,
			      const char *name, uint32_t flags)
{
	bool dir = flags & PKERNFS_INODE_FLAG_IOMMU_DIR;
	uint64_t ino = mk_alloc_ino(fs);
	struct pkernfs_inode *pi = mk_inode(fs, ino);

	pi->flags = htole32(flags);
	pi->mode = htole32(dir ? S_IFDIR | 0755 : S_IFREG | 0400);
	pi->nlink = htole32(dir ? 2 : 1);
	mk_name(pi, name);
	mk_times(fs, pi);
	if (!dir)
		mk_pgtables_block(fs, pi);
	mk_link(fs, parent, ino);
	if (dir) {
		struct pkernfs_inode *pd = mk_inode(fs, parent);

		pd->nlink = htole32(le32toh(pd->nlink) + 1);
	}
	return ino;
}

/* iommu.c: pkernfs_iommu_root_region() on a fresh region.  Return: iommu/. */
static uint64_t mk_iommu(struct mk_fs *fs)
{
	uint64_t dir = mk_add_kernel(fs, PKERNFS_ROOT_INO,
				     PKFS_IOMMU_DIR_NAME,
				     PKERNFS_INODE_FLAG_IOMMU_DIR);

	mk_add_kernel(fs, dir, PKFS_ROOT_PGTABLES_NAME,
		      PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES);
	return dir;
}

/* super.c: pkernfs_format(). */
static void mk_format(struct mk_fs *fs, uint64_t base)
{
	struct pkernfs_super *s = fs->super;
	struct pkernfs_inode *root = mk_inode(fs, PKERNFS_ROOT_INO);
	uint64_t ino;

	memset(fs->img.map + PKERNFS_BITMAP_OFFSET, 0, PKERNFS_BITMAP_BYTES);
	pkfs_assign_bit(&fs->img, PKERNFS_SUPER_BLOCK, true);
	pkfs_assign_bit(&fs->img, PKERNFS_INODES_BLOCK, true);
	memset(fs->img.map + PKERNFS_INODES_OFFSET, 0, PKERNFS_BLOCK_SIZE);
	for (ino = PKERNFS_ROOT_INO + 1; ino < PKERNFS_INODE_COUNT; ino++)
		mk_inode(fs, ino)->sibling_ino = htole64(ino + 1);
	root->flags = htole32(PKERNFS_INODE_FLAG_DIR);
	root->mode = htole32(S_IFDIR | 0755);
	root->parent_ino = htole64(PKERNFS_ROOT_INO);
	root->nlink = htole32(2);
	mk_times(fs, root);

	memset(s, 0, sizeof(*s));
	s->magic = htole64(PKERNFS_MAGIC);
	s->version = htole32(PKERNFS_FORMAT_VERSION);
	s->block_shift = htole32(PKERNFS_BLOCK_SHIFT);
	s->inode_size = htole32(PKERNFS_INODE_SIZE);
	s->region_base = htole64(base);
	s->region_size = htole64(fs->img.size);
	s->bitmap_offset = htole64(PKERNFS_BITMAP_OFFSET);
	s->inodes_offset = htole64(PKERNFS_INODES_OFFSET);
	s->inode_count = htole32(PKERNFS_INODE_COUNT);
	s->root_ino = htole32(PKERNFS_ROOT_INO);
	s->next_free_ino = htole64(PKERNFS_ROOT_INO + 1);
	fs->block_hint = PKERNFS_FIRST_DATA_BLOCK;
}

#define MB(n)	((uint64_t)(n) << 20)

/* The tree every image starts with; tests rely on its shape. */
static void mk_fixed_tree(struct mk_fs *fs)
{
	uint64_t a, b, sub, tmp;

	a = mk_add(fs, PKERNFS_ROOT_INO, "a", true, 0);
	mk_add(fs, a, "f1", false, MB(5));
	b = mk_add(fs, PKERNFS_ROOT_INO, "b", true, 0);
	sub = mk_add(fs, a, "sub", true, 0);
	mk_add(fs, sub, "big", false, MB(80) - 100);
	mk_add(fs, PKERNFS_ROOT_INO, "hello", false, 100);
	mk_add(fs, PKERNFS_ROOT_INO, "empty", false, 0);
	mk_add(fs, b, "c", true, 0);
	/* A file come and gone leaves the free list out of order. */
	tmp = mk_add(fs, b, "tmp", false, MB(3));
	mk_add(fs, b, "g", false, MB(4));
	mk_remove(fs, b, tmp, false);
}

/* Directories made so far, to hang extra entries from. */
static uint64_t mk_pick_dir(struct mk_fs *fs)
{
	uint64_t ino, nr = 0, pick;

	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++)
		nr += pkfs_type(mk_inode(fs, ino)) == PKERNFS_INODE_FLAG_DIR;
	pick = mk_random(fs) % nr;
	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++)
		if (pkfs_type(mk_inode(fs, ino)) == PKERNFS_INODE_FLAG_DIR &&
		    !pick--)
			break;
	return ino;
}

static void mk_extra(struct mk_fs *fs, unsigned int nr)
{
	unsigned int i;
	char name[32];

	for (i = 0; i < nr; i++) {
		uint64_t dir = mk_pick_dir(fs);
		bool is_dir = mk_random(fs) % 4 == 0;

		snprintf(name, sizeof(name), "x%u", i);
		mk_add(fs, dir, name, is_dir,
		       is_dir ? 0 : mk_random(fs) % MB(6));
	}
}

static void mk_print_path(struct mk_fs *fs, uint64_t ino, unsigned int depth)
{
	struct pkernfs_inode *pi = mk_inode(fs, ino);

	if (ino == PKERNFS_ROOT_INO || depth > PKERNFS_INODE_COUNT) {
		if (ino == PKERNFS_ROOT_INO && !depth)
			putchar('/');
		return;
	}
	mk_print_path(fs, le64toh(pi->parent_ino), depth + 1);
	printf("/%.*s", le16toh(pi->name_len), (const char *)pi->name);
}

static const char *mk_type_name(const struct pkernfs_inode *pi)
{
	switch (pkfs_type(pi)) {
	case PKERNFS_INODE_FLAG_DIR:
		return "dir";
	case PKERNFS_INODE_FLAG_IOMMU_DIR:
		return "iommu-dir";
	case PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES:
		return "root-pgtables";
	case PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES:
		return "domain-pgtables";
	default:
		return "file";
	}
}

static void mk_manifest(struct mk_fs *fs)
{
	uint64_t ino;

	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++) {
		struct pkernfs_inode *pi = mk_inode(fs, ino);
		uint32_t nr = le32toh(pi->num_mappings);

		if (!pi->flags)
			continue;
		mk_print_path(fs, ino, 0);
		printf(" %" PRIu64 " %s %u %u %u\n", ino, mk_type_name(pi),
		       nr, le32toh(pi->mappings_block),
		       nr ? le32toh(mk_block_list(fs, pi)[0]) : 0);
	}
}

static uint64_t mk_number(const char *arg)
{
	uint64_t val, mult = 1;
	char *end;

	errno = 0;
	val = strtoull(arg, &end, 0);
	if (*end == 'K' || *end == 'k')
		mult = 1ULL << 10;
	else if (*end == 'M' || *end == 'm')
		mult = 1ULL << 20;
	else if (*end == 'G' || *end == 'g')
		mult = 1ULL << 30;
	if (mult != 1)
		end++;
	if (errno || end == arg || *end)
		mk_die("bad number %s", arg);
	return val * mult;
}

static void mk_open(struct mk_fs *fs, const char *path)
{
	fs->img.fd = -1;
	if (pkfs_image_open(&fs->img, path, true))
		exit(1);
	fs->super = pkfs_super(&fs->img);
	fs->nr_blocks = fs->img.size >> PKERNFS_BLOCK_SHIFT;
}

static int mk_create(int argc, char **argv)
{
	uint64_t size = MB(256), base = 1ULL << 30, iommu_dir = 0;
	unsigned int extra = 0, domains = 2, d;
	struct mk_fs fs = { .seed = 1, .now = 1700000000 };
	bool orphan = false, empty = false, iommu = false;
	bool orphan_domain = false;
	const char *path = NULL;
	int fd, i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--size") && i + 1 < argc)
			size = mk_number(argv[++i]);
		else if (!strcmp(argv[i], "--base") && i + 1 < argc)
			base = mk_number(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			fs.seed = mk_number(argv[++i]) | 1;
		else if (!strcmp(argv[i], "--extra") && i + 1 < argc)
			extra = mk_number(argv[++i]);
		else if (!strcmp(argv[i], "--orphan"))
			orphan = true;
		else if (!strcmp(argv[i], "--empty"))
			empty = true;
		else if (!strcmp(argv[i], "--iommu"))
			iommu = true;
		else if (!strcmp(argv[i], "--domains") && i + 1 < argc)
			domains = mk_number(argv[++i]);
		else if (!strcmp(argv[i], "--orphan-domain"))
			orphan_domain = true;
		else if (!path && argv[i][0] != '-')
			path = argv[i];
		else
			mk_die("create: bad argument %s", argv[i]);
	}
	if (!path || size % PKERNFS_BLOCK_SIZE ||
	    size < MB(2) * (PKERNFS_FIRST_DATA_BLOCK + 1))
		mk_die("create: need an image path and a size of 6M or more, in 2M steps");
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, size))
		mk_die("%s: %s", path, strerror(errno));
	close(fd);

	mk_open(&fs, path);
	mk_format(&fs, base);
	iommu |= domains != 2 || orphan_domain;
	if (iommu)
		iommu_dir = mk_iommu(&fs);
	if (!empty)
		mk_fixed_tree(&fs);
	for (d = 0; iommu && d < domains; d++) {
		char name[32];

		snprintf(name, sizeof(name), "dom-%u", d);
		mk_add(&fs, iommu_dir, name, false, 0);
	}
	mk_extra(&fs, extra);
	if (orphan) {
		uint64_t ino = mk_add(&fs, PKERNFS_ROOT_INO, "doomed", false,
				      MB(4));

		mk_remove(&fs, PKERNFS_ROOT_INO, ino, true);
	}
	if (orphan_domain) {
		uint64_t ino = mk_add(&fs, iommu_dir, "doomed-dom", false, 0);

		mk_remove(&fs, iommu_dir, ino, true);
	}
	fs.super->mount_count = htole64(1);
	pkfs_super_seal(fs.super);
	mk_manifest(&fs);
	if (pkfs_image_sync(&fs.img))
		return 1;
	pkfs_image_close(&fs.img);
	return 0;
}

struct mk_field {
	const char *name;
	size_t offset;
	size_t size;
};

#define MK_FIELD(type, field) \
	{ #field, offsetof(type, field), sizeof(((type *)0)->field) }

static const struct mk_field mk_super_fields[] = {
	MK_FIELD(struct pkernfs_super, magic),
	MK_FIELD(struct pkernfs_super, checksum),
	MK_FIELD(struct pkernfs_super, version),
	MK_FIELD(struct pkernfs_super, feature_compat),
	MK_FIELD(struct pkernfs_super, feature_incompat),
	MK_FIELD(struct pkernfs_super, block_shift),
	MK_FIELD(struct pkernfs_super, inode_size),
	MK_FIELD(struct pkernfs_super, region_base),
	MK_FIELD(struct pkernfs_super, region_size),
	MK_FIELD(struct pkernfs_super, bitmap_offset),
	MK_FIELD(struct pkernfs_super, inodes_offset),
	MK_FIELD(struct pkernfs_super, inode_count),
	MK_FIELD(struct pkernfs_super, root_ino),
	MK_FIELD(struct pkernfs_super, next_free_ino),
	MK_FIELD(struct pkernfs_super, orphan_ino),
	MK_FIELD(struct pkernfs_super, mount_count),
	{ NULL }
};

static const struct mk_field mk_inode_fields[] = {
	MK_FIELD(struct pkernfs_inode, flags),
	MK_FIELD(struct pkernfs_inode, mode),
	MK_FIELD(struct pkernfs_inode, sibling_ino),
	MK_FIELD(struct pkernfs_inode, child_ino),
	MK_FIELD(struct pkernfs_inode, parent_ino),
	MK_FIELD(struct pkernfs_inode, size),
	MK_FIELD(struct pkernfs_inode, uid),
	MK_FIELD(struct pkernfs_inode, gid),
	MK_FIELD(struct pkernfs_inode, nlink),
	MK_FIELD(struct pkernfs_inode, num_mappings),
	MK_FIELD(struct pkernfs_inode, mappings_block),
	MK_FIELD(struct pkernfs_inode, name_len),
	MK_FIELD(struct pkernfs_inode, generation),
	{ NULL }
};

/* Store @val little-endian in @size bytes at @p. */
static void mk_store(uint8_t *p, size_t size, uint64_t val)
{
	size_t i;

	for (i = 0; i < size; i++, val >>= 8)
		p[i] = val & 0xff;
}

static void mk_set_field(const struct mk_field *fields, uint8_t *base,
			 const char *name, const char *val)
{
	for (; fields->name; fields++) {
		if (!strcmp(fields->name, name)) {
			mk_store(base + fields->offset, fields->size,
				 mk_number(val));
			return;
		}
	}
	mk_die("poke: no field %s", name);
}

static void mk_poke_inode(struct mk_fs *fs, char *spec, const char *val)
{
	char *field;
	struct pkernfs_inode *pi = mk_inode(fs, strtoull(spec, &field, 0));
	size_t len = strlen(val);

	if (*field++ != '.')
		mk_die("poke: bad inode.%s", spec);
	if (strcmp(field, "name")) {
		mk_set_field(mk_inode_fields, (uint8_t *)pi, field, val);
		return;
	}
	if (len > PKERNFS_NAME_LEN)
		mk_die("poke: name too long");
	memset(pi->name, 0, sizeof(pi->name));
	memcpy(pi->name, val, len);
	pi->name_len = htole16(len);
}

static void mk_poke_map(struct mk_fs *fs, char *spec, const char *val)
{
	char *end;
	struct pkernfs_inode *pi = mk_inode(fs, strtoull(spec, &end, 0));
	uint64_t k = strtoull(end + 1, NULL, 0);
	uint32_t table = le32toh(pi->mappings_block);
	__le32 *list = pi->blocks;

	if (*end != '.')
		mk_die("poke: bad map.%s", spec);
	if (table) {
		list = pkfs_block(&fs->img, table);
		if (!list || k >= PKERNFS_TABLE_BLOCKS)
			mk_die("poke: map.%s out of range", spec);
	} else if (k >= PKERNFS_INLINE_BLOCKS) {
		mk_die("poke: map.%s out of range", spec);
	}
	list[k] = htole32(mk_number(val));
}

static void mk_poke_page(struct mk_fs *fs, char *spec, const char *val)
{
	char *end;
	struct pkernfs_inode *pi = mk_inode(fs, strtoull(spec, &end, 0));
	uint64_t k = strtoull(end + 1, NULL, 0);
	uint8_t *bitmap = pkfs_block(&fs->img, le32toh(pi->mappings_block));

	if (*end != '.' || !pkfs_flags_pgtables(le32toh(pi->flags)))
		mk_die("poke: bad page.%s", spec);
	if (!bitmap || k >= PKFS_REGION_PAGES)
		mk_die("poke: page.%s out of range", spec);
	if (mk_number(val))
		bitmap[k / 8] |= 1U << (k % 8);
	else
		bitmap[k / 8] &= ~(1U << (k % 8));
}

/* Apply one ASSIGNMENT.  Return: whether it set the checksum itself. */
static bool mk_poke_one(struct mk_fs *fs, char *arg)
{
	char *val = strchr(arg, '=');

	if (!val)
		mk_die("poke: %s is not an assignment", arg);
	*val++ = '\0';
	if (!strncmp(arg, "super.", 6)) {
		mk_set_field(mk_super_fields, (uint8_t *)fs->super, arg + 6, val);
		return !strcmp(arg + 6, "checksum");
	}
	if (!strncmp(arg, "inode.", 6))
		mk_poke_inode(fs, arg + 6, val);
	else if (!strncmp(arg, "map.", 4))
		mk_poke_map(fs, arg + 4, val);
	else if (!strncmp(arg, "page.", 5))
		mk_poke_page(fs, arg + 5, val);
	else if (!strncmp(arg, "bit.", 4))
		pkfs_assign_bit(&fs->img, mk_number(arg + 4), mk_number(val));
	else
		mk_die("poke: unknown target %s", arg);
	return false;
}

static int mk_poke(int argc, char **argv)
{
	struct mk_fs fs = { 0 };
	bool raw = false;
	int i = 0;

	if (argc && !strcmp(argv[0], "--raw")) {
		raw = true;
		i++;
	}
	if (i >= argc)
		mk_die("poke: no image");
	mk_open(&fs, argv[i++]);
	for (; i < argc; i++)
		raw |= mk_poke_one(&fs, argv[i]);
	if (!raw)
		pkfs_super_seal(fs.super);
	if (pkfs_image_sync(&fs.img))
		return 1;
	pkfs_image_close(&fs.img);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "create"))
		return mk_create(argc - 2, argv + 2);
	if (argc >= 3 && !strcmp(argv[1], "poke"))
		return mk_poke(argc - 2, argv + 2);
	if (argc == 3 && !strcmp(argv[1], "crc32")) {
		printf("%#010x\n", pkfs_crc32_le(~0U, argv[2], strlen(argv[2])));
		return 0;
	}
	fprintf(stderr,
		"usage: " MK_NAME " create [--size SIZE] [--base ADDR] [--seed N] [--extra N] [--orphan] [--empty]\n"
		"                          [--iommu] [--domains N] [--orphan-domain] IMAGE\n"
		"       " MK_NAME " poke [--raw] IMAGE ASSIGNMENT...\n"
		"       " MK_NAME " crc32 STRING\n");
	return 2;
}
