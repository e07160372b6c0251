// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// run-qemu's command-line rewriting on an arbitrary argv (NUL-separated arguments): it either
// refuses with CmdlineError or produces a command line whose -device is valid JSON carrying
// exactly the four ebpf-rss-fds, every other argument unchanged.
#include "fuzz_common.hpp"
#include "qemu_cmdline.hpp"

using namespace vsteer;
using namespace vsteer::qemu;

namespace
{

constexpr std::string_view kHelp = "virtio-net-pci options:\n"
				   "  mq=<bool>              - on/off (default: false)\n"
				   "  vectors=<uint32>       -  (default: 4294967295)\n"
				   "  host_mtu=<uint16>      -  (default: 0)\n"
				   "  x-max-bounce-buffer-size=<size> - (default: 4096)\n"
				   "  addr=<int32>           - Slot and optional function number\n";

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	// First byte: how the target is chosen (by tap name or by netdev id) and whether types are known.
	const uint8_t mode = data[0];
	std::vector<std::string> argv{"qemu-system-x86_64"};
	for (auto &a : fuzz::split_nul(fuzz::as_text(data + 1, size - 1)))
		argv.push_back(std::move(a));
	TargetSelector sel = mode & 1 ? TargetSelector{"", "n0"} : TargetSelector{"t0", ""};
	static const PropertyTypes help_types = parse_device_help(kHelp);
	const PropertyTypes &types = mode & 2 ? help_types : PropertyTypes{};
	(void)shell_join(argv);
	try {
		(void)highest_fd_referenced(argv);
	} catch (const CmdlineError &) {
	}
	for (size_t i = 1; i < argv.size(); i++) {
		try {
			(void)device_to_json(parse_keyval(argv[i], "driver"), types);
		} catch (const CmdlineError &) {
		}
	}
	try {
		for (const auto &o : scan_net_options(argv))
			if (const Json *q = json_member(o.value, "queues"))
				try {
					(void)netdev_queue_count(*q);
				} catch (const CmdlineError &) {
				}
	} catch (const CmdlineError &) {
	}
	Rewrite r;
	try {
		r = add_ebpf_rss_fds(argv, sel, {30, 31, 32, 33}, types);
	} catch (const CmdlineError &) {
		return 0;
	}
	if (r.argv.size() != argv.size())
		fuzz::broken("argument count changed");
	for (size_t i = 0; i < argv.size(); i++)
		if (i != r.target.device_index && r.argv[i] != argv[i])
			fuzz::broken("an argument other than the device changed", argv[i]);
	Json dev;
	try {
		dev = parse_json(r.argv[r.target.device_index]);
	} catch (const JsonError &e) {
		fuzz::broken("the rewritten -device is not JSON", r.device);
	}
	const Json *fds = json_member(dev, "ebpf-rss-fds");
	if (!fds || *fds != Json::array({"30", "31", "32", "33"}))
		fuzz::broken("the rewritten -device lacks the fds", r.device);
	return 0;
}
