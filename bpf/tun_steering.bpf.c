// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vsteer tun steering program (TUNSETSTEERINGEBPF), a drop-in for QEMU's
 * ebpf-rss-fds: computes the virtio-net RSS hash exactly as
 * rss-semantics.md says and returns the queue. The hash value goes to
 * __sk_buff->cb[0] and the report type to cb[1], where the kernel patches
 * pick them up for virtio_net_hdr_v1_hash.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define VSTEER_LOAD(ctx, off, dst, len)                                                                      \
	bpf_skb_load_bytes_relative((ctx), (off), (dst), (len), BPF_HDR_START_MAC)

#include "rss_abi.h"
#include "parse.h"
#include "rss_select.h"
#include "toeplitz_table.h"
#include "steering_maps.h"

static __always_inline void vsteer_count(struct __sk_buff *skb, __u32 queue, __u32 report, int rebuilt,
                                         int redirected)
{
	__u32 zero = 0;
	struct vsteer_stats *s = bpf_map_lookup_elem(&stats, &zero);
	__u64 *by_report;

	if (!s)
		return;
	s->packets++;
	s->bytes += skb->len;
	if (rebuilt > 0)
		s->table_rebuilds++;
	if (!redirected)
		s->not_redirected++;
	by_report = (__u64 *)&s->by_report;
	if (report < VSTEER_REPORT_COUNT)
		by_report[report]++;
	/* The queue returned; tun delivers it to queue % (attached queues), which
	 * only userspace knows: it folds these counts (read_stats). Tables never
	 * name a queue >= 256 (the most a tap has), so nothing is lost here. */
	s->by_queue[queue % VSTEER_MAX_QUEUES]++;
}

/*
 * The parsed flow of the packet in hand (each CPU runs one at a time, BH
 * context). A map value rather than the stack: the verifier tracks stack bytes
 * one by one, and with the flow on the stack it walked 459k instructions
 * instead of 66k (docs/bench.md). Only the 8-byte header is reset per packet:
 * every other byte the program reads is written first on the same path.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vsteer_flow);
} scratch SEC(".maps");

SEC("socket")
int vsteer_tun_steering(struct __sk_buff *skb)
{
	__u32 zero = 0, one = 1, hash = 0, queue, index;
	struct vsteer_toeplitz_cache *lo, *hi;
	struct vsteer_hash_choice choice;
	struct vsteer_rss_config *cfg;
	struct vsteer_toeplitz_key *key;
	struct vsteer_flow *w;
	int rebuilt = 0, redirected = 0;
	__u16 *entry;

	cfg = bpf_map_lookup_elem(&config, &zero);
	key = bpf_map_lookup_elem(&toeplitz_key, &zero);
	lo = bpf_map_lookup_elem(&toeplitz_cache, &zero);
	hi = bpf_map_lookup_elem(&toeplitz_cache, &one);
	w = bpf_map_lookup_elem(&scratch, &zero);
	if (!cfg || !key || !lo || !hi || !w)
		return 0;
	__builtin_memset(w, 0, __builtin_offsetof(struct vsteer_flow, in));

	vsteer_parse(skb, w, 0);
	choice = vsteer_select_hash(w, cfg->hash_types);
	if (choice.len) {
		rebuilt = vsteer_toeplitz_refresh(lo, hi, key, choice.len);
		if (rebuilt < 0)
			choice.report = VSTEER_REPORT_NONE;
		else
			hash = vsteer_toeplitz_hash(lo, hi, w->in, choice.len);
	}

	queue = cfg->default_queue;
	if (choice.report != VSTEER_REPORT_NONE && cfg->redirect && cfg->indirections_len) {
		index = hash & (cfg->indirections_len - 1) & (VSTEER_MAX_TABLE_LEN - 1);
		entry = bpf_map_lookup_elem(&indirection_table, &index);
		if (entry) {
			queue = *entry;
			redirected = 1;
		}
	}

	skb->cb[VSTEER_CB_HASH_VALUE] = hash;
	skb->cb[VSTEER_CB_HASH_REPORT] = choice.report;
	vsteer_count(skb, queue, choice.report, rebuilt, redirected);
	return queue;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
