#!/usr/bin/env bash
# Controller benchmark against the local control plane and the simulated Flink: create N
# FlinkDeployments and time until all run; change each spec once and time until all are upgraded;
# then watch a steady period. Reports convergence times, API requests per object per transition
# (the controller's own metrics), writes in steady state, resident memory, the controller's CPU
# time, and the reaction latency from a spec change to the controller's first write for it.
# usage: bench/controller/run.sh [N] [STEADY_SECONDS]      (--smoke: N=10, 10 s; fails on errors only)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
N=${1:-100}; STEADY=${2:-120}
[ "${1:-}" = "--smoke" ] && N=10 && STEADY=10
export FO_CLUSTER_DIR=$(mktemp -d /tmp/fo-bench-ctl-XXXXXX)
source "$ROOT/tests/e2e/lib.sh"
trap cluster_down EXIT
cluster_up >/dev/null 2>&1
flinksim_start --checkpoint-interval 0 --start-delay 0.5 --savepoint-delay 0.5
controller_start bench --leader-elect=false --workers 4 --flink-url-template "http://127.0.0.1:$FLINKSIM_PORT/{namespace}/{name}"
port=$CTL_PORT_bench
pid=$(cat "$FO_CLUSTER_DIR/pids/controller-bench")
ns=bench
kubectl create namespace $ns >/dev/null
metric() { curl -s "http://127.0.0.1:$port/metrics" | python3 -c "import sys; print(sum(float(l.split()[-1]) for l in sys.stdin if l.startswith('$1')))"; }
cpu_s() { python3 -c "import os; f=open('/proc/$pid/stat').read().split(')')[1].split(); print((int(f[11])+int(f[12]))/os.sysconf('SC_CLK_TCK'))"; }
rss_mb() { awk '/VmRSS/{printf "%.1f", $2/1024}' "/proc/$pid/status"; }
count_state() { kubectl -n $ns get flinkdep -o jsonpath='{range .items[*]}{.status.lifecycleState}/{.status.jobStatus.state}{"\n"}{end}' | grep -c "^STABLE/RUNNING$"; }
manifests() { for i in $(seq 1 "$N"); do printf 'apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: job-%s, namespace: %s}\nspec:\n  image: flink:1.20\n  flinkVersion: v1_20\n  flinkConfiguration: {state.checkpoints.dir: "file:///cp", state.savepoints.dir: "file:///sp"}\n  job: {jarURI: "local:///opt/flink/examples/streaming/StateMachineExample.jar", parallelism: %s, upgradeMode: %s}\n---\n' "$i" "$ns" 2 "$1"; done; }
now() { python3 -c 'import time; print(time.time())'; }
errors=0

req0=$(metric flink_operator_api_requests_total); cpu0=$(cpu_s); t0=$(now)
manifests stateless | kubectl apply -f - >/dev/null
until [ "$(count_state)" = "$N" ]; do sleep 0.5; if python3 -c "import sys; sys.exit(0 if $(now) - $t0 > 600 else 1)"; then errors=1; break; fi; done
t1=$(now); req1=$(metric flink_operator_api_requests_total); cpu1=$(cpu_s)
echo "create $N: all RUNNING in $(python3 -c "print(f'{$t1-$t0:.1f}')") s; API requests/object: $(python3 -c "print(f'{($req1-$req0)/$N:.1f}')"); controller CPU $(python3 -c "print(f'{$cpu1-$cpu0:.2f}')") s; RSS $(rss_mb) MB"

starts0=$(grep -c job-started "$FLINKSIM_STATE")
t2=$(now)
for i in $(seq 1 "$N"); do kubectl -n $ns patch flinkdep "job-$i" --type merge -p '{"spec":{"job":{"parallelism":3}}}' >/dev/null & 
  [ $((i % 20)) = 0 ] && wait; done; wait
until [ "$(grep -c job-started "$FLINKSIM_STATE")" -ge $((starts0 + N)) ] && [ "$(count_state)" = "$N" ]; do sleep 0.5; if python3 -c "import sys; sys.exit(0 if $(now) - $t2 > 600 else 1)"; then errors=1; break; fi; done
t3=$(now); req2=$(metric flink_operator_api_requests_total); cpu2=$(cpu_s)
echo "upgrade $N (stateless): all upgraded in $(python3 -c "print(f'{$t3-$t2:.1f}')") s; API requests/object: $(python3 -c "print(f'{($req2-$req1)/$N:.1f}')"); controller CPU $(python3 -c "print(f'{$cpu2-$cpu1:.2f}')") s"

# reaction latency: a spec change on an idle queue -> the controller's first write for that object
lat=()
for i in 1 2 3 4 5 6 7 8 9 10; do
  before=$(grep -c '"write".*"job-1"' "$FO_CLUSTER_DIR/logs/controller-bench.log")
  ts=$(now)
  kubectl -n $ns patch flinkdep job-1 --type merge -p "{\"spec\":{\"job\":{\"savepointTriggerNonce\":$i}}}" >/dev/null
  for _ in $(seq 1 200); do [ "$(grep -c '"write".*"job-1"' "$FO_CLUSTER_DIR/logs/controller-bench.log")" -gt "$before" ] && break; sleep 0.01; done
  first=$(grep '"write".*"job-1"' "$FO_CLUSTER_DIR/logs/controller-bench.log" | sed -n "$((before + 1))p" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["unixMs"])')
  lat+=("$(python3 -c "print(int($first - $ts*1000))")")
  sleep 1.5
done
echo "reaction (spec change -> first write, ms, includes kubectl): $(printf '%s\n' "${lat[@]}" | sort -n | python3 -c 'import sys; d=[int(x) for x in sys.stdin]; print(f"p50 {d[len(d)//2]}, max {d[-1]}")')"

sleep 5
w0=$(metric flink_operator_writes_total); r0=$(metric flink_operator_api_requests_total); c0=$(cpu_s)
sleep "$STEADY"
w1=$(metric flink_operator_writes_total); r1=$(metric flink_operator_api_requests_total); c1=$(cpu_s)
echo "steady $STEADY s with $N jobs: writes $(python3 -c "print(int($w1-$w0))"); API requests $(python3 -c "print(int($r1-$r0))") (job observation polls every 5 s); controller CPU $(python3 -c "print(f'{$c1-$c0:.2f}')") s; RSS $(rss_mb) MB"
[ "$(python3 -c "print(int($w1-$w0))")" = 0 ] || { echo "bench: the controller wrote in steady state"; errors=1; }
echo "errors: $errors"
[ "$errors" = 0 ]
