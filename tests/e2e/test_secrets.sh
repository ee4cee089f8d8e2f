#!/usr/bin/env bash
# Runs last: no token, private key or certificate material in anything the suite's webhooks,
# controllers and simulator logged, nor in any Event they wrote.
# Sourced by run.sh (check/ok/ko, the cluster, $ROOT, $BUILD).

# Events from a fresh lifecycle (the other tests' namespaces, and their Events, are gone by now).
ns=e2e-secrets
kubectl create namespace $ns >/dev/null
flinksim_start --checkpoint-interval 0 --start-delay 0.3
controller_start secrets --leader-elect=false --flink-url-template "http://127.0.0.1:$FLINKSIM_PORT/{namespace}/{name}"
sed -e '/^  namespace:/d' "$ROOT/examples/stateless.yaml" | kubectl -n $ns apply -f - >/dev/null
has_events() { [ -n "$(kubectl -n $ns get events -o name 2>/dev/null)" ]; }
wait_for 30 has_events
controller_stop secrets
flinksim_stop

secrets=$FO_CLUSTER_DIR/secret-needles
: > "$secrets"
cut -d, -f1 "$FO_CLUSTER_DIR/pki/tokens.csv" >> "$secrets"                 # every bearer token
for f in "$FO_CLUSTER_DIR"/webhook/*.key "$FO_CLUSTER_DIR"/pki/*.key; do    # key bodies, line by line
  [ -f "$f" ] && grep -v -- '-----' "$f" | awk 'length($0) >= 32' >> "$secrets"
done
logs=()
for f in "$FO_CLUSTER_DIR"/logs/*.log; do
  case $(basename "$f") in etcd.log|kube-apiserver.log|kube-controller-manager.log|audit.log) ;; *) logs+=("$f") ;; esac
done
n_lines=$(cat "${logs[@]}" | wc -l)
hits=$(grep -F -l -f "$secrets" "${logs[@]}" 2>/dev/null)
check "secrets: no token or key line in the ${#logs[@]} operator and simulator logs ($n_lines lines)" "" "$hits"
hits=$(grep -E -l 'BEGIN [A-Z ]*PRIVATE KEY|BEGIN CERTIFICATE|Bearer [A-Za-z0-9]' "${logs[@]}" 2>/dev/null)
check "secrets: no PEM block or Authorization header in those logs" "" "$hits"
events=$(kubectl get events -A -o json 2>/dev/null)
n_events=$(printf '%s' "$events" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
if [ "$n_events" -gt 0 ] && ! grep -F -q -f "$secrets" <<<"$events" && ! grep -E -q 'PRIVATE KEY|Bearer ' <<<"$events"; then
  ok "secrets: none in the $n_events Events"; else ko "secrets: none in the Events" "$n_events events"; fi
kubectl delete namespace $ns --wait=false >/dev/null 2>&1
