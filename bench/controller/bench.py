#!/usr/bin/env python3
"""The controller benchmark's measurements (run.sh starts the control plane, the simulated Flink
and the controller, then this). Phases:
  create   N FlinkDeployments (one kubectl apply), until all report STABLE / RUNNING
  upgrade  one spec change to each (parallel PATCHes), until every job restarted and is RUNNING
  react    on an idle queue: PATCH savepointTriggerNonce, time until the first Flink REST call
  steady   nothing changes for STEADY seconds: API writes and requests
For each: wall time, API requests per object (controller's /metrics and the API server's audit
log), controller CPU seconds (/proc) and resident memory.
usage: bench.py CLUSTER_DIR CONTROLLER_PORT CONTROLLER_PID SIM_STATE N STEADY_SECONDS
Exit 1 on errors (timeouts, writes in steady state); never on timing."""
import concurrent.futures as cf
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "flinksim"))
import record  # noqa: E402

DIR, CPORT, CPID, SIM, N, STEADY = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
NS = "bench"
TIMEOUT = max(120, N * 1.0)
API = "https://127.0.0.1:" + open(os.path.join(DIR, "api-port")).read().strip()
TOKEN = open(os.path.join(DIR, "pki/tokens.csv")).readline().split(",")[0]
CTX = ssl.create_default_context(cafile=os.path.join(DIR, "pki/apiserver.crt"))
CTL_USER = "system:serviceaccount:flink-operator:flink-operator-controller"
errors = []


def api(method, path, body=None, ctype="application/merge-patch+json"):
    req = urllib.request.Request(API + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": "Bearer " + TOKEN, "Content-Type": ctype})
    with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
        return json.loads(r.read())


def metrics():
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % CPORT, timeout=10).read().decode()
    m = {"requests": 0.0, "writes": 0.0}
    for line in text.splitlines():
        if line.startswith("flink_operator_api_requests_total"):
            m["requests"] += float(line.split()[-1])
            verb = line.split('verb="', 1)[1].split('"', 1)[0] if 'verb="' in line else "?"
            m["verb " + verb] = m.get("verb " + verb, 0.0) + float(line.split()[-1])
        elif line.startswith("flink_operator_writes_total"):
            m["writes"] += float(line.split()[-1])
    return m


def cpu_s():
    f = open("/proc/%d/stat" % CPID).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb():
    for line in open("/proc/%d/status" % CPID):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0


def audit_count():
    """API requests by the controller's identity so far (the API server's view)."""
    n = 0
    with open(os.path.join(DIR, "logs/audit.log")) as f:
        for line in f:
            if CTL_USER in line and '"stage":"ResponseComplete"' in line:
                n += 1
    return n


def sim_events(kind):
    return record.events(SIM, event=kind)


def all_running():
    items = api("GET", "/apis/flink.apache.org/v1beta1/namespaces/%s/flinkdeployments" % NS)["items"]
    n = 0
    for o in items:
        st = o.get("status") or {}
        if st.get("lifecycleState") == "STABLE" and (st.get("jobStatus") or {}).get("state") == "RUNNING":
            n += 1
    return n


def manifest(i):
    return ("apiVersion: flink.apache.org/v1beta1\nkind: FlinkDeployment\nmetadata: {name: job-%d, namespace: %s}\n"
            "spec:\n  image: flink:1.20\n  flinkVersion: v1_20\n  serviceAccount: flink\n"
            "  flinkConfiguration: {state.checkpoints.dir: \"file:///cp\", state.savepoints.dir: \"file:///sp\"}\n"
            "  jobManager: {resource: {memory: 1g, cpu: 0.5}}\n  taskManager: {resource: {memory: 1g, cpu: 0.5}}\n"
            "  job: {jarURI: \"local:///opt/flink/examples/streaming/StateMachineExample.jar\", parallelism: 2, upgradeMode: stateless}\n---\n") % (i, NS)


class Phase:
    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.m0, self.c0, self.a0, self.t0 = metrics(), cpu_s(), audit_count(), time.time()
        return self

    def __exit__(self, *exc):
        self.wall = time.time() - self.t0
        m1, c1, a1 = metrics(), cpu_s(), audit_count()
        self.requests = m1["requests"] - self.m0["requests"]
        self.verbs = {k[5:]: m1[k] - self.m0.get(k, 0.0) for k in m1 if k.startswith("verb ") and m1[k] > self.m0.get(k, 0.0)}
        self.writes = m1["writes"] - self.m0["writes"]
        self.audit = a1 - self.a0
        self.cpu = c1 - self.c0
        return False


POLL = max(0.5, N / 250.0)  # listing N objects is itself load on the API server


def wait(what, cond):
    end = time.time() + TIMEOUT
    while time.time() < end:
        if cond():
            return True
        time.sleep(POLL)
    errors.append("timeout: " + what)
    return False


def main():
    subprocess.run(["kubectl", "create", "namespace", NS], check=True, capture_output=True)
    rss0 = rss_mb()
    report = {"N": N}

    with Phase("create") as p:
        subprocess.run(["kubectl", "apply", "-f", "-"], input="".join(manifest(i) for i in range(1, N + 1)).encode(),
                       check=True, capture_output=True)
        wait("all RUNNING after create", lambda: all_running() == N)
    report["create"] = p
    rss_after = rss_mb()

    starts0 = len(sim_events("job-started"))
    with Phase("upgrade") as p:
        with cf.ThreadPoolExecutor(16) as ex:
            list(ex.map(lambda i: api("PATCH", "/apis/flink.apache.org/v1beta1/namespaces/%s/flinkdeployments/job-%d" % (NS, i),
                                      {"spec": {"job": {"parallelism": 3}}}), range(1, N + 1)))
        wait("all upgraded", lambda: len(sim_events("job-started")) >= starts0 + N and all_running() == N)
    report["upgrade"] = p

    # reaction: an idle queue, one change at a time; the first Flink call for that job after it
    lat = []
    time.sleep(2)
    for k in range(1, 21):
        j = (k - 1) % N + 1
        key = "%s/job-%d" % (NS, j)
        sps = len([e for e in sim_events("savepoint") if e["cluster"] == key])
        t0 = time.time() * 1000
        api("PATCH", "/apis/flink.apache.org/v1beta1/namespaces/%s/flinkdeployments/job-%d" % (NS, j),
            {"spec": {"job": {"savepointTriggerNonce": 1000 + k}}})
        found = None
        end = time.time() + 10
        while time.time() < end and found is None:
            for e in sim_events("rest-call"):
                if e["cluster"] == key and e["t"] >= t0 - 5 and e["method"] == "POST" and "savepoints" in e["path"]:
                    found = e["t"]
                    break
            time.sleep(0.005)
        if found is None:
            errors.append("no savepoint call for " + key)
        else:
            lat.append(found - t0)
        wait("savepoint of %s done" % key, lambda: len([e for e in sim_events("savepoint") if e["cluster"] == key]) > sps)
        time.sleep(0.3)
    lat.sort()
    report["react"] = lat

    time.sleep(3)
    with Phase("steady") as p:
        time.sleep(STEADY)
    report["steady"] = p
    if p.writes != 0:
        errors.append("the controller wrote %d times in steady state" % p.writes)

    c, u, s = report["create"], report["upgrade"], report["steady"]
    print("controller benchmark: N=%d FlinkDeployments, simulated Flink (start 0.5 s, savepoint 0.5 s)" % N)
    print("  create:  all RUNNING in %.1f s; API requests/object %.1f (controller), %.1f (API server audit); controller CPU %.2f s" %
          (c.wall, c.requests / N, c.audit / N, c.cpu))
    print("  upgrade: all upgraded in %.1f s; API requests/object %.1f (controller), %.1f (audit); writes/object %.1f; controller CPU %.2f s" %
          (u.wall, u.requests / N, u.audit / N, u.writes / N, u.cpu))
    for p in (c, u):
        print("  %s requests/object by verb: %s" % (p.name, ", ".join("%s %.1f" % (v, n / N) for v, n in sorted(p.verbs.items(), key=lambda x: -x[1]))))
    if lat:
        print("  reaction (PATCH sent -> first Flink call), %d samples: p50 %.0f ms, p99 %.0f ms, max %.0f ms" %
              (len(lat), lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))], lat[-1]))
    print("  steady %d s: %d writes, %d API requests (%.2f/s), controller CPU %.2f s" %
          (STEADY, s.writes, s.requests, s.requests / STEADY, s.cpu))
    print("  controller RSS: %.1f MB idle, %.1f MB with %d objects after create (%.1f MB per 1,000 above idle), %.1f MB at the end; CPU per 1,000 objects through create+upgrade: %.2f s" %
          (rss0, rss_after, N, (rss_after - rss0) * 1000 / N, rss_mb(), (c.cpu + u.cpu) * 1000 / N))
    for e in errors:
        print("  ERROR " + e)
    return 1 if errors else 0


sys.exit(main())
