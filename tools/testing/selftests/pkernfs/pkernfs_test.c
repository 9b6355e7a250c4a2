// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs selftests: behaviour of a mounted pkernfs, without kexec.
 *
 * Covers statfs geometry and accounting, the single superblock per
 * region, regular file I/O (read/write/pread/pwrite/lseek/O_APPEND/
 * O_TRUNC/fsync), truncation in both directions, block accounting at
 * the 2 MiB and inline-pointer boundaries, timestamps and attributes
 * (including after inode eviction), shared mmap (coherence, offsets,
 * SIGBUS past EOF, zap on truncate, private mapping rules), directories
 * (mkdir/rmdir/unlink/readdir/rename/nlink), error paths (ENAMETOOLONG,
 * EEXIST, EPERM for link/symlink, ENOSPC with a full inode store or a
 * full region, absurd sizes), files unlinked while open or mapped, and
 * permission checks as an unprivileged user.
 *
 * Environment:
 *   PKERNFS_MNT           mount point to test (default /mnt/pkernfs)
 *   PKERNFS_REGION_SIZE   if set (e.g. 256M), f_blocks must match it
 *   PKERNFS_ALLOW_ANY_FS  developer mode: run on any filesystem (e.g. a
 *                         tmpfs) to check the tests themselves; checks
 *                         that only hold for pkernfs are skipped
 *
 * Each test works in its own directory $PKERNFS_MNT/pkernfs_test.XXXXXX,
 * removed recursively by the teardown even when the test fails, so the
 * filesystem is left as found. Tests that fill the inode store or the
 * region undo that before they finish.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "../kselftest_harness.h"
#include "pkernfs_util.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1 << 0)
#endif

#define SZ_1M		(1UL << 20)
#define SZ_2M		(2UL << 20)
#define BS		PKERNFS_BLOCK_SIZE
#define SECTORS		PKERNFS_SECTORS_PER_BLOCK

FIXTURE(pkernfs) {
	char dir[PATH_MAX];	/* per-test directory, removed in teardown */
	char mnt2[PATH_MAX];	/* second mount point, if the test made one */
	char mnt[PATH_MAX];	/* the pkernfs mount under test */
	int dfd;		/* O_DIRECTORY fd of dir, test process only */
	bool is_pkernfs;	/* false in PKERNFS_ALLOW_ANY_FS mode */
};

FIXTURE_SETUP(pkernfs)
{
	const char *mnt = pk_mnt();
	struct statfs sfs;

	self->dfd = -1;
	if (geteuid())
		SKIP(return, "must be run as root");
	/*
	 * A missing mount or a wrong f_type is a failure, not a skip: the
	 * scenario mounted pkernfs here, so anything else is a broken
	 * kernel, and 62 skipped tests must not read as a green run.
	 */
	ASSERT_EQ(0, statfs(mnt, &sfs)) {
		TH_LOG("%s: %s", mnt, strerror(errno));
	}
	self->is_pkernfs = sfs.f_type == PKERNFS_SUPER_MAGIC;
	if (!getenv("PKERNFS_ALLOW_ANY_FS")) {
		ASSERT_EQ(PKERNFS_SUPER_MAGIC, sfs.f_type) {
			TH_LOG("%s is not a pkernfs mount", mnt);
		}
	}

	snprintf(self->mnt, sizeof(self->mnt), "%s", mnt);
	snprintf(self->dir, sizeof(self->dir), "%s/pkernfs_test.XXXXXX", mnt);
	ASSERT_NE(NULL, mkdtemp(self->dir)) {
		self->dir[0] = '\0';
		TH_LOG("mkdtemp in %s: %s", mnt, strerror(errno));
	}
	self->dfd = open(self->dir, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, self->dfd);
	umask(022);
}

/*
 * Runs in the parent of the test process, so the directory is removed
 * even when the test died from a signal or dropped its privileges.
 */
FIXTURE_TEARDOWN_PARENT(pkernfs)
{
	if (self->mnt2[0]) {
		umount2(self->mnt2, MNT_DETACH);
		rmdir(self->mnt2);
	}
	if (self->dir[0])
		EXPECT_EQ(0, pk_rm_rf(self->dir));
}

/* Helpers --------------------------------------------------------------- */

static struct statfs fs_stat(struct __test_metadata *_metadata,
			     FIXTURE_DATA(pkernfs) *self)
{
	struct statfs sfs;

	ASSERT_EQ(0, fstatfs(self->dfd, &sfs));
	return sfs;
}

static uint64_t fs_bfree(struct __test_metadata *_metadata,
			 FIXTURE_DATA(pkernfs) *self)
{
	return fs_stat(_metadata, self).f_bfree;
}

static uint64_t fs_ffree(struct __test_metadata *_metadata,
			 FIXTURE_DATA(pkernfs) *self)
{
	return fs_stat(_metadata, self).f_ffree;
}

/* On pkernfs, check that exactly @nblocks more blocks are in use than at @before. */
#define EXPECT_BLOCKS_USED(before, nblocks) do {				\
	if (self->is_pkernfs)							\
		EXPECT_EQ((uint64_t)(nblocks),					\
			  (uint64_t)(before) - fs_bfree(_metadata, self));	\
} while (0)

#define EXPECT_ST_BLOCKS(st, nblocks) do {					\
	if (self->is_pkernfs)							\
		EXPECT_EQ((uint64_t)(nblocks) * SECTORS,			\
			  (uint64_t)(st).st_blocks);				\
} while (0)

/* Create @name with @size bytes of pattern @seed; return an O_RDWR fd. */
static int make_file(struct __test_metadata *_metadata, int dfd,
		     const char *name, uint64_t size, uint64_t seed)
{
	int fd;

	fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd) TH_LOG("create %s: %s", name, strerror(errno));
	ASSERT_EQ(0, pk_pwrite_pattern(fd, 0, size, seed));
	return fd;
}

static void check_data(struct __test_metadata *_metadata, int fd,
		       uint64_t off, uint64_t len, uint64_t seed)
{
	uint64_t bad = 0;
	int ret;

	ret = pk_pread_check(fd, off, len, seed, false, &bad);
	ASSERT_EQ(0, ret) TH_LOG("pattern %#llx [%llu, +%llu): ret %d, first bad byte %llu",
				 (unsigned long long)seed, (unsigned long long)off,
				 (unsigned long long)len, ret, (unsigned long long)bad);
}

static void check_zero(struct __test_metadata *_metadata, int fd,
		       uint64_t off, uint64_t len)
{
	uint64_t bad = 0;
	int ret;

	ret = pk_pread_check(fd, off, len, 0, true, &bad);
	ASSERT_EQ(0, ret) TH_LOG("zeroes [%llu, +%llu): ret %d, first non-zero byte %llu",
				 (unsigned long long)off, (unsigned long long)len,
				 ret, (unsigned long long)bad);
}

static off_t fd_size(struct __test_metadata *_metadata, int fd)
{
	struct stat st;

	ASSERT_EQ(0, fstat(fd, &st));
	return st.st_size;
}

static struct stat stat_at(struct __test_metadata *_metadata, int dfd,
			   const char *name)
{
	struct stat st;

	ASSERT_EQ(0, fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		TH_LOG("stat %s: %s", name, strerror(errno));
	return st;
}

/* fstatat() and return errno (0 on success). */
static int stat_errno(int dfd, const char *name)
{
	struct stat st;

	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) ? errno : 0;
}

static bool ts_after(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

static bool ts_equal(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Sleep long enough for coarse timestamps to move on. */
static void tick(void)
{
	struct timespec ts = { .tv_sec = 1, .tv_nsec = 100 * 1000 * 1000 };

	nanosleep(&ts, NULL);
}

/*
 * Drop clean dentries and inodes, so that what follows is read back from
 * the persistent store. Without sysctl support only the caches are tested.
 */
static void evict_caches(struct __test_metadata *_metadata)
{
	if (!pk_drop_caches())
		TH_LOG("cannot write /proc/sys/vm/drop_caches, inodes stay cached");
}

static sigjmp_buf probe_env;

static void probe_handler(int sig)
{
	siglongjmp(probe_env, sig);
}

/* Touch @p; return 0, or the signal (SIGBUS, SIGSEGV) the access raised. */
static int probe(volatile char *p, bool write)
{
	struct sigaction sa = { .sa_handler = probe_handler };
	struct sigaction old_bus, old_segv;
	int sig;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old_bus);
	sigaction(SIGSEGV, &sa, &old_segv);
	sig = sigsetjmp(probe_env, 1);
	if (!sig) {
		if (write)
			*p = 0x5a;
		else
			(void)*p;
	}
	sigaction(SIGBUS, &old_bus, NULL);
	sigaction(SIGSEGV, &old_segv, NULL);
	return sig;
}

struct dent64 {
	uint64_t	d_ino;
	int64_t		d_off;
	unsigned short	d_reclen;
	unsigned char	d_type;
	char		d_name[];
};

/* Operations run as TEST_UID by as_user(). */
enum user_op {
	OP_OPEN,	/* open(path, arg) */
	OP_CREATE,	/* open(path, O_CREAT | O_EXCL | O_WRONLY, arg) */
	OP_MKDIR,	/* mkdir(path, arg) */
	OP_UNLINK,	/* unlink(path) */
	OP_CHMOD,	/* chmod(path, arg) */
	OP_MOUNT,	/* mount pkernfs on path */
};

/*
 * Fork, become TEST_UID:TEST_GID with no supplementary groups and no
 * capabilities, do @op and return its errno (0 on success).
 */
static int as_user(enum user_op op, const char *path, int arg)
{
	int status, ret = 0, fd;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (!pk_become_test_user())
			_exit(255);
		switch (op) {
		case OP_OPEN:
		case OP_CREATE:
			if (op == OP_OPEN)
				fd = open(path, arg);
			else
				fd = open(path, O_CREAT | O_EXCL | O_WRONLY, arg);
			if (fd < 0)
				ret = errno;
			else
				close(fd);
			break;
		case OP_MKDIR:
			ret = mkdir(path, arg) ? errno : 0;
			break;
		case OP_UNLINK:
			ret = unlink(path) ? errno : 0;
			break;
		case OP_CHMOD:
			ret = chmod(path, arg) ? errno : 0;
			break;
		case OP_MOUNT:
			ret = mount("none", path, "pkernfs", 0, NULL) ? errno : 0;
			break;
		}
		_exit(ret);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Make the test directory reachable by TEST_UID, or skip. */
#define NEED_OTHER_USER_ACCESS() do {						\
	struct stat __st;							\
	ASSERT_EQ(0, stat(self->mnt, &__st));					\
	if (!(__st.st_mode & S_IXOTH))						\
		SKIP(return, "%.200s is not searchable by others", self->mnt);   \
	ASSERT_EQ(0, fchmod(self->dfd, 0755));					\
} while (0)

#define NEED_PKERNFS() do {							\
	if (!self->is_pkernfs)							\
		SKIP(return, "pkernfs-specific check");				\
} while (0)

/* Make a fresh mount point outside pkernfs in self->mnt2, or skip. */
#define NEED_MNT2() do {							\
	if (!make_mnt2(self))							\
		SKIP(return, "no directory for a second mount point");		\
} while (0)

static bool make_mnt2(FIXTURE_DATA(pkernfs) *self)
{
	const char *dirs[] = { getenv("TMPDIR"), "/tmp", "/run", "/mnt" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		if (!dirs[i] || !*dirs[i])
			continue;
		snprintf(self->mnt2, sizeof(self->mnt2), "%.200s/pkernfs_mnt.XXXXXX",
			 dirs[i]);
		if (mkdtemp(self->mnt2) && !chmod(self->mnt2, 0755))
			return true;
	}
	self->mnt2[0] = '\0';
	return false;
}

/* statfs --------------------------------------------------------------- */

/*
 * Test Case: statfs geometry
 *
 * f_type is PKERNFS_SUPER_MAGIC, blocks are 2 MiB, names up to 255 bytes,
 * 4096 inode slots, two metadata blocks never free, f_bavail == f_bfree.
 * If PKERNFS_REGION_SIZE is given, f_blocks must cover exactly that region.
 */
TEST_F(pkernfs, statfs_geometry)
{
	const char *region = getenv("PKERNFS_REGION_SIZE");
	struct statfs sfs;
	uint64_t size;

	NEED_PKERNFS();
	sfs = fs_stat(_metadata, self);
	EXPECT_EQ(PKERNFS_SUPER_MAGIC, sfs.f_type);
	EXPECT_EQ(BS, sfs.f_bsize);
	EXPECT_EQ(BS, sfs.f_frsize);
	EXPECT_EQ(PKERNFS_NAME_MAX, sfs.f_namelen);
	EXPECT_EQ(PKERNFS_INODE_SLOTS, sfs.f_files);
	EXPECT_LT(sfs.f_ffree, sfs.f_files);
	EXPECT_LT(PKERNFS_META_BLOCKS, sfs.f_blocks);
	EXPECT_LE(sfs.f_bfree, sfs.f_blocks - PKERNFS_META_BLOCKS);
	EXPECT_EQ(sfs.f_bfree, sfs.f_bavail);
	if (region) {
		ASSERT_EQ(0, pk_parse_size(region, &size));
		EXPECT_EQ(size / BS, sfs.f_blocks);
	}
}

/*
 * Test Case: statfs counters match the tree
 *
 * Walk the whole mount: used inodes (f_files - f_ffree) must equal the
 * inodes reachable from the root plus unlinked-but-open ones, and used
 * data blocks (f_blocks - 2 - f_bfree) must equal what the file sizes
 * imply (directories use no data blocks). Checked on the filesystem as
 * found, and again after adding files of assorted sizes.
 */
TEST_F_TIMEOUT(pkernfs, statfs_counts_match_tree, 120)
{
	static const uint64_t sizes[] = { 0, 1, BS, BS + 1, 5 * SZ_1M };
	struct statfs sfs;
	struct pk_usage u;
	char name[32];
	unsigned int i;
	int pass, fd;

	NEED_PKERNFS();
	for (pass = 0; pass < 2; pass++) {
		ASSERT_EQ(0, pk_fs_usage(self->mnt, &u));
		sfs = fs_stat(_metadata, self);
		EXPECT_EQ(u.inodes + u.orphans, sfs.f_files - sfs.f_ffree);
		EXPECT_EQ(u.blocks + u.orphan_blocks,
			  sfs.f_blocks - PKERNFS_META_BLOCKS - sfs.f_bfree);

		for (i = 0; !pass && i < ARRAY_SIZE(sizes); i++) {
			snprintf(name, sizeof(name), "f%u", i);
			fd = make_file(_metadata, self->dfd, name, sizes[i], i);
			close(fd);
		}
		if (!pass)
			ASSERT_EQ(0, mkdirat(self->dfd, "sub", 0755));
	}
}

/*
 * Test Case: one superblock per region
 *
 * A second mount of pkernfs shows the same files (same st_dev and
 * st_ino, same data), changes made through either are visible through
 * the other, both report the same counters, and it unmounts cleanly.
 */
TEST_F(pkernfs, second_mount_same_superblock)
{
	char path[PATH_MAX * 2];
	struct statfs s1, s2;
	struct stat a, b;
	int fd;

	NEED_PKERNFS();
	NEED_MNT2();
	fd = make_file(_metadata, self->dfd, "shared", BS + 7, 42);
	close(fd);

	ASSERT_EQ(0, mount("none", self->mnt2, "pkernfs", 0, NULL))
		TH_LOG("mount: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/%s/shared", self->mnt2,
		 strrchr(self->dir, '/') + 1);
	ASSERT_EQ(0, stat(path, &b)) TH_LOG("%s: %s", path, strerror(errno));
	a = stat_at(_metadata, self->dfd, "shared");
	EXPECT_EQ(a.st_dev, b.st_dev);
	EXPECT_EQ(a.st_ino, b.st_ino);
	fd = open(path, O_RDWR);
	ASSERT_LE(0, fd);
	check_data(_metadata, fd, 0, BS + 7, 42);
	close(fd);

	/* Create through the second mount, see it through the first. */
	snprintf(path, sizeof(path), "%s/%s/via2", self->mnt2,
		 strrchr(self->dir, '/') + 1);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pk_pwrite_pattern(fd, 0, 1000, 7));
	close(fd);
	fd = openat(self->dfd, "via2", O_RDONLY);
	ASSERT_LE(0, fd);
	check_data(_metadata, fd, 0, 1000, 7);
	close(fd);

	ASSERT_EQ(0, statfs(self->mnt2, &s2));
	s1 = fs_stat(_metadata, self);
	EXPECT_EQ(PKERNFS_SUPER_MAGIC, s2.f_type);
	EXPECT_EQ(s1.f_bfree, s2.f_bfree);
	EXPECT_EQ(s1.f_ffree, s2.f_ffree);

	EXPECT_EQ(0, umount2(self->mnt2, 0)) TH_LOG("umount: %s", strerror(errno));
	/* The first mount is unaffected. */
	EXPECT_EQ(0, stat_errno(self->dfd, "via2"));
}

/*
 * Test Case: mounting needs CAP_SYS_ADMIN
 *
 * An unprivileged user gets EPERM from mount -t pkernfs.
 */
TEST_F(pkernfs, mount_needs_cap_sys_admin)
{
	NEED_PKERNFS();
	NEED_MNT2();
	EXPECT_EQ(EPERM, as_user(OP_MOUNT, self->mnt2, 0));
}

/* Regular files ---------------------------------------------------------- */

/*
 * Test Case: create honours mode and umask
 *
 * open(O_CREAT) gives a regular file with mode & ~umask, owned by the
 * caller, one link, size and blocks 0.
 */
TEST_F(pkernfs, create_mode_umask)
{
	static const struct { mode_t umask, mode, want; } cases[] = {
		{ 022, 0666, 0644 },
		{ 077, 0666, 0600 },
		{ 027, 0777, 0750 },
		{ 000, 0755, 0755 },
		{ 000, 0400, 0400 },
	};
	struct stat st;
	unsigned int i;
	char name[16];
	int fd;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		snprintf(name, sizeof(name), "m%u", i);
		umask(cases[i].umask);
		fd = openat(self->dfd, name, O_RDWR | O_CREAT | O_EXCL, cases[i].mode);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, fstat(fd, &st));
		EXPECT_TRUE(S_ISREG(st.st_mode));
		EXPECT_EQ(cases[i].want, st.st_mode & 07777);
		EXPECT_EQ(0, st.st_uid);
		EXPECT_EQ(getegid(), st.st_gid);
		EXPECT_EQ(1, st.st_nlink);
		EXPECT_EQ(0, st.st_size);
		EXPECT_EQ(0, st.st_blocks);
		close(fd);
		st = stat_at(_metadata, self->dfd, name);
		EXPECT_EQ(cases[i].want, st.st_mode & 07777);
	}
}

/*
 * Test Case: write/read round trip
 *
 * Files of sizes around page and block boundaries, written in 1 MiB
 * chunks, read back byte for byte; then a single unaligned write that
 * spans three blocks.
 */
TEST_F_TIMEOUT(pkernfs, write_read_roundtrip, 120)
{
	static const uint64_t sizes[] = {
		1, 4095, 4096, 4097, BS - 1, BS, BS + 1, 5 * SZ_1M + 123,
	};
	const size_t len = 3 * SZ_1M + 5;
	unsigned int i;
	char name[16];
	ssize_t got;
	char *buf;
	int fd;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		snprintf(name, sizeof(name), "w%u", i);
		fd = make_file(_metadata, self->dfd, name, sizes[i], 100 + i);
		EXPECT_EQ(sizes[i], fd_size(_metadata, fd));
		check_data(_metadata, fd, 0, sizes[i], 100 + i);
		close(fd);
	}

	buf = malloc(len);
	ASSERT_NE(NULL, buf);
	fd = openat(self->dfd, "span", O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	pk_fill(buf, len, 9, SZ_1M + 3);
	ASSERT_EQ(len, pwrite(fd, buf, len, SZ_1M + 3));
	EXPECT_EQ(SZ_1M + 3 + len, fd_size(_metadata, fd));
	memset(buf, 0, len);
	got = pread(fd, buf, len, SZ_1M + 3);
	ASSERT_EQ(len, got);
	EXPECT_EQ(-1, pk_check(buf, len, 9, SZ_1M + 3));
	check_zero(_metadata, fd, 0, SZ_1M + 3);
	free(buf);
	close(fd);
}

/*
 * Test Case: pread/pwrite at assorted offsets
 *
 * Small pwrite()s at page and block edges of a 6 MiB file, compared as a
 * whole against an in-memory model; pread() does not move the offset.
 */
TEST_F(pkernfs, pread_pwrite_offsets)
{
	static const uint64_t offs[] = {
		0, 4095, BS - 8, BS, 2 * BS + 4093, 3 * SZ_2M - 17,
	};
	const size_t size = 3 * SZ_2M;
	unsigned char *model, *got, chunk[17];
	unsigned int i;
	int fd;

	model = calloc(1, size);
	got = malloc(size);
	ASSERT_NE(NULL, model);
	ASSERT_NE(NULL, got);
	fd = openat(self->dfd, "f", O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, size));
	for (i = 0; i < ARRAY_SIZE(offs); i++) {
		pk_fill(chunk, sizeof(chunk), i, 0);
		ASSERT_EQ(sizeof(chunk), pwrite(fd, chunk, sizeof(chunk), offs[i]));
		memcpy(model + offs[i], chunk, sizeof(chunk));
	}
	EXPECT_EQ(0, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(size, fd_size(_metadata, fd));
	ASSERT_EQ(size, pread(fd, got, size, 0));
	EXPECT_EQ(0, memcmp(model, got, size));
	EXPECT_EQ(0, lseek(fd, 0, SEEK_CUR));
	free(model);
	free(got);
	close(fd);
}

/*
 * Test Case: reads at and past EOF
 *
 * A read crossing EOF is short, reads at or beyond EOF return 0, and a
 * read across a block boundary near EOF returns the right bytes.
 */
TEST_F(pkernfs, read_at_and_past_eof)
{
	unsigned char buf[4096];
	int fd;

	fd = make_file(_metadata, self->dfd, "f", BS + 100, 5);
	EXPECT_EQ(150, pread(fd, buf, 200, BS - 50));
	EXPECT_EQ(-1, pk_check(buf, 150, 5, BS - 50));
	EXPECT_EQ(0, pread(fd, buf, sizeof(buf), BS + 100));
	EXPECT_EQ(0, pread(fd, buf, sizeof(buf), 10 * BS));
	ASSERT_EQ(BS + 100 - 60, lseek(fd, -60, SEEK_END));
	EXPECT_EQ(60, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(-1, pk_check(buf, 60, 5, BS + 40));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
}

/*
 * Test Case: O_APPEND
 *
 * Writes through an O_APPEND fd land at EOF whatever the file offset is,
 * including one that crosses into a new block.
 */
TEST_F(pkernfs, o_append_writes_at_eof)
{
	unsigned char buf[64];
	int fd, afd;

	fd = make_file(_metadata, self->dfd, "f", BS - 10, 3);
	afd = openat(self->dfd, "f", O_WRONLY | O_APPEND);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, lseek(afd, 0, SEEK_SET));
	pk_fill(buf, 30, 3, BS - 10);
	ASSERT_EQ(30, write(afd, buf, 30));
	EXPECT_EQ(BS + 20, fd_size(_metadata, fd));
	pk_fill(buf, 64, 3, BS + 20);
	ASSERT_EQ(64, pwrite(afd, buf, 64, 0)); /* O_APPEND wins over pwrite */
	EXPECT_EQ(BS + 84, fd_size(_metadata, fd));
	check_data(_metadata, fd, 0, BS + 84, 3);
	close(afd);
	close(fd);
}

/*
 * Test Case: O_TRUNC
 *
 * Opening with O_TRUNC empties the file and gives its blocks back; the
 * file is then usable from offset 0.
 */
TEST_F(pkernfs, o_trunc_frees_blocks)
{
	uint64_t before;
	struct stat st;
	int fd;

	before = fs_bfree(_metadata, self);
	fd = make_file(_metadata, self->dfd, "f", 5 * SZ_1M, 1);
	close(fd);
	EXPECT_BLOCKS_USED(before, 3);
	fd = openat(self->dfd, "f", O_RDWR | O_TRUNC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, st.st_size);
	EXPECT_EQ(0, st.st_blocks);
	EXPECT_BLOCKS_USED(before, 0);
	ASSERT_EQ(0, pk_pwrite_pattern(fd, 0, 10, 2));
	check_data(_metadata, fd, 0, 10, 2);
	EXPECT_EQ(10, fd_size(_metadata, fd));
	close(fd);
}

/*
 * Test Case: lseek
 *
 * SEEK_SET/SEEK_CUR/SEEK_END give the expected offsets, reading after a
 * seek returns the bytes at that offset, seeking past EOF is allowed and
 * a negative resulting offset is EINVAL.
 */
TEST_F(pkernfs, lseek_whence)
{
	unsigned char buf[10];
	int fd;

	fd = make_file(_metadata, self->dfd, "f", 5000, 8);
	EXPECT_EQ(100, lseek(fd, 100, SEEK_SET));
	EXPECT_EQ(150, lseek(fd, 50, SEEK_CUR));
	ASSERT_EQ(10, read(fd, buf, 10));
	EXPECT_EQ(-1, pk_check(buf, 10, 8, 150));
	EXPECT_EQ(160, lseek(fd, 0, SEEK_CUR));
	EXPECT_EQ(4990, lseek(fd, -10, SEEK_END));
	ASSERT_EQ(10, read(fd, buf, 10));
	EXPECT_EQ(-1, pk_check(buf, 10, 8, 4990));
	EXPECT_EQ(5100, lseek(fd, 100, SEEK_END));
	EXPECT_EQ(0, read(fd, buf, 10));
	EXPECT_EQ(-1, lseek(fd, -1, SEEK_SET));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lseek(fd, -6000, SEEK_END));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(5100, lseek(fd, 0, SEEK_CUR));
	close(fd);
}

/*
 * Test Case: fsync and fdatasync succeed
 *
 * On files with and without data, on a directory, and msync(MS_SYNC) on
 * a shared mapping.
 */
TEST_F(pkernfs, fsync_fdatasync)
{
	char *map;
	int fd;

	fd = openat(self->dfd, "empty", O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, fsync(fd));
	EXPECT_EQ(0, fdatasync(fd));
	close(fd);
	fd = make_file(_metadata, self->dfd, "f", BS + 1, 4);
	EXPECT_EQ(0, fsync(fd));
	EXPECT_EQ(0, fdatasync(fd));
	map = mmap(NULL, BS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	map[0] = 1;
	EXPECT_EQ(0, msync(map, BS, MS_SYNC));
	munmap(map, BS);
	close(fd);
	EXPECT_EQ(0, fsync(self->dfd));
}

/*
 * Test Case: ftruncate grow
 *
 * Growing keeps the old bytes, the new bytes read as zero and the new
 * blocks are allocated (no holes).
 */
TEST_F(pkernfs, ftruncate_grow_reads_zero)
{
	uint64_t before;
	struct stat st;
	int fd;

	before = fs_bfree(_metadata, self);
	fd = make_file(_metadata, self->dfd, "f", 100, 6);
	EXPECT_BLOCKS_USED(before, 1);
	ASSERT_EQ(0, ftruncate(fd, 3 * SZ_1M + 5));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(3 * SZ_1M + 5, st.st_size);
	EXPECT_ST_BLOCKS(st, 2);
	EXPECT_BLOCKS_USED(before, 2);
	check_data(_metadata, fd, 0, 100, 6);
	check_zero(_metadata, fd, 100, 3 * SZ_1M + 5 - 100);
	close(fd);
}

/*
 * Test Case: ftruncate shrink across blocks
 *
 * Shrinking frees the blocks past the new EOF; growing back shows zeroes,
 * not the old data.
 */
TEST_F(pkernfs, ftruncate_shrink_then_regrow)
{
	uint64_t before;
	struct stat st;
	int fd;

	before = fs_bfree(_metadata, self);
	fd = make_file(_metadata, self->dfd, "f", 5 * SZ_1M, 7);
	EXPECT_BLOCKS_USED(before, 3);
	ASSERT_EQ(0, ftruncate(fd, BS + 7));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(BS + 7, st.st_size);
	EXPECT_ST_BLOCKS(st, 2);
	EXPECT_BLOCKS_USED(before, 2);
	check_data(_metadata, fd, 0, BS + 7, 7);
	ASSERT_EQ(0, ftruncate(fd, 5 * SZ_1M));
	check_data(_metadata, fd, 0, BS + 7, 7);
	check_zero(_metadata, fd, BS + 7, 5 * SZ_1M - BS - 7);
	EXPECT_BLOCKS_USED(before, 3);
	ASSERT_EQ(0, ftruncate(fd, 0));
	EXPECT_BLOCKS_USED(before, 0);
	EXPECT_EQ(0, fd_size(_metadata, fd));
	close(fd);
}

/*
 * Test Case: ftruncate shrink inside a block
 *
 * The block is kept, but the bytes past the new EOF must not come back
 * when the file grows again, through read() or through mmap().
 */
TEST_F(pkernfs, ftruncate_shrink_within_block)
{
	uint64_t before;
	char *map;
	int fd;

	before = fs_bfree(_metadata, self);
	fd = make_file(_metadata, self->dfd, "f", SZ_1M, 8);
	ASSERT_EQ(0, ftruncate(fd, 100));
	EXPECT_BLOCKS_USED(before, 1);
	ASSERT_EQ(0, ftruncate(fd, SZ_1M));
	check_data(_metadata, fd, 0, 100, 8);
	check_zero(_metadata, fd, 100, SZ_1M - 100);
	map = mmap(NULL, SZ_1M, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-1, pk_check_zero(map + 100, SZ_1M - 100));
	munmap(map, SZ_1M);
	close(fd);
}

/*
 * Test Case: writing past EOF fills the gap
 *
 * Holes are not supported: a write beyond EOF allocates every block up
 * to it and the gap reads as zero.
 */
TEST_F(pkernfs, write_past_eof_zero_fills_gap)
{
	const uint64_t off = 5 * SZ_1M + 3;
	uint64_t before;
	struct stat st;
	int fd;

	before = fs_bfree(_metadata, self);
	fd = openat(self->dfd, "f", O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pk_pwrite_pattern(fd, off, 5, 11));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(off + 5, st.st_size);
	EXPECT_ST_BLOCKS(st, 3);
	EXPECT_BLOCKS_USED(before, 3);
	check_zero(_metadata, fd, 0, off);
	check_data(_metadata, fd, off, 5, 11);
	close(fd);
}

/*
 * Test Case: block accounting at the 2 MiB boundary
 *
 * 0, 1, 2M-1, 2M and 2M+1 byte files use 0, 1, 1, 1 and 2 blocks in
 * st_blocks and in statfs, and give them back on unlink.
 */
TEST_F(pkernfs, block_accounting_sizes)
{
	static const struct { uint64_t size, blocks; } cases[] = {
		{ 0, 0 }, { 1, 1 }, { BS - 1, 1 }, { BS, 1 }, { BS + 1, 2 },
	};
	uint64_t before;
	struct stat st;
	unsigned int i;
	int fd;

	NEED_PKERNFS();
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		before = fs_bfree(_metadata, self);
		fd = make_file(_metadata, self->dfd, "f", cases[i].size, i);
		ASSERT_EQ(0, fstat(fd, &st));
		EXPECT_EQ(cases[i].size, st.st_size);
		EXPECT_EQ(cases[i].blocks * SECTORS, st.st_blocks)
			TH_LOG("size %llu", (unsigned long long)cases[i].size);
		EXPECT_BLOCKS_USED(before, cases[i].blocks);
		close(fd);
		ASSERT_EQ(0, unlinkat(self->dfd, "f", 0));
		EXPECT_BLOCKS_USED(before, 0);
	}
}

/*
 * Test Case: file beyond the inline block pointers
 *
 * A 66 MiB file needs 33 data blocks plus one mapping-table block. Its
 * data reads back intact; shrinking below 64 MiB frees the table block
 * too, and growing again reads zeroes past the old EOF.
 */
TEST_F_TIMEOUT(pkernfs, large_file_beyond_inline_pointers, 180)
{
	const uint64_t big = 66 * SZ_1M, small = 60 * SZ_1M;
	uint64_t before;
	struct stat st;
	int fd;

	before = fs_bfree(_metadata, self);
	fd = make_file(_metadata, self->dfd, "big", big, 66);
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(big, st.st_size);
	if (self->is_pkernfs) {
		/* Whether st_blocks counts the table block is not fixed. */
		EXPECT_TRUE(st.st_blocks == 33 * SECTORS ||
			    st.st_blocks == 34 * SECTORS)
			TH_LOG("st_blocks %llu", (unsigned long long)st.st_blocks);
	}
	EXPECT_BLOCKS_USED(before, 34);
	check_data(_metadata, fd, 0, big, 66);

	ASSERT_EQ(0, ftruncate(fd, small));
	EXPECT_BLOCKS_USED(before, 30);
	check_data(_metadata, fd, small - BS, BS, 66);
	ASSERT_EQ(0, ftruncate(fd, big));
	EXPECT_BLOCKS_USED(before, 34);
	check_data(_metadata, fd, 0, small, 66);
	check_zero(_metadata, fd, small, big - small);
	close(fd);
	ASSERT_EQ(0, unlinkat(self->dfd, "big", 0));
	EXPECT_BLOCKS_USED(before, 0);
}

/*
 * Test Case: the inline pointer limit
 *
 * Exactly 64 MiB fits the inline pointers (32 blocks); one more byte
 * needs a data block and the mapping-table block (34); shrinking back
 * to 64 MiB returns both.
 */
TEST_F_TIMEOUT(pkernfs, inline_limit_boundary, 120)
{
	uint64_t before;
	unsigned char c = 0xff;
	int fd;

	before = fs_bfree(_metadata, self);
	fd = openat(self->dfd, "f", O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, PKERNFS_INLINE_MAX));
	EXPECT_BLOCKS_USED(before, 32);
	ASSERT_EQ(1, pwrite(fd, "x", 1, PKERNFS_INLINE_MAX - 1));
	ASSERT_EQ(0, ftruncate(fd, PKERNFS_INLINE_MAX + 1));
	EXPECT_BLOCKS_USED(before, 34);
	ASSERT_EQ(1, pread(fd, &c, 1, PKERNFS_INLINE_MAX));
	EXPECT_EQ(0, c);
	ASSERT_EQ(1, pread(fd, &c, 1, PKERNFS_INLINE_MAX - 1));
	EXPECT_EQ('x', c);
	ASSERT_EQ(0, ftruncate(fd, PKERNFS_INLINE_MAX));
	EXPECT_BLOCKS_USED(before, 32);
	ASSERT_EQ(1, pread(fd, &c, 1, PKERNFS_INLINE_MAX - 1));
	EXPECT_EQ('x', c);
	ASSERT_EQ(0, ftruncate(fd, 0));
	EXPECT_BLOCKS_USED(before, 0);
	close(fd);
}

/*
 * Test Case: freed blocks do not leak old data
 *
 * After a file full of data is deleted, new files (grown by ftruncate, by
 * a write past EOF, or mapped) read zeroes wherever they were not written.
 */
TEST_F(pkernfs, freed_blocks_are_zeroed)
{
	char *map;
	int fd;

	fd = make_file(_metadata, self->dfd, "old", 4 * SZ_1M, 12);
	close(fd);
	ASSERT_EQ(0, unlinkat(self->dfd, "old", 0));

	fd = openat(self->dfd, "grown", O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, 4 * SZ_1M));
	check_zero(_metadata, fd, 0, 4 * SZ_1M);
	close(fd);
	ASSERT_EQ(0, unlinkat(self->dfd, "grown", 0));

	fd = openat(self->dfd, "tail", O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, pwrite(fd, "y", 1, 3 * SZ_1M));
	check_zero(_metadata, fd, 0, 3 * SZ_1M);
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 3 * SZ_1M);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ('y', map[0]);
	EXPECT_EQ(-1, pk_check_zero(map + 1, 4095));
	munmap(map, 4096);
	close(fd);
}

/*
 * Test Case: stat fields
 *
 * st_dev is the mount's, inode numbers are distinct, size/blocks follow
 * the data, fstat and stat agree.
 */
TEST_F(pkernfs, stat_fields)
{
	struct stat root, a, b, fa;
	int fd;

	ASSERT_EQ(0, stat(self->mnt, &root));
	fd = make_file(_metadata, self->dfd, "a", 12345, 13);
	close(fd);
	fd = make_file(_metadata, self->dfd, "b", 0, 0);
	a = stat_at(_metadata, self->dfd, "a");
	b = stat_at(_metadata, self->dfd, "b");
	ASSERT_EQ(0, fstat(fd, &fa));
	close(fd);
	EXPECT_EQ(root.st_dev, a.st_dev);
	EXPECT_NE(a.st_ino, b.st_ino);
	EXPECT_NE(root.st_ino, a.st_ino);
	EXPECT_EQ(b.st_ino, fa.st_ino);
	EXPECT_EQ(12345, a.st_size);
	EXPECT_EQ(1, a.st_nlink);
	EXPECT_EQ(0, a.st_uid);
	EXPECT_EQ(0644, a.st_mode & 07777);
	EXPECT_ST_BLOCKS(a, 1);
	EXPECT_EQ(0, b.st_size);
	EXPECT_EQ(0, b.st_blocks);
	EXPECT_LT(0, a.st_blksize);
}

/*
 * Test Case: write and truncate update mtime and ctime
 *
 * Both move forward on write(), on a write that extends the file, and on
 * ftruncate(); a read leaves them alone.
 */
TEST_F(pkernfs, mtime_ctime_update)
{
	unsigned char buf[16];
	struct stat s0, s1;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", 4096, 14);
	ASSERT_EQ(0, fstat(fd, &s0));

	tick();
	ASSERT_EQ(16, pread(fd, buf, 16, 0));
	ASSERT_EQ(0, fstat(fd, &s1));
	EXPECT_TRUE(ts_equal(s0.st_mtim, s1.st_mtim));
	EXPECT_TRUE(ts_equal(s0.st_ctim, s1.st_ctim));

	ASSERT_EQ(16, pwrite(fd, buf, 16, 100));
	ASSERT_EQ(0, fstat(fd, &s1));
	EXPECT_TRUE(ts_after(s1.st_mtim, s0.st_mtim));
	EXPECT_TRUE(ts_after(s1.st_ctim, s0.st_ctim));

	s0 = s1;
	tick();
	ASSERT_EQ(16, pwrite(fd, buf, 16, BS + 1));
	ASSERT_EQ(0, fstat(fd, &s1));
	EXPECT_TRUE(ts_after(s1.st_mtim, s0.st_mtim));

	s0 = s1;
	tick();
	ASSERT_EQ(0, ftruncate(fd, 10));
	ASSERT_EQ(0, fstat(fd, &s1));
	EXPECT_TRUE(ts_after(s1.st_mtim, s0.st_mtim));
	EXPECT_TRUE(ts_after(s1.st_ctim, s0.st_ctim));
	close(fd);
}

/*
 * Test Case: chmod, chown and utimensat persist
 *
 * The new mode, owner, atime and mtime are reported at once, after
 * close, and after the inode was evicted (drop_caches) and read back
 * from the store; chmod/chown also move ctime.
 */
TEST_F(pkernfs, chmod_chown_utimensat_persist)
{
	const struct timespec times[2] = {
		{ .tv_sec = 1111111111, .tv_nsec = 0 },
		{ .tv_sec = 1234567890, .tv_nsec = 123456789 },
	};
	struct stat s0, a, b;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", 10, 15);
	close(fd);
	ASSERT_EQ(0, mkdirat(self->dfd, "d", 0755));
	s0 = stat_at(_metadata, self->dfd, "f");
	tick();

	ASSERT_EQ(0, fchmodat(self->dfd, "f", 0640, 0));
	ASSERT_EQ(0, fchownat(self->dfd, "f", TEST_UID, TEST_GID, 0));
	ASSERT_EQ(0, utimensat(self->dfd, "f", times, 0));
	ASSERT_EQ(0, fchmodat(self->dfd, "d", 0710, 0));
	ASSERT_EQ(0, fchownat(self->dfd, "d", TEST_UID, -1, 0));
	ASSERT_EQ(0, utimensat(self->dfd, "d", times, 0));

	a = stat_at(_metadata, self->dfd, "f");
	EXPECT_EQ(0640, a.st_mode & 07777);
	EXPECT_EQ(TEST_UID, a.st_uid);
	EXPECT_EQ(TEST_GID, a.st_gid);
	EXPECT_EQ(times[0].tv_sec, a.st_atim.tv_sec);
	EXPECT_EQ(times[1].tv_sec, a.st_mtim.tv_sec);
	EXPECT_TRUE(ts_after(a.st_ctim, s0.st_ctim));

	evict_caches(_metadata);
	b = stat_at(_metadata, self->dfd, "f");
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(a.st_mode, b.st_mode);
	EXPECT_EQ(a.st_uid, b.st_uid);
	EXPECT_EQ(a.st_gid, b.st_gid);
	EXPECT_EQ(a.st_size, b.st_size);
	EXPECT_TRUE(ts_equal(a.st_mtim, b.st_mtim));
	EXPECT_TRUE(ts_equal(a.st_ctim, b.st_ctim));

	b = stat_at(_metadata, self->dfd, "d");
	EXPECT_TRUE(S_ISDIR(b.st_mode));
	EXPECT_EQ(0710, b.st_mode & 07777);
	EXPECT_EQ(TEST_UID, b.st_uid);
	EXPECT_EQ(0, b.st_gid);
	EXPECT_EQ(times[1].tv_sec, b.st_mtim.tv_sec);
}

/*
 * Test Case: data and directories survive inode eviction
 *
 * After every dentry and inode of the test directory has been dropped
 * from the caches, lookups, listings and data come back from the store.
 */
TEST_F_TIMEOUT(pkernfs, data_survives_eviction, 120)
{
	static const uint64_t sizes[] = { 1, BS, 3 * SZ_1M + 3 };
	struct stat st;
	unsigned int i;
	char name[32];
	int fd;

	ASSERT_EQ(0, mkdirat(self->dfd, "d", 0750));
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		snprintf(name, sizeof(name), "d/f%u", i);
		fd = make_file(_metadata, self->dfd, name, sizes[i], 20 + i);
		close(fd);
	}
	evict_caches(_metadata);
	st = stat_at(_metadata, self->dfd, "d");
	EXPECT_EQ(0750, st.st_mode & 07777);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		snprintf(name, sizeof(name), "d/f%u", i);
		fd = openat(self->dfd, name, O_RDONLY);
		ASSERT_LE(0, fd);
		EXPECT_EQ(sizes[i], fd_size(_metadata, fd));
		check_data(_metadata, fd, 0, sizes[i], 20 + i);
		close(fd);
	}
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "d/f9"));
}

/* mmap ------------------------------------------------------------------ */

/*
 * Test Case: shared read-only mapping
 *
 * A MAP_SHARED PROT_READ mapping of an O_RDONLY fd shows the file's bytes
 * across block boundaries.
 */
TEST_F(pkernfs, mmap_shared_read)
{
	const size_t len = 3 * SZ_1M + 100;
	char *map;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", len, 16);
	close(fd);
	fd = openat(self->dfd, "f", O_RDONLY);
	ASSERT_LE(0, fd);
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-1, pk_check(map, len, 16, 0));
	munmap(map, len);
	close(fd);
}

/*
 * Test Case: shared writable mapping
 *
 * Data stored through a MAP_SHARED mapping is read back by read() after
 * msync and after munmap; the file size is not changed by the stores.
 */
TEST_F(pkernfs, mmap_shared_write)
{
	const size_t len = 5 * SZ_1M;
	char *map;
	int fd;

	fd = openat(self->dfd, "f", O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, len));
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	pk_fill(map, len, 17, 0);
	ASSERT_EQ(0, msync(map, len, MS_SYNC));
	check_data(_metadata, fd, 0, len, 17);
	ASSERT_EQ(0, munmap(map, len));
	close(fd);
	fd = openat(self->dfd, "f", O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(len, fd_size(_metadata, fd));
	check_data(_metadata, fd, 0, len, 17);
	close(fd);
}

/*
 * Test Case: mmap and read/write are coherent
 *
 * A pwrite() is seen at once through two mappings of the file, and a
 * store through one mapping is seen by pread() and by the other mapping,
 * without msync.
 */
TEST_F(pkernfs, mmap_coherent_with_read_write)
{
	const size_t len = BS + 4096;
	char *m1, *m2, c;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", len, 18);
	m1 = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m1);
	m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, BS);
	ASSERT_NE(MAP_FAILED, m2);

	ASSERT_EQ(3, pwrite(fd, "abc", 3, BS + 10));
	EXPECT_EQ(0, memcmp(m1 + BS + 10, "abc", 3));
	EXPECT_EQ(0, memcmp(m2 + 10, "abc", 3));

	m1[BS + 20] = 'Q';
	ASSERT_EQ(1, pread(fd, &c, 1, BS + 20));
	EXPECT_EQ('Q', c);
	EXPECT_EQ('Q', m2[20]);

	m2[30] = 'Z';
	EXPECT_EQ('Z', m1[BS + 30]);
	ASSERT_EQ(1, pread(fd, &c, 1, BS + 30));
	EXPECT_EQ('Z', c);

	m1[5] = 'W';
	ASSERT_EQ(1, pread(fd, &c, 1, 5));
	EXPECT_EQ('W', c);
	munmap(m1, len);
	munmap(m2, 4096);
	close(fd);
}

/*
 * Test Case: mmap honours the file offset
 *
 * Mappings at 2 MiB, at 4 KiB (spanning three blocks) and at 4 MiB see
 * and change the bytes at those file offsets.
 */
TEST_F(pkernfs, mmap_offset)
{
	const size_t size = 6 * SZ_1M;
	char *map;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", size, 19);
	map = mmap(NULL, BS, PROT_READ, MAP_SHARED, fd, BS);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-1, pk_check(map, BS, 19, BS));
	munmap(map, BS);

	map = mmap(NULL, 4 * SZ_1M, PROT_READ, MAP_SHARED, fd, 4096);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-1, pk_check(map, 4 * SZ_1M, 19, 4096));
	munmap(map, 4 * SZ_1M);

	map = mmap(NULL, BS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 2 * BS);
	ASSERT_NE(MAP_FAILED, map);
	pk_fill(map, BS, 20, 2 * BS);
	munmap(map, BS);
	check_data(_metadata, fd, 0, 2 * BS, 19);
	check_data(_metadata, fd, 2 * BS, BS, 20);
	close(fd);
}

/*
 * Test Case: 2 MiB-aligned mapping of whole blocks
 *
 * A mapping placed at a 2 MiB-aligned address covering whole blocks is
 * mapped with PMD entries: touching every 4 KiB page of it costs one
 * minor fault per 2 MiB block, not one per page (with 4 KiB PTEs it would
 * be 512 per block).  It reads and writes the right bytes, also through a
 * second, unaligned mapping of the same range.
 */
TEST_F_TIMEOUT(pkernfs, mmap_pmd_aligned_blocks, 120)
{
	const size_t len = 4 * BS;
	char *resv, *aligned, *other;
	struct rusage before, after;
	unsigned long sum = 0;
	long faults;
	size_t off;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", len, 21);
	resv = mmap(NULL, len + BS, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, resv);
	aligned = (char *)(((uintptr_t)resv + BS - 1) & ~(uintptr_t)(BS - 1));
	ASSERT_EQ(aligned, mmap(aligned, len, PROT_READ | PROT_WRITE,
				MAP_SHARED | MAP_FIXED, fd, 0));

	/* First touch of every page: one fault per block (a little slack). */
	ASSERT_EQ(0, getrusage(RUSAGE_SELF, &before));
	for (off = 0; off < len; off += 4096)
		sum += *(volatile unsigned char *)(aligned + off);
	ASSERT_EQ(0, getrusage(RUSAGE_SELF, &after));
	faults = after.ru_minflt - before.ru_minflt;
	TH_LOG("%ld minor faults for %zu blocks (byte sum %lu)", faults,
	       len / BS, sum);
	EXPECT_GE((long)(2 * len / BS), faults);
	EXPECT_LE((long)(len / BS), faults);

	EXPECT_EQ(-1, pk_check(aligned, len, 21, 0));

	pk_fill(aligned + BS, 2 * BS, 22, BS);
	other = mmap(NULL, 2 * BS + 4096, PROT_READ, MAP_SHARED, fd, BS - 4096);
	ASSERT_NE(MAP_FAILED, other);
	EXPECT_EQ(-1, pk_check(other, 4096, 21, BS - 4096));
	EXPECT_EQ(-1, pk_check(other + 4096, 2 * BS, 22, BS));
	munmap(other, 2 * BS + 4096);
	munmap(resv, len + BS);

	check_data(_metadata, fd, 0, BS, 21);
	check_data(_metadata, fd, BS, 2 * BS, 22);
	check_data(_metadata, fd, 3 * BS, BS, 21);
	close(fd);
}

/*
 * Test Case: mmap offset must be page aligned
 */
TEST_F(pkernfs, mmap_unaligned_offset_einval)
{
	int fd;

	fd = make_file(_metadata, self->dfd, "f", 2 * BS, 23);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 100));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, BS + 512));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

/*
 * Test Case: private writable mappings are refused
 *
 * pkernfs memory has no page cache to copy on write from, so MAP_PRIVATE
 * with PROT_WRITE is EINVAL.
 */
TEST_F(pkernfs, mmap_private_write_einval)
{
	int fd;

	NEED_PKERNFS();
	fd = make_file(_metadata, self->dfd, "f", BS, 24);
	EXPECT_EQ(MAP_FAILED, mmap(NULL, BS, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE, fd, 0));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

/*
 * Test Case: private read-only mapping
 *
 * MAP_PRIVATE PROT_READ works and shows the data, but cannot later be
 * made writable: mprotect(PROT_WRITE) is EACCES.
 */
TEST_F(pkernfs, mmap_private_readonly_no_mprotect_write)
{
	char *map;
	int fd;

	NEED_PKERNFS();
	fd = make_file(_metadata, self->dfd, "f", BS, 25);
	map = mmap(NULL, BS, PROT_READ, MAP_PRIVATE, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-1, pk_check(map, BS, 25, 0));
	EXPECT_EQ(-1, mprotect(map, BS, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(map, BS);
	close(fd);
}

/*
 * Test Case: SIGBUS past EOF
 *
 * In a mapping longer than the file, the page holding EOF is readable
 * (zero past EOF) and storing there does not grow the file; pages
 * entirely past EOF, in the same block or beyond it, raise SIGBUS until
 * the file is extended to cover them.
 */
TEST_F(pkernfs, mmap_past_eof_sigbus)
{
	const size_t len = 2 * BS;
	char *map;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", 100, 26);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(0, probe(map + 99, false));
	EXPECT_EQ(-1, pk_check(map, 100, 26, 0));
	EXPECT_EQ(-1, pk_check_zero(map + 100, 4096 - 100));
	EXPECT_EQ(0, probe(map + 200, true));
	EXPECT_EQ(100, fd_size(_metadata, fd));

	EXPECT_EQ(SIGBUS, probe(map + 4096, false));
	EXPECT_EQ(SIGBUS, probe(map + 4096, true));
	EXPECT_EQ(SIGBUS, probe(map + BS - 1, false));
	EXPECT_EQ(SIGBUS, probe(map + BS, false));
	EXPECT_EQ(SIGBUS, probe(map + len - 1, true));
	EXPECT_EQ(100, fd_size(_metadata, fd));

	ASSERT_EQ(0, ftruncate(fd, BS + 4096));
	EXPECT_EQ(0, probe(map + 4096, false));
	EXPECT_EQ(0, map[4096]);
	EXPECT_EQ(0, probe(map + BS, true));
	EXPECT_EQ(SIGBUS, probe(map + BS + 4096, false));
	munmap(map, len);
	close(fd);
}

/*
 * Test Case: truncate zaps mappings
 *
 * Shrinking a mapped file makes the pages past the new EOF raise SIGBUS
 * (the old PTEs/PMDs are gone), keeps the pages below it, and growing the
 * file again maps fresh zeroed blocks, not the old data.
 */
TEST_F(pkernfs, mmap_truncate_zaps_mapping)
{
	const size_t len = 4 * SZ_1M;
	char *map;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", len, 27);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-1, pk_check(map, len, 27, 0));

	ASSERT_EQ(0, ftruncate(fd, SZ_1M));
	EXPECT_EQ(SIGBUS, probe(map + 3 * SZ_1M, false));
	EXPECT_EQ(SIGBUS, probe(map + SZ_1M, false));
	EXPECT_EQ(SIGBUS, probe(map + BS + 4096, true));
	EXPECT_EQ(0, probe(map + SZ_1M - 1, false));
	EXPECT_EQ(-1, pk_check(map, SZ_1M, 27, 0));
	EXPECT_EQ(SZ_1M, fd_size(_metadata, fd));

	ASSERT_EQ(0, ftruncate(fd, len));
	EXPECT_EQ(0, probe(map + 3 * SZ_1M, false));
	EXPECT_EQ(-1, pk_check_zero(map + SZ_1M, len - SZ_1M));
	EXPECT_EQ(-1, pk_check(map, SZ_1M, 27, 0));
	munmap(map, len);
	close(fd);
}

/* Directories ------------------------------------------------------------ */

/*
 * Test Case: mkdir honours mode and umask
 *
 * New directories have mode & ~umask, two links, the caller as owner;
 * mkdir over an existing name is EEXIST.
 */
TEST_F(pkernfs, mkdir_mode)
{
	struct stat st;

	umask(022);
	ASSERT_EQ(0, mkdirat(self->dfd, "a", 0777));
	umask(0);
	ASSERT_EQ(0, mkdirat(self->dfd, "b", 0710));
	st = stat_at(_metadata, self->dfd, "a");
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(0755, st.st_mode & 07777);
	EXPECT_EQ(2, st.st_nlink);
	EXPECT_EQ(0, st.st_uid);
	if (self->is_pkernfs)
		EXPECT_EQ(0, st.st_blocks);
	st = stat_at(_metadata, self->dfd, "b");
	EXPECT_EQ(0710, st.st_mode & 07777);

	EXPECT_EQ(-1, mkdirat(self->dfd, "a", 0755));
	EXPECT_EQ(EEXIST, errno);
	close(make_file(_metadata, self->dfd, "f", 0, 0));
	EXPECT_EQ(-1, mkdirat(self->dfd, "f", 0755));
	EXPECT_EQ(EEXIST, errno);
}

/*
 * Test Case: rmdir
 *
 * rmdir of a directory holding a file or a subdirectory is ENOTEMPTY and
 * changes nothing; of a file it is ENOTDIR; once empty it goes away.
 */
TEST_F(pkernfs, rmdir_errors)
{
	ASSERT_EQ(0, mkdirat(self->dfd, "d", 0755));
	close(make_file(_metadata, self->dfd, "d/f", 10, 1));
	EXPECT_EQ(-1, unlinkat(self->dfd, "d", AT_REMOVEDIR));
	EXPECT_EQ(ENOTEMPTY, errno);
	EXPECT_EQ(0, stat_errno(self->dfd, "d/f"));
	ASSERT_EQ(0, unlinkat(self->dfd, "d/f", 0));
	ASSERT_EQ(0, mkdirat(self->dfd, "d/sub", 0755));
	EXPECT_EQ(-1, unlinkat(self->dfd, "d", AT_REMOVEDIR));
	EXPECT_EQ(ENOTEMPTY, errno);

	close(make_file(_metadata, self->dfd, "file", 10, 1));
	EXPECT_EQ(-1, unlinkat(self->dfd, "file", AT_REMOVEDIR));
	EXPECT_EQ(ENOTDIR, errno);
	EXPECT_EQ(0, stat_errno(self->dfd, "file"));

	ASSERT_EQ(0, unlinkat(self->dfd, "d/sub", AT_REMOVEDIR));
	ASSERT_EQ(0, unlinkat(self->dfd, "d", AT_REMOVEDIR));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "d"));
}

/*
 * Test Case: unlink of a directory is EISDIR
 */
TEST_F(pkernfs, unlink_dir_eisdir)
{
	ASSERT_EQ(0, mkdirat(self->dfd, "d", 0755));
	EXPECT_EQ(-1, unlinkat(self->dfd, "d", 0));
	EXPECT_EQ(EISDIR, errno);
	EXPECT_EQ(0, stat_errno(self->dfd, "d"));
}

/*
 * Read all entries of @fd with getdents64 and a @bufsz buffer, calling
 * @fn for each; return the number of entries or -errno.
 */
static int list_dir(int fd, size_t bufsz,
		    void (*fn)(struct dent64 *de, void *arg), void *arg)
{
	char buf[4096] __attribute__((aligned(8)));
	struct dent64 *de;
	long n, pos;
	int count = 0;

	if (bufsz > sizeof(buf))
		return -EINVAL;
	for (;;) {
		n = syscall(SYS_getdents64, fd, buf, bufsz);
		if (n < 0)
			return -errno;
		if (!n)
			return count;
		for (pos = 0; pos < n; pos += de->d_reclen) {
			de = (struct dent64 *)(buf + pos);
			fn(de, arg);
			count++;
		}
	}
}

static void count_entry(struct dent64 *de, void *arg)
{
}

#define NR_DENTS	300

struct seen_state {
	int seen[NR_DENTS];	/* times each created entry was returned */
	int dot, dotdot, other;
	unsigned char type[NR_DENTS];
	uint64_t ino[NR_DENTS];
	uint64_t dot_ino, dotdot_ino;
	bool bad_type;
};

static void seen_entry(struct dent64 *de, void *arg)
{
	struct seen_state *s = arg;
	int i;

	if (!strcmp(de->d_name, ".")) {
		s->dot++;
		s->dot_ino = de->d_ino;
		s->bad_type |= de->d_type != DT_DIR;
		return;
	}
	if (!strcmp(de->d_name, "..")) {
		s->dotdot++;
		s->dotdot_ino = de->d_ino;
		s->bad_type |= de->d_type != DT_DIR;
		return;
	}
	if (sscanf(de->d_name, "e%d", &i) != 1 || i < 0 || i >= NR_DENTS) {
		s->other++;
		return;
	}
	s->seen[i]++;
	s->type[i] = de->d_type;
	s->ino[i] = de->d_ino;
}

/* Entry names of varying length so that records straddle buffer ends. */
static void dent_name(char *buf, size_t len, int i)
{
	snprintf(buf, len, "e%03d%.*s", i, i % 23, "_xxxxxxxxxxxxxxxxxxxxxxx");
}

/*
 * Test Case: readdir returns every entry exactly once
 *
 * 300 entries (every third a directory) plus "." and "..", read with
 * getdents64 into an 80-byte buffer so that the listing resumes hundreds
 * of times: each entry appears once, with the right d_type and d_ino.
 * A buffer too small for one record is EINVAL; rewinding lists it all
 * again; and the listing is the same after the inodes were evicted.
 */
TEST_F_TIMEOUT(pkernfs, readdir_each_entry_once, 120)
{
	struct seen_state *s;
	struct stat dst, pst, st;
	char name[64], small[16];
	int i, fd, n, pass;

	s = malloc(sizeof(*s));
	ASSERT_NE(NULL, s);
	for (i = 0; i < NR_DENTS; i++) {
		dent_name(name, sizeof(name), i);
		if (i % 3 == 0) {
			ASSERT_EQ(0, mkdirat(self->dfd, name, 0755));
			continue;
		}
		close(make_file(_metadata, self->dfd, name, 0, 0));
	}
	ASSERT_EQ(0, fstat(self->dfd, &dst));
	ASSERT_EQ(0, stat(self->mnt, &pst));

	for (pass = 0; pass < 3; pass++) {
		if (pass == 2)
			evict_caches(_metadata);
		fd = open(self->dir, O_RDONLY | O_DIRECTORY);
		ASSERT_LE(0, fd);
		if (pass == 0) {
			EXPECT_EQ(-1, syscall(SYS_getdents64, fd, small, sizeof(small)));
			EXPECT_EQ(EINVAL, errno);
		}
		memset(s, 0, sizeof(*s));
		n = list_dir(fd, 80, seen_entry, s);
		EXPECT_EQ(NR_DENTS + 2, n);
		if (pass == 1) {
			/* rewind and list again on the same fd */
			memset(s, 0, sizeof(*s));
			ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
			n = list_dir(fd, 80, seen_entry, s);
			EXPECT_EQ(NR_DENTS + 2, n);
		}
		close(fd);

		EXPECT_EQ(1, s->dot);
		EXPECT_EQ(1, s->dotdot);
		EXPECT_EQ(0, s->other);
		EXPECT_FALSE(s->bad_type);
		EXPECT_EQ(dst.st_ino, s->dot_ino);
		EXPECT_EQ(pst.st_ino, s->dotdot_ino);
		for (i = 0; i < NR_DENTS; i++) {
			dent_name(name, sizeof(name), i);
			EXPECT_EQ(1, s->seen[i]) TH_LOG("%s seen %d times", name, s->seen[i]);
			EXPECT_EQ(i % 3 ? DT_REG : DT_DIR, s->type[i])
				TH_LOG("%s d_type %u", name, s->type[i]);
			st = stat_at(_metadata, self->dfd, name);
			EXPECT_EQ(st.st_ino, s->ino[i]);
		}
	}
	free(s);
}

/*
 * Test Case: readdir of an empty directory
 *
 * Exactly "." (the directory) and ".." (its parent), both DT_DIR.
 */
TEST_F(pkernfs, readdir_empty_dir)
{
	struct seen_state *s;
	struct stat st;
	int fd;

	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, mkdirat(self->dfd, "d", 0755));
	fd = openat(self->dfd, "d", O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(2, list_dir(fd, 4096, seen_entry, s));
	close(fd);
	EXPECT_EQ(1, s->dot);
	EXPECT_EQ(1, s->dotdot);
	EXPECT_FALSE(s->bad_type);
	st = stat_at(_metadata, self->dfd, "d");
	EXPECT_EQ(st.st_ino, s->dot_ino);
	ASSERT_EQ(0, fstat(self->dfd, &st));
	EXPECT_EQ(st.st_ino, s->dotdot_ino);
	free(s);
}

struct name_list {
	char names[64][64];
	int n;
};

static void collect_name(struct dent64 *de, void *arg)
{
	struct name_list *l = arg;

	if (l->n < 64)
		snprintf(l->names[l->n], sizeof(l->names[0]), "%s", de->d_name);
	l->n++;
}

/*
 * Test Case: readdir resumes from a saved position
 *
 * A listing cut after its first small getdents64() batch and resumed from
 * the offset lseek() reports returns every entry exactly once: the names
 * the test created, ".", "..", and nothing else.  Seeking back to that
 * offset later gives the same remainder.  The oracle is the list of names
 * the test made, not another listing of the same directory.
 */
TEST_F(pkernfs, readdir_seek_resume)
{
	enum { NR_FILES = 40, NR_ENTRIES = NR_FILES + 2 };
	struct name_list *first, *rest, *again;
	char buf[120] __attribute__((aligned(8)));
	int seen[NR_FILES] = { 0 };
	int i, j, fd, dots = 0;
	struct dent64 *de;
	char name[16];
	long n, at;
	off_t pos;

	first = calloc(1, sizeof(*first));
	rest = calloc(1, sizeof(*rest));
	again = calloc(1, sizeof(*again));
	ASSERT_NE(NULL, first);
	ASSERT_NE(NULL, rest);
	ASSERT_NE(NULL, again);
	for (i = 0; i < NR_FILES; i++) {
		snprintf(name, sizeof(name), "n%02d", i);
		close(make_file(_metadata, self->dfd, name, 0, 0));
	}
	fd = open(self->dir, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);

	/* One batch of a few entries, then the rest from the saved offset. */
	n = syscall(SYS_getdents64, fd, buf, sizeof(buf));
	ASSERT_LT(0, n);
	for (at = 0; at < n; at += de->d_reclen) {
		de = (struct dent64 *)(buf + at);
		collect_name(de, first);
	}
	ASSERT_GT(NR_ENTRIES, first->n);
	pos = lseek(fd, 0, SEEK_CUR);
	ASSERT_LT(0, pos);
	EXPECT_LT(0, list_dir(fd, 120, collect_name, rest));
	ASSERT_EQ(NR_ENTRIES, first->n + rest->n);

	for (i = 0; i < NR_ENTRIES; i++) {
		const char *nm = i < first->n ? first->names[i] :
						rest->names[i - first->n];

		if (!strcmp(nm, ".") || !strcmp(nm, "..")) {
			dots++;
			continue;
		}
		ASSERT_EQ(1, sscanf(nm, "n%d", &j)) {
			TH_LOG("unexpected entry '%s'", nm);
		}
		ASSERT_TRUE(j >= 0 && j < NR_FILES);
		seen[j]++;
	}
	EXPECT_EQ(2, dots);
	for (i = 0; i < NR_FILES; i++)
		EXPECT_EQ(1, seen[i]) {
			TH_LOG("n%02d returned %d times", i, seen[i]);
		}

	/* The saved offset still leads to the same remainder. */
	ASSERT_EQ(pos, lseek(fd, pos, SEEK_SET));
	EXPECT_EQ(rest->n, list_dir(fd, 200, collect_name, again));
	ASSERT_EQ(rest->n, again->n);
	for (i = 0; i < rest->n; i++)
		EXPECT_STREQ(rest->names[i], again->names[i]);
	close(fd);
	free(first);
	free(rest);
	free(again);
}

static int rename2(int olddfd, const char *old, int newdfd, const char *new,
		   unsigned int flags)
{
	return syscall(SYS_renameat2, olddfd, old, newdfd, new, flags);
}

/*
 * Test Case: rename within a directory
 *
 * The inode and data move to the new name, the old name is gone; a
 * directory renamed keeps its contents; renaming onto itself is a no-op.
 */
TEST_F(pkernfs, rename_same_dir)
{
	struct stat a, b;
	int fd;

	fd = make_file(_metadata, self->dfd, "a", 3000, 30);
	close(fd);
	a = stat_at(_metadata, self->dfd, "a");
	ASSERT_EQ(0, renameat(self->dfd, "a", self->dfd, "b"));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "a"));
	b = stat_at(_metadata, self->dfd, "b");
	EXPECT_EQ(a.st_ino, b.st_ino);
	fd = openat(self->dfd, "b", O_RDONLY);
	ASSERT_LE(0, fd);
	check_data(_metadata, fd, 0, 3000, 30);
	close(fd);

	ASSERT_EQ(0, renameat(self->dfd, "b", self->dfd, "b"));
	EXPECT_EQ(0, stat_errno(self->dfd, "b"));

	ASSERT_EQ(0, mkdirat(self->dfd, "d1", 0755));
	close(make_file(_metadata, self->dfd, "d1/f", 10, 31));
	ASSERT_EQ(0, renameat(self->dfd, "d1", self->dfd, "d2"));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "d1"));
	fd = openat(self->dfd, "d2/f", O_RDONLY);
	ASSERT_LE(0, fd);
	check_data(_metadata, fd, 0, 10, 31);
	close(fd);
}

/*
 * Test Case: rename across directories
 *
 * A file and a directory move between directories; link counts of both
 * parents follow the directory, its ".." points at the new parent, and
 * all of it is still true after the inodes were evicted.
 */
TEST_F(pkernfs, rename_across_dirs)
{
	struct stat d1, d2, st;
	struct seen_state *s;
	int pass, fd;

	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, mkdirat(self->dfd, "d1", 0755));
	ASSERT_EQ(0, mkdirat(self->dfd, "d2", 0755));
	ASSERT_EQ(0, mkdirat(self->dfd, "d1/sub", 0755));
	close(make_file(_metadata, self->dfd, "d1/f", 5000, 32));
	close(make_file(_metadata, self->dfd, "d1/sub/g", 10, 33));
	EXPECT_EQ(3, stat_at(_metadata, self->dfd, "d1").st_nlink);

	ASSERT_EQ(0, renameat(self->dfd, "d1/f", self->dfd, "d2/f"));
	ASSERT_EQ(0, renameat(self->dfd, "d1/sub", self->dfd, "d2/sub"));

	for (pass = 0; pass < 2; pass++) {
		if (pass)
			evict_caches(_metadata);
		d1 = stat_at(_metadata, self->dfd, "d1");
		d2 = stat_at(_metadata, self->dfd, "d2");
		EXPECT_EQ(2, d1.st_nlink);
		EXPECT_EQ(3, d2.st_nlink);
		EXPECT_EQ(ENOENT, stat_errno(self->dfd, "d1/f"));
		EXPECT_EQ(ENOENT, stat_errno(self->dfd, "d1/sub"));
		st = stat_at(_metadata, self->dfd, "d2/sub/..");
		EXPECT_EQ(d2.st_ino, st.st_ino);

		fd = openat(self->dfd, "d2/sub", O_RDONLY | O_DIRECTORY);
		ASSERT_LE(0, fd);
		memset(s, 0, sizeof(*s));
		EXPECT_EQ(3, list_dir(fd, 4096, seen_entry, s));
		EXPECT_EQ(d2.st_ino, s->dotdot_ino);
		close(fd);

		fd = openat(self->dfd, "d1", O_RDONLY | O_DIRECTORY);
		ASSERT_LE(0, fd);
		EXPECT_EQ(2, list_dir(fd, 4096, seen_entry, s));
		close(fd);

		fd = openat(self->dfd, "d2/f", O_RDONLY);
		ASSERT_LE(0, fd);
		check_data(_metadata, fd, 0, 5000, 32);
		close(fd);
		fd = openat(self->dfd, "d2/sub/g", O_RDONLY);
		ASSERT_LE(0, fd);
		check_data(_metadata, fd, 0, 10, 33);
		close(fd);
	}
	free(s);
}

/*
 * Test Case: one name in many directories
 *
 * Lookups go through an index of every entry keyed by parent and name:
 * the same name in 32 directories must give 32 different files, before
 * and after the dentries are evicted, and a rename must move the entry in
 * the index as well as in the lists.
 */
TEST_F(pkernfs, lookup_same_name_in_many_dirs)
{
	char path[64];
	int pass, i, fd;

	for (i = 0; i < 32; i++) {
		snprintf(path, sizeof(path), "d%d", i);
		ASSERT_EQ(0, mkdirat(self->dfd, path, 0755));
		snprintf(path, sizeof(path), "d%d/x", i);
		close(make_file(_metadata, self->dfd, path, 100 + i, i));
	}
	ASSERT_EQ(0, renameat(self->dfd, "d0/x", self->dfd, "d1/y"));
	ASSERT_EQ(0, renameat(self->dfd, "d2/x", self->dfd, "d2/z"));

	for (pass = 0; pass < 2; pass++) {
		if (pass)
			evict_caches(_metadata);
		EXPECT_EQ(ENOENT, stat_errno(self->dfd, "d0/x"));
		EXPECT_EQ(ENOENT, stat_errno(self->dfd, "d2/x"));
		EXPECT_EQ(100, stat_at(_metadata, self->dfd, "d1/y").st_size);
		EXPECT_EQ(102, stat_at(_metadata, self->dfd, "d2/z").st_size);
		for (i = 1; i < 32; i++) {
			if (i == 2)
				continue;
			snprintf(path, sizeof(path), "d%d/x", i);
			fd = openat(self->dfd, path, O_RDONLY);
			ASSERT_LE(0, fd) TH_LOG("%s", path);
			check_data(_metadata, fd, 0, 100 + i, i);
			close(fd);
		}
	}
}

/*
 * Test Case: rename over an existing file
 *
 * The target is replaced atomically by the source inode and data; the
 * replaced inode and its blocks are freed.
 */
TEST_F(pkernfs, rename_replace_file)
{
	uint64_t bfree, ffree;
	struct stat a, b;
	int fd;

	close(make_file(_metadata, self->dfd, "a", 3 * SZ_1M, 34));
	close(make_file(_metadata, self->dfd, "b", 5 * SZ_1M, 35));
	a = stat_at(_metadata, self->dfd, "a");
	bfree = fs_bfree(_metadata, self);
	ffree = fs_ffree(_metadata, self);

	ASSERT_EQ(0, renameat(self->dfd, "a", self->dfd, "b"));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "a"));
	b = stat_at(_metadata, self->dfd, "b");
	EXPECT_EQ(a.st_ino, b.st_ino);
	EXPECT_EQ(3 * SZ_1M, b.st_size);
	fd = openat(self->dfd, "b", O_RDONLY);
	ASSERT_LE(0, fd);
	check_data(_metadata, fd, 0, 3 * SZ_1M, 34);
	close(fd);
	if (self->is_pkernfs) {
		EXPECT_EQ(bfree + 3, fs_bfree(_metadata, self));
		EXPECT_EQ(ffree + 1, fs_ffree(_metadata, self));
	}
}

/*
 * Test Case: RENAME_NOREPLACE
 *
 * EEXIST when the target exists, leaving both files untouched; a plain
 * rename when it does not.
 */
TEST_F(pkernfs, rename_noreplace)
{
	int fd;

	close(make_file(_metadata, self->dfd, "a", 100, 36));
	close(make_file(_metadata, self->dfd, "b", 200, 37));
	EXPECT_EQ(-1, rename2(self->dfd, "a", self->dfd, "b", RENAME_NOREPLACE));
	EXPECT_EQ(EEXIST, errno);
	fd = openat(self->dfd, "a", O_RDONLY);
	ASSERT_LE(0, fd);
	check_data(_metadata, fd, 0, 100, 36);
	close(fd);
	fd = openat(self->dfd, "b", O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(200, fd_size(_metadata, fd));
	check_data(_metadata, fd, 0, 200, 37);
	close(fd);

	EXPECT_EQ(0, rename2(self->dfd, "a", self->dfd, "c", RENAME_NOREPLACE));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "a"));
	EXPECT_EQ(100, stat_at(_metadata, self->dfd, "c").st_size);
}

/*
 * Test Case: rename a directory over another directory
 *
 * Over a non-empty directory it is ENOTEMPTY and nothing changes; over an
 * empty one the target is replaced, the parent loses a link and the
 * replaced inode is freed.
 */
TEST_F(pkernfs, rename_dir_over_dir)
{
	struct stat src, st;
	uint64_t ffree;

	ASSERT_EQ(0, mkdirat(self->dfd, "src", 0755));
	close(make_file(_metadata, self->dfd, "src/f", 1, 38));
	ASSERT_EQ(0, mkdirat(self->dfd, "full", 0755));
	close(make_file(_metadata, self->dfd, "full/g", 1, 39));
	ASSERT_EQ(0, mkdirat(self->dfd, "empty", 0755));
	src = stat_at(_metadata, self->dfd, "src");

	EXPECT_EQ(-1, renameat(self->dfd, "src", self->dfd, "full"));
	EXPECT_EQ(ENOTEMPTY, errno);
	EXPECT_EQ(0, stat_errno(self->dfd, "src/f"));
	EXPECT_EQ(0, stat_errno(self->dfd, "full/g"));

	ASSERT_EQ(0, fstat(self->dfd, &st));
	EXPECT_EQ(5, st.st_nlink);
	ffree = fs_ffree(_metadata, self);
	ASSERT_EQ(0, renameat(self->dfd, "src", self->dfd, "empty"));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "src"));
	st = stat_at(_metadata, self->dfd, "empty");
	EXPECT_EQ(src.st_ino, st.st_ino);
	EXPECT_EQ(0, stat_errno(self->dfd, "empty/f"));
	ASSERT_EQ(0, fstat(self->dfd, &st));
	EXPECT_EQ(4, st.st_nlink);
	if (self->is_pkernfs)
		EXPECT_EQ(ffree + 1, fs_ffree(_metadata, self));
}

/*
 * Test Case: rename between a file and a directory
 *
 * File over directory is EISDIR, directory over file is ENOTDIR, and a
 * directory into its own subdirectory is EINVAL.
 */
TEST_F(pkernfs, rename_type_mismatch)
{
	ASSERT_EQ(0, mkdirat(self->dfd, "d", 0755));
	ASSERT_EQ(0, mkdirat(self->dfd, "d/sub", 0755));
	close(make_file(_metadata, self->dfd, "f", 1, 40));

	EXPECT_EQ(-1, renameat(self->dfd, "f", self->dfd, "d/sub"));
	EXPECT_EQ(EISDIR, errno);
	EXPECT_EQ(-1, renameat(self->dfd, "d/sub", self->dfd, "f"));
	EXPECT_EQ(ENOTDIR, errno);
	EXPECT_EQ(-1, renameat(self->dfd, "d", self->dfd, "d/sub/x"));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_TRUE(S_ISREG(stat_at(_metadata, self->dfd, "f").st_mode));
	EXPECT_TRUE(S_ISDIR(stat_at(_metadata, self->dfd, "d/sub").st_mode));
}

/*
 * Test Case: nested directories
 *
 * Eight levels deep: a file at the bottom is reachable by its full path,
 * each ".." leads to the level above, and the tree can only be removed
 * from the bottom up.
 */
TEST_F(pkernfs, nested_dirs)
{
	char path[256] = "", up[256];
	struct stat st, parent;
	int level, fd;

	for (level = 0; level < 8; level++) {
		strcat(path, level ? "/l" : "l");
		ASSERT_EQ(0, mkdirat(self->dfd, path, 0755)) TH_LOG("%s", path);
	}
	strcat(path, "/file");
	close(make_file(_metadata, self->dfd, path, BS + 1, 41));
	fd = openat(self->dfd, path, O_RDONLY);
	ASSERT_LE(0, fd);
	check_data(_metadata, fd, 0, BS + 1, 41);
	close(fd);

	*strrchr(path, '/') = '\0';
	while (strchr(path, '/')) {
		st = stat_at(_metadata, self->dfd, path);
		EXPECT_EQ(level == 8 ? 2 : 3, st.st_nlink);
		snprintf(up, sizeof(up), "%s/..", path);
		st = stat_at(_metadata, self->dfd, up);
		*strrchr(path, '/') = '\0';
		parent = stat_at(_metadata, self->dfd, path);
		EXPECT_EQ(parent.st_ino, st.st_ino);
		EXPECT_EQ(-1, unlinkat(self->dfd, path, AT_REMOVEDIR));
		EXPECT_EQ(ENOTEMPTY, errno);
		level--;
	}
	EXPECT_EQ(0, pk_rm_rf_at(self->dfd, "l"));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "l"));
}

/*
 * Test Case: directory link count
 *
 * st_nlink of a directory is 2 plus its subdirectories: files do not
 * count, mkdir/rmdir/rename of subdirectories move it.
 */
TEST_F(pkernfs, dir_nlink_counts_subdirs)
{
	ASSERT_EQ(0, mkdirat(self->dfd, "d", 0755));
	ASSERT_EQ(0, mkdirat(self->dfd, "e", 0755));
	EXPECT_EQ(2, stat_at(_metadata, self->dfd, "d").st_nlink);
	ASSERT_EQ(0, mkdirat(self->dfd, "d/1", 0755));
	ASSERT_EQ(0, mkdirat(self->dfd, "d/2", 0755));
	ASSERT_EQ(0, mkdirat(self->dfd, "d/3", 0755));
	close(make_file(_metadata, self->dfd, "d/f", 1, 42));
	EXPECT_EQ(5, stat_at(_metadata, self->dfd, "d").st_nlink);
	ASSERT_EQ(0, unlinkat(self->dfd, "d/1", AT_REMOVEDIR));
	EXPECT_EQ(4, stat_at(_metadata, self->dfd, "d").st_nlink);
	ASSERT_EQ(0, renameat(self->dfd, "d/2", self->dfd, "e/2"));
	EXPECT_EQ(3, stat_at(_metadata, self->dfd, "d").st_nlink);
	EXPECT_EQ(3, stat_at(_metadata, self->dfd, "e").st_nlink);
	evict_caches(_metadata);
	EXPECT_EQ(3, stat_at(_metadata, self->dfd, "d").st_nlink);
	EXPECT_EQ(3, stat_at(_metadata, self->dfd, "e").st_nlink);
	EXPECT_EQ(2, stat_at(_metadata, self->dfd, "e/2").st_nlink);
}

/*
 * Test Case: negative lookups
 *
 * A missing name is ENOENT (twice, so a cached negative dentry is hit),
 * can then be created as a file, and after unlink as a directory.
 */
TEST_F(pkernfs, negative_lookup_then_create)
{
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "x"));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "x"));
	EXPECT_EQ(-1, openat(self->dfd, "x", O_RDONLY));
	EXPECT_EQ(ENOENT, errno);
	close(make_file(_metadata, self->dfd, "x", 7, 43));
	EXPECT_EQ(7, stat_at(_metadata, self->dfd, "x").st_size);
	ASSERT_EQ(0, unlinkat(self->dfd, "x", 0));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "x"));
	ASSERT_EQ(0, mkdirat(self->dfd, "x", 0755));
	EXPECT_TRUE(S_ISDIR(stat_at(_metadata, self->dfd, "x").st_mode));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "x/y"));
}

/* Errors ------------------------------------------------------------------ */

/*
 * Test Case: NAME_MAX
 *
 * A 255-byte name can be created, found, listed and renamed to; 256
 * bytes is ENAMETOOLONG for open(O_CREAT), mkdir, rename and lookup.
 */
TEST_F(pkernfs, name_max)
{
	char n255[256], n256[257];
	struct seen_state *s;
	int fd;

	memset(n255, 'a', 255);
	n255[255] = '\0';
	memset(n256, 'b', 256);
	n256[256] = '\0';

	fd = openat(self->dfd, n255, O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, fd);
	close(fd);
	EXPECT_EQ(0, stat_errno(self->dfd, n255));

	EXPECT_EQ(-1, openat(self->dfd, n256, O_RDWR | O_CREAT, 0644));
	EXPECT_EQ(ENAMETOOLONG, errno);
	EXPECT_EQ(-1, mkdirat(self->dfd, n256, 0755));
	EXPECT_EQ(ENAMETOOLONG, errno);
	EXPECT_EQ(-1, renameat(self->dfd, n255, self->dfd, n256));
	EXPECT_EQ(ENAMETOOLONG, errno);
	EXPECT_EQ(ENAMETOOLONG, stat_errno(self->dfd, n256));

	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	fd = open(self->dir, O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(3, list_dir(fd, 4096, seen_entry, s));
	EXPECT_EQ(1, s->other);
	close(fd);
	free(s);

	n255[0] = 'c';
	ASSERT_EQ(0, mkdirat(self->dfd, n255, 0755));
	EXPECT_TRUE(S_ISDIR(stat_at(_metadata, self->dfd, n255).st_mode));
}

/*
 * Test Case: O_EXCL on an existing name
 *
 * EEXIST for an existing file and an existing directory; the file keeps
 * its data.
 */
TEST_F(pkernfs, o_excl_eexist)
{
	int fd;

	close(make_file(_metadata, self->dfd, "f", 10, 44));
	ASSERT_EQ(0, mkdirat(self->dfd, "d", 0755));
	EXPECT_EQ(-1, openat(self->dfd, "f", O_RDWR | O_CREAT | O_EXCL, 0644));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, openat(self->dfd, "d", O_RDWR | O_CREAT | O_EXCL, 0644));
	EXPECT_EQ(EEXIST, errno);
	fd = openat(self->dfd, "f", O_RDONLY);
	ASSERT_LE(0, fd);
	check_data(_metadata, fd, 0, 10, 44);
	close(fd);
}

/*
 * Test Case: hard links and symlinks are not supported
 *
 * link() and symlink() fail with EPERM and leave nothing behind; the
 * source keeps one link.
 */
TEST_F(pkernfs, link_symlink_eperm)
{
	NEED_PKERNFS();
	close(make_file(_metadata, self->dfd, "f", 10, 45));
	EXPECT_EQ(-1, linkat(self->dfd, "f", self->dfd, "hard", 0));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "hard"));
	EXPECT_EQ(-1, symlinkat("f", self->dfd, "soft"));
	EXPECT_EQ(EPERM, errno);
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "soft"));
	EXPECT_EQ(1, stat_at(_metadata, self->dfd, "f").st_nlink);
}

/*
 * Test Case: inode store full
 *
 * Creating files until the store is full ends in ENOSPC after exactly
 * f_ffree creations, with f_ffree then 0; the failed name (file or
 * directory) does not exist; freeing one slot makes one creation work
 * again; deleting everything restores f_ffree.
 */
TEST_F_TIMEOUT(pkernfs, inode_store_full_enospc, 300)
{
	uint64_t ffree0, count = 0, i;
	char name[32];
	int fd;

	NEED_PKERNFS();
	ASSERT_EQ(0, mkdirat(self->dfd, "many", 0755));
	ffree0 = fs_ffree(_metadata, self);
	for (;;) {
		snprintf(name, sizeof(name), "many/%05llu", (unsigned long long)count);
		fd = openat(self->dfd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			break;
		close(fd);
		count++;
		ASSERT_GE(PKERNFS_INODE_SLOTS, count);
	}
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(ffree0, count);
	EXPECT_EQ(0, fs_ffree(_metadata, self));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, name));
	EXPECT_EQ(-1, mkdirat(self->dfd, "many/dir", 0755));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "many/dir"));
	fd = openat(self->dfd, "many", O_RDONLY | O_DIRECTORY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(count + 2, list_dir(fd, 4096, count_entry, NULL));
	close(fd);

	ASSERT_EQ(0, unlinkat(self->dfd, "many/00000", 0));
	EXPECT_EQ(1, fs_ffree(_metadata, self));
	fd = openat(self->dfd, "many/again", O_WRONLY | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, write(fd, "z", 1));
	close(fd);
	EXPECT_EQ(0, fs_ffree(_metadata, self));

	for (i = 1; i < count; i++) {
		snprintf(name, sizeof(name), "many/%05llu", (unsigned long long)i);
		ASSERT_EQ(0, unlinkat(self->dfd, name, 0));
	}
	ASSERT_EQ(0, unlinkat(self->dfd, "many/again", 0));
	EXPECT_EQ(ffree0, fs_ffree(_metadata, self));
}

/*
 * Grow a new file 2 MiB at a time with ftruncate until ENOSPC; return
 * its final size. The failing ftruncate must leave the size unchanged.
 */
static uint64_t hog_file(struct __test_metadata *_metadata, int dfd,
			 const char *name, uint64_t max_blocks)
{
	uint64_t size = 0, i;
	int fd;

	fd = openat(dfd, name, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	for (i = 0; i <= max_blocks; i++) {
		if (ftruncate(fd, size + BS))
			break;
		size += BS;
	}
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(size, fd_size(_metadata, fd));
	close(fd);
	return size;
}

/*
 * Test Case: region full
 *
 * With every block allocated, writes that need a new block (append,
 * write past EOF, ftruncate up, first write to an empty file) fail with
 * ENOSPC and leave size and data as they were; writes inside allocated
 * blocks still work. Deleting the filler gives all blocks back.
 */
TEST_F_TIMEOUT(pkernfs, region_full_enospc, 300)
{
	uint64_t before, nblocks, total = 0, size;
	unsigned char buf[8192];
	char name[16];
	ssize_t ret;
	int fd, efd, i;

	NEED_PKERNFS();
	nblocks = fs_stat(_metadata, self).f_blocks;
	fd = make_file(_metadata, self->dfd, "a", BS, 50);
	efd = openat(self->dfd, "empty", O_RDWR | O_CREAT | O_EXCL, 0644);
	ASSERT_LE(0, efd);
	before = fs_bfree(_metadata, self);

	/* Several fillers: the last few blocks may not fit a mapping table. */
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "hog%d", i);
		size = hog_file(_metadata, self->dfd, name, nblocks);
		total += pk_blocks_for_size(size);
		if (!size)
			break;
	}
	EXPECT_EQ(0, fs_bfree(_metadata, self));
	EXPECT_EQ(before, total);

	EXPECT_EQ(-1, pwrite(fd, buf, 4096, BS));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, pwrite(fd, buf, 10, 5 * BS));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, ftruncate(fd, 2 * BS));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(BS, fd_size(_metadata, fd));
	check_data(_metadata, fd, 0, BS, 50);

	/* Straddling EOF into a new block: short write or ENOSPC. */
	pk_fill(buf, sizeof(buf), 51, BS - 4096);
	ret = pwrite(fd, buf, sizeof(buf), BS - 4096);
	if (ret < 0) {
		EXPECT_EQ(ENOSPC, errno);
		check_data(_metadata, fd, 0, BS, 50);
	} else {
		EXPECT_EQ(4096, ret);
		check_data(_metadata, fd, 0, BS - 4096, 50);
		check_data(_metadata, fd, BS - 4096, 4096, 51);
	}
	EXPECT_EQ(BS, fd_size(_metadata, fd));

	/* Rewriting allocated blocks needs no space. */
	ASSERT_EQ(0, pk_pwrite_pattern(fd, 0, BS, 52));
	check_data(_metadata, fd, 0, BS, 52);

	EXPECT_EQ(-1, write(efd, "x", 1));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(-1, ftruncate(efd, 1));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, fd_size(_metadata, efd));

	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "hog%d", i);
		if (unlinkat(self->dfd, name, 0))
			break;
	}
	EXPECT_EQ(before, fs_bfree(_metadata, self));
	EXPECT_EQ(0, pk_pwrite_pattern(fd, BS, 10, 53));
	EXPECT_EQ(BS + 10, fd_size(_metadata, fd));
	close(efd);
	close(fd);
}

/*
 * Test Case: absurd sizes
 *
 * ftruncate to a negative size is EINVAL; to sizes no region can hold
 * (2 TiB, 2^62, 2^63 - 1) and pwrite at a 2 TiB offset fail with EFBIG,
 * EINVAL or ENOSPC, leaving size, data and free space untouched.
 */
TEST_F(pkernfs, absurd_sizes)
{
	static const uint64_t sizes[] = {
		2ULL << 40, 1ULL << 62, INT64_MAX,
	};
	uint64_t before;
	unsigned int i;
	int fd;

	fd = make_file(_metadata, self->dfd, "f", 3000, 54);
	EXPECT_EQ(-1, ftruncate(fd, -1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(3000, fd_size(_metadata, fd));
	if (!self->is_pkernfs)
		goto out;

	before = fs_bfree(_metadata, self);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		EXPECT_EQ(-1, ftruncate(fd, sizes[i]));
		EXPECT_TRUE(errno == EFBIG || errno == EINVAL || errno == ENOSPC)
			TH_LOG("ftruncate(%llu): %s",
			       (unsigned long long)sizes[i], strerror(errno));
		EXPECT_EQ(3000, fd_size(_metadata, fd));
	}
	EXPECT_EQ(-1, pwrite(fd, "x", 1, 2LL << 40));
	EXPECT_TRUE(errno == EFBIG || errno == EINVAL || errno == ENOSPC)
		TH_LOG("pwrite at 2 TiB: %s", strerror(errno));
	EXPECT_EQ(3000, fd_size(_metadata, fd));
	EXPECT_EQ(before, fs_bfree(_metadata, self));
out:
	check_data(_metadata, fd, 0, 3000, 54);
	close(fd);
}

/* Unlinked while open ------------------------------------------------------ */

/*
 * Test Case: unlinked file stays usable through its fds
 *
 * After unlink the name is gone but the open fds can read, write, grow,
 * truncate and mmap the file; its inode and blocks stay allocated while
 * any fd is open, and are returned after the last close.
 */
TEST_F_TIMEOUT(pkernfs, unlink_open_fd_usable, 120)
{
	uint64_t bfree0, ffree0;
	struct stat st;
	int fd, fd2;
	char *map;

	bfree0 = fs_bfree(_metadata, self);
	ffree0 = fs_ffree(_metadata, self);
	fd = make_file(_metadata, self->dfd, "f", 3 * SZ_1M, 60);
	fd2 = openat(self->dfd, "f", O_RDONLY);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, unlinkat(self->dfd, "f", 0));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "f"));
	ASSERT_EQ(0, fstat(fd, &st));
	EXPECT_EQ(0, st.st_nlink);
	EXPECT_EQ(3 * SZ_1M, st.st_size);

	check_data(_metadata, fd, 0, 3 * SZ_1M, 60);
	ASSERT_EQ(0, pk_pwrite_pattern(fd, 3 * SZ_1M, 2 * SZ_1M, 60));
	check_data(_metadata, fd2, 0, 5 * SZ_1M, 60);
	EXPECT_BLOCKS_USED(bfree0, 3);

	map = mmap(NULL, 5 * SZ_1M, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	EXPECT_EQ(-1, pk_check(map, 5 * SZ_1M, 60, 0));
	map[0] = ~map[0];
	map[0] = ~map[0];
	munmap(map, 5 * SZ_1M);

	ASSERT_EQ(0, ftruncate(fd, BS - 1));
	EXPECT_BLOCKS_USED(bfree0, 1);
	check_data(_metadata, fd2, 0, BS - 1, 60);

	close(fd);
	EXPECT_BLOCKS_USED(bfree0, 1);
	if (self->is_pkernfs)
		EXPECT_EQ(ffree0 - 1, fs_ffree(_metadata, self));
	close(fd2);
	EXPECT_BLOCKS_USED(bfree0, 0);
	if (self->is_pkernfs)
		EXPECT_EQ(ffree0, fs_ffree(_metadata, self));
}

/*
 * Test Case: unlinked file stays usable through a mapping
 *
 * With the fd closed and the name unlinked, a shared mapping still
 * reads and writes the data and keeps the blocks allocated; munmap of
 * the last mapping frees inode and blocks.
 */
TEST_F(pkernfs, unlink_mapped_freed_on_munmap)
{
	const size_t len = 4 * SZ_1M;
	uint64_t bfree0, ffree0;
	char *map;
	int fd;

	bfree0 = fs_bfree(_metadata, self);
	ffree0 = fs_ffree(_metadata, self);
	fd = make_file(_metadata, self->dfd, "f", len, 61);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	close(fd);
	ASSERT_EQ(0, unlinkat(self->dfd, "f", 0));

	EXPECT_EQ(-1, pk_check(map, len, 61, 0));
	pk_fill(map + BS, BS, 62, BS);
	EXPECT_EQ(-1, pk_check(map + BS, BS, 62, BS));
	EXPECT_BLOCKS_USED(bfree0, 2);
	if (self->is_pkernfs)
		EXPECT_EQ(ffree0 - 1, fs_ffree(_metadata, self));

	ASSERT_EQ(0, munmap(map, len));
	EXPECT_BLOCKS_USED(bfree0, 0);
	if (self->is_pkernfs)
		EXPECT_EQ(ffree0, fs_ffree(_metadata, self));
}

/* Other users ---------------------------------------------------------------- */

/*
 * Test Case: permission bits are enforced
 *
 * As uid 1000: a root-owned 0600 file cannot be opened (EACCES); a 0644
 * file can be read but not written; nothing can be created in or removed
 * from a root-owned 0755 directory; chmod of someone else's file is EPERM.
 */
TEST_F(pkernfs, permissions_other_user)
{
	char path[PATH_MAX + 32];

	NEED_OTHER_USER_ACCESS();
	close(make_file(_metadata, self->dfd, "secret", 10, 70));
	ASSERT_EQ(0, fchmodat(self->dfd, "secret", 0600, 0));
	close(make_file(_metadata, self->dfd, "public", 10, 71));
	ASSERT_EQ(0, fchmodat(self->dfd, "public", 0644, 0));
	ASSERT_EQ(0, mkdirat(self->dfd, "rootdir", 0755));

	snprintf(path, sizeof(path), "%s/secret", self->dir);
	EXPECT_EQ(EACCES, as_user(OP_OPEN, path, O_RDONLY));
	EXPECT_EQ(EACCES, as_user(OP_OPEN, path, O_WRONLY));
	snprintf(path, sizeof(path), "%s/public", self->dir);
	EXPECT_EQ(0, as_user(OP_OPEN, path, O_RDONLY));
	EXPECT_EQ(EACCES, as_user(OP_OPEN, path, O_WRONLY));
	EXPECT_EQ(EACCES, as_user(OP_UNLINK, path, 0));
	EXPECT_EQ(EPERM, as_user(OP_CHMOD, path, 0666));
	snprintf(path, sizeof(path), "%s/rootdir/new", self->dir);
	EXPECT_EQ(EACCES, as_user(OP_CREATE, path, 0644));
	EXPECT_EQ(EACCES, as_user(OP_MKDIR, path, 0755));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "rootdir/new"));
	EXPECT_EQ(0644, stat_at(_metadata, self->dfd, "public").st_mode & 07777);
}

/*
 * Test Case: files created by another user
 *
 * In a directory owned by uid 1000, that user creates files and
 * directories owned by 1000:1000 with its requested modes, and may
 * chmod and delete them.
 */
TEST_F(pkernfs, other_user_owns_created_files)
{
	char path[PATH_MAX + 32];
	struct stat st;

	NEED_OTHER_USER_ACCESS();
	ASSERT_EQ(0, mkdirat(self->dfd, "home", 0755));
	ASSERT_EQ(0, fchownat(self->dfd, "home", TEST_UID, TEST_GID, 0));

	snprintf(path, sizeof(path), "%s/home/f", self->dir);
	EXPECT_EQ(0, as_user(OP_CREATE, path, 0640));
	st = stat_at(_metadata, self->dfd, "home/f");
	EXPECT_EQ(TEST_UID, st.st_uid);
	EXPECT_EQ(TEST_GID, st.st_gid);
	EXPECT_EQ(0640, st.st_mode & 07777);
	EXPECT_EQ(0, as_user(OP_CHMOD, path, 0600));
	EXPECT_EQ(0600, stat_at(_metadata, self->dfd, "home/f").st_mode & 07777);

	snprintf(path, sizeof(path), "%s/home/d", self->dir);
	EXPECT_EQ(0, as_user(OP_MKDIR, path, 0700));
	st = stat_at(_metadata, self->dfd, "home/d");
	EXPECT_TRUE(S_ISDIR(st.st_mode));
	EXPECT_EQ(TEST_UID, st.st_uid);
	EXPECT_EQ(0700, st.st_mode & 07777);

	snprintf(path, sizeof(path), "%s/home/f", self->dir);
	EXPECT_EQ(0, as_user(OP_UNLINK, path, 0));
	EXPECT_EQ(ENOENT, stat_errno(self->dfd, "home/f"));
}

/*
 * Test Case: statfs exact while filling the region to the last block
 *
 * Growing one file 2 MiB at a time takes exactly one block per step (two
 * at the step that moves its block list into a mapping table) until
 * ENOSPC, which changes neither size nor f_bfree.  With no block left
 * (a one-block file takes the last one if the filler could not), an empty
 * file and a directory can still be created and renamed (they need an
 * inode, not a block), but a byte cannot be written to them.
 * Deleting the filler gives every block back, and a new file can then
 * use the whole region again.
 */
TEST_F_TIMEOUT(pkernfs, region_full_statfs_exact, 300)
{
	uint64_t bfree0, bfree, nblocks = 0, expect;
	off_t size = 0;
	int fd, efd, lfd;

	NEED_PKERNFS();
	bfree0 = fs_bfree(_metadata, self);
	fd = openat(self->dfd, "fill", O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	for (;;) {
		bfree = fs_bfree(_metadata, self);
		if (ftruncate(fd, size + BS))
			break;
		size += BS;
		nblocks++;
		expect = nblocks == PKERNFS_INLINE_MAX / BS + 1 ? 2 : 1;
		ASSERT_EQ(bfree - expect, fs_bfree(_metadata, self))
			TH_LOG("step %llu", (unsigned long long)nblocks);
	}
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(size, fd_size(_metadata, fd));
	EXPECT_EQ(bfree, fs_bfree(_metadata, self));
	EXPECT_EQ(bfree0 - pk_blocks_for_size(size) - bfree, 0);

	/*
	 * The filler stops short of the last block only when its next step
	 * needed a mapping table block as well; a one-block file takes that
	 * last block, so the checks below always run on a full region.
	 */
	ASSERT_GE(1, bfree);
	if (bfree) {
		lfd = openat(self->dfd, "last", O_RDWR | O_CREAT | O_EXCL, 0600);
		ASSERT_LE(0, lfd);
		ASSERT_EQ(0, ftruncate(lfd, BS));
		close(lfd);
	}
	ASSERT_EQ(0, fs_bfree(_metadata, self));

	/* Full: inodes still come, blocks do not. */
	efd = openat(self->dfd, "empty", O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, efd);
	EXPECT_EQ(0, mkdirat(self->dfd, "d", 0755));
	EXPECT_EQ(0, renameat(self->dfd, "empty", self->dfd, "d/empty"));
	EXPECT_EQ(-1, write(efd, "x", 1));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, fd_size(_metadata, efd));
	EXPECT_EQ(0, fs_bfree(_metadata, self));
	close(efd);

	close(fd);
	ASSERT_EQ(0, unlinkat(self->dfd, "fill", 0));
	if (bfree)
		ASSERT_EQ(0, unlinkat(self->dfd, "last", 0));
	EXPECT_EQ(bfree0, fs_bfree(_metadata, self));
	fd = openat(self->dfd, "again", O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, ftruncate(fd, size));
	EXPECT_EQ(bfree, fs_bfree(_metadata, self));
	close(fd);
	ASSERT_EQ(0, unlinkat(self->dfd, "again", 0));
	EXPECT_EQ(bfree0, fs_bfree(_metadata, self));
}

TEST_HARNESS_MAIN
