#!/usr/bin/env python3
"""Sends server-side dry-run creates of a FlinkDeployment to the API server, from THREADS
connections, until SECONDS pass or the file STOP exists; each one goes through both admission
webhooks. Prints one JSON line: requests sent, admitted (201), denied or failed (anything else),
with the first few failure messages. A request the API server answers 201 was admitted by
/mutate and /validate; a webhook that cannot be reached fails it (failurePolicy Fail).

usage: admission_load.py SERVER CA_FILE TOKEN_FILE NAMESPACE MANIFEST.json THREADS SECONDS [STOP]"""
import http.client
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse


def main():
    server, ca, token_file, ns, manifest, threads, seconds = sys.argv[1:8]
    stop = sys.argv[8] if len(sys.argv) > 8 else None
    token = open(token_file).read().strip()
    u = urllib.parse.urlparse(server)
    body = open(manifest, "rb").read()
    ctx = ssl.create_default_context(cafile=ca)
    path = f"/apis/flink.apache.org/v1beta1/namespaces/{ns}/flinkdeployments?dryRun=All"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    end = time.time() + float(seconds)
    lock = threading.Lock()
    counts = {"sent": 0, "admitted": 0, "failed": 0}
    failures = []

    def run():
        conn = None
        while time.time() < end and not (stop and os.path.exists(stop)):
            try:
                if conn is None:
                    conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)
                conn.request("POST", path, body, headers)
                r = conn.getresponse()
                data = r.read()
                ok = r.status == 201
                msg = "" if ok else f"{r.status}: {json.loads(data).get('message', '')[:300]}"
            except (OSError, http.client.HTTPException, ValueError) as e:
                ok, msg, conn = False, f"client: {e}", None
            with lock:
                counts["sent"] += 1
                counts["admitted" if ok else "failed"] += 1
                if not ok and len(failures) < 5:
                    failures.append(f"{time.strftime('%H:%M:%S')} {msg}")

    ts = [threading.Thread(target=run) for _ in range(int(threads))]
    t0 = time.time()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    counts["seconds"] = round(time.time() - t0, 1)
    counts["failures"] = failures
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
