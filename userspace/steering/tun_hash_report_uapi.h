/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Userspace copy of the uAPI that kernel-patches/ adds to
 * include/uapi/linux/if_tun.h (patch 0006 "tun: add TUNSETHASHREPORT and
 * TUNGETHASHREPORT"). Host headers (Debian's linux-libc-dev) do not have it
 * yet. This is the only copy in the project: the loader and the in-guest tests
 * include this file. It MIRRORS THE PATCH: change both together.
 *
 * When the installed <linux/if_tun.h> already has the definitions (the guest
 * tests build against the patched tree's `make headers_install`), they are
 * used and the static_asserts below check that the copy still matches them.
 */
#ifndef VSTEER_TUN_HASH_REPORT_UAPI_H
#define VSTEER_TUN_HASH_REPORT_UAPI_H

#include <linux/if_tun.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <stddef.h>

#ifndef TUNSETHASHREPORT
struct tun_hash_report {
	__u32 flags;       /* TUN_HASH_REPORT_* in effect */
	__u32 supported;   /* TUNGETHASHREPORT: flags this kernel accepts; 0 on set */
	__u32 reserved[2]; /* must be 0 */
};

#define TUNSETHASHREPORT _IOW('T', 232, struct tun_hash_report)
#define TUNGETHASHREPORT _IOR('T', 233, struct tun_hash_report)

/* hash value from __sk_buff->cb[0], report type from cb[1] of the steering
 * program, into struct virtio_net_hdr_v1_hash */
#define TUN_HASH_REPORT_STEERING 0x00000001
#endif

/* Size of the vnet header that carries the hash (struct virtio_net_hdr_v1_hash). */
#define VSTEER_VNET_HASH_HDR_SIZE 20
/* vhost-net's opt-in for offering VIRTIO_NET_F_HASH_REPORT (patch 0007). */
#define VSTEER_VHOST_HASH_REPORT_PARAM "/sys/module/vhost_net/parameters/hash_report"

#ifdef __cplusplus
#define VSTEER_UAPI_STATIC_ASSERT static_assert
#else
#define VSTEER_UAPI_STATIC_ASSERT _Static_assert
#endif

VSTEER_UAPI_STATIC_ASSERT(sizeof(struct tun_hash_report) == 16, "struct tun_hash_report is 16 bytes");
VSTEER_UAPI_STATIC_ASSERT(offsetof(struct tun_hash_report, flags) == 0, "flags at 0");
VSTEER_UAPI_STATIC_ASSERT(offsetof(struct tun_hash_report, supported) == 4, "supported at 4");
VSTEER_UAPI_STATIC_ASSERT(offsetof(struct tun_hash_report, reserved) == 8, "reserved at 8");
VSTEER_UAPI_STATIC_ASSERT(TUNSETHASHREPORT == _IOW('T', 232, struct tun_hash_report),
                          "TUNSETHASHREPORT is 232");
VSTEER_UAPI_STATIC_ASSERT(TUNGETHASHREPORT == _IOR('T', 233, struct tun_hash_report),
                          "TUNGETHASHREPORT is 233");
VSTEER_UAPI_STATIC_ASSERT(TUN_HASH_REPORT_STEERING == 1, "TUN_HASH_REPORT_STEERING is bit 0");

#endif /* VSTEER_TUN_HASH_REPORT_UAPI_H */
