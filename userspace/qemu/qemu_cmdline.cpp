// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "qemu_cmdline.hpp"
#include "text.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdlib>
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

// An integer as QEMU reads one (strtoll, base 0: 0x.. hex, 0.. octal); nullopt when QEMU
// would refuse it too ("09", 20 digits).
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

// QEMU size suffixes (k, M, G, T; powers of 1024, as qemu_strtosz); nullopt when the value
// does not fit 64 bits.
std::optional<uint64_t> parse_size(std::string_view v)
{
	std::string s(trim(v));
	if (s.empty() || s[0] == '-')
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
	if (r > (UINT64_MAX >> shift))
		return std::nullopt;
	return static_cast<uint64_t>(r) << shift;
}

constexpr const char *kIntegerRules =
    " (decimal, 0x hex or 0 octal, within 64 bits; a leading 0 means octal)";

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
		return j.get<std::string>();
	if (j.is_boolean())
		return j.get<bool>() ? "on" : "off";
	return to_json_text(j);
}

std::string get_text(const Json &obj, std::string_view key)
{
	const Json *v = json_member(obj, key);
	return v ? scalar_text(*v) : std::string();
}

std::string describe(const NetOption &o)
{
	return "-" + o.option + " '" + (o.json ? to_json_text(o.value) : format_keyval([&] {
		       KeyValues kv;
		       for (const auto &[k, v] : o.value.items())
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
	// "... version MAJOR.MINOR[.MICRO] ..." on the first line; scanned by hand because the
	// line is QEMU's output and may be arbitrarily long.
	std::string_view line = out.substr(0, out.find('\n'));
	for (size_t at = line.find("version"); at != std::string_view::npos;
	     at = line.find("version", at + 1)) {
		std::string_view rest = line.substr(at + 7);
		size_t blanks = 0;
		while (blanks < rest.size() && std::isspace(static_cast<unsigned char>(rest[blanks])))
			blanks++;
		if (blanks == 0)
			continue;
		rest.remove_prefix(blanks);
		int parts[3] = {0, 0, 0};
		int got = 0;
		while (got < 3) {
			if (got > 0) {
				if (rest.empty() || rest[0] != '.' || rest.size() < 2 ||
				    !std::isdigit(static_cast<unsigned char>(rest[1])))
					break;
				rest.remove_prefix(1);
			}
			if (rest.empty() || !std::isdigit(static_cast<unsigned char>(rest[0])))
				break; // digits only: from_chars would take "-1"
			auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), parts[got]);
			if (ec == std::errc::result_out_of_range)
				return std::nullopt; // "version 99999999999.0": not a QEMU we know
			if (ec != std::errc() || end == rest.data())
				break;
			rest.remove_prefix(static_cast<size_t>(end - rest.data()));
			got++;
		}
		if (got >= 2)
			return QemuVersion{parts[0], parts[1], parts[2]};
	}
	return std::nullopt;
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

PropertyTypes qmp_property_types(const Json &reply)
{
	PropertyTypes types;
	if (!reply.is_array())
		return types;
	for (const Json &prop : reply) {
		std::string name = json_string(prop, "name"), type = json_string(prop, "type");
		if (!name.empty() && !type.empty())
			types[name] = type;
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
	Json obj = Json::object();
	// The driver first, as QEMU's documentation writes it.
	for (const auto &[k, v] : kv)
		if (k == "driver")
			obj["driver"] = v;
	for (const auto &[k, v] : kv) {
		if (k == "driver")
			continue;
		if (obj.contains(k))
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
				auto n = parse_int(v);
				if (!n)
					throw CmdlineError("property '" + k + "' is an integer (" + type +
					                   "), not '" + v + "'" + kIntegerRules);
				value = *n;
			} else if (type == "size") {
				auto n = parse_size(v);
				if (!n)
					throw CmdlineError("property '" + k +
					                   "' is a size (bytes, k/M/G/T), not '" + v + "'");
				value = *n;
			}
		} else if (!string_properties().count(k)) {
			if (auto b = parse_bool(v); b && v.size() > 1)
				value = *b;
			else if (!v.empty() && std::all_of(v.begin(), v.end(),
			                                   [](char c) { return c >= '0' && c <= '9'; })) {
				auto n = parse_int(v);
				if (!n)
					throw CmdlineError("property '" + k + "=" + v +
					                   "' is not a number QEMU reads" + kIntegerRules);
				value = *n;
			}
		}
		obj[k] = std::move(value);
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
				o.value = parse_json(val);
			} catch (const JsonError &e) {
				throw CmdlineError("-" + name + " '" + argv[i + 1] + "': " + e.what());
			}
			if (!o.value.is_object())
				throw CmdlineError("-" + name + " '" + argv[i + 1] + "': not a JSON object");
		} else {
			const char *implied = name == "device" ? "driver" : "type";
			Json obj = Json::object();
			for (auto &[k, v] : parse_keyval(argv[i + 1], implied))
				obj[k] = v;
			o.value = std::move(obj);
		}
		out.push_back(std::move(o));
		i++;
	}
	return out;
}

unsigned netdev_queue_count(const Json &queues)
{
	constexpr int64_t kMaxQemuQueues = 1024; // QEMU's MAX_QUEUE_NUM
	std::optional<int64_t> n;
	if (queues.is_number_integer())
		n = queues.is_number_unsigned() && queues.get<uint64_t>() > INT64_MAX
		        ? std::nullopt
		        : std::optional(queues.get<int64_t>());
	else if (queues.is_string())
		n = parse_int(queues.get<std::string>());
	if (!n || *n < 1 || *n > kMaxQemuQueues)
		throw CmdlineError("-netdev queues=" + scalar_text(queues) + " is not a queue count (1.." +
		                   std::to_string(kMaxQemuQueues) + ")");
	return static_cast<unsigned>(*n);
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
	if (json_member(dev.value, "ebpf-rss-fds"))
		throw CmdlineError(describe(dev) +
		                   " already has ebpf-rss-fds; remove them, run-qemu adds its own");
	RssTarget t;
	t.netdev_index = nd.index;
	t.device_index = dev.index;
	t.netdev_id = id;
	t.driver = driver;
	t.device_json = dev.json;
	if (const Json *rss = json_member(dev.value, "rss")) {
		std::optional<bool> on =
		    rss->is_boolean() ? std::optional<bool>(rss->get<bool>()) : parse_bool(scalar_text(*rss));
		if (!on)
			throw CmdlineError(describe(dev) + ": rss must be on or off, not " +
			                   to_json_text(*rss));
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
		dev = parse_json(trim(argv[r.target.device_index]));
	else
		dev = device_to_json(parse_keyval(argv[r.target.device_index], "driver"), types);
	if (!r.target.has_rss) {
		dev["rss"] = true;
		r.notes.push_back("added \"rss\":true to the device (ebpf-rss-fds is used only with rss=on)");
	}
	Json list = Json::array();
	for (int fd : fds)
		list.push_back(std::to_string(fd));
	dev["ebpf-rss-fds"] = std::move(list);
	r.device = to_json_text(dev);
	r.argv = argv;
	r.argv[r.target.device_index] = r.device;
	return r;
}

namespace
{

// Calls `each` with every "N" of the fd lists in one argument: fd=N, fds=N:M, vhostfd=N,
// vhostfds=N:M (QemuOpts) and "fd":"N", "fds":"N:M" (JSON). A key counts at the start of the
// argument or after one of , { " or a blank. Scanned by hand: an argument can be huge.
template <typename F> void for_each_fd_number(std::string_view a, F each)
{
	auto is_key_start = [&](size_t i) {
		if (i == 0)
			return true;
		char c = a[i - 1];
		return c == ',' || c == '{' || c == '"' || std::isspace(static_cast<unsigned char>(c));
	};
	auto skip_blanks = [&](size_t i) {
		while (i < a.size() && std::isspace(static_cast<unsigned char>(a[i])))
			i++;
		return i;
	};
	for (size_t i = 0; i < a.size(); i++) {
		if (!is_key_start(i))
			continue;
		size_t p = i;
		if (a.substr(p, 5) == "vhost")
			p += 5;
		if (a.substr(p, 2) != "fd")
			continue;
		p += 2;
		if (p < a.size() && a[p] == 's')
			p++;
		if (p < a.size() && a[p] == '"')
			p++;
		p = skip_blanks(p);
		if (p >= a.size() || (a[p] != '=' && a[p] != ':'))
			continue;
		p = skip_blanks(p + 1);
		if (p < a.size() && a[p] == '"')
			p++;
		if (p >= a.size() || !std::isdigit(static_cast<unsigned char>(a[p])))
			continue;
		size_t end = p;
		while (end < a.size() && (std::isdigit(static_cast<unsigned char>(a[end])) || a[end] == ':'))
			end++;
		for (std::string_view n : text::split(a.substr(p, end - p), ':'))
			if (!n.empty())
				each(n);
		i = end - 1;
	}
}

} // namespace

int highest_fd_referenced(const std::vector<std::string> &argv)
{
	int highest = -1;
	for (size_t i = 1; i < argv.size(); i++)
		for_each_fd_number(argv[i], [&](std::string_view n) {
			int fd = 0;
			auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), fd);
			if (ec != std::errc() || end != n.data() + n.size())
				throw CmdlineError("fd number " + std::string(n.substr(0, 24)) +
				                   " in argument " + std::to_string(i) +
				                   " is beyond any file descriptor");
			highest = std::max(highest, fd);
		});
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
