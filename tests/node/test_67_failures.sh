#!/usr/bin/env bash
# Failures on the real node, seen where a user looks (issue 22), and the recovery of a lost
# JobManager Deployment on real Flink:
#   - a JobManager that cannot be scheduled (64 cores on a 2-core node) is said after
#     kubernetes.operator.deployment.readiness.timeout, with the scheduler's own words;
#   - a last-state job with Kubernetes HA whose JobManager Deployment is deleted by hand is
#     deployed again: Flink says the new job restored the latest checkpoint, the same job id, and
#     the count went on.
# (An image that cannot be pulled: test_40.) Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator installed).

source "$NODE_TESTS/flink_lib.sh"

# ---- never ready: Pending, Unschedulable ----
FD2=unready; CASE="not ready"
kubectl -n $FNS apply -f - >/dev/null <<YAML
apiVersion: flink.apache.org/v1beta1
kind: FlinkDeployment
metadata: {name: $FD2}
spec:
  image: flink:1.20
  flinkVersion: v1_20
  serviceAccount: flink
  flinkConfiguration:
    kubernetes.operator.deployment.readiness.timeout: 10 s
  jobManager: {resource: {memory: 1600m, cpu: 64}}
  taskManager: {resource: {memory: 1728m, cpu: 0.25}}
  job:
    jarURI: local:///opt/flink/examples/streaming/Counter.jar
    parallelism: 1
    upgradeMode: stateless
YAML
said() { fstatus '{.status.error}' | grep -q 'JobManager deployment not ready within 10 s: Pending; PodScheduled: Unschedulable: 0/1 nodes are available: 1 Insufficient cpu'; }
if wait_for 120 said; then ok "$CASE: status.error says the JobManager is not ready, in the scheduler's words"
else ko "$CASE: status.error" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; fi
check "$CASE: a DeploymentNotReady Warning, sent once" "1" \
  "$(kubectl -n $FNS get events --field-selector involvedObject.name=$FD2,reason=DeploymentNotReady -o jsonpath='{.items[*].count}')"
check "$CASE: the JobManager is still DEPLOYING (the wait goes on)" "DEPLOYING" "$(fstatus '{.status.jobManagerDeploymentStatus}')"
flink_delete

# ---- a lost JobManager Deployment, recovered through HA ----
FD2=lost; CASE="recovery"; KMODE=native; FV=1.20; UMODE=last-state
fd_apply "    execution.checkpointing.interval: 2s
    kubernetes.jobmanager.cpu.limit-factor: \"8\"
    kubernetes.taskmanager.cpu.limit-factor: \"8\"
    high-availability.type: kubernetes
    high-availability.storageDir: file://$DATA/ha" '[--rate, "20"]' 0.25 0.25
if wait_for 300 stable_running && wait_for 90 counting; then ok "$CASE: running on real Flink"
else ko "$CASE: running" "$(fstatus '{.status}')"; flink_delete; return 0; fi
checkpoints_after_now
jid0=$(fstatus '{.status.jobStatus.jobId}'); ck0=$(flink_latest_checkpoint); c0=$(counter count)
kubectl -n $FNS delete deployment $FD2 >/dev/null
recovered() { [ -n "$(kubectl -n $FNS get events --field-selector involvedObject.name=$FD2,reason=RecoverDeployment -o name)" ] && stable_running; }
if wait_for 300 recovered; then ok "$CASE: the deleted JobManager Deployment was deployed again (RecoverDeployment), the job RUNNING"
else ko "$CASE: recovered" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; flink_delete; return 0; fi
check "$CASE: the same job id" "$jid0" "$(fstatus '{.status.jobStatus.jobId}')"
got=$(restored_from)
case "$got" in
  *" checkpoint") ok "$CASE: Flink says the new job restored a checkpoint ($got; the latest before was $ck0)" ;;
  *) ko "$CASE: restored from a checkpoint" "$got" ;;
esac
if wait_for 90 counting; then
  r=$(counter restored)
  if [ -n "$r" ] && [ "$r" -gt 0 ]; then ok "$CASE: the count went on from the checkpoint's $r (it was $c0 before)"
  else ko "$CASE: the count went on" "restored $r, before $c0"; fi
else ko "$CASE: counts again" "$(counter count 2>&1)"; fi
flink_delete
