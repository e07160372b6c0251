// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Each group of subcommands lives in its own cmd_*.cpp and registers itself here.
#pragma once

#include <CLI/CLI.hpp>

namespace vsteer::cli
{

void register_tap_commands(CLI::App &app);  // attach, set, show, list, detach (cmd_tap.cpp)
void register_hash_command(CLI::App &app);  // hash (cmd_hash.cpp)
void register_qemu_commands(CLI::App &app); // run-qemu, qmp-attach, qemu-object, check (cmd_qemu.cpp)

void register_xdp_commands(CLI::App &app); // xdp, vm, rule (cmd_xdp.cpp)

} // namespace vsteer::cli
