#!/usr/bin/env python3
"""What the operator observes of a Flink cluster, normalised, against the contract that real Flink
and the simulated Flink must both keep (contract.json): the HA ConfigMaps' names, labels and the
keys the operator reads, the shape of checkpoint and savepoint paths, the TaskManager pods'
labels. The node suite checks real Flink with it, the end-to-end suite the simulator, so the two
cannot drift apart unnoticed.

usage: contract.py SECTION NAME JOBID CHECKPOINT_PATH SAVEPOINT_PATH HA_CONFIGMAPS.json [PODS.json]
  SECTION          flink1 or flink2 (the contract's part for that Flink major)
  HA_CONFIGMAPS    `kubectl get configmaps -l app=NAME,type=flink-native-kubernetes -o json` (the
                   operator's own flink-config-NAME is left out)
  PODS             `kubectl get pods -l app=NAME,component=taskmanager -o json` (optional)
Prints the observation and every difference; exits 1 on a difference, 2 on bad input."""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
READ_KEYS = re.compile(r"^(checkpointID-|jobGraph-|executionPlan-|counter$)")


def norm(text, name, jid):
    text = text.replace(jid, "<jid>").replace(name, "<name>")
    return re.sub(r"^checkpointID-[0-9]+$", "checkpointID-<n>", text)


def load(path, limit=4 << 20):
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        sys.exit(f"contract: {path} is larger than {limit} bytes")
    try:
        return json.loads(data)
    except ValueError as e:
        sys.exit(f"contract: {path} is not JSON: {e}")


def observe(name, jid, ck, sp, cms, pods):
    ha = {}
    for cm in cms.get("items", []):
        meta = cm.get("metadata", {})
        if meta.get("name", "").startswith("flink-config-"):
            continue
        labels = meta.get("labels", {})
        ha[norm(meta.get("name", ""), name, jid)] = {
            "labels": {k: norm(labels[k], name, jid) for k in ("app", "configmap-type", "type") if k in labels},
            "keys": sorted({norm(k, name, jid) for k in (cm.get("data") or {}) if READ_KEYS.match(k)}),
        }
    o = {"ha_configmaps": ha, "checkpoint_path": ck, "savepoint_path": sp}
    if pods is not None:
        tm = set()
        for p in pods.get("items", []):
            labels = p.get("metadata", {}).get("labels", {})
            tm.add(json.dumps({k: norm(labels[k], name, jid) for k in ("app", "component", "type") if k in labels}, sort_keys=True))
        o["taskmanager_labels"] = [json.loads(x) for x in sorted(tm)]
    return o


def main(argv):
    if len(argv) not in (7, 8):
        print(__doc__, file=sys.stderr)
        return 2
    section, name, jid, ck, sp = argv[1:6]
    contract = load(os.path.join(HERE, "contract.json"))
    if section not in contract:
        print(f"contract: no section {section!r}", file=sys.stderr)
        return 2
    want = contract[section]
    got = observe(name, jid, ck, sp, load(argv[6]), load(argv[7]) if len(argv) == 8 else None)
    print("contract: observed " + json.dumps(got, sort_keys=True))
    diffs = []
    if got["ha_configmaps"] != want["ha_configmaps"]:
        diffs.append(f"HA ConfigMaps: want {json.dumps(want['ha_configmaps'], sort_keys=True)}")
    for k in ("checkpoint_path", "savepoint_path"):
        pat = want[k].replace("<jid6>", jid[:6]).replace("<jid>", jid)
        if not re.fullmatch(pat, got[k] or ""):
            diffs.append(f"{k}: {got[k]!r} does not match {pat}")
    if "taskmanager_labels" in got and got["taskmanager_labels"] != want["taskmanager_labels"]:
        diffs.append(f"TaskManager labels: want {want['taskmanager_labels']}")
    for d in diffs:
        print("contract: " + d)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
