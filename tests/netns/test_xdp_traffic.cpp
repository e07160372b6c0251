// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The XDP classifier on real traffic (docs/xdp.md). Each test builds its own world: a
// "wire" and a "host" network namespace joined by a veth pair (tx checksum offload off on
// the sending end), the classifier attached natively to the host end with `vsteer xdp
// attach`, and multiqueue taps in the host namespace whose queue fds the test holds (the
// "VMs"). Frames built with frame_builder.hpp are sent from the wire namespace with
// AF_PACKET. Everything (namespaces, devices, pins) is removed afterwards; the root
// namespace's devices are never touched.
#include "frame_builder.hpp"
#include "privileges.hpp"
#include "rss_reference.hpp"
#include "xdp_control.hpp"
#include "xdp_objects.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <xdp/libxdp.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
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
using namespace vsteer::test;

namespace
{

int run(const std::string &cmd, bool quiet = false)
{
	std::string full = cmd + (quiet ? " >/dev/null 2>&1" : "");
	int rc = std::system(full.c_str());
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void must(const std::string &cmd)
{
	INFO(cmd);
	REQUIRE(run(cmd) == 0);
}

// Switches the calling thread into a network namespace and back.
class InNetns
{
public:
	explicit InNetns(const std::string &name)
	{
		orig_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		int fd = open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
		REQUIRE(fd >= 0);
		REQUIRE(setns(fd, CLONE_NEWNET) == 0);
		close(fd);
	}
	~InNetns()
	{
		setns(orig_, CLONE_NEWNET);
		close(orig_);
	}

private:
	int orig_ = -1;
};

struct Tap {
	std::string name;
	std::vector<int> fds; // one per queue
	~Tap()
	{
		for (int fd : fds)
			close(fd);
	}
};

// A multiqueue tap (no vnet header, no PI) whose queues this process holds; call in the
// host namespace.
std::unique_ptr<Tap> make_tap(const std::string &name, unsigned queues)
{
	auto t = std::make_unique<Tap>();
	t->name = name;
	for (unsigned q = 0; q < queues; q++) {
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
		REQUIRE(fd >= 0);
		ifreq ifr{};
		std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE;
		REQUIRE_MESSAGE(ioctl(fd, TUNSETIFF, &ifr) == 0,
		                "TUNSETIFF " << name << ": " << std::strerror(errno));
		t->fds.push_back(fd);
	}
	return t;
}

// Reads the frames arriving on each queue until `expect` frames came (or 2 s passed),
// then for `settle_ms` more to catch any extra one. Returns them per queue.
std::vector<std::vector<Bytes>> drain(const Tap &t, int settle_ms = 150, size_t expect = 0)
{
	std::vector<std::vector<Bytes>> out(t.fds.size());
	auto read_all = [&] {
		size_t n = 0;
		for (size_t q = 0; q < t.fds.size(); q++) {
			uint8_t buf[2048];
			ssize_t len;
			while ((len = read(t.fds[q], buf, sizeof(buf))) > 0)
				out[q].emplace_back(buf, buf + len);
			n += out[q].size();
		}
		return n;
	};
	auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
	while (expect && read_all() < expect && std::chrono::steady_clock::now() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
	read_all();
	return out;
}

size_t total(const std::vector<std::vector<Bytes>> &qs)
{
	size_t n = 0;
	for (const auto &q : qs)
		n += q.size();
	return n;
}

// Counts the frames that arrive on a tap queue, in a thread of its own, until stop().
class QueueCounter
{
public:
	explicit QueueCounter(int fd)
	    : thread_([this, fd] {
		      uint8_t buf[2048];
		      while (!stop_) {
			      pollfd p{fd, POLLIN, 0};
			      if (poll(&p, 1, 20) > 0)
				      while (read(fd, buf, sizeof(buf)) > 0)
					      received_++;
		      }
	      })
	{
	}
	~QueueCounter() { stop(); }
	void stop()
	{
		stop_ = true;
		if (thread_.joinable())
			thread_.join();
	}
	size_t received() const { return received_; }

private:
	std::atomic<size_t> received_{0};
	std::atomic<bool> stop_{false};
	std::thread thread_;
};

// The world of one test.
class World
{
public:
	World()
	{
		id_ = std::to_string(getpid()) + "-" + std::to_string(counter_++);
		host = "vxh" + id_;
		wire = "vxw" + id_;
		pin_dir = "/sys/fs/bpf/vsteer-xdp-test-" + id_;
		rss_root = "/sys/fs/bpf/vsteer-xdp-test-rss-" + id_;
		must("ip netns add " + host);
		must("ip netns add " + wire);
		for (const auto &ns : {host, wire})
			must("nsenter --net=/run/netns/" + ns +
			     " sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 "
			     "net.ipv6.conf.default.disable_ipv6=1");
		must("ip -n " + host + " link add vh type veth peer name vw netns " + wire);
		must("ip -n " + host + " link set vh up");
		must("ip -n " + host + " addr add 10.99.0.1/24 dev vh");
		must("ip -n " + wire + " link set vw up");
		must("ip -n " + host + " link set lo up");
		must("nsenter --net=/run/netns/" + wire + " ethtool -K vw tx off >/dev/null");
		{
			InNetns in(wire);
			sock_ = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
			REQUIRE(sock_ >= 0);
			vw_ifindex_ = static_cast<int>(if_nametoindex("vw"));
			REQUIRE(vw_ifindex_ > 0);
		}
		{
			InNetns in(host);
			vh_ifindex_ = static_cast<int>(if_nametoindex("vh"));
			int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			ifreq ifr{};
			std::strcpy(ifr.ifr_name, "vh");
			REQUIRE(ioctl(s, SIOCGIFHWADDR, &ifr) == 0);
			std::memcpy(vh_mac.data(), ifr.ifr_hwaddr.sa_data, 6);
			close(s);
		}
	}
	~World()
	{
		if (sock_ >= 0)
			close(sock_);
		taps.clear();
		run("ip netns del " + host, true);
		run("ip netns del " + wire, true);
		std::error_code ec;
		xdp_unpin(pin_dir);
		std::filesystem::remove_all(rss_root, ec);
	}

	// Runs the CLI in the host namespace.
	int vsteer(const std::string &args, bool quiet = false)
	{
		return run("VSTEER_XDP_PIN_DIR=" + pin_dir + " nsenter --net=/run/netns/" + host +
		               " " VSTEER_BINARY " " + args,
		           quiet);
	}
	void vsteer_ok(const std::string &args)
	{
		INFO("vsteer " << args);
		REQUIRE(vsteer(args) == 0);
	}

	// A tap in the host namespace whose queue files the test holds; `txqueuelen` (when not 0)
	// for a tap that receives faster than its reader drains.
	Tap &add_tap(const std::string &name, unsigned queues, unsigned txqueuelen = 0)
	{
		InNetns in(host);
		taps.push_back(make_tap(name, queues));
		must("ip -n " + host + " link set " + name + " up");
		if (txqueuelen)
			must("ip -n " + host + " link set " + name + " txqueuelen " +
			     std::to_string(txqueuelen));
		return *taps.back();
	}

	// Pins a VM's RSS maps (QEMU layout) where `vm add --rss-pins` finds them.
	std::string pin_policy(const std::string &tap, const RssPolicyMaps &m)
	{
		std::string dir = rss_root + "/" + tap;
		std::filesystem::create_directories(dir);
		auto fds = m.fds();
		REQUIRE(bpf_obj_pin(fds.config, (dir + "/" VSTEER_PIN_CONFIG).c_str()) == 0);
		REQUIRE(bpf_obj_pin(fds.key, (dir + "/" VSTEER_PIN_KEY).c_str()) == 0);
		REQUIRE(bpf_obj_pin(fds.table, (dir + "/" VSTEER_PIN_TABLE).c_str()) == 0);
		return dir;
	}

	void send(const Bytes &frame)
	{
		REQUIRE_MESSAGE(send_raw(frame), "sendto: " << std::strerror(errno));
	}
	// Sends without REQUIRE (from another thread); returns success.
	bool send_raw(const Bytes &frame)
	{
		sockaddr_ll sll{};
		sll.sll_family = AF_PACKET;
		sll.sll_ifindex = vw_ifindex_;
		sll.sll_halen = 6;
		std::memcpy(sll.sll_addr, frame.data(), 6);
		return sendto(sock_, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr *>(&sll),
		              sizeof(sll)) == static_cast<ssize_t>(frame.size());
	}

	XdpMaps maps() { return XdpMaps::open_pinned(pin_dir); }

	std::string host, wire, pin_dir, rss_root;
	MacAddress vh_mac{};
	std::vector<std::unique_ptr<Tap>> taps;

private:
	static inline int counter_ = 0;
	std::string id_;
	int sock_ = -1, vw_ifindex_ = 0, vh_ifindex_ = 0;
};

Bytes udp_to(const MacAddress &mac, const char *src, const char *dst, uint16_t sport, uint16_t dport)
{
	FrameBuilder fb;
	fb.ipv4(src, dst).udp(sport, dport, Bytes(32, 0xab));
	fb.spec().dst_mac = mac;
	return fb.build();
}

const MacAddress kMacA{0x52, 0x54, 0x00, 0x0a, 0x00, 0x01};
const MacAddress kMacB{0x52, 0x54, 0x00, 0x0b, 0x00, 0x01};
const MacAddress kMacC{0x52, 0x54, 0x00, 0x0c, 0x00, 0x01};

VmInfo vm_info(World &w, const std::string &name)
{
	XdpMaps m = w.maps();
	XdpControl ctl(m);
	for (const VmInfo &v : ctl.vms())
		if (std::string(v.slot.name) == name)
			return v;
	FAIL("no VM " << name);
	return {};
}

// The cpumap cases need root and two online CPUs (`cpus` gets the online ones).
bool cpumap_preconditions(std::vector<unsigned> &cpus)
{
	if (!require_privileges("XDP netns traffic"))
		return false;
	cpus = online_cpus();
	return require_condition(cpus.size() >= 2, "the cpumap cases need two online CPUs");
}

// The classifier's program id on the host end of the veth.
uint32_t xdp_device_state_in(World &w)
{
	InNetns in(w.host);
	return xdp_device_state("vh").prog_id;
}

// A guest RSS policy whose key bytes are seed + step * i, with the given table.
RssConfig pattern_policy(uint8_t seed, uint8_t step, std::vector<uint16_t> table)
{
	RssConfig cfg;
	for (size_t i = 0; i < cfg.key.size(); i++)
		cfg.key[i] = static_cast<uint8_t>(seed + step * i);
	cfg.table = std::move(table);
	return cfg;
}

// The world of the cpumap cases: a 2-queue tap `tap` whose guest policy `cfg` is written
// into `policy` and pinned as the tap's maps, the classifier attached to the host end in
// `mode`, and VM `vm` (MAC kMacC) on the tap whose guest queue q is served by CPU cpus[q].
struct CpuSteeredVm {
	CpuSteeredVm(const std::string &vm, const std::string &tap_name, const RssConfig &policy_cfg,
	             const std::vector<unsigned> &cpus, const std::string &mode)
	    : tap(w.add_tap(tap_name, 2)), cfg(policy_cfg)
	{
		policy.write(cfg);
		std::string dir = w.pin_policy(tap_name, policy);
		w.vsteer_ok("xdp attach --dev vh --mode " + mode);
		w.vsteer_ok("vm add " + vm + " --tap " + tap_name + " --mac " + format_mac(kMacC) +
		            " --rss-pins " + dir + " --queue-cpus " + std::to_string(cpus[0]) + "," +
		            std::to_string(cpus[1]) + " --action cpu");
	}
	World w;
	Tap &tap;
	RssPolicyMaps policy;
	RssConfig cfg;
};

// Sends `copies` of `f` from the wire and returns what `t`'s queues received; checks that
// VM `vm`'s cpumap program handled every copy on CPU `cpu` and on no other CPU.
std::vector<std::vector<Bytes>> send_on_cpu(World &w, const std::string &vm, const Tap &t, const Bytes &f,
                                            unsigned copies, unsigned cpu)
{
	VmInfo before = vm_info(w, vm);
	for (unsigned i = 0; i < copies; i++)
		w.send(f);
	auto got = drain(t, 30, copies);
	VmInfo after = vm_info(w, vm);
	for (size_t c = 0; c < after.cpumap_by_cpu.size(); c++)
		CHECK(after.cpumap_by_cpu[c] - before.cpumap_by_cpu[c] == (c == cpu ? copies : 0u));
	return got;
}

} // namespace

TEST_CASE("xdp netns: frames reach their VM's tap, pass through the stack, or are dropped")
{
	if (!require_privileges("XDP netns traffic"))
		return;
	World w;
	Tap &ta = w.add_tap("vxa", 2);
	Tap &tb = w.add_tap("vxb", 2);
	w.vsteer_ok("xdp attach --dev vh --mode native");
	w.vsteer_ok("vm add a --tap vxa --mac " + format_mac(kMacA) + " --action tap");
	w.vsteer_ok("vm add b --tap vxb --prefix 10.9.2.0/24 --prefix fd00:b::/64 --action tap");
	w.vsteer_ok("rule add --match 'proto=udp src=192.0.2.1 dst=10.9.2.7 sport=7 dport=7' --action drop");
	w.vsteer_ok("rule add --match 'proto=udp src=192.0.2.1 dst=10.9.2.8 sport=7 dport=7' --action vm:a");

	// A UDP socket in the host namespace for the "pass" path.
	int us;
	{
		InNetns in(w.host);
		us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_port = htons(5555);
		a.sin_addr.s_addr = htonl(INADDR_ANY);
		REQUIRE(bind(us, reinterpret_cast<sockaddr *>(&a), sizeof(a)) == 0);
	}

	for (uint16_t i = 0; i < 20; i++)
		w.send(udp_to(kMacA, "192.0.2.1", "198.51.100.3", static_cast<uint16_t>(1000 + i), 80));
	for (uint16_t i = 0; i < 15; i++)
		w.send(udp_to(w.vh_mac, "192.0.2.1", "10.9.2.9", static_cast<uint16_t>(2000 + i), 80));
	for (uint16_t i = 0; i < 5; i++) {
		FrameBuilder fb;
		fb.ipv6("2001:db8::1", "fd00:b::5").tcp(static_cast<uint16_t>(3000 + i), 443);
		fb.spec().dst_mac = w.vh_mac;
		w.send(fb.build());
	}
	for (int i = 0; i < 10; i++)
		w.send(udp_to(kMacA, "192.0.2.1", "10.9.2.7", 7, 7)); // drop rule beats MAC a
	for (int i = 0; i < 3; i++)
		w.send(udp_to(w.vh_mac, "192.0.2.1", "10.9.2.8", 7, 7)); // vm:a rule beats prefix b
	for (int i = 0; i < 4; i++)
		w.send(udp_to(w.vh_mac, "10.99.0.2", "10.99.0.1", 4444, 5555)); // unmatched: the stack

	auto ra = drain(ta, 50, 23), rb = drain(tb, 50, 20);
	CHECK(total(ra) == 23);
	CHECK(total(rb) == 20);
	size_t got = 0;
	uint8_t buf[256];
	while (recv(us, buf, sizeof(buf), 0) > 0)
		got++;
	close(us);
	CHECK(got == 4);

	VmInfo a = vm_info(w, "a"), b = vm_info(w, "b");
	CHECK(a.totals.by_action.redirect_tap == 23);
	CHECK(b.totals.by_action.redirect_tap == 20);
	XdpMaps m = w.maps();
	XdpControl ctl(m);
	auto rules = ctl.rules();
	REQUIRE(rules.size() == 2);
	CHECK(rules[0].totals.packets == 10);
	CHECK(rules[1].totals.packets == 3);
	CHECK(ctl.totals().by_action.drop == 10);
	CHECK(ctl.totals().unmatched >= 4);
	MESSAGE("xdp netns: a=" << total(ra) << " b=" << total(rb) << " stack=" << got
	                        << " dropped=" << ctl.totals().by_action.drop);
}

TEST_CASE("xdp netns: the cpumap CPU and the tap queue follow the guest's RSS policy, and its changes")
{
	std::vector<unsigned> cpus;
	if (!cpumap_preconditions(cpus))
		return;
	// in native mode the tap queue then follows the CPU
	CpuSteeredVm s("c", "vxc", pattern_policy(0x6d, 37, {0, 1, 1, 0, 1, 0, 0, 1}), cpus, "native");

	int checked = 0, per_queue[2] = {0, 0};
	for (uint16_t flow = 0; flow < 16; flow++) {
		Bytes f =
		    udp_to(kMacC, "192.0.2.1", "198.51.100.7", static_cast<uint16_t>(40000 + 17 * flow), 53);
		uint16_t q = compute_rss(s.cfg, f).queue;
		INFO("flow " << flow << " reference queue " << q);
		auto got = send_on_cpu(s.w, "c", s.tap, f, 3, cpus[q]);
		CHECK(got[q].size() == 3);
		CHECK(got[1 - q].empty());
		checked++;
		per_queue[q]++;
	}
	CHECK(per_queue[0] > 0);
	CHECK(per_queue[1] > 0);

	// The guest reprograms its table (through the tap's maps): the next packet moves.
	Bytes f = udp_to(kMacC, "192.0.2.1", "198.51.100.7", 40000, 53);
	uint16_t q = compute_rss(s.cfg, f).queue;
	RssConfig moved = s.cfg;
	for (auto &e : moved.table)
		e = static_cast<uint16_t>(1 - q);
	s.policy.write(moved);
	VmInfo before = vm_info(s.w, "c");
	s.w.send(f);
	auto got = drain(s.tap, 30, 1);
	VmInfo after = vm_info(s.w, "c");
	CHECK(got[1 - q].size() == 1);
	CHECK(got[q].empty());
	CHECK(after.cpumap_by_cpu[cpus[1 - q]] - before.cpumap_by_cpu[cpus[1 - q]] == 1);
	MESSAGE("xdp netns: " << checked << " flows on the reference CPU/queue (q0=" << per_queue[0]
	                      << ", q1=" << per_queue[1] << "); policy change moved the next packet to queue "
	                      << 1 - q);
}

TEST_CASE("xdp netns: the per-VM rate limit holds within 10%")
{
	if (!require_privileges("XDP netns traffic"))
		return;
	World w;
	Tap &tr = w.add_tap("vxr", 1, 20000);
	w.vsteer_ok("xdp attach --dev vh");
	const uint32_t rate = 5000, burst = 50;
	w.vsteer_ok("vm add r --tap vxr --mac " + format_mac(kMacA) + " --action tap --rate " +
	            std::to_string(rate) + " --burst " + std::to_string(burst));
	Bytes f = udp_to(kMacA, "192.0.2.1", "198.51.100.3", 1, 2);
	QueueCounter received(tr.fds[0]);
	auto t0 = std::chrono::steady_clock::now();
	size_t sent = 0;
	while (std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1000))
		sent += w.send_raw(f);
	double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
	std::this_thread::sleep_for(std::chrono::milliseconds(200));
	received.stop();
	VmInfo r = vm_info(w, "r");
	double expect = rate * secs + burst;
	double passed = static_cast<double>(r.totals.by_action.redirect_tap);
	MESSAGE("xdp netns rate limit: sent " << sent << " in " << secs << " s, passed " << passed
	                                      << " (expected " << expect << "), received on tap "
	                                      << received.received() << ", rate_limited "
	                                      << r.totals.by_action.rate_limited);
	REQUIRE(sent > 2 * expect); // the sender must outrun the limit for this to mean anything
	CHECK(passed >= 0.9 * expect);
	CHECK(passed <= 1.1 * expect);
	CHECK(static_cast<double>(received.received()) >= 0.9 * passed);
	CHECK(r.totals.by_action.rate_limited + r.totals.by_action.redirect_tap == r.totals.packets);
}

TEST_CASE("xdp netns: east-west frames go from one VM's tap to the other's without a bridge")
{
	if (!require_privileges("XDP netns traffic"))
		return;
	World w;
	Tap &t1 = w.add_tap("vxe1", 1);
	Tap &t2 = w.add_tap("vxe2", 1);
	w.vsteer_ok("vm add e1 --tap vxe1 --mac " + format_mac(kMacA) + " --action tap --eastwest");
	w.vsteer_ok("vm add e2 --tap vxe2 --mac " + format_mac(kMacB) + " --action tap --eastwest");
	drain(t1, 50);
	drain(t2, 50);
	// The guest behind vxe1 sends to e2's MAC: written into vxe1's queue (tap ingress).
	Bytes f = udp_to(kMacB, "10.0.0.1", "10.0.0.2", 1234, 80);
	for (int i = 0; i < 5; i++)
		REQUIRE(write(t1.fds[0], f.data(), f.size()) == static_cast<ssize_t>(f.size()));
	// A frame to a MAC nobody owns stays on the normal path (no bridge: nowhere).
	Bytes other = udp_to(kMacC, "10.0.0.1", "10.0.0.3", 1234, 80);
	REQUIRE(write(t1.fds[0], other.data(), other.size()) == static_cast<ssize_t>(other.size()));
	auto got2 = drain(t2, 50, 5), got1 = drain(t1, 0);
	REQUIRE(got2[0].size() == 5);
	CHECK(got2[0][0] == f);
	CHECK(got1[0].empty());
	CHECK(vm_info(w, "e2").totals.eastwest == 5);
	CHECK(vm_info(w, "e1").totals.eastwest == 0);
	w.vsteer_ok("vm del e2");
	CHECK(run("nsenter --net=/run/netns/" + w.host + " tc filter show dev vxe2 ingress | grep -q vsteer",
	          true) != 0);
	MESSAGE("xdp netns: east-west delivered " << got2[0].size() << " of 5 frames vxe1 -> vxe2");
}

TEST_CASE("xdp netns: replacing the classifier keeps the maps and loses no frame")
{
	if (!require_privileges("XDP netns traffic"))
		return;
	World w;
	Tap &ta = w.add_tap("vxu", 1, 20000);
	w.vsteer_ok("xdp attach --dev vh");
	w.vsteer_ok("vm add u --tap vxu --mac " + format_mac(kMacA) + " --action tap");
	std::atomic<size_t> sent{0};
	QueueCounter received(ta.fds[0]);
	std::atomic<bool> sending{true};
	std::thread sender([&] {
		Bytes f = udp_to(kMacA, "192.0.2.1", "198.51.100.3", 1, 2);
		while (sending) {
			if (w.send_raw(f))
				sent++;
			std::this_thread::sleep_for(std::chrono::microseconds(100));
		}
	});
	std::this_thread::sleep_for(std::chrono::milliseconds(100));
	uint32_t id_before = xdp_device_state_in(w);
	int rc1 = w.vsteer("xdp attach --dev vh");
	// Pins of a version without the prefilter: the next attach creates it and builds it
	// from the VM's entries (a map nobody built would only make every lookup).
	std::filesystem::remove(w.pin_dir + "/xdp_filter");
	int rc2 = w.vsteer("xdp attach --dev vh");
	std::this_thread::sleep_for(std::chrono::milliseconds(100));
	sending = false;
	sender.join();
	std::this_thread::sleep_for(std::chrono::milliseconds(200));
	received.stop();
	CHECK(rc1 == 0);
	CHECK(rc2 == 0);
	CHECK(xdp_device_state_in(w) != id_before);
	CHECK(w.maps().filter.get(0).valid == 1);
	VmInfo u = vm_info(w, "u"); // the VM (and its counters) survived both replacements
	MESSAGE("xdp netns upgrade: sent " << sent.load() << ", received " << received.received()
	                                   << ", counted " << u.totals.by_action.redirect_tap);
	CHECK(received.received() == sent.load());
	CHECK(u.totals.by_action.redirect_tap == sent.load());
}

TEST_CASE("xdp netns: generic mode steers to the guest policy's CPU too")
{
	std::vector<unsigned> cpus;
	if (!cpumap_preconditions(cpus))
		return;
	CpuSteeredVm s("g", "vxg", pattern_policy(0x3c, 29, {1, 0, 0, 1}), cpus, "generic");
	int flows = 0;
	for (uint16_t flow = 0; flow < 8; flow++) {
		FrameBuilder fb;
		fb.ipv4("192.0.2.9", "198.51.100.7").tcp(static_cast<uint16_t>(2000 + 31 * flow), 443);
		fb.spec().dst_mac = kMacC;
		Bytes f = fb.build();
		uint16_t q = compute_rss(s.cfg, f).queue;
		INFO("flow " << flow << " reference queue " << q);
		auto got = send_on_cpu(s.w, "g", s.tap, f, 2, cpus[q]);
		CHECK(total(got) == 2); // in generic mode the tap's own steering decides the queue
		flows++;
	}
	XdpMaps m = s.w.maps();
	XdpControl ctl(m);
	MESSAGE("xdp netns generic: " << flows << " flows handled on the reference CPU; cpumap re-classified "
	                              << ctl.totals().meta_fallback
	                              << " frames (no metadata across the generic cpumap)");
}

TEST_CASE("xdp netns: coexistence with another program loaded through libxdp")
{
	if (!require_privileges("XDP netns traffic"))
		return;
	// xdp-tools' xdp-filter in its default-allow variant (the default-deny one drops everything
	// while its allow lists are empty)
	const char *other_obj = "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_alw_all.o";
	if (!require_condition(access(other_obj, R_OK) == 0,
	                       std::string(other_obj) +
	                           " (xdp-tools' xdp-filter program) is not installed; make deps"))
		return;
	World w;
	Tap &t = w.add_tap("vxo", 1);
	std::string other_pins = w.pin_dir + "-other";
	std::filesystem::create_directories(other_pins);
	xdp_program *other = nullptr;
	bool dispatcher = false;
	{
		InNetns in(w.host);
		LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = other_pins.c_str());
		other = xdp_program__open_file(other_obj, "xdp", &oo);
		REQUIRE(libxdp_get_error(other) == 0);
		REQUIRE(xdp_program__attach(other, static_cast<int>(if_nametoindex("vh")), XDP_MODE_NATIVE,
		                            0) == 0);
		xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(static_cast<int>(if_nametoindex("vh")));
		REQUIRE(libxdp_get_error(mp) == 0);
		dispatcher = !xdp_multiprog__is_legacy(mp);
		xdp_multiprog__close(mp);
	}
	if (!dispatcher) {
		// This kernel refuses freplace: libxdp attached the other program alone, and the
		// classifier must refuse to push it out.
		std::string out = "/tmp/vsteer-xdp-coexist-" + std::to_string(getpid());
		CHECK(w.vsteer("xdp attach --dev vh > " + out + " 2>&1") != 0);
		std::ifstream in(out);
		std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
		std::remove(out.c_str());
		CHECK(text.find(
			  "another XDP program (xdpfilt_alw_all) is attached without libxdp's dispatcher") !=
		      std::string::npos);
		MESSAGE("xdp netns coexistence: no dispatcher on this kernel (freplace refused); the "
		        "classifier refuses to "
		        "replace the other program: "
		        << text);
	} else {
		// The dispatcher runs both: xdp-filter (empty: passes, counted per action in its
		// xdp_stats_map; programs behind the dispatcher have no run_cnt of their own) and the
		// classifier. tests/bpf/test_xdp_coexist.cpp checks this in detail in the guest.
		w.vsteer_ok("xdp attach --dev vh");
		w.vsteer_ok("vm add o --tap vxo --mac " + format_mac(kMacA) + " --action tap");
		w.vsteer_ok("xdp attach --dev vh"); // replacement inside the dispatcher
		struct ActionStats {
			uint64_t packets, bytes;
		};
		auto passed = [&] {
			uint64_t n = 0;
			for (const auto &s :
			     PerCpuArray<ActionStats>::from_pin(other_pins + "/xdp_stats_map").get(XDP_PASS))
				n += s.packets;
			return n;
		};
		uint64_t before = passed();
		for (int i = 0; i < 10; i++)
			w.send(udp_to(kMacA, "192.0.2.1", "198.51.100.3", 1, 2));
		auto got = drain(t, 50, 10);
		uint64_t after = passed();
		CHECK(total(got) == 10);
		CHECK(after - before >= 10);
		InNetns in(w.host);
		XdpDeviceState st = xdp_device_state("vh");
		CHECK(st.attached);
		CHECK(st.dispatcher);
		CHECK(st.other_programs.size() == 1);
		MESSAGE("xdp netns coexistence: dispatcher runs xdpfilt_alw_all ("
		        << after - before << " frames passed) and the classifier (" << total(got)
		        << " frames into the tap)");
	}
	{
		InNetns in(w.host);
		xdp_program__detach(other, static_cast<int>(if_nametoindex("vh")), XDP_MODE_NATIVE, 0);
		xdp_program__close(other);
	}
	std::error_code ec;
	std::filesystem::remove_all(other_pins, ec);
}
