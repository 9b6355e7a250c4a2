/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkernfs: persistent kernel filesystem, in-kernel interface.
 *
 * Besides files for user space, pkernfs keeps IOMMU page tables that must
 * survive a kexec: the VT-d root and context tables in iommu/root-pgtables,
 * and each persistent domain's page tables in a file user space creates in
 * iommu/ and hands to VFIO.  Each of these files is one 2 MiB region.
 */
#ifndef _LINUX_PKERNFS_H
#define _LINUX_PKERNFS_H

#include <linux/errno.h>
#include <linux/types.h>

struct file;

/* An IOMMU region: one 2 MiB pkernfs block of 4 KiB pages. */
#define PKERNFS_REGION_PAGES	512

/**
 * struct pkernfs_region - a 2 MiB block of pkernfs lent to an IOMMU
 * @vaddr: its address in the direct map
 * @paddr: its physical address
 * @bytes: its size, 2 MiB
 * @ino: the pkernfs inode it belongs to
 *
 * The block is 512 pages of 4 KiB.  Page 0 is an allocation bitmap of the
 * 512 pages, page 1 is the root of the tables (the VT-d root table, or a
 * domain's top-level page directory) and pages 2 to 511 are handed out by
 * pkernfs_region_alloc_page().
 */
struct pkernfs_region {
	void *vaddr;
	phys_addr_t paddr;
	size_t bytes;
	u64 ino;
};

#ifdef CONFIG_PKERNFS_FS
bool pkernfs_enabled(void);
void pkernfs_iommu_prepare(void);
int pkernfs_iommu_root_region(struct pkernfs_region *region);
int pkernfs_iommu_domain_region(struct file *file,
				struct pkernfs_region *region);
void pkernfs_iommu_put_region(struct pkernfs_region *region);
bool pkernfs_is_iommu_domain_pgtables(struct file *file);
void *pkernfs_region_root_page(struct pkernfs_region *region, bool adopt,
			       bool *adopted);
void *pkernfs_region_alloc_page(struct pkernfs_region *region);
bool pkernfs_region_free_page(void *vaddr);
bool pkernfs_owns_phys_range(phys_addr_t paddr, size_t size);
bool pkernfs_is_domain_root(phys_addr_t paddr);
bool pkernfs_is_file_data(phys_addr_t paddr, size_t size);
void pkernfs_iommu_hold_kept(unsigned int contexts);
void pkernfs_iommu_release_kept(void);
bool pkernfs_is_file(struct file *file);
int pkernfs_file_dma_pin(struct file *file);
void pkernfs_file_dma_unpin(struct file *file);
unsigned long pkernfs_file_dma_pfn(struct file *file, pgoff_t pgoff,
				   unsigned long max, unsigned long *nr);
#else
static inline bool pkernfs_enabled(void)
{
	return false;
}

static inline void pkernfs_iommu_prepare(void)
{
}

static inline int pkernfs_iommu_root_region(struct pkernfs_region *region)
{
	return -EOPNOTSUPP;
}

static inline int pkernfs_iommu_domain_region(struct file *file,
					      struct pkernfs_region *region)
{
	return -EOPNOTSUPP;
}

static inline void pkernfs_iommu_put_region(struct pkernfs_region *region)
{
}

static inline bool pkernfs_is_iommu_domain_pgtables(struct file *file)
{
	return false;
}

static inline void *pkernfs_region_root_page(struct pkernfs_region *region,
					     bool adopt, bool *adopted)
{
	return NULL;
}

static inline void *pkernfs_region_alloc_page(struct pkernfs_region *region)
{
	return NULL;
}

static inline bool pkernfs_region_free_page(void *vaddr)
{
	return false;
}

static inline bool pkernfs_owns_phys_range(phys_addr_t paddr, size_t size)
{
	return false;
}

static inline bool pkernfs_is_domain_root(phys_addr_t paddr)
{
	return false;
}

static inline bool pkernfs_is_file_data(phys_addr_t paddr, size_t size)
{
	return false;
}

static inline void pkernfs_iommu_hold_kept(unsigned int contexts)
{
}

static inline void pkernfs_iommu_release_kept(void)
{
}

static inline bool pkernfs_is_file(struct file *file)
{
	return false;
}

static inline int pkernfs_file_dma_pin(struct file *file)
{
	return -EINVAL;
}

static inline void pkernfs_file_dma_unpin(struct file *file)
{
}

static inline unsigned long pkernfs_file_dma_pfn(struct file *file,
						 pgoff_t pgoff,
						 unsigned long max,
						 unsigned long *nr)
{
	*nr = 0;
	return 0;
}
#endif

/* Is the byte at @paddr inside the pkernfs region? */
static inline bool pkernfs_owns_phys(phys_addr_t paddr)
{
	return pkernfs_owns_phys_range(paddr, 1);
}

#endif /* _LINUX_PKERNFS_H */
