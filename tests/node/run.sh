#!/usr/bin/env bash
# End-to-end tests on a real node (scripts/node/node.sh): the operator image built here and
# imported, the Helm chart installed with helm, its pods run by kubelet and containerd. The node
# is brought up once for the whole suite and stopped on exit (failed tests, Ctrl-C included);
# stopping it checks that the host is as it was before.
# usage: tests/node/run.sh [TEST...]   (default: every tests/node/test_*.sh, in name order)
# Needs root (sudo is used when not root), and scripts/install-deps.sh --node.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then   # the node and the checks inside it need root
  command -v sudo >/dev/null || { echo "tests/node/run.sh: root is needed, and there is no sudo" >&2; exit 1; }
  bash "$ROOT/tests/e2e/kube-build.sh" >&2 && bash "$ROOT/scripts/image/build.sh" pause >/dev/null || exit 1
  exec sudo env PATH="$PATH" FO_CACHE="${FO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flink-operator}" \
    ${FO_NODE_DIR:+FO_NODE_DIR="$FO_NODE_DIR"} FO_NODE_PREPARED=1 bash "$0" "$@"
fi
NODE_TESTS=$ROOT/tests/node
export FO_NODE_DIR=${FO_NODE_DIR:-/tmp/flink-operator-node}
NODE_SH=$ROOT/scripts/node/node.sh
PY=/usr/bin/python3   # Debian's, with python3-yaml

passed=0; failed=0
ok() { passed=$((passed + 1)); printf '  ok   %s\n' "$1"; }
ko() { failed=$((failed + 1)); printf '  FAIL %s\n' "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/         /' | head -20; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else ko "$1" "want: $2"$'\n'"got:  $3"; fi; }
nlog() { printf '[node-e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# Polls a command until it succeeds (up to $1 seconds).
wait_for() {
  local end=$(( $(date +%s) + $1 )); shift
  while [ "$(date +%s)" -le "$end" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
secs() { local ms=$1; printf '%d.%02d' $((ms / 1000)) $((ms % 1000 / 10)); }   # ms -> seconds text
node_exec() { bash "$NODE_SH" exec "$@"; }

down() {
  [ -n "${FO_KEEP_NODE:-}" ] && return 0
  local out
  if out=$(bash "$NODE_SH" down 2>&1); then ok "node: down stopped everything and left the host as it was"
  else ko "node: down stopped everything and left the host as it was" "$out"; fi
  left=$(pgrep -f "$FO_NODE_DIR/" | tr '\n' ' ')
  check "node: no process of the node is left" "" "$left"
  echo "figures: image build ${IMAGE_BUILD_S:-?} s, Flink images ${FLINK_IMAGE_S:-?} s, node up ${NODE_UP_S:-?} s, pod start ${POD_START_S:-?} s," \
    "helm install --wait ${HELM_INSTALL_S:-?} s, takeover after a leader's pod deleted ${TAKEOVER_GRACEFUL_S:-?} s," \
    "after a leader froze ${TAKEOVER_EXPIRY_S:-?} s, helm upgrade ${HELM_UPGRADE_S:-?} s with kubectl loop ${UPGRADE_KUBECTL:-?}" \
    "and load ${UPGRADE_LOAD:-?}; real Flink, deploy / upgrade: savepoint ${FLINK_DEPLOY_savepoint_S:-?} / ${FLINK_UPGRADE_savepoint_S:-?} s, last-state ${FLINK_DEPLOY_last_state_S:-?} / ${FLINK_UPGRADE_last_state_S:-?} s, stateless ${FLINK_DEPLOY_stateless_S:-?} / ${FLINK_UPGRADE_stateless_S:-?} s," \
    "standalone: savepoint ${FLINK_DEPLOY_standalone_S:-?} / ${FLINK_UPGRADE_standalone_S:-?} s, last-state ${FLINK_DEPLOY_standalone_ls_S:-?} / ${FLINK_UPGRADE_standalone_ls_S:-?} s, stateless ${FLINK_DEPLOY_standalone_sl_S:-?} / ${FLINK_UPGRADE_standalone_sl_S:-?} s," \
    "Flink 2: last-state ${FLINK_DEPLOY_flink2_S:-?} / ${FLINK_UPGRADE_flink2_S:-?} s, savepoint ${FLINK_DEPLOY_flink2_sp_S:-?} / ${FLINK_UPGRADE_flink2_sp_S:-?} s"
  echo "node e2e: $passed passed, $failed failed ($(( $(date +%s) - NODE_RUN_T0 ))s)"
}
# the status is decided before anything of down() runs (a fault there cannot turn a failed run
# green); a run that stopped before its end (a test's unbound variable, say: set -u ends the
# shell) fails too; the start time has a name no test uses
trap 'run_st=$?; run_rc=0; [ "$failed" -eq 0 ] && [ "$run_st" -eq 0 ] || run_rc=1
      [ "$run_st" -eq 0 ] || ko "node: the run stopped before its end (status $run_st)"; down; exit $run_rc' EXIT
trap 'exit 130' INT TERM
readonly NODE_RUN_T0=$(date +%s)

# ---- images and the node ----
nlog "building the operator image (the Dockerfile's build, without an engine)"
t=$(now_ms)
IMAGE_TAR=$(bash "$ROOT/scripts/image/build.sh" operator --tag docker.io/library/flink-operator:0.1.0-next) || { echo "image build failed" >&2; exit 1; }
IMAGE_BUILD_S=$(secs $(( $(now_ms) - t )))
nlog "building the Flink images (Flink from PyPI and Maven Central, Debian's Java)"
t=$(now_ms)
FLINK_VERSION=${FO_FLINK_VERSION:-1.20.3}
FLINK2_VERSION=${FO_FLINK2_VERSION:-2.2.1}
FLINK_TAR=$(bash "$ROOT/scripts/image/build.sh" flink "$FLINK_VERSION") || { echo "Flink image build failed" >&2; exit 1; }
FLINK2_TAR=$(bash "$ROOT/scripts/image/build.sh" flink "$FLINK2_VERSION") || { echo "Flink 2 image build failed" >&2; exit 1; }
FLINK_IMAGE_S=$(secs $(( $(now_ms) - t )))
nlog "bringing up the node"
t=$(now_ms)
if ! env_lines=$(FO_NODE_IMAGES="$IMAGE_TAR $FLINK_TAR $FLINK2_TAR" bash "$NODE_SH" up); then echo "node up failed" >&2; exit 1; fi
NODE_UP_S=$(secs $(( $(now_ms) - t )))
eval "$env_lines"
export KUBECONFIG PATH
SERVER_URL=$(kubectl config view -o jsonpath='{.clusters[0].cluster.server}')
nlog "node up in $NODE_UP_S s; image built in $IMAGE_BUILD_S s"

tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=("$NODE_TESTS"/test_*.sh)
for t in "${tests[@]}"; do
  nlog "$(basename "$t")"
  source "$t"
done
# the run's status is the checks' (the EXIT trap's), not the last test's last command
exit 0
