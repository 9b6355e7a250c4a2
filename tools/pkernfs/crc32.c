// SPDX-License-Identifier: GPL-2.0-only
/*
 * crc32_le as the kernel computes it, and the superblock checksum.
 *
 * The kernel's crc32_le(seed, p, len) is the bit-reflected CRC-32 (poly
 * 0xedb88320) that returns the raw register: no final inversion.  The
 * superblock is sealed with crc32_le(~0, ...), which is therefore the
 * bitwise complement of the usual zlib/IEEE CRC-32 of the same bytes.
 */
#include <string.h>

#include "pkfs.h"

#define PKFS_CRC32_POLY_LE	0xedb88320U

static uint32_t pkfs_crc32_table[256];
static bool pkfs_crc32_ready;

static void pkfs_crc32_init(void)
{
	uint32_t i, bit, crc;

	for (i = 0; i < 256; i++) {
		crc = i;
		for (bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (crc & 1 ? PKFS_CRC32_POLY_LE : 0);
		pkfs_crc32_table[i] = crc;
	}
	pkfs_crc32_ready = true;
}

uint32_t pkfs_crc32_le(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!pkfs_crc32_ready)
		pkfs_crc32_init();
	while (len--)
		crc = (crc >> 8) ^ pkfs_crc32_table[(crc ^ *p++) & 0xff];
	return crc;
}

/* What the kernel's pkernfs_super_csum() computes. */
uint32_t pkfs_super_csum(const struct pkernfs_super *super)
{
	struct pkernfs_super copy;

	memcpy(&copy, super, sizeof(copy));
	copy.checksum = 0;
	return pkfs_crc32_le(~0U, &copy, sizeof(copy));
}

void pkfs_super_seal(struct pkernfs_super *super)
{
	super->checksum = htole32(pkfs_super_csum(super));
}
