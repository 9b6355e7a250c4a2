// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs superblock: formatting a fresh region, validating a persisted one,
 * mounting, statfs and registration.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crc32.h>
#include <linux/fs_context.h>
#include <linux/init.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pkernfs.h>
#include <linux/delay.h>
#include <linux/reboot.h>
#include <linux/statfs.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#include "internal.h"

static u32 pkernfs_super_csum(const struct pkernfs_super *super)
{
	struct pkernfs_super copy = *super;

	copy.checksum = 0;
	return crc32_le(~0, (const u8 *)&copy, sizeof(copy));
}

/**
 * pkernfs_super_commit() - reseal the superblock after changing it
 * @store: the store
 *
 * Called with @store->lock held, or before the filesystem is registered.
 */
void pkernfs_super_commit(struct pkernfs_store *store)
{
	store->super->checksum = cpu_to_le32(pkernfs_super_csum(store->super));
}

static void pkernfs_format_root(struct pkernfs_store *store)
{
	struct pkernfs_inode *root = &store->inodes[PKERNFS_ROOT_INO - 1];
	struct timespec64 now;

	ktime_get_real_ts64(&now);
	root->flags = cpu_to_le32(PKERNFS_INODE_FLAG_DIR);
	root->mode = cpu_to_le32(S_IFDIR | 0755);
	root->parent_ino = cpu_to_le64(PKERNFS_ROOT_INO);
	root->nlink = cpu_to_le32(2);
	root->atime_sec = cpu_to_le64(now.tv_sec);
	root->mtime_sec = root->atime_sec;
	root->ctime_sec = root->atime_sec;
	root->atime_nsec = cpu_to_le32(now.tv_nsec);
	root->mtime_nsec = root->atime_nsec;
	root->ctime_nsec = root->atime_nsec;
}

/* Lay out an empty filesystem: bitmap, free inode list, root, superblock. */
static void pkernfs_format(struct pkernfs_store *store)
{
	struct pkernfs_super *super = store->super;
	u64 ino;

	memset(store->bitmap, 0, PKERNFS_BITMAP_BYTES);
	__set_bit_le(PKERNFS_SUPER_BLOCK, store->bitmap);
	__set_bit_le(PKERNFS_INODES_BLOCK, store->bitmap);

	memset(store->inodes, 0, PKERNFS_BLOCK_SIZE);
	for (ino = PKERNFS_ROOT_INO + 1; ino < PKERNFS_INODE_COUNT; ino++)
		store->inodes[ino - 1].sibling_ino = cpu_to_le64(ino + 1);
	pkernfs_format_root(store);

	memset(super, 0, sizeof(*super));
	super->magic = cpu_to_le64(PKERNFS_MAGIC);
	super->version = cpu_to_le32(PKERNFS_FORMAT_VERSION);
	super->block_shift = cpu_to_le32(PKERNFS_BLOCK_SHIFT);
	super->inode_size = cpu_to_le32(PKERNFS_INODE_SIZE);
	super->region_base = cpu_to_le64(store->base);
	super->region_size = cpu_to_le64(store->size);
	super->bitmap_offset = cpu_to_le64(PKERNFS_BITMAP_OFFSET);
	super->inodes_offset = cpu_to_le64(PKERNFS_INODES_OFFSET);
	super->inode_count = cpu_to_le32(PKERNFS_INODE_COUNT);
	super->root_ino = cpu_to_le32(PKERNFS_ROOT_INO);
	super->next_free_ino = cpu_to_le64(PKERNFS_ROOT_INO + 1);
	pkernfs_super_commit(store);
}

/*
 * Decide at boot what the region holds.  A region without our magic is
 * fresh and gets formatted, except on a live-update boot, where it must hold
 * the previous kernel's filesystem: formatting it then would destroy
 * whatever the wrong pkernfs= range points at.  Anything else is checked at
 * mount time.
 */
static int __init pkernfs_format_if_fresh(struct pkernfs_store *store)
{
	if (le64_to_cpu(store->super->magic) == PKERNFS_MAGIC)
		return 0;
	if (liveupdate) {
		pr_err("region %pa+%#llx holds no pkernfs superblock on a live-update boot; not formatting it\n",
		       &store->base, store->size);
		return -EUCLEAN;
	}
	pr_info("formatting region %pa+%#llx (%u blocks)\n",
		&store->base, store->size, store->nr_blocks);
	pkernfs_format(store);
	if (le64_to_cpu(store->super->magic) != PKERNFS_MAGIC ||
	    pkernfs_super_csum(store->super) !=
	    le32_to_cpu(store->super->checksum)) {
		pr_err("region %pa+%#llx does not keep what is written to it; is it RAM?\n",
		       &store->base, store->size);
		return -EIO;
	}
	return 0;
}

static bool pkernfs_super_field_ok(const char *name, u64 got, u64 want)
{
	if (got == want)
		return true;
	pr_err("superblock %s is %#llx, expected %#llx\n", name, got, want);
	return false;
}

/* Check the superblock of a region that carries our magic. */
static int pkernfs_super_validate(struct pkernfs_store *store)
{
	struct pkernfs_super *super = store->super;
	u32 incompat;

	if (le64_to_cpu(super->magic) != PKERNFS_MAGIC) {
		pr_err("region %pa+%#llx holds no pkernfs superblock\n",
		       &store->base, store->size);
		return -EUCLEAN;
	}
	if (pkernfs_super_csum(super) != le32_to_cpu(super->checksum)) {
		pr_err("superblock checksum mismatch (stored %#x, computed %#x)\n",
		       le32_to_cpu(super->checksum), pkernfs_super_csum(super));
		return -EUCLEAN;
	}
	if (le32_to_cpu(super->version) != PKERNFS_FORMAT_VERSION) {
		pr_err("unsupported format version %u (this kernel has %u)\n",
		       le32_to_cpu(super->version), PKERNFS_FORMAT_VERSION);
		return -EINVAL;
	}
	incompat = le32_to_cpu(super->feature_incompat);
	if (incompat & ~PKERNFS_FEATURE_INCOMPAT_SUPP) {
		pr_err("unsupported incompatible features %#x\n",
		       incompat & ~PKERNFS_FEATURE_INCOMPAT_SUPP);
		return -EINVAL;
	}
	if (!pkernfs_super_field_ok("region_size",
				    le64_to_cpu(super->region_size),
				    store->size) ||
	    !pkernfs_super_field_ok("region_base",
				    le64_to_cpu(super->region_base),
				    store->base))
		return -EINVAL;
	if (!pkernfs_super_field_ok("block_shift",
				    le32_to_cpu(super->block_shift),
				    PKERNFS_BLOCK_SHIFT) ||
	    !pkernfs_super_field_ok("inode_size",
				    le32_to_cpu(super->inode_size),
				    PKERNFS_INODE_SIZE) ||
	    !pkernfs_super_field_ok("inode_count",
				    le32_to_cpu(super->inode_count),
				    PKERNFS_INODE_COUNT) ||
	    !pkernfs_super_field_ok("bitmap_offset",
				    le64_to_cpu(super->bitmap_offset),
				    PKERNFS_BITMAP_OFFSET) ||
	    !pkernfs_super_field_ok("inodes_offset",
				    le64_to_cpu(super->inodes_offset),
				    PKERNFS_INODES_OFFSET) ||
	    !pkernfs_super_field_ok("root_ino", le32_to_cpu(super->root_ino),
				    PKERNFS_ROOT_INO))
		return -EUCLEAN;
	return 0;
}

/*
 * Validate the persisted state before the first VFS inode is built from it,
 * reclaim what the previous kernel left orphaned and count free space.
 */
static int pkernfs_load_store(struct pkernfs_store *store)
{
	int err;

	store->checked = false;
	pkernfs_dir_index_drop(store);

	mutex_lock(&store->lock);
	err = pkernfs_super_validate(store);
	mutex_unlock(&store->lock);
	if (err)
		return err;
	err = pkernfs_check_store(store);
	if (!err)
		err = pkernfs_dir_index_build(store);
	if (err)
		return err;
	store->checked = true;
	return 0;
}

static void pkernfs_count_mount(struct pkernfs_store *store)
{
	mutex_lock(&store->lock);
	le64_add_cpu(&store->super->mount_count, 1);
	pkernfs_super_commit(store);
	mutex_unlock(&store->lock);
}

/**
 * pkernfs_check_once() - check the persisted tree if nobody did since boot
 * @store: the store
 *
 * For users of the region that come before the first mount: the IOMMU.
 *
 * Return: 0, or why the region cannot be used.
 */
int pkernfs_check_once(struct pkernfs_store *store)
{
	if (store->error)
		return store->error;
	if (store->checked)
		return 0;
	return pkernfs_load_store(store);
}

static int pkernfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct pkernfs_store *store = PKERNFS_STORE(dentry->d_sb);

	buf->f_type = PKERNFS_SUPER_MAGIC;
	buf->f_bsize = PKERNFS_BLOCK_SIZE;
	buf->f_frsize = PKERNFS_BLOCK_SIZE;
	buf->f_namelen = PKERNFS_NAME_LEN;
	buf->f_blocks = store->nr_blocks;
	buf->f_files = PKERNFS_INODE_COUNT;
	mutex_lock(&store->lock);
	buf->f_bfree = store->free_blocks;
	buf->f_ffree = store->free_inodes;
	mutex_unlock(&store->lock);
	buf->f_bavail = buf->f_bfree;
	return 0;
}

static const struct super_operations pkernfs_super_ops = {
	.statfs		= pkernfs_statfs,
	.dirty_inode	= pkernfs_dirty_inode,
	.evict_inode	= pkernfs_evict_inode,
};

static int pkernfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct pkernfs_store *store = &pkernfs_store;
	struct inode *root;
	int err;

	if (store->error == -ENODEV) {
		errorfc(fc, "no region: boot with memmap=<size>%%<base> pkernfs=<size>!<base>");
		return -ENODEV;
	}
	if (store->error) {
		errorfc(fc, "region unusable (error %d), see the boot log",
			store->error);
		return store->error;
	}
	err = pkernfs_load_store(store);
	if (err) {
		errorfc(fc, "refusing to mount region %pa+%#llx (error %d)",
			&store->base, store->size, err);
		return err;
	}
	pkernfs_count_mount(store);
	pkernfs_dma_settle(store);

	sb->s_fs_info = store;
	sb->s_magic = PKERNFS_SUPER_MAGIC;
	sb->s_op = &pkernfs_super_ops;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_maxbytes = min_t(loff_t, MAX_LFS_FILESIZE,
			       (loff_t)PKERNFS_TABLE_BLOCKS * PKERNFS_BLOCK_SIZE);
	sb->s_time_gran = 1;

	root = pkernfs_iget(sb, PKERNFS_ROOT_INO);
	if (IS_ERR(root))
		return PTR_ERR(root);
	if (!S_ISDIR(root->i_mode)) {
		pr_err("root inode is not a directory\n");
		iput(root);
		return -EUCLEAN;
	}
	sb->s_root = d_make_root(root);
	if (!sb->s_root)
		return -ENOMEM;
	return 0;
}

static int pkernfs_get_tree(struct fs_context *fc)
{
	/* One region, so one superblock shared by every mount. */
	return get_tree_single(fc, pkernfs_fill_super);
}

static const struct fs_context_operations pkernfs_context_ops = {
	.get_tree	= pkernfs_get_tree,
};

static int pkernfs_init_fs_context(struct fs_context *fc)
{
	fc->ops = &pkernfs_context_ops;
	return 0;
}

static struct file_system_type pkernfs_fs_type = {
	.owner			= THIS_MODULE,
	.name			= "pkernfs",
	.init_fs_context	= pkernfs_init_fs_context,
	.kill_sb		= kill_anon_super,
};
MODULE_ALIAS_FS("pkernfs");

/*
 * On the way to a kexec (or any reboot), wait for changes in flight to
 * finish and let no new one start: the next kernel must find every list
 * whole.  A change stuck for seconds, say faulting on user memory that never
 * arrives, is not waited for forever.
 */
static int pkernfs_reboot_notify(struct notifier_block *nb,
				 unsigned long action, void *data)
{
	struct pkernfs_store *store = &pkernfs_store;
	unsigned int waited_ms = 0;

	while (!down_write_trylock(&store->update_sem)) {
		if (READ_ONCE(store->cut_short)) {
			pr_warn("an update was cut short on purpose (fault injection); not waiting for it\n");
			WRITE_ONCE(store->frozen, true);
			return NOTIFY_DONE;
		}
		if (waited_ms >= 10000) {
			pr_warn("a change is still in flight at reboot; the next mount may refuse the region\n");
			WRITE_ONCE(store->frozen, true);
			return NOTIFY_DONE;
		}
		msleep(20);
		waited_ms += 20;
	}
	WRITE_ONCE(store->frozen, true);
	up_write(&store->update_sem);
	return NOTIFY_DONE;
}

/**
 * pkernfs_wait_for_kexec() - park a change that came after the freeze
 * @store: the store, update_sem held for read
 *
 * The kernel is on its way to a kexec: the change must not start.  Sleep
 * until the CPUs are stopped, without counting as a hung task.
 */
void pkernfs_wait_for_kexec(struct pkernfs_store *store)
{
	up_read(&store->update_sem);
	for (;;)
		schedule_timeout_idle(MAX_SCHEDULE_TIMEOUT);
}

static struct notifier_block pkernfs_reboot_nb = {
	.notifier_call = pkernfs_reboot_notify,
};

static int __init pkernfs_init(void)
{
	struct pkernfs_store *store = &pkernfs_store;

	if (!pkernfs_region_init(store)) {
		store->error = pkernfs_format_if_fresh(store);
		if (store->error)
			pkernfs_region_unmap(store);
	}
	if (!store->error)
		register_reboot_notifier(&pkernfs_reboot_nb);
	return register_filesystem(&pkernfs_fs_type);
}
fs_initcall(pkernfs_init);
