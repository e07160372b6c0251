// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer: virtio-net RSS steering for tap devices with eBPF.
#include "commands.hpp"
#include "error.hpp"

#include <cstdio>
#include <exception>
#include <system_error>

int main(int argc, char **argv)
{
	CLI::App app{"vsteer: virtio-exact eBPF RSS steering for tap devices (QEMU ebpf-rss-fds compatible)"};
	app.require_subcommand(1);
	app.set_version_flag("--version", "vsteer 0.1.0");
	vsteer::cli::register_tap_commands(app);
	vsteer::cli::register_hash_command(app);
	vsteer::cli::register_xdp_commands(app);
	vsteer::cli::register_qemu_commands(app);

	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		return app.exit(e);
	} catch (const std::exception &e) {
		// The error, then what it was handling when it happened (rethrow_after_undo).
		const char *prefix = "vsteer: error: ";
		for (const std::string &m : vsteer::error_chain(e)) {
			std::fprintf(stderr, "%s%s\n", prefix, m.c_str());
			prefix = "  cause: ";
		}
		return vsteer::exit_code(e);
	}
	return 0;
}
