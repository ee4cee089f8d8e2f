#!/usr/bin/env python3
"""Checks the simulator's answers against the checked-in part of Flink's documented REST schema
(rest-schema.json): every field the client reads is present with the documented name and type.
usage: check_schema.py BASE_URL JOBID [TARGET_DIR]   (the job must have checkpoints and be RUNNING;
it ends stopped with a savepoint). The states the job walked through (Flink's GET /jobs/<jid>
timestamps), while it runs and once stopped, are held to tests/contract/contract.json. The same check runs against real Flink on the node
(tests/node/test_65_flink.sh), so the schema is Flink's, not only the simulator's. TARGET_DIR:
where the savepoints go (default file:///sp)."""
import json, os, sys, time, urllib.error, urllib.request

here = os.path.dirname(os.path.abspath(__file__))
spec = json.load(open(os.path.join(here, "rest-schema.json")))
S = spec["schemas"]
problems = []


def check(value, schema, where):
    if "$ref" in schema:
        if value is None and schema.get("nullable"):
            return
        return check(value, S[schema["$ref"]], where)
    if value is None and schema.get("nullable"):
        return
    t = schema.get("type")
    ok = {"object": isinstance(value, dict), "array": isinstance(value, list), "string": isinstance(value, str),
          "integer": isinstance(value, int) and not isinstance(value, bool), "boolean": isinstance(value, bool),
          "number": isinstance(value, (int, float)) and not isinstance(value, bool)}.get(t, True)
    if not ok:
        problems.append(f"{where}: expected {t}, got {type(value).__name__}: {json.dumps(value)[:60]}")
        return
    if t == "string" and "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if t == "string" and "pattern" in schema:
        import re
        if not re.fullmatch(schema["pattern"].strip("^$"), value):
            problems.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if t == "object":
        for r in schema.get("required", []):
            if r not in value:
                problems.append(f"{where}: missing required field {r!r}")
        for k, sub in schema.get("properties", {}).items():
            if k in value:
                check(value[k], sub, f"{where}.{k}")
    if t == "array":
        for i, v in enumerate(value):
            check(v, schema.get("items", {}), f"{where}[{i}]")


def call(method, url, body=None):
    r = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method)
    if body is not None:
        r.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(r, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


CONTRACT = json.load(open(os.path.join(here, "..", "contract", "contract.json")))["job_states"]


def walked(details):
    """The states the job went through, in order, from Flink's timestamps (0: never entered)."""
    ts = (details or {}).get("timestamps") or {}
    seen = [(t, k) for k, t in ts.items() if isinstance(t, int) and not isinstance(t, bool) and t > 0]
    order = ["INITIALIZING", "CREATED", "RUNNING", "FAILING", "FAILED", "CANCELLING", "CANCELED", "FINISHED",
             "RESTARTING", "SUSPENDED", "RECONCILING"]  # Flink's JobStatus order breaks ties of one millisecond
    return [k for t, k in sorted(seen, key=lambda e: (e[0], order.index(e[1]) if e[1] in order else len(order)))]


def job_states(base, jid, want, where):
    code, v = call("GET", f"{base}/jobs/{jid}")
    check(v, {"$ref": spec["endpoints"]["GET /jobs/{jobid}"]}, f"GET /jobs/{{jobid}} ({where})")
    got = walked(v)
    if got != CONTRACT[want]:
        problems.append(f"job states {where}: {got}, the contract says {CONTRACT[want]} (tests/contract/contract.json)")
    return v


def main(base, jid, target="file:///sp"):
    E = spec["endpoints"]
    job_states(base, jid, "running", "while it runs")
    code, v = call("GET", f"{base}/config"); check(v, {"$ref": E["GET /config"]}, "GET /config")
    code, v = call("GET", f"{base}/jobs/overview"); check(v, {"$ref": E["GET /jobs/overview"]}, "GET /jobs/overview")
    code, v = call("GET", f"{base}/jobs/{jid}/checkpoints"); check(v, {"$ref": E["GET /jobs/{jobid}/checkpoints"]}, "GET checkpoints")
    if not (v.get("latest") or {}).get("completed"):
        problems.append("GET checkpoints: no completed checkpoint to check")
    code, v = call("GET", f"{base}/jobs/{jid}/exceptions"); check(v, {"$ref": E["GET /jobs/{jobid}/exceptions"]}, "GET exceptions")
    # the health check's metrics: a list of {id, value}, the values whole numbers as strings (Flink's
    # metric fetcher fills its store after the first ask: an empty list until then, polled for 30 s)
    deadline = time.time() + 30
    while True:
        code, v = call("GET", f"{base}/jobs/{jid}/metrics?get=fullRestarts,numRestarts,numberOfCompletedCheckpoints")
        got = {m.get("id"): m.get("value") for m in v} if isinstance(v, list) and all(isinstance(m, dict) for m in v) else None
        if got is None or ("numRestarts" in got and "numberOfCompletedCheckpoints" in got) or time.time() > deadline:
            break
        time.sleep(0.5)
    if got is None or not isinstance(got.get("numRestarts"), str) or not got["numRestarts"].isdigit() \
            or not isinstance(got.get("numberOfCompletedCheckpoints"), str) or not got["numberOfCompletedCheckpoints"].isdigit():
        problems.append(f"GET metrics: expected numRestarts and numberOfCompletedCheckpoints as whole numbers, got {json.dumps(v)[:200]}")
    code, v = call("POST", f"{base}/jobs/{jid}/savepoints", {"target-directory": target, "cancel-job": False})
    check(v, {"$ref": E["POST /jobs/{jobid}/savepoints"]}, "POST savepoints")
    trig = v["request-id"]
    for _ in range(100):
        code, st = call("GET", f"{base}/jobs/{jid}/savepoints/{trig}")
        check(st, {"$ref": E["GET /jobs/{jobid}/savepoints/{triggerid}"]}, "GET savepoint status")
        if st["status"]["id"] == "COMPLETED":
            break
        time.sleep(0.2)
    loc = (st.get("operation") or {}).get("location")
    if not loc:
        problems.append(f"savepoint status: no operation.location after COMPLETED: {json.dumps(st)[:300]}")
    else:
        code, v = call("POST", f"{base}/savepoint-disposal", {"savepoint-path": loc})
        check(v, {"$ref": E["POST /savepoint-disposal"]}, "POST savepoint-disposal")
    code, v = call("GET", f"{base}/jobs/{'0' * 32}/checkpoints")
    if code != 404: problems.append(f"unknown job: HTTP {code}, expected 404")
    check(v, {"$ref": E["error"]}, "error body")
    code, v = call("POST", f"{base}/jobs/{jid}/stop", {"targetDirectory": target, "drain": False})
    check(v, {"$ref": E["POST /jobs/{jobid}/stop"]}, "POST stop")
    for _ in range(150):  # the stop ends when the job has FINISHED
        code, d = call("GET", f"{base}/jobs/{jid}")
        if code == 200 and isinstance(d, dict) and d.get("state") in ("FINISHED", "FAILED", "CANCELED"):
            break
        time.sleep(0.2)
    job_states(base, jid, "stopped_with_savepoint", "after a stop with a savepoint")
    for p in problems:
        print("schema:", p)
    print(f"schema: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
