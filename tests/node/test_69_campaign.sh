#!/usr/bin/env bash
# The fault campaign on real Flink: random trials, each a transition (an upgrade or a suspend and
# resume) in a random upgrade mode with a random fault at a random moment of it, checked from
# Flink's side. The faults: none, the controller's pods killed, the JobManager's pod killed, a
# TaskManager's pod killed, the API server restarted. After each trial, whatever the fault:
#   - it converges: the latest spec reconciled, the job RUNNING in Flink, within 7 minutes;
#   - one cluster: one JobManager pod, its TaskManagers only (nothing of an old cluster left);
#   - savepoint and last-state: the job's state went on (the Counter's restored count grew past
#     what the run before restored) from a savepoint on the volume or a checkpoint in its folder;
#     last-state kept the job id; stateless started empty.
# FO_CAMPAIGN_SEED (default 1) and FO_CAMPAIGN_TRIALS (default 2, CI) choose the trials; each
# trial's line (mode, transition, fault, when, how long it took) is in the output and in
# $FO_NODE_DIR/campaign.tsv. A longer run:
#   FO_CAMPAIGN_SEED=7 FO_CAMPAIGN_TRIALS=20 bash tests/node/run.sh tests/node/test_30_chart.sh tests/node/test_69_campaign.sh
# Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator installed).

source "$NODE_TESTS/flink_lib.sh"

SEED=${FO_CAMPAIGN_SEED:-1}
TRIALS=${FO_CAMPAIGN_TRIALS:-2}
RANDOM=$SEED
TSV=$FO_NODE_DIR/campaign.tsv
printf 'trial\tmode\ttransition\tfault\tafter_s\tconverged_s\tresult\n' > "$TSV"
KMODE=native; FV=1.20
CONF="    execution.checkpointing.interval: 2s
    kubernetes.jobmanager.cpu.limit-factor: \"8\"
    kubernetes.taskmanager.cpu.limit-factor: \"8\"
    high-availability.type: kubernetes
    high-availability.storageDir: file://$DATA/ha"
modes=(savepoint last-state stateless)
transitions=(upgrade suspend-resume)
faults=(none controller jobmanager taskmanager apiserver)
rate=20

pod_of() { # a pod of component $1 not being deleted, or nothing
  kubectl -n $FNS get pods -l "app=$FD2,component=$1" -o json 2>/dev/null | $PY -c '
import json, sys
p = [p["metadata"]["name"] for p in json.load(sys.stdin)["items"] if not p["metadata"].get("deletionTimestamp")]
print(p[0] if p else "")'
}
inject() { # $1: the fault
  case $1 in
    none) ;;
    controller) kubectl -n $OPNS delete pods -l app.kubernetes.io/component=controller --grace-period=0 --force >/dev/null 2>&1 ;;
    jobmanager|taskmanager) local p; p=$(pod_of "$1"); [ -z "$p" ] || kubectl -n $FNS delete pod "$p" --grace-period=0 --force >/dev/null 2>&1 ;;
    apiserver) bash "$NODE_SH" restart-apiserver >/dev/null 2>&1 ;;
  esac
}
converged() {
  [ "$(fstatus '{.status.observedGeneration}')" = "$(kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath='{.metadata.generation}' 2>/dev/null)" ] \
    && [ "$(fstatus '{.status.reconciliationStatus.state}')" = DEPLOYED ] && stable_running
}
# pods of this FlinkDeployment, not being deleted: "<jobmanager count> <taskmanagers not of the JM's cluster>"
one_cluster() {
  local jm tm_foreign
  jm=$(kubectl -n $FNS get pods -l "app=$FD2,component=jobmanager" -o json | $PY -c 'import json,sys; print(sum(1 for p in json.load(sys.stdin)["items"] if not p["metadata"].get("deletionTimestamp")))')
  # native TaskManagers are owned by the JobManager Deployment (Flink sets it as their owner)
  local uid; uid=$(kubectl -n $FNS get deployment $FD2 -o jsonpath='{.metadata.uid}' 2>/dev/null)
  tm_foreign=$(kubectl -n $FNS get pods -l "app=$FD2,component=taskmanager" -o json | $PY -c '
import json, sys
n = 0
for p in json.load(sys.stdin)["items"]:
    if p["metadata"].get("deletionTimestamp"): continue
    if sys.argv[1] not in [o.get("uid") for o in p["metadata"].get("ownerReferences", [])]: n += 1
print(n)' "$uid")
  echo "$jm $tm_foreign"
}

current=""
for trial in $(seq 1 "$TRIALS"); do
  UMODE=${modes[RANDOM % ${#modes[@]}]}
  tr=${transitions[RANDOM % ${#transitions[@]}]}
  fault=${faults[RANDOM % ${#faults[@]}]}
  after=$(( RANDOM % 31 )) # tenths of the upgrade's usual length: 0..30 s after the change
  CASE="campaign $trial/$TRIALS ($UMODE, $tr, fault $fault ${after}s in)"
  if [ "$current" != "$UMODE" ]; then # a FlinkDeployment of this mode (one at a time: a 2-core node)
    [ -z "$current" ] || { FD2=camp-$current; flink_delete; }
    FD2=camp-$UMODE; current=$UMODE; rate=20
    fd_apply "$CONF" "[--rate, \"$rate\"]" 0.25 0.25
    if ! { wait_for 300 stable_running && wait_for 90 counting; }; then
      ko "$CASE: running" "$(fstatus '{.status}')"; printf '%s\t%s\t%s\t%s\t%s\t-\tnot started\n' "$trial" "$UMODE" "$tr" "$fault" "$after" >> "$TSV"; current=""; flink_delete; continue
    fi
  fi
  FD2=camp-$UMODE
  checkpoints_after_now || ko "$CASE: checkpoints before the trial" "$(completed_checkpoints 2>&1)"
  r0=$(counter restored 2>/dev/null || echo 0); jid0=$(fstatus '{.status.jobStatus.jobId}')
  trial_t0=$(date +%s.%N)
  if [ "$tr" = upgrade ]; then
    rate=$((rate + 1))
    kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p "{\"spec\":{\"job\":{\"args\":[\"--rate\",\"$rate\"]}}}" >/dev/null
  else
    kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"state":"suspended"}}}' >/dev/null
  fi
  # the fault, `after` seconds into the transition (polled against the clock, not slept blind)
  due() { awk -v t0="$trial_t0" -v a="$after" -v now="$(date +%s.%N)" 'BEGIN { exit !(now - t0 >= a) }'; }
  if [ "$tr" = suspend-resume ]; then
    # the fault lands in the suspend or, past it, in the resume
    suspended() { [ "$(fstatus '{.status.lifecycleState}')" = SUSPENDED ]; }
    done_or_due() { due || suspended; }
    wait_for 300 done_or_due
    if due; then inject "$fault"; fault_done=1; else fault_done=0; fi
    wait_for 400 suspended || ko "$CASE: suspended" "$(fstatus '{.status}')"
    kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"state":"running"}}}' >/dev/null
    if [ $fault_done = 0 ]; then
      trial_t1=$(date +%s.%N); after_resume=$(( RANDOM % 21 ))
      due2() { awk -v t0="$trial_t1" -v a="$after_resume" -v now="$(date +%s.%N)" 'BEGIN { exit !(now - t0 >= a) }'; }
      wait_for 60 due2; inject "$fault"
    fi
  else
    wait_for 60 due; inject "$fault"
  fi
  if wait_for 420 converged; then
    took=$(awk -v t0="$trial_t0" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f", now - t0 }')
    ok "$CASE: converged in ${took} s, the job RUNNING in Flink with the latest spec"
  else
    took=-; ko "$CASE: converged" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"
    printf '%s\t%s\t%s\t%s\t%s\t-\tnot converged\n' "$trial" "$UMODE" "$tr" "$fault" "$after" >> "$TSV"
    current=""; flink_delete; continue
  fi
  fails0=$failed
  cl=$(one_cluster)
  check "$CASE: one JobManager pod, no TaskManager of another cluster" "1 0" "$cl"
  if [ "$UMODE" = stateless ]; then
    gone_empty() { local r; r=$(counter restored 2>/dev/null) && [ "$r" -eq 0 ]; }
    if wait_for 120 gone_empty; then ok "$CASE: stateless: the new job started empty"; else ko "$CASE: started empty" "restored $(counter restored 2>&1)"; fi
  elif [ "$UMODE" != stateless ]; then
    newer() { local r; r=$(counter restored 2>/dev/null) && [ "$r" -gt "$r0" ]; }
    if wait_for 120 newer; then ok "$CASE: the state went on: restored $(counter restored), the run before $r0"
    else ko "$CASE: the state went on" "restored $(counter restored 2>&1), the run before restored $r0"; fi
    # a savepoint stays on the volume; a checkpoint is Flink's to discard once newer ones complete
    # (one retained): it must be one of this job's, in the volume's checkpoint folder
    got=$(restored_from); ckdir=${got% *}; ckdir=$(dirname "${ckdir#file:}")
    case "$got" in
      *" savepoint") if on_volume "${got% *}"; then ok "$CASE: Flink restored savepoint ${got% *}, which is on the volume"
                     else ko "$CASE: the restored savepoint is on the volume" "$got"; fi ;;
      "file:$DATA/checkpoints/"*"/chk-"*" checkpoint")
        if [ -d "$ckdir" ]; then ok "$CASE: Flink restored checkpoint ${got% *}, from its job's folder on the volume"
        else ko "$CASE: the restored checkpoint's folder is on the volume" "$got"; fi ;;
      *) ko "$CASE: restored from a savepoint or checkpoint on the volume" "$got" ;;
    esac
    [ "$UMODE" != last-state ] || check "$CASE: last-state kept the job id" "$jid0" "$(fstatus '{.status.jobStatus.jobId}')"
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$trial" "$UMODE" "$tr" "$fault" "$after" "$took" "$([ "$failed" = "$fails0" ] && echo ok || echo FAILED)" >> "$TSV"
done
[ -z "$current" ] || { FD2=camp-$current; CASE="campaign: the last FlinkDeployment"; flink_delete; }
printf '  campaign (seed %s, %s trials):\n' "$SEED" "$TRIALS"; column -t -s $'\t' "$TSV" | sed 's/^/    /'
