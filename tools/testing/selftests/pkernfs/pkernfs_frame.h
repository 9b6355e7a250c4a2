/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The test frames of the nic-rx scenario: numbered, time-stamped,
 * checksummed Ethernet frames that host/pkernfs_frame_sender sends into
 * QEMU's e1000e and pkernfs_nic finds in guest RAM, written there by the
 * device through the IOMMU.  Both sides build and check them here.
 *
 * Every field is little-endian but the EtherType, which is big-endian
 * as on the wire.  The payload is the seeded pattern of pkernfs_util.h
 * with the sequence number as its seed, so a frame is checked byte by
 * byte, and the FNV-1a sum catches damage to the header too.
 */
#ifndef PKERNFS_FRAME_H
#define PKERNFS_FRAME_H

#include "pkernfs_util.h"

#define PK_FRAME_LEN		128
#define PK_FRAME_ETHERTYPE	0x88b5	/* IEEE 802 local experimental */
#define PK_FRAME_MAGIC		0x706b7278U	/* "pkrx" */

struct pk_frame {
	uint8_t dst[6];		/* broadcast */
	uint8_t src[6];		/* locally administered, never on a LAN */
	uint16_t ethertype;	/* big-endian */
	uint32_t magic;
	uint32_t seq;		/* 0, 1, 2, ... in sending order */
	uint64_t sent_ns;	/* the sender's CLOCK_MONOTONIC */
	uint64_t sum;		/* FNV-1a of the frame with sum = 0 */
	uint8_t payload[PK_FRAME_LEN - 38];
} __attribute__((packed));

_Static_assert(sizeof(struct pk_frame) == PK_FRAME_LEN, "frame size");

static inline uint64_t pk_frame_sum(const struct pk_frame *f)
{
	struct pk_frame copy = *f;

	copy.sum = 0;
	return pk_fnv1a(PK_FNV_INIT, &copy, sizeof(copy));
}

static inline void pk_frame_build(struct pk_frame *f, uint32_t seq,
				  uint64_t sent_ns)
{
	static const uint8_t src[6] = { 0x02, 0x70, 0x6b, 0x72, 0x78, 0x01 };

	memset(f->dst, 0xff, sizeof(f->dst));
	memcpy(f->src, src, sizeof(src));
	f->ethertype = htobe16(PK_FRAME_ETHERTYPE);
	f->magic = htole32(PK_FRAME_MAGIC);
	f->seq = htole32(seq);
	f->sent_ns = htole64(sent_ns);
	pk_fill(f->payload, sizeof(f->payload), seq, 0);
	f->sum = 0;
	f->sum = htole64(pk_frame_sum(f));
}

/*
 * Check @len bytes at @f as a test frame: NULL if it is one, byte for
 * byte, or what is wrong with it.
 */
static inline const char *pk_frame_check(const struct pk_frame *f,
					 size_t len)
{
	if (len != PK_FRAME_LEN)
		return "wrong length";
	if (be16toh(f->ethertype) != PK_FRAME_ETHERTYPE ||
	    le32toh(f->magic) != PK_FRAME_MAGIC)
		return "not a test frame";
	if (le64toh(f->sum) != pk_frame_sum(f))
		return "checksum mismatch";
	if (pk_check(f->payload, sizeof(f->payload), le32toh(f->seq), 0) >= 0)
		return "payload differs from its pattern";
	return NULL;
}

#endif /* PKERNFS_FRAME_H */
