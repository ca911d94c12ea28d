#!/usr/bin/env python3
"""Records the expected output of every render conformance case with the reference,
kustomize v5.5.0 inside kubectl (`kubectl kustomize`), in place in the case files.

Usage: scripts/record-conformance.py [FILE.cases ...]   (default: all of Tests/TaiRenderTests/Conformance)
"""
import os, subprocess, sys, tempfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "TaiRenderTests", "Conformance")


def parse(text):
    """Returns [(header, [(section, lines)])] and a preamble."""
    preamble, cases = [], []
    current = None
    for line in text.split("\n"):
        if line.startswith("==== "):
            current = (line, [])
            cases.append(current)
        elif line.startswith("-- ") and line.endswith(" --") and len(line) > 6 and current is not None:
            current[1].append((line[3:-3], []))
        elif current is None:
            preamble.append(line)
        elif current[1]:
            current[1][-1][1].append(line)
    return preamble, cases


def trim(lines):
    lines = list(lines)
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def record(path):
    with open(path) as f:
        preamble, cases = parse(f.read())
    out = list(trim(preamble))
    if out:
        out.append("")
    for header, sections in cases:
        words = header[5:].split()
        target = next((w[7:] for w in words[1:] if w.startswith("target=")), ".")
        files = [(name, trim(lines)) for name, lines in sections if not name.startswith("@")]
        with tempfile.TemporaryDirectory() as tmp:
            for name, lines in files:
                full = os.path.join(tmp, name)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "w") as f:
                    f.write("\n".join(lines) + "\n" if lines else "")
            env = dict(os.environ, KUBECONFIG="/dev/null")
            r = subprocess.run(["kubectl", "kustomize", os.path.join(tmp, target)], capture_output=True, text=True, env=env)
        out.append(header)
        for name, lines in files:
            out.append(f"-- {name} --")
            out.extend(lines)
        if r.returncode == 0:
            out.append("-- @expected --")
            out.extend(trim(r.stdout.split("\n")))
        else:
            out.append("-- @error --")
            out.extend(trim(r.stderr.replace(tmp, "CASE").split("\n")))
            print(f"{os.path.basename(path)}: {words[0]}: kustomize fails: {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''}")
        out.append("")
    with open(path, "w") as f:
        f.write("\n".join(out))


paths = sys.argv[1:] or sorted(os.path.join(ROOT, p) for p in os.listdir(ROOT) if p.endswith(".cases"))
for p in paths:
    record(p)
    print(f"recorded {os.path.basename(p)}")
