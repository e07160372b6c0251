// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The JSON parser as vsteer uses it on untrusted text: accepted text writes back as JSON that
// parses to the same value (no inf, nan or bytes that are not UTF-8).
#include "fuzz_common.hpp"
#include "json.hpp"

using namespace vsteer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Json j;
	try {
		j = parse_json(fuzz::as_text(data, size));
	} catch (const JsonError &) {
		return 0;
	}
	std::string text = to_json_text(j);
	try {
		if (parse_json(text) != j)
			fuzz::broken("round trip changed the value", text);
	} catch (const JsonError &) {
		fuzz::broken("written JSON does not parse", text);
	}
	return 0;
}
