/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the pkernfs selftests and the pkfill demo tool:
 * the on-media geometry the tests check against, the seeded data
 * pattern, a 64-bit FNV-1a checksum, recursive removal and a walk
 * that computes how many inodes and blocks a tree should be using.
 *
 * Everything is static inline so that each program only pays for what
 * it uses and -Wall stays quiet about unused helpers.
 */
#ifndef PKERNFS_UTIL_H
#define PKERNFS_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <grp.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#define PKERNFS_SUPER_MAGIC	0x706b6673	/* "pkfs" */
#define PKERNFS_BLOCK_SIZE	(2UL << 20)	/* data block size */
#define PKERNFS_META_BLOCKS	2		/* superblock+bitmap, inode store */
#define PKERNFS_INODE_SLOTS	4096		/* f_files of every pkernfs */
#define PKERNFS_INLINE_MAX	(64UL << 20)	/* largest file without map block */
#define PKERNFS_NAME_MAX	255
#define PKERNFS_SECTORS_PER_BLOCK	(PKERNFS_BLOCK_SIZE / 512)

#define PKERNFS_DEFAULT_MNT	"/mnt/pkernfs"

static inline const char *pk_mnt(void)
{
	const char *mnt = getenv("PKERNFS_MNT");

	return mnt && *mnt ? mnt : PKERNFS_DEFAULT_MNT;
}

/*
 * Blocks a regular file of @size bytes occupies: holes are not supported
 * so every 2 MiB block below EOF is allocated, and a file bigger than the
 * inline pointer limit needs one extra mapping-table block.
 */
static inline uint64_t pk_blocks_for_size(uint64_t size)
{
	uint64_t blocks = (size + PKERNFS_BLOCK_SIZE - 1) / PKERNFS_BLOCK_SIZE;

	if (size > PKERNFS_INLINE_MAX)
		blocks++;
	return blocks;
}

/*
 * The data pattern: byte @off of a stream seeded with @seed is byte
 * (@off % 8), little-endian, of the splitmix64 finalizer applied to
 * @seed + (@off / 8 + 1) * 0x9e3779b97f4a7c15.
 * It is position addressable, so any range of a file can be produced or
 * checked without generating what comes before it, and a byte written
 * to the wrong offset never matches by accident.
 */
static inline uint64_t pk_mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t pk_pattern_word(uint64_t seed, uint64_t idx)
{
	return pk_mix64(seed + (idx + 1) * 0x9e3779b97f4a7c15ULL);
}

static inline void pk_fill(void *buf, size_t len, uint64_t seed, uint64_t off)
{
	unsigned char *p = buf;
	uint64_t w;

	while (len && (off & 7)) {
		*p++ = pk_pattern_word(seed, off >> 3) >> (8 * (off & 7));
		off++;
		len--;
	}
	while (len >= 8) {
		w = pk_pattern_word(seed, off >> 3);
		w = htole64(w);
		memcpy(p, &w, 8);
		p += 8;
		off += 8;
		len -= 8;
	}
	while (len) {
		*p++ = pk_pattern_word(seed, off >> 3) >> (8 * (off & 7));
		off++;
		len--;
	}
}

/* Return the index of the first byte of @buf not matching, or -1. */
static inline ssize_t pk_check(const void *buf, size_t len, uint64_t seed,
			       uint64_t off)
{
	const unsigned char *p = buf;
	unsigned char want[4096];
	size_t done = 0, n, i;

	while (done < len) {
		n = len - done < sizeof(want) ? len - done : sizeof(want);
		pk_fill(want, n, seed, off + done);
		if (memcmp(want, p + done, n)) {
			for (i = 0; i < n; i++)
				if (want[i] != p[done + i])
					return done + i;
		}
		done += n;
	}
	return -1;
}

/* Return the index of the first non-zero byte of @buf, or -1. */
static inline ssize_t pk_check_zero(const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return i;
	return -1;
}

#define PK_FNV_INIT	0xcbf29ce484222325ULL

static inline uint64_t pk_fnv1a(uint64_t h, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define PK_IO_CHUNK	(1UL << 20)

/*
 * Write @len bytes of pattern @seed at offset @off with pwrite(), in
 * chunks. Returns 0 or -errno; a short write is reported as -EIO.
 */
static inline int pk_pwrite_pattern(int fd, uint64_t off, uint64_t len,
				    uint64_t seed)
{
	static unsigned char buf[PK_IO_CHUNK];
	size_t n;
	ssize_t ret;

	while (len) {
		n = len < sizeof(buf) ? len : sizeof(buf);
		pk_fill(buf, n, seed, off);
		ret = pwrite(fd, buf, n, off);
		if (ret < 0)
			return -errno;
		if ((size_t)ret != n)
			return -EIO;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * Read back @len bytes at @off and compare with pattern @seed (or zero
 * when @zero). Returns 0 if all match, 1 with *@bad set to the first
 * bad file offset, or -errno (-ENODATA on a short read).
 */
static inline int pk_pread_check(int fd, uint64_t off, uint64_t len,
				 uint64_t seed, bool zero, uint64_t *bad)
{
	static unsigned char buf[PK_IO_CHUNK];
	ssize_t ret, idx;
	size_t n;

	while (len) {
		n = len < sizeof(buf) ? len : sizeof(buf);
		ret = pread(fd, buf, n, off);
		if (ret < 0)
			return -errno;
		if ((size_t)ret != n)
			return -ENODATA;
		idx = zero ? pk_check_zero(buf, n) : pk_check(buf, n, seed, off);
		if (idx >= 0) {
			if (bad)
				*bad = off + idx;
			return 1;
		}
		off += n;
		len -= n;
	}
	return 0;
}

/* Drop clean dentries and inodes so the next lookup reads the store. */
static inline bool pk_drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, "2\n", 2) == 2;
	close(fd);
	return ok;
}

/* Open directory @name under @dfd, not following a symlink; NULL, errno set. */
static inline DIR *pk_opendir_at(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d) {
		int err = errno;

		close(fd);
		errno = err;
	}
	return d;
}

static inline bool pk_is_dot_entry(const struct dirent *de)
{
	return !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
}

/* Remove @name under @dfd and everything beneath it. */
static inline int pk_rm_rf_at(int dfd, const char *name)
{
	struct dirent *de;
	struct stat st;
	int ret = 0;
	DIR *d;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dfd, name, 0) ? -errno : 0;

	d = pk_opendir_at(dfd, name);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (pk_is_dot_entry(de))
			continue;
		if (pk_rm_rf_at(dirfd(d), de->d_name) && !ret)
			ret = -EIO;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) && !ret)
		ret = -errno;
	return ret;
}

/* The unprivileged user the permission tests run as. */
#define TEST_UID	1000
#define TEST_GID	1000

/* Drop every privilege and become TEST_UID:TEST_GID; false if that failed. */
static inline bool pk_become_test_user(void)
{
	return !setgroups(0, NULL) &&
	       !setresgid(TEST_GID, TEST_GID, TEST_GID) &&
	       !setresuid(TEST_UID, TEST_UID, TEST_UID);
}

static inline int pk_rm_rf(const char *path)
{
	return pk_rm_rf_at(AT_FDCWD, path);
}

/* What a tree, plus the files kept alive only by open fds, should use. */
struct pk_usage {
	uint64_t inodes;	/* inodes reachable from the root, root included */
	uint64_t blocks;	/* data blocks those inodes need */
	uint64_t orphans;	/* unlinked inodes still held open or mapped */
	uint64_t orphan_blocks;	/* data blocks of those */
};

static inline int pk_walk_at(int dfd, const char *name, dev_t dev,
			     struct pk_usage *u)
{
	struct dirent *de;
	struct stat st;
	int ret = 0;
	DIR *d;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return -errno;
	if (st.st_dev != dev)
		return 0;
	u->inodes++;
	if (S_ISREG(st.st_mode))
		u->blocks += pk_blocks_for_size(st.st_size);
	if (!S_ISDIR(st.st_mode))
		return 0;

	d = pk_opendir_at(dfd, name);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (pk_is_dot_entry(de))
			continue;
		ret = pk_walk_at(dirfd(d), de->d_name, dev, u);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}

#define PK_MAX_ORPHANS	256

/*
 * Scan /proc/<pid>/{fd,map_files} for unlinked regular files on @dev:
 * their inodes and blocks stay allocated until the last reference goes.
 * map_files needs CAP_SYS_ADMIN; without it only open fds are found.
 */
static inline void pk_scan_orphans(dev_t dev, struct pk_usage *u)
{
	static const char * const subdirs[] = { "fd", "map_files" };
	ino_t seen[PK_MAX_ORPHANS];
	unsigned int nseen = 0, i, s;
	struct dirent *pe, *fe;
	char path[512];
	struct stat st;
	DIR *proc, *d;

	proc = opendir("/proc");
	if (!proc)
		return;
	while ((pe = readdir(proc))) {
		if (pe->d_name[0] < '0' || pe->d_name[0] > '9')
			continue;
		for (s = 0; s < 2; s++) {
			snprintf(path, sizeof(path), "/proc/%s/%s", pe->d_name,
				 subdirs[s]);
			d = opendir(path);
			if (!d)
				continue;
			while ((fe = readdir(d))) {
				if (fe->d_name[0] == '.')
					continue;
				if (fstatat(dirfd(d), fe->d_name, &st, 0))
					continue;
				if (st.st_dev != dev || st.st_nlink ||
				    !S_ISREG(st.st_mode))
					continue;
				for (i = 0; i < nseen; i++)
					if (seen[i] == st.st_ino)
						break;
				if (i < nseen || nseen == PK_MAX_ORPHANS)
					continue;
				seen[nseen++] = st.st_ino;
				u->orphans++;
				u->orphan_blocks += pk_blocks_for_size(st.st_size);
			}
			closedir(d);
		}
	}
	closedir(proc);
}

/* Fill @u for the filesystem mounted at @mnt. Returns 0 or -errno. */
static inline int pk_fs_usage(const char *mnt, struct pk_usage *u)
{
	struct stat st;
	int ret;

	memset(u, 0, sizeof(*u));
	if (stat(mnt, &st))
		return -errno;
	ret = pk_walk_at(AT_FDCWD, mnt, st.st_dev, u);
	if (!ret)
		pk_scan_orphans(st.st_dev, u);
	return ret;
}

static inline void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parse "123", "4K", "2M", "1G" (binary units). Returns 0 or -EINVAL. */
static inline int pk_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

#endif /* PKERNFS_UTIL_H */
