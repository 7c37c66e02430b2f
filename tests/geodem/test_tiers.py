"""Tiers as configuration: the codes of depth 2 and 3, and a planted three-tier structure recovered."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from geodem_assets import clustering, hierarchy, tiers
from tests.geodem.planted import planted_hierarchy

SHAPE = [[2, 3], [3, 2], [2, 2, 2]]  # 3 supergroups, 7 groups, 16 subgroups


def test_codes_of_each_tier():
    assert tiers.levels(2) == ("supergroup", "subgroup")
    assert tiers.levels(3) == ("supergroup", "group", "subgroup")
    assert [tiers.child_code("A", i) for i in range(3)] == ["A1", "A2", "A3"]
    assert [tiers.child_code("B12", i) for i in range(3)] == ["B12a", "B12b", "B12c"]
    assert [tiers.parent_code(c) for c in ("A1a", "A10", "A")] == ["A1", "A", None]
    assert tiers.parent_code("A1a") == "A1" and tiers.code_depth("C3b") == 3
    assert sorted(["A2", "B", "A10", "A1b", "A", "A1", "A1a"], key=tiers.sort_key) == [
        "A",
        "A1",
        "A1a",
        "A1b",
        "A2",
        "A10",
        "B",
    ]
    assert tiers.parent_level("subgroup", 3) == "group" and tiers.parent_level("subgroup", 2) == "supergroup"


@pytest.mark.parametrize("bad", ["a", "A1a1", "AB", "1a", ""])
def test_a_string_that_is_not_a_code_is_named(bad):
    with pytest.raises(ValueError, match="not a cluster code"):
        tiers.parent_code(bad)


def test_depth_other_than_2_or_3_is_refused():
    with pytest.raises(ValueError, match="depth must be one of 2, 3"):
        tiers.levels(4)
    with pytest.raises(ValueError, match="not a supergroup or group code"):
        tiers.child_code("A1a", 0)


def _three_tiers(X: np.ndarray, truth: np.ndarray, counts=None) -> dict[str, pd.Series]:
    """Supergroups by k-means, then groups and subgroups with the counts given (planted) or suggested."""
    matrix = pd.DataFrame(X, index=[f"E{i:08d}" for i in range(len(X))])
    k = len(SHAPE) if counts else clustering.clustergram_fits(X, n_init=4, gap_references=5).suggested_k
    fit = clustering.kmeans(X, k, n_init=10)
    parents = pd.Series(clustering.supergroup_codes(fit.labels), index=matrix.index)
    out = {"supergroup": parents}
    for level in ("group", "subgroup"):
        if counts:
            wanted = {p: counts[level](truth, parents, p) for p in parents.unique()}
        else:
            wanted = hierarchy.suggested_counts(X, parents.to_numpy(), n_init=4, seed=507, method="fast")
        tier = hierarchy.fit_tier(matrix, parents, level, wanted, n_init=10)
        out[level] = parents = tier.codes
    return out


def _planted_count(level):
    """The number of planted children under parent code p, read from the truth of its members."""

    def count(truth, parents, p):
        members = truth[(parents == p).to_numpy()]
        column = 1 if level == "group" else 2
        keys = {tuple(row[: column + 1]) for row in members}
        return len(keys)

    return count


@pytest.mark.parametrize("counts", ["planted", "suggested"])
def test_planted_three_tier_structure_is_recovered_at_every_tier(counts):
    X, truth = planted_hierarchy(SHAPE, p=16, n=25, seed=2)
    given = (
        {"group": _planted_count("group"), "subgroup": _planted_count("subgroup")}
        if counts == "planted"
        else None
    )
    found = _three_tiers(X, truth, given)
    planted = {
        "supergroup": truth[:, 0],
        "group": [f"{a}.{b}" for a, b, _ in truth],
        "subgroup": [f"{a}.{b}.{c}" for a, b, c in truth],
    }
    for level in tiers.levels(3):
        ari = adjusted_rand_score(planted[level], found[level])
        assert ari >= 0.95, (level, ari)
    assert found["subgroup"].nunique() == 16 and found["group"].nunique() == 7
    assert all(s.startswith(g) and g.startswith(p) for p, g, s in zip(*found.values()))
    assert found["subgroup"].str.fullmatch(r"[A-C]\d[a-c]").all()


def test_children_keep_their_codes_on_the_nearest_previous_centres():
    X, _ = planted_hierarchy([[3]], p=8, n=30, seed=4)
    matrix = pd.DataFrame(X, index=[f"E{i:08d}" for i in range(len(X))])
    parents = pd.Series("A", index=matrix.index)
    first = hierarchy.fit_tier(matrix, parents, "group", {"A": 3}, n_init=5)
    previous = first.centroid_table(list(matrix.columns))
    # Move the old centres' codes around: a new fit must follow them, not its canonical order.
    previous["group"] = previous["group"].map({"A1": "A3", "A2": "A1", "A3": "A2"})
    again = hierarchy.fit_tier(matrix, parents, "group", {"A": 3}, previous, n_init=5, seed=9)
    assert again.numbers_from == {"A": "matched to previous centroids"}
    mapping = {"A1": "A3", "A2": "A1", "A3": "A2"}
    assert (again.codes == first.codes.map(mapping)).all()


def test_counts_must_match_the_parents():
    with pytest.raises(ValueError, match="3 subgroup counts given for 2 parents"):
        hierarchy.counts_for([2, 2, 2], ["A1", "A2"], "subgroup counts")
    assert hierarchy.counts_for([3, 2], ["B", "A"], "group counts") == {"A": 3, "B": 2}
