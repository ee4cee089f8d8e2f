#!/usr/bin/env bash
# FlinkSessionJob end to end: local control plane + webhook + controller + simulated Flink. A jar
# fetched from a file, uploaded to the session cluster, run under the id the status records; a
# savepoint by nonce; upgrades in each mode; suspend and resume; validation against the cluster;
# deletion; and the controller killed before each of its writes during a savepoint upgrade. What
# happened is read from Flink's REST API and the simulator's record, not from our status alone.
# Sourced by run.sh.
ns=e2e-sj
kubectl create namespace $ns >/dev/null
flinksim_start --checkpoint-interval 0.3 --start-delay 0.3 --savepoint-delay 0.3
sjdir=$FO_CLUSTER_DIR/sessionjob
mkdir -p "$sjdir/artifacts"
head -c 70000 /dev/urandom > "$sjdir/job.jar"
printf 'kubernetes.operator.user.artifacts.allowed-schemes: https;file\n' > "$sjdir/operator.yaml"
# the webhook judges the jar's scheme by the same operator configuration
webhook_stop; FO_WEBHOOK_CONFIG="$sjdir/operator.yaml" webhook_start
url="http://127.0.0.1:$FLINKSIM_PORT/{namespace}/{name}"
ctl_args=(--leader-elect=false --config "$sjdir/operator.yaml" --artifacts-dir "$sjdir/artifacts" --flink-url-template "$url")
controller_start sj "${ctl_args[@]}"
rest() { curl -sf "http://127.0.0.1:$FLINKSIM_PORT/$ns/sess$1"; }
sjp() { kubectl -n $ns get flinksessionjob "$1" -o jsonpath="$2" 2>/dev/null; }
# the state of job $2 as the session cluster's /jobs/overview says
flink_state() { rest /jobs/overview | python3 -c 'import json,sys; print(" ".join(j["state"] for j in json.load(sys.stdin)["jobs"] if j["jid"]==sys.argv[1]))' "$1"; }
sj_running() { [ "$(sjp "$1" '{.status.jobStatus.state} {.status.lifecycleState}')" = "RUNNING STABLE" ] && [ "$(flink_state "$(sjp "$1" '{.status.jobStatus.jobId}')")" = RUNNING ]; }
rec() { python3 "$E2E_DIR/tools.py" sim-record "$FLINKSIM_STATE" "$ns/sess" "$1"; }
runs() { python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(sum(1 for e in r if e.get("event")=="session-job-run" and e.get("cluster")==sys.argv[2]))' "$FLINKSIM_STATE" "$ns/sess"; }
last_run() { python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; r=[e for e in r if e.get("event")=="session-job-run" and e.get("cluster")==sys.argv[2]]; e=r[-1] if r else {}; print(e.get("jobId"), e.get("entryClass"), json.dumps(e.get("args")))' "$FLINKSIM_STATE" "$ns/sess"; }
sessionjob() { # name mode [extra job lines]
  cat <<YAML
apiVersion: flink.apache.org/v1beta1
kind: FlinkSessionJob
metadata: {name: $1, namespace: $ns}
spec:
  deploymentName: sess
  job:
    jarURI: file://$sjdir/job.jar
    entryClass: org.example.Counter
    args: ["--rate", "10"]
    parallelism: 2
    upgradeMode: $2
${3:-}
YAML
}

flinkdep_yaml sess $ns stateless | sed '/^  job:$/,$d' | kubectl apply -f - >/dev/null
sess_ready() { [ "$(kubectl -n $ns get flinkdep sess -o jsonpath='{.status.jobManagerDeploymentStatus}')" = READY ]; }
wait_for 40 sess_ready || ko "session cluster ready" "$(kubectl -n $ns get flinkdep sess -o jsonpath='{.status}')"

# ---- deploy: the jar fetched, uploaded, run under the recorded id, then deleted from the cluster ----
sessionjob a savepoint | kubectl apply -f - >/dev/null
if wait_for 40 sj_running a; then ok "deploy: Flink runs the job under the id the status records, STABLE"; else ko "deploy" "$(sjp a '{.status}')"; fi
jid1=$(sjp a '{.status.jobStatus.jobId}')
check "deploy: Flink ran it with the entry class and arguments" "$jid1 org.example.Counter [\"--rate\", \"10\"]" "$(last_run)"
check "deploy: the jar that arrived is the file's (bytes)" "70000" "$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print([e["size"] for e in r if e.get("event")=="jar-uploaded" and e.get("cluster")==sys.argv[2]][-1])' "$FLINKSIM_STATE" "$ns/sess")"
check "deploy: no jar left in the session cluster, none in the artifacts directory" "0 0" \
  "$(rest /jars | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["files"]))') $(find "$sjdir/artifacts" -mindepth 1 | wc -l)"
check "deploy: our finalizer, a Submit Event" "flinksessionjobs.flink.apache.org/finalizer Starting deployment" \
  "$(sjp a '{.metadata.finalizers[0]}') $(kubectl -n $ns get events --field-selector involvedObject.name=a,involvedObject.kind=FlinkSessionJob,reason=Submit -o jsonpath='{.items[0].message}')"
check "deploy: kubectl get shows the job state and lifecycle" "RUNNING STABLE" \
  "$(kubectl -n $ns get sessionjob a --no-headers | awk '{print $2, $3}')"

# ---- savepoint by nonce: Flink took it, the status records it ----
kubectl -n $ns patch sessionjob a --type merge -p '{"spec":{"job":{"savepointTriggerNonce":1}}}' >/dev/null
sp_done() { [ "$(sjp a '{.status.jobStatus.savepointInfo.lastSavepoint.triggerNonce}')" = 1 ]; }
if wait_for 30 sp_done; then ok "savepoint nonce: recorded"; else ko "savepoint nonce" "$(sjp a '{.status}')"; fi
check "savepoint nonce: the simulator took that savepoint, and it is on disk; the job runs on" "$(rec last-savepoint) yes $jid1 RUNNING" \
  "$(sjp a '{.status.jobStatus.savepointInfo.lastSavepoint.location}') $([ -d "$FO_CLUSTER_DIR/flinksim/data$(rec last-savepoint | sed 's|^file:/*|/|')" ] && echo yes) $(sjp a '{.status.jobStatus.jobId}') $(flink_state "$jid1")"

sp_record() { kubectl -n $ns get flinkstatesnapshot "a-savepoint-manual-$(sjp a '{.status.jobStatus.savepointInfo.lastSavepoint.timeStamp}')" \
  -o jsonpath='{.status.state} {.status.path} {.metadata.labels.job-reference\.kind}' 2>/dev/null; }
recorded() { [ "$(sp_record)" = "COMPLETED $(rec last-savepoint) FlinkSessionJob" ]; }
if wait_for 20 recorded; then ok "savepoint nonce: recorded as a COMPLETED FlinkStateSnapshot of the FlinkSessionJob"; else ko "savepoint nonce: FlinkStateSnapshot" "$(sp_record)"; fi

# ---- savepoint upgrade: stop with a savepoint, the new job restores it ----
sps=$(rec savepoints)
kubectl -n $ns patch sessionjob a --type merge -p '{"spec":{"job":{"parallelism":3}}}' >/dev/null
upgraded_from() { [ "$(sjp a '{.status.jobStatus.jobId}')" != "$1" ] && sj_running a; }
if wait_for 40 upgraded_from "$jid1"; then ok "savepoint upgrade: a new job runs"; else ko "savepoint upgrade" "$(sjp a '{.status}')"; fi
jid2=$(sjp a '{.status.jobStatus.jobId}')
check "savepoint upgrade: the old job FINISHED in Flink, one more savepoint, the new job restored it, parallelism 3" \
  "FINISHED $((sps + 1)) savepoint $(rec last-savepoint) 3" \
  "$(flink_state "$jid1") $(rec savepoints) $(rec last-start-kind) $(rec last-start-from) $(rec last-start-parallelism)"
check "savepoint upgrade: lastSavepoint and upgradeSavepointPath are that savepoint" "$(rec last-savepoint) $(rec last-savepoint) UPGRADE" \
  "$(sjp a '{.status.jobStatus.savepointInfo.lastSavepoint.location} {.status.jobStatus.upgradeSavepointPath} {.status.jobStatus.savepointInfo.lastSavepoint.triggerType}')"

# ---- suspend and resume (savepoint mode) ----
kubectl -n $ns patch sessionjob a --type merge -p '{"spec":{"job":{"state":"suspended"}}}' >/dev/null
suspended() { [ "$(sjp a '{.status.lifecycleState}')" = SUSPENDED ] && [ "$(flink_state "$jid2")" = FINISHED ]; }
if wait_for 40 suspended; then ok "suspend: SUSPENDED, the job FINISHED in Flink with a savepoint"; else ko "suspend" "$(sjp a '{.status}') $(flink_state "$jid2")"; fi
check "suspend: upgradeSavepointPath is the savepoint Flink took" "$(rec last-savepoint)" "$(sjp a '{.status.jobStatus.upgradeSavepointPath}')"
kubectl -n $ns patch sessionjob a --type merge -p '{"spec":{"job":{"state":"running"}}}' >/dev/null
if wait_for 40 upgraded_from "$jid2"; then ok "resume: a new job runs"; else ko "resume" "$(sjp a '{.status}')"; fi
check "resume: it restored the suspension's savepoint" "savepoint $(rec last-savepoint)" "$(rec last-start-kind) $(rec last-start-from)"
jid3=$(sjp a '{.status.jobStatus.jobId}')

# ---- last-state upgrade: cancel, the new job restores the newest checkpoint ----
cps_of() { rest "/jobs/$1/checkpoints" | python3 -c 'import json,sys; d=json.load(sys.stdin); print((d.get("latest") or {}).get("completed") and d["latest"]["completed"]["external_path"] or "")'; }
has_cp() { [ -n "$(cps_of "$jid3")" ]; }
wait_for 20 has_cp
kubectl -n $ns patch sessionjob a --type merge -p '{"spec":{"job":{"upgradeMode":"last-state","parallelism":1}}}' >/dev/null
if wait_for 40 upgraded_from "$jid3"; then ok "last-state upgrade: a new job runs"; else ko "last-state upgrade" "$(sjp a '{.status}')"; fi
check "last-state upgrade: the old job was CANCELED, the new one restored its newest checkpoint" "CANCELED $(cps_of "$jid3") 1" \
  "$(flink_state "$jid3") $(rec last-start-from) $(rec last-start-parallelism)"
jid4=$(sjp a '{.status.jobStatus.jobId}')

# ---- stateless upgrade: cancel, start empty ----
kubectl -n $ns patch sessionjob a --type merge -p '{"spec":{"job":{"upgradeMode":"stateless","args":["--rate","20"]}}}' >/dev/null
if wait_for 40 upgraded_from "$jid4"; then ok "stateless upgrade: a new job runs"; else ko "stateless upgrade" "$(sjp a '{.status}')"; fi
check "stateless upgrade: the old job CANCELED, the new one empty, with the new arguments" "CANCELED none [\"--rate\", \"20\"]" \
  "$(flink_state "$jid4") $(rec last-start-kind) $(last_run | cut -d' ' -f3-)"

# ---- validation against the cluster: reported in status.error and an Event, nothing runs ----
sessionjob nocluster stateless | sed 's/deploymentName: sess/deploymentName: nosuch/' | kubectl apply -f - >/dev/null
nc_err() { sjp nocluster '{.status.error}' | grep -qF 'Session cluster deployment is not found'; }
if wait_for 20 nc_err; then ok "validation: a missing session cluster is said in status.error"; else ko "validation: missing cluster" "$(sjp nocluster '{.status}')"; fi
flinkdep_yaml app1 $ns stateless | kubectl apply -f - >/dev/null
sessionjob onapp stateless | sed 's/deploymentName: sess/deploymentName: app1/' | kubectl apply -f - >/dev/null
app_err() { kubectl -n $ns get events --field-selector involvedObject.name=onapp,reason=ValidationError -o jsonpath='{.items[*].message}' | grep -qF 'Can not submit session job to application cluster'; }
if wait_for 30 app_err; then ok "validation: a session job naming an application cluster: ValidationError Event"; else ko "validation: application cluster" "$(sjp onapp '{.status}')"; fi
check "validation: nothing ran for them" "" "$(sjp nocluster '{.status.jobStatus.jobId}')$(sjp onapp '{.status.jobStatus.jobId}')"
kubectl -n $ns delete flinkdep app1 --wait=false >/dev/null

# ---- a jar that cannot be fetched: the reason in status.error, no run ----
before=$(runs)
sessionjob missing stateless | sed "s|file://$sjdir/job.jar|file://$sjdir/nosuch.jar|" | kubectl apply -f - >/dev/null
miss_err() { sjp missing '{.status.error}' | grep -q 'Could not upload the jar of the job'; }
if wait_for 20 miss_err; then ok "jar: a missing file is said in status.error"; else ko "jar: missing file" "$(sjp missing '{.status}')"; fi
check "jar: nothing was run" "$before" "$(runs)"

# ---- the controller killed before each of its writes during a savepoint upgrade ----
kubectl -n $ns patch sessionjob a --type merge -p '{"spec":{"job":{"upgradeMode":"savepoint"}}}' >/dev/null
wait_for 20 sj_running a
controller_stop sj
covered=0
for n in $(seq 1 12); do
  jid=$(sjp a '{.status.jobStatus.jobId}'); r0=$(runs); sps=$(rec savepoints)
  FO_FAULT_KILL_BEFORE_WRITE="FlinkSessionJob:$ns/a:$n" controller_start "sk$n" "${ctl_args[@]}"
  kubectl -n $ns patch sessionjob a --type merge -p "{\"spec\":{\"job\":{\"parallelism\":$((n + 3))}}}" >/dev/null
  died() { ! kill -0 "$(cat "$FO_CLUSTER_DIR/pids/controller-sk$n")" 2>/dev/null; }
  done_or_died() { died || upgraded_from "$jid"; }
  wait_for 40 done_or_died
  if ! died; then controller_stop "sk$n"; break; fi # fewer writes: every one was a kill point
  rm -f "$FO_CLUSTER_DIR/pids/controller-sk$n"
  covered=$n
  controller_start "sr$n" "${ctl_args[@]}"
  if wait_for 40 upgraded_from "$jid"; then
    check "SIGKILL before write $n: one run, one savepoint, restored from it, parallelism $((n + 3))" \
      "$((r0 + 1)) $((sps + 1)) savepoint $(rec last-savepoint) $((n + 3))" \
      "$(runs) $(rec savepoints) $(rec last-start-kind) $(rec last-start-from) $(rec last-start-parallelism)"
  else
    ko "SIGKILL before write $n: converges" "$(sjp a '{.status}')"
  fi
  controller_stop "sr$n"
done
if [ "$covered" -ge 3 ]; then ok "SIGKILL: every write of a session job's savepoint upgrade was a kill point ($covered)"; else ko "SIGKILL: only $covered kill points"; fi
controller_start sj "${ctl_args[@]}"

# ---- delete: the job cancelled in Flink, the resource gone ----
jid=$(sjp a '{.status.jobStatus.jobId}')
kubectl -n $ns delete sessionjob a nocluster onapp missing --wait=false >/dev/null
kubectl -n $ns delete flinkstatesnapshot --all --wait=false >/dev/null
sj_gone() { [ -z "$(kubectl -n $ns get sessionjob -o name)" ]; }
if wait_for 40 sj_gone; then ok "delete: the FlinkSessionJobs are gone"; else ko "delete" "$(kubectl -n $ns get sessionjob -o name)"; fi
check "delete: Flink cancelled the job" "CANCELED" "$(flink_state "$jid")"
kubectl -n $ns delete flinkdep sess --wait=false >/dev/null
gone() { [ -z "$(kubectl -n $ns get flinkdep,deploy -o name)" ]; }
if wait_for 40 gone; then ok "delete: the session cluster follows"; else ko "delete: session cluster" "$(kubectl -n $ns get flinkdep,deploy -o name)"; fi
controller_stop sj
flinksim_stop
webhook_stop; webhook_start
kubectl delete namespace $ns --wait=false >/dev/null 2>&1
