#!/usr/bin/env bash
# The Helm chart with the real helm against the local control plane: lint and render checks;
# install, upgrade and uninstall of release fo-e2e; its webhook (run here, with the chart's own
# flags and ServiceAccount, since the local control plane runs no pods) in self-managed
# certificate mode: Secret created, caBundle written, kept across helm upgrade, renewed before
# expiry (serving pair and CA) while kubectl apply keeps working, replicas agreeing on one Secret.
# Sourced by run.sh (check/ok/ko, the cluster, $ROOT, $BUILD).

chart=$ROOT/charts/flink-operator
rel=fo-e2e
cns=fo-e2e
secret=$rel-flink-operator-webhook-certs
whcfg=$rel-flink-operator
py=/usr/bin/python3   # Debian's python3 with python3-yaml

# ---- lint and render ----
out=$(helm lint --strict "$chart" 2>&1)
if [ $? -eq 0 ]; then ok "chart: helm lint --strict"; else ko "chart: helm lint --strict" "$out"; fi
while IFS= read -r line; do
  case $line in
    ok\ *) ok "chart: ${line#ok }" ;;
    FAIL\ *) ko "chart: ${line#FAIL }" ;;
    *) ko "chart: render check output" "$line" ;;
  esac
done < <($py "$ROOT/tests/chart/check_chart.py" "$(command -v helm)" "$chart" 2>&1)

# ---- install ----
chport=$(free_port)
# --force-conflicts: the local control plane applied the CRD with kubectl already
out=$(helm install $rel "$chart" --namespace $cns --create-namespace --force-conflicts --set webhook.url="https://127.0.0.1:$chport" \
  --set 'certificates.selfManaged.extraNames={127.0.0.1}' 2>&1)
if [ $? -eq 0 ]; then ok "chart: helm install"; else ko "chart: helm install" "$out"; fi
helm get manifest $rel -n $cns > "$FO_CLUSTER_DIR/fo-e2e-manifest.yaml"
n_objs=$(grep -c '^kind:' "$FO_CLUSTER_DIR/fo-e2e-manifest.yaml")
out=$(kubectl get -f "$FO_CLUSTER_DIR/fo-e2e-manifest.yaml" -o name 2>&1)
if [ $? -eq 0 ] && [ "$(wc -l <<<"$out")" = "$n_objs" ] && [ "$n_objs" -ge 15 ]; then ok "chart: all $n_objs objects of the release exist"; else ko "chart: all objects of the release exist" "$out"; fi

# The webhook with the chart's flags (only the listen addresses and the configuration path are
# local) and the chart's ServiceAccount identity.
mapfile -t chart_args < <($py - "$FO_CLUSTER_DIR/fo-e2e-manifest.yaml" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-webhook"):
        c = d["spec"]["template"]["spec"]["containers"][0]
        for a in c["args"]:
            # local addresses; no endpoints to wait out when this process stops
            if not a.startswith(("--listen=", "--metrics-listen=", "--config=", "--shutdown-delay=")):
                print(a)
PY
)
confmap=$FO_CLUSTER_DIR/fo-e2e-flink-conf.yaml
kubectl -n $cns get configmap $rel-flink-operator-config -o jsonpath='{.data.flink-conf\.yaml}' > "$confmap"
chwh_start() { # name port [extra flags...]
  local name=$1 port=$2; shift 2
  "$BUILD/webhook/flink-webhook" "${chart_args[@]}" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$((port + 1))" \
    --config "$confmap" --kubeconfig "$FO_CLUSTER_DIR/fo-e2e-webhook.kubeconfig" "$@" \
    >> "$FO_CLUSTER_DIR/logs/webhook-$name.log" 2>&1 &
  echo $! > "$FO_CLUSTER_DIR/pids/webhook-$name"
  wait_for 30 bash -c "curl -s http://127.0.0.1:$((port + 1))/readyz | grep -q ready"
}
chwh_stop() { local f=$FO_CLUSTER_DIR/pids/webhook-$1; [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; wait_for 10 bash -c "! kill -0 $(cat "$f") 2>/dev/null"; rm -f "$f"; }
secret_ca() { kubectl -n $cns get secret $secret -o jsonpath='{.data.ca\.crt}' 2>/dev/null; }
bundle_of() { kubectl get "$1" $whcfg -o jsonpath='{.webhooks[0].clientConfig.caBundle}' 2>/dev/null; }
bundles_match() { local ca; ca=$(secret_ca); [ -n "$ca" ] && [ "$(bundle_of validatingwebhookconfiguration)" = "$ca" ] && [ "$(bundle_of mutatingwebhookconfiguration)" = "$ca" ]; }
served_fp() { openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null; }
secret_fp() { kubectl -n $cns get secret $secret -o jsonpath='{.data.tls\.crt}' | base64 -d | openssl x509 -noout -fingerprint -sha256; }
served_count() { curl -s "http://127.0.0.1:$((chport + 1))/metrics" | awk '/^flink_webhook_requests_total/{s+=$2} END{print s+0}'; }

if chwh_start a $chport; then ok "chart webhook: ready in self-managed mode with the chart's flags and ServiceAccount"; else ko "chart webhook: ready" "$(tail -5 "$FO_CLUSTER_DIR/logs/webhook-a.log")"; fi
if wait_for 10 bundles_match; then ok "chart webhook: created the Secret and wrote its CA into both webhook configurations"; else ko "chart webhook: caBundle written" "$(tail -5 "$FO_CLUSTER_DIR/logs/webhook-a.log")"; fi
check "chart webhook: serves the Secret's certificate" "$(secret_fp)" "$(served_fp $chport)"
n0=$(served_count)
out=$(sed -e '/^  namespace:/d' "$E2E_DIR/invalid/last-state-no-ha.yaml" | kubectl -n $cns apply -f - 2>&1)
if [ $? -ne 0 ] && grep -q "denied the request" <<<"$out"; then ok "chart webhook: an invalid FlinkDeployment is rejected"; else ko "chart webhook: an invalid FlinkDeployment is rejected" "$out"; fi
out=$(sed -e '/^  namespace:/d' "$ROOT/examples/stateless.yaml" | kubectl -n $cns apply --dry-run=server -f - 2>&1)
if [ $? -eq 0 ]; then ok "chart webhook: a valid FlinkDeployment is admitted"; else ko "chart webhook: a valid FlinkDeployment is admitted" "$out"; fi
n1=$(served_count)
if [ "$n1" -ge $((n0 + 4)) ]; then ok "chart webhook: the API server called it (validate and mutate, twice)"; else ko "chart webhook: the API server called it" "$n0 -> $n1"; fi

# ---- helm upgrade keeps the caBundle it never set ----
ca_before=$(bundle_of validatingwebhookconfiguration); mca_before=$(bundle_of mutatingwebhookconfiguration)
chwh_stop a   # nobody could write the bundle back during the upgrade
out=$(helm upgrade $rel "$chart" --namespace $cns --reuse-values --set webhook.timeoutSeconds=12 2>&1)
if [ $? -eq 0 ]; then ok "chart: helm upgrade"; else ko "chart: helm upgrade" "$out"; fi
check "chart: helm upgrade changed the configurations" "12 12" \
  "$(kubectl get validatingwebhookconfiguration $whcfg -o jsonpath='{.webhooks[0].timeoutSeconds}') $(kubectl get mutatingwebhookconfiguration $whcfg -o jsonpath='{.webhooks[0].timeoutSeconds}')"
if [ -n "$ca_before" ] && [ "$(bundle_of validatingwebhookconfiguration)" = "$ca_before" ] && [ "$(bundle_of mutatingwebhookconfiguration)" = "$mca_before" ]; then
  ok "chart: helm upgrade keeps both caBundles"; else ko "chart: helm upgrade keeps both caBundles" "$(bundle_of validatingwebhookconfiguration | head -c 60)"; fi

# ---- renewal: short-lived certificates and CA, kubectl apply throughout ----
# A fresh Secret with a 50 s CA and 20 s serving certificates renewed 10 s before expiry: within
# 40 s the serving pair is renewed several times and the CA once.
kubectl -n $cns delete secret $secret >/dev/null
: > "$FO_CLUSTER_DIR/logs/webhook-a.log"
if chwh_start a $chport --cert-validity 20 --cert-renew-before 10 --ca-validity 50 --cert-check-interval 1 && wait_for 10 bundles_match; then
  ok "chart webhook: restarted with short-lived certificates"; else ko "chart webhook: restarted with short-lived certificates" "$(tail -n 5 "$FO_CLUSTER_DIR/logs/webhook-a.log")"; fi
ca0=$(secret_ca)
applies=0; apply_fail=0; fails=""
end=$(( $(date +%s) + 40 ))
while [ "$(date +%s)" -lt "$end" ]; do
  out=$(sed -e '/^  namespace:/d' "$ROOT/examples/stateless.yaml" | kubectl -n $cns apply --dry-run=server -f - 2>&1) || { apply_fail=$((apply_fail + 1)); fails=$out; }
  applies=$((applies + 1))
  sleep 0.3
done
renewals=$(grep -c '"renewed the serving certificate"' "$FO_CLUSTER_DIR/logs/webhook-a.log")
ca_renewals=$(grep -c '"renewed the webhook CA and serving certificate"' "$FO_CLUSTER_DIR/logs/webhook-a.log")
if [ "$renewals" -ge 2 ] && [ "$ca_renewals" -ge 1 ]; then ok "chart webhook: renewed the serving pair ($renewals times) and the CA ($ca_renewals) before expiry"; else ko "chart webhook: renewals" "serving $renewals, CA $ca_renewals"; fi
check "chart webhook: every one of $applies applies during renewals succeeded" "0" "$apply_fail"
[ "$apply_fail" = 0 ] || printf '%s\n' "$fails" | head -3
follows() { bundles_match && [ "$(secret_ca)" != "$ca0" ]; }   # renewals go on: allow one round
if wait_for 5 follows; then ok "chart webhook: the caBundle follows the new CA"; else ko "chart webhook: the caBundle follows the new CA"; fi
n_ca=$(secret_ca | base64 -d | grep -c 'BEGIN CERTIFICATE')
check "chart webhook: the bundle keeps the previous CA while it is valid" "2" "$n_ca"
chwh_stop a

# ---- replicas agree on one Secret ----
kubectl -n $cns delete secret $secret >/dev/null
: > "$FO_CLUSTER_DIR/logs/webhook-a.log"
port_b=$(free_port)
chwh_start a $chport & starter=$!
chwh_start b "$port_b"; wait $starter
fa=$(served_fp $chport); fb=$(served_fp "$port_b"); fs=$(secret_fp)
if [ -n "$fa" ] && [ "$fa" = "$fb" ] && [ "$fa" = "$fs" ]; then ok "chart webhook: two replicas started together serve the one Secret's certificate"; else ko "chart webhook: two replicas agree" "a=$fa b=$fb secret=$fs"; fi
creates=$(cat "$FO_CLUSTER_DIR/logs/webhook-a.log" "$FO_CLUSTER_DIR/logs/webhook-b.log" | grep -c '"created the webhook CA and serving certificate"')
check "chart webhook: exactly one replica created the Secret" "1" "$creates"
chwh_stop a; chwh_stop b
if grep -E -q 'BEGIN (EC |RSA )?PRIVATE KEY|"token"' "$FO_CLUSTER_DIR/logs/webhook-a.log" "$FO_CLUSTER_DIR/logs/webhook-b.log"; then
  ko "chart webhook: no key material in its logs"; else ok "chart webhook: no key material in its logs"; fi

# ---- uninstall: everything goes but the CRD (and the Secret the chart does not own) ----
out=$(helm uninstall $rel --namespace $cns 2>&1)
if [ $? -eq 0 ]; then ok "chart: helm uninstall"; else ko "chart: helm uninstall" "$out"; fi
left=$(kubectl get -f "$FO_CLUSTER_DIR/fo-e2e-manifest.yaml" -o name 2>/dev/null)
check "chart: helm uninstall removed every object of the release" "" "$left"
if kubectl get crd flinkdeployments.flink.apache.org >/dev/null 2>&1; then ok "chart: the CRD stays after uninstall"; else ko "chart: the CRD stays after uninstall"; fi
kubectl delete namespace $cns --wait=false >/dev/null 2>&1
