#!/usr/bin/env bash
# A real Kubernetes control plane on loopback: etcd, kube-apiserver and kube-controller-manager
# v1.20.2 (garbage collector and namespace controllers), built once by kube-build.sh.
#
#   tests/e2e/cluster.sh up     start (free ports), write kubeconfigs, print how to use them
#   tests/e2e/cluster.sh down   stop every process it started (by PID) and remove the state
#   tests/e2e/cluster.sh env    print the export lines for the running cluster
#   tests/e2e/cluster.sh restart-apiserver | compact   (fault injection for tests)
#
# State lives in $FO_CLUSTER_DIR (default /tmp/flink-operator-cluster). Identities:
#   kubeconfig             admin (system:masters)
#   controller.kubeconfig  the controller as the chart's ServiceAccount (namespace flink-operator),
#                          bound by the chart's own RBAC (helm template) and nothing else
#   fo-e2e-*.kubeconfig    the webhook and controller ServiceAccounts of release fo-e2e (chart test)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CACHE=${FO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flink-operator}
BIN=$CACHE/kube-1.20.2/bin
DIR=${FO_CLUSTER_DIR:-/tmp/flink-operator-cluster}
OP_NS=flink-operator   # the operator's namespace (its Lease lives here)

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

stop_pids() {
  [ -d "$DIR/pids" ] || return 0
  for f in "$DIR"/pids/*; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; fi
  done
  for f in "$DIR"/pids/*; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
}

print_env() {
  echo "export KUBECONFIG=$DIR/kubeconfig"
  echo "export PATH=$BIN:\$PATH"
}

cmd_down() {
  stop_pids
  rm -rf "$DIR"
  log "stopped"
}

wait_ready() {
  local url=$1 token=$2
  for _ in $(seq 1 600); do
    if curl -sk -H "Authorization: Bearer $token" "$url/readyz" 2>/dev/null | grep -q '^ok$'; then return 0; fi
    sleep 0.1
  done
  log "kube-apiserver did not become ready; last log lines:"
  tail -20 "$DIR/logs/kube-apiserver.log" >&2
  return 1
}

kubeconfig() { # file user token server [namespace]
  cat > "$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: $4
    certificate-authority: $DIR/pki/apiserver.crt
contexts:
- name: $2@local
  context:
    cluster: local
    user: $2
    namespace: ${5:-default}
current-context: $2@local
users:
- name: $2
  user:
    token: $3
KC
}

cmd_up() {
  bash "$here/kube-build.sh" >&2
  command -v etcd >/dev/null || { echo "etcd missing: run scripts/install-deps.sh --e2e" >&2; exit 1; }
  if [ -f "$DIR/kubeconfig" ] && [ -f "$DIR/pids/kube-apiserver" ] && kill -0 "$(cat "$DIR/pids/kube-apiserver")" 2>/dev/null; then
    log "already running"
    print_env
    return 0
  fi
  stop_pids
  rm -rf "$DIR"
  mkdir -p "$DIR"/{pids,logs,pki,etcd}
  local etcd_port etcd_peer api_port admin_token ctl_token ctl_token2 e2e_wh_token e2e_ctl_token
  etcd_port=$(free_port); etcd_peer=$(free_port); api_port=$(free_port)
  token() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
  admin_token=$(token); ctl_token=$(token); ctl_token2=$(token); e2e_wh_token=$(token); e2e_ctl_token=$(token)
  # Service-account identities through the static token file (the local control plane runs no
  # token controller): the controller as the chart's ServiceAccount, a second name bound to the
  # same role (a test rotates the token file and tells them apart in the audit log), and the
  # webhook and controller of the release the chart test installs.
  local sa="system:serviceaccount" groups="system:serviceaccounts"
  {
    printf '%s,admin,1,"system:masters"\n' "$admin_token"
    printf '%s,%s:%s:%s,2,"%s,%s:%s"\n' "$ctl_token" $sa "$OP_NS" flink-operator-controller $groups $groups "$OP_NS"
    printf '%s,%s:%s:%s,3,"%s,%s:%s"\n' "$ctl_token2" $sa "$OP_NS" flink-operator-controller-2 $groups $groups "$OP_NS"
    printf '%s,%s:%s:%s,4,"%s,%s:%s"\n' "$e2e_wh_token" $sa fo-e2e fo-e2e-flink-operator-webhook $groups $groups fo-e2e
    printf '%s,%s:%s:%s,5,"%s,%s:%s"\n' "$e2e_ctl_token" $sa fo-e2e fo-e2e-flink-operator-controller $groups $groups fo-e2e
  } > "$DIR/pki/tokens.csv"
  echo "$ctl_token2" > "$DIR/controller.token2"
  chmod 600 "$DIR/pki/tokens.csv"
  openssl genrsa -out "$DIR/pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$DIR/pki/sa.key" -pubout -out "$DIR/pki/sa.pub" 2>/dev/null
  # A serving certificate for the API server with a subjectAltName for 127.0.0.1.
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$DIR/pki/apiserver.key" -out "$DIR/pki/apiserver.crt" 2>/dev/null

  log "etcd on 127.0.0.1:$etcd_port"
  etcd --data-dir "$DIR/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$etcd_peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" --initial-cluster "default=http://127.0.0.1:$etcd_peer" \
    > "$DIR/logs/etcd.log" 2>&1 &
  echo $! > "$DIR/pids/etcd"
  echo "$etcd_port" > "$DIR/etcd-port"

  log "kube-apiserver on https://127.0.0.1:$api_port"
  cat > "$DIR/apiserver.sh" <<CMD
exec "$BIN/kube-apiserver" --etcd-servers "http://127.0.0.1:$etcd_port" \
    --service-account-key-file "$DIR/pki/sa.pub" --service-account-signing-key-file "$DIR/pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --token-auth-file "$DIR/pki/tokens.csv" \
    --authorization-mode RBAC --secure-port "$api_port" --insecure-port 0 --bind-address 127.0.0.1 \
    --advertise-address 127.0.0.1 --cert-dir "$DIR/pki" --tls-cert-file "$DIR/pki/apiserver.crt" \
    --tls-private-key-file "$DIR/pki/apiserver.key" --service-cluster-ip-range 10.96.0.0/12 \
    --enable-admission-plugins NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
    --audit-log-path "$DIR/logs/audit.log" --audit-policy-file "$here/audit-policy.yaml"
CMD
  bash "$DIR/apiserver.sh" >> "$DIR/logs/kube-apiserver.log" 2>&1 &
  echo $! > "$DIR/pids/kube-apiserver"
  echo "$api_port" > "$DIR/api-port"
  local server="https://127.0.0.1:$api_port"
  kubeconfig "$DIR/kubeconfig" admin "$admin_token" "$server"
  kubeconfig "$DIR/controller.kubeconfig" flink-operator-controller "$ctl_token" "$server" "$OP_NS"
  kubeconfig "$DIR/fo-e2e-webhook.kubeconfig" fo-e2e-webhook "$e2e_wh_token" "$server" fo-e2e
  kubeconfig "$DIR/fo-e2e-controller.kubeconfig" fo-e2e-controller "$e2e_ctl_token" "$server" fo-e2e
  echo "$ctl_token" > "$DIR/controller.token"
  chmod 600 "$DIR"/*.kubeconfig "$DIR/kubeconfig" "$DIR/controller.token"
  wait_ready "$server" "$admin_token"

  log "kube-controller-manager (garbagecollector, namespace, serviceaccount, resourcequota)"
  "$BIN/kube-controller-manager" --controllers=garbagecollector,namespace,serviceaccount,resourcequota --leader-elect=false \
    --kubeconfig "$DIR/kubeconfig" --secure-port=0 --port=0 > "$DIR/logs/kube-controller-manager.log" 2>&1 &
  echo $! > "$DIR/pids/kube-controller-manager"

  # The controller's identity: exactly the chart's ServiceAccount and RBAC (rendered by helm for
  # release flink-operator), and the second token's name bound to the same roles.
  local k=("$BIN/kubectl" --kubeconfig "$DIR/kubeconfig")
  "${k[@]}" apply -f "$root/charts/flink-operator/crds/" >/dev/null
  "${k[@]}" create namespace "$OP_NS" >/dev/null
  "$BIN/helm" template flink-operator "$root/charts/flink-operator" --namespace "$OP_NS" \
    --show-only templates/serviceaccounts.yaml --show-only templates/rbac-controller.yaml \
    --show-only templates/rbac-jobs.yaml | "${k[@]}" apply -f - >/dev/null
  "${k[@]}" create clusterrolebinding flink-operator-controller-2 --clusterrole flink-operator-controller \
    --user "system:serviceaccount:$OP_NS:flink-operator-controller-2" >/dev/null
  "${k[@]}" -n "$OP_NS" create rolebinding flink-operator-controller-2-lease --role flink-operator-controller-lease \
    --user "system:serviceaccount:$OP_NS:flink-operator-controller-2" >/dev/null
  "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" wait --for condition=established --timeout=60s \
    crd/flinkdeployments.flink.apache.org >/dev/null
  log "ready: admin kubeconfig $DIR/kubeconfig, controller kubeconfig $DIR/controller.kubeconfig"
  print_env
}

# Restarts kube-apiserver with the same flags (tests of watch continuity). SIGKILL: a graceful
# stop would keep serving open watches for minutes after closing its listener.
cmd_restart_apiserver() {
  local pid; pid=$(cat "$DIR/pids/kube-apiserver")
  kill -9 "$pid"; for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  bash "$DIR/apiserver.sh" >> "$DIR/logs/kube-apiserver.log" 2>&1 &
  echo $! > "$DIR/pids/kube-apiserver"
  wait_ready "https://127.0.0.1:$(cat "$DIR/api-port")" "$(awk -F, 'NR==1{print $1}' "$DIR/pki/tokens.csv")"
  log "kube-apiserver restarted"
}

# Compacts etcd at its current revision: the next watch from an older resourceVersion gets 410.
cmd_compact() {
  local port rev; port=$(cat "$DIR/etcd-port")
  rev=$(curl -s -X POST "http://127.0.0.1:$port/v3/kv/range" -d '{"key":"AA=="}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
  curl -s -X POST "http://127.0.0.1:$port/v3/kv/compaction" -d "{\"revision\": $rev, \"physical\": true}" >/dev/null
  log "etcd compacted at revision $rev"
}

case ${1:-} in
  up) cmd_up ;;
  restart-apiserver) cmd_restart_apiserver ;;
  compact) cmd_compact ;;
  down) cmd_down ;;
  env) print_env ;;
  *) echo "usage: $0 up|down|env|restart-apiserver|compact" >&2; exit 2 ;;
esac
