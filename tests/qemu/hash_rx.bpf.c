// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Socket filter of vsteer-hash-rx (the L2 guest of `make hash-e2e`): for every test frame
 * it records the skb hash the guest's virtio_net driver set from the virtio header
 * (__sk_buff->hash) and the rx queue (queue_mapping = rx queue + 1), by flow index.
 * Test frames end in "VSTH", the flow index and the round (big endian). The end-of-round
 * frame (index 0xffffffff) is passed to the socket to wake the reader; all else is dropped.
 */
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define TAG_LEN 12
#define MAX_FLOWS 4096
#define END_OF_ROUND 0xffffffffu

struct flow_seen {
	__u32 hash;
	__u32 queue_mapping;
	__u32 frames;
	__u32 conflicts; /* a later frame of the flow had another hash or queue */
	__u32 round;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct flow_seen);
} seen SEC(".maps");

SEC("socket")
int hash_rx(struct __sk_buff *skb)
{
	__u8 tag[TAG_LEN];
	__u32 idx, round;
	struct flow_seen *s;

	if (skb->len < TAG_LEN ||
	    bpf_skb_load_bytes_relative(skb, skb->len - TAG_LEN, tag, TAG_LEN, BPF_HDR_START_MAC))
		return 0;
	if (tag[0] != 'V' || tag[1] != 'S' || tag[2] != 'T' || tag[3] != 'H')
		return 0;
	idx = bpf_ntohl(*(__u32 *)&tag[4]);
	round = bpf_ntohl(*(__u32 *)&tag[8]);
	if (idx == END_OF_ROUND)
		return skb->len;
	s = bpf_map_lookup_elem(&seen, &idx);
	if (!s)
		return 0;
	if (s->frames && s->round == round &&
	    (s->hash != skb->hash || s->queue_mapping != skb->queue_mapping))
		s->conflicts++;
	if (s->round != round) {
		s->frames = 0;
		s->conflicts = 0;
	}
	s->round = round;
	s->hash = skb->hash;
	s->queue_mapping = skb->queue_mapping;
	s->frames++;
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
