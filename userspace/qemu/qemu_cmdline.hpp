// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// QEMU command-line handling for `vsteer run-qemu`: find the tap netdev and the virtio-net
// device that uses it, and add the four `ebpf-rss-fds` to that device.
//
// QEMU 9.0+ accepts `ebpf-rss-fds` only in the JSON form of -device, with the fd numbers as
// strings: -device '{"driver":"virtio-net-pci","netdev":"n0","rss":true,
// "ebpf-rss-fds":["30","31","32","33"]}'. A key=value -device is converted to that form;
// the property types (bool, integers, strings) come from `qemu -device DRIVER,help` because
// the JSON form is strictly typed ("mq":"on" is refused there).
//
// Everything here is pure (no processes, no fds) so that it can be unit-tested; the CLI
// (cmd_qemu.cpp) runs QEMU for -version / -device help and execs the result.
#pragma once

#include "error.hpp"
#include "json.hpp"

#include <array>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vsteer::qemu
{

// The command line cannot be rewritten as asked; what() says what to change.
class CmdlineError : public ConfigError
{
public:
	using ConfigError::ConfigError;
};

struct QemuVersion {
	int major = 0, minor = 0, micro = 0;
	auto operator<=>(const QemuVersion &) const = default;
};
inline constexpr QemuVersion kMinEbpfRssFdsVersion{9, 0, 0};

// Parses the first line of `qemu-system-x86_64 -version`: "QEMU emulator version 10.0.2 (...)".
std::optional<QemuVersion> parse_qemu_version(std::string_view version_output);
std::string format_version(const QemuVersion &v);

// Property name -> type as `-device DRIVER,help` prints it ("mq" -> "bool", "vectors" -> "uint32").
using PropertyTypes = std::map<std::string, std::string, std::less<>>;
PropertyTypes parse_device_help(std::string_view help_output);
// The same from QMP's device-list-properties reply ([{"name": ..., "type": ...}, ...]).
PropertyTypes qmp_property_types(const Json &reply);

// QemuOpts "key=value,key=value" with ",," for a literal comma; `implied_key` names the
// first element when it has no '=' ("driver" for -device, "type" for -netdev). A bare "flag"
// means flag=on and "no-flag" flag=off, as in QEMU.
using KeyValues = std::vector<std::pair<std::string, std::string>>;
KeyValues parse_keyval(std::string_view text, std::string_view implied_key);
std::string format_keyval(const KeyValues &kv);

// A key=value -device as a JSON object with typed values. `types` may be empty (QEMU's help
// was not available): then on/off/yes/no/true/false become booleans and plain decimal
// numbers integers, except for the properties known to be strings (addr, id, mac, ...).
Json device_to_json(const KeyValues &kv, const PropertyTypes &types);

// One -netdev / -nic / -net / -device occurrence on the command line.
struct NetOption {
	size_t index = 0;   // index of the option's value in argv
	std::string option; // "netdev", "nic", "net", "device"
	bool json = false;  // the value is a JSON object
	Json value;         // the value as an object (key=value forms converted to strings)
};

// Where the ebpf-rss-fds go.
struct RssTarget {
	size_t netdev_index = 0; // argv index of the -netdev value
	size_t device_index = 0; // argv index of the -device value
	std::string netdev_id;
	std::string driver;
	bool device_json = false; // -device is already JSON
	bool has_rss = false;     // the device sets rss=on itself
};

// How the netdev is chosen: by the tap's name (ifname=) or, for fd-passed taps that have no
// ifname (libvirt style), by the netdev id.
struct TargetSelector {
	std::string tap;       // match -netdev tap,...,ifname=TAP
	std::string netdev_id; // if set: match -netdev ...,id=ID instead
};

std::vector<NetOption> scan_net_options(const std::vector<std::string> &argv);

// A -netdev's queues= value (a JSON number or the key=value text); throws CmdlineError when
// it is not a queue count QEMU takes (1..1024).
unsigned netdev_queue_count(const Json &queues);

// Finds the one tap netdev and the one virtio-net device on it. Throws CmdlineError when
// the netdev or the device is missing or ambiguous, when the tap is given with -nic / -net,
// when the device is not virtio-net, already has ebpf-rss-fds, or sets rss=off.
RssTarget find_rss_target(const std::vector<std::string> &argv, const TargetSelector &sel);

// The four fd numbers, in QEMU's order: program, config, toeplitz key, indirection table.
using EbpfRssFds = std::array<int, 4>;

struct Rewrite {
	std::vector<std::string> argv;
	RssTarget target;
	std::string device;             // the new -device value
	std::vector<std::string> notes; // what was changed besides ebpf-rss-fds
};

// Returns argv with the target device replaced by a JSON -device carrying ebpf-rss-fds (and
// "rss":true when the device did not say). `types` types a key=value device (see above).
Rewrite add_ebpf_rss_fds(const std::vector<std::string> &argv, const TargetSelector &sel,
                         const EbpfRssFds &fds, const PropertyTypes &types);

// The highest fd number the command line names (fd=, fds=, vhostfd(s)=, -add-fd), or -1.
// The fds vsteer hands over are placed above it so that they collide with none of them.
int highest_fd_referenced(const std::vector<std::string> &argv);

// Shell-quoted command line for messages and --dry-run.
std::string shell_join(const std::vector<std::string> &argv);

} // namespace vsteer::qemu
