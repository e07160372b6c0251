// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Coexistence through libxdp: xdp-tools' xdp-filter (xdpfilt_alw_all: passes by default, drops
// what its maps match; libxdp run priority 10) and the classifier (default priority 50) on
// the receiving end of a veth pair. A forked child unshares a network namespace of its own,
// creates the pair over rtnetlink and injects frames with AF_PACKET, so no tool is needed and
// the caller's devices are untouched.
//
// With libxdp's dispatcher (`make xdp-vm-coexist` runs this binary, statically linked, in the
// 6.12 guest, whose kernel has BTF; VSTEER_XDP_REQUIRE_DISPATCHER=1) libxdp's xdp_multiprog
// must list both programs, xdp-filter first, and the traffic must show that both run:
//   port A: xdp-filter drops it (its match counter counts every frame), the classifier's
//           rule for A never sees it, nothing arrives;
//   port B: xdp-filter passes it, a classifier rule drops it (its rule counter counts it);
//   port C: both pass it (the classifier's rule counter counts it) and it arrives.
// The same after the classifier is replaced inside the dispatcher (xdp-filter stays the same
// program); after the classifier is detached xdp-filter stays, still drops A, and B arrives.
//
// Without the dispatcher (this host: the kernel refuses freplace, libxdp attaches single
// programs) the classifier must refuse to push xdp-filter out, which keeps working. With
// VSTEER_XDP_REQUIRE_DISPATCHER=1 a missing dispatcher is a failure, never a fallback.
#include "bpf_map.hpp"
#include "error.hpp"
#include "frame_builder.hpp"
#include "privileges.hpp"
#include "steering_objects.hpp"
#include "unique_fd.hpp"
#include "xdp_control.hpp"
#include "xdp_objects.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace vsteer;
using vsteer::test::Bytes;

namespace
{

constexpr const char *kSender = "vsxc0";
constexpr const char *kReceiver = "vsxc1"; // both programs run on its rx
constexpr uint16_t kPortA = 7001;          // xdp-filter drops it
constexpr uint16_t kPortB = 7002;          // the classifier drops it
constexpr uint16_t kPortC = 7003;          // both pass it
constexpr uint16_t kSrcPort = 5000;
constexpr const char *kSrcIp = "192.0.2.1", *kDstIp = "192.0.2.2";
constexpr uint64_t kFrames = 40; // per port and round

// xdp-filter's map interface (xdp-tools 1.x, the one its CLI writes): filter_ports is a
// per-CPU array indexed by the port in network byte order whose values are flag words; a
// frame matches when every flag it needs is set, and each match adds 1 << 6 to the word.
// xdp_stats_map counts packets and bytes per XDP action.
constexpr uint64_t kFiltFlagDst = 1u << 1, kFiltFlagUdp = 1u << 3;
constexpr unsigned kFiltCounterShift = 6;
struct FiltActionStats {
	uint64_t packets, bytes;
};

std::string other_object()
{
	const char *env = std::getenv("VSTEER_XDPFILT_OBJ");
	return env && *env ? env : "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o";
}

bool dispatcher_required()
{
	const char *env = std::getenv("VSTEER_XDP_REQUIRE_DISPATCHER");
	return env && std::strcmp(env, "1") == 0;
}

// ---- rtnetlink: a veth pair without iproute2 ----

class NetlinkMessage
{
public:
	NetlinkMessage(uint16_t type, uint16_t flags)
	{
		nlmsghdr nh{};
		nh.nlmsg_type = type;
		nh.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
		nh.nlmsg_seq = 1;
		append(&nh, sizeof(nh));
	}
	void append(const void *data, size_t len)
	{
		const auto *p = static_cast<const unsigned char *>(data);
		buf_.insert(buf_.end(), p, p + len);
		buf_.resize(NLMSG_ALIGN(buf_.size()));
	}
	void attr(uint16_t type, const void *data, size_t len)
	{
		rtattr a{static_cast<unsigned short>(RTA_LENGTH(len)), type};
		size_t at = buf_.size();
		buf_.resize(at + RTA_LENGTH(0));
		std::memcpy(&buf_[at], &a, sizeof(a));
		append(data, len);
	}
	void attr(uint16_t type, const std::string &s) { attr(type, s.c_str(), s.size() + 1); }
	size_t open_nest(uint16_t type)
	{
		size_t at = buf_.size();
		rtattr a{0, type};
		append(&a, sizeof(a));
		return at;
	}
	void close_nest(size_t at)
	{
		auto len = static_cast<unsigned short>(buf_.size() - at);
		std::memcpy(&buf_[at] + offsetof(rtattr, rta_len), &len, sizeof(len));
	}
	// Sends the request and waits for the kernel's acknowledgement.
	void transact(const std::string &what)
	{
		auto len = static_cast<uint32_t>(buf_.size());
		std::memcpy(buf_.data() + offsetof(nlmsghdr, nlmsg_len), &len, sizeof(len));
		UniqueFd s(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
		if (!s)
			throw_errno("rtnetlink", "open socket");
		if (send(s.get(), buf_.data(), buf_.size(), 0) < 0)
			throw_errno("rtnetlink", "send: " + what);
		alignas(nlmsghdr) unsigned char reply[4096];
		ssize_t n = recv(s.get(), reply, sizeof(reply), 0);
		if (n < 0)
			throw_errno("rtnetlink", "receive the reply: " + what);
		const auto *nh = reinterpret_cast<const nlmsghdr *>(reply);
		if (!NLMSG_OK(nh, static_cast<unsigned>(n)) || nh->nlmsg_type != NLMSG_ERROR)
			throw Error(EPROTO, "rtnetlink", what + ": no acknowledgement");
		const auto *e = static_cast<const nlmsgerr *>(NLMSG_DATA(nh));
		if (e->error)
			throw Error(-e->error, "rtnetlink", what,
			            e->error == -EOPNOTSUPP ? "the kernel needs CONFIG_VETH=y" : "");
	}

private:
	std::vector<unsigned char> buf_;
};

void create_veth(const std::string &name, const std::string &peer)
{
	NetlinkMessage m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifinfomsg ifi{};
	ifi.ifi_family = AF_UNSPEC;
	m.append(&ifi, sizeof(ifi));
	m.attr(IFLA_IFNAME, name);
	size_t linkinfo = m.open_nest(IFLA_LINKINFO);
	m.attr(IFLA_INFO_KIND, std::string("veth"));
	size_t data = m.open_nest(IFLA_INFO_DATA);
	size_t peer_info = m.open_nest(VETH_INFO_PEER);
	m.append(&ifi, sizeof(ifi));
	m.attr(IFLA_IFNAME, peer);
	m.close_nest(peer_info);
	m.close_nest(data);
	m.close_nest(linkinfo);
	m.transact("create veth pair " + name + " / " + peer);
}

ifreq interface_request(const std::string &dev)
{
	ifreq ifr{};
	std::snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev.c_str());
	return ifr;
}

void set_up(const std::string &dev)
{
	// No router solicitations or DAD probes: the only frames are the test's own.
	std::ofstream(("/proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6").c_str()) << "1\n";
	UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	ifreq ifr = interface_request(dev);
	if (ioctl(s.get(), SIOCGIFFLAGS, &ifr))
		throw_errno("device " + dev, "read flags");
	ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
	if (ioctl(s.get(), SIOCSIFFLAGS, &ifr))
		throw_errno("device " + dev, "set up");
}

vsteer::test::MacAddr mac_of(const std::string &dev)
{
	UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	ifreq ifr = interface_request(dev);
	if (ioctl(s.get(), SIOCGIFHWADDR, &ifr))
		throw_errno("device " + dev, "read the MAC address");
	vsteer::test::MacAddr mac{};
	std::memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, mac.size());
	return mac;
}

// ---- traffic: AF_PACKET in, AF_PACKET out ----

// `receive`: a non-blocking socket that sees every frame; otherwise one that only sends.
UniqueFd packet_socket(const std::string &dev, bool receive)
{
	const uint16_t proto = receive ? htons(ETH_P_ALL) : 0;
	UniqueFd s(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | (receive ? SOCK_NONBLOCK : 0), proto));
	if (!s)
		throw_errno("AF_PACKET socket on " + dev, "open");
	sockaddr_ll sll{};
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = proto;
	sll.sll_ifindex = static_cast<int>(if_nametoindex(dev.c_str()));
	if (bind(s.get(), reinterpret_cast<sockaddr *>(&sll), sizeof(sll)))
		throw_errno("AF_PACKET socket on " + dev, "bind");
	return s;
}

Bytes udp_frame(const vsteer::test::MacAddr &src, const vsteer::test::MacAddr &dst, uint16_t dport)
{
	using namespace vsteer::test;
	FrameSpec spec;
	spec.src_mac = src;
	spec.dst_mac = dst;
	Ipv4Spec ip;
	ip.src = ipv4_addr(kSrcIp);
	ip.dst = ipv4_addr(kDstIp);
	spec.ip = ip;
	L4Spec udp;
	udp.protocol = ipproto::kUdp;
	udp.sport = kSrcPort;
	udp.dport = dport;
	udp.payload = Bytes(18, 0x5a);
	spec.l4 = udp;
	return build_frame(spec);
}

// UDP destination port of an untagged IPv4 frame, 0 for anything else.
uint16_t udp_dport(const unsigned char *f, size_t len)
{
	if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[14 + 9] != IPPROTO_UDP)
		return 0;
	size_t l4 = 14 + 4 * static_cast<size_t>(f[14] & 0x0f);
	if (len < l4 + 8)
		return 0;
	return static_cast<uint16_t>(f[l4 + 2] << 8 | f[l4 + 3]);
}

// ---- what each program counted ----

struct Counters {
	uint64_t filt_hits_a = 0;                                // xdp-filter: matches of the port A entry
	uint64_t filt_pass = 0, filt_drop = 0;                   // xdp-filter: packets per action
	uint64_t rule_a = 0, rule_b = 0, rule_c = 0;             // classifier: packets per rule
	uint64_t received_a = 0, received_b = 0, received_c = 0; // on the receiver, after XDP
};

class Bench
{
public:
	explicit Bench(const std::string &other_pin)
	    : filter_ports_(PerCpuArray<uint64_t>::from_pin(other_pin + "/filter_ports")),
	      filt_stats_(PerCpuArray<FiltActionStats>::from_pin(other_pin + "/xdp_stats_map")),
	      tx_(packet_socket(kSender, false)), rx_(packet_socket(kReceiver, true))
	{
		auto src = mac_of(kSender), dst = mac_of(kReceiver);
		for (uint16_t port : {kPortA, kPortB, kPortC})
			frames_[port] = udp_frame(src, dst, port);
		// xdp-filter: drop UDP to port A.
		std::vector<uint64_t> words(possible_cpus(), kFiltFlagDst | kFiltFlagUdp);
		uint32_t key = htons(kPortA);
		if (bpf_map_update_elem(filter_ports_.fd(), &key, words.data(), BPF_ANY))
			throw_errno("xdp-filter map filter_ports",
			            "add the port " + std::to_string(kPortA) + " entry");
	}

	void set_classifier(XdpControl *ctl) { ctl_ = ctl; }

	// Sends kFrames to each port, waits for what should arrive, returns what changed.
	Counters round(bool expect_b_arrives)
	{
		drain();
		Counters before = snapshot();
		sockaddr_ll to{};
		to.sll_family = AF_PACKET;
		to.sll_ifindex = static_cast<int>(if_nametoindex(kSender));
		to.sll_halen = ETH_ALEN;
		for (uint64_t i = 0; i < kFrames; i++)
			for (uint16_t port : {kPortA, kPortB, kPortC}) {
				const Bytes &f = frames_.at(port);
				if (sendto(tx_.get(), f.data(), f.size(), 0,
				           reinterpret_cast<sockaddr *>(&to),
				           sizeof(to)) != static_cast<ssize_t>(f.size()))
					throw_errno(std::string("AF_PACKET socket on ") + kSender, "send");
			}
		const uint64_t want = before.received_c + kFrames;
		const uint64_t want_b = before.received_b + (expect_b_arrives ? kFrames : 0);
		auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
		while ((received_.at(kPortC) < want || received_.at(kPortB) < want_b) &&
		       std::chrono::steady_clock::now() < deadline) {
			std::this_thread::sleep_for(std::chrono::milliseconds(10));
			drain();
		}
		// One sender, one queue: once the last C frame is in, the A and B frames sent before it
		// have been handled too. A margin anyway, for anything that must not arrive.
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
		drain();
		Counters after = snapshot();
		return Counters{after.filt_hits_a - before.filt_hits_a, after.filt_pass - before.filt_pass,
		                after.filt_drop - before.filt_drop,     after.rule_a - before.rule_a,
		                after.rule_b - before.rule_b,           after.rule_c - before.rule_c,
		                after.received_a - before.received_a,   after.received_b - before.received_b,
		                after.received_c - before.received_c};
	}

private:
	void drain()
	{
		unsigned char buf[2048];
		sockaddr_ll from{};
		socklen_t fromlen = sizeof(from);
		ssize_t n;
		while ((n = recvfrom(rx_.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr *>(&from),
		                     &fromlen)) > 0) {
			if (from.sll_pkttype != PACKET_OUTGOING) {
				auto it = received_.find(udp_dport(buf, static_cast<size_t>(n)));
				if (it != received_.end())
					it->second++;
			}
			fromlen = sizeof(from);
		}
	}

	Counters snapshot() const
	{
		Counters c;
		uint32_t key = htons(kPortA);
		std::vector<uint64_t> words(possible_cpus());
		if (bpf_map_lookup_elem(filter_ports_.fd(), &key, words.data()))
			throw_errno("xdp-filter map filter_ports",
			            "read the port " + std::to_string(kPortA) + " entry");
		for (uint64_t w : words)
			c.filt_hits_a += w >> kFiltCounterShift;
		for (const auto &s : filt_stats_.get(XDP_PASS))
			c.filt_pass += s.packets;
		for (const auto &s : filt_stats_.get(XDP_DROP))
			c.filt_drop += s.packets;
		if (ctl_)
			for (const RuleInfo &r : ctl_->rules()) {
				uint64_t *slot = r.match.dport == kPortA   ? &c.rule_a
				                 : r.match.dport == kPortB ? &c.rule_b
				                 : r.match.dport == kPortC ? &c.rule_c
				                                           : nullptr;
				if (slot)
					*slot = r.totals.packets;
			}
		c.received_a = received_.at(kPortA);
		c.received_b = received_.at(kPortB);
		c.received_c = received_.at(kPortC);
		return c;
	}

	PerCpuArray<uint64_t> filter_ports_;
	PerCpuArray<FiltActionStats> filt_stats_;
	UniqueFd tx_, rx_;
	std::map<uint16_t, Bytes> frames_;
	std::map<uint16_t, uint64_t> received_{{kPortA, 0}, {kPortB, 0}, {kPortC, 0}};
	XdpControl *ctl_ = nullptr;
};

// ---- what libxdp sees on the device ----

struct Listing {
	bool dispatcher = false;
	std::vector<std::string> names; // in run order
	std::vector<uint32_t> ids;
	// The classifier's names (bpf/xdp_classify.bpf.c: with and without XDP metadata) as one, so
	// that listings compare by role.
	std::vector<std::string> roles() const
	{
		std::vector<std::string> r;
		for (const auto &n : names)
			r.push_back(n == "vsteer_nometa" ? "vsteer_classify" : n);
		return r;
	}
	std::string text() const
	{
		std::string s = dispatcher ? "dispatcher[" : "single[";
		for (size_t i = 0; i < names.size(); i++)
			s += (i ? " " : "") + names[i] + "#" + std::to_string(ids[i]);
		return s + "]";
	}
};

Listing list_programs(const std::string &dev)
{
	Listing l;
	xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(static_cast<int>(if_nametoindex(dev.c_str())));
	if (!mp || libxdp_get_error(mp))
		return l;
	auto note = [&](xdp_program *p) {
		l.names.push_back(xdp_program__name(p));
		l.ids.push_back(xdp_program__id(p));
	};
	l.dispatcher = !xdp_multiprog__is_legacy(mp);
	if (!l.dispatcher) {
		if (xdp_multiprog__main_prog(mp))
			note(xdp_multiprog__main_prog(mp));
	} else {
		for (xdp_program *p = xdp_multiprog__next_prog(nullptr, mp); p;
		     p = xdp_multiprog__next_prog(p, mp))
			note(p);
	}
	xdp_multiprog__close(mp);
	return l;
}

// ---- the verdict ----

class Verdict
{
public:
	void expect(bool ok, const std::string &what)
	{
		if (!ok)
			failures_.push_back(what);
	}
	void expect_eq(const std::string &phase, const char *what, uint64_t got, uint64_t want)
	{
		expect(got == want,
		       phase + ": " + what + " " + std::to_string(got) + ", want " + std::to_string(want));
	}
	void note(const std::string &s) { notes_ += (notes_.empty() ? "" : "; ") + s; }
	std::string line() const
	{
		std::string s = failures_.empty() ? "PASS " : "FAIL ";
		for (const auto &f : failures_)
			s += f + "; ";
		return s + notes_;
	}

private:
	std::vector<std::string> failures_;
	std::string notes_;
};

std::string describe(const Counters &c)
{
	char buf[256];
	std::snprintf(buf, sizeof(buf),
	              "xdp-filter hits(A)=%llu pass=%llu drop=%llu, classifier rules A=%llu B=%llu C=%llu, "
	              "received A=%llu B=%llu C=%llu",
	              (unsigned long long)c.filt_hits_a, (unsigned long long)c.filt_pass,
	              (unsigned long long)c.filt_drop, (unsigned long long)c.rule_a,
	              (unsigned long long)c.rule_b, (unsigned long long)c.rule_c,
	              (unsigned long long)c.received_a, (unsigned long long)c.received_b,
	              (unsigned long long)c.received_c);
	return buf;
}

// Both programs in the dispatcher: A dropped by xdp-filter before the classifier, B dropped by
// the classifier after xdp-filter passed it, C through both.
void check_both_run(Verdict &v, const std::string &phase, const Counters &c)
{
	v.note(phase + ": " + describe(c));
	v.expect_eq(phase, "xdp-filter matches of port A", c.filt_hits_a, kFrames);
	v.expect(c.filt_drop >= kFrames, phase + ": xdp-filter dropped fewer than the port A frames");
	v.expect(c.filt_pass >= 2 * kFrames,
	         phase + ": xdp-filter passed fewer than the port B and C frames");
	v.expect_eq(phase, "classifier rule A (xdp-filter drops A before it)", c.rule_a, 0);
	v.expect_eq(phase, "classifier rule B", c.rule_b, kFrames);
	v.expect_eq(phase, "classifier rule C", c.rule_c, kFrames);
	v.expect_eq(phase, "received A", c.received_a, 0);
	v.expect_eq(phase, "received B (the classifier drops it)", c.received_b, 0);
	v.expect_eq(phase, "received C", c.received_c, kFrames);
}

// xdp-filter alone: A dropped, B and C arrive, the classifier counts nothing.
void check_filter_alone(Verdict &v, const std::string &phase, const Counters &c)
{
	v.note(phase + ": " + describe(c));
	v.expect_eq(phase, "xdp-filter matches of port A", c.filt_hits_a, kFrames);
	v.expect_eq(phase, "classifier rule B", c.rule_b, 0);
	v.expect_eq(phase, "classifier rule C", c.rule_c, 0);
	v.expect_eq(phase, "received A", c.received_a, 0);
	v.expect_eq(phase, "received B", c.received_b, kFrames);
	v.expect_eq(phase, "received C", c.received_c, kFrames);
}

// The child, in a network namespace of its own: returns a one-line verdict.
std::string coexist_child()
{
	if (unshare(CLONE_NEWNET))
		return std::string("FAIL unshare(CLONE_NEWNET): ") + std::strerror(errno);
	create_veth(kSender, kReceiver);
	set_up(kSender);
	set_up(kReceiver);
	ensure_bpffs();
	const std::string pin = "/sys/fs/bpf/vsteer-xdp-coexist-" + std::to_string(getpid());
	const std::string other_pin = pin + "-other";
	std::filesystem::create_directories(other_pin);
	struct Unpin {
		std::string ours, other;
		~Unpin()
		{
			std::error_code ec;
			try {
				xdp_unpin(ours);
			} catch (...) {
			}
			std::filesystem::remove_all(other, ec);
		}
	} unpin{pin, other_pin};

	const int ifindex = static_cast<int>(if_nametoindex(kReceiver));
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = other_pin.c_str());
	xdp_program *other = xdp_program__open_file(other_object().c_str(), "xdp", &oo);
	if (libxdp_get_error(other))
		return "FAIL open " + other_object() + " with libxdp";
	if (int err = xdp_program__attach(other, ifindex, XDP_MODE_NATIVE, 0)) {
		xdp_program__close(other);
		return std::string("FAIL attach ") + other_object() + " to " + kReceiver + ": " +
		       std::strerror(-err);
	}
	struct Detach {
		xdp_program *p;
		int ifindex;
		~Detach()
		{
			xdp_program__detach(p, ifindex, XDP_MODE_NATIVE, 0);
			xdp_program__close(p);
		}
	} detach{other, ifindex};
	// Declared after `detach`, so it runs first: no classifier is left behind on a failure.
	struct DetachClassifier {
		~DetachClassifier()
		{
			try {
				if (xdp_device_state(kReceiver).attached)
					xdp_detach(kReceiver);
			} catch (...) {
			}
		}
	} detach_classifier;
	const std::string other_name = xdp_program__name(other);

	Bench bench(other_pin);
	Verdict v;
	Listing l0 = list_programs(kReceiver);
	v.note("with " + other_name + ": " + l0.text());
	if (!l0.dispatcher) {
		if (dispatcher_required())
			return "FAIL libxdp attached " + other_name +
			       " without its dispatcher (its messages above say why; the dispatcher needs "
			       "freplace, the kernel's BTF: CONFIG_DEBUG_INFO_BTF=y, and flock: "
			       "CONFIG_FILE_LOCKING=y); " +
			       l0.text();
		v.note("mode: no dispatcher (libxdp fell back to a single program)");
		// Fallback: the classifier must not push xdp-filter out, which keeps working.
		try {
			xdp_attach(kReceiver, XdpMode::Native, pin);
			v.expect(false, "the classifier replaced " + other_name + ", which it does not own");
		} catch (const Error &e) {
			v.expect(std::string(e.what()).find("without libxdp's dispatcher") !=
			             std::string::npos,
			         std::string("unexpected error: ") + e.what());
		}
		Listing l = list_programs(kReceiver);
		v.expect(l.names == std::vector<std::string>{other_name} && l.ids == l0.ids,
		         "after the refusal: " + l.text());
		check_filter_alone(v, "the classifier refused", bench.round(true));
		return v.line();
	}
	v.note("mode: libxdp dispatcher");

	XdpAttachReport r = xdp_attach(kReceiver, XdpMode::Native, pin);
	XdpMaps maps = XdpMaps::open_pinned(pin);
	XdpControl ctl(maps);
	const std::string tuple = std::string("proto=udp src=") + kSrcIp + " dst=" + kDstIp +
	                          " sport=" + std::to_string(kSrcPort) + " dport=";
	ctl.add_rule(parse_match(tuple + std::to_string(kPortA)), parse_rule_action("pass"));
	ctl.add_rule(parse_match(tuple + std::to_string(kPortB)), parse_rule_action("drop"));
	ctl.add_rule(parse_match(tuple + std::to_string(kPortC)), parse_rule_action("pass"));
	bench.set_classifier(&ctl);

	const std::vector<std::string> both{other_name, "vsteer_classify"};
	Listing l1 = list_programs(kReceiver);
	v.note("attached: " + r.how + (r.metadata ? "" : " without XDP metadata") + ", " + l1.text());
	v.expect(r.dispatcher && l1.dispatcher && l1.roles() == both,
	         "after attach: want dispatcher[" + other_name + " vsteer_classify], got " + l1.text());
	// what `vsteer xdp show` reports is the variant that was attached
	XdpDeviceState st = xdp_device_state(kReceiver);
	v.expect(st.attached && st.dispatcher && st.metadata == r.metadata,
	         std::string("xdp show: metadata ") + (st.metadata ? "on" : "off") + ", attached " +
	             (r.metadata ? "with" : "without"));
	check_both_run(v, "attached", bench.round(false));

	XdpAttachReport r2 = xdp_attach(kReceiver, std::nullopt, pin);
	Listing l2 = list_programs(kReceiver);
	v.note("replaced: " + r2.how + (r2.metadata ? "" : " without XDP metadata") + ", " + l2.text());
	v.expect(r2.how == "replaced in dispatcher", "replacement: " + r2.how);
	v.expect(l2.dispatcher && l2.roles() == both, "after replace: got " + l2.text());
	v.expect(l2.ids.size() == 2 && l1.ids.size() == 2 && l2.ids[0] == l1.ids[0] && l2.ids[1] != l1.ids[1],
	         "after replace: want the same " + other_name + " and a new classifier, got " + l2.text());
	check_both_run(v, "replaced", bench.round(false));

	xdp_detach(kReceiver);
	Listing l3 = list_programs(kReceiver);
	v.note("classifier detached: " + l3.text());
	v.expect(l3.names == std::vector<std::string>{other_name} && !l3.ids.empty() &&
	             l3.ids[0] == l1.ids[0],
	         "after detach: want " + other_name + " alone, got " + l3.text());
	check_filter_alone(v, "classifier detached", bench.round(true));
	return v.line();
}

} // namespace

TEST_CASE("xdp coexistence: another libxdp program and the classifier on one device")
{
	if (!vsteer::test::require_privileges("XDP coexistence"))
		return;
	if (access(other_object().c_str(), R_OK)) {
		std::string msg =
		    other_object() + " (xdp-tools' xdp-filter, package libxdp1) is not readable";
		if (vsteer::test::in_ci() || dispatcher_required())
			FAIL(msg);
		MESSAGE("SKIPPED: " << msg);
		return;
	}
	int p[2];
	REQUIRE(pipe(p) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		std::string v;
		try {
			v = coexist_child();
		} catch (const std::exception &e) {
			v = std::string("FAIL ") + e.what();
		}
		(void)!write(p[1], v.data(), v.size());
		_exit(0);
	}
	close(p[1]);
	std::string verdict;
	char buf[512];
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		verdict.append(buf, static_cast<size_t>(n));
	close(p[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	std::printf("VSTEER-XDP-COEXIST %s\n", verdict.c_str());
	INFO(verdict);
	CHECK(WIFEXITED(st));
	CHECK(verdict.rfind("PASS ", 0) == 0);
}
