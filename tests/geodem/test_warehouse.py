import pandas as pd

from resources.warehouse import Warehouse


def test_first_partition_without_values_does_not_fix_untyped_columns(tmp_path):
    wh = Warehouse(path=str(tmp_path / "w.duckdb"))
    empty = pd.DataFrame({"line_number": pd.Series([], dtype="int64"), "reason": pd.Series([], dtype=object)})
    wh.replace_partition("quarantine", "user_range", "0-7", empty)
    wh.replace_partition("quarantine", "user_range", "8-f", pd.DataFrame({"line_number": [3], "reason": ["bad_hll"]}))
    assert wh.read("quarantine")["reason"].tolist() == ["bad_hll"]


def test_rerun_of_partition_replaces_rows(tmp_path):
    wh = Warehouse(path=str(tmp_path / "w.duckdb"))
    for _ in range(2):
        wh.replace_partition("t", "region", "a", pd.DataFrame({"OA": ["x", "y"]}))
    wh.replace_partition("t", "region", "b", pd.DataFrame({"OA": ["z"]}))
    assert sorted(wh.read("t")["OA"]) == ["x", "y", "z"]
