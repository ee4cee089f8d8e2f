#!/usr/bin/env bash
# Runs the whole system on this machine: a local control plane (etcd + kube-apiserver +
# kube-controller-manager 1.20.2 on loopback), the FlinkDeployment CRD, and the admission webhook
# registered with it. Prints the KUBECONFIG to use and stays in the foreground until Ctrl-C, then
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
cat <<MSG

The system is running. In another shell:

  export KUBECONFIG=$KUBECONFIG
  export PATH=$(dirname "$(command -v kubectl)"):\$PATH
  kubectl apply -f examples/savepoint.yaml          # admitted, defaults filled in
  kubectl apply -f examples/seed-last-state.yaml    # denied with the rulebook's message
  kubectl get flinkdep

Logs: $FO_CLUSTER_DIR/logs (webhook.log, kube-apiserver.log). Ctrl-C stops everything.
MSG
while true; do
  sleep 5 &
  wait $! || true
  if ! kill -0 "$(cat "$FO_CLUSTER_DIR/pids/kube-apiserver")" 2>/dev/null; then echo "[run-local] kube-apiserver exited" >&2; exit 1; fi
  if ! kill -0 "$(cat "$FO_CLUSTER_DIR/pids/webhook")" 2>/dev/null; then echo "[run-local] webhook exited; restarting" >&2; webhook_start; fi
done
