"""A new census release re-classifies a region; release_changes shows exactly the OAs that moved."""

import dagster as dg
import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from geodem_assets.sensors import regions_after_census_sensor
from sample_data.census import write_sample_census
from tests.pipelines.harness import CENSUS_REGION as REGION
from tests.pipelines.harness import make_defs, make_resources, run

# Three planted OAC supergroups that k-means with k = 3 recovers exactly on this sample.
SAMPLE = {"seed": 3, "scale": 0.1, "noise": 0.02, "supergroups": [1, 3, 5]}
CONFIG = {
    "ops": {
        "cluster_diagnostics": {"config": {"n_init": 3, "max_k": 4}},
        "supergroups": {"config": {"k": 3, "n_init": 10}},
        "subgroups": {"config": {"subgroups": [2, 2, 2], "n_init": 5}},
    }
}
UP_TO_CHANGES = [
    "region_output_areas",
    "region_census",
    "region_matrix",
    "cluster_diagnostics",
    "supergroups",
    "subgroups",
    "release_changes",
]

CLUSTERS = ["supergroups", "subgroups", "release_changes"]


def classify(defs, instance, assets=UP_TO_CHANGES):
    job = defs.resolve_job_def("geodem_region_job").get_subset(
        asset_selection={dg.AssetKey(a) for a in assets}
    )
    config = {"ops": {op: c for op, c in CONFIG["ops"].items() if op in assets}}
    result = job.execute_in_process(instance=instance, partition_key=REGION, run_config=config)
    assert result.success
    return result.asset_materializations_for_node("release_changes")[0].metadata


def move_five_percent(path, truth: pd.DataFrame, seed: int = 11) -> pd.DataFrame:
    """Give 5 % of the OAs the census row of an OA of another planted supergroup; returns OA -> donor."""
    rng = np.random.default_rng(seed)
    table = pd.read_parquet(path)
    planted = truth.set_index("OA")["planted_supergroup"].reindex(table.index)
    moved = rng.choice(table.index.to_numpy(), size=round(0.05 * len(table)), replace=False)
    donors = []
    for oa in moved:
        others = planted.index[(planted != planted[oa]).to_numpy() & ~planted.index.isin(moved)]
        donors.append(rng.choice(others.to_numpy()))
    table.loc[moved] = table.loc[donors].to_numpy()
    table.to_parquet(path)
    return pd.DataFrame({"OA": moved, "donor": donors})


def test_a_release_with_five_percent_moved_shows_exactly_those_moves(tmp_path):
    census = tmp_path / "census"
    write_sample_census(census, regions=[REGION], **SAMPLE)
    truth = pd.read_csv(census / "planted_truth.csv")
    resources = make_resources(tmp_path, census_dir=census)
    defs, instance, wh = make_defs(resources), dg.DagsterInstance.ephemeral(), resources["warehouse"]
    assert run(defs, "census_release_job", instance).success
    first = classify(defs, instance)
    assert first["previous_release"].value.startswith("none")
    before = wh.read("subgroups", "region", REGION).set_index("OA")
    planted = truth.set_index("OA")["planted_supergroup"].reindex(before.index)
    assert adjusted_rand_score(planted, before["supergroup"]) == 1.0  # exact, so every move is visible
    fp_before = wh.read("census_release_info")["fingerprint"].iloc[0]
    # A re-run on the same release is not a new release: still nothing to compare.
    assert classify(defs, instance, CLUSTERS)["previous_release"].value.startswith("none")

    moves = move_five_percent(census / "input_data" / "uk_census_data.parquet", truth)
    assert run(defs, "census_release_job", instance).success
    repo = defs.get_repository_def()
    context = dg.build_sensor_context(instance=instance, resources=resources, repository_def=repo)
    requests = regions_after_census_sensor.evaluate_tick(context).run_requests
    assert [r.partition_key for r in requests] == [REGION]  # the sensor re-classifies the region
    meta = classify(defs, instance)

    assert meta["previous_release"].value == fp_before != meta["census_fingerprint"].value
    letter = before["supergroup"]
    expected = (
        pd.DataFrame(
            {"from_cluster": letter[moves["OA"]].to_numpy(), "to_cluster": letter[moves["donor"]].to_numpy()}
        )
        .value_counts()
        .sort_index()
    )
    table = wh.read("cluster_transitions", "region", REGION)
    sup = table[table["level"] == "supergroup"]
    off = sup[sup["from_cluster"] != sup["to_cluster"]].set_index(["from_cluster", "to_cluster"])["oas"]
    assert off.sort_index().to_dict() == expected.to_dict()
    stayed = sup[sup["from_cluster"] == sup["to_cluster"]].set_index("from_cluster")["oas"]
    sizes = letter.value_counts()
    assert (
        stayed.to_dict()
        == (sizes - letter[moves["OA"]].value_counts().reindex(sizes.index, fill_value=0)).to_dict()
    )
    assert meta["oas_changed_supergroup"].value == len(moves) and meta["oas_compared"].value == len(before)
    rows = [r.data for r in meta["supergroup_transitions"].records]
    assert sum(r["oas"] for r in rows if r["from_cluster"] != r["to_cluster"]) == len(moves)
    assert "data:image/png;base64," in meta["supergroup_heatmap"].value

    changed = pd.read_parquet(tmp_path / "out" / "geodem" / REGION / "changed_oas.parquet")
    assert set(changed.loc[changed["change"] == "supergroup", "OA"]) == set(moves["OA"])
    assert set(changed["change"]) <= {"supergroup", "subgroup"}
    subgroups = table[table["level"] == "subgroup"]
    assert subgroups["oas"].sum() == len(before)
    kept = wh.read("previous_release_labels", "region", REGION).set_index("OA")
    assert (kept["census_fingerprint"] == fp_before).all()
    assert kept["subgroup"].reindex(before.index).equals(before["subgroup"])
