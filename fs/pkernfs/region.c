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

#include "internal.h"

struct pkernfs_store pkernfs_store = {
	.update_sem = __RWSEM_INITIALIZER(pkernfs_store.update_sem),
	.lock = __MUTEX_INITIALIZER(pkernfs_store.lock),
	.iommu_lock = __SPIN_LOCK_UNLOCKED(pkernfs_store.iommu_lock),
	.error = -ENODEV,
};

/*
 * With ZONE_DEVICE the region gets struct pages and a place in the direct
 * map, which the IOMMU page tables kept in it need: the VT-d driver walks
 * them with phys_to_virt().  Without it, the filesystem alone works from a
 * plain memremap().
 */
#ifdef CONFIG_ZONE_DEVICE
static struct dev_pagemap pkernfs_pgmap = {
	.type = MEMORY_DEVICE_GENERIC,
	.nr_range = 1,
};

static void *__init pkernfs_map_pages(struct pkernfs_store *store)
{
	pkernfs_pgmap.range.start = store->base;
	pkernfs_pgmap.range.end = store->base + store->size - 1;
	return memremap_pages(&pkernfs_pgmap, NUMA_NO_NODE);
}

static void __init pkernfs_unmap_pages(void)
{
	memunmap_pages(&pkernfs_pgmap);
}
#else
static void *__init pkernfs_map_pages(struct pkernfs_store *store)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static void __init pkernfs_unmap_pages(void)
{
}
#endif

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

static int __init pkernfs_region_map(struct pkernfs_store *store)
{
	void *mem = pkernfs_map_pages(store);

	if (!IS_ERR(mem)) {
		store->direct_mapped = true;
	} else {
		if (IS_ENABLED(CONFIG_ZONE_DEVICE))
			pr_warn("no struct pages for the region (error %ld); IOMMU tables will not be kept in it\n",
				PTR_ERR(mem));
		mem = memremap(store->base, store->size, MEMREMAP_WB);
		if (!mem)
			return -ENOMEM;
	}
	store->mem = mem;
	return 0;
}

/**
 * pkernfs_region_unmap() - undo pkernfs_region_map() after a failed start
 * @store: the store
 */
void __init pkernfs_region_unmap(struct pkernfs_store *store)
{
	if (store->direct_mapped)
		pkernfs_unmap_pages();
	else
		memunmap(store->mem);
	bitmap_free(store->iommu_blocks);
	store->iommu_blocks = NULL;
	release_mem_region(store->base, store->size);
	store->mem = NULL;
	store->direct_mapped = false;
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
	err = pkernfs_region_map(store);
	if (err) {
		pr_err("cannot map region %pa+%#llx (error %d)\n",
		       &store->base, store->size, err);
		release_mem_region(store->base, store->size);
		goto fail;
	}
	store->nr_blocks = store->size >> PKERNFS_BLOCK_SHIFT;
	if (store->direct_mapped)
		store->iommu_blocks = bitmap_zalloc(store->nr_blocks,
						    GFP_KERNEL);
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
