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
	// Length of the well-formed UTF-8 sequence at the start of `s` (RFC 3629), 0 if none.
	static size_t utf8_sequence(std::string_view s)
	{
		auto b = [&](size_t i) { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0u; };
		auto cont = [&](size_t i, unsigned lo = 0x80, unsigned hi = 0xbf) {
			return b(i) >= lo && b(i) <= hi;
		};
		const unsigned c = b(0);
		if (c >= 0xc2 && c <= 0xdf)
			return cont(1) ? 2 : 0;
		if (c >= 0xe0 && c <= 0xef) {
			bool second = c == 0xe0 ? cont(1, 0xa0) : c == 0xed ? cont(1, 0x80, 0x9f) : cont(1);
			return second && cont(2) ? 3 : 0;
		}
		if (c >= 0xf0 && c <= 0xf4) {
			bool second = c == 0xf0 ? cont(1, 0x90) : c == 0xf4 ? cont(1, 0x80, 0x8f) : cont(1);
			return second && cont(2) && cont(3) ? 4 : 0;
		}
		return 0;
	}
	// A JSON string. Bytes that are not UTF-8 (interface and directory names are arbitrary
	// bytes) become U+FFFD, so the output is always valid JSON.
	void quote(std::string_view s)
	{
		out_ << '"';
		for (size_t i = 0; i < s.size();) {
			const char c = s[i];
			if (static_cast<unsigned char>(c) >= 0x80) {
				size_t n = utf8_sequence(s.substr(i));
				if (n)
					out_ << s.substr(i, n);
				else
					out_ << "\\ufffd";
				i += n ? n : 1;
				continue;
			}
			if (c == '"' || c == '\\')
				out_ << '\\' << c;
			else if (static_cast<unsigned char>(c) < 0x20)
				out_ << "\\u00"
				     << "0123456789abcdef"[(c >> 4) & 15] << "0123456789abcdef"[c & 15];
			else
				out_ << c;
			i++;
		}
		out_ << '"';
	}
	std::ostringstream out_;
	std::vector<bool> first_;
};

} // namespace vsteer
