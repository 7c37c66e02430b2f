"""Against a live PostgreSQL with postgresql-hll: same hashes, bytes, cardinalities and errors."""

from __future__ import annotations

import itertools
import random

import dagster as dg
import numpy as np
import pandas as pd
import psycopg2
import pytest

from resources import hll_backends
from resources.hll import HLL, HLLFormatError, HLLParameterMismatch, hash_texts
from resources.hll_backends import (
    EmbeddedHLLBackend,
    HLLBackendError,
    HLLExtensionMissing,
    PostgresHLLBackend,
)
from resources.hll_resource import HLLResource, PostgresHLLResource
from tests.hll.synthetic import userday_rows

pytestmark = pytest.mark.postgres

PARAM_SETS = [
    (11, 5, 0, 1),
    (11, 5, -1, 1),
    (11, 5, 64, 1),
    (10, 4, 0, 0),
    (14, 5, 256, 1),
    (12, 6, 0, 1),
    (5, 2, 2, 1),
    (17, 7, -1, 1),
]
SIZES = [1, 2, 7, 60, 160, 161, 500, 639, 640, 900, 2500, 6000]
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789:-_ äöüßé€😀"


@pytest.fixture
def cur(hll_database_url):
    conn = psycopg2.connect(hll_database_url)
    conn.autocommit = True
    with conn.cursor() as c:
        yield c
    conn.close()


def random_strings(rnd: random.Random, n: int) -> list[str]:
    return [
        "".join(rnd.choices(ALPHABET, k=rnd.randrange(0, 30))) + f"#{rnd.getrandbits(40)}" for _ in range(n)
    ]


def test_hashes_bytes_and_cardinalities_equal_hll_add_agg(cur):
    rnd = random.Random(2024)
    for params in PARAM_SETS:
        sets = [random_strings(rnd, n) for n in SIZES]
        ids = [i for i, s in enumerate(sets) for _ in s]
        flat = [x for s in sets for x in s]
        cur.execute(
            "SELECT set_id, hll_add_agg(hll_hash_text(s), %s, %s, %s, %s),"
            " float8send(hll_cardinality(hll_add_agg(hll_hash_text(s), %s, %s, %s, %s))),"
            " array_agg(hll_hash_text(s)::text ORDER BY ord)"
            " FROM unnest(%s::int[], %s::text[]) WITH ORDINALITY AS t(set_id, s, ord) GROUP BY set_id ORDER BY set_id",
            (*params, *params, ids, flat),
        )
        for set_id, pg_hll, pg_card, pg_hashes in cur.fetchall():
            ours_hashes = hash_texts(sets[set_id])
            assert ours_hashes.tolist() == [int(x) for x in pg_hashes]
            h = HLL.from_hashes(ours_hashes, *params)
            assert h.to_hex() == pg_hll, (params, len(sets[set_id]))
            assert np.float64(h.cardinality()).byteswap().tobytes() == bytes(pg_card), (
                params,
                len(sets[set_id]),
            )


def test_large_register_values_match_including_nan(cur):
    rnd = random.Random(7)
    for log2m, regwidth in [(11, 6), (11, 7), (4, 6), (8, 7), (16, 6)]:
        hashes = []
        for _ in range(3000):
            value = ((1 << (log2m + rnd.randrange(0, 64 - log2m))) | rnd.randrange(1 << log2m)) & (
                (1 << 64) - 1
            )
            hashes.append(value - (1 << 64) if value >= 1 << 63 else value)
        cur.execute(
            "SELECT hll_add_agg(x::hll_hashval, %s, %s, 0, 1),"
            " hll_cardinality(hll_add_agg(x::hll_hashval, %s, %s, 0, 1))::text"
            " FROM unnest(%s::bigint[]) x",
            (log2m, regwidth, log2m, regwidth, hashes),
        )
        pg_hll, pg_card = cur.fetchone()
        h = HLL.from_hashes(np.array(hashes, dtype=np.int64), log2m, regwidth, 0, 1)
        assert h.to_hex() == pg_hll
        assert repr(h.cardinality()) == pg_card or (pg_card == "NaN" and h.cardinality() != h.cardinality())


def test_unions_of_random_values_equal(cur):
    rnd = np.random.default_rng(11)
    for params in PARAM_SETS[:6]:
        values = [
            HLL.from_hashes(rnd.integers(-(2**63), 2**63 - 1, size=int(n), dtype=np.int64), *params)
            for n in rnd.choice([0, 1, 5, 100, 700, 3000], size=12)
        ]
        texts = [v.to_hex() for v in values]
        cur.execute(
            "SELECT hll_union(a::hll, b::hll), float8send(hll_cardinality(hll_union(a::hll, b::hll)))"
            " FROM unnest(%s::text[], %s::text[]) AS t(a, b)",
            (texts[:6], texts[6:]),
        )
        for (pg_hll, pg_card), a, b in zip(cur.fetchall(), values[:6], values[6:]):
            u = a.union(b)
            assert u.to_hex() == pg_hll
            assert np.float64(u.cardinality()).byteswap().tobytes() == bytes(pg_card)
        cur.execute(
            "SELECT hll_union_agg(x::hll) FROM unnest(%s::text[]) WITH ORDINALITY AS t(x, i)", (texts,)
        )
        assert cur.fetchone()[0] == HLL.union_all(values).to_hex()


def test_union_of_different_parameters_raises_in_both(cur):
    a, b = HLL.empty(11, 5, 0, 1).add(99), HLL.empty(11, 4, 0, 1).add(99)
    with pytest.raises(
        psycopg2.DataError, match="register width does not match: source uses 4 and dest uses 5"
    ):
        cur.execute("SELECT hll_union(%s::hll, %s::hll)", (a.to_hex(), b.to_hex()))
    with pytest.raises(
        HLLParameterMismatch, match="register width does not match: source uses 4 and dest uses 5"
    ):
        a.union(b)


@pytest.mark.parametrize("batch_rows", [20_000, 7], ids=["one-batch", "many-batches"])
def test_postgres_backend_equals_embedded_backend(hll_database_url, batch_rows, monkeypatch):
    monkeypatch.setattr(hll_backends, "_COPY_BATCH_ROWS", batch_rows)
    rows = userday_rows(250, seed=5)
    rows["userday_hll"] = rows["userday_hll"].astype(object)
    # NULLs, bytes values, an EMPTY and an explicit-mode user mixed in.
    rows.loc[3, "userday_hll"] = None
    rows.loc[5:40, "userday_hll"] = [bytes.fromhex(v[2:]) for v in rows.loc[5:40, "userday_hll"]]
    extra = pd.DataFrame(
        {
            "user_guid": ["z-explicit", "z-explicit", "z-empty", 'z, "quoted"\nuser'],
            "country": ["DEU", "DEU", "FRA", ""],
            "userday_hll": [
                HLL.from_hashes(hash_texts(["a", "b"]), 11, 5, 4, 1).to_hex(),
                HLL.from_hashes(hash_texts(["b", "c"]), 11, 5, 4, 1).to_hex(),
                HLL.empty().to_hex(),
                HLL.from_hashes(hash_texts(["q"])).to_hex(),
            ],
        }
    )
    rows = pd.concat([rows, extra], ignore_index=True)
    embedded = EmbeddedHLLBackend().aggregate(rows)
    postgres = PostgresHLLBackend(hll_database_url).aggregate(rows)
    for ours, theirs in zip(embedded, postgres):
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    assert len(embedded[1]) == 253


def test_postgres_backend_handles_empty_input(hll_database_url):
    empty = pd.DataFrame({"user_guid": [], "country": [], "userday_hll": []})
    for ours, theirs in zip(
        EmbeddedHLLBackend().aggregate(empty), PostgresHLLBackend(hll_database_url).aggregate(empty)
    ):
        pd.testing.assert_frame_equal(ours, theirs)
        assert ours.empty


def test_postgres_backend_reports_bad_values_and_mismatches(hll_database_url):
    good = HLL.from_hashes(hash_texts(["d1"])).to_hex()
    backend = PostgresHLLBackend(hll_database_url)
    bad = pd.DataFrame(
        {"user_guid": ["u", "v"], "country": ["DEU", "DEU"], "userday_hll": [good, "\\x138b4001"]}
    )
    with pytest.raises(HLLFormatError, match=r"row 1 \(user_guid='v'\).*padding"):
        backend.aggregate(bad)
    mixed = pd.DataFrame(
        {"user_guid": ["u", "u"], "country": ["DEU", "FRA"], "userday_hll": [good, HLL.empty(12).to_hex()]}
    )
    with pytest.raises(HLLParameterMismatch, match="register count does not match"):
        backend.aggregate(mixed)


def test_missing_extension_error_names_the_fix(database_without_hll_url):
    rows = userday_rows(2)
    with pytest.raises(HLLExtensionMissing, match="CREATE EXTENSION hll"):
        PostgresHLLBackend(database_without_hll_url).aggregate(rows)


def test_connection_errors_never_show_the_password(pg_server_url):
    base = pg_server_url.rpartition("@")[2].rpartition("/")[0]
    host = base.rpartition(":")[0]
    url = f"postgresql://nobody:Sup3rSecretPw@{host}:1/nothing"
    with pytest.raises(HLLBackendError) as info:
        PostgresHLLBackend(url, connect_timeout=3).aggregate(userday_rows(1))
    assert "Sup3rSecretPw" not in str(info.value) and "nothing" in str(info.value)


def test_postgres_resource_serves_an_asset(hll_database_url):
    rows = userday_rows(8, seed=9)

    @dg.asset
    def user_country_userdays(hll: HLLResource) -> pd.DataFrame:
        return hll.aggregate(rows)[0]

    result = dg.materialize(
        [user_country_userdays], resources={"hll": PostgresHLLResource(database_url=hll_database_url)}
    )
    assert result.success
    pd.testing.assert_frame_equal(
        result.output_for_node("user_country_userdays"), EmbeddedHLLBackend().aggregate(rows)[0]
    )


@pytest.mark.parametrize("size", [1, 5, 64, -1])
def test_copy_payload_streams_the_same_bytes_in_any_read_size(size):
    rows = userday_rows(40, seed=9)
    rows.loc[2, "userday_hll"] = None
    rows.loc[4, "user_guid"] = 'a,"b"\nc'
    whole = hll_backends._CopyPayload(rows, hll_backends._RowLabels(rows), batch_rows=10_000).read()
    stream = hll_backends._CopyPayload(rows, hll_backends._RowLabels(rows), batch_rows=3)
    parts = []
    while chunk := stream.read(size):
        assert size < 0 or len(chunk) <= size
        parts.append(chunk)
    assert b"".join(parts) == whole
    text = whole.decode()
    assert text.count("\\x") == len(rows) - 1 and '"a,""b""\nc"' in text


def _reference_copy_text(rows: pd.DataFrame) -> bytes:
    """The COPY text as Python's csv module writes it: every field quoted, a NULL hll as nothing,
    hll values (bytes, or hex text after '\\x') as lower-case hex after '\\x'."""
    import csv
    import io

    out = io.StringIO()
    for user, country, value in zip(rows["user_guid"], rows["country"], rows["userday_hll"]):
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator=",").writerow([user, country])
        if value is not None:
            raw = bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)
            out.write('"\\x' + raw.hex() + '"')
        out.write("\n")
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize("batch_rows", [1, 2, 7, 10_000])
@pytest.mark.parametrize(
    "nulls", [(), (0,), (196,), (0, 1, 2), tuple(range(197)), (5, 6, 20, 195, 196)], ids=repr
)
def test_copy_payload_writes_what_the_csv_module_writes(batch_rows, nulls):
    rows = userday_rows(40, seed=3).astype({"userday_hll": object})
    assert len(rows) == 197
    rows.loc[10, "userday_hll"] = bytes.fromhex(rows.loc[10, "userday_hll"][2:])  # bytes, as the reader gives
    for i in nulls:
        rows.loc[i, "userday_hll"] = None
    rows.loc[3, "user_guid"] = 'a,"b"\nc'
    rows.loc[7, "country"] = "Côte d'Ivoire"
    rows.loc[8, "user_guid"] = ""
    rows.loc[9, "user_guid"] = '\r\u2028 ""'
    for dtype in (object, "str", "string[pyarrow]"):
        typed = rows.astype({"user_guid": dtype, "country": dtype})
        got = hll_backends._CopyPayload(typed, hll_backends._RowLabels(typed), batch_rows=batch_rows).read()
        assert got == _reference_copy_text(rows), dtype


def test_copy_payload_bounds_each_batch_by_bytes_of_hll_values_too(monkeypatch):
    rows = userday_rows(40, seed=4).astype({"userday_hll": object})
    rows.loc[[0, 5, 6], "userday_hll"] = None
    monkeypatch.setattr(hll_backends, "_COPY_BATCH_BYTES", 300)
    payload = hll_backends._CopyPayload(rows, hll_backends._RowLabels(rows), batch_rows=10_000)
    batches = []
    encode = payload._encode

    def spy(start: int, stop: int) -> bytes:
        batches.append((start, stop))
        return encode(start, stop)

    monkeypatch.setattr(payload, "_encode", spy)
    assert payload.read() == _reference_copy_text(rows)
    assert batches[0][0] == 0 and batches[-1][1] == len(rows)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(batches))
    sizes = rows["userday_hll"].map(lambda v: 0 if v is None else (len(v) - 2) // 2)
    for start, stop in batches:
        assert stop - start == 1 or sizes.iloc[start:stop].sum() <= 300
    assert len(batches) > 1
