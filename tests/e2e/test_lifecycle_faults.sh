#!/usr/bin/env bash
# The lifecycle under a controller killed with SIGKILL before each of its writes during a savepoint
# upgrade (one run per write), and the documentation's example through its whole life.
ns=e2e-faults
kubectl create namespace $ns >/dev/null
flinksim_start --checkpoint-interval 0.3 --start-delay 0.3 --savepoint-delay 0.3
url="http://127.0.0.1:$FLINKSIM_PORT/{namespace}/{name}"
rec() { python3 "$E2E_DIR/tools.py" sim-record "$FLINKSIM_STATE" "$ns/$1" "$2"; }
jpath() { kubectl -n $ns get flinkdep "$1" -o jsonpath="$2" 2>/dev/null; }
stable_running() { [ "$(jpath "$1" '{.status.lifecycleState}')" = STABLE ] && [ "$(jpath "$1" '{.status.jobStatus.state}')" = RUNNING ]; }

sed -e 's/name: savepoint-example/name: kill/' "$ROOT/examples/savepoint.yaml" | kubectl -n $ns apply -f - >/dev/null
controller_start steady --leader-elect=false --flink-url-template "$url"
wait_for 30 stable_running kill
controller_stop steady
covered=0
for n in $(seq 1 30); do
  starts=$(rec kill starts); sps=$(rec kill savepoints)
  FO_FAULT_KILL_BEFORE_WRITE="$ns/kill:$n" controller_start "k$n" --leader-elect=false --flink-url-template "$url"
  kubectl -n $ns patch flinkdep kill --type merge -p "{\"spec\":{\"job\":{\"parallelism\":$((n + 2))}}}" >/dev/null
  died() { ! kill -0 "$(cat "$FO_CLUSTER_DIR/pids/controller-k$n")" 2>/dev/null; }
  upgraded() { [ "$(rec kill starts)" = $((starts + 1)) ] && stable_running kill; }
  wait_for 30 bash -c "died() { ! kill -0 \$(cat '$FO_CLUSTER_DIR/pids/controller-k$n') 2>/dev/null; }; died || [ \"\$(python3 '$E2E_DIR/tools.py' sim-record '$FLINKSIM_STATE' '$ns/kill' starts)\" = $((starts + 1)) ]"
  if ! died; then controller_stop "k$n"; break; fi   # the upgrade needed fewer writes: every step was covered
  rm -f "$FO_CLUSTER_DIR/pids/controller-k$n"
  covered=$n
  controller_start "r$n" --leader-elect=false --flink-url-template "$url"
  if wait_for 40 upgraded; then
    got="$(rec kill savepoints) $(rec kill last-start-kind) $(rec kill last-start-from)"
    want="$((sps + 1)) savepoint $(rec kill last-savepoint)"
    check "SIGKILL before write $n: converges, one savepoint, restored from it" "$want" "$got"
  else
    ko "SIGKILL before write $n: converges" "$(jpath kill '{.status}')"
  fi
  controller_stop "r$n"
done
if [ "$covered" -ge 5 ]; then ok "SIGKILL: every write of a savepoint upgrade was a kill point ($covered)"; else ko "SIGKILL: only $covered kill points"; fi

# ---- the documentation's example: running -> suspended -> running -> upgraded -> deleted ----
controller_start seed --leader-elect=false --flink-url-template "$url" --savepoint-on-deletion
sed -e '/^  namespace:/d' "$ROOT/examples/seed-last-state-fixed.yaml" | kubectl -n $ns apply -f - >/dev/null
n=basic-checkpoint-ha-example
if wait_for 30 stable_running $n; then ok "seed example: running"; else ko "seed example: running" "$(jpath $n '{.status}')"; fi
check "seed example: the Running condition" "True/Running/Job status RUNNING" "$(jpath $n '{.status.conditions[0].status}/{.status.conditions[0].reason}/{.status.conditions[0].message}')"
ha_cp() { kubectl -n $ns get cm -l app=$n,configmap-type=high-availability -o jsonpath='{.items[*].data}' | grep -q checkpointID-; }
wait_for 20 ha_cp
kubectl -n $ns patch flinkdep $n --type merge -p '{"spec":{"job":{"state":"suspended"}}}' >/dev/null
susp() { [ "$(jpath $n '{.status.lifecycleState}')" = SUSPENDED ]; }
if wait_for 30 susp; then ok "seed example: suspended"; else ko "seed example: suspended" "$(jpath $n '{.status}')"; fi
kubectl -n $ns patch flinkdep $n --type merge -p '{"spec":{"job":{"state":"running"}}}' >/dev/null
back() { [ "$(rec $n starts)" = 2 ] && stable_running $n; }
if wait_for 30 back; then ok "seed example: running again, from its last checkpoint"; else ko "seed example: resumed" "$(jpath $n '{.status}')"; fi
check "seed example: resumed from the HA checkpoint" "ha-checkpoint" "$(rec $n last-start-kind)"
kubectl -n $ns patch flinkdep $n --type merge -p '{"spec":{"image":"flink:1.14.6"}}' >/dev/null
up() { [ "$(rec $n starts)" = 3 ] && stable_running $n; }
if wait_for 30 up; then ok "seed example: upgraded"; else ko "seed example: upgraded" "$(jpath $n '{.status}')"; fi
check "seed example: upgraded from the HA checkpoint with the new image" "ha-checkpoint flink:1.14.6" "$(rec $n last-start-kind) $(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if "job-started" in l and sys.argv[2] in l][-1]["image"])' "$FLINKSIM_STATE" "$ns/$n")"
sps_before=$(rec $n savepoints)
kubectl -n $ns delete flinkdep $n >/dev/null
check "seed example: --savepoint-on-deletion stopped the job with a savepoint" "$((sps_before + 1))" "$(rec $n savepoints)"
nothing_left() { [ -z "$(kubectl -n $ns get deploy,svc,cm -l app=$n -o name)" ]; }
wait_for 30 nothing_left   # owned objects go through the garbage collector
check "seed example: deleted with everything it owned" "" "$(kubectl -n $ns get deploy,svc,cm -l app=$n -o name)"
controller_stop seed
flinksim_stop
kubectl delete namespace $ns --wait=false >/dev/null 2>&1
