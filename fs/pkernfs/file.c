// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs regular files: read, write and mmap of the reserved memory.
 *
 * There is no page cache.  read() and write() copy straight to and from the
 * region, and mmap() maps its pages into user space as a VM_PFNMAP mapping:
 * file data has no struct pages.  A whole 2 MiB block is mapped with one
 * PMD entry when the mapping is aligned for it, otherwise page by page.
 *
 * Locking: i_rwsem (shared for read, exclusive for write and truncate)
 * protects the data path's view of the size and block list; page faults
 * take invalidate_lock shared instead, which truncate takes exclusively.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pfn_t.h>
#include <linux/pkernfs.h>
#include <linux/uio.h>

#include "internal.h"

#define PKERNFS_PAGES_PER_BLOCK	(PKERNFS_BLOCK_SIZE >> PAGE_SHIFT)

/* Copy between the file, from @pos on, and @iter, up to @end. */
static ssize_t pkernfs_copy(struct inode *inode, loff_t pos, loff_t end,
			    struct iov_iter *iter, bool write)
{
	struct pkernfs_store *store = PKERNFS_STORE(inode->i_sb);
	struct pkernfs_inode *pi = PKERNFS_PI(inode);
	ssize_t done = 0;

	while (pos < end && iov_iter_count(iter)) {
		u32 blk = pkernfs_get_block(store, pi,
					    pos >> PKERNFS_BLOCK_SHIFT);
		size_t off = pos & (PKERNFS_BLOCK_SIZE - 1);
		size_t len = min_t(loff_t, PKERNFS_BLOCK_SIZE - off, end - pos);
		void *addr = pkernfs_block_ptr(store, blk) + off;
		size_t copied;

		if (WARN_ON_ONCE(!blk))
			return done ?: -EIO;
		if (write)
			copied = copy_from_iter(addr, len, iter);
		else
			copied = copy_to_iter(addr, len, iter);
		done += copied;
		pos += copied;
		if (copied < len)
			return done ?: -EFAULT;
		cond_resched();
	}
	return done;
}

static ssize_t pkernfs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t ret;

	if (!iov_iter_count(to))
		return 0;
	if (iocb->ki_flags & IOCB_NOWAIT) {
		if (!inode_trylock_shared(inode))
			return -EAGAIN;
	} else {
		inode_lock_shared(inode);
	}
	ret = pkernfs_copy(inode, iocb->ki_pos, i_size_read(inode), to, false);
	if (ret > 0)
		iocb->ki_pos += ret;
	inode_unlock_shared(inode);
	file_accessed(iocb->ki_filp);
	return ret;
}

static ssize_t pkernfs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct inode *inode = file_inode(file);
	struct pkernfs_store *store = PKERNFS_STORE(inode->i_sb);
	loff_t oldsize, end;
	ssize_t ret;

	if (iocb->ki_flags & IOCB_NOWAIT) {
		if (!inode_trylock(inode))
			return -EAGAIN;
	} else {
		inode_lock(inode);
	}
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out;
	ret = file_remove_privs(file);
	if (ret)
		goto out;
	ret = file_update_time(file);
	if (ret)
		goto out;

	pkernfs_begin_update(store);
	oldsize = i_size_read(inode);
	end = iocb->ki_pos + iov_iter_count(from);
	if (end > oldsize) {
		ret = pkernfs_setsize(inode, end);
		if (ret)
			goto out_update;
	}
	ret = pkernfs_copy(inode, iocb->ki_pos, end, from, true);
	/* Do not leave a short write's unwritten tail in the file. */
	if (end > oldsize && (ret < 0 || iocb->ki_pos + ret < end))
		pkernfs_setsize(inode, max(oldsize,
					   iocb->ki_pos + max_t(ssize_t, ret, 0)));
	if (ret > 0)
		iocb->ki_pos += ret;
	mark_inode_dirty(inode);
out_update:
	pkernfs_end_update(store);
out:
	inode_unlock(inode);
	if (ret > 0)
		ret = generic_write_sync(iocb, ret);
	return ret;
}

/* Look up the pfn backing page @pgoff of the file; 0 when past the end. */
static unsigned long pkernfs_fault_pfn(struct inode *inode, pgoff_t pgoff)
{
	struct pkernfs_store *store = PKERNFS_STORE(inode->i_sb);
	u32 blk;

	if (pgoff >= DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE))
		return 0;
	blk = pkernfs_get_block(store, PKERNFS_PI(inode),
				pgoff / PKERNFS_PAGES_PER_BLOCK);
	if (WARN_ON_ONCE(!blk))
		return 0;
	return pkernfs_block_pfn(store, blk) + pgoff % PKERNFS_PAGES_PER_BLOCK;
}

static vm_fault_t pkernfs_fault(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	unsigned long pfn;
	vm_fault_t ret;

	filemap_invalidate_lock_shared(inode->i_mapping);
	pfn = pkernfs_fault_pfn(inode, vmf->pgoff);
	if (pfn)
		ret = vmf_insert_pfn(vmf->vma, vmf->address, pfn);
	else
		ret = VM_FAULT_SIGBUS;
	filemap_invalidate_unlock_shared(inode->i_mapping);
	return ret;
}

/*
 * Map the whole block under the faulting address with one PMD entry, when
 * the mapping covers it entirely and the file has all of it.
 */
static vm_fault_t pkernfs_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct inode *inode = file_inode(vma->vm_file);
	unsigned long addr = vmf->address & PMD_MASK;
	vm_fault_t ret = VM_FAULT_FALLBACK;
	unsigned long pfn;
	pgoff_t pgoff;

	if (!IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE) || order != PMD_ORDER ||
	    PMD_SIZE != PKERNFS_BLOCK_SIZE)
		return VM_FAULT_FALLBACK;
	if (addr < vma->vm_start || addr + PMD_SIZE > vma->vm_end)
		return VM_FAULT_FALLBACK;
	pgoff = linear_page_index(vma, addr);
	if (pgoff % PKERNFS_PAGES_PER_BLOCK)
		return VM_FAULT_FALLBACK;

	filemap_invalidate_lock_shared(inode->i_mapping);
	/* The block's last page within the file means all of it is. */
	pfn = pkernfs_fault_pfn(inode, pgoff + PKERNFS_PAGES_PER_BLOCK - 1);
	if (pfn) {
		pfn -= PKERNFS_PAGES_PER_BLOCK - 1;
		ret = vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV),
					 vmf->flags & FAULT_FLAG_WRITE);
	}
	filemap_invalidate_unlock_shared(inode->i_mapping);
	return ret;
}

/**
 * pkernfs_file_dma_pfn() - where a run of a file's pages lies
 * @file: a pkernfs file, pinned with pkernfs_file_dma_pin()
 * @pgoff: the first page of the run, as a page offset in the file
 * @max: the most pages the caller wants
 * @nr: set to the length of the run: the pages from @pgoff, at most @max
 *	and none past the end of the file, that are physically contiguous
 *
 * What page faults on a shared mapping of the file would give, a block or
 * more at a time, so that an IOMMU can map the file's memory without
 * resolving each 4 KiB page through a process's page tables.  The pin
 * keeps the file from shrinking; growing it does not move what it holds.
 *
 * Return: the pfn of page @pgoff, or 0 (and @nr 0) if it is past the end.
 */
unsigned long pkernfs_file_dma_pfn(struct file *file, pgoff_t pgoff,
				   unsigned long max, unsigned long *nr)
{
	struct inode *inode = file_inode(file);
	unsigned long pfn, run, eof;

	*nr = 0;
	if (!pkernfs_is_file(file) || !max)
		return 0;
	filemap_invalidate_lock_shared(inode->i_mapping);
	pfn = pkernfs_fault_pfn(inode, pgoff);
	if (pfn) {
		eof = DIV_ROUND_UP(i_size_read(inode), PAGE_SIZE) - pgoff;
		run = PKERNFS_PAGES_PER_BLOCK - pgoff % PKERNFS_PAGES_PER_BLOCK;
		/* Blocks allocated together are often adjacent: one run. */
		while (run < min(max, eof) &&
		       pkernfs_fault_pfn(inode, pgoff + run) == pfn + run)
			run += PKERNFS_PAGES_PER_BLOCK;
		*nr = min3(run, max, eof);
	}
	filemap_invalidate_unlock_shared(inode->i_mapping);
	return pfn;
}
EXPORT_SYMBOL_GPL(pkernfs_file_dma_pfn);

static const struct vm_operations_struct pkernfs_vm_ops = {
	.fault		= pkernfs_fault,
	.huge_fault	= pkernfs_huge_fault,
};

static int pkernfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	/*
	 * A private mapping would copy on write, and the region has no pages
	 * to copy from: allow it read-only, so it can never be written.
	 */
	if (!(vma->vm_flags & VM_SHARED)) {
		if (vma->vm_flags & VM_WRITE)
			return -EINVAL;
		vm_flags_clear(vma, VM_MAYWRITE);
	}
	file_accessed(file);
	vm_flags_set(vma, VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP |
		     VM_HUGEPAGE);
	vma->vm_ops = &pkernfs_vm_ops;
	return 0;
}

const struct file_operations pkernfs_file_fops = {
	.open			= generic_file_open,
	.llseek			= generic_file_llseek,
	.read_iter		= pkernfs_read_iter,
	.write_iter		= pkernfs_write_iter,
	.splice_read		= copy_splice_read,
	.splice_write		= iter_file_splice_write,
	.mmap			= pkernfs_mmap,
	.get_unmapped_area	= thp_get_unmapped_area,
	.fsync			= noop_fsync,
};

const struct inode_operations pkernfs_file_iops = {
	.setattr	= pkernfs_setattr,
	.getattr	= pkernfs_getattr,
};
