/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * vsteer ABI: the one definition of every structure shared between the BPF
 * programs and userspace (the C++ loader, the tests, the guest test tools).
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
#ifndef VSTEER_ABI_H
#define VSTEER_ABI_H

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
 * built from, compared with the live key on every packet (entry 0 only).
 */
#define VSTEER_TOEPLITZ_HALF 18
struct vsteer_toeplitz_cache {
	struct vsteer_toeplitz_key key;
	__u32 built; /* non-zero once the table matches `key` */
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

/* What the loader remembers about the tap (the `meta` map, one entry). */
struct vsteer_meta {
	__u32 queues; /* queues the configuration was validated against */
	__u32 reserved;
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
VSTEER_STATIC_ASSERT(2 * VSTEER_TOEPLITZ_HALF == VSTEER_MAX_HASH_INPUT, "two halves cover the input");

/* ======================================================================== */
/*
 * XDP classifier and tc east-west program (bpf/xdp_classify.bpf.c,
 * bpf/tc_eastwest.bpf.c, docs/xdp.md). Everything below is owned by the XDP
 * part; it shares nothing with the QEMU layout above except that the per-VM
 * RSS policy maps are the tap's own config / toeplitz_key / indirection_table
 * maps, held in ARRAY_OF_MAPS slots indexed by VM id.
 */
#include <linux/bpf.h> /* struct bpf_spin_lock */

#define VSTEER_XDP_MAX_VMS 64
#define VSTEER_XDP_MAX_RULES 1024
#define VSTEER_XDP_MAX_PREFIXES 1024 /* per address family */
#define VSTEER_XDP_MAX_MACS 256
#define VSTEER_XDP_MAX_CPUS 256 /* cpumap size upper bound (set to possible CPUs) */
#define VSTEER_XDP_NAME_LEN 32
#define VSTEER_XDP_IFNAME_LEN 16
#define VSTEER_XDP_STATS_QUEUES 64        /* per-VM per-queue counters (queues beyond share the last) */
#define VSTEER_XDP_META_MAGIC 0x76735831u /* "vsX1" */

/* What happens to a packet. Rules may also say VM: "whatever the VM's action is". */
enum vsteer_xdp_action {
	VSTEER_XDP_PASS = 0, /* to the host stack on this CPU */
	VSTEER_XDP_DROP = 1,
	VSTEER_XDP_TAP = 2,      /* devmap redirect into the VM's tap from this CPU */
	VSTEER_XDP_CPU = 3,      /* cpumap to the CPU of the guest queue, then into the tap */
	VSTEER_XDP_CPU_PASS = 4, /* cpumap to the CPU of the guest queue, then the host stack */
	VSTEER_XDP_VM = 5,       /* rules only: the target VM's own action */
};
#define VSTEER_XDP_ACTION_COUNT 6

/* How the packet was classified. */
enum vsteer_xdp_match {
	VSTEER_XDP_MATCH_NONE = 0,
	VSTEER_XDP_MATCH_RULE = 1,
	VSTEER_XDP_MATCH_MAC = 2,
	VSTEER_XDP_MATCH_PREFIX = 3,
};

#define VSTEER_XDP_NO_VM 0xffffu

/* One VM (xdp_vms ARRAY, index = VM id). */
struct vsteer_xdp_vm {
	__u32 in_use;           /* 0: free slot */
	__u32 tap_ifindex;      /* the VM's tap (also in xdp_tap_devmap[VM id]) */
	__u32 action;           /* enum vsteer_xdp_action, never VM */
	__u32 num_queue_cpus;   /* entries of queue_cpu in use, >= 1 */
	__u64 rate_interval_ns; /* token bucket: ns per packet, 0 = unlimited */
	__u64 rate_burst_ns;    /* allowed advance of the bucket (burst - 1) * interval */
	__u32 rate_pps;         /* as given, for display */
	__u32 rate_burst;
	char name[VSTEER_XDP_NAME_LEN];
	char tap[VSTEER_XDP_IFNAME_LEN];
	__u16 queue_cpu[VSTEER_MAX_QUEUES]; /* guest queue q -> CPU queue_cpu[q % num_queue_cpus] */
};

/* Token bucket state (xdp_rate ARRAY, index = VM id), as a GCRA time. */
struct vsteer_xdp_rate_state {
	struct bpf_spin_lock lock;
	__u32 pad;
	__u64 tat_ns; /* theoretical arrival time of the next conforming packet */
};

/* Exact 5-tuple rule key (xdp_rules HASH). Addresses and ports in network order,
 * IPv4 in the first 4 bytes of src/dst, the rest zero. ICMP rules have ports 0. */
struct vsteer_xdp_rule_key {
	__u8 family; /* 4 or 6 */
	__u8 proto;  /* TCP 6, UDP 17, SCTP 132, ICMP 1, ICMPv6 58 */
	__u16 pad;
	__be16 sport;
	__be16 dport;
	__u8 src[16];
	__u8 dst[16];
};

struct vsteer_xdp_rule {
	__u32 id;     /* index in xdp_rule_stats, 0..VSTEER_XDP_MAX_RULES-1 */
	__u32 action; /* PASS, DROP or VM */
	__u32 vm;     /* with VM */
	__u32 pad;
};

/* Destination MAC (xdp_macs HASH -> __u32 VM id). */
struct vsteer_xdp_mac_key {
	__u8 addr[6];
	__u16 pad;
};

/* LPM trie keys for destination prefixes (xdp_prefix4 / xdp_prefix6 -> __u32 VM id). */
struct vsteer_xdp_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};
struct vsteer_xdp_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Verdicts by action; one named field per enum vsteer_xdp_action outcome. */
struct vsteer_xdp_action_counters {
	__u64 pass;
	__u64 drop;
	__u64 redirect_tap;
	__u64 redirect_cpu;
	__u64 redirect_cpu_pass;
	__u64 rate_limited;   /* dropped by the VM's token bucket */
	__u64 redirect_error; /* target missing (no cpumap entry / tap): passed instead */
};

/* Per-CPU, per VM (xdp_vm_stats PERCPU_ARRAY, index = VM id). */
struct vsteer_xdp_vm_stats {
	__u64 packets;
	__u64 bytes;
	struct vsteer_xdp_action_counters by_action;
	__u64 cpumap_delivered;                  /* handled by the cpumap program on this CPU */
	__u64 eastwest;                          /* redirected here by the tc east-west program */
	__u64 no_policy;                         /* CPU action without the VM's RSS maps: queue 0 */
	__u64 by_queue[VSTEER_XDP_STATS_QUEUES]; /* guest queue chosen (CPU actions) */
};

/* Per-CPU, per rule (xdp_rule_stats PERCPU_ARRAY, index = rule id). */
struct vsteer_xdp_rule_stats {
	__u64 packets;
	__u64 bytes;
};

/* Per-CPU totals (xdp_stats PERCPU_ARRAY[1]). */
struct vsteer_xdp_stats {
	__u64 packets;
	__u64 bytes;
	__u64 matched_rule;
	__u64 matched_mac;
	__u64 matched_prefix;
	__u64 unmatched;
	__u64 stale_vm;      /* matched a VM id whose slot is free */
	__u64 meta_fallback; /* cpumap program re-classified (no metadata) */
	struct vsteer_xdp_action_counters by_action;
};

/* XDP metadata the classifier writes in front of the frame: read by the cpumap
 * program (and by the BPF_PROG_TEST_RUN tests, which see it in data_out). */
struct vsteer_xdp_meta {
	__u32 magic; /* VSTEER_XDP_META_MAGIC */
	__u16 vm;    /* VSTEER_XDP_NO_VM if none */
	__u16 queue; /* guest queue (CPU actions) */
	__u32 cpu;   /* target CPU (CPU actions) */
	__u32 hash;  /* RSS hash (CPU actions) */
	__u8 report; /* enum vsteer_report */
	__u8 action; /* final enum vsteer_xdp_action */
	__u8 match;  /* enum vsteer_xdp_match */
	__u8 pad;
	__u32 rule; /* rule id with MATCH_RULE */
};

/* Names of the XDP pins under the XDP pin directory (default /sys/fs/bpf/vsteer-xdp). */
#define VSTEER_XDP_PIN_ROOT "/sys/fs/bpf/vsteer-xdp"

VSTEER_STATIC_ASSERT(sizeof(struct vsteer_xdp_vm) == 88 + 2 * VSTEER_MAX_QUEUES, "vm slot layout");
VSTEER_STATIC_ASSERT(offsetof(struct vsteer_xdp_vm, queue_cpu) == 88, "queue_cpu at 88");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_xdp_rate_state) == 16, "rate state is 16 bytes");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_xdp_rule_key) == 40, "rule key is 40 bytes, no holes");
VSTEER_STATIC_ASSERT(offsetof(struct vsteer_xdp_rule_key, src) == 8, "src at 8");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_xdp_rule) == 16, "rule value is 16 bytes");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_xdp_mac_key) == 8, "mac key is 8 bytes");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_xdp_lpm4) == 8, "LPM v4 key: prefixlen + 4");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_xdp_lpm6) == 20, "LPM v6 key: prefixlen + 16");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_xdp_action_counters) == 7 * 8, "one counter per outcome");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_xdp_meta) == 24, "metadata is 24 bytes (multiple of 4, <= 32)");

#endif /* VSTEER_ABI_H */
