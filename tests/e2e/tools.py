#!/usr/bin/env python3
"""Checks used by the end-to-end tests (reading the controller's logs, the API server's audit log
and the controller's /debug/cache). Exit 0 = the property holds; otherwise it prints why."""
import json, subprocess, sys, urllib.request


def kubectl_json(*args):
    return json.loads(subprocess.check_output(["kubectl", *args, "-o", "json"]))


def log_lines(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


def cache_equals_server(port, ns):
    server = {f'{o["metadata"]["namespace"]}/{o["metadata"]["name"]}': o["metadata"]["resourceVersion"]
              for o in kubectl_json("-n", ns, "get", "flinkdeployments")["items"]}
    cache = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/debug/cache"))
    cache = {k: v for k, v in cache.items() if k.startswith(ns + "/")}
    if cache != server:
        diff = {k: (cache.get(k), server.get(k)) for k in set(cache) | set(server) if cache.get(k) != server.get(k)}
        print("cache != server (key: cache, server):", json.dumps(diff)[:800])
        return 1
    return 0


def reconciled_after_last_change(logpath, ns):
    server = {f'{o["metadata"]["namespace"]}/{o["metadata"]["name"]}': o["metadata"]["resourceVersion"]
              for o in kubectl_json("-n", ns, "get", "flinkdeployments")["items"]}
    seen_rv, gone = {}, set()
    for e in log_lines(logpath):
        if e.get("msg") != "reconcile" or not e.get("object", "").startswith(ns + "/"):
            continue
        if e.get("result") == "gone":
            gone.add(e["object"])
        else:
            seen_rv.setdefault(e["object"], set()).add(e.get("resourceVersion"))
    bad = [k for k, rv in server.items() if rv not in seen_rv.get(k, set())]
    ever = set(seen_rv) | gone
    deleted = [k for k in ever if k not in server and k not in gone]
    if bad or deleted:
        print("not reconciled at their last version:", bad[:10], "deleted but never seen gone:", deleted[:10])
        return 1
    return 0


def leader_check(log1, log2, kill_ms, lease_duration):
    kill_ms, lease = int(kill_ms), float(lease_duration)
    w1 = [e["unixMs"] for e in log_lines(log1) if e.get("msg") == "write"]
    l2 = log_lines(log2)
    w2 = [e["unixMs"] for e in l2 if e.get("msg") == "write"]
    became = [e for e in l2 if e.get("msg") == "became leader"]
    if not became:
        print("second replica never became leader"); return 1
    import datetime
    t = datetime.datetime.strptime(became[0]["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    became_ms = int(t.timestamp() * 1000)
    problems = []
    if not w1: problems.append("first leader never wrote")
    if any(w > kill_ms for w in w1): problems.append("first replica wrote after it was killed")
    if any(w < became_ms for w in w2): problems.append("second replica wrote before it became leader")
    if became_ms < kill_ms: problems.append("second replica became leader while the first was alive")
    if became_ms - kill_ms > (lease + 2) * 1000: problems.append(f"takeover took {(became_ms - kill_ms)/1000:.1f}s")
    if not w2: problems.append("second replica never wrote")
    if problems:
        print("; ".join(problems)); return 1
    print(f"takeover after {(became_ms - kill_ms)/1000:.1f}s")
    return 0


def kubeconfig_with_token_file(src, token_file):
    text = open(src).read().splitlines()
    out = []
    for line in text:
        if line.strip().startswith("token:"):
            out.append(line.split("token:")[0] + "tokenFile: " + token_file)
        else:
            out.append(line)
    print("\n".join(out))
    return 0


def audit_user_wrote(path, user, name):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        return 1
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        ref = e.get("objectRef", {})
        if e.get("user", {}).get("username") == user and ref.get("resource") == "flinkdeployments" \
                and ref.get("name") == name and e.get("verb") in ("update", "patch"):
            return 0
    return 1


def sim_record(path, cluster, what):
    ev = [json.loads(l) for l in open(path)] if __import__("os").path.exists(path) else []
    ev = [e for e in ev if e.get("cluster") == cluster]
    starts = [e for e in ev if e["event"] == "job-started"]
    sps = [e for e in ev if e["event"] == "savepoint"]
    if what.startswith("checkpoint-of:"):  # the path of the checkpoint Flink took for a trigger id
        cps = [e for e in ev if e["event"] == "checkpoint" and e.get("trigger") == what.split(":", 1)[1]]
        print(cps[-1]["path"] if cps else "")
        return 0
    out = {"starts": len(starts), "savepoints": len(sps),
           "last-start-kind": starts[-1]["restoreKind"] if starts else "",
           "last-start-from": (starts[-1]["restoredFrom"] or "") if starts else "",
           "last-start-parallelism": starts[-1]["parallelism"] if starts else "",
           "last-savepoint": sps[-1]["path"] if sps else ""}[what]
    print(out)
    return 0


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {"cache-equals-server": cache_equals_server, "reconciled-after-last-change": reconciled_after_last_change,
          "leader-check": leader_check, "kubeconfig-with-token-file": kubeconfig_with_token_file,
          "audit-user-wrote": audit_user_wrote, "sim-record": sim_record}[cmd]
    sys.exit(fn(*args))
