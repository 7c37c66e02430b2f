import numpy as np
import pytest

from benchmarks import bench_clustering as bench
from benchmarks.matrices import centroid_matrix


@pytest.fixture(scope="module")
def tiny():
    return centroid_matrix(240, seed=1)


def test_matrix_has_the_census_shape_and_range(tiny):
    assert tiny.shape == (240, 58)
    assert tiny.min() >= 0.0 and tiny.max() <= 1.0


def test_supergroup_comparison_recomputes_both_inertias(tiny):
    c = bench.run_supergroups(tiny, ref_starts=3, threads=1, full_starts=6)
    assert c.scale == 2
    assert c.ratio > 0 and np.isfinite(c.ratio)
    assert set(c.ref_inertia) == set(c.our_inertia) == {5}
    assert c.rel(5) == pytest.approx((c.our_inertia[5] - c.ref_inertia[5]) / c.ref_inertia[5])
    text = "\n".join(bench.render_comparison(c))
    assert "extrapolated linearly x2" in text and "| 5 |" in text


def test_clustergram_comparison_covers_every_k(tiny):
    c = bench.run_clustergram(tiny, ref_starts=2, threads=1, full_starts=2, ks=range(1, 4))
    assert sorted(c.ref_inertia) == [1, 2, 3]
    # k = 1 is the mean on both sides.
    assert c.our_inertia[1] == pytest.approx(c.ref_inertia[1], rel=1e-12)


def test_quick_run_replaces_only_its_own_section(tiny, tmp_path, monkeypatch):
    out = tmp_path / "RESULTS.md"
    out.write_text("# Benchmarks\n\n## Loading\n\nfast\n\n## Clustering\n\nold numbers\n\n## HLL\n\nkept\n")
    monkeypatch.setattr(bench, "benchmark_matrix", lambda size, quick: (tiny, "tiny test matrix"))
    assert bench.main(["--quick", "--threads", "1", "--output", str(out)]) == 0
    text = out.read_text()
    assert text.count("## Clustering") == 1
    assert "old numbers" not in text
    assert "## Loading\n\nfast" in text and "## HLL\n\nkept" in text
    assert "Speed-up" in text and "tiny test matrix" in text


def test_section_is_appended_to_a_file_without_it():
    from benchmarks.report import replace_section

    assert replace_section("", "## Clustering", "## Clustering\n\nx\n") == "## Clustering\n\nx\n"
    assert (
        replace_section("## Other\n\ny\n", "## Clustering", "## Clustering\n\nx\n")
        == "## Other\n\ny\n\n## Clustering\n\nx\n"
    )
