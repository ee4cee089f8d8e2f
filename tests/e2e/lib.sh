# Shared by scripts/run-local.sh and the end-to-end tests (source it). Needs $ROOT (repository)
# and $BUILD (the build directory with webhook/flink-webhook and certs/flink-certs).
# Everything it starts is recorded in $FO_CLUSTER_DIR/pids and stopped by `cluster.sh down`.

E2E_DIR=$ROOT/tests/e2e
FO_CLUSTER_DIR=${FO_CLUSTER_DIR:-/tmp/flink-operator-cluster}
export FO_CLUSTER_DIR

e2e_log() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

cluster_up() {
  eval "$(bash "$E2E_DIR/cluster.sh" up)"
  export KUBECONFIG PATH
}

cluster_down() { bash "$E2E_DIR/cluster.sh" down 2>/dev/null || true; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# Generates the webhook's CA and serving certificate (IP 127.0.0.1) once per cluster.
webhook_certs() {
  local d=$FO_CLUSTER_DIR/webhook
  if [ ! -f "$d/tls.crt" ]; then
    "$BUILD/certs/flink-certs" generate --out-dir "$d" --ip 127.0.0.1 --dns localhost --days 30
  fi
}

# Starts the webhook on $WEBHOOK_PORT (picked once), in the background, logging to the cluster dir.
webhook_start() {
  webhook_certs
  local d=$FO_CLUSTER_DIR/webhook
  if [ -z "${WEBHOOK_PORT:-}" ]; then
    if [ -f "$d/port" ]; then WEBHOOK_PORT=$(cat "$d/port"); else WEBHOOK_PORT=$(free_port); echo "$WEBHOOK_PORT" > "$d/port"; fi
  fi
  ${FO_WEBHOOK_WRAPPER:-} "$BUILD/webhook/flink-webhook" serve --listen "127.0.0.1:$WEBHOOK_PORT" \
    --tls-cert "$d/tls.crt" --tls-key "$d/tls.key" \
    --default-service-account flink --default-service-account-namespaces e2e-admission \
    >> "$FO_CLUSTER_DIR/logs/webhook.log" 2>&1 &
  echo $! > "$FO_CLUSTER_DIR/pids/webhook"
  for _ in $(seq 1 100); do
    if curl -s --cacert "$d/ca.crt" "https://127.0.0.1:$WEBHOOK_PORT/readyz" 2>/dev/null | grep -q ready; then return 0; fi
    sleep 0.1
  done
  e2e_log "webhook did not become ready"; tail -5 "$FO_CLUSTER_DIR/logs/webhook.log" >&2
  return 1
}

webhook_stop() {
  local f=$FO_CLUSTER_DIR/pids/webhook
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$f"
}

# Registers the Validating and Mutating webhook configurations pointing at the local webhook.
webhook_register() {
  local ca; ca=$("$BUILD/certs/flink-certs" ca-bundle "$FO_CLUSTER_DIR/webhook/ca.crt")
  sed -e "s|__CA_BUNDLE__|$ca|g" -e "s|__URL__|https://127.0.0.1:$WEBHOOK_PORT|g" \
    "$E2E_DIR/webhook-configurations.yaml" | kubectl apply -f - >/dev/null
}

# Starts a controller named $1 with the restricted identity (or $CTL_KUBECONFIG); extra args
# follow. Sets CTL_PORT_<name>; logs to $FO_CLUSTER_DIR/logs/controller-<name>.log.
controller_start() {
  local name=$1; shift
  local port; port=$(free_port)
  ${FO_CONTROLLER_WRAPPER:-} "$BUILD/controller/flink-controller" --kubeconfig "${CTL_KUBECONFIG:-$FO_CLUSTER_DIR/controller.kubeconfig}" \
    --metrics-listen "127.0.0.1:$port" --lease-namespace flink-operator --identity "$name" "$@" \
    >> "$FO_CLUSTER_DIR/logs/controller-$name.log" 2>&1 &
  echo $! > "$FO_CLUSTER_DIR/pids/controller-$name"
  [ -n "${FO_CONTROLLER_WRAPPER:-}" ] || disown $!   # tests kill it on purpose: no job-control noise
  eval "CTL_PORT_${name//-/_}=$port"
  for _ in $(seq 1 200); do
    if curl -s "http://127.0.0.1:$port/readyz" 2>/dev/null | grep -q ready; then return 0; fi
    sleep 0.1
  done
  e2e_log "controller $name did not become ready"; tail -5 "$FO_CLUSTER_DIR/logs/controller-$name.log" >&2
  return 1
}

controller_stop() { # name [signal]
  local f=$FO_CLUSTER_DIR/pids/controller-$1
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f")
  kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$f"
}

# Polls a command until it succeeds (up to $1 seconds).
wait_for() {
  local secs=$1; shift
  local end=$(( $(date +%s) + secs ))
  while [ "$(date +%s)" -le "$end" ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  return 1
}

# Starts the simulated Flink runtime (Kubernetes mode) with the admin identity; sets FLINKSIM_PORT
# and FLINKSIM_STATE (its record of every job start, checkpoint and savepoint).
flinksim_start() {
  local d=$FO_CLUSTER_DIR/flinksim
  mkdir -p "$d"
  FLINKSIM_STATE=$d/state.jsonl
  rm -f "$d/port"
  python3 "$ROOT/tests/flinksim/flinksim.py" --kubeconfig "$FO_CLUSTER_DIR/kubeconfig" --listen 127.0.0.1:0 \
    --port-file "$d/port" --state-file "$FLINKSIM_STATE" --data-root "$d/data" "$@" >> "$FO_CLUSTER_DIR/logs/flinksim.log" 2>&1 &
  echo $! > "$FO_CLUSTER_DIR/pids/flinksim"
  for _ in $(seq 1 100); do [ -f "$d/port" ] && break; sleep 0.1; done
  FLINKSIM_PORT=$(cat "$d/port")
  export FLINKSIM_PORT FLINKSIM_STATE
}

flinksim_stop() {
  local f=$FO_CLUSTER_DIR/pids/flinksim
  [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
  rm -f "$f"
}

# A FlinkDeployment of the StateMachineExample job with checkpoint and savepoint directories, for
# the lifecycle tests and the fault campaign. usage: flinkdep_yaml NAME NAMESPACE UPGRADE_MODE
# [EXTRA flinkConfiguration LINES, e.g. "$FLINKDEP_HA"]
FLINKDEP_HA='    high-availability.type: kubernetes
    high-availability.storageDir: file:///ha'
flinkdep_yaml() {
  cat <<YAML
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: $1, namespace: $2}
spec:
  image: flink:1.20
  flinkVersion: v1_20
  serviceAccount: flink
  flinkConfiguration:
    state.checkpoints.dir: file:///checkpoints
    state.savepoints.dir: file:///savepoints
    execution.checkpointing.interval: 10s
${4:-}
  jobManager: {resource: {memory: 2048m, cpu: 1}}
  taskManager: {resource: {memory: 2048m, cpu: 1}}
  job:
    jarURI: local:///opt/flink/examples/streaming/StateMachineExample.jar
    parallelism: 2
    upgradeMode: $3
YAML
}
