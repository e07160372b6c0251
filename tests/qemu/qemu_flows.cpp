// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer-qemu-flows: the host side of `make qemu-test`.
//
//   send IFNAME ROUND NFLOWS SEED
//       sends NFLOWS distinct flows (IPv4/IPv6 x TCP/UDP, seeded) into the tap, twice,
//       each frame tagged "VSTQ" + flow index + round for the guest's vsteer-rx
//   guest-config CONSOLE ROUND
//       the key and indirection table the guest reports (`ethtool -x eth0` between
//       VSTQ-X-BEGIN/END ROUND on the serial console): prints "KEY TABLE"
//   compare-show SHOW_JSON KEY TABLE TYPES
//       `vsteer show --json` on the host holds exactly this key, table and hash types
//   qmp SOCKET COMMAND [ARGUMENTS_JSON]
//       one QMP command (netdev_add, qom-get, ...), prints its return value
//   packets SHOW_JSON
//       the steering program's packet counter from `vsteer show --json`
//   verify CONSOLE ROUND NFLOWS SEED KEY TABLE TYPES
//       every flow arrived on the rx queue the C++ reference predicts for that key, table
//       and types, none is missing, none was seen on two queues
//   send-hash IFNAME ROUND NFLOWS SEED
//       `make hash-e2e` (run in the L1 guest): NFLOWS flows cycling through TCPv4, UDPv4,
//       other IPv4, TCPv6, UDPv6, other IPv6 and non-IP (unclassified) frames, twice, each
//       ending in "VSTH" + flow index + round, then an end-of-round frame
//   blast-hash IFNAME ROUND NFLOWS SEED SECONDS
//       `make bench-hash`: the send-hash flows, over and over without pacing for SECONDS,
//       then the end-of-round frame; prints how many frames went into the tap
//   verify-hash CONSOLE ROUND NFLOWS SEED KEY TABLE TYPES hash|none
//       every flow of send-hash arrived on the rx queue the C++ reference predicts, and the
//       skb hash the L2 guest's driver set (vsteer-hash-rx's VSTH-R lines) is the
//       reference's hash for its report type (0 for none) with `hash`, 0 with `none`
//   open-tap TAP QUEUES FIRST_FD -- COMMAND ARGS...
//       what a management process (libvirt) does for an unprivileged QEMU: opens QUEUES
//       queue files of the multiqueue TAP, places them at FIRST_FD, FIRST_FD + 1, ... and
//       execs COMMAND with them open (for `-netdev tap,fds=...`)
// Exit status 0 on success; failures say what differed.
#include "frame_builder.hpp"
#include "frame_generator.hpp"
#include "hash_flows.hpp"
#include "json.hpp"
#include "qemu_qmp.hpp"
#include "rss_config.hpp"
#include "rss_reference.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace vsteer;
using namespace vsteer::test;

namespace
{

std::vector<Bytes> make_flows(uint32_t round, uint32_t n, uint64_t seed)
{
	Rng rng(seed);
	std::vector<Bytes> out;
	for (uint32_t i = 0; i < n; i++) {
		IpFamily fam = (i & 2) ? IpFamily::v6 : IpFamily::v4;
		uint8_t proto = (i & 1) ? ipproto::kUdp : ipproto::kTcp;
		FrameSpec s = random_flow(rng, fam, proto);
		Bytes payload{'V', 'S', 'T', 'Q'};
		detail::put32(payload, i);
		detail::put32(payload, round);
		payload.resize(32, 0);
		s.l4->payload = payload;
		out.push_back(build_frame(s));
	}
	return out;
}

std::vector<std::string> read_lines(const std::string &path)
{
	std::ifstream f(path);
	if (!f)
		throw std::runtime_error("cannot read " + path);
	std::vector<std::string> lines;
	std::string l;
	while (std::getline(f, l)) {
		if (!l.empty() && l.back() == '\r')
			l.pop_back();
		lines.push_back(l);
	}
	return lines;
}

std::string join_table(const std::vector<uint16_t> &t)
{
	std::string s;
	for (size_t i = 0; i < t.size(); i++)
		s += (i ? "," : "") + std::to_string(t[i]);
	return s;
}

// An AF_PACKET socket that sends whole frames out of one interface.
class FrameSocket
{
public:
	explicit FrameSocket(const std::string &ifname) : ifname_(ifname)
	{
		int ifindex = if_nametoindex(ifname.c_str());
		if (!ifindex)
			throw std::runtime_error("no interface " + ifname);
		fd_ = socket(AF_PACKET, SOCK_RAW, 0);
		if (fd_ < 0)
			throw std::runtime_error(std::string("socket(AF_PACKET): ") + strerror(errno));
		sll_.sll_family = AF_PACKET;
		sll_.sll_ifindex = ifindex;
		sll_.sll_halen = 6;
	}
	~FrameSocket() { close(fd_); }
	FrameSocket(const FrameSocket &) = delete;
	FrameSocket &operator=(const FrameSocket &) = delete;

	// False while the interface is out of buffers (ENOBUFS, EAGAIN); throws on other errors.
	bool try_send(const Bytes &f)
	{
		std::memcpy(sll_.sll_addr, f.data(), 6);
		if (sendto(fd_, f.data(), f.size(), 0, reinterpret_cast<sockaddr *>(&sll_), sizeof(sll_)) >=
		    0)
			return true;
		if (errno != ENOBUFS && errno != EAGAIN)
			throw std::runtime_error(std::string("sendto ") + ifname_ + ": " + strerror(errno));
		return false;
	}

private:
	std::string ifname_;
	int fd_ = -1;
	sockaddr_ll sll_{};
};

// Sends each frame twice (two passes), paced for a TCG guest, then `trailer` frames.
unsigned send_frames(const std::string &ifname, const std::vector<Bytes> &flows,
                     const std::vector<Bytes> &trailer = {})
{
	FrameSocket sock(ifname);
	unsigned sent = 0;
	auto send_one = [&](const Bytes &f) {
		while (!sock.try_send(f))
			std::this_thread::sleep_for(std::chrono::milliseconds(2));
		sent++;
	};
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < flows.size(); i++) {
			send_one(flows[i]);
			// pace: a TCG guest drains its rings slowly
			if (i % 32 == 31)
				std::this_thread::sleep_for(std::chrono::milliseconds(15));
		}
		std::this_thread::sleep_for(std::chrono::milliseconds(300));
	}
	for (const Bytes &f : trailer) {
		send_one(f);
		std::this_thread::sleep_for(std::chrono::milliseconds(200));
	}
	return sent;
}

int cmd_send_hash(const std::string &ifname, uint32_t round, uint32_t n, uint64_t seed)
{
	unsigned sent = send_frames(ifname, make_hash_flows(round, n, seed),
	                            std::vector<Bytes>(3, end_of_round_frame(round)));
	std::printf("sent %u frames (%u flows x 2, 3 end-of-round) into %s, round %u\n", sent, n,
	            ifname.c_str(), round);
	return 0;
}

int cmd_blast_hash(const std::string &ifname, uint32_t round, uint32_t n, uint64_t seed, unsigned seconds)
{
	auto flows = make_hash_flows(round, n, seed);
	unsigned long sent = 0, refused = 0;
	{
		FrameSocket sock(ifname);
		auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
		for (size_t i = 0; std::chrono::steady_clock::now() < end; i = (i + 1) % flows.size()) {
			if (sock.try_send(flows[i])) {
				sent++;
			} else {
				refused++;
				std::this_thread::sleep_for(std::chrono::microseconds(200));
			}
		}
	}
	std::this_thread::sleep_for(std::chrono::seconds(2)); // let the guest drain its rings
	send_frames(ifname, {}, std::vector<Bytes>(3, end_of_round_frame(round)));
	std::printf("VSTH-BENCH sent=%lu refused=%lu seconds=%u\n", sent, refused, seconds);
	return 0;
}

int cmd_send(const std::string &ifname, uint32_t round, uint32_t n, uint64_t seed)
{
	unsigned sent = send_frames(ifname, make_flows(round, n, seed));
	std::printf("sent %u frames (%u flows x 2) into %s, round %u\n", sent, n, ifname.c_str(), round);
	return 0;
}

struct GuestConfig {
	RssKey key{};
	std::vector<uint16_t> table;
};

GuestConfig guest_config(const std::string &console, uint32_t round)
{
	auto lines = read_lines(console);
	const std::string begin = "VSTQ-X-BEGIN " + std::to_string(round),
			  end = "VSTQ-X-END " + std::to_string(round);
	bool in = false, key_next = false, found = false;
	GuestConfig g;
	std::string keytext;
	static const std::regex row(R"(^\s*(\d+):((\s+\d+)+)\s*$)");
	for (const auto &l : lines) {
		if (l.find(begin) != std::string::npos) {
			in = true;
			found = true;
			g.table.clear();
			continue;
		}
		if (l.find(end) != std::string::npos)
			in = false;
		if (!in)
			continue;
		if (key_next) {
			keytext = l;
			key_next = false;
			continue;
		}
		if (l.find("RSS hash key:") != std::string::npos) {
			key_next = true;
			continue;
		}
		std::smatch m;
		if (std::regex_match(l, m, row)) {
			if (std::stoul(m[1]) != g.table.size())
				throw std::runtime_error("ethtool -x row " + std::string(m[1]) +
				                         " out of order");
			std::istringstream ss(m[2].str());
			unsigned q;
			while (ss >> q)
				g.table.push_back(static_cast<uint16_t>(q));
		}
	}
	if (!found)
		throw std::runtime_error("no '" + begin + "' on the guest console " + console);
	if (g.table.empty() || keytext.empty())
		throw std::runtime_error("guest's ethtool -x output for round " + std::to_string(round) +
		                         " has no table or key");
	g.key = parse_key(keytext);
	return g;
}

int cmd_compare_show(const std::string &show_file, const std::string &key, const std::string &table,
                     uint32_t types)
{
	std::ifstream f(show_file);
	std::stringstream ss;
	ss << f.rdbuf();
	auto j = parse_json(ss.str());
	const Json *c = json_member(j, "config");
	if (!c)
		throw std::runtime_error("vsteer show --json has no config object");
	int bad = 0;
	RssKey shown = parse_key(json_string(*c, "key"));
	if (shown != parse_key(key)) {
		std::printf("MISMATCH key: host shows %s, guest has %s\n", format_key(shown).c_str(),
		            key.c_str());
		bad++;
	}
	std::vector<uint16_t> t;
	for (const auto &e : c->at("indirection_table"))
		t.push_back(e.get<uint16_t>());
	if (t != parse_table(table)) {
		std::printf("MISMATCH table: host shows %s\n                guest has %s\n",
		            join_table(t).c_str(), table.c_str());
		bad++;
	}
	uint32_t mask = c->at("hash_types_mask").get<uint32_t>();
	if (mask != types) {
		std::printf("MISMATCH hash types: host shows 0x%x, guest has 0x%x\n", mask, types);
		bad++;
	}
	if (!bad)
		std::printf("vsteer show == guest: key %s..., %zu-entry table, types 0x%x\n",
		            key.substr(0, 16).c_str(), t.size(), mask);
	return bad ? 1 : 0;
}

// The guest's policy as the host checks it: KEY, TABLE, TYPES, unclassified queue 0.
RssConfig guest_policy(const std::string &key, const std::string &table, uint32_t types)
{
	RssConfig cfg;
	cfg.key = parse_key(key);
	cfg.table = parse_table(table);
	cfg.hash_types = types;
	cfg.unclassified_queue = 0;
	return cfg;
}

// What a guest receiver (vsteer-rx: TAG VSTQ, vsteer-hash-rx: VSTH) printed for ROUND: each
// item of its TAG-R lines goes to `on_item`, TAG-CONFLICT lines are shown and counted in
// `conflicts`; a console without TAG-DONE fails.
template <class OnItem>
void read_round(const std::string &console, const std::string &tag, uint32_t round, int &conflicts,
                OnItem on_item)
{
	const std::string n = " " + std::to_string(round) + " ", r = tag + "-R" + n;
	bool done = false;
	for (const auto &l : read_lines(console)) {
		if (l.rfind(tag + "-CONFLICT" + n, 0) == 0) {
			std::printf("guest: %s\n", l.c_str());
			conflicts++;
		}
		if (l.rfind(tag + "-DONE" + n, 0) == 0)
			done = true;
		if (l.rfind(r, 0) != 0)
			continue;
		std::istringstream ss(l.substr(r.size()));
		std::string item;
		while (ss >> item)
			on_item(item);
	}
	if (!done)
		throw std::runtime_error("no '" + tag + "-DONE " + std::to_string(round) +
		                         "' on the guest console");
}

int cmd_verify(const std::string &console, uint32_t round, uint32_t n, uint64_t seed, const std::string &key,
               const std::string &table, uint32_t types)
{
	const RssConfig cfg = guest_policy(key, table, types);
	auto flows = make_flows(round, n, seed);
	std::map<uint32_t, int> seen;
	int conflicts = 0;
	read_round(console, "VSTQ", round, conflicts, [&](const std::string &item) {
		auto colon = item.find(':');
		seen[static_cast<uint32_t>(std::stoul(item.substr(0, colon)))] =
		    std::stoi(item.substr(colon + 1));
	});
	std::vector<unsigned> per_queue(8), predicted_per_queue(8);
	std::map<uint8_t, unsigned> per_report;
	unsigned ok = 0, wrong = 0, missing = 0;
	for (uint32_t i = 0; i < n; i++) {
		RssResult p = compute_rss(cfg, flows[i]);
		per_report[p.report]++;
		if (p.queue < 8)
			predicted_per_queue[p.queue]++;
		auto it = seen.find(i);
		if (it == seen.end()) {
			missing++;
			if (missing <= 5)
				std::printf("MISSING flow %u (predicted queue %u)\n", i, p.queue);
			continue;
		}
		if (it->second >= 0 && it->second < 8)
			per_queue[it->second]++;
		if (it->second == p.queue) {
			ok++;
		} else {
			wrong++;
			if (wrong <= 10)
				std::printf("WRONG flow %u: guest rx queue %d, reference predicts %u (hash "
				            "%08x, %s)\n",
				            i, it->second, p.queue, p.hash, report_name(p.report));
		}
	}
	std::printf("round %u: %u/%u flows on the predicted rx queue, %u wrong, %u missing, %d conflicts; "
	            "guest per queue:",
	            round, ok, n, wrong, missing, conflicts);
	for (unsigned q = 0; q < 8; q++)
		if (per_queue[q] || predicted_per_queue[q])
			std::printf(" q%u=%u", q, per_queue[q]);
	std::printf("; reports:");
	for (auto [rep, cnt] : per_report)
		std::printf(" %s=%u", report_name(rep), cnt);
	std::printf("\n");
	return ok == n && conflicts == 0 ? 0 : 1;
}

struct HashSeen {
	int queue = -1;
	uint32_t hash = 0;
};

// The VSTH-R lines of vsteer-hash-rx for ROUND: flow index -> queue and skb hash.
std::map<uint32_t, HashSeen> read_hash_lines(const std::string &console, uint32_t round, int &conflicts)
{
	std::map<uint32_t, HashSeen> seen;
	read_round(console, "VSTH", round, conflicts, [&](const std::string &item) {
		unsigned idx, hash, frames;
		int queue;
		if (std::sscanf(item.c_str(), "%u:%d:%x:%u", &idx, &queue, &hash, &frames) != 4)
			throw std::runtime_error("bad VSTH-R item '" + item + "'");
		seen[idx] = HashSeen{queue, hash};
	});
	return seen;
}

int cmd_verify_hash(const std::string &console, uint32_t round, uint32_t n, uint64_t seed,
                    const std::string &key, const std::string &table, uint32_t types,
                    const std::string &expect)
{
	if (expect != "hash" && expect != "none")
		throw std::invalid_argument("verify-hash: expect 'hash' or 'none', not '" + expect + "'");
	const RssConfig cfg = guest_policy(key, table, types);
	auto flows = make_hash_flows(round, n, seed);
	int conflicts = 0;
	auto seen = read_hash_lines(console, round, conflicts);
	std::map<uint8_t, unsigned> per_report, hash_ok_per_report;
	unsigned queue_ok = 0, hash_ok = 0, missing = 0, shown = 0;
	for (uint32_t i = 0; i < n; i++) {
		RssResult p = compute_rss(cfg, flows[i]);
		per_report[p.report]++;
		auto it = seen.find(i);
		if (it == seen.end()) {
			if (++missing <= 5)
				std::printf("MISSING flow %u (%s, predicted queue %u)\n", i,
				            report_name(p.report), p.queue);
			continue;
		}
		uint32_t want = expect == "hash" && p.report != 0 ? p.hash : 0;
		bool q_ok = it->second.queue == p.queue, h_ok = it->second.hash == want;
		queue_ok += q_ok;
		hash_ok += h_ok;
		hash_ok_per_report[p.report] += h_ok;
		if ((!q_ok || !h_ok) && ++shown <= 10)
			std::printf(
			    "WRONG flow %u (%s): guest rx queue %d hash %08x, reference queue %u hash "
			    "%08x\n",
			    i, report_name(p.report), it->second.queue, it->second.hash, p.queue, want);
	}
	std::printf("round %u (%s): %u/%u flows on the predicted rx queue, %u/%u with the expected "
	            "skb hash, %u missing, %d conflicts; by report type (hash ok/flows):",
	            round, expect == "hash" ? "hash reports" : "no hash expected", queue_ok, n, hash_ok, n,
	            missing, conflicts);
	for (auto [rep, cnt] : per_report)
		std::printf(" %s=%u/%u", report_name(rep), hash_ok_per_report[rep], cnt);
	std::printf("\n");
	return queue_ok == n && hash_ok == n && conflicts == 0 ? 0 : 1;
}

int cmd_open_tap(const std::string &tap, unsigned queues, int first_fd, std::vector<std::string> command)
{
	if (command.empty() || queues == 0 || first_fd < 3)
		throw std::invalid_argument("open-tap: needs QUEUES > 0, FIRST_FD >= 3 and a command");
	for (unsigned q = 0; q < queues; q++) {
		int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		if (fd < 0)
			throw std::runtime_error(std::string("open /dev/net/tun: ") + std::strerror(errno));
		struct ifreq ifr {
		};
		std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", tap.c_str());
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE | IFF_VNET_HDR;
		if (ioctl(fd, TUNSETIFF, &ifr) < 0)
			throw std::runtime_error("TUNSETIFF " + tap + ": " + std::strerror(errno));
		// the placed descriptor has no FD_CLOEXEC: it survives the exec
		int target = first_fd + static_cast<int>(q);
		if (fd == target ? fcntl(fd, F_SETFD, 0) < 0 : dup2(fd, target) < 0)
			throw std::runtime_error("placing the queue at fd " + std::to_string(target) + ": " +
			                         std::strerror(errno));
		if (fd != target)
			::close(fd);
	}
	std::vector<char *> argv;
	for (auto &arg : command)
		argv.push_back(arg.data());
	argv.push_back(nullptr);
	execvp(argv[0], argv.data());
	throw std::runtime_error("exec " + command[0] + ": " + std::strerror(errno));
}

} // namespace

int main(int argc, char **argv)
{
	std::vector<std::string> a(argv + 1, argv + argc);
	try {
		if (a.size() == 5 && a[0] == "send")
			return cmd_send(a[1], std::stoul(a[2]), std::stoul(a[3]), std::stoull(a[4]));
		if (a.size() == 3 && a[0] == "guest-config") {
			GuestConfig g = guest_config(a[1], std::stoul(a[2]));
			std::printf("%s %s\n", format_key(g.key).c_str(), join_table(g.table).c_str());
			return 0;
		}
		if (a.size() >= 3 && a[0] == "qmp") {
			auto qmp = qemu::QmpClient::connect(a[1]);
			Json args = a.size() > 3 ? parse_json(a[3]) : Json();
			std::printf("%s\n", to_json_text(qmp.execute(a[2], args)).c_str());
			return 0;
		}
		if (a.size() == 2 && a[0] == "packets") {
			std::ifstream f(a[1]);
			std::stringstream ss;
			ss << f.rdbuf();
			auto j = parse_json(ss.str());
			std::printf("%llu\n", static_cast<unsigned long long>(
						  j.at("stats").at("packets").get<uint64_t>()));
			return 0;
		}
		if (a.size() == 5 && a[0] == "compare-show")
			return cmd_compare_show(a[1], a[2], a[3], std::stoul(a[4], nullptr, 0));
		if (a.size() >= 6 && a[0] == "open-tap" && a[4] == "--")
			return cmd_open_tap(a[1], std::stoul(a[2]), std::stoi(a[3]),
			                    std::vector<std::string>(a.begin() + 5, a.end()));
		if (a.size() == 5 && a[0] == "send-hash")
			return cmd_send_hash(a[1], std::stoul(a[2]), std::stoul(a[3]), std::stoull(a[4]));
		if (a.size() == 6 && a[0] == "blast-hash")
			return cmd_blast_hash(a[1], std::stoul(a[2]), std::stoul(a[3]), std::stoull(a[4]),
			                      std::stoul(a[5]));
		if (a.size() == 9 && a[0] == "verify-hash")
			return cmd_verify_hash(a[1], std::stoul(a[2]), std::stoul(a[3]), std::stoull(a[4]),
			                       a[5], a[6], std::stoul(a[7], nullptr, 0), a[8]);
		if (a.size() == 8 && a[0] == "verify")
			return cmd_verify(a[1], std::stoul(a[2]), std::stoul(a[3]), std::stoull(a[4]), a[5],
			                  a[6], std::stoul(a[7], nullptr, 0));
	} catch (const std::exception &e) {
		std::fprintf(stderr, "vsteer-qemu-flows: %s\n", e.what());
		return 1;
	}
	std::fprintf(stderr,
	             "usage: vsteer-qemu-flows "
	             "send|send-hash|blast-hash|guest-config|compare-show|qmp|packets|verify|verify-hash|"
	             "open-tap ... "
	             "(see the source)\n");
	return 2;
}
