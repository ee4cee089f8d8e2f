#!/usr/bin/env bash
# FlinkSessionJob on real Flink 1.20: a native session cluster with the shared volume; the
# images' Counter job as a jar the controller reads from a volume mounted into it (file://, in
# the operator's allowlist by the chart's defaultConfiguration), uploaded to the cluster and run
# under the job id the status records. Then a savepoint by nonce, a savepoint upgrade, a
# last-state upgrade, a suspension and its resumption, and the deletion; each checked from
# Flink's side (its REST API: the job, what it restored, the Counter's gauges) and the volume.
# Sourced by run.sh (release flink-operator installed).

source "$NODE_TESTS/flink_lib.sh"

FD2=sjsess; CASE="session job"; FV=1.20; SJ=counter
# the helpers of flink_lib read the job id from $FD2's status; here it is the FlinkSessionJob's
fd_status() { kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath="$1" 2>/dev/null; }
fstatus() { kubectl -n $FNS get flinksessionjob $SJ -o jsonpath="$1" 2>/dev/null; }

# the operator: jars from the volume, file:// allowed (the webhook judges by the same ConfigMap)
mkdir -p "$DATA/jars" && chmod 1777 "$DATA/jars"
values=$FO_NODE_DIR/sessionjob-values.yaml
cat > "$values" <<YAML
defaultConfiguration:
  kubernetes.operator.user.artifacts.allowed-schemes: "https;file"
controller:
  volumes: [{name: jars, hostPath: {path: $DATA/jars, type: Directory}}]
  volumeMounts: [{name: jars, mountPath: /jars, readOnly: true}]
YAML
out=$(helm upgrade $REL "$CHART" -n $OPNS --reuse-values -f "$values" --wait --timeout 180s 2>&1) \
  || ko "$CASE: helm upgrade with the jars volume and file:// allowed" "$out"

kubectl -n $FNS apply -f - >/dev/null <<YAML
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: $FD2}
spec:
  image: flink:$FV
  flinkVersion: v1_20
  serviceAccount: flink
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "1"
    state.savepoints.dir: file://$DATA/savepoints
    state.checkpoints.dir: file://$DATA/checkpoints
    execution.checkpointing.interval: 3s
    metrics.fetcher.update-interval: "1000"
  podTemplate:
    spec:
      containers:
      - name: flink-main-container
        volumeMounts: [{name: flink-data, mountPath: $DATA}]
      volumes:
      - {name: flink-data, hostPath: {path: $DATA, type: Directory}}
  jobManager: {resource: {memory: 1600m, cpu: 0.5}}
  taskManager: {resource: {memory: 1728m, cpu: 0.5}}
YAML
sess_ready() { [ "$(fd_status '{.status.lifecycleState}/{.status.jobManagerDeploymentStatus}')" = STABLE/READY ] && flink_rest /overview >/dev/null; }
if wait_for 300 sess_ready; then ok "$CASE: the session cluster is ready"; else ko "$CASE: session cluster" "$(fd_status '{.status}')"; fi
jm=$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].metadata.name}')
kubectl -n $FNS exec "$jm" -c flink-main-container -- cat /opt/flink/examples/streaming/Counter.jar > "$DATA/jars/Counter.jar" \
  || ko "$CASE: the image's Counter.jar copied to the volume"

sj_apply() { # upgradeMode, args (YAML flow list), [state]
  kubectl -n $FNS apply -f - >/dev/null <<YAML
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata: {name: $SJ}
spec:
  deploymentName: $FD2
  job:
    jarURI: file:///jars/Counter.jar
    entryClass: flinkop.examples.Counter
    args: $2
    parallelism: 1
    upgradeMode: $1
    state: ${3:-running}
YAML
}
sj_stable() { [ "$(fstatus '{.status.lifecycleState}/{.status.jobStatus.state}')" = STABLE/RUNNING ] && job_running_in_flink; }
jid_now() { fstatus '{.status.jobStatus.jobId}'; }
state_of() { flink_rest /jobs/overview | $PY -c 'import json,sys; j=[x["state"] for x in json.load(sys.stdin)["jobs"] if x["jid"]==sys.argv[1]]; print(j[0] if j else "")' "$1"; }
new_job_counting() { [ "$(jid_now)" != "$1" ] && sj_stable && counting; }

# ---- deploy ----
sj_apply savepoint '[--rate, "20"]'
deployed() { sj_stable && counting; }
if wait_for 300 deployed; then ok "$CASE: Flink runs the Counter under the job id the status records (STABLE, RUNNING), and it counts"
else ko "$CASE: deploy" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $OPNS logs deploy/$REL-flink-operator-controller --tail=20 2>&1)"; fi
check "$CASE: nothing restored; no jar left in the cluster" "none 0" \
  "$(restored_from 2>&1) $(flink_rest /jars | $PY -c 'import json,sys; print(len(json.load(sys.stdin)["files"]))' 2>&1)"
jid1=$(jid_now)

# ---- savepoint by nonce ----
kubectl -n $FNS patch flinksessionjob $SJ --type merge -p '{"spec":{"job":{"savepointTriggerNonce":1}}}' >/dev/null
sp_nonce() { [ "$(fstatus '{.status.jobStatus.savepointInfo.lastSavepoint.triggerNonce}')" = 1 ]; }
if wait_for 120 sp_nonce; then ok "$CASE: a savepoint by nonce is recorded"; else ko "$CASE: savepoint nonce" "$(fstatus '{.status}')"; fi
sp1=$(last_sp)
# (Flink's checkpoint statistics are cached for a few seconds)
flink_sp() { flink_rest "/jobs/$jid1/checkpoints" | $PY -c 'import json,sys; print(((json.load(sys.stdin).get("latest") or {}).get("savepoint") or {}).get("external_path"))' 2>&1; }
flink_has_sp() { [ "$(flink_sp)" = "$sp1" ]; }
wait_for 30 flink_has_sp
check "$CASE: Flink's latest savepoint is the recorded one, on the volume; the job runs on" "$sp1 yes $jid1 RUNNING" \
  "$(flink_sp) $(on_volume "$sp1" && echo yes) $(jid_now) $(state_of "$jid1")"

# ---- savepoint upgrade: stopped with a savepoint, the new job restores it and counts on ----
wait_for 30 counting
c0=$(counter count)
sj_apply savepoint '[--rate, "30"]'
if wait_for 300 new_job_counting "$jid1"; then ok "$CASE: savepoint upgrade: a new job runs"; else ko "$CASE: savepoint upgrade" "$(fstatus '{.status}')"; fi
sp2=$(last_sp); jid2=$(jid_now)
check "$CASE: savepoint upgrade: the old job FINISHED; the new one restored the savepoint it left (on the volume)" \
  "FINISHED $sp2 savepoint yes" "$(state_of "$jid1") $(restored_from 2>&1) $(on_volume "$sp2" && echo yes)"
r=$(counter restored 2>/dev/null || echo 0)
if [ "$sp2" != "$sp1" ] && [ "${r:-0}" -ge "${c0:-1}" ]; then ok "$CASE: savepoint upgrade: the count went on ($r restored, $c0 before)"
else ko "$CASE: savepoint upgrade: the count went on" "restored $r, before $c0, savepoints $sp1 $sp2"; fi

# ---- last-state upgrade: cancelled, the new job restores the newest checkpoint ----
wait_for 60 has_checkpoint
sj_apply last-state '[--rate, "25"]'
if wait_for 300 new_job_counting "$jid2"; then ok "$CASE: last-state upgrade: a new job runs"; else ko "$CASE: last-state upgrade" "$(fstatus '{.status}')"; fi
jid3=$(jid_now); rf=$(restored_from 2>&1)
case "$rf" in
  *"/checkpoints/$jid2/chk-"*) ok "$CASE: last-state upgrade: the old job CANCELED ($(state_of "$jid2")), the new one restored its checkpoint ${rf%% *}" ;;
  *) ko "$CASE: last-state upgrade: restored the old job's checkpoint" "$rf $(state_of "$jid2")" ;;
esac
check "$CASE: last-state upgrade: the old job was cancelled" "CANCELED" "$(state_of "$jid2")"
r=$(counter restored 2>/dev/null || echo 0)
if [ "${r:-0}" -gt 0 ]; then ok "$CASE: last-state upgrade: the count went on ($r restored)"; else ko "$CASE: last-state upgrade: the count went on" "$r"; fi

# ---- suspended and resumed (savepoint mode) ----
sj_apply savepoint '[--rate, "25"]' suspended
suspended() { [ "$(fstatus '{.status.lifecycleState}')" = SUSPENDED ] && [ "$(state_of "$jid3")" = FINISHED ]; }
if wait_for 300 suspended; then ok "$CASE: suspended: the job FINISHED in Flink"; else ko "$CASE: suspended" "$(fstatus '{.status}') $(state_of "$jid3")"; fi
usp=$(fstatus '{.status.jobStatus.upgradeSavepointPath}')
check "$CASE: suspended: the savepoint it left is on the volume" "yes" "$(on_volume "$usp" && echo yes)"
sj_apply savepoint '[--rate, "25"]' running
if wait_for 300 new_job_counting "$jid3"; then ok "$CASE: resumed: a new job runs"; else ko "$CASE: resumed" "$(fstatus '{.status}')"; fi
check "$CASE: resumed from the suspension's savepoint" "$usp savepoint" "$(restored_from 2>&1)"

# ---- deleted: Flink cancels the job; the session cluster follows ----
jid4=$(jid_now)
kubectl -n $FNS delete flinksessionjob $SJ --wait=false >/dev/null
sj_gone() { ! kubectl -n $FNS get flinksessionjob $SJ >/dev/null 2>&1; }
if wait_for 120 sj_gone; then ok "$CASE: deleted"; else ko "$CASE: deleted" "$(fstatus '{.status}')"; fi
check "$CASE: deleted: Flink cancelled the job" "CANCELED" "$(state_of "$jid4")"
fstatus() { kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath="$1" 2>/dev/null; } # flink_lib's, again
flink_delete
