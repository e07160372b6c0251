// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// `vsteer xdp show`: the classifier's devices, totals, VMs and rules as text or JSON.
#pragma once

#include "xdp_control.hpp"

#include <string>
#include <utility>
#include <vector>

namespace vsteer::cli
{

std::string format_show_text(const XdpControl &c,
                             const std::vector<std::pair<std::string, XdpDeviceState>> &devs);
std::string format_show_json(const XdpControl &c,
                             const std::vector<std::pair<std::string, XdpDeviceState>> &devs);

} // namespace vsteer::cli
