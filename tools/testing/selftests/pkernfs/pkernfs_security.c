// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs security selftests: who may mount, and that no file operation
 * lets userspace make the kernel reach outside a file's blocks.
 *
 * Mounting needs CAP_SYS_ADMIN in the initial user namespace: a process
 * that is root only in a new user namespace (with its own mount
 * namespace) gets EPERM from mount(2) and from fsopen()/fsconfig().  For
 * an unprivileged user, ownership and mode bits hold for every change
 * (truncate, chmod, chown, utimes, rename, unlink).  Offsets and lengths
 * near 2^63 in pread, pwrite, lseek, truncate, mmap, mremap and
 * copy_file_range fail cleanly (EINVAL, EFBIG, EOVERFLOW, ENOMEM, or a
 * zero-length result) and leave size, data and free space untouched;
 * mapped pages past EOF raise SIGBUS.
 *
 * Environment: PKERNFS_MNT, the pkernfs mount (default /mnt/pkernfs).
 */
#define _GNU_SOURCE
#include <grp.h>
#include <limits.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "pkernfs_util.h"

#define BS		PKERNFS_BLOCK_SIZE

#ifndef FSCONFIG_CMD_CREATE
#define FSCONFIG_CMD_CREATE	6
#endif

FIXTURE(sec) {
	char dir[PATH_MAX];
	char mnt2[PATH_MAX];
	int dfd;
};

FIXTURE_SETUP(sec)
{
	struct statfs sfs;

	self->dfd = -1;
	if (geteuid())
		SKIP(return, "must be run as root");
	ASSERT_EQ(0, statfs(pk_mnt(), &sfs));
	ASSERT_EQ(PKERNFS_SUPER_MAGIC, sfs.f_type) {
		TH_LOG("%s is not a pkernfs mount", pk_mnt());
	}
	snprintf(self->dir, sizeof(self->dir), "%s/pkernfs_sec.XXXXXX",
		 pk_mnt());
	ASSERT_NE(NULL, mkdtemp(self->dir)) {
		self->dir[0] = '\0';
	}
	ASSERT_EQ(0, chmod(self->dir, 0755));
	self->dfd = open(self->dir, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, self->dfd);
	snprintf(self->mnt2, sizeof(self->mnt2), "/tmp/pkernfs_sec.XXXXXX");
	if (!mkdtemp(self->mnt2))
		self->mnt2[0] = '\0';
	else
		chmod(self->mnt2, 0777);
}

FIXTURE_TEARDOWN_PARENT(sec)
{
	if (self->mnt2[0]) {
		umount2(self->mnt2, MNT_DETACH);
		rmdir(self->mnt2);
	}
	if (self->dir[0])
		EXPECT_EQ(0, pk_rm_rf(self->dir));
}

static int make_file(struct __test_metadata *_metadata, int dfd,
		     const char *name, uint64_t size, uint64_t seed)
{
	int fd;

	fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pk_pwrite_pattern(fd, 0, size, seed));
	return fd;
}

static uint64_t bfree(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) ? ~0ULL : sfs.f_bfree;
}

static off_t fsize(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? -1 : st.st_size;
}

static bool write_id_map(const char *file, const char *map)
{
	int fd = open(file, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, map, strlen(map)) == (ssize_t)strlen(map);
	close(fd);
	return ok;
}

enum ns_how { NS_ROOT, NS_USER };

/*
 * In a child: become root of a new user namespace with its own mount
 * namespace, starting as real root (NS_ROOT) or as TEST_UID (NS_USER),
 * then try mount(2) (@via_fsopen false) or fsopen()+fsconfig() of pkernfs
 * on @path.  Exit with the errno of the attempt (0: it mounted), or 255
 * (or 254, 253) if the namespaces could not be set up.
 */
static int try_userns_mount(enum ns_how how, const char *path, bool via_fsopen)
{
	int status, err = 0, fsfd;
	char map[64];
	uid_t uid;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (how == NS_USER && !pk_become_test_user())
			_exit(255);
		/* A changed uid makes /proc/self root's; uid_map must be ours. */
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
		uid = getuid();
		if (unshare(CLONE_NEWUSER | CLONE_NEWNS))
			_exit(254);
		write_id_map("/proc/self/setgroups", "deny");
		snprintf(map, sizeof(map), "0 %u 1", uid);
		if (!write_id_map("/proc/self/uid_map", map))
			_exit(253);
		snprintf(map, sizeof(map), "0 %u 1", getgid());
		write_id_map("/proc/self/gid_map", map);
		if (!via_fsopen) {
			if (mount("none", path, "pkernfs", 0, NULL))
				err = errno;
			_exit(err);
		}
		fsfd = syscall(__NR_fsopen, "pkernfs", 0);
		if (fsfd < 0)
			_exit(errno);
		if (syscall(__NR_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL,
			    NULL, 0))
			err = errno;
		_exit(err);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * Test Case: no mount from a user namespace
 *
 * Root of a new user namespace (entered from root, and from uid 1000)
 * has CAP_SYS_ADMIN only there: mount(2) of pkernfs is EPERM, and so is
 * creating a superblock with fsopen()/fsconfig().
 */
TEST_F(sec, userns_mount_eperm)
{
	int ret;

	if (!self->mnt2[0])
		SKIP(return, "no mount point in /tmp");
	ret = try_userns_mount(NS_ROOT, self->mnt2, false);
	if (ret >= 253)
		SKIP(return, "cannot create a user namespace");
	EXPECT_EQ(EPERM, ret);
	EXPECT_EQ(EPERM, try_userns_mount(NS_USER, self->mnt2, false));
	ret = try_userns_mount(NS_USER, self->mnt2, true);
	/* fsopen() itself may already refuse. */
	EXPECT_EQ(EPERM, ret);
	EXPECT_EQ(EPERM, try_userns_mount(NS_ROOT, self->mnt2, true));
}

enum user_op {
	OP_TRUNCATE, OP_CHMOD, OP_CHOWN, OP_UTIMES, OP_RENAME, OP_UNLINK,
	OP_WRITE, OP_MMAP_WRITE,
};

/* As TEST_UID without capabilities, do @op on @path; return its errno. */
static int as_user(enum user_op op, const char *path, const char *path2)
{
	const struct timeval times[2] = { { 1, 0 }, { 1, 0 } };
	int status, ret = 0, fd;
	pid_t pid;
	void *map;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (!pk_become_test_user())
			_exit(255);
		switch (op) {
		case OP_TRUNCATE:
			ret = truncate(path, 0) ? errno : 0;
			break;
		case OP_CHMOD:
			ret = chmod(path, 0666) ? errno : 0;
			break;
		case OP_CHOWN:
			ret = chown(path, TEST_UID, TEST_GID) ? errno : 0;
			break;
		case OP_UTIMES:
			ret = utimes(path, times) ? errno : 0;
			break;
		case OP_RENAME:
			ret = rename(path, path2) ? errno : 0;
			break;
		case OP_UNLINK:
			ret = unlink(path) ? errno : 0;
			break;
		case OP_WRITE:
			fd = open(path, O_WRONLY | O_APPEND);
			ret = fd < 0 ? errno : 0;
			break;
		case OP_MMAP_WRITE:
			fd = open(path, O_RDONLY);
			if (fd < 0)
				_exit(errno);
			map = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				   MAP_SHARED, fd, 0);
			ret = map == MAP_FAILED ? errno : 0;
			break;
		}
		_exit(ret);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * Test Case: another user cannot change root's files
 *
 * As uid 1000, a root-owned 0644 file in a root-owned 0755 directory
 * cannot be truncated, written (even O_APPEND or through a shared
 * writable mapping of a read-only fd), chmod'ed, chown'ed, given explicit
 * times, renamed or unlinked; it keeps its size, data, mode and owner.
 */
TEST_F(sec, other_user_cannot_change)
{
	char path[PATH_MAX + 16], path2[PATH_MAX + 16];
	struct stat st;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", 5000, 11);
	close(fd);
	snprintf(path, sizeof(path), "%s/f", self->dir);
	snprintf(path2, sizeof(path2), "%s/g", self->dir);

	EXPECT_EQ(EACCES, as_user(OP_TRUNCATE, path, NULL));
	EXPECT_EQ(EACCES, as_user(OP_WRITE, path, NULL));
	EXPECT_EQ(EACCES, as_user(OP_MMAP_WRITE, path, NULL));
	EXPECT_EQ(EPERM, as_user(OP_CHMOD, path, NULL));
	EXPECT_EQ(EPERM, as_user(OP_CHOWN, path, NULL));
	EXPECT_EQ(EPERM, as_user(OP_UTIMES, path, NULL));
	EXPECT_EQ(EACCES, as_user(OP_RENAME, path, path2));
	EXPECT_EQ(EACCES, as_user(OP_UNLINK, path, NULL));

	ASSERT_EQ(0, fstatat(self->dfd, "f", &st, 0));
	EXPECT_EQ(5000, st.st_size);
	EXPECT_EQ(0644, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0, st.st_gid);
	fd = openat(self->dfd, "f", O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, pk_pread_check(fd, 0, 5000, 11, false, NULL));
	close(fd);
}

/*
 * Test Case: I/O at offsets near 2^63
 *
 * pread at or past EOF up to INT64_MAX returns 0; pwrite at offsets past
 * what a file can hold fails with EFBIG or EINVAL; lseek past the
 * largest file size fails with EINVAL, and SEEK_END/SEEK_CUR overflow
 * with EINVAL or EOVERFLOW; preadv/pwritev whose end would overflow fail.
 * Size, data and free space stay as they were.
 */
TEST_F(sec, io_near_2_63)
{
	static const int64_t offs[] = {
		1LL << 40, 1LL << 62, INT64_MAX - 4096, INT64_MAX - 1,
		INT64_MAX,
	};
	char buf[64] = "x";
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	uint64_t before;
	unsigned int i;
	off_t pos;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", 3000, 12);
	before = bfree(fd);
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		ssize_t r = pread(fd, buf, sizeof(buf), offs[i]);

		EXPECT_TRUE(r == 0 || (r < 0 && errno == EINVAL))
			TH_LOG("pread at %lld: %zd (%s)", (long long)offs[i],
			       r, strerror(errno));
		EXPECT_EQ(-1, pwrite(fd, buf, sizeof(buf), offs[i]));
		EXPECT_TRUE(errno == EFBIG || errno == EINVAL)
			TH_LOG("pwrite at %lld: %s", (long long)offs[i],
			       strerror(errno));
		r = pwritev(fd, &iov, 1, offs[i]);
		EXPECT_EQ(-1, r);
		EXPECT_TRUE(errno == EFBIG || errno == EINVAL)
			TH_LOG("pwritev at %lld: %s", (long long)offs[i],
			       strerror(errno));
		r = preadv(fd, &iov, 1, offs[i]);
		EXPECT_TRUE(r == 0 || (r < 0 && errno == EINVAL));
	}
	EXPECT_EQ(-1, pread(fd, buf, sizeof(buf), -1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, pwrite(fd, buf, sizeof(buf), -4096));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(-1, lseek(fd, INT64_MAX, SEEK_SET));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lseek(fd, INT64_MAX, SEEK_END));
	EXPECT_TRUE(errno == EINVAL || errno == EOVERFLOW);
	pos = lseek(fd, 1LL << 40, SEEK_SET);
	if (pos >= 0) {
		/* A position past EOF reads nothing and cannot be written. */
		EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
		EXPECT_EQ(-1, write(fd, buf, sizeof(buf)));
		EXPECT_TRUE(errno == EFBIG || errno == ENOSPC);
		EXPECT_EQ(-1, lseek(fd, INT64_MAX, SEEK_CUR));
		EXPECT_TRUE(errno == EINVAL || errno == EOVERFLOW);
	}

	EXPECT_EQ(3000, fsize(fd));
	EXPECT_EQ(before, bfree(fd));
	EXPECT_EQ(0, pk_pread_check(fd, 0, 3000, 12, false, NULL));
	close(fd);
}

/*
 * Test Case: truncate to absurd sizes
 *
 * truncate() and ftruncate() to -1, INT64_MIN, 2^62, INT64_MAX and just
 * past the largest file fail (EINVAL, EFBIG or ENOSPC) without changing
 * the file or the free space.
 */
TEST_F(sec, truncate_absurd)
{
	static const int64_t sizes[] = {
		-1, INT64_MIN, 1LL << 62, INT64_MAX, (1LL << 41) + 1,
	};
	char path[PATH_MAX + 16];
	uint64_t before;
	unsigned int i;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", 4097, 13);
	snprintf(path, sizeof(path), "%s/f", self->dir);
	before = bfree(fd);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		EXPECT_EQ(-1, ftruncate(fd, sizes[i]));
		EXPECT_TRUE(errno == EINVAL || errno == EFBIG || errno == ENOSPC)
			TH_LOG("ftruncate(%lld): %s", (long long)sizes[i],
			       strerror(errno));
		EXPECT_EQ(-1, truncate(path, sizes[i]));
		EXPECT_TRUE(errno == EINVAL || errno == EFBIG || errno == ENOSPC);
	}
	EXPECT_EQ(4097, fsize(fd));
	EXPECT_EQ(before, bfree(fd));
	EXPECT_EQ(0, pk_pread_check(fd, 0, 4097, 13, false, NULL));
	close(fd);
}

static sigjmp_buf probe_env;

static void probe_handler(int sig)
{
	siglongjmp(probe_env, sig);
}

/* Read @p; 0, or the signal the access raised. */
static int probe(volatile char *p)
{
	struct sigaction sa = { .sa_handler = probe_handler };
	struct sigaction old_bus, old_segv;
	int sig;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	sig = sigsetjmp(probe_env, 1);
	if (!sig)
		(void)*p;
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	return sig;
}

/*
 * Test Case: mmap at huge offsets and lengths
 *
 * A mapping at an offset far past EOF (1 TiB, 2^52) may be created but
 * every access raises SIGBUS; an offset whose end overflows, or a length
 * near 2^63, is refused (EOVERFLOW, EINVAL or ENOMEM); mremap cannot grow
 * a pkernfs mapping.  The file and the free space do not change.
 */
TEST_F(sec, mmap_huge_offsets)
{
	static const uint64_t offs[] = { 1ULL << 40, 1ULL << 52 };
	static const uint64_t lens[] = {
		1ULL << 62, (1ULL << 63) - 4096, ~0ULL & ~4095ULL,
	};
	uint64_t before;
	unsigned int i;
	char *map, *map2;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", 8192, 14);
	before = bfree(fd);
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			   offs[i]);
		if (map == MAP_FAILED) {
			EXPECT_TRUE(errno == EINVAL || errno == EOVERFLOW ||
				    errno == EFBIG);
			continue;
		}
		EXPECT_EQ(SIGBUS, probe(map));
		EXPECT_EQ(SIGBUS, probe(map + 4096));
		munmap(map, 8192);
	}
	/* pgoff + pages overflows. */
	map = mmap(NULL, 1 << 20, PROT_READ, MAP_SHARED, fd,
		   (off_t)(INT64_MAX & ~4095LL));
	EXPECT_EQ(MAP_FAILED, map);
	EXPECT_TRUE(errno == EOVERFLOW || errno == EINVAL || errno == ENOMEM)
		TH_LOG("mmap near 2^63: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		map = mmap(NULL, lens[i], PROT_READ, MAP_SHARED, fd, 0);
		EXPECT_EQ(MAP_FAILED, map) {
			munmap(map, lens[i]);
		}
		EXPECT_TRUE(errno == ENOMEM || errno == EINVAL ||
			    errno == EOVERFLOW)
			TH_LOG("mmap length %#llx: %s",
			       (unsigned long long)lens[i], strerror(errno));
	}

	map = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-1, pk_check(map, 8192, 14, 0));
	map2 = mremap(map, 8192, 4 * BS, MREMAP_MAYMOVE);
	EXPECT_EQ(MAP_FAILED, map2) {
		map = map2;
	}
	EXPECT_EQ(0, probe(map + 8191));
	munmap(map, 8192);

	EXPECT_EQ(8192, fsize(fd));
	EXPECT_EQ(before, bfree(fd));
	EXPECT_EQ(0, pk_pread_check(fd, 0, 8192, 14, false, NULL));
	close(fd);
}

/*
 * Test Case: copy_file_range at huge offsets
 *
 * Copying from a pkernfs file at an offset past EOF copies nothing, and
 * into one at an offset near 2^63 fails (EFBIG, EINVAL or EOVERFLOW);
 * nothing changes.
 */
TEST_F(sec, copy_file_range_huge)
{
	int64_t off_in, off_out;
	uint64_t before;
	ssize_t r;
	int fd, fd2;

	fd = make_file(_metadata, self->dfd, "src", 4096, 15);
	fd2 = make_file(_metadata, self->dfd, "dst", 100, 16);
	before = bfree(fd);

	off_in = INT64_MAX - 10;
	off_out = 0;
	r = copy_file_range(fd, &off_in, fd2, &off_out, 4096, 0);
	EXPECT_TRUE(r == 0 || (r < 0 && (errno == EINVAL ||
					 errno == EOVERFLOW)))
		TH_LOG("copy from near 2^63: %zd (%s)", r, strerror(errno));

	off_in = 0;
	off_out = INT64_MAX - 10;
	r = copy_file_range(fd, &off_in, fd2, &off_out, 4096, 0);
	EXPECT_EQ(-1, r);
	EXPECT_TRUE(errno == EFBIG || errno == EINVAL || errno == EOVERFLOW)
		TH_LOG("copy to near 2^63: %s", strerror(errno));

	EXPECT_EQ(100, fsize(fd2));
	EXPECT_EQ(before, bfree(fd));
	EXPECT_EQ(0, pk_pread_check(fd2, 0, 100, 16, false, NULL));
	close(fd2);
	close(fd);
}

TEST_HARNESS_MAIN
