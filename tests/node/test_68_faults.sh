#!/usr/bin/env bash
# Faults on real Flink, each checked from Flink's side (issue 18's fault campaign on the node):
#   1. the controller's pods killed (SIGKILL) in the middle of a savepoint upgrade: the new pod
#      finishes it; exactly one savepoint was taken for it and the new job restored it;
#   2. the API server restarted in the middle of a last-state upgrade: the same job id, its latest
#      checkpoint restored;
#   3. the JobManager's pod killed: its Deployment brings it back and Flink recovers the job
#      through Kubernetes HA (the same job id, a checkpoint restored); the status follows;
#   4. a TaskManager's pod killed: Flink restarts the job on a new one from its checkpoint;
#   5. a savepoint that fails (its folder not writable): a SavepointError Warning, the nonce not
#      retried, the job still RUNNING;
#   6. the JobManager hung and the HA data lost, no savepoint known: a spec change is refused
#      (status.error, an UpgradeFailed Warning, tried again), nothing stopped.
# Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator installed).

source "$NODE_TESTS/flink_lib.sh"

kill_controllers() { kubectl -n $OPNS delete pods -l app.kubernetes.io/component=controller --grace-period=0 --force >/dev/null 2>&1; }
upgraded() { [ "$(fstatus '{.status.observedGeneration}')" = "$(kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath='{.metadata.generation}')" ] \
  && [ "$(fstatus '{.status.reconciliationStatus.state}')" = DEPLOYED ] && stable_running; }
# the job's count went on from a checkpoint newer than the last restore: its `restored` gauge grows
# past what the previous run restored ($2; 0 for a start from nothing). (Waiting for it also waits
# out the values the metric store still holds from the run before.) $1: the count before the fault.
count_went_on() {
  newer() { local r; r=$(counter restored 2>/dev/null) && [ "$r" -gt "$2" ]; }
  if wait_for 120 newer "$1" "$2"; then ok "$CASE: the count went on from $(counter restored) (it was $1 before; the run before restored $2)"
  else ko "$CASE: the count went on from a newer checkpoint" "restored $(counter restored 2>&1), the run before restored $2, the count before $1"; fi
}
CONF="    execution.checkpointing.interval: 2s
    kubernetes.jobmanager.cpu.limit-factor: \"8\"
    kubernetes.taskmanager.cpu.limit-factor: \"8\""
HA="    high-availability.type: kubernetes
    high-availability.storageDir: file://$DATA/ha"

# ---- 1. the controller killed mid-upgrade (savepoint) ----
FD2=fault-sp; CASE="faults: controller killed mid-upgrade"; KMODE=native; FV=1.20; UMODE=savepoint
fd_apply "$CONF" '[--rate, "20"]' 0.25 0.25
if wait_for 300 stable_running && wait_for 90 counting; then ok "$CASE: running"
else ko "$CASE: running" "$(fstatus '{.status}')"; fi
c0=$(counter count)
kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"args":["--rate","21"]}}}' >/dev/null
in_flight() { [ -n "$(fstatus '{.status.jobStatus.savepointInfo.triggerId}')" ] || [ -n "$(fstatus '{.status.jobStatus.upgradeSavepointPath}')" ]; }
if wait_for 120 in_flight; then ok "$CASE: the upgrade's savepoint is in flight"; else ko "$CASE: savepoint in flight" "$(fstatus '{.status}')"; fi
kill_controllers
if wait_for 300 upgraded; then ok "$CASE: a new controller pod finished the upgrade, RUNNING"
else ko "$CASE: upgraded" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $OPNS get pods 2>&1)"; fi
check "$CASE: one savepoint taken for the upgrade" "1" "$(fstatus '{.status.jobStatus.savepointInfo.savepointHistory[*].triggerType}' | tr ' ' '\n' | grep -c UPGRADE)"
sp=$(last_sp); got=$(restored_from)
if [ "$got" = "$sp savepoint" ] && on_volume "$sp"; then ok "$CASE: Flink says the new job restored that savepoint, which is on the volume"
else ko "$CASE: restored the upgrade's savepoint" "restored: $got; recorded: $sp"; fi
count_went_on "$c0" 0
flink_delete

# ---- 2-5 on one last-state job with Kubernetes HA ----
FD2=fault-ls; UMODE=last-state; CASE="faults: API server restarted mid-upgrade"
fd_apply "$CONF"$'\n'"$HA"$'\n'"    state.savepoints.dir: file://$DATA/ro-savepoints" '[--rate, "20"]' 0.25 0.25
mkdir -p "$DATA/ro-savepoints" && chmod 555 "$DATA/ro-savepoints" # Flink (uid 9999) cannot write there
if wait_for 300 stable_running && wait_for 90 counting; then ok "faults: a last-state job with HA running"
else ko "faults: last-state running" "$(fstatus '{.status}')"; flink_delete; return 0; fi
checkpoints_after_now
jid0=$(fstatus '{.status.jobStatus.jobId}'); c0=$(counter count)
kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"args":["--rate","21"]}}}' >/dev/null
upgrading() { [ "$(fstatus '{.status.reconciliationStatus.state}')" = UPGRADING ]; }
wait_for 60 upgrading || ko "$CASE: the upgrade began" "$(fstatus '{.status}')"
if bash "$NODE_SH" restart-apiserver >/dev/null 2>&1; then ok "$CASE: the API server restarted"; else ko "$CASE: the API server restarted"; fi
if wait_for 300 upgraded; then ok "$CASE: upgraded, RUNNING"; else ko "$CASE: upgraded" "$(fstatus '{.status}')"; fi
check "$CASE: the same job id" "$jid0" "$(fstatus '{.status.jobStatus.jobId}')"
got=$(restored_from)
case "$got" in *" checkpoint") ok "$CASE: Flink says it restored a checkpoint ($got)" ;; *) ko "$CASE: restored a checkpoint" "$got" ;; esac
count_went_on "$c0" 0

CASE="faults: JobManager pod killed"
checkpoints_after_now
r0=$(counter restored); c0=$(counter count); jm0=$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].metadata.name}')
kubectl -n $FNS delete pod "$jm0" --grace-period=0 --force >/dev/null 2>&1
new_jm() { local n; n=$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].metadata.name}' 2>/dev/null); [ -n "$n" ] && [ "$n" != "$jm0" ] && stable_running; }
if wait_for 300 new_jm; then ok "$CASE: a new JobManager runs the job, the status says RUNNING"
else ko "$CASE: back" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; fi
check "$CASE: the same job id (recovered through HA)" "$jid0" "$(fstatus '{.status.jobStatus.jobId}')"
got=$(restored_from)
case "$got" in *" checkpoint") ok "$CASE: Flink says it restored a checkpoint ($got)" ;; *) ko "$CASE: restored a checkpoint" "$got" ;; esac
count_went_on "$c0" "$r0"

CASE="faults: TaskManager pod killed"
checkpoints_after_now
r0=$(counter restored); c0=$(counter count); tm0=$(kubectl -n $FNS get pods -l app=$FD2,component=taskmanager -o jsonpath='{.items[0].metadata.name}')
restores0=$(flink_rest "/jobs/$jid0/checkpoints" | $PY -c 'import json,sys; print(json.load(sys.stdin)["counts"]["restored"])')
kubectl -n $FNS delete pod "$tm0" --grace-period=0 --force >/dev/null 2>&1
restarted() { local n; n=$(flink_rest "/jobs/$jid0/checkpoints" | $PY -c 'import json,sys; print(json.load(sys.stdin)["counts"]["restored"])' 2>/dev/null); [ -n "$n" ] && [ "$n" -gt "$restores0" ] && stable_running; }
if wait_for 300 restarted; then ok "$CASE: Flink restarted the job from a checkpoint on a new TaskManager, the status says RUNNING"
else ko "$CASE: restarted" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; fi
check "$CASE: the same job id" "$jid0" "$(fstatus '{.status.jobStatus.jobId}')"
count_went_on "$c0" "$r0"

CASE="faults: a savepoint that fails"
kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"savepointTriggerNonce":7}}}' >/dev/null
sp_failed() { kubectl -n $FNS get events --field-selector involvedObject.name=$FD2,reason=SavepointError -o jsonpath='{.items[*].message}' | grep -q 'savepointTriggerNonce: 7'; }
if wait_for 180 sp_failed; then ok "$CASE: a SavepointError Warning names the nonce"; else ko "$CASE: SavepointError" "$(fstatus '{.status.jobStatus.savepointInfo}')"; fi
handled() { [ -z "$(fstatus '{.status.jobStatus.savepointInfo.triggerId}')" ]; }
wait_for 30 handled || ko "$CASE: the trigger is cleared" "$(fstatus '{.status.jobStatus.savepointInfo}')"
check "$CASE: no savepoint recorded, none on the volume" "0 0" "$(fstatus '{.status.jobStatus.savepointInfo.savepointHistory[*].location}' | wc -w) $(find "$DATA/ro-savepoints" -mindepth 1 | wc -l)"
if stable_running; then ok "$CASE: the job is still RUNNING"; else ko "$CASE: still running" "$(fstatus '{.status}')"; fi
# handled, so never retried: the nonce is recorded in the reconciled spec
check "$CASE: the nonce counts as handled (not retried)" "7" "$(fstatus '{.status.reconciliationStatus.lastReconciledSpec}' | $PY -c 'import json,sys; print(json.load(sys.stdin)["spec"]["job"].get("savepointTriggerNonce"))')"

# ---- 6. nothing could bring the job back: refused ----
# The JobManager hangs (its processes stopped: it answers nothing, its pod stays Ready) and the
# job's HA data is lost; no savepoint is known. A spec change must stop nothing: the operator
# cannot say where the job would restore from.
CASE="faults: an upgrade nothing could restore"
jm_procs() { # the host PIDs of the JobManager container's processes (the node has no PID namespace of its own)
  local cid pid; cid=$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].status.containerStatuses[0].containerID}')
  pid=$(node_exec ctr -n k8s.io tasks ls 2>/dev/null | awk -v c="${cid#containerd://}" '$1 == c {print $2}')
  [ -n "$pid" ] || return 1
  tree() { echo "$1"; local c; for c in $(pgrep -P "$1"); do tree "$c"; done; }
  tree "$pid"
}
jm_uid0=$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].metadata.uid}')
gen0=$(kubectl -n $FNS get deployment $FD2 -o jsonpath='{.metadata.annotations.flinkdeployment\.flink\.apache\.org/generation}')
procs=$(jm_procs | tr '\n' ' ')
if [ -n "$procs" ] && kill -STOP $procs; then ok "$CASE: the JobManager's processes stopped"
else ko "$CASE: the JobManager's processes stopped" "pids '$procs'"; fi
kubectl -n $FNS delete configmaps -l app=$FD2,configmap-type=high-availability >/dev/null
check "$CASE: its HA ConfigMaps deleted" "" "$(kubectl -n $FNS get configmaps -l app=$FD2,configmap-type=high-availability -o name)"
kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"args":["--rate","22"]}}}' >/dev/null
attempt() { fstatus '{.status.error}' | $PY -c 'import json,sys
e=json.load(sys.stdin); print(e["additionalMetadata"]["attempt"] if e["message"].endswith("Manual restore required.") else 0)' 2>/dev/null || echo 0; }
refused() { [ "$(attempt)" -ge "$1" ]; }
if wait_for 120 refused 1; then ok "$CASE: refused: status.error ends 'Manual restore required.'"
else ko "$CASE: refused in status.error" "$(fstatus '{.status.error}')"; fi
ev=$(kubectl -n $FNS get events --field-selector involvedObject.name=$FD2,reason=UpgradeFailed -o jsonpath='{.items[*].type}')
check "$CASE: an UpgradeFailed Warning event" "Warning" "${ev%% *}"
# tried again as a failed pass is, and still nothing stopped
if wait_for 60 refused 2; then ok "$CASE: tried again, refused again (attempt $(attempt))"; else ko "$CASE: a second attempt" "$(fstatus '{.status.error}')"; fi
check "$CASE: the JobManager's pod left as it was (same pod, not being deleted)" "$jm_uid0 " \
  "$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[*].metadata.uid} {.items[*].metadata.deletionTimestamp}')"
check "$CASE: the JobManager Deployment is the old generation's" "$gen0" \
  "$(kubectl -n $FNS get deployment $FD2 -o jsonpath='{.metadata.annotations.flinkdeployment\.flink\.apache\.org/generation}')"
check "$CASE: a TaskManager pod still there" "1" "$(kubectl -n $FNS get pods -l app=$FD2,component=taskmanager -o name | wc -l)"
[ -n "$procs" ] && kill -CONT $procs
flink_delete
chmod 755 "$DATA/ro-savepoints"
