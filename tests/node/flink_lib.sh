# Shared by the real-Flink node tests (test_65_flink.sh, test_66_states.sh): the namespace and
# the volume, and reading a FlinkDeployment ($FD2) from Flink's side: its REST API (the job, its
# checkpoints, what it restored from, the Counter job's gauges), the volume, the API server.
# Sourced (by a test sourced by run.sh: check/ok/ko, wait_for, node_exec, $PY, $OPNS); loads once.
[ -n "${FLINK_LIB_LOADED:-}" ] && return 0
FLINK_LIB_LOADED=1

FNS=$OPNS
DATA=$FO_NODE_DIR/flink-data # a hostPath on the node, which is this machine: the volume, seen from here
mkdir -p "$DATA/savepoints" "$DATA/checkpoints" "$DATA/ha"
chmod -R 1777 "$DATA"

# The node has 2 cores: the FlinkDeployment the earlier tests left ($FD, its JobManager asking for
# a whole core) is suspended meanwhile, so real Flink's pods fit beside the operator's
if [ -n "${FD:-}" ]; then
  kubectl -n $OPNS patch flinkdeployment $FD --type merge -p '{"spec":{"job":{"state":"suspended"}}}' >/dev/null
  fd_idle() { [ -z "$(kubectl -n $OPNS get pods -l app=$FD -o name 2>/dev/null)" ]; }
  wait_for 180 fd_idle || ko "flink: $FD suspended to free the node's CPU" "$(kubectl -n $OPNS get pods 2>&1)"
fi

fstatus() { kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath="$1" 2>/dev/null; }
# Flink's REST API, from inside the node (the JobManager's Service has a ClusterIP)
flink_rest() { # through the REST Service, on its port (rest.port)
  local ip port; read -r ip port < <(kubectl -n $FNS get svc $FD2-rest -o jsonpath='{.spec.clusterIP} {.spec.ports[0].port}' 2>/dev/null)
  [ -n "$ip" ] && [ -n "$port" ] && node_exec curl -sf --max-time 20 "http://$ip:$port$1"
}
job_running_in_flink() { # the status's job id runs in Flink
  local jid; jid=$(fstatus '{.status.jobStatus.jobId}')
  [ -n "$jid" ] && flink_rest /jobs/overview | $PY -c 'import json,sys; j=[x for x in json.load(sys.stdin)["jobs"] if x["jid"]==sys.argv[1]]; sys.exit(0 if j and j[0]["state"]=="RUNNING" else 1)' "$jid"
}
stable_running() { [ "$(fstatus '{.status.lifecycleState}/{.status.jobStatus.state}')" = STABLE/RUNNING ] && job_running_in_flink; }
restored_from() { # what Flink says the running job restored from: "path savepoint|checkpoint" or "none"
  flink_rest "/jobs/$(fstatus '{.status.jobStatus.jobId}')/checkpoints" | $PY -c '
import json, sys
r = (json.load(sys.stdin).get("latest") or {}).get("restored")
print("none" if not r else "%s %s" % (r.get("external_path"), "savepoint" if r.get("is_savepoint") else "checkpoint"))'
}
completed_checkpoints() { flink_rest "/jobs/$(fstatus '{.status.jobStatus.jobId}')/checkpoints" | $PY -c 'import json,sys; print(json.load(sys.stdin)["counts"]["completed"])'; }
has_checkpoint() { [ "$(completed_checkpoints 2>/dev/null || echo 0)" -ge 1 ]; }
on_volume() { [ -f "${1#file:}/_metadata" ]; }
last_sp() { fstatus '{.status.jobStatus.savepointInfo.lastSavepoint.location}'; }
# the Counter's gauge $1 (count, restored): the largest over the counting operator's subtasks
counter() {
  local jid vid; jid=$(fstatus '{.status.jobStatus.jobId}')
  vid=$(flink_rest "/jobs/$jid" | $PY -c 'import json,sys; print([v["id"] for v in json.load(sys.stdin)["vertices"] if v["name"].startswith("counter")][0])') || return 1
  local id; id=$(flink_rest "/jobs/$jid/vertices/$vid/subtasks/metrics" | $PY -c '
import json, re, sys
ids = [m["id"] for m in json.load(sys.stdin) if re.search(r"(^|\.)counter\." + sys.argv[1] + "$", m["id"])]
print(ids[0] if ids else "")' "$1")
  [ -n "$id" ] || return 1
  flink_rest "/jobs/$jid/vertices/$vid/subtasks/metrics?get=$id&agg=max" | $PY -c '
import json, sys
m = json.load(sys.stdin)
if not m: sys.exit(1)
print(int(float(m[0]["max"])))'
}
counting() { local c; c=$(counter count 2>/dev/null) && [ "$c" -gt 0 ]; }
# two more checkpoints complete: the latest one holds at least what the counter showed before
checkpoints_after_now() {
  local n0; n0=$(completed_checkpoints 2>/dev/null || echo 0)
  more() { [ "$(completed_checkpoints 2>/dev/null || echo 0)" -ge $(( n0 + 2 )) ]; }
  wait_for 60 more
}
# real Flink against the contract the simulator is held to (tests/contract): HA ConfigMaps, the
# paths of checkpoints and savepoints, the TaskManagers' labels. $1: a savepoint it took.
contract_check() {
  local jid ck out; jid=$(fstatus '{.status.jobStatus.jobId}')
  ck=$(flink_rest "/jobs/$jid/checkpoints" | $PY -c 'import json,sys; print(((json.load(sys.stdin).get("latest") or {}).get("completed") or {}).get("external_path") or "")')
  kubectl -n $FNS get configmaps -l app=$FD2,type=flink-native-kubernetes -o json > "$FO_NODE_DIR/contract-ha-$FD2.json"
  kubectl -n $FNS get pods -l app=$FD2,component=taskmanager -o json > "$FO_NODE_DIR/contract-pods-$FD2.json"
  if out=$($PY "$ROOT/tests/contract/contract.py" "flink${FV%%.*}" "$FD2" "$jid" "$ck" "$1" "$FO_NODE_DIR/contract-ha-$FD2.json" "$FO_NODE_DIR/contract-pods-$FD2.json" 2>&1); then
    ok "$CASE: real Flink keeps the contract the simulator is held to (HA ConfigMaps and keys, checkpoint and savepoint paths, TaskManager labels)"
  else ko "$CASE: real Flink keeps tests/contract/contract.json" "$out"; fi
}
# the REST shapes the client reads, checked on real Flink with the simulator's schema check (it
# ends with the job stopped with a savepoint)
schema_check() {
  local ip jid out; ip=$(kubectl -n $FNS get svc $FD2-rest -o jsonpath='{.spec.clusterIP}'); jid=$(fstatus '{.status.jobStatus.jobId}')
  if out=$(node_exec $PY "$ROOT/tests/flinksim/check_schema.py" "http://$ip:8081" "$jid" "file://$DATA/savepoints" 2>&1); then
    ok "$CASE: real Flink's REST answers match tests/flinksim/rest-schema.json, which the simulator's are checked against"
  else ko "$CASE: real Flink's REST answers match the schema" "$out"; fi
}

# delete: nothing of it is left
flink_delete() {
  kubectl -n $FNS delete flinkdeployment $FD2 --wait=false >/dev/null
  all_gone() { [ -z "$(kubectl -n $FNS get flinkdeployment/$FD2 deployment/$FD2 deployment/$FD2-taskmanager service/$FD2 service/$FD2-rest configmap/flink-config-$FD2 -o name 2>/dev/null)" ] \
    && [ -z "$(kubectl -n $FNS get pods,configmaps -l app=$FD2 -o name 2>/dev/null)" ]; }
  if wait_for 180 all_gone; then ok "$CASE: deleted: no JobManager, TaskManager pod, Service, ConfigMap or HA ConfigMap left"
  else ko "$CASE: deleted" "$(kubectl -n $FNS get all,configmaps -l app=$FD2 2>&1)"; fi
}


# Applies the FlinkDeployment $FD2: Flink $FV (1.20, 2.2) in mode $KMODE, upgradeMode $UMODE, the
# images' Counter job with the shared volume for savepoints and checkpoints. $1: more
# flinkConfiguration lines (indented by 4), $2: the job's arguments (a YAML flow list, default
# the Counter at 20 a second), $3 and $4: the JobManager's and TaskManager's CPU (default 0.5).
fd_apply() {
  local extra=${1:-} args=${2:-'[--rate, "20"]'} jcpu=${3:-0.5} tcpu=${4:-0.5} dirs
  if [ "${FV%%.*}" -ge 2 ]; then # Flink 2's names for the two folders (the operator reads both)
    dirs="execution.checkpointing.savepoint-dir: file://$DATA/savepoints
    execution.checkpointing.dir: file://$DATA/checkpoints"
  else
    dirs="state.savepoints.dir: file://$DATA/savepoints
    state.checkpoints.dir: file://$DATA/checkpoints"
  fi
  kubectl -n $FNS apply -f - >/dev/null <<YAML
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: $FD2}
spec:
  image: flink:$FV
  flinkVersion: v${FV/./_}
  mode: $KMODE
  serviceAccount: flink
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "1"
    $dirs
    metrics.fetcher.update-interval: "1000"
$extra
  podTemplate:
    spec:
      containers:
      - name: flink-main-container
        volumeMounts: [{name: flink-data, mountPath: $DATA}]
      volumes:
      - {name: flink-data, hostPath: {path: $DATA, type: Directory}}
  jobManager: {resource: {memory: 1600m, cpu: $jcpu}}
  taskManager: {resource: {memory: 1728m, cpu: $tcpu}}
  job:
    jarURI: local:///opt/flink/examples/streaming/Counter.jar
    args: $args
    parallelism: 1
    upgradeMode: $UMODE
YAML
}
# The job's state in Flink (its status's job id), or nothing.
flink_job_state() {
  local jid; jid=$(fstatus '{.status.jobStatus.jobId}')
  [ -n "$jid" ] && flink_rest /jobs/overview | $PY -c 'import json,sys; j=[x["state"] for x in json.load(sys.stdin)["jobs"] if x["jid"]==sys.argv[1]]; print(j[0] if j else "")' "$jid"
}
# Flink's latest completed checkpoint of the job (its external path), or nothing.
flink_latest_checkpoint() {
  flink_rest "/jobs/$(fstatus '{.status.jobStatus.jobId}')/checkpoints" | $PY -c 'import json,sys; print(((json.load(sys.stdin).get("latest") or {}).get("completed") or {}).get("external_path") or "")'
}

# A figure for run.sh's closing line: sets $1 to $2 here, and says so for in_parallel's replay.
figure() { printf -v "$1" '%s' "$2"; echo "figure: $1=$2"; }

# Runs each of its arguments (a command line, one FlinkDeployment's steps) at the same time, each
# in a subshell writing to a file of its own, then replays their lines here in argument order: ok,
# FAIL and its details, timing, and figures (set here). Each command works on its own $FD2.
in_parallel() {
  local dir=$FO_NODE_DIR/parallel pids=() i cmd f
  mkdir -p "$dir"
  i=0
  for cmd in "$@"; do
    f=$dir/$i.log; i=$((i + 1))
    ( ok() { printf '  ok   %s\n' "$1"; }; ko() { printf '  FAIL %s\n' "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/         /' | head -20; }
      eval "$cmd" ) > "$f" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}"
  for (( i = 0; i < $#; i++ )); do
    local fail="" detail="" line
    while IFS= read -r line; do
      case $line in
        "  ok   "*) [ -n "$fail" ] && ko "$fail" "$detail"; fail=""; ok "${line#  ok   }" ;;
        "  FAIL "*) [ -n "$fail" ] && ko "$fail" "$detail"; fail=${line#  FAIL }; detail="" ;;
        "         "*) [ -n "$fail" ] && detail+="${detail:+$'\n'}${line#         }" ;;
        timing:*) echo "$line" ;;
        "figure: "*=*) line=${line#figure: }; printf -v "${line%%=*}" '%s' "${line#*=}" ;;
      esac
    done < "$dir/$i.log"
    if [ -n "$fail" ]; then ko "$fail" "$detail"; fi
  done
}
