// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "qemu_cmdline.hpp"
#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <regex>
#include <set>

namespace vsteer::qemu
{

namespace
{

using text::trim;

bool starts_with(std::string_view s, std::string_view p)
{
	return s.substr(0, p.size()) == p;
}

// "-device" or "--device" -> "device"; anything else -> "".
std::string option_name(std::string_view arg)
{
	if (starts_with(arg, "--"))
		arg.remove_prefix(2);
	else if (starts_with(arg, "-"))
		arg.remove_prefix(1);
	else
		return {};
	return std::string(arg);
}

bool is_virtio_net(std::string_view driver)
{
	return starts_with(driver, "virtio-net");
}

std::optional<bool> parse_bool(std::string_view v)
{
	if (v == "on" || v == "yes" || v == "true" || v == "y")
		return true;
	if (v == "off" || v == "no" || v == "false" || v == "n")
		return false;
	return std::nullopt;
}

std::optional<int64_t> parse_int(std::string_view v)
{
	std::string s(trim(v));
	if (s.empty())
		return std::nullopt;
	char *end = nullptr;
	errno = 0;
	long long r = std::strtoll(s.c_str(), &end, 0);
	if (errno || *end != '\0')
		return std::nullopt;
	return r;
}

// QEMU size suffixes (k, M, G, T, P, E; powers of 1024, as qemu_strtosz).
std::optional<int64_t> parse_size(std::string_view v)
{
	std::string s(trim(v));
	if (s.empty())
		return std::nullopt;
	char *end = nullptr;
	errno = 0;
	unsigned long long r = std::strtoull(s.c_str(), &end, 0);
	if (errno || end == s.c_str())
		return std::nullopt;
	std::string suffix(end);
	int shift = 0;
	if (suffix.empty() || suffix == "b" || suffix == "B")
		shift = 0;
	else if (suffix == "k" || suffix == "K")
		shift = 10;
	else if (suffix == "m" || suffix == "M")
		shift = 20;
	else if (suffix == "g" || suffix == "G")
		shift = 30;
	else if (suffix == "t" || suffix == "T")
		shift = 40;
	else
		return std::nullopt;
	return static_cast<int64_t>(r << shift);
}

bool is_integer_type(std::string_view t)
{
	return t == "int" || t == "uint" || t == "int8" || t == "int16" || t == "int32" || t == "int64" ||
	       t == "uint8" || t == "uint16" || t == "uint32" || t == "uint64";
}

// Properties that are strings whatever they look like (used without QEMU's help only).
const std::set<std::string, std::less<>> &string_properties()
{
	static const std::set<std::string, std::less<>> s{"addr",
	                                                  "bus",
	                                                  "id",
	                                                  "mac",
	                                                  "netdev",
	                                                  "driver",
	                                                  "romfile",
	                                                  "tx",
	                                                  "duplex",
	                                                  "failover_pair_id",
	                                                  "serial",
	                                                  "disable-legacy",
	                                                  "x-pcie-lnksta-dllla"};
	return s;
}

// Text of a JSON scalar as QemuOpts would have it (to match ids and tap names).
std::string scalar_text(const Json &j)
{
	if (j.is_string())
		return j.as_string();
	if (j.is_bool())
		return j.as_bool() ? "on" : "off";
	if (j.is_int())
		return std::to_string(j.as_int());
	return j.dump();
}

std::string get_text(const Json &obj, std::string_view key)
{
	const Json *v = obj.find(key);
	return v ? scalar_text(*v) : std::string();
}

std::string describe(const NetOption &o)
{
	return "-" + o.option + " '" + (o.json ? o.value.dump() : format_keyval([&] {
		       KeyValues kv;
		       for (const auto &[k, v] : o.value.as_object())
			       kv.emplace_back(k, scalar_text(v));
		       return kv;
	       }())) +
	       "'";
}

std::string example_device(const std::string &netdev_id)
{
	return "-device '{\"driver\":\"virtio-net-pci\",\"netdev\":\"" + netdev_id +
	       "\",\"mq\":true,\"rss\":true}'";
}

} // namespace

std::optional<QemuVersion> parse_qemu_version(std::string_view out)
{
	static const std::regex re(R"(version\s+(\d+)\.(\d+)(?:\.(\d+))?)");
	std::string s(out.substr(0, out.find('\n')));
	std::smatch m;
	if (!std::regex_search(s, m, re))
		return std::nullopt;
	QemuVersion v;
	v.major = std::stoi(m[1]);
	v.minor = std::stoi(m[2]);
	v.micro = m[3].matched ? std::stoi(m[3]) : 0;
	return v;
}

std::string format_version(const QemuVersion &v)
{
	return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.micro);
}

PropertyTypes parse_device_help(std::string_view out)
{
	// "  mq=<bool>              - on/off (default: off)"
	PropertyTypes types;
	size_t pos = 0;
	while (pos < out.size()) {
		size_t nl = out.find('\n', pos);
		std::string_view line =
		    out.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
		pos = nl == std::string_view::npos ? out.size() : nl + 1;
		line = trim(line);
		size_t eq = line.find("=<");
		if (eq == std::string_view::npos || eq == 0)
			continue;
		size_t close = line.find('>', eq);
		if (close == std::string_view::npos)
			continue;
		std::string name(line.substr(0, eq));
		if (name.find(' ') != std::string::npos)
			continue;
		types[name] = std::string(line.substr(eq + 2, close - eq - 2));
	}
	return types;
}

KeyValues parse_keyval(std::string_view text, std::string_view implied_key)
{
	// Split on ',' with ",," as an escaped comma.
	std::vector<std::string> parts;
	std::string cur;
	for (size_t i = 0; i < text.size(); i++) {
		if (text[i] == ',') {
			if (i + 1 < text.size() && text[i + 1] == ',') {
				cur += ',';
				i++;
				continue;
			}
			parts.push_back(std::move(cur));
			cur.clear();
			continue;
		}
		cur += text[i];
	}
	parts.push_back(std::move(cur));

	KeyValues kv;
	for (size_t i = 0; i < parts.size(); i++) {
		const std::string &p = parts[i];
		if (p.empty()) {
			if (i + 1 == parts.size())
				continue; // trailing comma
			throw CmdlineError("empty element in '" + std::string(text) + "'");
		}
		size_t eq = p.find('=');
		if (eq != std::string::npos) {
			if (eq == 0)
				throw CmdlineError("element '" + p + "' of '" + std::string(text) +
				                   "' has no key");
			kv.emplace_back(p.substr(0, eq), p.substr(eq + 1));
		} else if (i == 0 && !implied_key.empty()) {
			kv.emplace_back(std::string(implied_key), p);
		} else if (starts_with(p, "no-")) {
			kv.emplace_back(p.substr(3), "off");
		} else {
			kv.emplace_back(p, "on");
		}
	}
	return kv;
}

std::string format_keyval(const KeyValues &kv)
{
	std::string out;
	for (const auto &[k, v] : kv) {
		if (!out.empty())
			out += ',';
		std::string ev;
		for (char c : v) {
			ev += c;
			if (c == ',')
				ev += ',';
		}
		out += k + "=" + ev;
	}
	return out;
}

Json device_to_json(const KeyValues &kv, const PropertyTypes &types)
{
	Json obj = Json::Object{};
	// The driver first, as QEMU's documentation writes it.
	for (const auto &[k, v] : kv)
		if (k == "driver")
			obj.set("driver", v);
	for (const auto &[k, v] : kv) {
		if (k == "driver")
			continue;
		if (obj.find(k))
			throw CmdlineError("property '" + k + "' given twice in -device '" +
			                   format_keyval(kv) + "'");
		Json value = v;
		if (!types.empty()) {
			auto it = types.find(k);
			const std::string type = it == types.end() ? std::string() : it->second;
			if (type == "bool") {
				auto b = parse_bool(v);
				if (!b)
					throw CmdlineError("property '" + k +
					                   "' is a boolean (on/off), not '" + v + "'");
				value = *b;
			} else if (is_integer_type(type)) {
				if (auto n = parse_int(v))
					value = *n;
			} else if (type == "size") {
				if (auto n = parse_size(v))
					value = *n;
			}
		} else if (!string_properties().count(k)) {
			if (auto b = parse_bool(v); b && v.size() > 1)
				value = *b;
			else if (!v.empty() &&
			         std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
				value = *parse_int(v);
		}
		obj.set(k, std::move(value));
	}
	return obj;
}

std::vector<NetOption> scan_net_options(const std::vector<std::string> &argv)
{
	std::vector<NetOption> out;
	for (size_t i = 1; i < argv.size(); i++) {
		std::string name = option_name(argv[i]);
		if (name != "netdev" && name != "nic" && name != "net" && name != "device")
			continue;
		if (i + 1 >= argv.size())
			throw CmdlineError("-" + name + " at the end of the command line has no value");
		NetOption o;
		o.index = i + 1;
		o.option = name;
		std::string_view val = trim(argv[i + 1]);
		if (!val.empty() && val.front() == '{') {
			o.json = true;
			try {
				o.value = Json::parse(val);
			} catch (const JsonError &e) {
				throw CmdlineError("-" + name + " '" + argv[i + 1] + "': " + e.what());
			}
			if (!o.value.is_object())
				throw CmdlineError("-" + name + " '" + argv[i + 1] + "': not a JSON object");
		} else {
			const char *implied = name == "device" ? "driver" : "type";
			Json obj = Json::Object{};
			for (auto &[k, v] : parse_keyval(argv[i + 1], implied))
				obj.set(k, v);
			o.value = std::move(obj);
		}
		out.push_back(std::move(o));
		i++;
	}
	return out;
}

RssTarget find_rss_target(const std::vector<std::string> &argv, const TargetSelector &sel)
{
	if (argv.empty())
		throw CmdlineError("no QEMU command line given (expected: -- qemu-system-x86_64 ARGS...)");
	auto opts = scan_net_options(argv);
	const std::string what =
	    sel.netdev_id.empty() ? "tap '" + sel.tap + "'" : "netdev id '" + sel.netdev_id + "'";

	// -nic / -net tap forms cannot carry a device property.
	for (const auto &o : opts) {
		if (o.option != "nic" && o.option != "net")
			continue;
		if (get_text(o.value, "type") == "tap" &&
		    (sel.netdev_id.empty() ? get_text(o.value, "ifname") == sel.tap
		                           : get_text(o.value, "id") == sel.netdev_id))
			throw CmdlineError(
			    describe(o) + " uses " + what + ", but -" + o.option +
			    " cannot carry ebpf-rss-fds; write it as -netdev tap,id=n0,ifname=" + sel.tap +
			    ",... with " + example_device("n0"));
	}

	std::vector<const NetOption *> netdevs;
	std::vector<std::string> tap_netdevs;
	for (const auto &o : opts) {
		if (o.option != "netdev")
			continue;
		std::string type = get_text(o.value, "type");
		if (type == "tap")
			tap_netdevs.push_back(describe(o));
		bool match = sel.netdev_id.empty() ? (type == "tap" && get_text(o.value, "ifname") == sel.tap)
		                                   : get_text(o.value, "id") == sel.netdev_id;
		if (match)
			netdevs.push_back(&o);
	}
	if (netdevs.empty()) {
		std::string msg = "no -netdev uses " + what;
		if (sel.netdev_id.empty())
			msg += " (expected -netdev tap,id=ID,ifname=" + sel.tap + ",...";
		else
			msg += " (expected -netdev tap,id=" + sel.netdev_id + ",...";
		msg += ")";
		if (!tap_netdevs.empty()) {
			msg += "; tap netdevs on the command line:";
			for (const auto &d : tap_netdevs)
				msg += " " + d;
			if (sel.netdev_id.empty())
				msg += "; for a tap passed as fd= use --netdev ID";
		}
		throw CmdlineError(msg);
	}
	if (netdevs.size() > 1) {
		std::string msg = what + " is used by " + std::to_string(netdevs.size()) + " netdevs:";
		for (auto *n : netdevs)
			msg += " " + describe(*n);
		throw CmdlineError(msg + "; keep one (or name it with --netdev ID)");
	}
	const NetOption &nd = *netdevs.front();
	if (get_text(nd.value, "type") != "tap")
		throw CmdlineError(describe(nd) +
		                   " is not a tap netdev; ebpf-rss-fds steers tap queues only");
	std::string id = get_text(nd.value, "id");
	if (id.empty())
		throw CmdlineError(describe(nd) + " has no id=, so no -device can use it");

	std::vector<const NetOption *> devices;
	for (const auto &o : opts)
		if (o.option == "device" && get_text(o.value, "netdev") == id)
			devices.push_back(&o);
	if (devices.empty())
		throw CmdlineError("no -device uses netdev '" + id + "' (of " + what + "); add " +
		                   example_device(id));
	if (devices.size() > 1) {
		std::string msg =
		    "netdev '" + id + "' is used by " + std::to_string(devices.size()) + " devices:";
		for (auto *d : devices)
			msg += " " + describe(*d);
		throw CmdlineError(msg + "; a netdev serves one device");
	}
	const NetOption &dev = *devices.front();
	std::string driver = get_text(dev.value, "driver");
	if (driver.empty())
		throw CmdlineError(describe(dev) + " has no driver");
	if (!is_virtio_net(driver))
		throw CmdlineError(describe(dev) + " is a '" + driver +
		                   "' device; ebpf-rss-fds is a virtio-net property (use virtio-net-pci)");
	if (dev.value.find("ebpf-rss-fds"))
		throw CmdlineError(describe(dev) +
		                   " already has ebpf-rss-fds; remove them, run-qemu adds its own");
	RssTarget t;
	t.netdev_index = nd.index;
	t.device_index = dev.index;
	t.netdev_id = id;
	t.driver = driver;
	t.device_json = dev.json;
	if (const Json *rss = dev.value.find("rss")) {
		std::optional<bool> on =
		    rss->is_bool() ? std::optional<bool>(rss->as_bool()) : parse_bool(scalar_text(*rss));
		if (!on)
			throw CmdlineError(describe(dev) + ": rss must be on or off, not " + rss->dump());
		if (!*on)
			throw CmdlineError(describe(dev) +
			                   " sets rss=off: QEMU ignores ebpf-rss-fds without rss=on");
		t.has_rss = true;
	}
	return t;
}

Rewrite add_ebpf_rss_fds(const std::vector<std::string> &argv, const TargetSelector &sel,
                         const EbpfRssFds &fds, const PropertyTypes &types)
{
	for (int fd : fds)
		if (fd <= 2)
			throw CmdlineError("fd " + std::to_string(fd) + " would collide with QEMU's stdio");
	Rewrite r;
	r.target = find_rss_target(argv, sel);
	Json dev;
	if (r.target.device_json)
		dev = Json::parse(trim(argv[r.target.device_index]));
	else
		dev = device_to_json(parse_keyval(argv[r.target.device_index], "driver"), types);
	if (!r.target.has_rss) {
		dev.set("rss", true);
		r.notes.push_back("added \"rss\":true to the device (ebpf-rss-fds is used only with rss=on)");
	}
	Json::Array list;
	for (int fd : fds)
		list.emplace_back(std::to_string(fd));
	dev.set("ebpf-rss-fds", std::move(list));
	r.device = dev.dump();
	r.argv = argv;
	r.argv[r.target.device_index] = r.device;
	return r;
}

int highest_fd_referenced(const std::vector<std::string> &argv)
{
	// fd=N, fds=N:M, vhostfd=N, vhostfds=N:M, "fd":"N", "fds":"N:M", -add-fd fd=N
	static const std::regex re(R"re((?:^|[,{\s"])(?:vhost)?fds?"?\s*[=:]\s*"?([0-9][0-9:]*))re");
	int highest = -1;
	for (size_t i = 1; i < argv.size(); i++) {
		const std::string &a = argv[i];
		for (auto it = std::sregex_iterator(a.begin(), a.end(), re); it != std::sregex_iterator();
		     ++it) {
			std::string nums = (*it)[1];
			size_t p = 0;
			while (p < nums.size()) {
				size_t q = nums.find(':', p);
				std::string n =
				    nums.substr(p, q == std::string::npos ? std::string::npos : q - p);
				if (!n.empty() && n.size() < 9)
					highest = std::max(highest, std::stoi(n));
				if (q == std::string::npos)
					break;
				p = q + 1;
			}
		}
	}
	return highest;
}

std::string shell_join(const std::vector<std::string> &argv)
{
	std::string out;
	for (const auto &a : argv) {
		if (!out.empty())
			out += ' ';
		bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
			return std::isalnum(static_cast<unsigned char>(c)) ||
			       std::string_view("-_=,.:/+@%").find(c) != std::string_view::npos;
		});
		if (plain) {
			out += a;
			continue;
		}
		out += '\'';
		for (char c : a) {
			if (c == '\'')
				out += "'\\''";
			else
				out += c;
		}
		out += '\'';
	}
	return out;
}

} // namespace vsteer::qemu
