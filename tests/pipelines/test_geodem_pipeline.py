"""The geodemographic graph end to end on a small generated region, through Dagster."""

from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pyogrio
import pytest
from sklearn.metrics import adjusted_rand_score

from partitions.regions import get_region
from sample_data.census import write_sample_census
from tests.pipelines.harness import make_defs, make_resources, run

REGION = "liverpool-city-region"
K5 = {
    "ops": {
        "supergroups": {"config": {"k": 5, "n_init": 20}},
        "subgroups": {"config": {"subgroups": [2, 2, 2, 2, 2], "n_init": 10}},
    }
}


@pytest.fixture(scope="module")
def region_run(tmp_path_factory):
    """One census and one region run shared by the tests of this module."""
    tmp = tmp_path_factory.mktemp("geodem")
    census = tmp / "census"
    # Five well separated OAC supergroups, little noise: k-means should find them.
    write_sample_census(census, regions=[REGION], seed=1, scale=0.2, noise=0.02, supergroups=[1, 3, 4, 5, 8])
    resources = make_resources(tmp, census_dir=census)
    defs = make_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    assert run(defs, "census_release_job", instance).success
    result = run(defs, "geodem_region_job", instance, REGION, K5)
    assert result.success
    return {
        "tmp": tmp,
        "census": census,
        "resources": resources,
        "defs": defs,
        "instance": instance,
        "result": result,
    }


def test_region_run_writes_every_export(region_run):
    folder = region_run["tmp"] / "out" / "geodem" / REGION
    for name in (
        "classification.parquet",
        "classification.gpkg",
        "profiles.csv",
        "map.html",
        "map_offline.html",
        "umap.html",
        "profiles.html",
    ):
        assert (folder / name).stat().st_size > 0, name
    table = pd.read_parquet(folder / "classification.parquet")
    assert list(table.columns[:5]) == ["OA", "supergroup", "subgroup", "UMAP1", "UMAP2"]
    assert table["OA"].is_unique and table[["UMAP1", "UMAP2"]].notna().all().all()
    assert sorted(table["supergroup"].unique()) == list("ABCDE")
    assert all(s.startswith(g) for s, g in zip(table["subgroup"], table["supergroup"]))
    layers = dict(pyogrio.list_layers(folder / "classification.gpkg"))
    assert set(layers) == {"supergroups", "subgroups"}
    info = pyogrio.read_info(folder / "classification.gpkg", layer="supergroups")
    assert info["features"] == len(table) and "27700" in info["crs"]
    assert "keplergl" in (folder / "map.html").read_text().lower()
    workshop = pd.read_csv(folder / "classification.csv")
    assert list(workshop.columns) == ["OA", "supergroup", "subgroup", "supergroup_name", "subgroup_name"]
    assert sorted(workshop["OA"]) == sorted(table["OA"])
    described = pd.read_csv(folder / "cluster_descriptions.csv")
    assert list(described.columns) == ["level", "code", "name", "pen_portrait", "source"]
    assert sorted(described["code"]) == sorted({*table["supergroup"], *table["subgroup"]})
    assert len(pd.read_parquet(folder / "umap.parquet")) == len(table)
    for png in ["clustergram_supergroups.png", *(f"clustergram_{c}.png" for c in "ABCDE")]:
        assert (folder / png).read_bytes()[:4] == b"\x89PNG", png
    first_map = (folder / "output_areas_map.html").read_text()
    assert '<script src="http' not in first_map and "Local Authority Districts" in first_map
    assert all(lad in first_map for lad in get_region(REGION).lads)
    kepler = (folder / "output_areas_map_kepler.html").read_text()
    assert "Local Authority Districts" in kepler and "LAD22NM" in kepler
    oas = pd.read_parquet(folder / "classification.parquet")["OA"]
    assert all(kepler.count(oa) == 1 for oa in oas.head(20))
    offline = (folder / "map_offline.html").read_text()
    assert '<script src="http' not in offline and "Plotly.newPlot" in offline


def test_supergroups_recover_the_planted_types(region_run):
    table = pd.read_parquet(region_run["tmp"] / "out" / "geodem" / REGION / "classification.parquet")
    truth = pd.read_csv(region_run["census"] / "planted_truth.csv")
    merged = table.merge(truth, on="OA")
    assert len(merged) == len(truth)
    assert adjusted_rand_score(merged["planted_supergroup"], merged["supergroup"]) >= 0.9


def test_names_are_unique_short_and_reach_the_exports(region_run):
    names = region_run["resources"]["warehouse"].read("cluster_names", "region", REGION)
    assert len(names) == 5 + 10 and names["name"].is_unique
    assert (names["name"].str.split().str.len() <= 3).all()
    assert set(names["source"]) == {"offline"}
    profiles = pd.read_csv(region_run["tmp"] / "out" / "geodem" / REGION / "profiles.csv")
    assert profiles["name"].notna().all()
    table = pd.read_parquet(region_run["tmp"] / "out" / "geodem" / REGION / "classification.parquet")
    assert table["supergroup_name"].notna().all()


def test_profiles_shares_add_up(region_run):
    sizes = region_run["resources"]["warehouse"].read("cluster_profiles", "region", REGION)
    for level in ("supergroup", "subgroup"):
        part = sizes[sizes["level"] == level]
        assert part["pct_oas"].sum() == pytest.approx(100)
        assert part["pct_population"].sum() == pytest.approx(100)


def test_same_seed_gives_same_labels_and_letters(region_run):
    wh = region_run["resources"]["warehouse"]
    before = wh.read("supergroups", "region", REGION).sort_values("OA").reset_index(drop=True)
    result = (
        region_run["defs"]
        .resolve_job_def("geodem_region_job")
        .get_subset(asset_selection={dg.AssetKey("supergroups")})
        .execute_in_process(
            instance=region_run["instance"],
            partition_key=REGION,
            run_config={"ops": {"supergroups": {"config": {"k": 5, "n_init": 20}}}},
        )
    )
    assert result.success
    after = wh.read("supergroups", "region", REGION).sort_values("OA").reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)
    mat = result.asset_materializations_for_node("supergroups")[0]
    assert mat.metadata["letters"].value == "matched to previous centroids"


def test_metadata_has_pictures_and_key_figures(region_run):
    inst = region_run["instance"]
    diag = inst.get_latest_materialization_event(
        dg.AssetKey("cluster_diagnostics")
    ).asset_materialization.metadata
    assert "data:image/png;base64," in diag["clustergram"].value
    sup = inst.get_latest_materialization_event(dg.AssetKey("supergroups")).asset_materialization.metadata
    assert sup["k"].value == 5 and sup["k_source"].value == "run config" and sup["inertia"].value > 0
    matrix = inst.get_latest_materialization_event(
        dg.AssetKey("region_matrix")
    ).asset_materialization.metadata
    assert len(matrix["correlation_distribution"].value) < 1000  # inline in the UI, no click
    for key in ("histograms_raw", "histograms_transformed", "correlation_heatmap"):
        assert Path(matrix[key].value).stat().st_size > 0, key
    assert Path(matrix["histograms_raw"].value).parent == region_run["tmp"] / "out" / "geodem" / REGION


def test_every_oa_lands_in_exactly_one_region(tmp_path):
    census = tmp_path / "census"
    write_sample_census(census, regions=[REGION, "greater-manchester"], seed=2, scale=0.05)
    resources = make_resources(tmp_path, census_dir=census)
    defs = make_defs(resources)
    instance = dg.DagsterInstance.ephemeral()
    assert run(defs, "census_release_job", instance).success
    job = defs.resolve_job_def("geodem_region_job").get_subset(
        asset_selection={dg.AssetKey("region_output_areas")}
    )
    for slug in (REGION, "greater-manchester"):
        assert job.execute_in_process(instance=instance, partition_key=slug).success
    oas = resources["warehouse"].read("region_output_areas")
    assert oas["OA"].is_unique
    truth = pd.read_csv(census / "planted_truth.csv")
    assert set(oas["OA"]) == set(truth["OA"])
    mat = instance.get_latest_materialization_event(
        dg.AssetKey("region_output_areas")
    ).asset_materialization.metadata
    assert (
        mat["reference_intersects_oas"].value > mat["dagster/row_count"].value
    )  # the reference's join over-counts


def test_region_not_in_release_fails_naming_the_lads(region_run):
    job = (
        region_run["defs"]
        .resolve_job_def("geodem_region_job")
        .get_subset(asset_selection={dg.AssetKey("region_output_areas")})
    )
    result = job.execute_in_process(
        instance=region_run["instance"], partition_key="wales", raise_on_error=False
    )
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "W06000001" in failure.message and "not in the census release" in failure.message


def test_embedding_takes_epochs_and_parallel_layout_from_run_config(region_run):
    wh = region_run["resources"]["warehouse"]
    before = wh.read("cluster_embedding", "region", REGION).sort_values("OA").reset_index(drop=True)
    job = (
        region_run["defs"]
        .resolve_job_def("geodem_region_job")
        .get_subset(asset_selection={dg.AssetKey("cluster_embedding")})
    )
    config = {"ops": {"cluster_embedding": {"config": {"n_epochs": 20, "deterministic": False}}}}
    result = job.execute_in_process(instance=region_run["instance"], partition_key=REGION, run_config=config)
    assert result.success
    params = result.asset_materializations_for_node("cluster_embedding")[0].metadata["parameters"].value
    assert params["n_epochs"] == 20 and params["random_state"] is None and params["n_jobs"] == -1
    after = wh.read("cluster_embedding", "region", REGION).sort_values("OA").reset_index(drop=True)
    assert after["OA"].equals(before["OA"]) and not np.allclose(after["UMAP1"], before["UMAP1"])
    bad = job.execute_in_process(
        instance=region_run["instance"],
        partition_key=REGION,
        raise_on_error=False,
        run_config={"ops": {"cluster_embedding": {"config": {"n_epochs": 0}}}},
    )
    assert not bad.success
    assert "n_epochs must be at least 1" in str(bad.failure_data_for_node("cluster_embedding").error)


def _latest_metadata(region_run, asset: str) -> dict:
    event = region_run["instance"].get_latest_materialization_event(dg.AssetKey(asset))
    return event.asset_materialization.metadata


def test_cluster_names_page_shows_every_cluster_named_and_sized(region_run):
    meta = _latest_metadata(region_run, "cluster_names")
    table = meta["classification"]
    assert isinstance(table, dg.TableMetadataValue)
    assert next(iter(meta)) == "classification"  # the first thing on the asset page
    rows = [r.data for r in table.records]
    assert [c.name for c in table.schema.columns] == [
        "level",
        "code",
        "name",
        "oas",
        "pct_oas",
        "population",
        "pct_population",
    ]
    assert all(c.description for c in table.schema.columns)
    codes = [r["code"] for r in rows]
    assert codes == ["A", "A1", "A2", "B", "B1", "B2", "C", "C1", "C2", "D", "D1", "D2", "E", "E1", "E2"]
    assert all(r["name"] for r in rows)
    classification = pd.read_parquet(region_run["tmp"] / "out" / "geodem" / REGION / "classification.parquet")
    for r in rows:
        column = r["level"]
        assert r["oas"] == int((classification[column] == r["code"]).sum()), r
    sup = [r for r in rows if r["level"] == "supergroup"]
    assert abs(sum(r["pct_oas"] for r in sup) - 100) < 0.3
    assert abs(sum(r["pct_population"] for r in sup) - 100) < 0.3


def test_supergroups_page_shows_sizes_as_a_table(region_run):
    meta = _latest_metadata(region_run, "supergroups")
    rows = [r.data for r in meta["sizes"].records]
    assert [r["code"] for r in rows] == list("ABCDE")
    assert sum(r["oas"] for r in rows) == meta["dagster/row_count"].value


def _check_partitions(instance, asset: str, check: str) -> list[str | None]:
    records = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey(asset), check), limit=100
    )
    # Evaluations only: a run that failed before a check leaves it planned, with no partition.
    data = [r.event.dagster_event.event_specific_data for r in records if r.event]
    return [d.partition for d in data if isinstance(d, dg.AssetCheckEvaluation)]


def test_each_region_check_result_belongs_to_its_region(region_run):
    inst = region_run["instance"]
    for asset, check in [
        ("region_output_areas", "region_size_vs_k"),
        ("region_matrix", "matrix_finite_and_scaled"),
        ("supergroups", "supergroups_not_tiny"),
        ("subgroups", "subgroups_not_tiny"),
        ("cluster_names", "names_from_configured_namer"),
    ]:
        partitions = _check_partitions(inst, asset, check)
        assert partitions and set(partitions) == {REGION}, (asset, check, partitions)
    # The release is one thing, not per region.
    assert set(_check_partitions(inst, "census_release", "census_schema_and_ranges")) == {None}


def test_each_oas_fit_reaches_parquet_geopackage_and_the_asset_pages(region_run):
    folder = region_run["tmp"] / "out" / "geodem" / REGION
    table = pd.read_parquet(folder / "classification.parquet")
    for level in ("supergroup", "subgroup"):
        d2, second = table[f"{level}_distance2"], table[f"{level}_second"]
        assert (d2 >= 0).all() and second.notna().all() and (second != table[level]).all()
        assert table[f"{level}_silhouette"].between(-1, 1).all()
        flagged = table[f"{level}_poor_fit"]
        assert flagged.dtype == bool and flagged.sum() == (d2 > d2.quantile(0.95)).sum() > 0
        assert d2[flagged].min() > d2[~flagged].max()
    assert (table["subgroup_second"].str.len() >= 2).all()  # subgroup codes, e.g. B2
    layer = pyogrio.read_dataframe(folder / "classification.gpkg", layer="subgroups", read_geometry=False)
    assert layer["subgroup_poor_fit"].dtype == bool and layer["subgroup_distance2"].dtype == float
    merged = layer.merge(table, on="OA", suffixes=("", "_parquet"))
    assert (merged["subgroup_poor_fit"] == merged["subgroup_poor_fit_parquet"]).all()
    assert "Poorly fitting OAs (subgroups)" in (folder / "map_offline.html").read_text()
    for asset, level in (("supergroups", "supergroup"), ("subgroups", "subgroup")):
        meta = _latest_metadata(region_run, asset)
        assert meta["poor_fit_oas"].value == int(table[f"{level}_poor_fit"].sum())
        assert "data:image/png;base64," in meta["poor_fit_map"].value
        assert len(meta["poor_fit_by_supergroup"].value) < 1000  # inline on the asset page
        worst = [r.data for r in meta["worst_fitting_oas"].records]
        assert worst[0]["OA"] == table.loc[table[f"{level}_distance2"].idxmax(), "OA"]


def test_diagnostics_page_shows_every_criterion_and_which_decided(region_run):
    meta = _latest_metadata(region_run, "cluster_diagnostics")
    criteria = [r.data for r in meta["criteria"].records]
    assert [r["criterion"] for r in criteria] == [
        "elbow",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "gap",
    ]
    k = meta["suggested_k"].value
    voters = [r["criterion"] for r in criteria if r["voted_with_suggestion"]]
    assert voters and all(r["k"] == k for r in criteria if r["criterion"] in voters)
    assert meta["decided_by"].value.startswith(f"k = {k}: named by {voters[0]}")
    scores = [r.data for r in meta["scores"].records]
    assert [r["k"] for r in scores] == list(range(1, 10))
    assert all(r["davies_bouldin"] is not None and r["gap"] is not None for r in scores[1:])
    # The k most criteria named (this region's planted OAC subgroups are clusters too, so the
    # criteria disagree here; tests/geodem/test_choose_k.py holds them to planted tiers).
    counts = {c: sum(r["k"] == c for r in criteria) for c in {r["k"] for r in criteria} - {None}}
    assert counts[k] == max(counts.values())


TABLE_ASSETS = [
    "census_release",
    "region_output_areas",
    "region_census",
    "region_matrix",
    "cluster_diagnostics",
    "supergroups",
    "subgroups",
    "release_changes",
    "cluster_embedding",
    "cluster_profiles",
    "cluster_names",
    "classification_exports",
]


def test_every_table_asset_describes_its_columns_and_says_where_it_wrote(region_run):
    for asset in TABLE_ASSETS:
        meta = _latest_metadata(region_run, asset)
        schema = meta["dagster/column_schema"].schema
        assert schema.columns, asset
        undescribed = [c.name for c in schema.columns if not c.description]
        assert not undescribed, (asset, undescribed)
        assert meta["dagster/row_count"].value >= 0, asset
        where = meta.get("dagster/table_name") or meta.get("dagster/uri")
        assert where is not None, asset
    assert _latest_metadata(region_run, "supergroups")["dagster/table_name"].value.endswith(
        ".main.supergroups"
    )
    uri = _latest_metadata(region_run, "classification_exports")["dagster/uri"].value
    assert uri.startswith("file://") and uri.endswith("/classification.parquet")
