"""What the benchmarks share: the machine described in one line each, a process's own peak
memory, and RESULTS.md sections."""

from __future__ import annotations

import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def machine_lines() -> list[str]:
    """CPU, cores, RAM, load average and the versions of the numerical libraries."""
    import numba
    import numpy as np
    import scipy
    import sklearn

    model, ram = "unknown", "unknown"
    try:
        model = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
        ram = next(
            f"{int(line.split()[1]) / 2**20:.1f} GiB"
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return [
        f"- CPU: {model}; {os.cpu_count()} logical cores, {cores} available to this process",
        f"- RAM: {ram}; load average at start (1, 5, 15 min): {load}",
        f"- Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
        f"scikit-learn {sklearn.__version__}, numba {numba.__version__}",
    ]


def reset_peak_rss() -> bool:
    """Reset this process's RSS high-water mark (Linux clear_refs); False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int | None:
    """This process's RSS high-water mark (VmHWM) in bytes, None where /proc is missing."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def replace_section(text: str, title: str, section: str) -> str:
    """text with its `title` section (a '## ' heading up to the next one) replaced by section, or
    section appended when there is none."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == title), None)
    section = section.rstrip() + "\n"
    if start is None:
        body = "".join(lines).rstrip()
        return (body + "\n\n" if body else "") + section
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    return "".join(lines[:start]) + section + ("\n" + tail if tail else "")


def write_section(path: Path, title: str, section: str) -> None:
    """Replace (or append) one section of a results file, keeping every other section verbatim."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    path.write_text(replace_section(text, title, section), encoding="utf-8")


def table_section(title: str, intro: str, header: list[str], align: list[str], rows: list[str]) -> str:
    """A results section: its `title`, the paragraph saying what was measured and how (`intro`),
    the machine, and a Markdown table (`header` cells, `align` '---' or '---:' per column,
    `rows` already formatted)."""
    return "\n".join(
        [
            title,
            "",
            intro,
            "",
            *machine_lines(),
            "",
            "| " + " | ".join(header) + " |",
            "|" + "|".join(align) + "|",
            *rows,
        ]
    )


def publish(path: Path, title: str, section: str, write: bool = True) -> None:
    """Print a section and, unless `write` is False, replace its part of the results file."""
    print(section)
    if write:
        write_section(path, title, section)
        print(f"written to {path}")
