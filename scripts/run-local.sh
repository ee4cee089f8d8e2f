#!/usr/bin/env bash
# Runs the whole system on this machine and stays in the foreground until Ctrl-C, then stops
# everything it started.
#
#   scripts/run-local.sh              a real node (scripts/node/node.sh: kubelet, containerd, CNI,
#                                     kube-proxy, cluster DNS), the operator image and a Flink image
#                                     built here and imported, the Helm chart installed with helm
#                                     (release flink-operator in namespace default, as the reference
#                                     operator's quickstart does), ready for kubectl apply
#   scripts/run-local.sh --simulated  no node: the loopback control plane, the webhook and the
#                                     controller run as local processes, and the simulated Flink
#                                     plays the JobManagers (the whole job lifecycle, without pods)
#
# The first run builds the Kubernetes programs from Debian's source package (about 6 minutes,
# cached) and the image's Debian base (about 40 s, cached). Needs root for the node (sudo is used
# when not root).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
mode=node
case ${1:-} in
  "") ;;
  --simulated) mode=simulated ;;
  *) echo "usage: $0 [--simulated]" >&2; exit 2 ;;
esac

if [ $mode = simulated ]; then
  BUILD=$ROOT/build
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

The system is running (simulated Flink, no node). In another shell:

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
fi

NODE_SH=$ROOT/scripts/node/node.sh
t0=$(date +%s)
bash tests/e2e/kube-build.sh
echo "[run-local] building the operator image"
image=$(bash scripts/image/build.sh operator)
echo "[run-local] building the Flink image (Flink ${FO_FLINK_VERSION:-1.20.3} from PyPI and Maven Central)"
flink_image=$(bash scripts/image/build.sh flink "${FO_FLINK_VERSION:-1.20.3}")
stopping() { echo; echo "[run-local] stopping"; bash "$NODE_SH" down; }
trap stopping EXIT
trap 'exit 0' INT TERM
eval "$(FO_NODE_IMAGES="$image $flink_image" bash "$NODE_SH" up)"
export KUBECONFIG PATH
data=${FO_NODE_DIR:-/tmp/flink-operator-node}/flink-data   # the Flink pods' shared folder (examples/local-node.yaml)
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO mkdir -p "$data/savepoints" "$data/checkpoints" "$data/ha" && $SUDO chmod -R 1777 "$data"
echo "[run-local] helm install flink-operator charts/flink-operator --namespace default --wait"
helm install flink-operator charts/flink-operator --namespace default --wait --timeout 180s >/dev/null
kubectl get pods -o wide 2>/dev/null
cat <<MSG

The operator runs on a real node, with real Flink ($(( $(date +%s) - t0 )) s). In another shell:

  export KUBECONFIG=$KUBECONFIG
  export PATH=$(dirname "$(command -v kubectl)"):\$PATH
  kubectl apply -f examples/seed-last-state.yaml    # denied by the webhook with the rulebook's message
  kubectl apply -f examples/local-node.yaml         # admitted; Flink's JobManager starts, then its TaskManager
  kubectl get flinkdep                              # JOB STATUS RUNNING, LIFECYCLE STATE STABLE (about a minute)
  kubectl patch flinkdep local-example --type merge -p '{"spec":{"job":{"parallelism":2}}}'
                                                    # upgrade: stop with a savepoint, restore from it
  kubectl get flinkdep local-example -o jsonpath='{.status.jobStatus.savepointInfo.lastSavepoint.location}'
  ls $data/savepoints                               # the savepoint, on the pods' shared folder
  kubectl logs deploy/local-example                 # Flink's JobManager
  kubectl logs deploy/flink-operator-controller     # the controller (one JSON line per event)
  kubectl delete flinkdep local-example             # everything it owned goes

The node has 2 cores: Flink pods ask for the CPU their spec says, so keep jobManager and
taskManager at 0.5 CPU each (the documentation's examples ask for 1, and their TaskManager would
wait for CPU). Images other than flink:1.20 and the operator's cannot be pulled here.
Node state and logs: ${FO_NODE_DIR:-/tmp/flink-operator-node} (logs/kubelet.log, logs/containerd.log, ...).
Ctrl-C stops everything.
MSG
while bash "$NODE_SH" status >/dev/null; do
  sleep 5 &
  wait $! || true
done
echo "[run-local] the node stopped" >&2
exit 1
