// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs_corrupt - corruption campaign against the mount-time checks.
 *
 * Run as root with pkernfs unmounted and its region reachable through
 * /dev/mem.  The program mounts pkernfs, builds a small tree (directories,
 * empty, small and 2 MiB files, and one file past the inline block pointers
 * so that it has a mapping table), unmounts and saves the region: the
 * pristine image, which pkernfs-fsck must call clean.  Then, case by case,
 * it restores the pristine image, damages it through /dev/mem (random byte
 * flips, or a targeted bad value: loops in the sibling, child, free and
 * orphan lists, out-of-range inode and block numbers, cross-linked blocks,
 * wrong sizes, bad names and modes, a wrong superblock field or version, a
 * torn superblock) and mounts.  Each case must end in one of:
 *
 *   - a refusal: mount fails, the kernel logs a "pkernfs:" line, and the
 *     region is exactly as it was before the mount;
 *   - a mount that works: the tree can be walked, read and mmapped, a file
 *     and a directory created, renamed and removed, without EIO or
 *     EUCLEAN, and after umount pkernfs-fsck calls the region clean.
 *
 * Some kinds of damage must always be refused (a loop, an out-of-range
 * number) and some always accepted (a leaked block or inode, which the
 * mount gives back; an orphan, which it reclaims; an entry dropped from its
 * directory or a directory's link count, which it sets right as after an
 * interrupted update; any uid or timestamp); the others may go either way.
 * An oops or a hang takes the guest down, which the host harness reports.
 *
 * Case k damages the region with kind k modulo the number of kinds, drawn
 * from a generator seeded with (seed, k) alone, so one case can be replayed
 * with --case k.
 *
 * Usage: pkernfs_corrupt --base ADDR --size SIZE [--seed N] [--cases N]
 *        [--case K] [--fsck PATH] [--mnt DIR] [--image FILE] [-v]
 *
 * Output is TAP: the pristine image, one result per kind of damage, and
 * the totals; the exit status is the kselftest one.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../../../fs/pkernfs/pkernfs_fs.h"
#include "../kselftest.h"

#define META_BYTES	(PKERNFS_FIRST_DATA_BLOCK * PKERNFS_BLOCK_SIZE)
#define MAX_INOS	64
#define FSCK_OUT_MAX	8192
#define BIG_FILE_SIZE	(64ULL << 20 | 4096)	/* 33 blocks + a table */

enum expect { MAY_EITHER, MUST_REFUSE, MUST_ACCEPT };

static const char * const expect_name[] = { "either", "refuse", "accept" };

struct opts {
	uint64_t base;
	uint64_t size;
	uint64_t seed;
	unsigned int cases;
	long one_case;
	const char *fsck;
	const char *mnt;
	const char *image;
	bool verbose;
};

static struct opts o = {
	.cases = 220,
	.one_case = -1,
	.fsck = "/sbin/pkernfs-fsck",
	.mnt = "/mnt/pkernfs",
	.image = "/tmp/pkernfs-pristine.img",
};

static uint8_t *reg;		/* the live region, through /dev/mem */
static uint8_t *pristine;	/* its saved copy */
static uint8_t *snap;		/* metadata just before a mount */
static uint32_t nr_blocks;
static int kmsg = -1;

/* What the pristine tree holds, found by walking the saved image. */
static uint64_t dirs[MAX_INOS], files[MAX_INOS], frees[MAX_INOS];
static unsigned int nr_dirs, nr_files, nr_frees;
static uint64_t big_ino;	/* the file with a mapping table */
static uint32_t big_table;
/* The kernel's iommu/ files, and the domain page-table file we add. */
static uint64_t iommu_dir, root_pgtables, dom_file;

/* The generator of one case. */
static uint64_t rng;

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(void)
{
	rng += 0x9e3779b97f4a7c15ULL;
	return mix64(rng);
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

#define PICK(arr) ((arr)[below(ARRAY_SIZE(arr))])

/* The superblock checksum, as the kernel's crc32_le(~0, ...) computes it. */
static uint32_t crc32_le(uint32_t crc, const uint8_t *p, size_t len)
{
	int bit;

	while (len--) {
		crc ^= *p++;
		for (bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (crc & 1 ? 0xedb88320U : 0);
	}
	return crc;
}

static struct pkernfs_super *sb(void)
{
	return (struct pkernfs_super *)reg;
}

static void seal(void)
{
	struct pkernfs_super copy = *sb();

	copy.checksum = 0;
	sb()->checksum = htole32(crc32_le(~0U, (uint8_t *)&copy, sizeof(copy)));
}

static struct pkernfs_inode *inode_in(uint8_t *img, uint64_t ino)
{
	return (struct pkernfs_inode *)(img + PKERNFS_INODES_OFFSET) + ino - 1;
}

static struct pkernfs_inode *ino(uint64_t n)
{
	return inode_in(reg, n);
}

static uint8_t *bitmap(void)
{
	return reg + PKERNFS_BITMAP_OFFSET;
}

static bool bit_test(uint8_t *img, uint64_t blk)
{
	return img[PKERNFS_BITMAP_OFFSET + blk / 8] & (1U << (blk % 8));
}

static void bit_set(uint64_t blk, bool on)
{
	if (on)
		bitmap()[blk / 8] |= 1U << (blk % 8);
	else
		bitmap()[blk / 8] &= ~(1U << (blk % 8));
}

static __le32 *block_list(uint8_t *img, uint64_t n)
{
	struct pkernfs_inode *pi = inode_in(img, n);
	uint32_t table = le32toh(pi->mappings_block);

	return table ? (__le32 *)(img + ((size_t)table << PKERNFS_BLOCK_SHIFT)) :
		       pi->blocks;
}

/* A free block of the pristine image, or 0. */
static uint32_t free_block(void)
{
	uint32_t start = PKERNFS_FIRST_DATA_BLOCK +
			 below(nr_blocks - PKERNFS_FIRST_DATA_BLOCK), i, b;

	for (i = 0; i < nr_blocks - PKERNFS_FIRST_DATA_BLOCK; i++) {
		b = PKERNFS_FIRST_DATA_BLOCK +
		    (start - PKERNFS_FIRST_DATA_BLOCK + i) %
		    (nr_blocks - PKERNFS_FIRST_DATA_BLOCK);
		if (!bit_test(pristine, b))
			return b;
	}
	return 0;
}

/* A file of the pristine tree with at least one block. */
static uint64_t file_with_blocks(void)
{
	unsigned int i, start = below(nr_files);

	for (i = 0; i < nr_files; i++) {
		uint64_t n = files[(start + i) % nr_files];

		if (inode_in(pristine, n)->num_mappings)
			return n;
	}
	return big_ino;
}

static uint64_t any_used(void)
{
	return below(nr_dirs + nr_files) < nr_dirs ? dirs[below(nr_dirs)] :
						     files[below(nr_files)];
}

/* A directory with at least @n entries. */
static uint64_t dir_with(unsigned int n)
{
	unsigned int i, k, start = below(nr_dirs);

	for (i = 0; i < nr_dirs; i++) {
		uint64_t d = dirs[(start + i) % nr_dirs], c;

		k = 0;
		for (c = le64toh(ino(d)->child_ino); c && k < MAX_INOS;
		     c = le64toh(ino(c)->sibling_ino))
			k++;
		if (k >= n)
			return d;
	}
	return PKERNFS_ROOT_INO;
}

/* Entry @k of directory @d (the last one if there are fewer). */
static uint64_t nth_child(uint64_t d, unsigned int k)
{
	uint64_t c = le64toh(ino(d)->child_ino), last = c;

	while (c && k--) {
		last = c;
		c = le64toh(ino(c)->sibling_ino);
	}
	return c ? c : last;
}

static unsigned int nr_children(uint64_t d)
{
	unsigned int k = 0;
	uint64_t c;

	for (c = le64toh(ino(d)->child_ino); c && k < MAX_INOS;
	     c = le64toh(ino(c)->sibling_ino))
		k++;
	return k;
}

/* Bad inode numbers: past the store, huge, or 0 where 0 is wrong. */
static const uint64_t bad_inos[] = {
	PKERNFS_INODE_COUNT + 1, PKERNFS_INODE_COUNT + 1000, 1ULL << 32,
	1ULL << 63, ~0ULL, 0x100000000001ULL,
};

static uint32_t bad_block(void)
{
	const uint32_t bad[] = {
		0, 1, nr_blocks, nr_blocks + 1, nr_blocks + 1000,
		1U << 31, ~0U, PKERNFS_MAX_BLOCKS,
	};

	return PICK(bad);
}

/* ------------------------------------------------------------------ */
/* The kinds of damage.  Each describes itself in @d and says what must */
/* happen at mount.                                                     */

typedef enum expect (*damage_fn)(char *d, size_t len);

static enum expect flip_bytes(uint8_t *p, size_t span, unsigned int n,
			      char *d, size_t len, const char *where)
{
	size_t off = 0;
	unsigned int i;
	int w;

	w = snprintf(d, len, "%s:", where);
	for (i = 0; i < n; i++) {
		uint8_t x = 1 + below(255);

		off = below(span);
		p[off] ^= x;
		if (w > 0 && (size_t)w < len)
			w += snprintf(d + w, len - w, " +%zu^%#x", off, x);
	}
	return MAY_EITHER;
}

static enum expect d_flip_super(char *d, size_t len)
{
	enum expect e = flip_bytes(reg, sizeof(struct pkernfs_super),
				   1 + below(3), d, len, "flip superblock");

	if (below(2)) {
		seal();
		strncat(d, " (resealed)", len - strlen(d) - 1);
	}
	return e;
}

static enum expect d_flip_inode(char *d, size_t len)
{
	uint64_t n = any_used();
	char where[48];

	snprintf(where, sizeof(where), "flip inode %" PRIu64, n);
	return flip_bytes((uint8_t *)ino(n), PKERNFS_INODE_SIZE, 1 + below(4),
			  d, len, where);
}

static enum expect d_flip_bitmap(char *d, size_t len)
{
	return flip_bytes(bitmap(), nr_blocks / 8 + 2, 1, d, len,
			  "flip bitmap");
}

static enum expect d_flip_table(char *d, size_t len)
{
	uint32_t nr = le32toh(ino(big_ino)->num_mappings);

	return flip_bytes(reg + ((size_t)big_table << PKERNFS_BLOCK_SHIFT),
			  nr * 4, 1 + below(2), d, len, "flip mapping table");
}

static enum expect d_flip_slots(char *d, size_t len)
{
	/* Anywhere among the first slots: used and free ones. */
	return flip_bytes(reg + PKERNFS_INODES_OFFSET,
			  (nr_dirs + nr_files + 8) * PKERNFS_INODE_SIZE,
			  1 + below(3), d, len, "flip inode store");
}

static enum expect d_super_field(char *d, size_t len)
{
	struct pkernfs_super *s = sb();

	switch (below(11)) {
	case 0:
		s->version = htole32(PICK(((uint32_t[]){ 0, 2, 0xffffffff })));
		snprintf(d, len, "version %u", le32toh(s->version));
		break;
	case 1:
		/* A feature this kernel does not know. */
		do {
			s->feature_incompat = htole32(1U << below(32));
		} while (le32toh(s->feature_incompat) &
			 PKERNFS_FEATURE_INCOMPAT_SUPP);
		snprintf(d, len, "feature_incompat %#x",
			 le32toh(s->feature_incompat));
		break;
	case 2:
		s->block_shift = htole32(PICK(((uint32_t[]){ 0, 12, 20, 22, 64 })));
		snprintf(d, len, "block_shift %u", le32toh(s->block_shift));
		break;
	case 3:
		s->inode_size = htole32(PICK(((uint32_t[]){ 0, 256, 511, 1024 })));
		snprintf(d, len, "inode_size %u", le32toh(s->inode_size));
		break;
	case 4:
		s->region_base = htole64(o.base + PICK(((int64_t[]){
			-PKERNFS_BLOCK_SIZE, PKERNFS_BLOCK_SIZE, 4096,
			-(int64_t)o.base })));
		snprintf(d, len, "region_base %#" PRIx64,
			 (uint64_t)le64toh(s->region_base));
		break;
	case 5:
		s->region_size = htole64(o.size + PICK(((int64_t[]){
			-PKERNFS_BLOCK_SIZE, PKERNFS_BLOCK_SIZE,
			-(int64_t)o.size, 1LL << 62 })));
		snprintf(d, len, "region_size %#" PRIx64,
			 (uint64_t)le64toh(s->region_size));
		break;
	case 6:
		s->bitmap_offset = htole64(PICK(((uint64_t[]){ 0, 0x200000, ~0ULL })));
		snprintf(d, len, "bitmap_offset %#" PRIx64,
			 (uint64_t)le64toh(s->bitmap_offset));
		break;
	case 7:
		s->inodes_offset = htole64(PICK(((uint64_t[]){ 0, 0x100000, 1ULL << 40 })));
		snprintf(d, len, "inodes_offset %#" PRIx64,
			 (uint64_t)le64toh(s->inodes_offset));
		break;
	case 8:
		s->inode_count = htole32(PICK(((uint32_t[]){ 0, 4095, 4097, ~0U })));
		snprintf(d, len, "inode_count %u", le32toh(s->inode_count));
		break;
	case 9:
		s->root_ino = htole32(PICK(((uint32_t[]){ 0, 2, 4096, ~0U })));
		snprintf(d, len, "root_ino %u", le32toh(s->root_ino));
		break;
	default:
		s->magic = htole64(le64toh(s->magic) ^ (1ULL << below(64)));
		snprintf(d, len, "magic %#" PRIx64, (uint64_t)le64toh(s->magic));
		break;
	}
	seal();
	return MUST_REFUSE;
}

/* What an older kernel may ignore, or a counter: the mount must work. */
static enum expect d_super_benign(char *d, size_t len)
{
	if (below(2)) {
		sb()->feature_compat = htole32(rnd());
		snprintf(d, len, "feature_compat %#x",
			 le32toh(sb()->feature_compat));
	} else {
		sb()->mount_count = htole64(rnd());
		snprintf(d, len, "mount_count %" PRIu64,
			 (uint64_t)le64toh(sb()->mount_count));
	}
	seal();
	return MUST_ACCEPT;
}

/* A superblock half written: new values, the old checksum. */
static enum expect d_super_torn(char *d, size_t len)
{
	struct pkernfs_super *s = sb();
	size_t from = 8 + below(sizeof(*s) - 8), to, i;

	to = from + 1 + below(sizeof(*s) - from);
	if (from < 12 && to > 8)
		from = 12;	/* keep the old checksum */
	if (from >= to)
		to = from + 1;
	switch (below(3)) {
	case 0:
		for (i = from; i < to; i++)
			reg[i] = 0;
		break;
	case 1:
		for (i = from; i < to; i++)
			reg[i] = rnd();
		break;
	default:
		s->next_free_ino = htole64(le64toh(s->next_free_ino) + 1);
		from = offsetof(struct pkernfs_super, next_free_ino);
		to = from + 8;
		break;
	}
	snprintf(d, len, "torn superblock: bytes [%zu, %zu) rewritten", from, to);
	/* Zeroing zeroes may change nothing. */
	return memcmp(reg, pristine, sizeof(*s)) ? MUST_REFUSE : MUST_ACCEPT;
}

static enum expect d_free_head(char *d, size_t len)
{
	uint64_t v;
	enum expect e = MUST_REFUSE;

	switch (below(4)) {
	case 0:
		v = PICK(bad_inos);
		break;
	case 1:
		v = any_used();
		break;
	case 2:
		v = PKERNFS_ROOT_INO;
		break;
	default:
		v = 0;		/* "store full": the free slots are leaked */
		e = MUST_ACCEPT;
		break;
	}
	sb()->next_free_ino = htole64(v);
	seal();
	snprintf(d, len, "free list head %#" PRIx64, v);
	return e;
}

static enum expect d_free_list(char *d, size_t len)
{
	unsigned int i = below(nr_frees - 1), j = i + 1 + below(nr_frees - 1 - i);

	switch (below(4)) {
	case 0:
		ino(frees[j])->sibling_ino = htole64(frees[i]);
		snprintf(d, len, "free list loop: %" PRIu64 " -> %" PRIu64,
			 frees[j], frees[i]);
		return MUST_REFUSE;
	case 1:
		ino(frees[i])->sibling_ino = htole64(any_used());
		snprintf(d, len, "free inode %" PRIu64 " -> used inode %" PRIu64,
			 frees[i], (uint64_t)le64toh(ino(frees[i])->sibling_ino));
		return MUST_REFUSE;
	case 2:
		ino(frees[j])->flags = htole32(PKERNFS_INODE_FLAG_FILE);
		ino(frees[j])->mode = htole32(S_IFREG | 0644);
		snprintf(d, len, "free inode %" PRIu64 " marked in use", frees[j]);
		return MUST_REFUSE;
	default:
		/* Skip one: it is leaked, and given back at mount. */
		ino(frees[i])->sibling_ino = ino(frees[i + 1])->sibling_ino;
		snprintf(d, len, "free inode %" PRIu64 " dropped from the free list",
			 frees[i + 1]);
		return MUST_ACCEPT;
	}
}

static enum expect d_dir_list(char *d, size_t len)
{
	uint64_t dir = dir_with(2), first, last, other;
	unsigned int n = nr_children(dir);

	first = nth_child(dir, 0);
	last = nth_child(dir, n - 1);
	switch (below(6)) {
	case 0:
		ino(last)->sibling_ino = htole64(first);
		snprintf(d, len, "dir %" PRIu64 ": last entry %" PRIu64 " -> first %" PRIu64,
			 dir, last, first);
		break;
	case 1:
		ino(last)->sibling_ino = htole64(last);
		snprintf(d, len, "dir %" PRIu64 ": entry %" PRIu64 " -> itself",
			 dir, last);
		break;
	case 2:
		other = dirs[below(nr_dirs)];
		dir = dirs[below(nr_dirs)];
		ino(dir)->child_ino = htole64(other);
		snprintf(d, len, "directory %" PRIu64 " lists directory %" PRIu64,
			 dir, other);
		/* Harmless only if it already did. */
		if (!memcmp(reg + PKERNFS_INODES_OFFSET,
			    pristine + PKERNFS_INODES_OFFSET, PKERNFS_BLOCK_SIZE))
			return MUST_ACCEPT;
		/*
		 * If the other directory was further down the same list, the
		 * entries before it are dropped, which the mount recovers;
		 * anything else lists a directory twice.
		 */
		return other != dir && le64toh(ino(other)->parent_ino) == dir ?
		       MUST_ACCEPT : MUST_REFUSE;
	case 3:
		ino(dir)->child_ino = htole64(PKERNFS_ROOT_INO);
		snprintf(d, len, "dir %" PRIu64 " lists the root", dir);
		break;
	case 4:
		/* Unsorted: swap the first two entries. */
		other = nth_child(dir, 1);
		ino(first)->sibling_ino = ino(other)->sibling_ino;
		ino(other)->sibling_ino = htole64(first);
		ino(dir)->child_ino = htole64(other);
		snprintf(d, len, "dir %" PRIu64 ": entries %" PRIu64 " and %" PRIu64 " swapped",
			 dir, first, other);
		break;
	default:
		/*
		 * An entry dropped, as a create or a rename cut short leaves
		 * it: its inode names the directory, so the mount links it
		 * back.
		 */
		other = nth_child(dir, 1);
		ino(first)->sibling_ino = ino(other)->sibling_ino;
		snprintf(d, len, "dir %" PRIu64 ": entry %" PRIu64 " dropped",
			 dir, other);
		return MUST_ACCEPT;
	}
	return MUST_REFUSE;
}

static enum expect d_ino_range(char *d, size_t len)
{
	uint64_t n = any_used(), v = PICK(bad_inos);
	struct pkernfs_inode *pi = ino(n);
	bool is_dir = le32toh(pi->flags) & PKERNFS_INODE_FLAG_DIR;

	switch (below(3)) {
	case 0:
		if (n == PKERNFS_ROOT_INO)
			n = files[0], pi = ino(n);
		pi->sibling_ino = htole64(v);
		snprintf(d, len, "inode %" PRIu64 " sibling %#" PRIx64, n, v);
		return MUST_REFUSE;
	case 1:
		pi->child_ino = htole64(v);
		snprintf(d, len, "inode %" PRIu64 " child %#" PRIx64, n, v);
		/* A file's child_ino is unused. */
		return is_dir ? MUST_REFUSE : MAY_EITHER;
	default:
		pi->parent_ino = htole64(below(2) || n == PKERNFS_ROOT_INO ? v : n);
		snprintf(d, len, "inode %" PRIu64 " parent %#" PRIx64, n,
			 (uint64_t)le64toh(pi->parent_ino));
		return MUST_REFUSE;
	}
}

static enum expect d_orphan_list(char *d, size_t len)
{
	switch (below(3)) {
	case 0:
		sb()->orphan_ino = htole64(PICK(bad_inos));
		break;
	case 1:
		sb()->orphan_ino = htole64(any_used());
		break;
	default:
		sb()->orphan_ino = htole64(frees[below(nr_frees)]);
		break;
	}
	seal();
	snprintf(d, len, "orphan list head %#" PRIx64,
		 (uint64_t)le64toh(sb()->orphan_ino));
	return MUST_REFUSE;
}

/* Take free inodes off the free list and make them orphan files. */
static void make_orphan(uint64_t n, uint64_t next, uint32_t blk)
{
	struct pkernfs_inode *pi = ino(n);

	memset(pi, 0, sizeof(*pi));
	pi->flags = htole32(PKERNFS_INODE_FLAG_FILE | PKERNFS_INODE_FLAG_ORPHAN);
	pi->mode = htole32(S_IFREG | 0600);
	pi->sibling_ino = htole64(next);
	pi->parent_ino = htole64(PKERNFS_ROOT_INO);
	pi->name_len = htole16(6);
	memcpy(pi->name, "orphan", 6);
	if (blk) {
		pi->num_mappings = htole32(1);
		pi->blocks[0] = htole32(blk);
		pi->size = htole64(1 + below(PKERNFS_BLOCK_SIZE));
		bit_set(blk, true);
	}
}

static enum expect d_orphans(char *d, size_t len)
{
	uint64_t a = frees[0], b = frees[1];
	uint32_t blk = free_block();
	enum expect e = MUST_ACCEPT;
	unsigned int v = below(5);

	/* Both come off the head of the free list. */
	sb()->next_free_ino = ino(b)->sibling_ino;
	make_orphan(a, b, blk);
	make_orphan(b, 0, 0);
	sb()->orphan_ino = htole64(a);
	switch (v) {
	case 0:
		snprintf(d, len, "orphans %" PRIu64 " (block %u) and %" PRIu64,
			 a, blk, b);
		break;
	case 1:
		ino(b)->sibling_ino = htole64(a);
		snprintf(d, len, "orphan list loop %" PRIu64 " <-> %" PRIu64, a, b);
		e = MUST_REFUSE;
		break;
	case 2:
		ino(b)->nlink = htole32(1);
		snprintf(d, len, "orphan %" PRIu64 " with a link", b);
		e = MUST_REFUSE;
		break;
	case 3:
		ino(a)->flags = htole32(PKERNFS_INODE_FLAG_FILE);
		snprintf(d, len, "orphan %" PRIu64 " without the orphan flag", a);
		e = MUST_REFUSE;
		break;
	default:
		ino(b)->sibling_ino = htole64(files[below(nr_files)]);
		snprintf(d, len, "orphan list runs into the tree at %" PRIu64,
			 (uint64_t)le64toh(ino(b)->sibling_ino));
		e = MUST_REFUSE;
		break;
	}
	seal();
	return e;
}

static enum expect d_blocks(char *d, size_t len)
{
	uint64_t f = file_with_blocks(), g;
	uint32_t nr = le32toh(ino(f)->num_mappings), k = below(nr), blk;
	__le32 *list = block_list(reg, f);

	switch (below(7)) {
	case 0:
		blk = bad_block();
		list[k] = htole32(blk);
		snprintf(d, len, "inode %" PRIu64 " block[%u] = %u", f, k, blk);
		return MUST_REFUSE;
	case 1:
		g = file_with_blocks();
		blk = le32toh(block_list(reg, g)[below(le32toh(ino(g)->num_mappings))]);
		if (blk == le32toh(list[k]))
			blk = big_table;
		list[k] = htole32(blk);
		snprintf(d, len, "inode %" PRIu64 " block[%u] = %u, cross-linked",
			 f, k, blk);
		return MUST_REFUSE;
	case 2:
		blk = free_block();
		list[k] = htole32(blk);
		snprintf(d, len, "inode %" PRIu64 " block[%u] = free block %u",
			 f, k, blk);
		return blk ? MUST_REFUSE : MAY_EITHER;
	case 3:
		/* Moved to a free block marked in use: the old one leaks. */
		blk = free_block();
		if (!blk)
			return MAY_EITHER;
		list[k] = htole32(blk);
		bit_set(blk, true);
		snprintf(d, len, "inode %" PRIu64 " block[%u] moved to block %u",
			 f, k, blk);
		return MUST_ACCEPT;
	case 4:
		blk = bad_block();
		ino(big_ino)->mappings_block = htole32(below(2) ? blk : 0);
		snprintf(d, len, "inode %" PRIu64 " mapping table %u", big_ino,
			 le32toh(ino(big_ino)->mappings_block));
		return MUST_REFUSE;
	case 5:
		ino(big_ino)->mappings_block =
			htole32(le32toh(block_list(reg, big_ino)[0]));
		snprintf(d, len, "inode %" PRIu64 " mapping table is its own data block",
			 big_ino);
		return MUST_REFUSE;
	default:
		/* The region's own metadata blocks. */
		blk = below(2);
		list[k] = htole32(blk);
		snprintf(d, len, "inode %" PRIu64 " block[%u] = metadata block %u",
			 f, k, blk);
		return MUST_REFUSE;
	}
}

static enum expect d_size(char *d, size_t len)
{
	uint64_t f = files[below(nr_files)], size;
	struct pkernfs_inode *pi = ino(f);
	uint32_t nr = le32toh(pi->num_mappings);

	switch (below(6)) {
	case 0:
		size = ((uint64_t)nr << PKERNFS_BLOCK_SHIFT) +
		       PICK(((uint64_t[]){ 1, 4096, PKERNFS_BLOCK_SIZE }));
		pi->size = htole64(size);
		snprintf(d, len, "inode %" PRIu64 " size %" PRIu64 " with %u blocks",
			 f, size, nr);
		return MUST_REFUSE;
	case 1:
		size = PICK(((uint64_t[]){ 1ULL << 62, ~0ULL, 1ULL << 63 }));
		pi->size = htole64(size);
		snprintf(d, len, "inode %" PRIu64 " size %#" PRIx64, f, size);
		return MUST_REFUSE;
	case 2:
		size = below(le64toh(pi->size) + 1);
		pi->size = htole64(size);
		snprintf(d, len, "inode %" PRIu64 " size %" PRIu64 " (smaller)",
			 f, size);
		return MUST_ACCEPT;
	case 3:
		nr = PICK(((uint32_t[]){ PKERNFS_TABLE_BLOCKS + 1, ~0U, 1U << 31,
					 PKERNFS_INLINE_BLOCKS + 1 }));
		if (f == big_ino && nr == PKERNFS_INLINE_BLOCKS + 1)
			nr = ~0U;
		pi->num_mappings = htole32(nr);
		snprintf(d, len, "inode %" PRIu64 " num_mappings %u", f, nr);
		return MUST_REFUSE;
	case 4:
		f = dirs[below(nr_dirs)];
		ino(f)->size = htole64(1 + below(1 << 20));
		snprintf(d, len, "directory %" PRIu64 " has a size", f);
		return MUST_REFUSE;
	default:
		/* One block more than the list holds: entry nr is 0. */
		f = file_with_blocks();
		pi = ino(f);
		nr = le32toh(pi->num_mappings);
		if (nr == PKERNFS_INLINE_BLOCKS || pi->mappings_block)
			return MAY_EITHER;
		pi->num_mappings = htole32(nr + 1);
		snprintf(d, len, "inode %" PRIu64 " num_mappings %u", f, nr + 1);
		return MUST_REFUSE;
	}
}

static enum expect d_name(char *d, size_t len)
{
	uint64_t n = files[below(nr_files)], dir, a, b;
	struct pkernfs_inode *pi;
	uint16_t l;
	unsigned int i;

	if (below(2))
		n = dirs[1 + below(nr_dirs - 1)];
	pi = ino(n);
	switch (below(6)) {
	case 0:
		pi->name_len = htole16(PICK(((uint16_t[]){ 0, 256, 0xffff })));
		snprintf(d, len, "inode %" PRIu64 " name_len %u", n,
			 le16toh(pi->name_len));
		return MUST_REFUSE;
	case 1:
		l = le16toh(pi->name_len);
		pi->name[below(l)] = below(2) ? '/' : '\0';
		snprintf(d, len, "inode %" PRIu64 " name has a '/' or NUL", n);
		return MUST_REFUSE;
	case 2:
		l = 1 + below(2);
		memcpy(pi->name, "..", l);
		pi->name_len = htole16(l);
		snprintf(d, len, "inode %" PRIu64 " named '%.*s'", n, l, "..");
		return MUST_REFUSE;
	case 3:
		dir = dir_with(2);
		a = nth_child(dir, 0);
		b = nth_child(dir, 1 + below(nr_children(dir) - 1));
		ino(b)->name_len = ino(a)->name_len;
		memcpy(ino(b)->name, ino(a)->name, sizeof(ino(a)->name));
		snprintf(d, len, "dir %" PRIu64 ": %" PRIu64 " named like %" PRIu64,
			 dir, b, a);
		return MUST_REFUSE;
	case 4:
		/* A long, new, valid name. */
		l = PKERNFS_NAME_LEN - below(4);
		for (i = 0; i < l; i++)
			pi->name[i] = 'A' + below(26);
		pi->name_len = htole16(l);
		snprintf(d, len, "inode %" PRIu64 " renamed to %u random letters",
			 n, l);
		return MUST_ACCEPT;
	default:
		/* Bytes past name_len are not part of the name. */
		l = le16toh(pi->name_len);
		memset(pi->name + l, 'x', PKERNFS_NAME_LEN - l);
		snprintf(d, len, "inode %" PRIu64 " name padded with junk", n);
		return MAY_EITHER;
	}
}

static enum expect d_mode(char *d, size_t len)
{
	uint64_t n = any_used();
	struct pkernfs_inode *pi = ino(n);
	bool is_dir = le32toh(pi->flags) & PKERNFS_INODE_FLAG_DIR;
	uint32_t v;

	switch (below(4)) {
	case 0:
		v = PICK(((uint32_t[]){ S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO,
					S_IFSOCK, 0, S_IFDIR, S_IFREG }));
		if (v == (is_dir ? S_IFDIR : S_IFREG))
			v = S_IFLNK;
		pi->mode = htole32(v | 0755);
		snprintf(d, len, "inode %" PRIu64 " mode %#o", n, v | 0755);
		return MUST_REFUSE;
	case 1:
		v = PICK(((uint32_t[]){ 0, PKERNFS_INODE_FLAG_FILE | PKERNFS_INODE_FLAG_DIR,
					PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES,
					PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES,
					1U << 10, 1U << 31,
					PKERNFS_INODE_FLAG_ORPHAN }));
		if (v == PKERNFS_INODE_FLAG_ORPHAN)
			v |= is_dir ? PKERNFS_INODE_FLAG_DIR : PKERNFS_INODE_FLAG_FILE;
		else if (v >= 1U << 10)
			v |= le32toh(pi->flags);
		pi->flags = htole32(v);
		snprintf(d, len, "inode %" PRIu64 " flags %#x", n, v);
		return MUST_REFUSE;
	case 2:
		v = is_dir ? PICK(((uint32_t[]){ 0, 1, 3 })) :
			     PICK(((uint32_t[]){ 0, 2, ~0U }));
		if (v == le32toh(pi->nlink))
			v++;
		pi->nlink = htole32(v);
		snprintf(d, len, "inode %" PRIu64 " nlink %u", n, v);
		/* A directory's count is recomputed, as after a cut mkdir. */
		return is_dir ? MUST_ACCEPT : MUST_REFUSE;
	default:
		/* Any permission bits are fine. */
		v = (le32toh(pi->mode) & S_IFMT) | below(07777 + 1);
		pi->mode = htole32(v);
		snprintf(d, len, "inode %" PRIu64 " mode %#o", n, v);
		return MUST_ACCEPT;
	}
}

/* Owners, times and the generation are not checked: anything goes. */
static enum expect d_attrs(char *d, size_t len)
{
	uint64_t n = any_used();
	struct pkernfs_inode *pi = ino(n);

	pi->uid = htole32(PICK(((uint32_t[]){ 1000, 65534, ~0U, 0x7fffffff })));
	pi->gid = htole32(rnd());
	pi->atime_sec = htole64(rnd());
	pi->mtime_sec = htole64(PICK(((uint64_t[]){ 0, ~0ULL, 1ULL << 63,
						      (1ULL << 63) - 1 })));
	pi->ctime_sec = htole64(rnd() >> below(64));
	pi->atime_nsec = htole32(rnd());
	pi->mtime_nsec = htole32(999999999);
	pi->ctime_nsec = htole32(~0U);
	pi->generation = htole32(rnd());
	snprintf(d, len, "inode %" PRIu64 ": odd owner %u:%u and times", n,
		 le32toh(pi->uid), le32toh(pi->gid));
	return MUST_ACCEPT;
}

static enum expect d_bitmap(char *d, size_t len)
{
	uint64_t f = file_with_blocks(), blk;

	switch (below(4)) {
	case 0:
		blk = le32toh(block_list(reg, f)[0]);
		bit_set(blk, false);
		snprintf(d, len, "block %" PRIu64 " of inode %" PRIu64 " marked free",
			 blk, f);
		return MUST_REFUSE;
	case 1:
		blk = below(2);
		bit_set(blk, false);
		snprintf(d, len, "metadata block %" PRIu64 " marked free", blk);
		return MUST_REFUSE;
	case 2:
		blk = nr_blocks + below(PKERNFS_MAX_BLOCKS - nr_blocks);
		bit_set(blk, true);
		snprintf(d, len, "block %" PRIu64 " past the region marked used",
			 blk);
		return MUST_REFUSE;
	default:
		blk = free_block();
		if (!blk)
			return MAY_EITHER;
		bit_set(blk, true);
		snprintf(d, len, "free block %" PRIu64 " marked used (leaked)",
			 blk);
		return MUST_ACCEPT;
	}
}

/*
 * The IOMMU files: the region of a domain page-table file must be its own
 * block, and DMA marks may sit on a file or a domain page-table file only,
 * in a region that announces them.
 */
static enum expect d_iommu(char *d, size_t len)
{
	struct pkernfs_inode *dom = ino(dom_file);
	bool marks = le32toh(sb()->feature_incompat) &
		     PKERNFS_FEATURE_INCOMPAT_DMA_MARKS;
	uint32_t blk;
	uint64_t n;

	switch (below(5)) {
	case 0:
		blk = PICK(((uint32_t[]){ 0, nr_blocks, big_table,
			le32toh(ino(root_pgtables)->mappings_block),
			le32toh(block_list(pristine, file_with_blocks())[0]),
			free_block() }));
		dom->mappings_block = htole32(blk);
		snprintf(d, len, "domain file %" PRIu64 ": region block %u",
			 dom_file, blk);
		return MUST_REFUSE;
	case 1:
		if (below(2)) {
			dom->size = htole64(PICK(((uint64_t[]){ 0, 4096,
				2 * PKERNFS_BLOCK_SIZE })));
			snprintf(d, len, "domain file %" PRIu64 ": size %" PRIu64,
				 dom_file, (uint64_t)le64toh(dom->size));
		} else {
			dom->num_mappings = htole32(1);
			dom->blocks[0] = htole32(free_block());
			snprintf(d, len, "domain file %" PRIu64 ": a data block",
				 dom_file);
		}
		return MUST_REFUSE;
	case 2:
		n = below(2) ? dom_file : files[below(nr_files)];
		ino(n)->flags |= htole32(PKERNFS_INODE_FLAG_DMA);
		snprintf(d, len, "inode %" PRIu64 ": DMA mark%s", n,
			 marks ? "" : ", feature off");
		return marks ? MUST_ACCEPT : MUST_REFUSE;
	case 3:
		n = PICK(((uint64_t[]){ iommu_dir, root_pgtables,
					dirs[below(nr_dirs)] }));
		ino(n)->flags |= htole32(PKERNFS_INODE_FLAG_DMA);
		snprintf(d, len, "inode %" PRIu64 ": DMA mark on a type no domain uses",
			 n);
		return MUST_REFUSE;
	default:
		/* A second root-pgtables, or one under another name. */
		n = below(2) ? dom_file : root_pgtables;
		ino(n)->flags = htole32(PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES);
		if (n == root_pgtables)
			memcpy(ino(n)->name, "root-pgtableZ", 13);
		snprintf(d, len, "inode %" PRIu64 ": root-pgtables type or name",
			 n);
		return MUST_REFUSE;
	}
}

static enum expect d_reserved(char *d, size_t len)
{
	uint64_t n = any_used();
	struct pkernfs_inode *pi = ino(n);

	if (below(2)) {
		pi->reserved[below(sizeof(pi->reserved))] = 1 + below(255);
		snprintf(d, len, "inode %" PRIu64 " reserved bytes set", n);
	} else {
		sb()->reserved[below(sizeof(sb()->reserved))] = 1 + below(255);
		seal();
		snprintf(d, len, "superblock reserved bytes set (resealed)");
	}
	return MAY_EITHER;
}

struct kind {
	const char *name;
	damage_fn fn;
	unsigned int cases, refused, accepted, bad;
};

static struct kind kinds[] = {
	{ "random flips in the superblock", d_flip_super },
	{ "random flips in an inode", d_flip_inode },
	{ "random flips in the bitmap", d_flip_bitmap },
	{ "random flips in the mapping table", d_flip_table },
	{ "random flips in the inode store", d_flip_slots },
	{ "bad superblock field", d_super_field },
	{ "benign superblock change", d_super_benign },
	{ "torn superblock", d_super_torn },
	{ "bad free list head", d_free_head },
	{ "free list damage", d_free_list },
	{ "directory list damage", d_dir_list },
	{ "out-of-range inode numbers", d_ino_range },
	{ "bad orphan list head", d_orphan_list },
	{ "orphans, good and bad", d_orphans },
	{ "bad and cross-linked blocks", d_blocks },
	{ "wrong sizes", d_size },
	{ "bad names", d_name },
	{ "bad modes, flags and link counts", d_mode },
	{ "odd owners and times", d_attrs },
	{ "bitmap damage", d_bitmap },
	{ "reserved bytes", d_reserved },
	{ "IOMMU files and DMA marks", d_iommu },
};

#define NR_KINDS	ARRAY_SIZE(kinds)

/* ------------------------------------------------------------------ */

static int map_region(void)
{
	int fd = open("/dev/mem", O_RDWR | O_SYNC);

	if (fd < 0)
		return -errno;
	reg = mmap(NULL, o.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		   o.base);
	close(fd);
	if (reg == MAP_FAILED) {
		reg = NULL;
		return -errno;
	}
	return 0;
}

/* Put back what a case may have changed: metadata and the table. */
static void restore(void)
{
	memcpy(reg, pristine, META_BYTES);
	if (big_table)
		memcpy(reg + ((size_t)big_table << PKERNFS_BLOCK_SHIFT),
		       pristine + ((size_t)big_table << PKERNFS_BLOCK_SHIFT),
		       PKERNFS_BLOCK_SIZE);
}

static void kmsg_skip(void)
{
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);
}

/* The first new kernel log line from pkernfs, in @buf; false if none. */
static bool kmsg_pkernfs(char *buf, size_t len)
{
	char rec[1024];
	bool found = false;
	ssize_t n;

	buf[0] = '\0';
	if (kmsg < 0)
		return false;
	for (;;) {
		char *msg;

		n = read(kmsg, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		if (!found && !strncmp(msg, "pkernfs", 7)) {
			snprintf(buf, len, "%.250s", msg);
			found = true;
		}
	}
	return found;
}

/* Run pkernfs-fsck on the region; its exit status, output in @out. */
static int run_fsck(char *out, size_t len)
{
	char base[32], size[32];
	int pipefd[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	snprintf(base, sizeof(base), "%#" PRIx64, o.base);
	snprintf(size, sizeof(size), "%" PRIu64, o.size);
	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execl(o.fsck, o.fsck, "--base", base, "--size", size,
		      "/dev/mem", (char *)NULL);
		perror(o.fsck);
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], out + got, len - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static int write_file(const char *path, uint64_t size)
{
	char buf[4096];
	uint64_t done = 0;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return -errno;
	memset(buf, 0xa5, sizeof(buf));
	if (size > (16ULL << 20)) {
		if (ftruncate(fd, size))
			goto fail;
		done = size - sizeof(buf);
	}
	while (done < size) {
		size_t n = size - done < sizeof(buf) ? size - done : sizeof(buf);

		if (pwrite(fd, buf, n, done) != (ssize_t)n)
			goto fail;
		done += n;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	return -errno;
}

/* The pristine tree: every kind of entry the format has. */
static int build_tree(void)
{
	static const struct { const char *path; int64_t size; } tree[] = {
		{ "a", -1 }, { "a/f1", 5000 }, { "a/f2", PKERNFS_BLOCK_SIZE },
		{ "a/sub", -1 }, { "a/sub/g", 0 }, { "a/sub/h", 3 << 20 },
		{ "b", -1 }, { "big", BIG_FILE_SIZE }, { "e", 0 },
		{ "c1", 1 }, { "c2", 100 }, { "c3", 0 }, { "c4", 4096 },
		{ "a/sub/deeper", -1 }, { "a/sub/deeper/x", 10 },
		/* A domain page-table file: the kernel gives it a region. */
		{ "iommu/dom-c", 0 },
	};
	char path[512];
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(tree); i++) {
		snprintf(path, sizeof(path), "%s/%s", o.mnt, tree[i].path);
		if (tree[i].size < 0)
			err = mkdir(path, 0755) ? -errno : 0;
		else
			err = write_file(path, tree[i].size);
		if (err) {
			ksft_print_msg("create %s: %s\n", path, strerror(-err));
			return err;
		}
	}
	return 0;
}

static void scan_iommu_dir(uint64_t dir)
{
	uint64_t n;
	uint32_t type;

	for (n = le64toh(inode_in(pristine, dir)->child_ino);
	     n && n <= PKERNFS_INODE_COUNT;
	     n = le64toh(inode_in(pristine, n)->sibling_ino)) {
		type = le32toh(inode_in(pristine, n)->flags) &
		       PKERNFS_INODE_TYPE_MASK;
		if (type == PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES)
			root_pgtables = n;
		else if (type == PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES)
			dom_file = n;
	}
}

/* Learn the pristine tree from the saved image. */
static int scan_pristine(void)
{
	struct pkernfs_super *s = (struct pkernfs_super *)pristine;
	uint64_t queue[MAX_INOS], n;
	unsigned int head = 0, tail = 0;

	nr_blocks = o.size >> PKERNFS_BLOCK_SHIFT;
	queue[tail++] = PKERNFS_ROOT_INO;
	while (head < tail) {
		uint64_t dir = queue[head++];

		dirs[nr_dirs++] = dir;
		for (n = le64toh(inode_in(pristine, dir)->child_ino); n;
		     n = le64toh(inode_in(pristine, n)->sibling_ino)) {
			struct pkernfs_inode *pi = inode_in(pristine, n);

			if (n > PKERNFS_INODE_COUNT || tail >= MAX_INOS ||
			    nr_files >= MAX_INOS)
				return -1;
			/*
			 * The iommu directory belongs to the kernel and the
			 * hardware walks what it holds: only d_iommu and the
			 * random flips damage it.
			 */
			if (le32toh(pi->flags) & PKERNFS_INODE_FLAG_IOMMU_DIR) {
				iommu_dir = n;
				scan_iommu_dir(n);
				continue;
			}
			if (le32toh(pi->flags) & PKERNFS_INODE_FLAG_DIR) {
				queue[tail++] = n;
				continue;
			}
			files[nr_files++] = n;
			if (pi->mappings_block) {
				big_ino = n;
				big_table = le32toh(pi->mappings_block);
			}
		}
	}
	for (n = le64toh(s->next_free_ino); n && nr_frees < MAX_INOS;
	     n = le64toh(inode_in(pristine, n)->sibling_ino))
		frees[nr_frees++] = n;
	return big_ino && nr_dirs >= 3 && nr_files >= 4 && nr_frees >= 8 &&
	       root_pgtables && dom_file ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* What a mount that was let through must survive.                      */

#define E(err)		(1ULL << (err))

struct ex {
	char why[256];
	unsigned int files, dirs;
	int sum;
};

/*
 * ex_fail() - an operation of the exercise failed with errno: a fault of
 * the mount, unless errno is in @allowed (a bit mask of E(errno) values).
 */
static bool ex_fail(struct ex *ex, unsigned long long allowed,
		    const char *what, const char *path)
{
	int err = errno;

	if (err > 0 && err < 64 && (allowed & E(err)))
		return true;
	if (!ex->why[0])
		snprintf(ex->why, sizeof(ex->why), "%s %.200s: %s", what, path,
			 strerror(err));
	return false;
}

/*
 * The errnos the exercise accepts, and only where they apply.  EACCES:
 * damaged owners can be ids the VFS cannot map (uid -1), and then not even
 * root may pass a directory or open a file whose mode shuts others out.
 * ENOSPC: only for what allocates an inode or a block.  EINVAL and ENODEV:
 * the kernel-owned page-table files in iommu/ have no read or mmap.
 */
#define EX_PATH		E(EACCES)
#define EX_ALLOC	(E(EACCES) | E(ENOSPC))
#define EX_PGTABLE_READ	E(EINVAL)
#define EX_PGTABLE_MMAP	E(ENODEV)

/* walk() - stat, read and map everything below @path (@pgtables: in iommu/). */
static void walk(struct ex *ex, const char *path, int depth, bool pgtables)
{
	char child[1024];
	struct dirent *de;
	struct stat st;
	DIR *d;

	d = opendir(path);
	if (!d) {
		ex_fail(ex, EX_PATH, "opendir", path);
		return;
	}
	ex->dirs++;
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		if (lstat(child, &st)) {
			ex_fail(ex, EX_PATH, "stat", child);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			if (depth < 16)
				walk(ex, child, depth + 1, pgtables ||
				     (!depth && !strcmp(de->d_name, "iommu")));
			continue;
		}
		if (S_ISREG(st.st_mode)) {
			unsigned long long no_read = pgtables ? EX_PGTABLE_READ : 0;
			char buf[4096];
			ssize_t n;
			off_t off;
			void *map;
			int fd;

			ex->files++;
			fd = open(child, O_RDONLY);
			if (fd < 0) {
				ex_fail(ex, EX_PATH, "open", child);
				continue;
			}
			for (off = 0; off < st.st_size; off += PKERNFS_BLOCK_SIZE)
				if (pread(fd, buf, sizeof(buf), off) < 0)
					ex_fail(ex, no_read, "pread", child);
			n = st.st_size ? pread(fd, buf, 1, st.st_size - 1) : 1;
			if (n < 0) {
				ex_fail(ex, no_read, "pread at EOF", child);
			} else if (n != 1) {
				errno = ENODATA;
				ex_fail(ex, 0, "pread at EOF (short)", child);
			}
			if (st.st_size) {
				map = mmap(NULL, 4096, PROT_READ, MAP_SHARED,
					   fd, 0);
				if (map == MAP_FAILED)
					ex_fail(ex, pgtables ? EX_PGTABLE_MMAP : 0,
						"mmap", child);
				else
					ex->sum += ((char *)map)[0],
					munmap(map, 4096);
			}
			close(fd);
		}
	}
	if (errno)
		ex_fail(ex, 0, "readdir", path);
	closedir(d);
}

static void exercise(struct ex *ex)
{
	char p1[512], p2[512];
	int fd;

	memset(ex, 0, sizeof(*ex));
	walk(ex, o.mnt, 0, false);

	snprintf(p1, sizeof(p1), "%s/.corrupt-new", o.mnt);
	fd = open(p1, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		ex_fail(ex, EX_ALLOC, "create", p1);
	} else {
		if (pwrite(fd, p1, 100, 8192) != 100)
			ex_fail(ex, E(ENOSPC), "pwrite", p1);
		if (ftruncate(fd, 3 << 20))
			ex_fail(ex, E(ENOSPC), "ftruncate", p1);
		if (ftruncate(fd, 10))
			ex_fail(ex, 0, "shrink", p1);
		close(fd);
		snprintf(p2, sizeof(p2), "%s/a/.corrupt-moved", o.mnt);
		if (rename(p1, p2)) {
			/* a/ may be gone or shut (damaged owner or mode). */
			ex_fail(ex, E(ENOENT) | E(ENOTDIR) | EX_PATH, "rename", p1);
			unlink(p1);
		} else if (unlink(p2)) {
			ex_fail(ex, EX_PATH, "unlink", p2);
		}
	}
	snprintf(p1, sizeof(p1), "%s/.corrupt-dir", o.mnt);
	if (mkdir(p1, 0700))
		ex_fail(ex, EX_ALLOC, "mkdir", p1);
	else if (rmdir(p1))
		ex_fail(ex, EX_PATH, "rmdir", p1);
}

/* ------------------------------------------------------------------ */

static bool run_case(unsigned int k, unsigned int *bad)
{
	char desc[256], log[256], out[FSCK_OUT_MAX];
	const char *outcome;
	struct kind *kind;
	enum expect e;
	struct ex ex;
	bool ok = true;
	int rc;

	restore();
	rng = mix64(o.seed ^ mix64(k + 1));
	/*
	 * Kinds in turn, so that every kind gets cases whenever there are at
	 * least NR_KINDS of them; the damage itself is drawn from (seed, k).
	 */
	kind = &kinds[k % NR_KINDS];
	desc[0] = '\0';
	e = kind->fn(desc, sizeof(desc));
	kind->cases++;
	memcpy(snap, reg, META_BYTES);

	kmsg_skip();
	if (mount("none", o.mnt, "pkernfs", 0, NULL)) {
		int err = errno;

		kind->refused++;
		outcome = "refused";
		if (!kmsg_pkernfs(log, sizeof(log))) {
			snprintf(log, sizeof(log), "no pkernfs log line (%s)",
				 strerror(err));
			ok = false;
		}
		if (memcmp(reg, snap, META_BYTES)) {
			snprintf(log, sizeof(log),
				 "the refused mount changed the region");
			ok = false;
		}
		if (e == MUST_ACCEPT) {
			snprintf(out, sizeof(out), "%s", log);
			snprintf(log, sizeof(log), "must be accepted: %.200s",
				 out);
			ok = false;
		}
	} else {
		kind->accepted++;
		outcome = "mounted";
		exercise(&ex);
		if (ex.why[0]) {
			snprintf(log, sizeof(log), "%s", ex.why);
			ok = false;
		} else {
			snprintf(log, sizeof(log), "%u dirs, %u files",
				 ex.dirs, ex.files);
		}
		if (umount(o.mnt)) {
			snprintf(log, sizeof(log), "umount: %s", strerror(errno));
			umount2(o.mnt, MNT_DETACH);
			ok = false;
		}
		rc = run_fsck(out, sizeof(out));
		if (rc) {
			ksft_print_msg("case %u: pkernfs-fsck exit %d:\n%s", k,
				       rc, out);
			snprintf(log, sizeof(log), "pkernfs-fsck exit %d", rc);
			ok = false;
		}
		if (e == MUST_REFUSE) {
			snprintf(log, sizeof(log), "must be refused");
			ok = false;
		}
	}
	if (!ok) {
		kind->bad++;
		(*bad)++;
	}
	if (!ok || o.verbose || o.one_case >= 0)
		ksft_print_msg("case %u [%s, %s] %s: %s: %s%s\n", k, kind->name,
			       expect_name[e], desc, outcome, log,
			       ok ? "" : "  <-- FAIL");
	else
		ksft_print_msg("case %u %s: %s\n", k, outcome, desc);
	return ok;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: pkernfs_corrupt --base ADDR --size SIZE [--seed N] [--cases N]\n"
		"       [--case K] [--fsck PATH] [--mnt DIR] [--image FILE] [-v]\n");
	exit(KSFT_FAIL);
}

static uint64_t parse_num(const char *s)
{
	char *end;
	uint64_t v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		usage();
	if (*end == 'G' || *end == 'M' || *end == 'K') {
		v <<= *end == 'G' ? 30 : *end == 'M' ? 20 : 10;
		end++;
	}
	if (*end)
		usage();
	return v;
}

static void parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "cases", required_argument, NULL, 'n' },
		{ "case", required_argument, NULL, 'c' },
		{ "fsck", required_argument, NULL, 'f' },
		{ "mnt", required_argument, NULL, 'm' },
		{ "image", required_argument, NULL, 'i' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o.seed = getpid() ^ time(NULL);
	while ((c = getopt_long(argc, argv, "b:s:S:n:c:f:m:i:v", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'b':
			o.base = parse_num(optarg);
			break;
		case 's':
			o.size = parse_num(optarg);
			break;
		case 'S':
			o.seed = parse_num(optarg);
			break;
		case 'n':
			o.cases = parse_num(optarg);
			break;
		case 'c':
			o.one_case = parse_num(optarg);
			break;
		case 'f':
			o.fsck = optarg;
			break;
		case 'm':
			o.mnt = optarg;
			break;
		case 'i':
			o.image = optarg;
			break;
		case 'v':
			o.verbose = true;
			break;
		default:
			usage();
		}
	}
	if (!o.base || !o.size || optind != argc)
		usage();
}

static int save_image(void)
{
	int fd = open(o.image, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	bool ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, pristine, o.size) == (ssize_t)o.size;
	close(fd);
	return ok ? 0 : -EIO;
}

int main(int argc, char **argv)
{
	char out[FSCK_OUT_MAX];
	unsigned int k, first, last, bad = 0, refused = 0, mounted = 0, i;
	bool scanned;
	struct kind *kd;
	int rc;

	parse(argc, argv);
	ksft_print_header();
	ksft_set_plan(2 + NR_KINDS);
	ksft_print_msg("seed %" PRIu64 " (replay: pkernfs_corrupt --seed %" PRIu64 " --case K)\n",
		       o.seed, o.seed);

	if (geteuid())
		ksft_exit_skip("must be run as root\n");
	if (access(o.fsck, X_OK))
		ksft_exit_skip("%s not found\n", o.fsck);
	rc = map_region();
	if (rc)
		ksft_exit_fail_msg("cannot map %#" PRIx64 "+%#" PRIx64 " from /dev/mem: %s\n",
				   o.base, o.size, strerror(-rc));
	pristine = malloc(o.size);
	snap = malloc(META_BYTES);
	if (!pristine || !snap)
		ksft_exit_fail_msg("out of memory\n");
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	/* The pristine tree, built through the kernel. */
	if (mount("none", o.mnt, "pkernfs", 0, NULL))
		ksft_exit_fail_msg("mount %s: %s\n", o.mnt, strerror(errno));
	rc = build_tree();
	if (umount(o.mnt) || rc)
		ksft_exit_fail_msg("building the pristine tree failed\n");
	memcpy(pristine, reg, o.size);
	if (save_image())
		ksft_print_msg("cannot save %s\n", o.image);
	rc = run_fsck(out, sizeof(out));
	ksft_print_msg("%s", out);
	scanned = !scan_pristine();
	ksft_test_result(rc == 0 && scanned,
			 "pristine region (%u dirs, %u files, %u-block table at %u) checks clean\n",
			 nr_dirs, nr_files,
			 big_ino ? le32toh(inode_in(pristine, big_ino)->num_mappings) : 0,
			 big_table);
	if (rc || !scanned)
		ksft_exit_fail_msg("no usable pristine region\n");

	first = o.one_case >= 0 ? o.one_case : 0;
	last = o.one_case >= 0 ? o.one_case + 1 : o.cases;
	for (k = first; k < last; k++)
		run_case(k, &bad);
	restore();

	for (i = 0; i < NR_KINDS; i++) {
		kd = &kinds[i];
		refused += kd->refused;
		mounted += kd->accepted;
		if (!kd->cases) {
			/* Only with --case or fewer cases than kinds. */
			ksft_test_result_skip("%s: no case of this kind\n", kd->name);
			continue;
		}
		ksft_test_result(!kd->bad, "%s: %u cases, %u refused, %u mounted clean\n",
				 kd->name, kd->cases, kd->refused,
				 kd->accepted - kd->bad);
	}
	ksft_test_result(!bad, "%u cases with seed %" PRIu64 ": %u refused, %u mounted, %u bad\n",
			 last - first, o.seed, refused, mounted, bad);
	ksft_finished();
}
