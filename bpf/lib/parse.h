/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet parsing for virtio-net RSS (docs: shared rss-semantics.md, "Parsing").
 * Shared by the tun steering program and the XDP classifier: the including
 * program defines VSTEER_LOAD(ctx, offset, dst, len), returning 0 on success,
 * with offsets counted from the start of the Ethernet header. `classify` is a
 * compile-time constant: the classifier (1) also wants SCTP ports and ICMP,
 * which never change the RSS hash; the steering program (0) skips them.
 */
#ifndef VSTEER_BPF_PARSE_H
#define VSTEER_BPF_PARSE_H

#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "rss_abi.h"

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

/*
 * What the hash may be computed over, laid out as the hash input itself so
 * that the hash reads it in place: source address, destination address,
 * source port, destination port, as in the packet (network order).
 *   IPv4: in[0..3] src, in[4..7] dst, in[8..11] ports
 *   IPv6: in[0..15] src, in[16..31] dst, in[32..35] ports
 * The _EX hash types take home_addr / final_dst instead (rss_select.h).
 */
struct vsteer_flow {
	__u8 l3;            /* 0: not IP, 4 or 6 */
	__u8 l4;            /* 0: none, VSTEER_IPPROTO_TCP or VSTEER_IPPROTO_UDP */
	__u8 ip_proto;      /* classify only: the L4 header in the packet: TCP/UDP as in
	                     * l4, SCTP (ports in `in`, l4 stays 0), ICMP/ICMPv6; 0 for
	                     * fragments, truncated or other L4 */
	__u8 has_home_addr; /* IPv6 Destination Options Home Address found */
	__u8 has_final_dst; /* IPv6 type-2 Routing header found */
	__u8 pad[3];
	__u8 in[VSTEER_MAX_HASH_INPUT];
	__u8 home_addr[16];
	__u8 final_dst[16];
} __attribute__((aligned(4))); /* word copies into `in`; no change of layout */

#define VSTEER_FLOW_PORTS4 8  /* in[] offset of the ports, IPv4 */
#define VSTEER_FLOW_PORTS6 32 /* in[] offset of the ports, IPv6 */

static __always_inline const __u8 *vsteer_flow_dst(const struct vsteer_flow *f)
{
	return f->l3 == 6 ? &f->in[16] : &f->in[4];
}

static __always_inline __u8 *vsteer_flow_ports(struct vsteer_flow *f)
{
	return f->l3 == 6 ? &f->in[VSTEER_FLOW_PORTS6] : &f->in[VSTEER_FLOW_PORTS4];
}

/*
 * Loads the TCP or UDP ports at `off` (into the flow's port slot for f->l3) if
 * the whole L4 header is in the packet.
 */
static __always_inline void vsteer_parse_l4(void *ctx, __u32 off, __u8 proto, struct vsteer_flow *f,
                                            const int classify)
{
	__u8 hdr[20], last;

	if (classify && proto == VSTEER_IPPROTO_SCTP) { /* 12-byte common header, ports first */
		if (!VSTEER_LOAD(ctx, off + 11, &last, 1) && !VSTEER_LOAD(ctx, off, hdr, 4)) {
			__builtin_memcpy(vsteer_flow_ports(f), hdr, 4);
			f->ip_proto = proto;
		}
		return;
	}
	if (classify && (proto == VSTEER_IPPROTO_ICMP || proto == VSTEER_IPPROTO_ICMPV6)) {
		if (!VSTEER_LOAD(ctx, off + 3, &last, 1)) /* type, code, checksum */
			f->ip_proto = proto;
		return;
	}
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
	__builtin_memcpy(vsteer_flow_ports(f), hdr, 4); /* sport and dport are adjacent */
	f->l4 = proto;
	if (classify)
		f->ip_proto = proto;
}

static __always_inline void vsteer_parse_ipv4(void *ctx, __u32 off, struct vsteer_flow *f, const int classify)
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
	__builtin_memcpy(f->in, &ip.saddr, 8); /* saddr and daddr are adjacent */
	if (ip.frag_off & bpf_htons(0x3fff))   /* MF or a fragment offset */
		return;
	vsteer_parse_l4(ctx, off + hdr_len, ip.protocol, f, classify);
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

static __always_inline void vsteer_parse_ipv6(void *ctx, __u32 off, struct vsteer_flow *f, const int classify)
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
	__builtin_memcpy(f->in, ip6.saddr, 32); /* saddr and daddr are adjacent */
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
		vsteer_parse_l4(ctx, off, next, f, classify);
}

/*
 * VSTEER_HEADER(ctx, off, buf, len): a pointer to the `len` bytes at `off`, or
 * NULL if the frame is shorter. A program that reads the packet directly (XDP)
 * defines it to point into the packet, so the fast path below reads each field
 * once, straight from the frame; by default the bytes are copied into `buf`
 * with VSTEER_LOAD.
 */
#ifndef VSTEER_HEADER
#define VSTEER_HEADER(ctx, off, buf, len)                                                                    \
	(VSTEER_LOAD((ctx), (off), (buf), (len)) ? NULL : (const __u8 *)(buf))
#endif

/* A 4-byte word of the header at `p`: one load (the BPF target would make a
 * memcpy from a byte pointer four byte loads). */
static __always_inline __u32 vsteer_word(const __u8 *p)
{
	return *(const __u32 *)p;
}

/*
 * An IPv4 header without options at `ip`, followed in the
 * frame by at least `room` bytes: 20 on the one-load path, 8 for a short frame
 * (42..53 bytes: UDP or ICMP with little payload). Fills the addresses and,
 * for a whole TCP/UDP header, the ports, as vsteer_parse_l4 would. Returns 1
 * if parsed, 0 for the general path (options; an SCTP header that may be whole
 * beyond `room`).
 */
static __always_inline int vsteer_parse_ipv4_plain(const __u8 *ip, struct vsteer_flow *f, const int classify,
                                                   const __u32 room)
{
	__u32 *in = (__u32 *)f->in;
	__u8 proto = ip[9];

	if (ip[0] != 0x45 || (proto == VSTEER_IPPROTO_SCTP && room < 12))
		return 0;
	f->l3 = 4;
	/* Addresses and the first 4 bytes after the header, in hash input order;
	 * the bytes after the addresses count as ports only with f->l4. */
	in[0] = vsteer_word(&ip[12]);
	in[1] = vsteer_word(&ip[16]);
	in[2] = vsteer_word(&ip[20]);
	if ((ip[6] & 0x3f) || ip[7]) /* MF or a fragment offset */
		return 1;
	if ((proto == VSTEER_IPPROTO_TCP && room >= 20) || proto == VSTEER_IPPROTO_UDP) {
		f->l4 = proto;
		if (classify)
			f->ip_proto = proto;
	} else if (classify && (proto == VSTEER_IPPROTO_SCTP || proto == VSTEER_IPPROTO_ICMP ||
	                        proto == VSTEER_IPPROTO_ICMPV6)) {
		f->ip_proto = proto; /* as vsteer_parse_l4: its first bytes are there */
	}
	return 1;
}

/*
 * The common case in one load: bytes 10..53 (the end of the source MAC, the
 * EtherType and 40 bytes) hold an untagged IPv4 header without options and a
 * whole TCP or UDP header, or an untagged IPv6 header. The load starts 2 bytes
 * before the EtherType so that the IP header lies 4-byte aligned in a copy,
 * and the copies into the flow are word copies. Returns 1 if the frame is
 * fully parsed, 0 to take the general path (tags, options, extension headers,
 * truncated frames), which gives the same result for these frames, only with
 * more loads.
 */
static __always_inline int vsteer_parse_fast(void *ctx, struct vsteer_flow *f, const int classify)
{
	__u8 buf[44] __attribute__((aligned(8)));
	const __u8 *w = VSTEER_HEADER(ctx, 10, buf, sizeof(buf)), *ip;
	__u32 *in = (__u32 *)f->in;
	__u8 proto;

	if (!w) {
		w = VSTEER_HEADER(ctx, 10, buf, 32); /* a short frame: 42..53 bytes */
		if (!w || w[2] != 0x08 || w[3] != 0x00)
			return 0;
		return vsteer_parse_ipv4_plain(&w[4], f, classify, 8);
	}
	ip = &w[4];
	if (w[2] == 0x08 && w[3] == 0x00) /* IPv4 */
		return vsteer_parse_ipv4_plain(ip, f, classify, 20);
	if (w[2] == 0x86 && w[3] == 0xDD) { /* IPv6 */
		proto = ip[6];
		if ((ip[0] >> 4) != 6 || proto == VSTEER_IPPROTO_HOPOPTS || proto == VSTEER_IPPROTO_ROUTING ||
		    proto == VSTEER_IPPROTO_DSTOPTS || proto == VSTEER_IPPROTO_FRAGMENT)
			return 0;
		f->l3 = 6;
#pragma unroll
		for (int i = 0; i < 8; i++)
			in[i] = vsteer_word(&ip[8 + 4 * i]);
		vsteer_parse_l4(ctx, 54, proto, f, classify);
		return 1;
	}
	return 0;
}

/* Fills `f` from the frame; f must be zeroed by the caller. */
static __always_inline void vsteer_parse(void *ctx, struct vsteer_flow *f, const int classify)
{
	__u32 off = 12;
	__be16 proto;

	if (vsteer_parse_fast(ctx, f, classify))
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
		vsteer_parse_ipv4(ctx, off, f, classify);
	else if (proto == bpf_htons(VSTEER_ETH_P_IPV6))
		vsteer_parse_ipv6(ctx, off, f, classify);
}

#endif /* VSTEER_BPF_PARSE_H */
