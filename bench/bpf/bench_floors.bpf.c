// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `make bench` floors and probes (docs/bench.md): what the
 * kernel's BPF_PROG_TEST_RUN loop and the unavoidable packet loads cost by
 * themselves, timed in the same run as vsteer's programs, and the Toeplitz
 * table builder the steering program and the XDP classifier share.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "rss_abi.h"
#include "rss_maps.h"
#include "toeplitz_table.h"

/* The XDP floor: a program that only passes the frame. */
SEC("xdp")
int floor_xdp_pass(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_PASS;
}

/* The live-frames generator: BPF_PROG_TEST_RUN sends each frame out of its
 * ingress device (a veth), to the program under test on the peer. */
SEC("xdp")
int gen_tx(struct xdp_md *ctx __attribute__((unused)))
{
	return XDP_TX;
}

/*
 * The steering floor: the header loads vsteer's steering program makes for an
 * untagged frame without options (one 42-byte load from the EtherType; for
 * IPv6 the TCP or UDP header too), and nothing else.
 */
SEC("socket")
int floor_parse(struct __sk_buff *skb)
{
	__u8 w[42], l4[20];

	if (bpf_skb_load_bytes_relative(skb, 12, w, sizeof(w), BPF_HDR_START_MAC))
		return 0;
	if (w[0] == 0x86 && w[1] == 0xDD) {
		if (w[8] == 6)
			bpf_skb_load_bytes_relative(skb, 54, l4, 20, BPF_HDR_START_MAC);
		else if (w[8] == 17)
			bpf_skb_load_bytes_relative(skb, 54, l4, 8, BPF_HDR_START_MAC);
	}
	return 0;
}

struct vsteer_key_map bench_key SEC(".maps");

struct vsteer_toeplitz_cache_map bench_cache SEC(".maps");

/* One whole rebuild of this CPU's table per run, for inputs up to `need` bytes. */
static __always_inline int rebuild(__u32 need)
{
	__u32 zero = 0, one = 1;
	struct vsteer_toeplitz_cache *lo = bpf_map_lookup_elem(&bench_cache, &zero);
	struct vsteer_toeplitz_cache *hi = bpf_map_lookup_elem(&bench_cache, &one);
	struct vsteer_toeplitz_key *key = bpf_map_lookup_elem(&bench_key, &zero);

	if (!lo || !hi || !key)
		return 0;
	lo->built = 0; /* as after a key change */
	return vsteer_toeplitz_refresh(lo, hi, key, need) == 1;
}

/* The whole table (IPv6 inputs). */
SEC("socket")
int probe_rebuild_all(struct __sk_buff *skb __attribute__((unused)))
{
	return rebuild(VSTEER_MAX_HASH_INPUT);
}

/* The first 12 positions only (IPv4-only traffic). */
SEC("socket")
int probe_rebuild_ipv4(struct __sk_buff *skb __attribute__((unused)))
{
	return rebuild(VSTEER_TOEPLITZ_IPV4_POSITIONS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
