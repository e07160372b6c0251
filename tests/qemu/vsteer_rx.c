// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vsteer-rx: runs in the QEMU guest of `make qemu-test` and reports on which virtio-net rx
 * queue each test flow arrived.
 *
 *   vsteer-rx IFNAME ROUND NFLOWS TIMEOUT_MS
 *
 * One AF_PACKET socket per value of skb->queue_mapping, each with a classic BPF filter
 * that accepts only that value (SKF_AD_QUEUE). virtio_net records rx queue q as
 * queue_mapping q + 1 (skb_record_rx_queue), so socket k receives rx queue k - 1; k = 0
 * would mean "no queue recorded". The filter is attached before the socket is bound, so
 * no frame slips in unfiltered. Since 6.10 virtio_net has no per-queue counters in
 * `ethtool -S`; this sees the queue of every single frame.
 *
 * Test frames carry "VSTQ", the flow index and the round (both big endian) in their
 * payload; others (and those of earlier rounds) are ignored. Prints on stdout (the serial
 * console):
 *   VSTQ-READY ROUND                       sockets are bound, the host may send
 *   VSTQ-R ROUND idx:q idx:q ...           16 flows a line, q = rx queue
 *   VSTQ-CONFLICT ROUND idx q1 q2          a flow seen on two queues
 *   VSTQ-DONE ROUND got=N conflicts=C frames=F
 * Exit status 0 when all flows were seen without conflicts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NSOCK 9 /* queue_mapping 0..8: "none" and rx queues 0..7 */
#define MAXFLOWS 65536

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int open_queue_socket(int ifindex, unsigned qm)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_QUEUE),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, qm, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0xffff),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};
	/* protocol 0: receives nothing until bound with a protocol, after the filter is in place */
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("vsteer-rx: socket(AF_PACKET)");
		exit(2);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog))) {
		perror("vsteer-rx: SO_ATTACH_FILTER");
		exit(2);
	}
	int rcvbuf = 1 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("vsteer-rx: bind");
		exit(2);
	}
	return fd;
}

/* What the guest has seen of one round. queue_of[idx] is the rx queue flow idx first
 * arrived on, or -2 while it has not arrived. */
struct rx_round {
	uint32_t round, nflows;
	int *queue_of;
	uint32_t got, conflicts, frames;
};

/* The flow index of a test frame of this round, from the "VSTQ" marker in its payload;
 * -1 for other frames. */
static long flow_of(const struct rx_round *r, const unsigned char *buf, ssize_t n)
{
	for (ssize_t off = 14; off + 12 <= n; off++) {
		if (memcmp(buf + off, "VSTQ", 4))
			continue;
		uint32_t idx, rnd;
		memcpy(&idx, buf + off + 4, 4);
		memcpy(&rnd, buf + off + 8, 4);
		idx = ntohl(idx);
		return ntohl(rnd) == r->round && idx < r->nflows ? (long)idx : -1;
	}
	return -1;
}

/* Reads everything socket k (rx queue k - 1) holds. A flow seen on another queue than
 * before is a conflict; flows not seen yet are recorded only when record_new is set. */
static void read_queue_socket(struct rx_round *r, int fd, unsigned k, int record_new)
{
	unsigned char buf[2048];
	ssize_t n;
	int q = (int)k - 1;
	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		long idx = flow_of(r, buf, n);
		if (idx < 0)
			continue;
		if (r->queue_of[idx] == -2) {
			if (!record_new)
				continue;
			r->queue_of[idx] = q;
			r->got++;
		} else if (r->queue_of[idx] != q) {
			printf("VSTQ-CONFLICT %u %ld %d %d\n", r->round, idx, r->queue_of[idx], q);
			r->conflicts++;
		}
		r->frames++;
	}
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: vsteer-rx IFNAME ROUND NFLOWS TIMEOUT_MS\n");
		return 2;
	}
	int ifindex = if_nametoindex(argv[1]);
	static int queue_of[MAXFLOWS];
	struct rx_round r = {
	    .round = strtoul(argv[2], NULL, 0), .nflows = strtoul(argv[3], NULL, 0), .queue_of = queue_of};
	long timeout = strtol(argv[4], NULL, 0);
	if (!ifindex || r.nflows == 0 || r.nflows > MAXFLOWS) {
		fprintf(stderr, "vsteer-rx: bad interface %s or flow count\n", argv[1]);
		return 2;
	}
	for (uint32_t i = 0; i < r.nflows; i++)
		queue_of[i] = -2;
	struct pollfd pfd[NSOCK];
	for (unsigned k = 0; k < NSOCK; k++) {
		pfd[k].fd = open_queue_socket(ifindex, k);
		pfd[k].events = POLLIN;
	}
	printf("VSTQ-READY %u\n", r.round);
	fflush(stdout);

	long deadline = now_ms() + timeout;
	while (r.got < r.nflows) {
		long left = deadline - now_ms();
		if (left <= 0)
			break;
		if (poll(pfd, NSOCK, (int)left) < 0 && errno != EINTR) {
			perror("vsteer-rx: poll");
			return 2;
		}
		for (unsigned k = 0; k < NSOCK; k++)
			if (pfd[k].revents & POLLIN)
				read_queue_socket(&r, pfd[k].fd, k, 1);
	}
	/* a little longer, to see conflicting duplicates that are still in flight */
	long grace = now_ms() + 300;
	while (now_ms() < grace) {
		if (poll(pfd, NSOCK, 50) <= 0)
			continue;
		for (unsigned k = 0; k < NSOCK; k++)
			read_queue_socket(&r, pfd[k].fd, k, 0);
	}
	for (uint32_t i = 0; i < r.nflows; i += 16) {
		printf("VSTQ-R %u", r.round);
		for (uint32_t j = i; j < i + 16 && j < r.nflows; j++)
			if (queue_of[j] != -2)
				printf(" %u:%d", j, queue_of[j]);
		printf("\n");
	}
	printf("VSTQ-DONE %u got=%u conflicts=%u frames=%u\n", r.round, r.got, r.conflicts, r.frames);
	fflush(stdout);
	return r.got == r.nflows && r.conflicts == 0 ? 0 : 1;
}
