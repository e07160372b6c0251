// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "steering_pins.hpp"
#include "error.hpp"
#include "qemu_rss.hpp"
#include "pin_dir.hpp"
#include "steering_objects.hpp"


namespace vsteer::libvirt
{

// Both functions hold the pin root's lock (the one every vsteer command takes), so the
// service, the hook and an operator's `vsteer` never see each other's half-made pins.
PinnedSteering ensure_steering_pins(const std::string &tap, unsigned queues)
{
	const TapPins pins = TapPins::of(tap, "");
	ensure_bpffs();
	LockedPinRoot locked = lock_pin_root(pins, PinLock::Mode::exclusive, true);
	if (auto dir = locked.dir(pins)) {
		if (SteeringObjects::inspect(*dir) != SteeringObjects::PinSet::complete)
			throw Error(EEXIST, pins.path, "exists but is not a complete vsteer pin set",
			            "remove it (`vsteer detach --tap " + tap + "`) and start the domain again");
		PinnedSteering p{SteeringObjects::open_pinned(*dir, &pins), false};
		qemu::validate_ebpf_rss_fds(
		    {p.objects.prog_fd(), p.objects.config_fd(), p.objects.key_fd(), p.objects.table_fd()});
		return p;
	}
	PinnedSteering p{SteeringObjects::load(), true};
	p.objects.write_config(default_config(queues ? queues : 1));
	p.objects.pin(locked.root, pins.name);
	return p;
}

bool remove_steering_pins(const std::string &tap)
{
	const TapPins pins = TapPins::of(tap, "");
	auto root = PinDir::open_if_exists(pins.root);
	if (!root)
		return false;
	PinLock lock(*root, PinLock::Mode::exclusive);
	return SteeringObjects::unpin(*root, pins.name);
}

} // namespace vsteer::libvirt
