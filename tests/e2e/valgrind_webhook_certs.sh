#!/usr/bin/env bash
# The webhook in self-managed certificate mode under valgrind: it creates the Secret, writes the
# caBundle, serves admission requests through the API server and renews its certificate and CA
# (20 s certificates, a 50 s CA) for 35 s; then SIGTERM. No invalid accesses, no definite leaks, a
# clean exit. Sourced by run.sh (scripts/test.sh valgrind).
chart=$ROOT/charts/flink-operator
rel=fo-e2e; cns=fo-e2e
vport=$(free_port); mport=$(free_port) # (two free ports: port+1 may be anyone's)
while [ "$mport" = "$vport" ]; do mport=$(free_port); done
helm install $rel "$chart" --namespace $cns --create-namespace --force-conflicts --set webhook.url="https://127.0.0.1:$vport" \
  --set 'certificates.selfManaged.extraNames={127.0.0.1}' >/dev/null
kubectl -n $cns get configmap $rel-flink-operator-config -o jsonpath='{.data.flink-conf\.yaml}' > "$FO_CLUSTER_DIR/vg-flink-conf.yaml"
valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
  "$BUILD/webhook/flink-webhook" serve --listen "127.0.0.1:$vport" --metrics-listen "127.0.0.1:$mport" \
  --config "$FO_CLUSTER_DIR/vg-flink-conf.yaml" --kubeconfig "$FO_CLUSTER_DIR/fo-e2e-webhook.kubeconfig" \
  --cert-mode self-managed --cert-secret $cns/$rel-flink-operator-webhook-certs --cert-names 127.0.0.1 \
  --webhook-configuration $rel-flink-operator --cert-validity 20 --cert-renew-before 10 --ca-validity 50 \
  --cert-check-interval 1 > "$FO_CLUSTER_DIR/logs/webhook-vg.log" 2>&1 &
vpid=$!
if wait_for 120 bash -c "curl -s http://127.0.0.1:$mport/readyz | grep -q ready"; then ok "valgrind webhook: ready"; else ko "valgrind webhook: ready" "$(grep -v '^==' "$FO_CLUSTER_DIR/logs/webhook-vg.log" | tail -n 5)"; fi
fails=0
end=$(( $(date +%s) + 35 ))
while [ "$(date +%s)" -lt "$end" ]; do
  sed -e '/^  namespace:/d' "$ROOT/examples/stateless.yaml" | kubectl -n $cns apply --dry-run=server -f - >/dev/null 2>&1 || fails=$((fails + 1))
  sleep 1
done
renewals=$(grep -c '"renewed the' "$FO_CLUSTER_DIR/logs/webhook-vg.log")
if [ "$renewals" -ge 2 ]; then ok "valgrind webhook: renewed $renewals times"; else ko "valgrind webhook: renewals" "$renewals"; fi
check "valgrind webhook: every apply admitted meanwhile" "0" "$fails"
kill -TERM $vpid; wait $vpid; rc=$?
if [ "$rc" = 0 ]; then ok "valgrind webhook: clean (exit 0)"; else ko "valgrind webhook: clean (exit $rc)" "$(grep -E -A12 'Invalid|definitely lost in|ERROR SUMMARY' "$FO_CLUSTER_DIR/logs/webhook-vg.log" | head -40)"; fi
helm uninstall $rel --namespace $cns >/dev/null 2>&1
kubectl delete namespace $cns --wait=false >/dev/null 2>&1
