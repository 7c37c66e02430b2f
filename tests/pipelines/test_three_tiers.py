"""Depth 3 through the whole graph: supergroup -> group -> subgroup in every output, and the UK in the OAC's shape."""

import dagster as dg
import numpy as np
import pandas as pd
import pyogrio
import pytest
from scipy.stats import ortho_group
from sklearn.metrics import adjusted_rand_score

from partitions.regions import get_region
from sample_data.census import write_sample_census
from tests.geodem.planted import planted_hierarchy
from tests.pipelines.harness import CENSUS_REGION as REGION
from tests.pipelines.harness import make_defs, make_resources, run

SHAPE = [[2, 3], [3, 2], [2, 2, 2]]  # 3 supergroups, 7 groups, 16 subgroups
DEPTH3 = {
    "ops": {
        "cluster_diagnostics": {"config": {"n_init": 4, "max_k": 6}},
        "supergroups": {"config": {"k": 3, "n_init": 10}},
        # No group or subgroup counts: each parent's split is the criteria vote's suggestion.
        "subgroups": {"config": {"depth": 3, "n_init": 10}},
    }
}


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    """The region's census variables replaced by a planted three-tier structure, then classified at depth 3."""
    tmp = tmp_path_factory.mktemp("tiers")
    census = tmp / "census"
    write_sample_census(census, regions=[REGION], seed=5, scale=0.1)
    path = census / "input_data" / "uk_census_data.parquet"
    table = pd.read_parquet(path)
    X, truth = planted_hierarchy(SHAPE, p=table.shape[1], n=-(-len(table) // 16), seed=3)
    rows = np.random.default_rng(0).permutation(len(X))[: len(table)]
    # Rotated, so that every variable carries the structure (min-max scaling would blow a
    # variable of noise alone up to the full range); every value between 5 and 95: a valid
    # percentage, density and SIR, far enough from the region's mean to name the clusters by.
    rotated = X @ ortho_group.rvs(X.shape[1], random_state=1)
    values = 50 + 45 * rotated[rows] / np.abs(rotated).max()
    pd.DataFrame(values, index=table.index, columns=table.columns).to_parquet(path)
    planted = pd.DataFrame(truth[rows], index=table.index, columns=["s", "g", "u"])
    resources = make_resources(tmp, census_dir=census)
    defs, instance = make_defs(resources), dg.DagsterInstance.ephemeral()
    assert run(defs, "census_release_job", instance).success
    result = run(defs, "geodem_region_job", instance, REGION, DEPTH3)
    assert result.success
    return {"tmp": tmp, "planted": planted, "resources": resources, "instance": instance, "result": result}


def test_planted_three_tiers_are_recovered_at_every_tier(planted_run):
    folder = planted_run["tmp"] / "out" / "geodem" / REGION
    table = pd.read_parquet(folder / "classification.parquet").set_index("OA")
    p = planted_run["planted"].reindex(table.index)
    truth = {
        "supergroup": p["s"],
        "group": p["s"].astype(str) + "." + p["g"].astype(str),
        "subgroup": p["s"].astype(str) + "." + p["g"].astype(str) + "." + p["u"].astype(str),
    }
    for level, planted in truth.items():
        assert adjusted_rand_score(planted, table[level]) >= 0.95, level
    assert (table["supergroup"].nunique(), table["group"].nunique(), table["subgroup"].nunique()) == (
        3,
        7,
        16,
    )
    meta = planted_run["result"].asset_materializations_for_node("subgroups")[0].metadata
    assert meta["depth"].value == 3 and "criteria vote" in meta["group_counts_source"].value
    assert sorted(meta["group_counts"].value.values()) == [2, 2, 3]


def test_the_third_tier_reaches_every_output(planted_run):
    folder = planted_run["tmp"] / "out" / "geodem" / REGION
    table = pd.read_parquet(folder / "classification.parquet")
    assert list(table.columns[:6]) == ["OA", "supergroup", "group", "subgroup", "UMAP1", "UMAP2"]
    assert (
        table["group"].str.fullmatch(r"[ABC]\d").all()
        and table["subgroup"].str.fullmatch(r"[ABC]\d[a-c]").all()
    )
    assert (table["subgroup"].str[:2] == table["group"]).all() and (
        table["group"].str[0] == table["supergroup"]
    ).all()
    assert table[["group_name", "group_distance2", "group_silhouette", "group_poor_fit"]].notna().all().all()
    layers = dict(pyogrio.list_layers(folder / "classification.gpkg"))
    assert set(layers) == {"supergroups", "groups", "subgroups"}
    groups_layer = pyogrio.read_dataframe(folder / "classification.gpkg", layer="groups", read_geometry=False)
    assert list(groups_layer.columns[:4]) == ["OA", "supergroup", "group", "group_name"]
    workshop = pd.read_csv(folder / "classification.csv")
    assert list(workshop.columns) == [
        "OA",
        "supergroup",
        "group",
        "subgroup",
        "supergroup_name",
        "group_name",
        "subgroup_name",
    ]
    described = pd.read_csv(folder / "cluster_descriptions.csv")
    assert described["level"].tolist() == ["supergroup"] * 3 + ["group"] * 7 + ["subgroup"] * 16
    assert "Groups" in (folder / "map_offline.html").read_text()
    assert '"groups"' in (folder / "map.html").read_text()
    assert "groups of supergroup A" in (folder / "names_prompt_A.txt").read_text()
    assert "subgroups of group A1" in (folder / "names_prompt_A1.txt").read_text()
    for png in ("clustergram_A.png", "clustergram_A1.png", "clustergram_C2.png"):
        assert (folder / png).read_bytes()[:4] == b"\x89PNG", png
    profiles = pd.read_csv(folder / "profiles.csv")
    assert profiles.groupby("level")["pct_oas"].sum().round(6).to_dict() == {
        "group": 100.0,
        "subgroup": 100.0,
        "supergroup": 100.0,
    }
    wh = planted_run["resources"]["warehouse"]
    scores = wh.read("cluster_index_scores", "region", REGION)
    assert set(scores.loc[scores["level"] == "group", "basis"]) == {"raw", "matrix", "raw_within_supergroup"}
    assert set(scores.loc[scores["level"] == "subgroup", "basis"]) == {"raw", "matrix", "raw_within_group"}
    names = wh.read("cluster_names", "region", REGION)
    assert len(names) == 3 + 7 + 16 and names["name"].is_unique
    page = planted_run["instance"].get_latest_materialization_event(dg.AssetKey("cluster_names"))
    rows = [r.data for r in page.asset_materialization.metadata["classification"].records]
    assert [r["code"] for r in rows][:4] == ["A", "A1", "A1a", "A1b"]
    checks = {e.check_name: e for e in planted_run["result"].get_asset_check_evaluations()}
    assert checks["subgroups_not_tiny"].passed
    assert checks["subgroups_not_tiny"].metadata["group_clusters"].value == 7


def test_uk_with_the_oac_counts_has_the_oacs_shape(tmp_path):
    uk = get_region("uk")
    assert (uk.depth, uk.k, len(uk.groups), sum(uk.groups), len(uk.subgroups), sum(uk.subgroups)) == (
        3,
        8,
        8,
        21,
        21,
        52,
    )
    census = tmp_path / "census"
    write_sample_census(census, uk=True, seed=1, scale=0.01)
    resources = make_resources(tmp_path, census_dir=census)
    defs, instance = make_defs(resources), dg.DagsterInstance.ephemeral()
    assert run(defs, "census_release_job", instance).success
    up_to_subgroups = [
        "region_output_areas",
        "region_census",
        "region_matrix",
        "cluster_diagnostics",
        "supergroups",
        "subgroups",
    ]
    job = defs.resolve_job_def("geodem_region_job").get_subset(
        asset_selection={dg.AssetKey(a) for a in up_to_subgroups}
    )
    config = {
        "ops": {
            "cluster_diagnostics": {"config": {"n_init": 2, "max_k": 3}},
            "supergroups": {"config": {"n_init": 4}},
            "subgroups": {"config": {"n_init": 4}},
        }
    }
    assert job.execute_in_process(instance=instance, partition_key="uk", run_config=config).success
    table = resources["warehouse"].read("subgroups", "region", "uk")
    assert (table["supergroup"].nunique(), table["group"].nunique(), table["subgroup"].nunique()) == (
        8,
        21,
        52,
    )
    groups = table.drop_duplicates("group").groupby("supergroup")["group"].count()
    assert groups.sort_index().tolist() == list(uk.groups)
    subgroups = table.drop_duplicates("subgroup").groupby("group")["subgroup"].count()
    assert subgroups.sort_index(key=lambda s: s.str[0] + s.str[1:].str.zfill(3)).tolist() == list(
        uk.subgroups
    )
