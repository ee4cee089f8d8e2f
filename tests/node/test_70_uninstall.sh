# Deleting the FlinkDeployment removes what it owned (the API server says so); helm uninstall
# removes every object of the release, its pods included, and keeps the CRD.
# Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator and $FD installed).

if [ -n "${FD:-}" ]; then # (test_40_flinkdeployment.sh made it)
  kubectl -n $OPNS delete flinkdeployment $FD --wait=false >/dev/null
  fd_gone() { ! kubectl -n $OPNS get flinkdeployment $FD >/dev/null 2>&1; }
  if wait_for 90 fd_gone; then ok "uninstall: the FlinkDeployment is deleted (the in-cluster controller removed its finalizer)"; else ko "uninstall: the FlinkDeployment is deleted" "$(kubectl -n $OPNS get flinkdeployment $FD -o yaml | tail -20)"; fi
  owned_gone() { [ -z "$(kubectl -n $OPNS get deployment/$FD service/$FD-rest service/$FD configmap/flink-config-$FD -o name 2>/dev/null)" ] \
    && [ -z "$(kubectl -n $OPNS get pods -l app=$FD -o name 2>/dev/null)" ]; }
  if wait_for 60 owned_gone; then ok "uninstall: its Deployment, Services, ConfigMap and pods are gone"; else ko "uninstall: what the FlinkDeployment owned is gone" "$(kubectl -n $OPNS get all 2>&1)"; fi
fi

manifest=$FO_NODE_DIR/release-manifest.yaml
helm get manifest $REL -n $OPNS > "$manifest"
n_objs=$(grep -c '^kind:' "$manifest")
out=$(helm uninstall $REL -n $OPNS --wait --timeout 120s 2>&1)
if [ $? -eq 0 ]; then ok "uninstall: helm uninstall"; else ko "uninstall: helm uninstall" "$out"; fi
left=$(kubectl get -f "$manifest" -o name 2>/dev/null)
check "uninstall: all $n_objs objects of the release are gone" "" "$left"
# (the garbage collector deletes the ReplicaSets' pods after helm has deleted their Deployments;
# each pod then has its grace period, 30 s for the controller's, and the kubelet its sync: on a
# slow node this took over a minute)
pods_gone() { [ -z "$(kubectl -n $OPNS get pods -o name 2>/dev/null)" ]; }
t=$(now_ms)
if wait_for 150 pods_gone; then ok "uninstall: the operator's pods are gone ($(secs $(( $(now_ms) - t ))) s after helm uninstall)"
else ko "uninstall: the operator's pods are gone" "$(kubectl -n $OPNS get pods -o wide 2>&1)"$'\n'"$(kubectl -n $OPNS get pods -o jsonpath='{range .items[*]}{.metadata.name}: deletion {.metadata.deletionTimestamp} grace {.metadata.deletionGracePeriodSeconds}; {.status.containerStatuses[*].state}{"\n"}{end}' 2>&1)"$'\n'"$(kubectl -n $OPNS get events --sort-by=.lastTimestamp 2>&1 | tail -8)"; fi
if kubectl get crd flinkdeployments.flink.apache.org >/dev/null 2>&1; then ok "uninstall: the CRD stays (Helm keeps CRDs)"; else ko "uninstall: the CRD stays"; fi
