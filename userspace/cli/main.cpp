// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// vsteer: virtio-net RSS steering for tap devices with eBPF.
#include "commands.hpp"
#include "error.hpp"
#include "libbpf_log.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <system_error>

int main(int argc, char **argv)
{
	CLI::App app{"vsteer: virtio-exact eBPF RSS steering for tap devices (QEMU ebpf-rss-fds compatible)"};
	app.require_subcommand(1);
	app.set_version_flag("--version", "vsteer 0.1.0");
	// Before the subcommands: they inherit it, so `vsteer xdp attach -v` reaches this flag.
	app.fallthrough();
	app.add_flag_function(
	    "-v,--verbose", [](std::int64_t n) { vsteer::libbpf_log::set_verbosity(static_cast<int>(n)); },
	    "more output: -v libbpf's and libxdp's messages as they come and the QEMU command line "
	    "run-qemu execs, -vv their debug output too (verifier logs)");
	vsteer::cli::register_tap_commands(app);
	vsteer::cli::register_hash_command(app);
	vsteer::cli::register_xdp_commands(app);
	vsteer::cli::register_qemu_commands(app);

	try {
		app.parse(argc, argv);
	} catch (const CLI::ParseError &e) {
		// A usage error exits with EINVAL like every other invalid value (error.hpp);
		// --help and --version with 0.
		return app.exit(e) == 0 ? 0 : EINVAL;
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
