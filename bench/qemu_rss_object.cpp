// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// qemu-rss-object: fetch QEMU's own RSS eBPF object from a running QEMU over QMP.
//
//   qemu-rss-object QMP_SOCKET OUTPUT.o
//
// Connects to the QMP unix socket of a `qemu-system-x86_64 -S` (see
// scripts/qemu-rss-object.sh, which starts one in a private network namespace),
// negotiates capabilities, runs `request-ebpf` with id "rss", base64-decodes the
// returned ELF object into OUTPUT.o and asks QEMU to quit. Nothing of QEMU is
// stored in this repository: the object comes from the installed QEMU each time.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace
{

class Qmp
{
public:
	explicit Qmp(const std::string &path)
	{
		sockaddr_un addr{};
		if (path.size() >= sizeof(addr.sun_path))
			throw std::runtime_error("QMP socket path too long: " + path);
		addr.sun_family = AF_UNIX;
		std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
		// QEMU may still be starting: retry for up to 10 s.
		for (int attempt = 0;; attempt++) {
			fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd_ < 0)
				throw std::system_error(errno, std::generic_category(), "socket(AF_UNIX)");
			if (connect(fd_, reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) == 0)
				break;
			int err = errno;
			close(fd_);
			fd_ = -1;
			if (attempt >= 100 || (err != ENOENT && err != ECONNREFUSED))
				throw std::system_error(err, std::generic_category(),
				                        "connect to QMP socket " + path);
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		}
		timeval tv{.tv_sec = 20, .tv_usec = 0};
		setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	~Qmp()
	{
		if (fd_ >= 0)
			close(fd_);
	}
	Qmp(const Qmp &) = delete;
	Qmp &operator=(const Qmp &) = delete;

	// One JSON message per line (QMP terminates each with CRLF).
	std::string read_line()
	{
		for (;;) {
			auto nl = buf_.find('\n');
			if (nl != std::string::npos) {
				std::string line = buf_.substr(0, nl);
				buf_.erase(0, nl + 1);
				return line;
			}
			char chunk[65536];
			ssize_t n = read(fd_, chunk, sizeof(chunk));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				throw std::system_error(errno, std::generic_category(), "read from QMP");
			if (n == 0)
				throw std::runtime_error("QMP connection closed by QEMU");
			buf_.append(chunk, static_cast<size_t>(n));
		}
	}

	// Sends a command and returns its reply line, skipping asynchronous events.
	std::string execute(const std::string &command)
	{
		std::string msg = command + "\n";
		for (size_t off = 0; off < msg.size();) {
			ssize_t n = write(fd_, msg.data() + off, msg.size() - off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				throw std::system_error(errno, std::generic_category(), "write to QMP");
			off += static_cast<size_t>(n);
		}
		for (;;) {
			std::string line = read_line();
			if (line.find("\"event\"") != std::string::npos)
				continue;
			if (line.find("\"error\"") != std::string::npos)
				throw std::runtime_error("QMP " + command + " failed: " + line);
			if (line.find("\"return\"") != std::string::npos)
				return line;
		}
	}

private:
	int fd_ = -1;
	std::string buf_;
};

// The string value of "key" in a flat JSON reply (base64 has no escapes).
std::optional<std::string> json_string(const std::string &json, const std::string &key)
{
	auto k = json.find("\"" + key + "\"");
	if (k == std::string::npos)
		return std::nullopt;
	auto open = json.find('"', json.find(':', k) + 1);
	if (open == std::string::npos)
		return std::nullopt;
	auto close = json.find('"', open + 1);
	if (close == std::string::npos)
		return std::nullopt;
	return json.substr(open + 1, close - open - 1);
}

std::vector<unsigned char> base64_decode(const std::string &in)
{
	auto value = [](char c) -> int {
		if (c >= 'A' && c <= 'Z')
			return c - 'A';
		if (c >= 'a' && c <= 'z')
			return c - 'a' + 26;
		if (c >= '0' && c <= '9')
			return c - '0' + 52;
		if (c == '+')
			return 62;
		if (c == '/')
			return 63;
		return -1;
	};
	std::vector<unsigned char> out;
	out.reserve(in.size() / 4 * 3);
	unsigned acc = 0;
	int bits = 0;
	for (char c : in) {
		if (c == '=')
			break;
		if (c == '\\' || c == '\r' || c == '\n') // JSON may escape "/" as "\/"
			continue;
		int v = value(c);
		if (v < 0)
			throw std::runtime_error(std::string("invalid base64 character '") + c + "'");
		acc = (acc << 6) | static_cast<unsigned>(v);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out.push_back(static_cast<unsigned char>(acc >> bits));
			acc &= (1u << bits) - 1;
		}
	}
	return out;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: %s QMP_SOCKET OUTPUT.o\n", argv[0]);
		return 2;
	}
	try {
		Qmp qmp(argv[1]);
		std::string greeting = qmp.read_line();
		if (greeting.find("\"QMP\"") == std::string::npos)
			throw std::runtime_error("no QMP greeting on " + std::string(argv[1]) + ": " +
			                         greeting);
		qmp.execute(R"({"execute":"qmp_capabilities"})");
		std::string reply = qmp.execute(R"({"execute":"request-ebpf","arguments":{"id":"rss"}})");
		auto b64 = json_string(reply, "object");
		if (!b64)
			throw std::runtime_error("request-ebpf reply has no \"object\": " +
			                         reply.substr(0, 200));
		std::vector<unsigned char> elf = base64_decode(*b64);
		if (elf.size() < 64 || std::memcmp(elf.data(), "\177ELF", 4) != 0)
			throw std::runtime_error("request-ebpf returned " + std::to_string(elf.size()) +
			                         " bytes that are not an ELF object");
		std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
		out.write(reinterpret_cast<const char *>(elf.data()),
		          static_cast<std::streamsize>(elf.size()));
		out.close();
		if (!out)
			throw std::runtime_error(std::string("cannot write ") + argv[2]);
		try {
			qmp.execute(R"({"execute":"quit"})");
		} catch (const std::exception &) {
			// QEMU may close the socket before replying; the caller reaps it by PID.
		}
		std::printf("qemu-rss-object: %zu-byte eBPF object from QEMU (%s) -> %s\n", elf.size(),
		            json_string(greeting, "package").value_or("?").c_str(), argv[2]);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "qemu-rss-object: %s\n", e.what());
		return 1;
	}
	return 0;
}
