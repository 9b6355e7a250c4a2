// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs_vfio_sibling - a device kept running through a live update is
 * not reset with its reset group before its VMM has opened it.
 *
 * FN0, an e1000e, and FN1, an edu, are functions 0 and 1 of one slot
 * behind a PCIe root port (scenarios/vfio-sibling.qemu): one IOMMU group,
 * and one reset group, since edu has neither FLR nor power management
 * and only a secondary bus reset, which covers both, can reset it.  A
 * reset clears the e1000e's registers: RDBAL tells.
 *
 *   pkernfs_vfio_sibling stage1 FN0 FN1
 *	Put the group in a persistent container (sib-ram at IOVA 0, page
 *	tables in iommu/sib-dom), open FN0 and write its RDBAL; a child
 *	holds it all through the kexec.
 *
 *   pkernfs_vfio_sibling stage2 FN0 FN1
 *	On the 'liveupdate' boot, re-attach and re-declare sib-ram, and open
 *	FN1 before FN0, as a VMM may.  FN1, in the kept group but never
 *	enabled, is not taken for a device kept running.  Closing it, which
 *	needs a reset, does not reset the bus, and a hot reset asked through
 *	FN1 is refused with EBUSY and one log line (FN0's RDBAL, read
 *	through sysfs, tells).  FN0 then opens as it was left, not reset,
 *	RDBAL as stage 1 wrote it.  Once FN0 is open, the hot reset works
 *	and resets both.
 *
 * Environment: PKERNFS_MNT, the pkernfs mount point (default /mnt/pkernfs).
 * Output is TAP; the exit status is the kselftest one.
 */
#define _GNU_SOURCE

#include "pkernfs_vfio_util.h"

#define E1000_RDBAL		0x2800	/* 0 after a reset */
#define RDBAL_VALUE		0x51b1e000U

#define SIB_RAM			"sib-ram"
#define SIB_DOM			"iommu/sib-dom"
#define RAM_SIZE		(2ULL << 20)
#define IOVA_BASE		0ULL
#define HOLD_SECS		600

#define REFUSED_MSG		"kept running through the live update and " \
				"not opened since: bus reset refused"

static const char *mnt;

struct sibling_vmm {
	int container;
	int ram_fd;
	int dom_fd;
	void *ram;
	struct vfio_pci_dev fn0;
	struct vfio_pci_dev fn1;
};

/*
 * The group of @v->fn0 (FN1 is in it too) in a persistent container with
 * sib-ram at IOVA 0, created or, on the live-update boot, re-declared.
 */
static int vmm_setup(struct sibling_vmm *v, bool live_update)
{
	v->ram_fd = vmm_file_open(mnt, SIB_RAM, !live_update);
	v->dom_fd = vmm_file_open(mnt, SIB_DOM, !live_update);
	if (v->ram_fd < 0 || v->dom_fd < 0) {
		ksft_perror("open " SIB_RAM " or " SIB_DOM);
		return -errno;
	}
	if (!live_update && ftruncate(v->ram_fd, RAM_SIZE))
		return -errno;
	v->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      v->ram_fd, 0);
	if (v->ram == MAP_FAILED)
		return -errno;

	v->container = vfio_persistent_container(&v->fn0, v->dom_fd, v->ram,
						 IOVA_BASE, RAM_SIZE,
						 live_update);
	return v->container < 0 ? v->container : 0;
}

static void vmm_init(struct sibling_vmm *v, const char *bdf0,
		     const char *bdf1)
{
	memset(v, 0, sizeof(*v));
	v->fn0 = VFIO_PCI_DEV_INIT(bdf0);
	v->fn1 = VFIO_PCI_DEV_INIT(bdf1);
}

/* Open @d, whose group @v->fn0 holds. */
static int dev_open(struct sibling_vmm *v, struct vfio_pci_dev *d)
{
	d->group_fd = v->fn0.group_fd;
	return vfio_dev_open(d);
}

static void dev_close(struct vfio_pci_dev *d)
{
	d->group_fd = -1;	/* fn0's, closed with it */
	pci_dev_close(d);
}

/* VFIO_DEVICE_PCI_HOT_RESET through @d, for the group @v holds. */
static int hot_reset(struct sibling_vmm *v, struct vfio_pci_dev *d)
{
	struct {
		struct vfio_pci_hot_reset reset;
		__s32 group_fd;
	} args = {
		.reset = { .argsz = sizeof(args), .count = 1 },
		.group_fd = v->fn0.group_fd,
	};

	return ioctl(d->dev_fd, VFIO_DEVICE_PCI_HOT_RESET, &args) ? -errno : 0;
}

static unsigned int kmsg_count(const char *needle)
{
	unsigned int n;

	free(kmsg_find_count(needle, &n));
	return n;
}

static void stage1(const char *bdf0, const char *bdf1)
{
	struct sibling_vmm v;
	pid_t pid;
	bool ok;

	ksft_set_plan(2);
	vmm_init(&v, bdf0, bdf1);
	ok = !vmm_setup(&v, false) && !vfio_dev_open(&v.fn0) &&
	     !pci_enable_dma(&v.fn0);
	ksft_test_result(ok, "%s (and %s, same group) in a persistent container, %s open\n",
			 bdf0, bdf1, bdf0);
	if (!ok)
		ksft_exit_fail();
	bar_wr32(&v.fn0, E1000_RDBAL, RDBAL_VALUE);
	ksft_test_result(bar_rd32(&v.fn0, E1000_RDBAL) == RDBAL_VALUE,
			 "%s: RDBAL holds %#x\n", bdf0,
			 RDBAL_VALUE);

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (pid == 0) {
		vfio_holder_detach();
		sleep(HOLD_SECS);
		_exit(0);
	}
	ksft_print_msg("pid %d holds the container and %s until the kexec\n",
		       pid, bdf0);
	ksft_finished();
}

/* FN0's RDBAL, read through sysfs: FN0 stays unopened. */
static uint32_t rdbal_unopened(const char *bdf)
{
	struct vfio_pci_dev d = VFIO_PCI_DEV_INIT(bdf);
	uint32_t val = 0;

	if (!sysfs_dev_open(&d))
		val = bar_rd32(&d, E1000_RDBAL);
	pci_dev_close(&d);
	return val;
}

static void stage2(const char *bdf0, const char *bdf1)
{
	unsigned int refused, kept;
	struct sibling_vmm v;
	char needle[128];
	uint32_t rdbal;
	int ret;

	ksft_set_plan(8);
	vmm_init(&v, bdf0, bdf1);
	ret = vmm_setup(&v, true);
	ksft_test_result(!ret, "re-attached, " SIB_RAM " re-declared\n");
	if (ret)
		ksft_exit_fail();

	/*
	 * FN1 first: its close wants a reset, and only the bus one exists.
	 * Stage 1 never enabled it: in a kept group, but not kept running.
	 */
	snprintf(needle, sizeof(needle), "%s: %s", bdf1, NO_RESET_MSG);
	ret = dev_open(&v, &v.fn1);
	if (ret)
		ksft_exit_fail_msg("open %s: %s\n", bdf1, strerror(-ret));
	ksft_test_result(!kmsg_count(needle),
			 "%s, never enabled before the kexec, is not taken for a device kept running\n",
			 bdf1);
	dev_close(&v.fn1);
	rdbal = rdbal_unopened(bdf0);
	ksft_test_result(rdbal == RDBAL_VALUE,
			 "%s not reset when %s closed (RDBAL reads %#x, want %#x)\n",
			 bdf0, bdf1, rdbal, RDBAL_VALUE);

	ret = dev_open(&v, &v.fn1);
	if (ret)
		ksft_exit_fail_msg("open %s: %s\n", bdf1, strerror(-ret));
	ret = hot_reset(&v, &v.fn1);
	snprintf(needle, sizeof(needle), "%s: %s", bdf0, REFUSED_MSG);
	refused = kmsg_count(needle);
	ksft_test_result(ret == -EBUSY && refused == 1,
			 "hot reset through %s before %s is opened: %s (want EBUSY), \"%s\" logged %u time(s)\n",
			 bdf1, bdf0, strerror(-ret), REFUSED_MSG, refused);
	dev_close(&v.fn1);

	snprintf(needle, sizeof(needle), "%s: %s", bdf0, NO_RESET_MSG);
	kept = kmsg_count(needle);
	ret = vfio_dev_open(&v.fn0);
	if (ret)
		ksft_exit_fail_msg("open %s: %s\n", bdf0, strerror(-ret));
	ksft_test_result(kmsg_count(needle) == kept + 1,
			 "%s opens as it kept running, not reset\n", bdf0);
	rdbal = bar_rd32(&v.fn0, E1000_RDBAL);
	ksft_test_result(rdbal == RDBAL_VALUE,
			 "%s: RDBAL still %#x (reads %#x)\n",
			 bdf0, RDBAL_VALUE, rdbal);

	/*
	 * Once its VMM has it, the reset group is free again.  QEMU 7.2's
	 * root port never reports its link active after a bus reset, so
	 * the kernel, having reset the bus, returns ENOTTY.
	 */
	ret = dev_open(&v, &v.fn1);
	if (!ret)
		ret = hot_reset(&v, &v.fn1);
	ksft_test_result(!ret || ret == -ENOTTY,
			 "hot reset with %s open not refused (%s)\n", bdf0,
			 strerror(-ret));
	rdbal = bar_rd32(&v.fn0, E1000_RDBAL);
	ksft_test_result(!rdbal,
			 "... and it reset %s (RDBAL reads %#x)\n", bdf0,
			 rdbal);
	ksft_finished();
}

int main(int argc, char **argv)
{
	mnt = pk_mnt();
	ksft_print_header();
	if (argc == 4 && !strcmp(argv[1], "stage1"))
		stage1(argv[2], argv[3]);
	else if (argc == 4 && !strcmp(argv[1], "stage2"))
		stage2(argv[2], argv[3]);
	fprintf(stderr, "usage: %s stage1|stage2 FN0 FN1\n", argv[0]);
	return KSFT_FAIL;
}
