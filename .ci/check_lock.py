"""Fail when the installed distributions differ from requirements.lock (names and versions).

Usage: python .ci/check_lock.py [requirements.lock]   (run with the project's venv Python)
"""

from __future__ import annotations

import re
import sys
from importlib import metadata

IGNORED = {"pip", "setuptools", "wheel", "geodem-platform"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: str) -> dict[str, str]:
    pins = {}
    for line in open(path, encoding="utf-8"):
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", line)
        if m:
            pins[_norm(m.group(1))] = m.group(2)
    return pins


def installed() -> dict[str, str]:
    return {
        _norm(d.metadata["Name"]): d.version
        for d in metadata.distributions()
        if _norm(d.metadata["Name"]) not in IGNORED
    }


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "requirements.lock"
    want, have = locked(path), installed()
    problems = [f"missing: {n}=={v}" for n, v in sorted(want.items()) if n not in have]
    problems += [f"not in the lock: {n}=={v}" for n, v in sorted(have.items()) if n not in want]
    problems += [
        f"version: {n} installed {have[n]}, locked {v}"
        for n, v in sorted(want.items())
        if n in have and have[n] != v
    ]
    for p in problems:
        print(f"{path}: {p}")
    print(f"{path}: {len(want)} locked, {len(have)} installed, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
