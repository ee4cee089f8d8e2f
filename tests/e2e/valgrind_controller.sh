#!/usr/bin/env bash
# The controller under valgrind through a short lifecycle of objects: no invalid accesses, no
# definite leaks, a clean exit on SIGTERM. Sourced by run.sh (scripts/test.sh valgrind).
ns=e2e-valgrind
kubectl create namespace $ns >/dev/null
FO_CONTROLLER_WRAPPER="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite" \
  controller_start vg --leader-elect=true --lease-duration 15 --renew-deadline 10 --retry-period 1
pid=$(cat "$FO_CLUSTER_DIR/pids/controller-vg")
for i in 1 2 3; do
  printf 'apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: vg-%s, namespace: %s}\nspec: {flinkVersion: v1_20, job: {parallelism: %s, upgradeMode: stateless}}\n' "$i" "$ns" "$i" | kubectl apply -f - >/dev/null
done
observed() { [ "$(kubectl -n $ns get flinkdep vg-3 -o jsonpath='{.status.observedGeneration}')" = 1 ]; }
if wait_for 60 observed; then ok "valgrind: the controller reconciles"; else ko "valgrind: the controller reconciles" "$(tail -5 "$FO_CLUSTER_DIR/logs/controller-vg.log")"; fi
fin=$(kubectl -n $ns get flinkdep vg-1 -o jsonpath='{.metadata.finalizers}')
check "valgrind: the finalizer is added" '["flinkdeployments.flink.apache.org/finalizer"]' "$fin"
kubectl -n $ns delete flinkdep vg-1 --wait=false >/dev/null
gone() { ! kubectl -n $ns get flinkdep vg-1 >/dev/null 2>&1; }
if wait_for 60 gone; then ok "valgrind: the finalizer is removed on delete"; else ko "valgrind: the finalizer is removed on delete"; fi
kill -TERM "$pid"
wait "$pid"; rc=$?
rm -f "$FO_CLUSTER_DIR/pids/controller-vg"
summary=$(grep -E "ERROR SUMMARY|definitely lost" "$FO_CLUSTER_DIR/logs/controller-vg.log" | tail -2)
if [ "$rc" = 0 ]; then ok "valgrind: clean (exit 0)"; else ko "valgrind: clean (exit $rc)" "$summary"$'\n'"$(grep -A12 'Invalid\|definitely lost in' "$FO_CLUSTER_DIR/logs/controller-vg.log" | head -40)"; fi
kubectl delete namespace $ns --wait=false >/dev/null 2>&1
