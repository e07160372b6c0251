// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "qemu_check.hpp"
#include "text.hpp"

#include "rss_abi.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

namespace vsteer::qemu
{

using namespace check;

namespace
{
bool contains(const std::vector<uint32_t> &v, uint32_t x)
{
	return x && std::find(v.begin(), v.end(), x) != v.end();
}
std::string join_queues(const std::set<unsigned> &s)
{
	std::string out;
	for (unsigned q : s)
		out += (out.empty() ? "" : ",") + std::to_string(q);
	return out;
}
} // namespace

std::vector<Finding> check_consistency(const CheckInput &in)
{
	std::vector<Finding> f;
	auto add = [&](std::string name, Status s, std::string d) {
		f.push_back({std::move(name), s, std::move(d)});
	};

	// The tap and its queues.
	unsigned active = 0;
	if (!in.info) {
		add("tap", Status::fail, "no tap '" + in.tap + "' in this network namespace");
	} else if (!in.info->is_tap) {
		add("tap", Status::fail, "'" + in.tap + "' is a tun (layer 3) device, not a tap");
	} else {
		active = in.info->queues;
		std::string d = std::to_string(active) + " queues attached";
		if (in.info->disabled_queues)
			d += ", " + std::to_string(in.info->disabled_queues) +
			     " disabled (guest uses fewer queue pairs)";
		d += in.info->multi_queue ? ", multiqueue" : ", single queue";
		add("tap", active ? Status::ok : Status::warn,
		    active ? d : d + "; no process serves the tap");
	}

	// The pinned objects.
	if (!in.config) {
		add("pins", Status::fail, in.pin_problem.empty() ? "no complete pin set" : in.pin_problem);
		return f;
	}
	add("pins", Status::ok, "program id " + std::to_string(in.prog_id));
	const RssConfig &c = *in.config;

	// Table size.
	unsigned len = in.raw_table_len;
	if (len == 0)
		add("table-size", Status::fail,
		    "indirection table length is 0: the guest has not programmed RSS (or RSS is off)");
	else if (len > VSTEER_MAX_TABLE_LEN || (len & (len - 1)))
		add("table-size", Status::fail,
		    "indirection table length " + std::to_string(len) + " is not a power of two in 1..128");
	else
		add("table-size", Status::ok, std::to_string(len) + " entries");

	// Entries and unclassified queue beyond the active queues.
	if (active) {
		std::set<unsigned> beyond;
		unsigned n = 0;
		for (uint16_t q : c.table)
			if (q >= active) {
				beyond.insert(q);
				n++;
			}
		if (!beyond.empty())
			add("table-queues", Status::fail,
			    std::to_string(n) + " of " + std::to_string(c.table.size()) +
			        " entries name queues beyond the " + std::to_string(active) +
			        " active ones (" + join_queues(beyond) + "); the tap wraps them (queue % " +
			        std::to_string(active) + ")");
		else
			add("table-queues", Status::ok, "every entry < " + std::to_string(active));
		if (c.unclassified_queue >= active)
			add("unclassified-queue", Status::fail,
			    "queue " + std::to_string(c.unclassified_queue) + " is beyond the " +
			        std::to_string(active) + " active queues");
		else
			add("unclassified-queue", Status::ok,
			    "queue " + std::to_string(c.unclassified_queue));
	} else {
		add("table-queues", Status::warn, "no active queues to compare the table with");
		add("unclassified-queue", Status::warn,
		    "no active queues to compare queue " + std::to_string(c.unclassified_queue) + " with");
	}

	// Key.
	if (std::all_of(c.key.begin(), c.key.end(), [](uint8_t b) { return b == 0; }))
		add("key", Status::fail,
		    "the Toeplitz key is all zeros: every flow hashes to 0 and lands on table[0]");
	else
		add("key", Status::ok, format_key(c.key));

	// Hash types.
	uint32_t unsupported = c.hash_types & ~uint32_t(VSTEER_HASH_ALL);
	if (unsupported)
		add(
		    "hash-types", Status::fail,
		    "bits 0x" +
			[&] {
				char b[16];
				snprintf(b, sizeof(b), "%x", unsupported);
				return std::string(b);
			}() +
			" are not virtio-net hash types; the program supports " +
			format_hash_types(VSTEER_HASH_ALL));
	else if (c.hash_types == 0)
		add("hash-types", Status::warn,
		    "no hash type enabled: every packet goes to the unclassified queue");
	else
		add("hash-types", Status::ok, format_hash_types(c.hash_types));
	if (!c.redirect)
		add("redirect", Status::warn,
		    "redirect is off (hash-report-only): every packet goes to the unclassified queue");

	// Who serves the tap, and does it use these objects?
	if (!in.holders_known) {
		add("steering-program", Status::warn,
		    "could not scan /proc for the processes holding the tap");
	} else if (in.holders.empty()) {
		add("steering-program", Status::warn,
		    "no process holds queues of the tap; whether a program is attached cannot be seen from "
		    "here");
	} else {
		std::string users, strangers;
		for (const auto &h : in.holders) {
			std::string who = h.comm + "[" + std::to_string(h.pid) + "] (" +
			                  std::to_string(h.tap_queues) + " queue fds)";
			bool uses = contains(h.prog_ids, in.prog_id);
			bool maps = contains(h.map_ids, in.config_map_id) &&
			            contains(h.map_ids, in.key_map_id) &&
			            contains(h.map_ids, in.table_map_id);
			if (uses && maps)
				users += (users.empty() ? "" : ", ") + who;
			else
				strangers +=
				    (strangers.empty() ? "" : ", ") + who +
				    (uses ? " holds the program but not all three maps"
				          : " does not hold program id " + std::to_string(in.prog_id));
		}
		if (!strangers.empty())
			add("steering-program", Status::fail,
			    strangers + ": that process writes its guest's RSS policy elsewhere (started "
			                "without these ebpf-rss-fds?)");
		else
			add("steering-program", Status::ok,
			    "held with its config, key and table maps by " + users);
	}
	return f;
}

std::vector<TapHolder> find_tap_holders(const std::string &tap)
{
	std::vector<TapHolder> out;
	struct stat self_ns {
	};
	bool have_ns = stat("/proc/self/ns/net", &self_ns) == 0;
	DIR *proc = opendir("/proc");
	if (!proc)
		return out;
	while (dirent *de = readdir(proc)) {
		if (!std::all_of(de->d_name, de->d_name + strlen(de->d_name), ::isdigit))
			continue;
		std::string base = std::string("/proc/") + de->d_name;
		struct stat ns {
		};
		if (have_ns && (stat((base + "/ns/net").c_str(), &ns) || ns.st_ino != self_ns.st_ino ||
		                ns.st_dev != self_ns.st_dev))
			continue;
		DIR *fds = opendir((base + "/fdinfo").c_str());
		if (!fds)
			continue;
		TapHolder h;
		h.pid = std::atoi(de->d_name);
		while (dirent *fe = readdir(fds)) {
			if (fe->d_name[0] == '.')
				continue;
			std::ifstream in(base + "/fdinfo/" + fe->d_name);
			std::string line;
			while (std::getline(in, line)) {
				auto value = [&](const char *key) -> std::optional<std::string> {
					size_t kl = strlen(key);
					if (line.compare(0, kl, key) != 0)
						return std::nullopt;
					std::string v = line.substr(kl);
					v.erase(0, v.find_first_not_of(" \t"));
					return v;
				};
				auto id = [&](const char *key) -> std::optional<uint32_t> {
					auto v = value(key);
					auto n = v ? text::parse_decimal(*v, UINT32_MAX) : std::nullopt;
					return n ? std::optional<uint32_t>(static_cast<uint32_t>(*n))
					         : std::nullopt;
				};
				if (auto v = value("iff:"); v && *v == tap)
					h.tap_queues++;
				else if (auto p = id("prog_id:"))
					h.prog_ids.push_back(*p);
				else if (auto m = id("map_id:"))
					h.map_ids.push_back(*m);
			}
		}
		closedir(fds);
		if (h.tap_queues) {
			std::ifstream comm(base + "/comm");
			std::getline(comm, h.comm);
			out.push_back(std::move(h));
		}
	}
	closedir(proc);
	return out;
}

} // namespace vsteer::qemu
