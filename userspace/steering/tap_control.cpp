// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "tap_control.hpp"

#include "error.hpp"
#include "tun_hash_report.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
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
#include <vector>

namespace vsteer
{
namespace
{

// ---- rtnetlink: RTM_GETLINK for one device, parsed down to IFLA_TUN_* ----

struct Attr {
	const rtattr *a;
	const void *data() const { return RTA_DATA(a); }
	size_t len() const { return RTA_PAYLOAD(a); }
	uint8_t u8() const { return len() >= 1 ? *static_cast<const uint8_t *>(data()) : 0; }
	uint32_t u32() const
	{
		uint32_t v = 0;
		if (len() >= 4)
			std::memcpy(&v, data(), 4);
		return v;
	}
};

template <typename F> void for_each_attr(const void *start, size_t len, F &&f)
{
	auto *a = static_cast<const rtattr *>(start);
	int remaining = static_cast<int>(len);
	for (; RTA_OK(a, remaining); a = RTA_NEXT(a, remaining))
		f(static_cast<unsigned>(a->rta_type & NLA_TYPE_MASK), Attr{a});
}

std::vector<char> rtnl_getlink(const std::string &name)
{
	UniqueFd sock(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
	if (!sock)
		throw_errno("rtnetlink", "open socket");
	struct {
		nlmsghdr nh;
		ifinfomsg ifi;
		char attrs[64];
	} req{};
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	auto *rta = reinterpret_cast<rtattr *>(req.attrs);
	rta->rta_type = IFLA_IFNAME;
	rta->rta_len = static_cast<unsigned short>(RTA_LENGTH(name.size() + 1));
	std::memcpy(RTA_DATA(rta), name.c_str(), name.size() + 1);
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg)) + RTA_ALIGN(rta->rta_len);
	if (send(sock.get(), &req, req.nh.nlmsg_len, 0) < 0)
		throw_errno("rtnetlink", "send RTM_GETLINK for " + name);
	std::vector<char> buf(65536);
	ssize_t n = recv(sock.get(), buf.data(), buf.size(), 0);
	if (n < 0)
		throw_errno("rtnetlink", "receive RTM_GETLINK reply for " + name);
	buf.resize(static_cast<size_t>(n));
	return buf;
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
	if (name.empty() || name.size() >= IFNAMSIZ)
		throw Error(EINVAL, "tap '" + name + "'", "invalid interface name",
		            "names are 1..15 characters");
	std::vector<char> buf = rtnl_getlink(name);
	auto *nh = reinterpret_cast<const nlmsghdr *>(buf.data());
	if (!NLMSG_OK(nh, buf.size()))
		throw Error(EPROTO, "rtnetlink", "short reply for " + name);
	if (nh->nlmsg_type == NLMSG_ERROR) {
		auto *err = static_cast<const nlmsgerr *>(NLMSG_DATA(nh));
		if (err->error == -ENODEV)
			return std::nullopt;
		throw Error(-err->error, "rtnetlink", "RTM_GETLINK " + name);
	}
	auto *ifi = static_cast<const ifinfomsg *>(NLMSG_DATA(nh));
	TapInfo info;
	info.name = name;
	info.ifindex = ifi->ifi_index;
	bool is_tun_driver = false;
	for_each_attr(IFLA_RTA(ifi), IFLA_PAYLOAD(nh), [&](unsigned type, Attr a) {
		if (type != IFLA_LINKINFO)
			return;
		for_each_attr(a.data(), a.len(), [&](unsigned t2, Attr b) {
			if (t2 == IFLA_INFO_KIND)
				is_tun_driver =
				    std::strncmp(static_cast<const char *>(b.data()), "tun", b.len()) == 0;
			if (t2 != IFLA_INFO_DATA)
				return;
			for_each_attr(b.data(), b.len(), [&](unsigned t3, Attr c) {
				switch (t3) {
				case IFLA_TUN_TYPE:
					info.is_tap = c.u8() == IFF_TAP;
					break;
				case IFLA_TUN_PI:
					info.pi = c.u8();
					break;
				case IFLA_TUN_VNET_HDR:
					info.vnet_hdr = c.u8();
					break;
				case IFLA_TUN_PERSIST:
					info.persist = c.u8();
					break;
				case IFLA_TUN_MULTI_QUEUE:
					info.multi_queue = c.u8();
					break;
				case IFLA_TUN_NUM_QUEUES:
					info.queues = c.u32();
					break;
				case IFLA_TUN_NUM_DISABLED_QUEUES:
					info.disabled_queues = c.u32();
					break;
				}
			});
		});
	});
	if (!is_tun_driver)
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
	if (kernel_supports_hash_report(fd.get()) && hash_report_enabled(fd.get()))
		enable_hash_report(fd.get(), false);
	set_steering(fd.get(), tap, -1);
}

std::optional<bool> query_hash_report(const std::string &tap)
{
	TapInfo info = require_tap(tap);
	UniqueFd fd = attach_queue(info);
	detach_queue(fd.get(), info);
	if (!kernel_supports_hash_report(fd.get()))
		return std::nullopt;
	return hash_report_enabled(fd.get());
}

} // namespace vsteer
