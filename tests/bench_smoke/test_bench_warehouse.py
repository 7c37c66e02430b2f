"""The warehouse benchmark runs both sides on the same file and writes its section."""

from benchmarks import bench_warehouse


def test_both_sides_do_the_same_work_and_the_section_is_written(tmp_path):
    path = tmp_path / "w.duckdb"
    matrix = bench_warehouse.build(path)
    rows = bench_warehouse.measure(path, matrix, calls=2)
    assert [what for what, _, _ in rows] == [
        "open and close, read-only",
        "read one partition (5,258 x 58)",
        "open and close, writable",
        "replace one partition (delete, insert)",
    ]
    assert all(a > 0 and b > 0 for _, a, b in rows)
    # the replaced partition holds what both sides wrote, once
    from resources.warehouse import Warehouse

    counts = Warehouse(path=str(path)).counts("region_matrix", ["region"]).set_index("region")["n"]
    assert counts.to_dict() == {"liverpool": 5258, "other": 5258}

    out = tmp_path / "RESULTS.md"
    assert bench_warehouse.main(["--calls", "2", "--output", str(out)]) == 0
    text = out.read_text()
    assert text.count("## Warehouse calls") == 1 and "| read one partition (5,258 x 58) |" in text
