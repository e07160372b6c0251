// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include "check_model.hpp"

#include <algorithm>

namespace vsteer::check
{

const char *status_name(Status s)
{
	switch (s) {
	case Status::ok:
		return "ok";
	case Status::warn:
		return "warn";
	case Status::fail:
		return "fail";
	case Status::skip:
		return "skip";
	}
	return "?";
}

bool consistent(const std::vector<Finding> &f)
{
	return std::none_of(f.begin(), f.end(), [](const Finding &x) { return x.status == Status::fail; });
}

} // namespace vsteer::check
