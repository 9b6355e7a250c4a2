// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs update cut points: fault injection for interrupted updates.
 *
 * A change to the persistent state takes several stores, and a kexec after
 * the reboot notifier gave up waiting, a crash kexec or a panic can come
 * between any two of them.  Every such gap has a cut point; with
 * CONFIG_PKERNFS_CUT_POINTS the tests can stop an update at one of them and
 * kexec, to show that the next kernel mounts the region and loses at most
 * the change that was in flight:
 *
 *   cd /sys/kernel/debug/fail_pkernfs_update
 *   cat points                  # the cut points, "number name" per line
 *   echo 3 >cut_point           # arm point 3
 *   echo 100 >probability; echo 1 >times; echo 0 >verbose
 *
 * The next update that reaches point 3 parks its task for good, leaving the
 * region as it is at that point; the reboot notifier then does not wait for
 * it.  The fault-injection framework's usual knobs (probability, interval,
 * times, task filter) decide whether a reached point cuts.
 *
 * With a non-zero cut_delay_ms the update is only held there that long and
 * then completes: a kexec started meanwhile finds a change in flight, which
 * the reboot notifier must wait for.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/fault-inject.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

#include "internal.h"

static DECLARE_FAULT_ATTR(pkernfs_fail_update);
static u32 pkernfs_armed_point;
static u32 pkernfs_cut_delay_ms;

static const char * const pkernfs_cut_names[PKERNFS_NR_CUT_POINTS] = {
	[PKERNFS_CUT_NONE]		= "none",
	[PKERNFS_CUT_INODE_TAKEN]	= "inode-taken",
	[PKERNFS_CUT_INODE_UNLINKED]	= "inode-ready-unlinked",
	[PKERNFS_CUT_DIR_NLINK]		= "linked-before-parent-nlink",
	[PKERNFS_CUT_REMOVED]		= "removed-before-orphan",
	[PKERNFS_CUT_ORPHAN_FLAGGED]	= "orphan-flag-before-list",
	[PKERNFS_CUT_RENAME_UNLINKED]	= "rename-source-unlinked",
	[PKERNFS_CUT_RENAME_NAMED]	= "rename-renamed-unlinked",
	[PKERNFS_CUT_GROW_ALLOCATED]	= "grow-blocks-allocated",
	[PKERNFS_CUT_TABLE_SWITCHED]	= "grow-table-switched",
	[PKERNFS_CUT_SHRINK_SIZED]	= "shrink-size-written",
	[PKERNFS_CUT_SHRINK_COUNTED]	= "shrink-list-shortened",
	[PKERNFS_CUT_TABLE_DROPPED]	= "shrink-table-dropped",
	[PKERNFS_CUT_RELEASE_UNLISTED]	= "release-off-orphan-list",
};

/**
 * pkernfs_cut() - stop here for good if the tests armed this cut point
 * @store: the store
 * @point: where the update is
 *
 * Called between two stores of an update, with update_sem held for read
 * and possibly @store->lock.  If it cuts, the task sleeps until the kexec;
 * with a delay set, it sleeps that long and goes on.
 */
void pkernfs_cut(struct pkernfs_store *store, enum pkernfs_cut_point point)
{
	u32 delay_ms;

	if (READ_ONCE(pkernfs_armed_point) != point ||
	    !should_fail_ex(&pkernfs_fail_update, 1, FAULT_NOWARN))
		return;
	delay_ms = READ_ONCE(pkernfs_cut_delay_ms);
	if (delay_ms) {
		pr_info("fault injection: update held at %s for %u ms\n",
			pkernfs_cut_names[point], delay_ms);
		msleep(delay_ms);
		return;
	}
	pr_warn("fault injection: update cut short at %s; kexec now\n",
		pkernfs_cut_names[point]);
	WRITE_ONCE(store->cut_short, true);
	for (;;)
		schedule_timeout_idle(MAX_SCHEDULE_TIMEOUT);
}

static int pkernfs_cut_points_show(struct seq_file *m, void *v)
{
	u32 i;

	for (i = 1; i < PKERNFS_NR_CUT_POINTS; i++)
		seq_printf(m, "%u %s\n", i, pkernfs_cut_names[i]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pkernfs_cut_points);

static int __init pkernfs_cut_init(void)
{
	struct dentry *dir;

	dir = fault_create_debugfs_attr("fail_pkernfs_update", NULL,
					&pkernfs_fail_update);
	if (IS_ERR(dir))
		return PTR_ERR(dir);
	debugfs_create_u32("cut_point", 0600, dir, &pkernfs_armed_point);
	debugfs_create_u32("cut_delay_ms", 0600, dir, &pkernfs_cut_delay_ms);
	debugfs_create_file("points", 0400, dir, NULL,
			    &pkernfs_cut_points_fops);
	return 0;
}
late_initcall(pkernfs_cut_init);
