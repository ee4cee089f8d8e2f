#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for a bounded time on a seed
# corpus made from the repository's test data. A crash fails the run and leaves its input in
# build-fuzz/crashes/. usage: tests/fuzz/run.sh [SECONDS_PER_TARGET]
set -euo pipefail
secs=${1:-30}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/build-fuzz
CC=clang cmake -S "$root" -B "$out" -DFO_FUZZ=ON -DFO_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
make -C "$out" -j"$(nproc)" --no-print-directory $(cd "$root/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//') >/dev/null
mkdir -p "$out/crashes"
for t in "$root"/tests/fuzz/fuzz_*.c; do
  name=$(basename "$t" .c)
  corpus=$out/corpus/$name
  mkdir -p "$corpus"
  case $name in
    fuzz_yaml) cp "$root"/examples/*.yaml "$root"/tests/cases/validation/*.yaml "$root"/tests/dryrun/*.yaml "$corpus/" ;;
    fuzz_json) find "$root/tests" -name '*.json' -exec cp {} "$corpus/" \; ; printf '{"apiVersion":"flink.apache.org/v1beta1","kind":"FlinkDeployment","metadata":{"name":"a"},"spec":{"flinkVersion":"v1_20","job":{"parallelism":1}},"status":{"jobStatus":{"state":"RUNNING"}}}' > "$corpus/seed.json" ;;
    fuzz_admission) find "$root/tests" -path '*admission*' -name '*.json' -exec cp {} "$corpus/" \; 2>/dev/null || true
      printf '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1","operation":"CREATE","object":{"apiVersion":"flink.apache.org/v1beta1","kind":"FlinkDeployment","metadata":{"name":"a"},"spec":{"flinkVersion":"v1_20","job":{"parallelism":1}}}}}' > "$corpus/seed.json" ;;
    fuzz_flinkrest) # a status byte (0 = HTTP 200) and an answer of each kind the client reads
      printf '\x00{"flink-version":"1.20.0","flink-revision":"abc"}' > "$corpus/config"
      printf '\x00{"jobs":[{"jid":"0123456789abcdef0123456789abcdef","name":"j","state":"RUNNING","start-time":1,"tasks":{"total":2,"running":2,"finished":0}}]}' > "$corpus/jobs"
      printf '\x00{"request-id":"0123456789abcdef0123456789abcdef"}' > "$corpus/trigger"
      printf '\x00{"status":{"id":"COMPLETED"},"operation":{"location":"file:/sp/savepoint-1"}}' > "$corpus/sp-done"
      printf '\x00{"status":{"id":"COMPLETED"},"operation":{"failure-cause":{"class":"java.lang.Exception","stack-trace":"x"}}}' > "$corpus/sp-failed"
      printf '\x00{"counts":{"completed":1},"latest":{"completed":{"id":1,"external_path":"file:/cp/chk-1","trigger_timestamp":1},"savepoint":null,"restored":null}}' > "$corpus/checkpoints"
      printf '\x00{"exceptionHistory":{"entries":[{"exceptionName":"E","stacktrace":"s","timestamp":1}]}}' > "$corpus/exceptions"
      printf '\x00[{"id":"numRestarts","value":"3"},{"id":"numberOfCompletedCheckpoints","value":"12"}]' > "$corpus/metrics"
      printf '\x00{"bc764cd8ddf7a0cff126f51c16239658":{"parallelism":{"lowerBound":1,"upperBound":2}}}' > "$corpus/requirements"
      printf '\x00{"status":{"id":"COMPLETED"},"operation":{"checkpointId":7}}' > "$corpus/cp-done"
      printf '\x00{"status":{"id":"COMPLETED"},"operation":{"failureCause":{"class":"java.lang.Exception","stack-trace":"x"}}}' > "$corpus/cp-failed"
      printf '\x00{"counts":{"completed":1},"latest":{"completed":null},"history":[{"id":2,"status":"IN_PROGRESS","trigger_timestamp":5}]}' > "$corpus/cp-pending"
      printf '\x00{"filename":"/tmp/flink-web-1/flink-web-upload/0f1e_job.jar","status":"success","jobid":"0123456789abcdef0123456789abcdef"}' > "$corpus/jar"
      printf '\x03{"errors":["Job could not be found."]}' > "$corpus/notfound" ;;
    fuzz_ingress) printf '{{name}}.example.com' > "$corpus/host"; printf 'https://{{NAMESPACE}}.example.com:8443/ui/{{name}}(/|$)(.*)?q#f' > "$corpus/full"
      printf 'http://u@[::1]:80/x' > "$corpus/ipv6"; printf 'example.com:port\0web' > "$corpus/port" ;;
    fuzz_cron) printf '0 0 * * * ?' > "$corpus/hourly"; printf '0 */15 9-17 ? * MON-FRI 2027' > "$corpus/full"
      printf '15/20 0 0 1,15 JAN,JUL ?' > "$corpus/lists" ;;
    fuzz_watch) printf '\x30{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"1"}}}\n{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"2"}}}\n' > "$corpus/seed" ;;
  esac
  echo "fuzz: $name for ${secs}s"
  "$out/tests/fuzz/$name" -max_total_time="$secs" -max_len=65536 -artifact_prefix="$out/crashes/$name-" \
    -print_final_stats=1 "$corpus" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb)|ERROR|SUMMARY" || true
  if ls "$out/crashes/$name-"* >/dev/null 2>&1; then echo "fuzz: $name found a crash" >&2; exit 1; fi
done
echo "fuzz: no crashes"
