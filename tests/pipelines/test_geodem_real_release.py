"""A release in the real files' habits: Scotland's S00 OAs and Northern Ireland's N20 Data Zones,
and a census table and boundary file that do not hold the same OAs."""

import dagster as dg
import geopandas as gpd
import pandas as pd
import pytest

from geodem_assets.assets import region_census, region_matrix, region_output_areas
from geodem_assets.census import NO_BOUNDARY, NO_CENSUS_ROW
from resources.census_files import locate_release
from sample_data.census import write_sample_census
from tests.pipelines.harness import make_defs, make_resources, run

REGIONS = ["scotland", "northern-ireland"]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """Scotland and Northern Ireland at 2 % of their OAs; 3 census rows and 2 boundaries removed."""
    tmp = tmp_path_factory.mktemp("real")
    census = tmp / "census"
    write_sample_census(census, regions=REGIONS, seed=3, scale=0.02)
    files = locate_release(census)
    table = pd.read_parquet(files.census)
    oa = gpd.read_file(files.oa_boundaries)
    s_codes = sorted(c for c in table.index if c.startswith("S00"))
    n_codes = sorted(c for c in table.index if c.startswith("N20"))
    no_census = [s_codes[5], s_codes[40], n_codes[3]]  # boundaries whose census row is gone
    no_boundary = [s_codes[7], n_codes[9]]  # census rows whose boundary is gone
    table.drop(index=no_census).to_parquet(files.census)
    oa[~oa["OA"].isin(no_boundary)].to_file(files.oa_boundaries, driver="GPKG")
    resources = make_resources(tmp, census_dir=census)
    defs = make_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    result = run(defs, "census_release_job", instance)
    return {
        "result": result,
        "resources": resources,
        "defs": defs,
        "instance": instance,
        "no_census": sorted(no_census),
        "no_boundary": sorted(no_boundary),
        "n_oas": len(table),
        "tmp": tmp,
    }


def _metadata(result) -> dict:
    (event,) = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_disagreeing_files_are_ingested_with_the_unmatched_oas_counted_and_listed(release):
    assert release["result"].success
    meta = _metadata(release["result"])
    assert meta["oas_without_census_row"] == 3 and meta["census_rows_without_boundary"] == 2
    assert meta["unmatched_oas_sample"] == {
        NO_CENSUS_ROW: release["no_census"],
        NO_BOUNDARY: release["no_boundary"],
    }
    warehouse = release["resources"]["warehouse"]
    unmatched = warehouse.read("census_unmatched_oas")
    assert sorted(unmatched.loc[unmatched["reason"] == NO_CENSUS_ROW, "OA"]) == release["no_census"]
    assert sorted(unmatched.loc[unmatched["reason"] == NO_BOUNDARY, "OA"]) == release["no_boundary"]
    # Only OAs with both a census row and a boundary are kept for classification.
    left_out = set(release["no_census"]) | set(release["no_boundary"])
    variables = warehouse.read("census_variables")
    boundaries = warehouse.read("oa_boundaries")
    assert set(variables["OA"]) == set(boundaries["OA"])
    assert not left_out & set(variables["OA"]) and len(variables) == release["n_oas"] - 5


def test_scottish_and_northern_irish_codes_are_ordinary_oas(release):
    warehouse = release["resources"]["warehouse"]
    codes = warehouse.read("census_variables")["OA"]
    assert set(codes.str[:3]) == {"S00", "N20"}
    checks = release["result"].get_asset_check_evaluations()
    assert checks and all(c.passed for c in checks)
    for slug, prefix in (("scotland", "S00"), ("northern-ireland", "N20")):
        result = dg.materialize(
            [region_output_areas, region_census, region_matrix],
            partition_key=slug,
            resources=release["resources"],
            instance=release["instance"],
        )
        assert result.success
        oas = warehouse.read("region_census", "region", slug)["OA"]
        assert len(oas) > 0 and oas.str.startswith(prefix).all()
        assert not set(oas) & (set(release["no_census"]) | set(release["no_boundary"]))


def test_a_scottish_region_is_classified_and_exported(release):
    config = {
        "ops": {
            "cluster_diagnostics": {"config": {"n_init": 2, "max_k": 4}},
            "supergroups": {"config": {"k": 3, "n_init": 4}},
            "subgroups": {"config": {"subgroups": [2, 2, 2], "n_init": 4}},
            "cluster_embedding": {"config": {"n_epochs": 20}},
        }
    }
    result = run(release["defs"], "geodem_region_job", release["instance"], "scotland", config)
    assert result.success
    table = pd.read_parquet(release["tmp"] / "out" / "geodem" / "scotland" / "classification.parquet")
    assert table["OA"].str.startswith("S00").all() and len(table) > 500
    assert not set(table["OA"]) & (set(release["no_census"]) | set(release["no_boundary"]))
