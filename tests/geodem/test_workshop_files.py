"""The workshop's files: documented columns, one row per OA or per cluster, clustergram PNGs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodem_assets import workshop


def _classification(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    sup = np.array(["A", "B", "C"])[np.arange(n) % 3]
    sub = [f"{s}{1 + (i // 3) % 2}" for i, s in enumerate(sup)]
    table = pd.DataFrame(
        {
            "OA": [f"E{n - i:08d}" for i in range(n)],  # reverse order: the files sort by OA
            "supergroup": sup,
            "subgroup": sub,
            "UMAP1": rng.normal(size=n),
            "UMAP2": rng.normal(size=n),
        }
    )
    table["supergroup_name"] = table["supergroup"].map({"A": "Old Town", "B": "New Town", "C": "Campus"})
    table["subgroup_name"] = table["subgroup"] + " name"
    return table


def test_classification_csv_has_one_row_per_oa_and_the_names(tmp_path):
    table = _classification()
    path = tmp_path / workshop.CLASSIFICATION_CSV
    workshop.classification_csv(table).to_csv(path, index=False)
    got = pd.read_csv(path)
    assert list(got.columns) == ["OA", "supergroup", "subgroup", "supergroup_name", "subgroup_name"]
    assert got["OA"].is_unique and len(got) == len(table) and got["OA"].is_monotonic_increasing
    row = got.set_index("OA").loc["E00000060"]
    assert (row["supergroup"], row["subgroup"], row["supergroup_name"]) == ("A", "A1", "Old Town")
    with pytest.raises(KeyError, match="subgroup_name"):
        workshop.classification_csv(table.drop(columns="subgroup_name"))


def test_umap_parquet_has_one_row_per_oa(tmp_path):
    table = _classification()
    path = tmp_path / workshop.UMAP_PARQUET
    workshop.umap_table(table).to_parquet(path, index=False)
    got = pd.read_parquet(path)
    assert list(got.columns) == ["OA", "UMAP1", "UMAP2", "supergroup", "subgroup"]
    assert got["OA"].is_unique and len(got) == len(table)
    merged = got.merge(table, on="OA", suffixes=("", "_t"))
    assert np.array_equal(merged["UMAP1"], merged["UMAP1_t"])


def test_cluster_descriptions_has_one_row_per_cluster(tmp_path):
    names = pd.DataFrame(
        {
            "level": ["subgroup", "supergroup", "subgroup", "supergroup"],
            "cluster": ["B1", "B", "A1", "A"],
            "name": ["Leafy Semis", "New Town", "Dockside", "Old Town"],
            "description": ["These residents …", "Families …", "Renters …", "Older …"],
            "source": ["offline"] * 4,
        }
    )
    path = tmp_path / workshop.DESCRIPTIONS_CSV
    workshop.cluster_descriptions(names).to_csv(path, index=False)
    got = pd.read_csv(path)
    assert list(got.columns) == ["level", "code", "name", "pen_portrait", "source"]
    assert list(got["code"]) == ["A", "B", "A1", "B1"] and got["code"].is_unique
    assert got.set_index("code").loc["A1", "pen_portrait"] == "Renters …"


def test_clustergrams_one_for_supergroups_and_one_per_supergroup(tmp_path):
    rng = np.random.default_rng(1)
    centres = rng.uniform(size=(3, 4))
    X = np.vstack([c + rng.normal(scale=0.02, size=(40, 4)) for c in centres])
    oas = [f"E{i:08d}" for i in range(len(X))]
    matrix = pd.DataFrame(X, index=oas, columns=["v01", "v02", "v03", "v04"])
    sup = pd.Series(np.repeat(["A", "B", "C"], 40), index=oas)
    sup.iloc[-35:] = "C"
    sup.iloc[:5] = "D"  # a supergroup of 5 OAs: k up to 5 only
    grams = workshop.clustergrams(matrix, sup, n_init=3)
    assert [g.file for g in grams] == [
        "clustergram_supergroups.png",
        "clustergram_A.png",
        "clustergram_B.png",
        "clustergram_C.png",
        "clustergram_D.png",
    ]
    assert sorted(grams[0].labels_by_k) == list(range(1, 10))
    assert sorted(grams[-1].labels_by_k) == [1, 2, 3, 4, 5]
    assert all(len(labels) == len(g.X) for g in grams for labels in g.labels_by_k.values())
    assert len(np.unique(grams[0].labels_by_k[3])) == 3
    for gram in grams[:2]:
        workshop.write_clustergram_png(tmp_path / gram.file, gram)
        assert (tmp_path / gram.file).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_whole_matrix_clustergram_uses_labels_already_fitted_only_when_complete(monkeypatch):
    from geodem_assets import clustering

    rng = np.random.default_rng(2)
    oas = [f"E{i:08d}" for i in range(90)]
    matrix = pd.DataFrame(rng.uniform(size=(90, 3)), index=oas, columns=["v01", "v02", "v03"])
    sup = pd.Series(np.repeat(["A", "B"], 45), index=oas)
    fitted = {k: (np.arange(90) % k) for k in range(1, 10)}
    calls = []
    real = clustering.kmeans_range
    monkeypatch.setattr(
        clustering, "kmeans_range", lambda X, ks, **kw: calls.append(len(X)) or real(X, ks, **kw)
    )
    grams = workshop.clustergrams(matrix, sup, n_init=2, whole=fitted)
    assert calls == [45, 45]  # only the supergroups' own clustergrams were fitted
    assert all(np.array_equal(grams[0].labels_by_k[k], fitted[k]) for k in range(1, 10))
    calls.clear()
    del fitted[7]  # a k missing: the whole matrix is refitted
    grams = workshop.clustergrams(matrix, sup, n_init=2, whole=fitted)
    assert calls == [90, 45, 45]
