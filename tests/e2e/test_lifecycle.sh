#!/usr/bin/env bash
# The job lifecycle end to end: local control plane + webhook + controller + simulated Flink,
# observed through kubectl and the simulator's record. Sourced by run.sh.
ns=e2e-life
kubectl create namespace $ns >/dev/null
flinksim_start --checkpoint-interval 0.3 --start-delay 0.3 --savepoint-delay 0.3
printf 'kubernetes.operator.health.canary.resource.timeout: 2 s\n' > "$FO_CLUSTER_DIR/life-operator.yaml" # (the canary case)
controller_start life --leader-elect=false --config "$FO_CLUSTER_DIR/life-operator.yaml" --flink-url-template "http://127.0.0.1:$FLINKSIM_PORT/{namespace}/{name}"
rec() { python3 "$E2E_DIR/tools.py" sim-record "$FLINKSIM_STATE" "$ns/$1" "$2"; }
jpath() { kubectl -n $ns get flinkdep "$1" -o jsonpath="$2" 2>/dev/null; }
job_is() { [ "$(jpath "$1" '{.status.jobStatus.state}')" = "$2" ] && [ "$(jpath "$1" '{.status.reconciliationStatus.state}')" = DEPLOYED ]; }
lifecycle_is() { [ "$(jpath "$1" '{.status.lifecycleState}')" = "$2" ]; }
app() { flinkdep_yaml "$1" "$ns" "$2" "${3:-}"; } # name mode [extra flinkConfiguration lines]
HA=$FLINKDEP_HA

# ---- first deploy, stateless ----
app sl stateless | kubectl apply -f - >/dev/null
if wait_for 30 lifecycle_is sl STABLE; then ok "first deploy: STABLE with the job RUNNING"; else ko "first deploy" "$(jpath sl '{.status}')"; fi
check "first deploy: started from empty state" "none" "$(rec sl last-start-kind)"
got=$(kubectl -n $ns get deploy,svc,cm -l app=sl -o jsonpath='{range .items[*]}{.kind}/{.metadata.name}/{.metadata.ownerReferences[0].kind} {end}')
check "first deploy: owned objects" "Deployment/sl/FlinkDeployment Service/sl/FlinkDeployment Service/sl-rest/FlinkDeployment ConfigMap/flink-config-sl/FlinkDeployment " "$got"
check "first deploy: the Deployment records the generation" "1" "$(kubectl -n $ns get deploy sl -o jsonpath='{.metadata.annotations.flinkdeployment\.flink\.apache\.org/generation}')"
# the controller's cache drops kubectl's last-applied annotation; what it writes of the object's
# metadata (the finalizer) must not, or the next kubectl apply would lose its three-way merge
check "first deploy: the finalizer added, kubectl's last-applied annotation kept" "flinkdeployments.flink.apache.org/finalizer yes" \
  "$(jpath sl '{.metadata.finalizers[*]}') $(jpath sl '{.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}' | grep -q '"upgradeMode":"stateless"' && echo yes)"
jid1=$(jpath sl '{.status.jobStatus.jobId}')
kubectl -n $ns patch flinkdep sl --type merge -p '{"spec":{"job":{"parallelism":3}}}' >/dev/null
upgraded() { [ "$(jpath sl '{.status.jobStatus.jobId}')" != "$jid1" ] && job_is sl RUNNING; }
if wait_for 30 upgraded; then ok "stateless upgrade: a new job runs"; else ko "stateless upgrade" "$(jpath sl '{.status}')"; fi
check "stateless upgrade: from empty state, new parallelism" "none 3" "$(rec sl last-start-kind) $(rec sl last-start-parallelism)"

# ---- the scale subresource: kubectl scale (as a HorizontalPodAutoscaler does) ----
# (the 1.20 API server serves the subresource only while spec.taskManager.replicas is set; before
# that the status the subresource reads is checked as it is)
scale_of() { kubectl -n $ns get flinkdep sl --subresource=scale -o jsonpath='{.status.replicas}/{.status.selector}' 2>&1; }
tm_status() { jpath sl '{.status.taskManager.replicas}/{.status.taskManager.labelSelector}'; }
check "scale: the status reads the TaskManagers the spec asks for (parallelism 3, 1 slot each)" "3/component=taskmanager,app=sl" "$(tm_status)"
jid2=$(jpath sl '{.status.jobStatus.jobId}')
out=$(kubectl -n $ns scale flinkdep sl --replicas=2 2>&1) || ko "scale: kubectl scale" "$out"
scaled() { [ "$(jpath sl '{.status.jobStatus.jobId}')" != "$jid2" ] && job_is sl RUNNING && [ "$(scale_of)" = "2/component=taskmanager,app=sl" ] \
  && [ "$(kubectl -n $ns get flinkdep sl --subresource=scale -o jsonpath='{.spec.replicas}')" = 2 ] && [ "$(jpath sl '{.spec.taskManager.replicas}')" = 2 ]; }
if wait_for 30 scaled; then ok "scale: kubectl scale --replicas=2 sets spec.taskManager.replicas, and the job runs again"; else ko "scale: kubectl scale" "$(scale_of)"$'\n'"$(jpath sl '{.status}')"; fi
check "scale: replicas win over the job's parallelism (2 TaskManagers of 1 slot)" "2" "$(rec sl last-start-parallelism)"
kubectl -n $ns patch flinkdep sl --type json -p '[{"op":"remove","path":"/spec/taskManager/replicas"}]' >/dev/null
unscaled() { [ "$(rec sl starts)" = 4 ] && job_is sl RUNNING && [ "$(tm_status)" = "3/component=taskmanager,app=sl" ]; }
if wait_for 30 unscaled; then ok "scale: replicas removed, the parallelism decides again"; else ko "scale: replicas removed" "$(tm_status) $(rec sl starts)"; fi

# ---- stateless suspend and resume, restartNonce ----
kubectl -n $ns patch flinkdep sl --type merge -p '{"spec":{"job":{"state":"suspended"}}}' >/dev/null
if wait_for 30 lifecycle_is sl SUSPENDED; then ok "stateless suspend: SUSPENDED"; else ko "stateless suspend" "$(jpath sl '{.status}')"; fi
check "scale: no TaskManagers while suspended" "0/" "$(tm_status)"
kubectl -n $ns patch flinkdep sl --type merge -p '{"spec":{"job":{"state":"running"}}}' >/dev/null
sl3() { [ "$(rec sl starts)" = 5 ] && job_is sl RUNNING; }
if wait_for 30 sl3; then ok "stateless resume: running again"; else ko "stateless resume" "$(jpath sl '{.status}')"; fi
check "stateless resume: from empty state" "none" "$(rec sl last-start-kind)"
kubectl -n $ns patch flinkdep sl --type merge -p '{"spec":{"restartNonce":7}}' >/dev/null
sl4() { [ "$(rec sl starts)" = 6 ] && job_is sl RUNNING; }
if wait_for 30 sl4; then ok "restartNonce: a full restart"; else ko "restartNonce" "$(jpath sl '{.status}')"; fi
kubectl -n $ns patch flinkdep sl --type merge -p '{"spec":{"restartNonce":null}}' >/dev/null
sleep 2
check "restartNonce back to null: nothing happens" "6" "$(rec sl starts)"

# ---- savepoint mode: upgrade, suspend, resume ----
app sp savepoint | kubectl apply -f - >/dev/null
wait_for 30 lifecycle_is sp STABLE
kubectl -n $ns patch flinkdep sp --type merge -p '{"spec":{"image":"flink:1.20.1"}}' >/dev/null
sp_up() { [ "$(rec sp starts)" = 2 ] && job_is sp RUNNING; }
if wait_for 40 sp_up; then ok "savepoint upgrade: the new job runs"; else ko "savepoint upgrade" "$(jpath sp '{.status}')"; fi
check "savepoint upgrade: restored from the savepoint it took" "savepoint $(rec sp last-savepoint)" "$(rec sp last-start-kind) $(rec sp last-start-from)"
check "savepoint upgrade: recorded as an UPGRADE savepoint" "UPGRADE" "$(jpath sp '{.status.jobStatus.savepointInfo.lastSavepoint.triggerType}')"
kubectl -n $ns patch flinkdep sp --type merge -p '{"spec":{"job":{"state":"suspended"}}}' >/dev/null
if wait_for 30 lifecycle_is sp SUSPENDED; then ok "savepoint suspend: SUSPENDED"; else ko "savepoint suspend" "$(jpath sp '{.status}')"; fi
gone_dep() { ! kubectl -n $ns get deploy sp >/dev/null 2>&1; }
if wait_for 10 gone_dep; then ok "savepoint suspend: the cluster is removed"; else ko "savepoint suspend: the cluster is removed"; fi
sp_suspend=$(rec sp last-savepoint)
kubectl -n $ns patch flinkdep sp --type merge -p '{"spec":{"job":{"state":"running"}}}' >/dev/null
sp_back() { [ "$(rec sp starts)" = 3 ] && job_is sp RUNNING; }
if wait_for 30 sp_back; then ok "savepoint resume: running again"; else ko "savepoint resume" "$(jpath sp '{.status}')"; fi
check "savepoint resume: restored from the suspend savepoint" "savepoint $sp_suspend" "$(rec sp last-start-kind) $(rec sp last-start-from)"

# ---- manual savepoints by nonce ----
kubectl -n $ns patch flinkdep sp --type merge -p '{"spec":{"job":{"savepointTriggerNonce":1}}}' >/dev/null
nonce_is() { [ "$(jpath sp '{.status.jobStatus.savepointInfo.lastSavepoint.triggerNonce}')" = "$1" ] && [ -z "$(jpath sp '{.status.jobStatus.savepointInfo.triggerId}')" ]; }
if wait_for 20 nonce_is 1; then ok "manual savepoint: recorded with its nonce"; else ko "manual savepoint" "$(jpath sp '{.status.jobStatus.savepointInfo}')"; fi
check "manual savepoint: the location is the one Flink wrote" "$(rec sp last-savepoint)" "$(jpath sp '{.status.jobStatus.savepointInfo.lastSavepoint.location}')"
kubectl -n $ns patch flinkdep sp --type merge -p '{"spec":{"job":{"savepointTriggerNonce":2}}}' >/dev/null
if wait_for 20 nonce_is 2; then ok "manual savepoint: a second nonce, a second savepoint"; else ko "manual savepoint twice"; fi
check "manual savepoint: no upgrade for a nonce" "3" "$(rec sp starts)"
# a spec change submitted while a savepoint is in flight waits for it
starts_before=$(rec sp starts)
kubectl -n $ns patch flinkdep sp --type merge -p '{"spec":{"job":{"savepointTriggerNonce":20}}}' >/dev/null
in_flight() { [ -n "$(jpath sp '{.status.jobStatus.savepointInfo.triggerId}')" ]; }
wait_for 10 in_flight
kubectl -n $ns patch flinkdep sp --type merge -p '{"spec":{"image":"flink:1.20.2"}}' >/dev/null
waited() { [ "$(rec sp starts)" = $((starts_before + 1)) ] && job_is sp RUNNING; }
if wait_for 40 waited; then ok "an update during a savepoint is applied after it"; else ko "update during a savepoint" "$(jpath sp '{.status}')"; fi
check "an update during a savepoint: the manual savepoint completed first" "20" "$(jpath sp '{.status.jobStatus.savepointInfo.savepointHistory[-2].triggerNonce}')"
curl -s -X POST "http://127.0.0.1:$FLINKSIM_PORT/_sim/faults/$ns/sp" -d '{"fail_next_savepoint": true}' >/dev/null
n_before=$(rec sp savepoints)
kubectl -n $ns patch flinkdep sp --type merge -p '{"spec":{"job":{"savepointTriggerNonce":3}}}' >/dev/null
sp_err() { kubectl -n $ns get events --field-selector reason=SavepointError -o jsonpath='{.items[*].message}' | grep -q "savepointTriggerNonce: 3"; }
if wait_for 20 sp_err; then ok "manual savepoint: a failure is a Warning event"; else ko "manual savepoint failure event"; fi
handled() { [ -z "$(jpath sp '{.status.jobStatus.savepointInfo.triggerId}')" ]; }
wait_for 10 handled
sleep 2   # no retry loop: nothing more is triggered for nonce 3
check "manual savepoint: a failed nonce is not retried" "$n_before" "$(rec sp savepoints)"

# ---- last-state ----
app ls last-state "$HA" | kubectl apply -f - >/dev/null
wait_for 30 lifecycle_is ls STABLE
ha_cp() { kubectl -n $ns get cm -l app=ls,configmap-type=high-availability -o jsonpath='{.items[*].data}' | grep -q checkpointID-; }
wait_for 20 ha_cp
jid_ls=$(jpath ls '{.status.jobStatus.jobId}')
kubectl -n $ns patch flinkdep ls --type merge -p '{"spec":{"job":{"parallelism":4}}}' >/dev/null
ls_up() { [ "$(rec ls starts)" = 2 ] && job_is ls RUNNING; }
if wait_for 30 ls_up; then ok "last-state upgrade: running again"; else ko "last-state upgrade" "$(jpath ls '{.status}')"; fi
check "last-state upgrade: recovered from the HA checkpoint, same job id" "ha-checkpoint $jid_ls" "$(rec ls last-start-kind) $(jpath ls '{.status.jobStatus.jobId}')"
curl -s -X POST "http://127.0.0.1:$FLINKSIM_PORT/_sim/faults/$ns/ls" -d '{"fail_job": true}' >/dev/null
wait_for 10 job_is ls FAILED
kubectl -n $ns patch flinkdep ls --type merge -p '{"spec":{"job":{"parallelism":5}}}' >/dev/null
ls_up2() { [ "$(rec ls starts)" = 3 ] && job_is ls RUNNING; }
if wait_for 30 ls_up2; then ok "last-state upgrade of a failing job"; else ko "last-state upgrade of a failing job" "$(jpath ls '{.status}')"; fi
check "last-state upgrade of a failing job: from the HA checkpoint" "ha-checkpoint" "$(rec ls last-start-kind)"
kubectl -n $ns patch flinkdep ls --type merge -p '{"spec":{"job":{"state":"suspended"}}}' >/dev/null
wait_for 30 lifecycle_is ls SUSPENDED
check "last-state suspend: HA metadata is kept" "yes" "$(ha_cp && echo yes)"
kubectl -n $ns delete cm -l app=ls,configmap-type=high-availability >/dev/null   # lost while suspended
kubectl -n $ns patch flinkdep ls --type merge -p '{"spec":{"job":{"state":"running"}}}' >/dev/null
refused() { kubectl -n $ns get events --field-selector reason=RestoreFailed -o name | grep -q .; }
if wait_for 30 refused; then ok "last-state without HA metadata: a Warning event, no start"; else ko "last-state without HA metadata" "$(jpath ls '{.status}')"; fi
check "last-state without HA metadata: never started empty" "3" "$(rec ls starts)"

# ---- a savepoint upgrade of a failed job: no savepoint can be taken, so it restores what Flink
# last kept (its latest checkpoint), chosen before the failed cluster is deleted ----
curl -s -X POST "http://127.0.0.1:$FLINKSIM_PORT/_sim/faults/$ns/sp" -d '{"fail_job": true}' >/dev/null
wait_for 10 job_is sp FAILED
sp_ck=$(curl -sf "http://127.0.0.1:$FLINKSIM_PORT/$ns/sp/jobs/$(jpath sp '{.status.jobStatus.jobId}')/checkpoints" | python3 -c 'import json,sys; print(((json.load(sys.stdin).get("latest") or {}).get("completed") or {}).get("external_path") or "")')
kubectl -n $ns patch flinkdep sp --type merge -p '{"spec":{"job":{"parallelism":7}}}' >/dev/null
sp_up() { [ "$(rec sp starts)" = 5 ] && job_is sp RUNNING; }
if wait_for 30 sp_up; then ok "savepoint upgrade of a failed job: running again, without a savepoint"; else ko "savepoint upgrade of a failed job" "$(jpath sp '{.status}')"; fi
case $sp_ck in
  */chk-*) check "savepoint upgrade of a failed job: from the failed job's latest checkpoint" "savepoint $sp_ck 7" "$(rec sp last-start-kind) $(rec sp last-start-from) $(rec sp last-start-parallelism)" ;;
  *) ko "savepoint upgrade of a failed job: the failed job had a checkpoint" "$sp_ck" ;;
esac

# ---- a JobManager that crash-loops: ERROR with the reason ----
curl -s -X POST "http://127.0.0.1:$FLINKSIM_PORT/_sim/faults/$ns/crash" -d '{"crashloop": true}' >/dev/null
app crash stateless | kubectl apply -f - >/dev/null
jm_error() { [ "$(jpath crash '{.status.jobManagerDeploymentStatus}')" = ERROR ]; }
if wait_for 30 jm_error; then ok "crash loop: jobManagerDeploymentStatus ERROR"; else ko "crash loop" "$(jpath crash '{.status}')"; fi
check "crash loop: the reason in status.error" "yes" "$(jpath crash '{.status.error}' | grep -q 'CrashLoopBackOff\|back-off 5m0s restarting failed container=flink-main-container' && echo yes)"
ev=$(kubectl -n $ns get events --field-selector reason=CrashLoopBackOff -o jsonpath='{.items[0].type}')
check "crash loop: a Warning event with the reason" "Warning" "$ev"

# ---- standalone mode: the TaskManager Deployment too ----
app sa stateless | sed 's/^  job:/  mode: standalone\n  job:/; s/  taskManager: {resource: {memory: 2048m, cpu: 1}}/  taskManager: {replicas: 2, resource: {memory: 2048m, cpu: 1}}/' | kubectl apply -f - >/dev/null
if wait_for 30 lifecycle_is sa STABLE; then ok "standalone: running"; else ko "standalone: running" "$(jpath sa '{.status}')"; fi
check "standalone: TaskManager Deployment with its replicas" "2 taskmanager" "$(kubectl -n $ns get deploy sa-taskmanager -o jsonpath='{.spec.replicas} {.metadata.labels.component}')"

# ---- layered pod templates (the reference's examples/pod-template.yaml, issue 22): the
# component's template merges into spec.podTemplate, and the API server takes the result ----
pod_templates() { # name mode
  cat <<YAML
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: $1, namespace: $ns}
spec:
  image: flink:1.20
  flinkVersion: v1_20
  serviceAccount: flink
  mode: $2
  flinkConfiguration: {taskmanager.numberOfTaskSlots: "2"}
  podTemplate:
    spec:
      containers:
        - name: flink-main-container
          volumeMounts:
            - {mountPath: /opt/flink/log, name: flink-logs}
            - {mountPath: /opt/flink/downloads, name: downloads}
        - name: fluentbit
          image: fluent/fluent-bit:1.8.12-debug
          command: [sh, -c, "/fluent-bit/bin/fluent-bit -i tail -p path=/flink-logs/*.log -p multiline.parser=java -o stdout"]
          volumeMounts:
            - {mountPath: /flink-logs, name: flink-logs}
      volumes:
        - {name: flink-logs, emptyDir: {}}
        - {name: downloads, emptyDir: {}}
  jobManager:
    resource: {memory: 2048m, cpu: 1}
    podTemplate:
      spec:
        initContainers:
          - name: artifacts-fetcher
            image: busybox:1.35.0
            command: [/bin/sh, -c, "wget https://repo1.maven.org/maven2/org/apache/flink/flink-examples-streaming_2.12/1.16.1/flink-examples-streaming_2.12-1.16.1-TopSpeedWindowing.jar -O /flink-artifact/myjob.jar"]
            volumeMounts:
              - {mountPath: /flink-artifact, name: downloads}
  taskManager:
    resource: {memory: 2048m, cpu: 1}
    podTemplate:
      spec:
        initContainers:
          - name: busybox
            image: busybox:1.35.0
            command: [sh, -c, "echo hello from the task manager"]
  job:
    jarURI: local:///opt/flink/downloads/myjob.jar
    parallelism: 2
    upgradeMode: stateless
YAML
}
# what a pod spec has: its containers, init containers (with their mounts) and volumes
pod_shape() { python3 -c '
import json, sys
s = json.load(sys.stdin)
mounts = lambda c: "+".join(m["name"] for m in c.get("volumeMounts", []))
print(" ".join(["containers=" + ",".join(c["name"] + ":" + mounts(c) for c in s.get("containers", [])),
  "init=" + ",".join(c["name"] + ":" + mounts(c) for c in s.get("initContainers", [])),
  "volumes=" + ",".join(v["name"] for v in s.get("volumes", []))]))'; }
pod_templates pt native | kubectl apply -f - >/dev/null
pod_templates pts standalone | kubectl apply -f - >/dev/null
if wait_for 30 lifecycle_is pt STABLE; then ok "layered pod templates: the JobManager Deployment is accepted and runs"; else ko "layered pod templates: native" "$(jpath pt '{.status}')"; fi
shape=$(kubectl -n $ns get deploy pt -o jsonpath='{.spec.template.spec}' | pod_shape)
case "$shape" in
  "containers=flink-main-container:flink-logs+downloads+"*",fluentbit:flink-logs init=artifacts-fetcher:downloads volumes=flink-logs,downloads,"*)
    ok "layered pod templates: the JobManager has the shared sidecar and volumes and its own init container" ;;
  *) ko "layered pod templates: the JobManager's pod" "$shape" ;;
esac
# native: Flink makes the TaskManager pods from the template file; the API server takes that pod
kubectl -n $ns get cm flink-config-pt -o jsonpath='{.data.taskmanager-pod-template\.yaml}' > "$FO_CLUSTER_DIR/tm-template.yaml"
tm_dry=$(python3 - "$FO_CLUSTER_DIR/tm-template.yaml" <<'PY' | kubectl -n $ns create --dry-run=server -o jsonpath='{.spec}' -f - 2>&1
import json, sys
t = json.load(open(sys.argv[1]))  # the controller writes the template as JSON (which is YAML)
spec = t["spec"]
for c in spec.get("containers", []):
    c.setdefault("image", "flink:1.20")
spec["automountServiceAccountToken"] = False  # (this control plane has no token controller)
print(json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "tm-template-check"}, "spec": spec}))
PY
)
case "$(echo "$tm_dry" | pod_shape 2>&1)" in
  "containers=flink-main-container:flink-logs+downloads"*",fluentbit:flink-logs init=busybox: volumes=flink-logs,downloads"*)
    ok "layered pod templates: the TaskManager pod template file is a pod the API server accepts (dry run)" ;;
  *) ko "layered pod templates: the TaskManager pod template" "$tm_dry" ;;
esac
if wait_for 30 lifecycle_is pts STABLE; then ok "layered pod templates: standalone, both Deployments accepted"; else ko "layered pod templates: standalone" "$(jpath pts '{.status}')"; fi
shape=$(kubectl -n $ns get deploy pts-taskmanager -o jsonpath='{.spec.template.spec}' | pod_shape)
case "$shape" in
  "containers=flink-main-container:flink-logs+downloads"*",fluentbit:flink-logs init=busybox: volumes=flink-logs,downloads"*)
    ok "layered pod templates: the standalone TaskManagers have the shared sidecar and volumes and their own init container" ;;
  *) ko "layered pod templates: the standalone TaskManager's pod" "$shape" ;;
esac

# ---- a failure is shown where the user looks (issue 22): status.error in the API server's own
# words with the next attempt, a Warning Event, the metric; cleared once the cause goes ----
failures() { curl -s "http://127.0.0.1:$CTL_PORT_life/metrics" | awk -v c="$1" '$1 == "flink_operator_reconcile_failures_total{class=\""c"\"}" {print $2}'; }
err_json() { jpath "$1" '{.status.error}'; }
err_field() { err_json "$1" | python3 -c 'import json, sys
e = json.load(sys.stdin); v = e
for k in sys.argv[1].split("."): v = v.get(k, "") if isinstance(v, dict) else ""
print(v)' "$2" 2>/dev/null; }
invalid_before=$(failures Invalid)
# an init container mounting a volume the pod does not have: the rulebook has no say, the API
# server refuses the Deployment
pod_templates refused native | sed 's/              - {mountPath: \/flink-artifact, name: downloads}/              - {mountPath: \/flink-artifact, name: nope}/' | kubectl apply -f - >/dev/null
refused_shown() { err_field refused message | grep -q 'Not found: "nope"'; }
if wait_for 30 refused_shown; then ok "refused object: status.error has the API server's words"; else ko "refused object: status.error" "$(jpath refused '{.status}')"; fi
check "refused object: the error's type and class" "org.apache.flink.kubernetes.operator.exception.ReconciliationException Invalid 422" \
  "$(err_field refused type) $(err_field refused additionalMetadata.class) $(err_field refused additionalMetadata.httpCode)"
# the backoff holds (5 s, 7.5 s, ...): the status each failure writes comes back on the watch and
# must not wake the next attempt (it once did: 15 attempts in a few seconds)
att=$(err_field refused additionalMetadata.attempt)
if [ -n "$att" ] && [ "$att" -le 3 ]; then ok "refused object: retried with backoff (attempt $att so far)"; else ko "refused object: retried with backoff" "attempt ${att:-none}: $(err_field refused message)"; fi
msg=$(err_field refused message)
if printf '%s\n' "$msg" | grep -q '^POST /apis/apps/v1/namespaces/'$ns'/deployments: .*(HTTP 422 Invalid); next attempt in [0-9][0-9.]* s (20[0-9-]*T[0-9:]*Z)$'; then
  ok "refused object: the message names the request and says when the next attempt is"
else ko "refused object: the message names the request and says when the next attempt is" "$msg"; fi
ev() { kubectl -n $ns get events --field-selector "involvedObject.name=$1,reason=$2,type=Warning" -o jsonpath='{range .items[*]}{.count} {.message}{"\n"}{end}'; }
check "refused object: a Warning Event, reason Error, with the API server's words" "yes" "$(ev refused Error | grep -q 'Not found: \"nope\"' && echo yes)"
grown() { [ "$(failures Invalid)" -gt "${invalid_before:-0}" ]; }
if wait_for 10 grown; then ok "refused object: flink_operator_reconcile_failures_total{class=\"Invalid\"} counts it"; else ko "refused object: the metric" "$(failures Invalid)"; fi
# retried with backoff: the same Event's count grows (its message has no time in it)
again() { [ "$(ev refused Error | awk '{print $1; exit}')" -ge 2 ] 2>/dev/null; }
if wait_for 30 again; then ok "refused object: retried, one Event whose count grows"; else ko "refused object: retried" "$(ev refused Error)"; fi
check "refused object: nothing half-made is left running" "" "$(kubectl -n $ns get deploy refused -o name 2>/dev/null)"
# the cause goes: the next attempt deploys and the error clears
pod_templates refused native | kubectl apply -f - >/dev/null
cleared() { lifecycle_is refused STABLE && [ -z "$(err_json refused)" ]; }
if wait_for 60 cleared; then ok "refused object: fixed, it runs and status.error is cleared"; else ko "refused object: fixed" "$(jpath refused '{.status}')"; fi

# refused by a quota (Forbidden): the same, in another namespace
nsq=e2e-life-quota
kubectl create namespace $nsq >/dev/null
kubectl -n $nsq create quota no-deployments --hard=count/deployments.apps=0 >/dev/null
forbidden_before=$(failures Forbidden)
app quota stateless | sed "s/namespace: $ns}/namespace: $nsq}/" | kubectl apply -f - >/dev/null
quota_shown() { kubectl -n $nsq get flinkdep quota -o jsonpath='{.status.error}' | grep -q 'exceeded quota: no-deployments'; }
if wait_for 30 quota_shown; then ok "quota: status.error says the quota refused the Deployment"; else ko "quota: status.error" "$(kubectl -n $nsq get flinkdep quota -o jsonpath='{.status}')"; fi
check "quota: class Forbidden, HTTP 403" "Forbidden 403" "$(kubectl -n $nsq get flinkdep quota -o jsonpath='{.status.error}' | python3 -c 'import json,sys; m=json.load(sys.stdin)["additionalMetadata"]; print(m["class"], m["httpCode"])')"
check "quota: a Warning Event" "yes" "$(kubectl -n $nsq get events --field-selector involvedObject.name=quota,reason=Error -o jsonpath='{.items[*].message}' | grep -q 'exceeded quota' && echo yes)"
fgrown() { [ "$(failures Forbidden)" -gt "${forbidden_before:-0}" ]; }
if wait_for 10 fgrown; then ok "quota: counted as Forbidden"; else ko "quota: the metric" "$(failures Forbidden)"; fi
kubectl -n $nsq delete quota no-deployments >/dev/null
quota_ok() { [ "$(kubectl -n $nsq get flinkdep quota -o jsonpath='{.status.lifecycleState}')" = STABLE ] && [ -z "$(kubectl -n $nsq get flinkdep quota -o jsonpath='{.status.error}')" ]; }
# (the backoff may have grown to a few seconds by now)
if wait_for 90 quota_ok; then ok "quota: lifted, it runs and status.error is cleared"; else ko "quota: lifted" "$(kubectl -n $nsq get flinkdep quota -o jsonpath='{.status}')"; fi
kubectl -n $nsq delete flinkdep quota --wait=false >/dev/null

# forbidden by RBAC: the chart's ClusterRole (the controller's identity here) loses `create` on
# Services; the deploy stops there, says so, and goes on once the permission is back
kubectl get clusterrole flink-operator-controller -o json > "$FO_CLUSTER_DIR/role-before.json"
python3 - "$FO_CLUSTER_DIR/role-before.json" <<'PY' | kubectl apply -f - >/dev/null
import json, sys
role = json.load(open(sys.argv[1]))
for k in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
    role["metadata"].pop(k, None)
rules = []
for r in role["rules"]:
    if "services" in r.get("resources", []) and "create" in r.get("verbs", []):
        rest = [x for x in r["resources"] if x != "services"]
        if rest: rules.append(dict(r, resources=rest))
        rules.append(dict(r, resources=["services"], verbs=[v for v in r["verbs"] if v != "create"]))
    else:
        rules.append(r)
role["rules"] = rules
print(json.dumps(role))
PY
forbidden_before=$(failures Forbidden)
app rbac stateless | kubectl apply -f - >/dev/null
rbac_shown() { err_field rbac message | grep -q 'cannot create resource "services"'; }
if wait_for 30 rbac_shown; then ok "RBAC: status.error says which permission the controller lacks"; else ko "RBAC: status.error" "$(jpath rbac '{.status}')"; fi
check "RBAC: class Forbidden, HTTP 403, and the request" "Forbidden 403 yes" "$(err_field rbac additionalMetadata.class) $(err_field rbac additionalMetadata.httpCode) $(err_field rbac message | grep -q '^POST /api/v1/namespaces/'$ns'/services: ' && echo yes)"
check "RBAC: a Warning Event" "yes" "$(ev rbac Error | grep -q 'cannot create resource' && echo yes)"
check "RBAC: the Running condition says it" "False yes" "$(kubectl -n $ns get flinkdep rbac -o jsonpath='{.status.conditions[0].status}') $(kubectl -n $ns get flinkdep rbac -o jsonpath='{.status.conditions[0].message}' | grep -q 'cannot create resource' && echo yes)"
fgrown() { [ "$(failures Forbidden)" -gt "${forbidden_before:-0}" ]; }
if wait_for 10 fgrown; then ok "RBAC: counted as Forbidden"; else ko "RBAC: the metric" "$(failures Forbidden)"; fi
python3 - "$FO_CLUSTER_DIR/role-before.json" <<'PY' | kubectl apply -f - >/dev/null
import json, sys
role = json.load(open(sys.argv[1]))
for k in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
    role["metadata"].pop(k, None)
print(json.dumps(role))
PY
rbac_ok() { lifecycle_is rbac STABLE && [ -z "$(err_json rbac)" ] && kubectl -n $ns get svc rbac-rest -o name >/dev/null 2>&1; }
if wait_for 90 rbac_ok; then ok "RBAC: permission back, the deploy goes on from where it stopped and status.error is cleared"; else ko "RBAC: permission back" "$(jpath rbac '{.status}')"; fi
check "RBAC: the Running condition no longer says it" "True no" "$(kubectl -n $ns get flinkdep rbac -o jsonpath='{.status.conditions[0].status}') $(kubectl -n $ns get flinkdep rbac -o jsonpath='{.status.conditions[0].message}' | grep -q 'cannot' && echo yes || echo no)"

# denied by another admission webhook (a policy engine's): its words reach the user
d=$FO_CLUSTER_DIR/deny-webhook
mkdir -p "$d"
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=deny-webhook -addext subjectAltName=IP:127.0.0.1 \
  -days 1 -keyout "$d/key.pem" -out "$d/cert.pem" >/dev/null 2>&1
rm -f "$d/port"
python3 "$E2E_DIR/deny_webhook.py" --cert "$d/cert.pem" --key "$d/key.pem" --port-file "$d/port" \
  --message "Deployments labelled app=denied are frozen by policy change-freeze-42" >> "$FO_CLUSTER_DIR/logs/deny-webhook.log" 2>&1 &
echo $! > "$FO_CLUSTER_DIR/pids/deny-webhook"
port_written() { [ -s "$d/port" ]; }
wait_for 10 port_written || ko "deny webhook: started" "$(tail -3 "$FO_CLUSTER_DIR/logs/deny-webhook.log")"
cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: e2e-change-freeze}
webhooks:
- name: change-freeze.policy.e2e.test
  admissionReviewVersions: ["v1"]
  sideEffects: None
  failurePolicy: Fail
  timeoutSeconds: 5
  objectSelector: {matchLabels: {app: denied}}
  clientConfig:
    url: https://127.0.0.1:$(cat "$d/port")/deny
    caBundle: $(base64 -w0 < "$d/cert.pem")
  rules:
  - {apiGroups: ["apps"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["deployments"], scope: Namespaced}
YAML
app denied stateless | kubectl apply -f - >/dev/null
denied_shown() { err_field denied message | grep -q 'admission webhook .*change-freeze.policy.e2e.test.* denied the request: Deployments labelled app=denied are frozen by policy change-freeze-42'; }
if wait_for 30 denied_shown; then ok "other webhook: status.error has its name and its words"; else ko "other webhook: status.error" "$(jpath denied '{.status}')"; fi
check "other webhook: class and code as it answered (403 Forbidden)" "Forbidden 403" "$(err_field denied additionalMetadata.class) $(err_field denied additionalMetadata.httpCode)"
check "other webhook: a Warning Event" "yes" "$(ev denied Error | grep -q 'change-freeze-42' && echo yes)"
kubectl delete validatingwebhookconfiguration e2e-change-freeze >/dev/null
kill "$(cat "$FO_CLUSTER_DIR/pids/deny-webhook")"; rm -f "$FO_CLUSTER_DIR/pids/deny-webhook"
denied_ok() { lifecycle_is denied STABLE && [ -z "$(err_json denied)" ]; }
if wait_for 90 denied_ok; then ok "other webhook: withdrawn, it runs and status.error is cleared"; else ko "other webhook: withdrawn" "$(jpath denied '{.status}')"; fi

# ---- Flink before 1.15 (the seed's 1.14): it chooses its savepoints' trigger ids and refuses a
# request carrying the caller's (the simulator refuses it as Flink 1.14 does) ----
app legacy stateless | sed 's/  image: flink:1.20/  image: flink:1.14.3/; s/  flinkVersion: v1_20/  flinkVersion: v1_14/' | kubectl apply -f - >/dev/null 2>&1
if wait_for 30 lifecycle_is legacy STABLE; then ok "Flink 1.14: running"; else ko "Flink 1.14: running" "$(jpath legacy '{.status}')"; fi
kubectl -n $ns patch flinkdep legacy --type merge -p '{"spec":{"job":{"savepointTriggerNonce":5}}}' >/dev/null
legacy_sp() { [ "$(jpath legacy '{.status.jobStatus.savepointInfo.lastSavepoint.triggerNonce}')" = 5 ]; }
if wait_for 30 legacy_sp; then ok "Flink 1.14: a savepoint by nonce, with the trigger id Flink chose"
else ko "Flink 1.14: a savepoint by nonce" "$(jpath legacy '{.status.jobStatus.savepointInfo}')"$'\n'"$(kubectl -n $ns get events --field-selector involvedObject.name=legacy,reason=SavepointError -o jsonpath='{.items[*].message}')"; fi
check "Flink 1.14: the simulator recorded that savepoint" "$(jpath legacy '{.status.jobStatus.savepointInfo.lastSavepoint.location}')" "$(rec legacy last-savepoint)"

# ---- a session cluster (no job): Flink's session JobManager, stable once it answers, redeployed
# on a spec change; the simulator refuses a JobManager without a job id unless it is one ----
session_yaml() { app sess stateless | sed '/^  job:$/,$d' | sed "s/execution.checkpointing.interval: 10s/taskmanager.numberOfTaskSlots: \"$1\"/"; }
session_yaml 1 | kubectl apply -f - >/dev/null
if wait_for 30 lifecycle_is sess STABLE; then ok "session cluster: STABLE"; else ko "session cluster" "$(jpath sess '{.status}')"; fi
check "session cluster: READY, the reference's Running condition, no job" "READY True JobManagerReady " \
  "$(jpath sess '{.status.jobManagerDeploymentStatus} {.status.conditions[0].status} {.status.conditions[0].reason} {.status.jobStatus.jobId}')"
check "session cluster: the simulator started a session JobManager, no job" "1 0" \
  "$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(sum(1 for e in r if e.get("event")=="jobmanager-started" and e.get("cluster")==sys.argv[2] and e.get("session")), sum(1 for e in r if e.get("event")=="job-started" and e.get("cluster")==sys.argv[2]))' "$FLINKSIM_STATE" "$ns/sess")"
uid0=$(kubectl -n $ns get deploy sess -o jsonpath='{.metadata.uid}')
session_yaml 2 | kubectl apply -f - >/dev/null
sess_redeployed() { lifecycle_is sess STABLE && [ "$(jpath sess '{.status.observedGeneration}')" = 2 ] && [ "$(kubectl -n $ns get deploy sess -o jsonpath='{.metadata.uid}')" != "$uid0" ]; }
if wait_for 40 sess_redeployed; then ok "session cluster: a spec change deployed a new cluster"; else ko "session cluster: redeployed" "$(jpath sess '{.status}')"; fi
check "session cluster: with the new configuration" "yes" "$(kubectl -n $ns get cm flink-config-sess -o jsonpath='{.data.config\.yaml}' | grep -q 'taskmanager.numberOfTaskSlots": "2"' && echo yes)"

# ---- spec.ingress: an Ingress (networking.k8s.io/v1) to the REST Service, owned by the
# FlinkDeployment, its host and path from the template; gone when spec.ingress is removed ----
kubectl -n $ns patch flinkdep sess --type merge -p '{"spec":{"ingress":{"template":"{{name}}.{{namespace}}.flink.example.com/ui(/|$)(.*)","className":"nginx","annotations":{"nginx.ingress.kubernetes.io/rewrite-target":"/$2"},"labels":{"team":"data"}}}}' >/dev/null
ing() { kubectl -n $ns get ingress sess -o jsonpath='{.spec.ingressClassName} {.spec.rules[0].host} {.spec.rules[0].http.paths[0].path} {.spec.rules[0].http.paths[0].pathType} {.spec.rules[0].http.paths[0].backend.service.name}:{.spec.rules[0].http.paths[0].backend.service.port.number} {.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.labels.component} {.metadata.labels.team} {.metadata.annotations.nginx\.ingress\.kubernetes\.io/rewrite-target}' 2>&1; }
want_ing='nginx sess.e2e-life.flink.example.com /ui(/|$)(.*) ImplementationSpecific sess-rest:8081 FlinkDeployment/sess ingress data /$2'
ing_is() { [ "$(ing)" = "$want_ing" ] && lifecycle_is sess STABLE; }
if wait_for 40 ing_is; then ok "ingress: the API server has the Ingress the template asks for, owned by the FlinkDeployment"; else ko "ingress: created" "want: $want_ing"$'\n'"got:  $(ing)"; fi
kubectl -n $ns patch flinkdep sess --type json -p '[{"op":"remove","path":"/spec/ingress"}]' >/dev/null
ing_gone() { ! kubectl -n $ns get ingress sess >/dev/null 2>&1 && lifecycle_is sess STABLE; }
if wait_for 40 ing_gone; then ok "ingress: spec.ingress removed, the API server has no Ingress left"; else ko "ingress: removed" "$(ing)"; fi
out=$(kubectl -n $ns patch flinkdep sess --type merge -p '{"spec":{"ingress":{"template":"example.com:port"}}}' 2>&1)
if [ $? -ne 0 ] && grep -qF 'Unable to process the Ingress template(example.com:port). Error: Error at index 0 in: "port"' <<<"$out"; then ok "ingress: a template Java cannot read is refused in the reference's words"; else ko "ingress: bad template refused" "$out"; fi

# ---- a FlinkSessionJob naming the session cluster blocks its deletion (the reference's
# kubernetes.operator.session.deletion.block-on-session-jobs): a CleanupFailed Warning names it,
# the cluster stays; once the FlinkSessionJob is deleted, so is the cluster ----
printf 'apiVersion: flink.apache.org/v1beta1\nkind: FlinkSessionJob\nmetadata: {name: on-sess, namespace: %s}\nspec:\n  deploymentName: sess\n  job: {jarURI: "https://example.com/job.jar", parallelism: 1}\n' "$ns" | kubectl apply -f - >/dev/null
kubectl -n $ns delete flinkdep sess --wait=false >/dev/null
sj_blocked() { kubectl -n $ns get events --field-selector involvedObject.name=sess,reason=CleanupFailed -o jsonpath='{.items[*].message}' 2>/dev/null | grep -qF "The session jobs [on-sess] should be deleted first"; }
if wait_for 30 sj_blocked; then ok "session cluster: its deletion waits for the FlinkSessionJob naming it (CleanupFailed)"; else ko "session cluster: blocked by a FlinkSessionJob" "$(jpath sess '{.status.error}')"; fi
check "session cluster: still there, its JobManager Deployment too" "sess sess" \
  "$(kubectl -n $ns get flinkdep sess -o jsonpath='{.metadata.name}' 2>&1) $(kubectl -n $ns get deployment sess -o jsonpath='{.metadata.name}' 2>&1)"
kubectl -n $ns delete flinksessionjob on-sess >/dev/null
sess_gone() { ! kubectl -n $ns get flinkdep sess >/dev/null 2>&1; }
if wait_for 60 sess_gone; then ok "session cluster: deleted once the FlinkSessionJob is gone"; else ko "session cluster: deleted after the FlinkSessionJob" "$(jpath sess '{.status}')"; fi

# ---- created suspended ----
app sus stateless | sed 's/    upgradeMode: stateless/    upgradeMode: stateless\n    state: suspended/' | kubectl apply -f - >/dev/null
if wait_for 20 lifecycle_is sus SUSPENDED; then ok "created suspended: recorded"; else ko "created suspended" "$(jpath sus '{.status}')"; fi
check "created suspended: nothing started" "0" "$(rec sus starts)"

# ---- a canary resource (the reference's health probe): admitted by the webhook without a spec,
# taken by the controller (its /healthz stays healthy), never deployed nor finalized ----
canary_yaml() { printf 'apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata:\n  name: canary\n  namespace: %s\n  labels: {flink.apache.org/canary: "true"}\n%s' "$ns" "${1:-}"; }
out=$(canary_yaml | kubectl apply -f - 2>&1)
if [ $? -eq 0 ]; then ok "canary: admitted without a spec"; else ko "canary: admitted" "$out"; fi
out=$(canary_yaml | sed 's/"true"/"no"/' | kubectl apply --dry-run=server -f - 2>&1)
if [ $? -ne 0 ] && grep -q 'Flink Version must be defined' <<<"$out"; then ok "canary: without the label the same object is judged"; else ko "canary: judged without the label" "$out"; fi
canary_yaml 'spec: {restartNonce: 1}' | kubectl apply -f - >/dev/null # a new generation for the probe
healthy() { curl -sf "http://127.0.0.1:$CTL_PORT_life/healthz" >/dev/null; }
past=$(( $(date +%s) + 3 )); timed_out() { [ "$(date +%s)" -ge "$past" ]; }
wait_for 10 timed_out # (no condition to poll: healthy means nothing happened past the 2 s timeout)
if healthy; then ok "canary: the controller took it (its /healthz is 200 past the canary timeout)"; else ko "canary: /healthz" "$(curl -s "http://127.0.0.1:$CTL_PORT_life/healthz")"; fi
check "canary: nothing deployed, no finalizer, no status" "//" \
  "$(kubectl -n $ns get deploy canary -o name 2>/dev/null)/$(jpath canary '{.metadata.finalizers}')/$(jpath canary '{.status}')"
kubectl -n $ns delete flinkdep canary --wait=false >/dev/null

# ---- delete cleans up everything it owns ----
for n in sl sp ls sus crash sa pt pts refused legacy rbac denied; do kubectl -n $ns delete flinkdep $n --wait=false >/dev/null; done
all_gone() { [ -z "$(kubectl -n $ns get flinkdep,deploy,svc,cm,pods,ingress -o name | grep -v kube-root-ca)" ]; }
if wait_for 40 all_gone; then ok "delete: every owned object, TaskManager pod and HA ConfigMap is gone"; else ko "delete" "$(kubectl -n $ns get flinkdep,deploy,svc,cm,pods,ingress -o name)"; fi
controller_stop life
flinksim_stop
kubectl delete namespace $ns $nsq --wait=false >/dev/null 2>&1
