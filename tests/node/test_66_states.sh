# Every upgrade mode against every job state, on real Flink: a FlinkDeployment is brought into a
# job state (running, not yet running, restarting, failed, finished), before or after its first
# checkpoint, then its spec changes; what the operator did is checked from Flink's side: what the
# new job restored (Flink's REST API), the count the Counter job restored (its gauge), the volume.
# The rule it is held to is the README's lifecycle table ("Never take down a job that cannot be
# brought back"):
#   stateless                         the new job starts empty
#   savepoint, running                a savepoint; the new job restores it, the count goes on
#   a checkpoint completed, the job   the new job restores Flink's latest checkpoint (through HA
#     restarting or failed              in last-state), the count goes on from it
#   no checkpoint completed yet       the job kept nothing: the new job starts empty
#     (running in last-state; not yet running, waiting for a TaskManager; restarting; failed)
#   finished                          Flink discards a finished job's checkpoints (it takes a
#                                       last one as it finishes, even before the first periodic
#                                       one): the new job starts from the latest savepoint
#                                       known, here none: empty
# (running after checkpoints: test_65_flink.sh. The
# README's "savepoint, not running yet: it waits" row is for a Flink that cannot say whether the
# job kept anything; real Flink answers for a job waiting for its TaskManagers: none.)
#
# The cells run three at a time, each with its own FlinkDeployment (pods asking for a quarter of
# a core, limited to two: the node has two). FO_STATE_CELLS=all runs every cell; the default is
# the ones CI runs. "Before the first checkpoint" is checkpointing enabled with its first
# checkpoint an hour away (interval and minimum pause an hour), not checkpointing disabled.
# Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator installed).

source "$NODE_TESTS/flink_lib.sh"

STATE_CELLS_CI="savepoint/running/before last-state/restarting/after savepoint/failed/after"
STATE_CELLS_ALL="$STATE_CELLS_CI last-state/running/before savepoint/restarting/after
last-state/failed/after savepoint/finished/after last-state/created/before savepoint/created/before
last-state/failed/before stateless/restarting/after savepoint/restarting/before
last-state/restarting/before savepoint/failed/before last-state/finished/after
stateless/failed/after stateless/finished/after stateless/created/before"
N_AT=300 # the count at which the job fails or finishes (15 s at 20 a second)

# What the rule says the new job restores: empty, savepoint (a new one, taken for the upgrade),
# or checkpoint (Flink's latest before the change).
cell_expect() {
  local m=$1 st=$2 ck=$3
  [ "$m" = stateless ] && { echo empty; return; }
  case $st/$ck in
    running/before) [ "$m" = savepoint ] && echo savepoint || echo empty ;;
    running/after) [ "$m" = savepoint ] && echo savepoint || echo checkpoint ;;
    restarting/after | failed/after) echo checkpoint ;;
    *) echo empty ;;
  esac
}

# One cell, in a subshell of its own (its ok/ko lines are replayed by in_parallel). $1: mode/state/ckpt.
state_cell() {
  IFS=/ read -r UMODE STATE CK <<< "$1"
  local short=${UMODE/last-state/ls}; short=${short/savepoint/sp}; short=${short/stateless/sl}
  FD2=st-$short-$STATE-$CK; CASE="states $1"; KMODE=native; FV=1.20
  local conf="    kubernetes.jobmanager.cpu.limit-factor: \"8\"
    kubernetes.taskmanager.cpu.limit-factor: \"8\"" args="[--rate, \"20\"]" tcpu=0.25
  if [ "$CK" = after ]; then conf+=$'\n'"    execution.checkpointing.interval: 2s"
  else conf+=$'\n'"    execution.checkpointing.interval: 1h"$'\n'"    execution.checkpointing.min-pause: 1h"; fi
  [ "$UMODE" = last-state ] && conf+=$'\n'"    high-availability.type: kubernetes"$'\n'"    high-availability.storageDir: file://$DATA/ha"
  case $STATE in
    restarting) conf+=$'\n'"    restart-strategy.type: fixed-delay"$'\n'"    restart-strategy.fixed-delay.attempts: \"1000\""$'\n'"    restart-strategy.fixed-delay.delay: 1h"
                args="[--rate, \"20\", --fail-at, \"$N_AT\"]" ;;
    failed) conf+=$'\n'"    restart-strategy.type: none"; args="[--rate, \"20\", --fail-at, \"$N_AT\"]" ;;
    finished) args="[--rate, \"20\", --finish-at, \"$N_AT\"]" ;;
    created) # the adaptive scheduler waits for a TaskManager that cannot be scheduled (64 cores)
      conf+=$'\n'"    jobmanager.scheduler: adaptive"$'\n'"    jobmanager.adaptive-scheduler.resource-wait-timeout: 1h"; tcpu=64 ;;
  esac
  fd_apply "$conf" "$args" 0.25 "$tcpu"

  # into the state (a finished job's last checkpoint is taken as it finishes)
  local want; want=$(echo "$STATE" | tr a-z A-Z); [ "$STATE" = created ] && want=CREATED
  in_state() { [ "$(flink_job_state)" = "$want" ]; }
  if wait_for 300 in_state; then ok "$CASE: Flink says the job is $want"
  else ko "$CASE: the job $want in Flink" "flink: $(flink_job_state 2>&1); status: $(fstatus '{.status.jobStatus.state} {.status.error}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; flink_delete; return; fi
  local c0=0 n0 ck0="" jid0; jid0=$(fstatus '{.status.jobStatus.jobId}')
  if [ "$STATE" = running ]; then wait_for 60 counting && c0=$(counter count); fi
  n0=$(completed_checkpoints 2>/dev/null || echo "?")
  if [ "$CK" = after ]; then
    [ "$STATE" = running ] && checkpoints_after_now
    ck0=$(flink_latest_checkpoint 2>/dev/null)
    if [ -n "$ck0" ]; then ok "$CASE: Flink completed checkpoints before the change (latest $ck0)"; else ko "$CASE: a checkpoint before the change" "$n0"; fi
    # a job that failed for good keeps its latest checkpoint (retained on cancellation or failure)
    if [ "$STATE" = failed ] && [ -n "$ck0" ]; then
      if on_volume "$ck0"; then ok "$CASE: the failed job's latest checkpoint is retained on the volume"; else ko "$CASE: the failed job's latest checkpoint is retained" "$ck0"; fi
    fi
  elif [ "$STATE" != finished ]; then check "$CASE: Flink completed no checkpoint before the change" "0" "$n0"; fi
  # what is left of a finished job's checkpoints: Flink discards them (not retained on finish)
  if [ "$STATE" = finished ] && [ -n "$ck0" ]; then
    if [ ! -e "${ck0#file:}/_metadata" ]; then ok "$CASE: Flink discarded the finished job's latest checkpoint ($ck0)"
    else ko "$CASE: Flink discards a finished job's checkpoints" "$ck0 is still on the volume"; fi
  fi
  local sp0; sp0=$(last_sp)

  # the change: the job's arguments (a rate of 21, and no failing or finishing), and the
  # TaskManager a job not yet running waited for
  local t; t=$(now_ms)
  kubectl -n $FNS patch flinkdeployment $FD2 --type merge -p '{"spec":{"job":{"args":["--rate","21"]},"taskManager":{"resource":{"cpu":0.25}}}}' >/dev/null
  local expect; expect=$(cell_expect "$UMODE" "$STATE" "$CK")
  upgraded() { [ "$(fstatus '{.status.observedGeneration}')" = "$(kubectl -n $FNS get flinkdeployment $FD2 -o jsonpath='{.metadata.generation}')" ] && stable_running; }
  if ! wait_for 300 upgraded; then ko "$CASE: upgraded, RUNNING again" "$(fstatus '{.status}')"$'\n'"$(kubectl -n $FNS get pods -l app=$FD2 2>&1)"; flink_delete; return; fi
  echo "timing: $CASE: change to RUNNING again $(secs $(( $(now_ms) - t ))) s"
  local got r; got=$(restored_from)
  if ! wait_for 90 counting; then ko "$CASE: the counter counts again" "$(counter count 2>&1)"; flink_delete; return; fi
  r=$(counter restored)
  case $expect in
    empty)
      check "$CASE: the new job restored nothing (Flink says)" "none" "$got"
      check "$CASE: the count started from nothing" "0" "$r" ;;
    savepoint)
      local sp; sp=$(last_sp)
      if [ -n "$sp" ] && [ "$sp" != "$sp0" ] && on_volume "$sp"; then ok "$CASE: a savepoint was taken for the upgrade, on the volume"; else ko "$CASE: a savepoint for the upgrade" "$sp0 / $sp"; fi
      check "$CASE: the new job restored that savepoint (Flink says)" "$sp savepoint" "$got"
      if [ "$r" -ge "$c0" ] && [ "$c0" -gt 0 ]; then ok "$CASE: the count went on from $r (it was $c0 before)"; else ko "$CASE: the count goes on" "restored $r, before $c0"; fi ;;
    checkpoint)
      check "$CASE: the new job restored Flink's latest checkpoint (Flink says)" "$ck0" "${got%% *}"
      if [ "$r" -gt 0 ] && [ "$r" -le "$N_AT" ]; then ok "$CASE: the count went on from the checkpoint's $r"; else ko "$CASE: the count goes on from the checkpoint" "restored $r"; fi ;;
  esac
  flink_delete
}

# the FlinkDeployments test_65 may have left running take the node's CPU: none may be left
left=$(kubectl -n $FNS get flinkdeployments -o name 2>/dev/null | grep -v "/${FD:-none}$" || true)
[ -z "$left" ] || ko "states: no other FlinkDeployment runs beside the cells" "$left"
cells=${FO_STATE_CELLS:-$STATE_CELLS_CI}
[ "$cells" = all ] && cells=$STATE_CELLS_ALL
read -r -a cells <<< "$(echo $cells)"
for (( i = 0; i < ${#cells[@]}; i += 3 )); do
  wave=()
  for cell in "${cells[@]:i:3}"; do wave+=("state_cell $cell"); done
  in_parallel "${wave[@]}"
done
