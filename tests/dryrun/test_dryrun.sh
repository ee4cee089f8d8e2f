#!/usr/bin/env bash
# Black-box tests of `flink-webhook validate`: output lines and exit codes.
# usage: test_dryrun.sh FLINK_WEBHOOK_BINARY REPO_ROOT
set -u
bin=$1
root=$2
here=$root/tests/dryrun
ex=$root/examples
pass=0
fail=0

# expect NAME WANT_EXIT WANT_OUTPUT_FILE_CONTENT -- ARGS...
check() {
  local name=$1 want_rc=$2 want_out=$3
  shift 4
  local out rc
  out=$("$bin" validate "$@" 2>&1)
  rc=$?
  if [ "$rc" = "$want_rc" ] && [ "$out" = "$want_out" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    printf 'FAIL %s\n  want exit %s, output:\n%s\n  got exit %s, output:\n%s\n' "$name" "$want_rc" "$want_out" "$rc" "$out"
  fi
}

check "admitted example" 0 "flinkdeployment/stateless-example admitted" -- "$ex/stateless.yaml"

check "seed example as written is denied" 1 "flinkdeployment/basic-checkpoint-ha-example denied: Checkpoint directory[execution.checkpointing.dir] must be defined for last-state and savepoint upgrade modes
warning: Flink version v1_14 is deprecated; upgrade to v1_19 or later" -- "$ex/seed-last-state.yaml"

check "several files, one denied" 1 "flinkdeployment/stateless-example admitted
flinkdeployment/basic-checkpoint-ha-example admitted
warning: Flink version v1_14 is deprecated; upgrade to v1_19 or later
flinkdeployment/savepoint-nonce-example denied: Checkpoint directory[execution.checkpointing.dir] must be defined for last-state and savepoint upgrade modes
warning: Flink version v1_14 is deprecated; upgrade to v1_19 or later" -- "$ex/stateless.yaml" "$ex/seed-last-state-fixed.yaml" "$ex/seed-savepoint-nonce.yaml"

check "multi-document stream with another kind" 1 "ConfigMap/not-ours skipped (not a flink.apache.org FlinkDeployment, FlinkSessionJob or FlinkStateSnapshot)
flinkdeployment/good-one admitted
flinkdeployment/bad-one denied: Checkpoint directory[execution.checkpointing.dir] must be defined for last-state and savepoint upgrade modes; Job could not be upgraded with savepoint while config key[execution.checkpointing.savepoint-dir] is not set" -- "$here/mixed.yaml"

check "session jobs: http is not in the default allowlist" 1 "flinksessionjob/good-job admitted
flinksessionjob/metadata-job denied: jarURI scheme 'http' is not in the allowlist [https]. Configure 'kubernetes.operator.user.artifacts.allowed-schemes' to extend the allowlist." -- "$here/sessionjobs.yaml"

check "session jobs: with http allowed, the metadata address is still refused" 1 "flinksessionjob/good-job admitted
flinksessionjob/metadata-job denied: jarURI host '169.254.169.254' resolves to a restricted address" -- --config "$here/sessionjob-allow-http.yaml" "$here/sessionjobs.yaml"

check "UPDATE against --old keeps the stored status and applies upgrade rules" 1 \
  "flinkdeployment/stateless-example denied: Cannot switch from job to session cluster" -- --old "$here/old-deployed.yaml" "$here/to-session.yaml"

check "same file as CREATE is admitted" 0 "flinkdeployment/stateless-example admitted" -- "$here/to-session.yaml"

check "--config supplies HA and checkpoint dir" 0 "flinkdeployment/basic-checkpoint-ha-example admitted
warning: Flink version v1_14 is deprecated; upgrade to v1_19 or later" -- --config "$here/ha-defaults.yaml" "$ex/seed-last-state.yaml"

printf 'apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata:\n  name: x\nspec:\n  flinkVersion: [v1_20\n' > "${TMPDIR:-/tmp}/fo-broken.yaml"
check "YAML syntax error names file:line:column" 2 "${TMPDIR:-/tmp}/fo-broken.yaml:7:1: did not find expected ',' or ']' while parsing a flow sequence" -- "${TMPDIR:-/tmp}/fo-broken.yaml"

printf '{"apiVersion": "flink.apache.org/v1beta1",\n "kind": "FlinkDeployment",\n "kind": "x"}' > "${TMPDIR:-/tmp}/fo-dup.json"
check "JSON duplicate key names file:line:column" 2 "${TMPDIR:-/tmp}/fo-dup.json:3:2: duplicate key \"kind\"" -- "${TMPDIR:-/tmp}/fo-dup.json"

check "missing file" 2 "/nonexistent/x.yaml: cannot read: No such file or directory" -- /nonexistent/x.yaml

out=$(printf '{"apiVersion":"flink.apache.org/v1beta1","kind":"FlinkDeployment","metadata":{"name":"from-stdin"},"spec":{"flinkVersion":"v1_20","jobManager":{"resource":{"memory":"1g"}},"taskManager":{"resource":{"memory":"1g"}},"job":{"parallelism":1}}}' | "$bin" validate -)
if [ "$out" = "flinkdeployment/from-stdin admitted" ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL stdin: $out"; fi

json=$("$bin" validate --output json "$here/mixed.yaml")
rc=$?
if [ $rc = 1 ] && python3 -c '
import json,sys
r=json.loads(sys.argv[1])
assert [x["result"] for x in r]==["skipped","admitted","denied"], r
assert r[2]["errors"][1]=={"field":"spec.flinkConfiguration","message":"Job could not be upgraded with savepoint while config key[execution.checkpointing.savepoint-dir] is not set"}, r[2]
assert r[1]["operation"]=="CREATE" and r[1]["warnings"]==[]
' "$json"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL json output: rc=$rc $json"; fi

check "bad --output" 2 "flink-webhook validate: --output must be text or json" -- --output xml "$ex/stateless.yaml"

rm -f "${TMPDIR:-/tmp}/fo-broken.yaml" "${TMPDIR:-/tmp}/fo-dup.json"
echo "dry-run CLI: $pass passed, $fail failed"
[ "$fail" = 0 ]
