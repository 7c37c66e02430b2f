"""Home-country rules, Local / Tourist classification and the summary."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeloc_assets.inference import (
    HOME_COLUMNS,
    _positions_in,
    classify,
    infer_home,
    summarise,
    users_without,
)


def _per_country(rows):
    return pd.DataFrame(rows, columns=["user_guid", "country", "userdays", "n_points"])


def _per_user(pc: pd.DataFrame, extra=()):
    pu = pc.groupby("user_guid", as_index=False).agg(
        total_userdays=("userdays", "sum"), n_points=("n_points", "sum")
    )
    return pd.concat(
        [pu, pd.DataFrame(extra, columns=["user_guid", "total_userdays", "n_points"])], ignore_index=True
    )


def _one(home, user):
    return home.set_index("user_guid").loc[user]


def test_clear_winner_is_classified():
    pc = _per_country([("u", "Germany", 20.0, 3), ("u", "France", 4.0, 1), ("u", "Italy", 1.0, 1)])
    home = infer_home(pc, _per_user(pc), set())
    assert list(home.columns) == HOME_COLUMNS
    row = _one(home, "u")
    assert (row.home_country, row.home_userdays, row.runner_up_country, row.runner_up_userdays) == (
        "Germany",
        20.0,
        "France",
        4.0,
    )
    assert (row.n_countries, row.status, row.total_userdays) == (3, "classified", 25.0)


@pytest.mark.parametrize(
    "home_days, runner_days, status",
    [
        (8.0, 8.0, "tie"),  # equal
        (8.0, 7.5, "tie"),  # within the margin
        (8.0, 7.0, "classified"),  # exactly one day more is a clear margin
        (8.0004, 7.0002, "classified"),
        (4.0, 1.0, "insufficient_evidence"),  # too few days, even with a clear margin
        (4.0, 4.0, "insufficient_evidence"),  # too few days outranks tie
    ],
)
def test_margin_and_evidence_rules(home_days, runner_days, status):
    pc = _per_country([("u", "Austria", home_days, 1), ("u", "Germany", runner_days, 1)])
    assert _one(infer_home(pc, _per_user(pc)), "u").status == status


def test_single_country_user_with_enough_days_is_classified():
    pc = _per_country([("u", "Germany", 5.0, 2)])
    row = _one(infer_home(pc, _per_user(pc)), "u")
    assert (row.status, row.runner_up_country, row.runner_up_userdays) == ("classified", None, 0.0)


def test_tie_order_is_deterministic_by_country_name():
    rows = [("u", "Spain", 6.0, 1), ("u", "Italy", 6.0, 1), ("u", "Austria", 1.0, 1)]
    for order in (rows, rows[::-1]):
        row = _one(infer_home(_per_country(order), _per_user(_per_country(order))), "u")
        assert (row.home_country, row.runner_up_country, row.status) == ("Italy", "Spain", "tie")


def test_users_without_any_country_are_no_country():
    pc = _per_country([("a", "Germany", 9.0, 1)])
    pu = _per_user(pc, extra=[("b", 3.0, 2)])
    for no_country in ({"b", "c"}, pd.DataFrame({"user_guid": ["b", "c"]}), ["c"]):
        home = infer_home(pc, pu, no_country).set_index("user_guid")
        assert home.loc["b", "status"] == "no_country" and home.loc["c", "status"] == "no_country"
        assert home.loc["b", "home_country"] is None and home.loc["b", "home_userdays"] == 0.0
        assert home.loc["b", "total_userdays"] == 3.0 and pd.isna(home.loc["c", "total_userdays"])
        assert home.loc["a", "status"] == "classified"


def test_user_with_some_points_offshore_keeps_its_countries():
    pc = _per_country([("a", "Germany", 9.0, 1)])
    home = infer_home(pc, _per_user(pc), {"a"})
    assert _one(home, "a").status == "classified"


def test_thresholds_are_configurable():
    pc = _per_country([("u", "Austria", 3.0, 1), ("u", "Germany", 2.2, 1)])
    # 0.8 user-days ahead; σ_d ≈ 0.06: z = 1.645 classifies, z = 10 does not (0.5 + 10·σ_d > 0.8).
    assert _one(infer_home(pc, _per_user(pc), min_userdays=2.0), "u").status == "classified"
    assert _one(infer_home(pc, _per_user(pc), min_userdays=2.0, z=10.0), "u").status == "tie"
    assert _one(infer_home(pc, _per_user(pc), min_userdays=4.0), "u").status == "insufficient_evidence"


@pytest.mark.parametrize(
    "home_days, runner_days, z, status",
    [
        (100.0, 98.0, 1.645, "tie"),  # a coin toss at log2m 11 (σ_d ≈ 2.2)
        (100.0, 96.0, 1.645, "tie"),  # needs 0.5 + 1.645·2.2 ≈ 4.1 user-days
        (100.0, 95.0, 1.645, "classified"),
        (100.0, 98.0, 0.0, "classified"),  # z = 0: ahead by more than half a day
        (10.0, 9.0, 1.645, "classified"),  # small sets are near-exact: one day is clear
        (1000.0, 990.0, 1.645, "tie"),  # σ_d ≈ 23.9 at 1,000 user-days
        (1000.0, 950.0, 1.645, "classified"),
    ],
)
def test_tie_band_follows_the_hll_error(home_days, runner_days, z, status):
    pc = _per_country([("u", "Austria", home_days, 1), ("u", "Germany", runner_days, 1)])
    assert _one(infer_home(pc, _per_user(pc), z=z), "u").status == status


def test_confidence_and_rounded_columns():
    pc = _per_country(
        [("u", "Austria", 100.0, 1), ("u", "Germany", 98.0, 1), ("v", "France", 10.0002, 1)]
        + [("w", "Spain", 1.000244, 1), ("w", "Italy", 1.000244, 1)]
    )
    home = infer_home(pc, _per_user(pc), {"x"}).set_index("user_guid")
    assert 0.6 < home.loc["u", "confidence"] < 0.8  # Φ((2 - 0.5) / 2.2) ≈ 0.75
    assert home.loc["u", "margin_se"] == pytest.approx(2.2, abs=0.05)
    assert home.loc["v", "confidence"] == pytest.approx(1.0) and home.loc["v", "status"] == "classified"
    assert home.loc["w", "confidence"] < 0.01  # equal estimates: the home is not ahead
    assert pd.isna(home.loc["x", "confidence"]) and pd.isna(home.loc["x", "margin_se"])
    assert home.loc["v", "home_userdays"] == 10.0002 and home.loc["v", "home_userdays_rounded"] == 10
    assert home.loc["w", "runner_up_userdays_rounded"] == 1
    assert (
        home["home_userdays_rounded"].dtype == "int64" and home["runner_up_userdays_rounded"].dtype == "int64"
    )
    assert pd.isna(home.loc["x", "total_userdays_rounded"]) and home.loc["v", "total_userdays_rounded"] == 10


def test_argmax_rule_is_the_reference_arg_max():
    pc = _per_country([("u", "Austria", 100.0, 1), ("u", "Germany", 99.5, 1), ("v", "Italy", 8.0, 1)])
    pc = pd.concat([pc, _per_country([("v", "France", 8.0, 1)])], ignore_index=True)
    home = infer_home(pc, _per_user(pc), rule="argmax").set_index("user_guid")
    assert home.loc["u", ["home_country", "status"]].tolist() == ["Austria", "classified"]
    assert home.loc["v", ["home_country", "status"]].tolist() == ["France", "classified"]  # by name
    assert home.loc["u", "confidence"] < 0.95  # still reported
    with pytest.raises(ValueError, match="rule must be one of"):
        infer_home(pc, _per_user(pc), rule="mode")
    with pytest.raises(ValueError, match="z must be finite"):
        infer_home(pc, _per_user(pc), z=-1.0)


@pytest.mark.parametrize(
    "pc, match",
    [
        (_per_country([("u", "Germany", -1.0, 1)]), "userdays must be finite and >= 0"),
        (
            _per_country([("u", "Germany", 1.0, 1), ("u", "Germany", 2.0, 1)]),
            "duplicate row for user 'u', country 'Germany'",
        ),
        (pd.DataFrame({"user_guid": ["u"], "country": ["Germany"]}), r"missing column\(s\) \['userdays'\]"),
    ],
)
def test_bad_inputs_are_named(pc, match):
    pu = pd.DataFrame({"user_guid": ["u"], "total_userdays": [1.0], "n_points": [1]})
    with pytest.raises(ValueError, match=match):
        infer_home(pc, pu)


def test_country_rows_need_their_user_in_per_user():
    pc = _per_country([("u", "Germany", 9.0, 1)])
    with pytest.raises(ValueError, match="user 'u' is missing from per_user"):
        infer_home(pc, pd.DataFrame({"user_guid": ["v"], "total_userdays": [1.0], "n_points": [1]}))


def test_classify_and_summarise():
    pc = _per_country(
        [
            ("l1", "Germany", 30.0, 1),
            ("l2", "Germany", 9.0, 1),
            ("l2", "Austria", 2.0, 1),
            ("t1", "France", 12.0, 1),
            ("t1", "Germany", 2.0, 1),
            ("t2", "France", 7.0, 1),
            ("t2", "Germany", 1.0, 1),
            ("t3", "Poland", 6.0, 1),
            ("t3", "Germany", 3.0, 1),
            ("x1", "Germany", 2.0, 1),  # insufficient evidence
            ("x2", "Germany", 6.0, 1),
            ("x2", "Italy", 6.0, 1),  # tie
        ]
    )
    home = infer_home(pc, _per_user(pc, extra=[("x3", 1.0, 1)]))
    classes = classify(home, study_country="Germany").set_index("user_guid")["classification"].to_dict()
    assert classes == {
        "l1": "Local",
        "l2": "Local",
        "t1": "Tourist",
        "t2": "Tourist",
        "t3": "Tourist",
        "x1": "Unclassified",
        "x2": "Unclassified",
        "x3": "Unclassified",
    }
    s = summarise(classify(home))
    assert (s["n_users"], s["n_local"], s["n_tourist"], s["n_unclassified"]) == (8, 2, 3, 3)
    assert s["by_status"] == {"classified": 5, "insufficient_evidence": 1, "tie": 1, "no_country": 1}
    assert s["locals_per_tourist"] == pytest.approx(2 / 3) and s["ratio"] == "1:1.50"
    assert s["tourists_by_home_country"] == {"France": 2, "Poland": 1}
    assert (
        classify(home, study_country="France").set_index("user_guid").loc["t1", "classification"] == "Local"
    )


def test_summary_without_tourists_or_locals():
    pc = _per_country([("a", "Germany", 9.0, 1)])
    s = summarise(classify(infer_home(pc, _per_user(pc))))
    assert s["locals_per_tourist"] is None and s["ratio"] == "1:0.00"
    s = summarise(classify(infer_home(pc, _per_user(pc)), study_country="France"))
    assert s["n_local"] == 0 and s["ratio"] is None


_GUIDS = st.text(alphabet="0123456789abcdefé", min_size=1, max_size=3)
_COUNTRIES = st.sampled_from(["Germany", "France", "Italy", "Åland", "Côte d'Ivoire", "Spain"])


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.tuples(_GUIDS, _COUNTRIES, st.sampled_from([0.0, 1.0, 4.0, 5.0, 5.000244, 9.0, 30.0])),
        max_size=40,
        unique_by=lambda r: (r[0], r[1]),
    ),
    outside=st.lists(_GUIDS, max_size=5),
    rule=st.sampled_from(["hll_error", "argmax"]),
)
def test_each_user_ranked_alone_gives_the_same_homes(rows, outside, rule):
    """infer_home works on whole columns; ranking each user's countries on their own must agree."""
    pc = _per_country([(u, c, d, 1) for u, c, d in rows])
    home = infer_home(pc, _per_user(pc), outside, rule=rule).set_index("user_guid")
    users = sorted({u for u, _, _ in rows} | set(outside))
    assert list(home.index) == users
    for u in users:
        ranked = sorted(((-d, c) for v, c, d in rows if v == u))
        got = home.loc[u]
        assert got["n_countries"] == len(ranked)
        assert got["home_country"] == (ranked[0][1] if ranked else None)
        assert got["home_userdays"] == (-ranked[0][0] if ranked else 0.0)
        assert got["runner_up_country"] == (ranked[1][1] if len(ranked) > 1 else None)
        assert got["runner_up_userdays"] == (-ranked[1][0] if len(ranked) > 1 else 0.0)
        if not ranked:
            assert got["status"] == "no_country" and pd.isna(got["total_userdays"])
        else:
            assert got["total_userdays"] == sum(-d for d, _ in ranked)


@pytest.mark.parametrize("as_arrow", [True, False])
def test_positions_in_finds_each_string_or_minus_one(as_arrow):
    table = ["b", "a", "ü", "c\nd"]
    values = ["a", "zz", "ü", "b", "c\nd", "a", ""]
    wrap = (lambda v: pd.Series(v, dtype="str")) if as_arrow else (lambda v: pd.Series(v, dtype=object))
    got = _positions_in(wrap(values), wrap(table))
    assert got.dtype.kind == "i" and got.tolist() == [1, -1, 2, 0, 3, 1, -1]
    assert _positions_in([], table).tolist() == []
    assert _positions_in(values, []).tolist() == [-1] * len(values)
    # the same as pandas' lookup; a missing value is never found, not even among missing ones
    assert got.tolist() == pd.Index(table).get_indexer(values).tolist()
    assert _positions_in([None, "a"], [None, "a"]).tolist() == [-1, 1]


def test_users_without_gives_each_user_without_a_per_user_row_once_in_order():
    per_user = pd.DataFrame({"user_guid": pd.Series(["b", "d"], dtype="str"), "total_userdays": [1.0, 2.0]})
    users = pd.Series(["c", "b", "c", "a", "d", "a"], dtype="str")
    assert users_without(users, per_user).tolist() == ["c", "a"]
    assert users_without(["b", "d"], per_user).tolist() == []
    assert users_without([], per_user).tolist() == []
    assert users_without(["a", None], per_user.iloc[:0]).tolist() == ["a"]  # a missing guid is no user
    with pytest.raises(TypeError, match="list-like"):
        users_without("ab", per_user)
    with pytest.raises(ValueError, match="per_user: missing column"):
        users_without(users, per_user.rename(columns={"user_guid": "guid"}))
