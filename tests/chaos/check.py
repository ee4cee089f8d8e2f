#!/usr/bin/env python3
"""Invariants of one chaos trial, from the simulator's record and the API server.

usage: check.py SIM_STATE NAMESPACE NAME MODE PHASE
  PHASE converged: the spec is reached (STABLE, RUNNING, observedGeneration = generation);
        every stateful start after the first restored from the latest savepoint or checkpoint
        taken before it (no stateful job started empty); the savepoints in status exist and
        were taken; exit 0 when all hold, 1 (with the reasons) otherwise
  PHASE gone: the FlinkDeployment and every object it owned are gone
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "flinksim"))
import record  # noqa: E402

SIM, NS, NAME, MODE, PHASE = sys.argv[1:6]
KEY = NS + "/" + NAME


def kubectl(*args):
    p = subprocess.run(["kubectl", "-n", NS, *args, "-o", "json"], capture_output=True, text=True)
    return json.loads(p.stdout) if p.returncode == 0 else None


def events():
    return record.events(SIM, cluster=KEY)


def converged():
    bad = []
    o = kubectl("get", "flinkdeployment", NAME)
    if not o:
        return ["the FlinkDeployment is missing"]
    st = o.get("status") or {}
    if st.get("lifecycleState") != "STABLE" or (st.get("jobStatus") or {}).get("state") != "RUNNING":
        bad.append("not converged: %s/%s" % (st.get("lifecycleState"), (st.get("jobStatus") or {}).get("state")))
    if st.get("observedGeneration") != o["metadata"]["generation"]:
        bad.append("observedGeneration %s != generation %s" % (st.get("observedGeneration"), o["metadata"]["generation"]))
    want_par = o["spec"]["job"].get("parallelism")
    ev = events()
    starts = [e for e in ev if e["event"] == "job-started"]
    if starts and want_par is not None and starts[-1].get("parallelism") != want_par:
        bad.append("running parallelism %s, spec %s" % (starts[-1].get("parallelism"), want_par))
    # every stateful restart restored from the newest state taken before it
    for i, s in enumerate(starts):
        if i == 0 or MODE == "stateless":
            continue
        before = [e for e in ev if e["event"] in ("savepoint", "checkpoint") and e["t"] <= s["t"]]
        if not s.get("restoredFrom"):
            bad.append("start %d at %d began from empty state" % (i, s["t"]))
            continue
        if not before:
            bad.append("start %d restored from %s, but nothing was taken before it" % (i, s["restoredFrom"]))
            continue
        if MODE == "savepoint":
            sps = [e for e in before if e["event"] == "savepoint"]
            newest = sps[-1]["path"] if sps else None
        else:
            newest = before[-1]["path"]
        if s["restoredFrom"].rstrip("/") != (newest or "").rstrip("/"):
            bad.append("start %d restored from %s, newest before it was %s" % (i, s["restoredFrom"], newest))
    # savepoints in status were taken by Flink and were not disposed
    taken = {e["path"].rstrip("/") for e in ev if e["event"] == "savepoint"}
    disposed = {(e.get("path") or "").rstrip("/") for e in ev if e["event"] == "savepoint-disposed"}
    info = (st.get("jobStatus") or {}).get("savepointInfo") or {}
    recorded = [sp.get("location") for sp in info.get("savepointHistory") or []]
    if info.get("lastSavepoint"):
        recorded.append(info["lastSavepoint"].get("location"))
    for loc in filter(None, recorded):
        if loc.rstrip("/") not in taken:
            bad.append("status names savepoint %s that Flink never took" % loc)
        elif loc.rstrip("/") in disposed:
            bad.append("status names savepoint %s that was disposed" % loc)
    return bad


def gone():
    bad = []
    if kubectl("get", "flinkdeployment", NAME):
        bad.append("the FlinkDeployment still exists")
    for kind in ("deployments", "services", "configmaps"):
        items = (kubectl("get", kind, "-l", "app=" + NAME) or {}).get("items", [])
        if items:
            bad.append("left behind: %s %s" % (kind, ", ".join(i["metadata"]["name"] for i in items)))
    return bad


problems = converged() if PHASE == "converged" else gone()
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
