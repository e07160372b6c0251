#!/usr/bin/env bash
# Builds the libFuzzer harnesses (fuzz/, clang-19) into $BUILD_DIR/fuzz and runs each for
# $FUZZ_SECONDS seconds from its seed corpus (fuzz/corpus/NAME, read only: new inputs go to
# $BUILD_DIR/fuzz/corpus/NAME). Prints executions and time per harness; exits non-zero on a
# finding, whose input is kept in $BUILD_DIR/fuzz/findings/.
#   --check: print why the harnesses cannot be built here and exit 1, or exit 0.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_DIR:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
out=$build/fuzz
seconds=${FUZZ_SECONDS:-20}
cxx=clang++-19
cc=clang-19

configure() {
	cmake -S "$root/fuzz" -B "$out" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" \
		-DCMAKE_BUILD_TYPE=Debug >"$out.configure.log" 2>&1
}

if [ "${1:-}" = --check ]; then
	command -v "$cxx" >/dev/null || { echo "$cxx not found (scripts/install-deps.sh)"; exit 1; }
	mkdir -p "$build"
	configure || { echo "$(grep -m1 -A2 'CMake Error' "$out.configure.log" | tr '\n' ' ')"; exit 1; }
	exit 0
fi

mkdir -p "$build"
configure || { cat "$out.configure.log" >&2; exit 1; }
cmake --build "$out" -j"${JOBS:-2}" >/dev/null

mkdir -p "$out/findings"
failed=0
total_start=$(date +%s)
printf '%-28s %10s %8s %s\n' harness executions seconds result
for exe in "$out"/fuzz_*; do
	[ -x "$exe" ] || continue
	name=$(basename "$exe")
	seeds=$root/fuzz/corpus/${name#fuzz_}
	work=$out/corpus/${name#fuzz_}
	mkdir -p "$work"
	log=$out/$name.log
	start=$(date +%s)
	rc=0
	"$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$out/findings/$name-" "$work" "$seeds" >"$log" 2>&1 || rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	result=ok
	if [ "$rc" -ne 0 ]; then
		result="FINDING (exit $rc): $(grep -m1 -E 'ERROR|invariant broken|runtime error|uncaught' "$log" || true)"
		failed=1
	fi
	printf '%-28s %10s %8s %s\n' "$name" "${runs:-?}" "$(($(date +%s) - start))" "$result"
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$log" >&2
	fi
done
echo "fuzz: total $(($(date +%s) - total_start)) s; logs in $out/*.log"
exit $failed
