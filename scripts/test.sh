#!/usr/bin/env bash
# The whole test suite, as CI runs it:
#   1. unit tests (cmocka) and integration tests (real server + real clients) on the
#      normal build;
#   2. the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#      (build-asan/), failing on any report;
#   3. every libFuzzer target for a bounded time (build-fuzz/).
# Exits non-zero when anything fails. SKIP_SANITIZE=1 / SKIP_FUZZ=1 skip steps 2 / 3.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc)

echo "== build and test (build/)"
scripts/build.sh
(cd build && ctest --output-on-failure -j1)

if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/)"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DDUCKSPACE_SANITIZE=ON >/dev/null
  cmake --build build-asan -j"$jobs"
  # libduckdb.so is not instrumented; its one-time allocations are not leaks of ours.
  export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=86:detect_odr_violation=0"
  export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87"
  (cd build-asan && ctest --output-on-failure -j1)
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  echo "== fuzz targets (build-fuzz/)"
  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DDUCKSPACE_FUZZ=ON -DFUZZ_SECONDS="${FUZZ_SECONDS:-20}" >/dev/null
  cmake --build build-fuzz -j"$jobs"
  (cd build-fuzz && ctest --output-on-failure -j1)
fi
echo "== all tests passed"
