#!/usr/bin/env python3
"""Reads from the project's Dockerfile what scripts/image/build.sh needs to build the same image
without a container engine, and prints it as shell assignments (eval them):

  FO_SUITE            Debian suite of the runtime stage's base (debian:bookworm-slim -> bookworm)
  FO_PACKAGES         packages the runtime stage installs (space-separated)
  FO_CMAKE_OPTIONS    the -D options of the build stage's cmake configure
  FO_PROGRAMS         paths the runtime stage copies from the build stage, relative to DESTDIR
  FO_DEST             the folder they are copied to
  FO_USER             the USER of the runtime stage
  FO_ENTRYPOINT       its ENTRYPOINT as a JSON array
  FO_CMD              its CMD as a JSON array ([] when absent)

One source of truth: change the Dockerfile and both builds follow. Anything it cannot read
exactly is an error (exit 2, with the line), never a guess.
usage: dockerfile.py DOCKERFILE"""
import json
import re
import shlex
import sys


def fail(msg):
    print(f"dockerfile.py: {msg}", file=sys.stderr)
    sys.exit(2)


def instructions(text):
    """(line number, INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    out, buf, start = [], "", 0
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not buf and (not s or s.startswith("#")):
            continue
        if not buf:
            start = n
        if s.endswith("\\"):
            buf += s[:-1] + " "
            continue
        buf += s
        instr, _, rest = buf.partition(" ")
        out.append((start, instr.upper(), rest.strip()))
        buf = ""
    if buf:
        fail("continuation at end of file")
    return out


def main():
    if len(sys.argv) != 2:
        fail("usage: dockerfile.py DOCKERFILE")
    stages = []
    for n, instr, rest in instructions(open(sys.argv[1]).read()):
        if instr == "FROM":
            words = rest.split()
            stages.append({"from": words[0], "name": words[2] if len(words) == 3 and words[1].upper() == "AS" else None,
                           "run": [], "copy": [], "user": None, "entrypoint": None, "cmd": None})
        elif not stages:
            fail(f"line {n}: {instr} before FROM")
        elif instr == "RUN":
            stages[-1]["run"].append((n, rest))
        elif instr == "COPY":
            stages[-1]["copy"].append((n, rest))
        elif instr == "USER":
            stages[-1]["user"] = rest
        elif instr in ("ENTRYPOINT", "CMD"):
            try:
                v = json.loads(rest)
            except ValueError:
                fail(f"line {n}: {instr} must be an exec-form JSON array")
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                fail(f"line {n}: {instr} must be an array of strings")
            stages[-1][instr.lower()] = v
    if len(stages) != 2 or not stages[0]["name"]:
        fail("expected two stages: a named build stage and the runtime stage")
    build, run = stages
    m = re.fullmatch(r"debian:([a-z]+)(-slim)?", run["from"])
    if not m:
        fail(f"runtime base {run['from']} is not debian:<suite>[-slim]")
    suite = m.group(1)

    packages = None
    for n, cmd in run["run"]:
        m = re.search(r"apt-get install -y --no-install-recommends (.*?)(&&|$)", cmd)
        if m:
            if packages is not None:
                fail(f"line {n}: a second apt-get install in the runtime stage")
            packages = m.group(1).split()
    if not packages:
        fail("the runtime stage installs no packages")

    options = None
    for n, cmd in build["run"]:
        for part in cmd.split("&&"):
            words = shlex.split(part)
            if words[:1] == ["cmake"] and "-S" in words:
                options = [w for w in words if w.startswith("-D")]
                if not any(o.startswith("-DCMAKE_BUILD_TYPE=") for o in options):
                    fail(f"line {n}: the cmake configure sets no CMAKE_BUILD_TYPE")
    if options is None:
        fail("the build stage runs no cmake configure")

    programs, dest = [], None
    for n, args in run["copy"]:
        words = args.split()
        if words[0] != f"--from={build['name']}":
            continue
        *srcs, dst = words[1:]
        if not dst.endswith("/") or not all(s.startswith("/out/") for s in srcs):
            fail(f"line {n}: expected COPY --from={build['name']} /out/... DIR/")
        if dest is not None and dst != dest:
            fail(f"line {n}: programs copied to two folders")
        dest = dst
        programs += [s[len("/out"):] for s in srcs]
    if not programs:
        fail("the runtime stage copies nothing from the build stage")
    if not run["user"] or not re.fullmatch(r"\d+(:\d+)?", run["user"]):
        fail("the runtime stage's USER must be numeric (uid[:gid])")
    if not run["entrypoint"]:
        fail("the runtime stage has no ENTRYPOINT")

    values = {
        "FO_SUITE": suite,
        "FO_PACKAGES": " ".join(packages),
        "FO_CMAKE_OPTIONS": " ".join(options),
        "FO_PROGRAMS": " ".join(programs),
        "FO_DEST": dest,
        "FO_USER": run["user"],
        "FO_ENTRYPOINT": json.dumps(run["entrypoint"]),
        "FO_CMD": json.dumps(run["cmd"] or []),
    }
    for k, v in values.items():
        print(f"{k}={shlex.quote(v)}")


if __name__ == "__main__":
    main()
