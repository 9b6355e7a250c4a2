/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace stand-in for the kernel's <linux/stddef.h>: the system's uapi
 * header (which <linux/types.h> also pulls in) plus offsetof().
 */
#ifndef _PKERNFS_TOOLS_LINUX_STDDEF_H
#define _PKERNFS_TOOLS_LINUX_STDDEF_H

#include_next <linux/stddef.h>
#include <stddef.h>

#endif /* _PKERNFS_TOOLS_LINUX_STDDEF_H */
