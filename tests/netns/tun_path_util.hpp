// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Helpers of the real-tun (netns) suite: unique names, running the vsteer CLI in the
// test's namespace, numbered test frames, a paced sender + all-queue reader pair that
// accounts for every frame, and the tap's drop counter.
#pragma once

#include "frame_generator.hpp"
#include "rss_reference.hpp"
#include "steering_objects.hpp"
#include "tap_harness.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace vsteer::test
{

// Names unique per test process, so parallel runs (and other engineers' runs) never meet:
// bpffs pins live in one global /sys/fs/bpf/vsteer/TAP namespace.
inline std::string unique_name(const std::string &prefix, const std::string &tag)
{
	return prefix + std::to_string(getpid()) + tag; // "vt" + 7 digits + tag <= 15 chars
}

struct CliResult {
	int rc = -1;
	std::string out, err;
	std::string all() const { return out + err; }
};

inline std::string slurp(const std::string &path)
{
	std::ifstream f(path);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

// Runs `vsteer ARGS` in the namespace (nsenter keeps the caller's mount namespace, so
// bpffs stays visible). The test thread is in the namespace too (setns), so a plain
// std::system would land there as well; nsenter states it explicitly.
// `wrapper` goes between nsenter and vsteer (e.g. strace).
inline CliResult vsteer_cli(const NetnsGuard &ns, const std::string &args, const std::string &wrapper = {})
{
	char out_path[] = "/tmp/vsteer-netns-out-XXXXXX";
	char err_path[] = "/tmp/vsteer-netns-err-XXXXXX";
	int fo = mkstemp(out_path), fe = mkstemp(err_path);
	if (fo >= 0)
		close(fo);
	if (fe >= 0)
		close(fe);
	CliResult r;
	r.rc = NetnsGuard::run(ns.nsenter() + wrapper + (wrapper.empty() ? "" : " ") + VSTEER_BINARY + " " +
	                       args + " >" + out_path + " 2>" + err_path);
	r.out = slurp(out_path);
	r.err = slurp(err_path);
	unlink(out_path);
	unlink(err_path);
	return r;
}

inline bool pin_dir_exists(const std::string &tap)
{
	return access(default_pin_dir(tap).c_str(), F_OK) == 0;
}

// Removes whatever a failed test left under the tap's pin directory (declare it after
// the NetnsGuard and TapQueues so it runs first).
struct PinCleanup {
	std::string tap;
	~PinCleanup()
	{
		try {
			SteeringObjects::unpin(default_pin_dir(tap));
		} catch (...) {
		}
	}
};

// Runs `vsteer ARGS` in the namespace like vsteer_cli; the case stops unless it succeeds.
inline CliResult vsteer_ok(const NetnsGuard &ns, const std::string &args, const std::string &wrapper = {})
{
	CliResult r = vsteer_cli(ns, args, wrapper);
	REQUIRE_MESSAGE(r.rc == 0, "vsteer " << args << ": " << r.all());
	return r;
}

// The start of most cases: a network namespace of the case's own (`ns_name`, entered) and
// in it the tap `tap_name`, created by attaching `queues` queue files that the test holds
// as QEMU does, whose pins are removed at the end.
struct HeldTap {
	HeldTap(const std::string &ns_name, const std::string &tap_name, unsigned queues = 4)
	    : ns(ns_name), tap(tap_name), q(tap, queues), pins{tap}
	{
	}
	CliResult vsteer(const std::string &args, const std::string &wrapper = {}) const
	{
		return vsteer_cli(ns, args, wrapper);
	}
	CliResult vsteer_ok(const std::string &args, const std::string &wrapper = {}) const
	{
		return test::vsteer_ok(ns, args, wrapper);
	}
	// The pinned steering objects of the tap (after an attach).
	SteeringObjects objects() const { return SteeringObjects::open_pinned(default_pin_dir(tap)); }

	NetnsGuard ns;
	std::string tap;
	TapQueues q;
	PinCleanup pins;
};

// ---- numbered frames ----

// Every test frame ends in an 8-byte trailer: magic, then a sequence number (host order).
inline constexpr uint32_t kTrailerMagic = 0x544e5356; // "VSNT"
inline constexpr size_t kTrailerLen = 8;

inline void append_trailer(FrameSpec &s, uint32_t seq)
{
	Bytes t(kTrailerLen);
	std::memcpy(t.data(), &kTrailerMagic, 4);
	std::memcpy(t.data() + 4, &seq, 4);
	if (s.l4)
		s.l4->payload.insert(s.l4->payload.end(), t.begin(), t.end());
	else
		s.raw_l3.insert(s.raw_l3.end(), t.begin(), t.end());
}

// Sequence number of one of our frames, or -1 for anything else (the kernel's own
// IPv6 router solicitations, MLD reports, ...).
inline int64_t trailer_seq(const std::vector<uint8_t> &f)
{
	if (f.size() < kTrailerLen)
		return -1;
	uint32_t magic, seq;
	std::memcpy(&magic, f.data() + f.size() - kTrailerLen, 4);
	std::memcpy(&seq, f.data() + f.size() - 4, 4);
	return magic == kTrailerMagic ? seq : -1;
}

// A mixed set of flows: IPv4/IPv6 TCP/UDP (some VLAN-tagged, some with the IPv6 headers
// the _EX types look at), IP without ports (ICMP, fragments) and non-IP (unclassified).
inline std::vector<Bytes> make_flows(uint64_t seed, unsigned n, std::vector<std::string> *kinds = nullptr)
{
	Rng rng(seed);
	std::vector<Bytes> frames;
	for (unsigned i = 0; i < n; i++) {
		uint32_t k = rng.below(100);
		FrameSpec s;
		std::string kind;
		if (k < 22) {
			s = random_flow(rng, IpFamily::v4, ipproto::kTcp), kind = "ipv4/tcp";
		} else if (k < 40) {
			s = random_flow(rng, IpFamily::v4, ipproto::kUdp), kind = "ipv4/udp";
		} else if (k < 58) {
			s = random_flow(rng, IpFamily::v6, ipproto::kTcp), kind = "ipv6/tcp";
		} else if (k < 74) {
			s = random_flow(rng, IpFamily::v6, ipproto::kUdp), kind = "ipv6/udp";
		} else if (k < 78) {
			s = random_flow(rng, IpFamily::v4, ipproto::kTcp), kind = "vlan ipv4/tcp";
			s.vlans.push_back({ethertype::kVlan, static_cast<uint16_t>(rng.below(4095) + 1)});
		} else if (k < 81) {
			s = random_flow(rng, IpFamily::v6, ipproto::kUdp), kind = "qinq ipv6/udp";
			s.vlans.push_back({ethertype::kQinQ, static_cast<uint16_t>(rng.below(4095) + 1)});
			s.vlans.push_back({ethertype::kVlan, static_cast<uint16_t>(rng.below(4095) + 1)});
		} else if (k < 85) {
			s = random_flow(rng, IpFamily::v6, ipproto::kTcp), kind = "ipv6+hao/tcp";
			std::get<Ipv6Spec>(s.ip).extensions.push_back(dest_home_address(rng.array<16>()));
		} else if (k < 88) {
			s = random_flow(rng, IpFamily::v6, ipproto::kUdp), kind = "ipv6+rt2/udp";
			std::get<Ipv6Spec>(s.ip).extensions.push_back(routing_type2(rng.array<16>()));
		} else if (k < 91) {
			s = FrameBuilder()
			        .ipv4(rng.array<4>(), rng.array<4>())
			        .l4(ipproto::kIcmp, rng.bytes(16))
			        .spec(),
			kind = "ipv4/icmp";
		} else if (k < 93) {
			s = FrameBuilder()
			        .ipv6(rng.array<16>(), rng.array<16>())
			        .l4(ipproto::kIcmpv6, rng.bytes(16))
			        .spec(),
			kind = "ipv6/icmp";
		} else if (k < 95) {
			s = random_flow(rng, IpFamily::v4, ipproto::kUdp), kind = "ipv4 fragment";
			std::get<Ipv4Spec>(s.ip).fragment_offset = static_cast<uint16_t>(rng.between(1, 100));
		} else if (k < 98) {
			s = FrameBuilder().arp(rng.array<4>(), rng.array<4>()).spec(), kind = "arp";
		} else {
			s = FrameBuilder().ethertype(0x88b5, rng.bytes(32)).spec(), kind = "ethertype 0x88b5";
		}
		append_trailer(s, i);
		frames.push_back(build_frame(s));
		if (kinds)
			kinds->push_back(kind);
	}
	return frames;
}

// ---- the tap's transmit drops (frames the kernel could not queue) ----

// One column of `dev` in the calling thread's namespace (/proc/thread-self/net/dev):
// rx bytes packets errs drop fifo frame compressed multicast, tx bytes packets errs drop ...
inline uint64_t dev_counter(const std::string &dev, unsigned column)
{
	std::ifstream f("/proc/thread-self/net/dev");
	std::string line;
	while (std::getline(f, line)) {
		auto colon = line.find(':');
		if (colon == std::string::npos)
			continue;
		std::string name = line.substr(0, colon);
		name.erase(0, name.find_first_not_of(' '));
		if (name != dev)
			continue;
		std::istringstream in(line.substr(colon + 1));
		uint64_t v[16] = {};
		for (auto &x : v)
			in >> x;
		return column < 16 ? v[column] : 0;
	}
	return 0;
}
// Frames the tap delivered to a queue reader (any queue, vsteer's control queue too).
inline uint64_t tx_packets(const std::string &dev)
{
	return dev_counter(dev, 9);
}
// Frames the tap could not queue (ring full, no queue, ...).
inline uint64_t tx_dropped(const std::string &dev)
{
	return dev_counter(dev, 11);
}

// ---- send everything, receive everything, exactly once ----

// A sender thread pushes numbered copies of `flows` (frame seq = flows[seq % F] with seq
// in its trailer) through the tap while a reader thread drains all queues. The sender keeps
// at most `window` frames in flight, far below the tun ring (tx_queue_len per queue), so
// any missing frame is a real loss and not an overrun.
class Traffic
{
public:
	static constexpr uint32_t kCap = 1u << 21;

	Traffic(const TapQueues &q, const PacketSender &sender, std::vector<Bytes> flows,
	        unsigned window = 200)
	    : q_(q), sender_(sender), flows_(std::move(flows)), window_(window), count_(kCap, 0),
	      queue_of_(kCap, 0xff)
	{
	}
	~Traffic()
	{
		stop_sending_ = true;
		stop_reading_ = true;
		if (tx_.joinable())
			tx_.join();
		if (rx_.joinable())
			rx_.join();
	}

	void start()
	{
		rx_ = std::thread([this] { read_loop(); });
		tx_ = std::thread([this] { send_loop(); });
	}
	// Frames handed to the kernel so far (sendto returned: the queue was chosen).
	uint32_t sent() const { return sent_.load(std::memory_order_acquire); }
	uint32_t received() const { return received_.load(std::memory_order_acquire); }
	// Blocks until at least `n` more frames were sent (or 5 s passed).
	void wait_sent(uint32_t n)
	{
		uint32_t target = sent() + n;
		auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
		while (sent() < target && !tx_done_ && std::chrono::steady_clock::now() < until)
			std::this_thread::sleep_for(std::chrono::milliseconds(1));
	}
	// Pauses the sender and waits (up to 2 s) until every sent frame arrived: a quiet
	// point to compare counters at. resume() lets the sender go on.
	void pause()
	{
		paused_ = true;
		auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
		while (!tx_idle_ && !tx_done_ && std::chrono::steady_clock::now() < until)
			std::this_thread::sleep_for(std::chrono::microseconds(200));
		while (received() < sent() && std::chrono::steady_clock::now() < until)
			std::this_thread::sleep_for(std::chrono::microseconds(200));
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	}
	void resume() { paused_ = false; }
	// Frames the reader took off the queues, ours or not.
	uint64_t read_total() const { return received() + foreign_.load() + corrupt_.load(); }
	// Stops the sender and waits (up to 2 s) for every sent frame to arrive.
	void stop()
	{
		stop_sending_ = true;
		if (tx_.joinable())
			tx_.join();
		auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
		while (received() < sent() && std::chrono::steady_clock::now() < until)
			std::this_thread::sleep_for(std::chrono::milliseconds(2));
		std::this_thread::sleep_for(std::chrono::milliseconds(20)); // late duplicates, if any
		stop_reading_ = true;
		if (rx_.joinable())
			rx_.join();
	}

	// After stop():
	unsigned count(uint32_t seq) const { return count_[seq]; }
	unsigned queue_of(uint32_t seq) const { return queue_of_[seq]; }
	const Bytes &flow_of(uint32_t seq) const { return flows_[seq % flows_.size()]; }
	size_t flow_index(uint32_t seq) const { return seq % flows_.size(); }
	uint64_t corrupt() const { return corrupt_.load(); }
	uint64_t foreign() const { return foreign_.load(); }
	std::string send_error() const { return send_error_; }

	// Frames never received, received twice or more; with the first few of each.
	struct Accounting {
		uint32_t sent = 0, lost = 0, duplicated = 0;
		std::string examples;
	};
	Accounting account() const
	{
		Accounting a;
		a.sent = sent();
		for (uint32_t s = 0; s < a.sent; s++) {
			if (count_[s] == 1)
				continue;
			(count_[s] == 0 ? a.lost : a.duplicated)++;
			if (a.lost + a.duplicated <= 8)
				a.examples += " seq " + std::to_string(s) + " x" + std::to_string(count_[s]);
		}
		return a;
	}

private:
	void send_loop()
	{
		Bytes frame;
		try {
			for (uint32_t seq = 0; seq < kCap && !stop_sending_; seq++) {
				// Flow control: never more than `window` frames on the queues.
				auto stalled = std::chrono::steady_clock::now();
				while (seq - received() >= window_ && !stop_sending_) {
					if (std::chrono::steady_clock::now() - stalled >
					    std::chrono::seconds(1))
						break; // a lost frame never arrives; keep going, it is
						       // reported
					std::this_thread::yield();
				}
				while (paused_ && !stop_sending_) {
					tx_idle_ = true;
					std::this_thread::sleep_for(std::chrono::microseconds(100));
				}
				tx_idle_ = false;
				frame = flows_[seq % flows_.size()];
				std::memcpy(frame.data() + frame.size() - 4, &seq, 4);
				sender_.send(frame);
				sent_.store(seq + 1, std::memory_order_release);
			}
		} catch (const std::exception &e) {
			send_error_ = e.what();
		}
		tx_done_ = true;
	}

	void read_loop()
	{
		std::vector<pollfd> pfds(q_.size());
		for (unsigned i = 0; i < q_.size(); i++)
			pfds[i] = {q_.fd(i), POLLIN, 0};
		while (true) {
			bool last = stop_reading_;
			poll(pfds.data(), pfds.size(), 2);
			for (unsigned qi = 0; qi < q_.size(); qi++)
				for (const auto &f : q_.drain(qi)) {
					int64_t seq = trailer_seq(f);
					if (seq < 0 || seq >= kCap) {
						foreign_++;
						continue;
					}
					const Bytes &want =
					    flows_[static_cast<uint32_t>(seq) % flows_.size()];
					if (f.size() != want.size() ||
					    std::memcmp(f.data(), want.data(), f.size() - 4)) {
						corrupt_++;
						continue;
					}
					if (count_[seq] < 255)
						count_[seq]++;
					queue_of_[seq] = static_cast<uint8_t>(qi);
					received_.fetch_add(1, std::memory_order_acq_rel);
				}
			if (last)
				break;
		}
	}

	const TapQueues &q_;
	const PacketSender &sender_;
	std::vector<Bytes> flows_;
	unsigned window_;
	std::vector<uint8_t> count_, queue_of_;
	std::atomic<uint32_t> sent_{0}, received_{0};
	std::atomic<bool> stop_sending_{false}, stop_reading_{false}, tx_done_{false}, paused_{false},
	    tx_idle_{false};
	std::atomic<uint64_t> corrupt_{0}, foreign_{0};
	std::string send_error_;
	std::thread tx_, rx_;
};

// Sends each frame once, paced in batches: `collect` runs after every 128 frames and once
// more 30 ms after the last (to read what arrived meanwhile).
template <class Collect>
void send_paced(const PacketSender &sender, const std::vector<Bytes> &frames, Collect collect)
{
	for (size_t i = 0; i < frames.size(); i++) {
		sender.send(frames[i]);
		if (i % 128 == 127)
			collect();
	}
	std::this_thread::sleep_for(std::chrono::milliseconds(30));
	collect();
}

// Sends each frame once (send_paced) and returns the queue each one arrived on
// (-1: not received; -2: received more than once).
inline std::vector<int> send_and_collect(const TapQueues &q, const PacketSender &sender,
                                         const std::vector<Bytes> &frames)
{
	std::vector<int> where(frames.size(), -1);
	send_paced(sender, frames, [&] {
		for (unsigned qi = 0; qi < q.size(); qi++)
			for (const auto &f : q.drain(qi)) {
				int64_t seq = trailer_seq(f);
				if (seq < 0 || static_cast<size_t>(seq) >= frames.size() || frames[seq] != f)
					continue;
				where[seq] = where[seq] == -1 ? static_cast<int>(qi) : -2;
			}
	});
	return where;
}

} // namespace vsteer::test
