#!/usr/bin/env bash
# Webhook benchmark: our HTTPS webhook against nginx serving a static AdmissionReview response of
# the same size over TLS with the same certificate, the same client (h2load, HTTP/1.1 keep-alive)
# and the same settings, in the same run. Reports throughput as a ratio of nginx, p99 latency at a
# fixed 1,000 requests/s, resident memory over a long run, errors, and the in-process
# microbenchmark.
# usage: bench/webhook/run.sh [--smoke]     (--smoke: a few thousand requests, fails only on errors)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build}
smoke=0; [ "${1:-}" = "--smoke" ] && smoke=1
N=${FO_BENCH_REQUESTS:-200000}; LONG=${FO_BENCH_LONG:-1000000}; C=16; T=2
[ $smoke = 1 ] && N=3000 && LONG=6000
for b in h2load nginx python3; do command -v $b >/dev/null || { echo "bench: $b missing (scripts/install-deps.sh --e2e)"; exit 1; }; done
[ -x "$build/webhook/flink-webhook" ] && [ -x "$build/bench/webhook/bench_micro" ] || { echo "bench: build first"; exit 1; }
tmp=$(mktemp -d /tmp/fo-bench-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.2; rm -rf "$tmp"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

python3 "$root/bench/webhook/make_bodies.py" "$root" "$tmp/bodies" >/dev/null
"$build/certs/flink-certs" generate --out-dir "$tmp/certs" --ip 127.0.0.1 >/dev/null

wport=$(free_port)
"$build/webhook/flink-webhook" serve --listen "127.0.0.1:$wport" --tls-cert "$tmp/certs/tls.crt" --tls-key "$tmp/certs/tls.key" \
  --threads "$(nproc)" 2> "$tmp/webhook.log" &
wpid=$!; pids+=($wpid)

# nginx answers the same response our webhook gives for the UPDATE body (same size)
nport=$(free_port)
for _ in $(seq 1 50); do curl -s --cacert "$tmp/certs/ca.crt" "https://127.0.0.1:$wport/readyz" | grep -q ready && break; sleep 0.1; done
curl -s --cacert "$tmp/certs/ca.crt" -H 'Content-Type: application/json' --data-binary @"$tmp/bodies/update.json" \
  "https://127.0.0.1:$wport/validate" > "$tmp/response.json"
mkdir -p "$tmp/nginx"
resp=$(python3 -c 'import sys; print(open(sys.argv[1]).read().replace("\\\\","\\\\\\\\").replace("\x27","\\\\\x27"))' "$tmp/response.json")
cat > "$tmp/nginx/nginx.conf" <<CONF
worker_processes $(nproc);
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_buffer_size 64k;
  client_body_temp_path $tmp/nginx/body; proxy_temp_path $tmp/nginx/proxy; fastcgi_temp_path $tmp/nginx/fcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi; scgi_temp_path $tmp/nginx/scgi;
  server {
    listen 127.0.0.1:$nport ssl;
    ssl_certificate $tmp/certs/tls.crt;
    ssl_certificate_key $tmp/certs/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type application/json; return 200 '$resp'; }
  }
}
CONF
nginx -c "$tmp/nginx/nginx.conf" -g 'daemon off;' 2>"$tmp/nginx/stderr" &
npid=$!; pids+=($npid)
for _ in $(seq 1 50); do curl -s --cacert "$tmp/certs/ca.crt" -X POST -d @"$tmp/bodies/update.json" "https://127.0.0.1:$nport/validate" | grep -q '"uid"' && break; sleep 0.1; done

load() { # url body requests -> "req/s failed non2xx"
  h2load --h1 -n "$3" -c $C -t $T -d "$2" -H 'content-type: application/json' "$1" > "$tmp/h2load.out" 2>&1 || true
  python3 - "$tmp/h2load.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", t)
req = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", t)
codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", t)
if not rps or not req or not codes:
    print("0 1 1"); sys.exit()
failed = int(req.group(4)) + int(req.group(5)) + int(req.group(6)) + (int(req.group(1)) - int(req.group(2)))
print(rps.group(1), failed, int(codes.group(2)) + int(codes.group(3)) + int(codes.group(4)))
PY
}

# CPU time (ms) a server has used: the process, or nginx's master and its workers
cpu_ms() {
  local t=0 p
  for p in "$@" $(pgrep -P "$1" 2>/dev/null); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo $((t * 1000 / $(getconf CLK_TCK)))
}
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$wpid/status"; }
errors=0
ROUNDS=${FO_BENCH_ROUNDS:-3}; [ $smoke = 1 ] && ROUNDS=1
echo "== throughput ($N requests x $ROUNDS rounds each, webhook and nginx alternating; $C connections, HTTP/1.1 keep-alive over TLS, $(nproc) cores)"
printf '%-22s %12s %12s %8s %s\n' body "webhook r/s" "nginx r/s" ratio errors
for b in create-admitted create-denied update; do
  ours_all=(); theirs_all=(); ratios=(); errs_b=0; cpu_ours=0; cpu_theirs=0
  for _ in $(seq 1 "$ROUNDS"); do
    c0=$(cpu_ms "$wpid")
    read -r ours f1 n1 < <(load "https://127.0.0.1:$wport/validate" "$tmp/bodies/$b.json" "$N")
    c1=$(cpu_ms "$wpid"); c2=$(cpu_ms "$npid")
    read -r theirs f2 n2 < <(load "https://127.0.0.1:$nport/validate" "$tmp/bodies/$b.json" "$N")
    c3=$(cpu_ms "$npid")
    cpu_ours=$((cpu_ours + c1 - c0)); cpu_theirs=$((cpu_theirs + c3 - c2))
    ours_all+=("$ours"); theirs_all+=("$theirs")
    ratios+=("$(python3 -c "print($ours/$theirs if $theirs > 0 else 0)")")
    errs_b=$((errs_b + f1 + n1)); errors=$((errors + f1 + n1 + f2 + n2))
  done
  # the median of each, and the median of the per-round ratios (each round's pair ran back to back)
  read -r m_ours m_theirs m_ratio r_lo r_hi < <(python3 -c "
import statistics as s, sys
a, b, r = [list(map(float, x.split())) for x in sys.argv[1:4]]
print(f'{s.median(a):.0f} {s.median(b):.0f} {s.median(r):.2f} {min(r):.2f} {max(r):.2f}')" "${ours_all[*]}" "${theirs_all[*]}" "${ratios[*]}")
  printf '%-22s %12s %12s %8s %s   (round ratios %s-%s; server CPU per request: webhook %s us, nginx %s us)\n' \
    "$b ($(stat -c %s "$tmp/bodies/$b.json") B)" "$m_ours" "$m_theirs" "$m_ratio" "$errs_b" "$r_lo" "$r_hi" \
    "$((cpu_ours * 1000 / (N * ROUNDS)))" "$((cpu_theirs * 1000 / (N * ROUNDS)))"
done

echo "== latency at 1,000 requests/s (10 connections x 100 r/s, UPDATE body)"
n_lat=$([ $smoke = 1 ] && echo 2000 || echo 20000)
h2load --h1 -n $n_lat -c 10 -t 2 --rps 100 -d "$tmp/bodies/update.json" -H 'content-type: application/json' \
  --log-file "$tmp/lat.log" "https://127.0.0.1:$wport/validate" > "$tmp/lat.out" 2>&1 || true
python3 - "$tmp/lat.log" <<'PY'
import sys
d = sorted(int(l.split()[2]) for l in open(sys.argv[1]) if l.strip())
if not d: print("no samples"); sys.exit(1)
p = lambda q: d[min(len(d) - 1, int(q * len(d)))] / 1000
print(f"samples {len(d)}: p50 {p(0.5):.3f} ms, p99 {p(0.99):.3f} ms, max {d[-1]/1000:.3f} ms")
PY

echo "== memory over $LONG requests (UPDATE body)"
rss0=$(rss_kb)
half=$((LONG / 2))
read -r r1 f1 n1 < <(load "https://127.0.0.1:$wport/validate" "$tmp/bodies/update.json" "$half")
rss_mid=$(rss_kb)
read -r r2 f2 n2 < <(load "https://127.0.0.1:$wport/validate" "$tmp/bodies/update.json" "$half")
rss_end=$(rss_kb)
errors=$((errors + f1 + n1 + f2 + n2))
echo "RSS: start ${rss0} kB, after $half requests ${rss_mid} kB, after $LONG requests ${rss_end} kB (growth in the second half: $((rss_end - rss_mid)) kB)"

echo "== in-process (one core)"
for b in create-admitted update; do "$build/bench/webhook/bench_micro" "$tmp/bodies/$b.json" "$([ $smoke = 1 ] && echo 0.5 || echo 3)"; done

echo "== errors: $errors"
[ "$errors" = 0 ]
