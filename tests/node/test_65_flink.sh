# Real Flink under the operator, in real pods: Flink 1.20 from the image built here, in native mode
# (Flink's JobManager makes its own TaskManager pods), one FlinkDeployment per upgrade mode through
# its life: deploy, a savepoint by nonce, an upgrade, suspend, resume, delete. Every step is checked
# from Flink's side: its REST API (the job, its checkpoints, what it restored from), the shared
# volume (the savepoints' files), the API server (what is left). last-state runs with Kubernetes
# HA, which Flink keeps in its own ConfigMaps.
# Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator installed).

FNS=$OPNS
DATA=$FO_NODE_DIR/flink-data # a hostPath on the node, which is this machine: the volume, seen from here
mkdir -p "$DATA/savepoints" "$DATA/checkpoints" "$DATA/ha"
chmod -R 1777 "$DATA"

fstatus() { kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath="$1" 2>/dev/null; }
# Flink's REST API, from inside the node (the JobManager's Service has a ClusterIP)
flink_rest() {
  local ip; ip=$(kubectl -n $FNS get svc $FD2-rest -o jsonpath='{.spec.clusterIP}' 2>/dev/null)
  [ -n "$ip" ] && node_exec curl -sf --max-time 20 "http://$ip:8081$1"
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

# One FlinkDeployment of upgrade mode $1 through its life; $2: more flinkConfiguration lines. The
# delete at the end runs whatever happened before it (a step that fails returns early).
flink_life() {
  FD2=real-$1
  flink_steps "$@"
  flink_delete "$1"
}

flink_steps() {
  local mode=$1 extra=${2:-} t
  kubectl -n $FNS apply -f - >/dev/null <<YAML
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: $FD2}
spec:
  image: flink:1.20
  flinkVersion: v1_20
  serviceAccount: flink
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "1"
    state.savepoints.dir: file://$DATA/savepoints
    state.checkpoints.dir: file://$DATA/checkpoints
    execution.checkpointing.interval: 3s
$extra
  podTemplate:
    spec:
      containers:
      - name: flink-main-container
        volumeMounts: [{name: flink-data, mountPath: $DATA}]
      volumes:
      - {name: flink-data, hostPath: {path: $DATA, type: Directory}}
  jobManager: {resource: {memory: 1600m, cpu: 0.5}}
  taskManager: {resource: {memory: 1728m, cpu: 0.5}}
  job:
    jarURI: local:///opt/flink/examples/streaming/StateMachineExample.jar
    parallelism: 1
    upgradeMode: $mode
YAML
  t=$(now_ms)
  if wait_for 240 stable_running; then eval "FLINK_DEPLOY_${mode//-/_}_S=$(secs $(( $(now_ms) - t )))"; ok "flink $mode: deployed; Flink runs the job the status names"
  else ko "flink $mode: deployed and running in Flink" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods 2>&1)"$'\n'"$(kubectl -n $FNS logs deploy/$FD2 --tail 20 2>&1)"; return; fi
  if kubectl -n $FNS get pods -l app=$FD2,component=taskmanager -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}' | grep -qx "Deployment/$FD2"; then
    ok "flink $mode: Flink's JobManager made its TaskManager pod, owned by the JobManager Deployment"
  else ko "flink $mode: a TaskManager pod made by Flink" "$(kubectl -n $FNS get pods -l app=$FD2 -o wide 2>&1)"; fi
  check "flink $mode: a first start restores nothing" "none" "$(restored_from)"
  wait_for 60 has_checkpoint || ko "flink $mode: a first checkpoint" "$(completed_checkpoints 2>&1)"

  # a savepoint by nonce: in the status, as Flink's latest savepoint, on the volume
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"savepointTriggerNonce":1}}}' >/dev/null
  manual_done() { [ -n "$(last_sp)" ]; }
  if wait_for 120 manual_done; then
    local sp1; sp1=$(last_sp)
    ok "flink $mode: savepointTriggerNonce took a savepoint"
    if on_volume "$sp1"; then ok "flink $mode: the savepoint is on the shared volume"; else ko "flink $mode: the savepoint is on the volume" "$(ls -R "$DATA/savepoints" | head)"; fi
    # (Flink caches its checkpoint statistics for a few seconds: poll)
    flink_latest_sp() { flink_rest "/jobs/$(fstatus '{.status.jobStatus.jobId}')/checkpoints" | $PY -c 'import json,sys; print(((json.load(sys.stdin).get("latest") or {}).get("savepoint") or {}).get("external_path"))'; }
    latest_is() { [ "$(flink_latest_sp)" = "$1" ]; }
    if wait_for 30 latest_is "$sp1"; then ok "flink $mode: Flink's latest savepoint is the one in the status"
    else ko "flink $mode: Flink's latest savepoint is the one in the status" "want $sp1, got $(flink_latest_sp)"; fi
  else ko "flink $mode: savepointTriggerNonce" "$(fstatus '{.status}')"; fi
  check "flink $mode: the job kept running through the savepoint" "STABLE/RUNNING" "$(fstatus '{.status.lifecycleState}/{.status.jobStatus.state}')"

  # an upgrade
  local jid1 sp_before; jid1=$(fstatus '{.status.jobStatus.jobId}'); sp_before=$(last_sp)
  wait_for 30 has_checkpoint
  t=$(now_ms)
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"parallelism":2}}}' >/dev/null
  upgraded() { [ "$(fstatus '{.status.reconciliationStatus.state}')" = DEPLOYED ] && [ "$(fstatus '{.status.observedGeneration}')" = "$(kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath='{.metadata.generation}')" ] \
    && [ "$(kubectl -n $FNS get pods -l app=$FD2,component=taskmanager --field-selector status.phase=Running -o name | wc -l)" = 2 ] && stable_running; }
  if wait_for 300 upgraded; then
    eval "FLINK_UPGRADE_${mode//-/_}_S=$(secs $(( $(now_ms) - t )))"
    ok "flink $mode: upgraded to parallelism 2 (2 TaskManagers of 1 slot)"
    local got; got=$(restored_from)
    case $mode in
      savepoint)
        check "flink savepoint: Flink says the new job restored from the upgrade's savepoint" "$(last_sp) savepoint" "$got"
        if [ "$(last_sp)" != "$sp_before" ] && on_volume "$(last_sp)"; then ok "flink savepoint: the upgrade's savepoint is a new one, on the volume"; else ko "flink savepoint: the upgrade's savepoint" "$sp_before / $(last_sp)"; fi
        if [ "$(fstatus '{.status.jobStatus.jobId}')" != "$jid1" ]; then ok "flink savepoint: a new job id"; else ko "flink savepoint: a new job id"; fi ;;
      last-state)
        case $got in
          "file:$DATA/checkpoints/$jid1/chk-"*" checkpoint") ok "flink last-state: Flink says the job recovered its latest checkpoint through HA ($got)" ;;
          *) ko "flink last-state: recovered from the latest checkpoint" "$got" ;;
        esac
        check "flink last-state: the same job id" "$jid1" "$(fstatus '{.status.jobStatus.jobId}')"
        check "flink last-state: no savepoint for the upgrade" "$sp_before" "$(last_sp)" ;;
      stateless)
        check "flink stateless: the new job started empty" "none" "$got"
        if [ "$(fstatus '{.status.jobStatus.jobId}')" != "$jid1" ]; then ok "flink stateless: a new job id"; else ko "flink stateless: a new job id"; fi ;;
    esac
  else ko "flink $mode: upgrade" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods 2>&1)"; return; fi

  # suspend, then resume
  local sp_up jid2; sp_up=$(last_sp); jid2=$(fstatus '{.status.jobStatus.jobId}')
  wait_for 30 has_checkpoint
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"state":"suspended"}}}' >/dev/null
  suspended() { [ "$(fstatus '{.status.lifecycleState}')" = SUSPENDED ] && [ -z "$(kubectl -n $FNS get pods -l app=$FD2 -o name 2>/dev/null)" ]; }
  if wait_for 180 suspended; then ok "flink $mode: suspended: no JobManager or TaskManager pod left"; else ko "flink $mode: suspended" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods 2>&1)"; fi
  local sp3; sp3=$(last_sp)
  local ha; ha=$(kubectl -n $FNS get configmaps -l app=$FD2,configmap-type=high-availability -o name 2>/dev/null | wc -l)
  case $mode in
    savepoint) if [ "$sp3" != "$sp_up" ] && on_volume "$sp3"; then ok "flink savepoint: the suspend took a savepoint, on the volume"; else ko "flink savepoint: the suspend's savepoint" "$sp3"; fi ;;
    last-state) if [ "$ha" -ge 1 ]; then ok "flink last-state: the HA ConfigMaps stay while suspended ($ha)"; else ko "flink last-state: HA ConfigMaps kept"; fi ;;
    stateless) check "flink stateless: the suspend took no savepoint" "$sp_up" "$sp3" ;;
  esac
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"state":"running"}}}' >/dev/null
  if wait_for 240 stable_running; then
    local got; got=$(restored_from)
    case $mode in
      savepoint) check "flink savepoint: resumed from the suspend's savepoint (Flink says)" "$sp3 savepoint" "$got" ;;
      last-state)
        case $got in
          "file:$DATA/checkpoints/$jid2/chk-"*" checkpoint") ok "flink last-state: resumed from the latest checkpoint, same job ($got)" ;;
          *) ko "flink last-state: resumed from the latest checkpoint" "$got" ;;
        esac ;;
      stateless) check "flink stateless: resumed empty" "none" "$got" ;;
    esac
  else ko "flink $mode: resumed" "$(fstatus '{.status}')"; fi

}

# delete: nothing of it is left
flink_delete() {
  local mode=$1
  kubectl -n $FNS delete flinkdeployment $FD2 --wait=false >/dev/null
  all_gone() { [ -z "$(kubectl -n $FNS get flinkdeployment/$FD2 deployment/$FD2 service/$FD2 service/$FD2-rest configmap/flink-config-$FD2 -o name 2>/dev/null)" ] \
    && [ -z "$(kubectl -n $FNS get pods,configmaps -l app=$FD2 -o name 2>/dev/null)" ]; }
  if wait_for 180 all_gone; then ok "flink $mode: deleted: no JobManager, TaskManager pod, Service, ConfigMap or HA ConfigMap left"
  else ko "flink $mode: deleted" "$(kubectl -n $FNS get all,configmaps -l app=$FD2 2>&1)"; fi
}

flink_life savepoint
flink_life last-state "    high-availability.type: kubernetes
    high-availability.storageDir: file://$DATA/ha"
flink_life stateless
