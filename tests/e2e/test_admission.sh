#!/usr/bin/env bash
# End-to-end admission through the real kubectl against the local control plane.
# Sourced by run.sh (which provides check/ok/ko, the cluster, the webhook and $ROOT).

ns=e2e-admission
kubectl create namespace $ns >/dev/null
# applies a manifest into $ns whatever namespace it names
napply() { local f=$1; shift; sed '/^  namespace:/d' "$f" | kubectl -n $ns apply "$@" -f -; }

# 1. every invalid manifest is rejected with the rulebook's message, by apply and by a server
#    dry run, and nothing is stored
for f in "$E2E_DIR"/invalid/*.yaml; do
  want=$(sed -n '1s/^# expect: //p' "$f")
  name=$(awk '/^metadata:/{m=1} m && /^  name:/{print $2; exit}' "$f")
  out=$(napply "$f" 2>&1); rc=$?
  if [ $rc -ne 0 ] && grep -qF "denied the request: $want" <<<"$out"; then ok "apply rejects $(basename "$f")"; else ko "apply rejects $(basename "$f")" "$out"; fi
  out=$(napply "$f" --dry-run=server 2>&1); rc=$?
  if [ $rc -ne 0 ] && grep -qF "$want" <<<"$out"; then ok "server dry run rejects $(basename "$f")"; else ko "server dry run rejects $(basename "$f")" "$out"; fi
  out=$(kubectl -n $ns get flinkdeployment "$name" 2>&1)
  if grep -q NotFound <<<"$out"; then ok "nothing stored for $(basename "$f")"; else ko "nothing stored for $(basename "$f")" "$out"; fi
done

# 2. a valid server dry run reports success and stores nothing
out=$(kubectl -n $ns apply --dry-run=server -f "$ROOT/examples/stateless.yaml" 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q "created (server dry run)" <<<"$out"; then ok "server dry run admits a valid example"; else ko "server dry run admits a valid example" "$out"; fi
out=$(kubectl -n $ns get flinkdeployment stateless-example 2>&1)
if grep -q NotFound <<<"$out"; then ok "server dry run stores nothing"; else ko "server dry run stores nothing" "$out"; fi

# 3. every valid example is stored with the defaults visible; a second apply is unchanged
for f in stateless savepoint last-state suspended session seed-last-state-fixed seed-savepoint-nonce-fixed; do
  out=$(napply "$ROOT/examples/$f.yaml" 2>&1)
  if grep -q "created" <<<"$out"; then ok "apply stores $f"; else ko "apply stores $f" "$out"; fi
done
got=$(kubectl -n $ns get flinkdeployment stateless-example -o jsonpath='{.spec.job.state}/{.spec.job.upgradeMode}/{.spec.mode}/{.spec.jobManager.replicas}/{.metadata.labels.app\.kubernetes\.io/managed-by}')
check "defaults from the mutating webhook" "running/stateless/native/1/flink-operator" "$got"
# the job ServiceAccount by default (the webhook's --default-service-account, for this namespace
# only): filled in when neither the spec nor a pod template names one
sed '/^  serviceAccount:/d; s/name: stateless-example/name: no-account/' "$ROOT/examples/stateless.yaml" | napply /dev/stdin >/dev/null 2>&1
check "no serviceAccount: the default one filled in" "flink" "$(kubectl -n $ns get flinkdeployment no-account -o jsonpath='{.spec.serviceAccount}')"
check "a pod template's service account: none filled in (the template's is used)" "" \
  "$(kubectl -n $ns get flinkdeployment basic-checkpoint-ha-example -o jsonpath='{.spec.serviceAccount}' 2>&1)"
kubectl create namespace $ns-other >/dev/null
sed '/^  serviceAccount:/d; s/name: stateless-example/name: no-account/' "$ROOT/examples/stateless.yaml" | sed '/^  namespace:/d' | kubectl -n $ns-other apply -f - >/dev/null 2>&1
check "no serviceAccount in a namespace without the default one: none filled in" "" \
  "$(kubectl -n $ns-other get flinkdeployment no-account -o jsonpath='{.spec.serviceAccount}' 2>&1)"
kubectl delete namespace $ns-other --wait=false >/dev/null 2>&1
got=$(kubectl -n $ns get flinkdeployment suspended-example -o jsonpath='{.spec.job.state}/{.spec.job.upgradeMode}')
check "user values are kept" "suspended/stateless" "$got"
got=$(kubectl -n $ns get flinkdeployment session-example -o jsonpath='{.spec.job}|{.spec.mode}')
check "no job added to a session cluster" "|native" "$got"
out=$(kubectl -n $ns apply -f "$ROOT/examples/stateless.yaml" 2>&1)
check "a second apply is unchanged" "flinkdeployment.flink.apache.org/stateless-example unchanged" "$out"
out=$(kubectl -n $ns get flinkdep 2>&1)
if head -1 <<<"$out" | grep -q "JOB STATUS.*LIFECYCLE STATE"; then ok "printer columns"; else ko "printer columns" "$out"; fi

# 4. the API server's own schema rejects a bad enum
out=$(printf 'apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: bad-enum}\nspec: {flinkVersion: v1_20, job: {parallelism: 1, upgradeMode: laststate}}\n' | kubectl -n $ns apply -f - 2>&1)
if grep -q 'spec.job.upgradeMode: Unsupported value: "laststate"' <<<"$out"; then ok "CRD schema rejects a bad enum"; else ko "CRD schema rejects a bad enum" "$out"; fi

# 5. warnings from the webhook are shown by kubectl
out=$(sed "s/basic-checkpoint-ha-example/warned/" "$ROOT/examples/seed-last-state-fixed.yaml" > "$FO_CLUSTER_DIR/warned.yaml"; napply "$FO_CLUSTER_DIR/warned.yaml" --dry-run=server 2>&1)
if grep -q "Warning: Flink version v1_14 is deprecated" <<<"$out"; then ok "kubectl shows webhook warnings"; else ko "kubectl shows webhook warnings" "$out"; fi

# 6. an UPDATE that breaks an upgrade rule: status written through the status subresource
spec='{"spec":{"flinkVersion":"v1_20","job":{"jarURI":"local:///opt/flink/examples/streaming/StateMachineExample.jar","parallelism":2,"state":"running","upgradeMode":"stateless"}},"resource_metadata":{"apiVersion":"flink.apache.org/v1beta1","firstDeployment":true}}'
patch=$(python3 -c 'import json,sys; print(json.dumps({"status":{"reconciliationStatus":{"state":"DEPLOYED","lastReconciledSpec":sys.argv[1]},"lifecycleState":"STABLE"}}))' "$spec")
out=$(kubectl -n $ns patch flinkdeployment stateless-example --subresource=status --type=merge -p "$patch" 2>&1)
if grep -q patched <<<"$out"; then ok "status written through the subresource"; else ko "status written through the subresource" "$out"; fi
out=$(sed '/^  job:/,$d' "$ROOT/examples/stateless.yaml" | kubectl -n $ns apply -f - 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -qF "denied the request: Cannot switch from job to session cluster" <<<"$out"; then ok "UPDATE removing job is rejected"; else ko "UPDATE removing job is rejected" "$out"; fi
got=$(kubectl -n $ns get flinkdeployment stateless-example -o jsonpath='{.spec.job.parallelism}')
check "the stored object is unchanged" "2" "$got"
out=$(sed 's/parallelism: 2/parallelism: 3/' "$ROOT/examples/stateless.yaml" | kubectl -n $ns apply -f - 2>&1)
if grep -q configured <<<"$out"; then ok "a valid UPDATE is admitted"; else ko "a valid UPDATE is admitted" "$out"; fi

# 6b. FlinkSessionJob: stored with the webhook's defaults and the target.session label, denied
#     with the reference's words (nothing stored), its printer columns and kubectl explain
sj() { printf 'apiVersion: flink.apache.org/v1beta1\nkind: FlinkSessionJob\nmetadata: {name: %s}\nspec:\n  deploymentName: %s\n  job: {jarURI: "%s", parallelism: 1}\n' "$1" "$2" "$3"; }
out=$(sj sj-ok session-example https://example.com/job.jar | kubectl -n $ns apply -f - 2>&1)
if grep -q "flinksessionjob.flink.apache.org/sj-ok created" <<<"$out"; then ok "session job: apply stores a valid one"; else ko "session job: apply stores a valid one" "$out"; fi
check "session job: the webhook's defaults and target.session label" "running/stateless/session-example/flink-operator" \
  "$(kubectl -n $ns get flinksessionjob sj-ok -o jsonpath='{.spec.job.state}/{.spec.job.upgradeMode}/{.metadata.labels.target\.session}/{.metadata.labels.app\.kubernetes\.io/managed-by}' 2>&1)"
out=$(sj sj-bad session-example https://169.254.169.254/job.jar | kubectl -n $ns apply -f - 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -qF "denied the request: jarURI host '169.254.169.254' resolves to a restricted address" <<<"$out"; then ok "session job: a restricted jar host is denied"; else ko "session job: a restricted jar host is denied" "$out"; fi
out=$(sj sj-bad Session https://example.com/job.jar | kubectl -n $ns apply --dry-run=server -f - 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -qF "The FlinkDeployment name: Session is invalid" <<<"$out"; then ok "session job: an invalid deploymentName is denied (server dry run)"; else ko "session job: an invalid deploymentName is denied" "$out"; fi
out=$(kubectl -n $ns get flinksessionjob sj-bad 2>&1)
if grep -q NotFound <<<"$out"; then ok "session job: nothing stored when denied"; else ko "session job: nothing stored when denied" "$out"; fi
out=$(kubectl -n $ns get sessionjob 2>&1)
if head -1 <<<"$out" | grep -q "JOB STATUS.*LIFECYCLE STATE" && grep -q "^sj-ok" <<<"$out"; then ok "session job: short name and printer columns"; else ko "session job: printer columns" "$out"; fi
out=$(kubectl explain flinksessionjob.spec.deploymentName 2>&1)
if grep -q "session cluster's FlinkDeployment" <<<"$out"; then ok "session job: kubectl explain"; else ko "session job: kubectl explain" "$out"; fi

# 6c. FlinkStateSnapshot: stored when it asks for one snapshot of a named job, denied in the
#     reference's words otherwise; short name and printer columns
snap() { printf 'apiVersion: flink.apache.org/v1beta1\nkind: FlinkStateSnapshot\nmetadata: {name: %s}\nspec:\n%s\n' "$1" "$2"; }
out=$(snap snap-ok '  jobReference: {kind: FlinkDeployment, name: stateless-example}
  savepoint: {disposeOnDelete: true}' | kubectl -n $ns apply -f - 2>&1)
if grep -q "flinkstatesnapshot.flink.apache.org/snap-ok created" <<<"$out"; then ok "snapshot: apply stores a valid one"; else ko "snapshot: apply stores a valid one" "$out"; fi
out=$(snap snap-bad '  jobReference: {kind: FlinkDeployment, name: stateless-example}
  savepoint: {}
  checkpoint: {}' | kubectl -n $ns apply -f - 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -qF "denied the request: Exactly one of checkpoint or savepoint configurations has to be set." <<<"$out"; then ok "snapshot: both kinds at once denied"; else ko "snapshot: both kinds at once denied" "$out"; fi
out=$(snap snap-bad '  checkpoint: {}' | kubectl -n $ns apply -f - 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -qF "denied the request: Job reference must be supplied for this snapshot" <<<"$out"; then ok "snapshot: no job reference denied"; else ko "snapshot: no job reference denied" "$out"; fi
out=$(kubectl -n $ns get flinksnp 2>&1)
if head -1 <<<"$out" | grep -q "PATH.*RESULT TIMESTAMP.*SNAPSHOT STATE" && grep -q "^snap-ok" <<<"$out" && ! grep -q "^snap-bad" <<<"$out"; then ok "snapshot: short name, printer columns, nothing stored when denied"; else ko "snapshot: printer columns" "$out"; fi

# 7. the webhook down with failurePolicy Fail: a clear error; back up, the apply works
webhook_stop
out=$(sed 's/savepoint-example/while-down/' "$ROOT/examples/savepoint.yaml" | kubectl -n $ns apply --dry-run=server -f - 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q 'failed calling webhook "mutationwebhook.flink.apache.org"' <<<"$out"; then ok "webhook down: clear error"; else ko "webhook down: clear error" "$out"; fi
webhook_start
out=$(sed 's/savepoint-example/savepoint-two/' "$ROOT/examples/savepoint.yaml" | kubectl -n $ns apply -f - 2>&1)
if grep -q "savepoint-two created" <<<"$out"; then ok "webhook back: apply works"; else ko "webhook back: apply works" "$out"; fi

kubectl delete namespace $ns --wait=false >/dev/null 2>&1
