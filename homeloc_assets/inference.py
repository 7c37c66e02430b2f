"""Home country from per-country user-day estimates, and Local / Tourist classification.

Rules of ``infer_home`` (each user gets exactly one status, checked in this order):

1. ``no_country``: the user has no point inside or near (within the offshore distance of)
   any country, so no per-country estimate. ``home_country`` is None, ``home_userdays`` 0.
2. Otherwise countries are ranked by estimated user-days, descending; equal estimates are
   ordered by country name ascending, so the ranking is deterministic. ``home_country`` is
   the first, ``runner_up_country`` the second (None and 0 user-days if there is none).
3. ``insufficient_evidence``: ``home_userdays < min_userdays`` (default 5): too few days to
   tell where someone lives.
4. ``tie`` (rule ``"hll_error"``, the default): the home is not ahead of the runner-up by
   more than the estimator's error allows, ``home - runner_up < ½ + z·σ_d``, i.e.
   ``confidence < Φ(z)``; σ_d is the standard error of the difference of the two HLL
   estimates and ``confidence`` the probability that the home's true user-days exceed the
   runner-up's (homeloc_assets/hll_error.py gives the derivation). z defaults to 1.645: a
   one-sided test at the 5 % level, the question being one-sided (is the home ahead?); a
   classified home is then at least 95 % sure to be the country with most days. At 100
   against 96 user-days (σ_d ≈ 2.2 at log2m 11, confidence 0.946) that is a tie; at 10 against 9, with
   σ_d ≈ 0.2, one day is a clear margin. Rule ``"argmax"`` is the reference workflow's: no
   tie status at all, the country with most estimated user-days wins (set min_userdays to 0
   as well to reproduce its published figures).
5. ``classified``: everything else.

Every user with a country gets a ``confidence`` (NaN for ``no_country``) and ``margin_se``
(σ_d); the user-day columns are the estimator's values, each with a ``_rounded`` twin
(nearest whole user-day, for reading).

``classify`` turns that into ``Local`` (classified, home = study country), ``Tourist``
(classified, home elsewhere) or ``Unclassified`` (any other status).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import ndtr

from homeloc_assets.hll_error import confidence_ahead, difference_se

HOME_COLUMN_DESCRIPTIONS = {
    "user_guid": "the user",
    "home_country": "country with most estimated user-days (None: no_country)",
    "home_userdays": "estimated distinct user-days in the home country, as the HLL estimator gives it",
    "home_userdays_rounded": "home_userdays rounded to a whole user-day, for reading",
    "total_userdays": "estimated distinct user-days over all the user's points (a union, not a sum)",
    "total_userdays_rounded": "total_userdays rounded to a whole user-day, for reading",
    "runner_up_country": "country with the second most estimated user-days (None if only one)",
    "runner_up_userdays": "estimated distinct user-days in the runner-up country (0 if none)",
    "runner_up_userdays_rounded": "runner_up_userdays rounded to a whole user-day, for reading",
    "n_countries": "countries the user has user-days in",
    "margin_se": "standard error (user-days) of home_userdays - runner_up_userdays, from log2m and the two estimates",
    "confidence": "probability that the home's true user-days exceed the runner-up's, Φ((margin - ½) / margin_se)",
    "status": "classified, tie, insufficient_evidence or no_country",
}
HOME_COLUMNS = list(HOME_COLUMN_DESCRIPTIONS)
RULES = ("hll_error", "argmax")
DEFAULT_Z = 1.645
STATUSES = ("classified", "insufficient_evidence", "tie", "no_country")
CLASSES = ("Local", "Tourist", "Unclassified")


def _require(df: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; has {list(df.columns)}")


def with_rounded_userdays(
    per_country: pd.DataFrame, per_user: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The HLL backend's (per_country, per_user) with a rounded twin of each estimate, for
    reading: ``userdays_rounded`` and ``total_userdays_rounded`` (nullable Int64, NA where the
    estimate is NaN), as ``user_country_userdays`` stores them."""
    return (
        per_country.assign(userdays_rounded=per_country["userdays"].round().astype("Int64")),
        per_user.assign(total_userdays_rounded=per_user["total_userdays"].round().astype("Int64")),
    )


def _arrow_strings(values: Iterable[str]) -> pa.Array:
    """``values`` as an Arrow string array (no copy when they are Arrow-backed already)."""
    return pa.array(
        pd.Series(values if isinstance(values, (pd.Series, pd.Index)) else list(values), dtype="str").array
    )


def _positions_in(values: Iterable[str], table: Iterable[str]) -> np.ndarray:
    """Position of each string of ``values`` in ``table``, whose strings the caller knows to be
    distinct; -1 where absent, and for a missing value. int64, shape (len(values),).

    Arrow's hash lookup (``pyarrow.compute.index_in``): several times faster than pandas'
    ``Index.get_indexer`` on Arrow-backed strings, with no Python object per value.
    """
    found = pc.index_in(  # pyright: ignore[reportAttributeAccessIssue]
        _arrow_strings(values), value_set=_arrow_strings(table), skip_nulls=True
    )
    return found.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def users_without(users: Iterable[str], per_user: pd.DataFrame) -> pd.Index:
    """The distinct ``users`` (a list-like of guids) that have no row in ``per_user`` (column
    ``user_guid``): those ``infer_home`` gives ``no_country``, in their first order of
    appearance, as an Index of dtype "str"; a missing guid (None, NaN) is no user. ValueError
    when ``per_user`` lacks the column.
    """
    _require(per_user, ["user_guid"], "per_user")
    if isinstance(users, (str, bytes)):
        raise TypeError(f"users must be a list-like of guids, not one {type(users).__name__}")
    distinct = _arrow_strings(users).drop_null().unique()
    known = pc.is_in(  # pyright: ignore[reportAttributeAccessIssue]
        distinct, value_set=_arrow_strings(per_user["user_guid"]), skip_nulls=True
    )
    return pd.Index(pd.array(distinct.filter(pc.invert(known)), dtype="str"))  # pyright: ignore[reportAttributeAccessIssue]


def _users_of(no_country_users: pd.DataFrame | Iterable[str] | None) -> pd.Index:
    if no_country_users is None:
        return pd.Index([], dtype="str")
    if isinstance(no_country_users, pd.DataFrame):
        _require(no_country_users, ["user_guid"], "no_country_users")
        values = no_country_users["user_guid"]
    else:
        values = list(no_country_users)
    return pd.Index(pd.unique(pd.Series(values, dtype="str")))


def infer_home(
    per_country: pd.DataFrame,
    per_user: pd.DataFrame,
    no_country_users: pd.DataFrame | Iterable[str] | None = None,
    *,
    min_userdays: float = 5.0,
    rule: str = "hll_error",
    z: float = DEFAULT_Z,
    log2m: int = 11,
) -> pd.DataFrame:
    """One row per user with home country, runner-up, evidence, confidence and status (rules above).

    ``per_country``: one row per (user_guid, country) with ``userdays`` (estimated distinct
    days, >= 0) and ``n_points``. ``per_user``: one row per user_guid with ``total_userdays``
    (over all the user's points) and ``n_points``. ``no_country_users``: DataFrame with
    ``user_guid`` or an iterable of guids having points outside every country; those without
    any per-country row get ``no_country``, as do users of ``per_user`` without one. Output
    columns: ``HOME_COLUMNS``, sorted by user_guid; ``total_userdays`` is NaN for a user absent
    from ``per_user``. ``rule``: ``"hll_error"`` or ``"argmax"``; ``z``: standard errors of the
    tie band (>= 0); ``log2m``: of the HLL values the estimates came from. ValueError on an
    unknown rule, a negative z or a bad input frame.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    if not np.isfinite(z) or z < 0:
        raise ValueError(f"z must be finite and >= 0, got {z!r}")
    _require(per_country, ["user_guid", "country", "userdays"], "per_country")
    _require(per_user, ["user_guid", "total_userdays"], "per_user")
    pc_guid = per_country["user_guid"].astype("str")
    pc_country = per_country["country"].astype("str")
    userdays = pd.to_numeric(per_country["userdays"], errors="raise").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(userdays) | (userdays < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"per_country: userdays must be finite and >= 0; user {pc_guid.iloc[i]!r}, "
            f"country {pc_country.iloc[i]!r} has {userdays[i]!r}"
        )
    pu_guid = per_user["user_guid"].astype("str")
    pu_total = per_user["total_userdays"].to_numpy(dtype=np.float64)

    # Every user once (per_user first, then users with points only outside every country),
    # numbered in code-point order of the guid, as a sort of the strings gives; each per-country
    # row's user and country as integer codes (country codes follow the names, so equal
    # user-days break by name). Hash lookups, not string sorts, except one sort of the users.
    pu_index = pd.Index(pu_guid)
    if pu_index.has_duplicates:
        raise ValueError(f"per_user: duplicate user_guid {pu_index[pu_index.duplicated()][0]!r}")
    pu_pos = _positions_in(pc_guid, pu_index)
    if (pu_pos < 0).any():
        raise ValueError(
            f"per_country: user {pc_guid.iloc[int(np.flatnonzero(pu_pos < 0)[0])]!r} is missing from per_user"
        )
    users = pu_index.append(_users_of(no_country_users)).unique().sort_values()
    pu_rank = _positions_in(pu_index, users)
    user = pu_rank[pu_pos]
    country, countries = pd.factorize(pc_country, sort=True)
    pair = user.astype(np.int64) * max(len(countries), 1) + country
    dup = pd.Index(pair).duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise ValueError(
            f"per_country: duplicate row for user {pc_guid.iloc[i]!r}, country {pc_country.iloc[i]!r}"
        )

    order = np.lexsort((country, -userdays, user))
    user, country, userdays = user[order], country[order], userdays[order]
    starts = np.flatnonzero(np.r_[True, user[1:] != user[:-1]]) if len(user) else np.zeros(0, np.int64)
    n_countries = np.bincount(user, minlength=len(users)).astype(np.int64)
    seconds = starts[n_countries[user[starts]] > 1] + 1

    n = len(users)
    home_code = np.full(n, -1, np.int64)
    home_code[user[starts]] = country[starts]
    home_days = np.zeros(n)
    home_days[user[starts]] = userdays[starts]
    runner_code = np.full(n, -1, np.int64)
    runner_code[user[seconds]] = country[seconds]
    runner_days = np.zeros(n)
    runner_days[user[seconds]] = userdays[seconds]
    total = np.full(n, np.nan)
    total[pu_rank] = pu_total
    names = np.empty(len(countries) + 1, dtype=object)  # code -1 reads the None at the end
    names[:-1] = np.asarray(countries, dtype=object)

    out = pd.DataFrame(
        {
            "user_guid": pd.Series(users, dtype="str", copy=False),
            "home_country": pd.Series(names[home_code], dtype=object),
            "home_userdays": home_days,
            "total_userdays": total,
            "runner_up_country": pd.Series(names[runner_code], dtype=object),
            "runner_up_userdays": runner_days,
            "n_countries": n_countries,
        }
    )

    home, runner = out["home_userdays"].to_numpy(), out["runner_up_userdays"].to_numpy()
    has_country = out["n_countries"].to_numpy() > 0
    confidence = confidence_ahead(home, runner, log2m)
    out["margin_se"] = np.where(has_country, difference_se(home, runner, log2m), np.nan)
    out["confidence"] = np.where(has_country, confidence, np.nan)
    out["home_userdays_rounded"] = out["home_userdays"].round().astype(np.int64)
    out["runner_up_userdays_rounded"] = out["runner_up_userdays"].round().astype(np.int64)
    out["total_userdays_rounded"] = out["total_userdays"].round().astype("Int64")  # NA where total is NaN
    if rule == "argmax":
        tie = np.zeros(len(out), dtype=bool)
    else:
        tie = (out["n_countries"].to_numpy() > 1) & ((confidence < ndtr(z)) | (home == runner))
    status = np.select(
        [~has_country, home < min_userdays, tie],
        ["no_country", "insufficient_evidence", "tie"],
        default="classified",
    )
    out["status"] = pd.Series(status, index=out.index, dtype="str")
    return out[HOME_COLUMNS]


def classify(home: pd.DataFrame, study_country: str = "Germany") -> pd.DataFrame:
    """``home`` plus ``classification``: Local / Tourist (classified users) or Unclassified."""
    _require(home, ["home_country", "status"], "home")
    classified = home["status"].to_numpy() == "classified"
    at_home = (home["home_country"] == study_country).to_numpy()
    labels = np.where(classified & at_home, "Local", np.where(classified, "Tourist", "Unclassified"))
    return home.assign(classification=pd.Series(labels, index=home.index, dtype="str"))


def summarise(classified: pd.DataFrame) -> dict:
    """Counts by class and status, locals per tourist, and tourists by home country.

    ``locals_per_tourist`` is n_local / n_tourist (None without tourists) and ``ratio`` the
    same as text, ``"1:2.41"`` meaning 2.41 tourists per local (None without locals).
    """
    _require(classified, ["classification", "status", "home_country"], "classified")
    counts = classified.groupby(["classification", "status", "home_country"], dropna=False).size()
    return summarise_counts(counts.reset_index(name="n"))


def summarise_counts(counts: pd.DataFrame) -> dict:
    """summarise() from user counts by (classification, status, home_country) in column n, as a
    database's GROUP BY gives them: the summary of millions of users without loading them."""
    _require(counts, ["classification", "status", "home_country", "n"], "counts")
    n = counts["n"].astype(np.int64)
    by_class = n.groupby(counts["classification"]).sum()
    n_local, n_tourist = int(by_class.get("Local", 0)), int(by_class.get("Tourist", 0))
    tourists = counts["classification"] == "Tourist"
    by_home = n[tourists].groupby(counts.loc[tourists, "home_country"]).sum()
    by_home = by_home[by_home > 0].sort_index().sort_values(ascending=False, kind="stable")
    by_status = n.groupby(counts["status"]).sum()
    return {
        "n_users": int(n.sum()),
        "n_local": n_local,
        "n_tourist": n_tourist,
        "n_unclassified": int(by_class.get("Unclassified", 0)),
        "by_status": {s: int(by_status.get(s, 0)) for s in STATUSES},
        "locals_per_tourist": n_local / n_tourist if n_tourist else None,
        "ratio": f"1:{n_tourist / n_local:.2f}" if n_local else None,
        "tourists_by_home_country": {str(k): int(v) for k, v in by_home.items()},
    }
