// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// A minimal JSON writer for `--json` output: objects, arrays, strings, numbers, bools.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace vsteer
{

class JsonWriter
{
public:
	JsonWriter &begin_object(std::string_view key = {}) { return open(key, '{'); }
	JsonWriter &end_object() { return close('}'); }
	JsonWriter &begin_array(std::string_view key = {}) { return open(key, '['); }
	JsonWriter &end_array() { return close(']'); }
	JsonWriter &value(std::string_view key, std::string_view s)
	{
		prefix(key);
		quote(s);
		return *this;
	}
	JsonWriter &value(std::string_view key, const char *s) { return value(key, std::string_view(s)); }
	JsonWriter &value(std::string_view key, bool b)
	{
		prefix(key);
		out_ << (b ? "true" : "false");
		return *this;
	}
	template <typename N>
	requires std::is_arithmetic_v<N> JsonWriter &value(std::string_view key, N n)
	{
		prefix(key);
		out_ << +n;
		return *this;
	}
	template <typename N> JsonWriter &array(std::string_view key, const std::vector<N> &v)
	{
		begin_array(key);
		for (const auto &x : v)
			value({}, x);
		return end_array();
	}
	std::string str() const { return out_.str() + "\n"; }

private:
	JsonWriter &open(std::string_view key, char c)
	{
		prefix(key);
		out_ << c;
		first_.push_back(true);
		return *this;
	}
	JsonWriter &close(char c)
	{
		out_ << c;
		first_.pop_back();
		return *this;
	}
	void prefix(std::string_view key)
	{
		if (!first_.empty()) {
			if (!first_.back())
				out_ << ',';
			first_.back() = false;
		}
		if (!key.empty()) {
			quote(key);
			out_ << ':';
		}
	}
	void quote(std::string_view s)
	{
		out_ << '"';
		for (char c : s) {
			if (c == '"' || c == '\\')
				out_ << '\\' << c;
			else if (static_cast<unsigned char>(c) < 0x20)
				out_ << "\\u00"
				     << "0123456789abcdef"[(c >> 4) & 15] << "0123456789abcdef"[c & 15];
			else
				out_ << c;
		}
		out_ << '"';
	}
	std::ostringstream out_;
	std::vector<bool> first_;
};

} // namespace vsteer
