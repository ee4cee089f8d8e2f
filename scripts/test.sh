#!/usr/bin/env bash
# Runs every test of the project. usage: scripts/test.sh [STAGE...]
# Stages (all by default, in this order):
#   lint      static analysis: cppcheck and clang-tidy, any finding fails (scripts/lint.sh)
#   build     the -Werror build, then the unit, data-driven and CLI tests (CTest); then the
#             operator image the way the Dockerfile builds it (Release), so that build cannot break
#   asan      the same tests built with AddressSanitizer + UndefinedBehaviorSanitizer
#   fuzz      each libFuzzer target for FO_FUZZ_SECONDS (default 20) seconds
#   valgrind  the daemons' integration tests under valgrind (leaks and invalid accesses fail)
#   e2e       end to end against a local control plane (kube-apiserver 1.20.2, kubectl, helm)
#   node      end to end on a real node (kubelet, containerd): the image, the chart installed by helm
#   chaos     the fault campaign, FO_CHAOS_TRIALS (default 10) trials from seed FO_CHAOS_SEED (default 1)
#   bench     the benchmarks' short form (fails on errors, never on timing)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(lint build asan fuzz valgrind e2e node chaos bench)

banner() { printf '\n=== %s ===\n' "$*"; }
# Builds a configured tree; on failure shows the compiler's messages and stops.
make_quiet() {
  if ! make -C "$1" -j"$jobs" --no-print-directory > "$1/make.log" 2>&1; then
    grep -v '^\[' "$1/make.log" | tail -60; echo "build failed ($1)"; exit 1
  fi
}

times=()
trap 'printf "\nstage times:%s\n" "${times[*]:+ ${times[*]}}"' EXIT
for stage in "${stages[@]}"; do
  t_stage=$(date +%s)
  case $stage in
    lint)
      banner "static analysis"
      bash scripts/lint.sh
      ;;
    build)
      banner "build + tests"
      cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
      make_quiet build
      (cd build && ctest --output-on-failure -L unit)
      banner "operator image (the Dockerfile's Release build, without an engine)"
      bash scripts/image/build.sh operator >/dev/null
      ;;
    asan)
      banner "tests under ASan+UBSan"
      cmake -S . -B build-asan -DFO_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
      make_quiet build-asan
      (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --output-on-failure -L unit)
      ;;
    fuzz)
      banner "fuzzing"
      bash tests/fuzz/run.sh "${FO_FUZZ_SECONDS:-20}"
      ;;
    valgrind)
      banner "valgrind"
      (cd build && ctest --output-on-failure -L valgrind)
      bash tests/e2e/run.sh tests/e2e/valgrind_controller.sh tests/e2e/valgrind_webhook_certs.sh
      ;;
    e2e)
      banner "end to end"
      if [ -x tests/e2e/run.sh ]; then bash tests/e2e/run.sh; else echo "no e2e tests yet"; fi
      ;;
    node)
      banner "end to end on a real node"
      bash tests/node/run.sh
      ;;
    chaos)
      banner "fault campaign"
      bash tests/chaos/run.sh "${FO_CHAOS_SEED:-1}" "${FO_CHAOS_TRIALS:-10}"
      ;;
    bench)
      banner "benchmarks (short form)"
      bash bench/webhook/run.sh --smoke
      bash bench/controller/run.sh --smoke
      ;;
    *) echo "unknown stage: $stage" >&2; exit 2 ;;
  esac
  times+=("$stage $(( $(date +%s) - t_stage ))s")
done
