# The operator image: built from the Dockerfile's instructions (its runtime packages, programs,
# USER and ENTRYPOINT), Debian bookworm, imported into the node under the name the chart's
# default image resolves to.
# Sourced by run.sh (check/ok/ko, the node, $ROOT, $IMAGE_TAR).

eval "$(python3 "$ROOT/scripts/image/dockerfile.py" "$ROOT/Dockerfile")"
cfg_name=$(tar -xOf "$IMAGE_TAR" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["Config"])')
img_cfg=$(tar -xOf "$IMAGE_TAR" "$cfg_name")
field() { python3 -c "import json,sys; c=json.loads(sys.argv[1])['config']; print(json.dumps(c.get('$1')) if not isinstance(c.get('$1'), str) else c['$1'])" "$img_cfg"; }
check "image: USER is the Dockerfile's ($FO_USER)" "$FO_USER" "$(field User)"
check "image: ENTRYPOINT is the Dockerfile's" "$FO_ENTRYPOINT" "$(field Entrypoint)"

chart_image=$(helm template fo "$ROOT/charts/flink-operator" --show-only templates/controller-deployment.yaml | awk '$1 == "image:" {print $2}')
check "image: the chart's default image" "flink-operator:0.1.0" "$chart_image"
imported=$(node_exec ctr -n k8s.io images ls -q 2>/dev/null | grep -x "docker.io/library/$chart_image")
check "image: imported into the node as the normalised name the default resolves to" "docker.io/library/$chart_image" "$imported"

# what is inside, seen from a pod of the image
ns=node-image
kubectl create namespace $ns >/dev/null
kubectl -n $ns run probe --image "$chart_image" --restart Never --command -- sleep 3600 >/dev/null
kubectl -n $ns wait --for condition=Ready pod/probe --timeout 60s >/dev/null 2>&1
check "image: Debian bookworm" "bookworm" "$(kubectl -n $ns exec probe -- sh -c '. /etc/os-release; echo $VERSION_CODENAME' 2>&1)"
missing=""
for p in $FO_PROGRAMS; do kubectl -n $ns exec probe -- test -x "$p" || missing+=" $p"; done
check "image: the programs the Dockerfile copies ($FO_PROGRAMS)" "" "$missing"
missing=""
for p in $FO_PACKAGES; do kubectl -n $ns exec probe -- dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=" $p"; done
check "image: the runtime packages the Dockerfile installs" "" "$missing"
unresolved=$(kubectl -n $ns exec probe -- sh -c 'for p in '"$FO_PROGRAMS"'; do ldd $p; done' 2>&1 | grep 'not found')
check "image: every library the programs need is in the image" "" "$unresolved"
check "image: the programs run (flink-certs --help)" "0" "$(kubectl -n $ns exec probe -- /usr/bin/flink-certs --help >/dev/null 2>&1; echo $?)"
kubectl delete namespace $ns --wait=false >/dev/null 2>&1
