#!/usr/bin/env bash
# Fault campaign: randomised lifecycle trials on the local control plane with the simulated Flink,
# each with one fault injected around a spec change, then the invariants (check.py) checked from
# the simulator's record and the API server. Reproducible: the seed picks every trial's upgrade
# mode, fault and timing (the faults land at the same points of the scenario; the processes'
# own timing is not replayed).
# usage: tests/chaos/run.sh [SEED] [TRIALS]      (default: seed from the clock, 12 trials)
#   FO_CHAOS_MODE=last-state FO_CHAOS_FAULT=restart-apiserver pin every trial's mode or fault (the
#   seed still draws them, so the timings of a seed stay the same). A violation keeps the
#   simulator's record, the logs and the namespace's ConfigMaps in /tmp/fo-chaos-violation-*.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
SEED=${1:-$(( $(date +%s) % 100000 ))}
TRIALS=${2:-12}
RANDOM=$SEED
export FO_CLUSTER_DIR=${FO_CLUSTER_DIR:-$(mktemp -d /tmp/fo-chaos-XXXXXX)}
source "$ROOT/tests/e2e/lib.sh"
trap '[ -n "${FO_KEEP_CLUSTER:-}" ] || cluster_down' EXIT
trap 'exit 130' INT TERM
CHAOS=$ROOT/tests/chaos
ns=chaos
log() { printf '[chaos %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

cluster_up >/dev/null 2>&1 || { echo "chaos: the local control plane did not start" >&2; exit 1; }
webhook_start && webhook_register || exit 1
flinksim_start --checkpoint-interval 0.3 --start-delay 0.3 --savepoint-delay 0.3
ctl_up() { controller_start chaos --leader-elect=false --flink-url-template "http://127.0.0.1:$FLINKSIM_PORT/{namespace}/{name}"; }
ctl_up || exit 1
kubectl create namespace $ns >/dev/null
sim_fault() { curl -s -X POST "http://127.0.0.1:$FLINKSIM_PORT/_sim/faults/$ns/$1" -d "$2" >/dev/null; }
patch_par() { kubectl -n $ns patch flinkdep "$1" --type merge -p "{\"spec\":{\"job\":{\"parallelism\":$2}}}" >/dev/null 2>&1; }
sleep_ms() { python3 -c "import time; time.sleep($1/1000)"; }
manifest() { flinkdep_yaml "$1" "$ns" "$2" "$FLINKDEP_HA"; } # name mode
check() { python3 "$CHAOS/check.py" "$FLINKSIM_STATE" $ns "$1" "$2" "$3"; }

modes=(savepoint last-state stateless)
faults=(kill-controller restart-apiserver compact webhook-down rest-timeout rest-500 fail-savepoint crashloop lose-ha concurrent-edits)
violations=0; results=()
log "seed $SEED, $TRIALS trials, cluster $FO_CLUSTER_DIR"
for i in $(seq 1 "$TRIALS"); do
  mode=${modes[RANDOM % ${#modes[@]}]}; fault=${faults[RANDOM % ${#faults[@]}]}; delay=$((RANDOM % 1500))
  mode=${FO_CHAOS_MODE:-$mode}; fault=${FO_CHAOS_FAULT:-$fault}
  name=t$i; phase=converged; want=3; why=""
  manifest $name "$mode" | kubectl apply -f - >/dev/null
  if ! wait_for 60 check $name "$mode" converged; then why="first deploy: $(check $name "$mode" converged | head -3)"; fi
  [ "$mode" = last-state ] && wait_for 10 grep -q "\"checkpoint\".*\"$ns/$name\"" "$FLINKSIM_STATE"
  if [ -z "$why" ]; then
    case $fault in
      fail-savepoint) sim_fault $name '{"fail_next_savepoint": true}' ;;
      crashloop) sim_fault $name '{"crashloop": true}' ;;
    esac
    patch_par $name 3
    sleep_ms $delay
    case $fault in
      kill-controller) controller_stop chaos KILL; sleep_ms $((RANDOM % 2000)); ctl_up ;;
      restart-apiserver) bash "$E2E_DIR/cluster.sh" restart-apiserver 2>/dev/null ;;
      compact) kubectl -n $ns create configmap "bump-$i" --from-literal=x=1 >/dev/null; bash "$E2E_DIR/cluster.sh" compact 2>/dev/null ;;
      webhook-down)
        webhook_stop
        if patch_par $name 4; then why="an edit was admitted while the webhook was down"; fi
        webhook_start; want=4
        wait_for 20 patch_par $name 4 ;;
      rest-timeout) sim_fault $name '{"rest_timeout": 6}'; sleep 3; sim_fault $name '{"rest_timeout": 0}' ;;
      rest-500) sim_fault $name '{"rest_500": 6}' ;;
      crashloop)
        wait_for 30 bash -c "[ \"\$(kubectl -n $ns get flinkdep $name -o jsonpath='{.status.jobManagerDeploymentStatus}')\" = ERROR ]"
        sim_fault $name '{"crashloop": false}'; want=4; patch_par $name 4 ;;   # the user's fix
      lose-ha) sim_fault $name '{"lose_ha": true}'; [ "$mode" = last-state ] && phase=safe ;;
      concurrent-edits) patch_par $name 4 & e1=$!; patch_par $name 5 & e2=$!; wait $e1 $e2; want=$(kubectl -n $ns get flinkdep $name -o jsonpath='{.spec.job.parallelism}') ;;
    esac
    if [ -z "$why" ]; then
      if [ "$phase" = converged ]; then
        wait_for 120 check $name "$mode" converged || why=$(check $name "$mode" converged | head -3 | tr '\n' ';')
      else # lost HA under last-state: converging is not required, starting empty is forbidden
        sleep 10; why=$(check $name "$mode" converged | grep -E "empty|restored from|savepoint" | head -3 | tr '\n' ';')
      fi
    fi
  fi
  kubectl -n $ns delete flinkdep $name --wait=false >/dev/null 2>&1
  if [ -z "$why" ] && ! wait_for 60 check $name "$mode" gone; then why="delete: $(check $name "$mode" gone | head -3 | tr '\n' ';')"; fi
  if [ -n "$why" ]; then
    violations=$((violations + 1)); r="VIOLATION"
    kept=$(mktemp -d "/tmp/fo-chaos-violation-$SEED-$i-XXXXXX")
    cp -r "$FO_CLUSTER_DIR/logs" "$FLINKSIM_STATE" "$kept/" 2>/dev/null
    kubectl -n $ns get configmaps -o yaml > "$kept/configmaps.yaml" 2>&1
    log "trial $i: the record and the logs are kept in $kept"
  else r="ok"; fi
  results+=("$i $mode $fault ${delay}ms $r")
  log "trial $i: $mode, $fault at +${delay}ms: $r${why:+ - $why}"
done
log "seed $SEED: $TRIALS trials, $violations invariant violations"
[ "$violations" -eq 0 ]
