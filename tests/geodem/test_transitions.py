"""Transition tables between two classifications and the OAs that changed cluster."""

import pandas as pd
import pytest

from geodem_assets import transitions


def test_transition_table_counts_and_shares():
    before = pd.Series(["A", "A", "A", "B", "B"], index=list("pqrst"))
    after = pd.Series(["A", "B", "A", "B", "B"], index=list("pqrst"))
    table = transitions.transition_table(before, after, "supergroup")
    assert table[["from_cluster", "to_cluster", "oas"]].values.tolist() == [
        ["A", "A", 2],
        ["A", "B", 1],
        ["B", "B", 2],
    ]
    assert table["pct_of_from"].tolist() == pytest.approx([200 / 3, 100 / 3, 100])
    assert table["pct_of_all"].tolist() == pytest.approx([40, 20, 40])
    assert transitions.transition_matrix(table).values.tolist() == [[2, 1], [0, 2]]


def test_only_oas_in_both_releases_are_compared():
    before = pd.Series(["A", "B"], index=["p", "gone"])
    after = pd.Series(["A", "A"], index=["p", "new"])
    table = transitions.transition_table(before, after, "supergroup")
    assert table[["from_cluster", "to_cluster", "oas"]].values.tolist() == [["A", "A", 1]]


def test_changed_oas_name_the_coarsest_level_that_changed():
    before = pd.DataFrame(
        {"supergroup": ["A", "A", "B", "B"], "subgroup": ["A1", "A2", "B1", "B1"]},
        index=["p", "q", "r", "gone"],
    )
    after = pd.DataFrame(
        {"supergroup": ["A", "B", "B", "A"], "subgroup": ["A2", "B1", "B1", "A1"]},
        index=["p", "q", "r", "new"],
    )
    changed = transitions.changed_oas(before, after, ["supergroup", "subgroup"])
    assert changed["OA"].tolist() == ["gone", "new", "p", "q"]
    assert changed["change"].tolist() == [transitions.GONE_OA, transitions.NEW_OA, "subgroup", "supergroup"]
    assert changed.loc[3, ["supergroup_before", "supergroup_after"]].tolist() == ["A", "B"]
    assert list(changed.columns) == [
        "OA",
        "change",
        "supergroup_before",
        "supergroup_after",
        "subgroup_before",
        "subgroup_after",
    ]
    with pytest.raises(KeyError, match="group"):
        transitions.changed_oas(before, after, ["supergroup", "group"])


def test_empty_table_has_the_columns_and_number_types_of_a_full_one():
    full = transitions.transition_table(pd.Series(["A"]), pd.Series(["B"]), "supergroup")
    empty = transitions.empty_transition_table()
    assert list(empty.columns) == list(full.columns) == list(transitions.TRANSITION_COLUMNS)
    for column in ("oas", "pct_of_from", "pct_of_all"):
        assert empty[column].dtype == full[column].dtype, column
