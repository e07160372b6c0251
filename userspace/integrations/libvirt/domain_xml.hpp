// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// What the QEMU hook needs from the domain XML libvirt writes to its stdin: the domain's name
// and its virtio interfaces that ask for RSS (<driver rss='on'/>) on a named tap
// (<target dev='TAP'/>).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vsteer::libvirt
{

struct RssInterface {
	std::string tap;     // <target dev=...>
	unsigned queues = 1; // <driver queues=...>
};

struct DomainInfo {
	std::string name;
	std::vector<RssInterface> interfaces; // in document order
};

// Parses a <domain> document (also one nested in another element, as in libvirt's hook
// data). Interfaces without rss='on', without a virtio model or without a target dev are
// left out. Throws vsteer::Error when the text is not XML or holds no <domain>.
DomainInfo parse_domain_xml(std::string_view xml);

} // namespace vsteer::libvirt
