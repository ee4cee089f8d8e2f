#!/usr/bin/env bash
# Installs every build and test dependency on Debian bookworm (run as root, or with sudo).
# Usage: scripts/install-deps.sh [--e2e] [--node]
#   --e2e   also the packages the local control plane needs (etcd, Go to build kube-apiserver).
#   --node  also the real node's (containerd, runc, the CNI plugins, iptables, dnsmasq, debootstrap
#           for the images, Java to build the Flink image's test job); implies --e2e. Installing them starts nothing.
set -euo pipefail
e2e=; node=
for a in "$@"; do
  case $a in
    --e2e) e2e=1 ;;
    --node) e2e=1; node=1 ;;
    *) echo "usage: $0 [--e2e] [--node]" >&2; exit 2 ;;
  esac
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

pkgs=(
  build-essential cmake pkg-config clang clang-tidy clang-format cppcheck libclang-rt-dev
  libmicrohttpd-dev libcurl4-openssl-dev libssl-dev libjson-c-dev libyaml-dev
  libcmocka-dev
  libgnutls28-dev
  valgrind curl ca-certificates python3 openssl unzip
)
if [ -n "$e2e" ]; then
  pkgs+=(etcd-server golang-go rsync jq make dpkg-dev nghttp2-client nginx-light python3-yaml)
fi
if [ -n "$node" ]; then
  pkgs+=(containerd runc containernetworking-plugins iptables conntrack dnsmasq-base debootstrap util-linux iproute2
    openjdk-17-jdk-headless)
fi

if ! command -v npm >/dev/null 2>&1 && [ -n "$e2e" ]; then pkgs+=(npm); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
# the benchmark starts its own nginx; the package's service is not wanted
if printf '%s\n' "${missing[@]}" | grep -q '^nginx'; then
  $SUDO service nginx stop >/dev/null 2>&1 || $SUDO pkill -x nginx || true
fi
