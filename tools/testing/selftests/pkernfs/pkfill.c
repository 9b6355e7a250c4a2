// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkfill - fill a file with seeded data and check it later, e.g. across
 * a kexec, for pkernfs demos and shell-driven tests.
 *
 *   pkfill write  FILE SIZE SEED   create FILE and fill it with write()
 *   pkfill mmap   FILE SIZE SEED   create FILE, ftruncate it and fill it
 *                                  through a MAP_SHARED mapping + msync
 *   pkfill verify FILE SIZE SEED   check size and every byte
 *
 * SIZE takes an optional K, M or G suffix (binary units); SEED is a
 * decimal or 0x-prefixed 64-bit number. The data is the position
 * addressable pattern of pkernfs_util.h, so "pkfill verify" needs nothing
 * but the three arguments. Output, one line on stdout:
 *
 *   FILE SIZE bytes, sum=<16 hex digits>     (write, mmap)
 *   FILE ok sum=<16 hex digits>              (verify, exit 0)
 *   FILE: mismatch at offset N ...           (verify, exit 1)
 *
 * sum is the 64-bit FNV-1a of the file contents. Exit codes: 0 success,
 * 1 verification failure, 2 usage or I/O error.
 */
#include <sys/mman.h>

#include "pkernfs_util.h"

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
		"usage: pkfill {write|mmap|verify} FILE SIZE SEED\n"
		"  SIZE: bytes, optional K/M/G suffix; SEED: 64-bit number\n");
	exit(2);
}

static uint64_t sum_of_pattern(uint64_t size, uint64_t seed)
{
	static unsigned char buf[PK_IO_CHUNK];
	uint64_t h = PK_FNV_INIT, off = 0;
	size_t n;

	while (off < size) {
		n = size - off < sizeof(buf) ? size - off : sizeof(buf);
		pk_fill(buf, n, seed, off);
		h = pk_fnv1a(h, buf, n);
		off += n;
	}
	return h;
}

static int fill_write(const char *file, uint64_t size, uint64_t seed)
{
	int fd, ret;

	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "%s: open: %s\n", file, strerror(errno));
		return 2;
	}
	ret = pk_pwrite_pattern(fd, 0, size, seed);
	if (ret) {
		fprintf(stderr, "%s: write: %s\n", file, strerror(-ret));
		close(fd);
		return 2;
	}
	if (fsync(fd) || close(fd)) {
		fprintf(stderr, "%s: fsync/close: %s\n", file, strerror(errno));
		return 2;
	}
	return 0;
}

static int fill_mmap(const char *file, uint64_t size, uint64_t seed)
{
	void *map;
	int fd;

	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "%s: open: %s\n", file, strerror(errno));
		return 2;
	}
	if (ftruncate(fd, size)) {
		fprintf(stderr, "%s: ftruncate: %s\n", file, strerror(errno));
		close(fd);
		return 2;
	}
	if (size) {
		map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED) {
			fprintf(stderr, "%s: mmap: %s\n", file, strerror(errno));
			close(fd);
			return 2;
		}
		pk_fill(map, size, seed, 0);
		if (msync(map, size, MS_SYNC)) {
			fprintf(stderr, "%s: msync: %s\n", file, strerror(errno));
			munmap(map, size);
			close(fd);
			return 2;
		}
		munmap(map, size);
	}
	if (close(fd)) {
		fprintf(stderr, "%s: close: %s\n", file, strerror(errno));
		return 2;
	}
	return 0;
}

static int verify(const char *file, uint64_t size, uint64_t seed)
{
	static unsigned char buf[PK_IO_CHUNK];
	uint64_t h = PK_FNV_INIT, off = 0;
	struct stat st;
	ssize_t n, bad;
	int fd;

	fd = open(file, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "%s: open: %s\n", file, strerror(errno));
		return 2;
	}
	if ((uint64_t)st.st_size != size) {
		printf("%s: size %llu, expected %llu\n", file,
		       (unsigned long long)st.st_size,
		       (unsigned long long)size);
		close(fd);
		return 1;
	}
	while (off < size) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			fprintf(stderr, "%s: read: %s\n", file, strerror(errno));
			close(fd);
			return 2;
		}
		if (n == 0) {
			printf("%s: short read at offset %llu\n", file,
			       (unsigned long long)off);
			close(fd);
			return 1;
		}
		bad = pk_check(buf, n, seed, off);
		if (bad >= 0) {
			printf("%s: mismatch at offset %llu\n", file,
			       (unsigned long long)(off + bad));
			close(fd);
			return 1;
		}
		h = pk_fnv1a(h, buf, n);
		off += n;
	}
	close(fd);
	printf("%s ok sum=%016llx\n", file, (unsigned long long)h);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t size, seed;
	char *end;
	int ret;

	if (argc != 5 || pk_parse_size(argv[3], &size))
		usage();
	errno = 0;
	seed = strtoull(argv[4], &end, 0);
	if (errno || end == argv[4] || *end)
		usage();

	if (!strcmp(argv[1], "verify"))
		return verify(argv[2], size, seed);
	if (!strcmp(argv[1], "write"))
		ret = fill_write(argv[2], size, seed);
	else if (!strcmp(argv[1], "mmap"))
		ret = fill_mmap(argv[2], size, seed);
	else
		usage();
	if (ret)
		return ret;
	printf("%s %llu bytes, sum=%016llx\n", argv[2],
	       (unsigned long long)size,
	       (unsigned long long)sum_of_pattern(size, seed));
	return 0;
}
