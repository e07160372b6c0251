/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The XDP ABI: every structure the XDP classifier and the tc east-west program
 * (bpf/xdp_classify.bpf.c, bpf/tc_eastwest.bpf.c, docs/xdp.md) share with
 * userspace. It shares nothing with the tun steering ABI (rss_abi.h) except
 * that the per-VM RSS policy maps are the tap's own config / toeplitz_key /
 * indirection_table maps, held in ARRAY_OF_MAPS slots indexed by VM id, and
 * that the classifier hashes with the same per-CPU table layout.
 */
#ifndef VSTEER_XDP_ABI_H
#define VSTEER_XDP_ABI_H

#include "rss_abi.h"

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

/* Token bucket state (xdp_rate ARRAY, index = VM id), as a GCRA time, updated
 * lock-free (compare-and-swap) by every CPU. */
struct vsteer_xdp_rate_state {
	__u64 tat_ns; /* theoretical arrival time of the next conforming packet */
	__u64 reserved;
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

/*
 * The classifier's prefilter (xdp_filter ARRAY[1]): userspace rebuilds it from
 * xdp_rules, xdp_macs and xdp_prefix4/6 after every change of those maps
 * (xdp_control.cpp), so that most frames are classified without a single map
 * call. A clear bit means "certainly no entry", a set bit "look it up". The
 * MAC table holds the MACs themselves: a frame's MAC is matched here, and only
 * slots shared by several MACs send it to xdp_macs.
 */
#define VSTEER_XDP_FILTER_BITS 65536  /* bits of each bitmap, indexed by 16 bits */
#define VSTEER_XDP_MAC_SLOTS 1024     /* power of two */
#define VSTEER_XDP_MAC_EMPTY 0xffffu  /* mac slot: no MAC */
#define VSTEER_XDP_MAC_SHARED 0xfffeu /* mac slot: several MACs, look up xdp_macs */

struct vsteer_xdp_mac_slot {
	__u8 addr[6];
	__u16 vm; /* VM id, VSTEER_XDP_MAC_EMPTY or VSTEER_XDP_MAC_SHARED */
};

struct vsteer_xdp_filter {
	__u32 valid;         /* 0 (a map nobody built yet): no filtering, every lookup is made */
	__u32 prefix6_short; /* an IPv6 prefix shorter than 32 bits exists: always look up */
	/* bit vsteer_xdp_rule_bit() of every rule */
	__u64 rules[VSTEER_XDP_FILTER_BITS / 64];
	/* bit (first 16 bits of the address) of every IPv4 prefix, the whole range for shorter ones */
	__u64 prefix4[VSTEER_XDP_FILTER_BITS / 64];
	/* bit vsteer_xdp_mix16(first 32 bits of the address) of every IPv6 prefix of >= 32 bits */
	__u64 prefix6[VSTEER_XDP_FILTER_BITS / 64];
	struct vsteer_xdp_mac_slot macs[VSTEER_XDP_MAC_SLOTS]; /* at vsteer_xdp_mac_slot_of() */
};

/* 32 -> 16 bits (multiplicative hashing), the bitmaps' index. */
static inline __u32 vsteer_xdp_mix16(__u32 x)
{
	return (x * 0x9E3779B1u) >> 16;
}

/*
 * The rule bitmap's index: protocol, ports (the two port fields as one word, as
 * they lie in the key and the packet; 0 for ICMP) and the last 4 bytes of the
 * destination address (all of it for IPv4), so that the classifier computes it
 * from the parsed flow before it builds a key.
 */
static inline __u32 vsteer_xdp_rule_bit(__u8 proto, __u32 ports, __u32 dst_tail)
{
	return vsteer_xdp_mix16(ports ^ dst_tail ^ proto);
}

/* The MAC table's slot of a MAC, from its last four bytes (as a host-order word). */
static inline __u32 vsteer_xdp_mac_slot_of(__u32 mac_bytes_2_to_5)
{
	return (mac_bytes_2_to_5 * 0x9E3779B1u) >> (32 - 10);
}

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
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_xdp_mac_slot) == 8, "mac slot is 8 bytes");
VSTEER_STATIC_ASSERT(VSTEER_XDP_MAC_SLOTS == 1 << 10, "vsteer_xdp_mac_slot_of gives 10 bits");
VSTEER_STATIC_ASSERT(VSTEER_XDP_FILTER_BITS == 1 << 16, "vsteer_xdp_mix16 gives 16 bits");
VSTEER_STATIC_ASSERT(sizeof(struct vsteer_xdp_meta) == 24, "metadata is 24 bytes (multiple of 4, <= 32)");

#endif /* VSTEER_XDP_ABI_H */
