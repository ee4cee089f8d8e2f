#!/usr/bin/env bash
# No user-controlled string reaches a shell or escapes its field: shell metacharacters (and a
# newline that tries to add a configuration key) through every spec field that ends up in the
# JobManager and TaskManager pods come out verbatim, as array elements of container args or as one
# YAML value of the Flink configuration. Sourced by run.sh.
ns=e2e-shell
kubectl create namespace $ns >/dev/null
flinksim_start --checkpoint-interval 0 --start-delay 0.3
controller_start shell --leader-elect=false --flink-url-template "http://127.0.0.1:$FLINKSIM_PORT/{namespace}/{name}"
cat > "$FO_CLUSTER_DIR/shell.json" <<'JSON'
{"apiVersion": "flink.apache.org/v1beta1", "kind": "FlinkDeployment",
 "metadata": {"name": "meta", "namespace": "e2e-shell"},
 "spec": {"image": "flink:1.20", "flinkVersion": "v1_20", "serviceAccount": "flink", "mode": "standalone",
  "flinkConfiguration": {"state.checkpoints.dir": "file:///cp/$(touch /tmp/pwned)", "state.savepoints.dir": "file:///sp;rm -rf /",
                         "pipeline.name": "a`id`b && echo \"x\" | sh #c\nhigh-availability.type: none", "env.java.opts.all": "-Dx='$HOME' ${IFS}"},
  "logConfiguration": {"log4j-console.properties": "rootLogger.level = INFO\n# $(reboot)"},
  "jobManager": {"resource": {"memory": "1g", "cpu": 0.5}}, "taskManager": {"resource": {"memory": "1g", "cpu": 0.5}},
  "job": {"jarURI": "local:///opt/flink/usrlib/$(id)`x`;|&.jar", "entryClass": "org.Main;$(id)",
          "args": ["--in", "$(touch /tmp/pwned)", "; rm -rf / #", "`reboot`", "a b\nc", "'\"", "|&><*?!~"],
          "parallelism": 1, "upgradeMode": "stateless"}}}
JSON
kubectl apply -f "$FO_CLUSTER_DIR/shell.json" >/dev/null 2>&1
# standalone mode: the JobManager and the TaskManager Deployments are both made by the operator
wait_for 30 kubectl -n $ns get deployment meta-taskmanager || ko "shell safety: the TaskManager Deployment was not created"
out=$(/usr/bin/python3 - "$FO_CLUSTER_DIR/shell.json" 2>&1 <<'PY'
import json, subprocess, sys, yaml
spec = json.load(open(sys.argv[1]))["spec"]
def get(kind, name):
    return json.loads(subprocess.check_output(["kubectl", "-n", "e2e-shell", "get", kind, name, "-o", "json"]))
problems = []
for dep in ("meta", "meta-taskmanager"):
    for c in get("deployment", dep)["spec"]["template"]["spec"]["containers"]:
        cmd = c.get("command") or []
        if any(x in ("sh", "/bin/sh", "bash", "/bin/bash", "-c") for x in cmd):
            problems.append("%s runs a shell: %r" % (dep, cmd))
        if c.get("image") != spec["image"]:
            problems.append("%s image %r" % (dep, c.get("image")))
        args = c.get("args") or []
        if dep == "meta":
            want = ["--job-classname", spec["job"]["entryClass"]] + spec["job"]["args"]
            if args[1:] != want:
                problems.append("jobmanager args %r != %r" % (args[1:], want))
        elif args != ["taskmanager"]:
            problems.append("taskmanager args %r" % args)
cm = get("configmap", "flink-config-meta")["data"]
conf = yaml.safe_load(cm.get("config.yaml") or cm["flink-conf.yaml"])
for k, v in spec["flinkConfiguration"].items():
    if conf.get(k) != v:
        problems.append("configuration %s = %r, want %r" % (k, conf.get(k), v))
if conf.get("high-availability.type") not in (None, spec["flinkConfiguration"].get("high-availability.type")):
    problems.append("a newline added a configuration key: high-availability.type = %r" % conf["high-availability.type"])
if cm.get("log4j-console.properties") != spec["logConfiguration"]["log4j-console.properties"]:
    problems.append("log configuration changed")
print("\n".join(problems))
PY
) || out="the check itself failed: $out"
check "shell safety: metacharacters in args, entryClass, jarURI, configuration and logging come out verbatim, no shell" "" "$out"
if [ ! -e /tmp/pwned ]; then ok "shell safety: nothing was executed"; else ko "shell safety: nothing was executed"; fi
kubectl -n $ns delete flinkdep meta --wait=false >/dev/null 2>&1
wait_for 30 bash -c "! kubectl -n $ns get flinkdep meta >/dev/null 2>&1"
controller_stop shell
flinksim_stop
kubectl delete namespace $ns --wait=false >/dev/null 2>&1
