// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs IOMMU regions: the 2 MiB blocks that hold IOMMU page tables
 * across a kexec.
 *
 * iommu/root-pgtables is created by the kernel when the VT-d driver starts,
 * before any mount, and holds its root and context tables.  Every other file
 * in iommu/ is created by user space, handed to VFIO, and holds the page
 * tables of one persistent domain.  All of them are kernel-owned: user space
 * can create, open, pass and unlink them, never read, write or map them.
 *
 * Each is one block of 512 pages: page 0 is the page bitmap, page 1 the root
 * of the tables, the rest are handed out one at a time.  The page bitmap is
 * persistent, so after a live update the tables keep growing where they
 * were; a region that is not adopted on a live-update boot starts afresh.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pkernfs.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "internal.h"

static_assert((PKERNFS_BLOCK_SIZE >> PAGE_SHIFT) == PKERNFS_REGION_PAGES);
#define PKERNFS_REGION_BITMAP	0
#define PKERNFS_REGION_ROOT	1

static const struct qstr pkernfs_iommu_dir_name = QSTR_INIT("iommu", 5);
static const struct qstr pkernfs_root_pgtables_name =
	QSTR_INIT("root-pgtables", 13);

/* Serialises pkernfs_iommu_prepare(). */
static DEFINE_MUTEX(pkernfs_iommu_setup_lock);

/*
 * pkernfs.keep_iommu_root=0 gives no IOMMU unit the root-pgtables file, as
 * every unit but the first has none on a machine with several: to test how
 * such a unit refuses persistent domains.
 */
static bool keep_iommu_root = true;
module_param(keep_iommu_root, bool, 0444);
MODULE_PARM_DESC(keep_iommu_root,
		 "Keep the VT-d root and context tables in pkernfs (default: yes)");

/**
 * pkernfs_iommu_init_block() - give an IOMMU page-table inode its region
 * @store: the store
 * @pi: a new inode of type IOMMU_ROOT_PGTABLES or IOMMU_DOMAIN_PGTABLES
 *
 * The block gets struct pages (region.c).  Sleeps.
 *
 * Return: 0, -ENOSPC, or why the block could not get struct pages.
 */
int pkernfs_iommu_init_block(struct pkernfs_store *store,
			     struct pkernfs_inode *pi)
{
	u32 blk;
	int err;

	err = pkernfs_alloc_block(store, &blk);
	if (err)
		return err;
	/* Here, not when an IOMMU takes it, which may hold IOMMU locks. */
	if (store->paged_blocks) {
		err = pkernfs_region_add_pages(store, blk);
		if (err) {
			pkernfs_free_block(store, blk);
			return err;
		}
	}
	memset(pkernfs_block_ptr(store, blk), 0, PKERNFS_BLOCK_SIZE);
	pi->mappings_block = cpu_to_le32(blk);
	pi->size = cpu_to_le64(PKERNFS_BLOCK_SIZE);
	return 0;
}

/* Create an inode for the kernel, before user space or any mount exists. */
static int pkernfs_iommu_create(struct pkernfs_store *store, u64 parent,
				const struct qstr *name, u32 flags, u64 *ino)
{
	bool dir = flags & PKERNFS_INODE_FLAG_IOMMU_DIR;
	struct pkernfs_inode *pi;
	struct timespec64 now;
	int err;

	err = pkernfs_alloc_ino(store, ino);
	if (err)
		return err;
	pi = &store->inodes[*ino - 1];
	ktime_get_real_ts64(&now);
	pi->mode = cpu_to_le32(dir ? S_IFDIR | 0755 : S_IFREG | 0400);
	pi->nlink = cpu_to_le32(dir ? 2 : 1);
	pi->name_len = cpu_to_le16(name->len);
	memcpy(pi->name, name->name, name->len);
	pi->atime_sec = cpu_to_le64(now.tv_sec);
	pi->mtime_sec = pi->atime_sec;
	pi->ctime_sec = pi->atime_sec;
	if (!dir) {
		err = pkernfs_iommu_init_block(store, pi);
		if (err) {
			pkernfs_free_ino(store, *ino);
			return err;
		}
	}
	/* Last, as in pkernfs_new_inode(): a slot with flags is whole. */
	pi->parent_ino = cpu_to_le64(parent);
	pi->flags = cpu_to_le32(flags);
	pkernfs_dir_link(store, parent, *ino);
	if (dir)
		le32_add_cpu(&store->inodes[parent - 1].nlink, 1);
	return 0;
}

/* Find or create @name of type @flags in @parent. */
static int pkernfs_iommu_get(struct pkernfs_store *store, u64 parent,
			     const struct qstr *name, u32 flags, u64 *ino)
{
	*ino = pkernfs_dir_find(store, parent, name);
	if (!*ino)
		return pkernfs_iommu_create(store, parent, name, flags, ino);
	if (le32_to_cpu(store->inodes[*ino - 1].flags) != flags) {
		pr_err("%.*s is not what the kernel created there\n",
		       name->len, name->name);
		return -EUCLEAN;
	}
	return 0;
}

static void pkernfs_region_fill(struct pkernfs_store *store, u64 ino,
				struct pkernfs_region *region)
{
	u32 blk = le32_to_cpu(store->inodes[ino - 1].mappings_block);

	region->paddr = store->base + ((phys_addr_t)blk << PKERNFS_BLOCK_SHIFT);
	region->vaddr = phys_to_virt(region->paddr);
	region->bytes = PKERNFS_BLOCK_SIZE;
	region->ino = ino;
	spin_lock_irq(&store->iommu_lock);
	__set_bit(blk, store->iommu_blocks);
	spin_unlock_irq(&store->iommu_lock);
}

/* Claim the region of @ino for one user at a time. */
static int pkernfs_region_claim(struct pkernfs_store *store, u64 ino,
				struct pkernfs_region *region)
{
	u32 blk = le32_to_cpu(store->inodes[ino - 1].mappings_block);

	if (!pkernfs_block_valid(store, blk)) {
		pr_err("inode %llu has no valid region\n", ino);
		return -EUCLEAN;
	}
	/* A block without them was logged when it failed to get them. */
	if (!pkernfs_region_paged(store, blk))
		return -ENOMEM;
	if (test_and_set_bit(ino - 1, store->iommu_busy))
		return -EBUSY;
	pkernfs_region_fill(store, ino, region);
	return 0;
}

/* Give struct pages to the block of every IOMMU page-table file. */
static void pkernfs_iommu_add_pages(struct pkernfs_store *store)
{
	u64 ino;

	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++) {
		struct pkernfs_inode *pi = &store->inodes[ino - 1];
		u32 blk = le32_to_cpu(pi->mappings_block);

		/* A failure is logged, and the block's tables go unused. */
		if (pkernfs_is_pgtables(pi) && pkernfs_block_valid(store, blk))
			pkernfs_region_add_pages(store, blk);
	}
}

/* Whether a device may still DMA through tables that no domain owns. */
static bool pkernfs_iommu_kept(struct pkernfs_store *store)
{
	return atomic_read(&store->kept_contexts) > 0;
}

/*
 * DMA marks (PKERNFS_INODE_FLAG_DMA) say on media which files persistent
 * domains use, so that the next kernel of a live update keeps exactly
 * those whole while devices run on the entries it kept.  A file is marked
 * when a domain takes it (its region, or a pin of its memory) and unmarked
 * when the last one lets go, but never while entries are kept: then only
 * pkernfs_dma_settle() unmarks, once they are all replaced.  A mark is one
 * 32-bit store, which a kexec cannot cut in half; @store->lock orders it
 * with the other changes to the inode's flags.
 */
static bool pkernfs_dma_marked(struct pkernfs_store *store, u64 ino)
{
	return le32_to_cpu(READ_ONCE(store->inodes[ino - 1].flags)) &
	       PKERNFS_INODE_FLAG_DMA;
}

/*
 * Announce DMA marks in the superblock before the first one can be
 * written: when pkernfs first holds IOMMU tables, without which nothing is
 * kept across a kexec for a mark to protect.
 */
static void pkernfs_dma_marks_enable(struct pkernfs_store *store)
{
	__le32 dma_marks = cpu_to_le32(PKERNFS_FEATURE_INCOMPAT_DMA_MARKS);

	mutex_lock(&store->lock);
	if (!(store->super->feature_incompat & dma_marks)) {
		store->super->feature_incompat |= dma_marks;
		pkernfs_super_commit(store);
	}
	mutex_unlock(&store->lock);
}

static void pkernfs_dma_mark(struct pkernfs_store *store, u64 ino)
{
	struct pkernfs_inode *pi = &store->inodes[ino - 1];

	lockdep_assert_held(&store->lock);
	if (store->super->feature_incompat &
	    cpu_to_le32(PKERNFS_FEATURE_INCOMPAT_DMA_MARKS))
		WRITE_ONCE(pi->flags,
			   pi->flags | cpu_to_le32(PKERNFS_INODE_FLAG_DMA));
}

static void pkernfs_dma_unmark(struct pkernfs_store *store, u64 ino)
{
	struct pkernfs_inode *pi = &store->inodes[ino - 1];

	lockdep_assert_held(&store->lock);
	if (!pkernfs_iommu_kept(store))
		WRITE_ONCE(pi->flags,
			   pi->flags & ~cpu_to_le32(PKERNFS_INODE_FLAG_DMA));
}

/**
 * pkernfs_dma_settle() - drop the DMA marks no domain holds any more
 * @store: the store
 *
 * Does nothing while kept IOMMU entries may still use marked files.  Runs at
 * mount, for the marks of an earlier boot that kept nothing, and once the
 * last kept entry is replaced; a file that a domain uses again has been
 * marked again by then.  A kexec half way leaves some marks: they only
 * keep files whole a little longer.
 */
void pkernfs_dma_settle(struct pkernfs_store *store)
{
	u64 ino;

	if (pkernfs_iommu_kept(store))
		return;
	mutex_lock(&store->lock);
	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++) {
		if (pkernfs_dma_marked(store, ino) &&
		    !atomic_read(&store->dma_pins[ino - 1]) &&
		    !test_bit(ino - 1, store->iommu_busy))
			pkernfs_dma_unmark(store, ino);
	}
	mutex_unlock(&store->lock);
}

static void pkernfs_dma_settle_work(struct work_struct *work)
{
	pkernfs_dma_settle(&pkernfs_store);
}

static DECLARE_WORK(pkernfs_dma_settle_worker, pkernfs_dma_settle_work);

static bool pkernfs_iommu_usable(struct pkernfs_store *store)
{
	return store->mem && store->iommu_blocks;
}

/*
 * What pkernfs_iommu_prepare() found, for pkernfs_iommu_root_region(): why
 * pkernfs cannot hold IOMMU tables, or 0 and the root-pgtables inode (0
 * without keep_iommu_root).  Written once, under pkernfs_iommu_setup_lock.
 */
static bool pkernfs_iommu_prepared;
static int pkernfs_iommu_prepare_err;
static u64 pkernfs_root_pgtables_ino;

/**
 * pkernfs_iommu_prepare() - set up the IOMMU files before the IOMMU starts
 *
 * Checks the region if nothing did since boot, creates iommu/ and
 * iommu/root-pgtables on a region that lacks them, and gives struct pages
 * to the blocks of every IOMMU page-table file: those a live update kept
 * are walked by the VT-d driver as soon as it starts.  Giving struct pages
 * takes the memory hotplug locks, which must not nest in the IOMMU
 * driver's own, so the VT-d driver calls this before it takes any.  Once;
 * sleeps.
 */
void pkernfs_iommu_prepare(void)
{
	struct pkernfs_store *store = &pkernfs_store;
	u64 dir, ino = 0;
	int err;

	if (!pkernfs_iommu_usable(store))
		return;
	mutex_lock(&pkernfs_iommu_setup_lock);
	if (pkernfs_iommu_prepared)
		goto out;
	err = pkernfs_check_once(store);
	if (!err)
		err = pkernfs_iommu_get(store, PKERNFS_ROOT_INO,
					&pkernfs_iommu_dir_name,
					PKERNFS_INODE_FLAG_IOMMU_DIR, &dir);
	if (!err)
		pkernfs_dma_marks_enable(store);
	if (!err && keep_iommu_root)
		err = pkernfs_iommu_get(store, dir, &pkernfs_root_pgtables_name,
					PKERNFS_INODE_FLAG_IOMMU_ROOT_PGTABLES,
					&ino);
	if (!err)
		pkernfs_iommu_add_pages(store);
	pkernfs_root_pgtables_ino = ino;
	pkernfs_iommu_prepare_err = err;
	pkernfs_iommu_prepared = true;
out:
	mutex_unlock(&pkernfs_iommu_setup_lock);
}
EXPORT_SYMBOL_GPL(pkernfs_iommu_prepare);

/**
 * pkernfs_iommu_root_region() - the region for the VT-d root and context tables
 * @region: filled in
 *
 * Claims iommu/root-pgtables, which pkernfs_iommu_prepare() found or
 * created.  Only one IOMMU unit can have it.  Takes no sleeping lock: the
 * caller may hold the IOMMU driver's.
 *
 * Return: 0, -EOPNOTSUPP when pkernfs cannot hold IOMMU tables or was not
 * prepared for them, -EBUSY when another unit has it, or another negative
 * errno.
 */
int pkernfs_iommu_root_region(struct pkernfs_region *region)
{
	struct pkernfs_store *store = &pkernfs_store;

	if (!pkernfs_iommu_prepared)
		return -EOPNOTSUPP;
	if (pkernfs_iommu_prepare_err)
		return pkernfs_iommu_prepare_err;
	if (!pkernfs_root_pgtables_ino)
		return -EOPNOTSUPP;
	return pkernfs_region_claim(store, pkernfs_root_pgtables_ino, region);
}
EXPORT_SYMBOL_GPL(pkernfs_iommu_root_region);

/**
 * pkernfs_is_iommu_domain_pgtables() - is @file a domain page-table file?
 * @file: any file
 *
 * Return: true for a file that user space created in pkernfs' iommu/.
 */
bool pkernfs_is_iommu_domain_pgtables(struct file *file)
{
	struct inode *inode;

	if (!file || file->f_op != &pkernfs_pgtables_fops)
		return false;
	inode = file_inode(file);
	return (le32_to_cpu(PKERNFS_PI(inode)->flags) &
		~PKERNFS_INODE_FLAG_DMA) ==
		PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES;
}
EXPORT_SYMBOL_GPL(pkernfs_is_iommu_domain_pgtables);

/**
 * pkernfs_iommu_domain_region() - the region of a domain page-table file
 * @file: a file for which pkernfs_is_iommu_domain_pgtables() is true
 * @region: filled in
 *
 * The file stays busy, and cannot be unlinked, until
 * pkernfs_iommu_put_region().
 *
 * Return: 0, -EBADF if @file is no such file, -EBUSY if another domain uses
 * it.
 */
int pkernfs_iommu_domain_region(struct file *file,
				struct pkernfs_region *region)
{
	struct pkernfs_store *store = &pkernfs_store;
	struct inode *inode;
	int err;

	if (!pkernfs_is_iommu_domain_pgtables(file))
		return -EBADF;
	if (!pkernfs_iommu_usable(store))
		return -EOPNOTSUPP;
	inode = file_inode(file);
	err = pkernfs_region_claim(store, inode->i_ino, region);
	if (err)
		return err;
	mutex_lock(&store->lock);
	pkernfs_dma_mark(store, inode->i_ino);
	mutex_unlock(&store->lock);
	pr_info("iommu/%pD: page tables at %pa\n", file,
		&(phys_addr_t){ region->paddr + PAGE_SIZE });
	return 0;
}
EXPORT_SYMBOL_GPL(pkernfs_iommu_domain_region);

/**
 * pkernfs_iommu_put_region() - a domain no longer uses its region
 * @region: from pkernfs_iommu_domain_region()
 */
void pkernfs_iommu_put_region(struct pkernfs_region *region)
{
	struct pkernfs_store *store = &pkernfs_store;
	u32 blk = (region->paddr - store->base) >> PKERNFS_BLOCK_SHIFT;

	spin_lock_irq(&store->iommu_lock);
	__clear_bit(blk, store->iommu_blocks);
	spin_unlock_irq(&store->iommu_lock);
	mutex_lock(&store->lock);
	clear_bit(region->ino - 1, store->iommu_busy);
	pkernfs_dma_unmark(store, region->ino);
	mutex_unlock(&store->lock);
}
EXPORT_SYMBOL_GPL(pkernfs_iommu_put_region);

/**
 * pkernfs_iommu_busy() - is an IOMMU page-table inode in use?
 * @store: the store
 * @ino: the inode
 *
 * Return: true while an IOMMU uses the inode's region, or while devices run
 * on IOMMU tables kept by a live update and the inode holds some of them.
 */
bool pkernfs_iommu_busy(struct pkernfs_store *store, u64 ino)
{
	return test_bit(ino - 1, store->iommu_busy) ||
	       (pkernfs_iommu_kept(store) && pkernfs_dma_marked(store, ino));
}

/**
 * pkernfs_region_root_page() - the root page of a region
 * @region: a claimed region
 * @adopt: keep the tables a previous kernel left, if there are any
 * @adopted: set to whether tables were kept
 *
 * Without @adopt, or with nothing to adopt, the whole region is cleared and
 * the root page comes back zeroed.
 *
 * Return: the root page.
 */
void *pkernfs_region_root_page(struct pkernfs_region *region, bool adopt,
			       bool *adopted)
{
	void *bitmap = region->vaddr;

	*adopted = adopt && test_bit_le(PKERNFS_REGION_BITMAP, bitmap) &&
		   test_bit_le(PKERNFS_REGION_ROOT, bitmap);
	if (!*adopted) {
		/* The region is claimed: nobody else allocates from it. */
		memset(region->vaddr, 0, region->bytes);
		__set_bit_le(PKERNFS_REGION_BITMAP, bitmap);
		__set_bit_le(PKERNFS_REGION_ROOT, bitmap);
	}
	return region->vaddr + PKERNFS_REGION_ROOT * PAGE_SIZE;
}
EXPORT_SYMBOL_GPL(pkernfs_region_root_page);

/**
 * pkernfs_region_alloc_page() - allocate a zeroed page from a region
 * @region: a claimed region
 *
 * May be called in atomic context.
 *
 * Return: the page's direct-map address, or NULL when the region is full.
 */
void *pkernfs_region_alloc_page(struct pkernfs_region *region)
{
	struct pkernfs_store *store = &pkernfs_store;
	unsigned long flags, page;
	void *addr;

	spin_lock_irqsave(&store->iommu_lock, flags);
	page = find_next_zero_bit_le(region->vaddr, PKERNFS_REGION_PAGES,
				     PKERNFS_REGION_ROOT + 1);
	if (page < PKERNFS_REGION_PAGES)
		__set_bit_le(page, region->vaddr);
	spin_unlock_irqrestore(&store->iommu_lock, flags);
	if (page >= PKERNFS_REGION_PAGES) {
		pr_err_ratelimited("IOMMU region of inode %llu is full\n",
				   region->ino);
		return NULL;
	}
	addr = region->vaddr + page * PAGE_SIZE;
	memset(addr, 0, PAGE_SIZE);
	return addr;
}
EXPORT_SYMBOL_GPL(pkernfs_region_alloc_page);

/**
 * pkernfs_region_free_page() - free an IOMMU page if it is pkernfs'
 * @vaddr: a page-table page being freed by an IOMMU driver
 *
 * IOMMU free paths call this first, so that no page of the region ever
 * reaches the page allocator.  Root and bitmap pages are never freed this
 * way: they go with their file.
 *
 * Return: true if the page belongs to pkernfs (and has been dealt with).
 */
bool pkernfs_region_free_page(void *vaddr)
{
	struct pkernfs_store *store = &pkernfs_store;
	unsigned long flags, offset, page;
	u32 blk;

	if (!pkernfs_iommu_usable(store) || !virt_addr_valid(vaddr) ||
	    !pkernfs_owns_phys(virt_to_phys(vaddr)))
		return false;
	offset = virt_to_phys(vaddr) - store->base;
	blk = offset >> PKERNFS_BLOCK_SHIFT;
	page = (offset >> PAGE_SHIFT) % PKERNFS_REGION_PAGES;

	spin_lock_irqsave(&store->iommu_lock, flags);
	if (test_bit(blk, store->iommu_blocks) && page > PKERNFS_REGION_ROOT)
		__clear_bit_le(page, pkernfs_block_ptr(store, blk));
	spin_unlock_irqrestore(&store->iommu_lock, flags);
	return true;
}
EXPORT_SYMBOL_GPL(pkernfs_region_free_page);

/**
 * pkernfs_owns_phys_range() - is a physical range inside the pkernfs region?
 * @paddr: where the range starts
 * @size: its length in bytes, not 0
 *
 * Memory inside the region outlives a kexec; memory outside it does not.
 *
 * Return: true if the whole range lies in the region and pkernfs holds
 * IOMMU tables.
 */
bool pkernfs_owns_phys_range(phys_addr_t paddr, size_t size)
{
	struct pkernfs_store *store = &pkernfs_store;

	return store->iommu_blocks && paddr >= store->base &&
	       paddr - store->base < store->size &&
	       size <= store->size - (paddr - store->base);
}
EXPORT_SYMBOL_GPL(pkernfs_owns_phys_range);

/* The IOMMU page-table inode (root-pgtables or a domain's) of @blk, or 0. */
static u64 pkernfs_pgtables_ino(struct pkernfs_store *store, u32 blk)
{
	u64 ino;

	for (ino = 1; ino <= PKERNFS_INODE_COUNT; ino++) {
		struct pkernfs_inode *pi = &store->inodes[ino - 1];

		if (pkernfs_is_pgtables(pi) &&
		    le32_to_cpu(pi->mappings_block) == blk)
			return ino;
	}
	return 0;
}

/**
 * pkernfs_is_domain_root() - is @paddr the root of a domain's page tables?
 * @paddr: a physical address read from a kept IOMMU table
 *
 * Return: true if @paddr is page 1 of the region of a domain page-table
 * file (see struct pkernfs_region) whose block has struct pages.
 */
bool pkernfs_is_domain_root(phys_addr_t paddr)
{
	struct pkernfs_store *store = &pkernfs_store;
	u64 offset, ino;

	if (!pkernfs_iommu_usable(store) || !pkernfs_owns_phys(paddr))
		return false;
	offset = paddr - store->base;
	if ((offset & (PKERNFS_BLOCK_SIZE - 1)) !=
	    PKERNFS_REGION_ROOT * PAGE_SIZE)
		return false;
	/* The kernel walks the tables through the direct map. */
	if (!pkernfs_region_paged(store, offset >> PKERNFS_BLOCK_SHIFT))
		return false;
	ino = pkernfs_pgtables_ino(store, offset >> PKERNFS_BLOCK_SHIFT);
	/* Not an orphan: its domain is gone. */
	return ino && (le32_to_cpu(store->inodes[ino - 1].flags) &
		       ~PKERNFS_INODE_FLAG_DMA) ==
		      PKERNFS_INODE_FLAG_IOMMU_DOMAIN_PGTABLES;
}
EXPORT_SYMBOL_GPL(pkernfs_is_domain_root);

/**
 * pkernfs_is_file_data() - may a kept IOMMU mapping point at this range?
 * @paddr: where the range starts, as a kept leaf entry maps it
 * @size: its length in bytes, not 0
 *
 * Only file data may be mapped for a device: not the superblock, the
 * bitmap or the inode store, not a free block, and not the blocks that
 * hold IOMMU tables, which a device could then rewrite.  Called on what a
 * live update kept, before it is used; the last block found good is
 * remembered, as leaves come in order.
 *
 * Return: true if every block of the range is such data.
 */
bool pkernfs_is_file_data(phys_addr_t paddr, size_t size)
{
	static u32 last_good = U32_MAX;
	struct pkernfs_store *store = &pkernfs_store;
	u32 blk, last;

	if (!pkernfs_iommu_usable(store) ||
	    !pkernfs_owns_phys_range(paddr, size))
		return false;
	blk = (paddr - store->base) >> PKERNFS_BLOCK_SHIFT;
	last = (paddr - store->base + size - 1) >> PKERNFS_BLOCK_SHIFT;
	for (; blk <= last; blk++) {
		if (blk == last_good)
			continue;
		if (!pkernfs_block_valid(store, blk) ||
		    !test_bit_le(blk, store->bitmap) ||
		    pkernfs_pgtables_ino(store, blk))
			return false;
		last_good = blk;
	}
	return true;
}
EXPORT_SYMBOL_GPL(pkernfs_is_file_data);

/**
 * pkernfs_iommu_hold_kept() - devices run on IOMMU tables a live update kept
 * @contexts: how many context entries the IOMMU driver kept
 *
 * Until the driver has replaced each of them (pkernfs_iommu_release_kept()),
 * a device may DMA through tables no domain owns: the files the previous
 * kernel marked as used by a domain (page tables, and memory its mappings
 * point into) keep their memory and cannot be removed until then.
 */
void pkernfs_iommu_hold_kept(unsigned int contexts)
{
	if (!contexts)
		return;
	atomic_add(contexts, &pkernfs_store.kept_contexts);
	pr_info("%u device(s) run on IOMMU tables kept by the live update: the files their domains use keep their memory until each is attached again\n",
		contexts);
}
EXPORT_SYMBOL_GPL(pkernfs_iommu_hold_kept);

/**
 * pkernfs_iommu_release_kept() - a kept context entry was replaced
 *
 * The IOMMU driver calls this once the entry is gone and its caches are
 * flushed.
 */
void pkernfs_iommu_release_kept(void)
{
	if (atomic_dec_if_positive(&pkernfs_store.kept_contexts))
		return;
	pr_info("every device on kept IOMMU tables is attached again\n");
	schedule_work(&pkernfs_dma_settle_worker);
}
EXPORT_SYMBOL_GPL(pkernfs_iommu_release_kept);

/**
 * pkernfs_is_file() - is @file a regular pkernfs file?
 * @file: any file
 *
 * Return: true if @file's memory is pkernfs', which outlives a kexec.
 */
bool pkernfs_is_file(struct file *file)
{
	return file->f_op == &pkernfs_file_fops;
}
EXPORT_SYMBOL_GPL(pkernfs_is_file);

/**
 * pkernfs_file_dma_pin() - note that an IOMMU maps a file's memory
 * @file: the file behind a VFIO DMA mapping
 *
 * Until pkernfs_file_dma_unpin(), the file cannot be unlinked or shrunk: that
 * would free memory a device may still write.  A file already unlinked
 * cannot be pinned: its memory goes at the next mount, whatever maps it.
 * Takes the file's invalidate_lock, under which unlink and truncate check
 * the pins; the caller may hold mmap_lock, as a page fault does.
 *
 * Return: 0 if @file is a pkernfs file, now pinned, -ENOENT if it is
 * unlinked, else -EINVAL.
 */
int pkernfs_file_dma_pin(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct pkernfs_store *store = PKERNFS_STORE(inode->i_sb);
	int err = 0;

	if (!pkernfs_is_file(file))
		return -EINVAL;
	filemap_invalidate_lock_shared(inode->i_mapping);
	if (inode->i_nlink) {
		mutex_lock(&store->lock);
		if (atomic_inc_return(&store->dma_pins[inode->i_ino - 1]) == 1)
			pkernfs_dma_mark(store, inode->i_ino);
		mutex_unlock(&store->lock);
	} else {
		err = -ENOENT;
	}
	filemap_invalidate_unlock_shared(inode->i_mapping);
	return err;
}
EXPORT_SYMBOL_GPL(pkernfs_file_dma_pin);

/**
 * pkernfs_file_dma_unpin() - undo pkernfs_file_dma_pin()
 * @file: the file
 */
void pkernfs_file_dma_unpin(struct file *file)
{
	struct inode *inode = file_inode(file);
	struct pkernfs_store *store = PKERNFS_STORE(inode->i_sb);

	mutex_lock(&store->lock);
	if (atomic_dec_and_test(&store->dma_pins[inode->i_ino - 1]))
		pkernfs_dma_unmark(store, inode->i_ino);
	mutex_unlock(&store->lock);
}
EXPORT_SYMBOL_GPL(pkernfs_file_dma_unpin);

/**
 * pkernfs_dma_pinned() - may an IOMMU map this file's memory?
 * @inode: a regular file
 *
 * Return: true while VFIO maps some of the file for DMA, or while devices
 * run on IOMMU tables kept by a live update that may map it.
 */
bool pkernfs_dma_pinned(struct inode *inode)
{
	struct pkernfs_store *store = PKERNFS_STORE(inode->i_sb);

	return atomic_read(&store->dma_pins[inode->i_ino - 1]) ||
	       (pkernfs_iommu_kept(store) &&
		pkernfs_dma_marked(store, inode->i_ino));
}

static int pkernfs_pgtables_setattr(struct mnt_idmap *idmap,
				    struct dentry *dentry, struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);

	/* "truncate -s 2M iommu/dom-0", as the RFC had it, changes nothing. */
	if ((attr->ia_valid & ATTR_SIZE) && attr->ia_size != inode->i_size)
		return pkernfs_iommu_busy(PKERNFS_STORE(inode->i_sb),
					  inode->i_ino) ? -EBUSY : -EINVAL;
	attr->ia_valid &= ~ATTR_SIZE;
	return pkernfs_setattr(idmap, dentry, attr);
}

/* Kernel-owned: no read, write or mmap. */
const struct file_operations pkernfs_pgtables_fops = {
	.llseek		= noop_llseek,
};

const struct inode_operations pkernfs_pgtables_iops = {
	.setattr	= pkernfs_pgtables_setattr,
	.getattr	= pkernfs_getattr,
};
