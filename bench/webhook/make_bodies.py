#!/usr/bin/env python3
"""Writes the AdmissionReview bodies the benchmark sends: a CREATE of the documentation's example
(admitted: the fixed version; denied: as written) and an UPDATE carrying object + oldObject with
status (about 6-10 KB). usage: make_bodies.py REPO_ROOT OUT_DIR"""
import json, os, sys

sys.path.insert(0, os.path.join(sys.argv[1], "tests", "flinksim"))
import yaml_lite  # noqa: E402

root, out = sys.argv[1], sys.argv[2]


def load(name):
    return yaml_lite.load(open(os.path.join(root, "examples", name)).read())


def review(uid, op, obj, old=None):
    r = {"uid": uid, "kind": {"group": "flink.apache.org", "version": "v1beta1", "kind": "FlinkDeployment"},
         "resource": {"group": "flink.apache.org", "version": "v1beta1", "resource": "flinkdeployments"},
         "namespace": "default", "name": obj["metadata"]["name"], "operation": op,
         "userInfo": {"username": "admin", "groups": ["system:masters", "system:authenticated"]}, "object": obj, "dryRun": False}
    if old is not None:
        r["oldObject"] = old
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": r}


ok, bad = load("seed-last-state-fixed.yaml"), load("seed-last-state.yaml")
old = json.loads(json.dumps(ok))
spec_rec = json.dumps({"spec": ok["spec"], "resource_metadata": {"apiVersion": "flink.apache.org/v1beta1", "firstDeployment": False}})
old["metadata"].update({"uid": "6c1e6d2e-7c1f-4e8e-9d0b-1f4f5f0a1b2c", "resourceVersion": "123456", "generation": 3,
                        "creationTimestamp": "2026-11-01T10:00:00Z", "finalizers": ["flinkdeployments.flink.apache.org/finalizer"],
                        "labels": {"app.kubernetes.io/managed-by": "flink-operator"}})
old["status"] = {"jobStatus": {"jobName": "StateMachineExample", "jobId": "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "state": "RUNNING",
                               "startTime": "1795000000000", "updateTime": "1795000005000",
                               "savepointInfo": {"lastSavepoint": {"timeStamp": 1795000001000, "location": "file:///flink-data/savepoints/savepoint-0a1b2c-1234567890ab",
                                                                   "triggerType": "UPGRADE", "formatType": "CANONICAL"},
                                                 "savepointHistory": [{"timeStamp": 1795000001000 + i, "location": f"file:///flink-data/savepoints/savepoint-0a1b2c-{i:012x}",
                                                                       "triggerType": "MANUAL", "formatType": "CANONICAL", "triggerNonce": i} for i in range(3)]}},
                 "jobManagerDeploymentStatus": "READY", "lifecycleState": "STABLE", "observedGeneration": 3,
                 "clusterInfo": {"flink-version": "1.14.3", "flink-revision": "98997ea @ 2022-01-08T23:23:54+01:00", "total-cpu": "2.0", "total-memory": "4294967296"},
                 "reconciliationStatus": {"reconciliationTimestamp": 1795000000000, "lastReconciledSpec": spec_rec, "lastStableSpec": spec_rec, "state": "DEPLOYED"},
                 "conditions": [{"type": "Running", "status": "True", "reason": "Running", "message": "Job status RUNNING", "lastTransitionTime": "2026-11-01T10:00:05Z"}]}
new = json.loads(json.dumps(old))
new["spec"]["job"]["parallelism"] = 4
new["metadata"]["generation"] = 4
bodies = {"create-admitted.json": review("11111111-2222-3333-4444-555555555555", "CREATE", ok),
          "create-denied.json": review("11111111-2222-3333-4444-666666666666", "CREATE", bad),
          "update.json": review("11111111-2222-3333-4444-777777777777", "UPDATE", new, old)}
os.makedirs(out, exist_ok=True)
for name, body in bodies.items():
    with open(os.path.join(out, name), "w") as f:
        json.dump(body, f, separators=(",", ":"))
    print(name, os.path.getsize(os.path.join(out, name)), "bytes")
