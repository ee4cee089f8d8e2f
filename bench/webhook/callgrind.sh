#!/usr/bin/env bash
# The webhook's instructions per request, counted by valgrind --tool=callgrind on the running server
# (TLS, libmicrohttpd and judging; the kernel is not counted): deterministic for the same binary and
# bodies, whatever else the machine does, so two builds compare exactly. Each body: 20 warm-up
# requests, then N counted ones on one keep-alive connection.
# usage: bench/webhook/callgrind.sh [N]      (default 2000)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build}
n=${1:-2000}
for b in valgrind callgrind_control callgrind_annotate h2load python3 curl; do
  command -v $b >/dev/null || { echo "callgrind: $b missing (scripts/install-deps.sh --e2e)"; exit 1; }
done
[ -x "$build/webhook/flink-webhook" ] || { echo "callgrind: build first"; exit 1; }
tmp=$(mktemp -d /tmp/fo-callgrind-XXXXXX)
vpid=
cleanup() { [ -n "$vpid" ] && kill "$vpid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
python3 "$root/bench/webhook/make_bodies.py" "$root" "$tmp/bodies" >/dev/null
"$build/certs/flink-certs" generate --out-dir "$tmp/certs" --ip 127.0.0.1 >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$build/webhook/flink-webhook" serve \
  --listen "127.0.0.1:$port" --tls-cert "$tmp/certs/tls.crt" --tls-key "$tmp/certs/tls.key" --threads 1 \
  2> "$tmp/webhook.log" &
vpid=$!
for _ in $(seq 1 300); do
  curl -s --cacert "$tmp/certs/ca.crt" "https://127.0.0.1:$port/readyz" 2>/dev/null | grep -q ready && break
  sleep 0.1
done
printf '%-22s %s\n' body "instructions per request"
for b in create-admitted create-denied update; do
  load() { h2load --h1 -n "$1" -c 1 -t 1 -d "$tmp/bodies/$b.json" -H 'content-type: application/json' \
    "https://127.0.0.1:$port/validate" 2>&1 | grep -E '^requests:' ; }
  load 20 >/dev/null
  callgrind_control -z "$vpid" >/dev/null 2>&1
  done_line=$(load "$n")
  case $done_line in *" $n succeeded, 0 failed"*) ;; *) echo "callgrind: $b: $done_line"; exit 1 ;; esac
  rm -f "$tmp"/cg.out.*
  callgrind_control -d "$vpid" >/dev/null 2>&1
  dump=$(ls "$tmp"/cg.out.* | head -1)
  total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",", "", $1); print $1}')
  printf '%-22s %d\n' "$b" $((total / n))
done
