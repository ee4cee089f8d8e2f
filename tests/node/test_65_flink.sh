# Real Flink under the operator, in real pods: Flink 1.20 from the image built here, a
# savepoint-mode FlinkDeployment in native mode (Flink's JobManager makes its own TaskManager
# pods), through its life: deploy, a savepoint by nonce, an upgrade, suspend, resume, delete. Every
# step is checked from Flink's side: its REST API (the job, its checkpoints, what it restored
# from), the shared volume (the savepoint's files), the API server (what is left).
# Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator installed).

FNS=$OPNS FD2=sp
DATA=$FO_NODE_DIR/flink-data # a hostPath on the node, which is this machine: the volume, seen from here
mkdir -p "$DATA/savepoints" "$DATA/checkpoints"
chmod -R 1777 "$DATA"
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
    execution.checkpointing.interval: 5s
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
    upgradeMode: savepoint
YAML

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
restored_from() { # what Flink says the running job restored from: "path savepoint?" or "none"
  flink_rest "/jobs/$(fstatus '{.status.jobStatus.jobId}')/checkpoints" | $PY -c '
import json, sys
r = (json.load(sys.stdin).get("latest") or {}).get("restored")
print("none" if not r else "%s %s" % (r.get("external_path"), "savepoint" if r.get("is_savepoint") else "checkpoint"))'
}
on_volume() { [ -f "${1#file:}/_metadata" ]; }

t=$(now_ms)
if wait_for 240 stable_running; then FLINK_DEPLOY_S=$(secs $(( $(now_ms) - t ))); ok "flink: deployed; Flink runs the job the status names (${FLINK_DEPLOY_S} s)"
else ko "flink: deployed and running in Flink" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods 2>&1)"$'\n'"$(kubectl -n $FNS logs deploy/$FD2 --tail 20 2>&1)"; fi
tm_owned() { kubectl -n $FNS get pods -l app=$FD2,component=taskmanager -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}' | grep -qx "Deployment/$FD2"; }
if tm_owned; then ok "flink: Flink's JobManager made its TaskManager pod, owned by the JobManager Deployment"; else ko "flink: a TaskManager pod made by Flink" "$(kubectl -n $FNS get pods -l app=$FD2 -o wide 2>&1)"; fi
check "flink: a first start restores nothing" "none" "$(restored_from)"

# a savepoint by nonce: in the status, in Flink's checkpoint history, on the volume
kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"savepointTriggerNonce":1}}}' >/dev/null
manual_done() { [ -n "$(fstatus '{.status.jobStatus.savepointInfo.lastSavepoint.location}')" ]; }
if wait_for 120 manual_done; then
  sp1=$(fstatus '{.status.jobStatus.savepointInfo.lastSavepoint.location}')
  ok "flink: savepointTriggerNonce took a savepoint ($sp1)"
  if on_volume "$sp1"; then ok "flink: the savepoint is on the shared volume"; else ko "flink: the savepoint is on the volume" "$(ls -R "$DATA/savepoints" | head)"; fi
  latest_sp=$(flink_rest "/jobs/$(fstatus '{.status.jobStatus.jobId}')/checkpoints" | $PY -c 'import json,sys; print(((json.load(sys.stdin).get("latest") or {}).get("savepoint") or {}).get("external_path"))')
  check "flink: Flink's latest savepoint is the one in the status" "$sp1" "$latest_sp"
else ko "flink: savepointTriggerNonce" "$(fstatus '{.status}')"; fi
check "flink: the job kept running through the savepoint" "STABLE/RUNNING" "$(fstatus '{.status.lifecycleState}/{.status.jobStatus.state}')"

# an upgrade: stop with a savepoint, restore from it with the new spec
jid1=$(fstatus '{.status.jobStatus.jobId}')
t=$(now_ms)
kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"parallelism":2}}}' >/dev/null
upgraded() { [ "$(fstatus '{.status.jobStatus.jobId}')" != "$jid1" ] && stable_running; }
if wait_for 300 upgraded; then
  FLINK_UPGRADE_S=$(secs $(( $(now_ms) - t )))
  sp2=$(fstatus '{.status.jobStatus.savepointInfo.lastSavepoint.location}')
  ok "flink: upgraded (savepoint mode) in ${FLINK_UPGRADE_S} s"
  check "flink: Flink says the new job restored from the upgrade's savepoint" "$sp2 savepoint" "$(restored_from)"
  if [ "$sp2" != "$sp1" ] && on_volume "$sp2"; then ok "flink: the upgrade's savepoint is a new one, on the volume"; else ko "flink: the upgrade's savepoint" "$sp1 / $sp2"; fi
  tms=$(kubectl -n $FNS get pods -l app=$FD2,component=taskmanager --field-selector status.phase=Running -o name | wc -l)
  check "flink: parallelism 2 with 1 slot each: Flink runs 2 TaskManagers" "2" "$tms"
else ko "flink: upgrade" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods 2>&1)"; fi

# suspend: a savepoint, then no cluster; resume from it
kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"state":"suspended"}}}' >/dev/null
suspended() { [ "$(fstatus '{.status.lifecycleState}')" = SUSPENDED ] && [ -z "$(kubectl -n $FNS get pods -l app=$FD2 -o name 2>/dev/null)" ]; }
if wait_for 180 suspended; then ok "flink: suspended: no JobManager or TaskManager pod left"; else ko "flink: suspended" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods 2>&1)"; fi
sp3=$(fstatus '{.status.jobStatus.savepointInfo.lastSavepoint.location}')
if [ -n "$sp3" ] && [ "$sp3" != "$sp2" ] && on_volume "$sp3"; then ok "flink: the suspend took a savepoint, on the volume"; else ko "flink: the suspend's savepoint" "$sp3"; fi
kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"state":"running"}}}' >/dev/null
if wait_for 240 stable_running; then
  check "flink: resumed from the suspend's savepoint (Flink says)" "$sp3 savepoint" "$(restored_from)"
else ko "flink: resumed" "$(fstatus '{.status}')"; fi

# delete: nothing of it is left
kubectl -n $FNS delete flinkdeployment $FD2 --wait=false >/dev/null
all_gone() { [ -z "$(kubectl -n $FNS get flinkdeployment/$FD2 deployment/$FD2 service/$FD2 service/$FD2-rest configmap/flink-config-$FD2 -o name 2>/dev/null)" ] \
  && [ -z "$(kubectl -n $FNS get pods,configmaps -l app=$FD2 -o name 2>/dev/null)" ]; }
if wait_for 180 all_gone; then ok "flink: deleted: no JobManager, TaskManager pod, Service, ConfigMap or HA ConfigMap left"
else ko "flink: deleted" "$(kubectl -n $FNS get all,configmaps -l app=$FD2 2>&1)"; fi
