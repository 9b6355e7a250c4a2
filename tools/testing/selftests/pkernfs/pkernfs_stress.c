// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs_stress - concurrency stress on a mounted pkernfs.
 *
 * Several processes share a few directories under $PKERNFS_MNT/stress and
 * pick names from a small set, so that they collide all the time: create,
 * unlink, mkdir, rmdir, rename (within and across directories, files and
 * directories, over existing entries), truncate up and down, mmap and
 * touch (racing with truncate, so SIGBUS is allowed), read, write and
 * readdir.  Errors that the races make legitimate (ENOENT, EEXIST,
 * ENOTEMPTY, ENOSPC, ...) are counted; EIO, EUCLEAN, EFAULT and any other
 * surprise fail the test.  Each process also keeps a private file whose
 * contents it checks after every change, so blocks handed to two files at
 * once would show.
 *
 * When the time is up, with every process gone, statfs must match the
 * tree exactly: inodes in use and blocks in use are what the surviving
 * files and directories need.  The caller then unmounts and runs
 * pkernfs-fsck on the region.
 *
 * Environment: PKERNFS_MNT (default /mnt/pkernfs),
 * PKERNFS_STRESS_SECS (default 25), PKERNFS_STRESS_PROCS (default 6),
 * PKERNFS_STRESS_SEED.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "../kselftest.h"
#include "pkernfs_util.h"

#define NR_DIRS		4
#define NR_NAMES	12
#define MAX_SIZE	(3UL << 20)
#define PRIV_SIZE	(PKERNFS_BLOCK_SIZE + 12345)

enum op {
	OP_CREATE, OP_UNLINK, OP_MKDIR, OP_RMDIR, OP_RENAME, OP_TRUNCATE,
	OP_MMAP, OP_READ, OP_WRITE, OP_READDIR, OP_PRIVATE, NR_OPS,
};

static const char * const op_names[] = {
	"create", "unlink", "mkdir", "rmdir", "rename", "truncate", "mmap",
	"read", "write", "readdir", "private",
};

struct counts {
	unsigned long done[NR_OPS];
	unsigned long failed[NR_OPS];	/* with an allowed errno */
	unsigned long bad;		/* unexpected errors */
	unsigned long sigbus;
};

static const char *root;
static uint64_t rng;
static struct counts *cnt;
static sigjmp_buf bus_env;

static uint64_t rnd(void)
{
	rng += 0x9e3779b97f4a7c15ULL;
	return pk_mix64(rng);
}

static unsigned int below(unsigned int n)
{
	return rnd() % n;
}

static void bus_handler(int sig)
{
	siglongjmp(bus_env, sig);
}

/* A path in one of the shared directories, maybe one level down. */
static void pick_path(char *buf, size_t len)
{
	if (below(4))
		snprintf(buf, len, "%s/d%u/n%u", root, below(NR_DIRS),
			 below(NR_NAMES));
	else
		snprintf(buf, len, "%s/d%u/n%u/n%u", root, below(NR_DIRS),
			 below(NR_NAMES), below(NR_NAMES));
}

#define E(err)		(1ULL << (err))

/*
 * The errnos each operation may meet when the other processes remove,
 * rename or fill what it works on; any other errno is a bug.  Paths are
 * d<N>/n<N> or d<N>/n<N>/n<N>, so an n<N> may be a file, a directory or
 * missing, while the d<N> directories are never removed.
 */
static const unsigned long long allowed_errnos[NR_OPS] = {
	[OP_CREATE]	= E(ENOENT) | E(ENOTDIR) | E(EISDIR) | E(ENOSPC),
	[OP_UNLINK]	= E(ENOENT) | E(ENOTDIR) | E(EISDIR),
	[OP_MKDIR]	= E(ENOENT) | E(ENOTDIR) | E(EEXIST) | E(ENOSPC),
	[OP_RMDIR]	= E(ENOENT) | E(ENOTDIR) | E(ENOTEMPTY),
	/* EINVAL: a directory renamed into its own subtree. */
	[OP_RENAME]	= E(ENOENT) | E(ENOTDIR) | E(EISDIR) | E(ENOTEMPTY) |
			  E(EEXIST) | E(EINVAL),
	[OP_TRUNCATE]	= E(ENOENT) | E(ENOTDIR) | E(EISDIR) | E(ENOSPC),
	[OP_MMAP]	= E(ENOENT) | E(ENOTDIR) | E(EISDIR),
	[OP_READ]	= E(ENOENT) | E(ENOTDIR) | E(EISDIR),
	[OP_WRITE]	= E(ENOENT) | E(ENOTDIR) | E(EISDIR) | E(ENOSPC),
	[OP_READDIR]	= 0,
	/* op_private() has dealt with a full region already. */
	[OP_PRIVATE]	= 0,
};

/* Record the outcome of one operation; @err 0 is success. */
static void note(enum op op, int err, const char *path)
{
	if (!err) {
		cnt->done[op]++;
		return;
	}
	if (err < 64 && (allowed_errnos[op] & E(err))) {
		cnt->failed[op]++;
		return;
	}
	cnt->bad++;
	ksft_print_msg("pid %d: %s %s: %s\n", getpid(), op_names[op], path,
		       strerror(err));
}

static int do_write(int fd, uint64_t off, size_t len)
{
	static char buf[64 << 10];

	if (len > sizeof(buf))
		len = sizeof(buf);
	pk_fill(buf, len, rng, off);
	return pwrite(fd, buf, len, off) < 0 ? errno : 0;
}

static void op_mmap(const char *path)
{
	struct stat st;
	size_t len, i;
	char *map;
	int fd, err = 0;

	fd = open(path, O_RDWR);
	if (fd < 0) {
		note(OP_MMAP, errno, path);
		return;
	}
	if (fstat(fd, &st) || !st.st_size) {
		close(fd);
		note(OP_MMAP, 0, path);
		return;
	}
	len = st.st_size;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		err = errno;
	} else {
		/* A racing truncate may take pages away: SIGBUS then. */
		if (sigsetjmp(bus_env, 1)) {
			cnt->sigbus++;
		} else {
			for (i = 0; i < len; i += 4096 * (1 + below(64)))
				map[i] ^= 1;
		}
		munmap(map, len);
	}
	close(fd);
	note(OP_MMAP, err, path);
}

static void op_readdir(const char *path)
{
	struct dirent *de;
	DIR *d;

	d = opendir(path);
	if (!d) {
		note(OP_READDIR, errno, path);
		return;
	}
	while ((errno = 0, de = readdir(d)))
		;
	note(OP_READDIR, errno, path);
	closedir(d);
}

/* The private file: rewrite a part, change its size, check every byte. */
static void op_private(const char *path, uint64_t seed, uint64_t *size)
{
	uint64_t bad = 0, off, len;
	int fd, ret;

	fd = open(path, O_RDWR);
	if (fd < 0) {
		note(OP_PRIVATE, errno, path);
		return;
	}
	off = below(*size + 1);
	len = below(PRIV_SIZE - off + 1);
	ret = pk_pwrite_pattern(fd, off, len, seed);
	if (!ret && below(2)) {
		uint64_t nsize = below(PRIV_SIZE + 1);

		if (ftruncate(fd, nsize))
			ret = -errno;
		/* Regrown bytes are zero: rewrite them to keep the pattern. */
		else if (nsize > *size)
			ret = pk_pwrite_pattern(fd, *size, nsize - *size, seed);
		if (!ret)
			*size = nsize;
	} else if (!ret && off + len > *size) {
		*size = off + len;
	}
	if (ret == -ENOSPC || ret == -EIO) {
		/*
		 * The region is full: a failed grow leaves the size as it
		 * was, a short write (-EIO from the helper) keeps what it
		 * wrote.  The check below tells.
		 */
		struct stat st;

		fstat(fd, &st);
		*size = st.st_size;
		ret = 0;
	}
	if (!ret) {
		ret = pk_pread_check(fd, 0, *size, seed, false, &bad);
		if (ret > 0) {
			ksft_print_msg("pid %d: %s: byte %llu is wrong\n",
				       getpid(), path, (unsigned long long)bad);
			cnt->bad++;
			ret = 0;
		}
	}
	close(fd);
	note(OP_PRIVATE, ret < 0 ? -ret : 0, path);
}

static void worker(unsigned int id, uint64_t seed, time_t end)
{
	struct sigaction sa = { .sa_handler = bus_handler };
	char p1[256], p2[256], priv[256];
	uint64_t priv_size = 0;
	int fd;

	rng = pk_mix64(seed + id);
	sigaction(SIGBUS, &sa, NULL);
	snprintf(priv, sizeof(priv), "%s/private%u", root, id);
	fd = open(priv, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0)
		close(fd);

	while (time(NULL) < end) {
		enum op op = below(NR_OPS);
		int err = 0;

		pick_path(p1, sizeof(p1));
		switch (op) {
		case OP_CREATE:
			fd = open(p1, O_RDWR | O_CREAT, 0644);
			if (fd < 0) {
				err = errno;
			} else {
				err = do_write(fd, 0, below(3 * 4096));
				close(fd);
			}
			break;
		case OP_UNLINK:
			err = unlink(p1) ? errno : 0;
			break;
		case OP_MKDIR:
			err = mkdir(p1, 0755) ? errno : 0;
			break;
		case OP_RMDIR:
			err = rmdir(p1) ? errno : 0;
			break;
		case OP_RENAME:
			pick_path(p2, sizeof(p2));
			err = rename(p1, p2) ? errno : 0;
			break;
		case OP_TRUNCATE:
			err = truncate(p1, below(MAX_SIZE) >> below(4)) ? errno : 0;
			break;
		case OP_MMAP:
			op_mmap(p1);
			continue;
		case OP_READ:
			fd = open(p1, O_RDONLY);
			if (fd < 0) {
				err = errno;
			} else {
				static char buf[64 << 10];

				err = pread(fd, buf, sizeof(buf),
					    below(MAX_SIZE)) < 0 ? errno : 0;
				close(fd);
			}
			break;
		case OP_WRITE:
			fd = open(p1, O_WRONLY);
			if (fd < 0) {
				err = errno;
			} else {
				err = do_write(fd, below(MAX_SIZE),
					       1 + below(64 << 10));
				close(fd);
			}
			break;
		case OP_READDIR:
			snprintf(p1, sizeof(p1), "%s/d%u", root, below(NR_DIRS));
			op_readdir(p1);
			continue;
		default:
			op_private(priv, seed + 1000 + id, &priv_size);
			continue;
		}
		note(op, err, p1);
	}
	_exit(0);
}

int main(void)
{
	const char *env;
	unsigned int secs = 25, procs = 6, i, j;
	uint64_t seed = time(NULL), total = 0;
	unsigned long sigbus = 0;
	struct pk_usage u;
	struct statfs sfs;
	char path[256];
	int status;
	bool ok;

	env = getenv("PKERNFS_STRESS_SECS");
	if (env)
		secs = atoi(env);
	env = getenv("PKERNFS_STRESS_PROCS");
	if (env)
		procs = atoi(env);
	env = getenv("PKERNFS_STRESS_SEED");
	if (env)
		seed = strtoull(env, NULL, 0);

	ksft_print_header();
	ksft_set_plan(3);
	if (geteuid())
		ksft_exit_skip("must be run as root\n");
	if (statfs(pk_mnt(), &sfs) || sfs.f_type != PKERNFS_SUPER_MAGIC)
		ksft_exit_fail_msg("%s is not a pkernfs mount\n", pk_mnt());
	ksft_print_msg("%u processes for %u s, seed %llu\n", procs, secs,
		       (unsigned long long)seed);

	snprintf(path, sizeof(path), "%s/stress", pk_mnt());
	root = strdup(path);
	pk_rm_rf(root);
	if (mkdir(root, 0755))
		ksft_exit_fail_msg("mkdir %s: %s\n", root, strerror(errno));
	for (i = 0; i < NR_DIRS; i++) {
		snprintf(path, sizeof(path), "%s/d%u", root, i);
		if (mkdir(path, 0755))
			ksft_exit_fail_msg("mkdir %s: %s\n", path, strerror(errno));
	}
	cnt = mmap(NULL, procs * sizeof(*cnt), PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (cnt == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));

	for (i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
		if (!pid) {
			cnt += i;
			worker(i, seed, time(NULL) + secs);
		}
	}
	ok = true;
	for (i = 0; i < procs; i++) {
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			ok = false;
	}

	for (j = 0; j < NR_OPS; j++) {
		unsigned long done = 0, failed = 0;

		for (i = 0; i < procs; i++) {
			done += cnt[i].done[j];
			failed += cnt[i].failed[j];
		}
		total += done + failed;
		ksft_print_msg("%-9s %6lu done, %6lu refused by a race\n",
			       op_names[j], done, failed);
	}
	for (i = 0; i < procs; i++) {
		if (cnt[i].bad)
			ok = false;
		sigbus += cnt[i].sigbus;
	}
	ksft_print_msg("%lu SIGBUS from mappings truncated under them\n",
		       sigbus);
	ksft_test_result(ok && total, "%llu operations by %u processes, no unexpected error\n",
			 (unsigned long long)total, procs);

	/* With everything closed, statfs must describe the tree exactly. */
	ok = !pk_fs_usage(pk_mnt(), &u) && !statfs(pk_mnt(), &sfs);
	ksft_test_result(ok && u.orphans == 0 &&
			 sfs.f_files - sfs.f_ffree == u.inodes,
			 "inodes in use %llu, reachable %llu\n",
			 (unsigned long long)(sfs.f_files - sfs.f_ffree),
			 (unsigned long long)u.inodes);
	ksft_test_result(ok && sfs.f_blocks - sfs.f_bfree ==
			 u.blocks + PKERNFS_META_BLOCKS,
			 "blocks in use %llu, needed %llu\n",
			 (unsigned long long)(sfs.f_blocks - sfs.f_bfree),
			 (unsigned long long)(u.blocks + PKERNFS_META_BLOCKS));
	ksft_finished();
}
