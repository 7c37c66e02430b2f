"""EmbeddedHLLBackend and the Dagster resources (PostgreSQL comparisons are in test_postgres.py)."""

from __future__ import annotations

import math

import dagster as dg
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from resources.hll import HLL, HLLFormatError, HLLParameterMismatch, hash_texts
from resources.hll_backends import EmbeddedHLLBackend
from resources.hll_resource import (
    EmbeddedHLLResource,
    HLLResource,
    PostgresHLLResource,
    hll_resource_from_env,
)
from tests.hll.synthetic import userday_rows
from tests.hll.vectors_io import float_bits


def days(user, *ds, params=(11, 5, 0, 1)):
    return HLL.from_hashes(hash_texts([f"twitter:{user}:{d}" for d in ds]), *params)


def test_aggregate_unions_per_country_and_per_user_not_sums():
    a1, a2, b1 = days("a", 1, 2, 3), days("a", 3, 4), days("a", 1, 2, 3, 4, 5)
    rows = pd.DataFrame(
        {
            "user_guid": ["b", "a", "a", "a", "b"],
            "country": ["DEU", "FRA", "FRA", "DEU", "DEU"],
            "userday_hll": [None, a1.to_hex(), a2.to_bytes(), b1.to_hex(), days("b", 9).to_hex()],
        }
    )
    per_country, per_user = EmbeddedHLLBackend().aggregate(rows)
    assert per_country[["user_guid", "country"]].values.tolist() == [["a", "DEU"], ["a", "FRA"], ["b", "DEU"]]
    assert per_country["n_points"].tolist() == [1, 2, 2]
    assert per_country["userdays"].tolist() == [
        b1.cardinality(),
        a1.union(a2).cardinality(),
        days("b", 9).cardinality(),
    ]
    assert per_user["user_guid"].tolist() == ["a", "b"]
    assert per_user["n_points"].tolist() == [3, 2]
    total_a = HLL.union_all([a1, a2, b1]).cardinality()
    assert float_bits(per_user["total_userdays"].iloc[0]) == float_bits(total_a)
    assert per_user["total_userdays"].iloc[0] < per_country["userdays"].iloc[:2].sum()
    assert list(per_country.columns) == ["user_guid", "country", "userdays", "n_points"]
    assert list(per_user.columns) == ["user_guid", "total_userdays", "n_points"]
    assert per_country["userdays"].dtype == np.float64 and per_country["n_points"].dtype == np.int64


def test_aggregate_matches_union_all_on_generated_rows():
    rows = userday_rows(60, seed=3)
    per_country, per_user = EmbeddedHLLBackend().aggregate(rows)
    for (user, country), part in rows.groupby(["user_guid", "country"]):
        want = HLL.union_all(HLL.from_hex(v) for v in part["userday_hll"]).cardinality()
        got = per_country.loc[(per_country.user_guid == user) & (per_country.country == country), "userdays"]
        assert float_bits(got.item()) == float_bits(want)
    for user, part in rows.groupby("user_guid"):
        want = HLL.union_all(HLL.from_hex(v) for v in part["userday_hll"]).cardinality()
        assert float_bits(per_user.loc[per_user.user_guid == user, "total_userdays"].item()) == float_bits(
            want
        )


def test_explicit_values_stay_exact_counts_until_the_threshold():
    params = (11, 5, 4, 1)
    rows = pd.DataFrame(
        {
            "user_guid": ["u"] * 3,
            "country": ["DEU", "DEU", "FRA"],
            "userday_hll": [days("u", *ds, params=params).to_hex() for ds in ((1, 2), (2, 3), (7, 8))],
        }
    )
    per_country, per_user = EmbeddedHLLBackend().aggregate(rows)
    assert per_country["userdays"].tolist() == [3.0, 2.0]
    # 5 distinct days > expthresh 4: the user's union is probabilistic.
    assert per_user["total_userdays"].item() == days("u", 1, 2, 3, 7, 8, params=(11, 5, 0, 1)).cardinality()


def test_parameter_mismatch_and_bad_values_name_the_user_and_row():
    good, other = days("u", 1).to_hex(), days("u", 1, params=(11, 4, 0, 1)).to_hex()
    rows = pd.DataFrame({"user_guid": ["u", "u"], "country": ["DEU", "FRA"], "userday_hll": [good, other]})
    with pytest.raises(HLLParameterMismatch, match="user_guid='u'"):
        EmbeddedHLLBackend().aggregate(rows)
    rows = pd.DataFrame(
        {"user_guid": ["u", "v"], "country": ["DEU", "FRA"], "userday_hll": [good, "\\x1499"]}, index=[10, 11]
    )
    with pytest.raises(HLLFormatError, match=r"userday_hll at row 11 \(user_guid='v'\)"):
        EmbeddedHLLBackend().aggregate(rows)


@pytest.mark.parametrize(
    "frame, message",
    [
        (pd.DataFrame({"user_guid": ["u"], "country": ["DEU"]}), "lack column"),
        (pd.DataFrame({"user_guid": [None], "country": ["DEU"], "userday_hll": [None]}), "user_guid"),
        (pd.DataFrame({"user_guid": ["u"], "country": [3], "userday_hll": [None]}), "country"),
    ],
)
def test_bad_rows_are_refused_with_the_column_named(frame, message):
    with pytest.raises(ValueError, match=message):
        EmbeddedHLLBackend().aggregate(frame)


TEXT_DTYPES = [object, "str", "string", pd.ArrowDtype(pa.string()), pd.ArrowDtype(pa.large_string())]


@pytest.mark.parametrize("dtype", TEXT_DTYPES, ids=str)
def test_every_text_dtype_gives_the_same_result_and_the_same_refusals(dtype):
    good = days("u", 1).to_hex()
    index = [7, 8, 9]
    frame = pd.DataFrame(
        {
            "user_guid": pd.Series(["v", "u", "v"], dtype=dtype, index=index),
            "country": pd.Series(["DEU", "FRA", "DEU"], dtype=dtype, index=index),
            "userday_hll": pd.Series([good, good, days("v", 2).to_hex()], index=index),
        }
    )
    expected = EmbeddedHLLBackend().aggregate(frame.astype({"user_guid": object, "country": object}))
    got = EmbeddedHLLBackend().aggregate(frame)
    pd.testing.assert_frame_equal(got[0], expected[0])
    pd.testing.assert_frame_equal(got[1], expected[1])
    with_null = frame.assign(user_guid=pd.Series(["v", None, "v"], dtype=dtype, index=frame.index))
    with pytest.raises(ValueError, match=r"rows\['user_guid'\] must be non-null strings; row 8"):
        EmbeddedHLLBackend().aggregate(with_null)
    with_nul = frame.assign(country=pd.Series(["DEU", "F\x00", "DEU"], dtype=dtype, index=frame.index))
    with pytest.raises(ValueError, match=r"rows\['country'\] must not contain NUL characters.*row 8"):
        EmbeddedHLLBackend().aggregate(with_nul)


def test_empty_input_gives_empty_frames():
    per_country, per_user = EmbeddedHLLBackend().aggregate(
        pd.DataFrame({"user_guid": [], "country": [], "userday_hll": []})
    )
    assert per_country.empty and per_user.empty
    assert list(per_user.columns) == ["user_guid", "total_userdays", "n_points"]


def test_resource_from_env_picks_postgres_only_when_the_url_is_set(monkeypatch):
    monkeypatch.delenv("GEODEM_HLL_DATABASE_URL", raising=False)
    assert isinstance(hll_resource_from_env(), EmbeddedHLLResource)
    monkeypatch.setenv("GEODEM_HLL_DATABASE_URL", "postgresql://u:secret@db.example/hll")
    res = hll_resource_from_env()
    assert isinstance(res, PostgresHLLResource) and isinstance(res, HLLResource)
    assert "secret" not in repr(res)


def test_embedded_resource_serves_an_asset():
    rows = userday_rows(5, seed=4)

    @dg.asset
    def user_totals(hll: HLLResource) -> pd.DataFrame:
        return hll.aggregate(rows)[1]

    result = dg.materialize([user_totals], resources={"hll": EmbeddedHLLResource()})
    assert result.success
    out = result.output_for_node("user_totals")
    pd.testing.assert_frame_equal(out, EmbeddedHLLBackend().aggregate(rows)[1])
    assert not math.isnan(out["total_userdays"].sum())
