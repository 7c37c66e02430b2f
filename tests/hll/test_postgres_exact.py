"""Live against PostgreSQL with postgresql-hll: printed values, `=`, and the SPARSE padding quirk.

- every value PostgreSQL prints (all five storage types, random parameters, FULL and SPARSE
  of the same registers, inputs PostgreSQL accepts but would not write) parses and prints
  back unchanged, with the same cardinality;
- `==` / `!=` agree with SQL `=` / `<>` (hll_eq / hll_ne) on every pair;
- random add / union / union-aggregate sequences with log2m + regwidth < 8, where the
  padding of a SPARSE value can clear register 0, print the same hex and the same
  cardinality as the server after every step, and so do the two pipeline backends.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import psycopg2
import pytest

from resources.hll import HLL, HLLError, storage
from resources.hll_backends import EmbeddedHLLBackend, PostgresHLLBackend
from tests.reliability.hll_inputs import mutate

pytestmark = pytest.mark.postgres

EXPTHRESHS = [-1, 0, 1, 2, 4, 8, 16]
SMALL_PARAMS = [(lg, rw) for lg in range(0, 7) for rw in range(1, 8) if lg + rw < 8]


@pytest.fixture
def cur(hll_database_url):
    conn = psycopg2.connect(hll_database_url)
    conn.autocommit = True
    with conn.cursor() as c:
        yield c
    conn.close()


def random_hashes(rng: np.random.Generator, n: int, log2m: int) -> np.ndarray:
    """int64 hashes, shape (n,): uniform ones, and ones aimed at few registers and low values
    (so that small register arrays fill, collide and hit register 0)."""
    uniform = rng.integers(-(2**63), 2**63 - 1, n, dtype=np.int64, endpoint=True)
    index = np.where(rng.random(n) < 0.3, 0, rng.integers(0, 1 << log2m, n))  # register 0 often
    aimed = index | (1 << (log2m + rng.integers(0, 4, n)))
    zero_value = index  # nothing above the index bits: register value 0
    pick = rng.choice(3, size=n, p=[0.5, 0.4, 0.1])
    return np.where(pick == 0, uniform, np.where(pick == 1, aimed, zero_value)).astype(np.int64)


def server_cardinalities(cur, texts: list[str]) -> list[str | None]:
    """The bits of hll_cardinality(t) per text (as _bits gives them); None where the server would raise (a register
    array of ≤ 8 registers) or returns NULL."""
    cur.execute(
        "SELECT CASE WHEN hll_type(x) IN (1, 2) OR hll_log2m(x) >= 4"
        " THEN float8send(hll_cardinality(x)) END"
        " FROM unnest(%s::text[]) WITH ORDINALITY AS t(s, i), LATERAL (SELECT s::hll AS x) v ORDER BY i",
        (texts,),
    )
    return [None if r[0] is None else _bits(np.frombuffer(bytes(r[0]), ">f8")[0]) for r in cur.fetchall()]


def _bits(x: float) -> str:
    return "nan" if x != x else np.float64(x).byteswap().tobytes().hex()


def our_cardinality(h: HLL) -> str | None:
    """The cardinality's bits as hex ('nan' for NaN); None for NULL (UNDEFINED) or an error."""
    if h.type == "UNDEFINED":
        return None
    try:
        return _bits(h.cardinality())
    except HLLError:
        return None


def server_values(cur, rng: np.random.Generator, n_sets: int) -> list[str]:
    """Texts PostgreSQL prints for hll_add_agg over random hash sets with random parameters,
    under random hll_set_max_sparse settings (so registers come as SPARSE and FULL)."""
    texts = []
    for max_sparse in (-1, 0, 3, 40):
        cur.execute("SELECT hll_set_max_sparse(%s)", (max_sparse,))
        for _ in range(n_sets):
            log2m = int(rng.integers(0, 15))
            regwidth = int(rng.integers(1, 8))
            expthresh = int(rng.choice(EXPTHRESHS))
            sparseon = int(rng.integers(0, 2))
            n = int(rng.choice([1, 2, 3, 5, 9, 20, 70, 300]))
            cur.execute(
                "SELECT hll_add_agg(h::hll_hashval, %s, %s, %s, %s)::text FROM unnest(%s::bigint[]) h",
                (log2m, regwidth, expthresh, sparseon, random_hashes(rng, n, log2m).tolist()),
            )
            texts.append(cur.fetchone()[0])
            cur.execute("SELECT hll_empty(%s, %s, %s, %s)::text", (log2m, regwidth, expthresh, sparseon))
            texts.append(cur.fetchone()[0])
    cur.execute("SELECT hll_set_max_sparse(-1)")
    return texts


def test_printed_values_parse_and_print_back_unchanged(cur):
    rng = np.random.default_rng(61)
    texts = server_values(cur, rng, 60)
    texts += [HLL.undefined(lg, rw, e, s).to_hex() for lg, rw, e, s in [(11, 5, 0, 1), (4, 1, -1, 0)]]
    cur.execute("SELECT x::hll::text FROM unnest(%s::text[]) WITH ORDINALITY AS t(x, i) ORDER BY i", (texts,))
    texts = [r[0] for r in cur.fetchall()]
    assert {HLL.from_hex(t).type for t in texts} == {"UNDEFINED", "EMPTY", "EXPLICIT", "SPARSE", "FULL"}
    theirs = server_cardinalities(cur, texts)
    for text, card in zip(texts, theirs):
        h = HLL.from_hex(text)
        assert h.to_hex() == text
        assert our_cardinality(h) == card, text


def test_inputs_the_server_accepts_print_back_unchanged(cur):
    # Mutations of valid values: whatever both accept, both print as read (non-canonical
    # order, padding bits, header bits, values PostgreSQL would not write).
    rng = np.random.default_rng(62)
    seeds = [bytes.fromhex(t[2:]) for t in server_values(cur, rng, 15)]
    accepted = 0
    for _ in range(600):
        data = mutate(seeds[int(rng.integers(0, len(seeds)))], rng)
        try:
            ours = HLL.from_bytes(data)
        except HLLError:
            continue
        cur.execute("SELECT %s::bytea::hll::text", (psycopg2.Binary(data),))
        assert ours.to_hex() == cur.fetchone()[0] == "\\x" + data.hex()
        accepted += 1
    assert accepted > 100


def test_equality_is_hll_eq_on_the_stored_bytes(cur):
    rng = np.random.default_rng(63)
    groups = []
    for params in [(5, 2, 0, 1), (11, 5, 0, 1), (4, 1, -1, 1), (8, 3, 4, 1), (6, 4, 0, 0)]:
        hashes = random_hashes(rng, 12, params[0]).tolist()
        group = []
        for max_sparse, n in itertools.product((-1, 0, 100), (1, 4, 12)):
            # The same hash sets written SPARSE and FULL, plus the server's own repacking.
            cur.execute("SELECT hll_set_max_sparse(%s)", (max_sparse,))
            cur.execute(
                "SELECT v::text, hll_union(v, v)::text FROM"
                " (SELECT hll_add_agg(h::hll_hashval, %s, %s, %s, %s) v FROM unnest(%s::bigint[]) h) t",
                (*params, hashes[:n]),
            )
            group += list(cur.fetchone())
        header = bytearray.fromhex(group[0][2:])
        header[2] |= 0x80  # a header bit nobody reads: PostgreSQL keeps it, and = sees it
        group.append("\\x" + bytes(header).hex())
        groups.append(sorted(set(group)))
    cur.execute("SELECT hll_set_max_sparse(-1)")
    pool = [t for g in groups for t in g]
    pairs = list(itertools.product(pool, pool))
    cur.execute(
        "SELECT a::hll = b::hll, a::hll <> b::hll FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY"
        " AS t(a, b, i) ORDER BY i",
        ([a for a, _ in pairs], [b for _, b in pairs]),
    )
    same_registers_differ = 0
    for (a, b), (eq, ne) in zip(pairs, cur.fetchall()):
        ha, hb = HLL.from_hex(a), HLL.from_hex(b)
        assert (ha == hb, ha != hb) == (eq, ne), (a, b)
        if not eq and ha.params == hb.params and np.array_equal(ha.registers(), hb.registers()):
            same_registers_differ += 1
    assert same_registers_differ > 0  # FULL and SPARSE of the same registers were compared


def quirk_acted(text: str) -> bool:
    """Whether PostgreSQL wrote register 0 in this SPARSE value and reads it back as 0."""
    h = HLL.from_hex(text)
    if h.type != "SPARSE" or len(text) < 10:
        return False
    chunk = h.log2m + h.regwidth
    first = int(text[8:], 16) >> (4 * len(text[8:]) - chunk)  # the first entry's bits
    written = (first >> h.regwidth) == 0 and (first & ((1 << h.regwidth) - 1)) != 0
    return written and h.registers()[0] == 0


def chain(params: tuple[int, int, int, int], hashes: list[int]) -> tuple[HLL, str]:
    """A value made by hll_add calls from hll_empty(params): ours, and its SQL expression."""
    sql = f"hll_empty({', '.join(map(str, params))})"
    value = HLL.empty(*params)
    for h in hashes:
        sql = f"hll_add({sql}, ({h})::bigint::hll_hashval)"
        value.add(h)
    return value, sql


def test_random_small_sketches_follow_the_server_step_by_step(cur):
    """log2m + regwidth < 8: sequences of hll_add, hll_union and hll_union_agg steps."""
    rng = np.random.default_rng(64)
    n_seq, n_steps = 600, 6
    params = []
    for i in range(n_seq):
        log2m, regwidth = SMALL_PARAMS[i % len(SMALL_PARAMS)]
        params.append((log2m, regwidth, int(rng.choice(EXPTHRESHS)), int(rng.random() < 0.85)))
    # Start values: hll_add_agg over 0..8 hashes (EMPTY for none).
    starts = [random_hashes(rng, int(rng.integers(0, 9)), p[0]).tolist() for p in params]
    values = [HLL.from_hashes(np.array(s, dtype=np.int64), *p) for s, p in zip(starts, params)]
    seq = [i for i, s in enumerate(starts) for _ in s]
    cur.execute(
        "SELECT s, hll_add_agg(h::hll_hashval, l, r, e, o)::text FROM unnest(%s::int[], %s::bigint[],"
        " %s::int[], %s::int[], %s::bigint[], %s::int[]) AS t(s, h, l, r, e, o) GROUP BY s",
        (seq, [h for s in starts for h in s], *([params[i][k] for i in seq] for k in range(4))),
    )
    texts = [v.to_hex() for v in values]
    for s, text in cur.fetchall():
        assert values[s].to_hex() == text, (params[s], starts[s])
    quirk_steps = 0
    for step in range(n_steps):
        ops, exprs, others = [], [], []
        for i, p in enumerate(params):
            op = rng.choice(["add", "union", "union_agg"], p=[0.6, 0.25, 0.15])
            if op == "add":
                h = int(random_hashes(rng, 1, p[0])[0])
                exprs.append(f"hll_add(a::hll, ({h})::bigint::hll_hashval)")
                others.append(None)
                values[i].add(h)
            else:
                other, other_sql = chain(p, random_hashes(rng, int(rng.integers(0, 4)), p[0]).tolist())
                others.append(other)
                if op == "union":
                    exprs.append(f"hll_union(a::hll, {other_sql})")
                    values[i] = values[i].union(other)
                else:
                    exprs.append(f"(SELECT hll_union_agg(x) FROM unnest(ARRAY[a::hll, {other_sql}]) x)")
                    values[i] = HLL.union_all([values[i], other])
            ops.append(op)
        cases = " ".join(f"WHEN {i} THEN {e}" for i, e in enumerate(exprs))
        cur.execute(
            f"SELECT (CASE i - 1 {cases} END)::text FROM unnest(%s::text[]) WITH ORDINALITY AS t(a, i) ORDER BY i",
            (texts,),
        )
        theirs = [r[0] for r in cur.fetchall()]
        cards = server_cardinalities(cur, theirs)
        for i, (p, text, card) in enumerate(zip(params, theirs, cards)):
            where = (p, step, ops[i], texts[i], others[i] and others[i].to_hex())
            assert values[i].to_hex() == text, where
            assert our_cardinality(values[i]) == card, where
            assert HLL.from_hex(text).to_hex() == text
            quirk_steps += quirk_acted(text)
        texts = theirs
    assert quirk_steps >= 10, quirk_steps  # steps where the padding cleared register 0


@pytest.mark.parametrize("params", [(4, 1, 0, 1), (4, 2, -1, 1), (5, 2, 0, 1), (6, 1, 2, 1), (5, 1, 0, 1)])
def test_pipeline_backends_agree_on_small_sketches(hll_database_url, params):
    log2m, regwidth = params[:2]
    p = HLL.empty(*params).params
    # Register counts whose SPARSE padding holds a whole entry: a union landing there with
    # register 0 set loses it in hll_cardinality(hll_union_agg(...)).
    quirky = [n for n in range(1, 1 << log2m) if storage.padding_entries(p, n) > 0]
    assert quirky
    rng = np.random.default_rng(sum(params) + 65)
    rows = []
    for u in range(150):
        n = int(rng.choice(quirky)) if u % 2 else int(rng.integers(1, 1 << log2m))
        index = rng.choice(1 << log2m, size=n, replace=False)
        index[0] = 0 if rng.random() < 0.8 else index[0]
        index = np.unique(index)
        value = rng.integers(1, 1 << regwidth, size=index.size)
        hashes = index | (1 << (log2m + value - 1))
        # Spread the user's registers over 1-3 countries, 1-2 rows each.
        countries = rng.choice(["DEU", "FRA", "AUT"], size=index.size)
        for country in np.unique(countries):
            mine = hashes[countries == country]
            for part in np.array_split(mine, int(rng.integers(1, 3))):
                rows.append((f"user{u:03d}", str(country), HLL.from_hashes(part, *params).to_hex()))
    frame = pd.DataFrame(rows, columns=["user_guid", "country", "userday_hll"])
    embedded = EmbeddedHLLBackend().aggregate(frame)
    postgres = PostgresHLLBackend(hll_database_url).aggregate(frame)
    for ours, theirs in zip(embedded, postgres):
        pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    # The same groups one HLL at a time, as hll_cardinality(hll_union_agg(...)); some of
    # them lose register 0 to the padding.
    quirks = 0
    for keys, result, column in (
        (["user_guid", "country"], embedded[0], "userdays"),
        (["user_guid"], embedded[1], "total_userdays"),
    ):
        groups = frame.groupby(keys)["userday_hll"].agg(list)
        unions = [HLL.union_all(HLL.from_hex(t) for t in texts) for texts in groups]
        assert np.array_equal(result[column].to_numpy(), [u.cardinality() for u in unions])
        quirks += sum(quirk_acted(u.to_hex()) for u in unions)
    assert quirks > 0
