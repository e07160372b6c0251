// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "json.hpp"

#include <cmath>

namespace vsteer
{

Json parse_json(std::string_view text)
{
	auto check = [](int depth, Json::parse_event_t event, Json &parsed) {
		if ((event == Json::parse_event_t::object_start ||
		     event == Json::parse_event_t::array_start) &&
		    depth >= kMaxJsonDepth)
			throw JsonError("invalid JSON: nested deeper than " + std::to_string(kMaxJsonDepth) +
			                " levels");
		// 1e999 parses as infinity, which has no JSON text to write back
		if (event == Json::parse_event_t::value && parsed.is_number_float() &&
		    !std::isfinite(parsed.get<double>()))
			throw JsonError("invalid JSON: a number beyond the range of a double");
		return true;
	};
	try {
		return Json::parse(text.begin(), text.end(), check);
	} catch (const Json::exception &e) {
		// "[json.exception.parse_error.101] parse error at line 1, column 5: ..." -> from "parse
		// error"
		std::string what = e.what();
		size_t start = what.find("] ");
		throw JsonError("invalid JSON: " +
		                (start == std::string::npos ? what : what.substr(start + 2)));
	}
}

std::string to_json_text(const Json &j)
{
	return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

const Json *json_member(const Json &j, std::string_view key)
{
	if (!j.is_object())
		return nullptr;
	auto it = j.find(std::string(key));
	return it == j.end() ? nullptr : &*it;
}

std::string json_string(const Json &j, std::string_view key)
{
	const Json *v = json_member(j, key);
	return v && v->is_string() ? v->get<std::string>() : std::string();
}

} // namespace vsteer
