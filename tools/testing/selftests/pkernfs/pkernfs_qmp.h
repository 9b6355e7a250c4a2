/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A QMP client for the selftests that drive a real QEMU (pkernfs_qemu.c):
 * line-oriented unix-socket connections (QMP, or a guest's serial port),
 * commands with their replies, a descriptor passed with getfd, and
 * polling a query until its status is reached.
 *
 * Errors are printed as kselftest diagnostics; functions return 0 or -1
 * (conn_open and conn_line a negative errno).
 */
#ifndef PKERNFS_QMP_H
#define PKERNFS_QMP_H

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest.h"
#include "pkernfs_util.h"

/* How long QEMU may take to answer, under TCG on a loaded host. */
#define QMP_TIMEOUT_MS	(120 * 1000)

/* A line-oriented connection: QMP or the inner guest's serial port. */
struct conn {
	int fd;
	char buf[65536];
	size_t len;
};

/* Connect to the unix socket @path, once. */
static inline int conn_open(struct conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);

	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, len + 1);
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
static inline int conn_line(struct conn *c, char *line, size_t size,
			    int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

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
static inline int qmp_reply(struct conn *c, const char *what, char *reply,
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
static inline int qmp(struct conn *c, char *reply, size_t size,
		      const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(cmd, sizeof(cmd) - 1, fmt, ap);
	va_end(ap);
	if (len < 0 || len >= (int)sizeof(cmd) - 1) {
		ksft_print_msg("qmp: command too long: %s\n", fmt);
		return -1;
	}
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
static inline int qmp_getfd(struct conn *c, int fd, const char *fdname)
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

/* QMP query @what until its "status" is @want; -1 if "failed" or never. */
static inline int qmp_wait_status(struct conn *qmpc, const char *what,
				  const char *want, char *reply, size_t size)
{
	int64_t end = now_ms() + QMP_TIMEOUT_MS;
	char status[64];

	while (now_ms() < end) {
		const char *p;
		size_t len;

		if (qmp(qmpc, reply, size, "{\"execute\": \"%s\"}", what))
			return -1;
		p = strstr(reply, "\"status\": \"");
		if (p) {
			p += strlen("\"status\": \"");
			len = strcspn(p, "\"");
			snprintf(status, sizeof(status), "%.*s", (int)len, p);
			if (!strcmp(status, want))
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

#endif /* PKERNFS_QMP_H */
