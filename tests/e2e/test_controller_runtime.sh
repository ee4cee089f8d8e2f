#!/usr/bin/env bash
# The controller's runtime against the local control plane: watch continuity through an API
# server restart and etcd compaction, status conflicts with a second writer, leader election with
# SIGKILL, token rotation. Sourced by run.sh.

ns=e2e-runtime
kubectl create namespace $ns >/dev/null
logs=$FO_CLUSTER_DIR/logs
tools=$E2E_DIR/tools.py

manifest() { # name parallelism
  printf 'apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: %s, namespace: %s}\nspec:\n  flinkVersion: v1_20\n  jobManager: {resource: {memory: 1g}}\n  taskManager: {resource: {memory: 1g}}\n  job: {jarURI: "local:///opt/flink/examples/streaming/StateMachineExample.jar", parallelism: %s}\n---\n' "$1" "$ns" "$2"
}

# ---- watch continuity ----
controller_start alpha --leader-elect=false --resync-period 0
port=$CTL_PORT_alpha
{ for i in $(seq 1 30); do manifest "obj-$i" 1; done; } | kubectl apply -f - >/dev/null
for i in $(seq 1 15); do kubectl -n $ns patch flinkdep "obj-$i" --type merge -p '{"spec":{"job":{"parallelism":2}}}' >/dev/null; done
for i in $(seq 21 30); do kubectl -n $ns delete flinkdep "obj-$i" --wait=false >/dev/null; done
bash "$E2E_DIR/cluster.sh" restart-apiserver 2>/dev/null
# Freeze the controller while changes happen and etcd is compacted, then restart the API server:
# its watch resumes from a resourceVersion that no longer exists (410 Gone) and must re-list.
kill -STOP "$(cat "$FO_CLUSTER_DIR/pids/controller-alpha")"
{ for i in $(seq 31 40); do manifest "obj-$i" 1; done; } | kubectl apply -f - >/dev/null
for i in $(seq 1 10); do kubectl -n $ns patch flinkdep "obj-$i" --type merge -p '{"spec":{"job":{"parallelism":3}}}' >/dev/null; done
for i in $(seq 11 15); do kubectl -n $ns delete flinkdep "obj-$i" --wait=false >/dev/null; done
kubectl -n $ns create configmap bump-revision --from-literal=x=1 >/dev/null  # etcd moves past our last event
bash "$E2E_DIR/cluster.sh" compact 2>/dev/null
bash "$E2E_DIR/cluster.sh" restart-apiserver 2>/dev/null
# resume once the restarted API server authorizes the controller again (its RBAC cache fills a
# few seconds after readyz): the first re-watch then meets 410, not 403
authorized() { kubectl --kubeconfig "$FO_CLUSTER_DIR/controller.kubeconfig" get flinkdeployments -A >/dev/null 2>&1; }
wait_for 30 authorized
kill -CONT "$(cat "$FO_CLUSTER_DIR/pids/controller-alpha")"
for i in $(seq 16 18); do kubectl -n $ns patch flinkdep "obj-$i" --type merge -p '{"spec":{"job":{"parallelism":4}}}' >/dev/null; done
converged() { python3 "$tools" cache-equals-server "$port" "$ns"; }
if wait_for 60 converged; then ok "watch continuity: the cache ends equal to the server"; else ko "watch continuity: the cache ends equal to the server" "$(python3 "$tools" cache-equals-server "$port" "$ns" 2>&1 | tail -5)"; fi
reconciled() { python3 "$tools" reconciled-after-last-change "$logs/controller-alpha.log" "$ns"; }
if wait_for 60 reconciled; then ok "watch continuity: every object reconciled after its last change"; else ko "watch continuity: every object reconciled after its last change" "$(reconciled 2>&1)"; fi
if grep -q '"watch expired, re-listing"' "$logs/controller-alpha.log"; then ok "watch continuity: 410 Gone led to a re-list"; else ko "watch continuity: 410 Gone led to a re-list" "$(grep -E 'watch|list' "$logs/controller-alpha.log" | tail -5)"; fi
gone_ok() { [ "$(kubectl -n $ns get flinkdep -o name | wc -l)" = 25 ]; }
wait_for 30 gone_ok
check "watch continuity: deleted objects are gone (finalizer removed)" "25" "$(kubectl -n $ns get flinkdep -o name | wc -l)"

# ---- conflicts with a second writer ----
manifest conflict 1 | kubectl apply -f - >/dev/null
wait_for 20 bash -c "kubectl -n $ns get flinkdep conflict -o jsonpath='{.status.observedGeneration}' | grep -q 1"
( for i in $(seq 1 30); do kubectl -n $ns patch flinkdep conflict --subresource=status --type merge -p "{\"status\":{\"clusterInfo\":{\"ext-$i\":\"v$i\"}}}" >/dev/null; done ) &
writer=$!
for i in $(seq 2 11); do kubectl -n $ns patch flinkdep conflict --type merge -p "{\"spec\":{\"job\":{\"parallelism\":$i}}}" >/dev/null; done
wait $writer
gen_settled() { [ "$(kubectl -n $ns get flinkdep conflict -o jsonpath='{.metadata.generation}')" = "$(kubectl -n $ns get flinkdep conflict -o jsonpath='{.status.observedGeneration}')" ]; }
if wait_for 30 gen_settled; then ok "conflicts: the controller's observedGeneration reaches the last generation"; else ko "conflicts: observedGeneration" "$(kubectl -n $ns get flinkdep conflict -o jsonpath='{.metadata.generation} {.status}')"; fi
n_ext=$(kubectl -n $ns get flinkdep conflict -o json | python3 -c 'import json,sys; print(len([k for k in json.load(sys.stdin)["status"].get("clusterInfo",{}) if k.startswith("ext-")]))')
check "conflicts: none of the second writer's 30 updates is lost" "30" "$n_ext"
controller_stop alpha

# ---- leader election ----
kubectl -n flink-operator delete lease flink-operator-controller --ignore-not-found >/dev/null
controller_start one --lease-duration 6 --renew-deadline 4 --retry-period 1 --resync-period 2
wait_for 15 grep -q '"became leader"' "$logs/controller-one.log"
controller_start two --lease-duration 6 --renew-deadline 4 --retry-period 1 --resync-period 2
sleep 3   # both running, one leading: the other must not write
manifest leader-a 1 | kubectl apply -f - >/dev/null
wait_for 20 bash -c "grep -q 'leader-a' '$logs/controller-one.log'"
kill_ms=$(python3 -c 'import time; print(int(time.time()*1000))')
controller_stop one KILL
if wait_for 15 grep -q '"became leader"' "$logs/controller-two.log"; then ok "leader election: the other replica takes over"; else ko "leader election: the other replica takes over"; fi
manifest leader-b 1 | kubectl apply -f - >/dev/null
wait_for 20 bash -c "grep -q '\"write\".*leader-b' '$logs/controller-two.log'"
out=$(python3 "$tools" leader-check "$logs/controller-one.log" "$logs/controller-two.log" "$kill_ms" 6 2>&1)
if [ $? -eq 0 ]; then ok "leader election: never two writers at once, takeover within the lease duration"; else ko "leader election: never two writers at once" "$out"; fi
controller_stop two

# ---- token rotation ----
tokdir=$FO_CLUSTER_DIR/rotating
mkdir -p "$tokdir"
cp "$FO_CLUSTER_DIR/controller.token" "$tokdir/token"
python3 "$tools" kubeconfig-with-token-file "$FO_CLUSTER_DIR/controller.kubeconfig" "$tokdir/token" > "$tokdir/kubeconfig"
CTL_KUBECONFIG=$tokdir/kubeconfig controller_start rot --leader-elect=false
manifest rot-a 1 | kubectl apply -f - >/dev/null
user_wrote() { python3 "$tools" audit-user-wrote "$logs/audit.log" "$1" "$2"; }
if wait_for 20 user_wrote system:serviceaccount:flink-operator:flink-operator-controller rot-a; then ok "token rotation: writes with the first token"; else ko "token rotation: writes with the first token"; fi
cp "$FO_CLUSTER_DIR/controller.token2" "$tokdir/token.new" && mv "$tokdir/token.new" "$tokdir/token"
manifest rot-b 1 | kubectl apply -f - >/dev/null
if wait_for 20 user_wrote system:serviceaccount:flink-operator:flink-operator-controller-2 rot-b; then ok "token rotation: the next requests use the new token"; else ko "token rotation: the next requests use the new token" "$(tail -3 "$logs/controller-rot.log")"; fi
controller_stop rot

kubectl delete namespace $ns --wait=false >/dev/null 2>&1
