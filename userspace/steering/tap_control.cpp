// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "tap_control.hpp"

#include "error.hpp"
#include "tun_hash_report.hpp"
#include "tun_hash_report_uapi.h"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/membarrier.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

namespace vsteer
{
namespace
{

// ---- rtnetlink (libmnl): RTM_GETLINK for one device, parsed down to IFLA_TUN_* ----

using MnlSocket = std::unique_ptr<mnl_socket, decltype(&mnl_socket_close)>;

struct LinkParse {
	TapInfo *info;
	bool is_tun_driver = false;
};

int parse_tun_attr(const nlattr *a, void *data)
{
	auto *info = static_cast<TapInfo *>(data);
	switch (mnl_attr_get_type(a)) {
	case IFLA_TUN_TYPE:
	case IFLA_TUN_PI:
	case IFLA_TUN_VNET_HDR:
	case IFLA_TUN_PERSIST:
	case IFLA_TUN_MULTI_QUEUE:
		if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
			return MNL_CB_ERROR;
		break;
	case IFLA_TUN_NUM_QUEUES:
	case IFLA_TUN_NUM_DISABLED_QUEUES:
	case VSTEER_IFLA_TUN_HASH_REPORT:
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_ERROR;
		break;
	default:
		return MNL_CB_OK;
	}
	switch (mnl_attr_get_type(a)) {
	case IFLA_TUN_TYPE:
		info->is_tap = mnl_attr_get_u8(a) == IFF_TAP;
		break;
	case IFLA_TUN_PI:
		info->pi = mnl_attr_get_u8(a);
		break;
	case IFLA_TUN_VNET_HDR:
		info->vnet_hdr = mnl_attr_get_u8(a);
		break;
	case IFLA_TUN_PERSIST:
		info->persist = mnl_attr_get_u8(a);
		break;
	case IFLA_TUN_MULTI_QUEUE:
		info->multi_queue = mnl_attr_get_u8(a);
		break;
	case IFLA_TUN_NUM_QUEUES:
		info->queues = mnl_attr_get_u32(a);
		break;
	case IFLA_TUN_NUM_DISABLED_QUEUES:
		info->disabled_queues = mnl_attr_get_u32(a);
		break;
	case VSTEER_IFLA_TUN_HASH_REPORT:
		info->hash_report = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

int parse_linkinfo_attr(const nlattr *a, void *data)
{
	auto *p = static_cast<LinkParse *>(data);
	switch (mnl_attr_get_type(a)) {
	case IFLA_INFO_KIND:
		if (mnl_attr_validate(a, MNL_TYPE_STRING) < 0)
			return MNL_CB_ERROR;
		p->is_tun_driver = std::strcmp(mnl_attr_get_str(a), "tun") == 0;
		break;
	case IFLA_INFO_DATA:
		return mnl_attr_parse_nested(a, parse_tun_attr, p->info);
	}
	return MNL_CB_OK;
}

int parse_link_attr(const nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == IFLA_LINKINFO)
		return mnl_attr_parse_nested(a, parse_linkinfo_attr, data);
	return MNL_CB_OK;
}

int parse_link(const nlmsghdr *nh, void *data)
{
	auto *p = static_cast<LinkParse *>(data);
	auto *ifi = static_cast<const ifinfomsg *>(mnl_nlmsg_get_payload(nh));
	p->info->ifindex = ifi->ifi_index;
	return mnl_attr_parse(nh, sizeof(*ifi), parse_link_attr, data);
}

// Fills `info` from the RTM_GETLINK reply for `name`; false if there is no such device.
bool rtnl_getlink(const std::string &name, LinkParse &p)
{
	MnlSocket nl(mnl_socket_open(NETLINK_ROUTE), mnl_socket_close);
	if (!nl)
		throw_errno("rtnetlink", "open socket");
	if (mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0)
		throw_errno("rtnetlink", "bind socket");
	// a link reply (statistics, VF and XDP attributes) can exceed MNL_SOCKET_BUFFER_SIZE
	std::vector<char> buf(65536);
	nlmsghdr *nh = mnl_nlmsg_put_header(buf.data());
	nh->nlmsg_type = RTM_GETLINK;
	nh->nlmsg_flags = NLM_F_REQUEST;
	nh->nlmsg_seq = 1;
	auto *ifi = static_cast<ifinfomsg *>(mnl_nlmsg_put_extra_header(nh, sizeof(ifinfomsg)));
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nh, IFLA_IFNAME, name.c_str());
	if (mnl_socket_sendto(nl.get(), nh, nh->nlmsg_len) < 0)
		throw_errno("rtnetlink", "send RTM_GETLINK for " + name);
	ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
	if (n < 0)
		throw_errno("rtnetlink", "receive RTM_GETLINK reply for " + name);
	if (mnl_cb_run(buf.data(), static_cast<size_t>(n), 1, mnl_socket_get_portid(nl.get()), parse_link,
	               &p) < 0) {
		if (errno == ENODEV)
			return false;
		throw_errno("rtnetlink", "RTM_GETLINK " + name);
	}
	return true;
}

// ---- tun file helpers ----

UniqueFd open_tun(const std::string &tap)
{
	UniqueFd fd(open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
	if (!fd)
		throw_errno("/dev/net/tun", "open (for tap " + tap + ")",
		            "is the tun driver available? (needs root)");
	return fd;
}

// Attaches a new queue file to an existing tap, keeping the device's feature flags.
UniqueFd attach_queue(const TapInfo &info)
{
	UniqueFd fd = open_tun(info.name);
	ifreq ifr{};
	std::strncpy(ifr.ifr_name, info.name.c_str(), IFNAMSIZ - 1);
	ifr.ifr_flags =
	    static_cast<short>((info.is_tap ? IFF_TAP : IFF_TUN) | (info.multi_queue ? IFF_MULTI_QUEUE : 0) |
	                       (info.vnet_hdr ? IFF_VNET_HDR : 0) | (info.pi ? 0 : IFF_NO_PI));
	if (ioctl(fd.get(), TUNSETIFF, &ifr)) {
		if (errno == EBUSY && !info.multi_queue)
			throw_errno(
			    "tap " + info.name, "open a control queue",
			    "it is a single-queue tap held by another process; steering needs a multiqueue "
			    "tap (QEMU: queues=N), or attach before QEMU opens it");
		throw_errno("tap " + info.name, "open a control queue (TUNSETIFF)");
	}
	return fd;
}

// Waits until every transmit that may have picked a queue before now has finished:
// MEMBARRIER_CMD_GLOBAL is a synchronize_rcu(), which covers the RCU-bh section of
// __dev_queue_xmit. Falls back to a generous sleep where membarrier is unavailable.
void wait_for_inflight_xmit()
{
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0)
		usleep(100 * 1000);
}

// Frames the kernel queued on our control queue before the steering program took over.
std::vector<std::vector<char>> drain_queue(int fd)
{
	std::vector<std::vector<char>> frames;
	std::vector<char> buf(65536 + 64);
	while (true) {
		ssize_t n = read(fd, buf.data(), buf.size());
		if (n <= 0)
			break;
		frames.emplace_back(buf.begin(), buf.begin() + n);
	}
	return frames;
}

// Sends drained frames back through the tap's transmit path, where the steering program
// now places them on one of the holder's queues. Strips the PI and vnet headers.
void reinject(const TapInfo &info, int tun_fd, const std::vector<std::vector<char>> &frames)
{
	if (frames.empty())
		return;
	int hdr = 0;
	if (info.vnet_hdr && ioctl(tun_fd, TUNGETVNETHDRSZ, &hdr))
		hdr = 10;
	size_t skip = static_cast<size_t>(hdr) + (info.pi ? 4 : 0);
	UniqueFd ps(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
	if (!ps)
		throw_errno("tap " + info.name, "open AF_PACKET socket to re-send " +
		                                    std::to_string(frames.size()) +
		                                    " frames caught during attach");
	sockaddr_ll sll{};
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = info.ifindex;
	sll.sll_halen = ETH_ALEN;
	for (const auto &f : frames) {
		if (f.size() <= skip)
			continue;
		std::memcpy(sll.sll_addr, f.data() + skip, ETH_ALEN);
		if (sendto(ps.get(), f.data() + skip, f.size() - skip, 0, reinterpret_cast<sockaddr *>(&sll),
		           sizeof(sll)) < 0)
			throw_errno("tap " + info.name, "re-send a frame caught during attach");
	}
}

void set_steering(int fd, const std::string &tap, int prog_fd)
{
	if (ioctl(fd, TUNSETSTEERINGEBPF, &prog_fd))
		throw_errno("tap " + tap, prog_fd >= 0 ? "attach steering program (TUNSETSTEERINGEBPF)"
		                                       : "detach steering program (TUNSETSTEERINGEBPF)");
}

void detach_queue(int fd, const TapInfo &info)
{
	if (!info.multi_queue)
		return; // closing the file detaches it
	ifreq ifr{};
	ifr.ifr_flags = IFF_DETACH_QUEUE;
	if (ioctl(fd, TUNSETQUEUE, &ifr))
		throw_errno("tap " + info.name, "detach the control queue");
}

TapInfo require_tap(const std::string &tap)
{
	auto info = query_tap(tap);
	if (!info)
		throw Error(ENODEV, "tap " + tap, "no such device in this network namespace",
		            "create it with `vsteer attach --tap " + tap +
		                " --create --queues N` or start QEMU first");
	if (!info->is_tap)
		throw Error(EINVAL, "tap " + tap, "is a tun (layer 3) device",
		            "RSS steering needs a tap device");
	return *info;
}

} // namespace

std::optional<TapInfo> query_tap(const std::string &name)
{
	check_interface_name(name);
	TapInfo info;
	info.name = name;
	LinkParse p{&info};
	if (!rtnl_getlink(name, p))
		return std::nullopt;
	if (!p.is_tun_driver)
		throw Error(EINVAL, "device " + name, "is not a tun/tap device",
		            "pass the name of a tap device");
	return info;
}

void create_tap(const std::string &name, unsigned queues)
{
	if (queues == 0 || queues > 256)
		throw Error(EINVAL, "tap " + name, "cannot create with " + std::to_string(queues) + " queues",
		            "pass --queues 1..256");
	std::vector<UniqueFd> fds;
	for (unsigned i = 0; i < queues; i++) {
		UniqueFd fd = open_tun(name);
		ifreq ifr{};
		std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
		if (ioctl(fd.get(), TUNSETIFF, &ifr))
			throw_errno("tap " + name, "create queue " + std::to_string(i));
		if (i == 0 && ioctl(fd.get(), TUNSETPERSIST, 1)) {
			int err = errno;
			throw Error(err, "tap " + name, "make persistent");
		}
		fds.push_back(std::move(fd));
	}
}

void delete_tap(const std::string &name)
{
	TapInfo info = require_tap(name);
	UniqueFd fd = attach_queue(info);
	if (ioctl(fd.get(), TUNSETPERSIST, 0))
		throw_errno("tap " + name, "clear IFF_PERSIST");
}

void attach_steering(const std::string &tap, int prog_fd, bool hash_report)
{
	TapInfo info = require_tap(tap);
	// Our control queue becomes queue index `info.queues`. Until the program is set,
	// the kernel's flow hash may pick it; once it is set, the program only returns
	// queues below that index (the configuration was validated against them).
	UniqueFd fd = attach_queue(info);
	if (hash_report) {
		if (!kernel_supports_hash_report(fd.get()))
			throw Error(EOPNOTSUPP, "tap " + tap,
			            "this kernel cannot report the steering program's hash",
			            "boot a kernel with vsteer's kernel-patches/ series, or attach without "
			            "--hash-report");
		// Its error names the tap, the requirements and the tap's real vnet header size.
		enable_hash_report(fd.get(), true);
	}
	set_steering(fd.get(), tap, prog_fd);
	std::vector<std::vector<char>> caught;
	if (info.queues > 0) {
		wait_for_inflight_xmit();
		caught = drain_queue(fd.get());
	}
	detach_queue(fd.get(), info);
	reinject(info, fd.get(), caught);
}

void detach_steering(const std::string &tap)
{
	TapInfo info = require_tap(tap);
	// With the program still set, nothing is steered to our queue; detach it before
	// clearing the program so the kernel's own flow hash can never pick it.
	UniqueFd fd = attach_queue(info);
	detach_queue(fd.get(), info);
	if (info.hash_report.value_or(0))
		enable_hash_report(fd.get(), false);
	set_steering(fd.get(), tap, -1);
}

std::optional<bool> query_hash_report(const std::string &tap)
{
	// From RTM_GETLINK: attaching a queue to read it would let the kernel's automatic
	// queue selection put the VM's packets on that queue, lost when it closes.
	std::optional<uint32_t> flags = require_tap(tap).hash_report;
	if (!flags)
		return std::nullopt;
	return (*flags & TUN_HASH_REPORT_STEERING) != 0;
}

} // namespace vsteer
