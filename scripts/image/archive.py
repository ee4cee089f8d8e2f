#!/usr/bin/env python3
"""Writes a container image as a docker-archive (the tar `docker save` writes and
`ctr images import` reads) from layer tars, without a container engine or a registry.

  archive.py --out IMAGE.tar --tag REF [--tag REF...] [--user U] [--entrypoint JSON] [--cmd JSON]
             [--env K=V...] [--workdir DIR] [--label K=V...] LAYER.tar [LAYER.tar...]

The archive holds manifest.json ([{"Config", "RepoTags", "Layers"}]), the image configuration
(architecture, os, config.{Env,Entrypoint,Cmd,User,WorkingDir,Labels}, rootfs.diff_ids = the
sha256 of each uncompressed layer tar, history) named by its own sha256, and each layer as
<diff_id>/layer.tar. Tags are written as given: give the normalised reference
(docker.io/library/NAME:TAG), which is what a pod's `image: NAME:TAG` looks for. The output is
deterministic: the same layers and options give the same bytes. Prints the image id (sha256 of
the configuration)."""
import argparse
import hashlib
import io
import json
import os
import re
import sys
import tarfile

REF = re.compile(r"^[a-z0-9]+([._-][a-z0-9]+)*(\.[a-z0-9-]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+:[\w][\w.-]{0,127}$")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def json_list(text, what):
    try:
        v = json.loads(text)
    except ValueError:
        sys.exit(f"archive.py: --{what} is not JSON: {text}")
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        sys.exit(f"archive.py: --{what} must be a JSON array of strings")
    return v


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--tag", action="append", required=True)
    ap.add_argument("--user", default="")
    ap.add_argument("--entrypoint", default="[]")
    ap.add_argument("--cmd", default="[]")
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("--workdir", default="/")
    ap.add_argument("--label", action="append", default=[])
    ap.add_argument("layers", nargs="+")
    a = ap.parse_args()
    for t in a.tag:
        if not REF.match(t):
            sys.exit(f"archive.py: tag {t!r} is not a normalised reference (registry/path:tag)")
    for kv in a.env + a.label:
        if "=" not in kv:
            sys.exit(f"archive.py: {kv!r} is not KEY=VALUE")
    for layer in a.layers:
        if not tarfile.is_tarfile(layer):
            sys.exit(f"archive.py: {layer} is not a tar file")

    diff_ids = ["sha256:" + sha256_file(layer) for layer in a.layers]
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": a.user,
            "Env": a.env,
            "Entrypoint": json_list(a.entrypoint, "entrypoint"),
            "Cmd": json_list(a.cmd, "cmd") or None,
            "WorkingDir": a.workdir,
            "Labels": dict(kv.split("=", 1) for kv in a.label),
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": f"layer {os.path.basename(p)}"} for p in a.layers],
    }
    if config["config"]["Cmd"] is None:
        del config["config"]["Cmd"]
    cfg = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    cfg_id = hashlib.sha256(cfg).hexdigest()
    layer_names = [f"{d[len('sha256:'):]}/layer.tar" for d in diff_ids]
    manifest = [{"Config": f"{cfg_id}.json", "RepoTags": a.tag, "Layers": layer_names}]

    tmp = a.out + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        add_bytes(tar, f"{cfg_id}.json", cfg)
        for path, name in zip(a.layers, layer_names):
            info = tar.gettarinfo(path, arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o644
            with open(path, "rb") as f:
                tar.addfile(info, f)
        add_bytes(tar, "manifest.json", json.dumps(manifest, separators=(",", ":")).encode())
    os.replace(tmp, a.out)
    print(f"sha256:{cfg_id}")


if __name__ == "__main__":
    main()
