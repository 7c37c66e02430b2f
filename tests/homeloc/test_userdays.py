"""The synthetic userday generator: layout, order, truth, HLLs, determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from homeloc_assets.countries import assign_countries, load_countries
from homeloc_assets.reader import read_range
from partitions.user_ranges import range_for, user_ranges
from resources.hll import HLL
from sample_data.userdays import sparse_hlls_hex, write_sample_userdays


@pytest.fixture(scope="module")
def sample_rows(sample):
    return read_range(sample.path, None, None)


def test_file_is_sorted_with_each_user_contiguous(sample):
    data = sample.path.read_bytes()
    assert b"\r" not in data and data.endswith(b"\n")
    lines = data.split(b"\n")[:-1]
    assert lines[0] == b"user_guid,latitude,longitude,userday_hll"
    keys = [line.split(b",", 1)[0] for line in lines[1:]]
    assert keys == sorted(keys)
    runs = [k for i, k in enumerate(keys) if i == 0 or k != keys[i - 1]]
    assert len(runs) == len(set(runs)) == sample.n_users
    assert all(len(k) == 32 and set(k.decode()) <= set("0123456789abcdef") for k in runs)


def test_reader_quarantines_only_the_intended_bad_rows(sample, sample_rows):
    q = sample_rows.quarantine
    assert list(zip(q["line_number"], q["kind"])) == sample.bad_lines
    assert len(sample.bad_lines) == 10
    assert len(sample_rows.rows) == sample.n_rows
    assert sample_rows.n_lines == sample.n_rows + 10


def test_truth_file_matches_the_users(sample, sample_rows):
    truth = pd.read_csv(sample.truth_path, dtype=str, keep_default_na=False)
    assert list(truth.columns) == ["user_guid", "true_home"]
    assert truth["user_guid"].tolist() == sorted(set(sample_rows.rows["user_guid"]))
    assert set(truth["true_home"]) <= set(load_countries()["name"])
    locals_ = (truth["true_home"] == "Germany").sum()
    assert locals_ == sample.n_locals and 0.25 < locals_ / sample.n_users < 0.42
    assert truth["true_home"].nunique() > 30


def test_every_row_is_an_hll_with_the_study_parameters(sample_rows):
    params = {
        (h.log2m, h.regwidth, h.expthresh, h.sparseon)
        for h in map(HLL.from_bytes, sample_rows.rows["userday_hll"])
    }
    assert params == {(11, 5, 0, 1)}


def test_every_user_posted_in_the_study_country_and_some_points_are_offshore(sample_rows):
    rows = sample_rows.rows
    country, how = assign_countries(rows["latitude"], rows["longitude"], load_countries())
    in_study = pd.Series(country == "Germany").groupby(rows["user_guid"].to_numpy()).any()
    assert in_study.all()
    assert 0.005 < (how == "nearest").mean() < 0.1
    assert (how == "none").sum() == 0
    assert (rows["latitude"] * 100).round(6).eq((rows["latitude"] * 100).round()).all()


def test_activity_is_heavy_tailed(sample_rows):
    rows = sample_rows.rows
    days = rows.groupby("user_guid")["userday_hll"].agg(
        lambda s: HLL.union_all(map(HLL.from_bytes, s)).cardinality()
    )
    assert (days < 2.5).mean() > 0.55
    assert days.max() > 100


def test_guids_spread_evenly_over_ranges(sample_rows):
    ranges = user_ranges(16)
    counts = pd.Series(
        [range_for(g, ranges).key for g in sample_rows.rows["user_guid"].unique()]
    ).value_counts()
    assert len(counts) == 16 and counts.min() > 0.7 * 3000 / 16 and counts.max() < 1.3 * 3000 / 16


def test_same_seed_same_bytes(tmp_path):
    a = write_sample_userdays(tmp_path / "a.csv", 300, seed=5)
    b = write_sample_userdays(tmp_path / "b.csv", 300, seed=5)
    c = write_sample_userdays(tmp_path / "c.csv", 300, seed=6)
    assert (
        a.path.read_bytes() == b.path.read_bytes() and a.truth_path.read_bytes() == b.truth_path.read_bytes()
    )
    assert a.path.read_bytes() != c.path.read_bytes()
    assert a.truth_path.name == "a_truth.csv"


def test_bulk_sparse_encoding_equals_the_codec():
    rng = np.random.default_rng(11)
    sizes = [1, 1, 2, 3, 17, 300, 639, 640, 700, 5000, 1]
    row = np.repeat(np.arange(len(sizes)), sizes)
    hashes = rng.integers(-(2**63), 2**63 - 1, len(row), dtype=np.int64)
    hashes[-3:-1] = hashes[0]  # repeated items within and across rows
    got = sparse_hlls_hex(row, hashes, len(sizes) + 1)
    for r in range(len(sizes)):
        assert got[r] == HLL.from_hashes(hashes[row == r], 11, 5, 0, 1).to_hex()
    assert got[-1] == HLL.from_hashes(np.empty(0, dtype=np.int64), 11, 5, 0, 1).to_hex()


def test_rejects_unknown_study_country(tmp_path):
    with pytest.raises(ValueError, match="study country 'Atlantis'"):
        write_sample_userdays(tmp_path / "x.csv", 10, study_country="Atlantis")
