// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// What a QMP peer sends: the byte stream split into lines (bounded), each line parsed and
// interpreted as the greeting, a command's reply, a device-list-properties answer or a
// request-ebpf object. Refusals are JsonError, QmpError, std::length_error, Error.
#include "error.hpp"
#include "fuzz_common.hpp"
#include "qemu_qmp.hpp"
#include "qemu_rss.hpp"

using namespace vsteer;
using namespace vsteer::qemu;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	// First byte: the receive chunk size (the stream arrives in pieces), and a small line limit
	// so that the bound is reached too.
	const size_t chunk = 1 + data[0] % 64;
	QmpLines lines(4096);
	std::string_view stream = fuzz::as_text(data + 1, size - 1);
	for (size_t at = 0; at < stream.size(); at += chunk) {
		try {
			lines.append(stream.substr(at, chunk));
		} catch (const std::length_error &) {
			return 0;
		}
		while (auto line = lines.next()) {
			if (line->find('\n') != std::string::npos)
				fuzz::broken("a line holds a newline", *line);
			Json m;
			try {
				m = parse_json(*line);
			} catch (const JsonError &) {
				continue;
			}
			if (const Json *qmp = json_member(m, "QMP"))
				(void)qmp_greeting_version(*qmp);
			try {
				if (auto ret = qmp_reply_for(m, "request-ebpf", "vsteer-1", "fuzz")) {
					(void)qmp_property_types(*ret);
					if (const Json *obj = json_member(*ret, "object");
					    obj && obj->is_string())
						(void)base64_decode(obj->get<std::string>());
				}
			} catch (const QmpError &) {
			} catch (const Error &) {
			}
			(void)to_json_text(m);
		}
	}
	return 0;
}
