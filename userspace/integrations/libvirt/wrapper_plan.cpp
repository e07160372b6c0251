// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "wrapper_plan.hpp"
#include "json.hpp"
#include "qemu_cmdline.hpp"

namespace vsteer::libvirt
{

namespace
{

// A member's value as QEMU's key=value text would spell it; "" when absent.
std::string text(const Json &obj, std::string_view key)
{
	const Json *j = json_member(obj, key);
	if (!j)
		return {};
	if (j->is_string())
		return j->get<std::string>();
	if (j->is_number_integer())
		return std::to_string(j->get<long long>());
	if (j->is_boolean())
		return j->get<bool>() ? "on" : "off";
	return {};
}

bool is_on(const Json &obj, std::string_view key)
{
	const std::string t = text(obj, key);
	return t == "on" || t == "true" || t == "yes";
}

// "22:24:25:26" -> {22, 24, 25, 26}; empty if any element is not a number.
std::vector<int> fd_list(const std::string &s)
{
	std::vector<int> out;
	size_t p = 0;
	while (p <= s.size()) {
		size_t q = s.find(':', p);
		std::string n = s.substr(p, q == std::string::npos ? std::string::npos : q - p);
		if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos)
			return {};
		out.push_back(std::stoi(n));
		if (q == std::string::npos)
			break;
		p = q + 1;
	}
	return out;
}

} // namespace

std::vector<SteeringTarget> steering_targets(const std::vector<std::string> &argv)
{
	const auto opts = qemu::scan_net_options(argv);
	std::vector<SteeringTarget> out;
	for (const auto &nd : opts) {
		if (nd.option != "netdev" || text(nd.value, "type") != "tap")
			continue;
		std::string fds = text(nd.value, "fds");
		if (fds.empty())
			fds = text(nd.value, "fd");
		const std::vector<int> queue_fds = fd_list(fds);
		const std::string id = text(nd.value, "id");
		if (queue_fds.empty() || id.empty())
			continue;
		for (const auto &dev : opts) {
			if (dev.option != "device" || text(dev.value, "netdev") != id)
				continue;
			if (text(dev.value, "driver").rfind("virtio-net", 0) != 0)
				continue;
			if (!is_on(dev.value, "rss") || json_member(dev.value, "ebpf-rss-fds"))
				continue;
			out.push_back({id, queue_fds.front(), static_cast<unsigned>(queue_fds.size())});
			break;
		}
	}
	return out;
}

} // namespace vsteer::libvirt
