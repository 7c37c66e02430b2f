"""The whole-region benchmark's report: verdict against the goal and every asset listed."""

from benchmarks import bench_region
from benchmarks.report import replace_section


def _run(wall, steps=None, peak=2**30):
    return {
        "success": True,
        "wall": wall,
        "process_wall": wall,
        "import": 1.0,
        "peak_rss": peak,
        "steps": steps or {a: 1.0 for a in bench_region.ASSET_ORDER},
    }


def result(warm_wall):
    return {
        "size": "liverpool",
        "partition": "liverpool-city-region",
        "goal": 60.0,
        "census_oas": 5258,
        "date": "today",
        "runs": {
            "census_release": _run(3.0),
            "cold": _run(50.0),
            "warm_up": {"process_wall": 40.0},
            "installed": _run(27.0),
            "warm": _run(warm_wall),
            "reference": _run(300.0),
        },
    }


def test_report_lists_every_asset_and_says_whether_the_goal_was_reached():
    text = bench_region.render(result(25.0))
    assert text.startswith("## Whole region: liverpool-city-region\n")
    for asset in bench_region.ASSET_ORDER:
        assert f"| {asset} |" in text
    assert "| asset | cold s | installed s | warm s | reference s |" in text
    assert "**reached** warm (25 s)" in text and "warm-up (40 s, once) 27 s" in text
    assert "12.0× ours" in text
    assert "**not reached** warm (61 s)" in bench_region.render(result(61.0))


def test_section_replaces_only_its_own():
    before = "# Benchmarks\n\n## Clustering\n\nx\n\n## Whole region\n\nold\n\n## Home location\n\ny\n"
    after = replace_section(before, "## Whole region", "## Whole region\n\nnew\n")
    assert after == "# Benchmarks\n\n## Clustering\n\nx\n\n## Whole region\n\nnew\n\n## Home location\n\ny\n"


def test_detailed_boundaries_get_their_own_section_with_the_file_described():
    r = result(25.0)
    r["detail"] = True
    r["boundaries"] = {
        "bytes": 7_000_000,
        "vertices_median": 46.0,
        "vertices_p99": 264.0,
        "vertices_max": 498,
        "vertices_over_2000": 0,
    }
    text = bench_region.render(r)
    assert text.startswith("## Whole region: liverpool-city-region, detailed boundaries\n")
    assert "detailed (`geodem sample census --detail`), 7 MB GeoPackage, vertices per OA median 46" in text
    assert "max 498 (0 OAs above 2,000)." in text
    assert bench_region.title(result(25.0)) == "## Whole region: liverpool-city-region"
