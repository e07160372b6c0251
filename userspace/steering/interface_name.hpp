// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The kernel's rule for interface names. A tap's name is also the name of its pin directory,
// so the rule is checked before any path is built from it. Kept apart from tap_control (which
// needs libmnl) so that the static guest binaries can use the pin code without libmnl.
#pragma once

#include <string>

namespace vsteer
{

// Throws Error unless `name` is a name the kernel accepts for an interface (1..15 bytes,
// no '/', ':' or whitespace, not "." or "..").
void check_interface_name(const std::string &name);

} // namespace vsteer
