// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs_qemu - a real, unmodified QEMU keeps its VM across a live update
 * of the host, with the VM's RAM in a pkernfs file.
 *
 * The VMM is Debian's qemu-system-x86_64, run from the bundle that
 * scripts/mkvmmdisk.sh puts on the scenario's disk (PKERNFS_VMM_DIR,
 * default /vmm), TCG inside the TCG test guest.  Its VM runs
 * inner/inner_guest.c, which fills its RAM with a pattern, counts, and
 * answers on its serial port (inner/inner_guest.h).
 *
 *   pkernfs_qemu start NAME MIB [-d DIR] [-p] [-x TEXT]
 *	Start the VM with MIB MiB of RAM in DIR/NAME.ram (default: the
 *	pkernfs mount; -p maps it privately, share=off), wait until the
 *	inner guest has filled its RAM and have it verify it once, for the
 *	word count.  QEMU stays running.  With -x, QEMU must refuse to
 *	start instead, with TEXT in its error output.
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
 *	to be lost (it was on tmpfs): QEMU must come up, and then either
 *	fail to load the device state or show a guest memory that is not
 *	the saved one.
 *
 * Timings go to '# qemu:' lines; with PKERNFS_QEMU_BENCH set to a label,
 * 'save' and 'resume' also print "stamp EVENT LABEL TSC" lines (stop,
 * saved; qemu, restored, cont) and 'save' a "sample qemu LABEL
 * state_bytes N" line, for make bench.  A QEMU this program started or
 * stopped is not left behind when it fails.  Output is TAP; the exit
 * status is the kselftest one.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest.h"
#include "pkernfs_qmp.h"
#include "pkernfs_util.h"
#include "inner/inner_guest.h"

/* QEMU's sockets and log, and what 'start' leaves for 'save'. */
#define RUN_DIR		"/tmp"

static const char *name;
/* A QEMU to kill and reap if this program exits early (atexit). */
static pid_t qemu_pid;

/*
 * How long the inner guest may take to fill or verify @mib MiB: about
 * 0.1 s a MiB under TCG nested in TCG on an idle host; twenty times that.
 */
static int guest_timeout_ms(unsigned int mib)
{
	return 120 * 1000 + mib * 2000;
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
	FILE *f = fopen(path_in(log, sizeof(log), RUN_DIR, "log"), "r");

	while (f && fgets(line, sizeof(line), f))
		ksft_print_msg("QEMU: %s", line);
	if (f)
		fclose(f);
}

/* Whether QEMU's output has @text in it. */
static bool qemu_log_has(const char *text)
{
	char log[PATH_MAX], line[512];
	FILE *f = fopen(path_in(log, sizeof(log), RUN_DIR, "log"), "r");
	bool found = false;

	while (!found && f && fgets(line, sizeof(line), f))
		found = strstr(line, text);
	if (f)
		fclose(f);
	return found;
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
 * Wait up to @timeout_ms for process @pid to be gone, then kill it and
 * wait for that too.  True if it went by itself.
 */
static bool qemu_reap(pid_t pid, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	while (!process_gone(pid)) {
		if (now_ms() > end) {
			ksft_print_msg("QEMU (pid %d) does not exit: killed\n",
				       pid);
			kill(pid, SIGKILL);
			while (!process_gone(pid))
				usleep(20 * 1000);
			return false;
		}
		usleep(20 * 1000);
	}
	return true;
}

/* atexit: a QEMU started or stopped by this run does not outlive a failure. */
static void qemu_cleanup(void)
{
	if (qemu_pid > 0) {
		kill(qemu_pid, SIGKILL);
		qemu_reap(qemu_pid, QMP_TIMEOUT_MS);
	}
}

/*
 * Start QEMU in the background, its output in RUN_DIR/NAME.log, RAM in
 * the file @ram, and connect to its QMP socket.  Returns QEMU's pid, or -1
 * with QEMU gone if it exited first (a refusal: the reason is in its log)
 * or QMP failed.
 * With @incoming, QEMU waits for migrate-incoming and stays paused once
 * the state is loaded (-S), so that the harness can look first.
 */
static pid_t qemu_spawn(struct conn *qmpc, const char *ram, unsigned int mib,
			bool shared, bool incoming)
{
	const char *vmm = getenv("PKERNFS_VMM_DIR") ?: "/vmm";
	char ld[PATH_MAX], libs[PATH_MAX], bin[PATH_MAX], fw[PATH_MAX];
	char mods[PATH_MAX], kernel[PATH_MAX], log[PATH_MAX], qmpsock[PATH_MAX];
	char serial[PATH_MAX], chardev[PATH_MAX + 64], qmparg[PATH_MAX + 64];
	char backend[PATH_MAX + 128], mem[32], reply[4096];
	const char *argv[40];
	int argc = 0, status;
	int64_t end;
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
		 path_in(serial, sizeof(serial), RUN_DIR, "serial"));
	snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off",
		 path_in(qmpsock, sizeof(qmpsock), RUN_DIR, "qmp"));
	path_in(log, sizeof(log), RUN_DIR, "log");

	/* The bundle's own loader and libraries: the guest has neither. */
	argv[argc++] = ld;
	argv[argc++] = "--library-path";
	argv[argc++] = libs;
	argv[argc++] = bin;
	argv[argc++] = "-L";
	argv[argc++] = fw;
	argv[argc++] = "-name";
	argv[argc++] = name;
	argv[argc++] = "-machine";
	argv[argc++] = "pc,memory-backend=ram";
	argv[argc++] = "-accel";
	argv[argc++] = "tcg";
	argv[argc++] = "-m";
	argv[argc++] = mem;
	argv[argc++] = "-object";
	argv[argc++] = backend;
	argv[argc++] = "-kernel";
	argv[argc++] = kernel;
	argv[argc++] = "-nodefaults";
	argv[argc++] = "-no-user-config";
	argv[argc++] = "-display";
	argv[argc++] = "none";
	argv[argc++] = "-chardev";
	argv[argc++] = chardev;
	argv[argc++] = "-serial";
	argv[argc++] = "chardev:serial0";
	argv[argc++] = "-qmp";
	argv[argc++] = qmparg;
	if (incoming) {
		argv[argc++] = "-incoming";
		argv[argc++] = "defer";
		argv[argc++] = "-S";
	}
	argv[argc] = NULL;

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
	qemu_pid = pid;

	end = now_ms() + QMP_TIMEOUT_MS;
	while (conn_open(qmpc, qmpsock)) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			ksft_print_msg("QEMU exited with status %d\n",
				       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			qemu_pid = 0;
			return -1;
		}
		if (now_ms() > end) {
			ksft_print_msg("no QMP socket %s\n", qmpsock);
			goto gone;
		}
		usleep(100 * 1000);
	}
	/*
	 * The greeting, then capabilities negotiation.  QEMU opens the
	 * socket before it sets the machine up: a refusal lands here.
	 */
	if (conn_line(qmpc, reply, sizeof(reply), QMP_TIMEOUT_MS) < 0 ||
	    qmp(qmpc, reply, sizeof(reply),
		"{\"execute\": \"qmp_capabilities\"}")) {
		close(qmpc->fd);
		goto gone;
	}
	return pid;

gone:
	qemu_reap(pid, QMP_TIMEOUT_MS);
	qemu_pid = 0;
	return -1;
}

/* Connect to a running VM's QMP socket (no QEMU started here). */
static int qmp_attach(struct conn *qmpc)
{
	char path[PATH_MAX], reply[4096];

	if (conn_open(qmpc, path_in(path, sizeof(path), RUN_DIR, "qmp")) ||
	    conn_line(qmpc, reply, sizeof(reply), QMP_TIMEOUT_MS) < 0 ||
	    qmp(qmpc, reply, sizeof(reply),
		"{\"execute\": \"qmp_capabilities\"}"))
		return -1;
	return 0;
}

/*
 * Tell QEMU (process @pid) to quit and wait until it is gone: only then
 * has it let go of the RAM file.  Its QMP socket closes before that.
 */
static void qmp_quit(struct conn *qmpc, pid_t pid)
{
	char reply[4096];

	if (!qmp(qmpc, reply, sizeof(reply), "{\"execute\": \"quit\"}"))
		while (conn_line(qmpc, reply, sizeof(reply), QMP_TIMEOUT_MS) >= 0)
			;
	close(qmpc->fd);
	qemu_reap(pid, QMP_TIMEOUT_MS);
	if (pid == qemu_pid)
		qemu_pid = 0;
}

/*
 * The inner guest's state at guest-physical @addr, read by QEMU while the
 * VM is paused (HMP "xp": 32-bit words, low half first).
 */
static int guest_state_read(struct conn *qmpc, uint32_t addr,
			    struct inner_state *gs)
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

/* Send @cmd to the inner guest and read its answer, which starts @prefix. */
static int guest_ask(struct conn *serial, char cmd, const char *prefix,
		     char *line, size_t size, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

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

	if (guest_ask(serial, INNER_CMD_STATUS, INNER_STATUS, line,
		      sizeof(line), timeout_ms))
		return -1;
	if (sscanf(line, INNER_STATUS " boot %" SCNx64 " counter %" SCNu64 " state %" SCNx32,
		   &st->boot_id, &st->counter, &st->state_addr) != 3) {
		ksft_print_msg("unexpected: %s\n", line);
		return -1;
	}
	return 0;
}

struct guest_verify {
	uint64_t boot_id, counter, words, bad;
};

/* Have the guest read back all of its RAM. */
static int guest_verify(struct conn *serial, struct guest_verify *v,
			int timeout_ms)
{
	char line[256];

	if (guest_ask(serial, INNER_CMD_VERIFY, INNER_VERIFY, line,
		      sizeof(line), timeout_ms))
		return -1;
	ksft_print_msg("%s\n", line);
	if (sscanf(line, INNER_VERIFY " boot %" SCNx64 " counter %" SCNu64 " words %" SCNu64 " bad %" SCNu64,
		   &v->boot_id, &v->counter, &v->words, &v->bad) != 4) {
		ksft_print_msg("unexpected: %s\n", line);
		return -1;
	}
	return 0;
}

static int serial_attach(struct conn *serial)
{
	char path[PATH_MAX];

	return conn_open(serial, path_in(path, sizeof(path), RUN_DIR, "serial"));
}

/*
 * What 'start' leaves for 'save' in RUN_DIR/NAME.vm (this kernel only),
 * and 'save' for 'resume' in the pkernfs file NAME.saved.
 */
struct vm_record {
	unsigned int mib;
	pid_t pid;			/* QEMU's, while it runs */
	uint64_t words;			/* of RAM the guest fills */
	struct inner_state gs;		/* at 'stop' */
	uint32_t state_addr;
	char ram[PATH_MAX];
};

static int record_write(const char *dir, const char *ext,
			const struct vm_record *r)
{
	char path[PATH_MAX];
	FILE *f = fopen(path_in(path, sizeof(path), dir, ext), "w");

	if (!f)
		return -1;
	fprintf(f, "%u %d %" PRIu64 " %" PRIx64 " %" PRIu64 " %" PRIx32 "\n%s\n",
		r->mib, r->pid, r->words, r->gs.boot_id, r->gs.counter,
		r->state_addr, r->ram);
	return fclose(f);
}

static int record_read(const char *dir, const char *ext, struct vm_record *r)
{
	char path[PATH_MAX];
	FILE *f = fopen(path_in(path, sizeof(path), dir, ext), "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%u %d %" SCNu64 " %" SCNx64 " %" SCNu64 " %" SCNx32 "\n",
		   &r->mib, &r->pid, &r->words, &r->gs.boot_id, &r->gs.counter,
		   &r->state_addr);
	if (n == 6 && !fgets(r->ram, sizeof(r->ram), f))
		n = 0;
	fclose(f);
	r->ram[strcspn(r->ram, "\n")] = '\0';
	r->gs.magic = INNER_STATE_MAGIC;
	return n == 6 ? 0 : -1;
}

static void cmd_start(unsigned int mib, const char *dir, bool shared,
		      const char *expect)
{
	struct vm_record r = { .mib = mib };
	struct guest_status st;
	struct guest_verify v;
	struct conn qmpc, serial;
	int64_t t0 = now_ms();
	pid_t pid;

	ksft_set_plan(expect ? 1 : 2);
	path_in(r.ram, sizeof(r.ram), dir, "ram");
	pid = qemu_spawn(&qmpc, r.ram, mib, shared, false);
	if (expect) {
		bool refused = pid < 0 && qemu_log_has(expect);

		if (pid > 0)
			qmp_quit(&qmpc, pid);
		if (!refused)
			qemu_show_log();
		ksft_test_result(refused,
				 "%s: QEMU refuses %u MiB of RAM in %s%s: '%s'\n",
				 name, mib, r.ram, shared ? "" : " mapped privately",
				 expect);
		ksft_finished();
	}
	if (pid < 0) {
		qemu_show_log();
		ksft_exit_fail_msg("%s: QEMU did not start\n", name);
	}
	if (serial_attach(&serial) ||
	    guest_status(&serial, &st, guest_timeout_ms(mib)))
		ksft_exit_fail_msg("%s: no answer from the inner guest\n", name);
	ksft_print_msg("qemu: %s up and its RAM filled in %" PRId64 " ms\n",
		       name, now_ms() - t0);
	ksft_test_result(st.boot_id & 1,
			 "%s: QEMU runs the inner guest, boot %016" PRIx64 ", %u MiB of RAM in %s\n",
			 name, st.boot_id, mib, r.ram);
	if (guest_verify(&serial, &v, guest_timeout_ms(mib)))
		ksft_exit_fail_msg("%s: no verify answer\n", name);
	/* All but the first 2 MiB and what the BIOS keeps at the top. */
	ksft_test_result(v.boot_id == st.boot_id && !v.bad &&
			 v.words > ((uint64_t)mib << 20) / 4 / 2,
			 "%s: it filled %" PRIu64 " words of RAM, all read back\n",
			 name, v.words);
	r.pid = pid;
	r.words = v.words;
	if (record_write(RUN_DIR, "vm", &r))
		ksft_exit_fail_msg("%s: cannot write %s/%s.vm\n", name,
				   RUN_DIR, name);
	qemu_pid = 0;	/* it runs on, for 'save' */
	ksft_finished();
}

static void cmd_save(void)
{
	struct vm_record r;
	struct guest_status st;
	struct conn qmpc, serial;
	char path[PATH_MAX], reply[4096];
	int64_t t0, t1;
	struct stat sb;
	int fd;

	ksft_set_plan(2);
	if (record_read(RUN_DIR, "vm", &r))
		ksft_exit_fail_msg("%s: no %s/%s.vm: not started here\n",
				   name, RUN_DIR, name);
	if (qmp_attach(&qmpc) || serial_attach(&serial) ||
	    guest_status(&serial, &st, QMP_TIMEOUT_MS))
		ksft_exit_fail_msg("%s: not running\n", name);
	qemu_pid = r.pid;

	stamp("stop");
	t0 = now_ms();
	if (qmp(&qmpc, reply, sizeof(reply), "{\"execute\": \"stop\"}") ||
	    guest_state_read(&qmpc, st.state_addr, &r.gs))
		ksft_exit_fail_msg("%s: stop\n", name);
	ksft_test_result(r.gs.magic == INNER_STATE_MAGIC &&
			 r.gs.boot_id == st.boot_id &&
			 r.gs.counter >= st.counter,
			 "%s: stopped at counter %" PRIu64 " (guest memory, boot %016" PRIx64 ")\n",
			 name, r.gs.counter, r.gs.boot_id);

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
	qmp_quit(&qmpc, r.pid);
	stamp("saved");
	if (fsync(fd) || fstat(fd, &sb))
		ksft_exit_fail_msg("%s: %s: %s\n", name, path, strerror(errno));
	close(fd);
	ksft_print_msg("qemu: %s device state saved in %" PRId64 " ms\n",
		       name, t1 - t0);
	sample("state_bytes", sb.st_size);
	/* Less than a sixteenth of guest RAM: the RAM did not go in. */
	ksft_test_result(sb.st_size > 0 &&
			 (uint64_t)sb.st_size < ((uint64_t)r.mib << 20) / 16,
			 "%s: device state %lld KiB for %u MiB of guest RAM (x-ignore-shared)\n",
			 name, (long long)sb.st_size >> 10, r.mib);
	r.state_addr = st.state_addr;
	r.pid = 0;
	if (record_write(pk_mnt(), "saved", &r))
		ksft_exit_fail_msg("%s: cannot write %s.saved\n", name, name);
	ksft_finished();
}

/*
 * Start QEMU on @r's RAM file, paused, and load NAME.state into it with
 * x-ignore-shared (the RAM is the file's).  Returns QEMU's pid once it
 * answers QMP, or -1 if it never did; *@loaded says whether the VM was
 * loaded.  A QEMU that failed to load is gone on return.
 */
static pid_t restore(struct conn *qmpc, const struct vm_record *r,
		     bool *loaded)
{
	char path[PATH_MAX], reply[4096];
	pid_t pid;
	int fd;

	*loaded = false;
	pid = qemu_spawn(qmpc, r->ram, r->mib, true, true);
	if (pid < 0)
		return -1;
	stamp("qemu");
	fd = open(path_in(path, sizeof(path), pk_mnt(), "state"),
		  O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ksft_print_msg("%s: %s\n", path, strerror(errno));
		return -1;
	}
	*loaded = !qmp_migration_setup(qmpc, fd) &&
		  !qmp(qmpc, reply, sizeof(reply),
		       "{\"execute\": \"migrate-incoming\", \"arguments\": {\"uri\": \"fd:state\"}}") &&
		  !qmp_wait_status(qmpc, "query-status", "paused", reply,
				   sizeof(reply));
	close(fd);
	if (!*loaded) {
		/* A failed incoming migration ends QEMU; make sure it did. */
		close(qmpc->fd);
		qemu_reap(pid, QMP_TIMEOUT_MS);
		qemu_pid = 0;
	}
	return pid;
}

/* resume NAME -l: the RAM was lost with the old kernel; is that seen? */
static void resume_lost(struct conn *qmpc, const struct vm_record *r)
{
	struct inner_state gs;
	bool loaded;
	pid_t pid;

	ksft_set_plan(1);
	pid = restore(qmpc, r, &loaded);
	if (pid < 0) {
		qemu_show_log();
		ksft_exit_fail_msg("%s: QEMU did not come up\n", name);
	}
	if (!loaded) {
		/* Some device state points into guest RAM (kvmvapic's). */
		qemu_show_log();
		ksft_test_result(qemu_log_has("load of migration failed"),
				 "%s: guest RAM lost with the old kernel is detected: QEMU cannot load the device state\n",
				 name);
		ksft_finished();
	}
	if (guest_state_read(qmpc, r->state_addr, &gs))
		ksft_exit_fail_msg("%s: read guest memory\n", name);
	ksft_test_result(gs.magic != r->gs.magic || gs.boot_id != r->gs.boot_id,
			 "%s: guest RAM lost with the old kernel is detected: not in guest memory\n",
			 name);
	qmp_quit(qmpc, pid);
	ksft_finished();
}

/*
 * resume NAME [-l]: QEMU again, on the same RAM file, the device state
 * loaded before anything runs.
 */
static void cmd_resume(bool lost)
{
	struct guest_status later;
	struct guest_verify v;
	struct inner_state gs;
	struct vm_record r;
	struct conn qmpc, serial;
	char reply[4096];
	int64_t t0;
	bool loaded;
	pid_t pid;

	if (record_read(pk_mnt(), "saved", &r))
		ksft_exit_fail_msg("%s: no %s.saved in %s\n", name, name,
				   pk_mnt());
	if (lost)
		resume_lost(&qmpc, &r);

	ksft_set_plan(4);
	t0 = now_ms();
	pid = restore(&qmpc, &r, &loaded);
	if (!loaded) {
		qemu_show_log();
		ksft_exit_fail_msg("%s: restore\n", name);
	}
	stamp("restored");
	ksft_print_msg("qemu: %s restored (QEMU start and device state load) in %" PRId64 " ms\n",
		       name, now_ms() - t0);
	if (guest_state_read(&qmpc, r.state_addr, &gs))
		ksft_exit_fail_msg("%s: read guest memory\n", name);
	ksft_test_result(gs.magic == r.gs.magic && gs.boot_id == r.gs.boot_id &&
			 gs.counter == r.gs.counter,
			 "%s: guest memory after restore: boot %016" PRIx64 ", counter %" PRIu64 " (saved %016" PRIx64 ", %" PRIu64 ")\n",
			 name, gs.boot_id, gs.counter, r.gs.boot_id,
			 r.gs.counter);

	if (qmp(&qmpc, reply, sizeof(reply), "{\"execute\": \"cont\"}") ||
	    serial_attach(&serial))
		ksft_exit_fail_msg("%s: cont\n", name);
	stamp("cont");
	if (guest_verify(&serial, &v, guest_timeout_ms(r.mib)))
		ksft_exit_fail_msg("%s: no verify answer\n", name);
	ksft_test_result(v.boot_id == r.gs.boot_id && v.counter > r.gs.counter,
			 "%s: the guest went on, not rebooted: boot %016" PRIx64 ", counter %" PRIu64 " > %" PRIu64 "\n",
			 name, v.boot_id, v.counter, r.gs.counter);
	ksft_test_result(v.words == r.words && !v.bad,
			 "%s: all of its RAM verifies: %" PRIu64 " words (%" PRIu64 " at start), %" PRIu64 " bad\n",
			 name, v.words, r.words, v.bad);
	if (guest_status(&serial, &later, QMP_TIMEOUT_MS))
		later.counter = 0;
	ksft_test_result(later.counter > v.counter,
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
		case 'd':
			dir = optarg;
			break;
		case 'p':
			shared = false;
			break;
		case 'x':
			expect = optarg;
			break;
		case 'l':
			lost = true;
			break;
		default:
			usage(argv[0]);
		}
	}
	/* A QEMU that exits under us is a failure to report, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	atexit(qemu_cleanup);
	ksft_print_header();
	if (!strcmp(cmd, "start"))
		cmd_start(strtoul(argv[3], NULL, 0), dir, shared, expect);
	else if (!strcmp(cmd, "save"))
		cmd_save();
	else if (!strcmp(cmd, "resume"))
		cmd_resume(lost);
	usage(argv[0]);
}
