// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vsteer east-west (docs/xdp.md): on each VM tap's tc ingress (what the guest
 * sends), a frame whose destination MAC belongs to another VM on this host is
 * redirected straight to that VM's tap, bypassing the bridge. Everything else
 * goes on as usual. Shares the classifier's pinned xdp_vms / xdp_macs maps.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define VSTEER_LOAD(ctx, off, dst, len)                                                                      \
	bpf_skb_load_bytes_relative((ctx), (off), (dst), (len), BPF_HDR_START_MAC)

#include "xdp_maps.h"

SEC("tc")
int vsteer_eastwest(struct __sk_buff *skb)
{
	struct vsteer_xdp_mac_key mk = {};
	struct vsteer_xdp_vm_stats *vs;
	struct vsteer_xdp_vm *vm;
	__u32 *target, vmid;

	if (VSTEER_LOAD(skb, 0, mk.addr, 6))
		return TC_ACT_OK;
	target = bpf_map_lookup_elem(&xdp_macs, &mk);
	if (!target)
		return TC_ACT_OK;
	vmid = *target;
	vm = bpf_map_lookup_elem(&xdp_vms, &vmid);
	if (!vm || !vm->in_use || !vm->tap_ifindex || vm->tap_ifindex == skb->ifindex)
		return TC_ACT_OK;
	vs = bpf_map_lookup_elem(&xdp_vm_stats, &vmid);
	if (vs)
		vs->eastwest++; /* packets/bytes/by_action stay the classifier's (NIC) counts */
	return bpf_redirect(vm->tap_ifindex, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
