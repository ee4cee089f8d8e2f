# The node itself: Ready; one node per machine; pods from imported images, started by kubelet;
# kubectl logs and exec; cluster DNS; a Service reached from a pod through kube-proxy; the API
# server's Service; and the host's kernel settings and iptables untouched while it runs.
# Sourced by run.sh (check/ok/ko, the node, $ROOT).

ns=node-basics
kubectl create namespace $ns >/dev/null
check "node: fo-node is Ready" "True" "$(kubectl get node fo-node -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')"

out=$(bash "$NODE_SH" up 2>&1); rc=$?
if [ $rc -ne 0 ] && grep -q "already running" <<<"$out"; then ok "node: a second up refuses, saying a node is already running"
else ko "node: a second up refuses, saying a node is already running" "rc=$rc $out"; fi

# a server (the webhook binary in plain HTTP) behind a Service, and a client pod with a shell
kubectl -n $ns apply -f - >/dev/null <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
      - name: server
        image: flink-operator:0.1.0
        imagePullPolicy: Never
        command: ["/usr/bin/flink-webhook", "serve", "--insecure", "--listen", "0.0.0.0:8080"]
        readinessProbe: {httpGet: {path: /readyz, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: echo-headless}
spec:
  clusterIP: None
  selector: {app: echo}
  ports: [{port: 8080}]
YAML
t=$(now_ms)
kubectl -n $ns run client --image flink-operator:0.1.0 --image-pull-policy Never --restart Never --command -- sleep 3600 >/dev/null
if kubectl -n $ns wait --for condition=Ready pod/client --timeout 60s >/dev/null 2>&1; then
  POD_START_S=$(secs $(( $(now_ms) - t ))); ok "node: a pod is Running and Ready ${POD_START_S} s after kubectl run"
else ko "node: a pod is Running" "$(kubectl -n $ns describe pod client | tail -10)"; fi
if kubectl -n $ns rollout status deploy/echo --timeout 60s >/dev/null 2>&1; then ok "node: a 2-replica Deployment rolls out"; else ko "node: a 2-replica Deployment rolls out" "$(kubectl -n $ns get pods)"; fi

check "node: kubectl exec runs in the pod as the image's user" "65532" "$(kubectl -n $ns exec client -- id -u 2>&1)"
if kubectl -n $ns logs deploy/echo 2>/dev/null | grep -q '"msg":"serving"'; then ok "node: kubectl logs shows the container's output"; else ko "node: kubectl logs" "$(kubectl -n $ns logs deploy/echo 2>&1 | tail -3)"; fi

# cluster DNS: a Service's name, short and full, and a headless Service's endpoints
svc_ip=$(kubectl -n $ns get svc echo -o jsonpath='{.spec.clusterIP}')
check "dns: echo.$ns.svc.cluster.local is the Service's ClusterIP" "$svc_ip" "$(kubectl -n $ns exec client -- getent hosts echo.$ns.svc.cluster.local 2>&1 | awk '{print $1}')"
check "dns: the short name echo resolves through the pod's search path" "$svc_ip" "$(kubectl -n $ns exec client -- getent hosts echo 2>&1 | awk '{print $1}')"
pod_ips=$(kubectl -n $ns get pods -l app=echo -o jsonpath='{.items[*].status.podIP}' | tr ' ' '\n' | sort | tr '\n' ' ')
headless_ready() { [ "$(kubectl -n $ns exec client -- getent ahostsv4 echo-headless 2>/dev/null | awk '{print $1}' | sort -u | tr '\n' ' ')" = "$pod_ips" ]; }
if wait_for 10 headless_ready; then ok "dns: the headless Service resolves to both pods' IPs"; else ko "dns: headless Service" "want $pod_ips, got $(kubectl -n $ns exec client -- getent ahostsv4 echo-headless 2>&1 | awk '{print $1}' | sort -u | tr '\n' ' ')"; fi
nx=$(kubectl -n $ns exec client -- getent hosts no-such-service.$ns.svc.cluster.local 2>&1; echo "rc=$?")
check "dns: an unknown Service name does not resolve" "rc=2" "$(tail -1 <<<"$nx")"

# pod -> Service (kube-proxy) -> pod, by name; several times, so both endpoints answer
http_get() { # from the client pod: HTTP/1.0 GET on host:port path
  kubectl -n $ns exec client -- bash -c "exec 3<>/dev/tcp/$1/$2 && printf 'GET $3 HTTP/1.0\r\nHost: x\r\n\r\n' >&3 && timeout 5 cat <&3" 2>&1
}
good=0
for _ in 1 2 3 4 5 6; do http_get echo 80 /readyz | grep -q '^ready' && good=$((good + 1)); done
check "net: pod -> Service echo:80 -> pod answers (6 of 6)" "6" "$good"
hair=$(kubectl -n $ns get pods -l app=echo -o jsonpath='{.items[0].metadata.name}')
if kubectl -n $ns exec "$hair" -- bash -c "exec 3<>/dev/tcp/echo/80 && printf 'GET /readyz HTTP/1.0\r\n\r\n' >&3 && timeout 5 cat <&3" 2>&1 | grep -q '^ready'; then
  ok "net: a pod reaches its own Service (hairpin)"; else ko "net: a pod reaches its own Service (hairpin)"; fi
if kubectl -n $ns exec client -- bash -c 'timeout 5 bash -c "exec 3<>/dev/tcp/10.96.0.1/443"' >/dev/null 2>&1; then
  ok "net: a pod reaches the API server at 10.96.0.1:443 (kube-proxy)"; else ko "net: a pod reaches the API server at 10.96.0.1:443"; fi

# the host while the node runs: its kernel settings and iptables rules are its own
hostdiff=$(bash "$NODE_SH" check-host 2>&1)
bad=$(grep -E '^[<>] ((vm|kernel|net)/|[-:*]|COMMIT)' <<<"$hostdiff")
check "host: no kernel setting and no iptables rule of the host changed while the node runs" "" "$bad"
if grep -q 'fo-host0' <<<"$hostdiff"; then ok "host: the node's only link on the host is its veth (fo-host0)"; else ko "host: the node's link" "$hostdiff"; fi
other_links=$(grep -E '^> [^ /]+:$' <<<"$hostdiff" | grep -v '^> fo-host0' )   # link names end with ':'
check "host: no other link was added to the host" "" "$other_links"

kubectl delete namespace $ns --wait=false >/dev/null 2>&1
