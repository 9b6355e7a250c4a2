// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs_iommu_craft - damage the VT-d tables kept in pkernfs, through
 * /dev/mem, as a region written by someone else could be.
 *
 * The kernel keeps the root and context tables of the first IOMMU unit in
 * the pkernfs file iommu/root-pgtables (page 1: the root table; pages 2 to
 * 511: context tables), and a persistent domain's page tables in its own
 * file (page 1: the top-level directory).  Run right before a kexec with
 * 'liveupdate', this rewrites one field that the next kernel must refuse to
 * trust:
 *
 *   did	  the device's context entry carries domain id 0, which no
 *		  domain has
 *   asr	  it points at the root table instead of a domain's tables
 *   context-table  the root entry of its bus points at a context table in
 *		  the domain's file (its last page, unused) instead of in
 *		  root-pgtables
 *   leaf	  the page-table entry for IOVA 0 (a 2 MiB one where the
 *		  kernel used one) maps the region's first block (superblock
 *		  and bitmap) instead of guest RAM
 *
 * Each stays within pkernfs, so that the kernel running now, which clears
 * on its way to the kexec every context entry pointing elsewhere, leaves it
 * for the next one.  The next kernel must clear what it refuses, say so in
 * one line, and keep nothing of it.
 *
 * Usage: pkernfs_iommu_craft --base ADDR --size SIZE BDF KIND
 * Prints one line saying what it changed; exits 0 if it did, 1 if not.
 */
#define _GNU_SOURCE
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
#include <unistd.h>

#include "../../../../fs/pkernfs/pkernfs_fs.h"

#define PAGE_4K		4096ULL
#define ENTRY_PRESENT	1ULL
#define DID_MASK	(0xffffULL << 8)	/* in the high word */
#define AW_MASK		7ULL			/* in the high word */
#define PTE_ADDR_MASK	0x000ffffffffff000ULL
#define PTE_SUPERPAGE	(1ULL << 7)		/* a 2 MiB or 1 GiB leaf */

/* A VT-d root or context entry: lo and hi, 64 bits each. */
struct vtd_entry {
	uint64_t lo;
	uint64_t hi;
};

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "pkernfs_iommu_craft: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

/*
 * The page-table entry for IOVA 0 under the top-level directory at @pgd
 * (region offset), @levels deep: index 0 at every level.
 */
static uint64_t *pte_for_iova0(uint8_t *reg, uint64_t base, uint64_t size,
			       uint64_t pgd, unsigned int levels)
{
	uint64_t *pte = (uint64_t *)(reg + pgd);

	while (--levels && !(*pte & PTE_SUPERPAGE)) {
		uint64_t next = *pte & PTE_ADDR_MASK;

		if (!(*pte & 3) || next < base || next - base >= size)
			die("no page table maps IOVA 0%s", "");
		pte = (uint64_t *)(reg + (next - base));
	}
	if (!(*pte & 3))
		die("IOVA 0 is not mapped%s", "");
	return pte;
}

/* The block of the root-pgtables file, or 0. */
static uint32_t root_pgtables_block(const uint8_t *reg)
{
	const struct pkernfs_inode *inodes = (const void *)(reg +
		PKERNFS_INODES_BLOCK * PKERNFS_BLOCK_SIZE);
	unsigned int i;

	for (i = 0; i < PKERNFS_INODE_COUNT; i++)
		if (le32toh(inodes[i].flags) ==
		    PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES)
			return le32toh(inodes[i].mappings_block);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "base", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int bus, dev, fn, devfn;
	uint64_t base = 0, size = 0, root_off, ctx, asr;
	struct vtd_entry *root, *entry;
	const char *kind;
	uint32_t blk;
	uint8_t *reg;
	int fd, opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'b')
			base = strtoull(optarg, NULL, 0);
		else if (opt == 's')
			size = strtoull(optarg, NULL, 0);
		else
			return 1;
	}
	if (argc - optind != 2 || !base || !size)
		die("usage: --base ADDR --size SIZE BDF asr|did|context-table%s",
		    "");
	if (sscanf(argv[optind], "%*x:%x:%x.%x", &bus, &dev, &fn) != 3)
		die("%s: not a PCI address (DDDD:BB:DD.F)", argv[optind]);
	devfn = dev << 3 | fn;
	kind = argv[optind + 1];

	fd = open("/dev/mem", O_RDWR | O_SYNC);
	if (fd < 0)
		die("/dev/mem: %s", strerror(errno));
	reg = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, base);
	if (reg == MAP_FAILED)
		die("mmap /dev/mem: %s", strerror(errno));

	blk = root_pgtables_block(reg);
	if (!blk || (uint64_t)blk * PKERNFS_BLOCK_SIZE >= size)
		die("no iommu/root-pgtables in the region%s", "");
	root_off = (uint64_t)blk * PKERNFS_BLOCK_SIZE + PAGE_4K;
	root = (struct vtd_entry *)(reg + root_off);
	if (!(root[bus].lo & ENTRY_PRESENT))
		die("bus of %s has no context table", argv[optind]);
	ctx = root[bus].lo & ~(PAGE_4K - 1);
	if (ctx < base || ctx - base >= size)
		die("context table of %s is outside the region", argv[optind]);
	entry = (struct vtd_entry *)(reg + (ctx - base)) + devfn;
	if (!(entry->lo & ENTRY_PRESENT))
		die("%s has no context entry: is its domain persistent?",
		    argv[optind]);

	asr = entry->lo & ~(PAGE_4K - 1);
	if (asr < base + PAGE_4K || asr - base >= size)
		die("%s: its page tables are outside the region", argv[optind]);

	/* /dev/mem is mapped uncached (O_SYNC): the stores go to memory. */
	if (!strcmp(kind, "did")) {
		entry->hi &= ~DID_MASK;
	} else if (!strcmp(kind, "asr")) {
		entry->lo = (entry->lo & (PAGE_4K - 1)) | (base + root_off);
	} else if (!strcmp(kind, "context-table")) {
		root[bus].lo = (root[bus].lo & (PAGE_4K - 1)) |
			       (asr - PAGE_4K + PKERNFS_BLOCK_SIZE - PAGE_4K);
	} else if (!strcmp(kind, "leaf")) {
		uint64_t *pte = pte_for_iova0(reg, base, size, asr - base,
					      (entry->hi & AW_MASK) + 2);

		*pte = (*pte & ~PTE_ADDR_MASK) | base;
	} else {
		die("%s: no such kind (did, asr, context-table, leaf)", kind);
	}
	printf("crafted %s: %s context entry %016" PRIx64 ":%016" PRIx64
	       ", root entry %016" PRIx64 "\n", kind, argv[optind],
	       entry->hi, entry->lo, root[bus].lo);
	return 0;
}
