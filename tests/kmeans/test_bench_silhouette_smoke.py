from benchmarks import bench_silhouette as bench
from benchmarks.matrices import centroid_matrix


def test_quick_run_writes_its_section_with_both_sides_and_their_difference(tmp_path, monkeypatch):
    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmarks\n\n## Clustering\n\nkept\n")
    monkeypatch.setattr(bench, "benchmark_matrix", lambda size, quick: (centroid_matrix(300, seed=2), "tiny"))
    monkeypatch.setattr(bench, "REPEATS", 1)
    assert bench.main(["--quick", "--size", "liverpool", "--output", str(out)]) == 0
    text = out.read_text()
    assert "## Clustering\n\nkept" in text and "## Silhouette" in text
    row = next(line for line in text.splitlines() if line.startswith("| liverpool"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "all"
    assert float(cells[5]) < 1e-9  # the two sides agree
