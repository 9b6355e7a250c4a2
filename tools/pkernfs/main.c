// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs-fsck: check, dump and repair a pkernfs region.
 *
 * The region is a file holding a copy of it (superblock at offset 0), or the
 * live region through /dev/mem with --base and --size.  Exit codes are
 * e2fsck's: 0 clean, 1 errors corrected, 4 errors left, 8 operational
 * error, 16 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsck.h"

struct pkfs_opts {
	bool repair;
	bool dump;
	struct pkfs_image img;
};

static void pkfs_usage(FILE *out)
{
	fprintf(out,
		"usage: " PKFS_NAME " [--repair] [--dump] [--base ADDR --size SIZE] IMAGE\n"
		"       " PKFS_NAME " [--repair] [--dump] --base ADDR --size SIZE /dev/mem\n"
		"\n"
		"Check a pkernfs region: a file holding a copy of it, or the live\n"
		"region through /dev/mem.  For a file, --base and --size are checked\n"
		"against the superblock.  SIZE takes K, M, G or T.\n"
		"\n"
		"  -r, --repair  fix what can be fixed safely\n"
		"  -d, --dump    print the superblock, inode tree, lists and bitmap\n"
		"  -b, --base    physical address of the region\n"
		"  -s, --size    size of the region in bytes\n"
		"  -h, --help    this text\n"
		"\n"
		"Exit: 0 clean, 1 errors corrected, 4 errors left uncorrected,\n"
		"8 operational error, 16 usage error.\n");
}

static int pkfs_parse_size(const char *arg, uint64_t *val)
{
	char *end;
	unsigned int shift = 0;

	errno = 0;
	*val = strtoull(arg, &end, 0);
	if (errno || end == arg)
		return -1;
	switch (*end) {
	case 'T': case 't':
		shift += 10;
		/* fall through */
	case 'G': case 'g':
		shift += 10;
		/* fall through */
	case 'M': case 'm':
		shift += 10;
		/* fall through */
	case 'K': case 'k':
		shift += 10;
		end++;
		break;
	}
	if (*end || (*val << shift) >> shift != *val)
		return -1;
	*val <<= shift;
	return 0;
}

static int pkfs_parse(struct pkfs_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "repair", no_argument, NULL, 'r' },
		{ "dump", no_argument, NULL, 'd' },
		{ "base", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	while ((c = getopt_long(argc, argv, "rdb:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->repair = true;
			break;
		case 'd':
			o->dump = true;
			break;
		case 'b':
			if (pkfs_parse_size(optarg, &o->img.base))
				goto bad;
			o->img.have_base = true;
			break;
		case 's':
			if (pkfs_parse_size(optarg, &o->img.given_size) ||
			    !o->img.given_size)
				goto bad;
			o->img.have_size = true;
			break;
		case 'h':
			pkfs_usage(stdout);
			exit(PKFS_EXIT_OK);
		default:
			goto bad;
		}
	}
	if (optind != argc - 1)
		goto bad;
	return 0;
bad:
	pkfs_usage(stderr);
	return -1;
}

/* One-line account of the region, printed by every run. */
static void pkfs_summary(struct pkfs_fsck *f)
{
	struct pkernfs_super *s = f->super;
	unsigned int used = 0;
	uint64_t ino, blk, blocks = 0;

	pkfs_msg("%s: format %u, region %#" PRIx64 "+%#" PRIx64 ", mounted %" PRIu64 " times",
		 f->img->path, le32toh(s->version),
		 (uint64_t)le64toh(s->region_base),
		 (uint64_t)le64toh(s->region_size),
		 (uint64_t)le64toh(s->mount_count));
	if (!f->geometry_ok)
		return;
	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++)
		used += !!pkfs_inode(f->img, ino)->flags;
	for (blk = 0; blk < f->nr_blocks; blk++)
		blocks += pkfs_test_bit(f->img, blk);
	pkfs_msg("%s: inodes %u used, %lu free of %lu (%u in the tree, %u orphans); blocks %" PRIu64 " used, %" PRIu64 " free of %u",
		 f->img->path, used, PKERNFS_INODE_COUNT - used,
		 (unsigned long)PKERNFS_INODE_COUNT, f->nr_linked,
		 f->nr_orphans, blocks, f->nr_blocks - blocks, f->nr_blocks);
}

/* After a repair: does the image check clean now? */
static int pkfs_recheck(struct pkfs_image *img)
{
	struct pkfs_fsck f;
	int ret;

	if (pkfs_fsck_init(&f, img)) {
		pkfs_msg("out of memory");
		return PKFS_EXIT_OPERATIONAL;
	}
	pkfs_check(&f);
	if (f.problems || f.fatal) {
		pkfs_msg("%s: %u problems remain after repair", img->path,
			 f.problems);
		ret = PKFS_EXIT_UNFIXED;
	} else {
		pkfs_msg("%s: repaired, now clean", img->path);
		ret = PKFS_EXIT_FIXED;
	}
	pkfs_fsck_free(&f);
	return ret;
}

static int pkfs_conclude(struct pkfs_opts *o, struct pkfs_fsck *f)
{
	const char *path = o->img.path;

	if (!f->problems) {
		pkfs_msg("%s: clean", path);
		return PKFS_EXIT_OK;
	}
	if (!o->repair) {
		pkfs_msg("%s: %u problems, %u of them not fixable; run with --repair to fix",
			 path, f->problems, f->unfixable);
		return PKFS_EXIT_UNFIXED;
	}
	if (f->unfixable) {
		pkfs_msg("%s: %u problems cannot be fixed safely; not repairing anything",
			 path, f->unfixable);
		return PKFS_EXIT_UNFIXED;
	}
	pkfs_repair(f);
	if (pkfs_image_sync(&o->img))
		return PKFS_EXIT_OPERATIONAL;
	return pkfs_recheck(&o->img);
}

/*
 * The live region must not change under a repair: refuse while pkernfs is
 * mounted (there is one region, so any pkernfs mount is this one).
 */
static bool pkfs_live_mounted(void)
{
	FILE *mounts = fopen("/proc/self/mounts", "r");
	char line[4096], type[64];
	bool mounted = false;

	if (!mounts)
		return false;
	while (!mounted && fgets(line, sizeof(line), mounts))
		mounted = sscanf(line, "%*s %*s %63s", type) == 1 &&
			  !strcmp(type, "pkernfs");
	fclose(mounts);
	return mounted;
}

int main(int argc, char **argv)
{
	struct pkfs_opts o = { .img = { .fd = -1 } };
	struct pkfs_fsck f;
	int ret;

	if (pkfs_parse(&o, argc, argv))
		return PKFS_EXIT_USAGE;
	if (pkfs_image_open(&o.img, argv[optind], o.repair))
		return PKFS_EXIT_OPERATIONAL;
	if (o.repair && o.img.devmem && pkfs_live_mounted()) {
		pkfs_msg("%s: pkernfs is mounted; unmount it before --repair",
			 o.img.path);
		pkfs_image_close(&o.img);
		return PKFS_EXIT_OPERATIONAL;
	}
	if (pkfs_fsck_init(&f, &o.img)) {
		pkfs_msg("out of memory");
		pkfs_image_close(&o.img);
		return PKFS_EXIT_OPERATIONAL;
	}
	pkfs_check(&f);
	if (f.fatal) {
		ret = PKFS_EXIT_OPERATIONAL;
	} else {
		if (o.dump)
			pkfs_dump(&f);
		pkfs_summary(&f);
		ret = pkfs_conclude(&o, &f);
	}
	pkfs_fsck_free(&f);
	pkfs_image_close(&o.img);
	return ret;
}
