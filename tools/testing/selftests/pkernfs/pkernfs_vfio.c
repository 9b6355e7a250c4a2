// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs_vfio - a minimal "VMM" that keeps a passed-through PCI device
 * doing DMA into pkernfs guest RAM across a live update (kexec).
 *
 * The device is QEMU's edu (PCI 1234:11e8, docs/specs/edu.txt), bound to
 * vfio-pci, behind the emulated Intel IOMMU. Guest RAM is a pkernfs file,
 * mmap'd MAP_SHARED and mapped for DMA with VFIO type1; the IOMMU page
 * tables of its domain live in the pkernfs file iommu/dom-0, attached to
 * the container with VFIO_CONTAINER_SET_PERSISTENT_PGTABLES before
 * VFIO_SET_IOMMU.
 *
 *   pkernfs_vfio stage1 BDF [BDF2]
 *	Create guest-ram and iommu/dom-0, set up the persistent container,
 *	map guest RAM at IOVA_BASE (0, as VMMs do), and half of it at two
 *	more IOVAs that stage 2 does not re-declare, DMA a pattern
 *	RAM->edu->RAM and check it, have a DMA end in an MSI, write a value into edu's liveness
 *	register, load pattern B into the edu buffer and arm one last
 *	edu->RAM DMA. A child keeps every fd open
 *	so that the domain is still live at the kexec; it starts the armed
 *	DMA at once, or on SIGUSR1 with PKERNFS_VFIO_DEFER=1 (the scenario
 *	sends it just before 'kexec -e', so the DMA lands while the kernels
 *	switch). BDF2, another edu, does a DMA round trip through a normal,
 *	non-persistent container that the child also keeps open.
 *	What stage 2 needs goes to $PKERNFS_VFIO_STATE.
 *
 *   pkernfs_vfio stage2 BDF [BDF2]
 *	On the 'liveupdate' boot: check that the unit still walks the
 *	context entry stage 1 left (the VT-d driver's debugfs), re-attach
 *	iommu/dom-0 and MAP_DMA with VFIO_DMA_MAP_FLAG_LIVE_UPDATE while edu
 *	keeps reading guest RAM (no DMAR fault, the entry taken over as it
 *	was), check that the in-flight DMA landed, that bus mastering
 *	survived, with no reset, and DMA a new pattern both ways, the
 *	last one ending in an MSI to the new VMM's eventfd; unmap one
 *	of the mappings not re-declared and map over the other; a later VMM
 *	gets the device reset. Negative checks:
 *	LIVE_UPDATE maps that do not match the persisted tables are refused
 *	and leave every kept mapping in place, guest RAM and iommu/dom-0
 *	cannot be unlinked or truncated even before the VMM re-attaches,
 *	iommu/ files cannot be read, written or mapped, files a live domain
 *	uses cannot be unlinked or truncated, and BDF2, driven through sysfs
 *	without any driver, cannot DMA into guest RAM, nor through the
 *	entry it had in stage 1.
 *
 *   pkernfs_vfio release BDF
 *	On the 'liveupdate' boot after stage 1, give the kept device up
 *	instead: attach it to an ordinary container, which must replace the
 *	kept context entry, so that DMA through the kept tables faults.
 *
 *   pkernfs_vfio noroot BDF
 *	On a boot with pkernfs.keep_iommu_root=0, where no IOMMU unit keeps
 *	its tables in pkernfs: a persistent domain is refused at
 *	VFIO_SET_IOMMU, and the kernel log says why.
 *
 *   PKERNFS_VFIO_NO_PERSIST=1 pkernfs_vfio stage1 BDF [BDF2]
 *	The same VMM without persistence, for kernels that lack it: checks
 *	that the persistence ioctl is refused, does the DMA checks and the
 *	BDF2 checks (round trip, then no DMA through sysfs into guest RAM),
 *	and unmaps and closes everything instead of holding it for a kexec.
 *
 *   pkernfs_vfio --demo stage1|stage2 BDF
 *	The same, for 'make demo': a few plain sentences on stdout say what
 *	the device did, and the TAP goes to $PKERNFS_VFIO_LOG instead.
 *
 * Environment:
 *   PKERNFS_MNT		pkernfs mount point (default /mnt/pkernfs)
 *   PKERNFS_VFIO_STATE	stage 1 -> stage 2 notes
 *			(default /var/lib/pkt/pkernfs_vfio.state)
 *   PKERNFS_VFIO_SEED	pattern seed for stage 1 (default: random)
 *   PKERNFS_VFIO_DEFER	1: the held DMA starts on SIGUSR1 (see above)
 *   PKERNFS_VFIO_NO_PERSIST	1: the non-persistent sequence
 *   PKERNFS_VFIO_LOG	where --demo writes the TAP (default /dev/null)
 *
 * Output is TAP; the exit status is the kselftest one.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "pkernfs_vfio_util.h"
#include "pkernfs_vtd.h"

/* QEMU's edu device. */
#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_IDENT		0x00
#define EDU_IDENT		0x010000ed
#define EDU_REG_LIVENESS	0x04
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_ACK		0x64
#define EDU_IRQ_DMA		0x100	/* status bit: a DMA ended */
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_RUN		0x1
#define EDU_DMA_TO_RAM		0x2
#define EDU_DMA_IRQ		0x4	/* interrupt when the DMA ends */
#define EDU_BUF			0x40000	/* device address of its buffer */
#define EDU_BUF_SIZE		4096
/*
 * Bytes per DMA: QEMU 7.2's edu refuses (with a hardware error that aborts
 * QEMU) a transfer that ends exactly at the end of its buffer, so a DMA
 * never covers the whole buffer.
 */
#define DMA_LEN			2048
#define EDU_DMA_MASK		((1ULL << 28) - 1)
#define EDU_DMA_TIMEOUT_MS	3000	/* a DMA takes ~100 ms of QEMU time */

/* Guest RAM and where each check puts its bytes. */
#define GUEST_RAM		"guest-ram"
#define DOM_FILE		"iommu/dom-0"
#define DOM_NAME		"dom-0"
#define ROOT_PGTABLES		"iommu/root-pgtables"
#define DOM_FILE2		"iommu/dom-1"	/* a later VMM's, in stage 2 */
#define RAM_SIZE		(4ULL << 20)
#define IOVA_BASE		0ULL		/* where every VMM puts RAM */
#define IOVA_UNMAPPED		0x800000ULL	/* never mapped */
#define OFF_A			0x001000ULL	/* pattern A, RAM -> edu */
#define OFF_A_BACK		0x201000ULL	/* pattern A, edu -> RAM */
#define OFF_B_SRC		0x100000ULL	/* pattern B, RAM -> edu */
#define OFF_B			0x300000ULL	/* pattern B, in flight at kexec */
#define OFF_C			0x002000ULL	/* stage 2 pattern, RAM -> edu */
#define OFF_C_BACK		0x302000ULL	/* stage 2 pattern, edu -> RAM */
#define OFF_CANARY		0x3ff000ULL	/* what edu #2 must not reach */
/*
 * Stage 1 also maps the second half of guest RAM, one 2 MiB IOMMU page, at
 * two more IOVAs that stage 2 does not re-declare: it maps over one and
 * unmaps the other.  OFF_K is a pattern's place in either half.
 */
#define IOVA_KEPT_OVER		0x4000000ULL
#define IOVA_KEPT_UNMAP		0x4200000ULL
#define KEPT_LEN		(RAM_SIZE / 2)
#define OFF_K			0x004000ULL
#define OFF_K_BACK		0x005000ULL
#define CANARY_LEN		256
#define LIVENESS_VALUE		0x5a5a1234U

/*
 * The kernel logs DMAR faults through a ratelimit of 10 lines in 5 s, and
 * each fault takes three of them: a check that looks for its fault in the
 * log after three others came just before waits this long first.
 */
#define DMAR_LOG_WINDOW_MS	5100

#define PGD_PREFIX		"pkernfs: " DOM_FILE ": page tables at "
#define NOROOT_MSG		"keeps its root and context tables outside pkernfs"

#define DEFAULT_STATE		"/var/lib/pkt/pkernfs_vfio.state"
#define STARTED_FILE		"/tmp/pkernfs_vfio.started"
#define HOLDER_PID_FILE		"/tmp/pkernfs_vfio.pid"
#define HOLD_SECS		600

/* One container with its guest memory. */
struct vmm {
	int container;
	int ram_fd;
	int dom_fd;
	uint8_t *ram;
	uint64_t ram_size;
	struct vfio_pci_dev edu;
};

/*
 * What stage 1 saw, for stage 2: @pgd from the kernel log, the rest as
 * the VT-d hardware is given it (pkernfs_vtd.h).
 */
struct state {
	uint64_t seed;
	char pgd[64];
	uint64_t rta;			/* root table address register */
	struct vtd_context ctx;		/* edu #1's context entry */
	uint64_t edu2_pgd;		/* edu #2's page tables, not kept */
};

static const char *mnt;
static bool no_persist;
/* --demo: the sentences go here, the TAP to $PKERNFS_VFIO_LOG. */
static FILE *demo_out;

/* seed + N: the pattern of each check. */
enum {
	SEED_A, SEED_B, SEED_C, SEED_CANARY, SEED_POISON, SEED_EDU2,
	SEED_K_OLD, SEED_K_NEW, SEED_READONLY,
};

static __printf(1, 2) void demo(const char *fmt, ...)
{
	va_list ap;

	if (!demo_out)
		return;
	va_start(ap, fmt);
	vfprintf(demo_out, fmt, ap);
	va_end(ap);
	fflush(demo_out);
}

/* --demo: a line for the person watching if any check failed. */
static void demo_failures(void)
{
	const char *log = getenv("PKERNFS_VFIO_LOG");

	if (ksft_get_fail_cnt())
		demo("FAIL: %d of %u checks failed (TAP in %s)\n",
		     ksft_get_fail_cnt(), ksft_test_num(),
		     log && *log ? log : "/dev/null");
}

/* "0x0000000040a01000" as "0x40a01000". */
static unsigned long long pgd_addr(const char *pgd)
{
	return strtoull(pgd, NULL, 16);
}

static int pathat(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", mnt, name);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* The physical address in the last "page tables at" line, or "". */
static void kmsg_pgd(char *buf, size_t len)
{
	char *line = kmsg_find(PGD_PREFIX);

	buf[0] = '\0';
	if (!line)
		return;
	snprintf(buf, len, "%s", strstr(line, PGD_PREFIX) + strlen(PGD_PREFIX));
	buf[strcspn(buf, " \t")] = '\0';
	free(line);
}

/* The stage 1 -> stage 2 notes ------------------------------------------ */

static const char *state_path(void)
{
	const char *p = getenv("PKERNFS_VFIO_STATE");

	return p && *p ? p : DEFAULT_STATE;
}

static int state_save(const struct state *st)
{
	const char *path = state_path();
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fprintf(f, "seed=%#" PRIx64 "\n", st->seed);
	fprintf(f, "pgd=%s\n", st->pgd);
	fprintf(f, "rta=%#" PRIx64 "\n", st->rta);
	fprintf(f, "ctx_lo=%#" PRIx64 "\nctx_hi=%#" PRIx64 "\n", st->ctx.lo,
		st->ctx.hi);
	fprintf(f, "edu2_pgd=%#" PRIx64 "\n", st->edu2_pgd);
	fprintf(f, "iova=%#llx\nram_size=%#llx\n", IOVA_BASE, RAM_SIZE);
	fprintf(f, "off_a=%#llx\noff_a_back=%#llx\n", OFF_A, OFF_A_BACK);
	fprintf(f, "off_b_src=%#llx\noff_b=%#llx\n", OFF_B_SRC, OFF_B);
	fprintf(f, "liveness=%#x\n", LIVENESS_VALUE);
	if (fclose(f))
		return -errno;
	return 0;
}

static int state_load(struct state *st)
{
	char line[256], val[128];
	bool have_seed = false;
	FILE *f;

	memset(st, 0, sizeof(*st));
	f = fopen(state_path(), "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "seed=%127s", val) == 1) {
			st->seed = strtoull(val, NULL, 0);
			have_seed = true;
		}
		sscanf(line, "pgd=%63s", st->pgd);
		sscanf(line, "rta=%" SCNx64, &st->rta);
		sscanf(line, "ctx_lo=%" SCNx64, &st->ctx.lo);
		sscanf(line, "ctx_hi=%" SCNx64, &st->ctx.hi);
		sscanf(line, "edu2_pgd=%" SCNx64, &st->edu2_pgd);
	}
	fclose(f);
	return have_seed ? 0 : -ENODATA;
}

static bool edu_dma_busy(struct vfio_pci_dev *e)
{
	return bar_rd32(e, EDU_REG_DMA_CMD) & EDU_DMA_RUN;
}

/* Wait for the running DMA; false on timeout. */
static bool edu_dma_wait(struct vfio_pci_dev *e)
{
	int64_t end = now_ms() + EDU_DMA_TIMEOUT_MS;

	while (edu_dma_busy(e)) {
		if (now_ms() > end)
			return false;
		sleep_ms(2);
	}
	return true;
}

static void edu_dma_start(struct vfio_pci_dev *e, uint64_t src, uint64_t dst,
			  uint32_t len, bool to_ram)
{
	bar_wr32(e, EDU_REG_DMA_SRC, src);
	bar_wr32(e, EDU_REG_DMA_DST, dst);
	bar_wr32(e, EDU_REG_DMA_CNT, len);
	bar_wr32(e, EDU_REG_DMA_CMD, EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
}

/* Route @e's MSI to eventfd @efd, or nowhere if @efd < 0. */
static int edu_msi_to(struct vfio_pci_dev *e, int efd)
{
	char buf[sizeof(struct vfio_irq_set) + sizeof(int32_t)];
	struct vfio_irq_set *set = (struct vfio_irq_set *)buf;

	memset(buf, 0, sizeof(buf));
	set->argsz = sizeof(buf);
	set->flags = VFIO_IRQ_SET_ACTION_TRIGGER |
		     (efd < 0 ? VFIO_IRQ_SET_DATA_NONE :
				VFIO_IRQ_SET_DATA_EVENTFD);
	set->index = VFIO_PCI_MSI_IRQ_INDEX;
	set->count = efd < 0 ? 0 : 1;
	memcpy(set->data, &efd, sizeof(efd));
	return ioctl(e->dev_fd, VFIO_DEVICE_SET_IRQS, set) ? -errno : 0;
}

/*
 * Interrupts are not kept through a live update: the new kernel sets up
 * interrupt remapping afresh, and the new VMM gives vfio-pci an eventfd for
 * edu's MSI again, as at any open.  Check that a DMA from @iova that the VMM
 * starts then ends in an interrupt on that eventfd.
 */
static void check_msi(struct vfio_pci_dev *e, uint64_t iova)
{
	struct pollfd pfd = { .events = POLLIN };
	uint64_t count = 0;
	int ret;

	pfd.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ret = pfd.fd < 0 ? -errno : edu_msi_to(e, pfd.fd);
	ksft_test_result(!ret, "edu: MSI to an eventfd (VFIO_DEVICE_SET_IRQS: %s)\n",
			 strerror(-ret));
	if (ret) {
		if (pfd.fd >= 0)
			close(pfd.fd);
		return;
	}

	bar_wr32(e, EDU_REG_DMA_SRC, iova);
	bar_wr32(e, EDU_REG_DMA_DST, EDU_BUF);
	bar_wr32(e, EDU_REG_DMA_CNT, DMA_LEN);
	bar_wr32(e, EDU_REG_DMA_CMD, EDU_DMA_RUN | EDU_DMA_IRQ);
	if (poll(&pfd, 1, EDU_DMA_TIMEOUT_MS) == 1 &&
	    read(pfd.fd, &count, sizeof(count)) != sizeof(count))
		count = 0;
	ksft_test_result(count == 1,
			 "edu: a DMA started with its interrupt flag ends in one MSI on the eventfd (%" PRIu64 ", status %#x)\n",
			 count, bar_rd32(e, EDU_REG_IRQ_STATUS));
	bar_wr32(e, EDU_REG_IRQ_ACK, EDU_IRQ_DMA);
	edu_msi_to(e, -1);
	close(pfd.fd);
}

/* RAM at @iova -> edu buffer, and wait. */
static bool edu_dma_in(struct vfio_pci_dev *e, uint64_t iova, uint32_t len)
{
	edu_dma_start(e, iova, EDU_BUF, len, false);
	return edu_dma_wait(e);
}

/* edu buffer -> RAM at @iova, and wait. */
static bool edu_dma_out(struct vfio_pci_dev *e, uint64_t iova, uint32_t len)
{
	edu_dma_start(e, EDU_BUF, iova, len, true);
	return edu_dma_wait(e);
}

/*
 * Copy @len bytes of guest RAM from @src to @dst through the edu buffer,
 * after filling @src with pattern @seed and @dst with pattern @seed + 1,
 * and check that @dst now holds pattern @seed.
 */
static bool edu_round_trip(struct vfio_pci_dev *e, uint8_t *ram, uint64_t iova,
			   uint64_t src, uint64_t dst, uint32_t len,
			   uint64_t seed)
{
	ssize_t bad;

	pk_fill(ram + src, len, seed, 0);
	pk_fill(ram + dst, len, seed + 1, 0);
	__sync_synchronize();
	if (!edu_dma_in(e, iova + src, len)) {
		ksft_print_msg("%s: DMA RAM->edu timed out\n", e->bdf);
		return false;
	}
	if (!edu_dma_out(e, iova + dst, len)) {
		ksft_print_msg("%s: DMA edu->RAM timed out\n", e->bdf);
		return false;
	}
	__sync_synchronize();
	bad = pk_check(ram + dst, len, seed, 0);
	if (bad >= 0) {
		ksft_print_msg("%s: byte %#zx of the copy at RAM %#" PRIx64 " is %#x, want %#x\n",
			       e->bdf, bad, dst, ram[dst + bad],
			       ((uint8_t *)ram)[src + bad]);
		return false;
	}
	return true;
}

/* Guest RAM and the domain file ----------------------------------------- */

static int ram_open(struct vmm *v, bool create)
{
	char path[PATH_MAX];
	struct stat st;
	void *p;

	if (pathat(path, sizeof(path), GUEST_RAM))
		return -ENAMETOOLONG;
	if (create) {
		unlink(path);
		v->ram_fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
				 0600);
		if (v->ram_fd < 0 || ftruncate(v->ram_fd, RAM_SIZE)) {
			ksft_print_msg("create %s: %s\n", path, strerror(errno));
			return -errno;
		}
	} else {
		v->ram_fd = open(path, O_RDWR | O_CLOEXEC);
		if (v->ram_fd < 0) {
			ksft_print_msg("open %s: %s\n", path, strerror(errno));
			return -errno;
		}
	}
	if (fstat(v->ram_fd, &st))
		return -errno;
	if ((uint64_t)st.st_size != RAM_SIZE) {
		ksft_print_msg("%s: %lld bytes, want %llu\n", path,
			       (long long)st.st_size, RAM_SIZE);
		return -EINVAL;
	}
	p = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 v->ram_fd, 0);
	if (p == MAP_FAILED) {
		ksft_print_msg("mmap %s: %s\n", path, strerror(errno));
		return -errno;
	}
	v->ram = p;
	v->ram_size = RAM_SIZE;
	return 0;
}

static int dom_open(struct vmm *v, bool create)
{
	char path[PATH_MAX];
	int flags = O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0);

	if (pathat(path, sizeof(path), DOM_FILE))
		return -ENAMETOOLONG;
	v->dom_fd = open(path, flags, 0600);
	if (v->dom_fd < 0) {
		ksft_print_msg("%s %s: %s\n", create ? "create" : "open", path,
			       strerror(errno));
		return -errno;
	}
	return 0;
}

static bool have_iommu_dir(void)
{
	char path[PATH_MAX];
	struct stat st;

	return !pathat(path, sizeof(path), "iommu") && !stat(path, &st) &&
	       S_ISDIR(st.st_mode);
}

/*
 * Domain page-table files are kernel-owned: read, write and mmap of their
 * contents must fail, whatever the error. Writing is only tried on a file
 * that no IOMMU is walking yet: if the kernel wrongly allowed it, the
 * write would corrupt live page tables.
 */
static void check_no_access(int fd, const char *what, bool try_write)
{
	char buf[64] = { 0 };
	ssize_t n;
	void *p;

	n = pread(fd, buf, sizeof(buf), 0);
	ksft_test_result(n < 0, "%s: read() refused (%s)\n", what,
			 n < 0 ? strerror(errno) : "succeeded");
	if (try_write) {
		n = pwrite(fd, buf, sizeof(buf), 0);
		ksft_test_result(n < 0, "%s: write() refused (%s)\n", what,
				 n < 0 ? strerror(errno) : "succeeded");
	}
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	ksft_test_result(p == MAP_FAILED, "%s: mmap() refused (%s)\n", what,
			 p == MAP_FAILED ? strerror(errno) : "succeeded");
	if (p != MAP_FAILED)
		munmap(p, 4096);
}

static void check_root_pgtables(void)
{
	char path[PATH_MAX];
	int fd;

	if (pathat(path, sizeof(path), ROOT_PGTABLES))
		return;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		/* Refusing the open refuses read and mmap too. */
		ksft_test_result(errno != ENOENT,
				 "%s: open() refused (%s)\n", ROOT_PGTABLES,
				 strerror(errno));
		return;
	}
	ksft_print_msg("%s: open() allowed, checking its contents are not\n",
		       ROOT_PGTABLES);
	check_no_access(fd, ROOT_PGTABLES, false);
	close(fd);
}

/* The whole VMM ---------------------------------------------------------- */

static void vmm_init(struct vmm *v, const char *bdf)
{
	memset(v, 0, sizeof(*v));
	v->container = v->ram_fd = v->dom_fd = -1;
	v->edu.bdf = bdf;
	v->edu.group_fd = v->edu.dev_fd = v->edu.cfg_fd = -1;
}

static void vmm_close(struct vmm *v)
{
	pci_dev_close(&v->edu);
	if (v->container >= 0)
		close(v->container);
	if (v->ram)
		munmap(v->ram, v->ram_size);
	if (v->ram_fd >= 0)
		close(v->ram_fd);
	if (v->dom_fd >= 0)
		close(v->dom_fd);
	vmm_init(v, v->edu.bdf);
}

/* Open the container and the group, and put the group in it. */
static void vmm_container(struct vmm *v)
{
	int ret;

	v->container = vfio_container_open();
	if (v->container < 0)
		ksft_exit_fail_msg("open /dev/vfio/vfio: %s\n",
				   strerror(-v->container));
	ret = vfio_group_attach(&v->edu, v->container);
	if (ret)
		ksft_exit_fail_msg("%s: cannot attach its group: %s\n",
				   v->edu.bdf, strerror(-ret));
}

static void check_ident(struct vfio_pci_dev *e, const char *tag)
{
	uint32_t id = bar_rd32(e, EDU_REG_IDENT);

	ksft_test_result(id == EDU_IDENT, "%s: edu %s identifies (%#x)\n", tag,
			 e->bdf, id);
}

/*
 * Second device, non-persistent: its own container and buffer, mapped at
 * the same IOVA as guest RAM in the first container, and a round trip.
 * With @keep, *@out holds it open (for the kexec); otherwise it is torn
 * down again.
 */
static void edu2_round_trip(const char *bdf2, uint64_t seed, bool keep,
			    struct vmm *out)
{
	struct vmm v;
	int64_t unmapped;
	void *buf;
	int ret;

	vmm_init(&v, bdf2);
	vmm_container(&v);
	ret = vfio_set_iommu(v.container);
	if (ret)
		ksft_exit_fail_msg("%s: VFIO_SET_IOMMU: %s\n", bdf2,
				   strerror(-ret));
	buf = mmap(NULL, 2 * EDU_BUF_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	ret = vfio_dma_map(v.container, buf, IOVA_BASE, 2 * EDU_BUF_SIZE, 0);
	ksft_test_result(!ret, "edu #2: MAP_DMA of anonymous memory, no persistence (%s)\n",
			 strerror(-ret));
	if (!ret && !vfio_dev_open(&v.edu) && !pci_enable_dma(&v.edu)) {
		check_ident(&v.edu, "edu #2");
		ksft_test_result(edu_round_trip(&v.edu, buf, IOVA_BASE, 0,
						EDU_BUF_SIZE, DMA_LEN,
						seed),
				 "edu #2: DMA round trip through a non-persistent domain\n");
	} else {
		ksft_test_result_fail("edu #2: open the device\n");
	}
	if (keep) {
		v.ram = buf;
		v.ram_size = 2 * EDU_BUF_SIZE;
		*out = v;
		return;
	}
	unmapped = vfio_dma_unmap(v.container, IOVA_BASE, 2 * EDU_BUF_SIZE);
	ksft_test_result(unmapped == 2 * EDU_BUF_SIZE,
			 "edu #2: UNMAP_DMA (%" PRId64 ")\n", unmapped);
	/* Closing the device makes vfio-pci turn bus mastering off. */
	vmm_close(&v);
	munmap(buf, 2 * EDU_BUF_SIZE);
}

/*
 * Second device, no driver: enable it through sysfs and have it DMA to an
 * IOVA that the first container maps to guest RAM. Its context entry is
 * not the first device's domain, so the bytes must not change; the IOMMU
 * reports a fault instead.
 */
static void edu2_negative(const char *bdf2, struct vmm *v, uint64_t seed)
{
	struct vfio_pci_dev e = VFIO_PCI_DEV_INIT(bdf2);
	char needle[64], *fault;
	uint16_t cmd = 0;
	ssize_t bad;
	int ret;

	ret = pci_sysfs_command(bdf2, &cmd);
	if (ret) {
		ksft_test_result_fail("edu #2: read its command register: %s\n",
				      strerror(-ret));
		return;
	}
	ksft_test_result(!(cmd & PCI_COMMAND_MASTER),
			 "edu #2: bus mastering is off (command %#06x)\n", cmd);
	if (sysfs_dev_open(&e) || pci_enable_dma(&e)) {
		ksft_test_result_fail("edu #2: driverless access through sysfs\n");
		pci_dev_close(&e);
		return;
	}
	check_ident(&e, "edu #2 (sysfs)");

	pk_fill(v->ram + OFF_CANARY, CANARY_LEN, seed, 0);
	__sync_synchronize();
	edu_dma_start(&e, EDU_BUF, IOVA_BASE + OFF_CANARY, CANARY_LEN, true);
	ksft_test_result(edu_dma_wait(&e), "edu #2: its DMA to IOVA %#llx ran\n",
			 IOVA_BASE + OFF_CANARY);
	sleep_ms(300);
	__sync_synchronize();
	bad = pk_check(v->ram + OFF_CANARY, CANARY_LEN, seed, 0);
	ksft_test_result(bad < 0,
			 "edu #2: its DMA to IOVA %#llx did not reach guest RAM\n",
			 IOVA_BASE + OFF_CANARY);
	if (bad >= 0)
		ksft_print_msg("guest RAM byte %#llx changed\n",
			       OFF_CANARY + (unsigned long long)bad);

	/* "0000:00:02.0" is "[00:02.0]" in the DMAR fault line. */
	snprintf(needle, sizeof(needle), "[%s]",
		 strncmp(bdf2, "0000:", 5) ? bdf2 : bdf2 + 5);
	fault = kmsg_find(needle);
	if (fault && strstr(fault, "DMAR")) {
		ksft_print_msg("%s\n", fault);
		ksft_test_result_pass("edu #2: the IOMMU reported a DMA fault\n");
	} else {
		ksft_test_result_fail("edu #2: the IOMMU reported a DMA fault (no DMAR line names %s)\n",
				      needle);
	}
	free(fault);

	pci_cfg_write16(&e, PCI_COMMAND, cmd & ~(PCI_COMMAND_MASTER));
	pci_dev_close(&e);
}

/*
 * After the live update, edu #2's stage 1 context entry, which mapped
 * IOVA_BASE to its old container's buffer (memory the new kernel reuses),
 * must be gone: only entries of persistent domains are kept.  The kernel
 * says it kept exactly one, the unit shows edu #2 on other page tables,
 * and a DMA read of IOVA_BASE, which the old entry would have let through
 * silently, faults as the new kernel's own domain for edu #2 (its default
 * DMA domain, which maps nothing there) makes it fault: "PTE Read access
 * is not set", at address 0.
 */
static void edu2_old_entry_gone(const char *bdf2, const struct state *st)
{
	struct vfio_pci_dev e = VFIO_PCI_DEV_INIT(bdf2);
	const char *kept_msg = "live update: kept ";
	char needle[96], *line;
	struct vtd_context c;
	unsigned int kept = 0;
	uint16_t cmd = 0;
	int ret;

	line = kmsg_find(kept_msg);
	if (line)
		sscanf(strstr(line, kept_msg) + strlen(kept_msg), "%u", &kept);
	ksft_test_result(kept == 1,
			 "kernel: kept %u context entries from pkernfs, edu #1's only\n",
			 kept);
	free(line);

	ret = vtd_context_of(bdf2, &c);
	ksft_test_result(ret == -ENOENT ||
			 (!ret && vtd_context_pgd(&c) != st->edu2_pgd),
			 "edu #2: its stage 1 context entry (ASR %#" PRIx64 ") is gone (now: %s, ASR %#" PRIx64 ")\n",
			 st->edu2_pgd, ret ? strerror(-ret) : "present",
			 ret ? 0 : vtd_context_pgd(&c));

	if (sysfs_dev_open(&e) || pci_cfg_read16(&e, PCI_COMMAND, &cmd) ||
	    pci_enable_dma(&e)) {
		ksft_test_result_fail("edu #2: driverless access through sysfs\n");
		pci_dev_close(&e);
		return;
	}
	edu_dma_start(&e, IOVA_BASE, EDU_BUF, DMA_LEN, false);
	edu_dma_wait(&e);
	sleep_ms(300);
	/* "0000:00:02.0" is "[00:02.0]" in the DMAR fault line. */
	snprintf(needle, sizeof(needle),
		 "[DMA Read NO_PASID] Request device [%s] fault addr 0x%llx ",
		 strncmp(bdf2, "0000:", 5) ? bdf2 : bdf2 + 5, IOVA_BASE);
	line = kmsg_find(needle);
	ksft_test_result(line && strstr(line, "PTE Read access is not set"),
			 "edu #2: DMA read of IOVA %#llx, mapped by its stage 1 domain, faults: %s\n",
			 IOVA_BASE, line ? strstr(line, "[fault reason") :
					   "no such DMAR fault");
	free(line);
	pci_cfg_write16(&e, PCI_COMMAND, cmd);
	pci_dev_close(&e);
}

/*
 * DMA under the re-attach: a child keeps the kept device reading guest RAM
 * (through sysfs: the VMM has not opened it yet) while the VMM re-attaches
 * its domain and re-declares its mappings.
 */
struct dma_loop {
	pid_t pid;
	volatile uint32_t *stop;
	volatile uint32_t *done;	/* DMAs completed */
	volatile uint32_t *stuck;	/* 1: a DMA did not complete */
};

static int dma_loop_start(const char *bdf, struct dma_loop *l)
{
	struct vfio_pci_dev e = VFIO_PCI_DEV_INIT(bdf);
	volatile uint32_t *shared;
	int64_t end;

	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -errno;
	l->stop = shared;
	l->done = shared + 1;
	l->stuck = shared + 2;
	if (sysfs_dev_open(&e) || pci_enable_dma(&e)) {
		pci_dev_close(&e);
		return -EIO;
	}
	fflush(NULL);
	l->pid = fork();
	if (l->pid < 0) {
		pci_dev_close(&e);
		return -errno;
	}
	if (!l->pid) {
		while (!*l->stop) {
			if (!edu_dma_in(&e, IOVA_BASE + OFF_A, DMA_LEN)) {
				*l->stuck = 1;
				break;
			}
			(*l->done)++;
		}
		_exit(0);
	}
	pci_dev_close(&e);
	/* The device is at work on the kept tables before the re-attach. */
	end = now_ms() + EDU_DMA_TIMEOUT_MS;
	while (!*l->done && !*l->stuck && now_ms() < end)
		sleep_ms(2);
	return *l->done ? 0 : -ETIMEDOUT;
}

/* Stop the loop: the number of DMAs it completed, or -1 if one hung. */
static int dma_loop_stop(struct dma_loop *l)
{
	int done;

	*l->stop = 1;
	waitpid(l->pid, NULL, 0);
	done = *l->stuck ? -1 : (int)*l->done;
	munmap((void *)l->stop, 4096);
	return done;
}

/* Keep everything open across the kexec; maybe start the last DMA later. */
static void hold(struct vmm *v, struct vmm *v2, bool defer)
{
	sigset_t set;
	pid_t pid;
	FILE *f;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fflush(NULL);

	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (pid > 0) {
		f = fopen(HOLDER_PID_FILE, "w");
		if (f) {
			fprintf(f, "%d\n", pid);
			fclose(f);
		}
		ksft_print_msg("pid %d holds the container, guest RAM and %s%s until the kexec\n",
			       pid, v->edu.bdf, v2 ? " and edu #2" : "");
		return;
	}

	/* The holder: quiet, in its own session, fds and mappings kept. */
	if (demo_out) {
		fclose(demo_out);
		demo_out = NULL;
	}
	vfio_holder_detach();
	if (defer) {
		struct timespec ts = { .tv_sec = HOLD_SECS };

		if (sigtimedwait(&set, NULL, &ts) != SIGUSR1)
			_exit(1);
		edu_dma_start(&v->edu, EDU_BUF, IOVA_BASE + OFF_B,
			      DMA_LEN, true);
		fd = open(STARTED_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			close(fd);
	}
	sleep(HOLD_SECS);
	_exit(0);
}

/*
 * The page tables of a domain are live in a device: a reader of the file,
 * or a user who does not own it, must not be able to hand them to a
 * container of their own.
 */
static void check_set_persistent_refusals(void)
{
	char path[PATH_MAX];
	int container, fd, ret, status;
	pid_t pid;

	if (pathat(path, sizeof(path), DOM_FILE))
		ksft_exit_fail_msg("%s: path too long\n", DOM_FILE);
	container = vfio_container_open();
	if (container < 0)
		ksft_exit_fail_msg("cannot open a VFIO container: %s\n",
				   strerror(-container));

	fd = open(path, O_RDONLY | O_CLOEXEC);
	ret = fd < 0 ? -errno : vfio_set_persistent(container, fd);
	ksft_test_result(ret == -EBADF,
			 "SET_PERSISTENT_PGTABLES refuses %s opened read-only: EBADF (%s)\n",
			 DOM_FILE, ret ? strerror(-ret) : "accepted");
	if (fd >= 0)
		close(fd);

	/* Let anybody open it for writing, then try as somebody else. */
	if (chmod(path, 0666))
		ksft_exit_fail_msg("chmod %s: %s\n", path, strerror(errno));
	pid = fork();
	if (pid == 0) {
		if (!pk_become_test_user())
			_exit(100);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(101);
		ret = vfio_set_persistent(container, fd);
		_exit(ret == -EPERM ? 0 : ret ? -ret : 102);
	}
	ret = pid < 0 || waitpid(pid, &status, 0) != pid ? -1 :
	      WIFEXITED(status) ? WEXITSTATUS(status) : 103;
	ksft_test_result(ret == 0,
			 "SET_PERSISTENT_PGTABLES refuses %s to a user who does not own it: EPERM (%s)\n",
			 DOM_FILE, ret == 0 ? "EPERM" : ret == 102 ? "accepted" :
			 ret < 100 && ret > 0 ? strerror(ret) :
			 "the child could not try");
	if (chmod(path, 0600))
		ksft_exit_fail_msg("chmod %s: %s\n", path, strerror(errno));
	close(container);
}

/* Map [@iova, +@len) of @vaddr, which must fail with @want. */
static void check_map_refused(struct vmm *v, void *vaddr, uint64_t len,
			      int want, const char *what)
{
	int ret = vfio_dma_map(v->container, vaddr, IOVA_UNMAPPED, len, 0);

	ksft_test_result(ret == want, "MAP_DMA of %s: %s (%s)\n", what,
			 strerror(-want), ret ? strerror(-ret) : "mapped");
	if (!ret)
		vfio_dma_unmap(v->container, IOVA_UNMAPPED, len);
}

/* A new pkernfs file of @len bytes, mapped shared; NULL on failure. */
static void *pkernfs_map_new(const char *name, size_t len, void *at)
{
	char path[PATH_MAX];
	void *p = MAP_FAILED;
	int fd;

	if (pathat(path, sizeof(path), name))
		return NULL;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && !ftruncate(fd, len))
		p = mmap(at, len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | (at ? MAP_FIXED : 0), fd, 0);
	if (fd >= 0)
		close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * What a persistent container must not map: memory that does not outlive
 * the kexec its mappings do, a file whose memory goes at the next mount, and
 * a range of two files, of which only one could be pinned against unlink.
 */
static void check_map_refusals(struct vmm *v)
{
	const size_t half = RAM_SIZE / 2;
	char path[PATH_MAX];
	uint8_t *p;

	p = mmap(NULL, half, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memset(p, 0x5a, half);
	check_map_refused(v, p, half, -EINVAL,
			  "anonymous memory on a persistent container");
	munmap(p, half);

	p = pkernfs_map_new("unlinked", half, NULL);
	if (!p || pathat(path, sizeof(path), "unlinked") || unlink(path))
		ksft_exit_fail_msg("pkernfs file 'unlinked': %s\n",
				   strerror(errno));
	check_map_refused(v, p, half, -ENOENT, "an unlinked pkernfs file");
	munmap(p, half);

	p = mmap(NULL, RAM_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED ||
	    mmap(p, half, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 v->ram_fd, 0) == MAP_FAILED ||
	    !pkernfs_map_new("other", half, p + half))
		ksft_exit_fail_msg("map guest RAM and 'other': %s\n",
				   strerror(errno));
	check_map_refused(v, p, RAM_SIZE, -EINVAL,
			  "guest RAM and another pkernfs file in one range");
	munmap(p, RAM_SIZE);
	if (!pathat(path, sizeof(path), "other"))
		unlink(path);
}

/*
 * Copy @len bytes at @iova to guest RAM at OFF_K_BACK through the edu
 * buffer, after poisoning OFF_K_BACK; whether they are pattern @seed.
 */
static bool edu_reads_pattern(struct vmm *v, uint64_t iova, uint64_t seed)
{
	pk_fill(v->ram + OFF_K_BACK, DMA_LEN, seed + 1, 0);
	__sync_synchronize();
	if (!edu_dma_in(&v->edu, iova, DMA_LEN) ||
	    !edu_dma_out(&v->edu, IOVA_BASE + OFF_K_BACK, DMA_LEN))
		return false;
	__sync_synchronize();
	return pk_check(v->ram + OFF_K_BACK, DMA_LEN, seed, 0) < 0;
}

/*
 * Stage 1: a view of guest RAM that the process can only read, private
 * here, may still be mapped for the device to read.  VFIO resolves guest
 * RAM a block at a time only through a shared mapping; this one takes the
 * page-by-page path, and must not be refused (it was: EFAULT).
 */
static void check_map_readonly(struct vmm *v, uint64_t seed)
{
	const size_t half = RAM_SIZE / 2;
	uint8_t *p;
	int ret;

	pk_fill(v->ram + OFF_K, DMA_LEN, seed + SEED_READONLY, 0);
	p = mmap(NULL, half, PROT_READ, MAP_PRIVATE, v->ram_fd, 0);
	if (p == MAP_FAILED)
		ksft_exit_fail_msg("mmap guest RAM read-only: %s\n",
				   strerror(errno));
	ret = vfio_dma_map_flags(v->container, p, IOVA_UNMAPPED, half,
				 VFIO_DMA_MAP_FLAG_READ);
	ksft_test_result(!ret,
			 "MAP_DMA for device reads of a private read-only mapping of guest RAM (%s)\n",
			 strerror(-ret));
	ksft_test_result(!ret && edu_reads_pattern(v, IOVA_UNMAPPED + OFF_K,
						   seed + SEED_READONLY),
			 "edu: reads guest RAM through it\n");
	if (!ret)
		vfio_dma_unmap(v->container, IOVA_UNMAPPED, half);
	munmap(p, half);
}

/*
 * Guest RAM as a vaddr range whose second half maps the first half of the
 * file again: IOVA_BASE + RAM_SIZE / 2 does not map that page.
 */
static uint8_t *ram_wrong_second_half(struct vmm *v)
{
	const size_t half = RAM_SIZE / 2;
	uint8_t *p;

	p = mmap(NULL, RAM_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED ||
	    mmap(p, half, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 v->ram_fd, 0) == MAP_FAILED ||
	    mmap(p + half, half, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, v->ram_fd, 0) == MAP_FAILED)
		ksft_exit_fail_msg("mmap guest RAM twice: %s\n",
				   strerror(errno));
	return p;
}

/* The hardware view ------------------------------------------------------ */

/*
 * Stage 1: what the unit is given, from the driver's debugfs rather than
 * from pkernfs: edu #1's context entry must lead to the page tables that
 * pkernfs says dom-0 holds, and edu #2's to other ones.
 */
static void record_hw_view(struct state *st, const char *bdf, const char *bdf2)
{
	struct vtd_context c2;
	int ret;

	ret = vtd_root_table_addr(&st->rta);
	ksft_test_result(!ret, "VT-d root table address register: %#" PRIx64 " (%s)\n",
			 st->rta, strerror(-ret));
	ret = vtd_context_of(bdf, &st->ctx);
	ksft_test_result(!ret && vtd_context_pgd(&st->ctx) == pgd_addr(st->pgd),
			 "edu: its context entry translates through %s's page tables (ASR %#" PRIx64 ", DID %u: %s)\n",
			 DOM_FILE, vtd_context_pgd(&st->ctx),
			 vtd_context_did(&st->ctx), strerror(-ret));
	if (!bdf2)
		return;
	ret = vtd_context_of(bdf2, &c2);
	st->edu2_pgd = ret ? 0 : vtd_context_pgd(&c2);
	ksft_test_result(!ret && st->edu2_pgd != vtd_context_pgd(&st->ctx),
			 "edu #2: its context entry translates through other page tables (ASR %#" PRIx64 ", DID %u: %s)\n",
			 st->edu2_pgd, ret ? 0 : vtd_context_did(&c2),
			 strerror(-ret));
}

/*
 * Stage 2, before the VMM re-attaches: the unit walks the same root table,
 * and edu #1's context entry is, bit for bit, the one stage 1 left.
 */
static void check_kept_context(const struct state *st, const char *bdf)
{
	struct vtd_context c = { 0 };
	uint64_t rta = 0;
	int ret;

	ret = vtd_root_table_addr(&rta);
	ksft_test_result(!ret && rta == st->rta,
			 "VT-d root table address register unchanged across the kexec (%#" PRIx64 ", was %#" PRIx64 ")\n",
			 rta, st->rta);
	ret = vtd_context_of(bdf, &c);
	ksft_test_result(!ret && c.lo == st->ctx.lo && c.hi == st->ctx.hi,
			 "edu: its context entry is the one stage 1 left (%#018" PRIx64 ":%#018" PRIx64 ", was %#018" PRIx64 ":%#018" PRIx64 ": %s)\n",
			 c.hi, c.lo, st->ctx.hi, st->ctx.lo, strerror(-ret));
}

/*
 * Before the VMM re-attaches, the device runs on tables that no domain owns
 * yet, into guest RAM that no mapping pins: pkernfs must let neither file
 * go, or their blocks would become some other file's while the device
 * writes them.  The previous kernel marked both on media; other files are
 * free to change.
 */
static void check_kept_files_held(struct vmm *v)
{
	char path[PATH_MAX];
	int fd, ret;

	if (!pathat(path, sizeof(path), DOM_FILE)) {
		ret = unlink(path) ? -errno : 0;
		ksft_test_result(ret == -EBUSY,
				 "unlink %s before the VMM re-attaches: EBUSY (%s)\n",
				 DOM_FILE, ret ? strerror(-ret) : "unlinked");
	}
	if (!pathat(path, sizeof(path), GUEST_RAM)) {
		ret = unlink(path) ? -errno : 0;
		ksft_test_result(ret == -EBUSY,
				 "unlink guest RAM before the VMM re-attaches: EBUSY (%s)\n",
				 ret ? strerror(-ret) : "unlinked");
	}
	ret = ftruncate(v->ram_fd, RAM_SIZE / 2) ? -errno : 0;
	ksft_test_result(ret == -EBUSY,
			 "truncate guest RAM before the VMM re-attaches: EBUSY (%s)\n",
			 ret ? strerror(-ret) : "truncated");

	/* Only the files the kept domain uses are held (their DMA marks). */
	ret = pathat(path, sizeof(path), "unrelated");
	fd = ret ? -1 : open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		ret = ftruncate(fd, 2 << 20) || ftruncate(fd, 4096) ||
		      unlink(path) ? -errno : 0;
		close(fd);
	} else if (!ret) {
		ret = -errno;
	}
	ksft_test_result(!ret,
			 "a file no domain uses: created, truncated, unlinked before the VMM re-attaches (%s)\n",
			 strerror(-ret));
}

/*
 * A LIVE_UPDATE re-declaration of all guest RAM, from @vaddr with @flags,
 * that must fail with EINVAL.  Should it be accepted, it is undone, so
 * that the checks after it still find only what the live update kept.
 */
static void expect_live_update_refused(struct vmm *v, void *vaddr,
				       uint32_t flags, const char *what)
{
	int ret;

	ret = vfio_dma_map_flags(v->container, vaddr, IOVA_BASE, RAM_SIZE,
			    flags | VFIO_DMA_MAP_FLAG_LIVE_UPDATE);
	ksft_test_result(ret == -EINVAL, "MAP_DMA LIVE_UPDATE %s: EINVAL (%s)\n",
			 what, ret ? strerror(-ret) : "accepted");
	if (!ret)
		vfio_dma_unmap(v->container, IOVA_BASE, RAM_SIZE);
}

/*
 * LIVE_UPDATE calls that must fail, and fail without touching what the
 * live update kept: the real call that follows needs all of it.
 */
static void check_live_update_refusals(struct vmm *v)
{
	const uint32_t rw = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	uint8_t *wrong;

	expect_live_update_refused(v, v->ram, VFIO_DMA_MAP_FLAG_VADDR,
				   "together with VADDR");
	/* Kept read-write: re-declared read-only, the device could write. */
	expect_live_update_refused(v, v->ram, VFIO_DMA_MAP_FLAG_READ,
				   "read-only of guest RAM kept read-write");
	/* The first 2 MiB check out, the next ones do not. */
	wrong = ram_wrong_second_half(v);
	expect_live_update_refused(v, wrong, rw, "failing after its first 2 MiB");
	munmap(wrong, RAM_SIZE);
}

/* Stage 1: the mappings stage 2 will not re-declare. */
static void map_kept_extra(struct vmm *v)
{
	uint64_t iova[] = { IOVA_KEPT_OVER, IOVA_KEPT_UNMAP };
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(iova); i++) {
		ret = vfio_dma_map(v->container, v->ram + KEPT_LEN, iova[i],
			      KEPT_LEN, 0);
		ksft_test_result(!ret,
				 "MAP_DMA the second half of guest RAM at IOVA %#" PRIx64 " too, not to be re-declared (%s)\n",
				 iova[i], strerror(-ret));
	}
}

static void stage1(const char *bdf, const char *bdf2)
{
	bool defer = getenv("PKERNFS_VFIO_DEFER") &&
		     !strcmp(getenv("PKERNFS_VFIO_DEFER"), "1");
	struct vmm v, v2 = { .container = -1 };
	struct state st = { 0 };
	const char *env;
	int64_t unmapped;
	uint16_t cmd = 0;
	bool ok;
	int ret;

	env = getenv("PKERNFS_VFIO_SEED");
	st.seed = env ? strtoull(env, NULL, 0) :
			((uint64_t)time(NULL) << 20) ^ getpid();
	ksft_print_msg("stage 1%s, seed %#" PRIx64 ", %s%s%s\n",
		       no_persist ? " without persistence" : "", st.seed, bdf,
		       bdf2 ? " and " : "", bdf2 ? bdf2 : "");

	vmm_init(&v, bdf);
	if (ram_open(&v, true))
		ksft_exit_fail_msg("cannot create guest RAM\n");
	ksft_test_result_pass("guest RAM: %s/%s, %llu MiB, mmap'd shared\n",
			      mnt, GUEST_RAM, RAM_SIZE >> 20);

	if (!no_persist) {
		if (!have_iommu_dir())
			ksft_exit_fail_msg("%s/iommu: no such directory (set PKERNFS_VFIO_NO_PERSIST=1 on kernels without persistent IOMMU page tables)\n",
					   mnt);
		ret = dom_open(&v, true);
		ksft_test_result(!ret, "create %s\n", DOM_FILE);
		if (ret)
			ksft_exit_fail_msg("cannot continue without %s\n",
					   DOM_FILE);
		check_no_access(v.dom_fd, DOM_FILE, true);
	}

	vmm_container(&v);
	if (!no_persist) {
		ret = ioctl(v.container, VFIO_CHECK_EXTENSION,
			    VFIO_PERSISTENT_PGTABLES);
		ksft_test_result(ret == 1,
				 "VFIO_CHECK_EXTENSION(VFIO_PERSISTENT_PGTABLES): 1 (%d)\n",
				 ret);
		check_set_persistent_refusals();
	}
	/* Only an iommu/ file can hold page tables. */
	ret = vfio_set_persistent(v.container, v.ram_fd);
	ksft_test_result(ret, "SET_PERSISTENT_PGTABLES refuses a file outside iommu/ (%s)\n",
			 ret ? strerror(-ret) : "accepted");
	if (!no_persist) {
		ret = vfio_set_persistent(v.container, v.dom_fd);
		ksft_test_result(!ret, "SET_PERSISTENT_PGTABLES %s (%s)\n",
				 DOM_FILE, strerror(-ret));
	}
	ret = vfio_set_iommu(v.container);
	if (ret)
		ksft_exit_fail_msg("VFIO_SET_IOMMU: %s\n", strerror(-ret));
	ksft_test_result_pass("VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU)\n");
	if (!no_persist) {
		ret = vfio_set_persistent(v.container, v.dom_fd);
		ksft_test_result(ret, "SET_PERSISTENT_PGTABLES refused after VFIO_SET_IOMMU (%s)\n",
				 ret ? strerror(-ret) : "accepted");
	}

	ret = vfio_dma_map(v.container, v.ram, IOVA_BASE, RAM_SIZE, 0);
	ksft_test_result(!ret, "MAP_DMA guest RAM at IOVA %#llx (%s)\n",
			 IOVA_BASE, strerror(-ret));
	if (ret)
		ksft_exit_fail_msg("cannot continue without the DMA mapping\n");

	if (!no_persist) {
		check_map_refusals(&v);
		map_kept_extra(&v);
		kmsg_pgd(st.pgd, sizeof(st.pgd));
		ksft_test_result(st.pgd[0], "kernel log: %s%s\n", PGD_PREFIX,
				 st.pgd[0] ? st.pgd : "(no such line)");
		demo("VMM: guest RAM is pkernfs file %s (%llu MiB), mapped for DMA at IOVA %#llx\n",
		     GUEST_RAM, RAM_SIZE >> 20, IOVA_BASE);
		demo("VMM: its IOMMU page tables are pkernfs file %s (PGD %#llx)\n",
		     DOM_FILE, pgd_addr(st.pgd));
	}

	if (vfio_dev_open(&v.edu))
		ksft_exit_fail_msg("cannot open %s through VFIO\n", bdf);
	if (pci_enable_dma(&v.edu))
		ksft_exit_fail_msg("cannot enable %s\n", bdf);
	ret = pci_cfg_read16(&v.edu, PCI_COMMAND, &cmd);
	ksft_test_result(!ret && (cmd & PCI_COMMAND_MASTER),
			 "edu: bus mastering on (command %#06x)\n", cmd);
	check_ident(&v.edu, "edu");

	ok = edu_round_trip(&v.edu, v.ram, IOVA_BASE, OFF_A, OFF_A_BACK,
			    DMA_LEN, st.seed + SEED_A);
	ksft_test_result(ok, "edu: DMA pattern A RAM %#llx -> edu -> RAM %#llx\n",
			 OFF_A, OFF_A_BACK);
	demo("edu: %s %d KiB into guest RAM through IOVA %#llx\n",
	     ok ? "DMA'd" : "FAIL: could not DMA", DMA_LEN / 1024,
	     IOVA_BASE + OFF_A_BACK);

	check_msi(&v.edu, IOVA_BASE + OFF_A);
	if (!no_persist)
		check_map_readonly(&v, st.seed);

	bar_wr32(&v.edu, EDU_REG_LIVENESS, LIVENESS_VALUE);
	ksft_test_result(bar_rd32(&v.edu, EDU_REG_LIVENESS) == ~LIVENESS_VALUE,
			 "edu: liveness register holds ~%#x\n", LIVENESS_VALUE);

	if (bdf2)
		edu2_round_trip(bdf2, st.seed + SEED_EDU2, !no_persist, &v2);

	if (no_persist) {
		if (bdf2)
			edu2_negative(bdf2, &v, st.seed + SEED_CANARY);
		unmapped = vfio_dma_unmap(v.container, IOVA_BASE, RAM_SIZE);
		ksft_test_result(unmapped == (int64_t)RAM_SIZE,
				 "UNMAP_DMA guest RAM (%" PRId64 ")\n", unmapped);
		pci_cfg_write16(&v.edu, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);
		vmm_close(&v);
		return;
	}

	record_hw_view(&st, bdf, bdf2);

	/* Pattern B into the edu buffer, poison where it is going. */
	pk_fill(v.ram + OFF_B_SRC, DMA_LEN, st.seed + SEED_B, 0);
	pk_fill(v.ram + OFF_B, DMA_LEN, st.seed + SEED_POISON, 0);
	__sync_synchronize();
	ksft_test_result(edu_dma_in(&v.edu, IOVA_BASE + OFF_B_SRC, DMA_LEN),
			 "edu: pattern B loaded into the edu buffer\n");
	ret = msync(v.ram, RAM_SIZE, MS_SYNC) ? -errno : 0;
	ksft_test_result(!ret, "msync guest RAM (%s)\n", strerror(-ret));

	ret = state_save(&st);
	ksft_test_result(!ret, "notes for stage 2 in %s (%s)\n", state_path(),
			 strerror(-ret));

	if (!defer) {
		edu_dma_start(&v.edu, EDU_BUF, IOVA_BASE + OFF_B, DMA_LEN,
			      true);
		ksft_print_msg("edu: DMA edu -> RAM %#llx started, not waited for\n",
			       OFF_B);
	} else {
		ksft_print_msg("edu: DMA edu -> RAM %#llx armed: it starts on SIGUSR1 to the holder\n",
			       OFF_B);
	}
	demo("VMM: stays open through the kexec; edu starts one more %d KiB DMA (IOVA %#llx) %s\n",
	     DMA_LEN / 1024, IOVA_BASE + OFF_B,
	     defer ? "right before it" : "now");
	demo_failures();
	hold(&v, bdf2 ? &v2 : NULL, defer);
}

/* Whether the kernel logged a DMAR read fault of @bdf at @iova. */
static bool dmar_read_fault(const char *bdf, uint64_t iova)
{
	char needle[96], *line;

	sleep_ms(300);		/* the fault is reported by an interrupt */
	snprintf(needle, sizeof(needle),
		 "[DMA Read NO_PASID] Request device [%s] fault addr %#" PRIx64 " ",
		 strncmp(bdf, "0000:", 5) ? bdf : bdf + 5, iova);
	line = kmsg_find(needle);
	free(line);
	return line;
}

/*
 * Whether VFIO maps with 4 KiB IOMMU pages only (the vfio-4k scenario),
 * rather than with the largest the IOMMU has (2 MiB on QEMU's VT-d).
 */
static bool small_iommu_pages(void)
{
	FILE *f = fopen("/sys/module/vfio_iommu_type1/parameters/disable_hugepages",
			"r");
	int c = f ? fgetc(f) : EOF;

	if (f)
		fclose(f);
	return c == 'Y';
}

/*
 * Stage 2: the two mappings of stage 1 that were not re-declared are still
 * live, and MAP_DMA and UNMAP_DMA deal with them although VFIO has no
 * record of them: an UNMAP_DMA removes one, a MAP_DMA maps over the other,
 * and neither ever splits the 2 MiB IOMMU page they are made of.  The
 * first 4 KiB under such a page is what a page-table walk that took the
 * page for a table would write into.  Made of 4 KiB IOMMU pages, they
 * split nowhere: 4 KiB of one can be unmapped, or mapped over, alone.
 */
static void check_kept_not_redeclared(struct vmm *v, const char *bdf,
				      uint64_t seed)
{
	uint8_t *kept = v->ram + KEPT_LEN;
	bool small = small_iommu_pages();
	int64_t unmapped;
	bool reads;
	ssize_t bad;
	int ret;

	pk_fill(kept + OFF_K, DMA_LEN, seed + SEED_K_OLD, 0);
	pk_fill(v->ram + OFF_K, DMA_LEN, seed + SEED_K_NEW, 0);
	ksft_test_result(edu_reads_pattern(v, IOVA_KEPT_UNMAP + OFF_K,
					   seed + SEED_K_OLD),
			 "edu: IOVA %#llx, mapped in stage 1 and not re-declared, still reads guest RAM\n",
			 IOVA_KEPT_UNMAP);

	/* 4 KiB inside the 2 MiB page: unmapping it would split the page. */
	pk_fill(kept, 4096, seed + SEED_K_OLD, 0);
	unmapped = vfio_dma_unmap(v->container, IOVA_KEPT_UNMAP + 4096, 4096);
	if (small)
		ksft_test_result(!unmapped,
				 "UNMAP_DMA of one kept 4 KiB IOMMU page nobody re-declared: done, 0 tracked bytes (%s)\n",
				 unmapped < 0 ? strerror(-unmapped) : "ok");
	else
		ksft_test_result(unmapped == -EBUSY,
				 "UNMAP_DMA of 4 KiB inside a kept 2 MiB IOMMU page nobody re-declared: EBUSY (%s)\n",
				 unmapped < 0 ? strerror(-unmapped) : "unmapped");
	bad = pk_check(kept, 4096, seed + SEED_K_OLD, 0);
	reads = edu_reads_pattern(v, IOVA_KEPT_UNMAP + OFF_K,
				  seed + SEED_K_OLD);
	ksft_test_result(bad < 0 && reads,
			 "the rest of the kept mapping is whole: guest RAM under it intact (%s), edu still reads it\n",
			 bad < 0 ? "yes" : "no");
	if (small) {
		edu_reads_pattern(v, IOVA_KEPT_UNMAP + 4096, seed + SEED_K_OLD);
		ksft_test_result(dmar_read_fault(bdf, IOVA_KEPT_UNMAP + 4096),
				 "edu: a DMA read of the unmapped 4 KiB at IOVA %#llx faults\n",
				 IOVA_KEPT_UNMAP + 4096);
		/* The next fault must reach the log: let the window pass. */
		sleep_ms(DMAR_LOG_WINDOW_MS);
	}

	unmapped = vfio_dma_unmap(v->container, IOVA_KEPT_UNMAP, KEPT_LEN);
	ksft_test_result(!unmapped,
			 "UNMAP_DMA of the kept mapping at IOVA %#llx: done, 0 tracked bytes (%" PRId64 ")\n",
			 IOVA_KEPT_UNMAP, unmapped);
	edu_reads_pattern(v, IOVA_KEPT_UNMAP + OFF_K, seed + SEED_K_OLD);
	ksft_test_result(dmar_read_fault(bdf, IOVA_KEPT_UNMAP + OFF_K),
			 "edu: a DMA read of IOVA %#llx now faults\n",
			 IOVA_KEPT_UNMAP + OFF_K);

	/* A 4 KiB page would go into the 2 MiB page, taken for a table. */
	pk_fill(kept, 4096, seed + SEED_K_OLD, 0);
	ret = vfio_dma_map(v->container, v->ram + OFF_K, IOVA_KEPT_OVER + OFF_K,
		      4096, 0);
	if (small)
		ksft_test_result(!ret,
				 "MAP_DMA of 4 KiB over one kept 4 KiB IOMMU page nobody re-declared (%s)\n",
				 strerror(-ret));
	else
		ksft_test_result(ret == -EBUSY,
				 "MAP_DMA of 4 KiB inside a kept 2 MiB IOMMU page nobody re-declared: EBUSY (%s)\n",
				 strerror(-ret));
	if (!ret)
		vfio_dma_unmap(v->container, IOVA_KEPT_OVER + OFF_K, 4096);
	bad = pk_check(kept, 4096, seed + SEED_K_OLD, 0);
	ksft_test_result(bad < 0, "guest RAM under the kept mapping intact\n");

	ret = vfio_dma_map(v->container, v->ram, IOVA_KEPT_OVER, KEPT_LEN, 0);
	ksft_test_result(!ret,
			 "MAP_DMA the first half of guest RAM over the kept mapping at IOVA %#llx (%s)\n",
			 IOVA_KEPT_OVER, strerror(-ret));
	ksft_test_result(!ret && edu_reads_pattern(v, IOVA_KEPT_OVER + OFF_K,
						   seed + SEED_K_NEW),
			 "edu: IOVA %#llx reads the new mapping's memory\n",
			 IOVA_KEPT_OVER + OFF_K);
	if (!ret) {
		unmapped = vfio_dma_unmap(v->container, IOVA_KEPT_OVER, KEPT_LEN);
		ksft_test_result(unmapped == (int64_t)KEPT_LEN,
				 "UNMAP_DMA of it (%" PRId64 ")\n", unmapped);
	}
}

/*
 * Only the first open after the live update finds the device running: a
 * VMM that opens it later on the same boot, even through a persistent
 * container of its own, gets it reset as at any open.
 */
static void check_later_open_resets(const char *bdf)
{
	char path[PATH_MAX], needle[128];
	unsigned int before, after;
	int fd = -1, ret;
	struct vmm v;

	/* "vfio-pci BDF: kept running...": this edu's, not another device's. */
	snprintf(needle, sizeof(needle), "%s: %s", bdf, NO_RESET_MSG);
	free(kmsg_find_count(needle, &before));
	vmm_init(&v, bdf);
	vmm_container(&v);
	ret = pathat(path, sizeof(path), DOM_FILE2);
	if (!ret) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		ret = fd < 0 ? -errno : vfio_set_persistent(v.container, fd);
	}
	if (!ret)
		ret = vfio_set_iommu(v.container);
	if (!ret)
		ret = vfio_dev_open(&v.edu);
	free(kmsg_find_count(needle, &after));
	ksft_test_result(!ret && before == 1 && after == before,
			 "a later VMM on the same boot, with a persistent container of its own, gets edu reset (%s; \"%s\": %u, then %u)\n",
			 strerror(-ret), NO_RESET_MSG, before, after);
	vmm_close(&v);
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

static void stage2(const char *bdf, const char *bdf2)
{
	bool same_pgd, landed, new_dma, kept_master;
	struct vtd_context ctx = { 0 };
	uint16_t cmd = 0, cmd0 = 0;
	struct dma_loop loop;
	char path[PATH_MAX];
	unsigned int faults;
	int64_t unmapped;
	struct state st;
	int dmas, ret;
	struct vmm v;
	uint64_t pgd;
	ssize_t bad;

	ret = state_load(&st);
	if (ret)
		ksft_exit_fail_msg("%s: %s (did stage 1 run?)\n", state_path(),
				   strerror(-ret));
	ksft_print_msg("stage 2, seed %#" PRIx64 ", stage 1 PGD %s\n", st.seed,
		       st.pgd[0] ? st.pgd : "unknown");
	if (!have_iommu_dir())
		ksft_exit_fail_msg("%s/iommu: no such directory\n", mnt);

	vmm_init(&v, bdf);
	if (ram_open(&v, false))
		ksft_exit_fail_msg("cannot open guest RAM\n");
	ksft_test_result_pass("guest RAM: %s/%s re-opened\n", mnt, GUEST_RAM);
	ret = dom_open(&v, false);
	ksft_test_result(!ret, "re-open %s\n", DOM_FILE);
	if (ret)
		ksft_exit_fail_msg("cannot continue without %s\n", DOM_FILE);
	check_no_access(v.dom_fd, DOM_FILE, false);
	check_kept_files_held(&v);
	check_kept_context(&st, bdf);

	/* The command register, as the new kernel left it. */
	ret = pci_sysfs_command(bdf, &cmd0);
	kept_master = !ret && (cmd0 & PCI_COMMAND_MASTER);
	ksft_test_result(kept_master,
			 "edu: bus mastering still on after vfio-pci probe, before VFIO open (command %#06x)\n",
			 cmd0);

	ret = dma_loop_start(bdf, &loop);
	ksft_test_result(!ret, "edu: DMA from guest RAM through the kept tables, in a loop (%s)\n",
			 strerror(-ret));
	if (ret)
		ksft_exit_fail_msg("cannot re-attach under DMA\n");

	vmm_container(&v);
	ret = vfio_set_persistent(v.container, v.dom_fd);
	ksft_test_result(!ret, "SET_PERSISTENT_PGTABLES %s again (%s)\n",
			 DOM_FILE, strerror(-ret));
	ret = vfio_set_iommu(v.container);
	if (ret)
		ksft_exit_fail_msg("VFIO_SET_IOMMU: %s\n", strerror(-ret));
	ksft_test_result_pass("VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU)\n");

	check_live_update_refusals(&v);

	/* Before the real one: the right IOVA with the wrong page. */
	ret = vfio_dma_map(v.container, v.ram, IOVA_BASE + RAM_SIZE - 4096, 4096,
		      VFIO_DMA_MAP_FLAG_LIVE_UPDATE);
	ksft_test_result(ret == -EINVAL,
			 "MAP_DMA LIVE_UPDATE of a page that IOVA %#llx does not map: EINVAL (%s)\n",
			 IOVA_BASE + RAM_SIZE - 4096, strerror(-ret));

	ret = vfio_dma_map(v.container, v.ram, IOVA_BASE, RAM_SIZE,
		      VFIO_DMA_MAP_FLAG_LIVE_UPDATE);
	ksft_test_result(!ret, "MAP_DMA LIVE_UPDATE guest RAM at IOVA %#llx, all of it still kept (%s)\n",
			 IOVA_BASE, strerror(-ret));
	if (ret)
		ksft_exit_fail_msg("cannot continue without the DMA mapping\n");

	dmas = dma_loop_stop(&loop);
	faults = dmar_faults(bdf);
	ksft_test_result(dmas > 0 && !faults,
			 "edu: %d DMAs went on through the re-attach, %u DMAR faults\n",
			 dmas, faults);

	ret = vtd_context_of(bdf, &ctx);
	same_pgd = !ret && vtd_context_pgd(&ctx) == vtd_context_pgd(&st.ctx);
	ksft_test_result(same_pgd,
			 "edu: its context entry translates through the same page tables after the re-attach (ASR %#" PRIx64 ", was %#" PRIx64 ")\n",
			 vtd_context_pgd(&ctx), vtd_context_pgd(&st.ctx));
	ksft_test_result(!ret && ctx.lo == st.ctx.lo && ctx.hi == st.ctx.hi,
			 "edu: the re-attach took the kept context entry over as it was (DID %u, was %u)\n",
			 vtd_context_did(&ctx), vtd_context_did(&st.ctx));
	pgd = vtd_context_pgd(&ctx);

	ret = vfio_dma_map(v.container, v.ram, IOVA_UNMAPPED, 4096,
		      VFIO_DMA_MAP_FLAG_LIVE_UPDATE);
	ksft_test_result(ret == -EINVAL,
			 "MAP_DMA LIVE_UPDATE of never-mapped IOVA %#llx: EINVAL (%s)\n",
			 IOVA_UNMAPPED, strerror(-ret));
	if (!ret)
		vfio_dma_unmap(v.container, IOVA_UNMAPPED, 4096);

	bad = pk_check(v.ram + OFF_B, DMA_LEN, st.seed + SEED_B, 0);
	landed = bad < 0;
	ksft_test_result(bad < 0,
			 "in-flight DMA of pattern B landed in guest RAM at %#llx\n",
			 OFF_B);
	if (bad >= 0)
		ksft_print_msg("byte %#zx: %s\n", bad,
			       pk_check(v.ram + OFF_B, DMA_LEN,
					st.seed + SEED_POISON, 0) < 0 ?
			       "still the stage 1 poison: the DMA never landed" :
			       "neither pattern B nor the poison");
	bad = pk_check(v.ram + OFF_A_BACK, DMA_LEN, st.seed + SEED_A, 0);
	ksft_test_result(bad < 0, "stage 1 DMA result at %#llx intact\n",
			 OFF_A_BACK);

	if (vfio_dev_open(&v.edu))
		ksft_exit_fail_msg("cannot open %s through VFIO\n", bdf);
	/*
	 * A reset by the open (FLR, or a reset of the root port's secondary
	 * bus) would clear the command register: edu's own registers have
	 * no reset handler in QEMU and would tell nothing.
	 */
	ret = pci_cfg_read16(&v.edu, PCI_COMMAND, &cmd);
	kept_master &= !ret && (cmd & PCI_COMMAND_MASTER);
	ksft_test_result(!ret && (cmd & PCI_COMMAND_MASTER),
			 "edu: not reset by the VFIO open, bus mastering still on (command %#06x)\n",
			 cmd);
	if (pci_enable_dma(&v.edu))
		ksft_exit_fail_msg("cannot enable %s\n", bdf);
	check_ident(&v.edu, "edu");

	new_dma = edu_round_trip(&v.edu, v.ram, IOVA_BASE, OFF_C, OFF_C_BACK,
				 DMA_LEN, st.seed + SEED_C);
	ksft_test_result(new_dma,
			 "edu: DMA a new pattern RAM %#llx -> edu -> RAM %#llx through the same IOVAs\n",
			 OFF_C, OFF_C_BACK);
	check_msi(&v.edu, IOVA_BASE + OFF_C);

	demo("after kexec: new VMM re-attached %s, MAP_DMA with VFIO_DMA_MAP_FLAG_LIVE_UPDATE\n",
	     DOM_FILE);
	if (same_pgd)
		demo("after kexec: same page tables (PGD %#" PRIx64 "), ", pgd);
	else
		demo("after kexec: FAIL: other page tables (PGD %#" PRIx64 ", was %#" PRIx64 "), ",
		     pgd, vtd_context_pgd(&st.ctx));
	demo("%s, %s\n",
	     landed ? "in-flight DMA landed" : "FAIL: in-flight DMA lost",
	     new_dma ? "new DMA OK" : "FAIL: new DMA failed");
	demo("after kexec: edu %s bus mastering (command %#06x), %s\n",
	     kept_master ? "kept" : "FAIL: lost", cmd0,
	     kept_master ? "never reset" : "FAIL: reset or stopped");

	if (bdf2) {
		edu2_negative(bdf2, &v, st.seed + SEED_CANARY);
		edu2_old_entry_gone(bdf2, &st);
	}

	check_kept_not_redeclared(&v, bdf, st.seed);
	check_root_pgtables();
	if (!pathat(path, sizeof(path), DOM_FILE)) {
		ret = unlink(path) ? -errno : 0;
		ksft_test_result(ret == -EBUSY,
				 "unlink %s while its domain is live: EBUSY (%s)\n",
				 DOM_FILE, ret ? strerror(-ret) : "unlinked");
	}
	ret = ftruncate(v.ram_fd, RAM_SIZE / 2) ? -errno : 0;
	ksft_test_result(ret == -EBUSY,
			 "truncate DMA-mapped guest RAM: EBUSY (%s)\n",
			 ret ? strerror(-ret) : "truncated");
	if (!pathat(path, sizeof(path), GUEST_RAM)) {
		ret = unlink(path) ? -errno : 0;
		ksft_test_result(ret == -EBUSY,
				 "unlink DMA-mapped guest RAM: EBUSY (%s)\n",
				 ret ? strerror(-ret) : "unlinked");
	}

	unmapped = vfio_dma_unmap(v.container, IOVA_BASE, RAM_SIZE);
	ksft_test_result(unmapped == (int64_t)RAM_SIZE,
			 "UNMAP_DMA guest RAM (%" PRId64 ")\n", unmapped);
	pci_cfg_write16(&v.edu, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);
	vmm_close(&v);
	check_later_open_resets(bdf);

	/* With the domain gone, its page-table file is an ordinary name. */
	if (!pathat(path, sizeof(path), DOM_FILE)) {
		ret = unlink(path) ? -errno : 0;
		ksft_test_result(!ret, "unlink %s once its domain is gone (%s)\n",
				 DOM_FILE, strerror(-ret));
	}
	demo_failures();
}

/*
 * On the 'liveupdate' boot, give the kept device up instead of taking its
 * domain over: attach it to an ordinary container.  Its context entry must
 * stop walking the kept tables, and DMA through the IOVAs they mapped must
 * fault.  The scenario then finds the files free again.
 */
static void release_kept(const char *bdf)
{
	struct vtd_context ctx = { 0 };
	struct state st;
	struct vmm v;
	int ret;

	ret = state_load(&st);
	if (ret)
		ksft_exit_fail_msg("%s: %s (did stage 1 run?)\n", state_path(),
				   strerror(-ret));
	ret = vtd_context_of(bdf, &ctx);
	ksft_test_result(!ret && vtd_context_pgd(&ctx) == vtd_context_pgd(&st.ctx),
			 "edu: the kept context entry walks stage 1's tables (ASR %#" PRIx64 ", was %#" PRIx64 ")\n",
			 vtd_context_pgd(&ctx), vtd_context_pgd(&st.ctx));

	vmm_init(&v, bdf);
	vmm_container(&v);
	ret = vfio_set_iommu(v.container);
	ksft_test_result(!ret, "an ordinary container takes edu over (VFIO_SET_IOMMU: %s)\n",
			 strerror(-ret));
	ret = vtd_context_of(bdf, &ctx);
	ksft_test_result(ret == -ENOENT ||
			 (!ret && vtd_context_pgd(&ctx) != vtd_context_pgd(&st.ctx)),
			 "edu: its context entry no longer walks the kept tables (%s, ASR %#" PRIx64 ")\n",
			 ret ? strerror(-ret) : "present",
			 ret ? 0 : vtd_context_pgd(&ctx));

	ret = vfio_dev_open(&v.edu);
	if (!ret)
		ret = pci_enable_dma(&v.edu);
	if (!ret) {
		edu_dma_start(&v.edu, IOVA_BASE + OFF_A, EDU_BUF, DMA_LEN,
			      false);
		edu_dma_wait(&v.edu);
	}
	ksft_test_result(!ret && dmar_read_fault(bdf, IOVA_BASE + OFF_A),
			 "edu: a DMA read of IOVA %#llx, which the kept tables mapped, faults\n",
			 IOVA_BASE + OFF_A);
	vmm_close(&v);
}

/*
 * No IOMMU unit keeps its tables in pkernfs (pkernfs.keep_iommu_root=0), as
 * for every unit but the first on a machine with several: the device would
 * keep mastering with translation off through the kexec, so a persistent
 * domain behind such a unit must be refused, and the kernel must say why.
 */
static void noroot(const char *bdf)
{
	char path[PATH_MAX], *line;
	struct vmm v;
	int ret;

	vmm_init(&v, bdf);
	if (ram_open(&v, true))
		ksft_exit_fail_msg("cannot create guest RAM\n");
	if (!have_iommu_dir())
		ksft_exit_fail_msg("%s/iommu: no such directory\n", mnt);
	if (dom_open(&v, true))
		ksft_exit_fail_msg("cannot create %s\n", DOM_FILE);
	vmm_container(&v);
	ret = vfio_set_persistent(v.container, v.dom_fd);
	ksft_test_result(!ret, "SET_PERSISTENT_PGTABLES %s (%s)\n", DOM_FILE,
			 strerror(-ret));
	ret = vfio_set_iommu(v.container);
	ksft_test_result(ret == -EOPNOTSUPP,
			 "VFIO_SET_IOMMU refuses a persistent domain on a unit whose tables are not in pkernfs: EOPNOTSUPP (%s)\n",
			 ret ? strerror(-ret) : "accepted");
	line = kmsg_find(NOROOT_MSG);
	ksft_test_result(line, "kernel log: %s\n",
			 line ? line : "no line says why (\"" NOROOT_MSG "\")");
	free(line);
	vmm_close(&v);
	if (!pathat(path, sizeof(path), DOM_FILE))
		unlink(path);
}

static void bad_args(void)
{
	fprintf(stderr,
		"usage: pkernfs_vfio [--demo] stage1|stage2 BDF [BDF2]\n"
		"       pkernfs_vfio noroot BDF\n"
		"       pkernfs_vfio release BDF\n"
		"  BDF:  an edu device (1234:11e8) bound to vfio-pci\n"
		"  BDF2: a second edu: non-persistent in stage 1, no driver in stage 2\n");
	ksft_exit_fail_msg("bad arguments\n");
}

int main(int argc, char **argv)
{
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	const char *env;
	int fd;

	if (argc > 1 && !strcmp(argv[1], "--demo")) {
		env = getenv("PKERNFS_VFIO_LOG");
		fd = dup(STDOUT_FILENO);
		demo_out = fd < 0 ? NULL : fdopen(fd, "w");
		if (!demo_out ||
		    !freopen(env && *env ? env : "/dev/null", "w", stdout)) {
			perror("pkernfs_vfio: --demo");
			return KSFT_FAIL;
		}
		argv++;
		argc--;
	}
	ksft_print_header();
	if (argc < 3 || argc > 4)
		bad_args();
	if (geteuid())
		ksft_exit_skip("must be run as root\n");
	if (access("/dev/vfio/vfio", F_OK))
		ksft_exit_skip("/dev/vfio/vfio: %s\n", strerror(errno));

	mnt = pk_mnt();
	env = getenv("PKERNFS_VFIO_NO_PERSIST");
	no_persist = env && !strcmp(env, "1");
	/* VFIO accounts pinned pages against RLIMIT_MEMLOCK. */
	setrlimit(RLIMIT_MEMLOCK, &rl);

	if (!strcmp(argv[1], "stage1"))
		stage1(argv[2], argc > 3 ? argv[3] : NULL);
	else if (!strcmp(argv[1], "stage2") && !no_persist)
		stage2(argv[2], argc > 3 ? argv[3] : NULL);
	else if (!strcmp(argv[1], "noroot") && argc == 3)
		noroot(argv[2]);
	else if (!strcmp(argv[1], "release") && argc == 3 && !no_persist)
		release_kept(argv[2]);
	else
		bad_args();

	ksft_set_plan(ksft_test_num());
	ksft_finished();
}
