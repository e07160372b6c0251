// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer-bench, live part: real packets in a private network namespace (created with
// unshare, gone when the bench exits).
//
// 1. veth -> tap. Frames enter veth vsbgen and arrive at its peer vsbnic, where (a) a
//    bridge forwards them to the tap, (b) the classifier redirects them into the tap
//    (devmap), or (c) the classifier sends them through the cpumap to another CPU, which
//    puts them into the tap. The generator is BPF_PROG_TEST_RUN in live-frames mode (a
//    one-line XDP_TX program on vsbgen) where the kernel offers it, else an AF_PACKET
//    socket on vsbgen. Frames/s the generator sent (everything on the sending core but the
//    cpumap half and the tap's reader) and frames/s the reader took out of the tap.
// 2. A tap fed at full rate from an AF_PACKET socket (one core, sendmmsg batches) with
//    vsteer's steering program attached (TUNSETSTEERINGEBPF) and without: frames/s.
#include <net/if.h> // before the kernel headers tap_harness.hpp includes

#include "bench_parts.hpp"
#include "frame_builder.hpp"
#include "rss_config.hpp"
#include "tap_harness.hpp"
#include "tun_steering.skel.h"
#include "xdp_control.hpp"
#include "xdp_objects.hpp"

#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <thread>
#include <vector>

namespace vsteer::bench
{
namespace
{

using vsteer::test::FrameBuilder;
using vsteer::test::TapQueues;

const MacAddress kMacVm{0x52, 0x54, 0x00, 0x5e, 0x00, 0x01};

void sh(const std::string &cmd)
{
	int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
	if (rc != 0)
		fail("`" + cmd + "` failed (rc " + std::to_string(rc) + ")");
}

unsigned ifindex(const char *dev)
{
	unsigned i = if_nametoindex(dev);
	if (!i)
		fail(std::string("no device ") + dev, errno);
	return i;
}

double seconds_since(std::chrono::steady_clock::time_point t0)
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void pin_to(unsigned cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

// Drains every queue of `tap` on `cpu` until stopped; counts the frames.
class TapReader
{
public:
	TapReader(const TapQueues &q, unsigned cpu)
	{
		thread_ = std::thread([this, &q, cpu] {
			pin_to(cpu);
			std::vector<uint8_t> buf(2048);
			while (!stop_)
				for (unsigned i = 0; i < q.size(); i++)
					while (read(q.fd(i), buf.data(), buf.size()) > 0)
						frames_++;
		});
	}
	~TapReader()
	{
		stop_ = true;
		thread_.join();
	}
	uint64_t frames() const { return frames_; }

private:
	std::atomic<bool> stop_{false};
	std::atomic<uint64_t> frames_{0};
	std::thread thread_;
};

struct Rate {
	double sent_pps, delivered_pps;
};

// Frames/s handed to `dev` from an AF_PACKET socket, sendmmsg batches of 64 from this thread
// for `ms`. A full queue behind the device drops the frame (a tap: after the steering
// program chose the queue); sendmmsg then stops at that frame and reports an error
// (ENOBUFS), counted as one frame sent.
double send_af_packet(const std::string &dev, const Frame &f, int ms)
{
	vsteer::UniqueFd s(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
	if (!s)
		fail("AF_PACKET socket", errno);
	sockaddr_ll sll{};
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = static_cast<int>(ifindex(dev.c_str()));
	sll.sll_halen = ETH_ALEN;
	std::memcpy(sll.sll_addr, f.data(), ETH_ALEN);
	constexpr int kBatch = 64;
	iovec iov[kBatch];
	mmsghdr msgs[kBatch]{};
	for (int i = 0; i < kBatch; i++) {
		iov[i] = {const_cast<uint8_t *>(f.data()), f.size()};
		msgs[i].msg_hdr.msg_name = &sll;
		msgs[i].msg_hdr.msg_namelen = sizeof(sll);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	uint64_t sent = 0;
	auto t0 = std::chrono::steady_clock::now();
	while (seconds_since(t0) * 1000 < ms) {
		int n = sendmmsg(s.get(), msgs, kBatch, 0);
		sent += n > 0 ? static_cast<uint64_t>(n) : 1;
	}
	return static_cast<double>(sent) / seconds_since(t0);
}

// How frames enter vsbgen. Live frames skip the socket layer, so they measure the receiving
// side more closely; some kernels refuse them (this machine's 6.18 host: EPERM, as it refuses
// xdp-trafficgen, vm-notes.md).
enum class Generator { LiveFrames, PacketSocket };

const char *generator_name(Generator g)
{
	return g == Generator::LiveFrames ? "BPF_PROG_TEST_RUN live frames (XDP_TX on vsbgen)"
	                                  : "AF_PACKET on vsbgen (live frames refused by this kernel)";
}

int run_live_frames(int gen_fd, unsigned gen_ifindex, const Frame &f, uint32_t n)
{
	xdp_md ctx{};
	ctx.data_end = static_cast<__u32>(f.size());
	ctx.ingress_ifindex = gen_ifindex;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f.data(),
	            .data_size_in = static_cast<uint32_t>(f.size()), .ctx_in = &ctx,
	            .ctx_size_in = sizeof(ctx), .repeat = static_cast<int>(n),
	            .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
	return bpf_prog_test_run_opts(gen_fd, &opts) ? errno : 0;
}

Generator pick_generator(int gen_fd, unsigned gen_ifindex, const Frame &f)
{
	const int err = run_live_frames(gen_fd, gen_ifindex, f, 64);
	if (!err)
		return Generator::LiveFrames;
	if (err == EPERM || err == EOPNOTSUPP || err == EINVAL)
		return Generator::PacketSocket;
	fail("BPF_PROG_TEST_RUN live frames on vsbgen", err);
}

// `count` frames (live frames, in runs of 1M) or 1.5 s of frames (AF_PACKET) into vsbgen.
Rate blast_veth(Generator g, int gen_fd, unsigned gen_ifindex, const Frame &f, const TapReader &reader,
                uint32_t count)
{
	const uint64_t before = reader.frames();
	auto t0 = std::chrono::steady_clock::now();
	double sent_pps;
	if (g == Generator::PacketSocket) {
		sent_pps = send_af_packet("vsbgen", f, 1500);
	} else {
		for (uint32_t done = 0; done < count;) {
			uint32_t n = std::min<uint32_t>(count - done, 1000000);
			if (int err = run_live_frames(gen_fd, gen_ifindex, f, n))
				fail("BPF_PROG_TEST_RUN live frames on vsbgen", err);
			done += n;
		}
		sent_pps = count / seconds_since(t0);
	}
	const double secs = seconds_since(t0);
	std::this_thread::sleep_for(std::chrono::milliseconds(50));
	return {sent_pps, static_cast<double>(reader.frames() - before) / secs};
}

} // namespace

void bench_live(const Options &opt, int gen_fd, Targets &targets)
{
	(void)opt;
	const unsigned cpu = static_cast<unsigned>(sched_getcpu());
	auto cpus = online_cpus();
	const unsigned other = cpus.size() > 1 ? (cpus[0] == cpu ? cpus[1] : cpus[0]) : cpu;
	if (unshare(CLONE_NEWNET))
		fail("unshare a private network namespace for the live part (needs root)", errno);
	sh("ip link set lo up");
	sh("ip link add vsbgen type veth peer name vsbnic");
	sh("ip link set vsbgen up");
	sh("ip link set vsbnic up");
	sh("ethtool -K vsbnic gro on"); // veth NAPI on the receiving side without an XDP program
	const unsigned gen_if = ifindex("vsbgen"), nic_if = ifindex("vsbnic");

	FrameBuilder fb;
	fb.ipv4("192.0.2.1", "198.51.100.3").udp(1000, 2000, test::Bytes(18, 0));
	fb.spec().dst_mac = kMacVm;
	const Frame f = fb.build();
	const uint32_t count = 2000000;
	const Generator gen = pick_generator(gen_fd, gen_if, f);

	std::printf("\n== live: frames/s, veth -> tap (%s, frames of %zu bytes, sender on CPU %u, tap "
	            "reader on CPU %u) ==\n",
	            generator_name(gen), f.size(), cpu, other);
	Rate bridged{}, to_tap{}, via_cpu{};
	{
		TapQueues tap("vsbtap", 1);
		sh("ip link set vsbtap txqueuelen 10000");
		sh("ip link add vsbbr type bridge");
		sh("ip link set vsbnic master vsbbr");
		sh("ip link set vsbtap master vsbbr");
		sh("ip link set vsbbr up");
		sh("bridge fdb add " + format_mac(kMacVm) + " dev vsbtap master static");
		TapReader reader(tap, other);
		bridged = blast_veth(gen, gen_fd, gen_if, f, reader, count);
		sh("ip link del vsbbr");
	}
	{
		TapQueues tap("vsbtap", 1);
		XdpTestObjects obj;
		XdpControl ctl(obj.maps());
		RssPolicyMaps policy;
		RssConfig cfg;
		cfg.table = equal_table(1);
		policy.write(cfg);
		for (unsigned c : cpus) {
			bpf_cpumap_val v{};
			v.qsize = 2048;
			v.bpf_prog.fd = obj.cpumap_prog_fd();
			obj.maps().cpumap.set(c, v);
		}
		const unsigned tap_if = ifindex("vsbtap");
		LIBBPF_OPTS(bpf_xdp_attach_opts, xo);
		if (bpf_xdp_attach(static_cast<int>(nic_if), obj.classify_fd(), XDP_FLAGS_DRV_MODE, &xo))
			fail("attach the classifier to vsbnic (native XDP)", errno);
		TapReader reader(tap, other);
		uint32_t vm =
		    ctl.add_vm({.name = "t", .tap = "vsbtap", .macs = {kMacVm}, .action = VSTEER_XDP_TAP},
		               std::nullopt, tap_if);
		to_tap = blast_veth(gen, gen_fd, gen_if, f, reader, count);
		ctl.del_vm("t");
		(void)vm;
		ctl.add_vm({.name = "c",
		            .tap = "vsbtap",
		            .macs = {kMacVm},
		            .queue_cpus = {static_cast<uint16_t>(other)},
		            .action = VSTEER_XDP_CPU},
		           policy.fds(), tap_if);
		via_cpu = blast_veth(gen, gen_fd, gen_if, f, reader, count);
		bpf_xdp_detach(static_cast<int>(nic_if), XDP_FLAGS_DRV_MODE, nullptr);
	}
	std::printf("%-40s %12s %12s\n", "path", "sent/s", "delivered/s");
	std::printf("%-40s %12.0f %12.0f\n", "bridge, no classifier", bridged.sent_pps,
	            bridged.delivered_pps);
	std::printf("%-40s %12.0f %12.0f\n", "classifier -> tap (devmap)", to_tap.sent_pps,
	            to_tap.delivered_pps);
	std::printf("%-40s %12.0f %12.0f\n", "classifier -> cpumap -> tap", via_cpu.sent_pps,
	            via_cpu.delivered_pps);

	// 2. The steering program on a tap at full rate.
	TapQueues tap("vsbsteer", 4);
	sh("ip link set vsbsteer txqueuelen 10000");
	tun_steering *skel = tun_steering__open_and_load();
	if (!skel)
		fail("load the steering program", errno);
	{
		RssConfig c;
		c.table = equal_table(4);
		uint32_t zero = 0;
		vsteer_rss_config mc = to_map_config(c);
		vsteer_toeplitz_key mk = to_map_key(c.key);
		bpf_map_update_elem(bpf_map__fd(skel->maps.config), &zero, &mc, BPF_ANY);
		bpf_map_update_elem(bpf_map__fd(skel->maps.toeplitz_key), &zero, &mk, BPF_ANY);
		for (uint32_t i = 0; i < VSTEER_MAX_TABLE_LEN; i++) {
			uint16_t q = c.table[i % c.table.size()];
			bpf_map_update_elem(bpf_map__fd(skel->maps.indirection_table), &i, &q, BPF_ANY);
		}
	}
	const int prog = bpf_program__fd(skel->progs.vsteer_tun_steering), none = -1;
	std::vector<double> on, off, ratio;
	for (int round = 0; round < 5; round++) {
		if (ioctl(tap.fd(0), TUNSETSTEERINGEBPF, &none))
			fail("detach the steering program from vsbsteer", errno);
		off.push_back(send_af_packet("vsbsteer", f, 400));
		if (ioctl(tap.fd(0), TUNSETSTEERINGEBPF, &prog))
			fail("attach the steering program to vsbsteer", errno);
		on.push_back(send_af_packet("vsbsteer", f, 400));
		ratio.push_back(on.back() / off.back());
	}
	int detach = -1;
	ioctl(tap.fd(0), TUNSETSTEERINGEBPF, &detach);
	tun_steering__destroy(skel);
	std::printf("\n== live: AF_PACKET into a 4-queue tap on CPU %u (sendmmsg x 64, "
	            "5 x 0.4 s each, alternating) ==\n",
	            cpu);
	std::printf("steering program off: %.0f frames/s, on: %.0f frames/s (medians)\n", median(off),
	            median(on));
	targets.add({"tap at full rate, steering on / off", median(ratio), "x", 0.95, true,
	             "median of 5 alternating rounds"});
}

} // namespace vsteer::bench
