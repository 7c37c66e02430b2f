"""hll_cardinality(hll_union_agg(value)) for many groups of a decoded column at once.

The union of a group follows PostgreSQL's aggregate: NULLs are skipped; all parameters
must match; any UNDEFINED makes it UNDEFINED (cardinality NULL); any register value
(SPARSE/FULL) makes it a register array, the register-wise maximum over the group with the
explicit elements added in; explicit sets alone stay explicit while their union fits the
explicit threshold (see HLL.union_all), else they become registers.

Like PostgreSQL, each input value is read as multiset_unpack reads it (decode_column), and
the union is packed by hll_pack and unpacked again by hll_cardinality: with
log2m + regwidth < 8 that can clear register 0 (storage.as_stored), here as there.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from resources.hll import storage
from resources.hll.column import KIND_EXPLICIT, KIND_REGISTERS, KIND_UNDEFINED, DecodedColumn
from resources.hll.errors import HLLError, HLLParameterMismatch
from resources.hll.estimator import grouped_cardinalities
from resources.hll.params import Params
from resources.hll.registers import register_updates


def _any_of(mask_rows: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    out = np.zeros(n_groups, dtype=bool)
    out[group[mask_rows]] = True
    return out


def _first_row_per_group(rows: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(groups, their first row among `rows`, in row order)."""
    groups, first = np.unique(group[rows], return_index=True)
    return groups, rows[first]


def union_cardinalities(
    col: DecodedColumn,
    group: np.ndarray,
    n_groups: int,
    describe: Callable[[int], str] = lambda g: f"group {g}",
) -> np.ndarray:
    """Cardinality of each group's union; group: int64 in [0, n_groups), shape (n_rows,).

    Returns float64, shape (n_groups,); NaN where PostgreSQL returns NULL (only NULL values,
    or an UNDEFINED one). Raises HLLParameterMismatch naming the group via `describe`.
    """
    group = np.asarray(group, dtype=np.int64)
    result = np.full(n_groups, np.nan)
    present = np.flatnonzero(col.kind >= 0)
    if present.size == 0:
        return result

    groups, first = _first_row_per_group(present, group)
    group_param = np.full(n_groups, -1, dtype=np.int64)
    group_param[groups] = col.param_id[first]
    bad = present[col.param_id[present] != group_param[group[present]]]
    if bad.size:
        row = bad[0]
        dest, source = col.params[group_param[group[row]]], col.params[col.param_id[row]]
        raise HLLParameterMismatch(f"{describe(int(group[row]))}: {dest.mismatch(source)}")

    undefined = _any_of(col.kind == KIND_UNDEFINED, group, n_groups)
    registers = _any_of(col.kind == KIND_REGISTERS, group, n_groups) & ~undefined
    explicit = _any_of(col.kind == KIND_EXPLICIT, group, n_groups) & ~undefined & ~registers
    result[groups] = 0.0  # EMPTY unless set below
    result[undefined] = np.nan

    promoted = _explicit_groups(col, group, n_groups, explicit, group_param, result)
    by_registers = registers | promoted
    for pid, p in enumerate(col.params):
        chosen = by_registers & (group_param == pid)
        if not chosen.any():
            continue
        g, idx, val = _max_registers(col, group, chosen, p.log2m, p.regwidth)
        if p.log2m + p.regwidth < 8:
            g, idx, val = _as_stored(g, idx, val, n_groups, p)
        try:
            cards = grouped_cardinalities(g, idx, val, n_groups, p.log2m, p.regwidth)
        except HLLError as e:
            raise HLLError(f"{describe(int(np.argmax(chosen)))}: {e}") from None
        result[chosen] = cards[chosen]
    return result


def _explicit_groups(
    col: DecodedColumn,
    group: np.ndarray,
    n_groups: int,
    explicit: np.ndarray,
    group_param: np.ndarray,
    result: np.ndarray,
) -> np.ndarray:
    """Set the cardinality of groups that stay explicit; return the mask of those promoted."""
    eg = group[col.exp_row]
    keep = explicit[eg]
    eg, ev = eg[keep], col.exp_value[keep]
    order = np.lexsort((ev, eg))
    eg, ev = eg[order], ev[order]
    new = np.ones(eg.size, dtype=bool)
    new[1:] = (eg[1:] != eg[:-1]) | (ev[1:] != ev[:-1])
    distinct = np.bincount(eg[new], minlength=n_groups)

    explicit_rows = np.flatnonzero(col.kind == KIND_EXPLICIT)
    n_first = np.zeros(n_groups, dtype=np.int64)
    first_groups, first_rows = _first_row_per_group(explicit_rows, group)
    n_first[first_groups] = col.exp_count[first_rows]
    limits = np.array([p.explicit_limit for p in col.params] + [0], dtype=np.int64)[group_param]

    stays = explicit & (distinct <= np.maximum(limits, n_first))
    result[stays] = distinct[stays]
    return explicit & ~stays


def _as_stored(
    g: np.ndarray, idx: np.ndarray, val: np.ndarray, n_groups: int, p: Params
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-zero registers per group after hll_pack and multiset_unpack: register 0 is dropped
    in groups whose SPARSE padding holds a whole entry (see storage.as_stored)."""
    nfilled = np.bincount(g, minlength=n_groups)
    cleared = storage.padding_entries(p, nfilled) > 0
    keep = ~(cleared[g] & (idx == 0))
    return g[keep], idx[keep], val[keep]


def _max_registers(
    col: DecodedColumn, group: np.ndarray, chosen: np.ndarray, log2m: int, regwidth: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Register-wise maximum per chosen group: unique (group, index, value) with value > 0."""
    reg_row, reg_index, reg_value = col.reg_row, col.reg_index, col.reg_value
    if not chosen.all():
        keep = chosen[group[reg_row]]
        reg_row, reg_index, reg_value = reg_row[keep], reg_index[keep], reg_value[keep]
    exp_sel = chosen[group[col.exp_row]]
    e_index, e_value = register_updates(col.exp_value[exp_sel], log2m, regwidth)
    nz = e_value > 0
    e_group, e_index, e_value = group[col.exp_row[exp_sel][nz]], e_index[nz], e_value[nz]
    n_reg = reg_row.size

    # One sort of (group, index, value) packed in an int64; the last of each (group, index)
    # run holds its maximum. Built in place, in chunks, to hold one array of the input's size.
    step = 1 << 20
    packed = np.empty(n_reg + e_group.size, dtype=np.int64)
    for lo in range(0, n_reg, step):
        hi = min(lo + step, n_reg)
        packed[lo:hi] = group[reg_row[lo:hi]]
    packed[n_reg:] = e_group
    packed <<= log2m
    packed[:n_reg] |= reg_index
    packed[n_reg:] |= e_index
    packed <<= 8
    packed[:n_reg] |= reg_value
    packed[n_reg:] |= e_value
    packed.sort()
    last = np.ones(packed.size, dtype=bool)
    # Sorted, so neighbours share (group, index) exactly when they differ only in the value byte.
    for lo in range(0, packed.size - 1, step):
        hi = min(lo + step, packed.size - 1)
        np.greater_equal(packed[lo + 1 : hi + 1] ^ packed[lo:hi], 256, out=last[lo:hi])
    # Compact in place (writes never overtake reads) rather than allocate packed[last].
    kept = 0
    for lo in range(0, packed.size, step):
        chunk = packed[lo : lo + step][last[lo : lo + step]]
        packed[kept : kept + chunk.size] = chunk
        kept += chunk.size
    packed = packed[:kept]
    del last
    value = np.empty(packed.size, dtype=np.uint8)
    np.bitwise_and(packed, 0xFF, out=value, casting="unsafe")
    packed >>= 8
    index = np.empty(packed.size, dtype=np.int32)
    np.bitwise_and(packed, (1 << log2m) - 1, out=index, casting="unsafe")
    packed >>= log2m
    return packed, index, value
