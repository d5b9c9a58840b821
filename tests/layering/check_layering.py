#!/usr/bin/env python3
"""Checks the include graph against the layering table of docs/architecture.md.

The table sits between the markers `<!-- layering:begin -->` and
`<!-- layering:end -->`: one row per module (a folder, or a file stem such as
`api/json`) and the modules it may include. Every C/C++ source under the
checked folders must belong to a module of the table, and every quoted
#include must stay within its own module or name a module its row allows.
Exit status 0 when the code keeps the rules; 1 with one line per breach.
"""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
DOC = os.path.join(ROOT, "docs", "architecture.md")
CHECKED = ["api", "daemon", "rules", "exporters", "include"]


def read_table():
    text = open(DOC, encoding="utf-8").read()
    m = re.search(r"<!-- layering:begin -->(.*?)<!-- layering:end -->", text, re.S)
    if not m:
        sys.exit(f"{DOC}: no <!-- layering:begin --> ... <!-- layering:end --> table")
    rules = {}
    for line in m.group(1).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        module = cells[0].strip("`")
        allowed = set(re.findall(r"`([^`]+)`", cells[1]))
        rules[module] = allowed
    if not rules:
        sys.exit(f"{DOC}: the layering table has no rows")
    return rules


def module_of(path, modules):
    """The most specific module that holds path (a file stem or a folder)."""
    best = None
    for m in modules:
        stem = os.path.splitext(path)[0]
        if stem == m or path.startswith(m + "/"):
            if best is None or len(m) > len(best):
                best = m
    return best


def include_target(inc, modules):
    # Generated and installed paths: the protobuf schema and the BPF skeletons.
    if inc.startswith("vigil/") and inc.endswith(".pb.h"):
        return "api"
    if inc.startswith("vigil/abi/"):
        return "include/vigil/abi"
    if inc.endswith(".skel.h"):
        return "bpf"
    return module_of(inc, modules)


def main():
    rules = read_table()
    modules = list(rules)
    breaches = []
    for top in CHECKED:
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in sorted(files):
                if not f.endswith((".h", ".cc", ".c", ".inc")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, f), ROOT)
                mod = module_of(path, modules)
                if mod is None:
                    breaches.append(f"{path}: in no module of the layering table")
                    continue
                with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as src:
                    for n, line in enumerate(src, 1):
                        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                        if not m:
                            continue
                        target = include_target(m.group(1), modules)
                        if target is None or target == mod or target in rules[mod]:
                            continue
                        breaches.append(f"{path}:{n}: {mod} may not include {m.group(1)} ({target})")
    for b in breaches:
        print(b)
    if breaches:
        print(f"{len(breaches)} layering breach(es): fix the include or, if the design changed, "
              f"the table in docs/architecture.md")
        return 1
    print(f"layering: {len(modules)} modules, no breach")
    return 0


if __name__ == "__main__":
    sys.exit(main())
