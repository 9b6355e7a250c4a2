// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs_soak - a light data generator for the live-update soak
 * (scenarios/soak.sh), one call per step of a stage.
 *
 *   pkernfs_soak write K SEED     stage K's files: soak/sK/f0 through
 *                                 write(), soak/sK/f1 through a shared
 *                                 mapping, and 64 KiB appended to soak/log
 *   pkernfs_soak verify K SEED    every byte written by stages 1..K, and
 *                                 soak/trunc at the size stage K gave it,
 *                                 with its data
 *   pkernfs_soak usage            statfs matches the tree exactly, no orphan
 *   pkernfs_soak hold             create soak/held, unlink it and leave a
 *                                 process holding it open (an orphan for
 *                                 the next kernel to reclaim)
 *   pkernfs_soak truncate K SEED  truncate soak/trunc to stage K's size
 *                                 (big for odd K, small for even K); the
 *                                 scenario holds it in flight at the kexec
 *
 * Sizes and data are a function of (SEED, K) only.  Exit status 0 on
 * success, 1 on a mismatch (described on stderr), 2 on usage errors.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "pkernfs_util.h"

#define LOG_CHUNK	(64UL << 10)
#define TRUNC_SMALL	((1UL << 20) + 4321)
#define TRUNC_BIG	((3UL << 20) + 17)

static char root[256];

/* The size stage @k truncates soak/trunc to. */
static uint64_t trunc_size(unsigned int k)
{
	return k % 2 ? TRUNC_BIG : TRUNC_SMALL;
}

static uint64_t file_seed(uint64_t seed, unsigned int k, unsigned int i)
{
	return pk_mix64(seed ^ pk_mix64(k * 2 + i + 1));
}

/* Up to 512 KiB, so one block per file; sometimes empty. */
static uint64_t file_size(uint64_t seed, unsigned int k, unsigned int i)
{
	uint64_t r = file_seed(seed, k, i);

	return r % 7 ? r % (1UL << 19) : 0;
}

static int fail(const char *what, const char *path, int err)
{
	fprintf(stderr, "pkernfs_soak: %s %s: %s\n", what, path,
		strerror(err));
	return 1;
}

static int write_stage(unsigned int k, uint64_t seed)
{
	char dir[300], path[320];
	uint64_t size;
	char *map;
	int fd, ret;

	snprintf(dir, sizeof(dir), "%s/s%u", root, k);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return fail("mkdir", dir, errno);

	snprintf(path, sizeof(path), "%s/f0", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail("create", path, errno);
	ret = pk_pwrite_pattern(fd, 0, file_size(seed, k, 0),
				file_seed(seed, k, 0));
	close(fd);
	if (ret)
		return fail("write", path, -ret);

	snprintf(path, sizeof(path), "%s/f1", dir);
	size = file_size(seed, k, 1);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail("create", path, errno);
	if (ftruncate(fd, size))
		return fail("ftruncate", path, errno);
	if (size) {
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			   0);
		if (map == MAP_FAILED)
			return fail("mmap", path, errno);
		pk_fill(map, size, file_seed(seed, k, 1), 0);
		munmap(map, size);
	}
	close(fd);

	snprintf(path, sizeof(path), "%s/log", root);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		return fail("open", path, errno);
	ret = pk_pwrite_pattern(fd, (uint64_t)(k - 1) * LOG_CHUNK, LOG_CHUNK,
				seed);
	close(fd);
	return ret ? fail("append", path, -ret) : 0;
}

static int check_file(const char *path, uint64_t size, uint64_t seed,
		      uint64_t zero_from)
{
	uint64_t bad = 0;
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return fail("open", path, errno);
	if (fstat(fd, &st) || (uint64_t)st.st_size != size) {
		fprintf(stderr, "pkernfs_soak: %s: size %llu, expected %llu\n",
			path, (unsigned long long)st.st_size,
			(unsigned long long)size);
		close(fd);
		return 1;
	}
	ret = pk_pread_check(fd, 0, zero_from, seed, false, &bad);
	if (!ret)
		ret = pk_pread_check(fd, zero_from, size - zero_from, 0, true,
				     &bad);
	close(fd);
	if (ret) {
		fprintf(stderr, "pkernfs_soak: %s: ret %d, first bad byte %llu\n",
			path, ret, (unsigned long long)bad);
		return 1;
	}
	return 0;
}

static int verify(unsigned int upto, uint64_t seed)
{
	char path[320];
	unsigned int k, i;
	uint64_t size;
	struct stat st;
	int bad = 0;

	for (k = 1; k <= upto; k++) {
		for (i = 0; i < 2; i++) {
			size = file_size(seed, k, i);
			snprintf(path, sizeof(path), "%s/s%u/f%u", root, k, i);
			bad += check_file(path, size, file_seed(seed, k, i),
					  size);
		}
	}
	snprintf(path, sizeof(path), "%s/log", root);
	bad += check_file(path, upto * LOG_CHUNK, seed, upto * LOG_CHUNK);

	/* Stage K's truncate was in flight at the kexec: it must have ended. */
	snprintf(path, sizeof(path), "%s/trunc", root);
	if (stat(path, &st)) {
		bad += fail("stat", path, errno);
	} else if (st.st_size != trunc_size(upto)) {
		fprintf(stderr, "pkernfs_soak: %s: size %llu, stage %u left %llu\n",
			path, (unsigned long long)st.st_size, upto,
			(unsigned long long)trunc_size(upto));
		bad++;
	} else {
		bad += check_file(path, st.st_size, ~seed, TRUNC_SMALL);
	}
	if (!bad)
		printf("# verified stages 1..%u\n", upto);
	return !!bad;
}

static int usage_check(void)
{
	struct pk_usage u;
	struct statfs sfs;

	if (pk_fs_usage(pk_mnt(), &u) || statfs(pk_mnt(), &sfs))
		return fail("walk", pk_mnt(), errno);
	printf("# inodes in use %llu, reachable %llu; blocks in use %llu, needed %llu; orphans %llu\n",
	       (unsigned long long)(sfs.f_files - sfs.f_ffree),
	       (unsigned long long)u.inodes,
	       (unsigned long long)(sfs.f_blocks - sfs.f_bfree),
	       (unsigned long long)(u.blocks + PKERNFS_META_BLOCKS),
	       (unsigned long long)u.orphans);
	return u.orphans || sfs.f_files - sfs.f_ffree != u.inodes ||
	       sfs.f_blocks - sfs.f_bfree != u.blocks + PKERNFS_META_BLOCKS;
}

/* Detach a child that runs @fn forever; the caller returns at once. */
static int spawn(void (*fn)(int, uint64_t), int fd, uint64_t arg)
{
	int fd_null;
	pid_t pid = fork();

	if (pid < 0)
		return fail("fork", "", errno);
	if (pid)
		return 0;
	/* Keep no pipe of the caller's open: a shell may wait on it. */
	fd_null = open("/dev/null", O_RDWR);
	dup2(fd_null, 0);
	dup2(fd_null, 1);
	dup2(fd_null, 2);
	setsid();
	fn(fd, arg);
	_exit(0);
}

static void hold_forever(int fd, uint64_t unused)
{
	for (;;)
		pause();
}

static int hold(void)
{
	char path[320];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/held", root);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return fail("create", path, errno);
	ret = pk_pwrite_pattern(fd, 0, 12345, 1);
	if (ret)
		return fail("write", path, -ret);
	if (unlink(path))
		return fail("unlink", path, errno);
	ret = spawn(hold_forever, fd, 0);
	close(fd);
	return ret;
}

/* One truncate of soak/trunc to stage @k's size, made with its data first. */
static int truncate_once(unsigned int k, uint64_t seed)
{
	char path[320];
	struct stat st;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/trunc", root);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || fstat(fd, &st))
		return fail("open", path, errno);
	if (!st.st_size) {
		ret = pk_pwrite_pattern(fd, 0, TRUNC_SMALL, ~seed);
		if (ret)
			return fail("write", path, -ret);
	}
	ret = ftruncate(fd, trunc_size(k)) ? fail("ftruncate", path, errno) : 0;
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	snprintf(root, sizeof(root), "%s/soak", pk_mnt());
	if (mkdir(root, 0755) && errno != EEXIST)
		return fail("mkdir", root, errno);
	if (argc == 4 && !strcmp(argv[1], "write"))
		return write_stage(atoi(argv[2]), strtoull(argv[3], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "verify"))
		return verify(atoi(argv[2]), strtoull(argv[3], NULL, 0));
	if (argc == 2 && !strcmp(argv[1], "usage"))
		return usage_check();
	if (argc == 2 && !strcmp(argv[1], "hold"))
		return hold();
	if (argc == 4 && !strcmp(argv[1], "truncate"))
		return truncate_once(atoi(argv[2]), strtoull(argv[3], NULL, 0));
	fprintf(stderr, "usage: pkernfs_soak {write|verify|truncate} K SEED | usage | hold\n");
	return 2;
}
