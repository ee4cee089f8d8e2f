#!/usr/bin/env bash
# The controller under valgrind through a short lifecycle with the simulated Flink: deploy, a
# savepoint upgrade, a manual savepoint, delete. No invalid accesses, no definite leaks, a clean
# exit on SIGTERM. Sourced by run.sh (scripts/test.sh valgrind).
ns=e2e-valgrind
kubectl create namespace $ns >/dev/null
flinksim_start --checkpoint-interval 0.3 --start-delay 0.3 --savepoint-delay 0.3
FO_CONTROLLER_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite" \
  controller_start vg --leader-elect=true --lease-duration 15 --renew-deadline 10 --retry-period 1 \
  --flink-url-template "http://127.0.0.1:$FLINKSIM_PORT/{namespace}/{name}"
pid=$(cat "$FO_CLUSTER_DIR/pids/controller-vg")
rec() { python3 "$E2E_DIR/tools.py" sim-record "$FLINKSIM_STATE" "$ns/$1" "$2"; }
jpath() { kubectl -n $ns get flinkdep "$1" -o jsonpath="$2" 2>/dev/null; }
for i in 1 2; do
  sed -e "s/name: savepoint-example/name: vg-$i/" "$ROOT/examples/savepoint.yaml" | kubectl -n $ns apply -f - >/dev/null
done
stable() { [ "$(jpath "$1" '{.status.lifecycleState}')" = STABLE ]; }
if wait_for 90 stable vg-2; then ok "valgrind: deployed and running"; else ko "valgrind: deployed and running" "$(tail -5 "$FO_CLUSTER_DIR/logs/controller-vg.log")"; fi
fin=$(jpath vg-1 '{.metadata.finalizers}')
check "valgrind: the finalizer is added" '["flinkdeployments.flink.apache.org/finalizer"]' "$fin"
kubectl -n $ns patch flinkdep vg-2 --type merge -p '{"spec":{"job":{"parallelism":3,"savepointTriggerNonce":1}}}' >/dev/null
upgraded() { [ "$(rec vg-2 starts)" = 2 ] && stable vg-2; }
if wait_for 90 upgraded; then ok "valgrind: a savepoint upgrade"; else ko "valgrind: a savepoint upgrade" "$(jpath vg-2 '{.status}')"; fi
kubectl -n $ns delete flinkdep vg-1 --wait=false >/dev/null
gone() { ! kubectl -n $ns get flinkdep vg-1 >/dev/null 2>&1; }
if wait_for 90 gone; then ok "valgrind: delete cleans up and removes the finalizer"; else ko "valgrind: delete"; fi
kill -TERM "$pid"
wait "$pid"; rc=$?
rm -f "$FO_CLUSTER_DIR/pids/controller-vg"
summary=$(grep -E "ERROR SUMMARY|definitely lost" "$FO_CLUSTER_DIR/logs/controller-vg.log" | tail -2)
if [ "$rc" = 0 ]; then ok "valgrind: clean (exit 0)"; else ko "valgrind: clean (exit $rc)" "$summary"$'\n'"$(grep -A12 'Invalid\|definitely lost in' "$FO_CLUSTER_DIR/logs/controller-vg.log" | head -40)"; fi
flinksim_stop
kubectl delete namespace $ns --wait=false >/dev/null 2>&1
