# The chart installed for real: helm install of the chart as it is (default values but the
# namespace), its pods Running and Ready, the webhook called through its Service with the
# certificates its pods created, an invalid FlinkDeployment denied by it, and the pods' hardening
# enforced by kubelet and runc (checked from inside them).
# Sourced by run.sh (check/ok/ko, the node, $ROOT). Leaves release flink-operator installed for
# the tests after it.

REL=flink-operator OPNS=flink-operator
CHART=$ROOT/charts/flink-operator
t=$(now_ms)
out=$(helm install $REL "$CHART" --namespace $OPNS --create-namespace --wait --timeout 120s 2>&1)
if [ $? -eq 0 ]; then HELM_INSTALL_S=$(secs $(( $(now_ms) - t ))); ok "chart: helm install --wait on the node (${HELM_INSTALL_S} s)"
else ko "chart: helm install --wait on the node" "$out"$'\n'"$(kubectl -n $OPNS get pods 2>&1)"; fi

# pods Running and Ready, less those being deleted (a deleted pod stays Ready while it stops)
ready_count() { kubectl -n $OPNS get pods -l "app.kubernetes.io/component=$1" -o jsonpath='{range .items[*]}{.status.phase}/{.status.containerStatuses[0].ready}/{.metadata.deletionTimestamp}{"\n"}{end}' | grep -c '^Running/true/$'; }
check "chart: both webhook pods Running and Ready" "2" "$(ready_count webhook)"
check "chart: the controller pod Running and Ready" "1" "$(ready_count controller)"
check "chart: the pods run the chart's default image" "flink-operator:0.1.0" \
  "$(kubectl -n $OPNS get pods -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}' | sort -u)"

for kind in validating mutating; do
  cc=$(kubectl get ${kind}webhookconfiguration $REL -o jsonpath='{.webhooks[0].clientConfig.service.namespace}/{.webhooks[0].clientConfig.service.name}:{.webhooks[0].clientConfig.service.port} url={.webhooks[0].clientConfig.url}')
  check "chart: the $kind webhook is called through its Service, not a URL" "$OPNS/$REL-webhook:443 url=" "$cc"
done

# the certificates: made by the webhook pods themselves (the audit log says who wrote the Secret)
secret=$REL-webhook-certs
secret_ca=$(kubectl -n $OPNS get secret $secret -o jsonpath='{.data.ca\.crt}' 2>/dev/null)
if [ -n "$secret_ca" ]; then ok "chart: the certificate Secret exists"; else ko "chart: the certificate Secret exists"; fi
creator=$($PY - "$FO_NODE_DIR/logs/audit.log" "$OPNS" "$secret" <<'PY'
import json, sys
path, ns, name = sys.argv[1:]
for line in open(path):
    e = json.loads(line)
    r = e.get("objectRef", {})
    if e.get("stage") == "ResponseComplete" and e.get("verb") == "create" and r.get("resource") == "secrets" \
            and r.get("namespace") == ns and r.get("name") == name and e.get("responseStatus", {}).get("code") == 201:
        print(e["user"]["username"])
PY
)
check "chart: the Secret was created by the webhook's own ServiceAccount, from a pod" "system:serviceaccount:$OPNS:$REL-webhook" "$(sort -u <<<"$creator")"
for kind in validating mutating; do
  check "chart: the $kind caBundle is the Secret's CA (written by the pods)" "$secret_ca" "$(kubectl get ${kind}webhookconfiguration $REL -o jsonpath='{.webhooks[0].clientConfig.caBundle}')"
done

# admission through the in-cluster webhook
out=$(sed -e '/^  namespace:/d' "$ROOT/tests/e2e/invalid/last-state-no-ha.yaml" | kubectl -n $OPNS apply -f - 2>&1)
if [ $? -ne 0 ] && grep -q 'admission webhook "validationwebhook.flink.apache.org" denied the request: Job could not be upgraded with last-state while Kubernetes HA disabled' <<<"$out"; then
  ok "chart: kubectl apply of an invalid FlinkDeployment is denied by the in-cluster webhook with the rulebook's message"
else ko "chart: an invalid FlinkDeployment is denied by the in-cluster webhook" "$out"; fi
out=$(sed -e '/^  namespace:/d' "$ROOT/examples/stateless.yaml" | kubectl -n $OPNS apply --dry-run=server -o jsonpath='{.spec.job.state}/{.metadata.labels.app\.kubernetes\.io/managed-by}' -f - 2>&1)
check "chart: a valid FlinkDeployment is admitted, with the defaults /mutate fills" "running/flink-operator" "$out"
served=0
for p in $(kubectl -n $OPNS get pods -l app.kubernetes.io/component=webhook -o name); do
  n=$(kubectl -n $OPNS logs "$p" 2>/dev/null | grep -c '"verdict":"denied"')
  served=$((served + n))
done
if [ "$served" -ge 1 ]; then ok "chart: the denial was logged by a webhook pod"; else ko "chart: the denial was logged by a webhook pod"; fi

# hardening, from inside each pod: the user, the root filesystem, capabilities, privileges
for p in $(kubectl -n $OPNS get pods -o name); do
  name=${p#pod/}
  got=$(kubectl -n $OPNS exec "$name" -- sh -c '
    echo "uid=$(id -u) gid=$(id -g)"
    if touch /probe 2>/dev/null; then echo "rootfs=writable"; else echo "rootfs=read-only"; fi
    awk "/^Cap(Inh|Prm|Eff|Bnd|Amb):/ {print \$1 \$2}" /proc/self/status
    awk "/^(NoNewPrivs|Seccomp):/ {print \$1 \$2}" /proc/self/status' 2>&1 | tr '\n' ' ')
  check "hardening: $name runs as 65532, read-only root, no capabilities, no new privileges, seccomp" \
    "uid=65532 gid=65532 rootfs=read-only CapInh:0000000000000000 CapPrm:0000000000000000 CapEff:0000000000000000 CapBnd:0000000000000000 CapAmb:0000000000000000 NoNewPrivs:1 Seccomp:2 " "$got"
done
# and of the programs themselves (PID 1), not only of a shell started beside them
for p in $(kubectl -n $OPNS get pods -o name); do
  name=${p#pod/}
  got=$(kubectl -n $OPNS exec "$name" -- sh -c 'tr "\0" " " < /proc/1/cmdline | cut -d" " -f1; awk "/^(Uid|CapEff):/ {print \$1 \$2}" /proc/1/status' 2>&1 | tr '\n' ' ')
  case $name in *webhook*) prog=/usr/bin/flink-webhook ;; *) prog=/usr/bin/flink-controller ;; esac
  check "hardening: $name PID 1 is $prog as 65532 with no capabilities" "$prog Uid:65532 CapEff:0000000000000000 " "$got"
done
