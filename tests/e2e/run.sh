#!/usr/bin/env bash
# End-to-end tests: a local control plane (kube-apiserver 1.20.2 + etcd), the webhook registered
# with it, the real kubectl. Everything started here is stopped on exit, even after a failure.
# usage: tests/e2e/run.sh [TEST...]   (default: every tests/e2e/test_*.sh)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
export FO_CLUSTER_DIR=${FO_CLUSTER_DIR:-$(mktemp -d /tmp/fo-e2e-XXXXXX)}
source "$ROOT/tests/e2e/lib.sh"
trap '[ -n "${FO_KEEP_CLUSTER:-}" ] || cluster_down' EXIT
trap 'exit 130' INT TERM

passed=0; failed=0
ok() { passed=$((passed + 1)); printf '  ok   %s\n' "$1"; }
ko() { failed=$((failed + 1)); printf '  FAIL %s\n' "$1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/         /' | head -20; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else ko "$1" "want: $2"$'\n'"got:  $3"; fi; }

[ -x "$BUILD/webhook/flink-webhook" ] && [ -x "$BUILD/controller/flink-controller" ] || { echo "build first (scripts/test.sh build)" >&2; exit 1; }
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=("$E2E_DIR"/test_*.sh)
for t in "${tests[@]}"; do # a name alone is one of ours; a test that is not there fails the run
  case "$t" in */*) ;; *) [ -f "$t" ] || t="$E2E_DIR/$t" ;; esac
  [ -f "$t" ] || { echo "no such test: $t" >&2; exit 1; }
done
t0=$(date +%s)
cluster_up
webhook_start
webhook_register
for t in "${tests[@]}"; do
  case "$t" in */*) ;; *) [ -f "$t" ] || t="$E2E_DIR/$t" ;; esac
  e2e_log "$(basename "$t")"
  source "$t"
done
echo "e2e: $passed passed, $failed failed ($(( $(date +%s) - t0 ))s)"
[ "$failed" -eq 0 ]
