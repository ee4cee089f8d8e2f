"""A small YAML reader for the simulator and test tools (stdlib only): block mappings and
sequences, plain and quoted scalars, comments, JSON-style flow values. Enough for kubeconfigs and
Flink configuration files; anything else raises ValueError."""
import json


def _scalar(s):
    s = s.strip()
    if s == "" or s in ("~", "null", "Null", "NULL"):
        return None
    if s[0] in "[{":
        return json.loads(s)
    if s[0] == '"':
        return json.loads(s)
    if s[0] == "'":
        return s[1:-1].replace("''", "'")
    if s in ("true", "True", "TRUE"):
        return True
    if s in ("false", "False", "FALSE"):
        return False
    try:
        return int(s)
    except ValueError:
        pass
    try:
        return float(s)
    except ValueError:
        return s


def _strip_comment(line):
    out, q = [], None
    for i, ch in enumerate(line):
        if q:
            if ch == q:
                q = None
        elif ch in "'\"":
            q = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            break
        out.append(ch)
    return "".join(out).rstrip()


def _split_key(s):
    q = None
    for i, ch in enumerate(s):
        if q:
            if ch == q:
                q = None
        elif ch in "'\"":
            q = ch
        elif ch == ":" and (i + 1 == len(s) or s[i + 1] == " "):
            return _scalar(s[:i]), s[i + 1:].strip()
    return None, None


def load(text):
    lines = []
    for raw in text.splitlines():
        if raw.strip() in ("---", "..."):
            continue
        line = _strip_comment(raw)
        if line.strip():
            lines.append((len(line) - len(line.lstrip(" ")), line.strip()))
    if not lines:
        return None
    val, pos = _parse(lines, 0, lines[0][0])
    if pos != len(lines):
        raise ValueError("unexpected indentation at: " + lines[pos][1])
    return val


def _parse(lines, pos, indent):
    if lines[pos][1].startswith("- ") or lines[pos][1] == "-":
        out = []
        while pos < len(lines) and lines[pos][0] == indent and (lines[pos][1].startswith("- ") or lines[pos][1] == "-"):
            rest = lines[pos][1][1:].strip()
            if not rest:
                val, pos = _parse(lines, pos + 1, lines[pos + 1][0])
                out.append(val)
                continue
            k, v = _split_key(rest)
            if k is not None and not rest.startswith(("{", "[", '"', "'")):
                # a mapping item: its first key is on the dash line
                sub = [(indent + 2, rest)]
                j = pos + 1
                while j < len(lines) and lines[j][0] > indent:
                    sub.append(lines[j])
                    j += 1
                val, _ = _parse(sub, 0, indent + 2)
                out.append(val)
                pos = j
            else:
                out.append(_scalar(rest))
                pos += 1
        return out, pos
    out = {}
    while pos < len(lines) and lines[pos][0] == indent:
        k, v = _split_key(lines[pos][1])
        if k is None:
            raise ValueError("expected 'key: value' at: " + lines[pos][1])
        if v == "" or v in ("|", ">"):
            if pos + 1 < len(lines) and (lines[pos + 1][0] > indent or (lines[pos + 1][0] == indent and lines[pos + 1][1].startswith("- "))):
                val, pos = _parse(lines, pos + 1, lines[pos + 1][0])
                out[str(k)] = val
                continue
            out[str(k)] = None
        else:
            out[str(k)] = _scalar(v)
        pos += 1
    return out, pos
