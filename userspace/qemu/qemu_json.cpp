// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "qemu_json.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace vsteer::qemu
{

namespace
{

class Parser
{
public:
	explicit Parser(std::string_view t) : t_(t) {}

	Json document()
	{
		Json v = value(0);
		ws();
		if (i_ != t_.size())
			fail("trailing characters after the JSON value");
		return v;
	}

private:
	[[noreturn]] void fail(const std::string &what) const
	{
		throw JsonError("invalid JSON at offset " + std::to_string(i_) + ": " + what);
	}
	void ws()
	{
		while (i_ < t_.size() &&
		       (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r'))
			i_++;
	}
	bool eat(char c)
	{
		ws();
		if (i_ < t_.size() && t_[i_] == c) {
			i_++;
			return true;
		}
		return false;
	}
	void expect(char c)
	{
		if (!eat(c))
			fail(std::string("expected '") + c + "'");
	}
	bool word(std::string_view w)
	{
		if (t_.substr(i_, w.size()) == w) {
			i_ += w.size();
			return true;
		}
		return false;
	}
	Json value(int depth)
	{
		if (depth > 64)
			fail("nested too deeply");
		ws();
		if (i_ >= t_.size())
			fail("unexpected end");
		char c = t_[i_];
		if (c == '{') {
			i_++;
			Json::Object o;
			if (eat('}'))
				return o;
			do {
				ws();
				std::string k = string();
				expect(':');
				o.emplace_back(std::move(k), value(depth + 1));
			} while (eat(','));
			expect('}');
			return o;
		}
		if (c == '[') {
			i_++;
			Json::Array a;
			if (eat(']'))
				return a;
			do
				a.push_back(value(depth + 1));
			while (eat(','));
			expect(']');
			return a;
		}
		if (c == '"')
			return string();
		if (word("true"))
			return true;
		if (word("false"))
			return false;
		if (word("null"))
			return nullptr;
		return number();
	}
	Json number()
	{
		size_t start = i_;
		if (i_ < t_.size() && t_[i_] == '-')
			i_++;
		bool integral = true;
		while (i_ < t_.size()) {
			char c = t_[i_];
			if (c >= '0' && c <= '9') {
				i_++;
			} else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
				integral = false;
				i_++;
			} else {
				break;
			}
		}
		std::string text(t_.substr(start, i_ - start));
		if (text.empty() || text == "-")
			fail("expected a value");
		char *end = nullptr;
		if (integral) {
			errno = 0;
			long long v = std::strtoll(text.c_str(), &end, 10);
			if (errno == 0 && *end == '\0')
				return static_cast<int64_t>(v);
		}
		double d = std::strtod(text.c_str(), &end);
		if (*end != '\0')
			fail("bad number '" + text + "'");
		return d;
	}
	static void utf8(std::string &out, uint32_t cp)
	{
		if (cp < 0x80) {
			out += static_cast<char>(cp);
		} else if (cp < 0x800) {
			out += static_cast<char>(0xC0 | (cp >> 6));
			out += static_cast<char>(0x80 | (cp & 0x3F));
		} else if (cp < 0x10000) {
			out += static_cast<char>(0xE0 | (cp >> 12));
			out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
			out += static_cast<char>(0x80 | (cp & 0x3F));
		} else {
			out += static_cast<char>(0xF0 | (cp >> 18));
			out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
			out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
			out += static_cast<char>(0x80 | (cp & 0x3F));
		}
	}
	uint32_t hex4()
	{
		if (i_ + 4 > t_.size())
			fail("short \\u escape");
		uint32_t v = 0;
		for (int k = 0; k < 4; k++) {
			char c = t_[i_++];
			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= c - '0';
			else if (c >= 'a' && c <= 'f')
				v |= c - 'a' + 10;
			else if (c >= 'A' && c <= 'F')
				v |= c - 'A' + 10;
			else
				fail("bad \\u escape");
		}
		return v;
	}
	std::string string()
	{
		if (i_ >= t_.size() || t_[i_] != '"')
			fail("expected a string");
		i_++;
		std::string s;
		while (true) {
			if (i_ >= t_.size())
				fail("unterminated string");
			char c = t_[i_++];
			if (c == '"')
				return s;
			if (c != '\\') {
				s += c;
				continue;
			}
			if (i_ >= t_.size())
				fail("unterminated escape");
			char e = t_[i_++];
			switch (e) {
			case '"':
				s += '"';
				break;
			case '\\':
				s += '\\';
				break;
			case '/':
				s += '/';
				break;
			case 'b':
				s += '\b';
				break;
			case 'f':
				s += '\f';
				break;
			case 'n':
				s += '\n';
				break;
			case 'r':
				s += '\r';
				break;
			case 't':
				s += '\t';
				break;
			case 'u': {
				uint32_t cp = hex4();
				if (cp >= 0xD800 && cp < 0xDC00 && t_.substr(i_, 2) == "\\u") {
					i_ += 2;
					uint32_t lo = hex4();
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
				}
				utf8(s, cp);
				break;
			}
			default:
				fail(std::string("bad escape \\") + e);
			}
		}
	}

	std::string_view t_;
	size_t i_ = 0;
};

void dump_to(const Json &j, std::string &out);

} // namespace

std::string json_quote(std::string_view s)
{
	std::string out = "\"";
	for (unsigned char c : s) {
		switch (c) {
		case '"':
			out += "\\\"";
			break;
		case '\\':
			out += "\\\\";
			break;
		case '\n':
			out += "\\n";
			break;
		case '\r':
			out += "\\r";
			break;
		case '\t':
			out += "\\t";
			break;
		default:
			if (c < 0x20) {
				char buf[8];
				std::snprintf(buf, sizeof(buf), "\\u%04x", c);
				out += buf;
			} else {
				out += static_cast<char>(c);
			}
		}
	}
	out += '"';
	return out;
}

namespace
{
void dump_to(const Json &j, std::string &out)
{
	if (j.is_null()) {
		out += "null";
	} else if (j.is_bool()) {
		out += j.as_bool() ? "true" : "false";
	} else if (j.is_int()) {
		out += std::to_string(j.as_int());
	} else if (j.is_number()) {
		char buf[64];
		std::snprintf(buf, sizeof(buf), "%.17g", j.as_double());
		out += buf;
	} else if (j.is_string()) {
		out += json_quote(j.as_string());
	} else if (j.is_array()) {
		out += '[';
		bool first = true;
		for (const auto &e : j.as_array()) {
			if (!first)
				out += ',';
			first = false;
			dump_to(e, out);
		}
		out += ']';
	} else {
		out += '{';
		bool first = true;
		for (const auto &[k, v] : j.as_object()) {
			if (!first)
				out += ',';
			first = false;
			out += json_quote(k);
			out += ':';
			dump_to(v, out);
		}
		out += '}';
	}
}
} // namespace

Json Json::parse(std::string_view text)
{
	return Parser(text).document();
}

std::string Json::dump() const
{
	std::string out;
	dump_to(*this, out);
	return out;
}

const Json *Json::find(std::string_view key) const
{
	if (!is_object())
		return nullptr;
	for (const auto &[k, v] : std::get<Object>(v_))
		if (k == key)
			return &v;
	return nullptr;
}

Json *Json::find(std::string_view key)
{
	if (!is_object())
		return nullptr;
	for (auto &[k, v] : std::get<Object>(v_))
		if (k == key)
			return &v;
	return nullptr;
}

void Json::set(std::string_view key, Json value)
{
	if (Json *p = find(key)) {
		*p = std::move(value);
		return;
	}
	as_object().emplace_back(std::string(key), std::move(value));
}

bool Json::erase(std::string_view key)
{
	if (!is_object())
		return false;
	auto &o = std::get<Object>(v_);
	for (auto it = o.begin(); it != o.end(); ++it)
		if (it->first == key) {
			o.erase(it);
			return true;
		}
	return false;
}

} // namespace vsteer::qemu
