// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// `vsteer run-qemu -- WRAPPER... qemu-system-x86_64 ...`: the probes run-qemu makes before
// exec (-version, -device DRIVER,help) run behind the same wrapper as QEMU itself, so a
// command that drops privileges (setpriv) never has root run the QEMU binary.
// A stand-in QEMU records the uid of every invocation.
#include "privileges.hpp"
#include "tun_path_util.hpp"

#include <sys/stat.h>

#include <filesystem>

using namespace vsteer;
using namespace vsteer::test;

namespace
{

// A directory holding an executable "qemu-system-x86_64" that answers -version and -device
// help like QEMU 10.0 and appends "UID ARGS" to calls.log.
struct FakeQemuDir {
	std::string dir;
	FakeQemuDir()
	{
		char tmpl[] = "/tmp/vsteer-probe-XXXXXX";
		REQUIRE(mkdtemp(tmpl));
		dir = tmpl;
		REQUIRE(chmod(dir.c_str(), 0777) == 0); // the unprivileged uid writes the log
		std::ofstream f(qemu());
		f << "#!/bin/sh\n"
		     "echo \"$(id -u) $*\" >>\"$(dirname \"$0\")/calls.log\"\n"
		     "case \"$1\" in\n"
		     "-version) echo 'QEMU emulator version 10.0.2 (fake)';;\n"
		     "-device) echo 'virtio-net-pci options:'; echo '  mq=<bool>  - on/off'; "
		     "echo '  vectors=<uint32>';;\n"
		     "esac\n";
		f.close();
		REQUIRE(chmod(qemu().c_str(), 0755) == 0);
	}
	~FakeQemuDir() { std::filesystem::remove_all(dir); }
	std::string qemu() const { return dir + "/qemu-system-x86_64"; }
	std::string log() const { return slurp(dir + "/calls.log"); }
};

} // namespace

TEST_CASE("netns: run-qemu probes QEMU behind the user's privilege-dropping wrapper")
{
	if (!require_privileges("run-qemu probes"))
		return;
	HeldTap h(unique_name("vsteer-pr-", ""), unique_name("vt", "p"), 2);
	FakeQemuDir fake;

	const std::string qemu_args = " -netdev tap,id=n0,ifname=" + h.tap +
	                              ",queues=2,script=no -device virtio-net-pci,netdev=n0,mq=on";
	auto r =
	    h.vsteer_ok("run-qemu --dry-run --tap " + h.tap +
	                " -- setpriv --reuid=65534 --regid=65534 --clear-groups " + fake.qemu() + qemu_args);
	const std::string log = fake.log();
	CHECK_MESSAGE(log.find("65534 -version") != std::string::npos, log);
	CHECK_MESSAGE(log.find("65534 -device virtio-net-pci,help") != std::string::npos, log);
	std::istringstream lines(log);
	for (std::string line; std::getline(lines, line);)
		CHECK_MESSAGE(line.rfind("65534 ", 0) == 0, "a probe ran as another user: " << line);
	// The printed command keeps the wrapper in front of QEMU.
	CHECK_MESSAGE(r.out.rfind("setpriv --reuid=65534", 0) == 0, r.out);
	// The probe's answer typed the key=value device ("mq":true from mq=<bool>).
	CHECK_MESSAGE(r.out.find("\"mq\":true") != std::string::npos, r.out);
	CHECK(!pin_dir_exists(h.tap)); // --dry-run pins nothing

	// Without a wrapper the probes run as the caller, as before.
	std::filesystem::remove(fake.dir + "/calls.log");
	r = h.vsteer_ok("run-qemu --dry-run --tap " + h.tap + " -- " + fake.qemu() + qemu_args);
	CHECK_MESSAGE(fake.log().find("0 -version") == 0, fake.log());
}
