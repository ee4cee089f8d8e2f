#!/usr/bin/env bash
# The simulated Flink runtime in Kubernetes mode: it sees a JobManager Deployment and its
# ConfigMap as a real cluster would, reports readiness in the Deployment status, serves REST,
# keeps HA ConfigMaps, recovers the job from them, and stops when scaled to 0.
ns=e2e-flinksim
kubectl create namespace $ns >/dev/null
flinksim_start --checkpoint-interval 0.3 --start-delay 0.3
sim=http://127.0.0.1:$FLINKSIM_PORT/$ns/sim
jid=00000000000000000000000000000abc
cat <<YAML | kubectl apply -f - >/dev/null
apiVersion: v1
kind: ConfigMap
metadata: {name: flink-config-sim, namespace: $ns, labels: {app: sim, type: flink-native-kubernetes}}
data:
  config.yaml: |
    kubernetes.cluster-id: sim
    high-availability.type: kubernetes
    high-availability.storageDir: file:///ha
    state.checkpoints.dir: file:///checkpoints
    state.savepoints.dir: file:///savepoints
    execution.checkpointing.interval: 10s
    \$internal.pipeline.job-id: $jid
    pipeline.jars: local:///opt/flink/examples/streaming/StateMachineExample.jar
    parallelism.default: 2
    jobmanager.memory.process.size: 1600m
    taskmanager.memory.process.size: 1728m
    env.java.default-opts.all: --add-opens=java.base/java.util=ALL-UNNAMED
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: sim, namespace: $ns, labels: {app: sim, component: jobmanager, type: flink-native-kubernetes}}
spec:
  replicas: 1
  selector: {matchLabels: {app: sim, component: jobmanager}}
  template:
    metadata: {labels: {app: sim, component: jobmanager, type: flink-native-kubernetes}}
    spec: {containers: [{name: flink-main-container, image: flink:1.20, command: [/docker-entrypoint.sh],
                         args: [bash, -c, kubernetes-jobmanager.sh kubernetes-application]}]}
YAML
ready() { [ "$(kubectl -n $ns get deploy sim -o jsonpath='{.status.readyReplicas}')" = 1 ]; }
if wait_for 20 ready; then ok "flinksim: the Deployment reports ready replicas"; else ko "flinksim: the Deployment reports ready replicas"; fi
running() { curl -sf "$sim/jobs/overview" | grep -q "\"jid\": \"$jid\".*\"state\": \"RUNNING\""; }
if wait_for 20 running; then ok "flinksim: REST serves the job with the configured id"; else ko "flinksim: REST serves the job" "$(curl -s "$sim/jobs/overview")"; fi
ha_cm() { kubectl -n $ns get configmap "sim-$jid-config-map" -o jsonpath='{.data}' | grep -q checkpointID-; }
if wait_for 20 ha_cm; then ok "flinksim: HA ConfigMap with a checkpoint pointer"; else ko "flinksim: HA ConfigMap with a checkpoint pointer"; fi
labels=$(kubectl -n $ns get configmap "sim-$jid-config-map" -o jsonpath='{.metadata.labels.app}/{.metadata.labels.configmap-type}/{.metadata.labels.type}')
check "flinksim: HA ConfigMap labels" "sim/high-availability/flink-native-kubernetes" "$labels"
# the contract real Flink keeps on the node (tests/contract): the same observation of the simulator
ck=$(curl -sf "$sim/jobs/$jid/checkpoints" | python3 -c 'import json,sys; print(json.load(sys.stdin)["latest"]["completed"]["external_path"])')
trig=$(curl -sf -X POST -H 'Content-Type: application/json' -d '{"target-directory": "file:///savepoints", "cancel-job": false}' "$sim/jobs/$jid/savepoints" | python3 -c 'import json,sys; print(json.load(sys.stdin)["request-id"])')
sp_done() { curl -sf "$sim/jobs/$jid/savepoints/$trig" | grep -q '"location"'; }
wait_for 20 sp_done
sp=$(curl -sf "$sim/jobs/$jid/savepoints/$trig" | python3 -c 'import json,sys; print(json.load(sys.stdin)["operation"]["location"])')
kubectl -n $ns get configmaps -l app=sim,type=flink-native-kubernetes -o json > "$FO_CLUSTER_DIR/contract-ha.json"
tm_made() { [ -n "$(kubectl -n $ns get pods -l app=sim,component=taskmanager -o name)" ]; }
wait_for 20 tm_made || ko "flinksim: made its TaskManager pods" "$(kubectl -n $ns get pods 2>&1)"
kubectl -n $ns get pods -l app=sim,component=taskmanager -o json > "$FO_CLUSTER_DIR/contract-pods.json"
if out=$(python3 "$ROOT/tests/contract/contract.py" flink1 sim "$jid" "$ck" "$sp" "$FO_CLUSTER_DIR/contract-ha.json" "$FO_CLUSTER_DIR/contract-pods.json" 2>&1); then
  ok "flinksim: keeps the contract real Flink keeps (HA ConfigMaps and keys, checkpoint and savepoint paths, TaskManager pods' labels)"
else ko "flinksim: keeps tests/contract/contract.json" "$out"; fi
check "flinksim: its TaskManager pods are owned by the JobManager Deployment, as Flink's are" "Deployment/sim" \
  "$(kubectl -n $ns get pods -l app=sim,component=taskmanager -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}')"
check "flinksim: as many as the job's slots need (parallelism 2, one slot each)" "2" "$(kubectl -n $ns get pods -l app=sim,component=taskmanager -o name | wc -l)"
kubectl -n $ns scale deploy sim --replicas 0 >/dev/null
stopped() { ! curl -sf -m 2 "$sim/jobs/overview" >/dev/null; }
if wait_for 10 stopped; then ok "flinksim: replicas 0 stops the JobManager"; else ko "flinksim: replicas 0 stops the JobManager"; fi
kubectl -n $ns scale deploy sim --replicas 1 >/dev/null
wait_for 20 running
restored=$(python3 -c 'import json,sys; e=[json.loads(l) for l in open(sys.argv[1]) if "job-started" in l and sys.argv[2] in l]; print(e[-1]["restoreKind"], e[-1]["restoredFrom"].split("/")[-1] if e[-1]["restoredFrom"] else None, len(e))' "$FLINKSIM_STATE" "$ns/sim")
case $restored in "ha-checkpoint chk-"*" 2") ok "flinksim: a new JobManager recovers from the HA checkpoint ($restored)";; *) ko "flinksim: recovery from HA" "$restored";; esac
ha_uids() { kubectl -n $ns get configmap -l app=sim,configmap-type=high-availability -o jsonpath='{range .items[*]}{.metadata.uid}{"\n"}{end}'; }
uids_before=$(ha_uids)
curl -s -X POST "http://127.0.0.1:$FLINKSIM_PORT/_sim/faults/$ns/sim" -d '{"lose_ha": true}' >/dev/null
# gone, or (the running job checkpoints again) re-created as new objects: none of the old ones left
gone() { local now; now=$(ha_uids); [ -n "$uids_before" ] && { [ -z "$now" ] || ! grep -qxF -f <(printf '%s\n' "$uids_before") <<<"$now"; }; }
if wait_for 10 gone; then ok "flinksim: lose_ha deletes the HA ConfigMaps"; else ko "flinksim: lose_ha"; fi
# The simulator starts nothing the Flink image would not start: the image runs an unknown first
# argument as a command, so args [kubernetes-application] crash-loop (as they did on the node)
sed -e 's/name: flink-config-sim/name: flink-config-bad/' -e 's/app: sim/app: bad/g' -e 's/name: sim,/name: bad,/' \
  -e 's/\[bash, -c, kubernetes-jobmanager.sh kubernetes-application\]/[kubernetes-application]/' <<'YAML' | kubectl -n $ns apply -f - >/dev/null
apiVersion: v1
kind: ConfigMap
metadata: {name: flink-config-sim, labels: {app: sim}}
data:
  config.yaml: |
    kubernetes.cluster-id: bad
    $internal.pipeline.job-id: 00000000000000000000000000000bad
    jobmanager.memory.process.size: 1600m
    env.java.default-opts.all: --add-opens=java.base/java.util=ALL-UNNAMED
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: sim, labels: {app: sim, component: jobmanager, type: flink-native-kubernetes}}
spec:
  replicas: 1
  selector: {matchLabels: {app: sim, component: jobmanager}}
  template:
    metadata: {labels: {app: sim, component: jobmanager, type: flink-native-kubernetes}}
    spec: {containers: [{name: flink-main-container, image: flink:1.20, command: [/docker-entrypoint.sh],
                         args: [bash, -c, kubernetes-jobmanager.sh kubernetes-application]}]}
YAML
refused() { kubectl -n $ns get pods -l app=bad -o jsonpath='{.items[0].status.containerStatuses[0].state.waiting.reason} {.items[0].status.containerStatuses[0].lastState.terminated.message}' | grep -q '^CrashLoopBackOff exec: kubernetes-application: not found'; }
if wait_for 20 refused; then ok "flinksim: args the Flink image cannot run crash-loop, as on the real image"
else ko "flinksim: refuses args the image cannot run" "$(kubectl -n $ns get pods -l app=bad -o yaml 2>&1 | tail -15)"; fi
check "flinksim: the refused JobManager serves no REST" "" "$(curl -sf -m 2 "http://127.0.0.1:$FLINKSIM_PORT/$ns/bad/jobs/overview")"
flinksim_stop
kubectl delete namespace $ns --wait=false >/dev/null 2>&1
