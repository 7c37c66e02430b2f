"""Frames to table records and column specs, and through Dagster's table metadata and back."""

import numpy as np
import pandas as pd
import pytest

from common.metadata import ColumnSpec, column_type, frame_columns, frame_records


def _clusters() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "level": pd.Categorical(["supergroup", "subgroup", "subgroup"]),
            "code": ["A", "A1", "A2"],
            "name": ["Retired Homeowners", "Suburban Retirees", None],
            "oas": np.array([120, 70, 50], dtype=np.int64),
            "share": [0.5, 0.29, np.nan],
            "population": pd.array([36000, None, 15000], dtype="Int64"),
            "named": [True, True, False],
            "fitted": pd.to_datetime(["2026-01-02T03:04:05", "2026-01-02T03:04:05", None]),
        }
    )


_TYPES = {
    "string": "str",
    "int": "Int64",
    "float": float,
    "bool": bool,
    "datetime": "datetime64[ns]",
}


def _frame_from(records, columns) -> pd.DataFrame:
    """The reader's side: rebuild a frame from records and column types."""
    df = pd.DataFrame.from_records(records, columns=[c.name for c in columns])
    for c in columns:
        if c.type == "datetime":
            df[c.name] = pd.to_datetime(df[c.name])
        else:
            df[c.name] = df[c.name].astype(_TYPES[c.type])
    return df


def test_column_types_follow_dtypes():
    columns = frame_columns(_clusters(), {"oas": "Output Areas in the cluster"})
    assert columns == [
        ColumnSpec("level", "string"),
        ColumnSpec("code", "string"),
        ColumnSpec("name", "string"),
        ColumnSpec("oas", "int", "Output Areas in the cluster"),
        ColumnSpec("share", "float"),
        ColumnSpec("population", "int"),
        ColumnSpec("named", "bool"),
        ColumnSpec("fitted", "datetime"),
    ]
    assert column_type(pd.Series([1.5], dtype="Float64").dtype) == "float"


def test_records_are_plain_python_with_missing_as_none():
    records = frame_records(_clusters())
    assert records[2] == {
        "level": "subgroup",
        "code": "A2",
        "name": None,
        "oas": 50,
        "share": None,
        "population": 15000,
        "named": False,
        "fitted": None,
    }
    assert records[1]["population"] is None and records[0]["fitted"] == "2026-01-02T03:04:05"
    for row in records:
        for value in row.values():
            assert value is None or type(value) in (str, int, float, bool), (row, type(value))


def test_round_trip_through_dagster_table_metadata():
    from dagster import deserialize_value, serialize_value

    from resources.metadata import table_metadata

    df = _clusters()
    descriptions = {"code": "cluster code", "share": "share of the region's OAs"}
    value = deserialize_value(serialize_value(table_metadata(df, descriptions)))
    schema = value.schema
    assert [(c.name, c.type, c.description) for c in schema.columns] == [
        (c.name, c.type, c.description) for c in frame_columns(df, descriptions)
    ]
    back = _frame_from([r.data for r in value.records], frame_columns(df))
    expected = df.assign(level=df["level"].astype("str"), oas=df["oas"].astype("Int64"))
    pd.testing.assert_frame_equal(back, expected)


def test_table_schema_for_column_schema_metadata():
    import dagster as dg

    from resources.metadata import table_schema

    schema = table_schema(_clusters()[["code", "oas"]], {"oas": "Output Areas"})
    assert schema == dg.TableSchema(
        columns=[dg.TableColumn("code", "string"), dg.TableColumn("oas", "int", description="Output Areas")]
    )


def test_bad_frames_are_refused_with_the_reason():
    with pytest.raises(ValueError, match=r"not in the table: \['sizes'\]"):
        frame_columns(_clusters(), {"sizes": "renamed to oas"})
    with pytest.raises(ValueError, match="duplicated: \\['a'\\]"):
        frame_records(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(ValueError, match="non-empty strings"):
        frame_columns(pd.DataFrame([[1, 2]]))
    with pytest.raises(ValueError, match="201 rows, more than max_rows=200"):
        frame_records(pd.DataFrame({"a": range(201)}))
    assert len(frame_records(pd.DataFrame({"a": range(201)}), max_rows=201)) == 201
