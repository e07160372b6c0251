// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// A small JSON value for what vsteer exchanges with QEMU: JSON `-device` / `-netdev`
// arguments on its command line and QMP messages. Objects keep their key order, so a
// rewritten `-device` reads like the one the user wrote. Integers stay integers.
#pragma once

#include "error.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace vsteer::qemu
{

class JsonError : public ConfigError
{
public:
	using ConfigError::ConfigError;
};

class Json
{
public:
	using Array = std::vector<Json>;
	using Object = std::vector<std::pair<std::string, Json>>;

	Json() = default; // null
	Json(std::nullptr_t) {}
	Json(bool b) : v_(b) {}
	Json(int i) : v_(static_cast<int64_t>(i)) {}
	Json(int64_t i) : v_(i) {}
	Json(uint32_t i) : v_(static_cast<int64_t>(i)) {}
	Json(double d) : v_(d) {}
	Json(const char *s) : v_(std::string(s)) {}
	Json(std::string s) : v_(std::move(s)) {}
	Json(Array a) : v_(std::move(a)) {}
	Json(Object o) : v_(std::move(o)) {}

	static Json parse(std::string_view text); // throws JsonError with the offset
	std::string dump() const;                 // compact, QEMU-style

	bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
	bool is_bool() const { return std::holds_alternative<bool>(v_); }
	bool is_int() const { return std::holds_alternative<int64_t>(v_); }
	bool is_number() const { return is_int() || std::holds_alternative<double>(v_); }
	bool is_string() const { return std::holds_alternative<std::string>(v_); }
	bool is_array() const { return std::holds_alternative<Array>(v_); }
	bool is_object() const { return std::holds_alternative<Object>(v_); }

	bool as_bool() const { return get<bool>("a boolean"); }
	int64_t as_int() const { return get<int64_t>("an integer"); }
	double as_double() const
	{
		return is_int() ? static_cast<double>(as_int()) : get<double>("a number");
	}
	const std::string &as_string() const { return get<std::string>("a string"); }
	const Array &as_array() const { return get<Array>("an array"); }
	Array &as_array() { return get<Array>("an array"); }
	const Object &as_object() const { return get<Object>("an object"); }
	Object &as_object() { return get<Object>("an object"); }

	// Object access: find() is null when absent; set() replaces or appends.
	const Json *find(std::string_view key) const;
	Json *find(std::string_view key);
	void set(std::string_view key, Json value);
	bool erase(std::string_view key);

	bool operator==(const Json &o) const = default;

private:
	template <typename T> const T &get(const char *what) const
	{
		if (auto *p = std::get_if<T>(&v_))
			return *p;
		throw JsonError(std::string("JSON value is not ") + what + ": " + dump());
	}
	template <typename T> T &get(const char *what)
	{
		if (auto *p = std::get_if<T>(&v_))
			return *p;
		throw JsonError(std::string("JSON value is not ") + what + ": " + dump());
	}
	std::variant<std::monostate, bool, int64_t, double, std::string, Array, Object> v_;
};

std::string json_quote(std::string_view s);

} // namespace vsteer::qemu
