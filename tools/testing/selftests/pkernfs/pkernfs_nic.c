// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs_nic - a NIC that keeps receiving into pkernfs guest RAM while
 * the host kexecs.
 *
 * The NIC is QEMU's e1000e (an Intel 82574L), bound to vfio-pci behind
 * the emulated Intel IOMMU; host/pkernfs_frame_sender feeds it numbered
 * test frames (pkernfs_frame.h) through a loopback UDP socket.  This
 * program is the smallest driver that lets it receive: one RX ring of
 * legacy descriptors and its buffers in the pkernfs file nic-ram, mapped
 * at IOVA 0 through a container whose page tables live in iommu/nic-dom
 * (VFIO_CONTAINER_SET_PERSISTENT_PGTABLES).  No interrupts: it polls.
 *
 *   pkernfs_nic start BDF
 *	Reset the NIC once, set up the ring, enable receive and check the
 *	first frames.  Then a child keeps polling the ring and handing the
 *	descriptors back, publishing after every batch what it has seen in
 *	nic-ram itself, until the kexec stops it.
 *
 *   pkernfs_nic resume BDF
 *	On the 'liveupdate' boot: re-attach iommu/nic-dom and re-declare
 *	nic-ram (VFIO_DMA_MAP_FLAG_LIVE_UPDATE), open the NIC without
 *	resetting or re-initialising anything, and read on from where the
 *	old kernel's poller stopped.  The frames already in the ring then
 *	are those the NIC received while no kernel was reading it: the
 *	kexec.  Receive a few seconds more and report.
 *
 *   pkernfs_nic alive
 *	Whether the poller 'start' left still reads the ring: the scenario
 *	asks right before 'kexec -e'.
 *
 * Every frame is checked byte for byte.  The sequence numbers tell
 * losses: the only loss allowed is a ring overrun (the ring was full when
 * the reader came back), counted as such.  Report, as '# nic:' lines:
 * frames received before, during and after the kexec, lost, and the
 * longest gap between two received frames in the sender's time.
 *
 * Environment: PKERNFS_MNT, the pkernfs mount point (default /mnt/pkernfs);
 * PKERNFS_NIC_BENCH=LABEL, for 'make bench': 'resume' also prints the TSC
 * once the container is re-attached and the NIC open ("stamp reattach
 * LABEL TSC") and its figures as "sample nic LABEL NAME VALUE" lines.
 * Output is TAP; the exit status is the kselftest one.
 */
#define _GNU_SOURCE
#include <inttypes.h>

#include "pkernfs_frame.h"
#include "pkernfs_vfio_util.h"

/* e1000e registers and bits (82574L datasheet, section 10). */
#define E1000_CTRL		0x0000
#define E1000_CTRL_SLU		(1U << 6)	/* set link up */
#define E1000_CTRL_RST		(1U << 26)
#define E1000_STATUS		0x0008
#define E1000_STATUS_LU		(1U << 1)	/* link up */
#define E1000_IMC		0x00d8		/* interrupt mask clear */
#define E1000_RCTL		0x0100
#define E1000_RCTL_EN		(1U << 1)
#define E1000_RCTL_UPE		(1U << 3)	/* unicast promiscuous */
#define E1000_RCTL_MPE		(1U << 4)	/* multicast promiscuous */
#define E1000_RCTL_BAM		(1U << 15)	/* accept broadcast */
#define E1000_RCTL_BSIZE_256	(3U << 16)
#define E1000_RCTL_SECRC	(1U << 26)	/* strip the CRC */
#define E1000_RDBAL		0x2800
#define E1000_RDBAH		0x2804
#define E1000_RDLEN		0x2808
#define E1000_RDH		0x2810
#define E1000_RDT		0x2818

#define E1000_VENDOR		0x8086
#define E1000_DEVICE		0x10d3

#define RCTL_RX		(E1000_RCTL_EN | E1000_RCTL_UPE | E1000_RCTL_MPE | \
			 E1000_RCTL_BAM | E1000_RCTL_BSIZE_256 | \
			 E1000_RCTL_SECRC)

/* A legacy receive descriptor; the NIC writes all but @addr. */
struct rx_desc {
	uint64_t addr;		/* IOVA of the buffer */
	uint16_t length;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};

#define RX_DD			0x01	/* descriptor done */
#define RX_EOP			0x02	/* end of packet */

/*
 * nic-ram, mapped at IOVA 0: the ring, its buffers, then the page where
 * the poller publishes what it has seen.  RDLEN has 20 bits: the ring is
 * as long as the NIC allows, 65528 descriptors, 65 s of frames at the
 * scenario's 1000 a second.
 */
#define RING_LEN		0xfff80U
#define RING_DESCS		(RING_LEN / sizeof(struct rx_desc))
#define BUF_SIZE		256U
#define RING_OFF		0ULL
#define BUFS_OFF		(1ULL << 20)
#define STATE_OFF		(BUFS_OFF + RING_DESCS * BUF_SIZE)
#define RAM_SIZE		(18ULL << 20)
#define IOVA_BASE		0ULL

#define NIC_RAM			"nic-ram"
#define DOM_FILE		"iommu/nic-dom"
#define STATE_MAGIC		0x706b6e69632d7631ULL	/* "pknic-v1" */

#define POLL_MS			2	/* between two looks at the ring */
#define LINK_TIMEOUT_MS		5000
#define WARMUP_MS		500	/* 'start' drops what was queued */
#define FIRST_FRAMES		200	/* 'start' checks this many */
#define FIRST_TIMEOUT_MS	30000
#define RESUME_MS		3000	/* 'resume' receives this long after */
#define MIN_KEXEC_SPAN_NS	1000000000ULL	/* see resume() */
#define HOLD_SECS		600

/* What the reader has seen of the frames, from the first one on. */
struct rx_stats {
	uint32_t next;		/* next descriptor to look at */
	uint32_t pad;
	uint64_t frames;	/* frames received and checked */
	uint64_t corrupt;	/* frames that failed the check */
	uint64_t lost;		/* sequence numbers never received */
	uint64_t first_seq;
	uint64_t last_seq;
	uint64_t last_sent_ns;
	uint64_t max_gap_ns;	/* longest sender time between two frames */
	uint64_t max_gap_seq;	/* the frame after that gap */
};

/*
 * The page in nic-ram where a reader publishes its stats: it fills the
 * slot @commit does not name and then increments @commit, one aligned
 * 8-byte store, so that a reader stopped at any instant by the kexec
 * leaves one whole, consistent slot.  The descriptors of a published
 * batch are handed back only after the publication: the next reader
 * starts at stats.next and never sees a frame twice or misses one.
 */
struct rx_state {
	uint64_t magic;
	uint64_t commit;	/* stats[commit & 1] is the current slot */
	struct rx_stats stats[2];
	uint64_t polls;		/* the poller's looks at the ring */
};

struct nic {
	struct vfio_pci_dev dev;
	int container;
	int ram_fd;
	int dom_fd;
	uint8_t *ram;
	volatile struct rx_desc *ring;
	struct rx_state *state;
	struct rx_stats st;	/* the reader's working copy */
	unsigned int reported;	/* corrupt frames printed so far */
};

static const char *mnt;

static uint32_t nic_rd(struct nic *n, unsigned int reg)
{
	return bar_rd32(&n->dev, reg);
}

static void nic_wr(struct nic *n, unsigned int reg, uint32_t val)
{
	bar_wr32(&n->dev, reg, val);
}

/* Guest RAM and the container --------------------------------------------- */

/* Open (or create) nic-ram and iommu/nic-dom and map nic-ram. */
static int ram_open(struct nic *n, bool create)
{
	void *p;

	n->ram_fd = vmm_file_open(mnt, NIC_RAM, create);
	if (n->ram_fd < 0) {
		ksft_perror(NIC_RAM);
		return -errno;
	}
	if (create && ftruncate(n->ram_fd, RAM_SIZE)) {
		ksft_perror("ftruncate " NIC_RAM);
		return -errno;
	}
	p = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 n->ram_fd, 0);
	if (p == MAP_FAILED) {
		ksft_perror("mmap " NIC_RAM);
		return -errno;
	}
	n->ram = p;
	n->ring = (volatile struct rx_desc *)(n->ram + RING_OFF);
	n->state = (struct rx_state *)(n->ram + STATE_OFF);

	n->dom_fd = vmm_file_open(mnt, DOM_FILE, create);
	if (n->dom_fd < 0) {
		ksft_perror(DOM_FILE);
		return -errno;
	}
	return 0;
}

/* The NIC ------------------------------------------------------------------ */

static bool wait_bits(struct nic *n, unsigned int reg, uint32_t mask,
		      uint32_t want, unsigned int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	while ((nic_rd(n, reg) & mask) != want) {
		if (now_ms() > end)
			return false;
		sleep_ms(1);
	}
	return true;
}

/*
 * The one reset, at the first start: then no interrupts, link up, the
 * ring at IOVA_BASE + RING_OFF with every descriptor given to the NIC
 * but one (RDT one behind RDH: a full ring and an empty one differ), and
 * receive on, for every frame whatever its destination.
 */
static int nic_init(struct nic *n)
{
	uint64_t ring_iova = IOVA_BASE + RING_OFF;
	unsigned int i;

	nic_wr(n, E1000_CTRL, nic_rd(n, E1000_CTRL) | E1000_CTRL_RST);
	if (!wait_bits(n, E1000_CTRL, E1000_CTRL_RST, 0, 1000)) {
		ksft_print_msg("e1000e: reset did not complete\n");
		return -ETIMEDOUT;
	}
	nic_wr(n, E1000_IMC, ~0U);
	nic_wr(n, E1000_CTRL, nic_rd(n, E1000_CTRL) | E1000_CTRL_SLU);

	memset(n->ram, 0, RAM_SIZE);
	for (i = 0; i < RING_DESCS; i++)
		n->ring[i].addr = IOVA_BASE + BUFS_OFF + (uint64_t)i * BUF_SIZE;
	n->state->magic = STATE_MAGIC;
	n->state->commit = 0;

	nic_wr(n, E1000_RDBAL, (uint32_t)ring_iova);
	nic_wr(n, E1000_RDBAH, (uint32_t)(ring_iova >> 32));
	nic_wr(n, E1000_RDLEN, RING_LEN);
	nic_wr(n, E1000_RDH, 0);
	nic_wr(n, E1000_RDT, RING_DESCS - 1);
	nic_wr(n, E1000_RCTL, RCTL_RX);
	if (nic_rd(n, E1000_RDLEN) != RING_LEN) {
		ksft_print_msg("e1000e: RDLEN reads %#x, not %#x\n",
			       nic_rd(n, E1000_RDLEN), RING_LEN);
		return -EIO;
	}
	return 0;
}

/* The ring ----------------------------------------------------------------- */

/* Account for the frame in descriptor @i, which the NIC has written. */
static void rx_frame(struct nic *n, unsigned int i)
{
	volatile struct rx_desc *d = &n->ring[i];
	const struct pk_frame *f;
	struct rx_stats *st = &n->st;
	const char *bad = NULL;
	uint64_t seq, sent_ns;

	f = (const struct pk_frame *)(n->ram + BUFS_OFF +
				      (uint64_t)i * BUF_SIZE);
	if (d->errors || !(d->status & RX_EOP))
		bad = "error bits set";
	else
		bad = pk_frame_check(f, le16toh(d->length));
	if (bad) {
		st->corrupt++;
		if (n->reported++ < 5)
			ksft_print_msg("descriptor %u: %s (length %u, status %#x, errors %#x)\n",
				       i, bad, le16toh(d->length), d->status,
				       d->errors);
		return;
	}

	seq = le32toh(f->seq);
	sent_ns = le64toh(f->sent_ns);
	if (!st->frames) {
		st->first_seq = seq;
	} else {
		if (seq <= st->last_seq) {
			st->corrupt++;	/* out of order or twice */
			if (n->reported++ < 5)
				ksft_print_msg("frame %" PRIu64 " after %" PRIu64 "\n",
					       seq, st->last_seq);
			return;
		}
		st->lost += seq - st->last_seq - 1;
		if (sent_ns - st->last_sent_ns > st->max_gap_ns) {
			st->max_gap_ns = sent_ns - st->last_sent_ns;
			st->max_gap_seq = seq;
		}
	}
	st->frames++;
	st->last_seq = seq;
	st->last_sent_ns = sent_ns;
}

/* Publish n->st (see struct rx_state). */
static void rx_publish(struct nic *n)
{
	uint64_t commit = n->state->commit;

	n->state->stats[(commit + 1) & 1] = n->st;
	__atomic_store_n(&n->state->commit, commit + 1, __ATOMIC_RELEASE);
}

/* Give descriptors [@from, @to) back to the NIC, empty. */
static void rx_refill(struct nic *n, unsigned int from, unsigned int to)
{
	unsigned int i;

	/* Published before any descriptor is cleared (struct rx_state). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (i = from; i != to; i = (i + 1) % RING_DESCS)
		n->ring[i].status = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	nic_wr(n, E1000_RDT, (to + RING_DESCS - 1) % RING_DESCS);
}

/*
 * Take every frame the NIC has written, up to @limit of them, publish,
 * and hand their descriptors back.  Returns how many it took.
 */
static unsigned int rx_poll(struct nic *n, unsigned int limit)
{
	unsigned int from = n->st.next, i = from, taken = 0;

	while (taken < limit && (n->ring[i].status & RX_DD)) {
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		rx_frame(n, i);
		i = (i + 1) % RING_DESCS;
		taken++;
	}
	if (!taken)
		return 0;
	n->st.next = i;
	rx_publish(n);
	rx_refill(n, from, i);
	return taken;
}

/* Receive until @frames more frames or @ms milliseconds have passed. */
static void rx_for(struct nic *n, uint64_t frames, unsigned int ms)
{
	int64_t end = now_ms() + ms;
	uint64_t taken = 0, got;

	while (taken < frames && now_ms() < end) {
		got = rx_poll(n, frames - taken < RING_DESCS ?
				 frames - taken : RING_DESCS);
		if (!got)
			sleep_ms(POLL_MS);
		taken += got;
	}
}

/* Stages ------------------------------------------------------------------- */

static int nic_open(struct nic *n, const char *bdf, bool live_update)
{
	int ret;

	memset(n, 0, sizeof(*n));
	n->dev = VFIO_PCI_DEV_INIT(bdf);
	n->container = n->ram_fd = n->dom_fd = -1;

	ret = ram_open(n, !live_update);
	if (ret)
		return ret;
	n->container = vfio_persistent_container(&n->dev, n->dom_fd, n->ram,
						 IOVA_BASE, RAM_SIZE,
						 live_update);
	if (n->container < 0)
		return n->container;
	return vfio_dev_open(&n->dev);
}

/* The child that keeps reading the ring until the kexec stops it. */
static void hold(struct nic *n)
{
	int64_t end = now_ms() + HOLD_SECS * 1000LL;

	vfio_holder_detach();
	while (now_ms() < end) {
		if (!rx_poll(n, RING_DESCS))
			sleep_ms(POLL_MS);
		__atomic_store_n(&n->state->polls, n->state->polls + 1,
				 __ATOMIC_RELEASE);
	}
	_exit(0);
}

static void start(const char *bdf)
{
	struct nic n;
	pid_t pid;
	bool ok;

	ksft_set_plan(6);
	ok = !nic_open(&n, bdf, false);
	ksft_test_result(ok, "nic-ram at IOVA 0 in a persistent container, %s open\n",
			 bdf);
	if (!ok)
		ksft_exit_fail();
	ok = !pci_enable_dma(&n.dev) && !nic_init(&n);
	ksft_test_result(ok, "e1000e reset, %lu-descriptor ring set up, receive on\n",
			 (unsigned long)RING_DESCS);
	if (!ok)
		ksft_exit_fail();
	ksft_test_result(wait_bits(&n, E1000_STATUS, E1000_STATUS_LU,
				   E1000_STATUS_LU, LINK_TIMEOUT_MS),
			 "link up\n");

	/*
	 * What QEMU and the host's socket kept while receive was off comes
	 * first, with a jump in the sequence numbers to today's frames:
	 * take it, then count from the next frame on.
	 */
	rx_for(&n, UINT64_MAX, WARMUP_MS);
	n.st = (struct rx_stats){ .next = n.st.next, .corrupt = n.st.corrupt };
	rx_for(&n, FIRST_FRAMES, FIRST_TIMEOUT_MS);
	ksft_test_result(n.st.frames >= FIRST_FRAMES,
			 "%" PRIu64 " frames received through the IOMMU (want %u)\n",
			 n.st.frames, FIRST_FRAMES);
	ksft_test_result(!n.st.corrupt && !n.st.lost,
			 "every frame byte-exact, none lost (%" PRIu64 " bad, %" PRIu64 " lost)\n",
			 n.st.corrupt, n.st.lost);
	ksft_test_result(!dmar_faults(bdf), "no DMAR fault for %s\n", bdf);

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (pid == 0)
		hold(&n);
	ksft_print_msg("poller %d keeps receiving until the kexec\n", pid);
	ksft_finished();
}

/* What the NIC wrote while no kernel read the ring (see resume()). */
struct kexec_window {
	uint64_t frames;	/* frames that landed then */
	uint64_t span_ns;	/* first to last, in the sender's time */
	uint64_t lost;		/* missing, up to the first frame after */
	bool overrun;		/* the NIC used every descriptor it had */
};

/*
 * nic-ram holds what the old kernel's poller published last (@old): from
 * old->next on, the ring holds what the NIC wrote while nobody read it.
 * RDH, read once the device is open again, marks the end of that.  Take
 * those frames into @w, hand the ring back, and wait for the next frame:
 * frames the NIC dropped for want of a descriptor show as a gap before it.
 */
static int rx_kexec_window(struct nic *n, const struct rx_stats *old,
			   struct kexec_window *w)
{
	unsigned int rdh, rdt, i, given;
	uint64_t first_ns = 0;

	rdh = nic_rd(n, E1000_RDH);
	rdt = nic_rd(n, E1000_RDT);
	ksft_print_msg("nic: ring after the kexec: RDH %u, RDT %u, next %u\n",
		       rdh, rdt, old->next);
	if (rdh >= RING_DESCS || rdt >= RING_DESCS || old->next >= RING_DESCS)
		return -EIO;

	n->st = *old;
	for (i = old->next; i != rdh; i = (i + 1) % RING_DESCS) {
		if (!(n->ring[i].status & RX_DD)) {
			ksft_print_msg("descriptor %u, before RDH, not written back\n",
				       i);
			n->st.corrupt++;
			break;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		rx_frame(n, i);
		if (n->st.frames == old->frames + 1)
			first_ns = n->st.last_sent_ns;
	}
	w->frames = n->st.frames - old->frames;
	w->span_ns = w->frames ? n->st.last_sent_ns - first_ns : 0;
	/* The NIC had the descriptors from old->next up to RDT. */
	given = (rdt + RING_DESCS - old->next) % RING_DESCS;
	w->overrun = n->st.frames + n->st.corrupt - old->frames -
		     old->corrupt >= given;

	/* Hand back what the old poller took but had not returned, too. */
	n->st.next = i;
	rx_publish(n);
	rx_refill(n, (rdt + 1) % RING_DESCS, i);
	rx_for(n, 1, RESUME_MS);
	w->lost = n->st.lost - old->lost;
	return 0;
}

/*
 * The live-update boot.  The frames of the kexec window must span
 * MIN_KEXEC_SPAN_NS of the sender's time at least: a kexec and a boot
 * take seconds, a poller misses a few milliseconds at most, so frames
 * over a longer span than that can only have landed while the kernels
 * switched.  The scenario checked, right before 'kexec -e', that the
 * poller was still at work.
 */
static void resume(const char *bdf)
{
	const char *bench = getenv("PKERNFS_NIC_BENCH");
	uint64_t lost_after, unexcused;
	struct kexec_window w;
	struct rx_stats old;
	uint16_t cmd = 0;
	struct nic n;
	bool ok;

	ksft_set_plan(11);
	ok = !nic_open(&n, bdf, true);
	if (bench)
		printf("stamp reattach %s %llu\n", bench, __builtin_ia32_rdtsc());
	ksft_test_result(ok, "nic-ram re-declared in the kept domain, %s open\n",
			 bdf);
	if (!ok)
		ksft_exit_fail();

	ok = n.state->magic == STATE_MAGIC;
	ksft_test_result(ok, "the old kernel's poller left its stats in nic-ram (%" PRIu64 " polls)\n",
			 n.state->polls);
	if (!ok)
		ksft_exit_fail();
	old = n.state->stats[n.state->commit & 1];

	pci_cfg_read16(&n.dev, PCI_COMMAND, &cmd);
	ksft_test_result((cmd & PCI_COMMAND_MASTER) &&
			 nic_rd(&n, E1000_RCTL) == RCTL_RX &&
			 nic_rd(&n, E1000_RDLEN) == RING_LEN &&
			 nic_rd(&n, E1000_RDBAL) == IOVA_BASE + RING_OFF,
			 "still bus master and receiving into the same ring, not reset (command %#x, RCTL %#x)\n",
			 cmd, nic_rd(&n, E1000_RCTL));

	if (rx_kexec_window(&n, &old, &w))
		ksft_exit_fail_msg("the NIC's ring pointers are out of the ring\n");
	ksft_test_result(w.frames > 0,
			 "%" PRIu64 " frames landed in guest RAM during the kexec\n",
			 w.frames);
	ksft_test_result(w.span_ns >= MIN_KEXEC_SPAN_NS,
			 "they span %" PRIu64 " ms of the sender's time (want >= %llu)\n",
			 w.span_ns / 1000000, MIN_KEXEC_SPAN_NS / 1000000);

	rx_for(&n, UINT64_MAX, RESUME_MS);
	lost_after = n.st.lost - old.lost - w.lost;
	ksft_test_result(n.st.frames > old.frames + w.frames,
			 "frames keep arriving after the live update\n");
	ksft_test_result(!n.st.corrupt, "every frame byte-exact (%" PRIu64 " bad)\n",
			 n.st.corrupt);
	ksft_test_result(!old.lost, "none lost before the kexec (%" PRIu64 ")\n",
			 old.lost);
	ksft_test_result(!w.lost || w.overrun,
			 "none lost during it but to a ring overrun (%" PRIu64 " lost, ring %s)\n",
			 w.lost, w.overrun ? "overran" : "never full");
	ksft_test_result(!lost_after, "none lost after it (%" PRIu64 ")\n",
			 lost_after);
	ksft_test_result(!dmar_faults(bdf), "no DMAR fault for %s\n", bdf);

	ksft_print_msg("nic: frames %" PRIu64 "..%" PRIu64 ": received before the kexec %" PRIu64
		       ", during %" PRIu64 " (%" PRIu64 " ms), after %" PRIu64 "\n",
		       n.st.first_seq, n.st.last_seq, old.frames, w.frames,
		       w.span_ns / 1000000, n.st.frames - old.frames - w.frames);
	ksft_print_msg("nic: lost %" PRIu64 "%s; longest gap %" PRIu64 " ms of sender time, before frame %" PRIu64 "\n",
		       n.st.lost, w.overrun ? " (ring overrun)" : "",
		       n.st.max_gap_ns / 1000000, n.st.max_gap_seq);
	unexcused = n.st.lost - (w.overrun ? w.lost : 0);
	if (bench) {
		printf("sample nic %s during %" PRIu64 "\n", bench, w.frames);
		printf("sample nic %s span_us %" PRIu64 "\n", bench,
		       w.span_ns / 1000);
		printf("sample nic %s gap_us %" PRIu64 "\n", bench,
		       n.st.max_gap_ns / 1000);
		printf("sample nic %s lost %" PRIu64 "\n", bench, unexcused);
		printf("sample nic %s corrupt %" PRIu64 "\n", bench,
		       n.st.corrupt);
	}
	nic_wr(&n, E1000_RCTL, 0);
	ksft_finished();
}

/*
 * Whether the poller 'start' left still reads the ring: its count of
 * looks at the ring, in nic-ram, grows within 200 ms.
 */
static void alive(void)
{
	struct rx_state *state;
	uint64_t before, after;
	void *p;
	int fd;

	ksft_set_plan(1);
	fd = vmm_file_open(mnt, NIC_RAM, false);
	if (fd < 0)
		ksft_exit_fail_msg("open " NIC_RAM ": %s\n", strerror(errno));
	p = mmap(NULL, RAM_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		ksft_exit_fail_msg("mmap " NIC_RAM ": %s\n", strerror(errno));
	state = (struct rx_state *)((uint8_t *)p + STATE_OFF);
	before = __atomic_load_n(&state->polls, __ATOMIC_ACQUIRE);
	sleep_ms(200);
	after = __atomic_load_n(&state->polls, __ATOMIC_ACQUIRE);
	ksft_test_result(after > before,
			 "the poller still reads the ring (%" PRIu64 " looks, then %" PRIu64 ")\n",
			 before, after);
	ksft_finished();
}

int main(int argc, char **argv)
{
	mnt = pk_mnt();
	ksft_print_header();
	if (argc == 3 && !strcmp(argv[1], "start"))
		start(argv[2]);
	else if (argc == 3 && !strcmp(argv[1], "resume"))
		resume(argv[2]);
	else if (argc == 2 && !strcmp(argv[1], "alive"))
		alive();
	fprintf(stderr, "usage: %s start|resume BDF | alive\n", argv[0]);
	return KSFT_FAIL;
}
