// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The QMP client against a fake QEMU on the other end of a socketpair: the exchange itself
// (greeting, capabilities, events and foreign replies skipped, error replies), and a hostile
// peer: a line that never ends must not grow vsteer's memory, events must not keep a reply's
// deadline from expiring.
#include "error.hpp"
#include "qemu_qmp.hpp"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>

using namespace vsteer;
using namespace vsteer::qemu;

namespace
{

constexpr const char *kGreeting =
    R"({"QMP": {"version": {"qemu": {"micro": 2, "minor": 0, "major": 10}, "package": ""}, "capabilities": []}})"
    "\r\n";

// The peer's end of the socketpair, served by `script` on its own thread.
class FakeQemu
{
public:
	explicit FakeQemu(std::function<void(FakeQemu &)> script)
	{
		int sv[2];
		REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
		client_.reset(sv[0]);
		peer_.reset(sv[1]);
		thread_ = std::thread([this, script] { script(*this); });
	}
	~FakeQemu() { finish(); }
	// Closes vsteer's end (if the test still holds it), stops the peer and waits for it.
	void finish()
	{
		client_.reset();
		::shutdown(peer_.get(), SHUT_RDWR); // unblocks a peer that still reads
		if (thread_.joinable())
			thread_.join();
	}
	UniqueFd take_client() { return std::move(client_); }

	// false once vsteer closed its end
	bool send(const std::string &s)
	{
		size_t done = 0;
		while (done < s.size()) {
			ssize_t n = ::send(peer_.get(), s.data() + done, s.size() - done, MSG_NOSIGNAL);
			if (n <= 0)
				return false;
			done += static_cast<size_t>(n);
		}
		return true;
	}
	// One command from vsteer (one line), or "" when it closed.
	std::string receive_line()
	{
		std::string line;
		char c;
		while (::recv(peer_.get(), &c, 1, 0) == 1) {
			if (c == '\n')
				return line;
			line += c;
		}
		return {};
	}
	// The "id" vsteer gave the command in `line`.
	static std::string id_of(const std::string &line) { return json_string(parse_json(line), "id"); }

	// Greeting and the qmp_capabilities exchange.
	void handshake()
	{
		send(kGreeting);
		std::string caps = receive_line();
		send(R"({"return": {}, "id": ")" + id_of(caps) + "\"}\n");
	}

private:
	UniqueFd client_, peer_;
	std::thread thread_;
};

} // namespace

TEST_CASE("QMP: greeting, capabilities, a reply among events and other replies, error replies")
{
	std::string seen_command;
	FakeQemu qemu([&](FakeQemu &q) {
		q.handshake();
		std::string cmd = q.receive_line();
		seen_command = cmd;
		std::string id = FakeQemu::id_of(cmd);
		q.send(
		    R"({"timestamp": {"seconds": 1, "microseconds": 2}, "event": "NIC_RX_FILTER_CHANGED", "data": {}})"
		    "\n\n");
		q.send(R"({"return": {"wrong": true}, "id": "someone-else"})"
		       "\n");
		q.send(R"({"return": {"object": "AAAA"}, "id": ")" + id + "\"}\n");
		std::string cmd2 = q.receive_line();
		q.send(R"({"error": {"class": "GenericError", "desc": "no such fd"}, "id": ")" +
		       FakeQemu::id_of(cmd2) + "\"}\n");
	});
	QmpClient c = QmpClient::over(qemu.take_client(), "fake QMP");
	CHECK(c.qemu_version() == "10.0.2");
	Json ret = c.execute("request-ebpf", {{"id", "rss"}});
	CHECK(json_string(ret, "object") == "AAAA");
	auto sent = parse_json(seen_command);
	CHECK(json_string(sent, "execute") == "request-ebpf");
	CHECK(json_string(sent.at("arguments"), "id") == "rss");
	try {
		c.execute("closefd", {{"fdname", "x"}});
		FAIL("an error reply must throw");
	} catch (const QmpError &e) {
		CHECK(e.error_class() == "GenericError");
		CHECK(std::string(e.what()).find("closefd") != std::string::npos);
		CHECK(std::string(e.what()).find("no such fd") != std::string::npos);
	}
}

TEST_CASE("QMP: a message without a newline beyond the limit fails instead of growing memory")
{
	std::atomic<bool> peer_blocked_out{false};
	FakeQemu qemu([&](FakeQemu &q) {
		q.handshake();
		q.receive_line();
		// Twice the limit, never a newline: vsteer must give up after the limit, closing its
		// end, so the peer's send fails before all of it went out.
		std::string chunk(64 << 10, 'x');
		size_t sent = 0;
		while (sent < 2 * kMaxQmpLineBytes && q.send(chunk))
			sent += chunk.size();
		peer_blocked_out = sent < 2 * kMaxQmpLineBytes;
	});
	std::string error;
	{
		QmpClient c = QmpClient::over(qemu.take_client(), "fake QMP");
		try {
			c.execute("query-status");
		} catch (const Error &e) {
			error = e.what();
			CHECK(e.code() == EMSGSIZE);
		}
	} // closes vsteer's end
	CHECK_MESSAGE(error.find("without a newline") != std::string::npos, error);
	CHECK_MESSAGE(error.find("query-status") != std::string::npos, error);
	qemu.finish();
	CHECK(peer_blocked_out);
}

TEST_CASE("QMP: events do not extend the reply deadline")
{
	std::atomic<bool> still_sending_when_refused{false};
	FakeQemu qemu([&](FakeQemu &q) {
		q.handshake();
		q.receive_line();
		// Events every 20 ms for up to 20 s, never the reply. vsteer (deadline 300 ms) must
		// give up and close its end while they still arrive.
		for (int i = 0; i < 1000; i++) {
			if (!q.send(R"({"event": "RTC_CHANGE", "data": {"offset": 0}})"
			            "\n")) {
				still_sending_when_refused = true;
				return;
			}
			std::this_thread::sleep_for(std::chrono::milliseconds(20));
		}
	});
	std::string error;
	{
		QmpClient c = QmpClient::over(qemu.take_client(), "fake QMP", 300);
		try {
			c.execute("query-status");
		} catch (const Error &e) {
			error = e.what();
			CHECK(e.code() == ETIMEDOUT);
		}
	}
	CHECK_MESSAGE(error.find("the reply to query-status") != std::string::npos, error);
	qemu.finish();
	CHECK(still_sending_when_refused);
}

TEST_CASE("QMP: an unparsable or truncated message names the socket")
{
	FakeQemu qemu([](FakeQemu &q) {
		q.handshake();
		q.receive_line();
		q.send("{\"return\": [1e999]}\n");
	});
	QmpClient c = QmpClient::over(qemu.take_client(), "fake QMP");
	CHECK_THROWS_WITH_AS(c.execute("query-status"), doctest::Contains("fake QMP"), Error);
}

TEST_CASE("QMP lines: split at newlines, bounded while a line is unfinished")
{
	QmpLines lines(8);
	lines.append("{}\n{\"a\"");
	CHECK(lines.next() == "{}");
	CHECK(!lines.next());
	lines.append(":1}\n");
	CHECK(lines.next() == "{\"a\":1}");
	lines.append("12345678");
	CHECK_THROWS_AS(lines.append("9"), std::length_error);
	QmpLines many(8);
	for (int i = 0; i < 100; i++) // complete lines never count against the limit
		many.append("1234567\n");
	int n = 0;
	while (many.next())
		n++;
	CHECK(n == 100);
}
