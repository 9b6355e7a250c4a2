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
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/pkernfs.h>

#include "internal.h"

struct pkernfs_store pkernfs_store = {
	.update_sem = __RWSEM_INITIALIZER(pkernfs_store.update_sem),
	.lock = __MUTEX_INITIALIZER(pkernfs_store.lock),
	.error = -ENODEV,
};

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

	err = -EBUSY;
	if (!request_mem_region(store->base, store->size, "pkernfs")) {
		pr_err("region %pa+%#llx is already claimed\n",
		       &store->base, store->size);
		goto fail;
	}
	err = -ENOMEM;
	store->mem = memremap(store->base, store->size, MEMREMAP_WB);
	if (!store->mem) {
		pr_err("cannot map region %pa+%#llx\n",
		       &store->base, store->size);
		release_mem_region(store->base, store->size);
		goto fail;
	}
	store->nr_blocks = store->size >> PKERNFS_BLOCK_SHIFT;
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
