// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// qemu-rss-object: fetch QEMU's own RSS eBPF object from a running QEMU over QMP.
//
//   qemu-rss-object QMP_SOCKET OUTPUT.o
//
// Connects to the QMP unix socket of a `qemu-system-x86_64 -S` (see
// scripts/qemu-rss-object.sh, which starts one in a private network namespace), runs
// `request-ebpf` with id "rss", base64-decodes the returned ELF object into OUTPUT.o and
// asks QEMU to quit. Nothing of QEMU is stored in this repository: the object comes from
// the installed QEMU each time. The QMP client and decoder are the loader's own
// (userspace/qemu/qemu_qmp.hpp, qemu_rss.hpp).
#include "qemu_qmp.hpp"
#include "qemu_rss.hpp"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace vsteer;
using namespace vsteer::qemu;

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: %s QMP_SOCKET OUTPUT.o\n", argv[0]);
		return 2;
	}
	try {
		QmpClient qmp = QmpClient::connect(argv[1]);
		Json reply = qmp.execute("request-ebpf", {{"id", "rss"}});
		const Json *b64 = json_member(reply, "object");
		if (!b64 || !b64->is_string())
			throw std::runtime_error("request-ebpf reply has no \"object\": " +
			                         to_json_text(reply).substr(0, 200));
		std::vector<uint8_t> elf = base64_decode(b64->get<std::string>());
		if (elf.size() < 64 || std::memcmp(elf.data(), "\177ELF", 4) != 0)
			throw std::runtime_error("request-ebpf returned " + std::to_string(elf.size()) +
			                         " bytes that are not an ELF object");
		std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
		out.write(reinterpret_cast<const char *>(elf.data()),
		          static_cast<std::streamsize>(elf.size()));
		out.close();
		if (!out)
			throw std::runtime_error(std::string("cannot write ") + argv[2]);
		std::string version = qmp.qemu_version();
		try {
			qmp.execute("quit");
		} catch (const std::exception &) {
			// QEMU may close the socket before replying; the caller reaps it by PID.
		}
		std::printf("qemu-rss-object: %zu-byte eBPF object from QEMU %s -> %s\n", elf.size(),
		            version.c_str(), argv[2]);
	} catch (const std::exception &e) {
		std::fprintf(stderr, "qemu-rss-object: %s\n", e.what());
		return 1;
	}
	return 0;
}
