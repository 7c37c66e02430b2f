"""The warehouse interface, on one DuckDB file and on the Parquet record (a folder, or S3)."""

import pandas as pd
import pytest

from resources.parquet_warehouse import ParquetWarehouse, local_warehouse_from_record
from resources.warehouse import Warehouse


@pytest.fixture(params=["duckdb", "parquet", "parquet-s3"])
def wh(request, tmp_path):
    if request.param == "duckdb":
        return Warehouse(path=str(tmp_path / "w.duckdb"))
    if request.param == "parquet":
        return ParquetWarehouse(path=str(tmp_path / "record"), scratch=str(tmp_path / "scratch"))
    s3 = request.getfixturevalue("s3")
    return ParquetWarehouse(path=f"s3://{s3.bucket('warehouse')}/record", scratch=str(tmp_path / "scratch"))


def test_first_partition_without_values_does_not_fix_untyped_columns(tmp_path, wh):
    empty = pd.DataFrame({"line_number": pd.Series([], dtype="int64"), "reason": pd.Series([], dtype=object)})
    wh.replace_partition("quarantine", "user_range", "0-7", empty)
    wh.replace_partition(
        "quarantine", "user_range", "8-f", pd.DataFrame({"line_number": [3], "reason": ["bad_hll"]})
    )
    assert wh.read("quarantine")["reason"].tolist() == ["bad_hll"]


def test_rerun_of_partition_replaces_rows(tmp_path, wh):
    for _ in range(2):
        wh.replace_partition("t", "region", "a", pd.DataFrame({"OA": ["x", "y"]}))
    wh.replace_partition("t", "region", "b", pd.DataFrame({"OA": ["z"]}))
    assert sorted(wh.read("t")["OA"]) == ["x", "y", "z"]


def test_counts_and_parquet_export_stay_inside_duckdb(tmp_path, wh):
    wh.replace_partition("t", "part", "b", pd.DataFrame({"user_guid": ["u3", "u1"], "kind": ["x", None]}))
    wh.replace_partition("t", "part", "a", pd.DataFrame({"user_guid": ["u2"], "kind": ["x"]}))
    counts = wh.counts("t", ["kind"]).sort_values("n", ignore_index=True)
    assert counts["n"].tolist() == [1, 2] and counts["kind"].isna().tolist() == [True, False]
    out = tmp_path / "t.parquet"
    assert wh.export_parquet("t", out, order_by="user_guid", exclude="part") == 3
    table = pd.read_parquet(out)
    assert list(table.columns) == ["user_guid", "kind"] and table["user_guid"].tolist() == ["u1", "u2", "u3"]
    assert not list(tmp_path.glob(".*partial"))
    with pytest.raises(ValueError, match="not a table name"):
        wh.counts("t", ["kind; DROP TABLE t"])


def test_partition_with_new_columns_adds_them_to_an_older_table(tmp_path, wh):
    # A schema change (user_home_country gained confidence and rounded user-days): a warehouse
    # written before it takes the new columns; rows of ranges not yet re-run hold NULL there.
    wh.replace_partition("home", "user_range", "0-7", pd.DataFrame({"user_guid": ["a"], "userdays": [1.5]}))
    wh.replace_partition(
        "home",
        "user_range",
        "8-f",
        pd.DataFrame(
            {"user_guid": ["b"], "userdays": [2.0], "confidence": [0.97], "rounded": pd.array([2], "Int64")}
        ),
    )
    got = wh.read("home").sort_values("user_guid", ignore_index=True)
    assert got["confidence"].isna().tolist() == [True, False] and got.loc[1, "rounded"] == 2
    wh.replace_partition(
        "home",
        "user_range",
        "0-7",
        pd.DataFrame({"user_guid": ["a"], "userdays": [1.5], "confidence": [0.5], "rounded": [2]}),
    )
    assert wh.read("home").sort_values("user_guid")["confidence"].tolist() == [0.5, 0.97]


def test_reads_only_the_columns_and_rows_asked_for(tmp_path, wh):
    table = pd.DataFrame(
        {"OA": ["c", "a", "b"], "LAD22CD": ["L2", "L1", "L1"], "geometry_wkb": [b"3", b"1", b"2"]}
    )
    wh.replace_table("oa_boundaries", table)
    assert list(wh.read("oa_boundaries", columns=["OA", "LAD22CD"]).columns) == ["OA", "LAD22CD"]
    rows = wh.read_matching("oa_boundaries", "OA", ["b", "c", "b", "zz"], columns=["OA", "geometry_wkb"])
    assert rows["OA"].tolist() == ["b", "c"] and [bytes(w) for w in rows["geometry_wkb"]] == [b"2", b"3"]
    assert wh.read_matching("oa_boundaries", "OA", []).empty
    wh.replace_partition("p", "region", "r", pd.DataFrame({"OA": ["x"], "n": [1]}))
    assert wh.read("p", "region", "r", columns=["n"])["n"].tolist() == [1]
    with pytest.raises(ValueError, match="not a table name"):
        wh.read("oa_boundaries", columns=["OA; DROP TABLE oa_boundaries"])


def test_the_parquet_record_is_one_object_per_partition_and_rebuilds_a_duckdb_file(tmp_path):
    record = ParquetWarehouse(path=str(tmp_path / "record"), scratch=str(tmp_path / "scratch"))
    record.replace_table("census", pd.DataFrame({"OA": ["a", "b"]}))
    for key, oas in (("r1", ["a"]), ("r2", ["b"]), ("r1", ["a", "b"])):
        record.replace_partition("region_oas", "region", key, pd.DataFrame({"OA": oas}))
    assert sorted(p.name for p in (tmp_path / "record" / "region_oas").iterdir()) == [
        "region=r1.parquet",
        "region=r2.parquet",
    ]
    assert record.distinct("region_oas", "region") == ["r1", "r2"]
    assert record.delete_partitions("region_oas", "region", ["r2", "gone"]) == 1
    assert record.distinct("region_oas", "region") == ["r1"]
    tables = local_warehouse_from_record(record, tmp_path / "local.duckdb")
    local = Warehouse(path=str(tmp_path / "local.duckdb"))
    assert tables == ["census", "region_oas"]
    assert sorted(local.read("region_oas", "region", "r1")["OA"]) == ["a", "b"]
    assert local.read("census")["OA"].tolist() == ["a", "b"]
    with pytest.raises(Exception, match="region_missing does not exist"):
        record.read("region_missing")
