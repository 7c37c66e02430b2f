"""End to end on generated data: ranges -> countries -> HLL unions -> home; compared with the truth."""

from __future__ import annotations

import pandas as pd

from homeloc_assets.countries import CountryIndex, assign_countries, load_countries
from homeloc_assets.inference import classify, infer_home, summarise
from homeloc_assets.reader import read_range
from partitions.user_ranges import user_ranges
from resources.hll import HLL


def _union_cardinality(blobs) -> float:
    return HLL.union_all(HLL.from_bytes(b) for b in blobs).cardinality()


def test_home_country_is_recovered_for_users_with_clear_evidence(sample):
    index = CountryIndex(load_countries())
    homes, n_rows, n_quarantined = [], 0, 0
    for r in user_ranges(16):
        got = read_range(sample.path, r.lo, r.hi)
        n_rows += len(got.rows)
        n_quarantined += len(got.quarantine)
        rows = got.rows
        country, _ = assign_countries(rows["latitude"], rows["longitude"], index)
        rows = rows.assign(country=country)
        located = rows[rows["country"].notna()]
        per_country = located.groupby(["user_guid", "country"], as_index=False).agg(
            userdays=("userday_hll", _union_cardinality), n_points=("userday_hll", "size")
        )
        per_user = rows.groupby("user_guid", as_index=False).agg(
            total_userdays=("userday_hll", _union_cardinality), n_points=("userday_hll", "size")
        )
        nowhere = set(rows.loc[rows["country"].isna(), "user_guid"])
        homes.append(infer_home(per_country, per_user, nowhere))
    assert n_rows == sample.n_rows and n_quarantined == len(sample.bad_lines)

    home = pd.concat(homes, ignore_index=True)
    assert home["user_guid"].is_unique and len(home) == sample.n_users
    truth = pd.read_csv(sample.truth_path, dtype=str, keep_default_na=False)
    judged = home.merge(truth, on="user_guid", validate="one_to_one")
    clear = judged[judged["status"] == "classified"]
    assert (clear["home_userdays"] >= 5).all() and (
        clear["home_userdays"] - clear["runner_up_userdays"] >= 1
    ).all()
    assert len(clear) >= 300, f"only {len(clear)} users with clear evidence; the test would prove little"
    accuracy = (clear["home_country"] == clear["true_home"]).mean()
    assert accuracy >= 0.99, f"{accuracy:.3%} of {len(clear)} clear users got their true home"

    summary = summarise(classify(home, study_country="Germany"))
    assert summary["n_users"] == sample.n_users
    assert summary["n_local"] > 0 and summary["n_tourist"] > 0
    assert summary["by_status"]["insufficient_evidence"] > summary["by_status"]["classified"]
