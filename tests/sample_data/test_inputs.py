"""Reference inputs are read strictly and bad ones are named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sample_data.census import (
    CENTROIDS,
    LAD_CATALOGUE,
    build_sample_census,
    load_lad_catalogue,
    load_regions,
    oac_subgroup_centres,
    region_slug,
)


def test_region_slugs_follow_the_region_names():
    assert region_slug("Liverpool City Region") == "liverpool-city-region"
    assert set(load_regions()) == {
        "liverpool-city-region",
        "greater-manchester",
        "greater-london",
        "scotland",
        "northern-ireland",
        "wales",
    }


def test_catalogue_has_the_real_names_of_the_regions_lads():
    catalogue = load_lad_catalogue().set_index("LAD22CD")
    wanted = {c for _, codes in load_regions().values() for c in codes}
    assert wanted - set(catalogue.index) == {"W06000007", "W06000017"}  # retired codes, not in Dec 2022
    names = catalogue["LAD22NM"]
    assert names["E08000012"] == "Liverpool" and names["E09000033"] == "Westminster"
    assert names["S12000049"] == "Glasgow City" and names["N09000003"] == "Belfast"
    assert names["W06000015"] == "Cardiff" and names["E08000003"] == "Manchester"
    assert not catalogue["synthetic"].any()


@pytest.mark.parametrize(
    "line,edit,message",
    [
        (3, lambda f: ["X123"] + f[1:], "line 3: LAD22CD 'X123' is not a GSS code"),
        (5, lambda f: f[:6] + ["many"] + f[7:], "line 5: oa_count must be a positive number, got 'many'"),
        (7, lambda f: f[:2] + ["-5"] + f[3:], "line 7: easting must be a positive number"),
    ],
)
def test_a_bad_catalogue_row_is_named_by_line(tmp_path, line, edit, message):
    import csv
    import io

    rows = list(csv.reader(io.StringIO(LAD_CATALOGUE.read_text())))
    rows[line - 1] = edit(rows[line - 1])
    bad = tmp_path / "lads.csv"
    with open(bad, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    with pytest.raises(ValueError, match=f"lads.csv {message}"):
        load_lad_catalogue(bad)


def test_unknown_region_lists_the_known_ones():
    with pytest.raises(KeyError, match="liverpool-city-region"):
        build_sample_census(regions=["atlantis"], scale=0.01)


def test_retired_welsh_codes_are_skipped_with_a_warning():
    with pytest.warns(UserWarning, match="W06000007, W06000017"):
        sample = build_sample_census(regions=["wales"], scale=0.02)
    assert sample.skipped_lads == ("W06000007", "W06000017") and len(sample.lad) == 22


def test_a_single_region_may_be_given_as_a_string():
    sample = build_sample_census(regions="northern-ireland", scale=0.02)
    assert sample.regions == ("northern-ireland",) and set(sample.truth["LAD22CD"].str[0]) == {"N"}


def test_regions_and_uk_together_are_refused():
    with pytest.raises(ValueError, match="not both"):
        build_sample_census(regions=["wales"], uk=True)


def test_centres_are_read_in_lookup_order_from_either_keying(tmp_path):
    centres = oac_subgroup_centres()
    assert centres.shape == (52, 60)
    assert centres["v31"].median() < 0.1  # communal establishments: rare
    assert centres["v50"].idxmax() == "3a1"  # full-time students: the student subgroup
    assert centres.loc["1a1", "v19"] > 0.95  # White: the retired rural subgroup
    path = tmp_path / "centroids.csv"
    centres.rename_axis("code").reset_index().assign(level="subgroup").to_csv(path, index=False)
    assert np.allclose(oac_subgroup_centres(path), centres)


def test_centres_outside_the_unit_interval_are_named(tmp_path):
    raw = pd.read_csv(CENTROIDS, dtype={"code": str})
    raw.loc[raw["code"] == "2b1", "v07"] = 1.5
    path = tmp_path / "centroids.csv"
    raw.to_csv(path, index=False)
    with pytest.raises(ValueError, match=r"centroids\.csv: subgroup 2b1 has values outside"):
        oac_subgroup_centres(path)
