// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// The classifier's prefilter (xdp_filter, struct vsteer_xdp_filter in xdp_abi.h): built from
// the rules, MACs and prefixes in the maps, so that the classifier skips every map call a
// frame cannot match (docs/xdp.md, "Prefilter").
#pragma once

#include "xdp_objects.hpp"

namespace vsteer
{

// Rebuilds the prefilter from xdp_rules, xdp_macs and xdp_prefix4/6 as they are now and
// writes it in one update. Call it after every change of those maps: after adding an
// entry (until then the entry may be skipped, as if it were added later) and after
// removing one (until then the filter only costs a lookup).
void xdp_filter_rebuild(XdpMaps &m);

} // namespace vsteer
