// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Small text helpers shared by the parsers of CLI values (keys, tables, QEMU options, XDP rules).
#pragma once

#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace vsteer::text
{

// `s` without leading and trailing whitespace.
inline std::string_view trim(std::string_view s)
{
	while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
		s.remove_prefix(1);
	while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
		s.remove_suffix(1);
	return s;
}

// Fields of `s` between `sep` characters (empty fields kept).
inline std::vector<std::string_view> split(std::string_view s, char sep)
{
	std::vector<std::string_view> out;
	size_t start = 0;
	while (true) {
		size_t pos = s.find(sep, start);
		out.push_back(s.substr(start, pos == s.npos ? s.npos : pos - start));
		if (pos == s.npos)
			return out;
		start = pos + 1;
	}
}

// A decimal number of at most `max`: digits only (no sign, blanks or 0x), as the CLI's
// numeric values are written. nullopt otherwise, so that the caller names the option.
inline std::optional<uint64_t> parse_decimal(std::string_view s, uint64_t max)
{
	uint64_t v = 0;
	if (s.empty() || !std::isdigit(static_cast<unsigned char>(s.front())))
		return std::nullopt;
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
	if (ec != std::errc() || end != s.data() + s.size() || v > max)
		return std::nullopt;
	return v;
}

} // namespace vsteer::text
