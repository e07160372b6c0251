/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet parsing for virtio-net RSS (docs: shared rss-semantics.md, "Parsing").
 * Shared by the tun steering program and the XDP classifier: the including
 * program defines VSTEER_LOAD(ctx, offset, dst, len), returning 0 on success,
 * with offsets counted from the start of the Ethernet header.
 */
#ifndef VSTEER_BPF_PARSE_H
#define VSTEER_BPF_PARSE_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef VSTEER_LOAD
#error "define VSTEER_LOAD(ctx, offset, dst, len) before including parse.h"
#endif

#define VSTEER_ETH_P_IP 0x0800
#define VSTEER_ETH_P_IPV6 0x86DD
#define VSTEER_ETH_P_8021Q 0x8100
#define VSTEER_ETH_P_8021AD 0x88A8
#define VSTEER_MAX_VLAN_TAGS 2
#define VSTEER_MAX_EXT_HEADERS 8   /* the walk limit; the contract asks for >= 8 */
#define VSTEER_MAX_DEST_OPTIONS 16 /* TLV options examined per Destination Options header */

#define VSTEER_IPPROTO_HOPOPTS 0
#define VSTEER_IPPROTO_TCP 6
#define VSTEER_IPPROTO_UDP 17
#define VSTEER_IPPROTO_ROUTING 43
#define VSTEER_IPPROTO_ICMP 1
#define VSTEER_IPPROTO_ICMPV6 58
#define VSTEER_IPPROTO_SCTP 132
#define VSTEER_IPPROTO_FRAGMENT 44
#define VSTEER_IPPROTO_DSTOPTS 60
#define VSTEER_IPV6_TLV_PAD1 0
#define VSTEER_IPV6_TLV_HAO 0xC9

/* What the hash may be computed over. Addresses and ports in network order. */
struct vsteer_flow {
	__u8 l3;            /* 0: not IP, 4 or 6 */
	__u8 l4;            /* 0: none, VSTEER_IPPROTO_TCP or VSTEER_IPPROTO_UDP */
	__u8 has_home_addr; /* IPv6 Destination Options Home Address found */
	__u8 has_final_dst; /* IPv6 type-2 Routing header found */
	__be16 sport;
	__be16 dport;
	__u8 src[16]; /* IPv4 uses the first 4 bytes */
	__u8 dst[16];
	__u8 home_addr[16];
	__u8 final_dst[16];
#ifdef VSTEER_PARSE_CLASSIFY
	/* Classifier-only (the XDP program defines VSTEER_PARSE_CLASSIFY): the L4
	 * protocol whose header is in the packet: TCP/UDP as in l4, and also SCTP
	 * (ports in sport/dport, l4 stays 0 so the hash choice is unchanged) and
	 * ICMP/ICMPv6 (ports 0). 0 for fragments, truncated or other L4. */
	__u8 ip_proto;
#endif
};

/* Loads the TCP or UDP ports at `off` if the whole L4 header is in the packet. */
static __always_inline void vsteer_parse_l4(void *ctx, __u32 off, __u8 proto, struct vsteer_flow *f)
{
	__u8 hdr[20], last;

#ifdef VSTEER_PARSE_CLASSIFY
	if (proto == VSTEER_IPPROTO_SCTP) { /* 12-byte common header, ports first */
		if (!VSTEER_LOAD(ctx, off + 11, &last, 1) && !VSTEER_LOAD(ctx, off, &f->sport, 4))
			f->ip_proto = proto;
		return;
	}
	if (proto == VSTEER_IPPROTO_ICMP || proto == VSTEER_IPPROTO_ICMPV6) {
		if (!VSTEER_LOAD(ctx, off + 3, &last, 1)) /* type, code, checksum */
			f->ip_proto = proto;
		return;
	}
#endif
	/* One load of the whole header proves it is there and brings the ports. */
	if (proto == VSTEER_IPPROTO_TCP) {
		if (VSTEER_LOAD(ctx, off, hdr, 20))
			return;
	} else if (proto == VSTEER_IPPROTO_UDP) {
		if (VSTEER_LOAD(ctx, off, hdr, 8))
			return;
	} else {
		return;
	}
	(void)last;
	__builtin_memcpy(&f->sport, hdr, 4); /* sport and dport are adjacent */
	f->l4 = proto;
#ifdef VSTEER_PARSE_CLASSIFY
	f->ip_proto = proto;
#endif
}

static __always_inline void vsteer_parse_ipv4(void *ctx, __u32 off, struct vsteer_flow *f)
{
	struct {
		__u8 ver_ihl;
		__u8 tos;
		__be16 tot_len;
		__be16 id;
		__be16 frag_off;
		__u8 ttl;
		__u8 protocol;
		__be16 check;
		__be32 saddr;
		__be32 daddr;
	} ip;
	__u32 hdr_len;
	__u8 last;

	if (VSTEER_LOAD(ctx, off, &ip, sizeof(ip)))
		return;
	if ((ip.ver_ihl >> 4) != 4 || (ip.ver_ihl & 0xf) < 5)
		return;
	hdr_len = (ip.ver_ihl & 0xf) * 4;
	if (hdr_len > sizeof(ip) && VSTEER_LOAD(ctx, off + hdr_len - 1, &last, 1))
		return; /* the options run past the end */

	f->l3 = 4;
	__builtin_memcpy(f->src, &ip.saddr, 4);
	__builtin_memcpy(f->dst, &ip.daddr, 4);
	if (ip.frag_off & bpf_htons(0x3fff)) /* MF or a fragment offset */
		return;
	vsteer_parse_l4(ctx, off + hdr_len, ip.protocol, f);
}

/* Looks for a Home Address option inside the Destination Options header at `off`. */
static __always_inline void vsteer_find_home_addr(void *ctx, __u32 off, __u32 end, struct vsteer_flow *f)
{
	__u32 opt = off + 2;
	__u8 tl[2];

	for (int i = 0; i < VSTEER_MAX_DEST_OPTIONS; i++) {
		if (opt >= end)
			return;
		if (VSTEER_LOAD(ctx, opt, tl, 1))
			return;
		if (tl[0] == VSTEER_IPV6_TLV_PAD1) {
			opt += 1;
			continue;
		}
		if (opt + 2 > end || VSTEER_LOAD(ctx, opt + 1, &tl[1], 1))
			return;
		if (tl[0] == VSTEER_IPV6_TLV_HAO && tl[1] == 16) {
			if (opt + 18 <= end && !VSTEER_LOAD(ctx, opt + 2, f->home_addr, 16))
				f->has_home_addr = 1;
			return;
		}
		opt += 2 + tl[1];
	}
}

static __always_inline void vsteer_parse_ipv6(void *ctx, __u32 off, struct vsteer_flow *f)
{
	struct {
		__be32 ver_tc_flow;
		__be16 payload_len;
		__u8 nexthdr;
		__u8 hop_limit;
		__u8 saddr[16];
		__u8 daddr[16];
	} ip6;
	__u8 next, fragmented = 0;
	int i;

	if (VSTEER_LOAD(ctx, off, &ip6, sizeof(ip6)))
		return;
	if ((bpf_ntohl(ip6.ver_tc_flow) >> 28) != 6)
		return;
	f->l3 = 6;
	__builtin_memcpy(f->src, ip6.saddr, 16);
	__builtin_memcpy(f->dst, ip6.daddr, 16);
	next = ip6.nexthdr;
	off += sizeof(ip6);

	for (i = 0; i < VSTEER_MAX_EXT_HEADERS; i++) {
		/* nexthdr, hdr ext len, routing type, segments left */
		__u8 h[4];
		__u32 len;
		__u8 last;

		if (next != VSTEER_IPPROTO_HOPOPTS && next != VSTEER_IPPROTO_ROUTING &&
		    next != VSTEER_IPPROTO_DSTOPTS && next != VSTEER_IPPROTO_FRAGMENT)
			break;
		if (VSTEER_LOAD(ctx, off, h, 2))
			return; /* the chain runs past the end */
		len = next == VSTEER_IPPROTO_FRAGMENT ? 8 : ((__u32)h[1] + 1) * 8;
		if (VSTEER_LOAD(ctx, off + len - 1, &last, 1))
			return;

		if (next == VSTEER_IPPROTO_FRAGMENT) {
			fragmented = 1;
		} else if (next == VSTEER_IPPROTO_ROUTING) {
			if (!f->has_final_dst && !VSTEER_LOAD(ctx, off + 2, &h[2], 2) && h[2] == 2 &&
			    h[1] == 2 && h[3] == 1 && !VSTEER_LOAD(ctx, off + 8, f->final_dst, 16))
				f->has_final_dst = 1;
		} else if (next == VSTEER_IPPROTO_DSTOPTS) {
			if (!f->has_home_addr)
				vsteer_find_home_addr(ctx, off, off + len, f);
		}
		next = h[0];
		off += len;
	}
	if (i == VSTEER_MAX_EXT_HEADERS &&
	    (next == VSTEER_IPPROTO_HOPOPTS || next == VSTEER_IPPROTO_ROUTING ||
	     next == VSTEER_IPPROTO_DSTOPTS || next == VSTEER_IPPROTO_FRAGMENT))
		return; /* past the walk limit */
	if (!fragmented)
		vsteer_parse_l4(ctx, off, next, f);
}

/*
 * The common case in one load: bytes 12..53 (EtherType + 40 bytes) hold an
 * untagged IPv4 header without options and a whole TCP or UDP header, or an
 * untagged IPv6 header. Returns 1 if the frame is fully parsed, 0 to take the
 * general path (tags, options, extension headers, short frames), which gives
 * the same result for these frames, only with more loads.
 */
static __always_inline int vsteer_parse_fast(void *ctx, struct vsteer_flow *f)
{
	__u8 w[42];
	const __u8 *ip = &w[2];

	if (VSTEER_LOAD(ctx, 12, w, sizeof(w)))
		return 0;
	if (w[0] == 0x08 && w[1] == 0x00) { /* IPv4 */
		if (ip[0] != 0x45)
			return 0;
		f->l3 = 4;
		__builtin_memcpy(f->src, &ip[12], 4);
		__builtin_memcpy(f->dst, &ip[16], 4);
		if ((ip[6] & 0x3f) || ip[7]) /* MF or a fragment offset */
			return 1;
		if (ip[9] == VSTEER_IPPROTO_TCP || ip[9] == VSTEER_IPPROTO_UDP) {
			__builtin_memcpy(&f->sport, &ip[20], 4); /* the whole header is in w */
			f->l4 = ip[9];
#ifdef VSTEER_PARSE_CLASSIFY /* as vsteer_parse_l4 does: SCTP ports, ICMP */
			f->ip_proto = ip[9];
		} else if (ip[9] == VSTEER_IPPROTO_SCTP) {
			__builtin_memcpy(&f->sport, &ip[20], 4); /* 12-byte header, in w */
			f->ip_proto = ip[9];
		} else if (ip[9] == VSTEER_IPPROTO_ICMP || ip[9] == VSTEER_IPPROTO_ICMPV6) {
			f->ip_proto = ip[9];
#endif
		}
		return 1;
	}
	if (w[0] == 0x86 && w[1] == 0xDD) { /* IPv6 */
		__u8 next = ip[6];

		if ((ip[0] >> 4) != 6 || next == VSTEER_IPPROTO_HOPOPTS || next == VSTEER_IPPROTO_ROUTING ||
		    next == VSTEER_IPPROTO_DSTOPTS || next == VSTEER_IPPROTO_FRAGMENT)
			return 0;
		f->l3 = 6;
		__builtin_memcpy(f->src, &ip[8], 16);
		__builtin_memcpy(f->dst, &ip[24], 16);
		vsteer_parse_l4(ctx, 54, next, f);
		return 1;
	}
	return 0;
}

/* Fills `f` from the frame; f must be zeroed by the caller. */
static __always_inline void vsteer_parse(void *ctx, struct vsteer_flow *f)
{
	__u32 off = 12;
	__be16 proto;

	if (vsteer_parse_fast(ctx, f))
		return;

	if (VSTEER_LOAD(ctx, off, &proto, 2))
		return;
#pragma unroll
	for (int i = 0; i < VSTEER_MAX_VLAN_TAGS; i++) {
		if (proto != bpf_htons(VSTEER_ETH_P_8021Q) && proto != bpf_htons(VSTEER_ETH_P_8021AD))
			break;
		off += 4;
		if (VSTEER_LOAD(ctx, off, &proto, 2))
			return;
	}
	off += 2;
	if (proto == bpf_htons(VSTEER_ETH_P_IP))
		vsteer_parse_ipv4(ctx, off, f);
	else if (proto == bpf_htons(VSTEER_ETH_P_IPV6))
		vsteer_parse_ipv6(ctx, off, f);
}

#endif /* VSTEER_BPF_PARSE_H */
