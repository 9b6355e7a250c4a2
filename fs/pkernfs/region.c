// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pkernfs region: the pkernfs= boot parameter and the physical range it
 * names.
 *
 * The range must be kept away from the page allocator with memmap=, so that
 * it is not System RAM and nothing but pkernfs ever writes it; the same
 * arguments are given again to the kernel that is kexec'd into.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/bitmap.h>
#include <linux/kernel.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pkernfs.h>
#include <linux/slab.h>

#include "internal.h"

struct pkernfs_store pkernfs_store = {
	.update_sem = __RWSEM_INITIALIZER(pkernfs_store.update_sem),
	.lock = __MUTEX_INITIALIZER(pkernfs_store.lock),
	.iommu_lock = __SPIN_LOCK_UNLOCKED(pkernfs_store.iommu_lock),
	.pages_lock = __MUTEX_INITIALIZER(pkernfs_store.pages_lock),
	.error = -ENODEV,
};

/*
 * The region is mapped whole with memremap(), without struct pages: file
 * data reaches user space and devices by PFN, and the filesystem needs no
 * more.  IOMMU tables kept in the region need struct pages and a place in
 * the direct map, because the VT-d driver walks them with phys_to_virt().
 * The blocks that hold them, and only those, get both from ZONE_DEVICE
 * when an IOMMU first uses them (pkernfs_region_add_pages()), so that boot
 * does no work for each page of the region, however large it is.  They
 * keep them until the kernel goes: a block that held IOMMU tables and was
 * freed may become file data, which does not mind.
 */
#ifdef CONFIG_ZONE_DEVICE
static int pkernfs_block_add_pages(struct pkernfs_store *store, u32 blk)
{
	struct dev_pagemap *pgmap;
	void *addr;

	pgmap = kzalloc(sizeof(*pgmap), GFP_KERNEL);
	if (!pgmap)
		return -ENOMEM;
	pgmap->type = MEMORY_DEVICE_GENERIC;
	pgmap->nr_range = 1;
	pgmap->range.start = store->base +
			     ((phys_addr_t)blk << PKERNFS_BLOCK_SHIFT);
	pgmap->range.end = pgmap->range.start + PKERNFS_BLOCK_SIZE - 1;
	addr = memremap_pages(pgmap, NUMA_NO_NODE);
	if (IS_ERR(addr)) {
		kfree(pgmap);
		return PTR_ERR(addr);
	}
	/* @pgmap lives as long as the pages, and they as long as the kernel. */
	return 0;
}
#else
static int pkernfs_block_add_pages(struct pkernfs_store *store, u32 blk)
{
	return -EOPNOTSUPP;
}
#endif

/**
 * pkernfs_region_add_pages() - give a block struct pages and a direct map
 * @store: the store, able to hold IOMMU tables (@store->paged_blocks)
 * @blk: a block of the region that holds, or is about to hold, IOMMU tables
 *
 * Sleeps.  Does nothing for a block that has them already.
 *
 * Return: 0 or a negative errno, logged.
 */
int pkernfs_region_add_pages(struct pkernfs_store *store, u32 blk)
{
	int err = 0;

	mutex_lock(&store->pages_lock);
	if (!test_bit(blk, store->paged_blocks)) {
		err = pkernfs_block_add_pages(store, blk);
		if (err)
			pr_err("block %u: no struct pages for IOMMU tables (error %d)\n",
			       blk, err);
		else
			set_bit(blk, store->paged_blocks);
	}
	mutex_unlock(&store->pages_lock);
	return err;
}

/**
 * pkernfs_region_paged() - may the kernel reach a block by its direct map?
 * @store: the store
 * @blk: a block of the region
 *
 * Return: true once pkernfs_region_add_pages() gave @blk its pages.
 */
bool pkernfs_region_paged(struct pkernfs_store *store, u32 blk)
{
	return store->paged_blocks && blk < store->nr_blocks &&
	       test_bit(blk, store->paged_blocks);
}

static bool pkernfs_param_seen __initdata;
static bool pkernfs_param_bad __initdata;

/*
 * pkernfs=<size>!<base>, both with memparse() suffixes.  The RFC's cover
 * letter uses '!' and its source comment ':'; both are accepted.
 */
static int __init pkernfs_parse_param(char *arg)
{
	char *end;

	pkernfs_param_seen = true;
	if (!arg)
		goto bad;
	pkernfs_store.size = memparse(arg, &end);
	if (end == arg || (*end != '!' && *end != ':'))
		goto bad;
	arg = end + 1;
	pkernfs_store.base = memparse(arg, &end);
	if (end == arg || *end)
		goto bad;
	return 0;
bad:
	pr_err("invalid pkernfs= parameter, expected pkernfs=<size>!<base>\n");
	pkernfs_param_bad = true;
	return 0;
}
early_param("pkernfs", pkernfs_parse_param);

static int __init pkernfs_region_validate(struct pkernfs_store *store)
{
	phys_addr_t base = store->base;
	u64 size = store->size;

	if (!IS_ALIGNED(base, PKERNFS_BLOCK_SIZE) ||
	    !IS_ALIGNED(size, PKERNFS_BLOCK_SIZE) || !base) {
		pr_err("region %pa+%#llx: base and size must be non-zero multiples of 2 MiB\n",
		       &base, size);
		return -EINVAL;
	}
	if (size < (PKERNFS_FIRST_DATA_BLOCK + 1) * PKERNFS_BLOCK_SIZE) {
		pr_err("region %pa+%#llx: too small, need at least %lu MiB\n",
		       &base, size,
		       (PKERNFS_FIRST_DATA_BLOCK + 1) * PKERNFS_BLOCK_SIZE >> 20);
		return -EINVAL;
	}
	if (size >> PKERNFS_BLOCK_SHIFT > PKERNFS_MAX_BLOCKS ||
	    base + size < base) {
		pr_err("region %pa+%#llx: too large, at most %lu blocks\n",
		       &base, size, PKERNFS_MAX_BLOCKS);
		return -EINVAL;
	}
	if (region_intersects(base, size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pr_err("region %pa+%#llx overlaps System RAM; reserve it with memmap=%#llx%%%pa\n",
		       &base, size, size, &base);
		return -EINVAL;
	}
	return 0;
}

/**
 * pkernfs_region_unmap() - undo what pkernfs_region_init() set up
 * @store: the store, whose blocks have no struct pages yet
 */
void __init pkernfs_region_unmap(struct pkernfs_store *store)
{
	memunmap(store->mem);
	bitmap_free(store->iommu_blocks);
	bitmap_free(store->paged_blocks);
	store->iommu_blocks = NULL;
	store->paged_blocks = NULL;
	release_mem_region(store->base, store->size);
	store->mem = NULL;
}

/* The bitmaps that let the region hold IOMMU tables, if it can. */
static int __init pkernfs_region_iommu_init(struct pkernfs_store *store)
{
	if (!IS_ENABLED(CONFIG_ZONE_DEVICE))
		return 0;
	store->iommu_blocks = bitmap_zalloc(store->nr_blocks, GFP_KERNEL);
	store->paged_blocks = bitmap_zalloc(store->nr_blocks, GFP_KERNEL);
	if (store->iommu_blocks && store->paged_blocks)
		return 0;
	bitmap_free(store->iommu_blocks);
	bitmap_free(store->paged_blocks);
	store->iommu_blocks = NULL;
	store->paged_blocks = NULL;
	return -ENOMEM;
}

/**
 * pkernfs_region_init() - reserve and map the region named by pkernfs=
 * @store: the store to set up
 *
 * Called once at boot.  On failure the reason has been logged, and
 * @store->error holds the errno that mount reports.
 *
 * Return: 0 if the region is mapped, else a negative errno.
 */
int __init pkernfs_region_init(struct pkernfs_store *store)
{
	int err;

	if (!pkernfs_param_seen)
		return -ENODEV;
	err = -EINVAL;
	if (pkernfs_param_bad)
		goto fail;
	err = pkernfs_region_validate(store);
	if (err)
		goto fail;

	/*
	 * Exclusive: with CONFIG_STRICT_DEVMEM, /dev/mem then refuses the
	 * region, which holds guest RAM and live IOMMU tables.
	 */
	err = -EBUSY;
	if (!request_mem_region_exclusive(store->base, store->size,
					  "pkernfs")) {
		pr_err("region %pa+%#llx is already claimed\n",
		       &store->base, store->size);
		goto fail;
	}
	store->mem = memremap(store->base, store->size, MEMREMAP_WB);
	if (!store->mem) {
		pr_err("cannot map region %pa+%#llx\n", &store->base,
		       store->size);
		release_mem_region(store->base, store->size);
		err = -ENOMEM;
		goto fail;
	}
	store->nr_blocks = store->size >> PKERNFS_BLOCK_SHIFT;
	if (pkernfs_region_iommu_init(store))
		pr_warn("no memory to track IOMMU tables; they will not be kept in the region\n");
	store->super = store->mem + PKERNFS_SUPER_OFFSET;
	store->bitmap = store->mem + PKERNFS_BITMAP_OFFSET;
	store->inodes = store->mem + PKERNFS_INODES_OFFSET;
	store->error = 0;
	return 0;
fail:
	store->error = err;
	return err;
}

/**
 * pkernfs_enabled() - whether a usable pkernfs region was configured
 *
 * Return: true once the region given with pkernfs= has been reserved and
 * mapped at boot.
 */
bool pkernfs_enabled(void)
{
	return pkernfs_store.mem;
}
EXPORT_SYMBOL_GPL(pkernfs_enabled);
