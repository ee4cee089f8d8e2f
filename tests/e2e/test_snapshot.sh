#!/usr/bin/env bash
# FlinkStateSnapshot end to end: local control plane + webhook + controller + simulated Flink.
# A savepoint and a checkpoint asked for as resources, taken by Flink (the simulator's record and
# the volume say so); one whose job is missing is ABANDONED; a failed savepoint is retried within
# backoffLimit, or FAILED past it; a savepoint that already exists is recorded as it is; deleting
# one with disposeOnDelete disposes of its data; and the savepoints the operator takes itself (a
# nonce's, an upgrade's) appear as resources. Sourced by run.sh.
ns=e2e-snap
kubectl create namespace $ns >/dev/null
flinksim_start --checkpoint-interval 0.3 --start-delay 0.3 --savepoint-delay 0.3
url="http://127.0.0.1:$FLINKSIM_PORT/{namespace}/{name}"
printf 'kubernetes.operator.savepoint.history.max.count: "2"\n' > "$FO_CLUSTER_DIR/snap-operator.yaml"
controller_start snap --leader-elect=false --config "$FO_CLUSTER_DIR/snap-operator.yaml" --flink-url-template "$url"
rec() { python3 "$E2E_DIR/tools.py" sim-record "$FLINKSIM_STATE" "$ns/$1" "$2"; }
snp() { kubectl -n $ns get flinkstatesnapshot "$1" -o jsonpath="$2" 2>/dev/null; }
fdp() { kubectl -n $ns get flinkdep "$1" -o jsonpath="$2" 2>/dev/null; }
snap_is() { [ "$(snp "$1" '{.status.state}')" = "$2" ]; }
on_disk() { [ -d "$FO_CLUSTER_DIR/flinksim/data$(printf '%s' "$1" | sed 's|^file:/*|/|')" ]; }
snapshot() { # name kind target body
  printf 'apiVersion: flink.apache.org/v1beta1\nkind: FlinkStateSnapshot\nmetadata: {name: %s, namespace: %s}\nspec:\n  jobReference: {kind: %s, name: %s}\n%s\n' "$1" "$ns" "$2" "$3" "$4" | kubectl apply -f - >/dev/null
}

flinkdep_yaml job $ns savepoint | kubectl apply -f - >/dev/null
running() { [ "$(fdp job '{.status.lifecycleState} {.status.jobStatus.state}')" = "STABLE RUNNING" ]; }
wait_for 40 running || ko "snapshot: the job runs" "$(fdp job '{.status}')"

# ---- a savepoint asked for as a resource ----
sps=$(rec job savepoints)
snapshot sp1 FlinkDeployment job '  savepoint: {disposeOnDelete: true, formatType: CANONICAL}'
if wait_for 30 snap_is sp1 COMPLETED; then ok "savepoint: COMPLETED"; else ko "savepoint: COMPLETED" "$(snp sp1 '{.status}')"; fi
path1=$(snp sp1 '{.status.path}')
check "savepoint: Flink took it (one more savepoint, the recorded path, on disk)" "$((sps + 1)) $(rec job last-savepoint) yes" \
  "$(rec job savepoints) $path1 $(on_disk "$path1" && echo yes)"
check "savepoint: the reference's labels" "SAVEPOINT COMPLETED MANUAL FlinkDeployment job" \
  "$(snp sp1 '{.metadata.labels.snapshot\.type} {.metadata.labels.snapshot\.state} {.metadata.labels.snapshot\.trigger-type} {.metadata.labels.job-reference\.kind} {.metadata.labels.job-reference\.name}')"
check "savepoint: trigger id, timestamps, no failure; kubectl get shows path and state" "yes 0 $path1 COMPLETED" \
  "$([ -n "$(snp sp1 '{.status.triggerId}')" ] && [ -n "$(snp sp1 '{.status.triggerTimestamp}')" ] && [ -n "$(snp sp1 '{.status.resultTimestamp}')" ] && echo yes) $(snp sp1 '{.status.failures}') $(kubectl -n $ns get flinksnp sp1 --no-headers | awk '{print $2, $NF}')"

# ---- a checkpoint asked for as a resource ----
snapshot cp1 FlinkDeployment job '  checkpoint: {}'
if wait_for 30 snap_is cp1 COMPLETED; then ok "checkpoint: COMPLETED"
else ko "checkpoint: COMPLETED" "$(snp cp1 '{.status}')"$'\n'"$(grep -F cp1 "$FO_CLUSTER_DIR/logs/controller-snap.log" | tail -8)"$'\n'"$(grep -F checkpoint "$FO_CLUSTER_DIR/logs/flinksim.log" | tail -4)"; fi
cpath=$(snp cp1 '{.status.path}')
# (Flink keeps one checkpoint: a newer one may have subsumed it since, and deleted its files)
check "checkpoint: the path of the checkpoint Flink took for its trigger id; labelled CHECKPOINT" "${cpath:-(no path)} CHECKPOINT" \
  "$(rec job "checkpoint-of:$(snp cp1 '{.status.triggerId}')") $(snp cp1 '{.metadata.labels.snapshot\.type}')"

# ---- the job it names is missing: ABANDONED ----
snapshot lost FlinkDeployment nosuch '  savepoint: {}'
if wait_for 20 snap_is lost ABANDONED; then ok "missing job: ABANDONED"; else ko "missing job" "$(snp lost '{.status}')"; fi
check "missing job: the reference's words, in status.error and a SnapshotAbandoned Event" "yes yes" \
  "$(snp lost '{.status.error}' | grep -qF 'Secondary resource nosuch (FlinkDeployment) for savepoint lost was not found' && echo yes) $(kubectl -n $ns get events --field-selector involvedObject.name=lost,reason=SnapshotAbandoned -o name | grep -q . && echo yes)"

# ---- a failed savepoint: FAILED with backoffLimit 0; retried and completed with 1 ----
curl -s -X POST "http://127.0.0.1:$FLINKSIM_PORT/_sim/faults/$ns/job" -d '{"fail_next_savepoint": true}' >/dev/null
snapshot nofail FlinkDeployment job $'  backoffLimit: 0\n  savepoint: {}'
if wait_for 30 snap_is nofail FAILED; then ok "failed savepoint, backoffLimit 0: FAILED"; else ko "failed savepoint: FAILED" "$(snp nofail '{.status}')"; fi
check "failed savepoint: one failure, the cause in status.error, a SavepointError Event" "1 yes yes" \
  "$(snp nofail '{.status.failures}') $(snp nofail '{.status.error}' | grep -q 'Savepoint failed' && echo yes) $(kubectl -n $ns get events --field-selector involvedObject.name=nofail,reason=SavepointError -o name | grep -q . && echo yes)"
curl -s -X POST "http://127.0.0.1:$FLINKSIM_PORT/_sim/faults/$ns/job" -d '{"fail_next_savepoint": true}' >/dev/null
snapshot retry FlinkDeployment job $'  backoffLimit: 1\n  savepoint: {}'
if wait_for 60 snap_is retry COMPLETED; then ok "failed savepoint, backoffLimit 1: retried, COMPLETED"; else ko "failed savepoint: retried" "$(snp retry '{.status}')"; fi
check "retried savepoint: one failure counted, the path Flink gave" "1 $(rec job last-savepoint)" "$(snp retry '{.status.failures} {.status.path}')"

# ---- a savepoint that already exists: recorded as it is, nothing asked of Flink ----
sps=$(rec job savepoints)
snapshot old FlinkDeployment job '  savepoint: {path: "file:///savepoints/from-elsewhere", alreadyExists: true}'
if wait_for 20 snap_is old COMPLETED; then ok "alreadyExists: COMPLETED"; else ko "alreadyExists" "$(snp old '{.status}')"; fi
check "alreadyExists: its path, no savepoint taken" "file:///savepoints/from-elsewhere $sps" "$(snp old '{.status.path}') $(rec job savepoints)"

# ---- deleted with disposeOnDelete: Flink disposes of the data ----
kubectl -n $ns delete flinkstatesnapshot sp1 --wait=false >/dev/null
disposed() { ! kubectl -n $ns get flinkstatesnapshot sp1 >/dev/null 2>&1 && ! on_disk "$path1"; }
if wait_for 30 disposed; then ok "disposeOnDelete: the resource and the savepoint's data are gone"; else ko "disposeOnDelete" "$(snp sp1 '{.metadata}') $(on_disk "$path1" && echo 'still on disk')"; fi
kubectl -n $ns delete flinkstatesnapshot retry --wait=false >/dev/null
kept() { ! kubectl -n $ns get flinkstatesnapshot retry >/dev/null 2>&1; }
wait_for 30 kept
check "no disposeOnDelete: the resource goes, the data stays" "yes" "$(on_disk "$(rec job last-savepoint)" && echo yes)"

# ---- the operator's own savepoints appear as resources ----
kubectl -n $ns patch flinkdep job --type merge -p '{"spec":{"job":{"savepointTriggerNonce":3}}}' >/dev/null
nonce_done() { [ "$(fdp job '{.status.jobStatus.savepointInfo.lastSavepoint.triggerNonce}')" = 3 ]; }
wait_for 30 nonce_done || ko "records: the nonce's savepoint" "$(fdp job '{.status.jobStatus.savepointInfo}')"
record_of() { # trigger type: "name path state" of the operator's record for lastSavepoint
  kubectl -n $ns get flinkstatesnapshot "job-savepoint-$1-$(fdp job '{.status.jobStatus.savepointInfo.lastSavepoint.timeStamp}')" \
    -o jsonpath='{.spec.jobReference.name} {.status.path} {.status.state} {.metadata.labels.snapshot\.trigger-type}' 2>/dev/null; }
manual_recorded() { [ "$(record_of manual)" = "job $(fdp job '{.status.jobStatus.savepointInfo.lastSavepoint.location}') COMPLETED MANUAL" ]; }
if wait_for 20 manual_recorded; then ok "records: the nonce's savepoint is a COMPLETED FlinkStateSnapshot (MANUAL) with its path"; else ko "records: nonce" "$(record_of manual)"$'\n'"$(kubectl -n $ns get flinksnp 2>&1)"; fi
kubectl -n $ns patch flinkdep job --type merge -p '{"spec":{"job":{"parallelism":3}}}' >/dev/null
upgraded() { running && [ "$(fdp job '{.status.jobStatus.savepointInfo.lastSavepoint.triggerType}')" = UPGRADE ]; }
wait_for 40 upgraded || ko "records: the upgrade" "$(fdp job '{.status}')"
upgrade_recorded() { [ "$(record_of upgrade)" = "job $(rec job last-savepoint) COMPLETED UPGRADE" ]; }
if wait_for 20 upgrade_recorded; then ok "records: the upgrade's savepoint is a COMPLETED FlinkStateSnapshot (UPGRADE), the one Flink took"; else ko "records: upgrade" "$(record_of upgrade)"; fi

# ---- the records are trimmed as the savepoint history is: UPGRADE ones past max.count (2 here)
# go, the MANUAL one stays ----
for par in 4 5; do
  before=$(fdp job '{.status.jobStatus.savepointInfo.lastSavepoint.timeStamp}')
  kubectl -n $ns patch flinkdep job --type merge -p "{\"spec\":{\"job\":{\"parallelism\":$par}}}" >/dev/null
  next() { running && [ "$(fdp job '{.status.jobStatus.savepointInfo.lastSavepoint.timeStamp}')" != "$before" ] && upgrade_recorded; }
  wait_for 40 next || ko "records: upgrade to parallelism $par" "$(fdp job '{.status}')"
done
upgrades() { kubectl -n $ns get flinksnp -l snapshot.trigger-type=UPGRADE -o name | wc -l; }
two_left() { [ "$(upgrades)" = 2 ]; }
if wait_for 20 two_left; then ok "records: three upgrades, the two newest UPGRADE records kept (max.count 2)"; else ko "records: trimmed" "$(kubectl -n $ns get flinksnp 2>&1)"; fi
check "records: the newest is kept, the MANUAL one too" "yes 1" \
  "$(upgrade_recorded && echo yes) $(kubectl -n $ns get flinksnp -o name | grep -c '/job-savepoint-manual-')"

# ---- cleanup ----
kubectl -n $ns delete flinkstatesnapshot --all --wait=false >/dev/null
kubectl -n $ns delete flinkdep job --wait=false >/dev/null
gone() { [ -z "$(kubectl -n $ns get flinkdep,flinksnp,deploy -o name)" ]; }
if wait_for 40 gone; then ok "cleanup: snapshots and the job gone"; else ko "cleanup" "$(kubectl -n $ns get flinkdep,flinksnp,deploy -o name)"; fi
controller_stop snap
flinksim_stop
kubectl delete namespace $ns --wait=false >/dev/null 2>&1
