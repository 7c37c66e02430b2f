"""Read and validate a census release: variables, lookup, population, OA and LAD boundaries."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geodem_assets.variables import CODES, variable
from resources.census_files import ReleaseFiles

# The 58 variables of the distributed census table (v01..v60 without v40, v41), whose kinds
# and valid ranges are in geodem_assets.variables.
EXPECTED_VARIABLES = CODES


@dataclass
class CensusRelease:
    variables: pd.DataFrame  # index OA, float columns v01..v60
    lookup: pd.DataFrame  # No., Variable_Name, Domain
    population: pd.Series  # index OA, usual residents
    oa: gpd.GeoDataFrame  # OA, geometry (EPSG:27700)
    lad: gpd.GeoDataFrame  # LAD22CD, LAD22NM, geometry
    problems: list[str] = field(default_factory=list)
    # OAs left out because the census table and the boundary file disagree: OA, reason.
    unmatched: pd.DataFrame = field(default_factory=lambda: unmatched_oas(pd.Index([]), pd.Index([])))


NO_CENSUS_ROW = "boundary without census row"
NO_BOUNDARY = "census row without boundary"


def unmatched_oas(census_oas: pd.Index, boundary_oas: pd.Index) -> pd.DataFrame:
    """OAs in only one of the census table and the boundary file: columns OA, reason, sorted.

    reason is NO_CENSUS_ROW for an OA with a boundary but no census row, NO_BOUNDARY for a
    census row whose OA has no boundary. Real releases disagree by a few hundred OAs (the
    OAC 2021 build had 239,768 OAs, the workshop's census table 239,023), so neither is an
    error: those OAs are simply not classified.
    """
    census_oas, boundary_oas = pd.Index(census_oas).unique(), pd.Index(boundary_oas).unique()
    frames = [
        pd.DataFrame({"OA": boundary_oas.difference(census_oas).astype(str), "reason": NO_CENSUS_ROW}),
        pd.DataFrame({"OA": census_oas.difference(boundary_oas).astype(str), "reason": NO_BOUNDARY}),
    ]
    out = pd.concat(frames, ignore_index=True).astype({"OA": str, "reason": str})
    return out.sort_values(["reason", "OA"]).reset_index(drop=True)


def _examples(index, n: int = 5) -> str:
    items = list(index[:n])
    more = len(index) - len(items)
    return ", ".join(map(str, items)) + (f" and {more} more" if more > 0 else "")


def _range_problems(s: pd.Series, code: str, source: str) -> list[str]:
    """Missing, infinite and out-of-range values of one numeric variable, by its kind's valid range."""
    var = variable(code)
    what = f"{var.kind} variable {code} ({var.name})"
    problems = []
    nan = s.index[s.isna()]
    if len(nan):
        problems.append(f"{source}: {what} has {len(nan)} missing values (OA {_examples(nan)})")
    values = s.to_numpy(dtype=np.float64, na_value=np.nan)
    infinite = s.index[np.isinf(values)]
    if len(infinite):
        problems.append(f"{source}: {what} has {len(infinite)} infinite values (OA {_examples(infinite)})")
    finite = s[np.isfinite(values)]
    below = finite.index[finite < var.low]
    if len(below):
        kind = "negative" if var.low == 0 else f"below {var.low:g}"
        problems.append(f"{source}: {what} has {len(below)} {kind} values (OA {_examples(below)})")
    # Values are published to 2 decimals; allow for the rounding of a share at exactly 100.
    above = finite.index[finite > var.high + 1e-4]
    if len(above):
        problems.append(
            f"{source}: {what} has {len(above)} values above {var.high:g} (OA {_examples(above)})"
        )
    return problems


def validate_variables(df: pd.DataFrame, source: str) -> list[str]:
    """Problems of the census table, each naming `source`, the variable and example OAs.

    Missing, extra and non-numeric variables, duplicate OAs, and values outside each
    variable's valid range (geodem_assets.variables): a percentage in 0-100, a density (v01)
    or ratio (v42, SIR) any finite value >= 0. NaN and infinite values are problems too.
    """
    problems = []
    if len(df) == 0:
        problems.append(f"{source}: no Output Areas (empty table)")
    cols = [str(c) for c in df.columns]
    missing = [v for v in EXPECTED_VARIABLES if v not in cols]
    extra = [c for c in cols if c not in EXPECTED_VARIABLES]
    if missing:
        problems.append(f"{source}: missing variables {', '.join(missing)}")
    if extra:
        problems.append(f"{source}: unexpected columns {', '.join(extra)}")
    dupes = df.index[df.index.duplicated()].unique()
    if len(dupes):
        problems.append(f"{source}: {len(dupes)} duplicate OA codes: {_examples(dupes)}")
    for col in [c for c in EXPECTED_VARIABLES if c in cols]:
        s = df[col]
        if not pd.api.types.is_numeric_dtype(s):
            numeric = pd.to_numeric(s, errors="coerce")
            bad = s.index[numeric.isna() & s.notna()]
            problems.append(f"{source}: variable {col} is not numeric (e.g. OA {_examples(bad, 3)})")
            continue
        problems.extend(_range_problems(s, col, source))
    return problems


# ---- reading: every failure becomes a problem naming the file -----------------------------


def _reason(exc: BaseException, path: Path) -> str:
    """A reader's error on one line, the file's full path shortened to its name."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    text = text.replace(str(path), path.name)
    return text if len(text) <= 300 else text[:297] + "..."


def _read_variables(path: Path, problems: list[str]) -> pd.DataFrame | None:
    """The census table indexed by OA (str), its values checked; None when it cannot be read."""
    try:
        df = pd.read_parquet(path)
    except Exception as exc:
        problems.append(f"{path.name}: cannot read as Parquet ({_reason(exc, path)})")
        return None
    if df.index.name != "OA":
        if "OA" not in df.columns:
            problems.append(f"{path.name}: no OA index or column")
            return None
        df = df.set_index("OA")
    df.index = df.index.astype(str)
    df.columns = [str(c) for c in df.columns]
    problems.extend(validate_variables(df, path.name))
    return df


def _read_csv(path: Path, problems: list[str], **kwargs) -> pd.DataFrame | None:
    """A CSV file, or None with a problem naming the file (and its line where that is known)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(f"{path.name}: cannot read ({_reason(exc, path)})")
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append(
            f"{path.name}: line {line}: not UTF-8 text (byte {data[exc.start : exc.start + 1]!r}: {exc.reason})"
        )
        return None
    try:
        return pd.read_csv(io.BytesIO(data), **kwargs)
    except pd.errors.EmptyDataError:
        problems.append(f"{path.name}: cannot read as CSV: the file is empty (no header line)")
    except Exception as exc:
        problems.append(f"{path.name}: cannot read as CSV ({_reason(exc, path)})")
    return None


def _read_lookup(path: Path, problems: list[str]) -> pd.DataFrame | None:
    """Variable code, name and domain; None when the file cannot be read or lacks a column."""
    lookup = _read_csv(path, problems)
    if lookup is None:
        return None
    needed = {"No.", "Variable_Name", "Domain"}
    if not needed <= set(lookup.columns):
        problems.append(
            f"{path.name}: needs columns {', '.join(sorted(needed))} (found {', '.join(map(str, lookup.columns))})"
        )
        return None
    unnamed = [v for v in EXPECTED_VARIABLES if v not in set(lookup["No."])]
    if unnamed:
        problems.append(f"{path.name}: no name for variables {', '.join(unnamed)}")
    return lookup[["No.", "Variable_Name", "Domain"]]


def _read_population(path: Path, problems: list[str]) -> pd.Series | None:
    """Usual residents (uk001001) by OA, as numbers; None when the file cannot be read."""
    pop = _read_csv(path, problems, dtype={"OA": str})
    if pop is None:
        return None
    if not {"OA", "uk001001"} <= set(pop.columns):
        problems.append(f"{path.name}: needs columns OA, uk001001 (found {', '.join(map(str, pop.columns))})")
        return None
    population = pop.drop_duplicates("OA").set_index("OA")["uk001001"]
    counts = pd.to_numeric(population, errors="coerce")
    bad = population.index[counts.isna() | (counts < 0)]
    if len(bad):
        problems.append(
            f"{path.name}: uk001001 is not a non-negative number for {len(bad)} OAs (OA {_examples(bad)})"
        )
    return counts


def _read_layer(path: Path, problems: list[str]) -> gpd.GeoDataFrame | None:
    """The first layer of a GeoPackage, or None with a problem naming the file (and the layer)."""
    try:
        layers = gpd.list_layers(path)
    except Exception as exc:
        problems.append(f"{path.name}: cannot open as a GeoPackage ({_reason(exc, path)})")
        return None
    if not len(layers):
        problems.append(f"{path.name}: the GeoPackage holds no layer")
        return None
    layer = str(layers["name"].iloc[0])
    try:
        frame = gpd.read_file(path, layer=layer)
    except Exception as exc:
        problems.append(f"{path.name}: layer {layer!r}: cannot read ({_reason(exc, path)})")
        return None
    if frame.crs is None or frame.crs.to_epsg() != 27700:
        problems.append(
            f"{path.name}: layer {layer!r}: expected British National Grid (EPSG:27700), found {frame.crs}"
        )
        return None
    return frame


def _read_oa(path: Path, problems: list[str]) -> gpd.GeoDataFrame | None:
    """OA code (str) and non-empty geometry; None when the file cannot be read or has no OA column."""
    oa = _read_layer(path, problems)
    if oa is None:
        return None
    if "OA" not in oa.columns:
        problems.append(f"{path.name}: no OA column (columns: {', '.join(map(str, oa.columns))})")
        return None
    oa["OA"] = oa["OA"].astype(str)
    empty = oa.geometry.isna() | oa.geometry.is_empty
    if empty.any():
        problems.append(
            f"{path.name}: {int(empty.sum())} OAs with empty geometry: {_examples(pd.Index(oa.loc[empty, 'OA']))}"
        )
    return oa.loc[~empty, ["OA", "geometry"]]


def _read_lad(path: Path, problems: list[str]) -> gpd.GeoDataFrame | None:
    """LAD code, name (the code when absent) and geometry; None when it cannot be read."""
    lad = _read_layer(path, problems)
    if lad is None:
        return None
    if "LAD22CD" not in lad.columns:
        problems.append(f"{path.name}: no LAD22CD column")
        return None
    if "LAD22NM" not in lad.columns:
        lad["LAD22NM"] = lad["LAD22CD"]
    return lad[["LAD22CD", "LAD22NM", "geometry"]]


def _empty_geo(columns: list[str]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: pd.Series(dtype=str) for c in columns}, geometry=gpd.GeoSeries(crs=27700))


def read_release(files: ReleaseFiles) -> CensusRelease:
    """Read and check the five files; every problem is listed in ``.problems``, naming the file.

    OAs found in only one of the census table and the boundary file are not problems: they
    are dropped from ``.variables`` and ``.oa`` and listed in ``.unmatched`` (unmatched_oas).

    A file that cannot be read (truncated, not Parquet / CSV / GeoPackage, not UTF-8), a
    missing column, a wrong CRS and bad values are all problems, with the variable, OA, line or
    layer where known, so one run reports them all. A release with problems must not be used:
    the frames of files that could not be read are empty.
    """
    problems: list[str] = []
    variables = _read_variables(files.census, problems)
    lookup = _read_lookup(files.lookup, problems)
    population = _read_population(files.population, problems)
    oa = _read_oa(files.oa_boundaries, problems)
    lad = _read_lad(files.lad_boundaries, problems)
    unmatched = unmatched_oas(pd.Index([]), pd.Index([]))
    if variables is not None and oa is not None:
        # Only OAs with both a census row and a boundary are classified; the rest are listed.
        unmatched = unmatched_oas(variables.index, pd.Index(oa["OA"]))
        both = variables.index.intersection(pd.Index(oa["OA"]))
        if len(both) == 0 and len(variables) and len(oa):
            problems.append(
                f"{files.census.name} and {files.oa_boundaries.name} have no OA code in common "
                f"(census: {_examples(variables.index, 3)}; boundaries: {_examples(pd.Index(oa['OA']), 3)})"
            )
        variables = variables[variables.index.isin(both)]
        oa = oa[oa["OA"].isin(both)]
    if variables is not None and population is not None:
        no_pop = variables.index.difference(population.index)
        if len(no_pop):
            problems.append(
                f"{files.population.name}: {len(no_pop)} OAs without a population: {_examples(no_pop)}"
            )
    return CensusRelease(
        variables=variables
        if variables is not None
        else pd.DataFrame(index=pd.Index([], dtype=str, name="OA")),
        lookup=lookup if lookup is not None else pd.DataFrame(columns=["No.", "Variable_Name", "Domain"]),
        population=population if population is not None else pd.Series(dtype=np.float64, name="uk001001"),
        oa=oa if oa is not None else _empty_geo(["OA"]),
        lad=lad if lad is not None else _empty_geo(["LAD22CD", "LAD22NM"]),
        problems=problems,
        unmatched=unmatched,
    )


def numeric_variables(df: pd.DataFrame) -> pd.DataFrame:
    """The expected variables as float64, in order."""
    return df[[v for v in EXPECTED_VARIABLES if v in df.columns]].astype(np.float64)
