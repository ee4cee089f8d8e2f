"""Reads the simulated Flink runtime's record (--state FILE): one JSON event per line, each with
"event" (job-started, savepoint, rest-call, ...) and "cluster" (namespace/name). Lines that are
not JSON (a line being written) are skipped. Used by the fault campaign's checks and the
controller benchmark."""
import json


def events(path, event=None, cluster=None):
    """The record's events, in order, optionally only those of one kind and/or one cluster."""
    out = []
    with open(path) as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if (event is None or e.get("event") == event) and (cluster is None or e.get("cluster") == cluster):
                out.append(e)
    return out
