// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Coexistence through libxdp: another XDP program (xdp-tools' xdp-filter) and the
// classifier on one device. Runs on `lo` of a network namespace of its own (a forked
// child unshares it, so no tool is needed and the caller's devices are untouched); the
// same binary runs in the 6.12 guest (`make xdp-vm-coexist`), where the libxdp dispatcher
// works: both programs must run side by side, across a replacement of the classifier, and
// the other one must stay when the classifier is detached. On a kernel that refuses
// freplace (this host) libxdp attaches single programs, and the classifier must refuse to
// push the other program out.
#include "privileges.hpp"
#include "steering_objects.hpp"
#include "xdp_objects.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

using namespace vsteer;

namespace
{

std::string other_object()
{
	const char *env = std::getenv("VSTEER_XDPFILT_OBJ");
	return env && *env ? env : "/usr/lib/x86_64-linux-gnu/bpf/xdpfilt_dny_all.o";
}

uint64_t run_cnt(int fd)
{
	bpf_prog_info info{};
	__u32 len = sizeof(info);
	if (bpf_prog_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.run_cnt;
}

uint64_t classified(XdpMaps &m)
{
	uint64_t n = 0;
	for (const auto &s : m.stats.get(0))
		n += s.packets;
	return n;
}

void send_udp(int count)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(9);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	char buf[32] = {};
	for (int i = 0; i < count; i++)
		sendto(s, buf, sizeof(buf), 0, reinterpret_cast<sockaddr *>(&a), sizeof(a));
	close(s);
	usleep(50000);
}

// The child: returns a one-line verdict ("PASS ..." or "FAIL ...").
std::string coexist_child()
{
	if (unshare(CLONE_NEWNET))
		return std::string("FAIL unshare(CLONE_NEWNET): ") + std::strerror(errno);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ifreq ifr{};
	std::strcpy(ifr.ifr_name, "lo");
	ifr.ifr_flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		return std::string("FAIL lo up: ") + std::strerror(errno);
	close(s);
	ensure_bpffs();
	const std::string pin = "/sys/fs/bpf/vsteer-xdp-coexist-" + std::to_string(getpid());
	const std::string other_pin = pin + "-other";
	std::filesystem::create_directories(other_pin);
	struct Cleanup {
		std::string a, b;
		~Cleanup()
		{
			std::error_code ec;
			xdp_unpin(a);
			std::filesystem::remove_all(b, ec);
		}
	} cleanup{pin, other_pin};

	const int lo = static_cast<int>(if_nametoindex("lo"));
	LIBBPF_OPTS(bpf_object_open_opts, oo, .pin_root_path = other_pin.c_str());
	xdp_program *other = xdp_program__open_file(other_object().c_str(), "xdp", &oo);
	if (libxdp_get_error(other))
		return "FAIL open " + other_object();
	if (int err = xdp_program__attach(other, lo, XDP_MODE_SKB, 0))
		return std::string("FAIL attach xdp-filter: ") + std::strerror(-err);
	struct Detach {
		xdp_program *p;
		int ifindex;
		~Detach()
		{
			xdp_program__detach(p, ifindex, XDP_MODE_SKB, 0);
			xdp_program__close(p);
		}
	} detach{other, lo};

	XdpDeviceState st = xdp_device_state("lo");
	const char *need = std::getenv("VSTEER_XDP_REQUIRE_DISPATCHER");
	if (!st.dispatcher && need && std::strcmp(need, "1") == 0)
		return "FAIL libxdp could not use its dispatcher on this kernel (it needs freplace and, for "
		       "the "
		       "dispatcher's global functions, the kernel's BTF: CONFIG_DEBUG_INFO_BTF=y)";
	if (!st.dispatcher) {
		try {
			xdp_attach("lo", XdpMode::Generic, pin);
		} catch (const Error &e) {
			if (std::string(e.what()).find("without libxdp's dispatcher") != std::string::npos)
				return std::string("PASS no-dispatcher: the classifier refuses to replace ") +
				       xdp_program__name(other);
			return std::string("FAIL unexpected error: ") + e.what();
		}
		return "FAIL the classifier replaced a program that was not its own";
	}

	int stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	XdpAttachReport r = xdp_attach("lo", XdpMode::Generic, pin);
	XdpMaps maps = XdpMaps::open_pinned(pin);
	uint64_t other0 = run_cnt(xdp_program__fd(other)), ours0 = classified(maps);
	send_udp(20);
	uint64_t other1 = run_cnt(xdp_program__fd(other)), ours1 = classified(maps);
	XdpAttachReport r2 = xdp_attach("lo", std::nullopt, pin); // replacement inside the dispatcher
	send_udp(20);
	uint64_t other2 = run_cnt(xdp_program__fd(other)), ours2 = classified(maps);
	st = xdp_device_state("lo");
	xdp_detach("lo");
	XdpDeviceState after = xdp_device_state("lo");
	if (stats >= 0)
		close(stats);
	char msg[512];
	std::snprintf(
	    msg, sizeof(msg),
	    "dispatcher=%d/%d (%s) other runs %llu,%llu classifier packets %llu,%llu; after replace: "
	    "ours=%d others=%zu; after detach: ours=%d others=%zu",
	    r.dispatcher, r2.dispatcher, r2.how.c_str(), (unsigned long long)(other1 - other0),
	    (unsigned long long)(other2 - other1), (unsigned long long)(ours1 - ours0),
	    (unsigned long long)(ours2 - ours1), st.attached, st.other_programs.size(), after.attached,
	    after.other_programs.size());
	bool ok = r.dispatcher && r2.dispatcher && r2.how == "replaced in dispatcher" &&
	          ours1 - ours0 >= 20 && ours2 - ours1 >= 20 &&
	          (stats < 0 || (other1 - other0 >= 20 && other2 - other1 >= 20)) && st.attached &&
	          st.other_programs.size() == 1 && !after.attached && after.other_programs.size() == 1;
	return std::string(ok ? "PASS " : "FAIL ") + msg;
}

} // namespace

TEST_CASE("xdp coexistence: another libxdp program and the classifier on one device")
{
	if (!vsteer::test::require_privileges("XDP coexistence"))
		return;
	if (access(other_object().c_str(), R_OK)) {
		MESSAGE("SKIPPED: " << other_object() << " (xdp-tools' xdp-filter) is not installed");
		return;
	}
	int p[2];
	REQUIRE(pipe(p) == 0);
	pid_t pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		std::string v;
		try {
			v = coexist_child();
		} catch (const std::exception &e) {
			v = std::string("FAIL ") + e.what();
		}
		(void)!write(p[1], v.data(), v.size());
		_exit(0);
	}
	close(p[1]);
	std::string verdict;
	char buf[512];
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		verdict.append(buf, static_cast<size_t>(n));
	close(p[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	std::printf("VSTEER-XDP-COEXIST %s\n", verdict.c_str());
	INFO(verdict);
	CHECK(verdict.rfind("PASS", 0) == 0);
}
