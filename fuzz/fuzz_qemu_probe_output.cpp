// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// What run-qemu reads from the QEMU binary it probes: `-version` and `-device DRIVER,help`.
#include "fuzz_common.hpp"
#include "qemu_cmdline.hpp"

using namespace vsteer::qemu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	std::string_view out = vsteer::fuzz::as_text(data, size);
	if (auto v = parse_qemu_version(out)) {
		if (v->major < 0 || v->minor < 0 || v->micro < 0)
			vsteer::fuzz::broken("negative version part", out);
		(void)format_version(*v);
	}
	for (const auto &[name, type] : parse_device_help(out))
		if (name.empty() || name.find(' ') != std::string::npos)
			vsteer::fuzz::broken("property name", name);
	return 0;
}
