// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The one JSON library of the project (nlohmann-json): QMP messages, QEMU's JSON -device /
// -netdev arguments, `--json` output and the tests. Objects keep their key order, so a
// rewritten -device reads like the one the user wrote.
#pragma once

#include "error.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace vsteer
{

using Json = nlohmann::ordered_json;

// Text that is not the JSON it should be; what() names the position.
class JsonError : public ConfigError
{
public:
	using ConfigError::ConfigError;
};

// Nesting deeper than this is refused: nothing vsteer reads nests more than a few levels, and
// writing a deeper value back (messages, QEMU's command line) would recurse that deep.
inline constexpr int kMaxJsonDepth = 64;

// Parses untrusted text (QEMU's command line, QMP replies, tool output); throws JsonError.
Json parse_json(std::string_view text);

// Compact text (QEMU's style, one line). Strings that are not UTF-8 (tap names are bytes) are
// written with U+FFFD in place of the bad bytes; numbers that are not finite become null.
std::string to_json_text(const Json &j);

// The member `key` of an object, or null when `j` is not an object or has no such member.
const Json *json_member(const Json &j, std::string_view key);

// The text of a string member, or "" when it is absent or not a string.
std::string json_string(const Json &j, std::string_view key);

} // namespace vsteer
