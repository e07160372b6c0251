// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Helpers of the in-guest tests (tests/vm/): result lines, taps, frame injection.
// Runs as root inside the test VM, statically linked, against the patched kernel or the
// unpatched baseline. Every check prints one machine-readable line
//   VSTEER-RESULT <suite>/<case> PASS|FAIL <what was observed>
// that scripts/vm/run-vm-tests.sh turns into the summary.
#pragma once

#include "tun_hash_report_uapi.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
// linux/virtio_net.h names a field `class`: not valid C++
#define class class_
#include <linux/virtio_net.h>
#undef class
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <span>
#include <stdexcept>
#include <string>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace vsteer::vm
{

// Which kernel the guest runs, as the host says on the kernel command line.
enum class Variant { patched, baseline };

struct Results {
	Variant variant = Variant::patched;
	int passed = 0, failed = 0;

	bool patched() const { return variant == Variant::patched; }

	// ok: the observation matches what this variant must show.
	void report(const std::string &name, bool ok, const std::string &observed)
	{
		(ok ? passed : failed)++;
		std::printf("VSTEER-RESULT %s %s %s\n", name.c_str(), ok ? "PASS" : "FAIL", observed.c_str());
		std::fflush(stdout);
	}
};

inline std::string strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
inline std::string strf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	std::vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

inline std::string errno_name(int err)
{
	switch (err) {
	case 0:
		return "ok";
	case EINVAL:
		return "EINVAL";
	case ENOTTY:
		return "ENOTTY";
	case EOPNOTSUPP:
		return "EOPNOTSUPP";
	case EBADFD:
		return "EBADFD";
	case EFAULT:
		return "EFAULT";
	case ENOENT:
		return "ENOENT";
	default:
		return "errno" + std::to_string(err);
	}
}

struct Failure : std::runtime_error {
	using std::runtime_error::runtime_error;
};

[[noreturn]] inline void fail_errno(const std::string &what)
{
	throw Failure(what + ": " + std::strerror(errno));
}

class Fd
{
public:
	Fd() = default;
	explicit Fd(int fd) : fd_(fd) {}
	Fd(Fd &&o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
	Fd &operator=(Fd &&o) noexcept
	{
		if (this != &o) {
			reset();
			fd_ = o.fd_;
			o.fd_ = -1;
		}
		return *this;
	}
	Fd(const Fd &) = delete;
	Fd &operator=(const Fd &) = delete;
	~Fd() { reset(); }
	void reset()
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = -1;
	}
	int get() const { return fd_; }

private:
	int fd_ = -1;
};

inline void write_file(const char *path, const char *value)
{
	int fd = ::open(path, O_WRONLY);
	if (fd < 0)
		fail_errno(std::string("open ") + path);
	ssize_t n = ::write(fd, value, std::strlen(value));
	::close(fd);
	if (n < 0)
		fail_errno(std::string("write ") + path);
}

// A tap with `queues` queue files (IFF_MULTI_QUEUE when multiqueue), up, no IP.
struct Tap {
	std::string name;
	std::vector<Fd> fds;
	int ifindex = 0;

	int fd(size_t i = 0) const { return fds.at(i).get(); }
};

inline Tap make_tap(const std::string &name, unsigned queues, bool multiqueue, bool vnet_hdr, int vnet_hdr_sz)
{
	Tap tap;
	tap.name = name;
	for (unsigned q = 0; q < queues; q++) {
		Fd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
		if (fd.get() < 0)
			fail_errno("open /dev/net/tun");
		struct ifreq ifr {
		};
		std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
		if (multiqueue)
			ifr.ifr_flags |= IFF_MULTI_QUEUE;
		if (vnet_hdr)
			ifr.ifr_flags |= IFF_VNET_HDR;
		if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0)
			fail_errno("TUNSETIFF " + name);
		if (vnet_hdr && ioctl(fd.get(), TUNSETVNETHDRSZ, &vnet_hdr_sz) < 0)
			fail_errno("TUNSETVNETHDRSZ " + name);
		tap.fds.push_back(std::move(fd));
	}
	Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	struct ifreq ifr {
	};
	std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
	if (ioctl(s.get(), SIOCGIFFLAGS, &ifr) < 0)
		fail_errno("SIOCGIFFLAGS " + name);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s.get(), SIOCSIFFLAGS, &ifr) < 0)
		fail_errno("SIOCSIFFLAGS " + name);
	tap.ifindex = static_cast<int>(if_nametoindex(name.c_str()));
	if (!tap.ifindex)
		fail_errno("if_nametoindex " + name);
	return tap;
}

inline int set_vnet_hdr_sz(int fd, int sz)
{
	return ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0 ? errno : 0;
}

inline int attach_steering(int tap_fd, int prog_fd)
{
	return ioctl(tap_fd, TUNSETSTEERINGEBPF, &prog_fd) < 0 ? errno : 0;
}

// TUNSETHASHREPORT / TUNGETHASHREPORT as raw calls: errno (0 on success).
inline int set_hash_report(int fd, uint32_t flags, uint32_t supported = 0, uint32_t reserved0 = 0,
                           uint32_t reserved1 = 0)
{
	tun_hash_report r{};
	r.flags = flags;
	r.supported = supported;
	r.reserved[0] = reserved0;
	r.reserved[1] = reserved1;
	return ioctl(fd, TUNSETHASHREPORT, &r) < 0 ? errno : 0;
}

inline int get_hash_report(int fd, tun_hash_report &r)
{
	std::memset(&r, 0xee, sizeof(r));
	return ioctl(fd, TUNGETHASHREPORT, &r) < 0 ? errno : 0;
}

// Sends frames out of a device with AF_PACKET: dev_queue_xmit, so the tap's
// ndo_select_queue (steering program), qdisc and ndo_start_xmit all run.
class Injector
{
public:
	explicit Injector(int ifindex) : ifindex_(ifindex)
	{
		sock_ = Fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)); // protocol 0: receive nothing
		if (sock_.get() < 0)
			fail_errno("socket(AF_PACKET)");
	}
	void send(std::span<const uint8_t> frame) const
	{
		sockaddr_ll sll{};
		sll.sll_family = AF_PACKET;
		sll.sll_ifindex = ifindex_;
		sll.sll_halen = ETH_ALEN;
		std::memcpy(sll.sll_addr, frame.data(), frame.size() >= 6 ? 6 : 0);
		sll.sll_protocol = frame.size() >= 14 ? static_cast<uint16_t>(frame[12] | frame[13] << 8) : 0;
		if (::sendto(sock_.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr *>(&sll),
		             sizeof(sll)) != static_cast<ssize_t>(frame.size()))
			fail_errno("sendto(AF_PACKET)");
	}

private:
	int ifindex_;
	Fd sock_;
};

// One frame read from a queue fd: the raw bytes of header + frame, buffer prefilled
// with kStale so bytes the kernel did not write are visible.
inline constexpr uint8_t kStale = 0xAA;

struct ReadFrame {
	int queue = -1;
	std::vector<uint8_t> bytes;
};

// Waits up to timeout_ms for a frame on any of `fds`; queue = index into fds.
inline ReadFrame read_any(const std::vector<int> &fds, int timeout_ms)
{
	std::vector<pollfd> p;
	for (int fd : fds)
		p.push_back({fd, POLLIN, 0});
	ReadFrame out;
	int n = ::poll(p.data(), p.size(), timeout_ms);
	if (n <= 0)
		return out;
	for (size_t i = 0; i < p.size(); i++) {
		if (!(p[i].revents & POLLIN))
			continue;
		std::vector<uint8_t> buf(4096, kStale);
		ssize_t len = ::read(fds[i], buf.data(), buf.size());
		if (len < 0)
			continue;
		buf.resize(static_cast<size_t>(len));
		out.queue = static_cast<int>(i);
		out.bytes = std::move(buf);
		return out;
	}
	return out;
}

// Reads everything still queued (so one case cannot leak frames into the next).
inline int drain(const std::vector<int> &fds)
{
	int n = 0;
	while (read_any(fds, 50).queue >= 0)
		n++;
	return n;
}

inline uint32_t le32_at(const std::vector<uint8_t> &b, size_t at)
{
	return b[at] | b[at + 1] << 8 | b[at + 2] << 16 | static_cast<uint32_t>(b[at + 3]) << 24;
}
inline uint16_t le16_at(const std::vector<uint8_t> &b, size_t at)
{
	return static_cast<uint16_t>(b[at] | b[at + 1] << 8);
}

inline bool all_bytes(const std::vector<uint8_t> &b, size_t from, size_t to, uint8_t v)
{
	if (b.size() < to)
		return false;
	for (size_t i = from; i < to; i++)
		if (b[i] != v)
			return false;
	return true;
}

inline std::string hex(const std::vector<uint8_t> &b, size_t from, size_t to)
{
	std::string s;
	for (size_t i = from; i < to && i < b.size(); i++)
		s += strf("%02x", b[i]);
	return s;
}

} // namespace vsteer::vm
