// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Shared by the libFuzzer harnesses: the input as text, and the rule every harness keeps:
// a parser may refuse its input only with its documented error type; any other exception,
// a crash or a sanitizer report is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace vsteer::fuzz
{

inline std::string_view as_text(const uint8_t *data, size_t size)
{
	return {reinterpret_cast<const char *>(data), size};
}

// Fields separated by NUL bytes (argv-like inputs).
inline std::vector<std::string> split_nul(std::string_view s)
{
	std::vector<std::string> out;
	size_t start = 0;
	while (true) {
		size_t nul = s.find('\0', start);
		out.emplace_back(
		    s.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start));
		if (nul == std::string_view::npos)
			return out;
		start = nul + 1;
	}
}

// An invariant that does not hold: report and abort so that libFuzzer keeps the input.
[[noreturn]] inline void broken(const char *what, std::string_view detail = {})
{
	std::fprintf(stderr, "invariant broken: %s: %.*s\n", what,
	             static_cast<int>(std::min<size_t>(detail.size(), 400)), detail.data());
	std::abort();
}

} // namespace vsteer::fuzz
