// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs_qemu - a real, unmodified QEMU keeps its VM across a live update
 * of the host, with the VM's RAM in a pkernfs file.
 *
 * The VMM is Debian's qemu-system-x86_64, run from the bundle that
 * scripts/mkvmmdisk.sh puts on the scenario's disk (PKERNFS_VMM_DIR,
 * default /vmm), TCG inside the TCG test guest.  Its VM runs
 * inner/inner_guest.c, which fills its RAM with a pattern, counts, and
 * answers 's' (status) and 'v' (verify) on its serial port.
 *
 *   pkernfs_qemu start NAME MIB [-d DIR] [-p]
 *	Start the VM with MIB MiB of RAM in DIR/NAME.ram (default: the
 *	pkernfs mount; -p maps it privately, share=off) and wait until
 *	the inner guest has filled its RAM.
 *
 *   pkernfs_qemu save NAME
 *	stop; read the guest's boot id and counter from guest-physical
 *	memory (HMP xp); x-ignore-shared on; migrate the device state into
 *	the pkernfs file NAME.state; quit.  What was read goes to
 *	NAME.saved, for 'resume' in the next kernel.
 *
 *   pkernfs_qemu resume NAME [-l]
 *	Start QEMU on the same RAM file with -incoming defer -S, load
 *	NAME.state, and compare the guest's state in memory with NAME.saved
 *	before 'cont': same boot id, same counter, exactly.  Then cont and
 *	have the guest verify all of its RAM.  With -l the RAM is expected
 *	to be lost (it was on tmpfs): the check is that the loss is seen.
 *
 * A RAM file that is smaller than the VM, or one mapped privately, must be
 * refused: 'start' fails then and prints QEMU's error (the scenario
 * checks it).  Timings go to '# qemu:' lines; with PKERNFS_QEMU_BENCH set
 * to a label, 'save' and 'resume' also print "stamp EVENT LABEL TSC" lines
 * (stop, saved; qemu, restored, cont) and 'save' "sample qemu LABEL NAME
 * VALUE" lines (state_bytes, save_us) for make bench.  Output is TAP; the exit status is the kselftest one.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest.h"
#include "pkernfs_util.h"

#define SOCK_DIR	"/tmp"
/* Under TCG nested in TCG, filling 512 MiB of guest RAM takes minutes. */
#define FILL_TIMEOUT_MS	(900 * 1000)
#define QMP_TIMEOUT_MS	(120 * 1000)
/* The inner guest's struct guest_state starts with this magic. */
#define GUEST_STATE_MAGIC 0x544154534d564b50ULL	/* "PKVMSTAT" */

struct guest_state {
	uint64_t magic, boot_id, counter;
};

/* A line-oriented connection: QMP or the inner guest's serial port. */
struct conn {
	int fd;
	char buf[65536];
	size_t len;
};

static const char *name;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

/* "stamp EVENT LABEL TSC" for make bench: the TSC runs on across kexec. */
static void stamp(const char *event)
{
	const char *bench = getenv("PKERNFS_QEMU_BENCH");

	if (bench)
		printf("stamp %s %s %llu\n", event, bench,
		       (unsigned long long)__builtin_ia32_rdtsc());
}

/* "sample qemu LABEL NAME VALUE" for make bench. */
static void sample(const char *what, uint64_t value)
{
	const char *bench = getenv("PKERNFS_QEMU_BENCH");

	if (bench)
		printf("sample qemu %s %s %" PRIu64 "\n", bench, what, value);
}

/* Connect to the unix socket @path, once. */
static int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	c->len = 0;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(c->fd);
		return err;
	}
	return 0;
}

/*
 * Read one line into @line (without its end), waiting at most @timeout_ms.
 * Returns its length, -ETIMEDOUT, or -EPIPE once the peer has closed.
 */
static int conn_line(struct conn *c, char *line, size_t size, int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int64_t left = end - now_ms();
		ssize_t n;

		if (nl) {
			size_t len = nl - c->buf;

			if (len && c->buf[len - 1] == '\r')
				len--;
			if (len >= size)
				len = size - 1;
			memcpy(line, c->buf, len);
			line[len] = '\0';
			c->len -= nl + 1 - c->buf;
			memmove(c->buf, nl + 1, c->len);
			return len;
		}
		if (c->len == sizeof(c->buf))
			c->len = 0;	/* a line longer than we care about */
		if (left <= 0 || poll(&pfd, 1, left) == 0)
			return -ETIMEDOUT;
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return -EPIPE;
		c->len += n;
	}
}

/*
 * Read up to the reply to QMP command @what, skipping asynchronous events:
 * 0 with the reply in @reply, or -1 with QMP's error (or what went wrong)
 * printed.
 */
static int qmp_reply(struct conn *c, const char *what, char *reply,
		     size_t size)
{
	for (;;) {
		int len = conn_line(c, reply, size, QMP_TIMEOUT_MS);

		if (len < 0) {
			ksft_print_msg("qmp: %s: %s\n", what, strerror(-len));
			return -1;
		}
		if (strstr(reply, "\"return\""))
			return 0;
		if (strstr(reply, "\"error\"")) {
			ksft_print_msg("qmp: %s: %s\n", what, reply);
			return -1;
		}
	}
}

/* Send a QMP command, a JSON object (printf-style), and read its reply. */
static int qmp(struct conn *c, char *reply, size_t size, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	cmd[len] = '\n';
	if (write(c->fd, cmd, len + 1) != len + 1) {
		ksft_print_msg("qmp: %s: %s\n", fmt, strerror(errno));
		return -1;
	}
	cmd[len] = '\0';
	return qmp_reply(c, cmd, reply, size);
}

/*
 * Pass @fd to QEMU as "@fdname" (QMP getfd, the descriptor rides on the
 * command as SCM_RIGHTS), for a migration URI "fd:@fdname".
 */
static int qmp_getfd(struct conn *c, int fd, const char *fdname)
{
	char cmd[128], reply[4096], cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = cmd };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	iov.iov_len = snprintf(cmd, sizeof(cmd),
			       "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"%s\"}}\n",
			       fdname);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(c->fd, &msg, 0) != (ssize_t)iov.iov_len) {
		ksft_print_msg("qmp: getfd: %s\n", strerror(errno));
		return -1;
	}
	return qmp_reply(c, "getfd", reply, sizeof(reply));
}

/*
 * The migration set-up both sides need: x-ignore-shared (RAM in a shared
 * file stays out of the stream), and the state file's descriptor as
 * "state" for the URI "fd:state".
 */
static int qmp_migration_setup(struct conn *c, int state_fd)
{
	char reply[4096];

	return qmp(c, reply, sizeof(reply),
		   "{\"execute\": \"migrate-set-capabilities\", \"arguments\": {\"capabilities\": [{\"capability\": \"x-ignore-shared\", \"state\": true}]}}") ||
	       qmp_getfd(c, state_fd, "state");
}

/* The path of the file NAME.EXT in @dir. */
static const char *path_in(char *buf, size_t size, const char *dir,
			   const char *ext)
{
	snprintf(buf, size, "%s/%s.%s", dir, name, ext);
	return buf;
}

/* What QEMU said on its way out, as diagnostics. */
static void qemu_show_log(void)
{
	char log[PATH_MAX], line[512];
	FILE *f = fopen(path_in(log, sizeof(log), SOCK_DIR, "log"), "r");

	while (f && fgets(line, sizeof(line), f))
		ksft_print_msg("QEMU: %s", line);
	if (f)
		fclose(f);
}

/* Whether QEMU's output has @text in it. */
static bool qemu_log_has(const char *text)
{
	char log[PATH_MAX], line[512];
	FILE *f = fopen(path_in(log, sizeof(log), SOCK_DIR, "log"), "r");
	bool found = false;

	while (!found && f && fgets(line, sizeof(line), f))
		found = strstr(line, text);
	if (f)
		fclose(f);
	return found;
}

/*
 * Start QEMU in the background, its output in SOCK_DIR/NAME.log, RAM in
 * the file @ram, and connect to its QMP socket.  Returns QEMU's pid, or -1
 * if it exited first (a refusal: the reason is in its log) or QMP failed.
 */
static pid_t qemu_spawn(struct conn *qmpc, const char *ram, unsigned int mib,
			bool shared, bool incoming)
{
	const char *vmm = getenv("PKERNFS_VMM_DIR") ?: "/vmm";
	char ld[PATH_MAX], libs[PATH_MAX], bin[PATH_MAX], fw[PATH_MAX];
	char mods[PATH_MAX], kernel[PATH_MAX], log[PATH_MAX], qmpsock[PATH_MAX];
	char serial[PATH_MAX], chardev[PATH_MAX + 64], qmparg[PATH_MAX + 64];
	char backend[PATH_MAX + 128], mem[32], reply[4096];
	const char *argv[] = {
		/* The bundle's own loader and libraries: the guest has neither. */
		ld, "--library-path", libs, bin, "-L", fw, "-name", name,
		"-machine", "pc,memory-backend=ram", "-accel", "tcg",
		"-m", mem, "-object", backend, "-kernel", kernel,
		"-nodefaults", "-no-user-config", "-display", "none",
		"-chardev", chardev, "-serial", "chardev:serial0",
		"-qmp", qmparg,
		/* Paused once loaded, so that the harness can look first. */
		incoming ? "-incoming" : NULL, "defer", "-S", NULL,
	};
	uint64_t end;
	int status;
	pid_t pid;

	snprintf(ld, sizeof(ld), "%s/lib/ld-linux-x86-64.so.2", vmm);
	snprintf(libs, sizeof(libs), "%s/lib", vmm);
	snprintf(bin, sizeof(bin), "%s/bin/qemu-system-x86_64", vmm);
	snprintf(fw, sizeof(fw), "%s/share/qemu", vmm);
	snprintf(mods, sizeof(mods), "%s/lib/qemu", vmm);
	snprintf(kernel, sizeof(kernel), "%s/inner_guest.elf", vmm);
	snprintf(mem, sizeof(mem), "%uM", mib);
	/* share=on: the RAM is the file's pages; align=2M: pkernfs's blocks. */
	snprintf(backend, sizeof(backend),
		 "memory-backend-file,id=ram,mem-path=%s,size=%uM,align=2M,share=%s",
		 ram, mib, shared ? "on" : "off");
	snprintf(chardev, sizeof(chardev),
		 "socket,id=serial0,path=%s,server=on,wait=off",
		 path_in(serial, sizeof(serial), SOCK_DIR, "serial"));
	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off",
		 path_in(qmpsock, sizeof(qmpsock), SOCK_DIR, "qmp"));
	path_in(log, sizeof(log), SOCK_DIR, "log");

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		setsid();
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		setenv("QEMU_MODULE_DIR", mods, 1);
		execv(ld, (char **)argv);
		perror(ld);
		_exit(127);
	}

	end = now_ms() + QMP_TIMEOUT_MS;
	while (conn_open(qmpc, qmpsock)) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			ksft_print_msg("QEMU exited with status %d\n",
				       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			return -1;
		}
		if (now_ms() > end) {
			ksft_print_msg("no QMP socket %s\n", qmpsock);
			kill(pid, SIGKILL);
			return -1;
		}
		usleep(100 * 1000);
	}
	/* The greeting, then capabilities negotiation. */
	if (conn_line(qmpc, reply, sizeof(reply), QMP_TIMEOUT_MS) < 0 ||
	    qmp(qmpc, reply, sizeof(reply),
		"{\"execute\": \"qmp_capabilities\"}")) {
		kill(pid, SIGKILL);
		return -1;
	}
	return pid;
}

/* Connect to a running VM's QMP socket (no QEMU started here). */
static int qmp_attach(struct conn *qmpc)
{
	char path[PATH_MAX], reply[4096];

	if (conn_open(qmpc, path_in(path, sizeof(path), SOCK_DIR, "qmp")) ||
	    conn_line(qmpc, reply, sizeof(reply), QMP_TIMEOUT_MS) < 0 ||
	    qmp(qmpc, reply, sizeof(reply),
		"{\"execute\": \"qmp_capabilities\"}"))
		return -1;
	return 0;
}

/*
 * Whether process @pid is gone: reaped, or a zombie whose other threads
 * have all been released (then none of them holds its memory or files
 * any more).  A zombie leader alone says nothing: QEMU's main thread can
 * be one while its other threads still exit.
 */
static bool process_gone(pid_t pid)
{
	char path[64], buf[512], *fields, state;
	long threads;
	ssize_t n;
	int fd;

	waitpid(pid, NULL, WNOHANG);	/* if it is our child */
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	/* After "pid (comm) ": state, then num_threads as the 18th field. */
	fields = strrchr(buf, ')');
	if (!fields ||
	    sscanf(fields + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %ld",
		   &state, &threads) != 2)
		return false;
	return state == 'Z' && threads <= 1;
}

/*
 * Tell QEMU (process @pid) to quit and wait until it is gone: only then
 * has it let go of the RAM file.  Its QMP socket closes before that.
 */
static void qmp_quit(struct conn *qmpc, pid_t pid)
{
	uint64_t end = now_ms() + QMP_TIMEOUT_MS;
	char reply[4096];

	if (!qmp(qmpc, reply, sizeof(reply), "{\"execute\": \"quit\"}"))
		while (conn_line(qmpc, reply, sizeof(reply), QMP_TIMEOUT_MS) >= 0)
			;
	close(qmpc->fd);
	while (!process_gone(pid)) {
		if (now_ms() > end) {
			ksft_print_msg("QEMU (pid %d) does not exit\n", pid);
			kill(pid, SIGKILL);
			return;
		}
		usleep(20 * 1000);
	}
}

/*
 * The inner guest's state at guest-physical @addr, read by QEMU while the
 * VM is paused (HMP "xp": 32-bit words, low half first).
 */
static int guest_state_read(struct conn *qmpc, uint32_t addr,
			    struct guest_state *gs)
{
	uint32_t w[6];
	char reply[4096], *p;
	unsigned int n = 0;

	if (qmp(qmpc, reply, sizeof(reply),
		"{\"execute\": \"human-monitor-command\", \"arguments\": {\"command-line\": \"xp /6wx 0x%x\"}}",
		addr))
		return -1;
	for (p = strstr(reply, " 0x"); p && n < 6; p = strstr(p, " 0x"))
		w[n++] = strtoul(p + 1, &p, 16);
	if (n < 6) {
		ksft_print_msg("xp: %s\n", reply);
		return -1;
	}
	gs->magic = (uint64_t)w[1] << 32 | w[0];
	gs->boot_id = (uint64_t)w[3] << 32 | w[2];
	gs->counter = (uint64_t)w[5] << 32 | w[4];
	return 0;
}

/* QMP query @what until its "status" is one of @want ("a|b"), or failed. */
static int qmp_wait_status(struct conn *qmpc, const char *what,
			   const char *want, char *reply, size_t size)
{
	uint64_t end = now_ms() + QMP_TIMEOUT_MS;
	char status[64];

	while (now_ms() < end) {
		const char *p;
		int i = 0;

		if (qmp(qmpc, reply, size, "{\"execute\": \"%s\"}", what))
			return -1;
		p = strstr(reply, "\"status\": \"");
		if (p) {
			for (p += 11; *p && *p != '"' && i < 62; p++)
				status[i++] = *p;
			status[i] = '\0';
			if (strstr(want, status))
				return 0;
			if (!strcmp(status, "failed")) {
				ksft_print_msg("%s: %s\n", what, reply);
				return -1;
			}
		}
		usleep(50 * 1000);
	}
	ksft_print_msg("%s: still not %s: %s\n", what, want, reply);
	return -1;
}

/* Send @cmd to the inner guest and read its answer, "pkvm: @what ...". */
static int guest_ask(struct conn *serial, char cmd, const char *what,
		     char *line, size_t size, int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "pkvm: %s ", what);
	if (write(serial->fd, &cmd, 1) != 1)
		return -1;
	while (now_ms() < end) {
		int len = conn_line(serial, line, size, end - now_ms());

		if (len == -EPIPE)
			break;
		if (len >= 0 && !strncmp(line, prefix, strlen(prefix)))
			return 0;
	}
	ksft_print_msg("the inner guest did not answer '%c'\n", cmd);
	return -1;
}

struct guest_status {
	uint64_t boot_id, counter;
	uint32_t state_addr;
};

static int guest_status(struct conn *serial, struct guest_status *st,
			int timeout_ms)
{
	char line[256];

	if (guest_ask(serial, 's', "status", line, sizeof(line), timeout_ms))
		return -1;
	if (sscanf(line, "pkvm: status boot %" SCNx64 " counter %" SCNu64 " state %" SCNx32,
		   &st->boot_id, &st->counter, &st->state_addr) != 3) {
		ksft_print_msg("unexpected: %s\n", line);
		return -1;
	}
	return 0;
}

static int serial_attach(struct conn *serial)
{
	char path[PATH_MAX];

	return conn_open(serial, path_in(path, sizeof(path), SOCK_DIR, "serial"));
}

/* The record 'save' leaves for 'resume': what the guest was at 'stop'. */
struct saved_vm {
	struct guest_state gs;
	pid_t pid;		/* of the QEMU 'start' left running */
	uint32_t state_addr;
	unsigned int mib;
	char ram[PATH_MAX];
};

static int saved_write(const struct saved_vm *sv)
{
	char path[PATH_MAX];
	FILE *f = fopen(path_in(path, sizeof(path), pk_mnt(), "saved"), "w");

	if (!f)
		return -1;
	fprintf(f, "%" PRIx64 " %" PRIu64 " %" PRIx32 " %u %s\n",
		sv->gs.boot_id, sv->gs.counter, sv->state_addr, sv->mib,
		sv->ram);
	return fclose(f);
}

static int saved_read(struct saved_vm *sv)
{
	char path[PATH_MAX];
	FILE *f = fopen(path_in(path, sizeof(path), pk_mnt(), "saved"), "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%" SCNx64 " %" SCNu64 " %" SCNx32 " %u %4095s",
		   &sv->gs.boot_id, &sv->gs.counter, &sv->state_addr,
		   &sv->mib, sv->ram);
	fclose(f);
	sv->gs.magic = GUEST_STATE_MAGIC;
	return n == 5 ? 0 : -1;
}

/* Where 'start' put the VM's RAM, and QEMU's pid, for 'save'. */
static int vm_write(const char *ram, unsigned int mib, pid_t pid)
{
	char path[PATH_MAX];
	FILE *f = fopen(path_in(path, sizeof(path), SOCK_DIR, "vm"), "w");

	if (!f)
		return -1;
	fprintf(f, "%u %s %d\n", mib, ram, pid);
	return fclose(f);
}

static int vm_read(struct saved_vm *sv)
{
	char path[PATH_MAX];
	FILE *f = fopen(path_in(path, sizeof(path), SOCK_DIR, "vm"), "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%u %4095s %d", &sv->mib, sv->ram, &sv->pid);
	fclose(f);
	return n == 3 ? 0 : -1;
}

/*
 * start NAME MIB [-d DIR] [-p] [-x TEXT]: with -x, QEMU must refuse to
 * start, with TEXT in its error output.
 */
static void cmd_start(unsigned int mib, const char *dir, bool shared,
		      const char *expect)
{
	struct guest_status st;
	struct conn qmpc, serial;
	char ram[PATH_MAX];
	uint64_t t0 = now_ms();
	pid_t pid;

	ksft_set_plan(1);
	path_in(ram, sizeof(ram), dir, "ram");
	pid = qemu_spawn(&qmpc, ram, mib, shared, false);
	if (expect) {
		if (pid > 0)
			qmp_quit(&qmpc, pid);
		else if (!qemu_log_has(expect))
			qemu_show_log();
		ksft_test_result(pid < 0 && qemu_log_has(expect),
				 "%s: QEMU refuses %u MiB of RAM in %s%s: '%s'\n",
				 name, mib, ram, shared ? "" : " mapped privately",
				 expect);
		ksft_finished();
	}
	if (pid < 0) {
		qemu_show_log();
		ksft_exit_fail_msg("%s: QEMU did not start\n", name);
	}
	if (vm_write(ram, mib, pid) || serial_attach(&serial) ||
	    guest_status(&serial, &st, FILL_TIMEOUT_MS))
		ksft_exit_fail_msg("%s: no answer from the inner guest\n", name);
	ksft_print_msg("qemu: %s up and its RAM filled in %" PRIu64 " ms\n",
		       name, now_ms() - t0);
	ksft_test_result(st.boot_id & 1,
			 "%s: QEMU runs the inner guest, boot %016" PRIx64 ", %u MiB of RAM in %s\n",
			 name, st.boot_id, mib, ram);
	ksft_finished();
}

static void cmd_save(void)
{
	struct saved_vm sv = { 0 };
	struct guest_status st;
	struct conn qmpc, serial;
	char path[PATH_MAX], reply[4096];
	uint64_t t0, t1;
	struct stat sb;
	int fd;

	ksft_set_plan(2);
	if (qmp_attach(&qmpc) || serial_attach(&serial) ||
	    guest_status(&serial, &st, QMP_TIMEOUT_MS))
		ksft_exit_fail_msg("%s: not running\n", name);
	if (vm_read(&sv))
		ksft_exit_fail_msg("%s: no %s/%s.vm: not started here\n",
				   name, SOCK_DIR, name);

	stamp("stop");
	t0 = now_ms();
	if (qmp(&qmpc, reply, sizeof(reply), "{\"execute\": \"stop\"}") ||
	    guest_state_read(&qmpc, st.state_addr, &sv.gs))
		ksft_exit_fail_msg("%s: stop\n", name);
	ksft_test_result(sv.gs.magic == GUEST_STATE_MAGIC &&
			 sv.gs.boot_id == st.boot_id &&
			 sv.gs.counter >= st.counter,
			 "%s: stopped at counter %" PRIu64 " (guest memory, boot %016" PRIx64 ")\n",
			 name, sv.gs.counter, sv.gs.boot_id);

	/* x-ignore-shared: RAM in a shared file stays out of the stream. */
	fd = open(path_in(path, sizeof(path), pk_mnt(), "state"),
		  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 ||
	    qmp_migration_setup(&qmpc, fd) ||
	    qmp(&qmpc, reply, sizeof(reply),
		"{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"fd:state\"}}") ||
	    qmp_wait_status(&qmpc, "query-migrate", "completed", reply,
			    sizeof(reply)))
		ksft_exit_fail_msg("%s: migrate to %s\n", name, path);
	t1 = now_ms();
	qmp_quit(&qmpc, sv.pid);
	stamp("saved");
	if (fsync(fd) || fstat(fd, &sb))
		ksft_exit_fail_msg("%s: %s: %s\n", name, path, strerror(errno));
	close(fd);
	ksft_print_msg("qemu: %s device state saved in %" PRIu64 " ms\n",
		       name, t1 - t0);
	sample("state_bytes", sb.st_size);
	sample("save_us", (t1 - t0) * 1000);
	/* Less than a sixteenth of guest RAM: the RAM did not go in. */
	ksft_test_result(sb.st_size > 0 &&
			 (uint64_t)sb.st_size < ((uint64_t)sv.mib << 20) / 16,
			 "%s: device state %lld KiB for %u MiB of guest RAM (x-ignore-shared)\n",
			 name, (long long)sb.st_size >> 10, sv.mib);
	sv.state_addr = st.state_addr;
	if (saved_write(&sv))
		ksft_exit_fail_msg("%s: cannot write %s.saved\n", name, name);
	ksft_finished();
}

/*
 * Start QEMU on @sv's RAM file, paused, and load NAME.state into it with
 * x-ignore-shared (the RAM is the file's).  QEMU's pid once the VM is
 * loaded; -1, QEMU gone, if it could not be.
 */
static pid_t restore(struct conn *qmpc, const struct saved_vm *sv)
{
	char path[PATH_MAX], reply[4096];
	pid_t pid;
	bool ok;
	int fd;

	pid = qemu_spawn(qmpc, sv->ram, sv->mib, true, true);
	if (pid < 0)
		return -1;
	stamp("qemu");
	fd = open(path_in(path, sizeof(path), pk_mnt(), "state"),
		  O_RDONLY | O_CLOEXEC);
	ok = fd >= 0 &&
	     !qmp_migration_setup(qmpc, fd) &&
	     !qmp(qmpc, reply, sizeof(reply),
		  "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"fd:state\"}}") &&
	     !qmp_wait_status(qmpc, "query-status", "paused", reply,
			      sizeof(reply));
	if (fd >= 0)
		close(fd);
	if (!ok) {
		kill(pid, SIGKILL);
		while (!process_gone(pid))
			usleep(20 * 1000);
		return -1;
	}
	return pid;
}

/*
 * resume NAME [-l]: QEMU again, on the same RAM file, the device state
 * loaded before anything runs.
 */
static void cmd_resume(bool lost)
{
	struct guest_status later;
	struct guest_state gs;
	struct saved_vm sv;
	struct conn qmpc, serial;
	char reply[4096], line[256];
	uint64_t t0, t1, boot, counter, words, bad;
	bool restored;
	pid_t pid;

	ksft_set_plan(lost ? 1 : 4);
	if (saved_read(&sv))
		ksft_exit_fail_msg("%s: no %s.saved in %s\n", name, name,
				   pk_mnt());
	t0 = now_ms();
	pid = restore(&qmpc, &sv);
	restored = pid > 0;
	t1 = now_ms();
	stamp("restored");
	if (lost) {
		/*
		 * RAM on tmpfs did not survive the kexec: QEMU either fails to
		 * load (some device state points into guest RAM) or the
		 * guest's memory shows it.  Say so; never run it.
		 */
		if (restored && guest_state_read(&qmpc, sv.state_addr, &gs))
			ksft_exit_fail_msg("%s: read guest memory\n", name);
		if (!restored)
			qemu_show_log();
		ksft_test_result(!restored || gs.magic != sv.gs.magic ||
				 gs.boot_id != sv.gs.boot_id,
				 "%s: guest RAM lost with the old kernel is detected (%s)\n",
				 name, restored ? "not in guest memory" :
				 "QEMU cannot load the device state");
		if (restored)
			qmp_quit(&qmpc, pid);
		ksft_finished();
	}
	if (!restored) {
		qemu_show_log();
		ksft_exit_fail_msg("%s: restore\n", name);
	}
	if (guest_state_read(&qmpc, sv.state_addr, &gs))
		ksft_exit_fail_msg("%s: read guest memory\n", name);

	ksft_print_msg("qemu: %s restored (QEMU start and device state load) in %" PRIu64 " ms\n",
		       name, t1 - t0);
	ksft_test_result(gs.magic == sv.gs.magic && gs.boot_id == sv.gs.boot_id &&
			 gs.counter == sv.gs.counter,
			 "%s: guest memory after restore: boot %016" PRIx64 ", counter %" PRIu64 " (saved %016" PRIx64 ", %" PRIu64 ")\n",
			 name, gs.boot_id, gs.counter, sv.gs.boot_id,
			 sv.gs.counter);

	if (qmp(&qmpc, reply, sizeof(reply), "{\"execute\": \"cont\"}") ||
	    serial_attach(&serial))
		ksft_exit_fail_msg("%s: cont\n", name);
	stamp("cont");
	if (guest_ask(&serial, 'v', "verify", line, sizeof(line),
		      FILL_TIMEOUT_MS) ||
	    sscanf(line, "pkvm: verify boot %" SCNx64 " counter %" SCNu64 " words %" SCNu64 " bad %" SCNu64,
		   &boot, &counter, &words, &bad) != 4)
		ksft_exit_fail_msg("%s: no verify answer\n", name);
	ksft_print_msg("%s\n", line);
	ksft_test_result(boot == sv.gs.boot_id && counter > sv.gs.counter,
			 "%s: the guest went on, not rebooted: boot %016" PRIx64 ", counter %" PRIu64 " > %" PRIu64 "\n",
			 name, boot, counter, sv.gs.counter);
	ksft_test_result(words >= ((uint64_t)sv.mib << 20) / 4 / 2 && !bad,
			 "%s: all of its RAM verifies: %" PRIu64 " words, %" PRIu64 " bad\n",
			 name, words, bad);
	ksft_test_result(!guest_status(&serial, &later, QMP_TIMEOUT_MS) &&
			 later.counter > counter,
			 "%s: and it keeps counting (%" PRIu64 ")\n", name,
			 later.counter);
	qmp_quit(&qmpc, pid);
	ksft_finished();
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s start NAME MIB [-d DIR] [-p] [-x TEXT]\n"
		"       %s save NAME\n"
		"       %s resume NAME [-l]\n", prog, prog, prog);
	exit(KSFT_FAIL);
}

int main(int argc, char **argv)
{
	const char *cmd, *dir, *expect = NULL;
	bool shared = true, lost = false;
	int opt;

	if (argc < 3)
		usage(argv[0]);
	cmd = argv[1];
	name = argv[2];
	dir = pk_mnt();
	optind = !strcmp(cmd, "start") ? 4 : 3;
	if (optind > argc)
		usage(argv[0]);
	while ((opt = getopt(argc, argv, "d:px:l")) != -1) {
		switch (opt) {
		case 'd': dir = optarg; break;
		case 'p': shared = false; break;
		case 'x': expect = optarg; break;
		case 'l': lost = true; break;
		default: usage(argv[0]);
		}
	}
	/* A QEMU that exits under us is a failure to report, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	ksft_print_header();
	if (!strcmp(cmd, "start"))
		cmd_start(strtoul(argv[3], NULL, 0), dir, shared, expect);
	else if (!strcmp(cmd, "save"))
		cmd_save();
	else if (!strcmp(cmd, "resume"))
		cmd_resume(lost);
	usage(argv[0]);
}
