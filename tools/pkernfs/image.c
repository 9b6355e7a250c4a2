// SPDX-License-Identifier: GPL-2.0-only
/*
 * Opening a pkernfs region: a regular file holding a copy of the whole
 * region, or the live region through /dev/mem (or any character device that
 * maps physical memory at file offset == physical address).
 *
 * The image is mapped read-only unless it is to be repaired, so a plain
 * check can never change it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pkfs.h"

static int pkfs_image_fail(struct pkfs_image *img, const char *what)
{
	fprintf(stderr, PKFS_NAME ": %s: %s: %s\n", img->path, what,
		strerror(errno));
	if (img->fd >= 0)
		close(img->fd);
	img->fd = -1;
	return -1;
}

/* Decide how much to map: the file's size, or --size for a device. */
static int pkfs_image_size(struct pkfs_image *img, const struct stat *st)
{
	if (S_ISREG(st->st_mode)) {
		img->size = st->st_size;
		return 0;
	}
	if (!S_ISCHR(st->st_mode) && !S_ISBLK(st->st_mode)) {
		errno = EINVAL;
		return pkfs_image_fail(img, "not a file or memory device");
	}
	if (!img->have_base || !img->have_size) {
		fprintf(stderr, PKFS_NAME ": %s: a device needs --base and --size\n",
			img->path);
		close(img->fd);
		img->fd = -1;
		return -1;
	}
	img->devmem = true;
	img->size = img->given_size;
	return 0;
}

/**
 * pkfs_image_open() - open and map a region image
 * @img: path, base and size (with have_base/have_size) filled in
 * @path: file or device
 * @writable: map it shared and writable, for --repair
 *
 * A character or block device is taken to be /dev/mem: it is mapped at
 * --base for --size bytes.  A regular file is mapped whole.
 *
 * Return: 0, or -1 after printing why (an operational error).
 */
int pkfs_image_open(struct pkfs_image *img, const char *path, bool writable)
{
	int prot = PROT_READ | (writable ? PROT_WRITE : 0);
	int flags = writable ? MAP_SHARED : MAP_PRIVATE;
	off_t offset = 0;
	struct stat st;
	void *map;

	img->path = path;
	img->writable = writable;
	img->devmem = false;
	img->map = NULL;
	img->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (img->fd < 0)
		return pkfs_image_fail(img, "cannot open");
	if (fstat(img->fd, &st))
		return pkfs_image_fail(img, "cannot stat");
	if (pkfs_image_size(img, &st))
		return -1;
	if (img->devmem) {
		/* /dev/mem must be shared to see (and write) the real RAM. */
		flags = MAP_SHARED;
		offset = img->base;
		if ((uint64_t)offset != img->base) {
			errno = EOVERFLOW;
			return pkfs_image_fail(img, "bad --base");
		}
	}
	if (img->size < sizeof(struct pkernfs_super)) {
		fprintf(stderr, PKFS_NAME ": %s: %" PRIu64 " bytes, too small to be a pkernfs region\n",
			path, img->size);
		close(img->fd);
		img->fd = -1;
		return -1;
	}
	if (img->size != (size_t)img->size) {
		errno = EFBIG;
		return pkfs_image_fail(img, "cannot map");
	}
	map = mmap(NULL, img->size, prot, flags, img->fd, offset);
	if (map == MAP_FAILED)
		return pkfs_image_fail(img, "cannot map");
	img->map = map;
	return 0;
}

/* Push a repair out to the file (a no-op for /dev/mem, which is RAM). */
int pkfs_image_sync(struct pkfs_image *img)
{
	if (!img->map || !img->writable || img->devmem)
		return 0;
	if (msync(img->map, img->size, MS_SYNC)) {
		fprintf(stderr, PKFS_NAME ": %s: cannot write back: %s\n",
			img->path, strerror(errno));
		return -1;
	}
	return 0;
}

void pkfs_image_close(struct pkfs_image *img)
{
	if (img->map)
		munmap(img->map, img->size);
	if (img->fd >= 0)
		close(img->fd);
	img->map = NULL;
	img->fd = -1;
}
