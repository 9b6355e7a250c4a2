// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkbench - the guest side of 'make bench' (scripts/bench.sh).
 *
 * Each subcommand measures one thing, once per repetition, and prints one
 * line per sample on stdout; the host reduces them to medians and ratios:
 *
 *   sample FIGURE VARIANT METRIC VALUE
 *   stamp  EVENT LABEL TSC
 *
 * Subcommands:
 *
 *   touch VARIANT DIR SIZE        first touch: ftruncate a new file in DIR to
 *                                 SIZE, map it and write one byte per 4 KiB
 *   mount VARIANT MNT N REPS      mount(2) time of pkernfs on MNT holding N
 *                                 empty files, and mount + stat of all of them
 *   meta VARIANT DIR N SIZE       region bytes used for N files of SIZE
 *   dirops VARIANT DIR N          create, stat and unlink of N files in DIR
 *   size FILE SIZE                create FILE if needed and ftruncate it
 *   tsc-hz                        TSC frequency, against CLOCK_MONOTONIC_RAW
 *   kexec LABEL                   stamp the TSC, then kexec the loaded kernel
 *   arrive LABEL MNT MANIFEST     stamp the TSC, mount pkernfs on MNT and
 *                                 check the "SIZE PATH" lines of MANIFEST
 *                                 against stat(), stamp again; MNT "-" only
 *                                 stamps; also prints CLOCK_BOOTTIME
 *                                 at the first stamp
 *   vfio-map VARIANT MNT BDF SIZE MAP_DMA and UNMAP_DMA of SIZE of guest RAM
 *                                 (MNT/pkbench-ram, kept) for PCI device
 *                                 BDF, bound to vfio-pci, in a "persistent"
 *                                 domain (page tables in MNT/iommu/
 *                                 pkbench-dom) or a "normal" one;
 *                                 "persistent-by-page" is "persistent"
 *                                 under another name, for a run with
 *                                 vfio_iommu_type1.pkernfs_by_block=0
 *   vfio-hold MNT BDF SIZE        map SIZE in a persistent domain and leave
 *                                 a child holding it open, for a kexec
 *   vfio-remap MNT BDF SIZE       on the liveupdate boot after vfio-hold:
 *                                 re-attach the domain and time MAP_DMA with
 *                                 VFIO_DMA_MAP_FLAG_LIVE_UPDATE, then unmap
 *                                 and time a full MAP_DMA of the same range;
 *                                 remove both files
 *
 * SIZE takes a K, M or G suffix.  Times are in microseconds.  The TSC
 * survives kexec, so a kexec stamp in one kernel and an arrive stamp in the
 * next give the live-update blackout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/reboot.h>
#include <linux/vfio.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../pkernfs_vfio_util.h"

#define PAGE_BYTES	4096UL

#define VFIO_RAM	"pkbench-ram"
#define VFIO_DOM	"iommu/pkbench-dom"
/*
 * Guest RAM at IOVA 0, as VMMs put it: aligned like the 2 MiB blocks, so
 * that the IOMMU can map them with 2 MiB pages.  A domain's page tables
 * fit in one 2 MiB block, 510 pages: 1 GiB of 4 KiB pages would not.
 */
#define VFIO_IOVA	0x0ULL

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "pkbench: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
		"usage: pkbench touch VARIANT DIR SIZE\n"
		"       pkbench mount VARIANT MNT N REPS\n"
		"       pkbench meta VARIANT DIR N SIZE\n"
		"       pkbench dirops VARIANT DIR N\n"
		"       pkbench size FILE SIZE\n"
		"       pkbench tsc-hz\n"
		"       pkbench kexec LABEL\n"
		"       pkbench arrive LABEL MNT|- MANIFEST\n"
		"       pkbench vfio-map persistent|persistent-by-page|normal MNT BDF SIZE\n"
		"       pkbench vfio-hold MNT BDF SIZE\n"
		"       pkbench vfio-remap MNT BDF SIZE\n");
	exit(2);
}

static uint64_t parse_size(const char *s)
{
	uint64_t n;

	if (pk_parse_size(s, &n))
		usage();
	return n;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a" (lo), "=d" (hi));
	return (uint64_t)hi << 32 | lo;
}

static long faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static void sample(const char *fig, const char *variant, const char *metric,
		   uint64_t value)
{
	printf("sample %s %s %s %" PRIu64 "\n", fig, variant, metric, value);
}

static int cmd_touch(char **argv)
{
	const char *variant = argv[0];
	uint64_t size = parse_size(argv[2]), t0, t1, t2, off;
	volatile char *p;
	char path[4096];
	long f0, f1;
	int fd;

	snprintf(path, sizeof(path), "%s/pkbench-touch", argv[1]);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		die(path);
	t0 = now_us();
	if (ftruncate(fd, size))
		die("ftruncate");
	t1 = now_us();
	f0 = faults();
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	for (off = 0; off < size; off += PAGE_BYTES)
		p[off] = 1;
	t2 = now_us();
	f1 = faults();
	munmap((void *)p, size);
	close(fd);
	if (unlink(path))
		die("unlink");
	sample("touch", variant, "alloc_us", t1 - t0);
	sample("touch", variant, "time_us", t2 - t1);
	sample("touch", variant, "faults", f1 - f0);
	return 0;
}

/* Create or remove DIR/fNNNNN for n in [0, nr); -1 on the first failure. */
static int make_files(const char *dir, unsigned int nr, uint64_t size)
{
	static char buf[65536];
	char path[4096];
	unsigned int i;
	uint64_t left;
	ssize_t n;
	int fd;

	memset(buf, 0x5a, sizeof(buf));
	for (i = 0; i < nr; i++) {
		snprintf(path, sizeof(path), "%s/f%05u", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return -1;
		for (left = size; left; left -= n) {
			n = write(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
			if (n <= 0)
				return -1;
		}
		close(fd);
	}
	return 0;
}

static int stat_files(const char *dir, unsigned int nr, uint64_t *bytes,
		      uint64_t *alloc)
{
	char path[4096];
	unsigned int i;
	struct stat st;

	for (i = 0; i < nr; i++) {
		snprintf(path, sizeof(path), "%s/f%05u", dir, i);
		if (stat(path, &st))
			return -1;
		if (bytes)
			*bytes += st.st_size;
		if (alloc)
			*alloc += (uint64_t)st.st_blocks * 512;
	}
	return 0;
}

static int remove_files(const char *dir, unsigned int nr)
{
	char path[4096];
	unsigned int i;

	for (i = 0; i < nr; i++) {
		snprintf(path, sizeof(path), "%s/f%05u", dir, i);
		if (unlink(path))
			return -1;
	}
	return 0;
}

static int cmd_mount(char **argv)
{
	const char *variant = argv[0], *mnt = argv[1];
	unsigned int nr = atoi(argv[2]), reps = atoi(argv[3]), r;
	uint64_t t0, t1, t2;

	if (make_files(mnt, nr, 0))
		die("create");
	for (r = 0; r < reps; r++) {
		if (umount(mnt))
			die("umount");
		sync();
		t0 = now_us();
		if (mount("none", mnt, "pkernfs", 0, NULL))
			die("mount");
		t1 = now_us();
		if (stat_files(mnt, nr, NULL, NULL))
			die("stat");
		t2 = now_us();
		sample("mount", variant, "mount_us", t1 - t0);
		sample("mount", variant, "restore_us", t2 - t0);
	}
	if (remove_files(mnt, nr))
		die("unlink");
	return 0;
}

static int cmd_meta(char **argv)
{
	const char *variant = argv[0], *dir = argv[1];
	unsigned int nr = atoi(argv[2]);
	uint64_t size = parse_size(argv[3]), used0, used1, bytes = 0, alloc = 0;
	struct statfs sf;

	if (statfs(dir, &sf))
		die("statfs");
	used0 = (uint64_t)(sf.f_blocks - sf.f_bfree) * sf.f_bsize;
	if (make_files(dir, nr, size))
		die("create");
	if (statfs(dir, &sf))
		die("statfs");
	used1 = (uint64_t)(sf.f_blocks - sf.f_bfree) * sf.f_bsize;
	if (stat_files(dir, nr, &bytes, &alloc))
		die("stat");
	if (remove_files(dir, nr))
		die("unlink");
	/* used1 counts the fixed metadata too, used0 is what was there. */
	sample("meta", variant, "empty_bytes", used0);
	sample("meta", variant, "used_bytes", used1);
	sample("meta", variant, "data_bytes", bytes);
	sample("meta", variant, "alloc_bytes", alloc);
	sample("meta", variant, "block_bytes", sf.f_bsize);
	return 0;
}

static int cmd_dirops(char **argv)
{
	const char *variant = argv[0], *dir = argv[1];
	unsigned int nr = atoi(argv[2]);
	uint64_t t0, t1, t2, t3;

	t0 = now_us();
	if (make_files(dir, nr, 0))
		die("create");
	t1 = now_us();
	if (stat_files(dir, nr, NULL, NULL))
		die("stat");
	t2 = now_us();
	if (remove_files(dir, nr))
		die("unlink");
	t3 = now_us();
	sample("dirops", variant, "create_us", t1 - t0);
	sample("dirops", variant, "stat_us", t2 - t1);
	sample("dirops", variant, "unlink_us", t3 - t2);
	return 0;
}

static int cmd_size(char **argv)
{
	int fd = open(argv[0], O_WRONLY | O_CREAT, 0644);

	if (fd < 0)
		die(argv[0]);
	if (ftruncate(fd, parse_size(argv[1])))
		die("ftruncate");
	return close(fd);
}

static int cmd_tsc_hz(void)
{
	struct timespec ts0, ts1, delay = { .tv_nsec = 500000000 };
	uint64_t c0, c1, ns;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts0);
	c0 = rdtsc();
	nanosleep(&delay, NULL);
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts1);
	c1 = rdtsc();
	ns = (ts1.tv_sec - ts0.tv_sec) * 1000000000ULL + ts1.tv_nsec -
	     ts0.tv_nsec;
	printf("info tsc_hz %" PRIu64 "\n",
	       (uint64_t)((c1 - c0) * 1000000000ULL / ns));
	return 0;
}

static int cmd_kexec(char **argv)
{
	uint64_t tsc = rdtsc();

	/* The serial line must have sent the stamp before the kernel goes. */
	printf("stamp kexec %s %" PRIu64 "\n", argv[0], tsc);
	fflush(stdout);
	tcdrain(STDOUT_FILENO);
	reboot(LINUX_REBOOT_CMD_KEXEC);
	die("reboot(LINUX_REBOOT_CMD_KEXEC)");
}

/* Check every "SIZE PATH" line of @manifest against stat() under @mnt. */
static int verify(const char *mnt, const char *manifest)
{
	char line[4096], path[8192], name[4096];
	unsigned long long size;
	struct stat st;
	int bad = 0;
	FILE *f;

	f = fopen(manifest, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llu %4095s", &size, name) != 2)
			continue;
		snprintf(path, sizeof(path), "%s/%s", mnt, name);
		if (stat(path, &st) || !S_ISREG(st.st_mode) ||
		    (unsigned long long)st.st_size != size)
			bad++;
	}
	fclose(f);
	return bad ? -1 : 0;
}

static int cmd_arrive(char **argv)
{
	const char *label = argv[0], *mnt = argv[1];
	struct timespec boot;
	uint64_t arrive, up;
	int ok = 1;

	arrive = rdtsc();
	clock_gettime(CLOCK_BOOTTIME, &boot);
	if (strcmp(mnt, "-")) {
		if (mount("none", mnt, "pkernfs", 0, NULL))
			ok = 0;
		else if (verify(mnt, argv[2]))
			ok = 0;
	}
	up = rdtsc();
	printf("stamp arrive %s %" PRIu64 "\n", label, arrive);
	printf("stamp up %s %" PRIu64 "\n", label, up);
	/* How much of the blackout the new kernel's own clock saw. */
	printf("stamp boottime_us %s %" PRIu64 "\n", label,
	       (uint64_t)boot.tv_sec * 1000000 + boot.tv_nsec / 1000);
	printf("%sok - blackout %s: mount and verify\n", ok ? "" : "not ", label);
	return !ok;
}

/* A VFIO container with one device's group and guest RAM in pkernfs. */
struct vfio_vm {
	struct vfio_pci_dev dev;
	int container;
	int ram_fd;
	int dom_fd;
	char *ram;
	uint64_t size;
};

/* Open (with @create, create) MNT/NAME; -1 and errno on failure. */
static int open_at(const char *mnt, const char *name, int create)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", mnt, name);
	return open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
}

static void unlink_at(const char *mnt, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", mnt, name);
	if (unlink(path))
		die(path);
}

/*
 * Guest RAM of @size in MNT/pkbench-ram, mapped and touched, so that
 * MAP_DMA times VFIO and the IOMMU rather than page faults; the group of
 * PCI device @bdf in a new type1v2 container, with its page tables in
 * MNT/iommu/pkbench-dom if @persist.
 */
static void vfio_open(struct vfio_vm *vm, const char *mnt, const char *bdf,
		      uint64_t size, int persist, int create)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	struct stat st;
	uint64_t off;

	/* VFIO accounts pinned pages against RLIMIT_MEMLOCK. */
	setrlimit(RLIMIT_MEMLOCK, &rl);
	vm->size = size;
	vm->dom_fd = -1;
	vm->ram_fd = open_at(mnt, VFIO_RAM, create);
	if (vm->ram_fd < 0 || fstat(vm->ram_fd, &st))
		die(VFIO_RAM);
	if ((uint64_t)st.st_size != size && ftruncate(vm->ram_fd, size))
		die("ftruncate " VFIO_RAM);
	vm->ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       vm->ram_fd, 0);
	if (vm->ram == MAP_FAILED)
		die("mmap " VFIO_RAM);
	for (off = 0; off < size; off += PAGE_BYTES)
		vm->ram[off] = 0;
	if (persist) {
		vm->dom_fd = open_at(mnt, VFIO_DOM, create);
		if (vm->dom_fd < 0)
			die(VFIO_DOM);
	}

	vm->dev = VFIO_PCI_DEV_INIT(bdf);
	vm->container = vfio_container_open();
	if (vm->container < 0) {
		errno = -vm->container;
		die("/dev/vfio/vfio");
	}
	errno = -vfio_group_attach(&vm->dev, vm->container);
	if (errno)
		die("VFIO_GROUP_SET_CONTAINER");
	errno = persist ? -vfio_set_persistent(vm->container, vm->dom_fd) : 0;
	if (errno)
		die("VFIO_CONTAINER_SET_PERSISTENT_PGTABLES");
	errno = -vfio_set_iommu(vm->container);
	if (errno)
		die("VFIO_SET_IOMMU");
}

static void vfio_close(struct vfio_vm *vm)
{
	pci_dev_close(&vm->dev);
	close(vm->container);
	munmap(vm->ram, vm->size);
	close(vm->ram_fd);
	if (vm->dom_fd >= 0)
		close(vm->dom_fd);
}

/* MAP_DMA all of guest RAM at VFIO_IOVA; the time it took, in us. */
static uint64_t vfio_map(struct vfio_vm *vm, uint32_t flags)
{
	uint64_t t0 = now_us();

	errno = -vfio_dma_map(vm->container, vm->ram, VFIO_IOVA, vm->size,
			      flags);
	if (errno)
		die(flags ? "VFIO_IOMMU_MAP_DMA(LIVE_UPDATE)" :
			    "VFIO_IOMMU_MAP_DMA");
	return now_us() - t0;
}

static uint64_t vfio_unmap(struct vfio_vm *vm)
{
	uint64_t t0 = now_us();
	int64_t unmapped;

	unmapped = vfio_dma_unmap(vm->container, VFIO_IOVA, vm->size);
	if (unmapped < 0) {
		errno = -unmapped;
		die("VFIO_IOMMU_UNMAP_DMA");
	}
	if ((uint64_t)unmapped != vm->size) {
		errno = EIO;
		die("VFIO_IOMMU_UNMAP_DMA: short");
	}
	return now_us() - t0;
}

static int cmd_vfio_map(char **argv)
{
	const char *variant = argv[0], *mnt = argv[1];
	int persist = !strcmp(variant, "persistent") ||
		      !strcmp(variant, "persistent-by-page");
	uint64_t map_us, unmap_us;
	struct vfio_vm vm;

	if (!persist && strcmp(variant, "normal"))
		usage();
	vfio_open(&vm, mnt, argv[2], parse_size(argv[3]), persist, 1);
	map_us = vfio_map(&vm, 0);
	unmap_us = vfio_unmap(&vm);
	vfio_close(&vm);
	if (persist)
		unlink_at(mnt, VFIO_DOM);
	sample("vfio", variant, "map_us", map_us);
	sample("vfio", variant, "unmap_us", unmap_us);
	return 0;
}

static int cmd_vfio_hold(char **argv)
{
	struct vfio_vm vm;
	pid_t pid;
	int fd;

	vfio_open(&vm, argv[0], argv[1], parse_size(argv[2]), 1, 1);
	vfio_map(&vm, 0);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid > 0) {
		printf("info vfio_holder %d\n", (int)pid);
		return 0;
	}
	/* The holder keeps every fd and mapping until the kexec. */
	setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
	}
	for (;;)
		pause();
}

static int cmd_vfio_remap(char **argv)
{
	const char *mnt = argv[0];
	uint64_t lu_us, full_us;
	struct vfio_vm vm;

	vfio_open(&vm, mnt, argv[1], parse_size(argv[2]), 1, 0);
	lu_us = vfio_map(&vm, VFIO_DMA_MAP_FLAG_LIVE_UPDATE);
	vfio_unmap(&vm);
	full_us = vfio_map(&vm, 0);
	vfio_unmap(&vm);
	vfio_close(&vm);
	unlink_at(mnt, VFIO_DOM);
	unlink_at(mnt, VFIO_RAM);
	sample("vfio", "liveupdate", "remap_us", lu_us);
	sample("vfio", "full", "remap_us", full_us);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int nargs;
		int (*fn)(char **argv);
	} cmds[] = {
		{ "touch", 3, cmd_touch },
		{ "mount", 4, cmd_mount },
		{ "meta", 4, cmd_meta },
		{ "dirops", 3, cmd_dirops },
		{ "size", 2, cmd_size },
		{ "kexec", 1, cmd_kexec },
		{ "arrive", 3, cmd_arrive },
		{ "vfio-map", 4, cmd_vfio_map },
		{ "vfio-hold", 3, cmd_vfio_hold },
		{ "vfio-remap", 3, cmd_vfio_remap },
	};
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "tsc-hz"))
		return cmd_tsc_hz();
	for (i = 0; argc > 1 && i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name) && argc == cmds[i].nargs + 2)
			return cmds[i].fn(argv + 2);
	usage();
}
