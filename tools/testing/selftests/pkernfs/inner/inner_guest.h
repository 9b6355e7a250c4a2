/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the inner guest (inner_guest.c) and the VMM harness that runs it
 * (pkernfs_qemu.c) agree on: the state the guest keeps in its RAM, which
 * the harness also reads from guest-physical memory while the VM is
 * paused, and the lines the guest answers on its serial port.
 */
#ifndef INNER_GUEST_H
#define INNER_GUEST_H

#include <stdint.h>

/* At the address the status line gives; fields little-endian, as x86. */
struct inner_state {
	uint64_t magic;		/* INNER_STATE_MAGIC once RAM is filled */
	uint64_t boot_id;	/* odd, drawn at boot */
	uint64_t counter;	/* counts up while the guest runs */
};

#define INNER_STATE_MAGIC	0x54534752454e4e49ULL	/* "INNERGST" */

/* Serial commands, and the start of each answer. */
#define INNER_CMD_STATUS	's'
#define INNER_CMD_VERIFY	'v'
#define INNER_STATUS		"inner: status"
#define INNER_VERIFY		"inner: verify"

#endif /* INNER_GUEST_H */
