// SPDX-License-Identifier: GPL-2.0-only
/*
 * pkernfs_frame_sender - the packet source of the nic-rx scenario.
 *
 *   pkernfs_frame_sender PORT RATE SECONDS
 *
 * Sends test frames (../pkernfs_frame.h), numbered from 0, as UDP
 * datagrams to 127.0.0.1:PORT, where QEMU's '-netdev socket,udp=...,
 * localaddr=127.0.0.1:PORT' hands each one to the guest's e1000e as a
 * received Ethernet frame.  RATE frames a second, each stamped with the
 * time it was sent, for at most SECONDS seconds; it stops earlier on
 * SIGTERM or SIGINT.  The destination is the loopback address, always:
 * nothing here can reach beyond this machine.
 *
 * It prints one line when it stops: how many frames it sent, and how
 * many sendto() refused (QEMU not listening yet, for example).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

#include "pkernfs_frame.h"

#define MAX_RATE	100000
#define MAX_SECONDS	3600

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ULL + ts->tv_nsec;
}

static void ts_add_ns(struct timespec *ts, uint64_t ns)
{
	ns += ts->tv_nsec;
	ts->tv_sec += ns / 1000000000ULL;
	ts->tv_nsec = ns % 1000000000ULL;
}

static int parse(const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno || *end || end == s || *out < min || *out > max ?
	       -EINVAL : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t sent = 0, refused = 0, interval, end;
	struct timespec next, now;
	long port, rate, seconds;
	struct pk_frame f;
	int fd;

	if (argc != 4 || parse(argv[1], 1, 65535, &port) ||
	    parse(argv[2], 1, MAX_RATE, &rate) ||
	    parse(argv[3], 1, MAX_SECONDS, &seconds)) {
		fprintf(stderr, "usage: %s PORT RATE SECONDS\n", argv[0]);
		return 2;
	}
	to.sin_port = htons(port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}

	interval = 1000000000ULL / rate;
	clock_gettime(CLOCK_MONOTONIC, &next);
	end = ts_ns(&next) + seconds * 1000000000ULL;
	while (!stop && ts_ns(&next) < end) {
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
		pk_frame_build(&f, sent, ts_ns(&now));
		if (sendto(fd, &f, sizeof(f), 0, (struct sockaddr *)&to,
			   sizeof(to)) == sizeof(f))
			sent++;
		else
			refused++;
		ts_add_ns(&next, interval);
	}
	printf("pkernfs_frame_sender: sent %" PRIu64 " frames to 127.0.0.1:%ld, %" PRIu64 " refused\n",
	       sent, port, refused);
	close(fd);
	return 0;
}
