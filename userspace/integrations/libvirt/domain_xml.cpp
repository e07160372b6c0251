// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "domain_xml.hpp"
#include "error.hpp"

#include <pugixml.hpp>

#include <cstring>

namespace vsteer::libvirt
{

DomainInfo parse_domain_xml(std::string_view xml)
{
	pugi::xml_document doc;
	pugi::xml_parse_result r = doc.load_buffer(xml.data(), xml.size());
	if (!r)
		throw Error(EINVAL, "domain XML", std::string("parse: ") + r.description());
	pugi::xml_node domain = doc.child("domain");
	if (!domain)
		domain = doc.find_node([](pugi::xml_node n) { return std::strcmp(n.name(), "domain") == 0; });
	if (!domain)
		throw Error(EINVAL, "domain XML", "no <domain> element");
	DomainInfo info;
	info.name = domain.child_value("name");
	for (pugi::xml_node nic : domain.child("devices").children("interface")) {
		pugi::xml_node driver = nic.child("driver");
		if (std::string_view(driver.attribute("rss").as_string()) != "on")
			continue;
		if (std::string_view(nic.child("model").attribute("type").as_string()) != "virtio")
			continue;
		std::string tap = nic.child("target").attribute("dev").as_string();
		if (tap.empty())
			continue;
		info.interfaces.push_back({tap, driver.attribute("queues").as_uint(1)});
	}
	return info;
}

} // namespace vsteer::libvirt
