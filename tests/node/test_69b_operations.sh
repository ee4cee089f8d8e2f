#!/usr/bin/env bash
# The operations features on real Flink, each checked from Flink's side and the volume:
#   - periodic savepoints (kubernetes.operator.periodic.savepoint.interval) with the history
#     trimmed to kubernetes.operator.savepoint.history.max.count: each is Flink's, on the volume;
#     one trimmed from the history was disposed of through Flink (gone from the volume);
#   - periodic checkpoints (kubernetes.operator.periodic.checkpoint.interval): one Flink completed
#     at the operator's request (its trigger type in Flink's statistics: a manual one);
#   - kubectl scale (the scale subresource, as a HorizontalPodAutoscaler uses it): the job runs
#     again on two TaskManager pods, at parallelism 2 in Flink, its count going on;
#   - the health check (kubernetes.operator.cluster.health-check.*): a job that keeps failing and
#     restarting in Flink is restarted by the operator (a RestartUnhealthyJob Warning, a new
#     JobManager pod), through its HA data: the same job id, Flink restored a checkpoint;
#   - rollback (kubernetes.operator.deployment.rollback.enabled): an upgrade that never becomes
#     stable goes back to the last stable spec, the job recovered through its HA data;
#   - in-place rescaling (the adaptive scheduler, pipeline.jobvertex-parallelism-overrides): the
#     same job in the same JobManager runs at the new parallelism;
#   - kubernetes.operator.job.restart.failed: a job that failed for good in Flink is deployed again
#     and restores its latest checkpoint, its count going on;
#   - kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age: a last-state upgrade
#     of a job without a recent checkpoint goes through a savepoint Flink took and restored.
# Two FlinkDeployments at a time (pods asking for a quarter of a core each: the node has two). Sourced by run.sh (check/ok/ko, the node, $ROOT;
# release flink-operator installed).

source "$NODE_TESTS/flink_lib.sh"

HA="    high-availability.type: kubernetes
    high-availability.storageDir: file://$DATA/ha"

# like fd_apply, with spec.taskManager.replicas (the 1.20 API server serves the scale subresource
# only while it is set). $1: more flinkConfiguration lines, $2: the job's arguments.
ops_apply() {
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
    metrics.fetcher.update-interval: "1000"
    kubernetes.jobmanager.cpu.limit-factor: "8"
    kubernetes.taskmanager.cpu.limit-factor: "8"
$HA
$1
  podTemplate:
    spec:
      containers:
      - name: flink-main-container
        volumeMounts: [{name: flink-data, mountPath: $DATA}]
      volumes:
      - {name: flink-data, hostPath: {path: $DATA, type: Directory}}
  jobManager: {resource: {memory: 1600m, cpu: 0.25}}
  taskManager: {resource: {memory: 1728m, cpu: 0.25}, replicas: 1}
  job:
    jarURI: local:///opt/flink/examples/streaming/Counter.jar
    args: $2
    parallelism: 1
    upgradeMode: last-state
YAML
}

periodic_and_scale() {
  FD2=ops; CASE="operations"; KMODE=native; FV=1.20; UMODE=last-state
  ops_apply "    execution.checkpointing.interval: 5s
    kubernetes.operator.periodic.savepoint.interval: 10 s
    kubernetes.operator.savepoint.history.max.count: \"2\"
    kubernetes.operator.periodic.checkpoint.interval: 15 s" '[--rate, "20"]'
  if ! wait_for 240 stable_running; then ko "$CASE: deployed and running in Flink" "$(fstatus '{.status}')"; flink_delete; return; fi
  ok "$CASE: deployed; Flink runs the job the status names"

  # periodic savepoints: three seen in turn, the history never longer than two
  local seen="" h n=0 longest=0 t0; t0=$(now_ms)
  three() {
    h=$(fstatus '{range .status.jobStatus.savepointInfo.savepointHistory[*]}{.triggerType}={.location}{"\n"}{end}')
    local c; c=$(printf '%s\n' "$h" | grep -c '^PERIODIC=' || true)
    [ "$c" -gt "$longest" ] && longest=$c
    local l; for l in $(printf '%s\n' "$h" | sed -n 's/^PERIODIC=//p'); do
      case " $seen " in *" $l "*) ;; *) seen+=" $l"; n=$((n + 1)) ;; esac
    done
    [ "$n" -ge 3 ]
  }
  if wait_for 150 three; then ok "$CASE: periodic savepoints: three taken in $(secs $(( $(now_ms) - t0 ))) s at a 10 s interval"
  else ko "$CASE: three periodic savepoints" "seen:$seen"$'\n'"$(fstatus '{.status.jobStatus.savepointInfo}')"; fi
  check "$CASE: the history holds at most kubernetes.operator.savepoint.history.max.count (2)" "yes" "$([ "$longest" -le 2 ] && echo yes)"
  local kept first; kept=$(fstatus '{.status.jobStatus.savepointInfo.savepointHistory[*].location}'); first=${seen# }; first=${first%% *}
  local l bad=""; for l in $kept; do on_volume "$l" || bad+=" $l"; done
  if [ -n "$kept" ] && [ -z "$bad" ]; then ok "$CASE: each savepoint in the history is on the volume"; else ko "$CASE: the history's savepoints on the volume" "missing:$bad"; fi
  case " $kept " in
    *" $first "*) ko "$CASE: the oldest periodic savepoint left the history" "$first is still in it" ;;
    *) disposed() { [ ! -e "${first#file:}" ]; }
       if wait_for 30 disposed; then ok "$CASE: the savepoint trimmed from the history was disposed of through Flink (gone from the volume)"
       else ko "$CASE: the trimmed savepoint disposed of" "$first: $(ls "${first#file:}" 2>&1 | head -3)"; fi ;;
  esac
  # (Flink caches its checkpoint statistics for a few seconds: poll)
  local jid; jid=$(fstatus '{.status.jobStatus.jobId}')
  flink_sp() { flink_rest "/jobs/$jid/checkpoints" | $PY -c 'import json,sys; print(((json.load(sys.stdin).get("latest") or {}).get("savepoint") or {}).get("external_path") or "")'; }
  in_history() { local s; s=$(flink_sp); [ -n "$s" ] && case " $(fstatus '{.status.jobStatus.savepointInfo.savepointHistory[*].location}') " in *" $s "*) true ;; *) false ;; esac; }
  if wait_for 30 in_history; then ok "$CASE: Flink's latest savepoint is one in the history ($(flink_sp))"
  else ko "$CASE: Flink's latest savepoint in the history" "flink: $(flink_sp)"; fi

  # periodic checkpoints: the operator's request, completed by Flink
  local cid=""
  periodic_cp() { [ "$(fstatus '{.status.jobStatus.checkpointInfo.lastCheckpoint.triggerType}')" = PERIODIC ]; }
  if wait_for 60 periodic_cp; then
    local leader; leader=$(kubectl -n $OPNS get lease $REL-controller -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)
    cid=$(kubectl -n $OPNS logs "$leader" 2>/dev/null | $PY -c 'import json, sys
ids = [e.get("checkpointId") for e in map(lambda l: json.loads(l) if l.startswith("{") else {}, sys.stdin)
       if e.get("msg") == "checkpoint completed" and e.get("object") == sys.argv[1]]
print(ids[-1] if ids else "")' "$FNS/$FD2")
    cp_kind() { flink_rest "/jobs/$jid/checkpoints/details/$cid" | $PY -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d.get("checkpoint_type"))'; }
    cp_done() { cp_kind | grep -q '^COMPLETED '; }
    if [ -n "$cid" ] && wait_for 30 cp_done; then ok "$CASE: periodic checkpoint $cid: Flink completed it ($(cp_kind))"
    else ko "$CASE: Flink completed the periodic checkpoint" "id '$cid': $(cp_kind 2>&1)"; fi
  else ko "$CASE: a periodic checkpoint" "$(fstatus '{.status.jobStatus.checkpointInfo}')"; fi

  # kubectl scale: two TaskManagers, parallelism 2 in Flink, the same job (last-state), the count on
  wait_for 60 counting
  local c0; c0=$(counter count); checkpoints_after_now
  local out; out=$(kubectl -n $FNS scale flinkdeployment $FD2 --replicas=2 2>&1) || ko "$CASE: kubectl scale" "$out"
  scaled() { [ "$(fstatus '{.status.observedGeneration}')" = "$(kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath='{.metadata.generation}')" ] \
    && [ "$(kubectl -n $FNS get pods -l app=$FD2,component=taskmanager --field-selector status.phase=Running -o name | wc -l)" = 2 ] && stable_running; }
  if wait_for 300 scaled; then ok "$CASE: kubectl scale --replicas=2: the job runs again on two TaskManager pods"
  else ko "$CASE: kubectl scale --replicas=2" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; flink_delete; return; fi
  check "$CASE: Flink runs the job at parallelism 2" "2" \
    "$(flink_rest "/jobs/$(fstatus '{.status.jobStatus.jobId}')" | $PY -c 'import json,sys; print(max(v["parallelism"] for v in json.load(sys.stdin)["vertices"]))')"
  check "$CASE: the scale subresource reads 2 and the selector" "2 component=taskmanager,app=$FD2" \
    "$(kubectl -n $FNS get flinkdeployment $FD2 --subresource=scale -o jsonpath='{.status.replicas} {.status.selector}')"
  check "$CASE: the same job id (last-state)" "$jid" "$(fstatus '{.status.jobStatus.jobId}')"
  if wait_for 90 counting && [ "$(counter restored)" -gt 0 ]; then ok "$CASE: the count went on from $(counter restored) (it was $c0 before)"
  else ko "$CASE: the count went on after the scale" "restored $(counter restored 2>&1)"; fi
  flink_delete
}

unhealthy() {
  FD2=sick; CASE="health check"; KMODE=native; FV=1.20; UMODE=last-state
  # the Counter fails at 200 (10 s at 20 a second) and Flink restarts it from its latest
  # checkpoint every second: it keeps failing
  ops_apply "    execution.checkpointing.interval: 2s
    restart-strategy.type: fixed-delay
    restart-strategy.fixed-delay.attempts: \"100000\"
    restart-strategy.fixed-delay.delay: 1 s
    kubernetes.operator.cluster.health-check.enabled: \"true\"
    kubernetes.operator.cluster.health-check.restarts.threshold: \"3\"
    kubernetes.operator.cluster.health-check.restarts.window: 5 min" '[--rate, "20", --fail-at, "200"]'
  if ! wait_for 240 stable_running; then ko "$CASE: deployed and running in Flink" "$(fstatus '{.status}')"; flink_delete; return; fi
  ok "$CASE: deployed; Flink runs the job"
  local jid jm0; jid=$(fstatus '{.status.jobStatus.jobId}')
  jm0=$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].metadata.uid}')
  restarts() { flink_rest "/jobs/$jid/metrics?get=numRestarts" | $PY -c 'import json,sys; print(*[m["value"] for m in json.load(sys.stdin)])'; }
  many() { local r; r=$(restarts 2>/dev/null) && [ -n "$r" ] && [ "$r" -gt 3 ]; }
  if wait_for 180 many; then ok "$CASE: Flink restarted the failing job more than the threshold ($(restarts) restarts)"
  else ko "$CASE: the job restarts in Flink" "numRestarts: $(restarts 2>&1)"; fi
  restarted() { kubectl -n $FNS get events --field-selector involvedObject.name=$FD2,reason=RestartUnhealthyJob -o jsonpath='{.items[*].type}' | grep -q Warning; }
  if wait_for 120 restarted; then ok "$CASE: the operator found it unhealthy: a RestartUnhealthyJob Warning ($(kubectl -n $FNS get events --field-selector involvedObject.name=$FD2,reason=RestartUnhealthyJob -o jsonpath='{.items[0].message}'))"
  else ko "$CASE: a RestartUnhealthyJob Warning" "$(fstatus '{.status.clusterInfo}')"; fi
  new_jm() { local u; u=$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].metadata.uid}' 2>/dev/null); [ -n "$u" ] && [ "$u" != "$jm0" ] && [ "$(flink_job_state)" != "" ]; }
  if wait_for 240 new_jm; then ok "$CASE: the cluster was restarted (a new JobManager pod), Flink runs the job again"
  else ko "$CASE: restarted by the operator" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; flink_delete; return; fi
  check "$CASE: the same job id (through its HA data)" "$jid" "$(fstatus '{.status.jobStatus.jobId}')"
  ha_restored() { case $(restored_from 2>/dev/null) in *" checkpoint") true ;; *) false ;; esac; }
  if wait_for 60 ha_restored; then ok "$CASE: Flink says the restarted job restored a checkpoint ($(restored_from))"
  else ko "$CASE: restored a checkpoint" "$(restored_from 2>&1)"; fi
  flink_delete
}

# kubernetes.operator.deployment.rollback.enabled: an upgrade to an image that cannot be pulled is
# not stable within the readiness timeout (30 s): the operator rolls back to the last stable spec.
# From Flink's side: the JobManager runs the stable spec's image again, the same job recovered
# through its HA data (Flink restored a checkpoint), its count going on; a new change deploys as
# usual.
rollback() {
  FD2=rb; CASE="rollback"; KMODE=native; FV=1.20; UMODE=last-state
  ops_apply "    execution.checkpointing.interval: 2s
    kubernetes.operator.deployment.rollback.enabled: \"true\"
    kubernetes.operator.deployment.readiness.timeout: 30 s" '[--rate, "20"]'
  if ! wait_for 240 stable_running || ! wait_for 60 counting; then ko "$CASE: deployed and running in Flink" "$(fstatus '{.status}')"; flink_delete; return; fi
  ok "$CASE: deployed; Flink runs the job"
  local jid c0 t; jid=$(fstatus '{.status.jobStatus.jobId}'); checkpoints_after_now; c0=$(counter count); t=$(now_ms)
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"image":"flink:no-such-tag"}}' >/dev/null
  rolled() { [ "$(fstatus '{.status.reconciliationStatus.state}/{.status.lifecycleState}')" = ROLLED_BACK/ROLLED_BACK ] && job_running_in_flink; }
  if wait_for 300 rolled; then ok "$CASE: the new image never ran; rolled back in $(secs $(( $(now_ms) - t ))) s: ROLLED_BACK, and Flink runs the job the status names"
  else ko "$CASE: rolled back" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; flink_delete; return; fi
  check "$CASE: a Rollback event" "Normal Rolling back failed deployment." \
    "$(kubectl -n $FNS get events --field-selector involvedObject.name=$FD2,reason=Rollback -o jsonpath='{.items[0].type} {.items[0].message}')"
  check "$CASE: the JobManager runs the last stable spec's image" "flink:1.20" \
    "$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager --field-selector status.phase=Running -o jsonpath='{.items[*].spec.containers[0].image}')"
  check "$CASE: the same job id (through its HA data)" "$jid" "$(fstatus '{.status.jobStatus.jobId}')"
  case $(restored_from) in
    *" checkpoint") ok "$CASE: Flink says the job restored a checkpoint ($(restored_from))" ;;
    *) ko "$CASE: restored a checkpoint" "$(restored_from)" ;;
  esac
  if wait_for 90 counting && [ "$(counter restored)" -gt 0 ]; then ok "$CASE: the count went on from $(counter restored) (it was $c0 before)"
  else ko "$CASE: the count went on" "restored $(counter restored 2>&1)"; fi
  check "$CASE: the spec rolled back from stays the reconciled one (no upgrade follows)" "flink:no-such-tag" \
    "$(fstatus '{.status.reconciliationStatus.lastReconciledSpec}' | $PY -c 'import json,sys; print(json.load(sys.stdin)["spec"]["image"])')"
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"image":"flink:1.20","job":{"args":["--rate","21"]}}}' >/dev/null
  fixed() { [ "$(fstatus '{.status.observedGeneration}')" = "$(kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath='{.metadata.generation}')" ] \
    && [ "$(fstatus '{.status.lifecycleState}')" = STABLE ] && job_running_in_flink; }
  if wait_for 240 fixed; then ok "$CASE: a new change deploys as usual: STABLE, running"
  else ko "$CASE: a new change after the rollback" "$(fstatus '{.status}')"; fi
  check "$CASE: its JobManager Deployment is no rollback's" "" \
    "$(kubectl -n $FNS get deployment $FD2 -o jsonpath='{.metadata.annotations.flinkdeployment\.flink\.apache\.org/rollback}')"
  flink_delete
}

# In-place rescaling: with the adaptive scheduler, a change of
# pipeline.jobvertex-parallelism-overrides alone is applied through Flink's resource requirements:
# Flink runs every vertex at the new parallelism (making a second TaskManager pod), the same job in
# the same JobManager pod (nothing redeployed).
in_place() {
  FD2=ips; CASE="in-place scaling"; KMODE=native; FV=1.20; UMODE=last-state
  ops_apply "    execution.checkpointing.interval: 2s
    jobmanager.scheduler: adaptive" '[--rate, "20"]'
  if ! wait_for 240 stable_running; then ko "$CASE: deployed and running in Flink" "$(fstatus '{.status}')"; flink_delete; return; fi
  local jid jm0 vids overrides; jid=$(fstatus '{.status.jobStatus.jobId}')
  jm0=$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].metadata.uid}')
  parallelism() { flink_rest "/jobs/$jid" | $PY -c 'import json,sys; print(" ".join(sorted({str(v["parallelism"]) for v in json.load(sys.stdin)["vertices"]})))'; }
  vids=$(flink_rest "/jobs/$jid" | $PY -c 'import json,sys; print(" ".join(v["id"] for v in json.load(sys.stdin)["vertices"]))')
  check "$CASE: deployed with the adaptive scheduler, every vertex at parallelism 1" "1" "$(parallelism)"
  overrides=$(for v in $vids; do printf '%s:2,' "$v"; done); overrides=${overrides%,}
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p "{\"spec\":{\"flinkConfiguration\":{\"pipeline.jobvertex-parallelism-overrides\":\"$overrides\"}}}" >/dev/null
  rescaled() { [ "$(parallelism 2>/dev/null)" = 2 ] && job_running_in_flink; }
  if wait_for 180 rescaled; then ok "$CASE: Flink runs every vertex at parallelism 2"
  else ko "$CASE: rescaled in Flink" "parallelism: $(parallelism 2>&1)"$'\n'"$(fstatus '{.status}')"; fi
  check "$CASE: the same job in the same JobManager pod (nothing redeployed)" "$jid $jm0" \
    "$(fstatus '{.status.jobStatus.jobId}') $(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[*].metadata.uid}')"
  check "$CASE: a Scaling event" "Normal In-place scaling triggered" \
    "$(kubectl -n $FNS get events --field-selector involvedObject.name=$FD2,reason=Scaling -o jsonpath='{.items[0].type} {.items[0].message}')"
  recorded() { [ "$(fstatus '{.status.lifecycleState}')" = STABLE ] && fstatus '{.status.reconciliationStatus.lastReconciledSpec}' | grep -q "$overrides"; }
  if wait_for 30 recorded; then ok "$CASE: the overrides recorded as deployed, STABLE"; else ko "$CASE: recorded" "$(fstatus '{.status}')"; fi
  check "$CASE: Flink made a second TaskManager pod for the new slots" "2" \
    "$(kubectl -n $FNS get pods -l app=$FD2,component=taskmanager --field-selector status.phase=Running -o name | wc -l)"
  flink_delete
}

# kubernetes.operator.job.restart.failed: the Counter fails once at 200 (--fail-once: a file on the
# volume says it did), with no restarts in Flink: the job FAILED. The operator deploys it again
# (a RestartFailedJob Warning, a new JobManager pod); Flink restores the latest checkpoint it
# retained, the count goes on and the job keeps running.
restart_failed() {
  FD2=rf; CASE="failed job restarted"; KMODE=native; FV=1.20; UMODE=last-state
  local marker=$DATA/rf-failed-once; rm -f "$marker"
  ops_apply "    execution.checkpointing.interval: 2s
    restart-strategy.type: none
    kubernetes.operator.job.restart.failed: \"true\"" "[--rate, \"20\", --fail-at, \"200\", --fail-once, \"$marker\"]"
  if ! wait_for 240 stable_running; then ko "$CASE: deployed and running in Flink" "$(fstatus '{.status}')"; flink_delete; return; fi
  local jm0 jid0; jm0=$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].metadata.uid}')
  jid0=$(fstatus '{.status.jobStatus.jobId}')
  failed() { [ "$(flink_job_state)" = FAILED ]; }
  if wait_for 60 failed; then ok "$CASE: Flink says the job FAILED (the count reached 200, no restarts)"; else ko "$CASE: the job fails" "$(flink_job_state)"; fi
  check "$CASE: the Counter failed through --fail-once" "yes" "$([ -f "$marker" ] && echo yes)"
  event() { kubectl -n $FNS get events --field-selector involvedObject.name=$FD2,reason=RestartFailedJob -o jsonpath='{.items[*].type}' | grep -q Warning; }
  if wait_for 60 event; then ok "$CASE: a RestartFailedJob Warning"; else ko "$CASE: a RestartFailedJob Warning" "$(fstatus '{.status}')"; fi
  again() { local u; u=$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].metadata.uid}' 2>/dev/null)
    [ -n "$u" ] && [ "$u" != "$jm0" ] && stable_running; }
  if wait_for 240 again; then ok "$CASE: deployed again: a new JobManager pod, STABLE, Flink runs the job"
  else ko "$CASE: deployed again" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; flink_delete; return; fi
  # (a retained checkpoint restored through execution.savepoint.path: Flink flags it a savepoint)
  case $(restored_from) in
    *"/checkpoints/$jid0/chk-"*) ok "$CASE: Flink says the job restored the failed job's checkpoint ($(restored_from))" ;;
    *) ko "$CASE: restored the failed job's checkpoint" "$(restored_from), the failed job $jid0" ;;
  esac
  if wait_for 60 counting && [ "$(counter restored)" -gt 0 ] && [ "$(counter restored)" -lt 200 ]; then
    ok "$CASE: the count went on from $(counter restored), a checkpoint's from before the failure"
  else ko "$CASE: the count went on from the checkpoint" "restored $(counter restored 2>&1)"; fi
  past() { [ "$(counter count 2>/dev/null || echo 0)" -gt 220 ]; }
  if wait_for 60 past && [ "$(flink_job_state)" = RUNNING ]; then ok "$CASE: it counts past 200 and keeps running ($(counter count))"
  else ko "$CASE: running past the failure" "count $(counter count 2>&1), $(flink_job_state)"; fi
  flink_delete
}

# kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age: checkpoints every hour, so
# the job has none when its spec changes 20 s after it started; the last-state upgrade is done with
# a savepoint (which Flink took and the new job restored, on the volume), the count going on.
# Without the rule it would start empty: nothing else could restore it.
max_age() {
  FD2=age; CASE="max checkpoint age"; KMODE=native; FV=1.20; UMODE=last-state
  ops_apply "    execution.checkpointing.interval: 60 min
    kubernetes.operator.job.upgrade.last-state.max.allowed.checkpoint.age: 20 s" '[--rate, "20"]'
  if ! wait_for 240 stable_running || ! wait_for 60 counting; then ko "$CASE: deployed and running in Flink" "$(fstatus '{.status}')"; flink_delete; return; fi
  local jid; jid=$(fstatus '{.status.jobStatus.jobId}')
  older() { [ $(( $(now_ms) - $(fstatus '{.status.jobStatus.startTime}') )) -gt 25000 ]; }
  wait_for 60 older
  check "$CASE: Flink completed no checkpoint" "0" "$(completed_checkpoints)"
  local c0; c0=$(counter count)
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"args":["--rate","21"]}}}' >/dev/null
  upgraded() { [ "$(fstatus '{.status.observedGeneration}')" = "$(kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath='{.metadata.generation}')" ] \
    && [ "$(fstatus '{.status.jobStatus.jobId}')" != "$jid" ] && stable_running; }
  if wait_for 300 upgraded; then ok "$CASE: upgraded: STABLE, Flink runs the new job"
  else ko "$CASE: upgraded" "$(fstatus '{.status}')"; flink_delete; return; fi
  local rf; rf=$(restored_from)
  case $rf in
    *" savepoint") ok "$CASE: Flink says the new job restored a savepoint ($rf)" ;;
    *) ko "$CASE: restored a savepoint" "$rf" ;;
  esac
  check "$CASE: the savepoint restored is on the volume and is the status's last savepoint" "yes $(last_sp)" \
    "$(on_volume "${rf% *}" && echo yes) ${rf% *}"
  if wait_for 60 counting && [ "$(counter restored)" -ge "$c0" ]; then ok "$CASE: the count went on from $(counter restored) (it was $c0 before the change)"
  else ko "$CASE: the count went on" "restored $(counter restored 2>&1), before $c0"; fi
  flink_delete
}

in_parallel periodic_and_scale unhealthy
in_parallel rollback in_place
in_parallel restart_failed max_age
