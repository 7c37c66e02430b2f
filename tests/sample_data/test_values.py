"""Planted types shape the variables; marginals look like England & Wales 2021; runs repeat."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from sample_data.census import build_sample_census, load_lad_catalogue, load_regions

# (variable, low, high): E&W 2021 figures are about 5.4, 16.2, 83, 82, 62, 17, 20.5, 34, 3.4, 1.7.
PLAUSIBLE_MEANS = [
    ("v02", 4.0, 7.0),
    ("v06", 13.0, 20.0),
    ("v08", 78.0, 88.0),
    ("v19", 76.0, 88.0),
    ("v37", 55.0, 69.0),
    ("v38", 12.0, 22.0),
    ("v39", 15.0, 25.0),
    ("v47", 28.0, 40.0),
    ("v60", 2.5, 4.5),
    ("v31", 1.0, 2.5),
]


def _matrix(variables: pd.DataFrame) -> np.ndarray:
    """The reference workflow's transform: arcsinh, then min-max per column."""
    x = np.arcsinh(variables.to_numpy())
    span = x.max(axis=0) - x.min(axis=0)
    return np.where(span > 0, (x - x.min(axis=0)) / np.where(span > 0, span, 1), 0.0)


@pytest.mark.parametrize("variable,low,high", PLAUSIBLE_MEANS)
def test_england_and_wales_marginals_are_plausible(uk_small, variable, low, high):
    ew = uk_small.variables[uk_small.variables.index.str[0].isin(["E", "W"])]
    assert low <= ew[variable].mean() <= high


def test_shares_of_one_population_add_up(uk_small):
    v = uk_small.variables
    rounding = 0.005  # each value is rounded to 2 decimals
    assert np.allclose(v[["v37", "v38", "v39"]].sum(axis=1), 99.0, atol=3 * rounding)
    assert np.allclose(v[[f"v{i}" for i in range(51, 60)]].sum(axis=1), 100.0, atol=9 * rounding)
    assert (v[[f"v0{i}" for i in range(2, 8)]].sum(axis=1) <= 97.0 + 6 * rounding).all()
    assert (v[[f"v{i}" for i in range(12, 20)]].sum(axis=1) <= 100.0 + 8 * rounding).all()


def test_density_goes_with_flats_and_against_cars(lcr_and_wales_full):
    v = lcr_and_wales_full.variables
    log_density = np.log(v["v01"])
    assert np.corrcoef(log_density, v["v36"])[0, 1] > 0.3
    assert np.corrcoef(log_density, v["v44"])[0, 1] < -0.3
    assert np.corrcoef(log_density, v["v37"])[0, 1] < -0.3


def test_variables_follow_the_planted_types(uk_small):
    v, truth = uk_small.variables, uk_small.truth.set_index("OA")
    sg, sub = truth["planted_supergroup"], truth["planted_subgroup"]
    assert np.corrcoef(v["v37"], v["v38"])[0, 1] < -0.4  # owners where social renters are not
    assert v.loc[sub == "3a1", "v50"].mean() > 3 * v["v50"].mean()  # the student subgroup
    assert v.loc[sg == "1", "v06"].mean() > v.loc[sg == "3", "v06"].mean()  # retired vs urban young
    assert v.loc[sg == "1", "v19"].mean() > v.loc[sg == "4", "v19"].mean()


def test_northern_ireland_has_no_bangladeshi_counts(uk_small):
    v12 = uk_small.variables["v12"]
    ni = v12.index.str.startswith("N")
    assert ni.any() and (v12[ni] == 0).all() and (v12[~ni] > 0).mean() > 0.5


def test_oa_codes_carry_their_lads_nation(uk_small):
    truth = uk_small.truth
    assert truth["OA"].str.fullmatch(r"[ENSW]\d{8}").all() and truth["OA"].is_unique
    assert (truth["OA"].str[0] == truth["LAD22CD"].str[0]).all()
    assert (truth.loc[truth["OA"].str[0] == "S", "OA"].str[1:].astype(int) >= 88_956).all()
    # Northern Ireland's 2021 Data Zones are N20000001 onwards, Scotland's 2022 OAs S00088956 onwards.
    assert truth.loc[truth["OA"].str[0] == "N", "OA"].str.startswith("N20").all()
    assert set(truth["OA"].str[:3]) == {"E00", "W00", "S00", "N20"}


def test_uk_run_covers_every_lad_at_the_requested_scale(uk_small):
    catalogue = load_lad_catalogue()
    assert set(uk_small.lad["LAD22CD"]) == set(catalogue["LAD22CD"]) and len(catalogue) == 374
    expected = np.maximum(1, np.rint(catalogue["oa_count"] * 0.03)).sum()
    assert len(uk_small.variables) == expected
    assert abs(len(uk_small.variables) - 0.03 * 239_023) < 0.02 * 0.03 * 239_023


def test_catalogue_oa_counts_match_the_real_totals():
    catalogue = load_lad_catalogue().set_index("LAD22CD")
    regions = load_regions()

    def total(slug):
        return catalogue["oa_count"].reindex(regions[slug][1]).sum()

    assert catalogue["oa_count"].sum() == 239_023
    assert total("liverpool-city-region") == 5_258 and total("greater-london") == 26_369
    assert total("scotland") == 46_363 and total("wales") == 10_275 and total("northern-ireland") == 3_780
    assert 8_500 < total("greater-manchester") < 9_500


def test_same_seed_same_release_other_seed_other_release():
    first = build_sample_census(seed=7, scale=0.1)
    again = build_sample_census(seed=7, scale=0.1)
    other = build_sample_census(seed=8, scale=0.1)
    pd.testing.assert_frame_equal(first.variables, again.variables)
    pd.testing.assert_frame_equal(first.truth, again.truth)
    pd.testing.assert_series_equal(first.population, again.population)
    assert shapely.equals_exact(first.oa.geometry.to_numpy(), again.oa.geometry.to_numpy(), tolerance=0).all()
    assert not first.variables.equals(other.variables)


def test_a_lad_comes_out_the_same_in_regional_and_national_runs(uk_small):
    region = build_sample_census(regions=["liverpool-city-region"], seed=1, scale=0.03)
    national = uk_small.variables.loc[region.variables.index]
    pd.testing.assert_frame_equal(region.variables, national)


def test_kmeans_recovers_well_separated_planted_supergroups():
    sample = build_sample_census(seed=0, scale=0.3, noise=0.02, supergroups=[1, 3, 4, 5, 8])
    labels = KMeans(n_clusters=5, n_init=10, random_state=507).fit_predict(_matrix(sample.variables))
    assert adjusted_rand_score(sample.truth["planted_supergroup"], labels) >= 0.9


def test_default_noise_leaves_types_overlapping_as_real_ones_do():
    sample = build_sample_census(seed=0, scale=0.3)
    assert sample.truth["planted_supergroup"].nunique() == 8
    labels = KMeans(n_clusters=8, n_init=5, random_state=507).fit_predict(_matrix(sample.variables))
    assert 0.2 < adjusted_rand_score(sample.truth["planted_supergroup"], labels) < 0.9
