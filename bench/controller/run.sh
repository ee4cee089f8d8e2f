#!/usr/bin/env bash
# Controller benchmark against the local control plane and the simulated Flink (bench.py says
# what is measured). usage: bench/controller/run.sh [N] [STEADY_SECONDS]   (default 100, 120)
#                           bench/controller/run.sh --smoke               (N=10, 10 s; fails on errors only)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
N=${1:-100}; STEADY=${2:-120}
[ "${1:-}" = "--smoke" ] && N=10 && STEADY=10
export FO_CLUSTER_DIR=$(mktemp -d /tmp/fo-bench-ctl-XXXXXX)
source "$ROOT/tests/e2e/lib.sh"
# FO_BENCH_LOGS=DIR keeps the logs (controller, simulator, API server audit) for a closer look
trap '[ -n "${FO_BENCH_LOGS:-}" ] && mkdir -p "$FO_BENCH_LOGS" && cp -r "$FO_CLUSTER_DIR/logs" "$FO_CLUSTER_DIR/flinksim" "$FO_BENCH_LOGS/"; cluster_down' EXIT
cluster_up >/dev/null 2>&1 || { echo "bench: the local control plane did not start" >&2; exit 1; }
flinksim_start --checkpoint-interval 0 --start-delay 0.5 --savepoint-delay 0.5 --record-requests --no-taskmanager-pods
controller_start bench --leader-elect=false --workers 4 \
  --flink-url-template "http://127.0.0.1:$FLINKSIM_PORT/{namespace}/{name}" || exit 1
python3 "$ROOT/bench/controller/bench.py" "$FO_CLUSTER_DIR" "$CTL_PORT_bench" \
  "$(cat "$FO_CLUSTER_DIR/pids/controller-bench")" "$FLINKSIM_STATE" "$N" "$STEADY"
