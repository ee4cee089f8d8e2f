# The seed's example manifests, as fixed in examples/ (seed-savepoint-nonce-fixed.yaml,
# seed-last-state-fixed.yaml), on real Flink 1.14.3 (the image they name, built here: Debian
# bullseye, Java 11; built once, cached like the others). Alone:
#   bash tests/node/run.sh tests/node/test_30_chart.sh tests/node/test_63_seed_examples.sh
# Three things of each manifest are changed to fit the test node, and only these: the namespace
# (the chart's job namespace, where its `flink` ServiceAccount is), the CPU (1 core each for the
# JobManager and the TaskManager does not fit a 2-core node beside the operator: a quarter, with a
# limit factor of 8), and the hostPath's folder (under the node's folder instead of /tmp/flink).
# Each is deployed and runs StateMachineExample in Flink; the savepoint example takes a savepoint
# by a new nonce (on the volume, Flink's latest); the last-state one is upgraded and Flink says it
# recovered its latest checkpoint, same job id; then each is deleted and nothing of it is left.
# Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator installed).

source "$NODE_TESTS/flink_lib.sh"

SEED_TAR=$(bash "$ROOT/scripts/image/build.sh" flink 1.14.3) || ko "seed: the flink:1.14.3 image builds"
[ -n "$SEED_TAR" ] && { bash "$NODE_SH" import "$SEED_TAR" >/dev/null || ko "seed: flink:1.14.3 imported into the node"; }
SEED_DATA=$DATA/seed
mkdir -p "$SEED_DATA" && chmod 1777 "$SEED_DATA"

# examples/$1 with the three changes above, applied; prints its name
seed_apply() {
  $PY - "$ROOT/examples/$1" "$FNS" "$SEED_DATA" <<'PY' | kubectl apply -f - >/dev/null
import json, sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
d["metadata"]["namespace"] = sys.argv[2]
s = d["spec"]
for c in ("jobManager", "taskManager"):
    s[c]["resource"]["cpu"] = 0.25
conf = s["flinkConfiguration"]
conf["kubernetes.jobmanager.cpu.limit-factor"] = "8"
conf["kubernetes.taskmanager.cpu.limit-factor"] = "8"
conf["metrics.fetcher.update-interval"] = "1000"
for v in s["podTemplate"]["spec"]["volumes"]:
    if "hostPath" in v:
        v["hostPath"]["path"] = sys.argv[3]
print(json.dumps(d))
PY
}

seed_case() {
  local file=$1; CASE="seed $file"
  FD2=$($PY -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["metadata"]["name"])' "$ROOT/examples/$file")
  seed_apply "$file" || { ko "$CASE: applied"; return; }
  if wait_for 300 stable_running; then ok "$CASE: deployed; Flink 1.14.3 runs the job the status names"
  else ko "$CASE: deployed and running in Flink" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"$'\n'"$(kubectl -n $FNS logs deploy/$FD2 --tail 20 2>&1)"; flink_delete; return; fi
  local name; name=$(flink_rest "/jobs/$(fstatus '{.status.jobStatus.jobId}')" | $PY -c 'import json,sys; print(json.load(sys.stdin)["name"])')
  check "$CASE: Flink runs StateMachineExample" "State machine job" "$name"
  local jid; jid=$(fstatus '{.status.jobStatus.jobId}')
  case $file in
    seed-savepoint-nonce-fixed.yaml)
      local sp0; sp0=$(last_sp)
      kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"savepointTriggerNonce":124}}}' >/dev/null
      new_sp() { [ -n "$(last_sp)" ] && [ "$(last_sp)" != "$sp0" ]; }
      if wait_for 180 new_sp; then
        local sp; sp=$(last_sp)
        if [ -f "$SEED_DATA/savepoints/${sp##*/}/_metadata" ]; then ok "$CASE: the nonce's savepoint is on the volume ($sp)"
        else ko "$CASE: the nonce's savepoint is on the volume" "$sp; $(ls "$SEED_DATA/savepoints" 2>&1)"; fi
        flink_sp() { flink_rest "/jobs/$jid/checkpoints" | $PY -c 'import json,sys; print(((json.load(sys.stdin).get("latest") or {}).get("savepoint") or {}).get("external_path"))'; }
        sp_is() { [ "$(flink_sp)" = "$sp" ]; }
        if wait_for 30 sp_is; then ok "$CASE: Flink's latest savepoint is the one in the status"; else ko "$CASE: Flink's latest savepoint" "want $sp, got $(flink_sp)"; fi
      else ko "$CASE: a savepoint by the new nonce" "$(fstatus '{.status}')"; fi ;;
    seed-last-state-fixed.yaml)
      wait_for 120 has_checkpoint || ko "$CASE: a first checkpoint" "$(completed_checkpoints 2>&1)"
      checkpoints_after_now
      kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"restartNonce":1}}' >/dev/null
      upgraded() { [ "$(fstatus '{.status.observedGeneration}')" = "$(kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath='{.metadata.generation}')" ] && stable_running; }
      if wait_for 300 upgraded; then
        local got; got=$(restored_from)
        case $got in
          "file:/flink-data/checkpoints/$jid/chk-"*" checkpoint") ok "$CASE: upgraded; Flink says it recovered its latest checkpoint through HA ($got)" ;;
          *) ko "$CASE: upgraded from the latest checkpoint" "$got" ;;
        esac
        check "$CASE: the same job id" "$jid" "$(fstatus '{.status.jobStatus.jobId}')"
      else ko "$CASE: upgraded" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; fi ;;
  esac
  flink_delete
}

if [ -n "$SEED_TAR" ]; then
  seed_case seed-savepoint-nonce-fixed.yaml
  seed_case seed-last-state-fixed.yaml
fi
