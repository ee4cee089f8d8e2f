# A FlinkDeployment on the node, reconciled by the in-cluster controller: its JobManager
# Deployment and Services are created and owned by it, the deployment controller makes the pod,
# and kubelet's failure to pull an image the node does not have (there is no registry here)
# reaches the status as the controller reports a JobManager that cannot start. Real Flink running
# is test_65_flink.sh.
# Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator installed).

FD=stateless-example
sed -e '/^  namespace:/d' -e 's/image: flink:1.20/image: flink:1.20-absent/' "$ROOT/examples/stateless.yaml" | kubectl -n $OPNS apply -f - >/dev/null
fd_uid=$(kubectl -n $OPNS get flinkdeployment $FD -o jsonpath='{.metadata.uid}')
owned_by_fd() { [ "$(kubectl -n $OPNS get "$1" -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].uid}' 2>/dev/null)" = "FlinkDeployment/$fd_uid" ]; }
for obj in deployment/$FD service/$FD-rest service/$FD configmap/flink-config-$FD; do
  if wait_for 30 owned_by_fd "$obj"; then ok "flinkdeployment: $obj created, owned by the FlinkDeployment"; else ko "flinkdeployment: $obj created and owned" "$(kubectl -n $OPNS get "$obj" -o yaml 2>&1 | head -20)"; fi
done
jm_pod() { kubectl -n $OPNS get pods -l "app=$FD,component=jobmanager" -o jsonpath='{.items[0].metadata.name}' 2>/dev/null; }
jm_scheduled() { [ -n "$(jm_pod)" ] && [ "$(kubectl -n $OPNS get pod "$(jm_pod)" -o jsonpath='{.spec.nodeName}')" = fo-node ]; }
if wait_for 30 jm_scheduled; then
  ok "flinkdeployment: the deployment controller created the JobManager pod ($(jm_pod)) and it was scheduled on fo-node"
else ko "flinkdeployment: the JobManager pod exists" "$(kubectl -n $OPNS describe deployment $FD | tail -5)"; fi
pull_failed() { kubectl -n $OPNS get pods -l "app=$FD,component=jobmanager" -o jsonpath='{.items[0].status.containerStatuses[0].state.waiting.reason}' | grep -Eq '^(ErrImagePull|ImagePullBackOff)$'; }
if wait_for 60 pull_failed; then ok "flinkdeployment: kubelet cannot pull flink:1.20-absent (no registry on this node)"; else ko "flinkdeployment: the pull fails" "$(kubectl -n $OPNS get pods -o wide)"; fi
fd_error() { [ "$(kubectl -n $OPNS get flinkdeployment $FD -o jsonpath='{.status.jobManagerDeploymentStatus}')" = ERROR ]; }
if wait_for 60 fd_error; then ok "flinkdeployment: jobManagerDeploymentStatus ERROR"; else ko "flinkdeployment: jobManagerDeploymentStatus ERROR" "$(kubectl -n $OPNS get flinkdeployment $FD -o jsonpath='{.status}')"; fi
err=$(kubectl -n $OPNS get flinkdeployment $FD -o jsonpath='{.status.error}')
if grep -q 'docker.io/library/flink:1.20-absent' <<<"$err" && grep -Eqi 'pull|back-off' <<<"$err"; then ok "flinkdeployment: status.error carries kubelet's message about the image"; else ko "flinkdeployment: status.error" "$err"; fi
ev=$(kubectl -n $OPNS get events --field-selector "involvedObject.kind=FlinkDeployment,involvedObject.name=$FD,type=Warning" -o jsonpath='{range .items[*]}{.reason}{"\n"}{end}' | grep -E -m1 '^(ErrImagePull|ImagePullBackOff)$')
if [ -n "$ev" ]; then ok "flinkdeployment: a Warning event $ev on the FlinkDeployment"; else ko "flinkdeployment: a Warning event for the pull failure"; fi
cond=$(kubectl -n $OPNS get flinkdeployment $FD -o jsonpath='{.status.conditions[?(@.type=="Running")].message}')
if grep -q 'flink:1.20-absent' <<<"$cond"; then ok "flinkdeployment: the Running condition says what stands in the way"; else ko "flinkdeployment: the Running condition names the pull failure" "$cond"; fi
# the metric, from the leader's metrics port (inside the node: the pod network)
warnings_counted() {
  local leader ip; leader=$(kubectl -n $OPNS get lease $REL-controller -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)
  ip=$(kubectl -n $OPNS get pod "$leader" -o jsonpath='{.status.podIP}' 2>/dev/null)
  [ -n "$ip" ] && node_exec curl -sf --max-time 5 "http://$ip:8085/metrics" | grep -Eq '^flink_operator_warnings_total\{reason="(ErrImagePull|ImagePullBackOff)"\} [1-9]'
}
if wait_for 30 warnings_counted; then ok "flinkdeployment: flink_operator_warnings_total counts the pull failure"; else ko "flinkdeployment: the warnings metric" "$(kubectl -n $OPNS get lease $REL-controller -o jsonpath='{.spec.holderIdentity}' 2>&1)"; fi
# The FlinkDeployment stays for the leader-election test (its status is polled, so the
# controller keeps reconciling it) and is deleted by the uninstall test.
