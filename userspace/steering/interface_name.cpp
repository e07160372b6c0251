// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "interface_name.hpp"
#include "error.hpp"

#include <net/if.h>

#include <cctype>
#include <cerrno>

namespace vsteer
{

void check_interface_name(const std::string &name)
{
	bool ok = !name.empty() && name.size() < IFNAMSIZ && name != "." && name != "..";
	for (char c : name)
		ok = ok && c != '/' && c != ':' && c != '\0' && !std::isspace(static_cast<unsigned char>(c));
	if (!ok)
		throw Error(EINVAL, "tap '" + name + "'", "invalid interface name",
		            "names are 1..15 bytes without '/', ':' or whitespace, and not . or ..");
}

} // namespace vsteer
