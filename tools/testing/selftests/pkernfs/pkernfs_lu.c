// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs_lu - staged live-update test: data written to pkernfs before a
 * kexec must be found intact, byte for byte, after it.
 *
 * The QEMU harness runs one stage per boot and kexecs in between:
 *
 *   PKERNFS_LU_STAGE=1 pkernfs_lu   # writes the dataset
 *   (kexec)
 *   PKERNFS_LU_STAGE=2 pkernfs_lu   # verifies stage 1, mutates
 *   (kexec)
 *   ...
 *   PKERNFS_LU_STAGE=N PKERNFS_LU_FINAL=1 pkernfs_lu   # verifies only
 *
 * Environment:
 *   PKERNFS_MNT          mount point (default /mnt/pkernfs)
 *   PKERNFS_LU_STAGE     stage number, 1..N (required; skip if unset)
 *   PKERNFS_LU_SEED      64-bit seed (default 0x706b6673); must be the
 *                        same for every stage of a run
 *   PKERNFS_LU_FINAL     1: verify the previous stage and change nothing
 *   PKERNFS_LU_CLEANUP   1 (with FINAL): remove $MNT/lu after verifying
 *   PKERNFS_LU_HOLD      0: do not leave a daemon holding an unlinked file
 *                        (see below)
 *   PKERNFS_LU_HOLD_SECS how long the holder of the unlinked file waits
 *                        for the kexec (default 600)
 *   PKERNFS_ALLOW_ANY_FS 1: developer mode on a non-pkernfs mount; the
 *                        statfs checks are skipped
 *
 * Stage 1 writes a dataset under $MNT/lu: files of 0, 1, 2M-1, 2M, 2M+1
 * and 5M bytes, a 66 MiB file (past the 64 MiB of inline block pointers),
 * three levels of directories, modes 0600/0640/0644/0700/0750/0755,
 * owners 0:0, 0:1000 and 1000:1000, data written with write() for some
 * files and through a shared mapping for others, seeded mtimes, and files
 * created and removed again. Stage k >= 2 mutates it: append, shrink,
 * rewrite in place, delete, rename with chmod/chown, create, mkdir and,
 * every third stage, a directory rename.
 *
 * The expected state after stage k is a pure function of (seed, k), so
 * no host state is needed: stage k+1 recomputes it, checks that the
 * MANIFEST stage k left in pkernfs says the same, then checks the tree
 * against it: exact directory listings and d_type, link counts, mode,
 * owner, size, mtime, every byte (files filled through mmap are read back
 * with read() and vice versa), plus inode numbers and ctimes recorded in
 * INODES, and statfs counters equal to what the tree implies.
 *
 * Each stage also creates a file, unlinks it and leaves a daemon holding
 * it open across the kexec; the next stage checks that its inode and
 * blocks were reclaimed at mount time. The daemon keeps the mount busy:
 * a harness that unmounts before kexec must use a lazy unmount
 * (umount -l), or set PKERNFS_LU_HOLD=0 to leave this case out.
 *
 * Output is TAP; the exit status is the kselftest one.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "../kselftest.h"
#include "pkernfs_util.h"

#define LU_DIR		"lu"
#define LU_MANIFEST	"MANIFEST"
#define LU_STAGE	"STAGE"
#define LU_INODES	"INODES"
#define LU_HELD		".held"
#define LU_MAX_ENTRIES	256
#define LU_PATH_MAX	200
#define LU_DEFAULT_SEED	0x706b6673ULL
#define LU_SZ_1M	(1ULL << 20)
#define LU_SZ_2M	(2ULL << 20)
/* Keep the dataset well inside a 256 MiB region (126 data blocks). */
#define LU_BLOCK_BUDGET	80

struct lu_entry {
	char path[LU_PATH_MAX];	/* relative to $MNT/lu */
	bool is_dir;
	unsigned int mode;	/* permission bits */
	unsigned int uid, gid;
	uint64_t size;		/* files: bytes of pattern @seed */
	uint64_t seed;
	int64_t mtime_sec;
	long mtime_nsec;
	bool via_mmap;		/* filled through a mapping, else write() */
	bool pinned;		/* never deleted or shrunk: keeps the big file */
};

struct lu_state {
	uint64_t seed;
	int n;
	struct lu_entry e[LU_MAX_ENTRIES];
	uint64_t rng;		/* xorshift64 state for the current stage */
};

static const char *mnt;
static int lufd = -1;		/* O_DIRECTORY fd of $MNT/lu */
static bool is_pkernfs;
static char errbuf[512];	/* first error of the current check */

static __printf(1, 2) void fail(const char *fmt, ...)
{
	va_list ap;

	if (errbuf[0])
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

/* Report one TAP result for the check that just ran. */
static bool report(bool ok, const char *fmt, int stage, const char *what)
{
	char name[128];

	snprintf(name, sizeof(name), fmt, stage, what);
	if (!ok && !errbuf[0])
		snprintf(errbuf, sizeof(errbuf), "failed");
	if (ok)
		ksft_test_result_pass("%s\n", name);
	else
		ksft_test_result_fail("%s: %s\n", name, errbuf);
	errbuf[0] = '\0';
	return ok;
}

#define RESULT(ok, stage, what)	report(ok, "stage %d: %s", stage, what)

static uint64_t lu_rand(struct lu_state *s)
{
	uint64_t x = s->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	s->rng = x;
	return x;
}

static void lu_seed_rng(struct lu_state *s, int stage)
{
	s->rng = pk_mix64(s->seed ^ (0x5bd1e995ULL * (uint64_t)stage)) | 1;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct lu_entry *)a)->path,
		      ((const struct lu_entry *)b)->path);
}

static struct lu_entry *find_entry(struct lu_state *s, const char *path)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].path, path))
			return &s->e[i];
	return NULL;
}

static uint64_t model_blocks(struct lu_state *s)
{
	uint64_t blocks = 0;
	int i;

	for (i = 0; i < s->n; i++)
		if (!s->e[i].is_dir)
			blocks += pk_blocks_for_size(s->e[i].size);
	return blocks;
}

static void set_mtime(struct lu_state *s, struct lu_entry *e)
{
	e->mtime_sec = 1500000000 + (int64_t)(lu_rand(s) % 200000000);
	e->mtime_nsec = lu_rand(s) % 1000000000;
}

static const unsigned int modes[] = { 0600, 0640, 0644, 0700, 0750, 0755 };
static const unsigned int dir_modes[] = { 0700, 0750, 0755 };
static const unsigned int owners[][2] = { { 0, 0 }, { 0, 1000 }, { 1000, 1000 } };

/* Disk operations; each returns 0 or -1 after fail(). ------------------- */

/* Fill [@from, @to) of @e's file with its pattern, by write or mmap. */
static int disk_fill(struct lu_entry *e, uint64_t from, uint64_t to, bool via_mmap)
{
	char *map;
	int fd, ret;

	fd = openat(lufd, e->path, O_RDWR | O_CREAT, 0600);
	if (fd < 0) {
		fail("open %s: %s", e->path, strerror(errno));
		return -1;
	}
	if (!via_mmap || to == from) {
		ret = pk_pwrite_pattern(fd, from, to - from, e->seed);
		if (ret) {
			fail("write %s: %s", e->path, strerror(-ret));
			close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	if ((uint64_t)lseek(fd, 0, SEEK_END) < to && ftruncate(fd, to)) {
		fail("ftruncate %s: %s", e->path, strerror(errno));
		close(fd);
		return -1;
	}
	map = mmap(NULL, to, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fail("mmap %s: %s", e->path, strerror(errno));
		close(fd);
		return -1;
	}
	pk_fill(map + from, to - from, e->seed, from);
	ret = msync(map, to, MS_SYNC);
	munmap(map, to);
	close(fd);
	if (ret) {
		fail("msync %s: %s", e->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int disk_create(struct lu_entry *e)
{
	int fd;

	if (e->is_dir) {
		if (mkdirat(lufd, e->path, 0700)) {
			fail("mkdir %s: %s", e->path, strerror(errno));
			return -1;
		}
	} else {
		fd = openat(lufd, e->path, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd < 0) {
			fail("create %s: %s", e->path, strerror(errno));
			return -1;
		}
		close(fd);
		if (disk_fill(e, 0, e->size, e->via_mmap))
			return -1;
	}
	return 0;
}

static int truncate_at(struct lu_entry *e)
{
	int fd = openat(lufd, e->path, O_WRONLY);

	if (fd < 0 || ftruncate(fd, e->size)) {
		fail("truncate %s: %s", e->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* Owner, then mode (chown may clear mode bits), then times. */
static int disk_attrs(struct lu_entry *e)
{
	struct timespec ts[2] = {
		{ .tv_sec = e->mtime_sec, .tv_nsec = e->mtime_nsec },
		{ .tv_sec = e->mtime_sec, .tv_nsec = e->mtime_nsec },
	};

	if (fchownat(lufd, e->path, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) ||
	    fchmodat(lufd, e->path, e->mode, 0) ||
	    utimensat(lufd, e->path, ts, AT_SYMLINK_NOFOLLOW)) {
		fail("set attributes of %s: %s", e->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The model ------------------------------------------------------------ */

static struct lu_entry *add_entry(struct lu_state *s, const char *path,
				  bool is_dir, unsigned int mode,
				  unsigned int uid, unsigned int gid,
				  uint64_t size, bool via_mmap)
{
	struct lu_entry *e;

	if (s->n == LU_MAX_ENTRIES)
		return NULL;
	e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->path, sizeof(e->path), "%s", path);
	e->is_dir = is_dir;
	e->mode = mode;
	e->uid = uid;
	e->gid = gid;
	e->size = size;
	e->seed = lu_rand(s);
	e->via_mmap = via_mmap;
	set_mtime(s, e);
	return e;
}

/*
 * The stage 1 dataset, in creation order (parents first). With @disk,
 * also create it under lufd.
 */
static int build_initial(struct lu_state *s, bool disk)
{
	static const struct {
		const char *path;
		bool dir;
		unsigned int mode, uid, gid;
		uint64_t size;
		bool mmap;
	} init[] = {
		{ "d1",			true,  0755, 0,    0,    0,			false },
		{ "d1/d2",		true,  0750, 1000, 1000, 0,			false },
		{ "d1/d2/d3",		true,  0700, 1000, 1000, 0,			false },
		{ "empty_dir",		true,  0755, 0,    0,    0,			false },
		{ "zero",		false, 0644, 0,    0,    0,			false },
		{ "one",		false, 0600, 1000, 1000, 1,			false },
		{ "blk_minus",		false, 0640, 0,    1000, LU_SZ_2M - 1,		true },
		{ "blk",		false, 0644, 0,    0,    LU_SZ_2M,		true },
		{ "blk_plus",		false, 0755, 1000, 1000, LU_SZ_2M + 1,		false },
		{ "five",		false, 0640, 0,    0,    5 * LU_SZ_1M,		true },
		{ "big",		false, 0600, 0,    0,    66 * LU_SZ_1M,		false },
		{ "d1/a",		false, 0640, 1000, 1000, 4096,			true },
		{ "d1/d2/b",		false, 0600, 1000, 1000, 3 * LU_SZ_1M + 17,	true },
		{ "d1/d2/d3/c",		false, 0755, 1000, 1000, 100,			false },
		{ "d1/d2/d3/deep",	false, 0644, 0,    1000, 0,			false },
	};
	struct lu_entry *e;
	unsigned int i;

	s->n = 0;
	lu_seed_rng(s, 1);
	for (i = 0; i < ARRAY_SIZE(init); i++) {
		e = add_entry(s, init[i].path, init[i].dir, init[i].mode,
			      init[i].uid, init[i].gid, init[i].size,
			      init[i].mmap);
		/* Seeded sizes for a few, so that seeds really differ. */
		if (!strcmp(e->path, "d1/a"))
			e->size += lu_rand(s) % 4096;
		if (!strcmp(e->path, "d1/d2/d3/deep"))
			e->size = 1 + lu_rand(s) % LU_SZ_1M;
		e->pinned = e->size > PKERNFS_INLINE_MAX;
		if (disk && (disk_create(e) || disk_attrs(e)))
			return -1;
	}
	qsort(s->e, s->n, sizeof(s->e[0]), cmp_entry);
	return 0;
}

/* Pick a file (not in @skip, not pinned if @unpinned) at random, or NULL. */
static struct lu_entry *pick_file(struct lu_state *s, struct lu_entry **skip,
				  int nskip, bool nonempty, bool unpinned)
{
	int i, j, k, start;

	start = s->n ? lu_rand(s) % s->n : 0;
	for (k = 0; k < s->n; k++) {
		i = (start + k) % s->n;
		if (s->e[i].is_dir || (nonempty && !s->e[i].size) ||
		    (unpinned && s->e[i].pinned))
			continue;
		for (j = 0; j < nskip; j++)
			if (skip[j] == &s->e[i])
				break;
		if (j == nskip)
			return &s->e[i];
	}
	return NULL;
}

/* A random directory ("" is $MNT/lu itself) no deeper than @maxdepth. */
static const char *pick_dir(struct lu_state *s, int maxdepth)
{
	int i, k, start, depth;
	const char *p;

	start = lu_rand(s) % (s->n + 1);
	for (k = 0; k <= s->n; k++) {
		i = (start + k) % (s->n + 1);
		if (i == s->n)
			return "";
		if (!s->e[i].is_dir)
			continue;
		for (depth = 1, p = s->e[i].path; (p = strchr(p, '/')); p++)
			depth++;
		if (depth <= maxdepth)
			return s->e[i].path;
	}
	return "";
}

static void join(char *out, size_t len, const char *dir, const char *name)
{
	snprintf(out, len, "%s%s%s", dir, *dir ? "/" : "", name);
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* A random directory entry whose subtree paths can grow by 16 bytes. */
static struct lu_entry *pick_dir_entry(struct lu_state *s)
{
	int i, j, k, start;
	size_t plen;

	start = s->n ? lu_rand(s) % s->n : 0;
	for (k = 0; k < s->n; k++) {
		i = (start + k) % s->n;
		if (!s->e[i].is_dir)
			continue;
		plen = strlen(s->e[i].path);
		for (j = 0; j < s->n; j++)
			if (!strncmp(s->e[j].path, s->e[i].path, plen) &&
			    strlen(s->e[j].path) + 16 >= LU_PATH_MAX)
				break;
		if (j == s->n)
			return &s->e[i];
	}
	return NULL;
}

/* Rename directory @d to "<name>_r<stage>" in the same parent. */
static int rename_dir(struct lu_state *s, struct lu_entry *d, int stage,
		      bool disk)
{
	char oldpath[LU_PATH_MAX], newpath[LU_PATH_MAX], *p;
	size_t plen = strlen(d->path);
	int i;

	snprintf(oldpath, sizeof(oldpath), "%s", d->path);
	snprintf(newpath, sizeof(newpath), "%.*s_r%d", (int)plen, oldpath, stage);
	for (i = 0; i < s->n; i++) {
		p = s->e[i].path;
		if (strncmp(p, oldpath, plen) || (p[plen] && p[plen] != '/'))
			continue;
		/* Insert the suffix after the renamed component. */
		memmove(p + strlen(newpath), p + plen, strlen(p + plen) + 1);
		memcpy(p, newpath, strlen(newpath));
	}
	if (disk && renameat(lufd, oldpath, lufd, newpath)) {
		fail("rename dir %s -> %s: %s", oldpath, newpath, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Apply the mutations of @stage to the model and, with @disk, to the
 * tree. Deterministic in (seed, stage, state before).
 */
static int mutate(struct lu_state *s, int stage, bool disk)
{
	char path[LU_PATH_MAX + 64], oldpath[LU_PATH_MAX], name[64];
	struct lu_entry *used[6] = { NULL }, *e;
	uint64_t len, oldsize;
	bool tight;
	int i, fd, nused = 0;

	lu_seed_rng(s, stage);
	tight = model_blocks(s) > LU_BLOCK_BUDGET;

	/* Append, continuing the file's pattern. */
	e = pick_file(s, used, nused, false, false);
	if (e) {
		used[nused++] = e;
		len = tight ? 1 + lu_rand(s) % 4096 : 1 + lu_rand(s) % (3 * LU_SZ_1M);
		oldsize = e->size;
		e->size += len;
		set_mtime(s, e);
		if (disk) {
			fd = openat(lufd, e->path, O_WRONLY | O_APPEND);
			if (fd < 0 || pk_pwrite_pattern(fd, oldsize, len, e->seed)) {
				fail("append to %s: %s", e->path, strerror(errno));
				return -1;
			}
			close(fd);
		}
	}

	/* Shrink to a random smaller size. */
	e = pick_file(s, used, nused, true, true);
	if (e) {
		used[nused++] = e;
		e->size = lu_rand(s) % e->size;
		set_mtime(s, e);
		if (disk && truncate_at(e))
			return -1;
	}

	/* Rewrite in place with a new seed, through the other I/O path. */
	e = pick_file(s, used, nused, true, false);
	if (e) {
		used[nused++] = e;
		e->seed = lu_rand(s);
		e->via_mmap = !e->via_mmap;
		set_mtime(s, e);
		if (disk && disk_fill(e, 0, e->size, e->via_mmap))
			return -1;
	}

	/* Delete one, keeping a handful. */
	e = pick_file(s, used, nused, false, true);
	if (e && s->n > 12) {
		if (disk && unlinkat(lufd, e->path, 0)) {
			fail("unlink %s: %s", e->path, strerror(errno));
			return -1;
		}
		*e = s->e[--s->n];
		/* pointers in used[] may now be stale; no longer needed */
		nused = 0;
	}

	/* Rename to a random directory, with new owner and mode. */
	e = pick_file(s, used, nused, false, false);
	if (e) {
		used[nused++] = e;
		snprintf(oldpath, sizeof(oldpath), "%s", e->path);
		snprintf(name, sizeof(name), "r%d_%.40s", stage, base_name(e->path));
		join(path, sizeof(path), pick_dir(s, 3), name);
		if (strlen(path) >= LU_PATH_MAX || find_entry(s, path))
			snprintf(path, sizeof(path), "r%d_%llx", stage,
				 (unsigned long long)(lu_rand(s) & 0xffff));
		snprintf(e->path, sizeof(e->path), "%.199s", path);
		e->mode = modes[lu_rand(s) % ARRAY_SIZE(modes)];
		i = lu_rand(s) % ARRAY_SIZE(owners);
		e->uid = owners[i][0];
		e->gid = owners[i][1];
		set_mtime(s, e);
		if (disk && renameat(lufd, oldpath, lufd, e->path)) {
			fail("rename %s -> %s: %s", oldpath, e->path, strerror(errno));
			return -1;
		}
	}

	/* Create a new directory and a new file. */
	snprintf(name, sizeof(name), "dir%d", stage);
	join(path, sizeof(path), pick_dir(s, 2), name);
	e = add_entry(s, path, true, dir_modes[lu_rand(s) % ARRAY_SIZE(dir_modes)],
		      0, 0, 0, false);
	if (e && disk && disk_create(e))
		return -1;

	snprintf(name, sizeof(name), "n%d_%04llx", stage,
		 (unsigned long long)(lu_rand(s) & 0xffff));
	join(path, sizeof(path), pick_dir(s, 3), name);
	i = lu_rand(s) % ARRAY_SIZE(owners);
	e = add_entry(s, path, false, modes[lu_rand(s) % ARRAY_SIZE(modes)],
		      owners[i][0], owners[i][1],
		      tight ? lu_rand(s) % 4096 : lu_rand(s) % (4 * LU_SZ_1M),
		      stage & 1);
	if (e && disk && disk_create(e))
		return -1;

	/* Every third stage, rename a directory in place. */
	if (stage % 3 == 0) {
		e = pick_dir_entry(s);
		if (e && rename_dir(s, e, stage, disk))
			return -1;
	}

	qsort(s->e, s->n, sizeof(s->e[0]), cmp_entry);

	/* Directory mtimes changed with their entries: set all again. */
	for (i = 0; i < s->n; i++) {
		if (s->e[i].is_dir)
			set_mtime(s, &s->e[i]);
	}
	return 0;
}

/* The expected state after @stage, from scratch. */
static void expected_state(struct lu_state *s, int stage)
{
	int k;

	build_initial(s, false);
	for (k = 2; k <= stage; k++)
		mutate(s, k, false);
}

/* Render the manifest of @s after @stage into a malloc'd string. */
static char *render_manifest(struct lu_state *s, int stage)
{
	size_t cap = 256 + (size_t)s->n * (LU_PATH_MAX + 128), len;
	char *buf = malloc(cap);
	struct lu_entry *e;
	int i;

	if (!buf)
		ksft_exit_fail_msg("out of memory\n");
	len = snprintf(buf, cap, "pkernfs-lu 1\nseed %#llx\nstage %d\nentries %d\n",
		       (unsigned long long)s->seed, stage, s->n);
	for (i = 0; i < s->n; i++) {
		e = &s->e[i];
		if (e->is_dir)
			len += snprintf(buf + len, cap - len,
					"d %04o %u %u %lld.%09ld %s\n",
					e->mode, e->uid, e->gid,
					(long long)e->mtime_sec, e->mtime_nsec,
					e->path);
		else
			len += snprintf(buf + len, cap - len,
					"f %04o %u %u %lld.%09ld %llu %016llx %s %s\n",
					e->mode, e->uid, e->gid,
					(long long)e->mtime_sec, e->mtime_nsec,
					(unsigned long long)e->size,
					(unsigned long long)e->seed,
					e->via_mmap ? "mmap" : "write", e->path);
	}
	snprintf(buf + len, cap - len, "end\n");
	return buf;
}

/* Read a whole small file under lufd; NULL after fail(). */
static char *read_small(const char *name)
{
	size_t cap = 1 << 16, len = 0;
	char *buf;
	ssize_t n;
	int fd;

	fd = openat(lufd, name, O_RDONLY);
	if (fd < 0) {
		fail("open %s: %s", name, strerror(errno));
		return NULL;
	}
	buf = malloc(cap);
	if (!buf)
		ksft_exit_fail_msg("out of memory\n");
	while ((n = read(fd, buf + len, cap - 1 - len)) > 0) {
		len += n;
		if (len == cap - 1) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				ksft_exit_fail_msg("out of memory\n");
		}
	}
	close(fd);
	if (n < 0) {
		fail("read %s: %s", name, strerror(errno));
		free(buf);
		return NULL;
	}
	buf[len] = '\0';
	return buf;
}

static int write_small(const char *name, const char *text)
{
	size_t len = strlen(text);
	int fd;

	fd = openat(lufd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		fail("write %s: %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fsync(fd) || close(fd)) {
		fail("close %s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

/* Record inode numbers and ctimes, which only the fs itself decides. */
static int write_inodes(struct lu_state *s)
{
	size_t cap = (size_t)s->n * (LU_PATH_MAX + 64) + 64, len = 0;
	char *buf = malloc(cap);
	struct stat st;
	int i, ret;

	if (!buf)
		ksft_exit_fail_msg("out of memory\n");
	buf[0] = '\0';
	for (i = 0; i < s->n; i++) {
		if (fstatat(lufd, s->e[i].path, &st, AT_SYMLINK_NOFOLLOW)) {
			fail("stat %s: %s", s->e[i].path, strerror(errno));
			free(buf);
			return -1;
		}
		len += snprintf(buf + len, cap - len, "%llu %lld.%09ld %s\n",
				(unsigned long long)st.st_ino,
				(long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
				s->e[i].path);
	}
	ret = write_small(LU_INODES, buf);
	free(buf);
	return ret;
}

static bool check_inodes(void)
{
	char *text = read_small(LU_INODES), *line, *save = NULL, path[LU_PATH_MAX];
	unsigned long long ino;
	long long sec;
	long nsec;
	struct stat st;
	int n = 0;

	if (!text)
		return false;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%llu %lld.%ld %199[^\n]", &ino, &sec, &nsec, path) != 4) {
			fail("bad INODES line '%s'", line);
			break;
		}
		n++;
		if (fstatat(lufd, path, &st, AT_SYMLINK_NOFOLLOW)) {
			fail("stat %s: %s", path, strerror(errno));
			break;
		}
		if (st.st_ino != ino) {
			fail("%s: inode %llu, was %llu", path,
			     (unsigned long long)st.st_ino, ino);
			break;
		}
		if (st.st_ctim.tv_sec != sec || st.st_ctim.tv_nsec != nsec) {
			fail("%s: ctime %lld.%09ld, was %lld.%09ld", path,
			     (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
			     sec, nsec);
			break;
		}
	}
	free(text);
	if (!errbuf[0] && !n)
		fail("INODES is empty");
	return !errbuf[0];
}

/* Verification ----------------------------------------------------------- */

static bool is_parent(const char *dir, const char *path)
{
	size_t len = strlen(dir);
	const char *rest;

	if (!len)
		return !strchr(path, '/');
	if (strncmp(path, dir, len) || path[len] != '/')
		return false;
	rest = path + len + 1;
	return !strchr(rest, '/');
}

/* Listing of @dir ("" = $MNT/lu) must be exactly its model children. */
static bool check_dir_listing(struct lu_state *s, const char *dir)
{
	static const char * const extra[] = { LU_MANIFEST, LU_STAGE, LU_INODES };
	char want[LU_MAX_ENTRIES + 3][LU_PATH_MAX];
	unsigned char want_type[LU_MAX_ENTRIES + 3];
	bool found[LU_MAX_ENTRIES + 3] = { false };
	int nwant = 0, i, dots = 0;
	struct dirent *de;
	DIR *d;

	for (i = 0; i < s->n; i++) {
		if (!is_parent(dir, s->e[i].path))
			continue;
		snprintf(want[nwant], LU_PATH_MAX, "%s", base_name(s->e[i].path));
		want_type[nwant++] = s->e[i].is_dir ? DT_DIR : DT_REG;
	}
	for (i = 0; !*dir && i < (int)ARRAY_SIZE(extra); i++) {
		snprintf(want[nwant], LU_PATH_MAX, "%s", extra[i]);
		want_type[nwant++] = DT_REG;
	}

	d = pk_opendir_at(lufd, *dir ? dir : ".");
	if (!d) {
		fail("opendir lu/%s: %s", dir, strerror(errno));
		return false;
	}
	while ((de = readdir(d))) {
		if (pk_is_dot_entry(de)) {
			dots++;
			continue;
		}
		for (i = 0; i < nwant; i++)
			if (!strcmp(want[i], de->d_name))
				break;
		if (i == nwant) {
			fail("lu/%s: unexpected entry '%s'", dir, de->d_name);
			break;
		}
		if (found[i]) {
			fail("lu/%s: '%s' listed twice", dir, de->d_name);
			break;
		}
		found[i] = true;
		if (de->d_type != want_type[i]) {
			fail("lu/%s: '%s' has d_type %u", dir, de->d_name, de->d_type);
			break;
		}
	}
	closedir(d);
	for (i = 0; !errbuf[0] && i < nwant; i++)
		if (!found[i])
			fail("lu/%s: '%s' missing from listing", dir, want[i]);
	if (!errbuf[0] && dots != 2)
		fail("lu/%s: %d dot entries", dir, dots);
	return !errbuf[0];
}

static bool check_listing(struct lu_state *s)
{
	int i;

	if (!check_dir_listing(s, ""))
		return false;
	for (i = 0; i < s->n; i++)
		if (s->e[i].is_dir && !check_dir_listing(s, s->e[i].path))
			return false;
	return true;
}

static int subdirs_of(struct lu_state *s, const char *dir)
{
	int i, n = 0;

	for (i = 0; i < s->n; i++)
		if (s->e[i].is_dir && is_parent(dir, s->e[i].path))
			n++;
	return n;
}

static bool check_attrs(struct lu_state *s)
{
	struct lu_entry *e;
	struct stat st;
	int i;

	for (i = 0; i < s->n && !errbuf[0]; i++) {
		e = &s->e[i];
		if (fstatat(lufd, e->path, &st, AT_SYMLINK_NOFOLLOW)) {
			fail("stat %s: %s", e->path, strerror(errno));
			break;
		}
		if (e->is_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
			fail("%s: wrong type %#o", e->path, st.st_mode & S_IFMT);
		else if ((st.st_mode & 07777) != e->mode)
			fail("%s: mode %04o, expected %04o", e->path,
			     st.st_mode & 07777, e->mode);
		else if (st.st_uid != e->uid || st.st_gid != e->gid)
			fail("%s: owner %u:%u, expected %u:%u", e->path,
			     st.st_uid, st.st_gid, e->uid, e->gid);
		else if (st.st_mtim.tv_sec != e->mtime_sec ||
			 st.st_mtim.tv_nsec != e->mtime_nsec)
			fail("%s: mtime %lld.%09ld, expected %lld.%09ld", e->path,
			     (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
			     (long long)e->mtime_sec, e->mtime_nsec);
		else if (e->is_dir && st.st_nlink != 2 + (nlink_t)subdirs_of(s, e->path))
			fail("%s: nlink %lu, expected %d", e->path,
			     (unsigned long)st.st_nlink, 2 + subdirs_of(s, e->path));
		else if (!e->is_dir && st.st_nlink != 1)
			fail("%s: nlink %lu", e->path, (unsigned long)st.st_nlink);
		else if (!e->is_dir && (uint64_t)st.st_size != e->size)
			fail("%s: size %llu, expected %llu", e->path,
			     (unsigned long long)st.st_size,
			     (unsigned long long)e->size);
		else if (!e->is_dir && is_pkernfs &&
			 (uint64_t)st.st_blocks !=
			 ((e->size + PKERNFS_BLOCK_SIZE - 1) / PKERNFS_BLOCK_SIZE) *
			 PKERNFS_SECTORS_PER_BLOCK)
			fail("%s: st_blocks %llu for size %llu", e->path,
			     (unsigned long long)st.st_blocks,
			     (unsigned long long)e->size);
	}
	return !errbuf[0];
}

/* Every byte; files written one way are read back the other way. */
static bool check_data(struct lu_state *s)
{
	struct stat st = { 0 };
	uint64_t bad = 0;
	struct lu_entry *e;
	ssize_t idx;
	char *map;
	int i, fd, ret;

	for (i = 0; i < s->n && !errbuf[0]; i++) {
		e = &s->e[i];
		if (e->is_dir)
			continue;
		fd = openat(lufd, e->path, O_RDONLY);
		if (fd < 0) {
			fail("open %s: %s", e->path, strerror(errno));
			break;
		}
		/* A short file would SIGBUS the mapping below. */
		if (fstat(fd, &st) || (uint64_t)st.st_size != e->size) {
			fail("%s: size %llu, expected %llu", e->path,
			     (unsigned long long)st.st_size,
			     (unsigned long long)e->size);
		} else if (e->via_mmap || !e->size) {
			ret = pk_pread_check(fd, 0, e->size, e->seed, false, &bad);
			if (ret)
				fail("%s: read() check %d, first bad byte %llu",
				     e->path, ret, (unsigned long long)bad);
		} else {
			map = mmap(NULL, e->size, PROT_READ, MAP_SHARED, fd, 0);
			if (map == MAP_FAILED) {
				fail("mmap %s: %s", e->path, strerror(errno));
			} else {
				idx = pk_check(map, e->size, e->seed, 0);
				if (idx >= 0)
					fail("%s: mmap check, first bad byte %lld",
					     e->path, (long long)idx);
				munmap(map, e->size);
			}
		}
		close(fd);
	}
	return !errbuf[0];
}

/*
 * statfs must agree with the tree: used inodes and blocks are exactly
 * those of every reachable file plus unlinked files still held open.
 */
static bool check_statfs(struct pk_usage *u)
{
	struct statfs sfs;

	if (pk_fs_usage(mnt, u) || statfs(mnt, &sfs)) {
		fail("walk/statfs %s: %s", mnt, strerror(errno));
		return false;
	}
	if (!is_pkernfs)
		return true;
	if (sfs.f_files - sfs.f_ffree != u->inodes + u->orphans)
		fail("%llu inodes in use, tree has %llu (+%llu open unlinked)",
		     (unsigned long long)(sfs.f_files - sfs.f_ffree),
		     (unsigned long long)u->inodes,
		     (unsigned long long)u->orphans);
	else if (sfs.f_blocks - PKERNFS_META_BLOCKS - sfs.f_bfree !=
		 u->blocks + u->orphan_blocks)
		fail("%llu blocks in use, tree needs %llu (+%llu open unlinked)",
		     (unsigned long long)(sfs.f_blocks - PKERNFS_META_BLOCKS - sfs.f_bfree),
		     (unsigned long long)u->blocks,
		     (unsigned long long)u->orphan_blocks);
	return !errbuf[0];
}

/* The four checks of a state, each its own TAP result. */
static bool verify_tree(struct lu_state *s, int stage, struct pk_usage *u)
{
	bool ok = true;

	pk_drop_caches();
	ok &= RESULT(check_listing(s), stage, "directory listings match");
	ok &= RESULT(check_attrs(s), stage, "types, modes, owners, sizes, mtimes match");
	ok &= RESULT(check_data(s), stage, "file data match");
	if (is_pkernfs) {
		ok &= RESULT(check_statfs(u), stage, "statfs counters match the tree");
	} else {
		pk_fs_usage(mnt, u);
		ksft_test_result_skip("stage %d: statfs counters (not pkernfs)\n", stage);
	}
	return ok;
}

/*
 * Create a file, unlink it and leave a daemon holding it open, so that
 * the kexec happens with an orphan inode in the store.
 */
static bool hold_unlinked(int stage)
{
	const char *env = getenv("PKERNFS_LU_HOLD_SECS");
	unsigned int secs = env ? atoi(env) : 600;
	struct lu_entry held = { .seed = 0xdead0000ULL + stage };
	struct pk_usage u;
	pid_t pid;
	int fd, null;

	snprintf(held.path, sizeof(held.path), "%s", LU_HELD);
	if (disk_fill(&held, 0, 5 * LU_SZ_1M + 5, false))
		return false;
	fd = openat(lufd, LU_HELD, O_RDONLY);
	if (fd < 0 || unlinkat(lufd, LU_HELD, 0)) {
		fail("open/unlink %s: %s", LU_HELD, strerror(errno));
		return false;
	}
	if (!check_statfs(&u))
		return false;
	if (u.orphans < 1) {
		fail("the unlinked open file is not counted");
		return false;
	}

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fail("fork: %s", strerror(errno));
		return false;
	}
	if (!pid) {
		/* New session, no stdio: the shell must not wait for us. */
		setsid();
		null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			dup2(null, 2);
			if (null > 2)
				close(null);
		}
		close(lufd);
		sleep(secs);
		_exit(0);
	}
	close(fd);
	ksft_print_msg("holding unlinked %s (5 MiB) open in pid %d\n", LU_HELD, pid);
	return true;
}

static void hold_step(int stage)
{
	const char *hold = getenv("PKERNFS_LU_HOLD");

	if (hold && !strcmp(hold, "0"))
		ksft_test_result_skip("stage %d: unlinked file held open across the kexec (PKERNFS_LU_HOLD=0)\n",
				      stage);
	else
		RESULT(hold_unlinked(stage), stage,
		       "unlinked file held open across the kexec");
}

/* After a kexec nothing holds files open: the orphan must be gone. */
static bool check_orphan_reclaimed(struct pk_usage *u)
{
	struct statfs sfs;

	if (!statfs(mnt, &sfs) && is_pkernfs) {
		if (sfs.f_files - sfs.f_ffree != u->inodes + u->orphans ||
		    sfs.f_blocks - PKERNFS_META_BLOCKS - sfs.f_bfree !=
		    u->blocks + u->orphan_blocks)
			fail("space of the unlinked file was not reclaimed");
	}
	if (!errbuf[0] && !faccessat(lufd, LU_HELD, F_OK, 0))
		fail("%s is visible again", LU_HELD);
	return !errbuf[0];
}

/* Stages -------------------------------------------------------------- */

/* Write STAGE, MANIFEST, attributes and INODES for @s after @stage. */
static int commit_stage(struct lu_state *s, int stage)
{
	char num[32], *manifest;
	int i, ret;

	for (i = 0; i < s->n; i++)
		if (disk_attrs(&s->e[i]))
			return -1;
	manifest = render_manifest(s, stage);
	ret = write_small(LU_MANIFEST, manifest);
	free(manifest);
	snprintf(num, sizeof(num), "%d\n", stage);
	if (ret || write_small(LU_STAGE, num))
		return -1;
	return write_inodes(s);
}

static int open_lu(bool create)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", mnt, LU_DIR);
	if (create) {
		if (pk_rm_rf(path))
			ksft_exit_fail_msg("cannot remove old %s\n", path);
		if (mkdir(path, 0755))
			ksft_exit_fail_msg("mkdir %s: %s\n", path, strerror(errno));
	}
	lufd = open(path, O_RDONLY | O_DIRECTORY);
	return lufd;
}

static void run_stage1(struct lu_state *s)
{
	struct pk_usage u;
	int fd;
	bool ok;

	ksft_set_plan(8);
	open_lu(true);

	/* Files that are created and gone again before the kexec. */
	ok = !mkdirat(lufd, "gone_dir", 0755);
	fd = openat(lufd, "gone_dir/x", O_RDWR | O_CREAT, 0644);
	ok &= fd >= 0 && !pk_pwrite_pattern(fd, 0, LU_SZ_1M, 1);
	if (fd >= 0)
		close(fd);
	fd = openat(lufd, "gone_file", O_RDWR | O_CREAT, 0644);
	ok &= fd >= 0 && !pk_pwrite_pattern(fd, 0, 3 * LU_SZ_1M, 2);
	if (fd >= 0)
		close(fd);
	if (!ok)
		fail("create the files to delete: %s", strerror(errno));

	ok = ok && !build_initial(s, true);
	ok = ok && !commit_stage(s, 1);
	RESULT(ok, 1, "dataset written");
	if (!ok)
		ksft_exit_fail_msg("cannot continue without the dataset\n");

	ok = !unlinkat(lufd, "gone_file", 0) && !unlinkat(lufd, "gone_dir/x", 0) &&
	     !unlinkat(lufd, "gone_dir", AT_REMOVEDIR);
	if (ok && (!faccessat(lufd, "gone_file", F_OK, 0) ||
		   !faccessat(lufd, "gone_dir", F_OK, 0)))
		fail("deleted files still visible");
	RESULT(ok && !errbuf[0], 1, "created-then-deleted files are gone");

	verify_tree(s, 1, &u);
	RESULT(check_inodes(), 1, "inode numbers and ctimes recorded");
	hold_step(1);
}

static void run_stage_n(struct lu_state *s, int stage, bool final)
{
	char want[32], *text, *manifest;
	struct pk_usage u;
	bool ok;

	ksft_set_plan(final ? 8 + !!getenv("PKERNFS_LU_CLEANUP") : 14);
	if (open_lu(false) < 0)
		ksft_exit_fail_msg("%s/%s: %s (did stage 1 run?)\n", mnt, LU_DIR,
				   strerror(errno));

	snprintf(want, sizeof(want), "%d\n", stage - 1);
	text = read_small(LU_STAGE);
	if (text && strcmp(text, want))
		fail("STAGE says %.20s, expected %d", text, stage - 1);
	RESULT(text && !errbuf[0], stage, "previous stage marker found");
	free(text);

	expected_state(s, stage - 1);
	manifest = render_manifest(s, stage - 1);
	text = read_small(LU_MANIFEST);
	if (text && strcmp(text, manifest))
		fail("MANIFEST differs from the state derived from the seed");
	RESULT(text && !errbuf[0], stage, "manifest matches the seed");
	free(text);
	free(manifest);

	verify_tree(s, stage, &u);
	RESULT(check_inodes(), stage, "inode numbers and ctimes preserved");
	if (u.orphans)
		ksft_test_result_skip("stage %d: held file reclaimed (still open: no kexec?)\n",
				      stage);
	else
		RESULT(check_orphan_reclaimed(&u), stage, "held file reclaimed");

	if (final) {
		if (getenv("PKERNFS_LU_CLEANUP")) {
			char path[PATH_MAX];

			snprintf(path, sizeof(path), "%s/%s", mnt, LU_DIR);
			close(lufd);
			ok = !pk_rm_rf(path);
			ok = ok && (!is_pkernfs || check_statfs(&u));
			RESULT(ok, stage, "dataset removed, space returned");
		}
		return;
	}

	ok = !mutate(s, stage, true) && !commit_stage(s, stage);
	RESULT(ok, stage, "mutations applied");
	if (!ok)
		ksft_exit_fail_msg("cannot continue after failed mutations\n");
	verify_tree(s, stage, &u);
	hold_step(stage);
}

int main(void)
{
	const char *stage_env = getenv("PKERNFS_LU_STAGE");
	const char *seed_env = getenv("PKERNFS_LU_SEED");
	const char *final_env = getenv("PKERNFS_LU_FINAL");
	static struct lu_state state;
	struct statfs sfs;
	char *end;
	int stage;

	ksft_print_header();
	if (!stage_env)
		ksft_exit_skip("PKERNFS_LU_STAGE not set: run by the live-update harness\n");
	stage = strtol(stage_env, &end, 10);
	if (*end || stage < 1)
		ksft_exit_fail_msg("bad PKERNFS_LU_STAGE '%s'\n", stage_env);
	state.seed = LU_DEFAULT_SEED;
	if (seed_env) {
		state.seed = strtoull(seed_env, &end, 0);
		if (*end)
			ksft_exit_fail_msg("bad PKERNFS_LU_SEED '%s'\n", seed_env);
	}
	if (geteuid())
		ksft_exit_skip("must be run as root\n");
	mnt = pk_mnt();
	if (statfs(mnt, &sfs))
		ksft_exit_fail_msg("%s: %s\n", mnt, strerror(errno));
	is_pkernfs = sfs.f_type == PKERNFS_SUPER_MAGIC;
	if (!is_pkernfs && !getenv("PKERNFS_ALLOW_ANY_FS"))
		ksft_exit_fail_msg("%s is not a pkernfs mount\n", mnt);

	ksft_print_msg("stage %d%s, seed %#llx, mount %s\n", stage,
		       final_env && !strcmp(final_env, "1") ? " (final)" : "",
		       (unsigned long long)state.seed, mnt);
	if (stage == 1)
		run_stage1(&state);
	else
		run_stage_n(&state, stage, final_env && !strcmp(final_env, "1"));
	ksft_finished();
}
