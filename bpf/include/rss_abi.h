/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The tun steering ABI: the one definition of every structure the steering
 * program (bpf/tun_steering.bpf.c) shares with userspace (the C++ loader, the
 * tests, the guest test tools, QEMU). The XDP classifier's own ABI is
 * xdp_abi.h, which includes this one.
 *
 * The first three maps of the tun steering program are byte-compatible with
 * QEMU's ebpf-rss-fds objects, because QEMU writes them through mmap:
 *   config             ARRAY[1]   of struct vsteer_rss_config (10 bytes, packed)
 *   toeplitz_key       ARRAY[1]   of struct vsteer_toeplitz_key (40 bytes)
 *   indirection_table  ARRAY[128] of __u16 (mmap stride 8: array elements are
 *                                  rounded up to 8 bytes)
 * all with one __u32 key and BPF_F_MMAPABLE.
 *
 * Nothing here may change size or offset without breaking QEMU: the
 * static_asserts at the bottom pin the layout.
 */
#ifndef VSTEER_RSS_ABI_H
#define VSTEER_RSS_ABI_H

#ifdef __bpf__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <stddef.h>
#endif

#define VSTEER_KEY_SIZE 40       /* virtio-net RSS key, bytes */
#define VSTEER_KEY_NEXT_BYTES 36 /* key bytes after the first 32 bits */
#define VSTEER_MAX_TABLE_LEN 128 /* indirection table entries */
#define VSTEER_MAX_QUEUES 256    /* tun's MAX_TAP_QUEUES */
#define VSTEER_MAX_HASH_INPUT 36 /* IPv6 src + dst + ports */
#define VSTEER_TABLE_STRIDE 8    /* mmap stride of one indirection entry */

/* virtio-net hash type bits (virtio 1.3, 5.1.6.4.3.1). */
enum vsteer_hash_type {
	VSTEER_HASH_IPV4 = 1u << 0,
	VSTEER_HASH_TCPV4 = 1u << 1,
	VSTEER_HASH_UDPV4 = 1u << 2,
	VSTEER_HASH_IPV6 = 1u << 3,
	VSTEER_HASH_TCPV6 = 1u << 4,
	VSTEER_HASH_UDPV6 = 1u << 5,
	VSTEER_HASH_IP_EX = 1u << 6,
	VSTEER_HASH_TCP_EX = 1u << 7,
	VSTEER_HASH_UDP_EX = 1u << 8,
};
#define VSTEER_HASH_ALL 0x1ffu
/* The default set: everything but the _EX types. */
#define VSTEER_HASH_DEFAULT 0x3fu

/* virtio-net hash report values (virtio_net_hdr_v1_hash.hash_report). */
enum vsteer_report {
	VSTEER_REPORT_NONE = 0,
	VSTEER_REPORT_IPV4 = 1,
	VSTEER_REPORT_TCPV4 = 2,
	VSTEER_REPORT_UDPV4 = 3,
	VSTEER_REPORT_IPV6 = 4,
	VSTEER_REPORT_TCPV6 = 5,
	VSTEER_REPORT_UDPV6 = 6,
	VSTEER_REPORT_IPV6_EX = 7,
	VSTEER_REPORT_TCPV6_EX = 8,
	VSTEER_REPORT_UDPV6_EX = 9,
};
#define VSTEER_REPORT_COUNT 10

/* QEMU's rss_config_t: written by QEMU (or vsteer) through mmap. */
struct vsteer_rss_config {
	__u8 redirect;          /* 0: hash-report-only, queue = default_queue */
	__u8 populate_hash;     /* QEMU bookkeeping; the program always reports */
	__u32 hash_types;       /* enum vsteer_hash_type bits */
	__u16 indirections_len; /* power of two, 1..128 */
	__u16 default_queue;    /* the unclassified queue */
} __attribute__((packed));

/* QEMU's toeplitz_key_data_t: key bytes 0..3 as one host-order word. */
struct vsteer_toeplitz_key {
	__u32 leftmost_32_bits;
	__u8 next_byte[VSTEER_KEY_NEXT_BYTES];
};

/*
 * Per-CPU lookup table built from the key: table[pos][byte] is the Toeplitz
 * contribution of input byte `byte` at input position `pos`. 36 x 256 x 4
 * bytes exceed the per-CPU value limit (32 KiB), so the table is split into two
 * halves of 18 positions, one array entry each. `key` is the key the table was
 * built from, compared with the live key on every packet, and `built` the
 * number of positions built from it (entry 0 only): IPv4 inputs need the
 * first 12, so IPv4-only traffic never builds the rest (toeplitz_table.h).
 */
#define VSTEER_TOEPLITZ_HALF 18
struct vsteer_toeplitz_cache {
	struct vsteer_toeplitz_key key;
	__u32 built; /* positions 0..built-1 match `key` */
	__u32 pad;
	__u32 table[VSTEER_TOEPLITZ_HALF][256];
};

/* Packet counts per report type; one named field per virtio report value. */
struct vsteer_report_counters {
	__u64 none;
	__u64 ipv4;
	__u64 tcpv4;
	__u64 udpv4;
	__u64 ipv6;
	__u64 tcpv6;
	__u64 udpv6;
	__u64 ipv6_ex;
	__u64 tcpv6_ex;
	__u64 udpv6_ex;
};

/* Per-CPU counters of the steering program (the `stats` map, one entry). */
struct vsteer_stats {
	__u64 packets;
	__u64 bytes;
	__u64 table_rebuilds; /* key changes seen by this CPU */
	__u64 not_redirected; /* redirect == 0 or empty table */
	struct vsteer_report_counters by_report;
	__u64 by_queue[VSTEER_MAX_QUEUES];
};

/*
 * The stamp of a pin set (the `meta` map, one entry; never read by the program).
 * VSTEER_PIN_ABI counts changes of the pinned maps' layout or meaning: a vsteer
 * refuses pins of a higher ABI, and pins whose maps differ from its own in type,
 * key, value, size or flags. Pins from before the stamp have an 8-byte meta
 * value (queues, 0) and ABI 0; their other maps are those of ABI 1.
 */
#define VSTEER_PIN_ABI 1
#define VSTEER_META_V0_SIZE 8
enum vsteer_prog_kind {
	VSTEER_PROG_VSTEER = 1, /* tun_steering.bpf.c of the vsteer that pinned it */
	VSTEER_PROG_QEMU = 2,   /* QEMU's own RSS program (vsteer qemu-object) */
};
struct vsteer_meta {
	__u32 queues;       /* queues the configuration was validated against */
	__u32 abi;          /* VSTEER_PIN_ABI of the vsteer that made the pins */
	__u32 prog_kind;    /* enum vsteer_prog_kind */
	__u32 prog_version; /* hash of the BPF object the pinned program came from */
};

/* Indices of the __sk_buff->cb words the steering program writes. */
#define VSTEER_CB_HASH_VALUE 0
#define VSTEER_CB_HASH_REPORT 1

/* Names under which `vsteer attach` pins the objects in its pin directory. */
#define VSTEER_PIN_PROG "prog"
#define VSTEER_PIN_CONFIG "config"
#define VSTEER_PIN_KEY "toeplitz_key"
#define VSTEER_PIN_TABLE "indirection_table"
#define VSTEER_PIN_STATS "stats"
#define VSTEER_PIN_CACHE "toeplitz_cache"
#define VSTEER_PIN_META "meta"

#ifdef __cplusplus
#define VSTEER_STATIC_ASSERT static_assert
#else
#define VSTEER_STATIC_ASSERT _Static_assert
#endif

VSTEER_STATIC_ASSERT(sizeof(struct vsteer_rss_config) == 10, "QEMU rss_config_t is 10 bytes");
VSTEER_STATIC_ASSERT(offsetof(struct vsteer_rss_config, redirect) == 0, "redirect at 0");
VSTEER_STATIC_ASSERT(offsetof(struct vsteer_rss_config, populate_hash) == 1, "populate_hash at 1");
VSTEER_STATIC_ASSERT(offsetof(struct vsteer_rss_config, hash_types) == 2, "hash_types at 2");
VSTEER_STATIC_ASSERT(offsetof(struct vsteer_rss_config, indirections_len) == 6, "len at 6");
VSTEER_STATIC_ASSERT(offsetof(struct vsteer_rss_config, default_queue) == 8, "default_queue at 8");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_toeplitz_key) == VSTEER_KEY_SIZE, "key map value is 40 bytes");
VSTEER_STATIC_ASSERT(offsetof(struct vsteer_toeplitz_key, next_byte) == 4, "next_byte at 4");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_report_counters) == VSTEER_REPORT_COUNT * 8,
                     "one counter per report value");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_toeplitz_cache) <= 32768, "per-CPU value limit");
VSTEER_STATIC_ASSERT(offsetof(struct vsteer_toeplitz_cache, table) == 48, "table at 48");
VSTEER_STATIC_ASSERT(offsetof(struct vsteer_stats, by_report) == 32, "by_report at 32");
VSTEER_STATIC_ASSERT(offsetof(struct vsteer_stats, by_queue) == 32 + VSTEER_REPORT_COUNT * 8,
                     "by_queue after by_report");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_stats) == 112 + VSTEER_MAX_QUEUES * 8, "stats layout");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_meta) == 16, "meta stamp is 16 bytes");
VSTEER_STATIC_ASSERT(offsetof(struct vsteer_meta, queues) == 0, "queues first, as in the 8-byte meta");
VSTEER_STATIC_ASSERT(2 * VSTEER_TOEPLITZ_HALF == VSTEER_MAX_HASH_INPUT, "two halves cover the input");

#endif /* VSTEER_RSS_ABI_H */
