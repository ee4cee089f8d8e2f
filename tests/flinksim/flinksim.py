#!/usr/bin/env python3
"""flinksim: a simulated Flink runtime for the tests.

It plays the part of the pods and of Flink itself, using only what a real cluster would see:
 - Kubernetes mode (--kubeconfig): watches JobManager Deployments (label component=jobmanager) and
   their ConfigMap flink-config-<name>; for each Deployment with replicas > 0 it "starts" a
   JobManager after --start-delay, sets the Deployment's status as the deployment controller would,
   and serves that cluster's REST API; replicas 0 or deletion stops it. With Kubernetes HA it
   keeps the HA ConfigMaps a real Flink keeps and recovers from them.
 - Standalone mode (--standalone NS/NAME --config FILE): one cluster, no Kubernetes (client tests).

REST: one listener, routed by path prefix: http://HOST:PORT/<namespace>/<name>/<Flink REST path>
(the controller's URL template http://HOST:PORT/{namespace}/{name}). Paths and JSON shapes follow
Flink's REST API (rest_v1_dispatcher). Faults: POST /_sim/faults/<namespace>/<name> with a JSON
object of knobs (see FAULTS). Every job start, checkpoint, savepoint and state change is appended
as a JSON line to --state-file, which the tests read.
"""
import argparse, base64, json, os, random, re, shutil, ssl, sys, threading, time, urllib.error, urllib.parse, urllib.request, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = {
    "fail_next_savepoint": "the next savepoint fails (failure-cause)",
    "fail_job": "the job goes to FAILED now",
    "rest_timeout": "REST calls hang for this many seconds",
    "rest_500": "REST calls answer 500 this many times",
    "crashloop": "the JobManager never becomes ready (Deployment not available)",
    "lose_ha": "the HA ConfigMaps are deleted now",
}
TERMINAL = {"FAILED", "CANCELED", "FINISHED"}
# Flink's JobStatus values, in its order
JOB_STATES = ("INITIALIZING", "CREATED", "RUNNING", "FAILING", "FAILED", "CANCELLING", "CANCELED", "FINISHED",
              "RESTARTING", "SUSPENDED", "RECONCILING")
LOCK = threading.RLock()
ARGS = None
KUBE = None
CLUSTERS = {}  # "ns/name" -> Cluster
PENDING_FAULTS = {}  # "ns/name" -> faults for a cluster that does not exist yet


def now_ms():
    return int(time.time() * 1000)


def record(event, cluster, **kw):
    line = dict(event=event, cluster=cluster, t=now_ms(), **kw)
    with LOCK, open(ARGS.state_file, "a") as f:
        f.write(json.dumps(line) + "\n")


def flink_uri(uri):
    """A path as Flink reports it: file:///x is file:/x (Flink's Path drops the empty authority)."""
    return "file:/" + uri[len("file:///"):] if uri.startswith("file:///") else uri


def local_path(uri):
    """file:///x -> <data-root>/x ; s3://b/x -> <data-root>/s3/b/x. Everything stays under the root."""
    if uri is None:
        return None
    p = urllib.parse.urlparse(uri)
    rel = (p.netloc + p.path) if p.scheme not in ("", "file") else p.path
    rel = os.path.normpath("/" + rel).lstrip("/")
    base = ARGS.data_root if p.scheme in ("", "file") else os.path.join(ARGS.data_root, p.scheme)
    return os.path.join(base, rel)


def parse_duration_s(v, default=None):
    if v is None or str(v).strip() == "":
        return default
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|milli|millis|s|sec|secs|second|seconds|min|mins|minute|minutes|h|hour|hours)?\s*", str(v))
    if not m:
        return default
    n, u = float(m.group(1)), (m.group(2) or "ms")
    return n / 1000 if u.startswith("m") and u not in ("min", "mins", "minute", "minutes") else \
        n * 60 if u in ("min", "mins", "minute", "minutes") else n * 3600 if u.startswith("h") else n


class Kube:
    """A minimal Kubernetes client (stdlib) for the simulator."""

    def __init__(self, kubeconfig):
        import yaml_lite
        cfg = yaml_lite.load(open(kubeconfig).read())
        ctx = next(c["context"] for c in cfg["contexts"] if c["name"] == cfg["current-context"])
        cl = next(c["cluster"] for c in cfg["clusters"] if c["name"] == ctx["cluster"])
        us = next(u["user"] for u in cfg["users"] if u["name"] == ctx["user"])
        self.server = cl["server"].rstrip("/")
        self.token = us.get("token")
        self.ctx = ssl.create_default_context(cafile=cl.get("certificate-authority"))

    def req(self, method, path, body=None, ctype="application/json", timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        r = urllib.request.Request(self.server + path, data=data, method=method)
        r.add_header("Authorization", "Bearer " + self.token)
        if data is not None:
            r.add_header("Content-Type", ctype)
        # Kubernetes components retry while the API server is away (a restart): so does the
        # simulator, for up to 30 s, instead of losing the cluster it was starting.
        for attempt in range(60):
            try:
                with urllib.request.urlopen(r, context=self.ctx, timeout=timeout) as resp:
                    return resp.status, json.loads(resp.read() or b"null")
            except urllib.error.HTTPError as e:
                if e.code in (429, 503) and attempt < 59:
                    time.sleep(0.5)
                    continue
                return e.code, None
            except (urllib.error.URLError, ConnectionError) as e:
                if attempt == 59:
                    raise
                time.sleep(0.5)

    def watch(self, path, rv):
        r = urllib.request.Request(f"{self.server}{path}{'&' if '?' in path else '?'}watch=1&allowWatchBookmarks=true&timeoutSeconds=60&resourceVersion={rv}")
        r.add_header("Authorization", "Bearer " + self.token)
        return urllib.request.urlopen(r, context=self.ctx, timeout=90)


class Job:
    def __init__(self, jid, name, parallelism):
        self.jid, self.name, self.parallelism = jid, name, parallelism
        self.state, self.start, self.end, self.modified = "INITIALIZING", now_ms(), -1, now_ms()
        self.timestamps = {"INITIALIZING": self.start}  # when the job last entered each state, as Flink keeps it
        self.checkpoints = []  # (id, path, ts)
        self.next_cp = 1
        self.restored = None  # (id, path, ts, is_savepoint)
        self.discarded = set()  # ids of checkpoints subsumed (their directories deleted)
        self.stats_cache = None  # (monotonic time, the checkpoint statistics served)
        self.savepoints = {}  # trigger -> dict(status, location, failure)
        self.cp_triggers = {}  # trigger -> checkpoint id (checkpoints on demand)
        self.latest_savepoint = None
        self.exceptions = []
        self.jar = None  # the jar id a session cluster ran it from
        self.conf = None  # the run request's flinkConfiguration (a session cluster's job)


class Cluster:
    def __init__(self, ns, name, conf):
        self.ns, self.name, self.key = ns, name, f"{ns}/{name}"
        self.conf = conf
        self.jobs = {}
        self.ready = False
        self.stopped = False
        self.faults = {}
        self.generation = 0
        self.jars = {}  # a session cluster's uploaded jars: id -> bytes
        self.session = False  # a session cluster: Flink's web submission (/jars) is on
        self.uid = None
        self.native = False

    def make_taskmanagers(self, par):
        """Native mode: Flink's JobManager creates its TaskManager pods through the API server,
        labelled as Flink labels them and owned by the JobManager Deployment (so they go with it):
        as many as the job's slots need."""
        if not self.native or not self.uid or not ARGS.taskmanager_pods:
            return
        slots = max(1, int(self.conf.get("taskmanager.numberOfTaskSlots", "1") or 1))
        for i in range(1, (max(par, 1) + slots - 1) // slots + 1):
            pod = f"{self.name}-taskmanager-{self.uid[:8]}-{i}"
            code, _ = KUBE.req("POST", f"/api/v1/namespaces/{self.ns}/pods", {
                "metadata": {"name": pod, "namespace": self.ns,
                             "labels": {"app": self.name, "component": "taskmanager", "type": "flink-native-kubernetes"},
                             "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": self.name,
                                                  "uid": self.uid, "controller": True, "blockOwnerDeletion": True}]},
                "spec": {"automountServiceAccountToken": False,
                         "containers": [{"name": "flink-main-container", "image": self.conf.get("kubernetes.container.image.ref", "flink")}]}})
            record("taskmanager-created", self.key, pod=pod, code=code)

    # --- configuration as Flink reads it
    def ha(self):
        v = self.conf.get("high-availability.type") or self.conf.get("high-availability") or ""
        return v.strip() != "" and v.strip().upper() != "NONE"

    def flink_version(self):
        """(major, minor) of the image's tag (flink:1.14.3 -> (1, 14)); (9, 0) when it says none."""
        m = re.search(r":(\d+)\.(\d+)", self.conf.get("kubernetes.container.image.ref") or self.conf.get("kubernetes.container.image") or "")
        return (int(m.group(1)), int(m.group(2))) if m else (9, 0)

    def graph_key(self, jid):
        """The job's graph in the cluster's HA ConfigMap: jobGraph-<id>, executionPlan-<id> from
        Flink 2 (the image's tag says which)."""
        m = re.search(r":(\d+)\.", self.conf.get("kubernetes.container.image.ref") or "")
        return f"{'executionPlan' if m and int(m.group(1)) >= 2 else 'jobGraph'}-{jid}"

    def cp_dir(self):
        return self.conf.get("state.checkpoints.dir") or self.conf.get("execution.checkpointing.dir")

    def cp_interval(self):
        if ARGS.checkpoint_interval:
            return ARGS.checkpoint_interval if parse_duration_s(self.conf.get("execution.checkpointing.interval")) else None
        return parse_duration_s(self.conf.get("execution.checkpointing.interval"))

    # --- HA ConfigMaps (Kubernetes HA)
    def ha_cm_name(self, jid):
        return f"{self.name}-{jid}-config-map"

    def ha_labels(self):
        if self.graph_key("").startswith("executionPlan"):  # Flink 2 labels them without configmap-type
            return {"app": self.name, "type": "flink-native-kubernetes"}
        return {"app": self.name, "configmap-type": "high-availability", "type": "flink-native-kubernetes"}

    def ha_latest_checkpoint(self, jid):
        if not KUBE:
            return None
        code, cm = KUBE.req("GET", f"/api/v1/namespaces/{self.ns}/configmaps/{self.ha_cm_name(jid)}")
        if code != 200 or not cm:
            return None
        ids = sorted(int(k[len("checkpointID-"):]) for k in (cm.get("data") or {}) if k.startswith("checkpointID-"))
        if not ids:
            return None
        ptr = json.loads(cm["data"][f"checkpointID-{ids[-1]:019d}"])
        return ids[-1], ptr["path"]

    def ha_write(self, job):
        if not KUBE or not self.ha():
            return
        cpid, path, _ = job.checkpoints[-1]
        data = {"counter": str(cpid + 1), f"checkpointID-{cpid:019d}": json.dumps({"path": path})}
        for name, d in ((self.ha_cm_name(job.jid), data), (f"{self.name}-cluster-config-map", {self.graph_key(job.jid): "sim", "leader": "sim"})):
            code, _ = KUBE.req("PATCH", f"/api/v1/namespaces/{self.ns}/configmaps/{name}", {"data": d}, "application/merge-patch+json")
            if code == 404 and not self.stopped:  # (a JobManager stopped meanwhile makes none)
                KUBE.req("POST", f"/api/v1/namespaces/{self.ns}/configmaps",
                         {"metadata": {"name": name, "namespace": self.ns, "labels": self.ha_labels()}, "data": d})

    def ha_delete(self):
        if KUBE:
            code, lst = KUBE.req("GET", f"/api/v1/namespaces/{self.ns}/configmaps?labelSelector=app%3D{self.name},configmap-type%3Dhigh-availability")
            for cm in (lst or {}).get("items", []):
                KUBE.req("DELETE", f"/api/v1/namespaces/{self.ns}/configmaps/{cm['metadata']['name']}")

    # --- lifecycle
    def start(self):
        """The JobManager process starts: decide where the job restores from, as Flink does."""
        jid = self.conf.get("$internal.pipeline.job-id") or self.conf.get("pipeline.fixed-job-id") or "%032x" % random.getrandbits(128)
        par = int(self.conf.get("parallelism.default", "1") or 1)
        job = Job(jid, self.conf.get("pipeline.name", self.name), par)
        sp = self.conf.get("execution.savepoint.path") or self.conf.get("execution.state-recovery.path")
        self.submit(job, sp, self.ha_latest_checkpoint(jid) if self.ha() else None, only=True)

    def submit(self, job, sp, ha_cp=None, only=False):
        """A job starts in this cluster (its only one, or one more in a session cluster), restoring
        the HA checkpoint, else the savepoint path (as Flink does), else nothing."""
        jid, par = job.jid, job.parallelism
        restored, kind = None, "none"
        if ha_cp:
            restored, kind = ha_cp[1], "ha-checkpoint"
            job.next_cp = ha_cp[0] + 1
        elif sp:
            restored, kind = sp, "savepoint"
        failed = None
        if restored and not os.path.isdir(local_path(restored)):
            failed = f"java.io.FileNotFoundException: Cannot find checkpoint or savepoint file/directory '{restored}' on file system 'file'."
        if restored:
            job.restored = (job.next_cp - 1, restored, now_ms(), kind == "savepoint")
        with LOCK:
            if only:
                self.jobs = {jid: job}
            else:
                self.jobs[jid] = job
        threading.Thread(target=self.make_taskmanagers, args=(par,), daemon=True).start()
        record("job-started", self.key, jobId=jid, restoredFrom=restored, restoreKind=kind, parallelism=par,
               ha=self.ha(), image=self.conf.get("kubernetes.container.image.ref"))
        if failed:
            self.set_state(job, "FAILED", exception=failed)
            return
        threading.Timer(ARGS.job_start_delay, self.schedule, args=(job,)).start()
        threading.Thread(target=self.checkpointer, args=(job,), daemon=True).start()

    def schedule(self, job):
        """As Flink's scheduler: the job, initialized, is CREATED, then RUNNING once deployed."""
        if job.state == "INITIALIZING":
            self.set_state(job, "CREATED")
            self.set_state(job, "RUNNING")

    def set_state(self, job, state, exception=None):
        with LOCK:
            if job.state == state:
                return
            job.state, job.modified = state, now_ms()
            job.timestamps[state] = job.modified
            if state in TERMINAL:
                job.end = now_ms()
            if exception:
                job.exceptions.append({"exceptionName": exception.split(":")[0], "stacktrace": exception,
                                       "timestamp": now_ms(), "taskName": None, "endpoint": None, "taskManagerId": None, "failureLabels": {}})
        record("job-state", self.key, jobId=job.jid, state=state)

    def checkpointer(self, job):
        while not self.stopped and job.state not in TERMINAL:
            iv = self.cp_interval()
            time.sleep(iv if iv else 0.5)
            if not iv or job.state != "RUNNING" or self.stopped or not self.cp_dir():
                continue
            cpid, path = self.take_checkpoint(job)
            record("checkpoint", self.key, jobId=job.jid, id=cpid, path=path)
            self.ha_write(job)

    def write_snapshot(self, job, kind, where):
        """The next checkpoint id of `job` and the small files of a `kind` ("checkpoint",
        "savepoint") at where(id): (id, path)."""
        with LOCK:
            cpid = job.next_cp
            job.next_cp += 1
        path = flink_uri(where(cpid))
        os.makedirs(local_path(path), exist_ok=True)
        with open(os.path.join(local_path(path), "_metadata"), "w") as f:
            f.write(json.dumps({"job": job.jid, kind: cpid}))
        return cpid, path

    def take_checkpoint(self, job):
        """A completed checkpoint of `job` in the checkpoint directory: (id, path). As Flink does,
        it subsumes the older ones beyond the number retained (execution.checkpointing.num-retained,
        before 1.20 state.checkpoints.num-retained, 1): their directories are deleted."""
        cpid, path = self.write_snapshot(job, "checkpoint", lambda i: f"{self.cp_dir().rstrip('/')}/{job.jid}/chk-{i}")
        with LOCK:
            job.checkpoints.append((cpid, path, now_ms()))
            keep = self.cp_retained(job)
            subsumed = [x for x in job.checkpoints[:-keep] if x[0] not in job.discarded]
            job.discarded.update(x[0] for x in subsumed)
        for _, old, _ in subsumed:
            shutil.rmtree(local_path(old), ignore_errors=True)
        return cpid, path

    def cp_retained(self, job):
        conf = dict(self.conf)
        conf.update(job.conf or {})
        v = conf.get("execution.checkpointing.num-retained") or conf.get("state.checkpoints.num-retained") or "1"
        try:
            return max(1, int(v))
        except ValueError:
            return 1

    def stats_cache_s(self):
        """How long Flink's REST API serves a job's checkpoint statistics from its cache:
        rest.cache.checkpoint-statistics.timeout, else web.refresh-interval (3 s)."""
        v = self.conf.get("rest.cache.checkpoint-statistics.timeout") or self.conf.get("web.refresh-interval")
        return parse_duration_s(v, 3.0)

    def savepoint(self, job, trigger, target, then):
        time.sleep(ARGS.savepoint_delay)
        if self.faults.pop("fail_next_savepoint", False) or job.state != "RUNNING":
            with LOCK:
                job.savepoints[trigger] = {"status": "COMPLETED", "failure": "java.util.concurrent.CompletionException: Savepoint failed"}
            record("savepoint-failed", self.key, jobId=job.jid, trigger=trigger)
            return
        if not target:
            with LOCK:
                job.savepoints[trigger] = {"status": "COMPLETED", "failure": "java.lang.IllegalStateException: No savepoint directory configured"}
            return
        cpid, path = self.write_snapshot(job, "savepoint", lambda i: f"{target.rstrip('/')}/savepoint-{job.jid[:6]}-{random.getrandbits(48):012x}")
        with LOCK:
            job.savepoints[trigger] = {"status": "COMPLETED", "location": path}
            job.latest_savepoint = (cpid, path, now_ms())
        record("savepoint", self.key, jobId=job.jid, trigger=trigger, path=path)
        if then:
            self.set_state(job, then)

    def cancel(self, job):
        self.set_state(job, "CANCELLING")
        threading.Timer(ARGS.cancel_delay, lambda: self.canceled(job)).start()

    def canceled(self, job):
        """Flink discards a cancelled job's checkpoints unless its configuration retains them
        (execution.checkpointing.externalized-checkpoint-retention: RETAIN_ON_CANCELLATION; the
        default, NO_EXTERNALIZED_CHECKPOINTS, never retains them after termination)."""
        conf = dict(self.conf)
        conf.update(job.conf or {})
        if conf.get("execution.checkpointing.externalized-checkpoint-retention") != "RETAIN_ON_CANCELLATION":
            with LOCK:
                gone, job.checkpoints = job.checkpoints, []
            for _, path, _ in gone:
                shutil.rmtree(local_path(path), ignore_errors=True)
            if gone:
                record("checkpoints-discarded", self.key, jobId=job.jid, n=len(gone))
        self.set_state(job, "CANCELED")

    def stop(self):
        self.stopped = True
        self.ready = False
        record("cluster-stopped", self.key)


# ---------------------------------------------------------------- REST
def tasks_of(job):
    t = dict(total=1, created=0, scheduled=0, deploying=0, running=0, finished=0, canceling=0, canceled=0,
             failed=0, reconciling=0, initializing=0)
    key = {"RUNNING": "running", "FINISHED": "finished", "CANCELED": "canceled", "CANCELLING": "canceling",
           "FAILED": "failed", "INITIALIZING": "initializing", "CREATED": "created"}.get(job.state, "created")
    t[key] = 1
    return t


def cp_stats(cpid, path, ts, is_sp):
    return {"className": "completed", "id": cpid, "status": "COMPLETED", "is_savepoint": is_sp, "trigger_timestamp": ts,
            "latest_ack_timestamp": ts, "state_size": 1024, "end_to_end_duration": 5, "alignment_buffered": 0,
            "processed_data": 0, "persisted_data": 0, "num_subtasks": 1, "num_acknowledged_subtasks": 1,
            "checkpoint_type": "SAVEPOINT" if is_sp else "CHECKPOINT", "tasks": {}, "external_path": path, "discarded": False}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def err(self, code, msg):
        self.send(code, {"errors": [msg]})

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return None

    def route(self, method):
        u = urllib.parse.urlparse(self.path)
        parts = [p for p in u.path.split("/") if p]
        if len(parts) >= 4 and parts[0] == "_sim" and parts[1] == "restart" and method == "POST":
            with LOCK:
                c = CLUSTERS.get("/".join(parts[2:4]))
            if not c:
                return self.err(404, "no such cluster")
            c.start()  # a new JobManager process: the job starts again from its configuration
            return self.send(200, {})
        if len(parts) >= 3 and parts[0] == "_sim" and parts[1] == "faults" and method == "POST":
            key = "/".join(parts[2:4])
            b = self.body() or {}
            with LOCK:
                c = CLUSTERS.get(key)
                if not c:  # remembered for the cluster's first start
                    PENDING_FAULTS.setdefault(key, {}).update(b)
                    return self.send(200, {"pending": PENDING_FAULTS[key]})
            c.faults.update(b)
            if b.get("fail_job"):
                for j in list(c.jobs.values()):
                    c.set_state(j, "FAILED", exception="java.lang.RuntimeException: injected failure")
                c.faults.pop("fail_job", None)
            if b.get("lose_ha"):
                c.ha_delete()
                c.faults.pop("lose_ha", None)
            return self.send(200, {"faults": c.faults})
        if len(parts) < 2:
            return self.err(404, "Not found: " + u.path)
        key = parts[0] + "/" + parts[1]
        rest = parts[2:]
        q = urllib.parse.parse_qs(u.query)
        if ARGS.record_requests and method != "GET":
            record("rest-call", key, method=method, path="/" + "/".join(rest))
        with LOCK:
            c = CLUSTERS.get(key)
        if not c or not c.ready or c.stopped:
            # nothing listens: as a connection refused would look to a real client
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        if c.faults.get("rest_timeout"):
            time.sleep(float(c.faults["rest_timeout"]))
        if c.faults.get("rest_500"):
            c.faults["rest_500"] = int(c.faults["rest_500"]) - 1
            if c.faults["rest_500"] <= 0:
                c.faults.pop("rest_500")
            return self.err(500, "Internal server error.")
        if c.faults.get("garbage"):
            data = b"<html>not json"
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            return self.wfile.write(data)
        if method == "GET" and rest == ["config"]:
            return self.send(200, {"refresh-interval": 3000, "timezone-name": "Coordinated Universal Time", "timezone-offset": 0,
                                   "flink-version": ARGS.flink_version, "flink-revision": "flinksim @ " + time.strftime("%Y-%m-%d"),
                                   "features": {"web-submit": False, "web-cancel": False, "web-rescale": False, "web-history": False}})
        if method == "GET" and rest == ["jobs", "overview"]:
            with LOCK:
                jobs = [{"jid": j.jid, "name": j.name, "start-time": j.start, "end-time": j.end,
                         "duration": (j.end if j.end > 0 else now_ms()) - j.start, "state": j.state,
                         "last-modification": j.modified, "tasks": tasks_of(j)} for j in c.jobs.values()]
            return self.send(200, {"jobs": jobs})
        if len(rest) >= 2 and rest[0] == "jobs":
            with LOCK:
                job = c.jobs.get(rest[1])
            if not job:
                return self.err(404, f"org.apache.flink.runtime.rest.NotFoundException: Job {rest[1]} not found")
            tail = rest[2:]
            if method == "GET" and tail == []:  # the job's details: its states and when it entered them
                with LOCK:
                    d = {"jid": job.jid, "name": job.name, "isStoppable": False, "state": job.state, "start-time": job.start,
                         "end-time": job.end, "duration": (job.end if job.end > 0 else now_ms()) - job.start,
                         "maxParallelism": -1, "now": now_ms(), "timestamps": {k: job.timestamps.get(k, 0) for k in JOB_STATES},
                         "vertices": [], "status-counts": tasks_of(job), "plan": {"jid": job.jid, "name": job.name, "nodes": []}}
                return self.send(200, d)
            if method == "PATCH" and tail == []:
                if (q.get("mode") or ["cancel"])[0].lower() != "cancel":
                    return self.err(400, "Only cancel mode is supported")
                if job.state in TERMINAL:
                    return self.err(409, f"Job cancellation failed because the job has already reached another terminal state ({job.state}).")
                c.cancel(job)
                return self.send(202, {})
            if method == "POST" and tail in (["savepoints"], ["stop"]):
                b = self.body()
                if b is None:
                    return self.err(400, "Request body is not valid JSON")
                if job.state in TERMINAL:
                    return self.err(409, f"Job {job.jid} is not running ({job.state}).")
                if "triggerId" in b and c.flink_version() < (1, 15):
                    # Flink before 1.15 reads the body strictly and has no caller's trigger id
                    return self.err(400, "Request did not match expected format SavepointTriggerRequestBody.")
                trigger = b.get("triggerId") or "%032x" % random.getrandbits(128)
                with LOCK:
                    job.savepoints[trigger] = {"status": "IN_PROGRESS"}
                if tail == ["stop"]:
                    target = b.get("targetDirectory") or c.conf.get("state.savepoints.dir") or c.conf.get("execution.checkpointing.savepoint-dir")
                    then = "FINISHED"
                else:
                    target = b.get("target-directory") or c.conf.get("state.savepoints.dir") or c.conf.get("execution.checkpointing.savepoint-dir")
                    then = "CANCELED" if b.get("cancel-job") else None
                threading.Thread(target=c.savepoint, args=(job, trigger, target, then), daemon=True).start()
                return self.send(202, {"request-id": trigger})
            if method == "POST" and tail == ["checkpoints"] and c.flink_version() >= (1, 17):
                # a checkpoint on demand (CheckpointTriggerHandler, Flink 1.17+): taken now
                b = self.body()
                if b is None or set(b) - {"checkpointType", "triggerId"}:
                    return self.err(400, "Request did not match expected format CheckpointTriggerRequestBody.")
                if job.state != "RUNNING":
                    return self.err(409, f"Job {job.jid} is not running ({job.state}).")
                if not c.cp_dir():
                    return self.err(500, "java.lang.IllegalStateException: no checkpoint storage directory")
                trigger = b.get("triggerId") or "%032x" % random.getrandbits(128)
                cpid, path = c.take_checkpoint(job)
                with LOCK:
                    job.cp_triggers[trigger] = cpid
                record("checkpoint", c.key, jobId=job.jid, id=cpid, path=path, trigger=trigger)
                return self.send(202, {"request-id": trigger})
            if method == "GET" and len(tail) == 2 and tail[0] == "checkpoints" and c.flink_version() >= (1, 17):
                with LOCK:
                    cpid = job.cp_triggers.get(tail[1])
                if cpid is None:
                    return self.err(404, "There is no checkpoint operation with triggerId=" + tail[1])
                return self.send(200, {"status": {"id": "COMPLETED"}, "operation": {"checkpointId": cpid}})
            if method == "GET" and len(tail) == 2 and tail[0] == "savepoints":
                with LOCK:
                    sp = job.savepoints.get(tail[1])
                if not sp:
                    return self.err(404, "There is no savepoint operation with triggerId=" + tail[1])
                if sp["status"] == "IN_PROGRESS":
                    return self.send(200, {"status": {"id": "IN_PROGRESS"}, "operation": None})
                op = {"location": sp["location"]} if "location" in sp else {"failure-cause": {"class": "java.util.concurrent.CompletionException", "stack-trace": sp["failure"], "serialized-throwable": base64.b64encode(sp["failure"].encode()).decode()}}
                return self.send(200, {"status": {"id": "COMPLETED"}, "operation": op})
            if method == "GET" and tail == ["checkpoints"]:
                if not c.cp_interval():
                    return self.err(404, "Checkpointing has not been enabled.")
                # as Flink, from a cache of the statistics written at most stats_cache_s() ago: a
                # view that may be from before the job's last checkpoints, or its end
                with LOCK:
                    cached = job.stats_cache
                    if not cached or time.monotonic() - cached[0] >= c.stats_cache_s():
                        cps = list(job.checkpoints)
                        lsp = job.latest_savepoint
                        restored = job.restored
                        disc = set(job.discarded)
                        latest = {"completed": cp_stats(*cps[-1], False) if cps else None,
                                  "savepoint": cp_stats(*lsp, True) if lsp else None, "failed": None,
                                  "restored": {"id": restored[0], "restore_timestamp": restored[2], "is_savepoint": restored[3],
                                               "external_path": restored[1]} if restored else None}
                        hist = [dict(cp_stats(*x, False), discarded=x[0] in disc) for x in reversed(cps[-10:])]
                        cached = job.stats_cache = (time.monotonic(), {
                            "counts": {"restored": 1 if restored else 0, "total": len(cps), "in_progress": 0,
                                       "completed": len(cps), "failed": 0},
                            "summary": {}, "latest": latest, "history": hist})
                return self.send(200, cached[1])
            if method == "GET" and tail == ["metrics"]:
                # the job's metrics Flink serves by name (?get=a,b): unknown names are left out
                names = (urllib.parse.parse_qs(u.query).get("get") or [""])[0].split(",")
                with LOCK:
                    vals = {"numRestarts": str(len(job.exceptions)),
                            "numberOfCompletedCheckpoints": str(len(job.checkpoints))}
                return self.send(200, [{"id": n, "value": vals[n]} for n in names if n in vals])
            if method == "GET" and tail == ["exceptions"]:
                with LOCK:
                    ex = list(job.exceptions)
                return self.send(200, {"exceptionHistory": {"entries": list(reversed(ex)), "truncated": False},
                                       "root-exception": ex[-1]["stacktrace"] if ex else None,
                                       "timestamp": ex[-1]["timestamp"] if ex else None, "all-exceptions": [], "truncated": False})
            return self.err(404, "Not found: " + u.path)
        if rest[:1] == ["jars"] and c.session:  # (an application cluster has no web submission)
            return self.jars(c, method, rest[1:])
        if method == "POST" and rest == ["savepoint-disposal"]:
            b = self.body() or {}
            p = local_path(b.get("savepoint-path"))
            trigger = "%032x" % random.getrandbits(128)
            if p and os.path.isdir(p):
                import shutil
                shutil.rmtree(p)
                record("savepoint-disposed", c.key, path=b.get("savepoint-path"))
            return self.send(202, {"request-id": trigger})
        return self.err(404, "Not found: " + u.path)

    def jars(self, c, method, rest):
        """A session cluster's jars, as Flink's web submission answers (JarUploadHandler,
        JarRunHandler, JarDeleteHandler, JarListHandler): one .jar per upload, kept until deleted;
        a run starts the job under the id asked for."""
        if method == "POST" and rest == ["upload"]:
            ctype = self.headers.get("Content-Type") or ""
            m = re.search(r"boundary=\"?([^\";]+)", ctype)
            n = int(self.headers.get("Content-Length") or 0)
            if not ctype.startswith("multipart/form-data") or not m or n <= 0 or n > 64 << 20:
                return self.err(400, "Request did not match expected format JarUploadRequestBody.")
            raw = self.rfile.read(n)
            files = []
            for part in raw.split(b"--" + m.group(1).encode())[1:-1]:
                head, _, data = part.partition(b"\r\n\r\n")
                fn = re.search(rb'filename="([^"]*)"', head)
                if fn:
                    files.append((fn.group(1).decode(), data[:-2] if data.endswith(b"\r\n") else data))
            if len(files) != 1:
                return self.err(400, "Exactly 1 file must be sent, received %d." % len(files))
            name, data = files[0]
            if not name.endswith(".jar"):
                return self.err(400, "Only Jar files are allowed.")
            jar_id = "%s_%s" % (uuid.uuid4(), os.path.basename(name))
            with LOCK:
                c.jars[jar_id] = data
            record("jar-uploaded", c.key, jar=jar_id, size=len(data))
            return self.send(200, {"filename": "/tmp/flink-web-sim/flink-web-upload/" + jar_id, "status": "success"})
        if method == "GET" and rest == []:
            with LOCK:
                ids = list(c.jars)
            return self.send(200, {"address": "http://sim:8081", "files": [
                {"id": i, "name": i.split("_", 1)[-1], "uploaded": 0, "entry": []} for i in ids]})
        if len(rest) == 1 and method == "DELETE":
            with LOCK:
                gone = c.jars.pop(rest[0], None)
            if gone is None:
                return self.err(400, "File %s does not exist in /tmp/flink-web-sim/flink-web-upload." % rest[0])
            record("jar-deleted", c.key, jar=rest[0])
            return self.send(200, {})
        if len(rest) == 2 and rest[1] == "run" and method == "POST":
            with LOCK:
                have = rest[0] in c.jars
            if not have:
                return self.err(400, "Jar file /tmp/flink-web-sim/flink-web-upload/%s does not exist" % rest[0])
            b = self.body()
            known = {"entryClass", "programArgs", "programArgsList", "parallelism", "jobId", "allowNonRestoredState",
                     "savepointPath", "restoreMode", "claimMode", "flinkConfiguration"}
            if b is None or set(b) - known:
                return self.err(400, "Request did not match expected format JarRunRequestBody.")
            if "claimMode" in b and c.flink_version() < (1, 20) or "restoreMode" in b and c.flink_version() < (1, 15) \
                    or "flinkConfiguration" in b and c.flink_version() < (1, 17):
                return self.err(400, "Request did not match expected format JarRunRequestBody.")
            jid = b.get("jobId") or "%032x" % random.getrandbits(128)
            with LOCK:
                dup = jid in c.jobs and c.jobs[jid].state not in TERMINAL
            if dup:
                return self.err(500, "org.apache.flink.runtime.client.DuplicateJobSubmissionException: Job has already been submitted.")
            conf = b.get("flinkConfiguration") or {}
            job = Job(jid, conf.get("pipeline.name") or rest[0].split("_", 1)[-1], int(b.get("parallelism") or c.conf.get("parallelism.default", "1") or 1))
            job.jar = rest[0]
            job.conf = conf
            record("session-job-run", c.key, jobId=jid, jar=rest[0], args=b.get("programArgsList"), entryClass=b.get("entryClass"))
            c.submit(job, b.get("savepointPath"))
            return self.send(200, {"jobid": jid})
        return self.err(404, "Not found: /" + "/".join(["jars"] + rest))

    def do_GET(self):
        self.route("GET")

    def do_DELETE(self):
        self.route("DELETE")

    def do_POST(self):
        self.route("POST")

    def do_PATCH(self):
        self.route("PATCH")


# ---------------------------------------------------------------- Kubernetes mode
def legacy_conf(text):
    """flink-conf.yaml as Flink before 1.19 reads it: per line, '#' starts a comment, then the key
    and the value around the first ': ', trimmed; no quoting of any kind."""
    conf = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        kv = line.split(": ", 1)
        if len(kv) == 2 and kv[0].strip() and kv[1].strip():
            conf[kv[0].strip()] = kv[1].strip()
    return conf


def read_flink_conf(ns, name):
    """The JobManager's configuration, read the way Flink reads it: config.yaml (Flink 1.19+) as
    YAML, else flink-conf.yaml with Flink's own line parser (so a value the operator quoted there
    keeps its quotes, as it would in Flink)."""
    code, cm = KUBE.req("GET", f"/api/v1/namespaces/{ns}/configmaps/flink-config-{name}")
    if code != 200 or not cm:
        return None
    import yaml_lite
    data = cm.get("data") or {}
    if "config.yaml" in data:
        raw = yaml_lite.load(data["config.yaml"]) or {}
    else:
        raw = legacy_conf(data.get("flink-conf.yaml") or "")
    conf = {}
    for k, v in raw.items():
        if isinstance(v, list):
            v = ";".join(str(x) for x in v)
        conf[k] = "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
    return conf


JAVA17_OPENS = "--add-opens=java.base/java.util=ALL-UNNAMED"


def tmpl_type(dep):
    return dep["spec"]["template"].get("metadata", {}).get("labels", {}).get("type")


def is_session(dep):
    """A session JobManager (Flink's session entry point, or the image's jobmanager command): it
    runs no job of its own."""
    tmpl = dep["spec"]["template"]
    mains = [c for c in tmpl.get("spec", {}).get("containers", []) if c.get("name") == "flink-main-container"]
    args = (mains[0].get("args") or []) if mains else []
    if tmpl.get("metadata", {}).get("labels", {}).get("component") == "taskmanager":
        return False
    return args == ["bash", "-c", "kubernetes-jobmanager.sh kubernetes-session"] or args[:1] == ["jobmanager"]


def refusal(dep, conf):
    """Why the Flink image would not run this Deployment's pod (what its container would print
    before it exits), or None. The simulator starts nothing the real image would not start."""
    tmpl = dep["spec"]["template"]
    labels = tmpl.get("metadata", {}).get("labels", {})
    mains = [c for c in tmpl.get("spec", {}).get("containers", []) if c.get("name") == "flink-main-container"]
    if not mains:
        return "no container flink-main-container"
    c = mains[0]
    cmd, args = c.get("command") or ["/docker-entrypoint.sh"], c.get("args") or []
    if cmd != ["/docker-entrypoint.sh"]:
        return f"{cmd[0]}: not the image's entry point"
    native = labels.get("type") != "flink-standalone-kubernetes"
    if labels.get("component") == "taskmanager":
        ok = args[:1] == ["taskmanager"]
    elif native:
        ok = args in (["bash", "-c", "kubernetes-jobmanager.sh kubernetes-application"],
                      ["bash", "-c", "kubernetes-jobmanager.sh kubernetes-session"])
    else:
        ok = args[:1] in (["standalone-job"], ["jobmanager"])
    if not ok:
        # the entry point runs an unknown first argument as a command
        return f"exec: {args[0] if args else 'help'}: not found" if args and args[0] not in ("bash",) else f"unexpected arguments {args}"
    if conf is None:
        return "no flink-config ConfigMap to mount"
    for k in ("jobmanager.memory.process.size", "taskmanager.memory.process.size"):
        if not conf.get(k) and labels.get("component") != "taskmanager":
            return f"Could not get JVM parameters: {k} is not set"
    opts = conf.get("env.java.default-opts.all", "") + " " + conf.get("env.java.opts.all", "")
    if JAVA17_OPENS not in opts:
        return "module java.base does not \"opens java.util\" to unnamed module (Java 17 without the module options)"
    if not conf.get("$internal.pipeline.job-id") and labels.get("component") != "taskmanager" and not is_session(dep):
        return "no job id"
    if labels.get("component") != "taskmanager" and native and args[-1].endswith("kubernetes-application"):
        if not conf.get("pipeline.jars"):
            return "the application's jar is not set (pipeline.jars)"
    if labels.get("component") != "taskmanager" and not native and args[:1] == ["standalone-job"]:
        cps = [x for x in conf.get("pipeline.classpaths", "").split(";") if x]
        bad = [x for x in cps if not x.startswith(("file:", "http:", "https:"))]
        if bad:
            return f"java.net.MalformedURLException: unknown protocol: {bad[0].split(':', 1)[0]}"
        if not cps and "--job-classname" not in args:
            return "no job jar on the classpath (pipeline.classpaths) and no --job-classname"
    return None


def set_deployment_status(dep, ready):
    m = dep["metadata"]
    replicas = dep["spec"].get("replicas", 1)
    t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    st = {"observedGeneration": m.get("generation", 1), "replicas": replicas, "updatedReplicas": replicas,
          "readyReplicas": replicas if ready else 0, "availableReplicas": replicas if ready else 0,
          "unavailableReplicas": 0 if ready else replicas,
          "conditions": [{"type": "Available", "status": "True" if ready else "False",
                          "reason": "MinimumReplicasAvailable" if ready else "MinimumReplicasUnavailable",
                          "message": "Deployment has minimum availability." if ready else "Deployment does not have minimum availability.",
                          "lastUpdateTime": t, "lastTransitionTime": t},
                         {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable" if ready else "ReplicaSetUpdated",
                          "message": "ReplicaSet is progressing.", "lastUpdateTime": t, "lastTransitionTime": t}]}
    KUBE.req("PATCH", f"/apis/apps/v1/namespaces/{m['namespace']}/deployments/{m['name']}/status", {"status": st},
             "application/merge-patch+json")


def start_cluster_later(dep):
    m = dep["metadata"]
    ns, name, uid = m["namespace"], m["name"], m["uid"]
    key = f"{ns}/{name}"
    time.sleep(ARGS.start_delay)
    conf = None
    for _ in range(50):
        conf = read_flink_conf(ns, name)
        if conf is not None:
            break
        time.sleep(0.1)
    with LOCK:
        c = CLUSTERS.get(key)
        if not c or c.uid != uid or c.stopped:
            return
        c.conf = conf or {}
    why = refusal(dep, conf)
    if why:
        record("jobmanager-refused", key, reason=why)
    if c.faults.get("crashloop") or why:
        # what a real cluster shows: the JobManager pod's container waits in CrashLoopBackOff
        record("jobmanager-crashloop", key)
        set_deployment_status(dep, False)
        pod = f"{name}-{random.getrandbits(32):08x}"
        tmpl = dep["spec"]["template"]
        KUBE.req("POST", f"/api/v1/namespaces/{ns}/pods",
                 {"metadata": {"name": pod, "namespace": ns, "labels": tmpl["metadata"].get("labels", {}),
                               # owned, as a real pod is (through its ReplicaSet): the garbage collector removes it with the Deployment
                               "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": dep["metadata"]["name"],
                                                    "uid": dep["metadata"]["uid"]}]},
                  "spec": {"automountServiceAccountToken": False,
                           "containers": [{"name": ct["name"], "image": ct.get("image", "flink")} for ct in tmpl["spec"]["containers"]]}})
        t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        KUBE.req("PATCH", f"/api/v1/namespaces/{ns}/pods/{pod}/status", {"status": {"phase": "Running", "containerStatuses": [
            {"name": "flink-main-container", "ready": False, "restartCount": 5, "image": "flink", "imageID": "", "started": False,
             "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s restarting failed container=flink-main-container"}},
             "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "message": why or "Could not start the JobManager.",
                                          "startedAt": t, "finishedAt": t}}}]}}, "application/merge-patch+json")
        return
    c.ready = True
    c.native = tmpl_type(dep) != "flink-standalone-kubernetes"
    c.session = is_session(dep)
    set_deployment_status(dep, True)
    record("jobmanager-started", key, generation=m.get("generation"), session=is_session(dep))
    if not is_session(dep):
        c.start()


def on_deployment(kind, dep):
    m = dep["metadata"]
    key = f"{m['namespace']}/{m['name']}"
    replicas = dep.get("spec", {}).get("replicas", 1)
    with LOCK:
        c = CLUSTERS.get(key)
        alive = c is not None and not c.stopped and c.uid == m.get("uid") and c.pod_generation == m.get("generation")
    if kind == "DELETED" or replicas == 0 or m.get("deletionTimestamp"):
        if c and not c.stopped:
            c.stop()
        return
    if alive:
        return
    if c and not c.stopped:
        c.stop()  # a new pod template: the old JobManager goes away, a new one starts
    nc = Cluster(m["namespace"], m["name"], {})
    nc.uid, nc.pod_generation = m.get("uid"), m.get("generation")
    if c:
        nc.faults = {k: v for k, v in c.faults.items() if k in ("crashloop", "fail_next_savepoint")}
    with LOCK:
        nc.faults.update(PENDING_FAULTS.pop(key, {}))
        CLUSTERS[key] = nc
    threading.Thread(target=start_cluster_later, args=(dep,), daemon=True).start()


def watch_deployments(ns):
    path = f"/apis/apps/v1/namespaces/{ns}/deployments" if ns else "/apis/apps/v1/deployments"
    path += "?labelSelector=component%3Djobmanager"
    while True:
        try:
            code, lst = KUBE.req("GET", path)
            if code != 200:
                time.sleep(1)
                continue
            for d in lst["items"]:
                on_deployment("ADDED", d)
            # a Deployment deleted while the watch was down is not in the list: its JobManager is
            # gone too (an informer's re-list says so with a delete)
            listed = {f"{d['metadata']['namespace']}/{d['metadata']['name']}" for d in lst["items"]}
            with LOCK:
                gone = [c for k, c in CLUSTERS.items()
                        if k not in listed and not c.stopped and c.uid and (not ns or c.ns == ns)]
            for c in gone:
                c.stop()
            rv = lst["metadata"]["resourceVersion"]
            while True:
                with KUBE.watch(path, rv) as resp:
                    for line in resp:
                        ev = json.loads(line)
                        if ev["type"] == "ERROR":
                            raise RuntimeError("gone")
                        rv = ev["object"]["metadata"].get("resourceVersion", rv)
                        if ev["type"] != "BOOKMARK":
                            on_deployment(ev["type"], ev["object"])
        except Exception as e:  # noqa: BLE001 - re-list on anything
            print(json.dumps({"msg": "watch restarted", "error": str(e)}), file=sys.stderr, flush=True)
            time.sleep(0.5)


def main():
    global ARGS, KUBE
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", default="127.0.0.1:0")
    ap.add_argument("--state-file", required=True)
    ap.add_argument("--data-root", required=True, help="where file:// and s3:// paths live")
    ap.add_argument("--kubeconfig")
    ap.add_argument("--namespace", action="append")
    ap.add_argument("--standalone", help="NS/NAME: one cluster without Kubernetes")
    ap.add_argument("--config", help="Flink configuration (flat YAML) for --standalone")
    ap.add_argument("--session", action="store_true", help="--standalone is a session cluster (no job of its own; jars run)")
    ap.add_argument("--start-delay", type=float, default=0.5)
    ap.add_argument("--job-start-delay", type=float, default=0.3)
    ap.add_argument("--savepoint-delay", type=float, default=0.5)
    ap.add_argument("--cancel-delay", type=float, default=0.2)
    ap.add_argument("--checkpoint-interval", type=float, default=0, help="override (seconds) for configured intervals")
    ap.add_argument("--flink-version", default="1.20.0")
    ap.add_argument("--port-file", help="write the bound port here")
    ap.add_argument("--taskmanager-pods", action=argparse.BooleanOptionalAction, default=True,
                    help="native mode: create the TaskManager pods, as Flink does (the controller benchmark turns it off: it measures the controller)")
    ap.add_argument("--record-requests", action="store_true", help="record every POST/PATCH (benchmarks: reaction latency)")
    ARGS = ap.parse_args()
    os.makedirs(ARGS.data_root, exist_ok=True)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    host, port = ARGS.listen.rsplit(":", 1)
    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                super().handle_error(request, client_address)  # a client that gave up is not an error

    srv = Server((host, int(port)), Handler)
    srv.daemon_threads = True
    if ARGS.port_file:
        with open(ARGS.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(ARGS.port_file + ".tmp", ARGS.port_file)
    if ARGS.standalone:
        import yaml_lite
        ns, name = ARGS.standalone.split("/", 1)
        conf = {k: ("" if v is None else str(v).lower() if isinstance(v, bool) else str(v))
                for k, v in (yaml_lite.load(open(ARGS.config).read()) if ARGS.config else {}).items()}
        c = Cluster(ns, name, conf)
        c.ready = True
        c.session = ARGS.session
        CLUSTERS[c.key] = c
        if not c.session:
            c.start()
    if ARGS.kubeconfig:
        KUBE = Kube(ARGS.kubeconfig)
        for ns in (ARGS.namespace or [None]):
            threading.Thread(target=watch_deployments, args=(ns,), daemon=True).start()
    print(json.dumps({"msg": "flinksim serving", "port": srv.server_address[1]}), file=sys.stderr, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
