#!/usr/bin/env bash
# Sanitizer stage of scripts/test.sh:
#  asan  the whole test suite (unit, parser tables, real captures, the CLI tests and the root
#        network tests, which run that tree's own egressguard binary; not the load and soak tests)
#        built by clang with ASan+UBSan in build-fuzz/ (the tree of the fuzz targets) and run there;
#  tsan  the concurrent parts built with ThreadSanitizer (-DEGRESSGUARD_TSAN=ON) in build-tsan/:
#        list reload under lookups (domains_test), PolicyStore swaps (inspect_test), DNS proxy
#        workers (dnsproxy_test), asynchronous event sinks (events_test) and NFQUEUE workers
#        (nfqueue_test).
# Usage: scripts/sanitize.sh [asan|tsan|all] (default all). Any sanitizer report fails the run.
# Environment: TSAN_TESTS overrides the ctest -R filter of the TSan stage.
set -euo pipefail
cd "$(dirname "$0")/.."
stage=${1:-all}
jobs=$(nproc)
supp=$PWD/tests/sanitize
# Sanitizer builds: -O1 and line tables only (-g1) build about a third faster than -O2 -g and
# still give symbolised stack traces; the speed of the code under test does not matter here.
flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
  "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG")

# Reports stop the process with a non-zero exit, so ctest marks the test failed. Leak checking
# is on (LeakSanitizer); UBSan findings are fatal (-fno-sanitize-recover in CMakeLists.txt).
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$supp/lsan.supp:print_suppressions=0}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$supp/tsan.supp}

# The test executables of the TSan stage; ctest only knows the tests of executables that were
# built, so the filter below just drops the "<target>_NOT_BUILT" placeholders of the executables
# this stage does not build, the network tests and the script tests (deploy_*: they run the
# egressguard binary, which this stage does not build).
# (This list was once filtered with `ninja -t targets | grep -q`: under pipefail, grep -q exiting
# early sent ninja SIGPIPE, and a target that existed could be dropped at random.)
tsan_targets=(domains_test inspect_test dnsproxy_test events_test nfqueue_test)

timed() {
  local what=$1
  shift
  local start=$SECONDS
  "$@"
  echo "sanitize: $what took $((SECONDS - start))s"
}

run_asan() {
  # One clang tree for the ASan+UBSan test run and the fuzz targets (scripts/fuzz.sh reuses it):
  # the same instrumented libraries serve both, so CI compiles them once.
  echo "== sanitize: ASan+UBSan build (build-fuzz: tests and fuzz targets, clang)"
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja "${flags[@]}" -DEGRESSGUARD_FUZZ=ON \
    -DEGRESSGUARD_SANITIZE=ON -DEGRESSGUARD_FUZZ_WITH_TESTS=ON >/dev/null
  timed "ASan build" ninja -C build-fuzz -j"$jobs"
  echo "== sanitize: ctest under ASan+UBSan"
  # The load and soak tests measure rates and RSS against a saturation point: under ASan they
  # prove nothing the plain run does not, and take minutes; every other test runs here.
  timed "ASan ctest" bash -c "cd build-fuzz && ctest --output-on-failure -j$jobs --timeout 900 \
    -E '${ASAN_EXCLUDE:-^net_(overload_|faults_reload_100|dnsproxy_reload_load)}'"
}

run_tsan() {
  echo "== sanitize: TSan build (build-tsan: ${tsan_targets[*]})"
  cmake -S . -B build-tsan -G Ninja "${flags[@]}" -DEGRESSGUARD_TSAN=ON \
    -DEGRESSGUARD_BUILD_BENCH=OFF >/dev/null
  timed "TSan build" ninja -C build-tsan -j"$jobs" "${tsan_targets[@]}"
  echo "== sanitize: ctest under TSan"
  # TSan needs a low-entropy address space (vm.mmap_rnd_bits <= 28 for g++ 12's runtime);
  # setarch -R turns address randomisation off for the test processes where the kernel uses more.
  local setarch=()
  if [ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 28)" -gt 28 ]; then
    setarch=(setarch "$(uname -m)" -R)
  fi
  timed "TSan ctest" "${setarch[@]}" bash -c "cd build-tsan && ctest --output-on-failure -j$jobs \
    --timeout 900 ${TSAN_TESTS:+-R '$TSAN_TESTS'} -E '_NOT_BUILT\$|^net_|^deploy_'"
}

case $stage in
  asan) run_asan ;;
  tsan) run_tsan ;;
  all)
    run_asan
    run_tsan
    ;;
  *)
    echo "usage: scripts/sanitize.sh [asan|tsan|all]" >&2
    exit 2
    ;;
esac
