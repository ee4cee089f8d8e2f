#!/usr/bin/env bash
# Runs the system on this machine. For now: builds the project and checks the examples with the
# offline dry-run (`flink-webhook validate`), exactly as the admission webhook would judge them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
make -C build -j"$(nproc)" --no-print-directory >/dev/null
build/webhook/flink-webhook validate examples/*.yaml || true
