/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace stand-in for the kernel's <linux/bits.h>: just what the pkernfs
 * format header uses.
 */
#ifndef _PKERNFS_TOOLS_LINUX_BITS_H
#define _PKERNFS_TOOLS_LINUX_BITS_H

#define BIT(nr)		(1UL << (nr))
#define BIT_ULL(nr)	(1ULL << (nr))

#endif /* _PKERNFS_TOOLS_LINUX_BITS_H */
