#!/usr/bin/env bash
# Runs the whole system on this machine: a local control plane (etcd + kube-apiserver +
# kube-controller-manager 1.20.2 on loopback), the FlinkDeployment CRD, the admission webhook
# registered with it, the controller (with the restricted identity the chart grants), and the
# simulated Flink runtime that plays the pods and the JobManagers. Prints the KUBECONFIG to use and stays in the foreground until Ctrl-C, then
# stops everything it started.
# The first run builds kube-apiserver from Debian's source package (about 6 minutes, cached).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
cd "$ROOT"
echo "[run-local] building the project"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
make -C build -j"$(nproc)" --no-print-directory >/dev/null
source "$ROOT/tests/e2e/lib.sh"
trap cluster_down EXIT
trap 'echo; echo "[run-local] stopping"; exit 0' INT TERM
cluster_up
webhook_start
webhook_register
flinksim_start
controller_start local --leader-elect=false --flink-url-template "http://127.0.0.1:$FLINKSIM_PORT/{namespace}/{name}"
cat <<MSG

The system is running. In another shell:

  export KUBECONFIG=$KUBECONFIG
  export PATH=$(dirname "$(command -v kubectl)"):\$PATH
  kubectl apply -f examples/savepoint.yaml          # admitted, defaults filled in, deployed
  kubectl get flinkdep                              # JOB STATUS RUNNING, LIFECYCLE STATE STABLE
  kubectl patch flinkdep savepoint-example --type merge -p '{"spec":{"job":{"parallelism":3}}}'
                                                    # upgrade: stop with a savepoint, restore from it
  kubectl apply -f examples/seed-last-state.yaml    # denied with the rulebook's message

The simulated Flink's record of every job start, checkpoint and savepoint: $FLINKSIM_STATE
Logs: $FO_CLUSTER_DIR/logs (webhook.log, controller-local.log, flinksim.log, kube-apiserver.log).
Ctrl-C stops everything.
MSG
while true; do
  sleep 5 &
  wait $! || true
  if ! kill -0 "$(cat "$FO_CLUSTER_DIR/pids/kube-apiserver")" 2>/dev/null; then echo "[run-local] kube-apiserver exited" >&2; exit 1; fi
  if ! kill -0 "$(cat "$FO_CLUSTER_DIR/pids/webhook")" 2>/dev/null; then echo "[run-local] webhook exited; restarting" >&2; webhook_start; fi
  if ! kill -0 "$(cat "$FO_CLUSTER_DIR/pids/controller-local")" 2>/dev/null; then echo "[run-local] controller exited; see $FO_CLUSTER_DIR/logs/controller-local.log" >&2; exit 1; fi
done
