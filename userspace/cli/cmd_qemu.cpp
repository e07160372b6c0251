// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// QEMU integration: run-qemu (hand QEMU its ebpf-rss-fds and exec it), qmp-attach (the same
// fds over QMP getfd, for hot-plug), qemu-object (load and pin QEMU's own RSS program), and
// check (is the guest's policy consistent with the tap, the process serving it and the XDP
// classifier on the host).
#include "commands.hpp"
#include "error.hpp"
#include "json.hpp"
#include "libbpf_log.hpp"
#include "qemu_check.hpp"
#include "qemu_cmdline.hpp"
#include "qemu_qmp.hpp"
#include "qemu_rss.hpp"
#include "steering_objects.hpp"
#include "tap_control.hpp"
#include "xdp_check.hpp"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

namespace vsteer::cli
{
namespace
{

using namespace vsteer::check;
using namespace vsteer::qemu;

// Runs argv (PATH lookup), returns exit status and stdout+stderr; -1 if it could not start.
std::pair<int, std::string> run_capture(const std::vector<std::string> &argv)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC))
		throw_errno("pipe", "create");
	pid_t pid = fork();
	if (pid < 0)
		throw_errno("fork", "start " + argv[0]);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		std::vector<char *> a;
		for (const auto &s : argv)
			a.push_back(const_cast<char *>(s.c_str()));
		a.push_back(nullptr);
		execvp(a[0], a.data());
		_exit(127);
	}
	close(pipefd[1]);
	std::string out;
	char buf[4096];
	ssize_t n;
	while ((n = read(pipefd[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			out.append(buf, static_cast<size_t>(n));
	close(pipefd[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	return {rc == 127 ? -1 : rc, out};
}

// How run-qemu asks QEMU something before exec (-version, -device help): behind the same
// wrapper as the user's command (setpriv, taskset, ...), so that a probe never runs with more
// privileges than QEMU itself will.
std::pair<int, std::string> probe_qemu(const std::vector<std::string> &wrapper, const std::string &qemu,
                                       std::initializer_list<std::string> args)
{
	std::vector<std::string> argv(wrapper);
	argv.push_back(qemu);
	argv.insert(argv.end(), args);
	return run_capture(argv);
}

QemuVersion require_qemu_version(const std::vector<std::string> &wrapper, const std::string &qemu)
{
	auto [rc, out] = probe_qemu(wrapper, qemu, {"-version"});
	if (rc < 0)
		throw Error(ENOENT,
		            "QEMU binary " + qemu + (wrapper.empty() ? "" : " (run by " + wrapper[0] + ")"),
		            "cannot be run",
		            "install qemu-system-x86 (9.0 or later, e.g. from bookworm-backports) or give "
		            "its full path");
	auto v = parse_qemu_version(out);
	if (rc != 0 || !v)
		throw Error(EINVAL, "QEMU binary " + qemu,
		            "`-version` did not print a QEMU version: " + out.substr(0, 200));
	if (*v < kMinEbpfRssFdsVersion)
		throw Error(ENOTSUP, "QEMU " + format_version(*v) + " (" + qemu + ")",
		            "is older than 9.0 and has no ebpf-rss-fds property", "use QEMU 9.0 or later");
	return *v;
}

// ---------------------------------------------------------------- run-qemu
struct RunQemuOptions {
	std::string tap, pin_dir, netdev;
	unsigned queues = 0;
	bool dry_run = false;
	std::vector<std::string> qemu_argv;
};

// Runs one step that reads the QEMU command line; its CmdlineError names the command line.
template <typename F> auto about_cmdline(F step)
{
	try {
		return step();
	} catch (const CmdlineError &e) {
		throw Error(0, "QEMU command line", e.what());
	}
}

unsigned netdev_queues(const std::vector<std::string> &argv, const RssTarget &t)
{
	for (const auto &o : scan_net_options(argv))
		if (o.index == t.netdev_index)
			if (const Json *q = json_member(o.value, "queues"))
				return netdev_queue_count(*q);
	return 1;
}

void run_qemu(const RunQemuOptions &o)
{
	const TapPins p = TapPins::of(o.tap, o.pin_dir);
	// A wrapper may come first (setpriv, taskset, ...): QEMU is the first word named
	// qemu-system-* / qemu-kvm; the wrapper must keep fds open across its own exec.
	size_t qpos = 0;
	for (size_t i = 0; i < o.qemu_argv.size(); i++) {
		std::string base = o.qemu_argv[i].substr(o.qemu_argv[i].rfind('/') + 1);
		if (base.rfind("qemu-system-", 0) == 0 || base == "qemu-kvm") {
			qpos = i;
			break;
		}
	}
	const std::vector<std::string> wrapper(o.qemu_argv.begin(),
	                                       o.qemu_argv.begin() + static_cast<long>(qpos));
	const std::vector<std::string> argv(o.qemu_argv.begin() + static_cast<long>(qpos), o.qemu_argv.end());
	TargetSelector sel{o.tap, o.netdev};

	// 1. Everything that can be checked without touching BPF: QEMU, the command line, the tap.
	QemuVersion version = require_qemu_version(wrapper, argv[0]);
	RssTarget target = about_cmdline([&] { return find_rss_target(argv, sel); });
	auto info = query_tap(o.tap);
	if (!info)
		throw Error(ENODEV, "tap " + o.tap, "no such device in this network namespace",
		            "create it first (`vsteer attach --tap " + o.tap +
		                " --create --queues N` or `ip tuntap add dev " + o.tap +
		                " mode tap multi_queue`), or run vsteer in the tap's namespace");
	if (!info->is_tap)
		throw Error(EINVAL, "device " + o.tap, "is a tun (layer 3) device",
		            "ebpf-rss-fds steers tap queues");
	unsigned queues = o.queues ? o.queues : about_cmdline([&] { return netdev_queues(argv, target); });
	if (queues > 1 && !info->multi_queue)
		throw Error(EINVAL, "tap " + o.tap,
		            "is not multiqueue but the netdev asks for " + std::to_string(queues) + " queues",
		            "recreate it with multi_queue (ip tuntap add dev " + o.tap +
		                " mode tap multi_queue)");

	PropertyTypes types;
	if (!target.device_json) {
		auto [rc, out] = probe_qemu(wrapper, argv[0], {"-device", target.driver + ",help"});
		if (rc == 0)
			types = parse_device_help(out);
	}

	// 2. The objects: the pinned ones, or fresh ones that are pinned only once QEMU is sure to
	// start. The lock is held until exec (its fd is close-on-exec).
	ensure_bpffs();
	LockedPinRoot locked = lock_pin_root(p, PinLock::Mode::exclusive, true);
	SteeringObjects::remove_stale_staging(locked.root);
	auto dir = locked.dir(p);
	const auto set = dir ? SteeringObjects::inspect(*dir) : SteeringObjects::PinSet::none;
	if (set == SteeringObjects::PinSet::partial)
		throw Error(EEXIST, p.path, "holds an incomplete set of vsteer pins",
		            "left by an interrupted command or made by hand: `" + p.command("detach") +
		                "` removes them");
	const bool reuse = set == SteeringObjects::PinSet::complete;
	SteeringObjects objs = reuse ? SteeringObjects::open_pinned(*dir, &p) : SteeringObjects::load();
	const bool upgrade = reuse && objs.program_stale(); // pins of another vsteer build
	if (upgrade)
		objs.load_current_program();
	EbpfRssFds orig{objs.prog_fd(), objs.config_fd(), objs.key_fd(), objs.table_fd()};
	validate_ebpf_rss_fds(orig);
	if (!reuse)
		objs.write_config(default_config(queues));

	// 3. Copies without FD_CLOEXEC, above stdio and above every fd the command line names.
	int base = std::max(10, about_cmdline([&] { return highest_fd_referenced(argv); }) + 1);
	EbpfRssFds fds{};
	std::vector<UniqueFd> keep;
	for (size_t i = 0; i < fds.size(); i++) {
		int d = fcntl(orig[i], F_DUPFD, base);
		if (d < 0)
			throw_errno("ebpf-rss-fds", "duplicate fd " + std::to_string(orig[i]));
		keep.emplace_back(d);
		fds[i] = d;
	}
	Rewrite r = about_cmdline([&] { return add_ebpf_rss_fds(argv, sel, fds, types); });
	r.argv.insert(r.argv.begin(), wrapper.begin(), wrapper.end());
	for (const auto &n : r.notes)
		std::fprintf(stderr, "vsteer run-qemu: note: %s\n", n.c_str());
	if (o.dry_run) {
		std::printf("%s\n", shell_join(r.argv).c_str());
		return;
	}
	if (!reuse)
		objs.pin(locked.root, p.name);
	else if (upgrade)
		objs.replace_pinned_program(*dir);
	std::fprintf(
	    stderr,
	    "vsteer run-qemu: QEMU %s, tap %s (%u queues), netdev %s, device %s, program id %u, pins %s%s, "
	    "ebpf-rss-fds %d,%d,%d,%d\n",
	    format_version(version).c_str(), o.tap.c_str(), queues, r.target.netdev_id.c_str(),
	    r.target.driver.c_str(), objs.prog_id(), p.path.c_str(),
	    upgrade ? " (reused, program replaced by this vsteer's)"
	    : reuse ? " (reused)"
		    : " (new)",
	    fds[0], fds[1], fds[2], fds[3]);
	if (libbpf_log::verbosity() >= 1)
		std::fprintf(stderr, "vsteer run-qemu: exec %s\n", shell_join(r.argv).c_str());
	std::fflush(nullptr);
	std::vector<char *> a;
	for (const auto &s : r.argv)
		a.push_back(const_cast<char *>(s.c_str()));
	a.push_back(nullptr);
	execvp(a[0], a.data());
	int err = errno;
	if (!reuse)
		SteeringObjects::unpin(locked.root, p.name);
	throw Error(err, "QEMU binary " + r.argv[0], "exec");
}

// ---------------------------------------------------------------- qmp-attach
struct QmpAttachOptions {
	std::string qmp, tap, pin_dir, prefix, netdev, driver = "virtio-net-pci", id;
	std::vector<std::string> props;
};

void qmp_attach(const QmpAttachOptions &o)
{
	const TapPins p = TapPins::of(o.tap, o.pin_dir);
	SteeringObjects objs = [&] {
		LockedPinRoot locked = lock_pin_root(p, PinLock::Mode::shared, false);
		return SteeringObjects::open_pinned(locked.require_dir(p), &p);
	}();
	const std::string &dir = p.path;
	EbpfRssFds fds{objs.prog_fd(), objs.config_fd(), objs.key_fd(), objs.table_fd()};
	validate_ebpf_rss_fds(fds);
	QmpClient qmp = QmpClient::connect(o.qmp);
	auto v = parse_qemu_version("version " + qmp.qemu_version());
	if (v && *v < kMinEbpfRssFdsVersion)
		throw Error(ENOTSUP, "QEMU " + qmp.qemu_version() + " at " + o.qmp,
		            "has no ebpf-rss-fds property", "use QEMU 9.0 or later");

	// Build the device first (property types from QEMU), so a bad property fails before any fd moves.
	Json device = Json::object();
	if (!o.netdev.empty()) {
		KeyValues kv{{"driver", o.driver}, {"netdev", o.netdev}};
		if (!o.id.empty())
			kv.emplace_back("id", o.id);
		for (const auto &p : o.props)
			for (auto &e : parse_keyval(p, ""))
				kv.push_back(std::move(e));
		PropertyTypes types =
		    qmp_property_types(qmp.execute("device-list-properties", {{"typename", o.driver}}));
		device = device_to_json(kv, types);
		if (!device.contains("rss"))
			device["rss"] = true;
	}

	const std::string prefix = o.prefix.empty() ? "vsteer-" + o.tap : o.prefix;
	const char *suffix[4] = {"prog", "config", "key", "table"};
	std::vector<std::string> names;
	try {
		for (size_t i = 0; i < 4; i++) {
			std::string name = prefix + "-" + suffix[i];
			qmp.execute("getfd", {{"fdname", name}}, fds[i]);
			names.push_back(name);
		}
		if (!o.netdev.empty()) {
			device["ebpf-rss-fds"] = names;
			qmp.execute("device_add", device);
		}
	} catch (...) {
		// Leave nothing half-passed: QEMU drops the named fds again.
		rethrow_after_undo("QEMU at " + o.qmp, [&] {
			std::string failed;
			for (const auto &n : names)
				try {
					qmp.execute("closefd", {{"fdname", n}});
				} catch (const std::exception &e) {
					failed += (failed.empty() ? "" : "; ") + std::string(e.what());
				}
			if (!failed.empty())
				throw Error(0, "QEMU at " + o.qmp,
				            "closefd of the passed fds failed: " + failed);
		});
	}
	if (!o.netdev.empty()) {
		std::printf("device_add %s: ok (program id %u, pins %s)\n", to_json_text(device).c_str(),
		            objs.prog_id(), dir.c_str());
		// QEMU keeps its own copies of the fds; the names are no longer needed once the device has
		// them.
		for (const auto &n : names)
			try {
				qmp.execute("closefd", {{"fdname", n}});
			} catch (...) {
			}
	} else {
		std::printf("passed 4 fds to QEMU at %s as %s-{prog,config,key,table} (program id %u)\n",
		            o.qmp.c_str(), prefix.c_str(), objs.prog_id());
		std::printf(
		    "hot-plug with: {\"execute\":\"device_add\",\"arguments\":{\"driver\":\"virtio-net-pci\","
		    "\"netdev\":\"NETDEV\",\"mq\":true,\"rss\":true,\"ebpf-rss-fds\":[\"%s\",\"%s\",\"%s\","
		    "\"%s\"]}}\n",
		    names[0].c_str(), names[1].c_str(), names[2].c_str(), names[3].c_str());
	}
}

// ---------------------------------------------------------------- qemu-object
struct QemuObjectOptions {
	std::string qmp, tap, pin_dir, save;
	unsigned queues = 0;
};

void qemu_object(const QemuObjectOptions &o)
{
	const TapPins p = TapPins::of(o.tap, o.pin_dir);
	ensure_bpffs();
	LockedPinRoot locked = lock_pin_root(p, PinLock::Mode::exclusive, true);
	SteeringObjects::remove_stale_staging(locked.root);
	if (auto dir = locked.dir(p); dir && SteeringObjects::inspect(*dir) != SteeringObjects::PinSet::none)
		throw Error(EEXIST, p.path, "already holds pinned steering objects",
		            "`" + p.command("detach") + "` first, or choose another --pin-dir");
	QmpClient qmp = QmpClient::connect(o.qmp);
	Json ret;
	try {
		ret = qmp.execute("request-ebpf", {{"id", "rss"}});
	} catch (const QmpError &e) {
		throw Error(ENOTSUP, "QEMU at " + o.qmp, e.what(),
		            "request-ebpf needs QEMU 9.0+ built with eBPF RSS");
	}
	const Json *b64 = json_member(ret, "object");
	if (!b64 || !b64->is_string())
		throw Error(EPROTO, "QEMU at " + o.qmp,
		            "request-ebpf returned no object: " + to_json_text(ret).substr(0, 200));
	std::vector<uint8_t> elf = base64_decode(b64->get<std::string>());
	if (!o.save.empty()) {
		std::ofstream f(o.save, std::ios::binary);
		f.write(reinterpret_cast<const char *>(elf.data()), static_cast<std::streamsize>(elf.size()));
		if (!f)
			throw_errno(o.save, "write the object");
	}
	// vsteer's own objects give the complete pin set; QEMU's program then shares their
	// config, key and table maps and takes the place of vsteer's program in the pins.
	SteeringObjects objs = SteeringObjects::load();
	QemuProgram prog = load_qemu_rss_program(elf, objs.config_fd(), objs.key_fd(), objs.table_fd());
	const uint32_t prog_id = prog.id;
	unsigned queues = o.queues;
	if (!queues)
		if (auto info = query_tap(o.tap); info && info->queues)
			queues = info->queues;
	objs.write_config(default_config(queues ? queues : 1));
	objs.use_program(std::move(prog.prog), VSTEER_PROG_QEMU, bpf_object_version(elf.data(), elf.size()));
	objs.pin(locked.root, p.name);
	const std::string &dir = p.path;
	std::printf("pinned QEMU %s's RSS program '%s' (id %u, %zu-byte object) with vsteer's maps in %s\n",
	            qmp.qemu_version().c_str(), prog.name.c_str(), prog_id, elf.size(), dir.c_str());
	std::printf("QEMU's program keeps no counters: the stats in `vsteer show` stay 0 with it\n");
}

// ---------------------------------------------------------------- check
struct CheckOptions {
	std::string tap, pin_dir, xdp_pin_dir;
	bool json = false;
};

uint32_t map_id(int fd)
{
	bpf_map_info info{};
	__u32 len = sizeof(info);
	return bpf_map_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

void run_check(const CheckOptions &o)
{
	const TapPins p = TapPins::of(o.tap, o.pin_dir);
	const std::string &dir = p.path;
	const std::string xdp_dir = o.xdp_pin_dir.empty() ? default_xdp_pin_dir() : o.xdp_pin_dir;
	CheckInput in;
	in.tap = o.tap;
	in.pin_dir = dir;
	in.info = query_tap(o.tap);
	std::unique_ptr<SteeringObjects> objs;
	if (!SteeringObjects::is_pinned(dir)) {
		in.pin_problem = "no complete pin set in " + dir + " (`" + p.command("attach") +
		                 "` or vsteer run-qemu create it)";
	} else {
		try {
			LockedPinRoot locked = lock_pin_root(p, PinLock::Mode::shared, false);
			objs = std::make_unique<SteeringObjects>(
			    SteeringObjects::open_pinned(locked.require_dir(p), &p));
			validate_ebpf_rss_fds(
			    {objs->prog_fd(), objs->config_fd(), objs->key_fd(), objs->table_fd()});
			in.config = objs->read_config();
			vsteer_rss_config raw{};
			uint32_t zero = 0;
			if (bpf_map_lookup_elem(objs->config_fd(), &zero, &raw))
				throw_errno(dir + "/config", "lookup");
			in.raw_table_len = raw.indirections_len;
			in.prog_id = objs->prog_id();
			in.config_map_id = map_id(objs->config_fd());
			in.key_map_id = map_id(objs->key_fd());
			in.table_map_id = map_id(objs->table_fd());
		} catch (const std::exception &e) {
			in.config.reset();
			in.pin_problem = e.what();
		}
	}
	in.holders = find_tap_holders(o.tap);
	in.holders_known = true;
	auto findings = check_consistency(in);
	auto host = check_xdp(in, read_xdp_state(o.tap, xdp_dir));
	findings.insert(findings.end(), host.begin(), host.end());
	bool ok = consistent(findings);
	if (o.json) {
		Json checks = Json::array();
		for (const auto &f : findings)
			checks.push_back(
			    {{"name", f.name}, {"status", status_name(f.status)}, {"detail", f.detail}});
		Json j = {{"tap", o.tap},
		          {"pin_dir", dir},
		          {"xdp_pin_dir", xdp_dir},
		          {"consistent", ok},
		          {"checks", checks}};
		std::cout << to_json_text(j) << "\n";
	} else {
		std::printf("vsteer check %s (pins %s)\n", o.tap.c_str(), dir.c_str());
		for (const auto &f : findings)
			std::printf("  %-4s %-18s %s\n", status_name(f.status), f.name.c_str(),
			            f.detail.c_str());
	}
	std::fflush(stdout);
	if (!ok) {
		std::string names;
		for (const auto &f : findings)
			if (f.status == Status::fail)
				names += (names.empty() ? "" : ", ") + f.name;
		throw Error(0, "tap " + o.tap, "inconsistent: " + names);
	}
}

} // namespace

void register_qemu_commands(CLI::App &app)
{
	auto r = std::make_shared<RunQemuOptions>();
	auto *run = app.add_subcommand(
	    "run-qemu", "Load (or reuse) the pinned steering objects, hand them to QEMU as "
			"ebpf-rss-fds and exec QEMU: vsteer run-qemu --tap NAME -- qemu-system-x86_64 ...");
	run->add_option("--tap", r->tap, "tap device whose -netdev gets the steering objects")->required();
	run->add_option("--pin-dir", r->pin_dir,
	                "bpffs directory of the pins (default /sys/fs/bpf/vsteer/TAP)");
	run->add_option("--netdev", r->netdev,
	                "pick the -netdev by id instead of ifname= (taps passed as fd=)");
	run->add_option("--queues", r->queues,
	                "queues for a fresh default configuration (default: the netdev's queues=)");
	run->add_flag("--dry-run", r->dry_run, "print the rewritten QEMU command line instead of running it");
	run->add_option("qemu", r->qemu_argv, "QEMU and its arguments, after --")->required();
	run->callback([r] { run_qemu(*r); });

	auto q = std::make_shared<QmpAttachOptions>();
	auto *qa =
	    app.add_subcommand("qmp-attach", "Pass the tap's four steering fds to a running QEMU over QMP "
	                                     "(getfd); with --netdev also hot-plug the virtio-net device");
	qa->add_option("--qmp", q->qmp, "QEMU's QMP unix socket")->required();
	qa->add_option("--tap", q->tap, "tap device whose pinned objects are passed")->required();
	qa->add_option("--pin-dir", q->pin_dir,
	               "bpffs directory of the pins (default /sys/fs/bpf/vsteer/TAP)");
	qa->add_option("--fdname", q->prefix, "prefix of the fd names (default vsteer-TAP)");
	qa->add_option("--netdev", q->netdev, "device_add a virtio-net device on this netdev id");
	qa->add_option("--driver", q->driver, "driver for --netdev (default virtio-net-pci)");
	qa->add_option("--id", q->id, "id of the hot-plugged device");
	qa->add_option("--set", q->props,
	               "extra device properties key=value,... (e.g. mq=on,mac=52:54:00:12:34:57)");
	qa->callback([q] { qmp_attach(*q); });

	auto ob = std::make_shared<QemuObjectOptions>();
	auto *qo =
	    app.add_subcommand("qemu-object", "Load QEMU's own RSS program (QMP request-ebpf) and pin it in "
	                                      "vsteer's layout, for run-qemu, show, check and bpftool");
	qo->add_option("--qmp", ob->qmp, "QEMU's QMP unix socket")->required();
	qo->add_option("--tap", ob->tap, "tap whose pin directory receives the objects")->required();
	qo->add_option("--pin-dir", ob->pin_dir,
	               "bpffs directory of the pins (default /sys/fs/bpf/vsteer/TAP)");
	qo->add_option("--queues", ob->queues, "queues of the default configuration (default: the tap's)");
	qo->add_option("--save", ob->save, "also write the ELF object to this file");
	qo->callback([ob] { qemu_object(*ob); });

	auto c = std::make_shared<CheckOptions>();
	auto *ck = app.add_subcommand(
	    "check", "Consistency of the guest's RSS policy (pinned maps) with the tap, the process "
		     "serving it and the host's XDP classifier (VMs on the tap); exits non-zero naming "
		     "each inconsistency");
	ck->add_option("--tap", c->tap, "tap device")->required();
	ck->add_option("--pin-dir", c->pin_dir,
	               "bpffs directory of the pins (default /sys/fs/bpf/vsteer/TAP)");
	ck->add_option("--xdp-pin-dir", c->xdp_pin_dir,
	               "bpffs directory of the XDP classifier's maps (default $VSTEER_XDP_PIN_DIR "
	               "or " VSTEER_XDP_PIN_ROOT ")");
	ck->add_flag("--json", c->json, "machine-readable output");
	ck->callback([c] { run_check(*c); });
}

} // namespace vsteer::cli
