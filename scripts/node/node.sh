#!/usr/bin/env bash
# A real single-node Kubernetes 1.20.2 cluster on this machine: etcd, kube-apiserver,
# kube-controller-manager (its default controllers), kube-scheduler, containerd + runc + the CNI
# bridge, kubelet, kube-proxy, and cluster DNS (dnsmasq fed by dns-sync.py), with images
# imported from docker-archives instead of pulled.
#
#   scripts/node/node.sh up                 start (the first run builds; see kube-build.sh)
#   scripts/node/node.sh down               stop every process it started, by PID; remove its state
#   scripts/node/node.sh env                the export lines for kubectl and helm
#   scripts/node/node.sh status             whether it runs, and its state folder
#   scripts/node/node.sh import FILE...     import docker-archives into the node's containerd
#   scripts/node/node.sh exec CMD...        run a command inside the node (its network and mounts)
#   scripts/node/node.sh check-host         compare the host with what it was before `up`
#   scripts/node/node.sh restart-apiserver  stop the API server and start it again (a fault for the tests)
#
# It never changes the host. Everything runs in a network namespace and a mount namespace of its
# own, both bound to files in $FO_NODE_DIR (default /tmp/flink-operator-node):
#   - network: a bridge for the pods (10.244.0.0/24, its gateway 10.244.0.1 is the node IP; the
#     Services' range is routed to it, so `node.sh exec curl <ClusterIP>` reaches a Service),
#     forwarding and kube-proxy's iptables rules live in that namespace only; the host reaches
#     it through one veth pair (host 10.244.255.1, node 10.244.255.2): the API server is
#     https://10.244.255.2:6443. Deleting the namespace removes every link, route and rule.
#   - mounts: /run and /var/lib are private folders there (containerd's and kubelet's hard-coded
#     paths), /var/log too (pod logs), and the kernel settings kubelet and kube-proxy write
#     (vm.overcommit_memory, kernel.panic, kernel.panic_on_oops, kernel.keys.*) are copies
#     bind-mounted over the real ones. Container mounts stay in that namespace.
#   - cgroups: the pods' cgroups live under /fo-node in each controller, removed on `down`.
# One node per machine (the cgroup folder is fixed); a second `up` while one runs says so.
# Root is needed (sudo is used when not root). Timings of each step are printed.
set -euo pipefail
# the system programs used here live in sbin, which a user's PATH often lacks
export PATH=$PATH:/usr/local/sbin:/usr/sbin:/sbin
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${FO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flink-operator}
BIN=$CACHE/kube-1.20.2/bin
DIR=${FO_NODE_DIR:-/tmp/flink-operator-node}
NODE=fo-node
CGROUP=fo-node
HOST_IP=10.244.255.1 LINK_IP=10.244.255.2 NODE_IP=10.244.0.1 POD_CIDR=10.244.0.0/24
SVC_CIDR=10.96.0.0/12 KUBE_SVC_IP=10.96.0.1 API_PORT=6443
HOST_LINK=fo-host0 NODE_LINK=fo-node0 BRIDGE=fo-br0
SERVER=https://$LINK_IP:$API_PORT
SYSCTLS=(vm/overcommit_memory kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys kernel/keys/root_maxbytes)
NSX=(nsenter "--mount=$DIR/ns/mnt" "--net=$DIR/ns/net" --)

T0=$(date +%s%N)
since() { local t=$(( ($(date +%s%N) - $1) / 100000000 )); echo "$((t / 10)).$((t % 10))"; }   # seconds since $1 (ns)
log() { printf '[node %s +%ss] %s\n' "$(date +%H:%M:%S)" "$(since "$T0")" "$*" >&2; }
die() { printf 'node: %s\n' "$*" >&2; exit 1; }

case $DIR in
  /run/*|/var/lib/*|/var/log/*) die "FO_NODE_DIR must not be under /run, /var/lib or /var/log (private inside the node)" ;;
esac

# (by /proc, not kill -0: a user may look at the node root started)
running() { local f=$DIR/pids/kube-apiserver; [ -f "$f" ] && [ -d "/proc/$(cat "$f")" ]; }

print_env() {
  echo "export KUBECONFIG=$DIR/kubeconfig"
  echo "export PATH=$BIN:\$PATH"
}

# ---- processes ----

# Starts a program inside the node's namespaces in the background; its PID in pids/NAME.
start() { # name program args...
  local name=$1; shift
  setsid "${NSX[@]}" "$@" >> "$DIR/logs/$name.log" 2>&1 < /dev/null &
  echo $! > "$DIR/pids/$name"
}

start_apiserver() {
  start kube-apiserver "$BIN/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --bind-address 0.0.0.0 --advertise-address "$NODE_IP" --secure-port "$API_PORT" --insecure-port 0 \
    --cert-dir "$DIR/pki" --tls-cert-file "$DIR/pki/apiserver.crt" --tls-private-key-file "$DIR/pki/apiserver.key" \
    --client-ca-file "$DIR/pki/ca.crt" --token-auth-file "$DIR/pki/tokens.csv" \
    --service-account-key-file "$DIR/pki/sa.pub" --service-account-signing-key-file "$DIR/pki/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --service-cluster-ip-range "$SVC_CIDR" \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins NodeRestriction,NamespaceLifecycle,ServiceAccount,MutatingAdmissionWebhook,ValidatingAdmissionWebhook \
    --kubelet-client-certificate "$DIR/pki/apiserver-kubelet-client.crt" --kubelet-client-key "$DIR/pki/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP --enable-aggregator-routing=true \
    --audit-log-path "$DIR/logs/audit.log" --audit-policy-file "$ROOT/tests/e2e/audit-policy.yaml"
}

# The API server stopped (SIGTERM, waited for) and started again as it was: a fault for the tests.
cmd_restart_apiserver() {
  local pid; pid=$(cat "$DIR/pids/kube-apiserver")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  start_apiserver
  wait_until 60 "kube-apiserver /readyz" api_ready
  log "kube-apiserver restarted"
}

wait_until() { # seconds what command...
  local secs=$1 what=$2; shift 2
  local end=$(( $(date +%s) + secs ))
  while ! "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$end" ]; then log "timed out after ${secs}s waiting for $what"; return 1; fi
    sleep 0.1
  done
}

# The PIDs of processes inside the node: its network namespace, or its pods' cgroups.
node_pids() {
  local ino p
  ino=$(stat -L -c %i "$DIR/ns/net" 2>/dev/null) || ino=
  if [ -n "$ino" ]; then
    for p in /proc/[0-9]*; do
      [ "$(stat -L -c %i "$p/ns/net" 2>/dev/null)" = "$ino" ] && echo "${p#/proc/}"
    done
  fi
  find /sys/fs/cgroup/*/"$CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null || true
}

kill_all() {
  local pids f pid
  # kubelet first, so it does not restart what is being stopped
  if [ -f "$DIR/pids/kubelet" ]; then kill "$(cat "$DIR/pids/kubelet")" 2>/dev/null || true; fi
  for f in "$DIR"/pids/*; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
  done
  for _ in $(seq 1 20); do   # 2 s to stop cleanly; the state is thrown away anyway
    pids=""
    for f in "$DIR"/pids/*; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && pids=1; done
    [ -z "$pids" ] && break
    sleep 0.1
  done
  # what is left, containers and shims included
  for _ in 1 2 3 4 5; do
    pids=$(node_pids | sort -u)
    [ -z "$pids" ] && break
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null || true
    sleep 0.2
  done
  rm -f "$DIR"/pids/*
}

# ---- host checks ----

# What the node must leave as it found it: links, addresses, routes, mounts, the sysctls it
# shields, the host's iptables rules, cgroup folders.
host_state() {
  ip -o link show | awk '{print $2}' | sort
  ip -o addr show | awk '{print $2, $4}' | sort
  ip route show table all | sort
  awk '{print $5}' /proc/self/mountinfo | sort
  local s; for s in "${SYSCTLS[@]}" net/ipv4/ip_forward net/ipv4/conf/all/route_localnet; do echo "$s=$(cat /proc/sys/$s)"; done
  { iptables-save 2>/dev/null || true; } | sed -e '/^#/d' -e 's/\[[0-9]*:[0-9]*\]//' | sort
  ls -d /sys/fs/cgroup/*/"$CGROUP" 2>/dev/null || true
}

# ---- certificates and identities ----

pki() {
  local p=$DIR/pki
  mkdir -p "$p"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=flink-operator-node-ca" \
    -keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
  sign() { # name subject san [extendedKeyUsage]
    openssl req -newkey rsa:2048 -nodes -subj "$2" -keyout "$p/$1.key" -out "$p/$1.csr" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$3" "${4:-serverAuth}" > "$p/$1.ext"
    openssl x509 -req -in "$p/$1.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 30 \
      -extfile "$p/$1.ext" -out "$p/$1.crt" 2>/dev/null
  }
  sign apiserver "/CN=kube-apiserver" "IP:$KUBE_SVC_IP,IP:$NODE_IP,IP:$LINK_IP,IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost"
  sign kubelet "/CN=$NODE" "IP:$NODE_IP,DNS:$NODE"
  sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "DNS:kube-apiserver" clientAuth
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  rm -f "$p"/*.csr "$p"/*.ext
  token() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
  local who
  : > "$p/tokens.csv"
  for who in admin kubelet kube-proxy kube-scheduler kube-controller-manager; do
    local t; t=$(token)
    echo "$t" > "$p/$who.token"
    case $who in
      admin) printf '%s,admin,1,"system:masters"\n' "$t" ;;
      kubelet) printf '%s,system:node:%s,2,"system:nodes"\n' "$t" "$NODE" ;;
      *) printf '%s,system:%s,%d\n' "$t" "$who" $((3 + RANDOM % 1000)) ;;
    esac >> "$p/tokens.csv"
  done
  chmod 600 "$p"/*.key "$p"/*.token "$p/tokens.csv"
}

kubeconfig() { # file identity server
  cat > "$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: $NODE
  cluster: {server: "$3", certificate-authority: "$DIR/pki/ca.crt"}
contexts:
- name: $2@$NODE
  context: {cluster: $NODE, user: $2, namespace: default}
current-context: $2@$NODE
users:
- name: $2
  user: {token: "$(cat "$DIR/pki/$2.token")"}
KC
  chmod 600 "$1"
}

# ---- namespaces ----

namespaces() {
  mkdir -p "$DIR/ns"
  mount --bind "$DIR/ns" "$DIR/ns"
  mount --make-private "$DIR/ns"
  touch "$DIR/ns/mnt" "$DIR/ns/net"
  unshare "--mount=$DIR/ns/mnt" "--net=$DIR/ns/net" --propagation private true
  mkdir -p "$DIR/varlib/kubelet" "$DIR/varlib/cni" "$DIR/varlib/containerd" "$DIR/varlog" "$DIR/sysctl"
  local s script="mount -t tmpfs -o mode=0755 fo-node-run /run && mkdir -p /run/containerd /run/lock"
  script+=" && mount --bind '$DIR/varlib' /var/lib && mount --bind '$DIR/varlog' /var/log"
  for s in "${SYSCTLS[@]}"; do
    cp "/proc/sys/$s" "$DIR/sysctl/${s//\//.}"
    script+=" && mount --bind '$DIR/sysctl/${s//\//.}' /proc/sys/$s"
  done
  "${NSX[@]}" sh -c "$script"
  # the network: loopback, the pods' bridge (its address is the node IP), the veth to the host
  "${NSX[@]}" sh -c "ip link set lo up \
    && ip link add $BRIDGE type bridge && ip addr add $NODE_IP/24 dev $BRIDGE && ip link set $BRIDGE up \
    && ip link add $NODE_LINK type veth peer name $HOST_LINK && ip link set $HOST_LINK netns $$ \
    && ip addr add $LINK_IP/30 dev $NODE_LINK && ip link set $NODE_LINK up \
    && ip route add $SVC_CIDR dev $BRIDGE \
    && echo 1 > /proc/sys/net/ipv4/ip_forward"
  ip addr add "$HOST_IP/30" dev "$HOST_LINK"
  ip link set "$HOST_LINK" up
  # cgroups for the pods (kubelet's cgroupRoot), cpuset initialised from its parent
  local c
  for c in /sys/fs/cgroup/*/; do
    case $c in */unified/) continue ;; esac
    [ -f "$c/cgroup.procs" ] || continue
    mkdir -p "$c$CGROUP"
  done
  if [ -d "/sys/fs/cgroup/cpuset/$CGROUP" ]; then
    cat /sys/fs/cgroup/cpuset/cpuset.cpus > "/sys/fs/cgroup/cpuset/$CGROUP/cpuset.cpus"
    cat /sys/fs/cgroup/cpuset/cpuset.mems > "/sys/fs/cgroup/cpuset/$CGROUP/cpuset.mems"
  fi
}

remove_namespaces() {
  local m
  for m in "$DIR/ns/mnt" "$DIR/ns/net" "$DIR/ns"; do
    if awk -v m="$m" '$5 == m {f = 1} END {exit !f}' /proc/self/mountinfo; then umount "$m" 2>/dev/null || umount -l "$m"; fi
  done
  ip link del "$HOST_LINK" 2>/dev/null || true
  local c
  for c in /sys/fs/cgroup/*/"$CGROUP"; do
    [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  for c in /sys/fs/cgroup/*/"$CGROUP"; do
    [ -d "$c" ] && { log "cgroup $c not removed (processes left?)"; return 1; }
  done
  return 0
}

# ---- configuration files ----

configs() {
  mkdir -p "$DIR/cni" "$DIR/dns"
  cat > "$DIR/containerd.toml" <<TOML
version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "k8s.gcr.io/pause:3.2"
  # no CAP_SYS_RESOURCE here: sandboxes may not ask for a negative oom_score_adj
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/cni"
TOML
  cat > "$DIR/cni/10-fo-pods.conflist" <<JSON
{"cniVersion": "0.4.0", "name": "fo-pods", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
            "routes": [{"dst": "0.0.0.0/0"}]}}]}
JSON
  echo "nameserver $NODE_IP" > "$DIR/resolv.conf"
  cat > "$DIR/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $DIR/pki/kubelet.crt
tlsPrivateKeyFile: $DIR/pki/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $DIR/pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP
failSwapOn: false
oomScoreAdj: 0
clusterDNS: [$NODE_IP]
clusterDomain: cluster.local
resolvConf: $DIR/resolv.conf
# imported images cannot be pulled again: never collect them, never evict for disk
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 100Mi, nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
serializeImagePulls: false
# report status often: Ready within seconds of start (the first report is NotReady)
nodeStatusUpdateFrequency: 2s
YAML
  kubeconfig "$DIR/kubeconfig" admin "$SERVER"
  local who
  for who in kubelet kube-proxy kube-scheduler kube-controller-manager; do
    kubeconfig "$DIR/$who.kubeconfig" "$who" "https://127.0.0.1:$API_PORT"
  done
}

# ---- up ----

kc() { "$BIN/kubectl" --kubeconfig "$DIR/kubeconfig" "$@"; }
api_ready() { curl -sf --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $(cat "$DIR/pki/admin.token")" "$SERVER/readyz" | grep -qx ok; }
node_ready() { kc get node "$NODE" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -qx True; }
default_sa_token() { kc get serviceaccount default -o jsonpath='{.secrets[0].name}' | grep -q .; }

cmd_up() {
  if running; then die "a node is already running (state in $DIR); stop it with: $0 down"; fi
  if [ -d "/sys/fs/cgroup/pids/$CGROUP" ] || ip link show "$HOST_LINK" >/dev/null 2>&1; then
    die "another node is running on this machine, or one was not stopped (cgroup /$CGROUP or link $HOST_LINK exists); stop it with: FO_NODE_DIR=<its folder> $0 down"
  fi
  if ip -o addr show | grep -q ' 10\.244\.'; then die "an address in 10.244.0.0/16 is already in use on this machine"; fi
  if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then die "this machine has only cgroup v2; kubelet 1.20 needs cgroup v1 controllers"; fi
  local p
  for p in "$BIN/kube-apiserver" "$BIN/kubelet" "$BIN/kube-proxy" "$BIN/kube-scheduler" "$BIN/kube-controller-manager"; do
    [ -x "$p" ] || die "$p missing: run tests/e2e/kube-build.sh"
  done
  for p in etcd containerd runc dnsmasq iptables conntrack unshare nsenter; do
    command -v "$p" >/dev/null || die "$p missing: run scripts/install-deps.sh --node"
  done
  rm -rf "$DIR"
  mkdir -p "$DIR"/{pids,logs,etcd}
  chmod 755 "$DIR"
  host_state > "$DIR/host-before.txt"
  UP_DONE=
  trap 'rc=$?; if [ -z "$UP_DONE" ]; then log "up failed; stopping what started (logs kept in $DIR/logs)"; cmd_down keep-logs; fi; exit $rc' EXIT
  trap 'exit 130' INT TERM

  log "certificates and identities"
  pki
  configs
  log "namespaces: network (bridge $BRIDGE $NODE_IP, link $HOST_LINK $HOST_IP <-> $LINK_IP), mounts, cgroups /$CGROUP"
  namespaces

  log "etcd, kube-apiserver on $SERVER"
  start etcd etcd --data-dir "$DIR/etcd" --listen-client-urls http://127.0.0.1:2379 \
    --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
    --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster default=http://127.0.0.1:2380
  local adm=$DIR/pki/admin.token
  start_apiserver
  log "containerd"
  start containerd containerd --config "$DIR/containerd.toml"
  wait_until 60 "kube-apiserver /readyz" api_ready
  log "kube-apiserver ready"
  start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$DIR/kube-controller-manager.kubeconfig" \
    --use-service-account-credentials --service-account-private-key-file "$DIR/pki/sa.key" \
    --root-ca-file "$DIR/pki/ca.crt" --cluster-signing-cert-file "$DIR/pki/ca.crt" --cluster-signing-key-file "$DIR/pki/ca.key" \
    --leader-elect=false --secure-port=0 --port=0 --controllers='*'
  start kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$DIR/kube-scheduler.kubeconfig" --leader-elect=false --port=0 --secure-port=0
  wait_until 30 "containerd" "${NSX[@]}" ctr version
  log "containerd ready; importing images"
  local images=("$CACHE/images/pause-3.2.tar")
  for p in ${FO_NODE_IMAGES:-}; do images+=("$p"); done
  cmd_import "${images[@]}"

  log "kubelet, kube-proxy, cluster DNS"
  start kubelet "$BIN/kubelet" --config "$DIR/kubelet.yaml" --kubeconfig "$DIR/kubelet.kubeconfig" \
    --container-runtime remote --container-runtime-endpoint unix:///run/containerd/containerd.sock \
    --pod-infra-container-image k8s.gcr.io/pause:3.2 --hostname-override "$NODE" --node-ip "$NODE_IP" \
    --cert-dir "$DIR/pki/kubelet-certs" --v 1
  start kube-proxy "$BIN/kube-proxy" --kubeconfig "$DIR/kube-proxy.kubeconfig" --hostname-override "$NODE" \
    --proxy-mode iptables --cluster-cidr "$POD_CIDR" --masquerade-all --oom-score-adj 0 \
    --conntrack-max-per-core 0 --conntrack-tcp-timeout-established 0 --conntrack-tcp-timeout-close-wait 0 \
    --healthz-bind-address 127.0.0.1:10256 --metrics-bind-address 127.0.0.1:10249
  : > "$DIR/dns/hosts"
  start dnsmasq dnsmasq --keep-in-foreground --log-facility=- --conf-file=/dev/null --user=root \
    --no-resolv --no-hosts --addn-hosts "$DIR/dns/hosts" --listen-address "$NODE_IP" --bind-interfaces \
    --local=/cluster.local/ --domain-needed --bogus-priv
  cp "$DIR/pids/dnsmasq" "$DIR/dns/dnsmasq.pid"
  start dns-sync python3 "$HERE/dns-sync.py" --server "https://127.0.0.1:$API_PORT" --token-file "$adm" \
    --ca-file "$DIR/pki/ca.crt" --hosts "$DIR/dns/hosts" --dnsmasq-pid-file "$DIR/dns/dnsmasq.pid"

  wait_until 90 "node $NODE Ready" node_ready
  log "node $NODE Ready"
  wait_until 60 "the default ServiceAccount's token" default_sa_token
  wait_until 30 "cluster DNS" grep -q ' kubernetes.default.svc.cluster.local' "$DIR/dns/hosts"
  if [ -n "${FO_NODE_USER:-}" ]; then chown "$FO_NODE_USER" "$DIR/kubeconfig"; fi
  UP_DONE=1
  log "ready: kubectl --kubeconfig $DIR/kubeconfig (API server $SERVER, node $NODE $NODE_IP)"
  print_env
}

# ---- down ----

cmd_down() {
  local keep=${1:-}
  if [ ! -d "$DIR" ]; then log "not running ($DIR does not exist)"; return 0; fi
  kill_all
  remove_namespaces || true
  local left; left=$(node_pids | sort -u | tr '\n' ' ')
  [ -z "$left" ] || log "processes left: $left"
  if [ -n "$keep" ]; then
    find "$DIR" -mindepth 1 -maxdepth 1 ! -name logs ! -name host-before.txt -exec rm -rf --one-file-system {} +
  else
    [ -f "$DIR/host-before.txt" ] && host_state > "$DIR/host-after.txt"
    if [ -f "$DIR/host-after.txt" ] && ! diff -q "$DIR/host-before.txt" "$DIR/host-after.txt" >/dev/null; then
      log "the host differs from before up:"; diff "$DIR/host-before.txt" "$DIR/host-after.txt" >&2 || true
      rm -rf --one-file-system "$DIR"
      return 1
    fi
    rm -rf --one-file-system "$DIR"
  fi
  log "stopped"
}

# ---- import, exec, check-host ----

cmd_import() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || die "no such image archive: $f"
    f=$(readlink -f "$f")   # the node's mount namespace has its own working directory
    local t; t=$(date +%s%N)
    "${NSX[@]}" ctr -n k8s.io images import "$f" > "$DIR/logs/import.log" 2>&1 || { cat "$DIR/logs/import.log" >&2; die "import of $f failed"; }
    log "imported $(basename "$f") ($(du -h "$f" | cut -f1), $(since "$t") s): $(tar -xOf "$f" manifest.json | python3 -c 'import json,sys; print(" ".join(t for m in json.load(sys.stdin) for t in m["RepoTags"]))')"
  done
}

cmd_check_host() {
  [ -f "$DIR/host-before.txt" ] || die "no record of the host before up in $DIR"
  host_state | diff "$DIR/host-before.txt" - 
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
  env) print_env; exit 0 ;;
  status) if running; then echo "running: $DIR"; exit 0; else echo "not running"; exit 3; fi ;;
  up|down|import|exec|check-host|restart-apiserver) ;;
  *) echo "usage: $0 up|down|env|status|import FILE...|exec CMD...|check-host|restart-apiserver" >&2; exit 2 ;;
esac
# What `up` builds runs as the caller, so the cache stays theirs: the Kubernetes programs, the
# pause image.
prepare() {
  bash "$ROOT/tests/e2e/kube-build.sh" >&2
  bash "$ROOT/scripts/image/build.sh" pause >/dev/null
}
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "root is needed, and there is no sudo"
  [ "$cmd" = up ] && prepare
  exec sudo env PATH="$PATH" FO_CACHE="$CACHE" FO_NODE_DIR="$DIR" FO_NODE_IMAGES="${FO_NODE_IMAGES:-}" \
    FO_NODE_USER="$(id -u):$(id -g)" FO_NODE_PREPARED=1 bash "$0" "$cmd" "$@"
fi
case $cmd in
  up) [ -n "${FO_NODE_PREPARED:-}" ] || prepare; cmd_up ;;
  down) cmd_down ;;
  import) running || die "not running"; cmd_import "$@" ;;
  restart-apiserver) running || die "not running"; cmd_restart_apiserver ;;
  exec) running || die "not running"; exec "${NSX[@]}" "$@" ;;
  check-host) cmd_check_host ;;
esac
