#!/usr/bin/env bash
# A session cluster (a FlinkDeployment without job) on real Flink 1.20, native mode: the
# operator deploys Flink's session JobManager; it answers on its REST API with no job and no
# TaskManager; a spec change redeploys it (Flink's own configuration says the new value); a job
# sent to it by hand (`flink run` in the JobManager's pod) makes Flink create a TaskManager pod
# through the API server; deleting the FlinkDeployment is refused while that job runs (a
# CleanupFailed Warning with the job's id, the cluster untouched) and goes on once it is
# cancelled, leaving nothing behind. Sourced by run.sh (release flink-operator installed).

source "$NODE_TESTS/flink_lib.sh"

FD2=sess; CASE="session cluster"; FV=1.20
apply_session() { # $1: the slots per TaskManager, $2: more spec lines, $3: more flinkConfiguration lines
  kubectl -n $FNS apply -f - >/dev/null <<YAML
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: $FD2}
spec:
  image: flink:$FV
  flinkVersion: v1_20
  serviceAccount: flink
  flinkConfiguration:
    taskmanager.numberOfTaskSlots: "$1"
${3:-}
  jobManager:
    resources:
      requests: {memory: 1600Mi, cpu: 250m, ephemeral-storage: 256Mi}
      limits: {memory: 1600Mi, cpu: "2"}
  taskManager:
    resources:
      requests: {memory: 1728Mi, cpu: 250m, ephemeral-storage: 128Mi}
      limits: {cpu: "2"}
${2:-}
YAML
}
session_ready() { [ "$(fstatus '{.status.lifecycleState}/{.status.jobManagerDeploymentStatus}')" = STABLE/READY ] && flink_rest /overview >/dev/null; }
overview() { flink_rest /overview | $PY -c 'import json,sys; o=json.load(sys.stdin); print(o["taskmanagers"], o["jobs-running"], o["flink-version"])'; }
slots_conf() { flink_rest /jobmanager/config | $PY -c 'import json,sys; print([e["value"] for e in json.load(sys.stdin) if e["key"]=="taskmanager.numberOfTaskSlots"][0])'; }
jm_pod() { kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].metadata.name}' 2>/dev/null; }

apply_session 1
if wait_for 300 session_ready; then ok "$CASE: STABLE, the JobManager READY and Flink's REST API answers"
else ko "$CASE: ready" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; fi
check "$CASE: Flink says: no TaskManager yet, no job, version $FV" "0 0 1.20.3" "$(overview)"
check "$CASE: the Running condition (the reference's words)" "True JobManagerReady" "$(fstatus '{.status.conditions[0].status} {.status.conditions[0].reason}')"
check "$CASE: no job in its status" "" "$(fstatus '{.status.jobStatus.jobId}')"
# spec.<component>.resources: the pod's requests and limits, and Flink's own view of its memory
# (1600Mi reaches Flink as bytes: Flink cannot read 1600Mi)
check "$CASE: resources: the JobManager pod's requests and limits (limit factor from the limits)" \
  '{"limits":{"cpu":"2","memory":"1600Mi"},"requests":{"cpu":"250m","ephemeral-storage":"256Mi","memory":"1600Mi"}}' \
  "$(kubectl -n $FNS get pods -l app=$FD2,component=jobmanager -o jsonpath='{.items[0].spec.containers[0].resources}')"
jm_conf() { flink_rest /jobmanager/config | $PY -c 'import json,sys; c={e["key"]:e["value"] for e in json.load(sys.stdin)}; print(c.get("jobmanager.memory.process.size"), c.get("kubernetes.taskmanager.cpu.limit-factor"))'; }
check "$CASE: resources: Flink's configuration has the process memory in bytes and the TaskManagers' limit factor" "1677721600 8" "$(jm_conf 2>&1)"
check "$CASE: Flink's session entry point runs" "kubernetes-jobmanager.sh kubernetes-session" "$(kubectl -n $FNS get deploy $FD2 -o jsonpath='{.spec.template.spec.containers[0].args[2]}')"

# a spec change: the cluster is redeployed with it
jm0=$(jm_pod)
apply_session 2 "  ingress: {template: \"{{name}}.{{namespace}}.flink.example.com\", className: nginx}" \
  "    rest.port: \"18081\"
    kubernetes.rest-service.exposed.type: NodePort"
redeployed() { session_ready && [ "$(jm_pod)" != "$jm0" ] && [ "$(slots_conf 2>/dev/null)" = 2 ]; }
if wait_for 300 redeployed; then ok "$CASE: a spec change redeployed it; Flink's configuration says the new value"
else ko "$CASE: redeployed" "$(fstatus '{.status}') slots: $(slots_conf 2>&1)"; fi
# the Ingress the change asked for, and real Flink behind the Service it names (no Ingress
# controller runs on the node: its backend is followed by hand)
ing=$(kubectl -n $FNS get ingress $FD2 -o jsonpath='{.spec.rules[0].host} {.spec.rules[0].http.paths[0].backend.service.name} {.spec.rules[0].http.paths[0].backend.service.port.number} {.metadata.ownerReferences[0].kind}' 2>&1)
check "$CASE: spec.ingress made the Ingress, owned by the FlinkDeployment" "$FD2.$FNS.flink.example.com $FD2-rest 18081 FlinkDeployment" "$ing"
# rest.port and kubernetes.rest-service.exposed.type: the REST Service Flink answers behind, and
# the controller reached Flink there (the redeployed cluster is STABLE: its REST API answered it)
rest_conf() { flink_rest /jobmanager/config | $PY -c 'import json,sys; c={e["key"]:e["value"] for e in json.load(sys.stdin)}; print(c.get("rest.port"))'; }
svc=$(kubectl -n $FNS get svc $FD2-rest -o jsonpath='{.spec.type} {.spec.ports[0].port} {.spec.ports[0].targetPort}' 2>&1)
nport=$(kubectl -n $FNS get svc $FD2-rest -o jsonpath='{.spec.ports[0].nodePort}' 2>&1)
check "$CASE: the REST Service is a NodePort on rest.port, which Flink listens on" "NodePort 18081 18081 18081 yes" \
  "$svc $(rest_conf 2>&1) $([ "${nport:-0}" -gt 0 ] 2>/dev/null && echo yes)"
read -r _ isvc iport _ <<<"$ing"
bip=$(kubectl -n $FNS get svc "${isvc:-none}" -o jsonpath='{.spec.clusterIP}' 2>/dev/null)
bver=$(node_exec curl -sf --max-time 20 "http://$bip:${iport:-0}/overview" 2>&1 | $PY -c 'import json,sys; print(json.load(sys.stdin)["flink-version"])' 2>&1)
check "$CASE: the Ingress's backend is Flink's REST API" "1.20.3" "$bver"
check "$CASE: the change is reconciled" "$(kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath='{.metadata.generation}') DEPLOYED" "$(fstatus '{.status.observedGeneration} {.status.reconciliationStatus.state}')"

# a job sent by hand: Flink makes its TaskManager pod through the API server
out=$(kubectl -n $FNS exec "$(jm_pod)" -c flink-main-container -- flink run -t remote -Drest.address=localhost -Drest.port=18081 -d /opt/flink/examples/streaming/Counter.jar --rate 20 2>&1)
jid=$(printf '%s\n' "$out" | sed -n 's/.*JobID \([0-9a-f]\{32\}\).*/\1/p' | head -1)
if [ -n "$jid" ]; then ok "$CASE: flink run submitted a job ($jid)"; else ko "$CASE: flink run" "$out"; fi
job_state() { flink_rest "/jobs/$jid" | $PY -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
runs() { [ "$(job_state 2>/dev/null)" = RUNNING ] && [ -n "$(kubectl -n $FNS get pods -l app=$FD2,component=taskmanager -o name 2>/dev/null)" ]; }
if wait_for 300 runs; then ok "$CASE: the job RUNNING in Flink, on a TaskManager pod Flink created"
else ko "$CASE: the job runs" "$(job_state 2>&1)"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; fi
check "$CASE: resources: the TaskManager pod Flink made has the requests and limits (ephemeral-storage from the pod template)" \
  '{"limits":{"cpu":"2","memory":"1728Mi"},"requests":{"cpu":"250m","ephemeral-storage":"128Mi","memory":"1728Mi"}}' \
  "$(kubectl -n $FNS get pods -l app=$FD2,component=taskmanager -o jsonpath='{.items[0].spec.containers[0].resources}')"

# deleting it is refused while the job runs
kubectl -n $FNS delete flinkdeployment $FD2 --wait=false >/dev/null
blocked() { kubectl -n $FNS get events --field-selector involvedObject.name=$FD2,reason=CleanupFailed -o jsonpath='{.items[*].message}' | grep -q "non terminated jobs \[$jid\]"; }
if wait_for 60 blocked; then ok "$CASE: delete refused while a job runs: a CleanupFailed Warning names it"
else ko "$CASE: delete refused" "$(fstatus '{.status}')"; fi
check "$CASE: meanwhile the cluster and its job are untouched" "RUNNING yes" "$(job_state 2>&1) $(kubectl -n $FNS get deploy $FD2 -o name >/dev/null 2>&1 && echo yes)"
check "$CASE: status.error says it" "yes" "$(fstatus '{.status.error}' | grep -q 'should be cancelled first' && echo yes)"
# cancelled: the delete goes on
ip=$(kubectl -n $FNS get svc $FD2-rest -o jsonpath='{.spec.clusterIP}')
node_exec curl -sf --max-time 20 -X PATCH "http://$ip:18081/jobs/$jid?mode=cancel" >/dev/null || ko "$CASE: cancel the job"
flink_delete
