// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vsteer-hash-rx: runs in the L2 guest of `make hash-e2e` (a Linux guest's own virtio_net
 * driver behind the patched QEMU) and reports, per test flow, the rx queue and the skb
 * hash the driver took from the virtio header's hash_value.
 *
 *   vsteer-hash-rx BPF_OBJECT IFNAME ROUND NFLOWS TIMEOUT_MS
 *
 * Attaches hash_rx.bpf.c's socket filter to an AF_PACKET socket on IFNAME, prints
 *   VSTH-READY ROUND
 * and waits for the end-of-round frame (or the timeout), then prints
 *   VSTH-R ROUND idx:queue:hash:frames ...    8 flows a line; queue -1: none recorded
 *   VSTH-CONFLICT ROUND idx                   a flow seen with two hashes or queues
 *   VSTH-DONE ROUND got=N conflicts=C
 * Flows never seen are left out of the VSTH-R lines. Exit status 0 when every flow was
 * seen without conflicts.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
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

struct flow_seen { /* as in hash_rx.bpf.c */
	uint32_t hash;
	uint32_t queue_mapping;
	uint32_t frames;
	uint32_t conflicts;
	uint32_t round;
	uint32_t pad;
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int die(const char *what)
{
	printf("VSTH-FAIL vsteer-hash-rx: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	return 1;
}

/* Blocks until the end-of-round frame of ROUND arrives or TIMEOUT_MS pass. */
static int wait_end_of_round(int fd, uint32_t round, long timeout_ms)
{
	unsigned char buf[2048];
	long deadline = now_ms() + timeout_ms;
	for (;;) {
		long left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n >= 12) {
			uint32_t r;
			memcpy(&r, buf + n - 4, 4);
			if (ntohl(r) == round)
				return 0;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		fprintf(stderr, "usage: vsteer-hash-rx BPF_OBJECT IFNAME ROUND NFLOWS TIMEOUT_MS\n");
		return 2;
	}
	uint32_t round = (uint32_t)strtoul(argv[3], NULL, 0);
	uint32_t nflows = (uint32_t)strtoul(argv[4], NULL, 0);
	long timeout_ms = strtol(argv[5], NULL, 0);
	int ifindex = (int)if_nametoindex(argv[2]);
	if (!ifindex)
		return die(argv[2]);

	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj))
		return die("loading the socket filter");
	int prog = bpf_program__fd(bpf_object__find_program_by_name(obj, "hash_rx"));
	int map = bpf_map__fd(bpf_object__find_map_by_name(obj, "seen"));

	/* protocol 0: nothing arrives before the filter is in place and the socket bound */
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		return die("socket(AF_PACKET)");
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof(prog)))
		return die("SO_ATTACH_BPF");
	struct sockaddr_ll sll = {
	    .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		return die("bind");

	printf("VSTH-READY %u\n", round);
	fflush(stdout);
	int timed_out = wait_end_of_round(fd, round, timeout_ms) != 0;

	unsigned got = 0, conflicts = 0, on_line = 0;
	for (uint32_t i = 0; i < nflows; i++) {
		struct flow_seen s;
		if (bpf_map_lookup_elem(map, &i, &s) || s.round != round || !s.frames)
			continue;
		if (!on_line)
			printf("VSTH-R %u", round);
		printf(" %u:%d:%08x:%u", i, (int)s.queue_mapping - 1, s.hash, s.frames);
		if (++on_line == 8) {
			printf("\n");
			on_line = 0;
		}
		got++;
		if (s.conflicts) {
			conflicts++;
			if (on_line)
				printf("\n");
			on_line = 0;
			printf("VSTH-CONFLICT %u %u\n", round, i);
		}
	}
	if (on_line)
		printf("\n");
	printf("VSTH-DONE %u got=%u conflicts=%u%s\n", round, got, conflicts, timed_out ? " timeout" : "");
	fflush(stdout);
	return got == nflows && !conflicts ? 0 : 1;
}
