/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the VT-d hardware is given, as the Intel IOMMU driver's debugfs
 * shows it (CONFIG_INTEL_IOMMU_DEBUGFS): the root table address register,
 * and each present context entry, read by the kernel from the root table
 * the unit walks.  A source of truth that does not come from pkernfs's own
 * log lines, for checks such as "the device still translates through the
 * same page tables after the live update".
 *
 * Legacy (non-scalable) mode only, as pkernfs requires.
 */
#ifndef PKERNFS_VTD_H
#define PKERNFS_VTD_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define VTD_DEBUGFS		"/sys/kernel/debug/iommu/intel"
#define VTD_PAGE_MASK		(~0xfffULL)

/* A root entry and the context entry it leads to, for one bus:dev.fn. */
struct vtd_context {
	uint64_t root_hi, root_lo;
	uint64_t hi, lo;
};

/* The second-level page-table root (ASR) of a context entry. */
static inline uint64_t vtd_context_pgd(const struct vtd_context *c)
{
	return c->lo & VTD_PAGE_MASK;
}

/* Its domain ID. */
static inline unsigned int vtd_context_did(const struct vtd_context *c)
{
	return (c->hi >> 8) & 0xffff;
}

/* Its translation type: 0 multi-level, 1 with device TLB, 2 pass-through. */
static inline unsigned int vtd_context_tt(const struct vtd_context *c)
{
	return (c->lo >> 2) & 3;
}

/*
 * The present context entry of PCI device @bdf ("0000:00:03.0" or
 * "00:03.0") on the first unit that has one: 0, -ENOENT if no unit has a
 * present entry for it, or -errno if debugfs cannot be read.
 */
static inline int vtd_context_of(const char *bdf, struct vtd_context *c)
{
	char line[256], want[16];
	unsigned long long rh, rl, ch, cl;
	int ret = -ENOENT;
	FILE *f;

	if (!strncmp(bdf, "0000:", 5))
		bdf += 5;
	snprintf(want, sizeof(want), "%s\t", bdf);
	f = fopen(VTD_DEBUGFS "/dmar_translation_struct", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		if (sscanf(line + strlen(want), "0x%llx:0x%llx 0x%llx:0x%llx",
			   &rh, &rl, &ch, &cl) != 4) {
			ret = -EPROTO;
			break;
		}
		c->root_hi = rh;
		c->root_lo = rl;
		c->hi = ch;
		c->lo = cl;
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/*
 * The root table address register (DMAR_RTADDR_REG) of the first unit, as
 * the driver reads it from the hardware: 0 or -errno.
 */
static inline int vtd_root_table_addr(uint64_t *rta)
{
	char line[256], name[32];
	unsigned long long val;
	unsigned int off;
	int ret = -ENOENT;
	FILE *f;

	f = fopen(VTD_DEBUGFS "/iommu_regset", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s 0x%x 0x%llx", name, &off, &val) == 3 &&
		    !strcmp(name, "RTADDR")) {
			*rta = val;
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

#endif /* PKERNFS_VTD_H */
