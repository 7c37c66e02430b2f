"""Smoke test of the country-layer benchmark: it runs small, the 1:10m join recovers the truth, and it keeps other sections."""

from __future__ import annotations

from benchmarks.bench_borders import PLACES, SECTION, main


def test_small_run_writes_its_section_and_keeps_others(tmp_path):
    results_md = tmp_path / "RESULTS.md"
    results_md.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    r = main(
        ["--points", "3000", "--users-per-place", "6", "--out", str(tmp_path), "--results", str(results_md)]
    )
    assert set(r["join"]["layers"]) == {"10m", "110m"}
    assert r["join"]["layers"]["10m"]["n_vertices"] > 20 * r["join"]["layers"]["110m"]["n_vertices"]
    acc = r["accuracy"]
    assert acc["n_users"] == 6 * len(PLACES) and acc["n_near"] > 0
    assert acc["layers"]["10m"]["near"] == 1.0  # the truth comes from the 1:10m polygons
    assert acc["layers"]["110m"]["near"] < 1.0  # no Liechtenstein, Monaco, San Marino, Andorra there
    text = results_md.read_text()
    assert "## Other\n\nkept" in text and SECTION in text and "| 1:10m |" in text
