"""A NUL byte in a user_guid: quarantined by the reader, so the embedded and the PostgreSQL
backend see the same rows and agree; refused alike by both backends when it reaches them;
named with its column and row when PostgreSQL refuses a value."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from homeloc_assets import storage
from partitions.definitions import user_range, user_range_partitions
from resources import hll_backends
from resources.hll import HLL, HLLFormatError, hash_text
from resources.hll_backends import EmbeddedHLLBackend, HLLInputError, PostgresHLLBackend
from resources.hll_resource import PostgresHLLResource
from sample_data.userdays import write_sample_userdays
from tests.pipelines.harness import make_defs, make_resources, run

KEYS = user_range_partitions.get_partition_keys()


def _owner(guid: bytes) -> str:
    return next(k for k in KEYS if user_range(k).contains(guid.decode()))


def _with_nul_lines(path: Path, picks: int = 2) -> dict[str, list[int]]:
    """Add, after the last line of ``picks`` users in different ranges, a copy of that line whose
    guid ends in NUL (plain) and one whose guid is ``guid NUL x`` (quoted); both sort right there.

    Returns the line numbers of the added lines by range key.
    """
    lines = path.read_bytes().split(b"\n")
    header, data = lines[0], [line for line in lines[1:] if line]
    guids = [line.split(b",", 1)[0] for line in data]
    chosen, added = {}, {}
    for i in range(len(data) - 1, 0, -1):
        if (
            guids[i] != guids[i - 1]
            and b'"' not in guids[i - 1]
            and _owner(guids[i - 1]) not in chosen
            and len(chosen) < picks
        ):
            chosen[_owner(guids[i - 1])] = i - 1  # index of a user's last line
    out, number = [header], 1
    for i, line in enumerate(data):
        out.append(line)
        number += 1
        if i in chosen.values():
            key = _owner(guids[i])
            rest = line.split(b",", 1)[1]
            out += [guids[i] + b"\x00," + rest, b'"' + guids[i] + b'\x00x",' + rest]
            added[key] = [number + 1, number + 2]
            number += 2
    path.write_bytes(b"\n".join(out) + b"\n")
    return added


@pytest.fixture(scope="module")
def nul_file(tmp_path_factory) -> tuple[Path, dict[str, list[int]]]:
    path = tmp_path_factory.mktemp("nul") / "userdays.csv"
    write_sample_userdays(path, 600, seed=12)
    return path, _with_nul_lines(path)


@pytest.mark.postgres
def test_file_with_nul_guids_gives_the_same_result_on_both_backends(tmp_path, nul_file, hll_database_url):
    path, added = nul_file
    assert len(added) == 2
    results = {}
    for name, hll in (("embedded", None), ("postgres", PostgresHLLResource(database_url=hll_database_url))):
        resources = make_resources(tmp_path / name, userdays=path, hll=hll)
        defs = make_defs(resources)
        instance = dg.DagsterInstance.ephemeral()
        got = {}
        for key in added:
            result = run(defs, "homeloc_range_job", instance, key)
            assert result.success, f"{name} backend, range {key}: " + "; ".join(
                e.step_failure_data.error.message for e in result.get_step_failure_events()
            )
            got[key] = {
                "rows": storage.read(resources["outputs"], "user_locations", key),
                "userdays": storage.read(resources["outputs"], "user_country_userdays", key),
                "totals": storage.read(resources["outputs"], "user_total_userdays", key),
            }
        wh = resources["warehouse"]
        got["quarantine"] = wh.read("userday_quarantine").sort_values("line_number", ignore_index=True)
        got["home"] = wh.read("user_home_country").sort_values("user_guid", ignore_index=True)
        results[name] = got

    emb, pg = results["embedded"], results["postgres"]
    for key in added:
        for table in ("rows", "userdays", "totals"):
            pd.testing.assert_frame_equal(emb[key][table], pg[key][table], obj=f"{table} of range {key}")
        assert not emb[key]["rows"]["user_guid"].str.contains("\x00", regex=False).any()
    pd.testing.assert_frame_equal(emb["home"], pg["home"])
    pd.testing.assert_frame_equal(emb["quarantine"], pg["quarantine"])
    q = emb["quarantine"]
    assert sorted(q["line_number"]) == sorted(n for numbers in added.values() for n in numbers)
    assert set(q["kind"]) == {"bad_user_guid"}
    assert q["reason"].str.contains("user_guid").all() and q["reason"].str.contains("NUL").all()
    assert len(emb["home"]) > 20


def _rows(guids: list[str], countries: list[str]) -> pd.DataFrame:
    hlls = [
        HLL.from_hashes(np.array([hash_text(f"1:{g}:{d}") for d in range(3)], dtype=np.int64)).to_hex()
        for g in guids
    ]
    return pd.DataFrame(
        {"user_guid": guids, "country": countries, "userday_hll": hlls},
        index=[10 + i for i in range(len(guids))],
    )


@pytest.mark.postgres
@pytest.mark.parametrize("column", ["user_guid", "country"])
@pytest.mark.parametrize("dtype", ["str", object])
def test_both_backends_refuse_nul_alike_naming_column_and_row(hll_database_url, column, dtype):
    rows = _rows(["a", "b\nc", "d"], ["DEU", "FRA", "DEU"])
    rows.loc[12, column] = rows.loc[12, column] + "\x00!"
    rows = rows.astype({"user_guid": dtype, "country": dtype})
    messages = []
    for backend in (EmbeddedHLLBackend(), PostgresHLLBackend(hll_database_url)):
        with pytest.raises(ValueError) as exc:
            backend.aggregate(rows)
        messages.append(str(exc.value))
    assert messages[0] == messages[1]
    assert f"rows['{column}']" in messages[0] and "row 12 " in messages[0] and "NUL" in messages[0]


@pytest.mark.postgres
@pytest.mark.parametrize("column", ["user_guid", "country"])
def test_postgresql_refusing_a_text_value_names_its_column_and_row(hll_database_url, monkeypatch, column):
    # Past the backends' own check, PostgreSQL's COPY refuses the NUL; the error must name the
    # column and the row, not blame userday_hll. Newlines in the rows before it check the row
    # found from COPY's line number (COPY counts physical lines, not records).
    monkeypatch.setattr(hll_backends, "_refuse_nul", lambda rows, name: None)
    rows = _rows(["a", "b\nc", "d", "e"], ["DEU", "F\r\nR\rA\n\n", "DEU", "FRA"])
    rows.loc[12, column] = rows.loc[12, column] + "\x00!"
    with pytest.raises(HLLInputError) as exc:
        PostgresHLLBackend(hll_database_url).aggregate(rows)
    message = str(exc.value)
    assert message.startswith(f"{column} at row 12 (user_guid='d") and "userday_hll" not in message
    assert "0x00" in message


@pytest.mark.postgres
def test_postgresql_refusing_an_hll_value_still_names_userday_hll(hll_database_url):
    rows = _rows(["a", "b\nc", "d"], ["DEU", "F\r\nR\rA\n\n", "DEU"])
    rows.loc[12, "userday_hll"] = "\\x138b4001"  # hex the client accepts, a value the extension refuses
    with pytest.raises(HLLFormatError, match=r"^userday_hll at row 12 \(user_guid='d'\): .*padding"):
        PostgresHLLBackend(hll_database_url).aggregate(rows)
