#!/usr/bin/env python3
"""Cluster DNS records for the local node: keeps a hosts file of every Service name current from
the API server, for dnsmasq (--addn-hosts) to answer, and signals dnsmasq (SIGHUP) after each
rewrite. This plays CoreDNS's `kubernetes` plugin for A records:

  NAME.NAMESPACE.svc.DOMAIN            -> the ClusterIP, or for a headless Service the IP of
                                          each ready endpoint
  HOSTNAME.NAME.NAMESPACE.svc.DOMAIN   -> an endpoint that has a hostname (StatefulSet pods)

Services and Endpoints are listed, then watched from the list's resourceVersion (a watch that
ends is resumed; 410 Gone or an error lists again, after a pause). The file is replaced
atomically, only when its content changes.

usage: dns-sync.py --server URL --token-file F --ca-file F --hosts FILE --dnsmasq-pid-file F
                   [--domain cluster.local]"""
import argparse
import json
import os
import signal
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request

MAX_LINE = 4 << 20  # one watch event; Services and Endpoints are far smaller


def log(msg):
    print(f"[dns-sync {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Api:
    def __init__(self, server, token_file, ca_file):
        self.server = server.rstrip("/")
        self.token_file = token_file
        self.ctx = ssl.create_default_context(cafile=ca_file)

    def open(self, path, timeout):
        with open(self.token_file) as f:
            token = f.read().strip()
        req = urllib.request.Request(self.server + path, headers={"Authorization": f"Bearer {token}"})
        return urllib.request.urlopen(req, context=self.ctx, timeout=timeout)


class Store:
    """The Services and Endpoints seen, by namespace/name; `changed` is set on every change."""

    def __init__(self):
        self.lock = threading.Lock()
        self.objs = {"services": {}, "endpoints": {}}
        self.synced = set()
        self.changed = threading.Event()

    def replace(self, kind, items):
        with self.lock:
            self.objs[kind] = {key(o): o for o in items}
            self.synced.add(kind)
        self.changed.set()

    def apply(self, kind, etype, obj):
        with self.lock:
            if etype == "DELETED":
                self.objs[kind].pop(key(obj), None)
            else:
                self.objs[kind][key(obj)] = obj
        self.changed.set()

    def records(self, domain):
        with self.lock:
            services = list(self.objs["services"].values())
            endpoints = dict(self.objs["endpoints"])
        out = set()
        for s in services:
            ns, name = s["metadata"]["namespace"], s["metadata"]["name"]
            fqdn = f"{name}.{ns}.svc.{domain}"
            ip = s.get("spec", {}).get("clusterIP")
            if ip and ip != "None":
                out.add((ip, fqdn))
                continue
            for subset in endpoints.get(f"{ns}/{name}", {}).get("subsets") or []:
                for a in subset.get("addresses") or []:
                    if "ip" not in a:
                        continue
                    out.add((a["ip"], fqdn))
                    if a.get("hostname"):
                        out.add((a["ip"], f"{a['hostname']}.{fqdn}"))
        return sorted(out)


def key(o):
    return f'{o["metadata"].get("namespace", "")}/{o["metadata"]["name"]}'


def list_watch(api, store, kind):
    """Lists `kind` in all namespaces, then watches it; forever."""
    while True:
        try:
            with api.open(f"/api/v1/{kind}?limit=5000", timeout=30) as r:
                body = json.load(r)
            store.replace(kind, body.get("items") or [])
            rv = body["metadata"]["resourceVersion"]
            while True:
                path = f"/api/v1/{kind}?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion={rv}"
                with api.open(path, timeout=330) as r:
                    for line in iter(lambda: r.readline(MAX_LINE), b""):
                        ev = json.loads(line)
                        if ev.get("type") == "ERROR":
                            raise RuntimeError(f"watch error: {ev.get('object', {}).get('message')}")
                        obj = ev.get("object") or {}
                        rv = obj.get("metadata", {}).get("resourceVersion", rv)
                        if ev.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                            store.apply(kind, ev["type"], obj)
        except (OSError, ValueError, KeyError, RuntimeError, urllib.error.URLError) as e:
            log(f"{kind}: {e}; listing again in 1 s")
            time.sleep(1)


def write_hosts(path, records):
    text = "".join(f"{ip} {name}\n" for ip, name in records)
    try:
        with open(path) as f:
            if f.read() == text:
                return False
    except FileNotFoundError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return True


def hup(pid_file):
    try:
        with open(pid_file) as f:
            os.kill(int(f.read().strip()), signal.SIGHUP)
    except (OSError, ValueError) as e:
        log(f"cannot signal dnsmasq: {e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--hosts", required=True)
    ap.add_argument("--dnsmasq-pid-file", required=True)
    ap.add_argument("--domain", default="cluster.local")
    a = ap.parse_args()
    api, store = Api(a.server, a.token_file, a.ca_file), Store()
    for kind in ("services", "endpoints"):
        threading.Thread(target=list_watch, args=(api, store, kind), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        store.changed.wait()
        time.sleep(0.05)  # one rewrite for a burst of events
        store.changed.clear()
        if store.synced != {"services", "endpoints"}:
            continue
        records = store.records(a.domain)
        if write_hosts(a.hosts, records):
            hup(a.dnsmasq_pid_file)
            log(f"{len(records)} records")


if __name__ == "__main__":
    main()
