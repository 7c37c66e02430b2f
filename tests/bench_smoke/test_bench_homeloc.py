"""Smoke tests of the home-location benchmark: its functions run, agree with the reference, and keep others' results."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from benchmarks.bench_homeloc import (
    SECTION,
    compare_homes,
    machine_info,
    process_range,
    render,
    run_ours,
    run_ranges,
    throughput_benchmark,
    write_section,
)
from benchmarks.homeloc_reference import COLUMNS, iter_users
from homeloc_assets.countries import CountryIndex, load_countries
from homeloc_assets.inference import HOME_COLUMNS
from partitions.user_ranges import user_ranges
from resources.hll_backends import EmbeddedHLLBackend
from resources.output_store import OutputStore


def test_embedded_pipeline_gives_every_user_a_status(tiny_userdays):
    run = run_ours(tiny_userdays.path, EmbeddedHLLBackend(), n_ranges=4)
    assert run.n_users == tiny_userdays.n_users
    assert run.n_rows == tiny_userdays.n_rows
    assert run.homes["user_guid"].is_unique
    assert set(run.homes["status"]) <= {"classified", "insufficient_evidence", "tie", "no_country"}
    assert run.homes["offshore"].dtype == bool


def test_a_range_writes_what_the_assets_write_and_times_it_once(tiny_userdays, tmp_path):
    r = user_ranges(1)[0]
    index = CountryIndex(load_countries())
    quiet = process_range(tiny_userdays.path, r, EmbeddedHLLBackend(), index)
    res = process_range(tiny_userdays.path, r, EmbeddedHLLBackend(), index, outputs=tmp_path)
    assert "write" not in quiet.stages and res.stages["write"] > 0
    assert all(v >= 0 for v in res.stages.values())
    folder = tmp_path / "homeloc"
    tables = {"user_locations", "user_country_userdays", "user_total_userdays", "user_home_country"}
    assert {p.name for p in folder.iterdir()} == tables
    home = pd.read_parquet(folder / "user_home_country" / f"{r.key}.parquet")
    assert list(home.columns) == HOME_COLUMNS and len(home) == tiny_userdays.n_users
    expected = io.BytesIO()
    quiet.homes[HOME_COLUMNS].to_parquet(expected, index=False)  # the same homes, through Parquet
    pd.testing.assert_frame_equal(home, pd.read_parquet(expected))
    # where and how the assets keep it
    stored = OutputStore(root=str(tmp_path)).read_parquet("homeloc", "user_home_country", f"{r.key}.parquet")
    pd.testing.assert_frame_equal(stored, home)
    located = pd.read_parquet(folder / "user_locations" / f"{r.key}.parquet")
    assert len(located) == tiny_userdays.n_rows and {"country", "located"} <= set(located.columns)


def test_reference_stream_yields_each_user_once_with_all_rows(tiny_userdays):
    users = [(guid, len(rows)) for guid, rows in iter_users(tiny_userdays.path, chunk_rows=7)]
    assert len(users) == tiny_userdays.n_users
    assert len({g for g, _ in users}) == len(users)
    assert sum(n for _, n in users) == tiny_userdays.n_rows


def _ours(rows):
    cols = [
        "user_guid",
        "home_country",
        "home_userdays",
        "runner_up_country",
        "runner_up_userdays",
        "n_countries",
        "status",
        "offshore",
    ]
    return pd.DataFrame(rows, columns=cols)


def test_compare_homes_reports_a_different_home_and_excludes_offshore_users():
    ref = pd.DataFrame(
        [
            ("a", "Germany", 9.0, 1.0, 2),
            ("b", "France", 3.0, 0.0, 1),
            ("c", None, 0.0, 0.0, 0),
            ("d", "Italy", 2.0, 0.0, 1),
        ],
        columns=COLUMNS,
    )
    ours = _ours(
        [
            ("a", "Germany", 9.0, "Italy", 1.0, 2, "classified", False),
            ("b", "Spain", 3.0, None, 0.0, 1, "insufficient_evidence", False),
            ("c", None, 0.0, None, 0.0, 0, "no_country", False),
            ("d", "Malta", 5.0, "Italy", 2.0, 2, "classified", True),
        ]
    )
    ag = compare_homes(ref, ours)
    assert (ag.n_users, ag.n_offshore, ag.n_compared, ag.n_same_home) == (4, 1, 3, 2)
    assert not ag.identical
    assert [m["user_guid"] for m in ag.mismatches] == ["b"]


def test_compare_homes_counts_a_user_missing_from_ours_as_a_mismatch():
    ref = pd.DataFrame([("a", "Germany", 9.0, 1.0, 2)], columns=COLUMNS)
    ag = compare_homes(ref, _ours([("z", "Germany", 9.0, "Italy", 1.0, 2, "classified", False)]))
    assert ag.n_compared == 1 and ag.n_same_home == 0 and not ag.identical


def test_write_section_replaces_only_home_location(tmp_path):
    path = tmp_path / "RESULTS.md"
    before = "# Benchmarks\n\n## Clustering\n\nk-means table\n\n## Home location\n\nold\n\n## Other\n\nkept\n"
    path.write_text(before)
    write_section(path, f"{SECTION}\n\nnew\n")
    assert (
        path.read_text()
        == "# Benchmarks\n\n## Clustering\n\nk-means table\n\n## Home location\n\nnew\n\n## Other\n\nkept\n"
    )


def test_write_section_appends_when_missing_and_creates_the_file(tmp_path):
    path = tmp_path / "RESULTS.md"
    write_section(path, f"{SECTION}\n\nfirst\n")
    path.write_text(path.read_text() + "\n## Clustering\n\nc\n")
    write_section(path, f"{SECTION}\n\nsecond\n")
    text = path.read_text()
    assert (
        text.count(SECTION) == 1
        and "second" in text
        and "first" not in text
        and text.endswith("## Clustering\n\nc\n")
    )


@pytest.mark.postgres
def test_reference_loop_and_ours_find_identical_homes(tiny_userdays, hll_database_url):
    result = throughput_benchmark(tiny_userdays.path, hll_database_url, reference_users=tiny_userdays.n_users)
    ag = result["agreement"]
    assert ag["n_users"] == tiny_userdays.n_users
    assert ag["n_compared"] >= 0.8 * tiny_userdays.n_users
    assert ag["identical"], ag["mismatches"]
    assert ag["n_same_userdays"] == ag["n_compared"]
    assert result["backends_agree"] == {
        "n_users": tiny_userdays.n_users,
        "n_identical": tiny_userdays.n_users,
    }
    section = render(
        {"date": "today", "machine": machine_info(hll_database_url), "command": "cmd", "throughput": result}
    )
    assert section.startswith(SECTION) and "Identical homes: **yes**" in section


@pytest.mark.postgres
def test_range_subprocesses_cover_every_user_and_report_peak_memory(tiny_userdays, hll_database_url):
    run = run_ranges(tiny_userdays.path, hll_database_url, 2, jobs=2)
    assert run["ranges_run"] == 2
    assert run["users"] == tiny_userdays.n_users
    assert run["rows"] == tiny_userdays.n_rows
    assert all(r["peak_rss"] > 10 * 2**20 for r in run["ranges"])


@pytest.mark.postgres
def test_embedded_range_subprocesses_agree_with_postgres_and_render_their_own_goal_line(
    tiny_userdays, hll_database_url
):
    pg = run_ranges(tiny_userdays.path, hll_database_url, 2, jobs=2)
    emb = run_ranges(tiny_userdays.path, hll_database_url, 2, jobs=2, backend="embedded")
    assert emb["backend"] == "embedded" and emb["server_cpu_seconds"] is None
    assert (emb["users"], emb["rows"], emb["classes"]) == (pg["users"], pg["rows"], pg["classes"])
    assert (
        emb["bytes"]
        == pg["bytes"]
        == tiny_userdays.path.stat().st_size - len(tiny_userdays.path.read_bytes().split(b"\n", 1)[0]) - 1
    )
    for run in (pg, emb):
        run["file_users"] = tiny_userdays.n_users
    section = render(
        {
            "date": "today",
            "machine": machine_info(hll_database_url),
            "command": "cmd",
            "scale": {"runs": [pg, emb]},
        }
    )
    assert "| PostgreSQL | " in section and "| embedded | " in section
    assert f"Embedded backend: {tiny_userdays.n_users:,} users in" in section
    assert "run (embedded): read" in section and "run (PostgreSQL): read" in section
