"""Warehouse call overhead: the DuckDB file attached per call against a DuckDB started per call.

    python -m benchmarks.bench_warehouse [--calls N] [--no-write]

Every asset step reads and writes the DuckDB warehouse through `resources.warehouse.Warehouse`,
which holds the file only for the length of a call, so that concurrent runs (other processes)
take turns at DuckDB's file lock. The call a user would write for that is
`duckdb.connect(path)` ... `close()` around each statement, which starts a whole DuckDB each
time. `Warehouse.connect` instead attaches the file to one in-memory DuckDB the process keeps,
and detaches it after. Both sides run the same statements on the same file, in the same
process, call by call in turn (theirs, ours, theirs, ...), on a warehouse shaped like a
region's: a 5,258 x 58 matrix partition among 26 tables. The table gives the median time
per call and the ratio. Writes the "## Warehouse calls" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from benchmarks.report import RESULTS, publish, table_section
from resources.warehouse import Warehouse

SECTION = "## Warehouse calls"
ROWS, VARIABLES, TABLES = 5_258, 58, 26


def build(path: Path) -> pd.DataFrame:
    """A warehouse file like a region run's: TABLES tables, one a ROWS x VARIABLES matrix in
    two partitions; returns the partition written again by the write calls."""
    rng = np.random.default_rng(0)
    matrix = pd.DataFrame(rng.random((ROWS, VARIABLES)), columns=[f"v{i:02d}" for i in range(VARIABLES)])
    matrix.insert(0, "OA", [f"E{i:08d}" for i in range(ROWS)])
    wh = Warehouse(path=str(path))
    for key in ("liverpool", "other"):
        wh.replace_partition("region_matrix", "region", key, matrix)
    for i in range(TABLES - 1):
        wh.replace_table(f"table_{i:02d}", pd.DataFrame({"region": ["liverpool"] * 10, "n": range(10)}))
    return matrix


def _read(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute('SELECT * FROM "region_matrix" WHERE "region" = ?', ["liverpool"]).df()


def _write(con: duckdb.DuckDBPyConnection, df: pd.DataFrame) -> None:
    con.register("_incoming", df)
    con.execute("BEGIN")
    con.execute('DELETE FROM "region_matrix" WHERE "region" = ?', ["liverpool"])
    con.execute('INSERT INTO "region_matrix" BY NAME SELECT * FROM _incoming')
    con.execute("COMMIT")


def measure(path: Path, matrix: pd.DataFrame, calls: int) -> list[tuple[str, float, float]]:
    """(what, theirs ms, ours ms): median wall time per call, the two sides alternating."""
    wh = Warehouse(path=str(path))
    incoming = matrix.assign(region="liverpool")

    def theirs(read_only: bool, body: Callable[[duckdb.DuckDBPyConnection], object]) -> None:
        con = duckdb.connect(str(path), read_only=read_only)
        try:
            body(con)
        finally:
            con.close()

    def ours(read_only: bool, body: Callable[[duckdb.DuckDBPyConnection], object]) -> None:
        with wh.connect(read_only=read_only) as con:
            body(con)

    cases = [
        ("open and close, read-only", True, lambda con: None),
        ("read one partition (5,258 x 58)", True, _read),
        ("open and close, writable", False, lambda con: None),
        ("replace one partition (delete, insert)", False, lambda con: _write(con, incoming)),
    ]
    out = []
    for what, read_only, body in cases:
        for side in (theirs, ours):  # once each before timing: imports, first catalog load
            side(read_only, body)
        times: dict[str, list[float]] = {"theirs": [], "ours": []}
        for _ in range(calls):
            for name, side in (("theirs", theirs), ("ours", ours)):
                started = time.perf_counter()
                side(read_only, body)
                times[name].append(time.perf_counter() - started)
        out.append((what, 1000 * statistics.median(times["theirs"]), 1000 * statistics.median(times["ours"])))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="timed calls of each side per case")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="geodem-bench-warehouse-") as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        matrix = build(path)
        size_mb = path.stat().st_size / 1e6
        results = measure(path, matrix, args.calls)
    command = "python -m benchmarks.bench_warehouse" + (f" --calls {args.calls}" if args.calls != 200 else "")
    intro = (
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command}`. "
        "Each warehouse call holds the DuckDB file only while it runs, so that concurrent runs "
        "take turns at its lock. *Per call*: `duckdb.connect(path)` and `close()` around the "
        "statements, a DuckDB started for each call (what `Warehouse` did before, and what a user "
        "would write); *attached*: `Warehouse.connect`, the file attached to the one in-memory "
        "DuckDB the process keeps and detached after. Same statements, same file "
        f"({TABLES} tables, {size_mb:.0f} MB), same process, the two sides alternating call by "
        f"call, median of {args.calls} calls each."
    )
    rows = [f"| {what} | {a:.1f} | {b:.1f} | **{a / b:.1f}x** |" for what, a, b in results]
    header = ["call", "per call (ms)", "attached (ms)", "ratio"]
    section = table_section(SECTION, intro, header, ["---", "---:", "---:", "---:"], rows)
    publish(args.output, SECTION, section, write=not args.no_write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
