"""The suggested k: five criteria, one vote each; the planted number of types at every tier."""

import numpy as np
import pytest

from geodem_assets import choose_k, clustering
from tests.geodem.planted import planted_hierarchy

SHAPE = [[2, 3], [3, 2], [2, 2, 3]]  # 3 supergroups, 7 groups, 17 subgroups


def suggest(X):
    return clustering.clustergram_fits(X, range(1, 10), n_init=4, seed=5, gap_references=5)


def test_the_suggestion_is_the_planted_number_of_types_at_every_tier():
    X, truth = planted_hierarchy(SHAPE)
    top = suggest(X)
    assert top.suggested_k == len(SHAPE), top.suggestion.reason
    for i, groups in enumerate(SHAPE):
        rows = truth[:, 0] == i
        within = suggest(X[rows])
        assert within.suggested_k == len(groups), (i, within.suggestion.reason)
        for j, subgroups in enumerate(groups):
            group = suggest(X[rows & (truth[:, 1] == j)])
            assert group.suggested_k == subgroups, (i, j, group.suggestion.reason)


def test_each_criterion_names_a_k_and_the_reason_says_who_decided():
    X, _ = planted_hierarchy([[1], [1], [1], [1]])  # four plain clusters
    cg = suggest(X)
    named = {c.name: c.best_k for c in cg.suggestion.criteria}
    assert named == dict.fromkeys(choose_k.CRITERIA, 4)
    assert cg.suggested_k == 4 and "5 of the 5" in cg.suggestion.reason
    table = choose_k.criteria_table(cg.suggestion)
    assert table["voted_with_suggestion"].all() and table["k"].tolist() == [4] * 5
    scores = choose_k.scores_table({k: f.inertia for k, f in cg.fits.items()}, cg.suggestion)
    assert list(scores.columns) == list(choose_k.SCORE_COLUMNS) and scores["k"].tolist() == list(range(1, 10))
    assert np.isnan(scores.loc[0, "silhouette"]) and scores["gap"].notna().all()


def test_kneedle_elbow_by_hand():
    # Scaled: x = 0, .25, .5, .75, 1; 1 - w = 0, .5, .8, .9, 1; distance 0, .25, .3, .15, 0.
    k, distance = choose_k.kneedle_elbow([1, 2, 3, 4, 5], [10.0, 5.0, 2.0, 1.0, 0.0])
    assert k == 3 and [distance[i] for i in range(1, 6)] == pytest.approx([0, 0.25, 0.3, 0.15, 0])
    assert choose_k.kneedle_elbow([1, 2], [2.0, 1.0])[0] is None


def test_gap_statistic_finds_no_structure_in_uniform_data_and_three_blobs_in_three():
    rng = np.random.default_rng(1)
    uniform = rng.uniform(size=(300, 4))
    assert choose_k.gap_statistic(uniform, list(range(1, 7)), references=10, seed=2)[2] == 1
    blobs = np.concatenate([c + rng.normal(scale=0.03, size=(80, 4)) for c in np.eye(3, 4)])
    gap, se, best = choose_k.gap_statistic(blobs, list(range(1, 7)), references=10, seed=2)
    assert best == 3 and gap[3] > gap[2] + se[3]


def _criteria(**best):
    return tuple(choose_k.Criterion(name, {}, best.get(name)) for name in choose_k.CRITERIA)


@pytest.mark.parametrize(
    ("best", "k", "words"),
    [
        (dict(elbow=4, silhouette=4, calinski_harabasz=9, davies_bouldin=4, gap=None), 4, "3 of the 4"),
        (dict(elbow=3, silhouette=2, calinski_harabasz=2, davies_bouldin=3, gap=8), 3, "elbow's k"),
        (dict(elbow=6, silhouette=2, calinski_harabasz=2, davies_bouldin=5, gap=5), 2, "smallest"),
        (
            dict(elbow=None, silhouette=None, calinski_harabasz=None, davies_bouldin=None, gap=1),
            2,
            "raised to 2",
        ),
    ],
)
def test_vote_and_its_tie_rules(best, k, words):
    suggestion = choose_k.vote(_criteria(**best), list(range(1, 10)))
    assert suggestion.k == k and words in suggestion.reason, suggestion.reason


@pytest.mark.parametrize("n, sample", [(300, None), (1_000, 400), (57, None)])
def test_silhouettes_of_every_k_equal_scikit_learns_one_by_one(n, sample):
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(n)
    X = np.vstack([rng.normal(c, 1.0, size=(n // 3 + 1, 4)) for c in (0.0, 3.0, 6.0)])[:n]
    X[1] = X[0]  # a duplicate row: a distance of exactly 0
    labels = {k: rng.integers(0, k, size=n) for k in range(2, 8)}
    labels[3] = np.repeat([0, 1, 2], [n - 2, 1, 1])  # two points alone in their clusters
    labels[4] = labels[4] * 10 + 7  # labels need not be 0..k-1
    got = choose_k.silhouettes(X, labels, sample_size=sample, seed=11)
    for k, y in labels.items():
        want = silhouette_score(X, y, sample_size=sample, random_state=11)
        assert got[k] == pytest.approx(want, rel=1e-9, abs=1e-12), k


def test_silhouettes_name_a_labelling_with_one_cluster():
    X = np.arange(20.0).reshape(10, 2)
    with pytest.raises(ValueError, match="k = 2: 1 distinct labels among 10 rows"):
        choose_k.silhouettes(X, {2: np.zeros(10, dtype=int)})


def test_silhouettes_refuse_what_scikit_learn_refuses():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10) % 2
    bad_x = X.copy()
    bad_x[3, 1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        choose_k.silhouettes(bad_x, {2: y})
    with pytest.raises(ValueError, match=r"k = 2: labels of shape \(9,\) for 10 rows"):
        choose_k.silhouettes(X, {2: y[:9]})
    with pytest.raises(ValueError, match="k = 2: labels hold NaN"):
        choose_k.silhouettes(X, {2: np.where(y == 1, np.nan, 0.0)})
    with pytest.raises(ValueError, match="sample_size must be at least 2"):
        choose_k.silhouettes(X, {2: y}, sample_size=0)
