// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// libbpf's messages and `vsteer -v`: held back inside a step whose failure would explain them,
// shown at once outside one or with -v. A libbpf warning needs no privileges: opening an
// object file that is not there gives one ("elf: failed to open ...").
#include "libbpf_log.hpp"

#include <doctest/doctest.h>

#include <bpf/libbpf.h>
#include <unistd.h>

#include <cstdio>
#include <string>

using namespace vsteer;

namespace
{

const char *const kMissing = "/nonexistent/vsteer-libbpf-log-test.bpf.o";

// What the code run by `f` writes to stderr (fd 2).
template <typename F> std::string stderr_of(F f)
{
	std::fflush(stderr);
	FILE *tmp = std::tmpfile();
	REQUIRE(tmp);
	const int saved = dup(STDERR_FILENO);
	REQUIRE(saved >= 0);
	dup2(fileno(tmp), STDERR_FILENO);
	f();
	std::fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	std::string text;
	std::rewind(tmp);
	for (int c; (c = std::fgetc(tmp)) != EOF;)
		text += static_cast<char>(c);
	std::fclose(tmp);
	return text;
}

void provoke_warning()
{
	bpf_object *obj = bpf_object__open_file(kMissing, nullptr);
	CHECK(!obj); // libbpf 1.x returns NULL and sets errno
	bpf_object__close(obj);
}

struct Verbosity {
	explicit Verbosity(int v) { libbpf_log::set_verbosity(v); }
	~Verbosity() { libbpf_log::set_verbosity(0); }
};

} // namespace

TEST_CASE("libbpf output: shown at once outside a held-back step")
{
	Verbosity v(0);
	const std::string err = stderr_of(provoke_warning);
	CHECK_MESSAGE(err.find(kMissing) != std::string::npos, err);
	CHECK(err.find("libbpf: ") != std::string::npos);
}

TEST_CASE("libbpf output: kept in a held-back step, shown only when asked (the step failed)")
{
	Verbosity v(0);
	libbpf_log::HeldBack held;
	CHECK(stderr_of(provoke_warning).empty());
	CHECK(held.kept().find(kMissing) != std::string::npos);
	const std::string shown = stderr_of([&] { held.show(); });
	CHECK(shown.find(kMissing) != std::string::npos);
	CHECK(held.kept().empty());
	CHECK(stderr_of([&] { held.show(); }).empty()); // shown once
}

TEST_CASE("libbpf output: the innermost held-back step keeps it; the outer one again after it")
{
	Verbosity v(0);
	libbpf_log::HeldBack outer;
	{
		libbpf_log::HeldBack inner;
		CHECK(stderr_of(provoke_warning).empty());
		CHECK(inner.kept().find(kMissing) != std::string::npos);
		CHECK(outer.kept().empty());
	}
	CHECK(stderr_of(provoke_warning).empty());
	CHECK(outer.kept().find(kMissing) != std::string::npos);
}

TEST_CASE("libbpf output: -v shows everything at once, held back or not")
{
	Verbosity v(1);
	CHECK(libbpf_log::verbosity() == 1);
	libbpf_log::HeldBack held;
	const std::string err = stderr_of(provoke_warning);
	CHECK_MESSAGE(err.find(kMissing) != std::string::npos, err);
	CHECK(held.kept().empty());
}
