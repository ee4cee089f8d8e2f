# helm upgrade to a new image tag rolls the webhook and controller pods while clients keep
# sending admissions: `kubectl apply --dry-run=server` in a loop (as a user would) and a stream of
# dry-run creates from several connections. Every one must be admitted (the PodDisruptionBudget,
# readiness, the webhook's shutdown delay and its closing of connections once stopping).
# Sourced by run.sh (check/ok/ko, the node, $ROOT; release flink-operator installed).

manifest=$FO_NODE_DIR/upgrade-fd.yaml
sed -e '/^  namespace:/d' -e 's/name: stateless-example/name: upgrade-probe/' "$ROOT/examples/stateless.yaml" > "$manifest"
kubectl -n $OPNS create --dry-run=client -o json -f "$manifest" > "$manifest.json" 2>/dev/null
stop=$FO_NODE_DIR/upgrade-stop
rm -f "$stop"
kubectl_loop() {
  local n=0 f=0 first=""
  while [ ! -e "$stop" ]; do
    if ! out=$(kubectl -n $OPNS apply --dry-run=server -f "$manifest" 2>&1); then f=$((f + 1)); [ -n "$first" ] || first=$out; fi
    n=$((n + 1))
  done
  echo "$n $f $first"
}
kubectl_loop > "$FO_NODE_DIR/upgrade-kubectl.txt" &
loop_pid=$!
$PY "$NODE_TESTS/admission_load.py" "$SERVER_URL" "$FO_NODE_DIR/pki/ca.crt" "$FO_NODE_DIR/pki/admin.token" $OPNS \
  "$manifest.json" 4 600 "$stop" > "$FO_NODE_DIR/upgrade-load.json" &
load_pid=$!
sleep 2   # both clients running before the rollout starts
old_pods=$(kubectl -n $OPNS get pods -l app.kubernetes.io/component=webhook -o name | sort | tr '\n' ' ')
t=$(now_ms)
out=$(helm upgrade $REL "$CHART" -n $OPNS --reuse-values --set image.tag=0.1.0-next --wait --timeout 180s 2>&1)
rc=$?
HELM_UPGRADE_S=$(secs $(( $(now_ms) - t )))
sleep 2   # and a little after it
touch "$stop"
wait $loop_pid $load_pid
read -r K_N K_F K_FIRST < "$FO_NODE_DIR/upgrade-kubectl.txt"
if [ $rc -eq 0 ]; then ok "upgrade: helm upgrade to image tag 0.1.0-next rolled out in ${HELM_UPGRADE_S} s"; else ko "upgrade: helm upgrade to a new tag" "$out"; fi
images=$(kubectl -n $OPNS get deploy -l app.kubernetes.io/instance=$REL -o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image}{"\n"}{end}' | sort -u)
check "upgrade: both Deployments run the new tag" "flink-operator:0.1.0-next" "$images"
new_pods=$(kubectl -n $OPNS get pods -l app.kubernetes.io/component=webhook -o name | sort | tr '\n' ' ')
if [ "$old_pods" != "$new_pods" ]; then ok "upgrade: the webhook pods were replaced"; else ko "upgrade: the webhook pods were replaced" "$old_pods"; fi
UPGRADE_KUBECTL="$K_N applies, $K_F failed"
if [ "${K_N:-0}" -gt 10 ] && [ "$K_F" = 0 ]; then ok "upgrade: kubectl apply --dry-run=server in a loop during the rollout: $UPGRADE_KUBECTL"
else ko "upgrade: kubectl apply --dry-run=server during the rollout: $UPGRADE_KUBECTL" "$K_FIRST"; fi
UPGRADE_LOAD=$($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%d admissions from 4 connections, %d failed" % (d["sent"], d["failed"]))' "$FO_NODE_DIR/upgrade-load.json")
if $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["sent"] > 100 and d["failed"] == 0 else 1)' "$FO_NODE_DIR/upgrade-load.json"; then
  ok "upgrade: dry-run creates during the rollout: $UPGRADE_LOAD"
else ko "upgrade: dry-run creates during the rollout: $UPGRADE_LOAD" "$(cat "$FO_NODE_DIR/upgrade-load.json")"; fi
