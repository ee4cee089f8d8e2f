# The README's example session, as written there, on real Flink: the seed's broken last-state
# example denied by the in-cluster webhook with the rulebook's message; examples/local-node.yaml
# applied (only its namespace given, and its folder when the node's is elsewhere), RUNNING and
# STABLE; its parallelism patched to 2: a savepoint upgrade, the savepoint on the folder the Flink
# pods share and restored by the new job (Flink says); deleted, nothing of it left.
# Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator installed).

source "$NODE_TESTS/flink_lib.sh"

CASE="readme"; FD2=local-example
out=$(kubectl apply -f "$ROOT/examples/seed-last-state.yaml" 2>&1) # (its namespace: default)
if [ $? -ne 0 ] && grep -q 'denied the request' <<<"$out" && grep -qF 'Checkpoint directory[execution.checkpointing.dir] must be defined' <<<"$out"; then
  ok "$CASE: examples/seed-last-state.yaml is denied by the in-cluster webhook, with the rulebook's message"
else ko "$CASE: seed-last-state.yaml denied" "$out"; fi

sed "s#/tmp/flink-operator-node/flink-data#$DATA#g" "$ROOT/examples/local-node.yaml" | kubectl -n $FNS apply -f - >/dev/null
t=$(now_ms)
if wait_for 240 stable_running; then
  echo "timing: readme: apply to RUNNING/STABLE $(secs $(( $(now_ms) - t ))) s"
  ok "$CASE: local-node.yaml is RUNNING and STABLE, and Flink runs its job"
else ko "$CASE: local-node.yaml runs" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; flink_delete; return 0; fi
jid1=$(fstatus '{.status.jobStatus.jobId}'); sp0=$(last_sp)
t=$(now_ms)
kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"parallelism":2}}}' >/dev/null
readme_upgraded() { [ "$(fstatus '{.status.observedGeneration}')" = "$(kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath='{.metadata.generation}')" ] \
  && [ "$(fstatus '{.status.jobStatus.jobId}')" != "$jid1" ] && stable_running; }
if wait_for 300 readme_upgraded; then
  echo "timing: readme: parallelism patch to RUNNING/STABLE again $(secs $(( $(now_ms) - t ))) s"
  sp=$(last_sp)
  if [ -n "$sp" ] && [ "$sp" != "$sp0" ] && on_volume "$sp"; then ok "$CASE: the patch stopped the job with a savepoint, on the shared folder"
  else ko "$CASE: the upgrade's savepoint on the folder" "$sp0 / $sp"; fi
  check "$CASE: Flink says the new job restored that savepoint" "$sp savepoint" "$(restored_from)"
else ko "$CASE: the parallelism patch" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; fi
flink_delete
