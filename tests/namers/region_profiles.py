"""Cluster profiles of a synthetic region, built with the pipeline's pure functions (no Dagster).

The same steps as the assets region_matrix -> supergroups -> subgroups -> cluster_profiles ->
cluster_names' input: arcsinh/min-max matrix, k-means, subgroups within each supergroup,
index scores on raw values (subgroups both against the region and against their supergroup).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import sample_data
from geodem_assets import clustering, profiles
from geodem_assets.naming import profiles_for_naming
from geodem_assets.transform import build_matrix
from resources.namers import ClusterProfile
from sample_data.census import build_sample_census

LOOKUP = pd.read_csv(
    __import__("pathlib").Path(sample_data.__file__).parent / "reference" / "census_variable_lookup.csv"
)


def region_profiles(
    region: str, seed: int, k: int, subgroups: list[int], scale: float = 1.0
) -> list[ClusterProfile]:
    """Supergroup and subgroup profiles of `region` in the sample census drawn with `seed`."""
    sample = build_sample_census(regions=[region], seed=seed, scale=scale)
    raw = sample.variables
    matrix = build_matrix(raw).matrix
    fit = clustering.kmeans(matrix.to_numpy(), k)
    fit = clustering.relabel(fit, clustering.canonical_order(fit))
    sup = pd.Series(clustering.supergroup_codes(fit.labels), index=matrix.index)
    codes = sorted(sup.unique())
    fits = clustering.subgroup_fits(matrix.to_numpy(), sup.to_numpy(), dict(zip(codes, subgroups)))
    sub = pd.Series(index=matrix.index, dtype=object)
    for code, f in fits.items():
        sub[sup.to_numpy() == code] = [f"{code}{i + 1}" for i in f.fit.labels]
    size_rows, score_rows = [], []
    for level, labels in (("supergroup", sup), ("subgroup", sub)):
        size_rows.append(profiles.sizes(labels, sample.population).reset_index().assign(level=level))
        score_rows.append(
            profiles.long_scores(profiles.index_scores(raw, labels)).assign(level=level, basis="raw")
        )
    within = profiles.subgroup_scores_within(raw, sup, sub)
    score_rows.append(profiles.long_scores(within).assign(level="subgroup", basis="raw_within_supergroup"))
    sizes = pd.concat(size_rows, ignore_index=True)
    scores = pd.concat(score_rows, ignore_index=True)
    return profiles_for_naming(sizes, scores, LOOKUP)


if __name__ == "__main__":  # a look at the names: python -m tests.namers.region_profiles
    import sys

    from resources.namers import OfflineNamer

    region, seed = (sys.argv[1], int(sys.argv[2])) if len(sys.argv) > 2 else ("liverpool-city-region", 0)
    found = region_profiles(region, seed, 5, [3, 3, 4, 3, 3])
    for named in OfflineNamer().name_clusters(found, region).names:
        print(f"{named.code:3} {named.name:40} {named.description[:300]}")
    _ = np
