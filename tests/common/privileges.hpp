// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
// Privileged suites call require_privileges(): without root they skip on a developer's
// machine but FAIL under CI=true, so a CI run can never pass by skipping them.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>

namespace vsteer::test
{

inline bool in_ci()
{
	const char *ci = std::getenv("CI");
	return ci && std::strcmp(ci, "true") == 0;
}

// Returns true if the test may go on. Under CI a missing privilege is a failure.
inline bool require_privileges(const char *what)
{
	if (geteuid() == 0)
		return true;
	std::string msg = std::string(what) + " needs root (CAP_NET_ADMIN, CAP_BPF, CAP_SYS_ADMIN)";
	if (in_ci())
		FAIL(msg);
	else
		MESSAGE("SKIPPED: " << msg);
	return false;
}

// Returns `met`. An unmet precondition (`what` says which) skips the case on a developer's
// machine and fails it under CI, like a missing privilege.
inline bool require_condition(bool met, const std::string &what)
{
	if (met)
		return true;
	if (in_ci())
		FAIL(what);
	else
		MESSAGE("SKIPPED: " << what);
	return false;
}

} // namespace vsteer::test
