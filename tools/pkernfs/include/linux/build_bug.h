/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace stand-in for the kernel's <linux/build_bug.h>.
 *
 * The kernel's static_assert() takes an optional message; C11's
 * _Static_assert() wants one, so supply the expression text when the caller
 * gave none.
 */
#ifndef _PKERNFS_TOOLS_LINUX_BUILD_BUG_H
#define _PKERNFS_TOOLS_LINUX_BUILD_BUG_H

#ifdef static_assert
#undef static_assert
#endif
#define static_assert(expr, ...) \
	__pkernfs_static_assert(expr, ##__VA_ARGS__, #expr)
#define __pkernfs_static_assert(expr, msg, ...) _Static_assert(expr, msg)

#endif /* _PKERNFS_TOOLS_LINUX_BUILD_BUG_H */
