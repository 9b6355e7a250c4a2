/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A PCI device passed through with VFIO, for the pkernfs selftests that
 * play a VMM: the container with its persistent page tables, DMA maps,
 * the device's config space and BAR0, and the kernel log's DMAR faults.
 * Shared by pkernfs_vfio (QEMU's edu) and pkernfs_nic (QEMU's e1000e).
 *
 * Everything is static inline, as in pkernfs_util.h.
 */
#ifndef PKERNFS_VFIO_UTIL_H
#define PKERNFS_VFIO_UTIL_H

#include <limits.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest.h"
#include "pkernfs_util.h"

/* The uapi these tests are written against, for headers that predate it. */
#ifndef VFIO_CONTAINER_SET_PERSISTENT_PGTABLES
struct vfio_set_persistent_pgtables {
	__u32 argsz;
	__u32 flags;
	__s32 fd;	/* fd of an open pkernfs iommu/<name> file */
};

#define VFIO_CONTAINER_SET_PERSISTENT_PGTABLES	_IO(VFIO_TYPE, VFIO_BASE + 22)
#endif
#ifndef VFIO_DMA_MAP_FLAG_LIVE_UPDATE
#define VFIO_DMA_MAP_FLAG_LIVE_UPDATE		(1 << 3)
#endif
#ifndef VFIO_PERSISTENT_PGTABLES
#define VFIO_PERSISTENT_PGTABLES		11
#endif

/* A device of @_bdf not opened yet: every fd closed. */
#define VFIO_PCI_DEV_INIT(_bdf)						\
	((struct vfio_pci_dev){						\
		.bdf = (_bdf), .group_fd = -1, .dev_fd = -1, .cfg_fd = -1, \
	})

/* What vfio-pci logs, after the device, when it opens a kept device. */
#define NO_RESET_MSG	"kept running through the live update, not reset"

/* One PCI device, through VFIO (BAR0 from the device fd) or through sysfs. */
struct vfio_pci_dev {
	const char *bdf;
	int group_fd;
	int dev_fd;
	int cfg_fd;		/* sysfs config when not through VFIO */
	uint64_t cfg_off;	/* offset of the config region in dev_fd */
	void *bar;		/* BAR0, mapped */
	size_t bar_size;
};

/* The kernel log --------------------------------------------------------- */

/*
 * Return a copy of the text of the last record of this kernel's log that
 * contains @needle, or NULL, and count such records in *@count if not
 * NULL. /dev/kmsg gives every record still in the buffer, whatever its
 * size, and does not need klogctl's buffer sizing.
 */
static inline char *kmsg_find_count(const char *needle, unsigned int *count)
{
	char rec[2048], *found = NULL, *text;
	ssize_t n;
	int fd;

	if (count)
		*count = 0;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0) {
			if (errno == EPIPE)	/* overwritten: go on */
				continue;
			break;
		}
		rec[n] = '\0';
		text = strchr(rec, ';');
		if (!text)
			continue;
		text++;
		text[strcspn(text, "\n")] = '\0';
		if (strstr(text, needle)) {
			free(found);
			found = strdup(text);
			if (count)
				(*count)++;
		}
	}
	close(fd);
	return found;
}

static inline char *kmsg_find(const char *needle)
{
	return kmsg_find_count(needle, NULL);
}

/* The DMAR fault reports that name PCI device @bdf so far. */
static inline unsigned int dmar_faults(const char *bdf)
{
	unsigned int count;
	char needle[64];

	/* "0000:00:02.0" is "Request device [00:02.0]" in the fault line. */
	snprintf(needle, sizeof(needle), "Request device [%s]",
		 strncmp(bdf, "0000:", 5) ? bdf : bdf + 5);
	free(kmsg_find_count(needle, &count));
	return count;
}

/* VFIO ------------------------------------------------------------------ */

/* The IOMMU group number of PCI device @bdf, or -errno. */
static inline int pci_iommu_group(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX], *slash;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	slash = strrchr(link, '/');
	return atoi(slash ? slash + 1 : link);
}

static inline int vfio_container_open(void)
{
	int fd, ret;

	fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = ioctl(fd, VFIO_GET_API_VERSION);
	if (ret != VFIO_API_VERSION) {
		ksft_print_msg("VFIO API version %d, want %d\n", ret,
			       VFIO_API_VERSION);
		close(fd);
		return -EPROTO;
	}
	if (ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		ksft_print_msg("VFIO has no type1v2 IOMMU\n");
		close(fd);
		return -EOPNOTSUPP;
	}
	return fd;
}

/* Open the group of @d->bdf and put it in @container. */
static inline int vfio_group_attach(struct vfio_pci_dev *d, int container)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int group;

	group = pci_iommu_group(d->bdf);
	if (group < 0) {
		ksft_print_msg("%s: no IOMMU group: %s\n", d->bdf,
			       strerror(-group));
		return group;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	d->group_fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->group_fd < 0) {
		ksft_print_msg("open %s: %s (is %s bound to vfio-pci?)\n",
			       path, strerror(errno), d->bdf);
		return -errno;
	}
	if (ioctl(d->group_fd, VFIO_GROUP_GET_STATUS, &status)) {
		ksft_perror("VFIO_GROUP_GET_STATUS");
		return -errno;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		ksft_print_msg("group %d is not viable: bind every device of it to vfio-pci\n",
			       group);
		return -EBUSY;
	}
	if (ioctl(d->group_fd, VFIO_GROUP_SET_CONTAINER, &container)) {
		ksft_perror("VFIO_GROUP_SET_CONTAINER");
		return -errno;
	}
	ksft_print_msg("%s: IOMMU group %d\n", d->bdf, group);
	return 0;
}

static inline int vfio_set_persistent(int container, int fd)
{
	struct vfio_set_persistent_pgtables args = {
		.argsz = sizeof(args),
		.flags = 0,
		.fd = fd,
	};

	return ioctl(container, VFIO_CONTAINER_SET_PERSISTENT_PGTABLES,
		     &args) ? -errno : 0;
}

static inline int vfio_set_iommu(int container)
{
	return ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? -errno : 0;
}

static inline int vfio_dma_map_flags(int container, void *vaddr,
				     uint64_t iova, uint64_t size,
				     uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

/* A read-write mapping, with @extra_flags. */
static inline int vfio_dma_map(int container, void *vaddr, uint64_t iova,
			       uint64_t size, uint32_t extra_flags)
{
	return vfio_dma_map_flags(container, vaddr, iova, size,
			     VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE |
			     extra_flags);
}

/* Unmap [@iova, +@size); returns the bytes unmapped or -errno. */
static inline int64_t vfio_dma_unmap(int container, uint64_t iova,
				     uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	return unmap.size;
}

/*
 * A persistent container for the group of @d: its page tables in the
 * pkernfs file @dom_fd, and @size bytes at @ram mapped at @iova, anew or,
 * with @live_update, re-declared over what the kept tables map.  Returns
 * the container's fd or -errno.
 */
static inline int vfio_persistent_container(struct vfio_pci_dev *d,
					    int dom_fd, void *ram,
					    uint64_t iova, uint64_t size,
					    bool live_update)
{
	int container, ret;

	container = vfio_container_open();
	if (container < 0)
		return container;
	ret = vfio_set_persistent(container, dom_fd);
	if (ret) {
		ksft_print_msg("SET_PERSISTENT_PGTABLES: %s\n", strerror(-ret));
		goto fail;
	}
	ret = vfio_group_attach(d, container);
	if (ret)
		goto fail;
	ret = vfio_set_iommu(container);
	if (ret) {
		ksft_print_msg("VFIO_SET_IOMMU: %s\n", strerror(-ret));
		goto fail;
	}
	ret = vfio_dma_map(container, ram, iova, size,
			   live_update ? VFIO_DMA_MAP_FLAG_LIVE_UPDATE : 0);
	if (ret) {
		ksft_print_msg("MAP_DMA%s: %s\n",
			       live_update ? " (LIVE_UPDATE)" : "",
			       strerror(-ret));
		goto fail;
	}
	return container;
fail:
	close(container);
	return ret;
}

/*
 * Open the file @name under the pkernfs mount @mnt read-write, or create
 * it, with O_EXCL, if @create.
 */
static inline int vmm_file_open(const char *mnt, const char *name,
				bool create)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", mnt, name);
	return open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0),
		    0600);
}

/* Get the device fd, the config region and BAR0 (mmap'd) of @d. */
static inline int vfio_dev_open(struct vfio_pci_dev *d)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	void *bar;

	d->dev_fd = ioctl(d->group_fd, VFIO_GROUP_GET_DEVICE_FD, d->bdf);
	if (d->dev_fd < 0) {
		ksft_perror("VFIO_GROUP_GET_DEVICE_FD");
		return -errno;
	}

	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(d->dev_fd, VFIO_DEVICE_GET_REGION_INFO, &reg)) {
		ksft_perror("VFIO_DEVICE_GET_REGION_INFO(config)");
		return -errno;
	}
	d->cfg_off = reg.offset;

	memset(&reg, 0, sizeof(reg));
	reg.argsz = sizeof(reg);
	reg.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(d->dev_fd, VFIO_DEVICE_GET_REGION_INFO, &reg)) {
		ksft_perror("VFIO_DEVICE_GET_REGION_INFO(BAR0)");
		return -errno;
	}
	if (!(reg.flags & VFIO_REGION_INFO_FLAG_MMAP) || !reg.size) {
		ksft_print_msg("BAR0 cannot be mmap'd (flags %#x, size %#llx)\n",
			       reg.flags, (unsigned long long)reg.size);
		return -EINVAL;
	}
	bar = mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   d->dev_fd, reg.offset);
	if (bar == MAP_FAILED) {
		ksft_perror("mmap BAR0");
		return -errno;
	}
	d->bar = bar;
	d->bar_size = reg.size;
	return 0;
}

/* Map BAR0 of @d through /sys/bus/pci/devices/BDF/resource0: no driver. */
static inline int sysfs_dev_open(struct vfio_pci_dev *d)
{
	char path[PATH_MAX];
	struct stat st;
	void *bar;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", d->bdf);
	d->cfg_fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->cfg_fd < 0) {
		ksft_print_msg("open %s: %s\n", path, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", d->bdf);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ksft_print_msg("open %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	bar = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (bar == MAP_FAILED) {
		ksft_print_msg("mmap %s: %s\n", path, strerror(errno));
		return -errno;
	}
	d->bar = bar;
	d->bar_size = st.st_size;
	return 0;
}

static inline void pci_dev_close(struct vfio_pci_dev *d)
{
	if (d->bar)
		munmap(d->bar, d->bar_size);
	if (d->dev_fd >= 0)
		close(d->dev_fd);
	if (d->cfg_fd >= 0)
		close(d->cfg_fd);
	if (d->group_fd >= 0)
		close(d->group_fd);
	d->bar = NULL;
	d->dev_fd = d->cfg_fd = d->group_fd = -1;
}

/* PCI config space of @d: through VFIO if open, else through sysfs. */
static inline int pci_cfg_read16(struct vfio_pci_dev *d, unsigned int off,
				 uint16_t *val)
{
	ssize_t n;

	if (d->dev_fd >= 0)
		n = pread(d->dev_fd, val, 2, d->cfg_off + off);
	else
		n = pread(d->cfg_fd, val, 2, off);
	if (n != 2)
		return n < 0 ? -errno : -EIO;
	*val = le16toh(*val);
	return 0;
}

static inline int pci_cfg_write16(struct vfio_pci_dev *d, unsigned int off,
				  uint16_t val)
{
	ssize_t n;

	val = htole16(val);
	if (d->dev_fd >= 0)
		n = pwrite(d->dev_fd, &val, 2, d->cfg_off + off);
	else
		n = pwrite(d->cfg_fd, &val, 2, off);
	if (n != 2)
		return n < 0 ? -errno : -EIO;
	return 0;
}

/* Read the command register of @bdf through sysfs, without opening it. */
static inline int pci_sysfs_command(const char *bdf, uint16_t *cmd)
{
	struct vfio_pci_dev e = VFIO_PCI_DEV_INIT(bdf);
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	e.cfg_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e.cfg_fd < 0)
		return -errno;
	ret = pci_cfg_read16(&e, PCI_COMMAND, cmd);
	close(e.cfg_fd);
	return ret;
}

/*
 * 32-bit registers in BAR0 (edu's below 0x80 and e1000e's take no other
 * size). Atomic accesses are single 32-bit loads and stores, never merged
 * or split.
 */
static inline uint32_t bar_rd32(struct vfio_pci_dev *d, unsigned int reg)
{
	return __atomic_load_n((uint32_t *)((char *)d->bar + reg),
			       __ATOMIC_SEQ_CST);
}

static inline void bar_wr32(struct vfio_pci_dev *d, unsigned int reg,
			    uint32_t val)
{
	__atomic_store_n((uint32_t *)((char *)d->bar + reg), val,
			 __ATOMIC_SEQ_CST);
}

static inline int pci_enable_dma(struct vfio_pci_dev *d)
{
	uint16_t cmd;
	int ret;

	ret = pci_cfg_read16(d, PCI_COMMAND, &cmd);
	if (!ret)
		ret = pci_cfg_write16(d, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY |
				      PCI_COMMAND_MASTER);
	if (ret)
		ksft_print_msg("%s: enable memory and bus mastering: %s\n",
			       d->bdf, strerror(-ret));
	return ret;
}

/*
 * In a child that holds a container and its device across a kexec: a
 * session of its own and stdio on /dev/null, so that the scenario
 * reading the parent's output does not wait for the child's end.
 */
static inline void vfio_holder_detach(void)
{
	int fd;

	setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

#endif /* PKERNFS_VFIO_UTIL_H */
