/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pkernfs: persistent kernel filesystem, in-kernel interface.
 */
#ifndef _LINUX_PKERNFS_H
#define _LINUX_PKERNFS_H

#include <linux/types.h>

#ifdef CONFIG_PKERNFS_FS
bool pkernfs_enabled(void);
#else
static inline bool pkernfs_enabled(void)
{
	return false;
}
#endif

#endif /* _LINUX_PKERNFS_H */
