"""The census folder swapped or rewritten while census_release reads it: one consistent release is ingested, with its own fingerprint."""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from geodem_assets.census import numeric_variables, read_release
from geodem_assets.sensors import census_release_sensor
from resources import census_files
from resources.census_files import fingerprint, locate_release
from sample_data.census import write_sample_census
from tests.pipelines.harness import make_defs, make_resources, run

REGION = "liverpool-city-region"


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> Path:
    """Two small releases of the same layout and file names, different data: old/ and new/."""
    root = tmp_path_factory.mktemp("releases")
    write_sample_census(root / "old", regions=[REGION], seed=3, scale=0.05)
    write_sample_census(root / "new", regions=[REGION], seed=4, scale=0.05)
    old, new = locate_release(root / "old"), locate_release(root / "new")
    assert [p.name for p in old.all()] == [p.name for p in new.all()]
    assert fingerprint(old) != fingerprint(new)
    return root


def change_after_copies(monkeypatch, change, when) -> list[str]:
    """Run ``change()`` right after each file copy whose 1-based number satisfies ``when``; returns the names copied."""
    original = census_files.copy_and_digest
    copied: list[str] = []

    def copy_then_change(fh, dest):
        digest = original(fh, dest)
        copied.append(dest.name)
        if when(len(copied)):
            change()
        return digest

    monkeypatch.setattr(census_files, "copy_and_digest", copy_then_change)
    return copied


def tick(resources: dict, instance, cursor=None):
    """One evaluation of census_release_sensor as the daemon does it: (run requests, new cursor)."""
    repo = make_defs(resources).get_repository_def()
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources=resources, repository_def=repo
    )
    data = census_release_sensor.evaluate_tick(context)
    return list(data.run_requests or []), data.cursor


def ingested(resources: dict) -> tuple[str, pd.DataFrame, pd.Series]:
    """(fingerprint, variables, population) as the warehouse holds them."""
    wh = resources["warehouse"]
    variables = wh.read("census_variables").set_index("OA").sort_index()
    population = wh.read("oa_population").set_index("OA")["population"].sort_index()
    return str(wh.read("census_release_info")["fingerprint"].iloc[0]), variables, population


def error_text(error) -> str:
    """The messages of a step's error and of the errors it was caused by."""
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


def assert_holds(resources: dict, release: Path, fp: str) -> None:
    """The warehouse holds exactly ``release``'s variables and population, under fingerprint ``fp``."""
    expected = read_release(locate_release(release))
    got_fp, variables, population = ingested(resources)
    assert got_fp == fp
    pd.testing.assert_frame_equal(
        variables, numeric_variables(expected.variables).sort_index(), check_names=False
    )
    pd.testing.assert_series_equal(
        population, expected.population.astype("float64").sort_index(), check_names=False, check_dtype=False
    )


def test_folder_swapped_mid_read_ingests_the_opened_release_and_the_sensor_asks_for_the_new(
    tmp_path, releases, monkeypatch
):
    census = tmp_path / "census"
    shutil.copytree(releases / "old", census)
    old_fp = fingerprint(locate_release(census))
    resources = make_resources(tmp_path, census_dir=census)
    instance = dg.DagsterInstance.ephemeral()
    requests, cursor = tick(resources, instance)
    assert [r.run_key for r in requests] == [f"census-{old_fp}"]

    def swap() -> None:
        # A deployment replacing the folder: the old one moved aside, the new one renamed into place.
        shutil.copytree(releases / "new", tmp_path / "census-next")
        os.replace(census, tmp_path / "census-previous")
        os.replace(tmp_path / "census-next", census)

    copied = change_after_copies(monkeypatch, swap, lambda n: n == 1)
    result = run(make_defs(resources), "census_release_job", instance)
    assert result.success
    assert len(copied) == 5, f"expected one pass over the five files, copied {copied}"
    new_fp = fingerprint(locate_release(census))
    assert new_fp != old_fp and (tmp_path / "census-previous").exists()

    # The release opened before the swap, whole, under its own fingerprint; not the new one, not a mix.
    assert_holds(resources, releases / "old", old_fp)
    mat = instance.get_latest_materialization_event(dg.AssetKey("census_release")).asset_materialization
    assert mat.metadata["fingerprint"].value == old_fp
    assert not list((tmp_path / "out" / "cache" / "census" / "snapshots").iterdir()), (
        "snapshot copies left behind"
    )

    requests, _ = tick(resources, instance, cursor)
    assert [r.run_key for r in requests] == [f"census-{new_fp}"]
    assert requests[0].tags["geodem/census_fingerprint"] == new_fp


def test_files_rewritten_in_place_mid_read_are_read_again(tmp_path, releases, monkeypatch):
    census = tmp_path / "census"
    shutil.copytree(releases / "old", census)
    resources = make_resources(tmp_path, census_dir=census)

    def overwrite() -> None:
        # `cp new/* census/`: every file truncated and rewritten, the one already copied included.
        for src in locate_release(releases / "new").all():
            shutil.copyfile(src, census / "input_data" / src.name)

    copied = change_after_copies(monkeypatch, overwrite, lambda n: n == 1)
    result = run(make_defs(resources), "census_release_job", dg.DagsterInstance.ephemeral())
    assert result.success
    assert len(copied) == 10, f"expected a second pass after the rewrite was seen, copied {copied}"
    assert_holds(resources, releases / "new", fingerprint(locate_release(census)))


def test_a_release_that_never_settles_fails_clearly_and_keeps_the_previous_one(
    tmp_path, releases, monkeypatch
):
    census = tmp_path / "census"
    shutil.copytree(releases / "old", census)
    resources = make_resources(tmp_path, census_dir=census)
    defs, instance = make_defs(resources), dg.DagsterInstance.ephemeral()
    assert run(defs, "census_release_job", instance).success
    old_fp = fingerprint(locate_release(census))
    population = census / "input_data" / "oa_pop_data.csv"
    step = iter(range(10, 10_000))

    def touch() -> None:  # a writer still busy with the folder: the population file keeps changing
        stamp = next(step)
        os.utime(population, ns=(stamp, stamp))

    copied = change_after_copies(monkeypatch, touch, lambda n: True)
    result = run(defs, "census_release_job", instance)
    assert not result.success
    message = error_text(result.get_step_failure_events()[0].step_failure_data.error)
    assert "kept changing while it was read" in message and str(census / "input_data") in message
    assert "oa_pop_data.csv" in message and "3 attempts" in message
    assert len(copied) == 3 * 5
    assert_holds(resources, releases / "old", old_fp)
    assert not list((tmp_path / "out" / "cache" / "census" / "snapshots").iterdir()), (
        "snapshot copies left behind"
    )


def test_a_zip_release_is_unpacked_snapshotted_and_fingerprinted_like_a_folder(tmp_path, releases):
    archive = tmp_path / "input_data_1.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in locate_release(releases / "old").all():
            zf.write(path, f"input_data/{path.name}")
    resources = make_resources(tmp_path, census_dir=archive)
    assert run(make_defs(resources), "census_release_job", dg.DagsterInstance.ephemeral()).success
    assert_holds(resources, releases / "old", fingerprint(locate_release(releases / "old")))
