// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Real-tun helpers for tests and the demo: a private network namespace, the queue files
// of a multiqueue tap (as QEMU would hold them), and an AF_PACKET sender that pushes
// frames into the tap's transmit path (host -> guest direction, where steering runs).
#pragma once

#include "error.hpp"
#include "unique_fd.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace vsteer::test
{

// A network namespace created with `ip netns add` and entered by this thread for its
// lifetime (setns; `ip netns exec` would hide /sys/fs/bpf). Deleted on destruction.
class NetnsGuard
{
public:
	explicit NetnsGuard(std::string name) : name_(std::move(name))
	{
		orig_ = UniqueFd(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
		if (!orig_)
			throw_errno("/proc/self/ns/net", "open");
		run("ip netns del " + name_ + " 2>/dev/null");
		if (run("ip netns add " + name_) != 0)
			throw Error(0, "netns " + name_, "ip netns add failed");
		UniqueFd ns(open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC));
		if (!ns || setns(ns.get(), CLONE_NEWNET))
			throw_errno("netns " + name_, "enter");
		run("ip link set lo up");
	}
	~NetnsGuard()
	{
		if (orig_)
			setns(orig_.get(), CLONE_NEWNET);
		run("ip netns del " + name_ + " 2>/dev/null");
	}
	NetnsGuard(const NetnsGuard &) = delete;
	NetnsGuard &operator=(const NetnsGuard &) = delete;
	const std::string &name() const { return name_; }
	// Command prefix that runs a program in this namespace without hiding bpffs.
	std::string nsenter() const { return "nsenter --net=/run/netns/" + name_ + " "; }
	static int run(const std::string &cmd)
	{
		int rc = std::system(cmd.c_str());
		return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
	}

private:
	std::string name_;
	UniqueFd orig_;
};

// The queue files of a multiqueue tap with a vnet header, held like QEMU holds them.
class TapQueues
{
public:
	TapQueues(const std::string &tap, unsigned queues, int vnet_hdr_size = 12)
	    : tap_(tap), hdr_(vnet_hdr_size)
	{
		for (unsigned i = 0; i < queues; i++) {
			UniqueFd fd(open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK));
			if (!fd)
				throw_errno("/dev/net/tun", "open");
			ifreq ifr{};
			std::strncpy(ifr.ifr_name, tap.c_str(), IFNAMSIZ - 1);
			ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
			if (ioctl(fd.get(), TUNSETIFF, &ifr))
				throw_errno("tap " + tap, "attach queue " + std::to_string(i));
			if (i == 0 && ioctl(fd.get(), TUNSETVNETHDRSZ, &hdr_))
				throw_errno("tap " + tap, "set vnet header size");
			fds_.push_back(std::move(fd));
		}
		set_up(tap);
	}
	unsigned size() const { return static_cast<unsigned>(fds_.size()); }
	int fd(unsigned q) const { return fds_[q].get(); }

	// Reads every frame waiting on queue q (vnet header stripped).
	std::vector<std::vector<uint8_t>> drain(unsigned q) const
	{
		std::vector<std::vector<uint8_t>> out;
		std::vector<uint8_t> buf(65536 + 64);
		while (true) {
			ssize_t n = read(fds_[q].get(), buf.data(), buf.size());
			if (n <= hdr_)
				break;
			out.emplace_back(buf.begin() + hdr_, buf.begin() + n);
		}
		return out;
	}

	static void set_up(const std::string &dev)
	{
		UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
		ifreq ifr{};
		std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
		if (ioctl(s.get(), SIOCGIFFLAGS, &ifr))
			throw_errno("device " + dev, "get flags");
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s.get(), SIOCSIFFLAGS, &ifr))
			throw_errno("device " + dev, "set up");
	}

private:
	std::string tap_;
	int hdr_;
	std::vector<UniqueFd> fds_;
};

// Sends whole Ethernet frames out of a device (into a tap: towards its queues).
class PacketSender
{
public:
	explicit PacketSender(const std::string &dev)
	{
		fd_ = UniqueFd(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
		if (!fd_)
			throw_errno("AF_PACKET", "open socket");
		ifreq ifr{};
		std::strncpy(ifr.ifr_name, dev.c_str(), IFNAMSIZ - 1);
		if (ioctl(fd_.get(), SIOCGIFINDEX, &ifr))
			throw_errno("device " + dev, "look up ifindex");
		ifindex_ = ifr.ifr_ifindex;
		int sndbuf = 8 << 20;
		setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
	}
	void send(const std::vector<uint8_t> &frame) const
	{
		sockaddr_ll sll{};
		sll.sll_family = AF_PACKET;
		sll.sll_ifindex = ifindex_;
		sll.sll_halen = ETH_ALEN;
		std::memcpy(sll.sll_addr, frame.data(), ETH_ALEN);
		if (sendto(fd_.get(), frame.data(), frame.size(), 0, reinterpret_cast<const sockaddr *>(&sll),
		           sizeof(sll)) < 0)
			throw_errno("AF_PACKET", "send a " + std::to_string(frame.size()) + "-byte frame");
	}

private:
	UniqueFd fd_;
	int ifindex_ = 0;
};

} // namespace vsteer::test
